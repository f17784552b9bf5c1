"""genesis.cuda: the CUDA device API. The GPU backend is not built yet (issue 5), so no
CUDA device is ever available; `genesis.cuda.amp` holds the familiar autocast/GradScaler
aliases."""
from . import amp  # noqa: F401

__all__ = ["is_available", "device_count", "is_bf16_supported", "amp"]


def is_available():
    """False: Genesis has no CUDA backend yet."""
    return False


def device_count():
    return 0


def is_bf16_supported(including_emulation=True):
    return False
