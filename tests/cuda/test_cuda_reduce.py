"""CUDA reductions and scans (backend/cuda/reduce.py) against NumPy / the CPU backend:
values, result dtypes and shapes over axes, keepdims, dtypes, strided inputs, NaNs and
empty axes; then the genesis ops that use them on 'cuda' against the same ops on the CPU.

Tolerances: integer, bool, max/min and arg results are exact. Float sums and products
differ from NumPy's only in the order of the additions (float32 accumulates in a tree of
BLOCK_N lanes, NumPy pairwise): a few ulps. float16/bfloat16 accumulate in float32 and
round once, so they match NumPy on float32 data rounded at the end, to one ulp.
"""
import ml_dtypes
import numpy as np
import pytest

import genesis
from genesis.backend import cpu
from genesis.backend.cuda import backend as B, reduce as R

DTYPES = ["float32", "float64", "float16", "bfloat16", "int32", "int64", "bool"]
LOW = ("float16", "bfloat16")


def np_dtype(name):
    return np.dtype(getattr(ml_dtypes, name, name))


def sample(dtype, shape=(3, 4, 5), seed=0, nan=False):
    r = np.random.default_rng(seed)
    if dtype == "bool":
        return r.random(shape) < 0.6
    if dtype.startswith("int"):
        return r.integers(-3, 4, shape).astype(dtype)
    x = r.uniform(0.5, 1.5, shape) * np.where(r.random(shape) < 0.3, -1, 1)
    if nan:
        x.flat[[3, 7, 20]] = np.nan
    return x.astype(np_dtype(dtype))


def variants(x):
    """(host array, device array) pairs: contiguous, and a strided view of a bigger one."""
    big = np.zeros((x.shape[2], x.shape[0] * 2, x.shape[1]), x.dtype)
    big[:, ::2] = x.transpose(2, 0, 1)
    dbig = B.from_host(big)
    view = B.transpose(B.getitem(dbig, (slice(None), slice(None, None, 2))), (1, 2, 0))
    return [(x, B.from_host(x)), (x, view)]


def reference(name, x, axis, keepdims):
    """NumPy's answer; low precision computed in float32 and rounded once."""
    if x.dtype.name in LOW and name in ("sum", "prod"):
        return getattr(np, name)(x.astype(np.float32), axis,
                                 keepdims=keepdims).astype(x.dtype)
    return getattr(np, name)(x, axis, keepdims=keepdims)


def assert_close(got, want, dtype, name):
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype)
    if name in ("sum", "prod", "cumsum", "cumprod") and want.dtype.kind == "f":
        tol = {"float32": 1e-5, "float64": 1e-13, "float16": 1e-3, "bfloat16": 8e-3}
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64),
                                   rtol=tol[dtype], atol=tol[dtype])
    else:
        np.testing.assert_array_equal(got, want)


