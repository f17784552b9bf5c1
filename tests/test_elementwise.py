"""Every op of genesis/ops/elementwise.py: values, dtypes and gradients against PyTorch
(float32/float64, broadcasting, non-contiguous inputs), float64 gradchecks without torch,
integer semantics, Python operators and in-place forms with their errors."""
import operator

import numpy as np
import pytest

import genesis
from oracle import check, rand, gradcheck, needs_torch, torch, DEVICE

FLOATS = ["float32", "float64"]
R = np.random.default_rng(0)


def ints(*shape, low=-9, high=10, dtype="int64", seed=0):
    return np.random.default_rng(seed).integers(low, high, shape).astype(dtype)


def nonzero_ints(*shape, dtype="int64", seed=0):
    a = ints(*shape, dtype=dtype, seed=seed)
    a[a == 0] = 3
    return a


def away_from_int(*shape, seed=0, scale=3.0):
    """Floats that keep at least 0.05 from an integer (and from x.5 for round)."""
    a = rand(*shape, low=-scale, high=scale, seed=seed)
    f = a - np.floor(a)
    f = np.clip(f, 0.05, 0.95)
    f = np.where(np.abs(f - 0.5) < 0.05, 0.4, f)
    return np.floor(a) + f


def lib_of(t):
    return torch if torch is not None and isinstance(t, torch.Tensor) else genesis


# ---------------------------------------------------------------- unary ops
# name -> (fn(x), (low, high), second-order gradcheck)
UNARY = {
    "neg": (lambda x: x.neg(), (-2, 2), False),
    "negative": (lambda x: lib_of(x).negative(x), (-2, 2), False),
    "abs": (lambda x: x.abs(), (-2, 2), True),
    "sign": (lambda x: x.sign(), (-2, 2), False),
    "exp": (lambda x: x.exp(), (-2, 2), True),
    "exp2": (lambda x: x.exp2(), (-2, 2), True),
    "expm1": (lambda x: x.expm1(), (-2, 2), True),
    "log": (lambda x: x.log(), (0.1, 3), True),
    "log2": (lambda x: x.log2(), (0.1, 3), True),
    "log10": (lambda x: x.log10(), (0.1, 3), True),
    "log1p": (lambda x: x.log1p(), (-0.5, 3), True),
    "sqrt": (lambda x: x.sqrt(), (0.1, 3), True),
    "rsqrt": (lambda x: x.rsqrt(), (0.1, 3), True),
    "sin": (lambda x: x.sin(), (-3, 3), True),
    "cos": (lambda x: x.cos(), (-3, 3), True),
    "tan": (lambda x: x.tan(), (-1.2, 1.2), True),
    "tanh": (lambda x: x.tanh(), (-2, 2), True),
    "sinh": (lambda x: x.sinh(), (-2, 2), True),
    "cosh": (lambda x: x.cosh(), (-2, 2), True),
    "asin": (lambda x: x.asin(), (-0.9, 0.9), True),
    "acos": (lambda x: x.acos(), (-0.9, 0.9), True),
    "atan": (lambda x: x.atan(), (-2, 2), True),
    "arcsin": (lambda x: x.arcsin(), (-0.9, 0.9), False),
    "arccos": (lambda x: x.arccos(), (-0.9, 0.9), False),
    "arctan": (lambda x: x.arctan(), (-2, 2), False),
    "sigmoid": (lambda x: x.sigmoid(), (-3, 3), True),
    "relu": (lambda x: x.relu(), (-2, 2), True),
    "erf": (lambda x: x.erf(), (-2, 2), True),
    "erfinv": (lambda x: x.erfinv(), (-0.9, 0.9), True),
    "floor": (lambda x: x.floor(), (-3, 3), False),
    "ceil": (lambda x: x.ceil(), (-3, 3), False),
    "round": (lambda x: x.round(), (-3, 3), False),
    "round_decimals": (lambda x: x.round(decimals=2), (-3, 3), False),
    "round_neg_decimals": (lambda x: (x * 100).round(decimals=-1), (-3, 3), False),
    "trunc": (lambda x: x.trunc(), (-3, 3), False),
    "fix": (lambda x: x.fix(), (-3, 3), False),
    "frac": (lambda x: x.frac(), (-3, 3), True),
    "reciprocal": (lambda x: x.reciprocal(), (0.5, 2), True),
    "square": (lambda x: x.square(), (-2, 2), True),
    "pow_scalar": (lambda x: x ** 3, (-2, 2), True),
    "pow_half": (lambda x: x ** 0.5, (0.1, 2), True),
    "pow_neg": (lambda x: x.pow(-1.5), (0.1, 2), True),
    "pow_one": (lambda x: x ** 1, (-2, 2), True),
    "pow_zero": (lambda x: x ** 0, (-2, 2), False),
    "rpow": (lambda x: 2 ** x, (-2, 2), True),
    "rpow_float": (lambda x: 1.5 ** x, (-2, 2), True),
    "rsub": (lambda x: 2 - x, (-2, 2), False),
    "rdiv": (lambda x: 2 / x, (0.5, 2), True),
    "rmul": (lambda x: 2.5 * x, (-2, 2), False),
    "radd": (lambda x: 1 + x, (-2, 2), False),
    "positive": (lambda x: +x, (-2, 2), False),
    "clamp_both": (lambda x: x.clamp(-0.5, 0.5), (-1, 1), False),
    "clamp_min": (lambda x: x.clamp(min=-0.3), (-1, 1), False),
    "clamp_max": (lambda x: x.clamp(max=0.3), (-1, 1), False),
    "clip": (lambda x: x.clip(-0.5, 0.5), (-1, 1), False),
    "clamp_min_gt_max": (lambda x: x.clamp(0.5, -0.5), (-1, 1), False),
    "clamp_min_fn": (lambda x: x.clamp_min(0.2), (-1, 1), False),
    "clamp_max_fn": (lambda x: x.clamp_max(0.2), (-1, 1), False),
    "nan_to_num": (lambda x: x.nan_to_num(), (-1, 1), False),
    "fmod_scalar": (lambda x: x.fmod(0.7), (-3, 3), False),
    "remainder_scalar": (lambda x: x.remainder(0.7), (-3, 3), False),
    "rmod": (lambda x: 2.5 % x, (0.6, 2), False),
    "div_trunc_scalar": (lambda x: x.div(0.7, rounding_mode="trunc"), (-3, 3), False),
    "div_floor_scalar": (lambda x: x.div(0.7, rounding_mode="floor"), (-3, 3), False),
    "floordiv_op": (lambda x: x // 0.7, (-3, 3), False),
    "rfloordiv": (lambda x: 2.5 // x, (0.6, 2), False),
}

_SAFE = {"floor", "ceil", "round", "round_decimals", "round_neg_decimals", "trunc", "fix",
         "frac", "fmod_scalar", "remainder_scalar", "div_trunc_scalar", "div_floor_scalar",
         "floordiv_op"}


def _unary_input(name, dtype, shape=(3, 4), seed=0):
    fn, (lo, hi), _ = UNARY[name]
    if name in _SAFE:
        a = away_from_int(*shape, seed=seed) * (0.7 if "scalar" in name or "floordiv" in
                                                name else 1)
        if name == "round_decimals":
            a = away_from_int(*shape, seed=seed) / 100
        return a.astype(dtype)
    return rand(*shape, low=lo, high=hi, dtype=dtype, seed=seed)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_vs_torch(name, dtype):
    # torch has no derivative for floor_divide or remainder(scalar, tensor)
    grad = name not in ("rmod", "floordiv_op", "rfloordiv")
    check(UNARY[name][0], _unary_input(name, dtype), noncontig=True, grad=grad)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_gradcheck(name):
    fn, _, second = UNARY[name]
    gradcheck(fn, _unary_input(name, "float64", shape=(2, 3), seed=3), second_order=second)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "tanh", "sigmoid", "erf",
                                  "reciprocal", "rsqrt", "exp2", "log1p", "atan", "round",
                                  "abs", "neg", "square", "clamp_both", "clamp_min",
                                  "nan_to_num", "pow_scalar", "pow_half", "rpow", "rsub",
                                  "rdiv", "rmul", "fmod_scalar", "div_floor_scalar",
                                  "round_decimals", "frac", "relu", "erfinv"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_unary_low_precision(name, dtype):
    x = _unary_input(name, "float32")
    check(lambda t: UNARY[name][0](t.to(getattr(lib_of(t), dtype))), x, grad=False)


@pytest.mark.parametrize("name", ["add", "add_alpha", "sub_alpha", "mul", "div", "pow",
                                  "atan2", "maximum", "fmod", "remainder", "lerp_scalar",
                                  "where_tensors", "clamp_tensor_min"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_binary_low_precision(name, dtype):
    a, b = _binary_inputs(name, "float32", (3, 4), (4,))

    def fn(x, y):
        lib = lib_of(x)
        return BINARY[name][0](x.to(getattr(lib, dtype)), y.to(getattr(lib, dtype)))

    check(fn, a, b, grad=False)


def test_integer_alpha_must_be_integral():
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        genesis.tensor([1, 2]).add(genesis.tensor([1, 2]), alpha=0.5)
    assert genesis.tensor([1, 2]).sub(genesis.tensor([1, 1]), alpha=3).tolist() == [-2, -1]


# float functions of integer tensors give the default float dtype; the others keep ints
INT_INPUT = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin",
             "cos", "tan", "tanh", "sinh", "cosh", "asin", "acos", "atan", "sigmoid", "erf",
             "erfinv", "reciprocal", "neg", "abs", "sign", "square", "relu", "floor", "ceil",
             "round", "trunc", "pow_scalar", "pow_half", "rpow", "rpow_float", "rsub", "rmul",
             "clamp_both", "clamp_min", "clamp_int", "clamp_max_int", "nan_to_num", "frac_int"]


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("name", INT_INPUT)
def test_unary_integer_inputs(name, dtype):
    fn = UNARY[name][0] if name in UNARY else {
        "frac_int": lambda t: t.frac(), "clamp_int": lambda t: t.clamp(0, 2),
        "clamp_max_int": lambda t: t.clamp(max=1)}[name]
    if dtype == "bool":
        x = np.array([[True, False, True], [False, False, True]])
    else:
        x = ints(3, 4, low=0 if dtype == "uint8" else -3, high=4, dtype=dtype)
    _same_outcome(fn, x)


def _same_outcome(fn, arr, **kw):
    """fn on genesis and torch: the same values and dtype, or the same exception type."""
    if torch is None:
        pytest.skip("PyTorch is not installed")
    try:
        fn(torch.tensor(arr))
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        with pytest.raises(type(e)):
            fn(genesis.tensor(arr))
        return
    check(fn, arr, grad=False, **kw)


# ---------------------------------------------------------------- binary ops
# name -> (fn(a, b), domain of a, domain of b, second-order gradcheck)
BINARY = {
    "add": (lambda a, b: a + b, (-2, 2), (-2, 2), False),
    "add_alpha": (lambda a, b: lib_of(a).add(a, b, alpha=2.5), (-2, 2), (-2, 2), False),
    "sub": (lambda a, b: a - b, (-2, 2), (-2, 2), False),
    "sub_alpha": (lambda a, b: a.sub(b, alpha=-3), (-2, 2), (-2, 2), False),
    "subtract": (lambda a, b: a.subtract(b), (-2, 2), (-2, 2), False),
    "rsub": (lambda a, b: lib_of(a).rsub(a, b, alpha=2), (-2, 2), (-2, 2), False),
    "mul": (lambda a, b: a * b, (-2, 2), (-2, 2), True),
    "multiply": (lambda a, b: a.multiply(b), (-2, 2), (-2, 2), False),
    "div": (lambda a, b: a / b, (-2, 2), (0.5, 2), True),
    "divide": (lambda a, b: a.divide(b), (-2, 2), (0.5, 2), False),
    "true_divide": (lambda a, b: a.true_divide(b), (-2, 2), (0.5, 2), False),
    "pow": (lambda a, b: a ** b, (0.5, 2), (-2, 2), True),
    "pow_fn": (lambda a, b: lib_of(a).pow(a, b), (0.5, 2), (-2, 2), False),
    "atan2": (lambda a, b: lib_of(a).atan2(a, b), (-2, 2), (0.3, 2), True),
    "arctan2": (lambda a, b: a.arctan2(b), (-2, 2), (-2, -0.3), False),
    "maximum": (lambda a, b: lib_of(a).maximum(a, b), (-2, 2), (-2, 2), False),
    "minimum": (lambda a, b: a.minimum(b), (-2, 2), (-2, 2), False),
    "fmod": (lambda a, b: a.fmod(b), (-3, 3), (0.3, 1), False),
    "remainder": (lambda a, b: a.remainder(b), (-3, 3), (-1, -0.3), False),
    "mod_op": (lambda a, b: a % b, (-3, 3), (0.3, 1), False),
    "clamp_tensor_min": (lambda a, b: a.clamp(min=b), (-2, 2), (-1, 1), False),
    "clamp_tensor_max": (lambda a, b: lib_of(a).clamp(a, max=b), (-2, 2), (-1, 1), False),
    "clip_tensors": (lambda a, b: a.clip(b, b + 0.5), (-2, 2), (-1, 0), False),
    "lerp_scalar": (lambda a, b: a.lerp(b, 0.3), (-2, 2), (-2, 2), True),
    "lerp_big_weight": (lambda a, b: lib_of(a).lerp(a, b, 0.8), (-2, 2), (-2, 2), False),
    "hypot_like": (lambda a, b: (a * a + b * b).sqrt(), (-2, 2), (0.5, 2), True),
    "matmul_op": (lambda a, b: a @ b.transpose(-1, -2), (-2, 2), (-2, 2), True),
    "where_tensors": (lambda a, b: lib_of(a).where(a > 0, a, b), (-2, 2), (-2, 2), False),
    "where_method": (lambda a, b: a.where(b > 0, b), (-2, 2), (-2, 2), False),
}

# (shape of a, shape of b)
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1))]


