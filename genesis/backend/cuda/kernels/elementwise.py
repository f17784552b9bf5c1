"""Elementwise kernels: unary, binary and ternary ops over strided, broadcast operands.

Every operand is addressed through up to RANK dims of (size, element stride) after the
launcher (``backend._layout``) has merged the dims it can; a stride of 0 broadcasts. When
every operand is contiguous over the whole output, ``CONTIG`` skips the index arithmetic.
Ops are chosen by a constexpr name, so each (op, dtypes) pair compiles to its own kernel.
Low-precision operands compute in float32 (as PyTorch's kernels) and round once on store;
transcendental functions of float32 compute in float64 inside (see _wide), so results are
correctly rounded but for rare double roundings. Semantics are NumPy's (the CPU backend's),
special values included; tests/cuda/test_cuda_math.py states the tolerances.
"""
import triton
import triton.language as tl

from .common import from_bits, store_cast, div_rn as _div

RANK = 4


@triton.jit
def _offsets(i, d1, d2, d3, s0, s1, s2, s3, CONTIG: tl.constexpr):
    if CONTIG:
        return i
    else:
        i3 = i % d3
        r = i // d3
        i2 = r % d2
        r = r // d2
        i1 = r % d1
        i0 = r // d1
        return i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3


# ---------------------------------------------------------------- math helpers
# Triton's interpreter has no libdevice, so the functions NumPy has and tl.math lacks are
# built here from tl.math. The hard ones (arctan family, erfinv, fmod) compute in float64
# whatever the input: that is the simple way to correctly rounded float32 results, and on
# GPUs it also avoids the approximate float32 sin/cos/exp instructions.
PI = tl.constexpr(3.141592653589793)
HALF_PI = tl.constexpr(1.5707963267948966)
INF = tl.constexpr(float("inf"))


@triton.jit
def _signbit(x):
    """Whether x's sign bit is set: tells -0.0 from 0.0 (and the sign of a NaN)."""
    if x.dtype == tl.float64:
        return x.to(tl.int64, bitcast=True) < 0
    else:
        return x.to(tl.float32).to(tl.int32, bitcast=True) < 0



@triton.jit
def _expm1(x):
    """exp(x) - 1 without cancellation near 0 (Kahan's form: the rounding error of
    u = exp(x) cancels between u - 1 and log(u))."""
    u = tl.exp(x)
    um1 = u - 1.0
    r = tl.where(u == 1.0, x, tl.where(um1 == -1.0, -1.0, um1 * _div(x, tl.log(u))))
    return tl.where(u == INF, u, r)


@triton.jit
def _atan64(x):
    """arctan in float64 to ~1 ulp: reduce to t = min(|x|, 1/|x|) in [0, 1], guess
    t / (1 + 0.28125 t^2) (error < 0.005) and refine by Newton steps on
    f(y) = sin y - t cos y, which converge cubically here (f'' = -f vanishes at the
    root): 3 steps reach float64 precision. 1/inf = 0 handles the infinities."""
    x = x.to(tl.float64)
    a = tl.abs(x)
    big = a > 1.0
    t = tl.where(big, 1.0 / a, a)
    y = t / (1.0 + 0.28125 * t * t)
    for _ in tl.static_range(3):
        s = tl.sin(y)
        c = tl.cos(y)
        y = y - (s - t * c) / (c + t * s)
    y = tl.where(big, HALF_PI - y, y)
    return tl.where(_signbit(x), -y, y)


@triton.jit
def _atan2_64(y, x):
    """NumPy's arctan2 in float64: the angle of |y|/|x| moved to the quadrant given by
    the sign bits, so that signed zeros and infinities follow IEEE/C99."""
    y = y.to(tl.float64)
    x = x.to(tl.float64)
    ay = tl.abs(y)
    ax = tl.abs(x)
    base = _atan64(ay / ax)
    base = tl.where(ay == 0.0, tl.where(ax == 0.0, 0.0, base), base)       # 0/0
    base = tl.where(ay == INF, tl.where(ax == INF, 0.25 * PI, base), base)  # inf/inf
    base = tl.where(_signbit(x), PI - base, base)
    base = tl.where(x != x, float("nan"), tl.where(y != y, float("nan"), base))
    return tl.where(_signbit(y), -base, base)


