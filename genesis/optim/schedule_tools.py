"""Tools to look at learning-rate schedules: the sequence a scheduler will produce (run on
a throwaway copy), PNG plots of several schedules, and an LR range test."""
import copy
import math
import warnings

from ..tensor import Tensor
from .lr_scheduler import ReduceLROnPlateau

__all__ = ["lr_sequence", "plot_schedules", "lr_range_test"]


def _scalar(v):
    return v.item() if isinstance(v, Tensor) else float(v)


def _is_scheduler(obj):
    return hasattr(obj, "optimizer") and hasattr(obj, "step") and hasattr(obj, "state_dict")


def _copy_sharing_params(obj, optimizer):
    """Deep copy of ``obj`` (an optimizer, or a tuple holding it and its scheduler) that
    shares the parameters and the optimizer state with the original: only hyperparameters
    and scheduler state are duplicated, which is all a schedule touches."""
    memo = {id(optimizer.state): optimizer.state}
    for group in optimizer.param_groups:
        for p in group["params"]:
            memo[id(p)] = p
    return copy.deepcopy(obj, memo)


def lr_sequence(scheduler_or_factory, steps, optimizer=None, *, group=0, metrics=None,
                lr=1.0):
    """The learning rates a scheduler gives over its next ``steps`` steps.

    ``scheduler_or_factory`` is a scheduler (it and its optimizer are deep-copied, so the
    real ones are left untouched) or a callable ``factory(optimizer) -> scheduler``,
    called on a copy of ``optimizer`` or, if none is given, on a one-parameter SGD with
    ``lr`` (and momentum 0.9, so momentum-cycling schedulers work).

    Returns ``steps`` floats: entry ``k`` is the lr in force for step ``k`` (the first is
    the scheduler's current lr), for param group ``group``; ``group=None`` returns one
    such list per param group. ``metrics`` (a sequence, or a callable of the step index)
    feeds ``ReduceLROnPlateau.step``.
    """
    if _is_scheduler(scheduler_or_factory):
        opt, sched = _copy_sharing_params(
            (scheduler_or_factory.optimizer, scheduler_or_factory),
            scheduler_or_factory.optimizer)
    elif callable(scheduler_or_factory):
        if optimizer is None:
            from .sgd import SGD
            from ..nn.parameter import Parameter
            from .. import zeros
            opt = SGD([Parameter(zeros(1))], lr=lr, momentum=0.9)
        else:
            opt = _copy_sharing_params(optimizer, optimizer)
        sched = scheduler_or_factory(opt)
    else:
        raise TypeError("lr_sequence expects a scheduler or a callable(optimizer) -> "
                        f"scheduler, got {type(scheduler_or_factory).__name__}")
    needs_metric = isinstance(sched, ReduceLROnPlateau)
    if needs_metric and metrics is None:
        raise ValueError(f"{type(sched).__name__}.step needs a metric: pass `metrics`")
    out = []
    with warnings.catch_warnings():
        # no optimizer.step() on the copy: the ordering warning would be noise here
        warnings.simplefilter("ignore")
        for k in range(steps):
            out.append([_scalar(g["lr"]) for g in opt.param_groups])
            if k == steps - 1:
                break
            if needs_metric:
                sched.step(metrics(k) if callable(metrics) else metrics[k])
            else:
                sched.step()
    if group is None:
        return [list(col) for col in zip(*out)]
    return [row[group] for row in out]


