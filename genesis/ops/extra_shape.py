"""Shape and index ops beyond the core set: diagonals (diag, diagflat, diag_embed,
diagonal, trace), rot90, repeat_interleave, meshgrid / cartesian_prod / combinations,
block_diag, diff, counting and searching (bincount, histc, bucketize, searchsorted,
unique_consecutive, unravel_index) and the cumulative cummax / cummin / logcumsumexp.

Differentiable ops are composed from existing genesis ops where that is enough; the
diagonal pair (a strided view and its scatter) and the scans are Functions of their own.
Scans run as log2(n) doubling steps over backend primitives, so they work on every
backend; the CPU takes NumPy's ``accumulate`` directly."""
import itertools
import math
import warnings

import numpy as np

from .. import dtypes as _dt
from ..autograd.function import Function
from ..backend import cpu as _cpu
from ..tensor import Tensor, _make
from .common import wrap_dim, CAT, FLOAT_NP, LOW_FLOAT_NP, F32, write_out
from .shape import mark_view, cat, stack
from .reduce import return_types, _return_type, _Unique

__all__ = ["diag", "diagflat", "diag_embed", "diagonal", "trace", "rot90",
           "repeat_interleave", "meshgrid", "cartesian_prod", "combinations", "block_diag",
           "diff", "bincount", "histc", "bucketize", "searchsorted", "unique_consecutive",
           "unravel_index", "cummax", "cummin", "logcumsumexp"]

_I64 = np.dtype(np.int64)
_I32 = np.dtype(np.int32)
_BOOL = np.dtype(np.bool_)
return_types.cummax = _return_type("cummax")
return_types.cummin = _return_type("cummin")


def _dtname(t):
    return t.dtype.scalar_name


# ---------------------------------------------------------------- diagonals
def _diag_geometry(shape, offset, d1, d2):
    """(start index, result shape, length) of the diagonal of dims d1, d2 at offset."""
    n1, n2 = shape[d1], shape[d2]
    if offset >= 0:
        length = max(0, min(n1, n2 - offset))
    else:
        length = max(0, min(n1 + offset, n2))
    idx = [slice(None)] * len(shape)
    if length:          # (an empty diagonal starts anywhere: its view has no elements)
        idx[d2 if offset >= 0 else d1] = slice(abs(offset), None)
    rest = tuple(n for i, n in enumerate(shape) if i not in (d1, d2))
    return tuple(idx), rest + (length,), length


