"""dtype objects and PyTorch's type promotion rules."""
import math

import numpy as np
import ml_dtypes


class dtype:
    """A Genesis dtype. Hashable; ``str()`` is ``genesis.<name>`` so that a Triton type
    name can be read off its last part."""
    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_complex", "is_signed",
                 "scalar_name", "_cat", "_rank")

    def __init__(self, name, np_dtype, cat, rank):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.is_floating_point = cat == 2
        self.is_complex = False
        self.is_signed = name not in ("bool", "uint8")
        self._cat = cat      # 0 bool, 1 integral, 2 floating
        self._rank = rank    # order within a category

    def __repr__(self):
        return "genesis." + self.name

    __str__ = __repr__

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self):
        return self

    def to_complex(self):
        raise TypeError(f"complex dtypes are not supported (from {self})")


bool_ = dtype("bool", np.bool_, 0, 0)
uint8 = dtype("uint8", np.uint8, 1, 0)
int8 = dtype("int8", np.int8, 1, 0)
int16 = dtype("int16", np.int16, 1, 1)
int32 = dtype("int32", np.int32, 1, 2)
int64 = dtype("int64", np.int64, 1, 3)
float16 = dtype("float16", np.float16, 2, 0)
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, 2, 0)
float32 = dtype("float32", np.float32, 2, 1)
float64 = dtype("float64", np.float64, 2, 2)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64)
ALIASES = {"bool": bool_, "uint8": uint8, "int8": int8, "int16": int16, "short": int16,
           "int32": int32, "int": int32, "int64": int64, "long": int64,
           "float16": float16, "half": float16, "bfloat16": bfloat16,
           "float32": float32, "float": float32, "float64": float64, "double": float64}

_by_np = {d.np: d for d in ALL}
FLOAT_NP = frozenset(d.np for d in ALL if d.is_floating_point)   # NumPy dtypes of floats

# PyTorch's ScalarType names, which its error messages use ("result type Float can't be
# cast to the desired output type Long")
SCALAR_NAMES = {bool_: "Bool", uint8: "Byte", int8: "Char", int16: "Short", int32: "Int",
                int64: "Long", float16: "Half", bfloat16: "BFloat16", float32: "Float",
                float64: "Double"}
for _d, _n in SCALAR_NAMES.items():
    _d.scalar_name = _n


def _by_name(name):
    return ALIASES[name]


def from_numpy_dtype(npd):
    """The Genesis dtype of a NumPy dtype; TypeError for ones Genesis does not have."""
    try:
        return _by_np[npd]
    except KeyError:
        pass
    try:
        return _by_np[np.dtype(npd)]
    except (KeyError, TypeError):
        raise TypeError(f"can't convert NumPy dtype {npd} to a genesis dtype; supported: "
                        + ", ".join(d.name for d in ALL)) from None


def to_dtype(d):
    """Accept a genesis dtype, a NumPy dtype, a Python type or a name."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return get_default_dtype()
    if d is int:
        return int64
    if d is bool:
        return bool_
    if isinstance(d, str):
        try:
            return ALIASES[d.replace("genesis.", "").replace("torch.", "")]
        except KeyError:
            raise TypeError(f"unknown dtype {d!r}") from None
    return from_numpy_dtype(d)


_default = [float32]


def set_default_dtype(d):
    d = to_dtype(d)
    if d not in (float16, bfloat16, float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = d


def get_default_dtype():
    return _default[0]


def promote_types(type1, type2):
    """PyTorch's promotion of two dtypes."""
    a, b = to_dtype(type1), to_dtype(type2)
    if a is b:
        return a
    if a._cat != b._cat:
        return a if a._cat > b._cat else b
    if a._cat == 2:
        if a._rank == b._rank:          # float16 with bfloat16
            return float32
        return a if a._rank > b._rank else b
    # integral: uint8 with a signed type needs room for 255
    if a is uint8 or b is uint8:
        other = b if a is uint8 else a
        return int16 if other is int8 else other
    return a if a._rank > b._rank else b


def _combine(higher, lower):
    # torch's combine_categories: a higher-priority class wins unless it is of a lower category
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def _scalar_dtype(x):
    if isinstance(x, (bool, np.bool_)):
        return bool_
    if isinstance(x, (int, np.integer)):
        return int64
    if isinstance(x, (float, np.floating)):
        return get_default_dtype()
    raise TypeError(f"expected a Tensor or a number, got {type(x).__name__}")


def result_type(*operands):
    """The dtype PyTorch gives an op on these tensors and Python numbers: tensors with
    dimensions outrank zero-dim tensors, which outrank Python numbers, unless a lower
    class holds a higher category (float over integral over bool)."""
    dim = zero = wrapped = None
    for x in operands:
        d = getattr(x, "dtype", None)
        if isinstance(d, dtype) and hasattr(x, "shape"):
            if len(x.shape):
                dim = d if dim is None else promote_types(dim, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        else:
            d = _scalar_dtype(x)
            wrapped = d if wrapped is None else promote_types(wrapped, d)
    return _combine(dim, _combine(zero, wrapped))


class finfo:
    """Machine limits of a floating-point dtype, as ``torch.finfo``."""

    def __init__(self, type=None):
        d = get_default_dtype() if type is None else to_dtype(type)
        if not d.is_floating_point:
            raise TypeError("finfo() requires a floating point input type, got "
                            f"{d}; use iinfo for integral types")
        f = ml_dtypes.finfo(d.np)
        self.bits = d.itemsize * 8
        self.eps = float(f.eps)
        self.max = float(f.max)
        self.min = float(f.min)
        self.tiny = self.smallest_normal = float(f.tiny)
        # torch's resolution is 10**-digits, digits = floor(-log10(eps))
        self.resolution = 10.0 ** -math.floor(-math.log10(self.eps))
        self.dtype = d.name

    def __repr__(self):
        # torch prints the numbers with 6 significant digits
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, "
                f"max={self.max:g}, eps={self.eps:g}, smallest_normal={self.tiny:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Machine limits of an integral dtype, as ``torch.iinfo``."""

    def __init__(self, type):
        d = to_dtype(type)
        if d.is_floating_point or d is bool_:
            raise TypeError(f"{d} is not supported by iinfo")
        f = np.iinfo(d.np)
        self.bits = d.itemsize * 8
        self.max = int(f.max)
        self.min = int(f.min)
        self.dtype = d.name

    def __repr__(self):
        return f"iinfo(min={float(self.min):g}, max={float(self.max):g}, dtype={self.dtype})"
