"""Flash attention on CUDA (backend/cuda/attention.py): scaled_dot_product_attention
without a mask or dropout takes the flash kernels, and its values, input gradients and
second-order gradients equal the CPU backend's (the composed path, itself tested against
torch in tests/test_nn_attention.py) and torch's where installed.

Shapes cross the interpreter's 32-row blocks (45 and 70 rows: several query and key
blocks, causal blocks skipped, partial last blocks), L == S, L > S and L < S (torch's
top-left causal alignment), head dims that are not powers of two and Ev != E, the
heads-inner layout of (B, L, H, E) projections, broadcast batch dims, batches of three
dims that do not merge (the launch loop), 2-D and 3-D inputs and GQA.

Tolerances: float32 computes in float32 with another summation order than the CPU's
(1e-5 relative to the result's largest magnitude); float16/bfloat16 multiply in their
dtype with float32 accumulation where the CPU computes in float32 and rounds once: a few
ulps of the dtype (float16 4e-3, bfloat16 3e-2) relative to the largest magnitude.
"""
import numpy as np
import pytest

import genesis
import genesis.nn.functional as F
from genesis.backend.cuda import backend as B

try:
    import torch
except ImportError:
    torch = None

TOL = {"float32": 1e-5, "float16": 4e-3, "bfloat16": 3e-2}


@pytest.fixture
def calls(monkeypatch):
    counts = {"fwd": 0, "bwd": 0}
    fwd, bwd = B.flash_attn_fwd, B.flash_attn_bwd

    def f(*a, **k):
        counts["fwd"] += 1
        return fwd(*a, **k)

    def b(*a, **k):
        counts["bwd"] += 1
        return bwd(*a, **k)
    monkeypatch.setattr(B, "flash_attn_fwd", f)
    monkeypatch.setattr(B, "flash_attn_bwd", b)
    return counts


