"""Row reductions and row scans over a strided (M, N) view.

The launcher (backend/cuda/reduce.py) permutes the reduced axes to the end, so every
kernel sees M rows of N elements: row r starts at ``(r // K1) * sa + (r % K1) * sb``
(two merged kept dims, so reducing a middle axis needs no copy) and walks by ``sn``.
Each program owns BLOCK_M rows and loops over N in BLOCK_N chunks, keeping a
(BLOCK_M, BLOCK_N) tile of partial results in ACC (float32 for low precision, float64,
int32/int64) that is folded as a tree at the end. ``program_id(1)`` splits long rows
into n_per-element pieces, whose partials a second launch folds.
"""
import triton
import triton.language as tl

from .common import store_cast


@triton.jit
def _max_nan(a, b):
    # NaN wins, as numpy.maximum (tl.where chains: `|` on float64 masks misbehaves in
    # the interpreter)
    return tl.where(a != a, a, tl.where(a > b, a, b))


@triton.jit
def _min_nan(a, b):
    return tl.where(a != a, a, tl.where(a < b, a, b))


@triton.jit
def _combine(a, b, OP: tl.constexpr):
    if OP == "sum":
        return a + b
    elif OP == "prod":
        return a * b
    elif OP == "max":
        return _max_nan(a, b)
    else:
        return _min_nan(a, b)


