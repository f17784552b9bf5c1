"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/full/empty (+ _like),
arange, linspace, eye, tril/triu live in ops; random creation lives in random.py."""
import numpy as np

from . import dtypes as _dt
from .device import CPU, to_device
from .tensor import Tensor, _make
from .ops.common import shape_arg


def _be(device):
    if device is None:
        from .backend import cpu
        return cpu
    from .backend import backend_for
    return backend_for(to_device(device))


def _finish(arr, requires_grad):
    t = _make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_np(data, dtype):
    """NumPy array of Python data with PyTorch's dtype inference: Python floats take the
    default dtype, ints int64, bools bool; NumPy arrays keep theirs."""
    if dtype is not None:
        npd = _dt.to_dtype(dtype).np
        if isinstance(data, Tensor):
            return data._be.to_host(data._data).astype(npd)
        return np.array(_unwrap(data), dtype=npd) if not isinstance(data, np.ndarray) \
            else data.astype(npd)
    if isinstance(data, Tensor):
        return data._be.to_host(data._data).copy()
    if isinstance(data, (np.ndarray, np.generic)):
        arr = np.array(data)
        _dt.from_numpy_dtype(arr.dtype)
        return arr
    arr = np.array(_unwrap(data))
    if arr.dtype == np.float64 and not _has_np_float64(data):
        arr = arr.astype(_dt.get_default_dtype().np)
    elif arr.dtype.kind in "US" or arr.dtype == object:
        raise TypeError(f"Could not infer dtype of {type(data).__name__}: expected numbers, "
                        "nested sequences of numbers, NumPy arrays or Tensors")
    else:
        _dt.from_numpy_dtype(arr.dtype)
    return arr


def _unwrap(data):
    if isinstance(data, Tensor):
        return data._be.to_host(data._data)
    if isinstance(data, (list, tuple)):
        return [_unwrap(d) for d in data]
    return data


def _has_np_float64(data):
    if isinstance(data, (list, tuple)):
        return any(_has_np_float64(d) for d in data)
    if isinstance(data, Tensor):
        return data._data.dtype == np.float64
    return isinstance(data, (np.float64, np.ndarray)) and np.asarray(data).dtype == np.float64


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data``."""
    arr = _infer_np(data, dtype)
    be = _be(device)
    return _finish(be.from_host(arr, arr.dtype) if be.__name__ != "genesis.backend.cpu"
                   else np.array(arr, copy=True), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory with a Tensor or NumPy array where it can."""
    if isinstance(data, Tensor):
        return data.to(device=device if device is not None else data.device,
                       dtype=dtype if dtype is not None else data.dtype)
    if isinstance(data, np.ndarray) and device in (None, "cpu", CPU):
        if dtype is None or _dt.to_dtype(dtype).np == data.dtype:
            return from_numpy(data)
    arr = _infer_np(data, dtype)
    be = _be(device)
    return _make(be.from_host(arr, arr.dtype))


asarray = as_tensor


def from_numpy(ndarray):
    """A CPU tensor sharing memory with ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dt.from_numpy_dtype(ndarray.dtype)
    return _make(ndarray)


def _dtype_np(dtype):
    return (_dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)).np


def _check_sizes(shape):
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(shape)}")
    return shape


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None):
    if dtype is None:
        dtype = _dt.result_type(fill_value) if not isinstance(fill_value, Tensor) else \
            fill_value.dtype
    shape = _check_sizes(shape_arg((size,)))
    return _finish(_be(device).full(shape, fill_value, _dt.to_dtype(dtype).np), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    shape = _check_sizes(shape_arg(size))
    return _finish(_be(device).full(shape, 0, _dtype_np(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    shape = _check_sizes(shape_arg(size))
    return _finish(_be(device).full(shape, 1, _dtype_np(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, pin_memory=False,
          memory_format=None):
    shape = _check_sizes(shape_arg(size))
    return _finish(_be(device).empty(shape, _dtype_np(dtype)), requires_grad)


def _like(fn):
    def like(input, *args, dtype=None, device=None, requires_grad=False,
             memory_format=None, **kw):
        dtype = input.dtype if dtype is None else dtype
        device = input.device if device is None else device
        return fn(input.shape, *args, dtype=dtype, device=device,
                  requires_grad=requires_grad, **kw)
    like.__name__ = fn.__name__ + "_like"
    return like


zeros_like, ones_like, empty_like, full_like = _like(zeros), _like(ones), _like(empty), \
    _like(full)
