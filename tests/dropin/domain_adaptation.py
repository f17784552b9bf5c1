"""Domain-adversarial training (DANN): a custom torch.autograd.Function (gradient
reversal), a custom optimizer subclassing torch.optim.Optimizer (Lion, with a closure),
an exponential moving average of the weights in a copy.deepcopy of the model, and a
forward hook that collects features."""
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.alpha, None


class Lion(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.data.mul_(1 - group["lr"] * group["weight_decay"])
                state = self.state[p]
                if len(state) == 0:
                    state["exp_avg"] = torch.zeros_like(p)
                exp_avg = state["exp_avg"]
                beta1, beta2 = group["betas"]
                update = exp_avg * beta1 + p.grad * (1 - beta1)
                p.add_(torch.sign(update), alpha=-group["lr"])
                exp_avg.mul_(beta2).add_(p.grad, alpha=1 - beta2)
        return loss


class DANN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU())
        self.label_head = nn.Linear(16, 2)
        self.domain_head = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 1))

    def forward(self, x, alpha=1.0):
        f = self.features(x)
        return self.label_head(f), self.domain_head(GradReverse.apply(f, alpha)).squeeze(-1)


def build_model():
    torch.manual_seed(0)
    return DANN()


def make_domain(n, shift, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x + shift, y


@torch.no_grad()
def ema_update(ema, model, decay):
    for e, p in zip(ema.parameters(), model.parameters()):
        e.lerp_(p, 1.0 - decay)


def main(model=None, workdir=None):
    if model is None:
        model = build_model()
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    xs, ys = make_domain(128, 0.0, 0)
    xt, yt = make_domain(128, 0.7, 1)
    source = DataLoader(TensorDataset(torch.from_numpy(xs), torch.from_numpy(ys)), batch_size=16)
    target = DataLoader(TensorDataset(torch.from_numpy(xt)), batch_size=16)
    optimizer = Lion(model.parameters(), lr=3e-3, weight_decay=0.01)
    feats = []
    hook = model.features.register_forward_hook(
        lambda module, inputs, output: feats.append(output.detach().mean().item()))
    losses, domain_accs = [], []
    steps = 2 * len(source)
    for epoch in range(2):
        model.train()
        for i, ((x_s, y_s), (x_t,)) in enumerate(zip(source, target)):
            p = (epoch * len(source) + i) / steps
            alpha = 2.0 / (1.0 + np.exp(-10 * p)) - 1.0

            def closure():
                optimizer.zero_grad()
                logits, dom_s = model(x_s, alpha)
                _, dom_t = model(x_t, alpha)
                dom = torch.cat([dom_s, dom_t])
                dom_labels = torch.cat([torch.zeros(len(x_s)), torch.ones(len(x_t))])
                loss = F.cross_entropy(logits, y_s) + \
                    F.binary_cross_entropy_with_logits(dom, dom_labels)
                loss.backward()
                return loss

            loss = optimizer.step(closure)
            ema_update(ema, model, decay=0.9)
            losses.append(loss.item())
    hook.remove()
    ema.eval()
    with torch.no_grad():
        logits, dom = ema(torch.from_numpy(xt))
        target_acc = (logits.argmax(1) == torch.from_numpy(yt)).float().mean().item()
        domain_accs.append(((dom > 0).long() == 1).float().mean().item())
    state = optimizer.state_dict()
    return {"losses": losses, "features": feats, "target_acc": target_acc,
            "domain_acc": domain_accs, "ema_head": ema.label_head.weight.flatten().tolist(),
            "n_state": float(len(state["state"])), "lr": state["param_groups"][0]["lr"]}


if __name__ == "__main__":
    print(main())
