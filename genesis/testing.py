"""genesis.testing.assert_close: torch.testing.assert_close's rules (pairing of inputs,
default tolerances per dtype, attribute checks, messages) over genesis tensors."""
import math
from collections.abc import Mapping, Sequence

import numpy as np

from . import dtypes as _dt
from .tensor import Tensor, Size

# (rtol, atol) as torch.testing.assert_close; other dtypes compare exactly
_TOL = {_dt.float16: (1e-3, 1e-5), _dt.bfloat16: (1.6e-2, 1e-5),
        _dt.float32: (1.3e-6, 1e-5), _dt.float64: (1e-7, 1e-7)}
_NUMBER_TOL = {int: (0.0, 0.0), float: (1e-7, 1e-7), complex: (1e-7, 1e-7)}


class _Fail(Exception):
    """A mismatch found deep in nested inputs: exception type, message, item path."""

    def __init__(self, exc_type, text, path):
        super().__init__(text)
        self.exc_type, self.text, self.path = exc_type, text, path


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` (tensors, NumPy arrays, Python
    numbers, or sequences/mappings of them) agree in shape, device, dtype and value to
    within ``atol + rtol * |expected|``; TypeError for inputs that cannot be paired."""
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but "
                         f"got no {'rtol' if rtol is None else 'atol'}.")
    opts = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device,
                check_dtype=check_dtype, check_stride=check_stride)
    try:
        _compare(actual, expected, (), opts)
    except _Fail as f:
        text = f.text
        if f.path:
            text += f"\n\nThe failure occurred for item {''.join(str([p]) for p in f.path)}"
        if f.exc_type is AssertionError and msg is not None:
            text = msg(text) if callable(msg) else msg
        raise f.exc_type(text) from None


def _is_seq(x):
    return isinstance(x, Sequence) and not isinstance(x, str)


def _compare(a, e, path, o):
    if _is_seq(a) and _is_seq(e):
        if len(a) != len(e):
            raise _Fail(AssertionError, f"The length of the sequences mismatch: {len(a)} != "
                                        f"{len(e)}", path)
        for i in range(len(a)):
            _compare(a[i], e[i], path + (i,), o)
    elif isinstance(a, Mapping) and isinstance(e, Mapping):
        ka, ke = set(a), set(e)
        if ka != ke:
            raise _Fail(AssertionError,
                        "The keys of the mappings do not match:\n"
                        f"Missing keys in the actual mapping: {sorted(ke - ka)}\n"
                        f"Additional keys in the actual mapping: {sorted(ka - ke)}", path)
        try:
            keys = sorted(ka)
        except TypeError:
            keys = list(ka)
        for k in keys:
            _compare(a[k], e[k], path + (k,), o)
    elif a is None or e is None:
        if not (a is None and e is None):
            raise _Fail(AssertionError, f"None mismatch: {a} is not {e}", path)
    elif isinstance(a, (bool, np.bool_)) and isinstance(e, (bool, np.bool_)):
        if bool(a) != bool(e):
            raise _Fail(AssertionError, f"Booleans mismatch: {a} is not {e}", path)
    elif isinstance(a, (int, float, complex, np.number)) and \
            isinstance(e, (int, float, complex, np.number)):
        _compare_numbers(a, e, path, o)
    elif (isinstance(a, Tensor) and isinstance(e, Tensor)) or \
            (isinstance(a, np.ndarray) and isinstance(e, np.ndarray)):
        _compare_tensors(a, e, path, o)
    else:
        raise _Fail(TypeError, "No comparison pair was able to handle inputs of type "
                               f"{type(a)} and {type(e)}.", path)


def _compare_numbers(a, e, path, o):
    if o["check_dtype"] and type(a) is not type(e):
        raise _Fail(AssertionError, f"The (d)types do not match: {type(a)} != {type(e)}.", path)
    a = a.item() if isinstance(a, np.number) else a
    e = e.item() if isinstance(e, np.number) else e
    rtol, atol = o["rtol"], o["atol"]
    if rtol is None:
        tols = [_NUMBER_TOL[type(x)] for x in (a, e)]
        rtol, atol = max(t[0] for t in tols), max(t[1] for t in tols)
    if a == e:
        return
    if o["equal_nan"] and _isnan(a) and _isnan(e):
        return
    diff = abs(a - e)
    if _isfinite(diff) and diff <= atol + rtol * abs(e):
        return
    rel = float("inf") if e == 0 else diff / abs(e)
    raise _Fail(AssertionError, _mismatch("Scalars", f"Expected {e} but got {a}.", diff, None,
                                          rel, None, rtol, atol), path)


def _isnan(x):
    return x != x


def _isfinite(x):
    return not (isinstance(x, float) and (math.isinf(x) or math.isnan(x)))


def _info(x):
    """(host array, genesis dtype, device, strides in elements) of a tensor or ndarray."""
    if isinstance(x, Tensor):
        return x._be.to_host(x._data), x.dtype, x.device, x.stride()
    dt = _dt.from_numpy_dtype(x.dtype)
    return x, dt, "cpu", tuple(s // x.itemsize for s in x.strides)


def _compare_tensors(a, e, path, o):
    av, adt, adev, ast = _info(a)
    ev, edt, edev, est = _info(e)

    def attr(name, x, y):
        raise _Fail(AssertionError,
                    f"The values for attribute '{name}' do not match: {x} != {y}.", path)

    if av.shape != ev.shape:
        attr("shape", Size(av.shape), Size(ev.shape))
    if o["check_stride"] and ast != est:
        attr("stride()", ast, est)
    if o["check_device"] and str(adev) != str(edev):
        attr("device", adev, edev)
    if o["check_dtype"] and adt != edt:
        attr("dtype", adt, edt)
    rtol, atol = o["rtol"], o["atol"]
    if rtol is None:
        tols = [_TOL.get(d, (0.0, 0.0)) for d in (adt, edt)]
        rtol, atol = max(t[0] for t in tols), max(t[1] for t in tols)
    common = _dt.promote_types(adt, edt)
    if common.is_floating_point:
        x, y = av.astype(common.np), ev.astype(common.np)
    else:
        x, y = av.astype(np.float64), ev.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(x - y)
        close = (x == y) | (np.isfinite(x) & np.isfinite(y) &
                            (diff <= atol + rtol * np.abs(y)))
        if o["equal_nan"]:
            close |= np.isnan(x) & np.isnan(y)
    if close.all():
        return
    # the message, as torch's: integers in int64, the rest in the compared dtype
    if not common.is_floating_point:
        x, y = av.astype(np.int64), ev.astype(np.int64)
    if close.ndim == 0:
        xa, ya = x.item(), y.item()
        diff = abs(xa - ya)
        rel = float("inf") if ya == 0 else diff / abs(ya)
        raise _Fail(AssertionError, _mismatch("Scalars", f"Expected {ya} but got {xa}.", diff,
                                              None, rel, None, rtol, atol), path)
    ok = close.reshape(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.abs(x.reshape(-1) - y.reshape(-1))
        d[ok] = 0
        r = d / np.abs(y.reshape(-1))
        if not common.is_floating_point:
            r = r.astype(np.float32)        # int / int is a default-float tensor in torch
        r[ok] = 0
    di, ri = int(np.argmax(d)), int(np.argmax(r))   # argmax lands on a NaN first, like max
    n, bad = close.size, int(close.size - ok.sum())

    def idx(i):
        return tuple(int(v) for v in np.unravel_index(i, close.shape)) if close.ndim else ()

    extra = f"Mismatched elements: {bad} / {n} ({bad / n:.1%})"
    raise _Fail(AssertionError, _mismatch("Tensor-likes", extra, d[di].item(), idx(di),
                                          r[ri].item(), idx(ri), rtol, atol), path)


def _mismatch(what, extra, abs_diff, abs_idx, rel_diff, rel_idx, rtol, atol):
    equality = rtol == 0 and atol == 0

    def line(kind, diff, i, tol):
        s = f"{kind.title()} difference: {diff}" if i is None else \
            f"Greatest {kind} difference: {diff} at index {i}"
        return s + ("" if equality else f" (up to {tol} allowed)") + "\n"

    text = f"{what} are not {'equal' if equality else 'close'}!\n\n{extra}\n"
    text += line("absolute", abs_diff, abs_idx, atol) + line("relative", rel_diff, rel_idx, rtol)
    return text.strip()
