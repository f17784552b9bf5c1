"""genesis.cuda.amp: the older spelling of `genesis.amp` for CUDA (as torch.cuda.amp,
which warns that it is deprecated in favour of torch.amp)."""
from .. import dtypes as _dt
from ..amp import autocast_mode as _am
from ..amp.legacy import legacy_autocast, legacy_grad_scaler

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]

autocast = legacy_autocast("cuda", _dt.float16, __name__)
GradScaler = legacy_grad_scaler("cuda", __name__)


def custom_fwd(fwd=None, *, cast_inputs=None):
    return _am.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    return _am.custom_bwd(bwd, device_type="cuda")
