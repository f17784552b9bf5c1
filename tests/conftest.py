import sys
import os

sys.path.insert(0, os.path.dirname(__file__))

try:        # one torch thread: on a small shared machine its thread pool only contends
    import torch
    torch.set_num_threads(1)
except ImportError:
    pass
