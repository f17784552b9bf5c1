"""Flatten parameters into one vector and back, as torch.nn.utils'."""
from ...tensor import Tensor
from ...ops.shape import cat as _cat

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    return cls.__qualname__ if cls.__module__ in ("builtins", "") else \
        f"{cls.__module__}.{cls.__qualname__}"


def _check_param_device(param, old):
    """The device of the parameters so far; TypeError when they differ."""
    dev = param.device
    if old is not None and dev != old:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return dev


def parameters_to_vector(parameters):
    """One 1-D tensor holding every parameter, flattened, in order (differentiable)."""
    device = None
    vec = []
    for param in parameters:
        device = _check_param_device(param, device)
        vec.append(param.view(-1))
    return _cat(vec)


def vector_to_parameters(vec, parameters):
    """Make each parameter's ``.data`` the next slice of ``vec`` (a view of it)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    device = None
    pointer = 0
    for param in parameters:
        device = _check_param_device(param, device)
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n
