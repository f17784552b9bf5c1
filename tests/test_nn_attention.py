"""Attention: F.scaled_dot_product_attention (fused) and F.multi_head_attention_forward,
nn.MultiheadAttention and the nn.Transformer stack, against PyTorch; finite-difference
gradchecks (first and second order) without torch."""

import numpy as np
import pytest

import genesis
import genesis.nn.functional as F
from oracle import check, rand, gradcheck, needs_torch, torch, assert_same, DEVICE


def _F(t):
    """The functional module of t's library."""
    return F if isinstance(t, genesis.Tensor) else torch.nn.functional


def _sdpa(**kw):
    def fn(q, k, v, m=None):
        return _F(q).scaled_dot_product_attention(q, k, v, attn_mask=m, **kw)
    return fn


def _bool_mask(shape, seed, full_row=None):
    m = np.random.default_rng(seed).random(shape) > 0.35
    if full_row is not None:
        m[..., full_row, :] = False       # a query that may attend to nothing: 0 as torch
    return m


# (q shape, k shape, v shape, mask or None, kwargs)
SDPA_CASES = {
    "plain": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), None, {}),
    "causal": ((2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 3), None, {"is_causal": True}),
    "causal_L>S": ((2, 7, 4), (2, 5, 4), (2, 5, 3), None, {"is_causal": True}),
    "causal_L<S": ((2, 3, 4), (2, 6, 4), (2, 6, 3), None, {"is_causal": True}),
    "bool_mask_bcast": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), _bool_mask((4, 6), 0, 1),
                        {}),
    "bool_mask_full": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7),
                       _bool_mask((2, 3, 4, 6), 1, 2), {}),
    "float_mask_bcast": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), "float(3, 1, 6)", {}),
    "float_mask_1d": ((2, 4, 5), (2, 6, 5), (2, 6, 3), "float(6)", {}),
    "bool_mask_1d": ((2, 4, 5), (2, 6, 5), (2, 6, 3), np.array([1, 0, 1, 1, 0, 1], bool), {}),
    "float_mask_full": ((2, 4, 5), (2, 6, 5), (2, 6, 3), "float(4, 6)-inf", {}),
    "scale": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), None, {"scale": 0.7}),
    "gqa": ((2, 4, 3, 5), (2, 2, 6, 5), (2, 1, 6, 3), None, {"enable_gqa": True}),
    "batch_bcast": ((2, 3, 4, 5), (1, 6, 5), (6, 7), None, {}),
    "2d": ((4, 5), (6, 5), (6, 3), None, {"is_causal": True}),
    "empty_keys": ((2, 4, 5), (2, 0, 5), (2, 0, 3), None, {}),
}


def _case(name, dtype):
    qs, ks, vs, mask, kw = SDPA_CASES[name]
    arrays = [rand(*qs, dtype=dtype, low=-2, high=2, seed=1),
              rand(*ks, dtype=dtype, low=-2, high=2, seed=2),
              rand(*vs, dtype=dtype, seed=3)]
    if isinstance(mask, str):
        shape = tuple(int(s) for s in mask[6:mask.index(")")].split(",") if s.strip())
        m = rand(*shape, dtype=dtype, seed=4)
        if mask.endswith("-inf"):
            m[1] = -np.inf          # one fully masked row
            m[2, ::2] = -np.inf
        mask = m
    if mask is not None:
        arrays.append(mask)
    return arrays, kw


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(SDPA_CASES))
def test_sdpa_matches_torch(name, dtype):
    arrays, kw = _case(name, dtype)
    check(_sdpa(**kw), *arrays, noncontig=name in ("plain", "causal", "float_mask_bcast"))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_large_scores_take_the_shifted_softmax(causal, dtype):
    # scores beyond +-64 (float32) / +-600 (float64) skip the unshifted fast path; with
    # scores in the thousands an unshifted exp would overflow
    big = 400.0 if dtype == "float32" else 4000.0
    q, k, v = (rand(2, 3, 5, 4, dtype=dtype, seed=s) for s in (1, 2, 3))
    check(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=causal),
          q * big / 10, k * 10, v,
          fn_torch=lambda a, b, c: torch.nn.functional.scaled_dot_product_attention(
              a, b, c, is_causal=causal))
    out = F.scaled_dot_product_attention(*(genesis.tensor(a) for a in (q * big, k, v)),
                                         is_causal=causal)
    assert np.isfinite(out.numpy()).all()


