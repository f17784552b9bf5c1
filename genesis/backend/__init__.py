"""Backends: arrays and primitives, no autograd. See base.py for the contract."""
import numpy as np

from . import cpu


def backend_of(arr):
    """The backend that owns an array."""
    if isinstance(arr, np.ndarray):
        return cpu
    from .cuda import backend   # only device arrays reach here
    return backend


def backend_for(dev):
    """The backend serving a genesis.device."""
    if dev.type == "cpu":
        return cpu
    if dev.type == "cuda":
        try:
            from .cuda import backend
        except ImportError as e:
            raise RuntimeError(str(e)) from None
        return backend
    raise RuntimeError(f"no backend for device {dev}")