def sample(shape, seed, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def heads_inner(a):
    """(B, H, L, E) data as the view of a (B, L, H, E) array, as attention after a
    projection and .view(B, L, H, E).transpose(1, 2) sees it."""
    return np.ascontiguousarray(np.swapaxes(a, -2, -3)), True


def run(arrays, dtype, device, layout=None, gqa=False, **kw):
    """Output and input gradients of sdpa on ``device``: the loss weights the output by
    a fixed array so that every gradient is non-trivial."""
    ts = []
    for a in arrays:
        if layout == "heads_inner" and a.ndim == 4:
            t = genesis.tensor(np.ascontiguousarray(np.swapaxes(a, 1, 2)),
                               device=device).transpose(1, 2)
        else:
            t = genesis.tensor(a, device=device)
        ts.append(t.to(getattr(genesis, dtype)).detach().requires_grad_())
    out = F.scaled_dot_product_attention(*ts, enable_gqa=gqa, **kw)
    w = genesis.tensor(sample(tuple(out.shape), 99), device=device)
    (out.float() * w).sum().backward()
    return [out] + [t.grad for t in ts]


def close(got, want, dtype, what):
    g = got.float().cpu().detach().numpy().astype(np.float64)
    w = want.float().cpu().detach().numpy().astype(np.float64)
    assert g.shape == w.shape, what
    tol = TOL[dtype] * max(1.0, np.abs(w).max())
    err = np.abs(g - w).max() if w.size else 0.0
    assert err <= tol, f"{what}: max error {err:.3g} > {tol:.3g}"


# name: (q shape, k shape, v shape, kwargs for sdpa and run)
CASES = {
    "square": ((2, 3, 45, 16), (2, 3, 45, 16), (2, 3, 45, 16), {}),
    "L>S": ((1, 2, 70, 20), (1, 2, 33, 20), (1, 2, 33, 12), {}),
    "L<S": ((2, 1, 33, 8), (2, 1, 70, 8), (2, 1, 70, 24), {}),
    "heads_inner": ((2, 4, 40, 16), (2, 4, 40, 16), (2, 4, 40, 16),
                    {"layout": "heads_inner"}),
    "bcast_batch": ((3, 2, 20, 8), (1, 2, 20, 8), (3, 1, 20, 8), {}),
    "3d": ((4, 37, 32), (4, 37, 32), (4, 37, 32), {}),
    "2d": ((19, 8), (23, 8), (23, 8), {}),
    "three_batch_dims": ((2, 2, 3, 17, 8), (2, 1, 3, 17, 8), (2, 2, 3, 17, 8), {}),
    "gqa": ((1, 4, 21, 8), (1, 2, 21, 8), (1, 2, 21, 8), {"gqa": True}),
}


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("name", list(CASES))
def test_flash_matches_cpu(name, causal, calls):
    qs, ks, vs, kw = CASES[name]
    arrays = [sample(s, i + 1) for i, s in enumerate((qs, ks, vs))]
    got = run(arrays, "float32", "cuda", is_causal=causal, **kw)
    assert calls == {"fwd": 1, "bwd": 1}
    want = run(arrays, "float32", "cpu", is_causal=causal, **kw)
    for what, g, w in zip(("out", "dq", "dk", "dv"), got, want):
        close(g, w, "float32", what)
        assert g.device.type == "cuda"


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("causal", [False, True])
def test_flash_low_precision(dtype, causal, calls):
    arrays = [sample((2, 2, 40, 16), i) for i in (1, 2, 3)]
    got = run(arrays, dtype, "cuda", is_causal=causal)
    assert calls == {"fwd": 1, "bwd": 1}
    want = run(arrays, dtype, "cpu", is_causal=causal)
    for what, g, w in zip(("out", "dq", "dk", "dv"), got, want):
        assert g.dtype == getattr(genesis, dtype)
        close(g, w, dtype, what)


@pytest.mark.parametrize("causal", [False, True])
def test_flash_large_scores_stay_finite(causal):
    # scores in the hundreds: the online softmax rescales by its running max. The
    # gradients' condition grows with the scores, so the measure is float64: flash's
    # error is at most the composed float32 path's (with a 2x margin)
    arrays = [sample((1, 2, 40, 8), 1, 30.0), sample((1, 2, 40, 8), 2, 3.0),
              sample((1, 2, 40, 8), 3)]
    got = run(arrays, "float32", "cuda", is_causal=causal)
    f32 = run(arrays, "float32", "cpu", is_causal=causal)
    exact = run(arrays, "float64", "cpu", is_causal=causal)
    for what, g, c, w in zip(("out", "dq", "dk", "dv"), got, f32, exact):
        g, c, w = (t.cpu().detach().double().numpy() for t in (g, c, w))
        assert np.isfinite(g).all(), what
        scale = np.abs(w).max()
        assert np.abs(g - w).max() <= 2 * np.abs(c - w).max() + 1e-6 * scale, what


def test_flash_outputs_take_the_heads_inner_layout():
    # as torch's flash kernels: the output and gradients for a (B, L, H, E) projection
    # seen as (B, H, L, E) are laid out (B, L, H, E), so .transpose(1, 2).reshape(B, L,
    # H * E) on them is a view
    q, k, v = (B.transpose(B.from_host(sample((2, 40, 3, 8), i)), (0, 2, 1, 3))
               for i in (1, 2, 3))
    out, stats, _ = B.flash_attn_fwd(q, k, v, 0.3, True)
    g = B.transpose(B.from_host(sample((2, 40, 3, 8), 4)), (0, 2, 1, 3))
    for a in (out,) + B.flash_attn_bwd(g, q, k, v, out, stats, 0.3, True):
        assert a.shape == (2, 3, 40, 8)
        assert B.transpose(a, (0, 2, 1, 3)).flags.c_contiguous


def test_masks_and_float64_take_the_composed_path(calls):
    q, k, v = (genesis.tensor(sample((1, 2, 6, 8), i), device="cuda") for i in (1, 2, 3))
    F.scaled_dot_product_attention(q, k, v, attn_mask=genesis.ones(6, 6, dtype=genesis.bool,
                                                                   device="cuda"))
    F.scaled_dot_product_attention(q.double(), k.double(), v.double())     # float64
    assert calls == {"fwd": 0, "bwd": 0}
    F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert calls["fwd"] == 1


def _gen():
    from genesis.random import _gen as gen
    return gen(None, B, genesis.device("cuda"))


@pytest.mark.parametrize("causal", [False, True])
def test_flash_dropout_matches_reference(causal):
    # the kernels' mask, materialized by flash_attn_dropout_mask, in a float64 reference:
    # out = (P * keep / (1 - p)) v and its gradients
    p, scale = 0.3, 0.35
    q, k, v, g = (sample(s, i) for i, s in enumerate(((2, 2, 40, 8), (2, 2, 37, 8),
                                                      (2, 2, 37, 12), (2, 2, 40, 12))))
    dq_, dk_, dv_, dg = (B.from_host(a) for a in (q, k, v, g))
    out, stats, rng = B.flash_attn_fwd(dq_, dk_, dv_, scale, causal, p, _gen())
    grads = B.flash_attn_bwd(dg, dq_, dk_, dv_, out, stats, scale, causal, p, rng)
    keep = B.to_host(B.flash_attn_dropout_mask((2, 2), 40, 37, p, rng, 0))
    assert abs(keep.mean() - (1 - p)) < 0.05
    q, k, v, g = (a.astype(np.float64) for a in (q, k, v, g))
    s = q @ np.swapaxes(k, -1, -2) * scale
    if causal:
        s = np.where(np.arange(37)[None, :] <= np.arange(40)[:, None], s, -np.inf)
    P = np.exp(s - s.max(-1, keepdims=True))
    P /= P.sum(-1, keepdims=True)
    drop = keep / (1 - p)
    want_out = (P * drop) @ v
    dpd = g @ np.swapaxes(v, -1, -2)
    dp = dpd * drop
    ds = P * (dp - (dp * P).sum(-1, keepdims=True))
    want = [want_out, ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale,
            np.swapaxes(P * drop, -1, -2) @ g]
    for what, got, w in zip(("out", "dq", "dk", "dv"), (out,) + grads, want):
        err = np.abs(B.to_host(got) - w).max()
        assert err <= 1e-5 * max(1.0, np.abs(w).max()), (what, err)


def test_flash_dropout_follows_the_seed():
    q, k, v = (genesis.tensor(sample((1, 2, 20, 8), i), device="cuda") for i in (1, 2, 3))
    outs = []
    for seed in (5, 5, 6):
        genesis.manual_seed(seed)
        outs.append(F.scaled_dot_product_attention(q, k, v, dropout_p=0.4).cpu().numpy())
    np.testing.assert_array_equal(outs[0], outs[1])
    assert not np.array_equal(outs[0], outs[2])
    genesis.manual_seed(5)
    full = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    np.testing.assert_array_equal(full.cpu().numpy(), 0)


def test_flash_dropout_double_backward_by_finite_differences():
    # with the seed fixed, the first-order gradients are a smooth function of q: the
    # second-order gradient along a direction u equals the central difference of
    # <grads, w> (float32, eps 1e-2: truncation and rounding well under 1e-3)
    q, k, v, gw = (sample(s, i) for i, s in enumerate(((1, 2, 9, 8), (1, 2, 11, 8),
                                                       (1, 2, 11, 6), (1, 2, 9, 6))))
    ws = [sample(a.shape, 10 + i) for i, a in enumerate((q, k, v))]
    u = sample(q.shape, 20)

    def second(qa, create_graph):
        genesis.manual_seed(3)
        ts = [genesis.tensor(a, device="cuda", requires_grad=True) for a in (qa, k, v)]
        out = F.scaled_dot_product_attention(*ts, dropout_p=0.25, is_causal=True)
        loss = (out * genesis.tensor(gw, device="cuda")).sum()
        grads = genesis.autograd.grad(loss, ts, create_graph=create_graph)
        val = sum((gr * genesis.tensor(w, device="cuda")).sum() for gr, w in zip(grads, ws))
        return val, ts
    val, ts = second(q, True)
    hq = genesis.autograd.grad(val, ts[0])[0].cpu().numpy()
    eps = 1e-2
    fd = (second(q + eps * u, False)[0].item() - second(q - eps * u, False)[0].item()) / (2 * eps)
    assert abs((hq * u).sum() - fd) <= 1e-3 * max(1.0, abs(fd))


@pytest.mark.parametrize("causal", [False, True])
def test_flash_double_backward_matches_cpu(causal):
    # the gradients of a loss on (dq, dk, dv): _FlashBackward's backward recomputes the
    # probabilities and takes the composed path's second-order formulas
    arrays = [sample(s, i) for i, s in enumerate(((1, 2, 9, 8), (1, 2, 11, 8),
                                                  (1, 2, 11, 6)))]
    ws = [sample(s, 10 + i) for i, s in enumerate(((1, 2, 9, 8), (1, 2, 11, 8),
                                                   (1, 2, 11, 6), (1, 2, 9, 6)))]
    res = []
    for dev in ("cuda", "cpu"):
        ts = [genesis.tensor(a, device=dev, requires_grad=True) for a in arrays]
        out = F.scaled_dot_product_attention(*ts, is_causal=causal)
        loss = (out * genesis.tensor(ws[3], device=dev)).sum()
        grads = genesis.autograd.grad(loss, ts, create_graph=True)
        second = sum((g * genesis.tensor(w, device=dev)).sum() for g, w in zip(grads, ws))
        res.append(list(grads) + list(genesis.autograd.grad(second, ts)))
    for i, (g, w) in enumerate(zip(*res)):
        close(g, w, "float32", f"gradient {i}")


@pytest.mark.skipif(torch is None, reason="needs torch")
@pytest.mark.parametrize("causal", [False, True])
def test_flash_matches_torch(causal):
    shapes = ((2, 2, 45, 16), (2, 2, 38, 16), (2, 2, 38, 8))
    arrays = [sample(s, i) for i, s in enumerate(shapes)]
    got = run(arrays, "float32", "cuda", is_causal=causal)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = torch.nn.functional.scaled_dot_product_attention(*ts, is_causal=causal)
    (out * torch.tensor(sample(tuple(out.shape), 99))).sum().backward()
    for what, g, w in zip(("out", "dq", "dk", "dv"), got, [out] + [t.grad for t in ts]):
        close(g, genesis.tensor(w.detach().numpy()), "float32", what)
