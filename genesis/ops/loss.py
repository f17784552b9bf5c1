"""Loss functions, as torch.nn.functional's. cross_entropy is fused: log_softmax and the
negative log likelihood in one Function whose backward (softmax minus the target
distribution, scaled) is one op; nll_loss and binary_cross_entropy are one Function each;
the regression losses are short compositions of genesis ops."""
import warnings

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from .. import dtypes as _dt
from ..tensor import _make
from .common import FLOAT_NP, LOW_FLOAT_NP as _LOW, F32 as _F32
from .elementwise import where
from .nn import softmax as _softmax, log_softmax as _log_softmax, _normalized
from .activation import logsigmoid

__all__ = [
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
]

_I64 = _dt.int64.np
_U8 = _dt.uint8.np


# ---------------------------------------------------------------- reduction arguments
def _legacy_reduction(size_average, reduce):
    """torch's mapping of the deprecated size_average / reduce flags."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    r = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{r}' instead.", stacklevel=3)
    return r


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    if reduction in ("mean", "sum", "none"):
        return reduction
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use "
                      "reduction='mean' instead.", stacklevel=3)
        return "mean"
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _weighted(loss, weight, reduction):
    """torch's weighted mse/l1: the mean divides by the sum of the weights."""
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / weight.sum()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                     "'sum'.")


def _size_warning(input, target):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", stacklevel=3)


def _weight_no_grad(fn, weight):
    """torch's class weights of nll_loss / binary_cross_entropy take no gradient: refuse
    one that requires grad, as torch, rather than silently giving it none."""
    if weight is not None and weight.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to "
                           "argument 'weight'. This input cannot have requires_grad True.")


def _nll_name(input):
    return "nll_loss_forward" if input.ndim <= 2 else "nll_loss2d_forward"


def _dtype_name(npd):
    return _dt.SCALAR_NAMES[_dt._by_np[npd]]


# ---------------------------------------------------------------- class-index targets
def _check_smoothing(eps):
    if eps > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {eps}")


def _class_targets(x, target, weight, ignore_index):
    """Check input (log-)scores x (N, C, d1, ...), (N, C) or (C,) against class-index
    targets as torch's nll_loss does; return the class axis, the targets as int64 with the
    ignored ones replaced by 0, the mask of kept targets (None when all are kept), the
    weight as an array in x's dtype (or None) and the per-target weights w[t] * kept."""
    xs, ts = x.shape, target.shape
    nd = len(xs)
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if nd != 1 and (not ts or xs[0] != ts[0]):
        raise ValueError(f"Expected input batch_size ({xs[0]}) to match target batch_size "
                         f"({ts[0] if ts else 1}).")
    if nd <= 2:
        if len(ts) > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if not (nd == 1 and len(ts) == 0) and xs[0] != (ts[0] if ts else 1):
            raise RuntimeError(f"size mismatch (got input: {list(xs)}, target: {list(ts)})")
    elif ts[1:] != xs[2:]:
        if nd == 4:     # torch's nll_loss2d words it so (without the closing parenthesis)
            raise RuntimeError(f"size mismatch (got input: {list(xs)} , target: {list(ts)}")
        raise RuntimeError(f"Expected target size {[xs[0]] + list(xs[2:])}, got {list(ts)}")
    t = target._data
    if t.dtype != _I64 and t.dtype != _U8:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_dtype_name(t.dtype)}")
    ax = 0 if nd == 1 else 1
    n_cls = xs[ax]
    be = target._be
    w = None
    if weight is not None:
        if weight.ndim != 1 or weight.numel() != n_cls:
            if nd == 4:
                raise RuntimeError("weight tensor should be defined either for all or no "
                                   "classes")
            raise RuntimeError(f"weight tensor should be defined either for all {n_cls} "
                               "classes or no classes but got weight tensor of shape: "
                               f"{list(weight.shape)}")
        w = weight._data
    keep = None
    if t.dtype == _U8:
        t = be.astype(t, _I64)
    ignored = be.equal(t, ignore_index)
    if be.any(ignored):
        keep = be.logical_not(ignored)
        t = be.where(ignored, 0, t)
    bad = be.logical_or(be.less(t, 0), be.greater_equal(t, n_cls))
    if be.any(bad):
        # (on the host: the error path only, and device arrays have no boolean indexing)
        first = be.to_host(t)[be.to_host(bad)].reshape(-1)[0]
        raise IndexError(f"Target {int(first)} is out of bounds.")
    if w is not None:
        wt = be.getitem(w, t)
        if keep is not None:
            wt = be.multiply(wt, keep)
    else:
        wt = keep if keep is None else be.astype(keep, x.dtype)
    return ax, t, keep, w, wt


