"""Row-wise softmax / log_softmax (forward and backward) and class-index cross entropy
(forward and backward from the saved log-sum-exp), one program per row of a contiguous
(M, N) array.

A row of at most BLOCK elements (SINGLE) stays in registers: one read, one write. Longer
rows loop over BLOCK-element chunks: a pass for the max, one for the sum of exponentials,
one that writes. Low precision computes in float32 (CDT) and rounds once on store;
float64 computes in float64. The math is the CPU backend's: z = x - max (NaN-propagating,
so a NaN, +inf or all -inf row gives NaN as there), then exp(z) / sum or z - log(sum).
"""
import triton
import triton.language as tl

from .common import from_bits, store_cast


@triton.jit
def _max_fold(acc, CDT: tl.constexpr):
    """NaN-propagating max of a 1-D tile (tl.max need not propagate NaN, the
    interpreter's skips it)."""
    isn = acc != acc
    m = tl.max(tl.where(isn, float("-inf"), acc), 0)
    has_nan = tl.max(isn.to(tl.int32), 0) > 0
    return tl.where(has_nan, float("nan"), m).to(CDT)


@triton.jit
def _row_max(xr, N, CDT: tl.constexpr, BLOCK: tl.constexpr):
    acc = tl.full([BLOCK], float("-inf"), CDT)
    for start in range(0, N, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        v = tl.load(xr + cols, mask=cols < N, other=float("-inf")).to(CDT)
        acc = tl.where(acc != acc, acc, tl.where(v > acc, v, acc))
        acc = tl.where(v != v, v, acc)
    return _max_fold(acc, CDT)


@triton.jit
def _row_sumexp(xr, m, N, CDT: tl.constexpr, BLOCK: tl.constexpr):
    acc = tl.zeros([BLOCK], CDT)
    for start in range(0, N, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        mask = cols < N
        v = tl.load(xr + cols, mask=mask, other=0).to(CDT)
        acc += tl.where(mask, tl.exp(v - m), 0)
    return tl.sum(acc, 0)


@triton.jit
def softmax_fwd_kernel(x, y, N, LOG: tl.constexpr, CDT: tl.constexpr, BLOCK: tl.constexpr,
                       SINGLE: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    xr = x + row * N
    yr = y + row * N
    if SINGLE:
        cols = tl.arange(0, BLOCK)
        mask = cols < N
        v = tl.load(xr + cols, mask=mask, other=float("-inf")).to(CDT)
        z = v - _max_fold(v, CDT)
        e = tl.where(mask, tl.exp(z), 0)
        s = tl.sum(e, 0)
        if LOG:
            r = z - tl.log(s)
        else:
            r = e / s
        tl.store(yr + cols, store_cast(r, y.dtype.element_ty), mask=mask)
    else:
        m = _row_max(xr, N, CDT, BLOCK)
        s = _row_sumexp(xr, m, N, CDT, BLOCK)
        ls = tl.log(s)
        for start in range(0, N, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            mask = cols < N
            z = tl.load(xr + cols, mask=mask, other=0).to(CDT) - m
            if LOG:
                r = z - ls
            else:
                r = tl.exp(z) / s
            tl.store(yr + cols, store_cast(r, y.dtype.element_ty), mask=mask)


@triton.jit
def softmax_bwd_kernel(g, y, dx, N, LOG: tl.constexpr, CDT: tl.constexpr,
                       BLOCK: tl.constexpr, SINGLE: tl.constexpr):
    """softmax: g*y - y*sum(g*y); log_softmax: g - exp(y)*sum(g)."""
    row = tl.program_id(0).to(tl.int64)
    gr = g + row * N
    yr = y + row * N
    dr = dx + row * N
    if SINGLE:
        cols = tl.arange(0, BLOCK)
        mask = cols < N
        gv = tl.load(gr + cols, mask=mask, other=0).to(CDT)
        yv = tl.load(yr + cols, mask=mask, other=0).to(CDT)
        if LOG:
            r = gv - tl.exp(yv) * tl.sum(gv, 0)
        else:
            gy = gv * yv
            r = gy - yv * tl.sum(gy, 0)
        tl.store(dr + cols, store_cast(r, dx.dtype.element_ty), mask=mask)
    else:
        acc = tl.zeros([BLOCK], CDT)
        for start in range(0, N, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            mask = cols < N
            gv = tl.load(gr + cols, mask=mask, other=0).to(CDT)
            if LOG:
                acc += gv
            else:
                acc += gv * tl.load(yr + cols, mask=mask, other=0).to(CDT)
        s = tl.sum(acc, 0)
        for start in range(0, N, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            mask = cols < N
            gv = tl.load(gr + cols, mask=mask, other=0).to(CDT)
            yv = tl.load(yr + cols, mask=mask, other=0).to(CDT)
            if LOG:
                r = gv - tl.exp(yv) * s
            else:
                r = gv * yv - yv * s
            tl.store(dr + cols, store_cast(r, dx.dtype.element_ty), mask=mask)


@triton.jit
def _target(t, w, row, ignore_index, CDT: tl.constexpr, HAS_W: tl.constexpr):
    """(whether the row's target counts, the target (0 where ignored), w[target])."""
    tgt = tl.load(t + row)
    valid = tgt != ignore_index
    ts = tl.where(valid, tgt, 0)
    if HAS_W:
        wt = tl.load(w + ts).to(CDT)
    else:
        wt = tl.full([], 1, CDT)
    return valid, ts, wt


@triton.jit
def ce_fwd_kernel(x, t, w, loss, lse, N, ignore_index, eps_bits, HAS_W: tl.constexpr,
                  SMOOTH: tl.constexpr, CDT: tl.constexpr, BLOCK: tl.constexpr,
                  SINGLE: tl.constexpr):
    """loss[r] = (1-eps) w[t] (lse - x[t]) + eps/N sum_c w[c] (lse - x[c]), 0 where the
    target is ignore_index; lse[r] = log(sum(exp(x[r]))) for the backward."""
    row = tl.program_id(0).to(tl.int64)
    xr = x + row * N
    valid, ts, wt = _target(t, w, row, ignore_index, CDT, HAS_W)
    if SINGLE:
        cols = tl.arange(0, BLOCK)
        mask = cols < N
        v = tl.load(xr + cols, mask=mask, other=float("-inf")).to(CDT)
        m = _max_fold(v, CDT)
        ls = m + tl.log(tl.sum(tl.where(mask, tl.exp(v - m), 0), 0))
    else:
        m = _row_max(xr, N, CDT, BLOCK)
        ls = m + tl.log(_row_sumexp(xr, m, N, CDT, BLOCK))
    eps = from_bits(eps_bits).to(CDT)
    xt = tl.load(xr + ts).to(CDT)
    r = (1 - eps) * wt * (ls - xt)
    if SMOOTH:
        if SINGLE:
            nl = ls - v
            if HAS_W:
                nl = nl * tl.load(w + cols, mask=mask, other=0).to(CDT)
            sm = tl.sum(tl.where(mask, nl, 0), 0)
        else:
            acc = tl.zeros([BLOCK], CDT)
            for start in range(0, N, BLOCK):
                cols = start + tl.arange(0, BLOCK)
                mask = cols < N
                nl = ls - tl.load(xr + cols, mask=mask, other=0).to(CDT)
                if HAS_W:
                    nl = nl * tl.load(w + cols, mask=mask, other=0).to(CDT)
                acc += tl.where(mask, nl, 0)
            sm = tl.sum(acc, 0)
        r += eps / N * sm
    tl.store(loss + row, store_cast(tl.where(valid, r, 0), loss.dtype.element_ty))
    tl.store(lse + row, store_cast(ls, lse.dtype.element_ty))


@triton.jit
def ce_bwd_kernel(x, t, w, lse, gs, gs_stride, dx, N, ignore_index, eps_bits, sumw_bits,
                  HAS_W: tl.constexpr, SMOOTH: tl.constexpr, CDT: tl.constexpr,
                  BLOCK: tl.constexpr):
    """dx = gs * (p * sum(q) - q), p = exp(x - lse), q[c] = (1-eps) w[t] [c == t]
    + eps/N w[c] (zero where ignored): one read of x, one write."""
    row = tl.program_id(0).to(tl.int64)
    xr = x + row * N
    dr = dx + row * N
    valid, ts, wt = _target(t, w, row, ignore_index, CDT, HAS_W)
    g = tl.load(gs + row * gs_stride).to(CDT)
    g = tl.where(valid, g, 0)
    eps = from_bits(eps_bits).to(CDT)
    coef = (1 - eps) * wt * g                       # at the target
    sg = coef
    if SMOOTH:
        sg += eps / N * from_bits(sumw_bits).to(CDT) * g   # sum(q) * gs
    ls = tl.load(lse + row).to(CDT)
    for start in range(0, N, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        mask = cols < N
        p = tl.exp(tl.load(xr + cols, mask=mask, other=0).to(CDT) - ls)
        d = p * sg
        if SMOOTH:
            sm = eps / N * g
            if HAS_W:
                sm = sm * tl.load(w + cols, mask=mask, other=0).to(CDT)
            d -= sm
        d -= tl.where(cols == ts, coef, 0)
        tl.store(dr + cols, store_cast(d, dx.dtype.element_ty), mask=mask)


def _case(fn, sig, **constexprs):
    sig = dict(sig)
    sig.update({k: "constexpr" for k in constexprs})
    return fn, sig, constexprs


_F = {"fp32": tl.float32, "fp64": tl.float64, "bf16": tl.float32, "fp16": tl.float32}


def _fwd(dt, log, single, block):
    return _case(softmax_fwd_kernel, {"x": f"*{dt}", "y": f"*{dt}", "N": "i32"},
                 LOG=log, CDT=_F[dt], BLOCK=block, SINGLE=single)


def _bwd(dt, log, single, block):
    return _case(softmax_bwd_kernel, {"g": f"*{dt}", "y": f"*{dt}", "dx": f"*{dt}",
                                      "N": "i32"},
                 LOG=log, CDT=_F[dt], BLOCK=block, SINGLE=single)


def _ce(dt, ldt, has_w, smooth, single, block):
    fwd = _case(ce_fwd_kernel, {"x": f"*{dt}", "t": "*i64", "w": f"*{dt}",
                                "loss": f"*{ldt}", "lse": f"*{ldt}", "N": "i32",
                                "ignore_index": "i64", "eps_bits": "i64"},
                HAS_W=has_w, SMOOTH=smooth, CDT=_F[dt], BLOCK=block, SINGLE=single)
    bwd = _case(ce_bwd_kernel, {"x": f"*{dt}", "t": "*i64", "w": f"*{dt}",
                                "lse": f"*{ldt}", "gs": f"*{ldt}", "gs_stride": "i64",
                                "dx": f"*{dt}", "N": "i32", "ignore_index": "i64",
                                "eps_bits": "i64", "sumw_bits": "i64"},
                HAS_W=has_w, SMOOTH=smooth, CDT=_F[dt], BLOCK=block)
    return [fwd, bwd]


AOT_CASES = [
    _fwd("fp32", False, True, 1024), _fwd("fp32", True, False, 4096),
    _fwd("bf16", False, False, 4096), _fwd("fp16", True, True, 256),
    _fwd("fp64", True, True, 2048), _fwd("fp64", False, False, 4096),
    _bwd("fp32", False, True, 1024), _bwd("fp32", True, False, 4096),
    _bwd("bf16", True, True, 512), _bwd("fp64", False, False, 4096),
    *_ce("fp32", "fp32", False, False, True, 1024),
    *_ce("bf16", "fp32", True, True, False, 4096),
    *_ce("fp64", "fp64", True, False, True, 4096),
    *_ce("fp16", "fp32", False, True, True, 128),
]
