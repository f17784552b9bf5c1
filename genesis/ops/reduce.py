"""Reductions over dims with keepdim: sum, mean, prod, max/min, var/std, logsumexp,
cumulative ops, norms, all/any, sorting and unique."""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor, _make
from .. import dtypes as _dt
from .common import dims as _dims, CAT, FLOAT_NP, default_float

_LOW = {np.dtype(np.float16), _dt.bfloat16.np}


def _acc_dtype(x, dtype):
    """The dtype to accumulate in: int64 for integral and bool input (as PyTorch),
    float32 for float16/bfloat16 (cast back after)."""
    if dtype is not None:
        return _dt.to_dtype(dtype).np
    if CAT[x.dtype] < 2:
        return np.dtype(np.int64)
    return x.dtype


def _expand_back(g, in_shape, axes, keepdim):
    """A reduced gradient broadcast back over the reduced axes."""
    if not keepdim and axes:
        shp = list(g.shape)
        for a in axes:
            shp.insert(a, 1)
        g = g.reshape(shp)
    return g.expand(in_shape)


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim, dtype):
        x = a._data
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        out_dt = _acc_dtype(x, dtype)
        if out_dt in _LOW:
            return a._be.sum(x, axis=axes, dtype=np.float32, keepdims=keepdim).astype(out_dt)
        return a._be.sum(x, axis=axes, dtype=out_dt, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g, ctx.in_shape, ctx.axes, ctx.keepdim), None, None, None


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None):
    if axis is not None:
        dim = axis
    return Sum.apply(input, _dims(dim, input._data.ndim), keepdim, dtype)


def _check_float_for(name, input, dtype):
    d = _dt.to_dtype(dtype) if dtype is not None else input.dtype
    if not d.is_floating_point:
        raise RuntimeError(f"{name}(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {d.name.capitalize()}")


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None):
    if axis is not None:
        dim = axis
    _check_float_for("mean", input, dtype)
    axes = _dims(dim, input._data.ndim)
    n = 1
    for a in axes:
        n *= input._data.shape[a]
    s = Sum.apply(input, axes, keepdim, dtype)
    return s / n if n else s * float("nan")


def sum_to_size(input, *size):
    """Sum ``input`` down to ``size``, which it must broadcast from (undoing a broadcast)."""
    from .common import shape_arg
    size = shape_arg(size)
    shp = input._data.shape
    if shp == size:
        return input
    lead = len(shp) - len(size)
    if lead < 0 or any(s != 1 and s != shp[lead + i] for i, s in enumerate(size)):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shp)}}}.")
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and shp[lead + i] != 1)
    out = Sum.apply(input, axes, True, None)
    if lead:
        out = out.reshape(size)
    return out


TENSOR_METHODS = {"sum": sum, "mean": mean, "sum_to_size": sum_to_size}
