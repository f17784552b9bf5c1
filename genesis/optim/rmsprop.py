"""RMSprop as torch.optim.RMSprop (its single-tensor formula order)."""
from .optimizer import Optimizer, check_hyperparameters, _to_scalar, _step_tensor, _zeros_like
from .adam import addcmul_, grad_of, lerp_

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (Hinton), optionally centered and with momentum, as
    ``torch.optim.RMSprop``. State per parameter: ``step``, ``square_avg`` and, when used,
    ``momentum_buffer`` and ``grad_avg``."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_hyperparameters(lr, eps=eps, momentum=momentum, weight_decay=weight_decay,
                              alpha=alpha)
        self._check_flags(foreach, None, differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            alpha, eps, wd = group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered, maximize = group["momentum"], group["centered"], group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                be, x = p._be, p._data
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_like(be, x)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(be, x)
                    if centered:
                        state["grad_avg"] = _zeros_like(be, x)
                st = state["step"]._data
                st += 1
                g = grad_of(self, be, x, p._grad._data, wd, maximize)
                sq = state["square_avg"]._data
                avg = self._scratch(be, x, 1)
                be.multiply(sq, alpha, out=sq)
                addcmul_(be, sq, g, 1 - alpha, avg)
                if centered:
                    ga = state["grad_avg"]._data
                    lerp_(be, ga, g, 1 - alpha, avg)
                    # sqrt(square_avg - grad_avg * grad_avg), the addcmul with value -1
                    be.multiply(ga, ga, out=avg)
                    be.subtract(sq, avg, out=avg)
                    be.sqrt(avg, out=avg)
                else:
                    be.sqrt(sq, out=avg)
                be.add(avg, eps, out=avg)
                if momentum > 0:
                    buf = state["momentum_buffer"]._data
                    be.multiply(buf, momentum, out=buf)
                    be.add(buf, be.divide(g, avg, out=avg), out=buf)
                    u = be.multiply(buf, -lr, out=avg)
                else:
                    u = be.multiply(g, -lr, out=self._scratch(be, x, 2))
                    be.divide(u, avg, out=u)
                be.add(x, u, out=x)
                p._bump_version()
        return loss
