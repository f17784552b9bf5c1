"""The fused softmax / log_softmax / cross_entropy kernels of the CUDA backend
(backend/cuda/softmax.py) against the same genesis ops on the CPU backend: values and
input gradients over float32/float64/float16/bfloat16, rows shorter and longer than the
kernel's block (MAX_BLOCK lowered so the chunk loop runs on small shapes), NaN/inf rows,
weights, ignore_index and label smoothing; and checks that the fused primitives are the
ones called.

Tolerances: float64 computes in float64 (exp/log rounding and the order of the sums:
1e-12); float32 in float32 with a tree-ordered sum (1e-5 relative); float16/bfloat16 in
float32 rounded once, where the CPU rounds its composed steps: two ulps of the dtype
relative to the largest magnitude of the result.
"""
import ml_dtypes
import numpy as np
import pytest

import genesis
import genesis.nn.functional as F
from genesis.backend.cuda import backend as B, softmax as S

DTYPES = ["float32", "float64", "float16", "bfloat16"]
TOL = {"float32": (1e-5, 1e-6), "float64": (1e-12, 1e-13), "float16": (2e-3, 2e-3),
       "bfloat16": (2e-2, 2e-2)}
WIDTHS = [7, 40]            # one chunk, and several chunks of the lowered block (16)


@pytest.fixture(autouse=True)
def small_block(monkeypatch):
    monkeypatch.setattr(S, "MAX_BLOCK", 16)


@pytest.fixture
def calls(monkeypatch):
    """Counts of calls of each fused primitive, on the backend module the ops see."""
    counts = {}
    for name in S.__all__:
        fn = getattr(B, name)

        def counted(*a, _fn=fn, _name=name, **k):
            counts[_name] = counts.get(_name, 0) + 1
            return _fn(*a, **k)
        monkeypatch.setattr(B, name, counted)
    return counts


def np_dtype(name):
    return np.dtype(getattr(ml_dtypes, name, name))


def sample(shape, dtype, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * 3).astype(np_dtype(dtype))


def close(got, want, dtype):
    rtol, atol = TOL[dtype]
    w = want.detach().float().numpy().astype(np.float64)
    if dtype in ("float16", "bfloat16") and np.isfinite(w).any():
        # the CPU rounds each composed step (g - exp(y) * sum(g) cancels): ulps of the
        # largest magnitude
        atol *= max(1.0, np.abs(w[np.isfinite(w)]).max())
    np.testing.assert_allclose(got.detach().cpu().float().numpy().astype(np.float64), w,
                               rtol=rtol, atol=atol, equal_nan=True)
    assert got.dtype == want.dtype and got.shape == want.shape


def both(x, **kw):
    """The same leaf tensor on the CPU and on CUDA."""
    return (genesis.tensor(x, **kw), genesis.tensor(x, device="cuda", **kw))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", WIDTHS)
@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_softmax_values_and_grads(fn, n, dtype, calls):
    x = sample((5, n), dtype)
    g = sample((5, n), dtype, seed=1)
    (c, d) = both(x, requires_grad=True)
    yc, yd = fn(c, dim=-1), fn(d, dim=1)
    close(yd, yc, dtype)
    yc.backward(genesis.tensor(g))
    yd.backward(genesis.tensor(g, device="cuda"))
    close(d.grad, c.grad, dtype)
    assert calls == {"softmax_fwd": 1, "softmax_bwd": 1}


@pytest.mark.parametrize("n", WIDTHS)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_nan_inf_rows_as_cpu(n, log):
    x = sample((5, n), "float32")
    x[0, 3] = np.nan                        # NaN row
    x[1, 2] = np.inf                        # +inf row: inf - inf
    x[2, :] = -np.inf                       # all -inf row
    x[3, 1] = -np.inf                       # one -inf: exp gives 0
    fn = F.log_softmax if log else F.softmax
    c, d = both(x)
    close(fn(d, -1), fn(c, -1), "float32")


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_softmax_3d_noncontiguous_dtype_and_other_dims(fn, calls):
    x = sample((4, 3, 20), "float32")
    c, d = both(x, requires_grad=True)
    # a transposed (non-contiguous) input over its last dim, with dtype= upcast
    yc = fn(c.transpose(0, 1), -1, dtype=genesis.float64)
    yd = fn(d.transpose(0, 1), -1, dtype=genesis.float64)
    close(yd, yc, "float64")
    (yc * yc).sum().backward()
    (yd * yd).sum().backward()
    close(d.grad, c.grad, "float32")
    assert calls == {"softmax_fwd": 1, "softmax_bwd": 1}
    # not the last dim: the composed path, still right
    close(fn(d, 1), fn(c, 1), "float32")
    assert calls == {"softmax_fwd": 1, "softmax_bwd": 1}


def test_softmax_double_backward_through_fused():
    x = sample((3, 20), "float64")
    c, d = both(x, requires_grad=True)
    for t in (c, d):
        y = F.log_softmax(t, -1)
        gx, = genesis.autograd.grad((y * y).sum(), t, create_graph=True)
        (gx * gx).sum().backward()
    close(d.grad, c.grad, "float64")


