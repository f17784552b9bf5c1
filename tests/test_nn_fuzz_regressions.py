"""Regressions found by differential fuzzing of genesis.nn against PyTorch: one test per
bug, each comparing with torch through oracle.check and, where it can, asserting the
expected result without torch."""
import numpy as np
import pytest

import genesis
import genesis.nn.functional as F
from oracle import check, rand, needs_torch, torch


def _F(lib):
    return lib.nn.functional


def test_cross_entropy_prob_target_weight_grad():
    # the class weight got no gradient with probability targets
    x, t, w = rand(2, 3, seed=1), rand(2, 3, low=0, high=1, seed=2), rand(3, low=.5, seed=3)
    check(lambda x, t, w: _F(genesis).cross_entropy(x, t, weight=w, label_smoothing=0.2),
          x, t, w, fn_torch=lambda x, t, w: torch.nn.functional.cross_entropy(
              x, t, weight=w, label_smoothing=0.2))
    xg, wg = genesis.tensor(x), genesis.tensor(w, requires_grad=True)
    F.cross_entropy(xg, genesis.tensor(t), weight=wg, reduction="sum").backward()
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    np.testing.assert_allclose(wg.grad.numpy(), -(t * logp).sum(0), rtol=1e-10)


@needs_torch
def test_cross_entropy_prob_target_weight_double_backward():
    # d/dweight of the input gradient was lost (the weight was not an input of the backward)
    x, t, w = rand(2, 3, seed=4), rand(2, 3, low=0, high=1, seed=5), rand(3, low=.5, seed=6)
    res = []
    for lib in (genesis, torch):
        xs, ws = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(xs, lib.tensor(t), weight=ws)
        gx, = lib.autograd.grad(loss, xs, create_graph=True)
        res.append(lib.autograd.grad((gx * lib.tensor(x)).sum(), ws)[0].detach().numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("call", [
    lambda F, x, w: F.cross_entropy(x, x.argmax(1), weight=w),
    lambda F, x, w: F.nll_loss(x, x.argmax(1), weight=w),
    lambda F, x, w: F.binary_cross_entropy(x.sigmoid(), x.sigmoid(), weight=w),
])
def test_loss_weight_requiring_grad_raises(call):
    # torch refuses class weights that require grad; genesis silently gave them no gradient
    x, w = genesis.tensor(rand(2, 3)), genesis.tensor(rand(3, low=.5), requires_grad=True)
    with pytest.raises(RuntimeError, match="is not differentiable with respect to argument"):
        call(F, x, w)
    with genesis.no_grad():
        call(F, x, w)       # allowed when no graph is recorded
    if torch is not None:
        with pytest.raises(RuntimeError, match="is not differentiable with respect to argument"):
            call(torch.nn.functional, torch.tensor(rand(2, 3)),
                 torch.tensor(rand(3, low=.5), requires_grad=True))


def test_cross_entropy_prob_target_weight_may_require_grad():
    # probability targets: the weight is differentiable (no error), as in torch
    x, w = genesis.tensor(rand(2, 3)), genesis.tensor(rand(3, low=.5), requires_grad=True)
    F.cross_entropy(x, genesis.tensor(rand(2, 3, low=0)), weight=w).backward()
    assert w.grad is not None and w.grad.shape == (3,)


def _raises_like_torch(call, exc, match):
    with pytest.raises(exc, match=match):
        call(genesis)
    if torch is not None:
        with pytest.raises(exc):
            call(torch)


def test_avg_pool3d_input_smaller_than_kernel_raises():
    # torch's avg_pool3d (only) refuses an unpadded input smaller than the kernel, even
    # when padding or ceil_mode would give an output
    _raises_like_torch(lambda L: _F(L).avg_pool3d(L.ones(1, 1, 2, 4, 4), 3, padding=1),
                       RuntimeError, r"input image \(T: 2 H: 4 W: 4\) smaller than kernel size")
    assert F.avg_pool2d(genesis.ones(1, 1, 2, 4), 3, padding=1).shape == (1, 1, 1, 2)


@pytest.mark.parametrize("call", [
    lambda L: _F(L).adaptive_avg_pool2d(L.ones(1, 2, 4, 4), None),
    lambda L: _F(L).adaptive_max_pool3d(L.ones(1, 2, 2, 2, 2), None),
    lambda L: _F(L).adaptive_avg_pool1d(L.ones(1, 2, 4), (None,)),
    lambda L: _F(L).adaptive_max_pool1d(L.ones(1, 2, 4), None),
])
def test_adaptive_pool_none_output_size_raises(call):
    # only a None inside a 2d/3d output_size means "keep the input size"
    _raises_like_torch(call, TypeError, "output_size")


def test_adaptive_pool_none_inside_size_keeps_input_size():
    check(lambda x: _F(genesis if isinstance(x, genesis.Tensor) else torch)
          .adaptive_avg_pool2d(x, (None, 2)), rand(1, 2, 3, 4))


def test_max_pool_padding_bounded_by_undilated_kernel():
    # pad 2 <= half the dilated kernel (5 // 2) but > 3 // 2: torch refuses it
    _raises_like_torch(lambda L: _F(L).max_pool2d(L.ones(1, 1, 9, 9), 3, padding=2, dilation=2),
                       RuntimeError, "pad should be smaller than or equal to half of kernel size")
    assert F.max_pool2d(genesis.ones(1, 1, 9, 9), 3, padding=1, dilation=2).shape == (1, 1, 3, 3)


def test_constant_pad_crop_beyond_input_raises():
    # torch crops first: a negative pad larger than the dim fails even if the total is >= 0
    _raises_like_torch(lambda L: _F(L).pad(L.ones(2, 1), (3, -2)), RuntimeError,
                       "length must be non-negative")
    check(lambda x: _F(genesis if isinstance(x, genesis.Tensor) else torch).pad(x, (-1, 2, 1, -1)),
          rand(3, 4))


def test_layer_norm_empty_normalized_shape_backward():
    # the backward divided by the element count, 0 here
    x = genesis.ones(0, 5, requires_grad=True)
    w = genesis.ones(0, 5, requires_grad=True)
    F.layer_norm(x, (0, 5), w).sum().backward()
    assert x.grad.shape == (0, 5) and w.grad.shape == (0, 5)


def test_group_norm_one_value_per_group_raises():
    # torch's _verify_batch_size on [N * C // G, G, *spatial]
    _raises_like_torch(lambda L: _F(L).group_norm(L.ones(1, 2, 1), 2), ValueError,
                       r"Expected more than 1 value per channel when training, got input size "
                       r"\[1, 2, 1\]")
    assert F.group_norm(genesis.ones(2, 2, 1), 2).shape == (2, 2, 1)


@pytest.mark.parametrize("shape,sf,mode", [
    ((1, 2, 3), 2.3, "nearest"),                  # 1d: double size maps by the factor
    ((1, 2, 3), 1.3, "nearest"),                  # 1d: same size too
    ((1, 1, 3, 3, 2), (1.3, 2.3, 1.0), "nearest"),
    ((1, 1, 3, 3), (1.3, 2.3), "nearest-exact"),
    ((1, 1, 3, 3), (1.3, 2.3), "nearest"),       # 2d: torch's kernel maps them by index
])
def test_interpolate_nearest_scale_factor_same_or_double_size(shape, sf, mode):
    x = rand(*shape, seed=7)
    check(lambda t: _F(genesis if isinstance(t, genesis.Tensor) else torch).interpolate(
        t, scale_factor=sf, mode=mode), x, grad=False)
    if shape == (1, 2, 3) and sf == 2.3:    # floor(j / 2.3): 0 0 0 1 1 2
        y = F.interpolate(genesis.tensor(x), scale_factor=sf).numpy()
        np.testing.assert_array_equal(y, x[..., [0, 0, 0, 1, 1, 2]])


def test_interpolate_area_to_empty():
    # area is an adaptive average pool: an output size of 0 gives an empty result
    y = F.interpolate(genesis.ones(1, 3, 1), scale_factor=0.5, mode="area")
    assert y.shape == (1, 3, 0)
    check(lambda t: _F(genesis if isinstance(t, genesis.Tensor) else torch).interpolate(
        t, scale_factor=(0.5, 0.7), mode="area"), rand(2, 3, 1, 4), grad=False)


def test_linear_without_features():
    # a 1-d input with 0 features: the row count was left to reshape(-1, 0)
    check(lambda x, w, b: _F(genesis if isinstance(x, genesis.Tensor) else torch).linear(x, w, b),
          rand(0), rand(3, 0), rand(3))
    y = F.linear(genesis.ones(0), genesis.ones(3, 0), genesis.tensor([1.0, 2.0, 3.0]))
    assert y.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("p,training", [(0.0, True), (0.5, False), (1.0, True)])
def test_feature_alpha_dropout_1d_no_op_cases(p, training):
    # torch returns early for p 0 or 1 and in eval before its two-dims check
    x = rand(4)
    y = F.feature_alpha_dropout(genesis.tensor(x), p, training)
    np.testing.assert_array_equal(y.numpy(), x * 0 if p == 1 else x)
    check(lambda t: _F(genesis if isinstance(t, genesis.Tensor) else torch)
          .feature_alpha_dropout(t, p, training), x)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(genesis.tensor(x), 0.5, True)
