"""genesis.optim optimizers against torch.optim (same parameters, same gradient sequence)
and against NumPy references that need no torch."""
import copy

import numpy as np
import pytest

import genesis
from oracle import needs_torch, torch

SHAPES = [(4, 3), (5,)]
STEPS = 25

# (optimizer, kwargs): every option that changes the update
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.6, 0.9), eps=1e-6, maximize=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True, decoupled_weight_decay=True,
                  weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.2, amsgrad=True)),
    ("AdamW", dict(lr=0.01, betas=(0.0, 0.5), maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1, alpha=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6, maximize=True)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in CASES]
TOLS = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-12, atol=1e-13)}


def data(dtype, steps=STEPS, seed=0):
    r = np.random.default_rng(seed)
    w0 = [r.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[r.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return w0, grads


def run(lib, name, kw, w0, grads, opt=None, params=None):
    """Optimizer ``name`` of ``lib`` over ``grads`` (a list of per-step gradient lists)."""
    if params is None:
        params = [lib.tensor(w.copy(), requires_grad=True) for w in w0]
    if opt is None:
        opt = getattr(lib.optim, name)(params, **kw)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = lib.tensor(g.copy())
        opt.step()
    return params, opt


def to_np(t):
    return t.detach().numpy().copy()


def assert_params(gp, tp, dtype):
    for a, b in zip(gp, tp):
        np.testing.assert_allclose(to_np(a), to_np(b), **TOLS[dtype])


def assert_state(gs, ts, dtype, tols=TOLS):
    """A genesis state_dict against torch's: layout, key order, step dtype, values."""
    assert sorted(gs) == sorted(ts) == ["param_groups", "state"]
    assert gs["param_groups"] == ts["param_groups"]
    assert list(gs["state"]) == list(ts["state"])
    for i, st in ts["state"].items():
        sg = gs["state"][i]
        assert list(sg) == list(st)
        for k, v in st.items():
            assert str(sg[k].dtype).split(".")[-1] == str(v.dtype).split(".")[-1], k
            assert tuple(sg[k].shape) == tuple(v.shape), k
            np.testing.assert_allclose(to_np(sg[k]), to_np(v), err_msg=k, **tols[dtype])


def torch_state_to_genesis(sd):
    """A torch state_dict with its tensors converted to genesis tensors."""
    def conv(v):
        if isinstance(v, torch.Tensor):
            return genesis.tensor(v.detach().numpy().copy())
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return type(v)(conv(x) for x in v)
        return v
    return conv(sd)


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


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_save_load_resume(name, kw):
    """state_dict -> fresh optimizer -> continue equals an uninterrupted run, bit for bit,
    and the loaded state does not alias the dict it came from."""
    w0, grads = data("float32")
    full, _ = run(genesis, name, kw, w0, grads)
    half, opt = run(genesis, name, kw, w0, grads[:10])
    sd = opt.state_dict()
    saved = copy.deepcopy(sd)
    params = [genesis.tensor(to_np(p), requires_grad=True) for p in half]
    opt2 = getattr(genesis.optim, name)(params, **kw)
    opt2.load_state_dict(sd)
    run(genesis, name, kw, None, grads[10:], opt=opt2, params=params)
    for a, b in zip(full, params):
        np.testing.assert_array_equal(to_np(a), to_np(b))
    for i, st in saved["state"].items():      # loading copied: the source is untouched
        for k, v in st.items():
            np.testing.assert_array_equal(to_np(sd["state"][i][k]), to_np(v))


@needs_torch
@pytest.mark.parametrize("name,kw", CASES[2:3] + CASES[9:10] + CASES[19:20] + CASES[21:22],
                         ids=IDS[2:3] + IDS[9:10] + IDS[19:20] + IDS[21:22])
def test_load_torch_state_dict(name, kw):
    w0, grads = data("float32")
    tp, topt = run(torch, name, kw, w0, grads[:10])
    gparams = [genesis.tensor(to_np(p), requires_grad=True) for p in tp]
    gopt = getattr(genesis.optim, name)(gparams, **kw)
    gopt.load_state_dict(torch_state_to_genesis(topt.state_dict()))
    run(torch, name, kw, None, grads[10:], opt=topt, params=tp)
    run(genesis, name, kw, None, grads[10:], opt=gopt, params=gparams)
    assert_params(gparams, tp, "float32")
    assert_state(gopt.state_dict(), topt.state_dict(), "float32")


@needs_torch
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_param_groups_with_own_options(name):
    w0, grads = data("float32")

    def make(lib):
        ps = [lib.tensor(w.copy(), requires_grad=True) for w in w0]
        opt = getattr(lib.optim, name)([{"params": [ps[0]]},
                                        {"params": [ps[1]], "lr": 0.5, "weight_decay": 0.1}],
                                       lr=0.05)
        return ps, opt

    gp, gopt = make(genesis)
    tp, topt = make(torch)
    run(genesis, name, {}, None, grads, opt=gopt, params=gp)
    run(torch, name, {}, None, grads, opt=topt, params=tp)
    assert_params(gp, tp, "float32")
    assert_state(gopt.state_dict(), topt.state_dict(), "float32")
    assert repr(gopt) == repr(topt)


@needs_torch
def test_add_param_group_and_lr_changes():
    """Later groups, a parameter without a gradient, lr changed between steps."""
    w0, grads = data("float32")

    def make(lib):
        ps = [lib.tensor(w.copy(), requires_grad=True) for w in w0]
        opt = lib.optim.Adam([ps[0]], lr=0.01)
        return ps, opt

    (gp, gopt), (tp, topt) = make(genesis), make(torch)
    for i, gs in enumerate(grads):
        if i == 5:
            gopt.add_param_group({"params": gp[1], "betas": (0.5, 0.9)})
            topt.add_param_group({"params": tp[1], "betas": (0.5, 0.9)})
        if i == 10:
            for o in (gopt, topt):
                o.param_groups[0]["lr"] = 0.1
        for ps, lib in ((gp, genesis), (tp, torch)):
            ps[0].grad = lib.tensor(gs[0])
            ps[1].grad = lib.tensor(gs[1]) if i % 3 else None
        gopt.step()
        topt.step()
    assert_params(gp, tp, "float32")
    assert_state(gopt.state_dict(), topt.state_dict(), "float32")


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    p = genesis.randn(3, requires_grad=True)
    q = genesis.randn(2, requires_grad=True)
    opt = genesis.optim.SGD([p, q], lr=0.1)
    (p * 2).sum().backward()
    g = p.grad
    opt.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert p.grad is None
    else:
        assert p.grad is g and np.all(to_np(g) == 0)
    assert q.grad is None


def test_zero_grad_detaches_a_grad_with_history():
    p = genesis.randn(3, requires_grad=True)
    (p * p).sum().backward(create_graph=True)
    assert p.grad.requires_grad
    genesis.optim.SGD([p]).zero_grad(set_to_none=False)
    assert not p.grad.requires_grad and p.grad.grad_fn is None
    assert np.all(to_np(p.grad) == 0)


def test_closure_runs_with_grad_enabled():
    p = genesis.tensor([1.0, -2.0], requires_grad=True)
    opt = genesis.optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with genesis.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_allclose(to_np(p), [0.8, -1.6], rtol=1e-6)
    assert opt.step() is None


def test_step_bumps_the_version_so_autograd_sees_the_change():
    p = genesis.randn(3, requires_grad=True)
    opt = genesis.optim.Adam([p])
    y = (p * p).sum()
    p.grad = genesis.ones(3)
    v = p._version
    opt.step()
    assert p._version > v
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_step_without_grads_is_a_no_op_and_grads_are_not_written():
    p = genesis.randn(3, requires_grad=True)
    before = to_np(p)
    for name in ("SGD", "Adam", "RMSprop", "LAMB"):
        opt = getattr(genesis.optim, name)([p], lr=0.1)
        opt.step()
        np.testing.assert_array_equal(to_np(p), before)
        assert len(opt.state) == 0 and opt.state_dict()["state"] == {}
    g = genesis.ones(3)
    p.grad = g
    genesis.optim.Adam([p], weight_decay=0.1, maximize=True).step()
    np.testing.assert_array_equal(to_np(g), np.ones(3, np.float32))


def test_hooks():
    p = genesis.randn(3, requires_grad=True)
    opt = genesis.optim.SGD([p], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o is opt, len(a))))
    opt.register_step_post_hook(lambda o, a, k: calls.append(("post", o is opt)))
    p.grad = genesis.ones(3)
    opt.step()
    assert calls == [("pre", True, 1), ("post", True)]
    h1.remove()
    opt.step()
    assert calls[2:] == [("post", True)]
    opt.register_step_pre_hook(lambda o, a, k: 3)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()


