"""Linear algebra: matmul (with batch broadcasting), mm, bmm, mv, dot, inner, outer,
addmm/addmv/addr/addbmm/baddbmm, tensordot, kron, matrix_power and einsum.

Only MatMul is a Function of its own; everything else is composed from genesis ops
(matmul, permute, reshape, sum, mul), so gradients of any order come for free."""
import functools
import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .common import be_of, fill_scalar, write_out, LOW_FLOAT_NP as _LOW
from .. import dtypes as _dt

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm",
           "addmv", "addr", "addbmm", "baddbmm", "tensordot", "kron", "matrix_power",
           "einsum"]


def _tname(t):
    return t.dtype.scalar_name


def _mm(be, x, y):
    """Backend matmul; low-precision floats compute in float32 and round the result."""
    if x.dtype in _LOW:
        return be.astype(be.matmul(be.astype(x, np.float32), be.astype(y, np.float32)), x.dtype)
    return be.matmul(x, y)


def _mismatch(x, y):
    """PyTorch's message for matmul operands whose inner sizes differ."""
    if x.ndim == 1 and y.ndim == 1:
        return (f"inconsistent tensor size, expected tensor [{x.shape[0]}] and src "
                f"[{y.shape[0]}] to have the same number of elements, but got {x.shape[0]} "
                f"and {y.shape[0]} elements respectively")
    if x.ndim == 2 and y.ndim == 1:
        return (f"size mismatch, got input ({x.shape[0]}), mat ({x.shape[0]}x{x.shape[1]}), "
                f"vec ({y.shape[0]})")
    if x.ndim <= 2 and y.ndim <= 2:
        ky = y.shape[-2] if y.ndim > 1 else y.shape[0]
        return (f"mat1 and mat2 shapes cannot be multiplied ({_rows(x)}x{x.shape[-1]} and "
                f"{ky}x{_cols(y)})")
    return (f"matmul: the inner sizes of {list(x.shape)} and {list(y.shape)} differ "
            f"({x.shape[-1]} and {y.shape[-2] if y.ndim > 1 else y.shape[0]})")


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        x, y = a._data, b._data
        if x.dtype != y.dtype:
            if x.ndim == 1 and y.ndim == 1:
                raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                                   f"{_tname(a)} and {_tname(b)}")
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                               f"{a.dtype.name} != {b.dtype.name}")
        if x.ndim == 0 or y.ndim == 0:
            raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                               f"{x.ndim}D and {y.ndim}D")
        kx = x.shape[-1]
        ky = y.shape[-2] if y.ndim > 1 else y.shape[0]
        if kx != ky:
            raise RuntimeError(_mismatch(x, y))
        if x.dtype == np.bool_:
            raise NotImplementedError(f"\"{_bool_kernel(x, y)}\" not implemented for 'Bool'")
        ctx.save_for_backward(a if ctx.needs_input_grad[1:2] == (True,) else None,
                              b if ctx.needs_input_grad[:1] == (True,) else None)
        ctx.nd = (x.ndim, y.ndim)
        be = be_of(a, b)
        nd = x.ndim
        if nd >= 3 and y.ndim == 2 and x.flags.c_contiguous:
            # one large 2-D matmul beats a stack of small ones
            rows = math.prod(x.shape[:-1])       # not -1: kx may be 0
            return be.reshape(_mm(be, be.reshape(x, (rows, kx)), y), x.shape[:-1] + (y.shape[1],))
        try:
            return _mm(be, x, y)
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions of {list(x.shape)} and "
                               f"{list(y.shape)} cannot be broadcast") from None

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        an, bn = ctx.nd
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if bn == 1:      # out[..., m] = a[..., m, :] . b
                ga = g * b if an == 1 else g.unsqueeze(-1) * b
            elif an == 1:    # out[..., n] = a . b[..., :, n]
                ga = (b @ g.unsqueeze(-1)).squeeze(-1)
            else:
                ga = g @ b.mT
        if ctx.needs_input_grad[1]:
            if an == 1:
                gb = g * a if bn == 1 else a.unsqueeze(-1) * g.unsqueeze(-2)
            elif bn == 1:
                gb = g.unsqueeze(-1) * a
            elif an >= 3 and bn == 2:
                rows = math.prod(a.shape[:-1])
                gb = a.reshape(rows, a.shape[-1]).mT @ g.reshape(rows, g.shape[-1])
            else:
                gb = a.mT @ g
        return ga, gb


