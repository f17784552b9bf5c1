"""The Hugging Face ``transformers`` learning-rate schedules (``transformers.optimization``):
functions returning a ``LambdaLR`` with the same names, arguments, defaults and values.

Each multiplier is a module-level function bound with ``functools.partial`` (as
transformers does), so the schedulers pickle and their ``state_dict`` holds the same
``lr_lambdas`` entries (the partial's empty ``__dict__``).
"""
import math
import warnings
from enum import Enum
from functools import partial

from .lr_scheduler import LambdaLR, ReduceLROnPlateau

__all__ = [
    "SchedulerType", "get_constant_schedule", "get_constant_schedule_with_warmup",
    "get_linear_schedule_with_warmup", "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup", "get_inverse_sqrt_schedule",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate", "get_wsd_schedule",
    "get_reduce_on_plateau_schedule", "get_scheduler",
]


def _warmup(step, num_warmup_steps):
    """Linear warmup multiplier step / num_warmup_steps (at least 1 in the denominator)."""
    return float(step) / float(max(1, num_warmup_steps))


def _constant_lambda(_=None):
    return 1


def get_constant_schedule(optimizer, last_epoch=-1):
    """A constant learning rate: the one set in the optimizer."""
    return LambdaLR(optimizer, _constant_lambda, last_epoch=last_epoch)


def get_reduce_on_plateau_schedule(optimizer, **kwargs):
    """``ReduceLROnPlateau(optimizer, **kwargs)``."""
    return ReduceLROnPlateau(optimizer, **kwargs)


def _constant_with_warmup_lambda(current_step, *, num_warmup_steps):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1.0, num_warmup_steps))
    return 1.0


def get_constant_schedule_with_warmup(optimizer, num_warmup_steps, last_epoch=-1):
    """Linear warmup from 0 over ``num_warmup_steps``, then constant."""
    fn = partial(_constant_with_warmup_lambda, num_warmup_steps=num_warmup_steps)
    return LambdaLR(optimizer, fn, last_epoch=last_epoch)


def _linear_with_warmup_lambda(current_step, *, num_warmup_steps, num_training_steps):
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    return max(0.0, float(num_training_steps - current_step)
               / float(max(1, num_training_steps - num_warmup_steps)))


def get_linear_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps,
                                    last_epoch=-1):
    """Linear warmup from 0, then linear decay to 0 at ``num_training_steps``."""
    fn = partial(_linear_with_warmup_lambda, num_warmup_steps=num_warmup_steps,
                 num_training_steps=num_training_steps)
    return LambdaLR(optimizer, fn, last_epoch)


def _cosine_with_warmup_lambda(current_step, *, num_warmup_steps, num_training_steps,
                               num_cycles, min_lr_rate=0.0):
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    progress = float(current_step - num_warmup_steps) / float(
        max(1, num_training_steps - num_warmup_steps))
    factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))
    # the cosine runs between 1 and min_lr_rate (0: the plain cosine schedule)
    factor = factor * (1 - min_lr_rate) + min_lr_rate
    return max(0, factor)


def get_cosine_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps,
                                    num_cycles=0.5, last_epoch=-1):
    """Linear warmup from 0, then a cosine over ``num_cycles`` waves (0.5: a half
    cosine down to 0 at ``num_training_steps``)."""
    fn = partial(_cosine_with_warmup_lambda, num_warmup_steps=num_warmup_steps,
                 num_training_steps=num_training_steps, num_cycles=num_cycles)
    return LambdaLR(optimizer, fn, last_epoch)


def _cosine_hard_restarts_lambda(current_step, *, num_warmup_steps, num_training_steps,
                                 num_cycles):
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    progress = float(current_step - num_warmup_steps) / float(
        max(1, num_training_steps - num_warmup_steps))
    if progress >= 1.0:
        return 0.0
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((float(num_cycles) * progress) % 1.0))))