def _new_figure(n_axes=1, figsize=None):
    """A matplotlib Figure drawn by the Agg canvas (no pyplot, no global backend state)."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError as e:
        raise ImportError("plotting needs matplotlib (pip install matplotlib)") from e
    cols = min(n_axes, 3)
    rows = -(-n_axes // cols)
    fig = Figure(figsize=figsize or (4.5 * cols, 3.2 * rows))
    FigureCanvasAgg(fig)
    # fixed margins: tight_layout would cost more than drawing the plot
    fig.subplots_adjust(left=0.6 / (4.5 * cols), right=1 - 0.15 / (4.5 * cols),
                        bottom=0.5 / (3.2 * rows), top=1 - 0.45 / (3.2 * rows),
                        wspace=0.3, hspace=0.45)
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(n_axes)]
    return fig, axes


def plot_schedules(schedules, path, steps=100, *, title=None, separate=False, log=False,
                   group=None):
    """Plot ``{name: scheduler, factory or sequence of lrs}`` to the PNG file ``path``.

    Schedulers and factories are run with :func:`lr_sequence` for ``steps`` steps (the
    real ones untouched). All curves share one axes unless ``separate`` (one axes each);
    ``log`` uses a log-scale lr axis; ``group=None`` draws every param group. Returns
    ``path``.
    """
    curves = {}
    for name, value in schedules.items():
        if _is_scheduler(value) or callable(value):
            seqs = lr_sequence(value, steps, group=group)
            seqs = seqs if group is None else [seqs]
        else:
            value = list(value)
            seqs = value if value and isinstance(value[0], (list, tuple)) else [value]
        curves[name] = seqs
    fig, axes = _new_figure(len(curves) if separate else 1)
    for i, (name, seqs) in enumerate(curves.items()):
        ax = axes[i] if separate else axes[0]
        for g, seq in enumerate(seqs):
            label = name if len(seqs) == 1 else f"{name} [group {g}]"
            ax.plot(range(len(seq)), [_scalar(v) for v in seq], label=label)
        if separate:
            ax.set_title(name, fontsize=9)
    for ax in axes:
        ax.set_xlabel("step")
        ax.set_ylabel("lr")
        if log:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        if len(ax.get_lines()) > 1:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=90)
    return path


def _clone_tree(obj):
    """Copy of a (nested) state dict with every tensor cloned."""
    if isinstance(obj, Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return type(obj)((k, _clone_tree(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_clone_tree(v) for v in obj)
    return copy.deepcopy(obj)


def _batches(data):
    """Endless batches from an iterable (restarted when exhausted); a bare iterator ends."""
    it = iter(data)
    while True:
        try:
            yield next(it)
        except StopIteration:
            it = iter(data)
            if it is data:
                return
            try:
                yield next(it)
            except StopIteration:
                return


def lr_range_test(model, optimizer, loss_fn, data_iter, start_lr=1e-7, end_lr=10,
                  num_steps=100, smooth=0.05, diverge_threshold=4.0, plot=None,
                  suggest=False):
    """The LR range test (Smith 2017): train with an lr growing exponentially from
    ``start_lr`` to ``end_lr`` over ``num_steps`` steps and record the loss.

    Each batch from ``data_iter`` is ``(inputs, targets)``, the loss being
    ``loss_fn(model(inputs), targets)`` (a bare batch gives ``loss_fn(model(batch))``).
    Losses are smoothed by an exponential moving average (weight ``smooth`` on the new
    loss, bias-corrected); the test stops once the smoothed loss exceeds
    ``diverge_threshold`` times the best one (or is not finite). The model's and the
    optimizer's states are restored afterwards.

    Returns ``(lrs, losses)`` (smoothed losses), or ``(lrs, losses, suggested_lr)`` with
    ``suggest=True``: the lr of the steepest descent of the loss against log(lr). With
    ``plot`` a path, the curve is also written there as a PNG.
    """
    if start_lr <= 0 or end_lr <= start_lr:
        raise ValueError(f"expected 0 < start_lr < end_lr, got start_lr={start_lr}, "
                         f"end_lr={end_lr}")
    if num_steps < 2:
        raise ValueError(f"num_steps must be at least 2, got {num_steps}")
    model_state = _clone_tree(model.state_dict())
    opt_state = _clone_tree(optimizer.state_dict())
    ratio = end_lr / start_lr
    lrs, losses = [], []
    avg, best = 0.0, math.inf
    try:
        for k, batch in enumerate(_batches(data_iter)):
            if k == num_steps:
                break
            lr = start_lr * ratio ** (k / (num_steps - 1))
            for g in optimizer.param_groups:
                g["lr"] = lr
            if isinstance(batch, (tuple, list)) and len(batch) == 2:
                loss = loss_fn(model(batch[0]), batch[1])
            else:
                loss = loss_fn(model(batch))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            value = _scalar(loss)
            avg = (1 - smooth) * avg + smooth * value
            smoothed = avg / (1 - (1 - smooth) ** (k + 1))
            lrs.append(lr)
            losses.append(smoothed)
            if not math.isfinite(smoothed) or smoothed > diverge_threshold * best:
                break
            best = min(best, smoothed)
    finally:
        model.load_state_dict(model_state)
        optimizer.load_state_dict(opt_state)
    suggested = _steepest(lrs, losses)
    if plot is not None:
        fig, (ax,) = _new_figure(1, figsize=(5.5, 3.8))
        ax.plot(lrs, losses)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss (smoothed)")
        if suggested is not None:
            ax.axvline(suggested, color="r", ls="--", label=f"steepest: {suggested:.2e}")
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.savefig(plot, dpi=90)
    return (lrs, losses, suggested) if suggest else (lrs, losses)


def _steepest(lrs, losses):
    """The lr where the loss falls fastest against log(lr) (central differences)."""
    pts = [(math.log(a), b) for a, b in zip(lrs, losses) if math.isfinite(b)]
    if len(pts) < 3:
        return None
    best_i, best_slope = None, math.inf
    for i in range(1, len(pts) - 1):
        slope = (pts[i + 1][1] - pts[i - 1][1]) / (pts[i + 1][0] - pts[i - 1][0])
        if slope < best_slope:
            best_i, best_slope = i, slope
    return lrs[best_i]
