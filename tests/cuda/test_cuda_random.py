"""Random numbers on 'cuda' (Philox, backend/cuda/random.py): statistics of 100K samples
with explicit tolerances (about 6 standard errors), bounds, dtypes, reproducibility,
fresh numbers on each call, state save/restore and the genesis.cuda seeding API."""
import math

import ml_dtypes
import numpy as np
import pytest

import genesis

N = 100_000
CUDA = "cuda"


def host(t):
    return t.cpu().numpy()


# ---------------------------------------------------------------- distributions
@pytest.mark.parametrize("dtype,digits", [("float32", 24), ("float64", 53), ("float16", 11),
                                          ("bfloat16", 8)])
def test_rand_statistics(dtype, digits):
    t = genesis.rand(N, device=CUDA, dtype=getattr(genesis, dtype))
    assert t.dtype == getattr(genesis, dtype) and t.device.type == "cuda"
    x = host(t).astype(np.float64)
    assert x.min() >= 0 and x.max() < 1
    # k / 2**digits for k uniform in [0, 2**digits)
    step = 2.0 ** -digits
    mean, var = (1 - step) / 2, (1 - step * step) / 12
    assert abs(x.mean() - mean) < 6 * math.sqrt(var / N)                 # ~5.5e-3
    assert abs(x.var() - var) < 6 * math.sqrt(1 / 180 / N)              # ~1.4e-3
    # every tenth of [0, 1) gets its share (bin counts ~ 10K +- 95)
    counts = np.histogram(x, bins=10, range=(0, 1))[0]
    assert np.abs(counts - N / 10).max() < 600
    if digits <= 11:
        assert np.all(np.floor(x / step) * step == x)     # on the k / 2**digits grid


def test_uniform_bounds_and_shape():
    t = genesis.empty(200, 500, device=CUDA).uniform_(-2.0, 3.0)
    x = host(t)
    assert x.shape == (200, 500) and x.dtype == np.float32
    assert x.min() >= -2 and x.max() < 3
    assert abs(x.mean() - 0.5) < 6 * 5 / math.sqrt(12 * N)
    assert np.all(host(genesis.empty(7, device=CUDA).uniform_(1.5, 1.5)) == 1.5)


@pytest.mark.parametrize("dtype,low,high,top", [
    # rounding low + u * (high - low) in the dtype would reach high: the largest value
    # below high is returned instead
    ("float16", 1000.0, 1001.0, 1000.5),
    ("bfloat16", 1.0, 2.0, 1.9921875),
    ("float32", 16777216.0, 16777217.0, 16777216.0),
    ("float64", 1.0, 1.0 + 2.0 ** -52, 1.0),
])
def test_uniform_never_returns_high(dtype, low, high, top):
    t = genesis.empty(4096, device=CUDA, dtype=getattr(genesis, dtype)).uniform_(low, high)
    x = host(t).astype(np.float64)
    assert x.min() >= low and x.max() == top


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_randn_statistics(dtype):
    t = genesis.randn(N, device=CUDA, dtype=getattr(genesis, dtype))
    assert t.dtype == getattr(genesis, dtype)
    x = host(t).astype(np.float64)
    assert np.isfinite(x).all()
    tol = 0.01 if dtype == "bfloat16" else 0.0   # bfloat16 rounding adds to the variance
    assert abs(x.mean()) < 6 / math.sqrt(N)                              # 0.019
    assert abs(x.var() - 1) < 6 * math.sqrt(2 / N) + tol                 # 0.027
    assert abs((x ** 4).mean() / x.var() ** 2 - 3) < 6 * math.sqrt(24 / N)   # kurtosis
    assert abs(np.mean(np.abs(x) < 1) - 0.682689) < 6 * math.sqrt(0.22 / N)


def test_normal_mean_std_and_in_place():
    x = host(genesis.normal(3.0, 2.0, (N,), device=CUDA))
    assert abs(x.mean() - 3) < 6 * 2 / math.sqrt(N) and abs(x.std() - 2) < 0.06
    t = genesis.zeros(300, 400, device=CUDA, dtype=genesis.float64).normal_(-1.0, 0.5)
    y = host(t)
    assert y.shape == (300, 400) and y.dtype == np.float64
    assert abs(y.mean() + 1) < 6 * 0.5 / math.sqrt(y.size) and abs(y.std() - 0.5) < 0.015


