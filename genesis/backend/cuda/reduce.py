"""Reductions (sum, prod, amax, amin, argmax, argmin, all, any) and scans (cumsum,
cumprod) over axes, by kernels/reduce.py, with NumPy's signatures, result dtypes, NaN
propagation and empty-axis behaviour.

Every reduction permutes the reduced axes to the end (a view) and runs a row kernel over
the (M kept, N reduced) view; when the kept dims do not merge into two strided dims or
the reduced ones into one, the permuted view is copied contiguous first. Low precision
accumulates in float32 and rounds once; float32 sums add in float32 in a tree order (each
of BLOCK_N lanes sums its columns in order, then the lanes fold pairwise), so they differ
from NumPy's pairwise sums by a few ulps of the row's absolute sum.
"""
import math

import numpy as np
import triton
import triton.language as tl
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from .array import DeviceArray
from .kernels import common as _k, reduce as _kr

__all__ = ["sum", "prod", "amax", "amin", "argmax", "argmin", "all", "any", "cumsum",
           "cumprod"]

_BOOL, _I64, _U64 = np.dtype(bool), np.dtype(np.int64), np.dtype(np.uint64)
_F32 = np.dtype(np.float32)
# elements per program tile: the interpreter pays per program, GPUs want many programs
_TILE = 16384 if _k.INTERPRET else 4096
_MAX_BLOCK_N = 4096 if _k.INTERPRET else 1024
# rows this long and this few are split over several programs, then folded (GPU only,
# where one program per row would leave most of the chip idle)
SPLIT_MIN_N = 1 << 62 if _k.INTERPRET else 16384
SPLIT_MAX_M = 512
SPLIT_PIECE = 4 * _MAX_BLOCK_N        # elements per piece, about
_ACC = {"float16": tl.float32, "bfloat16": tl.float32, "float32": tl.float32,
        "float64": tl.float64, "int8": tl.int32, "uint8": tl.int32, "int16": tl.int32,
        "uint16": tl.int32, "int32": tl.int32, "uint32": tl.int64, "int64": tl.int64,
        "uint64": tl.int64, "bool": tl.int32}
_NAMES = {"sum": "add", "prod": "multiply", "max": "maximum", "min": "minimum"}


def _cdt(dt):
    """The Triton type a kernel converts loaded elements to (bool stays int1)."""
    return tl.int1 if dt is _BOOL else _ACC[dt.name]


def _ident(op, acc):
    if op == "sum":
        return 0
    if op == "prod":
        return 1
    if acc.is_floating():
        return -math.inf if op == "max" else math.inf
    bits = acc.primitive_bitwidth
    return -(1 << bits - 1) if op == "max" else (1 << bits - 1) - 1


