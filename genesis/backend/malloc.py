"""Keep glibc from handing large freed blocks back to the OS.

A training step frees and reallocates the same multi-megabyte temporaries (im2col
columns, activations, gradients) every step. By default glibc serves blocks above 128 KiB
with mmap and returns them on free, so each step pays page faults to map them in again;
measured here, that was a third of a CNN step. Raising the mmap and trim thresholds keeps
freed memory in the heap for reuse: RSS stays at the peak instead of shrinking between
steps. Set GENESIS_MALLOPT=0 to keep glibc's defaults. Other C libraries: nothing is done.
"""
import ctypes
import ctypes.util
import os

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 1 << 30       # blocks up to 1 GiB come from the heap
TRIM_THRESHOLD = 1 << 31       # free heap top is returned only above 2 GiB


def tune():
    """Apply the thresholds; True when glibc accepted them."""
    if os.environ.get("GENESIS_MALLOPT", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


TUNED = tune()
