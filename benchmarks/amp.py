"""Mixed precision on the GPT example: the memory its forward pass keeps for backward
(activations) in float32 and under bfloat16/float16 autocast, and step times.

Activation memory is what NumPy holds when the forward pass is done and its graph is alive
(tracemalloc counts NumPy's allocations), minus what was held before it: the tensors saved
for backward, the outputs and autocast's cached parameter casts. On the CPU, bfloat16 and
float16 arithmetic is emulated (computed in float32 and rounded), so autocast saves memory
but not time there; GPU throughput comes with the CUDA backend (issue 5).

    python benchmarks/amp.py [--batch 16] [--block 64] [--layers 2] [--d-model 128]
"""
import argparse
import os
import statistics
import sys
import time
import tracemalloc

import numpy as np

import genesis
import genesis.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from train_gpt import GPT  # noqa: E402


def forward(model, idx, targets, dtype):
    with genesis.autocast("cpu", dtype=dtype or genesis.bfloat16, enabled=dtype is not None):
        logits, _ = model(idx)
        return F.cross_entropy(logits.view(-1, logits.shape[-1]).float(), targets.view(-1))


def activation_bytes(model, idx, targets, dtype):
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    loss = forward(model, idx, targets, dtype)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    loss.backward()
    model.zero_grad()
    return held


def step_time(model, opt, idx, targets, dtype, rounds=5):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        loss = forward(model, idx, targets, dtype)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--block", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--vocab", type=int, default=65)
    args = p.parse_args()
    genesis.manual_seed(0)
    model = GPT(args.vocab, args.block, args.d_model, 4, args.layers)
    opt = genesis.optim.AdamW(model.parameters(), lr=1e-4)
    rng = np.random.default_rng(0)
    idx = genesis.tensor(rng.integers(0, args.vocab, (args.batch, args.block)))
    targets = genesis.tensor(rng.integers(0, args.vocab, (args.batch, args.block)))
    print(f"GPT: {args.layers} layers, d_model {args.d_model}, batch {args.batch}x"
          f"{args.block}, {sum(q.numel() for q in model.parameters()) / 1e6:.2f}M parameters")
    rows = []
    for name, dtype in (("float32", None), ("bfloat16 autocast", genesis.bfloat16),
                        ("float16 autocast", genesis.float16)):
        mem = activation_bytes(model, idx, targets, dtype)
        rows.append((name, mem, step_time(model, opt, idx, targets, dtype)))
    base_mem, base_t = rows[0][1], rows[0][2]
    print("| precision | activation memory | vs float32 | CPU step time | vs float32 |")
    print("|---|---|---|---|---|")
    for name, mem, t in rows:
        print(f"| {name} | {mem / 2**20:.1f} MiB | {mem / base_mem:.2f}x | "
              f"{1e3 * t:.1f} ms | {t / base_t:.2f}x |")


if __name__ == "__main__":
    main()
