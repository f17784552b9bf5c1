"""The CUDA backend: the primitives of backend/base.py over DeviceArrays, computed by
Triton kernels (kernels/), in NumPy's conventions (ufunc signatures with ``out=``, NumPy's
result dtypes, byte strides) so that genesis.ops runs on it unchanged.

Importing this module requires CUDA (runtime.require()): a GPU, or TRITON_INTERPRET=1.
"""
import builtins
import math
import operator

import numpy as np

from ...device import device as _device
from . import runtime
from .array import DeviceArray, contiguous_strides

try:
    runtime.require()
except RuntimeError as e:        # the backend loader treats ImportError as "no CUDA"
    raise ImportError(str(e)) from None

from .kernels import common as _k, elementwise as _ew  # noqa: E402  (imports triton)

_BOOL = np.dtype(bool)
_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
RANK = _ew.RANK
# the primitives sum/all/any (reduce.py, star-imported below) shadow the builtins here
_sum, _all, _any = builtins.sum, builtins.all, builtins.any
_DEVICES = {}


def _dev(i):
    d = _DEVICES.get(i)
    if d is None:
        d = _DEVICES[i] = _device("cuda", i)
    return d


def device_of(x):
    return _dev(x.device_index)


# ---------------------------------------------------------------- layout
def _estrides(a, shape):
    """a's element strides broadcast against shape (0 where a broadcasts)."""
    lead = len(shape) - a.ndim
    item = a.itemsize
    return [0] * lead + [0 if n == 1 else st // item for n, st in zip(a.shape, a.strides)]


def _merge(shape, strides):
    """Drop size-1 dims and merge neighbours every operand walks contiguously through:
    (dims, [strides per operand]) of the fewest dims."""
    dims, out = [], [[] for _ in strides]
    for k, n in enumerate(shape):
        if n == 1:
            continue
        if dims and _all(o[-1] == s[k] * n for o, s in zip(out, strides)):
            dims[-1] *= n
            for o, s in zip(out, strides):
                o[-1] = s[k]
            continue
        dims.append(n)
        for o, s in zip(out, strides):
            o.append(s[k])
    return dims, out


def _launch(kernel, shape, arrays, extra=(), **meta):
    """Run an elementwise kernel over ``shape``: ``arrays`` are its array operands (None
    for an unused slot; the output last), each addressed through RANK (size, stride)
    dims; ``extra`` are scalar arguments placed after the array pointers."""
    n = math.prod(shape)
    if n == 0:
        return
    live = [a for a in arrays if a is not None]
    dims, sts = _merge(shape, [_estrides(a, shape) for a in live])
    if len(dims) > RANK:                      # loop over the leading dims
        lead = len(dims) - RANK
        for idx in np.ndindex(*dims[:lead]):
            views, it = [], iter(zip(live, sts))
            for a in arrays:
                if a is None:
                    views.append(None)
                    continue
                arr, st = next(it)
                off = arr.offset + _sum(i * s for i, s in zip(idx, st)) * arr.itemsize
                views.append(arr.view_of(tuple(dims[lead:]),
                                         tuple(s * arr.itemsize for s in st[lead:]), off))
            _launch(kernel, tuple(dims[lead:]), views, extra, **meta)
        return
    contig = len(dims) <= 1 and _all(s == [1] or s == [] for s in sts)
    pad = RANK - len(dims)
    d = [1] * pad + dims
    args, stride_args, it = [], [], iter(sts)
    for a in arrays:
        if a is None:
            args.append(None)
            stride_args += [0] * RANK
        else:
            args.append(a.arg())
            stride_args += [0] * pad + next(it)
    kernel[_k.grid(n)](*args, *extra, n, d[1], d[2], d[3], *stride_args, CONTIG=contig,
                       BLOCK=_k.BLOCK, **meta)


def _check_same_device(*arrays):
    devs = {a.device_index for a in arrays if isinstance(a, DeviceArray)}
    if len(devs) > 1:
        a, b = sorted(devs)[:2]
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                           f"least two devices, cuda:{a} and cuda:{b}!")


# ---------------------------------------------------------------- creation and transfer
def empty(shape, dtype):
    return DeviceArray.empty(tuple(shape), dtype)


def from_host(a, dtype=None):
    host = np.asarray(a, dtype=dtype, order="C")      # ascontiguousarray makes 0-d 1-d
    out = DeviceArray.empty(host.shape, host.dtype)
    if host.nbytes:
        runtime.copy_host_to_device(out.data_ptr(), host, host.nbytes, out.device_index)
    return out


def to_host(x):
    if not x.flags.c_contiguous:
        x = copy(x)
    host = np.empty(x.shape, x.dtype)
    if host.nbytes:
        runtime.copy_device_to_host(host, x.data_ptr(), host.nbytes, x.device_index)
    return host


