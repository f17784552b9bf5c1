"""Genesis's CUDA backend against PyTorch on the same GPU, side by side in one process.

Workloads (issue 5's list): matmul (float32 with and without TF32, float16, bfloat16;
1024-8192), elementwise and reductions (bandwidth as a fraction of the card's peak),
softmax, layer_norm, cross_entropy, attention (vs PyTorch's SDPA), an AdamW step over a
100M-parameter model and the GPT example's training step in tokens/s. Each row times both
frameworks with CUDA events (medians of interleaved rounds after warm-up) and prints the
ratio torch_time / genesis_time (higher is better for Genesis, as a fraction of PyTorch's
speed). Rows whose Genesis kernel does not exist yet print "n/a" and why.

    python benchmarks/gpu.py [--quick] [--only matmul,softmax,...]

Needs an NVIDIA GPU and a CUDA build of PyTorch; exits with a message otherwise.
"""
import argparse
import statistics
import sys

import numpy as np

import genesis

# peak HBM bandwidth (GB/s) by device name, from NVIDIA's data sheets
PEAK_GBPS = {"H200": 4800, "H100 SXM": 3350, "H100 80GB HBM3": 3350, "H100 PCIe": 2000,
             "H100 NVL": 3900, "A100-SXM4-80GB": 2039, "A100-SXM4-40GB": 1555,
             "A100-PCIE": 1555}


def peak_gbps(name):
    for key, v in PEAK_GBPS.items():
        if key in name:
            return v
    return None


def time_pair(fg, ft, rounds=7, iters=10):
    """Median milliseconds per call of genesis's fg and torch's ft, interleaved."""
    import torch
    for _ in range(3):
        fg()
        ft()
    genesis.cuda.synchronize()
    torch.cuda.synchronize()
    tg, tt = [], []
    for r in range(rounds):
        for fn, event, times in ((fg, genesis.cuda.Event, tg), (ft, torch.cuda.Event, tt))[
                ::1 if r % 2 == 0 else -1]:
            s, e = event(enable_timing=True), event(enable_timing=True)
            s.record()
            for _ in range(iters):
                fn()
            e.record()
            e.synchronize()
            times.append(s.elapsed_time(e) / iters)
    return statistics.median(tg), statistics.median(tt)


ROWS = []


def row(name, fg, ft, nbytes=None, flops=None):
    try:
        g, t = time_pair(fg, ft)
    except (NotImplementedError, AttributeError) as e:
        ROWS.append((name, None, None, f"n/a ({type(e).__name__}: {str(e)[:60]})", ""))
        return
    extra = ""
    if nbytes is not None:
        gbps = nbytes / g / 1e6
        pk = peak_gbps(genesis.cuda.get_device_name())
        extra = f"{gbps:,.0f} GB/s" + (f" ({gbps / pk:.0%} of peak)" if pk else "")
    if flops is not None:
        extra = f"{flops / g / 1e9:,.1f} TFLOP/s (torch {flops / t / 1e9:,.1f})"
    ROWS.append((name, g, t, f"{t / g:.2f}x", extra))


def pair(shape, dtype="float32", scale=1.0, seed=0):
    import torch
    a = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)
    g = genesis.tensor(a, device="cuda").to(getattr(genesis, dtype))
    t = torch.tensor(a, device="cuda").to(getattr(torch, dtype))
    return g, t


def bench_matmul(sizes):
    import torch
    for dt in ("float32", "tf32", "float16", "bfloat16"):
        for n in sizes:
            real = "float32" if dt == "tf32" else dt
            ga, ta = pair((n, n), real, seed=1)
            gb, tb = pair((n, n), real, seed=2)
            torch.backends.cuda.matmul.allow_tf32 = dt == "tf32"
            try:
                from genesis.backend.cuda import linalg
                linalg.ALLOW_TF32 = dt == "tf32"
            except ImportError:
                pass
            row(f"matmul {dt} {n}x{n}", lambda: ga @ gb, lambda: ta @ tb,
                flops=2 * n ** 3)
    torch.backends.cuda.matmul.allow_tf32 = False


