"""genesis.testing.assert_close with PyTorch's default tolerances per dtype."""
import numpy as np

from . import dtypes as _dt
from .tensor import Tensor

# (rtol, atol) as torch.testing.assert_close
_TOL = {_dt.float16: (1e-3, 1e-5), _dt.bfloat16: (1.6e-2, 1e-5),
        _dt.float32: (1.3e-6, 1e-5), _dt.float64: (1e-7, 1e-7)}


def _to_np(x):
    if isinstance(x, Tensor):
        return x._be.to_host(x._data), x.dtype, x.device
    arr = np.asarray(x)
    return arr, None, None


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` agree in shape, dtype,
    device and value to within ``atol + rtol * |expected|``."""
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but "
                         f"got no {'rtol' if rtol is None else 'atol'}.")
    if isinstance(actual, (list, tuple)) and not isinstance(expected, Tensor):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch: {len(actual)} != "
                                 f"{len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_device=check_device, check_dtype=check_dtype, msg=msg)
        return
    if isinstance(actual, dict):
        if set(actual) != set(expected):
            raise AssertionError(f"The keys of the mappings do not match: {sorted(actual)} vs "
                                 f"{sorted(expected)}")
        for k in actual:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_device=check_device, check_dtype=check_dtype, msg=msg)
        return
    a, adt, adev = _to_np(actual)
    e, edt, edev = _to_np(expected)
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: "
                                    f"{list(a.shape)} != {list(e.shape)}.")
    if check_dtype and adt is not None and edt is not None and adt != edt:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: "
                                    f"{adt} != {edt}.")
    if check_device and adev is not None and edev is not None and adev != edev:
        raise AssertionError(msg or f"The values for attribute 'device' do not match: "
                                    f"{adev} != {edev}.")
    if rtol is None:
        dt = adt or edt or _dt.from_numpy_dtype(np.result_type(a.dtype, e.dtype))
        rtol, atol = _TOL.get(dt, (0.0, 0.0))
    af, ef = a.astype(np.float64), e.astype(np.float64)
    nan_ok = np.isnan(af) & np.isnan(ef) if equal_nan else np.zeros(af.shape, bool)
    with np.errstate(invalid="ignore"):
        close = (af == ef) | (np.abs(af - ef) <= atol + rtol * np.abs(ef)) | nan_ok
    if not close.all():
        bad = ~close
        diff = np.abs(af - ef)
        diff[~bad] = 0
        i = np.unravel_index(np.nanargmax(np.where(bad, diff, -1)), af.shape) if af.ndim else ()
        raise AssertionError(msg or (
            f"Tensor-likes are not close!\n\nMismatched elements: {int(bad.sum())} / "
            f"{bad.size} ({100 * bad.mean():.1f}%)\nGreatest absolute difference: "
            f"{np.nanmax(np.where(bad, diff, np.nan))} at index {tuple(int(v) for v in i)} "
            f"(up to {atol} allowed)\nGreatest relative difference: "
            f"{np.nanmax(np.where(bad, diff / np.maximum(np.abs(ef), 1e-300), np.nan))} "
            f"(up to {rtol} allowed)"))
