"""Creation: dtype inference of genesis.tensor, memory sharing of from_numpy/as_tensor,
filled tensors and ranges, all against torch where it is installed."""
import numpy as np
import pytest

import genesis
from genesis import creation as C
from oracle import needs_torch, torch, assert_same

# torch warns about slow or discouraged constructions that the table exercises on purpose
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _same(g, t):
    assert_same(g, t, rtol=0, atol=0)


# ---------------------------------------------------------------- tensor(): dtype inference
# each entry builds the same data for a library (genesis or torch)
DATA = {
    "float": lambda L: 3.5,
    "int": lambda L: 3,
    "bool": lambda L: True,
    "floats": lambda L: [1.0, 2.5],
    "ints": lambda L: [[1, 2], [3, 4]],
    "bools": lambda L: [True, False],
    "int_float": lambda L: [1, 2.5],
    "bool_int": lambda L: [True, 2],
    "bool_float": lambda L: [True, 2.5],
    "tuple": lambda L: ((1, 2), (3, 4)),
    "range": lambda L: range(4),
    "empty": lambda L: [],
    "empty2": lambda L: [[], []],
    "np_f64_scalar_in_list": lambda L: [np.float64(1.0), 2.0],
    "np_f32_scalar_in_list": lambda L: [np.float32(1.0), 2.0],
    "np_f16_scalars": lambda L: [np.float16(1.0), np.float16(2.0)],
    "np_i32_scalar": lambda L: [np.int32(1)],
    "np_i32_and_int": lambda L: [np.int32(1), 2],
    "np_i32_and_float": lambda L: [np.int32(1), 2.5],
    "np_u8_and_i8": lambda L: [np.uint8(3), np.int8(-1)],
    "np_bool": lambda L: [np.bool_(True)],
    "np_scalar_f64": lambda L: np.float64(3.0),
    "np_scalar_i16": lambda L: np.int16(3),
    "ndarray_f64": lambda L: np.arange(6.0).reshape(2, 3),
    "ndarray_i32": lambda L: np.arange(6, dtype=np.int32),
    "ndarray_u8": lambda L: np.arange(6, dtype=np.uint8),
    "ndarray_f32_noncontig": lambda L: np.arange(12, dtype=np.float32).reshape(3, 4).T,
    "list_of_ndarrays": lambda L: [np.ones(2, np.float32), np.zeros(2, np.float32)],
    "0d_f64_tensor_and_float": lambda L: [L.tensor(1.0, dtype=L.float64), 2.0],
    "0d_i32_tensor_and_int": lambda L: [L.tensor(1, dtype=L.int32), 2],
    "0d_i32_tensors": lambda L: [L.tensor(1, dtype=L.int32), L.tensor(2, dtype=L.int32)],
    "0d_i32_tensor_and_float": lambda L: [L.tensor(1, dtype=L.int32), 2.5],
    "0d_f16_tensor_and_int": lambda L: [L.tensor(1.0, dtype=L.float16), 1],
    "nested_0d_tensors": lambda L: [[L.tensor(1.0)], [L.tensor(2.0)]],
    "1elem_tensors": lambda L: [L.ones(1), L.ones(1, 1)],
    "tensor": lambda L: L.tensor([[0, 1, 2], [3, 4, 5]], dtype=L.int16).t(),
}


@needs_torch
@pytest.mark.parametrize("name", list(DATA))
def test_tensor_dtype_inference(name):
    make = DATA[name]
    _same(genesis.tensor(make(genesis)), torch.tensor(make(torch)))


@needs_torch
@pytest.mark.parametrize("name", ["floats", "int_float", "np_f32_scalar_in_list", "ints"])
def test_tensor_inference_default_float64(name):
    make = DATA[name]
    genesis.set_default_dtype(genesis.float64)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        _same(genesis.tensor(make(genesis)), torch.tensor(make(torch)))
    finally:
        genesis.set_default_dtype(genesis.float32)
        torch.set_default_dtype(old)


