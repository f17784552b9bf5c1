"""Sorting kernels: a stable sort of contiguous rows by (key, position), and the two
scatters of unique().

Every element gets an integer key whose plain integer order is the CPU backend's sort
order (kernels compare keys only, never floats): floats map their bits to an
order-preserving integer with -0.0 made 0.0 (it ties with 0.0, as NumPy) and every NaN
the largest key (NaN last); descending flips the key (~k), which puts NaN first. Ties
keep their positions, so the sort is stable in both directions, as cpu.sort.

A row of at most one tile sorts in one pass by ranks (tile_sort_kernel, SINGLE): the rank
of element i counts the tile's elements ordered before it, O(t^2) comparisons in
parallel. Longer rows sort tiles into runs, then merge_kernel merges pairs of runs,
doubling the run length each pass: an element's output position is its index in its own
run plus its rank in the partner run found by binary search (left-run elements count
partner keys strictly less, right-run elements less-or-equal: stability). The last pass
writes the values and indices instead of keys.
"""
import triton
import triton.language as tl

I64_MAX = tl.constexpr(0x7FFFFFFFFFFFFFFF)
I32_MAX = tl.constexpr(0x7FFFFFFF)


@triton.jit
def _key(raw, DESC: tl.constexpr):
    """The integer sort key of loaded elements (int64 for 8-byte dtypes, else int32)."""
    if raw.dtype == tl.float64:
        b = raw.to(tl.int64, bitcast=True)
        k = b ^ ((b >> 63) & I64_MAX)          # negatives: reverse the magnitude order
        k = tl.where(raw == 0, 0, k)
        k = tl.where(raw != raw, I64_MAX, k)
    elif raw.dtype.is_floating():              # float32, float16, bfloat16
        f = raw.to(tl.float32)
        b = f.to(tl.int32, bitcast=True)
        k = b ^ ((b >> 31) & I32_MAX)
        k = tl.where(f == 0, 0, k)
        k = tl.where(f != f, I32_MAX, k)
    elif raw.dtype == tl.int64:
        k = raw
    else:
        k = raw.to(tl.int32)
    if DESC:
        k = ~k
    return k


@triton.jit
def tile_sort_kernel(x, keys, idx, vals, n, t, DESC: tl.constexpr, SINGLE: tl.constexpr,
                     BI: tl.constexpr, BJ: tl.constexpr):
    """Stable sort of each tile of t elements of the contiguous rows (length n) of x by
    ranks. Program (row * tiles + tile, block). SINGLE (t >= n): x[i] goes to
    vals[rank], i to idx[rank]; else the tile's keys and row positions go to keys/idx
    at the tile's start + rank, a sorted run for merge_kernel."""
    tiles = (n + t - 1) // t
    pid = tl.program_id(0)
    r = pid // tiles
    row = r.to(tl.int64) * n
    start = (pid - r * tiles).to(tl.int64) * t
    end = tl.minimum(start + t, n)
    i = start + tl.program_id(1) * BI + tl.arange(0, BI)
    mi = i < end
    raw = tl.load(x + row + i, mask=mi)
    ki = _key(raw, DESC)
    k = ki[:, None]
    rank = tl.zeros([BI], tl.int64)
    for j0 in range(start, end, BJ):
        j = j0 + tl.arange(0, BJ)
        mj = j < end
        kj = _key(tl.load(x + row + j, mask=mj), DESC)[None, :]
        tie = tl.where(j[None, :] < i[:, None], kj == k, False)
        before = tl.where(kj < k, True, tie)
        rank += tl.sum(tl.where(mj[None, :], before, False).to(tl.int32), axis=1).to(tl.int64)
    dst = row + start + rank
    if SINGLE:
        tl.store(vals + dst, raw, mask=mi)
    else:
        tl.store(keys + dst, ki, mask=mi)
    tl.store(idx + dst, i, mask=mi)


