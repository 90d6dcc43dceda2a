"""Generators for classic teaching problems.

Every generator takes `seed=None`: an int gives the same data every time; None draws the seed from
autograd_core's global generator, so `ag.manual_seed(s)` makes the data reproducible too.
Classification sets return (X float32 (n, 2), y int64 (n,)); regression sets return
(X float32 (n, d), y float32 (n, 1)), ready for `nn.MSELoss`.
"""

import numpy as np

from ._common import check_count, check_nonnegative, numpy_rng, to_tensor


def _shuffled(rng, x, y):
    order = rng.permutation(len(x))
    return x[order], y[order]


def _classification(x, y):
    return to_tensor(x.astype(np.float32)), to_tensor(y.astype(np.int64))


def make_moons(n_samples=200, noise=0.1, seed=None):
    """Two interleaving half circles (classes 0 and 1), with Gaussian noise of std `noise`."""
    n = check_count("make_moons", n_samples, 2)
    noise = check_nonnegative("make_moons", "noise", noise)
    rng = numpy_rng(seed)
    n_upper = n // 2
    angle = rng.uniform(0.0, np.pi, size=n)
    upper = np.stack([np.cos(angle[:n_upper]), np.sin(angle[:n_upper])], axis=1)
    lower = np.stack([1.0 - np.cos(angle[n_upper:]), 0.5 - np.sin(angle[n_upper:])], axis=1)
    x = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n_upper), np.ones(n - n_upper)])
    return _classification(*_shuffled(rng, x, y))


def make_circles(n_samples=200, noise=0.05, factor=0.5, seed=None):
    """Two concentric circles: class 0 on radius 1, class 1 on radius `factor` (0 < factor < 1)."""
    n = check_count("make_circles", n_samples, 2)
    noise = check_nonnegative("make_circles", "noise", noise)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor!r}")
    rng = numpy_rng(seed)
    n_outer = n // 2
    angle = rng.uniform(0.0, 2.0 * np.pi, size=n)
    radius = np.where(np.arange(n) < n_outer, 1.0, factor)
    x = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x = x + noise * rng.standard_normal((n, 2))
    y = (np.arange(n) >= n_outer).astype(np.int64)
    return _classification(*_shuffled(rng, x, y))


