"""layer_norm, rms_norm, group_norm, batch_norm, instance_norm, normalize and their
modules, against PyTorch; gradchecks (first and second order) without it."""
import numpy as np
import pytest

import genesis
import genesis.nn as gnn
import genesis.nn.functional as F
from oracle import check, rand, gradcheck, needs_torch, torch, assert_same, DEVICE

if torch is not None:
    import torch.nn.functional as TF

DTYPES = ["float32", "float64"]
AFFINE = ["both", "weight", "bias", "none"]


def _params(kind, shape, dtype):
    w = rand(*shape, dtype=dtype, seed=2, low=0.5, high=1.5)
    b = rand(*shape, dtype=dtype, seed=3)
    return {"both": (w, b), "weight": (w, None), "bias": (None, b), "none": (None, None)}[kind]


def _on(lib, arr):
    # a tensor of lib made from arr, on the device the tests run genesis on
    return lib.tensor(arr, device=DEVICE) if lib is genesis else lib.tensor(arr)


def _call(lib_fn, x, w, b, *args, **kw):
    return lib_fn(x, *args, weight=w, bias=b, **kw)


# ------------------------------------------------------------------ functional parity
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", AFFINE)
@pytest.mark.parametrize("shape,ns", [((6, 8), (8,)), ((2, 3, 4, 5), (4, 5)),
                                      ((3, 7), (3, 7))])
@pytest.mark.parametrize("noncontig", [False, True])
def test_layer_norm(dtype, affine, shape, ns, noncontig):
    x = rand(*shape, dtype=dtype, low=-2, high=3)
    w, b = _params(affine, ns, dtype)
    arrs = [a for a in (x, w, b) if a is not None]

    def fn(lib_F):
        def f(*ts):
            it = iter(ts)
            xx = next(it)
            ww = next(it) if w is not None else None
            bb = next(it) if b is not None else None
            return lib_F.layer_norm(xx, ns, ww, bb, eps=1e-5)
        return f
    check(fn(F), *arrs, fn_torch=fn(TF) if torch else None, noncontig=noncontig)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight", [True, False])
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("noncontig", [False, True])
def test_rms_norm(dtype, weight, eps, noncontig):
    x = rand(3, 4, 6, dtype=dtype)
    w = rand(4, 6, dtype=dtype, seed=2)
    if weight:
        check(lambda x, w, F=F: F.rms_norm(x, (4, 6), w, eps), x, w, noncontig=noncontig,
              fn_torch=lambda x, w: TF.rms_norm(x, (4, 6), w, eps))
    else:
        check(lambda x: F.rms_norm(x, [6], eps=eps), x, noncontig=noncontig,
              fn_torch=lambda x: TF.rms_norm(x, [6], eps=eps))


@needs_torch
def test_rms_norm_default_eps_is_float32s_for_half():
    # tiny inputs make eps dominate: float16 computes with float32's epsilon, as PyTorch
    x = np.full((1, 4), 1e-3, np.float16)
    g = F.rms_norm(genesis.tensor(x), (4,))
    t = TF.rms_norm(torch.tensor(x), (4,))
    assert_same(g, t)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", ["both", "none"])
@pytest.mark.parametrize("shape,groups", [((2, 6, 5), 3), ((3, 4, 2, 3), 2), ((3, 8), 2),
                                          ((2, 4, 3), 1)])
def test_group_norm(dtype, affine, shape, groups):
    x = rand(*shape, dtype=dtype, high=2)
    w, b = _params(affine, (shape[1],), dtype)
    if affine == "both":
        check(lambda x, w, b, F=F: F.group_norm(x, groups, w, b), x, w, b,
              fn_torch=lambda x, w, b: TF.group_norm(x, groups, w, b))
    else:
        check(lambda x: F.group_norm(x, groups), x,
              fn_torch=lambda x: TF.group_norm(x, groups))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batch_norm_training_updates_running_stats(dtype, shape, momentum):
    x = rand(*shape, dtype=dtype, low=-1, high=4)
    w, b = _params("both", (3,), dtype)
    runs = {}

    def fn(lib, lib_F):
        def f(x, w, b):
            rm = _on(lib, rand(3, dtype=dtype, seed=5))
            rv = _on(lib, rand(3, dtype=dtype, seed=6, low=0.5, high=2))
            runs[lib.__name__] = (rm, rv)
            return lib_F.batch_norm(x, rm, rv, w, b, training=True, momentum=momentum)
        return f
    check(fn(genesis, F), x, w, b, fn_torch=fn(torch, TF) if torch else None, noncontig=True)
    for g, t in zip(runs["genesis"], runs["torch"]):
        assert_same(g, t)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", ["both", "none"])
