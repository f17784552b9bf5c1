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
def _combine(a, b, OP: tl.constexpr):
    if OP == "amax":           # NaN wins, as np.maximum
        return tl.where(a != a, a, tl.where(a > b, a, b))
    elif OP == "amin":
        return tl.where(a != a, a, tl.where(a < b, a, b))
    else:
        return a * b


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


@triton.jit
def rank_sort_kernel(x, vals, idx, n, DESC: tl.constexpr, CDT: tl.constexpr,
                     BI: tl.constexpr, BJ: tl.constexpr):
    """Stable sort of the contiguous rows (length n) of x by ranks: the rank of element i
    counts the elements ordered before it (NaN after every number, first when DESC; ties
    by position), and x[i] goes to vals[rank], i to idx[rank]. O(n^2) comparisons per
    row, in parallel: for rows up to a few thousand elements."""
    row = tl.program_id(0).to(tl.int64) * n
    i = tl.program_id(1) * BI + tl.arange(0, BI)
    mi = i < n
    raw = tl.load(x + row + i, mask=mi)
    a = raw.to(CDT)[:, None]
    a_nan = a != a
    rank = tl.zeros([BI], tl.int64)
    for j0 in range(0, n, BJ):
        j = j0 + tl.arange(0, BJ)
        b = tl.load(x + row + j, mask=j < n).to(CDT)[None, :]
        b_nan = b != b
        if DESC:
            before = tl.where(b_nan, a_nan == 0, tl.where(a_nan, False, b > a))
        else:
            before = tl.where(a_nan, b_nan == 0, tl.where(b_nan, False, b < a))
        tie = tl.where(a_nan, b_nan, b == a)
        tie = tl.where(j[None, :] < i[:, None], tie, False)
        hit = tl.where(j[None, :] < n, before.to(tl.int32) + tie.to(tl.int32), 0)
        rank += tl.sum(hit, axis=1).to(tl.int64)
    tl.store(vals + row + rank, raw, mask=mi)
    tl.store(idx + row + rank, i.to(tl.int64), mask=mi)


# ---------------------------------------------------------------- ahead-of-time checks
def _case(fn, ptrs, **constexprs):
    sig = dict(ptrs)
    sig["n"] = "i64"
    sig.update({f"d{k}": "i32" for k in (1, 2, 3)})
    for p in "xfo" if "out" in ptrs else "xfv":
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
    _case(reduce_serial_kernel, {"x": "*fp32", "f": "*i64", "v": "*fp32"}, OP="amax",
          CDT=tl.float32, CONTIG=False, BLOCK=1024),
    _case(reduce_serial_kernel, {"x": "*bf16", "f": "*i64", "v": "*bf16"}, OP="prod",
          CDT=tl.float32, CONTIG=False, BLOCK=1024),
    (rank_sort_kernel, {"x": "*fp32", "vals": "*fp32", "idx": "*i64", "n": "i32",
                        "DESC": "constexpr", "CDT": "constexpr", "BI": "constexpr",
                        "BJ": "constexpr"}, dict(DESC=False, CDT=tl.float32, BI=128, BJ=64)),
    (rank_sort_kernel, {"x": "*fp64", "vals": "*fp64", "idx": "*i64", "n": "i32",
                        "DESC": "constexpr", "CDT": "constexpr", "BI": "constexpr",
                        "BJ": "constexpr"}, dict(DESC=True, CDT=tl.float64, BI=128, BJ=64)),
]
