"""Tensor printing, as PyTorch's: the same layout, number formatting, summarization and
suffixes (dtype, device, requires_grad, grad_fn), driven by ``set_printoptions``.

Printing works on a host NumPy copy of the values; only the elements shown (at most
``threshold`` of them, or the summarized edges) are formatted in Python."""
import contextlib
import math

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "printoptions"]


class _Options:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


PRINT_OPTS = _Options()

_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, math.inf, 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Options for printing tensors, as ``torch.set_printoptions``. ``sci_mode`` is always
    set (None lets the formatter choose), the others only when given."""
    o = PRINT_OPTS
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        o.precision, o.threshold, o.edgeitems, o.linewidth = _PROFILES[profile]
    if precision is not None:
        o.precision = precision
    if threshold is not None:
        o.threshold = threshold
    if edgeitems is not None:
        o.edgeitems = edgeitems
    if linewidth is not None:
        o.linewidth = linewidth
    o.sci_mode = sci_mode


def get_printoptions():
    o = PRINT_OPTS
    return {"precision": o.precision, "threshold": o.threshold, "edgeitems": o.edgeitems,
            "linewidth": o.linewidth, "sci_mode": o.sci_mode}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Set print options inside a ``with`` block and restore them after."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses one format and one width for all elements shown of a tensor."""

    def __init__(self, arr, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        p = PRINT_OPTS.precision
        if not floating:
            if arr.dtype == np.bool_:
                self.width = 4 if arr.all() else 5      # "True" / "False"
            elif arr.size:
                # the longest decimal string is that of the min or of the max
                self.width = max(len(str(arr.min().item())), len(str(arr.max().item())))
            return
        vals = arr[np.isfinite(arr) & (arr != 0)]
        if vals.size == 0:
            return
        a = np.abs(vals)
        lo, hi = float(a.min()), float(a.max())
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        sci = PRINT_OPTS.sci_mode
        self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4) if sci is None \
            else sci
        vs = vals.tolist()
        if self.sci_mode:
            self.width = max(len(f"{v:.{p}e}") for v in vs)
        elif self.int_mode:
            # integral floats print as "3." (the dot marks a floating dtype)
            self.width = max(len(f"{v:.0f}") for v in vs) + 1
        else:
            self.width = max(len(f"{v:.{p}f}") for v in vs)

    def format(self, v):
        if self.floating:
            if self.sci_mode:
                s = f"{v:{self.width}.{PRINT_OPTS.precision}e}"
            elif self.int_mode:
                s = f"{v:.0f}"
                if not (math.isinf(v) or math.isnan(v)):
                    s += "."
            else:
                s = f"{v:.{PRINT_OPTS.precision}f}"
        else:
            s = str(v)
        return s.rjust(self.width)


def _summarized(arr, e):
    """The elements that a summarized print shows: the first and last ``e`` along every
    axis longer than ``2 * e``."""
    if arr.ndim >= 2 and e == 0:
        return arr[(slice(0, 0),) * arr.ndim]
    for ax, n in enumerate(arr.shape):
        if n > 2 * e:
            idx = np.r_[0:e, n - e:n]
            arr = np.take(arr, idx, axis=ax)
    return arr


def _vector_str(arr, indent, summarize, fmt):
    o = PRINT_OPTS
    per_line = max(1, math.floor((o.linewidth - indent) / (fmt.width + 2)))
    e = o.edgeitems
    if summarize and not e:
        items = ["..."]
    elif summarize and arr.shape[0] > 2 * e:
        items = ([fmt.format(v) for v in arr[:e].tolist()] + [" ..."]
                 + [fmt.format(v) for v in arr[-e:].tolist()])
    else:
        items = [fmt.format(v) for v in arr.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _str_with_formatter(arr, indent, summarize, fmt):
    nd = arr.ndim
    if nd == 0:
        return fmt.format(arr.item())
    if nd == 1:
        return _vector_str(arr, indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    n = arr.shape[0]
    if summarize and n > 2 * e:
        rows = ([_str_with_formatter(arr[i], indent + 1, summarize, fmt) for i in range(e)]
                + ["..."]
                + [_str_with_formatter(arr[i], indent + 1, summarize, fmt)
                   for i in range(n - e, n)])
    else:
        rows = [_str_with_formatter(arr[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (nd - 1) + " " * (indent + 1)).join(rows) + "]"


def _host_values(t):
    """The values as a NumPy array fit for formatting (low-precision floats as float64,
    which prints every bfloat16/float16 value exactly)."""
    arr = np.asarray(t._be.to_host(t._data))
    if t.is_floating_point() and arr.dtype != np.float64:
        arr = arr.astype(np.float64)
    return arr


def _tensor_str(t, indent):
    if t._data.size == 0:
        return "[]"
    arr = _host_values(t)
    summarize = arr.size > PRINT_OPTS.threshold
    fmt = _Formatter(_summarized(arr, PRINT_OPTS.edgeitems) if summarize else arr,
                     t.is_floating_point())
    return _str_with_formatter(arr, indent, summarize, fmt)


def _add_suffixes(s, suffixes, indent):
    out = [s]
    last_len = len(s) - s.rfind("\n") + 1
    for suf in suffixes:
        if last_len + len(suf) + 2 > PRINT_OPTS.linewidth:
            out.append(",\n" + " " * indent + suf)
            last_len = indent + len(suf)
        else:
            out.append(", " + suf)
            last_len += len(suf) + 2
    out.append(")")
    return "".join(out)


def tensor_repr(t, *, tensor_contents=None):
    """``repr(tensor)``, as PyTorch prints it."""
    from . import dtypes as _dt
    from .tensor import Tensor
    cls = type(t)
    prefix = "tensor(" if cls is Tensor or cls.__name__ == "Parameter" \
        else f"{cls.__name__}("
    indent = len(prefix)
    suffixes = []
    dev = t.device
    if dev.type != "cpu":
        suffixes.append(f"device='{dev}'")
    dt = t.dtype
    default = _dt.get_default_dtype()
    if t._data.size == 0:
        if t._data.ndim != 1:
            suffixes.append(f"size={tuple(t._data.shape)}")
        if dt is not default:
            suffixes.append(f"dtype={dt}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(t._data.shape)}")
        if dt is not default and dt is not _dt.int64 and dt is not _dt.bool_:
            suffixes.append(f"dtype={dt}")
        body = None
    if tensor_contents is not None:
        body = tensor_contents
    elif body is None:
        body = _tensor_str(t, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
