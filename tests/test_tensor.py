"""The Tensor API: properties, conversions, views' strides, autograd metadata, Python
protocols, pickling, the legacy constructor, genesis.Size, .to() and genesis.device.

Most tests run once per library (``lib`` is genesis, then torch when installed) with the
same assertions, so every expectation written here is also checked against PyTorch."""
import copy
import pickle

import numpy as np
import pytest

import genesis
from oracle import torch, needs_torch

LIBS = [pytest.param(genesis, id="genesis"),
        pytest.param(torch, id="torch",
                     marks=pytest.mark.skipif(torch is None, reason="PyTorch is not installed"))]


@pytest.fixture(params=LIBS)
def lib(request):
    return request.param


def norm(v):
    """A library-neutral form of a result: tensors as (dtype name, shape, values), sizes as
    ('Size', tuple), dtypes as names, devices as strings."""
    if isinstance(v, genesis.Tensor) or (torch is not None and isinstance(v, torch.Tensor)):
        name = str(v.dtype).split(".")[-1]
        t = v.detach()
        vals = (t.float() if name == "bfloat16" else t).tolist()
        return (name, tuple(v.shape), vals)
    if isinstance(v, genesis.Size) or (torch is not None and isinstance(v, torch.Size)):
        return ("Size", tuple(v))
    if isinstance(v, genesis.dtype) or (torch is not None and isinstance(v, torch.dtype)):
        return str(v).split(".")[-1]
    if isinstance(v, genesis.device) or (torch is not None and isinstance(v, torch.device)):
        return ("device", str(v))
    if isinstance(v, (list, tuple)):
        return type(v)(norm(x) for x in v)
    return v


def S(*dims):
    return ("Size", dims)


# ------------------------------------------------------------------ properties and methods
# (id, expression on the library L, expected result in norm()'s form)
PROPS = [
    ("shape", lambda L: L.zeros(2, 3).shape, S(2, 3)),
    ("size", lambda L: L.zeros(2, 3).size(), S(2, 3)),
    ("size_dim", lambda L: L.zeros(2, 3).size(1), 3),
    ("size_neg_dim", lambda L: L.zeros(2, 3).size(-2), 2),
    ("size_0d", lambda L: L.tensor(1.0).size(), S()),
    ("dim", lambda L: L.zeros(2, 3, 4).dim(), 3),
    ("ndim", lambda L: L.zeros(2, 3, 4).ndim, 3),
    ("ndimension", lambda L: L.zeros(2, 3).ndimension(), 2),
    ("numel", lambda L: L.zeros(2, 3, 4).numel(), 24),
    ("numel_empty", lambda L: L.zeros(2, 0).numel(), 0),
    ("nelement", lambda L: L.zeros(5).nelement(), 5),
    ("element_size", lambda L: L.zeros(2, dtype=L.float16).element_size(), 2),
    ("nbytes", lambda L: L.zeros(3, dtype=L.float64).nbytes, 24),
    ("itemsize", lambda L: L.zeros(3, dtype=L.int32).itemsize, 4),
    ("dtype_default", lambda L: L.zeros(2).dtype, "float32"),
    ("dtype_int", lambda L: L.tensor([1, 2]).dtype, "int64"),
    ("dtype_bool", lambda L: L.tensor([True]).dtype, "bool"),
    ("device", lambda L: L.zeros(2).device, ("device", "cpu")),
    ("is_cuda", lambda L: L.zeros(2).is_cuda, False),
    ("is_cpu", lambda L: L.zeros(2).is_cpu, True),
    ("is_floating_point", lambda L: (L.zeros(1).is_floating_point(),
                                     L.zeros(1, dtype=L.bfloat16).is_floating_point(),
                                     L.zeros(1, dtype=L.int64).is_floating_point()),
     (True, True, False)),
    ("is_complex", lambda L: L.zeros(1).is_complex(), False),
    ("T_2d", lambda L: L.arange(6.).reshape(2, 3).T, ("float32", (3, 2),
                                                     [[0., 3.], [1., 4.], [2., 5.]])),
    ("mT", lambda L: L.zeros(2, 3, 4).mT.shape, S(2, 4, 3)),
    ("mT_values", lambda L: L.arange(4.).reshape(1, 2, 2).mT,
     ("float32", (1, 2, 2), [[[0., 2.], [1., 3.]]])),
    ("item_float", lambda L: L.tensor(3.5).item(), 3.5),
    ("item_one_element", lambda L: L.tensor([[7]]).item(), 7),
    ("item_types", lambda L: tuple(type(L.tensor(v, dtype=d).item()).__name__ for v, d in
                                   [(1.5, L.float16), (1.5, L.bfloat16), (3, L.uint8),
                                    (True, L.bool), (2, L.int32)]),
     ("float", "float", "int", "bool", "int")),
    ("tolist", lambda L: L.tensor([[1, 2], [3, 4]]).tolist(), [[1, 2], [3, 4]]),
    ("tolist_0d", lambda L: L.tensor(2).tolist(), 2),
    ("tolist_bf16", lambda L: L.tensor([1.5, 2.25]).bfloat16().tolist(), [1.5, 2.25]),
    ("tolist_empty", lambda L: L.zeros(2, 0).tolist(), [[], []]),
    ("type_name", lambda L: (L.zeros(1).type(), L.zeros(1, dtype=L.int64).type()),
     ("torch.FloatTensor", "torch.LongTensor")),
    ("type_to_dtype", lambda L: L.zeros(2).type(L.float64).dtype, "float64"),
    ("type_from_legacy_name", lambda L: L.zeros(2).type("torch.IntTensor").dtype, "int32"),
    ("type_as", lambda L: L.zeros(2).type_as(L.zeros(1, dtype=L.int16)).dtype, "int16"),
]