@needs_torch
@pytest.mark.parametrize("low", ["float16", "bfloat16"])
def test_sdpa_low_precision(low):
    arrays, kw = _case("causal", "float32")
    g = F.scaled_dot_product_attention(*[genesis.tensor(a).to(getattr(genesis, low))
                                         for a in arrays], **kw)
    t = torch.nn.functional.scaled_dot_product_attention(
        *[torch.tensor(a).to(getattr(torch, low)) for a in arrays], **kw)
    assert g.dtype == getattr(genesis, low)
    np.testing.assert_allclose(g.float().numpy(), t.float().numpy(), atol=2e-2, rtol=2e-2)


@pytest.mark.parametrize("name", ["plain", "causal_L>S", "bool_mask_full", "float_mask_full",
                                  "gqa", "batch_bcast"])
def test_sdpa_gradcheck_second_order(name):
    arrays, kw = _case(name, "float64")
    if len(arrays) == 4:
        # the mask as a constant (-inf entries cannot be perturbed by finite differences)
        m = genesis.tensor(arrays.pop(), device=DEVICE)
        gradcheck(lambda q, k, v: _sdpa(**kw)(q, k, v, m), *arrays, second_order=True)
    else:
        gradcheck(_sdpa(**kw), *arrays, second_order=True)


def test_sdpa_gradcheck_float_mask_and_dropout():
    q, k, v = rand(2, 3, 4, seed=1), rand(2, 5, 4, seed=2), rand(2, 5, 3, seed=3)
    gradcheck(_sdpa(), q, k, v, rand(3, 5, seed=4), second_order=True)

    def dropped(q, k, v):
        genesis.manual_seed(5)        # the same dropout mask on every evaluation
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4, is_causal=True)
    gradcheck(dropped, q, k, v, second_order=True)


@needs_torch
@pytest.mark.parametrize("name", ["plain", "causal_L<S", "float_mask_bcast", "gqa"])
def test_sdpa_double_backward_matches_torch(name):
    arrays, kw = _case(name, "float64")
    res = {}
    for lib in (genesis, torch):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = _sdpa(**kw)(*ts)
        w = lib.tensor(rand(*y.shape, seed=9))
        gs = lib.autograd.grad((y * w).sum(), ts, create_graph=True)
        loss = sum((g * g).sum() for g in gs)
        res[lib.__name__] = [g.detach().numpy() for g in lib.autograd.grad(loss, ts)]
    for a, b in zip(res["genesis"], res["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def test_sdpa_fully_masked_rows_are_zero():
    q = genesis.tensor(rand(1, 3, 4), requires_grad=True)
    k, v = genesis.tensor(rand(1, 5, 4, seed=1)), genesis.tensor(rand(1, 5, 2, seed=2))
    m = genesis.ones(3, 5, dtype=genesis.bool)
    m[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=m)
    out.sum().backward()
    assert (out[0, 1] == 0).all() and (q.grad[0, 1] == 0).all()
    assert not out.isnan().any() and not q.grad.isnan().any()


def test_sdpa_dropout():
    q, k = genesis.tensor(rand(2, 6, 4, seed=1)), genesis.tensor(rand(2, 8, 4, seed=2))
    eye = genesis.eye(8, dtype=genesis.float64)        # output = the (dropped) weights
    w = F.scaled_dot_product_attention(q, k, eye)
    genesis.manual_seed(0)
    d1 = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.5)
    genesis.manual_seed(0)
    d2 = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.5)
    np.testing.assert_array_equal(d1.numpy(), d2.numpy())        # reproducible by seed
    d, w = d1.numpy(), w.numpy()
    kept = d != 0
    np.testing.assert_allclose(d[kept], 2 * w[kept], rtol=1e-12)    # scaled by 1/(1-p)
    assert 0.3 < 1 - kept.mean() < 0.7
    np.testing.assert_array_equal(
        F.scaled_dot_product_attention(q, k, eye, dropout_p=1.0).numpy(), 0)
    np.testing.assert_allclose(
        F.scaled_dot_product_attention(q, k, eye, dropout_p=0.0).numpy(), w)


