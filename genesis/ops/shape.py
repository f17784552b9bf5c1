"""Shape ops. Views (reshape/view, permute, transpose, expand, squeeze, unsqueeze, narrow,
split/chunk/unbind parts, unfold, ...) share memory and the version counter with their
base, and remember how to re-derive themselves from it so that an in-place change of a
view can be put into the base's history (``rebase_view``). Ops that build new memory
(cat, stack, repeat, flip, roll) copy."""
import numpy as np

from .. import dtypes as _dt
from ..autograd.function import Function
from ..tensor import Tensor, Size, _make, _wrap_dim
from .common import shape_arg, wrap_dim, write_out, dims as _dims

__all__ = [
    "select", "reshape", "view_as", "reshape_as", "flatten", "unflatten", "ravel", "permute",
    "transpose", "swapaxes", "swapdims", "t", "movedim", "moveaxis", "expand", "expand_as",
    "broadcast_to", "broadcast_shapes", "broadcast_tensors", "squeeze", "unsqueeze",
    "clone", "narrow", "split", "chunk", "tensor_split", "hsplit", "vsplit", "dsplit",
    "unbind", "cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack",
    "column_stack", "row_stack", "tile", "flip", "fliplr", "flipud", "roll", "atleast_1d",
    "atleast_2d", "atleast_3d",
]

def _tname(t):
    return t.dtype.scalar_name


def mark_view(out, src, fn):
    """Record that ``out`` is ``fn(src)`` sharing src's memory."""
    if src._ver is None:
        src._ver = [0]
    out._ver = src._ver
    base, f = src._base, src._view_fn
    multi = getattr(src, "_multi", None)
    if multi is not None:
        out._multi = multi
    if base is None:
        out._base, out._view_fn = src, fn
    else:
        out._base, out._view_fn = base, (lambda b: fn(f(b)))
    out._hist_ver = out._ver[0]     # the version its history describes (refresh_view)
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
    multi = getattr(t, "_multi", None)
    if multi is not None:
        raise RuntimeError(f"Output {multi[1]} of {multi[0]}Backward0 is a view and is being "
                           "modified inplace. This view is the output of a function "
                           "that returns multiple views. Such functions do not allow the "
                           "output views to be modified inplace. You should replace the "
                           "inplace operation by an out-of-place one.")
    base = t._base
    new = ViewScatter.apply(base, out, t._view_fn)
    base._requires_grad, base.grad_fn, base._output_nr = True, new.grad_fn, 0
    v = t._view_fn(base)
    t._requires_grad, t.grad_fn, t._output_nr = True, v.grad_fn, v._output_nr
    t._hist_ver = t._ver[0]


def _mark_parts(parts, input, fn_of, name):
    """Mark each output of a multi-output view op as a view; fn_of(i) re-derives part i.
    As in PyTorch, such views may not be changed in place where autograd would see it."""
    for i, p in enumerate(parts):
        mark_view(p, input, fn_of(i))
        p._multi = (name, i)
    return parts


