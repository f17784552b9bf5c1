"""A nanoGPT-style character model: causal self-attention with a tril mask buffer
(masked_fill + softmax) in one block and F.scaled_dot_product_attention in the other,
nn.ModuleDict / nn.ModuleList containers, tied token embedding and lm_head, self.apply
weight init, AdamW with decay groups by parameter dim, a hand-written warmup-cosine
schedule written into param_groups, clip_grad_norm_ and an estimate_loss under
no_grad."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

BLOCK, N_EMBD, N_HEAD, N_LAYER = 16, 32, 4, 2
TEXT = "to be or not to be, that is the question. " * 12
CHARS = sorted(set(TEXT))
VOCAB = len(CHARS)
device = "cpu"
# the key bias's true gradient is zero: its Adam update is round-off noise
ROUNDOFF_ONLY = {f"transformer.h.{i}.attn.c_attn.bias": slice(N_EMBD, 2 * N_EMBD)
                 for i in range(N_LAYER)}


class CausalSelfAttention(nn.Module):
    def __init__(self, flash):
        super().__init__()
        self.c_attn = nn.Linear(N_EMBD, 3 * N_EMBD)
        self.c_proj = nn.Linear(N_EMBD, N_EMBD)
        self.flash = flash
        self.register_buffer("bias", torch.tril(torch.ones(BLOCK, BLOCK))
                             .view(1, 1, BLOCK, BLOCK))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(N_EMBD, dim=2)
        k = k.view(B, T, N_HEAD, C // N_HEAD).transpose(1, 2)
        q = q.view(B, T, N_HEAD, C // N_HEAD).transpose(1, 2)
        v = v.view(B, T, N_HEAD, C // N_HEAD).transpose(1, 2)
        if self.flash:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0,
                                               is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class Block(nn.Module):
    def __init__(self, flash):
        super().__init__()
        self.ln_1 = nn.LayerNorm(N_EMBD)
        self.attn = CausalSelfAttention(flash)
        self.ln_2 = nn.LayerNorm(N_EMBD)
        self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(N_EMBD, 4 * N_EMBD),
                                      c_proj=nn.Linear(4 * N_EMBD, N_EMBD),
                                      act=nn.GELU(approximate="tanh")))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        m = self.mlp
        return x + m.c_proj(m.act(m.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(VOCAB, N_EMBD),
            wpe=nn.Embedding(BLOCK, N_EMBD),
            h=nn.ModuleList([Block(flash=i % 2 == 1) for i in range(N_LAYER)]),
            ln_f=nn.LayerNorm(N_EMBD),
        ))
        self.lm_head = nn.Linear(N_EMBD, VOCAB, bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * N_LAYER))

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                                   ignore_index=-1)
        return logits, loss

    def configure_optimizers(self, weight_decay, learning_rate, betas):
        param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
        decay = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay = [p for n, p in param_dict.items() if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": weight_decay},
                  {"params": nodecay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=betas)


def build_model():
    torch.manual_seed(0)
    return GPT()


def get_batch(data, i, batch_size=4):
    starts = [(i * 7 + j * 37) % (len(data) - BLOCK - 1) for j in range(batch_size)]
    x = torch.stack([torch.from_numpy(data[s:s + BLOCK]) for s in starts])
    y = torch.stack([torch.from_numpy(data[s + 1:s + 1 + BLOCK]) for s in starts])
    return x.to(device), y.to(device)


def get_lr(it, warmup=4, max_iters=20, lr=3e-3, min_lr=3e-4):
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    ratio = (it - warmup) / (max_iters - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


@torch.no_grad()
def estimate_loss(model, data):
    model.eval()
    losses = torch.zeros(3)
    for k in range(3):
        _, loss = model(*get_batch(data, 100 + k))
        losses[k] = loss.item()
    model.train()
    return losses.mean()


def main(model=None, workdir=None):
    if model is None:
        model = build_model()
    model.to(device)
    data = np.array([CHARS.index(c) for c in TEXT], dtype=np.int64)
    optimizer = model.configure_optimizers(0.1, 3e-3, (0.9, 0.95))
    losses, evals = [], []
    for it in range(20):
        lr = get_lr(it)
        for group in optimizer.param_groups:
            group["lr"] = lr
        if it % 10 == 0:
            evals.append(estimate_loss(model, data).item())
        _, loss = model(*get_batch(data, it))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    evals.append(estimate_loss(model, data).item())
    assert model.lm_head.weight is model.transformer.wte.weight
    return {"losses": losses, "evals": evals, "last_grad_norm": norm.item()}


if __name__ == "__main__":
    print(main())
