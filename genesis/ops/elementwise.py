"""Elementwise ops: arithmetic, math functions, comparisons, logical and bitwise ops,
where/clamp, and their in-place forms. Broadcasting in backward is undone by the engine."""
import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor, _make
from .common import (pair, be_of, to_float, is_float, default_float, inplace, check_inplace,
                     commit_inplace, snapshot, as_tensor_like, CAT, FLOAT_NP)

_LN2, _LN10 = math.log(2.0), math.log(10.0)


# ---------------------------------------------------------------- binary arithmetic
class Add(Function):
    @staticmethod
    def forward(ctx, a, b, alpha):
        x, y = pair(a, b)
        ctx.alpha = alpha
        if alpha != 1:
            y = y * alpha
        return be_of(a, b).add(x, y)

    @staticmethod
    def backward(ctx, g):
        return g, (g if ctx.alpha == 1 else g * ctx.alpha), None


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b, alpha):
        x, y = pair(a, b)
        if (x.dtype if isinstance(x, np.ndarray) else y.dtype) == np.bool_:
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                               "supported. Use the `^` or `logical_xor()` operator instead.")
        ctx.alpha = alpha
        if alpha != 1:
            y = y * alpha
        return be_of(a, b).subtract(x, y)

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.alpha == 1 else g * -ctx.alpha), None


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        x, y = pair(a, b)
        ctx.save_for_backward(a if isinstance(a, Tensor) and ctx.needs_input_grad[1:2] == (True,)
                              else None,
                              b if isinstance(b, Tensor) and ctx.needs_input_grad[:1] == (True,)
                              else None)
        ctx.a, ctx.b = (None if isinstance(a, Tensor) else a), (None if isinstance(b, Tensor)
                                                                 else b)
        return be_of(a, b).multiply(x, y)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g * (b if b is not None else ctx.b)
        if ctx.needs_input_grad[1]:
            gb = g * (a if a is not None else ctx.a)
        return ga, gb


def _float_pair(a, b):
    x, y = pair(a, b)
    dt = x.dtype if isinstance(x, np.ndarray) else y.dtype
    if dt not in FLOAT_NP:
        f = default_float()
        be = be_of(a, b)
        x = be.astype(x, f) if isinstance(x, np.ndarray) else float(x)
        y = be.astype(y, f) if isinstance(y, np.ndarray) else float(y)
    return x, y


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        x, y = _float_pair(a, b)
        ctx.save_for_backward(a if isinstance(a, Tensor) else None,
                              b if isinstance(b, Tensor) else None)
        ctx.a, ctx.b = a, b
        with np.errstate(divide="ignore", invalid="ignore"):
            return be_of(a, b).divide(x, y)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a = a if a is not None else ctx.a
        b = b if b is not None else ctx.b
        ga = g / b if ctx.needs_input_grad[0] else None
        gb = -g * a / (b * b) if ctx.needs_input_grad[1] else None
        return ga, gb


def _int_div(be, x, y, mode):
    if np.any(np.asarray(y) == 0):
        raise RuntimeError("ZeroDivisionError")
    q = be.floor_divide(x, y)
    if mode == "trunc":
        r = be.remainder(x, y)
        fix = be.logical_and(be.not_equal(r, 0), be.not_equal(be.less(x, 0), be.less(y, 0)))
        q = be.add(q, fix.astype(q.dtype) if hasattr(fix, "astype") else int(fix))
    return q


class DivRounding(Function):
    @staticmethod
    def forward(ctx, a, b, mode):
        be = be_of(a, b)
        x, y = pair(a, b)
        dt = x.dtype if isinstance(x, np.ndarray) else y.dtype
        if dt not in FLOAT_NP:
            return _int_div(be, x, y, mode)
        with np.errstate(divide="ignore", invalid="ignore"):
            if mode == "trunc":
                return be.trunc(be.divide(x, y))
            return be.floor_divide(x, y)

    @staticmethod
    def backward(ctx, g):
        return g * 0, g * 0 if ctx.needs_input_grad[1] else None, None


def add(input, other, *, alpha=1, out=None):
    return _out(Add.apply(input, other, alpha), out)


def sub(input, other, *, alpha=1, out=None):
    return _out(Sub.apply(input, other, alpha), out)


