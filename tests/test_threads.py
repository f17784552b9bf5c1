"""genesis.set_num_threads / get_num_threads: PyTorch's names, errors and effect (the
thread count of NumPy's OpenBLAS, which runs Genesis's matmuls)."""
import numpy as np
import pytest

import genesis
from genesis.backend import threads
from oracle import torch


@pytest.fixture
def restore_threads():
    before = genesis.get_num_threads()
    yield
    genesis.set_num_threads(before)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_set_then_get(restore_threads, n):
    genesis.set_num_threads(n)
    assert genesis.get_num_threads() == n
    a = np.arange(64 * 64, dtype=np.float32).reshape(64, 64) / 4096
    np.testing.assert_allclose((genesis.tensor(a) @ genesis.tensor(a)).numpy(), a @ a,
                               rtol=1e-6)


def test_reaches_openblas_when_numpy_uses_it(restore_threads):
    blas = threads._openblas()
    if not blas:
        pytest.skip("NumPy's BLAS here is not a loaded OpenBLAS")
    genesis.set_num_threads(1)
    assert blas[1]() == 1


@pytest.mark.parametrize("value,message", [
    (0, "set_num_threads expects a positive integer"),
    (-2, "set_num_threads expects a positive integer"),
    (2.5, "set_num_threads expects an int, but got float"),
    ("2", "set_num_threads expects an int, but got str"),
])
def test_bad_counts_raise_as_torch(value, message):
    with pytest.raises(RuntimeError, match=message):
        genesis.set_num_threads(value)


@pytest.mark.parametrize("value", [0, -2, 2.5, "2"])
def test_messages_are_torchs(value):
    if torch is None:
        pytest.skip("PyTorch is not installed")
    with pytest.raises(RuntimeError) as ours:
        genesis.set_num_threads(value)
    with pytest.raises(RuntimeError) as theirs:
        torch.set_num_threads(value)
    assert str(ours.value) == str(theirs.value)
