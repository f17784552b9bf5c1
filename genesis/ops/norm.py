"""Normalization ops (torch.nn.functional names): layer_norm, rms_norm, group_norm,
batch_norm, instance_norm, normalize.

All of layer/rms/group/batch/instance norm are one fused op, ``_Normalize``: the input is
viewed as some shape, statistics are taken over some axes of that view, and the optional
affine weight and bias broadcast against it. Its forward is a few in-place NumPy passes
that keep the normalized input and 1/std (layer and RMS norm, normalized over the rows of
a 2-D view, take a path with fewer passes: _rows_forward / _rows_backward); its backward is one op (``_NormalizeBackward``)
giving the input, weight and bias gradients together, whose own backward is written in
genesis ops so that double backward works."""
import math

import numpy as np

from .. import dtypes as _dt
from ..autograd.function import Function
from .common import FLOAT_NP, LOW_FLOAT_NP as _LOW, F32 as _F32

__all__ = ["layer_norm", "rms_norm", "group_norm", "batch_norm", "instance_norm",
           "normalize"]


class _Spec:
    """How to normalize: ``view`` is the shape the input is seen as, ``axes`` the axes of
    the view the statistics are taken over (``n`` elements each), ``wview`` the shape the
    weight and bias take to broadcast against the view and ``waxes`` the axes their
    gradients sum over. ``centered`` is False for RMS norm (no mean is subtracted).
    ``running`` is (running_mean, running_var, momentum, channels) to update, or None."""
    __slots__ = ("view", "axes", "wview", "waxes", "n", "eps", "centered", "running", "rows",
                 "last")

    def __init__(self, view, axes, wview, eps, centered=True, running=None):
        self.view, self.axes, self.wview, self.eps = view, axes, wview, eps
        self.centered, self.running = centered, running
        self.n = math.prod(view[a] for a in axes)
        # a 2-D view normalized over short rows (layer/rms norm): _rows_forward's fast path
        self.last = len(view) == 2 and axes == (1,) and running is None
        self.rows = self.last and view[1] <= _EINSUM_MAX
        self.waxes = tuple(i for i in range(len(view))
                           if wview is None or i < len(view) - len(wview)
                           or wview[i - len(view) + len(wview)] == 1)


def _compute_dtype(dt):
    return _F32 if dt in _LOW else dt


class _Normalize(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over spec's axes (no mean for RMS)."""

    @staticmethod
    def forward(ctx, x, weight, bias, spec):
        be = x._be
        dt = x._data.dtype
        cd = _compute_dtype(dt)
        X = be.reshape(x._data, spec.view)
        if spec.last and type(X) is not np.ndarray:
            fused = getattr(be, "norm_fwd", None)      # a fused kernel (CUDA backend)
            if fused is not None:
                return _fused_forward(ctx, fused, x, X, weight, bias, spec)
        if cd != dt:
            X = be.astype(X, cd)
        if spec.rows and X.size and type(X) is np.ndarray:
            y = _rows_forward(ctx, be, x, X, weight, bias, spec, cd)
            y = be.reshape(y, x._data.shape)
            return y if cd == dt else be.astype(y, dt)
        axes, inv_n = spec.axes, 1.0 / spec.n if spec.n else float("nan")
        if spec.centered:
            mean = _esum(be, axes, X)
            mean *= inv_n
            xh = be.subtract(X, mean)                 # x - mean, then scaled in place
            var = _esum(be, axes, xh, xh)
        else:
            mean = None
            var = _esum(be, axes, X, X)
        var *= inv_n
        r = be.add(var, spec.eps)
        be.rsqrt(r, out=r)
        if mean is None:
            xh = be.multiply(X, r)
        else:
            xh *= r
        if spec.running is not None:
            _update_running(be, spec, mean, var)
        if weight is not None:
            y = be.multiply(xh, _param(weight, spec, cd))
            if bias is not None:
                y += _param(bias, spec, cd)
        elif bias is not None:
            y = be.add(xh, _param(bias, spec, cd))
        else:
            y = be.copy(xh) if ctx.needs_input_grad else xh
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, weight)
            ctx.xh, ctx.r, ctx.spec, ctx.rows = xh, r, spec, False
            if bias is not None:
                ctx.bshape = bias._data.shape
        y = be.reshape(y, x._data.shape)
        return y if cd == dt else be.astype(y, dt)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return _NormalizeBackward.apply(g, x, w, ctx, needs) + (None,)


