"""GradScaler against torch.amp.GradScaler(device='cpu'): scale/growth-tracker sequences,
skipped steps and final parameters with injected infs/NaNs, unscaling bit for bit, the
error cases, state_dict/pickle round trips, disabled pass-through."""
import math
import pickle
import warnings

import numpy as np
import pytest

import genesis
from genesis.amp.grad_scaler import GradScaler, OptState, _cuda_definitely_unavailable
from oracle import needs_torch, torch

INF, NAN = float("inf"), float("nan")


def _scaler(lib, **kw):
    return (torch.amp.GradScaler if lib is torch else GradScaler)(**kw)


def _params(lib, dtype, seed=0):
    r = np.random.default_rng(seed)
    arrs = [r.standard_normal((8, 4)) * 0.5, r.standard_normal(8) * 0.1,
            r.standard_normal((1, 8)) * 0.5]
    return [lib.tensor(a.astype(dtype), requires_grad=True) for a in arrs]


def _data(dtype, n=50, seed=1):
    r = np.random.default_rng(seed)
    return [(r.standard_normal((6, 4)).astype(dtype), r.standard_normal((6, 1)).astype(dtype))
            for _ in range(n)]


def _loss(lib, ps, x, y, factor=1.0):
    w1, b1, w2 = ps
    h = lib.tanh(lib.tensor(x) @ w1.T + b1)
    return ((h @ w2.T - lib.tensor(y)) ** 2).mean() * factor


def _poison(p, kind):
    g = p.grad
    g[(0,) * g.dim()] = {"inf": INF, "-inf": -INF, "nan": NAN}[kind]


def _train(lib, steps=50, dtype="float32", scaler_kw=None, inject=None, clip=None,
           explicit_unscale=False, accum=1, two_opts=False, opt="sgd", set_interval=None,
           loss_factor=1.0):
    """Run ``steps`` scaled iterations; returns per-step records and final parameters.
    ``inject``: {step: (param index, 'inf'|'-inf'|'nan')} written into a gradient after the
    backward passes."""
    ps = _params(lib, dtype)
    mk = (lambda q: lib.optim.SGD(q, lr=0.05, momentum=0.9)) if opt == "sgd" else \
        (lambda q: lib.optim.Adam(q, lr=0.01))
    opts = [mk(ps[:2]), mk(ps[2:])] if two_opts else [mk(ps)]
    scaler = _scaler(lib, device="cpu", **(scaler_kw or {}))
    data = _data(dtype, steps * accum)
    recs = []
    for i in range(steps):
        for o in opts:
            o.zero_grad()
        for k in range(accum):
            x, y = data[i * accum + k]
            scaler.scale(_loss(lib, ps, x, y, loss_factor)).backward()
        if inject and i in inject:
            _poison(ps[inject[i][0]], inject[i][1])
        if explicit_unscale or clip is not None:
            for o in opts:
                scaler.unscale_(o)
        if clip is not None:
            lib.nn.utils.clip_grad_norm_(ps, clip)
        found = []
        for o in opts:
            scaler.step(o)
            found.append(sum(v.item() for v in scaler._found_inf_per_device(o).values()))
        if set_interval and i in set_interval:
            scaler.set_growth_interval(set_interval[i])
        scaler.update()
        recs.append((tuple(found), scaler.get_scale(), scaler._get_growth_tracker()))
    return recs, [p.detach().numpy().copy() for p in ps], scaler


