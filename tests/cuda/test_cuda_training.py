"""Training on 'cuda' end to end: the MLP of benchmarks/train_step.py (and a tiny char
GPT) trained a few steps with SGD(momentum)/Adam/AdamW, clip_grad_norm_, and GradScaler
with float16 autocast, compared with the same run on the CPU backend; checkpoints of a
CUDA model and optimizer; Module.to/cuda/cpu keeping Parameter identity.

Tolerances: float32 runs agree with the CPU to rounding (the device's matmul and sums
accumulate in another order): losses to rtol 1e-5, weights to atol 2e-5 after a few
steps of lr <= 0.1 (1e-4 at the GPU's full size, where a few of 200k weight gradients
sit near their rounding noise, which Adam's normalization turns into steps). float16 autocast runs differ by float16 roundings of the matmul
inputs/outputs: losses to rtol 1e-2, weights to atol 2e-3."""
import os
import sys

import numpy as np
import pytest

import genesis
from conftest import INTERPRET

BENCHMARKS = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks")
nn, F = genesis.nn, genesis.nn.functional
CUDA = genesis.device("cuda", 0)
# the benchmark's MLP 784-256-10 at batch 64 on a GPU; a narrow one in the interpreter
IN, HID, OUT, BATCH = (12, 16, 5, 8) if INTERPRET else (784, 256, 10, 64)
WTOL = 2e-5 if INTERPRET else 1e-4


def mlp():
    return nn.Sequential(nn.Linear(IN, HID), nn.ReLU(), nn.Linear(HID, OUT))


def data(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((BATCH, IN)).astype(np.float32),
            rng.integers(0, OUT, BATCH))


def init_state(build=mlp, seed=0):
    genesis.manual_seed(seed)
    return {k: v.detach().numpy().copy() for k, v in build().state_dict().items()}


def host(t):
    return t.detach().cpu().numpy()


OPTIMIZERS = {
    "sgd_nesterov": lambda p: genesis.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-2,
                                                nesterov=True),
    "adamw": lambda p: genesis.optim.AdamW(p, lr=1e-2, amsgrad=True),
}


def ADAM(p):
    return genesis.optim.Adam(p, lr=1e-2, weight_decay=1e-2)


def train(device, make_opt, state, x, y, steps=2, clip=0.5, build=mlp):
    """``steps`` steps on ``device`` from ``state``: losses, the model and the optimizer."""
    model = build()
    model.load_state_dict({k: genesis.tensor(v) for k, v in state.items()})
    model.to(device)
    opt = make_opt(model.parameters())
    xt, yt = genesis.tensor(x, device=device), genesis.tensor(y, device=device)
    losses, norms = [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), clip)
        assert norm.device.type == device
        norms.append(norm.item())
        opt.step()
        losses.append(loss.item())
    return losses, norms, model, opt


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_mlp_training_matches_cpu(name):
    state, (x, y) = init_state(), data()
    lc, nc, mc, oc = train("cpu", OPTIMIZERS[name], state, x, y)
    lg, ng, mg, og = train("cuda", OPTIMIZERS[name], state, x, y)
    np.testing.assert_allclose(lg, lc, rtol=1e-5)
    np.testing.assert_allclose(ng, nc, rtol=1e-5)
    assert max(nc) > 0.5            # clipping did scale the gradients
    for (k, pc), pg in zip(mc.named_parameters(), mg.parameters()):
        assert pg.device == CUDA and pg.grad.device == CUDA, k
        np.testing.assert_allclose(host(pg), host(pc), rtol=0, atol=WTOL, err_msg=k)
    # the optimizer state lives with the parameters and matches the CPU's
    for pc, pg in zip(mc.parameters(), mg.parameters()):
        for key, vc in oc.state[pc].items():
            vg = og.state[pg][key]
            if key == "step":               # a CPU scalar, as torch keeps it
                assert vg.device.type == "cpu" and vg.item() == vc.item() == 2
            else:
                assert vg.device == CUDA, key
                np.testing.assert_allclose(host(vg), host(vc), rtol=1e-4, atol=1e-9,
                                           err_msg=key)


def amp_train(device, state, x, y, steps=2, init_scale=2.0 ** 12, growth_interval=1):
    model = mlp()
    model.load_state_dict({k: genesis.tensor(v) for k, v in state.items()})
    model.to(device)
    opt = genesis.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = genesis.amp.GradScaler(device, init_scale=init_scale,
                                    growth_interval=growth_interval)
    xt, yt = genesis.tensor(x, device=device), genesis.tensor(y, device=device)
    losses, scales = [], []
    for _ in range(steps):
        opt.zero_grad()
        with genesis.autocast(device, dtype=genesis.float16):
            out = model(xt)
            loss = F.cross_entropy(out, yt)
        assert out.dtype == genesis.float16 and loss.dtype == genesis.float32
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
        scales.append(scaler.get_scale())
    return losses, scales, model, scaler


