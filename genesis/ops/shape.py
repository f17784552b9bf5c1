"""Shape ops. Views (reshape/view, permute, transpose, expand, squeeze, unsqueeze, ...)
share memory and the version counter with their base, and remember how to re-derive
themselves from it so that an in-place change of a view can be put into the base's
history (``rebase_view``)."""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor, _make, _wrap_dim
from .common import shape_arg, wrap_dim, dims as _dims


def mark_view(out, src, fn):
    """Record that ``out`` is ``fn(src)`` sharing src's memory."""
    if src._ver is None:
        src._ver = [0]
    out._ver = src._ver
    base, f = src._base, src._view_fn
    if base is None:
        out._base, out._view_fn = src, fn
    else:
        out._base, out._view_fn = base, (lambda b: fn(f(b)))
    return out


class ViewScatter(Function):
    """``base`` with the region ``fn(base)`` replaced by ``value``; its data was already
    written in place, so forward returns the base's own memory."""

    @staticmethod
    def forward(ctx, base, value, fn):
        ctx.fn = fn
        return base._data

    @staticmethod
    def backward(ctx, g):
        gb = g.clone()
        from ..autograd.grad_mode import no_grad
        with no_grad():
            ctx.fn(gb).zero_()
        return gb, ctx.fn(g), None


def rebase_view(t, out):
    """t (a view of its base) was overwritten in place with out's value: make the base's
    history include the change and t's history read from the new base."""
    base = t._base
    new = ViewScatter.apply(base, out, t._view_fn)
    base._requires_grad, base.grad_fn, base._output_nr = True, new.grad_fn, 0
    v = t._view_fn(base)
    t._requires_grad, t.grad_fn, t._output_nr = True, v.grad_fn, v._output_nr


# ---------------------------------------------------------------- reshape / view
def _infer(shape, numel, src_shape):
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a._data.shape
        return a._be.reshape(a._data, shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


def reshape(input, *shape):
    shape = _infer(shape_arg(shape), input._data.size, input._data.shape)
    out = Reshape.apply(input, shape)
    if np.may_share_memory(out._data, input._data):
        mark_view(out, input, lambda b: b.reshape(shape))
    return out


def view(input, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)) and \
            not hasattr(shape[0], "__len__"):
        from ..dtypes import to_dtype
        return _view_dtype(input, to_dtype(shape[0]))
    shape = _infer(shape_arg(shape), input._data.size, input._data.shape)
    try:
        arr = input._data.view()
        arr.shape = shape
    except AttributeError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead. "
            f"(input shape {list(input.shape)}, stride {list(input.stride())}, requested "
            f"shape {list(shape)})") from None
    return reshape(input, shape)


def _view_dtype(input, dt):
    return mark_view(_make(input._data.view(dt.np)), input, lambda b: b.view(dt))


def view_as(input, other):
    return view(input, other.shape)


def reshape_as(input, other):
    return reshape(input, other.shape)


def flatten(input, start_dim=0, end_dim=-1):
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, (1,))
    s, e = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input._data.shape
    return reshape(input, shp[:s] + (-1,) + shp[e + 1:])


def unflatten(input, dim, sizes):
    d = wrap_dim(dim, input._data.ndim)
    shp = input._data.shape
    sizes = _infer(tuple(sizes), shp[d], shp)
    return reshape(input, shp[:d] + sizes + shp[d + 1:])


# ---------------------------------------------------------------- permute / transpose
class Permute(Function):
    @staticmethod
    def forward(ctx, a, perm):
        ctx.perm = perm
        return a._be.transpose(a._data, perm)

    @staticmethod
    def backward(ctx, g):
        return g.permute(tuple(np.argsort(ctx.perm))), None


def permute(input, *dims):
    nd = input._data.ndim
    perm = shape_arg(dims)
    if len(perm) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input "
                           f"does not match the length of the desired ordering of dimensions "
                           f"i.e. input.dim() = {nd} is not equal to len(dims) = {len(perm)}")
    perm = tuple(wrap_dim(p, nd) for p in perm)
    if len(set(perm)) != nd:
        raise RuntimeError(f"permute(): duplicate dims are not allowed: {list(dims)}")
    out = Permute.apply(input, perm)
    return mark_view(out, input, lambda b: b.permute(perm))