def test_sdpa_default_scale_and_shape():
    q, k, v = (genesis.tensor(rand(2, 3, 16, seed=s), dtype=genesis.float32) for s in (1, 2, 3))
    a = F.scaled_dot_product_attention(q, k, v)
    b = F.scaled_dot_product_attention(q, k, v, scale=0.25)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    assert a.shape == (2, 3, 16) and a.dtype == genesis.float32


@pytest.mark.parametrize("args,kw,match", [
    (((2, 3, 4), (2, 5, 4), (2, 5, 4)), {"dtypes": ("float32", "float64", "float32")},
     "Expected query, key, and value to have the same dtype, but got query.dtype: float "
     "key.dtype: double and value.dtype: float instead."),
    (((4,), (4,), (4,)), {}, "at least 2 dimensional, but got query.dim: 1"),
    (((2, 3, 4), (2, 5, 3), (2, 5, 4)), {}, "same embedding size.*\\[2, 3, 4\\].*\\[2, 5, 3\\]"),
    (((2, 3, 4), (2, 5, 4), (2, 6, 4)), {}, "same sequence length"),
    (((2, 3, 4), (2, 5, 4), (2, 5, 4)), {"attn_mask": np.zeros((3, 5), np.int64)},
     "attn_mask dtype to be bool or float.*long int"),
    (((2, 3, 4), (2, 5, 4), (2, 5, 4)), {"attn_mask": np.zeros((3, 5), np.float64)},
     "attn_mask dtype to be bool or float.*double"),
    (((2, 3, 4), (2, 5, 4), (2, 5, 4)), {"attn_mask": np.ones((3, 5), bool),
                                          "is_causal": True},
     "Explicit attn_mask should not be set when is_causal=True"),
    (((2, 3, 4), (2, 5, 4), (2, 5, 4)), {"attn_mask": np.ones((3, 4), bool)},
     "The size of tensor a \\(5\\) must match the size of tensor b \\(4\\)"),
    (((2, 3, 4), (2, 5, 4), (2, 5, 4)), {"attn_mask": np.ones((7, 2, 3, 5), bool)},
     "output with shape \\[2, 3, 5\\] doesn't match the broadcast shape \\[7, 2, 3, 5\\]"),
    (((1, 4, 3, 4), (1, 3, 5, 4), (1, 3, 5, 4)), {"enable_gqa": True},
     "must divide the number of heads in query; got query heads 4 and key heads 3"),
    (((2, 4, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4)), {},
     "The size of tensor a \\(4\\) must match the size of tensor b \\(2\\) at non-singleton "
     "dimension 1"),
    (((2, 3, 4), (2, 5, 4), (3, 5, 4)), {},
     "The size of tensor a \\(2\\) must match the size of tensor b \\(3\\) at non-singleton "
     "dimension 0"),
    (((2, 3, 4), (2, 5, 4), (2, 5, 4)), {"dropout_p": 1.5},
     "dropout probability has to be between 0 and 1, but got 1.5"),
])
def test_sdpa_errors(args, kw, match):
    kw = dict(kw)
    dts = kw.pop("dtypes", ("float32",) * 3)
    q, k, v = (genesis.tensor(np.ones(s, d)) for s, d in zip(args, dts))
    if "attn_mask" in kw:
        kw["attn_mask"] = genesis.tensor(kw["attn_mask"])
    with pytest.raises(RuntimeError, match=match):
        F.scaled_dot_product_attention(q, k, v, **kw)


def test_sdpa_integer_inputs_and_types():
    x = genesis.ones(2, 3, dtype=genesis.int64)
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Long"):
        F.scaled_dot_product_attention(x, x, x)
    with pytest.raises(TypeError, match="argument 'key' must be Tensor"):
        F.scaled_dot_product_attention(genesis.ones(2, 3), [1.0], genesis.ones(2, 3))


# ---- MultiheadAttention

def _copy_from_torch(gm, tm):
    gm.load_state_dict({k: genesis.tensor(v.detach().numpy()) for k, v in
                        tm.state_dict().items()})
    assert list(gm.state_dict()) == list(tm.state_dict())