# ---------------------------------------------------------------- reshape / view
def _infer(shape, numel):
    """shape with its -1 filled in; PyTorch's errors for a size that does not fit."""
    neg = -1
    known = 1
    for i, s in enumerate(shape):
        if s == -1:
            if neg >= 0:
                raise RuntimeError("only one dimension can be inferred")
            neg = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
        else:
            known *= s
    if neg >= 0:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:neg] + (numel // known,) + shape[neg + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a._data.shape
        return a._be.reshape(a._data, shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


def _reshape(input, shape):
    out = Reshape.apply(input, shape)
    x, base = input._data, out._data.base   # NumPy views point at the owner of the memory
    if base is not None and (base is x or base is x.base or (  # device arrays: storage
            np.may_share_memory(base, x) if type(x) is np.ndarray
            else base.storage is x.storage)):
        mark_view(out, input, lambda b: b.reshape(shape))
    return out


def _fits(x, shape):
    """x's shape as ``shape`` (a -1 inferred) when NumPy can do it without a copy, else
    None: the fast path of view/reshape; anything odd goes the checked way."""
    if len(shape) == 1 and type(shape[0]) is tuple:
        shape = shape[0]
    if not shape or type(shape[0]) is not int or not x.size or type(x) is not np.ndarray:
        return None
    arr = x.view()
    try:
        arr.shape = shape
    except (ValueError, AttributeError, TypeError):
        return None
    fit = arr.shape
    if fit != shape and min(shape) < -1:     # NumPy takes any negative size as -1
        return None
    return fit


def reshape(input, *shape_, shape=None):
    if shape is None:
        fit = _fits(input._data, shape_)
        if fit is not None:
            return mark_view(Reshape.apply(input, fit), input, lambda b: b.reshape(fit))
    shape = shape_arg(shape_) if shape is None else shape_arg((shape,))
    return _reshape(input, _infer(shape, input._data.size))


def view(input, *shape, size=None, dtype=None):
    if dtype is None and size is None:
        fit = _fits(input._data, shape)
        if fit is not None:
            return mark_view(Reshape.apply(input, fit), input, lambda b: b.view(fit))
    if dtype is not None:
        return _view_dtype(input, _dt.to_dtype(dtype))
    if size is not None:
        shape = (size,)
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list, Size)):
        return _view_dtype(input, _dt.to_dtype(shape[0]))
    shape = _infer(shape_arg(shape), input._data.size)
    if input._be.view_strides(input._data, shape) is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead. "
            f"(input shape {list(input.shape)}, stride {list(input.stride())}, requested "
            f"shape {list(shape)})")
    out = Reshape.apply(input, shape)
    return mark_view(out, input, lambda b: b.view(shape))


