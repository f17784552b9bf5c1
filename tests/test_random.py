"""Random numbers: reproducibility from seeds and generator states, loose statistics of
the samples, dtypes/shapes, and the errors PyTorch raises. The numbers themselves differ
from PyTorch's (another generator), so torch is not the oracle here."""
import math

import numpy as np
import pytest

import genesis
from genesis import random as R

M = R.TENSOR_METHODS          # the in-place fills, also bound as Tensor methods
N = 100_000


def _np(t):
    return t.detach().numpy()


def _within(value, expected, se, k=5):
    assert abs(value - expected) <= k * se, f"{value} is not within {k} SE ({se}) of {expected}"


# ---------------------------------------------------------------- seeds and state
SAMPLERS = {
    "rand": lambda g: genesis.rand(5, 3, generator=g),
    "randn": lambda g: genesis.randn(7, generator=g, dtype=genesis.float64),
    "randint": lambda g: genesis.randint(3, 100, (6,), generator=g),
    "randperm": lambda g: genesis.randperm(10, generator=g),
    "normal": lambda g: genesis.normal(genesis.zeros(4), 2.0, generator=g),
    "normal_numbers": lambda g: genesis.normal(1.0, 2.0, (4,), generator=g),
    "bernoulli": lambda g: genesis.bernoulli(genesis.full((8,), 0.5), generator=g),
    "multinomial": lambda g: genesis.multinomial(genesis.ones(2, 6), 3, generator=g),
    "multinomial_repl": lambda g: genesis.multinomial(genesis.ones(6), 9, True, generator=g),
    "uniform_": lambda g: M["uniform_"](genesis.empty(5), -2, 3, generator=g),
    "normal_": lambda g: M["normal_"](genesis.empty(5), 1, 2, generator=g),
    "bernoulli_": lambda g: M["bernoulli_"](genesis.empty(5), 0.3, generator=g),
    "random_": lambda g: M["random_"](genesis.empty(5, dtype=genesis.int32), generator=g),
    "exponential_": lambda g: M["exponential_"](genesis.empty(5), generator=g),
    "cauchy_": lambda g: M["cauchy_"](genesis.empty(5), generator=g),
}


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_same_seed_same_numbers(name):
    draw = SAMPLERS[name]
    genesis.manual_seed(1234)
    a = _np(draw(None)).copy()
    b = _np(draw(None)).copy()
    genesis.manual_seed(1234)
    assert np.array_equal(_np(draw(None)), a) and np.array_equal(_np(draw(None)), b)
    g = genesis.Generator().manual_seed(99)
    c = _np(draw(g)).copy()
    assert np.array_equal(_np(draw(genesis.Generator().manual_seed(99))), c)


def test_generators_are_independent():
    g = genesis.Generator().manual_seed(5)
    genesis.manual_seed(5)
    assert np.array_equal(_np(genesis.rand(10, generator=g)), _np(genesis.rand(10)))
    genesis.rand(3)                 # advances the default generator only
    ref = genesis.Generator().manual_seed(5)
    genesis.rand(10, generator=ref)
    assert np.array_equal(_np(genesis.rand(10, generator=g)),
                          _np(genesis.rand(10, generator=ref)))


def test_seed_api():
    g = genesis.Generator()
    assert g.initial_seed() == 67280421310721 and str(g.device) == "cpu"
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    assert genesis.manual_seed(7) is genesis.default_generator
    assert genesis.initial_seed() == 7 and genesis.random.initial_seed() == 7
    assert genesis.manual_seed(-1).initial_seed() == 2 ** 64 - 1
    s = genesis.seed()
    assert genesis.initial_seed() == s
    a = genesis.rand(4)
    genesis.manual_seed(s)
    assert np.array_equal(_np(genesis.rand(4)), _np(a))
    with pytest.raises(ValueError, match="Overflow"):
        genesis.manual_seed(2 ** 64)


