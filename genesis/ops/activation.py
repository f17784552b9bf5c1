"""Activation functions, as torch.nn.functional's: one Function per activation whose
forward is a few NumPy passes through the backend and whose backward is written in
genesis ops (so it differentiates again). GELU and SiLU are fused further: their
backward is one op (a Function computing the input gradient in NumPy, differentiable
in its turn). float16/bfloat16 inputs compute in float32 and round the result, as
PyTorch's CPU kernels do."""
import math
import warnings

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .. import dtypes as _dt
from .common import FLOAT_NP, LOW_FLOAT_NP as _LOW, F32 as _F32, wrap_dim
# the in-place path (torch's leaf errors, the result written back); named so that the
# ``inplace`` flags of the functions do not shadow it
from .common import inplace as _inplace
from .elementwise import relu as _relu, tanh as _tanh, sigmoid as _sigmoid, where, erf
from .nn import softmax as _softmax, log_softmax as _log_softmax

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_",
    "celu", "celu_", "gelu", "silu", "mish", "softplus", "softsign", "tanh", "sigmoid",
    "hardtanh", "hardtanh_", "hardsigmoid", "hardswish", "logsigmoid", "prelu", "glu",
    "tanhshrink", "threshold", "threshold_", "hardshrink", "softshrink", "softmax",
    "log_softmax", "softmin",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT1_2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_TANH_K0 = math.sqrt(2 / math.pi)     # GELU's tanh approximation: tanh(k0 * (x + k1 x^3))
_TANH_K1 = 0.044715


def _float_input(a, kernel):
    """a's array in the dtype to compute in (float32 for float16/bfloat16; 0-d as 1-d,
    since NumPy's ufuncs give scalars, not arrays, for 0-d inputs) and the result dtype;
    NotImplementedError for integral and bool inputs, as torch has no kernel for them."""
    x = _compute_array(a)
    dt = a._data.dtype
    if dt not in FLOAT_NP:
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_dt.SCALAR_NAMES[a.dtype]}'")
    return x, dt


def _compute_array(a):
    x = a._data
    if x.dtype in _LOW:
        x = a._be.astype(x, _F32)
    return a._be.reshape(x, (1,)) if x.ndim == 0 else x


def _result(a, y, dt):
    """y (computed by _float_input's rules) back in a's shape and dtype dt."""
    if y.dtype != dt:
        y = a._be.astype(y, dt)
    return a._be.reshape(y, ()) if a._data.ndim == 0 else y


def _pointwise(name, kernel, fwd, grad):
    """A Function for an elementwise activation with scalar parameters:
    ``fwd(be, x, *params)`` computes it on a float32/float64 array, ``grad(g, x, *params)``
    is the input gradient in genesis ops (x the saved input)."""

    def forward(ctx, a, *params):
        x, dt = _float_input(a, kernel)
        ctx.save_for_backward(a)
        ctx.params = params
        return _result(a, fwd(a._be, x, *params), dt)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        return (grad(g, x, *ctx.params),) + (None,) * len(ctx.params)

    return type(name, (Function,), {"forward": staticmethod(forward),
                                    "backward": staticmethod(backward),
                                    "__module__": __name__})


# ---------------------------------------------------------------- ReLU family
class Relu(Function):
    """max(x, 0), whose backward is one op (ThresholdBackward)."""
    _save_output = True

    @staticmethod
    def forward(ctx, a):
        if a._data.dtype == _dt.bool_.np:
            raise RuntimeError("Boolean inputs not supported for relu")
        return a._be.maximum(a._data, 0)

    @staticmethod
    def backward(ctx, g):
        return ThresholdBackward.apply(g, ctx.output)


_SAME_SIZE_INT = {2: np.dtype(np.int16), 4: np.dtype(np.int32), 8: np.dtype(np.int64)}
_MINUS1 = np.int8(-1)


