"""Flash attention (forward and backward) for scaled_dot_product_attention without a mask,
optionally causal (torch's top-left alignment: query i sees keys j <= i) and with dropout
(DROPOUT: each score's keep bit from its own Philox counter, drawn again in backward).

Every operand is addressed by (batch, head, row, feature) element strides, so the usual
heads-inner layout ((B, L, H, E) seen as (B, H, L, E)) and broadcast batch dims (stride 0)
need no copy. The (batch, head) pairs and the row blocks share one grid axis (no limit on
the batch), the heaviest causal blocks first.

Forward: one program per BLOCK_M queries keeps them in registers and streams the keys
and values in BLOCK_N blocks with the online softmax (a running max and sum in float32,
exp2 of log2-scaled scores); it writes the output and the per-query statistics backward
recomputes the probabilities from, p = exp2(s - m) * r. The scores never reach
memory. Per query it keeps its max score m and 1 / (sum of exp2(s - m)) (float32, log2
units; a log-sum-exp m + log2(sum) would round to the ulp of m, which at scores in the
hundreds is a 1e-5 relative error in every recomputed probability).

Backward: `attn_bwd_dq` (one program per query block) computes delta = rowsum(dO * O),
stores it, and accumulates dQ over the key blocks; `attn_bwd_dkdv` (one program per key
block, launched after it) accumulates dK and dV over the query blocks. No atomics: the
result does not depend on scheduling.

float16/bfloat16 multiply on tensor cores with float32 accumulation; float32 takes IEEE
products unless TF32 is allowed (PREC). In the interpreter 16-bit operands are upcast to
float32 first (UPCAST; its bfloat16 arithmetic is wrong).
"""
import triton
import triton.language as tl

from .common import store_cast


@triton.jit
def _tile(ptr, rows, cols, s_row, s_col, n_rows, n_cols, UPCAST: tl.constexpr):
    """A (len(rows), len(cols)) tile, 0 outside (n_rows, n_cols)."""
    t = tl.load(ptr + rows.to(tl.int64)[:, None] * s_row + cols[None, :] * s_col,
                mask=(rows[:, None] < n_rows) & (cols[None, :] < n_cols), other=0)
    if UPCAST:
        t = t.to(tl.float32)
    return t


@triton.jit
def _keep(seed, offset, bh, L, S, qrow, kcol, p_drop):
    """Whether score (qrow, kcol) of batch-head bh survives dropout: its own Philox
    counter, offset + (bh * L + qrow) * S + kcol, whose top 24 bits as a uniform u in
    [0, 1) keep it where u >= p (qrow, kcol broadcast to the tile)."""
    c = offset + (bh * L + qrow.to(tl.int64)) * S + kcol
    u = (tl.randint(seed, c) >> 8).to(tl.int32).to(tl.float32) * (1.0 / (1 << 24))
    return u >= p_drop


@triton.jit
def _program(H, L_or_S, BLOCK: tl.constexpr, REVERSE: tl.constexpr):
    """(batch, head, block index, batch * H + head) of this program, 64-bit for the
    offsets; REVERSE visits the last (for causal
    attention the heaviest) blocks first."""
    nblk = tl.cdiv(L_or_S, BLOCK)
    pid = tl.program_id(0)
    bh = pid // nblk
    blk = pid % nblk
    if REVERSE:
        blk = nblk - 1 - blk
    bh = bh.to(tl.int64)
    return bh // H, bh % H, blk, bh


