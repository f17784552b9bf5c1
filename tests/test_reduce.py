"""Reductions, cumulative ops, norms, sorting and unique: parity with torch (values,
dtypes, shapes, input gradients), finite-difference gradchecks, dtype rules and errors."""
import math

import numpy as np
import pytest

import genesis
import genesis.linalg
from oracle import check, rand, gradcheck, needs_torch, torch

INF = math.inf


def _with(a, pos, val):
    """a copy of array a with the flat positions pos set to val (zeros, NaNs, ties)."""
    a = a.copy()
    a.reshape(-1)[list(pos)] = val
    return a


def _ties(*shape, dtype="float64"):
    """values on a coarse grid, so that lines have repeated maxima and minima."""
    return np.round(rand(*shape, dtype=dtype, seed=3) * 2) / 2


# (id, fn(lib, x), input maker(dtype)); lib is genesis or torch, same spelling for both
CASES = [
    ("sum", lambda L, x: x.sum(), lambda dt: rand(3, 4, dtype=dt)),
    ("sum_dim", lambda L, x: L.sum(x, 1), lambda dt: rand(3, 4, dtype=dt)),
    ("sum_dims_keep", lambda L, x: x.sum((-1, 0), keepdim=True),
     lambda dt: rand(2, 3, 4, dtype=dt)),
    ("sum_dtype", lambda L, x: x.sum(0, dtype=L.float64), lambda dt: rand(3, 4, dtype=dt)),
    ("mean", lambda L, x: x.mean(), lambda dt: rand(3, 4, dtype=dt)),
    ("mean_dims", lambda L, x: L.mean(x, (0, 2), keepdim=True), lambda dt: rand(2, 3, 4, dtype=dt)),
    ("mean_neg", lambda L, x: x.mean(-1), lambda dt: rand(3, 4, dtype=dt)),
    ("nansum", lambda L, x: L.nansum(x, 1), lambda dt: _with(rand(3, 4, dtype=dt), [1, 6], np.nan)),
    ("nansum_all", lambda L, x: x.nansum(), lambda dt: _with(rand(3, 4, dtype=dt), [1], np.nan)),
    ("nanmean", lambda L, x: x.nanmean(0), lambda dt: _with(rand(3, 4, dtype=dt), [1, 5], np.nan)),
    ("prod", lambda L, x: x.prod(), lambda dt: rand(3, 4, dtype=dt, low=0.5, high=1.5)),
    ("prod_dim", lambda L, x: L.prod(x, 1, keepdim=True), lambda dt: rand(3, 4, dtype=dt)),
    ("prod_zero", lambda L, x: x.prod(1), lambda dt: _with(rand(3, 4, dtype=dt), [1, 8, 9], 0)),
    ("prod_zero_all", lambda L, x: x.prod(), lambda dt: _with(rand(2, 3, dtype=dt), [4], 0)),
    ("prod_zero_dim0", lambda L, x: x.prod(0),
     lambda dt: _with(rand(3, 3, dtype=dt), [0, 1, 4, 8], 0)),
    ("prod_zeros_all", lambda L, x: x.prod(), lambda dt: _with(rand(2, 3, dtype=dt), [0, 4], 0)),
    # a 0-d prod is the identity: gradient g, even at nan (out / a would give nan)
    ("prod_0d_nan", lambda L, x: x.prod(), lambda dt: np.array(np.nan, dt)),
    ("prod_0d_inf_dim", lambda L, x: x.prod(0), lambda dt: np.array(np.inf, dt)),
    ("max", lambda L, x: x.max(), lambda dt: rand(3, 4, dtype=dt)),
    ("max_ties", lambda L, x: L.max(x), lambda dt: _ties(3, 4, dtype=dt)),
    ("max_dim", lambda L, x: tuple(x.max(1)), lambda dt: rand(3, 4, dtype=dt)),
    ("max_dim_keep", lambda L, x: tuple(L.max(x, -2, keepdim=True)),
     lambda dt: rand(3, 4, dtype=dt)),
    ("min", lambda L, x: x.min(), lambda dt: rand(3, 4, dtype=dt)),
    ("min_dim", lambda L, x: tuple(L.min(x, dim=0)), lambda dt: rand(3, 4, dtype=dt)),
    ("max_0d", lambda L, x: tuple(x.sum().max(0)), lambda dt: rand(3, dtype=dt)),
    ("amax", lambda L, x: x.amax(), lambda dt: _ties(3, 4, dtype=dt)),
    ("amax_dims", lambda L, x: L.amax(x, (0, -1)), lambda dt: _ties(2, 3, 4, dtype=dt)),
    ("amin_keep", lambda L, x: x.amin(1, keepdim=True), lambda dt: _ties(3, 4, dtype=dt)),
    ("aminmax", lambda L, x: tuple(L.aminmax(x, dim=1)), lambda dt: _ties(3, 4, dtype=dt)),
    ("var", lambda L, x: x.var(), lambda dt: rand(3, 4, dtype=dt)),
    ("var_dim", lambda L, x: L.var(x, 1, keepdim=True), lambda dt: rand(3, 4, dtype=dt)),
    ("var_corr0", lambda L, x: x.var((0, 1), correction=0), lambda dt: rand(2, 3, 4, dtype=dt)),
    ("var_unbiased", lambda L, x: x.var(0, False), lambda dt: rand(3, 4, dtype=dt)),
    ("var_legacy", lambda L, x: L.var(x, False), lambda dt: rand(3, 4, dtype=dt)),
    ("std", lambda L, x: x.std(), lambda dt: rand(3, 4, dtype=dt)),
    ("std_dim", lambda L, x: L.std(x, -1, correction=2), lambda dt: rand(3, 4, dtype=dt)),
    ("std_const", lambda L, x: x.std(1), lambda dt: _with(rand(3, 4, dtype=dt), [4, 5, 6, 7], 0.5)),
    ("var_mean", lambda L, x: L.var_mean(x, 1), lambda dt: rand(3, 4, dtype=dt)),
    ("std_mean", lambda L, x: L.std_mean(x, 0, keepdim=True), lambda dt: rand(3, 4, dtype=dt)),
    ("logsumexp", lambda L, x: x.logsumexp(1), lambda dt: rand(3, 4, dtype=dt)),
    ("logsumexp_big", lambda L, x: L.logsumexp(x * 1000, (0, 1), keepdim=True),
     lambda dt: rand(3, 4, dtype=dt)),
    ("logsumexp_inf", lambda L, x: x.logsumexp(1),
     lambda dt: _with(rand(2, 3, dtype=dt), [0], -INF)),
    ("cumsum", lambda L, x: x.cumsum(1), lambda dt: rand(3, 4, dtype=dt)),
    ("cumsum_0", lambda L, x: L.cumsum(x, dim=-2, dtype=L.float64),
     lambda dt: rand(3, 4, dtype=dt)),
    ("cumprod", lambda L, x: x.cumprod(1), lambda dt: rand(3, 4, dtype=dt)),
    ("cumprod_zeros", lambda L, x: L.cumprod(x, 1),
     lambda dt: _with(rand(3, 5, dtype=dt), [1, 6, 8, 11, 14], 0)),
    ("norm", lambda L, x: x.norm(), lambda dt: rand(3, 4, dtype=dt)),
    ("norm_dim", lambda L, x: L.norm(x, 2, 1, keepdim=True), lambda dt: rand(3, 4, dtype=dt)),
    ("norm_zero", lambda L, x: x.norm(dim=1), lambda dt: _with(rand(2, 3, dtype=dt), [0, 1, 2], 0)),
    ("norm_fro", lambda L, x: x.norm("fro", dim=(0, 1)), lambda dt: rand(2, 3, 4, dtype=dt)),
    ("norm_1", lambda L, x: x.norm(1, dim=0), lambda dt: rand(3, 4, dtype=dt)),
    ("norm_3", lambda L, x: x.norm(3), lambda dt: rand(3, 4, dtype=dt)),
    ("norm_inf", lambda L, x: x.norm(INF, dim=1), lambda dt: _ties(3, 4, dtype=dt)),
    ("norm_ninf", lambda L, x: L.norm(x, -INF), lambda dt: rand(3, 4, dtype=dt)),
    ("norm_0", lambda L, x: x.norm(0, dim=1), lambda dt: _with(rand(3, 4, dtype=dt), [1], 0)),
    ("vector_norm", lambda L, x: L.linalg.vector_norm(x), lambda dt: rand(3, 4, dtype=dt)),
    ("vector_norm_widen", lambda L, x: L.linalg.vector_norm(x.float(), 2, 1, dtype=L.float64),
     lambda dt: rand(3, 4, dtype=dt)),
    ("vector_norm_dim", lambda L, x: L.linalg.vector_norm(x, 1.5, (0, 2), True),
     lambda dt: rand(2, 3, 4, dtype=dt)),
    ("linalg_norm", lambda L, x: L.linalg.norm(x, dim=1), lambda dt: rand(3, 4, dtype=dt)),
    ("linalg_norm_mat", lambda L, x: L.linalg.norm(x, 1), lambda dt: rand(3, 4, dtype=dt)),
    ("matrix_norm_fro", lambda L, x: L.linalg.matrix_norm(x), lambda dt: rand(2, 3, 4, dtype=dt)),
    ("matrix_norm_inf", lambda L, x: L.linalg.matrix_norm(x, INF, keepdim=True),
     lambda dt: rand(2, 3, 4, dtype=dt)),
    ("matrix_norm_m1", lambda L, x: L.linalg.matrix_norm(x, -1, dim=(0, 2)),
     lambda dt: rand(2, 3, 4, dtype=dt)),
    ("sort", lambda L, x: tuple(x.sort()), lambda dt: rand(3, 4, dtype=dt)),
    ("sort_desc", lambda L, x: tuple(L.sort(x, 0, descending=True)),
     lambda dt: rand(3, 4, dtype=dt)),
    ("sort_nan", lambda L, x: tuple(x.sort(1, descending=True)),
     lambda dt: _with(rand(3, 4, dtype=dt), [2, 5], np.nan)),
    ("topk", lambda L, x: tuple(x.topk(2)), lambda dt: rand(3, 5, dtype=dt)),
    ("topk_small", lambda L, x: tuple(L.topk(x, 2, dim=0, largest=False)),
     lambda dt: rand(3, 5, dtype=dt)),
    ("median", lambda L, x: x.median(), lambda dt: rand(3, 4, dtype=dt)),
    ("median_dim", lambda L, x: tuple(L.median(x, 1, keepdim=True)),
     lambda dt: rand(3, 5, dtype=dt)),
    ("median_even", lambda L, x: tuple(x.median(0)), lambda dt: rand(4, 3, dtype=dt)),
    ("nanmedian", lambda L, x: tuple(x.nanmedian(1)),
     lambda dt: _with(rand(3, 5, dtype=dt), [0, 6], np.nan)),
    ("kthvalue", lambda L, x: tuple(x.kthvalue(2, 0)), lambda dt: rand(3, 4, dtype=dt)),
]