def _bool_kernel(x, y):
    """The PyTorch kernel that names the error for a bool matmul of these shapes."""
    if y.ndim == 1:
        return "dot" if x.ndim == 1 else "addmv_impl_cpu"
    return "addmm_impl_cpu_" if y.ndim == 2 else "bmm"


def _rows(x):
    return x.shape[-2] if x.ndim > 1 else 1


def _cols(y):
    return y.shape[-1] if y.ndim > 1 else 1


def matmul(input, other, *, out=None):
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'input' and 'other' must be Tensors, not "
                        f"{type(input).__name__} and {type(other).__name__}")
    return write_out(MatMul.apply(input, other), out)


def mm(input, mat2, *, out=None):
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError("self must be a matrix" if input.ndim != 2 else
                           "mat2 must be a matrix")
    return matmul(input, mat2, out=out)


def _check_bmm(b1, b2):
    if b1.ndim != 3 or b2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if b1.ndim != 3 else
                           "batch2 must be a 3D tensor")
    s1, s2 = b1.shape, b2.shape
    if s1[0] != s2[0] or s1[2] != s2[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{s1[0]}, {s1[2]}] but got: [{s2[0]}, {s2[1]}].")


def bmm(input, mat2, *, out=None):
    _check_bmm(input, mat2)
    return matmul(input, mat2, out=out)


def mv(input, vec, *, out=None):
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, "
                           f"{vec.ndim}")
    return matmul(input, vec, out=out)


def _vec_product(name, input, other, out):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{name} : expected both vectors to have same dtype, but found "
                           f"{_tname(input)} and {_tname(other)}")
    return matmul(input, other, out=out)


def dot(input, other, *, out=None):
    return _vec_product("dot", input, other, out)


def vdot(input, other, *, out=None):
    # real dtypes only, where vdot is dot
    return _vec_product("vdot", input, other, out)


def inner(input, other, *, out=None):
    if input.ndim == 0 or other.ndim == 0:
        r = input * other
    else:
        k = input.shape[-1]
        if other.shape[-1] != k:
            raise RuntimeError(f"inner() the last dimension must match on both input tensors "
                               f"but got shapes {list(input.shape)} and {list(other.shape)}")
        r = matmul(input.reshape(math.prod(input.shape[:-1]), k),
                   other.reshape(math.prod(other.shape[:-1]), k).mT)
        r = r.reshape(tuple(input.shape[:-1]) + tuple(other.shape[:-1]))
    return write_out(r, out)


