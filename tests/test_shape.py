"""Shape ops: parity with PyTorch (values, dtypes, shapes, input gradients), finite-difference
gradchecks, views sharing memory and the version counter, and PyTorch's errors."""
import numpy as np
import pytest

import genesis
from oracle import DEVICE, check, rand, gradcheck, needs_torch, torch


def L(x):
    """The library a tensor belongs to, so one lambda serves genesis and torch."""
    return genesis if isinstance(x, genesis.Tensor) else torch


A34, A234 = (3, 4), (2, 3, 4)

# (id, fn, input shapes); each runs in float32/float64, contiguous and transposed inputs
PARITY = [
    ("reshape", lambda a: a.reshape(-1, 2), [A34]),
    ("reshape_fn", lambda a: L(a).reshape(a, (2, 2, 3)), [A34]),
    ("flatten", lambda a: a.flatten(1), [A234]),
    ("flatten_fn", lambda a: L(a).flatten(a, 0, 1), [A234]),
    ("unflatten", lambda a: a.unflatten(-1, (2, -1)), [A234]),
    ("ravel", lambda a: a.ravel(), [A34]),
    ("permute", lambda a: a.permute(2, 0, 1), [A234]),
    ("permute_neg", lambda a: L(a).permute(a, (-1, -3, -2)), [A234]),
    ("transpose", lambda a: a.transpose(0, -1), [A234]),
    ("swapaxes", lambda a: a.swapaxes(0, 1), [A34]),
    ("swapdims", lambda a: L(a).swapdims(a, 1, 2), [A234]),
    ("t", lambda a: a.t(), [A34]),
    ("t_1d", lambda a: a.t() * 2, [(5,)]),
    ("T", lambda a: a.T, [A34]),
    ("mT", lambda a: a.mT, [A234]),
    ("movedim", lambda a: a.movedim(0, -1), [A234]),
    ("movedim_seq", lambda a: L(a).movedim(a, (0, 1), (2, 0)), [A234]),
    ("expand", lambda a: a.expand(2, 3, 4), [(3, 1)]),
    ("expand_neg1", lambda a: a.expand(5, -1, 4), [(3, 1)]),
    ("expand_as", lambda a, b: a.expand_as(b), [(1, 4), A34]),
    ("broadcast_to", lambda a: L(a).broadcast_to(a, (2, 3, 4)), [(4,)]),
    ("broadcast_tensors", lambda a, b: L(a).broadcast_tensors(a, b), [(3, 1), (1, 4)]),
    ("squeeze", lambda a: a.squeeze(), [(1, 3, 1)]),
    ("squeeze_dim", lambda a: a.squeeze(-1), [(3, 1)]),
    ("squeeze_tuple", lambda a: a.squeeze((0, 2)), [(1, 3, 1, 1)]),
    ("squeeze_non1", lambda a: a.squeeze(1), [(1, 3)]),
    ("unsqueeze", lambda a: a.unsqueeze(1), [A34]),
    ("unsqueeze_neg", lambda a: a.unsqueeze(-1), [A34]),
    ("clone", lambda a: a.clone(), [A34]),
    ("contiguous", lambda a: a.contiguous(), [A34]),
    ("repeat", lambda a: a.repeat(2, 1, 3), [A34]),
    ("repeat_zero", lambda a: a.repeat(0, 2), [A34]),
    ("tile", lambda a: a.tile((2,)), [A34]),
    ("tile_more", lambda a: L(a).tile(a, (2, 1, 2)), [A34]),
    ("flip", lambda a: a.flip(0, 2), [A234]),
    ("flip_fn", lambda a: L(a).flip(a, (-1,)), [A34]),
    ("fliplr", lambda a: a.fliplr(), [A34]),
    ("flipud", lambda a: L(a).flipud(a), [A34]),
    ("roll", lambda a: a.roll(2, 1), [A34]),
    ("roll_multi", lambda a: L(a).roll(a, (1, -5), (0, 1)), [A34]),
    ("roll_flat", lambda a: a.roll(5), [A34]),
    ("cat", lambda a, b: L(a).cat([a, b], 1), [A34, (3, 2)]),
    ("cat_neg", lambda a, b: L(a).cat((a, b), dim=-2), [A34, (1, 4)]),
    ("concat", lambda a, b: L(a).concat([a, b]), [A34, A34]),
    ("concatenate", lambda a, b: L(a).concatenate([a, b], 1), [A34, A34]),
    ("cat_legacy_empty", lambda a, b: L(a).cat([a, b, a], 0), [A34, (0,)]),
    ("stack", lambda a, b: L(a).stack([a, b]), [A34, A34]),
    ("stack_dim", lambda a, b: L(a).stack((a, b, a), dim=-1), [A34, A34]),
    ("hstack", lambda a, b: L(a).hstack([a, b]), [A34, (3, 1)]),
    ("hstack_1d", lambda a, b: L(a).hstack([a, b]), [(3,), (2,)]),
    ("vstack", lambda a, b: L(a).vstack([a, b]), [A34, (4,)]),
    ("dstack", lambda a, b: L(a).dstack([a, b]), [A34, A34]),
    ("column_stack", lambda a, b: L(a).column_stack([a, b]), [A34, (3,)]),
    ("split", lambda a: a.split(2, 1), [A34]),
    ("split_uneven", lambda a: L(a).split(a, 3, dim=1), [A34]),
    ("split_list", lambda a: L(a).split(a, [1, 0, 3], 1), [A34]),
    ("chunk", lambda a: a.chunk(3, 1), [A34]),
    ("chunk_fn", lambda a: L(a).chunk(a, 2, dim=0), [(5, 2)]),
    ("tensor_split", lambda a: a.tensor_split(3, 1), [(3, 7)]),
    ("tensor_split_idx", lambda a: L(a).tensor_split(a, [1, 5, 10], dim=1), [(3, 7)]),
    ("tensor_split_unordered", lambda a: a.tensor_split([5, 1], 1), [(3, 7)]),
    ("hsplit", lambda a: L(a).hsplit(a, 2), [A34]),
    ("vsplit", lambda a: L(a).vsplit(a, [1]), [A34]),
    ("unbind", lambda a: a.unbind(1), [A34]),
    ("unbind_fn", lambda a: L(a).unbind(a), [A34]),
    ("narrow", lambda a: a.narrow(1, 1, 2), [A34]),
    ("narrow_neg", lambda a: L(a).narrow(a, -1, -3, 2), [A34]),
    ("unfold", lambda a: a.unfold(1, 2, 1), [A34]),
    ("unfold_step", lambda a: a.unfold(0, 2, 3), [(7, 3)]),
    ("unfold_gap", lambda a: a.unfold(1, 2, 3), [(3, 9)]),
    ("tensor_split_tensor", lambda a: a.tensor_split(L(a).tensor([1, 3]), dim=1), [(3, 7)]),
    ("tensor_split_tensor_n", lambda a: a.tensor_split(L(a).tensor(2), 1), [(3, 7)]),
    ("atleast_3d", lambda a: L(a).atleast_3d(a), [A34]),
    ("atleast_2d_many", lambda a, b: L(a).atleast_2d(a, b), [(4,), A34]),
]