class _NormalizeBackward(Function):
    """(dx, dweight, dbias) of _Normalize from the upstream gradient g, in one pass:
    with gh = g * weight, dx = r * (gh - mean(gh) - xh * mean(gh * xh)),
    dweight = sum(g * xh), dbias = sum(g)."""

    @staticmethod
    def forward(ctx, g, x, w, fctx, needs):
        be = g._be
        spec, xh = fctx.spec, fctx.xh
        G = be.reshape(g._data, spec.view)
        if xh is None:          # saved by _fused_forward
            dx, dw, db = be.norm_bwd(
                G, be.reshape(x._data, spec.view), w._data if w is not None else None,
                fctx.mean, fctx.r, spec.centered, needs[0], needs[1], needs[2])
            if dx is not None:
                dx = be.reshape(dx, x._data.shape)
            if dw is not None:
                dw = be.reshape(dw, w.shape)
            if db is not None:
                db = be.reshape(db, fctx.bshape)
        else:
            dt = x._data.dtype
            cd = xh.dtype
            if G.dtype != cd:
                G = be.astype(G, cd)
            if fctx.rows:
                dx, dw, db = _rows_backward(be, G, w, fctx, needs, cd)
            else:
                dx, dw, db = _generic_backward(be, G, w, fctx, needs, cd)
            if dx is not None:
                dx = be.reshape(dx, x._data.shape)
                if cd != dt:
                    dx = be.astype(dx, dt)
        if ctx.needs_input_grad:
            ctx.save_for_backward(g, x, w)
            ctx.spec = spec
            ctx.set_materialize_grads(False)
        return dx, dw, db

    @staticmethod
    def backward(ctx, gdx, gdw, gdb):
        g, x, w = ctx.saved_tensors
        spec = ctx.spec
        axes, c = spec.axes, spec.centered

        def mean(t):
            return t.mean(axes, keepdim=True)

        gv, xv = g.reshape(spec.view), x.reshape(spec.view)
        wv = w.reshape(spec.wview) if w is not None else None
        # xh and r again, from x, so that they carry x's graph
        xc = xv - mean(xv) if c else xv
        r = (mean(xc * xc) + spec.eps).rsqrt()
        xh = xc * r
        gh = gv * wv if wv is not None else gv
        grad_g = grad_x = grad_w = grad_gh = G = None
        if gdx is not None:
            P = gdx.reshape(spec.view)
            q = mean(P * xh)
            m2 = mean(gh * xh)
            grad_gh = r * ((P - mean(P) if c else P) - xh * q)
            dx = r * ((gh - mean(gh) if c else gh) - xh * m2)
            G = -r * (P * m2 + q * gh)
            grad_g = grad_gh * wv if wv is not None else grad_gh
            if w is not None:
                grad_w = (gv * grad_gh).sum(spec.waxes).reshape(w.shape)
        if gdw is not None:
            bw = gdw.reshape(spec.wview)
            G = gv * bw if G is None else G + gv * bw
            grad_g = bw * xh if grad_g is None else grad_g + bw * xh
        if gdb is not None:
            bb = gdb.reshape(spec.wview).expand(spec.view)
            grad_g = bb if grad_g is None else grad_g + bb
        if G is not None:
            gx = (G - mean(G) if c else G) - xh * mean(G * xh)
            if gdx is not None:
                gx = gx - xh * mean(P * dx)
            grad_x = (r * gx).reshape(x.shape)
        if grad_g is not None:
            grad_g = grad_g.reshape(g.shape)
        return grad_g, grad_x, grad_w, None, None


def _fused_forward(ctx, fused, x, X, weight, bias, spec):
    """_Normalize.forward by the backend's fused kernel: keeps the row means and 1/std
    (xh None marks this path for _NormalizeBackward)."""
    be = x._be
    y, mean, r = fused(X, weight._data if weight is not None else None,
                       bias._data if bias is not None else None, spec.eps, spec.centered)
    if ctx.needs_input_grad:
        ctx.save_for_backward(x, weight)
        ctx.xh, ctx.mean, ctx.r, ctx.spec, ctx.rows = None, mean, r, spec, False
        if bias is not None:
            ctx.bshape = bias._data.shape
    return be.reshape(y, x._data.shape)


