"""matmul (batched, broadcasting, any strides) by kernels/matmul.py, with np.matmul's
semantics: 1-D operands are promoted to a matrix and the added dim squeezed from the
result, leading dims broadcast as batch dims, the result has the operands' dtype.

float16/bfloat16/float32 accumulate in float32 (float16/bfloat16 round once on store),
float64 in float64, integers and bool in int64. float32 uses IEEE products unless
genesis.backends.cuda.matmul.allow_tf32 is True (or ALLOW_TF32 here), so results match
the CPU to float32 round-off by default.
"""
import math

import numpy as np
import triton
import triton.language as tl

from . import runtime
from .array import DeviceArray
from .backend import _merge, copyto, from_host, shares_memory
from .kernels import common as _k, matmul as _mm
from ...backends.cuda import matmul as _flags

__all__ = ["matmul"]

ALLOW_TF32 = False
_MAX_GRID_1 = 65535          # CUDA's limit on grid dims 1 and 2: longer batches go in chunks


def _bench(fn, quantiles=None):
    """Triton's autotuner benchmark without torch: the mean of a few runs timed by CUDA
    events, repeated for about 10 ms."""
    fn()                                          # compile and warm up
    start, end = runtime.Event(enable_timing=True), runtime.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    once = max(start.elapsed_time(end), 1e-3)
    reps = max(1, min(100, int(10.0 / once)))
    start.record()
    for _ in range(reps):
        fn()
    end.record()
    end.synchronize()
    ms = start.elapsed_time(end) / reps
    return [ms] * len(quantiles) if quantiles else ms


def _tuned(configs):
    # the operands' dtypes join the key by themselves; PREC: TF32 tunes apart
    return triton.autotune(configs, key=["M", "N", "K", "PREC"],
                           do_bench=_bench)(_mm.matmul_kernel)


if _k.INTERPRET:
    # no autotuning in the interpreter: each config would cost ~1 ms per program there
    _KERNELS = dict.fromkeys(("half", "f64", "int"), (_mm.matmul_kernel,
                                                      _mm.CONFIG_INTERPRET.kwargs))
else:
    _KERNELS = {"half": (_tuned(_mm.CONFIGS), {}), "f64": (_tuned(_mm.CONFIGS_F64), {}),
                "int": (_mm.matmul_kernel, dict(_mm.CONFIG_INT.kwargs, num_warps=4,
                                                num_stages=2))}

# dtype name -> (kernel family, accumulator, uses tl.dot)
_FAMILY = {"float16": ("half", tl.float32, True), "bfloat16": ("half", tl.float32, True),
           "float32": ("half", tl.float32, True), "float64": ("f64", tl.float64, True)}
_INT = ("int", tl.int64, False)


def _operand(v):
    if isinstance(v, DeviceArray):
        return v
    return from_host(np.asarray(v))


def _estrides(a, batch):
    """a's element strides over the broadcast batch shape (0 where a broadcasts)."""
    item = a.itemsize
    nb = a.ndim - 2
    lead = len(batch) - nb
    return [0] * lead + [0 if n == 1 else s // item
                         for n, s in zip(a.shape[:nb], a.strides[:nb])]