def test_batch_norm_eval_uses_running_stats(dtype, affine):
    x = rand(4, 3, 5, dtype=dtype, high=3)
    rm, rv = rand(3, dtype=dtype, seed=5), rand(3, dtype=dtype, seed=6, low=0.5, high=2)
    w, b = _params(affine, (3,), dtype)
    arrs = [a for a in (x, w, b) if a is not None]

    def fn(lib, lib_F):
        def f(x, *wb):
            ww, bb = wb if wb else (None, None)
            return lib_F.batch_norm(x, _on(lib, rm), _on(lib, rv), ww, bb, False, 0.1, 1e-3)
        return f
    check(fn(genesis, F), *arrs, fn_torch=fn(torch, TF) if torch else None)


@pytest.mark.parametrize("dtype", DTYPES)
def test_instance_norm(dtype):
    x = rand(2, 3, 6, dtype=dtype, high=3)
    w, b = _params("both", (3,), dtype)
    runs = {}

    def fn(lib, lib_F):
        def f(x, w, b):
            runs[lib.__name__] = rm, rv = (lib.zeros(3, dtype=x.dtype, device=x.device),
                                           lib.ones(3, dtype=x.dtype, device=x.device))
            return lib_F.instance_norm(x, rm, rv, w, b, momentum=0.3)
        return f
    check(fn(genesis, F), x, w, b, fn_torch=fn(torch, TF) if torch else None)
    for g, t in zip(runs["genesis"], runs["torch"]):
        assert_same(g, t)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, -1), (3.0, 0)])
def test_normalize(dtype, p, dim):
    x = rand(4, 5, dtype=dtype)
    check(lambda x, F=F: F.normalize(x, p, dim), x, noncontig=True,
          fn_torch=lambda x: TF.normalize(x, p, dim))


@needs_torch
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_layer_norm_and_rms_norm(dtype):
    x = rand(4, 16, high=3)
    w = rand(16, seed=2)
    gx = genesis.tensor(x).to(getattr(genesis, dtype))
    tx = torch.tensor(x).to(getattr(torch, dtype))
    for gw, tw in ((genesis.tensor(w).to(gx.dtype), torch.tensor(w).to(tx.dtype)),
                   (genesis.tensor(w).float(), torch.tensor(w).float())):
        assert_same(F.layer_norm(gx, (16,), gw), TF.layer_norm(tx, (16,), tw))
    assert_same(F.rms_norm(gx, (16,)), TF.rms_norm(tx, (16,)))


# ------------------------------------------------------------------ gradchecks (no torch)
GRADCHECK = [
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b), (3, 4), (4,), (4,)),
    ("layer_norm_2d", lambda x, w, b: F.layer_norm(x, (2, 3), w, b), (2, 2, 3), (2, 3), (2, 3)),
    ("layer_norm_plain", lambda x: F.layer_norm(x, (5,)), (3, 5)),
    ("layer_norm_bias_only", lambda x, b: F.layer_norm(x, (5,), None, b), (2, 5), (5,)),
    ("rms_norm", lambda x, w: F.rms_norm(x, (4,), w), (3, 4), (4,)),
    ("rms_norm_plain", lambda x: F.rms_norm(x, (2, 3), eps=1e-3), (2, 2, 3)),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), (2, 4, 3), (4,), (4,)),
    ("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
     (3, 2, 2), (2,), (2,)),
    ("batch_norm_eval", lambda x, w, b: F.batch_norm(
        x, genesis.tensor([0.1, -0.2], dtype=genesis.float64, device=DEVICE),
        genesis.tensor([0.5, 2.0], dtype=genesis.float64, device=DEVICE), w, b), (3, 2), (2,),
     (2,)),
    ("instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (2, 2, 4), (2,),
     (2,)),
    ("normalize", lambda x: F.normalize(x, dim=1), (3, 4)),
]


@pytest.mark.parametrize("fn,shapes", [pytest.param(c[1], c[2:], id=c[0]) for c in GRADCHECK])
def test_gradcheck(fn, shapes):
    arrays = [rand(*s, seed=i, low=0.3 if i else -1, high=1.5) for i, s in enumerate(shapes)]
    gradcheck(fn, *arrays, second_order=True)