SCENARIOS = {
    "sgd_injected": dict(scaler_kw=dict(init_scale=2.0 ** 10, growth_interval=3),
                         inject={4: (0, "inf"), 5: (2, "nan"), 11: (1, "-inf"), 20: (0, "nan"),
                                 33: (2, "inf")}),
    "odd_factors_explicit_unscale": dict(
        scaler_kw=dict(init_scale=3.0, growth_factor=1.7, backoff_factor=0.3,
                       growth_interval=2), explicit_unscale=True,
        inject={0: (1, "inf"), 9: (0, "nan"), 10: (0, "nan"), 30: (2, "-inf")}),
    "float64_adam": dict(dtype="float64", opt="adam",
                         scaler_kw=dict(init_scale=2.0 ** 12, growth_interval=4),
                         inject={2: (2, "inf"), 17: (1, "nan")}),
    "clip_after_unscale": dict(clip=0.05, scaler_kw=dict(init_scale=2.0 ** 8, growth_interval=5),
                               inject={7: (0, "inf"), 8: (1, "nan"), 25: (2, "inf")}),
    "accumulation": dict(accum=3, steps=20, scaler_kw=dict(init_scale=2.0 ** 6, growth_interval=2),
                         inject={3: (0, "inf"), 12: (2, "nan")}),
    "two_optimizers": dict(two_opts=True, steps=30, explicit_unscale=False,
                           scaler_kw=dict(init_scale=2.0 ** 9, growth_interval=3),
                           inject={2: (2, "inf"), 6: (0, "nan"), 7: (1, "inf"), 19: (2, "nan")}),
    # the scale stops below float32's overflow instead of growing to inf
    "growth_capped": dict(steps=8, loss_factor=1e-30,
                          scaler_kw=dict(init_scale=2.0 ** 123, growth_factor=4.0,
                                         growth_interval=1)),
    # an interval lowered below the tracker: growth needs equality, so the tracker runs on
    "interval_lowered": dict(steps=20, scaler_kw=dict(init_scale=2.0 ** 5, growth_interval=6),
                             set_interval={3: 2, 12: 3}, inject={15: (0, "inf")}),
}


@needs_torch
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_training_parity(name):
    cfg = SCENARIOS[name]
    recs_g, ps_g, _ = _train(genesis, **cfg)
    recs_t, ps_t, _ = _train(torch, **cfg)
    # scale, growth tracker and skipped steps exactly; parameters to rounding
    assert recs_g == recs_t
    tol = 1e-12 if cfg.get("dtype") == "float64" else 2e-5
    for a, b in zip(ps_g, ps_t):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    skipped = [i for i, r in enumerate(recs_g) if any(r[0])]
    assert sorted(set(skipped)) == sorted(cfg.get("inject", {}))
    if name == "growth_capped":
        assert recs_g[-1][1] == 2.0 ** 127 and recs_g[-1][2] == 0


def test_skipped_step_leaves_params_and_backs_off():
    ps = _params(genesis, "float32")
    opt = genesis.optim.SGD(ps, lr=0.1)
    s = GradScaler("cpu", init_scale=8.0, growth_interval=2)
    before = [p.detach().numpy().copy() for p in ps]
    x, y = _data("float32", 1)[0]
    s.scale(_loss(genesis, ps, x, y)).backward()
    _poison(ps[1], "nan")
    assert s.step(opt) is None
    for p, b in zip(ps, before):
        np.testing.assert_array_equal(p.detach().numpy(), b)
    s.update()
    assert (s.get_scale(), s._get_growth_tracker()) == (4.0, 0)


class _FakeOpt:
    """An optimizer as GradScaler sees one: param_groups and step()."""

    def __init__(self, params, aware=False, kwarg=False):
        self.param_groups = [{"params": list(params)}]
        self.seen = []
        if aware:
            self._step_supports_amp_scaling = True
        if kwarg:
            self.step = self._step_kwarg

    def step(self, *args, **kwargs):
        if hasattr(self, "grad_scale"):
            self.seen.append((self.grad_scale.item(), self.found_inf.item()))
        return ("ret", args, kwargs)

    def _step_kwarg(self, grad_scaler=None):
        self.seen.append(grad_scaler.get_scale())
        return "kw"


@needs_torch
@pytest.mark.parametrize("poison", [False, True])
def test_step_return_and_arguments(poison):
    out = []
    for lib in (genesis, torch):
        p = lib.ones(3, requires_grad=True)
        o = _FakeOpt([p])
        s = _scaler(lib, device="cpu", init_scale=4.0)
        s.scale(p.sum()).backward()
        if poison:
            _poison(p, "inf")
        out.append(s.step(o, 1, lr=2))
    assert out[0] == out[1] == (None if poison else ("ret", (1,), {"lr": 2}))