def _inputs(shapes, dtype, self_attn, seed=0):
    arrays = [rand(*s, dtype=dtype, seed=seed + i) for i, s in enumerate(shapes)]
    if self_attn:
        g = genesis.tensor(arrays[0], requires_grad=True)
        t = torch.tensor(arrays[0], requires_grad=True)
        return (g, g, g), (t, t, t)
    return (tuple(genesis.tensor(a, requires_grad=True) for a in arrays),
            tuple(torch.tensor(a, requires_grad=True) for a in arrays))


def _compare_modules(gm, tm, gout, tout, what=""):
    """Outputs, then parameter gradients after the same upstream gradient."""
    up = rand(*tout.shape, dtype=str(tout.dtype).split(".")[-1], seed=11)
    assert_same(gout, tout, what=f"{what} output")
    (gout * genesis.tensor(up)).sum().backward()
    (tout * torch.tensor(up)).sum().backward()
    gp, tp = dict(gm.named_parameters()), dict(tm.named_parameters())
    assert list(gp) == list(tp)
    for n, p in tp.items():
        if p.grad is None:
            assert gp[n].grad is None or not gp[n].grad.numpy().any(), n
        else:
            assert_same(gp[n].grad, p.grad, what=f"{what} grad of {n}")


L, S, N, E, H = 3, 4, 2, 8, 2
_KPM = np.zeros((N, S), bool)
_KPM[0, 2:] = True
_AM = np.random.default_rng(3).random((L, S)) > 0.7
_AM[:, 0] = False

MHA_CASES = {
    "default": ({}, {}, False),
    "batch_first": ({"batch_first": True}, {}, False),
    "self_batch_first": ({"batch_first": True}, {}, True),
    "self_no_weights": ({}, {"need_weights": False}, True),
    "kdim_vdim": ({"kdim": 5, "vdim": 6}, {}, False),
    "kdim_vdim_bf_fused": ({"kdim": 5, "vdim": 6, "batch_first": True},
                           {"need_weights": False}, False),
    "key_padding": ({}, {"key_padding_mask": _KPM}, False),
    "key_padding_fused": ({}, {"key_padding_mask": _KPM, "need_weights": False}, False),
    "masks_per_head": ({}, {"attn_mask": _AM, "key_padding_mask": _KPM,
                            "average_attn_weights": False}, False),
    "float_3d_mask_fused": ({}, {"attn_mask": rand(N * H, L, S, seed=5),
                                 "need_weights": False}, False),
    "no_bias": ({"bias": False}, {}, False),
    "bias_kv_zero_attn": ({"add_bias_kv": True, "add_zero_attn": True},
                          {"attn_mask": _AM, "key_padding_mask": _KPM}, False),
    "bias_kv_zero_attn_fused": ({"add_bias_kv": True, "add_zero_attn": True},
                                {"attn_mask": _AM, "key_padding_mask": _KPM,
                                 "need_weights": False}, False),
}


@needs_torch
@pytest.mark.parametrize("name,dtype", [(n, "float64") for n in MHA_CASES] + [
    (n, "float32") for n in ("default", "self_no_weights", "key_padding_fused")])
def test_mha_matches_torch(name, dtype):
    kw, fkw, self_attn = MHA_CASES[name]
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(E, H, **kw).to(getattr(torch, dtype))
    gm = genesis.nn.MultiheadAttention(E, H, **kw).to(getattr(genesis, dtype))
    _copy_from_torch(gm, tm)
    bf = kw.get("batch_first", False)
    shape = (lambda n, e: (N, n, e)) if bf else (lambda n, e: (n, N, e))
    lq = S if self_attn else L
    shapes = [shape(lq, E), shape(S, kw.get("kdim", E)), shape(S, kw.get("vdim", E))]
    gin, tin = _inputs(shapes, dtype, self_attn)
    gk = {k: genesis.tensor(v).to(getattr(genesis, dtype)) if v.dtype.kind == "f" else
          genesis.tensor(v) for k, v in fkw.items() if isinstance(v, np.ndarray)}
    tk = {k: torch.tensor(v).to(getattr(torch, dtype)) if v.dtype.kind == "f" else
          torch.tensor(v) for k, v in fkw.items() if isinstance(v, np.ndarray)}
    flags = {k: v for k, v in fkw.items() if not isinstance(v, np.ndarray)}
    gout, gw = gm(*gin, **gk, **flags)
    tout, tw = tm(*tin, **tk, **flags)
    if tw is None:
        assert gw is None
    else:
        assert_same(gw, tw, what="attention weights")
    _compare_modules(gm, tm, gout, tout, name)
    for g, t in zip(gin, tin):
        assert_same(g.grad, t.grad, what="input grad")


