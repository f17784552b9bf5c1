"""Gather/scatter and indexing primitives (take_along_axis, put_along_axis, add_at,
reduce_at, advanced getitem/setitem, nonzero, searchsorted), by kernels/index.py, in
NumPy's semantics (sort and unique are in sort.py).

Every indexing primitive is NumPy advanced indexing, done in three steps:
1. the basic part of the index (slices, None, and full slices where the arrays go) makes
   a view V of x;
2. the index arrays become one int64 array of element offsets into V over their
   broadcast shape B. Host index arrays (NumPy, lists) are checked, wrapped and combined
   on the host and uploaded once; when any index array is a DeviceArray everything stays
   on the device: masks become coordinates by nonzero, the bounds of all integer arrays
   are checked by one host copy of their extremes (NumPy's IndexError), negatives are
   wrapped and the offsets summed by device elementwise ops;
3. one kernel walks the canonical shape B + (V's plain dims), reading/writing
   ``V[plain offset + offsets[b]]``; the result (or the value) is a transposed view when
   NumPy puts B elsewhere than first.
nonzero syncs once (for the number of nonzeros, as torch). reduce_at's prod is a serial
kernel (its rounding depends on the order).
"""
import math
import operator

import numpy as np

from . import backend as _b
from .array import DeviceArray
from .kernels import common as _k, index as _ki

__all__ = ["advanced_getitem", "advanced_setitem", "take_along_axis", "put_along_axis",
           "add_at", "reduce_at", "nonzero", "searchsorted"]

_I64 = np.dtype(np.int64)
# add_at on dtypes without (portable) atomics accumulates in a wider scratch copy
_ATOMIC_SCRATCH = {"float16": np.float32, "bfloat16": np.float32, "int8": np.int32,
                   "uint8": np.int32, "int16": np.int32, "bool": np.int32}


# ---------------------------------------------------------------- index analysis
def _is_array(i):
    return isinstance(i, (np.ndarray, DeviceArray))


