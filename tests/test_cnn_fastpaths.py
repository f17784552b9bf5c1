"""The CNN fast paths: relu's bit-masked backward, the 2x2 stride-2 max pool in pairs,
and the stride-1 input gradient of a convolution by flat shifted adds. Edge cases the
general parity tests may not reach: ties, inf/NaN gradients, odd sizes, dilation."""
import numpy as np
import pytest

import genesis
from oracle import check, gradcheck, needs_torch, rand, torch

F = genesis.nn.functional


def _round(a):
    return np.round(a * 2) / 2      # many exact ties


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(2, 3, 6, 8), (2, 3, 7, 9), (3, 5, 4)])
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool_2x2(dtype, shape, ties):
    x = rand(*shape, dtype=dtype, seed=1)
    if ties:
        x = np.maximum(_round(x), 0).astype(dtype)     # as after a relu: tied zeros
    check(lambda t: F.max_pool2d(t, 2, return_indices=True), x,
          fn_torch=lambda t: torch.nn.functional.max_pool2d(t, 2, return_indices=True),
          noncontig=True)


@needs_torch
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("nan", [np.nan, 7.0])     # a NaN input leaves the fast pool path
def test_fast_backwards_pass_inf_nan_only_where_selected(dtype, nan):
    x = np.array([[[[-1, 0, 2, nan], [0, 3, -0.0, 1], [5, 5, 1, 1], [5, 5, 0, 2]]]], dtype)
    gy = np.array([np.inf, np.nan, -np.inf, 1, 2, 3, np.nan, 4], dtype)
    out = []
    for lib in (genesis, torch):
        a = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.max_pool2d(lib.nn.functional.relu(a), 2)
        r = lib.nn.functional.relu(a)
        ((y * lib.tensor(gy[:4].reshape(1, 1, 2, 2))).sum()
         + (r * lib.tensor(np.resize(gy, x.shape).astype(dtype))).sum()).backward()
        out.append((y.detach().float().numpy(), a.grad.float().numpy()))
    for g, t in zip(*out):
        np.testing.assert_array_equal(g, t)


def test_max_pool_2x2_gradcheck():
    gradcheck(lambda t: F.max_pool2d(t, 2), rand(2, 2, 4, 6, seed=3), second_order=True)


def test_relu_gradcheck():
    gradcheck(F.relu, rand(3, 4, seed=4) + 0.05, second_order=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xs, ws, kw", [
    ((3, 4, 9, 7), (5, 4, 3, 2), dict(padding=(1, 2), dilation=(2, 1))),
    ((3, 4, 9, 8), (5, 4, 2, 2), dict(padding="same")),
    ((3, 4, 30), (5, 4, 3), dict(padding=2, dilation=3)),
    ((2, 3, 5, 6, 4), (4, 3, 3, 2, 3), dict(padding=1)),
])
def test_conv_stride1_input_grad(dtype, xs, ws, kw):
    conv = {3: "conv1d", 4: "conv2d", 5: "conv3d"}[len(xs)]
    check(lambda a, b: getattr(F, conv)(a, b, **kw), rand(*xs, dtype=dtype, seed=5),
          rand(*ws, dtype=dtype, seed=6),
          fn_torch=lambda a, b: getattr(torch.nn.functional, conv)(a, b, **kw))


@pytest.mark.parametrize("kw", [dict(padding=1, dilation=2, output_padding=1),
                                dict(padding=0)])
def test_conv_transpose_stride1(kw):
    check(lambda a, b: F.conv_transpose2d(a, b, **kw), rand(3, 4, 6, 5, seed=7),
          rand(4, 5, 3, 3, seed=8),
          fn_torch=lambda a, b: torch.nn.functional.conv_transpose2d(a, b, **kw))


def test_conv_stride1_second_order():
    gradcheck(lambda a, b: F.conv2d(a, b, padding=1, dilation=(1, 2)),
              rand(2, 2, 4, 5, seed=9), rand(3, 2, 2, 2, seed=10), second_order=True)
