"""The CUDA backend's matmul primitive against NumPy (np.matmul's semantics: 1-D operands,
batch broadcasting, strided operands, empty dims, every dtype), and genesis's matmul,
F.linear and matmul gradients on 'cuda' against the CPU backend."""
import ml_dtypes
import numpy as np
import pytest

import genesis
import genesis.nn.functional as F
from genesis.backend.cuda import backend as be, linalg

BF16 = np.dtype(ml_dtypes.bfloat16)


def rng(seed=0):
    return np.random.default_rng(seed)


def _rand(shape, dtype, seed=0):
    x = rng(seed).standard_normal(shape) * 3
    return x.astype(BF16 if dtype == "bfloat16" else dtype)


def _reference(x, y):
    """np.matmul in the kernel's accumulator: float32 for low precision (rounded once),
    int64 for integers, wrapped back to the operand dtype as the kernel's store."""
    dt = x.dtype
    if dt.itemsize == 2 and dt.kind == "f" or dt == BF16:
        return np.matmul(x.astype(np.float32), y.astype(np.float32)).astype(dt)
    if dt.kind in "iu":
        return np.matmul(x.astype(np.int64), y.astype(np.int64)).astype(dt)
    return np.matmul(x, y)


# (accumulation error relative to sum |x||y|, one rounding of the result relative to it)
TOL = {"float32": (2e-6, 0), "float64": (1e-14, 0), "float16": (2e-6, 2 ** -10),
       "bfloat16": (2e-6, 2 ** -7)}


def _compare(x, y, got=None):
    if got is None:
        got = be.to_host(be.matmul(be.from_host(x), be.from_host(y)))
    want = np.matmul(x, y) if x.dtype != BF16 else _reference(x, y)
    assert got.shape == want.shape and got.dtype == want.dtype
    name = x.dtype.name
    if name in TOL:
        ref = _reference(x, y).astype(np.float64)
        scale = np.matmul(np.abs(x.astype(np.float64)), np.abs(y.astype(np.float64)))
        acc, rounding = TOL[name]
        tol = acc * scale + rounding * np.abs(ref) + 1e-30
        assert np.all(np.abs(got.astype(np.float64) - ref) <= tol), name
    else:
        np.testing.assert_array_equal(got, want)


SHAPES = [((5, 7), (7, 3)),                  # 2-D
          ((70, 45), (45, 66)),              # several tiles; K not a multiple of BLOCK_K
          ((7,), (7, 4)),                    # 1-D @ 2-D
          ((5, 7), (7,)),                    # 2-D @ 1-D
          ((7,), (7,)),                      # 1-D @ 1-D: 0-d result
          ((2, 1, 5, 7), (3, 7, 4)),         # batched with broadcasting
          ((3, 5, 7), (7, 4)),               # batch folded into the rows
          ((7,), (2, 3, 7, 4)),              # vector against a batch
          ((2, 3, 5, 7), (3, 7, 1)),         # a column per batch entry
          ((4, 0), (0, 3)),                  # K = 0: zeros
          ((0, 4), (4, 3)),                  # empty result
          ((2, 0, 5, 4), (4, 3))]


@pytest.mark.parametrize("xs,ys", SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_shapes_match_numpy(xs, ys, dtype):
    _compare(_rand(xs, dtype, 1), _rand(ys, dtype, 2))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64",
                                   "int32", "int8", "uint8", "bool"])
def test_dtypes(dtype):
    x, y = _rand((2, 9, 40), dtype, 3), _rand((40, 11), dtype, 4)
    if dtype in ("int8", "uint8"):      # wrap around as NumPy's int8 arithmetic
        x, y = (rng(5).integers(0, 256, (2, 9, 40)).astype(dtype),
                rng(6).integers(0, 256, (40, 11)).astype(dtype))
    _compare(x, y)


def _device_view(host, make_view):
    """A device array that is make_view of host's values, built by the same view ops on
    device (so its strides are the view's, not a copy's)."""
    return make_view(be, be.from_host(host)), make_view(np, host)


VIEWS = {
    "transposed": (lambda m, a: m.transpose(a, (1, 0)), (9, 6)),
    "batch_transposed": (lambda m, a: m.transpose(a, (0, 2, 1)), (3, 9, 6)),
    "sliced": (lambda m, a: a[::2, 1:7] if m is np else m.getitem(a, (slice(None, None, 2),
                                                                      slice(1, 7))), (12, 8)),
    "reversed": (lambda m, a: a[::-1] if m is np else m.getitem(a, (slice(None, None, -1),)),
                 (6, 9)),
    "broadcast": (lambda m, a: m.broadcast_to(a, (4, 6, 9)), (6, 9)),
}


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_strided_operands(view, dtype):
    make, shape = VIEWS[view]
    dx, hx = _device_view(_rand(shape, dtype, 7), make)
    k = hx.shape[-1]
    hy = _rand((k, 5), dtype, 8)
    dy, hy_t = _device_view(hy.T.copy(), lambda m, a: m.transpose(a, (1, 0)))
    assert not dx.flags.c_contiguous and not dy.flags.c_contiguous
    _compare(hx, hy_t, be.to_host(be.matmul(dx, dy)))