def _check_prop(L, fn, expected):
    got = norm(fn(L))
    if L is genesis and isinstance(expected, tuple) and expected and \
            isinstance(expected[0], str) and expected[0].startswith("torch."):
        expected = tuple(e.replace("torch.", "genesis.") for e in expected)
    assert got == expected


@pytest.mark.parametrize("fn,expected", [pytest.param(*p[1:], id=p[0]) for p in PROPS])
def test_property(lib, fn, expected):
    _check_prop(lib, fn, expected)


# ------------------------------------------------------------------ dtype conversions
NAN = float("nan")
# (method, values, source dtype, expected dtype, expected values)
CONVERSIONS = [
    ("float", [1, -2], "int64", "float32", [1.0, -2.0]),
    ("double", [1.5, -2.25], "float32", "float64", [1.5, -2.25]),
    ("half", [65519., 65520., 1e-8, 6e-8, 0.1], "float32", "float16",
     [65504.0, float("inf"), 0.0, 5.960464477539063e-08, 0.0999755859375]),
    ("bfloat16", [1.0001, 3.14159, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -2.71828, 1e-40, 3.4e38],
     "float32", "bfloat16",
     [1.0, 3.140625, 1.0, 1.015625, -2.71875, 9.183549615799121e-41, float("inf")]),
    ("long", [1.7, -1.7, 2.5, -0.5], "float32", "int64", [1, -1, 2, 0]),
    ("int", [1.7, -1.7, 2.5, -0.5], "float64", "int32", [1, -1, 2, 0]),
    ("short", [1.7, -1.7, 2.5, -0.5], "float32", "int16", [1, -1, 2, 0]),
    ("char", [127.9, -128.9], "float32", "int8", [127, -128]),
    ("byte", [0.9, 200.7, 255.9], "float32", "uint8", [0, 200, 255]),
    ("bool", [0., -0., 0.1, NAN], "float32", "bool", [False, False, True, True]),
    ("bool", [3, 0, -2], "int64", "bool", [True, False, True]),
    ("float", [True, False], "bool", "float32", [1.0, 0.0]),
    ("long", [True, False], "bool", "int64", [1, 0]),
    ("float", [2 ** 24 + 1], "int64", "float32", [16777216.0]),
    ("half", [2049], "int32", "float16", [2048.0]),
    ("long", [1.5, -1.5], "bfloat16", "int64", [1, -1]),
    ("double", [1.5], "float16", "float64", [1.5]),
]


@pytest.mark.parametrize("method,values,src,dst,expected", CONVERSIONS,
                         ids=[f"{c[2]}.{c[0]}" for c in CONVERSIONS])
