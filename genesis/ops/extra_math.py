"""More of torch's elementwise math and reductions, composed from genesis ops (so autograd
comes from theirs) or, where torch's gradient differs at special points or the forward
needs care, as Functions over backend primitives: they run on every backend."""
import math

import numpy as np

from ..autograd.function import Function
from ..dtypes import SCALAR_NAMES, _by_np, result_type
from ..tensor import Tensor, _make
from .common import (pair, be_of, default_float, inplace, as_tensor_like, wrap_dim, CAT,
                     FLOAT_NP)
from . import elementwise as _E
from . import reduce as _R

__all__ = [
    "deg2rad", "rad2deg", "erfc", "fmax", "fmin", "hypot", "logaddexp", "logaddexp2",
    "logit", "sinc", "xlogy", "sgn", "float_power", "heaviside", "gcd", "lcm", "isin",
    "isreal", "ldexp", "copysign", "quantile", "nanquantile", "mode", "cov", "corrcoef",
    "cdist", "dist", "renorm", "trapezoid", "trapz", "cumulative_trapezoid",
]

_F64 = np.dtype(np.float64)
_I64 = np.dtype(np.int64)
_BOOL = np.dtype(np.bool_)
_SQRT_PI = math.sqrt(math.pi)
_LN2 = math.log(2.0)

_R.return_types.mode = _R._return_type("mode")


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


# ---------------------------------------------------------------- quantile / mode
_INTERP = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name, input, q, dim, keepdim, interpolation, ignore_nan):
    x = input._data
    if x.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERP:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                         f"midpoint or nearest. Got '{interpolation}'")
    if x.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    scalar_q = not isinstance(q, Tensor)
    if scalar_q:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        qt = _make(input._be.full((1,), q, x.dtype))
    else:
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q._data.dtype != x.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        if not bool(((q >= 0) & (q <= 1)).all()):
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
        scalar_q = q.ndim == 0
        qt = q.reshape(-1)      # (the linear weights carry a gradient into q)
    nd = x.ndim
    if dim is None:
        s = input.reshape(-1).sort().values
    else:
        d = wrap_dim(dim, nd)
        s = (input.reshape(1) if nd == 0 else input).sort(dim=d if nd else 0).values
        s = s.movedim(d, -1) if nd else s
    s_nan = s.detach().isnan()
    n = s._data.shape[-1]
    if ignore_nan:
        k = (~s_nan).sum(-1, keepdim=True).to(qt.dtype)
        ranks = qt * (k - 1)
        ranks = _E.where(ranks < 0, 0.0, ranks)    # all NaN: rank 0 gives NaN
    else:
        # a line with NaN takes the last (NaN) value
        ranks = _E.where(s_nan.any(-1, keepdim=True), float(n - 1), qt * (n - 1))
    if interpolation == "lower":
        ranks = ranks.floor()
    elif interpolation == "higher":
        ranks = ranks.ceil()
    elif interpolation == "nearest":
        ranks = ranks.round()
    below = ranks.long()
    v = s.gather(-1, below)
    if interpolation in ("linear", "midpoint"):
        w = (ranks * 0 + 0.5 if interpolation == "midpoint"
             else ranks - below.to(ranks.dtype))
        v = v.lerp(s.gather(-1, ranks.ceil().long()), w)
    # v is (..., Q): the kept dim comes back, then Q goes first
    if keepdim:
        if dim is None:
            v = v.reshape((1,) * nd + (v.shape[-1],))
        elif nd:
            v = v.unsqueeze(d)
    v = v.movedim(-1, 0)
    return v.squeeze(0) if scalar_q else v


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    r = _quantile("quantile", input, q, dim, keepdim, interpolation, False)
    return r if out is None else _E.write_out(r, out)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    r = _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)
    return r if out is None else _E.write_out(r, out)


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along dim (the smallest of those tied) and the index of its
    last occurrence, as torch's CPU kernel."""
    x, be = input._data, input._be
    nd = x.ndim
    d = wrap_dim(dim, nd)
    if nd == 0:
        return _R.return_types.mode(input * 1, _make(be.full((), 0, _I64)))
    n = x.shape[d]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    xs = input.movedim(d, -1)
    vals, idx = be.sort(xs._data, nd - 1, False, True)
    lead = vals.shape[:-1]
    head = (slice(None),) * (nd - 1)
    ne = be.not_equal(be.getitem(vals, head + (slice(1, None),)),
                      be.getitem(vals, head + (slice(None, -1),)))
    true = be.full(lead + (1,), True, _BOOL)
    new = be.concatenate([true, ne], nd - 1)      # a run of equal values starts here
    last = be.concatenate([ne, true], nd - 1)     # ... ends here
    run = be.subtract(be.cumsum(be.astype(new, _I64), nd - 1), 1)
    pos = be.copy(be.broadcast_to(be.arange(0, n, 1, _I64), vals.shape))

    def per_run(flag):          # run id -> its first (last) position, slot n a dump
        out = be.full(lead + (n + 1,), 0, _I64)
        be.put_along_axis(out, be.where(flag, run, n), pos, nd - 1)
        return out
    starts, ends = per_run(new), per_run(last)
    count = be.subtract(be.take_along_axis(ends, run, nd - 1),
                        be.take_along_axis(starts, run, nd - 1))
    j = be.argmax(count, nd - 1, keepdims=True)    # the first: the smallest value
    e = be.take_along_axis(ends, be.take_along_axis(run, j, nd - 1), nd - 1)
    ind = _make(be.take_along_axis(idx, e, nd - 1))
    v = xs.gather(-1, ind)
    if keepdim:
        return _R.return_types.mode(v.movedim(-1, d), ind.movedim(-1, d))
    return _R.return_types.mode(v.squeeze(-1), ind.squeeze(-1))