@pytest.mark.parametrize("noncontig", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,fn,make", CASES, ids=[c[0] for c in CASES])
def test_parity(name, fn, make, dtype, noncontig):
    check(lambda x: fn(genesis, x), make(dtype), fn_torch=lambda x: fn(torch, x),
          noncontig=noncontig)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("op", ["sum", "mean", "prod", "amax", "var", "std", "logsumexp",
                                "cumsum", "norm"])
def test_low_precision(op, dtype):
    args = {"logsumexp": (1,), "cumsum": (1,)}.get(op, ())
    a = rand(3, 4, dtype="float32", low=0.5, high=1.5)
    if dtype == "float16":
        a = a.astype(dtype)
    # computed in the low dtype (its dtype checked), compared in float32 (the oracle's
    # gradients cannot be bfloat16)
    def fn(L):
        def f(x):
            y = getattr(x.to(getattr(L, dtype)), op)(*args)
            assert str(y.dtype).endswith(dtype)
            return y.float()
        return f
    check(fn(genesis), a, fn_torch=fn(torch), rtol=2e-2, atol=2e-2)


# ---------------------------------------------------------------- binary max / min
@pytest.mark.parametrize("op", ["max", "min"])
def test_binary_max_min(op):
    a, b = rand(3, 4), rand(4, seed=1)
    check(lambda x, y: getattr(x, op)(y), a, b)
    check(lambda x, y: getattr(genesis, op)(x, y), a, b,
          fn_torch=lambda x, y: getattr(torch, op)(x, y))


# ---------------------------------------------------------------- integer / bool inputs
INT_CASES = [
    ("sum_bool", lambda L, x: (x > 0).sum(1)),
    ("sum_int", lambda L, x: x.int().sum()),
    ("sum_int_dtype", lambda L, x: x.int().sum(0, dtype=L.int32)),
    ("prod_int", lambda L, x: (x * 2).int().prod(1)),
    ("nansum_int", lambda L, x: x.int().nansum()),
    ("cumsum_int", lambda L, x: x.int().cumsum(1)),
    ("cumsum_bool", lambda L, x: (x > 0).cumsum(0)),
    ("cumprod_int", lambda L, x: x.int().cumprod(1)),
    ("max_int", lambda L, x: (x * 3).int().max()),
    ("max_dim_int", lambda L, x: tuple((x * 3).int().max(1))),
    ("amin_int", lambda L, x: (x * 3).short().amin(0)),
    ("mean_int_dtype", lambda L, x: (x * 3).int().mean(dtype=L.float64)),
    ("argmax", lambda L, x: x.argmax()),
    ("argmax_keep", lambda L, x: L.argmax(x, keepdim=True)),
    ("argmax_dim", lambda L, x: x.argmax(1, keepdim=True)),
    ("argmin_dim", lambda L, x: L.argmin(x, -2)),
    ("argmax_nan", lambda L, x: L.where(x > 0.5, float("nan"), x).argmax(1)),
    ("all", lambda L, x: (x > -0.9).all()),
    ("all_dim", lambda L, x: (x > -0.5).all(1, keepdim=True)),
    ("any_dims", lambda L, x: L.any(x > 0.5, dim=(0, 1))),
    ("any_float", lambda L, x: (x > 0.5).double().any(0)),
    ("all_uint8", lambda L, x: (x > 0).to(L.uint8).all(1)),
    ("count_nonzero", lambda L, x: (x > 0).count_nonzero()),
    ("count_nonzero_dim", lambda L, x: L.count_nonzero((x > 0).int(), dim=(0,))),
    ("argsort", lambda L, x: x.argsort(1)),
    ("argsort_desc", lambda L, x: L.argsort(x, 0, descending=True)),
    ("sort_int", lambda L, x: tuple((x * 3).int().sort(1))),
    ("median_int", lambda L, x: (x * 5).long().median()),
    ("logsumexp_int", lambda L, x: (x * 3).int().logsumexp(1)),
]


@pytest.mark.parametrize("name,fn", INT_CASES, ids=[c[0] for c in INT_CASES])
def test_int_and_bool(name, fn):
    check(lambda x: fn(genesis, x), rand(3, 4), fn_torch=lambda x: fn(torch, x), grad=False)


TIE_CASES = [
    ("sort_stable", lambda L, x: tuple(x.sort(dim=1, stable=True))),
    ("sort_stable_desc", lambda L, x: tuple(L.sort(x, dim=0, descending=True, stable=True))),
    ("argsort_stable", lambda L, x: L.argsort(x, dim=1, stable=True)),
    ("argsort_stable_desc", lambda L, x: x.argsort(dim=1, descending=True, stable=True)),
    ("max_dim_first", lambda L, x: tuple(x.max(1))),
    ("min_dim_first", lambda L, x: tuple(x.min(0))),
    ("argmax_first", lambda L, x: x.argmax(1)),
]


@pytest.mark.parametrize("name,fn", TIE_CASES, ids=[c[0] for c in TIE_CASES])
def test_ties_pick_first(name, fn):
    check(lambda x: fn(genesis, x), _ties(4, 6), fn_torch=lambda x: fn(torch, x))


UNIQUE_CASES = [
    dict(), dict(return_inverse=True), dict(return_counts=True),
    dict(return_inverse=True, return_counts=True), dict(dim=0, return_inverse=True),
    dict(dim=1, return_counts=True), dict(sorted=True, dim=-1),
]


@pytest.mark.parametrize("kw", UNIQUE_CASES, ids=[str(k) for k in UNIQUE_CASES])
def test_unique(kw):
    a = np.array([[3, 1, 3, 2], [0, 1, 0, 2], [3, 1, 3, 2]], np.float32)
    check(lambda x: x.unique(**kw), a, grad=False)
    if "dim" not in kw:       # every NaN is a value of its own
        check(lambda x: x.unique(**kw), _with(a, [0, 5, 7], np.nan), grad=False)
    check(lambda x: genesis.unique(x.long(), **kw), a, grad=False,
          fn_torch=lambda x: torch.unique(x.long(), **kw))


# ---------------------------------------------------------------- structure
@needs_torch
def test_max_returns_named_tuple():
    x = genesis.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], requires_grad=True)
    r = x.max(1)
    assert isinstance(r, tuple) and type(r).__name__ == "max"
    values, indices = r
    assert values is r.values and indices is r.indices and r[0] is values
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert indices.dtype == genesis.int64 and not indices.requires_grad
    values.sum().backward()
    assert x.grad.tolist() == [[0, 1, 0], [1, 0, 0]]
    assert repr(r).startswith("genesis.return_types.max(\nvalues=tensor(")
    for name in ("min", "sort", "topk", "median", "kthvalue"):
        f = getattr(genesis.Tensor, name)
        r = f(x, 1) if name == "kthvalue" else f(x, 1) if name == "topk" else f(x, 0)
        assert type(r).__name__ == name and r._fields == ("values", "indices")
    assert genesis.aminmax(x)._fields == ("min", "max")


