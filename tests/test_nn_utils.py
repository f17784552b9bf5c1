"""genesis.nn.utils: gradient clipping and parameter/vector conversion, against torch and
against NumPy."""
import math
import warnings

import numpy as np
import pytest

import genesis
from genesis.nn import utils as U
from oracle import check, needs_torch, torch

SHAPES = [(3, 4), (5,), (2, 2, 2)]


def make(lib, dtype="float32", seed=0, scale=1.0, none_at=None):
    r = np.random.default_rng(seed)
    ps = []
    for i, s in enumerate(SHAPES):
        p = lib.zeros(*s, dtype=getattr(lib, dtype), requires_grad=True)
        if i != none_at:
            p.grad = lib.tensor((scale * r.standard_normal(s)).astype(dtype))
        ps.append(p)
    return ps


def np_grads(ps):
    return [p.grad.detach().numpy().copy() if p.grad is not None else None for p in ps]


def ref_norm(grads, norm_type):
    flat = np.concatenate([g.ravel() for g in grads if g is not None]).astype(np.float64)
    if norm_type == math.inf:
        return np.abs(flat).max()
    return (np.abs(flat) ** norm_type).sum() ** (1.0 / norm_type)


NORMS = [2.0, 1, math.inf, 3.0, 0.5]


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
@pytest.mark.parametrize("norm_type", NORMS)
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    gp, tp = make(genesis, dtype, none_at=1), make(torch, dtype, none_at=1)
    gn = U.clip_grad_norm_(gp, max_norm, norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    assert gn.dtype == getattr(genesis, dtype) and gn.dim() == 0
    tol = dict(rtol=1e-6) if dtype == "float32" else dict(rtol=1e-13)
    np.testing.assert_allclose(gn.item(), tn.item(), **tol)
    assert gp[1].grad is None
    for a, b in zip(np_grads(gp), np_grads(tp)):
        if b is not None:
            np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize("norm_type", NORMS)
def test_clip_grad_norm_numpy_reference(norm_type):
    ps = make(genesis, "float64", scale=3.0)
    before = np_grads(ps)
    total = U.clip_grad_norm_(ps, 1.0, norm_type=norm_type)
    want = ref_norm(before, norm_type)
    np.testing.assert_allclose(total.item(), want, rtol=1e-12)
    coef = min(1.0 / (want + 1e-6), 1.0)
    for g, b in zip(np_grads(ps), before):
        np.testing.assert_allclose(g, b * coef, rtol=1e-12)
    # after clipping the total norm is max_norm (up to the 1e-6 guard)
    np.testing.assert_allclose(ref_norm(np_grads(ps), norm_type), 1.0, rtol=1e-5)


def test_clip_grad_norm_single_tensor_and_no_grads():
    p = genesis.zeros(3, requires_grad=True)
    p.grad = genesis.tensor([3.0, 4.0, 0.0])
    assert U.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8, 0.0], rtol=1e-5)
    q = genesis.zeros(2, requires_grad=True)
    total = U.clip_grad_norm_([q], 1.0)
    assert total.item() == 0.0 and q.grad is None
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert U.clip_grad_norm_((x for x in []), 1.0).item() == 0.0
    assert any("empty generator" in str(x.message) for x in w)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_clip_grad_norm_nonfinite(bad, norm_type):
    ps = make(genesis)
    ps[0].grad[0, 0] = bad
    before = np_grads(ps)
    with pytest.raises(RuntimeError, match=f"The total norm of order {float(norm_type)} for "
                                           "gradients from `parameters` is non-finite"):
        U.clip_grad_norm_(ps, 1.0, norm_type, error_if_nonfinite=True)
    for a, b in zip(np_grads(ps), before):        # nothing was scaled
        np.testing.assert_array_equal(a, b)
    total = U.clip_grad_norm_(ps, 1.0, norm_type)     # scales by the non-finite norm
    assert not math.isfinite(total.item())
    if torch is not None:
        tp = make(torch)
        tp[0].grad[0, 0] = bad
        tt = torch.nn.utils.clip_grad_norm_(tp, 1.0, norm_type)
        assert (math.isnan(tt.item()) == math.isnan(total.item()))
        for a, b in zip(np_grads(ps), np_grads(tp)):
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b))


