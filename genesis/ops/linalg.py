"""Linear algebra: matmul (with batch broadcasting), mm, bmm, mv, dot, outer, einsum,
addmm, baddbmm, vector_norm lives in reduce."""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor, _make
from .common import pair, be_of, CAT
from .. import dtypes as _dt

_LOW = {np.dtype(np.float16), _dt.bfloat16.np}


def _mm(be, x, y):
    """Backend matmul; low-precision floats compute in float32 and round the result."""
    if x.dtype in _LOW:
        return be.matmul(be.astype(x, np.float32), be.astype(y, np.float32)).astype(x.dtype)
    return be.matmul(x, y)


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        x, y = pair(a, b)
        if x.ndim == 0 or y.ndim == 0:
            raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                               f"{x.ndim}D and {y.ndim}D")
        kx = x.shape[-1]
        ky = y.shape[-2] if y.ndim > 1 else y.shape[0]
        if kx != ky:
            if x.ndim <= 2 and y.ndim <= 2:
                raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                                   f"({_rows(x)}x{x.shape[-1]} and {ky}x{_cols(y)})")
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                               f"{list(x.shape)} @ {list(y.shape)}: the inner sizes {kx} and "
                               f"{ky} differ")
        ctx.save_for_backward(a if ctx.needs_input_grad[1:2] == (True,) else None,
                              b if ctx.needs_input_grad[:1] == (True,) else None)
        ctx.nd = (x.ndim, y.ndim)
        be = be_of(a, b)
        nd = x.ndim
        if nd >= 3 and y.ndim == 2 and x.flags.c_contiguous:
            # one large 2-D matmul beats a stack of small ones
            return _mm(be, x.reshape(-1, kx), y).reshape(x.shape[:-1] + (y.shape[1],))
        try:
            return _mm(be, x, y)
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions of {list(x.shape)} and "
                               f"{list(y.shape)} cannot be broadcast") from None

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        an, bn = ctx.nd
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if bn == 1:      # out[..., m] = a[..., m, :] . b
                ga = g * b if an == 1 else g.unsqueeze(-1) * b
            elif an == 1:    # out[..., n] = a . b[..., :, n]
                ga = (b @ g.unsqueeze(-1)).squeeze(-1)
            else:
                ga = g @ b.mT
        if ctx.needs_input_grad[1]:
            if an == 1:
                gb = g * a if bn == 1 else a.unsqueeze(-1) * g.unsqueeze(-2)
            elif bn == 1:
                gb = g.unsqueeze(-1) * a
            elif an >= 3 and bn == 2:
                gb = a.reshape(-1, a.shape[-1]).mT @ g.reshape(-1, g.shape[-1])
            else:
                gb = a.mT @ g
        return ga, gb


def _rows(x):
    return x.shape[-2] if x.ndim > 1 else 1


def _cols(y):
    return y.shape[-1] if y.ndim > 1 else 1


def matmul(input, other, *, out=None):
    from .elementwise import _out
    return _out(MatMul.apply(input, other), out)


def mm(input, mat2, *, out=None):
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"self must be a matrix" if input.ndim != 2 else
                           "mat2 must be a matrix")
    return matmul(input, mat2, out=out)


def bmm(input, mat2, *, out=None):
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor" if input.ndim != 3 else
                           "batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{input.shape[0]} and {mat2.shape[0]}")
    return matmul(input, mat2, out=out)


TENSOR_METHODS = {"matmul": matmul, "mm": mm, "bmm": bmm, "__matmul__": matmul,
                  "__rmatmul__": lambda self, other: matmul(other, self)}