def test_grad_scaler_float16_autocast_matches_cpu():
    state, (x, y) = init_state(), data(1)
    lc, sc, mc, _ = amp_train("cpu", state, x, y)
    lg, sg, mg, scaler = amp_train("cuda", state, x, y)
    assert sg == sc == [2.0 ** 13, 2.0 ** 14]        # grows after each clean step
    assert scaler._scale.device == CUDA and scaler._growth_tracker.device == CUDA
    np.testing.assert_allclose(lg, lc, rtol=1e-2)
    assert lg[-1] < lg[0]
    for pc, pg in zip(mc.parameters(), mg.parameters()):
        assert pg.dtype == genesis.float32 and pg.device == CUDA
        np.testing.assert_allclose(host(pg), host(pc), rtol=0, atol=2e-3)


def test_grad_scaler_overflow_skips_step_on_cuda():
    # a scale far past float16's range: the float16 gradients overflow, the step is
    # skipped (the weights stay as they were) and the scale backs off
    state, (x, y) = init_state(), data(2)
    losses, scales, model, _ = amp_train("cuda", state, x, y, steps=1, init_scale=2.0 ** 40)
    assert scales == [2.0 ** 39]
    for k, p in model.state_dict().items():
        np.testing.assert_array_equal(host(p), state[k], err_msg=k)


@pytest.mark.parametrize("dtype", ["float64", "bfloat16"])
def test_unscale_finds_inf_and_nan_in_cuda_grads(dtype):
    p = genesis.zeros(5, 7, device="cuda", requires_grad=True)
    q = genesis.zeros(3, device="cuda", dtype=getattr(genesis, dtype), requires_grad=True)
    opt = genesis.optim.SGD([p, q], lr=1.0)
    g = np.arange(35, dtype=np.float32).reshape(5, 7)
    p.grad = genesis.tensor(g, device="cuda").t().contiguous().t()   # column-major
    q.grad = genesis.tensor([1, 2, 3], dtype=q.dtype, device="cuda")
    scaler = genesis.amp.GradScaler("cuda", init_scale=4.0)
    scaler.scale(genesis.zeros((), device="cuda"))       # creates the scale on 'cuda'
    scaler.unscale_(opt)
    found = scaler._found_inf_per_device(opt)
    assert list(found) == [CUDA] and found[CUDA].item() == 0.0
    np.testing.assert_array_equal(host(p.grad), g / 4)
    np.testing.assert_array_equal(host(q.grad).astype(np.float64), [0.25, 0.5, 0.75])
    scaler.step(opt)                                    # clean: the step is taken
    np.testing.assert_array_equal(host(p), -g / 4)
    scaler.update()
    for bad in (np.inf, np.nan):
        g2 = g.copy()
        g2[3, 5] = bad
        p.grad = genesis.tensor(g2, device="cuda")
        scaler.unscale_(opt)
        assert scaler._found_inf_per_device(opt)[CUDA].item() == 1.0
        before = host(p)
        scaler.step(opt)                                # skipped
        np.testing.assert_array_equal(host(p), before)
        scaler.update()
    assert scaler.get_scale() == 1.0                    # backed off twice from 4
    p.grad = None                                        # float16 grads are refused
    p.data = p.data.half()
    p.grad = genesis.ones(5, 7, dtype=genesis.float16, device="cuda")
    with pytest.raises(ValueError, match="FP16"):
        scaler.unscale_(opt)


def test_checkpoint_round_trip_of_cuda_model_and_optimizer(tmp_path):
    state, (x, y) = init_state(), data(3)
    _, _, model, opt = train("cuda", ADAM, state, x, y, steps=1)
    path = os.path.join(tmp_path, "ckpt.gen")
    genesis.save_checkpoint({"model": model.state_dict(), "opt": opt.state_dict(),
                             "step": 2}, path)
    # without map_location CUDA tensors come back on CUDA; map_location moves them
    for loc, dev in ((None, CUDA), ("cuda", CUDA), ("cpu", genesis.device("cpu"))):
        ck = genesis.load_checkpoint(path, map_location=loc)
        assert ck["step"] == 2
        for k, v in model.state_dict().items():
            assert ck["model"][k].device == dev, (loc, k)
            np.testing.assert_array_equal(host(ck["model"][k]), host(v))
    # resume on CUDA from the checkpoint: same trajectory as the uninterrupted run
    ck = genesis.load_checkpoint(path, map_location="cuda")
    model2 = mlp().cuda()
    model2.load_state_dict(ck["model"])
    opt2 = ADAM(model2.parameters())
    opt2.load_state_dict(ck["opt"])
    for p in model2.parameters():
        st = opt2.state[p]
        assert st["exp_avg"].device == CUDA and st["step"].item() == 1
    xt, yt = genesis.tensor(x, device="cuda"), genesis.tensor(y, device="cuda")
    for m, o in ((model, opt), (model2, opt2)):
        o.zero_grad()
        F.cross_entropy(m(xt), yt).backward()
        o.step()
    for (k, a), b in zip(model.named_parameters(), model2.parameters()):
        np.testing.assert_array_equal(host(b), host(a), err_msg=k)


