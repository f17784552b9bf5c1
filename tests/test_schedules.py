"""genesis.optim.schedules (the Hugging Face transformers schedules): values against
closed forms written from transformers' formulas, against torch's LambdaLR running the
same multiplier, a few hand-checked points, get_scheduler, state_dict and resume."""
import pickle
import warnings

import numpy as np
import pytest

import genesis
import genesis.optim as go
from oracle import needs_torch, torch

LR = 0.5


def make_opt(lib=genesis, lrs=(LR,)):
    groups = [{"params": [lib.nn.Parameter(lib.zeros(2))], "lr": lr} for lr in lrs]
    return lib.optim.SGD(groups, lr=LR)


def run(sched, opt, steps):
    out = []
    for _ in range(steps):
        out.append([float(v) for v in sched.get_last_lr()])
        opt.step()
        sched.step()
    return np.array(out)


def _warm(s, w):
    return s / max(1, w)


# Closed forms of each multiplier as a function of the step array s (NumPy), written from
# transformers' definitions.
def cf_linear(s, w, n):
    return np.where(s < w, _warm(s, w), np.maximum(0.0, (n - s) / max(1, n - w)))


def cf_cosine(s, w, n, c=0.5, rate=0.0):
    p = (s - w) / max(1, n - w)
    f = 0.5 * (1 + np.cos(np.pi * c * 2 * p)) * (1 - rate) + rate
    return np.where(s < w, _warm(s, w), np.maximum(0.0, f))


def cf_hard(s, w, n, c=1):
    p = (s - w) / max(1, n - w)
    f = np.where(p >= 1, 0.0, 0.5 * (1 + np.cos(np.pi * np.mod(c * p, 1.0))))
    return np.where(s < w, _warm(s, w), f)


def cf_poly(s, w, n, end, power, init=LR):
    rem = 1 - (s - w) / (n - w)
    f = np.where(s > n, end / init, ((init - end) * np.abs(rem) ** power + end) / init)
    return np.where(s < w, _warm(s, w), f)


def cf_inv_sqrt(s, w, t):
    return np.where(s < w, _warm(s, w), 1 / np.sqrt(np.maximum(s + t - w, 1e-300) / t))


def cf_constant_warmup(s, w):
    return np.where(s < w, s / max(1.0, w), 1.0)


def cf_cos_warm_rate(s, w, n, c, rate, wrate):
    warm = (s + 1) / max(1.0, w) if wrate is None else wrate + (1 - wrate) * s / max(1, w - 1)
    p = (s - w + 1) / max(1.0, n - w)
    f = 0.5 * (1 + np.cos(np.pi * c * 2 * p)) * (1 - rate) + rate
    return np.where(s < w, warm, np.maximum(0.0, f))


def cf_wsd(s, w, st, d, wt="linear", dt="cosine", r=0.0, c=0.5):
    pw = s / max(1, w)
    warm = {"linear": pw, "cosine": 0.5 * (1 - np.cos(np.pi * pw)),
            "1-sqrt": 1 - np.sqrt(np.clip(1 - pw, 0, None))}[wt]
    pd = np.clip((s - w - st) / max(1, d), 0, None)
    dec = {"linear": 1 - pd, "cosine": 0.5 * (1 + np.cos(np.pi * c * 2 * pd)),
           "1-sqrt": 1 - np.sqrt(pd)}[dt]
    return np.select([s < w, s < w + st, s < w + st + d],
                     [np.maximum(0, warm * (1 - r) + r), 1.0, np.maximum(0, dec * (1 - r) + r)],
                     r)