def _plan(x, index):
    """NumPy's advanced indexing of x by the tuple ``index`` as
    (V, offsets, B, plain, perm, unique): V a view of x, offsets the int64 element offsets
    into V over shape B (a host array when every index array is on the host, else a
    device array, possibly a broadcast view), plain the V axes walked as they are, perm
    the result axes in canonical order (B first, then plain), and unique whether the
    offsets cannot repeat (only masks index)."""
    if not isinstance(index, tuple):
        index = (index,)
    on_device = any(isinstance(i, DeviceArray) for i in index)
    items = []
    for i in index:
        if i is None or i is Ellipsis or isinstance(i, slice):
            items.append(i)
        elif isinstance(i, (bool, np.bool_)):
            items.append(bool(i))
        elif isinstance(i, (DeviceArray, np.ndarray, list, tuple)):
            a = i if isinstance(i, DeviceArray) else np.asarray(i)
            if a.dtype.kind == "b" and a.ndim == 0:
                items.append(bool(a))           # as a Python bool: a new axis (syncs)
                continue
            if a.dtype.kind not in "biu":
                if a.size:
                    raise IndexError("arrays used as indices must be of integer (or "
                                     "boolean) type")
                a = _b.astype(a, _I64) if isinstance(a, DeviceArray) else a.astype(_I64)
            items.append(a)
        else:
            items.append(operator.index(i))
    used = sum(1 if isinstance(i, (int, slice)) and not isinstance(i, bool) else
               (i.ndim if _is_array(i) and i.dtype.kind == "b" else
                1 if _is_array(i) else 0) for i in items)
    if used > x.ndim:
        raise IndexError(f"too many indices for array: array is {x.ndim}-dimensional, but "
                         f"{used} were indexed")
    ells = [k for k, i in enumerate(items) if i is Ellipsis]
    if len(ells) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if ells:
        k = ells[0]
        items[k:k + 1] = [slice(None)] * (x.ndim - used)
    else:
        items += [slice(None)] * (x.ndim - used)

    # adv: (V axis, x axis or None, int array, checked: whether it is known in bounds)
    basic, adv, slots = [], [], []
    unique = True
    vax = xax = 0
    for s, i in enumerate(items):
        if i is None:
            basic.append(None)
            vax += 1
        elif isinstance(i, slice):
            basic.append(i)
            vax += 1
            xax += 1
        elif isinstance(i, bool):            # a 0-d mask: a new axis of 1 or 0 elements
            basic.append(None)
            adv.append((vax, None, np.zeros(int(i), _I64), True))
            slots.append(s)
            vax += 1
        elif isinstance(i, int) or i.dtype.kind in "iu":
            basic.append(slice(None))
            adv.append((vax, xax, i if _is_array(i) else np.asarray(i, _I64), False))
            unique = False
            slots.append(s)
            vax += 1
            xax += 1
        else:                                # a boolean mask over i.ndim axes
            for d in range(i.ndim):
                if i.shape[d] != x.shape[xax + d]:
                    raise IndexError(
                        f"boolean index did not match indexed array along axis {xax + d}; "
                        f"size of axis is {x.shape[xax + d]} but size of corresponding "
                        f"boolean axis is {i.shape[d]}")
            if isinstance(i, DeviceArray):   # its coordinates stay on the device
                pos = nonzero(i)
                cols = [_b.getitem(pos, (slice(None), d)) for d in range(i.ndim)]
            else:
                cols = [p.astype(_I64, copy=False) for p in np.nonzero(i)]
            for pos in cols:
                basic.append(slice(None))
                adv.append((vax, xax, pos, True))
                vax += 1
                xax += 1
            slots.append(s)
    V = _b.getitem(x, tuple(basic))
    try:
        B = np.broadcast_shapes(*(a.shape for _, _, a, _ in adv))
    except ValueError:
        raise IndexError("shape mismatch: indexing arrays could not be broadcast together "
                         "with shapes " + " ".join(str(a.shape) for _, _, a, _ in adv)) \
            from None
    off = (_device_offsets if on_device else _host_offsets)(V, adv, B)
    adv_axes = {ax for ax, _, _, _ in adv}
    plain = [d for d in range(V.ndim) if d not in adv_axes]
    nb = len(B)
    adjacent = slots == list(range(slots[0], slots[0] + len(slots)))
    # result axis of each canonical axis (B first, then plain)
    p = sum(1 for d in plain if d < adv[0][0]) if adjacent else 0
    perm = list(range(p, p + nb)) + list(range(p)) + list(range(p + nb, nb + len(plain)))
    return V, off, B, plain, perm, unique


def _out_of_bounds(lo, hi, n, xa):
    if lo < -n or hi >= n:
        bad = lo if lo < -n else hi
        raise IndexError(f"index {bad} is out of bounds for axis {xa} with size {n}")