def _check_weight_dtype(weight, x):
    if weight is not None and weight._data.dtype != x.dtype:
        raise RuntimeError(f"expected scalar type {_dtype_name(x.dtype)} but found "
                           f"{_dtype_name(weight._data.dtype)}")


def _upstream(ctx, g):
    """The gradient per target from the loss's gradient g: divided by the total weight
    for 'mean', with the class axis put back for 'none'."""
    r = ctx.reduction
    if r == "mean":
        # every target ignored: torch's loss is nan (0/0) but its gradient is 0
        return g * (1.0 / ctx.denom) if ctx.denom else g * 0.0
    if r == "sum" or g.ndim == 0:
        return g
    return g.unsqueeze(ctx.axis)


def _finish(be, loss, wt, reduction, dt):
    """loss per target -> reduced (and the denominator of the mean), in dtype dt."""
    denom = None
    if reduction == "mean":
        denom = float(be.sum(wt)) if wt is not None else float(loss.size)
        s = be.sum(loss)
        out = be.divide(s, denom) if denom else be.full((), float("nan"), loss.dtype)
    elif reduction == "sum":
        out = be.sum(loss)
    else:
        out = loss
    out = _as_array(be, out)
    return (out if out.dtype == dt else be.astype(out, dt)), denom


def _as_array(be, v):
    """A full reduction's result as a 0-d array (NumPy returns a scalar)."""
    return be.from_host(v, v.dtype) if isinstance(v, np.generic) else v


class CrossEntropy(Function):
    """cross_entropy with class-index targets (weight, ignore_index, label smoothing) or
    class-probability targets, in one Function."""
    probs = fused = False

    @staticmethod
    def forward(ctx, a, target, weight, ignore_index, reduction, eps):
        be = a._be
        ctx.reduction, ctx.eps, ctx.inp = reduction, eps, a
        if a._data.dtype not in FLOAT_NP:
            raise NotImplementedError(f"\"log_softmax_lastdim_kernel_impl\" not implemented "
                                      f"for '{_dt.SCALAR_NAMES[a.dtype]}'")
        if target.shape == a.shape:
            return _ce_probs(ctx, a, target, weight, ignore_index, eps)
        _check_smoothing(eps)
        _check_weight_dtype(weight, a._data)
        ax, t, keep, w, wt = _class_targets(a._data, target, weight, ignore_index)
        fused = getattr(be, "cross_entropy_fwd", None)
        if fused is not None and ax == a.ndim - 1:
            return _ce_fused(ctx, fused, a, target, ignore_index, eps, t, keep, w, wt)
        low = a._data.dtype in _LOW
        # C-contiguous, in float32 for float16/bfloat16
        logp = _normalized(ctx, a, ax, _dt.float32 if low else None, True)
        if low:
            w = be.astype(w, _F32) if w is not None else None
            wt = be.astype(wt, _F32) if wt is not None else None
        n_cls = a.shape[ax]
        idx = be.reshape(t, t.shape[:ax] + (1,) + t.shape[ax:])
        picked = be.take_along_axis(logp, idx, ax)
        picked = be.reshape(picked, t.shape)
        # the coefficient of -log p[target] per target: (1 - eps) w[t], 0 where ignored
        coef = wt
        if eps:
            coef = be.multiply(coef, 1.0 - eps) if coef is not None else 1.0 - eps
        loss = be.negative(be.multiply(picked, coef) if coef is not None else picked)
        if eps:
            # eps / C of the (weighted) sum of -log p over the classes, 0 where ignored
            if w is not None:
                wb = be.reshape(w, (n_cls,) + (1,) * (logp.ndim - ax - 1))
                smooth = be.sum(be.multiply(logp, wb), axis=ax)
            else:
                smooth = be.sum(logp, axis=ax)
            smooth = be.multiply(smooth, -eps / n_cls)
            if keep is not None:
                smooth = be.multiply(smooth, keep)
            loss = be.add(loss, smooth)
        ctx.logp, ctx.idx, ctx.axis, ctx.keep, ctx.w = logp, idx, ax, keep, w
        ctx.coef = coef
        out, ctx.denom = _finish(be, _as_array(be, loss), wt, reduction, a._data.dtype)
        return out

    @staticmethod
    def backward(ctx, g):
        gs = _upstream(ctx, g)
        gx = CrossEntropyBackward.apply(gs, ctx.inp, ctx.target if ctx.probs else None,
                                        ctx.w if ctx.probs else None, ctx)
        gt = None
        if ctx.probs and ctx.needs_input_grad[1]:
            # d/d target = -(1 - eps) w log p, per target scaled
            lp = _log_softmax(ctx.inp, ctx.axis)
            gt = gs * lp * -(1.0 - ctx.eps)
            if ctx.w is not None:   # the weight as a Tensor: differentiable again in it
                gt = gt * ctx.w.to(lp.dtype).reshape(ctx.wb.shape)
        gw = None
        if ctx.probs and ctx.w is not None and ctx.needs_input_grad[2]:
            # d/d w[c] = -sum over targets of gs * q[c] log p[c] (q smoothed, unweighted)
            q = ctx.target.to(ctx.inp.dtype)
            if ctx.eps:
                q = q * (1.0 - ctx.eps) + ctx.eps / ctx.inp.shape[ctx.axis]
            d = -(gs * q * _log_softmax(ctx.inp, ctx.axis))
            gw = d if d.ndim == 1 else d.sum([i for i in range(d.ndim) if i != 1])
        return gx, gt, gw, None, None, None


