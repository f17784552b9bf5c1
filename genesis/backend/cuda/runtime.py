"""The CUDA runtime: which devices there are, their memory, streams and events.

Two modes serve device 'cuda':
- ``"gpu"``: NVIDIA devices through cuda-python's driver API (primary context per device,
  cuMemAlloc under the caching allocator, async copies on streams).
- ``"interpret"``: with ``TRITON_INTERPRET=1`` one device backed by host memory, on which
  the same Triton kernels run through Triton's interpreter (CI has no GPU).
Nothing here imports triton or cuda-python until a CUDA function is first used, so
``import genesis`` works on any machine; without them (or without a driver) ``mode()`` is
None and ``genesis.cuda.is_available()`` False.
"""
import os
import threading

_lock = threading.RLock()
_mode = False               # False: not probed yet; then "gpu", "interpret" or None
_why = ""                   # why CUDA is unavailable, for error messages
_devices = []               # per device: _Device
_local = threading.local()  # .device: current device index; .streams: {device: Stream}


def mode():
    """"gpu", "interpret" or None (no CUDA here), probed once."""
    global _mode
    if _mode is False:
        with _lock:
            if _mode is False:
                _mode = _probe()
    return _mode


def _probe():
    global _why
    # Triton 3.9 warns unless this is set; 1 keeps its (and CUDA C's) default of fusing
    # multiply-adds
    os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")
    try:
        import triton  # noqa: F401
    except ImportError as e:
        _why = f"triton is not installed ({e})"
        return None
    if os.environ.get("TRITON_INTERPRET") == "1":
        _devices.append(_Device(0, _HostDevice()))
        return "interpret"
    try:
        from cuda.bindings import driver as cu
        _check(cu.cuInit(0))
        n = _check(cu.cuDeviceGetCount())
    except Exception as e:          # no cuda-python, no driver, no device
        _why = f"no CUDA driver or device ({type(e).__name__}: {e})"
        return None
    if n == 0:
        _why = "the CUDA driver reports no device"
        return None
    _devices.extend(_Device(i, _DriverDevice(i)) for i in range(n))
    return "gpu"


def unavailable_reason():
    mode()
    return _why


def _check(result):
    """The value of a cuda-python call's (err, value...) tuple; raises on an error."""
    from cuda.bindings import driver as cu
    err, *rest = result if isinstance(result, tuple) else (result,)
    if err != cu.CUresult.CUDA_SUCCESS:
        _, name = cu.cuGetErrorName(err)
        raise RuntimeError(f"CUDA error: {name.decode() if isinstance(name, bytes) else err}")
    return rest[0] if len(rest) == 1 else (tuple(rest) if rest else None)


def require():
    """The mode, or RuntimeError when there is no CUDA."""
    m = mode()
    if m is None:
        raise RuntimeError(f"CUDA is not available: {_why}")
    return m


def device_count():
    return len(_devices) if mode() else 0


def device(index=None):
    """The _Device of an index (None: the current one)."""
    require()
    i = current_device() if index is None else index
    if not 0 <= i < len(_devices):
        raise RuntimeError(f"CUDA error: invalid device ordinal {i} (there are "
                           f"{len(_devices)} devices)")
    return _devices[i]


def current_device():
    require()
    return getattr(_local, "device", 0)


def set_device(index):
    device(index)                     # validates
    _local.device = index
    _devices[index].impl.make_current()


# ---------------------------------------------------------------- devices
class _Device:
    """One CUDA device: its implementation (driver or host) and caching allocator."""

    def __init__(self, index, impl):
        from .memory import CachingAllocator
        self.index, self.impl = index, impl
        self.allocator = CachingAllocator(impl, index)

    @property
    def name(self):
        return self.impl.name


class _HostDevice:
    """Interpreter mode: 'device' memory is host memory (HostMemory of memory.py), copies
    are memcpy, streams and events are immediate."""
    name = "Triton interpreter (host memory)"
    capability = (9, 0)

    def __init__(self):
        from .memory import HostMemory
        cap = os.environ.get("GENESIS_INTERPRET_MEMORY")
        self.raw = HostMemory(int(cap) if cap else None)

    def alloc(self, nbytes):
        return self.raw.alloc(nbytes)

    def free(self, ptr):
        self.raw.free(ptr)

    def mem_get_info(self):
        return self.raw.mem_get_info()

    def host_view(self, ptr, nbytes):
        """A NumPy uint8 array over the device bytes at ptr (interpreter mode only)."""
        return self.raw.buffer(ptr, nbytes)

    def make_current(self):
        pass

    def total_memory(self):
        return self.raw.mem_get_info()[1]


