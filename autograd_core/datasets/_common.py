"""Helpers shared by the dataset generators: tensor conversion and seeding."""

import numpy as np

from ..ops.creation import from_numpy, randint


def to_tensor(array):
    """A NumPy array as a tensor that owns a contiguous copy of the values."""
    return from_numpy(np.ascontiguousarray(array).copy())


def numpy_rng(seed):
    """A NumPy generator: from `seed` when given, else drawn from autograd_core's global generator.

    Drawing the seed from the library's own generator makes `ag.manual_seed(s)` fix every dataset
    generated afterwards, like every other random op.
    """
    if seed is None:
        seed = int(randint(0, 2**31 - 1, (1,)).item())
    elif not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
    return np.random.default_rng(int(seed))


def check_count(name, n, minimum=1):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < minimum:
        raise ValueError(f"{name}: n_samples must be an int >= {minimum}, got {n!r}")
    return int(n)


def check_nonnegative(name, what, value):
    if not value >= 0:
        raise ValueError(f"{name}: {what} must be >= 0, got {value!r}")
    return float(value)
