"""Plot every learning-rate scheduler of genesis.optim (PyTorch's and the Hugging Face
warmup schedules) to PNG files, one per scheduler plus two overview grids, and run an LR
range test on a tiny regression problem.

    python examples/lr_schedules.py [--out lr_schedules] [--steps 300]

Needs matplotlib; runs offline in a few seconds."""
import argparse
import math
import os

import genesis
import genesis.optim as optim
from genesis.optim import lr_scheduler as L


def torch_schedulers(n):
    """{name: factory(optimizer) -> scheduler}, with arguments scaled to ``n`` steps."""
    q = n // 4
    return {
        "LambdaLR": lambda o: L.LambdaLR(o, lambda e: 1 / math.sqrt(1 + e / 10)),
        "MultiplicativeLR": lambda o: L.MultiplicativeLR(o, lambda e: 0.99),
        "StepLR": lambda o: L.StepLR(o, step_size=q // 2, gamma=0.5),
        "MultiStepLR": lambda o: L.MultiStepLR(o, milestones=[q, 2 * q, 3 * q], gamma=0.3),
        "ConstantLR": lambda o: L.ConstantLR(o, factor=0.5, total_iters=q),
        "LinearLR": lambda o: L.LinearLR(o, start_factor=0.1, total_iters=q),
        "ExponentialLR": lambda o: L.ExponentialLR(o, gamma=0.99),
        "PolynomialLR": lambda o: L.PolynomialLR(o, total_iters=3 * q, power=2.0),
        "CosineAnnealingLR": lambda o: L.CosineAnnealingLR(o, T_max=2 * q, eta_min=0.05),
        "CosineAnnealingWarmRestarts": lambda o: L.CosineAnnealingWarmRestarts(
            o, T_0=q // 2, T_mult=2, eta_min=0.05),
        "CyclicLR (triangular2)": lambda o: L.CyclicLR(
            o, base_lr=0.1, max_lr=1.0, step_size_up=q // 3, mode="triangular2"),
        "CyclicLR (exp_range)": lambda o: L.CyclicLR(
            o, base_lr=0.1, max_lr=1.0, step_size_up=q // 3, mode="exp_range", gamma=0.99),
        "OneCycleLR": lambda o: L.OneCycleLR(o, max_lr=1.0, total_steps=n),
        "OneCycleLR (three_phase, linear)": lambda o: L.OneCycleLR(
            o, max_lr=1.0, total_steps=n, three_phase=True, anneal_strategy="linear"),
        "SequentialLR (warmup, cosine)": lambda o: L.SequentialLR(
            o, [L.LinearLR(o, 0.01, total_iters=q // 2), L.CosineAnnealingLR(o, n - q // 2)],
            milestones=[q // 2]),
        "ChainedScheduler (exp x step)": lambda o: L.ChainedScheduler(
            [L.ExponentialLR(o, 0.995), L.StepLR(o, q, 0.5)]),
    }


def hf_schedules(n):
    w = n // 10
    return {
        "constant": lambda o: optim.get_constant_schedule(o),
        "constant_with_warmup": lambda o: optim.get_constant_schedule_with_warmup(o, w),
        "linear": lambda o: optim.get_linear_schedule_with_warmup(o, w, n),
        "cosine": lambda o: optim.get_cosine_schedule_with_warmup(o, w, n),
        "cosine_with_restarts": lambda o:
            optim.get_cosine_with_hard_restarts_schedule_with_warmup(o, w, n, num_cycles=3),
        "polynomial (power 2)": lambda o: optim.get_polynomial_decay_schedule_with_warmup(
            o, w, n, lr_end=0.05, power=2.0),
        "inverse_sqrt": lambda o: optim.get_inverse_sqrt_schedule(o, w),
        "cosine_with_min_lr": lambda o: optim.get_cosine_with_min_lr_schedule_with_warmup(
            o, w, n, min_lr_rate=0.1),
        "warmup_stable_decay": lambda o: optim.get_wsd_schedule(
            o, w, num_decay_steps=n // 4, num_training_steps=n, min_lr_ratio=0.05),
    }


def plateau_sequence(n):
    """ReduceLROnPlateau fed a loss that stops improving now and then."""
    metrics = [1.0 / (1 + (k // 40)) + 0.01 * ((k * 7919) % 13) / 13 for k in range(n)]
    sched = L.ReduceLROnPlateau(_optimizer(), factor=0.5, patience=10)
    return optim.lr_sequence(sched, n, metrics=metrics)


def _optimizer(lr=1.0):
    return optim.SGD([genesis.nn.Parameter(genesis.zeros(1))], lr=lr, momentum=0.9)


def slug(name):
    """A file name from a schedule name: "CyclicLR (exp_range)" -> "cycliclr_exp_range"."""
    return "_".join("".join(c if c.isalnum() else " " for c in name).lower().split())


def range_test(out):
    genesis.manual_seed(0)
    model = genesis.nn.Linear(4, 1)
    x = genesis.randn(64, 4)
    y = x @ genesis.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.1
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    lrs, losses, best = optim.lr_range_test(
        model, opt, lambda p, t: ((p - t) ** 2).mean(), [(x, y)], start_lr=1e-4, end_lr=10,
        num_steps=150, plot=os.path.join(out, "lr_range_test.png"), suggest=True)
    print(f"LR range test: {len(lrs)} steps (stopped at lr {lrs[-1]:.3g}), "
          f"steepest descent at lr {best:.3g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="lr_schedules", help="output directory")
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    n = args.steps
    os.makedirs(args.out, exist_ok=True)

    torch_like = torch_schedulers(n)
    hf = hf_schedules(n)
    for name, factory in {**torch_like, **hf}.items():
        optim.plot_schedules({name: factory}, os.path.join(args.out, slug(name) + ".png"),
                             steps=n, title=name)
    plateau = plateau_sequence(n)
    optim.plot_schedules({"ReduceLROnPlateau": plateau},
                         os.path.join(args.out, "reducelronplateau.png"),
                         title="ReduceLROnPlateau")
    optim.plot_schedules({**torch_like, "ReduceLROnPlateau": plateau},
                         os.path.join(args.out, "all_torch.png"), steps=n, separate=True)
    optim.plot_schedules(hf, os.path.join(args.out, "all_huggingface.png"), steps=n,
                         separate=True)
    range_test(args.out)
    count = len(os.listdir(args.out))
    print(f"wrote {count} PNG files to {args.out}/")


if __name__ == "__main__":
    main()