def test_state_roundtrip():
    genesis.manual_seed(11)
    genesis.randn(3)
    st = genesis.get_rng_state()
    assert st.dtype == genesis.uint8 and st.ndim == 1
    a = _np(genesis.rand(100)).copy()
    b = _np(genesis.randint(0, 1000, (50,))).copy()
    genesis.set_rng_state(st)
    assert np.array_equal(_np(genesis.rand(100)), a)
    assert np.array_equal(_np(genesis.randint(0, 1000, (50,))), b)
    # a state with a buffered 32-bit half restores exactly too
    g = genesis.Generator().manual_seed(2)
    g._np.integers(0, 10, dtype=np.int32)
    st = g.get_state()
    x = g._np.integers(0, 1 << 30, 5, dtype=np.int32)
    g2 = genesis.Generator().set_state(st)
    assert np.array_equal(g2._np.integers(0, 1 << 30, 5, dtype=np.int32), x)
    assert g2.initial_seed() == 2


def test_set_state_errors():
    with pytest.raises(RuntimeError, match="uint8 tensor"):
        genesis.set_rng_state(genesis.zeros(56))
    with pytest.raises(RuntimeError, match="uint8 tensor"):
        genesis.set_rng_state(genesis.zeros(3, dtype=genesis.uint8))


def test_fork_rng():
    genesis.manual_seed(4)
    with genesis.random.fork_rng():
        a = _np(genesis.rand(5)).copy()
    assert np.array_equal(_np(genesis.rand(5)), a)


# ---------------------------------------------------------------- creation: dtypes, shapes
@pytest.mark.parametrize("fn", [genesis.rand, genesis.randn])
def test_rand_shapes_dtypes(fn):
    assert tuple(fn(2, 3).shape) == (2, 3) and fn(2).dtype == genesis.float32
    assert tuple(fn((2, 3)).shape) == (2, 3) and tuple(fn(size=(4,)).shape) == (4,)
    assert tuple(fn(()).shape) == ()
    for d in (genesis.float64, genesis.float16, genesis.bfloat16):
        assert fn(3, dtype=d).dtype == d
    t = fn(3, requires_grad=True)
    assert t.requires_grad and t.is_leaf
    with pytest.raises(NotImplementedError, match="Long"):
        fn(3, dtype=genesis.int64)


def test_randint_forms():
    genesis.manual_seed(0)
    for t, lo, hi in [(genesis.randint(10, (500,)), 0, 10),
                      (genesis.randint(-5, 5, (500,)), -5, 5),
                      (genesis.randint(10, size=(500,)), 0, 10),
                      (genesis.randint(low=2, high=4, size=(500,)), 2, 4)]:
        v = _np(t)
        assert t.dtype == genesis.int64 and v.min() == lo and v.max() == hi - 1
    assert genesis.randint(3, 10, (3,), dtype=genesis.float32).dtype == genesis.float32
    assert genesis.randint(0, 256, (3,), dtype=genesis.uint8).dtype == genesis.uint8
    with pytest.raises(RuntimeError, match="from=5 >= to=5"):
        genesis.randint(5, 5, (3,))


def test_randperm():
    genesis.manual_seed(0)
    p = genesis.randperm(1000)
    assert p.dtype == genesis.int64 and sorted(_np(p).tolist()) == list(range(1000))
    assert not np.array_equal(_np(p), np.arange(1000))
    assert genesis.randperm(5, dtype=genesis.float32).dtype == genesis.float32
    assert tuple(genesis.randperm(0).shape) == (0,)
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        genesis.randperm(-1)


def test_like():
    x = genesis.zeros(2, 3, dtype=genesis.float64)
    for fn in (genesis.rand_like, genesis.randn_like):
        r = fn(x)
        assert r.dtype == genesis.float64 and tuple(r.shape) == (2, 3)
        assert fn(x, dtype=genesis.float32).dtype == genesis.float32
        assert fn(x, requires_grad=True).requires_grad
    r = genesis.randint_like(x, 10)
    assert r.dtype == genesis.float64 and 0 <= _np(r).min() and _np(r).max() < 10
    r = genesis.randint_like(x, 3, 5, dtype=genesis.int32)
    assert r.dtype == genesis.int32 and set(_np(r).ravel()) <= {3, 4}
    with pytest.raises(NotImplementedError):
        genesis.rand_like(genesis.zeros(2, dtype=genesis.int64))