def test_tensor_methods_bound():
    for name in ("sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin",
                 "var", "std", "logsumexp", "cumsum", "cumprod", "cumsum_", "cumprod_",
                 "norm", "all", "any", "count_nonzero", "sort", "argsort", "topk", "unique",
                 "median", "nansum", "nanmean", "nanmedian", "kthvalue", "aminmax"):
        assert callable(getattr(genesis.Tensor, name)), name


@needs_torch
@pytest.mark.parametrize("op", ["cumsum_", "cumprod_"])
def test_cumulative_inplace(op):
    a = rand(3, 4)
    g, t = genesis.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    gy, ty = g * 2, t * 2
    assert getattr(gy, op)(1) is gy
    getattr(ty, op)(1)
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy())
    gy.sum().backward(), ty.sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy())


def test_topk_unsorted_is_a_valid_selection():
    x = genesis.tensor(rand(4, 6))
    v, i = x.topk(3, 1, sorted=False)
    ref = np.sort(x.numpy(), 1)[:, ::-1][:, :3]
    np.testing.assert_allclose(np.sort(v.numpy(), 1)[:, ::-1], ref)
    np.testing.assert_allclose(np.take_along_axis(x.numpy(), i.numpy(), 1), v.numpy())


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_of_empty_stays_in_graph(name):
    for dt in (np.float32, np.float64):
        out, = check(lambda x: getattr(x, name)(), np.zeros((0, 4), dt))
        assert out.requires_grad and math.isnan(out.item())


