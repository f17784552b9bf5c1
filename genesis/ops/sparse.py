"""Lookup ops (torch.nn.functional names): embedding and one_hot."""
import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..tensor import _make

__all__ = ["embedding", "one_hot"]

_INDEX_NP = (np.dtype(np.int64), np.dtype(np.int32))


class _Embedding(Function):
    """weight[indices] (rows); the weight's gradient is a scatter-add of the upstream rows."""

    @staticmethod
    def forward(ctx, weight, idx, padding_idx, scale_grad_by_freq):
        if ctx.needs_input_grad:
            ctx.idx, ctx.pad, ctx.freq = idx, padding_idx, scale_grad_by_freq
            ctx.num = weight._data.shape[0]
        be = weight._be
        return be.getitem(weight._data, idx)

    @staticmethod
    def backward(ctx, g):
        return _EmbeddingBackward.apply(g, ctx.idx, ctx.num, ctx.pad, ctx.freq), None, None, \
            None


class _EmbeddingBackward(Function):
    """The (num_embeddings, dim) gradient: the rows of g summed into the rows their indices
    name (scaled by 1/count with scale_grad_by_freq); the padding row stays zero."""

    @staticmethod
    def forward(ctx, g, idx, num, pad, freq):
        be = g._be
        D = g._data.shape[-1]
        flat = be.reshape(idx, (-1,))
        G = be.reshape(g._data, (-1, D))
        if freq:
            G = be.divide(G, be.reshape(_counts(be, flat, num, G.dtype), (-1, 1)))
        out = _scatter_rows(be, G, flat, num)
        if pad is not None:
            be.setitem(out, pad, 0)
        if ctx.needs_input_grad:
            ctx.idx, ctx.pad, ctx.freq, ctx.num = idx, pad, freq, num
        return out

    @staticmethod
    def backward(ctx, gg):
        # linear in g: its transpose is a lookup of gg's rows (zero where padding / scaled)
        be, ia, dt = gg._be, ctx.idx, gg._data.dtype
        r = gg[_make(ia)]
        col = ia.shape + (1,)
        if ctx.freq:
            counts = _counts(be, be.reshape(ia, (-1,)), ctx.num, dt)
            r = r / _make(be.reshape(counts, col))
        if ctx.pad is not None:
            r = r * _make(be.astype(be.reshape(be.not_equal(ia, ctx.pad), col), dt))
        return r, None, None, None, None


def _counts(be, flat, num, dtype):
    """How many times each entry of ``flat`` occurs in it (as ``dtype``), per entry."""
    if type(flat) is np.ndarray:
        return np.bincount(flat, minlength=num)[flat].astype(dtype)
    counts = be.full((num,), 0, dtype)
    be.add_at(counts, (flat,), be.full(flat.shape, 1, dtype))
    return be.getitem(counts, flat)


def _scatter_rows(be, G, flat, num):
    """out[flat[i]] += G[i] into zeros (num, D). NumPy's add.at is slow per element: the
    rows are sorted by index (stably, so each index still sums its rows in their order)
    and each run of equal indices is summed by add.reduceat, several times faster."""
    out = be.full((num, G.shape[1]), 0, G.dtype)
    n = flat.shape[0]
    if n == 0:
        return out
    if not isinstance(flat, np.ndarray):      # a device backend: its atomic add_at
        be.add_at(out, (flat,), G)
        return out
    order = np.argsort(flat, kind="stable")
    s = flat[order]
    first = np.empty(n, bool)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    out[s[starts]] = np.add.reduceat(G[order], starts, axis=0)
    return out


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` at the indices ``input``. With ``max_norm``, the rows looked up
    are first renormalized in place to norm at most max_norm (as PyTorch). ``sparse``
    gradients are given dense (genesis has no sparse tensors)."""
    idx = input._data
    if idx.dtype not in _INDEX_NP:
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"{input.type()} instead (while checking arguments for embedding)")
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    num = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < num, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -num, "Padding_idx must be within num_embeddings"
            padding_idx = num + padding_idx
    if idx.size and (int(input._be.amin(idx, axis=None)) < 0 or
                     int(input._be.amax(idx, axis=None)) >= num):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    return _Embedding.apply(weight, idx, padding_idx, scale_grad_by_freq)


def _renorm_rows(weight, idx, max_norm, norm_type):
    """Scale in place the rows of weight that idx names and whose norm exceeds max_norm
    to norm max_norm (PyTorch's embedding_renorm_, outside autograd)."""
    w = weight._data
    if type(w) is not np.ndarray:
        return _renorm_rows_device(weight, idx, max_norm, norm_type)
    with no_grad():
        rows = np.unique(idx)
        sub = w[rows]
        norms = np.linalg.norm(sub.astype(np.float64), ord=norm_type, axis=1) \
            if norm_type != 2 else np.sqrt((sub.astype(np.float64) ** 2).sum(1))
        big = norms > max_norm
        if big.any():
            scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
            w[rows[big]] = sub[big] * scale[:, None]
            weight._bump_version()


def _renorm_rows_device(weight, idx, max_norm, norm_type):
    """_renorm_rows in backend primitives, with no host round trip: every looked-up row
    is rewritten, by 1 where its norm is within max_norm (rows named twice are written
    twice with the same values)."""
    be, w = weight._be, weight._data
    rows = be.reshape(idx, (-1,))
    sub = be.getitem(w, rows)
    a = be.absolute(be.astype(sub, np.float64))
    if norm_type == 2:
        norms = be.sqrt(be.sum(be.multiply(a, a), axis=(1,)))
    elif norm_type == float("inf"):
        norms = be.amax(a, axis=(1,))
    elif norm_type == 0:
        norms = be.sum(be.not_equal(a, 0), axis=(1,), dtype=np.float64)
    else:
        norms = be.power(be.sum(be.power(a, float(norm_type)), axis=(1,)), 1.0 / norm_type)
    scale = be.where(be.greater(norms, max_norm),
                     be.divide(max_norm, be.add(norms, 1e-7)), 1.0)
    new = be.multiply(sub, be.reshape(be.astype(scale, w.dtype), (-1, 1)))
    be.setitem(w, rows, new)
    weight._bump_version()


def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape input.shape + (num_classes,) with a 1 at each input value."""
    x = tensor._data
    if x.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    be = tensor._be
    if num_classes == -1:
        if x.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(be.amax(x)) + 1
    if x.size:
        if int(be.amin(x)) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(be.amax(x)) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    elif num_classes < 0:
        raise RuntimeError("Class values must be non-negative.")
    out = be.full(x.shape + (num_classes,), 0, np.int64)
    be.put_along_axis(out, be.reshape(x, x.shape + (1,)), 1, -1)
    return _make(out)
