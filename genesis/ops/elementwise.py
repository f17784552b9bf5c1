"""Elementwise ops: arithmetic, math functions, comparisons, logical and bitwise ops,
where/clamp, and their in-place forms. Broadcasting in backward is undone by the engine."""
import math

import numpy as np

from ..autograd.function import Function, broadcast_error
from ..dtypes import SCALAR_NAMES, _by_np, finfo, result_type
from ..tensor import Tensor, _make
from ..backend import cpu as _cpu
from .common import (pair, be_of, is_float, default_float, inplace, check_inplace,
                     commit_inplace, snapshot, as_tensor_like, fill_scalar, write_out, CAT,
                     FLOAT_NP, _BF16, INT_RANGE, LOW_FLOAT_NP, F32, opmath_scalar)

# public functions, named as torch's (the star import in genesis/__init__ takes these)
__all__ = [
    "abs", "absolute", "acos", "add", "addcdiv", "addcmul", "allclose", "arccos", "arcsin",
    "arctan", "arctan2", "asin", "atan", "atan2", "bitwise_and", "bitwise_left_shift",
    "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor", "ceil", "clamp",
    "clamp_max", "clamp_min", "clip", "cos", "cosh", "div", "divide", "eq", "equal", "erf",
    "erfinv", "exp", "exp2", "expm1", "fill_", "fix", "floor", "floor_divide", "fmod", "frac",
    "ge", "greater", "greater_equal", "gt", "isclose", "isfinite", "isinf", "isnan",
    "isneginf", "isposinf", "le", "lerp", "less", "less_equal", "log", "log10", "log1p",
    "log2", "logical_and", "logical_not", "logical_or", "logical_xor", "lt", "maximum",
    "minimum", "mul", "multiply", "nan_to_num", "ne", "neg", "negative", "not_equal",
    "positive", "pow", "reciprocal", "relu", "remainder", "round", "rsqrt", "rsub", "sigmoid",
    "sign", "signbit", "sin", "sinh", "sqrt", "square", "sub", "subtract", "tan", "tanh",
    "true_divide", "trunc", "where", "zero_",
]

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_BOOL = np.dtype(np.bool_)


# ---------------------------------------------------------------- binary arithmetic
def _f32(be, v):
    return F32.type(v) if isinstance(v, (int, float, np.generic)) else be.astype(v, F32)


def _add_scaled(be, x, y, alpha, sub):
    """x + alpha * y (x - alpha * y with ``sub``) for add/sub with alpha != 1. In float16
    and bfloat16 as PyTorch: alpha rounded to the dtype, computed in float32, rounded once."""
    dt = _res_dtype(x, y)
    if dt in LOW_FLOAT_NP:
        a = F32.type(dt.type(alpha))
        r = (be.subtract if sub else be.add)(_f32(be, x), be.multiply(_f32(be, y), a))
        return be.astype(r, dt)
    y = _scaled(be, x, y, alpha)
    return be.subtract(x, y) if sub else be.add(x, y)


def _scaled(be, x, y, alpha):
    """y * alpha for add/sub, in the promoted dtype of x and y."""
    if type(alpha) is float:
        dt = _res_dtype(x, y)
        if dt not in FLOAT_NP:
            raise RuntimeError("For integral input tensors, argument alpha must not be a "
                               "floating point number.")
        if dt is _BF16:              # NumPy would promote to float32
            alpha = _BF16.type(alpha)
    # a Python scalar y stays one (weak in the promotion that follows)
    return y * alpha if type(y) in _SCALARS else be.multiply(y, alpha)


class Add(Function):
    alpha = 1

    @staticmethod
    def forward(ctx, a, b, alpha):
        if alpha == 1 and isinstance(a, Tensor) and isinstance(b, Tensor):
            x, y = a._data, b._data
            if x.dtype == y.dtype and a._be is b._be:
                return a._be.add(x, y)      # the common case: no promotion
        x, y = pair(a, b)       # checks that tensors a and b share a backend
        be = a._be if isinstance(a, Tensor) else b._be
        if alpha != 1:
            ctx.alpha = alpha
            return _add_scaled(be, x, y, alpha, False)
        return be.add(x, y)

    @staticmethod
    def backward(ctx, g):
        return g, (g if ctx.alpha == 1 else g * ctx.alpha), None


def _is_bool(v):
    return v._data.dtype == _BOOL if isinstance(v, Tensor) else type(v) is bool


