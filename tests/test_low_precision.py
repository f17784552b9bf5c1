"""float16 and bfloat16 everywhere float32 goes, against PyTorch: casts bit for bit on edge
tables, creation paths, type promotion, ops (values, dtypes, gradients; float32 compute
with one rounding where torch's CPU kernels do so), printing, checkpoints and modules.

NaN bit patterns are not compared: torch's own differ by code path on one machine (a
float32 NaN becomes bfloat16 0xFFFF through a vectorized cast but 0x7FC0 through a 0-d or
scalar one; half NaN widens to float 0x7FFFFFFF); a NaN must stay a NaN."""
import math

import numpy as np
import pytest

import genesis
from oracle import needs_torch, torch, TOL

LOW = ["bfloat16", "float16"]
FLOATS = ["bfloat16", "float16", "float32", "float64"]
U = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def _bits(t):
    """The raw bits of a genesis or torch tensor (or NumPy array) as unsigned integers."""
    if torch is not None and isinstance(t, torch.Tensor):
        t = t.detach().contiguous()
        if t.dtype in (torch.bfloat16, torch.float16):
            return t.view(torch.int16).numpy().view(np.uint16)
        a = t.numpy()
    elif isinstance(t, genesis.Tensor):
        a = np.array(t.detach()._data, order="C")
    else:
        a = np.asarray(t)
    return a.view(U[a.itemsize]) if a.dtype.kind == "f" or a.dtype.itemsize == 2 and \
        a.dtype.kind not in "iub" else a


def _isnan(t):
    if torch is not None and isinstance(t, torch.Tensor):
        return t.detach().float().isnan().numpy() if t.is_floating_point() else \
            np.zeros(t.shape, bool)
    return t.detach().float().isnan().numpy() if t.is_floating_point() else \
        np.zeros(tuple(t.shape), bool)


def assert_bits(g, t, what=""):
    """Bit equality of a genesis and a torch tensor, a NaN anywhere matching any NaN."""
    assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], \
        f"{what}: dtype {g.dtype} != torch {t.dtype}"
    assert tuple(g.shape) == tuple(t.shape), f"{what}: shape {tuple(g.shape)} != {t.shape}"
    gn, tn = _isnan(g), _isnan(t)
    np.testing.assert_array_equal(gn, tn, err_msg=f"{what}: NaN positions")
    gb, tb = _bits(g), _bits(t)
    bad = np.flatnonzero((gb != tb) & ~tn)
    assert not bad.size, f"{what}: {bad.size} values differ, e.g. at {bad[:5]}: genesis " \
                         f"{gb.ravel()[bad[:5]]} torch {tb.ravel()[bad[:5]]}"


def assert_close(g, t, what="", scale=1.0, dtype=None):
    """Shape, dtype name and values within TOL of the (torch) dtype, times scale."""
    dn = str(t.dtype).split(".")[-1]
    assert str(g.dtype).split(".")[-1] == dn, f"{what}: dtype {g.dtype} != torch {t.dtype}"
    assert tuple(g.shape) == tuple(t.shape), f"{what}: shape {tuple(g.shape)} != {t.shape}"
    r, a = TOL.get(dtype or dn, (0, 0))
    gv = g.detach().double().numpy() if g.is_floating_point() else g.detach().numpy()
    tv = t.detach().double().numpy() if t.is_floating_point() else t.detach().numpy()
    np.testing.assert_allclose(gv, tv, rtol=r * scale, atol=a * scale, equal_nan=True,
                               err_msg=what)


