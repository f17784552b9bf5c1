"""dtype objects, promotion (promote_types / result_type / binary ops), finfo and iinfo,
and the default dtype, against PyTorch."""
import math
import pickle

import numpy as np
import pytest

import genesis
from oracle import needs_torch, torch

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
         "float32", "float64"]
FLOATS = ["float16", "bfloat16", "float32", "float64"]


def gd(name):
    return getattr(genesis, name)


def td(name):
    return getattr(torch, name)


def name_of(d):
    return str(d).split(".")[-1]


@pytest.fixture(autouse=True)
def _restore_default():
    yield
    genesis.set_default_dtype(genesis.float32)
    if torch is not None:
        torch.set_default_dtype(torch.float32)


# ---------------------------------------------------------------- dtype objects
def test_names_aliases_and_hashing():
    assert str(genesis.float32) == "genesis.float32" == repr(genesis.float32)
    assert genesis.float is genesis.float32 and genesis.double is genesis.float64
    assert genesis.half is genesis.float16 and genesis.long is genesis.int64
    assert genesis.short is genesis.int16 and genesis.int is genesis.int32
    assert genesis.bool is genesis.dtypes.bool_
    dts = [gd(n) for n in NAMES]
    assert len({hash(d) for d in dts}) == len(dts)
    assert {genesis.float32: 1}[genesis.float] == 1
    for d in dts:
        assert pickle.loads(pickle.dumps(d)) is d
        assert isinstance(d, genesis.dtype)


@needs_torch
@pytest.mark.parametrize("name", NAMES)
def test_dtype_attributes_match_torch(name):
    g, t = gd(name), td(name)
    assert g.is_floating_point == t.is_floating_point
    assert g.is_signed == t.is_signed
    assert g.is_complex == t.is_complex
    assert g.itemsize == t.itemsize
    assert str(g) == str(t).replace("torch", "genesis")


@pytest.mark.parametrize("spec, expected", [
    ("float32", "float32"), ("torch.float64", "float64"), ("genesis.half", "float16"),
    ("long", "int64"), (np.float64, "float64"), (np.dtype("int16"), "int16"),
    (bool, "bool"), (int, "int64"), (float, "float32"),
])
def test_to_dtype(spec, expected):
    assert genesis.dtypes.to_dtype(spec) is gd(expected)


@pytest.mark.parametrize("spec, exc", [("complex64", TypeError), (np.complex64, TypeError),
                                       ("floaty", TypeError)])
def test_to_dtype_errors(spec, exc):
    with pytest.raises(exc, match="dtype"):
        genesis.dtypes.to_dtype(spec)


# ---------------------------------------------------------------- promotion
@needs_torch
@pytest.mark.parametrize("a", NAMES)
def test_promote_types_all_pairs(a):
    for b in NAMES:
        got = genesis.promote_types(gd(a), gd(b))
        assert name_of(got) == name_of(torch.promote_types(td(a), td(b))), (a, b)
        assert got is genesis.promote_types(gd(b), gd(a))


def _operand(kind):
    """kind: 'T_<dtype>' a 1-D tensor, 'Z_<dtype>' a zero-dim tensor, else a Python
    number."""
    if _is_tensor(kind):
        shape = (2,) if kind[0] == "T" else ()
        dt = kind[2:]
        return (lambda lib: lib.ones(shape, dtype=getattr(lib, dt)))
    value = {"True": True, "2": 2, "2.5": 2.5}[kind]
    return lambda lib: value


def _is_tensor(kind):
    return kind[:2] in ("T_", "Z_")


KINDS = ([f"T_{n}" for n in NAMES] + [f"Z_{n}" for n in NAMES] + ["True", "2", "2.5"])


def _pairs_with(a):
    for b in KINDS:
        if _is_tensor(a) or _is_tensor(b):
            yield b


@needs_torch
@pytest.mark.parametrize("a", KINDS)
def test_result_type_matches_torch(a):
    fa = _operand(a)
    for b in _pairs_with(a):
        fb = _operand(b)
        want = torch.result_type(fa(torch), fb(torch))
        got = genesis.result_type(fa(genesis), fb(genesis))
        assert name_of(got) == name_of(want), (a, b)


@needs_torch
@pytest.mark.parametrize("op", ["add", "mul", "sub", "truediv", "lt", "maximum", "pow",
                                "where"])
