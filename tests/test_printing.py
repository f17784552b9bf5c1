"""repr/str of tensors against PyTorch's, for a table of tensors and print options."""
import math
import re

import numpy as np
import pytest

import genesis
from genesis._tensor_str import set_printoptions, get_printoptions, printoptions
from oracle import needs_torch, torch

NAN, INF = math.nan, math.inf
R = np.random.default_rng(0)

# name -> (values, dtype name or None to keep the array's own dtype)
CASES = {
    "floats": ([1.0, 2.0, 3.0], "float32"),
    "fractions": ([0.5, -1.25, 3.14159], "float32"),
    "ints": ([1, 2, 3], "int64"),
    "negative_ints": ([-100, 5, 12345], "int64"),
    "big_ints": ([10 ** 12, -3], "int64"),
    "bools": ([True, False], "bool"),
    "all_true": ([True, True], "bool"),
    "scalar": (3.5, "float32"),
    "scalar_int": (7, "int64"),
    "scalar_bool": (True, "bool"),
    "scalar_nan": (NAN, "float32"),
    "scalar_neg_zero": (-0.0, "float32"),
    "big_ratio": ([1e10, 1.0], "float32"),
    "huge_int_floats": ([1e9, 2e9], "float32"),
    "tiny": ([1e-5, 2e-5], "float32"),
    "tiny_and_one": ([1e-5, 1.0], "float64"),
    "ratio_just_below": ([1.0, 999.0], "float32"),
    "ratio_above": ([0.5, 600.5], "float32"),
    "nan_inf": ([NAN, INF, -INF, 1.5], "float32"),
    "nan_inf_ints": ([NAN, INF, -INF, 2.0], "float32"),
    "only_nonfinite": ([NAN, INF], "float32"),
    "zeros": ([0.0, 0.0], "float32"),
    "neg_zero": ([-0.0, 1.0], "float32"),
    "rounding_to_zero": ([-0.00004, 1.0], "float32"),
    "randn_2d": (R.standard_normal((4, 5)), "float32"),
    "randn_wide": (R.standard_normal((3, 15)) * 10, "float32"),
    "long_vector": (np.arange(40) * 1.5, "float32"),
    "int_matrix": ([[1, -20, 300], [4, 5, 6]], "int64"),
    "3d": (R.standard_normal((2, 3, 4)), "float32"),
    "4d": (np.arange(16.0).reshape(2, 2, 2, 2), "float32"),
    "summarized_1d": (np.arange(2000), "int64"),
    "summarized_float": (np.linspace(0, 1, 1001), "float32"),
    "summarized_2d": (R.standard_normal((50, 50)), "float32"),
    "summarized_3d": (np.arange(2 * 30 * 30).reshape(2, 30, 30), "int64"),
    "summarized_edge_values": (np.r_[1e-3, np.ones(1500), 5e4], "float32"),
    "float64": ([1.5, 2.5], "float64"),
    "float16": ([1.5, -2.0, 65504.0], "float16"),
    "float16_frac": ([0.1, 0.2, 0.3], "float16"),
    "bfloat16": ([1.5, 3.1415, -100.0], "bfloat16"),
    "int32": ([1, 2, -3], "int32"),
    "uint8": ([0, 255, 7], "uint8"),
    "int8": ([-128, 127], "int8"),
    "int16": ([[1, 2], [3, 4]], "int16"),
    "empty": ([], "float32"),
    "empty_int": ([], "int64"),
    "empty_2d": (np.zeros((0, 3)), "float32"),
    "empty_3d": (np.zeros((2, 0, 3)), "float64"),
    "empty_bool_2d": (np.zeros((0, 2)), "bool"),
}


def _make(lib, values, dtype):
    arr = np.asarray(values, dtype=np.float64 if dtype == "bfloat16" else dtype)
    t = lib.tensor(arr)
    return t.to(lib.bfloat16) if dtype == "bfloat16" else t


def _torch_repr(t):
    # genesis prints the node's name() without torch's overload digit
    return re.sub(r"Backward\d*>", "Backward>", repr(t).replace("torch", "genesis"))


@pytest.fixture(autouse=True)
def _restore_options():
    yield
    set_printoptions(profile="default")
    genesis.set_default_dtype(genesis.float32)
    if torch is not None:
        torch.set_printoptions(profile="default")
        torch.set_default_dtype(torch.float32)


def _set_both(**kw):
    set_printoptions(**kw)
    torch.set_printoptions(**kw)


@needs_torch
@pytest.mark.parametrize("name", list(CASES))
def test_repr_matches_torch(name):
    values, dtype = CASES[name]
    g, t = _make(genesis, values, dtype), _make(torch, values, dtype)
    assert repr(g) == _torch_repr(t)
    assert str(g) == repr(g)


