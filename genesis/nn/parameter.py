"""Parameter: a Tensor that a Module registers as a learnable weight; Buffer marks a
tensor to register as a buffer (as torch.nn.Buffer)."""
from ..tensor import Tensor
from .. import creation


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and shares the memory of ``data``."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = creation.empty(0)
        if requires_grad and not data.dtype.is_floating_point and \
                not getattr(data.dtype, "is_complex", False):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        self = object.__new__(cls)
        self._data = data._data
        if data._be is not Tensor._be:
            self._be = data._be
        if data._ver is None:
            data._ver = [0]
        self._ver = data._ver
        self._requires_grad = bool(requires_grad)
        return self

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, proto):
        return Parameter, (Tensor(self).detach(), self.requires_grad)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(self.detach().clone(), self.requires_grad)
        memo[id(self)] = out
        return out


class Buffer:
    """Wraps a tensor so that assigning it to a Module attribute registers a buffer."""

    def __init__(self, data, *, persistent=True):
        self.data, self.persistent = data, persistent
