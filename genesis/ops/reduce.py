"""Reductions over dims with keepdim: sum, mean, prod, max/min, var/std, logsumexp,
cumulative ops, norms, all/any, sorting and unique.

Ops that pick elements (max/min with a dim, sort, topk, median, kthvalue) compute values
and indices with backend primitives and hand both to ``_Selected``, whose gradient goes
back to the picked places. Value reductions with ties (amax, max(), median()) share the
gradient evenly among the tied elements, as PyTorch does.
"""
import builtins
import math
from collections import namedtuple
from types import SimpleNamespace

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor, _make
from .. import dtypes as _dt
from .common import dims as _dims, wrap_dim as _wrap_dim, inplace as _inplace, CAT as _CAT
from .common import default_float as _default_float, LOW_FLOAT_NP as _LOW, F32 as _F32
from .common import FLOAT_NP, write_out
from .shape import Reshape as _Reshape, Expand as _Expand
from .index import version_alias as _version_alias
from ..autograd.grad_mode import state as _grad_state
from .elementwise import where as _where, isnan as _isnan, maximum as _maximum
from .elementwise import minimum as _minimum, sign as _sign, abs as _abs, exp as _exp

_I64 = np.dtype(np.int64)
_INF = math.inf

__all__ = ["sum", "mean", "nansum", "nanmean", "prod", "max", "min", "amax", "amin",
           "aminmax", "argmax", "argmin", "var", "std", "var_mean", "std_mean", "logsumexp",
           "cumsum", "cumprod", "norm", "all", "any", "count_nonzero", "sort", "argsort",
           "topk", "unique", "median", "nanmedian", "kthvalue", "sum_to_size",
           "return_types"]


# ---------------------------------------------------------------- result tuples
def _return_type(name, fields=("values", "indices")):
    cls = namedtuple(name, fields)
    cls.__module__, cls.__qualname__ = __name__, f"return_types.{name}"   # picklable

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"genesis.return_types.{name}(\n{body})"
    cls.__repr__ = __repr__
    return cls


# like torch.return_types: tuples with named fields
return_types = SimpleNamespace(**{n: _return_type(n) for n in (
    "max", "min", "sort", "topk", "median", "nanmedian", "kthvalue")},
    aminmax=_return_type("aminmax", ("min", "max")))


# ---------------------------------------------------------------- helpers
def _axes(dim, ndim):
    """dim as sorted non-negative axes; a 0-d tensor accepts dim 0/-1 and has no axes."""
    ax = _dims(dim, ndim)
    return ax if ndim else ()


def _numel(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _acc_dtype(x, dtype):
    """The result dtype: ``dtype`` when given, else int64 for integral and bool input (as
    PyTorch), else the input's."""
    if dtype is not None:
        return _dt.to_dtype(dtype).np
    if _CAT[x.dtype] < 2:
        return _I64
    return x.dtype


def _keep(t, axes, keepdim):
    """A reduced tensor with its reduced axes put back as size 1 (the keepdim shape)."""
    if keepdim or not axes:
        return t
    shp = list(t._data.shape)
    for a in axes:
        shp.insert(a, 1)
    return _Reshape.apply(t, tuple(shp))


def _expand_back(g, in_shape, axes, keepdim):
    """A reduced gradient broadcast back over the reduced axes. Leading reduced axes need
    no size-1 axes put back: broadcasting aligns shapes on the right."""
    if not keepdim and axes != _ALL_AXES[len(axes)]:
        g = _keep(g, axes, keepdim)
    return _Expand.apply(g, in_shape)


def _drop(be, x, d):
    """x without its axis d (of size 1)."""
    return be.reshape(x, x.shape[:d] + x.shape[d + 1:])


def _nonempty(name, x, axes):
    for a in axes:
        if x.shape[a] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {a} to have non-zero size.")


def _no_bool(t, msg, exc=NotImplementedError):
    if t._data.dtype == np.bool_:
        raise exc(msg)


def _float_only(name, t):
    if _CAT[t._data.dtype] < 2:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {t.dtype.scalar_name}")


# ---------------------------------------------------------------- sum / mean / prod
class Sum(Function):
    _tensor_args = 1

    @staticmethod
    def forward(ctx, a, axes, keepdim, dtype):
        x = a._data
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if dtype is None and not keepdim and x.dtype in _FULL_FAST and len(axes) == x.ndim:
            # a full float reduction, the loss's, into a 0-d array (NumPy would return a
            # scalar to wrap)
            be = a._be
            return be.sum(x, axes, None, False, be.empty((), x.dtype))
        out_dt = x.dtype if dtype is None and x.dtype in FLOAT_NP else _acc_dtype(x, dtype)
        if out_dt in _LOW:
            return a._be.astype(a._be.sum(x, axes, _F32, keepdim), out_dt)
        # dtype=None where it changes nothing (floats: NumPy widens small ints) as NumPy
        # parses an explicit dtype slowly
        if out_dt is x.dtype and out_dt in FLOAT_NP:
            if keepdim or len(axes) != x.ndim:
                return a._be.sum(x, axes, None, keepdim)
            # a full reduction into a 0-d array: NumPy would return a scalar to wrap
            return a._be.sum(x, axes, None, False, a._be.empty((), out_dt))
        return a._be.sum(x, axes, out_dt, keepdim)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g, ctx.in_shape, ctx.axes, ctx.keepdim), None, None, None