def test_empty_and_scalar_cases():
    e = genesis.zeros(0, 3)
    assert e.sum().item() == 0 and e.prod().item() == 1 and math.isnan(e.mean().item())
    v, i = e.max(1)
    assert v.shape == (0,) and i.shape == (0,) and i.dtype == genesis.int64
    assert e.amax(1).shape == (0,) and math.isnan(e.median().item())
    s = genesis.tensor(3.0)
    assert s.sum(0).item() == 3 and s.cumsum(0).item() == 3 and s.argmax(0).item() == 0
    assert s.sort().values.item() == 3 and s.max(-1).indices.item() == 0
    assert math.isnan(s.var().item()) and s.logsumexp(0).item() == 3
    assert genesis.tensor([-INF, -INF]).logsumexp(0).item() == -INF


# ---------------------------------------------------------------- errors
ERRORS = [
    (lambda x: x.sum(5), IndexError,
     r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)"),
    (lambda x: x.mean(-3), IndexError, r"range of \[-2, 1\], but got -3"),
    (lambda x: x.amax((0, 0)), RuntimeError, "dim 0 appears multiple times"),
    (lambda x: x.cumsum(2), IndexError, "Dimension out of range"),
    (lambda x: x.sort(2), IndexError, "Dimension out of range"),
    (lambda x: x.long().mean(), RuntimeError, "mean.*floating point.*Got: Long"),
    (lambda x: x.long().var(), RuntimeError, "std and var only support floating point"),
    (lambda x: x.long().std(0), RuntimeError, "std and var only support floating point"),
    (lambda x: x.long().norm(), RuntimeError, "vector_norm: Expected a floating point.*Long"),
    (lambda x: x.prod((0, 1)), TypeError, "prod"),
    (lambda x: genesis.zeros(0, 3).max(), RuntimeError,
     "max\\(\\): Expected reduction dim to be specified for input.numel\\(\\) == 0"),
    (lambda x: genesis.zeros(0, 3).max(0), IndexError,
     r"max\(\): Expected reduction dim 0 to have non-zero size"),
    (lambda x: genesis.zeros(0, 3).min(0), IndexError, "min.*dim 0 to have non-zero size"),
    (lambda x: genesis.zeros(0, 3).amax(), RuntimeError, "amax.*numel\\(\\) == 0"),
    (lambda x: genesis.zeros(0, 3).amax(0), IndexError, "amax.*dim 0 to have non-zero size"),
    (lambda x: genesis.zeros(0, 3).argmax(), IndexError, "argmax.*numel\\(\\) == 0"),
    (lambda x: genesis.zeros(0, 3).argmax(0), IndexError, "argmax.*non-zero size"),
    (lambda x: genesis.zeros(0, 3).median(0), IndexError, "median.*non-zero size"),
    (lambda x: x.topk(5), RuntimeError, "selected index k out of range"),
    (lambda x: x.topk(-1, 0), RuntimeError, "selected index k out of range"),
    (lambda x: x.kthvalue(0), RuntimeError, "kthvalue.*k out of range for dimension 1"),
    (lambda x: x.norm(p="nuc"), NotImplementedError, "nuc"),
    (lambda x: genesis.linalg.matrix_norm(x[0]), RuntimeError, "at least 2 dimensions"),
    (lambda x: genesis.linalg.norm(x.reshape(1, 2, 2), 2), RuntimeError, "1D or 2D"),
    (lambda x: x.unique(dim=2), IndexError, "Dimension out of range"),
    (lambda x: x.norm(dtype=genesis.float16), RuntimeError,
     r"the dtype of the input \(Float\) should be convertible without narrowing.*\(Half\)"),
    (lambda x: x[:, :0].norm(INF), RuntimeError, "cannot compute the inf norm on an empty"),
    (lambda x: x[:, :0].norm(INF, dim=1), IndexError, "dim 1 to have non-zero size"),
    (lambda x: x.reshape(1, 2, 2).norm("fro", dim=(0, 1, 2)), RuntimeError,
     "dim must be a 2-tuple. Got 0 1 2"),
]


