"""autocast against PyTorch's CPU autocast: the output dtype of every policy op (and of
ops outside the policy) for float32, low-precision and float64 inputs, values, gradients
flowing to float32 parameters, the cast cache, nesting, threads, decorators, errors."""
import threading
import warnings

import numpy as np
import pytest

import genesis
import genesis.nn as nn
from oracle import needs_torch, torch


def _ops(lib):
    F = lib.nn.functional
    rng = np.random.default_rng(0)
    w = lib.tensor(rng.normal(size=(6, 8)).astype(np.float32))
    img = lib.tensor(rng.normal(size=(2, 3, 8, 8)).astype(np.float32))
    k = lib.tensor(rng.normal(size=(4, 3, 3, 3)).astype(np.float32))
    v3 = lib.tensor(rng.normal(size=(2, 3, 4, 4, 4)).astype(np.float32))
    tgt = lib.tensor(rng.integers(0, 8, 4))
    p = lib.tensor(rng.uniform(size=(4, 8)).astype(np.float32))
    c = lambda t, a: t.to(a.dtype)     # noqa: E731  (an operand in the input's dtype)
    return {
        "matmul": lambda a: a @ a.t(), "mm": lambda a: lib.mm(a, a.t()),
        "bmm": lambda a: lib.bmm(a[None], a.t()[None]),
        "baddbmm": lambda a: lib.baddbmm(lib.zeros(1, 4, 4, dtype=a.dtype), a[None], a.t()[None]),
        "addmm": lambda a: lib.addmm(lib.zeros(4, 4, dtype=a.dtype), a, a.t()),
        "addbmm": lambda a: lib.addbmm(lib.zeros(4, 4, dtype=a.dtype), a[None], a.t()[None]),
        "mv": lambda a: lib.mv(a, a[0]), "dot": lambda a: lib.dot(a[0], a[1]),
        "einsum": lambda a: lib.einsum("ij,kj->ik", a, a),
        "tensordot": lambda a: lib.tensordot(a, a, dims=([1], [1])),
        "linear": lambda a: F.linear(a, c(w, a)), "linear_bias": lambda a: F.linear(a, w, w[:, 0]),
        "conv2d": lambda a: F.conv2d(c(img, a), c(k, a)),
        "conv_transpose2d": lambda a: F.conv_transpose2d(c(img, a), c(k, a).transpose(0, 1)),
        "prelu": lambda a: F.prelu(a, lib.tensor([0.2]).to(a.dtype)),
        "sdpa": lambda a: F.scaled_dot_product_attention(a[None], a[None], a[None]),
        "softmax": lambda a: F.softmax(a, -1), "log_softmax": lambda a: F.log_softmax(a, -1),
        "layer_norm": lambda a: F.layer_norm(a, (8,)), "group_norm": lambda a: F.group_norm(c(img, a), 3),
        "sum": lambda a: a.sum(), "mean": lambda a: a.mean(), "prod": lambda a: a.prod(),
        "cumsum": lambda a: a.cumsum(0), "exp": lambda a: a.exp(), "pow": lambda a: a.pow(2),
        "norm": lambda a: a.norm(), "normalize": lambda a: F.normalize(a),
        "cross_entropy": lambda a: F.cross_entropy(a, tgt), "nll_loss": lambda a: F.nll_loss(a, tgt),
        "mse_loss": lambda a: F.mse_loss(a, c(p, a)), "l1_loss": lambda a: F.l1_loss(a, c(p, a)),
        "mse_mixed": lambda a: F.mse_loss(a, p),
        "smooth_l1_loss": lambda a: F.smooth_l1_loss(a, c(p, a)),
        "huber_loss": lambda a: F.huber_loss(a, c(p, a)),
        "kl_div": lambda a: F.kl_div(a, c(p, a), reduction="batchmean"),
        "bce": lambda a: F.binary_cross_entropy(a.sigmoid(), c(p, a)),
        "bce_logits": lambda a: F.binary_cross_entropy_with_logits(a, c(p, a)),
        "avg_pool2d": lambda a: F.avg_pool2d(c(img, a), 2), "avg_pool3d": lambda a: F.avg_pool3d(c(v3, a), 2),
        "max_pool3d": lambda a: F.max_pool3d(c(v3, a), 2),
        "adaptive_avg_pool3d": lambda a: F.adaptive_avg_pool3d(c(v3, a), 2),
        "pad_reflect": lambda a: F.pad(c(img, a), (1, 1, 1, 1), mode="reflect"),
        "pad_replicate": lambda a: F.pad(c(img, a), (1, 1, 1, 1), mode="replicate"),
        "pad_constant": lambda a: F.pad(a, (1, 1)), "gelu": lambda a: F.gelu(a),
        "addcmul": lambda a: lib.addcmul(a, a, a), "atan2": lambda a: lib.atan2(a, a),
        "embedding": lambda a: F.embedding(tgt % 4, a), "cat": lambda a: lib.cat([a, a]),
        "linear_then_softmax": lambda a: F.softmax(F.linear(a, c(w, a)), -1),
    }


