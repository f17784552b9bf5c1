"""Indexing: __getitem__ (basic views, advanced, boolean masks, None/Ellipsis),
__setitem__ (index_put with autograd), gather/scatter, index_select/index_add,
masked_fill/masked_select/masked_scatter, take, nonzero, tril/triu.

Every op here reduces to four backend primitives: ``getitem`` (read), ``setitem``
(overwrite), ``add_at`` (accumulate, repeated indices add up) and ``reduce_at``. The
dim-wise ops (gather/scatter) address their positions with an open mesh of index arrays
(``_mesh``), so they share the primitives and the gradients of plain indexing."""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor, _make
from .common import (wrap_dim, check_inplace, commit_inplace, snapshot, as_tensor_like,
                     fill_scalar)
from .shape import mark_view
from ..autograd.grad_mode import state as grad_state

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
           "index_copy", "index_fill", "index_put", "index_put_", "masked_fill",
           "masked_select", "masked_scatter", "take", "take_along_dim", "nonzero", "argwhere",
           "tril", "triu"]

_I64 = np.dtype(np.int64)
_I32 = np.dtype(np.int32)
_BOOL = np.dtype(np.bool_)
_U8 = np.dtype(np.uint8)


# ---------------------------------------------------------------- parsing an index
def _seq_as_tuple(seq):
    """PyTorch's (NumPy's legacy) rule: a short list holding a sequence, tensor, slice,
    None or Ellipsis is a tuple of indices rather than one index array."""
    if len(seq) >= 32:
        return False
    for it in seq:
        if isinstance(it, (Tensor, np.ndarray, list, tuple, slice)) or it is None or \
                it is Ellipsis:
            return True
    return False


def _index_array(x, arr):
    """A NumPy/array-like index as a backend array: bool masks stay bool, integers become
    int64; anything else is PyTorch's IndexError."""
    k = arr.dtype.kind
    if k == "b":
        pass
    elif k in "iu":
        if arr.dtype == _U8:
            arr = arr.astype(_BOOL)
        elif arr.dtype != _I64:
            arr = arr.astype(_I64)
    elif arr.size == 0:
        arr = arr.astype(_I64)
    else:
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return x._be.from_host(arr, arr.dtype)


def _parse(x, index):
    """An index as (tuple for the backend's getitem, whether it is basic, the index
    tensors its arrays come from). Basic indices (ints, slices, None, Ellipsis) give
    views; anything else is advanced (a copy). The index tensors are saved for backward
    by the ops that keep the tuple, so that changing one in place after the op raises
    instead of silently moving the gradient."""
    if type(index) is not tuple:
        if isinstance(index, list) and _seq_as_tuple(index):
            index = tuple(index)
        else:
            index = (index,)
    out = []
    keep = []
    basic = True
    used = 0
    ell = False
    empty_mask = False
    for it in index:
        t = type(it)
        if t is int or t is slice:
            if t is slice and it.step is not None:
                step = it.step.__index__()
                if step <= 0:
                    raise ValueError("step must be greater than zero" if step else
                                     "slice step cannot be zero")
            used += 1
        elif it is None:
            pass
        elif it is Ellipsis:
            ell = True
        elif t is bool:
            basic = False          # x[True] adds a dim of 1, x[False] one of 0
        elif isinstance(it, Tensor):
            index_t, a = it, it._data
            k = a.dtype.kind
            if k in "iu" and a.dtype != _U8 and a.ndim == 0:
                it = int(it.item())       # a 0-d integer tensor selects, as an int does
                used += 1
            elif k in "iub":
                if it._be is not x._be:   # e.g. CPU indices into a CUDA tensor
                    a = x._be.from_host(it._be.to_host(a), a.dtype)
                if k == "b" or a.dtype == _U8:
                    it = a if k == "b" else x._be.astype(a, _BOOL)
                    used += a.ndim
                    empty_mask = empty_mask or a.size == 0
                else:
                    it = a if a.dtype == _I64 else x._be.astype(a, _I64)
                    used += 1
                keep.append(index_t)
                basic = False
            else:
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
        elif isinstance(it, (np.integer,)):
            it = int(it)
            used += 1
        elif isinstance(it, (list, tuple, np.ndarray)):
            if t is not np.ndarray and any(isinstance(v, (Tensor, list, tuple)) for v in it):
                it = _plain(it)
            it = _index_array(x, np.array(it))    # a copy: the caller may change an ndarray
            basic = False
            if it.dtype == _BOOL:
                used += it.ndim
                empty_mask = empty_mask or it.size == 0
            else:
                used += 1
        elif isinstance(it, str):
            raise TypeError(f"new(): invalid data type '{t.__name__}'")
        elif hasattr(it, "__index__") and not isinstance(it, float):
            it = it.__index__()
            used += 1
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"byte Variables are valid indices (got {t.__name__})")
        out.append(it)
    if used > x._data.ndim:
        raise _too_many(x._data.ndim, out)
    if empty_mask:      # NumPy lets an empty mask through whatever the sizes it indexes
        e = _mask_mismatch(x, out)
        if e is not None:
            raise e
    if basic:
        if not ell:
            out.append(Ellipsis)   # NumPy returns a scalar, not a 0-d view, for all-int indices
    elif ell and used == x._data.ndim:
        # an Ellipsis of no dims does not part advanced indices in PyTorch (it does in NumPy)
        out = [it for it in out if it is not Ellipsis]
    return tuple(out), basic, tuple(keep)


