"""Gather/scatter kernels for indexing.

Every indexing primitive reduces to one addressing scheme (built by ../index.py): over
the positions of a result shape, element ``x[xoff(i) + f[foff(i)]]`` of the indexed
array, where ``xoff`` walks the plain (sliced) dims through x's strides and ``f`` holds
the element offsets picked by the index arrays (broadcast over the plain dims by a
stride of 0). The launcher (backend._launch) merges dims and passes up to RANK
(size, stride) dims per operand, as for the elementwise kernels.
"""
import triton
import triton.language as tl

from .common import store_cast
from .elementwise import RANK, _offsets


@triton.jit
def gather_kernel(x, f, out, n, d1, d2, d3, xs0, xs1, xs2, xs3, fs0, fs1, fs2, fs3,
                  os0, os1, os2, os3, CONTIG: tl.constexpr, BLOCK: tl.constexpr):
    """out = x[xoff + f]."""
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    o = tl.load(f + _offsets(i, d1, d2, d3, fs0, fs1, fs2, fs3, CONTIG), mask=m, other=0)
    a = tl.load(x + _offsets(i, d1, d2, d3, xs0, xs1, xs2, xs3, CONTIG) + o, mask=m)
    tl.store(out + _offsets(i, d1, d2, d3, os0, os1, os2, os3, CONTIG),
             store_cast(a, out.dtype.element_ty), mask=m)


@triton.jit
def scatter_kernel(x, f, v, n, d1, d2, d3, xs0, xs1, xs2, xs3, fs0, fs1, fs2, fs3,
                   vs0, vs1, vs2, vs3, ADD: tl.constexpr, CONTIG: tl.constexpr,
                   BLOCK: tl.constexpr):
    """x[xoff + f] = v (the launcher removed duplicate targets first), or with ADD
    x[xoff + f] += v by atomics (duplicates accumulate, as np.add.at)."""
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    o = tl.load(f + _offsets(i, d1, d2, d3, fs0, fs1, fs2, fs3, CONTIG), mask=m, other=0)
    a = tl.load(v + _offsets(i, d1, d2, d3, vs0, vs1, vs2, vs3, CONTIG), mask=m)
    p = x + _offsets(i, d1, d2, d3, xs0, xs1, xs2, xs3, CONTIG) + o
    if ADD:
        tl.atomic_add(p, a.to(x.dtype.element_ty), mask=m)
    else:
        tl.store(p, store_cast(a, x.dtype.element_ty), mask=m)


