"""Padding, resampling and sliding blocks as torch.nn.functional's: pad, interpolate
(and the legacy upsample*), unfold and fold.

``interpolate`` resamples one spatial axis at a time with ``AxisMix``: each output is a
weighted sum of one or two inputs along the axis (nearest: one, linear: two), taken by
index; its adjoint adds the weighted gradients back. Indices along an axis never
decrease, so the adjoint adds one "run position" at a time (the r-th output of every run
of outputs reading the same input), each a scatter without collisions, and a plain
strided slice when every input is read by the same number of outputs (integer scale
factors). unfold/fold are conv.py's im2col/col2im.
"""
import functools
import math
import numbers

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .common import FLOAT_NP, LOW_FLOAT_NP as _LOW, F32 as _F32, fill_scalar
from .conv import geo as _geo, _im2col, _col2im
from .shape import cat as _cat

__all__ = ["pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
           "unfold", "fold"]


# ---------------------------------------------------------------- pad
class ConstantPad(Function):
    """x inside a border of ``value``; pads (before, after) per dim from the first padded
    dim on; negative pads crop. The adjoint is the opposite pads with zeros."""

    @staticmethod
    def forward(ctx, a, first, pads, value):
        ctx.first, ctx.pads = first, pads
        be = a._be
        x = a._data
        shape = list(x.shape)
        src = [slice(None)] * x.ndim
        dst = [slice(None)] * x.ndim
        for i, (lo, hi) in enumerate(pads):
            d = first + i
            n = shape[d]
            m = n + lo + hi
            if m < 0:
                raise RuntimeError(f"The input size {n}, plus negative padding {lo} and {hi} "
                                   f"resulted in a negative output size, which is invalid. "
                                   f"Check dimension {d} of your input.")
            shape[d] = m
            src[d] = slice(max(0, -lo), n - max(0, -hi))
            dst[d] = slice(max(0, lo), m - max(0, hi))
        out = be.full(tuple(shape), value, x.dtype)
        if all(s.start < s.stop for s in src[first:]) and all(
                d.start < d.stop for d in dst[first:]):
            be.setitem(out, tuple(dst), be.getitem(x, tuple(src)))
        return out

    @staticmethod
    def backward(ctx, g):
        return ConstantPad.apply(g, ctx.first, tuple((-a, -b) for a, b in ctx.pads), 0), \
            None, None, None


