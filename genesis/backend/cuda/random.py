"""Random fills (uniform, normal, randint, randperm) from a counter-based Philox
generator, by kernels/random.py.

A CUDA genesis.Generator is Philox state (seed, offset): the seed is the Generator's own
(``gen._seed``), the offset counts the Philox counters used so far and lives on the
Generator as ``_philox`` = [offset, the Generator's NumPy stream]. ``manual_seed`` (also
``genesis.manual_seed``, which seeds every device's default generator, and ``seed()``)
replaces that NumPy stream, which restarts the offset at 0: the same seed gives the same
numbers and each fill takes fresh counters. ``get_state()`` is 16 bytes, seed then offset
(little-endian uint64), as PyTorch's CUDA generators. The numbers differ from PyTorch's
CUDA streams (another mapping of Philox words to samples) and from the CPU backend's.
"""
import numpy as np

from .array import DeviceArray
from .kernels import common as _k, random as _kr

__all__ = ["uniform", "normal", "randint", "randperm"]

_F64 = np.dtype(np.float64)
_MASK64 = (1 << 64) - 1
STATE_BYTES = 16
# bits per uniform sample: k / 2**digits is exact in the dtype, so never rounds to 1
_DIGITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def _philox(gen):
    """gen's [offset, stream tag]; a new NumPy stream (manual_seed) restarts the offset."""
    st = gen.__dict__.get("_philox")
    if st is None or st[1] is not gen._np:
        st = gen._philox = [0, gen._np]
    return st


def _take(gen, counters):
    """(seed, offset) for a fill that uses ``counters`` Philox counters, advancing gen."""
    st = _philox(gen)
    off = st[0]
    st[0] = off + counters
    seed = gen._seed
    # as signed 64-bit values: Triton passes a larger Python int as uint64
    return seed - (1 << 64) if seed >= 1 << 63 else seed, off


def get_state(gen):
    """A CUDA generator's state: seed and offset as 16 little-endian bytes (uint8)."""
    from ...tensor import _make
    raw = gen._seed.to_bytes(8, "little") + _philox(gen)[0].to_bytes(8, "little")
    return _make(np.frombuffer(raw, np.uint8).copy())


def set_state(gen, new_state):
    from ...random import state_bytes
    raw = state_bytes(new_state, STATE_BYTES, "RNG state must be")
    gen.manual_seed(int.from_bytes(raw[:8], "little"))
    _philox(gen)[0] = int.from_bytes(raw[8:], "little")
    return gen


def _empty(gen, shape, dtype):
    return DeviceArray.empty(tuple(shape), np.dtype(dtype), gen.device.index)


def _launch(kernel, gen, out, per, *args, **meta):
    n = out.size
    if n == 0:
        return out
    seed, off = _take(gen, -(-n // per))
    kernel[_k.grid(n)](out.arg(), seed, off, n, *args, BLOCK=_k.BLOCK, **meta)
    return out


def _below(high, dtype):
    """The largest value of ``dtype`` below the number ``high`` (IEEE bits step down)."""
    v = np.asarray(np.float32(high) if dtype.itemsize == 2 else high).astype(dtype)
    if float(v) < high:
        return float(v)
    bits = v.view(_UINT[dtype.itemsize])
    sign = bits >> (8 * dtype.itemsize - 1)
    if float(v) == 0:
        bits = (bits | 1) | (bits.dtype.type(1) << (8 * dtype.itemsize - 1))
    else:
        bits = bits - 1 if sign == 0 else bits + 1
    return float(bits.view(dtype))


def uniform(gen, shape, low, high, dtype):
    dtype = np.dtype(dtype)
    out = _empty(gen, shape, dtype)
    digits = _DIGITS[dtype.name]
    low, high = float(low), float(high)
    below = _below(high, dtype) if high > low else high
    return _launch(_kr.uniform_kernel, gen, out, 2 if digits == 53 else 4,
                   _k.scalar_bits(low), _k.scalar_bits(high), _k.scalar_bits(below),
                   DIGITS=digits)


def normal(gen, shape, mean, std, dtype):
    dtype = np.dtype(dtype)
    out = _empty(gen, shape, dtype)
    f64 = dtype == _F64
    return _launch(_kr.normal_kernel, gen, out, 2 if f64 else 4, _k.scalar_bits(mean),
                   _k.scalar_bits(std), F64=f64)


def _signed(v):
    v &= _MASK64
    return v - (1 << 64) if v >= 1 << 63 else v


def randint(gen, low, high, shape, dtype):
    low, high = int(low), int(high)
    if low >= high:
        raise ValueError("low >= high")
    if low < -(1 << 63) or high > 1 << 63:
        raise ValueError(f"randint bounds [{low}, {high}) are outside int64")
    out = _empty(gen, shape, dtype)
    # span 2**64 (the whole int64 range) passes as 0
    return _launch(_kr.randint_kernel, gen, out, 1, low, _signed(high - low))


def randperm(gen, n, dtype):
    """Random 64-bit keys drawn on the device and argsorted there (sort.py's stable
    sort): a uniformly random permutation but for the ~n^2/2^65 chance of equal keys."""
    from .backend import astype
    from .sort import sort
    n = int(n)
    if n == 0:
        return _empty(gen, (0,), dtype)
    keys = randint(gen, -(1 << 63), 1 << 63, (n,), np.int64)
    perm = sort(keys, 0)[1]
    return perm if np.dtype(dtype) == perm.dtype else astype(perm, dtype)