def test_conversion(lib, method, values, src, dst, expected):
    out = getattr(lib.tensor(values, dtype=getattr(lib, src)), method)()
    assert str(out.dtype).split(".")[-1] == dst
    got = (out.float() if dst == "bfloat16" else out).tolist()
    np.testing.assert_array_equal(np.array(got), np.array(expected))


def _bf16_reference(x):
    """float32 -> bfloat16 (round to nearest, ties to even) -> float32, on the bits."""
    bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
    return bits.astype(np.uint32).view(np.float32)


def test_bfloat16_rounding_is_nearest_even():
    r = np.random.default_rng(0)
    x = (r.standard_normal(4000) * 10.0 ** r.integers(-30, 30, 4000)).astype(np.float32)
    x[:8] = [1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 2 ** -126, 0.0, -0.0, 1.0, 3.0]
    got = np.asarray(genesis.tensor(x).bfloat16().float())
    np.testing.assert_array_equal(got, _bf16_reference(x))


@needs_torch
@pytest.mark.parametrize("dst", ["bfloat16", "float16", "float32", "int64", "int32", "bool"])
@pytest.mark.parametrize("src", ["float32", "float64"])
def test_conversion_matches_torch_on_random_values(src, dst):
    r = np.random.default_rng(1)
    x = (r.standard_normal(3000) * 10.0 ** r.integers(-8, 8, 3000)).astype(src)
    if dst.startswith("int"):
        x = np.clip(x, -2.0 ** 30, 2.0 ** 30)      # out of range is undefined in torch
    g = genesis.tensor(x).to(getattr(genesis, dst))
    t = torch.tensor(x).to(getattr(torch, dst))
    gv = g.float().numpy() if dst == "bfloat16" else g.numpy()
    tv = t.float().numpy() if dst == "bfloat16" else t.numpy()
    np.testing.assert_array_equal(gv, tv)


# ------------------------------------------------------------------ views: strides, offsets
# (id, view of v = arange(12.).reshape(3, 4), shape, stride, storage_offset, contiguous)
VIEWS = [
    ("base", lambda v: v, (3, 4), (4, 1), 0, True),
    ("column", lambda v: v[:, 1], (3,), (4,), 1, False),
    ("t_row", lambda v: v.t()[1], (3,), (4,), 1, False),
    ("t", lambda v: v.t(), (4, 3), (1, 4), 0, False),
    ("flat_slice", lambda v: v.view(12)[3:], (9,), (1,), 3, True),
    ("narrow", lambda v: v.narrow(1, 2, 2), (3, 2), (4, 1), 2, False),
    ("step_slice", lambda v: v[1:, ::2], (2, 2), (4, 2), 4, False),
    ("row", lambda v: v[2], (4,), (1,), 8, True),
    ("slice_of_slice", lambda v: v[1:][1:], (1, 4), (4, 1), 8, True),
    ("expand", lambda v: v.expand(2, 3, 4), (2, 3, 4), (0, 4, 1), 0, False),
    ("expand_row", lambda v: v.expand(2, 3, 4)[1, 1], (4,), (1,), 4, True),
    ("chunk", lambda v: v.chunk(2, 1)[1], (3, 2), (4, 1), 2, False),
    ("split", lambda v: v.split(1)[2], (1, 4), (4, 1), 8, True),
    ("unbind", lambda v: v.unbind(1)[3], (3,), (4,), 3, False),
    ("permute_select", lambda v: v.view(3, 2, 2).permute(2, 0, 1)[1], (3, 2), (4, 2), 1,
     False),
    ("movedim", lambda v: v.movedim(0, 1)[2:], (2, 3), (1, 4), 2, False),
    ("unfold", lambda v: v.unfold(1, 2, 1)[1], (3, 2), (1, 1), 4, False),
    ("contiguous_of_t", lambda v: v.t().contiguous(), (4, 3), (3, 1), 0, True),
    ("reshape_copy", lambda v: v.t().reshape(12), (12,), (1,), 0, True),
    ("clone_slice", lambda v: v.clone()[1:], (2, 4), (4, 1), 4, True),
    ("mT_3d", lambda v: v.view(1, 3, 4).mT, (1, 4, 3), (12, 1, 4), 0, False),
]