@needs_torch
def test_get_total_norm_and_clip_grads_with_norm():
    gp, tp = make(genesis), make(torch)
    gg = [p.grad for p in gp]
    tg = [p.grad for p in tp]
    gn = U.get_total_norm(gg, 3.0)
    tn = torch.nn.utils.get_total_norm(tg, 3.0)
    np.testing.assert_allclose(gn.item(), tn.item(), rtol=1e-6)
    U.clip_grads_with_norm_(gp, 0.1, gn)
    torch.nn.utils.clip_grads_with_norm_(tp, 0.1, tn)
    for a, b in zip(np_grads(gp), np_grads(tp)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert U.get_total_norm([]).item() == 0.0


def test_clip_grad_norm_deprecated_alias():
    ps = make(genesis)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        U.clip_grad_norm(ps, 1.0)


@pytest.mark.parametrize("clip", [0.5, 2])
def test_clip_grad_value(clip):
    ps = make(genesis, scale=2.0, none_at=2)
    before = np_grads(ps)
    U.clip_grad_value_(ps, clip)
    for a, b in zip(np_grads(ps), before):
        if b is not None:
            np.testing.assert_array_equal(a, np.clip(b, -clip, clip))
    assert ps[2].grad is None
    if torch is not None:
        tp = make(torch, scale=2.0, none_at=2)
        torch.nn.utils.clip_grad_value_(tp, clip)
        for a, b in zip(np_grads(ps), np_grads(tp)):
            if b is not None:
                np.testing.assert_array_equal(a, b)


def test_clip_does_not_record_history():
    p = genesis.zeros(3, requires_grad=True)
    (p * genesis.tensor([3.0, 4.0, 0.0])).sum().backward(create_graph=True)
    U.clip_grad_norm_([p], 1.0)
    np.testing.assert_allclose(p.grad.detach().numpy(), [0.6, 0.8, 0.0], rtol=1e-5)


# ---- parameters_to_vector / vector_to_parameters
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parameters_to_vector_roundtrip(dtype):
    r = np.random.default_rng(0)
    arrs = [r.standard_normal(s).astype(dtype) for s in SHAPES]
    ps = [genesis.tensor(a, requires_grad=True) for a in arrs]
    vec = U.parameters_to_vector(ps)
    assert vec.shape == (sum(a.size for a in arrs),) and vec.dtype == getattr(genesis, dtype)
    np.testing.assert_array_equal(vec.detach().numpy(),
                                  np.concatenate([a.ravel() for a in arrs]))
    # differentiable: the gradient flows back into every parameter
    (vec * genesis.arange(vec.numel(), dtype=vec.dtype)).sum().backward()
    n = 0
    for p, a in zip(ps, arrs):
        np.testing.assert_array_equal(p.grad.numpy(), np.arange(n, n + a.size).reshape(a.shape))
        n += a.size
    new = genesis.arange(vec.numel(), dtype=vec.dtype) * 2
    U.vector_to_parameters(new, ps)
    n = 0
    for p, a in zip(ps, arrs):
        assert p.shape == a.shape and p.requires_grad
        np.testing.assert_array_equal(p.detach().numpy(),
                                      2 * np.arange(n, n + a.size).reshape(a.shape))
        n += a.size


@needs_torch
def test_parameters_to_vector_matches_torch():
    r = np.random.default_rng(1)
    arrs = [r.standard_normal(s).astype("float32") for s in SHAPES]
    g = U.parameters_to_vector([genesis.tensor(a) for a in arrs])
    t = torch.nn.utils.parameters_to_vector([torch.tensor(a) for a in arrs])
    np.testing.assert_array_equal(g.numpy(), t.numpy())


@pytest.mark.parametrize("lib", ["genesis", "torch"])
def test_vector_to_parameters_type_error(lib):
    if lib == "torch" and torch is None:
        pytest.skip("PyTorch is not installed")
    m = genesis if lib == "genesis" else torch
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        (U if lib == "genesis" else torch.nn.utils).vector_to_parameters(
            [1.0, 2.0], [m.zeros(2)])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["left", "right"])
def test_pad_sequence_matches_torch(batch_first, side):
    from genesis.nn.utils.rnn import pad_sequence
    lens = (2, 5, 1)
    arrays = [np.random.default_rng(i).normal(size=(n, 3)) for i, n in enumerate(lens)]
    check(lambda a, b, c: pad_sequence([a, b, c], batch_first=batch_first, padding_value=-1.5,
                                       padding_side=side), *arrays,
          fn_torch=lambda a, b, c: torch.nn.utils.rnn.pad_sequence(
              [a, b, c], batch_first=batch_first, padding_value=-1.5, padding_side=side))


def test_pad_sequence_errors():
    from genesis.nn.utils.rnn import pad_sequence
    with pytest.raises(RuntimeError, match="must match"):
        pad_sequence([genesis.ones(2, 3), genesis.ones(2, 4)])
    with pytest.raises(ValueError, match="padding_side"):
        pad_sequence([genesis.ones(2)], padding_side="middle")
    out = pad_sequence([genesis.ones(2), genesis.ones(1)], batch_first=True)
    np.testing.assert_array_equal(out.numpy(), [[1, 1], [1, 0]])