def _view_dtype(input, dt):
    x = input._data
    old, new = x.dtype.itemsize, dt.itemsize
    if old != new:
        what = f"to view {_tname(input)} as {dt.scalar_name} (different element sizes)"
        if x.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        st = input.stride()
        if st[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {st[-1]}")
        if new > old:
            r = new // old
            if x.shape[-1] % r:
                raise RuntimeError(f"self.size(-1) must be divisible by {r} {what}, but got "
                                   f"{x.shape[-1]}")
            if input.storage_offset() % r:
                raise RuntimeError(f"self.storage_offset() must be divisible by {r} {what}, "
                                   f"but got {input.storage_offset()}")
            for i, s in enumerate(st[:-1]):
                if s % r:
                    raise RuntimeError(f"self.stride({i}) must be divisible by {r} {what}, "
                                       f"but got {s}")
    return mark_view(_make(_reinterpret(x, dt.np)), input, lambda b: b.view(dt))


def _reinterpret(x, npdt):
    """x's bytes read as npdt, the last dim rescaled (checked above): NumPy's view, or a
    DeviceArray over the same storage."""
    if type(x) is np.ndarray:
        return x.view(npdt)
    shape, strides = x.shape, x.strides
    if x.ndim and x.dtype.itemsize != npdt.itemsize:
        shape = shape[:-1] + (shape[-1] * x.dtype.itemsize // npdt.itemsize,)
        strides = strides[:-1] + (npdt.itemsize,)
    return type(x)(x.storage, shape, npdt, strides, x.offset,
                   x if x.base is None else x.base)


def view_as(input, other):
    return view(input, other.shape)


def reshape_as(input, other):
    return reshape(input, other.shape)


def flatten(input, start_dim=0, end_dim=-1):
    nd = input._data.ndim
    if nd == 0:
        wrap_dim(start_dim, 0), wrap_dim(end_dim, 0)
        return _reshape(input, (1,))
    s, e = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input._data.shape
    if s == e:
        return _reshape(input, shp)
    n = 1
    for k in shp[s:e + 1]:
        n *= k
    return _reshape(input, shp[:s] + (n,) + shp[e + 1:])


def unflatten(input, dim, sizes):
    shp = input._data.shape
    d = wrap_dim(dim, len(shp))
    if not shp:     # PyTorch's wording, after its own range check
        raise RuntimeError("unflatten got an unexpected error:\nDimension specified as 0 but "
                           "tensor has no dimensions")
    sizes = shape_arg((sizes,))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    n = 1
    for s in sizes:
        n *= s if s != -1 else 1
    if -1 in sizes:
        if n == 0 or shp[d] % n:
            raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to "
                               f"the size of dim {dim} ({shp[d]}) in the input tensor")
        sizes = tuple(s if s != -1 else shp[d] // n for s in sizes)
    elif n != shp[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shp[d]}) in the input tensor")
    return _reshape(input, shp[:d] + sizes + shp[d + 1:])


def ravel(input):
    return _reshape(input, (input._data.size,))


# ---------------------------------------------------------------- permute / transpose
class Permute(Function):
    @staticmethod
    def forward(ctx, a, perm):
        ctx.perm = perm
        return a._be.transpose(a._data, perm)

    @staticmethod
    def backward(ctx, g):
        return g.permute(tuple(np.argsort(ctx.perm).tolist())), None


def permute(input, *dims_, dims=None):
    nd = input._data.ndim
    if dims is None and not dims_:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    perm = shape_arg(dims_) if dims is None else shape_arg((dims,))
    if len(perm) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input "
                           f"does not match the length of the desired ordering of dimensions "
                           f"i.e. input.dim() = {nd} is not equal to len(dims) = {len(perm)}")
    perm = tuple(wrap_dim(p, nd) for p in perm)
    if len(set(perm)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    out = Permute.apply(input, perm)
    return mark_view(out, input, lambda b: b.permute(perm))


def _alias(input):
    """A view of the whole of input (what PyTorch returns where nothing moves)."""
    return mark_view(Reshape.apply(input, input._data.shape), input, lambda b: b)


def transpose(input, dim0, dim1):
    nd = input._data.ndim
    d0 = dim0 if 0 <= dim0 < nd else wrap_dim(dim0, nd)
    d1 = dim1 if 0 <= dim1 < nd else wrap_dim(dim1, nd)
    if nd < 2 or d0 == d1:
        return _alias(input)
    key = (nd, d0, d1)
    pf = _TPERM.get(key)
    if pf is None:
        perm = list(range(nd))
        perm[d0], perm[d1] = perm[d1], perm[d0]
        perm = tuple(perm)
        pf = _TPERM[key] = (perm, lambda b: b.permute(perm))
    return mark_view(Permute.apply(input, pf[0]), input, pf[1])


_TPERM = {}     # (ndim, dim0, dim1) -> (permutation, view function): built once each


def swapaxes(input, axis0, axis1):
    return transpose(input, axis0, axis1)


def swapdims(input, dim0, dim1):
    return transpose(input, dim0, dim1)


def t(input):
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D")
    return transpose(input, 0, -1)


def _T(self):
    nd = self._data.ndim
    return permute(self, tuple(range(nd - 1, -1, -1))) if nd >= 2 else _alias(self)


def _mT(self):
    if self._data.ndim == 0:      # PyTorch 2.13: the identity on a scalar
        return self
    if self._data.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self._data.ndim}-D tensor.")
    return transpose(self, -2, -1)


def movedim(input, source, destination):
    nd = input._data.ndim
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    ws = [wrap_dim(s, nd) for s in src]
    wd = [wrap_dim(d, nd) for d in dst]
    if len(set(ws)) != len(ws):
        raise RuntimeError(f"movedim: repeated dim in `source` ({src})")
    if len(set(wd)) != len(wd):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({dst})")
    if nd == 0:                   # only dim 0 (or -1) of a scalar: nothing moves
        return permute(input, ())
    rest = iter([i for i in range(nd) if i not in ws])
    perm = [None] * nd
    for s, d in zip(ws, wd):
        perm[d] = s
    perm = [p if p is not None else next(rest) for p in perm]
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