@needs_torch
@pytest.mark.parametrize("fn", [
    lambda L, x: x.sum(dtype=L.int64), lambda L, x: x.sum(0, dtype=L.int32),
    lambda L, x: x.nansum(dtype=L.bool), lambda L, x: x.prod(dtype=L.int64),
    lambda L, x: x.cumsum(0, dtype=L.int64), lambda L, x: x.cumprod(1, dtype=L.int64)])
def test_integral_dtype_of_reduction_requiring_grad_raises(fn):
    # PyTorch's autograd refuses it; under no_grad it is an ordinary cast
    for L in (torch, genesis):
        x = L.ones(2, 3, requires_grad=True)
        with pytest.raises(RuntimeError, match="Autograd not support dtype: (Long|Int|Bool)"):
            fn(L, x)
        with L.no_grad():
            assert not fn(L, x).dtype.is_floating_point


@pytest.mark.parametrize("fn,exc,match", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn(genesis.tensor([[1.0, 2.0, 3.0, 4.0]]).reshape(2, 2))


# ---------------------------------------------------------------- finite differences
GRADCHECKS = [
    ("sum", lambda x: x.sum((0, 2), keepdim=True), rand(2, 3, 2), False),
    ("mean", lambda x: x.mean(1), rand(2, 3), False),
    ("nansum", lambda x: x.nansum(0), rand(2, 3), False),
    ("prod", lambda x: x.prod(1), rand(2, 3, low=0.5, high=1.5), True),
    ("prod_all", lambda x: x.prod(), rand(2, 3, low=0.5, high=1.5), True),
    ("prod_zero", lambda x: x.prod(1), _with(rand(2, 3), [1], 0), True),
    ("prod_zeros", lambda x: x.prod(1), _with(rand(3, 3), [1, 2, 6, 7, 8], 0), True),
    ("max_dim", lambda x: x.max(1).values, rand(3, 4), False),
    ("min_dim", lambda x: x.min(0, keepdim=True)[0] ** 2, rand(3, 4), True),
    ("max", lambda x: x.max(), rand(3, 4), False),
    ("amax", lambda x: x.amax((0, 1)), rand(2, 2, 3), False),
    ("var", lambda x: x.var(1), rand(2, 4), True),
    ("var_corr", lambda x: x.var(correction=0), rand(2, 3), True),
    ("std", lambda x: x.std(0, keepdim=True), rand(3, 2), True),
    ("std_mean", lambda x: genesis.std_mean(x, 1)[0] * genesis.std_mean(x, 1)[1], rand(2, 3),
     False),
    ("logsumexp", lambda x: x.logsumexp(1), rand(2, 3), True),
    ("cumsum", lambda x: x.cumsum(1) ** 2, rand(2, 4), True),
    ("cumprod", lambda x: x.cumprod(1), rand(2, 4, low=0.5, high=1.5), True),
    ("cumprod_zeros", lambda x: x.cumprod(1), _with(rand(3, 4), [1, 5, 7, 8, 9], 0), True),
    ("norm", lambda x: x.norm(dim=1), rand(2, 3), True),
    ("norm_3", lambda x: x.norm(3), rand(2, 3), True),
    ("norm_1", lambda x: x.norm(1, 0), rand(2, 3), False),
    ("norm_inf", lambda x: x.norm(INF, 1), rand(2, 3), False),
    ("vector_norm", lambda x: genesis.linalg.vector_norm(x, 0.5, dim=0), rand(2, 3), False),
    ("matrix_norm_1", lambda x: genesis.linalg.matrix_norm(x, 1), rand(2, 3), False),
    ("sort", lambda x: (x.sort(1, descending=True).values ** 2
                        * genesis.tensor([0.0, 1, 2], device=x.device)),
     rand(2, 3), True),
    ("topk", lambda x: x.topk(2, 0).values ** 2, rand(3, 2), True),
    ("median", lambda x: x.median(), rand(2, 3), False),
    ("median_dim", lambda x: x.median(1)[0] ** 3, rand(2, 3), True),
    ("kthvalue", lambda x: x.kthvalue(2, 1).values, rand(2, 3), False),
]


@pytest.mark.parametrize("name,fn,a,second", GRADCHECKS, ids=[g[0] for g in GRADCHECKS])
def test_gradcheck(name, fn, a, second):
    gradcheck(fn, a, second_order=second)


def test_tie_gradient_is_shared():
    x = genesis.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.amax(1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    x.grad = None
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [0, 0, 0]])


