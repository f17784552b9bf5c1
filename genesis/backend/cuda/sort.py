"""Sorting primitives on the device: sort (stable, any row length) and unique, by
kernels/sort.py, with the CPU backend's (NumPy's) semantics: NaN last ascending and first
descending, -0.0 ties with 0.0 keeping positions, every NaN its own unique value.

sort moves the sorted axis last (a contiguous copy when needed) and sorts the rows:
rows up to SHORT elements in one rank pass; longer rows in tiles of RUN elements, then
log2(n / RUN) merge passes ping-ponging two (key, index) buffers (see kernels/sort.py).
unique(axis=None) sorts the flattened array, flags run starts, numbers the runs by a
device cumsum and scatters the uniques, counts and inverse; one host sync reads the
number of uniques. unique with an axis is a host stopgap (cpu.unique on a host copy).
"""
import operator

import numpy as np

from . import backend as _b
from .array import DeviceArray
from .kernels import common as _k
from .kernels import sort as _ks

__all__ = ["sort", "unique"]

_I32, _I64 = np.dtype(np.int32), np.dtype(np.int64)
# rows up to SHORT elements sort in one O(n^2)-work rank pass (fastest for short rows);
# longer rows start from rank-sorted runs of RUN elements and merge (a power of two)
SHORT = 8192
RUN = 1024


def _rank_blocks(t):
    bi = min(128, 1 << (t - 1).bit_length())
    return bi, min(bi, 64)


def _sort_rows(xc, n, descending):
    """(values, int64 row positions) of the contiguous rows (length n) of xc, sorted."""
    vals = DeviceArray.empty(xc.shape, xc.dtype, xc.device_index)
    idx = DeviceArray.empty(xc.shape, _I64, xc.device_index)
    rows = xc.size // n
    desc = bool(descending)
    if n <= SHORT:
        bi, bj = _rank_blocks(n)
        _ks.tile_sort_kernel[(rows, -(-n // bi))](
            xc.arg(), None, idx.arg(), vals.arg(), n, n, DESC=desc, SINGLE=True, BI=bi,
            BJ=bj)
        return vals, idx
    kdt = _I64 if xc.itemsize == 8 else _I32
    keys = [DeviceArray.empty(xc.shape, kdt, xc.device_index) for _ in range(2)]
    pos = [DeviceArray.empty(xc.shape, _I64, xc.device_index) for _ in range(2)]
    t = RUN
    bi, bj = _rank_blocks(t)
    _ks.tile_sort_kernel[(rows * -(-n // t), -(-t // bi))](
        xc.arg(), keys[0].arg(), pos[0].arg(), None, n, t, DESC=desc, SINGLE=False, BI=bi,
        BJ=bj)
    total, src = xc.size, 0
    while t < n:
        final = 2 * t >= n           # the last pass writes values and indices
        dst = 1 - src
        _ks.merge_kernel[_k.grid(total)](
            keys[src].arg(), pos[src].arg(), keys[dst].arg(),
            (idx if final else pos[dst]).arg(), xc.arg(), vals.arg(), total, n, t,
            t.bit_length(), FINAL=final, BLOCK=_k.BLOCK)
        src, t = dst, 2 * t
    return vals, idx


def sort(x, axis, descending=False, stable=False):
    """(values, int64 indices) along axis, always stable, NaN last (first when
    descending), all on the device."""
    axis = operator.index(axis) % max(x.ndim, 1)
    n = x.shape[axis] if x.ndim else 1
    if x.size == 0:
        return (DeviceArray.empty(x.shape, x.dtype, x.device_index),
                DeviceArray.empty(x.shape, _I64, x.device_index))
    order = [d for d in range(x.ndim) if d != axis] + [axis]
    xc = _b.ascontiguousarray(_b.transpose(x, order)) if x.ndim else x
    vals, idx = _sort_rows(xc, n, descending)
    if x.ndim <= 1 or axis == x.ndim - 1:
        return vals, idx
    back = [0] * x.ndim
    for k, d in enumerate(order):
        back[d] = k
    return (_b.ascontiguousarray(_b.transpose(vals, back)),
            _b.ascontiguousarray(_b.transpose(idx, back)))


def unique(x, sorted=True, return_inverse=False, return_counts=False, axis=None):
    """np.unique(x, equal_nan=False): the sorted uniques, then the inverse (x's shape)
    and the counts (int64) as asked; always sorted, as the CPU backend."""
    if axis is not None:                      # stopgap: unique rows/slices on the host
        from .. import cpu
        r = cpu.unique(_b.to_host(x), sorted, return_inverse, return_counts, axis)
        return tuple(_b.from_host(a) for a in r) if isinstance(r, tuple) else \
            _b.from_host(r)
    dev = x.device_index
    n = x.size
    flat = _b.reshape(x, (n,))
    if n == 0:
        uniq = DeviceArray.empty((0,), x.dtype, dev)
        seg = None
        counts = DeviceArray.empty((0,), _I64, dev)
        inv = DeviceArray.empty(x.shape, _I64, dev)
    else:
        vals, perm = _sort_rows(_b.ascontiguousarray(flat), n, False)
        flags = DeviceArray.empty((n,), _I64, dev)
        cdt = _k.compute_dtype(_I32 if x.dtype.kind == "b" else x.dtype)
        _ks.boundary_kernel[_k.grid(n)](vals.arg(), flags.arg(), n, CDT=cdt,
                                        BLOCK=_k.BLOCK)
        seg = _b.cumsum(flags)
        u = int(_b.to_host(_b.getitem(seg, slice(n - 1, n)))[0])    # the one host sync
        uniq = DeviceArray.empty((u,), x.dtype, dev)
        starts = DeviceArray.empty((u + 1,), _I64, dev) if return_counts else None
        inv = DeviceArray.empty(x.shape, _I64, dev) if return_inverse else None
        _ks.unique_scatter_kernel[_k.grid(n)](
            vals.arg(), perm.arg(), seg.arg(), uniq.arg(),
            None if starts is None else starts.arg(), None if inv is None else inv.arg(),
            n, INVERSE=bool(return_inverse), COUNTS=bool(return_counts), BLOCK=_k.BLOCK)
        if return_counts:
            counts = _b.subtract(_b.getitem(starts, slice(1, None)),
                                 _b.getitem(starts, slice(None, -1)))
    if not (return_inverse or return_counts):
        return uniq
    out = (uniq,)
    if return_inverse:
        out += (inv,)
    if return_counts:
        out += (counts,)
    return out
