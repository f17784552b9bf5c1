"""Per-op overhead and large-tensor throughput: Genesis vs PyTorch vs raw NumPy, side by
side in one process, interleaved rounds, medians. Prints a Markdown table of times and
ratios (genesis / torch, genesis / numpy; lower is better).

    python benchmarks/ops.py            # full sizes
    python benchmarks/ops.py --quick    # small sizes, a smoke run
"""
import argparse
import platform
import statistics
import time

import numpy as np

import genesis

try:
    import torch
    torch.set_num_threads(max(1, torch.get_num_threads()))
except ImportError:
    torch = None


def _time(fn, reps):
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def bench(cases, rounds, reps):
    """cases: {impl: fn}; runs each impl for ``reps`` calls per round, interleaved in an
    order that rotates every round, and returns the median seconds per call of each. Each
    block starts with an untimed call, which absorbs the hand-over of the cores from the
    previous library's worker threads (OpenMP threads spin for a while after a parallel
    region), so no library pays for another's threads."""
    res = {k: [] for k in cases}
    for fn in cases.values():
        fn()                            # warm up
    names = list(cases)
    for r in range(rounds):
        for k in names[r % len(names):] + names[:r % len(names)]:
            cases[k]()
            res[k].append(_time(cases[k], reps))
    return {k: statistics.median(v) for k, v in res.items()}


def ten_ops(a, b):
    """The 10-op graph on tiny tensors: per-op overhead, nothing else."""
    c = a * b
    d = c + a
    e = d.exp()
    f = e * 2.0
    g = f - b
    h = g.tanh()
    i = h * h
    j = i.sigmoid()
    k = j + c
    return k.sum()


def tiny_graph(lib):
    a = lib.tensor([0.1, 0.2, 0.3, 0.4], requires_grad=True)
    b = lib.tensor([0.5, -0.6, 0.7, -0.8], requires_grad=True)

    def step():
        ten_ops(a, b).backward()
        a.grad = None
        b.grad = None
    return step


def tiny_forward(lib):
    a = lib.tensor([0.1, 0.2, 0.3, 0.4])
    b = lib.tensor([0.5, -0.6, 0.7, -0.8])
    return lambda: ten_ops(a, b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    q = args.quick
    n_el = 1 << (16 if q else 24)
    rows = []

    def row(name, cases, rounds, reps, numpy_floor=True):
        r = bench(cases, rounds, reps)
        g, t, n = r.get("genesis"), r.get("torch"), r.get("numpy")
        rows.append((name, g, t, n))
        print(f"{name:40s} genesis {g * 1e6:10.1f} us  "
              + (f"torch {t * 1e6:10.1f} us ({g / t:5.2f}x)  " if t else "")
              + (f"numpy {n * 1e6:10.1f} us ({g / n:5.2f}x)" if n else ""), flush=True)

    libs = {"genesis": genesis}
    if torch is not None:
        libs["torch"] = torch
    row("10-op graph, 4 elements, fwd+bwd", {k: tiny_graph(m) for k, m in libs.items()},
        5 if q else 15, 200 if q else 2000)
    row("10-op graph, 4 elements, fwd only (no grad)", {k: tiny_forward(m)
                                                        for k, m in libs.items()},
        5 if q else 15, 200 if q else 2000)

    rng = np.random.default_rng(0)
    x = rng.standard_normal(n_el).astype(np.float32)
    y = rng.standard_normal(n_el).astype(np.float32)
    gx, gy = genesis.from_numpy(x), genesis.from_numpy(y)
    cases = {"genesis": lambda: gx * gy, "numpy": lambda: x * y}
    if torch is not None:
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        cases["torch"] = lambda: tx * ty
    row(f"elementwise x * y, {n_el} float32", cases, 5, 3 if q else 10)
    cases = {"genesis": lambda: gx.exp(), "numpy": lambda: np.exp(x)}
    if torch is not None:
        cases["torch"] = lambda: tx.exp()
    row(f"elementwise exp(x), {n_el} float32", cases, 5, 3 if q else 10)

    m = rng.standard_normal((256, 64) if q else (4096, 1024)).astype(np.float32)
    gm = genesis.from_numpy(m)
    cases = {"genesis": lambda: gm.sum(-1), "numpy": lambda: m.sum(-1)}
    if torch is not None:
        tm = torch.from_numpy(m)
        cases["torch"] = lambda: tm.sum(-1)
    row(f"sum over last dim {m.shape}", cases, 5, 5 if q else 20)

    def np_softmax(a):
        e = np.exp(a - a.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)
    cases = {"genesis": lambda: genesis.softmax(gm, -1), "numpy": lambda: np_softmax(m)}
    if torch is not None:
        cases["torch"] = lambda: torch.softmax(tm, -1)
    row(f"softmax over last dim {m.shape}", cases, 5, 3 if q else 10)

    k = 128 if q else 1024
    a = rng.standard_normal((k, k)).astype(np.float32)
    b = rng.standard_normal((k, k)).astype(np.float32)
    ga, gb = genesis.from_numpy(a), genesis.from_numpy(b)
    cases = {"genesis": lambda: ga @ gb, "numpy": lambda: a @ b}
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        cases["torch"] = lambda: ta @ tb
    row(f"matmul {k}x{k} float32", cases, 5, 5 if q else 20)

    print()
    print(f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"python {platform.python_version()}, numpy {np.__version__}"
          + (f", torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch
             else ""))
    print()
    print("| workload | genesis | torch | numpy | genesis/torch | genesis/numpy |")
    print("|---|---|---|---|---|---|")
    for name, g, t, n in rows:
        fmt = lambda v: f"{v * 1e6:.1f} us" if v else "-"
        print(f"| {name} | {fmt(g)} | {fmt(t)} | {fmt(n)} | "
              f"{(f'{g / t:.2f}x' if t else '-')} | {(f'{g / n:.2f}x' if n else '-')} |")


if __name__ == "__main__":
    main()