def _plain(seq):
    """A list index with its tensors as Python numbers, as PyTorch reads them: each must
    be a one-element integer (or bool) tensor."""
    out = []
    for v in seq:
        if isinstance(v, Tensor):
            a = v._data
            if a.size != 1 or a.dtype.kind not in "iub":
                raise TypeError("only integer tensors of a single element can be converted "
                                "to an index")
            v = v.item()
        elif isinstance(v, (list, tuple)):
            v = _plain(v)
        out.append(v)
    return out


def _too_many(ndim, idx):
    if ndim == 0 and type(idx[0]) is int and len(idx) <= 2:
        return IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                          "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    return IndexError(f"too many indices for tensor of dimension {ndim}")


def _consumed(it):
    """How many dims of the indexed tensor an index item uses."""
    if it is None or it is Ellipsis or type(it) is bool:
        return 0
    return it.ndim if getattr(it, "dtype", None) == _BOOL else 1


def _index_error(x, idx, e):
    """NumPy's IndexError in PyTorch's words."""
    msg = str(e)
    if "too many indices" in msg:
        return _too_many(x._data.ndim, idx)
    if "out of bounds" in msg:
        return IndexError(msg.replace("axis", "dimension"))
    if "boolean index did not match" in msg:
        return _mask_mismatch(x, idx) or IndexError(msg)
    return IndexError(msg)


def _mask_mismatch(x, idx):
    """PyTorch's IndexError for the first mask in idx whose shape differs from the sizes
    of x it indexes, or None."""
    shp, dim = list(x._data.shape), 0
    for k, it in enumerate(idx):
        if it is Ellipsis:
            dim = len(shp) - sum(_consumed(i) for i in idx[k + 1:])
        elif getattr(it, "dtype", None) == _BOOL:
            for j, n in enumerate(it.shape):
                if n != shp[dim + j]:
                    return IndexError(f"The shape of the mask {list(it.shape)} at index {j} "
                                      f"does not match the shape of the indexed tensor "
                                      f"{shp} at index {dim + j}")
            dim += it.ndim
        else:
            dim += _consumed(it)
    return None


# ---------------------------------------------------------------- getitem / index_put
def _keep(ctx, keep):
    """Save the index tensors that idx's arrays come from (see _parse)."""
    ctx.kept = bool(keep)
    if keep:
        ctx.save_for_backward(*keep)


def _kept(ctx):
    """The saved index tensors; raises PyTorch's error if one was changed in place (the
    arrays in ctx.idx are theirs, so they are still right when this passes)."""
    return ctx.saved_tensors if ctx.kept else ()


class Index(Function):
    """x[idx] for a parsed idx; basic indices give a view of x's memory. ``keep`` are
    the index tensors idx's arrays come from."""

    @staticmethod
    def forward(ctx, a, idx, basic, keep):
        ctx.idx, ctx.basic, ctx.shape = idx, basic, a._data.shape
        _keep(ctx, keep)
        return _read(a, idx, basic)

    @staticmethod
    def backward(ctx, g):
        return IndexGrad.apply(g, ctx.shape, ctx.idx, ctx.basic, _kept(ctx)), None, None, None


class IndexGrad(Function):
    """Zeros of ``shape`` with g placed at idx; repeated advanced indices accumulate."""

    @staticmethod
    def forward(ctx, g, shape, idx, basic, keep):
        ctx.idx, ctx.basic = idx, basic
        _keep(ctx, keep)
        be = g._be
        z = be.full(shape, 0, g._data.dtype)
        if basic:
            be.setitem(z, idx, g._data)
        else:
            be.add_at(z, idx, g._data)
        return z

    @staticmethod
    def backward(ctx, gg):
        return Index.apply(gg, ctx.idx, ctx.basic, _kept(ctx)), None, None, None, None


def _read(x, idx, basic):
    """x's array at idx: a view for basic indices, else a C-contiguous copy, as PyTorch's
    (NumPy's advanced indexing may follow x's layout)."""
    be = x._be
    try:
        r = be.getitem(x._data, idx)
    except IndexError as e:
        raise _index_error(x, idx, e) from None
    return r if basic else be.ascontiguousarray(r)


def _getitem(self, index):
    if type(index) is int:      # the common x[i]: skip the general parse
        idx, basic, keep = (index, Ellipsis), True, ()
    else:
        idx, basic, keep = _parse(self, index)
    if not self._requires_grad:
        out = _make(_read(self, idx, basic))
    else:
        out = Index.apply(self, idx, basic, keep)
    if basic:
        mark_view(out, self, lambda b: b[idx])
    return out


def _value_array(arr, v):
    """The value to write into arr: a tensor's array cast to arr's dtype, or a scalar."""
    if isinstance(v, Tensor):
        d = v._data
        return d if d.dtype == arr.dtype else v._be.astype(d, arr.dtype)
    return v


