"""Gather/scatter and indexing primitives (take_along_axis, put_along_axis, add_at,
reduce_at, advanced getitem/setitem, nonzero, sort, unique, searchsorted), by
kernels/index.py, in NumPy's semantics.

Every indexing primitive is NumPy advanced indexing, done in three steps:
1. the basic part of the index (slices, None, and full slices where the arrays go) makes
   a view V of x;
2. the index arrays are copied to the host (they are usually small): bounds are checked
   there, negatives wrapped, and they become one int64 array of element offsets into V
   over their broadcast shape B, uploaded once;
3. one kernel walks the canonical shape B + (V's plain dims), reading/writing
   ``V[plain offset + offsets[b]]``; the result (or the value) is a transposed view when
   NumPy puts B elsewhere than first.
Host stopgaps (documented on each): nonzero, sort, unique, searchsorted copy to the host,
compute with NumPy (genesis.backend.cpu) and copy back; they keep NumPy's results exactly.
"""
import operator

import numpy as np

from . import backend as _b
from .array import DeviceArray
from .kernels import common as _k, index as _ki

__all__ = ["advanced_getitem", "advanced_setitem", "take_along_axis", "put_along_axis",
           "add_at", "reduce_at", "nonzero", "sort", "unique", "searchsorted"]

_I64 = np.dtype(np.int64)
# add_at on dtypes without (portable) atomics accumulates in a wider scratch copy
_ATOMIC_SCRATCH = {"float16": np.float32, "bfloat16": np.float32, "int8": np.int32,
                   "uint8": np.int32, "int16": np.int32, "bool": np.int32}


# ---------------------------------------------------------------- index analysis
def _host_index(i):
    if isinstance(i, DeviceArray):
        return _b.to_host(i)
    return np.asarray(i)


