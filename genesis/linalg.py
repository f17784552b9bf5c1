"""genesis.linalg: the torch.linalg names that Genesis implements. The ops live in
genesis.ops (norms in ops/reduce.py, products in ops/linalg.py)."""
from .ops.reduce import vector_norm, matrix_norm, linalg_norm as norm
from .ops.linalg import matmul

__all__ = ["vector_norm", "matrix_norm", "norm", "matmul"]