class IndexPut(Function):
    """a with v written (or, with ``accumulate``, added) at idx (from the index tensors
    ``keep``). When ``owned`` the result is written into a's own memory (a is a snapshot
    or the in-place target)."""

    @staticmethod
    def forward(ctx, a, idx, v, accumulate, keep, owned):
        be = a._be
        arr = a._data if owned else be.copy(a._data)
        ctx.idx, ctx.accumulate = idx, accumulate
        _keep(ctx, keep)
        if isinstance(v, Tensor):
            ctx.vshape = v._data.shape
        val = _value_array(arr, v)
        try:
            if accumulate:
                be.add_at(arr, idx, val)
            else:
                be.setitem(arr, idx, val)
        except IndexError as e:
            raise _index_error(a, idx, e) from None
        except ValueError:
            raise _shape_mismatch(be.getitem(arr, idx).shape, np.shape(val), idx) from None
        return arr

    @staticmethod
    def backward(ctx, g):
        ga = gv = None
        keep = _kept(ctx)
        if ctx.needs_input_grad[0]:
            ga = g if ctx.accumulate else IndexPut.apply(g, ctx.idx, 0, False, keep, False)
        if ctx.needs_input_grad[2]:
            gv = Index.apply(g, ctx.idx, _is_basic(ctx.idx), keep)
            lead = len(ctx.vshape) - gv._data.ndim
            if lead > 0:     # the value had leading 1-dims that indexing drops
                gv = gv.reshape((1,) * lead + gv._data.shape)
        return ga, None, gv, None, None, None


def _shape_mismatch(target, vs, idx):
    """PyTorch's error for a value that does not broadcast to the indexed region: basic
    indexing copies into a view (copy_'s expand message), advanced is index_put's."""
    target, vs = list(target), list(vs)
    if not _is_basic(idx):
        return RuntimeError(f"shape mismatch: value tensor of shape {vs} cannot be broadcast "
                            f"to indexing result of shape {target}")
    while len(vs) > len(target) and vs[0] == 1:
        vs = vs[1:]
    lead = len(target) - len(vs)
    if lead < 0:
        return RuntimeError(f"expand(torch.FloatTensor{{{vs}}}, size={target}): the number of "
                            f"sizes provided ({len(target)}) must be greater or equal to the "
                            f"number of dimensions in the tensor ({len(vs)})")
    for d, n in enumerate(vs):
        if n != 1 and n != target[lead + d]:
            return RuntimeError(f"The expanded size of the tensor ({target[lead + d]}) must "
                                f"match the existing size ({n}) at non-singleton dimension "
                                f"{lead + d}.  Target sizes: {target}.  Tensor sizes: {vs}")
    return RuntimeError(f"shape mismatch: value tensor of shape {vs} cannot be broadcast to "
                        f"indexing result of shape {target}")


def _is_basic(idx):
    for it in idx:
        if not (it is None or it is Ellipsis or type(it) is int or type(it) is slice):
            return False
    return True


def _as_value(self, value):
    if isinstance(value, Tensor):
        return value
    if type(value) in (int, float, bool):
        # into an integral tensor: checked, truncated and wrapped as fill_ does
        npd = self._data.dtype
        return fill_scalar(value, npd) if npd.kind in "iu" else value
    if isinstance(value, (np.ndarray, np.generic, list, tuple)):
        return as_tensor_like(np.asarray(value), self)
    raise TypeError(f"can't assign a {type(value).__name__} to a {self.dtype} tensor")


def _run(fn, input, args, inplace, others=()):
    """fn.apply out of place, or in place into input: recorded in the graph through a
    snapshot when autograd needs it, else written straight into input's memory. fn takes
    ``owned`` as its last argument (whether it may write into its first input); one that
    saves that input for backward (``keeps_input``) is never given a snapshot to own."""
    if not inplace:
        return fn.apply(input, *args, False)
    if check_inplace(input, *others):
        return commit_inplace(input, fn.apply(snapshot(input), *args,
                                                 not getattr(fn, "keeps_input", False)))
    fn.apply(input, *args, True)
    input._bump_version()
    return input


def _setitem(self, index, value):
    idx, basic, keep = _parse(self, index)
    if not basic and isinstance(value, Tensor):
        if _fills_mask(idx, value):
            if value._data.ndim:
                value = value.reshape(())
        elif value._data.dtype != self._data.dtype:
            raise _dtype_mismatch(self, value)
    value = _as_value(self, value)
    if basic and self._requires_grad and self.grad_fn is None and grad_state.grad_enabled:
        # PyTorch writes basic indices through a view of self
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    _run(IndexPut, self, (idx, value, False, keep), True, (value,))


def _fills_mask(idx, value):
    """Whether PyTorch writes value at idx with masked_fill (which casts it) rather than
    index_put (which requires value's dtype): a one-element value and one mask the only
    advanced index (a 0-d mask is turned into an integer index first)."""
    if value._data.size != 1:
        return False
    arrays = [it for it in idx if hasattr(it, "dtype")]
    return len(arrays) == 1 and arrays[0].dtype == _BOOL and arrays[0].ndim > 0


def _dtype_mismatch(dst, src):
    return RuntimeError(f"Index put requires the source and destination dtypes match, got "
                        f"{dst.dtype.scalar_name} for the destination and "
                        f"{src.dtype.scalar_name} for the source.")