def _ce_fused(ctx, fused, a, target, ignore_index, eps, t, keep, w, wt):
    """cross_entropy with class-index targets over the last axis ((C,) or (N, C)) by the
    backend's fused kernel: per-row loss and log-sum-exp in one pass; the backward
    recomputes the probabilities from the saved lse (CrossEntropyBackward)."""
    be = a._be
    x = a._data
    ctx.x2 = be.reshape(x, (1, -1)) if x.ndim == 1 else x
    ctx.tg = be.reshape(target._data, (-1,))
    loss, ctx.lse = fused(ctx.x2, ctx.tg, ignore_index, eps, w)
    if x.ndim == 1:
        loss = be.reshape(loss, ())
    ctx.fused, ctx.ignore_index, ctx.wk = True, ignore_index, w
    # what a double backward's target distribution needs (_target_distribution)
    if x.dtype in _LOW:
        w = be.astype(w, _F32) if w is not None else None
        wt = be.astype(wt, _F32) if wt is not None else None
    coef = wt
    if eps:
        coef = be.multiply(coef, 1.0 - eps) if coef is not None else 1.0 - eps
    ax = x.ndim - 1
    ctx.logp, ctx.idx, ctx.axis, ctx.keep, ctx.w, ctx.coef = \
        None, be.reshape(t, t.shape + (1,)), ax, keep, w, coef
    out, ctx.denom = _finish(be, loss, wt, ctx.reduction, x.dtype)
    return out


def _ce_probs(ctx, a, target, weight, ignore_index, eps):
    """cross_entropy against class probabilities (target shaped as the input)."""
    be = a._be
    tdt = target._data.dtype
    if tdt not in FLOAT_NP:
        raise RuntimeError("Expected floating point type for target with class "
                           f"probabilities, got {_dtype_name(tdt)}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    nd = a.ndim
    ax = 0 if nd == 1 else 1
    if nd == 0:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but "
                         "got 1)")
    n_cls = a.shape[ax]
    if weight is not None and (weight.ndim != 1 or weight.numel() != n_cls):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                           f"{n_cls} classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")
    _check_smoothing(eps)
    rdt = _dt.result_type(a, target).np
    x = a._data if a._data.dtype == rdt else be.astype(a._data, rdt)
    cdt = _F32 if rdt in _LOW else rdt
    logp = _normalized(ctx, _make(x), ax, _dt._by_np[cdt], True)
    q = target._data
    q = be.astype(q, cdt) if q.dtype != cdt else q
    if eps:
        q = be.multiply(q, 1.0 - eps)
        q += eps / n_cls
    wb = None
    if weight is not None:
        wb = be.reshape(be.astype(weight._data, cdt), (n_cls,) + (1,) * (nd - ax - 1))
        q = be.multiply(q, wb)
    loss = be.sum(be.multiply(logp, q), axis=ax)
    loss = be.negative(_as_array(be, loss))
    ctx.probs, ctx.target, ctx.logp, ctx.q, ctx.axis = True, target, logp, q, ax
    ctx.w, ctx.wb = weight, wb
    r = ctx.reduction
    if r == "mean":
        n = loss.size
        ctx.denom = float(n)
        out = be.divide(be.sum(loss), n) if n else be.full((), float("nan"), cdt)
    else:
        ctx.denom = None
        out = be.sum(loss) if r == "sum" else loss
    out = _as_array(be, out)
    return out if out.dtype == rdt else be.astype(out, rdt)


