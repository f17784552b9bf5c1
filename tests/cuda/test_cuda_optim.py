"""The fused CUDA optimizer primitives (backend/cuda/optim.py): Adam/AdamW and SGD steps
and GradScaler's unscale, one launch per dtype group, against the CPU optimizers bit for
bit (parameters and states) in float32/float64/float16/bfloat16, with tensors longer than
a program's chunk, gradients missing or strided, and checks that the fused path runs."""
import ml_dtypes
import numpy as np
import pytest

import genesis
from genesis.backend.cuda import backend as cb, optim as co

optim = genesis.optim
DTYPES = ["float32", "float64", "float16", "bfloat16"]
# a tensor longer than one program's chunk (two rows of the table), a small matrix, a
# scalar and an empty one
SHAPES = [(co.CHUNK + 37,), (3, 5), (), (0, 4)]


class Counter:
    """Wraps a kernel to count its launches."""

    def __init__(self, kernel):
        self.kernel, self.n = kernel, 0

    def __getitem__(self, grid):
        self.n += 1
        return self.kernel[grid]


@pytest.fixture
def launches(monkeypatch):
    out = {}
    for name in ("adam_kernel", "sgd_kernel", "unscale_kernel"):
        out[name] = Counter(getattr(co._ko, name))
        monkeypatch.setattr(co._ko, name, out[name])
    return out


def host(t):
    return t.detach().cpu().numpy()


def run(make_opt, dtype, device, steps=2, shapes=SHAPES, none_grad=False, strided=False,
        seed=0):
    """``steps`` optimizer steps from the same values on ``device``: params and state."""
    rng = np.random.default_rng(seed)
    dt = getattr(genesis, dtype)
    ws = [rng.standard_normal(s) for s in shapes]
    ps = [genesis.tensor(w, dtype=dt, device=device, requires_grad=True) for w in ws]
    opt = make_opt(ps)
    for k in range(steps):
        for i, p in enumerate(ps):
            if none_grad and i == 1 and k == 0:
                p.grad = None              # a parameter without a gradient this step
                continue
            g = rng.standard_normal(p.shape[::-1] if strided else p.shape)
            g = genesis.tensor(g, dtype=dt, device=device)
            p.grad = g.t() if strided and g.dim() == 2 else g
        opt.step()
    state = [{k: host(v) for k, v in opt.state[p].items()} for p in ps]
    return [host(p) for p in ps], state


def same(cuda, cpu):
    (pg, sg), (pc, sc) = cuda, cpu
    for a, b in zip(pg, pc):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(sg, sc):
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


ADAMS = {
    "plain": lambda p: optim.Adam(p, lr=0.01),
    "l2_amsgrad_maximize": lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1, amsgrad=True,
                                                maximize=True),
    "l2_lerp_high": lambda p: optim.Adam(p, lr=0.02, betas=(0.3, 0.9), weight_decay=0.05),
    "adamw_amsgrad": lambda p: optim.AdamW(p, lr=0.01, amsgrad=True),
    "adamw_maximize": lambda p: optim.AdamW(p, lr=0.1, betas=(0.2, 0.99), eps=1e-3,
                                            weight_decay=0.3, maximize=True),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ADAMS))
def test_adam_matches_cpu_bit_for_bit(name, dtype, launches):
    cpu = run(ADAMS[name], dtype, "cpu")
    cuda = run(ADAMS[name], dtype, "cuda")
    same(cuda, cpu)
    assert launches["adam_kernel"].n == 2           # one launch a step for the group


SGDS = {
    "plain": lambda p: optim.SGD(p, lr=0.1),
    "maximize_wd": lambda p: optim.SGD(p, lr=0.1, weight_decay=0.1, maximize=True),
    "momentum_dampening": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.3),
    "nesterov_wd": lambda p: optim.SGD(p, lr=0.05, momentum=0.8, weight_decay=1e-2,
                                       nesterov=True),
    "momentum_maximize": lambda p: optim.SGD(p, lr=0.01, momentum=0.9, dampening=0.1,
                                             weight_decay=0.1, maximize=True),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(SGDS))
def test_sgd_matches_cpu_bit_for_bit(name, dtype, launches):
    cpu = run(SGDS[name], dtype, "cpu")
    cuda = run(SGDS[name], dtype, "cuda")
    same(cuda, cpu)
    assert launches["sgd_kernel"].n == 2


@pytest.mark.parametrize("make", [ADAMS["l2_amsgrad_maximize"], SGDS["nesterov_wd"]],
                         ids=["adam", "sgd"])
