"""Adamax, NAdam, RAdam, Adadelta, Rprop and ASGD as torch.optim's, each in the order of
torch's single-tensor formulas so that float32 results agree with torch's to round-off.
Updates run in place on the raw backend arrays, with scratch buffers kept across steps."""
from .optimizer import (Optimizer, check_hyperparameters, _scalar_dtype, _step_tensor,
                        _to_scalar, _zeros_like)
from .adam import addcmul_, check_betas, grad_of, lerp_, moments
from ..tensor import Tensor, _make

__all__ = ["Adamax", "NAdam", "RAdam", "Adadelta", "Rprop", "ASGD"]


def _bump_step(state):
    """state['step'] += 1 in place; the new step as a Python float."""
    st = state["step"]._data
    st += 1
    return float(st)


def _stepped(opt, group, *entries):
    """(p, backend, data, state, step) for each parameter of ``group`` with a gradient,
    its step count bumped first. A new state gets ``step`` and then ``entries`` in order
    (torch's key order): a name is a zero buffer like the parameter, a (name, fn) pair
    holds fn(backend, data)."""
    for p in group["params"]:
        if p._grad is None:
            continue
        be, x = p._be, p._data
        state = opt.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            for e in entries:
                name, fn = (e, _zeros_like) if isinstance(e, str) else e
                state[name] = fn(be, x)
        yield p, be, x, state, _bump_step(state)


def _scalar_state(value):
    """A per-parameter scalar state (NAdam's mu_product, ASGD's eta and mu): a 0-dim
    tensor of torch's scalar dtype, kept on the host as torch does without capturable."""
    return _step_tensor(value)


def _set_scalar(t, value):
    """Write a Python number into a 0-dim state tensor, rounded first to the scalar
    dtype as torch's ``copy_(torch.as_tensor(value))`` does."""
    t.fill_(_scalar_dtype().np.type(value))


def _scalars_to_tensors(opt, keys):
    """Old checkpoints kept some scalar states as numbers: make them tensors."""
    for s in opt.state.values():
        if isinstance(s, dict):
            for k in keys:
                if k in s and not isinstance(s[k], Tensor):
                    s[k] = _scalar_state(float(s[k]))


class Adamax(Optimizer):
    """Adamax, Adam over the infinity norm (Kingma & Ba), as ``torch.optim.Adamax``.
    State per parameter: ``step``, ``exp_avg`` and ``exp_inf``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_hyperparameters(lr, eps=eps)
        check_betas(betas)
        check_hyperparameters(lr, weight_decay=weight_decay)
        self._check_flags(foreach, None, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = map(_to_scalar, group["betas"])
            eps, wd, maximize = group["eps"], group["weight_decay"], group["maximize"]
            for p, be, x, state, step in _stepped(self, group, "exp_avg", "exp_inf"):
                g = grad_of(self, be, x, p._grad._data, wd, maximize)
                m, u = state["exp_avg"]._data, state["exp_inf"]._data
                tmp = self._scratch(be, x, 1)
                lerp_(be, m, g, 1 - beta1, tmp)
                # exp_inf = max(exp_inf * beta2, |g| + eps)
                be.multiply(u, beta2, out=u)
                a = be.absolute(g, out=tmp)
                be.add(a, eps, out=a)
                be.maximum(u, a, out=u)
                clr = lr / (1 - beta1 ** step)
                d = be.multiply(m, -clr, out=tmp)       # addcdiv_(m, u, value=-clr)
                be.divide(d, u, out=d)
                be.add(x, d, out=x)
                p._bump_version()
        return loss


class NAdam(Optimizer):
    """NAdam, Adam with Nesterov momentum (Dozat), with its momentum-decay schedule and
    optional decoupled weight decay, as ``torch.optim.NAdam``. State per parameter:
    ``step``, ``mu_product`` (a 0-dim tensor), ``exp_avg`` and ``exp_avg_sq``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_hyperparameters(lr, eps=eps)
        check_betas(betas)
        check_hyperparameters(lr, weight_decay=weight_decay, momentum_decay=momentum_decay)
        self._check_flags(foreach, None, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        _scalars_to_tensors(self, ("mu_product",))

    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = map(_to_scalar, group["betas"])
            eps, wd, maximize = group["eps"], group["weight_decay"], group["maximize"]
            md, decoupled = group["momentum_decay"], group["decoupled_weight_decay"]
            for p, be, x, state, step in _stepped(
                    self, group, ("mu_product", lambda be, x: _scalar_state(1.0)), "exp_avg",
                    "exp_avg_sq"):
                bias_correction2 = 1 - beta2 ** step
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                g, tmp = moments(self, be, x, p._grad._data, m, v, lr, beta1, beta2, wd,
                                 decoupled, maximize)
                # the momentum cache mu_t and mu_{t+1}
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * md)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * md)))
                mp = state["mu_product"]
                mp._be.multiply(mp._data, mu, out=mp._data)   # rounded to its dtype
                mu_product = mp.item()
                denom = be.divide(v, bias_correction2, out=tmp)
                be.sqrt(denom, out=denom)
                be.add(denom, eps, out=denom)
                # two addcdiv_: the gradient's and the momentum's parts of the update
                u = be.multiply(g, -lr * (1.0 - mu) / (1.0 - mu_product),
                                out=self._scratch(be, x, 2))
                be.divide(u, denom, out=u)
                be.add(x, u, out=x)
                be.multiply(m, (-lr * mu_next) / (1.0 - mu_product * mu_next), out=u)
                be.divide(u, denom, out=u)
                be.add(x, u, out=x)
                p._bump_version()
        return loss


