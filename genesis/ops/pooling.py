"""Pooling as torch.nn.functional's: max_pool1d/2d/3d, avg_pool1d/2d/3d,
adaptive_avg_pool1d/2d/3d and adaptive_max_pool1d/2d.

Windowed pools walk the kernel offsets: each offset is one strided slice of the padded
input, so a pool is kernel-size passes of whole-array NumPy work. Max pooling keeps, per
output, the offset of the first maximum (torch's index choice); its backward adds the
gradient back through the same slices where that offset won, and that backward's own
backward gathers through them again, so double backward works (the common 2x2
stride-2 pool has a pairwise fast path, _max_2x2/_scatter_2x2). Average pooling is a
window sum scaled by torch's divisor; its backward is the adjoint sum, and vice versa.
"""
import itertools
import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor, _make
from .. import dtypes as _dt
from .common import FLOAT_NP, LOW_FLOAT_NP as _LOW, F32 as _F32
from .conv import geo as _geo, _center

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d",
           "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices"]

_I64 = np.dtype(np.int64)
_HEAD = (slice(None), slice(None))


def _lowest(npd):
    return -math.inf if npd in FLOAT_NP else np.iinfo(npd).min


def _padded_with(be, x, g, value):
    if not any(g.lo) and not any(g.hi):
        return x
    xp = be.full(x.shape[:2] + g.padded, value, x.dtype)
    be.setitem(xp, _center(g), x)
    return xp


