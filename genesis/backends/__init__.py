"""genesis.backends: PyTorch's backend switches that Genesis honours.

``genesis.backends.cuda.matmul.allow_tf32`` (default False, as PyTorch) lets float32
matmuls on CUDA use TF32 tensor cores; ``genesis.set_float32_matmul_precision('high')``
turns it on, 'highest' off. The cuDNN switches exist so that scripts setting them run; Genesis
has no cuDNN, and its convolutions follow the matmul switch.
"""
import warnings

from . import cuda, cudnn  # noqa: F401

_PRECISIONS = ("highest", "high", "medium")


def set_float32_matmul_precision(precision):
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"setFloat32MatmulPrecision call has no effect.")
        return
    cuda.matmul.allow_tf32 = precision != "highest"


def get_float32_matmul_precision():
    return "high" if cuda.matmul.allow_tf32 else "highest"