class _DriverDevice:
    """A real GPU through cuda-python's driver API."""

    def __init__(self, index):
        from cuda.bindings import driver as cu
        self.cu = cu
        self.dev = _check(cu.cuDeviceGet(index))
        self.ctx = _check(cu.cuDevicePrimaryCtxRetain(self.dev))
        raw = _check(cu.cuDeviceGetName(256, self.dev))
        self.name = raw.split(b"\0", 1)[0].decode()
        attr = cu.CUdevice_attribute
        self.capability = (
            _check(cu.cuDeviceGetAttribute(
                attr.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, self.dev)),
            _check(cu.cuDeviceGetAttribute(
                attr.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, self.dev)))
        self.multiprocessors = _check(cu.cuDeviceGetAttribute(
            attr.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, self.dev))

    def make_current(self):
        _check(self.cu.cuCtxSetCurrent(self.ctx))

    def alloc(self, nbytes):
        from .memory import RawOutOfMemory
        self.make_current()
        err, ptr = self.cu.cuMemAlloc(nbytes)
        if err == self.cu.CUresult.CUDA_ERROR_OUT_OF_MEMORY:
            raise RawOutOfMemory(nbytes)
        _check((err,))
        return int(ptr)

    def free(self, ptr):
        self.make_current()
        _check(self.cu.cuMemFree(ptr))

    def mem_get_info(self):
        self.make_current()
        free, total = _check(self.cu.cuMemGetInfo())
        return int(free), int(total)

    def total_memory(self):
        return int(_check(self.cu.cuDeviceTotalMem(self.dev)))


# ---------------------------------------------------------------- copies
def copy_host_to_device(dst_ptr, host, nbytes, dev_index):
    """Copy nbytes of a C-contiguous NumPy array to device memory (then synchronous with
    the host, as PyTorch's pageable copies)."""
    d = _devices[dev_index]
    if mode() == "interpret":
        d.impl.host_view(dst_ptr, nbytes)[...] = host.reshape(-1).view("u1")[:nbytes]
        return
    cu = d.impl.cu
    d.impl.make_current()
    stream = current_stream(dev_index).handle
    _check(cu.cuMemcpyHtoDAsync(dst_ptr, host.ctypes.data, nbytes, stream))
    _check(cu.cuStreamSynchronize(stream))


def copy_device_to_host(host, src_ptr, nbytes, dev_index):
    """Copy nbytes of device memory into a C-contiguous NumPy array (synchronising the
    current stream first, so kernels that write src have finished)."""
    d = _devices[dev_index]
    if mode() == "interpret":
        host.reshape(-1).view("u1")[:nbytes] = d.impl.host_view(src_ptr, nbytes)
        return
    cu = d.impl.cu
    d.impl.make_current()
    stream = current_stream(dev_index).handle
    _check(cu.cuMemcpyDtoHAsync(host.ctypes.data, src_ptr, nbytes, stream))
    _check(cu.cuStreamSynchronize(stream))


def copy_device_to_device(dst_ptr, src_ptr, nbytes, dev_index):
    d = _devices[dev_index]
    if mode() == "interpret":
        d.impl.host_view(dst_ptr, nbytes)[...] = d.impl.host_view(src_ptr, nbytes)
        return
    d.impl.make_current()
    _check(d.impl.cu.cuMemcpyDtoDAsync(dst_ptr, src_ptr, nbytes,
                                       current_stream(dev_index).handle))


