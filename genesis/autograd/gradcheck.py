"""gradcheck / gradgradcheck: analytical gradients against central finite differences."""
import numpy as np

from ..tensor import Tensor, _make
from .engine import grad as _grad


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _flat_outputs(fn, inputs):
    out = _as_tuple(fn(*inputs))
    return [o for o in out if isinstance(o, Tensor) and o.is_floating_point()]


def _numerical(fn, inputs, k, eps):
    """Jacobian d(outputs)/d(inputs[k]) by central differences, one column per element."""
    x = inputs[k]
    data, be = x._data, x._be
    flat = be.reshape(data, (-1,)) if data.flags.c_contiguous else None
    if flat is None:
        raise GradcheckError("gradcheck needs contiguous inputs")
    cols = []
    for i in range(flat.size):
        orig = be.to_host(flat)[i].item()
        be.setitem(flat, i, orig + eps)
        plus = [_host64(o._data, o._be) for o in _flat_outputs(fn, inputs)]
        be.setitem(flat, i, orig - eps)
        minus = [_host64(o._data, o._be) for o in _flat_outputs(fn, inputs)]
        be.setitem(flat, i, orig)
        cols.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
                    if plus else np.zeros(0))
    return np.stack(cols, axis=1) if cols else np.zeros((0, 0))


def _host64(a, be):
    """A backend array as a flat float64 NumPy array (any device)."""
    return np.array(be.to_host(a), np.float64).reshape(-1)     # a copy: may share on CPU


def _analytical(fn, inputs, diff_idx):
    outs = _flat_outputs(fn, inputs)
    rows = []
    diff = [inputs[k] for k in diff_idx]
    n = sum(x.numel() for x in diff)
    for o in outs:
        if not o.requires_grad:       # constant in the inputs (e.g. relu's first derivative)
            rows.extend(np.zeros(n) for _ in range(o.numel()))
            continue
        for j in range(o.numel()):
            onehot = np.zeros(o._data.size, o._data.dtype)
            onehot[j] = 1
            go = _make(o._be.from_host(onehot.reshape(o._data.shape), o._data.dtype))
            gs = _grad(o, diff, go, retain_graph=True, allow_unused=True)
            rows.append(np.concatenate([
                (_host64(g._data, g._be) if g is not None
                 else np.zeros(x.numel())) for g, x in zip(gs, diff)]))
    return np.stack(rows) if rows else np.zeros((0, n))


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False, **kwargs):
    """Compare the Jacobian from backward with central finite differences. Inputs that
    require grad should be float64 for the differences to mean anything."""
    inputs = _as_tuple(inputs)
    diff_idx = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of the them have requires_grad=True.")
    ana = _analytical(func, inputs, diff_idx)
    num = np.concatenate([_numerical(func, inputs, k, eps) for k in diff_idx], axis=1)
    if ana.shape != num.shape or not np.allclose(ana, num, rtol=rtol, atol=atol):
        if not raise_exception:
            return False
        err = np.max(np.abs(ana - num)) if ana.shape == num.shape else "shape mismatch"
        raise GradcheckError(f"Jacobian mismatch for output 0 with respect to input 0,\n"
                             f"numerical:{num}\nanalytical:{ana}\nmax abs difference: {err}")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, **kwargs):
    """gradcheck of the first derivative (built with create_graph=True)."""
    inputs = _as_tuple(inputs)
    outs = _flat_outputs(func, inputs)
    rng = np.random.default_rng(0)
    if grad_outputs is None:
        grad_outputs = [_make(o._be.from_host(rng.standard_normal(o.shape).astype(o._data.dtype),
                                              o._data.dtype)) for o in outs]

    def first(*xs):
        os_ = _flat_outputs(func, xs)
        d = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        gs = _grad(os_, d, grad_outputs, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first, inputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