# The indices max/min/sort/topk/median/kthvalue return are saved for backward: changing
# them in place must make backward raise (as in PyTorch), not move the gradient.
# (id, op on the leaf x (2, 3) giving (values, indices), in-place change of the indices)
STALE_INDICES = [
    ("max", lambda x: x.max(1), lambda i: i.fill_(0)),
    ("min_keepdim", lambda x: x.min(0, keepdim=True), lambda i: i.fill_(1)),
    ("sort", lambda x: x.sort(1), lambda i: i.fill_(0)),
    ("sort_change_through_a_view", lambda x: x.sort(1, descending=True),
     lambda i: i[0].fill_(0)),
    ("topk", lambda x: x.topk(2, 1), lambda i: i.__setitem__((0, 0), 0)),
    ("median", lambda x: x.median(1), lambda i: i.fill_(0)),
    ("nanmedian", lambda x: x.nanmedian(0), lambda i: i.fill_(0)),
    ("kthvalue", lambda x: x.kthvalue(2, 1), lambda i: i.fill_(2)),
    ("max_0d", lambda x: x[0, 0].max(0), lambda i: i.fill_(0)),
]


def _stale_backward(L, op, change):
    x = L.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]], requires_grad=True)
    v, i = op(x)
    change(i)
    (v * v).sum().backward()
    return x.grad


