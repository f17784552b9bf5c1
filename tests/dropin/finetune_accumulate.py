"""Fine-tuning with a frozen backbone then unfreezing: requires_grad_(False), an optimizer
over the trainable named_parameters, add_param_group when unfreezing, gradient
accumulation over micro-batches, AdamW, CosineAnnealingLR, NLLLoss on log_softmax,
gradient clipping by value, and the transfer-learning tutorial's train/val phases under
torch.set_grad_enabled keeping a copy.deepcopy of the best weights."""
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

ACCUM = 4


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(10, 24), nn.Linear(24, 24)])
        self.norms = nn.ModuleList([nn.LayerNorm(24), nn.LayerNorm(24)])

    def forward(self, x):
        for layer, norm in zip(self.layers, self.norms):
            x = F.gelu(norm(layer(x)))
        return x


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.head = nn.Sequential(nn.Linear(24, 16), nn.SiLU(), nn.Linear(16, 3))

    def forward(self, x):
        return F.log_softmax(self.head(self.backbone(x)), dim=-1)


def build_model():
    torch.manual_seed(0)
    return Classifier()


def main(model=None, workdir=None):
    if model is None:
        model = build_model()
    rng = np.random.default_rng(5)
    x = rng.normal(size=(192, 10)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5).astype(np.int64)
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=8)
    xv = rng.normal(size=(64, 10)).astype(np.float32)
    yv = (xv[:, 0] > 0).astype(np.int64) + (xv[:, 1] > 0.5).astype(np.int64)
    val_loader = DataLoader(TensorDataset(torch.from_numpy(xv), torch.from_numpy(yv)),
                            batch_size=16)
    best_acc, best_model_wts = 0.0, copy.deepcopy(model.state_dict())
    val_accs = []

    model.backbone.requires_grad_(False)
    trainable = [p for n, p in model.named_parameters() if p.requires_grad]
    assert len(trainable) == 4
    optimizer = optim.AdamW(trainable, lr=5e-3, weight_decay=0.01)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=3 * len(loader) // ACCUM)
    criterion = nn.NLLLoss()
    losses, lrs = [], []
    for epoch in range(3):
        if epoch == 1:                   # unfreeze the backbone with a smaller lr
            model.backbone.requires_grad_(True)
            optimizer.add_param_group({"params": model.backbone.parameters(), "lr": 1e-3})
        model.train()
        optimizer.zero_grad()
        running = 0.0
        for i, (xb, yb) in enumerate(loader):
            loss = criterion(model(xb), yb) / ACCUM
            loss.backward()
            running += loss.item()
            if (i + 1) % ACCUM == 0:
                torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
                optimizer.step()
                optimizer.zero_grad()
                scheduler.step()
                losses.append(running)
                running = 0.0
        lrs.append([g["lr"] for g in optimizer.param_groups])
        model.eval()
        running_corrects = 0
        for inputs, labels in val_loader:
            with torch.set_grad_enabled(False):
                _, preds = torch.max(model(inputs), 1)
            running_corrects += torch.sum(preds == labels.data)
        epoch_acc = running_corrects.double() / len(val_loader.dataset)
        val_accs.append(epoch_acc.item())
        if epoch_acc > best_acc:
            best_acc = epoch_acc
            best_model_wts = copy.deepcopy(model.state_dict())
    grads = sum(p.grad is not None for p in model.backbone.parameters())
    model.load_state_dict(best_model_wts)
    return {"losses": losses, "lrs": lrs[0] + lrs[1] + lrs[2], "val_accs": val_accs,
            "grads_left": float(grads)}


if __name__ == "__main__":
    print(main())