@triton.jit
def scatter_last_kernel(x, f, v, r, win, lo, g, n, d1, d2, d3, xs0, xs1, xs2, xs3, fs0,
                        fs1, fs2, fs3, vs0, vs1, vs2, vs3, rs0, rs1, rs2, rs3,
                        CONTIG: tl.constexpr, BLOCK: tl.constexpr):
    """x[xoff + f] = v where this position's row r (its ordinal in the index arrays'
    broadcast shape, broadcast over the plain dims as f) is the winner claim_kernel
    recorded for its target ``win[(f - lo) // g]``: of duplicate targets only the last
    row writes."""
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    o = tl.load(f + _offsets(i, d1, d2, d3, fs0, fs1, fs2, fs3, CONTIG), mask=m, other=0)
    row = tl.load(r + _offsets(i, d1, d2, d3, rs0, rs1, rs2, rs3, CONTIG), mask=m,
                  other=0)
    w = tl.load(win + (o - lo) // g, mask=m, other=-1)
    m = tl.where(m, w == row, False)
    a = tl.load(v + _offsets(i, d1, d2, d3, vs0, vs1, vs2, vs3, CONTIG), mask=m)
    p = x + _offsets(i, d1, d2, d3, xs0, xs1, xs2, xs3, CONTIG) + o
    tl.store(p, store_cast(a, x.dtype.element_ty), mask=m)


@triton.jit
def claim_kernel(f, win, lo, g, n, BLOCK: tl.constexpr):
    """win[(f[k] - lo) // g] = the largest row k targeting that slot (win starts at
    -1): the last write to each target, found by atomics in any order."""
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    o = tl.load(f + i, mask=m, other=0)
    tl.atomic_max(win + (o - lo) // g, i, mask=m)


@triton.jit
def searchsorted_kernel(v, out, a, srt, m, sa, ss, steps, n, d1, d2, d3, vs0, vs1, vs2,
                        vs3, os0, os1, os2, os3, RIGHT: tl.constexpr,
                        HAS_SORTER: tl.constexpr, CDT: tl.constexpr, CONTIG: tl.constexpr,
                        BLOCK: tl.constexpr):
    """out = np.searchsorted(a, v, side) for the 1-d sorted a (m elements, element stride
    sa, optionally read through the permutation srt): a binary search per value of
    ``steps`` = ceil(log2(m + 1)) halvings of [lo, hi). NaN sorts after every number, as
    NumPy; out-of-range sorter entries are clamped (memory-safe; NumPy raises)."""
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    msk = i < n
    x = tl.load(v + _offsets(i, d1, d2, d3, vs0, vs1, vs2, vs3, CONTIG), mask=msk,
                other=0).to(CDT)
    lo = tl.zeros([BLOCK], tl.int64)
    hi = lo + m
    for _ in range(0, steps):
        ok = tl.where(msk, lo < hi, False)
        mid = (lo + hi) // 2
        k = mid
        if HAS_SORTER:
            k = tl.load(srt + mid * ss, mask=ok, other=0).to(tl.int64)
            k = tl.minimum(tl.maximum(k, 0), m - 1)
        b = tl.load(a + k * sa, mask=ok, other=0).to(CDT)
        if RIGHT:       # go right unless x < b (NaN-aware: a number is below NaN)
            go = tl.where(b != b, x != x, (x < b) == 0)
        else:           # go right while b < x
            go = tl.where(x != x, b == b, b < x)
        lo = tl.where(ok, tl.where(go, mid + 1, lo), lo)
        hi = tl.where(ok, tl.where(go, hi, mid), hi)
    tl.store(out + _offsets(i, d1, d2, d3, os0, os1, os2, os3, CONTIG), lo, mask=msk)


@triton.jit
def nonzero_kernel(x, cs, shp, out, n, NDIM: tl.constexpr, BLOCK: tl.constexpr):
    """np.argwhere's rows: element i of the contiguous x (n elements) that is nonzero
    writes its NDIM coordinates (over the sizes in shp) at row cs[i] - 1, cs the
    inclusive running count of nonzeros."""
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    nz = tl.load(x + i, mask=m, other=0) != 0
    w = tl.where(m, nz, False)
    row = tl.load(cs + i, mask=w, other=1) - 1
    r = i
    for d in tl.static_range(NDIM):
        k = NDIM - 1 - d
        size = tl.load(shp + k)
        tl.store(out + row * NDIM + k, r % size, mask=w)
        r = r // size


@triton.jit
def _combine(a, b, OP: tl.constexpr):
    if OP == "amax":           # NaN wins, as np.maximum
        return tl.where(a != a, a, tl.where(a > b, a, b))
    elif OP == "amin":
        return tl.where(a != a, a, tl.where(a < b, a, b))
    else:
        return a * b


@triton.jit
def reduce_cas_kernel(x, f, v, n, d1, d2, d3, xs0, xs1, xs2, xs3, fs0, fs1, fs2, fs3,
                      vs0, vs1, vs2, vs3, OP: tl.constexpr, CDT: tl.constexpr,
                      IT: tl.constexpr, CONTIG: tl.constexpr, BLOCK: tl.constexpr):
    """x[xoff + f] = OP(x[...], v) for amax/amin on 32/64-bit x, in parallel: each lane
    retries a compare-and-swap of the bit patterns (IT, the int of x's width) until its
    value is in. Exact and independent of the order (NaN wins), but for which of two
    equal zeros of opposite sign stays."""
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    o = tl.load(f + _offsets(i, d1, d2, d3, fs0, fs1, fs2, fs3, CONTIG), mask=m, other=0)
    b = tl.load(v + _offsets(i, d1, d2, d3, vs0, vs1, vs2, vs3, CONTIG), mask=m,
                other=0).to(CDT)
    # idle lanes point at x's first element and swap its value for itself: a no-op
    p = tl.where(m, x + _offsets(i, d1, d2, d3, xs0, xs1, xs2, xs3, CONTIG) + o, x)
    p = p.to(tl.pointer_type(IT), bitcast=True)
    cur = tl.load(p, mask=m, other=0)
    todo = m
    while tl.max(todo.to(tl.int32), axis=0) > 0:
        new = _combine(cur.to(CDT, bitcast=True), b, OP).to(IT, bitcast=True)
        need = tl.where(todo, new != cur, False)
        prev = tl.atomic_cas(p, cur, tl.where(need, new, cur))
        todo = tl.where(need, prev != cur, False)
        cur = tl.where(need, prev, cur)


@triton.jit
def reduce_serial_kernel(x, f, v, n, d1, d2, d3, xs0, xs1, xs2, xs3, fs0, fs1, fs2, fs3,
                         vs0, vs1, vs2, vs3, OP: tl.constexpr, CDT: tl.constexpr,
                         CONTIG: tl.constexpr, BLOCK: tl.constexpr):
    """x[xoff + f] = OP(x[...], v), one position after another in one program: exact
    and in NumPy's order for duplicates (max/min/prod have no portable float atomics;
    a stopgap whose cost is serial in the number of values)."""
    if tl.program_id(0) == 0:          # the launcher's grid is sized for n: one works
        for j in range(0, n):
            jj = j          # i64 offsets follow from the i64 strides
            o = tl.load(f + _offsets(jj, d1, d2, d3, fs0, fs1, fs2, fs3, CONTIG))
            b = tl.load(v + _offsets(jj, d1, d2, d3, vs0, vs1, vs2, vs3, CONTIG)).to(CDT)
            p = x + _offsets(jj, d1, d2, d3, xs0, xs1, xs2, xs3, CONTIG) + o
            a = tl.load(p).to(CDT)
            tl.store(p, store_cast(_combine(a, b, OP), x.dtype.element_ty))


# ---------------------------------------------------------------- ahead-of-time checks
def _case(fn, ptrs, **constexprs):
    sig = dict(ptrs)
    sig["n"] = "i64"
    sig.update({f"d{k}": "i32" for k in (1, 2, 3)})
    arrays = ("vo" if "v" in ptrs and "out" in ptrs else "xfo" if "out" in ptrs
              else "xfvr" if "r" in ptrs else "xfv")
    for p in arrays:
        sig.update({f"{p}s{k}": "i64" for k in range(RANK)})
    sig.update({k: "constexpr" for k in constexprs})
    return fn, sig, constexprs


AOT_CASES = [
    _case(gather_kernel, {"x": "*fp32", "f": "*i64", "out": "*fp32"}, CONTIG=False,
          BLOCK=1024),
    _case(gather_kernel, {"x": "*bf16", "f": "*i64", "out": "*bf16"}, CONTIG=True,
          BLOCK=1024),
    _case(scatter_kernel, {"x": "*fp64", "f": "*i64", "v": "*fp64"}, ADD=False,
          CONTIG=False, BLOCK=1024),
    _case(scatter_kernel, {"x": "*fp32", "f": "*i64", "v": "*fp32"}, ADD=True,
          CONTIG=False, BLOCK=1024),
    _case(scatter_kernel, {"x": "*i64", "f": "*i64", "v": "*i64"}, ADD=True,
          CONTIG=True, BLOCK=1024),
    _case(reduce_cas_kernel, {"x": "*fp32", "f": "*i64", "v": "*fp32"}, OP="amax",
          CDT=tl.float32, IT=tl.int32, CONTIG=False, BLOCK=1024),
    _case(reduce_cas_kernel, {"x": "*fp64", "f": "*i64", "v": "*fp64"}, OP="amin",
          CDT=tl.float64, IT=tl.int64, CONTIG=True, BLOCK=1024),
    _case(reduce_cas_kernel, {"x": "*i64", "f": "*i64", "v": "*i64"}, OP="amax",
          CDT=tl.int64, IT=tl.int64, CONTIG=False, BLOCK=1024),
    _case(reduce_serial_kernel, {"x": "*fp32", "f": "*i64", "v": "*fp32"}, OP="amax",
          CDT=tl.float32, CONTIG=False, BLOCK=1024),
    _case(reduce_serial_kernel, {"x": "*bf16", "f": "*i64", "v": "*bf16"}, OP="prod",
          CDT=tl.float32, CONTIG=False, BLOCK=1024),
    _case(scatter_last_kernel, {"x": "*fp32", "f": "*i64", "v": "*fp32", "r": "*i64",
                                "win": "*i64", "lo": "i64", "g": "i64"}, CONTIG=False,
          BLOCK=1024),
    _case(scatter_last_kernel, {"x": "*bf16", "f": "*i64", "v": "*bf16", "r": "*i64",
                                "win": "*i64", "lo": "i64", "g": "i64"}, CONTIG=True,
          BLOCK=1024),
    (claim_kernel, {"f": "*i64", "win": "*i64", "lo": "i64", "g": "i64", "n": "i64",
                    "BLOCK": "constexpr"}, dict(BLOCK=1024)),
    _case(searchsorted_kernel, {"v": "*fp32", "out": "*i64", "a": "*fp32", "srt": "*fp32",
                                "m": "i64", "sa": "i64", "ss": "i64", "steps": "i32"},
          RIGHT=False, HAS_SORTER=False, CDT=tl.float32, CONTIG=True, BLOCK=1024),
    _case(searchsorted_kernel, {"v": "*fp64", "out": "*i64", "a": "*i64", "srt": "*i32",
                                "m": "i64", "sa": "i64", "ss": "i64", "steps": "i32"},
          RIGHT=True, HAS_SORTER=True, CDT=tl.float64, CONTIG=False, BLOCK=1024),
    _case(searchsorted_kernel, {"v": "*bf16", "out": "*i64", "a": "*bf16", "srt": "*bf16",
                                "m": "i64", "sa": "i64", "ss": "i64", "steps": "i32"},
          RIGHT=True, HAS_SORTER=False, CDT=tl.float32, CONTIG=False, BLOCK=1024),
    (nonzero_kernel, {"x": "*i1", "cs": "*i64", "shp": "*i64", "out": "*i64",
                      "n": "i64", "NDIM": "constexpr", "BLOCK": "constexpr"},
     dict(NDIM=3, BLOCK=1024)),
]
