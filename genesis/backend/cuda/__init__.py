"""The CUDA backend (issue 5): runtime.py (devices, memory, streams, events), memory.py
(the caching allocator), array.py (device arrays), backend.py (the primitives, by Triton
kernels in kernels/). ``from genesis.backend.cuda import backend`` raises ImportError where
CUDA is unavailable; nothing here imports triton or cuda-python before that."""
