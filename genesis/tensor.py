"""Tensor: an array of a backend plus autograd metadata.

Creation is hot (every op makes one), so a Tensor is a plain object whose autograd
fields default to class attributes: an op's CPU result sets only ``_data`` and its grad
fields. Methods that are ops are bound from ``genesis.ops`` at the bottom of this file
(one table per ops module). The class sits below ``autograd`` (which wraps outputs in it)
rather than above it as DESIGN.md drew it; its op methods still come from ``ops``.
"""
import numpy as np

from . import dtypes as _dt
from .backend import cpu as _cpu

_np_ndarray = np.ndarray
_by_np = _dt._by_np


class Tensor:
    # autograd metadata; instances override only what differs
    _requires_grad = False
    _grad = None
    grad_fn = None
    _output_nr = 0
    _ver = None          # version box [n], shared by a tensor and its views
    _base = None         # the tensor this one is a view of
    _view_fn = None      # base -> this view, replayed after an in-place change of the view
    _hist_ver = None     # a view's version when its history was last derived
    _acc = None          # this leaf's AccumulateGrad node
    _retains_grad = False
    _be = _cpu           # the backend; CPU tensors never set it
    __array_priority__ = 1000   # NumPy defers to Tensor's reflected operators

    def __new__(cls, *args, **kwargs):
        # the legacy constructor: Tensor(sequence) -> default float dtype; Tensor(*sizes) or
        # Tensor(Size) -> that shape; Tensor(tensor) -> an alias of it (as torch.Tensor)
        self = object.__new__(cls)
        d = _dt.get_default_dtype().np
        a = args[0] if len(args) == 1 else None
        if isinstance(a, Tensor):
            self._data = a._data
            if a._be is not _cpu:
                self._be = a._be
            # an alias of a's memory: in-place changes through either must show in both
            if a._ver is None:
                a._ver = [0]
            self._ver = a._ver
            return self
        if a is not None and not isinstance(a, (int, np.integer, Size)):
            if np.ndim(a) == 0 and not isinstance(a, np.ndarray):
                raise TypeError(f"new(): data must be a sequence (got {type(a).__name__})")
            self._data = np.array(a, dtype=d)
            return self
        shape = tuple(a) if isinstance(a, Size) else (args or (0,))
        for s in shape:
            if not isinstance(s, (int, np.integer)):
                raise TypeError(f"new(): argument 'size' must be a tuple of ints, but found "
                                f"element of type {type(s).__name__}")
            if s < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                                   f"{list(shape)}")
        self._data = np.zeros(shape, d)
        return self

    def __init__(self, *args, **kwargs):
        pass

    # ---- what it is
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return _by_np[self._data.dtype]

    @property
    def device(self):
        return self._be.device_of(self._data)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def stride(self, dim=None):
        item = self._data.itemsize
        s = tuple(st // item for st in self._data.strides)
        return s if dim is None else s[_wrap_dim(dim, self._data.ndim)]

    def storage_offset(self):
        base = self._data
        while base.base is not None and isinstance(base.base, _np_ndarray):
            base = base.base
        if base is self._data:
            return 0
        off = self._data.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        return off // self._data.itemsize

    def data_ptr(self):
        return self._data.__array_interface__["data"][0]

    def is_contiguous(self, memory_format=None):
        return self._data.flags.c_contiguous

    def is_floating_point(self):
        return self._data.dtype.kind == "f" or self._data.dtype == _dt.bfloat16.np

    def is_complex(self):
        return False

    def get_device(self):
        """-1 for a CPU tensor, else the CUDA device index (as torch's)."""
        return -1 if self._be is _cpu else self.device.index

    @property
    def _version(self):
        return self._ver[0] if self._ver else 0

    def _bump_version(self):
        box = self._ver
        if box is None:
            self._ver = [1]
        else:
            box[0] += 1

    # ---- autograd metadata
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want "
                    "to use a computed variable in a subgraph that doesn't require "
                    "differentiation use var_no_grad = var.detach().")
            return self
        if requires_grad and not self.is_floating_point():
            raise RuntimeError("only Tensors of floating point and complex dtype can "
                               f"require gradients (got {self.dtype})")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, g):
        if g is not None:
            if not isinstance(g, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"grad of type {type(g).__name__}")
            if g._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: grad shape "
                                   f"{tuple(g.shape)}, tensor shape {tuple(self.shape)}")
            if g._data.dtype != self._data.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: "
                                   f"{g.dtype} vs {self.dtype}")
        self._grad = g

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def data(self):
        return _make(self._data)

    @data.setter
    def data(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(other).__name__}")
        if self._requires_grad and not other.is_floating_point():
            raise RuntimeError("data set to a tensor that requires gradients must be floating "
                               f"point or complex dtype (got {other.dtype})")
        self._data = other._data
        if other._be is not self._be:
            self._be = other._be

    def detach(self):
        """A tensor sharing this one's memory and version counter, outside the graph."""
        t = _make(self._data)
        if self._ver is None:
            self._ver = [0]
        t._ver = self._ver
        return t

    def detach_(self):
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        self._output_nr = 0
        return self

    def retain_grad(self):
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        from .autograd.engine import retain_grad
        retain_grad(self)

    def register_hook(self, hook):
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        from .autograd.engine import register_tensor_hook
        return register_tensor_hook(self, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        if inputs is None and gradient is None:     # loss.backward(): straight to the engine
            _run_backward((self,), (None,), retain_graph, create_graph)
        else:
            _backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # ---- conversion to Python and NumPy
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be "
                               "converted to Scalar")
        return self._be.to_host(self._data).reshape(()).item()

    def tolist(self):
        return self._be.to_host(self._data).tolist()

    def numpy(self, *, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if self.device.type != "cpu":
            if not force:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. "
                                "Use Tensor.cpu() to copy the tensor to host memory first.")
            return self._be.to_host(self._data)
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = self._be.to_host(self._data)
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        # np.array(t) asks for a copy; on the CPU to_host hands back the tensor's own memory
        return a.copy() if copy and a is self._data else a

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with "
                               f"{'no values' if self._data.size == 0 else 'more than one value'}"
                               " is ambiguous")
        return bool(self.item())

    def _scalar(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __float__(self):
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to "
                            "an index")
        return int(self.item())

    def __complex__(self):
        return complex(self._scalar())

    __hash__ = object.__hash__

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import tensor_repr
        return tensor_repr(self, tensor_contents=tensor_contents)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._be.to_host(self._data), self._requires_grad))

    def _fresh_leaf(self, data):
        """A leaf of self's type holding ``data``, with self's requires_grad and its
        non-autograd attributes (a subclass's), outside any graph and not a view."""
        t = object.__new__(type(self))
        t.__dict__.update({k: v for k, v in self.__dict__.items() if k not in _GRAPH_ATTRS})
        t._data = data
        t._requires_grad = self._requires_grad
        return t

    def __copy__(self):
        # as torch: a leaf sharing self's memory (and here also its version counter, so
        # that in-place changes through it are seen by tensors saved for backward)
        t = self._fresh_leaf(self._data)
        if self._ver is None:
            self._ver = [0]
        t._ver = self._ver
        return t

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.")
        t = self._fresh_leaf(self._be.copy(self._data))
        if self._grad is not None:
            t._grad = self._grad.clone()
        memo[id(self)] = t
        return t

    def is_inference(self):
        # genesis does not mark tensors made under inference_mode (they are ordinary
        # tensors outside the graph), so none is an inference tensor
        return False


