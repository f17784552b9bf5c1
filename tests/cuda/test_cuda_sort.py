"""Device sort and unique (genesis/backend/cuda/sort.py) against the CPU backend: values
bit for bit (signed zeros and NaN included), int64 indices exactly. Long rows run the
tile + merge path on small shapes by lowering sort.SHORT and sort.RUN."""
import ml_dtypes
import numpy as np
import pytest

import genesis
from genesis.backend import cpu
from genesis.backend.cuda import backend as cb
from genesis.backend.cuda import sort as cs

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int8", "uint8",
          "bool"]


def np_dtype(name):
    return np.dtype(getattr(ml_dtypes, name, name))


def data(shape, dtype, seed=0):
    """Few distinct values (many ties), with NaN, -0.0 and 0.0 mixed in for floats."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-4, 5, shape).astype(np.float64)
    dt = np_dtype(dtype)
    if dt.kind == "f":
        flat = x.reshape(-1)
        k = flat.size
        flat[rng.random(k) < 0.15] = np.nan
        flat[rng.random(k) < 0.1] = -0.0
        flat[rng.random(k) < 0.1] = 0.0
        flat[rng.random(k) < 0.05] = np.inf
        flat[rng.random(k) < 0.05] = -np.inf
    elif dt.kind == "u":
        x = np.abs(x) * 30
    return x.astype(dt)


def same(got, want):
    got = cb.to_host(got)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == np.ascontiguousarray(want).tobytes(), (got, want)


def check_sort(x, axis, descending):
    want = cpu.sort(x, axis, descending, True)
    got = cb.sort(cb.from_host(x), axis, descending, True)
    same(got[1], want[1])
    same(got[0], want[0])


@pytest.fixture
def small_tiles(monkeypatch):
    """Merge passes on small shapes: one rank pass up to 8 elements, runs of 4."""
    monkeypatch.setattr(cs, "SHORT", 8)
    monkeypatch.setattr(cs, "RUN", 4)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_short_rows_every_axis(dtype, descending):
    x = data((3, 5, 6), dtype)
    for axis in (0, -1):
        check_sort(x, axis, descending)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_long_rows_merge_passes(dtype, descending, small_tiles):
    check_sort(data((3, 37), dtype, seed=1), 1, descending)
    if dtype == "float32":
        check_sort(data((21, 3), dtype, seed=1), 0, descending)


@pytest.mark.parametrize("n", [9, 16, 17, 33, 100])
def test_long_row_lengths(n, small_tiles):
    """Partial last tiles and runs, odd run counts, one to five merge passes."""
    x = data((2, n), "float32", seed=n)
    for descending in (False, True):
        check_sort(x, 1, descending)


def test_run_of_two_and_many_rows(monkeypatch):
    monkeypatch.setattr(cs, "SHORT", 2)
    monkeypatch.setattr(cs, "RUN", 2)
    check_sort(data((9, 11), "float64", seed=2), 1, False)
    check_sort(data((11, 5), "int64", seed=3), 0, True)


def test_default_run_length(monkeypatch):
    """Tiles of the real RUN and merges of them (SHORT lowered to RUN: the interpreter
    is slow at the real SHORT)."""
    monkeypatch.setattr(cs, "SHORT", cs.RUN)
    x = np.random.default_rng(4).standard_normal(2 * cs.RUN + 7).astype(np.float32)
    x[::97] = np.nan
    x[::89] = 0.5                                 # ties far apart
    check_sort(x, 0, False)


def test_distinct_and_sorted_inputs(small_tiles):
    x = np.random.default_rng(5).standard_normal((4, 50))
    check_sort(x, 1, False)
    check_sort(np.sort(x, 1), 1, True)            # reversed runs
    check_sort(np.full((2, 23), 7, np.int32), 1, True)   # all ties: positions kept
    check_sort(np.array([np.nan] * 9 + [-0.0, 0.0] * 5), 0, True)


def test_noncontiguous_input(small_tiles):
    x = data((6, 40), "float32", seed=6)
    want = cpu.sort(x[::2, ::-3].T, 0, False, True)
    got = cb.sort(cb.getitem(cb.from_host(x), (slice(None, None, 2),
                                                slice(None, None, -3))), 1, False, True)
    same(got[0], np.ascontiguousarray(want[0].T))
    same(got[1], np.ascontiguousarray(want[1].T))


@pytest.mark.parametrize("shape,axis", [((), 0), ((0,), 0), ((3, 0), 1), ((0, 4), 1),
                                        ((1,), 0), ((5, 1), 1)])
def test_empty_and_degenerate(shape, axis):
    x = data(shape, "float32") if 0 not in shape else np.zeros(shape, np.float32)
    want = cpu.sort(x, axis, False, True) if x.ndim else (x, np.zeros((), np.int64))
    got = cb.sort(cb.from_host(x), axis, False, True)
    same(got[0], want[0])
    same(got[1], want[1])


def test_tensor_api_sort_argsort_topk(small_tiles):
    x = data((4, 21), "float32", seed=7)
    t, c = genesis.tensor(x), genesis.tensor(x, device="cuda")
    for dim, desc in ((0, False), (1, True)):
        w = genesis.sort(t, dim=dim, descending=desc)
        g = genesis.sort(c, dim=dim, descending=desc)
        assert g[0].device.type == "cuda"
        np.testing.assert_array_equal(g[0].cpu().numpy(), w[0].numpy())
        np.testing.assert_array_equal(g[1].cpu().numpy(), w[1].numpy())
        np.testing.assert_array_equal(genesis.argsort(c, dim, desc).cpu().numpy(),
                                      genesis.argsort(t, dim, desc).numpy())
    xs = np.random.default_rng(8).standard_normal((3, 30)).astype(np.float32)
    w, g = genesis.topk(genesis.tensor(xs), 5), genesis.topk(genesis.tensor(xs).cuda(), 5)
    np.testing.assert_array_equal(g[0].cpu().numpy(), w[0].numpy())
    np.testing.assert_array_equal(g[1].cpu().numpy(), w[1].numpy())


def test_sort_gradient_on_device(small_tiles):
    x = np.random.default_rng(9).standard_normal((2, 19))
    c = genesis.tensor(x, device="cuda", requires_grad=True)
    v, _ = genesis.sort(c, dim=1, descending=True)
    (v * genesis.arange(19, device="cuda", dtype=genesis.float64)).sum().backward()
    order = np.argsort(-x, axis=1, kind="stable")
    want = np.zeros_like(x)
    np.put_along_axis(want, order, np.arange(19.0)[None].repeat(2, 0), 1)
    np.testing.assert_array_equal(c.grad.cpu().numpy(), want)


# ---------------------------------------------------------------- unique
FLAGS = [(False, False), (True, False), (False, True), (True, True)]


def check_unique(x, flags):
    want = cpu.unique(x, True, *flags)
    got = cb.unique(cb.from_host(x), True, *flags)
    if not isinstance(want, tuple):
        want, got = (want,), (got,)
    assert len(got) == len(want)
    host = [cb.to_host(g) for g in got]
    for g, w in zip(host, want):
        assert g.dtype == w.dtype and g.shape == w.shape
    # the uniques and counts exactly; the inverse may order NaNs (each its own value)
    # otherwise than NumPy's unstable sort does, so it is checked by reconstruction
    np.testing.assert_array_equal(host[0], want[0])
    if flags[1]:
        np.testing.assert_array_equal(host[-1], want[-1])
    if flags[0]:
        inv = host[1]
        np.testing.assert_array_equal(host[0][inv], x)
        nan = np.isnan(x.astype(np.float64)) if x.dtype.kind == "f" else np.zeros(x.shape,
                                                                                  bool)
        np.testing.assert_array_equal(inv[~nan], want[1][~nan])
        assert sorted(inv[nan]) == sorted(want[1][nan])     # each NaN its own slot


@pytest.mark.parametrize("dtype,flags", [(d, f) for d in DTYPES for f in FLAGS
                                         if d == "float32" or f[0] == f[1]])
def test_unique(dtype, flags):
    check_unique(data((3, 13), dtype, seed=10), flags)


@pytest.mark.parametrize("flags", FLAGS)
def test_unique_long_input_and_edge_shapes(flags, small_tiles):
    check_unique(data((5, 9), "float64", seed=11), flags)
    check_unique(np.array(2.5, np.float32), flags)
    check_unique(np.zeros((0, 3), np.float32), flags)
    check_unique(np.array([-0.0, 0.0, -0.0]), flags)
    check_unique(np.full(20, np.nan, np.float32), flags)


def test_unique_with_axis_stopgap():
    x = np.array([[1, 2], [3, 4], [1, 2]], np.int64)
    for axis in (0, 1):
        want = cpu.unique(x, True, True, True, axis)
        got = cb.unique(cb.from_host(x), True, True, True, axis)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(cb.to_host(g), w)


def test_tensor_api_unique():
    x = data((4, 9), "int64", seed=12)
    w = genesis.unique(genesis.tensor(x), return_inverse=True, return_counts=True)
    g = genesis.unique(genesis.tensor(x, device="cuda"), return_inverse=True,
                       return_counts=True)
    for a, b in zip(g, w):
        assert a.device.type == "cuda"
        np.testing.assert_array_equal(a.cpu().numpy(), b.numpy())


# ---------------------------------------------------------------- randperm
def test_randperm_through_merge_passes(small_tiles):
    genesis.manual_seed(3)
    p = genesis.randperm(200, device="cuda").cpu().numpy()
    assert p.dtype == np.int64
    np.testing.assert_array_equal(np.sort(p), np.arange(200))
    assert (p != np.arange(200)).mean() > 0.9
    q = genesis.randperm(200, device="cuda", dtype=genesis.int32).cpu().numpy()
    assert q.dtype == np.int32 and not np.array_equal(p, q)
    genesis.manual_seed(3)
    np.testing.assert_array_equal(genesis.randperm(200, device="cuda").cpu().numpy(), p)
