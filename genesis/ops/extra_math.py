"""More of torch's elementwise math (the statistics are in statistics.py), composed from genesis ops (so autograd
comes from theirs) or, where torch's gradient differs at special points or the forward
needs care, as Functions over backend primitives: they run on every backend."""
import math

import numpy as np

from ..autograd.function import Function
from ..dtypes import SCALAR_NAMES, _by_np, result_type
from ..tensor import Tensor, _make
from .common import (pair, be_of, default_float, inplace, as_tensor_like, CAT,
                     FLOAT_NP)
from . import elementwise as _E

__all__ = [
    "deg2rad", "rad2deg", "erfc", "fmax", "fmin", "hypot", "logaddexp", "logaddexp2",
    "logit", "sinc", "xlogy", "sgn", "float_power", "heaviside", "gcd", "lcm", "isin",
    "isreal", "ldexp", "copysign",
]

_F64 = np.dtype(np.float64)
_I64 = np.dtype(np.int64)
_BOOL = np.dtype(np.bool_)
_SQRT_PI = math.sqrt(math.pi)
_LN2 = math.log(2.0)


def _dtname(dt):
    return SCALAR_NAMES[_by_np[np.dtype(dt)]]


def _fl(t):
    """t in the default float dtype when it is integral or bool (torch's int -> float)."""
    return t if t._data.dtype in FLOAT_NP else t.to(_by_np[default_float()])


def _float_pair(a, b):
    """Operand arrays in the promoted dtype, made floating when it is integral."""
    x, y = pair(a, b)
    dt = getattr(x, "dtype", None) if isinstance(a, Tensor) else y.dtype
    if dt not in FLOAT_NP:
        be, f = be_of(a, b), default_float()
        x = f.type(x) if not hasattr(x, "shape") else be.astype(x, f)
        y = f.type(y) if not hasattr(y, "shape") else be.astype(y, f)
    return x, y


# ---------------------------------------------------------------- unary
def deg2rad(input, *, out=None):
    r = _fl(input) * (math.pi / 180.0)
    return r if out is None else _E.write_out(r, out)


def rad2deg(input, *, out=None):
    r = _fl(input) * (180.0 / math.pi)
    return r if out is None else _E.write_out(r, out)


def _erfc_array(be, x):
    """erfc without the cancellation of 1 - erf(x) for large x: the continued fraction
    exp(-x^2) / (sqrt(pi) * (x + (1/2)/(x + 1/(x + (3/2)/...)))) above 3, computed in
    float64 (and rounded once) for every float dtype."""
    dt = x.dtype
    x = be.astype(x, _F64) if dt != _F64 else x
    r = be.subtract(1.0, be.erf(x))
    s = be.clip(be.absolute(x), 3.0, 30.0)
    t = s
    for n in range(60, 0, -1):
        t = be.add(s, be.divide(n / 2.0, t))
    cf = be.divide(be.exp(be.negative(be.multiply(s, s))), be.multiply(t, _SQRT_PI))
    r = be.where(be.greater_equal(x, 3.0), cf, r)
    return be.astype(r, dt) if dt != _F64 else r


