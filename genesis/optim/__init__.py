"""genesis.optim: optimizers, every PyTorch LR scheduler, and the Hugging Face warmup
schedules (functions returning a LambdaLR)."""
from .optimizer import *  # noqa: F401,F403
from .sgd import *  # noqa: F401,F403
from .adam import *  # noqa: F401,F403
from .rmsprop import *  # noqa: F401,F403
from .adagrad import *  # noqa: F401,F403
from .lamb import *  # noqa: F401,F403
from .extra import *  # noqa: F401,F403
from . import lr_scheduler  # noqa: F401
from .lr_scheduler import *  # noqa: F401,F403
from .schedules import *  # noqa: F401,F403
from .schedule_tools import *  # noqa: F401,F403
