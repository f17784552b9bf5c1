"""genesis.cuda: PyTorch's CUDA device API over Genesis's own backend
(genesis/backend/cuda: cuda-python for devices and memory, Triton for kernels).

``is_available()`` is True on a machine with an NVIDIA driver and device, or anywhere
with ``TRITON_INTERPRET=1`` (one device served from host memory by Triton's interpreter);
False where triton or cuda-python is missing. Nothing is imported from them until a
function here is called.
"""
import contextlib

from . import amp  # noqa: F401

__all__ = ["is_available", "device_count", "current_device", "set_device", "device",
           "get_device_name", "get_device_capability", "get_device_properties",
           "is_bf16_supported", "synchronize", "Stream", "Event", "current_stream",
           "default_stream", "set_stream", "stream", "memory_allocated",
           "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "reset_peak_memory_stats", "reset_max_memory_allocated", "memory_stats",
           "memory_summary", "empty_cache", "mem_get_info", "OutOfMemoryError",
           "is_initialized", "init", "amp"]


def _rt():
    from ..backend.cuda import runtime
    return runtime


def _index(device):
    """A device argument (None, int, 'cuda:1', genesis.device) as an ordinal."""
    if device is None:
        return _rt().current_device()
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    from ..device import to_device
    d = to_device(device)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    return _rt().current_device() if d.index is None else d.index


def is_available():
    try:
        return _rt().mode() is not None
    except Exception:
        return False


def is_initialized():
    return is_available()


def init():
    _rt().require()


def device_count():
    try:
        return _rt().device_count()
    except Exception:
        return 0


def current_device():
    return _rt().current_device()


def set_device(device):
    _rt().set_device(_index(device))


class device:
    """Context manager that makes a device current (``with genesis.cuda.device(1):``)."""

    def __init__(self, device):
        self.idx = _index(device) if device is not None else -1
        self.prev = -1

    def __enter__(self):
        if self.idx >= 0:
            self.prev = current_device()
            if self.prev != self.idx:
                set_device(self.idx)

    def __exit__(self, *exc):
        if self.idx >= 0 and self.prev != self.idx:
            set_device(self.prev)
        return False


class _Properties:
    def __init__(self, dev):
        impl = dev.impl
        self.name = impl.name
        self.major, self.minor = impl.capability
        self.total_memory = impl.total_memory()
        self.multi_processor_count = getattr(impl, "multiprocessors", 1)

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // 2**20}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None):
    return _Properties(_rt().device(_index(device)))


def get_device_name(device=None):
    return _rt().device(_index(device)).name


def get_device_capability(device=None):
    return tuple(_rt().device(_index(device)).impl.capability)


def is_bf16_supported(including_emulation=True):
    return is_available() and (including_emulation or get_device_capability()[0] >= 8)


def synchronize(device=None):
    _rt().synchronize(_index(device))


# ---------------------------------------------------------------- streams and events
def __getattr__(name):
    # Stream and Event classes live in the runtime, which is imported only when used
    if name in ("Stream", "Event"):
        return getattr(_rt(), name)
    raise AttributeError(f"module 'genesis.cuda' has no attribute '{name}'")


def current_stream(device=None):
    return _rt().current_stream(_index(device))


def default_stream(device=None):
    return _rt().default_stream(_index(device))


def set_stream(stream):
    _rt().set_stream(stream)


@contextlib.contextmanager
def stream(stream):
    """Make ``stream`` current inside the block (None: no change)."""
    if stream is None:
        yield
        return
    rt = _rt()
    prev = rt.current_stream(stream.device_index)
    rt.set_stream(stream)
    try:
        yield
    finally:
        rt.set_stream(prev)


# ---------------------------------------------------------------- memory
def _allocator(device):
    return _rt().device(_index(device)).allocator


def memory_allocated(device=None):
    return _allocator(device).memory_allocated()


def max_memory_allocated(device=None):
    return _allocator(device).max_memory_allocated()


def memory_reserved(device=None):
    return _allocator(device).memory_reserved()


def max_memory_reserved(device=None):
    return _allocator(device).max_memory_reserved()


def reset_peak_memory_stats(device=None):
    _allocator(device).reset_peak_memory_stats()


def reset_max_memory_allocated(device=None):
    _allocator(device).reset_peak_memory_stats()


def memory_stats(device=None):
    return _allocator(device).memory_stats()


def memory_summary(device=None, abbreviated=False):
    return _allocator(device).memory_summary()


def empty_cache():
    if is_available():
        rt = _rt()
        for i in range(rt.device_count()):
            rt.device(i).allocator.empty_cache()


def mem_get_info(device=None):
    return _rt().device(_index(device)).impl.mem_get_info()


def __dir__():
    return sorted(set(globals()) | {"Stream", "Event"})


from ..backend.cuda.memory import OutOfMemoryError  # noqa: E402  (pure Python, no CUDA)


# ---------------------------------------------------------------- random number generators
# Each device's default generator is genesis.random's (Philox seed + offset on CUDA, see
# backend/cuda/random.py); genesis.manual_seed seeds these too. Seeding without CUDA does
# nothing, as in PyTorch, where it is deferred until CUDA starts.
__all__ += ["manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed",
            "get_rng_state", "set_rng_state", "get_rng_state_all", "set_rng_state_all"]


def _generator(device=None):
    from ..device import device as _dev
    from ..backend import backend_for
    from ..random import _gen
    d = _dev("cuda", _index(device))
    return _gen(None, backend_for(d), d)


def manual_seed(seed):
    """Seed the current device's generator."""
    if is_available():
        _generator().manual_seed(seed)


def manual_seed_all(seed):
    if is_available():
        for i in range(device_count()):
            _generator(i).manual_seed(seed)


def seed():
    """Seed the current device's generator from the operating system's entropy."""
    if is_available():
        _generator().seed()


def seed_all():
    if is_available():
        s = _generator().seed()
        for i in range(device_count()):
            _generator(i).manual_seed(s)


def initial_seed():
    return _generator().initial_seed()


def get_rng_state(device="cuda"):
    """The device generator's state: a 16-byte uint8 CPU tensor (seed, offset)."""
    return _generator(device).get_state()


def set_rng_state(new_state, device="cuda"):
    _generator(device).set_state(new_state)


def get_rng_state_all():
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state_all(new_states):
    for i, st in enumerate(new_states):
        set_rng_state(st, i)
