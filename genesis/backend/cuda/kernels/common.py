"""What every kernel family shares: launch geometry, dtype names, scalar passing and the
conversions that must round as PyTorch's in the interpreter too."""
import struct

import numpy as np
import triton
import triton.language as tl

from .. import runtime

INTERPRET = runtime.mode() == "interpret"

if runtime.mode() == "gpu":
    # Triton launches on its driver's "current" stream and device, which without torch are
    # the default stream and the context's device: point them at genesis's
    _drv = triton.runtime.driver.active
    _drv.get_current_device = runtime.current_device
    _drv.set_current_device = runtime.set_device
    _drv.get_current_stream = lambda device=None: runtime.current_stream(
        runtime.current_device() if device is None else device).handle
# the interpreter costs ~1 ms per program instance: few, large blocks there
BLOCK = 4096 if INTERPRET else 1024

# NumPy dtype -> the Triton dtype kernels compute in (low precision computes in float32)
_COMPUTE = {"float16": tl.float32, "bfloat16": tl.float32, "float32": tl.float32,
            "float64": tl.float64, "int8": tl.int32, "uint8": tl.int32, "int16": tl.int32,
            "int32": tl.int32, "int64": tl.int64, "bool": tl.int1}
TRITON_DTYPE = {"float16": tl.float16, "bfloat16": tl.bfloat16, "float32": tl.float32,
                "float64": tl.float64, "int8": tl.int8, "uint8": tl.uint8, "int16": tl.int16,
                "int32": tl.int32, "int64": tl.int64, "bool": tl.int1}


def compute_dtype(np_dtype):
    return _COMPUTE[np.dtype(np_dtype).name]


def grid(n, block=None):
    return (max(1, triton.cdiv(n, block or BLOCK)),)


def scalar_bits(value):
    """A Python number as the int64 bits of a float64, the way scalars reach kernels:
    Triton would pass a float as float32, losing float64 precision."""
    return struct.unpack("<q", struct.pack("<d", float(value)))[0]


@triton.jit
def from_bits(bits):
    """The float64 a kernel got as scalar_bits."""
    return bits.to(tl.int64).to(tl.float64, bitcast=True)


@triton.jit
def to_bf16(x):
    """float32 -> bfloat16 rounding to nearest even (NaN kept quiet): Triton's interpreter
    truncates instead; on GPUs this equals the native conversion."""
    bits = x.to(tl.uint32, bitcast=True)
    rounded = bits + 0x7FFF + ((bits >> 16) & 1)
    out = tl.where(x != x, 0x7FC0, rounded >> 16)
    return out.to(tl.uint16).to(tl.bfloat16, bitcast=True)


@triton.jit
def store_cast(x, ptr_dtype: tl.constexpr):
    """x converted to the element type of an output pointer, rounding as PyTorch."""
    if ptr_dtype == tl.bfloat16:
        return to_bf16(x.to(tl.float32))
    elif ptr_dtype == tl.float16:
        return x.to(tl.float32).to(tl.float16)     # float64 -> half via float, as torch
    else:
        return x.to(ptr_dtype)


@triton.jit
def div_rn(a, b):
    """a / b rounded to nearest: Triton's float32 `/` is approximate on GPUs."""
    if a.dtype == tl.float32:
        return tl.math.div_rn(a, b)
    else:
        return a / b


@triton.jit
def sqrt_rn(x):
    """sqrt rounded to nearest (float32's tl.sqrt is approximate on GPUs)."""
    if x.dtype == tl.float32:
        return tl.sqrt_rn(x)
    else:
        return tl.sqrt(x)