@triton.jit
def attn_fwd_kernel(q, k, v, o, stats,
                    s_qb, s_qh, s_qm, s_qd, s_kb, s_kh, s_kn, s_kd,
                    s_vb, s_vh, s_vn, s_vd, s_ob, s_oh, s_om, s_od,
                    H, L, S, DK, DV, qk_scale, seed, offset, p_drop, drop_scale,
                    CAUSAL: tl.constexpr, DROPOUT: tl.constexpr, PREC: tl.constexpr,
                    UPCAST: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                    BLOCK_DK: tl.constexpr, BLOCK_DV: tl.constexpr):
    b, h, blk, bh = _program(H, L, BLOCK_M, CAUSAL)
    rm = blk * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = tl.arange(0, BLOCK_N)
    dk = tl.arange(0, BLOCK_DK)
    dv = tl.arange(0, BLOCK_DV)
    qt = _tile(q + b * s_qb + h * s_qh, rm, dk, s_qm, s_qd, L, DK, UPCAST)
    kb = k + b * s_kb + h * s_kh
    vb = v + b * s_vb + h * s_vh
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, BLOCK_DV], tl.float32)
    hi = S
    if CAUSAL:
        hi = tl.minimum(S, (blk + 1) * BLOCK_M)
    for start in range(0, hi, BLOCK_N):
        cols = start + rn
        kt = _tile(kb, dk, cols, s_kd, s_kn, DK, S, UPCAST)             # (DK, N): k^T
        s = tl.dot(qt, kt, input_precision=PREC, out_dtype=tl.float32) * qk_scale
        ok = cols[None, :] < S
        if CAUSAL:
            ok = ok & (cols[None, :] <= rm[:, None])
        s = tl.where(ok, s, float("-inf"))
        # key 0 is in the first block and every query sees it: m_new is finite
        m_new = tl.maximum(m_i, tl.max(s, 1))
        p = tl.exp2(s - m_new[:, None])
        alpha = tl.exp2(m_i - m_new)
        l_i = l_i * alpha + tl.sum(p, 1)     # the normalizer sums before dropout
        if DROPOUT:
            keep = _keep(seed, offset, bh, L, S, rm[:, None], cols[None, :], p_drop)
            p = tl.where(keep, p * drop_scale, 0)
        vt = _tile(vb, cols, dv, s_vn, s_vd, S, DV, UPCAST)
        acc = tl.dot(p.to(vt.dtype), vt, acc * alpha[:, None], input_precision=PREC,
                     out_dtype=tl.float32)
        m_i = m_new
    out = acc / l_i[:, None]
    tl.store(o + b * s_ob + h * s_oh + rm.to(tl.int64)[:, None] * s_om + dv[None, :] * s_od,
             store_cast(out, o.dtype.element_ty),
             mask=(rm[:, None] < L) & (dv[None, :] < DV))
    # the statistics interleaved, (rows, 2): m and r = 1 / l
    row = (bh * L + rm) * 2
    tl.store(stats + row, m_i, mask=rm < L)
    tl.store(stats + row + 1, 1.0 / l_i, mask=rm < L)


@triton.jit
def attn_bwd_dq_kernel(q, k, v, o, do, stats, delta, dq,
                       s_qb, s_qh, s_qm, s_qd, s_kb, s_kh, s_kn, s_kd,
                       s_vb, s_vh, s_vn, s_vd, s_ob, s_oh, s_om, s_od,
                       s_gb, s_gh, s_gm, s_gd, s_db, s_dh, s_dm, s_dd,
                       H, L, S, DK, DV, qk_scale, scale, seed, offset, p_drop, drop_scale,
                       CAUSAL: tl.constexpr, DROPOUT: tl.constexpr, PREC: tl.constexpr,
                       UPCAST: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                       BLOCK_DK: tl.constexpr, BLOCK_DV: tl.constexpr):
    b, h, blk, bh = _program(H, L, BLOCK_M, CAUSAL)
    rm = blk * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = tl.arange(0, BLOCK_N)
    dk = tl.arange(0, BLOCK_DK)
    dv = tl.arange(0, BLOCK_DV)
    qt = _tile(q + b * s_qb + h * s_qh, rm, dk, s_qm, s_qd, L, DK, UPCAST)
    got = _tile(do + b * s_gb + h * s_gh, rm, dv, s_gm, s_gd, L, DV, UPCAST)
    ot = _tile(o + b * s_ob + h * s_oh, rm, dv, s_om, s_od, L, DV, False)
    # delta = rowsum(dO * O) = sum_j P_ij dP_ij: the softmax backward's row term
    d = tl.sum(got.to(tl.float32) * ot.to(tl.float32), 1)
    row = bh * L + rm
    tl.store(delta + row, d, mask=rm < L)
    mrow = tl.load(stats + row * 2, mask=rm < L, other=0)
    rrow = tl.load(stats + row * 2 + 1, mask=rm < L, other=0)
    kb = k + b * s_kb + h * s_kh
    vb = v + b * s_vb + h * s_vh
    acc = tl.zeros([BLOCK_M, BLOCK_DK], tl.float32)
    hi = S
    if CAUSAL:
        hi = tl.minimum(S, (blk + 1) * BLOCK_M)
    for start in range(0, hi, BLOCK_N):
        cols = start + rn
        kt = _tile(kb, dk, cols, s_kd, s_kn, DK, S, UPCAST)             # (DK, N)
        s = tl.dot(qt, kt, input_precision=PREC, out_dtype=tl.float32) * qk_scale
        ok = (cols[None, :] < S) & (rm[:, None] < L)
        if CAUSAL:
            ok = ok & (cols[None, :] <= rm[:, None])
        p = tl.where(ok, tl.exp2(s - mrow[:, None]) * rrow[:, None], 0)
        vt = _tile(vb, dv, cols, s_vd, s_vn, DV, S, UPCAST)             # (DV, N): v^T
        dp = tl.dot(got, vt, input_precision=PREC, out_dtype=tl.float32)
        if DROPOUT:
            keep = _keep(seed, offset, bh, L, S, rm[:, None], cols[None, :], p_drop)
            dp = tl.where(keep, dp * drop_scale, 0)
        ds = p * (dp - d[:, None])
        kn = tl.trans(kt)
        acc = tl.dot(ds.to(kn.dtype), kn, acc, input_precision=PREC, out_dtype=tl.float32)
    tl.store(dq + b * s_db + h * s_dh + rm.to(tl.int64)[:, None] * s_dm + dk[None, :] * s_dd,
             store_cast(acc * scale, dq.dtype.element_ty),
             mask=(rm[:, None] < L) & (dk[None, :] < DK))


