"""What every ops module needs: operand promotion, dim handling, in-place commits."""
import numpy as np

from .. import dtypes as _dt
from ..tensor import Tensor, _make, _wrap_dim
from ..backend import cpu as _cpu
from ..autograd.grad_mode import state as grad_state

_by_np = _dt._by_np
CAT = {d.np: d._cat for d in _dt.ALL}          # 0 bool, 1 integral, 2 floating
FLOAT_NP = _dt.FLOAT_NP
LOW_FLOAT_NP = {_dt.float16.np, _dt.bfloat16.np}   # computed in float32 on the CPU
F32 = _dt.float32.np
_BF16 = _dt.bfloat16.np
_F16 = _dt.float16.np

wrap_dim = _wrap_dim


def default_float():
    return _dt.get_default_dtype().np


def be_of(a, b=None):
    """The backend of the tensors among a and b; RuntimeError when they differ."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor) and b._be is not a._be:
            raise RuntimeError("Expected all tensors to be on the same device, but found at "
                               f"least two devices, {a.device} and {b.device}!")
        return a._be
    return b._be


def pair(a, b):
    """a and b as arrays (or Python scalars) in PyTorch's result dtype of the two."""
    if isinstance(a, Tensor):
        x = a._data
        if isinstance(b, Tensor):
            y = b._data
            if b._be is not a._be:
                a, b = _same_device(a, b)
                x, y = a._data, b._data
            if x.dtype == y.dtype:
                return x, y
            rt = _dt.result_type(a, b).np
            return _cast(a, rt), _cast(b, rt)
        return _with_scalar(a, x, b)
    if isinstance(b, Tensor):
        return _with_scalar(b, b._data, a)[::-1]
    raise TypeError(f"expected at least one Tensor, got {type(a).__name__} and "
                    f"{type(b).__name__}")


def _same_device(a, b):
    """a and b on one device: a 0-dim CPU tensor meeting a device tensor is copied over (as
    PyTorch lets CPU scalars join CUDA ops); anything else mixed is PyTorch's error."""
    if b._data.ndim == 0 and b._be is _cpu:
        return a, _make(a._be.from_host(b._data, b._data.dtype))
    if a._data.ndim == 0 and a._be is _cpu:
        return _make(b._be.from_host(a._data, a._data.dtype)), b
    be_of(a, b)                         # raises the mixed-devices error


# (min, max, 2 ** bits) of each integral dtype: an int scalar outside it wraps into it
INT_RANGE = {d.np: (int(np.iinfo(d.np).min), int(np.iinfo(d.np).max), 1 << (8 * d.np.itemsize))
             for d in _dt.ALL if d._cat == 1}


def _with_scalar(t, x, s):
    c = CAT[x.dtype]
    ts = type(s)
    if ts is float:
        if c == 2:
            # NumPy would promote bfloat16 with a Python float to float32, and round a
            # double to half at once where PyTorch goes through float
            dt = x.dtype
            return x, (s if dt not in LOW_FLOAT_NP else
                       _BF16.type(s) if dt is _BF16 else _F16.type(F32.type(s)))
    elif ts is int:
        if c == 1:
            lo, hi, m = INT_RANGE[x.dtype]
            # PyTorch casts an out-of-range scalar to the tensor's dtype (wrapping) where
            # NumPy 2 raises; beyond 64 bits both raise OverflowError
            if not lo <= s <= hi and -(1 << 63) <= s < (1 << 64):
                s = (s - lo) % m + lo
            return x, s
        if c == 2:
            return x, s
    elif ts is bool:
        return x, s
    elif isinstance(s, (np.generic, np.ndarray)):
        s = s.item()
        return _with_scalar(t, x, s)
    elif not isinstance(s, (int, float)):
        raise TypeError(f"unsupported operand type: Tensor and {type(s).__name__}")
    rt = _dt.result_type(t, s).np
    return _cast(t, rt), (s if rt not in LOW_FLOAT_NP else
                          _BF16.type(s) if rt is _BF16 else _F16.type(F32.type(s)))