_ALL_AXES = [tuple(range(n)) for n in range(33)]


def _check_grad_dtype(input, dtype):
    # PyTorch's autograd refuses a differentiable reduction cast to an integral dtype
    if dtype is not None and input._requires_grad and _grad_state.grad_enabled:
        d = _dt.to_dtype(dtype)
        if not d.is_floating_point:
            raise RuntimeError(f"Autograd not support dtype: {d.scalar_name}")


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None):
    if axis is not None:
        dim = axis
    if dtype is not None:
        _check_grad_dtype(input, dtype)
    nd = input._data.ndim
    axes = _ALL_AXES[nd] if dim is None else _axes(dim, nd)
    return _sum_apply(input, axes, keepdim, dtype)


def _check_float_for(name, input, dtype):
    d = _dt.to_dtype(dtype) if dtype is not None else input.dtype
    if not d.is_floating_point:
        raise RuntimeError(f"{name}(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {d.scalar_name}")


class Mean(Function):
    _tensor_args = 1

    @staticmethod
    def forward(ctx, a, axes, keepdim, dtype):
        x, be = a._data, a._be
        out_dt = _dt.to_dtype(dtype).np if dtype is not None else x.dtype
        acc = _F32 if out_dt in _LOW else out_dt
        n = _numel(x.shape, axes)
        ctx.in_shape, ctx.axes, ctx.keepdim, ctx.n = x.shape, axes, keepdim, n
        s = be.sum(x, axes, None if acc is x.dtype and acc in FLOAT_NP else acc, keepdim)
        r = be.divide(s, n) if n else be.multiply(s, math.nan)   # mean of nothing is nan
        return be.astype(r, out_dt) if acc != out_dt else r

    @staticmethod
    def backward(ctx, g):
        return MeanBackward.apply(g, ctx), None, None, None


class MeanBackward(Function):
    """g / n broadcast back over the reduced axes as one op: a view of the divided
    gradient, no copy. ``m`` is the Mean node (in_shape, axes, keepdim, n)."""

    @staticmethod
    def forward(ctx, g, m):
        ctx.m = m
        be, gd = g._be, g._data
        if gd.dtype in _LOW:        # in float32, rounded once, as g / n
            d = be.astype(be.divide(be.astype(gd, _F32), m.n), gd.dtype)
        else:
            d = be.divide(gd, m.n)
        axes = m.axes
        if not m.keepdim and axes != _ALL_AXES[len(axes)]:
            shp = list(d.shape)
            for a in axes:
                shp.insert(a, 1)
            d = be.reshape(d, tuple(shp))
        return be.broadcast_to(d, m.in_shape)

    @staticmethod
    def backward(ctx, gg):
        m = ctx.m
        return _sum_apply(gg, m.axes, m.keepdim, None) / m.n, None


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None):
    if axis is not None:
        dim = axis
    if dtype is not None or input._data.dtype not in FLOAT_NP:
        _check_float_for("mean", input, dtype)
    nd = input._data.ndim
    return _mean_apply(input, _ALL_AXES[nd] if dim is None else _axes(dim, nd), keepdim, dtype)