class Sub(Function):
    alpha = 1

    @staticmethod
    def forward(ctx, a, b, alpha):
        if alpha == 1 and isinstance(a, Tensor) and isinstance(b, Tensor):
            x, y = a._data, b._data
            if x.dtype == y.dtype and x.dtype != _BOOL and a._be is b._be:
                return a._be.subtract(x, y)     # the common case: no promotion
        if (a._data.dtype == _BOOL if isinstance(a, Tensor) else type(a) is bool) or \
                (b._data.dtype == _BOOL if isinstance(b, Tensor) else type(b) is bool):
            if _is_bool(a) and _is_bool(b):
                raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is "
                                   "not supported. Use the `^` or `logical_xor()` operator "
                                   "instead.")
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                               "supported. If you are trying to invert a mask, use the `~` "
                               "or `logical_not()` operator instead.")
        x, y = pair(a, b)
        be = a._be if isinstance(a, Tensor) else b._be
        if alpha != 1:
            ctx.alpha = alpha
            return _add_scaled(be, x, y, alpha, True)
        return be.subtract(x, y)

    @staticmethod
    def backward(ctx, g):
        return g, (_neg_apply(g) if ctx.alpha == 1 else g * -ctx.alpha), None


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        need = ctx.needs_input_grad
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            x, y = a._data, b._data
            if x.dtype == y.dtype and a._be is b._be and x.dtype not in LOW_FLOAT_NP:
                # the common case inlined: no promotion, and two saved tensors without
                # version boxes need no versions written down (see save_for_backward)
                if need:
                    if a._ver or b._ver:
                        ctx.save_for_backward(a if need[1] else None, b if need[0] else None)
                    else:
                        ctx._saved = (a if need[1] else None, b if need[0] else None)
                return a._be.multiply(x, y)
        x, y = pair(a, b)
        if need:        # only when recording the graph; each operand only for the other's grad
            ctx.save_for_backward(a if need[1] else None, b if need[0] else None)
        if isinstance(a, Tensor):
            be = a._be
            if x.dtype in LOW_FLOAT_NP:
                s = opmath_scalar(x, b)
                if s is not None:
                    return be.astype(be.multiply(x, s), x.dtype)
            return be.multiply(x, y)
        return b._be.multiply(x, y)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        if need[0] and need[1]:
            if a is b:      # x * x: one gradient, 2 * g * x (as g*x + g*x, exactly)
                return SquareBackward.apply(g, a), None
            return MulBackward.apply(g, a, b)
        return (g * b if need[0] else None), (g * a if need[1] else None)


class MulBackward(Function):
    """Both input gradients of a * b, (g * b, g * a), in one op; differentiable."""

    @staticmethod
    def forward(ctx, g, a, b):
        if ctx.needs_input_grad:
            ctx.save_for_backward(g, a, b)
        be, gd = g._be, g._data
        return be.multiply(gd, b._data), be.multiply(gd, a._data)

    @staticmethod
    def backward(ctx, ga_bar, gb_bar):
        g, a, b = ctx.saved_tensors
        return ga_bar * b + gb_bar * a, gb_bar * g, ga_bar * g


def _float_pair(a, b):
    """pair(a, b), in the default float dtype when the promoted dtype is not floating."""
    x, y = pair(a, b)
    if _res_dtype(x, y) not in FLOAT_NP:
        f = default_float()
        be = be_of(a, b)
        # NumPy scalars of f: a Python float would promote bfloat16 to float32
        x = f.type(x) if type(x) in _SCALARS else be.astype(x, f)
        y = f.type(y) if type(y) in _SCALARS else be.astype(y, f)
    return x, y


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        x, y = _float_pair(a, b)
        need = ctx.needs_input_grad
        if need:        # a only for b's gradient; Python scalars are kept as they are
            ctx.save_for_backward(a if need[1] else None, b)
        be = be_of(a, b)
        if isinstance(a, Tensor) and x.dtype in LOW_FLOAT_NP:
            s = opmath_scalar(x, b)
            if s is not None:
                return be.astype(be.divide(x, s), x.dtype)
        return be.divide(x, y)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g / b if ctx.needs_input_grad[0] else None
        gb = -g * a / (b * b) if ctx.needs_input_grad[1] else None
        return ga, gb


def _check_int_divisor(be, y):
    if (y == 0) if type(y) in _SCALARS else be.any(be.equal(y, 0)):
        raise RuntimeError("ZeroDivisionError")


def _int_div(be, x, y, mode):
    _check_int_divisor(be, y)
    q = be.floor_divide(x, y)
    if mode == "trunc":     # floor rounds down where the signs differ and r != 0
        r = be.remainder(x, y)
        fix = be.logical_and(be.not_equal(r, 0), be.not_equal(be.less(x, 0), be.less(y, 0)))
        q = be.add(q, be.astype(fix, q.dtype))
    return q


class DivRounding(Function):
    @staticmethod
    def forward(ctx, a, b, mode):
        be = be_of(a, b)
        x, y = pair(a, b)
        dt = _res_dtype(x, y)
        if dt not in FLOAT_NP:
            if dt == _BOOL:
                raise _not_implemented(f"div_{mode}", dt)
            return _int_div(be, x, y, mode)
        if dt in LOW_FLOAT_NP:
            # as PyTorch: in float32 by a scalar divisor (unrounded); between tensors
            # floor in float32 but trunc of the quotient rounded to the dtype
            s = opmath_scalar(x, b) if isinstance(a, Tensor) else None
            if s is not None or mode == "floor":
                x, y = _f32(be, x), (_f32(be, y) if s is None else s)
                r = be.trunc(be.divide(x, y)) if mode == "trunc" else be.floor_divide(x, y)
                return be.astype(r, dt)
        if mode == "trunc":
            return be.trunc(be.divide(x, y))
        return be.floor_divide(x, y)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g), _zeros(g) if ctx.needs_input_grad[1] else None, None


def add(input, other, *, alpha=1, out=None):
    return write_out(Add.apply(input, other, alpha), out)