def _index_put(input, indices, values, accumulate, inplace):
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put{'_' if inplace else ''}(): argument 'values' (position 2) "
                        f"must be Tensor, not {type(values).__name__}")
    if values._data.dtype != input._data.dtype:
        raise _dtype_mismatch(input, values)
    indices = tuple(indices)
    for k, i in enumerate(indices):
        if not isinstance(i, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 0, but got "
                            f"{type(i).__name__}")
    if len(indices) > input._data.ndim:
        raise IndexError(f"too many indices for tensor of dimension {input._data.ndim} "
                         f"(got {len(indices)})")
    idx, _, keep = _parse(input, indices)
    return _run(IndexPut, input, (idx, values, bool(accumulate), keep), inplace, (values,))


def index_put(input, indices, values, accumulate=False):
    return _index_put(input, indices, values, accumulate, False)


def index_put_(input, indices, values, accumulate=False):
    return _index_put(input, indices, values, accumulate, True)


# ---------------------------------------------------------------- gather / scatter
def _mesh(be, idx, dim):
    """Index arrays addressing, for every position p of idx, input[p with p[dim] =
    idx[p]]: idx itself along dim and broadcastable aranges along the other dims."""
    shp = idx.shape
    nd = len(shp)
    out = []
    for d in range(nd):
        if d == dim:
            out.append(idx)
        else:
            r = be.arange(0, shp[d], 1, _I64)
            out.append(be.reshape(r, (1,) * d + (shp[d],) + (1,) * (nd - d - 1)))
    return tuple(out)


def _check_bounds(be, idx, size, dim, exc=RuntimeError, prefix=""):
    if idx.size:
        lo, hi = int(be.amin(idx, axis=None)), int(be.amax(idx, axis=None))
        if lo < 0 or hi >= size:
            bad = lo if lo < 0 else hi
            raise exc(f"{prefix}index {bad} is out of bounds for dimension {dim} with size "
                      f"{size}")


def version_alias(t, arr):
    """arr (t's array or one derived from it: cast, reshaped) as a tensor sharing t's
    version counter. Saved for backward in t's place, it makes an in-place change of t
    after the op raise PyTorch's error instead of silently moving the gradient."""
    if arr is t._data:
        return t
    a = _make(arr)
    if t._ver is None:
        t._ver = [0]
    a._ver = t._ver
    return a


def _dim_index(name, input, dim, index, src=None):
    """Validate a gather/scatter call (src: None for gather, else scatter's tensor or
    value); return (dim, index as an int64 tensor guarding index, see version_alias)."""
    nd = input._data.ndim
    dim = wrap_dim(dim, nd)
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not "
                        f"{type(index).__name__}")
    idx = index._data
    if idx.dtype != _I64:
        if idx.dtype != _I32 and idx.size:     # PyTorch takes an empty index of any dtype
            raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
        idx = index._be.astype(idx, _I64)
    shp = input._data.shape
    if idx.ndim != nd and not (idx.ndim <= 1 and nd <= 1):
        who = "input" if name == "gather" else "self"
        raise RuntimeError(f"Index tensor must have the same number of dimensions as {who} "
                           "tensor")
    if nd == 0 or idx.ndim == 0:
        idx = index._be.reshape(idx, (idx.size,))
        shp = (1,) if nd == 0 else shp
    ishp = idx.shape
    if not isinstance(src, Tensor):
        for d in range(len(ishp)):
            if d != dim and ishp[d] > shp[d]:
                if src is None:
                    raise RuntimeError(f"Size does not match at dimension {d} expected index "
                                       f"{list(index.shape)} to be no larger than self "
                                       f"{list(input.shape)} apart from dimension {dim}")
                raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than "
                                   f"self {list(input.shape)} apart from dimension {dim}")
    else:
        if src._data.ndim != idx.ndim and not (src._data.ndim <= 1 and idx.ndim <= 1):
            raise RuntimeError("Index tensor must have the same number of dimensions as src "
                               "tensor")
        sshp = src._data.shape if src._data.ndim else (1,)
        if any((d != dim and ishp[d] > shp[d]) or ishp[d] > sshp[d] for d in range(len(ishp))):
            raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self "
                               f"{list(input.shape)} apart from dimension {dim} and to be no "
                               f"larger size than src {list(src.shape)}")
    _check_bounds(index._be, idx, shp[dim], dim)
    return dim, version_alias(index, idx)


def _flat(t):
    """A 0-d tensor as a 1-element 1-d one (gather/scatter treat them alike)."""
    return t.reshape(1) if isinstance(t, Tensor) and t._data.ndim == 0 else t


def _src_region(src, idx):
    """src's array cut to idx's shape (src may be larger)."""
    s = src._data
    if s.shape == idx.shape:
        return s
    return src._be.getitem(s, tuple(slice(0, n) for n in idx.shape))


def _pad(g, shape):
    """g placed at the start of zeros of ``shape`` (the gradient of _src_region)."""
    if g._data.shape == tuple(shape):
        return g
    return IndexGrad.apply(g, tuple(shape), tuple(slice(0, n) for n in g._data.shape) +
                           (Ellipsis,), True, ())


# The dim-wise ops take the index as an int64 tensor (from _dim_index) and save it for
# backward, which passes it on to the ops of the gradient.
class Gather(Function):
    @staticmethod
    def forward(ctx, a, dim, index):
        ctx.dim, ctx.shape = dim, a._data.shape
        ctx.save_for_backward(index)
        be = a._be
        return be.getitem(a._data, _mesh(be, index._data, dim))

    @staticmethod
    def backward(ctx, g):
        index, = ctx.saved_tensors
        z = _make(g._be.full(ctx.shape, 0, g._data.dtype))
        return ScatterAdd.apply(z, ctx.dim, index, g, False), None, None


