"""genesis.backends.cuda: the CUDA matmul switches (read by the CUDA backend at each call)."""


class _MatmulFlags:
    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()


def is_built():
    from ..cuda import is_available
    return is_available()