@triton.jit
def _erfinv64(y):
    """erfinv in float64: Winitzki's closed form (a = 0.147, ~1e-3 relative error) then
    Halley steps on erf (cubic: 3 steps reach float64 precision, as far as erf's own
    rounding lets the ill-conditioned tails get)."""
    y = y.to(tl.float64)
    ok = tl.abs(y) < 1.0
    w = tl.log((1.0 - y) * (1.0 + y))               # ln(1 - y^2)
    t = 4.330746750799873 + 0.5 * w                 # 2 / (pi a) + w / 2
    g = tl.sqrt(tl.sqrt(t * t - w / 0.147) - t)
    g = tl.where(ok, g, 0.0)
    g = tl.where(_signbit(y), -g, g)
    for _ in tl.static_range(3):
        f = tl.erf(g) - y
        g = g - f / (1.1283791670955126 * tl.exp(-g * g) + g * f)
    g = tl.where(ok, g, tl.where(tl.abs(y) == 1.0, tl.where(y < 0, -INF, INF), float("nan")))
    return g


@triton.jit
def _exponent64(v):
    """floor(log2(v)) of a finite float64 v > 0, subnormals included."""
    sub = v < 2.2250738585072014e-308
    w = tl.where(sub, v * 18446744073709551616.0, v)           # * 2^64
    e = ((w.to(tl.int64, bitcast=True) >> 52) & 0x7FF) - 1023
    return tl.where(sub, e - 64, e)


@triton.jit
def _pow2_64(k):
    """2.0 ** k as float64 for an integer tensor k in [-1022, 1023]."""
    return ((k.to(tl.int64) + 1023) << 52).to(tl.float64, bitcast=True)


@triton.jit
def _fmod64(a, b):
    """C's fmod (the sign of a), exact, in float64 (Triton's `%` on floats is
    a - trunc(a / b) * b on GPUs: wrong for large quotients). Long division, up to 51
    quotient bits a step: with bs = |b| 2^k in r's binade less 51, q = floor(r / bs) is an
    exact integer that is floor(r / bs) or one more (rounding is monotonic), so
    r - q bs lies in (-bs, bs), is representable and the fma computes it exactly."""
    a = a.to(tl.float64)
    b = b.to(tl.float64)
    ok = tl.where(tl.abs(a) < INF, tl.where(tl.abs(b) > 0.0, b == b, False), False)
    r = tl.where(ok, tl.abs(a), 0.0)
    bb = tl.where(tl.where(ok, tl.abs(b) < INF, False), tl.abs(b), INF)  # inf: r = |a|
    fb = tl.where(bb < INF, bb, 1.0)
    eb = _exponent64(fb)
    while tl.max(tl.where(r >= bb, 1, 0), 0) > 0:
        act = r >= bb
        k = tl.maximum(_exponent64(tl.where(act, r, 1.0)) - eb - 51, 0)
        k1 = k // 3                              # 2^k in three exact factors: k < 2048
        k2 = (k - k1) // 2
        bs = fb * _pow2_64(k1) * _pow2_64(k2) * _pow2_64(k - k1 - k2)
        q = tl.floor(r / bs)
        t = tl.fma(-q, bs, r)
        r = tl.where(act, tl.where(t < 0, t + bs, t), r)
    r = tl.where(ok, r, float("nan"))
    return tl.where(_signbit(a), -r, r)


@triton.jit
def _divmod_float(a, b):
    """NumPy's float floor_divide and remainder (npy_divmod): the exact fmod, moved to
    the divisor's sign; the quotient (a - mod) / b snapped to an integer."""
    mod = _fmod64(a, b).to(a.dtype)
    div = _div(a - mod, b)
    fix = tl.where(b < 0, mod > 0, mod < 0)
    zero_b = tl.where(_signbit(b), -0.0, 0.0).to(a.dtype)
    mod = tl.where(fix, mod + b, tl.where(mod == 0, zero_b, mod))
    div = tl.where(fix, div - 1.0, div)
    fl = tl.floor(div)
    fl = tl.where(div - fl > 0.5, fl + 1.0, fl)
    q = _div(a, b)
    fl = tl.where(div == 0, tl.where(_signbit(q), -0.0, 0.0).to(a.dtype), fl)
    fl = tl.where(b == 0, q, fl)
    return fl, mod


