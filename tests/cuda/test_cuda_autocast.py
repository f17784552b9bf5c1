"""Autocast on 'cuda' follows PyTorch's CUDA op lists (genesis/autocast_state.POLICY):
matmul-like ops run in the autocast dtype, exp/sum/softmax/layer_norm... in float32, and
promote ops take the widest input."""
import numpy as np
import pytest

import genesis

F = genesis.nn.functional


@pytest.mark.parametrize("low", [genesis.float16, genesis.bfloat16])
def test_cuda_autocast_policies(low):
    rng = np.random.default_rng(0)
    a = genesis.tensor(rng.standard_normal((4, 8)).astype(np.float32), device="cuda")
    b = genesis.tensor(rng.standard_normal((8, 3)).astype(np.float32), device="cuda")
    with genesis.autocast("cuda", dtype=low):
        mm = a @ b
        assert mm.dtype == low and mm.device == a.device
        assert F.linear(a, b.t()).dtype == low
        assert mm.exp().dtype == genesis.float32             # fp32 list on CUDA
        assert mm.sum().dtype == genesis.float32
        assert F.softmax(mm, -1).dtype == genesis.float32
        assert (mm + a[:, :3]).dtype == genesis.float32       # promote: widest input
        with genesis.autocast("cuda", enabled=False):
            assert (a @ b).dtype == genesis.float32
    np.testing.assert_allclose(mm.float().cpu().numpy(), (a @ b).cpu().numpy(),
                               rtol=2e-2, atol=2e-2)


def test_cpu_ops_ignore_a_cuda_region():
    with genesis.autocast("cuda", dtype=genesis.float16):
        assert (genesis.ones(2, 2) @ genesis.ones(2, 2)).dtype == genesis.float32