class ThresholdBackward(Function):
    """relu's input gradient g where y > 0 (or y is NaN), else 0, given the output y.
    The gradient's bits are ANDed with a 0/-1 integer mask: a select without branches
    (np.where on a random mask is several times slower) that keeps inf/NaN gradients
    where they pass and exact zeros elsewhere, as torch's threshold_backward."""

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(y)
        be = g._be
        gd, yd = g._data, y._data
        it = _SAME_SIZE_INT.get(gd.dtype.itemsize)
        if (it is None or gd.dtype != yd.dtype or gd.shape != yd.shape
                or type(gd) is not np.ndarray):     # the bit trick needs NumPy's .view
            return be.where(be.less_equal(yd, 0), gd.dtype.type(0), gd)
        keep = be.add(be.less_equal(yd, 0).view(np.int8), _MINUS1)    # 0 zeroed, -1 kept
        out = be.empty(gd.shape, gd.dtype)
        be.bitwise_and(gd.view(it), keep, out=out.view(it))
        return out

    @staticmethod
    def backward(ctx, gg):
        y, = ctx.saved_tensors
        return ThresholdBackward.apply(gg, y), None


def relu(input, inplace=False):
    if inplace:
        return input.relu_()
    return Relu.apply(input) if isinstance(input, Tensor) else _relu(input)


def relu_(input):
    return input.relu_()


