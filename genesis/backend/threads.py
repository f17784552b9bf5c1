"""``genesis.set_num_threads`` / ``get_num_threads``.

On the CPU the only work Genesis runs on several threads is NumPy's BLAS (matmul, linear,
conv); elementwise ops and reductions run on the calling thread. So these set and read the
thread count of the OpenBLAS that NumPy loaded, found by its exported symbols among the
process's shared libraries. Where NumPy's BLAS is not OpenBLAS (or not on Linux) the count
is recorded and reported but BLAS keeps its own.
"""
import ctypes
import os

_SETTERS = ("openblas_set_num_threads", "openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads")
_blas = None            # (set, get) of OpenBLAS, () when none was found
_recorded = None


def _openblas():
    """OpenBLAS's (set, get) thread functions, or () when none is loaded."""
    global _blas
    if _blas is None:
        _blas = ()
        try:
            with open("/proc/self/maps") as f:
                paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
        except OSError:
            paths = set()
        for path in sorted(paths):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for name in _SETTERS:
                getter = name.replace("set_num", "get_num")
                if hasattr(lib, name) and hasattr(lib, getter):
                    setter, get = getattr(lib, name), getattr(lib, getter)
                    setter.argtypes, get.restype = [ctypes.c_int], ctypes.c_int
                    _blas = (setter, get)
                    return _blas
    return _blas


def get_num_threads():
    """The number of threads used for intra-op parallelism on the CPU (NumPy's BLAS)."""
    blas = _openblas()
    if blas:
        return int(blas[1]())
    return _recorded or max(1, os.cpu_count() or 1)


def set_num_threads(num):
    """Set the number of threads used for intra-op parallelism on the CPU."""
    global _recorded
    if isinstance(num, bool) or not isinstance(num, int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(num).__name__}")
    if num <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _recorded = num
    blas = _openblas()
    if blas:
        blas[0](num)