def _rows_forward(ctx, be, x, X, weight, bias, spec, cd):
    """_Normalize.forward for an (M, N) view normalized over its rows, in fewer full passes
    than the generic path: y = xc * outer(r, w) + b with xc = x - mean. Keeps xc, r and
    outer(r, w) for _rows_backward."""
    M, N = X.shape
    inv_n = 1.0 / N
    if spec.centered:
        mean = be.matmul(X, _ones(N, cd))           # BLAS row sums beat np.sum here
        mean *= inv_n
        xc = be.subtract(X, mean.reshape(M, 1))
    else:
        xc = X
    r = np.einsum("ij,ij->i", xc, xc)
    r *= inv_n
    r += spec.eps
    be.rsqrt(r, out=r)
    if weight is not None:
        # outer(r, w) costs one write-only pass, and _rows_backward reuses it
        A = np.einsum("i,j->ij", r, _param(weight, spec, cd))
        y = be.multiply(xc, A)
    else:
        A = None
        y = be.multiply(xc, r.reshape(M, 1))
    if bias is not None:
        y += _param(bias, spec, cd)
    if ctx.needs_input_grad:
        ctx.save_for_backward(x, weight)
        ctx.xh, ctx.r, ctx.A, ctx.spec, ctx.rows = xc, r, A, spec, True
        if bias is not None:
            ctx.bshape = bias._data.shape
    return y


def _rows_backward(be, G, w, fctx, needs, cd):
    """_NormalizeBackward's arrays for _rows_forward. With xh = xc * r, gh = g * w,
    m1 = sum(gh) and p = sum(gh * xc) over rows (BLAS products), the generic
    r * (gh - m1 / n - xh * mean(gh * xh)) becomes g * outer(r, w) - r m1 / n - xc * r^3 p / n,
    whose column factors are small (M,) arrays."""
    xc, r, A, spec = fctx.xh, fctx.r, fctx.A, fctx.spec
    M, N = G.shape
    inv_n = 1.0 / N
    wv = _param(w, spec, cd) if w is not None else _ones(N, cd)
    dx = dw = db = None
    P = be.multiply(G, xc) if needs[0] or (needs[1] and w is not None) else None
    short = M <= _EINSUM_MAX        # else pairwise sums keep the column sums accurate
    if needs[1] and w is not None:
        # sum over rows of g * xh
        dw = be.matmul(r, P) if short else be.sum(P * r.reshape(M, 1), (0,))
        dw = dw.reshape(w.shape)
    if needs[2]:
        db = be.matmul(_ones(M, cd), G) if short else be.sum(G, (0,))
        db = db.reshape(fctx.bshape)
    if needs[0]:
        a = be.matmul(P, wv)
        a *= r
        a *= r
        a *= r
        a *= inv_n
        dx = be.multiply(G, A) if A is not None else be.multiply(G, r.reshape(M, 1))
        if spec.centered:
            # subtracted first, so that r * (gh - mean(gh)) cancels as exactly as before
            c = be.matmul(G, wv)
            c *= r
            c *= inv_n
            dx -= c.reshape(M, 1)
        dx -= be.multiply(xc, a.reshape(M, 1), out=P)
    return dx, dw, db


def _generic_backward(be, G, w, fctx, needs, cd):
    """_NormalizeBackward's arrays for any spec, from the saved xh and r."""
    spec, xh, r = fctx.spec, fctx.xh, fctx.r
    waxes, wshape = spec.waxes, (w.shape if w is not None else None)
    dw = db = dx = None
    if needs[1] and w is not None:
        dw = be.reshape(_esum(be, waxes, G, xh, keepdims=False), wshape)
    if needs[2]:
        db = be.reshape(_esum(be, waxes, G, keepdims=False), fctx.bshape)
    if needs[0]:
        inv_n = 1.0 / spec.n if spec.n else 0.0     # n == 0: dx is empty
        gh = be.multiply(G, _param(w, spec, cd)) if w is not None else G
        m2 = _esum(be, spec.axes, gh, xh)
        m2 *= inv_n
        if spec.centered:
            m1 = _esum(be, spec.axes, gh)
            m1 *= inv_n
            # gh may be g's own memory (no weight): never written
            dx = be.subtract(gh, m1, out=None if gh is G else gh)
        else:
            dx = be.copy(gh) if gh is G else gh
        dx -= be.multiply(xh, m2)
        dx *= r
    return dx, dw, db


_EINSUM_MAX = 4096     # longest reduction summed by einsum (sequential float32 sums)
_SUBSCRIPTS = {}       # (ndim, axes, number of arrays) -> einsum subscripts
_LETTERS = "abcdefgh"