def full(shape, value, dtype):
    out = DeviceArray.empty(tuple(shape), dtype)
    _fill(out, value)
    return out


def _fill(out, value):
    # one element from the host, broadcast by the copy kernel (exact for any dtype)
    src = from_host(np.asarray(_host_scalar(value, out.dtype)).reshape(1), out.dtype)
    copyto(out, src.view_of(out.shape, (0,) * out.ndim, src.offset))


def _host_scalar(value, dtype):
    if dtype is _F16 and type(value) is float:
        value = np.float32(value)              # double to half through float, as torch
    return np.asarray(value).astype(dtype) if not isinstance(value, np.ndarray) else \
        value.astype(dtype)


def arange(start, end, step, dtype):
    return from_host(np.arange(start, end, step, dtype=dtype))


def linspace(start, end, steps, dtype):
    from .. import cpu
    return from_host(cpu.linspace(start, end, steps, dtype))


def eye(n, m, dtype):
    return from_host(np.eye(n, m, dtype=dtype))


def copy(x):
    out = DeviceArray.empty(x.shape, x.dtype, x.device_index)
    _launch(_ew.copy_kernel, x.shape, (x, out))
    return out


def astype(x, dtype):
    dtype = np.dtype(dtype)
    out = DeviceArray.empty(x.shape, dtype, x.device_index)
    _launch(_ew.copy_kernel, x.shape, (x, out))
    return out


def copyto(dst, src, casting="same_kind", where=True):
    if where is not True:
        raise NotImplementedError("copyto(where=...) on the CUDA backend")
    if not isinstance(src, DeviceArray):
        _fill(dst, src) if np.ndim(src) == 0 else copyto(dst, from_host(np.asarray(src)))
        return
    _check_same_device(dst, src)
    broadcast_shapes(dst.shape, src.shape, out_shape=dst.shape)
    _launch(_ew.copy_kernel, dst.shape, (src, dst))


def ascontiguousarray(x):
    return x if x.flags.c_contiguous else copy(x)


def broadcast_shapes(*shapes, out_shape=None):
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"operands could not be broadcast together with shapes "
                         f"{' '.join(str(s) for s in shapes)}") from None
    if out_shape is not None and shape != tuple(out_shape):
        raise ValueError(f"non-broadcastable output operand with shape {out_shape} doesn't "
                         f"match the broadcast shape {shape}")
    return shape


# ---------------------------------------------------------------- elementwise
def _operand_dtype(v):
    return v.dtype if isinstance(v, DeviceArray) else v


def _result_dtype(*operands):
    """NumPy 2's result dtype: Python numbers are weak and take the array's kind."""
    return np.result_type(*(o.dtype if isinstance(o, DeviceArray) else o for o in operands))


def _out(out, shape, dtype, like):
    if out is None:
        return DeviceArray.empty(shape, dtype, like.device_index)
    if isinstance(out, tuple):
        out = out[0]
    broadcast_shapes(out.shape, shape, out_shape=out.shape)
    return out


def _unary(op, float_only=False, result=None):
    def fn(x, out=None, **kwargs):
        if not isinstance(x, DeviceArray):
            return getattr(np, op)(x) if hasattr(np, op) else None
        dt = x.dtype
        if result is not None:
            rdt = np.dtype(result)
        elif float_only and dt.kind in "biu":
            rdt = np.result_type(dt, np.float16) if dt.itemsize == 1 else \
                np.result_type(dt, 1.0)
        else:
            rdt = dt
        o = _out(out, x.shape, rdt, x)
        cdt = _k.compute_dtype(rdt if rdt.kind == "f" and dt.kind != "f" else dt)
        src = x if dt.kind == "f" or rdt.kind != "f" else astype(x, rdt)
        _launch(_ew.unary_kernel, o.shape, (src, o), OP=op, CDT=cdt)
        return o
    fn.__name__ = op
    return fn


_FLOAT_UNARY = ("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
                "sin", "cos", "tan", "tanh", "sinh", "cosh", "sigmoid", "erf", "reciprocal",
                "arcsin", "arccos", "arctan", "erfinv")
for _name in _FLOAT_UNARY:
    globals()[_name] = _unary(_name, float_only=True)
for _name in ("negative", "absolute", "sign", "floor", "ceil", "rint", "trunc", "invert"):
    globals()[_name] = _unary(_name)
for _name in ("isnan", "isinf", "isfinite", "logical_not", "signbit"):
    globals()[_name] = _unary(_name, result=_BOOL)


def _host_operand(v):
    """A host operand of a device op: numbers and 0-d arrays (CPU scalar tensors, which
    torch also lets meet CUDA tensors) pass as numbers; other host arrays are an error."""
    if isinstance(v, np.ndarray):
        if v.ndim:
            raise RuntimeError("Expected all tensors to be on the same device, but found "
                               "at least two devices, cuda:0 and cpu!")
        return v[()]
    return v


