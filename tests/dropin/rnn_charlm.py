"""A character-level language model with a hand-written recurrent loop (Linear + tanh),
truncated backprop through time with hidden.detach(), an output layer tied to the
embedding, RMSprop, CosineAnnealingWarmRestarts stepped with fractional epochs, and
gradient clipping."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

TEXT = ("the quick brown fox jumps over the lazy dog. " * 20)
CHARS = sorted(set(TEXT))
STOI = {c: i for i, c in enumerate(CHARS)}


class CharRNN(nn.Module):
    def __init__(self, vocab_size, hidden_size=24):
        super().__init__()
        self.hidden_size = hidden_size
        self.embed = nn.Embedding(vocab_size, hidden_size)
        self.i2h = nn.Linear(hidden_size, hidden_size)
        self.h2h = nn.Linear(hidden_size, hidden_size, bias=False)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        self.decoder.weight = self.embed.weight          # weight tying

    def init_hidden(self, batch_size):
        return torch.zeros(batch_size, self.hidden_size)

    def forward(self, inputs, hidden):
        emb = self.embed(inputs)                          # (B, T, H)
        outputs = []
        for t in range(inputs.size(1)):
            hidden = torch.tanh(self.i2h(emb[:, t]) + self.h2h(hidden))
            outputs.append(hidden)
        out = torch.stack(outputs, dim=1)
        return self.decoder(out), hidden


def build_model():
    torch.manual_seed(0)
    return CharRNN(len(CHARS))


def batches(data, batch_size, seq_len):
    n = (len(data) - 1) // (batch_size * seq_len) * batch_size * seq_len
    x = data[:n].reshape(batch_size, -1)
    y = data[1:n + 1].reshape(batch_size, -1)
    for i in range(0, x.shape[1], seq_len):
        yield x[:, i:i + seq_len], y[:, i:i + seq_len]


def main(model=None, workdir=None):
    if model is None:
        model = build_model()
    data = np.array([STOI[c] for c in TEXT], dtype=np.int64)
    optimizer = optim.RMSprop(model.parameters(), lr=3e-3, alpha=0.9, momentum=0.5)
    scheduler = optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=1, T_mult=2,
                                                               eta_min=1e-4)
    batch_list = list(batches(data, 4, 12))
    iters = len(batch_list)
    losses, lrs = [], []
    for epoch in range(2):
        model.train()
        hidden = model.init_hidden(4)
        for i, (x, y) in enumerate(batch_list):
            x, y = torch.from_numpy(x), torch.from_numpy(y)
            hidden = hidden.detach()
            logits, hidden = model(x, hidden)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step(epoch + i / iters)
            losses.append(loss.item())
            lrs.append(optimizer.param_groups[0]["lr"])
    model.eval()
    with torch.no_grad():
        x, y = batch_list[0]
        logits, _ = model(torch.from_numpy(x), model.init_hidden(4))
        val = F.cross_entropy(logits.reshape(-1, len(CHARS)), torch.from_numpy(y).flatten())
    return {"losses": losses, "lrs": lrs, "perplexity": math.exp(val.item())}


if __name__ == "__main__":
    print(main())