@triton.jit
def attn_bwd_dkdv_kernel(q, k, v, do, stats, delta, dk_out, dv_out,
                         s_qb, s_qh, s_qm, s_qd, s_kb, s_kh, s_kn, s_kd,
                         s_vb, s_vh, s_vn, s_vd, s_gb, s_gh, s_gm, s_gd,
                         s_ab, s_ah, s_an, s_ad, s_cb, s_ch, s_cn, s_cd,
                         H, L, S, DK, DV, qk_scale, scale, seed, offset, p_drop,
                         drop_scale, CAUSAL: tl.constexpr, DROPOUT: tl.constexpr,
                         PREC: tl.constexpr, UPCAST: tl.constexpr, BLOCK_M: tl.constexpr,
                         BLOCK_N: tl.constexpr, BLOCK_DK: tl.constexpr,
                         BLOCK_DV: tl.constexpr):
    # dK (strides s_a*) and dV (s_c*) cover the broadcast batch: the caller sums them over
    # the batch dims k and v broadcast along
    b, h, blk, bh = _program(H, S, BLOCK_N, False)
    rn = blk * BLOCK_N + tl.arange(0, BLOCK_N)
    rm = tl.arange(0, BLOCK_M)
    dk = tl.arange(0, BLOCK_DK)
    dv = tl.arange(0, BLOCK_DV)
    kt = _tile(k + b * s_kb + h * s_kh, rn, dk, s_kn, s_kd, S, DK, UPCAST)     # (N, DK)
    vt = _tile(v + b * s_vb + h * s_vh, rn, dv, s_vn, s_vd, S, DV, UPCAST)     # (N, DV)
    qb = q + b * s_qb + h * s_qh
    gb = do + b * s_gb + h * s_gh
    rows = bh * L
    acc_k = tl.zeros([BLOCK_N, BLOCK_DK], tl.float32)
    acc_v = tl.zeros([BLOCK_N, BLOCK_DV], tl.float32)
    lo = 0
    if CAUSAL:
        # queries before this block's first key see none of its keys
        lo = (blk * BLOCK_N // BLOCK_M) * BLOCK_M
    for start in range(lo, L, BLOCK_M):
        qrows = start + rm
        qtt = _tile(qb, dk, qrows, s_qd, s_qm, DK, L, UPCAST)         # (DK, M): q^T
        st = tl.dot(kt, qtt, input_precision=PREC, out_dtype=tl.float32) * qk_scale
        mrow = tl.load(stats + (rows + qrows) * 2, mask=qrows < L, other=0)
        rrow = tl.load(stats + (rows + qrows) * 2 + 1, mask=qrows < L, other=0)
        drow = tl.load(delta + rows + qrows, mask=qrows < L, other=0)
        ok = (rn[:, None] < S) & (qrows[None, :] < L)
        if CAUSAL:
            ok = ok & (rn[:, None] <= qrows[None, :])
        pt = tl.where(ok, tl.exp2(st - mrow[None, :]) * rrow[None, :], 0)   # (N, M): P^T
        gt = _tile(gb, qrows, dv, s_gm, s_gd, L, DV, UPCAST)            # (M, DV)
        pdt = pt
        if DROPOUT:
            keep = _keep(seed, offset, bh, L, S, qrows[None, :], rn[:, None], p_drop)
            pdt = tl.where(keep, pt * drop_scale, 0)
        acc_v = tl.dot(pdt.to(gt.dtype), gt, acc_v, input_precision=PREC,
                       out_dtype=tl.float32)
        dpt = tl.dot(vt, tl.trans(gt), input_precision=PREC, out_dtype=tl.float32)
        if DROPOUT:
            dpt = tl.where(keep, dpt * drop_scale, 0)
        dst = pt * (dpt - drow[None, :])
        acc_k = tl.dot(dst.to(qtt.dtype), tl.trans(qtt), acc_k, input_precision=PREC,
                       out_dtype=tl.float32)
    rn64 = rn.to(tl.int64)
    tl.store(dk_out + b * s_ab + h * s_ah + rn64[:, None] * s_an + dk[None, :] * s_ad,
             store_cast(acc_k * scale, dk_out.dtype.element_ty),
             mask=(rn[:, None] < S) & (dk[None, :] < DK))
    tl.store(dv_out + b * s_cb + h * s_ch + rn64[:, None] * s_cn + dv[None, :] * s_cd,
             store_cast(acc_v, dv_out.dtype.element_ty),
             mask=(rn[:, None] < S) & (dv[None, :] < DV))


@triton.jit
def dropout_mask_kernel(keep, n, L, S, seed, offset, p_drop, BLOCK: tl.constexpr):
    """The (B * H, L, S) keep mask the kernels above draw, for double backward."""
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    row = i // S
    ok = _keep(seed, offset, row // L, L, S, row % L, i % S, p_drop)
    tl.store(keep + i, ok, mask=i < n)


def blocks(d_max, itemsize, interpret):
    """(BLOCK_M, BLOCK_N, num_warps, num_stages) for head dims up to d_max: smaller tiles
    as the head dim grows so that q, the accumulators and a key/value block stay in
    registers and shared memory on Hopper; the interpreter wants few, large programs."""
    if interpret:
        return 32, 32, 4, 1
    if itemsize == 4:       # float32 tiles take twice the shared memory of half ones
        return (64, 64, 4, 2) if d_max <= 64 else (64, 32, 4, 2) if d_max <= 128 \
            else (32, 32, 4, 2)
    if d_max <= 64:
        return 128, 64, 4, 3
    if d_max <= 128:
        return 128, 64, 8, 3
    return 64, 32, 8, 2


_PTR = {"float16": "*fp16", "bfloat16": "*bf16", "float32": "*fp32"}


def _sig(names, dtype, stats=("stats",), f32=()):
    sig = {n: _PTR[dtype] for n in names}
    sig.update({n: "*fp32" for n in stats + f32})
    return sig


def _strides(*ops):
    return {f"s_{o}{d}": "i64" for o in ops for d in "bh" + ("m" if o in "qogd" else "n")
            + "d"}


def _ints(*extra):
    out = {n: "i32" for n in ("H", "L", "S", "DK", "DV")}
    out.update({n: "fp32" for n in ("qk_scale",) + extra})
    out.update(seed="i64", offset="i64", p_drop="fp32", drop_scale="fp32")
    return out


def _aot(dtype, causal, d, prec="ieee", dropout=False):
    """The forward and both backward kernels for one dtype, mask and head dim, with the
    tiles and warps `blocks` gives a GPU."""
    bm, bn, warps, stages = blocks(d, 2 if dtype != "float32" else 4, False)
    meta = dict(CAUSAL=causal, DROPOUT=dropout, PREC=prec, UPCAST=False, BLOCK_DK=d,
                BLOCK_DV=d)
    opts = {"num_warps": warps, "num_stages": stages}
    fwd = dict(_sig("qkvo", dtype), **_strides("q", "k", "v", "o"), **_ints())
    dq = dict(_sig(("q", "k", "v", "o", "do"), dtype, ("stats", "delta"))
              | {"dq": _PTR[dtype]}, **_strides("q", "k", "v", "o", "g", "d"),
              **_ints("scale"))
    dkdv = dict(_sig(("q", "k", "v", "do"), dtype, ("stats", "delta"))
                | {"dk_out": _PTR[dtype], "dv_out": _PTR[dtype]},
                **_strides("q", "k", "v", "g", "a", "c"), **_ints("scale"))
    out = []
    for fn, sig in ((attn_fwd_kernel, fwd), (attn_bwd_dq_kernel, dq),
                    (attn_bwd_dkdv_kernel, dkdv)):
        c = dict(meta, BLOCK_M=bm, BLOCK_N=bn)
        out.append((fn, dict(sig, **{n: "constexpr" for n in c}), c, opts))
    return out


AOT_CASES = [
    *_aot("float16", True, 64), *_aot("bfloat16", False, 128),
    *_aot("float16", True, 128), *_aot("float32", True, 64),
    *_aot("float32", False, 32, prec="tf32"), *_aot("bfloat16", True, 256),
    *_aot("float32", True, 128), *_aot("float32", False, 256),
    *_aot("bfloat16", True, 64, dropout=True), *_aot("float32", False, 32, dropout=True),
    (dropout_mask_kernel, {"keep": "*i1", "n": "i64", "L": "i32", "S": "i32", "seed": "i64",
                           "offset": "i64", "p_drop": "fp32", "BLOCK": "constexpr"},
     {"BLOCK": 1024}),
]
