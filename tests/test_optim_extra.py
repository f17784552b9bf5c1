"""Adamax, NAdam, RAdam, Adadelta, Rprop and ASGD against torch.optim (same parameters,
same gradient sequence), and checks that need no torch: resuming from a state_dict,
convergence, errors, parameters on CUDA."""
import copy
import inspect

import numpy as np
import pytest

import genesis
from oracle import needs_torch, torch
from test_optim import assert_state as _assert_state, torch_state_to_genesis

SHAPES = [(4, 3), (5,)]
STEPS = 8
NAMES = ["Adamax", "NAdam", "RAdam", "Adadelta", "Rprop", "ASGD"]

# (optimizer, kwargs): the defaults, then every option that changes the update
CASES = [
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, betas=(0.5, 0.8), eps=1e-3, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.05)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("NAdam", dict(lr=0.01, betas=(0.6, 0.9), eps=1e-4)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    # beta2 = 0.5: the rectified branch (rho_t > 5) is taken from the first steps
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.5), eps=1e-4, maximize=True)),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.7), weight_decay=0.1,
                   decoupled_weight_decay=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.08))),
    ("Rprop", dict(maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=3, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=0, maximize=True)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in CASES]
TOLS = {"float32": dict(rtol=1e-6, atol=1e-7), "float64": dict(rtol=1e-12, atol=1e-14)}


def data(dtype, steps=STEPS, seed=0):
    r = np.random.default_rng(seed)
    w0 = [r.standard_normal(s).astype(dtype) for s in SHAPES]
    # gradients of both signs and a few exact zeros (Rprop's sign logic)
    grads = [[r.standard_normal(s).astype(dtype) * (r.random(s) > 0.1) for s in SHAPES]
             for _ in range(steps)]
    return w0, grads


def run(lib, name, kw, w0, grads, opt=None, params=None, sched=None, device=None):
    """Optimizer ``name`` of ``lib`` over ``grads`` (a list of per-step gradient lists)."""
    dev = {} if device is None else {"device": device}
    if params is None:
        params = [lib.tensor(w.copy(), requires_grad=True, **dev) for w in w0]
    if opt is None:
        opt = getattr(lib.optim, name)(params, **kw)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = lib.tensor(g.copy(), **dev)
        opt.step()
        if sched is not None:
            sched(opt).step()
    return params, opt


def to_np(t):
    return t.detach().cpu().numpy().copy()


def assert_state(gs, ts, dtype):
    _assert_state(gs, ts, dtype, TOLS)


def assert_params(gp, tp, dtype):
    for a, b in zip(gp, tp):
        np.testing.assert_allclose(to_np(a), to_np(b), **TOLS[dtype])


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_matches_torch(name, kw, dtype):
    w0, grads = data(dtype)
    gp, gopt = run(genesis, name, kw, w0, grads)
    tp, topt = run(torch, name, kw, w0, grads)
    assert_params(gp, tp, dtype)
    assert gp[0].dtype == getattr(genesis, dtype)
    assert_state(gopt.state_dict(), topt.state_dict(), dtype)
    assert repr(gopt) == repr(topt)


@needs_torch
@pytest.mark.parametrize("name", NAMES)
def test_signature_and_defaults_match_torch(name):
    gs = inspect.signature(getattr(genesis.optim, name).__init__).parameters
    ts = inspect.signature(getattr(torch.optim, name).__init__).parameters
    assert [(p.name, p.kind, p.default) for p in gs.values()] == \
        [(p.name, p.kind, p.default) for p in ts.values()]
    g = getattr(genesis.optim, name)([genesis.zeros(2, requires_grad=True)])
    t = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
    assert g.defaults == t.defaults


@needs_torch
@pytest.mark.parametrize("name,kw", [CASES[4], CASES[8], CASES[12], CASES[18]],
                         ids=[IDS[4], IDS[8], IDS[12], IDS[18]])