@pytest.mark.parametrize("fn,shapes", [
    (lambda x, w, b: F.layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)]),
    (lambda x, w, b: F.rms_norm(x, (4,), w) + b, [(3, 4), (4,), (4,)]),
    (lambda x, w, b: F.batch_norm(x, None, None, w, b, True), [(4, 3), (3,), (3,)]),
])
def test_double_backward_through_grad_output(fn, shapes):
    """The backward op's own backward, with the upstream gradient as an input too (what
    gradgradcheck leaves out)."""
    arrays = [rand(*s, seed=i) for i, s in enumerate(shapes)] + [rand(*shapes[0], seed=9)]

    def first(x, w, b, go):
        return genesis.autograd.grad(fn(x, w, b), (x, w, b), go, create_graph=True)
    gradcheck(first, *arrays)


# ------------------------------------------------------------------ errors
def _t(*shape, dtype=genesis.float32):
    return genesis.zeros(*shape, dtype=dtype)


ERRORS = [
    (lambda: F.layer_norm(_t(2, 3), (4,)), RuntimeError,
     r"normalized_shape=\[4\], expected input with shape \[\*, 4\], but got input of size\[2, 3\]"),
    (lambda: F.layer_norm(_t(2, 3), (3,), _t(4)), RuntimeError,
     r"weight to be of same shape as normalized_shape, but got weight of shape \[4\]"),
    (lambda: F.layer_norm(_t(2, 3), ()), RuntimeError, "at least 1-dimensional"),
    (lambda: F.layer_norm(_t(2, 3), (3,), _t(3, dtype=genesis.float64)), RuntimeError,
     "mixed dtype"),
    (lambda: F.layer_norm(_t(2, 3, dtype=genesis.int64), (3,)), NotImplementedError, "Long"),
    (lambda: F.rms_norm(_t(2, 3), (4,)), RuntimeError, r"expected input with shape \[\*4\]"),
    (lambda: F.group_norm(_t(2, 6, 3), 4), RuntimeError,
     r"divisible by num_groups, but got input of shape \[2, 6, 3\] and num_groups=4"),
    (lambda: F.group_norm(_t(2, 6, 3), 3, _t(5)), RuntimeError,
     r"weight of shape \[5\] and input of shape \[2, 6, 3\]"),
    (lambda: F.group_norm(_t(3), 1), RuntimeError, "at least 2 dimensions"),
    (lambda: F.batch_norm(_t(1, 3), _t(3), _t(3), training=True), ValueError,
     r"Expected more than 1 value per channel when training, got input size .*\[1, 3\]"),
    (lambda: F.batch_norm(_t(4, 3), _t(4), _t(3), training=True), RuntimeError,
     "running_mean should contain 3 elements not 4"),
    (lambda: F.batch_norm(_t(4, 3), _t(3), _t(3), _t(4)), RuntimeError,
     "weight should contain 3 elements not 4"),
    (lambda: F.batch_norm(_t(4, 3), None, None), RuntimeError,
     "running_mean must be defined in evaluation mode"),
    (lambda: F.instance_norm(_t(1, 3, 1)), ValueError, "more than 1 spatial element"),
    (lambda: F.normalize(_t(2, 3), dim=2), IndexError, "Dimension out of range"),
    (lambda: gnn.BatchNorm1d(3)(_t(2, 3, 4, 5)), ValueError,
     r"expected 2D or 3D input \(got 4D input\)"),
    (lambda: gnn.BatchNorm2d(3)(_t(2, 3)), ValueError, r"expected 4D input \(got 2D input\)"),
    (lambda: gnn.BatchNorm3d(3)(_t(2, 3, 4, 5)), ValueError, r"expected 5D input"),
    (lambda: gnn.GroupNorm(4, 6), ValueError, r"num_channels \(6\) must be divisible by num_groups \(4\)"),
]


@pytest.mark.parametrize("fn,exc,match", ERRORS)
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


# ------------------------------------------------------------------ modules
def _copy_state(gmod, tmod):
    gmod.load_state_dict({k: genesis.tensor(v.detach().numpy()) for k, v in
                          tmod.state_dict().items()})


def _compare_module(gmod, tmod, x, steps=1):
    for step in range(steps):
        xs = x + step
        g_in = genesis.tensor(xs, requires_grad=True)
        t_in = torch.tensor(xs, requires_grad=True)
        gy, ty = gmod(g_in), tmod(t_in)
        assert_same(gy, ty)
        go = rand(*ty.shape, dtype=str(xs.dtype), seed=step + 11)
        gy.backward(genesis.tensor(go))
        ty.backward(torch.tensor(go))
        assert_same(g_in.grad, t_in.grad, what="input grad")
    for (gn, gp), (tn, tp) in zip(gmod.named_parameters(), tmod.named_parameters()):
        assert gn == tn
        assert_same(gp.grad, tp.grad, what=f"grad of {gn}")
    for (gn, gb), (tn, tb) in zip(gmod.named_buffers(), tmod.named_buffers()):
        assert gn == tn
        assert_same(gb, tb, what=gn)