def sub(input, other, *, alpha=1, out=None):
    return write_out(Sub.apply(input, other, alpha), out)


def rsub(input, other, *, alpha=1):
    return Sub.apply(other, input * alpha if alpha != 1 else input, 1)


def mul(input, other, *, out=None):
    return write_out(Mul.apply(input, other), out)


def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is None:
        r = Div.apply(input, other)
    elif rounding_mode in ("trunc", "floor"):
        r = DivRounding.apply(input, other, rounding_mode)
    else:
        raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    return write_out(r, out)


subtract, multiply, divide = sub, mul, div


def floor_divide(input, other, *, out=None):
    return div(input, other, rounding_mode="floor", out=out)


def true_divide(input, other, *, out=None):
    return div(input, other, out=out)


_SCALARS = (int, float, bool, np.dtype(_BF16).type)


def _res_dtype(x, y):
    """The dtype of two operands from ``pair`` (one may be a scalar)."""
    return y.dtype if type(x) in _SCALARS else x.dtype


def _check_scalar_fits(s, t):
    """PyTorch's error for an int scalar out of t's integral dtype, where an op checks the
    scalar rather than casting it (pow's exponent, where's values)."""
    if t._data.dtype in INT_RANGE:
        fill_scalar(s, t._data.dtype)


def _int_pow(be, x, y):
    """Integer powers with negative exponents, as torch: 1 and -1 raised to them keep
    their value and parity, any other base gives 0."""
    r = be.power(x, be.maximum(y, 0))
    odd = be.not_equal(be.bitwise_and(y, 1), 0)
    neg_one = be.where(odd, -1, 1)
    special = be.where(be.equal(x, 1), 1, be.where(be.equal(x, -1), neg_one, 0))
    out = be.where(be.less(y, 0), special, r)
    return out if out.dtype == r.dtype else be.astype(out, r.dtype)


class Pow(Function):
    _save_output = True

    @staticmethod
    def forward(ctx, a, b):
        x, y = pair(a, b)
        dt = _res_dtype(x, y)
        if dt.kind in "biu":
            if dt == _BOOL:
                raise NotImplementedError('"pow" not implemented for \'Bool\'')
            if type(b) is int:
                _check_scalar_fits(b, a)
            if type(y) in _SCALARS:
                if b < 0:       # b itself: pair wraps -1 to 255 for uint8
                    raise RuntimeError("Integers to negative integer powers are not "
                                       "allowed.")
            elif be_of(a, b).any(be_of(a, b).less(y, 0)):
                return _int_pow(be_of(a, b), x, y)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, b)     # Python scalars are kept as they are
        return be_of(a, b).power(x, y)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if isinstance(b, Tensor):     # x ** 0 has gradient 0, also at x = 0
                ga = where(b == 0, 0.0, g * b * a ** (b - 1))
            else:
                ga = _zeros(g) if b == 0 else g * b * a ** (b - 1)
        if ctx.needs_input_grad[1]:
            out = ctx.output
            # 0 ** y has gradient 0 in y for y >= 0; g multiplies it, as in PyTorch (an
            # inf or nan g gives nan there)
            if isinstance(a, Tensor):
                if a._data.dtype != out._data.dtype:    # log(a) in the result's dtype, as torch
                    a = a.to(out.dtype)
                gb = g * where((a == 0) & (b >= 0), 0.0, out * log(a))
            else:
                la = math.log(a) if a > 0 else (-math.inf if a == 0 else math.nan)
                gb = g * (where(b >= 0, 0.0, out * la) if a == 0 else out * la)
        return ga, gb


def pow(input, exponent, *, out=None):
    if not isinstance(input, Tensor):
        return write_out(Pow.apply(input, exponent), out)
    te = type(exponent)
    if te is bool:
        if input._data.dtype == _BOOL:     # b ** True is b, b ** False all True
            return write_out(_make(input._be.logical_or(input._data, not exponent)), out)
        exponent, te = int(exponent), int
    if te is int or te is float:
        if exponent == 2 and is_float(input):
            return write_out(Square.apply(input), out)
        if exponent == 1:
            return write_out(Mul.apply(input, 1), out)
    return write_out(Pow.apply(input, exponent), out)


