"""Indexing against PyTorch: __getitem__ (views, advanced, masks), __setitem__ with
autograd, gather/scatter, index_*, masked_*, take, nonzero, tril/triu; gradients by parity
and by finite differences; in-place forms, version counters and error messages."""
import numpy as np
import pytest

import genesis
from oracle import check, rand, gradcheck, needs_torch, torch

DTYPES = ["float32", "float64"]


def ints(*vals):
    return np.array(vals, dtype=np.int64)


def lib_index(spec):
    """A (genesis index, torch index) pair from spec(lib), where spec builds tensors."""
    return spec(genesis), (spec(torch) if torch is not None else None)


# ---------------------------------------------------------------- __getitem__
# (input shape, index built from a library module L)
GETITEM = [
    ((5,), lambda L: 2),
    ((5,), lambda L: -1),
    ((4, 5), lambda L: (1, 3)),
    ((4, 5), lambda L: slice(1, None, 2)),
    ((4, 5), lambda L: (slice(None), slice(None, 3))),
    ((4, 5), lambda L: (Ellipsis, 2)),
    ((4, 5), lambda L: (None, 1, None)),
    ((2, 3, 4), lambda L: (1, Ellipsis, slice(1, 3))),
    ((4, 5), lambda L: slice(-3, 100)),
    ((4, 5), lambda L: L.tensor([0, 2, 2])),
    ((4, 5), lambda L: [3, 0, 3, 1]),
    ((4, 5), lambda L: (L.tensor([[0, 1], [3, 3]]), slice(1, 4))),
    ((4, 5), lambda L: (L.tensor([0, 2]), L.tensor([4, 4]))),
    ((2, 3, 4), lambda L: (L.tensor([0, 1]), slice(None), L.tensor([3, 0]))),   # split adv
    ((2, 3, 4), lambda L: (slice(None), L.tensor([[2], [0]]), L.tensor([1, 3]))),
    ((2, 3, 4), lambda L: (Ellipsis, L.tensor([1, 1, 0]))),
    ((4, 5), lambda L: L.tensor([True, False, True, True])),
    ((4, 5), lambda L: (slice(None), [True, False, True, False, True])),
    ((3, 4), lambda L: L.tensor(np.arange(12).reshape(3, 4) % 3 == 0)),
    ((2, 3, 4), lambda L: (L.tensor([[True, False, True], [False, True, True]]), 1)),
    ((4, 5), lambda L: (None, L.tensor([1, 2]), None)),
    ((4, 5), lambda L: L.tensor(2)),
    ((4, 5), lambda L: np.array([1, 3])),
    ((4, 5), lambda L: ()),
    ((4, 5), lambda L: ([0, 1], [1, 2])),
    ((4, 5), lambda L: (None, [0, 1], Ellipsis, [1, 2])),     # an Ellipsis of no dims
    ((2, 4, 5), lambda L: ([0, 1], Ellipsis, [1, 2])),        # one of a dim
    ((4, 5), lambda L: ([0, 1], None, [1, 2])),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,spec", GETITEM)
def test_getitem_parity(shape, spec, dtype):
    gi, ti = lib_index(spec)
    check(lambda x: x[gi], rand(*shape, dtype=dtype), fn_torch=lambda x: x[ti],
          noncontig=len(shape) >= 2)


@pytest.mark.parametrize("shape,spec", GETITEM[:8] + GETITEM[9:14] + GETITEM[16:18])
def test_getitem_gradcheck(shape, spec):
    gi = spec(genesis)
    gradcheck(lambda x: x[gi] * 1.5, rand(*shape), second_order=True)


def test_basic_index_is_a_view_sharing_memory_and_version():
    x = genesis.tensor(np.arange(12.0).reshape(3, 4))
    v = x[1:, ::2]
    assert v._base is x and v.data_ptr() != 0
    v[0, 1] = -5.0                      # write through the view
    assert x[1, 2].item() == -5.0
    assert x._version == v._version == 1
    x[2] = 7.0                          # and through the base
    assert v.tolist()[1] == [7.0, 7.0]
    assert v._version == 2
    s = x[0, 0]                         # an all-int index is a 0-d view, not a copy
    assert s.shape == () and s._base is x
    x.zero_()
    assert s.item() == 0.0
    a = x[[0, 1]]                       # advanced indexing copies
    assert a._base is None
    x.fill_(1.0)
    assert a.sum().item() == 0.0


def test_view_of_view_rederives_from_base():
    x = genesis.tensor(np.arange(24.0).reshape(2, 3, 4))
    v = x[1][:, 1:][0]
    assert v._base is x
    assert v._view_fn(x).tolist() == v.tolist() == [13.0, 14.0, 15.0]


# ---------------------------------------------------------------- __setitem__
SETITEM = [
    ((4, 3), lambda L: (slice(1, None), 0), (3,)),
    ((4, 3), lambda L: 2, (3,)),
    ((4, 3), lambda L: 2, (1, 3)),          # leading 1-dims of the value drop
    ((4, 3), lambda L: (Ellipsis, 1), ()),
    ((4, 3), lambda L: L.tensor([0, 2]), (2, 3)),
    ((4, 3), lambda L: L.tensor([0, 2]), (3,)),
    ((4, 3), lambda L: (L.tensor([0, 3]), L.tensor([2, 1])), (2,)),
    ((4, 3), lambda L: L.tensor([True, False, True, True]), (1, 3)),
    ((4, 3), lambda L: (slice(None), L.tensor([2, 0])), (4, 1)),
    ((2, 3, 2), lambda L: (L.tensor([[True, False, True], [False, False, True]]),), (2,)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,spec,vshape", SETITEM)
def test_setitem_parity(shape, spec, vshape, dtype):
    gi, ti = lib_index(spec)

    def f(idx):
        def run(x, v):
            y = x * 1
            y[idx] = v * 2
            return y
        return run
    check(f(gi), rand(*shape, dtype=dtype), rand(*vshape, dtype=dtype, seed=3),
          fn_torch=f(ti), noncontig=True)


@pytest.mark.parametrize("shape,spec,vshape", SETITEM[:3] + SETITEM[4:5] + SETITEM[6:8])
def test_setitem_gradcheck(shape, spec, vshape):
    gi = spec(genesis)

    def f(x, v):
        y = x * 1
        y[gi] = v * 2
        return y * y
    gradcheck(f, rand(*shape), rand(*vshape, seed=3), second_order=True)


@needs_torch
def test_setitem_brief_example_and_scalar_values():
    xa, wa = rand(3, 2), rand(2, seed=2)
    res = []
    for L in (genesis, torch):
        x = L.tensor(xa, requires_grad=True)
        w = L.tensor(wa, requires_grad=True)
        y = x.clone()
        y[1:, 0] = w * 2
        y[0, 1] = 5.0
        y[y > 10] = 0.0
        (y * y).sum().backward()
        res.append((y.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b)


def test_setitem_bumps_version_and_casts():
    x = genesis.tensor(np.zeros((2, 3), np.int64))
    x[0] = genesis.tensor([1.7, 2.2, -3.9], dtype=genesis.float64)
    assert x.tolist()[0] == [1, 2, -3] and x._version == 1
    x[:, 1] = 9
    x[[1], [2]] = np.array([4])
    assert x.tolist() == [[1, 9, -3], [0, 9, 4]] and x._version == 3


def test_setitem_value_makes_a_plain_tensor_require_grad():
    x = genesis.zeros(3)
    w = genesis.tensor(2.0, requires_grad=True)
    x[1] = w
    assert x.requires_grad and x.grad_fn is not None
    (x * genesis.tensor([1.0, 3.0, 5.0])).sum().backward()
    assert w.grad.item() == 3.0


@needs_torch
def test_inplace_on_a_view_of_a_non_leaf():
    xa = rand(3, 4)
    grads = []
    for L in (genesis, torch):
        x = L.tensor(xa, requires_grad=True)
        y = x * 1
        y[0].mul_(2)
        y[1:, 1:][:, 0].add_(y[0, :2].clone() ** 2)   # reads the changed row
        (y * y).sum().backward()
        grads.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0])
    np.testing.assert_allclose(grads[0][1], grads[1][1])


def test_setitem_into_leaf_that_requires_grad_raises():
    x = genesis.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                                           "in an in-place operation."):
        x.index_put_((genesis.tensor([0]),), genesis.tensor(1.0))
    with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
        x[0] = 1.0
    with genesis.no_grad():
        x[0] = 1.0                 # allowed outside autograd
    assert x.tolist() == [1.0, 0.0, 0.0]


def test_saved_tensor_modified_by_setitem_is_detected():
    x = genesis.tensor(rand(3), requires_grad=True)
    y = x * 1
    z = y * y
    y[0] = 0.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


# ---------------------------------------------------------------- index_put
@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_index_put_parity(accumulate, dtype):
    idx = ints(0, 2, 0, 1)

    def f(L):
        def run(x, v, i):
            return x.index_put((i, L.tensor([1, 0, 1, 2])), v, accumulate=accumulate)
        return run
    check(f(genesis), rand(3, 4, dtype=dtype), rand(4, dtype=dtype, seed=2), idx,
          fn_torch=f(torch))
    if accumulate:
        gradcheck(lambda x, v, i: x.index_put((i,), v, accumulate=True) ** 2, rand(3, 2),
                  rand(4, 2, seed=2), idx)


@needs_torch
def test_index_put_inplace():
    xa = rand(3, 4)
    outs = []
    for L in (genesis, torch):
        x = L.tensor(xa)
        r = x.index_put_((L.tensor([0, 0, 2]),), L.tensor(rand(3, 4, seed=4)), accumulate=True)
        assert r is x
        outs.append(x.numpy().copy())
    np.testing.assert_allclose(*outs)


# ---------------------------------------------------------------- gather / scatter
IDX34 = np.array([[0, 2, 1, 0], [2, 2, 0, 1]])           # index into dim 0 of a (3, 4)
IDX_PERM = np.array([[1, 3, 0], [2, 0, 3], [0, 1, 2]])   # no repeats along dim 1


def _scatter_reduce_case(reduce, include_self):
    return (lambda x, i, s: x.scatter_reduce(1, i, s, reduce, include_self=include_self))


# (name, fn(x, index, src), x shape, index, src shape)
DIM_OPS = [
    ("gather0", lambda x, i: x.gather(0, i), (3, 4), IDX34, None),
    ("gather1", lambda x, i: x.gather(-1, i), (3, 4), IDX34[:, :3] % 3, None),
    ("gather_fn", lambda x, i: genesis.gather(x, 1, i) if isinstance(x, genesis.Tensor)
     else torch.gather(x, 1, i), (3, 4), IDX_PERM[:2, :2], None),
    ("scatter", lambda x, i, s: x.scatter(1, i, s), (3, 4), IDX_PERM, (3, 3)),
    ("scatter_bigsrc", lambda x, i, s: x.scatter(1, i[:2], s), (3, 4), IDX_PERM, (3, 5)),
    ("scatter_value", lambda x, i: x.scatter(1, i, 2.5), (3, 4), IDX_PERM, None),
    ("scatter_add", lambda x, i, s: x.scatter_add(0, i, s), (3, 4), IDX34, (2, 4)),
    ("scatter_add_bigsrc", lambda x, i, s: x.scatter_add(0, i[:, :2], s), (3, 4), IDX34,
     (3, 4)),
] + [(f"scatter_reduce_{r}_{s}", _scatter_reduce_case(r, s), (3, 4), IDX_PERM % 2, (3, 3))
     for r in ("sum", "prod", "mean", "amax", "amin") for s in (True, False)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,fn,shape,idx,sshape", DIM_OPS, ids=[c[0] for c in DIM_OPS])
def test_dim_ops_parity(name, fn, shape, idx, sshape, dtype):
    args = (rand(*shape, dtype=dtype, low=0.5, high=2.0), idx.astype(np.int64))
    if sshape is not None:
        args += (rand(*sshape, dtype=dtype, seed=5, low=0.5, high=2.0),)
    # torch's backward rejects a src larger than the index; gradcheck covers ours
    check(fn, *args, noncontig=True, grad=not name.endswith("bigsrc"))


@pytest.mark.parametrize("name,fn,shape,idx,sshape", DIM_OPS, ids=[c[0] for c in DIM_OPS])
def test_dim_ops_gradcheck(name, fn, shape, idx, sshape):
    args = (rand(*shape, low=0.5, high=2.0), idx.astype(np.int64))
    if sshape is not None:
        args += (rand(*sshape, seed=5, low=0.5, high=2.0),)
    gradcheck(lambda *a: fn(*a) ** 2, *args,
              second_order=name.startswith(("gather", "scatter_add")) or name == "scatter")


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_with_zeros(include_self):
    x = rand(2, 3, low=0.5, high=2.0)
    x[0, 0] = 0.0
    s = rand(2, 3, seed=2, low=0.5, high=2.0)
    s[1, 0] = 0.0
    s[0, 1] = s[0, 2] = 0.0            # two zeros in one group
    check(lambda a, i, b: a.scatter_reduce(1, i, b, "prod", include_self=include_self),
          x, np.array([[0, 1, 1], [0, 0, 2]]), s)


@needs_torch
def test_scatter_reduce_ties_and_ints():
    x = np.array([[1.0, 5.0, 2.0]])
    s = np.array([[5.0, 5.0, 1.0]])
    check(lambda a, i, b: a.scatter_reduce(1, i, b, "amax"), x, ints(1, 1, 0)[None], s)
    for inc in (True, False):
        g = genesis.tensor([[1, -7, 3]]).scatter_reduce(
            1, genesis.tensor([[0, 0, 1]]), genesis.tensor([[4, 3, -4]]), "mean",
            include_self=inc)
        t = torch.tensor([[1, -7, 3]]).scatter_reduce(
            1, torch.tensor([[0, 0, 1]]), torch.tensor([[4, 3, -4]]), "mean", include_self=inc)
        assert g.tolist() == t.tolist()


@needs_torch
@pytest.mark.filterwarnings("ignore:The reduce argument")
@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_legacy_reduce(reduce):
    check(lambda x, i, s: x.scatter(1, i, s, reduce=reduce), rand(3, 4), IDX_PERM % 2,
          rand(3, 3, seed=2), grad=False)
    check(lambda x, i: x.scatter(1, i, 2.0, reduce=reduce), rand(3, 4), IDX_PERM % 2,
          grad=False)


@needs_torch
@pytest.mark.parametrize("method,args", [
    ("scatter_", (1, "P", "S")), ("scatter_", (1, "P", 3.0)), ("scatter_add_", (1, "P", "S")),
    ("scatter_reduce_", (1, "P", "S", "amin")), ("index_add_", (0, "V", "R")),
    ("index_copy_", (0, "V", "R")), ("index_fill_", (1, "V", -1.0)),
    ("masked_fill_", ("M", 0.5)), ("masked_scatter_", ("M", "S")), ("tril_", (1,)),
    ("triu_", (-1,)),
])
def test_inplace_forms(method, args):
    xa = rand(3, 4)
    table = {"P": lambda L: L.tensor(IDX_PERM), "S": lambda L: L.tensor(rand(3, 3, seed=7)),
             "V": lambda L: L.tensor([2, 0]), "R": lambda L: L.tensor(rand(2, 4, seed=8)),
             "M": lambda L: L.tensor([[True, False, True, True]])}
    outs = []
    for L in (genesis, torch):
        base = L.tensor(xa, requires_grad=True)
        x = base * 1
        a = [table[v](L) if isinstance(v, str) and v in table else v for v in args]
        v0 = x._version
        r = getattr(x, method)(*a)
        assert r is x and x._version > v0
        (x * x).sum().backward()
        outs.append((x.detach().numpy(), base.grad.numpy()))
        y = L.tensor(xa)                        # and without autograd
        getattr(y, method)(*a)
        outs.append((y.numpy(), y.numpy()))
    for k in (0, 1):
        np.testing.assert_allclose(outs[k][0], outs[k + 2][0])
        np.testing.assert_allclose(outs[k][1], outs[k + 2][1])


def test_zero_dim_gather_scatter():
    x = genesis.tensor(2.0)
    assert x.gather(0, genesis.tensor([0, 0])).tolist() == [2.0, 2.0]
    assert x.scatter(0, genesis.tensor(0), 5.0).item() == 5.0
    assert genesis.tensor([1.0, 2.0]).gather(0, genesis.tensor(1)).shape == ()
    one, i0 = genesis.tensor(1.0), genesis.tensor([0])
    assert one.index_add(0, i0, genesis.tensor(2.0)).item() == 3.0
    assert one.index_copy(0, i0, genesis.tensor(2.0)).item() == 2.0
    assert one.index_fill(0, i0, 4.0).item() == 4.0
    assert one.index_select(0, i0).shape == ()


@needs_torch
@pytest.mark.parametrize("dtype", ["uint8", "int8", "float16"])
@pytest.mark.parametrize("index", ["0", "0:10, ..., None", "[0]", "x == 0"])
@pytest.mark.parametrize("value", [-2, -1, 1.5, -1.5, 200, -300, 1e6])
def test_setitem_scalar_checked_as_fill(dtype, index, value):
    # an int scalar wraps into uint8 from -255, a float truncates; out of range raises
    res = []
    for L in (torch, genesis):
        x = L.zeros(2, 3, dtype=getattr(L, dtype))
        try:
            exec(f"x[{index}] = {value!r}")
            res.append(x.tolist())
        except RuntimeError as e:
            res.append(str(e).split(" type ")[0])
    assert res[1] == res[0]


@needs_torch
@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8", "bool"])
@pytest.mark.parametrize("alpha", [-0.5, 1.5, -2.7, 2, -1, 300.5, 1e30])
def test_index_add_integral_casts_alpha(dtype, alpha):
    # PyTorch casts a float alpha to an integral self's dtype (truncating), raising
    # when it does not fit
    if dtype != "bool" and not alpha == int(alpha) == -1 and \
            not np.iinfo(dtype).min <= alpha <= np.iinfo(dtype).max:
        for L in (torch, genesis):
            with pytest.raises(RuntimeError, match="value cannot be converted to type "
                               ".* without overflow"):
                L.zeros(2, dtype=getattr(L, dtype)).index_add(
                    0, L.tensor([0]), L.ones(1, dtype=getattr(L, dtype)), alpha=alpha)
        return
    outs = []
    for L in (torch, genesis):
        dt = getattr(L, dtype)
        x, s = L.tensor([1, 0, 3], dtype=dt), L.tensor([5, 1, 5], dtype=dt)
        i = L.tensor([0, 2, 0])
        y = x.clone()
        y.index_add_(0, i, s, alpha=alpha)
        outs.append((x.index_add(0, i, s, alpha=alpha), y))
    for t, g in zip(*outs):
        assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        assert g.tolist() == t.tolist()


# ---------------------------------------------------------------- index_* ops
INDEX_OPS = [
    ("index_select0", lambda x, i: x.index_select(0, i), ints(2, 0, 2), None),
    ("index_select1", lambda x, i: x.index_select(-1, i[:2]), ints(3, 1, 0), None),
    ("index_add", lambda x, i, s: x.index_add(1, i, s), ints(1, 3, 1), (3, 3)),
    ("index_add_alpha", lambda x, i, s: x.index_add(0, i, s, alpha=-2.0), ints(2, 2), (2, 4)),
    ("index_copy", lambda x, i, s: x.index_copy(1, i, s), ints(3, 0), (3, 2)),
    ("index_fill", lambda x, i: x.index_fill(0, i, 3.5), ints(1, 1), None),
    ("take", lambda x, i: x.take(i), np.array([[0, 11], [-1, 5]]), None),
    # (torch's dim=None form views its input flat, so it needs a contiguous one)
    ("take_along_dim_none", lambda x, i: x.contiguous().take_along_dim(i), ints(3, 3, 0), None),
    ("take_along_dim1", lambda x, i: x.take_along_dim(i[None, :2], 1), ints(3, 0), None),
    ("take_along_dim_bcast", lambda x, i: x[:1].take_along_dim(i[:, None] % 1, 0),
     ints(0, 0), None),
    ("masked_select", lambda x, i: x.masked_select(i[:4] > 0), ints(1, 0, 0, 1), None),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,fn,idx,sshape", INDEX_OPS, ids=[c[0] for c in INDEX_OPS])
def test_index_ops_parity(name, fn, idx, sshape, dtype):
    args = (rand(3, 4, dtype=dtype), idx)
    if sshape is not None:
        args += (rand(*sshape, dtype=dtype, seed=5),)
    check(fn, *args, noncontig=True)


@pytest.mark.parametrize("name,fn,idx,sshape", INDEX_OPS, ids=[c[0] for c in INDEX_OPS])
def test_index_ops_gradcheck(name, fn, idx, sshape):
    args = (rand(3, 4), idx)
    if sshape is not None:
        args += (rand(*sshape, seed=5),)
    gradcheck(lambda *a: fn(*a) ** 2, *args, second_order=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_valued_fills(dtype):
    def f(x, v):
        return x.index_fill(1, (torch if not isinstance(x, genesis.Tensor) else genesis)
                            .tensor([0, 2]), v * 3)
    check(f, rand(3, 4, dtype=dtype), np.array(0.7, dtype=dtype))

    def g(x, v):
        L = torch if not isinstance(x, genesis.Tensor) else genesis
        return x.masked_fill(L.tensor([True, False, False, True]), v * 3)
    check(g, rand(3, 4, dtype=dtype), np.array(0.7, dtype=dtype))


# ---------------------------------------------------------------- masked ops
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mshape", [(3, 4), (4,), (2, 1, 4), (3, 1)])
def test_masked_ops_parity(mshape, dtype):
    m = np.random.default_rng(3).random(mshape) > 0.4
    check(lambda x, mk: x.masked_fill(mk, -1.5), rand(3, 4, dtype=dtype), m, noncontig=True)
    check(lambda x, mk: x.masked_select(mk), rand(3, 4, dtype=dtype), m, noncontig=True)
    check(lambda x, mk, s: x.masked_scatter(mk, s), rand(3, 4, dtype=dtype), m,
          rand(5, 6, dtype=dtype, seed=4), noncontig=True)
    if mshape == (3, 4):
        gradcheck(lambda x, mk, s: x.masked_scatter(mk, s) ** 2, rand(3, 4), m,
                  rand(13, seed=4), second_order=True)
        gradcheck(lambda x, mk: x.masked_fill(mk, 2.0) ** 2, rand(3, 4), m)


# ---------------------------------------------------------------- tril / triu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", ["tril", "triu"])
@pytest.mark.parametrize("shape,k", [((4, 4), 0), ((3, 5), 1), ((2, 5, 3), -1), ((3, 4), 9)])
def test_tril_triu_parity(fn, shape, k, dtype):
    check(lambda x: getattr(x, fn)(k), rand(*shape, dtype=dtype), noncontig=True)
    check(lambda x: getattr(genesis if isinstance(x, genesis.Tensor) else torch, fn)(
        x, diagonal=k), rand(*shape, dtype=dtype))


@pytest.mark.parametrize("fn", ["tril", "triu"])
def test_tril_triu_gradcheck_and_dtypes(fn):
    gradcheck(lambda x: getattr(x, fn)(1) ** 2, rand(3, 4), second_order=True)
    b = getattr(genesis.ones(3, 3, dtype=genesis.bool), fn)(-1)
    assert b.dtype == genesis.bool and b.sum().item() == {"tril": 3, "triu": 8}[fn]
    assert getattr(genesis.ones(2, 3, dtype=genesis.int32), fn)().dtype == genesis.int32


# ---------------------------------------------------------------- nonzero / argwhere
@needs_torch
@pytest.mark.parametrize("arr", [np.array([[0, 1.5, 0], [2, 0, 3]]), np.array([0, 0]),
                                 np.array(3.0), np.array(0), np.zeros((2, 0, 3))])
def test_nonzero_argwhere_where(arr):
    g, t = genesis.tensor(arr), torch.tensor(arr)
    assert np.array_equal(g.nonzero().numpy(), t.nonzero().numpy())
    assert g.nonzero().dtype == genesis.int64 and g.nonzero().shape == t.nonzero().shape
    assert np.array_equal(genesis.argwhere(g).numpy(), torch.argwhere(t).numpy())
    gt, tt = genesis.nonzero(g, as_tuple=True), torch.nonzero(t, as_tuple=True)
    assert len(gt) == len(tt)
    for a, b in zip(gt, tt):
        assert a.shape == b.shape and np.array_equal(a.numpy(), b.numpy())
    if arr.ndim:
        for a, b in zip(genesis.where(g > 0), torch.where(t > 0)):
            assert np.array_equal(a.numpy(), b.numpy())


# ---------------------------------------------------------------- errors
def X(L):
    return L.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4))


ERRORS = [
    (lambda L: X(L)[5], IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda L: X(L)[0, 7], IndexError, "index 7 is out of bounds for dimension 1 with size 4"),
    (lambda L: X(L)[-4], IndexError, "index -4 is out of bounds for dimension 0 with size 3"),
    (lambda L: X(L)[L.tensor([0, 5])], IndexError,
     "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda L: X(L)[:, L.tensor([0, 5])], IndexError, "index 5 is out of bounds for dimension"),
    (lambda L: X(L)[0, 0, 0], IndexError, "too many indices for tensor of dimension 2"),
    (lambda L: L.tensor(1.0)[0], IndexError, "invalid index of a 0-dim tensor"),
    (lambda L: L.tensor(1.0)[:, None], IndexError, "too many indices for tensor of dimension 0"),
    (lambda L: X(L)[L.tensor([True, False])], IndexError,
     r"The shape of the mask \[2\] at index 0 does not match the shape of the indexed tensor "
     r"\[3, 4\] at index 0"),
    (lambda L: X(L)[:, L.tensor([True, False])], IndexError,
     r"mask \[2\] at index 0 .* at index 1"),
    (lambda L: X(L)[::-1], ValueError, "step must be greater than zero"),
    (lambda L: X(L)[::0], ValueError, "slice step cannot be zero"),
    (lambda L: X(L)[1.0], IndexError, r"only integers, slices \(`:`\), ellipsis .*got float"),
    (lambda L: X(L)[{}], IndexError, "got dict"),
    (lambda L: X(L)["a"], TypeError, "invalid data type 'str'"),
    (lambda L: X(L)[L.tensor([0.0, 1.0])], IndexError,
     "tensors used as indices must be long, int, byte or bool tensors"),
    (lambda L: X(L)[L.tensor(1.5):], TypeError, "only integer tensors of a single element"),
    (lambda L: X(L).__setitem__(0, L.tensor([1.0, 2.0])), RuntimeError,
     r"The expanded size of the tensor \(4\) must match the existing size \(2\) at "
     r"non-singleton dimension 0.  Target sizes: \[4\].  Tensor sizes: \[2\]"),
    (lambda L: X(L).__setitem__(L.tensor([0, 1]), L.tensor([1.0, 2.0, 3.0])), RuntimeError,
     r"shape mismatch: value tensor of shape \[3\] cannot be broadcast to indexing result of "
     r"shape \[2, 4\]"),
    (lambda L: X(L).__setitem__(5, 1.0), IndexError, "index 5 is out of bounds"),
    (lambda L: X(L).__setitem__(0, "a"), TypeError, "can't assign a str"),
    (lambda L: X(L).gather(1, L.tensor([[0, 1]], dtype=L.int16)), RuntimeError,
     "gather\\(\\): Expected dtype int32/int64 for index"),
    (lambda L: X(L).gather(1, L.tensor([[0, 1]], dtype=L.float32)), RuntimeError,
     "gather\\(\\): Expected dtype int32/int64 for index"),
    (lambda L: X(L).gather(1, L.tensor([0, 1])), RuntimeError,
     "Index tensor must have the same number of dimensions as input tensor"),
    (lambda L: X(L).gather(0, L.tensor([[0, 1, 2, 3, 0]])), RuntimeError,
     r"Size does not match at dimension 1 expected index \[1, 5\] to be no larger than self "
     r"\[3, 4\] apart from dimension 0"),
    (lambda L: X(L).gather(1, L.tensor([[0, 5]])), RuntimeError,
     "index 5 is out of bounds for dimension 1 with size 4"),
    (lambda L: X(L).gather(1, L.tensor([[0, -1]])), RuntimeError, "index -1 is out of bounds"),
    (lambda L: X(L).gather(2, L.tensor([[0]])), IndexError, "Dimension out of range"),
    (lambda L: X(L).scatter(1, L.tensor([[0]], dtype=L.int16), 1.0), RuntimeError,
     "scatter\\(\\): Expected dtype int32/int64 for index"),
    (lambda L: X(L).scatter(1, L.tensor([[0, 1], [2, 0]]), L.ones(1, 1)), RuntimeError,
     r"Expected index \[2, 2\] to be no larger than self \[3, 4\] apart from dimension 1 and "
     r"to be no larger size than src \[1, 1\]"),
    (lambda L: X(L).scatter(1, L.tensor([[0]]), L.ones(1, 1, dtype=L.float64)),
     RuntimeError, "scatter\\(\\): Expected self.dtype to be equal to src.dtype"),
    (lambda L: X(L).scatter(1, L.tensor([[0, 9]]), 2.0), RuntimeError,
     "index 9 is out of bounds for dimension 1 with size 4"),
    # a value (not a src tensor): the index may not be larger than self, RuntimeError
    (lambda L: X(L).scatter(0, L.tensor([[0, 1, 2, 0, 1]]), 2.0), RuntimeError,
     r"^Expected index \[1, 5\] to be no larger than self \[3, 4\] apart from dimension 0$"),
    (lambda L: X(L).scatter(1, L.tensor([[0], [1], [2], [0]]), 2.0, reduce="add"), RuntimeError,
     r"^Expected index \[4, 1\] to be no larger than self \[3, 4\] apart from dimension 1$"),
    (lambda L: X(L).scatter(1, L.tensor([[0]]), L.ones(1, 1), reduce="mean"), RuntimeError,
     "reduce argument must be either add or multiply."),
    (lambda L: X(L).scatter_add(1, L.tensor([[0]], dtype=L.uint8), L.ones(1, 1)),
     RuntimeError, "scatter\\(\\): Expected dtype int32/int64 for index"),
    (lambda L: X(L).scatter_reduce(1, L.tensor([[0]]), L.ones(1, 1), "foo"), RuntimeError,
     "reduce argument must be either sum, prod, mean, amax or amin, got foo"),
    (lambda L: X(L).index_select(1, L.tensor([0.0])), RuntimeError,
     "index_select\\(\\): Expected dtype int32 or int64 for index"),
    (lambda L: X(L).index_select(1, L.tensor([[0]])), IndexError,
     "Index is supposed to be a vector"),
    (lambda L: X(L).index_select(1, L.tensor([9])), RuntimeError, "index 9 is out of bounds"),
    (lambda L: X(L).index_add(1, L.tensor([1, 0]), L.ones(3, 3)), RuntimeError,
     r"index_add_\(\): Number of indices \(2\) should be equal to source.size\(dim\): \(3\), "
     r"for dim: 1"),
    (lambda L: X(L).index_add(1, L.tensor([1, 0]), L.ones(2, 2)), RuntimeError,
     r"source tensor shape must match self tensor shape, excluding the specified dimension. "
     r"Got self.shape = \[3, 4\] source.shape = \[2, 2\]"),
    (lambda L: X(L).index_add(1, L.tensor([1, 0]), L.ones(3, 2, dtype=L.float64)),
     RuntimeError, r"self \(Float\) and source \(Double\) must have the same scalar type"),
    (lambda L: X(L).index_copy(1, L.tensor([1, 9]), L.ones(3, 2)), IndexError,
     r"index_copy_\(\): index 9 is out of bounds for dimension 1 with size 4"),
    (lambda L: X(L).index_copy(1, L.tensor([1, 0], dtype=L.int32), L.ones(3, 2)),
     RuntimeError, "Expected a long tensor for index, but got Int"),
    (lambda L: X(L).index_fill(1, L.tensor([1], dtype=L.int32), 2), IndexError,
     "index_fill_\\(\\): Expected dtype int64 for index."),
    (lambda L: X(L).index_fill(1, L.tensor([1]), L.tensor([2.0, 3.0])), RuntimeError,
     r"index_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 "
     r"dimension\(s\)."),
    (lambda L: X(L).masked_fill(L.ones(4), 2.0), RuntimeError,
     "masked_fill_ only supports boolean masks, but got mask with dtype float$"),
    (lambda L: X(L).masked_fill(L.ones(5, dtype=L.bool), 1.0), RuntimeError,
     r"The size of tensor a \(5\) must match the size of tensor b \(4\) at non-singleton "
     r"dimension 1"),
    (lambda L: X(L).masked_fill_(L.ones(2, 3, 4, dtype=L.bool), 1.0), RuntimeError,
     r"output with shape \[3, 4\] doesn't match the broadcast shape \[2, 3, 4\]"),
    (lambda L: X(L).masked_select(L.ones(4)), RuntimeError,
     "masked_select: expected BoolTensor for mask"),
    (lambda L: X(L).masked_scatter(L.ones(4, dtype=L.bool), L.ones(5)),
     RuntimeError, "Number of elements of source < number of ones in mask"),
    (lambda L: X(L).take(L.tensor([13])), IndexError,
     "out of range: tried to access index 13 on a tensor of 12 elements."),
    (lambda L: X(L).take(L.tensor([1], dtype=L.int32)), RuntimeError,
     "take\\(\\): Expected a long tensor for index, but got Int"),
    (lambda L: X(L).take_along_dim(L.tensor([1]), 1), RuntimeError,
     "input and indices should have the same number of dimensions, but got 2 dimensions for "
     "input, and 1 dimensions for indices"),
    (lambda L: X(L).take_along_dim(L.tensor([[0], [3]]), 1), RuntimeError,
     r"The size of tensor a \(3\) must match the size of tensor b \(2\) at non-singleton "
     r"dimension 0"),
    (lambda L: L.tril(L.ones(3)), RuntimeError,
     "tril: input tensor must have at least 2 dimensions"),
    # a 0-d mask is an integer index to PyTorch, so the value's dtype must match
    (lambda L: X(L).__setitem__(L.tensor(True), L.tensor(2)), RuntimeError,
     "Index put requires the source and destination dtypes match, got Float for the "
     "destination and Long for the source."),
    (lambda L: L.zeros(0, 4).index_select(0, L.tensor([0])), RuntimeError,
     r"index_select\(\): self indexing axis dim should be positive"),
    (lambda L: X(L).index_put_((L.tensor([0]),), 2.5), TypeError,
     "argument 'values' .* must be Tensor"),
    (lambda L: X(L).index_put_((L.tensor([0]),), L.tensor(2.5, dtype=L.float64)), RuntimeError,
     "Index put requires the source and destination dtypes match, got Float for the "
     "destination and Double for the source."),
    (lambda L: X(L).index_put((L.tensor([0]),) * 3, L.tensor(2.5)), IndexError,
     r"too many indices for tensor of dimension 2 \(got 3\)"),
]


@pytest.mark.parametrize("fn,exc,match", ERRORS)
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn(genesis)


# where torch's message differs from ours (ours names the index and the dim)
TORCH_WORDS_DIFFER = {"index_select(1, L.tensor([9]))"}


@needs_torch
@pytest.mark.parametrize("fn,exc,match", ERRORS)
def test_errors_match_torch(fn, exc, match):
    """The same call raises the same exception type in torch, with the same message."""
    import inspect
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if any(w in inspect.getsource(fn) for w in TORCH_WORDS_DIFFER):
            match = None
        with pytest.raises(exc, match=match):
            fn(torch)


# ---------------------------------------------------------------- stale indices
# An index or mask changed in place after the op that used it must make backward raise
# (it is saved for backward), not silently move the gradient.
# (id, op on the leaf x (4,) and the index tensor, the index, its in-place change)
STALE = [
    ("getitem", lambda x, i: x[i], lambda L: L.tensor([0, 1]), lambda i: i.__setitem__(0, 2)),
    ("getitem_int32", lambda x, i: x[i], lambda L: L.tensor([0, 1], dtype=L.int32),
     lambda i: i.__setitem__(0, 2)),
    ("getitem_2nd_dim", lambda x, i: x.reshape(2, 2)[:, i], lambda L: L.tensor([1]),
     lambda i: i.fill_(0)),
    ("getitem_mask", lambda x, m: x[m], lambda L: L.tensor([True, False, True, False]),
     lambda m: m.__setitem__(0, False)),
    ("getitem_index_view", lambda x, i: x[i[:2]], lambda L: L.tensor([0, 1, 2, 3]),
     lambda i: i.__setitem__(0, 3)),
    ("setitem", lambda x, i: _set(x * 1, i, 0.0), lambda L: L.tensor([0, 1]),
     lambda i: i.__setitem__(0, 2)),
    ("index_put", lambda x, i: x.index_put((i,), x[2:] * 3), lambda L: L.tensor([0, 1]),
     lambda i: i.__setitem__(0, 2)),
    ("gather", lambda x, i: x.gather(0, i), lambda L: L.tensor([0, 1]),
     lambda i: i.__setitem__(0, 2)),
    ("gather_int32", lambda x, i: x.gather(0, i), lambda L: L.tensor([0, 1], dtype=L.int32),
     lambda i: i.__setitem__(0, 2)),
    ("scatter", lambda x, i: x.scatter(0, i, 0.0), lambda L: L.tensor([0, 1]),
     lambda i: i.__setitem__(0, 2)),
    ("scatter_", lambda x, i: (x * 1).scatter_(0, i, x[2:] * 3), lambda L: L.tensor([0, 1]),
     lambda i: i.__setitem__(0, 2)),
    ("scatter_add", lambda x, i: x.scatter_add(0, i, x[2:] * 3), lambda L: L.tensor([0, 1]),
     lambda i: i.__setitem__(0, 2)),
    ("scatter_reduce", lambda x, i: x.scatter_reduce(0, i, x[2:] * 3, "amax"),
     lambda L: L.tensor([0, 1]), lambda i: i.__setitem__(0, 2)),
    ("index_select", lambda x, i: x.index_select(0, i), lambda L: L.tensor([0, 1]),
     lambda i: i.__setitem__(0, 2)),
    ("index_add", lambda x, i: x.index_add(0, i, x[2:] * 3), lambda L: L.tensor([0, 1]),
     lambda i: i.__setitem__(0, 2)),
    ("index_copy", lambda x, i: x.index_copy(0, i, x[2:] * 3), lambda L: L.tensor([0, 1]),
     lambda i: i.__setitem__(0, 2)),
    ("index_fill_", lambda x, i: (x * 1).index_fill_(0, i, 0.0), lambda L: L.tensor([0, 1]),
     lambda i: i.__setitem__(0, 2)),
    ("masked_fill", lambda x, m: x.masked_fill(m, 0.0), lambda L: L.tensor([True, False] * 2),
     lambda m: m.__setitem__(1, True)),
    ("masked_fill_broadcast", lambda x, m: x.expand(3, 4).masked_fill(m, 0.0),
     lambda L: L.tensor([True, False] * 2), lambda m: m.__setitem__(1, True)),
    ("masked_select", lambda x, m: x.masked_select(m), lambda L: L.tensor([True, False] * 2),
     lambda m: m.__setitem__(0, False)),
    ("masked_scatter", lambda x, m: x.masked_scatter(m, x * 3),
     lambda L: L.tensor([True, False] * 2), lambda m: m.__setitem__(1, True)),
    ("take", lambda x, i: x.take(i), lambda L: L.tensor([0, 1]), lambda i: i.__setitem__(0, 2)),
]


def _set(y, i, v):
    y[i] = v
    return y


def _stale_backward(L, op, index, change):
    x = L.tensor([1.0, 5.0, 3.0, 2.0], requires_grad=True)
    i = index(L)
    y = op(x, i)
    change(i)
    (y * y).sum().backward()


@pytest.mark.parametrize("name,op,index,change", STALE, ids=[c[0] for c in STALE])
def test_index_changed_in_place_after_the_op_raises(name, op, index, change):
    _stale_backward(genesis, op, index, lambda i: None)     # unchanged: fine
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _stale_backward(genesis, op, index, change)


@needs_torch
@pytest.mark.parametrize("name,op,index,change", STALE, ids=[c[0] for c in STALE])
def test_index_changed_in_place_raises_in_torch_too(name, op, index, change):
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _stale_backward(torch, op, index, change)


@needs_torch
@pytest.mark.parametrize("L", ["genesis", "torch"])
def test_index_changed_before_double_backward_raises(L):
    """The gradient's own graph keeps the index saved too (create_graph=True)."""
    L = genesis if L == "genesis" else torch
    x = L.tensor([1.0, 5.0, 3.0], dtype=L.float64, requires_grad=True)
    i = L.tensor([0, 1])
    g, = L.autograd.grad((x.gather(0, i) ** 2).sum(), x, create_graph=True)
    i[0] = 2
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        g.sum().backward()


def test_ndarray_index_changed_after_the_op_keeps_the_gradient():
    """A NumPy index is copied (there is no version to check), so changing it later does
    not change the gradient. (PyTorch shares the array's memory and moves the gradient.)"""
    x = genesis.tensor([1.0, 1.0, 1.0], requires_grad=True)
    idx = np.array([0, 1])
    y = x[idx] * genesis.tensor([1.0, 2.0])
    idx[0] = 2
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 0.0]


@needs_torch
@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_reduce_result_changed_in_place_raises(reduce):
    """amax/amin's gradient reads the result: changing it in place must raise."""
    for L in (genesis, torch):
        x = L.tensor([1.0, 5.0, 3.0], requires_grad=True)
        y = x.scatter_reduce(0, L.tensor([0, 2]), L.tensor([4.0, 2.0]), reduce)
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


# ---------------------------------------------------------------- fuzzer regressions
# advanced-indexing results are C-contiguous, as torch's, whatever the input's layout
LAYOUT = [
    ("index_select1", lambda L, a: a.index_select(1, L.tensor([0, 1]))),
    ("index_select0", lambda L, a: a.index_select(0, L.tensor([2, 0]))),
    ("list", lambda L, a: a[:, [0, 1]]),
    ("tensor", lambda L, a: a[:, L.tensor([0, 1])]),
    ("two_arrays", lambda L, a: a[[0, 1], [1, 2]]),
    ("mask", lambda L, a: a[a > 0]),
]


@needs_torch
@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("fn", [c[1] for c in LAYOUT], ids=[c[0] for c in LAYOUT])
def test_advanced_results_are_contiguous_like_torch(fn, transposed, grad):
    a = np.random.default_rng(0).standard_normal((3, 4))
    res = []
    for L in (genesis, torch):
        x = L.tensor(a, requires_grad=grad)
        res.append(fn(L, x.t() if transposed else x))
    r, rt = res
    assert r.is_contiguous() and r.stride() == rt.stride()
    np.testing.assert_array_equal(r.detach().view(-1).numpy(), rt.detach().view(-1).numpy())


@needs_torch
@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("shape,spec", [
    ((3, 1), lambda L: (slice(None), [L.tensor([0])])),
    ((3, 4), lambda L: (slice(None), [L.tensor([0]), L.tensor(2)])),
    ((3, 4, 5), lambda L: (slice(None), [[L.tensor(0), 1], [2, L.tensor([3])]])),
    ((3, 4), lambda L: [L.tensor([0, 2])]),
], ids=["one", "two", "nested", "top_level"])
def test_list_holding_tensors_reads_them_as_numbers(shape, spec):
    """A one-element tensor inside a list index is the number it holds (torch)."""
    check(lambda x: x[spec(genesis if isinstance(x, genesis.Tensor) else torch)],
          np.arange(float(np.prod(shape))).reshape(shape))


@needs_torch
@pytest.mark.parametrize("dtype,value", [
    ("float32", lambda L: L.tensor(2)), ("int64", lambda L: L.tensor(2.5)),
    ("float32", lambda L: L.tensor([[2.0]], dtype=L.float64)),
    ("uint8", lambda L: L.tensor(-1)),
])
def test_mask_setitem_casts_a_one_element_value(dtype, value):
    """torch writes a one-element value at a lone mask with masked_fill, which casts it."""
    out = []
    for L in (genesis, torch):
        x = L.zeros(3, dtype=getattr(L, dtype))
        x[L.tensor([True, False, True])] = value(L)
        out.append(x)
    assert str(out[0].dtype).split(".")[-1] == str(out[1].dtype).split(".")[-1]
    assert out[0].tolist() == out[1].tolist()


@needs_torch
@pytest.mark.parametrize("dtype,fill", [
    ("uint8", -1), ("uint8", -255), ("int8", -128), ("int8", 127), ("int8", 2.7),
    ("bool", 2), ("float16", float("inf")), ("int8", "tensor300"), ("uint8", "tensor-1"),
])
def test_fill_in_range_values_like_torch(dtype, fill):
    """fill_ / masked_fill / index_fill of values torch accepts: uint8 wraps negative ints,
    a tensor's value wraps as copy_ does (fill_ only)."""
    out = []
    for L in (genesis, torch):
        v = L.tensor(int(fill[6:])) if isinstance(fill, str) else fill
        x = L.zeros(3, dtype=getattr(L, dtype))
        r = [x.clone().fill_(v).tolist()]
        if not isinstance(fill, str):
            m = L.tensor([True, False, True])
            r += [x.masked_fill(m, v).tolist(), x.index_fill(0, L.tensor([1]), v).tolist()]
        out.append(r)
    assert out[0] == out[1]


@pytest.mark.parametrize("fn,shape", [
    (lambda L, x: x.gather(0, L.tensor([])), (0,)),
    (lambda L, x: x.scatter_add(0, L.tensor([]), L.zeros(0, dtype=x.dtype)), (3,)),
    (lambda L, x: x.scatter(0, L.tensor([]), L.zeros(0, dtype=x.dtype)), (3,)),
    (lambda L, x: x.scatter_reduce(0, L.tensor([]), L.zeros(0, dtype=x.dtype), "sum"), (3,)),
], ids=["gather", "scatter_add", "scatter", "scatter_reduce"])
def test_empty_float_index_is_accepted(fn, shape):
    """torch takes an empty index of any dtype in the dim-wise ops (fuzzer regression)."""
    for L in (genesis, torch) if torch is not None else (genesis,):
        r = fn(L, L.zeros(3))
        assert tuple(r.shape) == shape and r.tolist() == [0.0] * shape[0]