def _np(t):
    t = t.detach()
    return np.asarray(t.float().numpy() if "bfloat16" in str(t.dtype) else t.numpy(),
                      dtype=np.float64)


@needs_torch
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("input_dtype", ["float32", "low", "float64"])
@pytest.mark.parametrize("name", list(_ops(genesis)))
def test_policy_dtype_and_values_match_torch(name, dtype, input_dtype):
    x = np.random.default_rng(1).normal(size=(4, 8)).astype(np.float32)
    idt = dtype if input_dtype == "low" else input_dtype
    g_op, t_op = _ops(genesis)[name], _ops(torch)[name]
    gx = genesis.tensor(x).to(getattr(genesis, idt))
    tx = torch.tensor(x).to(getattr(torch, idt))
    try:
        with torch.autocast("cpu", dtype=getattr(torch, dtype)):
            t_out = t_op(tx)
    except RuntimeError:               # torch refuses the mix: genesis must too
        with pytest.raises(RuntimeError):
            with genesis.autocast("cpu", dtype=getattr(genesis, dtype)):
                g_op(gx)
        return
    with genesis.autocast("cpu", dtype=getattr(genesis, dtype)):
        g_out = g_op(gx)
    assert str(g_out.dtype).split(".")[-1] == str(t_out.dtype).split(".")[-1], name
    tol = 2e-2 if "bfloat16" in (str(t_out.dtype), dtype) or dtype == "bfloat16" else 2e-3
    np.testing.assert_allclose(_np(g_out), _np(t_out), rtol=tol, atol=tol, err_msg=name)


class _Net:
    """Linear -> LayerNorm -> GELU -> Linear, built for either library."""

    @staticmethod
    def build(lib):
        n = lib.nn
        return n.Sequential(n.Linear(8, 16), n.LayerNorm(16), n.GELU(), n.Linear(16, 3))