class ScatterAdd(Function):
    @staticmethod
    def forward(ctx, a, dim, index, src, owned):
        ctx.dim = dim
        ctx.save_for_backward(index)
        be = a._be
        arr = a._data if owned else be.copy(a._data)
        idx = index._data
        if isinstance(src, Tensor):
            ctx.sshape = src._data.shape
        be.add_at(arr, _mesh(be, idx, dim), _src_region(src, idx))
        return arr

    @staticmethod
    def backward(ctx, g):
        index, = ctx.saved_tensors
        gs = None
        if ctx.needs_input_grad[3]:
            gs = _pad(Gather.apply(g, ctx.dim, index), ctx.sshape)
        return g, None, None, gs, None


class Scatter(Function):
    """a with src (a tensor, cut to index's shape, or a scalar) written at the mesh."""

    @staticmethod
    def forward(ctx, a, dim, index, src, owned):
        ctx.dim = dim
        ctx.save_for_backward(index)
        be = a._be
        arr = a._data if owned else be.copy(a._data)
        idx = index._data
        if isinstance(src, Tensor):
            ctx.sshape = src._data.shape
            src = _src_region(src, idx)
        be.setitem(arr, _mesh(be, idx, dim), src)
        return arr

    @staticmethod
    def backward(ctx, g):
        index, = ctx.saved_tensors
        ga = gs = None
        if ctx.needs_input_grad[0]:
            ga = Scatter.apply(g, ctx.dim, index, 0, False)
        if ctx.needs_input_grad[3]:
            gs = _pad(Gather.apply(g, ctx.dim, index), ctx.sshape)
        return ga, None, None, gs, None


def gather(input, dim, index, *, sparse_grad=False, out=None):
    dim, idx = _dim_index("gather", input, dim, index)
    r = Gather.apply(_flat(input), dim, idx)
    if idx._data.shape != index._data.shape:
        r = r.reshape(index._data.shape)
    return r


def _check_same_dtype(name, input, src):
    if isinstance(src, Tensor) and src._data.dtype != input._data.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")


def _scatter(input, dim, index, src, value, reduce, inplace):
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing 1 required positional argument: 'src' (or 'value')")
    if not isinstance(src, Tensor) and not isinstance(src, (int, float, bool)):
        src = float(src)
    if reduce is not None:
        mode = {"add": "sum", "multiply": "prod"}.get(reduce)
        if mode is None:
            raise RuntimeError("reduce argument must be either add or multiply.")
        if not isinstance(src, Tensor):
            _dim_index("scatter", input, dim, index, src)   # a value's errors, as PyTorch
            src = _make(input._be.full(index._data.shape, src, input._data.dtype))
        return _scatter_reduce(input, dim, index, src, mode, True, inplace)
    _check_same_dtype("scatter", input, src)
    dim, idx = _dim_index("scatter", input, dim, index, src)
    return _dim_op(Scatter, input, (dim, idx, _flat(src)), inplace, src)


def _dim_op(fn, input, args, inplace, src):
    """_run for the dim-wise ops, which treat a 0-d tensor as a 1-element one."""
    x = _flat(input)
    r = _run(fn, x, args, inplace, (src,))
    if inplace:
        return input
    return r if x is input else r.reshape(())


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    return _scatter(input, dim, index, src, value, reduce, False)


def scatter_(input, dim, index, src=None, *, value=None, reduce=None):
    return _scatter(input, dim, index, src, value, reduce, True)


def _scatter_add(input, dim, index, src, inplace):
    _check_same_dtype("scatter", input, src)
    dim, idx = _dim_index("scatter", input, dim, index, src)
    return _dim_op(ScatterAdd, input, (dim, idx, _flat(src)), inplace, src)


def scatter_add(input, dim, index, src):
    return _scatter_add(input, dim, index, src, False)