def _esum(be, axes, *arrays, keepdims=True):
    """The sum over ``axes`` of the product of ``arrays`` (all of one shape), without the
    product's temporary: NumPy's einsum, several times faster than multiply + sum. Long
    reductions go through the backend's pairwise sum, which keeps float32 accurate."""
    a = arrays[0]
    shape = a.shape
    if (len(arrays) == 1 and a.ndim == 2 and type(a) is np.ndarray and len(axes) == 1
            and shape[axes[0]] <= _EINSUM_MAX):
        # a single 2-D sum over rows or columns: a BLAS product with ones is faster still
        ax = axes[0]
        one = _ones(shape[ax], a.dtype)
        r = np.matmul(a, one) if ax == 1 else np.matmul(one, a)
        return r.reshape((shape[0], 1) if ax == 1 else (1, shape[1])) if keepdims else r
    if type(a) is np.ndarray and math.prod(shape[i] for i in axes) <= _EINSUM_MAX:
        key = (a.ndim, axes, len(arrays))
        sub = _SUBSCRIPTS.get(key)
        if sub is None:
            s = _LETTERS[:a.ndim]
            out = "".join(c for i, c in enumerate(s) if i not in axes)
            sub = _SUBSCRIPTS[key] = ",".join([s] * len(arrays)) + "->" + out
        r = np.einsum(sub, *arrays)
    else:
        r = be.sum(arrays[0] if len(arrays) == 1 else be.multiply(*arrays), axis=axes)
    if keepdims:
        r = be.reshape(r, tuple(1 if i in axes else n for i, n in enumerate(shape)))
    return r


_ONES = {}


def _ones(n, dtype):
    o = _ONES.get((n, dtype))
    if o is None:
        o = _ONES[(n, dtype)] = np.ones(n, dtype)
    return o


def _param(p, spec, cd):
    a = p._data
    if a.dtype != cd:
        a = p._be.astype(a, cd)
    return p._be.reshape(a, spec.wview)


def _update_running(be, spec, mean, var):
    """running = (1 - momentum) * running + momentum * batch statistic, with the unbiased
    variance (as PyTorch), averaged over any axes besides the channel one."""
    rm, rv, m, C = spec.running
    n = spec.n
    if rm is not None:
        bm = be.divide(be.sum(be.reshape(mean, (-1, C)), axis=0), mean.size // C)
        new = be.add(be.multiply(be.reshape(rm._data, (C,)), 1 - m), be.multiply(bm, m))
        be.copyto(rm._data, be.reshape(new, rm._data.shape), casting="unsafe")
        rm._bump_version()
    if rv is not None:
        bv = be.divide(be.sum(be.reshape(var, (-1, C)), axis=0), var.size // C)
        bv *= n / (n - 1) if n > 1 else float("nan")
        new = be.add(be.multiply(be.reshape(rv._data, (C,)), 1 - m), be.multiply(bv, m))
        be.copyto(rv._data, be.reshape(new, rv._data.shape), casting="unsafe")
        rv._bump_version()


# ------------------------------------------------------------------ argument checks
def _check_float(input, kernel):
    if input._data.dtype not in FLOAT_NP:
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_dt.SCALAR_NAMES[input.dtype]}'")


def _check_params(input, *params):
    """PyTorch's CPU kernels take parameters of the input's dtype (or float32 ones with a
    float16/bfloat16 input)."""
    dt = input._data.dtype
    for p in params:
        if p is not None and p._data.dtype != dt and not (dt in _LOW and p._data.dtype == _F32):
            want = _dt.SCALAR_NAMES[input.dtype] if dt not in _LOW else "Float"
            raise RuntimeError(f"mixed dtype (CPU): expect parameter to have scalar type of "
                               f"{want}")


def _shape_arg(normalized_shape):
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _last_dims(input, ns, weight, bias, sep):
    """(M, N) view of input for normalizing over its last dims ``ns``, checked as PyTorch."""
    shape = tuple(input.shape)
    if not ns:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           f"containing at least one element, but got normalized_shape = {list(ns)}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got "
                               f"{name} of shape {list(p.shape)} and normalized_shape = {list(ns)}")
    k = len(ns)
    if shape[len(shape) - k:] != ns or len(shape) < k:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*{sep}{str(list(ns))[1:]}, but got input of size{list(shape)}")
    n = math.prod(ns)
    return (math.prod(shape[:len(shape) - k]), n)