CASES = {
    "constant": (lambda o: go.get_constant_schedule(o), lambda s: np.ones_like(s)),
    "constant_warmup": (lambda o: go.get_constant_schedule_with_warmup(o, 37),
                        lambda s: cf_constant_warmup(s, 37)),
    "constant_warmup0": (lambda o: go.get_constant_schedule_with_warmup(o, 0),
                         lambda s: cf_constant_warmup(s, 0)),
    "linear": (lambda o: go.get_linear_schedule_with_warmup(o, 50, 400),
               lambda s: cf_linear(s, 50, 400)),
    "linear_nowarm": (lambda o: go.get_linear_schedule_with_warmup(o, 0, 300),
                      lambda s: cf_linear(s, 0, 300)),
    "cosine": (lambda o: go.get_cosine_schedule_with_warmup(o, 40, 450),
               lambda s: cf_cosine(s, 40, 450)),
    "cosine_cycles": (lambda o: go.get_cosine_schedule_with_warmup(o, 10, 300, num_cycles=2.25),
                      lambda s: cf_cosine(s, 10, 300, 2.25)),
    "hard_restarts": (lambda o: go.get_cosine_with_hard_restarts_schedule_with_warmup(
        o, 20, 400, num_cycles=3), lambda s: cf_hard(s, 20, 400, 3)),
    "hard_restarts1": (lambda o: go.get_cosine_with_hard_restarts_schedule_with_warmup(
        o, 0, 350), lambda s: cf_hard(s, 0, 350)),
    "polynomial": (lambda o: go.get_polynomial_decay_schedule_with_warmup(o, 30, 300),
                   lambda s: cf_poly(s, 30, 300, 1e-7, 1.0)),
    "polynomial_p2": (lambda o: go.get_polynomial_decay_schedule_with_warmup(
        o, 10, 350, lr_end=0.01, power=2.0), lambda s: cf_poly(s, 10, 350, 0.01, 2.0)),
    "inverse_sqrt": (lambda o: go.get_inverse_sqrt_schedule(o, 25),
                     lambda s: cf_inv_sqrt(s, 25, 25)),
    "inverse_sqrt_ts": (lambda o: go.get_inverse_sqrt_schedule(o, 10, timescale=100),
                        lambda s: cf_inv_sqrt(s, 10, 100)),
    "inverse_sqrt_0": (lambda o: go.get_inverse_sqrt_schedule(o, 0),
                       lambda s: cf_inv_sqrt(s, 0, 10_000)),
    "cos_min_lr": (lambda o: go.get_cosine_with_min_lr_schedule_with_warmup(
        o, 20, 300, min_lr=0.05), lambda s: cf_cosine(s, 20, 300, 0.5, 0.05 / LR)),
    "cos_min_lr_rate": (lambda o: go.get_cosine_with_min_lr_schedule_with_warmup(
        o, 20, 300, num_cycles=1.0, min_lr_rate=0.2),
        lambda s: cf_cosine(s, 20, 300, 1.0, 0.2)),
    "cos_warmup_rate": (lambda o: go.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
        o, 20, 300, min_lr_rate=0.1), lambda s: cf_cos_warm_rate(s, 20, 300, 0.5, 0.1, None)),
    "cos_warmup_rate2": (lambda o: go.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
        o, 20, 300, min_lr=0.01, warmup_lr_rate=0.3),
        lambda s: cf_cos_warm_rate(s, 20, 300, 0.5, 0.01 / LR, 0.3)),
    "wsd": (lambda o: go.get_wsd_schedule(o, 30, 100, num_training_steps=300),
            lambda s: cf_wsd(s, 30, 170, 100)),
    "wsd_stable": (lambda o: go.get_wsd_schedule(o, 50, 120, num_stable_steps=100,
                                                 warmup_type="cosine", decay_type="linear",
                                                 min_lr_ratio=0.1),
                   lambda s: cf_wsd(s, 50, 100, 120, "cosine", "linear", 0.1)),
    "wsd_sqrt": (lambda o: go.get_wsd_schedule(o, 40, 80, 250, warmup_type="1-sqrt",
                                               decay_type="1-sqrt", min_lr_ratio=0.05),
                 lambda s: cf_wsd(s, 40, 130, 80, "1-sqrt", "1-sqrt", 0.05)),
    "wsd_cycles": (lambda o: go.get_wsd_schedule(o, 10, 200, 300, num_cycles=1.0),
                   lambda s: cf_wsd(s, 10, 90, 200, c=1.0)),
}

STEPS = 500


@pytest.mark.parametrize("name", list(CASES))
def test_closed_form(name):
    factory, closed = CASES[name]
    opt = make_opt(genesis, lrs=(LR, 0.2))
    got = run(factory(opt), opt, STEPS)
    s = np.arange(STEPS, dtype=float)
    want = closed(s)
    np.testing.assert_allclose(got[:, 0], LR * want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got[:, 1], 0.2 * want, rtol=1e-12, atol=1e-15)


@needs_torch
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch_lambda_lr(name):
    factory, _ = CASES[name]
    gopt = make_opt(genesis)
    gs = factory(gopt)
    topt = make_opt(torch)
    ts = torch.optim.lr_scheduler.LambdaLR(topt, gs.lr_lambdas[0])
    np.testing.assert_allclose(run(gs, gopt, STEPS), run(ts, topt, STEPS), rtol=1e-12, atol=0)
    assert gs.state_dict() == ts.state_dict()


