"""genesis/ops/extra_math.py: elementwise math (deg2rad ... copysign) and reductions
(quantile, mode, cov, cdist, renorm, trapezoid ...) against PyTorch, float64 gradchecks
without torch, special values and error cases."""
import math

import numpy as np
import pytest

import genesis
from oracle import check, rand, gradcheck, needs_torch, torch, DEVICE

FLOATS = ["float32", "float64"]


def L(t):
    """The library of tensor t (genesis or torch), to call module-level functions."""
    return torch if torch is not None and isinstance(t, torch.Tensor) else genesis


def ints(*shape, low=-9, high=10, seed=0):
    return np.random.default_rng(seed).integers(low, high, shape).astype("int64")


def G(a, **kw):
    return genesis.tensor(a, device=DEVICE, **kw)


# ---------------------------------------------------------------- unary
# name -> (fn, (low, high))
UNARY = {
    "deg2rad": (lambda a: a.deg2rad(), (-360, 360)),
    "rad2deg": (lambda a: a.rad2deg(), (-4, 4)),
    "erfc": (lambda a: a.erfc(), (-4, 6)),
    "logit": (lambda a: a.logit(), (0.05, 0.95)),
    "logit_eps": (lambda a: a.logit(eps=0.2), (0.0, 1.0)),
    "sinc": (lambda a: a.sinc(), (-3, 3)),
    "sgn": (lambda a: a.sgn(), (-2, 2)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_parity(name, dtype):
    fn, (lo, hi) = UNARY[name]
    check(fn, rand(3, 4, dtype=dtype, low=lo, high=hi), noncontig=True)


@pytest.mark.parametrize("name", sorted(set(UNARY) - {"sgn"}))
def test_unary_gradcheck(name):
    fn, (lo, hi) = UNARY[name]
    a = rand(5, dtype="float64", low=lo, high=hi, seed=3)
    if name == "logit_eps":       # keep away from the kinks at eps and 1 - eps
        a = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
    gradcheck(fn, a, second_order=True)


@pytest.mark.parametrize("name", ["deg2rad", "rad2deg", "erfc", "logit", "sinc", "sgn"])
def test_unary_int_input(name):
    check(UNARY[name][0], ints(6, low=0 if name == "logit" else -5, high=2), grad=False)


SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, 3.0, 5.5, 27.0, -27.0, np.inf, -np.inf,
                    np.nan])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["erfc", "sinc", "logit", "logit_eps", "deg2rad"])
def test_unary_special_values(name, dtype):
    check(UNARY[name][0], SPECIAL.astype(dtype))


@pytest.mark.parametrize("name,fn", [
    ("sinc", lambda a: a.sinc()),
    ("logit", lambda a: a.logit()),                 # NaN outside [0, 1]
    ("logit_eps", lambda a: a.logit(0.25)),         # 0 outside [eps, 1 - eps]
])
def test_unary_grad_special_points(name, fn):
    check(fn, np.array([0.0, 1.0, -0.5, 1.5, 0.25, 0.75, 0.5]))


def test_erfc_far_tail_accurate():
    x = np.array([4.0, 8.0, 15.0, 26.0])
    got = genesis.erfc(G(x)).cpu().numpy()
    want = [math.erfc(v) for v in x]
    np.testing.assert_allclose(got, want, rtol=1e-13)