def rsub(input, other, *, alpha=1):
    return Sub.apply(other, input * alpha if alpha != 1 else input, 1)


def mul(input, other, *, out=None):
    return _out(Mul.apply(input, other), out)


def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is None:
        r = Div.apply(input, other)
    elif rounding_mode in ("trunc", "floor"):
        r = DivRounding.apply(input, other, rounding_mode)
    else:
        raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    return _out(r, out)


def floor_divide(input, other, *, out=None):
    return div(input, other, rounding_mode="floor", out=out)


def true_divide(input, other, *, out=None):
    return div(input, other, out=out)


def _out(r, out):
    if out is None:
        return r
    if out._data.shape != r._data.shape:
        out._data = out._be.empty(r._data.shape, out._data.dtype)
    return commit_inplace(out, r)


class Pow(Function):
    _save_output = True

    @staticmethod
    def forward(ctx, a, b):
        x, y = pair(a, b)
        if isinstance(y, np.ndarray) and y.dtype.kind in "iu" and np.any(y < 0) and (
                not isinstance(x, np.ndarray) or x.dtype.kind in "iub") or (
                isinstance(y, int) and y < 0 and isinstance(x, np.ndarray)
                and x.dtype.kind in "iub"):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        ctx.save_for_backward(a if isinstance(a, Tensor) else None,
                              b if isinstance(b, Tensor) else None)
        ctx.a, ctx.b = a, b
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return be_of(a, b).power(x, y)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a = a if a is not None else ctx.a
        b = b if b is not None else ctx.b
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if isinstance(b, Tensor):
                ga = g * b * a ** (b - 1)
            else:
                ga = g * 0 if b == 0 else g * b * a ** (b - 1)
        if ctx.needs_input_grad[1]:
            out = ctx.output
            if isinstance(a, Tensor):
                gb = where((a == 0) & (b >= 0), 0.0, g * out * log(a))
            else:
                gb = g * out * math.log(a) if a > 0 else where(b >= 0, 0.0, g * out * math.log(a)
                                                             if a != 0 else g * math.nan)
        return ga, gb


def pow(input, exponent, *, out=None):
    if not isinstance(input, Tensor):
        return _out(Pow.apply(input, exponent), out)
    if isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
        if exponent == 2 and is_float(input):
            return _out(Square.apply(input), out)
        if exponent == 1:
            return _out(Mul.apply(input, 1), out)
    return _out(Pow.apply(input, exponent), out)


