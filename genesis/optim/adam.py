"""Adam and AdamW as torch.optim's, in the order of torch's single-tensor formulas so that
float32 results agree with torch's to round-off."""
from .optimizer import Optimizer, check_hyperparameters, _to_scalar, _step_tensor, _zeros_like
from ..tensor import Tensor
from ..ops.common import LOW_FLOAT_NP as _LOW, F32 as _F32

__all__ = ["Adam", "AdamW"]


def lerp_(be, m, g, w, tmp):
    """m <- lerp(m, g, w) in place, as torch's kernel: from the nearer end (tmp: scratch)."""
    d = be.subtract(g, m, out=tmp)
    if abs(w) < 0.5:
        be.multiply(d, w, out=d)
        be.add(m, d, out=m)
    else:
        be.multiply(d, m.dtype.type(w) - 1, out=d)     # (w - 1) in the tensor's precision
        be.add(g, d, out=m)
    return m


def addcmul_(be, v, g, value, tmp):
    """v <- v + value * g * g (torch's addcmul_ order: (value * g) * g)."""
    t = be.multiply(g, value, out=tmp)
    be.multiply(t, g, out=t)
    return be.add(v, t, out=v)


def grad_of(opt, be, x, g, wd, maximize):
    """The gradient an update uses: -g when maximizing, plus wd * x (L2 weight decay);
    in scratch slot 0 when it differs from p.grad, which is never written."""
    if wd != 0:
        d = be.multiply(x, wd, out=opt._scratch(be, x, 0))
        return (be.subtract if maximize else be.add)(d, g, out=d)
    if maximize:
        return be.negative(g, out=opt._scratch(be, x, 0))
    return g


def moments(opt, be, x, grad, m, v, lr, beta1, beta2, wd, decoupled, maximize):
    """The first half of an Adam-family step (Adam, AdamW, NAdam, RAdam), in place: weight
    decay (decoupled: x shrinks; else L2 into the gradient), then m <- lerp(m, g, 1 -
    beta1) and v <- beta2 v + (1 - beta2) g^2. Returns the gradient used and scratch
    slot 1, free again."""
    if wd != 0 and decoupled:
        be.multiply(x, 1 - lr * wd, out=x)
    g = grad_of(opt, be, x, grad, 0 if decoupled else wd, maximize)
    tmp = opt._scratch(be, x, 1)
    lerp_(be, m, g, 1 - beta1, tmp)
    be.multiply(v, beta2, out=v)
    addcmul_(be, v, g, 1 - beta2, tmp)
    return g, tmp


def _step_low(be, x, g, m, v, vmax, lr, beta1, beta2, eps, wd, decoupled, maximize, step):
    """One Adam step on float16/bfloat16 arrays as torch's single-tensor code: each of its
    ops computed in float32 (its scalars unrounded, an ``alpha`` or an added scalar
    rounded to the dtype) and rounded once, where the fused path would round after every
    NumPy step."""
    dt = x.dtype
    f = _F32.type

    def low(a):
        return be.astype(a, dt)

    def up(a):
        return be.astype(a, _F32)

    if wd != 0 and decoupled:
        be.copyto(x, low(be.multiply(up(x), f(1 - lr * wd))))
    gf = up(g)
    if maximize:
        gf = be.negative(gf)
    if wd != 0 and not decoupled:         # grad.add(param, alpha=wd)
        gf = up(low(be.add(gf, be.multiply(up(x), f(dt.type(wd))))))
    mf = up(m)                             # m.lerp_(g, 1 - beta1)
    w = 1 - beta1
    d = be.subtract(gf, mf)
    be.copyto(m, low(be.add(mf, be.multiply(d, f(w))) if w < 0.5 else
                     be.subtract(gf, be.multiply(d, f(1 - w)))))
    vf = up(low(be.multiply(up(v), f(beta2))))     # v.mul_(beta2).addcmul_(g, g, 1 - beta2)
    be.copyto(v, low(be.add(vf, be.multiply(be.multiply(gf, f(1 - beta2)), gf))))
    if vmax is not None:
        be.maximum(vmax, v, out=vmax)
        v = vmax
    step_size = lr / (1 - beta1 ** step)
    bc2_sqrt = (1 - beta2 ** step) ** 0.5
    denom = up(low(be.divide(up(low(be.sqrt(up(v)))), f(bc2_sqrt))))
    denom = up(low(be.add(denom, f(dt.type(eps)))))
    # p.addcdiv_(m, denom, value=-step_size)
    be.copyto(x, low(be.add(up(x), be.divide(be.multiply(up(m), f(-step_size)), denom))))