class Erfc(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        x = a._data
        if x.dtype not in FLOAT_NP:
            x = a._be.astype(x, default_float())
        return _erfc_array(a._be, x)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * ((-a * a).exp() * (-2.0 / _SQRT_PI))


def erfc(input, *, out=None):
    r = Erfc.apply(input)
    return r if out is None else _E.write_out(r, out)


class Sinc(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        be, x = a._be, a._data
        if x.dtype not in FLOAT_NP:
            x = be.astype(x, default_float())
        px = be.multiply(x, math.pi)
        zero = be.equal(x, 0)
        return be.where(zero, 1.0, be.divide(be.sin(px), be.where(zero, 1.0, px)))

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        a = _fl(a)
        px = a * math.pi
        d = (px * px.cos() - px.sin()) / (px * a)
        return g * _E.where(a == 0, 0.0, d)        # torch's: 0 at x = 0


def sinc(input, *, out=None):
    r = Sinc.apply(input)
    return r if out is None else _E.write_out(r, out)


class Logit(Function):
    @staticmethod
    def forward(ctx, a, eps):
        ctx.save_for_backward(a)
        ctx.eps = eps
        be, x = a._be, a._data
        if x.dtype not in FLOAT_NP:
            x = be.astype(x, default_float())
        if eps is not None:
            x = be.clip(x, eps, 1.0 - eps)
        return be.log(be.divide(x, be.subtract(1.0, x)))

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        a, eps = _fl(a), ctx.eps
        d = g / (a * (1 - a))
        # torch's: NaN outside [0, 1] without eps, 0 outside [eps, 1 - eps] with it
        if eps is None:        # and g * inf at 0 and 1, whatever the zero's sign
            d = _E.where((a == 0) | (a == 1), g * math.inf, d)
            return _E.where((a < 0) | (a > 1), math.nan, d), None
        return _E.where((a < eps) | (a > 1 - eps), 0.0, d), None


def logit(input, eps=None, *, out=None):
    r = Logit.apply(input, eps)
    return r if out is None else _E.write_out(r, out)


def sgn(input, *, out=None):
    """sign for real tensors (complex ones are not supported)."""
    return _E.sign(input, out=out)


def isreal(input):
    return _make(input._be.full(input._data.shape, True, _BOOL))


# ---------------------------------------------------------------- binary
def _binary_float_tensors(a, b, name):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(b if isinstance(a, Tensor) else a).__name__}")
    dt = result_type(a, b)
    if not dt.is_floating_point:      # torch has no integer kernels for these
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for "
                                  f"'{_dtname(dt.np).capitalize()}'")


def _fcmp_tensors(a, b, name):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(b if isinstance(a, Tensor) else a).__name__}")


def _fcmp(a, b, greater):
    _fcmp_tensors(a, b, "fmax" if greater else "fmin")
    # ties go to input (as torch's gradient); a NaN operand loses to a number
    take_a = ((a >= b) if greater else (a <= b)) | b.isnan()
    return _E.where(take_a, a, b)


def fmax(input, other, *, out=None):
    """The larger of two values, ignoring NaN (NaN only where both are)."""
    r = _fcmp(input, other, True)
    return r if out is None else _E.write_out(r, out)


def fmin(input, other, *, out=None):
    r = _fcmp(input, other, False)
    return r if out is None else _E.write_out(r, out)


class Hypot(Function):
    @staticmethod
    def forward(ctx, a, b):
        x, y = _float_pair(a, b)
        be = be_of(a, b)
        # scaled by the larger magnitude so that squares neither overflow nor underflow
        ax, ay = be.absolute(x), be.absolute(y)
        m = be.maximum(ax, ay)
        safe = be.where(be.equal(m, 0), 1.0, m)
        safe = be.where(be.isinf(m), 1.0, safe)
        u, v = be.divide(ax, safe), be.divide(ay, safe)
        r = be.multiply(be.sqrt(be.add(be.multiply(u, u), be.multiply(v, v))), safe)
        r = be.where(be.isinf(m), np.inf, r)
        ctx.save_for_backward(a, b)
        return r

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        r = Hypot.apply(a, b)          # again, so that the gradient is differentiable
        return g * a / r, g * b / r           # torch's: NaN at (0, 0)


def hypot(input, other, *, out=None):
    _binary_float_tensors(input, other, "hypot")
    r = Hypot.apply(input, other)
    return r if out is None else _E.write_out(r, out)


class LogAddExp(Function):
    @staticmethod
    def forward(ctx, a, b, base2):
        ctx.save_for_backward(a, b)
        ctx.base2 = base2
        x, y = _float_pair(a, b)
        be = be_of(a, b)
        m = be.maximum(x, y)
        d = be.negative(be.absolute(be.subtract(x, y)))
        if base2:
            r = be.add(m, be.divide(be.log1p(be.exp2(d)), _LN2))
        else:
            r = be.add(m, be.log1p(be.exp(d)))
        # both +-inf alike: the difference is NaN, the result that infinity
        return be.where(be.logical_and(be.isinf(m), be.equal(x, y)), m, r)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        d = a - b
        if ctx.base2:
            d = d * _LN2
        return g * d.sigmoid(), g * (-d).sigmoid(), None


