"""genesis.cpu: `genesis.cpu.amp.autocast` and `GradScaler`, as torch.cpu.amp."""
from . import amp  # noqa: F401