def check_betas(betas):
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _state_of(state, be, x, amsgrad):
    """A parameter's Adam state, created (step 0, zero moments) on its first step."""
    if len(state) == 0:
        state["step"] = _step_tensor()
        state["exp_avg"] = _zeros_like(be, x)
        state["exp_avg_sq"] = _zeros_like(be, x)
        if amsgrad:
            state["max_exp_avg_sq"] = _zeros_like(be, x)
    return state


class Adam(Optimizer):
    """Adam (Kingma & Ba), with AMSGrad, maximize, and L2 (or, with
    ``decoupled_weight_decay=True``, AdamW's decoupled) weight decay, as
    ``torch.optim.Adam``. State per parameter: ``step`` (a float32 0-dim tensor),
    ``exp_avg``, ``exp_avg_sq`` and, with amsgrad, ``max_exp_avg_sq``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        check_hyperparameters(lr, eps=eps)
        check_betas(betas)
        check_hyperparameters(lr, weight_decay=weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, b in enumerate(betas):
            if isinstance(b, Tensor) and b.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(map(_to_scalar, betas))
        self._check_flags(foreach, fused, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd = group["eps"], group["weight_decay"]
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            if self._fused_step(group, lr, beta1, beta2, eps, wd, amsgrad, maximize,
                                decoupled):
                continue
            for p in group["params"]:
                if p._grad is None:
                    continue
                be, x = p._be, p._data
                state = _state_of(self.state[p], be, x, amsgrad)
                st = state["step"]._data
                st += 1
                step = float(st)
                if x.dtype in _LOW:
                    _step_low(be, x, p._grad._data, state["exp_avg"]._data,
                              state["exp_avg_sq"]._data,
                              state["max_exp_avg_sq"]._data if amsgrad else None, lr, beta1,
                              beta2, eps, wd, decoupled, maximize, step)
                    p._bump_version()
                    continue
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                _, tmp = moments(self, be, x, p._grad._data, m, v, lr, beta1, beta2, wd,
                                 decoupled, maximize)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2 ** 0.5
                if amsgrad:
                    vmax = state["max_exp_avg_sq"]._data
                    be.maximum(vmax, v, out=vmax)
                    v = vmax
                denom = be.sqrt(v, out=tmp)
                be.divide(denom, bias_correction2_sqrt, out=denom)
                be.add(denom, eps, out=denom)
                # p += (-step_size * m) / denom, torch's addcdiv_ order
                u = be.multiply(m, -step_size, out=self._scratch(be, x, 0))
                be.divide(u, denom, out=u)
                be.add(x, u, out=x)
                p._bump_version()
        return loss

    def _fused_step(self, group, lr, beta1, beta2, eps, wd, amsgrad, maximize, decoupled):
        """The whole group in one launch per dtype through the backend's fused
        ``adam_step`` (CUDA), when it has one and every parameter is on it, contiguous."""
        ps = [p for p in group["params"] if p._grad is not None]
        if not ps or group["foreach"] is False or group["fused"] is False:
            return False
        be = ps[0]._be
        fused = getattr(be, "adam_step", None)
        if fused is None or not all(p._be is be and p._data.flags.c_contiguous for p in ps):
            return False
        xs, gs, ms, vs, vmaxs, steps = [], [], [], [], [] if amsgrad else None, []
        for p in ps:
            x = p._data
            state = _state_of(self.state[p], be, x, amsgrad)
            st = state["step"]._data
            st += 1
            steps.append(float(st))
            xs.append(x)
            gs.append(p._grad._data)
            ms.append(state["exp_avg"]._data)
            vs.append(state["exp_avg_sq"]._data)
            if amsgrad:
                vmaxs.append(state["max_exp_avg_sq"]._data)
        fused(xs, gs, ms, vs, vmaxs, steps, lr, beta1, beta2, eps, wd, decoupled, amsgrad,
              maximize)
        for p in ps:
            p._bump_version()
        return True


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p *= 1 - lr * wd`` before
    the Adam update, as ``torch.optim.AdamW``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