def _blocks(m, n, rows_contiguous=False):
    """(BLOCK_M, BLOCK_N) of about _TILE elements; wide in M where rows are adjacent in
    memory and the reduced axis is not (a column sum), so that loads coalesce."""
    if rows_contiguous:
        bm = min(triton.next_power_of_2(max(m, 1)), 128)
        return bm, min(triton.next_power_of_2(max(n, 1)), max(1, _TILE // bm))
    bn = min(triton.next_power_of_2(max(n, 1)), _MAX_BLOCK_N)
    bm = min(max(1, _TILE // bn), triton.next_power_of_2(max(m, 1)))
    return bm, bn


def _layout(x, axes):
    """x seen as M rows of N elements: (x or a contiguous copy, M, N, K1, sa, sb, sn) in
    elements, row r starting at (r // K1) * sa + (r % K1) * sb."""
    nd = x.ndim
    kept = [d for d in range(nd) if d not in axes]
    m = math.prod(x.shape[d] for d in kept)
    n = math.prod(x.shape[d] for d in axes)
    item = x.itemsize
    kdims, (kst,) = _merge([x.shape[d] for d in kept], [[x.strides[d] // item for d in kept]])
    rdims, (rst,) = _merge([x.shape[d] for d in axes], [[x.strides[d] // item for d in axes]])
    if len(kdims) > 2 or len(rdims) > 1:
        order = kept + list(axes)
        perm = x.view_of(tuple(x.shape[d] for d in order),
                         tuple(x.strides[d] for d in order), x.offset)
        return _copy(perm), m, n, 1, n, 0, 1
    kst = kst + [0] * (2 - len(kst))
    k1 = kdims[-1] if len(kdims) == 2 else 1
    return x, m, n, k1, kst[0], kst[1], (rst[0] if rst else 0)


def _reduce(op, x, axis, keepdims, out, rdt, truth=False):
    """Reduce x over axis by op into dtype rdt (or out's dtype)."""
    nd = x.ndim
    axes = tuple(range(nd)) if axis is None else normalize_axis_tuple(axis, nd)
    shape = tuple(1 if d in axes else s for d, s in enumerate(x.shape)) if keepdims else \
        tuple(s for d, s in enumerate(x.shape) if d not in axes)
    direct = out is not None and out.dtype == rdt and out.shape == shape and \
        out.flags.c_contiguous
    r = out if direct else DeviceArray.empty(shape, rdt, x.device_index)
    m, n = r.size, math.prod(x.shape[d] for d in axes)
    if m:
        if n == 0 and op in ("max", "min") and not truth:
            raise ValueError(f"zero-size array to reduction operation {_NAMES[op]} which "
                             f"has no identity")
        xs, m, n, k1, sa, sb, sn = _layout(x, axes)
        cdt = _cdt(x.dtype)
        acc = _ACC[rdt.name] if op in ("sum", "prod") else _ACC[x.dtype.name]
        if truth:                     # all/any: min/max of 0/1
            acc = tl.int32
        ident = int(op == "min") if truth else _ident(op, acc)
        meta = dict(OP=op, CDT=cdt, ACC=acc, TRUTH=truth, IDENT=ident)
        if n >= SPLIT_MIN_N and m <= SPLIT_MAX_M:
            # long rows: pieces in parallel into (m, splits) partials, then fold those
            n_per = triton.cdiv(n, min(triton.cdiv(n, SPLIT_PIECE), 1024))
            splits = triton.cdiv(n, n_per)
            pdt = _F32 if acc is tl.float32 else rdt
            part = DeviceArray.empty((m, splits), pdt, x.device_index)
            bm, bn = _blocks(1, n_per)
            _kr.reduce_kernel[(triton.cdiv(m, bm), splits)](
                xs.arg(), part.arg(), m, n, k1, sa, sb, sn, n_per, BLOCK_M=bm, BLOCK_N=bn,
                **meta)
            meta["CDT"] = _cdt(pdt)
            meta["TRUTH"] = False
            xs, n, k1, sa, sb, sn = part, splits, 1, splits, 0, 1
        bm, bn = _blocks(m, n, sn != 1 and (sb == 1 if k1 > 1 else sa == 1))
        _kr.reduce_kernel[(triton.cdiv(m, bm), 1)](
            xs.arg(), r.arg(), m, n, k1, sa, sb, sn, max(n, 1), BLOCK_M=bm, BLOCK_N=bn,
            **meta)
    if out is not None and not direct:
        from .backend import copyto
        copyto(out, r)
        return out
    return r


def _sum_dtype(x, dtype, out):
    if dtype is not None:
        return np.dtype(dtype)
    if out is not None:
        return out.dtype
    dt = x.dtype
    if dt is _BOOL or (dt.kind == "i" and dt.itemsize < 8):
        return _I64                   # NumPy widens small integers to the platform long
    if dt.kind == "u" and dt.itemsize < 8:
        return _U64
    return dt


def sum(x, axis=None, dtype=None, keepdims=False, out=None):
    return _reduce("sum", x, axis, keepdims, out, _sum_dtype(x, dtype, out))


def prod(x, axis=None, dtype=None, keepdims=False, out=None):
    return _reduce("prod", x, axis, keepdims, out, _sum_dtype(x, dtype, out))


def amax(x, axis=None, keepdims=False, out=None):
    return _reduce("max", x, axis, keepdims, out, x.dtype)


def amin(x, axis=None, keepdims=False, out=None):
    return _reduce("min", x, axis, keepdims, out, x.dtype)


def all(x, axis=None, out=None, keepdims=False):
    return _reduce("min", x, axis, keepdims, out, _BOOL, truth=True)


def any(x, axis=None, out=None, keepdims=False):
    return _reduce("max", x, axis, keepdims, out, _BOOL, truth=True)


def _arg(is_max, x, axis, out, keepdims):
    if axis is None and x.size == 0:
        _arg(is_max, x.view_of((0,), (x.itemsize,), x.offset), 0, None, False)
    if axis is None:
        from .backend import reshape
        r = _arg(is_max, reshape(x, (-1,)), 0, None, False)
        if keepdims:
            r = r.view_of((1,) * x.ndim, (8,) * x.ndim, r.offset)
    else:
        d = normalize_axis_index(axis, x.ndim) if x.ndim else normalize_axis_index(axis, 1)
        if x.ndim == 0:
            r = DeviceArray.empty((), _I64, x.device_index)
            x = x.view_of((1,), (x.itemsize,), x.offset)
        else:
            shape = tuple(1 if k == d and keepdims else s for k, s in enumerate(x.shape)
                          if k != d or keepdims)
            r = DeviceArray.empty(shape, _I64, x.device_index)
        if r.size:
            if x.shape[d] == 0:
                name = "argmax" if is_max else "argmin"
                raise ValueError(f"attempt to get {name} of an empty sequence")
            xs, m, n, k1, sa, sb, sn = _layout(x, (d,))
            cdt = tl.int32 if x.dtype is _BOOL else _cdt(x.dtype)
            bm, bn = _blocks(m, n, sn != 1 and (sb == 1 if k1 > 1 else sa == 1))
            _kr.arg_kernel[(triton.cdiv(m, bm),)](
                xs.arg(), r.arg(), m, n, k1, sa, sb, sn, MAX=is_max, CDT=cdt,
                IDENT=_ident("max" if is_max else "min", cdt), BLOCK_M=bm, BLOCK_N=bn)
    if out is not None:
        from .backend import copyto
        copyto(out, r)
        return out
    return r


def argmax(x, axis=None, out=None, *, keepdims=False):
    return _arg(True, x, axis, out, keepdims)


def argmin(x, axis=None, out=None, *, keepdims=False):
    return _arg(False, x, axis, out, keepdims)


def _scan(op, x, axis, dtype, out):
    if axis is None:
        from .backend import reshape
        x, axis = reshape(x, (-1,)), 0
    nd = x.ndim
    if nd == 0:
        x, nd = x.view_of((1,), (x.itemsize,), x.offset), 1
    d = normalize_axis_index(axis, nd)
    rdt = _sum_dtype(x, dtype, None)
    r = DeviceArray.empty(x.shape, rdt, x.device_index)
    if r.size:
        kept = [k for k in range(nd) if k != d]
        item, ritem = x.itemsize, r.itemsize
        shape = [x.shape[k] for k in kept]
        kdims, (kst, ost) = _merge(shape, [[x.strides[k] // item for k in kept],
                                           [r.strides[k] // ritem for k in kept]])
        if len(kdims) > 2:
            # the same layout as r: kept dims then merge into those around the axis
            x = _copy(x)
            kdims, (kst, ost) = _merge(shape, [[x.strides[k] // item for k in kept],
                                               [r.strides[k] // ritem for k in kept]])
        kst, ost = kst + [0] * (2 - len(kst)), ost + [0] * (2 - len(ost))
        k1 = kdims[-1] if len(kdims) == 2 else 1
        m, n = r.size // x.shape[d], x.shape[d]
        bm, bn = _blocks(m, n)
        _kr.scan_kernel[(triton.cdiv(m, bm),)](
            x.arg(), r.arg(), m, n, k1, kst[0], kst[1], x.strides[d] // item, ost[0], ost[1],
            r.strides[d] // ritem, OP=op, CDT=_cdt(x.dtype), ACC=_ACC[rdt.name],
            BLOCK_M=bm, BLOCK_N=bn)
    if out is not None:
        from .backend import copyto
        copyto(out, r)
        return out
    return r


def cumsum(x, axis=None, dtype=None, out=None):
    return _scan("sum", x, axis, dtype, out)


def cumprod(x, axis=None, dtype=None, out=None):
    return _scan("prod", x, axis, dtype, out)


def _merge(shape, strides):
    from .backend import _merge as merge
    return merge(shape, strides)


def _copy(x):
    from .backend import copy
    return copy(x)
