"""Gather/scatter and indexing primitives of the CUDA backend (genesis/backend/cuda/
index.py) against the CPU backend (NumPy) on small shapes, and the genesis ops built on
them (t[idx], t[mask], t[idx] = v, gather, scatter_add, index_select, embedding,
cross_entropy) on cuda tensors against the same ops on the CPU, gradients included."""
import ml_dtypes
import numpy as np
import pytest

import genesis
from genesis.backend import cpu
from genesis.backend.cuda import backend as cb, index as cidx

DTYPES = ["float32", "float64", "bfloat16", "int64", "bool"]


def rng(seed=0):
    return np.random.default_rng(seed)


def sample(shape, dtype, seed=0):
    x = rng(seed).standard_normal(shape) * 3
    if dtype == "bool":
        return x > 0
    return x.astype(getattr(ml_dtypes, dtype, dtype))


def dev(a):
    return cb.from_host(np.asarray(a))


def host(d):
    return cb.to_host(d)


def same(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape, (got.shape, want.shape)
    if got.dtype.name == "bfloat16":        # exact in float32, where NaN == NaN here
        got, want = got.astype(np.float32), want.astype(np.float32)
    np.testing.assert_array_equal(got, want)


MASK = rng(9).random((3, 4)) < 0.5
GET = [
    ([0, 2],),
    (slice(None), [1, -1, 3]),
    ([0, 2], slice(None), [1, 4]),                     # separated: broadcast dims first
    (np.array([[0, 1], [2, 0]]), 1),
    (1, [0, 1], 2),
    (slice(None), [[0], [3]], [1, 4]),                 # adjacent arrays broadcast (2, 2)
    (MASK,),
    (MASK, slice(1, 4)),
    (Ellipsis, [0, -1]),
    (None, [1], None, slice(1, 3)),
    ([0, 1], None, [1, 2]),
    (True,),
    (False, 0),
    (np.array(True), [1, 2]),
    (np.array([], np.int64),),
    (slice(None, None, -1), [2, 2, 0]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", range(len(GET)))
def test_advanced_getitem_and_setitem(k, dtype):
    index = GET[k]
    x = sample((3, 4, 5), dtype)
    want = cpu.getitem(x, index)
    same(host(cb.getitem(dev(x), index)), want)
    # setitem with a value broadcast over the result's last dim
    v = sample(want.shape[-1:], dtype, seed=1)
    y, d = x.copy(), dev(x)
    cpu.setitem(y, index, v)
    cb.setitem(d, index, dev(v))
    same(host(d), y)


def test_index_arrays_may_be_device_arrays_and_views():
    x = sample((4, 6), "float32")
    d = cb.getitem(dev(x), (slice(1, None), slice(None, None, 2)))   # a strided view
    i = dev(np.array([2, 0, 2]))
    same(host(cb.getitem(d, (i, slice(None)))), x[1:, ::2][[2, 0, 2]])
    m = dev(x[1:, ::2] > 0)
    same(host(cb.getitem(d, (m,))), x[1:, ::2][x[1:, ::2] > 0])


def test_setitem_duplicates_last_write_wins_and_scalars():
    x, d = np.zeros((5, 2)), dev(np.zeros((5, 2)))
    idx = np.array([1, 3, 1, 1, 0])
    v = rng(2).standard_normal((5, 2))
    x[idx] = v
    cb.setitem(d, (idx,), dev(v))
    same(host(d), x)
    x[[4, 4]] = 7.5
    cb.setitem(d, ([4, 4],), 7.5)
    same(host(d), x)
    x[x > 0.5] = -1.0                                   # a mask from the array itself
    cb.setitem(d, (cb.greater(d, 0.5),), -1.0)
    same(host(d), x)


def test_setitem_reads_overlapping_value_first():
    x = np.arange(6.0)
    d = dev(x)
    x[[1, 2, 3]] = x[[0, 1, 2]]
    cb.setitem(d, ([1, 2, 3],), cb.getitem(d, ([0, 1, 2],)))
    same(host(d), x)
    x = np.arange(6.0)
    d = dev(x)
    x[[1, 2, 3]] = x[0:3]
    cb.setitem(d, ([1, 2, 3],), cb.getitem(d, (slice(0, 3),)))
    same(host(d), x)


@pytest.mark.parametrize("index,exc,match", [
    (([0, 3],), IndexError, "index 3 is out of bounds for axis 0 with size 3"),
    ((slice(None), [-5]), IndexError, "index -5 is out of bounds for axis 1 with size 4"),
    (([0, 1], [0, 1, 2]), IndexError, r"shape mismatch.*\(2,\) \(3,\)"),
    ((np.ones((2, 4), bool),), IndexError, "boolean index did not match"),
    (([0], 0, 0, [0]), IndexError, "too many indices"),
    ((np.array([0.5]),), IndexError, "integer"),
])
def test_index_errors(index, exc, match):
    x = sample((3, 4), "float32")
    with pytest.raises(exc, match=match):
        cpu.getitem(x, index)
    with pytest.raises(exc, match=match):
        cb.getitem(dev(x), index)


def test_setitem_value_shape_error():
    with pytest.raises(ValueError, match="could not be broadcast"):
        cb.setitem(dev(np.zeros((3, 4))), ([0, 1],), dev(np.ones(3)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_take_and_put_along_axis(dtype, axis):
    x = sample((3, 4, 5), dtype)
    shp = list(x.shape)
    shp[axis] = 6
    shp[0 if axis != 0 else 1] = 1                     # broadcasts over one other dim
    idx = rng(3).integers(-x.shape[axis], x.shape[axis], shp)
    same(host(cb.take_along_axis(dev(x), dev(idx), axis)), cpu.take_along_axis(x, idx, axis))
    full = np.take_along_axis(np.zeros(x.shape), idx, axis).shape
    v = sample(full, dtype, seed=4)
    y, d = x.copy(), dev(x)
    cpu.put_along_axis(y, idx, v, axis)
    cb.put_along_axis(d, dev(idx), dev(v), axis)
    same(host(d), y)


def test_along_axis_errors():
    with pytest.raises(ValueError, match="same number of dimensions"):
        cb.take_along_axis(dev(np.zeros((2, 3))), dev(np.zeros(2, np.int64)), 0)
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 1 with size 3"):
        cb.take_along_axis(dev(np.zeros((2, 3))), dev(np.array([[3]])), 1)


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16", "int64",
                                   "int32", "int8", "bool"])
def test_add_at_accumulates_duplicates(dtype):
    x = sample((6, 3), dtype)
    idx = np.array([1, 4, 1, 1, 0, 4, 5])
    v = sample((7, 3), dtype, seed=5)
    y, d = x.copy(), dev(x)
    cpu.add_at(y, (idx,), v)
    cb.add_at(d, (dev(idx),), dev(v))
    got = host(d)
    if dtype in ("float32", "float64"):
        np.testing.assert_allclose(got, y, rtol=1e-6 if dtype == "float32" else 1e-14)
    elif dtype in ("bfloat16", "float16"):
        # accumulated in float32 and rounded once (NumPy rounds after every add)
        assert got.dtype == y.dtype
        np.testing.assert_allclose(got.astype(np.float32), y.astype(np.float32),
                                   rtol=2e-2, atol=2e-2)
    else:
        same(got, y)


def test_add_at_mesh_scalar_and_view():
    x = np.zeros((4, 5), np.float32)
    d = dev(x)
    rows = np.array([[0, 3, 3], [1, 1, 1]])
    mesh = (rows, np.arange(3).reshape(1, 3))
    np.add.at(x, mesh, 1)
    cb.add_at(d, mesh, 1)
    same(host(d), x)
    big = np.zeros((4, 10), np.float32)
    dbig = dev(big)
    np.add.at(big[:, ::2], mesh, 2.5)                  # into a strided view
    cb.add_at(cb.getitem(dbig, (slice(None), slice(None, None, 2))), mesh, 2.5)
    same(host(dbig), big)


@pytest.mark.parametrize("op", ["amax", "amin", "prod"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16", "int64",
                                   "int32", "int8", "uint8", "bool"])
def test_reduce_at(op, dtype):
    x = sample((5, 2), dtype)
    v = sample((6, 2), dtype, seed=6)
    if dtype.startswith("float") or dtype == "bfloat16":
        x[0, 0], v[2, 1] = np.nan, np.nan                # NaN propagates as np.maximum
    idx = np.array([1, 1, 2, 0, 1, 4])
    y, d = x.copy(), dev(x)
    cpu.reduce_at(op, y, (idx,), v)
    cb.reduce_at(op, d, (dev(idx),), dev(v))
    same(host(d), y)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nonzero(dtype):
    x = sample((3, 4), dtype)
    x[1] = 0
    same(host(cb.nonzero(dev(x))), cpu.nonzero(x))


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "int64"])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_stable_nan_last(dtype, descending):
    x = np.round(sample((3, 7), dtype).astype(np.float64)).astype(
        getattr(ml_dtypes, dtype, dtype))               # many ties: stability matters
    if dtype.startswith("float"):
        x[0, [1, 4]] = np.nan
    for axis in (0, 1):
        want = cpu.sort(x, axis, descending, True)
        got = cb.sort(dev(x), axis, descending, True)
        for g, w in zip(got, want):
            same(host(g), w)


@pytest.mark.parametrize("shape,axis", [((300,), 0), ((2, 3, 4), 1), ((5, 1), 1), ((3, 0), 1)])
@pytest.mark.parametrize("dtype", ["float32", "bool"])
def test_sort_shapes(shape, axis, dtype):
    # 300 elements: several blocks of ranks and of comparisons per row (the merge passes
    # of long rows: tests/cuda/test_cuda_sort.py)
    x = np.round(sample(shape, dtype))
    if dtype == "float32" and x.size > 3:
        x.reshape(-1)[[0, 3]] = [np.nan, -0.0]
    want = cpu.sort(x, axis, True, True)
    for g, w in zip(cb.sort(dev(x), axis, True, True), want):
        same(host(g), w)


def test_unique_and_searchsorted():
    x = np.array([3, 1, 3, 2, 1, 7], np.int64)
    for flags in [(False, False), (True, False), (True, True)]:
        want = cpu.unique(x, True, *flags)
        got = cb.unique(dev(x), True, *flags)
        for g, w in zip(got if isinstance(got, tuple) else (got,),
                        want if isinstance(want, tuple) else (want,)):
            same(host(g), w)
    seq = np.array([1.0, 2.0, 2.0, 5.0])
    vals = np.array([[2.0, 0.0], [6.0, 2.5]])
    for side in ("left", "right"):
        same(host(cb.searchsorted(dev(seq), dev(vals), side)),
             cpu.searchsorted(seq, vals, side=side).astype(np.int64))


# ---------------------------------------------------------------- genesis level
def _pair(x, requires_grad=False):
    return (genesis.tensor(x, requires_grad=requires_grad),
            genesis.tensor(x, device="cuda", requires_grad=requires_grad))


def _close(c, g, tol=1e-12):
    assert g.device.type == "cuda" and g.dtype == c.dtype and g.shape == c.shape
    np.testing.assert_allclose(g.detach().cpu().numpy(), c.detach().numpy(), rtol=tol,
                               atol=tol)


needs_reduce = pytest.mark.skipif(not hasattr(cb, "amin"),
                                  reason="the CUDA reductions are not there yet")

OPS = {
    "index": lambda t, be: t[be([2, 0, 2])] * 2,
    "index_pair": lambda t, be: t[be([1, 2]), 1:] * 2,
    "mask": lambda t, be: t[t > 0] * 3,
    "gather": lambda t, be: genesis.gather(t, 1, be([[0, 3], [1, 1], [2, 0]])),
    "index_select": lambda t, be: genesis.index_select(t, 0, be([2, 2, 0])),
    "scatter_add": lambda t, be: genesis.zeros(3, 5, dtype=t.dtype, device=t.device)
    .scatter_add(1, be([[0, 0], [4, 4], [1, 0]]), t[:, :2]),
    "embedding": lambda t, be: genesis.nn.functional.embedding(be([[0, 2], [2, 1]]), t),
    "sort": lambda t, be: genesis.sort(t, dim=1, descending=True)[0] * 2,
    "topk": lambda t, be: genesis.topk(t, 2, dim=0)[0] * 2,
    "cross_entropy": lambda t, be: genesis.nn.functional.cross_entropy(t, be([3, 0, 1])),
}


@needs_reduce
@pytest.mark.parametrize("name", list(OPS))
def test_genesis_ops_match_cpu_with_gradients(name):
    x = rng(7).standard_normal((3, 4))
    c, g = _pair(x, requires_grad=True)
    outs = []
    for t in (c, g):
        def be(v, t=t):
            return genesis.tensor(v, dtype=genesis.int64, device=t.device)
        y = OPS[name](t, be)
        (y * y).sum().backward()
        outs.append(y)
    _close(*outs)
    _close(c.grad, g.grad)


def test_genesis_setitem_on_cuda():
    x = rng(8).standard_normal((4, 3)).astype(np.float32)
    c, g = _pair(x)
    for t in (c, g):
        t[genesis.tensor([3, 0, 3], device=t.device)] = genesis.tensor(
            [1.0, 2.0, 3.0], device=t.device)
        t[t < -0.5] = 0.0
        t[[1, 2], 0] = 5.0
    _close(c, g, 0)


# ---------------------------------------------------------------- device-side indexing
def _on_device(index):
    """index with every array (and list) as a device array."""
    return tuple(dev(np.asarray(i)) if isinstance(i, (list, np.ndarray)) else i
                 for i in index)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int64", "bool"])
@pytest.mark.parametrize("k", range(len(GET)))
def test_device_index_arrays_getitem_and_setitem(k, dtype):
    index = GET[k]
    x = sample((3, 4, 5), dtype)
    want = cpu.getitem(x, index)
    same(host(cb.getitem(dev(x), _on_device(index))), want)
    v = sample(want.shape, dtype, seed=1)
    y, d = x.copy(), dev(x)
    cpu.setitem(y, index, v)
    cb.setitem(d, _on_device(index), dev(v))
    same(host(d), y)


SET_DUP = [
    (np.array([1, 2, 1, 1, 0, -2]),),                              # negatives alias
    (np.array([[0, 2], [2, 0], [0, 0]]), np.array([1, 1])),         # broadcast (3, 2)
    (slice(None), np.array([4, 0, 4, -1], np.int32)),               # int32, plain dim first
    (np.array([2, 2, 2]), slice(1, 3), np.array([0, 3, 0])),        # separated arrays
    (np.array([1, 1]), slice(None), MASK[0]),                      # array with a mask
]


@pytest.mark.parametrize("k", range(len(SET_DUP)))
@pytest.mark.parametrize("view", [False, True])
def test_device_setitem_duplicates_last_write_wins(k, view):
    base = sample((3, 5, 4), "float64")
    y = base.copy()
    d = dev(base)
    if view:                                        # a reversed, strided target
        sl = (slice(None, None, -1), slice(None), slice(None))
        y, d = y[sl], cb.getitem(d, sl)
    index = SET_DUP[k]
    want = y[index].shape
    v = rng(3).standard_normal(want)
    y[index] = v
    cb.setitem(d, _on_device(index), dev(v))
    same(host(d), y)


def test_device_index_syncs_once(monkeypatch):
    calls = []
    real = cb.to_host
    monkeypatch.setattr(cidx._b, "to_host", lambda a: calls.append(a.shape) or real(a))
    x = sample((5, 6), "float32")
    d = dev(x)
    i, j = dev(np.array([[4, -1], [0, 2]])), dev(np.array([5, -6]))
    got = cb.getitem(d, (i, j))
    assert calls == [(4,)]                # the extremes of both arrays in one copy
    calls.clear()
    cb.setitem(d, (i, j), 7.0)
    assert calls == [(4,)]
    monkeypatch.undo()
    same(host(got), x[[[4, -1], [0, 2]], [5, -6]])
    x[[[4, -1], [0, 2]], [5, -6]] = 7.0
    same(host(d), x)


@pytest.mark.parametrize("index,match", [
    ((np.array([0, 3]),), "index 3 is out of bounds for axis 0 with size 3"),
    ((slice(None), np.array([1, -5])), "index -5 is out of bounds for axis 1 with size 4"),
    ((np.array([0]), np.array([7, 1])), "index 7 is out of bounds for axis 1 with size 4"),
    ((np.array([0, 1]), np.array([0, 1, 2])), r"shape mismatch.*\(2,\) \(3,\)"),
    ((np.ones((2, 4), bool),), "boolean index did not match"),
    ((np.array([0.5]),), "integer"),
])
def test_device_index_errors(index, match):
    x = sample((3, 4), "float32")
    with pytest.raises(IndexError, match=match):
        cpu.getitem(x, index)
    with pytest.raises(IndexError, match=match):
        cb.getitem(dev(x), _on_device(index))
    with pytest.raises(IndexError, match=match):
        cb.setitem(dev(x), _on_device(index), 1.0)


def test_device_index_empty_and_float_empty():
    x = sample((3, 4), "float32")
    e = dev(np.array([], np.float32))                # empty float arrays index as int
    same(host(cb.getitem(dev(x), (e,))), x[np.array([], np.int64)])
    d = dev(x)
    cb.setitem(d, (slice(None), e), 1.0)
    same(host(d), x)
    allfalse = dev(np.zeros((3, 4), bool))
    same(host(cb.getitem(dev(x), (allfalse,))), x[np.zeros((3, 4), bool)])


# ---------------------------------------------------------------- nonzero
@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 4), (2, 3, 4), (2, 0, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16", "int8",
                                   "int64", "bool"])
