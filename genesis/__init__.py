"""Genesis: a deep learning framework whose public API is PyTorch's."""
from . import dtypes as _dtypes
from .dtypes import (dtype, bool_ as bool, uint8, int8, int16, int32, int64, float16,
                     bfloat16, float32, float64, promote_types, result_type, finfo, iinfo,
                     set_default_dtype, get_default_dtype)
from .device import device
from .tensor import Tensor, Size
from .autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode,
                                 is_grad_enabled, is_inference_mode_enabled)
from . import autograd, testing
from .creation import *  # noqa: F401,F403
from .ops.elementwise import *  # noqa: F401,F403  (functions named as PyTorch's)
from .ops.reduce import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.index import *  # noqa: F401,F403
from .ops.nn import *  # noqa: F401,F403
from .ops.extra_math import *  # noqa: F401,F403
from .ops.extra_shape import *  # noqa: F401,F403
from .ops.statistics import *  # noqa: F401,F403
from .random import *  # noqa: F401,F403
from ._tensor_str import set_printoptions, get_printoptions, printoptions
from . import linalg, random as _random
from .tensor import bind_methods as _bind

_bind(_random.TENSOR_METHODS)      # random fills need the creation layer, so bound last

half, float, double, long, short = float16, float32, float64, int64, int16


def is_tensor(obj):
    """True for a genesis Tensor (or a Parameter)."""
    return isinstance(obj, Tensor)


is_floating_point, is_complex, numel = Tensor.is_floating_point, Tensor.is_complex, Tensor.numel
int = int32
cfloat = None

__version__ = "0.1.0"

from .serialization import *  # noqa: E402,F401,F403  (save, load, save/load_checkpoint)
from . import serialization, nn, optim, utils  # noqa: E402,F401  (torch.nn after `import torch`)
from . import amp, cuda, cpu  # noqa: E402,F401
from .backend.threads import get_num_threads, set_num_threads  # noqa: E402,F401
from . import backends  # noqa: E402,F401
from .backends import (set_float32_matmul_precision,  # noqa: E402,F401
                       get_float32_matmul_precision)
from .amp.autocast_mode import (autocast, is_autocast_enabled,  # noqa: E402,F401
                                set_autocast_enabled, get_autocast_dtype, set_autocast_dtype,
                                is_autocast_cache_enabled, set_autocast_cache_enabled,
                                clear_autocast_cache, get_autocast_cpu_dtype,
                                get_autocast_gpu_dtype, is_autocast_cpu_enabled)
# the nn ops PyTorch also has at top level with F's positional signature
from .nn.functional import (relu_, selu, selu_, celu, celu_, prelu, threshold,  # noqa: E402,F401
                            threshold_, hardshrink, conv1d, conv2d, conv3d, conv_transpose1d,
                            conv_transpose2d, conv_transpose3d, avg_pool1d, max_pool1d,
                            max_pool2d, max_pool3d, adaptive_avg_pool1d, layer_norm,
                            group_norm, rms_norm, dropout, alpha_dropout,
                            feature_alpha_dropout)
