"""The CPU backend: every primitive of base.PRIMITIVES over numpy.ndarray.

Most primitives are NumPy's own functions, bound by name so that an op's call costs one
attribute lookup. NumPy lacks erf, erfinv, sigmoid and rsqrt; they are written here.
"""
import ml_dtypes
import numpy as np

from ..device import CPU
from . import malloc  # noqa: F401  (keeps freed temporaries for reuse: see malloc.py)

# PyTorch returns inf/nan silently; NumPy would warn on every overflow or 0/0. Setting the
# error state once costs nothing per call, where np.errstate() around each op costs more
# than the op itself on small tensors (see docs/migrating-from-pytorch.md).
np.seterr(all="ignore")

_f64 = np.float64
_F64, _F32, _F16 = np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.float16)
_LOW = (_F16, np.dtype(ml_dtypes.bfloat16))


def device_of(x):
    return CPU


def from_host(a, dtype=None):
    return np.asarray(a, dtype=dtype)


def to_host(x):
    return x


def empty(shape, dtype):
    return np.empty(shape, dtype)


def full(shape, value, dtype):
    if type(value) is float and np.dtype(dtype) is _F16:
        value = np.float32(value)       # double to half through float, as PyTorch
    return np.full(shape, value, dtype)


def arange(start, end, step, dtype):
    return np.arange(start, end, step, dtype=dtype)


def linspace(start, end, steps, dtype):
    return astype(np.linspace(start, end, steps, dtype=_f64), dtype)


def eye(n, m, dtype):
    return np.eye(n, m, dtype=dtype)


def copy(x):
    return np.array(x, copy=True, order="C")


def astype(x, dtype):
    if x.dtype is _F64 and np.dtype(dtype) is _F16:
        # PyTorch rounds double to half through float (NumPy rounds once, which differs
        # near ties); ml_dtypes already does so for bfloat16
        return x.astype(_F32).astype(_F16)
    return x.astype(dtype)


def copyto(dst, src, casting="same_kind", where=True):
    if dst.dtype is _F16 and (type(src) is float or getattr(src, "dtype", None) is _F64):
        src = np.asarray(src, _F32)        # double to half through float, as astype
    np.copyto(dst, src, casting=casting, where=where)


ascontiguousarray = np.ascontiguousarray

negative, absolute, sign = np.negative, np.absolute, np.sign
exp, exp2, expm1 = np.exp, np.exp2, np.expm1
log, log2, log10, log1p, sqrt = np.log, np.log2, np.log10, np.log1p, np.sqrt
sin, cos, tan, tanh, sinh, cosh = np.sin, np.cos, np.tan, np.tanh, np.sinh, np.cosh
arcsin, arccos, arctan = np.arcsin, np.arccos, np.arctan
floor, ceil, rint, trunc = np.floor, np.ceil, np.rint, np.trunc
isnan, isinf, isfinite = np.isnan, np.isinf, np.isfinite
logical_not, invert = np.logical_not, np.invert
add, subtract, multiply, divide = np.add, np.subtract, np.multiply, np.true_divide
floor_divide, power, maximum, minimum = np.floor_divide, np.power, np.maximum, np.minimum
fmod, remainder, arctan2 = np.fmod, np.remainder, np.arctan2
equal, not_equal, less, less_equal = np.equal, np.not_equal, np.less, np.less_equal
greater, greater_equal = np.greater, np.greater_equal
logical_and, logical_or, logical_xor = np.logical_and, np.logical_or, np.logical_xor
bitwise_and, bitwise_or, bitwise_xor = np.bitwise_and, np.bitwise_or, np.bitwise_xor
left_shift, right_shift = np.left_shift, np.right_shift
where, clip = np.where, np.clip
argmax, argmin, all, any = np.argmax, np.argmin, np.all, np.any
cumsum, cumprod = np.cumsum, np.cumprod
searchsorted = np.searchsorted
matmul = np.matmul
take_along_axis, put_along_axis, concatenate = np.take_along_axis, np.put_along_axis, np.concatenate


# reductions call the ufunc's reduce directly (np.sum's Python wrapper costs more than a
# small reduction); axis=None means all axes, as NumPy's functions
def sum(x, axis=None, dtype=None, keepdims=False, out=None):
    if (type(x) is np.ndarray and x.ndim == 2 and dtype is None and out is None
            and (x.dtype is _F32 or x.dtype is _F64) and x.size >= _BLAS_SUM_MIN
            and x.flags.c_contiguous):
        r = _blas_sum(x, axis)
        if r is not None:
            return r.reshape((1, -1) if axis in _ROWS else (-1, 1)) if keepdims else r
    return np.add.reduce(x, axis, dtype, out, keepdims)


