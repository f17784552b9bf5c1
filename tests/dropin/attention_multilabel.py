"""Attention pooling over a set of feature vectors with nn.MultiheadAttention (a learned
query, a key padding mask), a ModuleDict of task heads, BCEWithLogitsLoss with pos_weight
for multi-label tags plus an MSE score head, a custom Dataset returning tuples, Adagrad and
a LambdaLR."""
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader, Dataset

D, N_TAGS, SET = 16, 5, 6


class SetDataset(Dataset):
    def __init__(self, n, seed):
        rng = np.random.default_rng(seed)
        self.x = rng.normal(size=(n, SET, D)).astype(np.float32)
        self.lengths = rng.integers(2, SET + 1, n)
        proj = np.random.default_rng(7).normal(size=(D, N_TAGS)).astype(np.float32)
        pooled = np.stack([self.x[i, :l].mean(0) for i, l in enumerate(self.lengths)])
        self.tags = (pooled @ proj > 0.3).astype(np.float32)
        self.score = pooled.sum(1, keepdims=True).astype(np.float32)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        mask = np.arange(SET) >= self.lengths[i]
        return (torch.from_numpy(self.x[i]), torch.from_numpy(mask),
                torch.from_numpy(self.tags[i]), torch.from_numpy(self.score[i]))


class AttentionPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = nn.Parameter(torch.randn(1, 1, D) * 0.1)
        self.attn = nn.MultiheadAttention(D, num_heads=4, batch_first=True)
        self.heads = nn.ModuleDict({
            "tags": nn.Linear(D, N_TAGS),
            "score": nn.Sequential(nn.Linear(D, 8), nn.Tanh(), nn.Linear(8, 1)),
        })

    def forward(self, x, mask):
        q = self.query.expand(x.size(0), -1, -1)
        pooled, weights = self.attn(q, x, x, key_padding_mask=mask)
        pooled = pooled.squeeze(1)
        return {name: head(pooled) for name, head in self.heads.items()}, weights


def build_model():
    torch.manual_seed(0)
    return AttentionPool()


def main(model=None, workdir=None):
    if model is None:
        model = build_model()
    loader = DataLoader(SetDataset(128, 0), batch_size=16)
    pos_weight = torch.full((N_TAGS,), 2.0)
    bce = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    mse = nn.MSELoss()
    optimizer = optim.Adagrad(model.parameters(), lr=0.05, lr_decay=1e-3,
                              initial_accumulator_value=0.1)
    scheduler = LambdaLR(optimizer, lr_lambda=lambda epoch: 0.8 ** epoch)
    losses, lrs, attn_sums = [], [], []
    for epoch in range(3):
        model.train()
        for x, mask, tags, score in loader:
            out, weights = model(x, mask)
            loss = bce(out["tags"], tags) + 0.5 * mse(out["score"], score)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        attn_sums.append(weights.sum().item())
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    model.eval()
    with torch.no_grad():
        x, mask, tags, _ = next(iter(DataLoader(SetDataset(32, 1), batch_size=32)))
        out, _ = model(x, mask)
        pred = (torch.sigmoid(out["tags"]) > 0.5).float()
        f1_num = 2 * (pred * tags).sum()
        f1 = (f1_num / (pred.sum() + tags.sum())).item()
    return {"losses": losses, "lrs": lrs, "attention_mass": attn_sums, "f1": f1}


if __name__ == "__main__":
    print(main())