@needs_torch
@pytest.mark.parametrize("data,dtype", [
    ([1.7, -2.7], "int32"), ([1, 2], "float16"), ([0.0, 0.5], "bool"), ([1, 2], "bfloat16"),
    (np.array([1.5, 2.5]), "int64"), (3, "float64"),
])
def test_tensor_explicit_dtype(data, dtype):
    _same(genesis.tensor(data, dtype=getattr(genesis, dtype)),
          torch.tensor(data, dtype=getattr(torch, dtype)))


@pytest.mark.parametrize("data,exc,msg", [
    ([[1, 2], [3]], ValueError, r"expected sequence of length 2 at dim 1 \(got 1\)"),
    ([[1, 2], [3, 4, 5]], ValueError, r"expected sequence of length 2 at dim 1 \(got 3\)"),
    ([[[1, 2], [3, 4]], [[1, 2], [3]]], ValueError,
     r"expected sequence of length 2 at dim 2 \(got 1\)"),
    ([[1, 2], 3], TypeError, "sequence"),
    ([1, [2, 3]], TypeError, "sequence"),
    (None, RuntimeError, "Could not infer dtype of NoneType"),
    ("abc", TypeError, "invalid data type 'str'"),
    ([genesis.ones(2), genesis.ones(2)], ValueError, "only one element tensors"),
])
def test_tensor_bad_data(data, exc, msg):
    with pytest.raises(exc, match=msg):
        genesis.tensor(data)


def test_tensor_copies_and_is_contiguous():
    a = np.arange(6.0).reshape(2, 3).T
    t = genesis.tensor(a)
    assert t.is_contiguous() and t.dtype == genesis.float64
    a[0, 0] = 100
    assert t[0, 0].item() == 0
    src = genesis.ones(3, requires_grad=True)
    c = genesis.tensor(src)
    assert not c.requires_grad and c.grad_fn is None
    c.add_(1)
    assert src.detach().numpy().tolist() == [1, 1, 1]
    r = genesis.tensor([1.0, 2.0], requires_grad=True)
    assert r.requires_grad and r.is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        genesis.tensor([1, 2], requires_grad=True)


def test_from_numpy_shares_memory():
    a = np.zeros((2, 3), np.float32)
    t = genesis.from_numpy(a)
    assert t.dtype == genesis.float32 and tuple(t.shape) == (2, 3)
    a[0, 1] = 5
    assert t[0, 1].item() == 5            # numpy write seen by the tensor
    t[1, 2] = 7
    assert a[1, 2] == 7                   # tensor write seen by numpy
    t.add_(1)
    assert a[0, 0] == 1
    assert genesis.from_numpy(a[:, 1]).stride() == (3,)
    with pytest.raises(TypeError, match="expected np.ndarray"):
        genesis.from_numpy([1, 2])
    with pytest.raises(TypeError):
        genesis.from_numpy(np.array(["a"]))


def test_as_tensor_sharing():
    a = np.arange(4, dtype=np.float64)
    t = genesis.as_tensor(a)
    a[0] = 9
    assert t[0].item() == 9
    t2 = genesis.as_tensor(a, dtype=genesis.float64)
    t2[1] = 8
    assert a[1] == 8
    t3 = genesis.as_tensor(a, dtype=genesis.float32)      # a cast copies
    a[2] = 7
    assert t3.dtype == genesis.float32 and t3[2].item() == 2
    g = genesis.ones(3)
    assert genesis.as_tensor(g) is g
    assert genesis.as_tensor([1, 2.5]).dtype == genesis.float32
    assert genesis.asarray(a).dtype == genesis.float64


# ---------------------------------------------------------------- zeros / ones / full / empty
@needs_torch
@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("args,kw", [
    ((2, 3), {}), (((2, 3),), {}), (([2, 3],), {}), ((), {"size": (2, 3)}), (((),), {}),
    ((0, 3), {}), ((2,), {"dtype": "int32"}), ((2, 2), {"dtype": "float64"}),
    ((2,), {"dtype": "bool"}), ((3,), {"requires_grad": True}),
])
def test_filled(name, args, kw):
    kg = {k: (getattr(genesis, v) if k == "dtype" else v) for k, v in kw.items()}
    kt = {k: (getattr(torch, v) if k == "dtype" else v) for k, v in kw.items()}
    g, t = getattr(genesis, name)(*args, **kg), getattr(torch, name)(*args, **kt)
    assert tuple(g.shape) == tuple(t.shape) and str(g.dtype) == str(t.dtype).replace(
        "torch", "genesis")
    assert g.requires_grad == t.requires_grad and g.is_leaf
    if name != "empty":
        _same(g, t)


