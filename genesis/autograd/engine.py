"""The backward engine: grad_fn nodes run newest first (creation order is a topological
order), gradients of several paths summed, broadcasting undone at each edge, leaf
accumulation without needless copies, tensor hooks, retain_grad, graph freeing."""
import itertools
import weakref

import numpy as _np
from heapq import heappush as _heappush, heappop as _heappop

from ..dtypes import _by_np
from ..tensor import Tensor, _make
from .grad_mode import state as _state
from .. import autocast_state as _amp


_ndarray = _np.ndarray
_counter = itertools.count()
next_seq = _counter.__next__     # creation order of graph nodes; see run_backward


class AccumulateGrad:
    """The node that stores a leaf's gradient into ``.grad``."""
    _hooks = None
    _retain = None
    _edges = ()
    _n_out = 1
    _buf = None
    next_functions = ()

    def __init__(self, variable):
        self._var = weakref.ref(variable)
        self._seq = next_seq()

    @property
    def variable(self):
        return self._var()

    @staticmethod
    def name():
        return "AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


_AG = AccumulateGrad


def acc_node(t):
    if t._acc is None:
        t._acc = AccumulateGrad(t)
    return t._acc


class RemovableHandle:
    def __init__(self, lst, item):
        self._lst, self._item = lst, item

    def remove(self):
        try:
            self._lst.remove(self._item)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def refresh_view(t):
    """Bring a view's history up to date after its memory changed through its base or
    another view of it (their shared version moved on): re-derive it from the base as the
    base is now, as PyTorch does, so that it never backpropagates through stale history."""
    if t._ver[0] != t._hist_ver:
        base = t._base
        if base._requires_grad and _state.grad_enabled:
            v = t._view_fn(base)
            t._requires_grad, t.grad_fn, t._output_nr = True, v.grad_fn, v._output_nr
        t._hist_ver = t._ver[0]


def _node_of(t):
    if t._base is not None:
        refresh_view(t)
    return (t.grad_fn, t._output_nr) if t.grad_fn is not None else (acc_node(t), 0)


def register_tensor_hook(t, hook):
    node, nr = _node_of(t)
    if node._hooks is None:
        node._hooks = {}
    lst = node._hooks.setdefault(nr, [])
    lst.append(hook)
    return RemovableHandle(lst, hook)


def retain_grad(t, old=None):
    """Keep t's gradient in t.grad; ``old``: the (node, output_nr) t's history had before
    an in-place change, whose retention moves to the new history."""
    if old is not None and old[0] is not None and old[0]._retain:
        old[0]._retain.pop(old[1], None)
    node, nr = _node_of(t)
    if node._retain is None:
        node._retain = {}
    node._retain[nr] = weakref.ref(t)
    t._retains_grad = True


def _zeros(meta):
    shape, dtype, be = meta
    return _make(be.full(shape, 0, dtype))


def _owns(g):
    """Whether g's array is a plain buffer of its own that may become a .grad."""
    f = g._data.flags
    return f.c_contiguous and f.writeable and g._data.base is None


def _accumulate_leaf(var, g, owned, create_graph):
    old = var._grad
    if old is None:
        if create_graph:        # keep the graph, but never alias a tensor held elsewhere
            var._grad = g if owned and _owns(g) else g.clone()
        else:
            var._grad = _make(g._data if owned and _owns(g) else g._be.copy(g._data))
    elif create_graph or _state.grad_enabled:
        var._grad = old + g
    else:
        try:
            old._be.add(old._data, g._data, out=old._data)
        except (ValueError, TypeError):
            var._grad = old + g


