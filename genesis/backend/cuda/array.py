"""Device arrays: a Storage (one allocation of the caching allocator) seen through shape,
byte strides and a byte offset, as a NumPy array sees its buffer, so views (reshape,
transpose, slices, broadcasts) never copy.

Kernels get ``array.arg()``, a KernelArg speaking the protocol Triton's launcher and
interpreter use for tensor arguments (DeviceArray keeps NumPy's meaning of ``size``); in
interpreter mode a storage's ``cpu()`` is itself, so kernels read and write the host memory
that backs the device.
"""
import math

import numpy as np

from . import runtime


class Storage:
    """Device memory owned by one block of a device's caching allocator; freed (to the
    cache) when the last array using it goes away."""
    __slots__ = ("ptr", "nbytes", "device_index", "block", "_alloc")

    def __init__(self, nbytes, device_index):
        dev = runtime.device(device_index)
        self._alloc = dev.allocator
        self.block = self._alloc.malloc(nbytes, runtime.current_stream(device_index).handle)
        self.ptr, self.nbytes, self.device_index = self.block.ptr, nbytes, device_index

    def __del__(self):
        block, self.block = getattr(self, "block", None), None
        if block is not None:
            try:
                self._alloc.free(block)
            except Exception:       # interpreter shutting down
                pass

    # Triton's interpreter protocol
    def data_ptr(self):
        return self.ptr

    def cpu(self):
        return self                 # interpreter mode: device memory is host memory

    def copy_(self, other):
        if other is not self:
            raise RuntimeError("device storages are never copied through the host here")


class _Flags:
    __slots__ = ("c_contiguous", "f_contiguous", "writeable")

    def __init__(self, c, f, w):
        self.c_contiguous, self.f_contiguous, self.writeable = c, f, w


def contiguous_strides(shape, itemsize):
    strides, acc = [], itemsize
    for n in reversed(shape):
        strides.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(strides))


class DeviceArray:
    __slots__ = ("storage", "offset", "shape", "strides", "dtype", "base", "_flags")

    def __init__(self, storage, shape, dtype, strides=None, offset=0, base=None):
        self.storage, self.shape, self.dtype = storage, tuple(shape), np.dtype(dtype)
        self.strides = contiguous_strides(self.shape, self.dtype.itemsize) \
            if strides is None else tuple(strides)
        self.offset, self.base, self._flags = offset, base, None

    @classmethod
    def empty(cls, shape, dtype, device_index=None):
        dtype = np.dtype(dtype)
        i = runtime.current_device() if device_index is None else device_index
        nbytes = math.prod(shape) * dtype.itemsize
        return cls(Storage(nbytes, i), shape, dtype)

    # ---- NumPy-like attributes the ops read
    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    @property
    def device_index(self):
        return self.storage.device_index

    @property
    def flags(self):
        if self._flags is None:
            c = _is_contiguous(self.shape, self.strides, self.itemsize)
            f = _is_contiguous(self.shape[::-1], self.strides[::-1], self.itemsize)
            self._flags = _Flags(c, f, True)
        return self._flags

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def _scalar(self):
        """The value of a one-element array, copied to the host (synchronizes)."""
        if self.size != 1:
            raise TypeError("only length-1 arrays can be converted to Python scalars")
        host = np.empty((), self.dtype)
        runtime.copy_device_to_host(host, self.data_ptr(), self.itemsize, self.device_index)
        return host[()]

    def __bool__(self):
        if self.size != 1:
            raise ValueError("The truth value of an array with more than one element is "
                             "ambiguous. Use a.any() or a.all()")
        return bool(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def __float__(self):
        return float(self._scalar())

    def _inplace(op):
        def fn(self, other):      # ops written for NumPy arrays use a -= b and the like
            from . import backend
            return getattr(backend, op)(self, other, out=self)
        return fn
    __iadd__, __isub__ = _inplace("add"), _inplace("subtract")
    __imul__, __itruediv__ = _inplace("multiply"), _inplace("divide")
    del _inplace

    def __repr__(self):
        return (f"DeviceArray(shape={self.shape}, dtype={self.dtype}, "
                f"device=cuda:{self.device_index})")

    def __array__(self, *args, **kwargs):
        raise TypeError(f"can't convert cuda:{self.device_index} device type tensor to "
                        f"numpy. Use Tensor.cpu() to copy the tensor to host memory first.")

    def data_ptr(self):
        return self.storage.ptr + self.offset

    def arg(self):
        """This array as a Triton kernel argument (see KernelArg)."""
        return KernelArg(self.dtype, self.storage, self.offset // self.dtype.itemsize,
                         self.shape, tuple(b // self.dtype.itemsize for b in self.strides))

    def view_of(self, shape, strides, offset):
        """A view of the same storage (byte strides and offset)."""
        return DeviceArray(self.storage, shape, self.dtype, strides, offset,
                           self if self.base is None else self.base)


class KernelArg:
    """A device array as Triton sees a tensor argument: ``data_ptr()``, ``dtype`` (a NumPy
    dtype, whose name is a Triton type name), ``untyped_storage()``, ``storage_offset()``,
    ``size()`` and ``stride()`` in elements, and ``new_empty``/``set_``, by which Triton's
    interpreter re-points it at the host copy of the storage (here: the storage itself)."""
    __slots__ = ("dtype", "storage", "offset", "shape", "strides")

    def __init__(self, dtype, storage=None, offset=0, shape=(), strides=()):
        self.dtype, self.storage, self.offset = dtype, storage, offset
        self.shape, self.strides = shape, strides

    def new_empty(self, *shape, device=None, **kwargs):
        return KernelArg(self.dtype)

    def set_(self, storage, offset, size, stride):
        self.storage, self.offset, self.shape, self.strides = storage, offset, size, stride
        return self

    def data_ptr(self):
        return self.storage.ptr + self.offset * self.dtype.itemsize

    def untyped_storage(self):
        return self.storage

    def storage_offset(self):
        return self.offset

    def size(self):
        return self.shape

    def stride(self):
        return self.strides


def _is_contiguous(shape, strides, itemsize):
    if 0 in shape:
        return True                  # an empty array is laid out every way at once
    acc = itemsize
    for n, s in zip(reversed(shape), reversed(strides)):
        if n != 1 and s != acc:
            return False
        acc *= n
    return True