def test_nonzero_shapes(shape, dtype):
    x = sample(shape, dtype, seed=11)
    if x.ndim == 2:
        x[1] = 0
    same(host(cb.nonzero(dev(x))), cpu.nonzero(x))


def test_nonzero_special_values_zero_dim_and_views():
    x = np.array([0.0, -0.0, np.nan, np.inf, 1e-45, 0.0], np.float32)
    same(host(cb.nonzero(dev(x))), cpu.nonzero(x))
    for v in (True, False):
        same(host(cb.nonzero(dev(np.array(v)))), cpu.nonzero(np.array(v)))
    same(host(cb.nonzero(dev(np.zeros((3, 2))))), cpu.nonzero(np.zeros((3, 2))))
    y = sample((4, 6), "int64", seed=12) * (rng(13).random((4, 6)) < 0.5)
    sl = (slice(None, None, -1), slice(1, None, 2))
    same(host(cb.nonzero(cb.getitem(dev(y), sl))), cpu.nonzero(y[sl]))
    same(host(cb.nonzero(cb.transpose(dev(y), (1, 0)))), cpu.nonzero(y.T))


# ---------------------------------------------------------------- searchsorted
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16", "int64",
                                   "int8", "bool"])
@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_matches_numpy(dtype, side):
    seq = np.sort(np.round(sample((13,), dtype, seed=14).astype(np.float64)).astype(
        getattr(ml_dtypes, dtype, dtype)))               # many duplicates
    vals = np.round(sample((3, 5), dtype, seed=15).astype(np.float64)).astype(seq.dtype)
    if dtype.startswith("float") or dtype == "bfloat16":
        seq[-2:] = np.nan                                # NaN sorts last
        vals[0, :2] = np.nan
    # ml_dtypes' bfloat16 compare is not NaN-aware: NumPy's answer in float32 (exact)
    f = (lambda a: a.astype(np.float32)) if dtype == "bfloat16" else (lambda a: a)
    want = np.searchsorted(f(seq), f(vals), side=side).astype(np.int64)
    same(host(cb.searchsorted(dev(seq), dev(vals), side)), want)
    # non-contiguous both: a strided sequence and transposed values
    seq2 = np.repeat(seq, 2)
    got = cb.searchsorted(cb.getitem(dev(seq2), (slice(None, None, 2),)),
                          cb.transpose(dev(vals), (1, 0)), side)
    same(host(got), want.T)