def scatter_add_(input, dim, index, src):
    return _scatter_add(input, dim, index, src, True)


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _identity(reduce, npd):
    """The value a reduction starts from when the input's own value is left out."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = float("inf") if npd.kind == "f" else (True if npd == _BOOL else np.iinfo(npd).max)
    if reduce == "amax":
        return -big if npd.kind == "f" else (False if npd == _BOOL else np.iinfo(npd).min)
    return big


class ScatterReduce(Function):
    keeps_input = True
    _save_output = True      # amax/amin's gradient reads the result

    @staticmethod
    def forward(ctx, a, dim, index, src, reduce, include_self, owned):
        be = a._be
        arr = a._data if owned else be.copy(a._data)
        idx = index._data
        mesh = _mesh(be, idx, dim)
        s = _src_region(src, idx)
        if not include_self:
            be.setitem(arr, mesh, _identity(reduce, arr.dtype))
        if reduce in ("sum", "mean"):
            be.add_at(arr, mesh, s)
        else:
            be.reduce_at(reduce, arr, mesh, s)
        cnt = None
        if reduce == "mean":
            cnt = be.full(arr.shape, 1 if include_self else 0, arr.dtype)
            be.add_at(cnt, mesh, 1)
            cnt = be.maximum(cnt, 1)
            mean = be.divide(arr, cnt) if arr.dtype.kind == "f" else be.floor_divide(arr, cnt)
            if owned:
                be.copyto(arr, mean)
            else:
                arr = mean
        ctx.dim, ctx.reduce, ctx.include_self = dim, reduce, include_self
        ctx.sshape, ctx.cnt = src._data.shape, cnt
        if reduce in ("prod", "amax", "amin"):
            ctx.save_for_backward(index, a, src)
        else:
            ctx.save_for_backward(index)
        return arr

    @staticmethod
    def backward(ctx, g):
        dim, reduce, incl = ctx.dim, ctx.reduce, ctx.include_self
        idx, *inputs = ctx.saved_tensors
        if reduce == "mean":
            g = g / _make(ctx.cnt)
        if reduce in ("sum", "mean"):
            ga = g
            gs = Gather.apply(g, dim, idx)
        else:
            a, src = inputs
            s = src if src._data.shape == idx._data.shape else \
                _make(_src_region(src, idx._data))
            if reduce == "prod":
                ga, gs = _prod_grads(g, a, s, dim, idx, incl)
            else:
                ga, gs = _extreme_grads(g, a, s, ctx.output, dim, idx, incl)
        if not incl:   # where src was scattered, the input's value was not used
            ga = Scatter.apply(ga, dim, idx, 0, False)
        return ga, None, None, _pad(gs, ctx.sshape), None, None, None


def _others_product(e, p, z):
    """The product of the other members of e's group, from the group's product of nonzero
    members p and count of zeros z (no division by zero)."""
    zero = e == 0
    safe = e.masked_fill(zero, 1)
    return ((p / safe) * (z == 0)).masked_fill(zero, 0) + (p * (z == 1)) * zero


def _prod_grads(g, a, s, dim, idx, incl):
    from ..autograd.grad_mode import no_grad
    with no_grad():
        az, sz = a == 0, s == 0
        p = ScatterReduce.apply(a.masked_fill(az, 1), dim, idx, s.masked_fill(sz, 1), "prod",
                                incl, False)
        z_self = az.to(a.dtype)
        if not incl:
            z_self = Scatter.apply(z_self, dim, idx, 0, False)
        z = ScatterAdd.apply(z_self, dim, idx, sz.to(a.dtype), False)
    ga = g * _others_product(a, p, z)
    gs = Gather.apply(g, dim, idx) * _others_product(s, Gather.apply(p, dim, idx),
                                                     Gather.apply(z, dim, idx))
    return ga, gs


def _extreme_grads(g, a, s, result, dim, idx, incl):
    """amax/amin: the gradient is shared evenly among the members equal to the result."""
    self_hit = (a == result).to(a.dtype)
    if not incl:
        self_hit = Scatter.apply(self_hit, dim, idx, 0, False)
    src_hit = (s == Gather.apply(result, dim, idx)).to(a.dtype)
    n = ScatterAdd.apply(self_hit, dim, idx, src_hit, False)
    share = g / n
    return share * self_hit, Gather.apply(share, dim, idx) * src_hit


def _scatter_reduce(input, dim, index, src, reduce, include_self, inplace):
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    _check_same_dtype("scatter", input, src)
    dim, idx = _dim_index("scatter", input, dim, index, src)
    return _dim_op(ScatterReduce, input, (dim, idx, _flat(src), reduce, bool(include_self)),
                   inplace, src)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    return _scatter_reduce(input, dim, index, src, reduce, include_self, False)


def scatter_reduce_(input, dim, index, src, reduce, *, include_self=True):
    return _scatter_reduce(input, dim, index, src, reduce, include_self, True)


# ---------------------------------------------------------------- index_select / index_*
def _vector_index(name, input, dim, index, dtypes=(_I64, _I32), exc=RuntimeError,
                  msg=None, bounds_exc=RuntimeError, bounds_prefix=""):
    """Validate an index_* call: (dim, 1-d int64 index array, indexing tuple)."""
    nd = input._data.ndim
    dim = wrap_dim(dim, nd)
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not "
                        f"{type(index).__name__}")
    idx = index._data
    if idx.dtype not in dtypes:
        raise exc(msg or f"{name}(): Expected dtype int32 or int64 for index")
    if idx.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    be = index._be
    if idx.ndim == 0:
        idx = be.reshape(idx, (1,))
    if idx.dtype != _I64:
        idx = be.astype(idx, _I64)
    _check_bounds(be, idx, input._data.shape[dim] if nd else 1, dim, bounds_exc,
                  bounds_prefix)
    return dim, idx, (slice(None),) * dim + (idx,)


def index_select(input, dim, index, *, out=None):
    # PyTorch raises IndexError for dim 0 and RuntimeError for the others; so do we
    shape = input._data.shape
    d0 = wrap_dim(dim, len(shape)) == 0 if shape else True
    if d0 and len(shape) > 1 and shape[0] == 0 and getattr(index, "numel", int)():
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    dim, idx, tup = _vector_index("index_select", input, dim, index,
                                  bounds_exc=IndexError if d0 else RuntimeError,
                                  bounds_prefix="index out of range in self: " if d0 else "")
    if input._data.ndim == 0:
        return Index.apply(input.reshape(1), tup, False, (index,)).reshape(())
    return Index.apply(input, tup, False, (index,))


def _check_source(name, input, dim, idx, source, exc=RuntimeError):
    ss, xs = source._data.shape, input._data.shape
    n = idx.shape[0]
    if len(ss) > dim and ss[dim] != n:
        sep = ": " if name == "index_add_" else " "
        tail = f", for dim: {dim}" if name == "index_add_" else ""
        raise exc(f"{name}(): Number of indices ({n}) should be equal to source.size(dim)"
                  f"{sep}({ss[dim]}){tail}")
    if ss != xs[:dim] + (n,) + xs[dim + 1:] and not (len(ss) <= 1 and len(xs) <= 1):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(xs)} source.shape = "
                           f"{list(ss)}")


def _index_add(input, dim, index, source, alpha, inplace):
    dim, idx, tup = _vector_index("index_add_", input, dim, index,
                                  msg="index_add_(): Expected dtype int32/int64 for index but got"
                                      f": {index.dtype.scalar_name}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_add_(): self ({input.dtype.scalar_name}) and source "
                           f"({source.dtype.scalar_name}) must have the same scalar type")
    _check_source("index_add_", input, dim, idx, source)
    if alpha != 1:
        if not input.is_floating_point():    # PyTorch casts alpha to an integral dtype
            npd = input._data.dtype
            alpha = bool(alpha) if npd == _BOOL else fill_scalar(alpha, npd)
        source = source * alpha
    return _dim_op(IndexPut, input, (tup, _flat(source), True, (index,)), inplace, source)


def index_add(input, dim, index, source, *, alpha=1):
    return _index_add(input, dim, index, source, alpha, False)


def index_add_(input, dim, index, source, *, alpha=1):
    return _index_add(input, dim, index, source, alpha, True)


def _index_copy(input, dim, index, source, inplace):
    dim, idx, tup = _vector_index(
        "index_copy_", input, dim, index, dtypes=(_I64,),
        msg=f"index_copy_(): Expected a long tensor for index, but got "
            f"{index.dtype.scalar_name}", bounds_exc=IndexError,
        bounds_prefix="index_copy_(): ")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {input.dtype.scalar_name} and (source) "
                           f"{source.dtype.scalar_name}")
    _check_source("index_copy_", input, dim, idx, source, IndexError)
    return _dim_op(IndexPut, input, (tup, _flat(source), False, (index,)), inplace, source)


def index_copy(input, dim, index, source):
    return _index_copy(input, dim, index, source, False)


def index_copy_(input, dim, index, source):
    return _index_copy(input, dim, index, source, True)


def _scalar_value(name, value, input):
    """The fill value for input: a 0-d tensor that requires grad, else a Python scalar
    that fits input's dtype (PyTorch's overflow check)."""
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"{name} only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
        if value._requires_grad:
            return value
        value = value.item()
    elif isinstance(value, (np.generic, np.ndarray)):
        value = value.item()
    return fill_scalar(value, input._data.dtype)


def _index_fill(input, dim, index, value, inplace):
    dim, idx, tup = _vector_index("index_fill_", input, dim, index, dtypes=(_I64,),
                                  exc=IndexError, msg="index_fill_(): Expected dtype int64 for "
                                                      "index.", bounds_exc=IndexError)
    value = _scalar_value("index_fill_", value, input)
    return _dim_op(IndexPut, input, (tup, value, False, (index,)), inplace, value)


def index_fill(input, dim, index, value):
    return _index_fill(input, dim, index, value, False)


def index_fill_(input, dim, index, value):
    return _index_fill(input, dim, index, value, True)


# ---------------------------------------------------------------- masked ops
def _broadcast(a, b):
    """The broadcast shape of a and b, or PyTorch's error naming the clashing sizes."""
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        n = max(len(a), len(b))
        for k in range(1, n + 1):
            p = a[-k] if k <= len(a) else 1
            q = b[-k] if k <= len(b) else 1
            if p != q and p != 1 and q != 1:
                raise RuntimeError(f"The size of tensor a ({p}) must match the size of tensor "
                                   f"b ({q}) at non-singleton dimension {n - k}") from None
        raise