def matmul(x, y, out=None):
    x, y = _operand(x), _operand(y)
    if x.ndim == 0 or y.ndim == 0:
        i = 0 if x.ndim == 0 else 1
        raise ValueError(f"matmul: Input operand {i} does not have enough dimensions (has "
                         f"0, gufunc core with signature (n?,k),(k,m?)->(n?,m?) requires 1)")
    if x.device_index != y.device_index:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                           f"least two devices, cuda:{x.device_index} and "
                           f"cuda:{y.device_index}!")
    if x.dtype != y.dtype:           # the ops layer passes equal dtypes; NumPy promotes
        from .backend import astype
        dt = np.result_type(x.dtype, y.dtype)
        x, y = astype(x, dt), astype(y, dt)
    # 1-D operands as a row / column matrix, the added dim dropped from the result
    x_vec, y_vec = x.ndim == 1, y.ndim == 1
    if x_vec:
        x = x.view_of((1,) + x.shape, (0,) + x.strides, x.offset)
    if y_vec:
        y = y.view_of(y.shape + (1,), y.strides + (0,), y.offset)
    M, K = x.shape[-2:]
    K2, N = y.shape[-2:]
    if K != K2:
        raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0, "
                         f"with gufunc signature (n?,k),(k,m?)->(n?,m?) (size {K2} is "
                         f"different from {K})")
    try:
        batch = np.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    except ValueError:
        raise ValueError(f"operands could not be broadcast together with remapped shapes "
                         f"[original->remapped]: {x.shape}->{x.shape} "
                         f"{y.shape}->{y.shape}") from None
    shape = batch + ((M,) if not x_vec else ()) + ((N,) if not y_vec else ())
    if out is None:
        out = DeviceArray.empty(shape, x.dtype, x.device_index)
        res = out
    else:
        if isinstance(out, tuple):
            out = out[0]
        if out.shape != shape:
            raise ValueError(f"matmul: Output operand 0 has a mismatch in its core "
                             f"dimension, expected shape {shape}, got {out.shape}")
        if shares_memory(out, x) or shares_memory(out, y):
            copyto(out, matmul(x if not x_vec else x.view_of(x.shape[1:], x.strides[1:],
                                                               x.offset),
                               y if not y_vec else y.view_of(y.shape[:-1], y.strides[:-1],
                                                             y.offset)))
            return out
        res = out
    if out.size == 0:
        return res
    # the result as a (batch..., M, N) view
    c = out
    if x_vec:
        c = c.view_of(c.shape[:len(batch)] + (1,) + c.shape[len(batch):],
                      c.strides[:len(batch)] + (0,) + c.strides[len(batch):], c.offset)
    if y_vec:
        c = c.view_of(c.shape + (1,), c.strides + (0,), c.offset)
    if K == 0:
        from .backend import _fill
        _fill(c, 0)
        return res
    _run(x, y, c, batch, M, N, K)
    return res


def _run(x, y, c, batch, M, N, K):
    xi, yi, ci = x.itemsize, y.itemsize, c.itemsize
    sam, sak = x.strides[-2] // xi, x.strides[-1] // xi
    sbk, sbn = y.strides[-2] // yi, y.strides[-1] // yi
    scm, scn = c.strides[-2] // ci, c.strides[-1] // ci
    bst = [_estrides(x, batch), _estrides(y, batch), _estrides(c, batch)]
    if batch and not any(bst[1]):
        # y is shared by the whole batch: fold the batch into M when x and c allow it
        dims, sts = _merge(batch + (M,), [bst[0] + [sam], bst[2] + [scm]])
        if len(dims) <= 1:
            batch, bst = (), [[], [], []]
            M = math.prod(dims) if dims else 1
            if dims:
                sam, scm = sts[0][0], sts[1][0]
    dims, bst = _merge(batch, bst)
    dims = dims or [1]
    bst = [s or [0] for s in bst]
    family, acc, dot = _FAMILY.get(x.dtype.name, _INT)
    kernel, meta = _KERNELS[family]
    tf32 = ALLOW_TF32 or _flags.allow_tf32
    prec = "tf32" if tf32 and x.dtype.name == "float32" else "ieee"
    upcast = _k.INTERPRET and dot and x.dtype.itemsize == 2

    def grid(m):
        return (triton.cdiv(M, m["BLOCK_M"]) * triton.cdiv(N, m["BLOCK_N"]), nb)

    # the innermost batch dim is grid axis 1 (in chunks); any others loop here
    inner = dims[-1]
    for idx in np.ndindex(*dims[:-1]):
        offs = [sum(i * s for i, s in zip(idx, st[:-1])) for st in bst]
        for start in range(0, inner, _MAX_GRID_1):
            nb = min(_MAX_GRID_1, inner - start)
            views = [a.view_of((), (), a.offset + (o + start * st[-1]) * a.itemsize).arg()
                     for a, o, st in zip((x, y, c), offs, bst)]
            kernel[grid](*views, M, N, K, bst[0][-1], sam, sak, bst[1][-1], sbk, sbn,
                         bst[2][-1], scm, scn, ACC=acc, DOT=dot, UPCAST=upcast, PREC=prec,
                         **meta)
