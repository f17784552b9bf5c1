"""genesis.nn: modules, parameters, functional ops and initialisations, as torch.nn."""
from .parameter import Parameter, Buffer
from .module import Module
from .modules import *  # noqa: F401,F403
from . import functional, init, utils  # noqa: F401
