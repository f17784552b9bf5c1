"""Losses of genesis.nn.functional and genesis.nn: values, dtypes and gradients against
PyTorch for every reduction, weights, ignore_index, label smoothing, probability targets
and K-dim inputs; torch's errors; finite-difference gradchecks without torch."""
import warnings

import numpy as np
import pytest

import genesis
import genesis.nn as nn
import genesis.nn.functional as F
from oracle import check, rand, gradcheck, needs_torch, torch, DEVICE

if torch is not None:
    import torch.nn.functional as TF

REDUCTIONS = ["mean", "sum", "none"]
DTYPES = ["float32", "float64"]


def _targets(shape, n_cls, seed=0, ignore=()):
    """Class indices, with the given flat positions set to -100 (ignored)."""
    t = np.random.default_rng(seed).integers(0, n_cls, shape)
    t.reshape(-1)[list(ignore)] = -100
    return t


def _dev(x, **kw):
    """A genesis tensor on the device the op tests run on (GENESIS_TEST_DEVICE)."""
    return genesis.tensor(x, device=DEVICE, **kw)


def _both(x):
    """x as a genesis and a torch tensor (for arguments that must not take gradients)."""
    if x is None:
        return None, None
    return _dev(x), (torch.tensor(x) if torch is not None else None)


# input shape, target shape, positions of ignored targets
CE_SHAPES = [((6, 5), (6,), (1, 4)), ((5,), (), ()), ((3, 4, 2, 3), (3, 2, 3), (0, 7)),
             ((2, 5, 4), (2, 4), (3,))]
CE_OPTS = [{}, {"weight": True}, {"label_smoothing": 0.2},
           {"weight": True, "label_smoothing": 0.35}, {"ignore_index": 1}]


@pytest.mark.parametrize("xshape,tshape,ign", CE_SHAPES)
@pytest.mark.parametrize("opts", CE_OPTS, ids=lambda o: "-".join(o) or "plain")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_class_targets(xshape, tshape, ign, opts, reduction, dtype):
    n_cls = xshape[0 if len(xshape) == 1 else 1]
    ign = () if "ignore_index" in opts else ign
    t_g, t_t = _both(_targets(tshape, n_cls, ignore=ign))
    w_g, w_t = _both(rand(n_cls, dtype=dtype, low=0.2, high=2.0, seed=9)
                     if opts.get("weight") else None)
    kw = dict(opts, reduction=reduction)
    kw.pop("weight", None)
    x = rand(*xshape, dtype=dtype, low=-3, high=3)
    check(lambda a: F.cross_entropy(a, t_g, weight=w_g, **kw), x,
          fn_torch=lambda a: TF.cross_entropy(a, t_t, weight=w_t, **kw),
          noncontig=len(xshape) > 1)
    check(lambda a: F.nll_loss(a.log_softmax(0 if len(xshape) == 1 else 1), t_g,
                               weight=w_g, **{k: v for k, v in kw.items()
                                              if k != "label_smoothing"}), x,
          fn_torch=lambda a: TF.nll_loss(a.log_softmax(0 if len(xshape) == 1 else 1), t_t,
                                         weight=w_t, **{k: v for k, v in kw.items()
                                                        if k != "label_smoothing"}))