@triton.jit
def _divmod_int(a, b):
    """Python's (floor) integer division and modulo from C's truncating // and %;
    x // 0 and x % 0 give 0 as NumPy's; b == -1 is done apart (INT_MIN / -1 overflows,
    undefined on GPUs; NumPy wraps)."""
    bad = tl.where(b == 0, True, b == -1)
    bb = tl.where(bad, 1, b)
    q = a // bb
    r = a % bb
    adj = tl.where(r != 0, tl.where(bb < 0, r > 0, r < 0), False)
    q = tl.where(adj, q - 1, q)
    r = tl.where(adj, r + bb, r)
    q = tl.where(b == 0, 0, tl.where(b == -1, -a, q))
    r = tl.where(bad, 0, r)
    return q, r


@triton.jit
def _wide(x):
    """float32 -> float64 for the transcendental functions: correctly rounded float32
    results (NumPy's float32 exp is 2 ulp off, GPUs' fast float32 exp/sin/cos worse, up to
    tens of ulps for large arguments), at a cost that memory-bound kernels hide."""
    return x.to(tl.float64)


@triton.jit
def _unary_math(x, OP: tl.constexpr):
    if OP == "negative":
        return -x
    elif OP == "absolute":
        return tl.abs(x)
    elif OP == "exp":
        return tl.exp(_wide(x)).to(x.dtype)
    elif OP == "exp2":
        return tl.exp2(_wide(x)).to(x.dtype)
    elif OP == "expm1":
        return _expm1(_wide(x)).to(x.dtype)
    elif OP == "log":
        return tl.log(_wide(x)).to(x.dtype)
    elif OP == "log2":
        return tl.log2(_wide(x)).to(x.dtype)
    elif OP == "log10":
        return (tl.log(_wide(x)) * 0.4342944819032518).to(x.dtype)
    elif OP == "log1p":
        y = x
        x = _wide(x)
        # Kahan's form again: the rounding of u = 1 + x cancels in log(u) / (u - 1)
        u = 1.0 + x
        r = tl.where(u == 1.0, x, tl.log(u) * _div(x, u - 1.0))
        return tl.where(u == INF, u, r).to(y.dtype)
    elif OP == "sqrt":
        return tl.sqrt_rn(x) if x.dtype == tl.float32 else tl.sqrt(x)
    elif OP == "rsqrt":
        return _div(tl.full(x.shape, 1.0, x.dtype), tl.sqrt_rn(x) if x.dtype == tl.float32
                    else tl.sqrt(x))
    elif OP == "sin":
        return tl.sin(_wide(x)).to(x.dtype)
    elif OP == "cos":
        return tl.cos(_wide(x)).to(x.dtype)
    elif OP == "tan":
        return (tl.sin(_wide(x)) / tl.cos(_wide(x))).to(x.dtype)
    elif OP == "tanh":
        y = x
        x = _wide(x)
        # -expm1(-2|x|) / (2 + expm1(-2|x|)): no cancellation at any |x|
        e = _expm1(-2.0 * tl.abs(x))
        t = _div(-e, 2.0 + e)
        return tl.where(_signbit(x), -t, t).to(y.dtype)
    elif OP == "sinh":
        y = x
        x = _wide(x)
        # small |x|: (e + e / (e + 1)) / 2 with e = expm1(|x|); large: (h/2) h with
        # h = exp(|x|/2), which overflows only where sinh does
        a = tl.abs(x)
        e = _expm1(a)
        h = tl.exp(0.5 * a)
        s = tl.where(a < 20.0, 0.5 * (e + _div(e, e + 1.0)), (0.5 * h) * h)
        return tl.where(_signbit(x), -s, s).to(y.dtype)
    elif OP == "cosh":
        y = x
        x = _wide(x)
        a = tl.abs(x)
        e = tl.exp(a)
        h = tl.exp(0.5 * a)
        return tl.where(a < 20.0, 0.5 * (e + _div(tl.full(x.shape, 1.0, x.dtype), e)),
                        (0.5 * h) * h).to(y.dtype)
    elif OP == "sigmoid":
        return (1.0 / (1.0 + tl.exp(-_wide(x)))).to(x.dtype)
    elif OP == "erf":
        return tl.erf(_wide(x)).to(x.dtype)
    elif OP == "arctan":
        return _atan64(x).to(x.dtype)
    elif OP == "arcsin":
        x64 = x.to(tl.float64)
        return _atan64(x64 / tl.sqrt((1.0 - x64) * (1.0 + x64))).to(x.dtype)
    elif OP == "arccos":
        x64 = x.to(tl.float64)
        return (2.0 * _atan64(tl.sqrt((1.0 - x64) / (1.0 + x64)))).to(x.dtype)
    elif OP == "erfinv":
        return _erfinv64(x).to(x.dtype)
    elif OP == "floor":
        return tl.floor(x)
    elif OP == "ceil":
        return tl.ceil(x)
    elif OP == "trunc":
        return tl.where(x < 0, tl.ceil(x), tl.floor(x))
    elif OP == "rint":
        f = tl.floor(x)
        d = x - f                                   # exact
        even = f - 2.0 * tl.floor(f * 0.5) == 0.0
        r = tl.where(d > 0.5, f + 1.0, tl.where(d < 0.5, f, tl.where(even, f, f + 1.0)))
        return tl.where(_signbit(x), -tl.abs(r), r)     # rint(-0.5) is -0.0
    elif OP == "reciprocal":
        return _div(tl.full(x.shape, 1.0, x.dtype), x)
    elif OP == "sign":
        # NumPy: sign(nan) is nan, sign(-0.0) is 0.0
        s = tl.where(x > 0, 1, tl.where(x < 0, -1, 0)).to(x.dtype)
        return tl.where(x != x, x, s)
    elif OP == "logical_not":
        return x == 0
    elif OP == "invert":
        return ~x
    elif OP == "isnan":
        return x != x
    elif OP == "isinf":
        return tl.abs(x) == INF
    elif OP == "isfinite":
        return tl.abs(x) < INF
    elif OP == "signbit":
        if x.dtype.is_floating():
            return _signbit(x)          # -0.0 and -nan too
        else:
            return x < 0
    else:
        tl.static_assert(False, "unknown unary op")