def _first_real(g):
    """Per output, the kernel offset (row-major over the kernel) of the first window
    element inside the input: torch's starting index, kept unless a later value is
    larger, so windows of -inf pick a real element, never padding."""
    flat, kstride = None, 1
    nd = len(g.k)
    for i in reversed(range(nd)):
        r = np.arange(g.out[i]) * g.stride[i] - g.lo[i]
        first = np.maximum(0, (-r + g.dil[i] - 1) // g.dil[i])
        part = (first * kstride).reshape((-1,) + (1,) * (nd - 1 - i))
        flat = part if flat is None else part + flat
        kstride *= g.k[i]
    return flat


class MaxPool(Function):
    """Values of a max pool (and torch's indices, with ``want_idx``); the winning
    offsets ride along in ctx for backward."""

    @staticmethod
    def forward(ctx, a, g, want_idx):
        be = a._be
        x = a._data
        isf = x.dtype in FLOAT_NP
        r = _max_2x2(be, x, g, isf) if _fast_2x2(g) else None
        m, arg = r if r is not None else _max_offsets(be, x, g, isf)
        ctx.geo, ctx.arg = g, arg
        return (m, _indices(be, arg, g)) if want_idx else m

    @staticmethod
    def backward(ctx, gy, gi=None):
        return MaxPoolScatter.apply(gy, ctx.geo, ctx.arg), None, None


def _fast_2x2(g):
    """Whether g is a 2x2 window with stride 2 and no padding or dilation (the common
    pool), which has a pairwise fast path."""
    return (g.k == (2, 2) and g.stride == (2, 2) and g.dil == (1, 1) and not any(g.lo)
            and not any(g.hi))


def _max_2x2(be, x, g, isf):
    """A 2x2 stride-2 max pool in pairs: the max of each column pair (strided reads),
    then of each row pair of that (contiguous rows). The first maximum's offset
    (row-major: 2 * row + col) follows from the strict comparisons of each pair:
    col = right > left, row = bottom > top. None when a NaN needs _max_offsets'
    NaN rule."""
    H, W = 2 * g.out[0], 2 * g.out[1]
    gi = be.getitem
    left, right = gi(x, (_S, _S, slice(0, H), slice(0, W, 2))), \
        gi(x, (_S, _S, slice(0, H), slice(1, W, 2)))
    mw = be.maximum(left, right)
    col = _int8(be, be.greater(right, left))
    top, bot = gi(mw, _EVEN), gi(mw, _ODD)
    row = _int8(be, be.greater(bot, top))
    m = be.maximum(top, bot)
    if isf and be.any(be.isnan(m)):
        return None
    ct, cb = gi(col, _EVEN), gi(col, _ODD)
    arg = be.subtract(cb, ct)             # row ? 2 + col_bottom : col_top
    be.add(arg, _TWO, out=arg)
    be.multiply(arg, row, out=arg)
    be.add(arg, ct, out=arg)
    return m, arg


_TWO = np.int8(2)
_I8 = np.dtype(np.int8)
_S = slice(None)
_EVEN, _ODD = (_S, _S, slice(0, None, 2)), (_S, _S, slice(1, None, 2))


def _int8(be, b):
    """A bool array as int8 0/1: a free view of NumPy's bytes, else a cast."""
    return b.view(np.int8) if type(b) is np.ndarray else be.astype(b, _I8)

_SAME_SIZE_INT = {1: np.dtype(np.int8), 2: np.dtype(np.int16), 4: np.dtype(np.int32),
                  8: np.dtype(np.int64)}


def _scatter_2x2(be, y, g, arg):
    """MaxPoolScatter for the 2x2 fast path: per offset, the gradient's bits ANDed with
    a 0/-1 mask of where that offset won (branch-free, unlike a select on a random mask;
    inf/NaN gradients reach only their winners). None where the dtype has no integer
    of its size."""
    it = _SAME_SIZE_INT.get(y.dtype.itemsize)
    if it is None or y.shape != arg.shape or type(y) is not np.ndarray:
        return None
    n, c = y.shape[:2]
    H, W = g.size
    if H % 2 or W % 2:       # floor mode leaves a last row/column no window reaches
        gx = be.full((n, c, H, W), 0, y.dtype)
    else:
        gx = be.empty((n, c, H, W), y.dtype)
    gxi, yi = gx.view(it), y.view(it)
    for j in range(4):
        mask = be.equal(arg, np.int8(j)).view(np.int8)
        be.negative(mask, out=mask)
        r, s = divmod(j, 2)
        be.bitwise_and(yi, mask, out=gxi[:, :, r:2 * g.out[0]:2, s:2 * g.out[1]:2])
    return gx


def _max_offsets(be, x, g, isf, nan_aware=False):
    """Each window's max and the kernel offset of its first max (the last NaN when there
    are NaNs, as torch's kernel: a NaN always takes over). Offsets are walked in
    increasing order, so "take offset j" is max(arg, j) and masked copies are avoided;
    a result holding NaN is redone with the NaN rule."""
    dt = x.dtype
    low = _lowest(dt)
    xp = _padded_with(be, x, g, low)
    shape = x.shape[:2] + g.out
    arg_dt = np.dtype(np.int8 if g.kn <= 127 else np.int32)
    padded = any(g.lo)
    if padded:      # windows reaching into the left padding start at their first real place
        arg = be.astype(be.broadcast_to(be.from_host(_first_real(g), arg_dt), shape), arg_dt)
        m = be.full(shape, low, dt)
    else:
        arg = be.full(shape, 0, arg_dt)
        m = be.copy(be.getitem(xp, _HEAD + g.offsets[0][1]))
    for j, (_, sl) in enumerate(g.offsets):
        if j == 0 and not padded:
            continue
        v = be.getitem(xp, _HEAD + sl)
        upd = be.greater(v, m)
        if nan_aware:
            be.logical_or(upd, be.isnan(v), out=upd)
        be.maximum(m, v, out=m)          # NaN-propagating, as the value should be
        be.maximum(arg, be.multiply(upd, arg_dt.type(j)), out=arg)
    if isf and not nan_aware and be.any(be.isnan(m)):
        return _max_offsets(be, x, g, isf, True)
    return m, arg


class MaxPoolScatter(Function):
    """The max pool's input gradient: gy added at each window's winning place."""

    @staticmethod
    def forward(ctx, gy, g, arg):
        ctx.geo, ctx.arg = g, arg
        be = gy._be
        y = gy._data
        if _fast_2x2(g):
            gx = _scatter_2x2(be, y, g, arg)
            if gx is not None:
                return gx
        gxp = be.full(y.shape[:2] + g.padded, 0, y.dtype)
        zero = be.full((), 0, y.dtype)
        for j, (_, sl) in enumerate(g.offsets):
            tgt = be.getitem(gxp, _HEAD + sl)
            be.add(tgt, be.where(be.equal(arg, j), y, zero), out=tgt)
        if not any(g.lo) and not any(g.hi):
            return gxp
        return be.ascontiguousarray(be.getitem(gxp, _center(g)))

    @staticmethod
    def backward(ctx, gg):
        return MaxPoolGather.apply(gg, ctx.geo, ctx.arg), None, None


class MaxPoolGather(Function):
    """Each window's winning element of an input-shaped tensor (the adjoint of
    MaxPoolScatter)."""

    @staticmethod
    def forward(ctx, gx, g, arg):
        ctx.geo, ctx.arg = g, arg
        be = gx._be
        xp = _padded_with(be, gx._data, g, 0)
        out = be.full(arg.shape, 0, xp.dtype)
        for j, (_, sl) in enumerate(g.offsets):
            out = be.where(be.equal(arg, j), be.getitem(xp, _HEAD + sl), out)
        return out

    @staticmethod
    def backward(ctx, gg):
        return MaxPoolScatter.apply(gg, ctx.geo, ctx.arg), None, None


def _indices(be, arg, g):
    """Winning offsets as torch's indices: flat positions in each input plane."""
    nd = len(g.k)
    arg = be.astype(arg, _I64)
    idx = None
    kstride = g.kn
    for i in range(nd):
        kstride //= g.k[i]
        off = be.remainder(be.floor_divide(arg, kstride), g.k[i]) if kstride > 1 or i else arg
        base = (np.arange(g.out[i], dtype=np.int64) * g.stride[i] - g.lo[i]).reshape(
            (-1,) + (1,) * (nd - 1 - i))
        pos = be.add(be.multiply(off, g.dil[i]), be.from_host(base, _I64))
        idx = pos if idx is None else be.add(be.multiply(idx, g.size[i]), pos)
    return idx


class WindowSum(Function):
    """Average pooling as a linear map: the sum over each window divided by ``div``
    (forward), or its adjoint, each window's gradient divided by ``div`` and added back
    over the window (``adjoint``). Each is the other's backward."""

    @staticmethod
    def forward(ctx, a, g, div, adjoint):
        ctx.geo, ctx.div, ctx.adjoint = g, div, adjoint
        be = a._be
        x = a._data
        dt = x.dtype
        if dt in _LOW:
            x = be.astype(x, _F32)
        isf = x.dtype in FLOAT_NP
        if not adjoint:
            xp = _padded_with(be, x, g, 0)
            out = be.full(x.shape[:2] + g.out, 0, x.dtype if isf else _I64)
            for _, sl in g.offsets:
                be.add(out, be.getitem(xp, _HEAD + sl), out=out)
            if isf:
                be.divide(out, div, out=out)
            else:       # integer pools divide as C++ does: truncating
                out = be.astype(be.trunc(be.divide(out, div)), dt)
        else:
            y = be.divide(x, div)
            gxp = be.full(x.shape[:2] + g.padded, 0, y.dtype)
            for _, sl in g.offsets:
                tgt = be.getitem(gxp, _HEAD + sl)
                be.add(tgt, y, out=tgt)
            out = gxp if not any(g.lo) and not any(g.hi) else be.ascontiguousarray(
                be.getitem(gxp, _center(g)))
        return out if out.dtype == dt else be.astype(out, dt)

    @staticmethod
    def backward(ctx, gy):
        return WindowSum.apply(gy, ctx.geo, ctx.div, not ctx.adjoint), None, None, None


# ---------------------------------------------------------------- arguments
def _tuple(v, nd, name, fn):
    if isinstance(v, (int, np.integer)):
        return (int(v),) * nd
    v = tuple(int(e) for e in v)
    if len(v) == 1:
        return v * nd
    if len(v) != nd:
        raise RuntimeError(f"{fn}: {name} must either be a single int, or a tuple of {nd} "
                           "ints")
    return v


def _batched(input, nd, fn):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    s = input.shape
    if len(s) not in (nd + 1, nd + 2) or any(n == 0 for n in s[1 if len(s) == nd + 2 else 0:]):
        raise RuntimeError(f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional "
                           f"0 dim batch size for input, but got:{list(s)}")
    return len(s) == nd + 1


def _pool_geo(input, kernel_size, stride, padding, dilation, ceil_mode, nd, fn, size):
    k = _tuple(kernel_size, nd, "kernel_size", fn)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        _tuple(stride, nd, "stride", fn)
    p = _tuple(padding, nd, "padding", fn)
    d = _tuple(dilation, nd, "dilation", fn)
    if any(e <= 0 for e in k):
        raise RuntimeError(f"kernel size should be greater than zero, but got "
                           f"kernel_size={list(k)}")
    if any(e <= 0 for e in s):
        raise RuntimeError("stride should not be zero")
    if any(e <= 0 for e in d):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation={list(d)}")
    if any(e < 0 for e in p):
        raise RuntimeError("pad must be non-negative")
    for pp, kk, dd in zip(p, k, d):
        if pp > (dd * (kk - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pp}, kernel_size={kk} and dilation={dd}")
    if any(pp > kk // 2 for pp, kk in zip(p, k)):
        # and torch's kernels bound it by the undilated kernel too
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but "
                           f"got padding={list(p)} and kernel_size={list(k)}")
    out, hi = [], []
    for n, kk, ss, pp, dd in zip(size, k, s, p, d):
        span = n + 2 * pp - dd * (kk - 1) - 1
        o = (span + (ss - 1 if ceil_mode else 0)) // ss + 1
        if ceil_mode and (o - 1) * ss >= n + pp:     # the last window must start inside
            o -= 1
        out.append(o)
        hi.append(max(0, (o - 1) * ss + dd * (kk - 1) + 1 - n - pp))
    if any(o <= 0 for o in out):
        c = input.shape[-nd - 1]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (c,) + size))}). "
                           f"Calculated output size: ({'x'.join(map(str, (c,) + tuple(out)))}). "
                           "Output size is too small")
    return _geo(size, k, s, p, tuple(hi), d, 1, tuple(out))


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd,
              fn):
    unbatched = _batched(input, nd, fn)
    x = input.unsqueeze(0) if unbatched else input
    if x.dtype == _dt.bool_:
        raise RuntimeError(f'"{fn}" not implemented for \'Bool\'')
    g = _pool_geo(x, kernel_size, stride, padding, dilation, ceil_mode, nd, fn,
                  tuple(x.shape[2:]))
    out = MaxPool.apply(x, g, return_indices)
    if unbatched:
        return (out[0].squeeze(0), out[1].squeeze(0)) if return_indices else out.squeeze(0)
    return out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     2, "max_pool2d")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     3, "max_pool3d")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _avg_div(g, count_include_pad, npd):
    """torch's divisor per output: the window's size clipped to the padded input, or
    (count_include_pad=False) to the input; separable over dims."""
    div = None
    nd = len(g.k)
    for i in range(nd):
        start = np.arange(g.out[i]) * g.stride[i] - g.lo[i]
        end = np.minimum(start + g.k[i], g.size[i] + g.lo[i])
        if count_include_pad:
            cnt = end - start
        else:
            cnt = np.minimum(end, g.size[i]) - np.maximum(start, 0)
        cnt = cnt.reshape((-1,) + (1,) * (nd - 1 - i))
        div = cnt if div is None else div * cnt
    return div.astype(npd)


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, nd, fn):
    unbatched = _batched(input, nd, fn)
    x = input.unsqueeze(0) if unbatched else input
    g = _pool_geo(x, kernel_size, stride, padding, 1, ceil_mode, nd, fn, tuple(x.shape[2:]))
    if nd == 3 and any(n < k for n, k in zip(g.size, g.k)):
        # torch's avg_pool3d (only) checks the unpadded input against the kernel
        raise RuntimeError(f"input image (T: {g.size[0]} H: {g.size[1]} W: {g.size[2]}) "
                           f"smaller than kernel size (kT: {g.k[0]} kH: {g.k[1]} kW: {g.k[2]})")
    npd = x._data.dtype
    cdt = _F32 if npd in _LOW else (npd if npd in FLOAT_NP else np.dtype(np.float64))
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        div = x._be.full((), divisor_override, cdt)
    else:
        div = x._be.from_host(_avg_div(g, count_include_pad, cdt), cdt)
    out = WindowSum.apply(x, g, div, False)
    return out.squeeze(0) if unbatched else out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None,
                     1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 3, "avg_pool3d")