def _diag_view(be, x, offset, d1, d2):
    """A strided view of x walking its diagonal: the other dims first, the diagonal last."""
    idx, shape, _ = _diag_geometry(x.shape, offset, d1, d2)
    v = be.getitem(x, idx)
    st = [s // x.itemsize for s in v.strides]
    strides = tuple(s for i, s in enumerate(st) if i not in (d1, d2)) + (st[d1] + st[d2],)
    return be.as_strided(v, shape, strides, 0)


class _Diagonal(Function):
    _tensor_args = 1

    @staticmethod
    def forward(ctx, a, offset, d1, d2):
        ctx.args = (a._data.shape, offset, d1, d2)
        return _diag_view(a._be, a._data, offset, d1, d2)

    @staticmethod
    def backward(ctx, g):
        return _DiagScatter.apply(g, *ctx.args), None, None, None


class _DiagScatter(Function):
    """Zeros of ``shape`` with g on the diagonal (offset, d1, d2): _Diagonal's adjoint."""
    _tensor_args = 1

    @staticmethod
    def forward(ctx, g, shape, offset, d1, d2):
        ctx.args = (offset, d1, d2)
        be, x = g._be, g._data
        out = be.full(shape, 0, x.dtype)
        be.copyto(_diag_view(be, out, offset, d1, d2), x)
        return out

    @staticmethod
    def backward(ctx, gg):
        return _Diagonal.apply(gg, *ctx.args), None, None, None, None


def _diag_dims(ndim, dim1, dim2):
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of dims (dim1, dim2) as a view, appended as the last dim."""
    d1, d2 = _diag_dims(input._data.ndim, dim1, dim2)
    out = _Diagonal.apply(input, int(offset), d1, d2)
    return mark_view(out, input, lambda b: b.diagonal(offset, d1, d2))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Tensors with input's last dim on the diagonal (offset) of the new dims dim1, dim2."""
    x = input._data
    nd = x.ndim + 1
    d1, d2 = _diag_dims(nd, dim1, dim2)
    n = (x.shape[-1] if x.ndim else 1) + abs(int(offset))
    lead = iter(x.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(lead) for i in range(nd))
    if x.ndim == 0:
        input = input.reshape(1)
    return _DiagScatter.apply(input, shape, int(offset), d1, d2)


def diag(input, diagonal=0, *, out=None):
    """A 1-D input on the diagonal of a square matrix, or a matrix's diagonal (a copy)."""
    nd = input._data.ndim
    if nd == 1:
        r = diag_embed(input, diagonal, 0, 1)
    elif nd == 2:
        r = _Diagonal.apply(input, int(diagonal), 0, 1).clone()
    else:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")
    return write_out(r, out)


def diagflat(input, offset=0):
    return diag_embed(input.reshape(-1), offset, 0, 1)


def trace(input):
    nd = input._data.ndim
    if nd != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {nd}")
    if input._data.dtype == _BOOL:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return _Diagonal.apply(input, 0, 0, 1).sum()


# ---------------------------------------------------------------- rot90
def rot90(input, k=1, dims=(0, 1)):
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    a, b = wrap_dim(dims[0], nd), wrap_dim(dims[1], nd)
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} "
                           f"and dim1 = {b}")
    k %= 4
    if k == 1:
        return input.flip(b).transpose(a, b)
    if k == 2:
        return input.flip(a, b)
    if k == 3:
        return input.flip(a).transpose(a, b)
    return input.clone()


