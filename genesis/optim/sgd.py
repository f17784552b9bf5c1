"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize, as
torch.optim.SGD (its single-tensor formula order)."""
from .optimizer import Optimizer, check_hyperparameters, _to_scalar, _make

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    State: ``momentum_buffer`` per parameter when ``momentum != 0`` (a copy of the first
    gradient, then ``buf = momentum * buf + (1 - dampening) * g``)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        check_hyperparameters(lr, momentum=momentum, weight_decay=weight_decay)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        self._check_flags(foreach, fused, differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            wd = _to_scalar(group["weight_decay"])
            momentum = group["momentum"]
            alpha = 1 - group["dampening"]
            nesterov, maximize = group["nesterov"], group["maximize"]
            if self._fused_step(group, lr, wd, momentum, group["dampening"], nesterov,
                                maximize):
                continue
            for p in group["params"]:
                if p._grad is None:
                    continue
                be, x, g = p._be, p._data, p._grad._data
                # g <- -g (maximize), g + wd * x (weight decay): in scratch, never in p.grad
                if wd != 0:
                    d = be.multiply(x, wd, out=self._scratch(be, x, 0))
                    (be.subtract if maximize else be.add)(d, g, out=d)
                    g = d
                elif maximize:
                    g = be.negative(g, out=self._scratch(be, x, 0))
                if momentum != 0:
                    state = self.state[p]
                    buf_t = state.get("momentum_buffer")
                    if buf_t is None:
                        buf_t = state["momentum_buffer"] = _make(be.copy(g))
                        buf = buf_t._data
                    else:
                        buf = buf_t._data
                        be.multiply(buf, momentum, out=buf)
                        if alpha == 1:
                            be.add(buf, g, out=buf)
                        else:
                            t = be.multiply(g, alpha, out=self._scratch(be, x, 1))
                            be.add(buf, t, out=buf)
                        buf_t._bump_version()
                    if nesterov:
                        # g + momentum * buf: into g's scratch when g is one already
                        t = be.multiply(buf, momentum, out=self._scratch(be, x, 1))
                        g = be.add(g, t, out=t)
                    else:
                        g = buf
                t = be.multiply(g, -lr, out=self._scratch(be, x, 1))
                be.add(x, t, out=x)
                p._bump_version()
        return loss

    def _fused_step(self, group, lr, wd, momentum, dampening, nesterov, maximize):
        """The whole group in one launch per dtype through the backend's fused
        ``sgd_step`` (CUDA), when it has one and every parameter is on it, contiguous."""
        ps = [p for p in group["params"] if p._grad is not None]
        if not ps or group["foreach"] is False or group["fused"] is False:
            return False
        be = ps[0]._be
        fused = getattr(be, "sgd_step", None)
        if fused is None or not all(p._be is be and p._data.flags.c_contiguous for p in ps):
            return False
        bufs = new = None
        if momentum != 0:
            old = [self.state[p].get("momentum_buffer") for p in ps]
            if not all(b is None or b._data.flags.c_contiguous for b in old):
                return False              # a strided buffer (loaded state): the slow path
            bufs, new = [], []
            for p, buf_t in zip(ps, old):
                new.append(buf_t is None)
                if buf_t is None:         # the kernel sets it to the gradient
                    buf_t = self.state[p]["momentum_buffer"] = _make(
                        be.empty(p._data.shape, p._data.dtype))
                else:
                    buf_t._bump_version()
                bufs.append(buf_t._data)
        fused([p._data for p in ps], [p._grad._data for p in ps], bufs, lr, momentum,
              dampening, wd, nesterov, maximize, new_buffers=new)
        for p in ps:
            p._bump_version()
        return True