def get_cosine_with_hard_restarts_schedule_with_warmup(optimizer, num_warmup_steps,
                                                       num_training_steps, num_cycles=1,
                                                       last_epoch=-1):
    """Linear warmup from 0, then ``num_cycles`` half cosines from 1 to 0, each
    restarting at 1."""
    fn = partial(_cosine_hard_restarts_lambda, num_warmup_steps=num_warmup_steps,
                 num_training_steps=num_training_steps, num_cycles=num_cycles)
    return LambdaLR(optimizer, fn, last_epoch)


def _polynomial_decay_lambda(current_step, *, num_warmup_steps, num_training_steps, lr_end,
                             power, lr_init):
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    if current_step > num_training_steps:
        return lr_end / lr_init          # LambdaLR multiplies by lr_init
    lr_range = lr_init - lr_end
    decay_steps = num_training_steps - num_warmup_steps
    pct_remaining = 1 - (current_step - num_warmup_steps) / decay_steps
    decay = lr_range * pct_remaining ** power + lr_end
    return decay / lr_init


def get_polynomial_decay_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps,
                                              lr_end=1e-7, power=1.0, last_epoch=-1):
    """Linear warmup from 0, then polynomial decay from the optimizer's default lr to
    ``lr_end`` (the multiplier is relative to ``optimizer.defaults["lr"]``)."""
    lr_init = optimizer.defaults["lr"]
    if not lr_init > lr_end:
        raise ValueError(f"lr_end ({lr_end}) must be smaller than initial lr ({lr_init})")
    fn = partial(_polynomial_decay_lambda, num_warmup_steps=num_warmup_steps,
                 num_training_steps=num_training_steps, lr_end=lr_end, power=power,
                 lr_init=lr_init)
    return LambdaLR(optimizer, fn, last_epoch)


def _inverse_sqrt_lambda(current_step, *, num_warmup_steps, timescale=None):
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    shift = timescale - num_warmup_steps
    return 1.0 / math.sqrt((current_step + shift) / timescale)


def get_inverse_sqrt_schedule(optimizer, num_warmup_steps, timescale=None, last_epoch=-1):
    """Linear warmup from 0, then 1 / sqrt((step + timescale - warmup) / timescale);
    ``timescale`` defaults to ``num_warmup_steps`` (or 10000 when that is 0)."""
    if timescale is None:
        timescale = num_warmup_steps or 10_000
    fn = partial(_inverse_sqrt_lambda, num_warmup_steps=num_warmup_steps, timescale=timescale)
    return LambdaLR(optimizer, fn, last_epoch=last_epoch)


def _min_lr_rate(optimizer, min_lr, min_lr_rate):
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError("Only one of min_lr or min_lr_rate should be set")
    if min_lr is not None:
        return min_lr / optimizer.defaults["lr"]
    if min_lr_rate is None:
        raise ValueError("One of min_lr or min_lr_rate should be set through the "
                         "`lr_scheduler_kwargs`")
    return min_lr_rate


def get_cosine_with_min_lr_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps,
                                                num_cycles=0.5, last_epoch=-1, min_lr=None,
                                                min_lr_rate=None):
    """The cosine schedule decaying to ``min_lr`` (absolute, relative to the optimizer's
    default lr) or to ``min_lr_rate`` times the initial lr, instead of to 0."""
    rate = _min_lr_rate(optimizer, min_lr, min_lr_rate)
    fn = partial(_cosine_with_warmup_lambda, num_warmup_steps=num_warmup_steps,
                 num_training_steps=num_training_steps, num_cycles=num_cycles,
                 min_lr_rate=rate)
    return LambdaLR(optimizer, fn, last_epoch)


def _cosine_min_lr_warmup_rate_lambda(current_step, *, num_warmup_steps, num_training_steps,
                                      num_cycles, min_lr_rate=0.0, warmup_lr_rate=None):
    current_step = float(current_step)
    num_warmup_steps = float(num_warmup_steps)
    num_training_steps = float(num_training_steps)
    if current_step < num_warmup_steps:
        if warmup_lr_rate is None:
            # the warmup reaches 1 at its last step rather than one step after it
            return (current_step + 1.0) / max(1.0, num_warmup_steps)
        warmup_lr_rate = float(warmup_lr_rate)
        return warmup_lr_rate + (1.0 - warmup_lr_rate) * current_step / max(
            1, num_warmup_steps - 1)
    progress = (current_step - num_warmup_steps + 1.0) / max(
        1.0, num_training_steps - num_warmup_steps)
    factor = 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * progress))
    factor = factor * (1 - min_lr_rate) + min_lr_rate
    return max(0, factor)


