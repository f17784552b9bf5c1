"""Pooling, padding and resampling: F.max_pool*/avg_pool*/adaptive_*, F.pad,
F.interpolate, F.unfold/F.fold against torch (values, indices, gradients), their errors,
finite-difference gradchecks, and the pooling/resampling/padding modules."""
import numpy as np
import pytest

import genesis
import genesis.nn.functional as GF
from oracle import check, rand, gradcheck, needs_torch, torch

TF = torch.nn.functional if torch is not None else None


def _both(name, *args, **kw):
    def make(F):
        return lambda x: getattr(F, name)(x, *args, **kw)
    return make(GF), (make(TF) if TF else None)


def _distinct(*shape, dtype="float64", seed=0):
    """Values without ties, so that every max is unique (gradients then match exactly)."""
    r = np.random.default_rng(seed)
    return (r.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 3).astype(dtype)


# ---------------------------------------------------------------- max pooling
MAX2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1), ceil_mode=True),
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=(3, 1), stride=(2, 1)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", MAX2D)
def test_max_pool2d(kw, dtype):
    g, t = _both("max_pool2d", return_indices=True, **kw)
    check(g, _distinct(2, 3, 9, 10, dtype=dtype), fn_torch=t)


def test_max_pool2d_noncontiguous_unbatched():
    g, t = _both("max_pool2d", 3, 2, 1)
    check(g, _distinct(2, 9, 10), fn_torch=t, noncontig=True)


def test_max_pool2d_ties_and_special_values():
    # ties: the gradient goes to the first max (torch's index); windows of -inf pick a real
    # element, never padding; NaN wins (the last NaN of a window)
    x = np.zeros((1, 2, 6, 6))
    x[0, 0, :3, :3] = -np.inf
    x[0, 1, 1, 1] = x[0, 1, 1, 2] = np.nan
    g, t = _both("max_pool2d", 3, 1, 1, return_indices=True)
    check(g, x, fn_torch=t)


@pytest.mark.parametrize("kw", [dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=2, dilation=2)])
def test_max_pool1d(kw):
    g, t = _both("max_pool1d", return_indices=True, **kw)
    check(g, _distinct(2, 3, 11), fn_torch=t)


def test_max_pool3d():
    g, t = _both("max_pool3d", 2, return_indices=True, padding=(1, 0, 1))
    check(g, _distinct(1, 2, 5, 6, 7), fn_torch=t)


def test_max_pool_integer():
    g, t = _both("max_pool2d", 2)
    check(g, np.random.default_rng(0).integers(-9, 9, (2, 3, 6, 6)), fn_torch=t, grad=False)


# ---------------------------------------------------------------- average pooling
AVG2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=3, divisor_override=5),
    dict(kernel_size=3, stride=1, padding=1, ceil_mode=True, count_include_pad=False),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", AVG2D)
def test_avg_pool2d(kw, dtype):
    g, t = _both("avg_pool2d", **kw)
    check(g, rand(2, 3, 9, 10, dtype=dtype), fn_torch=t, noncontig=True)


def test_avg_pool1d_3d_and_integer():
    g, t = _both("avg_pool1d", 3, 2, 1, ceil_mode=True, count_include_pad=False)
    check(g, rand(2, 3, 11), fn_torch=t)
    g, t = _both("avg_pool3d", 3, 2, 1)
    check(g, rand(1, 2, 5, 6, 7), fn_torch=t)
    g, t = _both("avg_pool2d", 3, 2, 1)
    check(g, np.random.default_rng(0).integers(-9, 9, (2, 3, 6, 6)), fn_torch=t, grad=False)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_pool_low_precision(dtype):
    x = rand(2, 3, 8, 8)
    for name, args in (("avg_pool2d", (3, 2, 1)), ("max_pool2d", (2,)),
                       ("adaptive_avg_pool2d", (3,))):
        g = getattr(GF, name)(genesis.tensor(x).to(getattr(genesis, dtype)), *args)
        assert g.dtype == getattr(genesis, dtype)
        if torch is not None:
            ref = getattr(TF, name)(torch.tensor(x).float(), *args).numpy()
            np.testing.assert_allclose(g.float().numpy(), ref, rtol=2e-2, atol=2e-2)