# (strided input, axis, keepdims): a middle axis and (0, 2) reduce without a copy, the
# strided (2, 0, 1) needs one
CASES = [(0, None, False), (0, 1, False), (0, (0, 2), True), (1, -1, False),
         (1, (2, 0, 1), False), (1, (), True), (1, 0, True)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sum", "prod", "amax", "amin", "all", "any"])
def test_reductions_match_numpy(name, dtype):
    v = variants(sample(dtype))
    for strided, axis, keepdims in CASES:
        x, d = v[strided]
        got = B.to_host(getattr(B, name)(d, axis, keepdims=keepdims))
        assert_close(got, reference(name, x, axis, keepdims), dtype, name)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_nan_propagates_as_numpy(dtype):
    x = sample(dtype, nan=True)
    d = B.from_host(x)
    for axis in (None, 2, (0, 1)):
        for name in ("amax", "amin", "sum", "any"):
            got = B.to_host(getattr(B, name)(d, axis))
            want = reference(name, x, axis, False)
            assert got.dtype == want.dtype
            nan = np.isnan(want.astype(np.float32))
            np.testing.assert_array_equal(np.isnan(got.astype(np.float32)), nan)
            assert_close(got[~nan], want[~nan], dtype, name)
        for name in ("argmax", "argmin"):
            if isinstance(axis, tuple):
                axis = 0
            got = B.to_host(getattr(B, name)(d, axis))
            np.testing.assert_array_equal(got, getattr(np, name)(x, axis))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_arg_reductions_take_the_first_extreme(name, dtype):
    x = sample(dtype, seed=1)
    if dtype in ("float32", "float64"):
        x[0, 0, :] = [-np.inf, -np.inf, 2.0, 2.0, np.inf]     # ties and infinities
    v = variants(x)
    for strided, axis, keepdims in [(0, None, False), (0, 1, True), (1, 0, False),
                                    (1, -1, True), (1, None, True)]:
        h, d = v[strided]
        got = B.to_host(getattr(B, name)(d, axis, keepdims=keepdims))
        want = getattr(np, name)(h, axis, keepdims=keepdims)
        assert got.dtype == np.int64 and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    all_inf = B.from_host(np.full((2, 3), -np.inf))
    np.testing.assert_array_equal(B.to_host(B.argmax(all_inf, 1)), [0, 0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_scans_match_numpy(name, dtype):
    v = variants(sample(dtype, seed=2))
    for strided, axis in [(0, 0), (0, None), (1, 1), (1, -1)]:
        x, d = v[strided]
        got = B.to_host(getattr(B, name)(d, axis))
        if dtype in LOW:
            want = getattr(np, name)(x.astype(np.float32), axis).astype(x.dtype)
        else:
            want = getattr(np, name)(x, axis)
        assert_close(got, want, dtype, name)


def test_scan_across_chunks(monkeypatch):
    # rows longer than one block: the running total carries from chunk to chunk
    monkeypatch.setattr(R, "_MAX_BLOCK_N", 16)
    x = np.random.default_rng(3).uniform(0.9, 1.1, (3, 53))
    d = B.from_host(x)
    np.testing.assert_allclose(B.to_host(B.cumsum(d, 1)), np.cumsum(x, 1), rtol=1e-13)
    np.testing.assert_allclose(B.to_host(B.cumprod(d, 1)), np.cumprod(x, 1), rtol=1e-13)
    np.testing.assert_array_equal(B.to_host(B.argmax(d, 1)), np.argmax(x, 1))
    np.testing.assert_allclose(B.to_host(B.sum(d, 1)), np.sum(x, 1), rtol=1e-13)


def test_long_rows_split_and_fold(monkeypatch):
    monkeypatch.setattr(R, "SPLIT_MIN_N", 64)
    monkeypatch.setattr(R, "SPLIT_PIECE", 300)
    for dtype, names in (("float32", ("sum", "amin")), ("bfloat16", ("sum", "amax")),
                         ("int32", ("prod",)), ("bool", ("all", "any"))):
        x = sample(dtype, (3, 1000), seed=4)
        d = B.from_host(x)
        for name in names:
            for axis in (1, None):
                got = B.to_host(getattr(B, name)(d, axis))
                assert_close(got, reference(name, x, axis, False), dtype, name)


def test_0d_empty_axes_and_scans_of_scalars():
    s = B.from_host(np.array(2.5, np.float32))
    for name in ("sum", "prod", "amax", "amin", "all", "any"):
        assert_close(B.to_host(getattr(B, name)(s)), getattr(np, name)(np.float32(2.5)),
                     "float32", name)
    assert B.to_host(B.argmax(s)) == 0 and B.to_host(B.argmin(s, 0)) == 0
    np.testing.assert_array_equal(B.to_host(B.cumsum(s, 0)), [2.5])


def test_empty_reductions_as_numpy():
    e = np.zeros((3, 0), np.float32)
    d = B.from_host(e)
    for name in ("sum", "prod", "all", "any"):
        for axis in (None, 1, 0):
            assert_close(B.to_host(getattr(B, name)(d, axis)), getattr(np, name)(e, axis),
                         "float32", name)
    for name, word in (("amax", "maximum"), ("amin", "minimum")):
        with pytest.raises(ValueError, match=f"zero-size array to reduction operation "
                                             f"{word} which has no identity"):
            getattr(B, name)(d, 1)
        assert B.to_host(getattr(B, name)(d, 0)).shape == (0,)     # nothing to reduce
    with pytest.raises(ValueError, match="attempt to get argmax of an empty sequence"):
        B.argmax(d, 1)
    with pytest.raises(ValueError, match="attempt to get argmin of an empty sequence"):
        B.argmin(d)
    assert B.to_host(B.cumsum(d, 1)).shape == (3, 0)


def test_axis_errors_as_numpy():
    d = B.from_host(np.zeros((2, 3)))
    for fn in (lambda: B.sum(d, 2), lambda: B.amax(d, (0, -3)), lambda: B.argmax(d, 2),
               lambda: B.cumsum(d, -3)):
        with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
            fn()


def test_dtype_and_out_arguments():
    x = sample("float32", seed=5)
    d = B.from_host(x)
    r = B.sum(d, 1, dtype=np.float64)
    assert r.dtype == np.float64
    np.testing.assert_allclose(B.to_host(r), x.astype(np.float64).sum(1), rtol=1e-13)
    assert_close(B.to_host(B.sum(d, None, np.int64)), np.sum(x, None, np.int64),
                 "int64", "sum")
    assert B.to_host(B.sum(B.from_host(np.ones(3, np.uint8)))).dtype == np.uint64
    out = B.empty((), np.float32)
    assert B.sum(d, (0, 1, 2), None, False, out) is out
    np.testing.assert_allclose(B.to_host(out), x.sum(), rtol=1e-5)
    out = B.empty((3, 1, 5), np.float32)
    B.amax(d, 1, True, out)
    np.testing.assert_array_equal(B.to_host(out), x.max(1, keepdims=True))
    assert B.to_host(B.cumsum(B.from_host(np.ones(4, np.int32)), 0)).dtype == np.int64


def test_matches_the_cpu_backend_as_ops_call_it():
    x = sample("float32", seed=6)
    d = B.from_host(x)
    for name, args in (("sum", ((0, 2), np.float64, True)), ("prod", (1, None, False)),
                       ("amax", ((1,), True)), ("argmin", (2,)), ("all", (0,)),
                       ("cumprod", (1,))):
        want = getattr(cpu, name)(x, *args)
        assert_close(B.to_host(getattr(B, name)(d, *args)), want, "float32",
                     name if name != "prod" else "sum")


# ---------------------------------------------------------------- genesis on 'cuda'
def both(x, **kw):
    return genesis.tensor(x, **kw), genesis.tensor(x, device="cuda", **kw)


def same(got, want, rtol=1e-5):
    assert got.device == genesis.device("cuda", 0) and got.dtype == want.dtype
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=rtol, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_genesis_reductions_on_cuda(dtype):
    c, g = both(sample(dtype, seed=7))
    same(g.sum(1), c.sum(1))
    same(g.sum(), c.sum())
    same(g.prod(-1), c.prod(-1))
    same(g.argmax(), c.argmax())
    same(g.argmin(1, keepdim=True), c.argmin(1, keepdim=True))
    same(g.cumsum(0), c.cumsum(0))
    same(g.amax((0, 2)), c.amax((0, 2)))
    vg, ig = g.max(2)
    vc, ic = c.max(2)
    same(vg, vc)
    same(ig, ic)
    same(g.max(), c.max())
    if dtype != "int64":
        same(g.mean(), c.mean())
        same(g.mean((0, 1), keepdim=True), c.mean((0, 1), keepdim=True))
    same(g.all(), c.all())
    same(g.any(1), c.any(1))


def test_low_precision_sum_on_cuda():
    for dt in (genesis.float16, genesis.bfloat16):
        c, g = both(sample("float32", (4, 300), seed=8))
        c, g = c.to(dt), g.to(dt)
        np.testing.assert_array_equal(g.sum(1).cpu().float().numpy(),
                                      c.float().sum(1).to(dt).float().numpy())


def test_backward_through_sum_and_mean_on_cuda():
    x = sample("float64", seed=9)
    grads = []
    for t in both(x, requires_grad=True):
        ((t.sum(1) * t.mean(0).sum()).sum() + (t * t).mean((0, 2)).sum()).backward()
        assert t.grad.device == t.device
        grads.append(t.grad.cpu().numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)
