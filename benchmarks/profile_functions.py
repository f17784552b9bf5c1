"""Where a Genesis training step's time goes, per autograd Function.

Wraps every Function subclass's forward and backward with a wall-clock timer, runs a
workload of train_step.py, and prints milliseconds per step for the costliest entries
(nested Functions are counted in their parents too; the optimizer step is not a Function
and shows as the gap to the wall time). Far less overhead than cProfile.

    python benchmarks/profile_functions.py ["char GPT d128 2 layers, batch 16x64, AdamW"]
"""
import collections
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import genesis  # noqa: E402
from genesis.autograd.function import Function  # noqa: E402
import train_step  # noqa: E402

TOTAL, CALLS = collections.Counter(), collections.Counter()


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _timed(fn, key):
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TOTAL[key] += time.perf_counter() - t
            CALLS[key] += 1
    return wrapper


def instrument():
    for cls in set(_subclasses(Function)):
        for name in ("forward", "backward"):
            f = cls.__dict__.get(name)
            if f is not None:
                fn = f.__func__ if isinstance(f, staticmethod) else f
                setattr(cls, name, staticmethod(_timed(fn, f"{cls.__name__}.{name}")))


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "char GPT d128 2 layers, batch 16x64, AdamW"
    build, make_opt, x, y = train_step.workloads()[name]
    instrument()
    _, step = train_step.make_step(genesis, build, make_opt, x, y)
    for _ in range(3):
        step()
    TOTAL.clear()
    CALLS.clear()
    n = 20
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    wall = (time.perf_counter() - t0) / n * 1e3
    print(f"{name}: {wall:.2f} ms/step")
    for key, v in TOTAL.most_common(25):
        print(f"{key:40s} {v / n * 1e3:8.3f} ms  x{CALLS[key] // n}")


if __name__ == "__main__":
    main()