def test_out_is_strided_and_overlap_is_safe():
    x, y = _rand((3, 6, 5), "float64", 9), _rand((5, 4), "float64", 10)
    buf = be.from_host(np.zeros((4, 6, 3)))
    out = be.transpose(buf, (2, 1, 0))                # (3, 6, 4) non-contiguous
    r = be.matmul(be.from_host(x), be.from_host(y), out=out)
    assert r is out
    np.testing.assert_allclose(be.to_host(buf).transpose(2, 1, 0), x @ y, rtol=1e-13)
    # out aliasing an input: the result must not read partly written values
    a = be.from_host(_rand((6, 6), "float64", 11))
    want = be.to_host(a) @ be.to_host(a)
    be.matmul(a, a, out=a)
    np.testing.assert_allclose(be.to_host(a), want, rtol=1e-13)


def test_batch_loops_and_grid_chunks(monkeypatch):
    # batch dims that do not merge loop on the host; long batches go in grid chunks
    monkeypatch.setattr(linalg, "_MAX_GRID_1", 2)
    _compare(_rand((3, 5, 4, 6), "float64", 22), _rand((5, 6, 2), "float64", 23))


def test_tf32_flag_and_benchmark(monkeypatch):
    assert linalg.ALLOW_TF32 is False
    monkeypatch.setattr(linalg, "ALLOW_TF32", True)
    x, y = _rand((9, 20), "float32", 24), _rand((20, 7), "float32", 25)
    got = be.to_host(be.matmul(be.from_host(x), be.from_host(y)))
    np.testing.assert_allclose(got, x @ y, rtol=1e-2, atol=1e-1)   # TF32: 10-bit mantissa
    calls = []
    times = linalg._bench(lambda: calls.append(1), quantiles=(0.5, 0.2, 0.8))
    assert len(times) == 3 and all(t >= 0 for t in times) and len(calls) >= 3


@pytest.mark.parametrize("xs,ys,msg", [((3, 4), (5, 2), "size 5 is different from 4"),
                                       ((2, 3, 4), (3, 4, 2), "could not be broadcast"),
                                       ((), (3,), "does not have enough dimensions")])
def test_errors_as_numpy(xs, ys, msg):
    with pytest.raises(ValueError, match=msg):
        np.matmul(np.ones(xs), np.ones(ys))
    with pytest.raises(ValueError, match=msg):
        be.matmul(be.from_host(np.ones(xs)), be.from_host(np.ones(ys)))


# ---------------------------------------------------------------- genesis level
def _pair(*arrays, grad=False):
    cpu = [genesis.tensor(a, requires_grad=grad) for a in arrays]
    gpu = [genesis.tensor(a, device="cuda", requires_grad=grad) for a in arrays]
    return cpu, gpu


@pytest.mark.parametrize("dtype,rtol", [("float32", 1e-5), ("float64", 1e-12)])
def test_tensor_matmul_matches_cpu(dtype, rtol):
    (a, b), (ga, gb) = _pair(_rand((2, 5, 7), dtype, 12), _rand((7, 3), dtype, 13))
    r = ga @ gb
    assert r.device == genesis.device("cuda", 0) and r.dtype == a.dtype
    np.testing.assert_allclose(r.cpu().numpy(), (a @ b).numpy(), rtol=rtol, atol=rtol)
    (a, b), (ga, gb) = _pair(_rand((6,), dtype, 14), _rand((6,), dtype, 15))
    np.testing.assert_allclose((ga.cuda() @ gb.cuda()).cpu().numpy(), (a @ b).numpy(),
                               rtol=rtol, atol=rtol)


def test_linear_matches_cpu():
    (x, w, b), (gx, gw, gb) = _pair(_rand((2, 3, 8), "float32", 16),
                                    _rand((5, 8), "float32", 17), _rand((5,), "float32", 18))
    r = F.linear(gx, gw, gb)
    assert r.is_cuda and r.shape == (2, 3, 5)
    np.testing.assert_allclose(r.cpu().numpy(), F.linear(x, w, b).numpy(), rtol=1e-5,
                               atol=1e-5)


def test_matmul_gradients_match_cpu():
    arrays = _rand((2, 4, 6), "float64", 19), _rand((6, 3), "float64", 20)
    (a, b), (ga, gb) = _pair(*arrays, grad=True)
    g = _rand((2, 4, 3), "float64", 21)
    (a @ b).backward(genesis.tensor(g))
    (ga @ gb).backward(genesis.tensor(g, device="cuda"))
    for cpu, gpu in ((a, ga), (b, gb)):
        assert gpu.grad.is_cuda
        np.testing.assert_allclose(gpu.grad.cpu().numpy(), cpu.grad.numpy(), rtol=1e-12)


def test_tf32_switches_as_torch():
    import genesis
    assert genesis.backends.cuda.matmul.allow_tf32 is False
    assert genesis.get_float32_matmul_precision() == "highest"
    try:
        genesis.set_float32_matmul_precision("high")
        assert genesis.backends.cuda.matmul.allow_tf32 is True
        a = genesis.ones(64, 64, device="cuda")
        np.testing.assert_allclose((a @ a).cpu().numpy(), np.full((64, 64), 64.0), rtol=1e-3)
    finally:
        genesis.set_float32_matmul_precision("highest")
    with pytest.warns(UserWarning, match="low is not one of 'highest', 'high', or 'medium'"):
        genesis.set_float32_matmul_precision("low")
    assert genesis.get_float32_matmul_precision() == "highest"
