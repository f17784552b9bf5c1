"""Checkpoint and resume, as in the PyTorch tutorial "Saving and loading a general
checkpoint": train, torch.save a dict of the model, optimizer and scheduler state_dicts,
build everything afresh, torch.load it and train on."""
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 32)
        self.fc2 = nn.Linear(32, 32)
        self.fc3 = nn.Linear(32, 2)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.sigmoid(self.fc2(x))
        return self.fc3(x)


def build_model():
    torch.manual_seed(0)
    return Net()


def make_training(model):
    optimizer = optim.Adam(model.parameters(), lr=5e-3, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2, 3], gamma=0.3)
    return optimizer, scheduler


def train_epoch(model, optimizer, loader, criterion, losses):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return loss


def main(model=None, workdir=None):
    if model is None:
        model = build_model()
    workdir = workdir or tempfile.mkdtemp()
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, "checkpoint.pt")
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, size=(128, 8)).astype(np.float32)
    y = np.stack([x[:, :4].sum(1), (x[:, 4:] ** 2).sum(1)], 1).astype(np.float32)
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=32)
    criterion = nn.SmoothL1Loss(beta=0.5)

    optimizer, scheduler = make_training(model)
    losses = []
    for epoch in range(2):
        loss = train_epoch(model, optimizer, loader, criterion, losses)
        scheduler.step()
    torch.save({"epoch": epoch, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(),
                "scheduler_state_dict": scheduler.state_dict(), "loss": loss}, path)

    model = build_model()                     # a fresh process would start from here
    optimizer, scheduler = make_training(model)
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    scheduler.load_state_dict(checkpoint["scheduler_state_dict"])
    start = checkpoint["epoch"] + 1
    resumed_loss = checkpoint["loss"].item()
    lrs = []
    for epoch in range(start, 5):
        train_epoch(model, optimizer, loader, criterion, losses)
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    return {"losses": losses, "lrs": lrs, "resumed_loss": resumed_loss,
            "adam_steps": float(optimizer.state_dict()["state"][0]["step"]), "model": model}


if __name__ == "__main__":
    print(main())