# ---------------------------------------------------------------- binary
BINARY = {
    "fmax": (lambda a, b: L(a).fmax(a, b), (-2, 2)),
    "fmin": (lambda a, b: L(a).fmin(a, b), (-2, 2)),
    "hypot": (lambda a, b: a.hypot(b), (-3, 3)),
    "logaddexp": (lambda a, b: a.logaddexp(b), (-5, 5)),
    "logaddexp2": (lambda a, b: a.logaddexp2(b), (-5, 5)),
    "xlogy": (lambda a, b: L(a).xlogy(a, b), (0.1, 3)),
    "ldexp": (lambda a, b: a.ldexp(b), (-2, 2)),
    "copysign": (lambda a, b: a.copysign(b), (-2, 2)),
    "float_power": (lambda a, b: a.float_power(b), (0.2, 2)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_parity_broadcast(name, dtype):
    fn, (lo, hi) = BINARY[name]
    a = rand(3, 4, dtype=dtype, low=lo, high=hi, seed=1)
    b = rand(4, dtype=dtype, low=lo, high=hi, seed=2)
    check(fn, a, b)
    check(fn, b, a)
    check(fn, a, rand(4, 3, dtype=dtype, low=lo, high=hi, seed=5).T.copy(), noncontig=True)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradcheck(name):
    fn, (lo, hi) = BINARY[name]
    a = rand(2, 3, low=lo, high=hi, seed=3)
    b = rand(3, low=lo, high=hi, seed=4)
    if name in ("fmax", "fmin"):        # keep away from ties
        b = b + 0.05
    gradcheck(fn, a, b, second_order=True)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_mixed_dtypes(name):
    fn, (lo, hi) = BINARY[name]
    a = rand(5, dtype="float32", low=lo, high=hi, seed=1)
    check(fn, a, rand(5, dtype="float64", low=lo, high=hi, seed=2))
    if name not in ("hypot", "logaddexp", "logaddexp2"):     # torch: not for integers
        check(fn, a, ints(5, low=1, high=3), grad=False)
        check(fn, ints(5, low=1, high=3), ints(5, low=1, high=3, seed=1), grad=False)


NAN_INF = np.array([np.nan, 1.0, np.nan, -np.inf, np.inf, 0.0, -0.0, 2.0, np.inf, -np.inf])
NAN_INF2 = np.array([1.0, np.nan, np.nan, -np.inf, np.inf, -0.0, 0.0, 2.0, -np.inf, 1.0])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_special_values(name, dtype):
    fn = BINARY[name][0]
    check(fn, NAN_INF.astype(dtype), NAN_INF2.astype(dtype), grad=False)


@pytest.mark.parametrize("name", ["fmax", "fmin", "copysign", "xlogy", "logaddexp"])
def test_binary_grad_at_ties_and_zeros(name):
    a = np.array([1.0, 0.0, -0.0, 0.0, 2.0, -1.0])
    b = np.array([1.0, 0.0, 3.0, -2.0, np.nan, -1.0])
    check(BINARY[name][0], a, b)


@pytest.mark.parametrize("fn", [
    lambda a: L(a).xlogy(a, 2.5), lambda a: L(a).xlogy(3, a), lambda a: a.copysign(-1.0),
    lambda a: a.float_power(2), lambda a: L(a).float_power(2, a), lambda a: a.ldexp(a.long())])
def test_binary_with_scalars(fn):
    check(fn, rand(2, 3, dtype="float32", low=0.1, high=2))
    check(fn, ints(4, low=1, high=4), grad=False)


def test_hypot_no_overflow():
    x = G(np.array([1e300, 3e-300, 0.0]))
    np.testing.assert_allclose(genesis.hypot(x, x * 1).cpu().numpy(),
                               [math.hypot(v, v) for v in (1e300, 3e-300, 0.0)], rtol=1e-15)


# ---------------------------------------------------------------- integer and predicates
@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm(name):
    a = ints(4, 5, low=-30, high=30, seed=1)
    b = ints(5, low=-30, high=30, seed=2)
    a[0, :2] = 0
    b[1] = 0
    fn = lambda x, y: getattr(x, name)(y)
    check(fn, a, b)
    check(fn, a.astype("int32"), b.astype("int16"))
    check(lambda x, y: getattr(x.clone(), name + "_")(y), a, b)


@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm_reject_floats(name):
    with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
        getattr(genesis, name)(G([1.0]), G([2.0]))


@pytest.mark.parametrize("invert", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_isin(dtype, invert):
    a = ints(3, 4, low=0, high=8, seed=1).astype(dtype)
    t = ints(5, low=0, high=8, seed=2).astype(dtype)
    fn = lambda x, y: L(x).isin(x, y, invert=invert)
    check(fn, a, t, noncontig=True, grad=False)
    check(fn, a, t.reshape(5, 1), grad=False)           # any shape of test elements
    check(lambda x: L(x).isin(x, 3, invert=invert), a, grad=False)
    check(lambda y: L(y).isin(3, y, invert=invert), t, grad=False)
    check(fn, a, t[:0], grad=False)


def test_isin_nan_and_mixed_dtypes():
    check(lambda x, y: L(x).isin(x, y), np.array([np.nan, 1.0, 2.5]),
          np.array([np.nan, 2.5]), grad=False)
    check(lambda x, y: L(x).isin(x, y), ints(6, low=0, high=4),
          np.array([1.0, 2.5], "float32"), grad=False)


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_isreal(dtype):
    check(lambda a: a.isreal(), rand(2, 3).astype(dtype), grad=False)


@pytest.mark.parametrize("dtype", FLOATS)
def test_heaviside(dtype):
    a = np.array([-1.0, 0.0, -0.0, 2.0, np.inf, -np.inf, np.nan], dtype)
    check(lambda x, v: x.heaviside(v), a, np.array([0.5], dtype), grad=False)
    check(lambda x, v: x.heaviside(v), a, rand(7, dtype=dtype, seed=4), grad=False)
    check(lambda x, v: x.heaviside(v), ints(5, low=-1, high=2), ints(5), grad=False)


def test_heaviside_errors():
    with pytest.raises(RuntimeError, match="different dtypes"):
        genesis.heaviside(G([1.0]), G([1], dtype=genesis.int64))
    x = G([0.0, 1.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="heaviside"):
        genesis.heaviside(x, G([0.5])).sum().backward()


def test_nan_to_num_exists():
    check(lambda a: a.nan_to_num(posinf=5.0), NAN_INF)


# ---------------------------------------------------------------- in-place forms
INPLACE = [
    ("deg2rad_", ()), ("rad2deg_", ()), ("erfc_", ()), ("sinc_", ()), ("logit_", (0.1,)),
    ("hypot_", ("T",)), ("xlogy_", ("T",)), ("ldexp_", ("T",)),
    ("copysign_", ("T",)), ("renorm_", (2, 0, 0.5)), ("float_power_", (2.0,)),
]


@pytest.mark.parametrize("name,args", INPLACE)
def test_inplace(name, args):
    a = rand(3, 4, low=0.1, high=0.9, seed=1)
    b = rand(3, 4, low=0.1, high=0.9, seed=2)

    def fn(x, y):
        x = x * 1                        # a non-leaf, so that autograd records the change
        out = getattr(x, name)(*(y if v == "T" else v for v in args))
        assert out is x
        return x
    check(fn, a, b)


def test_sgn_inplace():
    check(lambda a: a.clone().sgn_(), np.array([-2.0, 0.0, 3.0, np.nan]), grad=False)


def test_inplace_errors():
    with pytest.raises(RuntimeError, match="result requires dtype Double"):
        G([1.0, 2.0]).float_power_(2)
    with pytest.raises(RuntimeError, match="can't be cast"):
        G([1, 2]).deg2rad_()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        G([0.5], requires_grad=True).erfc_()


def test_out_argument():
    out = genesis.empty(0, device=DEVICE)
    r = genesis.erfc(G([0.5, 1.0]), out=out)
    assert r is out and out.shape == (2,)
    np.testing.assert_allclose(out.cpu().numpy(), [math.erfc(0.5), math.erfc(1.0)],
                               rtol=1e-6)


@pytest.mark.parametrize("name", ["hypot", "logaddexp", "logaddexp2"])
def test_float_only_binary_reject_ints(name):
    with pytest.raises(NotImplementedError, match=f"{name}_cpu.*'Long'"):
        getattr(genesis, name)(G([1, 2]), G([3, 4]))
    if torch is not None:
        with pytest.raises(NotImplementedError):
            getattr(torch, name)(torch.tensor([1, 2]), torch.tensor([3, 4]))


@pytest.mark.parametrize("name", ["erfc", "sinc", "logit", "deg2rad"])
def test_unary_bool_input(name):
    check(UNARY[name][0], np.array([True, False]), grad=False)


def test_errors_binary():
    with pytest.raises(TypeError, match="must be Tensor"):
        genesis.logaddexp(G([1.0]), 2.0)
    with pytest.raises(TypeError, match="must be Tensor"):
        genesis.fmax(G([1.0]), 2.0)


# ---------------------------------------------------------------- quantile
INTERP = ["linear", "lower", "higher", "midpoint", "nearest"]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("interp", INTERP)
@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile(name, interp, dtype):
    a = rand(4, 7, dtype=dtype, seed=1)
    q = np.array([0.0, 0.25, 0.5, 0.9, 1.0], dtype)

    def fn(x, *, dim=None, keepdim=False, qv=0.3):
        return getattr(L(x), name)(x, qv, dim=dim, keepdim=keepdim, interpolation=interp)
    check(fn, a)
    check(lambda x: fn(x, dim=1), a, noncontig=True)
    check(lambda x: fn(x, dim=0, keepdim=True), a)
    check(lambda x: fn(x, keepdim=True), a)
    check(lambda x, qq: fn(x, dim=-1, qv=qq), a, q)
    check(lambda x, qq: fn(x, dim=0, keepdim=True, qv=qq), a, q)
    check(lambda x, qq: fn(x, qv=qq), a, q)
    check(lambda x: fn(x, dim=0), np.array(2.5, dtype))             # 0-dim


@pytest.mark.parametrize("interp", INTERP)
def test_quantile_nan(interp):
    a = rand(4, 6, seed=2)
    a[0, 1] = np.nan
    a[2, :] = np.nan
    a[3, ::2] = np.nan
    for name in ("quantile", "nanquantile"):
        fn = lambda x, n=name: getattr(L(x), n)(x, 0.4, dim=1, interpolation=interp)
        check(fn, a)
        # (over all elements torch's gradient picks a NaN by its unstable sort's order)
        check(lambda x, n=name: getattr(L(x), n)(x, 0.7, interpolation=interp), a,
              grad=name == "nanquantile")


def test_quantile_gradcheck():
    a = rand(3, 5, seed=3)
    q = genesis.tensor([0.1, 0.5, 0.8], dtype=genesis.float64, device=DEVICE)
    gradcheck(lambda x: genesis.quantile(x, q, dim=1), a)
    gradcheck(lambda x: genesis.nanquantile(x, 0.35, interpolation="midpoint"), a)


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: genesis.quantile(G([1, 2]), 0.5), RuntimeError, "float or double"),
    (lambda: genesis.quantile(G([1.0]), 1.5), RuntimeError, r"range \[0, 1\]"),
    (lambda: genesis.quantile(G([1.0]), G([0.5, 1.5])), RuntimeError, r"range \[0, 1\]"),
    (lambda: genesis.quantile(G([1.0]), G([[0.5]])), RuntimeError, "scalar or 1D"),
    (lambda: genesis.quantile(G([1.0]), G([0.5], dtype=genesis.float64)), RuntimeError,
     "same dtype"),
    (lambda: genesis.quantile(G([1.0]), 0.5, interpolation="cubic"), RuntimeError, "cubic"),
    (lambda: genesis.quantile(G([[1.0]]), 0.5, dim=2), IndexError, "range"),
])
def test_quantile_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


@needs_torch
@pytest.mark.parametrize("call", [
    lambda t, x: t.quantile(x([1, 2]), 0.5),
    lambda t, x: t.quantile(x([1.0]), 1.5),
    lambda t, x: t.quantile(x([1.0]), 0.5, interpolation="cubic"),
    lambda t, x: t.quantile(x([]), 0.5),
    lambda t, x: t.cov(x([[[1.0]]])),
    lambda t, x: t.cdist(x([1.0]), x([[1.0]])),
    lambda t, x: t.cdist(x([[1.0]]), x([[1.0, 2.0]])),
    lambda t, x: t.renorm(x([1.0]), 2, 0, 1.0),
    lambda t, x: t.gcd(x([1.0]), x([2.0])),
])
def test_error_types_match_torch(call):
    with pytest.raises(Exception) as te:
        call(torch, torch.tensor)
    with pytest.raises(type(te.value)):
        call(genesis, G)


# ---------------------------------------------------------------- mode
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_mode(dtype):
    for seed in range(3):
        a = ints(5, 9, low=0, high=4, seed=seed).astype(dtype)
        check(lambda x: x.mode(), a)
        check(lambda x: x.mode(0, keepdim=True), a, noncontig=True)
        check(lambda x: L(x).mode(x, dim=-1, keepdim=True), a)
    check(lambda x: x.mode(), np.array(3.0, dtype))
    check(lambda x: x.mode(0), ints(11, low=0, high=3, seed=7).astype(dtype))


# ---------------------------------------------------------------- cov / corrcoef
@pytest.mark.filterwarnings("ignore:cov")
@pytest.mark.parametrize("dtype", FLOATS)
def test_cov(dtype):
    a = rand(3, 6, dtype=dtype, seed=1)
    fw = ints(6, low=0, high=4, seed=2)
    aw = rand(6, dtype=dtype, low=0.1, high=2, seed=3)
    check(lambda x: x.cov(), a, noncontig=True)
    check(lambda x: x.cov(correction=0), a)
    check(lambda x: x.cov(), a[0])                      # 1-D: a 0-dim variance
    check(lambda x, w: x.cov(aweights=w), a, aw)
    check(lambda x: L(x).cov(x, fweights=L(x).tensor(fw, device=x.device), correction=2), a)
    check(lambda x, w: L(x).cov(x, fweights=L(x).tensor(fw, device=x.device), aweights=w), a, aw)
    check(lambda x: x.cov(), ints(2, 5), grad=False)
    check(lambda x: x.cov(correction=7), a)             # non-positive normaliser: inf


@pytest.mark.parametrize("dtype", FLOATS)
def test_corrcoef(dtype):
    check(lambda x: x.corrcoef(), rand(4, 5, dtype=dtype, seed=2), noncontig=True)
    check(lambda x: x.corrcoef(), rand(5, dtype=dtype, seed=2))


def test_cov_corrcoef_gradcheck():
    a = rand(3, 5, seed=4)
    gradcheck(lambda x: genesis.cov(x), a)
    gradcheck(lambda x, w: genesis.cov(x, aweights=w), a, rand(5, low=0.5, high=2, seed=5))
    gradcheck(lambda x: genesis.corrcoef(x), a)


@pytest.mark.parametrize("kw,msg", [
    ({"fweights": [1.0, 2.0]}, "fweights to have integral dtype"),
    ({"aweights": [1, 2]}, "aweights to have floating point dtype"),
    ({"fweights": [1, -2]}, "fweights cannot be negative"),
    ({"aweights": [1.0, 2.0, 3.0]}, "same numel"),
    ({"fweights": [[1, 2]]}, "one or fewer dimensions"),
])
def test_cov_errors(kw, msg):
    kw = {k: G(v) for k, v in kw.items()}
    with pytest.raises(RuntimeError, match=msg):
        genesis.cov(G([[1.0, 2.0], [3.0, 5.0]]), **kw)


# ---------------------------------------------------------------- cdist / dist / renorm
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [0.0, 1.0, 1.5, 2.0, 3.0, math.inf])
def test_cdist(p, dtype):
    a = rand(2, 4, 3, dtype=dtype, seed=1)
    b = rand(5, 3, dtype=dtype, seed=2)
    fn = lambda x, y: L(x).cdist(x, y, p=p)
    check(fn, a, b, noncontig=True)
    check(fn, a[0], a[0])                               # zero distances on the diagonal


