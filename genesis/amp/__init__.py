"""genesis.amp: mixed precision — autocast regions and GradScaler, as torch.amp."""
from .autocast_mode import (autocast, custom_fwd, custom_bwd,  # noqa: F401
                            is_autocast_available)
from .grad_scaler import GradScaler, OptState  # noqa: F401