def test_with_lr_scheduler(name, kw):
    """An lr changed by a scheduler between steps (ASGD's eta reads it each step)."""
    w0, grads = data("float64")
    gp, gopt = run(genesis, name, kw, w0, [])
    tp, topt = run(torch, name, kw, w0, [])
    gs = genesis.optim.lr_scheduler.StepLR(gopt, step_size=2, gamma=0.5)
    ts = torch.optim.lr_scheduler.StepLR(topt, step_size=2, gamma=0.5)
    run(genesis, name, kw, None, grads, opt=gopt, params=gp, sched=lambda o: gs)
    run(torch, name, kw, None, grads, opt=topt, params=tp, sched=lambda o: ts)
    assert gopt.param_groups[0]["lr"] == topt.param_groups[0]["lr"] != kw.get("lr", 0)
    assert_params(gp, tp, "float64")
    assert_state(gopt.state_dict(), topt.state_dict(), "float64")


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_save_load_resume(name, kw):
    """state_dict -> fresh optimizer -> continue equals an uninterrupted run, bit for bit,
    and the loaded state does not alias the dict it came from."""
    w0, grads = data("float32", steps=10)
    full, _ = run(genesis, name, kw, w0, grads)
    half, opt = run(genesis, name, kw, w0, grads[:5])
    sd = opt.state_dict()
    saved = copy.deepcopy(sd)
    params = [genesis.tensor(to_np(p), requires_grad=True) for p in half]
    opt2 = getattr(genesis.optim, name)(params, **kw)
    opt2.load_state_dict(sd)
    run(genesis, name, kw, None, grads[5:], opt=opt2, params=params)
    for a, b in zip(full, params):
        np.testing.assert_array_equal(to_np(a), to_np(b))
    for i, st in saved["state"].items():      # loading copied: the source is untouched
        for k, v in st.items():
            np.testing.assert_array_equal(to_np(sd["state"][i][k]), to_np(v))


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kw", [CASES[5], CASES[9], CASES[12], CASES[15], CASES[18],
                                     CASES[2]],
                         ids=[IDS[5], IDS[9], IDS[12], IDS[15], IDS[18], IDS[2]])
def test_load_torch_state_dict(name, kw, dtype):
    """A torch state dict loads (scalar states cast to the parameter's dtype, as torch
    casts them) and both continue alike."""
    w0, grads = data(dtype, steps=10)
    tp, topt = run(torch, name, kw, w0, grads[:5])
    gparams = [genesis.tensor(to_np(p), requires_grad=True) for p in tp]
    gopt = getattr(genesis.optim, name)(gparams, **kw)
    gopt.load_state_dict(torch_state_to_genesis(topt.state_dict()))
    topt.load_state_dict(topt.state_dict())     # torch casts its own state on load too
    run(torch, name, kw, None, grads[5:], opt=topt, params=tp)
    run(genesis, name, kw, None, grads[5:], opt=gopt, params=gparams)
    assert_params(gparams, tp, dtype)
    assert_state(gopt.state_dict(), topt.state_dict(), dtype)


@needs_torch
@pytest.mark.parametrize("name", NAMES)
def test_param_groups_no_grad_and_tensor_lr(name):
    """Groups with their own lr, a parameter without a gradient on some steps, and a
    tensor lr."""
    w0, grads = data("float32")

    def make(lib):
        ps = [lib.tensor(w.copy(), requires_grad=True) for w in w0]
        opt = getattr(lib.optim, name)([{"params": [ps[0]]},
                                        {"params": [ps[1]], "lr": 0.03}],
                                       lr=lib.tensor(0.01))
        return ps, opt

    (gp, gopt), (tp, topt) = make(genesis), make(torch)
    for i, gs in enumerate(grads):
        for ps, lib in ((gp, genesis), (tp, torch)):
            ps[0].grad = lib.tensor(gs[0])
            ps[1].grad = lib.tensor(gs[1]) if i % 3 else None
        gopt.step()
        topt.step()
    assert_params(gp, tp, "float32")
    sg, st = gopt.state_dict(), topt.state_dict()
    for s in (sg, st):
        s["param_groups"][0]["lr"] = float(s["param_groups"][0]["lr"])
    assert_state(sg, st, "float32")


@pytest.mark.parametrize("name,kw", [("Adamax", dict(lr=0.1)), ("NAdam", dict(lr=0.1)),
                                     ("RAdam", dict(lr=0.1)), ("Adadelta", dict(lr=10.0)),
                                     ("Rprop", dict(lr=0.1)), ("ASGD", dict(lr=0.1))])
def test_minimizes_a_quadratic(name, kw):
    """No torch: 150 steps on sum((w - c)^2 * s) bring w close to c, with a closure."""
    c = genesis.tensor([1.0, -2.0, 3.0])
    s = genesis.tensor([1.0, 0.5, 2.0])
    w = genesis.zeros(3, requires_grad=True)
    opt = getattr(genesis.optim, name)([w], **kw)

    def closure():
        opt.zero_grad()
        loss = (((w - c) ** 2) * s).sum()
        loss.backward()
        return loss

    first = opt.step(closure).item()
    for _ in range(150):
        last = opt.step(closure).item()
    assert last < 0.05 * first, (first, last)


