"""Dropout ops (torch.nn.functional names): dropout, dropout1d/2d/3d, alpha_dropout,
feature_alpha_dropout.

Each is one fused op: a mask drawn from genesis's default generator (through the backend's
``uniform`` primitive), y = x * mask (+ shift for alpha dropout), and a backward of one
multiply by the saved mask."""
import math
import warnings

from ..autograd.function import Function
from ..random import _gen
from ..tensor import _make
from .common import LOW_FLOAT_NP as _LOW, F32 as _F32, FLOAT_NP as _FLOAT, check_inplace, \
    commit_inplace, snapshot

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout"]

_ALPHA = 1.7580993408473766       # SELU's -scale * alpha, the value alpha dropout drops to


class _Masked(Function):
    """x * mask + shift (shift None for plain dropout); mask and shift broadcast to x."""

    @staticmethod
    def forward(ctx, x, mask, shift):
        be = x._be
        y = be.multiply(x._data, mask)
        if shift is not None:
            y += shift
        if ctx.needs_input_grad:
            ctx.mask = mask
        return y

    @staticmethod
    def backward(ctx, g):
        return g * _make(ctx.mask), None, None


class _Dropout(Function):
    """Plain dropout by the backend's fused primitive (CUDA): the mask drawn in-kernel and
    kept as bools, backward one masked multiply."""

    @staticmethod
    def forward(ctx, x, p):
        be = x._be
        y, keep = be.dropout_fwd(x._data, p, _gen(None, be, x))
        if ctx.needs_input_grad:
            ctx.keep, ctx.p = keep, p
        return y

    @staticmethod
    def backward(ctx, g):
        return _MaskScale.apply(g, ctx.keep, ctx.p), None


class _MaskScale(Function):
    """g * keep / (1 - p), fused; linear in g, so its backward is itself."""

    @staticmethod
    def forward(ctx, g, keep, p):
        ctx.keep, ctx.p = keep, p
        return g._be.dropout_bwd(g._data, keep, p)

    @staticmethod
    def backward(ctx, gg):
        return _MaskScale.apply(gg, ctx.keep, ctx.p), None, None


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(x, p, shape):
    """A mask of x's dtype and the given shape: 1 with probability 1 - p, else 0."""
    be = x._be
    dt = x._data.dtype
    u = be.uniform(_gen(None, be, x), shape, 0.0, 1.0, _F32 if dt in _LOW else dt)
    keep = be.greater_equal(u, p)
    return be.astype(keep, dt)


def _apply(input, p, training, inplace, shape, alpha):
    if p == 0 or not training or input.numel() == 0:
        return input
    be = input._be
    dt = input._data.dtype
    if p == 1:
        mask, shift = be.full((), 0, dt), None
        if alpha:                         # PyTorch multiplies by zero for alpha dropout too
            alpha = False
    elif (not alpha and shape == input._data.shape and dt in _FLOAT
          and getattr(be, "dropout_fwd", None) is not None):
        if not inplace:
            return _Dropout.apply(input, p)
        if check_inplace(input):
            return commit_inplace(input, _Dropout.apply(snapshot(input), p))
        be.copyto(input._data, be.dropout_fwd(input._data, p, _gen(None, be, input))[0])
        input._bump_version()
        return input
    else:
        mask = _keep_mask(input, p, shape)
        shift = None
        if alpha:
            a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
            # dropped values become -alpha', then the affine map a * y + b keeps mean/var
            shift = be.multiply(be.subtract(mask, 1), _ALPHA * a)
            be.add(shift, _ALPHA * a * p, out=shift)
            be.multiply(mask, a, out=mask)
        else:
            be.multiply(mask, 1.0 / (1.0 - p), out=mask)   # ufunc out=: any backend
    if inplace:
        if check_inplace(input):
            return commit_inplace(input, _Masked.apply(snapshot(input), mask, shift))
        be.multiply(input._data, mask, out=input._data)
        if shift is not None:
            be.add(input._data, shift, out=input._data)
        input._bump_version()
        return input
    return _Masked.apply(input, mask, shift)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p)."""
    _check_p(p)
    return _apply(input, p, training, inplace, input._data.shape, False)


def _feature_shape(input):
    # one draw per (sample, channel): the spatial dims broadcast
    s = input._data.shape
    return s[:2] + (1,) * (len(s) - 2)


def _feature(name, input, p, training, inplace, spatial, alpha=False):
    _check_p(p)
    d = input.dim()
    batched = d == spatial + 2
    if spatial == 1 and d not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {d}D input. "
                           "Note that dropout1d exists to provide channel-wise dropout on "
                           "inputs with 1 spatial dimension, a channel dimension, and an "
                           "optional batch dimension (i.e. 2D or 3D inputs).")
    if spatial == 2 and d == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.")
        batched = True
    elif spatial > 1 and d not in (spatial + 1, spatial + 2):
        warnings.warn(f"{name}: Received a {d}-D input to {name}, which is deprecated and "
                      f"will result in an error in a future release. To retain the behavior "
                      f"and silence this warning, please use dropout instead. Note that "
                      f"{name} exists to provide channel-wise dropout on inputs with "
                      f"{spatial} spatial dimensions, a channel dimension, and an optional "
                      f"batch dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).")
        batched = True
    s = input._data.shape
    if batched:
        shape = _feature_shape(input)
    else:            # unbatched (C, *spatial): one draw per channel
        shape = s[:1] + (1,) * (len(s) - 1)
    return _apply(input, p, training, inplace, shape, alpha)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input with probability p."""
    return _feature("dropout1d", input, p, training, inplace, 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) or (C, H, W) input with probability p."""
    return _feature("dropout2d", input, p, training, inplace, 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p."""
    return _feature("dropout3d", input, p, training, inplace, 3)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped values are set to SELU's negative saturation and
    an affine map keeps zero mean and unit variance."""
    _check_p(p)
    return _apply(input, p, training, inplace, input._data.shape, True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout of whole channels (dims 0 and 1 drawn, the rest broadcast)."""
    _check_p(p)
    # torch returns early (p 0 or 1, eval, empty) before its two-dims check
    if input.dim() < 2 and 0 < p < 1 and training and input.numel():
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _apply(input, p, training, inplace, _feature_shape(input), True)