def _binary_inputs(name, dtype, sa, sb, seed=0):
    _, (la, ha), (lb, hb), _ = BINARY[name]
    a = rand(*sa, low=la, high=ha, dtype=dtype, seed=seed)
    b = rand(*sb, low=lb, high=hb, dtype=dtype, seed=seed + 1)
    if name in ("fmod", "remainder", "mod_op"):    # keep a/b away from integers
        q = np.round(a / b)
        a = np.where(np.abs(a / b - q) < 0.05, (q + 0.3) * b, a).astype(dtype)
    return a, b


BINARY_CASES = [(n, s) for n in BINARY for s in SHAPES
                if n != "matmul_op" or s == SHAPES[0]]      # matmul: matching inner sizes


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name, shapes", BINARY_CASES,
                         ids=[f"{n}-{s[0]}x{s[1]}" for n, s in BINARY_CASES])
def test_binary_vs_torch(name, shapes, dtype):
    sa, sb = shapes
    a, b = _binary_inputs(name, dtype, sa, sb)
    check(BINARY[name][0], a, b, noncontig=True)


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_gradcheck(name):
    fn, _, _, second = BINARY[name]
    sb = (2, 3) if name == "matmul_op" else (3,)
    a, b = _binary_inputs(name, "float64", (2, 3), sb, seed=5)
    gradcheck(fn, a, b, second_order=second)


@pytest.mark.parametrize("fn", [
    lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a - b,
    lambda a, b: a ** b, lambda a, b: lib_of(a).maximum(a, b), lambda a, b: a < b,
    lambda a, b: lib_of(a).atan2(a, b), lambda a, b: a.fmod(b),
], ids=["add", "mul", "div", "sub", "pow", "maximum", "lt", "atan2", "fmod"])
@pytest.mark.parametrize("da, db", [("float32", "float64"), ("int64", "float32"),
                                    ("int32", "float64"), ("float16", "float32"),
                                    ("bfloat16", "float16"), ("uint8", "int8"),
                                    ("bool", "float32"), ("int64", "int32")])
def test_binary_mixed_dtypes(fn, da, db):
    a = rand(3, 4, low=1, high=3, seed=1)
    b = rand(4, low=1, high=2, seed=2)
    _same_outcome(lambda x: fn(x.to(getattr(lib_of(x), da)),
                               lib_of(x).tensor(b, device=x.device).to(
                                   getattr(lib_of(x), db))), a, rtol=1e-2, atol=1e-2)