@needs_torch
@pytest.mark.parametrize("poison", [False, True])
@pytest.mark.parametrize("explicit", [False, True])
def test_amp_aware_optimizer(poison, explicit):
    seen = []
    for lib in (genesis, torch):
        p = lib.ones(3, requires_grad=True)
        o = _FakeOpt([p], aware=True)
        s = _scaler(lib, device="cpu", init_scale=4.0)
        s.scale(p.sum()).backward()
        if poison:
            _poison(p, "inf")
        if explicit:
            s.unscale_(o)
            o.grad_scale = lib.tensor(2.0)      # kept as set when already unscaled
        s.step(o)
        assert not hasattr(o, "grad_scale") and not hasattr(o, "found_inf")
        s.update()
        seen.append((o.seen, p.grad.tolist(), s.get_scale()))
    assert seen[0] == seen[1]
    with pytest.warns(FutureWarning, match="stop passing itself"):
        p = genesis.ones(3, requires_grad=True)
        o = _FakeOpt([p], aware=True, kwarg=True)
        s = GradScaler("cpu", init_scale=4.0)
        s.scale(p.sum()).backward()
        assert s.step(o) == "kw" and o.seen == [4.0]


# ---------------------------------------------------------------- unscaling bit for bit
@needs_torch
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("scale", [3.0, 2.0 ** 16, 0.37, 1.0])
def test_unscale_bitwise(dtype, scale):
    r = np.random.default_rng(3)
    vals = (r.standard_normal((5, 7)) * 100).astype("float32")
    res = []
    for lib in (genesis, torch):
        d = getattr(lib, dtype)
        ps = [lib.zeros(5, 7, dtype=d, requires_grad=True),
              lib.zeros(4, dtype=d, requires_grad=True)]
        ps[0].grad = lib.tensor(vals).to(d)
        ps[1].grad = lib.tensor(vals[1, :8:2]).to(d)
        o = _FakeOpt(ps)
        s = _scaler(lib, device="cpu", init_scale=scale)
        s.scale(lib.ones(()))
        if dtype == "float16":                # refused by unscale_: the internal entry
            inv = s._scale.double().reciprocal().float()
            found = s._unscale_grads_(o, inv, lib.zeros(()), True)
        else:
            s.unscale_(o)
            found = s._found_inf_per_device(o)
        res.append(([p.grad.float().numpy().tobytes() for p in ps],
                     [str(p.grad.dtype).split(".")[-1] for p in ps],
                     [v.item() for v in found.values()]))
    assert res[0] == res[1]


@needs_torch
@pytest.mark.parametrize("scale,val", [(0.5, 3e38), (2.0 ** 16, 60000.0), (2.0, INF),
                                       (2.0, NAN)])
def test_unscale_checks_before_multiplying(scale, val):
    # 3e38 / 0.5 overflows, yet PyTorch's kernel checks the scaled value (finite); a sum
    # of many large float16 values overflows float16 though every element is finite
    res = []
    for lib in (genesis, torch):
        dt = lib.float16 if val == 60000.0 else lib.float32
        p = lib.zeros(64, dtype=dt, requires_grad=True)
        p.grad = lib.full((64,), val, dtype=dt)
        s = _scaler(lib, device="cpu", init_scale=scale)
        s.scale(lib.ones(()))
        found = s._unscale_grads_(_FakeOpt([p]), lib.tensor(np.float32(1 / scale)),
                                  lib.zeros(()), True)
        res.append((list(found.values())[0].item(), p.grad.float().numpy().tobytes()))
    assert (res[0][0] == res[1][0]) and res[0][1] == res[1][1]
    assert res[0][0] == (0.0 if math.isfinite(val) else 1.0)


def test_unscale_in_place_and_state():
    p = genesis.ones(3, requires_grad=True)
    o = _FakeOpt([p, genesis.zeros(2, requires_grad=True)])     # a param without grad
    s = GradScaler("cpu", init_scale=4.0)
    s.scale(p.sum()).backward()
    g = p.grad
    v = g._version
    s.unscale_(o)
    assert p.grad is g and g.tolist() == [1.0, 1.0, 1.0] and g._version > v
    assert s._per_optimizer_states[id(o)]["stage"] is OptState.UNSCALED
    found = s._found_inf_per_device(o)
    assert list(found) == [genesis.device("cpu")] and found[genesis.device("cpu")].dtype == \
        genesis.float32 and found[genesis.device("cpu")].item() == 0.0
    s.step(o)
    assert s._per_optimizer_states[id(o)]["stage"] is OptState.STEPPED
    s.update()
    assert len(s._per_optimizer_states) == 0
    assert s._scale.shape == () and s._scale.dtype == genesis.float32
    assert s._growth_tracker.dtype == genesis.int32


