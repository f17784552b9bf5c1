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
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "int64"])
def test_reduce_at(op, dtype):
    x = sample((5, 2), dtype)
    v = sample((6, 2), dtype, seed=6)
    if dtype.startswith("float"):
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
def test_sort_shapes_long_rows_and_host_path(shape, axis, dtype, monkeypatch):
    # 300 elements: several blocks of ranks and of comparisons per row
    x = np.round(sample(shape, dtype))
    if dtype == "float32" and x.size > 3:
        x.reshape(-1)[[0, 3]] = [np.nan, -0.0]
    want = cpu.sort(x, axis, True, True)
    for limit in (8192, 2):                           # the device kernel, the host stopgap
        monkeypatch.setattr(cidx, "_SORT_MAX", limit)
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