def _check_root_grad(i, t, g):
    if g is None:
        if t._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs "
                               f"(the output has shape {list(t.shape)})")
        d = t._data
        if type(d) is _ndarray and not d.ndim:     # the usual scalar loss: np.full is slow
            return _make(_np.array(1, d.dtype))
        return _make(t._be.full(d.shape, 1, d.dtype))
    if not isinstance(g, Tensor):
        raise TypeError(f"gradients must be Tensors or None, got {type(g).__name__}")
    if g._data.shape != t._data.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                           f"{g.shape} and output[{i}] has a shape of {t.shape}.")
    return g


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None,
                 allow_unused=False, accumulate=True):
    """Backpropagate from ``tensors``. With ``inputs``, returns their gradients (and, when
    ``accumulate`` is False, leaves every ``.grad`` untouched)."""
    if retain_graph is None:
        retain_graph = create_graph
    roots = []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               "have a grad_fn")
        node, nr = _node_of(t)
        roots.append((node, nr, _check_root_grad(i, t, g)))

    capture = None
    if inputs is not None:
        capture = {}
        for k, x in enumerate(inputs):
            if not isinstance(x, Tensor) or not x._requires_grad:
                raise RuntimeError(f"One of the differentiated Tensors (input {k}) does not "
                                   "require grad")
            node, nr = _node_of(x)
            capture.setdefault((id(node), nr), []).append(k)
        results = [None] * len(inputs)

    # with inputs, run only the nodes through which some input is reached
    runs = None if capture is None else _nodes_reaching(roots, capture)

    # Every edge runs from a newer node to an older one (an op's inputs exist before it),
    # so taking the pending node with the highest sequence number first guarantees that all
    # gradients flowing into it have arrived: no dependency-counting pass is needed.
    # A pending node keeps its incoming gradients in ``_buf`` until it runs.
    heap = []
    stealable = {}       # AccumulateGrad -> whether its pending gradient is referenced nowhere
    for node, nr, g in roots:
        buf = node._buf
        if buf is None:
            buf = node._buf = [None] * node._n_out
            _heappush(heap, (-node._seq, node))
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    prev = _state.grad_enabled
    _state.grad_enabled = create_graph
    # backward ops run in the dtypes their forward ops chose: autocast is off meanwhile
    amp_prev = None
    if _amp._open_regions:
        amp_prev = dict(_amp.state.enabled)
        _amp.state.enabled.update(cpu=False, cuda=False)
    # the next node to run when it is known to be the newest pending one (a chain of ops
    # hands its gradient on to one input): it bypasses the heap
    nxt = None
    try:
        while True:
            if nxt is not None:
                node, nxt = nxt, None
            elif heap:
                node = _heappop(heap)[1]
            else:
                break
            grads = node._buf
            node._buf = None
            if node._hooks or node._retain:
                _run_tensor_hooks(node, grads, create_graph)
            if capture is not None:
                for nr in range(len(grads)):
                    ks = capture.get((id(node), nr))
                    if ks and grads[nr] is not None:
                        for k in ks:
                            results[k] = grads[nr]
            if type(node) is _AG:
                var = node._var()
                g = grads[0]
                if var is not None and g is not None and accumulate and (
                        capture is None or (id(node), 0) in capture):
                    _accumulate_leaf(var, g, stealable.get(node, False), create_graph)
                continue
            if runs is not None and id(node) not in runs:
                continue
            edges = node._edges
            if node._n_out == 1:
                in_grads = type(node).backward(node, grads[0])
            else:
                if node._materialize:
                    grads = [g if g is not None or m is None else _zeros(m)
                             for g, m in zip(grads, node._out_meta)]
                in_grads = type(node).backward(node, *grads)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if len(in_grads) != len(edges):
                raise RuntimeError(f"function {node.name()} returned an incorrect number "
                                   f"of gradients (expected {len(edges)}, got "
                                   f"{len(in_grads)})")
            if not retain_graph:
                node._freed = True
                node._saved = ()
                if node._save_output:
                    node._out = None
            for e, g in zip(edges, in_grads):
                if e is None or g is None:
                    continue
                child, nr, shape, dtype = e
                if runs is not None and id(child) not in runs and (id(child), nr) \
                        not in capture and type(child) is not _AG:
                    continue
                gd = g._data
                if gd.shape != shape or gd.dtype is not dtype:
                    fresh = False
                    if gd.shape != shape:
                        g = _sum_to(g, shape, node)
                        fresh = True
                    if gd.dtype != dtype:
                        g = g.to(_by_np[dtype])
                        fresh = True
                else:
                    fresh = False
                buf = child._buf
                if buf is None:
                    if child._n_out == 1:
                        child._buf = [g]
                    else:
                        buf = child._buf = [None] * child._n_out
                        buf[nr] = g
                    s = child._seq
                    if nxt is None:
                        if heap and -heap[0][0] > s:
                            _heappush(heap, (-s, child))
                        else:
                            nxt = child
                    elif s > nxt._seq:
                        _heappush(heap, (-nxt._seq, nxt))
                        nxt = child
                    else:
                        _heappush(heap, (-s, child))
                elif buf[nr] is None:
                    buf[nr] = g
                else:           # a second path into this input: sum the gradients
                    old = buf[nr]
                    if create_graph:
                        g = buf[nr] = old + g
                    else:
                        g = buf[nr] = _make(old._be.add(old._data, g._data))
                    fresh = True
                if type(child) is _AG:    # a hook may keep what it is given
                    # genesis's own ops return new arrays; a custom Function may return
                    # a tensor it keeps (as torch, whose refcount check copies it then)
                    stealable[child] = child._hooks is None and (fresh or (
                        type(node)._array_forward and _exclusive(g, grads, in_grads)))
    finally:
        _state.grad_enabled = prev
        if amp_prev is not None:
            _amp.state.enabled.update(amp_prev)
        for _, node in heap:          # an error left nodes pending: drop their gradients
            node._buf = None
        if nxt is not None:
            nxt._buf = None

    if capture is not None:
        for k, x in enumerate(inputs):
            if results[k] is None and not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is "
                                   "the desired behavior.")
        return results
    return None


