"""genesis.testing.assert_close raises exactly when torch.testing.assert_close does, with
the same exception type and a message that names the mismatch. Each row runs on genesis
always and on torch when it is installed (to keep the expectations honest)."""
import re

import numpy as np
import pytest

import genesis
from oracle import torch

nan, inf = float("nan"), float("inf")


def T(values, dtype=None):
    """A tensor of the library under test (bound later)."""
    return lambda L: L.tensor(values, dtype=None if dtype is None else getattr(L, dtype))


def _build(x, L):
    if callable(x):
        return x(L)
    if isinstance(x, list):
        return [_build(v, L) for v in x]
    if isinstance(x, tuple):
        return tuple(_build(v, L) for v in x)
    if isinstance(x, dict):
        return {k: _build(v, L) for k, v in x.items()}
    return x


# (id, actual, expected, kwargs, exception raised or None, regex of the message)
CASES = [
    ("equal", T([1., 2.]), T([1., 2.]), {}, None, None),
    ("f32_within", T([1., 2.]), T([1., 2.00001]), {}, None, None),
    ("f32_outside", T([1., 2.]), T([1., 2.0001]), {}, AssertionError,
     r"Tensor-likes are not close!\n\nMismatched elements: 1 / 2 \(50\.0%\)\n"
     r"Greatest absolute difference: 9\.98\d*e-05 at index \(1,\) \(up to 1e-05 allowed\)\n"
     r"Greatest relative difference: .* at index \(1,\) \(up to 1\.3e-06 allowed\)"),
    ("f64_within", T([1., 2.], "float64"), T([1., 2.0000000001], "float64"), {}, None, None),
    ("f64_outside", T([1., 2.], "float64"), T([1., 2.000001], "float64"), {}, AssertionError,
     r"up to 1e-07 allowed"),
    ("f16_within", T([1., 2.], "float16"), T([1., 2.002], "float16"), {}, None, None),
    ("f16_outside", T([1., 2.], "float16"), T([1., 2.01], "float16"), {}, AssertionError,
     r"up to 0\.001 allowed"),
    ("bf16_within", T([1., 2.], "bfloat16"), T([1., 2.01], "bfloat16"), {}, None, None),
    ("bf16_outside", T([1., 2.], "bfloat16"), T([1., 2.05], "bfloat16"), {}, AssertionError,
     r"Greatest absolute difference: 0\.046875"),
    ("int_equal", T([1, 2]), T([1, 2]), {}, None, None),
    ("int_exact", T([1, 2]), T([1, 3]), {}, AssertionError,
     r"Tensor-likes are not equal!(.|\n)*\nGreatest absolute difference: 1 at index \(1,\)\n"),
    ("bool_mismatch", T([True, False]), T([True, True]), {}, AssertionError,
     r"not equal!\n\nMismatched elements: 1 / 2"),
    ("dtype_mismatch", T([1., 2.]), T([1., 2.], "float64"), {}, AssertionError,
     r"The values for attribute 'dtype' do not match: \w+\.float32 != \w+\.float64\."),
    ("dtype_unchecked", T([1., 2.]), T([1., 2.], "float64"), {"check_dtype": False}, None, None),
    ("int_dtype_mismatch", T([1, 2], "int32"), T([1, 2]), {}, AssertionError, r"int32 != .*int64"),
    ("int_float_unchecked", T([1, 2]), T([1., 2.]), {"check_dtype": False}, None, None),
    ("mixed_dtypes_loosest_tol", T([1., 2.], "float16"), T([1., 2.0015], "float64"),
     {"check_dtype": False}, None, None),
    ("shape_mismatch", T([1., 2.]), T([[1., 2.]]), {}, AssertionError,
     r"The values for attribute 'shape' do not match: \w+\.Size\(\[2\]\) != "
     r"\w+\.Size\(\[1, 2\]\)\."),
    ("shape_before_dtype", T([1., 2.]), T([1.], "float64"), {}, AssertionError, r"'shape'"),
    ("nan_default", T([1., nan]), T([1., nan]), {}, AssertionError,
     r"Greatest absolute difference: nan at index \(1,\)"),
    ("nan_equal_nan", T([1., nan]), T([1., nan]), {"equal_nan": True}, None, None),
    ("nan_vs_number", T([1., nan]), T([1., 2.]), {"equal_nan": True}, AssertionError,
     r"Mismatched elements: 1 / 2"),
    ("inf_equal", T([1., inf]), T([1., inf]), {}, None, None),
    ("inf_opposite", T([1., inf]), T([1., -inf]), {}, AssertionError,
     r"Greatest absolute difference: inf"),
    ("inf_vs_big", T([inf]), T([3e38]), {}, AssertionError, r"Mismatched elements: 1 / 1"),
    ("rtol_given_pass", T([1., 2.]), T([1., 2.5]), {"rtol": 0.3, "atol": 0}, None, None),
    ("rtol_given_fail", T([1., 2.]), T([1., 2.5]), {"rtol": 0.1, "atol": 0}, AssertionError,
     r"Greatest absolute difference: 0\.5 at index \(1,\) \(up to 0 allowed\)\n"
     r"Greatest relative difference: 0\.2\d* at index \(1,\) \(up to 0\.1 allowed\)"),
    ("atol_given_pass", T([1., 2.]), T([1., 2.5]), {"rtol": 0, "atol": 0.5}, None, None),
    ("zero_tol_equality", T([1., 2.]), T([1., 2.000001]), {"rtol": 0, "atol": 0},
     AssertionError, r"Tensor-likes are not equal!"),
    ("rtol_only", T([1., 2.]), T([1., 2.]), {"rtol": 0.1}, ValueError,
     r"Both 'rtol' and 'atol' must be either specified or omitted, but got no atol\."),
    ("atol_only", T([1., 2.]), T([1., 2.]), {"atol": 0.1}, ValueError, r"got no rtol\."),
    ("atol_near_zero", T([1e-6]), T([0.]), {}, None, None),
    ("atol_exceeded_at_zero", T([1e-4]), T([0.]), {}, AssertionError,
     r"Greatest relative difference: inf"),
    ("2d_index", T([[1., 2.], [3., 4.]]), T([[1., 2.], [3., 5.]]), {}, AssertionError,
     r"Mismatched elements: 1 / 4 \(25\.0%\)\nGreatest absolute difference: 1\.0 at index "
     r"\(1, 1\)"),
    ("0d", T(1.0), T(1.5), {}, AssertionError,
     r"^Scalars are not close!\n\nExpected 1\.5 but got 1\.0\.\nAbsolute difference: 0\.5 "
     r"\(up to 1e-05 allowed\)\nRelative difference: 0\.333\d* \(up to 1\.3e-06 allowed\)$"),
    ("0d_int", T(1), T(3), {}, AssertionError,
     r"^Scalars are not equal!\n\nExpected 3 but got 1\.\nAbsolute difference: 2\n"),
    ("empty", T([]), T([]), {}, None, None),
    ("msg_str", T([1.]), T([2.]), {"msg": "custom text"}, AssertionError, r"^custom text$"),
    ("msg_callable", T([1.]), T([2.]), {"msg": lambda m: "wrapped: " + m.splitlines()[0]},
     AssertionError, r"^wrapped: Tensor-likes are not close!$"),
    # Python numbers
    ("float_equal", 1.0, 1.0, {}, None, None),
    ("float_within", 1.0, 1.0000001, {}, None, None),
    ("float_outside", 1.0, 1.001, {}, AssertionError,
     r"Scalars are not close!\n\nExpected 1\.001 but got 1\.0\.\nAbsolute difference: "
     r"0\.000999\d* \(up to 1e-07 allowed\)\nRelative difference: .* \(up to 1e-07 allowed\)"),
    ("int_scalars", 1, 2, {}, AssertionError,
     r"Scalars are not equal!\n\nExpected 2 but got 1\.\nAbsolute difference: 1\n"
     r"Relative difference: 0\.5"),
    ("int_vs_float", 1, 1.0, {}, AssertionError,
     r"The \(d\)types do not match: <class 'int'> != <class 'float'>\."),
    ("int_vs_float_unchecked", 1, 1.0, {"check_dtype": False}, None, None),
    ("scalar_nan", nan, nan, {}, AssertionError, r"Scalars are not close"),
    ("scalar_nan_equal", nan, nan, {"equal_nan": True}, None, None),
    ("bools", True, False, {}, AssertionError, r"Booleans mismatch: True is not False"),
    ("none", None, None, {}, None, None),
    ("none_vs_number", None, 1, {}, AssertionError, r"None mismatch"),
    # sequences and mappings
    ("lists", [1., 2.], [1., 2.], {}, None, None),
    ("list_vs_tuple", [1., 2.], (1., 2.), {}, None, None),
    ("list_item", [1., 2.], [1., 2.1], {}, AssertionError,
     r"Expected 2\.1 but got 2\.0\.(.|\n)*The failure occurred for item \[1\]$"),
    ("list_length", [1., 2.], [1., 2., 3.], {}, AssertionError,
     r"The length of the sequences mismatch: 2 != 3"),
    ("nested", [T([1.]), (T([2.]), 3)], [T([1.]), (T([2.5]), 3)], {}, AssertionError,
     r"The failure occurred for item \[1\]\[0\]$"),
    ("dict_equal", {"a": T([1.]), "b": 2}, {"a": T([1.]), "b": 2}, {}, None, None),
    ("dict_keys", {"a": 1.0}, {"b": 1.0}, {}, AssertionError,
     r"The keys of the mappings do not match:\nMissing keys in the actual mapping: \['b'\]\n"
     r"Additional keys in the actual mapping: \['a'\]"),
    ("dict_value", {"w": T([1.])}, {"w": T([2.])}, {}, AssertionError,
     r"The failure occurred for item \['w'\]$"),
    # NumPy arrays pair with NumPy arrays only
    ("ndarrays", np.array([1., 2.]), np.array([1., 2.]), {}, None, None),
    ("ndarrays_mismatch", np.array([1., 2.]), np.array([1., 2.1]), {}, AssertionError,
     r"up to 1e-07 allowed"),
    ("ndarray_dtypes", np.array([1., 2.], np.float32), np.array([1., 2.]), {}, AssertionError,
     r"'dtype'"),
    # inputs that no pair handles
    ("tensor_vs_list", T([1., 2.]), [1., 2.], {}, TypeError,
     r"No comparison pair was able to handle inputs of type <class '.*'> and "
     r"<class 'list'>\."),
    ("tensor_vs_float", T(3.0), 3.0, {}, TypeError, r"No comparison pair"),
    ("tensor_vs_ndarray", T([1.]), np.array([1.], np.float32), {}, TypeError,
     r"No comparison pair"),
    ("strings", "a", "a", {}, TypeError, r"No comparison pair"),
]