def outer(input, vec2, *, out=None):
    for name, v in (("self", input), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    return write_out(input.unsqueeze(1) * vec2, out)


ger = outer


# ---------------------------------------------------------------- input * beta + prod * alpha
class _Beta0(Function):
    """``prod`` where beta == 0: the input is ignored (its NaNs do not propagate) but
    still gets a (zero) gradient, as in PyTorch."""

    @staticmethod
    def forward(ctx, input, prod):
        return prod._data

    @staticmethod
    def backward(ctx, g):
        return (g * 0 if ctx.needs_input_grad[0] else None), g


def _check_same_dtype(input, m1, m2, names=("mat1", "mat2")):
    if input.dtype is not m2.dtype:
        raise RuntimeError(f"self and {names[1]} must have the same dtype, but got "
                           f"{_tname(input)} and {_tname(m2)}")
    if m1.dtype is not m2.dtype:
        raise RuntimeError(f"{names[0]} and {names[1]} must have the same dtype, but got "
                           f"{_tname(m1)} and {_tname(m2)}")


def _check_expandable(input, shape):
    have = tuple(input.shape)
    if len(have) > len(shape):
        raise RuntimeError(f"expand(torch.{_tname(input)}Tensor{{{list(have)}}}, "
                           f"size={list(shape)}): the number of sizes provided ({len(shape)}) "
                           f"must be greater or equal to the number of dimensions in the "
                           f"tensor ({len(have)})")
    lead = len(shape) - len(have)
    for i, n in enumerate(have):
        if n != 1 and n != shape[lead + i]:
            raise RuntimeError(f"The expanded size of the tensor ({shape[lead + i]}) must match "
                               f"the existing size ({n}) at non-singleton dimension "
                               f"{lead + i}.  Target sizes: {list(shape)}.  Tensor sizes: "
                               f"{list(have)}")


def _scaled_add(input, prod, beta, alpha, out):
    _check_expandable(input, tuple(prod.shape))
    npd = prod._data.dtype
    if npd != np.bool_:       # as PyTorch: alpha and beta take the tensors' dtype first
        beta, alpha = fill_scalar(beta, npd), fill_scalar(alpha, npd)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        r = _Beta0.apply(input, prod)
    else:
        r = (input if beta == 1 else input * beta) + prod
    return write_out(r, out)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    for name, m in (("mat1", mat1), ("mat2", mat2)):
        if m.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {m.ndim}-D tensor")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
                           f"{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    _check_same_dtype(input, mat1, mat2)
    return _scaled_add(input, matmul(mat1, mat2), beta, alpha, out)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    if mat.ndim != 2 or vec.ndim != 1 or input.ndim > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, "
                           f"{vec.ndim}")
    n = input.shape[0] if input.ndim else 1
    if mat.shape[1] != vec.shape[0] or n not in (1, mat.shape[0]):
        raise RuntimeError(f"size mismatch, got input ({n}), mat ({mat.shape[0]}x"
                           f"{mat.shape[1]}), vec ({vec.shape[0]})")
    _check_same_dtype(input, mat, vec, ("mat", "vec"))
    return _scaled_add(input, matmul(mat, vec), beta, alpha, out)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    if not (input.is_floating_point() or input.dtype is _dt.bool_):
        for name, v in (("beta", beta), ("alpha", alpha)):   # PyTorch's checks, in order
            if isinstance(v, float):
                raise RuntimeError(f"For integral input tensors, argument {name} must not be "
                                   "a floating point number.")
    return _scaled_add(input, outer(vec1, vec2), beta, alpha, out)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    _check_bmm(batch1, batch2)
    _check_same_dtype(input, batch1, batch2, ("batch1", "batch2"))
    if batch1.dtype is _dt.bool_:
        raise NotImplementedError("\"baddbmm\" not implemented for 'Bool'")
    return _scaled_add(input, matmul(batch1, batch2), beta, alpha, out)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    _check_bmm(batch1, batch2)
    _check_same_dtype(input, batch1, batch2, ("batch1", "batch2"))
    b, n, k = batch1.shape
    # sum_b batch1[b] @ batch2[b] is one matmul over the (b, k) pairs
    prod = matmul(batch1.permute(1, 0, 2).reshape(n, b * k),
                  batch2.reshape(b * k, batch2.shape[2]))
    return _scaled_add(input, prod, beta, alpha, out)


def _checked(fn, self):
    """fn, raising PyTorch's error when its result would not fit in ``self``."""
    shape = tuple(self.shape)

    def run(t, *args, **kwargs):
        r = fn(t, *args, **kwargs)
        if tuple(r.shape) != shape:
            raise RuntimeError(f"Bad in-place call: input tensor size {list(shape)} and output "
                               f"tensor size {list(r.shape)} should match")
        return r
    return run


# ---------------------------------------------------------------- tensordot, kron, power
def _prod(xs):
    n = 1
    for x in xs:
        n *= x
    return n