@pytest.mark.parametrize("noncontig", [False, True], ids=["contig", "noncontig"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,fn,shapes", PARITY, ids=[p[0] for p in PARITY])
def test_parity(name, fn, shapes, dtype, noncontig):
    arrays = [rand(*s, dtype=dtype, seed=i) for i, s in enumerate(shapes)]
    check(fn, *arrays, noncontig=noncontig)


KEYWORDS = [
    lambda a: a.reshape(shape=(2, 6)), lambda a: L(a).reshape(a, shape=(6, 2)),
    lambda a: a.view(size=(12,)), lambda a: a.permute(dims=(1, 0)),
    lambda a: L(a).permute(a, dims=(1, 0)), lambda a: a.flip(dims=(0,)),
    lambda a: L(a).flip(a, dims=[1]), lambda a: a.expand(size=(2, 3, 4)),
    lambda a: a.repeat(repeats=(2, 1)), lambda a: L(a).tile(a, dims=(2,)),
    lambda a: a.roll(shifts=1, dims=0), lambda a: a.narrow(dim=1, start=1, length=2),
    lambda a: a.unfold(dimension=1, size=2, step=1), lambda a: L(a).cat(tensors=[a, a], dim=1),
    lambda a: a.split(split_size=2, dim=1), lambda a: L(a).split(a, split_size_or_sections=2),
    lambda a: a.chunk(chunks=2, dim=1), lambda a: a.unbind(dim=1),
    lambda a: a.transpose(dim0=0, dim1=1), lambda a: a.movedim(source=0, destination=1),
    lambda a: a.unflatten(dim=1, sizes=(2, 2)), lambda a: a.flatten(start_dim=0, end_dim=1),
    lambda a: a.squeeze(dim=0), lambda a: a.unsqueeze(dim=2),
]


@pytest.mark.parametrize("k", range(len(KEYWORDS)))
def test_keyword_arguments(k):
    check(KEYWORDS[k], rand(3, 4))


def test_cat_out():
    a, b = rand(2, 3), rand(1, 3, seed=1)
    out = genesis.empty(3, 3, dtype=genesis.float64)
    assert genesis.cat([genesis.tensor(a), genesis.tensor(b)], out=out) is out
    np.testing.assert_array_equal(out.numpy(), np.concatenate([a, b]))
    out = genesis.empty(2, 2, 3, dtype=genesis.float64)
    genesis.stack([genesis.tensor(a), genesis.tensor(a)], out=out)
    np.testing.assert_array_equal(out.numpy(), np.stack([a, a]))


def test_view_parity():
    check(lambda a: a.view(2, -1, 2), rand(3, 4))
    check(lambda a: a.view(12), rand(3, 4))
    check(lambda a: a.transpose(0, 1).view(4, 3, 1).view_as(a.t()), rand(3, 4),
          fn_torch=lambda a: a.transpose(0, 1).view(4, 3, 1).view_as(a.t()))


def test_cat_stack_promote_dtypes():
    f32, f64 = rand(2, 3, dtype="float32"), rand(2, 3, dtype="float64", seed=1)
    ints = np.arange(6).reshape(2, 3)
    check(lambda a, b: L(a).cat([a, b]), f32, f64)
    check(lambda a, b: L(a).stack([a, b], 1), f32, f64)
    check(lambda a, b: L(a).cat([a, b], 1), ints, f32)
    check(lambda a, b: L(a).cat([a, b]), ints.astype(np.int32), ints.astype(np.uint8))
    check(lambda a, b: L(a).cat([a, b]), ints > 2, ints.astype(np.uint8))


@pytest.mark.parametrize("name", ["flip", "roll", "repeat", "cat", "stack", "split", "unbind",
                                  "unfold", "narrow", "permute", "expand"])
def test_float16(name):
    name, fn, shapes = next(p for p in PARITY if p[0] == name)
    check(fn, *[rand(*s, dtype="float16", seed=i) for i, s in enumerate(shapes)],
          noncontig=True)


def test_int_and_bool_inputs():
    x = np.arange(24).reshape(2, 3, 4)
    for fn in [lambda a: a.flip(1), lambda a: a.roll(1, 2), lambda a: a.repeat(1, 2, 1),
               lambda a: a.unfold(2, 2, 2), lambda a: a.split(2, 2), lambda a: a.unbind(0),
               lambda a: L(a).stack([a, a]), lambda a: a.narrow(0, 1, 1)]:
        check(fn, x, grad=False)
        check(fn, x % 2 == 0, grad=False)


def test_zero_dim_and_empty():
    s, e = np.array(3.0), np.zeros((0, 3))
    check(lambda a: a.flatten(), s)
    check(lambda a: a.reshape(1, 1), s)
    check(lambda a: a.unsqueeze(0), s)
    check(lambda a: a.squeeze(0), s)
    check(lambda a: a.t(), s)
    check(lambda a: a.unfold(0, 1, 1), s)
    check(lambda a: a.flip(0), s)
    check(lambda a: L(a).atleast_1d(a), s)
    check(lambda a: L(a).atleast_3d(a), s)
    check(lambda a: a.repeat(2, 3), s)
    check(lambda a: a.roll(1, 0), e)
    check(lambda a: a.chunk(3), e)
    check(lambda a: a.split(0), e)
    check(lambda a: a.unbind(0), e, grad=False)
    check(lambda a: a.unfold(1, 0, 1), e)


# ---------------------------------------------------------------- gradchecks (no torch)
GRADCHECK = [
    ("reshape", lambda a: a.reshape(3, 2) ** 2, [(2, 3)]),
    ("permute", lambda a: a.permute(1, 0, 2) ** 2, [(2, 3, 2)]),
    ("expand", lambda a: a.expand(2, 3, 2) ** 2, [(3, 1)]),
    ("repeat", lambda a: a.repeat(2, 1, 2) ** 2, [(2, 3)]),
    ("tile", lambda a: a.tile((2,)) ** 2, [(3,)]),
    ("flip", lambda a: a.flip(0, 1) ** 2, [(2, 3)]),
    ("roll", lambda a: a.roll((1, 2), (0, 1)) ** 2, [(2, 3)]),
    ("cat", lambda a, b: genesis.cat([a, b * a[:, :1]], 1) ** 2, [(2, 3), (2, 1)]),
    ("stack", lambda a, b: genesis.stack([a, a * b], 1) ** 2, [(2, 3), (2, 3)]),
    ("split", lambda a: tuple(p ** 2 for p in a.split([1, 2], 1)), [(2, 3)]),
    ("chunk", lambda a: tuple(p ** 2 for p in a.chunk(2, 0)), [(3, 2)]),
    ("unbind", lambda a: tuple(p ** 2 for p in a.unbind(1)), [(2, 3)]),
    ("narrow", lambda a: a.narrow(1, 1, 2) ** 2, [(2, 4)]),
    ("unfold", lambda a: a.unfold(1, 2, 1) ** 2, [(2, 4)]),
    ("unfold_step", lambda a: a.unfold(0, 2, 2) ** 2, [(5,)]),
    ("squeeze", lambda a: a.squeeze((0, 2)) ** 2, [(1, 3, 1)]),
    ("tensor_split", lambda a: tuple(p ** 2 for p in a.tensor_split([3, 1])), [(4,)]),
]


@pytest.mark.parametrize("name,fn,shapes", GRADCHECK, ids=[g[0] for g in GRADCHECK])
def test_gradcheck(name, fn, shapes):
    arrays = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    gradcheck(fn, *arrays, second_order=name in {"cat", "stack", "split", "unbind", "narrow",
                                                  "unfold", "repeat", "flip", "roll"})


# ---------------------------------------------------------------- views and memory
def _base():
    return genesis.tensor(np.arange(24.0).reshape(4, 6))


VIEWS = [
    ("view", lambda a: a.view(6, 4)),
    ("view_dtype", lambda a: a.view(genesis.int64)),
    ("reshape", lambda a: a.reshape(2, 12)),
    ("flatten", lambda a: a.flatten()),
    ("ravel", lambda a: a.ravel()),
    ("unflatten", lambda a: a.unflatten(1, (2, 3))),
    ("permute", lambda a: a.permute(1, 0)),
    ("transpose", lambda a: a.transpose(0, 1)),
    ("t", lambda a: a.t()),
    ("T", lambda a: a.T),
    ("movedim", lambda a: a.movedim(0, 1)),
    ("expand", lambda a: a.unsqueeze(0).expand(2, 4, 6)),
    ("squeeze", lambda a: a.unsqueeze(1).squeeze(1)),
    ("narrow", lambda a: a.narrow(1, 2, 3)),
    ("split", lambda a: a.split(2, 1)[1]),
    ("split_list", lambda a: a.split([1, 3], 0)[1]),
    ("chunk", lambda a: a.chunk(3, 1)[2]),
    ("tensor_split", lambda a: a.tensor_split(2, 0)[1]),
    ("unbind", lambda a: a.unbind(1)[3]),
    ("iter", lambda a: list(a)[2]),
    ("unfold", lambda a: a.unfold(1, 3, 2)),
    ("atleast_3d", lambda a: genesis.atleast_3d(a)),
    ("contiguous", lambda a: a.contiguous()),
]


@pytest.mark.parametrize("name,fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_share_memory_and_version(name, fn):
    a = _base()
    v = fn(a)
    assert np.shares_memory(a.numpy(), v.numpy())
    assert v._base is a or v is a
    before = a._version
    v2 = fn(a) if name != "expand" else a.narrow(0, 0, 4)    # expanded views are read-only
    v2.add_(1) if v2.dtype == genesis.float64 else v2.add_(0)
    assert a._version == before + 1 and v._version == a._version


WRITES = [   # (view, the NumPy region it covers)
    (lambda a: a.narrow(1, 2, 3), np.s_[:, 2:5]),
    (lambda a: a.split(4, 1)[1], np.s_[:, 4:]),
    (lambda a: a.unbind(0)[2], np.s_[2]),
    (lambda a: a.chunk(2, 0)[1], np.s_[2:]),
    (lambda a: a.tensor_split([1, 3], 1)[1], np.s_[:, 1:3]),
    (lambda a: a.unfold(1, 2, 3), np.s_[:, [0, 1, 3, 4]]),
    (lambda a: a.permute(1, 0).narrow(0, 1, 1), np.s_[:, 1]),
    (lambda a: a.flatten().narrow(0, 5, 2), np.s_[[0, 1], [5, 0]]),
]


@pytest.mark.parametrize("k", range(len(WRITES)))
def test_write_through_view(k):
    fn, region = WRITES[k]
    a = _base()
    fn(a).mul_(-1)
    ref = np.arange(24.0).reshape(4, 6)
    ref[region] *= -1
    np.testing.assert_array_equal(a.numpy(), ref)


COPIES = [
    ("reshape_noncontig", lambda a: a.t().reshape(-1)),
    ("flatten_noncontig", lambda a: a.t().flatten()),
    ("repeat", lambda a: a.repeat(1, 1)),
    ("tile", lambda a: a.tile((1,))),
    ("flip", lambda a: a.flip(0)),
    ("roll", lambda a: a.roll(0, 0)),
    ("cat", lambda a: genesis.cat([a])),
    ("stack", lambda a: genesis.stack([a])),
    ("clone", lambda a: a.clone()),
    ("contiguous_noncontig", lambda a: a.t().contiguous()),
]


@pytest.mark.parametrize("name,fn", COPIES, ids=[c[0] for c in COPIES])
def test_copies_do_not_share(name, fn):
    a = _base()
    out = fn(a)
    assert not np.shares_memory(a.numpy(), out.numpy())
    assert out._base is None


def _inplace_on_view(lib, fn, x0):
    x = lib.tensor(x0, requires_grad=True)
    y = x * 1.0
    fn(y).mul_(x.sum())                 # depends on x, so the rewrite carries gradient
    (y * lib.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
    return x.grad.numpy(), y.detach().numpy()


@needs_torch
@pytest.mark.parametrize("name,fn", [
    ("narrow", lambda a: a.narrow(1, 1, 2)),
    ("view", lambda a: a.view(2, 6)),
    ("transpose", lambda a: a.transpose(0, 1)),
    ("unsqueeze", lambda a: a.unsqueeze(0)),
    ("narrow_of_t", lambda a: a.t().narrow(0, 1, 2)),
    ("unfold_disjoint", lambda a: a.unfold(1, 2, 2)),
])
def test_inplace_on_view_gradient(name, fn):
    """An in-place change of a view goes into its base's history."""
    x0 = rand(3, 4)
    (gg, gy), (tg, ty) = _inplace_on_view(genesis, fn, x0), _inplace_on_view(torch, fn, x0)
    np.testing.assert_allclose(gy, ty, rtol=1e-12)
    np.testing.assert_allclose(gg, tg, rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("name,fn", [
    ("split", lambda a: a.split(2, 1)[1]),
    ("chunk", lambda a: a.chunk(2, 0)[1]),
    ("unbind", lambda a: a.unbind(1)[2]),
    ("iter", lambda a: list(a)[1]),
    ("view_of_part", lambda a: a.split(2, 1)[0].t()),
])
def test_inplace_on_multi_output_view_raises(name, fn):
    for lib in (genesis, torch):
        with pytest.raises(RuntimeError, match="returns multiple views"):
            _inplace_on_view(lib, fn, rand(3, 4))
    a = genesis.tensor(rand(3, 4))          # fine where autograd is not involved
    fn(a).zero_()
    assert (a.numpy() == 0).any()


def test_iter_and_len():
    x = genesis.tensor(rand(3, 2), requires_grad=True)
    rows = list(x)
    assert len(rows) == 3 and all(r.shape == (2,) for r in rows)
    sum((r * (i + 1)).sum() for i, r in enumerate(rows)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [2, 2], [3, 3]])
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(genesis.tensor(1.0))
    assert [float(v) for v in genesis.tensor([1.0, 2.0])] == [1.0, 2.0]


def test_view_error_and_reshape_copy():
    a = genesis.tensor(rand(3, 4)).t()
    with pytest.raises(RuntimeError, match=r"view size is not compatible.*shape \[4, 3\], "
                                           r"stride \[1, 4\]"):
        a.view(12)
    r = a.reshape(12)
    np.testing.assert_array_equal(r.numpy(), a.numpy().reshape(12))
    assert not np.shares_memory(r.numpy(), a.numpy())
    assert a.view(4, 3, 1).shape == (4, 3, 1)    # splitting dims that don't span is fine


@needs_torch
@pytest.mark.parametrize("src,dst,shape", [
    ("float32", "int32", (2, 3)), ("float32", "float16", (2, 3)), ("float64", "int16", (3,)),
    ("float16", "float32", (2, 4)), ("int64", "float64", (2, 2)), ("uint8", "bool", (4,)),
    ("float32", "bfloat16", (2,)),
])
def test_view_dtype(src, dst, shape):
    x = (np.random.default_rng(0).uniform(-3, 3, shape) * 10).astype(src)
    g = genesis.tensor(x, device=DEVICE).view(getattr(genesis, dst))
    t = torch.tensor(x).view(getattr(torch, dst))
    assert tuple(g.shape) == tuple(t.shape) and str(g.dtype).split(".")[1] == dst
    np.testing.assert_array_equal(g.cpu().numpy().view(np.uint8), t.view(torch.uint8).numpy())


@pytest.mark.parametrize("make,dt,match", [
    (lambda: genesis.tensor(rand(2, 3, dtype="float32")).t(), genesis.float16,
     r"self.stride\(-1\) must be 1 to view Float as Half \(different element sizes\), but "
     r"got 3"),
    (lambda: genesis.tensor(1.0), genesis.float16, r"self.dim\(\) cannot be 0"),
    (lambda: genesis.tensor(rand(3, dtype="float16")), genesis.float32,
     r"self.size\(-1\) must be divisible by 2 to view Half as Float"),
    (lambda: genesis.tensor(rand(4, 3, dtype="float32")).narrow(1, 0, 2), genesis.float64,
     r"self.stride\(0\) must be divisible by 2"),
])
def test_view_dtype_errors(make, dt, match):
    with pytest.raises(RuntimeError, match=match):
        make().view(dt)


@needs_torch
def test_broadcast_shapes():
    for shapes in [((2, 3), (3,)), ((1,), (4, 1), (2, 1, 5)), (3, (2, 1)), ((),)]:
        assert genesis.broadcast_shapes(*shapes) == torch.broadcast_shapes(*shapes)
    assert isinstance(genesis.broadcast_shapes((2, 1), (3,)), genesis.Size)
    with pytest.raises(RuntimeError, match="Shape mismatch"):
        genesis.broadcast_shapes((2, 3), (4,))


def test_functions_and_methods_bound():
    x = genesis.tensor(rand(2, 3))
    for m in ["repeat", "tile", "flip", "fliplr", "flipud", "roll", "split", "chunk", "unbind",
              "narrow", "tensor_split", "unfold", "ravel", "swapaxes", "swapdims", "movedim",
              "hsplit", "vsplit"]:
        assert callable(getattr(x, m)), m
    for f in ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack",
              "broadcast_tensors", "broadcast_shapes", "atleast_1d", "atleast_2d",
              "atleast_3d", "split", "chunk", "unbind", "narrow", "flip", "roll", "tile"]:
        assert callable(getattr(genesis, f)), f
    assert not hasattr(x, "cat") and not hasattr(x, "stack")
    assert x.split(split_size=1)[0].shape == (1, 3)


# ---------------------------------------------------------------- errors
def _t(*shape):
    return genesis.tensor(rand(*shape)) if shape else genesis.tensor(1.0)


ERRORS = [
    (lambda: _t(2, 3).reshape(4, 4), RuntimeError,
     r"shape '\[4, 4\]' is invalid for input of size 6"),
    (lambda: _t(2, 3).view(-1, 4), RuntimeError, r"shape '\[-1, 4\]' is invalid for input "
                                                   r"of size 6"),
    (lambda: _t(2, 3).reshape(-1, -1), RuntimeError, "only one dimension can be inferred"),
    (lambda: _t(2, 3).reshape(-2, 3), RuntimeError, "invalid shape dimension -2"),
    (lambda: _t(2, 3).permute(0, 1, 2), RuntimeError,
     r"input.dim\(\) = 2 is not equal to len\(dims\) = 3"),
    (lambda: _t(2, 3).permute(0, 0), RuntimeError, "duplicate dims are not allowed"),
    (lambda: _t(2, 3).permute(0, 2), IndexError, "Dimension out of range"),
    (lambda: _t(2, 3).expand(2, 4), RuntimeError,
     r"The expanded size of the tensor \(4\) must match the existing size \(3\) at "
     r"non-singleton dimension 1.  Target sizes: \[2, 4\].  Tensor sizes: \[2, 3\]"),
    (lambda: _t(2, 3).expand(3), RuntimeError,
     r"expand\(torch.DoubleTensor\{\[2, 3\]\}, size=\[3\]\): the number of sizes provided"),
    (lambda: _t(3).expand(-1, 3), RuntimeError, "isn't allowed in a leading, non-existing "
                                                "dimension 0"),
    (lambda: genesis.cat([_t(2, 2), _t(3, 3)], 1), RuntimeError,
     r"Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 "
     r"for tensor number 1 in the list."),
    (lambda: genesis.cat([_t(2, 2), _t(2, 2, 2)]), RuntimeError,
     "Tensors must have same number of dimensions: got 2 and 3"),
    (lambda: genesis.cat([_t(), _t(2)]), RuntimeError,
     r"zero-dimensional tensor \(at position 0\) cannot be concatenated"),
    (lambda: genesis.cat([]), ValueError, "expected a non-empty list of Tensors"),
    (lambda: genesis.cat(_t(2, 2)), TypeError, "must be tuple of Tensors, not Tensor"),
    (lambda: genesis.cat([_t(2, 2)], 2), IndexError, "Dimension out of range"),
    (lambda: genesis.stack([_t(2, 3), _t(2, 4)]), RuntimeError,
     r"stack expects each tensor to be equal size, but got \[2, 3\] at entry 0 and \[2, 4\] "
     r"at entry 1"),
    (lambda: genesis.stack([]), RuntimeError, "stack expects a non-empty TensorList"),
    (lambda: _t(5).split([2, 2]), RuntimeError,
     r"split_with_sizes expects split_sizes to sum exactly to 5 \(input tensor's size at "
     r"dimension 0\), but got split_sizes=\[2, 2\]"),
    (lambda: _t(5).split(-1), RuntimeError, "split_size be non-negative"),
    (lambda: _t(5).split(0), RuntimeError, "split_size can only be 0 if dimension size is 0"),
    (lambda: _t(5).chunk(0), RuntimeError, "chunk expects `chunks` to be greater than 0"),
    (lambda: _t(5).tensor_split(0), RuntimeError, "number of sections must be larger than 0"),
    (lambda: genesis.hsplit(_t(2, 3), 2), RuntimeError, "is not divisible by the split_size"),
    (lambda: genesis.vsplit(_t(3), 2), RuntimeError, "requires a tensor with at least 2"),
    (lambda: _t(5).narrow(0, 6, 0), IndexError,
     r"start out of range \(expected to be in range of \[-5, 5\], but got 6\)"),
    (lambda: _t(5).narrow(0, 3, 3), RuntimeError,
     r"start \(3\) \+ length \(3\) exceeds dimension size \(5\)."),
    (lambda: _t(5).narrow(0, 1, -1), RuntimeError, "length must be non-negative"),
    (lambda: _t().narrow(0, 0, 1), RuntimeError, "cannot be applied to a 0-dim tensor"),
    (lambda: _t(5).unfold(0, 6, 1), RuntimeError,
     "maximum size for tensor at dimension 0 is 5 but size is 6"),
    (lambda: _t(5).unfold(0, 2, 0), RuntimeError, "step is 0 but must be > 0"),
    (lambda: _t(2, 3).repeat(2), RuntimeError, "Number of dimensions of repeat dims can not "
                                               "be smaller"),
    (lambda: _t(2, 3).repeat(2, -1), RuntimeError, "negative dimension -1"),
    (lambda: _t(2, 3).roll((1, 2), 0), RuntimeError,
     "shifts and dimensions must align. shifts: 2, dims:1"),
    (lambda: _t(2, 3).flip(0, 0), RuntimeError, "dim 0 appears multiple times"),
    (lambda: _t(3).fliplr(), RuntimeError, r"Input must be >= 2-d."),
    (lambda: _t().flipud(), RuntimeError, r"Input must be >= 1-d."),
    (lambda: _t(2, 3).unbind(2), IndexError, "Dimension out of range"),
    (lambda: _t().unbind(0), IndexError, "Dimension specified as 0 but tensor has no "
                                         "dimensions"),
    (lambda: _t(2, 3).squeeze(2), IndexError, "Dimension out of range"),
    (lambda: _t().squeeze(1), IndexError, "Dimension out of range"),
    (lambda: _t(2, 3).unsqueeze(3), IndexError, "Dimension out of range"),
    (lambda: _t(2, 3).transpose(0, 2), IndexError, "Dimension out of range"),
    (lambda: _t(2, 3, 4).t(), RuntimeError, "t\\(\\) expects a tensor with <= 2 dimensions"),
    (lambda: _t(3).mT, RuntimeError, "only supported on matrices"),
    (lambda: _t(2, 3).movedim((0, 0), (1, 0)), RuntimeError, "repeated dim in `source`"),
    (lambda: _t(2, 3).movedim((0, 1), (1,)), RuntimeError, "Invalid source or destination"),
    (lambda: _t(3).unflatten(0, (2, 2)), RuntimeError,
     r"Provided sizes \[2, 2\] don't multiply up to the size of dim 0 \(3\)"),
    (lambda: _t(3).flatten(1, 0), IndexError, "Dimension out of range"),
    (lambda: _t(2, 3).flatten(1, 0), RuntimeError, "start_dim cannot come after end_dim"),
]


@pytest.mark.parametrize("fn,exc,match", ERRORS, ids=range(len(ERRORS)))
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


# splitting an empty dim gives one (or `chunks`) empty parts, as torch, never none
@pytest.mark.parametrize("fn", [
    lambda a: a.split(2, 0), lambda a: a.split(5), lambda a: a.split(0, 0),
    lambda a: a.split([0], 0), lambda a: L(a).split(a, 2, dim=0), lambda a: a.chunk(2, 0),
    lambda a: a.chunk(1), lambda a: a.tensor_split(2, 0), lambda a: a.tensor_split([1], 0),
    lambda a: a.split(2, 1)[0].split(4, 1),
], ids=["split", "split_big", "split_zero", "split_list", "split_fn", "chunk", "chunk1",
        "tensor_split", "tensor_split_idx", "split_last_dim"])
@pytest.mark.parametrize("shape", [(0, 3), (0, 0)])
def test_split_empty_dim_matches_torch(fn, shape):
    check(fn, np.zeros(shape))


def test_split_empty_dim_without_torch():
    parts = genesis.ones(0, 3).split(2, 0)
    assert len(parts) == 1 and parts[0].shape == (0, 3)
    assert len(genesis.ones(3, 0).split(2, 1)) == 1
    assert genesis.ones(0, 3).split([], 0) == ()


# ---------------------------------------------------------------- fuzzer regressions
# joins and rolls of a transposed input come back C-contiguous, as torch's: .view() works
LAYOUT = [
    ("roll", lambda a: a.roll(1, 0)), ("roll_2d", lambda a: a.roll((1, 2), (0, 1))),
    ("roll_flat", lambda a: a.roll(3)), ("cat0", lambda a: L(a).cat([a, a])),
    ("cat1", lambda a: L(a).cat([a, a], 1)), ("stack0", lambda a: L(a).stack([a, a])),
    ("stack2", lambda a: L(a).stack([a, a], 2)),
]


@needs_torch
@pytest.mark.parametrize("fn", [c[1] for c in LAYOUT], ids=[c[0] for c in LAYOUT])
def test_results_are_contiguous_like_torch(fn):
    a = rand(3, 4)
    r, rt = fn(genesis.tensor(a).t()), fn(torch.tensor(a).t())
    assert r.is_contiguous() and r.stride() == rt.stride()
    np.testing.assert_array_equal(r.view(-1).numpy(), rt.view(-1).numpy())


@pytest.mark.filterwarnings("ignore:Tensor.m")    # torch: mT/mH of a scalar is deprecated
@pytest.mark.parametrize("fn", [
    lambda a: a.movedim(0, 0), lambda a: a.movedim(-1, 0), lambda a: a.movedim((), ()),
    lambda a: a.mT, lambda a: a.mH, lambda a: a.permute(()),
], ids=["movedim", "movedim_neg", "movedim_empty", "mT", "mH", "permute_empty"])
def test_scalar_dim_ops_match_torch(fn):
    check(fn, np.array(1.5))


@pytest.mark.parametrize("fn,exc,match", [
    (lambda L: L.ones(3).permute(), TypeError, 'missing 1 required positional arguments: "dims"'),
    (lambda L: L.tensor(1.).permute(), TypeError, "missing 1 required positional"),
    (lambda L: L.ones(3).expand(), TypeError, 'missing 1 required positional arguments: "size"'),
    (lambda L: L.tensor(1.).unflatten(0, (1, -1)), RuntimeError,
     "Dimension specified as 0 but tensor has no dimensions"),
    (lambda L: L.tensor(1.).unflatten(-1, (1,)), RuntimeError, "tensor has no dimensions"),
    (lambda L: L.tensor(1.).unflatten(1, (1,)), IndexError, "Dimension out of range"),
], ids=["permute", "permute_0d", "expand", "unflatten_0d", "unflatten_0d_neg",
        "unflatten_0d_oob"])
def test_errors_like_torch(fn, exc, match):
    for lib in (genesis, torch) if torch is not None else (genesis,):
        with pytest.raises(exc, match=match):
            fn(lib)