def test_randint_statistics_and_bounds():
    t = genesis.randint(-5, 7, (N,), device=CUDA)
    assert t.dtype == genesis.int64
    x = host(t)
    assert x.min() == -5 and x.max() == 6
    counts = np.bincount(x + 5)
    assert np.abs(counts - N / 12).max() < 6 * math.sqrt(N / 12)          # ~550


@pytest.mark.parametrize("low,high", [(0, 1 << 63), (-(1 << 63), 1 << 63),
                                      (-(1 << 62), 1 << 62), (10, 10 + 3 * (1 << 61))])
def test_randint_wide_ranges(low, high):
    # the 128-bit multiply-shift covers ranges up to 2**64: thirds of the range get a third
    x = host(genesis.randint(low, high, (30_000,), device=CUDA))
    assert x.dtype == np.int64
    assert all(low <= int(v) < high for v in (x.min(), x.max()))
    span = high - low
    thirds = [(np.asarray([int(v) - low for v in x], dtype=object) * 3 // span == k).mean()
              for k in range(3)]
    assert max(abs(f - 1 / 3) for f in thirds) < 6 * math.sqrt(2 / 9 / 30_000)


@pytest.mark.parametrize("dtype", ["int32", "int16", "uint8", "float32", "float64", "bool"])
def test_randint_dtypes(dtype):
    high = 2 if dtype == "bool" else 100
    t = genesis.randint(0, high, (1000,), device=CUDA, dtype=getattr(genesis, dtype))
    assert t.dtype == getattr(genesis, dtype)
    x = host(t).astype(np.int64)
    assert x.min() == 0 and x.max() == high - 1 and len(np.unique(x)) == high


def test_randint_low_precision_float_and_wrapping_match_the_cpu_cast():
    # the CPU backend draws int64 and casts: [250, 260) as uint8 wraps past 255
    x = host(genesis.randint(250, 260, (2000,), device=CUDA, dtype=genesis.uint8))
    assert set(np.unique(x)) == set(np.arange(250, 260).astype(np.uint8))
    y = host(genesis.randint(0, 300, (2000,), device=CUDA, dtype=genesis.bfloat16))
    assert y.dtype == ml_dtypes.bfloat16 and y.astype(float).max() <= 300


@pytest.mark.parametrize("n,dtype", [(1000, None), (37, "int32"), (1, None), (0, None)])
def test_randperm(n, dtype):
    t = genesis.randperm(n, device=CUDA, dtype=None if dtype is None else
                         getattr(genesis, dtype))
    assert t.dtype == (genesis.int64 if dtype is None else getattr(genesis, dtype))
    assert t.device.type == "cuda"
    x = host(t)
    np.testing.assert_array_equal(np.sort(x), np.arange(n))
    if n >= 37:
        assert (x != np.arange(n)).mean() > 0.8


# ---------------------------------------------------------------- generator state
def test_manual_seed_reproduces_and_calls_differ():
    genesis.manual_seed(1234)
    a, b = host(genesis.rand(1000, device=CUDA)), host(genesis.rand(1000, device=CUDA))
    assert not np.array_equal(a, b)
    genesis.manual_seed(1234)
    np.testing.assert_array_equal(host(genesis.rand(1000, device=CUDA)), a)
    # genesis.cuda.manual_seed seeds the same generator genesis.manual_seed does
    genesis.cuda.manual_seed(1234)
    np.testing.assert_array_equal(host(genesis.rand(1000, device=CUDA)), a)
    genesis.cuda.manual_seed_all(1235)
    assert not np.array_equal(host(genesis.rand(1000, device=CUDA)), a)
    assert genesis.cuda.initial_seed() == 1235


def test_successive_fills_take_the_next_counters():
    # each fill starts where the last ended: two draws of 8 are one draw of 16
    genesis.cuda.manual_seed(7)
    x, y = host(genesis.rand(8, device=CUDA)), host(genesis.rand(8, device=CUDA))
    genesis.cuda.manual_seed(7)
    np.testing.assert_array_equal(host(genesis.rand(16, device=CUDA)), np.r_[x, y])
    genesis.cuda.manual_seed(7)
    z = host(genesis.randn(5, device=CUDA))       # 2 counters: the next draw starts at 2
    w = host(genesis.rand(16, device=CUDA))
    np.testing.assert_array_equal(w[:8], y)
    assert not np.isin(z, w).any()


def test_rng_state_save_and_restore():
    genesis.cuda.manual_seed(99)
    genesis.randn(10, device=CUDA)
    state = genesis.cuda.get_rng_state()
    assert state.dtype == genesis.uint8 and tuple(state.shape) == (16,)
    assert state.device.type == "cpu"
    raw = state.numpy().tobytes()
    assert int.from_bytes(raw[:8], "little") == 99 and int.from_bytes(raw[8:], "little") == 3
    a = host(genesis.randn(100, device=CUDA))
    genesis.cuda.set_rng_state(state)
    np.testing.assert_array_equal(host(genesis.randn(100, device=CUDA)), a)
    genesis.cuda.set_rng_state_all(genesis.cuda.get_rng_state_all())
    with pytest.raises(RuntimeError, match="16 bytes"):
        genesis.cuda.set_rng_state(genesis.zeros(5, dtype=genesis.uint8))


def test_generator_objects():
    g1 = genesis.Generator(device=CUDA).manual_seed(5)
    g2 = genesis.Generator(device="cuda:0").manual_seed(5)
    a = host(genesis.randint(0, 1000, (500,), generator=g1, device=CUDA))
    np.testing.assert_array_equal(host(genesis.randint(0, 1000, (500,), generator=g2,
                                                       device=CUDA)), a)
    st = g1.get_state()
    b = host(genesis.rand(100, generator=g1, device=CUDA))
    # g2 is its own stream at the same (seed, offset): the same numbers
    np.testing.assert_array_equal(host(genesis.rand(100, generator=g2, device=CUDA)), b)
    g1.manual_seed(6)
    g1.set_state(st)
    np.testing.assert_array_equal(host(genesis.rand(100, generator=g1, device=CUDA)), b)
    assert g1.initial_seed() == 5
    # seeds use all 64 bits
    g1.manual_seed(2 ** 64 - 1)
    g2.manual_seed(2 ** 63 - 1)
    assert not np.array_equal(host(genesis.rand(64, generator=g1, device=CUDA)),
                              host(genesis.rand(64, generator=g2, device=CUDA)))
    with pytest.raises(RuntimeError, match="generator"):
        genesis.rand(3, generator=genesis.Generator(), device=CUDA)


def test_seed_from_entropy():
    genesis.cuda.seed()
    s = genesis.cuda.initial_seed()
    genesis.cuda.seed_all()
    assert genesis.cuda.initial_seed() != s


# ---------------------------------------------------------------- ops that draw
def test_like_fills_and_bernoulli():
    x = genesis.zeros(300, 300, device=CUDA)
    r = genesis.randn_like(x)
    assert r.device.type == "cuda" and tuple(r.shape) == (300, 300)
    b = host(genesis.empty(N, device=CUDA).bernoulli_(0.3))
    assert set(np.unique(b)) == {0.0, 1.0}
    assert abs(b.mean() - 0.3) < 6 * math.sqrt(0.21 / N)


def test_dropout_on_cuda():
    x = genesis.ones(N, device=CUDA, requires_grad=True)
    y = genesis.nn.functional.dropout(x, p=0.25, training=True)
    assert y.device.type == "cuda"
    v = host(y.detach())
    assert set(np.unique(v)).issubset({0.0, np.float32(1 / 0.75)})
    assert abs((v == 0).mean() - 0.25) < 6 * math.sqrt(0.1875 / N)
    y.sum().backward()
    np.testing.assert_array_equal(host(x.grad), v)
