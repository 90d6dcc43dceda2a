"""Grad mode: whether ops record the graph. `no_grad` skips graph construction entirely."""
import functools

from .. import _core


# per thread, as in PyTorch: C thread-locals behind properties (see _core.ModeState)
state = _core.ModeState()


def is_grad_enabled():
    """Whether operations are recorded for autograd in this thread (False inside ``no_grad``).

    Example:
        >>> with ag.no_grad():
        ...     ag.is_grad_enabled()
        False
    """
    return state.enabled


class _GradModeContext:
    """Base of no_grad / enable_grad / set_grad_enabled: a context manager and a decorator."""

    _target = True

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self._target

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Run without recording the graph (also usable as a decorator)."""

    _target = False


class enable_grad(_GradModeContext):
    """Record the graph again inside a no_grad block (also usable as a decorator)."""

    _target = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode on or off; takes effect at once, and restores the previous mode when used in a
    `with` block."""

    def __init__(self, mode):
        self._target = bool(mode)
        self._prev = state.enabled
        state.enabled = self._target

    def __enter__(self):
        pass

    def __call__(self, fn):
        state.enabled = self._prev
        mode = self._target

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class inference_mode(no_grad):
    """Alias of no_grad for code written against PyTorch."""
