"""F.linear and F.bilinear. linear flattens leading dimensions so that (B, T, D) inputs
run as one 2-D matmul (faster than a stacked 3-D matmul in NumPy)."""
import math

from ..autograd.function import Function
from .linalg import einsum
from .common import LOW_FLOAT_NP, F32

__all__ = ["linear", "bilinear"]


class _Linear(Function):
    """x @ w.T + b for x of any leading shape, in one 2-D matmul (and one for each
    gradient)."""

    @staticmethod
    def forward(ctx, x, w, b):
        if x.ndim == 0 or x.shape[-1] != w.shape[-1]:
            lead = "x".join(map(str, x.shape[:-1])) or "1"
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({lead}x"
                               f"{x.shape[-1] if x.ndim else 1} and {w.shape[1]}x{w.shape[0]})")
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        be = x._be
        xa = x._data
        # the row count spelled out: -1 is ambiguous when there are no features
        x2 = be.reshape(xa, (math.prod(xa.shape[:-1]), xa.shape[-1])) if xa.ndim != 2 else xa
        wt, low = be.transpose(w._data, (1, 0)), xa.dtype in LOW_FLOAT_NP
        if low:      # float16/bfloat16: float32 matmul and bias, rounded once (as torch)
            x2, wt = be.astype(x2, F32), be.astype(wt, F32)
        out = be.matmul(x2, wt)
        if b is not None:
            be.add(out, be.astype(b._data, F32) if low else b._data, out=out)
        if low:
            out = be.astype(out, xa.dtype)
        return be.reshape(out, xa.shape[:-1] + (w.shape[0],)) if xa.ndim != 2 else out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gx = gw = gb = None
        g2 = g.reshape(-1, g.shape[-1])
        if ctx.needs_input_grad[0]:
            gx = g.matmul(w)
        if ctx.needs_input_grad[1]:
            gw = g2.t().matmul(x.reshape(g2.shape[0], x.shape[-1]))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = g2.sum(0)
        return gx, gw, gb


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias."""
    if weight.dim() != 2 or input.dtype != weight.dtype or \
            (bias is not None and (bias.dtype != weight.dtype or bias.dim() > 1)):
        return _general_linear(input, weight, bias)
    return _Linear.apply(input, weight, bias)


def _general_linear(input, weight, bias):
    """Shapes and dtypes the fused path does not take: the composed form, which gives
    PyTorch's errors and promotion."""
    out = input.matmul(weight.t() if weight.dim() == 2 else weight)
    return out if bias is None else out + bias


def bilinear(input1, input2, weight, bias=None):
    """y_k = x1 @ W_k @ x2 + b_k over the last dimension."""
    out = einsum("...i,kij,...j->...k", input1, weight, input2)
    return out if bias is None else out + bias



from ..autocast_state import wrap_autocast  # noqa: E402
wrap_autocast(globals())   # autocast policies (genesis/autocast_state.py)