def test_lr_scheduler_style_step_wrapping():
    """torch's LRScheduler wraps ``optimizer.step`` through ``step.__func__`` and sets
    ``optimizer._opt_called``: that must keep working."""
    p = genesis.randn(3, requires_grad=True)
    opt = genesis.optim.Adam([p], lr=0.1)
    func = opt.step.__func__

    def wrapper(*args, **kwargs):
        opt._opt_called = True
        return func.__get__(opt, opt.__class__)(*args, **kwargs)
    wrapper._wrapped_by_lr_sched = True
    opt.step = wrapper
    p.grad = genesis.ones(3)
    before = to_np(p)
    opt.step()
    assert opt._opt_called and hasattr(opt.step, "_wrapped_by_lr_sched")
    assert not np.array_equal(to_np(p), before)


def test_tensor_lr_and_param_names():
    p = genesis.tensor([1.0, 2.0], requires_grad=True)
    opt = genesis.optim.SGD([("w", p)], lr=genesis.tensor(0.5))
    assert opt.param_groups[0]["param_names"] == ["w"]
    p.grad = genesis.ones(2)
    opt.step()
    np.testing.assert_allclose(to_np(p), [0.5, 1.5])
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w"]


@pytest.mark.parametrize("default", ["float32", "float64"])
def test_step_dtype_follows_default_dtype(default):
    old = genesis.get_default_dtype()
    genesis.set_default_dtype(getattr(genesis, default))
    try:
        p = genesis.randn(2, requires_grad=True)
        opt = genesis.optim.Adam([p])
        p.grad = genesis.ones(2)
        opt.step()
        st = opt.state[p]["step"]
        assert st.dtype == getattr(genesis, default) and st.dim() == 0 and st.item() == 1.0
    finally:
        genesis.set_default_dtype(old)


