"""Tensors on 'cuda': creation, transfers, dtype casts, elementwise ops and their
gradients, device errors; values against NumPy (and torch on the CPU where installed)."""
import ml_dtypes
import numpy as np
import pytest

import genesis

CUDA = genesis.device("cuda", 0)


def rng(seed=0):
    return np.random.default_rng(seed)


def test_device_api():
    assert genesis.cuda.is_available() and genesis.cuda.device_count() >= 1
    assert genesis.cuda.current_device() == 0
    assert isinstance(genesis.cuda.get_device_name(), str)
    props = genesis.cuda.get_device_properties(0)
    assert props.total_memory > 0 and props.major >= 7
    genesis.cuda.synchronize()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64",
                                   "int32", "uint8", "bool"])
def test_round_trip_and_device(dtype):
    x = (rng().standard_normal((3, 5)) * 4).astype(getattr(ml_dtypes, dtype, dtype))
    t = genesis.tensor(x, device="cuda")
    assert t.device == CUDA and t.is_cuda and t.dtype == getattr(genesis, dtype)
    np.testing.assert_array_equal(t.cpu().numpy(), x)
    back = genesis.tensor(x).cuda().to("cpu")
    assert back.device == genesis.device("cpu")
    np.testing.assert_array_equal(back.numpy(), x)


@pytest.mark.parametrize("src,dst", [("float32", "float16"), ("float32", "bfloat16"),
                                     ("float64", "float16"), ("float64", "bfloat16"),
                                     ("float32", "int32"), ("float64", "int64"),
                                     ("float32", "bool"), ("int64", "float32"),
                                     ("bfloat16", "float32"), ("float16", "float64")])
def test_casts_round_as_the_cpu(src, dst):
    x = rng(1).standard_normal(300) * 50
    x[:4] = [0.5, -0.0, 1e-8, 65519.0]          # ties, signed zero, underflow, overflow
    x = x.astype(getattr(ml_dtypes, src, src))
    want = genesis.tensor(x).to(getattr(genesis, dst)).numpy()
    got = genesis.tensor(x, device="cuda").to(getattr(genesis, dst)).cpu().numpy()
    np.testing.assert_array_equal(got, want)


UNARY = ["exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "abs", "neg",
         "floor", "ceil", "round", "trunc", "reciprocal", "expm1", "log1p", "sign", "erf"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_matches_cpu(name, dtype):
    x = rng(2).uniform(0.05, 3, (4, 33)).astype(dtype) * np.where(
        name in ("log", "sqrt", "rsqrt", "log1p") or rng(3).random((4, 33)) < 0.5, 1, -1)
    x[0, :3] = [0.5, 1.5, 2.5]                    # rounding ties
    want = getattr(genesis.tensor(x), name)().numpy()
    got = getattr(genesis.tensor(x, device="cuda"), name)().cpu().numpy()
    tol = 2e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "pow", "eq", "lt", "ge"]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
def test_binary_broadcasting_and_strides(name, dtype):
    dt = getattr(ml_dtypes, dtype, dtype)
    a = rng(4).uniform(0.5, 2, (3, 4, 5)).astype(dt)
    b = rng(5).uniform(0.5, 2, (4, 1)).astype(dt)
    ga, gb = genesis.tensor(a), genesis.tensor(b)
    ca, cb = ga.cuda(), gb.cuda()
    for x, y, cx, cy in [(ga, gb, ca, cb), (ga.transpose(0, 2), gb, ca.transpose(0, 2), cb),
                         (ga, 1.5, ca, 1.5)]:
        want = getattr(x, name)(y).numpy()
        got = getattr(cx, name)(cy).cpu().numpy()
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64),
                                   rtol=1e-6 if dtype != "bfloat16" else 0)


def test_more_than_four_dims_and_views():
    x = rng(6).standard_normal((2, 3, 2, 3, 2, 3)).astype(np.float32)
    t = genesis.tensor(x, device="cuda")
    y = (t.permute(5, 0, 4, 1, 3, 2) * 2 + 1)[:, 1:, ::2]
    np.testing.assert_allclose(y.cpu().numpy(),
                               (x.transpose(5, 0, 4, 1, 3, 2) * 2 + 1)[:, 1:, ::2])
    v = t.reshape(12, 18)[2:4].view(2, 3, 6)
    np.testing.assert_array_equal(v.cpu().numpy(), x.reshape(12, 18)[2:4].reshape(2, 3, 6))


def test_in_place_ops_write_through_views():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = genesis.tensor(x, device="cuda")
    t[1:, ::2].mul_(10)
    t[0] = 7.0
    want = x.copy()
    want[1:, ::2] *= 10
    want[0] = 7
    np.testing.assert_array_equal(t.cpu().numpy(), want)


def test_elementwise_gradients_on_cuda():
    x = rng(7).standard_normal((5, 6))
    for lib_x in (genesis.tensor(x, requires_grad=True),
                  genesis.tensor(x, device="cuda", requires_grad=True)):
        y = (lib_x * lib_x).exp() * 0.5 - lib_x.sigmoid()
        y.backward(genesis.ones_like(y))
        assert lib_x.grad.device == lib_x.device
    cpu_x = genesis.tensor(x, requires_grad=True)
    ((cpu_x * cpu_x).exp() * 0.5 - cpu_x.sigmoid()).backward(genesis.ones(5, 6,
                                                                          dtype=cpu_x.dtype))
    np.testing.assert_allclose(lib_x.grad.cpu().numpy(), cpu_x.grad.numpy(), rtol=1e-12)


def test_gradient_flows_back_across_devices():
    x = genesis.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x.cuda() * 3).cpu()
    y.backward(genesis.ones(3))
    assert x.grad.device == genesis.device("cpu")
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3, 3])


def test_mixing_devices_raises_as_torch():
    a = genesis.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        a + genesis.ones(3)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        genesis.ones(3) + a
    # a 0-dim CPU tensor is a scalar to a CUDA op, as in torch
    np.testing.assert_array_equal((a + genesis.tensor(2.0)).cpu().numpy(), [3, 3, 3])


def test_numpy_of_a_cuda_tensor_raises_as_torch():
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        genesis.ones(2, device="cuda").numpy()


def test_creation_functions_take_device():
    for t in (genesis.zeros(2, 3, device="cuda"), genesis.ones(4, device=CUDA),
              genesis.full((2,), 2.5, device="cuda:0"), genesis.empty(3, device="cuda"),
              genesis.arange(5, device="cuda"), genesis.eye(3, device="cuda"),
              genesis.linspace(0, 1, 5, device="cuda")):
        assert t.device == CUDA
    np.testing.assert_array_equal(genesis.full((2,), 2.5, device="cuda").cpu().numpy(),
                                  [2.5, 2.5])
    np.testing.assert_array_equal(genesis.arange(5, device="cuda").cpu().numpy(),
                                  np.arange(5))