def _plan(x, index):
    """NumPy's advanced indexing of x by the tuple ``index`` as
    (V, offsets, B, plain, perm): V a view of x, offsets a host int64 array of element
    offsets into V of shape B, plain the V axes walked as they are, and perm the result
    axes in canonical order (B first, then plain)."""
    if not isinstance(index, tuple):
        index = (index,)
    items = []
    for i in index:
        if i is None or i is Ellipsis or isinstance(i, slice):
            items.append(i)
        elif isinstance(i, (bool, np.bool_)):
            items.append(bool(i))
        elif isinstance(i, (DeviceArray, np.ndarray, list, tuple)):
            a = _host_index(i)
            if a.dtype.kind == "b" and a.ndim == 0:
                items.append(bool(a))           # as a Python bool: a new axis
                continue
            if a.dtype.kind not in "biu":
                if a.size:
                    raise IndexError("arrays used as indices must be of integer (or "
                                     "boolean) type")
                a = a.astype(_I64)
            items.append(a)
        else:
            items.append(operator.index(i))
    used = sum(1 if isinstance(i, (int, slice)) and not isinstance(i, bool) else
               (i.ndim if isinstance(i, np.ndarray) and i.dtype.kind == "b" else
                1 if isinstance(i, np.ndarray) else 0) for i in items)
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

    basic, adv, slots = [], [], []   # adv: (V axis, x axis or None, int array)
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
            adv.append((vax, None, np.zeros(int(i), _I64)))
            slots.append(s)
            vax += 1
        elif isinstance(i, int) or i.dtype.kind in "iu":
            basic.append(slice(None))
            adv.append((vax, xax, np.asarray(i, _I64)))
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
            for d, pos in enumerate(np.nonzero(i)):
                basic.append(slice(None))
                adv.append((vax, xax, pos.astype(_I64, copy=False)))
                vax += 1
                xax += 1
            slots.append(s)
    V = _b.getitem(x, tuple(basic))
    try:
        B = np.broadcast_shapes(*(a.shape for _, _, a in adv))
    except ValueError:
        raise IndexError("shape mismatch: indexing arrays could not be broadcast together "
                         "with shapes " + " ".join(str(a.shape) for _, _, a in adv)) from None
    item = V.itemsize
    off = np.zeros(B, _I64)
    for ax, xa, a in adv:
        n = V.shape[ax]
        if a.size:
            lo, hi = int(a.min()), int(a.max())
            if lo < -n or hi >= n:
                bad = lo if lo < -n else hi
                raise IndexError(f"index {bad} is out of bounds for axis {xa} with size {n}")
            if lo < 0:
                a = np.where(a < 0, a + n, a)
        off = off + a * (V.strides[ax] // item)
    adv_axes = {ax for ax, _, _ in adv}
    plain = [d for d in range(V.ndim) if d not in adv_axes]
    nb = len(B)
    adjacent = slots == list(range(slots[0], slots[0] + len(slots)))
    # result axis of each canonical axis (B first, then plain)
    p = sum(1 for d in plain if d < adv[0][0]) if adjacent else 0
    perm = list(range(p, p + nb)) + list(range(p)) + list(range(p + nb, nb + len(plain)))
    return V, np.ascontiguousarray(off), B, plain, perm


def _operands(V, off, B, plain):
    """The canonical views: V over B + plain (B by stride 0) and the uploaded offsets
    over the same shape (plain by stride 0)."""
    shape = tuple(B) + tuple(V.shape[d] for d in plain)
    xv = V.view_of(shape, (0,) * len(B) + tuple(V.strides[d] for d in plain), V.offset)
    f = _b.from_host(off)
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
    V, off, B, plain, perm = _plan(x, index)
    shape, xv, fv = _operands(V, off, B, plain)
    rshape = [0] * len(shape)
    for k, r in enumerate(perm):
        rshape[r] = shape[k]
    out = DeviceArray.empty(tuple(rshape), x.dtype, x.device_index)
    _b._launch(_ki.gather_kernel, shape, (xv, fv, _canonical(out, perm)))
    return out


def advanced_setitem(x, index, value):
    """x[index] = value in place; value broadcasts to the result shape, and of duplicate
    targets the last write wins (as NumPy): duplicates are found on the host copy of the
    offsets and only the last of each is written, so no two threads race."""
    V, off, B, plain, perm = _plan(x, index)
    shape, xv, fv = _operands(V, off, B, plain)
    rshape = [0] * len(shape)
    for k, r in enumerate(perm):
        rshape[r] = shape[k]
    v = _canonical(_value(x, value, tuple(rshape)), perm)
    flat = off.reshape(-1)
    if flat.size > 1:
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


# ---------------------------------------------------------------- scatter with reduction
def _scatter_args(x, index, values):
    V, off, B, plain, perm = _plan(x, index)
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
    propagates). A serial kernel walks the values in order (a documented stopgap: there
    are no portable float max/min/mul atomics); exact and deterministic."""
    if op not in ("amax", "amin", "prod"):
        raise ValueError(f"reduce_at: unknown op {op!r}")
    shape, xv, fv, v = _scatter_args(x, index, values)
    _b._launch(_ki.reduce_serial_kernel, shape, (xv, fv, v), OP=op,
               CDT=_k.compute_dtype(x.dtype))


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


# ---------------------------------------------------------------- host stopgaps
def nonzero(x):
    """np.argwhere: int64 (n, ndim). Stopgap: counts and positions on a host copy."""
    return _b.from_host(np.argwhere(_b.to_host(x)).astype(_I64, copy=False))


_SORT_MAX = 8192      # longer rows: the O(n^2) rank kernel loses to a host sort


def sort(x, axis, descending=False, stable=False):
    """(values, int64 indices) along axis, always stable, NaN last (first when
    descending) as the CPU backend. Rows up to _SORT_MAX elements sort on the device by
    rank_sort_kernel; longer rows are a stopgap: sorted on a host copy by
    genesis.backend.cpu.sort."""
    axis = operator.index(axis) % max(x.ndim, 1)
    n = x.shape[axis] if x.ndim else 1
    if n > _SORT_MAX:
        from .. import cpu
        vals, idx = cpu.sort(_b.to_host(x), axis, descending, stable)
        return _b.from_host(vals), _b.from_host(idx)
    order = [d for d in range(x.ndim) if d != axis] + [axis]
    xc = _b.ascontiguousarray(_b.transpose(x, order)) if x.ndim else x
    vals = DeviceArray.empty(xc.shape, x.dtype, x.device_index)
    idx = DeviceArray.empty(xc.shape, _I64, x.device_index)
    if x.size:
        rows = x.size // n
        bi = min(128, 1 << (n - 1).bit_length())
        cdt = _k.compute_dtype(np.int32 if x.dtype.kind == "b" else x.dtype)
        _ki.rank_sort_kernel[(rows, -(-n // bi))](
            xc.arg(), vals.arg(), idx.arg(), n, DESC=bool(descending), CDT=cdt, BI=bi,
            BJ=min(bi, 64))
    if x.ndim <= 1 or axis == x.ndim - 1:
        return vals, idx
    back = [0] * x.ndim
    for k, d in enumerate(order):
        back[d] = k
    return (_b.ascontiguousarray(_b.transpose(vals, back)),
            _b.ascontiguousarray(_b.transpose(idx, back)))


def unique(x, sorted=True, return_inverse=False, return_counts=False, axis=None):
    """np.unique (every NaN its own value). Stopgap on a host copy."""
    from .. import cpu
    r = cpu.unique(_b.to_host(x), sorted, return_inverse, return_counts, axis)
    if isinstance(r, tuple):
        return tuple(_b.from_host(a) for a in r)
    return _b.from_host(r)


def searchsorted(sorted_seq, values, side="left", sorter=None):
    """np.searchsorted -> int64. Stopgap on host copies."""
    host = [_b.to_host(a) if isinstance(a, DeviceArray) else a
            for a in (sorted_seq, values, sorter)]
    r = np.searchsorted(host[0], host[1], side=side, sorter=host[2])
    return _b.from_host(np.asarray(r, _I64))
