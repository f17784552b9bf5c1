"""Fused activation kernels: GELU (exact or tanh) with its derivative, SiLU forward and
backward, dropout with an in-kernel Philox mask. Contiguous arrays, flat 1-D launches.

CDT is the type the math runs in: float64 for float32 and float64 inputs (float32 results
then carry one rounding: float32 evaluation on a GPU, with its approximate exp, and GELU's
cancellations, e.g. gelu' near its zero, would lose several digits), float32 for
float16/bfloat16 (results rounded once by store_cast, as PyTorch's kernels)."""
import triton
import triton.language as tl

from .common import from_bits, store_cast, div_rn as _div
from .random import _words

_SQRT1_2 = tl.constexpr(0.7071067811865476)
_LOG_INV_SQRT_2PI = tl.constexpr(-0.9189385332046727)      # log(1 / sqrt(2 pi))
_TANH_K0 = tl.constexpr(0.7978845608028654)                # sqrt(2 / pi)
_TANH_K1 = tl.constexpr(0.044715)


@triton.jit
def _k(value: tl.constexpr, like):
    """A constant in like's dtype at full precision: a bare float literal is float32."""
    return tl.full(like.shape, value, like.dtype)



@triton.jit
def _phi(x, EXACT: tl.constexpr):
    """The standard normal CDF: EXACT (float64 inputs) 0.5 (1 + erf(x / sqrt 2)) as the
    CPU backend computes it; for float32 inputs (x in float64) the same down to -5.5 and
    the erfc fit below, where 1 + erf cancels; for 16-bit inputs the fit alone."""
    if EXACT:
        return 0.5 * (1.0 + tl.erf(x * _k(_SQRT1_2, x)))
    elif x.dtype == tl.float64:
        exact = 0.5 * (1.0 + tl.erf(x * _k(_SQRT1_2, x)))
        return tl.where(x > -5.5, exact, _phi_fit(x))
    else:
        return _phi_fit(x)


@triton.jit
def _phi_fit(x):
    """The CPU backend's Chebyshev fit of erfc (relative error below 1.2e-7, tails
    included): p = erfc(|x| / sqrt 2) / 2 is the CDF of -|x|."""
    z = tl.abs(x) * _k(_SQRT1_2, x)
    t = _div(tl.full(x.shape, 2.0, x.dtype), z + 2.0)
    p = t * 0.17087277 - 0.82215223
    p = p * t + 1.48851587
    p = p * t - 1.13520398
    p = p * t + 0.27886807
    p = p * t - 0.18628806
    p = p * t + 0.09678418
    p = p * t + 0.37409196
    p = p * t + 1.00002368
    p = p * t - 1.9586593105599454          # -1.26551223 - log 2: erfc's halving
    p = tl.exp(p - z * z) * t
    return tl.where(x >= 0, 1.0 - p, p)


@triton.jit
def _tanh_parts(u):
    """(tanh(u), 1 - tanh(u)^2) from e = exp(-2|u|): no overflow, sech^2 exact in tails."""
    e = tl.exp(-2.0 * tl.abs(u))
    one = tl.full(u.shape, 1.0, u.dtype)
    ta = _div(one - e, one + e)
    sech2 = _div(4.0 * e, (one + e) * (one + e))
    return tl.where(u < 0, -ta, ta), sech2


@triton.jit
def gelu_kernel(x, y, d, n, APPROX: tl.constexpr, WITH_GRAD: tl.constexpr,
                CDT: tl.constexpr, EXACT: tl.constexpr, BLOCK: tl.constexpr):
    """y = gelu(x) and, WITH_GRAD, d = gelu'(x) (d in the compute dtype of the op)."""
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    v = tl.load(x + i, mask=m, other=0).to(CDT)
    if APPROX:
        x2 = v * v
        k0 = _k(_TANH_K0, v)
        k1 = _k(_TANH_K1, v)
        t, sech2 = _tanh_parts(k0 * v * (1.0 + k1 * x2))
        h = 0.5 * (1.0 + t)
        tl.store(y + i, store_cast(v * h, y.dtype.element_ty), mask=m)
        if WITH_GRAD:
            dv = h + 0.5 * k0 * v * sech2 * (1.0 + 3.0 * k1 * x2)
            tl.store(d + i, store_cast(dv, d.dtype.element_ty), mask=m)
    else:
        c = _phi(v, EXACT)
        tl.store(y + i, store_cast(v * c, y.dtype.element_ty), mask=m)
        if WITH_GRAD:
            dv = c + v * tl.exp(_k(_LOG_INV_SQRT_2PI, v) - 0.5 * v * v)
            tl.store(d + i, store_cast(dv, d.dtype.element_ty), mask=m)


@triton.jit
def _sigmoid(v):
    one = tl.full(v.shape, 1.0, v.dtype)
    return _div(one, one + tl.exp(-v))


@triton.jit
def silu_kernel(x, y, n, CDT: tl.constexpr, BLOCK: tl.constexpr):
    """y = x sigmoid(x)."""
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    v = tl.load(x + i, mask=m, other=0).to(CDT)
    tl.store(y + i, store_cast(v * _sigmoid(v), y.dtype.element_ty), mask=m)


