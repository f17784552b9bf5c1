"""The fused layer/RMS norm primitives of the CUDA backend (backend/cuda/norm.py) and the
ops that use them (genesis/ops/norm.py) against the CPU backend: outputs and the input,
weight and bias gradients (also second order), float32/float64/float16/bfloat16, rows
below and above the one-tile limit (MAX_BLOCK_N, lowered here so chunked rows stay
small), strided inputs; and that the fused path is the one taken on 'cuda'.

Tolerances: the kernels sum in float32 (float64 for float64) in a tree order, the CPU
with BLAS/einsum: float32 agrees to ~1e-5 relative, float64 to ~1e-12; float16/bfloat16
outputs round once from float32, so they match the CPU to one ulp of the output."""
import ml_dtypes
import numpy as np
import pytest

import genesis
import genesis.nn.functional as F
from genesis.backend.cuda import backend as B, norm as CN

TOL = {"float32": (2e-5, 2e-5), "float64": (1e-11, 1e-11), "float16": (2e-3, 2e-2),
       "bfloat16": (1e-2, 5e-2)}


def np_dtype(name):
    return np.dtype(getattr(ml_dtypes, name, name))


def sample(shape, seed, dtype="float64", shift=0.0):
    r = np.random.default_rng(seed)
    return (r.standard_normal(shape) * 2 + shift).astype(np_dtype(dtype))


def close(got, want, dtype):
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64),
                               rtol=rtol, atol=atol)


@pytest.fixture(params=[False, True], ids=["one-tile", "chunked"])
def chunked(request, monkeypatch):
    if request.param:
        monkeypatch.setattr(CN, "MAX_BLOCK_N", 16)
    return request.param


def _run(dev, fn, x, params, g, create_graph=False):
    """fn's output and the gradients of sum(out * g) for x and the params, on dev."""
    X = genesis.tensor(x, device=dev, requires_grad=True)
    P = [None if p is None else genesis.tensor(p, device=dev, requires_grad=True)
         for p in params]
    y = fn(X, *P)
    leaves = [X] + [p for p in P if p is not None]
    grads = genesis.autograd.grad((y * genesis.tensor(g, device=dev)).sum(), leaves,
                                  create_graph=create_graph)
    return y, grads, X, P


CASES = [  # (name, x shape, weight?, bias?)
    ("layer_norm", (4, 3, 40), True, True),
    ("layer_norm", (5, 24), False, False),
    ("layer_norm", (2, 3, 5, 8), True, False),      # normalized over the last two dims
    ("rms_norm", (6, 40), True, None),
    ("rms_norm", (3, 2, 17), False, None),
]


def _fn(name, shape, nd):
    ns = shape[-nd:]
    if name == "layer_norm":
        return ns, lambda x, w=None, b=None: F.layer_norm(x, ns, w, b, eps=1e-5)
    return ns, lambda x, w=None: F.rms_norm(x, ns, w)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("name,shape,has_w,has_b", CASES)
def test_ops_match_cpu(name, shape, has_w, has_b, dtype, chunked):
    nd = 2 if len(shape) == 4 else 1
    ns, fn = _fn(name, shape, nd)
    x = sample(shape, 0, dtype, shift=3.0)           # a mean to take out
    pdt = "float32" if dtype in ("float16", "bfloat16") and has_w else dtype
    params = [sample(ns, 1, pdt) if has_w else None]
    if has_b is not None:
        params.append(sample(ns, 2, pdt) if has_b else None)
    g = sample(shape, 3, dtype)
    ycpu, gcpu, *_ = _run("cpu", fn, x, params, g)
    ycu, gcu, *_ = _run("cuda", fn, x, params, g)
    assert ycu.device.type == "cuda"
    assert ycu.dtype == ycpu.dtype and ycu.shape == ycpu.shape
    close(ycu.detach().cpu().numpy(), ycpu.detach().numpy(), dtype)
    for a, b in zip(gcu, gcpu):
        assert a.dtype == b.dtype and a.shape == b.shape
        # gradients of low precision inputs are summed over many terms: looser
        close(a.detach().cpu().numpy(), b.detach().numpy(), dtype if a.dtype != genesis.float32 or
              dtype == "float32" else "float16")


@pytest.mark.parametrize("name", ["layer_norm", "rms_norm"])
def test_double_backward_matches_cpu(name, chunked):
    shape = (3, 20)
    ns, fn = _fn(name, shape, 1)
    x, w, g = sample(shape, 4, shift=1.0), sample(ns, 5), sample(shape, 6)
    params = [w, sample(ns, 7)] if name == "layer_norm" else [w]
    out = {}
    for dev in ("cpu", "cuda"):
        y, grads, X, P = _run(dev, fn, x, params, g, create_graph=True)
        s = sum((gr * gr).sum() for gr in grads)
        out[dev] = genesis.autograd.grad(s, [X, P[0]])
    for a, b in zip(out["cuda"], out["cpu"]):
        close(a.detach().cpu().numpy(), b.detach().numpy(), "float64")


