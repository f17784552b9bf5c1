"""Autograd: Function, the backward engine, grad modes, gradcheck."""
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode,
                        is_grad_enabled)
from .function import Function
from .engine import backward, grad
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