def test_missing_and_strided_grads(make, launches):
    # a parameter without a gradient on the first step starts its state one step later
    # (Adam's step counts differ: two launches then); transposed gradients are read
    # through a contiguous copy
    kw = dict(shapes=[(4, 6), (5, 3), (7,)], none_grad=True, strided=True, steps=3)
    same(run(make, "float32", "cuda", **kw), run(make, "float32", "cpu", **kw))
    assert launches["adam_kernel"].n + launches["sgd_kernel"].n >= 3


@pytest.mark.parametrize("flag", [{"foreach": False}, {"fused": False}])
def test_foreach_or_fused_false_keeps_the_composed_path(flag, launches):
    kw = dict(shapes=[(3, 5), ()])
    make = lambda p: optim.Adam(p, lr=0.01, **flag)       # noqa: E731
    same(run(make, "float32", "cuda", **kw), run(make, "float32", "cpu", **kw))
    make = lambda p: optim.SGD(p, lr=0.1, momentum=0.9, **flag)       # noqa: E731
    same(run(make, "float32", "cuda", **kw), run(make, "float32", "cpu", **kw))
    assert launches["adam_kernel"].n == launches["sgd_kernel"].n == 0


def test_one_launch_per_dtype_group_and_table_reuse(launches):
    rng = np.random.default_rng(1)
    ps = [genesis.tensor(rng.standard_normal((3, 4)), dtype=dt, device="cuda",
                         requires_grad=True)
          for dt in (genesis.float32, genesis.float16, genesis.float32, genesis.float16)]
    opt = optim.AdamW(ps, lr=0.01)
    for p in ps:
        p.grad = genesis.ones_like(p)
    opt.step()
    assert launches["adam_kernel"].n == 2
    tables = len(co._TABLES)
    opt.step()                        # same addresses: the chunk tables are reused
    assert launches["adam_kernel"].n == 4 and len(co._TABLES) == tables


def grads_of(dtype, bad=None, seed=2):
    """Gradients on CPU and CUDA: contiguous, transposed (dense), sliced (strided)."""
    rng = np.random.default_rng(seed)
    np_dt = getattr(ml_dtypes, dtype, dtype)
    a = (rng.standard_normal((co.CHUNK + 9,)) * 1e3).astype(np_dt)
    b = (rng.standard_normal((6, 5)) * 100).astype(np_dt)
    c = (rng.standard_normal((4, 8)) * 7).astype(np_dt)
    if bad is not None:
        c[2, 4] = bad
    out = {}
    for dev in ("cpu", "cuda"):
        ta, tb, tc = (genesis.tensor(x, device=dev) for x in (a, b, c))
        out[dev] = [ta, tb.t(), tc[:, ::2]]
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bad", [None, np.inf, -np.inf, np.nan])
def test_unscale_and_check(dtype, bad, launches):
    gs = grads_of(dtype, bad)
    inv = np.float32(1 / 48.0)
    expect = [host(g) * inv for g in gs["cpu"]]
    found = cb.full((), 0.0, np.float32)
    co.unscale_and_check([g._data for g in gs["cuda"]], inv, found)
    assert launches["unscale_kernel"].n == 1
    assert float(found) == (0.0 if bad is None else 1.0)
    for g, e in zip(gs["cuda"], expect):
        got = host(g)         # bfloat16 NaNs compare as NaN through float32 only
        np.testing.assert_array_equal(got.astype(np.float64),
                                      e.astype(got.dtype).astype(np.float64))


@pytest.mark.parametrize("start", [False, True])
def test_grad_scaler_uses_the_fused_unscale(start, launches):
    p = genesis.zeros(co.CHUNK + 3, device="cuda", requires_grad=True)
    q = genesis.zeros(4, 3, device="cuda", dtype=genesis.bfloat16, requires_grad=True)
    opt = optim.SGD([p, q], lr=1.0)
    g = np.linspace(-5, 5, p.numel()).astype(np.float32)
    p.grad = genesis.tensor(g, device="cuda")
    q.grad = genesis.full((3, 4), 3.0, dtype=genesis.bfloat16, device="cuda").t()
    scaler = genesis.amp.GradScaler("cuda", init_scale=8.0)
    scaler.scale(genesis.zeros((), device="cuda"))
    inv = genesis.tensor(np.float32(0.125))
    found = genesis.tensor(np.float32(1.0 if start else 0.0))
    out = scaler._unscale_grads_(opt, inv, found, False)
    assert launches["unscale_kernel"].n == 2               # float32 and bfloat16 groups
    assert out[genesis.device("cuda", 0)].item() == (1.0 if start else 0.0)
    np.testing.assert_array_equal(host(p.grad), g * np.float32(0.125))
    np.testing.assert_array_equal(host(q.grad).astype(np.float32), np.full((4, 3), 0.375))


def test_aot_cases_cover_every_kernel():
    names = {case[0].__name__ for case in co._ko.AOT_CASES}
    assert names == {"adam_kernel", "sgd_kernel", "unscale_kernel"}
