"""Function: an op's forward and backward in one class. An instance is both the ``ctx``
its forward and backward see and the node of the graph (``tensor.grad_fn``)."""
import numpy as np

from .. import dtypes as _dt
from ..tensor import Tensor, _make
from .engine import acc_node, next_seq, refresh_view
from .grad_mode import state as _state

_new = object.__new__


def _edge(x):
    """The graph edge (node, output_nr, shape, dtype) into argument x, or None when x is
    not a tensor requiring grad; a view whose base changed in place is refreshed first."""
    if isinstance(x, Tensor) and x._requires_grad:
        if x._base is not None and x._ver[0] != x._hist_ver:
            refresh_view(x)
        d = x._data
        return (x.grad_fn or x._acc or acc_node(x), x._output_nr, d.shape, d.dtype)
    return None


class Function:
    """Subclass with ``forward(ctx, *args)`` and ``backward(ctx, *grads)`` static methods
    and call ``apply``. Built-in ops' forwards return backend arrays; custom ones return
    Tensors. ``backward`` returns one gradient (or None) per forward argument, written
    with genesis ops so that ``create_graph=True`` differentiates it again."""

    _save_output = False     # built-ins whose backward reads their output set this
    _materialize = True
    _freed = False
    _saved = ()
    _saved_ver = None
    _hooks = None            # {output_nr: [tensor hooks]}
    _retain = None           # {output_nr: weakref of a tensor that retains its grad}
    _n_out = 1
    _out_meta = None
    _non_diff = None
    _dirty = None
    _edges = ()
    _buf = None              # incoming gradients while pending in the engine
    needs_input_grad = ()
    _array_forward = False   # set for genesis's own ops, whose forwards compute on arrays
    # 1: only the first argument can be a tensor (the others are dims, flags, dtypes), so
    # apply records its edge alone and pads the rest with None
    _tensor_args = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_array_forward" not in cls.__dict__:
            cls._array_forward = cls.__module__.startswith("genesis.ops.")

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method "
                                  "for your custom autograd.Function to use it with "
                                  "backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args):
        ctx = _new(cls)
        edges = None
        if _state.grad_enabled:
            for a in args:
                if isinstance(a, Tensor) and (a._requires_grad or a._base is not None and (
                        a._ver[0] != a._hist_ver and _refreshed(a))):
                    # one edge per argument: (node, output_nr, shape, dtype) of an input
                    # that requires grad, else None; the engine reduces a broadcast
                    # gradient to that shape and casts it to that dtype
                    n = len(args)
                    if n == 1 or cls._tensor_args == 1 and a is args[0]:
                        # one tensor argument (a unary op, or a reduction whose other
                        # arguments are dims and flags): the common case, inlined
                        if a._base is not None and a._ver[0] != a._hist_ver:
                            refresh_view(a)
                        d = a._data
                        edges = ((a.grad_fn or a._acc or acc_node(a), a._output_nr,
                                  d.shape, d.dtype),)
                        if n == 1:
                            ctx._edges, ctx.needs_input_grad = edges, _ONE
                        else:
                            ctx._edges, ctx.needs_input_grad = edges + _PAD[n], _FIRST[n]
                    elif n == 2 or n == 3 and not (isinstance(args[2], Tensor)
                                                   and args[2]._requires_grad):
                        # a binary op (with a scalar third argument such as add's
                        # alpha): unrolled, the next common case
                        ex, ey = _edge(args[0]), _edge(args[1])
                        if n == 2:
                            edges = ctx._edges = (ex, ey)
                            ctx.needs_input_grad = (ex is not None, ey is not None)
                        else:
                            edges = ctx._edges = (ex, ey, None)
                            ctx.needs_input_grad = (ex is not None, ey is not None, False)
                    else:
                        edges = [_edge(x) for x in args]
                        ctx._edges = edges
                        ctx.needs_input_grad = tuple(e is not None for e in edges)
                    ctx._seq = next_seq()
                    break
        try:
            if cls._array_forward:
                out = cls.forward(ctx, *args)
            else:               # a Tensor-level forward must not record a graph of its own
                prev, _state.grad_enabled = _state.grad_enabled, False
                try:
                    out = cls.forward(ctx, *args)
                finally:
                    _state.grad_enabled = prev
        except ValueError as e:
            if "broadcast" in str(e):
                raise broadcast_error(*[a.shape for a in args if isinstance(a, Tensor)]) \
                    from None
            raise
        if type(out) is not _ndarray:
            if isinstance(out, _np_generic):
                out = _asarray(out)      # NumPy returns scalars for full reductions
            elif edges is None:
                if type(out) is tuple:
                    if len(out) == 2 and type(out[0]) is _ndarray and \
                            type(out[1]) is _ndarray:   # a fused two-gradient backward op
                        t, u = _new(Tensor), _new(Tensor)
                        t._data, u._data = out
                        t._requires_grad = u._requires_grad = False
                        return t, u
                    return tuple([_plain(o) for o in out])
                return _plain(out)
            else:
                return _attach_outputs(cls, ctx, out, args)
        t = _new(Tensor)                 # one array out: the common case, inlined
        t._data = out
        if edges is None:
            # stored rather than left to the class default: the next op reads it, and an
            # instance attribute reads faster than a class attribute
            t._requires_grad = False
        elif out.dtype in _FLOAT_NP and ctx._non_diff is None:
            t._requires_grad, t.grad_fn = True, ctx
            if cls._save_output:
                box = t._ver = [0]
                ctx._out = (out, box)
        return t

    # ---- ctx API
    def save_for_backward(self, *tensors):
        """Keep tensors (or None, or Python numbers) for backward, with their versions.
        A tensor without a version box is at version 0 (its first in-place change makes
        the box), so only boxed tensors need their version written down."""
        self._saved = tensors
        vers = None
        for i, t in enumerate(tensors):
            if isinstance(t, Tensor) and t._ver:
                if vers is None:
                    vers = [0] * len(tensors)
                vers[i] = t._ver[0]
        if vers is not None or self._saved_ver is not None:    # (None: the class default)
            self._saved_ver = vers

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access "
                "saved tensors after they have already been freed). Saved intermediate "
                "values of the graph are freed when you call .backward() or autograd.grad(). "
                "Specify retain_graph=True if you need to backward through the graph a second "
                "time or if you need to access saved tensors after calling backward.")
        saved = self._saved
        vers = self._saved_ver
        if vers is None:        # all saved at version 0: the common case
            for t in saved:
                if isinstance(t, Tensor) and t._ver and t._ver[0]:
                    _raise_modified(t, 0)
            return saved
        for i, t in enumerate(saved):
            if isinstance(t, Tensor) and t._ver:
                v = vers[i]
                if t._ver[0] != v:
                    _raise_modified(t, v)
        return saved

    @property
    def output(self):
        """The op's (single) output, for backwards that read it; checked for in-place
        changes like a saved tensor. Kept as data so the node does not own its output."""
        if self._freed:
            self.saved_tensors   # raises the freed-graph error
        data, box = self._out
        if box[0]:
            t = _make(data)
            t.grad_fn, t._ver = self, box
            _raise_modified(t, 0)
        t = _new(Tensor) if type(data) is _ndarray else _make(data)
        t._data = data
        t._requires_grad, t.grad_fn, t._ver = True, self, box
        return t

    def mark_non_differentiable(self, *tensors):
        self._non_diff = {id(t) for t in tensors}

    def mark_dirty(self, *tensors):
        """Declare inputs that forward changed in place: they are returned as themselves,
        with this node as their history."""
        self._dirty = {id(t) for t in tensors}
        for t in tensors:
            t._bump_version()

    def set_materialize_grads(self, value):
        self._materialize = bool(value)

    # ---- graph node API
    @property
    def next_functions(self):
        return tuple((e[0], e[1]) if e is not None else (None, 0) for e in self._edges)

    @classmethod
    def name(cls):
        n = cls.__name__
        return n if n.endswith("Backward") else n + "Backward"

    def register_hook(self, hook):
        raise NotImplementedError("hooks on graph nodes are not supported; use "
                                  "Tensor.register_hook")

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"


