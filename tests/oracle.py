"""Test helpers: run an op on genesis and on PyTorch (when installed) from the same NumPy
inputs and compare values, dtypes, shapes and input gradients; finite-difference
gradchecks in float64 that need no torch."""
import os

import numpy as np
import pytest

import genesis

try:
    import torch
except ImportError:          # the parity tests skip; the gradchecks still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

# the device check() and gradcheck() run genesis on: GENESIS_TEST_DEVICE=cuda runs the op
# tests on the CUDA backend (with TRITON_INTERPRET=1 on a machine without a GPU)
DEVICE = os.environ.get("GENESIS_TEST_DEVICE", "cpu")

# (rtol, atol) for values and gradients compared with torch, per dtype
TOL = {"float64": (1e-7, 1e-9), "float32": (1e-5, 1e-5), "float16": (1e-3, 1e-3),
       "bfloat16": (1.6e-2, 1e-2)}


def rng(seed=0):
    return np.random.default_rng(seed)


def rand(*shape, dtype="float64", low=-1.0, high=1.0, seed=0):
    """Uniform floats in [low, high) as a NumPy array."""
    return rng(seed).uniform(low, high, shape).astype(dtype)


def _leaf(arr, lib, requires_grad, noncontig):
    """A leaf tensor of ``lib`` and the input to pass on: a transposed view of it when
    ``noncontig`` so that the op sees non-contiguous strides."""
    float_ = arr.dtype.kind == "f"
    kw = {"device": DEVICE} if lib is genesis else {}
    if noncontig and arr.ndim >= 2:
        src = np.ascontiguousarray(np.swapaxes(arr, -1, -2))
        leaf = lib.tensor(src, requires_grad=requires_grad and float_, **kw)
        return leaf, leaf.transpose(-1, -2)
    leaf = lib.tensor(arr, requires_grad=requires_grad and float_, **kw)
    return leaf, leaf


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _np(t):
    if torch is not None and isinstance(t, torch.Tensor):
        t = t.detach()
        return (t.float() if t.dtype == torch.bfloat16 else t).numpy()
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _dtname(t):
    return str(t.dtype).split(".")[-1]


def assert_same(g, t, rtol=None, atol=None, what="output"):
    """genesis tensor ``g`` against torch tensor ``t``: shape, dtype name and values."""
    assert tuple(g.shape) == tuple(t.shape), f"{what}: shape {tuple(g.shape)} != torch " \
                                             f"{tuple(t.shape)}"
    assert _dtname(g) == _dtname(t), f"{what}: dtype {g.dtype} != torch {t.dtype}"
    r, a = TOL.get(_dtname(t), (0, 0))
    r, a = (rtol if rtol is not None else r), (atol if atol is not None else a)
    gv = _np(g).astype(np.float64) if _dtname(g) == "bfloat16" else _np(g)
    tv = _np(t)
    np.testing.assert_allclose(gv, tv, rtol=r, atol=a, equal_nan=True, err_msg=what)


def check(fn, *arrays, fn_torch=None, grad=True, noncontig=False, rtol=None, atol=None,
          seed=1):
    """Run ``fn`` on genesis and on torch tensors made from ``arrays`` (NumPy arrays or
    Python scalars, passed through as they are) and compare outputs, then backpropagate
    the same random upstream gradient through both and compare the input gradients.
    ``fn_torch`` is used for torch when the two spellings differ."""
    if torch is None:
        pytest.skip("PyTorch is not installed")
    fn_torch = fn_torch or fn
    gl, gi, tl, ti = [], [], [], []
    for a in arrays:
        if isinstance(a, np.ndarray):
            l1, i1 = _leaf(a, genesis, grad, noncontig)
            l2, i2 = _leaf(a, torch, grad, noncontig)
        else:
            l1 = i1 = l2 = i2 = a
        gl.append(l1), gi.append(i1), tl.append(l2), ti.append(i2)
    gout, tout = _as_tuple(fn(*gi)), _as_tuple(fn_torch(*ti))
    assert len(gout) == len(tout), f"{len(gout)} outputs, torch gives {len(tout)}"
    for k, (g, t) in enumerate(zip(gout, tout)):
        if isinstance(t, torch.Tensor):
            assert_same(g, t, rtol, atol, what=f"output {k}")
        else:
            assert g == t, f"output {k}: {g!r} != torch {t!r}"
    if not grad:
        return gout
    pairs = [(g, t) for g, t in zip(gout, tout)
             if isinstance(t, torch.Tensor) and t.requires_grad]
    if not pairs:
        return gout
    r = rng(seed)
    gos = [r.standard_normal(tuple(t.shape)) for _, t in pairs]
    genesis.autograd.backward([g for g, _ in pairs],
                              [genesis.tensor(x, device=g.device).to(g.dtype)
                               for x, (g, _) in zip(gos, pairs)])
    torch.autograd.backward([t for _, t in pairs],
                            [torch.tensor(x).to(t.dtype) for x, (_, t) in zip(gos, pairs)])
    for k, (g, t) in enumerate(zip(gl, tl)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            if t.grad is None:
                assert g.grad is None or not _np(g.grad).any(), f"grad of input {k}"
                continue
            assert g.grad is not None, f"input {k}: genesis gave no gradient, torch did"
            assert_same(g.grad, t.grad, rtol, atol, what=f"grad of input {k}")
    return gout


def gradcheck(fn, *arrays, eps=1e-6, atol=1e-5, rtol=1e-3, second_order=False):
    """Finite-difference check of ``fn``'s gradient in float64 (no torch needed)."""
    inputs = tuple(genesis.tensor(np.asarray(a, np.float64), requires_grad=True,
                                  device=DEVICE)
                   if isinstance(a, np.ndarray) and a.dtype.kind == "f" else
                   (genesis.tensor(a, device=DEVICE) if isinstance(a, np.ndarray) else a)
                   for a in arrays)
    assert genesis.autograd.gradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol)
    if second_order:
        assert genesis.autograd.gradgradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol)