def tensordot(a, b, dims=2, out=None):
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims="
                               f"{dims}")
        da, db = list(range(-dims, 0)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, (int, np.integer)) else list(da)
        db = [db] if isinstance(db, (int, np.integer)) else list(db)
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
    from .common import wrap_dim
    wa = [wrap_dim(d, a.ndim) for d in da]
    wb = [wrap_dim(d, b.ndim) for d in db]
    for i, j, di, dj in zip(wa, wb, da, db):
        s1, s2 = a.shape[i], b.shape[j]
        if s1 != s2:
            if s2 == 1:      # broadcast size 1: sum the other side right away
                a = a.sum(i, keepdim=True)
            elif s1 == 1:
                b = b.sum(j, keepdim=True)
            else:
                raise RuntimeError(f"contracted dimensions need to match, but first has size "
                                   f"{s1} in dim {di} and second has size {s2} in dim {dj}")
    fa = [i for i in range(a.ndim) if i not in wa]
    fb = [j for j in range(b.ndim) if j not in wb]
    k = _prod(a.shape[i] for i in wa)
    # explicit sizes, not -1: k or a free size may be 0
    ma = a.permute(fa + wa).reshape(_prod(a.shape[i] for i in fa), k)
    mb = b.permute(wb + fb).reshape(k, _prod(b.shape[j] for j in fb))
    r = matmul(ma, mb).reshape(tuple(a.shape[i] for i in fa) + tuple(b.shape[j] for j in fb))
    return write_out(r, out)


def kron(input, other, *, out=None):
    nd = max(input.ndim, other.ndim)
    sa = (1,) * (nd - input.ndim) + tuple(input.shape)
    sb = (1,) * (nd - other.ndim) + tuple(other.shape)
    # a[i0, 1, i1, 1, ...] * b[1, j0, 1, j1, ...] -> (i0, j0, i1, j1, ...) -> (i0*j0, ...)
    ia = tuple(x for s in sa for x in (s, 1))
    ib = tuple(x for s in sb for x in (1, s))
    r = (input.reshape(ia) * other.reshape(ib)).reshape(tuple(p * q for p, q in zip(sa, sb)))
    return write_out(r, out)


def matrix_power(input, n):
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        what = f"{input.shape[-2]} by {input.shape[-1]}" if input.ndim >= 2 else \
            f"{input.ndim}-D"
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are {what} matrices")
    if n < 0:
        raise NotImplementedError("matrix_power with a negative exponent needs a matrix "
                                  "inverse, which genesis does not implement")
    if n == 0:
        from ..creation import eye
        e = eye(input.shape[-1], dtype=input.dtype, device=input.device)
        # identities that still give A a (zero) gradient, as PyTorch
        return _Beta0.apply(input, e.expand(tuple(input.shape)).contiguous())
    result, base = None, input
    while n:                      # binary exponentiation
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result if result is not input else result.clone()


# ---------------------------------------------------------------- einsum
# Labels are ints: letters in PyTorch's order (A-Z then a-z) are 0..51 and the dims an
# ellipsis covers are -E..-1 (right-aligned across operands, so they broadcast); sorting
# the labels gives the implicit output order (ellipsis first, then letters).
_LETTER = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")}
_CHAR = {i: c for c, i in _LETTER.items()}


def _parse_term(term, k, ndim):
    """Labels of one operand's subscripts (ellipsis dims as negative labels)."""
    if "..." in term:
        head, _, tail = term.partition("...")
        if "." in head or "." in tail:
            raise RuntimeError(f"einsum(): found '.' for operand {k} that is not part of any "
                               "ellipsis")
        n_ell = ndim - len(head) - len(tail)
        if n_ell < 0:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(head) + len(tail)}) is more than the number of "
                               f"dimensions ({ndim}) for operand {k}")
        return _letters(head) + list(range(-n_ell, 0)) + _letters(tail)
    if "." in term:
        raise RuntimeError(f"einsum(): found '.' for operand {k} that is not part of any "
                           "ellipsis")
    if len(term) != ndim:
        raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(term)}) "
                           f"does not match the number of dimensions ({ndim}) for operand "
                           f"{k} and no ellipsis was given")
    return _letters(term)


