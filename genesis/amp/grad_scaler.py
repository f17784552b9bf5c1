"""Dynamic loss scaling for mixed-precision training, as ``torch.amp.GradScaler``.

The loss is multiplied by a scale factor before backward so that small float16 gradients
do not flush to zero; ``unscale_``/``step`` divide the gradients back (skipping the
optimizer step when any gradient overflowed) and ``update`` adapts the factor: it backs
off after an overflow and grows after ``growth_interval`` clean steps in a row.

The scale (float32) and the growth tracker (int32) are 0-dim tensors on the device of the
first scaled output, created lazily and updated in place, as PyTorch keeps them.
"""
import inspect
import math
import warnings
from collections import abc, defaultdict
from enum import Enum

import numpy as np

from ..tensor import Tensor, _make
from ..autograd.grad_mode import no_grad
from .. import creation as _creation
from .. import dtypes as _dt

__all__ = ["OptState", "GradScaler"]

_F16 = _dt.float16.np
_F32 = np.float32


class OptState(Enum):
    """Where one optimizer is in the current iteration."""
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state():
    # module level (not a lambda) so that a scaler's defaultdict pickles
    return {"stage": OptState.READY, "found_inf_per_device": {}}


def _cuda_definitely_unavailable():
    # the cuda package may not exist yet (or fail to import): then there is no CUDA
    try:
        from .. import cuda
        return not cuda.is_available()
    except Exception:
        return True


class _MultiDeviceReplicator:
    """Hands out copies of one tensor per device, made once and cached."""

    def __init__(self, master):
        self.master = master
        self._per_device_tensors = {}

    def get(self, device):
        t = self._per_device_tensors.get(device)
        if t is None:
            t = self.master.to(device, copy=True)
            self._per_device_tensors[device] = t
        return t


