"""Fused layer/RMS norm over the rows of a (M, N) array (kernels/norm.py): an optional
primitive of the CUDA backend, used by genesis/ops/norm.py where ``be.norm_fwd`` exists.

norm_fwd computes y, the row means (None for RMS norm) and 1/std in one kernel; norm_bwd
gives dx in one pass per row and the weight/bias gradients as per-program partial sums
over row ranges, (programs, N), folded by the backend's sum. Statistics and partials are
float32 for float16/bfloat16/float32 and float64 for float64."""
import numpy as np
import triton

from .array import DeviceArray
from .kernels import common as _k, norm as _kn

__all__ = ["norm_fwd", "norm_bwd"]

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
# longest row held in one tile; longer rows are walked in chunks of this
MAX_BLOCK_N = 4096
# elements per program tile (the interpreter pays per program: few, large ones)
_TILE = 16384 if _k.INTERPRET else 4096
# programs of the backward: each folds its rows' weight/bias gradients into one row
_BWD_PROGRAMS = 4 if _k.INTERPRET else 264


def _cd(dt):
    return _F64 if dt == _F64 else _F32


def _blocks(m, n):
    bn = min(triton.next_power_of_2(max(n, 1)), MAX_BLOCK_N)
    bm = min(max(1, _TILE // bn), triton.next_power_of_2(max(m, 1)))
    return bm, bn, n <= bn


def _rows(a):
    """a with adjacent columns, and its row stride in elements."""
    if a.shape[1] > 1 and a.strides[1] != a.itemsize:
        from .backend import ascontiguousarray
        a = ascontiguousarray(a)
    return a, (a.strides[0] // a.itemsize if a.shape[0] > 1 else a.shape[1])


def _vec(p):
    if p is None:
        return None
    if p.ndim != 1 or (p.shape[0] > 1 and p.strides[0] != p.itemsize):
        from .backend import ascontiguousarray, reshape
        p = reshape(ascontiguousarray(p), (-1,))
    return p


def _warps(bm, bn):
    return 8 if bm * bn >= 4096 else 4


def norm_fwd(x, weight, bias, eps, centered):
    """(y, mean or None, rstd) of layer norm (centered) or RMS norm over x's rows:
    y = (x - mean) * rstd * weight + bias, rstd = 1 / sqrt(var + eps); weight and bias are
    (N,) arrays or None, y has x's dtype, mean and rstd (M,) in the compute dtype."""
    M, N = x.shape
    x, sx = _rows(x)
    cd = _cd(x.dtype)
    y = DeviceArray.empty((M, N), x.dtype, x.device_index)
    rstd = DeviceArray.empty((M,), cd, x.device_index)
    mean = DeviceArray.empty((M,), cd, x.device_index) if centered else None
    if M and N:
        w, b = _vec(weight), _vec(bias)
        bm, bn, single = _blocks(M, N)
        xa = x.arg()
        _kn.norm_fwd_kernel[(triton.cdiv(M, bm),)](
            xa, w.arg() if w is not None else xa, b.arg() if b is not None else xa,
            y.arg(), (mean if centered else rstd).arg(), rstd.arg(), M, N, sx,
            _k.scalar_bits(eps), CENTERED=centered, HAS_W=w is not None,
            HAS_B=b is not None, CDT=_k.compute_dtype(cd), SINGLE=single, BLOCK_M=bm,
            BLOCK_N=bn, num_warps=_warps(bm, bn))
    return y, mean, rstd


def norm_bwd(g, x, weight, mean, rstd, centered, need_dx, need_dw, need_db):
    """(dx, dw, db) of norm_fwd from the upstream gradient g (x's shape), each None where
    not needed (dw also without a weight). dx has x's dtype; dw and db are (N,) in the
    compute dtype of mean/rstd."""
    from .backend import full
    from .reduce import sum as _sum
    M, N = x.shape
    g, sg = _rows(g)
    x, sx = _rows(x)
    w = _vec(weight)
    need_dw = need_dw and w is not None
    cd = rstd.dtype
    dev = x.device_index
    dx = DeviceArray.empty((M, N), x.dtype, dev) if need_dx else None
    bm, bn, single = _blocks(M, N)
    progs = max(1, min(triton.cdiv(M, bm), _BWD_PROGRAMS))
    rows_per = max(1, triton.cdiv(triton.cdiv(M, bm), progs)) * bm
    progs = max(1, triton.cdiv(M, rows_per))

    def partial(need):
        if not need:
            return None
        return (DeviceArray.empty((progs, N), cd, dev) if single
                else full((progs, N), 0, cd))

    pw, pb = partial(need_dw), partial(need_db)
    if M and N and (need_dx or need_dw or need_db):
        xa = x.arg()
        _kn.norm_bwd_kernel[(progs,)](
            g.arg(), xa, w.arg() if w is not None else xa,
            (mean if centered else rstd).arg(), rstd.arg(),
            dx.arg() if dx is not None else xa, pw.arg() if pw is not None else xa,
            pb.arg() if pb is not None else xa, M, N, sx, sg, N, rows_per,
            CENTERED=centered, HAS_W=w is not None, NEED_DX=need_dx, NEED_DW=need_dw,
            NEED_DB=need_db, CDT=_k.compute_dtype(cd), SINGLE=single, BLOCK_M=bm,
            BLOCK_N=bn, num_warps=_warps(bm, bn))
    elif M == 0:
        pw = full((1, N), 0, cd) if need_dw else None
        pb = full((1, N), 0, cd) if need_db else None
    dw = _sum(pw, axis=0) if pw is not None else None
    db = _sum(pb, axis=0) if pb is not None else None
    return dx, dw, db

