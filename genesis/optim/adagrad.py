"""Adagrad as torch.optim.Adagrad (its single-tensor formula order)."""
from .optimizer import Optimizer, check_hyperparameters, _to_scalar, _step_tensor
from .adam import addcmul_, grad_of
from ..tensor import _make

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), with learning-rate decay, as ``torch.optim.Adagrad``.
    State per parameter, created at construction as torch does: ``step`` and ``sum``
    (filled with ``initial_accumulator_value``)."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        check_hyperparameters(lr, lr_decay=lr_decay, weight_decay=weight_decay,
                              initial_accumulator_value=initial_accumulator_value, eps=eps)
        self._check_flags(foreach, fused, differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p):
        state = self.state[p]
        state["step"] = _step_tensor()
        state["sum"] = _make(p._be.full(p._data.shape, self.defaults["initial_accumulator_value"],
                                        p._data.dtype))
        return state

    def share_memory(self):
        pass    # state lives in this process's memory; nothing to share

    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            lr_decay, eps, wd = group["lr_decay"], group["eps"], group["weight_decay"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                be, x = p._be, p._data
                state = self.state[p]
                if len(state) == 0:     # a group added after construction
                    state = self._init_state(p)
                st = state["step"]._data
                st += 1
                step = float(st)
                g = grad_of(self, be, x, p._grad._data, wd, maximize)
                clr = lr / (1 + (step - 1) * lr_decay)
                s = state["sum"]._data
                std = self._scratch(be, x, 1)
                addcmul_(be, s, g, 1, std)
                be.sqrt(s, out=std)
                be.add(std, eps, out=std)
                u = be.multiply(g, -clr, out=self._scratch(be, x, 2))
                be.divide(u, std, out=u)
                be.add(x, u, out=x)
                p._bump_version()
        return loss