class CrossEntropyBackward(Function):
    """gs * (softmax(x) * sum(q) - q), q the target distribution (weighted, smoothed,
    zero where ignored), gs the upstream gradient per target; one NumPy pass on the hot
    path and differentiable again (in gs, x and probability targets)."""

    @staticmethod
    def forward(ctx, gs, a, target, weight, fctx):
        be = a._be
        ctx.f = fctx
        if ctx.needs_input_grad:
            ctx.save_for_backward(gs, a, target)
        gd = gs._data
        if fctx.fused:      # one kernel: softmax from the saved lse, minus q, times gs
            dx = be.cross_entropy_bwd(fctx.x2, fctx.tg, fctx.lse, be.reshape(gd, (-1,)),
                                      fctx.ignore_index, fctx.eps, fctx.wk)
            return be.reshape(dx, a.shape) if a.ndim == 1 else dx
        if gd.dtype != fctx.logp.dtype:
            gd = be.astype(gd, fctx.logp.dtype)
        p = be.exp(fctx.logp)
        if fctx.probs:
            q = fctx.q
            s = be.sum(q, axis=fctx.axis, keepdims=True)
            s = be.multiply(s, gd)
            p *= s
            p -= be.multiply(q, gd)
            return p
        ax, eps, n_cls = fctx.axis, fctx.eps, p.shape[fctx.axis]
        # (1 - eps) w[t] per target, 0 where ignored (None: 1 for every target)
        coef = _per_target(be, fctx.coef, fctx.idx.shape)
        # sum(q) per target: coef + eps / C * sum(w), 0 where ignored
        s = 1.0 if coef is None else coef
        if eps:
            sw = float(be.sum(fctx.w)) if fctx.w is not None else float(n_cls)
            extra = eps / n_cls * sw
            if fctx.keep is not None:
                extra = be.multiply(be.reshape(fctx.keep, fctx.idx.shape), extra)
            s = be.add(s, extra)
        p *= be.multiply(s, gd)
        if eps:     # minus eps / C * w (per class) where kept
            sm = be.multiply(gd, eps / n_cls)
            if fctx.keep is not None:
                sm = be.multiply(be.reshape(fctx.keep, fctx.idx.shape), sm)
            if fctx.w is not None:
                sm = be.multiply(sm, be.reshape(fctx.w, (n_cls,) + (1,) * (p.ndim - ax - 1)))
            p -= sm
        # minus coef * gs at the target of each row
        at = be.take_along_axis(p, fctx.idx, ax)
        c = gd if coef is None else be.multiply(coef, gd)
        at -= c
        be.put_along_axis(p, fctx.idx, at, ax)
        return p

    @staticmethod
    def backward(ctx, gg):
        gs, x, target = ctx.saved_tensors
        f = ctx.f
        ax = f.axis
        p = _softmax(x, ax)
        q = _target_distribution(f, target)
        s = q.sum(ax, keepdim=True)
        need = ctx.needs_input_grad
        d_gs = (gg * (p * s - q)) if need[0] else None
        d_x = None
        if need[1]:
            v = gg * gs * s
            d_x = p * (v - (v * p).sum(ax, keepdim=True))
        d_t = d_w = None
        if need[2] or need[3]:
            d_q = gs * ((gg * p).sum(ax, keepdim=True) - gg)
        if need[2]:
            d_t = d_q * (1.0 - f.eps)
            if f.wb is not None:
                d_t = d_t * _make(f.wb)
        if need[3]:     # q = smoothed target * weight (probability targets only)
            qs = target.to(x.dtype)
            if f.eps:
                qs = qs * (1.0 - f.eps) + f.eps / x.shape[ax]
            d = d_q * qs
            d_w = d if d.ndim == 1 else d.sum([i for i in range(d.ndim) if i != 1])
        return d_gs, d_x, d_t, d_w, None