@needs_torch
def test_noncontiguous_and_views():
    a = R.standard_normal((3, 4))
    g, t = genesis.tensor(a).transpose(0, 1), torch.tensor(a).transpose(0, 1)
    assert repr(g) == _torch_repr(t)
    b = R.standard_normal((2, 3, 1))
    g, t = genesis.tensor(b).permute(2, 0, 1), torch.tensor(b).permute(2, 0, 1)
    assert repr(g.expand(4, 2, 3)) == _torch_repr(t.expand(4, 2, 3))


@needs_torch
@pytest.mark.parametrize("opts", [
    dict(precision=2), dict(precision=8), dict(threshold=5), dict(edgeitems=1, threshold=10),
    dict(linewidth=30), dict(sci_mode=True), dict(sci_mode=False), dict(profile="short"),
    dict(profile="full"), dict(edgeitems=0, threshold=3),
])
@pytest.mark.parametrize("name", ["fractions", "big_ratio", "randn_wide", "long_vector",
                                  "3d", "summarized_2d", "nan_inf_ints", "zeros", "ints"])
def test_printoptions_match_torch(opts, name):
    _set_both(**opts)
    values, dtype = CASES[name]
    assert repr(_make(genesis, values, dtype)) == _torch_repr(_make(torch, values, dtype))


@needs_torch
@pytest.mark.parametrize("build", [
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True),
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True) * 2,
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True) + 1,
    lambda lib: lib.tensor(2.0, requires_grad=True).exp(),
    lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True),
    lambda lib: lib.tensor(np.arange(60.0).reshape(3, 20), requires_grad=True).sigmoid(),
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True).detach(),
], ids=["leaf", "mul", "add", "exp0d", "float64_leaf", "wrapped_suffix", "detached"])
def test_autograd_suffixes(build):
    assert repr(build(genesis)) == _torch_repr(build(torch))


@needs_torch
@pytest.mark.parametrize("name", ["floats", "ints", "float64", "float16", "empty",
                                  "empty_int", "scalar"])
def test_default_dtype_float64(name):
    genesis.set_default_dtype(genesis.float64)
    torch.set_default_dtype(torch.float64)
    values, dtype = CASES[name]
    assert repr(_make(genesis, values, dtype)) == _torch_repr(_make(torch, values, dtype))


# ---- without torch: the documented shapes of a few reprs
@pytest.mark.parametrize("make, expected", [
    (lambda: genesis.tensor([1.0, 2.0, 3.0]), "tensor([1., 2., 3.])"),
    (lambda: genesis.tensor([1, 2, 3]), "tensor([1, 2, 3])"),
    (lambda: genesis.tensor([True, False]), "tensor([ True, False])"),
    (lambda: genesis.tensor(3.5), "tensor(3.5000)"),
    (lambda: genesis.tensor([1e10, 1.0]), "tensor([1.0000e+10, 1.0000e+00])"),
    (lambda: genesis.tensor([NAN, INF, 1.0]), "tensor([nan, inf, 1.])"),
    (lambda: genesis.zeros(0, 3), "tensor([], size=(0, 3))"),
    (lambda: genesis.tensor([1, 2], dtype=genesis.int32), "tensor([1, 2], dtype=genesis.int32)"),
    (lambda: genesis.tensor([[1.5, -2.0], [3.0, 4.25]]),
     "tensor([[ 1.5000, -2.0000],\n        [ 3.0000,  4.2500]])"),
    (lambda: genesis.tensor([1.0], requires_grad=True) * 2,
     "tensor([2.], grad_fn=<MulBackward>)"),
    (lambda: genesis.tensor(np.arange(1001)),
     "tensor([   0,    1,    2,  ...,  998,  999, 1000])"),
])
def test_known_reprs(make, expected):
    assert repr(make()) == expected


def test_set_printoptions_round_trip():
    set_printoptions(precision=2)
    assert repr(genesis.tensor([1.2345])) == "tensor([1.23])"
    set_printoptions(sci_mode=True)   # precision stays, sci_mode is set
    assert repr(genesis.tensor([1.2345])) == "tensor([1.23e+00])"
    set_printoptions(profile="default")
    assert repr(genesis.tensor([1.2345])) == "tensor([1.2345])"
    with printoptions(threshold=3):
        assert "..." in repr(genesis.tensor(np.arange(10)))
    assert get_printoptions()["threshold"] == 1000
    with pytest.raises(ValueError, match="profile"):
        set_printoptions(profile="long")


def test_tensor_contents_and_format():
    t = genesis.tensor([1.0, 2.0])
    assert t.__repr__(tensor_contents="[...]") == "tensor([...])"
    assert f"{genesis.tensor(2.5):.1f}" == "2.5"