@pytest.mark.parametrize("xshape", [(4, 5), (5,), (2, 3, 4)])
@pytest.mark.parametrize("opts", [{}, {"weight": True}, {"label_smoothing": 0.25},
                                  {"weight": True, "label_smoothing": 0.1}],
                         ids=["plain", "weight", "smooth", "weight-smooth"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_probability_targets(xshape, opts, reduction, dtype):
    n_cls = xshape[0 if len(xshape) == 1 else 1]
    w_g, w_t = _both(rand(n_cls, dtype=dtype, low=0.2, high=2.0, seed=9)
                     if opts.get("weight") else None)
    eps = opts.get("label_smoothing", 0.0)
    p = rand(*xshape, dtype=dtype, low=0, high=1, seed=4)
    # the gradient reaches the target too
    check(lambda a, b: F.cross_entropy(a, b, weight=w_g, reduction=reduction,
                                       label_smoothing=eps),
          rand(*xshape, dtype=dtype, low=-3, high=3), p,
          fn_torch=lambda a, b: TF.cross_entropy(a, b, weight=w_t, reduction=reduction,
                                                 label_smoothing=eps),
          noncontig=len(xshape) > 1)


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_probability_targets_promote(dtype):
    other = "float64" if dtype == "float32" else "float32"
    check(F.cross_entropy, rand(3, 4, dtype=dtype), rand(3, 4, dtype=other, low=0, high=1),
          fn_torch=TF.cross_entropy)


@pytest.mark.parametrize("fn,kw", [("cross_entropy", {}), ("nll_loss", {}),
                                   ("cross_entropy", {"label_smoothing": 0.3})])
@pytest.mark.parametrize("weighted", [False, True])
def test_every_target_ignored(fn, kw, weighted):
    # torch: nan for the mean (0 / 0), 0 for the sum, and a zero gradient
    w = genesis.tensor([1.0, 2.0, 3.0]) if weighted else None
    x = genesis.tensor(rand(4, 3, dtype="float32"), requires_grad=True)
    t = genesis.tensor([-100] * 4)
    loss = getattr(F, fn)(x, t, weight=w, **kw)
    assert loss.dtype == genesis.float32 and np.isnan(loss.item())
    loss.backward()
    assert x.grad.tolist() == [[0.0] * 3] * 4
    assert getattr(F, fn)(x, t, weight=w, reduction="sum", **kw).item() == 0.0
    assert getattr(F, fn)(x, t, reduction="none", **kw).tolist() == [0.0] * 4


@pytest.mark.parametrize("low", ["float16", "bfloat16"])
def test_cross_entropy_low_precision(low):
    x = rand(6, 5, dtype="float32", low=-3, high=3)
    t = _targets((6,), 5, ignore=(2,))
    g = genesis.tensor(x).to(getattr(genesis, low)).requires_grad_()
    loss = F.cross_entropy(g, genesis.tensor(t), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == g.dtype and g.grad.dtype == g.dtype
    ref = genesis.tensor(x, requires_grad=True)
    F.cross_entropy(ref, genesis.tensor(t), label_smoothing=0.1).backward()
    np.testing.assert_allclose(loss.float().item(),
                               F.cross_entropy(ref, genesis.tensor(t),
                                               label_smoothing=0.1).item(), rtol=1e-2)
    np.testing.assert_allclose(g.grad.float().numpy(), ref.grad.numpy(), atol=1e-2)


def test_cross_entropy_byte_targets():
    x = genesis.tensor(rand(4, 3, dtype="float32"))
    t = genesis.tensor([0, 2, 1, 1])
    assert F.cross_entropy(x, t.to(genesis.uint8)).item() == F.cross_entropy(x, t).item()


CE_GRAD = [{}, {"weight": True}, {"label_smoothing": 0.2, "reduction": "none"},
           {"weight": True, "label_smoothing": 0.3, "reduction": "sum"}]


@pytest.mark.parametrize("opts", CE_GRAD, ids=lambda o: "-".join(f"{k}" for k in o) or "plain")
def test_cross_entropy_second_order_gradcheck(opts):
    kw = dict(opts)
    w = _dev([0.5, 1.0, 2.0, 0.7], dtype=genesis.float64) \
        if kw.pop("weight", None) else None
    t = _dev([0, 3, -100])
    gradcheck(lambda a: F.cross_entropy(a, t, weight=w, **kw), rand(3, 4, low=-2, high=2),
              second_order=True)
    t3 = _dev([[0, 2], [1, -100]])
    gradcheck(lambda a: F.cross_entropy(a, t3, weight=w, **kw), rand(2, 4, 2, low=-2, high=2),
              second_order=True)
    gradcheck(lambda a, b: F.cross_entropy(a, b, weight=w, **kw), rand(3, 4, low=-2, high=2),
              rand(3, 4, low=0, high=1, seed=5), second_order=True)


@needs_torch
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_double_backward_matches_torch(smoothing):
    x = rand(4, 5, low=-2, high=2, seed=3)
    t = _targets((4,), 5, ignore=(1,))
    w = rand(5, low=0.5, high=2, seed=6)
    out = {}
    for lib, f in ((genesis, F), (torch, TF)):
        a = lib.tensor(x, requires_grad=True)
        loss = f.cross_entropy(a, lib.tensor(t), weight=lib.tensor(w),
                               label_smoothing=smoothing)
        g, = lib.autograd.grad(loss, a, create_graph=True)
        gg, = lib.autograd.grad((g * g * lib.tensor(x)).sum(), a)
        out[lib.__name__] = g.detach().numpy(), gg.numpy()
    for a, b in zip(out["genesis"], out["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)


def test_nll_loss_gradcheck():
    w = _dev([0.5, 1.0, 2.0, 0.7], dtype=genesis.float64)
    for red in REDUCTIONS:
        gradcheck(lambda a, red=red: F.nll_loss(a, _dev([0, 3, -100, 2]), weight=w,
                                                reduction=red), rand(4, 4), second_order=True)


# ---------------------------------------------------------------- errors
CE_ERRORS = [
    ("cross_entropy", lambda T: (T(rand(3, 4)), T([0, 1, 4])), IndexError,
     "Target 4 is out of bounds."),
    ("cross_entropy", lambda T: (T(rand(3, 4)), T([0, -1, 2])), IndexError,
     "Target -1 is out of bounds."),
    ("nll_loss", lambda T: (T(rand(2, 3, 4)), T([[0, 1, 2, 3], [0, 0, 0, 0]])), IndexError,
     "Target 3 is out of bounds."),
    ("cross_entropy", lambda T: (T(rand(3, 4)), T([0, 1])), ValueError,
     r"Expected input batch_size \(3\) to match target batch_size \(2\)\."),
    ("nll_loss", lambda T: (T(rand(3, 4)), T([[0], [1], [2]])), RuntimeError,
     "0D or 1D target tensor expected, multi-target not supported"),
    ("cross_entropy", lambda T: (T(rand(2, 3, 4)), T([[0, 1, 2, 1, 0], [0] * 5])),
     RuntimeError, r"Expected target size \[2, 4\], got \[2, 5\]"),
    ("cross_entropy", lambda T: (T(rand(2, 3, 4, 5)), T(np.zeros((2, 5, 4), np.int64))),
     RuntimeError, r"size mismatch \(got input: \[2, 3, 4, 5\] , target: \[2, 5, 4\]"),
    ("cross_entropy", lambda T: (T(rand(3, 4)), T([0, 1, 2]).int()), RuntimeError,
     "expected target dtype to be Long or Byte, but got Int"),
    ("cross_entropy", lambda T: (T(rand(3, 4)), T(rand(3, 4)), {"ignore_index": 1}),
     RuntimeError, "ignore_index is not supported for floating point target"),
    ("cross_entropy", lambda T: (T(rand(3, 4)), T(np.ones((3, 4), np.int64))), RuntimeError,
     "Expected floating point type for target with class probabilities, got Long"),
    ("cross_entropy", lambda T: (T(rand(3, 4)), T([0, 1, 2]), {"weight": T(rand(3))}),
     RuntimeError, (r"weight tensor should be defined either for all 4 classes or no "
                    r"classes but got weight tensor of shape: \[3\]")),
    ("cross_entropy", lambda T: (T(rand(3, 4)), T(rand(3, 4)), {"weight": T(rand(3))}),
     RuntimeError, "cross_entropy: weight tensor should be defined either for all 4 classes"),
    ("cross_entropy", lambda T: (T(rand(3, 4, dtype="float32")), T([0, 1, 2]),
                                 {"weight": T(rand(4))}), RuntimeError,
     "expected scalar type Float but found Double"),
    ("cross_entropy", lambda T: (T(rand(3, 4)), T([0, 1, 2]), {"label_smoothing": 1.5}),
     RuntimeError, "label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
    ("cross_entropy", lambda T: (T(rand(3, 4)), T([0, 1, 2]), {"reduction": "avg"}),
     ValueError, "avg is not a valid value for reduction"),
    ("cross_entropy", lambda T: (T([[1, 2]]), T([0])), NotImplementedError,
     "\"log_softmax_lastdim_kernel_impl\" not implemented for 'Long'"),
    ("nll_loss", lambda T: (T(rand(4)), T(5)), IndexError, "Target 5 is out of bounds."),
    ("nll_loss", lambda T: (T(1.0), T(0)), ValueError, r"Expected 1 or more dimensions \(got 0\)"),
    ("binary_cross_entropy", lambda T: (T(rand(3, 1, low=0, high=1)), T(rand(3, low=0, high=1))),
     ValueError, (r"Using a target size \(.*\[3\]\)\) that is different to the input "
                  r"size \(.*\[3, 1\]\)\) is deprecated")),
    ("binary_cross_entropy", lambda T: (T([0.5, 1.5]), T([1.0, 0.0])), RuntimeError,
     "all elements of input should be between 0 and 1"),
    ("binary_cross_entropy", lambda T: (T([0.5, float("nan")]), T([1.0, 0.0])), RuntimeError,
     "all elements of input should be between 0 and 1"),
    ("binary_cross_entropy", lambda T: (T(rand(2, low=0, high=1, dtype="float32")),
                                        T(rand(2, low=0, high=1))), RuntimeError,
     "Found dtype Double but expected Float"),
    ("binary_cross_entropy_with_logits", lambda T: (T(rand(3, 4)), T(rand(4))), ValueError,
     r"Target size \(.*\[4\]\)\) must be the same as input size \(.*\[3, 4\]\)\)"),
    ("smooth_l1_loss", lambda T: (T(rand(3)), T(rand(3)), {"beta": -1.0}), RuntimeError,
     "smooth_l1_loss does not support negative values for beta."),
    ("huber_loss", lambda T: (T(rand(3)), T(rand(3)), {"delta": 0.0}), RuntimeError,
     "huber_loss does not support non-positive values for delta."),
    ("mse_loss", lambda T: (T(rand(3, 4)), T(rand(3, 4)), {"weight": T(rand(4))}), ValueError,
     "Weights and input must have the same size."),
    ("mse_loss", lambda T: (T(rand(3)), T(rand(3)), {"weight": T(rand(3)), "reduction": "x"}),
     ValueError, r"Invalid reduction mode: x. Expected one of 'none', 'mean', 'sum'."),
    ("mse_loss", lambda T: (T([1, 2]), T([2, 3])), NotImplementedError,
     "\"mse_cpu\" not implemented for 'Long'"),
    ("l1_loss", lambda T: (T(rand(3)), T(rand(3)), {"reduction": "bad"}), ValueError,
     "bad is not a valid value for reduction"),
    ("kl_div", lambda T: (T(rand(3)), T(rand(3)), {"reduction": "bad"}), ValueError,
     "bad is not a valid value for reduction"),
    ("binary_cross_entropy_with_logits", lambda T: (T(rand(3)), T(rand(3)),
                                                    {"reduction": "bad"}), ValueError,
     "bad is not a valid value for reduction"),
]


@pytest.mark.parametrize("name,make,exc,msg", CE_ERRORS,
                         ids=[f"{e[0]}-{i}" for i, e in enumerate(CE_ERRORS)])
def test_errors_match_torch(name, make, exc, msg):
    libs = [(genesis, F)] + ([(torch, TF)] if torch is not None else [])
    for lib, f in libs:
        args = make(_dev if lib is genesis else lib.tensor)
        kw = args[-1] if isinstance(args[-1], dict) else {}
        args = args[:-1] if kw else args
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(exc, match=msg):
                getattr(f, name)(*args, **kw)


# ---------------------------------------------------------------- regression losses
REGRESSION = [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}),
              ("smooth_l1_loss", {"beta": 0.3}), ("smooth_l1_loss", {"beta": 0.0}),
              ("huber_loss", {}), ("huber_loss", {"delta": 0.4})]


@pytest.mark.parametrize("name,kw", REGRESSION, ids=[f"{n}{k}" for n, k in REGRESSION])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_regression_losses(name, kw, reduction, dtype):
    if torch is None:
        pytest.skip("PyTorch is not installed")
    x, y = rand(4, 5, dtype=dtype, low=-2, high=2), rand(4, 5, dtype=dtype, seed=3)
    def fn(a, b):
        return getattr(F, name)(a, b, reduction=reduction, **kw)

    check(fn, x, y, noncontig=True,
          fn_torch=lambda a, b: getattr(TF, name)(a, b, reduction=reduction, **kw))
    gradcheck(fn, rand(2, 3, low=-2, high=2), rand(2, 3, seed=5))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_with_weight(name, reduction):
    w = rand(3, 4, low=0.1, high=2, seed=8)
    check(lambda a, b, c: getattr(F, name)(a, b, weight=c, reduction=reduction),
          rand(3, 4, low=-2, high=2), rand(3, 4, seed=2), w,
          fn_torch=lambda a, b, c: getattr(TF, name)(a, b, weight=c, reduction=reduction))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_broadcast_target_warns_as_torch(name):
    x, y = rand(3, 4), rand(3, 1, seed=2)
    with pytest.warns(UserWarning, match=r"Using a target size \(.*\[3, 1\]\)\) that is "
                                         r"different to the input size \(.*\[3, 4\]\)\)"):
        getattr(F, name)(genesis.tensor(x), genesis.tensor(y))
    if torch is not None:       # and broadcasts as torch does
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check(lambda a, b: getattr(F, name)(a, b), x, y,
                  fn_torch=lambda a, b: getattr(TF, name)(a, b))
    with warnings.catch_warnings():
        warnings.simplefilter("error")        # same sizes: no warning
        getattr(F, name)(genesis.tensor(x), genesis.tensor(x))


@pytest.mark.parametrize("size_average,reduce,expect", [
    (None, False, "none"), (False, None, "sum"), (True, True, "mean"), (False, False, "none"),
    (True, None, "mean")])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "cross_entropy", "nll_loss",
                                  "binary_cross_entropy", "kl_div"])
def test_legacy_size_average_and_reduce(size_average, reduce, expect, name):
    x = genesis.tensor(rand(3, 4, low=0.05, high=0.95))
    y = genesis.tensor(rand(3, 4, low=0.05, high=0.95, seed=2))
    if name in ("cross_entropy", "nll_loss"):
        y = genesis.tensor([0, 3, 1])
    with pytest.warns(UserWarning, match=f"size_average and reduce args will be deprecated, "
                                         f"please use reduction='{expect}' instead."):
        r = getattr(F, name)(x, y, size_average=size_average, reduce=reduce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = getattr(F, name)(x, y, reduction=expect)
    np.testing.assert_allclose(r.numpy(), ref.numpy())


# ---------------------------------------------------------------- BCE and KL
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy(weighted, reduction, dtype):
    w_g, w_t = _both(rand(4, dtype=dtype, low=0.2, high=2, seed=4) if weighted else None)
    check(lambda a, b: F.binary_cross_entropy(a, b, weight=w_g, reduction=reduction),
          rand(3, 4, dtype=dtype, low=0.02, high=0.98), rand(3, 4, dtype=dtype, low=0, high=1),
          fn_torch=lambda a, b: TF.binary_cross_entropy(a, b, weight=w_t, reduction=reduction),
          noncontig=True)
    gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
              rand(2, 3, low=0.1, high=0.9), rand(2, 3, low=0, high=1, seed=2),
              second_order=True)


@needs_torch
def test_binary_cross_entropy_clamps_the_log_at_minus_100():
    x, y = np.array([0.0, 1.0, 0.0, 1.0, 1e-30]), np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    check(F.binary_cross_entropy, x, y, fn_torch=TF.binary_cross_entropy,
          rtol=1e-7, atol=1e-7)
    r = F.binary_cross_entropy(genesis.tensor(x), genesis.tensor(y), reduction="none")
    assert r.tolist()[:4] == [100.0, 100.0, 0.0, 0.0]


@pytest.mark.parametrize("opts", [{}, {"weight": (4,)}, {"pos_weight": (4,)},
                                  {"weight": (3, 1), "pos_weight": (4,)}],
                         ids=["plain", "weight", "pos_weight", "both"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_with_logits(opts, reduction, dtype):
    w_g, w_t = _both(rand(*opts["weight"], dtype=dtype, low=0.2, high=2, seed=4)
                     if "weight" in opts else None)
    p_g, p_t = _both(rand(*opts["pos_weight"], dtype=dtype, low=0.2, high=3, seed=6)
                     if "pos_weight" in opts else None)
    check(lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight=w_g, pos_weight=p_g,
                                                          reduction=reduction),
          rand(3, 4, dtype=dtype, low=-5, high=5), rand(3, 4, dtype=dtype, low=0, high=1),
          fn_torch=lambda a, b: TF.binary_cross_entropy_with_logits(
              a, b, weight=w_t, pos_weight=p_t, reduction=reduction), noncontig=True)


def test_binary_cross_entropy_with_logits_is_stable():
    x = genesis.tensor([-1000.0, -100.0, 100.0, 1000.0], requires_grad=True)
    y = genesis.tensor([1.0, 0.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, y, pos_weight=genesis.tensor(2.0),
                                              reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [2000.0, 0.0, 0.0, 1000.0], atol=1e-30)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-2.0, 0.0, 0.0, 1.0])
    gradcheck(lambda a, b, p: F.binary_cross_entropy_with_logits(a, b, pos_weight=p),
              rand(2, 3, low=-3, high=3), rand(2, 3, low=0, high=1, seed=1),
              rand(3, low=0.5, high=2, seed=2), second_order=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_div(reduction, log_target, dtype):
    x = np.log(rand(3, 4, dtype=dtype, low=0.05, high=1))
    y = rand(3, 4, dtype=dtype, low=0.05, high=1, seed=2)
    y = np.log(y) if log_target else y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # 'mean' warns (as torch)
        check(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target), x, y,
              fn_torch=lambda a, b: TF.kl_div(a, b, reduction=reduction,
                                              log_target=log_target), noncontig=True)
    gradcheck(lambda a, b: F.kl_div(a, b, reduction="sum", log_target=log_target),
              x[:2, :3].astype(np.float64), y[:2, :3].astype(np.float64))


def test_kl_div_mean_warns_and_zero_targets_give_zero():
    x = genesis.tensor([[-1.0, -2.0]])
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(x, genesis.tensor([[0.5, 0.5]]))
    r = F.kl_div(x, genesis.tensor([[0.0, 1.0]]), reduction="none")
    assert r.tolist() == [[0.0, 2.0]]


# ---------------------------------------------------------------- modules
LOSS_MODULES = [
    ("CrossEntropyLoss", {}), ("CrossEntropyLoss", {"weight": True, "label_smoothing": 0.1}),
    ("CrossEntropyLoss", {"ignore_index": 2, "reduction": "sum"}), ("NLLLoss", {}),
    ("NLLLoss", {"weight": True, "reduction": "none"}), ("MSELoss", {}),
    ("L1Loss", {"reduction": "sum"}), ("SmoothL1Loss", {"beta": 0.5}),
    ("HuberLoss", {"delta": 0.5}), ("BCELoss", {}), ("BCELoss", {"weight": True}),
    ("BCEWithLogitsLoss", {"pos_weight": True}), ("KLDivLoss", {"reduction": "batchmean"}),
    ("KLDivLoss", {"reduction": "sum", "log_target": True}),
    ("MSELoss", {"size_average": False}),
]


@needs_torch
@pytest.mark.parametrize("name,kw", LOSS_MODULES, ids=[f"{n}{k}" for n, k in LOSS_MODULES])
def test_loss_modules_match_torch(name, kw):
    classes = name in ("CrossEntropyLoss", "NLLLoss")
    w = rand(4, dtype="float32", low=0.2, high=2, seed=3)
    mods = []
    for lib in (genesis, torch):
        k = dict(kw)
        for key in ("weight", "pos_weight"):
            if k.get(key):
                k[key] = _dev(w) if lib is genesis else lib.tensor(w)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mods.append(getattr(lib.nn, name)(**k))
    gm, tm = mods
    assert repr(gm) == repr(tm) and gm.reduction == tm.reduction
    assert list(gm.state_dict()) == list(tm.state_dict())
    for (k, a), (_, b) in zip(gm.state_dict().items(), tm.state_dict().items()):
        np.testing.assert_array_equal(a.cpu().numpy(), b.numpy(), err_msg=k)
    x = rand(5, 4, dtype="float32", low=0.05, high=0.95)
    if name in ("KLDivLoss",):
        x = np.log(x)
    y = _targets((5,), 4) if classes else rand(5, 4, dtype="float32", low=0.05, high=0.95,
                                                seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda a, b: gm(a, b), x, y, fn_torch=lambda a, b: tm(a, b))


def test_loss_module_buffers_follow_the_module():
    m = nn.CrossEntropyLoss(weight=genesis.tensor([1.0, 2.0]))
    assert "weight" in dict(m.named_buffers())
    m = m.double()
    assert m.weight.dtype == genesis.float64
    assert nn.BCEWithLogitsLoss().pos_weight is None
    assert list(nn.BCEWithLogitsLoss(pos_weight=genesis.ones(2)).state_dict()) == \
        ["pos_weight"]


def test_huber_loss_module_checks_delta_type():
    with pytest.raises(TypeError, match="delta must be a float or int"):
        nn.HuberLoss(delta="1")