class Square(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a._be.multiply(a._data, a._data)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return SquareBackward.apply(g, a)


class SquareBackward(Function):
    """(g * x) * 2, the gradient of x * x, as one op; differentiable."""

    @staticmethod
    def forward(ctx, g, a):
        if ctx.needs_input_grad:
            ctx.save_for_backward(g, a)
        be = g._be
        r = be.multiply(g._data, a._data)
        return be.multiply(r, 2, r) if r.ndim else be.multiply(r, 2)

    @staticmethod
    def backward(ctx, gg):
        g, a = ctx.saved_tensors
        return SquareBackward.apply(gg, a), SquareBackward.apply(gg, g)


def square(input):
    # integers square as pow(x, 2): bool gives int64
    return Square.apply(input) if is_float(input) else Pow.apply(input, 2)


class _MaxMin(Function):
    @staticmethod
    def forward(ctx, a, b):
        x, y = pair(a, b)
        ctx.save_for_backward(a, b)
        return getattr(be_of(a, b), ctx._prim)(x, y)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # as PyTorch: g to both at a tie (halved) and at a NaN, 0 to the strict loser
        lt, gt = a < b, a > b
        a_lost, b_lost = (lt, gt) if ctx._prim == "maximum" else (gt, lt)
        g = where(a == b, g * 0.5, g)
        ga = where(a_lost, 0.0, g) if ctx.needs_input_grad[0] else None
        gb = where(b_lost, 0.0, g) if ctx.needs_input_grad[1] else None
        return ga, gb


class Maximum(_MaxMin):
    _prim = "maximum"


class Minimum(_MaxMin):
    _prim = "minimum"


def maximum(input, other, *, out=None):
    return write_out(Maximum.apply(input, other), out)


def minimum(input, other, *, out=None):
    return write_out(Minimum.apply(input, other), out)


class _Mod(Function):
    @staticmethod
    def forward(ctx, a, b):
        x, y = pair(a, b)
        kind = _res_dtype(x, y).kind
        if kind in "iu":
            _check_int_divisor(be_of(a, b), y)
        elif kind == "b":
            raise _not_implemented(ctx._prim, _BOOL)
        need = ctx.needs_input_grad
        if need and need[1]:      # only b's gradient reads the operands
            ctx.save_for_backward(a, b)
        return getattr(be_of(a, b), ctx._prim)(x, y)

    @staticmethod
    def backward(ctx, g):
        gb = None
        if ctx.needs_input_grad[1]:
            a, b = ctx.saved_tensors
            q = div(a, b, rounding_mode="trunc" if ctx._prim == "fmod" else "floor")
            gb = -g * q
        return g if ctx.needs_input_grad[0] else None, gb


class Fmod(_Mod):
    _prim = "fmod"


class Remainder(_Mod):
    _prim = "remainder"


def fmod(input, other, *, out=None):
    return write_out(Fmod.apply(input, other), out)


def remainder(input, other, *, out=None):
    return write_out(Remainder.apply(input, other), out)


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
        d = where(d == 0, 1.0, d)     # torch's gradient at (0, 0) is 0
        return g * b / d, -g * a / d


def atan2(input, other, *, out=None):
    return write_out(Atan2.apply(input, other), out)


arctan2 = atan2


# C++ type names in torch's dtype-mismatch messages
_CPP_NAMES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double",
              np.dtype(np.float16): "c10::Half", _BF16: "c10::BFloat16",
              np.dtype(np.int64): "long int", np.dtype(np.int32): "int",
              np.dtype(np.int16): "short int", np.dtype(np.int8): "signed char",
              np.dtype(np.uint8): "unsigned char", _BOOL: "bool"}


def _expect_dtype(dt, t, name):
    if t._data.dtype != dt:
        raise RuntimeError(f"expected dtype {_CPP_NAMES[dt]} for `{name}` but got dtype "
                           f"{_CPP_NAMES[t._data.dtype]}")


def lerp(input, end, weight, *, out=None):
    # torch has no type promotion here: end (and a weight with dims) must match input
    dt = input._data.dtype
    _expect_dtype(dt, end, "end")
    w_tensor = isinstance(weight, Tensor)
    if w_tensor and weight._data.ndim:
        _expect_dtype(dt, weight, "weight")
    if dt not in FLOAT_NP:
        raise NotImplementedError(f'"lerp_kernel_{"tensor" if w_tensor else "scalar"}" not '
                                  f"implemented for '{SCALAR_NAMES[input.dtype]}'")
    if dt in LOW_FLOAT_NP:      # in float32, rounded once, as PyTorch
        w = weight.float() if w_tensor else weight
        return write_out((input.float() + w * (end.float() - input.float())).to(input.dtype),
                         out)
    return write_out(input + weight * (end - input), out)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    if not is_float(input):     # a float input makes a float result: nothing to check
        rt = result_type(input, tensor1, tensor2).np
        if rt == _BOOL:
            raise NotImplementedError("\"addcmul_cpu_out\" not implemented for 'Bool'")
        if rt not in FLOAT_NP:
            value = fill_scalar(value, rt)   # torch casts value to an integral result
    rt = result_type(input, tensor1, tensor2)
    if rt.np in LOW_FLOAT_NP:   # in float32 (value too), rounded once, as PyTorch
        r = input.float() + value * (tensor1.float() * tensor2.float())
        return write_out(r.to(rt), out)
    return write_out(input + (tensor1 * tensor2 if value == 1 else value * tensor1 * tensor2), out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    if not (is_float(tensor1) or is_float(tensor2)):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future release addcdiv will perform a true division of tensor1 and "
                           "tensor2. Use addcdiv with float tensors instead.")
    rt = result_type(input, tensor1, tensor2)
    if rt.np in LOW_FLOAT_NP:   # in float32 (value too), rounded once, as PyTorch
        r = input.float() + value * (tensor1.float() / tensor2.float())
        return write_out(r.to(rt), out)
    return write_out(input + (tensor1 / tensor2 if value == 1 else value * (tensor1 / tensor2)), out)