def test_load_casts_state_to_param_dtype_but_not_step():
    p = genesis.zeros(3, dtype=genesis.float64, requires_grad=True)
    q = genesis.zeros(3, requires_grad=True)
    src = genesis.optim.Adam([q])
    q.grad = genesis.ones(3)
    src.step()
    dst = genesis.optim.Adam([p])
    dst.load_state_dict(src.state_dict())
    assert dst.state[p]["exp_avg"].dtype == genesis.float64
    assert dst.state[p]["step"].dtype == genesis.float32
    assert dst.state[p]["step"] is not src.state[q]["step"]


def test_adagrad_state_exists_at_construction():
    p = genesis.zeros(3, requires_grad=True)
    opt = genesis.optim.Adagrad([p], initial_accumulator_value=0.25)
    assert list(opt.state[p]) == ["step", "sum"]
    assert opt.state[p]["step"].item() == 0
    np.testing.assert_array_equal(to_np(opt.state[p]["sum"]), np.full(3, 0.25, np.float32))


def test_pickle_roundtrip():
    import pickle
    p = genesis.randn(3, requires_grad=True)
    opt = genesis.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = genesis.ones(3)
    opt.step()
    opt2 = pickle.loads(pickle.dumps(opt))
    assert opt2.param_groups[0]["lr"] == 0.1 and len(opt2.state) == 1
    opt2.register_step_pre_hook(lambda *a: None)   # hooks exist again after unpickling


