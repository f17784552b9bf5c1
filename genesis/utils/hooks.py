"""RemovableHandle: what the register_*_hook methods of modules and optimizers return."""
import itertools

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """``remove()`` takes the hook out of the dict it was registered in (also on leaving a
    ``with`` block)."""
    _next_id = itertools.count()

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict, self.id = hooks_dict, next(RemovableHandle._next_id)
        # dicts of per-hook flags (with_kwargs, always_call) cleared along with the hook
        self.extra_dicts = [] if extra_dict is None else \
            list(extra_dict) if isinstance(extra_dict, list) else [extra_dict]

    def remove(self):
        self.hooks_dict.pop(self.id, None)
        for d in self.extra_dicts:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