@pytest.mark.parametrize("fn,shape,stride,offset,contiguous",
                         [pytest.param(*c[1:], id=c[0]) for c in VIEWS])
def test_view_layout(lib, fn, shape, stride, offset, contiguous):
    t = fn(lib.arange(12.).reshape(3, 4))
    assert tuple(t.shape) == shape
    assert t.stride() == stride
    assert t.stride(0) == stride[0] and t.stride(-1) == stride[-1]
    assert t.storage_offset() == offset
    assert t.is_contiguous() is contiguous


def test_contiguous_returns_self_when_contiguous(lib):
    x = lib.zeros(2, 3)
    assert x.contiguous() is x
    y = x.t()
    c = y.contiguous()
    assert c is not y and c.is_contiguous() and c.tolist() == y.tolist()


def test_views_share_memory(lib):
    x = lib.zeros(3, 4)
    x[:, 1][0] = 5.0
    x.t()[2, 1] = 7.0
    assert x[0, 1].item() == 5.0 and x[1, 2].item() == 7.0


def test_clone_is_a_copy_with_grad(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None and c.requires_grad and not c.is_leaf
    c.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    y = lib.tensor([1.0, 2.0])
    d = y.clone()
    d[0] = 9.0
    assert y.tolist() == [1.0, 2.0]


# ------------------------------------------------------------------ autograd metadata
def test_requires_grad_flags(lib):
    x = lib.zeros(2)
    assert not x.requires_grad and x.is_leaf and x.grad is None and x.grad_fn is None
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    x.requires_grad = True
    assert x.requires_grad
    y = x * 2
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    z = lib.zeros(2) * 2
    assert z.is_leaf and z.grad_fn is None
    assert y.detach().is_leaf and not y.detach().requires_grad


def test_grad_assignment(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    x.grad = lib.ones(2)
    assert x.grad.tolist() == [1.0, 1.0]
    x.grad = None
    assert x.grad is None
    with pytest.raises(RuntimeError):
        x.grad = lib.ones(3)
    with pytest.raises(RuntimeError):
        x.grad = lib.ones(2, dtype=lib.float64)
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]
    del x.grad
    assert x.grad is None


def test_data_is_detached_and_shares_memory(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    d[0] = 10.0
    assert x[0].item() == 10.0
    y = (x * 2).data
    assert not y.requires_grad


def test_assigning_data(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    x.data = lib.tensor([5.0, 6.0, 7.0])
    assert x.shape == (3,) and x.requires_grad and x.is_leaf
    assert x.detach().tolist() == [5.0, 6.0, 7.0]
    x.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="floating point"):
        x.data = lib.tensor([1, 2])


def test_detach_shares_memory_and_version(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert d.data_ptr() == x.data_ptr()
    v = x._version
    d.add_(1)
    assert x.detach().tolist() == [2.0, 3.0] and x._version == v + 1


# ------------------------------------------------------------------ Python protocols
def test_len_and_iter(lib):
    x = lib.arange(6.).reshape(2, 3)
    assert len(x) == 2 and len(lib.zeros(0, 3)) == 0
    rows = list(x)
    assert [tuple(r.shape) for r in rows] == [(3,), (3,)]
    rows[1][0] = 100.0            # rows are views
    assert x[1, 0].item() == 100.0
    assert [v.item() for v in lib.tensor([4, 5])] == [4, 5]


@pytest.mark.parametrize("value,expected", [(0.0, False), (2.5, True), (-1, True), (0, False),
                                            (True, True)])
def test_bool_of_one_element(lib, value, expected):
    assert bool(lib.tensor(value)) is expected
    assert bool(lib.tensor([value])) is expected


def test_float_int_conversions(lib):
    assert float(lib.tensor([[2.5]])) == 2.5 and int(lib.tensor(-2.7)) == -2
    assert int(lib.tensor([3])) == 3 and float(lib.tensor(2)) == 2.0
    assert complex(lib.tensor(1.5)) == 1.5 + 0j
    assert [10, 20, 30][lib.tensor(2)] == 30
    assert [10, 20, 30][lib.tensor([1])] == 20
    assert [10, 20][lib.tensor(True)] == 20
    assert list(range(10))[lib.tensor(1):lib.tensor(4)] == [1, 2, 3]
    assert lib.tensor(2, dtype=lib.int32).__index__() == 2
    assert np.arange(5)[lib.tensor(3)] == 3


@pytest.mark.filterwarnings("ignore::DeprecationWarning")    # torch's __array__ lacks copy=
def test_array_protocol(lib):
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
    a = np.asarray(x)
    assert a.dtype == np.float32 and a.shape == (2, 2)
    a[0, 0] = 9.0                 # a CPU tensor's array shares its memory
    assert x[0, 0].item() == 9.0
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert np.asarray(lib.tensor([1, 2])).dtype == np.int64
    assert np.array(lib.tensor(True)).dtype == np.bool_
    np.testing.assert_array_equal(np.add(x, 1), [[10.0, 3.0], [4.0, 5.0]])
    c = np.array(x)               # np.array copies
    c[0, 1] = -1.0
    assert x[0, 1].item() == 2.0


def test_numpy_shares_memory(lib):
    x = lib.zeros(3)
    n = x.numpy()
    n[1] = 7.0
    assert x[1].item() == 7.0
    assert x[1:].numpy()[0] == 7.0
    x[2] = 4.0
    assert n[2] == 4.0
    with pytest.raises(RuntimeError, match="requires grad"):
        lib.zeros(2, requires_grad=True).numpy()
    assert lib.zeros(2, requires_grad=True).detach().numpy().tolist() == [0.0, 0.0]


@pytest.mark.parametrize("spec,value,expected", [
    (".3f", 3.14159, "3.142"), (">8.2f", 2.5, "    2.50"), ("", 1.5, "1.5"), ("e", 1234.5,
                                                                           "1.234500e+03"),
    ("05d", 7, "00007"), ("", True, "True"), ("+.1f", -0.25, "-0.2"),
])
def test_format_0d(lib, spec, value, expected):
    assert format(lib.tensor(value), spec) == expected
    assert f"{lib.tensor(value):{spec}}" == expected


def test_format_nd_is_repr(lib):
    x = lib.tensor([1.0, 2.0])
    assert format(x) == str(x)
    with pytest.raises(TypeError):
        format(x, ".2f")


def test_hash_is_identity(lib):
    a, b = lib.zeros(2), lib.zeros(2)
    assert hash(a) == hash(a) and hash(a) != hash(b)      # by identity, not by value
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b" and len(d) == 2
    s = {a, b, a}
    assert len(s) == 2 and a in s
    assert lib.zeros(2) not in s


# ------------------------------------------------------------------ pickling and deepcopy
def test_pickle(lib):
    x = lib.arange(6.).reshape(2, 3).to(lib.float64)
    y = pickle.loads(pickle.dumps(x))
    assert y.dtype == x.dtype and y.tolist() == x.tolist() and not y.requires_grad
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    w2 = pickle.loads(pickle.dumps(w))
    assert w2.requires_grad and w2.is_leaf and w2.tolist() == [1.0, 2.0]
    assert w2.data_ptr() != w.data_ptr()
    v = pickle.loads(pickle.dumps(lib.arange(12.).reshape(3, 4)[:, 1:3]))
    assert v.tolist() == [[1.0, 2.0], [5.0, 6.0], [9.0, 10.0]]
    for dt in (lib.bfloat16, lib.int8, lib.bool):
        z = lib.tensor([1, 0]).to(dt)
        z2 = pickle.loads(pickle.dumps(z))
        assert z2.dtype == dt and z2.tolist() == z.tolist()


def test_deepcopy(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    c = copy.deepcopy(w)
    assert c is not w and c.requires_grad and c.is_leaf
    assert c.tolist() == [1.0, 2.0] and c.grad.tolist() == [3.0, 3.0]
    assert c.grad is not w.grad and c.data_ptr() != w.data_ptr()
    c.detach()[0] = 5.0
    c.grad.zero_()
    assert w.tolist() == [1.0, 2.0] and w.grad.tolist() == [3.0, 3.0]
    # shared tensors stay shared inside one deepcopy
    a, b = copy.deepcopy([w, w])
    assert a is b
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(w * 2)


def test_deepcopy_of_a_view_is_a_fresh_leaf(lib):
    base = lib.arange(6.)
    c = copy.deepcopy(base[1:4])
    assert c._base is None and c.is_leaf and not c.retains_grad and c.grad_fn is None
    assert c.tolist() == [1.0, 2.0, 3.0]
    c.add_(1)
    assert base.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0] and base._version == 0
    # an in-place op with grad on the copy puts the copy, not the original, in the graph
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c.mul_(w)
    assert c.grad_fn is not None and c.tolist() == [2.0, 6.0, 12.0]
    assert not base.requires_grad and base.grad_fn is None
    c.sum().backward()
    assert w.grad.tolist() == [2.0, 3.0, 4.0]


def test_copy_shares_memory(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    a.grad = lib.ones(2)
    c = copy.copy(a)
    assert c is not a and c.data_ptr() == a.data_ptr()
    assert c.requires_grad and c.is_leaf and c.grad is None
    with lib.no_grad():
        c.add_(1)
    assert a.tolist() == [2.0, 3.0]
    b = copy.copy(a * 2)                       # a copy of a result is a leaf
    assert b.is_leaf and b.requires_grad and b.tolist() == [4.0, 6.0]
    v = copy.copy(lib.arange(4.)[1:])
    assert v._base is None and v.tolist() == [1.0, 2.0, 3.0]


def test_is_inference(lib):
    assert lib.ones(2).is_inference() is False
    x = lib.ones(2, requires_grad=True)
    assert (x * 2).is_inference() is False and x.data.is_inference() is False


# ------------------------------------------------------------------ legacy constructor, Size
def test_legacy_constructor(lib):
    assert norm(lib.Tensor([1, 2])) == ("float32", (2,), [1.0, 2.0])
    assert norm(lib.Tensor(2, 3).shape) == S(2, 3)
    assert norm(lib.Tensor(lib.Size([2, 3])).shape) == S(2, 3)
    assert norm(lib.Tensor()) == ("float32", (0,), [])
    assert norm(lib.Tensor([])) == ("float32", (0,), [])
    assert norm(lib.Tensor((2, 3))) == ("float32", (2,), [2.0, 3.0])
    assert norm(lib.Tensor(np.array([1, 2]))) == ("float32", (2,), [1.0, 2.0])
    assert lib.Tensor(0).shape == (0,)
    src = lib.tensor([1, 2])
    alias = lib.Tensor(src)               # an alias, dtype kept (as torch)
    assert alias.dtype == src.dtype and alias.data_ptr() == src.data_ptr()
    alias.add_(1)                         # one memory, one version counter
    assert src.tolist() == [2, 3] and src._version == alias._version == 1
    x = lib.ones(3, requires_grad=True)
    y = x * 1
    z = (y * y).sum()                     # saves y
    with lib.no_grad():
        lib.Tensor(y).mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()
    with pytest.raises(TypeError):
        lib.Tensor(2.5)
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        lib.Tensor(-1)
    with pytest.raises(TypeError):
        lib.Tensor(2, 3.0)
    assert isinstance(lib.zeros(1), lib.Tensor)


def test_size(lib):
    s = lib.Size([2, 3])
    assert repr(s) == f"{lib.__name__}.Size([2, 3])" and str(s) == repr(s)
    assert s == (2, 3) and isinstance(s, tuple)
    assert s.numel() == 6 and lib.Size([]).numel() == 1 and lib.Size([4, 0]).numel() == 0
    for got in (s[1:], s[::-1], s + (4,), (1,) + s, s * 2, 2 * s):
        assert isinstance(got, lib.Size), type(got)
    assert tuple((1,) + s) == (1, 2, 3) and tuple(s * 2) == (2, 3, 2, 3)
    assert s[0] == 2 and isinstance(s[0], int) and s[-1] == 3
    assert repr(lib.zeros(4, 1).shape[1:]) == f"{lib.__name__}.Size([1])"
    assert lib.zeros(*s).shape == s and lib.zeros(s).shape == s


def test_new_tensor_methods(lib):
    x = lib.ones(2, dtype=lib.float64)
    assert norm(x.new_zeros(2, 3)) == ("float64", (2, 3), [[0.0] * 3] * 2)
    assert norm(x.new_ones((2,))) == ("float64", (2,), [1.0, 1.0])
    assert norm(x.new_full((2,), 7)) == ("float64", (2,), [7.0, 7.0])
    assert norm(x.new_tensor([1, 2])) == ("float64", (2,), [1.0, 2.0])
    assert x.new_empty(lib.Size([3, 1])).shape == (3, 1)
    assert x.new_zeros(2, dtype=lib.int32).dtype == lib.int32
    assert x.new_zeros(2, requires_grad=True).requires_grad


# ------------------------------------------------------------------ .to(...)
# (id, arguments given L and the source x (float32 [1, 2]), dtype name, returns x itself)
TO_FORMS = [
    ("dtype", lambda L, x: x.to(L.float64), "float64", False),
    ("same_dtype", lambda L, x: x.to(L.float32), "float32", True),
    ("device_str", lambda L, x: x.to("cpu"), "float32", True),
    ("device_obj", lambda L, x: x.to(L.device("cpu")), "float32", True),
    ("device_and_dtype", lambda L, x: x.to("cpu", L.int32), "int32", False),
    ("other_tensor", lambda L, x: x.to(L.zeros(1, dtype=L.int8)), "int8", False),
    ("other_same", lambda L, x: x.to(L.zeros(1)), "float32", True),
    ("kw_dtype", lambda L, x: x.to(dtype=L.float16), "float16", False),
    ("kw_device", lambda L, x: x.to(device="cpu"), "float32", True),
    ("kw_both", lambda L, x: x.to(device=L.device("cpu"), dtype=L.bfloat16), "bfloat16", False),
    ("device_kw_dtype", lambda L, x: x.to("cpu", dtype=L.float64), "float64", False),
    ("copy_kw", lambda L, x: x.to(L.float32, copy=True), "float32", False),
    ("copy_positional", lambda L, x: x.to(L.float32, False, True), "float32", False),
    ("copy_device", lambda L, x: x.to("cpu", copy=True), "float32", False),
    ("non_blocking", lambda L, x: x.to("cpu", non_blocking=True), "float32", True),
    ("no_args", lambda L, x: x.to(), "float32", True),
    ("cpu", lambda L, x: x.cpu(), "float32", True),
    ("double", lambda L, x: x.double(), "float64", False),
    ("float_same", lambda L, x: x.float(), "float32", True),
]


@pytest.mark.parametrize("fn,dtype,is_self", [pytest.param(*c[1:], id=c[0]) for c in TO_FORMS])
def test_to_forms(lib, fn, dtype, is_self):
    x = lib.tensor([1.0, 2.0])
    y = fn(lib, x)
    assert str(y.dtype).split(".")[-1] == dtype
    assert (y is x) is is_self
    assert str(y.device) == "cpu"
    assert (y.float() if dtype == "bfloat16" else y).tolist() == [1.0, 2.0]
    if not is_self and dtype == "float32":        # a copy: writing to it leaves x alone
        y[0] = 5.0
        assert x[0].item() == 1.0


@pytest.mark.parametrize("fn", [
    lambda L, x: x.to(L.float64, L.float16),
    lambda L, x: x.to("cpu", "cpu"),
    lambda L, x: x.to(L.zeros(1), dtype=L.float64),
    lambda L, x: x.to(L.float16, device="cpu"),
    lambda L, x: x.to(L.float32, True, True, True),
    lambda L, x: x.to([1]),
    lambda L, x: x.to(foo=1),
], ids=["two_dtypes", "two_devices", "tensor_and_dtype", "dtype_then_device_kw",
        "three_flags", "list", "unknown_kw"])
def test_to_invalid_combinations(lib, fn):
    with pytest.raises(TypeError):
        fn(lib, lib.zeros(2))


@pytest.mark.parametrize("src,dst", [("float32", "float64"), ("float64", "float32"),
                                     ("float32", "float16"), ("float32", "bfloat16"),
                                     ("float16", "float32"), ("bfloat16", "float64")])
def test_grad_flows_through_to(lib, src, dst):
    x = lib.tensor([1.0, -2.0, 3.0], dtype=getattr(lib, src), requires_grad=True)
    y = x.to(getattr(lib, dst))
    assert y.requires_grad and y.grad_fn is not None
    (y * y).sum().backward()
    assert x.grad.dtype == x.dtype
    assert x.grad.float().tolist() == [2.0, -4.0, 6.0]


def test_grad_through_chained_casts(lib):
    x = lib.tensor([0.5, 1.5], requires_grad=True)
    y = x.double().half().float().bfloat16()
    y.float().sum().backward()
    assert x.grad.dtype == lib.float32 and x.grad.tolist() == [1.0, 1.0]


def test_to_integer_cuts_the_graph(lib):
    x = lib.tensor([1.5, 2.5], requires_grad=True)
    i = x.long()
    assert not i.requires_grad and i.grad_fn is None and i.tolist() == [1, 2]


def test_to_copy_with_grad(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(lib.float32, copy=True)
    assert y is not x and y.grad_fn is not None
    (y * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def _has_cuda_backend():
    try:
        from genesis.backend import backend_for
        backend_for(genesis.device("cuda"))
        return True
    except (ImportError, RuntimeError):
        return False


@pytest.mark.skipif(_has_cuda_backend(), reason="a CUDA backend is present")
@pytest.mark.parametrize("fn", [lambda x: x.cuda(), lambda x: x.to("cuda"),
                                lambda x: x.to("cuda:0"), lambda x: x.to(genesis.device("cuda", 1)),
                                lambda x: x.cuda(1)],
                         ids=["cuda", "to_cuda", "to_cuda0", "to_device_obj", "cuda_1"])
def test_cuda_without_gpu_is_a_clear_error(fn):
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        fn(genesis.ones(2))


# ------------------------------------------------------------------ genesis.device
# (id, arguments, (type, index) or the exception type)
DEVICES = [
    ("cpu", ("cpu",), ("cpu", None)),
    ("cuda", ("cuda",), ("cuda", None)),
    ("cuda_1", ("cuda:1",), ("cuda", 1)),
    ("cuda_idx", ("cuda", 1), ("cuda", 1)),
    ("cpu_0", ("cpu:0",), ("cpu", 0)),
    ("cuda_10", ("cuda:10",), ("cuda", 10)),
    ("meta", ("meta",), ("meta", None)),
    ("bad_type", ("gpu",), RuntimeError),
    ("upper", ("CPU",), RuntimeError),
    ("space", (" cpu",), RuntimeError),
    ("bad_index", ("cuda:x",), RuntimeError),
    ("empty_index", ("cuda:",), RuntimeError),
    ("neg_index_str", ("cuda:-1",), RuntimeError),
    ("leading_zero", ("cuda:01",), RuntimeError),
    ("two_colons", ("cuda:1:2",), RuntimeError),
    ("index_twice", ("cuda:1", 1), RuntimeError),
    ("neg_index", ("cuda", -1), RuntimeError),
    ("str_index", ("cuda", "1"), TypeError),
    ("none", (None,), TypeError),
]


@pytest.mark.parametrize("args,expected", [pytest.param(*c[1:], id=c[0]) for c in DEVICES])
def test_device_parsing(lib, args, expected):
    if isinstance(expected, type):
        with pytest.raises(expected):
            lib.device(*args)
        return
    d = lib.device(*args)
    assert (d.type, d.index) == expected
    assert lib.device(d) == d


def test_device_text_and_equality(lib):
    d = lib.device("cuda:1")
    assert str(d) == "cuda:1" and repr(d) == "device(type='cuda', index=1)"
    assert str(lib.device("cpu")) == "cpu" and repr(lib.device("cpu")) == "device(type='cpu')"
    assert lib.device("cuda", 1) == d and lib.device("cuda:0") != lib.device("cuda")
    assert lib.device("cuda:1") != lib.device("cuda:2")
    assert lib.device(type="cuda", index=2) == lib.device("cuda:2")
    assert (lib.device("cpu") == "cpu") is False     # as torch: a device equals devices only
    assert len({lib.device("cpu"), lib.device("cpu"), lib.device("cuda:0")}) == 2
    assert lib.zeros(1).device == lib.device("cpu")
    assert lib.zeros(1, device="cpu").device.type == "cpu"


def test_device_from_ordinal():
    assert genesis.device(1) == genesis.device("cuda", 1)
    assert genesis.zeros(1).device in {genesis.device("cpu")}
