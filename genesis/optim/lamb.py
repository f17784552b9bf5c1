"""LAMB: layer-wise adaptive moments for large-batch training (You et al., 2019).

PyTorch has no LAMB; this one follows the paper's Algorithm 2, per parameter tensor:

    m = beta1 * m + (1 - beta1) * g                 (torch's lerp_, as Adam)
    v = beta2 * v + (1 - beta2) * g * g
    r = (m / bc1) / (sqrt(v) / sqrt(bc2) + eps)     bc_i = 1 - beta_i ** step, or 1 when
                                                    bias_correction=False
    u = r + weight_decay * w
    trust = phi(||w||) / ||u||                      1 when either norm is 0
    w = w - lr * trust * u

phi is the identity, or ``min(||w||, clamp_value)`` when ``clamp_value`` is given (the
paper's scaling function phi(z) = min(max(z, gamma_l), gamma_u) with gamma_l = 0). Norms
are Euclidean over the whole tensor, accumulated in float64.
"""
import math

import numpy as np

from .optimizer import Optimizer, check_hyperparameters, _to_scalar, _step_tensor, _zeros_like
from .adam import addcmul_, check_betas, lerp_

__all__ = ["LAMB"]


class LAMB(Optimizer):
    """LAMB (You et al., 2019, "Large Batch Optimization for Deep Learning: Training BERT
    in 76 minutes"), see the module docstring for the exact update.

    Args:
        params: parameters or parameter groups.
        lr (float): learning rate (default 1e-3).
        betas (tuple): coefficients of the running averages of g and g**2.
        eps (float): added to the denominator (default 1e-6).
        weight_decay (float): decoupled weight decay added to the Adam ratio before the
            trust ratio is taken (default 0).
        bias_correction (bool): divide the moments by 1 - beta**step as Adam does
            (default True; the paper's Algorithm 2 omits it).
        clamp_value (float or None): upper bound on ||w|| in the trust ratio (default
            None: no clamp; some implementations use 10).
        maximize (bool): maximize the objective instead of minimizing it.

    State per parameter: ``step`` (float32 0-dim tensor), ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0, *,
                 bias_correction=True, clamp_value=None, maximize=False):
        check_hyperparameters(lr, eps=eps)
        check_betas(betas)
        check_hyperparameters(lr, weight_decay=weight_decay)
        if clamp_value is not None and not clamp_value > 0:
            raise ValueError(f"Invalid clamp_value: {clamp_value}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        bias_correction=bias_correction, clamp_value=clamp_value,
                        maximize=maximize)
        super().__init__(params, defaults)

    @staticmethod
    def _norm(be, a, tmp):
        sq = be.multiply(a, a, out=tmp)
        return math.sqrt(float(be.to_host(be.sum(sq, None, dtype=np.float64))))

    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd, clamp = group["eps"], group["weight_decay"], group["clamp_value"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                be, x, g = p._be, p._data, p._grad._data
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_like(be, x)
                    state["exp_avg_sq"] = _zeros_like(be, x)
                st = state["step"]._data
                st += 1
                step = float(st)
                if group["maximize"]:
                    g = be.negative(g, out=self._scratch(be, x, 0))
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                u = self._scratch(be, x, 1)
                lerp_(be, m, g, 1 - beta1, u)
                be.multiply(v, beta2, out=v)
                addcmul_(be, v, g, 1 - beta2, u)
                if group["bias_correction"]:
                    bc1, bc2_sqrt = 1 - beta1 ** step, (1 - beta2 ** step) ** 0.5
                else:
                    bc1 = bc2_sqrt = 1.0
                denom = be.sqrt(v, out=self._scratch(be, x, 0))
                be.divide(denom, bc2_sqrt, out=denom)
                be.add(denom, eps, out=denom)
                be.divide(m, bc1, out=u)
                be.divide(u, denom, out=u)
                if wd != 0:
                    be.add(u, be.multiply(x, wd, out=denom), out=u)
                tmp = self._scratch(be, x, 0)
                w_norm = self._norm(be, x, tmp)
                if clamp is not None:
                    w_norm = min(w_norm, clamp)
                u_norm = self._norm(be, u, tmp)
                trust = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
                be.multiply(u, -lr * trust, out=u)
                be.add(x, u, out=x)
                p._bump_version()
        return loss