def test_softmax_edge_shapes():
    for shape in [(0, 5), (3, 0), (6,)]:
        x = sample(shape, "float32")
        c, d = both(x)
        close(F.softmax(d, -1), F.softmax(c, -1), "float32")
        close(F.log_softmax(d, 0 if len(shape) == 1 else -1),
              F.log_softmax(c, 0 if len(shape) == 1 else -1), "float32")


CE_CASES = [  # (weight, ignore some, label_smoothing, reduction)
    (False, False, 0.0, "mean"), (True, True, 0.0, "mean"), (False, True, 0.1, "sum"),
    (True, False, 0.2, "none"), (True, True, 0.3, "mean"), (False, False, 0.0, "none"),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", WIDTHS)
@pytest.mark.parametrize("weighted,ignore,eps,reduction", CE_CASES)
def test_cross_entropy_values_and_grads(weighted, ignore, eps, reduction, n, dtype, calls):
    x = sample((6, n), dtype)
    r = np.random.default_rng(3)
    t = r.integers(0, n, 6)
    if ignore:
        t[[1, 4]] = 2
    w = r.uniform(0.2, 2, n).astype(np_dtype(dtype)) if weighted else None
    c, d = both(x, requires_grad=True)
    kw = dict(ignore_index=2 if ignore else -100, label_smoothing=eps, reduction=reduction)
    lc = F.cross_entropy(c, genesis.tensor(t), None if w is None else genesis.tensor(w), **kw)
    ld = F.cross_entropy(d, genesis.tensor(t, device="cuda"),
                         None if w is None else genesis.tensor(w, device="cuda"), **kw)
    close(ld, lc, dtype)
    g = sample(lc.shape, dtype, seed=4)
    lc.backward(genesis.tensor(g))
    ld.backward(genesis.tensor(g, device="cuda"))
    close(d.grad, c.grad, dtype)
    assert calls == {"cross_entropy_fwd": 1, "cross_entropy_bwd": 1}


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_1d_input_and_all_ignored(reduction, calls):
    x = sample((30,), "float64")
    c, d = both(x, requires_grad=True)
    lc = F.cross_entropy(c, genesis.tensor(np.int64(4)), reduction=reduction,
                         label_smoothing=0.1)
    ld = F.cross_entropy(d, genesis.tensor(np.int64(4), device="cuda"),
                         reduction=reduction, label_smoothing=0.1)
    close(ld, lc, "float64")
    lc.backward()
    ld.backward()
    close(d.grad, c.grad, "float64")
    assert calls["cross_entropy_fwd"] == calls["cross_entropy_bwd"] == 1
    # every target ignored: nan loss for 'mean' (0/0), zero gradient
    x2 = sample((3, 5), "float32")
    t = np.full(3, -100)
    c, d = both(x2, requires_grad=True)
    lc = F.cross_entropy(c, genesis.tensor(t), reduction=reduction)
    ld = F.cross_entropy(d, genesis.tensor(t, device="cuda"), reduction=reduction)
    close(ld, lc, "float32")
    lc.sum().backward()
    ld.sum().backward()
    close(d.grad, c.grad, "float32")


def test_cross_entropy_double_backward_and_errors(calls):
    x = sample((4, 20), "float64")
    t = np.array([1, 0, 19, 5])
    c, d = both(x, requires_grad=True)
    for a, dev in ((c, "cpu"), (d, "cuda")):
        loss = F.cross_entropy(a, genesis.tensor(t, device=dev), label_smoothing=0.1)
        gx, = genesis.autograd.grad(loss, a, create_graph=True)
        (gx * gx).sum().backward()
    close(d.grad, c.grad, "float64")
    assert calls["cross_entropy_fwd"] == 1
    with pytest.raises(IndexError, match="Target 20 is out of bounds"):
        F.cross_entropy(d, genesis.tensor(np.array([1, 20, 0, 0]), device="cuda"))


def test_cross_entropy_other_layouts_use_the_composed_path(calls):
    # (N, C, d) class axis not last, and probability targets: composed, still right
    x = sample((3, 5, 4), "float32")
    t = np.random.default_rng(0).integers(0, 5, (3, 4))
    c, d = both(x)
    close(F.cross_entropy(d, genesis.tensor(t, device="cuda")),
          F.cross_entropy(c, genesis.tensor(t)), "float32")
    p = np.random.default_rng(1).dirichlet(np.ones(5), 3).astype(np.float32)
    c, d = both(x[:, :, 0])
    close(F.cross_entropy(d, genesis.tensor(p, device="cuda")),
          F.cross_entropy(c, genesis.tensor(p)), "float32")
    assert "cross_entropy_fwd" not in calls


def test_primitives_direct():
    x = sample((3, 40), "float32")
    y = B.to_host(B.softmax_fwd(B.from_host(x), False))
    z = np.exp(x - x.max(-1, keepdims=True))
    np.testing.assert_allclose(y, z / z.sum(-1, keepdims=True), rtol=1e-5)
    t = np.array([0, 39, 7])
    loss, lse = B.cross_entropy_fwd(B.from_host(x), B.from_host(t))
    want_lse = np.log(np.exp(x.astype(np.float64)).sum(-1))
    np.testing.assert_allclose(B.to_host(lse), want_lse, rtol=1e-6)
    np.testing.assert_allclose(B.to_host(loss), want_lse - x[np.arange(3), t], rtol=1e-5)
