"""Statistics beyond the core reductions, as torch's: quantile / nanquantile, mode, cov,
corrcoef, cdist, dist, renorm and the trapezoid rules, composed from genesis ops (their
autograd) and backend primitives, so they run on every backend."""
import numpy as np

from ..tensor import Tensor, _make
from .common import inplace, wrap_dim, CAT, FLOAT_NP
from . import elementwise as _E
from .extra_math import _dtname, _fl
from . import reduce as _R

__all__ = ["quantile", "nanquantile", "mode", "cov", "corrcoef", "cdist", "dist", "renorm",
           "trapezoid", "trapz", "cumulative_trapezoid"]

_BOOL = np.dtype(np.bool_)
_I64 = np.dtype(np.int64)

_R.return_types.mode = _R._return_type("mode")


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
    "quantile": quantile, "nanquantile": nanquantile, "mode": mode, "cov": cov,
    "corrcoef": corrcoef, "dist": dist, "renorm": renorm,
    "renorm_": lambda self, p, dim, maxnorm: inplace(self, renorm, p, dim, maxnorm),
}