# ---------------------------------------------------------------- streams and events
class Stream:
    """A CUDA stream (``handle`` 0 is the default stream). In interpreter mode every
    kernel has finished when its launch returns, so streams only keep their identity."""

    def __init__(self, device=None, priority=0, handle=None):
        require()
        self.device_index = current_device() if device is None else device
        if handle is None:
            handle = 0
            if mode() == "gpu":
                d = _devices[self.device_index].impl
                d.make_current()
                cu = d.cu
                handle = int(_check(cu.cuStreamCreateWithPriority(
                    cu.CUstream_flags.CU_STREAM_NON_BLOCKING, priority)))
        self.handle, self.priority = handle, priority

    def synchronize(self):
        if mode() == "gpu":
            _devices[self.device_index].impl.make_current()
            _check(_devices[self.device_index].impl.cu.cuStreamSynchronize(self.handle))

    def query(self):
        if mode() != "gpu":
            return True
        cu = _devices[self.device_index].impl.cu
        err, = cu.cuStreamQuery(self.handle)
        return err == cu.CUresult.CUDA_SUCCESS

    def wait_event(self, event):
        if mode() == "gpu" and event.handle is not None:
            _check(_devices[self.device_index].impl.cu.cuStreamWaitEvent(
                self.handle, event.handle, 0))

    def wait_stream(self, stream):
        ev = Event()
        ev.record(stream)
        self.wait_event(ev)

    def record_event(self, event=None):
        event = Event() if event is None else event
        event.record(self)
        return event

    def __eq__(self, other):
        return isinstance(other, Stream) and (self.handle, self.device_index) == (
            other.handle, other.device_index)

    def __hash__(self):
        return hash((self.handle, self.device_index))

    def __repr__(self):
        return (f"<genesis.cuda.Stream device=cuda:{self.device_index} "
                f"cuda_stream={self.handle:#x}>")

    @property
    def cuda_stream(self):
        return self.handle


def default_stream(device=None):
    i = current_device() if device is None else device
    return Stream(i, handle=0)


def current_stream(device=None):
    i = current_device() if device is None else device
    streams = getattr(_local, "streams", None)
    if streams is None:
        streams = _local.streams = {}
    s = streams.get(i)
    if s is None:
        s = streams[i] = default_stream(i)
    return s


def set_stream(stream):
    streams = getattr(_local, "streams", None)
    if streams is None:
        streams = _local.streams = {}
    streams[stream.device_index] = stream


class Event:
    """A CUDA event; ``elapsed_time`` in milliseconds as PyTorch's. In interpreter mode
    events take the host clock when recorded."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        require()
        self.enable_timing = enable_timing
        self.handle = None
        self._time = None
        self.device_index = None

    def record(self, stream=None):
        stream = current_stream() if stream is None else stream
        self.device_index = stream.device_index
        if mode() == "gpu":
            d = _devices[stream.device_index].impl
            cu = d.cu
            if self.handle is None:
                d.make_current()
                flags = 0 if self.enable_timing else \
                    cu.CUevent_flags.CU_EVENT_DISABLE_TIMING
                self.handle = _check(cu.cuEventCreate(flags))
            _check(cu.cuEventRecord(self.handle, stream.handle))
        else:
            import time
            self._time = time.perf_counter()

    def synchronize(self):
        if mode() == "gpu" and self.handle is not None:
            _check(_devices[self.device_index].impl.cu.cuEventSynchronize(self.handle))

    def query(self):
        if mode() != "gpu" or self.handle is None:
            return True
        cu = _devices[self.device_index].impl.cu
        err, = cu.cuEventQuery(self.handle)
        return err == cu.CUresult.CUDA_SUCCESS

    def wait(self, stream=None):
        (current_stream() if stream is None else stream).wait_event(self)

    def elapsed_time(self, end_event):
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument "
                               "'enable_timing=True'.")
        if mode() == "gpu":
            cu = _devices[self.device_index].impl.cu
            return float(_check(cu.cuEventElapsedTime(self.handle, end_event.handle)))
        if self._time is None or end_event._time is None:
            raise RuntimeError("Both events must be recorded before calculating elapsed "
                               "time.")
        return (end_event._time - self._time) * 1e3


def synchronize(device=None):
    """Wait for every kernel on a device (all its streams)."""
    require()
    if mode() == "gpu":
        d = device_of_index(device)
        d.impl.make_current()
        _check(d.impl.cu.cuCtxSynchronize())


def device_of_index(device):
    if device is None:
        return _devices[current_device()]
    return _devices[device]
