"""Activations of genesis.nn.functional and genesis.nn: values, dtypes and input gradients
against PyTorch; finite-difference gradchecks (second order included) without torch."""
import math
import warnings

import numpy as np
import pytest

import genesis
import genesis.nn as nn
import genesis.nn.functional as F
from oracle import check, rand, gradcheck, needs_torch, torch, DEVICE

if torch is not None:
    import torch.nn.functional as TF



def _dev(x, **kw):
    """A genesis tensor on the device the op tests run on (GENESIS_TEST_DEVICE)."""
    return genesis.tensor(x, device=DEVICE, **kw)


# (name, kwargs, low, high) of the elementwise activations
ACTS = [
    ("relu", {}, -3, 3), ("relu6", {}, -2, 8), ("leaky_relu", {}, -3, 3),
    ("leaky_relu", {"negative_slope": 0.2}, -3, 3), ("leaky_relu", {"negative_slope": -1.5}, -3, 3),
    ("leaky_relu", {"negative_slope": 2.0}, -3, 3), ("elu", {}, -3, 3),
    ("elu", {"alpha": 0.5}, -3, 3), ("selu", {}, -3, 3), ("celu", {"alpha": 1.7}, -3, 3),
    ("gelu", {}, -5, 5), ("gelu", {"approximate": "tanh"}, -5, 5), ("silu", {}, -6, 6),
    ("mish", {}, -6, 6), ("softplus", {}, -5, 5),
    ("softplus", {"beta": 2.0, "threshold": 3.0}, -3, 3), ("softsign", {}, -3, 3),
    ("tanh", {}, -3, 3), ("sigmoid", {}, -5, 5), ("hardtanh", {}, -2, 2),
    ("hardtanh", {"min_val": -0.5, "max_val": 1.5}, -2, 2), ("hardsigmoid", {}, -5, 5),
    ("hardswish", {}, -5, 5), ("logsigmoid", {}, -8, 8), ("tanhshrink", {}, -3, 3),
    ("threshold", {"threshold": 0.3, "value": -2.0}, -1, 1), ("hardshrink", {}, -1, 1),
    ("softshrink", {"lambd": 0.3}, -1, 1),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw, _, _ in ACTS]


def _pair(name, **kw):
    return (lambda t: getattr(F, name)(t, **kw)), (lambda t: getattr(TF, name)(t, **kw))


