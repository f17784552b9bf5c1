"""Elementwise math of the CUDA backend against NumPy (the CPU backend's semantics), over
wide ranges and the special values (+-0, +-inf, nan, rounding ties), in float32 and
float64. Tolerances are in units in the last place of the result dtype (ulp = spacing of
NumPy's result), stated per op in the tables; where NumPy's result is 0, inf or nan the
CUDA result must equal it exactly, sign of zero included. Integer and bool ops are
bit-exact."""
import math

import numpy as np
import pytest

import genesis
from genesis.backend import cpu

B = pytest.importorskip("genesis.backend.cuda.backend")


def rng(seed=0):
    return np.random.default_rng(seed)


def run(op, *args):
    dev = [B.from_host(a) if isinstance(a, np.ndarray) else a for a in args]
    return B.to_host(getattr(B, op)(*dev))


SPECIAL = [0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 3.5, 1.0, -1.0, 2.0, -2.0, 3.0, 0.1, -0.3,
           0.7, 0.999, -0.999, 1e-8, -1e-8, 1e8, -1e8, 1e30, -1e30, 3e-39, np.inf, -np.inf,
           np.nan]
SPECIAL64 = [1e-300, -5e-324, 1e300, -1e300, 1e-310, 1e20 + 0.5, 0.49999999999999994]


def values(dtype, lo, hi, seed=0):
    """The special values, then random ones with magnitudes 10**U(lo, hi) of either
    sign, then uniform ones in (-4, 4)."""
    r = rng(seed)
    extra = SPECIAL64 if dtype == np.float64 else []
    mags = 10.0 ** r.uniform(lo, hi, 150) * r.choice([-1, 1], 150)
    with np.errstate(over="ignore"):
        return np.concatenate([SPECIAL, extra, mags, r.uniform(-4, 4, 100)]).astype(dtype)


def assert_ulps(got, want, ulps, slack=None):
    """got within `ulps` ulps of want (plus an optional per-element absolute slack);
    zeros, infinities and nans exactly as NumPy's, sign included."""
    assert got.dtype == want.dtype and got.shape == want.shape
    exact = (want == 0) | np.isinf(want) | np.isnan(want)
    same = (got == want) & (np.signbit(got) == np.signbit(want)) | (np.isnan(got) &
                                                                    np.isnan(want))
    bad = exact & ~same
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(got.astype(np.float64) - want.astype(np.float64))
        tol = ulps * np.spacing(np.abs(want)).astype(np.float64)
    if slack is not None:
        tol = tol + slack
    bad |= ~exact & ~(err <= tol)
    assert not bad.any(), (f"mismatch at {np.flatnonzero(bad)[:8]}: got {got[bad][:8]}, "
                           f"want {want[bad][:8]}")


def _np(name):
    if name == "erf":            # the C library's, as accurate as NumPy's functions
        return np.vectorize(math.erf, otypes=[np.float64])
    return getattr(np, name, None) or getattr(cpu, name)


def reference(name, *args):
    """NumPy's float64 result rounded to the dtype: NumPy's own float32 arcsin, arctan2,
    power... are off by an ulp or two, so float32 is checked against the true value."""
    with np.errstate(all="ignore"):
        return _np(name)(*(a.astype(np.float64) for a in args)).astype(args[0].dtype)