@triton.jit
def _prod_fold(acc, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """The product along dim 1 as a tree of halvings (reshape + split): Triton's
    interpreter runs a custom tl.reduce one element at a time."""
    for k in tl.static_range(16):
        if (BLOCK_N >> k) > 1:
            a, b = tl.split(tl.reshape(acc, [BLOCK_M, BLOCK_N >> (k + 1), 2]))
            acc = a * b
    return tl.reshape(acc, [BLOCK_M])


@triton.jit
def _nan_fold(acc, vals):
    """(whether each row of acc holds a NaN, a NaN where it does); vals is acc with its
    NaNs replaced, for tl.max/tl.min, which need not propagate NaN (the interpreter's
    skip it)."""
    isn = acc != acc
    return tl.max(isn.to(tl.int32), 1) > 0, tl.sum(tl.where(isn, acc, 0), 1)


@triton.jit
def _fold(acc, OP: tl.constexpr, IDENT: tl.constexpr, BLOCK_M: tl.constexpr,
          BLOCK_N: tl.constexpr):
    if OP == "sum":
        return tl.sum(acc, 1)
    elif OP == "prod":
        return _prod_fold(acc, BLOCK_M, BLOCK_N)
    else:
        vals = tl.where(acc != acc, IDENT, acc)
        has_nan, nan = _nan_fold(acc, vals)
        if OP == "max":
            r = tl.max(vals, 1)
        else:
            r = tl.min(vals, 1)
        return tl.where(has_nan, nan, r)


@triton.jit
def _arg_better(v1, i1, v2, i2, MAX: tl.constexpr):
    """Whether (v2, i2) beats (v1, i1): NumPy's argmax/argmin take the first NaN, else the
    first extreme value, so ties go to the lower index."""
    nan1 = v1 != v1
    nan2 = v2 != v2
    if MAX:
        strict = v2 > v1
    else:
        strict = v2 < v1
    first = i2 < i1
    return tl.where(nan1, tl.where(nan2, first, False),
                    tl.where(nan2, True, tl.where(strict, True,
                                                  tl.where(v2 == v1, first, False))))


@triton.jit
def _load_tile(x, rows, rmask, K1, sa, sb, sn, cols, hi, CDT: tl.constexpr):
    base = (rows // K1) * sa + (rows % K1) * sb
    m = rmask[:, None] & (cols < hi)[None, :]
    v = tl.load(x + base[:, None] + cols[None, :] * sn, mask=m)
    return v.to(CDT), m


@triton.jit
def reduce_kernel(x, out, M, N, K1, sa, sb, sn, n_per, OP: tl.constexpr,
                  CDT: tl.constexpr, ACC: tl.constexpr, TRUTH: tl.constexpr,
                  IDENT: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """out[r * n_split + s] = OP over x[r, s * n_per : (s + 1) * n_per]; with TRUTH each
    element counts as x != 0 (all/any as min/max of 0/1)."""
    rows = tl.program_id(0).to(tl.int64) * BLOCK_M + tl.arange(0, BLOCK_M)
    rmask = rows < M
    split = tl.program_id(1)
    lo = split.to(tl.int64) * n_per
    hi = tl.minimum(lo + n_per, N)
    acc = tl.full([BLOCK_M, BLOCK_N], IDENT, ACC)
    for start in range(lo, hi, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        v, m = _load_tile(x, rows, rmask, K1, sa, sb, sn, cols, hi, CDT)
        if TRUTH:
            v = v != 0
        acc = _combine(acc, tl.where(m, v.to(ACC), IDENT), OP)
    r = _fold(acc, OP, IDENT, BLOCK_M, BLOCK_N)
    tl.store(out + rows * tl.num_programs(1) + split, store_cast(r, out.dtype.element_ty),
             mask=rmask)


@triton.jit
def arg_kernel(x, out, M, N, K1, sa, sb, sn, MAX: tl.constexpr, CDT: tl.constexpr,
               IDENT: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """out[r] = the int64 index of the first max (MAX) or min of row r, NaN first."""
    rows = tl.program_id(0).to(tl.int64) * BLOCK_M + tl.arange(0, BLOCK_M)
    rmask = rows < M
    best = tl.full([BLOCK_M, BLOCK_N], IDENT, CDT)
    idx = tl.full([BLOCK_M, BLOCK_N], N, tl.int64)     # past the end: loses every tie
    for start in range(0, N, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N).to(tl.int64)
        v, m = _load_tile(x, rows, rmask, K1, sa, sb, sn, cols, N, CDT)
        v = tl.where(m, v, IDENT)
        i = tl.where(m, cols[None, :], N)
        b = _arg_better(best, idx, v, i, MAX)
        best = tl.where(b, v, best)
        idx = tl.where(b, i, idx)
    # fold the lanes: the first NaN if any, else the first lane index of the extreme
    isn = best != best
    vals = tl.where(isn, IDENT, best)
    if MAX:
        top = tl.max(vals, 1)
    else:
        top = tl.min(vals, 1)
    nan_at = tl.min(tl.where(isn, idx, N), 1)
    top_at = tl.min(tl.where(vals == top[:, None], idx, N), 1)
    tl.store(out + rows, tl.where(tl.max(isn.to(tl.int32), 1) > 0, nan_at, top_at),
             mask=rmask)


@triton.jit
def scan_kernel(x, out, M, N, K1, sa, sb, sn, oa, ob, on, OP: tl.constexpr,
                CDT: tl.constexpr, ACC: tl.constexpr, BLOCK_M: tl.constexpr,
                BLOCK_N: tl.constexpr):
    """Inclusive cumulative sum (OP "sum") or product of every row, chunk by chunk, each
    chunk's scan combined with the running total of the chunks before it."""
    rows = tl.program_id(0).to(tl.int64) * BLOCK_M + tl.arange(0, BLOCK_M)
    rmask = rows < M
    obase = (rows // K1) * oa + (rows % K1) * ob
    if OP == "sum":
        carry = tl.zeros([BLOCK_M], ACC)
    else:
        carry = tl.full([BLOCK_M], 1, ACC)
    for start in range(0, N, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N).to(tl.int64)
        v, m = _load_tile(x, rows, rmask, K1, sa, sb, sn, cols, N, CDT)
        if OP == "sum":
            s = tl.cumsum(tl.where(m, v.to(ACC), 0), 1) + carry[:, None]
        else:
            s = tl.cumprod(tl.where(m, v.to(ACC), 1), 1) * carry[:, None]
        tl.store(out + obase[:, None] + cols[None, :] * on,
                 store_cast(s, out.dtype.element_ty), mask=m)
        # the last valid column carries on (a sum with one nonzero term is exact)
        last = tl.minimum(start + BLOCK_N, N) - 1
        carry = tl.sum(tl.where(cols[None, :] == last, s, 0), 1)


# ---------------------------------------------------------------- ahead-of-time checks
_ROW = {"M": "i64", "N": "i64", "K1": "i64", "sa": "i64", "sb": "i64", "sn": "i64"}


def _reduce_case(xt, ot, op, cdt, acc, ident, truth=False, bm=4, bn=256):
    sig = {"x": xt, "out": ot, **_ROW, "n_per": "i64"}
    cx = dict(OP=op, CDT=cdt, ACC=acc, TRUTH=truth, IDENT=ident, BLOCK_M=bm, BLOCK_N=bn)
    sig.update({k: "constexpr" for k in cx})
    return reduce_kernel, sig, cx


def _arg_case(xt, is_max, cdt, ident, bm=4, bn=256):
    sig = {"x": xt, "out": "*i64", **_ROW}
    cx = dict(MAX=is_max, CDT=cdt, IDENT=ident, BLOCK_M=bm, BLOCK_N=bn)
    sig.update({k: "constexpr" for k in cx})
    return arg_kernel, sig, cx


def _scan_case(xt, ot, op, cdt, acc, bm=4, bn=256):
    sig = {"x": xt, "out": ot, **_ROW, "oa": "i64", "ob": "i64", "on": "i64"}
    cx = dict(OP=op, CDT=cdt, ACC=acc, BLOCK_M=bm, BLOCK_N=bn)
    sig.update({k: "constexpr" for k in cx})
    return scan_kernel, sig, cx


_INF = float("inf")
AOT_CASES = [
    _reduce_case("*fp32", "*fp32", "sum", tl.float32, tl.float32, 0),
    _reduce_case("*bf16", "*bf16", "sum", tl.float32, tl.float32, 0, bm=1, bn=1024),
    _reduce_case("*fp16", "*fp32", "sum", tl.float32, tl.float32, 0),
    _reduce_case("*i32", "*i64", "sum", tl.int32, tl.int64, 0),
    _reduce_case("*i1", "*i64", "prod", tl.int1, tl.int64, 1),
    _reduce_case("*fp64", "*fp64", "max", tl.float64, tl.float64, -_INF),
    _reduce_case("*bf16", "*bf16", "min", tl.float32, tl.float32, _INF),
    _reduce_case("*i64", "*i64", "max", tl.int64, tl.int64, -2 ** 63),
    _reduce_case("*fp32", "*i1", "min", tl.float32, tl.int32, 1, truth=True),
    _reduce_case("*i1", "*i1", "max", tl.int1, tl.int32, 0, truth=True),
    _arg_case("*fp32", True, tl.float32, -_INF),
    _arg_case("*fp64", False, tl.float64, _INF),
    _arg_case("*i64", True, tl.int64, -2 ** 63),
    _arg_case("*bf16", False, tl.float32, _INF),
    _scan_case("*fp32", "*fp32", "sum", tl.float32, tl.float32),
    _scan_case("*fp64", "*fp64", "prod", tl.float64, tl.float64),
    _scan_case("*i32", "*i64", "sum", tl.int32, tl.int64),
]