@pytest.mark.parametrize("name,op,change", STALE_INDICES, ids=[c[0] for c in STALE_INDICES])
def test_indices_changed_in_place_raise(name, op, change):
    assert _stale_backward(genesis, op, lambda i: None) is not None    # unchanged: fine
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _stale_backward(genesis, op, change)


@needs_torch
@pytest.mark.parametrize("name,op,change", STALE_INDICES, ids=[c[0] for c in STALE_INDICES])
def test_indices_changed_in_place_raise_in_torch_too(name, op, change):
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _stale_backward(torch, op, change)


@needs_torch
def test_indices_changed_before_double_backward_raise():
    """The gradient's own graph keeps the indices saved too (create_graph=True)."""
    for L in (genesis, torch):
        x = L.tensor([[1.0, 5.0, 3.0]], dtype=L.float64, requires_grad=True)
        v, i = x.sort(1)
        g, = L.autograd.grad((v ** 2 * L.tensor([1.0, 2.0, 3.0], dtype=L.float64)).sum(), x,
                             create_graph=True)
        i.fill_(0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            g.sum().backward()


# ---------------------------------------------------------------- fuzzer regressions
def _raises_as_torch(fn):
    """fn(lib) raises the same exception type and message with genesis as with torch."""
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(type(te.value), match="^" + __import__("re").escape(str(te.value))):
        fn(genesis)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [0.5, 0.3, -1.0, -0.5])
@pytest.mark.parametrize("how", ["norm", "vector_norm"])
def test_norm_below_one_at_zeros(how, p, dtype):
    """p < 1: zero entries get a zero gradient (not NaN); with p < 0 the norm is 0."""
    fn = (lambda L, x: x.norm(p, 1)) if how == "norm" else \
        (lambda L, x: L.linalg.vector_norm(x, p, dim=1))
    a = _with(rand(3, 4, dtype=dtype), [0, 5, 6], 0.0)
    check(lambda x: fn(genesis, x), a, fn_torch=lambda x: fn(torch, x), noncontig=True)
    check(lambda x: fn(genesis, x), np.zeros((2, 3), dtype), fn_torch=lambda x: fn(torch, x))


def test_norm_below_one_gradient_without_torch():
    a = genesis.tensor([0.0, 1.0, 2.0], dtype=genesis.float64, requires_grad=True)
    a.norm(0.5).backward()
    assert a.grad[0].item() == 0.0 and abs(a.grad[1].item() - (1 + 2 ** 0.5)) < 1e-12
    gradcheck(lambda x: x.norm(0.5), rand(2, 3) + 2, second_order=True)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float16", "int64"])
@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_cumulative_result_is_contiguous(op, dtype):
    a = (rand(3, 4, seed=2) * 3).astype(dtype)
    for L in (genesis, torch):      # the transposed input's result views as flat, as torch
        r = getattr(L.tensor(a).t(), op)(0)
        assert r.is_contiguous()
    check(lambda x: getattr(x.t(), op)(0).view(-1), a, noncontig=dtype == "float32")
    check(lambda x: getattr(x[1, 2], op)(0), a)      # 0-d stays 0-d
    # the gradient of the reverse cumulative sum, from a flipped view
    check(lambda x: getattr(x, op)(1).sum(0), rand(3, 4), noncontig=True)


@needs_torch
@pytest.mark.parametrize("kw", [dict(), dict(return_inverse=True, return_counts=True),
                                dict(dim=0)], ids=str)
def test_unique_requires_grad_but_has_no_derivative(kw):
    def run(L):
        x = L.tensor([[1.0, 2.0], [1.0, 2.0]], requires_grad=True)
        r = L.unique(x, **kw)
        return r if isinstance(r, tuple) else (r,)
    g, t = run(genesis), run(torch)
    assert [r.requires_grad for r in g] == [r.requires_grad for r in t]
    _raises_as_torch(lambda L: run(L)[0].sum().backward())


BOOL_ERRORS = [
    ("argmax", lambda x: x.argmax()), ("argmax_dim", lambda x: x.argmax(0)),
    ("argmin", lambda x: x.argmin(0, keepdim=True)), ("topk", lambda x: x.topk(1)),
    ("median", lambda x: x.median()), ("median_dim", lambda x: x.median(0)),
    ("median_0d", lambda x: x[0].median(0)), ("nanmedian", lambda x: x.nanmedian()),
    ("nanmedian_dim", lambda x: x.nanmedian(0)), ("kthvalue", lambda x: x.kthvalue(1)),
]