@pytest.mark.parametrize("name,kw,lo,hi", ACTS, ids=IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_torch(name, kw, lo, hi, dtype):
    if torch is None:
        pytest.skip("PyTorch is not installed")
    fn, fn_t = _pair(name, **kw)
    x = rand(4, 6, dtype=dtype, low=lo, high=hi)
    check(fn, x, fn_torch=fn_t, noncontig=True)
    check(fn, rand(5, dtype=dtype, low=lo, high=hi, seed=3), fn_torch=fn_t)
    check(fn, np.array(0.7 * hi, dtype), fn_torch=fn_t)            # 0-d


@pytest.mark.parametrize("name", ["gelu", "silu", "elu", "softplus", "mish", "logsigmoid",
                                  "hardswish", "leaky_relu"])
@pytest.mark.parametrize("low", ["float16", "bfloat16"])
def test_low_precision_computes_in_float32(name, low):
    if torch is None:
        pytest.skip("PyTorch is not installed")
    x = rand(3, 7, dtype="float32", low=-4, high=4)
    g = getattr(F, name)(_dev(x).to(getattr(genesis, low)))
    t = getattr(TF, name)(torch.tensor(x).to(getattr(torch, low)))
    assert g.dtype == getattr(genesis, low)
    np.testing.assert_allclose(g.float().cpu().numpy(), t.float().numpy(), rtol=2e-2,
                               atol=2e-2)


def test_gelu_is_accurate_in_the_tails():
    # float32: 0.5 x erfc(-x / sqrt 2) to float32 precision even where 1 + erf would
    # cancel (torch's float32 kernel gives 0 below about -5.5); float64: x (1 + erf) / 2
    # as torch computes it, exact but for that cancellation
    xs = [-12.0, -9.0, -6.0, -3.0, -0.7, -1e-3, 0.0, 1e-3, 0.4, 2.5, 7.0]
    exact = np.array([0.5 * x * math.erfc(-x / math.sqrt(2)) for x in xs])
    y64 = F.gelu(_dev(xs, dtype=genesis.float64)).cpu().numpy()
    y32 = F.gelu(_dev(xs, dtype=genesis.float32)).cpu().numpy().astype(np.float64)
    np.testing.assert_allclose(y64, exact, rtol=1e-13, atol=1e-16)
    core = np.abs(xs) <= 3        # in the tails exp(-x^2 / 2) in float32 costs some ulps
    np.testing.assert_allclose(y32[core], exact[core], rtol=5e-7, atol=1e-37)
    np.testing.assert_allclose(y32[~core], exact[~core], rtol=2e-5, atol=0)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_large_inputs_computed_blockwise(approximate):
    # above the block size the fused kernels run on cache-sized blocks
    check(lambda t: F.gelu(t, approximate=approximate), rand(300, 250, dtype="float32",
                                                             low=-6, high=6),
          fn_torch=lambda t: TF.gelu(t, approximate=approximate), noncontig=True)


GRADCHECK = [("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("elu", {}),
             ("selu", {}), ("celu", {"alpha": 0.8}), ("mish", {}), ("softplus", {"beta": 1.5}),
             ("logsigmoid", {}), ("softsign", {}), ("tanhshrink", {}), ("leaky_relu", {}),
             ("hardswish", {}), ("hardsigmoid", {}), ("hardtanh", {}), ("softshrink", {})]


@pytest.mark.parametrize("name,kw", GRADCHECK, ids=[f"{n}{kw}" for n, kw in GRADCHECK])
def test_gradcheck(name, kw):
    # away from the kinks of the piecewise ones, where finite differences straddle them
    x = np.array([[-2.7, -1.3, -0.2], [0.35, 1.6, 2.2]])
    gradcheck(lambda t: getattr(F, name)(t, **kw), x, second_order=True)


@needs_torch
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_double_backward_matches_torch(approximate):
    x = rand(3, 4, low=-3, high=3, seed=2)
    out = {}
    for lib, f in ((genesis, F), (torch, TF)):
        t = lib.tensor(x, requires_grad=True)
        g, = lib.autograd.grad(f.gelu(t, approximate=approximate).sum(), t, create_graph=True)
        gg, = lib.autograd.grad((g * g).sum(), t)
        out[lib.__name__] = g.detach().numpy(), gg.numpy()
    for a, b in zip(out["genesis"], out["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


INPLACE = [("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.1}),
           ("elu", {}), ("selu", {}), ("celu", {}), ("silu", {}), ("mish", {}),
           ("hardtanh", {}), ("hardsigmoid", {}), ("hardswish", {}),
           ("threshold", {"threshold": 0.1, "value": 3.0})]


@needs_torch
@pytest.mark.parametrize("name,kw", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace(name, kw):
    x = rand(3, 4, low=-3, high=3)
    res = {}
    for lib, f in ((genesis, F), (torch, TF)):
        leaf = lib.tensor(x, requires_grad=True)
        y = leaf * 1
        r = getattr(f, name)(y, **kw, inplace=True)
        assert r is y
        (r * lib.tensor(x)).sum().backward()
        res[lib.__name__] = y.detach().numpy(), leaf.grad.numpy()
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            getattr(f, name)(leaf, **kw, inplace=True)
    for a, b in zip(res["genesis"], res["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ["relu_", "elu_", "leaky_relu_", "hardtanh_", "selu_",
                                  "celu_"])
def test_underscore_forms_write_into_the_input(name):
    x = _dev([-2.0, -0.5, 0.5, 3.0])
    ref = getattr(F, name[:-1])(x.clone())
    assert getattr(F, name)(x) is x
    np.testing.assert_allclose(x.cpu().numpy(), ref.cpu().numpy())
    x = _dev([-2.0, 0.5])
    assert F.threshold_(x, 0.0, 9.0) is x and x.tolist() == [9.0, 0.5]


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "threshold"])
def test_integral_inputs_keep_their_dtype(name):
    x = _dev([-3, 0, 2, 9])
    args = (1, 5) if name == "threshold" else ()
    r = getattr(F, name)(x, *args)
    assert r.dtype == genesis.int64
    expect = {"relu": [0, 0, 2, 9], "relu6": [0, 0, 2, 6], "hardtanh": [-1, 0, 1, 1],
              "threshold": [5, 5, 2, 9]}[name]
    assert r.tolist() == expect


@pytest.mark.parametrize("name,kernel", [
    ("elu", "elu_cpu"), ("selu", "elu_cpu"), ("gelu", "GeluKernelImpl"), ("silu", "silu_cpu"),
    ("mish", "mish_cpu"), ("softplus", "softplus_cpu"), ("leaky_relu", "leaky_relu_cpu"),
    ("hardsigmoid", "hardsigmoid_cpu"), ("hardswish", "hardswish_cpu"),
    ("logsigmoid", "log_sigmoid_cpu"), ("glu", "glu_cpu")])
def test_integral_inputs_raise_like_torch(name, kernel):
    x = _dev([1, -2, 3, 4])
    with pytest.raises(NotImplementedError, match=f'"{kernel}" not implemented for \'Long\''):
        getattr(F, name)(x)
    if torch is not None:
        with pytest.raises(NotImplementedError, match=kernel):
            getattr(TF, name)(torch.tensor([1, -2, 3, 4]))


ERRORS = [
    (lambda f, T: f.gelu(T([1.0]), approximate="erf"), RuntimeError,
     "approximate argument must be either none or tanh"),
    (lambda f, T: f.hardtanh(T([1.0]), 2.0, 1.0), ValueError,
     "min_val cannot be greater than max_val"),
    (lambda f, T: f.glu(T([[1.0, 2.0, 3.0]]), 1), RuntimeError,
     "Halving dimension must be even, but dimension 1 is size 3"),
    (lambda f, T: f.glu(T(1.0)), RuntimeError, "glu does not support scalars"),
    (lambda f, T: f.glu(T([[1.0, 2.0]]), 2), IndexError, "Dimension out of range"),
    (lambda f, T: f.prelu(T([[1.0, 2.0, 3.0]]), T([0.1, 0.2])), RuntimeError,
     "Found parameter numbers = 2 and channel size = 3"),
    (lambda f, T: f.prelu(T([1.0, 2.0]), T([0.1, 0.2])), RuntimeError,
     "Found parameter numbers = 2 and channel size = 1"),
    (lambda f, T: f.prelu(T([[1.0]]), T([[0.1]])), RuntimeError,
     "Expected `weight` to be a scalar or 1D tensor, but got: ndim = 2"),
    (lambda f, T: f.prelu(T([1.0]), T([0.1]).double()), RuntimeError,
     "prelu: Type promoting not supported. Got Float and Double"),
    (lambda f, T: f.softshrink(T([1.0]), -1.0), RuntimeError,
     r"lambda must be in range \[0, 3.40282e\+38\] for input dtype Float, but found -1"),
    (lambda f, T: f.celu(T([1.0]), 0.0), RuntimeError,
     "ZeroDivisionError: alpha cannot be 0 for CELU"),
    (lambda f, T: f.relu(T([True])), RuntimeError, "Boolean inputs not supported for relu"),
    (lambda f, T: f.softmax(T([1, 2]), 0), NotImplementedError,
     "softmax_lastdim_kernel_impl"),
]


@pytest.mark.parametrize("fn,exc,msg", ERRORS)
def test_errors_match_torch(fn, exc, msg):
    with pytest.raises(exc, match=msg):
        fn(F, _dev)
    if torch is not None:
        with pytest.raises(exc, match=msg):
            fn(TF, torch.tensor)


@pytest.mark.parametrize("wshape,xshape", [((1,), (2, 3, 4)), ((3,), (2, 3, 4, 2)),
                                           ((3,), (5, 3)), ((), (4,)), ((1,), ())])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_prelu_matches_torch_with_weight_grads(wshape, xshape, dtype):
    w = rand(*wshape, dtype=dtype, low=0.05, high=0.5, seed=7)
    check(F.prelu, rand(*xshape, dtype=dtype, low=-2, high=2), w,
          fn_torch=lambda a, b: TF.prelu(a, b))
    gradcheck(F.prelu, rand(*xshape, low=-2, high=2, seed=4), w.astype(np.float64))


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_glu_matches_torch(dim, dtype):
    x = rand(4, 6, dtype=dtype, low=-3, high=3)
    check(lambda t: F.glu(t, dim), x, fn_torch=lambda t: TF.glu(t, dim), noncontig=True)
    gradcheck(lambda t: F.glu(t, dim), rand(2, 4, low=-2, high=2), second_order=True)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape,dim", [((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_family(name, shape, dim, dtype):
    check(lambda t: getattr(F, name)(t, dim), rand(*shape, dtype=dtype, low=-4, high=4),
          fn_torch=lambda t: getattr(TF, name)(t, dim), noncontig=True)
    if shape == (3, 4):
        gradcheck(lambda t: getattr(F, name)(t, dim), rand(2, 3, low=-2, high=2),
                  second_order=True)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape,implicit", [((4,), 0), ((3, 4), 1), ((2, 3, 4), 0),
                                            ((2, 3, 4, 2), 1)])
def test_softmax_implicit_dim_warns_and_picks_torchs_dim(name, shape, implicit):
    x = _dev(rand(*shape))
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has been "
                                         "deprecated"):
        r = getattr(F, name)(x)
    np.testing.assert_allclose(r.cpu().numpy(), getattr(F, name)(x, implicit).cpu().numpy())


def test_softmax_dtype_argument():
    x = _dev(rand(3, 4, dtype="float32"))
    for name in ("softmax", "log_softmax", "softmin"):
        assert getattr(F, name)(x, 1, dtype=genesis.float64).dtype == genesis.float64


# ---------------------------------------------------------------- modules
MODULES = [
    ("ReLU", (), {}), ("ReLU", (), {"inplace": True}), ("ReLU6", (), {}),
    ("ReLU6", (True,), {}), ("LeakyReLU", (), {}), ("LeakyReLU", (0.2, True), {}),
    ("ELU", (), {}), ("ELU", (0.5,), {"inplace": True}), ("SELU", (), {}),
    ("CELU", (1.5,), {}), ("GELU", (), {}), ("GELU", ("tanh",), {}), ("SiLU", (), {}),
    ("SiLU", (True,), {}), ("Mish", (), {}), ("Softplus", (), {}),
    ("Softplus", (2.0, 5.0), {}), ("Softsign", (), {}), ("Tanh", (), {}), ("Sigmoid", (), {}),
    ("Hardtanh", (), {}), ("Hardtanh", (-2.0, 3.0, True), {}), ("Hardsigmoid", (), {}),
    ("Hardsigmoid", (True,), {}), ("Hardswish", (), {}), ("LogSigmoid", (), {}),
    ("GLU", (), {}), ("GLU", (0,), {}), ("Threshold", (0.1, 20.0), {}),
    ("Threshold", (0.1, 20.0, True), {}), ("Softmax", (1,), {}), ("Softmax", (), {}),
    ("LogSoftmax", (0,), {}), ("Softmin", (-1,), {}), ("Tanhshrink", (), {}),
    ("Hardshrink", (0.3,), {}), ("Softshrink", (), {}), ("PReLU", (), {}),
    ("PReLU", (4, 0.1), {}),
]


@needs_torch
@pytest.mark.parametrize("name,args,kw", MODULES, ids=[f"{n}{a}{k}" for n, a, k in MODULES])
def test_modules_match_torch(name, args, kw):
    gm, tm = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(gm) == repr(tm)
    assert list(gm.state_dict()) == list(tm.state_dict())
    gm.load_state_dict({k: genesis.tensor(v.detach().numpy())
                        for k, v in tm.state_dict().items()})
    x = rand(2, 4, 6, dtype="float32", low=-3, high=3)
    gl, tl = genesis.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # Softmax() warns of its implicit dim
        gy, ty = gm(gl * 1), tm(tl * 1)
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    go = rand(*ty.shape, dtype="float32", seed=5)
    gy.backward(genesis.tensor(go))
    ty.backward(torch.tensor(go))
    np.testing.assert_allclose(gl.grad.numpy(), tl.grad.numpy(), rtol=1e-5, atol=1e-6)
    for (k, gp), (_, tp) in zip(gm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(gp.grad.numpy(), tp.grad.numpy(), rtol=1e-5, err_msg=k)


def test_prelu_module_parameter():
    m = nn.PReLU(3, init=0.1, dtype=genesis.float64)
    assert isinstance(m.weight, nn.Parameter) and m.weight.dtype == genesis.float64
    assert m.weight.tolist() == [0.1, 0.1, 0.1] and m.num_parameters == 3
    m.weight.data.fill_(0.5)
    m.reset_parameters()
    assert m.weight.tolist() == [0.1, 0.1, 0.1]


def test_hardtanh_module_checks_its_range():
    with pytest.raises(AssertionError, match=r"max_val \(1.0\) must be greater than min_val "
                                             r"\(1.0\)"):
        nn.Hardtanh(1.0, 1.0)
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        assert nn.Hardtanh(min_value=-3.0).min_val == -3.0
