"""Flash attention (kernels/attention.py): optional primitives of the CUDA backend that
genesis/ops/attention.py uses for scaled_dot_product_attention without a mask or dropout.

Dropout (on the probabilities, as torch's) draws one Philox counter per score in the
kernels, forward and backward alike, so no mask is stored either.

flash_attn_fwd returns the output and per-query softmax statistics (float32: the max
score and 1 / the sum of exponentials, log2 units), all backward needs besides the inputs:
the (L, S) probabilities are never stored.
Operands keep their layouts (strides go to the kernels) and broadcast over their batch
dims; outputs and gradients take the layout of the input they stand for (heads-inner,
(B, L, H, E) seen as (B, H, L, E), when that input has it), as torch's flash kernels.
"""
import math

import numpy as np
import triton

from .array import DeviceArray
from .kernels import attention as _ka, common as _k
from ...backends.cuda import matmul as _flags

__all__ = ["flash_attn_fwd", "flash_attn_bwd", "flash_attn_supports",
           "flash_attn_dropout_mask"]

MAX_HEAD_DIM = 256
_DTYPES = ("float16", "bfloat16", "float32")
_F32 = np.dtype(np.float32)
_LOG2E = 1.4426950408889634


def flash_attn_supports(q, k, v):
    """Whether the kernels take these operands: 16/32-bit floats of one dtype, head dims
    up to MAX_HEAD_DIM, and nothing empty (the composed path handles those)."""
    return (q.dtype.name in _DTYPES and q.dtype == k.dtype == v.dtype
            and 0 < q.shape[-1] <= MAX_HEAD_DIM and 0 < v.shape[-1] <= MAX_HEAD_DIM
            and q.size > 0 and k.size > 0 and v.size > 0)


def _like(shape, dtype, like, device):
    """An empty array of ``shape``, heads-inner when ``like`` is."""
    n = len(shape)
    if n >= 3 and like.ndim >= 3 and like.strides[-3] < like.strides[-2]:
        buf = DeviceArray.empty(shape[:-3] + (shape[-2], shape[-3], shape[-1]), dtype, device)
        return buf.view_of(shape, buf.strides[:-3] + (buf.strides[-2], buf.strides[-3],
                                                      buf.strides[-1]), buf.offset)
    return DeviceArray.empty(shape, dtype, device)


def _bstrides(a, batch):
    """a's element strides over the broadcast batch dims (0 where it broadcasts)."""
    nb, lead = a.ndim - 2, len(batch) - (a.ndim - 2)
    return [0] * lead + [0 if n == 1 else s // a.itemsize
                         for n, s in zip(a.shape[:nb], a.strides[:nb])]


def _inner(a):
    return [s // a.itemsize for s in a.strides[-2:]]


def _launches(batch, arrays):
    """Per launch: (views of ``arrays`` at the launch's first batch entry, B, H, their
    (b, h) element strides, the launch's first flat batch index). The batch dims merge
    where every array allows; two stay in the kernel (b, h) and any others loop here."""
    from .backend import _merge
    dims, sts = _merge(batch, [_bstrides(a, batch) for a in arrays])
    dims = [1] * (2 - len(dims)) + dims if len(dims) < 2 else dims
    sts = [[0] * (len(dims) - len(s)) + s for s in sts]
    lead = dims[:-2]
    for idx in np.ndindex(*lead):
        views = [a.view_of((), (), a.offset + sum(i * s for i, s in zip(idx, st)) * a.itemsize)
                 for a, st in zip(arrays, sts)]
        first = (int(np.ravel_multi_index(idx, lead)) if lead else 0) * dims[-2] * dims[-1]
        yield views, dims[-2], dims[-1], [st[-2:] for st in sts], first


def _meta(q, v, causal, dropout_p):
    d_k, d_v = q.shape[-1], v.shape[-1]
    bdk = max(16, triton.next_power_of_2(d_k))
    bdv = max(16, triton.next_power_of_2(d_v))
    bm, bn, warps, stages = _ka.blocks(max(bdk, bdv), q.itemsize, _k.INTERPRET)
    tf32 = _flags.allow_tf32 and q.dtype == _F32
    return dict(CAUSAL=bool(causal), DROPOUT=dropout_p > 0, PREC="tf32" if tf32 else "ieee",
                UPCAST=_k.INTERPRET and q.itemsize == 2, BLOCK_M=bm, BLOCK_N=bn,
                BLOCK_DK=bdk, BLOCK_DV=bdv, num_warps=warps, num_stages=stages)


def _batch(q, k, v):
    try:
        return tuple(np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2]))
    except ValueError:
        from ...autograd.function import broadcast_error
        raise broadcast_error(tuple(q.shape[:-2]), tuple(k.shape[:-2])) from None


def _rng_args(rng, dropout_p, first, L, S):
    """The kernels' (seed, offset, p, 1 / (1 - p)) for a launch starting at flat batch
    entry ``first``: each score has its own Philox counter."""
    if not dropout_p:
        return 0, 0, 0.0, 1.0
    seed, offset = rng
    return seed, offset + first * L * S, float(dropout_p), \
        (1.0 / (1.0 - dropout_p) if dropout_p < 1 else 0.0)


