"""Triton kernels of the CUDA backend, one module per family. Each module imports triton
at import time: the backend imports them only once CUDA is in use."""
