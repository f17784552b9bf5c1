"""Every differentiable op, defined once on top of backend primitives. Each module keeps a
TENSOR_METHODS table; genesis.tensor binds them all as Tensor methods."""
from . import elementwise, reduce, shape, index, linalg, convert, nn, extra_math, extra_shape, \
    statistics

TENSOR_METHOD_TABLES = [m.TENSOR_METHODS for m in (elementwise, reduce, shape, index, linalg,
                                                    convert, nn, extra_math, extra_shape,
                                                    statistics)]