@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_sorter_edges_and_mixed_dtypes(side):
    seq = np.array([5.0, np.nan, 1.0, 3.0, 3.0, 2.0])
    sorter = np.argsort(seq, kind="stable")
    vals = np.array([0.0, 3.0, 3.5, np.nan, 9.0, 1.0])
    want = np.searchsorted(seq, vals, side=side, sorter=sorter)
    same(host(cb.searchsorted(dev(seq), dev(vals), side, dev(sorter.astype(np.int32)))),
         want.astype(np.int64))
    for n in (0, 1, 2, 3, 4, 7, 8, 9):                 # every halving count
        s = np.arange(n, dtype=np.float64)
        v = np.arange(-1, n + 1) - 0.5 * (side == "left")
        v = np.concatenate([v, np.arange(n, dtype=np.float64)])
        same(host(cb.searchsorted(dev(s), dev(v), side)),
             np.searchsorted(s, v, side=side).astype(np.int64))
    ints = np.array([1, 3, 3, 8], np.int64)             # int sequence, float values
    v = np.array([2.5, 3.0, 8.5])
    same(host(cb.searchsorted(dev(ints), dev(v), side)),
         np.searchsorted(ints, v, side=side).astype(np.int64))
    got = host(cb.searchsorted(dev(ints), 3.5, side))     # a Python number: 0-d
    assert got.shape == () and got.dtype == np.int64
    assert got == np.searchsorted(ints, 3.5, side=side)
    empty = cb.searchsorted(dev(ints), dev(np.zeros((2, 0))), side)
    assert host(empty).shape == (2, 0)