@needs_torch
def test_mha_causal_hint_and_unbatched():
    torch.manual_seed(1)
    tm, gm = torch.nn.MultiheadAttention(E, H).double(), genesis.nn.MultiheadAttention(E, H)
    gm = gm.double()
    _copy_from_torch(gm, tm)
    x = rand(S, N, E, seed=2)
    cm = np.triu(np.full((S, S), -np.inf), 1)
    for need in (False, True):
        g, _ = gm(*(genesis.tensor(x),) * 3, attn_mask=genesis.tensor(cm), is_causal=True,
                  need_weights=need)
        t, _ = tm(*(torch.tensor(x),) * 3, attn_mask=torch.tensor(cm), is_causal=True,
                  need_weights=need)
        assert_same(g, t)
    # unbatched (L, E) input and (S,) key padding mask
    kpm = np.array([False, False, True, False])
    g, gw = gm(*(genesis.tensor(x[:, 0]),) * 3, key_padding_mask=genesis.tensor(kpm))
    t, tw = tm(*(torch.tensor(x[:, 0]),) * 3, key_padding_mask=torch.tensor(kpm))
    assert_same(g, t)
    assert_same(gw, tw)


def test_mha_parameters_and_init():
    m = genesis.nn.MultiheadAttention(12, 3)
    names = [n for n, _ in m.named_parameters()]
    assert names == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert m.in_proj_weight.shape == (36, 12) and m.head_dim == 4
    bound = (6 / (12 + 36)) ** 0.5        # xavier_uniform_ on the packed weight
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert not m.in_proj_bias.detach().numpy().any()
    assert not m.out_proj.bias.detach().numpy().any()
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(m.out_proj, genesis.nn.Linear)
    s = genesis.nn.MultiheadAttention(12, 3, kdim=5, vdim=7, bias=False, add_bias_kv=True)
    assert [n for n, _ in s.named_parameters()] == [
        "q_proj_weight", "k_proj_weight", "v_proj_weight", "bias_k", "bias_v",
        "out_proj.weight"]
    assert s.in_proj_weight is None and s.in_proj_bias is None
    assert s.k_proj_weight.shape == (12, 5) and s.v_proj_weight.shape == (12, 7)
    assert repr(m) == ("MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear("
                       "in_features=12, out_features=12, bias=True)\n)")


