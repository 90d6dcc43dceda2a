"""Dropout: elementwise, and whole channels (dropout1d, dropout2d)."""
import numbers

from ... import _core
from ...autograd.grad_mode import no_grad
from ...ops.creation import empty
from ._common import _check_float, _maybe_inplace


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p (mask from the seeded generator) and scale the rest by
    1 / (1 - p); the identity when not training."""
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    _check_float(input, "dropout")
    if p == 1.0:
        return _maybe_inplace(input, inplace, lambda x: x * 0.0, "dropout_")
    with no_grad():
        mask = empty(tuple(input.shape), dtype=input.dtype)
        _core.bernoulli_(mask, 1.0 - p)
        mask.mul_(1.0 / (1.0 - p))
    return _maybe_inplace(input, inplace, lambda x: x * mask, "dropout_")


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of a ``(N, C, L)`` or ``(C, L)`` input, each with probability ``p``, and
    scale the kept ones by ``1 / (1 - p)``; the identity when not training. See
    :class:`~autograd_core.nn.Dropout1d`.

    Args:
        input (Tensor): ``(N, C, L)`` or ``(C, L)``.
        p (float): probability of zeroing a channel, in ``[0, 1]``.
        training (bool): apply dropout only when true.
        inplace (bool): write the result into ``input``.
    """
    return _channel_dropout(input, p, training, inplace, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of a ``(N, C, H, W)`` or ``(C, H, W)`` input, each with probability ``p``,
    and scale the kept ones by ``1 / (1 - p)``; the identity when not training. See
    :class:`~autograd_core.nn.Dropout2d`.

    Args:
        input (Tensor): ``(N, C, H, W)`` or ``(C, H, W)``.
        p (float): probability of zeroing a channel, in ``[0, 1]``.
        training (bool): apply dropout only when true.
        inplace (bool): write the result into ``input``.
    """
    return _channel_dropout(input, p, training, inplace, "dropout2d")


def _channel_dropout(input, p, training, inplace, op):
    """Zero whole channels of (N, C, *) input."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _maybe_inplace(input, inplace, lambda x: x * 0.0, op + "_")
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    with no_grad():
        mask = empty(shape, dtype=input.dtype)
        _core.bernoulli_(mask, 1.0 - p)
        mask.mul_(1.0 / (1.0 - p))
    return _maybe_inplace(input, inplace, lambda x: x * mask, op + "_")
