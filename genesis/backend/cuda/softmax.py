"""Fused softmax / log_softmax and class-index cross entropy over the last axis
(kernels/softmax.py): optional primitives of the CUDA backend, which genesis.ops uses
through ``getattr(be, name, None)`` (the CPU backend composes them from primitives).

One launch each instead of the several full passes of the composed ops; the cross entropy
keeps only the per-row log-sum-exp for its backward, which recomputes the probabilities
from the logits as it writes the gradient.
"""
import numpy as np
import triton

from .array import DeviceArray
from .kernels import common as _k, softmax as _ks

__all__ = ["softmax_fwd", "softmax_bwd", "cross_entropy_fwd", "cross_entropy_bwd"]

# rows up to this long stay in registers (SINGLE); longer ones loop over chunks
MAX_BLOCK = 4096
_F32 = np.dtype(np.float32)


def _geometry(n):
    block = min(triton.next_power_of_2(max(n, 1)), MAX_BLOCK)
    return dict(BLOCK=block, SINGLE=n <= block,
                num_warps=max(1, min(16, block // 256)))


def _rows(x):
    """x (contiguous, copied if not) and its (rows, row length) over the last axis."""
    if not x.flags.c_contiguous:
        from .backend import copy
        x = copy(x)
    n = x.shape[-1] if x.ndim else 1
    return x, (x.size // n if n else 0), n


def _acc(dt):
    """The dtype per-row results are kept in: float32 for float16/bfloat16."""
    return _F32 if dt.itemsize < 4 else dt


def softmax_fwd(x, log=False):
    """softmax (or log_softmax) of a floating array over its last axis, in its dtype."""
    x, m, n = _rows(x)
    y = DeviceArray.empty(x.shape, x.dtype, x.device_index)
    if m and n:
        _ks.softmax_fwd_kernel[(m,)](x.arg(), y.arg(), n, LOG=bool(log),
                                     CDT=_k.compute_dtype(x.dtype), **_geometry(n))
    return y


def softmax_bwd(g, y, log=False):
    """The input gradient of softmax (y * (g - sum(g * y))) or log_softmax
    (g - exp(y) * sum(g)) over the last axis, from its output y and gradient g."""
    g, m, n = _rows(g)
    y, _, _ = _rows(y)
    dx = DeviceArray.empty(y.shape, y.dtype, y.device_index)
    if m and n:
        _ks.softmax_bwd_kernel[(m,)](g.arg(), y.arg(), dx.arg(), n, LOG=bool(log),
                                     CDT=_k.compute_dtype(y.dtype), **_geometry(n))
    return dx


def _vector(w):
    return None if w is None else _rows(w)[0]


def _targets(t):
    if t.dtype != np.int64 or not t.flags.c_contiguous:
        from .backend import astype, copy
        t = astype(t, np.int64) if t.dtype != np.int64 else copy(t)
    return t


def cross_entropy_fwd(x, targets, ignore_index=-100, label_smoothing=0.0, weight=None):
    """(loss, lse) per row of logits x (M, C) against class indices targets (M,):
    loss = (1-eps) w[t] (lse - x[t]) + eps/C sum_c w[c] (lse - x[c]), 0 where t is
    ignore_index; both in float32 for float16/bfloat16 logits, else in x's dtype.
    Targets must be in range (the caller checks)."""
    x, m, n = _rows(x)
    targets, weight = _targets(targets), _vector(weight)
    rdt = _acc(x.dtype)
    loss = DeviceArray.empty((m,), rdt, x.device_index)
    lse = DeviceArray.empty((m,), rdt, x.device_index)
    if m and n:
        eps = float(label_smoothing)
        _ks.ce_fwd_kernel[(m,)](
            x.arg(), targets.arg(), (weight if weight is not None else x).arg(), loss.arg(),
            lse.arg(), n, int(ignore_index), _k.scalar_bits(eps), HAS_W=weight is not None,
            SMOOTH=eps != 0, CDT=_k.compute_dtype(x.dtype), **_geometry(n))
    return loss, lse


def cross_entropy_bwd(x, targets, lse, gs, ignore_index=-100, label_smoothing=0.0,
                      weight=None):
    """d loss / d x of cross_entropy_fwd times gs (the upstream gradient per row, (M,) or
    a scalar for all rows): gs * (softmax(x) * sum(q) - q), q the smoothed, weighted
    one-hot target (zero where ignored), softmax recomputed from the saved lse."""
    x, m, n = _rows(x)
    targets, weight = _targets(targets), _vector(weight)
    dx = DeviceArray.empty(x.shape, x.dtype, x.device_index)
    if m and n:
        eps = float(label_smoothing)
        sumw = float(n)
        if eps and weight is not None:
            from .reduce import sum as _sum
            sumw = float(_sum(weight, dtype=np.float64))
        if gs.dtype != lse.dtype:
            from .backend import astype
            gs = astype(gs, lse.dtype)
        geo = _geometry(n)
        gstride = 0 if gs.size == 1 else gs.strides[-1] // gs.itemsize
        if gs.size == 1:
            gs = gs.view_of((1,), (gs.itemsize,), gs.offset)
        _ks.ce_bwd_kernel[(m,)](
            x.arg(), targets.arg(), (weight if weight is not None else x).arg(), lse.arg(),
            gs.arg(), gstride, dx.arg(), n, int(ignore_index), _k.scalar_bits(eps),
            _k.scalar_bits(sumw), HAS_W=weight is not None, SMOOTH=eps != 0,
            CDT=_k.compute_dtype(x.dtype), BLOCK=geo["BLOCK"], num_warps=geo["num_warps"])
    return dx