# ---------------------------------------------------------------- statistics
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rand_statistics(dtype):
    genesis.manual_seed(1)
    v = _np(genesis.rand(N, dtype=getattr(genesis, dtype))).astype(np.float64)
    assert 0 <= v.min() and v.max() < 1
    _within(v.mean(), 0.5, math.sqrt(1 / 12 / N))
    _within(v.var(), 1 / 12, math.sqrt(1 / 180 / N))
    # the 10 bins hold a tenth each
    counts = np.histogram(v, bins=10, range=(0, 1))[0]
    assert np.all(np.abs(counts - N / 10) < 5 * math.sqrt(N * 0.09))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_rand_low_precision_never_reaches_one(dtype):
    genesis.manual_seed(2)
    v = _np(genesis.rand(N * 5, dtype=getattr(genesis, dtype)).float())
    assert 0 <= v.min() and v.max() < 1
    _within(v.mean(), 0.5, math.sqrt(1 / 12 / (5 * N)), k=6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_randn_statistics(dtype):
    genesis.manual_seed(3)
    v = _np(genesis.randn(N, dtype=getattr(genesis, dtype))).astype(np.float64)
    _within(v.mean(), 0.0, 1 / math.sqrt(N))
    _within(v.std(), 1.0, 1 / math.sqrt(2 * N))
    _within((v < 1).mean(), 0.8413447, math.sqrt(0.84 * 0.16 / N))


def test_normal_forms():
    genesis.manual_seed(4)
    mean = genesis.tensor([[-3.0], [0.0], [5.0]])            # (3, 1)
    std = genesis.tensor([0.5, 1.0, 2.0, 4.0] * 5000)           # (20000,)
    r = genesis.normal(mean, std)
    assert tuple(r.shape) == (3, 20000) and r.dtype == genesis.float32
    v = _np(r).astype(np.float64)
    for i, m in enumerate([-3.0, 0.0, 5.0]):
        for j, s in enumerate([0.5, 1.0, 2.0, 4.0]):
            col = v[i, j::4]
            _within(col.mean(), m, s / math.sqrt(col.size))
            _within(col.std(), s, s / math.sqrt(2 * col.size))
    v = _np(genesis.normal(2.0, 3.0, (N,))).astype(np.float64)
    _within(v.mean(), 2.0, 3 / math.sqrt(N))
    _within(v.std(), 3.0, 3 / math.sqrt(2 * N))
    r = genesis.normal(1.0, genesis.ones(3, 2, dtype=genesis.float64))
    assert r.dtype == genesis.float64 and tuple(r.shape) == (3, 2)
    r = genesis.normal(genesis.zeros(3, dtype=genesis.float64), genesis.ones(3))
    assert r.dtype == genesis.float64
    assert tuple(genesis.normal(0.0, 1.0, size=(2, 2)).shape) == (2, 2)


def test_normal_gives_zero_gradients():
    m = genesis.zeros(3, requires_grad=True)
    s = genesis.ones(3, requires_grad=True)
    r = genesis.normal(m, s)
    assert r.requires_grad
    r.sum().backward()
    assert _np(m.grad).tolist() == [0, 0, 0] and _np(s.grad).tolist() == [0, 0, 0]


@pytest.mark.parametrize("fn,exc,msg", [
    (lambda: genesis.normal(genesis.zeros(3), -1.0), RuntimeError, "std >= 0.0"),
    (lambda: genesis.normal(genesis.zeros(3), genesis.tensor([1.0, -1.0, 1.0])), RuntimeError,
     "all elements of std >= 0.0"),
    (lambda: genesis.normal(0.0, 1.0), TypeError, "size"),
    (lambda: genesis.normal(genesis.zeros(3), genesis.ones(4)), RuntimeError, "3.*4|4.*3"),
    (lambda: genesis.normal(genesis.zeros(3, dtype=genesis.int64), 1.0), NotImplementedError,
     "Long"),
])
def test_normal_errors(fn, exc, msg):
    with pytest.raises(exc, match=msg):
        fn()


def test_bernoulli():
    genesis.manual_seed(5)
    p = genesis.tensor([0.0, 0.1, 0.5, 0.9, 1.0], dtype=genesis.float64)
    r = genesis.bernoulli(p.expand(N // 5, 5))
    assert r.dtype == genesis.float64 and tuple(r.shape) == (N // 5, 5)
    v = _np(r)
    assert set(np.unique(v)) <= {0.0, 1.0}
    for j, q in enumerate([0.0, 0.1, 0.5, 0.9, 1.0]):
        _within(v[:, j].mean(), q, math.sqrt(max(q * (1 - q), 1e-12) / v.shape[0]))
    v = _np(genesis.bernoulli(genesis.zeros(N), 0.25))
    _within(v.mean(), 0.25, math.sqrt(0.25 * 0.75 / N))
    x = genesis.full((4,), 0.5, requires_grad=True)
    genesis.bernoulli(x).sum().backward()
    assert _np(x.grad).tolist() == [0, 0, 0, 0]
    with pytest.raises(RuntimeError, match="p_in >= 0 && p_in <= 1"):
        genesis.bernoulli(genesis.full((3,), 1.5))
    with pytest.raises(NotImplementedError, match="Long"):
        genesis.bernoulli(genesis.ones(3, dtype=genesis.int64))


def test_multinomial_with_replacement_frequencies():
    genesis.manual_seed(6)
    w = np.array([1.0, 0.0, 3.0, 6.0, 0.0])
    r = genesis.multinomial(genesis.tensor(w), N, replacement=True)
    assert r.dtype == genesis.int64 and tuple(r.shape) == (N,)
    counts = np.bincount(_np(r), minlength=5)
    assert counts[1] == 0 and counts[4] == 0
    for c, q in zip(counts, w / w.sum()):
        _within(c / N, q, math.sqrt(max(q * (1 - q), 1e-12) / N))
    rows = genesis.multinomial(genesis.tensor([[0.0, 1.0], [1.0, 1.0], [5.0, 0.0]]), 2000, True)
    v = _np(rows)
    assert tuple(v.shape) == (3, 2000)
    assert (v[0] == 1).all() and (v[2] == 0).all()
    _within(v[1].mean(), 0.5, math.sqrt(0.25 / 2000))


def test_multinomial_without_replacement():
    genesis.manual_seed(7)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    rows = genesis.multinomial(genesis.tensor(np.tile(w, (N // 5, 1))), 4)
    v = _np(rows)
    assert tuple(v.shape) == (N // 5, 4)
    assert (np.sort(v, axis=1) == np.arange(4)).all()         # each row a permutation
    first = np.bincount(v[:, 0], minlength=4) / v.shape[0]
    for f, q in zip(first, w / w.sum()):
        _within(f, q, math.sqrt(q * (1 - q) / v.shape[0]))
    # the second draw follows the renormalised rest: P(second = 0 | first = 3) = 1/6
    sel = v[v[:, 0] == 3, 1]
    _within((sel == 0).mean(), 1 / 6, math.sqrt(5 / 36 / sel.size))
    # zero weights are never drawn while others remain
    v = _np(genesis.multinomial(genesis.tensor([[0.0, 1.0, 0.0, 1.0]] * 200), 2))
    assert (np.sort(v, axis=1) == [1, 3]).all()


@pytest.mark.parametrize("args,kw,msg", [
    ((genesis.ones(3), 4), {}, "cannot sample n_sample > prob_dist.size"),
    ((genesis.tensor([1.0, 0.0, 0.0]), 2), {}, "not enough non-negative category"),
    ((genesis.tensor([-1.0, 1.0]), 1, True), {}, "probability entry < 0"),
    ((genesis.tensor([0.0, 0.0]), 1, True), {}, "sum of probabilities <= 0"),
    ((genesis.ones(2, 2, 2), 1), {}, "prob_dist must be 1 or 2 dim"),
    ((genesis.ones(2, dtype=genesis.int64), 1), {}, "floating-point dtypes for input, got: Long"),
    ((genesis.ones(2), 0), {}, "n_sample <= 0"),
])
def test_multinomial_errors(args, kw, msg):
    with pytest.raises(RuntimeError, match=msg):
        genesis.multinomial(*args, **kw)


# ---------------------------------------------------------------- in-place fills
def test_uniform_normal_fills():
    genesis.manual_seed(8)
    t = genesis.empty(N, dtype=genesis.float64)
    assert M["uniform_"](t, -2.0, 3.0) is t
    v = _np(t)
    assert -2 <= v.min() and v.max() < 3
    _within(v.mean(), 0.5, 5 / math.sqrt(12 * N))
    M["uniform_"](t, **{"from": 1, "to": 2})
    assert 1 <= _np(t).min() and _np(t).max() < 2
    M["normal_"](t, 3.0, 0.5)
    _within(_np(t).mean(), 3.0, 0.5 / math.sqrt(N))
    _within(_np(t).std(), 0.5, 0.5 / math.sqrt(2 * N))
    M["exponential_"](t, 2.0)
    assert _np(t).min() >= 0
    _within(_np(t).mean(), 0.5, 0.5 / math.sqrt(N))
    M["geometric_"](t, 0.25)
    assert _np(t).min() >= 1 and np.all(_np(t) == np.round(_np(t)))
    _within(_np(t).mean(), 4.0, math.sqrt(0.75 / 0.0625 / N))
    M["log_normal_"](t, 0.0, 0.5)
    _within(np.log(_np(t)).std(), 0.5, 0.5 / math.sqrt(2 * N))
    M["cauchy_"](t, 1.0, 2.0)
    _within(np.median(_np(t)), 1.0, 2 * math.pi / 2 / math.sqrt(N))
    M["bernoulli_"](t, 0.2)
    _within(_np(t).mean(), 0.2, math.sqrt(0.16 / N))
    M["bernoulli_"](t, genesis.tensor(np.tile([0.0, 1.0], N // 2)))
    assert np.array_equal(_np(t), np.tile([0.0, 1.0], N // 2))


@pytest.mark.parametrize("dtype,args,lo,hi", [
    ("int64", (), 0, 2 ** 63 - 2), ("uint8", (), 0, 255), ("int8", (), 0, 127),
    ("bool", (), 0, 1), ("float32", (), 0, 2 ** 24), ("float16", (), 0, 2 ** 11),
    ("int32", (7,), 0, 6), ("int32", (-3, 4), -3, 3), ("float64", (5, 9), 5, 8),
])
def test_random_(dtype, args, lo, hi):
    genesis.manual_seed(9)
    t = genesis.zeros(20000, dtype=getattr(genesis, dtype))
    assert M["random_"](t, *args) is t
    v = _np(t).astype(np.float64)
    assert v.min() >= lo and v.max() <= hi
    if hi - lo < 1000:
        assert v.min() == lo and v.max() == hi
    else:
        assert v.max() > lo + (hi - lo) * 0.99


def test_fill_errors_and_autograd():
    with pytest.raises(NotImplementedError, match="Long"):
        M["uniform_"](genesis.zeros(3, dtype=genesis.int64))
    with pytest.raises(NotImplementedError, match="Long"):
        M["normal_"](genesis.zeros(3, dtype=genesis.int64))
    with pytest.raises(RuntimeError, match=r"from=3 > to=2"):
        M["uniform_"](genesis.zeros(3), 3, 2)
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        M["normal_"](genesis.zeros(3), 0, -1)
    with pytest.raises(RuntimeError, match="from=5 >= to=2"):
        M["random_"](genesis.zeros(3), 5, 2)
    with pytest.raises(RuntimeError, match="bernoulli_ expects p"):
        M["bernoulli_"](genesis.zeros(3), 1.5)
    w = genesis.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        M["uniform_"](w)
    with genesis.no_grad():                      # how nn.init fills parameters
        M["normal_"](w)
    assert w.requires_grad and w.is_leaf and _np(w).any()
    v0 = w._version
    with genesis.no_grad():
        M["uniform_"](w)
    assert w._version > v0
    # a non-leaf overwritten by a fill: its earlier history gets a zero gradient
    x = genesis.ones(3, requires_grad=True)
    y = x * 2
    M["uniform_"](y)
    assert y.requires_grad and y.grad_fn is not None
    (y * 3).sum().backward()
    assert _np(x.grad).tolist() == [0, 0, 0]
    with pytest.raises(TypeError, match="Generator"):
        genesis.rand(3, generator=np.random.default_rng())