def _letters(s):
    try:
        return [_LETTER[c] for c in s]
    except KeyError as e:
        raise RuntimeError(f"einsum(): invalid subscript given at index {s.index(e.args[0])} "
                           "in the equation string, subscripts must be in [a-zA-Z]") from None


@functools.lru_cache(maxsize=512)
def _parse(equation, ndims):
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(ndims):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(terms) < len(ndims):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    ins = [_parse_term(t, k, n) for k, (t, n) in enumerate(zip(terms, ndims))]
    n_ell = max((-min(ls, default=0) for ls in ins), default=0)
    if not arrow:
        count = {}
        for ls in ins:
            for lab in ls:
                count[lab] = count.get(lab, 0) + 1
        out = list(range(-n_ell, 0)) + sorted(l for l, c in count.items() if l >= 0 and c == 1)
    else:
        if "..." in rhs:
            head, _, tail = rhs.partition("...")
            out = _letters(head) + list(range(-n_ell, 0)) + _letters(tail)
        else:
            out = _letters(rhs)
        seen = set()
        present = {lab for ls in ins for lab in ls}
        for lab in out:
            if lab >= 0 and lab in seen:
                raise RuntimeError(f"einsum(): output subscript {_CHAR[lab]} appears more than "
                                   "once in the output")
            if lab >= 0 and lab not in present:
                raise RuntimeError(f"einsum(): output subscript {_CHAR[lab]} does not appear "
                                   "in the equation for any input operand")
            seen.add(lab)
    return tuple(tuple(ls) for ls in ins), tuple(out)


def _label_name(lab):
    return _CHAR[lab] if lab >= 0 else "..."


class _Diagonal(Function):
    """The diagonal over axes ``group`` (one label repeated): they merge into one axis at
    the place of the first. A copy, not a view (einsum's internal use)."""

    @staticmethod
    def forward(ctx, a, group):
        be = a._be
        x = be.ascontiguousarray(a._data)
        ctx.shape, ctx.group = x.shape, group
        return be.copy(_diag_view(be, x, group))

    @staticmethod
    def backward(ctx, g):
        return _DiagEmbed.apply(g, ctx.group, ctx.shape), None


class _DiagEmbed(Function):
    """Zeros of ``shape`` with ``g`` on the diagonal over ``group``: _Diagonal's adjoint."""

    @staticmethod
    def forward(ctx, g, group, shape):
        be = g._be
        ctx.group = group
        out = be.full(shape, 0, g._data.dtype)
        be.copyto(_diag_view(be, out, group), g._data)
        return out

    @staticmethod
    def backward(ctx, gg):
        return _Diagonal.apply(gg, ctx.group), None, None


def _diag_view(be, x, group):
    """A strided view of contiguous ``x`` walking the diagonal of the axes in ``group``."""
    strides, s = [], 1
    for n in reversed(x.shape):
        strides.append(s)
        s *= n
    strides.reverse()
    rest = set(group[1:])
    shape = [n for i, n in enumerate(x.shape) if i not in rest]
    st = [s for i, s in enumerate(strides) if i not in rest]
    st[group[0]] = sum(strides[i] for i in group)
    return be.as_strided(x, tuple(shape), tuple(st), 0)


# An einsum runs as a plan, made once per (equation, shapes): per operand the diagonals
# and sums it needs alone, then a left-to-right chain of pairwise contractions, each a
# permute/reshape of both sides and one matmul (or a broadcast product when nothing is
# summed). Each step is (op, arg) with op in diag/sum/permute/reshape/expand.
def _apply(t, steps):
    for op, arg in steps:
        if op == "permute":
            t = t.permute(arg)
        elif op == "reshape":
            t = t.reshape(arg)
        elif op == "sum":
            t = t.sum(arg)
        elif op == "expand":
            t = t.expand(arg)
        else:
            t = _Diagonal.apply(t, arg)
    return t


def _perm_step(labels, order, steps):
    perm = [labels.index(lab) for lab in order]
    if perm != list(range(len(perm))):
        steps.append(("permute", tuple(perm)))