def test_searchsorted_errors():
    with pytest.raises(ValueError, match="object too deep"):
        cb.searchsorted(dev(np.zeros((2, 2))), dev(np.zeros(3)))
    with pytest.raises(ValueError, match="side"):
        cb.searchsorted(dev(np.zeros(2)), dev(np.zeros(3)), "middle")
    with pytest.raises(ValueError, match="sorter.size must equal a.size"):
        cb.searchsorted(dev(np.zeros(2)), dev(np.zeros(3)), "left", dev(np.arange(3)))


@pytest.mark.parametrize("op", ["amax", "amin"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_reduce_at_contended_and_strided(op, dtype):
    # 3000 values onto 4 rows of a reversed strided view: every lane of a block races
    x = sample((8, 3), dtype, seed=16)
    v = sample((3000, 3), dtype, seed=17)
    idx = rng(18).integers(-4, 4, 3000)
    if dtype != "int64":
        v[1234, 2] = np.nan
    y, d = x.copy(), dev(x)
    sl = (slice(None, None, -2), slice(None))
    cpu.reduce_at(op, y[sl], (idx,), v)
    cb.reduce_at(op, cb.getitem(d, sl), (dev(idx),), dev(v))
    same(host(d), y)


def test_device_setitem_duplicates_over_more_dims_than_a_launch():
    # B plus four plain dims that cannot merge: the launcher splits the walk
    x = sample((4, 4, 4, 4, 4), "float32", seed=19)
    index = (np.array([[1, 3], [1, -3]]), slice(None, None, 2), slice(None, None, 2),
             slice(None, None, 2), slice(None, None, 2))
    v = sample(x[index].shape, "float32", seed=20)
    y, d = x.copy(), dev(x)
    y[index] = v
    cb.setitem(d, _on_device(index), dev(v))
    same(host(d), y)