def expand(input, *sizes, size=None):
    if size is None and not sizes:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    sizes = shape_arg(sizes) if size is None else shape_arg((size,))
    shp = input._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand(torch.{_tname(input)}Tensor{{{list(shp)}}}, "
                           f"size={list(sizes)}): the number of sizes provided ({len(sizes)}) "
                           "must be greater or equal to the number of dimensions in the "
                           f"tensor ({len(shp)})")
    lead = len(sizes) - len(shp)
    for i, s in enumerate(sizes[:lead]):
        if s < 0:
            raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                               f"leading, non-existing dimension {i}")
    target = list(sizes)
    for i, s in enumerate(shp):
        want = sizes[lead + i]
        if want == -1:
            target[lead + i] = s
        elif s != want and s != 1:
            raise RuntimeError(f"The expanded size of the tensor ({want}) must match the "
                               f"existing size ({s}) at non-singleton dimension {lead + i}.  "
                               f"Target sizes: {list(sizes)}.  Tensor sizes: {list(shp)}")
        elif want < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {want}: "
                               f"{list(sizes)}")
    target = tuple(target)
    out = Expand.apply(input, target)
    return mark_view(out, input, lambda b: b.expand(target))


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, size):
    return expand(input, size)


def broadcast_shapes(*shapes):
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    nd = max((len(s) for s in shapes), default=0)
    out = [1] * nd
    for k, s in enumerate(shapes):
        for i, n in enumerate(s, nd - len(s)):
            if n < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {n}: "
                                   f"{list(s)}")
            if out[i] == 1:
                out[i] = n
            elif n != 1 and n != out[i]:
                raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single "
                                   f"shape.  Mismatch is between arg {k} with shape {s} at "
                                   f"dimension {i - nd} (size {n}) and the shape so far "
                                   f"{tuple(out)}")
    return Size(out)


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = broadcast_shapes(*[t._data.shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


def squeeze(input, dim=None):
    shp = input._data.shape
    if dim is None:
        new = tuple(s for s in shp if s != 1)
    else:
        ds = _dims(dim, len(shp))
        new = tuple(s for i, s in enumerate(shp) if not (s == 1 and i in ds))
    return _reshape(input, new)


def unsqueeze(input, dim):
    shp = input._data.shape
    d = _wrap_dim(dim, len(shp) + 1)
    return _reshape(input, shp[:d] + (1,) + shp[d:])


# ---------------------------------------------------------------- narrow and its kin
def _slicer(dim, sl):
    return (slice(None),) * dim + (sl,)


class Narrow(Function):
    @staticmethod
    def forward(ctx, a, dim, start, length):
        ctx.shape, ctx.dim, ctx.start = a._data.shape, dim, start
        return a._be.getitem(a._data, _slicer(dim, slice(start, start + length)))

    @staticmethod
    def backward(ctx, g):
        return NarrowGrad.apply(g, ctx.shape, ctx.dim, ctx.start), None, None, None


class NarrowGrad(Function):
    """g written into zeros of the narrowed input's shape at [start, start + len)."""

    @staticmethod
    def forward(ctx, g, shape, dim, start):
        x = g._data
        n = x.shape[dim]
        ctx.dim, ctx.start, ctx.length = dim, start, n
        out = g._be.full(shape, 0, x.dtype)
        g._be.setitem(out, _slicer(dim, slice(start, start + n)), x)
        return out

    @staticmethod
    def backward(ctx, gg):
        return Narrow.apply(gg, ctx.dim, ctx.start, ctx.length), None, None, None


def narrow(input, dim, start, length):
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if isinstance(start, Tensor):
        start = int(start.item())
    length = int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    d = wrap_dim(dim, nd)
    n = input._data.shape[d]
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but "
                         f"got {start})")
    if start < 0:
        start += n
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({n}).")
    out = Narrow.apply(input, d, start, length)
    return mark_view(out, input, lambda b: b.narrow(d, start, length))


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, without that dim (a view)."""
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, nd)
    n = input._data.shape[d]
    if isinstance(index, Tensor):
        index = int(index.item())
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    return narrow(input, d, index % n, 1).squeeze(d)


class SplitWithSizes(Function):
    """Consecutive parts of ``a`` along ``dim`` (views); backward concatenates."""

    @staticmethod
    def forward(ctx, a, dim, sizes):
        ctx.dim = dim
        x, get = a._data, a._be.getitem
        out, o = [], 0
        for s in sizes:
            out.append(get(x, _slicer(dim, slice(o, o + s))))
            o += s
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        return cat(grads, ctx.dim), None, None


def _split_sizes(input, sizes, d):
    parts = SplitWithSizes.apply(input, d, sizes)
    starts = [0]
    for s in sizes[:-1]:
        starts.append(starts[-1] + s)
    return _mark_parts(parts, input,
                       lambda i: (lambda b: b.narrow(d, starts[i], sizes[i])), "SplitWithSizes")


def split(tensor, split_size_or_sections, dim=0):
    nd = tensor._data.ndim
    if nd == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, nd)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        s = int(split_size_or_sections)
        if s < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={s}")
        if s == 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        if n == 0:          # an empty dim still gives one (empty) part, as PyTorch
            sizes = (0,)
        else:
            sizes = (s,) * (n // s) + ((n % s,) if n % s else ())
    else:
        sizes = tuple(int(s) for s in split_size_or_sections)
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={list(sizes)}")
    return _split_sizes(tensor, sizes, d)


def _split_method(self, split_size, dim=0):
    return split(self, split_size, dim)


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, nd)
    n = input._data.shape[d]
    size = -(-n // chunks)
    if size == 0:          # an empty dim: chunks empty parts, as PyTorch
        return _split_sizes(input, (0,) * chunks, d)
    return split(input, size, d)


def tensor_split(input, indices_or_sections, dim=0):
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = wrap_dim(dim, nd)
    n = input._data.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios._data.dtype.kind not in "iu":
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have "
                               f"integer dtype, but got {ios.dtype}")
        if ios._data.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {ios._data.ndim} dims")
        ios = ios.item() if ios._data.ndim == 0 else ios.tolist()
    if isinstance(ios, (int, np.integer)):
        k = int(ios)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        return _split_sizes(input, (q + 1,) * r + (q,) * (k - r), d)
    if isinstance(ios, float):
        raise TypeError("tensor_split(): argument 'indices_or_sections' must be an int, a "
                        "sequence of ints or a Tensor, not float")
    bounds = [min(max(int(i) + (n if i < 0 else 0), 0), n) for i in ios]
    starts, ends = [0] + bounds, bounds + [n]
    if all(s <= e for s, e in zip(starts, ends)):
        return _split_sizes(input, tuple(e - s for s, e in zip(starts, ends)), d)
    # indices out of order: parts overlap or are empty, so narrow each on its own
    return tuple(narrow(input, d, s, max(e - s, 0)) for s, e in zip(starts, ends))


def _fixed_split(name, input, ios, dim, min_dim):
    nd = input._data.ndim
    if nd < min_dim:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dim} dimension, "
                           f"but got a tensor with {nd} dimensions!")
    if isinstance(ios, (int, np.integer)):
        n = input._data.shape[dim]
        if ios == 0 or n % ios:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but "
                               f"the size of the dimension {n} is not divisible by the "
                               f"split_size {ios}!")
    return tensor_split(input, ios, dim)


def hsplit(input, indices_or_sections):
    return _fixed_split("hsplit", input, indices_or_sections,
                        1 if input._data.ndim > 1 else 0, 1)


def vsplit(input, indices_or_sections):
    return _fixed_split("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections):
    return _fixed_split("dsplit", input, indices_or_sections, 2, 3)


class Unbind(Function):
    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        x, get = a._data, a._be.getitem
        pre = (slice(None),) * dim
        return tuple(get(x, pre + (i,)) for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(grads, ctx.dim), None


def unbind(input, dim=0):
    nd = input._data.ndim
    if nd == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = wrap_dim(dim, nd)
    parts = Unbind.apply(input, d)
    shp = input._data.shape
    rest = shp[:d] + shp[d + 1:]
    return _mark_parts(parts, input,
                       lambda i: (lambda b: b.narrow(d, i, 1).reshape(rest)), "Unbind")


class Unfold(Function):
    @staticmethod
    def forward(ctx, a, dim, size, step):
        x = a._data
        ctx.args = (x.shape, dim, size, step)
        item = x.itemsize
        st = [s // item for s in x.strides]
        shape = list(x.shape)
        shape[dim] = (shape[dim] - size) // step + 1
        shape.append(size)
        stride = st[:]
        stride[dim] = st[dim] * step
        stride.append(st[dim])
        return a._be.as_strided(x, tuple(shape), tuple(stride), 0)

    @staticmethod
    def backward(ctx, g):
        return UnfoldGrad.apply(g, *ctx.args), None, None, None


class UnfoldGrad(Function):
    """Each window's gradient added back onto the elements it came from."""

    @staticmethod
    def forward(ctx, g, shape, dim, size, step):
        ctx.args = (dim, size, step)
        be, x = g._be, g._data
        out = be.full(shape, 0, x.dtype)
        m = x.shape[dim]
        pre = (slice(None),) * dim
        for k in range(size):   # position k of every window: one strided, non-overlapping add
            dst = be.getitem(out, pre + (slice(k, k + step * (m - 1) + 1, step),))
            be.add(dst, be.getitem(x, (Ellipsis, k)), out=dst)
        return out

    @staticmethod
    def backward(ctx, gg):
        dim, size, step = ctx.args
        return gg.unfold(dim, size, step), None, None, None, None


def unfold(input, dimension, size, step):
    nd = input._data.ndim
    d = wrap_dim(dimension, nd)
    n = input._data.shape[d] if nd else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is "
                           f"{size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if nd == 0:
        return _reshape(input, (1,)) if size else _reshape(input, (1,)).narrow(0, 0, 0)
    out = Unfold.apply(input, d, size, step)
    return mark_view(out, input, lambda b: b.unfold(d, size, step))


# ---------------------------------------------------------------- cat / stack
def _common(tensors, name):
    """The backend and the NumPy result dtype of a list of tensors to join."""
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        "not Tensor")
    tensors = tuple(tensors)
    if not tensors:
        return tensors, None, None
    t0 = tensors[0]
    be, dt = t0._be, t0._data.dtype
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
        if t._be is not be:
            raise RuntimeError("Expected all tensors to be on the same device, but found at "
                               f"least two devices, {t0.device} and {t.device}!")
        if t._data.dtype != dt:
            dt = None
    if dt is None:
        d = tensors[0].dtype
        for t in tensors[1:]:
            d = _dt.promote_types(d, t.dtype)
        dt = d.np
    return tensors, be, dt


