"""Fused softmax / log_softmax: values, dtypes and gradients vs PyTorch; second-order
finite differences without torch."""
import numpy as np
import pytest

import genesis
from oracle import check, rand, gradcheck, needs_torch, torch, DEVICE


def _dev(x, **kw):
    """A genesis tensor on the device the op tests run on (GENESIS_TEST_DEVICE)."""
    return genesis.tensor(x, device=DEVICE, **kw)


SHAPES_DIMS = [((5,), 0), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), -1), ((), 0)]
FNS = ["softmax", "log_softmax"]


@pytest.mark.parametrize("name", FNS)
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_torch(name, shape, dim, dtype):
    x = rand(*shape, dtype=dtype, low=-4, high=4)
    check(lambda t: getattr(t, name)(dim), x, noncontig=len(shape) >= 2)
    check(lambda t: getattr(t, name)(dim) * 2, x)


@pytest.mark.parametrize("name", FNS)
def test_large_inputs_are_stable(name):
    x = np.array([[1000.0, 0.0, -1000.0], [88.0, 89.0, 90.0]], np.float32)
    check(lambda t: getattr(t, name)(-1), x)


@pytest.mark.parametrize("name", FNS)
@pytest.mark.parametrize("low", ["float16", "bfloat16"])
def test_low_precision_and_dtype_argument(name, low):
    x = rand(4, 6, dtype="float32", low=-3, high=3)
    check(lambda t: getattr(t, name)(-1), x.astype(np.float32), grad=False)
    if torch is None:
        pytest.skip("PyTorch is not installed")
    g = getattr(_dev(x).to(getattr(genesis, low)), name)(-1)
    t = getattr(torch.tensor(x).to(getattr(torch, low)), name)(-1)
    assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(g.float().cpu().numpy(), t.float().numpy(), atol=1e-2,
                               rtol=1e-2)
    g64 = getattr(_dev(x), name)(-1, dtype=genesis.float64)
    assert g64.dtype == genesis.float64


@pytest.mark.parametrize("name", FNS)
def test_second_order_gradcheck(name):
    gradcheck(lambda t: getattr(t, name)(1), rand(2, 4, low=-2, high=2), second_order=True)
    gradcheck(lambda t: getattr(t, name)(0), rand(3, low=-2, high=2), second_order=True)


@needs_torch
@pytest.mark.parametrize("name", FNS)
def test_double_backward_matches_torch(name):
    x = rand(3, 5, seed=4)
    out = {}
    for lib in (genesis, torch):
        new = _dev if lib is genesis else lib.tensor
        t = new(x, requires_grad=True)
        y = getattr(t, name)(-1)
        w = new(rand(3, 5, seed=5))
        g, = lib.autograd.grad((y * w).sum(), t, create_graph=True)
        gg, = lib.autograd.grad((g * g).sum(), t)
        out[lib.__name__] = gg.detach().cpu().numpy()
    np.testing.assert_allclose(out["genesis"], out["torch"], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", FNS)
@pytest.mark.parametrize("value,dname", [([1, 2, 3], "Long"), (1, "Long"), ([True], "Bool")])
def test_integer_input_needs_dtype(name, value, dname):
    # torch raises NotImplementedError (no integer kernel), not RuntimeError
    with pytest.raises(NotImplementedError, match=f'"{name}_lastdim_kernel_impl" not '
                                                  f"implemented for '{dname}'"):
        getattr(_dev(value), name)(0)
    if torch is not None:
        with pytest.raises(NotImplementedError, match=f"{name}_lastdim_kernel_impl"):
            getattr(torch.tensor(value), name)(0)
    r = _dev([1, 2, 3]).softmax(0, dtype=genesis.float32)
    np.testing.assert_allclose(r.cpu().numpy().sum(), 1.0, rtol=1e-6)


@pytest.mark.parametrize("name", FNS)
@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("dtype", [None, "float16", "float64"])
def test_result_is_contiguous_for_transposed_input(name, dim, dtype):
    # torch returns a C-contiguous result, so .view(-1) works on it
    x = rand(3, 4, seed=7)
    kw = {} if dtype is None else {"dtype": getattr(genesis, dtype)}
    y = getattr(_dev(x).t(), name)(dim, **kw)
    assert y.is_contiguous()
    np.testing.assert_array_equal(y.view(-1).cpu().numpy(), y.cpu().numpy().reshape(-1))
    if torch is not None:
        tkw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
        t = getattr(torch.tensor(x).t(), name)(dim, **tkw)
        np.testing.assert_allclose(y.view(-1).double().cpu().numpy(),
                                   t.view(-1).double().numpy(),
                                   rtol=2e-3 if dtype == "float16" else 1e-6)


def test_dim_out_of_range():
    with pytest.raises(IndexError, match="Dimension out of range"):
        genesis.ones(2, 3, device=DEVICE).softmax(2)


@pytest.mark.parametrize("name", FNS)
@pytest.mark.parametrize("shape,dim", [((0, 3), 0), ((0, 3), 1), ((3, 0), 1), ((2, 0, 3), 1),
                                       ((0,), 0)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_empty_input_matches_torch(name, shape, dim, dtype):
    x = np.zeros(shape, dtype)
    check(lambda t: getattr(t, name)(dim), x)
    check(lambda t: getattr(t, name)(dim) * 2, x, noncontig=len(shape) >= 2)


def test_empty_input_without_torch():
    x = genesis.ones(0, 3, requires_grad=True, device=DEVICE)
    y = x.softmax(0)
    assert y.shape == (0, 3) and y.dtype == genesis.float32
    y.sum().backward()
    assert x.grad.shape == (0, 3)
    h = genesis.ones(0, 3, dtype=genesis.float16, device=DEVICE)
    assert h.log_softmax(0).dtype == genesis.float16
