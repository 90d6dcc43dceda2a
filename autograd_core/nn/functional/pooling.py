"""Pooling: the max, average and adaptive pools (their ops live in ops/conv.py) and max_unpool,
the partial inverse of max pooling: each value goes back to the position its max-pool index names
(flat within each plane, as max_pool2d(..., return_indices=True) gives them); everything else is
zero. Differentiable in the values (scatter_add into zeros)."""
from ...ops.conv import (  # noqa: F401  (the pools' ops, re-exported here by family)
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from ...ops.creation import zeros
from ...tensor import Tensor


def _tuple(value, n, name, op):
    out = (value,) * n if isinstance(value, int) else tuple(value)
    if len(out) != n:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return out


def _unpool(input, indices, kernel_size, stride, padding, output_size, n, op):
    if not isinstance(input, Tensor) or not isinstance(indices, Tensor):
        raise TypeError(f"{op}: expected input and indices tensors")
    if input.ndim not in (n + 1, n + 2):
        raise ValueError(f"{op}: expected a {n + 1}-D or {n + 2}-D input, got shape {tuple(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise ValueError(f"{op}: indices of shape {tuple(indices.shape)} must have the input's shape "
                         f"{tuple(input.shape)}")
    k = _tuple(kernel_size, n, "kernel_size", op)
    s = _tuple(stride if stride is not None else kernel_size, n, "stride", op)
    p = _tuple(padding, n, "padding", op)
    spatial_in = tuple(input.shape[-n:])
    default = tuple((i - 1) * st - 2 * pd + kk for i, st, pd, kk in zip(spatial_in, s, p, k))
    if output_size is None:
        spatial = default
    else:
        spatial = tuple(output_size)[-n:]
        for got, want, st in zip(spatial, default, s):
            if not want - st < got < want + st:
                raise ValueError(f"{op}: invalid output_size {tuple(output_size)}: each size must be within a stride "
                                 f"of the default {default}")
    lead = tuple(input.shape[:-n])
    plane = 1
    for v in spatial:
        plane *= v
    flat_idx = indices.reshape(*lead, -1).long()
    if flat_idx.numel() and (int(flat_idx.min()) < 0 or int(flat_idx.max()) >= plane):
        raise IndexError(f"{op}: found an index out of range for an output plane of {plane} elements "
                         f"(output size {spatial})")
    out = zeros(*lead, plane, dtype=input.dtype).scatter_add(-1, flat_idx, input.reshape(*lead, -1))
    return out.reshape(*lead, *spatial)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of :func:`max_pool1d`; see :class:`~autograd_core.nn.MaxUnpool1d`.

    Args:
        input (Tensor): ``(N, C, L_in)`` or ``(C, L_in)``, the pooled values.
        indices (Tensor): the indices ``max_pool1d(..., return_indices=True)`` returned, same shape.
        kernel_size, stride, padding: those of the pooling (``stride`` defaults to ``kernel_size``).
        output_size (sequence of ints, optional): the exact output length, to undo a pooling that
            dropped a remainder; default ``(L_in - 1) * stride - 2 * padding + kernel_size``.
    """
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of :func:`max_pool2d`; see :class:`~autograd_core.nn.MaxUnpool2d`.

    Args:
        input (Tensor): ``(N, C, H_in, W_in)`` or ``(C, H_in, W_in)``, the pooled values.
        indices (Tensor): the indices ``max_pool2d(..., return_indices=True)`` returned, same shape.
        kernel_size, stride, padding: those of the pooling (``stride`` defaults to ``kernel_size``).
        output_size (sequence of ints, optional): the exact output ``(H, W)``; default
            ``(H_in - 1) * stride - 2 * padding + kernel_size`` along each side.
    """
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")