@triton.jit
def _power(a, b):
    """NumPy's float power (C99's pow): |a|^b in float64, the sign from an odd integer b,
    NaN for a finite a < 0 and a non-integer b; 1 for b == 0 or a == 1 whatever the other
    is, and (-1) ** +-inf is 1."""
    af = a.to(tl.float64)
    bf = b.to(tl.float64)
    mag = tl.exp2(bf * tl.log2(tl.abs(af)))
    # exp2(b log2|a|) carries log2's rounding times |b log2 a| into the result (hundreds
    # of ulps): integer |b| <= 64 (x**2, x**-1...) multiply out instead, by squaring in
    # double-double (fma gives each product's rounding error), falling back to mag where
    # that over/underflows on the way
    n = tl.where(tl.floor(bf) == bf, tl.where(tl.abs(bf) <= 64.0, tl.abs(bf), 0.0),
                 0.0).to(tl.int32)
    ph = tl.full(af.shape, 1.0, tl.float64)
    pl = tl.zeros(af.shape, tl.float64)
    sh = tl.abs(af)
    sl = tl.zeros(af.shape, tl.float64)
    for i in tl.static_range(7):
        use = ((n >> i) & 1) != 0
        h = ph * sh
        lo = tl.fma(ph, sh, -h) + (ph * sl + pl * sh)
        ph, pl = tl.where(use, h + lo, ph), tl.where(use, lo - ((h + lo) - h), pl)
        h = sh * sh
        lo = tl.fma(sh, sh, -h) + 2.0 * sh * sl
        sh, sl = h + lo, lo - ((h + lo) - h)
    rec = 1.0 / ph                               # 1 / (ph + pl), one Newton correction
    rec = rec + rec * (tl.fma(-rec, ph, 1.0) - rec * pl)
    p = tl.where(bf < 0, rec, ph + pl)
    mag = tl.where(n > 0, tl.where(tl.abs(p) < INF, tl.where(p != 0.0, p, mag), mag), mag)
    odd = tl.abs(bf - 2.0 * tl.floor(bf * 0.5)) == 1.0        # false for +-inf
    neg = tl.where(tl.floor(bf) == bf, tl.where(odd, -mag, mag),
                   tl.where(af == -INF, mag, float("nan")))
    r = tl.where(_signbit(af), tl.where(af == 0.0, tl.where(odd, -mag, mag), neg), mag)
    r = tl.where(tl.abs(af) == 1.0, tl.where(tl.abs(bf) == INF, 1.0, r), r)
    return tl.where(bf == 0, 1.0, tl.where(af == 1.0, 1.0, r)).to(a.dtype)


