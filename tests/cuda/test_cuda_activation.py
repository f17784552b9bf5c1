"""The CUDA backend's fused activation primitives (backend/cuda/activation.py): GELU (both
modes) and SiLU values and gradients against the CPU backend's, dropout's in-kernel
Philox mask (statistics, scaling, backward reuse, seeding, edge cases), and checks that
the ops layer actually takes the fused path on CUDA."""
import ml_dtypes
import numpy as np
import pytest

import genesis
import genesis.nn.functional as F
from genesis.backend.cuda import backend as B

DTYPES = ["float32", "float64", "bfloat16"]
# float32: the fused kernels compute in float64, the CPU in float32, whose own error
# reaches a few 1e-6 absolute where GELU cancels (tanh GELU's 1 - tanh(u)^2 and
# 1 + tanh(u) in the tails, gelu' near its zero): float32 is checked tightly against the
# CPU's float64 result too; bfloat16: one rounding of the same float32 value (or 1 ulp)
TOL = {"float32": dict(rtol=1e-6, atol=5e-6), "float64": dict(rtol=1e-11, atol=1e-14),
       "bfloat16": dict(rtol=8e-3, atol=5e-6)}


def _np_dt(dtype):
    return getattr(ml_dtypes, dtype, dtype)


def _input(shape, dtype, seed=0, scale=4.0):
    x = np.random.default_rng(seed).standard_normal(shape) * scale
    if x.ndim and x.size > 6:
        x.flat[:6] = [-12.0, -8.4, -0.75, 0.0, 9.5, 30.0]     # tails, gelu' = 0 near -0.75
    return x.astype(_np_dt(dtype))


def _run(fn, x, g, device):
    t = genesis.tensor(x, device=device, requires_grad=True)
    y = fn(t)
    y.backward(genesis.tensor(g, device=device))
    return y.detach().cpu().numpy(), t.grad.cpu().numpy()


def _close(got, want, dtype):
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), **TOL[dtype])


ACTS = {"gelu": F.gelu, "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"), "silu": F.silu}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ACTS))
@pytest.mark.parametrize("shape", [(), (7,), (5, 301)])
def test_values_and_grads_match_cpu(name, dtype, shape):
    x = _input(shape, dtype)
    g = np.random.default_rng(1).standard_normal(shape).astype(x.dtype)
    fn = ACTS[name]
    y, dx = _run(fn, x, g, "cuda")
    y_cpu, dx_cpu = _run(fn, x, g, "cpu")
    _close(y, y_cpu, dtype)
    _close(dx, dx_cpu, dtype)
    if dtype == "float32":
        y64, dx64 = _run(fn, x.astype(np.float64), g.astype(np.float64), "cpu")
        np.testing.assert_allclose(y, y64, rtol=3e-7, atol=1e-12)
        np.testing.assert_allclose(dx, dx64, rtol=3e-7, atol=1e-12)


@pytest.mark.parametrize("name", list(ACTS))
def test_non_contiguous_input(name):
    x = _input((6, 40), "float32", seed=2)
    fn = ACTS[name]
    for dev in ("cpu", "cuda"):
        t = genesis.tensor(x, device=dev, requires_grad=True)
        y = fn(t.transpose(0, 1)[::2])
        y.sum().backward()
        if dev == "cpu":
            want, want_g = y.detach().numpy(), t.grad.numpy()
    _close(y.detach().cpu().numpy(), want, "float32")
    _close(t.grad.cpu().numpy(), want_g, "float32")


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_float32_is_float32_accurate(approximate):
    # against the float64 result (exact where |x| < 5, below the float64 path's tails):
    # within float32's rounding, with the derivative saved for backward too
    x = np.random.default_rng(3).uniform(-5, 5, 20000).astype(np.float32)
    y, d = B.gelu_fwd(B.from_host(x), approximate == "tanh", True)
    y64, d64 = B.gelu_fwd(B.from_host(x.astype(np.float64)), approximate == "tanh", True)
    for got, ref in ((y, y64), (d, d64)):
        got, ref = B.to_host(got), B.to_host(ref)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, ref, rtol=2.5e-7, atol=1e-30)


