"""genesis.nn.functional: the functional forms of the layers, as torch.nn.functional.
Each family lives in its own module under genesis/ops/; this module only gathers them."""
from ..ops.activation import *  # noqa: F401,F403
from ..ops.loss import *  # noqa: F401,F403
from ..ops.conv import *  # noqa: F401,F403
from ..ops.pooling import *  # noqa: F401,F403
from ..ops.resample import *  # noqa: F401,F403
from ..ops.norm import *  # noqa: F401,F403
from ..ops.sparse import *  # noqa: F401,F403
from ..ops.dropout import *  # noqa: F401,F403
from ..ops.attention import *  # noqa: F401,F403
from ..ops.linear import *  # noqa: F401,F403
