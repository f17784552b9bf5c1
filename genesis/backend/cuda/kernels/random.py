"""Random kernels: Philox4x32-10 as tl.randint4x computes it (a 64-bit key, the seed; a
64-bit counter per group of outputs), turned into uniform floats, normals and integers.

Counter ``offset + g`` gives four 32-bit words to the outputs of group g: four float32
(or float16/bfloat16) uniforms or normals, two float64 ones (53 bits each), one 64-bit
integer (128 bits, so the multiply-shift map onto any range up to 2**64 has a bias below
2**-64). Outputs are contiguous; group g writes elements g*PER .. g*PER+PER-1.
"""
import triton
import triton.language as tl

from .common import from_bits, store_cast



@triton.jit
def _words(seed, offset, n, PER: tl.constexpr, BLOCK: tl.constexpr):
    """The Philox words of this program's groups and the output index of each group."""
    g = tl.program_id(0).to(tl.int64) * (BLOCK // PER) + tl.arange(0, BLOCK // PER)
    w0, w1, w2, w3 = tl.randint4x(seed, offset.to(tl.int64) + g)
    return w0, w1, w2, w3, g * PER


@triton.jit
def _unit(w, DIGITS: tl.constexpr):
    """k / 2**DIGITS from the top DIGITS bits of a word: exact in the output dtype, so
    rounding can never give 1.0 (float16: 11, bfloat16: 8, float32: 24)."""
    return (w >> (32 - DIGITS)).to(tl.int32).to(tl.float32) * (1.0 / (1 << DIGITS))


@triton.jit
def _unit53(hi, lo):
    """A float64 k / 2**53 from 26 + 27 bits of two words."""
    k = ((hi >> 6).to(tl.int64) << 27) | (lo >> 5).to(tl.int64)
    return k.to(tl.float64) * (1.0 / 9007199254740992.0)


@triton.jit
def _store_uniform(out, idx, n, u, lo, span, high, below):
    """low + u * span, moved to the largest value below ``high`` where rounding (in the
    compute dtype or on the store) would reach it."""
    r = lo + u * span
    rounded = store_cast(r, out.dtype.element_ty).to(r.dtype)
    r = tl.where(rounded >= high, below, r)
    tl.store(out + idx, store_cast(r, out.dtype.element_ty), mask=idx < n)


@triton.jit
def uniform_kernel(out, seed, offset, n, low_bits, high_bits, below_bits,
                   DIGITS: tl.constexpr, BLOCK: tl.constexpr):
    """Uniform in [low, high). DIGITS 53 is float64 (two outputs per counter), else four
    float32 outputs per counter with DIGITS bits each."""
    low = from_bits(low_bits)
    high = from_bits(high_bits)
    span = high - low
    below = from_bits(below_bits)
    if DIGITS == 53:
        w0, w1, w2, w3, i = _words(seed, offset, n, 2, BLOCK)
        _store_uniform(out, i, n, _unit53(w0, w1), low, span, high, below)
        _store_uniform(out, i + 1, n, _unit53(w2, w3), low, span, high, below)
    else:
        w0, w1, w2, w3, i = _words(seed, offset, n, 4, BLOCK)
        lo = low.to(tl.float32)
        sp = span.to(tl.float32)
        hi = high.to(tl.float32)
        bl = below.to(tl.float32)
        _store_uniform(out, i, n, _unit(w0, DIGITS), lo, sp, hi, bl)
        _store_uniform(out, i + 1, n, _unit(w1, DIGITS), lo, sp, hi, bl)
        _store_uniform(out, i + 2, n, _unit(w2, DIGITS), lo, sp, hi, bl)
        _store_uniform(out, i + 3, n, _unit(w3, DIGITS), lo, sp, hi, bl)


@triton.jit
def _box_muller(u1, u2):
    """Two independent standard normals from u1 in (0, 1] and u2 in [0, 1)."""
    r = tl.sqrt(-2.0 * tl.log(u1))
    # 2 pi in u2's dtype (a bare float literal would be a float32 constant)
    th = u2 * tl.full(u2.shape, 6.283185307179586, u2.dtype)
    return r * tl.cos(th), r * tl.sin(th)


@triton.jit
def normal_kernel(out, seed, offset, n, mean_bits, std_bits, F64: tl.constexpr,
                  BLOCK: tl.constexpr):
    """mean + std * z, z standard normal by Box-Muller: float64 in float64 (two outputs
    per counter), every other dtype in float32 (four per counter)."""
    mean = from_bits(mean_bits)
    std = from_bits(std_bits)
    ty = out.dtype.element_ty
    if F64:
        w0, w1, w2, w3, i = _words(seed, offset, n, 2, BLOCK)
        # 1 - k/2**53 lies in (0, 1]: log never sees 0
        z0, z1 = _box_muller(1.0 - _unit53(w0, w1), _unit53(w2, w3))
        tl.store(out + i, store_cast(z0 * std + mean, ty), mask=i < n)
        tl.store(out + i + 1, store_cast(z1 * std + mean, ty), mask=i + 1 < n)
    else:
        w0, w1, w2, w3, i = _words(seed, offset, n, 4, BLOCK)
        m = mean.to(tl.float32)
        s = std.to(tl.float32)
        z0, z1 = _box_muller(1.0 - _unit(w0, 24), _unit(w1, 24))
        z2, z3 = _box_muller(1.0 - _unit(w2, 24), _unit(w3, 24))
        tl.store(out + i, store_cast(z0 * s + m, ty), mask=i < n)
        tl.store(out + i + 1, store_cast(z1 * s + m, ty), mask=i + 1 < n)
        tl.store(out + i + 2, store_cast(z2 * s + m, ty), mask=i + 2 < n)
        tl.store(out + i + 3, store_cast(z3 * s + m, ty), mask=i + 3 < n)


@triton.jit
def randint_kernel(out, seed, offset, n, low, span_bits, BLOCK: tl.constexpr):
    """low + floor(R * span / 2**128) for a 128-bit R: every value of [low, low + span)
    with probability within 2**-64 of 1/span; span_bits 0 means span = 2**64."""
    w0, w1, w2, w3, i = _words(seed, offset, n, 1, BLOCK)
    span = span_bits.to(tl.int64).to(tl.uint64, bitcast=True)
    r_hi = (w0.to(tl.uint64) << 32) | w1.to(tl.uint64)
    r_lo = (w2.to(tl.uint64) << 32) | w3.to(tl.uint64)
    # R * span = (H1 * 2**64 + L1) * 2**64 + H2 * 2**64 + L2: the top word is H1 plus
    # the carry out of L1 + H2 (L2 < 2**64 can never add another)
    h1 = tl.math.umulhi(r_hi, span)
    l1 = r_hi * span
    s = l1 + tl.math.umulhi(r_lo, span)
    v = h1 + tl.where(s < l1, 1, 0).to(tl.uint64)
    v = tl.where(span == 0, r_hi, v)
    val = v.to(tl.int64, bitcast=True) + low.to(tl.int64)
    tl.store(out + i, store_cast(val, out.dtype.element_ty), mask=i < n)


# ---------------------------------------------------------------- ahead-of-time checks
def _case(fn, out, seed="i64", offset="i64", scalars=(), **constexprs):
    sig = {"out": out, "seed": seed, "offset": offset, "n": "i64"}
    sig.update(scalars)
    sig.update({k: "constexpr" for k in constexprs})
    return fn, sig, dict(constexprs)


_FBITS = {"low_bits": "i64", "high_bits": "i64", "below_bits": "i64"}
_NBITS = {"mean_bits": "i64", "std_bits": "i64"}
AOT_CASES = [
    _case(uniform_kernel, "*fp32", scalars=_FBITS, DIGITS=24, BLOCK=1024),
    _case(uniform_kernel, "*fp64", seed="i32", offset="i32", scalars=_FBITS, DIGITS=53,
          BLOCK=1024),
    _case(uniform_kernel, "*bf16", scalars=_FBITS, DIGITS=8, BLOCK=1024),
    _case(uniform_kernel, "*fp16", seed="u32", scalars=_FBITS, DIGITS=11, BLOCK=1024),
    _case(normal_kernel, "*fp32", scalars=_NBITS, F64=False, BLOCK=1024),
    _case(normal_kernel, "*bf16", scalars=_NBITS, F64=False, BLOCK=1024),
    _case(normal_kernel, "*fp64", scalars=_NBITS, F64=True, BLOCK=1024),
    _case(randint_kernel, "*i64", scalars={"low": "i64", "span_bits": "i64"}, BLOCK=1024),
    _case(randint_kernel, "*i32", offset="i32", scalars={"low": "i32", "span_bits": "i32"},
          BLOCK=1024),
    _case(randint_kernel, "*u8", scalars={"low": "i64", "span_bits": "i64"}, BLOCK=1024),
    _case(randint_kernel, "*fp32", scalars={"low": "i64", "span_bits": "i64"}, BLOCK=1024),
]