# ---------------------------------------------------------------- repeat_interleave
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along dim) repeated; repeat_interleave(repeats) alone gives
    the indices 0..n-1 repeated as many times as repeats says."""
    if repeats is None:                      # torch.repeat_interleave(repeats)
        reps = input
        if reps._data.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        idx = _interleave_index(reps, output_size)
        return _make(idx)
    if dim is None:
        input, d = input.reshape(-1), 0
    else:
        d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if isinstance(repeats, Tensor) and repeats._data.ndim == 1 and repeats.numel() != 1:
        if repeats._data.shape[0] != n:
            raise RuntimeError("repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {repeats._data.shape[0]} and "
                               f"input.size({d}) = {n}")
        idx = _interleave_index(repeats, output_size)
        return input.index_select(d, _make(idx))
    if isinstance(repeats, Tensor):
        if repeats._data.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        _check_int_repeats(repeats)
        repeats = int(repeats.item())
    r = int(repeats)
    if r < 0:
        raise RuntimeError("Repeats must be non-negative")
    shp = input._data.shape
    out = input.unsqueeze(d + 1).expand(*shp[:d + 1], r, *shp[d + 1:])
    return out.reshape(*shp[:d], n * r, *shp[d + 1:])


def _check_int_repeats(reps):
    if CAT[reps._data.dtype] != 1:
        raise NotImplementedError("\"repeat_interleave_cpu\" not implemented for "
                                  f"'{_dtname(reps)}'")


def _interleave_index(reps, output_size):
    """i repeated reps[i] times (int64 on reps' device): the place of each output element
    in the running counts, found by a binary search."""
    _check_int_repeats(reps)
    be, r = reps._be, reps._data
    if r.ndim == 0:
        r = be.reshape(r, (1,))
    if r.shape[0] and bool(be.to_host(be.any(be.less(r, 0), None))):
        raise RuntimeError("repeats can not be negative")
    ends = be.cumsum(be.astype(r, _I64), 0)
    total = output_size if output_size is not None else (
        int(be.to_host(be.getitem(ends, (-1,)))) if r.shape[0] else 0)
    places = be.arange(0, total, 1, _I64)
    return be.searchsorted(ends, places, "right")


# ---------------------------------------------------------------- grids and products
def _tensor_list(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(tensors[0])
    return tensors


def meshgrid(*tensors, indexing=None):
    """Coordinate grids (views of the inputs expanded), 'ij' or 'xy' indexing."""
    tensors = _tensor_list(tensors)
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass "
                      "the indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError('torch.meshgrid: indexing must be one of "xy" or "ij", but '
                           f"received: {indexing}")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    n = len(tensors)
    order = list(range(n))        # the output dim of each input
    if indexing == "xy" and n >= 2:
        order[0], order[1] = 1, 0
    sizes = [1] * n
    for i, t in enumerate(tensors):
        sizes[order[i]] = t.numel()
    out = []
    for i, t in enumerate(tensors):
        view = [1] * n
        view[order[i]] = -1
        out.append(t.reshape(view).expand(sizes))
    return tuple(out)


def _check_1d(t):
    if t._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")


def cartesian_prod(*tensors):
    tensors = _tensor_list(tensors)
    for t in tensors:
        _check_1d(t)
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    """All length-r combinations of a 1-D input's elements (rows of an (n, r) tensor)."""
    _check_1d(input)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _make(input._be.full((0,), 0, input._data.dtype))
    n = input._data.shape[0]
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    # the index table is metadata (sizes only), built on the host like an arange
    idx = np.array(list(pick(range(n), r)), dtype=np.int64).reshape(-1, r)
    be = input._be
    cols = [input.index_select(0, _make(be.from_host(np.ascontiguousarray(idx[:, j]), _I64)))
            for j in range(r)]
    return stack(cols, 1)


def block_diag(*tensors):
    """The inputs (0-, 1- or 2-D) as blocks along the diagonal of a matrix."""
    mats = []
    for i, t in enumerate(tensors):
        nd = t._data.ndim
        if nd > 2:
            raise RuntimeError("torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {nd} dimensions")
        mats.append(t.reshape(1, -1) if nd < 2 else t)
    if not mats:
        from ..creation import empty
        return empty((1, 0))
    dt = _dt.result_type(*mats)
    mats = [m.to(dt) for m in mats]
    be = mats[0]._be
    cols = sum(m._data.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        h, w = m._data.shape
        pad_l = _make(be.full((h, left), 0, dt.np))
        pad_r = _make(be.full((h, cols - left - w), 0, dt.np))
        rows.append(cat([pad_l, m, pad_r], 1))
        left += w
    return cat(rows, 0)


# ---------------------------------------------------------------- diff
def diff(input, n=1, dim=-1, prepend=None, append=None):
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, nd)
    parts = []
    for extra in (prepend, input, append):
        if extra is None:
            continue
        if extra is not input:
            if not isinstance(extra, Tensor) or extra._data.ndim != nd:
                raise RuntimeError("diff expects prepend or append to be the same dimension "
                                   "as input")
            for k in range(nd):
                if k != d and extra._data.shape[k] != input._data.shape[k]:
                    raise RuntimeError(
                        "diff expects the shape of tensor to prepend or append to match "
                        "that of input except along the differencing dimension; "
                        f"input.size({k}) = {input._data.shape[k]}, but got "
                        f"tensor.size({k}) = {extra._data.shape[k]}")
        parts.append(extra)
    x = cat(parts, d) if len(parts) > 1 else input
    boolean = x._data.dtype == _BOOL
    for _ in range(n):
        m = x._data.shape[d]
        if m == 0:
            break
        hi, lo = x.narrow(d, 1, m - 1), x.narrow(d, 0, m - 1)
        x = (hi != lo) if boolean else hi - lo
    return x


# ---------------------------------------------------------------- counting
def bincount(input, weights=None, minlength=0):
    """Counts of each non-negative integer (or the sums of their weights)."""
    x, be = input._data, input._be
    if CAT[x.dtype] == 2:
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_dtname(input)}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if x.ndim != 1 or (x.size and bool(be.to_host(be.any(be.less(x, 0), None)))):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights._data.ndim != 1 or weights._data.shape[0] != x.size):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    size = max(int(be.to_host(be.amax(x, None))) + 1 if x.size else 0, int(minlength))
    idx = be.astype(x, _I64)
    if weights is None:
        out = be.full((size,), 0, _I64)
        be.add_at(out, idx, be.full((x.size,), 1, _I64))
        return _make(out)
    w = weights._data
    dt = w.dtype if w.dtype in (np.dtype(np.float32), np.dtype(np.float64)) else \
        np.dtype(np.float64)      # as PyTorch: other weights count in double
    out = be.full((size,), 0, dt)
    be.add_at(out, idx, w if w.dtype == dt else be.astype(w, dt))
    return _make(out)