def _as(be, x, dt):
    return x if x.dtype == dt else be.astype(x, dt)


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, be, dt, nd, *tensors):
        # PyTorch's legacy rule: 1-D empty tensors are skipped whatever the others' shapes
        ctx.dim = dim
        ctx.sizes = [t._data.shape[dim] if t._data.ndim == nd else None for t in tensors]
        # C-contiguous as PyTorch's (NumPy's concatenate follows its inputs' layout)
        return be.ascontiguousarray(
            be.concatenate([_as(be, t._data, dt) for t in tensors if t._data.ndim == nd], dim))

    @staticmethod
    def backward(ctx, g):
        out, o, dim = [None, None, None, None], 0, ctx.dim
        for need, s in zip(ctx.needs_input_grad[4:], ctx.sizes):
            if s is None:
                out.append(_make(g._be.full((0,), 0, g._data.dtype)) if need else None)
                continue
            out.append(g.narrow(dim, o, s) if need else None)
            o += s
        return tuple(out)


def cat(tensors, dim=0, *, out=None):
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"cat(): argument 'dim' must be int, not {type(dim).__name__}")
    tensors, be, dt = _common(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
    keep = [t for t in tensors if t._data.shape != (0,)] or tensors
    ref = keep[0]._data.shape
    d = wrap_dim(dim, len(ref))
    for t in keep:
        shp = t._data.shape
        if len(shp) != len(ref):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(ref)} "
                               f"and {len(shp)}")
        for k, (a, b) in enumerate(zip(ref, shp)):
            if a != b and k != d:
                i = next(i for i, u in enumerate(tensors) if u is t)
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {a} but got size {b} for tensor number "
                                   f"{i} in the list.")
    res = Cat.apply(d, be, dt, len(ref), *tensors)
    return write_out(res, out)


