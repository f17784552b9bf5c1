"""Convolutions as torch.nn.functional's: conv1d/2d/3d and conv_transpose1d/2d/3d.

One Function, ``ConvNd``, computes one of three bilinear maps of a convolution geometry:
the convolution itself (x, w -> y), its input gradient (g, w -> x-shaped; this is the
transposed convolution) and its weight gradient (x, g -> w-shaped). The three are each
other's adjoints, so each one's backward is two calls of the others and derivatives of
any order work.

Each map is one batched matmul around im2col/col2im. im2col is a strided view of the
zero-padded input copied once into columns; col2im adds the columns back with one strided
add per kernel offset (no scatter). The columns are laid out (N, C*k, L) with one matmul
per sample when a sample's output is large (the result then is already (N, C_out, L)),
and (C*k, N*L) with one matmul for the whole batch when it is small (one big GEMM beats
many small ones there, though the result needs a transposing copy); measured on the CPU.
``_im2col`` and ``_col2im`` also serve F.unfold and F.fold (ops/resample.py). A stride-1
input gradient in the batch-wide layout runs on the padded grid instead, where col2im is
one contiguous shifted add per kernel offset (``_conv_data_flat``).
"""
import functools
import itertools
import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .common import LOW_FLOAT_NP as _LOW, F32 as _F32, be_of as _be_of, _CNAMES

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d"]

# a sample's output positions from which one matmul per sample beats one for the batch
_PER_SAMPLE_MIN_L = 400


class Geo:
    """A convolution's geometry, in the terms of the forward convolution: the spatial
    size of its input, kernel, stride, padding before/after, dilation, groups and
    output size. ``nfirst`` picks the column layout (see the module docstring)."""
    __slots__ = ("size", "k", "stride", "lo", "hi", "dil", "groups", "out", "L", "kn",
                 "nfirst", "padded", "offsets")

    def __init__(self, size, k, stride, lo, hi, dil, groups, out=None):
        self.size, self.k, self.stride, self.lo, self.hi = size, k, stride, lo, hi
        self.dil, self.groups = dil, groups
        self.padded = pp = tuple(n + a + b for n, a, b in zip(size, lo, hi))
        if out is None:
            out = tuple((p - d * (kk - 1) - 1) // s + 1
                        for p, kk, s, d in zip(pp, k, stride, dil))
        self.out = out
        self.L = math.prod(out)
        self.kn = math.prod(k)
        self.nfirst = self.L >= _PER_SAMPLE_MIN_L
        # per kernel offset: the slices of the padded input its column reads
        self.offsets = [(o, tuple(slice(i * d, i * d + (n - 1) * s + 1, s)
                                  for i, d, n, s in zip(o, dil, out, stride)))
                        for o in itertools.product(*[range(kk) for kk in k])]


@functools.lru_cache(maxsize=512)
def geo(size, k, stride, lo, hi, dil, groups, out=None):
    return Geo(size, k, stride, lo, hi, dil, groups, out)


def _center(g):
    return (slice(None), slice(None)) + tuple(slice(a, a + n) for a, n in zip(g.lo, g.size))


def _padded(be, x, g, cfirst=False):
    """x with g's zero padding around its spatial dims (x itself when there is none);
    ``cfirst``: laid out (C, N, *padded) (a view of that as (N, C, *padded))."""
    if not any(g.lo) and not any(g.hi):
        return x
    n, c = x.shape[:2]
    if cfirst:
        xp = be.full((c, n) + g.padded, 0, x.dtype)
        xp = be.transpose(xp, (1, 0) + tuple(range(2, 2 + len(g.k))))
    else:
        xp = be.full((n, c) + g.padded, 0, x.dtype)
    be.setitem(xp, _center(g), x)
    return xp


