"""The primitive contract every backend implements.

A backend is a module (or object) exposing each name below over its own array type.
Arrays carry ``shape``, ``strides``, ``ndim``, ``size`` and a NumPy ``dtype`` attribute.
Elementwise primitives follow NumPy's ufunc signature (``out=`` for in-place work);
everything else in ``genesis.ops`` is composed from these, so a new backend is this list
and nothing more. ``tests/test_backend_contract.py`` checks every backend against it.
"""

# name: what it does (NumPy's meaning unless said otherwise)
PRIMITIVES = {
    # creation, transfer, casting
    "device_of": "the genesis.device an array lives on",
    "from_host": "(ndarray, np_dtype) -> array on this backend (a copy; may share on CPU)",
    "to_host": "array -> ndarray",
    "empty": "(shape, np_dtype) -> uninitialised array",
    "full": "(shape, value, np_dtype) -> array",
    "arange": "(start, end, step, np_dtype) -> 1-D array",
    "linspace": "(start, end, steps, np_dtype) -> 1-D array",
    "eye": "(n, m, np_dtype) -> 2-D array",
    "copy": "array -> contiguous copy",
    "astype": "(array, np_dtype) -> cast copy (round to nearest even)",
    "copyto": "(dst, src) write src into dst in place, broadcasting",
    "ascontiguousarray": "array -> C-contiguous array (no copy when already)",
    # unary math
    "negative": "", "absolute": "", "sign": "", "exp": "", "exp2": "", "expm1": "",
    "log": "", "log2": "", "log10": "", "log1p": "", "sqrt": "", "rsqrt": "1/sqrt(x)",
    "sin": "", "cos": "", "tan": "", "tanh": "", "sinh": "", "cosh": "",
    "arcsin": "", "arccos": "", "arctan": "", "sigmoid": "1/(1+exp(-x))",
    "erf": "", "erfinv": "", "floor": "", "ceil": "", "rint": "round half to even",
    "trunc": "", "reciprocal": "", "isnan": "", "isinf": "", "isfinite": "",
    "logical_not": "", "invert": "bitwise not",
    # binary math and comparisons
    "add": "", "subtract": "", "multiply": "", "divide": "true division",
    "floor_divide": "", "power": "", "maximum": "", "minimum": "", "fmod": "",
    "remainder": "sign of the divisor", "arctan2": "",
    "equal": "", "not_equal": "", "less": "", "less_equal": "", "greater": "",
    "greater_equal": "", "logical_and": "", "logical_or": "", "logical_xor": "",
    "bitwise_and": "", "bitwise_or": "", "bitwise_xor": "", "left_shift": "",
    "right_shift": "",
    # ternary
    "where": "(cond, a, b)", "clip": "(x, lo, hi, out=None)",
    # reductions over axes (tuple or None), keepdims
    "sum": "(x, axis, dtype=None, keepdims=False)", "prod": "", "amax": "", "amin": "",
    "argmax": "(x, axis, keepdims=False)", "argmin": "", "all": "", "any": "",
    "cumsum": "(x, axis)", "cumprod": "(x, axis)",
    "sort": "(x, axis, descending, stable) -> (values, int64 indices)",
    "unique": "(x, sorted, return_inverse, return_counts, axis)",
    "searchsorted": "(sorted_seq, values, side)",
    "nonzero": "x -> int64 array (n, ndim)",
    # linear algebra
    "matmul": "batched matmul with broadcasting",
    # views and layout (views share memory, no copies)
    "reshape": "(x, shape) -> view when strides allow, else copy",
    "view_strides": "(x, shape) -> byte strides showing x in shape without a copy, or None",
    "transpose": "(x, axes) -> view", "broadcast_to": "(x, shape) -> view",
    "getitem": "(x, index) basic (view) and advanced (copy) indexing",
    "as_strided": "(x, shape, strides_in_elements, offset_in_elements) -> view",
    # gather / scatter / index put
    "setitem": "(x, index, value) in place",
    "take_along_axis": "(x, idx, axis) gather",
    "put_along_axis": "(x, idx, values, axis) scatter in place",
    "add_at": "(x, index, values) unbuffered in-place add (scatter_add, index_add)",
    "reduce_at": "(op, x, index, values) unbuffered in-place max/min/prod",
    "concatenate": "(arrays, axis)",
    # random fills (gen: genesis.Generator of this device)
    "uniform": "(gen, shape, low, high, np_dtype)",
    "normal": "(gen, shape, mean, std, np_dtype)",
    "randint": "(gen, low, high, shape, np_dtype)",
    "randperm": "(gen, n, np_dtype)",
}