def _binary(op, result=None):
    def fn(x, y, out=None, **kwargs):
        x, y = _host_operand(x), _host_operand(y)
        if not isinstance(x, DeviceArray):
            if not isinstance(y, DeviceArray):
                return getattr(np, op)(x, y)
            return _binary_swapped(op, x, y, out)
        _check_same_device(x, y)
        rdt = np.dtype(result) if result is not None else _result_dtype(x, y)
        # on bools, bitwise ops and add (which would wrap in int1) are the logical ones
        kop = _LOGICAL.get(op, op) if rdt == _BOOL else op
        y_scalar = not isinstance(y, DeviceArray)
        shape = x.shape if y_scalar else broadcast_shapes(x.shape, y.shape)
        o = _out(out, shape, rdt, x)
        cdt = _k.compute_dtype(_result_dtype(x, y) if result is not None else rdt)
        if y_scalar:
            _launch(_ew.binary_kernel, o.shape, (x, None, o), (_scalar_arg(y, cdt),),
                    OP=kop, CDT=cdt, Y_SCALAR=True)
        else:
            _launch(_ew.binary_kernel, o.shape, (x, y, o), (0,), OP=kop, CDT=cdt,
                    Y_SCALAR=False)
        return o
    fn.__name__ = op
    return fn


def _scalar_arg(v, cdt):
    if isinstance(v, (bool, np.bool_)):
        v = int(v)
    return _k.scalar_bits(v)


def _binary_swapped(op, x, y, out):
    """op(number, array): the number as a broadcast one-element array."""
    xa = from_host(np.asarray(x, _result_dtype(x, y) if op not in _CMP else y.dtype))
    return globals()[op](xa, y, out=out)


_LOGICAL = {"add": "logical_or", "bitwise_and": "logical_and", "bitwise_or": "logical_or",
            "bitwise_xor": "logical_xor"}
_CMP = ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
        "logical_and", "logical_or", "logical_xor")
for _name in ("add", "subtract", "multiply", "divide", "maximum", "minimum", "power",
              "floor_divide", "fmod", "remainder", "arctan2",
              "bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift"):
    globals()[_name] = _binary(_name)
for _name in _CMP:
    globals()[_name] = _binary(_name, result=_BOOL)


def where(cond, x, y):
    arrays = [a if isinstance(a, DeviceArray) else from_host(np.asarray(a)) for a in
              (cond, x, y)]
    _check_same_device(*arrays)
    rdt = _result_dtype(x, y)
    shape = broadcast_shapes(*(a.shape for a in arrays))
    o = DeviceArray.empty(shape, rdt, arrays[0].device_index)
    _launch(_ew.where_kernel, shape, (*arrays, o), CDT=_k.compute_dtype(rdt))
    return o


def clip(x, lo, hi, out=None):
    r = x
    if lo is not None:
        r = maximum(r, lo)  # noqa: F405  (defined in the loops above)
    if hi is not None:
        r = minimum(r, hi)  # noqa: F405
    if out is not None:
        copyto(out, r)
        return out
    return r if r is not x else copy(x)


# ---------------------------------------------------------------- views
def reshape(x, shape):
    shape = _infer(shape, x.size)
    if shape == x.shape:
        return x
    strides = _view_strides(x, shape)
    if strides is None:
        x = copy(x)
        strides = contiguous_strides(shape, x.itemsize)
    return x.view_of(shape, strides, x.offset)


def _infer(shape, size):
    shape = tuple(shape) if not isinstance(shape, int) else (shape,)
    if -1 in shape:
        known = math.prod(n for n in shape if n != -1)
        shape = tuple(size // known if n == -1 and known else (0 if n == -1 else n)
                      for n in shape)
    if math.prod(shape) != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
    return shape


def _view_strides(x, shape):
    """Strides that show x's elements in ``shape`` without a copy, or None (NumPy's rule:
    only dims that are contiguous with each other may be split or merged)."""
    if x.flags.c_contiguous:
        return contiguous_strides(shape, x.itemsize)
    old = [(n, s) for n, s in zip(x.shape, x.strides) if n != 1]
    new_strides, i = [], 0
    for n in shape:
        if n == 1:
            new_strides.append(0)
            continue
        if i >= len(old):
            return None
        # gather old dims into a chunk of exactly n elements walking contiguously
        size, st = old[i][0], old[i][1]
        j = i
        while size < n and j + 1 < len(old) and old[j][1] == old[j + 1][0] * old[j + 1][1]:
            j += 1
            size *= old[j][0]
        if size == n:
            new_strides.append(old[j][1])
            i = j + 1
        elif size > n and size % n == 0 and j == i:
            # split old dim i: n outer elements over an inner remainder
            inner = size // n
            new_strides.append(st * inner)
            old[i] = (inner, st)
        else:
            return None
    return tuple(new_strides)