def _mask(name, input, mask, inplace):
    """mask's array broadcast with input: (mask array, input or its expansion)."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name}(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    m = mask._data
    if m.dtype != _BOOL:
        if name == "masked_select":
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        t = mask.dtype.scalar_name
        raise RuntimeError(f"{name}_ only supports boolean masks, but got mask with dtype "
                           f"{t.lower() if name == 'masked_fill' else t}")
    xs = input._data.shape
    if m.shape == xs:
        return m, input
    shape = _broadcast(m.shape, xs)
    if shape != xs:
        if inplace:
            raise RuntimeError(f"output with shape {list(xs)} doesn't match the broadcast "
                               f"shape {list(shape)}")
        input = input.expand(shape)
    return mask._be.broadcast_to(m, shape), input


def _masked_fill(input, mask, value, inplace):
    m, x = _mask("masked_fill", input, mask, inplace)
    value = _scalar_value("masked_fill_", value, input)
    return _run(IndexPut, x, ((m,), value, False, (mask,)), inplace, (value,))


def masked_fill(input, mask, value):
    return _masked_fill(input, mask, value, False)


def masked_fill_(input, mask, value):
    return _masked_fill(input, mask, value, True)


def masked_select(input, mask, *, out=None):
    m, x = _mask("masked_select", input, mask, False)
    return Index.apply(x, (m,), False, (mask,))


def _masked_scatter(input, mask, source, inplace):
    m, x = _mask("masked_scatter", input, mask, inplace)
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got{input.dtype.scalar_name} and {source.dtype.scalar_name}")
    n = int(mask._be.sum(m, axis=None))
    if source._data.size < n:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    src = source.reshape(-1)
    if src._data.shape[0] != n:
        src = src[:n]
    return _run(IndexPut, x, ((m,), src, False, (mask,)), inplace, (src,))


def masked_scatter(input, mask, source):
    return _masked_scatter(input, mask, source, False)


def masked_scatter_(input, mask, source):
    return _masked_scatter(input, mask, source, True)


# ---------------------------------------------------------------- take / nonzero
def take(input, index):
    if not isinstance(index, Tensor) or index._data.dtype != _I64:
        got = index.dtype.scalar_name if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {got}")
    n = input._data.size
    idx = index._data
    if idx.size:
        be = index._be
        lo, hi = int(be.amin(idx, axis=None)), int(be.amax(idx, axis=None))
        if lo < -n or hi >= n:
            raise IndexError(f"out of range: tried to access index {lo if lo < -n else hi} on "
                             f"a tensor of {n} elements.")
    return Index.apply(input.reshape(-1), (idx,), False, (index,))


def take_along_dim(input, indices, dim=None, *, out=None):
    if indices._data.dtype != _I64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{indices.dtype.scalar_name}")
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    nd = input._data.ndim
    if indices._data.ndim != nd:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {nd} dimensions for input, and "
                           f"{indices._data.ndim} dimensions for indices")
    dim = wrap_dim(dim, nd)
    xs, js = list(input._data.shape), list(indices._data.shape)
    xs[dim] = js[dim] = 1
    b = _broadcast(tuple(xs), tuple(js))
    xb, jb = list(b), list(b)
    xb[dim], jb[dim] = input._data.shape[dim], indices._data.shape[dim]
    if tuple(xb) != input._data.shape:
        input = input.expand(xb)
    if tuple(jb) != indices._data.shape:
        indices = indices.expand(jb)
    return gather(input, dim, indices)


def nonzero(input, *, out=None, as_tuple=False):
    r = input._be.nonzero(input._data)
    if not as_tuple:
        return _make(r)
    if input._data.ndim == 0:
        return (_make(input._be.full((r.shape[0],), 0, _I64)),)   # as if it were 1-d
    be = input._be
    return tuple(_make(be.ascontiguousarray(be.getitem(r, (slice(None), k))))
                 for k in range(r.shape[1]))


def argwhere(input):
    return _make(input._be.nonzero(input._data))


# ---------------------------------------------------------------- tril / triu
class Tri(Function):
    """The lower (tril) or upper (triu) triangle of the last two dims, the rest zero."""

    @staticmethod
    def forward(ctx, a, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        be, x = a._be, a._data
        n, m = x.shape[-2:]
        off = be.subtract(be.reshape(be.arange(0, m, 1, _I64), (1, m)),
                          be.reshape(be.arange(0, n, 1, _I64), (n, 1)))
        keep = be.greater_equal(off, diagonal) if upper else be.less_equal(off, diagonal)
        return be.where(keep, x, be.full((), 0, x.dtype))

    @staticmethod
    def backward(ctx, g):
        return Tri.apply(g, ctx.diagonal, ctx.upper), None, None


def _tri(name, input, diagonal, upper, inplace):
    if input._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    if inplace:
        if check_inplace(input):
            return commit_inplace(input, Tri.apply(snapshot(input), diagonal, upper))
        r = Tri.apply(input, diagonal, upper)
        input._be.copyto(input._data, r._data)
        input._bump_version()
        return input
    return Tri.apply(input, diagonal, upper)


def tril(input, diagonal=0, *, out=None):
    return _tri("tril", input, diagonal, False, False)


def triu(input, diagonal=0, *, out=None):
    return _tri("triu", input, diagonal, True, False)


def tril_(input, diagonal=0):
    return _tri("tril", input, diagonal, False, True)


def triu_(input, diagonal=0):
    return _tri("triu", input, diagonal, True, True)


TENSOR_METHODS = {
    "__getitem__": _getitem, "__setitem__": _setitem,
    "gather": gather, "scatter": scatter, "scatter_": scatter_,
    "scatter_add": scatter_add, "scatter_add_": scatter_add_,
    "scatter_reduce": scatter_reduce, "scatter_reduce_": scatter_reduce_,
    "index_select": index_select, "index_add": index_add, "index_add_": index_add_,
    "index_copy": index_copy, "index_copy_": index_copy_,
    "index_fill": index_fill, "index_fill_": index_fill_,
    "index_put": index_put, "index_put_": index_put_,
    "masked_fill": masked_fill, "masked_fill_": masked_fill_,
    "masked_select": masked_select, "masked_scatter": masked_scatter,
    "masked_scatter_": masked_scatter_,
    "take": take, "take_along_dim": take_along_dim, "nonzero": nonzero, "argwhere": argwhere,
    "tril": tril, "triu": triu, "tril_": tril_, "triu_": triu_,
}


from ..autocast_state import wrap_autocast  # noqa: E402
wrap_autocast(globals(), TENSOR_METHODS)   # autocast policies (genesis/autocast_state.py)