def test_module_to_cuda_and_back_keeps_identity():
    genesis.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    params = list(model.parameters())
    values = [host(p) for p in params]
    model(genesis.randn(6, 4)).sum().backward()          # grads on the CPU, moved too
    grads = [p.grad for p in params]
    opt = genesis.optim.SGD(model.parameters(), lr=0.5)   # made before the move
    for move in (lambda m: m.cuda(), lambda m: m.cpu(), lambda m: m.to("cuda"),
                 lambda m: m.to(genesis.device("cuda", 0))):
        assert move(model) is model
        dev = next(model.parameters()).device
        assert all(a is b for a, b in zip(params, model.parameters()))
        assert all(p.grad is g for p, g in zip(params, grads))
        for p, v in zip(params, values):
            assert p.device == dev and p.grad.device == dev and p.requires_grad
            assert type(p) is nn.Parameter and p.is_leaf
            np.testing.assert_array_equal(host(p), v)
        for name, b in model.named_buffers():
            assert b.device == dev, name
    assert dev == CUDA
    assert model[1].num_batches_tracked.dtype == genesis.int64
    opt.step()                                             # the old optimizer still works
    for p, v in zip(params, values):
        np.testing.assert_allclose(host(p), v - 0.5 * host(p.grad), rtol=1e-6)
    y = model.eval()(genesis.randn(6, 4, device="cuda"))
    assert y.device == CUDA
    model.to("cpu", genesis.float64)
    assert all(p.dtype == genesis.float64 and p.device.type == "cpu" for p in params)
    assert all(a is b for a, b in zip(params, model.parameters()))


OTHER = {
    "sgd_momentum": lambda p: genesis.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5),
    "adam_amsgrad": lambda p: genesis.optim.Adam(p, lr=0.01, weight_decay=0.1, amsgrad=True,
                                                 maximize=True),
    "adagrad": lambda p: genesis.optim.Adagrad(p, lr=0.1, weight_decay=0.1, lr_decay=0.01),
    "rmsprop": lambda p: genesis.optim.RMSprop(p, lr=0.01, momentum=0.9, centered=True,
                                               weight_decay=0.1),
    "lamb": lambda p: genesis.optim.LAMB(p, lr=0.01),
    "sgd_float16": lambda p: genesis.optim.SGD(p, lr=0.01, momentum=0.9, dampening=0.1,
                                               weight_decay=0.1, maximize=True),
    "adam_float16": lambda p: genesis.optim.Adam(p, lr=0.01, weight_decay=0.1),
    "adamw_float16": lambda p: genesis.optim.AdamW(p, lr=0.01, amsgrad=True),
}


@pytest.mark.parametrize("name", list(OTHER))
def test_optimizer_steps_match_cpu_bit_for_bit(name):
    # elementwise updates round alike on both backends: the same bits after two steps
    dt = genesis.float16 if name.endswith("float16") else genesis.float32
    rng = np.random.default_rng(5)
    w0, grads = rng.standard_normal((3, 4)), rng.standard_normal((2, 3, 4))
    out = {}
    for dev in ("cpu", "cuda"):
        p = genesis.tensor(w0, dtype=dt, device=dev, requires_grad=True)
        opt = OTHER[name]([p])
        for g in grads:
            p.grad = genesis.tensor(g, dtype=dt, device=dev)
            opt.step()
        assert p.device.type == dev and p.dtype == dt
        out[dev] = host(p)
    np.testing.assert_array_equal(out["cuda"], out["cpu"])


def test_char_gpt_training_matches_cpu():
    pytest.importorskip("torch")            # benchmarks/train_step.py imports it
    sys.path.insert(0, BENCHMARKS)
    from train_step import gpt             # the benchmark's char GPT, built for genesis
    kw = dict(vocab=11, block=8, d=16, heads=2, layers=1)

    def build():
        return gpt(genesis, **kw)
    state = init_state(build)
    rng = np.random.default_rng(4)
    idx, tgt = rng.integers(0, 11, (2, 8)), rng.integers(0, 11, 16)
    # eps well above rounding noise: the key bias's gradient is zero but for rounding
    # (softmax cancels it), and Adam would turn that noise into lr-sized steps
    opt = lambda p: genesis.optim.AdamW(p, lr=3e-3, eps=1e-4)      # noqa: E731
    lc, nc, mc, _ = train("cpu", opt, state, idx, tgt, steps=1, clip=1.0, build=build)
    lg, ng, mg, _ = train("cuda", opt, state, idx, tgt, steps=1, clip=1.0, build=build)
    np.testing.assert_allclose(lg, lc, rtol=1e-5)
    np.testing.assert_allclose(ng, nc, rtol=1e-4)
    for (k, pc), pg in zip(mc.named_parameters(), mg.parameters()):
        np.testing.assert_allclose(host(pg), host(pc), rtol=0, atol=2e-5, err_msg=k)