@triton.jit
def silu_bwd_kernel(g, x, out, n, CDT: tl.constexpr, BLOCK: tl.constexpr):
    """out = g s (1 + x (1 - s)), s = sigmoid(x)."""
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    v = tl.load(x + i, mask=m, other=0).to(CDT)
    gv = tl.load(g + i, mask=m, other=0).to(CDT)
    s = _sigmoid(v)
    r = s * (1.0 + v * (1.0 - s)) * gv
    tl.store(out + i, store_cast(r, out.dtype.element_ty), mask=m)


@triton.jit
def _drop_one(x, y, keep_out, i, n, w, p, scale, CDT: tl.constexpr):
    # a 24-bit uniform k / 2**24 (exact), kept where u >= p, compared in float64
    u = (w >> 8).to(tl.int32).to(tl.float64) * (1.0 / 16777216.0)
    keep = u >= p
    m = i < n
    v = tl.load(x + i, mask=m, other=0).to(CDT)
    # a multiply, not a select: inf/NaN inputs give NaN where dropped, as x * mask
    f = tl.where(keep, scale, 0.0).to(CDT)
    tl.store(y + i, store_cast(v * f, y.dtype.element_ty), mask=m)
    tl.store(keep_out + i, keep, mask=m)


@triton.jit
def dropout_kernel(x, y, keep, seed, offset, n, p_bits, scale_bits, CDT: tl.constexpr,
                   BLOCK: tl.constexpr):
    """y = x * scale where kept (u >= p), else x * 0; keep (bool) saved for backward.
    Counter offset + g gives the four elements 4g .. 4g+3 their 32-bit words."""
    p = from_bits(p_bits)
    scale = from_bits(scale_bits).to(CDT)
    w0, w1, w2, w3, i = _words(seed, offset, n, 4, BLOCK)
    _drop_one(x, y, keep, i, n, w0, p, scale, CDT)
    _drop_one(x, y, keep, i + 1, n, w1, p, scale, CDT)
    _drop_one(x, y, keep, i + 2, n, w2, p, scale, CDT)
    _drop_one(x, y, keep, i + 3, n, w3, p, scale, CDT)


@triton.jit
def masked_scale_kernel(g, keep, out, n, scale_bits, CDT: tl.constexpr,
                        BLOCK: tl.constexpr):
    """out = g * (keep ? scale : 0): dropout's backward."""
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    scale = from_bits(scale_bits).to(CDT)
    gv = tl.load(g + i, mask=m, other=0).to(CDT)
    k = tl.load(keep + i, mask=m, other=0)
    f = tl.where(k != 0, scale, 0.0).to(CDT)
    tl.store(out + i, store_cast(gv * f, out.dtype.element_ty), mask=m)


# ---------------------------------------------------------------- ahead-of-time checks
def _case(fn, sig, **constexprs):
    sig = dict(sig)
    sig.update({k: "constexpr" for k in constexprs})
    return fn, sig, constexprs


def _gelu(xt, dt, cdt, exact, approx, grad):
    return _case(gelu_kernel, {"x": xt, "y": xt, "d": dt, "n": "i64"}, APPROX=approx,
                 WITH_GRAD=grad, CDT=cdt, EXACT=exact, BLOCK=1024)


def _drop(t, cdt):
    return _case(dropout_kernel, {"x": t, "y": t, "keep": "*i1", "seed": "i64",
                                  "offset": "i64", "n": "i64", "p_bits": "i64",
                                  "scale_bits": "i64"}, CDT=cdt, BLOCK=1024)


AOT_CASES = [
    _gelu("*fp32", "*fp32", tl.float64, False, False, True),
    _gelu("*fp32", "*fp32", tl.float64, False, True, True),
    _gelu("*fp64", "*fp64", tl.float64, True, False, True),
    _gelu("*fp64", "*fp64", tl.float64, True, True, False),
    _gelu("*bf16", "*fp32", tl.float32, False, False, True),
    _gelu("*fp16", "*fp32", tl.float32, False, True, False),
    _case(silu_kernel, {"x": "*fp32", "y": "*fp32", "n": "i64"}, CDT=tl.float64,
          BLOCK=1024),
    _case(silu_kernel, {"x": "*bf16", "y": "*bf16", "n": "i64"}, CDT=tl.float32,
          BLOCK=1024),
    _case(silu_bwd_kernel, {"g": "*fp32", "x": "*fp32", "out": "*fp32", "n": "i64"},
          CDT=tl.float64, BLOCK=1024),
    _case(silu_bwd_kernel, {"g": "*bf16", "x": "*bf16", "out": "*bf16", "n": "i64"},
          CDT=tl.float32, BLOCK=1024),
    _drop("*fp32", tl.float32),
    _drop("*bf16", tl.float32),
    _drop("*fp64", tl.float64),
    _case(masked_scale_kernel, {"g": "*fp32", "keep": "*i1", "out": "*fp32", "n": "i64",
                                "scale_bits": "i64"}, CDT=tl.float32, BLOCK=1024),
    _case(masked_scale_kernel, {"g": "*fp16", "keep": "*i1", "out": "*fp16", "n": "i64",
                                "scale_bits": "i64"}, CDT=tl.float32, BLOCK=1024),
]