_sum_apply, _mean_apply = Sum.apply, Mean.apply
_FULL_FAST = (np.dtype(np.float32), np.dtype(np.float64))


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    if input.is_floating_point():
        input = _where(_isnan(input), 0.0, input)
    return sum(input, dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    _check_float_for("nanmean", input, dtype)
    n = _isnan(input).logical_not().sum(dim, keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / n


class Prod(Function):
    _save_output = True

    @staticmethod
    def forward(ctx, a, axes, keepdim, dtype):
        x = a._data
        ctx.axes, ctx.keepdim = axes, keepdim
        ctx.save_for_backward(a)
        out_dt = _acc_dtype(x, dtype)
        if out_dt in _LOW:
            return a._be.astype(a._be.prod(x, axis=axes, dtype=_F32, keepdims=keepdim), out_dt)
        return a._be.prod(x, axis=axes, dtype=out_dt, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        if not a._data.ndim:           # the identity: no out / a (NaN for a nan, 0 or inf)
            return g, None, None, None
        axes, keepdim = ctx.axes, ctx.keepdim
        out, g = _keep(ctx.output, axes, keepdim), _keep(g, axes, keepdim)
        z = a == 0
        if not builtins.bool(z.any()):
            return g * out / a, None, None, None
        return g * _prod_others(a, z, out, axes), None, None, None


def _prod_others(a, z, out, axes):
    """d out / d a_i = the product of the other elements of a_i's line, for input with
    zeros, written so that its own derivative is right too: with P the product of a
    line's nonzero elements and Z the sum of its zero elements (0, but it carries their
    derivative), a line with no zero gives out / a_i; one zero gives P at the zero and
    Z * P / a_i elsewhere; two zeros give (Z - a_i) * P at the zeros and 0 elsewhere;
    more give 0."""
    nz = z.sum(axes, keepdim=True)
    safe = _where(z, 1.0, a)
    p = Prod.apply(safe, axes, True, None)
    zs = _where(z, a, 0.0).sum(axes, keepdim=True)
    at_zero = _where(nz == 1, p, _where(nz == 2, (zs - a) * p, 0.0))
    elsewhere = _where(nz == 0, out, _where(nz == 1, zs * p, 0.0)) / safe
    return _where(z, at_zero, elsewhere)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    _check_grad_dtype(input, dtype)
    return Prod.apply(input, _axes(dim, input._data.ndim), keepdim, dtype)


# ---------------------------------------------------------------- picking elements
# The index these take is the indices tensor the op returned (or a view of it), saved
# for backward: the caller may change it in place, which must raise, as in PyTorch,
# rather than move the gradient.
class _Gather(Function):
    """``a`` taken at the int64 tensor ``index`` along ``d`` (take_along_axis)."""

    @staticmethod
    def forward(ctx, a, index, d):
        ctx.d, ctx.shape = d, a._data.shape
        ctx.save_for_backward(index)
        return a._be.take_along_axis(a._data, index._data, d)

    @staticmethod
    def backward(ctx, g):
        index, = ctx.saved_tensors
        return _Scatter.apply(g, index, ctx.d, ctx.shape), None, None


class _Scatter(Function):
    """Zeros of ``shape`` with ``src`` put at ``index`` along ``d``; the indices of one
    line along d are distinct (they come from a sort or an argmax), so put is enough."""

    @staticmethod
    def forward(ctx, src, index, d, shape):
        ctx.d = d
        ctx.save_for_backward(index)
        be = src._be
        out = be.full(shape, 0, src._data.dtype)
        be.put_along_axis(out, index._data, src._data, d)
        return out

    @staticmethod
    def backward(ctx, g):
        index, = ctx.saved_tensors
        return _Gather.apply(g, index, ctx.d), None, None, None


class _Selected(Function):
    """Values ``vals`` that the caller picked from ``a`` at index array ``idx`` along
    ``d`` (keepdim shape), returned with their indices (axis d dropped when ``squeeze``);
    the gradient goes back to the picked places."""
    _materialize = False

    @staticmethod
    def forward(ctx, a, vals, idx, d, squeeze):
        ctx.d, ctx.shape, ctx.squeeze = d, a._data.shape, squeeze
        be = a._be
        if idx.dtype != _I64:
            idx = be.astype(idx, _I64)
        if squeeze:
            vals, idx = _drop(be, vals, d), _drop(be, idx, d)
        ind = _make(idx)
        ctx.save_for_backward(ind)     # the returned indices: see _Gather
        return vals, ind

    @staticmethod
    def backward(ctx, gv, gi):
        if gv is None:
            return None, None, None, None, None
        ind, = ctx.saved_tensors
        d = ctx.d
        if ctx.squeeze:
            x = ind._data
            gv = gv.unsqueeze(d)
            ind = _version_alias(ind, ind._be.reshape(x, x.shape[:d] + (1,) + x.shape[d:]))
        return _Scatter.apply(gv, ind, d, ctx.shape), None, None, None, None


def _scalar_case(fn, input, *args):
    """fn on a 0-d input, computed on its 1-element 1-d reshape (dim 0), results 0-d."""
    vals, idx = fn(input.reshape(1), 0, *args)
    return vals.reshape(()), idx.reshape(())


class _TieSplit(Function):
    """A value reduction ``out`` (computed by the caller) of ``a`` over ``axes``; the
    gradient is shared evenly among the elements equal to the result (NaN counts as equal
    to a NaN result). The others get exact zeros when ``zeros`` (as PyTorch's max(),
    min() and median() without a dim, even for a NaN gradient), else 0 times the shared
    gradient (as its amax/amin)."""
    _save_output = True

    @staticmethod
    def forward(ctx, a, out, axes, keepdim, zeros=False):
        ctx.axes, ctx.keepdim, ctx.zeros = axes, keepdim, zeros
        ctx.save_for_backward(a)
        return out

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        axes, keepdim = ctx.axes, ctx.keepdim
        out, g = _keep(ctx.output, axes, keepdim), _keep(g, axes, keepdim)
        mask = (a == out) | (_isnan(a) & _isnan(out))
        share = g / mask.sum(axes, keepdim=True)
        return (_where(mask, share, 0.0) if ctx.zeros else mask * share), None, None, None, None


def _value_reduce(name, prim, input, dim, keepdim, zeros=False):
    x = input._data
    if x.size == 0 and (dim is None or dim == ()):
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel()"
                           " == 0. Specify the reduction dim with the 'dim' argument.")
    axes = _axes(dim if dim != () else None, x.ndim)
    _nonempty(name, x, axes)
    return _TieSplit.apply(input, getattr(input._be, prim)(x, axis=axes, keepdims=keepdim),
                           axes, keepdim, zeros)


def amax(input, dim=(), keepdim=False):
    return _value_reduce("amax", "amax", input, dim, keepdim)


def amin(input, dim=(), keepdim=False):
    return _value_reduce("amin", "amin", input, dim, keepdim)


def aminmax(input, *, dim=None, keepdim=False):
    return return_types.aminmax(_value_reduce("aminmax", "amin", input, dim, keepdim),
                                _value_reduce("aminmax", "amax", input, dim, keepdim))


def _arg_dim(name, prim, input, d, keepdim):
    """(values, indices) of the max/min along d: the first one on ties, NaN wins."""
    x, be = input._data, input._be
    _nonempty(name, x, (d,))
    idx = getattr(be, prim)(x, axis=d, keepdims=True)
    vals = be.take_along_axis(x, idx, d)
    return _Selected.apply(input, vals, idx, d, not keepdim)


def _max_min(name, prim, arg, binary, input, dim, keepdim, other):
    if isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        return binary(input, other)
    if dim is None:
        return _value_reduce(name, prim, input, None, False, True)
    rt = getattr(return_types, name)
    if input._data.ndim == 0:
        _wrap_dim(dim, 0)
        return rt(*_scalar_case(lambda t, d: _arg_dim(name, arg, t, d, False), input))
    d = _wrap_dim(dim, input._data.ndim)
    return rt(*_arg_dim(name, arg, input, d, keepdim))


def max(input, dim=None, keepdim=False, *, other=None):
    """max(input) -> value; max(input, dim, keepdim) -> (values, indices);
    max(input, other) -> maximum(input, other)."""
    return _max_min("max", "amax", "argmax", _maximum, input, dim, keepdim, other)


def min(input, dim=None, keepdim=False, *, other=None):
    return _max_min("min", "amin", "argmin", _minimum, input, dim, keepdim, other)


def _argext(name, prim, input, dim, keepdim):
    x, be = input._data, input._be
    _no_bool(input, f"{name}(): does not support bool input", RuntimeError)
    if dim is None:
        if x.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                             "input.numel() == 0.")
        r = getattr(be, prim)(be.reshape(x, (-1,)), axis=0)
        if keepdim:
            r = be.reshape(r, (1,) * x.ndim)
    elif x.ndim == 0:
        _wrap_dim(dim, 0)
        r = be.full((), 0, _I64)
    else:
        d = _wrap_dim(dim, x.ndim)
        _nonempty(name, x, (d,))
        r = getattr(be, prim)(x, axis=d, keepdims=keepdim)
    r = _make(r)
    return r if r._data.dtype == _I64 else _make(be.astype(r._data, _I64))


def argmax(input, dim=None, keepdim=False):
    return _argext("argmax", "argmax", input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _argext("argmin", "argmin", input, dim, keepdim)


# ---------------------------------------------------------------- var / std
def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


class Var(Function):
    @staticmethod
    def forward(ctx, a, axes, correction, keepdim, full=False):
        x, be = a._data, a._be
        if _CAT[x.dtype] < 2:
            raise RuntimeError("std and var only support floating point and complex dtypes")
        low = x.dtype in _LOW
        if low:
            x = be.astype(x, _F32)
        n = _numel(x.shape, axes)
        ctx.save_for_backward(a)
        ctx.axes, ctx.keepdim, ctx.dof, ctx.full = axes, keepdim, n - correction, full
        with np.errstate(divide="ignore", invalid="ignore"):
            m = be.divide(be.sum(x, axis=axes, keepdims=True), n)
            dev = be.subtract(x, m)
            r = be.divide(be.sum(be.multiply(dev, dev), axis=axes, keepdims=keepdim),
                          builtins.max(0, n - correction))
        return be.astype(r, a._data.dtype) if low else r

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        axes, dof = ctx.axes, ctx.dof
        dev = a - mean(a, axes, keepdim=True)
        g = _keep(g, axes, ctx.keepdim)
        # PyTorch's rules where the degrees of freedom are not positive: over all elements
        # (no dim, or a 0-d input) inf, or nan where the deviation is 0; with a dim the
        # usual formula, with 2 / dof negative (or inf when dof is 0)
        if dof <= 0 and ctx.full:
            return g * _where(dev == 0, math.nan, _INF), None, None, None, None
        scale = 2.0 / dof if dof else _INF
        return g * scale * dev, None, None, None, None


class _StdFromVar(Function):
    """sqrt of a variance; the gradient is 0 where the std is 0 (as PyTorch's std)."""
    _save_output = True

    @staticmethod
    def forward(ctx, v):
        return v._be.sqrt(v._data)

    @staticmethod
    def backward(ctx, g):
        out = ctx.output
        zero = out == 0
        return _where(zero, 0.0, g / (_where(zero, 1.0, out) * 2))


def _var_args(dim, unbiased, correction):
    if isinstance(dim, bool):          # var(input, unbiased)
        dim, unbiased = None, dim
    return dim, _correction(unbiased, correction)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, c = _var_args(dim, unbiased, correction)
    nd = input._data.ndim
    return Var.apply(input, _axes(dim, nd), c, keepdim, dim is None or nd == 0)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if input._data.dtype in _LOW:   # the root of the float32 variance, rounded once
        v = var(input.float(), dim, unbiased, keepdim, correction=correction)
        return _StdFromVar.apply(v).to(input.dtype)
    return _StdFromVar.apply(var(input, dim, unbiased, keepdim, correction=correction))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    v = var(input, dim, unbiased, keepdim, correction=correction)
    dim, _ = _var_args(dim, unbiased, correction)
    return v, mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    s = std(input, dim, unbiased, keepdim, correction=correction)
    dim, _ = _var_args(dim, unbiased, correction)
    return s, mean(input, dim, keepdim)


# ---------------------------------------------------------------- logsumexp
class LogSumExp(Function):
    _save_output = True

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        x, be = a._data, a._be
        if x.dtype in _LOW:
            x = be.astype(x, _F32)
        elif _CAT[x.dtype] < 2:
            x = be.astype(x, _default_float())
        ctx.axes, ctx.keepdim = axes, keepdim
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if x.size == 0:
                r = be.log(be.sum(be.exp(x), axis=axes, keepdims=keepdim))
            else:
                # subtract the max for stability; an infinite max is replaced by 0
                m = be.amax(x, axis=axes, keepdims=True)
                m = be.where(be.isfinite(m), m, 0)
                s = be.sum(be.exp(be.subtract(x, m)), axis=axes, keepdims=True)
                r = be.add(be.log(s), m)
                if not keepdim and axes:
                    r = be.reshape(r, tuple(n for i, n in enumerate(r.shape) if i not in axes))
        out_dt = a._data.dtype if a._data.dtype in _LOW else x.dtype
        return be.astype(r, out_dt) if r.dtype != out_dt else r

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        out = _keep(ctx.output, ctx.axes, ctx.keepdim)
        return _keep(g, ctx.axes, ctx.keepdim) * _exp(a - out), None, None


def logsumexp(input, dim, keepdim=False):
    return LogSumExp.apply(input, _axes(dim, input._data.ndim), keepdim)


# ---------------------------------------------------------------- cumulative ops
def _flip_index(d):
    return (slice(None),) * d + (slice(None, None, -1),)


class CumSum(Function):
    @staticmethod
    def forward(ctx, a, d, dtype, reverse=False):
        x, be = a._data, a._be
        ctx.d, ctx.reverse = d, reverse
        out_dt = _acc_dtype(x, dtype)
        acc = _F32 if out_dt in _LOW else out_dt
        if x.dtype != acc:
            x = be.astype(x, acc)
        if x.ndim == 0:
            r = be.copy(x)
        elif reverse:      # sum from the end: cumsum of the flipped view, flipped back
            f = _flip_index(d)
            r = be.getitem(be.cumsum(be.getitem(x, f), d), f)
        else:
            r = be.cumsum(x, d)
        if acc != out_dt:
            r = be.astype(r, out_dt)
        # C-contiguous as PyTorch's, whatever the input's layout (a 0-d result is a copy)
        return be.ascontiguousarray(r) if r.ndim else r

    @staticmethod
    def backward(ctx, g):
        # the adjoint of a cumulative sum is the cumulative sum from the other end
        return CumSum.apply(g, ctx.d, None, not ctx.reverse), None, None, None


def _rev_cumsum(t, d):
    return CumSum.apply(t, d, None, True)


def cumsum(input, dim, *, dtype=None, out=None):
    _check_grad_dtype(input, dtype)
    r = CumSum.apply(input, _wrap_dim(dim, input._data.ndim), dtype, False)
    if out is not None:
        return write_out(r, out)
    return r


class CumProd(Function):
    _save_output = True

    @staticmethod
    def forward(ctx, a, d, dtype):
        x, be = a._data, a._be
        ctx.d = d
        ctx.save_for_backward(a)
        out_dt = _acc_dtype(x, dtype)
        acc = _F32 if out_dt in _LOW else out_dt
        if x.dtype != acc:
            x = be.astype(x, acc)
        r = be.copy(x) if x.ndim == 0 else be.cumprod(x, d)
        if acc != out_dt:
            r = be.astype(r, out_dt)
        # C-contiguous as PyTorch's, whatever the input's layout (a 0-d result is a copy)
        return be.ascontiguousarray(r) if r.ndim else r

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        out, d = ctx.output, ctx.d
        if a._data.ndim == 0:
            return g, None, None
        z = a == 0
        if not builtins.bool(z.any()):
            return _rev_cumsum(g * out, d) / a, None, None
        if _grad_state.grad_enabled:      # create_graph: a formula that differentiates right
            return _cumprod_backward_quadratic(a, g, d), None, None
        # Zeros: before a line's first zero k the gradient is the usual one (out is 0 from
        # k on); at k it is sum_{j>=k} g_j * prod_{l<=j, l!=k} a_l; after k it is 0.
        cz = CumSum.apply(z, d, None, False)
        first = z & (cz == 1)
        safe = _where(z, 1.0, a)
        before = _where(cz == 0, _rev_cumsum(g * out, d) / safe, 0.0)
        q = CumProd.apply(_where(first, 1.0, a), d, None)
        at = _where(first, _rev_cumsum(g * q, d), 0.0)
        return before + at, None, None


def _cumprod_backward_quadratic(a, g, d):
    """grad_i = sum_{j >= i} g_j * prod_{l <= j, l != i} a_l, from an (n, n) matrix per
    line: O(n^2), used only to build second derivatives of an input with zeros."""
    be, n = a._be, a._data.shape[d]
    a_, g_ = a.movedim(d, -1), g.movedim(d, -1)
    ar = be.arange(0, n, 1, _I64)
    col, row = be.reshape(ar, (1, n)), be.reshape(ar, (n, 1))
    eye = _make(be.equal(row, col))
    upper = _make(be.greater_equal(col, row))        # [i, j]: j >= i
    rows = _where(eye, 1.0, a_.unsqueeze(-2))          # [.., i, l]: a_l, 1 at l = i
    z = CumProd.apply(rows, a_._data.ndim, None)       # prod_{l <= j, l != i} a_l
    gi = (z * _where(upper, g_.unsqueeze(-2), 0.0)).sum(-1)
    return gi.movedim(-1, d)


def cumprod(input, dim, *, dtype=None, out=None):
    _check_grad_dtype(input, dtype)
    r = CumProd.apply(input, _wrap_dim(dim, input._data.ndim), dtype)
    if out is not None:
        return write_out(r, out)
    return r


# ---------------------------------------------------------------- norms
def _cast_back(r, a, low):
    return a._be.astype(r, a._data.dtype) if low else r


class VectorNorm(Function):
    _save_output = True

    @staticmethod
    def forward(ctx, a, ord, axes, keepdim):
        x, be = a._data, a._be
        low = x.dtype in _LOW
        if low:
            x = be.astype(x, _F32)
        ctx.ord, ctx.axes, ctx.keepdim = ord, axes, keepdim
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if ord == 2:
                return _cast_back(be.sqrt(be.sum(be.multiply(x, x), axis=axes,
                                                 keepdims=keepdim)), a, low)
            ax = be.absolute(x)
            if ord == 1:
                r = be.sum(ax, axis=axes, keepdims=keepdim)
            elif ord == _INF:
                r = be.amax(ax, axis=axes, keepdims=keepdim)
            elif ord == -_INF:
                r = be.amin(ax, axis=axes, keepdims=keepdim)
            elif ord == 0:
                r = be.sum(be.not_equal(ax, 0), axis=axes, dtype=x.dtype, keepdims=keepdim)
            else:
                s = be.sum(be.power(ax, ord), axis=axes, keepdims=keepdim)
                r = be.power(s, 1.0 / ord)
        return _cast_back(r, a, low)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        ord, axes, keepdim = ctx.ord, ctx.axes, ctx.keepdim
        out, g = _keep(ctx.output, axes, keepdim), _keep(g, axes, keepdim)
        if ord == 2:       # a / norm, and 0 where the norm is 0 (then a is 0 too)
            return g * a / _where(out == 0, 1.0, out), None, None, None
        if ord == 1:
            return g * _sign(a), None, None, None
        if ord == _INF or ord == -_INF:
            ab = _abs(a)
            mask = (ab == out) | _isnan(ab)
            return _sign(a) * (mask * (g / mask.sum(axes, keepdim=True))), None, None, None
        if ord == 0:
            return (g * 0).expand(a.shape), None, None, None
        if ord < 1:     # as PyTorch: 0 at zero entries, where |a|^(ord-1) is infinite
            z = a == 0
            scaled = _where(z, 0.0, _sign(a) * _abs(_where(z, 1.0, a)) ** (ord - 1))
            return scaled * g * out ** (1 - ord), None, None, None
        safe = _where(out == 0, 1.0, out)
        return g * _sign(a) * (_abs(a) / safe) ** (ord - 1), None, None, None


def _widen(name, x, dtype):
    """x cast to the ``dtype=`` of a norm, which may only widen its dtype."""
    d = _dt.to_dtype(dtype)
    if _dt.promote_types(x.dtype, d) != d:
        raise RuntimeError(f"{name}: the dtype of the input ({x.dtype.scalar_name}) should be "
                           f"convertible without narrowing to the specified dtype "
                           f"({d.scalar_name})")
    return x.to(d)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: Expected a number as ord, got '{ord}'")
    _float_only("linalg.vector_norm", x)
    if dtype is not None:
        x = _widen("linalg.vector_norm", x, dtype)
    nd = x._data.ndim
    axes = _axes(dim, nd)
    if x._data.size == 0 and (ord < 0 or ord == _INF):     # no identity to start from
        if dim is None:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an "
                               "empty tensor because the operation does not have an identity")
        _nonempty("linalg.vector_norm", x._data, axes)
    return VectorNorm.apply(x, float(ord), axes, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    nd = A._data.ndim
    if nd < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                           f"dimensions, got {nd}.")
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{' '.join(str(d) for d in dim)}")
    d0, d1 = (_wrap_dim(d, nd) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({d0}, {d1})")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim, dtype=dtype)
    if ord in (1, -1, _INF, -_INF):
        _float_only("linalg.matrix_norm", A)
        if dtype is not None:
            A = _widen("linalg.matrix_norm", A, dtype)
        if ord in (_INF, -_INF):      # max row sum: the 1-norm with the dims swapped
            d0, d1 = d1, d0
        r = _abs(A).sum(d0, keepdim=True)
        r = amax(r, d1, keepdim=True) if ord > 0 else amin(r, d1, keepdim=True)
        if keepdim:
            return r
        return r.reshape([n for i, n in enumerate(r.shape) if i != d0 and i != d1])
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} needs singular values, "
                                  "which genesis does not compute yet")
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """genesis.linalg.norm: a vector norm for one dim (or a 1-D input), a matrix norm for
    two dims (or a 2-D input)."""
    if dim is not None:
        dim = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(A, "fro", dim, keepdim, dtype=dtype)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        nd = A._data.ndim
        if nd not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input "
                               f"must be 1D or 2D. Got {nd}D.")
        dim = (0,) if nd == 1 else (0, 1)
    if len(dim) == 1:
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    if len(dim) == 2:
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                       f"Got {list(dim)}")


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm: numbers give vector norms over dim (all elements by default); 'fro' is
    the 2-norm over dim; 'nuc' is a matrix norm."""
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, (int, np.integer)) or len(dim) <= 2):
            return vector_norm(input, 2, dim, keepdim, dtype=dtype)
        return matrix_norm(input, p, tuple(range(input._data.ndim)) if dim is None else dim,
                           keepdim, dtype=dtype)
    return vector_norm(input, 2.0 if p is None else p, dim, keepdim, dtype=dtype)


# ---------------------------------------------------------------- all / any / count
def _logical_reduce(prim, input, dim, keepdim):
    x, be = input._data, input._be
    r = getattr(be, prim)(x, axis=_axes(dim, x.ndim), keepdims=keepdim)
    if x.dtype == np.uint8:           # as PyTorch: uint8 in, uint8 out
        r = be.astype(r, np.uint8)
    return _make(r)


def all(input, dim=None, keepdim=False):
    return _logical_reduce("all", input, dim, keepdim)


def any(input, dim=None, keepdim=False):
    return _logical_reduce("any", input, dim, keepdim)


def count_nonzero(input, dim=None):
    x, be = input._data, input._be
    return _make(be.sum(be.not_equal(x, 0), axis=_axes(dim, x.ndim), dtype=_I64))


# ---------------------------------------------------------------- sort / topk / unique
def _sort_dim(input, d, descending):
    vals, idx = input._be.sort(input._data, d, descending, True)
    return _Selected.apply(input, vals, idx, d, False)


def sort(input, dim=-1, descending=False, stable=False):
    """Always stable (equal elements keep their order); NaN sorts as the largest."""
    if input._data.ndim == 0:
        _wrap_dim(dim, 0)
        return return_types.sort(*_scalar_case(_sort_dim, input, descending))
    return return_types.sort(*_sort_dim(input, _wrap_dim(dim, input._data.ndim), descending))


def argsort(input, dim=-1, descending=False, stable=False):
    x, be = input._data, input._be
    d = _wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        return _make(be.full((), 0, _I64))
    return _make(be.sort(x, d, descending, True)[1])


def _topk_dim(input, d, k, largest):
    x, be = input._data, input._be
    vals, idx = be.sort(x, d, largest, True)
    first_k = (slice(None),) * d + (slice(0, k),)
    return _Selected.apply(input, be.getitem(vals, first_k), be.getitem(idx, first_k), d,
                           False)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (smallest) along dim, always in sorted order; first ones on ties."""
    x = input._data
    d = _wrap_dim(dim, x.ndim)
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range (k={k}, size of dim {d} is {n})")
    _no_bool(input, "topk does not support bool dtypes on CPU", RuntimeError)
    if x.ndim == 0:
        return return_types.topk(*_scalar_case(_topk_dim, input, k, largest))
    return return_types.topk(*_topk_dim(input, d, k, largest))


