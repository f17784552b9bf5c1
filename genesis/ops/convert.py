"""Dtype and device conversion: to, type, float/double/half/..., cpu, cuda."""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor, _make
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


def _parse_to(args, kwargs):
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dev, dt = a.device, a.dtype
        elif isinstance(a, (_dt.dtype, type)) or (isinstance(a, str) and a in _dt.ALIASES) \
                or isinstance(a, np.dtype):
            dt = a
        elif isinstance(a, (str, _device, int)):
            dev = a
        elif isinstance(a, bool):
            pass
        else:
            raise TypeError(f"to() received an invalid combination of arguments: {a!r}")
    return dev, dt, copy


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


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half",
               "bfloat16": "BFloat16", "int64": "Long", "int32": "Int", "int16": "Short",
               "int8": "Char", "uint8": "Byte", "bool": "Bool"}
_BY_TYPE_NAME = {f"{v}Tensor": k for k, v in _TYPE_NAMES.items()}


def type_(self, dtype=None, non_blocking=False):
    if dtype is None:
        return f"genesis.{_TYPE_NAMES[self.dtype.name]}Tensor"
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


TENSOR_METHODS = {
    "to": to, "type": type_, "type_as": type_as, "cpu": cpu, "cuda": cuda,
    "float": _typed(_dt.float32), "double": _typed(_dt.float64), "half": _typed(_dt.float16),
    "bfloat16": _typed(_dt.bfloat16), "long": _typed(_dt.int64), "int": _typed(_dt.int32),
    "short": _typed(_dt.int16), "char": _typed(_dt.int8), "byte": _typed(_dt.uint8),
    "bool": _typed(_dt.bool_),
}
