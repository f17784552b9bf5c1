"""Autocast's machinery below the ops: the thread-local state, PyTorch's per-device op
policies, and the wrapper that casts an op's floating inputs by that policy.

Ops modules call ``wrap_autocast(globals(), TENSOR_METHODS)`` at their end: every public
function named in ``POLICY`` (and the Tensor methods bound to it) is replaced by a wrapper
whose cost while no autocast region is open anywhere is one global read. The public API
(``genesis.autocast`` and friends) lives in ``genesis/amp/``.
"""
import importlib.util
import functools
import threading
import weakref

from . import dtypes as _dt
from .tensor import Tensor
from .backend import cpu as _cpu

# Policies, from PyTorch's autocast op lists (aten/src/ATen/autocast_mode.cpp) for the ops
# Genesis has. "lower": floating inputs to the region's low-precision dtype; "fp32": to
# float32; "promote": to the widest floating input dtype; None: untouched. float64 inputs
# are never cast (as PyTorch's). The CPU column was checked op by op against torch 2.13.
_LOW = "lower"
POLICY = {   # name: (cpu, cuda)
    "matmul": (_LOW, _LOW), "mm": (_LOW, _LOW), "bmm": (_LOW, _LOW), "addmm": (_LOW, _LOW),
    "baddbmm": (_LOW, _LOW), "addbmm": (_LOW, _LOW), "einsum": (_LOW, _LOW),
    "tensordot": (_LOW, _LOW), "linear": (_LOW, _LOW), "prelu": (_LOW, _LOW),
    "conv1d": (_LOW, _LOW), "conv2d": (_LOW, _LOW), "conv3d": (_LOW, _LOW),
    "conv_transpose1d": (_LOW, _LOW), "conv_transpose2d": (_LOW, _LOW),
    "conv_transpose3d": (_LOW, _LOW), "scaled_dot_product_attention": (_LOW, _LOW),
    "mv": (None, _LOW), "addmv": (None, _LOW), "addr": (None, _LOW),
    # losses, and reductions / math that lose accuracy in low precision
    "cross_entropy": ("fp32", "fp32"), "nll_loss": ("fp32", "fp32"),
    "mse_loss": ("fp32", "fp32"), "l1_loss": ("fp32", "fp32"),
    "smooth_l1_loss": ("fp32", "fp32"), "huber_loss": ("fp32", "fp32"),
    "kl_div": ("fp32", "fp32"), "binary_cross_entropy": ("fp32", "banned"),
    "binary_cross_entropy_with_logits": ("fp32", "fp32"), "prod": ("fp32", "fp32"),
    "avg_pool3d": ("fp32", None), "max_pool3d": ("fp32", None),
    "adaptive_avg_pool3d": ("fp32", None),
    "pad": (lambda args, kw: "fp32" if _pad_mode(args, kw) in ("reflect", "replicate")
            else None, None),
    "softmax": (None, "fp32"), "log_softmax": (None, "fp32"), "softmin": (None, "fp32"),
    "layer_norm": (None, "fp32"), "group_norm": (None, "fp32"), "norm": (None, "fp32"),
    "normalize": (None, "fp32"), "sum": (None, "fp32"), "cumsum": (None, "fp32"),
    "cumprod": (None, "fp32"), "exp": (None, "fp32"), "expm1": (None, "fp32"),
    "log": (None, "fp32"), "log10": (None, "fp32"), "log2": (None, "fp32"),
    "log1p": (None, "fp32"), "pow": (None, "fp32"), "reciprocal": (None, "fp32"),
    "rsqrt": (None, "fp32"), "acos": (None, "fp32"), "asin": (None, "fp32"),
    "cosh": (None, "fp32"), "sinh": (None, "fp32"), "tan": (None, "fp32"),
    "erfinv": (None, "fp32"), "softplus": (None, "fp32"), "vector_norm": (None, "fp32"),
    "addcmul": (None, "promote"), "addcdiv": (None, "promote"), "atan2": (None, "promote"),
    "bilinear": (None, "promote"), "dot": (None, "promote"), "vdot": (None, "promote"),
    "cat": (None, "promote"), "stack": (None, "promote"), "index_put": (None, "promote"),
    "scatter_add": (None, "promote"),
}
BANNED_MESSAGE = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using "
    "torch.nn.functional.binary_cross_entropy_with_logits\n"
    "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast.")
DEVICE_TYPES = ("cpu", "cuda")
DEFAULT_DTYPE = {"cpu": _dt.bfloat16, "cuda": _dt.float16}


def _pad_mode(args, kwargs):
    return kwargs.get("mode", args[2] if len(args) > 2 else "constant")


class _State(threading.local):
    def __init__(self):
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = dict(DEFAULT_DTYPE)
        self.cache_enabled = True
        self.nesting = 0
        self.cache = {}          # id(fp32 leaf) -> (weakref to it, its low-precision cast)