def _refreshed(a):
    """Refresh a stale view (see engine.refresh_view); whether it now requires grad."""
    refresh_view(a)
    return a._requires_grad


def broadcast_error(*shapes):
    """PyTorch's RuntimeError for shapes that do not broadcast, naming the first pair
    of sizes that clash (counted from the right, as broadcasting aligns them)."""
    for i, a in enumerate(shapes):
        for b in shapes[i + 1:]:
            for k in range(1, min(len(a), len(b)) + 1):
                if a[-k] != b[-k] and a[-k] != 1 and b[-k] != 1:
                    dim = max(len(a), len(b)) - k
                    return RuntimeError(
                        f"The size of tensor a ({a[-k]}) must match the size of tensor b "
                        f"({b[-k]}) at non-singleton dimension {dim} (shapes {list(a)} and "
                        f"{list(b)})")
    return RuntimeError(f"shapes {[list(s) for s in shapes]} cannot be broadcast together")


def _raise_modified(t, expected):
    fn = t.grad_fn
    where = f", which is output {t._output_nr} of {fn.name()}," if fn is not None else ""
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{t.dtype} {list(t.shape)}]{where} is at version {t._version}; "
        f"expected version {expected} instead. Hint: the tensor was changed in place after "
        "it was saved for backward; use an out-of-place op or .clone() it first.")


