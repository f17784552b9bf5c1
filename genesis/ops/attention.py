"""Attention: F.scaled_dot_product_attention (fused on the CPU: one op forward, one op
backward; on a backend with flash kernels, such as CUDA's, those when there is no mask) and F.multi_head_attention_forward, as torch.nn.functional's."""
import math
import warnings

import numpy as np

from .. import dtypes as _dt
from ..autograd.function import Function, broadcast_error
from ..tensor import Tensor, _make
from .common import FLOAT_NP, LOW_FLOAT_NP as _LOW, F32 as _F32
from .linear import linear

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_NEG_INF = float("-inf")
# the C++ type names torch's sdpa dtype errors print
_CT = {"float32": "float", "float64": "double", "float16": "c10::Half",
       "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int", "int16": "short int",
       "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}
_ALL = slice(None)
# scores within +-this need no shift before exp: exp(64) * 2**32 keys stays finite in
# float32, exp(-64) is far from its denormals (float64: 600)
_NOSHIFT = {np.dtype(np.float32): 64.0, np.dtype(np.float64): 600.0}
_causal_cache = {}          # (backend, L, S, np dtype) -> additive (S, L) mask: 0 / -inf


def _t(be, x):
    """x with its last two axes swapped (a view)."""
    n = x.ndim
    return be.transpose(x, tuple(range(n - 2)) + (n - 1, n - 2))


def _mm(be, a, b, like):
    """a @ b; for (..., H, M, K) @ (..., H, K, N) with ``like`` (the input it stands for)
    laid out heads-inner, (..., M, H, E) seen as (..., H, M, E), the result takes that
    layout too, as torch's: attention's inputs then usually come from and its output and
    gradients go back to (B, L, H * E) tensors, and the reshapes around it are views
    rather than copies."""
    n = a.ndim
    if (n < 3 or like.ndim < 3 or a.shape[:-2] != b.shape[:-2]
            or like.strides[-3] >= like.strides[-2]):
        return be.matmul(a, b)
    buf = be.empty(a.shape[:-3] + (a.shape[-2], a.shape[-3], b.shape[-1]), a.dtype)
    return be.matmul(a, b, out=be.transpose(buf, tuple(range(n - 3)) + (n - 2, n - 3, n - 1)))


def _causal_t(be, L, S, npd):
    """The additive top-left causal mask (query i sees keys j <= i, torch's alignment
    when L != S) in the keys-major layout (S, L): -inf where j > i. Cached since every
    causal step of a model asks for the same one."""
    key = (be, L, S, npd)
    m = _causal_cache.get(key)
    if m is None:
        if len(_causal_cache) > 32:
            _causal_cache.clear()
        keys = be.reshape(be.arange(0, S, 1, np.int64), (S, 1))
        queries = be.reshape(be.arange(0, L, 1, np.int64), (1, L))
        m = _causal_cache[key] = be.where(be.greater(keys, queries), npd.type(_NEG_INF),
                                          npd.type(0))
    return m


# The scores are kept keys-major, (..., S, L), the transpose of torch's (..., L, S): NumPy
# reduces over a non-last axis several times faster (the softmax's max and sum), and
# its stacked matmul is fast for a transposed first operand but not a transposed second
# one, which this layout avoids in every product of forward and backward.

class _Sdpa(Function):
    """softmax(q @ k^T * scale + mask) [dropout] @ v. Forward: two matmuls and a softmax
    done in place on the scores; the probabilities are kept for backward."""
    _save_output = True

    @staticmethod
    def forward(ctx, q, k, v, mask, dropout_p, is_causal, scale):
        be = q._be
        qa, ka, va = q._data, k._data, v._data
        out_dt = qa.dtype
        if out_dt in _LOW:       # as torch's CPU kernels: compute in float32, round at the end
            qa, ka, va = be.astype(qa, _F32), be.astype(ka, _F32), be.astype(va, _F32)
        cd = qa.dtype
        L, S = qa.shape[-2], ka.shape[-2]
        qt = be.empty(qa.shape[:-2] + (qa.shape[-1], L), cd)
        be.multiply(_t(be, qa), cd.type(scale), out=qt)       # scale folded into q^T
        try:
            st = be.matmul(ka, qt)                             # (..., S, L)
        except ValueError:
            raise broadcast_error(tuple(qa.shape[:-2]), tuple(ka.shape[:-2])) from None
        masked = False      # whether a query may see no key at all
        # softmax(x) = exp(x - c) / sum(exp(x - c)) for any c per query; the usual c, the
        # query's max, costs two passes over the scores, and two global extrema cost a
        # fraction of one: when every score is within +-_NOSHIFT no exp overflows (a sum
        # of S of them neither) nor underflows a whole query to 0, and c = 0 will do
        shift = True
        if mask is None and st.size and type(st) is np.ndarray:
            # (on a device, the extrema's two host syncs cost more than the shift's passes)
            lim = _NOSHIFT.get(cd)
            if lim is not None and be.amax(st) <= lim and be.amin(st) >= -lim:
                shift = False
        if mask is not None:
            m = mask._data
            if m.dtype == np.bool_:
                m = be.where(m, cd.type(0), cd.type(_NEG_INF))
            elif m.dtype != cd:
                m = be.astype(m, cd)
            try:
                # a 1-D mask runs over the keys: a column in the keys-major layout
                be.add(st, _t(be, m) if m.ndim >= 2 else be.reshape(m, (m.size, 1))
                       if m.ndim == 1 else m, out=st)
            except ValueError:
                raise _mask_error(st.shape[:-2] + (L, S), m.shape) from None
            masked = True
        elif is_causal:
            # query 0 always sees key 0: no fully masked query
            be.add(st, _causal_t(be, L, S, cd), out=st)
        # softmax over the keys (axis -2), in place
        if S:
            if shift:
                mx = be.amax(st, axis=-2, keepdims=True)
                if masked:
                    # a fully masked query has max -inf: shift it by a finite number
                    # instead so that its exps are 0 (not nan) and it attends to nothing,
                    # as torch
                    be.maximum(mx, cd.type(np.finfo(cd).min), out=mx)
                be.subtract(st, mx, out=st)
            be.exp(st, out=st)
        # sums as products with a ones vector: BLAS sums several times faster than
        # NumPy's reduction does
        den = be.matmul(be.full((1, S), 1, cd), st)
        if masked or not S:
            # a query with an unmasked key sums to >= 1 (its max gives exp(0) = 1); only
            # fully masked (or keyless) ones sum to 0, and divide by 1 instead
            be.maximum(den, cd.type(1), out=den)
        be.multiply(st, be.divide(cd.type(1), den), out=st)
        pt = st
        keep = None
        if dropout_p > 0:
            from ..random import _gen
            u = be.uniform(_gen(None, be, q), st.shape, 0.0, 1.0, cd)
            keep = be.less(u, cd.type(1.0 - dropout_p))
            pt = be.multiply(st, keep)
            if dropout_p < 1:
                be.multiply(pt, cd.type(1.0 / (1.0 - dropout_p)), out=pt)
        vx = None
        if keep is None:
            # v copied once into a [v, -1] buffer: backward's product for dp - r uses it
            # whole, and the product below runs faster on it than on a strided view
            Ev = va.shape[-1]
            vx = be.empty(va.shape[:-1] + (Ev + 1,), cd)
            be.copyto(be.getitem(vx, (Ellipsis, slice(0, Ev))), va)
            be.setitem(vx, (Ellipsis, Ev), cd.type(-1))
            va = be.getitem(vx, (Ellipsis, slice(0, Ev)))
        try:
            out = _mm(be, _t(be, pt), va, q._data)
        except ValueError:
            raise broadcast_error(tuple(st.shape[:-2]), tuple(va.shape[:-2])) from None
        ctx.info = (scale, dropout_p, vx)
        # the probabilities travel with the saved tensors so that backward frees them
        ctx.save_for_backward(q, k, v, mask if mask is not None and mask._requires_grad
                              else None, st, pt, keep)
        return out if out.dtype == out_dt else be.astype(out, out_dt)

    @staticmethod
    def backward(ctx, g):
        q, k, v, m, st, pt, keep = ctx.saved_tensors
        # the output enters as data (checked for in-place changes by ctx.output)
        grads = _SdpaBackward.apply(g, q, k, v, m, (st, pt, keep, ctx.output._data) + ctx.info)
        return tuple(grads[:3]) + ((grads[3] if m is not None else None), None, None, None)


class _SdpaBackward(Function):
    """dq, dk, dv (and the float mask's gradient) of attention in one op: four matmuls
    and the softmax backward in place, from the saved probabilities. Its own backward
    is written in genesis ops, so double backward works (the probabilities enter it as
    constants: third derivatives through them are not tracked)."""

    @staticmethod
    def forward(ctx, g, q, k, v, m, st_info):
        st, pt, keep, oa, scale, dropout_p, vx = st_info
        be = g._be
        ga, qa, ka, va = g._data, q._data, k._data, v._data
        cd = st.dtype
        if ga.dtype != cd:
            ga, qa, ka, va, oa = (be.astype(x, cd) for x in (ga, qa, ka, va, oa))
        dv = _mm(be, pt, ga, v._data)
        L, Ev = ga.shape[-2], ga.shape[-1]
        # softmax backward: ds = p * (dp - r), r = the sum over keys of dp * p, which
        # equals the sum of g * out over features (flash attention's identity): a pass
        # over (L, Ev) rather than (S, L)
        r = _rowdot(be, ga, oa)
        if keep is None:
            # dp - r as one product, [v, -1] @ [g^T; r] (forward made [v, -1]): no pass
            # over the scores
            gt = be.empty(ga.shape[:-2] + (Ev + 1, L), cd)
            be.copyto(be.getitem(gt, (Ellipsis, slice(0, Ev), _ALL)), _t(be, ga))
            be.copyto(be.getitem(gt, (Ellipsis, Ev, _ALL)), r)
            dpt = be.matmul(vx, gt)                          # (..., S, L)
        else:
            gt = be.empty(ga.shape[:-2] + (Ev, L), cd)
            be.copyto(gt, _t(be, ga))
            dpt = be.matmul(va, gt)
            be.multiply(dpt, keep, out=dpt)
            if dropout_p < 1:
                be.multiply(dpt, cd.type(1.0 / (1.0 - dropout_p)), out=dpt)
            be.subtract(dpt, be.reshape(r, r.shape[:-1] + (1, L)), out=dpt)
        be.multiply(dpt, st, out=dpt)                        # ds, keys-major
        dq = _mm(be, _t(be, dpt), ka, q._data)
        be.multiply(dq, cd.type(scale), out=dq)
        dk = _mm(be, dpt, qa, k._data)
        be.multiply(dk, cd.type(scale), out=dk)
        if ctx.needs_input_grad:
            ctx.save_for_backward(g, q, k, v, m, st, pt, keep)
            ctx.info = (scale, dropout_p)
        if m is not None:
            return dq, dk, dv, _t(be, dpt)
        return dq, dk, dv

    @staticmethod
    def backward(ctx, aq, ak, av, am=None):
        g, q, k, v, m, st, pt, keep = ctx.saved_tensors
        return _second_order(g, q, k, v, m, st, pt, keep, *ctx.info, aq, ak, av, am)


def _second_order(g, q, k, v, m, st, pt, keep, scale, dropout_p, aq, ak, av, am):
    """The gradients (g, q, k, v, mask, None) of attention's backward (dq, dk, dv[, dmask])
    given theirs (aq, ak, av[, am]), from the keys-major probabilities st (pt after
    dropout, with its keep mask), in genesis ops."""
    be = g._be
    cd = st.dtype
    dt = _dt._by_np[cd]
    P = _make(_t(be, st))                    # (..., L, S) from here on
    Pd = _make(_t(be, pt)) if keep is not None else P
    if keep is not None:
        mk = _make(_t(be, keep)).to(dt) * (1.0 / (1.0 - dropout_p) if dropout_p < 1
                                            else 0.0)
    g, q, k, v = (x.to(dt) for x in (g, q, k, v))
    dpp = g.matmul(v.transpose(-2, -1))
    dp = dpp * mk if keep is not None else dpp
    dpr = dp - (dp * P).sum(-1, keepdim=True)
    ds = P * dpr
    h = (aq.to(dt).matmul(k.transpose(-2, -1)) + q.matmul(ak.to(dt).transpose(-2, -1))) * scale
    if am is not None:
        h = h + am.to(dt)
    t = (h * P).sum(-1, keepdim=True)
    g_dp = P * (h - t)                       # through ds = P * (dp - r), with P fixed
    g_p = dpr * h - dp * t                   # through P in the same formula
    g_dpp = g_dp * mk if keep is not None else g_dp
    av = av.to(dt)
    gg = g_dpp.matmul(v) + Pd.matmul(av)
    gv = g_dpp.transpose(-2, -1).matmul(g)
    g_pd = g.matmul(av.transpose(-2, -1))    # through dv = Pd^T g
    g_p = g_p + (g_pd * mk if keep is not None else g_pd)
    gs = P * (g_p - (g_p * P).sum(-1, keepdim=True))    # softmax's backward
    gq = (gs.matmul(k) + ds.matmul(ak.to(dt))) * scale
    gk = (gs.transpose(-2, -1).matmul(q) + ds.transpose(-2, -1).matmul(aq.to(dt))) * scale
    return gg, gq, gk, gv, (gs if m is not None else None), None


class _Flash(Function):
    """Attention by the backend's flash kernels (no mask): the output and per-query
    softmax statistics are all that is kept (with dropout, the Philox seed and offset
    its mask was drawn from); backward recomputes the probabilities block by block."""
    _save_output = True

    @staticmethod
    def forward(ctx, q, k, v, is_causal, scale, dropout_p):
        gen = None
        if dropout_p > 0:
            from ..random import _gen
            gen = _gen(None, q._be, q)
        out, stats, rng = q._be.flash_attn_fwd(q._data, k._data, v._data, scale, is_causal,
                                               dropout_p, gen)
        ctx.info = (stats, is_causal, scale, dropout_p, rng)
        ctx.save_for_backward(q, k, v)
        return out

    @staticmethod
    def backward(ctx, g):
        q, k, v = ctx.saved_tensors
        grads = _FlashBackward.apply(g, q, k, v, (ctx.output._data,) + ctx.info)
        return tuple(grads) + (None, None, None)


class _FlashBackward(Function):
    """dq, dk, dv by the flash backward kernels. Its own backward (double backward)
    recomputes the probabilities (and the dropout mask) whole and takes _SdpaBackward's
    formulas."""

    @staticmethod
    def forward(ctx, g, q, k, v, info):
        oa, stats, is_causal, scale, dropout_p, rng = info
        dq, dk, dv = g._be.flash_attn_bwd(g._data, q._data, k._data, v._data, oa, stats,
                                          scale, is_causal, dropout_p, rng)
        if ctx.needs_input_grad:
            ctx.save_for_backward(g, q, k, v)
            ctx.info = (is_causal, scale, dropout_p, rng)
        return dq, dk, dv

    @staticmethod
    def backward(ctx, aq, ak, av):
        g, q, k, v = ctx.saved_tensors
        is_causal, scale, dropout_p, rng = ctx.info
        st = pt = _probs_t(q, k, is_causal, scale)
        keep = None
        if dropout_p > 0:
            be = q._be
            S, L = st.shape[-2:]
            # the mask covers the batch of q, k and v broadcast together
            batch = tuple(np.broadcast_shapes(st.shape[:-2], v.shape[:-2]))
            if batch != st.shape[:-2]:
                st = be.ascontiguousarray(be.broadcast_to(st, batch + (S, L)))
            keep = _t(be, be.flash_attn_dropout_mask(batch, L, S, dropout_p, rng,
                                                     st.device_index))
            pt = be.multiply(st, keep)
            if dropout_p < 1:
                be.multiply(pt, st.dtype.type(1.0 / (1.0 - dropout_p)), out=pt)
        return _second_order(g, q, k, v, None, st, pt, keep, scale, dropout_p, aq, ak, av,
                             None)[:4] + (None,)


def _probs_t(q, k, is_causal, scale):
    """softmax(q k^T * scale [+ causal mask]) keys-major, (..., S, L), in the compute
    dtype (float32 for float16/bfloat16)."""
    be = q._be
    qa, ka = q._data, k._data
    if qa.dtype in _LOW:
        qa, ka = be.astype(qa, _F32), be.astype(ka, _F32)
    cd = qa.dtype
    st = be.matmul(ka, be.multiply(_t(be, qa), cd.type(scale)))
    if is_causal:
        be.add(st, _causal_t(be, qa.shape[-2], ka.shape[-2], cd), out=st)
    be.subtract(st, be.amax(st, axis=-2, keepdims=True), out=st)
    be.exp(st, out=st)
    be.divide(st, be.sum(st, axis=-2, keepdims=True), out=st)
    return st


def _rowdot(be, a, b):
    """The sum over the last axis of a * b, shape a.shape[:-1]: NumPy's einsum fuses the
    product with the sum."""
    if type(a) is np.ndarray and type(b) is np.ndarray:
        return np.einsum("...i,...i->...", a, b)
    return be.sum(be.multiply(a, b), axis=-1)


def _mask_error(scores, mask):
    """torch's errors for a mask that does not broadcast to the scores, or would grow
    them."""
    try:
        full = np.broadcast_shapes(scores, mask)
    except ValueError:
        return broadcast_error(tuple(scores), tuple(mask))
    return RuntimeError(f"output with shape {list(scores)} doesn't match the broadcast shape "
                        f"{list(full)}")


def _ct(dtype):
    return _CT[str(dtype).split(".")[-1]]


def _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be "
                            f"Tensor, not {type(t).__name__}")
    qd, kd, vd = query.dtype, key.dtype, value.dtype
    if not (qd == kd == vd):
        raise RuntimeError("Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {_ct(qd)} key.dtype: {_ct(kd)} and "
                           f"value.dtype: {_ct(vd)} instead.")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError("Expected query, key, and value to all be  at least 2 dimensional, "
                           f"but got query.dim: {query.ndim} key.dim: {key.ndim} and "
                           f"value.dim: {value.ndim} instead.")
    if query._data.dtype not in FLOAT_NP:
        raise RuntimeError(f"expected scalar type Float but found {qd.scalar_name}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"Expected query and key to have the same embedding size, but got "
                           f"query {list(query.shape)} and key {list(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"Expected key and value to have the same sequence length, but got "
                           f"key {list(key.shape)} and value {list(value.shape)}")
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            raise TypeError("scaled_dot_product_attention(): argument 'attn_mask' must be "
                            f"Tensor, not {type(attn_mask).__name__}")
        md = attn_mask.dtype
        if md is not _dt.bool_ and md != qd:
            raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query "
                               f"dtype, but got attn_mask.dtype: {_ct(md)} and  "
                               f"query.dtype: {_ct(qd)} instead.")
        if is_causal:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not "
                               "be set when is_causal=True")
    if not 0 <= dropout_p <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got "
                           f"{dropout_p}")


