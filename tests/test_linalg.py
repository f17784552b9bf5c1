"""Linear algebra: parity with torch (values, dtypes, shapes, gradients), finite-difference
gradchecks, and the errors torch raises."""
import numpy as np
import pytest

import genesis
from oracle import check, rand, gradcheck, needs_torch, torch

DTYPES = ["float32", "float64"]


def R(*shape, seed=0, dtype="float64"):
    return rand(*shape, dtype=dtype, seed=seed)


# ---------------------------------------------------------------- matmul family
MATMUL_SHAPES = [
    ((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
    ((4, 1, 2, 3), (5, 3, 2)), ((3,), (2, 3, 4)), ((2, 2, 3), (3,)), ((1, 2, 3), (4, 3, 2)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
@pytest.mark.parametrize("noncontig", [False, True])
def test_matmul(sa, sb, dtype, noncontig):
    check(lambda a, b: a @ b, R(*sa, dtype=dtype), R(*sb, seed=1, dtype=dtype),
          noncontig=noncontig)
    check(lambda a, b: a.matmul(b), R(*sa, dtype=dtype), R(*sb, seed=1, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("noncontig", [False, True])
def test_mm_bmm_mv(dtype, noncontig):
    check(lambda a, b: a.mm(b), R(2, 3, dtype=dtype), R(3, 4, seed=1, dtype=dtype),
          noncontig=noncontig)
    check(lambda a, b: a.bmm(b), R(2, 2, 3, dtype=dtype), R(2, 3, 4, seed=1, dtype=dtype),
          noncontig=noncontig)
    check(lambda a, b: a.mv(b), R(2, 3, dtype=dtype), R(3, seed=1, dtype=dtype),
          noncontig=noncontig)
    check(lambda a, b: _lib(a).mv(a, b), R(4, 3, dtype=dtype), R(3, seed=1, dtype=dtype))


def _lib(t):
    return genesis if isinstance(t, genesis.Tensor) else torch


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["dot", "vdot", "inner", "outer", "ger"])
def test_vector_products(name, dtype):
    check(lambda a, b: getattr(_lib(a), name)(a, b), R(5, dtype=dtype),
          R(5, seed=1, dtype=dtype))
    check(lambda a, b: getattr(a, name)(b), R(5, dtype=dtype), R(5, seed=1, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", [((2, 3), (4, 3)), ((2, 5, 3), (3,)), ((3,), (2, 2, 3)),
                                   ((2, 3), ()), ((), (4,))])
def test_inner(sa, sb, dtype):
    check(lambda a, b: _lib(a).inner(a, b), R(*sa, dtype=dtype), R(*sb, seed=1, dtype=dtype),
          noncontig=True)


def test_matmul_int_and_mixed_dtypes():
    a = np.arange(6).reshape(2, 3)
    b = np.arange(12).reshape(3, 4)
    check(lambda x, y: x @ y, a, b)
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, but "
                                           "got: float32 != float64"):
        genesis.tensor(a, dtype=genesis.float32) @ genesis.tensor(b, dtype=genesis.float64)
    with pytest.raises(TypeError):
        genesis.ones(2, 3) @ 2
    r = genesis.dot(genesis.tensor([1, 2, 3]), genesis.tensor([4, 5, 6]))
    assert r.dtype == genesis.int64 and r.item() == 32


# ---------------------------------------------------------------- add*mm family
ADD_CASES = [
    # name, input shape, operand shapes
    ("addmm", (2, 4), [(2, 3), (3, 4)]),
    ("addmm", (4,), [(2, 3), (3, 4)]),
    ("addmm", (1, 1), [(2, 3), (3, 4)]),
    ("addmv", (2,), [(2, 3), (3,)]),
    ("addmv", (), [(2, 3), (3,)]),
    ("addr", (2, 3), [(2,), (3,)]),
    ("addr", (3,), [(2,), (3,)]),
    ("baddbmm", (5, 2, 4), [(5, 2, 3), (5, 3, 4)]),
    ("baddbmm", (2, 4), [(5, 2, 3), (5, 3, 4)]),
    ("addbmm", (2, 4), [(5, 2, 3), (5, 3, 4)]),
    ("addbmm", (4,), [(5, 2, 3), (5, 3, 4)]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,si,sops", ADD_CASES)
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, -2.0), (0, 1.5)])
def test_add_products(name, si, sops, beta, alpha, dtype):
    arrays = [R(*si, dtype=dtype)] + [R(*s, seed=k + 1, dtype=dtype) for k, s in enumerate(sops)]
    check(lambda i, a, b: getattr(_lib(i), name)(i, a, b, beta=beta, alpha=alpha), *arrays,
          noncontig=True)
    check(lambda i, a, b: getattr(i, name)(a, b, beta=beta, alpha=alpha), *arrays)


def test_addmm_beta0_ignores_nan():
    inp = genesis.full((2, 4), float("nan"), requires_grad=True)
    r = genesis.addmm(inp, genesis.ones(2, 3), genesis.ones(3, 4), beta=0)
    assert np.array_equal(r.detach().numpy(), np.full((2, 4), 3.0, np.float32))
    r.sum().backward()
    assert np.array_equal(inp.grad.numpy(), np.zeros((2, 4), np.float32))


@needs_torch
@pytest.mark.parametrize("name,si,sops", [
    ("addmm", (2, 4), [(2, 3), (3, 4)]), ("addmv", (2,), [(2, 3), (3,)]),
    ("addr", (2, 3), [(2,), (3,)]), ("baddbmm", (5, 2, 4), [(5, 2, 3), (5, 3, 4)]),
    ("addbmm", (2, 4), [(5, 2, 3), (5, 3, 4)])])
def test_add_products_inplace(name, si, sops):
    arrays = [R(*si)] + [R(*s, seed=k + 1) for k, s in enumerate(sops)]
    g = [genesis.tensor(a) for a in arrays]
    t = [torch.tensor(a) for a in arrays]
    rg = getattr(g[0], name + "_")(g[1], g[2], beta=0.5, alpha=2.0)
    rt = getattr(t[0], name + "_")(t[1], t[2], beta=0.5, alpha=2.0)
    assert rg is g[0]
    np.testing.assert_allclose(g[0].numpy(), t[0].numpy(), rtol=1e-12)
    # autograd through an in-place update of a non-leaf
    leaf = genesis.tensor(arrays[0], requires_grad=True)
    mats = [genesis.tensor(a, requires_grad=True) for a in arrays[1:]]
    tl = torch.tensor(arrays[0], requires_grad=True)
    tm = [torch.tensor(a, requires_grad=True) for a in arrays[1:]]
    y = leaf * 1
    getattr(y, name + "_")(*mats, alpha=3.0)
    (y * y).sum().backward()
    ty = tl * 1
    getattr(ty, name + "_")(*tm, alpha=3.0)
    (ty * ty).sum().backward()
    for a, b in zip([leaf] + mats, [tl] + tm):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10)


def test_inplace_shape_must_match():
    with pytest.raises(RuntimeError, match=r"Bad in-place call: input tensor size \[4\] and "
                                           r"output tensor size \[2, 4\]"):
        genesis.ones(4).addmm_(genesis.ones(2, 3), genesis.ones(3, 4))


# ---------------------------------------------------------------- tensordot, kron, power
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb,dims", [
    ((2, 3, 4), (3, 4, 5), 2), ((2, 3), (3, 5), 1), ((2, 3), (4, 5), 0),
    ((2, 3, 4), (4, 3, 5), ([1, 2], [1, 0])), ((3, 4), (4, 3), ([0, 1], [1, 0])),
    ((2, 3, 4), (5, 3), ([1], [1])), ((2, 1), (4, 5), ([1], [0])), ((3,), (3,), 1),
])
def test_tensordot(sa, sb, dims, dtype):
    check(lambda a, b: _lib(a).tensordot(a, b, dims=dims), R(*sa, dtype=dtype),
          R(*sb, seed=1, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", [((2, 3), (4, 2)), ((3,), (2, 2)), ((2, 1, 3), (2, 2)),
                                   ((), (3,))])