# ---------------------------------------------------------------- three-input ops
TERNARY = {
    "lerp_tensor": (lambda a, b, w: a.lerp(b, w), (0, 1)),
    "lerp_fn": (lambda a, b, w: lib_of(a).lerp(a, b, w), (0.5, 1)),
    "addcmul": (lambda a, b, c: a.addcmul(b, c), (-2, 2)),
    "addcmul_value": (lambda a, b, c: lib_of(a).addcmul(a, b, c, value=-0.5), (-2, 2)),
    "addcdiv": (lambda a, b, c: a.addcdiv(b, c), (0.5, 2)),
    "addcdiv_value": (lambda a, b, c: a.addcdiv(b, c, value=2), (0.5, 2)),
    "clamp_tensors": (lambda a, b, c: a.clamp(b, c), (0, 1)),
    "clamp_min_gt_max": (lambda a, b, c: a.clamp(c, b - 1), (0, 1)),
    "where_broadcast": (lambda a, b, c: lib_of(a).where(c > 0.5, a, b), (0, 1)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(TERNARY))
def test_ternary_vs_torch(name, dtype):
    fn, (lo, hi) = TERNARY[name]
    a = rand(3, 4, dtype=dtype, low=-1, high=1)
    b = rand(4, dtype=dtype, low=-1, high=1, seed=1)
    c = rand(3, 1, dtype=dtype, low=lo, high=hi, seed=2)
    if name == "clamp_tensors":
        b, c = b - 0.7, (c * 0 + 0.3).astype(dtype)
    check(fn, a, b, c, noncontig=True)


@pytest.mark.parametrize("name", list(TERNARY))
def test_ternary_gradcheck(name):
    fn, (lo, hi) = TERNARY[name]
    a = rand(2, 3, low=-1, high=1, seed=7)
    b = rand(3, low=-1, high=1, seed=8)
    c = rand(2, 1, low=lo, high=hi, seed=9)
    if name == "clamp_tensors":
        b, c = b - 0.7, c * 0 + 0.3
    gradcheck(fn, a, b, c, second_order=name.startswith(("lerp", "addc")))


# ---------------------------------------------------------------- ties and special points
@needs_torch
@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_ties_split_gradient(op):
    a = np.array([1.0, 2.0, 3.0, -1.0])
    b = np.array([1.0, 0.0, 3.0, 5.0])
    check(lambda x, y: getattr(lib_of(x), op)(x, y), a, b)


@pytest.mark.parametrize("op, expected_a, expected_b", [
    ("maximum", [0.5, 1.0, 0.0], [0.5, 0.0, 1.0]),
    ("minimum", [0.5, 0.0, 1.0], [0.5, 1.0, 0.0]),
])
def test_maximum_minimum_tie_values(op, expected_a, expected_b):
    a = genesis.tensor([1.0, 2.0, -1.0], requires_grad=True)
    b = genesis.tensor([1.0, 0.0, 5.0], requires_grad=True)
    getattr(genesis, op)(a, b).sum().backward()
    assert a.grad.tolist() == expected_a and b.grad.tolist() == expected_b


@needs_torch
@pytest.mark.parametrize("fn", [
    lambda x: x.clamp(0.0, 1.0), lambda x: x.relu(), lambda x: x.abs(),
    lambda x: x.sqrt(), lambda x: x ** 2.0, lambda x: x ** 0.0, lambda x: x.clamp(min=0.0),
    lambda x: x.sign(), lambda x: x.floor(), lambda x: x ** 1.5,
], ids=["clamp", "relu", "abs", "sqrt", "pow2", "pow0", "clamp_min", "sign", "floor",
        "pow1.5"])
def test_gradients_at_kinks_match_torch(fn):
    # torch's conventions at non-differentiable points: relu'(0)=0, abs'(0)=0,
    # clamp passes the gradient at the boundary, ...
    check(fn, np.array([0.0, 1.0, -1.0, 2.0, 0.5]))


@needs_torch
@pytest.mark.parametrize("fn", [
    lambda a, b: a ** b, lambda a, b: lib_of(a).atan2(a, b), lambda a, b: a / b,
], ids=["pow", "atan2", "div"])
def test_binary_special_points(fn):
    a = np.array([0.0, 0.0, 2.0, 1.0, 0.0])
    b = np.array([2.0, 0.0, 0.0, 3.0, -1.0])
    check(fn, a, b)


# ---------------------------------------------------------------- integer semantics
INT_BINARY = {
    "div_none": lambda a, b: a / b,
    "div_trunc": lambda a, b: a.div(b, rounding_mode="trunc"),
    "div_floor": lambda a, b: lib_of(a).div(a, b, rounding_mode="floor"),
    "floor_divide": lambda a, b: a.floor_divide(b),
    "floordiv_op": lambda a, b: a // b,
    "fmod": lambda a, b: a.fmod(b),
    "remainder": lambda a, b: a.remainder(b),
    "mod_op": lambda a, b: a % b,
    "add": lambda a, b: a + b, "sub_alpha": lambda a, b: a.sub(b, alpha=2),
    "mul": lambda a, b: a * b, "pow": lambda a, b: a.abs() ** b.abs(),
    "maximum": lambda a, b: lib_of(a).maximum(a, b), "minimum": lambda a, b: a.minimum(b),
    "bitwise_and": lambda a, b: a & b, "bitwise_or": lambda a, b: a | b,
    "bitwise_xor": lambda a, b: a ^ b,
    "bitwise_and_fn": lambda a, b: lib_of(a).bitwise_and(a, b),
    "lshift": lambda a, b: a << b.abs(), "rshift": lambda a, b: a >> b.abs(),
    "lshift_fn": lambda a, b: a.bitwise_left_shift(b.abs()),
    "rshift_fn": lambda a, b: lib_of(a).bitwise_right_shift(a, b.abs()),
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
    "clamp": lambda a, b: a.clamp(min=b),
    "atan2": lambda a, b: lib_of(a).atan2(a, b),
}


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8"])
@pytest.mark.parametrize("name", list(INT_BINARY))
def test_integer_binary(name, dtype):
    low = 0 if dtype == "uint8" else -9
    a = ints(3, 4, low=low, high=10, dtype=dtype)
    b = nonzero_ints(4, dtype=dtype, seed=1) if dtype != "uint8" else \
        ints(4, low=1, high=4, dtype=dtype, seed=1)
    if name in ("pow",):
        b = np.abs(b) % 4
    if "shift" in name:
        b = np.abs(b) % 5
    check(INT_BINARY[name], a, b, grad=False)


@pytest.mark.parametrize("name", ["div_trunc", "div_floor", "fmod", "remainder",
                                  "floor_divide"])
@pytest.mark.parametrize("scalar", [3, -3, 2.5, -2.5])
def test_integer_with_scalars(name, scalar):
    a = ints(2, 5)
    fn = INT_BINARY[name]
    check(lambda x: fn(x, scalar) if name != "floor_divide" else x.floor_divide(scalar), a,
          grad=False)


@pytest.mark.parametrize("name", ["div_trunc", "div_floor", "fmod", "remainder",
                                  "floor_divide"])
def test_float_rounding_modes_negatives(name):
    a = np.array([-7.5, -7.0, -0.5, 0.5, 7.0, 7.5, 3.0])
    b = np.array([2.0, -2.0, 2.0, -2.0, 2.0, -2.0, 1.5])
    check(INT_BINARY[name], a, b, grad=name != "floor_divide")   # torch: no derivative


@pytest.mark.parametrize("name", ["div_trunc", "div_floor", "floor_divide", "fmod",
                                  "remainder"])
def test_integer_division_by_zero(name):
    a, b = genesis.tensor([1, 2]), genesis.tensor([1, 0])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        INT_BINARY[name](a, b)


@pytest.mark.parametrize("name", ["div_none", "div_trunc", "div_floor", "fmod", "remainder"])
def test_float_division_by_zero(name):
    check(INT_BINARY[name], np.array([1.0, -1.0, 0.0, 2.5]), np.array([0.0, 0.0, 0.0, -0.0]),
          grad=False)


def test_integer_negative_power():
    with pytest.raises(RuntimeError, match="negative integer powers"):
        genesis.tensor([1, 2]) ** -1
    # with tensor exponents torch computes them: 1 and -1 keep their power, others give 0
    x = genesis.tensor([0, 1, -1, 2, -2, 3, 0, -1])
    y = genesis.tensor([-1, -3, -3, -2, -1, -1, 0, -2])
    assert (x ** y).tolist() == [0, 1, -1, 0, 0, 0, 1, 1]
    assert (2 ** genesis.tensor([-1, 3])).tolist() == [0, 8]
    assert (x ** genesis.tensor(-1)).tolist() == [0, 1, -1, 0, 0, 0, 0, -1]
    check(lambda a, b: a ** b, x.numpy(), y.numpy(), grad=False)


@pytest.mark.parametrize("fn", [
    lambda a, b: a & b, lambda a, b: a | b, lambda a, b: a ^ b, lambda a, b: ~a,
    lambda a, b: a & True, lambda a, b: a | 0, lambda a, b: a ^ 1,
    lambda a, b: lib_of(a).logical_and(a, b), lambda a, b: lib_of(a).logical_or(a, b),
    lambda a, b: lib_of(a).logical_xor(a, b), lambda a, b: a.logical_not(),
    lambda a, b: a == b, lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a < b,
    lambda a, b: a + 1, lambda a, b: a * 2.5, lambda a, b: a / b,
    lambda a, b: lib_of(a).maximum(a, b), lambda a, b: a << b,
], ids=["and", "or", "xor", "invert", "and_scalar", "or_int", "xor_int", "logical_and",
        "logical_or", "logical_xor", "logical_not", "eq", "add", "mul", "lt", "add_int",
        "mul_float", "div", "maximum", "lshift"])
def test_bool_ops(fn):
    a = np.array([True, False, True, False])
    b = np.array([True, True, False, False])
    _same_outcome(lambda x: fn(x, lib_of(x).tensor(b, device=x.device)), a)


@pytest.mark.parametrize("fn", [
    lambda a: ~a, lambda a: a.bitwise_not(), lambda a: a ^ 5, lambda a: 5 & a,
    lambda a: 3 | a, lambda a: a.logical_not(), lambda a: lib_of(a).logical_and(a, a - 2),
    lambda a: a << 2, lambda a: a >> 1,
], ids=["invert", "bitwise_not", "xor_scalar", "rand", "ror", "logical_not",
        "logical_and", "lshift", "rshift"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int8"])
def test_integer_unary_bitwise(fn, dtype):
    check(fn, ints(3, 4, low=0, high=10, dtype=dtype), grad=False)


@pytest.mark.parametrize("fn, match", [
    (lambda: genesis.tensor([1.0]) & genesis.tensor([1.0]), "bitwise_and_cpu.*Float"),
    (lambda: genesis.tensor([1]) | 1.5, "bitwise_or_cpu.*Float"),
    (lambda: genesis.tensor([1.0]).bitwise_not(), "bitwise_not_cpu.*Float"),
    (lambda: genesis.tensor([True]) << genesis.tensor([True]), "lshift_cpu.*Bool"),
    (lambda: genesis.tensor([1.0], dtype=genesis.float64) >> 1, "rshift_cpu.*Double"),
    (lambda: genesis.tensor([1, 2]).frac(), "frac_cpu.*Long"),
    (lambda: genesis.tensor([True]).abs(), "abs_cpu.*Bool"),
    (lambda: -genesis.tensor([True]), "Negation"),
    (lambda: +genesis.tensor([True]), "bool tensor"),
    (lambda: genesis.tensor([True]).relu(), "Boolean inputs"),
    (lambda: genesis.tensor([True]) - genesis.tensor([True]), "two bool tensors"),
    (lambda: genesis.tensor([True]) - 1, "bool tensor"),
    (lambda: genesis.where(genesis.tensor([1, 0]), 1.0, 0.0), "boolean"),
    (lambda: genesis.clamp(genesis.tensor([1.0])), "At least one"),
    (lambda: genesis.tensor([1.0]).div(2, rounding_mode="round"), "rounding_mode"),
    (lambda: genesis.tensor([1, 2]).addcdiv(genesis.tensor([1]), genesis.tensor([2])),
     "Integer division"),
])
def test_errors(fn, match):
    with pytest.raises(RuntimeError, match=match):
        fn()


@needs_torch
@pytest.mark.parametrize("op", ["lt", "eq", "logical_and", "logical_xor", "bitwise_or"])
def test_comparison_shape_mismatch_is_runtime_error(op):
    for L in (torch, genesis):
        with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of "
                           r"tensor b \(2\) at non-singleton dimension 0"):
            getattr(L, op)(L.zeros(3, dtype=L.bool), L.ones(2, dtype=L.bool))


def test_invert_float_is_type_error():
    with pytest.raises(TypeError, match="invert"):
        ~genesis.tensor([1.0])


@needs_torch
@pytest.mark.parametrize("fn", [
    lambda L, b: b.clamp(L.tensor(False), L.tensor(True)), lambda L, b: b.clamp(False, True),
    lambda L, b: b.clamp(min=False), lambda L, b: b.clamp_max(True)])
def test_clamp_bool_not_implemented(fn):
    # only a promotion out of bool (or one tensor bound) makes clamp of a bool tensor work
    for L in (torch, genesis):
        with pytest.raises(NotImplementedError, match="clamp.*not implemented for 'Bool'"):
            fn(L, L.tensor([True, False]))
        assert fn(L, L.tensor([1, 0])).tolist() == fn(torch, torch.tensor([1, 0])).tolist()
    assert genesis.tensor([True, False]).clamp(min=genesis.tensor(True)).tolist() == [True, True]


@needs_torch
@pytest.mark.parametrize("base", ["scalar", "tensor"])
def test_pow_exponent_grad_at_zero_base_multiplies_upstream(base):
    # PyTorch: g * where(base == 0 & y >= 0, 0, out * log(base)), so an inf g gives nan
    grads = []
    for L in (torch, genesis):
        y = L.tensor([1.0, -1.0, 0.0, 2.0], dtype=L.float64, requires_grad=True)
        b = 0 if base == "scalar" else L.tensor([0.0, 0.0, 0.0, 2.0], dtype=L.float64)
        L.pow(b, y).backward(L.tensor([np.inf, np.inf, np.nan, np.inf], dtype=L.float64))
        grads.append(y.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


@needs_torch
@pytest.mark.parametrize("fn", [
    lambda L, a, b: L.relu(a), lambda L, a, b: L.maximum(a, b), lambda L, a, b: L.minimum(a, b),
    lambda L, a, b: L.maximum(b, a), lambda L, a, b: L.minimum(b, a)], ids=range(5))
def test_grad_at_nan_and_ties_matches_torch(fn):
    # PyTorch passes g through a NaN (to both operands of maximum/minimum), halves it at
    # ties and gives 0 only to a strict loser (relu: to x <= 0)
    grads = []
    for L in (torch, genesis):
        a = L.tensor([np.nan, 1.0, -1.0, 2.0, np.nan, 0.5, 0.0], requires_grad=True)
        b = L.tensor([0.0, np.nan, 1.0, 2.0, np.nan, 0.0, 0.0], requires_grad=True)
        fn(L, a, b).backward(L.ones(7))
        grads.append([t.grad.numpy() if t.grad is not None else None for t in (a, b)])
    for t, g in zip(*grads):
        assert (t is None) == (g is None)
        if t is not None:
            np.testing.assert_array_equal(g, t)


def test_pow_bool_not_implemented():
    b = genesis.tensor([True, False])
    with pytest.raises(NotImplementedError, match="Bool"):
        b ** b
    assert (b ** True).tolist() == [True, False] and (b ** False).tolist() == [True, True]


# ---------------------------------------------------------------- comparisons, nan/inf
CMP = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
       "gt": operator.gt, "ge": operator.ge}


@pytest.mark.parametrize("other", ["tensor", "broadcast", "int", "float", "zero_dim"])
@pytest.mark.parametrize("name", list(CMP) + ["eq_fn", "greater", "less_equal",
                                              "not_equal", "greater_equal", "less"])
def test_comparisons(name, other):
    a = np.round(rand(3, 4, seed=1) * 2) / 2
    b = {"tensor": np.round(rand(3, 4, seed=2) * 2) / 2, "broadcast": np.array([0.5, 0.0,
                                                                                   -0.5, 1.0]),
         "int": 0, "float": 0.5, "zero_dim": np.array(0.5)}[other]
    if name in CMP:
        fn = CMP[name]
    else:
        meth = {"eq_fn": "eq"}.get(name, name)
        fn = (lambda x, y: getattr(lib_of(x), meth)(x, y))
    for dt in ("float32", "int64"):
        aa = a.astype(dt) if dt == "float32" else (a * 2).astype(dt)
        check(fn, aa, b if not isinstance(b, np.ndarray) else b.astype("float64"),
              grad=False)


@pytest.mark.parametrize("fn", [
    lambda x: x.isnan(), lambda x: x.isinf(), lambda x: x.isfinite(),
    lambda x: x.isposinf(), lambda x: x.isneginf(), lambda x: x.signbit(),
    lambda x: x.nan_to_num(), lambda x: x.nan_to_num(nan=1.5, posinf=9.0, neginf=-9.0),
    lambda x: lib_of(x).nan_to_num(x, neginf=0.0),
], ids=["isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit", "nan_to_num",
        "nan_to_num_args", "nan_to_num_neginf"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64"])
def test_nan_inf(fn, dtype):
    x = np.array([np.nan, np.inf, -np.inf, 1.5, -0.0, 0.0, -2.0])
    if dtype == "int64":
        x = np.array([1, 0, -3])
    else:
        x = x.astype(dtype)
    check(fn, x, grad=dtype != "float16")


@needs_torch
def test_isclose_allclose_equal():
    a = np.array([1.0, 2.0, np.nan, 1e-9])
    b = np.array([1.0 + 1e-6, 2.1, np.nan, 0.0])
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.1}, {"atol": 0.0, "rtol": 0.0}):
        check(lambda x, y: lib_of(x).isclose(x, y, **kw), a, b, grad=False)
        assert genesis.allclose(genesis.tensor(a), genesis.tensor(b), **kw) == \
            torch.allclose(torch.tensor(a), torch.tensor(b), **kw)
    assert genesis.equal(genesis.tensor([1, 2]), genesis.tensor([1, 2]))
    assert not genesis.equal(genesis.tensor([1, 2]), genesis.tensor([1, 3]))
    assert not genesis.equal(genesis.tensor([1, 2]), genesis.tensor([[1, 2]]))



@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "uint8", "bool"])
def test_isclose_from_primitives_and_signbit(dtype):
    """The device paths of isclose and allclose (primitives only, run here on the CPU
    backend and on the test device) and signbit agree with NumPy."""
    from genesis.backend import cpu
    from genesis.ops.elementwise import _isclose
    if dtype[0] == "f":
        x = np.array([np.nan, np.inf, -np.inf, 1.0, -0.0, 0.0, -2.0, 1e-9, 3.0], dtype)
        y = np.array([np.nan, np.inf, np.inf, 1.0 + 1e-6, 0.0, -0.0, -2.1, 0.0, 3.1], dtype)
    elif dtype == "bool":
        x, y = np.array([False, True, True, False]), np.array([False, True, False, True])
    else:
        x = np.array([0, 1, 2, 3, 200, 7]).astype(dtype)
        y = np.array([0, 2, 2, 1, 199, 7]).astype(dtype)
    tx, ty = (genesis.tensor(v, device=DEVICE) for v in (x, y))
    for kw in ({"rtol": 1e-5, "atol": 1e-8, "equal_nan": False},
               {"rtol": 0.1, "atol": 0.0, "equal_nan": True},
               {"rtol": 0.0, "atol": 1.0, "equal_nan": False}):
        want = np.isclose(x, y, **kw)
        np.testing.assert_array_equal(_isclose(cpu, x, y, **kw), want)
        np.testing.assert_array_equal(genesis.isclose(tx, ty, **kw).cpu().numpy(), want)
        assert genesis.allclose(tx, ty, **kw) == bool(want.all())
        assert genesis.allclose(tx, tx, **kw) == (kw["equal_nan"] or dtype[0] != "f")
    np.testing.assert_array_equal(tx.signbit().cpu().numpy(), np.signbit(x))
    assert genesis.equal(tx, tx.clone()) == (dtype[0] != "f") and not genesis.equal(tx, ty)


