"""Grad mode: whether ops record the graph. `no_grad` skips graph construction entirely."""
import functools
import inspect
import sys

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
        return _decorate(fn, self.__class__)


def _decorate(fn, make_context):
    """fn run inside make_context(); for a generator function, each step of the generator is (the
    mode holds while it computes a value, not while the caller uses it), as in PyTorch."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def generator(*args, **kwargs):
            gen = fn(*args, **kwargs)
            try:
                with make_context():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with make_context():
                            gen.close()
                        raise
                    except BaseException:  # noqa: BLE001  (thrown in by the caller: passed on)
                        with make_context():
                            response = gen.throw(*sys.exc_info())
                    else:
                        with make_context():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value

        return generator

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with make_context():
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
        return _decorate(fn, lambda: set_grad_enabled(mode))


class inference_mode(no_grad):
    """Alias of no_grad for code written against PyTorch."""