class Hardtanh(Function):
    """clamp(x, lo, hi); kept for integral inputs as torch does."""

    @staticmethod
    def forward(ctx, a, lo, hi):
        if a._data.dtype == _dt.bool_.np:
            raise NotImplementedError('"hardtanh_cpu" not implemented for \'Bool\'')
        ctx.save_for_backward(a)
        ctx.lo, ctx.hi = lo, hi
        x = a._data
        y = a._be.clip(x, lo, hi)
        return y if y.dtype == x.dtype else a._be.astype(y, x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        # torch passes the gradient strictly inside (lo, hi) only
        return where((x > ctx.lo) & (x < ctx.hi), g, 0.0), None, None


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return _inplace(input, Hardtanh.apply, min_val, max_val)
    return Hardtanh.apply(input, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def _leaky_fwd(be, x, s):
    y = be.multiply(x, s)
    if 0 <= s <= 1:     # max(x, s x): cheaper than where() on randomly signed data
        return be.maximum(x, y, out=y)
    return be.where(be.greater(x, 0), x, y)


LeakyRelu = _pointwise("LeakyRelu", "leaky_relu_cpu", _leaky_fwd,
                       lambda g, x, s: where(x > 0, g, g * s))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    if inplace:
        return _inplace(input, LeakyRelu.apply, negative_slope)
    return LeakyRelu.apply(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


def _elu_fwd(be, x, alpha, scale, in_scale):
    # torch's kernel: x <= 0 ? alpha * scale * (exp(x * in_scale) - 1) : scale * x
    neg = be.expm1(be.multiply(x, in_scale))
    neg *= alpha * scale
    pos = x if scale == 1 else be.multiply(x, scale)
    return be.where(be.greater(x, 0), pos, neg)


def _elu_grad(g, x, alpha, scale, in_scale):
    # exp of the clamped input: the unused branch stays finite for large x
    neg = g * (alpha * scale * in_scale) * (x.clamp(max=0) * in_scale).exp()
    return where(x > 0, g * scale if scale != 1 else g, neg)


Elu = _pointwise("Elu", "elu_cpu", _elu_fwd, _elu_grad)


def elu(input, alpha=1.0, inplace=False):
    if inplace:
        return _inplace(input, Elu.apply, alpha, 1.0, 1.0)
    return Elu.apply(input, alpha, 1.0, 1.0)


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


def selu(input, inplace=False):
    if inplace:
        return _inplace(input, Elu.apply, _SELU_ALPHA, _SELU_SCALE, 1.0)
    return Elu.apply(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input):
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    if inplace:
        return _inplace(input, Elu.apply, alpha, 1.0, 1.0 / alpha)
    return Elu.apply(input, alpha, 1.0, 1.0 / alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


Threshold = _pointwise(
    "Threshold", "threshold_cpu",
    lambda be, x, th, v: be.where(be.greater(x, th), x, v),
    lambda g, x, th, v: where(x > th, g, 0.0))


class _ThresholdAny(Threshold):
    """threshold keeps integral inputs (torch has an integral kernel for it)."""

    @staticmethod
    def forward(ctx, a, th, v):
        x = a._data
        if x.dtype in FLOAT_NP:
            return Threshold.forward(ctx, a, th, v)
        ctx.save_for_backward(a)
        ctx.params = (th, v)
        y = a._be.where(a._be.greater(x, th), x, v)
        return y if y.dtype == x.dtype else a._be.astype(y, x.dtype)


def threshold(input, threshold, value, inplace=False):
    if inplace:
        return _inplace(input, _ThresholdAny.apply, threshold, value)
    return _ThresholdAny.apply(input, threshold, value)


def threshold_(input, threshold, value):
    return _inplace(input, _ThresholdAny.apply, threshold, value)


def _hardsigmoid_fwd(be, x):
    y = be.add(x, 3.0)
    be.clip(y, 0.0, 6.0, out=y)
    y /= 6.0
    return y


def _hardswish_fwd(be, x):
    y = _hardsigmoid_fwd(be, x)
    y *= x
    return y


Hardsigmoid = _pointwise("Hardsigmoid", "hardsigmoid_cpu", _hardsigmoid_fwd,
                         lambda g, x: where((x > -3) & (x < 3), g / 6, 0.0))
# torch's backward: 0 below -3, g * (x / 3 + 1/2) up to 3 (inclusive), g above
Hardswish = _pointwise("Hardswish", "hardswish_cpu", _hardswish_fwd,
                       lambda g, x: where(x < -3, 0.0, where(x <= 3, g * (x / 3 + 0.5), g)))


def hardsigmoid(input, inplace=False):
    return _inplace(input, Hardsigmoid.apply) if inplace else Hardsigmoid.apply(input)


def hardswish(input, inplace=False):
    return _inplace(input, Hardswish.apply) if inplace else Hardswish.apply(input)




Hardshrink = _pointwise(
    "Hardshrink", "hardshrink_cpu",
    lambda be, x, lam: be.where(be.greater(be.absolute(x), lam), x, 0),
    lambda g, x, lam: where((x >= -lam) & (x <= lam), 0.0, g))
Softshrink = _pointwise(
    "Softshrink", "softshrink_check",
    lambda be, x, lam: be.where(be.greater(x, lam), be.subtract(x, lam),
                                be.where(be.less(x, -lam), be.add(x, lam), 0)),
    lambda g, x, lam: where((x >= -lam) & (x <= lam), 0.0, g))


def hardshrink(input, lambd=0.5):
    return Hardshrink.apply(input, lambd)


def softshrink(input, lambd=0.5):
    if lambd < 0 and input._data.dtype in FLOAT_NP:
        raise RuntimeError(f"lambda must be in range [0, {float(_dt.finfo(input.dtype).max):g}]"
                           f" for input dtype {_dt.SCALAR_NAMES[input.dtype]}, but found "
                           f"{lambd:g}")
    return Softshrink.apply(input, lambd)


# ---------------------------------------------------------------- smooth activations
def _softplus_fwd(be, x, beta, threshold):
    bx = be.multiply(x, beta)
    y = be.log1p(be.exp(bx))
    if beta != 1:
        y /= beta
    # linear above the threshold, where exp would overflow
    return be.where(be.greater(bx, threshold), x, y)


Softplus = _pointwise(
    "Softplus", "softplus_cpu", _softplus_fwd,
    lambda g, x, beta, th: where(x * beta > th, g, g * (x * beta).sigmoid()))


def softplus(input, beta=1.0, threshold=20.0):
    return Softplus.apply(input, beta, threshold)


def _logsigmoid_fwd(be, x):
    # min(x, 0) - log1p(exp(-|x|)): no overflow for any x
    t = be.negative(be.absolute(x))
    be.exp(t, out=t)
    be.log1p(t, out=t)
    return be.subtract(be.minimum(x, 0), t)


Logsigmoid = _pointwise("LogSigmoid", "log_sigmoid_cpu", _logsigmoid_fwd,
                        lambda g, x: g * (-x).sigmoid())


def logsigmoid(input):
    return Logsigmoid.apply(input)


def _mish_fwd(be, x):
    t = be.exp(x)
    be.log1p(t, out=t)
    be.tanh(t, out=t)
    t *= x
    return t


def _mish_grad(g, x):
    tsp = softplus(x, 1.0, math.inf).tanh()
    return g * (tsp + x * x.sigmoid() * (1 - tsp * tsp))


Mish = _pointwise("Mish", "mish_cpu", _mish_fwd, _mish_grad)


def mish(input, inplace=False):
    return _inplace(input, Mish.apply) if inplace else Mish.apply(input)


def softsign(input):
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


def tanh(input):
    return _tanh(input)


def sigmoid(input):
    return _sigmoid(input)


# ---------------------------------------------------------------- SiLU (fused)
class Silu(Function):
    """x * sigmoid(x); backward is one op (SiluBackward)."""

    @staticmethod
    def forward(ctx, a):
        fused = getattr(a._be, "silu_fwd", None)      # one kernel on CUDA
        if fused is not None and a._data.dtype in FLOAT_NP:
            ctx.save_for_backward(a)
            return fused(a._data)
        x, dt = _float_input(a, "silu_cpu")
        ctx.save_for_backward(a)
        y = a._be.sigmoid(x)
        y *= x
        return _result(a, y, dt)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return SiluBackward.apply(g, x)


class SiluBackward(Function):
    """g * s * (1 + x * (1 - s)) with s = sigmoid(x); differentiable again."""

    @staticmethod
    def forward(ctx, g, a):
        if ctx.needs_input_grad:
            ctx.save_for_backward(g, a)
        be = a._be
        fused = getattr(be, "silu_bwd", None)
        if fused is not None and g._data.shape == a._data.shape:
            return fused(g._data, a._data)
        x = _compute_array(a)
        s = be.sigmoid(x)
        r = be.subtract(1, s)
        r *= x
        r += 1
        r *= s
        r *= g._data
        return be.reshape(r, ()) if a._data.ndim == 0 and r.ndim else r

    @staticmethod
    def backward(ctx, gg):
        g, x = ctx.saved_tensors
        s = x.sigmoid()
        # d/dx [s (1 + x (1 - s))] = s (1 - s) (2 + x (1 - 2 s))
        return (gg * (s * (1 + x * (1 - s))),
                gg * g * (s * (1 - s) * (2 + x * (1 - 2 * s))))


def silu(input, inplace=False):
    return _inplace(input, Silu.apply) if inplace else Silu.apply(input)


# ---------------------------------------------------------------- GELU (fused)
# Numerical Recipes' Chebyshev fit of erfc: relative error below 1.2e-7 for every x,
# tails included, which is float32's precision; float64 takes the backend's exact erf.
_ERFC_C = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806,
           0.09678418, 0.37409196, 1.00002368, -1.26551223)


_ERFC_C_LAST = _ERFC_C[-1] - math.log(2.0)
_BLOCK = 1 << 16
_LOG_INV_SQRT_2PI = math.log(_INV_SQRT_2PI)


def _phi32(be, x, t, p, z):
    """The standard normal CDF of a float32 array x, written into t; p and z are scratch
    arrays of x's size, and z is left holding x^2 / 2."""
    be.absolute(x, out=z)
    z *= _SQRT1_2
    be.add(z, 2.0, out=t)
    be.divide(2.0, t, out=t)      # t = 1 / (1 + |x| / (2 sqrt 2)), in two passes
    be.multiply(t, _ERFC_C[0], out=p)
    for k in _ERFC_C[1:-1]:
        p += k
        p *= t
    p += _ERFC_C_LAST             # the last coefficient, with erfc's halving folded in
    z *= z
    p -= z
    be.exp(p, out=p)
    p *= t                        # p = erfc(|x| / sqrt 2) / 2 = the CDF of -|x|
    # p where x < 0, else 1 - p, blended arithmetically: where() costs several passes
    # on randomly signed data; p itself is kept exactly in the tails
    be.multiply(p, -2.0, out=t)
    t += 1.0
    t *= be.greater_equal(x, 0)
    t += p


def _phi64(be, x, t, p, z):
    """_phi32 for float64, through the backend's exact erf (p unused)."""
    be.multiply(x, _SQRT1_2, out=t)
    be.erf(t, out=t)
    t += 1.0
    t *= 0.5
    be.multiply(x, x, out=z)
    z *= 0.5


def _gelu_erf(be, x, y, d, t, p, z):
    """y = x Phi(x) and, where d is given, d = gelu'(x) = Phi(x) + x phi(x), written into
    y and d (t, p, z: scratch arrays of x's size)."""
    (_phi32 if x.dtype == _F32 else _phi64)(be, x, t, p, z)
    be.multiply(t, x, out=y)
    if d is not None:
        be.subtract(_LOG_INV_SQRT_2PI, z, out=z)       # the pdf's 1 / sqrt(2 pi) folded in
        be.exp(z, out=z)
        z *= x
        be.add(t, z, out=d)


def _gelu_tanh(be, x, y, d, t, p, z):
    """_gelu_erf for GELU's tanh approximation: with t = tanh(k0 (x + k1 x^3)),
    y = x (1 + t) / 2 and d = (1 + t) / 2 + x (1 - t^2) k0 (1 + 3 k1 x^2) / 2."""
    be.multiply(x, x, out=z)
    be.multiply(z, _TANH_K1, out=t)
    t += 1.0
    t *= x
    t *= _TANH_K0
    be.tanh(t, out=t)
    be.add(t, 1.0, out=p)
    p *= 0.5
    be.multiply(p, x, out=y)
    if d is not None:
        t *= t
        be.subtract(1.0, t, out=t)
        z *= 3 * _TANH_K1
        z += 1.0
        z *= x
        z *= 0.5 * _TANH_K0
        z *= t
        be.add(p, z, out=d)


def _gelu_arrays(be, kernel, x, with_grad):
    """(gelu(x), gelu'(x) or None) of a float32/float64 array by kernel, evaluated on
    cache-sized blocks with scratch arrays reused from block to block: GELU's ~30
    elementwise passes then stay in cache. The derivative costs a few passes more here,
    where backward would recompute the whole CDF."""
    shape = x.shape
    x = be.reshape(be.ascontiguousarray(x), (-1,))
    n, dt = x.size, x.dtype
    y = be.empty((n,), dt)
    d = be.empty((n,), dt) if with_grad else None
    m = min(n, _BLOCK)
    scratch = [be.empty((m,), dt) for _ in range(3)]
    get = be.getitem
    for i in range(0, n, _BLOCK):
        s = slice(i, min(i + _BLOCK, n))
        if s.stop - i != m:                    # the last, shorter block
            scratch = [get(a, slice(0, s.stop - i)) for a in scratch]
        kernel(be, get(x, s), get(y, s), None if d is None else get(d, s), *scratch)
    return be.reshape(y, shape), (None if d is None else be.reshape(d, shape))


def _gelu_mode(approximate):
    if approximate == "none":
        return False
    if approximate == "tanh":
        return True
    raise RuntimeError("approximate argument must be either none or tanh.")


class Gelu(Function):
    @staticmethod
    def forward(ctx, a, approx):
        fused = getattr(a._be, "gelu_fwd", None)      # one kernel on CUDA
        if fused is not None and a._data.dtype in FLOAT_NP:
            ctx.save_for_backward(a)
            ctx.approx = approx
            y, ctx.d = fused(a._data, approx, bool(ctx.needs_input_grad))
            return y
        x, dt = _float_input(a, "GeluKernelImpl")
        ctx.save_for_backward(a)
        ctx.approx = approx
        y, ctx.d = _gelu_arrays(a._be, _gelu_tanh if approx else _gelu_erf, x,
                                bool(ctx.needs_input_grad))
        return _result(a, y, dt)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return GeluBackward.apply(g, x, ctx.approx, ctx.d), None


class GeluBackward(Function):
    """g * gelu'(x) in one op (gelu'(x) as Gelu's forward computed it); its own backward
    gives gelu''(x), so it differentiates again."""

    @staticmethod
    def forward(ctx, g, a, approx, d=None):
        if ctx.needs_input_grad:
            ctx.save_for_backward(g, a)
        ctx.approx = approx
        be = a._be
        if d is None:
            fused = getattr(be, "gelu_fwd", None)
            if fused is not None:
                _, d = fused(a._data, approx, True)
            else:
                _, d = _gelu_arrays(be, _gelu_tanh if approx else _gelu_erf,
                                    _compute_array(a), True)
        gd = g._data
        if gd.shape != d.shape:        # a 0-d input, computed as 1-d
            gd = be.reshape(gd, d.shape)
        r = be.multiply(d, gd)
        return be.reshape(r, ()) if a._data.ndim == 0 else r

    @staticmethod
    def backward(ctx, gg):
        g, x = ctx.saved_tensors
        if ctx.approx:
            k0, k1 = _TANH_K0, _TANH_K1
            t = (k0 * (x + k1 * x * x * x)).tanh()
            du = k0 * (1 + 3 * k1 * x * x)
            sech2 = 1 - t * t
            d1 = 0.5 * (1 + t) + 0.5 * x * sech2 * du
            d2 = sech2 * (du - x * t * du * du + 3 * k0 * k1 * x * x)
        else:
            pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
            d1 = 0.5 * (1 + erf(x * _SQRT1_2)) + x * pdf
            d2 = pdf * (2 - x * x)
        return gg * d1, gg * g * d2, None, None


def gelu(input, approximate="none"):
    return Gelu.apply(input, _gelu_mode(approximate))


# ---------------------------------------------------------------- with weights / halves
def prelu(input, weight):
    if weight.ndim > 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    if weight.dtype != input.dtype:
        raise RuntimeError("prelu: Type promoting not supported. Got "
                           f"{_dt.SCALAR_NAMES[input.dtype]} and "
                           f"{_dt.SCALAR_NAMES[weight.dtype]}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    n = weight.numel()
    if n != 1 and n != channels:
        raise RuntimeError("Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {n} and channel size = {channels}.")
    if n == 1:
        w = weight.reshape(())
    else:       # one slope per channel (dim 1), broadcast over the other dims
        w = weight.reshape((n,) + (1,) * (input.ndim - 2))
    return where(input > 0, input, w * input)


def glu(input, dim=-1):
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, input.ndim)
    if input._data.dtype not in FLOAT_NP:
        raise NotImplementedError(f"\"glu_cpu\" not implemented for "
                                  f"'{_dt.SCALAR_NAMES[input.dtype]}'")
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{input.shape[d]}")
    a, b = input.chunk(2, d)
    if input._data.dtype in _LOW:     # in float32, rounded once, as torch's kernel
        return (a.float() * b.float().sigmoid()).to(input.dtype)
    return a * b.sigmoid()


# ---------------------------------------------------------------- softmax family
def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                  "call to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim, _stacklevel)
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim, _stacklevel)
    return _log_softmax(input, dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim, _stacklevel)
    return _softmax(-input, dim, dtype=dtype)



from ..autocast_state import wrap_autocast  # noqa: E402
wrap_autocast(globals())   # autocast policies (genesis/autocast_state.py)