concat = concatenate = cat


class Stack(Function):
    @staticmethod
    def forward(ctx, dim, be, dt, *tensors):
        ctx.dim = dim
        shp = tensors[0]._data.shape
        new = shp[:dim] + (1,) + shp[dim:]
        return be.ascontiguousarray(
            be.concatenate([be.reshape(_as(be, t._data, dt), new) for t in tensors], dim))

    @staticmethod
    def backward(ctx, g):
        parts = g.unbind(ctx.dim)
        return (None, None, None) + tuple(p if need else None
                                          for p, need in zip(parts, ctx.needs_input_grad[3:]))


def stack(tensors, dim=0, *, out=None):
    tensors, be, dt = _common(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != ref:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(ref)} at entry 0 and {list(t._data.shape)} at entry "
                               f"{i}")
    d = _wrap_dim(dim, len(ref) + 1)
    return write_out(Stack.apply(d, be, dt, *tensors), out)


def _unpack(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(tensors[0]), True
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"atleast_nd() expected Tensors, but got {type(t).__name__}")
    return tensors, len(tensors) != 1


def _atleast(tensors, fix):
    ts, many = _unpack(tensors)
    res = tuple(fix(t) for t in ts)
    return res if many else res[0]


def _at1(t):
    return _reshape(t, (1,)) if t._data.ndim == 0 else t


