"""genesis.cpu.amp: the older spelling of `genesis.amp` for the CPU (as torch.cpu.amp)."""
from .. import dtypes as _dt
from ..amp.legacy import legacy_autocast, legacy_grad_scaler

__all__ = ["autocast", "GradScaler"]

autocast = legacy_autocast("cpu", _dt.bfloat16, __name__)
GradScaler = legacy_grad_scaler("cpu", __name__)