class Square(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a._be.multiply(a._data, a._data)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * (2 * a)


def square(input):
    return Square.apply(input) if is_float(input) else mul(input, input)


class _MaxMin(Function):
    @staticmethod
    def forward(ctx, a, b):
        x, y = pair(a, b)
        ctx.save_for_backward(a, b)
        return getattr(be_of(a, b), ctx._prim)(x, y)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        win = a > b if ctx._prim == "maximum" else a < b
        tie = a == b
        half = g * 0.5
        ga = where(win, g, where(tie, half, 0.0)) if ctx.needs_input_grad[0] else None
        gb = where(win | tie, where(tie, half, 0.0), g) if ctx.needs_input_grad[1] else None
        return ga, gb


class Maximum(_MaxMin):
    _prim = "maximum"


class Minimum(_MaxMin):
    _prim = "minimum"


def maximum(input, other, *, out=None):
    return _out(Maximum.apply(input, other), out)


def minimum(input, other, *, out=None):
    return _out(Minimum.apply(input, other), out)


class _Mod(Function):
    @staticmethod
    def forward(ctx, a, b):
        x, y = pair(a, b)
        dt = x.dtype if isinstance(x, np.ndarray) else y.dtype
        if dt.kind in "iu" and np.any(np.asarray(y) == 0):
            raise RuntimeError("ZeroDivisionError")
        ctx.save_for_backward(a if isinstance(a, Tensor) else None,
                              b if isinstance(b, Tensor) else None)
        ctx.a, ctx.b = a, b
        with np.errstate(divide="ignore", invalid="ignore"):
            return getattr(be_of(a, b), ctx._prim)(x, y)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a = a if a is not None else ctx.a
        b = b if b is not None else ctx.b
        gb = None
        if ctx.needs_input_grad[1]:
            q = div(a, b, rounding_mode="trunc" if ctx._prim == "fmod" else "floor")
            gb = -g * q
        return g if ctx.needs_input_grad[0] else None, gb


class Fmod(_Mod):
    _prim = "fmod"


class Remainder(_Mod):
    _prim = "remainder"


def fmod(input, other, *, out=None):
    return _out(Fmod.apply(input, other), out)


def remainder(input, other, *, out=None):
    return _out(Remainder.apply(input, other), out)


class Atan2(Function):
    @staticmethod
    def forward(ctx, a, b):
        x, y = _float_pair(a, b)
        ctx.save_for_backward(a, b)
        return be_of(a, b).arctan2(x, y)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        d = a * a + b * b
        return g * b / d, -g * a / d


def atan2(input, other, *, out=None):
    return _out(Atan2.apply(input, other), out)


arctan2 = atan2


def lerp(input, end, weight, *, out=None):
    return _out(input + weight * (end - input), out)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    return _out(input + (tensor1 * tensor2 if value == 1 else value * tensor1 * tensor2), out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    if not (is_float(tensor1) or is_float(tensor2)):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future release addcdiv will perform a true division of tensor1 and "
                           "tensor2. Use addcdiv with float tensors instead.")
    return _out(input + (tensor1 / tensor2 if value == 1 else value * (tensor1 / tensor2)), out)


# ---------------------------------------------------------------- unary math
def _unary(name, prim, grad, save="input", float_only=True, doc=""):
    """A Function computing ``backend.prim`` elementwise; ``grad(g, x, out)`` gives the
    input gradient in genesis ops. ``save`` names what backward reads."""

    def forward(ctx, a):
        x = to_float(a) if float_only else a._data
        if save == "input":
            ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return getattr(a._be, prim)(x)

    def backward(ctx, g):
        if save == "input":
            return grad(g, ctx.saved_tensors[0], None)
        if save == "output":
            return grad(g, None, ctx.output)
        return grad(g, None, None)

    cls = type(name, (Function,), {"forward": staticmethod(forward),
                                   "backward": staticmethod(backward),
                                   "_save_output": save == "output", "__doc__": doc})
    return cls


def _zero_grad(g, x, y):
    return g * 0


Neg = _unary("Neg", "negative", lambda g, x, y: -g, save=None, float_only=False)
Abs = _unary("Abs", "absolute", lambda g, x, y: g * sign(x), float_only=False)
Sign = _unary("Sign", "sign", _zero_grad, save=None, float_only=False)
Exp = _unary("Exp", "exp", lambda g, x, y: g * y, save="output")
Exp2 = _unary("Exp2", "exp2", lambda g, x, y: g * y * _LN2, save="output")
Expm1 = _unary("Expm1", "expm1", lambda g, x, y: g * (y + 1), save="output")
Log = _unary("Log", "log", lambda g, x, y: g / x)
Log2 = _unary("Log2", "log2", lambda g, x, y: g / (x * _LN2))
Log10 = _unary("Log10", "log10", lambda g, x, y: g / (x * _LN10))
Log1p = _unary("Log1p", "log1p", lambda g, x, y: g / (x + 1))
Sqrt = _unary("Sqrt", "sqrt", lambda g, x, y: g / (y * 2), save="output")
Rsqrt = _unary("Rsqrt", "rsqrt", lambda g, x, y: g * (y * y * y) * -0.5, save="output")
Sin = _unary("Sin", "sin", lambda g, x, y: g * cos(x))
Cos = _unary("Cos", "cos", lambda g, x, y: -g * sin(x))
Tan = _unary("Tan", "tan", lambda g, x, y: g * (y * y + 1), save="output")
Tanh = _unary("Tanh", "tanh", lambda g, x, y: g * (1 - y * y), save="output")
Sinh = _unary("Sinh", "sinh", lambda g, x, y: g * cosh(x))
Cosh = _unary("Cosh", "cosh", lambda g, x, y: g * sinh(x))
Asin = _unary("Asin", "arcsin", lambda g, x, y: g * rsqrt(1 - x * x))
Acos = _unary("Acos", "arccos", lambda g, x, y: -g * rsqrt(1 - x * x))
Atan = _unary("Atan", "arctan", lambda g, x, y: g / (x * x + 1))
Sigmoid = _unary("Sigmoid", "sigmoid", lambda g, x, y: g * y * (1 - y), save="output")
Erf = _unary("Erf", "erf", lambda g, x, y: g * (2 / math.sqrt(math.pi)) * exp(-(x * x)))
Erfinv = _unary("Erfinv", "erfinv",
                lambda g, x, y: g * (math.sqrt(math.pi) / 2) * exp(y * y), save="output")
Reciprocal = _unary("Reciprocal", "reciprocal", lambda g, x, y: -g * (y * y), save="output")
Floor = _unary("Floor", "floor", _zero_grad, save=None, float_only=False)
Ceil = _unary("Ceil", "ceil", _zero_grad, save=None, float_only=False)
Trunc = _unary("Trunc", "trunc", _zero_grad, save=None, float_only=False)
Rint = _unary("Round", "rint", _zero_grad, save=None, float_only=False)


class Relu(Function):
    _save_output = True

    @staticmethod
    def forward(ctx, a):
        return a._be.maximum(a._data, 0)

    @staticmethod
    def backward(ctx, g):
        return g * (ctx.output > 0)


def _u(cls):
    def op(input, *, out=None):
        return _out(cls.apply(input), out)
    op.__name__ = cls.__name__.lower()
    return op


neg, abs, sign, exp, exp2, expm1 = _u(Neg), _u(Abs), _u(Sign), _u(Exp), _u(Exp2), _u(Expm1)
log, log2, log10, log1p = _u(Log), _u(Log2), _u(Log10), _u(Log1p)
sqrt, rsqrt, sin, cos, tan, tanh = _u(Sqrt), _u(Rsqrt), _u(Sin), _u(Cos), _u(Tan), _u(Tanh)
sinh, cosh, asin, acos, atan = _u(Sinh), _u(Cosh), _u(Asin), _u(Acos), _u(Atan)
sigmoid, erf, erfinv, reciprocal = _u(Sigmoid), _u(Erf), _u(Erfinv), _u(Reciprocal)
floor, ceil, trunc, relu = _u(Floor), _u(Ceil), _u(Trunc), _u(Relu)
negative, absolute, arcsin, arccos, arctan, fix = neg, abs, asin, acos, atan, trunc


def round(input, *, decimals=0, out=None):
    if decimals == 0:
        return _out(Rint.apply(input), out)
    s = 10.0 ** decimals
    return _out(Rint.apply(input * s) / s, out)


def frac(input, *, out=None):
    return _out(input - trunc(input), out)


def positive(input):
    return input


# ---------------------------------------------------------------- where / clamp
class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        if cond._data.dtype != np.bool_:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {cond.dtype}")
        x, y = pair(a, b)
        ctx.save_for_backward(cond)
        return cond._be.where(cond._data, x, y)

    @staticmethod
    def backward(ctx, g):
        cond, = ctx.saved_tensors
        z = g * 0
        return (None, where(cond, g, z) if ctx.needs_input_grad[1] else None,
                where(cond, z, g) if ctx.needs_input_grad[2] else None)


def where(condition, input=None, other=None, *, out=None):
    if input is None and other is None:
        from .index import nonzero
        return nonzero(condition, as_tuple=True)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = as_tensor_like(input, condition)
    return _out(Where.apply(condition, input, other), out)


class Clamp(Function):
    @staticmethod
    def forward(ctx, a, lo, hi):
        x = a._data
        ctx.save_for_backward(a)
        ctx.lo, ctx.hi = lo, hi
        dt = x.dtype
        if CAT[dt] < 2 and (isinstance(lo, float) or isinstance(hi, float)):
            x = a._be.astype(x, default_float())
        r = a._be.clip(x, lo, hi)
        return r

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        mask = None
        if ctx.lo is not None:
            mask = a >= ctx.lo
        if ctx.hi is not None:
            m = a <= ctx.hi
            mask = m if mask is None else mask & m
        return g * mask, None, None


class ClampTensor(Function):
    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.save_for_backward(a, lo, hi)
        be, x = a._be, a._data
        if lo is not None:
            x, y = pair(a, lo)
            x = be.maximum(x, y)
        if hi is not None:
            x = be.minimum(x, pair(a, hi)[1])
        return x

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = ctx.saved_tensors
        keep = None
        glo = ghi = None
        if lo is not None:
            below = a < lo
            keep = ~below
            glo = where(below, g, 0.0) if ctx.needs_input_grad[1] else None
        if hi is not None:
            above = a > hi
            keep = ~above if keep is None else keep & ~above
            ghi = where(above, g, 0.0) if ctx.needs_input_grad[2] else None
            if glo is not None:
                glo = where(above, 0.0, glo)
        return g * keep, glo, ghi


def clamp(input, min=None, max=None, *, out=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = as_tensor_like(min, input) if min is not None else None
        hi = as_tensor_like(max, input) if max is not None else None
        return _out(ClampTensor.apply(input, lo, hi), out)
    return _out(Clamp.apply(input, min, max), out)


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


class NanToNum(Function):
    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        x = a._data
        if CAT[x.dtype] < 2:
            return x.copy()
        ctx.save_for_backward(a)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * isfinite(a), None, None, None


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    return _out(NanToNum.apply(input, nan, posinf, neginf), out)


# ---------------------------------------------------------------- comparisons, logic
def _cmp(prim):
    def op(input, other, *, out=None):
        x, y = pair(input, other)
        return _out(_make(getattr(be_of(input, other), prim)(x, y)), out)
    op.__name__ = prim
    return op


eq, ne, lt, le, gt, ge = (_cmp(p) for p in ("equal", "not_equal", "less", "less_equal",
                                            "greater", "greater_equal"))
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
logical_and, logical_or, logical_xor = (_cmp(p) for p in ("logical_and", "logical_or",
                                                           "logical_xor"))


def _bitwise(prim):
    def op(input, other, *, out=None):
        x, y = pair(input, other)
        for v in (x, y):
            if (v.dtype if isinstance(v, np.ndarray) else np.asarray(v).dtype) in FLOAT_NP or \
                    isinstance(v, float):
                raise RuntimeError(f'"{prim}_cpu" not implemented for \'Float\': bitwise ops '
                                   "take integral or bool tensors")
        return _out(_make(getattr(be_of(input, other), prim)(x, y)), out)
    op.__name__ = prim
    return op


bitwise_and, bitwise_or, bitwise_xor = (_bitwise(p) for p in ("bitwise_and", "bitwise_or",
                                                               "bitwise_xor"))
bitwise_left_shift, bitwise_right_shift = _bitwise("left_shift"), _bitwise("right_shift")


def bitwise_not(input, *, out=None):
    if is_float(input):
        raise RuntimeError("bitwise_not is only defined for integral and bool tensors, got "
                           f"{input.dtype}")
    return _out(_make(input._be.invert(input._data)), out)


def logical_not(input, *, out=None):
    return _out(_make(input._be.logical_not(input._data)), out)


def isnan(input):
    return _make(input._be.isnan(input._data))


def isinf(input):
    return _make(input._be.isinf(input._data))


def isfinite(input):
    return _make(input._be.isfinite(input._data))


def isposinf(input):
    return isinf(input) & (input > 0)


def isneginf(input):
    return isinf(input) & (input < 0)


def signbit(input):
    return _make(np.signbit(input._data))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    x, y = pair(input, other)
    return _make(np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(np.all(isclose(input, other, rtol, atol, equal_nan)._data))


def equal(input, other):
    return input.shape == other.shape and bool(np.all(input._data == other._data))


# ---------------------------------------------------------------- copy and fill
class Copy(Function):
    @staticmethod
    def forward(ctx, dst, src):
        ctx.src_meta = src._data.dtype
        return np.broadcast_to(src._data, dst._data.shape).astype(dst._data.dtype)

    @staticmethod
    def backward(ctx, g):
        return g * 0, g


def copy_(self, src, non_blocking=False):
    if not isinstance(src, Tensor):
        src = as_tensor_like(src, self)
    if self._data.shape != src._data.shape:
        try:
            np.broadcast_shapes(src._data.shape, self._data.shape)
            if np.broadcast_shapes(src._data.shape, self._data.shape) != self._data.shape:
                raise ValueError
        except ValueError:
            raise RuntimeError(f"The size of tensor a ({list(self.shape)}) must match the size "
                               f"of tensor b ({list(src.shape)}) for copy_: src must broadcast "
                               "to the destination's shape") from None
    if check_inplace(self, src):
        return commit_inplace(self, Copy.apply(snapshot(self), src))
    if src._be is not self._be:
        data = self._be.from_host(src._be.to_host(src._data), self._data.dtype)
    else:
        data = src._data
    self._be.copyto(self._data, data, casting="unsafe")
    self._bump_version()
    return self


def fill_(self, value):
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value._data.ndim} dimensions.")
        if check_inplace(self, value):
            return commit_inplace(self, Copy.apply(snapshot(self), value))
        value = value.item()
    if check_inplace(self):
        return commit_inplace(self, snapshot(self) * 0 + value)
    self._data[...] = value
    self._bump_version()
    return self


def zero_(self):
    return fill_(self, 0)


# ---------------------------------------------------------------- in-place forms
def _inplace_binary(op, prim):
    def method(self, other, **kwargs):
        return inplace(self, op, other, prim=prim if not kwargs else None, **kwargs)
    method.__name__ = op.__name__ + "_"
    return method


def _inplace_unary(op, prim):
    def method(self, *args, **kwargs):
        if not args and not kwargs and not check_inplace(self) and prim and is_float(self):
            getattr(self._be, prim)(self._data, out=self._data)
            self._bump_version()
            return self
        return inplace(self, op, *args, **kwargs)
    method.__name__ = op.__name__ + "_"
    return method


def _rev(op):
    def method(self, other):
        return op(other, self)
    return method


def _radd(self, other):
    return Add.apply(self, other, 1)


def _rmul(self, other):
    return Mul.apply(self, other)


def _rsub(self, other):
    return Sub.apply(other, self, 1)


def _rdiv(self, other):
    return Div.apply(other, self)


def _rpow(self, other):
    return Pow.apply(other, self)


def _operator(op):
    def method(self, other):
        return op(self, other)
    return method


def _not_impl(op):
    def method(self, other):
        if not isinstance(other, (Tensor, int, float, bool, np.generic)):
            return NotImplemented
        return op(self, other)
    return method


TENSOR_METHODS = {
    "add": add, "sub": sub, "subtract": sub, "mul": mul, "multiply": mul, "div": div,
    "divide": div, "true_divide": true_divide, "floor_divide": floor_divide, "pow": pow,
    "maximum": maximum, "minimum": minimum, "fmod": fmod, "remainder": remainder,
    "atan2": atan2, "arctan2": atan2, "lerp": lerp, "addcmul": addcmul, "addcdiv": addcdiv,
    "neg": neg, "negative": neg, "abs": abs, "absolute": abs, "sign": sign, "exp": exp,
    "exp2": exp2, "expm1": expm1, "log": log, "log2": log2, "log10": log10, "log1p": log1p,
    "sqrt": sqrt, "rsqrt": rsqrt, "sin": sin, "cos": cos, "tan": tan, "tanh": tanh,
    "sinh": sinh, "cosh": cosh, "asin": asin, "acos": acos, "atan": atan, "arcsin": asin,
    "arccos": acos, "arctan": atan, "sigmoid": sigmoid, "relu": relu, "erf": erf,
    "erfinv": erfinv, "floor": floor, "ceil": ceil, "round": round, "trunc": trunc,
    "fix": trunc, "frac": frac, "reciprocal": reciprocal, "square": square, "clamp": clamp,
    "clip": clamp, "clamp_min": clamp_min, "clamp_max": clamp_max, "where":
    lambda self, condition, other: where(condition, self, other),
    "nan_to_num": nan_to_num, "isnan": isnan, "isinf": isinf, "isfinite": isfinite,
    "isposinf": isposinf, "isneginf": isneginf, "signbit": signbit,
    "isclose": isclose, "allclose": allclose, "equal": equal,
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "greater": gt,
    "greater_equal": ge, "less": lt, "less_equal": le, "not_equal": ne,
    "logical_and": logical_and, "logical_or": logical_or, "logical_xor": logical_xor,
    "logical_not": logical_not, "bitwise_and": bitwise_and, "bitwise_or": bitwise_or,
    "bitwise_xor": bitwise_xor, "bitwise_not": bitwise_not,
    "bitwise_left_shift": bitwise_left_shift, "bitwise_right_shift": bitwise_right_shift,
    "copy_": copy_, "fill_": fill_, "zero_": zero_,
    # Python operators
    "__add__": _not_impl(add), "__radd__": _radd, "__iadd__": None,
    "__sub__": _not_impl(sub), "__rsub__": _rsub, "__mul__": _not_impl(mul),
    "__rmul__": _rmul, "__truediv__": _not_impl(div), "__rtruediv__": _rdiv,
    "__floordiv__": _not_impl(floor_divide), "__rfloordiv__": _rev(floor_divide),
    "__mod__": _not_impl(remainder), "__rmod__": _rev(remainder),
    "__pow__": _not_impl(pow), "__rpow__": _rpow, "__neg__": neg, "__pos__": positive,
    "__abs__": abs, "__invert__": lambda self: (logical_not(self) if self._data.dtype == np.bool_
                                                else bitwise_not(self)),
    "__eq__": _not_impl(eq), "__ne__": _not_impl(ne), "__lt__": _not_impl(lt),
    "__le__": _not_impl(le), "__gt__": _not_impl(gt), "__ge__": _not_impl(ge),
    "__and__": _not_impl(bitwise_and), "__or__": _not_impl(bitwise_or),
    "__xor__": _not_impl(bitwise_xor), "__rand__": _not_impl(bitwise_and),
    "__ror__": _not_impl(bitwise_or), "__rxor__": _not_impl(bitwise_xor),
    "__lshift__": _not_impl(bitwise_left_shift), "__rshift__": _not_impl(bitwise_right_shift),
}

# in-place forms: t.op_(...) and the augmented assignment operators
for _name, _prim in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                     ("div", "divide"), ("pow", "power"), ("maximum", None),
                     ("minimum", None), ("fmod", "fmod"), ("remainder", "remainder"),
                     ("atan2", None), ("lerp", None), ("addcmul", None), ("addcdiv", None),
                     ("floor_divide", None), ("true_divide", None), ("clamp", None),
                     ("clip", None), ("clamp_min", None), ("clamp_max", None),
                     ("bitwise_and", "bitwise_and"), ("bitwise_or", "bitwise_or"),
                     ("bitwise_xor", "bitwise_xor"), ("logical_and", None),
                     ("logical_or", None), ("logical_xor", None), ("eq", None), ("ne", None),
                     ("lt", None), ("le", None), ("gt", None), ("ge", None),
                     ("where", None), ("nan_to_num", None), ("round", None), ("square", None)):
    TENSOR_METHODS[_name + "_"] = _inplace_binary(TENSOR_METHODS[_name], _prim)
for _name, _prim in (("neg", "negative"), ("abs", "absolute"), ("sign", "sign"),
                     ("exp", "exp"), ("exp2", "exp2"), ("expm1", "expm1"), ("log", "log"),
                     ("log2", "log2"), ("log10", "log10"), ("log1p", "log1p"),
                     ("sqrt", "sqrt"), ("rsqrt", "rsqrt"), ("sin", "sin"), ("cos", "cos"),
                     ("tan", "tan"), ("tanh", "tanh"), ("sinh", "sinh"), ("cosh", "cosh"),
                     ("asin", "arcsin"), ("acos", "arccos"), ("atan", "arctan"),
                     ("sigmoid", "sigmoid"), ("relu", None), ("erf", "erf"),
                     ("erfinv", "erfinv"), ("floor", "floor"), ("ceil", "ceil"),
                     ("trunc", "trunc"), ("frac", None), ("reciprocal", "reciprocal"),
                     ("logical_not", None), ("bitwise_not", None), ("fix", "trunc")):
    TENSOR_METHODS[_name + "_"] = _inplace_unary(TENSOR_METHODS[_name], _prim)
TENSOR_METHODS["negative_"] = TENSOR_METHODS["neg_"]
TENSOR_METHODS["absolute_"] = TENSOR_METHODS["abs_"]
TENSOR_METHODS["round_"] = _inplace_unary(round, None)
for _op, _name in (("__iadd__", "add_"), ("__isub__", "sub_"), ("__imul__", "mul_"),
                   ("__itruediv__", "div_"), ("__ipow__", "pow_"), ("__imod__", "remainder_"),
                   ("__ifloordiv__", "floor_divide_"), ("__iand__", "bitwise_and_"),
                   ("__ior__", "bitwise_or_"), ("__ixor__", "bitwise_xor_")):
    TENSOR_METHODS[_op] = TENSOR_METHODS[_name]