def transpose(input, dim0, dim1):
    nd = input._data.ndim
    if nd == 0:
        wrap_dim(dim0, 0), wrap_dim(dim1, 0)
        return mark_view(_alias(input), input, lambda b: b)
    d0, d1 = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    perm = list(range(nd))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return permute(input, perm)


def _alias(input):
    return Reshape.apply(input, input._data.shape)


def t(input):
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D")
    return input if input._data.ndim < 2 else transpose(input, 0, 1)


def _T(self):
    nd = self._data.ndim
    return permute(self, tuple(range(nd - 1, -1, -1))) if nd >= 2 else self


def _mT(self):
    if self._data.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self._data.ndim}-D tensor.")
    return transpose(self, -2, -1)


def movedim(input, source, destination):
    nd = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    src = [wrap_dim(s, nd) for s in src]
    dst = [wrap_dim(d, nd) for d in dst]
    order = [i for i in range(nd) if i not in src]
    perm = [None] * nd
    for s, d in zip(src, dst):
        perm[d] = s
    it = iter(order)
    perm = [p if p is not None else next(it) for p in perm]
    return permute(input, perm)


moveaxis = movedim


# ---------------------------------------------------------------- expand / squeeze
class Expand(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a._data.shape
        return a._be.broadcast_to(a._data, shape)

    @staticmethod
    def backward(ctx, g):
        return g.sum_to_size(ctx.in_shape), None


def expand(input, *sizes):
    sizes = shape_arg(sizes)
    shp = input._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(shp)}}}, size={list(sizes)}): "
                           "the number of sizes provided "
                           f"({len(sizes)}) must be greater or equal to the number of "
                           f"dimensions in the tensor ({len(shp)})")
    lead = len(sizes) - len(shp)
    target = list(sizes)
    for i, s in enumerate(shp):
        want = sizes[lead + i]
        if want == -1:
            target[lead + i] = s
        elif s != want and s != 1:
            raise RuntimeError(f"The expanded size of the tensor ({want}) must match the "
                               f"existing size ({s}) at non-singleton dimension {lead + i}.  "
                               f"Target sizes: {list(sizes)}.  Tensor sizes: {list(shp)}")
    target = tuple(target)
    if any(s < 0 for s in target[:lead]):
        raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                           f"non-existing dimension {target.index(-1)}")
    out = Expand.apply(input, target)
    return mark_view(out, input, lambda b: b.expand(target))


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, size):
    return expand(input, size)


def broadcast_shapes(*shapes):
    try:
        return tuple(np.broadcast_shapes(*[tuple(s) if not isinstance(s, int) else (s,)
                                           for s in shapes]))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: "
                           f"{[tuple(s) for s in shapes]}") from None


def broadcast_tensors(*tensors):
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


def squeeze(input, dim=None):
    shp = input._data.shape
    if dim is None:
        new = tuple(s for s in shp if s != 1)
    else:
        ds = _dims(dim, len(shp)) if shp else ()
        new = tuple(s for i, s in enumerate(shp) if not (i in ds and s == 1))
    return reshape(input, new)


def unsqueeze(input, dim):
    shp = input._data.shape
    d = _wrap_dim(dim, len(shp) + 1)
    return reshape(input, shp[:d] + (1,) + shp[d:])


# ---------------------------------------------------------------- copies
class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return a._be.copy(a._data)

    @staticmethod
    def backward(ctx, g):
        return g


def clone(input, *, memory_format=None):
    return Clone.apply(input)


def contiguous(input, memory_format=None):
    return input if input._data.flags.c_contiguous else Clone.apply(input)


TENSOR_METHODS = {
    "reshape": reshape, "view": view, "view_as": view_as, "reshape_as": reshape_as,
    "flatten": flatten, "unflatten": unflatten, "permute": permute, "transpose": transpose,
    "swapaxes": transpose, "swapdims": transpose, "t": t, "movedim": movedim,
    "moveaxis": movedim, "expand": expand, "expand_as": expand_as,
    "broadcast_to": broadcast_to, "squeeze": squeeze, "unsqueeze": unsqueeze,
    "clone": clone, "contiguous": contiguous,
    "T": property(_T), "mT": property(_mT), "H": property(_T), "mH": property(_mT),
    "_is_view": lambda self: self._base is not None,
}