# ================================================================ casts
def _f32_edges():
    """float32 values at the rounding edges of bfloat16 and float16: ties both ways, one
    ulp either side of them, normal/subnormal limits, overflow thresholds, signed zeros,
    infinities and NaNs, plus random bits and random magnitudes."""
    u = []
    # bfloat16 keeps the top 16 bits: a tie has low half 0x8000
    for hi in (0x3F80, 0x3F81, 0x0001, 0x0080, 0x007F, 0x7F7F, 0x7F7E, 0x4B7F, 0x0000, 0x3380):
        for lo in (0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0x4000, 0xC000):
            u.append(hi << 16 | lo)
    u += [0x7F800000, 0x7FC00000, 0x7F800001, 0x7FA00000, 0x7FBFFFFF, 0x7FFFFFFF,
          0x00000001, 0x00000000]
    u = np.array(u, np.uint32)
    u = np.concatenate([u, u | 0x80000000]).view(np.float32)
    # float16: 10 fraction bits (ties at half an ulp), max 65504, overflow from 65520,
    # subnormals below 2**-14 down to 2**-24, underflow to zero at 2**-25 (a tie)
    h = [65504.0, 65519.0, 65519.996, 65520.0, 65535.0, 1e5, 2.0 ** -14, 2.0 ** -24,
         2.0 ** -25, 2.0 ** -25 * 1.0000001, 2.0 ** -26, 3 * 2.0 ** -26, 1e-8, 1 + 2.0 ** -11,
         1 + 3 * 2.0 ** -11, 1 + 2.0 ** -11 + 2.0 ** -23, 1 + 2.0 ** -11 - 2.0 ** -24,
         2049.0, 2051.0, 4097.0, 6.1e-5, 6.0e-8, 3.0e-8, 5.96e-8, 2.0 ** -15 * 1.5]
    h = np.array(h + [-v for v in h], np.float32)
    r = np.random.default_rng(0)
    mags = (r.standard_normal(4000) * 10.0 ** r.integers(-45, 39, 4000)).astype(np.float32)
    raw = r.integers(0, 2 ** 32, 4000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return np.concatenate([u, h, mags, raw])


def _f64_edges():
    """float64 values where rounding straight to 16 bits differs from rounding through
    float32 (as torch does): a float32 tie plus or minus a bit below float32 precision."""
    f = _f32_edges()
    f = f[np.isfinite(f)].astype(np.float64)
    u = np.random.default_rng(1).standard_normal(3000).astype(np.float32).view(np.uint32)
    extra = []
    for sh in (16, 13):     # ties of bfloat16 and of float16 normals
        tie = (((u >> sh) << sh) | (1 << (sh - 1))).view(np.float32).astype(np.float64)
        extra += [tie * (1 + 2.0 ** -40), tie * (1 - 2.0 ** -40)]
    more = [1 + 2.0 ** -8 + 2.0 ** -30, 1 + 2.0 ** -11 + 2.0 ** -40, 65519.999999,
            2.0 ** -25 * (1 + 2.0 ** -40), 3.3961775292304e38, 1e300, 1e-300, math.inf,
            -math.inf, math.nan]
    return np.concatenate([f, *extra, np.array(more)])


@needs_torch
@pytest.mark.parametrize("src", ["float32", "float64"])
@pytest.mark.parametrize("dst", LOW)
def test_cast_float_to_low_bits_as_torch(src, dst):
    x = (_f32_edges() if src == "float32" else _f64_edges()).astype(src)
    g = genesis.tensor(x).to(getattr(genesis, dst))
    t = torch.from_numpy(x).to(getattr(torch, dst))
    assert_bits(g, t, f"{src} -> {dst}")
    # every cast spelling takes the same path
    assert_bits(getattr(genesis.tensor(x), "half" if dst == "float16" else dst)(), t)
    assert_bits(genesis.tensor(x).type(getattr(genesis, dst)), t)
    assert_bits(genesis.tensor(x, dtype=getattr(genesis, dst)), t)
    assert_bits(genesis.as_tensor(x, dtype=getattr(genesis, dst)), t)


@needs_torch
@pytest.mark.parametrize("src", LOW)
@pytest.mark.parametrize("dst", ["float32", "float64", "float16", "bfloat16", "int64", "int32",
                                 "int16", "int8", "uint8", "bool"])
def test_cast_every_low_value_as_torch(src, dst):
    """All 65536 bit patterns of src to dst (non-finite to integers is undefined in C++
    and left out)."""
    pat = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    g = genesis.tensor(pat.view(getattr(genesis, src).np))
    t = torch.from_numpy(pat.view(np.int16)).view(getattr(torch, src))
    if dst not in FLOATS and dst != "bool":
        keep = np.isfinite(t.float().numpy())
        g, t = g[genesis.tensor(keep)], t[torch.from_numpy(keep)]
    assert_bits(g.to(getattr(genesis, dst)), t.to(getattr(torch, dst)), f"{src} -> {dst}")


@needs_torch
@pytest.mark.parametrize("src", ["int64", "int32", "int16", "int8", "uint8", "bool"])
@pytest.mark.parametrize("dst", LOW)
def test_cast_int_to_low_bits_as_torch(src, dst):
    r = np.random.default_rng(2)
    # 2**24 + 2**16 + 1 rounds to a tie in float32, then to even in bfloat16 (torch goes
    # through float); ints near the float16 overflow threshold
    v = np.concatenate([r.integers(-2 ** 62, 2 ** 62, 2000), r.integers(-70000, 70000, 2000),
                        np.array([2 ** 24 + 2 ** 16 + 1, 2 ** 24 + 2 ** 13 + 1, 65504, 65519,
                                  65520, 257, 259, 2049, 2051, -2 ** 63, 2 ** 63 - 1]),
                        (2 ** 24 + 2 ** 16 + 1) * 2 ** r.integers(0, 38, 200)])
    x = v.astype(src)
    assert_bits(genesis.tensor(x).to(getattr(genesis, dst)),
                torch.from_numpy(x).to(getattr(torch, dst)), f"{src} -> {dst}")


# known bits, checked without torch
@pytest.mark.parametrize("value,dtype,bits", [
    (1 + 2.0 ** -8, "bfloat16", 0x3F80),            # tie to even (down)
    (1 + 3 * 2.0 ** -8, "bfloat16", 0x3F82),        # tie to even (up)
    (1 + 2.0 ** -8 + 2.0 ** -23, "bfloat16", 0x3F81),
    (3.3961775292304e38, "bfloat16", 0x7F80),       # past the threshold: inf
    (-0.0, "bfloat16", 0x8000),
    (2.0 ** -133, "bfloat16", 0x0001),              # smallest subnormal
    (1 + 2.0 ** -11, "float16", 0x3C00),
    (1 + 3 * 2.0 ** -11, "float16", 0x3C02),
    (65519.0, "float16", 0x7BFF),
    (65520.0, "float16", 0x7C00),
    (2.0 ** -24, "float16", 0x0001),
    (2.0 ** -25, "float16", 0x0000),                # tie to even: zero
    (-2.0 ** -25 * 1.0000001, "float16", 0x8001),
    (1 + 2.0 ** -11 + 2.0 ** -40, "float16", 0x3C00),   # double rounding through float
    (1 + 2.0 ** -8 + 2.0 ** -30, "bfloat16", 0x3F80),
    (65519.999999, "float16", 0x7C00),
])
def test_cast_known_bits(value, dtype, bits):
    d = getattr(genesis, dtype)
    made = [genesis.tensor([value], dtype=genesis.float64).to(d), genesis.tensor([value], dtype=d),
            genesis.tensor(value, dtype=d), genesis.tensor(np.array([value]), dtype=d)]
    if abs(value) <= genesis.finfo(d).max:     # else full and fill_ raise, as torch's
        made += [genesis.full((2,), value, dtype=d), genesis.zeros(1, dtype=d).fill_(value)]
    else:
        with pytest.raises(RuntimeError, match="without overflow"):
            genesis.full((2,), value, dtype=d)
    for t in made:
        assert int(_bits(t).ravel()[0]) == bits, (t, hex(bits))


@pytest.mark.parametrize("dtype", LOW)
def test_nan_and_inf_survive_casts(dtype):
    d = getattr(genesis, dtype)
    for src in (genesis.float32, genesis.float64):
        x = genesis.tensor([math.nan, -math.nan, math.inf, -math.inf], dtype=src).to(d)
        back = x.float()
        assert back.isnan().tolist() == [True, True, False, False]
        assert back[2:].tolist() == [math.inf, -math.inf]
    assert genesis.tensor([math.nan], dtype=d).to(genesis.bool).item() is True


# ================================================================ creation
_CREATE = {
    "tensor": lambda L, v, d: L.tensor(v, dtype=d),
    "tensor_list": lambda L, v, d: L.tensor([v, -v, 0.5 * v], dtype=d),
    "tensor_nested": lambda L, v, d: L.tensor([[v], [1]], dtype=d),
    "full": lambda L, v, d: L.full((3,), v, dtype=d),
    "full_like": lambda L, v, d: L.full_like(L.zeros(2, dtype=d), v),
    "new_full": lambda L, v, d: L.zeros(2, dtype=d).new_full((2,), v),
    "new_tensor": lambda L, v, d: L.zeros(2, dtype=d).new_tensor([v]),
    "fill_": lambda L, v, d: L.zeros(3, dtype=d).fill_(v),
    "setitem": lambda L, v, d: _set(L.zeros(3, dtype=d), 1, v),
    "setitem_slice": lambda L, v, d: _set(L.zeros(3, dtype=d), slice(0, 2), v),
    "setitem_mask": lambda L, v, d: _set(L.zeros(3, dtype=d), L.tensor([True, False, True]), v),
    "masked_fill": lambda L, v, d: L.zeros(3, dtype=d).masked_fill(L.tensor([True, False, True]), v),
    "index_fill": lambda L, v, d: L.zeros(3, dtype=d).index_fill(0, L.tensor([1]), v),
    "where": lambda L, v, d: L.where(L.tensor([True, False]), L.zeros(2, dtype=d), v),
    "copy_f64": lambda L, v, d: L.zeros(2, dtype=d).copy_(L.tensor([v, v], dtype=L.float64)),
    "add": lambda L, v, d: L.zeros(3, dtype=d) + v,
    "clamp": lambda L, v, d: L.full((2,), 1e4, dtype=d).clamp(max=v),
}
_CREATE_VALUES = [0.1, 1 / 3, 1 + 2.0 ** -11 + 2.0 ** -40, 1 + 2.0 ** -8 + 2.0 ** -30, 1e-8,
                  3e-8, 2.0 ** -25, -0.0, 1e-45, 65504.0, 3.3e38, math.inf]


def _set(t, i, v):
    t[i] = v
    return t


def _run_both(fn, *args):
    """(genesis result or exception, torch result or exception)."""
    out = []
    for lib in (genesis, torch):
        try:
            out.append(fn(lib, *[getattr(lib, a) if isinstance(a, str) and hasattr(lib, a)
                                 else a for a in args]))
        except Exception as e:       # noqa: BLE001 - compared below
            out.append(e)
    return out


@needs_torch
@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("name", sorted(_CREATE))
def test_create_from_python_scalars_as_torch(name, dtype):
    for v in _CREATE_VALUES:
        g, t = _run_both(_CREATE[name], v, dtype)
        if isinstance(t, Exception):     # e.g. the overflow check of full/fill_ on a half
            assert type(g) is type(t) and str(g) == str(t), (v, g, t)
            continue
        assert not isinstance(g, Exception), (v, g)
        assert_bits(g, t, f"{name}({v})")


@needs_torch
@pytest.mark.parametrize("dtype", LOW)
def test_create_with_low_default_dtype(dtype):
    try:
        for lib in (genesis, torch):
            lib.set_default_dtype(getattr(lib, dtype))
        for fn in (lambda L: L.tensor([1 + 2.0 ** -11 + 2.0 ** -40, 0.1]),
                   lambda L: L.arange(0, 3, 0.25), lambda L: L.zeros(2),
                   lambda L: L.tensor([1, 2]) * 0.1, lambda L: L.full((2,), 0.1),
                   lambda L: L.tensor([1, 2]) / 3, lambda L: L.linspace(0, 1, 5),
                   lambda L: L.tensor(2.5), lambda L: L.tensor([1, 2]).float().dtype):
            g, t = _run_both(fn)
            if isinstance(t, torch.dtype):
                assert str(g) == str(t).replace("torch", "genesis")
            else:
                assert_bits(g, t)
    finally:
        genesis.set_default_dtype(genesis.float32)
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("dtype", LOW)
def test_creators_give_the_dtype(dtype):
    d = getattr(genesis, dtype)
    z = genesis.zeros(2, 3, dtype=d)
    made = [genesis.zeros(2, dtype=d), genesis.ones(2, dtype=d), genesis.empty(2, dtype=d),
            genesis.rand(2, dtype=d), genesis.randn(2, dtype=d), genesis.eye(2, dtype=d),
            genesis.full((2,), 1.5, dtype=d), genesis.arange(3, dtype=d),
            genesis.linspace(0, 1, 3, dtype=d), genesis.logspace(0, 1, 3, dtype=d),
            genesis.randint(0, 5, (3,), dtype=d), genesis.zeros_like(z), genesis.ones_like(z),
            genesis.rand_like(z), genesis.randn_like(z), genesis.empty_like(z),
            genesis.full_like(z, 2), z.new_zeros(2), z.new_ones(2), z.new_empty(2)]
    for name, args in (("normal_", ()), ("uniform_", (-1, 1)), ("random_", (0, 10)),
                       ("exponential_", ()), ("bernoulli_", (0.5,)), ("zero_", ()),
                       ("fill_", (2.5,)), ("cauchy_", ()), ("log_normal_", ()),
                       ("geometric_", (0.5,))):
        made.append(getattr(genesis.zeros(2, 3, dtype=d), name)(*args))
    for t in made:
        assert t.dtype is d, t
    r = genesis.rand(10000, dtype=d)
    assert 0 <= float(r.min()) and float(r.max()) < 1        # rounding never reaches 1
    assert genesis.randn(2000, dtype=d).float().std().item() == pytest.approx(1, abs=0.1)


@needs_torch
@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("fn", [
    lambda L, d: L.arange(10, dtype=d), lambda L, d: L.arange(-3, 3, 0.5, dtype=d),
    lambda L, d: L.arange(0, 300, 1, dtype=d), lambda L, d: L.arange(0.1, 100, 0.1, dtype=d),
    lambda L, d: L.arange(1000, 1300, 1.1, dtype=d), lambda L, d: L.linspace(0, 1, 11, dtype=d),
    lambda L, d: L.linspace(-3.3, 7.7, 50, dtype=d), lambda L, d: L.logspace(-2, 2, 33, dtype=d),
    lambda L, d: L.range(0, 10, 0.3, dtype=d)])
def test_ranges_in_low_precision(fn, dtype):
    """Genesis computes start + i * step exactly and rounds once; torch's CPU kernels round
    in the low-precision type on the way (its vector lanes add offsets to a rounded base,
    linspace rounds its step), so values may differ by a few ulps."""
    g, t = _run_both(fn, dtype)
    assert_close(g, t, scale=4 if dtype == "bfloat16" else 10)


# ================================================================ promotion
_PROMOTE = [
    ("T_bfloat16", "T_float16"), ("T_bfloat16", "T_float32"), ("T_float16", "T_float64"),
    ("T_bfloat16", "T_int64"), ("T_float16", "T_uint8"), ("T_bfloat16", "T_bool"),
    ("T_bfloat16", "Z_float64"), ("T_float16", "Z_float32"), ("T_int32", "Z_bfloat16"),
    ("T_int64", "Z_float16"), ("Z_bfloat16", "Z_float32"), ("Z_bfloat16", "Z_float16"),
    ("Z_bfloat16", "Z_int64"), ("T_bfloat16", "2.5"), ("T_float16", "3"), ("T_bfloat16", "True"),
    ("Z_float16", "2.5"), ("T_int64", "Z_bfloat16"), ("T_bool", "Z_float16"),
]


def _operand(lib, spec):
    if spec[:2] in ("T_", "Z_"):
        shape = (2,) if spec[0] == "T" else ()
        return lib.ones(shape, dtype=getattr(lib, spec[2:]))
    return eval(spec)


@needs_torch
@pytest.mark.parametrize("a,b", _PROMOTE)
def test_promotion_as_torch(a, b):
    for op in (lambda x, y: x + y, lambda x, y: y * x, lambda x, y: x / y,
               lambda x, y: x - y if "bool" not in a + b and "True" not in b else x * y,
               lambda x, y: (x < y).to(genesis.float32 if isinstance(x, genesis.Tensor)
                                       else torch.float32) * 0 + (x + y)):
        g = op(_operand(genesis, a), _operand(genesis, b))
        t = op(_operand(torch, a), _operand(torch, b))
        assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (a, b, g.dtype, t.dtype)
    ga, gb = _operand(genesis, a), _operand(genesis, b)
    ta, tb = _operand(torch, a), _operand(torch, b)
    assert str(genesis.result_type(ga, gb)).split(".")[-1] == \
        str(torch.result_type(ta, tb)).split(".")[-1]
    if not isinstance(gb, genesis.Tensor):
        return
    assert str(genesis.promote_types(ga.dtype, gb.dtype)).split(".")[-1] == \
        str(torch.promote_types(ta.dtype, tb.dtype)).split(".")[-1]
    assert str(genesis.cat([ga.reshape(-1), gb.reshape(-1)]).dtype).split(".")[-1] == \
        str(torch.cat([ta.reshape(-1), tb.reshape(-1)]).dtype).split(".")[-1]


@pytest.mark.parametrize("dtype", LOW)
def test_inplace_keeps_low_dtype_and_refuses_to_narrow_category(dtype):
    d = getattr(genesis, dtype)
    x = genesis.ones(3, dtype=d)
    x += genesis.ones(3, dtype=genesis.float32)      # a float32 operand is cast back
    x *= 0.5
    x.add_(genesis.ones(3, dtype=genesis.float64), alpha=2)
    assert x.dtype is d and x.tolist() == [3.0, 3.0, 3.0]
    i = genesis.ones(3, dtype=genesis.int64)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i += genesis.ones(3, dtype=d)


# ================================================================ ops: bits
_N = 4099       # vector body and scalar tail of torch's kernels
_R = np.random.default_rng(3)
_X = np.concatenate([_R.uniform(-3, 3, _N - 99), _R.uniform(-1e-3, 1e-3, 50),
                     _R.uniform(100, 300, 49)]).astype(np.float32)
_Y = _R.uniform(-3, 3, _N).astype(np.float32)
_P = _R.uniform(0.05, 2.0, _N).astype(np.float32)

# ops whose torch kernels compute in float32 and round once (or round the scalar to the
# dtype first, as add/sub/pow/fmod do): genesis must give the same bits
_EXACT = {
    "add_s": lambda L, x, y, p: x + 0.1, "sub_s": lambda L, x, y, p: x - 0.3,
    "rsub_s": lambda L, x, y, p: 0.1 - x, "mul_s": lambda L, x, y, p: x * 0.1,
    "rmul_s": lambda L, x, y, p: 1.7 * x, "mul_int": lambda L, x, y, p: x * 1000001,
    "div_s": lambda L, x, y, p: x / 0.3, "rdiv_s": lambda L, x, y, p: 0.3 / p,
    "mul_0d_f32": lambda L, x, y, p: x * L.tensor(0.1),
    "mul_0d_f64": lambda L, x, y, p: x * L.tensor(0.1, dtype=L.float64),
    "div_0d_f32": lambda L, x, y, p: x / L.tensor(0.3),
    "add_0d_f32": lambda L, x, y, p: x + L.tensor(0.1),
    "rdiv_0d_f32": lambda L, x, y, p: L.tensor(0.3) / p,
    "floor_div_s": lambda L, x, y, p: L.div(x, 0.3, rounding_mode="floor"),
    "trunc_div_s": lambda L, x, y, p: L.div(x, 0.3, rounding_mode="trunc"),
    "trunc_div": lambda L, x, y, p: L.div(x, p, rounding_mode="trunc"),
    "floor_div": lambda L, x, y, p: L.div(x, p, rounding_mode="floor"),
    "fmod_s": lambda L, x, y, p: L.fmod(x, 0.3), "remainder_s": lambda L, x, y, p: x % 0.3,
    "pow_s": lambda L, x, y, p: p ** 1.3, "rpow_s": lambda L, x, y, p: 1.3 ** x,
    "add": lambda L, x, y, p: x + y, "sub": lambda L, x, y, p: x - y,
    "mul": lambda L, x, y, p: x * y, "div": lambda L, x, y, p: x / y,
    "add_alpha": lambda L, x, y, p: L.add(x, y, alpha=0.3),
    "sub_alpha": lambda L, x, y, p: L.sub(x, y, alpha=0.1),
    "addcmul": lambda L, x, y, p: L.addcmul(x, y, p, value=0.3),
    "addcdiv": lambda L, x, y, p: L.addcdiv(x, y, p, value=0.3),
    "lerp_t": lambda L, x, y, p: L.lerp(x, y, p * 0.2),
    "clamp": lambda L, x, y, p: x.clamp(-0.3, 0.31), "where_s": lambda L, x, y, p: L.where(x > 0, x, 0.1),
    "masked_fill": lambda L, x, y, p: x.masked_fill(x > 0, 0.1),
    "eq_s": lambda L, x, y, p: (x.to(L.float32) * 0 + 0.1).to(x.dtype) == 0.1,
    "gt_s": lambda L, x, y, p: x > 0.1, "maximum": lambda L, x, y, p: L.maximum(x, y),
    "sigmoid": lambda L, x, y, p: x.sigmoid(), "exp": lambda L, x, y, p: x.exp(),
    "tanh": lambda L, x, y, p: x.tanh(), "log": lambda L, x, y, p: p.log(),
    "sqrt": lambda L, x, y, p: p.sqrt(), "reciprocal": lambda L, x, y, p: x.reciprocal(),
    "silu": lambda L, x, y, p: L.nn.functional.silu(x),
    "glu": lambda L, x, y, p: L.nn.functional.glu(x[:4096].reshape(2, -1), 1),
    "std": lambda L, x, y, p: L.stack([x, y, p]).std(0),
    "mse": lambda L, x, y, p: L.nn.functional.mse_loss(x, y, reduction="none"),
    "interpolate": lambda L, x, y, p: L.nn.functional.interpolate(
        x[:4096].reshape(4, 4, 16, 16), scale_factor=1.5, mode="bilinear"),
    "mul_": lambda L, x, y, p: x.clone().mul_(0.1), "div_": lambda L, x, y, p: x.clone().div_(0.3),
    "add_alpha_": lambda L, x, y, p: x.clone().add_(y, alpha=0.3),
    "addcmul_": lambda L, x, y, p: x.clone().addcmul_(y, p, value=0.3),
    "lerp_": lambda L, x, y, p: x.clone().lerp_(y, 0.3),
}
# per-element math where torch's vector and scalar paths or libm differ in the last bit
# now and then (and floor division, whose float32 algorithms differ): at most 1% of the
# values may differ, by one ulp (or the dtype's atol where a result cancels to ~0)
_NEARLY = {"sigmoid", "exp", "tanh", "log", "sqrt", "silu", "glu", "interpolate", "pow_s",
           "rpow_s", "std", "floor_div", "lerp_", "lerp_t", "addcmul", "addcmul_", "addcdiv"}
# NumPy's remainder gives +0 where torch's keeps the dividend's sign: equal values


@needs_torch
@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("name", sorted(_EXACT))
def test_op_bits_as_torch(name, dtype):
    g, t = _run_both(lambda L: _EXACT[name](L, *[L.tensor(a).to(getattr(L, dtype))
                                                 for a in (_X, _Y, _P)]))
    assert not isinstance(g, Exception) and not isinstance(t, Exception), (g, t)
    if name == "remainder_s":
        assert str(g.dtype) == str(t.dtype).replace("torch", "genesis")
        np.testing.assert_array_equal(g.float().numpy(), t.float().numpy())
        return
    if name not in _NEARLY:
        assert_bits(g, t, name)
        return
    assert str(g.dtype) == str(t.dtype).replace("torch", "genesis")
    gv, tv = g.double().numpy(), t.double().numpy()
    big = np.maximum(np.abs(gv), np.abs(tv))
    ulp = np.exp2(np.floor(np.log2(np.maximum(big, 1e-30))) - (7 if dtype == "bfloat16" else 10))
    same = (gv == tv) | (np.isnan(gv) & np.isnan(tv))
    diff = np.where(same, 0.0, np.abs(gv - tv))
    assert np.all((diff <= ulp) | (diff <= TOL[dtype][1])), name
    assert np.mean(diff != 0) < 0.01, (name, np.mean(diff != 0))


# ================================================================ ops: values, grads
def _u(*shape, lo=-2.0, hi=2.0, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)


A, B, POS = _u(4, 5), _u(4, 5, seed=1), _u(4, 5, lo=0.5, hi=2.0, seed=2)
BIG = _u(4, 4096, lo=0.0, hi=1.0, seed=3)          # sums far past bfloat16's 256-ulp reach
M1, M2 = _u(3, 8), _u(8, 5, seed=1)
BM1, BM2 = _u(2, 3, 8), _u(2, 8, 4, seed=1)
X4, W4 = _u(2, 3, 6, 6), _u(4, 3, 3, 3, seed=1) * 0.3
IDX = np.array([0, 1, 4, 2])
F = lambda L: L.nn.functional          # noqa: E731


class F32:
    """A float32 operand (kept float32 when the others are cast to the low dtype)."""

    def __init__(self, a):
        self.a = a


_OPS = {
    # elementwise, scalar operands and promotion with float32 / int tensors
    **{u: (lambda L, x, u=u: getattr(L, u)(x), [A]) for u in (
        "abs", "neg", "exp", "exp2", "expm1", "sin", "cos", "tan", "tanh", "sinh", "cosh",
        "sigmoid", "sign", "floor", "ceil", "round", "trunc", "frac", "erf", "atan", "square",
        "relu")},
    **{u: (lambda L, x, u=u: getattr(L, u)(x * 0.4), [POS]) for u in (
        "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal", "acos", "asin",
        "erfinv")},
    **{f"{b}_{k}": (lambda L, x, y, b=b: getattr(L, b)(x, y), [POS if b == "pow" else A, y])
       for b in ("add", "sub", "mul", "div", "maximum", "minimum", "atan2", "fmod",
                 "remainder", "pow")
       for k, y in (("t", B), ("bcast", B[0]), ("f32", F32(B)), ("int", np.arange(-2, 3)))},
    **{f"{b}_s{s}": (lambda L, x, b=b, s=s: getattr(L, b)(x, s), [POS if b == "pow" else A])
       for b in ("add", "sub", "mul", "div", "fmod", "remainder", "pow") for s in (0.1, 3, -1.7)},
    "rsub_s": (lambda L, x: 0.1 - x, [A]), "rdiv_s": (lambda L, x: 2.5 / x, [POS]),
    "rpow_s": (lambda L, x: 1.5 ** x, [A]), "mul_0d_f32": (lambda L, x: x * L.tensor(0.3), [A]),
    "add_alpha": (lambda L, x, y: L.add(x, y, alpha=0.3), [A, B]),
    "addcmul": (lambda L, x, y, z: L.addcmul(x, y, z, value=0.3), [A, B, POS]),
    "addcdiv": (lambda L, x, y, z: L.addcdiv(x, y, z, value=0.3), [A, B, POS]),
    "lerp": (lambda L, x, y: L.lerp(x, y, 0.3), [A, B]),
    "lerp_t": (lambda L, x, y, w: L.lerp(x, y, w), [A, B, POS]),
    "clamp": (lambda L, x: L.clamp(x, -0.3, 0.7), [A]),
    "clamp_t": (lambda L, x, y: L.clamp(x, min=y), [A, B]),
    "where": (lambda L, x, y: L.where(x > 0, x, y), [A, B]),
    "where_s": (lambda L, x: L.where(x > 0, x, 0.1), [A]),
    "where_f32": (lambda L, x, y: L.where(x > 0, x, y), [A, F32(B)]),
    **{c: (lambda L, x, y, c=c: getattr(L, c)(x, y), [A, B]) for c in ("eq", "ne", "lt", "le", "gt", "ge")},
    **{c + "_s": (lambda L, x, c=c: getattr(L, c)(x, 0.1), [A]) for c in ("eq", "lt", "ge")},
    "lt_f32": (lambda L, x, y: L.lt(x, y), [A, F32(B)]),
    "isnan": (lambda L, x: L.isnan(x / 0), [A]), "isclose": (lambda L, x, y: L.isclose(x, y), [A, B]),
    "nan_to_num": (lambda L, x: L.nan_to_num(x / 0, posinf=1.5), [A]),
    # reductions (many elements: torch accumulates in float32)
    **{r: (lambda L, x, r=r: getattr(L, r)(x), [A]) for r in (
        "sum", "mean", "prod", "amax", "amin", "std", "var", "nansum", "norm", "max", "min",
        "argmax", "argmin", "median", "all", "any", "count_nonzero")},
    **{r + "_dim": (lambda L, x, r=r: getattr(L, r)(x, 1), [A]) for r in (
        "sum", "mean", "prod", "amax", "std", "var", "max", "argmax", "logsumexp", "cumsum",
        "cumprod", "sort", "topk", "softmax", "log_softmax")},
    **{r + "_big": (lambda L, x, r=r: getattr(L, r)(x), [BIG]) for r in (
        "sum", "mean", "var", "std", "norm")},
    **{r + "_big_dim": (lambda L, x, r=r: getattr(L, r)(x, 1), [BIG]) for r in (
        "sum", "mean", "var", "std", "cumsum", "softmax", "logsumexp", "log_softmax")},
    "norm_big_dim": (lambda L, x: L.norm(x, dim=1), [BIG]),
    "vector_norm_big": (lambda L, x: L.linalg.vector_norm(x, 3, dim=1), [BIG]),
    "sum_dtype": (lambda L, x: L.sum(x, dtype=L.float32), [A]),
    "softmax_dtype": (lambda L, x: L.softmax(x, 1, dtype=L.float32), [A]),
    "std_mean": (lambda L, x: L.std_mean(x, 1), [A]), "var_mean": (lambda L, x: L.var_mean(x, 1), [A]),
    "norm_p1": (lambda L, x: L.norm(x, 1, dim=1), [A]),
    "mean_keepdim": (lambda L, x: x.mean((0, 1), keepdim=True), [A]),
    # linear algebra
    "matmul": (lambda L, x, y: x @ y, [M1, M2]), "mm": (lambda L, x, y: L.mm(x, y), [M1, M2]),
    "bmm": (lambda L, x, y: L.bmm(x, y), [BM1, BM2]),
    "matmul_bcast": (lambda L, x, y: L.matmul(x, y), [BM1, M2]),
    "matmul_big": (lambda L, x: x @ x.t(), [BIG]),
    "mv": (lambda L, x, y: L.mv(x, y), [M1, _u(8)]), "dot": (lambda L, x, y: L.dot(x, y), [_u(8), _u(8, seed=1)]),
    "einsum": (lambda L, x, y: L.einsum("bij,bjk->bik", x, y), [BM1, BM2]),
    "addmm": (lambda L, z, x, y: L.addmm(z, x, y, beta=0.5, alpha=2), [_u(3, 5), M1, M2]),
    "baddbmm": (lambda L, z, x, y: L.baddbmm(z, x, y), [_u(2, 3, 4), BM1, BM2]),
    "outer": (lambda L, x, y: L.outer(x, y), [_u(3), _u(4)]),
    "tensordot": (lambda L, x, y: L.tensordot(x, y, 1), [M1, M2]),
    # nn.functional
    "linear": (lambda L, x, w, b: F(L).linear(x, w, b), [M1, _u(6, 8), _u(6)]),
    "conv2d": (lambda L, x, w, b: F(L).conv2d(x, w, b, padding=1), [X4, W4, _u(4)]),
    "conv1d": (lambda L, x, w: F(L).conv1d(x, w, stride=2), [_u(2, 3, 10), _u(4, 3, 3)]),
    "conv_transpose2d": (lambda L, x, w: F(L).conv_transpose2d(x, w), [X4, _u(3, 2, 2, 2)]),
    "layer_norm": (lambda L, x, w, b: F(L).layer_norm(x, (5,), w, b), [A, _u(5), _u(5)]),
    "layer_norm_big": (lambda L, x: F(L).layer_norm(x, (4096,)), [BIG]),
    "group_norm": (lambda L, x, w, b: F(L).group_norm(x, 1, w, b), [X4, _u(3), _u(3)]),
    "batch_norm": (lambda L, x, w, b: F(L).batch_norm(x, None, None, w, b, training=True),
                   [X4, _u(3), _u(3)]),
    "rms_norm": (lambda L, x, w: F(L).rms_norm(x, (5,), w), [A, _u(5)]),
    **{a: (lambda L, x, a=a: getattr(F(L), a)(x), [A]) for a in (
        "gelu", "silu", "elu", "softplus", "mish", "hardswish", "hardtanh", "relu6",
        "logsigmoid", "selu", "softsign")},
    "gelu_tanh": (lambda L, x: F(L).gelu(x, approximate="tanh"), [A]),
    "leaky_relu": (lambda L, x: F(L).leaky_relu(x, 0.1), [A]),
    "glu": (lambda L, x: F(L).glu(x, 0), [A]), "prelu": (lambda L, x, w: F(L).prelu(x, w), [A, _u(1)]),
    "cross_entropy": (lambda L, x, t: F(L).cross_entropy(x, t), [A, IDX]),
    "cross_entropy_ls": (lambda L, x, t: F(L).cross_entropy(x, t, label_smoothing=0.1,
                                                            reduction="sum"), [A, IDX]),
    "cross_entropy_probs": (lambda L, x, t: F(L).cross_entropy(x, t.softmax(1)), [A, B]),
    "nll_loss": (lambda L, x, t: F(L).nll_loss(x, t), [A, IDX]),
    "mse_loss": (lambda L, x, y: F(L).mse_loss(x, y), [A, B]),
    "mse_loss_f32": (lambda L, x, y: F(L).mse_loss(x, y), [A, F32(B)]),
    "l1_loss": (lambda L, x, y: F(L).l1_loss(x, y), [A, B]),
    "smooth_l1_loss": (lambda L, x, y: F(L).smooth_l1_loss(x, y), [A, B]),
    "huber_loss": (lambda L, x, y: F(L).huber_loss(x, y), [A, B]),
    "bce_with_logits": (lambda L, x, y: F(L).binary_cross_entropy_with_logits(x, y),
                        [A, _u(4, 5, lo=0, hi=1)]),
    "bce": (lambda L, x, y: F(L).binary_cross_entropy(x.sigmoid(), y), [A, _u(4, 5, lo=0, hi=1)]),
    "kl_div": (lambda L, x, y: F(L).kl_div(x.log_softmax(1), y.softmax(1),
                                           reduction="batchmean"), [A, B]),
    "dropout_eval": (lambda L, x: F(L).dropout(x, 0.5, training=False), [A]),
    "dropout_p0": (lambda L, x: F(L).dropout(x, 0.0), [A]),
    "embedding": (lambda L, i, w: F(L).embedding(i, w), [np.array([[0, 2], [1, 0]]), _u(3, 4)]),
    "max_pool2d": (lambda L, x: F(L).max_pool2d(x, 2), [X4]),
    "avg_pool2d": (lambda L, x: F(L).avg_pool2d(x, 2), [X4]),
    "adaptive_avg_pool2d": (lambda L, x: F(L).adaptive_avg_pool2d(x, 1), [X4]),
    "adaptive_max_pool2d": (lambda L, x: F(L).adaptive_max_pool2d(x, 2), [X4]),
    "max_pool1d": (lambda L, x: F(L).max_pool1d(x, 2), [_u(2, 3, 8)]),
    "interpolate_nearest": (lambda L, x: F(L).interpolate(x, scale_factor=2), [X4]),
    "interpolate_bilinear": (lambda L, x: F(L).interpolate(x, size=(9, 9), mode="bilinear"), [X4]),
    "pad": (lambda L, x: F(L).pad(x, (1, 2)), [A]),
    "pad_reflect": (lambda L, x: F(L).pad(x, (1, 1, 1, 1), mode="reflect"), [X4]),
    "normalize": (lambda L, x: F(L).normalize(x, dim=1), [A]),
    "sdpa": (lambda L, q, k, v: F(L).scaled_dot_product_attention(q, k, v),
             [_u(2, 3, 4), _u(2, 5, 4, seed=1), _u(2, 5, 4, seed=2)]),
    "sdpa_causal": (lambda L, q, k, v: F(L).scaled_dot_product_attention(q, k, v, is_causal=True),
                    [_u(2, 3, 4), _u(2, 3, 4, seed=1), _u(2, 3, 4, seed=2)]),
    "one_hot_mul": (lambda L, x: x * F(L).one_hot(L.tensor([0, 1, 2, 3]), 5), [A]),
    # indexing and shapes
    "cat": (lambda L, x, y: L.cat([x, y]), [A, B]), "cat_f32": (lambda L, x, y: L.cat([x, y]), [A, F32(B)]),
    "stack": (lambda L, x, y: L.stack([x, y]), [A, B]),
    "getitem": (lambda L, x: x[1:3, ::2], [A]), "getitem_adv": (lambda L, x: x[[0, 2, 2]], [A]),
    "getitem_mask": (lambda L, x: x[x > 0], [A]),
    "index_select": (lambda L, x: L.index_select(x, 1, L.tensor([0, 3])), [A]),
    "gather": (lambda L, x: L.gather(x, 1, L.tensor([[0], [1], [2], [3]])), [A]),
    "scatter_add": (lambda L, x, y: x.scatter_add(1, L.tensor([[0, 1], [1, 1], [2, 0], [3, 3]]),
                                                  y[:, :2]), [A, B]),
    "index_add": (lambda L, x, y: x.index_add(0, L.tensor([0, 0]), y[:2]), [A, B]),
    "masked_fill": (lambda L, x: x.masked_fill(x > 0, 0.1), [A]),
    "setitem": (lambda L, x: _set(x.clone(), (0, slice(None)), 0.1), [A]),
    "setitem_f32": (lambda L, x, y: _set(x.clone(), 0, y[0].to(x.dtype)), [A, F32(B)]),
    "transpose": (lambda L, x: x.t().contiguous(), [A]),
    "reshape": (lambda L, x: x.reshape(5, 4), [A]), "flip": (lambda L, x: x.flip(0), [A]),
    "roll": (lambda L, x: x.roll(1, 0), [A]), "repeat": (lambda L, x: x.repeat(2, 1), [A]),
    "expand": (lambda L, x: x[:, :1].expand(4, 3) * 1, [A]), "tril": (lambda L, x: x.tril(), [A]),
    "chunk": (lambda L, x: x.chunk(2, 1), [A]), "split": (lambda L, x: x.split([2, 3], 1), [A]),
    "unbind": (lambda L, x: x.unbind(0), [A]),
    # casts inside graphs
    "to_f32": (lambda L, x: x.float() * 2, [A]), "to_f64": (lambda L, x: x.double(), [A]),
    "type_as": (lambda L, x, y: y.type_as(x), [A, F32(B)]),
    "to_other_low": (lambda L, x: x.to(L.float16 if x.dtype == L.bfloat16 else L.bfloat16), [A]),
    "item": (lambda L, x: x.sum().item(), [A]), "tolist": (lambda L, x: x[0].tolist(), [A]),
    "mul_": (lambda L, x: x.clone().mul_(0.1).add_(x, alpha=0.5), [A]),
    "add_f32_": (lambda L, x, y: x.clone().add_(y), [A, F32(B)]),
}


def _inputs(lib, arrays, dtype, grad):
    out = []
    for a in arrays:
        if isinstance(a, F32):
            out.append(lib.tensor(a.a).requires_grad_(grad))
        elif a.dtype.kind == "f":
            out.append(lib.tensor(a).to(getattr(lib, dtype)).requires_grad_(grad))
        else:
            out.append(lib.tensor(a))
    return out


@needs_torch
@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("name", sorted(_OPS))
def test_op_as_torch(name, dtype):
    fn, arrays = _OPS[name]
    gi, ti = _inputs(genesis, arrays, dtype, True), _inputs(torch, arrays, dtype, True)
    g, t = fn(genesis, *gi), fn(torch, *ti)
    gs, ts = (g, t) if isinstance(t, (tuple, list)) else ((g,), (t,))
    assert len(gs) == len(ts)
    for k, (go, to) in enumerate(zip(gs, ts)):
        if isinstance(to, torch.Tensor):
            # float32 results from low-precision inputs carry the inputs' rounding
            assert_close(go, to, f"{name} output {k}", dtype=dtype)
        else:
            assert go == pytest.approx(to, rel=TOL[dtype][0], abs=TOL[dtype][1], nan_ok=True)
    pairs = [(go, to) for go, to in zip(gs, ts)
             if isinstance(to, torch.Tensor) and to.requires_grad]
    if not pairs:
        return
    r = np.random.default_rng(5)
    ups = [r.standard_normal(tuple(to.shape)).astype(np.float32) for _, to in pairs]
    genesis.autograd.backward([go for go, _ in pairs],
                              [genesis.tensor(u).to(go.dtype) for u, (go, _) in zip(ups, pairs)])
    torch.autograd.backward([to for _, to in pairs],
                            [torch.tensor(u).to(to.dtype) for u, (_, to) in zip(ups, pairs)])
    for k, (a, b) in enumerate(zip(gi, ti)):
        if b.requires_grad and b.grad is not None:
            assert a.grad is not None, f"{name}: no gradient for input {k}"
            assert_close(a.grad, b.grad, f"{name} grad {k}", scale=2, dtype=dtype)
        elif b.requires_grad:
            assert a.grad is None or not a.grad.float().abs().sum().item()


@needs_torch
@pytest.mark.parametrize("dtype", LOW)
def test_reductions_accumulate_in_float32(dtype):
    """Summing 2**16 values of 1 in bfloat16/float16 step by step would stop at 256 /
    2048; torch (and genesis) accumulate in float32."""
    n = 1 << 16
    for lib in (genesis, torch):
        x = lib.ones(n, dtype=getattr(lib, dtype))
        assert x.sum().item() == n if dtype == "bfloat16" else math.isinf(x.sum().item())
        assert x.mean().item() == 1.0
        assert x.cumsum(0)[-1].item() == (n if dtype == "bfloat16" else math.inf)
        assert x.reshape(256, 256).sum(1)[0].item() == 256
        assert x.var().item() == 0.0 and x.std().item() == 0.0
        assert x.norm().item() == 256.0
        assert (x * 0.01).sum().float().item() == pytest.approx(655.36, rel=1e-2)


# ================================================================ printing
_PRINT = [[1.5, -2.0, 65504.0], [0.1, 0.2, 0.3], [1e-5, 1.0], [1e-8, 3e-8], [1e10, 1.0],
          [math.nan, math.inf, -math.inf, 1.5], [100.0, 2.0, 3.0], [0.0001, 1000.0],
          [123456.0, 0.5], [-0.0, 0.0], [3.0e38, 1.0], [6e-8, 1.0], [5.96e-08], 0.3, [],
          np.random.default_rng(0).standard_normal((3, 4)).tolist(),
          (np.random.default_rng(1).standard_normal(2000) * 3).tolist(),
          np.arange(12.0).reshape(2, 2, 3).tolist()]


@needs_torch
@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("i", range(len(_PRINT)))
def test_repr_as_torch(i, dtype):
    v = _PRINT[i]
    if dtype == "float16" and v in ([1e10, 1.0], [3.0e38, 1.0], [123456.0, 0.5]):
        v = [x if abs(x) < 65504 else math.inf for x in v]
    g = genesis.tensor(v).to(getattr(genesis, dtype))
    t = torch.tensor(v).to(getattr(torch, dtype))
    assert repr(g) == repr(t).replace("torch", "genesis")
    gr = g.clone().requires_grad_()
    assert repr(gr * 1).split("grad_fn")[0] == repr(t.clone().requires_grad_() * 1) \
        .replace("torch", "genesis").split("grad_fn")[0]


# ================================================================ checkpoints
@pytest.mark.parametrize("dtype", LOW)
def test_checkpoint_roundtrip_is_bit_exact(dtype, tmp_path):
    """Every bit pattern, NaN payloads included, and views, survive save/load."""
    d = getattr(genesis, dtype)
    pat = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    x = genesis.tensor(pat.view(d.np))
    obj = {"x": x, "views": [x[::7], x[3], x.reshape(256, 256).t()],
           "model": genesis.nn.Linear(3, 2).to(d).state_dict()}
    genesis.save(obj, tmp_path / "ck.pt")
    back = genesis.load(tmp_path / "ck.pt")
    assert back["x"].dtype is d and np.array_equal(_bits(back["x"]), pat)
    assert np.array_equal(_bits(back["views"][0]), pat[::7])
    assert back["views"][1].dtype is d and int(_bits(back["views"][1])) == 3
    assert np.array_equal(_bits(back["views"][2]), pat.reshape(256, 256).T)
    for k, v in obj["model"].items():
        assert back["model"][k].dtype is d and np.array_equal(_bits(back["model"][k]), _bits(v))


# ================================================================ modules
def _modules(lib):
    nn = lib.nn
    return {
        "Linear": (nn.Linear(16, 8), (4, 16)),
        "Conv2d": (nn.Conv2d(3, 4, 3, padding=1), (2, 3, 8, 8)),
        "LayerNorm": (nn.LayerNorm(16), (4, 16)),
        "Embedding": (nn.Embedding(10, 6), None),
        "MultiheadAttention": (nn.MultiheadAttention(16, 4, batch_first=True), (2, 5, 16)),
        "MLP": (nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.LayerNorm(32),
                              nn.Linear(32, 4)), (8, 16)),
        "BatchNorm1d": (nn.BatchNorm1d(16), (8, 16)),
    }