def view_strides(x, shape):
    return _view_strides(x, tuple(shape))


def transpose(x, axes):
    axes = tuple(operator.index(a) % x.ndim for a in axes) if x.ndim else ()
    return x.view_of(tuple(x.shape[a] for a in axes), tuple(x.strides[a] for a in axes),
                     x.offset)


def broadcast_to(x, shape):
    shape = tuple(shape)
    if shape == x.shape:
        return x
    broadcast_shapes(x.shape, shape, out_shape=shape)
    lead = len(shape) - x.ndim
    strides = [0] * lead + [0 if n == 1 and m != 1 else s
                            for n, m, s in zip(x.shape, shape[lead:], x.strides)]
    return x.view_of(shape, tuple(strides), x.offset)


def as_strided(x, shape, strides, offset=0):
    item = x.itemsize
    return x.view_of(tuple(shape), tuple(s * item for s in strides), x.offset + offset * item)


def getitem(x, index):
    """Basic indexing (ints, slices, None, Ellipsis) as a view; integer-array and mask
    indexing (a copy) is index.py's advanced_getitem."""
    if not isinstance(index, tuple):
        index = (index,)
    if _any(isinstance(i, (list, np.ndarray, DeviceArray, bool, np.bool_)) for i in index):
        return advanced_getitem(x, index)       # index.py  # noqa: F405  (index.py)
    n_real = _sum(1 for i in index if i is not None and i is not Ellipsis)
    if Ellipsis in index:
        k = index.index(Ellipsis)
        index = index[:k] + (slice(None),) * (x.ndim - n_real) + index[k + 1:]
    elif n_real < x.ndim:
        index = index + (slice(None),) * (x.ndim - n_real)
    shape, strides, off, d = [], [], x.offset, 0
    for i in index:
        if i is None:
            shape.append(1)
            strides.append(0)
            continue
        n, st = x.shape[d], x.strides[d]
        if isinstance(i, slice):
            start, stop, step = i.indices(n)
            length = max(0, (stop - start + (step - (1 if step > 0 else -1))) // step)
            shape.append(length)
            strides.append(st * step)
            off += start * st if length else 0
        else:
            k = operator.index(i)
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for axis {d} with size {n}")
            off += (k % n) * st
        d += 1
    return x.view_of(tuple(shape), tuple(strides), off)


def setitem(x, index, value):
    key = index if isinstance(index, tuple) else (index,)
    if _any(isinstance(i, (list, np.ndarray, DeviceArray, bool, np.bool_)) for i in key):
        advanced_setitem(x, key, value)         # index.py  # noqa: F405
        return
    dst = getitem(x, index)
    if isinstance(value, DeviceArray) and value.ndim > dst.ndim:   # NumPy drops lead 1-dims
        value = reshape(value, value.shape[value.ndim - dst.ndim:])
    copyto(dst, value)


def concatenate(arrays, axis=0):
    arrays = list(arrays)
    _check_same_device(*arrays)
    nd = arrays[0].ndim
    axis %= nd
    dt = np.result_type(*(a.dtype for a in arrays))
    shape = list(arrays[0].shape)
    shape[axis] = _sum(a.shape[axis] for a in arrays)
    out = DeviceArray.empty(tuple(shape), dt, arrays[0].device_index)
    start = 0
    for a in arrays:
        idx = (slice(None),) * axis + (slice(start, start + a.shape[axis]),)
        copyto(getitem(out, idx), a)
        start += a.shape[axis]
    return out


def shares_memory(a, b):
    """Whether two arrays may share memory (their byte ranges in one storage overlap)."""
    if not (isinstance(a, DeviceArray) and isinstance(b, DeviceArray)):
        return False
    if a.storage is not b.storage:
        return False
    return _span(a)[0] < _span(b)[1] and _span(b)[0] < _span(a)[1]


def _span(a):
    lo = hi = a.offset
    for n, s in zip(a.shape, a.strides):
        if n == 0:
            return a.offset, a.offset
        if s > 0:
            hi += (n - 1) * s
        else:
            lo += (n - 1) * s
    return lo, hi + a.itemsize


# the other primitive families, one module each
from .reduce import *  # noqa: E402,F401,F403
from .linalg import *  # noqa: E402,F401,F403
from .index import *  # noqa: E402,F401,F403
from .random import *  # noqa: E402,F401,F403
from .norm import *  # noqa: E402,F401,F403
from .softmax import *  # noqa: E402,F401,F403
from .activation import *  # noqa: E402,F401,F403
from .optim import *  # noqa: E402,F401,F403
from .attention import *  # noqa: E402,F401,F403
from .sort import *  # noqa: E402,F401,F403