@needs_torch
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_gradients_reach_fp32_parameters_as_torch(dtype):
    torch.manual_seed(0)
    tm, gm = _Net.build(torch), _Net.build(genesis)
    gm.load_state_dict({k: genesis.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(2).normal(size=(5, 8)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0])
    with torch.autocast("cpu", dtype=getattr(torch, dtype)):
        t_out = tm(torch.tensor(x))
        t_loss = torch.nn.functional.cross_entropy(t_out, torch.tensor(y))
    with genesis.autocast("cpu", dtype=getattr(genesis, dtype)):
        g_out = gm(genesis.tensor(x))
        g_loss = genesis.nn.functional.cross_entropy(g_out, genesis.tensor(y))
    assert g_out.dtype == getattr(genesis, dtype) and g_loss.dtype == genesis.float32
    t_loss.backward()
    g_loss.backward()
    np.testing.assert_allclose(g_loss.item(), t_loss.item(), rtol=1e-2)
    for (name, tp), (_, gp) in zip(tm.named_parameters(), gm.named_parameters()):
        assert gp.grad is not None, f"{name} got no gradient"
        assert gp.grad.dtype == genesis.float32
        np.testing.assert_allclose(gp.grad.numpy(), tp.grad.numpy(), rtol=5e-2, atol=5e-3,
                                   err_msg=name)


def test_bias_and_layernorm_get_gradients_without_torch():
    m = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
    with genesis.autocast("cpu"):
        out = m(genesis.randn(3, 4))
        assert out.dtype == genesis.bfloat16     # LayerNorm is not on the CPU list
    (out.float() ** 2).sum().backward()     # a plain sum's gradient into LayerNorm is 0
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.dtype == genesis.float32, name
        assert float(p.grad.abs().sum()) > 0 or name == "1.bias", name


@needs_torch
def test_backward_inside_the_region_runs_in_forward_dtypes():
    for lib in (torch, genesis):
        lib.manual_seed(0)
    x = np.random.default_rng(3).normal(size=(4, 8)).astype(np.float32)
    w = np.random.default_rng(4).normal(size=(3, 8)).astype(np.float32)
    grads = []
    for lib in (torch, genesis):
        xt, wt = lib.tensor(x), lib.tensor(w, requires_grad=True)
        with lib.autocast("cpu"):
            y = lib.nn.functional.linear(xt, wt)
            y.float().square().sum().backward()
        grads.append(wt.grad)
    assert str(grads[1].dtype).endswith("float32")
    np.testing.assert_allclose(grads[1].numpy(), grads[0].numpy(), rtol=2e-2, atol=2e-2)


def test_parameter_casts_are_cached_within_a_region():
    from genesis import autocast_state as s
    lin = nn.Linear(4, 4)
    x = genesis.randn(2, 4)
    with genesis.autocast("cpu"):
        lin(x)
        hit = s.state.cache[id(lin.weight)][1]
        lin(x)
        assert s.state.cache[id(lin.weight)][1] is hit        # cast once, reused
        assert id(x) not in s.state.cache                       # only leaves requiring grad
        with genesis.autocast("cpu"):                           # nested: same cache
            lin(x)
            assert s.state.cache[id(lin.weight)][1] is hit
        assert s.state.cache                                    # inner exit keeps it
    assert not s.state.cache                                    # outermost exit clears
    with genesis.autocast("cpu", cache_enabled=False):
        lin(x)
        assert not s.state.cache


def test_inputs_already_in_the_dtype_are_not_copied():
    from genesis import autocast_state as s
    a = genesis.randn(3, 3).bfloat16()
    assert s._cast(a, genesis.bfloat16) is a
    d = genesis.randn(3, 3, dtype=genesis.float64)
    assert s._cast(d, genesis.bfloat16) is d                    # float64 is never cast
    i = genesis.arange(3)
    assert s._cast(i, genesis.float32) is i


def test_nesting_disable_decorator_and_state():
    x = genesis.randn(2, 2)
    assert not genesis.is_autocast_enabled("cpu")
    with genesis.autocast("cpu"):
        assert genesis.is_autocast_enabled("cpu")
        assert genesis.get_autocast_dtype("cpu") == genesis.bfloat16
        with genesis.autocast("cpu", enabled=False):
            assert (x @ x).dtype == genesis.float32
        with genesis.autocast("cpu", dtype=genesis.float16):
            assert (x @ x).dtype == genesis.float16
        assert (x @ x).dtype == genesis.bfloat16
    assert (x @ x).dtype == genesis.float32

    @genesis.autocast("cpu")
    def f(a):
        return a @ a
    assert f(x).dtype == genesis.bfloat16 and (x @ x).dtype == genesis.float32
    with pytest.raises(ZeroDivisionError):
        with genesis.autocast("cpu"):
            1 / 0
    assert not genesis.is_autocast_enabled("cpu") and (x @ x).dtype == genesis.float32


def test_autocast_is_thread_local():
    x = genesis.randn(2, 2)
    seen = []
    start, done = threading.Event(), threading.Event()

    def other():
        start.wait()
        seen.append((x @ x).dtype)
        done.set()
    t = threading.Thread(target=other)
    t.start()
    with genesis.autocast("cpu"):
        start.set()
        done.wait()
        assert (x @ x).dtype == genesis.bfloat16
    t.join()
    assert seen == [genesis.float32]


def test_errors_and_warnings():
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'tpu'"):
        genesis.autocast("tpu")
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        genesis.autocast(0)
    if not genesis.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available. Disabling"):
            a = genesis.autocast("cuda")
        with a:
            assert not genesis.is_autocast_enabled("cuda")
    with pytest.warns(UserWarning, match="target dtype is not supported"):
        b = genesis.autocast("cpu", dtype=genesis.float64)
    with b:
        assert (genesis.ones(2, 2) @ genesis.ones(2, 2)).dtype == genesis.float32


def test_familiar_aliases():
    with pytest.warns(FutureWarning, match=r"torch.cpu.amp.autocast\(args...\)` is deprecated"):
        ctx = genesis.cpu.amp.autocast()
    with ctx:
        assert (genesis.ones(2, 2) @ genesis.ones(2, 2)).dtype == genesis.bfloat16
    with pytest.warns(FutureWarning, match="torch.cuda.amp.autocast"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            genesis.cuda.amp.autocast()
    assert genesis.amp.autocast is genesis.autocast
    assert genesis.amp.GradScaler is not None and genesis.cuda.amp.GradScaler is not None
    assert genesis.cuda.is_available() == (genesis.cuda.device_count() > 0)


def test_custom_fwd_casts_inputs():
    class Square(genesis.autograd.Function):
        @staticmethod
        @genesis.amp.custom_fwd(device_type="cpu", cast_inputs=genesis.float32)
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        @genesis.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return 2 * a * g
    x = genesis.randn(3).bfloat16().requires_grad_()
    with genesis.autocast("cpu"):
        y = Square.apply(x)
    assert y.dtype == genesis.float32
    y.sum().backward()
    assert x.grad.dtype == genesis.bfloat16


def test_cpu_grad_scaler_alias():
    with pytest.warns(FutureWarning, match=r"torch.cpu.amp.GradScaler\(args...\)` is deprecated"):
        s = genesis.cpu.amp.GradScaler(init_scale=4.0)
    assert s.is_enabled() and s.get_scale() == 4.0


def test_every_cpu_policy_op_is_hooked():
    """Each public function with a CPU policy (or composed of policy ops) carries the
    autocast wrapper, under every name it is reachable by."""
    from genesis import autocast_state as s
    import genesis.nn.functional as F
    missing = []
    for name, (cpu, _) in s.POLICY.items():
        if cpu is None and name not in s._COMPOSED:
            continue
        found = [getattr(m, name) for m in (genesis, F, genesis.Tensor) if hasattr(m, name)]
        assert found, f"{name} is in the policy table but genesis has no such function"
        missing += [name for f in found if not hasattr(f, "_autocast_policy")]
    assert not missing