# PyTorch's C++ names of the dtypes, for the overflow error of a scalar written into a tensor
_CNAMES = {np.dtype(k): v for k, v in (
    ("uint8", "uint8_t"), ("int8", "int8_t"), ("int16", "int16_t"), ("int32", "int"),
    ("int64", "int64_t"), ("float16", "c10::Half"), ("float32", "float"),
    ("float64", "double"))}
_CNAMES[_BF16] = "c10::BFloat16"
_FMAX = {np.dtype(np.float16): 65504.0, np.dtype(np.float32): float(np.finfo(np.float32).max),
         _BF16: 3.3895313892515355e38}


def opmath_scalar(x, b):
    """PyTorch's CPU mul and div of a float16/bfloat16 tensor by a scalar (a Python number
    or a 0-d tensor, the second operand) take the scalar in float32 rather than rounded to
    the tensor's dtype, compute in float32 and round once: that float32 scalar when x (the
    first operand's array) is low precision and b such a scalar, else None."""
    if x.dtype in LOW_FLOAT_NP:
        if type(b) in (float, int, bool):
            return F32.type(b)
        if isinstance(b, Tensor) and not b._data.ndim:
            return b._be.to_host(b._be.astype(b._data, F32))[()]    # (any device)
    return None


def fill_scalar(v, npd, wrap=False):
    """A Python scalar to write into an array of dtype npd (full, fill_, masked_fill,
    index_fill, integral alpha/beta/value), checked as PyTorch checks it: RuntimeError
    when it does not fit, except that uint8 takes negative ints (not floats) down to -255,
    wrapping them, and bool takes anything; a float for an integral dtype is truncated.
    With ``wrap`` (a tensor's value, copied as copy_ does) an int wraps instead."""
    if isinstance(v, np.generic):
        v = v.item()
    c = CAT[npd]
    if c == 0 or type(v) not in (int, float):
        return v
    if wrap:
        if c == 1 and type(v) is int:
            lo, _, m = INT_RANGE[npd]
            return (v - lo) % m + lo
        return v
    if type(v) is int and not -(1 << 63) <= v < (1 << 64):
        raise OverflowError("int too big to convert")
    if c == 1:
        lo, hi, m = INT_RANGE[npd]
        if v != v or (v < lo and not (lo == 0 and type(v) is int and -v <= hi)) or v > hi:
            raise RuntimeError(f"value cannot be converted to type {_CNAMES[npd]} without "
                               "overflow")
        v = int(v)
        return v + m if v < lo else v
    if npd in _FMAX and _FMAX[npd] < abs(v) < float("inf"):
        raise RuntimeError(f"value cannot be converted to type {_CNAMES[npd]} without overflow")
    return F32.type(v) if npd is _F16 and type(v) is float else v   # half through float


def _cast(t, npd):
    x = t._data
    return x if x.dtype == npd else t._be.astype(x, npd)


def to_float(t):
    """t's array, cast to the default float dtype when t is integral or bool."""
    x = t._data
    if x.dtype in FLOAT_NP:
        return x
    return t._be.astype(x, default_float())


def is_float(t):
    return t._data.dtype in FLOAT_NP


def dims(dim, ndim):
    """A dim argument (None, int or sequence) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        return (wrap_dim(int(dim), ndim),)
    ds = tuple(sorted(wrap_dim(int(d), ndim) for d in dim))
    if len(set(ds)) != len(ds):
        raise RuntimeError(f"dim {ds[0]} appears multiple times in the list of dims")
    return ds if ds or ndim == 0 else tuple(range(ndim))


def as_tensor_like(v, like):
    """A scalar or array-like as a Tensor on like's device."""
    if isinstance(v, Tensor):
        return v
    arr = np.asarray(v)
    if arr.dtype == np.float64 and not isinstance(v, np.ndarray):
        arr = arr.astype(default_float())
    return _make(like._be.from_host(arr, arr.dtype))