# ---- errors: the same type and message as torch's
def _p(lib, n=2):
    return lib.zeros(n, requires_grad=True)


def _nonleaf(lib):
    return _p(lib) * 2


def _two_groups(lib):
    p = _p(lib)
    return lib.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


def _load_groups(lib, groups):
    a, b = _p(lib), _p(lib)
    opt = lib.optim.SGD([a, b], lr=0.1)
    sd = opt.state_dict()
    sd["param_groups"] = groups(sd["param_groups"])
    opt.load_state_dict(sd)


ERRORS = [
    (lambda lib: lib.optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
    (lambda lib: lib.optim.SGD(_p(lib), lr=0.1), TypeError,
     "params argument given to the optimizer should be an iterable of Tensors or dicts"),
    (lambda lib: lib.optim.SGD([{"params": {_p(lib)}}], lr=0.1), TypeError,
     "optimizer parameters need to be organized in ordered collections"),
    (lambda lib: lib.optim.SGD([_p(lib), 3], lr=0.1), TypeError,
     "optimizer can only optimize Tensors, but one of the params is int"),
    (lambda lib: lib.optim.SGD([_nonleaf(lib)], lr=0.1), ValueError,
     "can't optimize a non-leaf Tensor"),
    (_two_groups, ValueError, "some parameters appear in more than one parameter group"),
    (lambda lib: lib.optim.SGD([_p(lib)]).add_param_group([_p(lib)]), TypeError,
     "param_group must be a dict"),
    (lambda lib: lib.optim.SGD([_p(lib)], lr=-1), ValueError, "Invalid learning rate: -1"),
    (lambda lib: lib.optim.SGD([_p(lib)], momentum=-0.5), ValueError,
     "Invalid momentum value: -0.5"),
    (lambda lib: lib.optim.SGD([_p(lib)], nesterov=True), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda lib: lib.optim.Adam([_p(lib)], betas=(1.0, 0.999)), ValueError,
     "Invalid beta parameter at index 0: 1.0"),
    (lambda lib: lib.optim.Adam([_p(lib)], betas=(0.9, 1)), ValueError,
     "Invalid beta parameter at index 1: 1"),
    (lambda lib: lib.optim.Adam([_p(lib)], eps=-1.0), ValueError, "Invalid epsilon value"),
    (lambda lib: lib.optim.AdamW([_p(lib)], weight_decay=-1.0), ValueError,
     "Invalid weight_decay value: -1.0"),
    (lambda lib: lib.optim.RMSprop([_p(lib)], alpha=-1.0), ValueError, "Invalid alpha value"),
    (lambda lib: lib.optim.Adagrad([_p(lib)], lr_decay=-1.0), ValueError,
     "Invalid lr_decay value: -1.0"),
    (lambda lib: lib.optim.Adam([_p(lib)], fused=True, foreach=True), RuntimeError,
     "`fused` and `foreach` cannot be `True` together"),
    (lambda lib: _load_groups(lib, lambda g: g + g), ValueError,
     "loaded state dict has a different number of parameter groups"),
    (lambda lib: _load_groups(lib, lambda g: [dict(g[0], params=[0])]), ValueError,
     "loaded state dict contains a parameter group that doesn't match the size of "
     "optimizer's group"),
]


@pytest.mark.parametrize("fn,exc,msg", ERRORS, ids=[m[:40] for _, _, m in ERRORS])
def test_errors(fn, exc, msg):
    with pytest.raises(exc, match=msg.replace("(", r"\(")):
        fn(genesis)
    if torch is not None:
        with pytest.raises(exc, match=msg.replace("(", r"\(")):
            fn(torch)


# ---- NumPy references (run without torch)
def ref_sgd(w0, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    w, buf = w0.copy(), None
    for g in grads:
        g = g + weight_decay * w
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        w = w - lr * g
    return w


def ref_adam(w0, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             decoupled=False):
    b1, b2 = betas
    w, m, v, vmax = w0.copy(), 0 * w0, 0 * w0, 0 * w0
    for t, g in enumerate(grads, 1):
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vhat = (vmax if amsgrad else v) / (1 - b2 ** t)
        w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(vhat) + eps)
    return w


def ref_lamb(w0, grads, lr, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0,
             bias_correction=True, clamp_value=None):
    b1, b2 = betas
    w, m, v = w0.copy(), 0 * w0, 0 * w0
    for t, g in enumerate(grads, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mh, vh = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if bias_correction else (m, v)
        u = mh / (np.sqrt(vh) + eps) + weight_decay * w
        wn, un = np.linalg.norm(w), np.linalg.norm(u)
        if clamp_value is not None:
            wn = min(wn, clamp_value)
        trust = wn / un if wn > 0 and un > 0 else 1.0
        w = w - lr * trust * u
    return w


REF_CASES = [
    ("SGD", dict(lr=0.1), ref_sgd),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.1), ref_sgd),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), ref_sgd),
    ("Adam", dict(lr=0.01), ref_adam),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True), ref_adam),
    ("AdamW", dict(lr=0.01, weight_decay=0.1), lambda *a, **k: ref_adam(*a, decoupled=True, **k)),
    ("LAMB", dict(lr=0.01), ref_lamb),
    ("LAMB", dict(lr=0.01, weight_decay=0.1, betas=(0.8, 0.99)), ref_lamb),
    ("LAMB", dict(lr=0.01, bias_correction=False, weight_decay=0.01), ref_lamb),
    ("LAMB", dict(lr=0.01, clamp_value=0.5, weight_decay=0.1), ref_lamb),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kw,ref", REF_CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(REF_CASES)])