@triton.jit
def _binary_math(a, b, OP: tl.constexpr):
    if OP == "add":
        return a + b
    elif OP == "subtract":
        return a - b
    elif OP == "multiply":
        return a * b
    elif OP == "divide":
        return _div(a, b)
    elif OP == "maximum":      # NaN propagates, as numpy/torch
        return tl.where(a > b, a, tl.where(a != a, a, b))
    elif OP == "minimum":
        return tl.where(a < b, a, tl.where(a != a, a, b))
    elif OP == "power":
        return _power(a, b)
    elif OP == "arctan2":
        return _atan2_64(a, b).to(a.dtype)
    elif OP == "fmod":
        if a.dtype.is_floating():
            return _fmod64(a, b).to(a.dtype)
        else:
            # C's truncated remainder; x % 0 is 0 as NumPy's, x % -1 is 0 (no overflow)
            return tl.where(b == 0, 0, a % tl.where(tl.where(b == 0, True, b == -1), 1, b))
    elif OP == "floor_divide":
        if a.dtype.is_floating():
            q, _ = _divmod_float(a, b)
        else:
            q, _ = _divmod_int(a, b)
        return q
    elif OP == "remainder":
        if a.dtype.is_floating():
            _, r = _divmod_float(a, b)
        else:
            _, r = _divmod_int(a, b)
        return r
    elif OP == "equal":
        return a == b
    elif OP == "not_equal":
        return a != b
    elif OP == "less":
        return a < b
    elif OP == "less_equal":
        return a <= b
    elif OP == "greater":
        return a > b
    elif OP == "greater_equal":
        return a >= b
    elif OP == "logical_and":
        return (a != 0) & (b != 0)
    elif OP == "logical_or":
        return (a != 0) | (b != 0)
    elif OP == "logical_xor":
        return (a != 0) ^ (b != 0)
    elif OP == "bitwise_and":
        return a & b
    elif OP == "bitwise_or":
        return a | b
    elif OP == "bitwise_xor":
        return a ^ b
    elif OP == "left_shift":
        # NumPy: shifting by the width or more (or by a negative count) gives 0; shifts
        # that large are undefined in LLVM, so they never reach the instruction
        ok = tl.where(b >= 0, b < a.dtype.primitive_bitwidth, False)
        return tl.where(ok, a << tl.where(ok, b, 0), 0)
    elif OP == "right_shift":
        ok = tl.where(b >= 0, b < a.dtype.primitive_bitwidth, False)
        return tl.where(ok, a >> tl.where(ok, b, 0), tl.where(a < 0, -1, 0))
    else:
        tl.static_assert(False, "unknown binary op")


@triton.jit
def unary_kernel(x, out, n, d1, d2, d3, xs0, xs1, xs2, xs3, os0, os1, os2, os3,
                 OP: tl.constexpr, CDT: tl.constexpr, CONTIG: tl.constexpr,
                 BLOCK: tl.constexpr):
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    a = tl.load(x + _offsets(i, d1, d2, d3, xs0, xs1, xs2, xs3, CONTIG), mask=m).to(CDT)
    r = _unary_math(a, OP)
    o = _offsets(i, d1, d2, d3, os0, os1, os2, os3, CONTIG)
    tl.store(out + o, store_cast(r, out.dtype.element_ty), mask=m)