# ---------------------------------------------------------------- scale()
@needs_torch
def test_scale_outputs_nested():
    for lib in (genesis, torch):
        s = _scaler(lib, device="cpu", init_scale=3.0)
        a, b = lib.ones(2), lib.full((2,), 2.0, dtype=lib.float16)
        out = s.scale([a, (b, [a]), []])
        assert isinstance(out, list) and isinstance(out[1], tuple)
        assert out[0].tolist() == [3.0, 3.0] and out[1][0].dtype == lib.float16
        assert out[1][0].tolist() == [6.0, 6.0] and out[1][1][0].tolist() == [3.0, 3.0]
        lazy = s.scale(iter([a]))
        assert isinstance(lazy, map) and next(lazy).tolist() == [3.0, 3.0]
    s = GradScaler("cpu", init_scale=5.0)
    gen = s.scale(iter([genesis.ones(1)]))
    assert s._scale is None                    # a map is lazy: scale made on consumption
    assert next(gen).item() == 5.0 and s.get_scale() == 5.0


def test_scale_backward_scales_grads():
    x = genesis.tensor([1.0, -2.0], requires_grad=True)
    s = GradScaler("cpu", init_scale=2.0 ** 10)
    y = s.scale((x * x).sum())
    assert y.item() == 5.0 * 1024
    y.backward()
    assert x.grad.tolist() == [2048.0, -4096.0]


# ---------------------------------------------------------------- errors vs torch
def _fresh(lib, **kw):
    p = lib.ones(3, requires_grad=True)
    o = lib.optim.SGD([p], lr=0.1)
    return p, o, _scaler(lib, device="cpu", **kw)


def _backward(lib, p, s):
    s.scale(p.sum()).backward()


def _case_unscale_twice(lib):
    p, o, s = _fresh(lib)
    _backward(lib, p, s)
    s.unscale_(o)
    s.unscale_(o)


def _case_unscale_after_step(lib):
    p, o, s = _fresh(lib)
    _backward(lib, p, s)
    s.step(o)
    s.unscale_(o)


def _case_step_twice(lib):
    p, o, s = _fresh(lib)
    _backward(lib, p, s)
    s.step(o)
    s.step(o)


def _case_closure(lib):
    p, o, s = _fresh(lib)
    _backward(lib, p, s)
    s.step(o, closure=lambda: 0)


def _case_fp16(lib):
    p = lib.ones(3, dtype=lib.float16, requires_grad=True)
    s = _scaler(lib, device="cpu")
    s.scale(p.float().sum()).backward()
    s.unscale_(lib.optim.SGD([p], lr=0.1))


def _case_step_before_scale(lib):
    p, o, s = _fresh(lib)
    s.step(o)


def _case_unscale_before_scale(lib):
    p, o, s = _fresh(lib)
    s.unscale_(o)


def _case_update_before_scale(lib):
    p, o, s = _fresh(lib)
    s.update()


def _case_update_without_step(lib):
    p, o, s = _fresh(lib)
    _backward(lib, p, s)
    s.update()


def _case_no_grads(lib):
    p, o, s = _fresh(lib)
    s.scale(p.sum())
    s.step(o)


def _case_growth_factor(lib):
    _scaler(lib, device="cpu", growth_factor=1.0)


def _case_backoff_factor(lib):
    _scaler(lib, device="cpu", backoff_factor=1.0)


def _updated(lib):
    p, o, s = _fresh(lib)
    _backward(lib, p, s)
    s.step(o)
    return s


def _case_new_scale_int(lib):
    _updated(lib).update(2)


def _case_new_scale_two(lib):
    _updated(lib).update(lib.tensor([1.0, 2.0]))


def _case_new_scale_requires_grad(lib):
    _updated(lib).update(lib.tensor(2.0, requires_grad=True))