def test_numpy_reference(name, kw, ref, dtype):
    w0, grads = data(dtype)
    gp, _ = run(genesis, name, kw, w0, grads)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    for i, p in enumerate(gp):
        want = ref(w0[i].astype(np.float64), [g[i].astype(np.float64) for g in grads], **kw)
        np.testing.assert_allclose(to_np(p), want, **tol)


def test_lamb_trust_ratio_is_one_for_zero_weights():
    """With w = 0 the first step is plain Adam's (trust ratio 1); after it the layer-wise
    ratio rescales the step to ||w|| per unit of ||update||."""
    p = genesis.zeros(4, requires_grad=True)
    opt = genesis.optim.LAMB([p], lr=0.1)
    p.grad = genesis.tensor([1.0, -1.0, 2.0, 0.0])
    opt.step()
    np.testing.assert_allclose(to_np(p), [-0.1, 0.1, -0.1, 0.0], rtol=1e-5)
    w1 = to_np(p)
    opt.step()
    # ||step|| = lr * trust * ||u|| = lr * ||w||
    np.testing.assert_allclose(np.linalg.norm(to_np(p) - w1), 0.1 * np.linalg.norm(w1),
                               rtol=1e-5)


def test_lamb_state_and_repr():
    p = genesis.randn(3, requires_grad=True)
    opt = genesis.optim.LAMB([p], weight_decay=0.01)
    p.grad = genesis.ones(3)
    opt.step()
    assert list(opt.state[p]) == ["step", "exp_avg", "exp_avg_sq"]
    assert opt.state[p]["step"].dtype == genesis.float32
    assert repr(opt).startswith("LAMB (\nParameter Group 0\n    betas: (0.9, 0.999)\n")
    with pytest.raises(ValueError, match="Invalid clamp_value"):
        genesis.optim.LAMB([p], clamp_value=0)


def test_global_step_hooks_and_unsupported_differentiable():
    from genesis.optim.optimizer import (register_optimizer_step_post_hook,
                                         register_optimizer_step_pre_hook)
    p = genesis.randn(3, requires_grad=True)
    opt = genesis.optim.RMSprop([p])
    calls = []
    with register_optimizer_step_pre_hook(lambda o, a, k: calls.append("pre")), \
            register_optimizer_step_post_hook(lambda o, a, k: calls.append("post")):
        opt.step()
    opt.step()
    assert calls == ["pre", "post"]
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        genesis.optim.Adam([p], differentiable=True)
