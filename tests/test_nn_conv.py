"""Convolutions: F.conv1d/2d/3d and F.conv_transpose1d/2d/3d against torch (values and
gradients of input, weight and bias), their errors, finite-difference gradchecks (first
and second order), and the Conv*/ConvTranspose* modules."""
import math

import numpy as np
import pytest

import genesis
import genesis.nn.functional as GF
from oracle import check, rand, gradcheck, needs_torch, torch

TF = torch.nn.functional if torch is not None else None
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def _tol(dtype):
    # float32 weight gradients sum hundreds of products: order-of-summation noise
    return dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else {}


def _conv(name, **kw):
    def make(F):
        return lambda x, w, b=None: getattr(F, name)(x, w, b, **kw)
    return make(GF), (make(TF) if TF else None)


# (input shape, weight shape, kwargs): strides, paddings incl. 'same'/'valid', dilations,
# groups, non-square kernels, batch 1, and outputs large and small enough to take each
# of the column layouts (per sample or batch-wide, wide rows or not)
CONV2D = [
    ((2, 3, 7, 8), (4, 3, 3, 3), {}),
    ((1, 3, 7, 8), (4, 3, 3, 2), dict(stride=2, padding=1)),
    ((2, 4, 9, 7), (6, 2, 3, 3), dict(groups=2, padding=(1, 2))),
    ((2, 3, 9, 9), (4, 3, 3, 3), dict(padding="same", dilation=2)),
    ((2, 3, 8, 9), (4, 3, 4, 2), dict(padding="same")),          # even kernel: asymmetric
    ((2, 3, 8, 9), (4, 3, 4, 4), dict(padding="same", dilation=(1, 3))),
    ((2, 3, 8, 9), (4, 3, 3, 3), dict(padding="valid", stride=(1, 2))),
    ((2, 4, 11, 10), (4, 1, 3, 3), dict(groups=4, stride=(2, 1), dilation=(1, 2))),
    ((2, 2, 26, 26), (3, 2, 3, 3), dict(padding=1)),              # per sample, full rows
    ((2, 2, 30, 14), (3, 2, 3, 3), dict(padding=1)),              # per sample, wide rows
    ((2, 2, 4, 30), (3, 2, 3, 3), dict(padding=1)),               # batch-wide, full rows
    ((2, 2, 30, 14), (4, 1, 1, 1), dict(groups=2)),               # 1x1
    ((1, 2, 5, 5), (3, 2, 5, 5), {}),                             # kernel = input
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xs,ws,kw", CONV2D)
def test_conv2d(xs, ws, kw, dtype):
    g, t = _conv("conv2d", **kw)
    check(g, rand(*xs, dtype=dtype), rand(*ws, dtype=dtype, seed=1),
          rand(ws[0], dtype=dtype, seed=2), fn_torch=t, **_tol(dtype))


@pytest.mark.parametrize("kw", [{}, dict(stride=2, padding=1)])
def test_conv2d_noncontiguous_and_no_bias(kw):
    g, t = _conv("conv2d", **kw)
    check(g, rand(2, 3, 6, 7), rand(4, 3, 3, 2, seed=1), fn_torch=t, noncontig=True)


def test_conv2d_unbatched_and_empty_batch():
    g, t = _conv("conv2d", padding=1)
    check(g, rand(3, 6, 7), rand(4, 3, 3, 3, seed=1), rand(4, seed=2), fn_torch=t)
    check(g, rand(0, 3, 6, 7), rand(4, 3, 3, 3, seed=1), rand(4, seed=2), fn_torch=t)


@needs_torch
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_conv2d_low_precision(dtype):
    g, t = _conv("conv2d", padding=1)
    x, w = rand(2, 3, 6, 6), rand(4, 3, 3, 3, seed=1)
    out = g(genesis.tensor(x).to(getattr(genesis, dtype)), genesis.tensor(w).to(
        getattr(genesis, dtype)))
    ref = t(torch.tensor(x).float(), torch.tensor(w).float())
    assert out.dtype == getattr(genesis, dtype)
    np.testing.assert_allclose(out.float().numpy(), ref.numpy(), rtol=2e-2, atol=3e-2)


def test_conv2d_integer():
    g, t = _conv("conv2d", padding=1)
    x = np.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5) % 7
    w = np.arange(4 * 3 * 3 * 3).reshape(4, 3, 3, 3) % 5 - 2
    check(g, x, w, fn_torch=t, grad=False)