@needs_torch
@pytest.mark.parametrize("make,shape", [
    (lambda nn: nn.LayerNorm(8), (4, 8)),
    (lambda nn: nn.LayerNorm([3, 4], elementwise_affine=False), (2, 3, 4)),
    (lambda nn: nn.LayerNorm(5, bias=False), (2, 5)),
    (lambda nn: nn.GroupNorm(2, 4), (3, 4, 5)),
    (lambda nn: nn.GroupNorm(3, 6, affine=False), (2, 6, 2, 2)),
    (lambda nn: nn.GroupNorm(2, 6, bias=False), (2, 6, 3)),
    (lambda nn: nn.RMSNorm(6), (2, 3, 6)),
    (lambda nn: nn.RMSNorm([2, 3], eps=1e-4, elementwise_affine=False), (4, 2, 3)),
])
@pytest.mark.parametrize("dtype", DTYPES)
def test_norm_modules(make, shape, dtype):
    tmod = make(torch.nn).to(getattr(torch, dtype))
    with torch.no_grad():
        for p in tmod.parameters():
            p.copy_(torch.randn(p.shape))
    gmod = make(gnn).to(getattr(genesis, dtype))
    _copy_state(gmod, tmod)
    assert repr(gmod) == repr(tmod)
    assert list(gmod.state_dict()) == list(tmod.state_dict())
    _compare_module(gmod, tmod, rand(*shape, dtype=dtype, high=2))


@needs_torch
@pytest.mark.parametrize("make,shape", [
    (lambda nn: nn.BatchNorm1d(3), (5, 3)),
    (lambda nn: nn.BatchNorm1d(3, momentum=None), (4, 3, 6)),
    (lambda nn: nn.BatchNorm2d(3, affine=False), (2, 3, 4, 4)),
    (lambda nn: nn.BatchNorm1d(3, bias=False), (4, 3, 2)),
    (lambda nn: nn.BatchNorm2d(3, momentum=0.3, eps=1e-3), (2, 3, 3, 2)),
    (lambda nn: nn.BatchNorm2d(3, track_running_stats=False), (2, 3, 2, 2)),
    (lambda nn: nn.BatchNorm3d(2), (2, 2, 2, 3, 2)),
])
@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_modules_train_then_eval(make, shape, dtype):
    tmod = make(torch.nn).to(getattr(torch, dtype))
    gmod = make(gnn).to(getattr(genesis, dtype))
    if tmod.affine:
        with torch.no_grad():
            tmod.weight.copy_(torch.rand(3 if tmod.num_features == 3 else 2) + 0.5)
            if tmod.bias is not None:
                tmod.bias.normal_()
    _copy_state(gmod, tmod)
    assert repr(gmod) == repr(tmod)
    assert list(gmod.state_dict()) == list(tmod.state_dict())
    x = rand(*shape, dtype=dtype, low=-1, high=3)
    _compare_module(gmod, tmod, x, steps=3)      # running stats after three steps
    if tmod.track_running_stats:
        assert gmod.num_batches_tracked.dtype == genesis.int64
        assert gmod.num_batches_tracked.item() == 3
    gmod.eval(), tmod.eval()
    x2 = rand(*shape, dtype=dtype, seed=4)
    assert_same(gmod(genesis.tensor(x2)), tmod(torch.tensor(x2)))


def test_batchnorm_eval_identity_at_init():
    bn = gnn.BatchNorm1d(4).eval()
    x = genesis.randn(3, 4)
    np.testing.assert_allclose(bn(x).detach().numpy(), x.numpy() / np.sqrt(1 + 1e-5), rtol=1e-6)
    assert bn.running_mean.numpy().tolist() == [0] * 4
    bn.train()
    bn(x)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * x.numpy().mean(0), rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * x.numpy().var(0, ddof=1),
                               rtol=1e-5)


def test_module_reprs():
    assert repr(gnn.LayerNorm(8)) == ("LayerNorm((8,), eps=1e-05, elementwise_affine=True, "
                                      "bias=True)")
    assert repr(gnn.BatchNorm2d(3)) == ("BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, "
                                        "bias=True, track_running_stats=True)")
    assert repr(gnn.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    assert repr(gnn.RMSNorm([2, 3])) == "RMSNorm((2, 3), eps=None, elementwise_affine=True)"
    names = [n for n, _ in gnn.BatchNorm1d(2).named_parameters()]
    assert names == ["weight", "bias"]
    assert list(gnn.BatchNorm1d(2, track_running_stats=False).state_dict()) == ["weight", "bias"]