def flash_attn_fwd(q, k, v, scale, causal, dropout_p=0.0, gen=None):
    """(out, stats, rng) of dropout(softmax(q k^T * scale [+ causal mask])) v: q (..., L,
    E), k (..., S, E), v (..., S, Ev) with broadcasting batch dims; out (batch, L, Ev) in
    q's dtype, stats (batch, L, 2) float32 and rng (the Philox seed and offset drawn from
    the generator ``gen`` for dropout, else None) are what the backward takes."""
    batch = _batch(q, k, v)
    L, S, DK, DV = q.shape[-2], k.shape[-2], q.shape[-1], v.shape[-1]
    dev = q.device_index
    out = _like(batch + (L, DV), q.dtype, q, dev)
    stats = DeviceArray.empty(batch + (L, 2), _F32, dev)
    rng = None
    if dropout_p > 0:
        from .random import _take
        rng = _take(gen, math.prod(batch) * L * S)
    meta = _meta(q, v, causal, dropout_p)
    qk_scale = float(scale) * _LOG2E
    inner = _inner(q) + _inner(k) + _inner(v) + _inner(out)
    for (qv, kv, vv, ov), B, H, bst, first in _launches(batch, (q, k, v, out)):
        lv = stats.view_of((), (), stats.offset + first * L * 8)
        strides = [s for st, inn in zip(bst, (inner[0:2], inner[2:4], inner[4:6], inner[6:8]))
                   for s in st + inn]
        _ka.attn_fwd_kernel[(B * H * triton.cdiv(L, meta["BLOCK_M"]),)](
            qv.arg(), kv.arg(), vv.arg(), ov.arg(), lv.arg(), *strides, H, L, S, DK, DV,
            qk_scale, *_rng_args(rng, dropout_p, first, L, S), **meta)
    return out, stats, rng


def flash_attn_bwd(g, q, k, v, out, stats, scale, causal, dropout_p=0.0, rng=None):
    """(dq, dk, dv) of flash_attn_fwd from the upstream gradient g (out's shape), over the
    broadcast batch shape (the autograd engine sums them to the inputs' shapes)."""
    batch = _batch(q, k, v)
    L, S, DK, DV = q.shape[-2], k.shape[-2], q.shape[-1], v.shape[-1]
    dev = q.device_index
    shape_k, shape_v = batch + (S, DK), batch + (S, DV)
    dq = _like(batch + (L, DK), q.dtype, q, dev)
    dk = _like(shape_k, k.dtype, k, dev)
    dv = _like(shape_v, v.dtype, v, dev)
    if g.dtype != q.dtype:
        from .backend import astype
        g = astype(g, q.dtype)
    delta = DeviceArray.empty(batch + (L,), _F32, dev)
    meta = _meta(q, v, causal, dropout_p)
    qk_scale, scale = float(scale) * _LOG2E, float(scale)
    arrays = (q, k, v, out, g, dq, dk, dv)
    inner = [_inner(a) for a in arrays]
    for views, B, H, bst, first in _launches(batch, arrays):
        qv, kv, vv, ov, gv, dqv, dkv, dvv = views
        lv = stats.view_of((), (), stats.offset + first * L * 8)
        dl = delta.view_of((), (), delta.offset + first * L * 4)
        st = [b + i for b, i in zip(bst, inner)]
        drop = _rng_args(rng, dropout_p, first, L, S)
        _ka.attn_bwd_dq_kernel[(B * H * triton.cdiv(L, meta["BLOCK_M"]),)](
            qv.arg(), kv.arg(), vv.arg(), ov.arg(), gv.arg(), lv.arg(), dl.arg(), dqv.arg(),
            *st[0], *st[1], *st[2], *st[3], *st[4], *st[5], H, L, S, DK, DV, qk_scale,
            scale, *drop, **meta)
        _ka.attn_bwd_dkdv_kernel[(B * H * triton.cdiv(S, meta["BLOCK_N"]),)](
            qv.arg(), kv.arg(), vv.arg(), gv.arg(), lv.arg(), dl.arg(), dkv.arg(), dvv.arg(),
            *st[0], *st[1], *st[2], *st[4], *st[6], *st[7], H, L, S, DK, DV, qk_scale,
            scale, *drop, **meta)
    return dq, dk, dv


def flash_attn_dropout_mask(batch, L, S, dropout_p, rng, device_index):
    """The bool (batch, L, S) keep mask a flash_attn_fwd with this rng drew (double
    backward needs it whole)."""
    keep = DeviceArray.empty(tuple(batch) + (L, S), np.dtype(np.bool_), device_index)
    n = keep.size
    if n:
        seed, offset = rng
        _ka.dropout_mask_kernel[_k.grid(n)](keep.arg(), n, L, S, seed, offset,
                                             float(dropout_p), BLOCK=_k.BLOCK)
    return keep