_ONE = (True,)
_PAD = [(None,) * (n - 1) for n in range(1, 17)]
_PAD.insert(0, ())
_FIRST = [(True,) + (False,) * (n - 1) for n in range(1, 17)]
_FIRST.insert(0, ())
_PY_SCALARS = (int, float, bool)
_ndarray = np.ndarray
_np_generic = np.generic
_asarray = np.asarray
_FLOAT_NP = _dt.FLOAT_NP


def _plain(o):
    if type(o) is _ndarray:
        t = _new(Tensor)
        t._data = o
        return t
    if isinstance(o, Tensor) or o is None or type(o) in _PY_SCALARS:
        return o
    return _make(o)


def _attach_outputs(cls, ctx, out, args):
    if type(out) is tuple:
        ctx._n_out = len(out)
        outs = tuple(_attach(ctx, o, i, args) for i, o in enumerate(out))
        ctx._out_meta = [(o._data.shape, o._data.dtype, o._be) if isinstance(o, Tensor)
                         else None for o in outs]
        return outs
    out = _attach(ctx, out, 0, args)
    if cls._save_output and isinstance(out, Tensor):
        box = out._ver = [0]
        ctx._out = (out._data, box)
    return out


def _attach(ctx, o, i, args):
    if type(o) is _ndarray:          # the common case, inlined
        t = _new(Tensor)
        t._data = o
        if o.dtype in _FLOAT_NP and not ctx._non_diff:
            t._requires_grad, t.grad_fn, t._output_nr = True, ctx, i
        return t
    if o is None or type(o) in _PY_SCALARS:
        return o
    if not isinstance(o, Tensor):
        o = _make(o)
    non_diff = ctx._non_diff is not None and id(o) in ctx._non_diff
    if any(o is a for a in args):
        if ctx._dirty is not None and id(o) in ctx._dirty:
            # changed in place by forward (mark_dirty): the input itself takes the new history
            if o._requires_grad and o.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad has been used in an "
                                   "in-place operation.")
        else:       # an input returned as it is: an alias sharing memory and version
            src, o = o, _make(o._data)
            if src._ver is None:
                src._ver = [0]
            o._ver = src._ver
    if non_diff or not o.is_floating_point():
        return o
    o._requires_grad, o.grad_fn, o._output_nr = True, ctx, i
    return o