# ---------------------------------------------------------------- unary math
def _unary(name, prim, grad, save="input", ints="float", no_bool=None):
    """A Function computing ``backend.prim`` elementwise; ``grad(g, x, out)`` gives the
    input gradient in genesis ops. ``save`` names what backward reads. Integer and bool
    inputs (``ints``): "float" computes in the default float dtype, "keep" applies prim
    to them, "copy" returns them unchanged (rounding). ``no_bool``: (exception type,
    message) raised for bool inputs, as torch has no kernel for them."""

    def forward(ctx, a):
        x = a._data
        if x.dtype not in FLOAT_NP:
            if no_bool is not None and x.dtype == _BOOL:
                raise no_bool[0](no_bool[1])
            if ints == "float":
                x = a._be.astype(x, default_float())
            elif ints == "copy" or x.dtype == _BOOL:     # sign of a bool is itself
                return a._be.copy(x)
        if save_input:
            if a._ver:
                ctx.save_for_backward(a)
            else:               # no version box: nothing to write down (save_for_backward)
                ctx._saved = (a,)
        return getattr(a._be, prim)(x)

    save_input = save == "input"
    if save_input:
        def backward(ctx, g):
            return grad(g, ctx.saved_tensors[0], None)
    elif save == "output":
        def backward(ctx, g):
            return grad(g, None, ctx.output)
    else:
        def backward(ctx, g):
            return grad(g, None, None)

    return type(name, (Function,), {"forward": staticmethod(forward),
                                    "backward": staticmethod(backward),
                                    "_save_output": save == "output"})


class TanhBackward(Function):
    """g * (1 - y^2) as one op (three on the hot path of every tanh); differentiable."""

    @staticmethod
    def forward(ctx, g, y):
        if ctx.needs_input_grad:
            ctx.save_for_backward(g, y)
        be, yd = y._be, y._data
        return be.multiply(g._data, be.subtract(1, be.multiply(yd, yd)))

    @staticmethod
    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        return gg * (1 - y * y), gg * g * y * -2


class SigmoidBackward(Function):
    """g * y * (1 - y) as one op; differentiable."""

    @staticmethod
    def forward(ctx, g, y):
        if ctx.needs_input_grad:
            ctx.save_for_backward(g, y)
        be, yd = y._be, y._data
        return be.multiply(be.multiply(g._data, yd), be.subtract(1, yd))

    @staticmethod
    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        return gg * y * (1 - y), gg * g * (1 - 2 * y)


def _not_for_bool(kernel):
    return NotImplementedError, f'"{kernel}" not implemented for \'Bool\''


def _zeros(g):
    """An exact zero gradient shaped as g: g * 0 would turn an inf or nan in g into nan,
    where torch's gradient of a piecewise-constant op is 0."""
    return _make(g._be.full(g._data.shape, 0, g._data.dtype))


def _zero_grad(g, x, y):
    return _zeros(g)


Neg = _unary("Neg", "negative", lambda g, x, y: -g, save=None, ints="keep",
             no_bool=(RuntimeError, "Negation, the `-` operator, on a bool tensor is not "
                      "supported. If you are trying to invert a mask, use the `~` or "
                      "`logical_not()` operator instead."))
Abs = _unary("Abs", "absolute", lambda g, x, y: AbsBackward.apply(g, x), ints="keep",
             no_bool=_not_for_bool("abs_cpu"))


def _sign(be, x):
    """PyTorch's sign of a float array: NumPy's sign(nan) is nan, PyTorch's 0. One
    reduction finds a NaN (a sum of -1/0/1 is NaN only then) in place of isnan + where
    on every call."""
    r = be.sign(x)
    if be is not _cpu:          # no host sync on a device: mask unconditionally
        return be.where(be.isnan(x), 0, r)
    s = be.sum(r)
    if s != s:
        r = be.where(be.isnan(x), 0, r)
    return r


class AbsBackward(Function):
    """g * sign(x) as one op, with sign(nan) = 0 as PyTorch's; differentiable in g (the
    gradient in x is 0 almost everywhere)."""

    @staticmethod
    def forward(ctx, g, a):
        if ctx.needs_input_grad:
            ctx.save_for_backward(a)
        be = g._be
        return be.multiply(g._data, _sign(be, a._data))

    @staticmethod
    def backward(ctx, gg):
        a, = ctx.saved_tensors
        return AbsBackward.apply(gg, a), None


class Sign(Function):
    @staticmethod
    def forward(ctx, a):
        be, x = a._be, a._data
        if x.dtype == _BOOL:        # the sign of a bool is itself
            return be.copy(x)
        return _sign(be, x) if x.dtype in FLOAT_NP else be.sign(x)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g)


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
Tanh = _unary("Tanh", "tanh", lambda g, x, y: TanhBackward.apply(g, y), save="output")
Sinh = _unary("Sinh", "sinh", lambda g, x, y: g * cosh(x))
Cosh = _unary("Cosh", "cosh", lambda g, x, y: g * sinh(x))
Asin = _unary("Asin", "arcsin", lambda g, x, y: g * rsqrt(1 - x * x))
Acos = _unary("Acos", "arccos", lambda g, x, y: -g * rsqrt(1 - x * x))
Atan = _unary("Atan", "arctan", lambda g, x, y: g / (x * x + 1))
Sigmoid = _unary("Sigmoid", "sigmoid", lambda g, x, y: SigmoidBackward.apply(g, y),
                 save="output")
