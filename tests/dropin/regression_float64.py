"""Tabular regression in float64: a custom Dataset, input normalisation kept in buffers
(register_buffer), model.double(), MSELoss, Adam with amsgrad, ReduceLROnPlateau on the
validation loss, L1 validation metric."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, Dataset

RTOL = 1e-9
ATOL = 1e-12


def make_table(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(loc=3.0, scale=2.0, size=(n, 6))
    y = np.sin(x[:, :1]) + 0.5 * x[:, 1:2] * x[:, 2:3] - x[:, 3:4]
    return x, y


class TableDataset(Dataset):
    def __init__(self, x, y):
        self.x = torch.tensor(x, dtype=torch.float64)
        self.y = torch.tensor(y, dtype=torch.float64)

    def __len__(self):
        return self.x.shape[0]

    def __getitem__(self, idx):
        return self.x[idx], self.y[idx]


class Regressor(nn.Module):
    def __init__(self, n_features=6, hidden=32):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))
        self.body = nn.Sequential(nn.Linear(n_features, hidden), nn.SiLU(),
                                  nn.Linear(hidden, hidden), nn.SiLU())
        self.out = nn.Linear(hidden, 1)

    def set_normalization(self, x):
        self.mean.copy_(x.mean(dim=0))
        self.std.copy_(x.std(dim=0))

    def forward(self, x):
        return self.out(self.body((x - self.mean) / self.std))


def build_model():
    torch.manual_seed(0)
    return Regressor().double()


def main(model=None, workdir=None):
    if model is None:
        model = build_model()
    xtr, ytr = make_table(200, 0)
    xva, yva = make_table(100, 1)
    train_ds, val_ds = TableDataset(xtr, ytr), TableDataset(xva, yva)
    with torch.no_grad():
        model.set_normalization(train_ds.x)
    train_loader = DataLoader(train_ds, batch_size=40, shuffle=False)
    val_loader = DataLoader(val_ds, batch_size=50)
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=1e-2, amsgrad=True)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5,
                                                     patience=0, threshold=0.3)
    losses, val_losses, lrs = [], [], []
    for epoch in range(6):
        model.train()
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        val_loss, val_l1, n = 0.0, 0.0, 0
        with torch.no_grad():
            for xb, yb in val_loader:
                pred = model(xb)
                val_loss += criterion(pred, yb).item() * len(xb)
                val_l1 += F.l1_loss(pred, yb, reduction="sum").item()
                n += len(xb)
        scheduler.step(val_loss / n)
        val_losses.append(val_loss / n)
        lrs.append(optimizer.param_groups[0]["lr"])
    assert next(model.parameters()).dtype == torch.float64
    return {"losses": losses, "val_losses": val_losses, "lrs": lrs, "val_l1": val_l1 / n}


if __name__ == "__main__":
    print(main())
