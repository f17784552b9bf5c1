"""A small CNN: Conv2d + BatchNorm2d + MaxPool2d + AdaptiveAvgPool2d + Dropout (held in
eval mode while fine-tuning, as people do to disable it), Adam with OneCycleLR stepped per
batch, gradient-norm clipping, accuracy under no_grad."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import OneCycleLR
from torch.utils.data import DataLoader, TensorDataset


def make_images(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(scale=0.5, size=(n, 1, 8, 8)).astype(np.float32)
    x[y == 0, :, :4, :] += 1.0          # class 0: bright top half
    x[y == 1, :, :, :4] += 1.0          # class 1: bright left half
    return x, y


class ConvNet(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)),
        )
        self.dropout = nn.Dropout(0.5)
        self.classifier = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(self.dropout(x))


def build_model():
    torch.manual_seed(0)
    return ConvNet()


def evaluate(model, loader):
    model.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for images, labels in loader:
            out = model(images)
            loss_sum += F.cross_entropy(out, labels, reduction="sum").item()
            _, predicted = torch.max(out.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    return loss_sum / total, correct / total


def main(model=None, workdir=None):
    if model is None:
        model = build_model()
    x, y = make_images(192, 0)
    xv, yv = make_images(64, 1)
    train_loader = DataLoader(TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=24)
    val_loader = DataLoader(TensorDataset(torch.tensor(xv), torch.tensor(yv)), batch_size=32)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    epochs = 3
    scheduler = OneCycleLR(optimizer, max_lr=0.02, epochs=epochs,
                           steps_per_epoch=len(train_loader))
    losses, lrs = [], []
    for epoch in range(epochs):
        model.train()
        for m in model.modules():
            if isinstance(m, nn.Dropout):
                m.eval()
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=2.0)
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            lrs.append(scheduler.get_last_lr()[0])
    val_loss, acc = evaluate(model, val_loader)
    return {"losses": losses, "lrs": lrs, "val_loss": val_loss, "accuracy": acc,
            "beta1": optimizer.param_groups[0]["betas"][0]}


if __name__ == "__main__":
    print(main())