def logaddexp(input, other, *, out=None):
    _binary_float_tensors(input, other, "logaddexp")
    r = LogAddExp.apply(input, other, False)
    return r if out is None else _E.write_out(r, out)


def logaddexp2(input, other, *, out=None):
    _binary_float_tensors(input, other, "logaddexp2")
    r = LogAddExp.apply(input, other, True)
    return r if out is None else _E.write_out(r, out)


def _as_t(v, like):
    return v if isinstance(v, Tensor) else as_tensor_like(v, like)


def _xlogy_arrays(be, x, y):
    zero = be.logical_and(be.equal(x, 0), be.logical_not(be.isnan(y)))
    return be.where(zero, 0.0, be.multiply(x, be.log(y)))


class XLogY(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        x, y = _float_pair(a, b)
        return _xlogy_arrays(be_of(a, b), x, y)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        # torch's: xlogy(g, y) for x, but 0 where x == 0 and y <= 0; x / y for y
        ga = _E.where((a == 0) & (b <= 0), 0.0, XLogY.apply(g, b)) if need[0] else None
        gb = g * a / b if need[1] else None
        return ga, gb


def xlogy(input, other, *, out=None):
    """input * log(other), 0 where input is 0 (unless other is NaN)."""
    if not isinstance(input, Tensor):
        input = _as_t(input, other)
    elif not isinstance(other, Tensor):
        other = _as_t(other, input)
    r = XLogY.apply(input, other)
    return r if out is None else _E.write_out(r, out)


def float_power(input, exponent, *, out=None):
    """pow computed (and returned) in float64."""
    b = input.double() if isinstance(input, Tensor) else float(input)
    e = exponent.double() if isinstance(exponent, Tensor) else float(exponent)
    return _E.pow(b, e, out=out) if out is not None else _E.pow(b, e)


def _float_power_(self, exponent):
    if self._data.dtype != _F64:
        raise RuntimeError(f"the base given to float_power_ has dtype "
                           f"{_dtname(self._data.dtype).capitalize()} but the operation's "
                           "result requires dtype Double")
    return inplace(self, float_power, exponent)


class _NoDerivative(Function):
    """A result computed by the caller that requires grad as torch's does, with no
    derivative."""

    @staticmethod
    def forward(ctx, a, b, arr, name):
        ctx.name = name
        return arr

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError(f"the derivative for '{ctx.name}' is not implemented.")


def heaviside(input, values, *, out=None):
    if not isinstance(values, Tensor):
        raise TypeError("heaviside(): argument 'values' (position 2) must be Tensor, not "
                        f"{type(values).__name__}")
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different "
                           "dtypes")
    be, x, v = be_of(input, values), input._data, values._data
    r = be.where(be.equal(x, 0), v, be.astype(be.greater(x, 0), x.dtype))
    r = be.astype(r, x.dtype) if r.dtype != x.dtype else r
    r = _NoDerivative.apply(input, values, r, "heaviside")
    return r if out is None else _E.write_out(r, out)


def _int_pair(a, b, name):
    x, y = pair(a, b)
    be = be_of(a, b)
    dt = x.dtype if hasattr(x, "dtype") else y.dtype
    if CAT[np.dtype(dt)] != 1:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_dtname(dt).capitalize()}'")
    if not hasattr(x, "shape"):
        x = be.full((), x, dt)
    if not hasattr(y, "shape"):
        y = be.full((), y, dt)
    return be, x, y


def _gcd_arrays(be, x, y):
    """Euclid's algorithm on every element at once, until every divisor is 0."""
    x, y = be.absolute(x), be.absolute(y)
    shape = np.broadcast_shapes(x.shape, y.shape)
    x, y = be.copy(be.broadcast_to(x, shape)), be.copy(be.broadcast_to(y, shape))
    while bool(be.to_host(be.any(be.not_equal(y, 0), None))):
        nz = be.not_equal(y, 0)
        r = be.where(nz, be.remainder(x, be.where(nz, y, 1)), 0)
        x, y = be.where(nz, y, x), be.astype(r, y.dtype)
    return be.astype(x, y.dtype) if x.dtype != y.dtype else x