def get_cosine_with_min_lr_schedule_with_warmup_lr_rate(optimizer, num_warmup_steps,
                                                        num_training_steps, num_cycles=0.5,
                                                        last_epoch=-1, min_lr=None,
                                                        min_lr_rate=None, warmup_lr_rate=None):
    """``get_cosine_with_min_lr_schedule_with_warmup`` whose warmup starts at
    ``warmup_lr_rate`` (default 1 / num_warmup_steps) and whose steps are shifted by one."""
    rate = _min_lr_rate(optimizer, min_lr, min_lr_rate)
    fn = partial(_cosine_min_lr_warmup_rate_lambda, num_warmup_steps=num_warmup_steps,
                 num_training_steps=num_training_steps, num_cycles=num_cycles,
                 min_lr_rate=rate, warmup_lr_rate=warmup_lr_rate)
    return LambdaLR(optimizer, fn, last_epoch)


_SHAPES = ("linear", "cosine", "1-sqrt")


def _wsd_lambda(current_step, *, num_warmup_steps, num_stable_steps, num_decay_steps,
                warmup_type, decay_type, min_lr_ratio, num_cycles):
    if current_step < num_warmup_steps:
        progress = float(current_step) / float(max(1, num_warmup_steps))
        if warmup_type == "linear":
            factor = progress
        elif warmup_type == "cosine":
            factor = 0.5 * (1.0 - math.cos(math.pi * progress))
        else:  # "1-sqrt"
            factor = 1.0 - math.sqrt(1.0 - progress)
        return max(0.0, factor * (1.0 - min_lr_ratio) + min_lr_ratio)
    if current_step < num_warmup_steps + num_stable_steps:
        return 1.0
    if current_step < num_warmup_steps + num_stable_steps + num_decay_steps:
        progress = float(current_step - num_warmup_steps - num_stable_steps) / float(
            max(1, num_decay_steps))
        if decay_type == "linear":
            factor = 1.0 - progress
        elif decay_type == "cosine":
            factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))
        else:  # "1-sqrt"
            factor = 1.0 - math.sqrt(progress)
        return max(0.0, factor * (1.0 - min_lr_ratio) + min_lr_ratio)
    return min_lr_ratio


def get_wsd_schedule(optimizer, num_warmup_steps, num_decay_steps, num_training_steps=None,
                     num_stable_steps=None, warmup_type="linear", decay_type="cosine",
                     min_lr_ratio=0, num_cycles=0.5, last_epoch=-1):
    """Warmup-stable-decay: warm up from ``min_lr_ratio`` to 1 (``warmup_type``), hold at
    1 for ``num_stable_steps`` (default: what ``num_training_steps`` leaves), decay to
    ``min_lr_ratio`` over ``num_decay_steps`` (``decay_type``), then stay there."""
    if num_training_steps is None and num_stable_steps is None:
        raise ValueError("Either num_training_steps or num_stable_steps must be specified.")
    if num_training_steps is not None and num_stable_steps is not None:
        warnings.warn("Both num_training_steps and num_stable_steps are specified. "
                      "num_stable_steps will be used.")
    if warmup_type not in _SHAPES:
        raise ValueError(f"Unknown warmup type: {warmup_type}, expected 'linear', 'cosine' "
                         "or '1-sqrt'")
    if decay_type not in _SHAPES:
        raise ValueError(f"Unknown decay type: {decay_type}, expected 'linear', 'cosine' "
                         "or '1-sqrt'")
    if num_stable_steps is None:
        num_stable_steps = num_training_steps - num_warmup_steps - num_decay_steps
    fn = partial(_wsd_lambda, num_warmup_steps=num_warmup_steps,
                 num_stable_steps=num_stable_steps, num_decay_steps=num_decay_steps,
                 warmup_type=warmup_type, decay_type=decay_type, min_lr_ratio=min_lr_ratio,
                 num_cycles=num_cycles)
    return LambdaLR(optimizer, fn, last_epoch)