# ------------------------------------------------------------------ functions
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the last dims ``normalized_shape``, then scale and shift."""
    ns = _shape_arg(normalized_shape)
    view = _last_dims(input, ns, weight, bias, ", ")
    _check_float(input, "LayerNormKernelImpl")
    _check_params(input, weight, bias)
    key = (view, eps)
    spec = _LN_SPECS.get(key)
    if spec is None:        # specs without running statistics are immutable: reuse them
        if len(_LN_SPECS) > 256:
            _LN_SPECS.clear()
        spec = _LN_SPECS[key] = _Spec(view, (1,), (view[1],), eps)
    return _Normalize.apply(input, weight, bias, spec)


_LN_SPECS = {}


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) * weight over the last dims; eps defaults to the machine
    epsilon of the dtype computed in (float32 for float16/bfloat16), as PyTorch."""
    ns = _shape_arg(normalized_shape)
    view = _last_dims(input, ns, weight, None, "")
    _check_float(input, "rms_norm")
    if eps is None:
        eps = float(np.finfo(_compute_dtype(input._data.dtype)).eps)
    return _Normalize.apply(input, weight, None,
                            _Spec(view, (1,), (view[1],), eps, centered=False))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize each of ``num_groups`` groups of channels of each sample, then scale and
    shift per channel."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.dim()}")
    shape = tuple(input.shape)
    N, C = shape[:2]
    if num_groups > 0 and N * C // num_groups * math.prod(shape[2:]) == 1:
        # torch's _verify_batch_size on [N * C // G, G, *spatial]
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {[N * C // num_groups, num_groups] + list(shape[2:])}")
    if num_groups <= 0 or C % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(shape)} and num_groups={num_groups}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and (p.dim() != 1 or p.numel() != C):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {list(p.shape)} "
                               f"and input of shape {list(shape)}")
    _check_float(input, "GroupNormKernelImpl")
    _check_params(input, weight, bias)
    G = num_groups
    view = (N, G, C // G, math.prod(shape[2:]))
    return _Normalize.apply(input, weight, bias, _Spec(view, (2, 3), (G, C // G, 1), eps))


def _check_channels(C, **tensors):
    for name, t in tensors.items():
        if t is not None and t.numel() != C:
            raise RuntimeError(f"{name} should contain {C} elements not {t.numel()}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalize each channel (dim 1) over the batch and the spatial dims. In training the
    batch statistics are used and the running ones (when given) updated in place; in eval
    the running statistics are used."""
    shape = tuple(input.shape)
    C = shape[1] if len(shape) > 1 else 0
    _check_channels(C, running_mean=running_mean, running_var=running_var, weight=weight,
                    bias=bias)
    if training:
        size = shape[0] * math.prod(shape[2:])
        if size == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {input.shape}")
    elif running_mean is None or running_var is None:
        raise RuntimeError(f"running_{'mean' if running_mean is None else 'var'} must be "
                           "defined in evaluation mode")
    _check_float(input, "batch_norm")
    _check_params(input, weight, bias)
    view = (shape[0], C, math.prod(shape[2:]))
    if training:
        running = None
        if running_mean is not None or running_var is not None:
            running = (running_mean, running_var, momentum, C)
        return _Normalize.apply(input, weight, bias,
                                _Spec(view, (0, 2), (C, 1), eps, running=running))
    return _affine_eval(input, running_mean, running_var, weight, bias, eps)


def _affine_eval(input, rm, rv, weight, bias, eps):
    """(x - running_mean) / sqrt(running_var + eps) * weight + bias, per channel (dim 1),
    as one scale and one shift over x."""
    dt = input.dtype
    scale = (rv.detach().to(rm.dtype) + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -rm.detach() * scale
    if bias is not None:
        shift = shift + bias
    bshape = (-1,) + (1,) * (input.dim() - 2)
    return (input * scale.to(dt).reshape(bshape)).add_(shift.to(dt).reshape(bshape))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalize each channel of each sample over its spatial dims."""
    shape = tuple(input.shape)
    if len(shape) < 2:
        raise ValueError(f"Expected at least 2 dimensions for input tensor but received "
                         f"{len(shape)}")
    C = shape[1]
    _check_channels(C, running_mean=running_mean, running_var=running_var, weight=weight,
                    bias=bias)
    if use_input_stats and math.prod(shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{input.shape}")
    _check_float(input, "instance_norm")
    _check_params(input, weight, bias)
    if not use_input_stats:
        return _affine_eval(input, running_mean, running_var, weight, bias, eps)
    view = (shape[0], C, math.prod(shape[2:]))
    running = None
    if running_mean is not None or running_var is not None:
        running = (running_mean, running_var, momentum, C)
    return _Normalize.apply(input, weight, bias, _Spec(view, (2,), (C, 1), eps, running=running))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p over dim, eps)."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    r = input / denom
    if out is not None:
        from .common import write_out
        return write_out(r, out)
    return r


from ..autocast_state import wrap_autocast  # noqa: E402
wrap_autocast(globals())   # autocast policies (genesis/autocast_state.py)
