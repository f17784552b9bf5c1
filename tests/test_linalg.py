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