def _case_new_scale_shape1(lib):
    _updated(lib).update(lib.tensor([2.0]))


def _case_load_empty(lib):
    _scaler(lib, device="cpu").load_state_dict({})


def _case_load_missing(lib):
    _scaler(lib, device="cpu").load_state_dict({"scale": 2.0})


def _case_scale_bad(lib):
    _scaler(lib, device="cpu").scale(3)


def _case_pickle_mid_iteration(lib):
    pickle.dumps(_updated(lib))


ERROR_CASES = [
    (_case_unscale_twice, RuntimeError, True),
    (_case_unscale_after_step, RuntimeError, True),
    (_case_step_twice, RuntimeError, True),
    (_case_closure, RuntimeError, True),
    (_case_fp16, ValueError, True),
    (_case_step_before_scale, AssertionError, True),
    (_case_unscale_before_scale, AssertionError, True),
    (_case_update_before_scale, AssertionError, True),
    (_case_update_without_step, AssertionError, True),
    (_case_no_grads, AssertionError, True),
    (_case_growth_factor, AssertionError, True),
    (_case_backoff_factor, AssertionError, True),
    (_case_new_scale_int, AttributeError, True),
    (_case_new_scale_two, AssertionError, True),
    (_case_new_scale_requires_grad, AssertionError, True),
    (_case_new_scale_shape1, RuntimeError, False),   # copy_'s own shape message
    (_case_load_empty, RuntimeError, True),
    (_case_load_missing, KeyError, True),
    (_case_scale_bad, ValueError, True),
    (_case_pickle_mid_iteration, AssertionError, True),
]


@needs_torch
@pytest.mark.parametrize("case,exc,same_msg", ERROR_CASES,
                         ids=[c[0].__name__[6:] for c in ERROR_CASES])
def test_errors_match_torch(case, exc, same_msg):
    msgs = []
    for lib in (torch, genesis):
        with pytest.raises(exc) as info:
            case(lib)
        msgs.append(str(info.value))
    if same_msg:
        assert msgs[0] == msgs[1]


def test_error_messages_without_torch():
    with pytest.raises(RuntimeError, match=r"unscale_\(\) has already been called on this "
                                           r"optimizer since the last update\(\)\."):
        _case_unscale_twice(genesis)
    with pytest.raises(RuntimeError, match=r"unscale_\(\) is being called after step\(\)\."):
        _case_unscale_after_step(genesis)
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients."):
        _case_fp16(genesis)
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        _case_closure(genesis)


def test_fp16_refusal_leaves_grads_and_state():
    a = genesis.ones(2, requires_grad=True)
    h = genesis.ones(2, dtype=genesis.float16, requires_grad=True)
    o = _FakeOpt([a, h])
    s = GradScaler("cpu", init_scale=4.0)
    s.scale(a.sum() + h.float().sum()).backward()
    with pytest.raises(ValueError):
        s.unscale_(o)
    assert a.grad.tolist() == [4.0, 4.0]
    assert s._per_optimizer_states[id(o)]["stage"] is OptState.READY


# ---------------------------------------------------------------- new_scale, accessors
@needs_torch
def test_update_new_scale_and_accessors():
    for lib in (genesis, torch):
        p, o, s = _fresh(lib, init_scale=8.0, growth_interval=1)
        assert s.get_scale() == 8.0 and s._get_growth_tracker() == 0   # before scale()
        _backward(lib, p, s)
        s.step(o)
        s.update(3.5)
        assert s.get_scale() == 3.5 and s._get_growth_tracker() == 0   # tracker untouched
        _backward(lib, p, s)
        s.step(o)
        ns = lib.tensor(6.0, dtype=lib.float64)
        s.update(ns)
        ns.fill_(1.0)                         # copied, not aliased
        assert s.get_scale() == 6.0 and isinstance(s.get_scale(), float)
        s.set_growth_factor(3.0)
        s.set_backoff_factor(0.25)
        s.set_growth_interval(7)
        assert (s.get_growth_factor(), s.get_backoff_factor(), s.get_growth_interval()) == \
            (3.0, 0.25, 7)
        assert s.is_enabled()
        assert s.state_dict() == {"scale": 6.0, "growth_factor": 3.0, "backoff_factor": 0.25,
                                  "growth_interval": 7, "_growth_tracker": 0}