def _repeat_heads(x, hq, name):
    """x (..., H, S, E) with each head repeated hq // H times in a row (head h of the
    query uses head h // (hq // H)), as enable_gqa's repeat_interleave."""
    if x.ndim < 3:
        return x
    h = x.shape[-3]
    if h == hq:
        return x
    if h == 0 or hq % h:
        raise RuntimeError(f"Number of heads in key and value must divide the number of "
                           f"heads in query; got query heads {hq} and {name} heads {h}")
    sh = tuple(x.shape)
    return x.unsqueeze(-3).expand(sh[:-2] + (hq // h,) + sh[-2:]).reshape(
        sh[:-3] + (hq,) + sh[-2:])


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value, with attn_mask a bool mask (True =
    attend) or a float mask added to the scores, is_causal a top-left causal mask, and
    dropout on the attention weights. Rows that attend to nothing give 0, as torch's
    CPU kernels."""
    _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal)
    if enable_gqa and query.ndim >= 3:
        hq = query.shape[-3]
        key, value = _repeat_heads(key, hq, "key"), _repeat_heads(value, hq, "value")
    if scale is None:
        e = query.shape[-1]
        scale = 1.0 / math.sqrt(e) if e else float("inf")
    be = query._be
    if (attn_mask is None and hasattr(be, "flash_attn_fwd")
            and query.device == key.device == value.device
            and be.flash_attn_supports(query._data, key._data, value._data)):
        return _Flash.apply(query, key, value, bool(is_causal), float(scale),
                            float(dropout_p))
    return _Sdpa.apply(query, key, value, attn_mask, float(dropout_p), bool(is_causal),
                       float(scale))


# ---- multi-head attention (torch.nn.functional.multi_head_attention_forward)

def _canonical_mask(mask, target_dtype, name, other=None, other_name=""):
    """A bool mask (True = masked out) as a float mask of -inf / 0; float masks pass.
    Warns as torch when ``other`` (the mask it will be merged with) has another dtype."""
    if mask is None:
        return None
    is_bool = mask.dtype is _dt.bool_
    if not is_bool and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if other is not None and other.dtype != mask.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=3)
    if is_bool:
        from ..creation import zeros
        return zeros(mask.shape, dtype=target_dtype, device=mask.device).masked_fill_(
            mask, _NEG_INF)
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D "
                f"but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                f"but found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or "
                f"1-D but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or "
                    f"3-D but found {attn_mask.dim()}-D tensor instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but "
                                         f"got {tuple(attn_mask.shape)}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")


def _in_projection_packed(q, k, v, w, b):
    e = q.shape[-1]
    if k is v and q is k:           # self-attention: one matmul for q, k and v
        proj = linear(q, w, b).unflatten(-1, (3, e))
        return proj[..., 0, :], proj[..., 1, :], proj[..., 2, :]
    if k is v:                      # encoder-decoder attention: one for k and v
        w_q, w_kv = w.split([e, 2 * e])
        b_q, b_kv = b.split([e, 2 * e]) if b is not None else (None, None)
        kv = linear(k, w_kv, b_kv).unflatten(-1, (2, e))
        return linear(q, w_q, b_q), kv[..., 0, :], kv[..., 1, :]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = b.chunk(3) if b is not None else (None, None, None)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _pad_last(x):
    """x with one zero column appended on the last dim (for bias_k / add_zero_attn)."""
    from ..creation import zeros
    from .shape import cat
    return cat([x, zeros(tuple(x.shape[:-1]) + (1,), dtype=x.dtype, device=x.device)], dim=-1)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """torch.nn.functional.multi_head_attention_forward: inputs (L, N, E) (or unbatched
    (L, E)); returns (output, weights or None). Masks are True (or -inf) where attention
    is not allowed. With need_weights=False the attention runs in the fused sdpa op."""
    from ..creation import zeros
    from .shape import cat
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, query.dtype, "key_padding_mask",
                                       attn_mask, "attn_mask")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None        # the hint alone drives sdpa's causal mask
    else:
        attn_mask = _canonical_mask(attn_mask, query.dtype, "attn_mask")
        if key_padding_mask is not None:
            is_causal = False   # the merged mask is no longer causal
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not "
                                 f"match value's {tuple(value.shape[:2])}")
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is True but q_proj_weight, "
                                 "k_proj_weight or v_proj_weight is None")
        b_q, b_k, b_v = in_proj_bias.chunk(3) if in_proj_bias is not None else (None,) * 3
        q = linear(query, q_proj_weight, b_q)
        k = linear(key, k_proj_weight, b_k)
        v = linear(value, v_proj_weight, b_v)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape "
                                 f"{tuple(value.shape)}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key.")
        k = cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = cat([v, bias_v.expand(1, bsz, embed_dim)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k is set but bias_v is None" if bias_k is not None else
                             "bias_v is set but bias_k is None")

    # heads into the batch: (L, N, E) -> (N * H, L, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    if static_k is None:
        k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        if static_k.size(0) != bsz * num_heads or static_k.size(2) != head_dim:
            raise AssertionError(f"expecting static_k of shape ({bsz * num_heads}, *, "
                                 f"{head_dim}), but got {tuple(static_k.shape)}")
        k = static_k
    if static_v is None:
        v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        if static_v.size(0) != bsz * num_heads or static_v.size(2) != head_dim:
            raise AssertionError(f"expecting static_v of shape ({bsz * num_heads}, *, "
                                 f"{head_dim}), but got {tuple(static_v.shape)}")
        v = static_v
    if add_zero_attn:
        zero = zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k = cat([k, zero], dim=1)
        v = cat([v, zero], dim=1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(
                f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                f"{key_padding_mask.shape[0]}" if key_padding_mask.shape[0] != bsz else
                f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                f"{key_padding_mask.shape[1]}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(
            bsz, num_heads, 1, src_len).reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    if need_weights:
        # the explicit form (torch's too): softmax weights are returned, fully masked rows
        # give nan as in torch
        q_scaled = q * math.sqrt(1.0 / float(q.shape[-1]))
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        kt = k.transpose(-2, -1)
        w = q_scaled.matmul(kt) if attn_mask is None else q_scaled.matmul(kt) + attn_mask
        w = w.softmax(-1)
        if dropout_p > 0.0:
            from .dropout import dropout
            w = dropout(w, p=dropout_p)
        out = w.matmul(v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        w = w.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            w = w.mean(1)
        if not is_batched:
            out, w = out.squeeze(1), w.squeeze(0)
        return out, w
    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not is_batched:
        out = out.squeeze(1)
    return out, None


from ..autocast_state import wrap_autocast  # noqa: E402
wrap_autocast(globals())   # autocast policies (genesis/autocast_state.py)