def _im2col(be, x, g, nfirst=None):
    """Columns of x (N, C, *size): contiguous (N, C, *k, *out) when ``nfirst`` (default:
    the geometry's layout), else (C, *k, N, *out)."""
    if nfirst is None:
        nfirst = g.nfirst
    # padding in the columns' own channel/batch order makes the strided reads local
    xp = _padded(be, x, g, not nfirst)
    item = xp.itemsize
    sn, sc, *ss = [s // item for s in xp.strides]
    ks = tuple(s * d for s, d in zip(ss, g.dil))
    os_ = tuple(s * st for s, st in zip(ss, g.stride))
    if nfirst:
        v = be.as_strided(xp, x.shape[:2] + g.k + g.out, (sn, sc) + ks + os_, 0)
    else:
        v = be.as_strided(xp, (x.shape[1],) + g.k + (x.shape[0],) + g.out,
                          (sc,) + ks + (sn,) + os_, 0)
    return be.ascontiguousarray(v)


def _col2im(be, cols, g, n, c, nfirst=None):
    """The adjoint of _im2col: columns (in _im2col's layout) added back into a
    contiguous (n, c, *size) array, one strided add per kernel offset (into a buffer in
    the columns' channel/batch order, which adds faster)."""
    if nfirst is None:
        nfirst = g.nfirst
    nd = len(g.k)
    head = (slice(None), slice(None))
    if nfirst:
        gxp = be.full((n, c) + g.padded, 0, cols.dtype)
        cols = be.reshape(cols, (n, c) + g.k + g.out)
        for o, sl in g.offsets:
            tgt = be.getitem(gxp, head + sl)
            be.add(tgt, be.getitem(cols, head + o), out=tgt)
        if not any(g.lo) and not any(g.hi):
            return gxp
        return be.ascontiguousarray(be.getitem(gxp, _center(g)))
    gxp = be.full((c, n) + g.padded, 0, cols.dtype)
    cols = be.reshape(cols, (c,) + g.k + (n,) + g.out)
    for o, sl in g.offsets:
        tgt = be.getitem(gxp, head + sl)
        be.add(tgt, be.getitem(cols, (slice(None),) + o), out=tgt)
    gx = be.transpose(be.getitem(gxp, _center(g)), (1, 0) + tuple(range(2, 2 + nd)))
    return be.ascontiguousarray(gx)


def _mT(be, a):
    nd = a.ndim
    return be.transpose(a, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _gy_operand(be, gy, g):
    """gy (N, Co, *out) as the matmul operand: (N, Co, L) or, batch-wide, (Co, N*L)."""
    n, co = gy.shape[:2]
    if g.nfirst:
        return be.reshape(gy, (n, co, g.L))
    t = be.transpose(be.reshape(gy, (n, co, g.L)), (1, 0, 2))
    return be.reshape(be.ascontiguousarray(t), (co, n * g.L))


def _y_result(be, y, g, n, co):
    """A matmul result (N, Co, L) or (Co, N*L) as a contiguous (N, Co, *out)."""
    if g.nfirst:
        return be.reshape(y, (n, co) + g.out)
    y = be.transpose(be.reshape(y, (co, n, g.L)), (1, 0, 2))
    return be.reshape(be.ascontiguousarray(y), (n, co) + g.out)


def _conv_fwd(be, x, w, g):
    """conv(x, w) as (N, Co, *out); also the columns of x, kept for the weight gradient."""
    n, co, G = x.shape[0], w.shape[0], g.groups
    kg = w.size // co
    cols = _im2col(be, x, g)
    L = g.L
    if G == 1:
        wm = be.reshape(w, (co, kg))
        cm = be.reshape(cols, (n, kg, L) if g.nfirst else (kg, n * L))
    else:
        wm = be.reshape(w, (G, co // G, kg))
        cm = be.reshape(cols, (n, G, kg, L) if g.nfirst else (G, kg, n * L))
    return _y_result(be, be.matmul(wm, cm), g, n, co), cols


def _flat_shifts(g):
    """Per kernel offset, its shift in a flattened padded plane: with stride 1, output
    position p (on the padded grid) reads input position p + shift."""
    st = [math.prod(g.padded[i + 1:]) for i in range(len(g.k))]
    return [sum(i * d * s for i, d, s in zip(o, g.dil, st)) for o, _ in g.offsets]


def _conv_data_flat(be, gy, w, g):
    """_conv_data for stride 1, one group, batch-wide layout: gy is placed on the
    padded grid (zeros where no output lands), so the columns come out on that grid
    and col2im is one contiguous shifted add per kernel offset over the whole
    channel-major buffer (instead of short strided rows)."""
    n, co = gy.shape[:2]
    c, nd = w.shape[1], len(g.k)
    sp = tuple(range(2, 2 + nd))
    gp = be.full((co, n) + g.padded, 0, gy.dtype)
    be.setitem(gp, _HEAD + tuple(slice(0, o) for o in g.out),
               be.transpose(gy, (1, 0) + sp))
    M = n * math.prod(g.padded)
    cols = be.matmul(_mT(be, be.reshape(w, (co, c * g.kn))), be.reshape(gp, (co, M)))
    cols = be.reshape(cols, (c, g.kn, M))
    gxp = be.full((c, M), 0, cols.dtype)
    for j, s in enumerate(_flat_shifts(g)):
        # positions past M - s are on the grid's edges, where the columns are zero
        tgt = be.getitem(gxp, (slice(None), slice(s, None)))
        be.add(tgt, be.getitem(cols, (slice(None), j, slice(0, M - s))), out=tgt)
    gxp = be.reshape(gxp, (c, n) + g.padded)
    return be.ascontiguousarray(be.transpose(be.getitem(gxp, _center(g)), (1, 0) + sp))


_HEAD = (slice(None), slice(None))


def _conv_data(be, gy, w, g):
    """The input gradient of conv(x, w) given gy: (N, C, *size)."""
    n, co, G = gy.shape[0], w.shape[0], g.groups
    if G == 1 and not g.nfirst and all(s == 1 for s in g.stride):
        return _conv_data_flat(be, gy, w, g)
    kg = w.size // co
    gm = _gy_operand(be, gy, g)
    if G == 1:
        wt = _mT(be, be.reshape(w, (co, kg)))
    else:
        wt = _mT(be, be.reshape(w, (G, co // G, kg)))
        gm = be.reshape(gm, (n, G, co // G, g.L) if g.nfirst else (G, co // G, n * g.L))
    return _col2im(be, be.matmul(wt, gm), g, n, w.shape[1] * G)


def _conv_weight(be, x, gy, g, cols=None):
    """The weight gradient of conv(x, w) given gy: (Co, C/G, *k)."""
    n, c = x.shape[:2]
    co, G = gy.shape[1], g.groups
    kg = c // G * g.kn
    L = g.L
    if cols is None:
        cols = _im2col(be, x, g)
    gm = _gy_operand(be, gy, g)
    if G == 1:
        cm = be.reshape(cols, (n, kg, L) if g.nfirst else (kg, n * L))
    else:
        gm = be.reshape(gm, (n, G, co // G, L) if g.nfirst else (G, co // G, n * L))
        cm = be.reshape(cols, (n, G, kg, L) if g.nfirst else (G, kg, n * L))
    gw = be.matmul(gm, _mT(be, cm))
    if g.nfirst:
        gw = be.sum(gw, 0)
    return be.reshape(gw, (co, c // G) + g.k)


class ConvNd(Function):
    """kind 0: conv(x=a, w=b) (+ bias); kind 1: conv's input gradient (g=a, w=b), i.e. the
    transposed convolution (+ bias); kind 2: conv's weight gradient (x=a, g=b).
    ``cols``: x's columns from a forward, spares kind 2 building them again."""

    @staticmethod
    def forward(ctx, a, b, bias, g, kind, cols=None):
        ctx.geo, ctx.kind = g, kind
        need = ctx.needs_input_grad
        if need:
            ctx.save_for_backward(a, b)
        be = a._be
        x, y = a._data, b._data
        dt = x.dtype
        if dt in _LOW:
            x, y = be.astype(x, _F32), be.astype(y, _F32)
        if kind == 0:
            out, c = _conv_fwd(be, x, y, g)
            if need and need[1]:
                ctx.cols = c
        elif kind == 1:
            out = _conv_data(be, x, y, g)
        else:
            out = _conv_weight(be, x, y, g, cols)
        if bias is not None:
            bb = bias._data
            be.add(out, be.reshape(bb if bb.dtype == out.dtype else be.astype(bb, out.dtype),
                                   (out.shape[1],) + (1,) * len(g.k)), out=out)
        return out if out.dtype == dt else be.astype(out, dt)

    @staticmethod
    def backward(ctx, go):
        a, b = ctx.saved_tensors
        g, kind, need = ctx.geo, ctx.kind, ctx.needs_input_grad
        ga = gb = gbias = None
        if kind == 0:        # y = conv(x, w)
            if need[0]:
                ga = ConvNd.apply(go, b, None, g, 1, None)
            if need[1]:
                ga_cols = ctx.__dict__.pop("cols", None)    # used once, then let go
                gb = ConvNd.apply(a, go, None, g, 2, ga_cols)
        elif kind == 1:      # z = data(gy, w)
            if need[0]:
                ga = ConvNd.apply(go, b, None, g, 0, None)
            if need[1]:
                gb = ConvNd.apply(go, a, None, g, 2, None)
        else:                # v = weight(x, gy)
            if need[0]:
                ga = ConvNd.apply(b, go, None, g, 1, None)
            if need[1]:
                gb = ConvNd.apply(a, go, None, g, 0, None)
        if need[2]:
            gbias = go.sum((0,) + tuple(range(2, go.ndim)))
        return ga, gb, gbias, None, None, None


# ---------------------------------------------------------------- argument checks
_DIM_NAMES = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def _tuple(v, nd, name):
    if isinstance(v, (int, np.integer)):
        return (int(v),) * nd
    v = tuple(int(e) for e in v)
    if len(v) == 1:
        return v * nd
    if len(v) != nd:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {nd} "
                           f"values to match the convolution dimensions, but got "
                           f"{name}={list(v)}")
    return v


def _scalar_name(t):
    npd = t._data.dtype
    return _CNAMES.get(npd, str(npd))       # torch names the C++ types here


def _check(input, weight, bias, nd, name, groups, transposed):
    """Validate the operands as torch does; returns whether input had no batch dim."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        bad = "input" if not isinstance(input, Tensor) else "weight"
        raise TypeError(f"{name}(): argument '{bad}' must be Tensor, not "
                        f"{type(input if bad == 'input' else weight).__name__}")
    _be_of(input, weight)
    xs, ws = input.shape, weight.shape
    if len(xs) not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(xs)}")
    if len(ws) != nd + 2:
        raise RuntimeError(f"Expected {nd + 2}-dimensional weight for {name}, but got "
                           f"weight of size {list(ws)}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    unbatched = len(xs) == nd + 1
    c = xs[0] if unbatched else xs[1]
    full = list(xs) if not unbatched else [1] + list(xs)
    if transposed:
        if c != ws[0]:
            raise RuntimeError(f"Given transposed=1, weight of size {list(ws)}, expected "
                               f"input{full} to have {ws[0]} channels, but got {c} channels "
                               "instead")
        if ws[0] % groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                               f"{groups} at dimension 0, but got weight of size [{list(ws)}] "
                               "instead")
        co = ws[1] * groups
    else:
        if ws[0] % groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                               f"{groups} at dimension 0, but got weight of size [{list(ws)}] "
                               "instead")
        if c != ws[1] * groups:
            raise RuntimeError(f"Given groups={groups}, weight of size {list(ws)}, expected "
                               f"input{full} to have {ws[1] * groups} channels, but got {c} "
                               "channels instead")
        co = ws[0]
    if input.dtype != weight.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype.scalar_name} but found "
                           f"{weight.dtype.scalar_name}")
    if bias is not None:
        _be_of(input, bias)
        if bias.ndim != 1 or bias.shape[0] != co:
            raise RuntimeError(f"Given weight of size {list(ws)}, expected bias to be "
                               f"1-dimensional with {co} elements, but got bias of size "
                               f"{list(bias.shape)} instead")
        if bias.dtype != input.dtype:
            raise RuntimeError(f"Input type ({_scalar_name(input)}) and bias type "
                               f"({_scalar_name(bias)}) should be the same")
    return unbatched


def _common(stride, dilation, nd):
    stride, dilation = _tuple(stride, nd, "stride"), _tuple(dilation, nd, "dilation")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    return stride, dilation


def _conv(input, weight, bias, stride, padding, dilation, groups, nd, name):
    unbatched = _check(input, weight, bias, nd, name, groups, False)
    stride, dilation = _common(stride, dilation, nd)
    k = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            lo = hi = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            # torch's split of an odd total: the extra row goes after
            lo = tuple(d * (kk - 1) // 2 for d, kk in zip(dilation, k))
            hi = tuple(d * (kk - 1) - a for d, kk, a in zip(dilation, k, lo))
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        lo = hi = _tuple(padding, nd, "padding")
        if any(p < 0 for p in lo):
            raise RuntimeError("negative padding is not supported")
    if unbatched:
        input = input.unsqueeze(0)
    size = tuple(input.shape[2:])
    padded = tuple(n + a + b for n, a, b in zip(size, lo, hi))
    ext = tuple(d * (kk - 1) + 1 for d, kk in zip(dilation, k))
    if any(p < e for p, e in zip(padded, ext)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, ext))}). Kernel size can't be greater than "
                           "actual input size")
    out = ConvNd.apply(input, weight, bias, geo(size, k, stride, lo, hi, dilation, groups), 0,
                       None)
    return out.squeeze(0) if unbatched else out


def _conv_t(input, weight, bias, stride, padding, output_padding, groups, dilation, nd,
            name):
    unbatched = _check(input, weight, bias, nd, name, groups, True)
    stride, dilation = _common(stride, dilation, nd)
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    pad = _tuple(padding, nd, "padding")
    op = _tuple(output_padding, nd, "output_padding")
    if any(p < 0 for p in pad):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in op):
        raise RuntimeError("negative output_padding is not supported")
    if any(p >= s and p >= d for p, s, d in zip(op, stride, dilation)):
        names = _DIM_NAMES[nd]
        raise RuntimeError("output padding must be smaller than either stride or dilation, "
                           "but got " + " ".join(
                               [f"output_padding_{n}: {p}" for n, p in zip(names, op)]
                               + [f"stride_{n}: {s}" for n, s in zip(names, stride)]
                               + [f"dilation_{n}: {d}" for n, d in zip(names, dilation)]))
    if unbatched:
        input = input.unsqueeze(0)
    k = tuple(weight.shape[2:])
    insz = tuple(input.shape[2:])
    size = tuple((n - 1) * s - 2 * p + d * (kk - 1) + o + 1
                 for n, s, p, d, kk, o in zip(insz, stride, pad, dilation, k, op))
    if any(n <= 0 for n in size):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, insz))}). "
                           f"Calculated output size per channel: "
                           f"({' x '.join(map(str, size))}). Output size is too small")
    g = geo(size, k, stride, pad, pad, dilation, groups, insz)
    out = ConvNd.apply(input, weight, bias, g, 1, None)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    return _conv_t(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                   "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    return _conv_t(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                   "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    return _conv_t(input, weight, bias, stride, padding, output_padding, groups, dilation, 3,
                   "conv_transpose3d")


from ..autocast_state import wrap_autocast  # noqa: E402
wrap_autocast(globals())   # autocast policies (genesis/autocast_state.py)