def test_step_bumps_version_and_leaves_grad_alone():
    for name in NAMES:
        p = genesis.randn(3, requires_grad=True)
        g = genesis.randn(3)
        p.grad = g.clone()
        opt = getattr(genesis.optim, name)([p], maximize=True, weight_decay=0.1) \
            if name not in ("Rprop",) else genesis.optim.Rprop([p], maximize=True)
        v = p._version
        opt.step()
        assert p._version > v, name
        np.testing.assert_array_equal(p.grad.numpy(), g.numpy())


@pytest.mark.parametrize("name,kw,match", [
    ("Adamax", dict(lr=-1.0), "Invalid learning rate: -1.0"),
    ("Adamax", dict(eps=-0.1), "Invalid epsilon value: -0.1"),
    ("Adamax", dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    ("Adamax", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("NAdam", dict(betas=(0.9, -0.5)), "Invalid beta parameter at index 1: -0.5"),
    ("NAdam", dict(momentum_decay=-1e-3), "Invalid momentum_decay value: -0.001"),
    ("NAdam", dict(lr=-0.5), "Invalid learning rate: -0.5"),
    ("RAdam", dict(weight_decay=-0.2), "Invalid weight_decay value: -0.2"),
    ("RAdam", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("Adadelta", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("Adadelta", dict(lr=-2.0), "Invalid learning rate: -2.0"),
    ("Rprop", dict(etas=(1.5, 1.2)), r"Invalid eta values: 1.5, 1.2"),
    ("Rprop", dict(etas=(0.5, 0.9)), r"Invalid eta values: 0.5, 0.9"),
    ("Rprop", dict(lr=-1.0), "Invalid learning rate: -1.0"),
    ("ASGD", dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    ("ASGD", dict(lr=-0.01), "Invalid learning rate: -0.01"),
])
def test_hyperparameter_errors(name, kw, match):
    with pytest.raises(ValueError, match=match):
        getattr(genesis.optim, name)([genesis.zeros(2, requires_grad=True)], **kw)
    if torch is not None:       # torch raises the same
        with pytest.raises(ValueError, match=match):
            getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kw)


@pytest.mark.parametrize("name", NAMES)
def test_other_errors(name):
    cls = getattr(genesis.optim, name)
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        cls([genesis.zeros(2, requires_grad=True)], lr=genesis.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="empty parameter list"):
        cls([])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        cls(genesis.zeros(2, requires_grad=True))
    with pytest.raises(NotImplementedError, match="differentiable"):
        cls([genesis.zeros(2, requires_grad=True)], differentiable=True)


def test_step_dtype_follows_default_dtype():
    old = genesis.get_default_dtype()
    try:
        genesis.set_default_dtype(genesis.float64)
        p = genesis.zeros(2, dtype=genesis.float32, requires_grad=True)
        opt = genesis.optim.ASGD([p])
        p.grad = genesis.ones(2, dtype=genesis.float32)
        opt.step()
        st = opt.state[p]
        assert st["step"].dtype == st["eta"].dtype == st["mu"].dtype == genesis.float64
        assert st["ax"].dtype == genesis.float32
    finally:
        genesis.set_default_dtype(old)


def _cuda():
    try:
        return genesis.cuda.is_available()
    except Exception:
        return False


@pytest.mark.skipif(not _cuda(), reason="no CUDA device (a GPU, or TRITON_INTERPRET=1)")
@pytest.mark.parametrize("name,kw", [CASES[2], CASES[5], CASES[9], CASES[12], CASES[15],
                                     CASES[18]],
                         ids=[IDS[2], IDS[5], IDS[9], IDS[12], IDS[15], IDS[18]])
def test_cuda_params_match_cpu(name, kw):
    w0, grads = data("float32", steps=4)
    cp, copt = run(genesis, name, kw, w0, grads)
    gp, gopt = run(genesis, name, kw, w0, grads, device="cuda")
    assert gp[0].device.type == "cuda"
    for a, b in zip(gp, cp):
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-5, atol=1e-6)
    for p, q in zip(gp, cp):
        for k, v in copt.state[q].items():
            np.testing.assert_allclose(to_np(gopt.state[p][k]), to_np(v), rtol=1e-5,
                                       atol=1e-6, err_msg=k)