# ---------------------------------------------------------------- cov / corrcoef
def cov(input, *, correction=1, fweights=None, aweights=None):
    nd = input.ndim
    if nd > 2:
        raise RuntimeError("cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {nd} dimensions")
    x = _fl(input if nd == 2 else input.reshape(1, -1))
    n_obs = x.shape[1]
    w = None
    for wname, wt, cat in (("fweights", fweights, 1), ("aweights", aweights, 2)):
        if wt is None:
            continue
        if wt.ndim > 1:
            raise RuntimeError(f"cov(): expected {wname} to have one or fewer dimensions but "
                               f"got {wname} with {wt.ndim} dimensions")
        if wt.numel() != n_obs:
            raise RuntimeError(f"cov(): expected {wname} to have the same numel as there are "
                               f"observations in the input but got {wt.numel()} != {n_obs}")
        if CAT[wt._data.dtype] != cat:
            kind = "integral" if cat == 1 else "floating point"
            raise RuntimeError(f"cov(): expected {wname} to have {kind} dtype but got "
                               f"{wname} with {_dtname(wt._data.dtype).capitalize()} dtype")
        if bool((wt < 0).any()):
            raise RuntimeError(f"cov(): {wname} cannot be negative")
        w = wt if w is None else w * wt
    if w is None:
        avg = x.mean(1)
        nf = max(n_obs - correction, 0)
        xm = x - avg.unsqueeze(1)
        c = xm.matmul(xm.t())
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if aweights is None:
            nf = w_sum - correction
        else:
            nf = w_sum - correction * (w * aweights).sum() / w_sum
        nf = _E.where(nf <= 0, 0, nf)
        xm = x - avg.unsqueeze(1)
        c = (xm * w).matmul(xm.t())
    return (c / nf).squeeze()


def corrcoef(input):
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.reshape(-1)[::c.shape[0] + 1].sqrt()
    c = c / d.unsqueeze(1) / d.unsqueeze(0)
    return c.clamp(-1, 1)


# ---------------------------------------------------------------- distances
def _vnorm(x, p, dim=None, keepdim=False):
    return _R.vector_norm(x, p, dim=dim, keepdim=keepdim)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M)."""
    for k, t in ((1, x1), (2, x2)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, X{k} got: "
                               f"{t.ndim}D")
        if t._data.dtype not in FLOAT_NP:
            raise RuntimeError(f"cdist only supports floating-point dtypes, X{k} got: "
                               f"{_dtname(t._data.dtype).capitalize()}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if not p >= 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    return _vnorm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, dim=-1)


def dist(input, other, p=2):
    return _vnorm(input - other, p)


def renorm(input, p, dim, maxnorm):
    """Each slice along dim with p-norm above maxnorm scaled down to maxnorm."""
    nd = input.ndim
    if nd <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {nd} dimensions")
    if not p > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if not maxnorm >= 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = wrap_dim(dim, nd)
    norms = _vnorm(input, p, dim=tuple(i for i in range(nd) if i != d), keepdim=True)
    return input * _E.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)


# ---------------------------------------------------------------- trapezoid
def _diffs(y, x, dx, d):
    """The spacings along dim d of y: dx, or x's differences (x 1-D or y's shape)."""
    if x is None:
        return 1 if dx is None else dx
    if not isinstance(x, Tensor):
        return x
    n = y.shape[d]
    if x.ndim == 1:
        if x.shape[0] != n:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample "
                               "point")
        dxs = x[1:] - x[:-1]
        return dxs.reshape((-1,) + (1,) * (y.ndim - 1 - d))
    dxs = x.narrow(d, 1, x.shape[d] - 1) - x.narrow(d, 0, x.shape[d] - 1)
    return dxs


def trapezoid(y, x=None, *, dx=None, dim=-1):
    d = wrap_dim(dim, y.ndim)
    n = y.shape[d]
    if n == 0:
        shape = y.shape[:d] + y.shape[d + 1:]
        return _make(y._be.full(shape, 0, y._data.dtype)) * y.sum(d)   # (zeros)
    h = _diffs(y, x, dx, d)
    if isinstance(h, Tensor):
        s = y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)
        return (s * h).sum(d) / 2
    return (y.sum(d) - (y.select(d, 0) + y.select(d, -1)) * 0.5) * h


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    d = wrap_dim(dim, y.ndim)
    n = y.shape[d]
    h = _diffs(y, x, dx, d)
    if n == 0:
        return y.narrow(d, 0, 0) * 1
    s = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) * h
    return s.cumsum(d) / 2


TENSOR_METHODS = {
    "deg2rad": deg2rad, "rad2deg": rad2deg, "erfc": erfc, "fmax": fmax, "fmin": fmin,
    "hypot": hypot, "logaddexp": logaddexp, "logaddexp2": logaddexp2, "logit": logit,
    "sinc": sinc, "xlogy": xlogy, "sgn": sgn, "float_power": float_power,
    "heaviside": heaviside, "gcd": gcd, "lcm": lcm, "isreal": isreal, "ldexp": ldexp,
    "copysign": copysign, "quantile": quantile, "nanquantile": nanquantile, "mode": mode,
    "cov": cov, "corrcoef": corrcoef, "dist": dist, "renorm": renorm,
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
    "renorm_": lambda self, p, dim, maxnorm: inplace(self, renorm, p, dim, maxnorm),
}
