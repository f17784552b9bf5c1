"""An MLP classifier as in the beginner tutorials: TensorDataset + DataLoader,
label-smoothed cross-entropy, SGD with Nesterov momentum and weight decay, StepLR per
epoch, evaluation with .eval() under torch.no_grad()."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

device = torch.device("cpu")


def make_data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 20)).astype(np.float32)
    w = np.random.default_rng(100).normal(size=(20, 4)).astype(np.float32)
    return x, (x @ w).argmax(1)


class MLP(nn.Module):
    def __init__(self, d_in=20, hidden=32, n_classes=4):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_in, hidden), nn.ReLU(), nn.Dropout(p=0.0),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x):
        return self.net(x)


def build_model():
    torch.manual_seed(0)
    return MLP()


def main(model=None, workdir=None):
    if model is None:
        model = build_model()
    model = model.to(device)
    x_train, y_train = make_data(256, 1)
    x_val, y_val = make_data(128, 2)
    train_ds = TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
    loader = DataLoader(train_ds, batch_size=32, shuffle=False)

    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

    losses, lrs = [], []
    for epoch in range(4):
        model.train()
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad(set_to_none=True)
            outputs = model(inputs)
            loss = F.cross_entropy(outputs, targets, label_smoothing=0.1)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])

    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor(x_val, device=device))
        preds = logits.argmax(dim=1)
        accuracy = (preds == torch.tensor(y_val)).float().mean().item()
        val_loss = F.cross_entropy(logits, torch.tensor(y_val)).item()
    return {"losses": losses, "lrs": lrs, "val_loss": val_loss, "accuracy": accuracy}


if __name__ == "__main__":
    print(main())
