"""Neural-network ops fused on purpose (DESIGN: fuse where users feel it): softmax and
log_softmax, each forward a few in-place NumPy passes and each backward one op."""
from ..autograd.function import Function
from .. import dtypes as _dt
from .common import wrap_dim, FLOAT_NP, LOW_FLOAT_NP as _LOW, F32 as _F32

__all__ = ["softmax", "log_softmax"]



def _prepare(a, dim, dtype, log):
    """The input array in the dtype to compute in (float32 for float16/bfloat16, as
    PyTorch accumulates), the result dtype, and the axis."""
    x = a._data
    if dtype is not None:
        x = a._be.astype(x, _dt.to_dtype(dtype).np)
    elif x.dtype not in FLOAT_NP:     # as torch: no integer kernel (pass dtype= instead)
        raise NotImplementedError(f'"{"log_softmax" if log else "softmax"}_lastdim_kernel_impl"'
                                  f" not implemented for '{_dt.SCALAR_NAMES[a.dtype]}'")
    out_dt = x.dtype
    if out_dt in _LOW:
        x = a._be.astype(x, _F32)
    return x, out_dt, wrap_dim(dim, x.ndim)


def _normalized(ctx, a, dim, dtype, log):
    """softmax (or log_softmax) of a over dim: x - max, then exp and divide by the sum
    (or subtract the log of the sum), in place where NumPy allows."""
    be = a._be
    fused = getattr(be, "softmax_fwd", None)
    if fused is not None and a.ndim and wrap_dim(dim, a.ndim) == a.ndim - 1:
        # one kernel over the last axis (float32 math for low precision, rounded once)
        x = a._data if dtype is None else be.astype(a._data, _dt.to_dtype(dtype).np)
        if x.dtype in FLOAT_NP:
            ctx.axis = a.ndim - 1
            return fused(x, log)
    x, out_dt, ax = _prepare(a, dim, dtype, log)
    ctx.axis = ax
    if x.ndim == 0:
        return be.full((), 0 if log else 1, out_dt)
    if x.size == 0:     # nothing to normalize (NumPy's max over an empty axis raises)
        return be.empty(x.shape, out_dt)
    # a C-contiguous result whatever x's layout, as torch's (so that .view() works)
    z = be.subtract(x, be.amax(x, axis=ax, keepdims=True), out=be.empty(x.shape, x.dtype))
    if log:
        z = be.subtract(z, be.log(be.sum(be.exp(z), axis=ax, keepdims=True)), out=z)
    else:
        be.exp(z, out=z)
        be.divide(z, be.sum(z, axis=ax, keepdims=True), out=z)
    return z if z.dtype == out_dt else be.astype(z, out_dt)


class Softmax(Function):
    _save_output = True

    @staticmethod
    def forward(ctx, a, dim, dtype):
        return _normalized(ctx, a, dim, dtype, log=False)

    @staticmethod
    def backward(ctx, g):
        return SoftmaxBackward.apply(g, ctx.output, ctx.axis), None, None


class SoftmaxBackward(Function):
    """y * (g - sum(g * y)) over the softmax axis; differentiable again."""

    @staticmethod
    def forward(ctx, g, y, ax):
        if ctx.needs_input_grad:
            ctx.save_for_backward(g, y)
        ctx.axis = ax
        be = g._be
        fused = getattr(be, "softmax_bwd", None)
        if fused is not None and y.ndim and ax == y.ndim - 1 and \
                g._data.dtype == y._data.dtype:
            return fused(g._data, y._data, False)
        gy = be.multiply(g._data, y._data)
        if gy.ndim == 0:
            return be.multiply(gy, 0)
        s = be.sum(gy, axis=ax, keepdims=True)
        gy -= be.multiply(y._data, s)
        return gy

    @staticmethod
    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        ax = ctx.axis
        s = (g * y).sum(ax, keepdim=True)
        t = (gg * y).sum(ax, keepdim=True)
        return y * gg - y * t, (g - s) * gg - g * t, None


class LogSoftmax(Function):
    _save_output = True

    @staticmethod
    def forward(ctx, a, dim, dtype):
        return _normalized(ctx, a, dim, dtype, log=True)

    @staticmethod
    def backward(ctx, g):
        return LogSoftmaxBackward.apply(g, ctx.output, ctx.axis), None, None


class LogSoftmaxBackward(Function):
    """g - exp(y) * sum(g) over the axis; differentiable again."""

    @staticmethod
    def forward(ctx, g, y, ax):
        if ctx.needs_input_grad:
            ctx.save_for_backward(g, y)
        ctx.axis = ax
        be = g._be
        fused = getattr(be, "softmax_bwd", None)
        if fused is not None and y.ndim and ax == y.ndim - 1 and \
                g._data.dtype == y._data.dtype:
            return fused(g._data, y._data, True)
        if g._data.ndim == 0:
            return be.multiply(g._data, 0)
        p = be.exp(y._data)
        p *= be.sum(g._data, axis=ax, keepdims=True)
        return be.subtract(g._data, p)

    @staticmethod
    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        ax = ctx.axis
        p = y.exp()
        s = g.sum(ax, keepdim=True)
        t = (gg * p).sum(ax, keepdim=True)
        return gg - t, -(gg * p) * s, None


def _dim_arg(name, input, dim, _stacklevel=None):
    if dim is None:
        # PyTorch's legacy implicit dim: 0 for 0-, 1- and 3-D input, else 1
        return 0 if input.ndim in (0, 1, 3) else 1
    return dim


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return Softmax.apply(input, _dim_arg("softmax", input, dim), dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return LogSoftmax.apply(input, _dim_arg("log_softmax", input, dim), dtype)


TENSOR_METHODS = {"softmax": softmax, "log_softmax": log_softmax}


from ..autocast_state import wrap_autocast  # noqa: E402
wrap_autocast(globals(), TENSOR_METHODS)   # autocast policies (genesis/autocast_state.py)