# ---------------------------------------------------------------- adaptive pooling
ADAPTIVE_SIZES = [1, 3, (4, None), (2, 5), (9, 10), (7, 3), (12, 4)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size", ADAPTIVE_SIZES)
def test_adaptive_avg_pool2d(size, dtype):
    g, t = _both("adaptive_avg_pool2d", size)
    check(g, rand(2, 3, 9, 10, dtype=dtype), fn_torch=t)


@pytest.mark.parametrize("size", ADAPTIVE_SIZES)
def test_adaptive_max_pool2d(size):
    g, t = _both("adaptive_max_pool2d", size, return_indices=True)
    check(g, _distinct(2, 3, 9, 10), fn_torch=t, noncontig=True)


def test_adaptive_1d_3d_unbatched():
    for name, size, shape in (("adaptive_avg_pool1d", 4, (2, 3, 11)),
                              ("adaptive_max_pool1d", 4, (2, 3, 11)),
                              ("adaptive_avg_pool2d", (3, 4), (3, 7, 9)),
                              ("adaptive_avg_pool3d", (2, 3, 4), (1, 2, 5, 6, 7))):
        g, t = _both(name, size)
        check(g, _distinct(*shape), fn_torch=t)


# ---------------------------------------------------------------- pad
PADS = [
    ((1, 2), "constant"), ((1, 2, 0, 3), "constant"), ((-1, 2, 1, -2), "constant"),
    ((1, 1, 1, 1, 1, 1), "constant"),
    ((1, 2, 0, 3), "reflect"), ((2, 1, 1, 2), "replicate"), ((2, 1, 1, 2), "circular"),
    ((4, 3, 1, 2), "replicate"), ((5, 0, 0, 5), "circular"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("pads,mode", PADS)
def test_pad(pads, mode, dtype):
    g, t = _both("pad", pads, mode)
    check(g, rand(2, 3, 5, 6, dtype=dtype), fn_torch=t, noncontig=True)


def test_pad_values_and_ranks():
    g, t = _both("pad", (1, 1), value=2.5)
    check(g, rand(2, 3, 4), fn_torch=t)
    for mode in ("reflect", "replicate", "circular"):
        g, t = _both("pad", (2, 1), mode)
        check(g, rand(3, 5), fn_torch=t)              # 2-D: unbatched 1-d padding
        g, t = _both("pad", (1, 2, 2, 1, 1, 1), mode)
        check(g, rand(1, 2, 3, 4, 5), fn_torch=t)
    g, t = _both("pad", (1, 1), value=1.5)              # integer tensors truncate the value
    check(g, np.arange(6).reshape(2, 3), fn_torch=t, grad=False)


# ---------------------------------------------------------------- interpolate
INTERP = [dict(size=(7, 9)), dict(scale_factor=2), dict(scale_factor=0.5), dict(size=(3, 13)),
          dict(scale_factor=(1.7, 2.3)), dict(scale_factor=2.1),
          dict(scale_factor=(1.7, 2.3), recompute_scale_factor=True), dict(size=(5, 6))]
MODES = [("nearest", None), ("nearest-exact", None), ("bilinear", False),
         ("bilinear", True), ("area", None)]


@pytest.mark.parametrize("mode,ac", MODES)
@pytest.mark.parametrize("kw", INTERP)
def test_interpolate(kw, mode, ac):
    g, t = _both("interpolate", mode=mode, align_corners=ac, **kw)
    check(g, rand(2, 3, 5, 6), fn_torch=t)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_interpolate_float32_noncontig(dtype):
    for mode, ac in MODES:
        g, t = _both("interpolate", scale_factor=(2, 1.5), mode=mode, align_corners=ac)
        check(g, rand(2, 3, 5, 6, dtype=dtype), fn_torch=t, noncontig=True)


def test_interpolate_1d_3d_uint8():
    for shape, kw in (((2, 3, 7), dict(size=12, mode="linear")),
                      ((2, 3, 7), dict(size=4, mode="linear", align_corners=True)),
                      ((2, 3, 7), dict(scale_factor=3, mode="nearest")),
                      ((1, 2, 3, 4, 5), dict(scale_factor=2, mode="trilinear")),
                      ((1, 2, 3, 4, 5), dict(size=(5, 3, 8), mode="nearest"))):
        g, t = _both("interpolate", **kw)
        check(g, rand(*shape), fn_torch=t)
    g, t = _both("interpolate", scale_factor=2)
    check(g, np.arange(12, dtype=np.uint8).reshape(1, 1, 3, 4), fn_torch=t, grad=False)


# ---------------------------------------------------------------- unfold / fold
BLOCKS = [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2, padding=1, dilation=(1, 2)),
          dict(kernel_size=3, padding=1)]


@pytest.mark.parametrize("kw", BLOCKS)
def test_unfold_fold(kw):
    g, t = _both("unfold", **kw)
    cols = check(g, rand(2, 3, 7, 8), fn_torch=t, noncontig=True)[0]
    g, t = _both("fold", (7, 8), **kw)
    check(g, rand(*cols.shape), fn_torch=t)
    g, t = _both("unfold", **kw)
    check(g, rand(3, 7, 8), fn_torch=t)            # unbatched


def test_fold_of_unfold_counts_overlaps():
    # fold(unfold(x)) multiplies each pixel by the number of blocks that hold it
    x = genesis.tensor(rand(1, 2, 6, 5))
    kw = dict(kernel_size=3, padding=1)
    y = GF.fold(GF.unfold(x, **kw), (6, 5), **kw)
    ones = GF.fold(GF.unfold(genesis.ones(1, 2, 6, 5), **kw), (6, 5), **kw)
    np.testing.assert_allclose(y.numpy(), x.numpy() * ones.numpy(), rtol=1e-12)
    assert ones.numpy()[0, 0, 2, 2] == 9 and ones.numpy()[0, 0, 0, 0] == 4
    # stride = kernel: blocks tile the image and fold undoes unfold exactly
    z = GF.fold(GF.unfold(x[..., :4], 2, stride=2), (6, 4), 2, stride=2)
    np.testing.assert_array_equal(z.numpy(), x[..., :4].numpy())


# ---------------------------------------------------------------- gradchecks (no torch)
@pytest.mark.parametrize("fn", [
    lambda t: GF.max_pool2d(t, 3, 2, 1),
    lambda t: GF.max_pool1d(t.flatten(2), 3, 2, 1, ceil_mode=True),
    lambda t: GF.avg_pool2d(t, 3, 2, 1, count_include_pad=False, ceil_mode=True),
    lambda t: GF.adaptive_avg_pool2d(t, (3, 2)),
    lambda t: GF.adaptive_max_pool2d(t, 3),
    lambda t: GF.pad(t, (1, 2, 2, 1), "reflect"),
    lambda t: GF.pad(t, (2, 1, 1, 1), "replicate"),
    lambda t: GF.pad(t, (1, -2, 2, 1), "circular"),
    lambda t: GF.pad(t, (1, -2, 2, 1), value=3.0),
    lambda t: GF.interpolate(t, scale_factor=(2, 1.5), mode="bilinear"),
    lambda t: GF.interpolate(t, size=(3, 7), mode="nearest"),
    lambda t: GF.unfold(t, 2, padding=1, stride=(1, 2)),
    lambda t: GF.fold(GF.unfold(t, 2), (4, 5), 2),
])
def test_gradcheck_second_order(fn):
    gradcheck(fn, _distinct(1, 2, 4, 5), second_order=True)


# ---------------------------------------------------------------- errors
ERRORS = [
    (lambda L, F: F.max_pool2d(L.rand(1, 3, 5, 5), 3, padding=2), RuntimeError,
     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and "
     "dilation=1"),
    (lambda L, F: F.max_pool2d(L.rand(1, 3, 5, 5), 3, stride=0), RuntimeError,
     "stride should not be zero"),
    (lambda L, F: F.max_pool2d(L.rand(1, 3, 2, 2), 3), RuntimeError,
     r"Given input size: \(3x2x2\). Calculated output size: \(3x0x0\). Output size is too "
     "small"),
    (lambda L, F: F.max_pool2d(L.rand(2, 0, 5, 5), 2), RuntimeError,
     r"Expected 3D or 4D \(batch mode\) tensor with optional 0 dim batch size for input, but "
     r"got:\[2, 0, 5, 5\]"),
    (lambda L, F: F.avg_pool2d(L.rand(1, 3, 5, 5), 3, divisor_override=0), RuntimeError,
     "divisor must be not zero"),
    (lambda L, F: F.adaptive_avg_pool2d(L.rand(1, 3, 5, 5), (2, 2, 2)), RuntimeError,
     "adaptive_avg_pool2d: output_size must be 2"),
    (lambda L, F: F.pad(L.rand(1, 1, 3, 3), (1, 2, 3)), RuntimeError,
     "Padding length must be divisible by 2"),
    (lambda L, F: F.pad(L.rand(1, 1, 3, 3), (3, 3, 0, 0), mode="reflect"), RuntimeError,
     r"Padding size should be less than the corresponding input dimension, but got: padding "
     r"\(3, 3\) at dimension 3"),
    (lambda L, F: F.pad(L.rand(1, 1, 3, 3), (1, 1), mode="reflect"), NotImplementedError,
     "Padding size 2 is not supported for 4D input tensor"),
    (lambda L, F: F.pad(L.rand(1, 1, 3, 3), (1, 1), mode="foo"), NotImplementedError,
     "Unrecognised padding mode foo"),
    (lambda L, F: F.pad(L.rand(1, 1, 3, 3), (1, 1, 1, 1), mode="reflect", value=3),
     RuntimeError, 'Padding mode "reflect" doesn\'t take in value argument'),
    (lambda L, F: F.interpolate(L.rand(1, 2, 5, 5)), ValueError,
     "either size or scale_factor should be defined"),
    (lambda L, F: F.interpolate(L.rand(1, 2, 5, 5), size=3, scale_factor=2), ValueError,
     "only one of size or scale_factor should be defined"),
    (lambda L, F: F.interpolate(L.rand(1, 2, 5, 5), size=(3, 3, 3)), ValueError,
     r"spatial dimensions of \[5, 5\] and output size of \(3, 3, 3\)"),
    (lambda L, F: F.interpolate(L.rand(1, 2, 5, 5), size=3, align_corners=True), ValueError,
     "align_corners option can only be set with the interpolating modes"),
    (lambda L, F: F.interpolate(L.rand(1, 2, 5, 5), size=3, mode="linear"),
     NotImplementedError, "Got 4D input, but linear mode needs 3D input"),
    (lambda L, F: F.interpolate(L.rand(1, 2, 5, 5), size=0), RuntimeError,
     r"Input and output sizes should be greater than 0, but got input \(H: 5, W: 5\) output "
     r"\(H: 0, W: 0\)"),
    (lambda L, F: F.interpolate(L.ones(1, 1, 4, 4, dtype=L.int32), size=3), NotImplementedError,
     "\"upsample_nearest2d_channels_last\" not implemented for 'Int'"),
    (lambda L, F: F.fold(L.rand(1, 7, 9), (4, 4), 2), RuntimeError,
     r"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
     r"got input.size\(1\)=7 and kernel_size=\(2, 2\)"),
    (lambda L, F: F.fold(L.rand(1, 8, 8), (4, 4), 2), RuntimeError,
     r"match the calculated number of sliding blocks 3 \* 3 = 9, but got input.size\(2\)=8"),
]


@pytest.mark.parametrize("fn,exc,msg", ERRORS)
def test_errors(fn, exc, msg):
    with pytest.raises(exc, match=msg):
        fn(genesis, GF)


@needs_torch
@pytest.mark.parametrize("fn,exc,msg", ERRORS)
def test_errors_as_torch(fn, exc, msg):
    with pytest.raises(exc, match=msg):
        fn(torch, TF)


# ---------------------------------------------------------------- modules
MODULES = [
    ("MaxPool2d(3, 2, 1)", (2, 3, 9, 9)), ("MaxPool2d(2, ceil_mode=True)", (2, 3, 9, 9)),
    ("MaxPool1d(3)", (2, 3, 9)), ("MaxPool3d(2, padding=1)", (1, 2, 4, 4, 4)),
    ("AvgPool2d(3, 2, 1, count_include_pad=False)", (2, 3, 9, 9)),
    ("AvgPool1d(3, 2)", (2, 3, 9)), ("AvgPool3d(2, divisor_override=3)", (1, 2, 4, 4, 4)),
    ("AdaptiveAvgPool2d((3, None))", (2, 3, 9, 8)), ("AdaptiveAvgPool1d(4)", (2, 3, 9)),
    ("AdaptiveAvgPool3d(2)", (1, 2, 4, 5, 6)),
    ("AdaptiveMaxPool2d(4)", (2, 3, 9, 8)), ("AdaptiveMaxPool1d(2)", (2, 3, 9)),
    ("Upsample(scale_factor=2, mode='bilinear')", (2, 3, 4, 4)),
    ("Upsample(size=(5, 7))", (2, 3, 4, 4)),
    ("UpsamplingNearest2d(scale_factor=3)", (2, 3, 4, 4)),
    ("UpsamplingBilinear2d(scale_factor=2)", (2, 3, 4, 4)),
    ("Unfold(2, padding=1)", (2, 3, 4, 4)), ("Fold((4, 5), 2)", (2, 12, 12)),
    ("ZeroPad2d((1, 2, 0, 1))", (2, 3, 4, 4)), ("ZeroPad1d(2)", (2, 3, 4)),
    ("ConstantPad2d(1, 3.5)", (2, 3, 4, 4)), ("ConstantPad3d((1, 0, 0, 1, 2, 0), -1.0)",
                                               (1, 2, 3, 3, 3)),
    ("ReflectionPad2d(1)", (2, 3, 4, 4)), ("ReflectionPad1d((2, 1))", (2, 3, 4)),
    ("ReplicationPad1d((1, 2))", (2, 3, 4)), ("ReplicationPad3d(1)", (1, 2, 3, 3, 3)),
    ("CircularPad2d(1)", (2, 3, 4, 4)),
]


@needs_torch
@pytest.mark.parametrize("expr,shape", MODULES)
def test_module_parity(expr, shape):
    tm = eval("torch.nn." + expr)
    gm = eval("genesis.nn." + expr)
    assert repr(gm) == repr(tm)
    assert list(gm.state_dict()) == list(tm.state_dict()) == []
    x = _distinct(*shape, dtype="float32")
    tx, gx = torch.tensor(x, requires_grad=True), genesis.tensor(x, requires_grad=True)
    ty, gy = tm(tx), gm(gx)
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    go = rand(*ty.shape, dtype="float32", seed=4)
    ty.backward(torch.tensor(go))
    gy.backward(genesis.tensor(go))
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_module_return_indices():
    x = genesis.tensor(_distinct(1, 2, 6, 6))
    for m in (genesis.nn.MaxPool2d(2, return_indices=True),
              genesis.nn.AdaptiveMaxPool2d(3, return_indices=True)):
        y, idx = m(x)
        assert idx.dtype == genesis.int64 and tuple(idx.shape) == (1, 2, 3, 3)
        flat = x.flatten(2).numpy()
        np.testing.assert_array_equal(
            np.take_along_axis(flat, idx.flatten(2).numpy(), 2), y.flatten(2).numpy())