# ---------------------------------------------------------------- adaptive pools
def _out_size(output_size, size, nd, fn):
    if isinstance(output_size, (int, np.integer)):
        output_size = (output_size,) * nd
    if output_size is None:
        raise TypeError(f"{fn}(): argument 'output_size' must be tuple of ints, not NoneType")
    output_size = tuple(output_size)
    if nd == 1 and None in output_size:     # only the 2d/3d forms keep a None size
        raise TypeError(f"{fn}(): argument 'output_size' must be tuple of ints, but found "
                        "element of type NoneType")
    if len(output_size) != nd:
        raise RuntimeError(f"{fn}: output_size must be {nd}")
    out = tuple(n if o is None else int(o) for o, n in zip(output_size, size))
    if any(o < 0 for o in out):
        raise RuntimeError(f"{fn}: elements of output_size must be greater than or equal to 0 "
                           f"but received {list(out)}")
    return out


def _adaptive_input(input, nd, fn):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    s = input.shape
    if len(s) not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fn}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(s)}")
    if any(n == 0 for n in s[len(s) - nd:]):
        raise RuntimeError(f"{fn}(): Expected input to have non-zero size for non-batch "
                           f"dimensions, but input has sizes {list(s)} with dimension "
                           f"{[i for i, n in enumerate(s) if n == 0][-1]} being empty")
    if input._data.dtype not in FLOAT_NP:
        raise RuntimeError(f'"{fn}" not implemented for \'{input.dtype.scalar_name}\'')
    return len(s) == nd + 1