# Sums over one axis of a 2-D float array as a product with a ones vector: BLAS runs 2-5x
# faster than NumPy's reduce here (bias gradients, row sums), and sums no less accurately
# (NumPy adds rows one after another too; rows longer than _BLAS_ROW_MAX, where NumPy's
# pairwise sum is better, keep NumPy).
_BLAS_SUM_MIN, _BLAS_ROW_MAX = 64, 4096
_ROWS, _COLS = (0, (0,), -2, (-2,)), (1, (1,), -1, (-1,))
_ONES = {}


def _blas_sum(x, axis):
    if axis in _ROWS:
        return np.matmul(_ones(x.shape[0], x.dtype), x)
    if axis in _COLS and x.shape[1] <= _BLAS_ROW_MAX:
        return np.matmul(x, _ones(x.shape[1], x.dtype))
    return None


def _ones(n, dt):
    v = _ONES.get((n, dt))
    if v is None:
        if len(_ONES) > 256:
            _ONES.clear()
        v = _ONES[(n, dt)] = np.ones(n, dt)
        v.flags.writeable = False
    return v


def prod(x, axis=None, dtype=None, keepdims=False, out=None):
    return np.multiply.reduce(x, axis, dtype, out, keepdims)


def amax(x, axis=None, keepdims=False, out=None):
    return np.maximum.reduce(x, axis, None, out, keepdims)


def amin(x, axis=None, keepdims=False, out=None):
    return np.minimum.reduce(x, axis, None, out, keepdims)


def reshape(x, shape):
    return x.reshape(shape)          # the method is 4x cheaper than np.reshape


def view_strides(x, shape):
    arr = x.view()
    try:
        arr.shape = shape          # NumPy refuses exactly when no strides fit: no copy
    except AttributeError:
        return None
    return arr.strides


def transpose(x, axes):
    return x.transpose(axes)


def broadcast_to(x, shape):
    """A read-only broadcast view. Built with the ndarray constructor when x is
    contiguous: np.broadcast_to costs ~3 us, which dominates small backward passes."""
    if x.shape == shape:
        return x
    if not x.flags.c_contiguous or len(shape) < x.ndim:
        return np.broadcast_to(x, shape)
    lead = len(shape) - x.ndim
    strides = [0] * lead
    for i, (n, st) in enumerate(zip(x.shape, x.strides)):
        want = shape[lead + i]
        if n == want:
            strides.append(st)
        elif n == 1:
            strides.append(0)
        else:
            return np.broadcast_to(x, shape)      # raises NumPy's error
    r = np.ndarray(shape, x.dtype, x, 0, tuple(strides))
    r.flags.writeable = False
    return r


def reciprocal(x, out=None):
    return np.divide(1, x, out=out)


def _in_f32(fn, x, out):
    """fn of a float16/bfloat16 x computed in float32 and rounded once, as PyTorch's CPU
    kernels (NumPy would round after every step of fn)."""
    r = fn(x.astype(_F32)).astype(x.dtype)
    if out is None:
        return r
    np.copyto(out, r)
    return out


def rsqrt(x, out=None):
    if x.dtype in _LOW:
        return _in_f32(rsqrt, x, out)
    r = np.sqrt(x, out)
    if out is None and not x.ndim:      # NumPy gives a scalar for a 0-d input: no out=
        r = np.asarray(r)
    return np.reciprocal(r, r)


def sigmoid(x, out=None):
    if x.dtype in _LOW:
        return _in_f32(sigmoid, x, out)
    # 1/(1+exp(-x)) in one buffer; positional out= and += parse faster than keywords
    r = np.negative(x, out)
    if out is None and not x.ndim:      # NumPy gives a scalar for a 0-d input: no out=
        r = np.asarray(r)
    np.exp(r, r)
    np.add(r, _ONE32, r)                # a NumPy scalar: no Python-int conversion per call
    return np.reciprocal(r, r)


_ONE32 = np.float32(1)                  # exact in every float dtype; promotes none


_TWO_OVER_SQRT_PI = 1.1283791670955126