@needs_torch
@pytest.mark.parametrize("name,fn", BOOL_ERRORS, ids=[c[0] for c in BOOL_ERRORS])
def test_bool_input_rejected(name, fn):
    _raises_as_torch(lambda L: fn(L.tensor([True, False, True])))


@needs_torch
def test_bool_selections_torch_allows():
    check(lambda x: tuple((x > 0).max(0)), rand(3, 4), grad=False)
    check(lambda x: tuple((x > 0)[0, 0].kthvalue(1)), rand(3, 4), grad=False)


@needs_torch
@pytest.mark.parametrize("shape,k,dim", [((2, 0), 1, 1), ((2, 0), 3, 1), ((0,), 1, 0),
                                         ((2, 0), 0, -1)])
def test_kthvalue_empty_dim_is_index_error(shape, k, dim):
    _raises_as_torch(lambda L: L.zeros(shape).kthvalue(k, dim))


VAR_DEGENERATE = [      # correction >= the count: torch's gradient rules
    ("dim_c2_n1", lambda x: x.unsqueeze(0).var(0, correction=2)),
    ("all_c5_n3", lambda x: x.var(correction=5)),
    ("all_c3_n3", lambda x: x.var(correction=3)),
    ("dim_c5_n3", lambda x: x.var(0, correction=5)),
    ("dim_c3_n3", lambda x: x.var(0, correction=3)),
    ("dim_c2.5", lambda x: x.var(0, correction=2.5)),
    ("dims_c5_keep", lambda x: x.unsqueeze(0).var((0, 1), correction=5, keepdim=True)),
    ("scalar_c2", lambda x: x[0].var(0, correction=2)),
    ("std_all_c5", lambda x: x.std(correction=5)),
]


@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
@pytest.mark.parametrize("name,fn", VAR_DEGENERATE, ids=[c[0] for c in VAR_DEGENERATE])
def test_var_correction_beyond_count(name, fn):
    check(fn, np.array([0.2, 2.0, 3.0]))
    check(fn, np.array([1.0, 1.0, 1.0]))     # zero deviations: nan where torch has nan


def test_var_correction_beyond_count_without_torch():
    a = genesis.tensor([0.2, 2.0], dtype=genesis.float64, requires_grad=True)
    a.unsqueeze(0).var(0, correction=2).sum().backward()
    assert a.grad.tolist() == [0.0, 0.0]
    a.grad = None
    a.var(correction=3).backward()
    assert a.grad.tolist() == [INF, INF]


@needs_torch
@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
@pytest.mark.parametrize("op", ["max", "min", "median", "nanmedian", "amax", "amin"])
def test_value_reduction_nan_upstream_gradient(op):
    """max()/min()/median() give the unpicked elements exact zeros even for a NaN
    gradient (PyTorch fills them); amax/amin multiply by the mask, NaN everywhere."""
    check(lambda x: getattr(x, op)().var(), _ties(3, 4))   # var of one value: nan grad


# 2-D float sums over one axis go through BLAS (a product with a ones vector) in the CPU
# backend: the same values as NumPy's pairwise sum to float round-off, every axis spelling,
# keepdim, float64, non-finite values; long rows and other shapes keep NumPy's reduce.
@pytest.mark.parametrize("dtype,rtol", [("float32", 2e-6), ("float64", 1e-13)])
@pytest.mark.parametrize("shape", [(64, 3), (300, 130), (8, 5000), (2, 40)])
@pytest.mark.parametrize("dim", [0, 1, -1, -2, (0,), (1,)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_2d_sums_match_numpy_in_float64(dtype, rtol, shape, dim, keepdim):
    x = np.random.default_rng(sum(shape)).standard_normal(shape).astype(dtype)
    ref = x.astype(np.float64).sum(axis=dim, keepdims=keepdim)
    got = genesis.tensor(x).sum(dim, keepdim=keepdim).numpy()
    assert got.shape == ref.shape and got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol * np.abs(x).sum() / x.size * 8)


def test_2d_blas_sums_propagate_inf_and_nan():
    x = np.ones((100, 6), np.float32)
    x[3, 1], x[5, 2], x[7, 3], x[8, 3] = np.nan, np.inf, np.inf, -np.inf
    got = genesis.tensor(x).sum(0).numpy()
    np.testing.assert_array_equal(got, [100, np.nan, np.inf, np.nan, 100, 100])
    got = genesis.tensor(x.T.copy()).sum(1).numpy()
    np.testing.assert_array_equal(got, [100, np.nan, np.inf, np.nan, 100, 100])
