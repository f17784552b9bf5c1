"""Every Triton kernel configuration the CUDA backend launches compiles ahead of time for
Hopper (sm_90) on this machine, GPU or not: a kernel that cannot compile never lands.
Each kernels/ module lists its configurations in AOT_CASES."""
import importlib
import os

import pytest

os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")     # as genesis's runtime sets it
triton = pytest.importorskip("triton")
if os.environ.get("TRITON_INTERPRET") == "1":
    pytest.skip("compiling needs Triton's compiler, not its interpreter",
                allow_module_level=True)

from triton.backends.compiler import GPUTarget  # noqa: E402
from triton.compiler import ASTSource  # noqa: E402

FAMILIES = ["elementwise", "reduce", "matmul", "index", "random", "softmax", "norm",
            "activation", "optim", "attention", "sort"]
HOPPER = GPUTarget("cuda", 90, 32)


def _cases():
    out = []
    for fam in FAMILIES:
        try:
            mod = importlib.import_module(f"genesis.backend.cuda.kernels.{fam}")
        except ModuleNotFoundError:
            continue
        for i, case in enumerate(getattr(mod, "AOT_CASES", ())):
            out.append(pytest.param(case, id=f"{fam}-{i}-{case[0].__name__}"))
    return out


CASES = _cases()


def test_every_kernel_family_lists_cases():
    assert CASES, "no AOT_CASES found"


@pytest.mark.parametrize("case", CASES)
def test_compiles_for_hopper(case):
    fn, signature, constexprs, *options = case     # options: e.g. num_warps, num_stages
    k = triton.compile(ASTSource(fn=fn, signature=signature, constexprs=constexprs),
                       target=HOPPER, options=options[0] if options else None)
    assert k.asm["cubin"] and "sm_90" in k.asm["ptx"]