CONV1D = [
    ((2, 3, 9), (4, 3, 3), {}),
    ((1, 4, 12), (6, 2, 4), dict(stride=3, padding=2, groups=2)),
    ((2, 3, 10), (4, 3, 4), dict(padding="same", dilation=3)),
    ((2, 3, 450), (2, 3, 3), dict(padding=1)),                    # per-sample layout
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xs,ws,kw", CONV1D)
def test_conv1d(xs, ws, kw, dtype):
    g, t = _conv("conv1d", **kw)
    check(g, rand(*xs, dtype=dtype), rand(*ws, dtype=dtype, seed=1),
          rand(ws[0], dtype=dtype, seed=2), fn_torch=t, **_tol(dtype))


def test_conv3d():
    g, t = _conv("conv3d", stride=(1, 2, 1), padding=1)
    check(g, rand(2, 2, 4, 5, 6), rand(3, 2, 3, 2, 3, seed=1), rand(3, seed=2), fn_torch=t)


CONV_T2D = [
    ((2, 4, 5, 6), (4, 3, 3, 3), {}),
    ((1, 4, 5, 6), (4, 3, 3, 2), dict(stride=2, padding=1, output_padding=1)),
    ((2, 4, 5, 5), (4, 3, 3, 3), dict(stride=2, dilation=2, groups=2, output_padding=1)),
    ((2, 4, 5, 6), (4, 2, 2, 3), dict(stride=(1, 3), padding=(0, 1), output_padding=(0, 2))),
    ((2, 4, 4, 4), (4, 2, 3, 3), dict(dilation=2, output_padding=1)),  # op >= stride
    ((2, 3, 14, 30), (3, 2, 3, 3), dict(padding=1)),                   # per-sample layout
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xs,ws,kw", CONV_T2D)
def test_conv_transpose2d(xs, ws, kw, dtype):
    g, t = _conv("conv_transpose2d", **kw)
    co = ws[1] * kw.get("groups", 1)
    check(g, rand(*xs, dtype=dtype), rand(*ws, dtype=dtype, seed=1),
          rand(co, dtype=dtype, seed=2), fn_torch=t, **_tol(dtype))


@pytest.mark.parametrize("kw", [{}, dict(stride=3, padding=1, output_padding=2, groups=2)])
def test_conv_transpose1d(kw):
    g, t = _conv("conv_transpose1d", **kw)
    check(g, rand(2, 4, 7), rand(4, 3, 3, seed=1), rand(3 * kw.get("groups", 1), seed=2),
          fn_torch=t)


def test_conv_transpose3d_unbatched():
    g, t = _conv("conv_transpose3d", stride=2)
    check(g, rand(2, 3, 3, 4), rand(2, 3, 2, 2, 2, seed=1), fn_torch=t)


@needs_torch
def test_retain_graph_backward_twice():
    # the forward's columns are handed to the first backward; a second must rebuild them
    x = genesis.tensor(rand(2, 3, 6, 6), requires_grad=True)
    w = genesis.tensor(rand(4, 3, 3, 3, seed=1), requires_grad=True)
    y = GF.conv2d(x, w, padding=1).sum()
    y.backward(retain_graph=True)
    first = w.grad.clone()
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * first.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- gradchecks (no torch)
@pytest.mark.parametrize("fn,shapes", [
    (lambda x, w, b: GF.conv2d(x, w, b, stride=2, padding=1), [(1, 2, 5, 4), (3, 2, 3, 2),
                                                               (3,)]),
    (lambda x, w, b: GF.conv2d(x, w, b, padding="same", groups=2), [(2, 2, 4, 4), (2, 1, 2, 2),
                                                                    (2,)]),
    (lambda x, w, b: GF.conv1d(x, w, b, dilation=2, padding=1), [(2, 2, 6), (3, 2, 3), (3,)]),
    (lambda x, w, b: GF.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     [(1, 2, 3, 3), (2, 3, 3, 3), (3,)]),
])
def test_gradcheck_second_order(fn, shapes):
    gradcheck(fn, *[rand(*s, seed=i) for i, s in enumerate(shapes)], second_order=True)


def test_conv2d_double_backward_matches_torch():
    if torch is None:
        pytest.skip("PyTorch is not installed")
    x, w = rand(2, 3, 5, 5), rand(4, 3, 3, 3, seed=1)
    res = []
    for lib, F in ((genesis, GF), (torch, TF)):
        xt = lib.tensor(x, requires_grad=True)
        wt = lib.tensor(w, requires_grad=True)
        y = F.conv2d(xt, wt, padding=1, stride=2)
        gx, = lib.autograd.grad((y ** 2).sum(), xt, create_graph=True)
        (gx ** 2).sum().backward()
        res.append((gx.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- errors
ERRORS = [
    (lambda L, F: F.conv2d(L.rand(1, 3, 5, 5), L.rand(4, 2, 3, 3)), RuntimeError,
     r"weight of size \[4, 2, 3, 3\], expected input\[1, 3, 5, 5\] to have 2 channels, but "
     r"got 3 channels"),
    (lambda L, F: F.conv2d(L.rand(1, 4, 5, 5), L.rand(3, 2, 3, 3), groups=2),
     RuntimeError, r"expected weight to be divisible by 2 at dimension 0"),
    (lambda L, F: F.conv2d(L.rand(1, 3, 5, 5, dtype=L.float64),
                       L.rand(4, 3, 3, 3)), RuntimeError,
     "expected scalar type Double but found Float"),
    (lambda L, F: F.conv2d(L.rand(1, 3, 5, 5), L.rand(4, 3, 3, 3), L.rand(3)),
     RuntimeError, r"expected bias to be 1-dimensional with 4 elements, but got bias of size "
                   r"\[3\]"),
    (lambda L, F: F.conv2d(L.rand(1, 3, 5, 5), L.rand(4, 3, 3, 3),
                       L.rand(4, dtype=L.float64)), RuntimeError,
     r"Input type \(float\) and bias type \(double\) should be the same"),
    (lambda L, F: F.conv2d(L.rand(1, 3, 2, 2), L.rand(4, 3, 3, 3)), RuntimeError,
     r"padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\)"),
    (lambda L, F: F.conv2d(L.rand(3, 5, 5, 5, 5), L.rand(4, 3, 3, 3)), RuntimeError,
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: "
     r"\[3, 5, 5, 5, 5\]"),
    (lambda L, F: F.conv1d(L.rand(1, 3, 5, 5), L.rand(4, 3, 3)), RuntimeError,
     r"Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d"),
    (lambda L, F: F.conv2d(L.rand(1, 3, 5, 5), L.rand(4, 3, 3, 3), stride=2,
                       padding="same"), RuntimeError, "padding='same' is not supported for "
                                                      "strided convolutions"),
    (lambda L, F: F.conv2d(L.rand(1, 3, 5, 5), L.rand(4, 3, 3, 3), padding="foo"),
     RuntimeError, "Invalid padding string: 'foo'"),
    (lambda L, F: F.conv2d(L.rand(1, 3, 5, 5), L.rand(4, 3, 3, 3), stride=0),
     RuntimeError, "non-positive stride is not supported"),
    (lambda L, F: F.conv2d(L.rand(1, 3, 5, 5), L.rand(4, 3, 3, 3), padding=-1),
     RuntimeError, "negative padding is not supported"),
    (lambda L, F: F.conv2d(L.rand(1, 3, 5, 5), L.rand(4, 3, 3, 3), stride=(1, 2, 3)),
     RuntimeError, r"expected stride to be a single integer value or a list of 2 values"),
    (lambda L, F: F.conv_transpose2d(L.rand(1, 3, 5, 5), L.rand(4, 3, 3, 3)),
     RuntimeError, r"Given transposed=1, weight of size \[4, 3, 3, 3\], expected input\[1, 3, "
                   r"5, 5\] to have 4 channels, but got 3 channels"),
    (lambda L, F: F.conv_transpose2d(L.rand(1, 3, 5, 5), L.rand(3, 3, 3, 3), stride=2,
                                 output_padding=2), RuntimeError,
     "output padding must be smaller than either stride or dilation, but got "
     "output_padding_height: 2 output_padding_width: 2 stride_height: 2"),
]


@pytest.mark.parametrize("fn,exc,msg", ERRORS)
def test_errors(fn, exc, msg):
    with pytest.raises(exc, match=msg):
        fn(genesis, GF)


@needs_torch
@pytest.mark.parametrize("fn,exc,msg", ERRORS)
def test_errors_as_torch(fn, exc, msg):
    # the oracle: torch raises the same type with the same message
    with pytest.raises(exc, match=msg):
        fn(torch, TF)


# ---------------------------------------------------------------- modules
MODULES = [
    ("Conv2d(3, 8, 3)", (2, 3, 9, 9)),
    ("Conv2d(4, 8, (3, 2), stride=2, padding=1, dilation=(2, 1), groups=2, bias=False)",
     (2, 4, 9, 9)),
    ("Conv2d(3, 6, 4, padding='same', dilation=2, padding_mode='reflect')", (2, 3, 8, 8)),
    ("Conv2d(3, 6, 3, padding=2, padding_mode='replicate')", (2, 3, 8, 8)),
    ("Conv2d(3, 6, 3, padding=1, padding_mode='circular')", (3, 8, 8)),
    ("Conv1d(3, 8, 3, padding='valid')", (2, 3, 9)),
    ("Conv1d(4, 4, 3, padding=1, groups=4, padding_mode='reflect')", (2, 4, 9)),
    ("Conv3d(2, 4, 2, stride=(1, 2, 1))", (1, 2, 4, 5, 6)),
    ("ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)",
     (2, 4, 5, 5)),
    ("ConvTranspose1d(4, 6, 3, stride=2, bias=False)", (2, 4, 5)),
    ("ConvTranspose3d(2, 3, 2, stride=2)", (1, 2, 2, 3, 2)),
]


@needs_torch
@pytest.mark.parametrize("expr,shape", MODULES)
def test_module_parity(expr, shape):
    tm = eval("torch.nn." + expr)
    gm = eval("genesis.nn." + expr)
    assert repr(gm) == repr(tm)
    sd = tm.state_dict()
    assert list(gm.state_dict()) == list(sd)
    gm.load_state_dict({k: genesis.tensor(v.numpy()) for k, v in sd.items()})
    x = rand(*shape, dtype="float32", seed=3)
    tx, gx = torch.tensor(x, requires_grad=True), genesis.tensor(x, requires_grad=True)
    ty, gy = tm(tx), gm(gx)
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    go = rand(*ty.shape, dtype="float32", seed=4)
    ty.backward(torch.tensor(go))
    gy.backward(genesis.tensor(go))
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    for (name, p), (_, q) in zip(gm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-4,
                                   err_msg=name)


@pytest.mark.parametrize("cls,args,wshape", [
    (genesis.nn.Conv2d, (16, 32, 3), (32, 16, 3, 3)),
    (genesis.nn.Conv1d, (6, 4, 5, 1, 0, 1, 2), (4, 3, 5)),
    (genesis.nn.ConvTranspose2d, (8, 4, (3, 2)), (8, 4, 3, 2)),
])
def test_module_init(cls, args, wshape):
    genesis.manual_seed(0)
    m = cls(*args)
    assert tuple(m.weight.shape) == wshape
    fan_in = wshape[1] * math.prod(wshape[2:])
    bound = 1 / math.sqrt(fan_in)        # kaiming_uniform(a=sqrt(5)) and the bias's bound
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound
    assert m.weight.requires_grad and m.bias.requires_grad
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]


def test_module_attributes():
    m = genesis.nn.Conv2d(4, 8, 3, stride=(2, 1), padding=1, groups=2)
    assert (m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation,
            m.groups, m.padding_mode, m.transposed, m.output_padding) == (
        4, 8, (3, 3), (2, 1), (1, 1), (1, 1), 2, "zeros", False, (0, 0))
    m = genesis.nn.Conv1d(2, 2, 4, padding="same", dilation=2)
    assert m._reversed_padding_repeated_twice == [3, 3]
    assert tuple(m(genesis.rand(1, 2, 7)).shape) == (1, 2, 7)


def test_conv_transpose_output_size():
    m = genesis.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    x = genesis.rand(1, 4, 5, 5)
    assert tuple(m(x).shape) == (1, 6, 9, 9)
    assert tuple(m(x, output_size=[10, 10]).shape) == (1, 6, 10, 10)
    assert tuple(m(x, output_size=(1, 6, 9, 10)).shape) == (1, 6, 9, 10)
    with pytest.raises(ValueError, match=r"requested an output size of \[11, 11\], but valid "
                                         r"sizes range from \[9, 9\] to \[10, 10\]"):
        m(x, output_size=[11, 11])


@pytest.mark.parametrize("make,msg", [
    (lambda: genesis.nn.Conv2d(3, 4, 3, groups=2), "in_channels must be divisible by groups"),
    (lambda: genesis.nn.Conv2d(4, 3, 3, groups=2), "out_channels must be divisible by groups"),
    (lambda: genesis.nn.Conv2d(4, 4, 3, groups=0), "groups must be a positive integer"),
    (lambda: genesis.nn.Conv2d(4, 4, 3, padding="full"), "Invalid padding string 'full'"),
    (lambda: genesis.nn.Conv2d(4, 4, 3, stride=2, padding="same"),
     "padding='same' is not supported for strided convolutions"),
    (lambda: genesis.nn.Conv2d(4, 4, 3, padding_mode="wrap"), "padding_mode must be one of"),
    (lambda: genesis.nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"),
     'Only "zeros" padding mode is supported for ConvTranspose2d'),
])
def test_module_errors(make, msg):
    with pytest.raises(ValueError, match=msg):
        make()
