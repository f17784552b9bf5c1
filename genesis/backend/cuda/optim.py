"""Fused optimizer primitives (optional: the CPU backend has none, and genesis.optim /
genesis.amp use them through ``getattr(be, name, None)``): ``adam_step``, ``sgd_step``
and ``unscale_and_check`` update every tensor of a dtype group in ONE launch
(kernels/optim.py), with the CPU optimizers' results bit for bit.

The chunk table of a launch depends only on the arrays' addresses and sizes, so it is
built once and kept on the device, keyed by those; a training loop whose parameters,
gradients and states keep their memory reuses it every step with no host->device copy.
"""
import numpy as np

from . import runtime
from .array import DeviceArray
from .kernels import common as _k, optim as _ko

__all__ = ["adam_step", "sgd_step", "unscale_and_check"]

_F32 = np.dtype(np.float32)
_LOW = ("float16", "bfloat16")
# elements per program: a few BLOCKs, so that large tensors take fewer table rows
CHUNK = _k.BLOCK * 4
_TABLES = {}
_MAX_TABLES = 64


def _table(roles, extra=None):
    """The device chunk table of ``roles`` (lists of same-sized contiguous arrays, one list
    per kernel pointer argument; None for an unused role): (base arrays, table). ``extra``
    is one int per tensor appended to each of its rows."""
    live = [r for r in roles if r is not None]
    first = live[0]
    key = (tuple(a.data_ptr() for r in live for a in r), tuple(a.size for a in first),
           None if extra is None else tuple(extra))
    hit = _TABLES.get(key)
    if hit is not None:
        return hit
    sizes = np.array([a.size for a in first], np.int64)
    nchunks = -(-sizes // CHUNK)
    keep = nchunks > 0
    rep = np.repeat(np.arange(len(first)), nchunks)
    start = (np.arange(rep.size) - np.repeat(np.cumsum(nchunks) - nchunks, nchunks)) * CHUNK
    cols, bases = [], []
    for r in roles:
        if r is None:
            bases.append(None)
            cols.append(np.zeros(rep.size, np.int64))
            continue
        ptrs = np.array([a.data_ptr() for a in r], np.int64)
        item = r[0].itemsize
        lo = int(np.argmin(np.where(keep, ptrs, np.iinfo(np.int64).max)))
        bases.append(r[lo])
        d = ptrs - ptrs[lo]
        if np.any(d[keep] % item):
            raise RuntimeError("optimizer arrays are not aligned to their element size")
        cols.append((d // item)[rep] + start)
    cols.append(np.minimum(sizes[rep] - start, CHUNK))
    if extra is not None:
        cols.append(np.asarray(extra, np.int64)[rep])
    host = np.ascontiguousarray(np.stack(cols, 1))
    dev = DeviceArray.empty(host.shape, np.int64, first[0].device_index)
    if host.nbytes:
        runtime.copy_host_to_device(dev.data_ptr(), host, host.nbytes, dev.device_index)
    if len(_TABLES) >= _MAX_TABLES:
        _TABLES.clear()
    hit = _TABLES[key] = (bases, dev, host)     # host kept alive for an async copy
    return hit


def _groups(*keys):
    """Indices of tensors grouped by their key (dtype, device, ...), in order."""
    out = {}
    for i, k in enumerate(zip(*keys)):
        out.setdefault(k, []).append(i)
    return out


def _contiguous(a):
    if a.flags.c_contiguous:
        return a
    from .backend import ascontiguousarray
    return ascontiguousarray(a)


def _arg(a):
    return None if a is None else a.arg()


def _s(v):
    return _k.scalar_bits(v)


def adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, step_count, lr, beta1,
              beta2, eps, weight_decay, decoupled, amsgrad, maximize):
    """One Adam/AdamW step on every parameter in place, as genesis.optim.Adam's; params
    and states C-contiguous, grads made so. ``step_count``: a number, or one per
    parameter (each group of equal steps, dtype and device is one launch)."""
    n = len(params)
    steps = step_count if isinstance(step_count, (list, tuple)) else [step_count] * n
    grads = [_contiguous(g) for g in grads]
    for (dt, dev, step), idx in _groups([p.dtype for p in params],
                                        [p.device_index for p in params], steps).items():
        pick = [params[i] for i in idx]
        roles = [pick, [grads[i] for i in idx], [exp_avgs[i] for i in idx],
                 [exp_avg_sqs[i] for i in idx],
                 [max_exp_avg_sqs[i] for i in idx] if amsgrad else None]
        bases, table, _ = _table(roles)
        if table.shape[0] == 0:
            continue
        low = dt.name in _LOW
        hi = _F32.type if low else dt.type          # the precision scalars round to
        w = 1 - beta1
        bc1, bc2 = 1 - beta1 ** step, 1 - beta2 ** step
        step_size = lr / bc1
        # the scalars exactly as the CPU optimizer rounds them (see optim/adam.py)
        if low:
            wlerp = hi(w) if w < 0.5 else -hi(1 - w)
        else:
            wlerp = dt.type(w) if w < 0.5 else dt.type(w) - 1
        decay = weight_decay != 0 and decoupled
        l2 = weight_decay != 0 and not decoupled
        _ko.adam_kernel[(table.shape[0],)](
            *[_arg(b) for b in bases], table.arg(),
            _s(hi(1 - lr * weight_decay)), _s(hi(dt.type(weight_decay))), _s(wlerp),
            _s(hi(beta2)), _s(hi(1 - beta2)), _s(hi(-step_size)), _s(hi(bc2 ** 0.5)),
            _s(hi(dt.type(eps))), CDT=_k.compute_dtype(dt), LOW=low, DECAY=decay, L2=l2,
            MAXIMIZE=bool(maximize), LERP_LO=w < 0.5, AMSGRAD=bool(amsgrad),
            BLOCK=_k.BLOCK, enable_fp_fusion=False)


def sgd_step(params, grads, momentum_buffers, lr, momentum, dampening, weight_decay, nesterov,
             maximize, new_buffers=None):
    """One SGD step on every parameter in place, as genesis.optim.SGD's.
    ``momentum_buffers``: one contiguous array per parameter when momentum != 0 (else
    None); ``new_buffers``: one bool per parameter, True where the buffer is new (it is
    set to the gradient, as the CPU's first step copies it)."""
    n = len(params)
    grads = [_contiguous(g) for g in grads]
    use_mom = momentum != 0
    new = [False] * n if new_buffers is None else list(new_buffers)
    alpha = 1 - dampening
    for (dt, dev), idx in _groups([p.dtype for p in params],
                                  [p.device_index for p in params]).items():
        roles = [[params[i] for i in idx], [grads[i] for i in idx],
                 [momentum_buffers[i] for i in idx] if use_mom else None]
        bases, table, _ = _table(roles, [int(new[i]) for i in idx])
        if table.shape[0] == 0:
            continue
        # Python scalars round to the array's dtype (NumPy's weak scalars), but bfloat16
        # (ml_dtypes) promotes them to float32
        t = _F32.type if dt.name == "bfloat16" else dt.type
        _ko.sgd_kernel[(table.shape[0],)](
            *[_arg(b) for b in bases], table.arg(), _s(t(weight_decay)), _s(t(momentum)),
            _s(t(alpha)), _s(t(-lr)), CDT=_k.compute_dtype(dt), LOW=dt.name in _LOW,
            WD=weight_decay != 0, MAXIMIZE=bool(maximize), MOMENTUM=use_mom,
            DAMPEN=alpha != 1, NESTEROV=bool(nesterov), BLOCK=_k.BLOCK,
            enable_fp_fusion=False)


def _dense(a):
    """Whether a's elements fill its memory span exactly (some order of its dims is
    C-contiguous, strides positive): then it can be updated as a flat run."""
    if a.flags.c_contiguous:
        return True
    dims = sorted((s, n) for n, s in zip(a.shape, a.strides) if n != 1)
    acc = a.itemsize
    for s, n in dims:
        if s != acc:
            return False
        acc *= n
    return True


def _flat(a):
    return a.view_of((a.size,), (a.itemsize,), a.offset)


def unscale_and_check(grads, inv_scale, found_inf):
    """grads *= inv_scale in place (float16/bfloat16 rounded from float32, float64 kept in
    float64) and found_inf (a 1-element float32 device array) set to 1 if any gradient
    holds an inf/NaN, without synchronizing the host. One launch per dtype group."""
    inv = float(inv_scale)
    flat, back = [], []
    for g in grads:
        if g.size == 0:
            continue
        if _dense(g):
            flat.append(_flat(g))
        else:                             # strided: through a contiguous copy
            c = _contiguous(g)
            flat.append(c)
            back.append((g, c))
    for (dt, dev), idx in _groups([g.dtype for g in flat],
                                  [g.device_index for g in flat]).items():
        bases, table, _ = _table([[flat[i] for i in idx]])
        _ko.unscale_kernel[(table.shape[0],)](
            bases[0].arg(), table.arg(), found_inf.arg(), _s(inv),
            CDT=_k.compute_dtype(dt), SCALE=inv != 1.0, BLOCK=_k.BLOCK,
            enable_fp_fusion=False)
    if back and inv != 1.0:
        from .backend import copyto
        for g, c in back:
            copyto(g, c)
    return found_inf