def _at2(t):
    nd = t._data.ndim
    return _reshape(t, (1,) * (2 - nd) + t._data.shape) if nd < 2 else t


def _at3(t):
    shp = t._data.shape
    if len(shp) >= 3:
        return t
    return _reshape(t, {0: (1, 1, 1), 1: (1,) + shp + (1,), 2: shp + (1,)}[len(shp)])


def atleast_1d(*tensors):
    return _atleast(tensors, _at1)


def atleast_2d(*tensors):
    return _atleast(tensors, _at2)


def atleast_3d(*tensors):
    return _atleast(tensors, _at3)


def hstack(tensors, *, out=None):
    ts = [_at1(t) for t in tensors]
    return cat(ts, 0 if ts and ts[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    return cat([_at2(t) for t in tensors], 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    return cat([_at3(t) for t in tensors], 2, out=out)


def column_stack(tensors, *, out=None):
    ts = [_reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in tensors]
    return cat(ts, 1, out=out)


# ---------------------------------------------------------------- repeat / flip / roll
class Repeat(Function):
    @staticmethod
    def forward(ctx, a, reps):
        be, x = a._be, a._data
        shp = (1,) * (len(reps) - x.ndim) + x.shape
        ctx.in_shape, ctx.pairs = x.shape, tuple(v for r, s in zip(reps, shp) for v in (r, s))
        # (1, s0, 1, s1, ...) broadcast to (r0, s0, r1, s1, ...), then merged pairwise
        y = be.broadcast_to(be.reshape(x, tuple(v for s in shp for v in (1, s))), ctx.pairs)
        return be.reshape(be.copy(y), tuple(r * s for r, s in zip(reps, shp)))

    @staticmethod
    def backward(ctx, g):
        n = len(ctx.pairs)
        g = g.reshape(ctx.pairs).sum(tuple(range(0, n, 2)))
        return g.reshape(ctx.in_shape), None


def repeat(input, *sizes, repeats=None):
    reps = shape_arg(sizes) if repeats is None else shape_arg((repeats,))
    if len(reps) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than "
                           "number of dimensions of tensor")
    for r in reps:
        if r < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {r}: "
                               f"{list(reps)}")
    return Repeat.apply(input, reps)


def tile(input, dims):
    reps = shape_arg((dims,))
    nd = input._data.ndim
    if len(reps) < nd:
        reps = (1,) * (nd - len(reps)) + reps
    return repeat(input, reps)


class Flip(Function):
    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        rev = slice(None, None, -1)
        idx = tuple(rev if i in axes else slice(None) for i in range(a._data.ndim))
        return a._be.copy(a._be.getitem(a._data, idx))

    @staticmethod
    def backward(ctx, g):
        return g.flip(ctx.axes), None


def flip(input, *dims_, dims=None):
    dims = shape_arg(dims_) if dims is None else shape_arg((dims,))
    nd = input._data.ndim
    axes = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(axes)) != len(axes):
        d = next(a for a in axes if axes.count(a) > 1)
        raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return Flip.apply(input, axes if nd else ())


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return Flip.apply(input, (1,))


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return Flip.apply(input, (0,))