@triton.jit
def binary_kernel(x, y, out, yv, n, d1, d2, d3, xs0, xs1, xs2, xs3, ys0, ys1, ys2, ys3,
                  os0, os1, os2, os3, OP: tl.constexpr, CDT: tl.constexpr,
                  Y_SCALAR: tl.constexpr, CONTIG: tl.constexpr, BLOCK: tl.constexpr):
    """out = OP(x, y); with Y_SCALAR, y is the number yv (float64 bits) instead."""
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    a = tl.load(x + _offsets(i, d1, d2, d3, xs0, xs1, xs2, xs3, CONTIG), mask=m).to(CDT)
    if Y_SCALAR:
        b = from_bits(yv).to(CDT)
    else:
        b = tl.load(y + _offsets(i, d1, d2, d3, ys0, ys1, ys2, ys3, CONTIG), mask=m).to(CDT)
    r = _binary_math(a, b, OP)
    o = _offsets(i, d1, d2, d3, os0, os1, os2, os3, CONTIG)
    tl.store(out + o, store_cast(r, out.dtype.element_ty), mask=m)


@triton.jit
def where_kernel(c, x, y, out, n, d1, d2, d3, cs0, cs1, cs2, cs3, xs0, xs1, xs2, xs3,
                 ys0, ys1, ys2, ys3, os0, os1, os2, os3, CDT: tl.constexpr,
                 CONTIG: tl.constexpr, BLOCK: tl.constexpr):
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    cond = tl.load(c + _offsets(i, d1, d2, d3, cs0, cs1, cs2, cs3, CONTIG), mask=m) != 0
    a = tl.load(x + _offsets(i, d1, d2, d3, xs0, xs1, xs2, xs3, CONTIG), mask=m).to(CDT)
    b = tl.load(y + _offsets(i, d1, d2, d3, ys0, ys1, ys2, ys3, CONTIG), mask=m).to(CDT)
    o = _offsets(i, d1, d2, d3, os0, os1, os2, os3, CONTIG)
    tl.store(out + o, store_cast(tl.where(cond, a, b), out.dtype.element_ty), mask=m)


@triton.jit
def copy_kernel(x, out, n, d1, d2, d3, xs0, xs1, xs2, xs3, os0, os1, os2, os3,
                CONTIG: tl.constexpr, BLOCK: tl.constexpr):
    """out = x, converting dtype as PyTorch's casts (also the strided/broadcast copy)."""
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    a = tl.load(x + _offsets(i, d1, d2, d3, xs0, xs1, xs2, xs3, CONTIG), mask=m)
    o = _offsets(i, d1, d2, d3, os0, os1, os2, os3, CONTIG)
    tl.store(out + o, store_cast(a, out.dtype.element_ty), mask=m)


# ---------------------------------------------------------------- ahead-of-time checks
def _sig(ptrs, scalars=(), n_arrays=None):
    """A launch signature: pointer params by Triton type, then scalar params, then the
    size and the RANK dims/strides of each array operand."""
    sig = dict(ptrs)
    sig.update(scalars)
    sig["n"] = "i64"
    sig.update({f"d{k}": "i32" for k in (1, 2, 3)})
    for p in range(n_arrays or len(ptrs)):
        sig.update({f"_s{p}{k}": "i64" for k in range(RANK)})
    return sig


def _named(fn, sig):
    """Rename the stride placeholders of _sig to fn's own parameter names."""
    names = [a for a in fn.arg_names if a not in sig and not a.isupper()]
    placeholders = [k for k in sig if k.startswith("_s")]
    for old, new in zip(placeholders, names):
        sig[new] = sig.pop(old)
    return sig


def _case(fn, ptrs, scalars=(), **constexprs):
    sig = _named(fn, _sig(ptrs, scalars))
    sig.update({k: "constexpr" for k in constexprs})
    return fn, sig, constexprs


