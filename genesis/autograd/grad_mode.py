"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode (thread-local)."""
import functools
import threading


class _State(threading.local):
    grad_enabled = True
    inference = False


state = _State()


def is_grad_enabled():
    return state.grad_enabled


def is_inference_mode_enabled():
    return state.inference


class _Mode:
    """A context manager that is also a decorator (with or without parentheses)."""

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()

    def __enter__(self):
        self._prev = state.grad_enabled
        state.grad_enabled = self._enabled()

    def __exit__(self, *exc):
        state.grad_enabled = self._prev
        return False


class no_grad(_Mode):
    def __new__(cls, fn=None):
        self = super().__new__(cls)
        return self(fn) if callable(fn) else self

    def _enabled(self):
        return False


class enable_grad(no_grad):
    def _enabled(self):
        return True


class set_grad_enabled(_Mode):
    """Sets grad mode at once (as a function call) and restores it on exit when used with
    ``with`` or as a decorator."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = state.grad_enabled
        state.grad_enabled = self.mode

    def clone(self):
        return set_grad_enabled.__new__(set_grad_enabled)._init(self.mode)

    def __call__(self, fn):
        state.grad_enabled = self._prev     # as a decorator it does not change the mode now
        return super().__call__(fn)

    def _enabled(self):
        return self.mode

    def __enter__(self):
        # the mode was set by __init__, which also saved the mode to restore on exit
        state.grad_enabled = self.mode

    def _init(self, mode):
        self.mode = mode
        self._prev = state.grad_enabled
        return self


class inference_mode(_Mode):
    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):
            self.mode = True
            return self(mode)
        return self

    def __init__(self, mode=True):
        if not callable(mode):
            self.mode = bool(mode)

    def clone(self):
        return inference_mode(self.mode)

    def _enabled(self):
        return not self.mode

    def __enter__(self):
        self._prev_inf = state.inference
        state.inference = self.mode
        super().__enter__()

    def __exit__(self, *exc):
        state.inference = self._prev_inf
        return super().__exit__(*exc)