def make_spirals(n_samples=300, n_classes=2, noise=0.1, turns=1.5, seed=None):
    """`n_classes` interleaved spiral arms growing from the origin to radius 1, `turns` turns each."""
    n = check_count("make_spirals", n_samples, 1)
    noise = check_nonnegative("make_spirals", "noise", noise)
    if not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ValueError(f"make_spirals: n_classes must be an int >= 2, got {n_classes!r}")
    rng = numpy_rng(seed)
    y = np.arange(n) % n_classes
    t = rng.uniform(0.05, 1.0, size=n)
    angle = 2.0 * np.pi * (turns * t + y / n_classes)
    x = t[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x = x + noise * rng.standard_normal((n, 2))
    return _classification(*_shuffled(rng, x, y))


def make_xor(n_samples=200, noise=0.25, seed=None):
    """Four Gaussian blobs at (+-1, +-1) with std `noise`: class 1 where the two signs differ (XOR)."""
    n = check_count("make_xor", n_samples, 1)
    noise = check_nonnegative("make_xor", "noise", noise)
    rng = numpy_rng(seed)
    corner = np.arange(n) % 4
    signs = np.stack([np.where(corner & 1, 1.0, -1.0), np.where(corner & 2, 1.0, -1.0)], axis=1)
    x = signs + noise * rng.standard_normal((n, 2))
    y = (signs[:, 0] != signs[:, 1]).astype(np.int64)
    return _classification(*_shuffled(rng, x, y))


def make_regression(n_samples=100, n_features=1, noise=0.1, weights=None, bias=0.0, seed=None,
                    return_coef=False):
    """A noisy linear relation y = X @ weights + bias + noise * N(0, 1), with X ~ N(0, 1).

    weights: a sequence of n_features numbers, or None to draw each from U(-2, 2).
    return_coef: also return (weights float32 (n_features, 1), bias) as the truth to recover.
    """
    n = check_count("make_regression", n_samples, 1)
    noise = check_nonnegative("make_regression", "noise", noise)
    if not isinstance(n_features, (int, np.integer)) or n_features < 1:
        raise ValueError(f"make_regression: n_features must be an int >= 1, got {n_features!r}")
    rng = numpy_rng(seed)
    if weights is None:
        w = rng.uniform(-2.0, 2.0, size=(n_features, 1))
    else:
        w = np.asarray(weights, dtype=np.float64).reshape(-1, 1)
        if w.shape[0] != n_features:
            raise ValueError(f"make_regression: weights has {w.shape[0]} values, expected n_features={n_features}")
    x = rng.standard_normal((n, n_features))
    y = x @ w + float(bias) + noise * rng.standard_normal((n, 1))
    out = (to_tensor(x.astype(np.float32)), to_tensor(y.astype(np.float32)))
    if return_coef:
        return out + (to_tensor(w.astype(np.float32)), float(bias))
    return out


def make_polynomial(n_samples=100, degree=3, noise=0.1, coef=None, x_range=(-1.0, 1.0), seed=None,
                    return_coef=False):
    """y = sum_k coef[k] * x**k + noise * N(0, 1) with x ~ U(x_range): for under/overfitting demos.

    coef: degree + 1 numbers, lowest power first, or None to draw each from N(0, 1).
    Returns x float32 (n, 1) and y float32 (n, 1) (and the coefficients if return_coef).
    """
    n = check_count("make_polynomial", n_samples, 1)
    noise = check_nonnegative("make_polynomial", "noise", noise)
    if not isinstance(degree, (int, np.integer)) or degree < 0:
        raise ValueError(f"make_polynomial: degree must be an int >= 0, got {degree!r}")
    low, high = x_range
    if not low < high:
        raise ValueError(f"make_polynomial: x_range must be (low, high) with low < high, got {x_range!r}")
    rng = numpy_rng(seed)
    c = rng.standard_normal(degree + 1) if coef is None else np.asarray(coef, dtype=np.float64).ravel()
    if c.shape[0] != degree + 1:
        raise ValueError(f"make_polynomial: coef has {c.shape[0]} values, expected degree + 1 = {degree + 1}")
    x = rng.uniform(low, high, size=(n, 1))
    y = np.polynomial.polynomial.polyval(x, c) + noise * rng.standard_normal((n, 1))
    out = (to_tensor(x.astype(np.float32)), to_tensor(y.astype(np.float32)))
    if return_coef:
        return out + (to_tensor(c.astype(np.float32)),)
    return out


def make_gaussian_mixture(n_samples=1000, n_components=8, radius=2.0, std=0.05, centers=None, seed=None):
    """Samples from equally weighted Gaussians: the usual toy target for GANs (mode collapse shows).

    By default the centres sit on a circle of `radius`; `centers` (k, d) places them anywhere.
    Returns X float32 (n, d) and the component of each sample, int64 (n,).
    """
    n = check_count("make_gaussian_mixture", n_samples, 1)
    std = check_nonnegative("make_gaussian_mixture", "std", std)
    rng = numpy_rng(seed)
    if centers is None:
        if not isinstance(n_components, (int, np.integer)) or n_components < 1:
            raise ValueError(f"make_gaussian_mixture: n_components must be an int >= 1, got {n_components!r}")
        angle = 2.0 * np.pi * np.arange(n_components) / n_components
        mu = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    else:
        mu = np.asarray(centers, dtype=np.float64)
        if mu.ndim != 2 or len(mu) == 0:
            raise ValueError(f"make_gaussian_mixture: centers must have shape (k, d), got {mu.shape}")
    component = rng.integers(0, len(mu), size=n)
    x = mu[component] + std * rng.standard_normal((n, mu.shape[1]))
    return _classification(x, component)


def _check_sequence_args(name, n, seq_len, vocab_size):
    n = check_count(name, n, 1)
    if not isinstance(seq_len, (int, np.integer)) or seq_len < 1:
        raise ValueError(f"{name}: seq_len must be an int >= 1, got {seq_len!r}")
    if not isinstance(vocab_size, (int, np.integer)) or vocab_size < 2:
        raise ValueError(f"{name}: vocab_size must be an int >= 2 (token 0 is the blank), got {vocab_size!r}")
    return n


def make_copy_task(n_samples=1000, seq_len=10, vocab_size=8, delay=0, seed=None):
    """Copy a token sequence: tokens are 1..vocab_size-1, 0 is the blank.

    Inputs are the sequence followed by `delay` blanks; targets are `delay` blanks followed by the
    sequence, so with delay > 0 the model must remember what it saw. Both int64 (n, seq_len + delay).
    """
    n = _check_sequence_args("make_copy_task", n_samples, seq_len, vocab_size)
    if not isinstance(delay, (int, np.integer)) or delay < 0:
        raise ValueError(f"make_copy_task: delay must be an int >= 0, got {delay!r}")
    rng = numpy_rng(seed)
    tokens = rng.integers(1, vocab_size, size=(n, seq_len))
    blanks = np.zeros((n, delay), dtype=np.int64)
    x = np.concatenate([tokens, blanks], axis=1)
    y = np.concatenate([blanks, tokens], axis=1)
    return to_tensor(x.astype(np.int64)), to_tensor(y.astype(np.int64))


def make_reverse_task(n_samples=1000, seq_len=10, vocab_size=8, seed=None):
    """Reverse a token sequence: inputs and targets int64 (n, seq_len), tokens 1..vocab_size-1."""
    n = _check_sequence_args("make_reverse_task", n_samples, seq_len, vocab_size)
    rng = numpy_rng(seed)
    tokens = rng.integers(1, vocab_size, size=(n, seq_len))
    return to_tensor(tokens.astype(np.int64)), to_tensor(tokens[:, ::-1].astype(np.int64))


def make_sum_task(n_samples=1000, seq_len=10, low=0.0, high=1.0, seed=None):
    """Sum a sequence of numbers: inputs float32 (n, seq_len, 1) from U(low, high), targets (n, 1)."""
    n = check_count("make_sum_task", n_samples, 1)
    if not isinstance(seq_len, (int, np.integer)) or seq_len < 1:
        raise ValueError(f"make_sum_task: seq_len must be an int >= 1, got {seq_len!r}")
    rng = numpy_rng(seed)
    x = rng.uniform(low, high, size=(n, seq_len, 1))
    y = x.sum(axis=1)
    return to_tensor(x.astype(np.float32)), to_tensor(y.astype(np.float32))