def bench_bandwidth(n):
    gx, tx = pair((n,), seed=1)
    gy, ty = pair((n,), seed=2)
    row(f"x * y, {n:,} float32", lambda: gx * gy, lambda: tx * ty, nbytes=12 * n)
    row(f"exp(x), {n:,} float32", lambda: gx.exp(), lambda: tx.exp(), nbytes=8 * n)
    g2, t2 = pair((n // 4096, 4096), seed=3)
    row(f"sum over last dim ({n // 4096}, 4096)", lambda: g2.sum(-1), lambda: t2.sum(-1),
        nbytes=4 * n)
    row(f"sum of all {n:,}", lambda: gx.sum(), lambda: tx.sum(), nbytes=4 * n)


def bench_fused(quick):
    import torch
    rows, cols = (4096, 4096) if not quick else (1024, 1024)
    for dt in ("float32", "bfloat16"):
        g, t = pair((rows, cols), dt, seed=4)
        nb = 2 * rows * cols * g.element_size()
        row(f"softmax {dt} ({rows}, {cols})", lambda: genesis.nn.functional.softmax(g, -1),
            lambda: torch.softmax(t, -1), nbytes=nb)
        w, b = genesis.ones(cols, device="cuda", dtype=g.dtype), genesis.zeros(
            cols, device="cuda", dtype=g.dtype)
        tw, tb = torch.ones(cols, device="cuda", dtype=t.dtype), torch.zeros(
            cols, device="cuda", dtype=t.dtype)
        row(f"layer_norm {dt} ({rows}, {cols})",
            lambda: genesis.nn.functional.layer_norm(g, (cols,), w, b),
            lambda: torch.nn.functional.layer_norm(t, (cols,), tw, tb), nbytes=nb)
    n, v = (8192, 32000) if not quick else (1024, 4096)
    g, t = pair((n, v), "float32", seed=5)
    tgt = np.random.default_rng(6).integers(0, v, n)
    gy, ty = genesis.tensor(tgt, device="cuda"), torch.tensor(tgt, device="cuda")
    row(f"cross_entropy fwd ({n}, {v})", lambda: genesis.nn.functional.cross_entropy(g, gy),
        lambda: torch.nn.functional.cross_entropy(t, ty), nbytes=4 * n * v)


def bench_attention(quick):
    import torch
    B, H, T, D = (8, 16, 2048, 64) if not quick else (2, 4, 256, 64)
    q, tq = pair((B, H, T, D), "bfloat16", seed=7)
    k, tk = pair((B, H, T, D), "bfloat16", seed=8)
    v, tv = pair((B, H, T, D), "bfloat16", seed=9)
    F = genesis.nn.functional
    flops = 4 * B * H * T * T * D / 2          # causal: half the score matrix
    row(f"causal sdpa bf16 B{B} H{H} T{T} D{D}",
        lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        lambda: torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=True),
        flops=flops)
    # forward + backward (backward: 2.5x the forward's products)
    for x in (q, k, v, tq, tk, tv):
        x.requires_grad_()
    go, tgo = pair((B, H, T, D), "bfloat16", seed=10)

    def step(sdpa, a, b, c, g):
        sdpa(a, b, c, is_causal=True).backward(g)
    row(f"causal sdpa fwd+bwd bf16 B{B} H{H} T{T} D{D}",
        lambda: step(F.scaled_dot_product_attention, q, k, v, go),
        lambda: step(torch.nn.functional.scaled_dot_product_attention, tq, tk, tv, tgo),
        flops=3.5 * flops)


def bench_adamw(quick):
    import torch
    n_params = 100_000_000 if not quick else 1_000_000
    shapes = [(4096, 4096)] * (n_params // 4096 ** 2) or [(1000, 1000)]
    gp = [genesis.nn.Parameter(genesis.zeros(*s, device="cuda")) for s in shapes]
    tp = [torch.nn.Parameter(torch.zeros(*s, device="cuda")) for s in shapes]
    for p in gp:
        p.grad = genesis.ones_like(p)
    for p in tp:
        p.grad = torch.ones_like(p)
    go, to = genesis.optim.AdamW(gp, lr=1e-3), torch.optim.AdamW(tp, lr=1e-3, foreach=True)
    total = sum(int(np.prod(s)) for s in shapes)
    row(f"AdamW step, {total / 1e6:.0f}M params", go.step, to.step, nbytes=16 * total)


def bench_gpt(quick):
    import torch
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    from train_step import gpt
    B, T = (32, 64) if not quick else (4, 64)
    idx = np.random.default_rng(10).integers(0, 65, (B, T))
    tgt = np.random.default_rng(11).integers(0, 65, B * T)
    steps = {}
    for lib in (genesis, torch):
        lib.manual_seed(0)
        model = gpt(lib).to("cuda")
        opt = lib.optim.AdamW(model.parameters(), lr=3e-4)
        x, y = lib.tensor(idx, device="cuda"), lib.tensor(tgt, device="cuda")

        def step(model=model, opt=opt, x=x, y=y, lib=lib):
            opt.zero_grad()
            lib.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        steps[lib.__name__] = step
    row(f"GPT example train step, batch {B}x{T}", steps["genesis"], steps["torch"])
    name, g, t, ratio, _ = ROWS[-1]
    if g is not None:
        ROWS[-1] = (name, g, t, ratio,
                    f"{B * T / g * 1e3:,.0f} tokens/s (torch {B * T / t * 1e3:,.0f})")


SECTIONS = {"matmul": None, "bandwidth": None, "fused": bench_fused,
            "attention": bench_attention, "adamw": bench_adamw, "gpt": bench_gpt}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    p.add_argument("--only", default="", help="comma-separated sections: " +
                   ",".join(SECTIONS))
    a = p.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("benchmarks/gpu.py needs PyTorch with CUDA")
    from genesis.backend.cuda import runtime
    if not torch.cuda.is_available() or runtime.mode() != "gpu":
        sys.exit("benchmarks/gpu.py needs an NVIDIA GPU (genesis.cuda and torch.cuda)")
    only = set(filter(None, a.only.split(","))) or set(SECTIONS)
    sizes = (1024, 2048) if a.quick else (1024, 2048, 4096, 8192)
    if "matmul" in only:
        bench_matmul(sizes)
    if "bandwidth" in only:
        bench_bandwidth(1 << 24 if a.quick else 1 << 28)
    for name in ("fused", "attention", "adamw", "gpt"):
        if name in only:
            SECTIONS[name](a.quick)
    print(f"{genesis.cuda.get_device_name()}; torch {torch.__version__}; "
          f"genesis {genesis.__version__}")
    print("| workload | genesis ms | torch ms | genesis speed (torch/genesis) | notes |")
    print("|---|---|---|---|---|")
    for name, g, t, ratio, extra in ROWS:
        gs = f"{g:.3f}" if g is not None else "-"
        ts = f"{t:.3f}" if t is not None else "-"
        print(f"| {name} | {gs} | {ts} | {ratio} | {extra} |")


if __name__ == "__main__":
    main()