# op: (magnitude range of the random inputs as powers of 10, ulps float32, ulps float64).
# Checked against NumPy's float64 result rounded to the dtype; float32 ops computed in
# float64 (the arctan family, erfinv) are then exact to 1 ulp; exp-based and quotient
# forms round a few times.
UNARY = {
    "negative": ((-30, 30), 0, 0), "absolute": ((-30, 30), 0, 0),
    "sign": ((-30, 30), 0, 0), "floor": ((-10, 20), 0, 0), "ceil": ((-10, 20), 0, 0),
    "trunc": ((-10, 20), 0, 0), "rint": ((-10, 20), 0, 0),
    "sqrt": ((-30, 30), 0, 0), "rsqrt": ((-30, 30), 1, 1),
    "reciprocal": ((-30, 30), 0, 0),
    "exp": ((-3, 3), 1, 2), "exp2": ((-3, 3), 1, 2), "expm1": ((-10, 3), 3, 3),
    "log": ((-30, 30), 1, 2), "log2": ((-30, 30), 1, 2), "log10": ((-30, 30), 2, 2),
    "log1p": ((-10, 10), 3, 3),
    "sin": ((-5, 2), 1, 2), "cos": ((-5, 2), 1, 2), "tan": ((-5, 2), 2, 3),
    "tanh": ((-10, 3), 3, 3), "sinh": ((-10, 3), 3, 3), "cosh": ((-10, 3), 3, 3),
    "sigmoid": ((-5, 3), 3, 3), "erf": ((-10, 2), 1, 2),
    "arctan": ((-30, 30), 1, 2), "arcsin": ((-10, 0), 1, 2), "arccos": ((-10, 0), 1, 3),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_float(name, dtype):
    (lo, hi), u32, u64 = UNARY[name]
    x = values(dtype, lo, hi)
    if name in ("arcsin", "arccos"):
        x = np.concatenate([x, rng(1).uniform(-1, 1, 200).astype(dtype)])
    assert_ulps(run(name, x), reference(name, x), u32 if dtype == np.float32 else u64)


def _erfinv_exact(y):
    """erfinv to 40 digits (mpmath): the CPU backend's own is ~25 ulps off in float64."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    f = np.vectorize(lambda v: float(mpmath.erfinv(v)) if 0 < abs(v) < 1 else v if v == 0 else
                     (math.copysign(math.inf, v) if abs(v) == 1 else math.nan),
                     otypes=[np.float64])
    return f(y.astype(np.float64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erfinv(dtype):
    y = np.concatenate([[0.0, -0.0, 1.0, -1.0, 1.5, -np.inf, np.nan, 1e-30, -1e-300,
                         0.5, -0.999999, 1 - 2 ** -24, 2 ** -24 - 1],
                        rng(2).uniform(-1, 1, 300), 1 - 10.0 ** rng(3).uniform(-7, -1, 50),
                        10.0 ** rng(4).uniform(-30, 0, 50)]).astype(dtype)
    with np.errstate(all="ignore"):
        want = _erfinv_exact(y).astype(dtype)
        # erfinv's conditioning near |y| = 1: an input ulp moves the result by
        # eps * |y| * sqrt(pi)/2 * exp(x^2); allow a few of those beyond 2 ulps
        eps = np.finfo(dtype).eps
        cond = 4 * eps * np.abs(y.astype(np.float64)) * 0.886 * np.exp(
            np.minimum(want.astype(np.float64) ** 2, 700))
    got = run("erfinv", y)
    assert_ulps(got, want, 2, slack=np.where(dtype == np.float64, cond, 0.0))


def _pairs(dtype, seed=0):
    """Every pair of special values, then random pairs over wide ranges."""
    s = np.array(SPECIAL + (SPECIAL64 if dtype == np.float64 else []))
    a, b = np.meshgrid(s, s)
    r = rng(seed)
    ra = 10.0 ** r.uniform(-20, 20, 300) * r.choice([-1, 1], 300)
    rb = 10.0 ** r.uniform(-20, 20, 300) * r.choice([-1, 1], 300)
    ia = r.integers(-40, 40, 200).astype(float)
    ib = r.integers(-9, 9, 200).astype(float)
    with np.errstate(over="ignore"):
        return (np.concatenate([a.ravel(), ra, ia, r.uniform(-5, 5, 100)]).astype(dtype),
                np.concatenate([b.ravel(), rb, ib, r.uniform(-5, 5, 100)]).astype(dtype))


# op: (ulps float32, ulps float64); None for power: see test_power
BINARY = {"add": (0, 0), "subtract": (0, 0), "multiply": (0, 0), "divide": (0, 0),
          "maximum": (0, 0), "minimum": (0, 0), "fmod": (0, 0), "remainder": (0, 0),
          "floor_divide": (0, 0), "arctan2": (1, 2)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_float(name, dtype):
    a, b = _pairs(dtype)
    with np.errstate(all="ignore"):
        # the exact ops as NumPy computes them in the dtype; arctan2's true value
        want = reference(name, a, b) if name == "arctan2" else getattr(np, name)(a, b)
    u32, u64 = BINARY[name]
    assert_ulps(run(name, a, b), want, u32 if dtype == np.float32 else u64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fmod_family_huge_quotients_exact(dtype):
    # quotients far beyond 2**53: the long division must stay exact
    tiny = np.finfo(dtype).smallest_subnormal
    a = np.array([np.finfo(dtype).max, -np.finfo(dtype).max, 1e30, 7.0, -1e-30, 3.0],
                 dtype)
    b = np.array([tiny * 3, 0.1, -np.pi, tiny, 1e-38, -tiny * 7], dtype)
    r = rng(13)
    lo, hi = np.log10(tiny), np.log10(np.finfo(dtype).max)
    with np.errstate(over="ignore"):
        a = np.concatenate([a, 10 ** r.uniform(lo, hi, 300) * r.choice([-1, 1], 300)])
        b = np.concatenate([b, 10 ** r.uniform(lo, hi, 300) * r.choice([-1, 1], 300)])
    a, b = a.astype(dtype), b.astype(dtype)
    for name in ("fmod", "remainder", "floor_divide"):
        with np.errstate(all="ignore"):
            want = getattr(np, name)(a, b)
        assert_ulps(run(name, a, b), want, 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_power(dtype):
    a, b = _pairs(dtype, seed=5)
    b = np.where(np.abs(b) > 50, b * 1e-19, b).astype(dtype)   # keep most results finite
    a = np.concatenate([a, [-8.0, 0.0, -0.0, -0.0, np.inf, np.nan, 1.0, -1.0, -np.inf]])
    b = np.concatenate([b, [1 / 3, -1.0, -1.0, 3.0, 0.0, 0.0, np.nan, np.inf, 0.5]])
    a, b = a.astype(dtype), b.astype(dtype)
    with np.errstate(all="ignore"):
        want = reference("power", a, b)
        # float64: exp2(b log2|a|) carries log2's rounding times |b log2 a| into the result
        spread = np.abs(b.astype(np.float64) * np.log2(np.abs(a.astype(np.float64))))
    ulps = 1 if dtype == np.float32 else 4 + 2 * np.nan_to_num(spread, posinf=0)
    assert_ulps(run("power", a, b), want, ulps)


def test_power_integer_exponents_float64():
    # x ** n for |n| <= 64 multiplies out in double-double: 1 ulp, not |n log2 x| ulps
    r = rng(14)
    a = 10 ** r.uniform(-4, 4, 400) * r.choice([-1, 1], 400)
    b = r.integers(-64, 65, 400).astype(np.float64)
    a[:8] = [3.0, -3.0, 1e200, 1e-200, 1e200, -0.0, np.inf, np.nan]   # overflow: fallback
    b[:8] = [40, 41, 2, 2, -2, -3, -1, 2]
    with np.errstate(all="ignore"):
        want = np.power(a, b)
    assert_ulps(run("power", a, b), want, 1)


@pytest.mark.parametrize("name", ["add", "divide", "fmod", "remainder", "floor_divide",
                                  "arctan2", "power", "maximum"])
def test_binary_scalar_operand(name):
    a = values(np.float32, -3, 3)
    b = np.full_like(a, -1.5)
    with np.errstate(all="ignore"):
        want = reference(name, a, b) if name in ("arctan2", "power") else \
            getattr(np, name)(a, b)
    assert_ulps(run(name, a, -1.5), want, 1 if name in ("arctan2", "power") else 0)


INT_DTYPES = [np.int8, np.uint8, np.int16, np.int32, np.int64]


def _ints(dtype, n, seed):
    info = np.iinfo(dtype)
    r = rng(seed)
    edge = np.array([info.min, info.max, 0, 1, info.min + 1, info.max - 1, 2, 7]
                    + ([-1, -2, -7] if info.min else []))
    return np.concatenate([edge, r.integers(info.min, info.max, n, endpoint=True),
                           r.integers(max(info.min, -9), 9, n, endpoint=True)]).astype(dtype)


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name", ["floor_divide", "remainder", "fmod", "bitwise_and",
                                  "bitwise_or", "bitwise_xor", "add", "subtract",
                                  "multiply", "maximum", "minimum"])
def test_binary_int_exact(name, dtype):
    a = _ints(dtype, 100, 6)
    b = _ints(dtype, 100, 7)
    a, b = np.meshgrid(a[:11], b[:11])   # every edge pair, then the random ones
    a = np.concatenate([a.ravel(), _ints(dtype, 100, 6)])
    b = np.concatenate([b.ravel(), _ints(dtype, 100, 7)])
    with np.errstate(all="ignore"):
        want = getattr(np, name)(a, b)
    got = run(name, a, b)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name", ["left_shift", "right_shift"])
def test_shifts_exact(name, dtype):
    bits = np.dtype(dtype).itemsize * 8
    a = np.repeat(_ints(dtype, 10, 8), bits + 4)
    lo = -2 if np.iinfo(dtype).min else 0
    b = np.tile(np.arange(lo, bits + 4 + lo), len(a) // (bits + 4)).astype(dtype)
    with np.errstate(all="ignore"):
        want = getattr(np, name)(a, b)
    np.testing.assert_array_equal(run(name, a, b), want)


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name", ["negative", "absolute", "invert", "sign"])
def test_unary_int_exact(name, dtype):
    x = _ints(dtype, 100, 9)
    if name == "sign" and dtype == np.uint8:
        x = x[x < 128]
    with np.errstate(all="ignore"):
        want = getattr(np, name)(x)
    got = run(name, x)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor",
                                  "logical_and", "logical_or", "logical_xor", "equal",
                                  "maximum", "minimum", "add", "multiply"])
def test_bool_binary_exact(name):
    # add is logical or on bools (True + True stays True, no wrap), as NumPy's
    a, b = np.meshgrid([False, True], [False, True])
    a, b = a.ravel(), b.ravel()
    got, want = run(name, a, b), getattr(np, name)(a, b)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    for scalar in (False, True):          # a bool scalar operand
        got, want = run(name, a, scalar), getattr(np, name)(a, scalar)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["invert", "logical_not"])
def test_bool_unary_exact(name):
    x = np.array([False, True])
    got, want = run(name, x), getattr(np, name)(x)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_classification(dtype):
    x = values(dtype, -40, 40)
    for name in ("isnan", "isinf", "isfinite", "signbit"):
        np.testing.assert_array_equal(run(name, x), getattr(np, name)(x))
    # the sign of a NaN and of zero
    x = np.array([-np.nan, np.nan, -0.0, 0.0], dtype)
    np.testing.assert_array_equal(run("signbit", x), np.signbit(x))


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.bool_, np.float16])
def test_signbit_other_dtypes(dtype):
    x = np.array([-3, 0, 2, 1], dtype) if dtype != np.bool_ else np.array([True, False])
    if dtype == np.float16:
        x = np.array([-np.nan, -0.0, 0.0, -2.0], dtype)
    got = run("signbit", x)
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, np.signbit(x))


@pytest.mark.parametrize("fn", ["atan2", "fmod", "remainder", "floor_divide", "asin",
                                "acos", "atan", "erfinv"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_tensor_ops_match_cpu(fn, dtype):
    """Through genesis ops, low-precision dtypes included (computed in float32)."""
    x = rng(10).uniform(-0.99, 0.99, (3, 7))
    y = rng(11).uniform(0.2, 2, (3, 7)) * rng(12).choice([-1, 1], (3, 7))
    dt = getattr(genesis, dtype)
    xs = genesis.tensor(x).to(dt)
    ys = genesis.tensor(y).to(dt)
    args = (xs,) if fn in ("asin", "acos", "atan", "erfinv") else (xs, ys)
    want = getattr(genesis, fn)(*args).float().numpy()
    got = getattr(genesis, fn)(*(a.cuda() for a in args)).cpu().float().numpy()
    # low precision: one result ulp, as the CPU rounds its own float32 result once
    tol = {"float32": 2e-7, "float16": 1e-3, "bfloat16": 8e-3}[dtype]
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
