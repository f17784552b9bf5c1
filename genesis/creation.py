"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/full/empty (+ _like),
arange, linspace, logspace, eye, tril_indices/triu_indices, scalar_tensor; random creation
lives in random.py."""
import math

import numpy as np

from . import dtypes as _dt
from .device import CPU, to_device
from .tensor import Tensor, _make
from .backend import cpu as _cpu
from .ops.common import INT_RANGE, fill_scalar, write_out

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
           "zeros_like", "ones_like", "empty_like", "full_like", "arange", "range",
           "linspace", "logspace", "eye", "tril_indices", "triu_indices", "scalar_tensor"]

_py_range = range
_f64 = np.dtype(np.float64)
_F16 = np.dtype(np.float16)


def _be(device):
    if device is None:
        return _cpu
    from .backend import backend_for
    return backend_for(to_device(device))


def _finish(arr, requires_grad, out=None):
    t = _make(arr)
    if requires_grad:
        t.requires_grad_(True)
    elif out is None:
        return t
    if out is not None:
        return write_out(t, out)
    return t


# ---------------------------------------------------------------- tensor / as_tensor
def _infer_np(data, dtype):
    """A new C-contiguous host array of ``data`` with PyTorch's dtype inference: Python
    floats take the default dtype, ints int64, bools bool; NumPy arrays, NumPy scalars and
    tensors keep theirs, and a list mixing them promotes as PyTorch does."""
    npd = None if dtype is None else _dt.to_dtype(dtype).np
    if isinstance(data, Tensor):
        arr = data._be.to_host(data._data)
        if npd is _F16 and arr.dtype is _f64:
            return _cpu.astype(arr, npd)
        return np.array(arr, dtype=npd, order="C")
    if isinstance(data, (np.ndarray, np.generic)):
        if npd is None:
            _dt.from_numpy_dtype(data.dtype)
        elif npd is _F16 and data.dtype is _f64:
            return _cpu.astype(np.asarray(data), npd)
        return np.array(data, dtype=npd, order="C")
    if npd in INT_RANGE and isinstance(data, (int, float, np.generic)):
        return np.array(_fit(data.item() if isinstance(data, np.generic) else data, npd),
                        dtype=npd)
    inferred, has_tensor = _infer_dtype(data)
    if npd is None:
        npd = inferred.np
    if has_tensor:
        data = _unwrap(data, npd.kind in "biu")
    try:
        if npd is _F16:     # Python floats are doubles: to half through float, as torch
            return np.array(data, dtype=np.float32).astype(npd)
        return np.array(data, dtype=npd)
    except (ValueError, TypeError, OverflowError) as e:
        if npd in INT_RANGE and not _ragged(data):   # out of range: PyTorch's rules
            return np.array(_fit_all(data, npd), dtype=npd)
        raise _ragged(data) or e from None


def _fit(v, npd):
    """Python number v as tensor() converts it to the integral dtype npd: an integer may
    wrap into the unsigned type from as low as -highest (two's complement); a float is
    truncated; anything else out of range, NaN and inf raise."""
    lo, hi, _ = INT_RANGE[npd]
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)):
        v = int(v)
        if not -2 ** 63 <= v < 2 ** 63:
            raise ValueError("Overflow when unpacking long long")
        if lo <= v <= hi:
            return v
        if lo == 0 and -hi <= v < 0:
            return v + hi + 1
    elif lo <= v <= hi:           # False for NaN
        return int(v)
    raise RuntimeError(f"value cannot be converted to type {npd.name} without overflow")


def _fit_all(data, npd):
    if isinstance(data, (list, tuple)):
        return [_fit_all(x, npd) for x in data]
    return _fit(data.item() if isinstance(data, np.generic) else data, npd)


_SCALAR_DTYPE = {float: None, int: _dt.int64, bool: _dt.bool_}


def _infer_dtype(data):
    """(PyTorch's dtype for Python data, whether tensors sit in it): promote_types over
    the leaves, a Python float counting as the default dtype. Scans each nested list by
    the set of its element types, so plain lists cost one C-level pass."""
    default = _dt.get_default_dtype()
    result, has_tensor = None, False
    stack = [data]
    while stack:
        seq = stack.pop()
        if isinstance(seq, (list, tuple, _py_range)):
            types = set(map(type, seq))
        else:
            types, seq = {type(seq)}, (seq,)
        for tp in types:
            if tp in _SCALAR_DTYPE:
                d = _SCALAR_DTYPE[tp] or default
            elif issubclass(tp, (list, tuple)):
                stack.extend(x for x in seq if type(x) is tp)
                continue
            else:
                for x in seq:
                    if type(x) is tp:
                        d = _leaf_dtype(x)
                        result = d if result is None else _dt.promote_types(result, d)
                has_tensor = has_tensor or issubclass(tp, Tensor)
                continue
            result = d if result is None else _dt.promote_types(result, d)
    return (result or default), has_tensor


def _leaf_dtype(x):
    if isinstance(x, Tensor):
        return x.dtype
    if isinstance(x, (np.ndarray, np.generic)):
        return _dt.from_numpy_dtype(x.dtype)
    if isinstance(x, _py_range):
        return _dt.int64
    if x is None:
        raise RuntimeError("Could not infer dtype of NoneType")
    if isinstance(x, (int, float)):          # subclasses of the Python scalars
        return _dt.bool_ if isinstance(x, bool) else (
            _dt.int64 if isinstance(x, int) else _dt.get_default_dtype())
    raise TypeError(f"new(): invalid data type '{type(x).__name__}'")


def _unwrap(data, integral):
    """Tensors inside a list as Python numbers. As PyTorch, only one-element tensors may
    sit in a list, and only integral or bool ones when the result is ``integral`` (it
    takes them as indices)."""
    if isinstance(data, Tensor):
        if integral and (data._data.size != 1 or data.is_floating_point()):
            raise TypeError("only integer tensors of a single element can be converted to "
                            "an index")
        if data._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data.item()
    if isinstance(data, (list, tuple)):
        return [_unwrap(d, integral) for d in data]
    return data


def _is_seq(x):
    return isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.ndim > 0)


def _ragged(data):
    """PyTorch's error for a nested sequence that is not rectangular, or None."""
    shape, d = [], data
    while _is_seq(d):
        shape.append(len(d))
        if not len(d):
            break
        d = d[0]

    def walk(x, dim):
        if dim == len(shape):
            if _is_seq(x):
                return TypeError(f"expected a number at dim {dim}, got a sequence of length "
                                 f"{len(x)}")
            return None
        if not _is_seq(x):
            return TypeError(f"not a sequence: expected a sequence of length {shape[dim]} at "
                             f"dim {dim}, got {type(x).__name__}")
        if len(x) != shape[dim]:
            return ValueError(f"expected sequence of length {shape[dim]} at dim {dim} "
                              f"(got {len(x)})")
        for e in x:
            err = walk(e, dim + 1)
            if err is not None:
                return err
        return None
    return walk(data, 0)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data``."""
    arr = _infer_np(data, dtype)
    if device is not None:
        be = _be(device)
        if be.__name__ != "genesis.backend.cpu":
            arr = be.from_host(arr, arr.dtype)
    return _finish(arr, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory with a Tensor or NumPy array where it can."""
    if isinstance(data, Tensor):
        return data.to(device=device if device is not None else data.device,
                       dtype=dtype if dtype is not None else data.dtype)
    if isinstance(data, np.ndarray) and (device is None or to_device(device) == CPU):
        if dtype is None or _dt.to_dtype(dtype).np == data.dtype:
            return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(ndarray):
    """A CPU tensor sharing memory with ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dt.from_numpy_dtype(ndarray.dtype)
    return _make(ndarray)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return full((), s, dtype=dtype or _dt.get_default_dtype(), device=device,
                requires_grad=requires_grad)


# ---------------------------------------------------------------- filled tensors
def _dtype_np(dtype):
    return (_dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)).np


def _sizes(fn, args, size):
    """Sizes given as f(2, 3), f((2, 3)), f([2, 3]), f(Size) or f(size=...)."""
    if size is None and args:           # the common case, checked cheaply
        if len(args) == 1 and isinstance(args[0], (list, tuple)):
            args = args[0]
        for s in args:
            if type(s) is not int or s < 0:
                break
        else:
            return tuple(args)
    if size is not None:
        if args:
            raise TypeError(f"{fn}() got multiple values for argument 'size'")
        args = (size,)
    if not args:
        raise TypeError(f'{fn}() missing 1 required positional arguments: "size"')
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = args[0]
    shape = []
    for i, s in enumerate(args):
        if isinstance(s, Tensor) and s.ndim == 0 and not s.is_floating_point():
            s = s.item()
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{fn}(): argument 'size' must be tuple of ints, but found element "
                            f"of type {type(s).__name__} at pos {i}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{[int(x) for x in args]}")
        shape.append(int(s))
    return tuple(shape)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    if dtype is None:
        dtype = fill_value.dtype if isinstance(fill_value, Tensor) else \
            _dt.result_type(fill_value)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    shape = _sizes("full", (size,) if isinstance(size, (int, np.integer)) else (tuple(size),),
                   None)
    npd = _dt.to_dtype(dtype).np
    return _finish(_be(device).full(shape, fill_scalar(fill_value, npd), npd), requires_grad,
                   out)


def zeros(*args, size=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    shape = _sizes("zeros", args, size)
    return _finish(_be(device).full(shape, 0, _dtype_np(dtype)), requires_grad, out)


def ones(*args, size=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    shape = _sizes("ones", args, size)
    return _finish(_be(device).full(shape, 1, _dtype_np(dtype)), requires_grad, out)


def empty(*args, size=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False, memory_format=None):
    shape = _sizes("empty", args, size)
    return _finish(_be(device).empty(shape, _dtype_np(dtype)), requires_grad, out)


def _like(fn):
    def like(input, *args, dtype=None, layout=None, device=None, requires_grad=False,
             memory_format=None, pin_memory=False):
        dtype = input.dtype if dtype is None else dtype
        device = input.device if device is None else device
        return fn(tuple(input.shape), *args, dtype=dtype, device=device,
                  requires_grad=requires_grad)
    like.__name__ = like.__qualname__ = fn.__name__ + "_like"
    return like


zeros_like, ones_like, empty_like, full_like = _like(zeros), _like(ones), _like(empty), \
    _like(full)


# ---------------------------------------------------------------- ranges
def _num(v, what):
    """A Python number from a number, NumPy scalar or one-element tensor."""
    if isinstance(v, Tensor):
        return v.item()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (bool, int, float)):
        return v
    raise TypeError(f"{what} must be a number, got {type(v).__name__}")


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False):
    """Values from ``start`` up to (not including) ``end`` by ``step``: int64 when all three
    are integers, else the default float dtype; ceil((end - start) / step) elements."""
    if end is None:
        start, end = 0, start
    start, end, step = _num(start, "start"), _num(end, "end"), _num(step, "step")
    if dtype is None:
        any_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = _dt.get_default_dtype() if any_float else _dt.int64
    d = _dt.to_dtype(dtype)
    if d is _dt.bool_:
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    be = _be(device)
    if d.is_floating_point:
        if not (math.isfinite(start) and math.isfinite(end)):
            raise RuntimeError(f"unsupported range: {start} -> {end}")
        _check_step(start, end, step)
        n = max(math.ceil((end - start) / step), 0)
        # start + i * step in float64 (PyTorch accumulates in double), rounded once
        arr = be.arange(0, n, 1, _f64)
        if step != 1:
            arr = be.multiply(arr, step)
        if start != 0:
            arr = be.add(arr, start)
        if d.np != _f64:
            arr = be.astype(arr, d.np)
    else:
        # integral: PyTorch casts the bounds to integers first (so 0.5 counts as 0)
        s, e, st = int(start), int(end), int(step)
        _check_step(s, e, st)
        if d is _dt.int64:
            n = -((s - e) // st)        # ceil((e - s) / st) exactly
        else:
            n = math.ceil((end - start) / step)
        n = max(n, 0)
        arr = be.arange(s, s + n * st, st, d.np)
    return _finish(arr, requires_grad, out)


def _check_step(start, end, step):
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")


def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
          requires_grad=False):
    """Deprecated in PyTorch: like arange but including ``end``, float by default."""
    if end is None:
        start, end = 0, start
    start, end, step = _num(start, "start"), _num(end, "end"), _num(step, "step")
    _check_step(start, end, step)
    n = int((end - start) // step) + 1
    d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    be = _be(device)
    arr = be.add(be.multiply(be.arange(0, n, 1, _f64), step), start)
    return _finish(be.astype(arr, d.np), requires_grad, out)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """``steps`` values evenly spaced from ``start`` to ``end`` inclusive."""
    start, end = _num(start, "start"), _num(end, "end")
    steps = _num(steps, "steps")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    if not d.is_floating_point:     # PyTorch truncates the bounds for integral results
        start, end = int(start), int(end)
    be = _be(device)
    return _finish(be.linspace(start, end, steps, d.np), requires_grad, out)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None,
             device=None, requires_grad=False):
    """``base`` to the powers of ``linspace(start, end, steps)``."""
    start, end = _num(start, "start"), _num(end, "end")
    steps, base = _num(steps, "steps"), _num(base, "base")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    be = _be(device)
    arr = be.power(float(base), be.linspace(start, end, steps, _f64))
    return _finish(be.astype(arr, d.np), requires_grad, out)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
        pin_memory=False):
    n = _num(n, "n")
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is None:
        m = n
    m = _num(m, "m")
    if m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    return _finish(_be(device).eye(n, m, _dtype_np(dtype)), requires_grad, out)


def _tri_indices(name, which, row, col, offset, dtype, device):
    d = _dt.to_dtype(dtype)
    if d.is_floating_point or d is _dt.bool_:
        raise NotImplementedError(f"\"{name}\" not implemented for '{d.name}'")
    for what, v in (("row", row), ("col", col)):
        if v < 0:
            raise RuntimeError(f"{what} must be non-negative, got {v}")
    # host-side index computation; the result is small and built once
    idx = which(row, offset, col)
    arr = np.stack(idx).astype(d.np) if row and col else np.empty((2, 0), d.np)
    be = _be(device)
    return _make(be.from_host(arr, d.np) if be.__name__ != "genesis.backend.cpu" else arr)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices("tril_indices", np.tril_indices, row, col, offset,
                        dtype or _dt.int64, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices("triu_indices", np.triu_indices, row, col, offset,
                        dtype or _dt.int64, device)
