"""Dtype and device conversion: to, type, float/double/half/..., cpu, cuda."""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .. import dtypes as _dt
from ..device import device as _device, to_device


class Cast(Function):
    @staticmethod
    def forward(ctx, a, npd):
        ctx.src = a._data.dtype
        return a._be.astype(a._data, npd)

    @staticmethod
    def backward(ctx, g):
        return g.to(_dt._by_np[ctx.src]), None


class ToDevice(Function):
    @staticmethod
    def forward(ctx, a, be, npd):
        ctx.src_be, ctx.src_dt = a._be, a._data.dtype
        return be.from_host(a._be.to_host(a._data), npd)

    @staticmethod
    def backward(ctx, g):
        return ToDevice.apply(g, ctx.src_be, ctx.src_dt), None, None


def _backend_for(dev):
    from ..backend import backend_for
    return backend_for(dev)


def _is_dtype(a):
    return isinstance(a, (_dt.dtype, type, np.dtype)) or (isinstance(a, str) and a in _dt.ALIASES)


def _parse_to(args, kwargs):
    """to()'s three forms, as torch: to(device=None, dtype=None, non_blocking=False,
    copy=False), to(dtype, non_blocking=False, copy=False), to(tensor, non_blocking=False,
    copy=False)."""
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    n = len(args)
    while n and isinstance(args[n - 1], bool):      # trailing non_blocking, copy
        n -= 1
    lead, flags = args[:n], args[n:]
    if len(flags) == 2:
        copy = flags[1]
    if not lead and len(flags) <= 2:
        return dev, dt, copy
    a = lead[0]
    if len(flags) <= 2 and dev is None:
        if len(lead) == 1 and dt is None and isinstance(a, Tensor):
            return a.device, a.dtype, copy
        if len(lead) == 1 and dt is None and _is_dtype(a):
            return None, a, copy
        if isinstance(a, (str, _device, int)) and not _is_dtype(a):
            if len(lead) == 1:
                return a, dt, copy
            if len(lead) == 2 and dt is None and _is_dtype(lead[1]):
                return a, lead[1], copy
    got = [type(x).__name__ for x in args] + \
        [f"{k}={type(v).__name__}" for k, v in (("device", dev), ("dtype", dt)) if v is not None]
    got = ", ".join(got)
    raise TypeError(f"to() received an invalid combination of arguments - got ({got}), but "
                    "expected one of: (device=None, dtype=None, non_blocking=False, "
                    "copy=False), (dtype, non_blocking=False, copy=False), (tensor, "
                    "non_blocking=False, copy=False)")


def to(self, *args, **kwargs):
    dev, dt, copy = _parse_to(list(args), dict(kwargs))
    npd = _dt.to_dtype(dt).np if dt is not None else self._data.dtype
    if dev is not None:
        dev = to_device(dev)
        if dev != self.device and not (dev.index is None and dev.type == self.device.type):
            return ToDevice.apply(self, _backend_for(dev), npd)
    if npd == self._data.dtype:
        return self.clone() if copy else self
    return Cast.apply(self, npd)


def _typed(dt):
    def method(self, memory_format=None):
        return to(self, dt)
    method.__name__ = dt.name
    return method


_BY_TYPE_NAME = {f"{d.scalar_name}Tensor": d for d in _dt.ALL}


def type_(self, dtype=None, non_blocking=False):
    if dtype is None:
        return f"genesis.{self.dtype.scalar_name}Tensor"
    if isinstance(dtype, str):
        # the legacy names 'torch.FloatTensor' / 'genesis.DoubleTensor'
        lib, _, name = dtype.rpartition(".")
        if lib not in ("torch", "genesis") or name not in _BY_TYPE_NAME:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = _dt.to_dtype(_BY_TYPE_NAME[name])
    return to(self, dtype)


def type_as(self, other):
    return to(self, other.dtype)


def cpu(self, memory_format=None):
    return to(self, "cpu")


def cuda(self, device=None, non_blocking=False, memory_format=None):
    return to(self, _device("cuda", device if isinstance(device, int) else 0)
              if not isinstance(device, (str, _device)) else device)


def _new(name):
    """x.new_zeros(size) and friends: a new tensor with x's dtype and device by default."""
    def method(self, *args, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False):
        from .. import creation     # creation sits above ops in the import order
        kw = dict(dtype=self.dtype if dtype is None else dtype,
                  device=self.device if device is None else device,
                  requires_grad=requires_grad)
        if name == "tensor":
            return creation.tensor(*args, **kw)
        if name == "full":
            size, fill = args
            return creation.full(size, fill, **kw)
        return getattr(creation, name)(*args, **kw)
    method.__name__ = method.__qualname__ = "new_" + name
    return method


TENSOR_METHODS = {
    "new_zeros": _new("zeros"), "new_ones": _new("ones"), "new_empty": _new("empty"),
    "new_full": _new("full"), "new_tensor": _new("tensor"),
    "to": to, "type": type_, "type_as": type_as, "cpu": cpu, "cuda": cuda,
    "float": _typed(_dt.float32), "double": _typed(_dt.float64), "half": _typed(_dt.float16),
    "bfloat16": _typed(_dt.bfloat16), "long": _typed(_dt.int64), "int": _typed(_dt.int32),
    "short": _typed(_dt.int16), "char": _typed(_dt.int8), "byte": _typed(_dt.uint8),
    "bool": _typed(_dt.bool_),
}