# per-tensor autograd and view state that a copy must not inherit
_GRAPH_ATTRS = frozenset(("_data", "_requires_grad", "_grad", "grad_fn", "_output_nr", "_ver",
                          "_base", "_view_fn", "_hist_ver", "_multi", "_acc", "_retains_grad"))


def _rebuild(arr, requires_grad):
    t = _make(np.array(arr))
    t._requires_grad = requires_grad
    return t


class Size(tuple):
    """``tensor.shape``: a tuple that prints like ``torch.Size``."""

    def __repr__(self):
        return f"genesis.Size({list(self)})"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        return Size(tuple.__add__(tuple(other), self))

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__


def _make(arr):
    """Wrap a backend array (or a NumPy scalar) as a Tensor outside any graph."""
    t = object.__new__(Tensor)
    if type(arr) is not _np_ndarray:
        if isinstance(arr, (np.generic, _np_ndarray)):
            arr = np.asarray(arr)
        else:
            from .backend import backend_of
            t._be = backend_of(arr)
    t._data = arr
    return t


def _wrap_dim(dim, ndim):
    """A dim in [-ndim, ndim) as a non-negative index; IndexError like PyTorch's."""
    n = ndim if ndim else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}]"
                         f", but got {dim})")
    return dim + n if dim < 0 else dim


def bind_methods(table):
    """Make each function of ``table`` (name -> function) a Tensor method."""
    for name, fn in table.items():
        setattr(Tensor, name, fn)


# ---- methods that are ops, bound from their modules' tables
from . import ops as _ops  # noqa: E402

for _table in _ops.TENSOR_METHOD_TABLES:
    bind_methods(_table)

from .autograd.engine import backward as _backward  # noqa: E402  (loaded by ops by now)
from .autograd.engine import run_backward as _run_backward  # noqa: E402
