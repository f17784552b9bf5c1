"""genesis.optim.lr_scheduler against torch.optim.lr_scheduler: every scheduler over long
runs (lr and momentum/beta1 to 1e-12 relative), chaining, resume from state_dict, the
deprecated epoch path, warnings and error cases; and the schedule tools."""
import gc
import math
import pickle
import warnings
import weakref

import numpy as np
import pytest

import genesis
import genesis.optim as go
from genesis.optim import lr_scheduler as GL
from oracle import needs_torch, torch

TL = torch.optim.lr_scheduler if torch is not None else None
RTOL = 1e-12


def make_opt(lib, kind="sgd", lrs=(0.1, 0.25)):
    """An optimizer of ``lib`` (genesis or torch) with one param group per lr."""
    groups = [{"params": [lib.nn.Parameter(lib.zeros(2))], "lr": lr} for lr in lrs]
    if kind == "sgd":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    if kind == "adam":
        return lib.optim.Adam(groups, lr=0.1, betas=(0.9, 0.99))
    assert kind == "plain"          # an optimizer with neither momentum nor betas

    class Plain(lib.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

        def step(self, closure=None):
            return None
    return Plain(groups)


def momentum_of(group):
    if "betas" in group:
        return group["betas"][0]
    return group.get("momentum", 0.0)


def trace(lib, mod, factory, steps, kind="sgd", lrs=(0.1, 0.25)):
    """lr and momentum/beta1 of every group before each of ``steps`` steps; the
    optimizer steps before the scheduler, as in training."""
    opt = make_opt(lib, kind, lrs)
    sched = factory(mod, opt)
    rows = []
    for _ in range(steps):
        rows.append([float(v) for v in sched.get_last_lr()]
                    + [float(momentum_of(g)) for g in opt.param_groups])
        opt.step()
        sched.step()
    return np.array(rows)


def two(mod, opt, a, b):
    """Two schedulers stepping the same optimizer, as users chain them by hand."""
    s1, s2 = a(mod, opt), b(mod, opt)

    class Both:
        def get_last_lr(self):
            return s2.get_last_lr()

        def step(self):
            s1.step()
            s2.step()
    return Both()


CASES = {
    "step": (lambda m, o: m.StepLR(o, 7, 0.5), "sgd"),
    "step_every": (lambda m, o: m.StepLR(o, step_size=1, gamma=0.99), "sgd"),
    "multistep": (lambda m, o: m.MultiStepLR(o, [10, 30, 30, 80, 250], 0.3), "sgd"),
    "constant": (lambda m, o: m.ConstantLR(o, 0.25, 17), "sgd"),
    "constant_default": (lambda m, o: m.ConstantLR(o), "sgd"),
    "linear": (lambda m, o: m.LinearLR(o, 0.1, 0.9, 37), "sgd"),
    "linear_down": (lambda m, o: m.LinearLR(o, 1.0, 0.0, 200), "sgd"),
    "linear_default": (lambda m, o: m.LinearLR(o), "sgd"),
    "exponential": (lambda m, o: m.ExponentialLR(o, 0.99), "sgd"),
    "polynomial": (lambda m, o: m.PolynomialLR(o, 150, 2.0), "sgd"),
    "polynomial_sqrt": (lambda m, o: m.PolynomialLR(o, total_iters=400, power=0.5), "sgd"),
    "cosine": (lambda m, o: m.CosineAnnealingLR(o, 50, 0.001), "sgd"),
    "cosine_short": (lambda m, o: m.CosineAnnealingLR(o, T_max=7), "sgd"),
    "cosine_long": (lambda m, o: m.CosineAnnealingLR(o, 333, eta_min=1e-4), "sgd"),
    "warm_restarts": (lambda m, o: m.CosineAnnealingWarmRestarts(o, 10, 2, 0.001), "sgd"),
    "warm_restarts_1": (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=13), "sgd"),
    "cyclic": (lambda m, o: m.CyclicLR(o, 0.01, [0.1, 0.2], 20, 30), "sgd"),
    "cyclic_tri2": (lambda m, o: m.CyclicLR(o, [0.01, 0.02], 0.3, 15, mode="triangular2",
                                            base_momentum=0.7, max_momentum=[0.95, 0.9]),
                    "sgd"),
    "cyclic_exp": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, 25, mode="exp_range", gamma=0.995),
                   "sgd"),
    "cyclic_fn": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, 10, 40, scale_fn=lambda x: 0.9 ** x,
                                          scale_mode="iterations"), "sgd"),
    "cyclic_fn_cycle": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, 12, scale_fn=lambda c: 1 / c,
                                                cycle_momentum=False), "sgd"),
    "cyclic_betas": (lambda m, o: m.CyclicLR(o, 0.001, 0.01, 30, base_momentum=0.8,
                                             max_momentum=0.95), "adam"),
    "cyclic_plain": (lambda m, o: m.CyclicLR(o, 0.001, 0.01, 30, cycle_momentum=False),
                     "plain"),
    "onecycle": (lambda m, o: m.OneCycleLR(o, 1.0, total_steps=400), "sgd"),
    "onecycle_3phase": (lambda m, o: m.OneCycleLR(
        o, [1.0, 2.0], epochs=10, steps_per_epoch=40, pct_start=0.25, three_phase=True,
        anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0), "sgd"),
    "onecycle_betas": (lambda m, o: m.OneCycleLR(o, 0.01, total_steps=450,
                                                 base_momentum=0.8, max_momentum=0.97),
                       "adam"),
    "onecycle_nomom": (lambda m, o: m.OneCycleLR(o, 0.5, total_steps=400, pct_start=0.1,
                                                 cycle_momentum=False), "plain"),
    "multiplicative": (lambda m, o: m.MultiplicativeLR(o, lambda e: 0.995), "sgd"),
    "lambda": (lambda m, o: m.LambdaLR(o, lambda e: 1 / (1 + 0.05 * e)), "sgd"),
    "lambda_list": (lambda m, o: m.LambdaLR(o, [lambda e: 0.97 ** e,
                                                lambda e: math.cos(e / 100) ** 2]), "sgd"),
    "sequential": (lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.1, total_iters=20), m.CosineAnnealingLR(o, 100, 1e-4)], [20]),
        "sgd"),
    "sequential3": (lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, 0.5, 10), m.ExponentialLR(o, 0.98),
            m.StepLR(o, 25, 0.5)], milestones=[15, 120]), "sgd"),
    "chain_of_sequential": (lambda m, o: m.ChainedScheduler(
        [m.SequentialLR(o, [m.LinearLR(o, 0.2, total_iters=10), m.ExponentialLR(o, 0.99)],
                        [10]),
         m.StepLR(o, 30, 0.5)]), "sgd"),
    "chained": (lambda m, o: m.ChainedScheduler([m.ExponentialLR(o, 0.99),
                                                 m.StepLR(o, 10, 0.5)]), "sgd"),
    "chained_opt": (lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, 0.1, 30), m.CosineAnnealingLR(o, 80)], optimizer=o), "sgd"),
    "two_step_exp": (lambda m, o: two(m, o, lambda m, o: m.StepLR(o, 10, 0.5),
                                      lambda m, o: m.ExponentialLR(o, 0.995)), "sgd"),
    "two_linear_cos": (lambda m, o: two(m, o, lambda m, o: m.LinearLR(o, 0.01, total_iters=30),
                                        lambda m, o: m.CosineAnnealingLR(o, 120)), "sgd"),
}