_PAD_HELP = ("Supported combinations for non-constant padding:\n"
             "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
             "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
             "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _pad_dim(x, d, lo, hi, mode):
    """x padded along dim d by the reflect/replicate/circular rule, in genesis ops."""
    n = x.shape[d]
    if lo < 0:
        x, n, lo = x.narrow(d, -lo, n + lo), n + lo, 0
    if hi < 0:
        x, n, hi = x.narrow(d, 0, n + hi), n + hi, 0
    parts = []
    if mode == "reflect":
        if lo:
            parts.append(x.narrow(d, 1, lo).flip(d))
        parts.append(x)
        if hi:
            parts.append(x.narrow(d, n - 1 - hi, hi).flip(d))
    elif mode == "replicate":
        if lo:
            s = list(x.shape)
            s[d] = lo
            parts.append(x.narrow(d, 0, 1).expand(s))
        parts.append(x)
        if hi:
            s = list(x.shape)
            s[d] = hi
            parts.append(x.narrow(d, n - 1, 1).expand(s))
    else:   # circular
        if lo:
            parts.append(x.narrow(d, n - lo, lo))
        parts.append(x)
        if hi:
            parts.append(x.narrow(d, 0, hi))
    if len(parts) == 1:
        return x
    return _cat(parts, d)


def pad(input, pad, mode="constant", value=None):
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' must be Tensor, not {type(input).__name__}")
    pad = [int(p) for p in pad]
    nd = input.ndim
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {nd}")
    k = len(pad) // 2
    # torch's pad lists the last dim first
    pairs = tuple((pad[2 * i], pad[2 * i + 1]) for i in range(k))[::-1]
    first = nd - k
    if mode == "constant":
        npd = input._data.dtype
        v = 0 if value is None else fill_scalar(value, npd)
        if npd not in FLOAT_NP and isinstance(v, float):
            v = int(v)
        for i, (lo, hi) in enumerate(pairs):
            n = input.shape[first + i]
            # torch crops the negative pads first (narrow), then pads
            if n + lo + hi >= 0 and n + min(lo, 0) + min(hi, 0) < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
        return ConstantPad.apply(input, first, pairs, v)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if nd not in (k + 1, k + 2) or k > 3:
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {nd}D input "
                                  f"tensor.\n{_PAD_HELP}")
    s = input.shape
    if any(n == 0 for n in s[1 if nd == k + 2 else 0:]):
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 "
                           f"batch size and other non-zero dimensions for input, but got: "
                           f"{list(s)}")
    x = input
    for i, (lo, hi) in enumerate(pairs):
        d = first + i
        n = s[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({lo}, {hi}) "
                               f"at dimension {d} of input {list(s)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        x = _pad_dim(x, d, lo, hi, mode)
    return x


# ---------------------------------------------------------------- interpolate
class _Plan:
    """One axis of a resampling: terms (idx, weights) with out[j] = sum_t w_t[j] *
    in[idx_t[j]] (weights None: 1), and per term the adjoint's scatters."""

    def __init__(self, n_in, terms):
        self.n_in = n_in
        self.terms = terms
        self.scatters = []
        for idx, _ in terms:
            # position of each output within its run of equal indices
            start = np.r_[0, np.flatnonzero(np.diff(idx)) + 1]
            runlen = np.diff(np.r_[start, len(idx)])
            pos = np.arange(len(idx)) - np.repeat(start, runlen)
            steps = []
            R = int(runlen.max()) if len(idx) else 0
            uniform = len(start) == n_in and (runlen == R).all()
            for r in range(R):
                if uniform:          # every input read R times in a row: strided slices
                    steps.append((slice(None), slice(r, None, R)))
                else:
                    sel = np.flatnonzero(pos == r)
                    steps.append((idx[sel], sel))
            self.scatters.append(steps)


def _along(ax, nd, index):
    return (slice(None),) * ax + (index,)


class AxisMix(Function):
    """The resampling of one axis (forward) or its adjoint (``adjoint``); each is the
    other's backward."""

    @staticmethod
    def forward(ctx, a, ax, plan, adjoint):
        ctx.ax, ctx.plan, ctx.adjoint = ax, plan, adjoint
        be = a._be
        x = a._data
        dt = x.dtype
        if dt in _LOW:
            x = be.astype(x, _F32)
        nd = x.ndim
        wshape = (-1,) + (1,) * (nd - 1 - ax)
        if not adjoint:
            out = None
            for idx, w in plan.terms:
                v = be.getitem(x, _along(ax, nd, be.from_host(idx, np.int64)))
                if w is not None:
                    v = be.multiply(v, be.reshape(be.from_host(w, x.dtype), wshape))
                out = v if out is None else be.add(out, v, out=out)
        else:
            shape = list(x.shape)
            shape[ax] = plan.n_in
            out = be.full(tuple(shape), 0, x.dtype)
            for (idx, w), steps in zip(plan.terms, plan.scatters):
                g = x if w is None else be.multiply(
                    x, be.reshape(be.from_host(w, x.dtype), wshape))
                for tgt, sel in steps:
                    if isinstance(tgt, slice):
                        dst = be.getitem(out, _along(ax, nd, tgt))
                        be.add(dst, be.getitem(g, _along(ax, nd, sel)), out=dst)
                    else:
                        t = _along(ax, nd, be.from_host(tgt, np.int64))
                        be.setitem(out, t, be.add(be.getitem(out, t),
                                                  be.getitem(g, _along(ax, nd, sel))))
        return out if out.dtype == dt else be.astype(out, dt)

    @staticmethod
    def backward(ctx, g):
        return AxisMix.apply(g, ctx.ax, ctx.plan, not ctx.adjoint), None, None, None


@functools.lru_cache(maxsize=256)
def _plan(mode, n_in, n_out, scale, align_corners, npd, shortcut=True):
    """The plan of one axis. ``scale`` is torch's input/output ratio (1/scale_factor when
    that was given), None to derive it from the sizes; computed in torch's precision.
    ``shortcut``: a same or double size maps by index whatever the scale (torch's 2d
    nearest kernel does so; its 1d and 3d ones and nearest-exact use the scale)."""
    j = np.arange(n_out)
    if mode in ("nearest", "nearest-exact"):
        s = np.float32(scale if scale is not None else n_in / n_out)
        if n_out == n_in and shortcut:
            idx = j
        elif n_out == 2 * n_in and mode == "nearest" and shortcut:
            idx = j >> 1
        else:
            src = (j.astype(np.float32) + np.float32(0.5 if mode == "nearest-exact" else 0)) * s
            idx = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        return _Plan(n_in, [(idx, None)])
    ft = np.float64 if npd == np.dtype(np.float64) else np.float32
    if n_out == n_in:
        return _Plan(n_in, [(j, None)])
    if align_corners:
        s = ft((n_in - 1) / (n_out - 1)) if n_out > 1 else ft(0)
        src = j.astype(ft) * s
    else:
        s = ft(scale if scale is not None else n_in / n_out)
        src = np.maximum(s * (j.astype(ft) + ft(0.5)) - ft(0.5), ft(0))
    i0 = src.astype(np.int64)
    i1 = i0 + (i0 < n_in - 1)
    l1 = np.clip(src - i0, 0, 1).astype(npd)
    l0 = (np.ones((), npd) - l1).astype(npd)
    return _Plan(n_in, [(i0, l0), (i1, l1)])


_MODES_HELP = ("nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
               "nearest-exact")
_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if antialias and not (mode in ("bilinear", "bicubic") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    if antialias:
        raise NotImplementedError("interpolate(): antialias=True is not supported")
    nd = input.ndim - 2
    in_size = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError(
                    f"Input and output must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {in_size} and output size of "
                    f"{size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                    "and output size in (o1, o2, ...,oK) format.")
            out = [int(s) for s in size]
        else:
            out = [int(size)] * nd
        scales = [None] * nd
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != nd:
                raise ValueError(
                    f"Input and scale_factor must have the same number of spatial "
                    f"dimensions, but got input with spatial dimensions of {in_size} and "
                    f"scale_factor of shape {scale_factor}. Please provide input tensor in "
                    "(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) "
                    "format.")
            sf = [float(s) for s in scale_factor]
        else:
            sf = [float(scale_factor)] * nd
        out = [int(math.floor(n * s)) for n, s in zip(in_size, sf)]
        # torch maps coordinates with the given factor unless told to recompute it
        scales = [None] * nd if recompute_scale_factor else [1.0 / s for s in sf]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if input.ndim not in (3, 4, 5) or mode not in (
            "nearest", "nearest-exact", "area", "linear", "bilinear", "trilinear"):
        if mode == "bicubic" and input.ndim == 4:
            raise NotImplementedError("interpolate(): mode='bicubic' is not supported")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: {_MODES_HELP} (got "
                                  f"{mode})")
    if mode in _LINEAR and _LINEAR[mode] != nd:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_LINEAR[mode] + 2}D input")
    if any(n <= 0 for n in in_size + out) and not (mode == "area" and all(in_size)):
        # (area is an adaptive average pool, which gives an empty result for a size of 0)
        names = ("D", "H", "W")[3 - nd:]
        raise RuntimeError(
            "Input and output sizes should be greater than 0, but got input ("
            + ", ".join(f"{a}: {n}" for a, n in zip(names, in_size)) + ") output ("
            + ", ".join(f"{a}: {n}" for a, n in zip(names, out)) + ")")
    npd = input._data.dtype
    if mode == "area":
        from .pooling import _adaptive_avg
        return _adaptive_avg(input, tuple(out), nd, f"adaptive_avg_pool{nd}d")
    # torch resamples uint8 too (not other integers); genesis only by nearest modes
    if npd not in FLOAT_NP and (npd != np.dtype(np.uint8) or mode in _LINEAR):
        kind = "upsample_nearest" if mode.startswith("nearest") else "upsample_" + mode
        raise NotImplementedError(f'"{kind}{nd}d_channels_last" not implemented for '
                                  f"'{input.dtype.scalar_name}'")
    cdt = _F32 if npd in _LOW else npd
    # float16/bfloat16 stay in float32 from one axis to the next and round once, as
    # torch's kernels that mix all axes in one pass
    low = npd in _LOW and nd > 1 and mode in _LINEAR
    y = input.float() if low else input
    shortcut = mode in _LINEAR or (mode == "nearest" and nd == 2)
    for i in range(nd):
        # torch copies an axis of unchanged size as it is, but for nearest in 1d/3d and
        # nearest-exact, which map it by the given scale factor
        if out[i] != in_size[i] or (not shortcut and scales[i] not in (None, 1.0)):
            p = _plan(mode, in_size[i], out[i], scales[i], bool(align_corners), cdt,
                      shortcut)
            y = AxisMix.apply(y, 2 + i, p, False)
    if low:
        return y.to(npd)
    return input.clone() if y is input else y


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------- unfold / fold
class Im2Col(Function):
    """Sliding blocks (N, C*prod(k), L) of x (N, C, *size); adjoint of Col2Im."""

    @staticmethod
    def forward(ctx, a, g):
        ctx.geo = g
        x = a._data
        n, c = x.shape[:2]
        cols = _im2col(a._be, x, g, True)
        return a._be.reshape(cols, (n, c * g.kn, g.L))

    @staticmethod
    def backward(ctx, gy):
        return Col2Im.apply(gy, ctx.geo), None


class Col2Im(Function):
    """Blocks (N, C*prod(k), L) summed back into (N, C, *size); adjoint of Im2Col."""

    @staticmethod
    def forward(ctx, a, g):
        ctx.geo = g
        y = a._data
        n = y.shape[0]
        c = y.shape[1] // g.kn
        return _col2im(a._be, y, g, n, c, True)

    @staticmethod
    def backward(ctx, gx):
        return Im2Col.apply(gx, ctx.geo), None


def _pair(v, name):
    if isinstance(v, numbers.Integral):
        return (int(v),) * 2
    v = tuple(int(e) for e in v)
    if len(v) == 1:
        return v * 2
    if len(v) != 2:
        raise RuntimeError(f"{name} must be an int or a tuple of 2 ints, but got {v}")
    return v


def _block_args(kernel_size, dilation, padding, stride):
    k, d = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    p, s = _pair(padding, "padding"), _pair(stride, "stride")
    if any(e <= 0 for e in k):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{k[0]} kernel_width: {k[1]}")
    if any(e <= 0 for e in s):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {s[0]} "
                           f"stride_width: {s[1]}")
    if any(e <= 0 for e in d):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: "
                           f"{d[0]} dilation_width: {d[1]}")
    if any(e < 0 for e in p):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} "
                           f"pad_width: {p[1]}")
    return k, d, p, s