@needs_torch
@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("how", ["method", "to", "to_kw"])
@pytest.mark.parametrize("name", ["Linear", "Conv2d", "LayerNorm", "Embedding",
                                  "MultiheadAttention", "MLP", "BatchNorm1d"])
def test_module_in_low_precision_as_torch(name, how, dtype):
    torch.manual_seed(0)
    tm, shape = _modules(torch)[name]
    gm, _ = _modules(genesis)[name]
    gm.load_state_dict({k: genesis.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    for m, lib in ((tm, torch), (gm, genesis)):
        d = getattr(lib, dtype)
        r = (m.half() if dtype == "float16" else m.bfloat16()) if how == "method" else \
            m.to(d) if how == "to" else m.to(dtype=d)
        assert r is m
    for (k, p), (k2, q) in zip(tm.named_parameters(), gm.named_parameters()):
        assert k == k2 and q.dtype is getattr(genesis, dtype) and isinstance(q, genesis.nn.Parameter)
    for (k, p), (k2, q) in zip(tm.named_buffers(), gm.named_buffers()):
        assert k == k2 and str(q.dtype).split(".")[-1] == str(p.dtype).split(".")[-1], k
    if shape is None:
        idx = np.array([[1, 2, 3], [4, 5, 9]])
        xt, xg = torch.tensor(idx), genesis.tensor(idx)
    else:
        x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
        xt = torch.tensor(x).to(getattr(torch, dtype)).requires_grad_()
        xg = genesis.tensor(x).to(getattr(genesis, dtype)).requires_grad_()
    args = (3 if name == "MultiheadAttention" else 1)
    yt, yg = tm(*[xt] * args), gm(*[xg] * args)
    if isinstance(yt, tuple):
        assert_close(yg[1], yt[1], "attention weights", scale=2)
        yt, yg = yt[0], yg[0]
    assert_close(yg, yt, "output", scale=2)
    up = np.random.default_rng(2).standard_normal(tuple(yt.shape)).astype(np.float32)
    yt.backward(torch.tensor(up).to(yt.dtype))
    yg.backward(genesis.tensor(up).to(yg.dtype))
    for (k, p), (_, q) in zip(tm.named_parameters(), gm.named_parameters()):
        assert_close(q.grad, p.grad, f"grad of {k}", scale=4)
    if shape is not None:
        assert_close(xg.grad, xt.grad, "grad of the input", scale=4)
    # an optimizer step keeps the dtype and matches torch's from the same parameters and
    # gradients (torch's grads copied over: Adam's first step is lr * sign(g), which
    # round-off in a near-zero gradient could flip)
    for opt, kw in (("SGD", dict(lr=0.1, momentum=0.9, weight_decay=1e-2)),
                    ("Adam", dict(lr=1e-2, weight_decay=1e-2)), ("AdamW", dict(lr=1e-2)),
                    ("Adam", dict(lr=1e-2, amsgrad=True, maximize=True))):
        for p, q in zip(tm.parameters(), gm.parameters()):
            q.data = _from_torch(p)
            q.grad = _from_torch(p.grad)
        ot = getattr(torch.optim, opt)(tm.parameters(), **kw)
        og = getattr(genesis.optim, opt)(gm.parameters(), **kw)
        for _ in range(2):
            ot.step()
            og.step()
        for (k, p), (_, q) in zip(tm.named_parameters(), gm.named_parameters()):
            assert q.dtype is getattr(genesis, dtype)
            for s in og.state[q].values():
                if isinstance(s, genesis.Tensor) and s.ndim:
                    assert s.dtype is q.dtype
            if opt == "SGD":        # genesis's fused SGD rounds after each NumPy step
                assert_close(q, p, f"{opt} step of {k}", scale=2)
            else:
                assert_bits(q, p, f"{opt} step of {k}")


def _from_torch(t):
    """A genesis tensor with the bits of torch tensor t."""
    t = t.detach()
    if t.dtype in (torch.bfloat16, torch.float16):
        d = genesis.bfloat16 if t.dtype == torch.bfloat16 else genesis.float16
        return genesis.tensor(t.contiguous().view(torch.int16).numpy().view(d.np))
    return genesis.tensor(t.numpy())


@pytest.mark.parametrize("dtype", LOW)
def test_model_back_to_float_and_autocast_free_training_step(dtype):
    """Round trip through the low dtype, and a few training steps in it, without torch."""
    d = getattr(genesis, dtype)
    genesis.manual_seed(0)
    m = genesis.nn.Sequential(genesis.nn.Linear(8, 16), genesis.nn.ReLU(), genesis.nn.Linear(16, 1))
    w32 = m[0].weight.detach().clone()
    m.to(d)
    assert all(p.dtype is d for p in m.parameters())
    opt = genesis.optim.SGD(m.parameters(), lr=0.05)
    x = genesis.randn(32, 8, dtype=d)
    y = x.sum(1, keepdim=True) * 0.5
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = genesis.nn.functional.mse_loss(m(x), y)
        assert loss.dtype is d
        loss.backward()
        assert all(p.grad.dtype is d for p in m.parameters())
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.5
    m.float()
    assert m[0].weight.dtype is genesis.float32
    with pytest.raises(AssertionError):      # it did change in training
        np.testing.assert_array_equal(m[0].weight.detach().numpy(), w32.numpy())