def _params():
    return [pytest.param(*c[1:], id=c[0]) for c in CASES]


def _run(L, actual, expected, kwargs):
    L.testing.assert_close(_build(actual, L), _build(expected, L), **kwargs)


@pytest.mark.parametrize("actual,expected,kwargs,exc,pattern", _params())
def test_assert_close(actual, expected, kwargs, exc, pattern):
    if exc is None:
        _run(genesis, actual, expected, kwargs)
        return
    with pytest.raises(exc) as info:
        _run(genesis, actual, expected, kwargs)
    assert type(info.value) is exc
    assert re.search(pattern, str(info.value)), \
        f"message {str(info.value)!r} does not match {pattern!r}"


@pytest.mark.parametrize("actual,expected,kwargs,exc,pattern", _params())
def test_torch_agrees(actual, expected, kwargs, exc, pattern):
    """torch.testing.assert_close raises the same type (and message) on the same inputs."""
    if torch is None:
        pytest.skip("PyTorch is not installed")
    if exc is None:
        _run(torch, actual, expected, kwargs)
        return
    with pytest.raises(exc) as info:
        _run(torch, actual, expected, kwargs)
    assert type(info.value) is exc
    assert re.search(pattern, str(info.value)), \
        f"torch's message {str(info.value)!r} does not match {pattern!r}"


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("scale", [0.3, 0.9, 1.1, 3.0])
def test_default_tolerance_edges(dtype, scale):
    """Around the default tolerance of each dtype, genesis and torch decide alike."""
    if torch is None:
        pytest.skip("PyTorch is not installed")
    rtol, atol = {"float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7),
                  "float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5)}[dtype]
    base = np.array([0.0, 1.0, -3.0, 100.0])
    actual = base + scale * (atol + rtol * np.abs(base)) * np.array([1, -1, 1, -1])
    outcomes = []
    for L in (genesis, torch):
        a = L.tensor(actual).to(getattr(L, dtype))
        e = L.tensor(base).to(getattr(L, dtype))
        try:
            L.testing.assert_close(a, e)
            outcomes.append("close")
        except AssertionError as err:
            outcomes.append(str(err).splitlines()[2])    # the mismatched-elements line
    assert outcomes[0] == outcomes[1]


def test_message_names_the_values_like_torch():
    """The whole message equals torch's, the library prefix aside."""
    if torch is None:
        pytest.skip("PyTorch is not installed")
    cases = [([1., 2., 3.], [1., 2.5, 3.1], {}), ([[1, 2], [3, 4]], [[1, 2], [3, 7]], {}),
             ([1., 2.], [1.1, 2.], {"rtol": 0.01, "atol": 0.01})]
    for a, e, kw in cases:
        msgs = []
        for L in (genesis, torch):
            with pytest.raises(AssertionError) as info:
                L.testing.assert_close(L.tensor(a), L.tensor(e), **kw)
            msgs.append(str(info.value).replace("genesis.", "torch."))
        assert msgs[0] == msgs[1]