state = _State()
# how many enabled autocast regions are open in all threads: the wrappers' fast check
_open_regions = 0
_lock = threading.Lock()


def region_opened(n):
    """Called by autocast on entering (+1) and leaving (-1) an enabled region."""
    global _open_regions
    with _lock:
        _open_regions += n


def clear_cache():
    state.cache.clear()


def _device_type(t):
    return "cpu" if t._be is _cpu else "cuda"


def _first_tensor(args, kwargs):
    for a in args:
        if isinstance(a, Tensor):
            return a
        if isinstance(a, (list, tuple)):
            for b in a:
                if isinstance(b, Tensor):
                    return b
    for a in kwargs.values():
        if isinstance(a, Tensor):
            return a
    return None


_ELIGIBLE = (_dt.float16.np, _dt.float32.np, _dt.bfloat16.np)   # float64 is never cast


def _eligible(t):
    return t._data.dtype in _ELIGIBLE


def _cast(t, target):
    """``t`` in the target dtype; fp32 leaves that require grad (parameters) are cast once
    per region when the cache is on."""
    if not isinstance(t, Tensor) or not _eligible(t) or t._data.dtype == target.np:
        return t
    cacheable = (state.cache_enabled and t._requires_grad and t.grad_fn is None
                 and t._base is None and t._data.dtype == _dt.float32.np)
    if cacheable:
        hit = state.cache.get(id(t))
        if hit is not None and hit[0]() is t and hit[1].dtype is target:
            return hit[1]
    out = t.to(target)
    if cacheable:
        state.cache[id(t)] = (weakref.ref(t), out)
    return out


def _cast_all(args, kwargs, target):
    def one(a):
        if isinstance(a, Tensor):
            return _cast(a, target)
        if isinstance(a, (list, tuple)) and any(isinstance(b, Tensor) for b in a):
            return type(a)(_cast(b, target) for b in a)
        return a
    return tuple(one(a) for a in args), {k: one(v) for k, v in kwargs.items()}


def _widest(args, kwargs):
    widest = None
    for a in list(args) + list(kwargs.values()):
        for t in (a if isinstance(a, (list, tuple)) else (a,)):
            if isinstance(t, Tensor) and _eligible(t):
                dt = t.dtype
                widest = dt if widest is None else _dt.promote_types(widest, dt)
    return widest


def _autocast_call(fn, policy, args, kwargs):
    t = _first_tensor(args, kwargs)
    if t is None:
        return fn(*args, **kwargs)
    device = _device_type(t)
    if not state.enabled[device]:
        return fn(*args, **kwargs)
    kind = policy[0] if device == "cpu" else policy[1]
    if callable(kind):
        kind = kind(args, kwargs)
    if kind == "banned":
        raise RuntimeError(BANNED_MESSAGE)
    target = None if kind is None else state.dtype[device] if kind == _LOW else \
        _dt.float32 if kind == "fp32" else _widest(args, kwargs)
    if target is not None:
        args, kwargs = _cast_all(args, kwargs, target)
    # the op itself runs with autocast off, as PyTorch's kernels do after casting: ops it
    # is composed of here (mv of matmul, ...) keep the dtype it chose
    state.enabled[device] = False
    try:
        return fn(*args, **kwargs)
    finally:
        state.enabled[device] = True


def autocast_op(name, fn):
    """``fn`` wrapped to apply ``POLICY[name]`` inside autocast regions."""
    policy = POLICY[name]

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if _open_regions:
            return _autocast_call(fn, policy, args, kwargs)
        return fn(*args, **kwargs)
    op._autocast_policy = name
    return op


# Entries whose only policy is CUDA's change nothing while no CUDA tensor can exist, but a
# wrapper costs ~0.2 us a call (exp, sum, pow, ... are hot): they are wrapped only where a
# CUDA backend can exist, i.e. where triton is installed (looked up, not imported: the
# backend is probed when first used). Ops Genesis composes of lower-precision ops (mv of
# matmul, bilinear of einsum) are wrapped regardless, so that their parts run with
# autocast off as PyTorch's single kernels do.
WRAP_CUDA_ONLY = importlib.util.find_spec("triton") is not None
_COMPOSED = {"mv", "addmv", "addr", "dot", "vdot", "bilinear"}


def wrap_autocast(namespace, methods=None):
    """Wrap every function of ``namespace`` (a module's globals) named in POLICY, and the
    entries of the Tensor method table ``methods`` bound to the same function."""
    for name, (cpu, _) in POLICY.items():
        if cpu is None and name not in _COMPOSED and not WRAP_CUDA_ONLY:
            continue
        fn = namespace.get(name)
        if fn is None or not callable(fn) or hasattr(fn, "_autocast_policy"):
            continue
        wrapped = autocast_op(name, fn)
        namespace[name] = wrapped
        if methods is not None:
            for key, m in methods.items():
                if m is fn:
                    methods[key] = wrapped