def histc(input, bins=100, min=0, max=0, *, out=None):
    """A histogram of equal-width bins over [min, max] (the data's range when both are
    equal); values outside are ignored, max falls in the last bin."""
    x, be = input._data, input._be
    if x.dtype not in FLOAT_NP:
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_dtname(input)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                           "dimension 0")
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if lo == hi and x.size:
        lo = float(be.to_host(be.amin(x, None)))
        hi = float(be.to_host(be.amax(x, None)))
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        def fmt(v):
            return "-nan" if v != v else f"{v:g}"
        raise RuntimeError(f"torch.histc: range of [{fmt(lo)}, {fmt(hi)}] is not finite")
    xf = be.astype(x, np.dtype(np.float64))      # bin positions in double, as PyTorch's
    flat = be.reshape(xf, (-1,))
    inside = be.logical_and(be.greater_equal(flat, lo), be.less_equal(flat, hi))
    pos = be.floor(be.multiply(be.subtract(flat, lo), bins / (hi - lo)))
    pos = be.astype(be.clip(be.where(inside, pos, 0.0), 0, bins - 1), _I64)
    counts = be.full((bins,), 0, np.dtype(np.float64))
    be.add_at(counts, pos, be.astype(inside, np.dtype(np.float64)))
    return write_out(_make(be.astype(counts, x.dtype)), out)


# ---------------------------------------------------------------- searching
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None, out=None):
    """Indices where input's values would go in sorted_sequence's innermost dim."""
    seq = sorted_sequence
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError("torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to "
                               "opposites, got side of left while right was True")
        right = side == "right"
    be, s = seq._be, seq._data
    if s.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    scalar = not isinstance(input, Tensor)
    if scalar:
        if s.ndim != 1:
            raise RuntimeError("torch.searchsorted(): input value can be a scalar only when "
                               f"boundaries tensor dimension is 1, but we got boundaries "
                               f"tensor dim({s.ndim}) and input value's dim(0) numel(1)")
        v = be.full((), input, _dt.result_type(seq, input).np)
    else:
        v = input._data
        if s.ndim != 1 and (v.ndim != s.ndim or v.shape[:-1] != s.shape[:-1]):
            raise RuntimeError(
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the first "
                "N-1 dimensions of boundaries tensor and input value tensor must match, but "
                f"we got boundaries tensor {list(s.shape)} and input value tensor "
                f"{list(v.shape)}")
    if sorter is not None:
        srt = sorter._data
        if srt.dtype != _I64:
            raise RuntimeError("torch.searchsorted(): sorter must be a tensor of long dtype "
                               f"but got dtype {sorter.dtype.scalar_name}")
        if srt.shape != s.shape:
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same "
                               f"size, but got boundary tensor {list(s.shape)}and got "
                               f"sorter tensor {list(srt.shape)}")
        n = s.shape[-1]
        if srt.size and bool(be.to_host(be.any(be.logical_or(
                be.less(srt, 0), be.greater_equal(srt, n)), None))):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
        s = be.take_along_axis(s, srt, s.ndim - 1)
    if s.dtype != v.dtype:      # compare in the common dtype
        rt = np.result_type(s.dtype, v.dtype)
        s, v = be.astype(s, rt) if s.dtype != rt else s, be.astype(v, rt) if v.dtype != rt else v
    side = "right" if right else "left"
    if s.ndim == 1:
        r = be.searchsorted(s, v, side)
    else:
        r = _searchsorted_rows(be, s, v, right)
    dt = _I32 if out_int32 else _I64
    r = _make(r if r.dtype == dt else be.astype(r, dt))
    return write_out(r, out)