class Roll(Function):
    @staticmethod
    def forward(ctx, a, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        be, x = a._be, a._data
        for s, d in zip(shifts, axes):
            n = x.shape[d]
            s = s % n if n else 0
            if s:
                x = be.concatenate([be.getitem(x, _slicer(d, slice(n - s, None))),
                                    be.getitem(x, _slicer(d, slice(0, n - s)))], d)
        return be.copy(x) if x is a._data else be.ascontiguousarray(x)

    @staticmethod
    def backward(ctx, g):
        return Roll.apply(g, tuple(-s for s in ctx.shifts), ctx.axes), None, None


def roll(input, shifts, dims=None):
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    dims = () if dims is None else (dims,) if isinstance(dims, (int, np.integer)) \
        else tuple(dims)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if not dims:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                               "dims:0")
        shp = input._data.shape
        return Roll.apply(flatten(input), (int(shifts[0]),), (0,)).view(shp)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    nd = input._data.ndim
    return Roll.apply(input, tuple(int(s) for s in shifts),
                      tuple(wrap_dim(d, nd) for d in dims))


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
    "select": select, "reshape": reshape, "view": view, "view_as": view_as,
    "reshape_as": reshape_as,
    "flatten": flatten, "unflatten": unflatten, "ravel": ravel, "permute": permute,
    "transpose": transpose, "swapaxes": swapaxes, "swapdims": swapdims, "t": t,
    "movedim": movedim, "moveaxis": movedim, "expand": expand, "expand_as": expand_as,
    "broadcast_to": broadcast_to, "squeeze": squeeze, "unsqueeze": unsqueeze,
    "clone": clone, "contiguous": contiguous, "narrow": narrow, "split": _split_method,
    "chunk": chunk, "tensor_split": tensor_split, "hsplit": hsplit, "vsplit": vsplit,
    "dsplit": dsplit, "unbind": unbind, "unfold": unfold, "repeat": repeat, "tile": tile,
    "flip": flip, "fliplr": fliplr, "flipud": flipud, "roll": roll,
    "T": property(_T), "mT": property(_mT), "H": property(_T), "mH": property(_mT),
    "_is_view": lambda self: self._base is not None,
}


from ..autocast_state import wrap_autocast  # noqa: E402
wrap_autocast(globals(), TENSOR_METHODS)   # autocast policies (genesis/autocast_state.py)