class SchedulerType(str, Enum):
    """The schedule names ``get_scheduler`` accepts (``transformers.SchedulerType``)."""
    LINEAR = "linear"
    COSINE = "cosine"
    COSINE_WITH_RESTARTS = "cosine_with_restarts"
    POLYNOMIAL = "polynomial"
    CONSTANT = "constant"
    CONSTANT_WITH_WARMUP = "constant_with_warmup"
    INVERSE_SQRT = "inverse_sqrt"
    REDUCE_ON_PLATEAU = "reduce_lr_on_plateau"
    COSINE_WITH_MIN_LR = "cosine_with_min_lr"
    COSINE_WARMUP_WITH_MIN_LR = "cosine_warmup_with_min_lr"
    WARMUP_STABLE_DECAY = "warmup_stable_decay"

    @classmethod
    def _missing_(cls, value):
        raise ValueError(f"{value} is not a valid {cls.__name__}, please select one of "
                         f"{list(cls._value2member_map_.keys())}")

    def __str__(self):
        return self.value


TYPE_TO_SCHEDULER_FUNCTION = {
    SchedulerType.LINEAR: get_linear_schedule_with_warmup,
    SchedulerType.COSINE: get_cosine_schedule_with_warmup,
    SchedulerType.COSINE_WITH_RESTARTS: get_cosine_with_hard_restarts_schedule_with_warmup,
    SchedulerType.POLYNOMIAL: get_polynomial_decay_schedule_with_warmup,
    SchedulerType.CONSTANT: get_constant_schedule,
    SchedulerType.CONSTANT_WITH_WARMUP: get_constant_schedule_with_warmup,
    SchedulerType.INVERSE_SQRT: get_inverse_sqrt_schedule,
    SchedulerType.REDUCE_ON_PLATEAU: get_reduce_on_plateau_schedule,
    SchedulerType.COSINE_WITH_MIN_LR: get_cosine_with_min_lr_schedule_with_warmup,
    SchedulerType.COSINE_WARMUP_WITH_MIN_LR: get_cosine_with_min_lr_schedule_with_warmup_lr_rate,
    SchedulerType.WARMUP_STABLE_DECAY: get_wsd_schedule,
}


def get_scheduler(name, optimizer, num_warmup_steps=None, num_training_steps=None,
                  scheduler_specific_kwargs=None):
    """Any of the schedules above by its name (a ``SchedulerType`` value such as
    ``"linear"`` or ``"cosine"``); ``scheduler_specific_kwargs`` go to the schedule
    function. Raises ValueError for an unknown name or a missing step count."""
    name = SchedulerType(name)
    fn = TYPE_TO_SCHEDULER_FUNCTION[name]
    if name == SchedulerType.CONSTANT:
        return fn(optimizer)
    kwargs = scheduler_specific_kwargs or {}
    if name == SchedulerType.REDUCE_ON_PLATEAU:
        return fn(optimizer, **kwargs)
    if num_warmup_steps is None:
        raise ValueError(f"{name} requires `num_warmup_steps`, please provide that argument.")
    if name in (SchedulerType.CONSTANT_WITH_WARMUP, SchedulerType.INVERSE_SQRT):
        return fn(optimizer, num_warmup_steps=num_warmup_steps)
    if name == SchedulerType.WARMUP_STABLE_DECAY:
        # either num_training_steps or num_stable_steps (in the kwargs) sets the length
        return fn(optimizer, num_warmup_steps=num_warmup_steps,
                  num_training_steps=num_training_steps, **kwargs)
    if num_training_steps is None:
        raise ValueError(f"{name} requires `num_training_steps`, please provide that argument.")
    return fn(optimizer, num_warmup_steps=num_warmup_steps,
              num_training_steps=num_training_steps, **kwargs)