def _searchsorted_rows(be, s, v, right):
    """Row-wise search (sorted rows s (..., n), values v (..., m)): count, per value, the
    row's elements before it; NaN sorts after every number, as in the 1-D primitive."""
    sx = be.reshape(s, s.shape[:-1] + (1, s.shape[-1]))
    vx = be.reshape(v, v.shape + (1,))
    before = be.less_equal(sx, vx) if right else be.less(sx, vx)
    if v.dtype in FLOAT_NP:
        nan_v = be.isnan(vx)
        before = be.logical_or(before, nan_v if right else
                               be.logical_and(nan_v, be.logical_not(be.isnan(sx))))
    return be.sum(before, (v.ndim,), dtype=_I64)


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim"
                           f"({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """The first element of each run of equal consecutive elements (or slices along dim),
    with each element's run number and each run's length as asked."""
    be, x = input._be, input._data
    if dim is None:
        flat, d = be.reshape(x, (-1,)), 0
    else:
        d = wrap_dim(dim, x.ndim)
        flat = x
    n = flat.shape[d]
    pre = (slice(None),) * d
    if n:
        change = be.not_equal(be.getitem(flat, pre + (slice(1, None),)),
                              be.getitem(flat, pre + (slice(None, -1),)))
        if flat.ndim > 1:        # a slice differs when any of its elements does
            change = be.any(change, tuple(i for i in range(flat.ndim) if i != d))
        start = be.concatenate([be.full((1,), True, _BOOL), change], 0)
    else:
        start = be.full((0,), True, _BOOL)
    first = be.reshape(be.nonzero(start), (-1,))          # where each run starts
    vals = be.getitem(flat, pre + (first,)) if n else flat
    name = "unique_consecutive" if dim is None else "unique_dim_consecutive"
    res = _Unique.apply(input, be.ascontiguousarray(vals), name)
    if not (return_inverse or return_counts):
        return res
    out = [res]
    if return_inverse:
        inv = be.subtract(be.cumsum(be.astype(start, _I64), 0), 1)
        out.append(_make(be.reshape(inv, x.shape if dim is None else (n,))))
    if return_counts:
        ends = be.concatenate([be.getitem(first, (slice(1, None),)),
                               be.full((1,), n, _I64)], 0)
        out.append(_make(be.subtract(ends, first)))
    return tuple(out)


def unravel_index(indices, shape):
    """Flat indices as a tuple of coordinate tensors (each int64, of indices' shape)."""
    if not isinstance(indices, Tensor) or CAT[indices._data.dtype] != 1:
        got = str(indices.dtype) if isinstance(indices, Tensor) else \
            type(indices).__name__
        raise TypeError(f"expected 'indices' to be integer dtype, but got {got}")
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    be = indices._be
    rest = be.astype(indices._data, _I64)
    coords = []
    for s in reversed(shape):       # floor division, as PyTorch (negatives wrap per dim)
        coords.append(_make(be.remainder(rest, s) if s else be.copy(rest)))
        if s:
            rest = be.floor_divide(rest, s)
    return tuple(reversed(coords))


# ---------------------------------------------------------------- cumulative ops
def _scan(be, x, d, op):
    """The inclusive scan of a binary op along d in log2(n) doubling steps."""
    n = x.shape[d]
    pre = (slice(None),) * d
    k = 1
    while k < n:
        x = be.concatenate([be.getitem(x, pre + (slice(0, k),)),
                            op(be.getitem(x, pre + (slice(k, None),)),
                               be.getitem(x, pre + (slice(0, n - k),)))], d)
        k *= 2
    return x


class _CumExt(Function):
    """cummax / cummin values; the indices (the last place of each running extreme) are
    the second, non-differentiable output."""
    _tensor_args = 1

    @staticmethod
    def forward(ctx, a, d, is_max):
        be, x = a._be, a._data
        ctx.d = d
        if be is _cpu:
            vals = (np.maximum if is_max else np.minimum).accumulate(x, axis=d)
        else:
            vals = _scan(be, x, d, be.maximum if is_max else be.minimum)
        # an element equal to the running extreme so far is (one of) its places
        hit = be.equal(x, vals)
        if x.dtype in FLOAT_NP:
            hit = be.logical_or(hit, be.logical_and(be.isnan(x), be.isnan(vals)))
        n = x.shape[d]
        pos = be.reshape(be.arange(0, n, 1, _I64), (n,) + (1,) * (x.ndim - 1 - d))
        pos = be.where(hit, pos, be.full((), 0, _I64))
        idx = np.maximum.accumulate(pos, axis=d) if be is _cpu else \
            _scan(be, pos, d, be.maximum)
        ctx.idx = idx
        return vals, idx

    @staticmethod
    def backward(ctx, g, gi):
        z = _make(g._be.full(g._data.shape, 0, g._data.dtype))
        return z.scatter_add(ctx.d, _make(ctx.idx), g), None, None


def _cum_ext(name, is_max, input, dim):
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    if nd == 0:
        input2 = input.reshape(1)
        v, i = _CumExt.apply(input2, 0, is_max)
        return getattr(return_types, name)(v.reshape(()), i.reshape(()))
    if input._data.shape[d] == 0:
        return getattr(return_types, name)(input.clone(),
                                           _make(input._be.full(input._data.shape, 0, _I64)))
    return getattr(return_types, name)(*_CumExt.apply(input, d, is_max))


def cummax(input, dim):
    return _cum_ext("cummax", True, input, dim)


def cummin(input, dim):
    return _cum_ext("cummin", False, input, dim)


def _logaddexp(be):
    log2 = math.log(2.0)

    def op(a, b):
        m = be.maximum(a, b)
        # equal operands (both infinite included, where a - b is NaN) give a + log 2
        far = be.add(m, be.log1p(be.exp(be.negative(be.absolute(be.subtract(a, b))))))
        return be.where(be.equal(a, b), be.add(a, log2), far)
    return op


class LogCumSumExp(Function):
    _tensor_args = 1
    _save_output = True

    @staticmethod
    def forward(ctx, a, d, reverse):
        be, x = a._be, a._data
        ctx.d, ctx.reverse = d, reverse
        ctx.save_for_backward(a)
        low = x.dtype in LOW_FLOAT_NP
        if low:
            x = be.astype(x, F32)
        if reverse:
            x = be.getitem(x, (slice(None),) * d + (slice(None, None, -1),))
        if be is _cpu:
            r = np.logaddexp.accumulate(x, axis=d)
        else:
            r = _scan(be, x, d, _logaddexp(be))
        if reverse:
            r = be.getitem(r, (slice(None),) * d + (slice(None, None, -1),))
        r = be.ascontiguousarray(r)
        return be.astype(r, a._data.dtype) if low else r

    @staticmethod
    def backward(ctx, g):
        # d out_i / d x_j = exp(x_j - out_i) for j <= i: the gradient is
        # exp(x_j) * sum_{i >= j} g_i exp(-out_i), summed in log space for the positive
        # and negative parts of g apart, so nothing overflows
        a, = ctx.saved_tensors
        out, d, rev = ctx.output, ctx.d, not ctx.reverse
        pos, neg = g.clamp(min=0), (-g).clamp(min=0)
        gp = (LogCumSumExp.apply(pos.log() - out, d, rev) + a).exp()
        gn = (LogCumSumExp.apply(neg.log() - out, d, rev) + a).exp()
        return gp - gn, None, None


def logcumsumexp(input, dim, *, out=None):
    x = input._data
    if x.dtype not in FLOAT_NP:
        raise NotImplementedError("\"logcumsumexp_out_cpu\" not implemented for "
                                  f"'{_dtname(input)}'")
    nd = x.ndim
    d = wrap_dim(dim, nd)
    if nd == 0:
        r = input.clone()
    elif x.shape[d] == 0:
        r = input.clone()
    else:
        r = LogCumSumExp.apply(input, d, False)
    return write_out(r, out)


TENSOR_METHODS = {
    "diag": diag, "diagflat": diagflat, "diag_embed": diag_embed, "diagonal": diagonal,
    "trace": trace, "rot90": rot90, "repeat_interleave": repeat_interleave, "diff": diff,
    "bincount": bincount, "histc": histc, "unique_consecutive": unique_consecutive,
    "cummax": cummax, "cummin": cummin, "logcumsumexp": logcumsumexp,
}