def shape_arg(shape):
    """Sizes given as f(2, 3) or f((2, 3)) or f(Size)."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def can_cast(src, dst):
    """PyTorch's rule for writing a result into an existing tensor: no float into an
    integral tensor, nothing but bool into a bool one."""
    return CAT[np.dtype(src)] <= CAT[np.dtype(dst)]


def commit_inplace(t, out):
    """Make t hold out's value and history: the in-place form of an op computed out of
    place. Bumps t's version; a view's base takes the change into its history too."""
    src = out._data
    if src.shape != t._data.shape:
        raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the "
                           f"broadcast shape {list(src.shape)}")
    if not can_cast(src.dtype, t._data.dtype):
        names = _dt.SCALAR_NAMES
        raise RuntimeError(f"result type {names[_by_np[src.dtype]]} can't be cast to the "
                           f"desired output type {names[t.dtype]}")
    if src is not t._data:
        t._be.copyto(t._data, src, casting="unsafe")
    t._bump_version()
    if out._requires_grad and grad_state.grad_enabled:
        old = (t.grad_fn, t._output_nr)
        base = t._base
        if base is not None and (base._requires_grad or out._requires_grad):
            from .shape import rebase_view
            rebase_view(t, out)
        else:
            t._requires_grad, t.grad_fn, t._output_nr = True, out.grad_fn, out._output_nr
        if t._retains_grad:
            from ..autograd.engine import retain_grad
            retain_grad(t, old)
    return t


def write_out(r, out):
    """An op's ``out=`` argument: r written into out (resized first when its shape
    differs, as PyTorch does), or r itself when out is None."""
    if out is None:
        return r
    if out._data.shape != r._data.shape:
        out._data = out._be.empty(r._data.shape, out._data.dtype)
    return commit_inplace(out, r)


def check_inplace(t, *others):
    """Raise PyTorch's error for an in-place change of a leaf that requires grad (or of
    memory that several elements share); return
    whether the change has to be recorded in the graph."""
    flags = getattr(t._data, "flags", None)
    if flags is not None and not flags.writeable:    # an expand()ed view
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")
    if not grad_state.grad_enabled:
        return False
    base = t._base
    if base is not None and base._requires_grad:
        if base.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used "
                               "in an in-place operation.")
        return True
    if t._requires_grad:
        if t.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        return True
    return any(isinstance(o, Tensor) and o._requires_grad for o in others)


def snapshot(t):
    """A copy of t's value with t's place in the graph, to compute an in-place op out of
    place while t's memory is overwritten."""
    s = _make(t._be.copy(t._data))
    s._requires_grad, s.grad_fn, s._output_nr = t._requires_grad, t.grad_fn, t._output_nr
    return s


def _fits(xs, ys):
    """Whether shape ys broadcasts to xs without growing it (else the out-of-place path
    raises PyTorch's error: ``out=`` would broadcast into a smaller array on some backends)."""
    if ys == xs:
        return True
    n = len(ys)
    return n <= len(xs) and all(b == 1 or a == b for a, b in zip(xs[len(xs) - n:], ys))


def inplace(t, op, *args, prim=None, **kwargs):
    """t.op_(*args): with autograd through the out-of-place op, else straight into t's
    memory with the backend's ``out=`` primitive ``prim`` when given."""
    if check_inplace(t, *args):
        return commit_inplace(t, op(snapshot(t), *args, **kwargs))
    # (float16/bfloat16 go out of place: the ops compute those in float32)
    if prim is not None and args and not kwargs and t._data.dtype not in LOW_FLOAT_NP:
        x, y = pair(t, args[0])
        # (x.dtype, not x: a device array is no NumPy array; NumPy 2 promotes the same)
        if x is t._data and _fits(x.shape, getattr(y, "shape", ())) and can_cast(
                y.dtype if hasattr(y, "ndim") and not isinstance(y, np.generic)
                else np.result_type(x.dtype, y), x.dtype):
            getattr(t._be, prim)(x, y, out=x)
            t._bump_version()
            return t
    return commit_inplace(t, op(t, *args, **kwargs))