@needs_torch
@pytest.mark.parametrize("name", list(CASES))
def test_sequence_matches_torch(name):
    factory, kind = CASES[name]
    steps = 400
    t = trace(torch, TL, factory, steps, kind)
    g = trace(genesis, GL, factory, steps, kind)
    np.testing.assert_allclose(g, t, rtol=RTOL, atol=0)
    assert np.ptp(t[:, 0]) > 0          # the schedule does move over the run


# ---- ReduceLROnPlateau with scripted metrics

def _metrics(seed, n=300):
    r = np.random.default_rng(seed)
    base = np.repeat(r.uniform(0.5, 2.0, n // 10), 10)          # plateaus
    return (base + r.normal(0, 1e-3, n)).tolist()


PLATEAU = {
    "default": dict(patience=5),
    "max_abs": dict(mode="max", threshold_mode="abs", threshold=0.05, patience=3),
    "cooldown": dict(factor=0.5, patience=2, cooldown=4),
    "min_lr_list": dict(factor=0.3, patience=1, min_lr=[0.01, 1e-3]),
    "eps": dict(factor=0.9, patience=0, eps=1e-3, min_lr=0.05),
    "rel_max": dict(mode="max", threshold=0.2, patience=2, cooldown=1),
}


@needs_torch
@pytest.mark.parametrize("name", list(PLATEAU))
def test_reduce_on_plateau_matches_torch(name):
    kw = PLATEAU[name]
    out = []
    for lib, mod in ((torch, TL), (genesis, GL)):
        opt = make_opt(lib)
        sched = mod.ReduceLROnPlateau(opt, **kw)
        rows = []
        for k, m in enumerate(_metrics(3)):
            sched.step(m if k % 2 else lib.tensor(m))        # floats and 0-d tensors
            rows.append(list(sched.get_last_lr()) + [sched.num_bad_epochs,
                                                     sched.cooldown_counter, sched.best])
        out.append((np.array(rows, dtype=float), sched.state_dict()))
    (t, tsd), (g, gsd) = out
    np.testing.assert_allclose(g, t, rtol=RTOL, atol=0)
    assert t[-1, 0] < t[0, 0]
    assert gsd == tsd


@needs_torch
def test_reduce_on_plateau_resume():
    ms = _metrics(7)
    full = make_opt(genesis)
    s_full = GL.ReduceLROnPlateau(full, factor=0.5, patience=2, cooldown=1)
    for m in ms:
        s_full.step(m)
    opt = make_opt(genesis)
    s = GL.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1)
    for m in ms[:150]:
        s.step(m)
    sd, osd = pickle.loads(pickle.dumps((s.state_dict(), opt.state_dict())))
    opt2 = make_opt(genesis)
    s2 = GL.ReduceLROnPlateau(opt2)
    opt2.load_state_dict(osd)
    s2.load_state_dict(sd)
    for m in ms[150:]:
        s2.step(m)
    assert s2.get_last_lr() == s_full.get_last_lr()
    assert s2.state_dict() == s_full.state_dict()


# ---- resume: k steps, state_dict, fresh optimizer + scheduler, load, continue

RESUME = ["step", "multistep", "constant", "linear", "exponential", "polynomial", "cosine",
          "warm_restarts", "cyclic_tri2", "cyclic_betas", "onecycle_3phase", "onecycle_betas",
          "multiplicative", "lambda_list", "sequential3", "chain_of_sequential", "chained"]


@pytest.mark.parametrize("name", RESUME)
@pytest.mark.parametrize("k", [1, 57])
def test_resume(name, k):
    factory, kind = CASES[name]
    steps = 300
    full = trace(genesis, GL, factory, steps, kind)
    opt = make_opt(genesis, kind)
    sched = factory(GL, opt)
    for _ in range(k):
        opt.step()
        sched.step()
    # both state dicts survive pickling (what a checkpoint does)
    ssd, osd = pickle.loads(pickle.dumps((sched.state_dict(), opt.state_dict())))
    opt2 = make_opt(genesis, kind, lrs=(0.7, 0.9))      # wrong lrs: the load must fix them
    sched2 = factory(GL, opt2)
    opt2.load_state_dict(osd)
    sched2.load_state_dict(ssd)
    rows = []
    for _ in range(steps - k):
        rows.append([float(v) for v in sched2.get_last_lr()]
                    + [float(momentum_of(g)) for g in opt2.param_groups])
        opt2.step()
        sched2.step()
    np.testing.assert_allclose(np.array(rows), full[k:], rtol=RTOL, atol=0)


@needs_torch
@pytest.mark.parametrize("name", ["step", "cosine", "cyclic", "onecycle", "sequential",
                                  "chained", "lambda", "warm_restarts", "linear"])
def test_state_dict_equals_torch_and_loads_across(name):
    """Same state_dict as torch after some steps; torch's state loads into genesis."""
    factory, kind = CASES[name]
    topt, gopt = make_opt(torch, kind), make_opt(genesis, kind)
    ts, gs = factory(TL, topt), factory(GL, gopt)
    for _ in range(23):
        topt.step()
        ts.step()
        gopt.step()
        gs.step()
    tsd, gsd = ts.state_dict(), gs.state_dict()
    assert gsd == tsd
    assert list(gsd) == list(tsd)                          # same keys in the same order
    # continue a genesis scheduler from torch's state
    gopt2 = make_opt(genesis, kind)
    gs2 = factory(GL, gopt2)
    gopt2.load_state_dict(gopt.state_dict())
    gs2.load_state_dict(tsd)
    for _ in range(50):
        topt.step()
        ts.step()
        gopt2.step()
        gs2.step()
        np.testing.assert_allclose(gs2.get_last_lr(), ts.get_last_lr(), rtol=RTOL, atol=0)


class Decay:
    """A callable object as lr_lambda: its __dict__ is saved in the state_dict."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


@pytest.mark.parametrize("cls", ["LambdaLR", "MultiplicativeLR"])
def test_lambda_state_dict_saves_callable_objects(cls):
    opt = make_opt(genesis)
    s = getattr(GL, cls)(opt, [Decay(0.9), lambda e: 1.0])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.9}, None]
    assert "optimizer" not in sd
    opt2 = make_opt(genesis)
    s2 = getattr(GL, cls)(opt2, [Decay(0.5), lambda e: 1.0])
    s2.load_state_dict(sd)
    assert s2.lr_lambdas[0].rate == 0.9
    assert sd["lr_lambdas"] == [{"rate": 0.9}, None]         # caller's dict left whole


def test_cyclic_state_dict_custom_scale_fn():
    class Scale:
        def __init__(self):
            self.k = 0.5

        def __call__(self, x):
            return self.k

    s = GL.CyclicLR(make_opt(genesis), 0.01, 0.1, 5, scale_fn=Scale())
    sd = s.state_dict()
    assert sd["_scale_fn_custom"] == {"k": 0.5} and "_scale_fn_ref" not in sd
    s2 = GL.CyclicLR(make_opt(genesis), 0.01, 0.1, 5, scale_fn=Scale())
    sd["_scale_fn_custom"]["k"] = 0.25
    s2.load_state_dict(sd)
    assert s2._scale_fn_custom.k == 0.25
    s3 = GL.CyclicLR(make_opt(genesis), 0.01, 0.1, 5, mode="exp_range", gamma=0.9)
    sd3 = pickle.loads(pickle.dumps(s3.state_dict()))
    s4 = GL.CyclicLR(make_opt(genesis), 0.01, 0.1, 5)
    s4.load_state_dict(sd3)                         # rebuilds the exp_range scale function
    assert s4.scale_fn(2) == pytest.approx(0.81)


# ---- the deprecated explicit-epoch path (closed forms)

EPOCHS = [0, 3, 4, 10, 11, 7, 30, 29, 64, 100, 2]


@needs_torch
@pytest.mark.parametrize("name", ["step", "multistep", "constant", "linear", "exponential",
                                  "polynomial", "cosine", "lambda", "multiplicative"])
def test_step_with_epoch_matches_torch(name):
    factory, kind = CASES[name]
    out = []
    for lib, mod in ((torch, TL), (genesis, GL)):
        opt = make_opt(lib, kind)
        s = factory(mod, opt)
        rows = []
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            for e in EPOCHS:
                opt.step()
                s.step(e)
                rows.append(list(s.get_last_lr()))
        assert any("epoch parameter" in str(x.message) for x in w)
        out.append(np.array(rows))
    np.testing.assert_allclose(out[1], out[0], rtol=RTOL, atol=0)


@needs_torch
@pytest.mark.parametrize("T_0,T_mult", [(10, 1), (10, 2), (3, 3)])
def test_warm_restarts_fractional_epochs(T_0, T_mult):
    epochs = [0.0, 0.5, 1.3, 9.99, 10.0, 10.25, 29.5, 31.0, 5.5, 100.125, 2.0]
    out = []
    for lib, mod in ((torch, TL), (genesis, GL)):
        opt = make_opt(lib)
        s = mod.CosineAnnealingWarmRestarts(opt, T_0, T_mult, eta_min=0.01)
        rows = []
        for e in epochs:
            s.step(e)
            rows.append(list(s.get_last_lr()) + [s.T_cur, s.T_i, s.last_epoch])
        out.append(np.array(rows, dtype=float))
    np.testing.assert_allclose(out[1], out[0], rtol=RTOL, atol=0)


# ---- get_last_lr formatting

def test_get_last_lr_formats_single_value():
    opt = make_opt(genesis, lrs=(0.125,))
    s = GL.ExponentialLR(opt, 0.5)
    lr = s.get_last_lr()
    assert isinstance(lr, list) and lr == [0.125]
    assert f"lr={s.get_last_lr():.6f}" == "lr=0.125000"
    assert f"{lr}" == "[0.125]" and str(lr) == "[0.125]" and repr(lr) == "[0.125]"
    s2 = GL.StepLR(make_opt(genesis), 3)
    assert f"{s2.get_last_lr()}" == "[0.1, 0.25]"
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{s2.get_last_lr():.3f}"
    p = GL.ReduceLROnPlateau(make_opt(genesis, lrs=(0.5,)))
    assert f"{p.get_last_lr():.2f}" == "0.50"


# ---- warnings

def test_step_order_warning():
    opt = make_opt(genesis)
    s = GL.StepLR(opt, 3)
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before"):
        s.step()
    opt = make_opt(genesis)
    s = GL.StepLR(opt, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        s.step()
        s.step()
    assert opt._opt_called


def test_overridden_optimizer_step_warning():
    opt = make_opt(genesis)
    s = GL.ExponentialLR(opt, 0.9)
    opt.step = lambda closure=None: None
    with pytest.warns(UserWarning, match="has been overridden after learning rate scheduler"):
        s.step()


def test_get_lr_outside_step_warns():
    s = GL.StepLR(make_opt(genesis), 3)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        s.get_lr()


def test_two_schedulers_wrap_step_once():
    opt = make_opt(genesis)
    GL.StepLR(opt, 3)
    wrapped = opt.step
    GL.ExponentialLR(opt, 0.9)
    assert opt.step is wrapped and wrapped.__name__ == "step"
    del wrapped
    ref = weakref.ref(opt)
    del opt
    gc.collect()
    assert ref() is None                 # the step wrapper holds the optimizer weakly


def test_importable_from_optim_and_alias():
    for name in GL.__all__:
        assert getattr(go, name) is getattr(GL, name)
    assert issubclass(go.lr_scheduler._LRScheduler, GL.LRScheduler)
    assert go.lr_scheduler is GL


def test_tensor_lr_updated_in_place():
    p = genesis.nn.Parameter(genesis.zeros(2))
    lr = genesis.tensor(0.5, dtype=genesis.float64)
    opt = go.SGD([p], lr=lr)
    s = GL.ExponentialLR(opt, 0.5)
    opt.step()
    s.step()
    assert opt.param_groups[0]["lr"] is lr and lr.item() == 0.25
    assert s.base_lrs[0].item() == 0.5 and s.base_lrs[0] is not lr


# ---- error cases, as torch raises them

ERRORS = [
    (lambda m, o: m.StepLR(object(), 3), TypeError, "object is not an Optimizer"),
    (lambda m, o: m.StepLR(o, 3, last_epoch=4), KeyError, "initial_lr"),
    (lambda m, o: m.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda m, o: m.MultiplicativeLR(o, 0.5), TypeError, "lr_lambda should be a function"),
    (lambda m, o: m.ConstantLR(o, factor=1.5), ValueError, "between 0 and 1"),
    (lambda m, o: m.LinearLR(o, start_factor=0), ValueError, "greater than 0"),
    (lambda m, o: m.LinearLR(o, end_factor=2.0), ValueError, "Ending multiplicative factor"),
    (lambda m, o: m.SequentialLR(o, [], []), ValueError, "at least one scheduler"),
    (lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), m.StepLR(o, 3)], []), ValueError,
     "number of schedulers 2 and the number of milestones to be equal to 0"),
    (lambda m, o: m.SequentialLR(o, [m.ReduceLROnPlateau(o)], []), ValueError,
     "does not support `ReduceLROnPlateau`"),
    (lambda m, o: m.SequentialLR(o, [object()], []), TypeError,
     "should have `optimizer` as its attribute"),
    (lambda m, o: m.ChainedScheduler([]), ValueError, "at least one scheduler to be chained"),
    (lambda m, o: m.ChainedScheduler([m.StepLR(o, 2)], optimizer=make_opt(
        torch if m is TL else genesis)), ValueError, "belong to the same optimizer"),
    (lambda m, o: m.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
    (lambda m, o: m.ReduceLROnPlateau(o, mode="avg"), ValueError, "mode avg is unknown"),
    (lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="x"), ValueError,
     "threshold mode x is unknown"),
    (lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
    (lambda m, o: m.CyclicLR(o, 0.1, 1.0, mode="saw"), ValueError,
     "mode is invalid and scale_fn is None"),
    (lambda m, o: m.CyclicLR(o, [0.1], 1.0), ValueError,
     "base_lr must have the same length as optimizer.param_groups"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, 0), ValueError, "positive integer T_0"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, 2.5), ValueError, "positive integer T_0"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, 5, T_mult=0), ValueError,
     "integer T_mult >= 1"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, 5, eta_min="0"), ValueError,
     "float or int eta_min"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, 5).step(-1), ValueError,
     "non-negative epoch, but got -1"),
    (lambda m, o: m.OneCycleLR(o, 1.0), ValueError, "either total_steps OR"),
    (lambda m, o: m.OneCycleLR(o, 1.0, total_steps=0), ValueError,
     "positive integer total_steps, but got 0"),
    (lambda m, o: m.OneCycleLR(o, 1.0, epochs=0, steps_per_epoch=3), ValueError,
     "positive integer epochs"),
    (lambda m, o: m.OneCycleLR(o, 1.0, epochs=2, steps_per_epoch=-3), ValueError,
     "positive integer steps_per_epoch"),
    (lambda m, o: m.OneCycleLR(o, 1.0, total_steps=10, pct_start=1), ValueError,
     "float between 0 and 1 pct_start"),
    (lambda m, o: m.OneCycleLR(o, 1.0, total_steps=10, anneal_strategy="exp"), ValueError,
     "one of 'cos' or 'linear'"),
    (lambda m, o: m.OneCycleLR(o, [1.0], total_steps=10), ValueError, "max_lr must have"),
]


def _past_the_end(m, o):
    s = m.OneCycleLR(o, 1.0, total_steps=10)
    for _ in range(11):
        s.step()


ERRORS.append((_past_the_end, ValueError,
               "Tried to step 11 times. The specified number of total steps is 10"))


def _no_momentum(m, o):
    m.OneCycleLR(make_opt(torch if m is TL else genesis, "plain"), 1.0, total_steps=10)


ERRORS.append((_no_momentum, ValueError, "optimizer must support momentum or beta1"))


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_as_torch(i):
    fn, exc, match = ERRORS[i]
    libs = [(genesis, GL)] + ([(torch, TL)] if torch is not None else [])
    for lib, mod in libs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(exc, match=match):
                fn(mod, make_opt(lib))


# ---- schedule tools

def test_lr_sequence_leaves_real_scheduler_untouched():
    opt = make_opt(genesis, "sgd")
    s = GL.OneCycleLR(opt, [1.0, 2.0], total_steps=120)
    for _ in range(5):
        opt.step()
        s.step()
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    sd = pickle.loads(pickle.dumps(s.state_dict()))
    seq = go.lr_sequence(s, 100)
    both = go.lr_sequence(s, 100, group=None)
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == groups
    assert s.state_dict() == sd
    assert len(seq) == 100 and both[0] == seq and len(both) == 2
    # the real scheduler then gives exactly the sequence
    real = []
    for _ in range(100):
        real.append(s.get_last_lr()[0])
        opt.step()
        s.step()
    assert real == seq


def test_lr_sequence_factory_and_plateau():
    seq = go.lr_sequence(lambda o: GL.StepLR(o, 3, 0.5), 7)
    assert seq == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    seq = go.lr_sequence(lambda o: GL.CyclicLR(o, 0.0, 1.0, 2), 5, lr=0.3)
    assert seq == pytest.approx([0.0, 0.5, 1.0, 0.5, 0.0])
    opt = make_opt(genesis, lrs=(0.1, 0.4))
    seq = go.lr_sequence(lambda o: GL.ExponentialLR(o, 0.5), 3, opt, group=1)
    assert seq == [0.4, 0.2, 0.1] and opt.param_groups[1]["lr"] == 0.4
    assert "initial_lr" not in opt.param_groups[0]
    p = GL.ReduceLROnPlateau(make_opt(genesis, lrs=(1.0,)), patience=1)
    seq = go.lr_sequence(p, 6, metrics=[1.0] * 6)
    assert seq == pytest.approx([1.0, 1.0, 1.0, 0.1, 0.1, 0.01])
    assert p.get_last_lr() == [1.0] and p.num_bad_epochs == 0
    with pytest.raises(ValueError, match="needs a metric"):
        go.lr_sequence(p, 3)
    with pytest.raises(TypeError, match="expects a scheduler"):
        go.lr_sequence(3, 3)


def test_plot_schedules_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    opt = make_opt(genesis)
    s = GL.CosineAnnealingLR(opt, 20)
    path = tmp_path / "lr.png"
    out = go.plot_schedules({"cos": s, "step": lambda o: GL.StepLR(o, 5),
                             "list": [0.1, 0.05, 0.01]}, str(path), steps=40, log=True)
    assert out == str(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    path2 = tmp_path / "grid.png"
    go.plot_schedules({"cos": s, "cyc": lambda o: GL.CyclicLR(o, 0.1, 1.0, 5)}, path2,
                      steps=30, separate=True, group=None)
    assert path2.read_bytes()[:4] == b"\x89PNG"
    assert s.last_epoch == 0


def _tiny_problem():
    genesis.manual_seed(0)
    model = genesis.nn.Linear(3, 1)
    r = np.random.default_rng(0)
    x = r.normal(size=(16, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    data = [(genesis.tensor(x, dtype=genesis.float32), genesis.tensor(y, dtype=genesis.float32))]
    return model, data


def test_lr_range_test_stops_on_divergence_and_restores(tmp_path):
    model, data = _tiny_problem()
    opt = go.SGD(model.parameters(), lr=0.01, momentum=0.9)
    before = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}

    def loss_fn(out, y):
        return ((out - y) ** 2).mean()

    plot = tmp_path / "range.png" if _has_matplotlib() else None
    lrs, losses, best = go.lr_range_test(model, opt, loss_fn, data, start_lr=1e-4,
                                         end_lr=100, num_steps=200, plot=plot, suggest=True)
    assert 10 < len(lrs) < 200                         # stopped early: it diverged
    assert len(losses) == len(lrs)
    assert losses[-1] > 4.0 * min(losses[:-1]) or not math.isfinite(losses[-1])
    assert lrs[0] == pytest.approx(1e-4) and all(b > a for a, b in zip(lrs, lrs[1:]))
    assert 1e-4 < best < lrs[-1]
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.detach().numpy(), before[k])
    assert opt.param_groups[0]["lr"] == 0.01 and len(opt.state) == 0
    if plot is not None:
        assert plot.read_bytes()[:4] == b"\x89PNG"
    lrs2, losses2 = go.lr_range_test(model, opt, loss_fn, data, start_lr=1e-4, end_lr=100,
                                     num_steps=200)
    assert lrs2 == lrs and losses2 == losses           # restored: the same run again
    with pytest.raises(ValueError, match="start_lr < end_lr"):
        go.lr_range_test(model, opt, loss_fn, data, start_lr=1.0, end_lr=0.1)


def _has_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False