def _sum_step(labels, sizes, keep, steps):
    """Sum the labels not in ``keep``; returns the remaining labels and sizes."""
    axes = tuple(i for i, lab in enumerate(labels) if lab not in keep)
    if axes:
        steps.append(("sum", axes))
        labels = [lab for lab in labels if lab in keep]
        sizes = {lab: sizes[lab] for lab in labels}
    return labels, sizes


def _bcast(p, q):
    return q if p == 1 else p


def _contract_plan(la, sa, lb, sb, keep):
    """Steps for a (labels la, sizes sa) times b (lb, sb), summing the shared labels not
    in ``keep``: (steps for a, steps for b, mode, steps for the result, labels, sizes)."""
    batch = [lab for lab in la if lab in sb and lab in keep]
    con = [lab for lab in la if lab in sb and lab not in keep]
    ma = [lab for lab in la if lab not in sb]
    nb = [lab for lab in lb if lab not in sa]
    pa, pb, pr = [], [], []
    _perm_step(la, batch + ma + con, pa)
    _perm_step(lb, batch + con + nb, pb)
    bsa = tuple(sa[lab] for lab in batch)
    bsb = tuple(sb[lab] for lab in batch)
    msz = tuple(sa[lab] for lab in ma)
    nsz = tuple(sb[lab] for lab in nb)
    labels = batch + ma + nb
    # a size 1 broadcasts against the other side's size, 0 included (max would give 1)
    sizes = {lab: _bcast(sa.get(lab, 1), sb.get(lab, 1)) for lab in labels}
    if not con:               # nothing summed: a broadcast product
        if nb:
            pa.append(("reshape", bsa + msz + (1,) * len(nb)))
        if ma:
            pb.append(("reshape", bsb + (1,) * len(ma) + nsz))
        return pa, pb, "mul", pr, labels, sizes
    ca = tuple(sa[lab] for lab in con)
    cb = tuple(sb[lab] for lab in con)
    if ca != cb:              # a contracted size 1 on one side broadcasts
        ca = tuple(_bcast(p, q) for p, q in zip(ca, cb))
        pa.append(("expand", bsa + msz + ca))
        pb.append(("expand", bsb + ca + nsz))
    k = _prod(ca)
    ra, rb = bsa + (_prod(msz), k), bsb + (k, _prod(nsz))
    if ra != bsa + msz + ca:
        pa.append(("reshape", ra))
    if rb != bsb + ca + nsz:
        pb.append(("reshape", rb))
    out_shape = tuple(sizes[lab] for lab in labels)
    if len(ma) != 1 or len(nb) != 1:
        pr.append(("reshape", out_shape))
    return pa, pb, "matmul", pr, labels, sizes


@functools.lru_cache(maxsize=1024)
def _plan(equation, shapes):
    """(steps per operand, chain of contractions, final steps) for einsum."""
    ins, out = _parse(equation, tuple(len(s) for s in shapes))
    prep, ops, seen = [], [], {}
    for k, (shape, labels) in enumerate(zip(shapes, ins)):
        labels, shape, steps = list(labels), list(shape), []
        while len(set(labels)) != len(labels):       # a repeated label takes a diagonal
            lab = next(x for x in labels if labels.count(x) > 1)
            group = tuple(i for i, x in enumerate(labels) if x == lab)
            sizes = [shape[i] for i in group]
            if len(set(sizes)) != 1:
                raise RuntimeError(f"einsum(): subscript {_label_name(lab)} is repeated for "
                                   f"operand {k} but the sizes don't match, {sizes[1]} != "
                                   f"{sizes[0]}")
            steps.append(("diag", group))
            labels = [x for i, x in enumerate(labels) if i not in group[1:]]
            shape = [n for i, n in enumerate(shape) if i not in group[1:]]
        for lab, n in zip(labels, shape):
            m = seen.get(lab)
            if m is None or m == 1:
                seen[lab] = n
            elif n != 1 and n != m:
                raise RuntimeError(f"einsum(): subscript {_label_name(lab)} has size {n} for "
                                   f"operand {k} which does not broadcast with previously seen "
                                   f"size {m}")
        prep.append(steps)
        ops.append((labels, dict(zip(labels, shape))))
    # a label is summed as soon as neither a later operand nor the output needs it
    keep_after = [set(out)]
    for labels, _ in reversed(ops[1:]):
        keep_after.append(keep_after[-1] | set(labels))
    keep_after.reverse()          # keep_after[i]: labels needed after operand i
    la, sa = _sum_step(*ops[0], keep_after[0], prep[0])
    chain = []
    for i in range(1, len(ops)):
        lb, sb = ops[i]
        keep = keep_after[i]
        pre = []
        la, sa = _sum_step(la, sa, keep | set(lb), pre)
        lb, sb = _sum_step(lb, sb, keep | set(la), prep[i])
        pa, pb, mode, pr, la, sa = _contract_plan(la, sa, lb, sb, keep)
        chain.append((i, tuple(pre + pa), tuple(pb), mode, tuple(pr)))
    final = []
    _perm_step(la, list(out), final)
    return tuple(tuple(p) for p in prep), tuple(chain), tuple(final)