def _blocks(size, k, d, p, s):
    return tuple((n + 2 * pp - dd * (kk - 1) - 1) // ss + 1
                 for n, kk, dd, pp, ss in zip(size, k, d, p, s))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    if not isinstance(input, Tensor):
        raise TypeError(f"unfold(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.ndim not in (3, 4) or any(n == 0 for n in input.shape[input.ndim - 3:]):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch "
                           f"size for input, but got:{list(input.shape)}")
    k, d, p, s = _block_args(kernel_size, dilation, padding, stride)
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    size = tuple(x.shape[2:])
    out = _blocks(size, k, d, p, s)
    if any(o < 1 for o in out):
        raise RuntimeError(f"Given input with spatial size {size}, kernel_size={k}, "
                           f"dilation={d}, padding={p}, calculated shape of the array of "
                           f"sliding blocks as {out}, but its components must be at least one.")
    y = Im2Col.apply(x, _geo(size, k, s, p, p, d, 1))
    return y.squeeze(0) if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    if not isinstance(input, Tensor):
        raise TypeError(f"fold(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.ndim not in (2, 3) or any(n == 0 for n in input.shape[input.ndim - 2:]):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor with optional 0 dim batch "
                           f"size for input, but got:{list(input.shape)}")
    size = _pair(output_size, "output_size")
    k, d, p, s = _block_args(kernel_size, dilation, padding, stride)
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    kn = k[0] * k[1]
    if x.shape[1] % kn:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size={k}.")
    out = _blocks(size, k, d, p, s)
    if any(o < 1 for o in out):
        raise RuntimeError(f"Given output_size={size}, kernel_size={k}, dilation={d}, "
                           f"padding={p}, stride={s}, calculated shape of the array of "
                           f"sliding blocks as {out}, but its components must be at least one.")
    if x.shape[2] != out[0] * out[1]:
        raise RuntimeError(f"Given output_size={size}, kernel_size={k}, dilation={d}, "
                           f"padding={p}, stride={s}, expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {out[0]} * {out[1]} "
                           f"= {out[0] * out[1]}, but got input.size(2)={x.shape[2]}.")
    y = Col2Im.apply(x, _geo(size, k, s, p, p, d, 1))
    return y.squeeze(0) if unbatched else y


from ..autocast_state import wrap_autocast  # noqa: E402
wrap_autocast(globals())   # autocast policies (genesis/autocast_state.py)
