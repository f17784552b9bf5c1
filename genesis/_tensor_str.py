"""Tensor printing, as PyTorch's."""


def tensor_repr(t):
    return f"tensor({t._data!r})"