def _per_target(be, coef, shape):
    """A per-target coefficient (None, a float, or an array shaped as the targets)
    shaped to broadcast along the class axis."""
    return coef if coef is None or isinstance(coef, float) else be.reshape(coef, shape)


def _target_distribution(f, target):
    """The target distribution q of a cross_entropy as a Tensor (differentiable in a
    probability target)."""
    be = f.inp._be
    shape = f.inp.shape
    dtype = f.lse.dtype if f.fused else f.logp.dtype
    if f.probs:
        n_cls = shape[f.axis]
        q = target.to(f.inp.dtype) if target.dtype != f.inp.dtype else target
        if f.eps:
            q = q * (1.0 - f.eps) + f.eps / n_cls
        return q * _make(f.wb) if f.wb is not None else q
    ax, n_cls = f.axis, shape[f.axis]
    q = be.full(shape, 0, dtype)
    if f.eps:
        fill = f.eps / n_cls
        q += be.multiply(be.reshape(f.w, (n_cls,) + (1,) * (len(shape) - ax - 1)), fill) \
            if f.w is not None else fill
        if f.keep is not None:
            q *= be.reshape(f.keep, f.idx.shape)
    at = be.take_along_axis(q, f.idx, ax)
    coef = _per_target(be, f.coef, f.idx.shape)
    at += 1.0 if coef is None else coef
    be.put_along_axis(q, f.idx, at, ax)
    return _make(q)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:      # class indices: nll_loss's weight rule
        _weight_no_grad(_nll_name(input), weight)
    return CrossEntropy.apply(input, target, weight, ignore_index, reduction,
                              float(label_smoothing))


# ---------------------------------------------------------------- nll_loss
class NllLoss(Function):
    @staticmethod
    def forward(ctx, a, target, weight, ignore_index, reduction):
        be = a._be
        x = a._data
        _check_weight_dtype(weight, x)
        ax, t, _, _, wt = _class_targets(x, target, weight, ignore_index)
        idx = be.reshape(t, t.shape[:ax] + (1,) + t.shape[ax:])
        cdt = _F32 if x.dtype in _LOW else x.dtype
        picked = be.reshape(be.take_along_axis(x, idx, ax), t.shape)
        if picked.dtype != cdt:
            picked = be.astype(picked, cdt)
        loss = be.negative(picked) if wt is None else be.multiply(picked, be.negative(wt))
        ctx.idx, ctx.axis, ctx.coef, ctx.reduction, ctx.shape = idx, ax, wt, reduction, x.shape
        out, ctx.denom = _finish(be, _as_array(be, loss), wt, reduction, x.dtype)
        return out

    @staticmethod
    def backward(ctx, g):
        gs = _upstream(ctx, g)
        be = g._be
        m = be.full(ctx.shape, 0, g._data.dtype)
        c = -1.0 if ctx.coef is None else be.negative(be.reshape(ctx.coef, ctx.idx.shape))
        be.put_along_axis(m, ctx.idx, c, ctx.axis)
        return gs * _make(m), None, None, None, None


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100,
             reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _weight_no_grad(_nll_name(input), weight)
    return NllLoss.apply(input, target, weight, ignore_index, reduction)