def _bounds(n, o):
    """torch's adaptive windows of n inputs for o outputs: [floor(i n/o), ceil((i+1) n/o))."""
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


def _adaptive_avg(input, output_size, nd, fn):
    unbatched = _adaptive_input(input, nd, fn)
    x = input.unsqueeze(0) if unbatched else input
    size = tuple(x.shape[2:])
    out = _out_size(output_size, size, nd, fn)
    axes = tuple(range(2, 2 + nd))
    if all(o == 1 for o in out):
        y = x.mean(axes, keepdim=True)
    elif all(o and n % o == 0 for n, o in zip(size, out)):
        k = tuple(n // o for n, o in zip(size, out))      # even windows: an avg pool
        g = _geo(size, k, k, (0,) * nd, (0,) * nd, (1,) * nd, 1, out)
        npd = x._data.dtype
        cdt = _F32 if npd in _LOW else npd
        y = WindowSum.apply(x, g, x._be.full((), math.prod(k), cdt), False)
    else:
        # uneven windows: a mean over each axis is a matmul with an averaging matrix
        y = x
        for i, (n, o) in enumerate(zip(size, out)):
            lo, hi = _bounds(n, o)
            cols = np.arange(n)
            a = ((cols >= lo[:, None]) & (cols < hi[:, None])) / (hi - lo)[:, None]
            m = x._be.from_host(a.T.astype(x._data.dtype), x._data.dtype)
            y = (y.movedim(2 + i, -1) @ _make(m)).movedim(-1, 2 + i)
    return y.squeeze(0) if unbatched else y


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg(input, output_size, 3, "adaptive_avg_pool3d")


def _adaptive_max(input, output_size, return_indices, nd, fn):
    unbatched = _adaptive_input(input, nd, fn)
    x = input.unsqueeze(0) if unbatched else input
    be = x._be
    size = tuple(x.shape[2:])
    out = _out_size(output_size, size, nd, fn)
    xd = x._data
    shape = xd.shape[:2] + out
    # walk the largest window's offsets; a shorter window repeats its last element,
    # which never beats the first maximum
    wins = []
    for i, (n, o) in enumerate(zip(size, out)):
        lo, hi = _bounds(n, o)
        kmax = int((hi - lo).max()) if o else 0
        wins.append([np.minimum(lo + j, hi - 1).reshape((-1,) + (1,) * (nd - 1 - i))
                     for j in range(kmax)])
    m = be.full(shape, -math.inf, xd.dtype)
    idx = be.full(shape, 0, _I64)
    first = True
    for combo in itertools.product(*wins):
        flat = 0
        for pos, n in zip(combo, size):
            flat = flat * n + pos
        flat = be.from_host(np.asarray(flat, np.int64), _I64)
        v = be.getitem(xd, _HEAD + tuple(combo))
        if first:
            be.copyto(m, v)
            be.copyto(idx, be.broadcast_to(flat, shape))
            first = False
            continue
        upd = be.logical_or(be.greater(v, m), be.isnan(v))
        be.maximum(m, v, out=m)
        idx = be.where(upd, flat, idx)
    it = _make(idx)
    # the values as a gather of the winners: its gradient scatters back, to any order
    y = x.flatten(2).gather(2, it.flatten(2)).reshape(shape)
    if unbatched:
        y, it = y.squeeze(0), it.squeeze(0)
    return (y, it) if return_indices else y


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max(input, output_size, return_indices, 3, "adaptive_max_pool3d")


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool3d(input, output_size, True)


from ..autocast_state import wrap_autocast  # noqa: E402
wrap_autocast(globals())   # autocast policies (genesis/autocast_state.py)
