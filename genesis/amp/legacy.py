"""The older per-device spellings (torch.cuda.amp.autocast, torch.cpu.amp.GradScaler,
...): subclasses fixing the device that warn, as PyTorch's, that they are deprecated."""
import warnings

from .autocast_mode import autocast as _autocast
from .grad_scaler import GradScaler as _GradScaler


def _deprecated(what, device):
    warnings.warn(f"`torch.{device}.amp.{what}(args...)` is deprecated. Please use "
                  f"`torch.amp.{what}('{device}', args...)` instead.", FutureWarning,
                  stacklevel=3)


def legacy_autocast(device, default_dtype, module):
    class autocast(_autocast):
        def __init__(self, enabled=True, dtype=default_dtype, cache_enabled=True):
            _deprecated("autocast", device)
            super().__init__(device, dtype=dtype, enabled=enabled,
                             cache_enabled=cache_enabled)
    autocast.__doc__ = (f"``genesis.{device}.amp.autocast(enabled=True, dtype="
                        f"{default_dtype}, cache_enabled=True)``: "
                        f"``genesis.amp.autocast('{device}', ...)``.")
    autocast.__module__ = module
    return autocast


def legacy_grad_scaler(device, module):
    class GradScaler(_GradScaler):
        def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                     growth_interval=2000, enabled=True):
            _deprecated("GradScaler", device)
            super().__init__(device, init_scale=init_scale, growth_factor=growth_factor,
                             backoff_factor=backoff_factor, growth_interval=growth_interval,
                             enabled=enabled)
    GradScaler.__doc__ = (f"``genesis.{device}.amp.GradScaler(...)``: "
                          f"``genesis.amp.GradScaler('{device}', ...)``.")
    GradScaler.__module__ = module
    return GradScaler