@triton.jit
def merge_kernel(keys, idx, okeys, oidx, x, vals, total, n, w, steps, FINAL: tl.constexpr,
                 BLOCK: tl.constexpr):
    """One merge pass over rows of n elements sorted in runs of w: runs 2m and 2m + 1
    merge into run m of 2w. ``steps`` binary-search steps cover w elements. FINAL
    writes x's values (vals) and the row positions (oidx) instead of keys."""
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = i < total
    row = (i // n) * n
    p = i - row
    k = tl.load(keys + i, mask=m, other=0)
    q = p % w                                  # index in its own run
    right = ((p // w) % 2) == 1
    own = p - q
    partner = tl.where(right, own - w, own + w)
    hi = tl.minimum(tl.maximum(n - partner, 0), w)
    lo = tl.zeros_like(hi)
    for _ in range(steps):
        go = (lo < hi) & m
        mid = (lo + hi) // 2
        km = tl.load(keys + row + partner + mid, mask=go, other=0)
        adv = tl.where(right, km <= k, km < k)
        lo = tl.where(go, tl.where(adv, mid + 1, lo), lo)
        hi = tl.where(go, tl.where(adv, hi, mid), hi)
    dst = row + tl.minimum(own, partner) + q + lo
    j = tl.load(idx + i, mask=m, other=0)
    if FINAL:
        tl.store(vals + dst, tl.load(x + row + j, mask=m), mask=m)
    else:
        tl.store(okeys + dst, k, mask=m)
    tl.store(oidx + dst, j, mask=m)


# ---------------------------------------------------------------- unique
@triton.jit
def boundary_kernel(vals, flags, n, CDT: tl.constexpr, BLOCK: tl.constexpr):
    """flags[p] = 1 where sorted vals[p] starts a run of equal values (p == 0 or it
    differs from vals[p - 1]; NaN differs from everything, -0.0 equals 0.0), else 0."""
    p = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = p < n
    v = tl.load(vals + p, mask=m).to(CDT)
    prev = tl.load(vals + p - 1, mask=m & (p > 0)).to(CDT)
    new = tl.where(p == 0, True, v != prev)
    tl.store(flags + p, new.to(tl.int64), mask=m)


@triton.jit
def unique_scatter_kernel(vals, perm, seg, uniq, starts, inv, n, INVERSE: tl.constexpr,
                          COUNTS: tl.constexpr, BLOCK: tl.constexpr):
    """From the inclusive run numbers seg (cumsum of the flags): each run's first value
    to uniq and its start to starts (starts[runs] = n closes the last), and each sorted
    element's run to inv at its original position perm[p]."""
    p = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = p < n
    s = tl.load(seg + p, mask=m, other=1)
    before = tl.load(seg + p - 1, mask=m & (p > 0), other=0)
    first = m & (s != before)
    tl.store(uniq + s - 1, tl.load(vals + p, mask=first), mask=first)
    if COUNTS:
        tl.store(starts + s - 1, p, mask=first)
        tl.store(starts + s, p + 1, mask=m & (p == n - 1))
    if INVERSE:
        tl.store(inv + tl.load(perm + p, mask=m, other=0), s - 1, mask=m)


# ---------------------------------------------------------------- ahead-of-time checks
def _tile(x, key, single, desc=False):
    sig = {"x": x, "keys": key, "idx": "*i64", "vals": x, "n": "i32", "t": "i32",
           "DESC": "constexpr", "SINGLE": "constexpr", "BI": "constexpr", "BJ": "constexpr"}
    return tile_sort_kernel, sig, dict(DESC=desc, SINGLE=single, BI=128, BJ=64)


def _merge(x, key, final):
    sig = {"keys": key, "idx": "*i64", "okeys": key, "oidx": "*i64", "x": x, "vals": x,
           "total": "i64", "n": "i64", "w": "i64", "steps": "i32", "FINAL": "constexpr",
           "BLOCK": "constexpr"}
    return merge_kernel, sig, dict(FINAL=final, BLOCK=1024)


AOT_CASES = [
    _tile("*fp32", "*i32", True),
    _tile("*fp64", "*i64", True, desc=True),
    _tile("*bf16", "*i32", False),
    _tile("*fp16", "*i32", False, desc=True),
    _tile("*i64", "*i64", False),
    _tile("*i1", "*i32", True),
    _tile("*u8", "*i32", False, desc=True),
    _merge("*fp32", "*i32", False),
    _merge("*fp32", "*i32", True),
    _merge("*fp64", "*i64", True),
    _merge("*i64", "*i64", False),
    _merge("*bf16", "*i32", True),
    (boundary_kernel, {"vals": "*fp32", "flags": "*i64", "n": "i64", "CDT": "constexpr",
                       "BLOCK": "constexpr"}, dict(CDT=tl.float32, BLOCK=1024)),
    (boundary_kernel, {"vals": "*bf16", "flags": "*i64", "n": "i64", "CDT": "constexpr",
                       "BLOCK": "constexpr"}, dict(CDT=tl.float32, BLOCK=1024)),
    (unique_scatter_kernel, {"vals": "*fp32", "perm": "*i64", "seg": "*i64",
                             "uniq": "*fp32", "starts": "*i64", "inv": "*i64", "n": "i64",
                             "INVERSE": "constexpr", "COUNTS": "constexpr",
                             "BLOCK": "constexpr"},
     dict(INVERSE=True, COUNTS=True, BLOCK=1024)),
]