class GradScaler:
    """Scales losses and unscales gradients for float16 training (``torch.amp.GradScaler``).

    Usage per iteration: ``scaler.scale(loss).backward()``, optionally
    ``scaler.unscale_(opt)`` (e.g. before gradient clipping), ``scaler.step(opt)``, then
    ``scaler.update()``. With ``enabled=False`` every method is a pass-through."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled and _cuda_definitely_unavailable():
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available."
                          "  Disabling.", stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale = None                 # made by the first scale()
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    # ------------------------------------------------------------------ internals
    def _check_scale_growth_tracker(self, funcname):
        fix = ("This may indicate your script did not use scaler.scale(loss or outputs) "
               "earlier in the iteration.")
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + fix)
        if self._growth_tracker is None:
            raise AssertionError(f"Attempted {funcname} but _growth_tracker is None.  " + fix)
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self, dev):
        if self._growth_tracker is not None:
            raise AssertionError("_growth_tracker initialized before _scale")
        self._scale = _creation.full((), self._init_scale, dtype=_dt.float32, device=dev)
        self._growth_tracker = _creation.full((), self._init_growth_tracker,
                                              dtype=_dt.int32, device=dev)

    def _get_scale_async(self):
        return self._scale

    # ------------------------------------------------------------------ scale
    def scale(self, outputs):
        """``outputs`` (a tensor, or nested lists/tuples/iterables of tensors) times the
        scale factor; other iterables come back as a lazy ``map`` as in PyTorch."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):        # the common case: one loss
            if self._scale is None:
                self._lazy_init_scale_growth_tracker(outputs.device)
            s = self._scale
            dev = outputs.device
            return outputs * (s if s.device == dev else s.to(dev))
        stash = []                             # the replicator, made at the first tensor

        def apply_scale(val):
            if isinstance(val, Tensor):
                if not stash:
                    if self._scale is None:
                        self._lazy_init_scale_growth_tracker(val.device)
                    stash.append(_MultiDeviceReplicator(self._scale))
                return val * stash[0].get(val.device)
            if isinstance(val, abc.Iterable):
                it = map(apply_scale, val)
                return type(val)(it) if isinstance(val, (list, tuple)) else it
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply_scale(outputs)

    # ------------------------------------------------------------------ unscale
    def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16):
        """Multiply every gradient of ``optimizer`` by ``inv_scale`` in place and return
        {device: 0-dim float32 tensor}, 1.0 where a gradient held an inf or NaN (checked
        on the values before unscaling, as PyTorch's kernel does)."""
        # collect first so that a refused float16 gradient leaves every gradient untouched
        per_device = defaultdict(list)
        for group in optimizer.param_groups:
            for param in group["params"]:
                if not isinstance(param, Tensor):
                    raise AssertionError(f"expected param to be torch.Tensor, got "
                                         f"{type(param).__name__}")
                g = param._grad
                if g is None:
                    continue
                if not allow_fp16 and g._data.dtype == _F16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                per_device[g.device].append(g)
        out = {}
        start, inv = bool(found_inf.item()), _F32(inv_scale.item())
        for dev, grads in per_device.items():     # raw arrays: nothing for autograd to see
            if dev.type != "cpu":
                out[dev] = _device_check_and_unscale(grads, inv, start)
                continue
            found = start
            for g in grads:
                found = _check_and_unscale(g, inv, found)
            out[dev] = _creation.full((), 1.0 if found else 0.0, dtype=_dt.float32,
                                      device=dev)
        return out

    def unscale_(self, optimizer):
        """Divide ("unscale") ``optimizer``'s gradients by the scale factor in place, once
        per iteration (e.g. before clipping them); records whether any is inf/NaN."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # the reciprocal in float64, rounded to float32, exactly as PyTorch
        inv_scale = _make(np.array(_F32(1.0 / self._scale.item())))
        found_inf = _make(np.zeros((), _F32))
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, found_inf,
                                                             False)
        state["stage"] = OptState.UNSCALED

    def _check_inf_per_device(self, optimizer):
        """Record inf/NaN flags for ``optimizer`` without unscaling (inv_scale 1)."""
        self._check_scale_growth_tracker("_check_inf_per_device")
        one = _make(np.ones((), _F32))
        found_inf = _make(np.zeros((), _F32))
        state = self._per_optimizer_states[id(optimizer)]
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, one, found_inf, True)
        return state["found_inf_per_device"]

    def _found_inf_per_device(self, optimizer):
        return self._per_optimizer_states[id(optimizer)]["found_inf_per_device"]

    # ------------------------------------------------------------------ step
    def _maybe_opt_step(self, optimizer, optimizer_state, *args, **kwargs):
        if not sum(v.item() for v in optimizer_state["found_inf_per_device"].values()):
            return optimizer.step(*args, **kwargs)
        return None

    def step(self, optimizer, *args, **kwargs):
        """Unscale ``optimizer``'s gradients (unless ``unscale_`` already did) and call
        ``optimizer.step(*args, **kwargs)`` unless they hold an inf/NaN; returns its result
        (None when skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._check_scale_growth_tracker("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if getattr(optimizer, "_step_supports_amp_scaling", False):
            return self._step_amp_aware(optimizer, state, args, kwargs)
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(state["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = self._maybe_opt_step(optimizer, state, *args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def _step_amp_aware(self, optimizer, state, args, kwargs):
        # an optimizer that handles scaling itself: either it takes ``grad_scaler=`` (the
        # deprecated contract) or it reads ``grad_scale`` / ``found_inf`` attributes
        has_kwarg = "grad_scaler" in inspect.signature(optimizer.step).parameters
        if has_kwarg:
            warnings.warn(
                "GradScaler is going to stop passing itself as a keyword argument to the "
                "passed optimizer. In the near future GradScaler registers `grad_scale: "
                "Tensor` and `found_inf: Tensor` to the passed optimizer and let the "
                "optimizer use them directly.", FutureWarning, stacklevel=3)
            kwargs.update({"grad_scaler": self})
        else:
            if state["stage"] is OptState.READY:
                self._check_inf_per_device(optimizer)
            scale = self._scale
            found = [t if t.device == scale.device else t.to(scale.device)
                     for t in state["found_inf_per_device"].values()]
            optimizer.grad_scale = (getattr(optimizer, "grad_scale", None)
                                    if state["stage"] is OptState.UNSCALED
                                    else scale * getattr(optimizer, "grad_scale", 1))
            optimizer.found_inf = sum(found)
        retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        if not has_kwarg:
            del optimizer.grad_scale
            del optimizer.found_inf
        return retval

    # ------------------------------------------------------------------ update
    def update(self, new_scale=None):
        """Adapt the scale: times ``backoff_factor`` if any step this iteration saw an
        inf/NaN, times ``growth_factor`` after ``growth_interval`` clean steps in a row; or
        set it to ``new_scale`` (a float or a 1-element tensor, copied)."""
        if not self._enabled:
            return
        scale_t, tracker_t = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                scale_t.fill_(new_scale)
            else:
                reason = ("new_scale should be a float or a 1-element torch.cuda.FloatTensor "
                          "or torch.FloatTensor with requires_grad=False.")
                if new_scale.device.type != self._device:
                    raise AssertionError(reason)
                if new_scale.numel() != 1:
                    raise AssertionError(reason)
                if new_scale.requires_grad is True:
                    raise AssertionError(reason)
                with no_grad():
                    scale_t.copy_(new_scale)
        else:
            found = [f for st in self._per_optimizer_states.values()
                     for f in st["found_inf_per_device"].values()]
            if len(found) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            self._update_scale(scale_t, tracker_t, sum(f.item() for f in found))
        # a fresh iteration: forget what the optimizers recorded
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _update_scale(self, scale_t, tracker_t, found_inf):
        # PyTorch's _amp_update_scale_: float32 scale times a double factor, rounded back
        scale = scale_t.item()
        if found_inf:
            scale_t.fill_(float(_F32(scale * self._backoff_factor)))
            tracker_t.fill_(0)
            return
        successful = tracker_t.item() + 1
        if successful == self._growth_interval:
            grown = _F32(scale * self._growth_factor)
            if math.isfinite(grown):           # never grow past float32's range to inf
                scale_t.fill_(float(grown))
            tracker_t.fill_(0)
        else:
            tracker_t.fill_(successful)

    # ------------------------------------------------------------------ accessors
    def get_scale(self):
        """The current scale as a Python float (1.0 when disabled)."""
        if self._enabled:
            return self._init_scale if self._scale is None else self._scale.item()
        return 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if self._enabled:
            return (self._init_growth_tracker if self._growth_tracker is None
                    else self._growth_tracker.item())
        return 0

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        """{'scale', 'growth_factor', 'backoff_factor', 'growth_interval',
        '_growth_tracker'} as Python numbers; {} when disabled."""
        if self._enabled:
            return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                    "backoff_factor": self._backoff_factor,
                    "growth_interval": self._growth_interval,
                    "_growth_tracker": self._get_growth_tracker()}
        return {}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` returned (a no-op when disabled)."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(state_dict["_growth_tracker"])

    def __getstate__(self):
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise AssertionError("A GradScaler instance may only be pickled at the "
                                     "beginning of an iteration, or at the end after "
                                     "scaler.update().")
            # the tensors are rebuilt lazily from plain numbers on the next scale()
            state["_init_scale"] = self.get_scale()
            state["_init_growth_tracker"] = self._get_growth_tracker()
            state["_scale"] = None
            state["_growth_tracker"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)


def _check_and_unscale(g, inv, found):
    """One gradient: note an inf/NaN in ``found``, then multiply by ``inv`` in place.

    The screen is one read pass without temporaries: the dot product of the gradient
    with itself (BLAS; float16/bfloat16: a float32 sum) is finite only if every element
    is. A non-finite screen may be mere overflow, so then look element by element. The
    product rounds float16/bfloat16 from float32 and keeps float64 in float64, as
    PyTorch's kernel."""
    be, a = g._be, g._data
    if a.size == 0:
        return found
    if not found:
        if a.itemsize == 2:
            s = be.sum(a, None, _F32)
        else:
            flat = be.reshape(a, (-1,))
            s = be.matmul(flat, flat)
        if not math.isfinite(s) and not be.all(be.isfinite(a)):
            found = True
    if inv != 1.0:                              # PyTorch's kernel skips the product too
        be.multiply(a, inv, out=a)
        g._bump_version()
    return found


def _device_check_and_unscale(grads, inv, start):
    """The gradients of one device: the inf/NaN flag stays on the device (a 0-dim
    float32 tensor) as an AND of per-gradient isfinite reductions, so that no gradient
    waits for the host; each gradient is then multiplied by ``inv`` in place."""
    be = grads[0]._be
    fused = getattr(be, "unscale_and_check", None)
    if fused is not None:                       # one launch per dtype (CUDA)
        found = be.full((), 1.0 if start else 0.0, _F32)
        fused([g._data for g in grads], inv, found)
        if inv != 1.0:
            for g in grads:
                g._bump_version()
        return _make(found)
    ok = be.full((), not start, _dt.bool_.np)
    for g in grads:
        a = g._data
        if a.size == 0:
            continue
        be.logical_and(ok, be.all(be.isfinite(a)), out=ok)
        if inv != 1.0:
            be.multiply(a, inv, out=a)
            g._bump_version()
    return _make(be.astype(be.logical_not(ok), _F32))