HAND = [
    # (factory, {step: multiplier})
    (lambda o: go.get_linear_schedule_with_warmup(o, 10, 110),
     {0: 0.0, 5: 0.5, 10: 1.0, 60: 0.5, 110: 0.0, 200: 0.0}),
    (lambda o: go.get_cosine_schedule_with_warmup(o, 10, 110),
     {5: 0.5, 10: 1.0, 60: 0.5, 110: 0.0}),
    (lambda o: go.get_cosine_with_hard_restarts_schedule_with_warmup(o, 0, 100, num_cycles=2),
     {0: 1.0, 25: 0.5, 50: 1.0, 75: 0.5, 100: 0.0, 130: 0.0}),
    (lambda o: go.get_polynomial_decay_schedule_with_warmup(o, 0, 100, lr_end=0.1, power=2),
     {0: 1.0, 50: (0.4 * 0.25 + 0.1) / 0.5, 100: 0.2, 150: 0.2}),
    (lambda o: go.get_inverse_sqrt_schedule(o, 100),
     {50: 0.5, 100: 1.0, 400: 0.5, 1600: 0.25}),
    (lambda o: go.get_constant_schedule_with_warmup(o, 4), {0: 0.0, 1: 0.25, 4: 1.0, 99: 1.0}),
    (lambda o: go.get_cosine_with_min_lr_schedule_with_warmup(o, 0, 100, min_lr=0.1),
     {0: 1.0, 50: 0.6, 100: 0.2}),
    (lambda o: go.get_wsd_schedule(o, 10, 20, num_training_steps=100, decay_type="linear",
                                   min_lr_ratio=0.1),
     {0: 0.1, 5: 0.55, 10: 1.0, 79: 1.0, 80: 1.0, 90: 0.55, 100: 0.1, 500: 0.1}),
]


@pytest.mark.parametrize("i", range(len(HAND)))
def test_hand_checked(i):
    factory, points = HAND[i]
    opt = make_opt()
    s = factory(opt)
    for step, mult in points.items():
        assert s.lr_lambdas[0](step) == pytest.approx(mult, abs=1e-12), step
    seq = go.lr_sequence(s, max(points) + 1)
    for step, mult in points.items():
        assert seq[step] == pytest.approx(LR * mult, abs=1e-12), step


# ---- get_scheduler

NAMES = {
    "linear": go.get_linear_schedule_with_warmup,
    "cosine": go.get_cosine_schedule_with_warmup,
    "cosine_with_restarts": go.get_cosine_with_hard_restarts_schedule_with_warmup,
    "polynomial": go.get_polynomial_decay_schedule_with_warmup,
    "constant_with_warmup": go.get_constant_schedule_with_warmup,
}


@pytest.mark.parametrize("name", list(NAMES))
def test_get_scheduler_names(name):
    o1, o2 = make_opt(), make_opt()
    if name == "constant_with_warmup":
        a = go.get_scheduler(name, o1, num_warmup_steps=7, num_training_steps=50)
        b = NAMES[name](o2, 7)
    else:
        a = go.get_scheduler(name, o1, num_warmup_steps=7, num_training_steps=50)
        b = NAMES[name](o2, 7, 50)
    assert isinstance(a, go.LambdaLR)
    assert go.lr_sequence(a, 60) == go.lr_sequence(b, 60)


def test_get_scheduler_other_names_and_kwargs():
    o = make_opt()
    assert go.lr_sequence(go.get_scheduler("constant", o), 5) == [LR] * 5
    s = go.get_scheduler(go.SchedulerType.INVERSE_SQRT, make_opt(), num_warmup_steps=4)
    assert s.lr_lambdas[0].keywords == {"num_warmup_steps": 4, "timescale": 4}
    p = go.get_scheduler("reduce_lr_on_plateau", make_opt(),
                         scheduler_specific_kwargs={"patience": 3, "factor": 0.5})
    assert isinstance(p, go.ReduceLROnPlateau) and (p.patience, p.factor) == (3, 0.5)
    s = go.get_scheduler("cosine_with_restarts", make_opt(), 5, 100,
                         scheduler_specific_kwargs={"num_cycles": 4})
    assert s.lr_lambdas[0].keywords["num_cycles"] == 4
    s = go.get_scheduler("cosine_with_min_lr", make_opt(), 5, 100,
                         scheduler_specific_kwargs={"min_lr_rate": 0.1})
    assert go.lr_sequence(s, 101)[-1] == pytest.approx(0.1 * LR)
    s = go.get_scheduler("warmup_stable_decay", make_opt(), 5,
                         scheduler_specific_kwargs={"num_stable_steps": 10,
                                                    "num_decay_steps": 5})
    assert go.lr_sequence(s, 25)[5:16] == [LR] * 11
    s = go.get_scheduler("warmup_stable_decay", make_opt(), 5, 30,
                         scheduler_specific_kwargs={"num_decay_steps": 5})
    assert s.lr_lambdas[0].keywords["num_stable_steps"] == 20