Erf = _unary("Erf", "erf", lambda g, x, y: g * (2 / math.sqrt(math.pi)) * exp(-(x * x)))
Erfinv = _unary("Erfinv", "erfinv",
                lambda g, x, y: g * (math.sqrt(math.pi) / 2) * exp(y * y), save="output")
Reciprocal = _unary("Reciprocal", "reciprocal", lambda g, x, y: -g * (y * y), save="output")
Floor = _unary("Floor", "floor", _zero_grad, save=None, ints="copy",
               no_bool=_not_for_bool("floor_vml_cpu"))
Ceil = _unary("Ceil", "ceil", _zero_grad, save=None, ints="copy",
              no_bool=_not_for_bool("ceil_vml_cpu"))
Trunc = _unary("Trunc", "trunc", _zero_grad, save=None, ints="copy",
               no_bool=_not_for_bool("trunc_vml_cpu"))
Rint = _unary("Round", "rint", _zero_grad, save=None, ints="copy",
              no_bool=_not_for_bool("round_vml_cpu"))


class Relu(Function):
    _save_output = True

    @staticmethod
    def forward(ctx, a):
        if a._data.dtype == _BOOL:
            raise RuntimeError("Boolean inputs not supported for relu")
        return a._be.maximum(a._data, 0)

    @staticmethod
    def backward(ctx, g):
        # the masked select of F.relu (g * mask would give inf * 0 = nan; a NaN input
        # passes g, as in PyTorch); activation.py imports this module, so bound lazily
        global _threshold_backward
        if _threshold_backward is None:
            from .activation import ThresholdBackward
            _threshold_backward = ThresholdBackward.apply
        return _threshold_backward(g, ctx.output)


_threshold_backward = None


def _u(cls):
    apply = cls.apply

    def op(input, *, out=None):
        r = apply(input)
        return r if out is None else write_out(r, out)
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
        return write_out(Rint.apply(input), out)
    if not is_float(input):
        raise _not_implemented("round", input._data.dtype)
    if decimals > 0:
        s = 10.0 ** decimals
        return write_out(Rint.apply(input * s) / s, out)
    s = 10.0 ** -decimals
    return write_out(Rint.apply(input / s) * s, out)


def frac(input, *, out=None):
    if not is_float(input):
        raise NotImplementedError(f'"frac_cpu" not implemented for '
                                  f"'{SCALAR_NAMES[input.dtype]}'")
    return write_out(input - trunc(input), out)


def positive(input):
    if input._data.dtype == _BOOL:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


# ---------------------------------------------------------------- where / clamp
class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        if cond._data.dtype != _BOOL:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {cond.dtype}")
        if type(b) is int:
            _check_scalar_fits(b, a)
        elif type(a) is int:
            _check_scalar_fits(a, b)
        x, y = pair(a, b)
        ctx.save_for_backward(cond)
        return cond._be.where(cond._data, x, y)

    @staticmethod
    def backward(ctx, g):
        cond, = ctx.saved_tensors
        return (None, where(cond, g, 0.0) if ctx.needs_input_grad[1] else None,
                where(cond, 0.0, g) if ctx.needs_input_grad[2] else None)


def where(condition, input=None, other=None, *, out=None):
    if input is None and other is None:
        from .index import nonzero
        return nonzero(condition, as_tuple=True)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = as_tensor_like(input, condition)
    return write_out(Where.apply(condition, input, other), out)


class Clamp(Function):
    @staticmethod
    def forward(ctx, a, lo, hi):
        x = a._data
        ctx.save_for_backward(a)
        ctx.lo, ctx.hi = lo, hi
        if CAT[x.dtype] < 2:        # ints and bools promote with the bounds
            rt = result_type(a, *[v for v in (lo, hi) if v is not None]).np
            if rt != x.dtype:
                x = a._be.astype(x, rt)
        else:       # PyTorch's overflow check; half bounds rounded through float
            lo = lo if lo is None else fill_scalar(lo, x.dtype)
            hi = hi if hi is None else fill_scalar(hi, x.dtype)
        r = a._be.clip(x, lo, hi)
        # NumPy clips bfloat16 in float32
        return r if r.dtype == x.dtype else a._be.astype(r, x.dtype)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        mask = None
        if ctx.lo is not None:
            mask = a >= ctx.lo
        if ctx.hi is not None:
            m = a <= ctx.hi
            mask = m if mask is None else mask & m
        return where(mask, g, 0.0), None, None


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
        need = ctx.needs_input_grad
        glo = ghi = None
        # torch's rule where min > max: the result is max, whose gradient it gets
        if lo is not None and hi is not None:
            keep = (a >= lo) & (a <= hi)
            if need[1]:
                glo = where((a < lo) & (lo < hi), g, 0.0)
            if need[2]:
                ghi = where((a > hi) | (hi < lo), g, 0.0)
        elif lo is not None:
            keep = a >= lo
            glo = where(a < lo, g, 0.0) if need[1] else None
        else:
            keep = a <= hi
            ghi = where(a > hi, g, 0.0) if need[2] else None
        return where(keep, g, 0.0), glo, ghi


