"""Train a character-level GPT with Genesis, then sample from it.

Trains on ``--text FILE``, or offline on a corpus it always has: the docstrings of
Python's standard library modules, gathered in a fixed order. Warmup-cosine schedule,
gradient clipping, AdamW with decay/no-decay parameter groups, a checkpoint at the end.

    python examples/train_gpt.py                       # small model, a few minutes on a CPU
    python examples/train_gpt.py --text input.txt --steps 2000
"""
import argparse
import importlib
import inspect
import math
import os
import time
import warnings

import numpy as np

import genesis
import genesis.nn as nn
import genesis.nn.functional as F
import genesis.optim as optim

STDLIB = ["abc", "argparse", "ast", "asyncio", "base64", "bisect", "calendar", "collections",
          "contextlib", "copy", "csv", "dataclasses", "datetime", "decimal", "difflib",
          "email", "enum", "fractions", "functools", "glob", "gzip", "hashlib", "heapq",
          "html", "http", "inspect", "io", "itertools", "json", "logging", "math", "operator",
          "os", "pathlib", "pickle", "pprint", "queue", "random", "re", "shutil", "socket",
          "statistics", "string", "struct", "subprocess", "tarfile", "tempfile", "textwrap",
          "threading", "time", "typing", "unittest", "urllib", "uuid", "warnings", "zipfile"]


def stdlib_docstrings():
    """Docstrings of standard-library modules and their public members, deterministic."""
    parts = []
    for name in STDLIB:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        docs = [inspect.getdoc(mod)]
        with warnings.catch_warnings():      # deprecated aliases warn when touched
            warnings.simplefilter("ignore")
            for attr in sorted(dir(mod)):
                if attr.startswith("_"):
                    continue
                obj = getattr(mod, attr, None)
                if inspect.isfunction(obj) or inspect.isclass(obj):
                    docs.append(inspect.getdoc(obj))
        parts.extend(d for d in docs if d and len(d) > 40)
    seen, out = set(), []
    for d in parts:                       # classes re-exported by several modules
        if d not in seen:
            seen.add(d)
            out.append(d)
    return "\n\n".join(out)


# ---- the model -----------------------------------------------------------------------------
class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, n_head, dropout):
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.dropout = dropout

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
                   for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, d_model, n_head, dropout):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_head, dropout)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(),
                                 nn.Linear(4 * d_model, d_model), nn.Dropout(dropout))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, block_size=64, d_model=128, n_head=4, n_layer=2,
                 dropout=0.0):
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(block_size, d_model)
        self.blocks = nn.ModuleList([Block(d_model, n_head, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, idx, targets=None):
        T = idx.shape[1]
        x = self.tok_emb(idx) + self.pos_emb(genesis.arange(T))
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln_f(x))
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))

    @genesis.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None):
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -self.block_size:])
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                kth = logits.topk(min(top_k, logits.shape[-1])).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            nxt = genesis.multinomial(F.softmax(logits, dim=-1), 1, generator=generator)
            idx = genesis.cat([idx, nxt], dim=1)
        return idx


def param_groups(model, weight_decay):
    """AdamW groups: weight matrices and embeddings decay; biases and LayerNorm weights
    (every parameter with fewer than 2 dimensions) do not — the usual GPT recipe."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--text", help="a UTF-8 text file to train on (default: stdlib docstrings)")
    p.add_argument("--steps", type=int, default=800)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-layer", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--sample", type=int, default=300, help="characters to sample at the end")
    p.add_argument("--checkpoint", default="checkpoints/gpt.pth")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    genesis.manual_seed(args.seed)
    if args.text:
        with open(args.text, encoding="utf-8") as f:
            text, source = f.read(), args.text
    else:
        text, source = stdlib_docstrings(), "docstrings of Python's standard library"
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    n_val = max(len(data) // 10, args.block_size + 1)
    train, val = data[:-n_val], data[-n_val:]
    print(f"corpus: {source}, {len(text):,} characters, vocabulary {len(chars)}")

    rng = np.random.default_rng(args.seed)

    def batch(split):
        d = train if split == "train" else val
        ix = rng.integers(0, len(d) - args.block_size - 1, args.batch_size)
        x = np.stack([d[i:i + args.block_size] for i in ix])
        y = np.stack([d[i + 1:i + 1 + args.block_size] for i in ix])
        return genesis.tensor(x), genesis.tensor(y)

    model = GPT(len(chars), args.block_size, args.d_model, args.n_head, args.n_layer,
                args.dropout)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params / 1e6:.2f}M parameters")
    optimizer = optim.AdamW(param_groups(model, args.weight_decay), lr=args.lr,
                            betas=(0.9, 0.95))
    scheduler = optim.get_cosine_schedule_with_warmup(optimizer, args.warmup, args.steps)

    def val_loss(n=8):
        model.eval()
        with genesis.no_grad():
            losses = [model(*batch("val"))[1].item() for _ in range(n)]
        model.train()
        return sum(losses) / n

    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        x, y = batch("train")
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        scheduler.step()
        if step % 25 == 0 or step == 1:
            dt = (time.perf_counter() - t0) / step
            print(f"step {step:5d}  loss {loss.item():.4f}  grad-norm {norm.item():.3f}  "
                  f"lr={scheduler.get_last_lr()[0]:.6f}  {1000 * dt:.0f} ms/step", flush=True)
    final_val = val_loss()
    print(f"validation loss {final_val:.4f} (uniform guess: {math.log(len(chars)):.4f})")

    os.makedirs(os.path.dirname(args.checkpoint) or ".", exist_ok=True)
    genesis.save_checkpoint({"model_state_dict": model.state_dict(), "chars": "".join(chars),
                             "args": vars(args), "val_loss": final_val}, args.checkpoint)
    if args.sample:
        start = genesis.tensor([[stoi.get("\n", 0)]])
        out = model.generate(start, args.sample, temperature=0.8, top_k=10,
                             generator=genesis.Generator().manual_seed(args.seed))
        print("--- sample ---")
        print("".join(chars[i] for i in out[0].tolist()))
    return final_val


if __name__ == "__main__":
    main()