def test_strided_input_and_grad(chunked):
    base = sample((6, 50), 8, "float32", shift=-2.0)
    w, b = sample(40, 9, "float32"), sample(40, 10, "float32")
    res = {}
    for dev in ("cpu", "cuda"):
        X = genesis.tensor(base, device=dev, requires_grad=True)
        xs = X[::2, 5:45]                             # rows and columns both strided
        W = genesis.tensor(w, device=dev, requires_grad=True)
        y = F.layer_norm(xs, (40,), W, genesis.tensor(b, device=dev))
        (y[:, ::3].sum() + y.t().sum(0).sum() * 0.5).backward()   # non-contiguous grad
        res[dev] = (y.detach().detach().cpu().numpy(), X.grad.detach().cpu().numpy(), W.grad.detach().cpu().numpy())
    for a, c in zip(res["cuda"], res["cpu"]):
        close(a, c, "float32")


@pytest.mark.parametrize("centered", [True, False])
@pytest.mark.parametrize("M", [1, 9, 70])
def test_primitives_against_numpy(M, centered, chunked):
    """norm_fwd's mean/rstd and norm_bwd's dw/db partials folded over several programs."""
    N = 33
    x, g = sample((M, N), 11, "float64", shift=5.0), sample((M, N), 12)
    w, b = sample(N, 13), sample(N, 14)
    y, mean, rstd = CN.norm_fwd(B.from_host(x), B.from_host(w), B.from_host(b), 1e-6,
                                centered)
    mu = x.mean(1, keepdims=True) if centered else 0.0
    r = 1 / np.sqrt(((x - mu) ** 2).mean(1, keepdims=True) + 1e-6)
    xh = (x - mu) * r
    close(B.to_host(y), xh * w + b, "float64")
    close(B.to_host(rstd), r[:, 0], "float64")
    assert (mean is None) != centered
    if centered:
        close(B.to_host(mean), mu[:, 0], "float64")
    dx, dw, db = CN.norm_bwd(B.from_host(g), B.from_host(x), B.from_host(w), mean, rstd,
                             centered, True, True, True)
    gh = g * w
    want = r * (gh - (gh.mean(1, keepdims=True) if centered else 0)
                - xh * (gh * xh).mean(1, keepdims=True))
    close(B.to_host(dx), want, "float64")
    close(B.to_host(dw), (g * xh).sum(0), "float64")
    close(B.to_host(db), g.sum(0), "float64")
    # only what is asked for
    dx, dw, db = CN.norm_bwd(B.from_host(g), B.from_host(x), None, mean, rstd, centered,
                             False, True, False)
    assert dx is None and dw is None and db is None


def test_empty_rows():
    for dev in ("cpu", "cuda"):
        X = genesis.zeros((0, 5), device=dev, requires_grad=True)
        W = genesis.ones(5, device=dev, requires_grad=True)
        Bb = genesis.zeros(5, device=dev, requires_grad=True)
        y = F.layer_norm(X, (5,), W, Bb)
        y.sum().backward()
        assert y.shape == (0, 5) and X.grad.shape == (0, 5)
        np.testing.assert_array_equal(W.grad.detach().cpu().numpy(), np.zeros(5, np.float32))
        np.testing.assert_array_equal(Bb.grad.detach().cpu().numpy(), np.zeros(5, np.float32))


def test_fused_path_is_taken(monkeypatch):
    calls = {"fwd": 0, "bwd": 0}
    fwd, bwd = B.norm_fwd, B.norm_bwd

    def count(key, f):
        def wrapped(*a, **k):
            calls[key] += 1
            return f(*a, **k)
        return wrapped

    monkeypatch.setattr(B, "norm_fwd", count("fwd", fwd))
    monkeypatch.setattr(B, "norm_bwd", count("bwd", bwd))
    x = genesis.tensor(sample((4, 8), 15, "float32"), device="cuda", requires_grad=True)
    F.layer_norm(x, (8,)).sum().backward()
    F.rms_norm(x, (8,)).sum().backward()
    assert calls == {"fwd": 2, "bwd": 2}
    # group norm keeps the generic path
    F.group_norm(x.reshape(2, 4, 4), 2).sum().backward()
    assert calls == {"fwd": 2, "bwd": 2}