# ---------------------------------------------------------------- where
@pytest.mark.parametrize("fn", [
    lambda c, a: lib_of(a).where(c > 0, a, 0.0),
    lambda c, a: lib_of(a).where(c > 0, 1.0, a),
    lambda c, a: lib_of(a).where(c > 0, 2, -1) * a,
    lambda c, a: lib_of(a).where(c > 0, 2.5, -1) * a,
    lambda c, a: lib_of(a).where(c > 0, a, c),
    lambda c, a: a.where(c > 0, 0),
], ids=["tensor_scalar", "scalar_tensor", "scalars_int", "scalars_float", "tensors",
        "method_scalar"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_where(fn, dtype):
    check(fn, rand(3, 1, dtype=dtype, seed=1), rand(3, 4, dtype=dtype), noncontig=True)


@needs_torch
def test_where_mixed_dtypes_and_nonzero_form():
    c = np.array([True, False, True])

    def on(x, v, **kw):         # a tensor of x's library on x's device
        return lib_of(x).tensor(v, device=x.device, **kw)
    check(lambda x: lib_of(x).where(on(x, c), x, 2), np.array([1, 2, 3]), grad=False)
    check(lambda x: lib_of(x).where(on(x, c), x, 2.5), np.array([1, 2, 3]), grad=False)
    check(lambda x: lib_of(x).where(on(x, c), x, on(x, [1.0, 2.0, 3.0],
                                                    dtype=lib_of(x).float64)),
          np.array([1.0, 2.0, 3.0], dtype=np.float32))


# ---------------------------------------------------------------- out=
@needs_torch
@pytest.mark.parametrize("fn", [
    lambda lib, x, o: lib.add(x, 1, out=o), lambda lib, x, o: lib.exp(x, out=o),
    lambda lib, x, o: lib.clamp(x, 0, 0.5, out=o), lambda lib, x, o: lib.mul(x, x, out=o),
    lambda lib, x, o: lib.div(x, 2, rounding_mode="floor", out=o),
], ids=["add", "exp", "clamp", "mul", "div_floor"])
def test_out_argument(fn):
    x = rand(3, 4)
    res = []
    for lib in (genesis, torch):
        o = lib.empty(3, 4, dtype=lib.float64)
        r = fn(lib, lib.tensor(x), o)
        assert r is o
        res.append(np.array(o.tolist()))
    np.testing.assert_allclose(res[0], res[1])


# ---------------------------------------------------------------- in-place forms
INPLACE = {
    "add_": lambda x: x.add_(2), "add_alpha_": lambda x: x.add_(x.detach() * 0 + 1, alpha=3),
    "sub_": lambda x: x.sub_(0.5), "mul_": lambda x: x.mul_(3), "div_": lambda x: x.div_(4),
    "div_floor_": lambda x: x.div_(0.3, rounding_mode="floor"),
    "pow_": lambda x: x.abs_().pow_(2), "clamp_": lambda x: x.clamp_(-0.5, 0.5),
    "clamp_min_": lambda x: x.clamp_min_(0.1), "clip_": lambda x: x.clip_(max=0.2),
    "exp_": lambda x: x.exp_(), "neg_": lambda x: x.neg_(), "abs_": lambda x: x.abs_(),
    "sigmoid_": lambda x: x.sigmoid_(), "tanh_": lambda x: x.tanh_(),
    "sqrt_": lambda x: x.abs_().sqrt_(), "relu_": lambda x: x.relu_(),
    "floor_": lambda x: x.floor_(), "round_": lambda x: x.round_(),
    "round_decimals_": lambda x: x.round_(decimals=1), "reciprocal_": lambda x: x.reciprocal_(),
    "zero_": lambda x: x.zero_(), "fill_": lambda x: x.fill_(1.5),
    "fill_tensor_": lambda x: x.fill_(x.detach().sum() * 0 + 2),
    "copy_": lambda x: x.copy_(x.detach() * 0 + 7), "iadd": lambda x: x.__iadd__(1),
    "isub": lambda x: x.__isub__(1), "imul": lambda x: x.__imul__(2),
    "itruediv": lambda x: x.__itruediv__(2), "ipow": lambda x: x.__ipow__(2),
    "imod": lambda x: x.__imod__(0.3), "ifloordiv": lambda x: x.__ifloordiv__(0.3),
    "lerp_": lambda x: x.lerp_(x.detach() * 0 + 1, 0.25),
    "addcmul_": lambda x: x.addcmul_(x.detach(), x.detach(), value=2),
    "nan_to_num_": lambda x: x.nan_to_num_(), "square_": lambda x: x.square_(),
    "fmod_": lambda x: x.fmod_(0.3), "remainder_": lambda x: x.remainder_(0.3),
    "sign_": lambda x: x.sign_(), "frac_": lambda x: x.frac_(), "trunc_": lambda x: x.trunc_(),
    "erf_": lambda x: x.erf_(), "atan2_": lambda x: x.atan2_(x.detach() * 0 + 1),
}


@needs_torch
@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_values_and_version(name):
    fn = INPLACE[name]
    x = rand(3, 4, seed=4)
    g, t = genesis.tensor(x), torch.tensor(x)
    v0 = g._version
    rg, rt = fn(g), fn(t)
    assert rg is g
    assert g._version > v0
    np.testing.assert_allclose(np.array(g.tolist()), t.numpy(), rtol=1e-7, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("name", [n for n in INPLACE
                                  if n not in ("zero_", "fill_", "ifloordiv")])
def test_inplace_gradients_through_graph(name):
    fn = INPLACE[name]

    def run(lib, x):
        y = x * 1.0           # not a leaf: in-place is allowed and recorded
        fn(y)
        return y

    check(lambda x: run(lib_of(x), x), rand(3, 4, seed=4))


@needs_torch
@pytest.mark.parametrize("name", ["add_", "exp_", "clamp_", "mul_", "copy_"])
def test_inplace_on_a_view_updates_base(name):
    fn = INPLACE[name]

    def run(lib, x):
        y = x * 1.0
        fn(y.transpose(0, 1))
        return y

    check(lambda x: run(lib_of(x), x), rand(3, 4, seed=4))


@pytest.mark.parametrize("name", ["add_", "exp_", "mul_", "clamp_", "zero_", "fill_",
                                  "copy_", "iadd", "sigmoid_"])
def test_inplace_on_leaf_requiring_grad_raises(name):
    x = genesis.tensor(rand(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being "
                                           "used in an in-place operation"):
        INPLACE[name](x)
    with genesis.no_grad():
        INPLACE[name](x)                   # allowed without grad mode


@pytest.mark.parametrize("fn, src, dst", [
    (lambda x: x.add_(1.5), "Float", "Long"), (lambda x: x.mul_(0.5), "Float", "Long"),
    (lambda x: x.div_(2), "Float", "Long"), (lambda x: x.exp_(), "Float", "Long"),
    (lambda x: x.__iadd__(genesis.tensor([1.0, 2.0])), "Float", "Long"),
    (lambda x: x.sqrt_(), "Float", "Long"),
])
def test_inplace_cast_errors(fn, src, dst):
    with pytest.raises(RuntimeError, match=f"result type {src} can't be cast to the desired "
                                           f"output type {dst}"):
        fn(genesis.tensor([1, 2]))


@needs_torch
@pytest.mark.parametrize("fn", [
    lambda x: x.add_(1.5), lambda x: x.mul_(0.5), lambda x: x.exp_(), lambda x: x.div_(2),
    lambda x: x.add_(2), lambda x: x.mul_(3), lambda x: x.__ifloordiv__(2),
    lambda x: x.clamp_(0, 1), lambda x: x.clamp_(0.5, 1), lambda x: x.bitwise_and_(3),
    lambda x: x.__ior__(1), lambda x: x.fill_(2.7), lambda x: x.copy_(x.float() * 1.7),
    lambda x: x.neg_(), lambda x: x.abs_(), lambda x: x.pow_(2), lambda x: x.__imod__(3),
], ids=["add_f", "mul_f", "exp_", "div_", "add_i", "mul_i", "ifloordiv", "clamp_i",
        "clamp_f", "and_", "ior", "fill_f", "copy_f", "neg_", "abs_", "pow_", "imod"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_inplace_integer_tensors_match_torch(fn, dtype):
    x = ints(2, 3, low=0, high=5, dtype=dtype)
    g, t = genesis.tensor(x), torch.tensor(x)
    try:
        fn(t)
    except RuntimeError as e:
        msg = str(e).split(" but got")[0]
        with pytest.raises(RuntimeError, match="can't be cast"):
            fn(g)
        assert "can't be cast" in msg
        return
    fn(g)
    assert g.tolist() == t.tolist()
    assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]


@needs_torch
def test_inplace_broadcast_and_shape_errors():
    x = genesis.ones(3, 4)
    x.add_(genesis.tensor([1.0, 2.0, 3.0, 4.0]))
    assert x.tolist()[2] == [2.0, 3.0, 4.0, 5.0]
    with pytest.raises(RuntimeError, match=r"output with shape \[4\] doesn't match the "
                                           r"broadcast shape \[3, 4\]"):
        genesis.ones(4).add_(genesis.ones(3, 4))     # out shape must not change
    y = genesis.ones(4, requires_grad=True) * 1.0
    with pytest.raises(RuntimeError, match="broadcast shape"):
        y.mul_(genesis.ones(3, 4))
    with pytest.raises(RuntimeError, match="size"):
        genesis.ones(3, 4).copy_(genesis.ones(3))


def test_inplace_saved_tensor_modified_raises():
    x = genesis.tensor(rand(3), requires_grad=True)
    y = x * 1.0
    z = y.exp()              # saves its output
    z.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_copy_and_fill_dtypes():
    x = genesis.zeros(3, dtype=genesis.int32)
    x.copy_(genesis.tensor([1.7, -2.2, 3.9]))
    assert x.tolist() == [1, -2, 3] and x.dtype is genesis.int32
    x.fill_(5)
    assert x.tolist() == [5, 5, 5]
    with pytest.raises(RuntimeError, match="0-dimension"):
        x.fill_(genesis.tensor([1, 2]))
    b = genesis.zeros(2, dtype=genesis.bool)
    b.fill_(1)
    assert b.tolist() == [True, True]


# ---------------------------------------------------------------- Python operators
OPERATORS = {
    "add": lambda x: x + 2, "radd": lambda x: 2 + x, "sub": lambda x: x - 2,
    "rsub": lambda x: 2 - x, "mul": lambda x: x * 3, "rmul": lambda x: 3 * x,
    "truediv": lambda x: x / 4, "rtruediv": lambda x: 2 / x, "floordiv": lambda x: x // 2,
    "rfloordiv": lambda x: 7 // x, "mod": lambda x: x % 3, "rmod": lambda x: 7 % x,
    "pow": lambda x: x ** 2, "rpow": lambda x: 2 ** x, "neg": lambda x: -x,
    "pos": lambda x: +x, "abs": lambda x: abs(x), "matmul": lambda x: x @ x.transpose(0, 1),
    "rsub_float": lambda x: 2.5 - x, "rtruediv_float": lambda x: 2.5 / x,
    "np_scalar": lambda x: x * np.float64(2.0), "np_scalar_r": lambda x: np.float32(2.0) + x,
    "np_int": lambda x: np.int64(3) * x,
}


@pytest.mark.parametrize("name", list(OPERATORS))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
def test_python_operators(name, dtype):
    if dtype.startswith("int"):
        x = nonzero_ints(3, 3, dtype=dtype)
        if name == "rpow" or name == "pow":
            x = np.abs(x)
        check(OPERATORS[name], x, grad=False)
    else:
        x = rand(3, 3, dtype=dtype, low=0.5, high=2)
        # torch has no derivative for floor_divide or remainder(scalar, tensor)
        check(OPERATORS[name], x, grad=name not in ("floordiv", "rfloordiv", "rmod"))


def test_operators_with_unsupported_types():
    x = genesis.tensor([1.0])
    with pytest.raises(TypeError):
        x + "a"
    with pytest.raises(TypeError):
        x * [object()]
    assert (x == "a") is False and (x != "a") is True


@needs_torch
def test_int_tensor_true_divide_and_float_functions():
    check(lambda x: x.exp(), np.array([1, 2, 3]), grad=False)
    check(lambda x: x / 2, np.array([1, 2, 3]), grad=False)
    check(lambda x: x.sqrt(), np.array([1, 4, 9], dtype=np.int32), grad=False)
    check(lambda x: x.sigmoid(), np.array([True, False]), grad=False)


def test_scalar_tensor_values_without_torch():
    x = genesis.tensor([-7, -2, 3, 7])
    assert x.div(2, rounding_mode="trunc").tolist() == [-3, -1, 1, 3]
    assert x.div(2, rounding_mode="floor").tolist() == [-4, -1, 1, 3]
    assert x.fmod(3).tolist() == [-1, -2, 0, 1]
    assert x.remainder(3).tolist() == [2, 1, 0, 1]
    assert (x / 2).dtype is genesis.float32
    assert genesis.tensor([1, 2]).exp().dtype is genesis.float32
    assert genesis.tensor([0.5, 1.5, 2.5, -0.5]).round().tolist() == [0.0, 2.0, 2.0, -0.0]


# ---------------------------------------------------------------- regressions from review
# an int scalar out of an integral tensor's range is cast (wrapped) to its dtype, as torch
WRAPPED_SCALARS = [
    ("uint8", lambda x: x + -1), ("uint8", lambda x: x - 300), ("uint8", lambda x: -1 - x),
    ("uint8", lambda x: 300 - x), ("uint8", lambda x: x * -1), ("uint8", lambda x: -1 * x),
    ("uint8", lambda x: x // 300), ("uint8", lambda x: x % 300), ("uint8", lambda x: x & 300),
    ("uint8", lambda x: 300 // x), ("int8", lambda x: -200 % x),
    ("uint8", lambda x: 300 | x), ("uint8", lambda x: x == 259), ("uint8", lambda x: x > -1),
    ("uint8", lambda x: x + (2 ** 64 - 1)), ("int8", lambda x: x + 200),
    ("int8", lambda x: 200 + x), ("int16", lambda x: x - 70000),
    ("int32", lambda x: x + 2 ** 40), ("int32", lambda x: x * 2 ** 40),
    ("int64", lambda x: x + 2 ** 63), ("uint8", lambda x: x.add_(-1)),
    ("int8", lambda x: x.__iadd__(200)), ("uint8", lambda x: x.mul_(-1)),
    ("uint8", lambda x: x.add(300)), ("int32", lambda x: x.remainder(-2 ** 40 + 3)),
]


@pytest.mark.parametrize("dtype,fn", WRAPPED_SCALARS)
def test_out_of_range_int_scalar_wraps_like_torch(dtype, fn):
    check(fn, ints(2, 3, low=1, high=9, dtype=dtype), grad=False)


@needs_torch
@pytest.mark.parametrize("fn,exc,msg", [
    (lambda L, x: x.pow(300), RuntimeError, "value cannot be converted to type uint8_t"),
    (lambda L, x: L.where(x > 2, x, 300), RuntimeError, "converted to type uint8_t"),
    (lambda L, x: L.where(x > 2, -256, x), RuntimeError, "converted to type uint8_t"),
    (lambda L, x: x.pow(-1), RuntimeError, "negative integer powers"),   # not 255
    (lambda L, x: x + 2 ** 64, OverflowError, None),      # beyond 64 bits both raise
])
def test_out_of_range_int_scalar_errors(fn, exc, msg):
    for L in (genesis, torch):
        with pytest.raises(exc, match=msg):
            fn(L, L.tensor([1, 2, 3], dtype=L.uint8))


# ops keep only the operands their backward reads: changing another in place is fine
NOT_SAVED = {
    "mul_scalar": lambda L, b: b * 2, "rmul_scalar": lambda L, b: 2 * b,
    "mul_const": lambda L, b: b * L.tensor([1.0, 2.0, 3.0]),
    "rmul_const": lambda L, b: L.tensor([1.0, 2.0, 3.0]) * b,
    "div_scalar": lambda L, b: b / 2, "div_const": lambda L, b: b / L.tensor([1.0, 2.0, 4.0]),
    "rdiv_one": lambda L, b: 1 / b, "rdiv": lambda L, b: 2.5 / b,
    "fmod": lambda L, b: b.fmod(2.0), "remainder_const": lambda L, b: b % L.tensor(0.7),
}


@needs_torch
@pytest.mark.parametrize("name", list(NOT_SAVED))
def test_operand_not_needed_by_backward_may_change_in_place(name):
    grads = []
    for L in (genesis, torch):
        x = L.tensor([0.5, 1.5, 3.0], dtype=L.float64, requires_grad=True)
        b = x * 1
        y = NOT_SAVED[name](L, b)
        b.add_(1)
        (y * L.tensor([1.0, -2.0, 3.0], dtype=L.float64)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(*grads, rtol=1e-12)


@pytest.mark.parametrize("fn", [
    lambda b, c: b * c, lambda b, c: c * b, lambda b, c: c / b, lambda b, c: c ** b,
    lambda b, c: b ** c, lambda b, c: c.fmod(b), lambda b, c: b.mul(c),
], ids=["mul", "rmul", "div_by", "pow_exp", "pow_base", "fmod_by", "mul_method"])
def test_operand_needed_by_backward_still_checked(fn):
    x = genesis.tensor([0.5, 1.5, 3.0], requires_grad=True)
    c = genesis.tensor([1.0, 2.0, 0.5], requires_grad=True)
    b = x * 1
    y = fn(b, c)
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_both_operands_need_grad_mul_double_backward():
    gradcheck(lambda a, b: a * b, rand(3), rand(3, seed=1), second_order=True)
    gradcheck(lambda a, b: a / b, rand(3), rand(3, seed=1, low=1, high=2), second_order=True)
    gradcheck(lambda a: 2.5 / a, rand(3, low=1, high=2), second_order=True)


@pytest.mark.parametrize("fn", [lambda x, c: x / c, lambda x, c: x ** c,
                                lambda x, c: c ** x, lambda x, c: x.fmod(c),
                                lambda x, c: c.remainder(x), lambda x, c: x * c])
def test_graph_keeps_no_reference_to_unneeded_inputs(fn):
    import gc
    import weakref
    x = genesis.tensor([1.0, 2.0], requires_grad=True)
    c = genesis.tensor([0.5, 3.0])
    y = fn(x, c)
    y.sum().backward()
    ref = weakref.ref(c)
    del c
    gc.collect()
    assert y.grad_fn is not None and ref() is None


@needs_torch
def test_sign_of_nan_is_zero():
    x = np.array([np.nan, -0.0, 0.0, -2.5, 3.0, np.inf, -np.inf])
    for dt in ("float32", "float64", "float16"):
        check(lambda t: t.sign(), x.astype(dt), grad=False)
        check(lambda t: t.clone().sign_(), x.astype(dt), grad=False)
    check(lambda t: t.sign(), np.array([True, False]), grad=False)
    check(lambda t: t.sign(), np.array([-3, 0, 4], dtype=np.int16), grad=False)


@needs_torch
@pytest.mark.parametrize("fn,msg", [
    (lambda x, y: x // y, '"div_floor_cpu" not implemented for \'Bool\''),
    (lambda x, y: x % y, '"remainder_cpu" not implemented for \'Bool\''),
    (lambda x, y: x // True, "div_floor_cpu"), (lambda x, y: x % False, "remainder_cpu"),
    (lambda x, y: x.fmod(y), '"fmod_cpu" not implemented for \'Bool\''),
    (lambda x, y: x.div(y, rounding_mode="trunc"), "div_trunc_cpu"),
    (lambda x, y: x.__ifloordiv__(y), "div_floor_cpu"),
])
def test_bool_floor_divide_and_remainder_not_implemented(fn, msg):
    for L in (genesis, torch):
        with pytest.raises(NotImplementedError, match=msg):
            fn(L.tensor([True, False]), L.tensor([True, True]))
    check(lambda x: x // 2, np.array([True, False]), grad=False)    # bool with int works
    check(lambda x: x % 2, np.array([True, False]), grad=False)


@needs_torch
@pytest.mark.parametrize("fn,exc,msg", [
    (lambda L: L.isclose(L.tensor([1]), L.tensor([1.0])), RuntimeError,
     "Long did not match Float"),
    (lambda L: L.isclose(L.tensor([1.0]), L.tensor([1.0], dtype=L.float64)), RuntimeError,
     "Float did not match Double"),
    (lambda L: L.allclose(L.tensor([1.0]), L.tensor([1])), RuntimeError,
     "Float did not match Long"),
    (lambda L: L.isclose(L.tensor([1.0]), 1.0), TypeError, "must be Tensor, not float"),
    (lambda L: L.round(L.tensor([15, 25]), decimals=-1), NotImplementedError,
     '"round_cpu" not implemented for \'Long\''),
    (lambda L: L.tensor([15]).round(decimals=2), NotImplementedError, "round_cpu"),
    (lambda L: L.tensor([True]).round(decimals=1), NotImplementedError, "'Bool'"),
])
def test_dtype_errors_as_torch(fn, exc, msg):
    for L in (genesis, torch):
        with pytest.raises(exc, match=msg):
            fn(L)


@needs_torch
def test_isclose_same_dtype_ints_and_round_int_without_decimals():
    check(lambda x, y: lib_of(x).isclose(x, y), np.array([1, 2, 3]), np.array([1, 5, 3]),
          grad=False)
    check(lambda x: lib_of(x).round(x), np.array([15, -25]), grad=False)


@needs_torch
@pytest.mark.parametrize("dtype,v", [("uint8", -1), ("uint8", -255), ("uint8", 255),
                                     ("int8", -128), ("int8", 127)])
def test_where_scalar_at_range_edges(dtype, v):
    check(lambda x: lib_of(x).where(x > 2, v, x), ints(4, low=0, high=6, dtype=dtype),
          grad=False)


# ---------------------------------------------------------------- fuzzer regressions
def _libs():
    return (genesis,) if torch is None else (genesis, torch)


@pytest.mark.parametrize("name", ["sigmoid", "rsqrt"])
@pytest.mark.parametrize("dtype", FLOATS + ["float16"])
def test_zero_dim_sigmoid_and_rsqrt(name, dtype):
    # NumPy gives a scalar for a 0-d input, which the backend then used as out=
    expect = {"sigmoid": 1 / (1 + np.exp(-2.0)), "rsqrt": 2.0 ** -0.5}[name]
    x = genesis.tensor(2.0, dtype=getattr(genesis, dtype), requires_grad=dtype != "float16")
    y = getattr(x, name)()
    assert y.shape == () and y.dtype == x.dtype
    np.testing.assert_allclose(y.item(), expect, rtol=1e-3 if dtype == "float16" else 1e-6)
    z = genesis.tensor(2.0, dtype=getattr(genesis, dtype))
    assert getattr(z, name + "_")() is z
    np.testing.assert_allclose(z.item(), expect, rtol=1e-3 if dtype == "float16" else 1e-6)
    if dtype != "float16":
        check(lambda t: getattr(t, name)(), np.array(2.0, dtype))


# fn, input, gradient through fn(x).reciprocal(): the upstream gradient is -inf wherever
# fn(x) is 0, and a zero (or masked) gradient must stay exactly 0, not inf * 0 = nan
ZERO_GRADS = {
    "floor": (lambda x: x.floor(), [0.5, 2.0], [0.0, 0.0]),
    "ceil": (lambda x: x.ceil(), [-0.5, 2.0], [0.0, 0.0]),
    "round": (lambda x: x.round(), [0.25, 2.0], [0.0, 0.0]),
    "trunc": (lambda x: x.trunc(), [0.5, 2.0], [0.0, 0.0]),
    "sign": (lambda x: x.sign(), [0.0, 2.0], [0.0, 0.0]),
    "div_trunc": (lambda x: x.div(4.0, rounding_mode="trunc"), [0.5, 5.0], [0.0, 0.0]),
    "pow0": (lambda x: (x - 1).pow(0) - 1, [0.5, 2.0], [0.0, 0.0]),
    "zero_": (lambda x: (x * 1).zero_(), [0.5, 2.0], [0.0, 0.0]),
    "fill_": (lambda x: (x * 1).fill_(0.0), [0.5, 2.0], [0.0, 0.0]),
    "copy_": (lambda x: (x * 1).copy_(x.detach() * 0), [0.5, 2.0], [0.0, 0.0]),
    "relu": (lambda x: x.relu(), [0.0, 1.0], [0.0, -1.0]),
    "clamp": (lambda x: x.clamp(0, 1), [-1.0, 0.5, 2.0], [0.0, -4.0, 0.0]),
    "clamp_min_": (lambda x: (x * 1).clamp_min_(0), [-1.0, 2.0], [0.0, -0.25]),
    "clamp_max": (lambda x: x.clamp(max=0), [3.0, -1.0], [0.0, -1.0]),
}


@pytest.mark.parametrize("name", list(ZERO_GRADS))
@pytest.mark.parametrize("dtype", FLOATS)
def test_zero_gradient_stays_zero_under_inf_upstream(name, dtype):
    fn, x, expect = ZERO_GRADS[name]
    for L in _libs():
        a = L.tensor(x, dtype=getattr(L, dtype), requires_grad=True)
        fn(a).reciprocal().sum().backward()
        assert a.grad.tolist() == expect, (L.__name__, a.grad.tolist())


@pytest.mark.parametrize("fn,exc,msg", [
    (lambda L: L.tensor([3]).lerp(L.tensor([4]), 0.5), NotImplementedError,
     '"lerp_kernel_scalar" not implemented for \'Long\''),
    (lambda L: L.tensor([3]).lerp(L.tensor([4]), L.tensor([1])), NotImplementedError,
     '"lerp_kernel_tensor" not implemented for \'Long\''),
    (lambda L: L.tensor([True]).lerp(L.tensor([True]), 0.5), NotImplementedError, "'Bool'"),
    (lambda L: L.tensor([3.0]).lerp(L.tensor([4.0], dtype=L.float64), 0.5), RuntimeError,
     "expected dtype float for `end` but got dtype double"),
    (lambda L: L.tensor([3]).lerp(L.tensor([4.0]), 0.5), RuntimeError,
     "expected dtype long int for `end` but got dtype float"),
    (lambda L: L.tensor([3.0]).lerp(L.tensor([4.0]), L.tensor([0.5], dtype=L.float64)),
     RuntimeError, "expected dtype float for `weight` but got dtype double"),
    (lambda L: L.tensor([3.0]).lerp_(L.tensor([4.0], dtype=L.float16), 0.5), RuntimeError,
     "expected dtype float for `end` but got dtype c10::Half"),
    (lambda L: L.addcmul(L.tensor([True]), L.tensor([True]), L.tensor([False])),
     NotImplementedError, '"addcmul_cpu_out" not implemented for \'Bool\''),
    (lambda L: L.tensor([True]).addcmul_(L.tensor([True]), L.tensor([False])),
     NotImplementedError, "addcmul_cpu_out"),
    (lambda L: L.addcmul(L.tensor([1], dtype=L.int8), L.tensor([1], dtype=L.int8),
                         L.tensor([1], dtype=L.int8), value=300), RuntimeError,
     "value cannot be converted to type int8_t without overflow"),
    (lambda L: L.addcmul(L.tensor([1]), L.tensor([1]), L.tensor([1]), value=float("nan")),
     RuntimeError, "value cannot be converted to type int64_t without overflow"),
    (lambda L: L.zeros(2).sub_(True), RuntimeError, "Subtraction, the `-` operator, with a "
     "bool tensor is not supported"),
    (lambda L: L.zeros(2).sub_(L.tensor([True, False])), RuntimeError, "with a bool tensor"),
    (lambda L: L.zeros(2, dtype=L.float64).sub_(L.tensor(True)), RuntimeError,
     "with a bool tensor"),
])
def test_dtype_rules_of_lerp_addcmul_sub_as_torch(fn, exc, msg):
    for L in _libs():
        with pytest.raises(exc, match=msg):
            fn(L)


@pytest.mark.parametrize("dtype,value,expect", [
    ("int64", 0.5, [1, 2]), ("int64", 1.7, [4, 6]), ("int64", -1.7, [-2, -2]),
    ("int64", True, [4, 6]), ("int64", 2, [7, 10]), ("int8", 2.5, [7, 10]),
    ("uint8", -1, [254, 254]), ("int32", 0.9, [1, 2]),
])
def test_integer_addcmul_casts_value_to_the_dtype(dtype, value, expect):
    # torch casts value to an integral result dtype (truncating) instead of promoting
    for L in _libs():
        d = getattr(L, dtype)
        a, b, c = L.tensor([1, 2], dtype=d), L.tensor([3, 4], dtype=d), L.tensor([1, 1], dtype=d)
        r = L.addcmul(a, b, c, value=value)
        assert r.tolist() == expect and r.dtype == d, L.__name__
        assert a.addcmul_(b, c, value=value).tolist() == expect and a.dtype == d
    # a float operand makes the result float and keeps value as it is
    check(lambda a, b, c: lib_of(a).addcmul(a, b, c, value=0.5), np.array([1, 2]),
          np.array([3.0, 4.0], np.float32), np.array([1, 1]), grad=False)
    check(lambda a, b, c: lib_of(a).addcmul(a, b, c, value=0.5), np.array([True, False]),
          np.array([3, 4]), np.array([1, 1]), grad=False)