@needs_torch
@pytest.mark.parametrize("size,fill,dtype", [((2, 3), 1.5, None), ((2,), 3, None),
                                             ((2,), True, None), ([], 2.0, None),
                                             ((2, 2), 2.7, "int32"), ((3,), 1, "float64")])
def test_full(size, fill, dtype):
    _same(genesis.full(size, fill, dtype=dtype and getattr(genesis, dtype)),
          torch.full(size, fill, dtype=dtype and getattr(torch, dtype)))


@needs_torch
@pytest.mark.parametrize("name,args", [("zeros_like", ()), ("ones_like", ()),
                                       ("full_like", (2.7,)), ("empty_like", ())])
@pytest.mark.parametrize("kw", [{}, {"dtype": "float64"}, {"dtype": "int32"},
                                {"dtype": "float64", "requires_grad": True},
                                {"device": "cpu"}])
def test_like(name, args, kw):
    src = np.arange(6, dtype=np.int16).reshape(2, 3)
    kg = {k: (getattr(genesis, v) if k == "dtype" else v) for k, v in kw.items()}
    kt = {k: (getattr(torch, v) if k == "dtype" else v) for k, v in kw.items()}
    g = getattr(genesis, name)(genesis.tensor(src).t(), *args, **kg)
    t = getattr(torch, name)(torch.tensor(src).t(), *args, **kt)
    assert g.requires_grad == t.requires_grad and str(g.device) == "cpu"
    if name == "empty_like":
        assert tuple(g.shape) == tuple(t.shape) and g.dtype.name == str(t.dtype)[6:]
    else:
        _same(g, t)


def test_like_requires_grad_of_int_raises():
    with pytest.raises(RuntimeError, match="floating point"):
        genesis.ones_like(genesis.tensor([1, 2]), requires_grad=True)


@pytest.mark.parametrize("fn,exc,msg", [
    (lambda: genesis.zeros(2, -3), RuntimeError, "negative dimension -3"),
    (lambda: genesis.ones(2.5), TypeError, "must be tuple of ints"),
    (lambda: genesis.zeros(), TypeError, "size"),
    (lambda: genesis.zeros(2, size=(2,)), TypeError, "multiple values"),
    (lambda: genesis.empty((2, -1)), RuntimeError, "negative dimension"),
])
def test_filled_errors(fn, exc, msg):
    with pytest.raises(exc, match=msg):
        fn()


def test_out_argument():
    out = genesis.empty(3)
    r = genesis.zeros(3, out=out)
    assert r is out and out.tolist() == [0, 0, 0]
    r = C.arange(3, out=out)
    assert r is out and out.tolist() == [0, 1, 2]


# ---------------------------------------------------------------- ranges
ARANGE = [
    ((5,), {}), ((1, 4.5), {}), ((0, 1, 0.1), {}), ((1, 0, -0.25), {"dtype": "float64"}),
    ((-3, 7, 3), {}), ((10, -3, -4), {}), ((3,), {"dtype": "float16"}),
    ((3,), {"dtype": "bfloat16"}),
    ((0, 10, 3), {"dtype": "float32"}), ((1, 1), {}), ((-1.5, 2.5, 1), {"dtype": "int64"}),
    ((0.5, 3, 1), {"dtype": "int64"}), ((0, 5, 1.5), {"dtype": "int32"}),
    ((0, 2.5, 1), {"dtype": "int64"}), ((0, 255, 7), {"dtype": "uint8"}),
    ((0.1, 2.3, 0.2), {}), ((0.1, 2.3, 0.2), {"dtype": "float64"}), ((1e6,), {}),
    ((-5.5, 5.5, 0.7), {"dtype": "float64"}), ((2**40, 2**40 + 10, 3), {}),
]


def _kw(kw, lib):
    return {k: (getattr(lib, v) if k == "dtype" else v) for k, v in kw.items()}


