"""Fused activation primitives of the CUDA backend (optional: genesis/ops/activation.py
and ops/dropout.py use them through ``getattr(be, name, None)``, the CPU backend has
none). One flat launch over contiguous arrays each, by kernels/activation.py.

gelu_fwd(x, approximate, with_grad) -> (y, d or None): y in x's dtype, d = gelu'(x) in
    the op's compute dtype (float32 for float16/bfloat16), as ops' Gelu saves it.
silu_fwd(x) -> y; silu_bwd(g, x) -> dx (x's dtype).
dropout_fwd(x, p, gen) -> (y, keep): keep a bool mask drawn in-kernel from the CUDA
    generator gen's Philox stream (advanced as random.py's fills advance it), y = x *
    keep / (1 - p); dropout_bwd(g, keep, p) -> g * keep / (1 - p).
"""
import numpy as np

from .array import DeviceArray
from .kernels import common as _k, activation as _ka
from .random import _take
# imported from the end of backend.py, after these are defined
from .backend import astype, copy

__all__ = ["gelu_fwd", "silu_fwd", "silu_bwd", "dropout_fwd", "dropout_bwd"]

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_BOOL = np.dtype(np.bool_)
_TL64 = _k.compute_dtype(_F64)
_TL32 = _k.compute_dtype(_F32)


def _contig(x):
    return x if x.flags.c_contiguous else copy(x)


def _wide(dt):
    """The kernels' compute dtype: float64 for float32/float64, float32 for 16-bit."""
    return _TL64 if dt.itemsize >= 4 else _TL32


def _empty(shape, dtype, like):
    return DeviceArray.empty(shape, dtype, like.device_index)


def gelu_fwd(x, approximate, with_grad):
    """GELU of a floating array (approximate: bool or 'tanh'/'none') and its derivative."""
    if not isinstance(approximate, bool):
        approximate = approximate == "tanh"
    x = _contig(x)
    dt = x.dtype
    y = _empty(x.shape, dt, x)
    d = _empty(x.shape, _F32 if dt.itemsize < 4 else dt, x) if with_grad else None
    if x.size:
        _ka.gelu_kernel[_k.grid(x.size)](
            x.arg(), y.arg(), (d if with_grad else y).arg(), x.size, APPROX=approximate,
            WITH_GRAD=bool(with_grad), CDT=_wide(dt), EXACT=dt == _F64, BLOCK=_k.BLOCK)
    return y, d


def silu_fwd(x):
    x = _contig(x)
    y = _empty(x.shape, x.dtype, x)
    if x.size:
        _ka.silu_kernel[_k.grid(x.size)](x.arg(), y.arg(), x.size, CDT=_wide(x.dtype),
                                         BLOCK=_k.BLOCK)
    return y


def silu_bwd(g, x):
    """g * silu'(x) in x's dtype (g of x's shape, cast to x's dtype first if it differs)."""
    x = _contig(x)
    if g.dtype != x.dtype:
        g = astype(g, x.dtype)
    g = _contig(g)
    out = _empty(x.shape, x.dtype, x)
    if x.size:
        _ka.silu_bwd_kernel[_k.grid(x.size)](g.arg(), x.arg(), out.arg(), x.size,
                                             CDT=_wide(x.dtype), BLOCK=_k.BLOCK)
    return out


def _cdt(dt):
    # dropout computes as PyTorch's: in the input's precision, 16-bit in float32
    return _TL64 if dt == _F64 else _TL32


def dropout_fwd(x, p, gen):
    """(x * keep / (1 - p), keep) with keep[i] = (u_i >= p), u_i uniform on a 2**-24 grid
    from Philox counter offset + i // 4 of gen (ceil(n / 4) counters taken)."""
    x = _contig(x)
    n = x.size
    y = _empty(x.shape, x.dtype, x)
    keep = _empty(x.shape, _BOOL, x)
    if n:
        seed, off = _take(gen, -(-n // 4))
        _ka.dropout_kernel[_k.grid(n)](
            x.arg(), y.arg(), keep.arg(), seed, off, n, _k.scalar_bits(p),
            _k.scalar_bits(1.0 / (1.0 - p)), CDT=_cdt(x.dtype), BLOCK=_k.BLOCK)
    return y, keep


def dropout_bwd(g, keep, p):
    g = _contig(g)
    out = _empty(g.shape, g.dtype, g)
    if g.size:
        _ka.masked_scale_kernel[_k.grid(g.size)](
            g.arg(), keep.arg(), out.arg(), g.size, _k.scalar_bits(1.0 / (1.0 - p)),
            CDT=_cdt(g.dtype), BLOCK=_k.BLOCK)
    return out