def _nodes_reaching(roots, capture):
    """Ids of the nodes with an edge towards a captured (node, output): those whose
    backward must run for autograd.grad / backward(inputs=...). A node's inputs are older
    than it, so one pass in creation order settles each node after its children."""
    seen, stack = {}, [r[0] for r in roots]
    while stack:
        n = stack.pop()
        if id(n) not in seen:
            seen[id(n)] = n
            stack.extend(e[0] for e in n._edges if e is not None)
    targets = {k[0] for k in capture}
    runs = set()
    for n in sorted(seen.values(), key=lambda n: n._seq):
        for e in n._edges:
            if e is not None and (id(e[0]) in runs or id(e[0]) in targets):
                runs.add(id(n))
                break
    return runs


def _run_tensor_hooks(node, grads, create_graph):
    """Hooks registered on the tensors this node produced, then retain_grad."""
    if node._hooks:
        for nr, hooks in node._hooks.items():
            for h in list(hooks):
                if grads[nr] is not None:
                    r = h(grads[nr])
                    if r is not None:
                        grads[nr] = r
    if node._retain:
        for nr, ref in node._retain.items():
            t = ref()
            if t is not None and grads[nr] is not None:
                # a copy: the gradient flows on, and may become a leaf's .grad
                g = grads[nr].clone() if create_graph else _make(grads[nr]._be.copy(
                    grads[nr]._data))
                t._grad = g if t._grad is None else t._grad + g


def _exclusive(g, grads, in_grads):
    """Whether a gradient a backward returned is referenced from nowhere else, so that
    a leaf may keep it as its .grad instead of a copy: not one of the node's incoming
    gradients passed through, and not returned for two inputs."""
    d = g._data
    for x in grads:
        if x is not None and x._data is d:
            return False
    n = 0
    for x in in_grads:
        if x is not None and x._data is d:
            n += 1
    return n == 1


def _sum_to(g, shape, node):
    try:
        return g.sum_to_size(shape)
    except RuntimeError:
        raise RuntimeError(f"Function {node.name()} returned an invalid gradient: got shape "
                           f"{list(g.shape)} but expected shape compatible with "
                           f"{list(shape)}") from None


def _as_tuple(x):
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """``genesis.autograd.backward``: accumulate gradients of ``tensors`` into leaves."""
    if type(tensors) is Tensor and inputs is None and (
            grad_tensors is None or isinstance(grad_tensors, Tensor)):
        # Tensor.backward(), the common case
        run_backward((tensors,), (grad_tensors,), retain_graph, create_graph)
        return
    tensors = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) or (None,) * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(f"got {len(grads)} gradients for {len(tensors)} tensors")
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        res = run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs,
                           allow_unused=True, accumulate=False)
        for x, g in zip(inputs, res):
            if g is not None:
                _accumulate_leaf(x, g, False, create_graph)
        return
    run_backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """``genesis.autograd.grad``: the gradients of ``outputs`` with respect to ``inputs``,
    without touching any ``.grad``."""
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grads = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"grad_outputs has {len(grads)} elements but outputs has "
                           f"{len(outputs)}")
    if allow_unused is None:
        allow_unused = materialize_grads
    res = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs,
                       allow_unused=allow_unused, accumulate=False)
    if materialize_grads:
        res = [r if r is not None else _zeros((x._data.shape, x._data.dtype, x._be))
               for r, x in zip(res, inputs)]
    return tuple(res)