@pytest.mark.parametrize("name", list(ACTS))
def test_second_order_matches_cpu(name):
    x = _input((9,), "float64", seed=4, scale=2.0)
    res = []
    for dev in ("cpu", "cuda"):
        t = genesis.tensor(x, device=dev, requires_grad=True)
        g, = genesis.autograd.grad(ACTS[name](t).sum(), t, create_graph=True)
        (g * g).sum().backward()
        res.append((g.detach().cpu().numpy(), t.grad.cpu().numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-14)


def test_gelu_bad_mode_and_integer_input_still_raise():
    t = genesis.tensor([1.0, 2.0], device="cuda")
    with pytest.raises(RuntimeError, match="approximate argument"):
        F.gelu(t, approximate="fast")
    with pytest.raises(NotImplementedError, match="GeluKernelImpl"):
        F.gelu(genesis.tensor([1, 2], device="cuda"))


def _counting(monkeypatch, *names):
    calls = {}
    for name in names:
        fn = getattr(B, name)

        def wrapped(*a, _fn=fn, _name=name):
            calls[_name] = calls.get(_name, 0) + 1
            return _fn(*a)
        monkeypatch.setattr(B, name, wrapped)
    return calls


def test_fused_paths_are_taken(monkeypatch):
    calls = _counting(monkeypatch, "gelu_fwd", "silu_fwd", "silu_bwd", "dropout_fwd",
                      "dropout_bwd")
    t = genesis.tensor(_input((4, 5), "float32"), device="cuda", requires_grad=True)
    (F.gelu(t) + F.silu(t) + F.dropout(t, 0.3)).sum().backward()
    assert calls == {"gelu_fwd": 1, "silu_fwd": 1, "silu_bwd": 1, "dropout_fwd": 1,
                     "dropout_bwd": 1}


# ---------------------------------------------------------------- dropout
N = 100_000


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keep_rate_scaling_and_backward(p, dtype):
    x = np.random.default_rng(5).uniform(0.5, 2.0, N).astype(_np_dt(dtype))
    g = np.random.default_rng(6).uniform(-1, 1, N).astype(x.dtype)
    t = genesis.tensor(x, device="cuda", requires_grad=True)
    y = F.dropout(t, p)
    assert y.dtype == t.dtype and y.shape == t.shape
    y.backward(genesis.tensor(g, device="cuda"))
    yv, dx = y.detach().cpu().numpy(), t.grad.cpu().numpy()
    keep = yv != 0                                  # x is never 0
    # 5 standard deviations of the keep rate, overall and in each of Philox's 4 lanes
    sd = (p * (1 - p) / N) ** 0.5
    assert abs(keep.mean() - (1 - p)) < 5 * sd
    for lane in range(4):
        assert abs(keep[lane::4].mean() - (1 - p)) < 10 * sd
    # kept values scaled by 1 / (1 - p) in the compute dtype, rounded once (as torch)
    cdt = np.float64 if dtype == "float64" else np.float32
    scale = cdt(1.0 / (1.0 - p))
    want = (x.astype(cdt) * scale * keep).astype(x.dtype)
    np.testing.assert_array_equal(yv, want)
    # backward reuses the forward's mask
    np.testing.assert_array_equal(dx, (g.astype(cdt) * scale * keep).astype(x.dtype))


def test_dropout_mask_is_not_spatially_regular():
    y = F.dropout(genesis.ones(64, 64, device="cuda"), 0.5).cpu().numpy()
    keep = y != 0
    # neighbouring elements (same Philox counter or the next) are independent
    agree = (keep[:, 1:] == keep[:, :-1]).mean()
    assert abs(agree - 0.5) < 0.03


def test_dropout_reproducible_under_manual_seed():
    t = genesis.ones(1000, device="cuda")
    genesis.manual_seed(7)
    a = F.dropout(t, 0.5).cpu().numpy()
    b = F.dropout(t, 0.5).cpu().numpy()
    genesis.manual_seed(7)
    a2 = F.dropout(t, 0.5).cpu().numpy()
    np.testing.assert_array_equal(a, a2)
    assert not np.array_equal(a, b)                  # the generator advanced
    genesis.manual_seed(8)
    assert not np.array_equal(a, F.dropout(t, 0.5).cpu().numpy())


def test_dropout_advances_the_generator_like_a_fill():
    genesis.manual_seed(11)
    F.dropout(genesis.ones(1001, device="cuda"), 0.5)
    # 1001 elements take ceil(1001 / 4) = 251 Philox counters (state: seed, offset)
    after = genesis.cuda.get_rng_state().numpy()
    assert int.from_bytes(after[8:].tobytes(), "little") == 251


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_p0_p1_and_eval(dtype):
    x = _input((3, 4), dtype, seed=8)
    t = genesis.tensor(x, device="cuda", requires_grad=True)
    y0 = F.dropout(t, 0.0)
    np.testing.assert_array_equal(y0.detach().cpu().numpy(), x)
    y1 = F.dropout(t, 1.0)
    np.testing.assert_array_equal(y1.detach().cpu().numpy(), np.zeros_like(x))
    (y0.sum() + y1.sum()).backward()
    np.testing.assert_array_equal(t.grad.cpu().numpy(), np.ones_like(x))
    np.testing.assert_array_equal(F.dropout(t, 0.5, training=False).detach().cpu().numpy(),
                                  x)
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout(t, 1.5)


def test_dropout_inplace_and_second_order():
    x = np.random.default_rng(9).uniform(0.5, 2, (8, 16)).astype(np.float32)
    with genesis.no_grad():
        t = genesis.tensor(x, device="cuda")
        r = F.dropout(t, 0.25, inplace=True)
        assert r is t
        v = t.cpu().numpy()
        keep = v != 0
        np.testing.assert_array_equal(v, x * np.float32(1 / 0.75) * keep)
    leaf = genesis.tensor(x, device="cuda", requires_grad=True)
    h = leaf * 1.0
    F.dropout(h, 0.25, inplace=True)
    g, = genesis.autograd.grad(h.sum(), leaf, create_graph=True)
    keep = h.detach().cpu().numpy() != 0
    np.testing.assert_array_equal(g.detach().cpu().numpy(), np.float32(1 / 0.75) * keep)
    # the mask-multiply backward is differentiable again (in the upstream gradient)
    v = genesis.ones(8, 16, device="cuda", requires_grad=True)
    g2, = genesis.autograd.grad(F.dropout(leaf, 0.25), leaf, grad_outputs=v,
                                create_graph=True)
    g2.sum().backward()
    np.testing.assert_array_equal(v.grad.cpu().numpy(), g2.detach().cpu().numpy())


def test_dropout_non_contiguous_and_feature_dropout_fallback():
    x = genesis.ones(6, 10, device="cuda")
    y = F.dropout(x.t()[::2], 0.5).cpu().numpy()
    assert y.shape == (5, 6) and set(np.unique(y)) <= {0.0, 2.0}
    z = F.dropout2d(genesis.ones(2, 3, 4, 4, device="cuda"), 0.5).cpu().numpy()
    assert (z.reshape(6, 16) == z.reshape(6, 16)[:, :1]).all()     # whole channels
