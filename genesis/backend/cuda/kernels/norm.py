"""Fused layer/RMS norm kernels over the rows of a (M, N) array whose columns are
adjacent in memory (row stride ``sx``). A program takes BLOCK_M rows as a tile of
(BLOCK_M, BLOCK_N); rows longer than BLOCK_N (SINGLE False) are walked in chunks.
Statistics are two-pass (mean, then the centered sum of squares) in CDT: float32 for
float16/bfloat16/float32, float64 for float64."""
import triton
import triton.language as tl

from .common import from_bits, store_cast


@triton.jit
def _tile(row0, col0, M, N, sx, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """(the tile's offsets in the contiguous output, its columns, its mask, its offsets
    in x)"""
    rows = row0 + tl.arange(0, BLOCK_M)
    cols = col0 + tl.arange(0, BLOCK_N)
    m = (rows < M)[:, None] & (cols < N)[None, :]
    off = rows.to(tl.int64)[:, None] * sx + cols[None, :]
    return rows.to(tl.int64)[:, None] * N + cols[None, :], cols, m, off


@triton.jit
def norm_fwd_kernel(x, w, b, y, mean, rstd, M, N, sx, eps_bits,
                    CENTERED: tl.constexpr, HAS_W: tl.constexpr, HAS_B: tl.constexpr,
                    CDT: tl.constexpr, SINGLE: tl.constexpr,
                    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """y = (x - mean) * rstd * w + b per row (no mean when not CENTERED); saves mean and
    rstd (CDT, one per row)."""
    row0 = tl.program_id(0).to(tl.int64) * BLOCK_M
    eps = from_bits(eps_bits).to(CDT)
    rows = row0 + tl.arange(0, BLOCK_M)
    rmask = rows < M
    if SINGLE:
        yo, cols, m, off = _tile(row0, 0, M, N, sx, BLOCK_M, BLOCK_N)
        v = tl.load(x + off, mask=m, other=0).to(CDT)
        if CENTERED:
            mu = tl.sum(v, axis=1) / N
            v = tl.where(m, v - mu[:, None], 0)
        r = 1.0 / tl.sqrt(tl.sum(v * v, axis=1) / N + eps)
        out = v * r[:, None]
        if HAS_W:
            out = out * tl.load(w + cols, mask=cols < N, other=0).to(CDT)[None, :]
        if HAS_B:
            out = out + tl.load(b + cols, mask=cols < N, other=0).to(CDT)[None, :]
        tl.store(y + yo, store_cast(out, y.dtype.element_ty), mask=m)
    else:
        mu = tl.zeros((BLOCK_M,), CDT)
        if CENTERED:
            acc = tl.zeros((BLOCK_M, BLOCK_N), CDT)
            for c0 in range(0, N, BLOCK_N):
                yo, cols, m, off = _tile(row0, c0, M, N, sx, BLOCK_M, BLOCK_N)
                acc += tl.load(x + off, mask=m, other=0).to(CDT)
            mu = tl.sum(acc, axis=1) / N
        acc = tl.zeros((BLOCK_M, BLOCK_N), CDT)
        for c0 in range(0, N, BLOCK_N):
            yo, cols, m, off = _tile(row0, c0, M, N, sx, BLOCK_M, BLOCK_N)
            v = tl.where(m, tl.load(x + off, mask=m, other=0).to(CDT) - mu[:, None], 0)
            acc += v * v
        r = 1.0 / tl.sqrt(tl.sum(acc, axis=1) / N + eps)
        for c0 in range(0, N, BLOCK_N):
            yo, cols, m, off = _tile(row0, c0, M, N, sx, BLOCK_M, BLOCK_N)
            v = tl.load(x + off, mask=m, other=0).to(CDT)
            out = (v - mu[:, None]) * r[:, None]
            if HAS_W:
                out = out * tl.load(w + cols, mask=cols < N, other=0).to(CDT)[None, :]
            if HAS_B:
                out = out + tl.load(b + cols, mask=cols < N, other=0).to(CDT)[None, :]
            tl.store(y + yo, store_cast(out, y.dtype.element_ty), mask=m)
    if CENTERED:
        tl.store(mean + rows, mu, mask=rmask)
    tl.store(rstd + rows, r, mask=rmask)


@triton.jit
def norm_bwd_kernel(g, x, w, mean, rstd, dx, pw, pb, M, N, sx, sg, sd, rows_per,
                    CENTERED: tl.constexpr, HAS_W: tl.constexpr, NEED_DX: tl.constexpr,
                    NEED_DW: tl.constexpr, NEED_DB: tl.constexpr, CDT: tl.constexpr,
                    SINGLE: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """With xh = (x - mean) * rstd and gh = g * w:
    dx = rstd * (gh - mean(gh) - xh * mean(gh * xh)) per row (no mean(gh) when not
    CENTERED); this program's rows [pid * rows_per, +rows_per) add sum(g * xh) and sum(g)
    into row pid of the (programs, N) partials pw and pb (CDT)."""
    pid = tl.program_id(0)
    start = pid.to(tl.int64) * rows_per
    stop = tl.minimum(start + rows_per, M)
    if SINGLE:
        cols = tl.arange(0, BLOCK_N)
        cm = cols < N
        acc_w = tl.zeros((BLOCK_N,), CDT)
        acc_b = tl.zeros((BLOCK_N,), CDT)
        if HAS_W:
            wv = tl.load(w + cols, mask=cm, other=0).to(CDT)
        for row0 in range(start, stop, BLOCK_M):
            rows = row0 + tl.arange(0, BLOCK_M)
            rm = rows < stop
            m = rm[:, None] & cm[None, :]
            r64 = rows.to(tl.int64)[:, None]
            gv = tl.load(g + r64 * sg + cols[None, :], mask=m, other=0).to(CDT)
            xv = tl.load(x + r64 * sx + cols[None, :], mask=m, other=0).to(CDT)
            r = tl.load(rstd + rows, mask=rm, other=0).to(CDT)
            if CENTERED:
                mu = tl.load(mean + rows, mask=rm, other=0).to(CDT)
                xv = xv - mu[:, None]
            xh = tl.where(m, xv * r[:, None], 0)
            if NEED_DW:
                acc_w += tl.sum(gv * xh, axis=0)
            if NEED_DB:
                acc_b += tl.sum(gv, axis=0)
            if NEED_DX:
                gh = gv
                if HAS_W:
                    gh = gv * wv[None, :]
                c2 = tl.sum(gh * xh, axis=1) / N
                d = gh - xh * c2[:, None]
                if CENTERED:
                    d = d - (tl.sum(gh, axis=1) / N)[:, None]
                tl.store(dx + r64 * sd + cols[None, :],
                         store_cast(d * r[:, None], dx.dtype.element_ty), mask=m)
        if NEED_DW:
            tl.store(pw + pid.to(tl.int64) * N + cols, acc_w, mask=cm)
        if NEED_DB:
            tl.store(pb + pid.to(tl.int64) * N + cols, acc_b, mask=cm)
    else:
        # long rows: partials are zeroed by the caller and accumulated chunk by chunk
        for row0 in range(start, stop, BLOCK_M):
            rows = row0 + tl.arange(0, BLOCK_M)
            rm = rows < stop
            r64 = rows.to(tl.int64)[:, None]
            r = tl.load(rstd + rows, mask=rm, other=0).to(CDT)
            mu = tl.zeros((BLOCK_M,), CDT)
            if CENTERED:
                mu = tl.load(mean + rows, mask=rm, other=0).to(CDT)
            c1 = tl.zeros((BLOCK_M,), CDT)
            c2 = tl.zeros((BLOCK_M,), CDT)
            if NEED_DX:
                a1 = tl.zeros((BLOCK_M, BLOCK_N), CDT)
                a2 = tl.zeros((BLOCK_M, BLOCK_N), CDT)
                for c0 in range(0, N, BLOCK_N):
                    cols = c0 + tl.arange(0, BLOCK_N)
                    m = rm[:, None] & (cols < N)[None, :]
                    gv = tl.load(g + r64 * sg + cols[None, :], mask=m, other=0).to(CDT)
                    xv = tl.load(x + r64 * sx + cols[None, :], mask=m, other=0).to(CDT)
                    xh = tl.where(m, (xv - mu[:, None]) * r[:, None], 0)
                    if HAS_W:
                        gv = gv * tl.load(w + cols, mask=cols < N, other=0).to(CDT)[None, :]
                    a1 += gv
                    a2 += gv * xh
                c1 = tl.sum(a1, axis=1) / N
                c2 = tl.sum(a2, axis=1) / N
            for c0 in range(0, N, BLOCK_N):
                cols = c0 + tl.arange(0, BLOCK_N)
                cm = cols < N
                m = rm[:, None] & cm[None, :]
                gv = tl.load(g + r64 * sg + cols[None, :], mask=m, other=0).to(CDT)
                xv = tl.load(x + r64 * sx + cols[None, :], mask=m, other=0).to(CDT)
                xh = tl.where(m, (xv - mu[:, None]) * r[:, None], 0)
                if NEED_DW:
                    p = pw + pid.to(tl.int64) * N + cols
                    tl.store(p, tl.load(p, mask=cm, other=0) + tl.sum(gv * xh, axis=0),
                             mask=cm)
                if NEED_DB:
                    p = pb + pid.to(tl.int64) * N + cols
                    tl.store(p, tl.load(p, mask=cm, other=0) + tl.sum(gv, axis=0), mask=cm)
                if NEED_DX:
                    if HAS_W:
                        gv = gv * tl.load(w + cols, mask=cm, other=0).to(CDT)[None, :]
                    d = gv - xh * c2[:, None]
                    if CENTERED:
                        d = d - c1[:, None]
                    tl.store(dx + r64 * sd + cols[None, :],
                             store_cast(d * r[:, None], dx.dtype.element_ty), mask=m)


# ---------------------------------------------------------------- ahead-of-time checks
def _fwd(xt, wt, cdt, centered, single, bm, bn):
    sig = {"x": xt, "w": wt, "b": wt, "y": xt, "mean": cdt, "rstd": cdt, "M": "i32",
           "N": "i32", "sx": "i64", "eps_bits": "i64"}
    sig.update({k: "constexpr" for k in ("CENTERED", "HAS_W", "HAS_B", "CDT", "SINGLE",
                                         "BLOCK_M", "BLOCK_N")})
    const = dict(CENTERED=centered, HAS_W=True, HAS_B=centered,
                 CDT=tl.float64 if cdt == "*fp64" else tl.float32, SINGLE=single,
                 BLOCK_M=bm, BLOCK_N=bn)
    return norm_fwd_kernel, sig, const


def _bwd(xt, wt, cdt, centered, single, bm, bn):
    sig = {"g": xt, "x": xt, "w": wt, "mean": cdt, "rstd": cdt, "dx": xt, "pw": cdt,
           "pb": cdt, "M": "i32", "N": "i32", "sx": "i64", "sg": "i64", "sd": "i64",
           "rows_per": "i64"}
    sig.update({k: "constexpr" for k in ("CENTERED", "HAS_W", "NEED_DX", "NEED_DW",
                                         "NEED_DB", "CDT", "SINGLE", "BLOCK_M", "BLOCK_N")})
    const = dict(CENTERED=centered, HAS_W=True, NEED_DX=True, NEED_DW=True,
                 NEED_DB=centered, CDT=tl.float64 if cdt == "*fp64" else tl.float32,
                 SINGLE=single, BLOCK_M=bm, BLOCK_N=bn)
    return norm_bwd_kernel, sig, const


AOT_CASES = [
    _fwd("*fp32", "*fp32", "*fp32", True, True, 4, 1024),
    _fwd("*bf16", "*fp32", "*fp32", False, True, 8, 512),
    _fwd("*fp16", "*fp16", "*fp32", True, False, 1, 1024),
    _fwd("*fp64", "*fp64", "*fp64", True, False, 1, 1024),
    _bwd("*fp32", "*fp32", "*fp32", True, True, 4, 1024),
    _bwd("*bf16", "*bf16", "*fp32", False, True, 8, 512),
    _bwd("*fp32", "*fp32", "*fp32", True, False, 1, 1024),
    _bwd("*fp64", "*fp64", "*fp64", False, False, 1, 1024),
]