def gcd(input, other, *, out=None):
    be, x, y = _int_pair(input, other, "gcd")
    r = _make(_gcd_arrays(be, x, y))
    return r if out is None else _E.write_out(r, out)


def lcm(input, other, *, out=None):
    be, x, y = _int_pair(input, other, "lcm")
    g = _gcd_arrays(be, x, y)
    z = be.equal(g, 0)
    r = be.absolute(be.multiply(be.floor_divide(x, be.where(z, 1, g)), y))
    r = _make(be.astype(be.where(z, 0, r), g.dtype))
    return r if out is None else _E.write_out(r, out)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each of elements is in test_elements: a binary search in the sorted test
    elements."""
    x, t = pair(elements, test_elements)
    be = be_of(elements, test_elements)
    dt = x.dtype if hasattr(x, "dtype") else t.dtype
    if not hasattr(x, "shape"):
        x = be.full((), x, dt)
    if not hasattr(t, "shape"):
        t = be.full((), t, dt)
    flat = be.reshape(t, (-1,))
    n = flat.shape[0]
    if n == 0:
        r = be.full(x.shape, False, _BOOL)
    else:
        srt = be.sort(flat, 0, False, False)[0]
        pos = be.clip(be.searchsorted(srt, x, "left"), 0, n - 1)
        r = be.equal(be.getitem(srt, pos), x)
    return _make(be.logical_not(r) if invert else r)


def ldexp(input, other, *, out=None):
    """input * 2 ** other."""
    r = _E.mul(input, _E.exp2(other))
    return r if out is None else _E.write_out(r, out)


class CopySign(Function):
    @staticmethod
    def forward(ctx, a, b):
        x, y = _float_pair(a, b)
        be = be_of(a, b)
        if hasattr(y, "shape"):
            neg = _E.signbit(_make(y))._data
        else:
            neg = math.copysign(1.0, y) < 0
        ax = be.absolute(x)
        ctx.neg = neg
        ctx.save_for_backward(a)
        ctx.b_shape = b._data.shape if isinstance(b, Tensor) else None
        return be.where(neg, be.negative(ax), ax) if not isinstance(neg, bool) else \
            (be.negative(ax) if neg else ax)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        s = _fl(a).sign()
        neg = ctx.neg
        s = -s if neg is True else (s if neg is False else _E.where(_make(neg), -s, s))
        gb = None
        if ctx.b_shape is not None:        # torch's: zeros for other
            gb = _make(g._be.full(ctx.b_shape, 0, g._data.dtype))
        return g * s, gb


def copysign(input, other, *, out=None):
    if not isinstance(input, Tensor):
        raise TypeError("copysign(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    r = CopySign.apply(input, other)
    return r if out is None else _E.write_out(r, out)


TENSOR_METHODS = {
    "deg2rad": deg2rad, "rad2deg": rad2deg, "erfc": erfc, "fmax": fmax, "fmin": fmin,
    "hypot": hypot, "logaddexp": logaddexp, "logaddexp2": logaddexp2, "logit": logit,
    "sinc": sinc, "xlogy": xlogy, "sgn": sgn, "float_power": float_power,
    "heaviside": heaviside, "gcd": gcd, "lcm": lcm, "isreal": isreal, "ldexp": ldexp,
    "copysign": copysign,
    "deg2rad_": lambda self: inplace(self, deg2rad),
    "rad2deg_": lambda self: inplace(self, rad2deg),
    "erfc_": lambda self: inplace(self, erfc),
    "sinc_": lambda self: inplace(self, sinc),
    "logit_": lambda self, eps=None: inplace(self, logit, eps),
    "sgn_": lambda self: inplace(self, sgn),
    "hypot_": lambda self, other: inplace(self, hypot, other),
    "xlogy_": lambda self, other: inplace(self, xlogy, other),
    "heaviside_": lambda self, values: inplace(self, heaviside, values),
    "gcd_": lambda self, other: inplace(self, gcd, other),
    "lcm_": lambda self, other: inplace(self, lcm, other),
    "ldexp_": lambda self, other: inplace(self, ldexp, other),
    "copysign_": lambda self, other: inplace(self, copysign, other),
    "float_power_": _float_power_,
}
