"""Extra shape/index ops (diagonals, rot90, repeat_interleave, grids, block_diag, diff,
bincount, histc, searchsorted, unique_consecutive, unravel_index, cummax/cummin,
logcumsumexp): parity with PyTorch, finite-difference gradchecks and PyTorch's errors."""
import warnings

import numpy as np
import pytest

import genesis
from oracle import DEVICE, check, rand, gradcheck, needs_torch, torch


def L(x):
    """The library a tensor belongs to, so one lambda serves genesis and torch."""
    return genesis if isinstance(x, genesis.Tensor) else torch


def const(a):
    """fn(x) -> a as a tensor of x's library and device."""
    def f(like):
        if isinstance(like, genesis.Tensor):
            return genesis.tensor(a, device=like.device)
        return torch.tensor(a)
    return f


REP = const(np.array([2, 0, 1, 3]))
PRE = const(np.linspace(-1, 1, 4).reshape(1, 4))
A34, A234 = (3, 4), (2, 3, 4)

# (id, fn, input shapes): differentiable ops, run in float32/float64, contiguous and not
PARITY = [
    ("diagonal", lambda a: a.diagonal(), [A34]),
    ("diagonal_off", lambda a: L(a).diagonal(a, 1), [A34]),
    ("diagonal_neg", lambda a: a.diagonal(-2), [A34]),
    ("diagonal_dims", lambda a: a.diagonal(1, -1, 0), [A234]),
    ("diagonal_empty", lambda a: a.diagonal(5), [A34]),
    ("diagonal_chain", lambda a: a.diagonal(0, 0, 2).diagonal() * 2, [(3, 3, 3)]),
    ("diag_1d", lambda a: L(a).diag(a), [(4,)]),
    ("diag_1d_off", lambda a: L(a).diag(a, -2), [(3,)]),
    ("diag_2d", lambda a: a.diag(1), [A34]),
    ("diagflat", lambda a: a.diagflat(1), [(2, 2)]),
    ("diag_embed", lambda a: a.diag_embed(), [A34]),
    ("diag_embed_dims", lambda a: L(a).diag_embed(a, -1, 0, 2), [A34]),
    ("trace", lambda a: a.trace(), [A34]),
    ("rot90", lambda a: a.rot90(), [A34]),
    ("rot90_k2", lambda a: L(a).rot90(a, 2, [1, 2]), [A234]),
    ("rot90_k3", lambda a: a.rot90(-1, [0, -1]), [A234]),
    ("rot90_k0", lambda a: a.rot90(4), [A34]),
    ("repeat_interleave", lambda a: a.repeat_interleave(2), [A34]),
    ("repeat_interleave_dim", lambda a: L(a).repeat_interleave(a, 3, dim=-1), [A34]),
    ("repeat_interleave_t", lambda a: a.repeat_interleave(REP(a), dim=1), [A34]),
    ("repeat_interleave_out", lambda a: a.repeat_interleave(REP(a), 1, output_size=6),
     [A34]),
    ("meshgrid_ij", lambda a, b: L(a).meshgrid(a, b, indexing="ij"), [(3,), (4,)]),
    ("meshgrid_xy", lambda a, b, c: L(a).meshgrid([a, b, c], indexing="xy"),
     [(3,), (2,), (4,)]),
    ("cartesian_prod", lambda a, b: L(a).cartesian_prod(a, b), [(3,), (2,)]),
    ("combinations", lambda a: L(a).combinations(a), [(4,)]),
    ("combinations_r3", lambda a: L(a).combinations(a, 3, with_replacement=True), [(3,)]),
    ("block_diag", lambda a, b, c: L(a).block_diag(a, b, c), [A34, (3,), ()]),
    ("diff", lambda a: a.diff(), [A34]),
    ("diff_n2_dim0", lambda a: L(a).diff(a, 2, 0), [(4, 3)]),
    ("diff_pre_app", lambda a, b: L(a).diff(a, dim=0, prepend=b, append=b), [A34, (1, 4)]),
    ("diff_n_big", lambda a: a.diff(5), [A34]),
    ("cummax", lambda a: a.cummax(1), [A34]),
    ("cummin", lambda a: L(a).cummin(a, 0), [A234]),
    ("cummax_0d", lambda a: L(a).cummax(a, 0), [()]),
    ("logcumsumexp", lambda a: a.logcumsumexp(1), [A34]),
    ("logcumsumexp_dim0", lambda a: L(a).logcumsumexp(a, -3), [A234]),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("noncontig", [False, True])
@pytest.mark.parametrize("name,fn,shapes", PARITY, ids=[p[0] for p in PARITY])
def test_parity(name, fn, shapes, dtype, noncontig):
    arrays = [rand(*s, dtype=dtype, seed=i) for i, s in enumerate(shapes)]
    check(fn, *arrays, noncontig=noncontig)


def test_cummax_ties_and_nan():
    x = np.array([[1., 3., 3., 2., np.nan, 5., np.nan], [2., 2., 1., 0., 4., 4., 4.]])
    check(lambda a: a.cummax(1), x)
    check(lambda a: a.cummin(1), x)
    check(lambda a: a.cummin(-1), np.array([3, 1, 1, 2, 0, 0], np.int64), grad=False)
    check(lambda a: a.cummax(0), np.array([False, True, False]), grad=False)


def test_logcumsumexp_extremes():
    x = np.array([-np.inf, -np.inf, 1., 800., np.inf, np.inf, 3.])
    check(lambda a: a.logcumsumexp(0), x, grad=False)
    check(lambda a: a.logcumsumexp(0), np.array([-1000., 0., 1000., -5.]))


GRADCHECK = [
    ("diagonal", lambda a: a.diagonal(1, 1, 0), [A34]),
    ("diag_embed", lambda a: a.diag_embed(-1), [(2, 3)]),
    ("diag", lambda a: genesis.diag(a, 1), [(3,)]),
    ("trace", lambda a: a.trace(), [(3, 3)]),
    ("rot90", lambda a: a.rot90(3), [(2, 3)]),
    ("repeat_interleave", lambda a: a.repeat_interleave(
        genesis.tensor([1, 0, 2], device=a.device), dim=0), [(3, 2)]),
    ("block_diag", lambda a, b: genesis.block_diag(a, b), [(2, 2), (3,)]),
    ("diff", lambda a, b: a.diff(2, prepend=b), [(2, 4), (2, 1)]),
    ("combinations", lambda a: genesis.combinations(a), [(4,)]),
    ("cummax", lambda a: a.cummax(1)[0], [(2, 5)]),
    ("cummin", lambda a: a.cummin(0)[0], [(4, 2)]),
    ("logcumsumexp", lambda a: a.logcumsumexp(1), [(2, 5)]),
]


@pytest.mark.parametrize("name,fn,shapes", GRADCHECK, ids=[g[0] for g in GRADCHECK])
def test_gradcheck(name, fn, shapes):
    gradcheck(fn, *[rand(*s, seed=i) for i, s in enumerate(shapes)])


@pytest.mark.parametrize("name,fn", [
    ("diagonal", lambda a: a.diagonal(-1, 0, 1) * a.diagonal(-1, 0, 1)),
    ("diag_embed", lambda a: genesis.diag_embed(a * a, 1)),
])
def test_gradgradcheck(name, fn):
    gradcheck(fn, rand(3, 3), second_order=True)


def test_diagonal_is_a_view():
    x = genesis.zeros(3, 4, device=DEVICE)
    d = x.diagonal(1)
    d.add_(1)
    assert x.sum().item() == 3 and x[0, 1].item() == 1
    assert d._base is x


def test_diagonal_inplace_grad():
    a = genesis.tensor(rand(3, 3), requires_grad=True, device=DEVICE)
    b = a * 1
    b.diagonal().mul_(2)
    b.sum().backward()
    assert np.allclose(a.grad.cpu().numpy(), np.eye(3) + 1)


# (id, fn, inputs): integer / index ops compared without gradients
INT_PARITY = [
    ("diag_int", lambda a: L(a).diag(a), [np.arange(3)]),
    ("trace_int32", lambda a: a.trace(), [np.arange(6, dtype=np.int32).reshape(2, 3)]),
    ("rot90_int", lambda a: a.rot90(1, [1, 0]), [np.arange(6).reshape(2, 3)]),
    ("repeat_interleave_idx", lambda a: L(a).repeat_interleave(a), [np.array([2, 0, 3])]),
    ("repeat_interleave_0d", lambda a: L(a).repeat_interleave(a, 3), [np.array(5)]),
    ("meshgrid_int", lambda a, b: L(a).meshgrid(a, b, indexing="xy"),
     [np.arange(2), np.array(7)]),
    ("combinations_short", lambda a: L(a).combinations(a, 4), [np.arange(3)]),
    ("combinations_r0", lambda a: L(a).combinations(a, 0), [np.arange(3)]),
    ("combinations_r1", lambda a: L(a).combinations(a, 1), [np.arange(3)]),
    ("block_diag_mixed", lambda a, b: L(a).block_diag(a, b),
     [np.arange(4, dtype=np.int32).reshape(2, 2), np.ones(3, np.float32)]),
    ("diff_int_pre", lambda a, b: L(a).diff(a, prepend=b),
     [np.array([1, 4, 9], np.int32), np.array([0.5], np.float32)]),
    ("diff_bool", lambda a: a.diff(), [np.array([True, True, False, True])]),
    ("bincount", lambda a: a.bincount(), [np.array([0, 3, 3, 1, 7])]),
    ("bincount_min", lambda a: L(a).bincount(a, minlength=10), [np.array([2, 2], np.uint8)]),
    ("bincount_empty", lambda a: L(a).bincount(a), [np.zeros(0, np.int64)]),
    ("bincount_w32", lambda a, w: a.bincount(w), [np.array([0, 2, 2]),
                                                  np.array([.5, 1., 2.], np.float32)]),
    ("bincount_wint", lambda a, w: a.bincount(w, 4), [np.array([0, 2, 2]),
                                                      np.array([1, 2, 3], np.int32)]),
    ("histc", lambda a: a.histc(5), [rand(20, dtype="float32")]),
    ("histc_range", lambda a: L(a).histc(a, 4, -0.5, 0.5), [rand(4, 5)]),
    ("histc_edges", lambda a: L(a).histc(a, 4, 0, 4), [np.array([0., 1., 4., 4.5, -1.])]),
    ("histc_const", lambda a: a.histc(3), [np.array([2., 2.])]),
    ("searchsorted", lambda s, v: L(s).searchsorted(s, v),
     [np.sort(rand(6)), rand(3, 4, seed=3)]),
    ("searchsorted_right", lambda s, v: L(s).searchsorted(s, v, right=True, out_int32=True),
     [np.array([1., 2., 2., 3.]), np.array([[2., 0.], [3., 5.]])]),
    ("searchsorted_side", lambda s, v: L(s).searchsorted(s, v, side="right"),
     [np.array([1, 2, 2, 3]), np.array([2, 3, 4])]),
    ("searchsorted_nd", lambda s, v: L(s).searchsorted(s, v),
     [np.sort(rand(2, 3, 5), -1), rand(2, 3, 4, seed=4)]),
    ("searchsorted_nd_right", lambda s, v: L(s).searchsorted(s, v, right=True),
     [np.array([[1., 2., 2.], [0., 0., 5.]]), np.array([[2., np.nan], [0., 5.]])]),
    ("searchsorted_nan", lambda s, v: L(s).searchsorted(s, v),
     [np.array([1., 2., 3.]), np.array([np.nan, 2.])]),
    ("searchsorted_sorter", lambda s, v, k: L(s).searchsorted(s, v, sorter=k),
     [np.array([3., 1., 2.]), np.array([2.5, 0.]), np.array([1, 2, 0])]),
    ("searchsorted_mixed", lambda s, v: L(s).searchsorted(s, v),
     [np.array([1, 2, 3]), np.array([1.5, 3.5])]),
    ("searchsorted_scalar", lambda s: L(s).searchsorted(s, 2.5),
     [np.array([1., 2., 3.])]),
    ("bucketize", lambda v, b: L(v).bucketize(v, b), [rand(3, 4), np.array([-.5, 0., .5])]),
    ("bucketize_right", lambda v, b: L(v).bucketize(v, b, right=True, out_int32=True),
     [np.array([0., .5, 1.]), np.array([0., .5])]),
    ("unique_consecutive", lambda a: L(a).unique_consecutive(a),
     [np.array([1, 1, 2, 2, 3, 1, 1, 2])]),
    ("unique_consecutive_all", lambda a: a.unique_consecutive(True, True),
     [np.array([[1., 1.], [2., 2.], [2., 3.]])]),
    ("unique_consecutive_counts", lambda a: L(a).unique_consecutive(a, return_counts=True),
     [np.array([5, 5, 5])]),
    ("unique_consecutive_dim0", lambda a: a.unique_consecutive(True, True, dim=0),
     [np.array([[1, 2], [1, 2], [3, 4], [1, 2]])]),
    ("unique_consecutive_dim1", lambda a: L(a).unique_consecutive(a, return_inverse=True,
                                                                 dim=1),
     [np.array([[1, 1, 2], [3, 3, 3]])]),
    ("unique_consecutive_empty", lambda a: a.unique_consecutive(True, True),
     [np.zeros(0, np.float32)]),
    ("unravel_index", lambda a: L(a).unravel_index(a, (2, 3, 4)),
     [np.array([[0, 5], [23, 17]])]),
    ("unravel_index_wrap", lambda a: L(a).unravel_index(a, (2, 3)), [np.array([7, -7, -6])]),
    ("unravel_index_int", lambda a: L(a).unravel_index(a, 6), [np.array(3, np.int32)]),
]


@pytest.mark.parametrize("name,fn,arrays", INT_PARITY, ids=[p[0] for p in INT_PARITY])
def test_int_parity(name, fn, arrays):
    check(fn, *arrays, grad=False)


@pytest.mark.filterwarnings("ignore:torch.searchsorted")
@pytest.mark.parametrize("noncontig", [False, True])
def test_noncontig_index_ops(noncontig):
    check(lambda a: a.unique_consecutive(True, True, dim=1),
          np.array([[1, 1, 2], [1, 1, 2], [0, 0, 3]]), noncontig=noncontig, grad=False)
    check(lambda s, v: L(s).searchsorted(s, v),
          np.sort(rand(3, 4), -1), rand(3, 3, seed=2), noncontig=noncontig, grad=False)
    check(lambda a: a.histc(4), rand(3, 4), noncontig=noncontig, grad=False)


@needs_torch
def test_meshgrid_warns_without_indexing():
    a = genesis.arange(2, device=DEVICE)
    with pytest.warns(UserWarning, match="indexing argument"):
        out = genesis.meshgrid(a, a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch.meshgrid(torch.arange(2), torch.arange(3))
    assert [tuple(o.shape) for o in out] == [(2, 2), (2, 2)] and len(ref) == 2


def test_bincount_weights_grad_free():
    w = genesis.ones(3, requires_grad=True, device=DEVICE)
    r = genesis.bincount(genesis.tensor([0, 1, 1], device=DEVICE), w)
    assert r.tolist() == [1.0, 2.0] and r.dtype == genesis.float32


def g_(a, **kw):
    return genesis.tensor(np.asarray(a), device=DEVICE, **kw)


ERRORS = [
    (lambda: genesis.diag(g_(np.zeros((2, 2, 2)))), RuntimeError, "Supports 1D or 2D .* 3D"),
    (lambda: g_(np.zeros((2, 2, 2))).trace(), RuntimeError, "expected a matrix.*dim 3"),
    (lambda: g_(np.zeros((2, 2), bool)).trace(), NotImplementedError, "Bool"),
    (lambda: g_(np.zeros((2, 2))).diagonal(0, 1, 1), RuntimeError, "cannot be identical 1, 1"),
    (lambda: g_(np.zeros((2, 2))).diagonal(0, 1, 2), IndexError, "Dimension out of range"),
    (lambda: g_(np.zeros(2)).diag_embed(0, 1, -1), RuntimeError, "cannot be identical"),
    (lambda: g_(np.zeros((2, 2))).rot90(1, [0]), RuntimeError, "rotation dims == 2.* = 1"),
    (lambda: g_(np.zeros(2)).rot90(1, [0, 1]), RuntimeError, "total dims >= 2.* = 1"),
    (lambda: g_(np.zeros((2, 2))).rot90(1, [0, -2]), RuntimeError, "dim0 = 0 and dim1 = 0"),
    (lambda: genesis.repeat_interleave(g_(np.zeros(3)), g_([1, -1, 2])), RuntimeError,
     "repeats can not be negative"),
    (lambda: genesis.repeat_interleave(g_(np.zeros(3)), g_([1, 2])), RuntimeError,
     r"repeats.size\(0\) = 2 and input.size\(0\) = 3"),
    (lambda: g_(np.zeros(3)).repeat_interleave(-1), RuntimeError, "non-negative"),
    (lambda: genesis.repeat_interleave(g_(np.zeros(3)), g_([1., 2., 3.])),
     NotImplementedError, "not implemented for 'Double'"),
    (lambda: genesis.meshgrid(g_(np.zeros((2, 2))), indexing="ij"), RuntimeError,
     "Expected 0D or 1D"),
    (lambda: genesis.meshgrid(g_(np.zeros(2)), indexing="ji"), RuntimeError,
     "received: ji"),
    (lambda: genesis.meshgrid(g_(np.zeros(2)), g_(np.zeros(2, np.float32)), indexing="ij"),
     RuntimeError, "same dtype"),
    (lambda: genesis.meshgrid(indexing="ij"), RuntimeError, "non-empty"),
    (lambda: genesis.cartesian_prod(g_(np.zeros((2, 2)))), RuntimeError,
     r"1D vector, but got shape \[2, 2\]"),
    (lambda: genesis.combinations(g_(np.zeros(3)), -1), RuntimeError, "got -1"),
    (lambda: genesis.block_diag(g_(np.zeros((1, 1, 1)))), RuntimeError,
     "Input 0 has 3 dimensions"),
    (lambda: g_(np.array(1.)).diff(), RuntimeError, "at least one-dimensional"),
    (lambda: g_(np.zeros(3)).diff(-1), RuntimeError, "got -1"),
    (lambda: g_(np.zeros(3)).diff(prepend=g_(np.zeros((1, 1)))), RuntimeError,
     "same dimension"),
    (lambda: g_(np.zeros((3, 2))).diff(dim=0, prepend=g_(np.zeros((1, 1)))), RuntimeError,
     r"input.size\(1\) = 2, but got tensor.size\(1\) = 1"),
    (lambda: g_([1, -1]).bincount(), RuntimeError, "non-negative integral"),
    (lambda: g_([[1]]).bincount(), RuntimeError, "1-d non-negative"),
    (lambda: g_([1.]).bincount(), NotImplementedError, "not implemented for 'Double'"),
    (lambda: g_([1]).bincount(minlength=-1), RuntimeError, "minlength should be >= 0"),
    (lambda: g_([1, 2]).bincount(g_(np.ones(3))), RuntimeError, "same length as input"),
    (lambda: g_([1, 2]).histc(), NotImplementedError, "Long"),
    (lambda: g_([1., 2.]).histc(0), RuntimeError, "bins must be > 0, but got 0"),
    (lambda: g_([1., 2.]).histc(3, 2, 1), RuntimeError, "max must be larger than min"),
    (lambda: g_([1., np.inf]).histc(3), RuntimeError, r"range of \[1, inf\] is not finite"),
    (lambda: genesis.searchsorted(g_(np.zeros((2, 3))), g_(np.zeros((3, 4)))), RuntimeError,
     r"boundaries tensor \[2, 3\] and input value tensor \[3, 4\]"),
    (lambda: genesis.searchsorted(g_(np.zeros(3)), g_(np.zeros(2)), side="left", right=True),
     RuntimeError, "can't be set to opposites"),
    (lambda: genesis.searchsorted(g_(np.zeros(3)), g_(np.zeros(2)), side="up"),
     RuntimeError, "'left' or 'right' but got up"),
    (lambda: genesis.searchsorted(g_(np.zeros((2, 3))), 3.), RuntimeError,
     "scalar only when boundaries tensor dimension is 1"),
    (lambda: genesis.searchsorted(g_(np.zeros(3)), g_(np.zeros(2)), sorter=g_([0, 1])),
     RuntimeError, "boundary and sorter must have the same size"),
    (lambda: genesis.searchsorted(g_(np.zeros(3)), g_(np.zeros(2)), sorter=g_(np.zeros(3))),
     RuntimeError, "sorter must be a tensor of long dtype"),
    (lambda: genesis.searchsorted(g_(np.zeros(3)), g_(np.zeros(2)), sorter=g_([0, 1, 5])),
     RuntimeError, "sorter index out of range"),
    (lambda: genesis.searchsorted(g_(np.array(1.)), g_(np.zeros(2))), RuntimeError,
     "positive dimension"),
    (lambda: genesis.bucketize(g_(np.zeros(2)), g_(np.zeros((2, 2)))), RuntimeError,
     r"must be 1 dimension, but got dim\(2\)"),
    (lambda: g_([1., 1.]).unique_consecutive(dim=2), IndexError, "Dimension out of range"),
    (lambda: genesis.unravel_index(g_([1.]), (2, 3)), TypeError, "integer dtype.*float64"),
    (lambda: genesis.unravel_index(g_([True]), (2,)), TypeError, "integer dtype.*bool"),
    (lambda: genesis.unravel_index(g_([1]), (2, -3)), ValueError, "negative values"),
    (lambda: g_([1, 2]).logcumsumexp(0), NotImplementedError, "Long"),
    (lambda: g_([1., 2.]).cummax(1), IndexError, "Dimension out of range"),
]


@pytest.mark.parametrize("fn,exc,match", ERRORS, ids=[f"err{i}" for i in range(len(ERRORS))])
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


@needs_torch
def test_errors_match_torch_types():
    """The same calls raise the same exception types in torch (spot check)."""
    for f in (lambda: torch.diag(torch.zeros(2, 2, 2)),
              lambda: torch.searchsorted(torch.zeros(2, 3), torch.zeros(3, 4)),
              lambda: torch.diff(torch.tensor(1.))):
        with pytest.raises(RuntimeError):
            f()
    with pytest.raises(TypeError):
        torch.unravel_index(torch.tensor([1.]), (2, 3))
