"""Knowledge distillation: a frozen teacher (requires_grad_(False), .eval()) and a student
trained on KL divergence of temperature-softened outputs plus cross-entropy; SGD with
per-group learning rates, and a hand-written decay writing param_groups[i]['lr']."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

T, ALPHA = 3.0, 0.7


class Student(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(12, 16), nn.LeakyReLU(0.1))
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        return self.head(self.body(x))


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.teacher = nn.Sequential(nn.Linear(12, 48), nn.ReLU(), nn.Linear(48, 48),
                                     nn.ReLU(), nn.Linear(48, 5))
        self.student = Student()


def build_model():
    torch.manual_seed(0)
    return Pair()


def main(model=None, workdir=None):
    if model is None:
        model = build_model()
    teacher, student = model.teacher, model.student
    teacher.requires_grad_(False)
    teacher.eval()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(160, 12)).astype(np.float32)
    with torch.no_grad():                       # hard pseudo-labels from the teacher
        y = teacher(torch.from_numpy(x)).argmax(dim=1).numpy()
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                        batch_size=20)
    optimizer = optim.SGD([{"params": student.body.parameters()},
                           {"params": student.head.parameters(), "lr": 0.2}],
                          lr=0.1, momentum=0.9, dampening=0.1)
    kl = nn.KLDivLoss(reduction="batchmean")
    losses, lrs = [], []
    for epoch in range(3):
        student.train()
        for xb, yb in loader:
            with torch.no_grad():
                soft_targets = F.softmax(teacher(xb) / T, dim=-1)
            logits = student(xb)
            distill = kl(F.log_softmax(logits / T, dim=-1), soft_targets) * T * T
            loss = ALPHA * distill + (1 - ALPHA) * F.cross_entropy(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        for group in optimizer.param_groups:
            group["lr"] = group["lr"] * 0.5
        lrs.append([optimizer.param_groups[0]["lr"], optimizer.param_groups[1]["lr"]])
    assert all(p.grad is None for p in teacher.parameters())
    student.eval()
    with torch.no_grad():
        agree = (student(torch.from_numpy(x)).argmax(1) ==
                 teacher(torch.from_numpy(x)).argmax(1)).float().mean().item()
        log_t = F.log_softmax(teacher(torch.from_numpy(x)), dim=1)
        log_s = F.log_softmax(student(torch.from_numpy(x)), dim=1)
        kl_final = F.kl_div(log_s, log_t, reduction="batchmean", log_target=True).item()
    return {"losses": losses, "lrs": lrs, "agreement": agree, "kl": kl_final}


if __name__ == "__main__":
    print(main())