# ---------------------------------------------------------------- regression losses
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _size_warning(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    d = input - target
    if weight is not None:
        if weight.shape != input.shape:
            raise ValueError("Weights and input must have the same size.")
        return _weighted(d * d, weight, reduction)
    reduction = _reduction(None, None, reduction)
    _float_only(input, "mse_cpu")
    return _reduce(d * d, reduction)


def _float_only(t, kernel):
    if t._data.dtype not in FLOAT_NP:
        raise NotImplementedError(f"\"{kernel}\" not implemented for "
                                  f"'{_dt.SCALAR_NAMES[t.dtype]}'")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _size_warning(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    d = (input - target).abs()
    if weight is not None:
        if weight.shape != input.shape:
            raise ValueError("Weights and input must have the same size.")
        return _weighted(d, weight, reduction)
    return _reduce(d, _reduction(None, None, reduction))


def _low_dtype(input, target):
    """The float16/bfloat16 result dtype of an elementwise loss, or None."""
    dt = _dt.result_type(input, target)
    return dt if dt.np in _LOW else None


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
                   beta=1.0):
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    low = _low_dtype(input, target)
    if low is not None:     # elementwise in float32, rounded once, as torch's kernel
        input, target = input.float(), target.float()
    d = input - target
    ad = d.abs()
    if beta == 0:
        loss = ad
    else:
        loss = where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta)
    return _reduce(loss if low is None else loss.to(low), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _size_warning(input, target)
    if weight is None:
        reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    low = _low_dtype(input, target)
    if low is not None:     # elementwise in float32, rounded once, as torch's kernel
        input, target = input.float(), target.float()
    d = input - target
    ad = d.abs()
    loss = where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    if low is not None:
        loss = loss.to(low)
    if weight is None:
        return _reduce(loss, reduction)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', "
                         "'mean', 'sum'.")
    return _reduce(loss, reduction)      # torch's weighted mean divides by the count


# ---------------------------------------------------------------- binary cross entropy
class BinaryCrossEntropy(Function):
    """-w (t log x + (1 - t) log(1 - x)) with each log clamped at -100, as torch."""

    @staticmethod
    def forward(ctx, a, t, w):
        be = a._be
        x, y = a._data, t._data
        if y.dtype != x.dtype:
            raise RuntimeError(f"Found dtype {_dtype_name(y.dtype)} but expected "
                               f"{_dtype_name(x.dtype)}")
        if x.size and not (be.all(be.greater_equal(x, 0)) and be.all(be.less_equal(x, 1))):
            raise RuntimeError("all elements of input should be between 0 and 1")
        ctx.save_for_backward(a, t, w)
        if x.dtype in _LOW:
            x, y = be.astype(x, _F32), be.astype(y, _F32)
        lx = be.maximum(be.log(x), -100.0)
        l1x = be.maximum(be.log1p(be.negative(x)), -100.0)
        # -(t log x + (1 - t) log(1 - x)) = -(l1x + t (lx - l1x))
        loss = be.negative(be.add(l1x, be.multiply(y, be.subtract(lx, l1x))))
        if w is not None:
            loss = be.multiply(loss, w._data)
        loss = _as_array(be, loss)
        return loss if loss.dtype == a._data.dtype else be.astype(loss, a._data.dtype)

    @staticmethod
    def backward(ctx, g):
        x, t, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gw = g if w is None else g * w
        gx = gw * (x - t) / (x * (1 - x)).clamp(min=1e-12) if need[0] else None
        gt = None
        if need[1]:
            gt = gw * ((1 - x).log() - x.log())      # -logit(x), unclamped as torch's
        return gx, gt, None


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the "
                         f"input size ({input.shape}) is deprecated. Please ensure they "
                         "have the same size.")
    _weight_no_grad("binary_cross_entropy", weight)
    if weight is not None:
        weight = weight.expand(input.shape)
        if weight.dtype != input.dtype:
            weight = weight.to(input.dtype)
    return _reduce(BinaryCrossEntropy.apply(input, target, weight), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    # (1 - t) x - (1 + (pw - 1) t) log sigmoid(x): stable for any x
    ls = logsigmoid(input)
    if pos_weight is None:
        loss = (1 - target) * input - ls
    else:
        loss = (1 - target) * input - ((pos_weight - 1) * target + 1) * ls
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean",
           log_target=False):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and "
                      "the support size.'batchmean' divides only by the batch size, and "
                      "aligns with the KL div math definition.'mean' will be changed to "
                      "behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    base = "sum" if reduction == "batchmean" else _reduction(None, None, reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy(t, t) - t x: 0 where t is 0
        pos = target > 0
        loss = where(pos, target * where(pos, target, 1.0).log(), 0.0) - target * input
    out = _reduce(loss, base)
    if reduction == "batchmean" and input.ndim != 0:
        out = out / input.shape[0]
    return out



from ..autocast_state import wrap_autocast  # noqa: E402
wrap_autocast(globals())   # autocast policies (genesis/autocast_state.py)
