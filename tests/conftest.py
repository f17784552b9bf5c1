import sys
import os

sys.path.insert(0, os.path.dirname(__file__))

try:        # one torch thread: on a small shared machine its thread pool only contends
    import torch
    torch.set_num_threads(1)
except ImportError:
    pass


def _cuda_available():
    try:
        import genesis.cuda
        return genesis.cuda.is_available()
    except Exception:
        return False


# tests/cuda needs a CUDA device (a GPU, or TRITON_INTERPRET=1: see tests/cuda/conftest.py)
collect_ignore = [] if _cuda_available() else ["cuda"]