ERRORS = [
    (lambda o: go.get_scheduler("nope", o), "nope is not a valid SchedulerType"),
    (lambda o: go.get_scheduler("linear", o, num_training_steps=10),
     "linear requires `num_warmup_steps`"),
    (lambda o: go.get_scheduler("cosine", o, num_warmup_steps=3),
     "cosine requires `num_training_steps`"),
    (lambda o: go.get_scheduler("inverse_sqrt", o), "inverse_sqrt requires `num_warmup_steps`"),
    (lambda o: go.get_scheduler("warmup_stable_decay", o, 3,
                                scheduler_specific_kwargs={"num_decay_steps": 4}),
     "Either num_training_steps or num_stable_steps"),
    (lambda o: go.get_scheduler("cosine_with_min_lr", o, 3, 10),
     "One of min_lr or min_lr_rate should be set"),
    (lambda o: go.get_cosine_with_min_lr_schedule_with_warmup(o, 3, 10, min_lr=0.1,
                                                              min_lr_rate=0.1),
     "Only one of min_lr or min_lr_rate"),
    (lambda o: go.get_polynomial_decay_schedule_with_warmup(o, 3, 10, lr_end=LR),
     r"lr_end \(0.5\) must be smaller than initial lr \(0.5\)"),
    (lambda o: go.get_wsd_schedule(o, 3, 4, 10, warmup_type="exp"), "Unknown warmup type: exp"),
    (lambda o: go.get_wsd_schedule(o, 3, 4, 10, decay_type="step"), "Unknown decay type: step"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors(i):
    fn, match = ERRORS[i]
    with pytest.raises(ValueError, match=match):
        fn(make_opt())


def test_wsd_both_lengths_warns():
    with pytest.warns(UserWarning, match="num_stable_steps will be used"):
        s = go.get_wsd_schedule(make_opt(), 2, 3, num_training_steps=100, num_stable_steps=4)
    assert go.lr_sequence(s, 12)[-1] == 0.0          # 2 + 4 + 3 steps, then min_lr_ratio


def test_scheduler_specific_kwargs_mismatch_is_type_error():
    with pytest.raises(TypeError):
        go.get_scheduler("linear", make_opt(), 3, 10, scheduler_specific_kwargs={"power": 2})


# ---- state_dict, pickling and resume

@pytest.mark.parametrize("name", ["linear", "cosine_cycles", "polynomial_p2", "wsd_stable",
                                  "cos_warmup_rate2", "inverse_sqrt_ts"])
def test_state_dict_pickle_and_resume(name):
    factory, _ = CASES[name]
    opt = make_opt()
    full = run(factory(opt), opt, 300)
    opt = make_opt()
    s = factory(opt)
    run(s, opt, 123)
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{}]                       # a partial's (empty) __dict__
    ssd, osd = pickle.loads(pickle.dumps((sd, opt.state_dict())))
    fn = pickle.loads(pickle.dumps(s.lr_lambdas[0]))      # the multiplier itself pickles
    assert [fn(k) for k in range(0, 300, 7)] == [s.lr_lambdas[0](k) for k in range(0, 300, 7)]
    opt2 = make_opt()
    s2 = factory(opt2)
    opt2.load_state_dict(osd)
    s2.load_state_dict(ssd)
    np.testing.assert_allclose(run(s2, opt2, 300 - 123), full[123:], rtol=1e-12, atol=0)


def test_constant_schedule_state_dict_plain_function():
    s = go.get_constant_schedule(make_opt())
    assert s.state_dict()["lr_lambdas"] == [None]


def test_last_epoch_resume_argument():
    """last_epoch >= 0 continues a schedule from a loaded optimizer (initial_lr present)."""
    opt = make_opt()
    s = go.get_linear_schedule_with_warmup(opt, 10, 100)
    run(s, opt, 30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s2 = go.get_linear_schedule_with_warmup(opt, 10, 100, last_epoch=29)
    assert s2.get_last_lr() == pytest.approx([LR * 70 / 90])
    with pytest.raises(KeyError, match="initial_lr"):
        go.get_linear_schedule_with_warmup(make_opt(), 10, 100, last_epoch=5)