def einsum(*args):
    """``einsum(equation, *operands)``; operands may also come as one list, or in the
    sublist form ``einsum(op1, [0, 1], op2, [1, 2], [0, 2])``."""
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand")
    if isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:
        equation, operands = _from_sublists(args)
    dt = None
    for k, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operand {k} must be a Tensor, got {type(t).__name__}")
        if dt is None:
            dt = t._data.dtype
        elif t._data.dtype != dt:
            raise RuntimeError(f"expected scalar type {_tname(operands[0])} but found "
                               f"{_tname(t)}")
    prep, chain, final = _plan(equation, tuple(t._data.shape for t in operands))
    ts = [(_apply(t, steps) if steps else t) for t, steps in zip(operands, prep)]
    t = ts[0]
    for i, pa, pb, mode, pr in chain:
        a, b = _apply(t, pa), _apply(ts[i], pb)
        t = _apply(a * b if mode == "mul" else matmul(a, b), pr)
    t = _apply(t, final)
    if t is operands[0]:          # a new tensor (a view), as PyTorch
        t = t.view(tuple(t.shape))
    return t


def _from_sublists(args):
    """The sublist form as an equation string and operands."""
    ops, terms = [], []
    rest = list(args)
    while len(rest) >= 2 and isinstance(rest[0], Tensor):
        ops.append(rest.pop(0))
        terms.append(_sublist(rest.pop(0)))
    eq = ",".join(terms)
    if rest:
        eq += "->" + _sublist(rest.pop(0))
    if rest:
        raise TypeError("einsum(): expected operand, sublist pairs and an optional output "
                        "sublist")
    return eq, ops


def _sublist(sub):
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "".join("..." if s is Ellipsis else chars[s] for s in sub)


# ---------------------------------------------------------------- Tensor methods
def _make_inplace(fn):
    from .common import inplace

    def method(self, *args, **kwargs):
        return inplace(self, _checked(fn, self), *args, **kwargs)
    method.__name__ = fn.__name__ + "_"
    return method


def _rmatmul(self, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(other, self)


TENSOR_METHODS = {"matmul": matmul, "mm": mm, "bmm": bmm, "__matmul__": matmul,
                  "__rmatmul__": _rmatmul,
                  "mv": mv, "dot": dot, "vdot": vdot, "inner": inner, "outer": outer,
                  "ger": ger, "addmm": addmm, "addmv": addmv, "addr": addr,
                  "addbmm": addbmm, "baddbmm": baddbmm, "kron": kron,
                  "matrix_power": matrix_power}
for _fn in (addmm, addmv, addr, addbmm, baddbmm):
    TENSOR_METHODS[_fn.__name__ + "_"] = _make_inplace(_fn)


from ..autocast_state import wrap_autocast  # noqa: E402
wrap_autocast(globals(), TENSOR_METHODS)   # autocast policies (genesis/autocast_state.py)