@needs_torch
@pytest.mark.parametrize("args,kw", ARANGE)
def test_arange(args, kw):
    g = C.arange(*args, **_kw(kw, genesis))
    t = torch.arange(*args, **_kw(kw, torch))
    assert_same(g, t, rtol=1e-15 if "float64" in kw.values() else None)


@needs_torch
def test_arange_tensor_args_and_keywords():
    _same(C.arange(genesis.tensor(3)), torch.arange(torch.tensor(3)))
    _same(C.arange(genesis.tensor(3.0)), torch.arange(torch.tensor(3.0)))
    _same(C.arange(end=4), torch.arange(end=4))
    _same(C.arange(2, 8, step=2), torch.arange(2, 8, step=2))
    g = C.arange(4.0, requires_grad=True)
    assert g.requires_grad and g.is_leaf


@pytest.mark.parametrize("args,kw,exc,msg", [
    ((0, 1, 0), {}, RuntimeError, "step must be nonzero"),
    ((0, 1, -1), {}, RuntimeError, "upper bound and lower bound inconsistent with step sign"),
    ((float("nan"),), {}, RuntimeError, "unsupported range"),
    ((0, 1, 0.3), {"dtype": genesis.int64}, RuntimeError, "step must be nonzero"),
    ((3,), {"dtype": genesis.bool}, NotImplementedError, "Bool"),
])
def test_arange_errors(args, kw, exc, msg):
    with pytest.raises(exc, match=msg):
        C.arange(*args, **kw)


LINSPACE = [
    ((0, 10, 4), {}), ((0, 10, 4), {"dtype": "int64"}), ((-3, 10, 7), {"dtype": "int32"}),
    ((0, 10, 1), {}), ((0, 1, 0), {}), ((-1.5, 2.25, 16), {"dtype": "float64"}),
    ((1, -1, 5), {"dtype": "float16"}), ((2, 3, 101), {}),
]


@needs_torch
@pytest.mark.parametrize("args,kw", LINSPACE)
def test_linspace(args, kw):
    assert_same(C.linspace(*args, **_kw(kw, genesis)), torch.linspace(*args, **_kw(kw, torch)))


@needs_torch
@pytest.mark.parametrize("args,kw", [((0, 3, 4), {}), ((0, 3, 4), {"base": 2}),
                                     ((0, 3, 4), {"dtype": "int64"}), ((-2, 2, 9), {}),
                                     ((-2, 2, 9), {"dtype": "float64", "base": 3.0})])
def test_logspace(args, kw):
    assert_same(C.logspace(*args, **_kw(kw, genesis)), torch.logspace(*args, **_kw(kw, torch)))


def test_linspace_errors():
    with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
        C.linspace(0, 1, -1)


@needs_torch
@pytest.mark.parametrize("args,kw", [((3,), {}), ((2, 4), {}), ((4, 2), {"dtype": "int64"}),
                                     ((0,), {}), ((3,), {"dtype": "bool"})])
def test_eye(args, kw):
    _same(C.eye(*args, **_kw(kw, genesis)), torch.eye(*args, **_kw(kw, torch)))


@pytest.mark.parametrize("args,msg", [((-1,), "n must be greater or equal to 0, got -1"),
                                      ((2, -1), "m must be greater or equal to 0, got -1")])
def test_eye_errors(args, msg):
    with pytest.raises(RuntimeError, match=msg):
        C.eye(*args)


@needs_torch
@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("args", [(3, 4), (3, 4, 1), (4, 3, -1), (3, 3, -5), (3, 3, 7),
                                  (0, 3), (5, 2, 0)])
def test_tri_indices(name, args):
    _same(getattr(C, name)(*args), getattr(torch, name)(*args))
    _same(getattr(C, name)(*args, dtype=genesis.int32),
          getattr(torch, name)(*args, dtype=torch.int32))


def test_tri_indices_float_dtype_raises():
    with pytest.raises(NotImplementedError):
        C.tril_indices(3, 3, dtype=genesis.float32)


# ---------------------------------------------------------------- fuzzer regressions
def _as_torch(fn):
    """fn(lib) gives the same values and dtype with genesis as with torch, or raises the
    same exception type and message."""
    try:
        t = fn(torch)
    except Exception as e:
        with pytest.raises(type(e), match="^" + __import__("re").escape(str(e))):
            fn(genesis)
        return
    _same(fn(genesis), t)