def test_cdist_dist_gradcheck():
    a, b = rand(3, 2, seed=1), rand(4, 2, seed=2)
    for p in (1.5, 2.0, 3.0):
        gradcheck(lambda x, y: genesis.cdist(x, y, p=p), a, b)
        gradcheck(lambda x, y: genesis.dist(x, y, p=p), a, b[:3])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [1, 2, 3.5, math.inf, 0])
def test_dist(p, dtype):
    check(lambda x, y: x.dist(y, p), rand(3, 4, dtype=dtype, seed=1),
          rand(4, dtype=dtype, seed=2), grad=p != 0)   # (torch has no p=0 gradient)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p,dim,maxnorm", [(2, 0, 1.0), (1, 1, 0.5), (3, -1, 0.8),
                                           (math.inf, 1, 0.3), (2, 2, 1e3)])
def test_renorm(p, dim, maxnorm, dtype):
    check(lambda x: x.renorm(p, dim, maxnorm), rand(3, 4, 2, dtype=dtype, seed=3))


def test_renorm_gradcheck_and_errors():
    gradcheck(lambda x: genesis.renorm(x, 2, 1, 0.7), rand(3, 4, seed=3))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        genesis.renorm(G([1.0]), 2, 0, 1.0)
    with pytest.raises(RuntimeError, match="non-positive-norm"):
        genesis.renorm(G([[1.0]]), 0, 0, 1.0)
    with pytest.raises(RuntimeError, match="maxnorm to be >= 0"):
        genesis.renorm(G([[1.0]]), 2, 0, -1.0)