@pytest.mark.parametrize("a", KINDS)
def test_binary_op_dtypes_match_torch(op, a):
    fa = _operand(a)
    for b in _pairs_with(a):
        fb = _operand(b)

        def run(lib):
            x, y = fa(lib), fb(lib)
            if op == "maximum":
                if not (isinstance(x, lib.Tensor) and isinstance(y, lib.Tensor)):
                    raise TypeError("maximum takes two tensors")
                return lib.maximum(x, y)
            if op == "where":
                cond = lib.tensor([True, False])
                return lib.where(cond, x, y)
            import operator
            return getattr(operator, op)(x, y)

        try:
            want = run(torch).dtype
        except (RuntimeError, TypeError):
            with pytest.raises((RuntimeError, TypeError)):
                run(genesis)
            continue
        assert name_of(run(genesis).dtype) == name_of(want), (op, a, b)


@needs_torch
@pytest.mark.parametrize("a, b", [
    ("T_int32", "2.5"), ("T_uint8", "Z_int64"), ("T_float16", "Z_float64"), ("T_bool", "True"),
    ("T_int8", "T_uint8"), ("Z_int32", "2.5"), ("T_bfloat16", "T_float16"), ("T_bool", "2"),
])
def test_result_type_examples(a, b):
    fa, fb = _operand(a), _operand(b)
    want = name_of(torch.result_type(fa(torch), fb(torch)))
    assert name_of(genesis.result_type(fa(genesis), fb(genesis))) == want
    assert name_of((fa(genesis) * fb(genesis)).dtype) == want


def test_result_type_rules_without_torch():
    i32 = genesis.ones(2, dtype=genesis.int32)
    assert genesis.result_type(i32, 2.5) is genesis.float32
    assert genesis.result_type(i32, 2) is genesis.int32
    assert genesis.result_type(genesis.ones(2, dtype=genesis.uint8),
                               genesis.tensor(3)) is genesis.uint8
    assert genesis.result_type(genesis.ones(2, dtype=genesis.float16),
                               genesis.tensor(3.0, dtype=genesis.float64)) is genesis.float16
    assert genesis.result_type(genesis.ones(2, dtype=genesis.bool), True) is genesis.bool
    assert genesis.result_type(genesis.tensor(1, dtype=genesis.int8), 1000) is genesis.int8
    with pytest.raises(TypeError, match="number"):
        genesis.result_type(i32, "x")


# ---------------------------------------------------------------- default dtype
@pytest.mark.parametrize("default", ["float64", "float16", "bfloat16", "float32"])
def test_set_default_dtype(default):
    genesis.set_default_dtype(gd(default))
    assert genesis.get_default_dtype() is gd(default)
    assert genesis.tensor([1.0]).dtype is gd(default)
    assert genesis.tensor([1, 2]).dtype is genesis.int64
    assert (genesis.tensor([1, 2]) * 2.5).dtype is gd(default)
    assert (genesis.tensor([1, 2]) / 2).dtype is gd(default)
    assert genesis.tensor([1, 2]).exp().dtype is gd(default)
    assert (genesis.ones(2, dtype=genesis.float32) * 2.5).dtype is genesis.float32


@pytest.mark.parametrize("bad", ["int64", "bool"])
def test_set_default_dtype_rejects_non_float(bad):
    with pytest.raises(TypeError, match="floating"):
        genesis.set_default_dtype(gd(bad))


# ---------------------------------------------------------------- finfo / iinfo
@needs_torch
@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_torch(name):
    g, t = genesis.finfo(gd(name)), torch.finfo(td(name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution",
                  "dtype"):
        assert getattr(g, field) == getattr(t, field), field
    assert repr(g) == repr(t)


@needs_torch
@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(name):
    g, t = genesis.iinfo(gd(name)), torch.iinfo(td(name))
    for field in ("bits", "max", "min", "dtype"):
        assert getattr(g, field) == getattr(t, field), field
    assert repr(g) == repr(t)


def test_finfo_iinfo_without_torch():
    f = genesis.finfo(genesis.float32)
    assert f.eps == 2.0 ** -23 and f.bits == 32 and f.resolution == 1e-6
    assert genesis.finfo(genesis.bfloat16).eps == 2.0 ** -7
    assert genesis.finfo().dtype == "float32"
    assert genesis.iinfo(genesis.int16).max == 2 ** 15 - 1
    assert genesis.finfo(genesis.float16).max == 65504.0
    assert math.isclose(genesis.finfo(genesis.float64).tiny, 2.2250738585072014e-308)


@pytest.mark.parametrize("fn, arg, match", [
    ("finfo", "int32", "floating point"), ("iinfo", "float32", "not supported"),
    ("iinfo", "bool", "not supported"),
])
def test_info_errors(fn, arg, match):
    with pytest.raises(TypeError, match=match):
        getattr(genesis, fn)(gd(arg))