# ---------------------------------------------------------------- checkpoint / pickle
def _run(scaler, steps, start=0, inject=(3, 9)):
    p = genesis.ones(2, requires_grad=True)
    o = genesis.optim.SGD([p], lr=0.01)
    out = []
    for i in range(start, start + steps):
        o.zero_grad()
        scaler.scale(p.sum()).backward()
        if i in inject:
            _poison(p, "inf")
        scaler.step(o)
        scaler.update()
        out.append((scaler.get_scale(), scaler._get_growth_tracker()))
    return out


@pytest.mark.parametrize("touched", [False, True])
def test_state_dict_checkpoint_resume(tmp_path, touched):
    kw = dict(init_scale=2.0 ** 8, growth_factor=4.0, backoff_factor=0.25, growth_interval=5)
    full = _run(GradScaler("cpu", **kw), 14)
    a = GradScaler("cpu", **kw)
    head = _run(a, 6)
    assert a._get_growth_tracker() == 2      # mid-interval: the tracker must survive
    path = str(tmp_path / "scaler.pt")
    genesis.save_checkpoint({"scaler": a.state_dict()}, path)
    sd = genesis.load_checkpoint(path)["scaler"]
    assert sd == {"scale": head[-1][0], "growth_factor": 4.0, "backoff_factor": 0.25,
                  "growth_interval": 5, "_growth_tracker": 2}
    b = GradScaler("cpu")
    if touched:                               # tensors exist: load fills them in place
        b.scale(genesis.ones(()))
    b.load_state_dict(sd)
    assert b.get_scale() == head[-1][0] and b._get_growth_tracker() == 2
    assert head + _run(b, 8, start=6) == full


@needs_torch
def test_state_dict_loads_into_torch_and_back():
    g = GradScaler("cpu", init_scale=64.0, growth_interval=3)
    _run(g, 5)
    t = torch.amp.GradScaler("cpu")
    t.load_state_dict(g.state_dict())
    assert t.state_dict() == g.state_dict()
    g2 = GradScaler("cpu")
    g2.load_state_dict(t.state_dict())
    assert g2.state_dict() == g.state_dict()


def test_pickle_round_trip():
    a = GradScaler("cpu", init_scale=2.0 ** 8, growth_interval=5)
    _run(a, 6)
    b = pickle.loads(pickle.dumps(a))
    assert b._scale is None and b._growth_tracker is None
    assert b.state_dict() == a.state_dict()
    assert _run(b, 5, start=6) == _run(a, 5, start=6)


# ---------------------------------------------------------------- disabled
def _check_disabled(s):
    assert not s.is_enabled()
    p = genesis.ones(2, requires_grad=True)
    o = _FakeOpt([p])
    loss = p.sum()
    assert s.scale(loss) is loss
    lst = [loss]
    assert s.scale(lst) is lst
    loss.backward()
    assert s.unscale_(o) is None and p.grad.tolist() == [1.0, 1.0]
    assert s.step(o, 5, closure=1) == ("ret", (5,), {"closure": 1})
    assert s.update() is None and s.update(3.0) is None
    assert s.get_scale() == 1.0 and s._get_growth_tracker() == 0
    assert s.state_dict() == {}
    s.load_state_dict({})                     # a no-op, no error
    assert pickle.loads(pickle.dumps(s)).is_enabled() is False


def test_disabled_passthrough():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = GradScaler("cpu", enabled=False, growth_factor=0.5)   # factors not checked
    _check_disabled(s)


@pytest.mark.skipif(not _cuda_definitely_unavailable(), reason="CUDA is available")
def test_cuda_unavailable_disables_with_warning():
    with pytest.warns(UserWarning, match=r"^torch\.cuda\.amp\.GradScaler is enabled, but CUDA "
                                         r"is not available\.  Disabling\.$") as rec:
        s = GradScaler()
    assert rec[0].filename == __file__       # stacklevel points at the caller
    _check_disabled(s)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not GradScaler("cuda", enabled=False).is_enabled()
