"""Per-step training time, Genesis vs PyTorch, side by side in one process.

Workloads (issue 6's list): MLP 784-256-10 with Adam at batch 64 and 512; a small CNN (two
3x3 convs with max-pool, batch 64, 28x28, SGD momentum); the examples' char GPT (vocab 65,
block 64, d_model 128, 4 heads, 2 layers, batch 16, AdamW); a 10-op graph on tiny tensors.
Both frameworks start from the same weights and data; their steps run interleaved in
rotating rounds and the medians are compared. PyTorch runs with its default threads
(``--torch-threads`` to change). ``--memory`` adds each workload's peak RSS growth, measured
in a fresh subprocess per framework.

    python benchmarks/train_step.py [--rounds 7] [--steps 10] [--memory]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import genesis
import torch


def mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(784, 256), lib.nn.ReLU(), lib.nn.Linear(256, 10))


def cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def gpt(lib, vocab=65, block=64, d=128, heads=4, layers=2):
    nn, F = lib.nn, lib.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
            q, k, v = (t.view(B, T, heads, C // heads).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(B, T, C))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(block, d)
            self.blocks = nn.Sequential(*[Block() for _ in range(layers)])
            self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab, bias=False)

        def forward(self, idx):
            x = self.tok(idx) + self.pos(lib.arange(idx.shape[1], device=idx.device))
            return self.head(self.ln(self.blocks(x))).flatten(0, 1)

    return GPT()


def workloads():
    rng = np.random.default_rng(0)
    x64 = rng.normal(size=(64, 784)).astype(np.float32)
    x512 = rng.normal(size=(512, 784)).astype(np.float32)
    img = rng.normal(size=(64, 1, 28, 28)).astype(np.float32)
    idx = rng.integers(0, 65, (16, 64))
    return {  # name: (model builder, optimizer builder, input, targets)
        "MLP 784-256-10, batch 64, Adam": (mlp, lambda o, p: o.Adam(p, lr=1e-3), x64,
                                           rng.integers(0, 10, 64)),
        "MLP 784-256-10, batch 512, Adam": (mlp, lambda o, p: o.Adam(p, lr=1e-3), x512,
                                            rng.integers(0, 10, 512)),
        "CNN 2x conv3x3+pool, batch 64, SGD momentum": (
            cnn, lambda o, p: o.SGD(p, lr=0.01, momentum=0.9), img, rng.integers(0, 10, 64)),
        "char GPT d128 2 layers, batch 16x64, AdamW": (
            gpt, lambda o, p: o.AdamW(p, lr=3e-4), idx, rng.integers(0, 65, 16 * 64)),
    }


def make_step(lib, build, make_opt, x, y, state=None):
    model = build(lib)
    if state is not None:
        model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    opt = make_opt(lib.optim, model.parameters())
    xt, yt = lib.tensor(x), lib.tensor(y)
    F = lib.nn.functional

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        return loss
    return model, step


def tiny_graph(lib):
    a = lib.tensor([0.5, -1.0, 2.0, 0.25], requires_grad=True)
    b = lib.tensor([1.5, 0.5, -0.5, 2.0], requires_grad=True)

    def step():
        x = a * b + a
        x = x.exp().tanh() * b - a.sigmoid()
        x = (x * x).sum() + (a - b).abs().mean()
        x.backward()
        a.grad = b.grad = None
        return x
    return step


def time_rounds(fns, rounds, steps):
    """Median seconds per step of each function; rounds interleave and rotate order."""
    times = {k: [] for k in fns}
    keys = list(fns)
    for r in range(rounds):
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:
            t0 = time.perf_counter()
            for _ in range(steps):
                fns[k]()
            times[k].append((time.perf_counter() - t0) / steps)
    return {k: statistics.median(v) for k, v in times.items()}


def peak_rss_growth(framework, name, steps):
    """Peak RSS growth (MiB) from building the model to the end of ``steps`` training
    steps of one workload, in a fresh process so that the other framework's allocations
    don't count."""
    code = (f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r});"
            f"import train_step as t; print(t._rss_child({framework!r}, {name!r}, {steps}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _rss_child(framework, name, steps):
    lib = genesis if framework == "genesis" else torch
    data = workloads().get(name)
    # the high-water mark counts from here: after imports (both frameworks are imported)
    # and the data; Linux resets it through clear_refs
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = _rss_kib("VmRSS")
    if name == "tiny":
        step = tiny_graph(lib)
    else:
        _, step = make_step(lib, *data)
    for _ in range(steps):
        step()
    return (_rss_kib("VmHWM") - base) / 1024


def _rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--torch-threads", type=int, default=0)
    p.add_argument("--memory", action="store_true")
    args = p.parse_args()
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy "
          f"{np.__version__}; {os.cpu_count()} CPUs")
    rows = []
    for name, (build, make_opt, x, y) in workloads().items():
        tm, tstep = make_step(torch, build, make_opt, x, y)
        state = {k: v.detach().numpy() for k, v in tm.state_dict().items()}
        _, gstep = make_step(genesis, build, make_opt, x, y, state)
        lg, lt = gstep().item(), tstep().item()      # warm up; same weights, same loss
        assert abs(lg - lt) <= 1e-4 * abs(lt), (name, lg, lt)
        med = time_rounds({"genesis": gstep, "torch": tstep}, args.rounds, args.steps)
        rows.append((name, med["genesis"], med["torch"]))
    tg, tt = tiny_graph(genesis), tiny_graph(torch)
    med = time_rounds({"genesis": tg, "torch": tt}, args.rounds, args.steps * 20)
    rows.append(("10-op graph, 4 elements, fwd+bwd", med["genesis"], med["torch"]))

    head = "| workload | genesis ms/step | torch ms/step | genesis/torch |"
    if args.memory:
        head += " peak RSS growth genesis / torch (MiB) |"
    print(head)
    print("|---|---|---|---|" + ("---|" if args.memory else ""))
    for (name, g, t), key in zip(rows, list(workloads()) + ["tiny"]):
        line = f"| {name} | {1e3 * g:.3f} | {1e3 * t:.3f} | {g / t:.2f}x |"
        if args.memory:
            line += (f" {peak_rss_growth('genesis', key, args.steps):.1f} / "
                     f"{peak_rss_growth('torch', key, args.steps):.1f} |")
        print(line, flush=True)


if __name__ == "__main__":
    main()