def clamp(input, min=None, max=None, *, out=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = as_tensor_like(min, input) if min is not None else None
        hi = as_tensor_like(max, input) if max is not None else None
        if lo is not None and hi is not None and \
                input._data.dtype == lo._data.dtype == hi._data.dtype == _BOOL:
            raise NotImplementedError("\"clamp_cpu\" not implemented for 'Bool'")
        return write_out(ClampTensor.apply(input, lo, hi), out)
    if input._data.dtype == _BOOL and type(min) in (bool, type(None)) and \
            type(max) in (bool, type(None)):
        kind = "" if min is not None and max is not None else "_min" if max is None else "_max"
        raise NotImplementedError(f"\"clamp{kind}_scalar_cpu\" not implemented for 'Bool'")
    return write_out(Clamp.apply(input, min, max), out)


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


class NanToNum(Function):
    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        x, be = a._data, a._be
        if CAT[x.dtype] < 2:
            return be.copy(x)
        ctx.save_for_backward(a)
        info = finfo(_by_np[x.dtype])
        t = x.dtype.type            # values as scalars of x's dtype keep its dtype
        r = be.where(be.isnan(x), t(nan), x)
        inf = be.isinf(x)
        big = be.where(be.greater(x, 0), t(info.max if posinf is None else posinf),
                       t(info.min if neginf is None else neginf))
        return be.where(inf, big, r)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * isfinite(a), None, None, None


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    return write_out(NanToNum.apply(input, nan, posinf, neginf), out)


# ---------------------------------------------------------------- comparisons, logic
def _cmp(prim):
    def op(input, other, *, out=None):
        x, y = pair(input, other)
        try:
            r = getattr(be_of(input, other), prim)(x, y)
        except ValueError:
            raise _shape_error(input, other) from None
        return write_out(_make(r), out)
    op.__name__ = prim
    return op


def _shape_error(a, b):
    # NumPy's broadcast ValueError, as PyTorch's RuntimeError naming the sizes
    return broadcast_error(*[t.shape for t in (a, b) if isinstance(t, Tensor)])


eq, ne, lt, le, gt, ge = (_cmp(p) for p in ("equal", "not_equal", "less", "less_equal",
                                            "greater", "greater_equal"))
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
logical_and, logical_or, logical_xor = (_cmp(p) for p in ("logical_and", "logical_or",
                                                           "logical_xor"))


def _not_implemented(kernel, npd):
    return NotImplementedError(f'"{kernel}_cpu" not implemented for '
                               f"'{SCALAR_NAMES[_by_np[npd]]}'")


def _bitwise(prim, kernel):
    shift = "shift" in prim

    def op(input, other, *, out=None):
        x, y = pair(input, other)
        dt = _res_dtype(x, y)
        if dt in FLOAT_NP or shift and dt == _BOOL:
            raise _not_implemented(kernel, dt)
        be = be_of(input, other)
        if dt == _BOOL and be is not _cpu:
            # device kernels take a scalar as a float64, which they cannot mix with bools
            if type(y) in _SCALARS:
                y = be.full((), y, _BOOL)
            elif type(x) in _SCALARS:
                x = be.full((), x, _BOOL)
        try:
            r = getattr(be, prim)(x, y)
        except ValueError:
            raise _shape_error(input, other) from None
        return write_out(_make(r), out)
    op.__name__ = prim
    return op


bitwise_and, bitwise_or, bitwise_xor = (_bitwise(p, p) for p in ("bitwise_and", "bitwise_or",
                                                                  "bitwise_xor"))
bitwise_left_shift = _bitwise("left_shift", "lshift")
bitwise_right_shift = _bitwise("right_shift", "rshift")


def bitwise_not(input, *, out=None):
    if is_float(input):
        raise _not_implemented("bitwise_not", input._data.dtype)
    return write_out(_make(input._be.invert(input._data)), out)


def _invert(self):
    if is_float(self):
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return _make(self._be.invert(self._data))


def logical_not(input, *, out=None):
    return write_out(_make(input._be.logical_not(input._data)), out)


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
    x, be = input._data, input._be
    return _make(np.signbit(x) if be is _cpu else be.signbit(x))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    if not isinstance(other, Tensor):
        raise TypeError(f"isclose(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"{SCALAR_NAMES[input.dtype]} did not match "
                           f"{SCALAR_NAMES[other.dtype]}")
    x, y = pair(input, other)
    if input._be is _cpu:
        return _make(np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan))
    return _make(_isclose(input._be, x, y, rtol, atol, equal_nan))


def _isclose(be, x, y, rtol, atol, equal_nan):
    """np.isclose from primitives: |x - y| <= atol + rtol * |y| where finite, equal values
    (infinities) are close, and NaNs with ``equal_nan``."""
    eq = be.equal(x, y)
    if x.dtype not in FLOAT_NP or x.dtype in LOW_FLOAT_NP:   # ints: no wrap-around in x - y
        x, y = be.astype(x, np.float64 if x.dtype not in FLOAT_NP else F32), \
            be.astype(y, np.float64 if y.dtype not in FLOAT_NP else F32)
    d = be.absolute(be.subtract(x, y))
    tol = be.add(be.multiply(be.absolute(y), rtol), atol)
    r = be.logical_or(eq, be.logical_and(be.isfinite(d), be.less_equal(d, tol)))
    if equal_nan:
        r = be.logical_or(r, be.logical_and(be.isnan(x), be.isnan(y)))
    return r


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(input._be.all(isclose(input, other, rtol, atol, equal_nan)._data))


