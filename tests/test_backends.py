"""genesis.backends: PyTorch's switches, with PyTorch's defaults, warnings and effects."""
import pytest

import genesis
from oracle import torch


def test_defaults_as_torch():
    assert genesis.backends.cuda.matmul.allow_tf32 is False
    assert genesis.get_float32_matmul_precision() == "highest"
    assert genesis.backends.cudnn.allow_tf32 is True and genesis.backends.cudnn.enabled
    if torch is not None:
        assert torch.get_float32_matmul_precision() == genesis.get_float32_matmul_precision()
        assert torch.backends.cuda.matmul.allow_tf32 is genesis.backends.cuda.matmul.allow_tf32


@pytest.mark.parametrize("precision,tf32", [("high", True), ("medium", True),
                                            ("highest", False)])
def test_precision_sets_tf32(precision, tf32):
    try:
        genesis.set_float32_matmul_precision(precision)
        assert genesis.backends.cuda.matmul.allow_tf32 is tf32
    finally:
        genesis.set_float32_matmul_precision("highest")


def test_unknown_precision_warns_and_changes_nothing():
    with pytest.warns(UserWarning, match="the current setFloat32MatmulPrecision call has no "
                                         "effect"):
        genesis.set_float32_matmul_precision("low")
    assert genesis.get_float32_matmul_precision() == "highest"