def _erf64(x):
    """erf in float64 to ~1 ulp: a positive-term series below |x| = 3 and the
    continued fraction of erfc above it; both converge without cancellation."""
    x = np.asarray(x, _f64)
    a = np.abs(x)
    res = np.empty_like(a)
    small = a < 3.0
    if small.any():
        s = a[small]
        two_x2 = 2.0 * s * s
        term = s.copy()
        total = s.copy()
        for n in range(1, 90):
            term *= two_x2 / (2 * n + 1)
            total += term
        res[small] = _TWO_OVER_SQRT_PI * np.exp(-s * s) * total
    big = ~small
    if big.any():
        s = np.minimum(a[big], 30.0)
        t = s.copy()
        for n in range(60, 0, -1):
            t = s + (n / 2.0) / t
        res[big] = 1.0 - np.exp(-s * s) / (t * 1.7724538509055159)
    res[np.isnan(a)] = np.nan
    return np.copysign(res, x)


def erf(x, out=None):
    r = _erf64(x).astype(x.dtype, copy=False)
    if out is None:
        return r
    np.copyto(out, r)
    return out


def erfinv(y, out=None):
    """erfinv by Newton steps on erf from a closed-form first guess (Winitzki)."""
    y64 = np.asarray(y, _f64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ln = np.log1p(-y64 * y64)
        a = 0.147
        t = 2.0 / (np.pi * a) + ln / 2.0
        x = np.copysign(np.sqrt(np.sqrt(t * t - ln / a) - t), y64)
        ok = np.abs(y64) < 1
        xs = np.where(ok, x, 0.0)
        for _ in range(4):
            err = _erf64(xs) - y64
            xs = xs - err / (_TWO_OVER_SQRT_PI * np.exp(-xs * xs))
        xs = np.where(ok, xs, np.where(np.abs(y64) == 1, np.copysign(np.inf, y64), np.nan))
    r = xs.astype(y.dtype, copy=False)
    if out is None:
        return r
    np.copyto(out, r)
    return out


def sort(x, axis, descending=False, stable=False):
    if descending:
        n = x.shape[axis]
        idx = np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)
        idx = (n - 1) - idx
    else:
        idx = np.argsort(x, axis=axis, kind="stable")
    return np.take_along_axis(x, idx, axis), idx.astype(np.int64, copy=False)


def unique(x, sorted=True, return_inverse=False, return_counts=False, axis=None):
    # equal_nan=False: every NaN is its own unique value, as in PyTorch
    return np.unique(x, return_inverse=return_inverse, return_counts=return_counts, axis=axis,
                     equal_nan=False)


def nonzero(x):
    return np.argwhere(x)


def getitem(x, index):
    return x[index]


def setitem(x, index, value):
    if x.dtype is _F16 and (type(value) is float or getattr(value, "dtype", None) is _F64):
        value = np.asarray(value, _F32)    # double to half through float, as astype
    x[index] = value


def as_strided(x, shape, strides, offset=0):
    item = x.itemsize
    base = x.reshape(-1)[offset:] if offset else x
    return np.lib.stride_tricks.as_strided(base, shape, tuple(s * item for s in strides))


def add_at(x, index, values):
    np.add.at(x, index, values)


def reduce_at(op, x, index, values):
    {"amax": np.maximum, "amin": np.minimum, "prod": np.multiply}[op].at(x, index, values)


def uniform(gen, shape, low, high, dtype):
    r = gen._np.random(shape, dtype=np.float32 if dtype == np.float32 else _f64)
    if np.dtype(dtype).itemsize == 2:
        # float16/bfloat16: k / 2**digits as PyTorch, so rounding never gives 1.0
        scale = 2048.0 if dtype == np.float16 else 256.0
        r = np.floor(r * scale) / scale
    if low != 0 or high != 1:
        r = r * (high - low) + low
    return r.astype(dtype, copy=False)


def normal(gen, shape, mean, std, dtype):
    r = gen._np.standard_normal(shape, dtype=np.float32 if dtype == np.float32 else _f64)
    if std != 1:
        r *= std
    if mean != 0:
        r += mean
    return r.astype(dtype, copy=False)


def randint(gen, low, high, shape, dtype):
    return gen._np.integers(low, high, shape, dtype=np.int64).astype(dtype, copy=False)


def randperm(gen, n, dtype):
    return gen._np.permutation(n).astype(dtype, copy=False)