def equal(input, other):
    if input._data.shape != other._data.shape:
        return False
    x, y = pair(input, other)
    return bool(be_of(input, other).all(be_of(input, other).equal(x, y)))


# ---------------------------------------------------------------- copy and fill
class Copy(Function):
    @staticmethod
    def forward(ctx, dst, src):
        be, d = dst._be, dst._data
        return be.astype(be.broadcast_to(src._data, d.shape), d.dtype)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g), g


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
        value = fill_scalar(value.item(), self._data.dtype, wrap=True)   # as copy_ does
    else:
        value = fill_scalar(value, self._data.dtype)    # PyTorch's overflow check
    if check_inplace(self):
        return commit_inplace(self, Copy.apply(snapshot(self), as_tensor_like(value, self)))
    self._be.copyto(self._data, value, casting="unsafe")
    self._bump_version()
    return self


def zero_(self):
    return fill_(self, 0)


# ---------------------------------------------------------------- in-place forms
def _inplace_binary(op, prim):
    # the direct out= path only for float tensors: for others the op's own checks and
    # result dtype decide (int.div_ must fail like torch, not like NumPy)
    def method(self, *args, **kwargs):
        direct = prim if len(args) == 1 and not kwargs and is_float(self) else None
        if direct == "subtract" and _is_bool(args[0]):    # Sub's own check raises
            direct = None
        try:
            return inplace(self, op, *args, prim=direct, **kwargs)
        except ValueError:
            _check_out_shape(self, args)
            raise
    method.__name__ = op.__name__ + "_"
    return method


def _check_out_shape(t, args):
    """torch's error for an in-place op whose operands broadcast beyond t's shape."""
    shapes = [a._data.shape for a in args if isinstance(a, Tensor)]
    full = np.broadcast_shapes(t._data.shape, *shapes)
    if full != t._data.shape:
        raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the "
                           f"broadcast shape {list(full)}")


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
    # as PyTorch: other * (1 / self), whose backward reads the reciprocal, not self
    return Mul.apply(Reciprocal.apply(self), other)


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


# the hottest operators call their Function directly: one Python frame per operator
# (the bound apply methods are made once, not on every call)
_add_apply, _sub_apply, _mul_apply, _div_apply = Add.apply, Sub.apply, Mul.apply, Div.apply
_neg_apply = Neg.apply


def _op_add(self, other):
    return _add_apply(self, other, 1)


def _op_sub(self, other):
    return _sub_apply(self, other, 1)


def _op_mul(self, other):
    return _mul_apply(self, other)


def _op_div(self, other):
    return _div_apply(self, other)


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
    "__add__": _op_add, "__radd__": _radd, "__iadd__": None,
    "__sub__": _op_sub, "__rsub__": _rsub, "__mul__": _op_mul,
    "__rmul__": _rmul, "__truediv__": _op_div, "__rtruediv__": _rdiv,
    "__floordiv__": _not_impl(floor_divide), "__rfloordiv__": _rev(floor_divide),
    "__mod__": _not_impl(remainder), "__rmod__": _rev(remainder),
    "__pow__": _not_impl(pow), "__rpow__": _rpow, "__neg__": neg, "__pos__": positive,
    "__abs__": abs, "__invert__": _invert,
    "__eq__": _not_impl(eq), "__ne__": _not_impl(ne), "__lt__": _not_impl(lt),
    "__le__": _not_impl(le), "__gt__": _not_impl(gt), "__ge__": _not_impl(ge),
    "__and__": _not_impl(bitwise_and), "__or__": _not_impl(bitwise_or),
    "__xor__": _not_impl(bitwise_xor), "__rand__": _not_impl(bitwise_and),
    "__ror__": _not_impl(bitwise_or), "__rxor__": _not_impl(bitwise_xor),
    "__lshift__": _not_impl(bitwise_left_shift), "__rshift__": _not_impl(bitwise_right_shift),
}

# in-place forms: t.op_(...) and the augmented assignment operators
for _name, _prim in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                     ("div", "divide"), ("pow", "power"),
                     ("fmod", "fmod"), ("remainder", "remainder"),
                     ("atan2", None), ("lerp", None), ("addcmul", None), ("addcdiv", None),
                     ("floor_divide", None), ("true_divide", None), ("clamp", None),
                     ("clip", None), ("clamp_min", None), ("clamp_max", None),
                     ("bitwise_and", None), ("bitwise_or", None),
                     ("bitwise_xor", None), ("logical_and", None),
                     ("logical_or", None), ("logical_xor", None), ("eq", None), ("ne", None),
                     ("lt", None), ("le", None), ("gt", None), ("ge", None),
                     ("nan_to_num", None), ("round", None), ("square", None)):
    TENSOR_METHODS[_name + "_"] = _inplace_binary(TENSOR_METHODS[_name], _prim)
for _name, _prim in (("neg", "negative"), ("abs", "absolute"), ("sign", None),
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


from ..autocast_state import wrap_autocast  # noqa: E402
wrap_autocast(globals(), TENSOR_METHODS)   # autocast policies (genesis/autocast_state.py)