class _Unique(Function):
    """The unique values, computed by the caller: they require grad when the input does
    (as PyTorch's), but have no derivative."""

    @staticmethod
    def forward(ctx, a, vals, name):
        ctx.name = name
        return vals

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError(f"the derivative for '{ctx.name}' is not implemented.")


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Unique elements (or slices along dim), always sorted; not differentiable."""
    x, be = input._data, input._be
    axis = None if dim is None else _wrap_dim(dim, x.ndim)
    res = be.unique(x, True, return_inverse, return_counts, axis)
    name = "_unique2" if axis is None else "unique_dim"
    if not isinstance(res, tuple):
        return _Unique.apply(input, res, name)
    out = [_Unique.apply(input, res[0], name)]
    if return_inverse:
        inv = res[1]
        shape = x.shape if axis is None else (x.shape[axis],)
        out.append(_make(be.astype(be.reshape(inv, shape), _I64)))
    if return_counts:
        out.append(_make(be.astype(res[-1], _I64)))
    return tuple(out)


# ---------------------------------------------------------------- median / kthvalue
def _pick_sorted(input, d, pos_of, keepdim):
    """Sort along d and pick, per line, the sorted position pos_of(n, nan_count)."""
    x, be = input._data, input._be
    vals, idx = be.sort(x, d, False, True)
    n = x.shape[d]
    if _CAT[x.dtype] == 2:
        nans = be.sum(be.isnan(x), axis=d, keepdims=True, dtype=_I64)
    else:
        nans = be.full(x.shape[:d] + (1,) + x.shape[d + 1:], 0, _I64)
    pos = pos_of(be, n, nans)
    return _Selected.apply(input, be.take_along_axis(vals, pos, d),
                           be.take_along_axis(idx, pos, d), d, not keepdim)


def _median_pos(be, n, nans):      # the lower median; a line with NaN gives its first NaN
    return be.where(be.greater(nans, 0), be.subtract(n, nans), (n - 1) // 2)


def _nanmedian_pos(be, n, nans):   # the lower median of the non-NaN values
    return be.floor_divide(be.maximum(be.subtract(n - 1, nans), 0), 2)


def _median(name, pos_of, input, dim, keepdim):
    x = input._data
    if dim is None:
        if x.size == 0:
            if input._requires_grad:    # still part of the graph (zero gradient), as torch
                return input.sum() * math.nan
            return _make(input._be.full((), math.nan, x.dtype))
        _no_bool(input, "\"median_cpu\" not implemented for 'Bool'")
        flat = _make(input._be.reshape(x, (-1,)))     # outside the graph: _TieSplit is
        v, _ = _pick_sorted(flat, 0, pos_of, False)  # the node
        return _TieSplit.apply(input, v._data, _axes(None, x.ndim), False, True)
    rt = getattr(return_types, name)
    if x.ndim == 0:
        _wrap_dim(dim, 0)
        _no_bool(input, "\"median_out\" not implemented for 'Bool'")
        return rt(*_scalar_case(lambda t, d: _pick_sorted(t, d, pos_of, False), input))
    d = _wrap_dim(dim, x.ndim)
    _nonempty(name, x, (d,))
    _no_bool(input, "\"median_out\" not implemented for 'Bool'")
    return rt(*_pick_sorted(input, d, pos_of, keepdim))


def median(input, dim=None, keepdim=False):
    """median(input) -> the lower median (NaN if any); with dim -> (values, indices)."""
    return _median("median", _median_pos, input, dim, keepdim)


def nanmedian(input, dim=None, keepdim=False):
    return _median("nanmedian", _nanmedian_pos, input, dim, keepdim)


def kthvalue(input, k, dim=-1, keepdim=False):
    x = input._data
    d = _wrap_dim(dim, x.ndim)
    n = x.shape[d] if x.ndim else 1
    _nonempty("kthvalue", x, (d,) if x.ndim else ())
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")

    def pos_of(be, n, nans):
        return be.full(nans.shape, k - 1, _I64)
    if x.ndim == 0:
        return return_types.kthvalue(*_scalar_case(
            lambda t, d: _pick_sorted(t, d, pos_of, False), input))
    _no_bool(input, "\"kthvalue_cpu\" not implemented for 'Bool'")
    return return_types.kthvalue(*_pick_sorted(input, d, pos_of, keepdim))


# ---------------------------------------------------------------- sum_to_size
def sum_to_size(input, *size):
    """Sum ``input`` down to ``size``, which it must broadcast from (undoing a broadcast)."""
    from .common import shape_arg
    size = shape_arg(size)
    shp = input._data.shape
    if shp == size:
        return input
    lead = len(shp) - len(size)
    if lead < 0 or builtins.any(s != 1 and s != shp[lead + i] for i, s in enumerate(size)):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shp)}}}.")
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and shp[lead + i] != 1)
    out = Sum.apply(input, axes, True, None)
    if lead:
        out = out.reshape(size)
    return out


TENSOR_METHODS = {
    "sum": sum, "mean": mean, "nansum": nansum, "nanmean": nanmean, "prod": prod,
    "max": max, "min": min, "amax": amax, "amin": amin, "aminmax": aminmax,
    "argmax": argmax, "argmin": argmin, "var": var, "std": std, "logsumexp": logsumexp,
    "cumsum": cumsum, "cumprod": cumprod, "norm": norm, "all": all, "any": any,
    "count_nonzero": count_nonzero, "sort": sort, "argsort": argsort, "topk": topk,
    "unique": unique, "median": median, "nanmedian": nanmedian, "kthvalue": kthvalue,
    "sum_to_size": sum_to_size,
    "cumsum_": lambda self, dim, *, dtype=None: _inplace(self, cumsum, dim, dtype=dtype),
    "cumprod_": lambda self, dim, *, dtype=None: _inplace(self, cumprod, dim, dtype=dtype),
}


from ..autocast_state import wrap_autocast  # noqa: E402
wrap_autocast(globals(), TENSOR_METHODS)   # autocast policies (genesis/autocast_state.py)