AOT_CASES = [
    _case(unary_kernel, {"x": "*fp32", "out": "*fp32"}, OP="exp", CDT=tl.float32,
          CONTIG=True, BLOCK=1024),
    _case(unary_kernel, {"x": "*bf16", "out": "*bf16"}, OP="tanh", CDT=tl.float32,
          CONTIG=False, BLOCK=1024),
    _case(unary_kernel, {"x": "*fp64", "out": "*fp64"}, OP="rint", CDT=tl.float64,
          CONTIG=False, BLOCK=1024),
    _case(unary_kernel, {"x": "*i64", "out": "*i64"}, OP="sign", CDT=tl.int64,
          CONTIG=True, BLOCK=1024),
    _case(unary_kernel, {"x": "*fp32", "out": "*fp32"}, OP="arctan", CDT=tl.float32,
          CONTIG=True, BLOCK=1024),
    _case(unary_kernel, {"x": "*bf16", "out": "*bf16"}, OP="arccos", CDT=tl.float32,
          CONTIG=False, BLOCK=1024),
    _case(unary_kernel, {"x": "*fp64", "out": "*fp64"}, OP="erfinv", CDT=tl.float64,
          CONTIG=True, BLOCK=1024),
    _case(unary_kernel, {"x": "*fp32", "out": "*fp32"}, OP="expm1", CDT=tl.float32,
          CONTIG=True, BLOCK=1024),
    _case(binary_kernel, {"x": "*fp32", "y": "*fp32", "out": "*fp32"}, {"yv": "i64"},
          OP="add", CDT=tl.float32, Y_SCALAR=False, CONTIG=True, BLOCK=1024),
    _case(binary_kernel, {"x": "*fp64", "y": "*fp64", "out": "*fp64"}, {"yv": "i64"},
          OP="fmod", CDT=tl.float64, Y_SCALAR=False, CONTIG=True, BLOCK=1024),
    _case(binary_kernel, {"x": "*fp32", "y": "*fp32", "out": "*fp32"}, {"yv": "i64"},
          OP="remainder", CDT=tl.float32, Y_SCALAR=True, CONTIG=False, BLOCK=1024),
    _case(binary_kernel, {"x": "*fp16", "y": "*fp16", "out": "*fp16"}, {"yv": "i64"},
          OP="arctan2", CDT=tl.float32, Y_SCALAR=False, CONTIG=False, BLOCK=1024),
    _case(binary_kernel, {"x": "*i64", "y": "*i64", "out": "*i64"}, {"yv": "i64"},
          OP="floor_divide", CDT=tl.int64, Y_SCALAR=False, CONTIG=True, BLOCK=1024),
    _case(binary_kernel, {"x": "*i8", "y": "*i8", "out": "*i8"}, {"yv": "i64"},
          OP="remainder", CDT=tl.int32, Y_SCALAR=False, CONTIG=False, BLOCK=1024),
    _case(binary_kernel, {"x": "*i32", "y": "*i32", "out": "*i32"}, {"yv": "i64"},
          OP="left_shift", CDT=tl.int32, Y_SCALAR=False, CONTIG=True, BLOCK=1024),
    _case(binary_kernel, {"x": "*fp64", "y": "*fp64", "out": "*fp64"}, {"yv": "i64"},
          OP="power", CDT=tl.float64, Y_SCALAR=False, CONTIG=False, BLOCK=1024),
    _case(binary_kernel, {"x": "*bf16", "y": "*bf16", "out": "*bf16"}, {"yv": "i64"},
          OP="maximum", CDT=tl.float32, Y_SCALAR=True, CONTIG=False, BLOCK=1024),
    _case(binary_kernel, {"x": "*fp16", "y": "*fp16", "out": "*i1"}, {"yv": "i64"},
          OP="greater_equal", CDT=tl.float32, Y_SCALAR=False, CONTIG=False, BLOCK=1024),
    _case(where_kernel, {"c": "*i1", "x": "*fp32", "y": "*fp32", "out": "*fp32"},
          CDT=tl.float32, CONTIG=False, BLOCK=1024),
    _case(copy_kernel, {"x": "*fp64", "out": "*fp16"}, CONTIG=False, BLOCK=1024),
    _case(copy_kernel, {"x": "*fp32", "out": "*bf16"}, CONTIG=True, BLOCK=1024),
    _case(copy_kernel, {"x": "*fp32", "out": "*i1"}, CONTIG=True, BLOCK=1024),
]
