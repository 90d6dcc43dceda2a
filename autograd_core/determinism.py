"""use_deterministic_algorithms and its queries, as in PyTorch.

Every op in autograd_core is already deterministic: kernels never split a reduction across
threads, so results are bitwise the same at any thread count, load and run (see DESIGN.md). The
switch is therefore recorded (so programs that set and query it run) and changes nothing.
"""

_mode = {"enabled": False, "warn_only": False}


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Record the setting; every op here is deterministic whatever it is."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms: expected a bool, but got {type(mode).__name__}")
    _mode["enabled"] = mode
    _mode["warn_only"] = bool(warn_only)


def are_deterministic_algorithms_enabled():
    """Whether :func:`use_deterministic_algorithms` was last called with ``True``.

    Every op is deterministic whatever the setting; this only reports it.
    """
    return _mode["enabled"]


def is_deterministic_algorithms_warn_only_enabled():
    """Whether :func:`use_deterministic_algorithms` was last called with ``warn_only=True``."""
    return _mode["warn_only"]