def test_mha_dropout_only_in_training():
    genesis.manual_seed(0)
    m = genesis.nn.MultiheadAttention(8, 2, dropout=0.5)
    x = genesis.tensor(rand(5, 2, 8, dtype="float32"))
    a, wa = m(x, x, x)
    b, wb = m(x, x, x)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    m.eval()
    c, wc = m(x, x, x)
    d, _ = m(x, x, x, need_weights=False)
    np.testing.assert_allclose(c.detach().numpy(), d.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(wc.sum(-1).detach().numpy(), 1, rtol=1e-5)


@pytest.mark.parametrize("make,call,exc,match", [
    (lambda: genesis.nn.MultiheadAttention(10, 3), None, AssertionError,
     "embed_dim must be divisible by num_heads"),
    (lambda: genesis.nn.MultiheadAttention(0, 2), None, ValueError,
     "embed_dim and num_heads must be greater than 0, got embed_dim=0 and num_heads=2"),
    (None, lambda m, x: m(x.unsqueeze(0), x.unsqueeze(0), x.unsqueeze(0)), AssertionError,
     "query should be unbatched 2D or batched 3D tensor but received 4-D"),
    (None, lambda m, x: m(x, x, x, attn_mask=genesis.zeros(4, 4, dtype=genesis.bool)),
     RuntimeError, "The shape of the 2D attn_mask is .*\\[4, 4\\].*should be \\(3, 3\\)"),
    (None, lambda m, x: m(x, x, x, attn_mask=genesis.zeros(3, 3, 3, dtype=genesis.bool)),
     RuntimeError, "The shape of the 3D attn_mask is .*should be \\(4, 3, 3\\)"),
    (None, lambda m, x: m(x, x, x, key_padding_mask=genesis.zeros(2, 5, dtype=genesis.bool)),
     AssertionError, "Expected key_padded_mask.shape\\[1\\] to be 3, but got 5"),
    (None, lambda m, x: m(x, x, x, is_causal=True), RuntimeError,
     "Need attn_mask if specifying the is_causal hint"),
    (None, lambda m, x: m(x, x, x, key_padding_mask=genesis.zeros(2, 3, dtype=genesis.int64)),
     AssertionError, "only bool and floating types of key_padding_mask are supported"),
    (None, lambda m, x: m(x, x[..., :4], x[..., :4]), RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied"),
    (None, lambda m, x: m(*(x[..., :4],) * 3), AssertionError,
     "was expecting embedding dimension of 8, but got 4"),
])
def test_mha_errors(make, call, exc, match):
    with pytest.raises(exc, match=match):
        m = make() if make else genesis.nn.MultiheadAttention(8, 2)
        if call is not None:
            call(m, genesis.ones(3, 2, 8))


# ---- Transformer layers

def _pair(cls_name, *args, **kw):
    torch.manual_seed(0)
    tm = getattr(torch.nn, cls_name)(*args, **kw).double()
    gm = getattr(genesis.nn, cls_name)(*args, **kw).double()
    return gm, tm


ENC_CASES = {
    "eval_post_norm": ({"dropout": 0.1}, "eval", {}),
    "train_no_dropout_pre_norm": ({"dropout": 0.0, "norm_first": True}, "train", {}),
    "gelu_batch_first_masks": ({"dropout": 0.0, "activation": "gelu", "batch_first": True},
                               "train", {"mask": "causal", "src_key_padding_mask": True}),
    "eval_pre_norm_bool_mask": ({"norm_first": True}, "eval", {"mask": "bool"}),
    "no_bias_custom_activation": ({"dropout": 0.0, "bias": False, "activation": "tanh"},
                                  "train", {"is_causal": True, "mask": "causal"}),
}


@needs_torch
@pytest.mark.filterwarnings("ignore:Support for mismatched src_key_padding_mask")
@pytest.mark.parametrize("name", list(ENC_CASES))
def test_transformer_encoder_matches_torch(name):
    kw, mode, fkw = ENC_CASES[name]
    kw = dict(kw)
    tact = gact = kw.pop("activation", "relu")
    if tact == "tanh":
        tact, gact = torch.tanh, genesis.tanh
    seq, bsz, d = 5, 3, 8
    torch.manual_seed(0)
    tl = torch.nn.TransformerEncoderLayer(d, 2, dim_feedforward=16, activation=tact, **kw)
    gl = genesis.nn.TransformerEncoderLayer(d, 2, dim_feedforward=16, activation=gact, **kw)
    tm = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(d),
                                     enable_nested_tensor=False).double()
    gm = genesis.nn.TransformerEncoder(gl, 2, norm=genesis.nn.LayerNorm(d),
                                       enable_nested_tensor=False).double()
    _copy_from_torch(gm, tm)
    assert "layers.1.self_attn.in_proj_weight" in gm.state_dict()
    getattr(tm, mode)(), getattr(gm, mode)()
    bf = kw.get("batch_first", False)
    x = rand(*((bsz, seq, d) if bf else (seq, bsz, d)), seed=1)
    gk, tk = {}, {}
    if fkw.get("mask") == "causal":
        gk["mask"] = genesis.nn.Transformer.generate_square_subsequent_mask(seq).double()
        tk["mask"] = torch.nn.Transformer.generate_square_subsequent_mask(seq).double()
    elif fkw.get("mask") == "bool":
        m = np.random.default_rng(2).random((seq, seq)) > 0.6
        m[:, 0] = False
        gk["mask"], tk["mask"] = genesis.tensor(m), torch.tensor(m)
    if fkw.get("src_key_padding_mask"):
        kpm = np.zeros((bsz, seq), bool)
        kpm[1, 3:] = True
        gk["src_key_padding_mask"] = genesis.tensor(kpm)
        tk["src_key_padding_mask"] = torch.tensor(kpm)
    if "is_causal" in fkw:
        gk["is_causal"] = tk["is_causal"] = fkw["is_causal"]
    gx, tx = genesis.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    _compare_modules(gm, tm, gm(gx, **gk), tm(tx, **tk), name)
    assert_same(gx.grad, tx.grad, what="input grad")


@needs_torch
@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_matches_torch(norm_first):
    gm, tm = _pair("Transformer", d_model=8, nhead=2, num_encoder_layers=1,
                   num_decoder_layers=2, dim_feedforward=12, dropout=0.0,
                   norm_first=norm_first, batch_first=True)
    _copy_from_torch(gm, tm)
    src, tgt = rand(2, 5, 8, seed=1), rand(2, 4, 8, seed=2)
    kpm = np.zeros((2, 5), bool)
    kpm[0, 4] = True
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(4).double()
    gmask = genesis.nn.Transformer.generate_square_subsequent_mask(4).double()
    gout = gm(genesis.tensor(src), genesis.tensor(tgt), tgt_mask=gmask,
              src_key_padding_mask=genesis.tensor(kpm),
              memory_key_padding_mask=genesis.tensor(kpm))
    tout = tm(torch.tensor(src), torch.tensor(tgt), tgt_mask=tmask,
              src_key_padding_mask=torch.tensor(kpm),
              memory_key_padding_mask=torch.tensor(kpm))
    _compare_modules(gm, tm, gout, tout)


def test_transformer_structure_and_masks():
    layer = genesis.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    enc = genesis.nn.TransformerEncoder(layer, 3)
    keys = list(enc.state_dict())
    assert keys[:4] == ["layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias",
                        "layers.0.self_attn.out_proj.weight", "layers.0.self_attn.out_proj.bias"]
    assert "layers.2.norm2.bias" in keys and len(enc.layers) == 3
    # deep copies: each layer owns its parameters
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    np.testing.assert_array_equal(enc.layers[0].linear1.weight.detach().numpy(),
                                  enc.layers[1].linear1.weight.detach().numpy())
    assert layer.activation is F.relu and layer.activation_relu_or_gelu == 1
    gl = genesis.nn.TransformerEncoderLayer(8, 2, activation="gelu")
    assert gl.activation is F.gelu and gl.activation_relu_or_gelu == 2
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not swish"):
        genesis.nn.TransformerEncoderLayer(8, 2, activation="swish")
    x = genesis.ones(4, 2, 8)
    with pytest.warns(UserWarning, match="Support for mismatched src_key_padding_mask and "
                                         "mask is deprecated"):
        enc(x, mask=genesis.zeros(4, 4), src_key_padding_mask=genesis.zeros(2, 4,
                                                                          dtype=genesis.bool))
    m = genesis.nn.Transformer.generate_square_subsequent_mask(3)
    assert m.dtype == genesis.float32
    np.testing.assert_array_equal(m.numpy(), [[0, -np.inf, -np.inf], [0, 0, -np.inf],
                                              [0, 0, 0]])
    t = genesis.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                               dim_feedforward=16)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        t(genesis.ones(4, 2, 8), genesis.ones(3, 3, 8))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal "
                                           "to d_model"):
        t(genesis.ones(4, 2, 8), genesis.ones(3, 2, 6))


def test_transformer_encoder_trains():
    """A few SGD steps on a tiny encoder lower the loss (end-to-end autograd through the
    fused attention, without torch)."""
    genesis.manual_seed(0)
    layer = genesis.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1,
                                               batch_first=True)
    enc = genesis.nn.TransformerEncoder(layer, 2)
    x = genesis.tensor(rand(4, 6, 8, dtype="float32", seed=1))
    target = genesis.tensor(rand(4, 6, 8, dtype="float32", seed=2))
    mask = genesis.nn.Transformer.generate_square_subsequent_mask(6)
    params = list(enc.parameters())
    losses = []
    for _ in range(15):
        loss = ((enc(x, mask=mask, is_causal=True) - target) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with genesis.no_grad():
            for p in params:
                p -= 0.05 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]