class RAdam(Optimizer):
    """RAdam, Adam with a rectified adaptive learning rate (Liu et al.), with optional
    decoupled weight decay, as ``torch.optim.RAdam``. State per parameter: ``step``,
    ``exp_avg`` and ``exp_avg_sq``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_hyperparameters(lr, eps=eps)
        check_betas(betas)
        check_hyperparameters(lr, weight_decay=weight_decay)
        self._check_flags(foreach, None, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = map(_to_scalar, group["betas"])
            eps, wd, maximize = group["eps"], group["weight_decay"], group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            rho_inf = 2 / (1 - beta2) - 1       # the maximum length of the approximated SMA
            for p, be, x, state, step in _stepped(self, group, "exp_avg", "exp_avg_sq"):
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                _, tmp = moments(self, be, x, p._grad._data, m, v, lr, beta1, beta2, wd,
                                 decoupled, maximize)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                u = be.divide(m, bias_correction1, out=self._scratch(be, x, 2))
                be.multiply(u, lr, out=u)
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    # the variance is tractable: the adaptive lr times the rectification
                    a = be.sqrt(v, out=tmp)
                    be.add(a, eps, out=a)
                    be.divide(bias_correction2 ** 0.5, a, out=a)
                    be.multiply(u, a, out=u)
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    be.multiply(u, rect, out=u)
                be.subtract(x, u, out=x)
                p._bump_version()
        return loss


class Adadelta(Optimizer):
    """Adadelta (Zeiler), as ``torch.optim.Adadelta``. State per parameter: ``step``,
    ``square_avg`` and ``acc_delta``."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_hyperparameters(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_hyperparameters(lr, eps=eps, weight_decay=weight_decay)
        self._check_flags(foreach, None, differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, capturable=capturable, foreach=foreach,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            rho, eps, wd = group["rho"], group["eps"], group["weight_decay"]
            maximize = group["maximize"]
            for p, be, x, state, step in _stepped(self, group, "square_avg", "acc_delta"):
                g = grad_of(self, be, x, p._grad._data, wd, maximize)
                sq, acc = state["square_avg"]._data, state["acc_delta"]._data
                std = self._scratch(be, x, 1)
                be.multiply(sq, rho, out=sq)
                addcmul_(be, sq, g, 1 - rho, std)
                be.add(sq, eps, out=std)
                be.sqrt(std, out=std)
                delta = be.add(acc, eps, out=self._scratch(be, x, 2))
                be.sqrt(delta, out=delta)
                be.divide(delta, std, out=delta)
                be.multiply(delta, g, out=delta)
                be.multiply(acc, rho, out=acc)
                addcmul_(be, acc, delta, 1 - rho, std)
                be.multiply(delta, -lr, out=delta)      # p.add_(delta, alpha=-lr)
                be.add(x, delta, out=x)
                p._bump_version()
        return loss


class Rprop(Optimizer):
    """Resilient backpropagation, as ``torch.optim.Rprop``: per-element step sizes grow
    by ``etas[1]`` while the gradient keeps its sign and shrink by ``etas[0]`` when it
    flips (skipping that update), clamped to ``step_sizes``. State per parameter:
    ``step``, ``prev`` (the last gradient used) and ``step_size``."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_hyperparameters(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        self._check_flags(foreach, None, differentiable)
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            smin, smax = group["step_sizes"]
            maximize = group["maximize"]
            lr = _to_scalar(group["lr"])
            for p, be, x, state, step in _stepped(
                    self, group, "prev",
                    ("step_size", lambda be, x: _make(be.full(x.shape, lr, x.dtype)))):
                g = grad_of(self, be, x, p._grad._data, 0, maximize)
                prev, ss = state["prev"]._data, state["step_size"]._data
                f = x.dtype.type        # the factors in the tensor's precision, as torch's
                s = be.multiply(g, prev, out=self._scratch(be, x, 1))
                flipped = be.less(s, 0)
                factor = be.where(be.greater(s, 0), f(etaplus),
                                  be.where(flipped, f(etaminus), f(1)))
                be.multiply(ss, factor, out=ss)
                be.clip(ss, smin, smax, out=ss)
                # where the sign flipped the gradient counts as 0: no update, and the
                # next step sees no sign change
                be.copyto(prev, be.where(flipped, f(0), g))
                d = be.sign(prev, out=s)
                be.multiply(d, ss, out=d)
                be.subtract(x, d, out=x)
                p._bump_version()
        return loss


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky), as ``torch.optim.ASGD``: a decaying step size
    ``eta``, and from step ``t0`` on a running average ``ax`` of the iterates. State per
    parameter: ``step``, ``eta`` and ``mu`` (0-dim tensors) and ``ax``."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_hyperparameters(lr, weight_decay=weight_decay)
        self._check_flags(foreach, None, differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        _scalars_to_tensors(self, ("eta", "mu"))

    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
            wd, maximize = group["weight_decay"], group["maximize"]
            for p, be, x, state, step in _stepped(
                    self, group, ("eta", lambda be, x: _scalar_state(lr)),
                    ("mu", lambda be, x: _scalar_state(1.0)), "ax"):
                g = grad_of(self, be, x, p._grad._data, wd, maximize)
                eta = state["eta"].item()
                be.multiply(x, 1 - lambd * eta, out=x)      # decay term
                u = be.multiply(g, -eta, out=self._scratch(be, x, 1))
                be.add(x, u, out=x)
                ax, mu = state["ax"]._data, state["mu"].item()
                if mu != 1:         # averaging: ax += (x - ax) * mu
                    d = be.subtract(x, ax, out=u)
                    be.multiply(d, mu, out=d)
                    be.add(ax, d, out=ax)
                else:
                    be.copyto(ax, x)
                _set_scalar(state["eta"], lr / ((1 + lambd * lr * step) ** alpha))
                _set_scalar(state["mu"], 1 / max(1, step - t0))
                p._bump_version()
        return loss
