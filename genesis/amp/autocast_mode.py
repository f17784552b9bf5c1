"""autocast: a region (context manager or decorator) in which ops listed in PyTorch's
autocast policies run in a chosen low-precision dtype (or in float32), as torch.autocast.
The op-level machinery is genesis/autocast_state.py."""
import functools
import warnings

from .. import autocast_state as _s
from .. import dtypes as _dt

__all__ = ["autocast", "is_autocast_available", "custom_fwd", "custom_bwd",
           "is_autocast_enabled", "set_autocast_enabled", "get_autocast_dtype",
           "set_autocast_dtype", "is_autocast_cache_enabled", "set_autocast_cache_enabled",
           "clear_autocast_cache", "get_autocast_cpu_dtype", "get_autocast_gpu_dtype",
           "is_autocast_cpu_enabled"]

_SUPPORTED = {"cpu": (_dt.bfloat16, _dt.float16), "cuda": (_dt.float16, _dt.bfloat16)}


def _cuda_available():
    from .. import cuda
    return cuda.is_available()


def is_autocast_available(device_type):
    return device_type in _s.DEVICE_TYPES


def _check_device(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in _s.DEVICE_TYPES:
        raise RuntimeError(f"User specified an unsupported autocast device_type "
                           f"'{device_type}'")


class autocast:
    """``with autocast(device_type, dtype=None, enabled=True, cache_enabled=None):`` —
    inside, matmul/linear/conv/bmm/baddbmm/addmm/sdpa take the low-precision ``dtype``
    (default: bfloat16 on 'cpu', float16 on 'cuda') and losses and the reductions on
    PyTorch's list take float32; gradients flow back through every cast. Nestable,
    thread-local; also a decorator."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        _check_device(device_type)
        self.device = device_type
        self.fast_dtype = _s.state.dtype[device_type] if dtype is None else dtype
        self._cache_enabled = _s.state.cache_enabled if cache_enabled is None \
            else cache_enabled
        self._enabled = bool(enabled)
        if not self._enabled:
            return
        if device_type == "cuda" and not _cuda_available():
            warnings.warn("User provided device_type of 'cuda', but CUDA is not available. "
                          "Disabling", stacklevel=2)
            self._enabled = False
        elif self.fast_dtype not in _SUPPORTED[device_type]:
            names = ", ".join(str(d).replace("genesis.", "torch.")
                              for d in _SUPPORTED[device_type])
            warnings.warn(f"In {device_type.upper()} autocast, but the target dtype is not "
                          f"supported. Disabling autocast.\n{device_type.upper()} Autocast "
                          f"only supports dtype of {names} currently.", stacklevel=2)
            self._enabled = False

    def __enter__(self):
        st = self.device
        self._prev = (_s.state.enabled[st], _s.state.dtype[st], _s.state.cache_enabled)
        _s.state.enabled[st] = self._enabled
        _s.state.dtype[st] = self.fast_dtype
        _s.state.cache_enabled = self._cache_enabled
        _s.state.nesting += 1
        if self._enabled:
            _s.region_opened(1)
        return self

    def __exit__(self, *exc):
        _s.state.nesting -= 1
        if _s.state.nesting == 0:        # casts of parameters live for the outermost region
            _s.clear_cache()
        st = self.device
        _s.state.enabled[st], _s.state.dtype[st], _s.state.cache_enabled = self._prev
        if self._enabled:
            _s.region_opened(-1)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return func(*args, **kwargs)
        return decorated

    def __repr__(self):
        return (f"autocast(device_type={self.device!r}, dtype={self.fast_dtype}, "
                f"enabled={self._enabled})")


def is_autocast_enabled(device_type=None):
    """Whether autocast is on for ``device_type`` (default 'cuda', as PyTorch's)."""
    if device_type is None:
        device_type = "cuda"
    _check_device(device_type)
    return _s.state.enabled[device_type]


def set_autocast_enabled(device_type, enabled=None):
    if enabled is None:                  # the legacy one-argument form is the CUDA flag
        device_type, enabled = "cuda", device_type
    _check_device(device_type)
    was = _s.state.enabled[device_type]
    _s.state.enabled[device_type] = bool(enabled)
    if was != bool(enabled):
        _s.region_opened(1 if enabled else -1)


def get_autocast_dtype(device_type):
    _check_device(device_type)
    return _s.state.dtype[device_type]


def set_autocast_dtype(device_type, dtype):
    _check_device(device_type)
    _s.state.dtype[device_type] = dtype


def get_autocast_cpu_dtype():
    return _s.state.dtype["cpu"]


def get_autocast_gpu_dtype():
    return _s.state.dtype["cuda"]


def is_autocast_cpu_enabled():
    return _s.state.enabled["cpu"]


def is_autocast_cache_enabled():
    return _s.state.cache_enabled


def set_autocast_cache_enabled(enabled):
    _s.state.cache_enabled = bool(enabled)


def clear_autocast_cache():
    _s.clear_cache()


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """For a custom autograd.Function's forward: runs it under the autocast state of the
    caller or, with ``cast_inputs``, casts its floating tensors to that dtype and runs it
    with autocast off (as torch.amp.custom_fwd)."""
    _check_device(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0] if args else None
        if ctx is not None:
            ctx._fwd_used_autocast = _s.state.enabled[device_type]
            ctx._dtype = _s.state.dtype[device_type]
        if cast_inputs is None or not _s.state.enabled[device_type]:
            return fwd(*args, **kwargs)
        args, kwargs = _s._cast_all(args, kwargs, cast_inputs)
        with autocast(device_type, enabled=False):
            return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """For a custom autograd.Function's backward: runs it with the autocast state its
    forward saw (as torch.amp.custom_bwd)."""
    _check_device(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(ctx, *args, **kwargs):
        with autocast(device_type, dtype=getattr(ctx, "_dtype", None),
                      enabled=getattr(ctx, "_fwd_used_autocast", False)):
            return bwd(ctx, *args, **kwargs)
    return decorate_bwd