def test_kron(sa, sb, dtype):
    check(lambda a, b: _lib(a).kron(a, b), R(*sa, dtype=dtype), R(*sb, seed=1, dtype=dtype))


def test_kron_noncontig():
    # (torch's kron fails on some transposed inputs, so NumPy is the oracle here)
    a, b = R(3, 2), R(2, 4, seed=1)
    r = genesis.kron(genesis.tensor(a).t(), genesis.tensor(b).t())
    np.testing.assert_allclose(r.numpy(), np.kron(a.T, b.T), rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 2, 3, 6])
def test_matrix_power(n, dtype):
    check(lambda a: _lib(a).matrix_power(a, n), R(2, 3, 3, dtype=dtype) * 0.7)
    check(lambda a: a.matrix_power(n), R(3, 3, dtype=dtype) * 0.7, noncontig=True)


# ---------------------------------------------------------------- einsum
EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iji->j", [(3, 2, 3)]),
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    ("...ij,...jk", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("i,i->", [(5,), (5,)]),
    ("i,i", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i->i", [(5,), (5,)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("...ij->...ji", [(2, 3, 4)]),
    ("...ij->ij", [(2, 3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ij,ij,ij->i", [(2, 3), (2, 3), (2, 3)]),
    ("i,j,k->ijk", [(2,), (3,), (4,)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("Ab,bC->AC", [(2, 3), (3, 4)]),
    ("ab,cd->", [(2, 3), (4, 5)]),
    ("i j , j k -> k i", [(2, 3), (3, 4)]),
    ("i,i", [(1,), (4,)]),
    ("ij,j->i", [(3, 1), (4,)]),
    ("bij,jk->bik", [(1, 2, 3), (3, 4)]),
    ("", [()]),
    (",i->i", [(), (3,)]),
    # zero sizes: a size 1 broadcasts to 0 (kept and contracted labels)
    ("abi,i->ab", [(3, 0, 1), (1,)]),
    ("...i,i->...", [(3, 0, 1), (1,)]),
    ("i,i->", [(1,), (0,)]),
    ("ab,b->ab", [(1, 1), (0,)]),
    ("bij,bjk->bik", [(0, 2, 3), (1, 3, 2)]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("eq,shapes", EINSUM)
def test_einsum(eq, shapes, dtype):
    arrays = [R(*s, seed=k, dtype=dtype) for k, s in enumerate(shapes)]
    check(lambda *ops: _lib(ops[0]).einsum(eq, *ops), *arrays)


@pytest.mark.parametrize("eq,shapes", [e for e in EINSUM if max(map(len, e[1])) >= 2])
def test_einsum_noncontig_and_list(eq, shapes):
    arrays = [R(*s, seed=k) for k, s in enumerate(shapes)]
    check(lambda *ops: _lib(ops[0]).einsum(eq, list(ops)), *arrays, noncontig=True)


def test_einsum_sublist_and_int():
    a = np.arange(6).reshape(2, 3)
    b = np.arange(12).reshape(3, 4)
    r = genesis.einsum(genesis.tensor(a), [0, 1], genesis.tensor(b), [1, 2], [0, 2])
    assert r.dtype == genesis.int64 and np.array_equal(r.numpy(), a @ b)
    r = genesis.einsum(genesis.tensor(a), [0, Ellipsis], [Ellipsis])
    assert np.array_equal(r.numpy(), a.sum(0))


@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]), ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]), ("...ij,...jk", [(2, 3, 4), (4, 2)]),
    ("i,i", [(1,), (3,)]),
])
def test_einsum_gradcheck(eq, shapes):
    arrays = [R(*s, seed=k) for k, s in enumerate(shapes)]
    gradcheck(lambda *ops: genesis.einsum(eq, *ops), *arrays, second_order=True)


# ---------------------------------------------------------------- gradchecks (no torch)
GRADCHECK = [
    (lambda a, b: a @ b, [(2, 3), (3, 4)]),
    (lambda a, b: a @ b, [(3,), (3,)]),
    (lambda a, b: a @ b, [(3,), (2, 3, 4)]),
    (lambda a, b: a @ b, [(2, 2, 3), (3,)]),
    (lambda a, b: a @ b, [(2, 1, 2, 3), (3, 3, 2)]),
    (lambda a, b: a @ b, [(2, 2, 3), (3, 2)]),
    (lambda a, b: genesis.inner(a, b), [(2, 3), (4, 3)]),
    (lambda a, b: genesis.outer(a, b), [(2,), (3,)]),
    (lambda i, a, b: genesis.addmm(i, a, b, beta=0.5, alpha=2), [(4,), (2, 3), (3, 4)]),
    (lambda i, a, b: genesis.addmv(i, a, b, beta=-1, alpha=2), [(2,), (2, 3), (3,)]),
    (lambda i, a, b: genesis.addbmm(i, a, b, beta=2), [(2, 4), (3, 2, 3), (3, 3, 4)]),
    (lambda i, a, b: genesis.baddbmm(i, a, b, alpha=0.3), [(2, 4), (3, 2, 3), (3, 3, 4)]),
    (lambda a, b: genesis.tensordot(a, b, dims=([0, 2], [1, 0])), [(2, 3, 4), (4, 2, 2)]),
    (lambda a, b: genesis.kron(a, b), [(2, 3), (2, 2)]),
    (lambda a: genesis.matrix_power(a, 3), [(2, 3, 3)]),
]


@pytest.mark.parametrize("k", range(len(GRADCHECK)))
def test_gradcheck(k):
    fn, shapes = GRADCHECK[k]
    gradcheck(fn, *[R(*s, seed=i) for i, s in enumerate(shapes)], second_order=True)


# ---------------------------------------------------------------- errors
def T(*shape, dtype=None):
    return genesis.ones(*shape, dtype=dtype)


ERRORS = [
    (lambda: T(2, 3) @ T(4, 5), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
    (lambda: genesis.mm(T(2, 3), T(4, 5)), r"\(2x3 and 4x5\)"),
    (lambda: T(3) @ T(5, 4), r"\(1x3 and 5x4\)"),
    (lambda: T(3) @ T(4), r"expected tensor \[3\] and src \[4\]"),
    (lambda: T(3, 4) @ T(5), r"size mismatch, got input \(3\), mat \(3x4\), vec \(5\)"),
    (lambda: T(2, 3, 4) @ T(2, 5, 6), r"\[2, 3, 4\] and \[2, 5, 6\]"),
    (lambda: T(2, 3, 4) @ T(3, 4, 6), r"\[2, 3, 4\] and \[3, 4, 6\] cannot be broadcast"),
    (lambda: T(()) @ T(3), "both arguments to matmul need to be at least 1D"),
    (lambda: genesis.mm(T(3), T(3, 4)), "self must be a matrix"),
    (lambda: genesis.bmm(T(2, 3), T(2, 3, 4)), "batch1 must be a 3D tensor"),
    (lambda: genesis.bmm(T(2, 2, 3), T(3, 3, 4)),
     r"Expected size for first two dimensions of batch2 tensor to be: \[2, 3\] but got: "
     r"\[3, 3\]"),
    (lambda: genesis.mv(T(3, 4), T(5)), r"size mismatch, got input \(3\), mat \(3x4\)"),
    (lambda: genesis.mv(T(3), T(3)), "vector \\+ matrix @ vector expected, got 1, 1, 1"),
    (lambda: genesis.dot(T(2, 3), T(2, 3)), "1D tensors expected, but got 2D and 2D tensors"),
    (lambda: genesis.dot(T(3), T(4)), r"inconsistent tensor size, expected tensor \[3\]"),
    (lambda: genesis.dot(T(3), T(3, dtype=genesis.float64)),
     "dot : expected both vectors to have same dtype, but found Float and Double"),
    (lambda: genesis.inner(T(2, 3), T(4, 5)), r"shapes \[2, 3\] and \[4, 5\]"),
    (lambda: genesis.outer(T(2, 3), T(4)), "outer: Expected 1-D argument self, but got 2-D"),
    (lambda: genesis.addmm(T(3), T(2, 3), T(4, 5)), r"\(2x3 and 4x5\)"),
    (lambda: genesis.addmm(T(3, 5), T(2, 3), T(3, 5)),
     r"The expanded size of the tensor \(2\) must match the existing size \(3\)"),
    (lambda: genesis.addmm(T(2, 2, 5), T(2, 3), T(3, 5)), "number of sizes provided"),
    (lambda: genesis.addmm(T(5, dtype=genesis.float64), T(2, 3), T(3, 5)),
     "self and mat2 must have the same dtype, but got Double and Float"),
    (lambda: genesis.addmv(T(2), T(2, 3), T(4)),
     r"size mismatch, got input \(2\), mat \(2x3\), vec \(4\)"),
    (lambda: genesis.baddbmm(T(5), T(2, 2, 3), T(2, 4, 5)), r"to be: \[2, 3\] but got: \[2, 4\]"),
    (lambda: genesis.tensordot(T(2, 3), T(4, 5), dims=1),
     "contracted dimensions need to match, but first has size 3 in dim -1 and second has "
     "size 4 in dim 0"),
    (lambda: genesis.tensordot(T(2, 3), T(3, 5), dims=-1), "tensordot expects dims >= 0"),
    (lambda: genesis.matrix_power(T(2, 3), 2), "but they are 2 by 3 matrices"),
    (lambda: genesis.einsum("ij,jk", T(2, 3), T(4, 4)),
     "subscript j has size 4 for operand 1 which does not broadcast with previously seen "
     "size 3"),
    (lambda: genesis.einsum("ij,jk->ikk", T(2, 3), T(3, 4)),
     "output subscript k appears more than once"),
    (lambda: genesis.einsum("ij,jk->iz", T(2, 3), T(3, 4)),
     "output subscript z does not appear in the equation for any input operand"),
    (lambda: genesis.einsum("ij,jk", T(2, 3)), "fewer operands were provided"),
    (lambda: genesis.einsum("ij", T(2, 3), T(3)), "more operands were provided"),
    (lambda: genesis.einsum("ijk", T(2, 3)),
     r"number of subscripts in the equation \(3\) does not match the number of dimensions "
     r"\(2\) for operand 0"),
    (lambda: genesis.einsum("ii", T(2, 3)),
     "subscript i is repeated for operand 0 but the sizes don't match, 3 != 2"),
    (lambda: genesis.einsum("i1", T(2, 3)), "invalid subscript given at index 1"),
    (lambda: genesis.einsum("i,i", T(2), T(2, dtype=genesis.float64)),
     "expected scalar type Float but found Double"),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors(k):
    fn, msg = ERRORS[k]
    with pytest.raises(RuntimeError, match=msg):
        fn()


# ---------------------------------------------------------------- fuzzer regressions
def _raises_as_torch(fn):
    """fn(lib) raises the same exception type and message with genesis as with torch."""
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(type(te.value), match="^" + __import__("re").escape(str(te.value))):
        fn(genesis)


ZERO_INNER = [
    ("matmul_fold", lambda L, a, b: a @ b, (5, 2, 0), (0, 3)),
    ("matmul_fold_zero_cols", lambda L, a, b: a @ b, (5, 2, 3), (3, 0)),
    ("matmul_batched", lambda L, a, b: a @ b, (5, 2, 0), (5, 0, 3)),
    ("tensordot", lambda L, a, b: L.tensordot(a, b, dims=1), (2, 0), (0, 3)),
    ("tensordot_free0", lambda L, a, b: L.tensordot(a, b, dims=1), (0, 2), (2, 3)),
    ("inner", lambda L, a, b: L.inner(a, b), (2, 0), (3, 0)),
    ("addbmm", lambda L, a, b: L.addbmm(L.ones(2, 3, dtype=a.dtype, device=a.device), a, b),
     (4, 2, 0), (4, 0, 3)),
]


@pytest.mark.parametrize("name,fn,sa,sb", ZERO_INNER, ids=[c[0] for c in ZERO_INNER])
def test_zero_size_contractions(name, fn, sa, sb):
    check(lambda a, b: fn(genesis, a, b), R(*sa), R(*sb, seed=1),
          fn_torch=lambda a, b: fn(torch, a, b))


def _ints(L, *shape, dtype=None):
    return L.arange(1, 1 + int(np.prod(shape)), dtype=dtype or L.int64).reshape(shape) % 7


SCALED = [   # integral input: alpha and beta take the input's dtype first (truncated)
    ("addmm", lambda L, d, kw: L.addmm(_ints(L, 1, 2, dtype=d), _ints(L, 2, 3, dtype=d),
                                       _ints(L, 3, 2, dtype=d), **kw)),
    ("addmv", lambda L, d, kw: L.addmv(_ints(L, 2, dtype=d), _ints(L, 2, 3, dtype=d),
                                       _ints(L, 3, dtype=d), **kw)),
    ("baddbmm", lambda L, d, kw: L.baddbmm(_ints(L, 2, 1, 2, dtype=d),
                                           _ints(L, 2, 2, 3, dtype=d),
                                           _ints(L, 2, 3, 2, dtype=d), **kw)),
    ("addbmm", lambda L, d, kw: L.addbmm(_ints(L, 2, 2, dtype=d), _ints(L, 2, 2, 3, dtype=d),
                                         _ints(L, 2, 3, 2, dtype=d), **kw)),
    ("addmm_", lambda L, d, kw: _ints(L, 2, 2, dtype=d).addmm_(
        _ints(L, 2, 3, dtype=d), _ints(L, 3, 2, dtype=d), **kw)),
]
SCALED_KW = [dict(beta=0.5, alpha=1.5), dict(beta=-1.5, alpha=2.9), dict(beta=True),
             dict(beta=-1), dict(alpha=0.0), dict(beta=float("nan")), dict(beta=300)]


@needs_torch
@pytest.mark.parametrize("kw", SCALED_KW, ids=str)
@pytest.mark.parametrize("dtype", ["int64", "uint8", "int8"])
@pytest.mark.parametrize("name,fn", SCALED, ids=[c[0] for c in SCALED])
def test_integral_alpha_beta(name, fn, dtype, kw):
    try:
        t = fn(torch, getattr(torch, dtype), kw)
    except RuntimeError:
        _raises_as_torch(lambda L: fn(L, getattr(L, dtype), kw))
        return
    g = fn(genesis, getattr(genesis, dtype), kw)
    assert str(g.dtype) == "genesis." + dtype and g.tolist() == t.tolist()


@needs_torch
@pytest.mark.parametrize("kw", [dict(beta=0.5), dict(alpha=1.5), dict(beta=2.0, alpha=3.0),
                                dict(beta=-1, alpha=3)], ids=str)
def test_addr_integral_float_scalars(kw):
    fn = lambda L: L.addr(_ints(L, 2, 2), _ints(L, 2), _ints(L, 2), **kw)   # noqa: E731
    try:
        t = fn(torch)
    except RuntimeError:
        return _raises_as_torch(fn)
    assert fn(genesis).tolist() == t.tolist()


@needs_torch
def test_float_alpha_beta_out_of_range():
    _raises_as_torch(lambda L: L.addmm(L.ones(1, 2), L.ones(2, 1), L.ones(1, 2), beta=1e300))


BOOL_OPS = [
    ("dot", lambda L, B: L.dot(B(2), B(2))), ("vdot", lambda L, B: L.vdot(B(2), B(2))),
    ("mm", lambda L, B: L.mm(B(2, 2), B(2, 2))), ("mv", lambda L, B: L.mv(B(2, 2), B(2))),
    ("bmm", lambda L, B: L.bmm(B(1, 2, 2), B(1, 2, 2))),
    ("matmul_1d_2d", lambda L, B: B(2) @ B(2, 3)),
    ("matmul_3d_1d", lambda L, B: B(4, 3, 2) @ B(2)),
    ("matmul_3d_2d", lambda L, B: B(4, 3, 2) @ B(2, 3)),
    ("matmul_4d", lambda L, B: B(5, 4, 3, 2) @ B(5, 4, 2, 3)),
    ("addmm", lambda L, B: L.addmm(B(2, 2), B(2, 2), B(2, 2))),
    ("addmv", lambda L, B: L.addmv(B(2), B(2, 2), B(2))),
    ("baddbmm", lambda L, B: L.baddbmm(B(1, 2, 2), B(1, 2, 2), B(1, 2, 2))),
    ("addbmm", lambda L, B: L.addbmm(B(2, 2), B(1, 2, 2), B(1, 2, 2))),
]


@needs_torch
@pytest.mark.parametrize("name,fn", BOOL_OPS, ids=[c[0] for c in BOOL_OPS])
def test_bool_products_rejected(name, fn):
    _raises_as_torch(lambda L: fn(L, lambda *s: L.ones(*s, dtype=L.bool)))


@needs_torch
def test_bool_products_torch_allows():
    for fn in (lambda L, B: L.outer(B(2), B(3)), lambda L, B: L.addr(B(2, 3), B(2), B(3)),
               lambda L, B: L.kron(B(2), B(2))):
        g, t = (fn(L, lambda *s: L.ones(*s, dtype=L.bool)) for L in (genesis, torch))
        assert str(g.dtype) == "genesis.bool" and g.tolist() == t.tolist()