def _host_offsets(V, adv, B):
    item = V.itemsize
    off = np.zeros(B, _I64)
    for ax, xa, a, checked in adv:
        n = V.shape[ax]
        if a.size and not checked:
            lo, hi = int(a.min()), int(a.max())
            _out_of_bounds(lo, hi, n, xa)
            if lo < 0:
                a = np.where(a < 0, a + n, a)
        off = off + a * (V.strides[ax] // item)
    return np.ascontiguousarray(off)


def _device_offsets(V, adv, B):
    """The offsets by device elementwise ops. The bounds of every device index array are
    checked at once by ONE host copy of all their extremes; host ones (such as
    _along's aranges) are checked and wrapped on the host, then uploaded."""
    ext, parts, arrs = {}, [], []
    for k, (ax, xa, a, checked) in enumerate(adv):
        if isinstance(a, np.ndarray):
            if a.size and not checked:
                ext[k] = int(a.min()), int(a.max())
                if ext[k][0] < 0 and ext[k][0] >= -V.shape[ax]:
                    a = np.where(a < 0, a + V.shape[ax], a)
            a, checked = _b.from_host(a.astype(_I64, copy=False)), True
        elif a.dtype != _I64:
            a = _b.astype(a, _I64)
        if a.size and not checked:
            parts += [_b.reshape(_b.amin(a), (1,)), _b.reshape(_b.amax(a), (1,))]
        arrs.append((ax, xa, a, checked or not a.size))
    if parts:
        host = iter(_b.to_host(_b.concatenate(parts)).tolist())
        ext.update({k: (next(host), next(host)) for k, (_, _, _, checked) in
                    enumerate(arrs) if not checked})
    item = V.itemsize
    off = None
    for k, (ax, xa, a, checked) in enumerate(arrs):
        n = V.shape[ax]
        if k in ext:
            lo, hi = ext[k]
            _out_of_bounds(lo, hi, n, xa)
            if lo < 0 and not checked:
                a = _b.where(_b.less(a, 0), _b.add(a, n), a)
        st = V.strides[ax] // item
        term = a if st == 1 else _b.multiply(a, st)
        off = term if off is None else _b.add(off, term)
    return _b.broadcast_to(off, B)


def _operands(V, off, B, plain):
    """The canonical views: V over B + plain (B by stride 0) and the offsets (uploaded
    if on the host) over the same shape (plain by stride 0)."""
    shape = tuple(B) + tuple(V.shape[d] for d in plain)
    xv = V.view_of(shape, (0,) * len(B) + tuple(V.strides[d] for d in plain), V.offset)
    f = off if isinstance(off, DeviceArray) else _b.from_host(off)
    fv = f.view_of(shape, f.strides + (0,) * len(plain), f.offset)
    return shape, xv, fv


def _canonical(arr, perm):
    """arr (in NumPy's result order) viewed in canonical order."""
    return _b.transpose(arr, perm) if perm != sorted(perm) else arr


def _value(x, value, shape):
    """value as a device array broadcast to ``shape`` (NumPy's ValueError otherwise)."""
    if not isinstance(value, DeviceArray):
        value = _b.from_host(np.asarray(_b._host_scalar(value, x.dtype)))
    elif _b.shares_memory(value, x):
        value = _b.copy(value)              # x[i] = x[j]: read everything before writing
    try:
        return _b.broadcast_to(value, shape)
    except ValueError:
        raise ValueError(f"shape mismatch: value array of shape {value.shape} could not "
                         f"be broadcast to indexing result of shape {shape}") from None


# ---------------------------------------------------------------- getitem / setitem
def advanced_getitem(x, index):
    """x[index] with integer arrays and/or boolean masks: a new contiguous array."""
    V, off, B, plain, perm, _ = _plan(x, index)
    shape, xv, fv = _operands(V, off, B, plain)
    rshape = [0] * len(shape)
    for k, r in enumerate(perm):
        rshape[r] = shape[k]
    out = DeviceArray.empty(tuple(rshape), x.dtype, x.device_index)
    _b._launch(_ki.gather_kernel, shape, (xv, fv, _canonical(out, perm)))
    return out


def advanced_setitem(x, index, value):
    """x[index] = value in place; value broadcasts to the result shape, and of duplicate
    targets the last write wins (as NumPy), so no two threads race: host offsets are
    deduplicated on the host (only the last of each is written); device offsets by
    claim_kernel (an atomic max of each row's ordinal per target) and a scatter that
    writes only the winning rows."""
    V, off, B, plain, perm, unique = _plan(x, index)
    shape, xv, fv = _operands(V, off, B, plain)
    rshape = [0] * len(shape)
    for k, r in enumerate(perm):
        rshape[r] = shape[k]
    v = _canonical(_value(x, value, tuple(rshape)), perm)
    rows = math.prod(B)
    if isinstance(off, DeviceArray):
        if not unique and rows > 1 and math.prod(shape):
            _scatter_last(V, off, B, plain, shape, xv, v)
            return
    elif rows > 1:
        flat = off.reshape(-1)
        _, first_rev = np.unique(flat[::-1], return_index=True)
        if first_rev.size < flat.size:
            keep = np.sort(flat.size - 1 - first_rev)
            rest = shape[len(B):]
            v = advanced_getitem(_b.reshape(v, (flat.size,) + rest), (keep,))
            shape = (keep.size,) + rest
            xv = V.view_of(shape, (0,) + xv.strides[len(B):], V.offset)
            f = _b.from_host(flat[keep])
            fv = f.view_of(shape, f.strides + (0,) * len(rest), f.offset)
    _b._launch(_ki.scatter_kernel, shape, (xv, fv, v), ADD=False)


def _scatter_last(V, off, B, plain, shape, xv, v):
    """The scatter of advanced_setitem with device offsets that may repeat. Each
    target's winner lives in an int64 scratch slot (off - lo) // g, over the span the
    index axes reach in V (g the gcd of their strides): as large as the indexed part of
    V."""
    lo = hi = g = 0
    for ax in range(V.ndim):
        st = V.strides[ax] // V.itemsize
        if ax not in plain and V.shape[ax] > 1 and st:
            reach = (V.shape[ax] - 1) * st
            lo, hi, g = lo + min(reach, 0), hi + max(reach, 0), math.gcd(g, st)
    g = g or 1
    win = _b.full(((hi - lo) // g + 1,), -1, _I64)
    f = _b.reshape(_b.ascontiguousarray(off), (-1,))
    _ki.claim_kernel[_k.grid(f.size)](f.arg(), win.arg(), lo, g, f.size, BLOCK=_k.BLOCK)
    # each position's row, as an operand: _launch may split the walk into launches
    rows = _b.arange(0, f.size, 1, _I64)
    over = _b.reshape(f, B).strides + (0,) * (len(shape) - len(B))
    _b._launch(_ki.scatter_last_kernel, shape,
               (xv, f.view_of(shape, over, f.offset), v, rows.view_of(shape, over, 0)),
               (win.arg(), lo, g))


# ---------------------------------------------------------------- scatter with reduction
def _scatter_args(x, index, values):
    V, off, B, plain, perm, _ = _plan(x, index)
    shape, xv, fv = _operands(V, off, B, plain)
    rshape = [0] * len(shape)
    for k, r in enumerate(perm):
        rshape[r] = shape[k]
    return shape, xv, fv, _canonical(_value(x, values, tuple(rshape)), perm)


def add_at(x, index, values):
    """np.add.at(x, index, values): unbuffered, duplicates accumulate (atomic adds, so
    float sums of duplicates may round in any order). float16/bfloat16 accumulate in a
    float32 scratch copy of x and round once at the end (NumPy rounds after each add),
    int8/uint8/int16/bool in int32 (the same result modulo the width)."""
    scratch = _ATOMIC_SCRATCH.get(x.dtype.name)
    if scratch is not None:
        tmp = _b.astype(x, scratch)
        if x.dtype.kind == "b" and isinstance(values, DeviceArray):
            values = _b.astype(values, np.int32)
        add_at(tmp, index, values)
        _b.copyto(x, _b.not_equal(tmp, 0) if x.dtype.kind == "b" else tmp)
        return
    shape, xv, fv, v = _scatter_args(x, index, values)
    _b._launch(_ki.scatter_kernel, shape, (xv, fv, v), ADD=True)


def reduce_at(op, x, index, values):
    """np.maximum/minimum/multiply.at(x, index, values) for op amax/amin/prod (NaN
    propagates). amax/amin run in parallel by compare-and-swap loops on 32/64-bit bit
    patterns (reduce_cas_kernel): exact, and independent of the order but for the sign
    of equal zeros; narrower dtypes go through an int32/float32 scratch copy of x (exact
    for max/min). prod stays a serial kernel walking the values in NumPy's order, as
    the rounding of a float product depends on it (a documented stopgap: its cost is
    serial in the number of values)."""
    if op not in ("amax", "amin", "prod"):
        raise ValueError(f"reduce_at: unknown op {op!r}")
    if op != "prod":
        wide = _ATOMIC_SCRATCH.get(x.dtype.name)
        if wide is not None:
            tmp = _b.astype(x, wide)
            if x.dtype.kind == "b" and isinstance(values, DeviceArray):
                values = _b.astype(values, np.int32)
            reduce_at(op, tmp, index, values)
            _b.copyto(x, _b.not_equal(tmp, 0) if x.dtype.kind == "b" else tmp)
            return
    shape, xv, fv, v = _scatter_args(x, index, values)
    cdt = _k.compute_dtype(x.dtype)
    if op == "prod":
        _b._launch(_ki.reduce_serial_kernel, shape, (xv, fv, v), OP=op, CDT=cdt)
    else:
        _b._launch(_ki.reduce_cas_kernel, shape, (xv, fv, v), OP=op, CDT=cdt,
                   IT=_k.tl.int32 if x.itemsize == 4 else _k.tl.int64)


# ---------------------------------------------------------------- along an axis
def _along(x, idx, axis):
    if idx.ndim != x.ndim:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    if idx.dtype.kind not in "iu":
        raise IndexError("`indices` must be an integer array")
    axis = operator.index(axis)
    if not -x.ndim <= axis < x.ndim:
        raise np.exceptions.AxisError(axis, x.ndim)
    axis %= x.ndim
    mesh = []
    for d in range(x.ndim):
        if d == axis:
            mesh.append(idx)
        else:
            shp = [1] * x.ndim
            shp[d] = x.shape[d]
            mesh.append(np.arange(x.shape[d], dtype=_I64).reshape(shp))
    return tuple(mesh)


def take_along_axis(x, idx, axis):
    """np.take_along_axis: idx broadcasts against x over the other dims."""
    return advanced_getitem(x, _along(x, idx, axis))


def put_along_axis(x, idx, values, axis):
    """np.put_along_axis, in place (last write wins for duplicates)."""
    advanced_setitem(x, _along(x, idx, axis), values)


# ---------------------------------------------------------------- nonzero, searchsorted
def nonzero(x):
    """np.argwhere: int64 (n, ndim). The running count of nonzeros (a device cumsum)
    gives each nonzero element its row; one host sync reads n to size the result."""
    mask = _b.reshape(_b.not_equal(x, 0), (-1,))
    if mask.size == 0:
        return DeviceArray.empty((0, x.ndim), _I64, x.device_index)
    cs = _b.cumsum(mask, dtype=_I64)
    n = int(_b.getitem(cs, (-1,)))
    out = DeviceArray.empty((n, x.ndim), _I64, x.device_index)
    if n and x.ndim:
        shp = _b.from_host(np.asarray(x.shape, _I64))
        _ki.nonzero_kernel[_k.grid(mask.size)](mask.arg(), cs.arg(), shp.arg(), out.arg(),
                                               mask.size, NDIM=x.ndim, BLOCK=_k.BLOCK)
    return out


def searchsorted(sorted_seq, values, side="left", sorter=None):
    """np.searchsorted -> int64 of values' shape: a binary search per value on the
    device (searchsorted_kernel), NaN after every number as NumPy. Both operands
    compare in their NumPy result dtype. Out-of-range sorter entries are clamped
    rather than raising as NumPy."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right' (got {side!r})")
    a = sorted_seq if isinstance(sorted_seq, DeviceArray) else _b.from_host(
        np.asarray(sorted_seq))
    if a.ndim != 1:
        raise ValueError("object too deep for desired array" if a.ndim > 1 else
                         "object of too small depth for desired array")
    rdt = _b._result_dtype(a, values)
    v = values if isinstance(values, DeviceArray) else \
        _b.from_host(np.asarray(values, rdt))
    srt = a
    if sorter is not None:
        srt = sorter if isinstance(sorter, DeviceArray) else \
            _b.from_host(np.asarray(sorter))
        if srt.dtype.kind not in "iu":
            raise TypeError("sorter must only contain integers")
        if srt.shape != a.shape:
            raise ValueError("sorter.size must equal a.size")
    out = DeviceArray.empty(v.shape, _I64, a.device_index)
    m = a.size
    cdt = _k.compute_dtype(np.int32 if rdt.kind == "b" else rdt)
    _b._launch(_ki.searchsorted_kernel, v.shape, (v, out),
               (a.arg(), srt.arg(), m, a.strides[0] // a.itemsize,
                srt.strides[0] // srt.itemsize, m.bit_length()),
               RIGHT=side == "right", HAS_SORTER=sorter is not None, CDT=cdt)
    return out