def test_cdist_errors():
    with pytest.raises(RuntimeError, match="at least 2D tensors, X1 got: 1D"):
        genesis.cdist(G([1.0]), G([[1.0]]))
    with pytest.raises(RuntimeError, match="same number of columns. X1: 1 X2: 2"):
        genesis.cdist(G([[1.0]]), G([[1.0, 2.0]]))
    with pytest.raises(RuntimeError, match="non-negative p"):
        genesis.cdist(G([[1.0]]), G([[1.0]]), p=-1)
    with pytest.raises(RuntimeError, match="floating-point dtypes"):
        genesis.cdist(G([[1]]), G([[1]]))


# ---------------------------------------------------------------- trapezoid
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["trapezoid", "trapz", "cumulative_trapezoid"])
def test_trapezoid(name, dtype):
    y = rand(3, 5, dtype=dtype, seed=1)
    x1 = np.sort(rand(5, dtype=dtype, seed=2))
    xy = np.sort(rand(3, 5, dtype=dtype, seed=3), axis=1)
    f = lambda t: getattr(L(t), name)
    check(lambda a: f(a)(a), y, noncontig=True)
    check(lambda a: f(a)(a, dx=0.5, dim=0), y)
    check(lambda a, b: f(a)(a, b), y, x1)
    check(lambda a, b: f(a)(a, b), y, xy, noncontig=True)
    check(lambda a, b: f(a)(a, b, dim=0), y, np.sort(rand(3, dtype=dtype, seed=4)))
    check(lambda a: f(a)(a[:, :1]), y)                  # one sample: zero
    check(lambda a: f(a)(a), ints(2, 4), grad=False)


def test_trapezoid_gradcheck():
    y, x = rand(2, 4, seed=1), np.sort(rand(4, seed=2))
    gradcheck(lambda a, b: genesis.trapezoid(a, b), y, x)
    gradcheck(lambda a, b: genesis.cumulative_trapezoid(a, b), y, x)