NAN = float("nan")
OUT_OF_RANGE = [      # PyTorch's checked conversions of Python numbers
    lambda L: L.tensor(-1, dtype=L.uint8), lambda L: L.tensor(-255, dtype=L.uint8),
    lambda L: L.tensor(-256, dtype=L.uint8), lambda L: L.tensor(256, dtype=L.uint8),
    lambda L: L.tensor(-1.0, dtype=L.uint8), lambda L: L.tensor(-0.5, dtype=L.uint8),
    lambda L: L.tensor(200, dtype=L.int8), lambda L: L.tensor(-129, dtype=L.int8),
    lambda L: L.tensor(NAN, dtype=L.int64), lambda L: L.tensor(float("inf"), dtype=L.int32),
    lambda L: L.tensor(2 ** 63, dtype=L.int64), lambda L: L.tensor(2.9, dtype=L.int16),
    lambda L: L.tensor(True, dtype=L.uint8), lambda L: L.tensor(1e300, dtype=L.float32),
    lambda L: L.tensor([[200, 1]], dtype=L.int8), lambda L: L.tensor([-1, 1], dtype=L.uint8),
    lambda L: L.tensor([1.5, -1], dtype=L.uint8), lambda L: L.tensor([NAN], dtype=L.int64),
    lambda L: L.tensor([1e30], dtype=L.int64), lambda L: L.tensor([-2 ** 63]),
    lambda L: L.tensor(np.int64(-1), dtype=L.uint8),
    lambda L: L.tensor([np.int64(200)], dtype=L.int8),
    lambda L: L.tensor([L.tensor(-1)], dtype=L.uint8),
    lambda L: L.tensor([L.tensor(200)], dtype=L.int8),
    lambda L: L.full((2,), -1, dtype=L.uint8), lambda L: L.full((2,), -256, dtype=L.uint8),
    lambda L: L.full((2,), -1.0, dtype=L.uint8), lambda L: L.full((2,), -2.7, dtype=L.int8),
    lambda L: L.full((2,), 200, dtype=L.int8), lambda L: L.full((2,), NAN, dtype=L.int64),
    lambda L: L.full((2,), 2 ** 31, dtype=L.int32), lambda L: L.full((2,), 2 ** 63),
    lambda L: L.full((2,), 1e300, dtype=L.float32),
    lambda L: L.full((2,), 1e10, dtype=L.float16),
    lambda L: L.full((2,), 1e300, dtype=L.bfloat16),
    lambda L: L.full((2,), float("inf"), dtype=L.float16),
    lambda L: L.full((2,), -5, dtype=L.bool),
    lambda L: L.full((2,), L.tensor(-1), dtype=L.uint8),
    lambda L: L.full_like(L.zeros(2, dtype=L.int8), 200),
    lambda L: L.scalar_tensor(-1, dtype=L.uint8),
]


@needs_torch
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("k", range(len(OUT_OF_RANGE)))
def test_out_of_range_numbers(k):
    _as_torch(OUT_OF_RANGE[k])


TENSORS_IN_LIST = [
    lambda L: L.tensor([L.tensor([1, 2]), L.tensor([3, 4])]),
    lambda L: L.tensor([L.tensor([1., 2.]), L.tensor([3., 4.])]),
    lambda L: L.tensor([L.tensor([True, False])]),
    lambda L: L.tensor([L.tensor([1., 2.])], dtype=L.int64),
    lambda L: L.tensor([L.tensor([1, 2])], dtype=L.float32),
    lambda L: L.tensor([L.tensor(1.5)], dtype=L.int64),
    lambda L: L.tensor([1.5, L.tensor([1, 2])]),
    lambda L: L.tensor([L.tensor([[1]]), L.tensor([3])]),
    lambda L: L.tensor([L.tensor(True)], dtype=L.int8),
    lambda L: L.tensor([L.tensor(1.5, dtype=L.float16), L.tensor(2, dtype=L.int8)]),
]


@needs_torch
@pytest.mark.parametrize("k", range(len(TENSORS_IN_LIST)))
def test_tensors_in_a_list(k):
    _as_torch(TENSORS_IN_LIST[k])
