"""MaxUnpool1d / MaxUnpool2d and F.max_unpool1d / max_unpool2d: the partial inverse of max
pooling. Each value goes back to the position its max-pool index names (flat within each plane,
as max_pool2d(..., return_indices=True) gives them); everything else is zero. Differentiable in
the values (scatter_add into zeros)."""
from ..ops.creation import zeros
from ..tensor import Tensor
from .module import Module


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


class MaxUnpool1d(Module):
    """The partial inverse of :class:`MaxPool1d`: each value goes back to the position its index
    names, and every other position is zero. Differentiable in the values.

    Args:
        kernel_size (int or tuple): the pooling's window size.
        stride (int or tuple, optional): the pooling's stride; defaults to ``kernel_size``.
        padding (int or tuple): the pooling's padding.

    Shape:
        - Input: ``(N, C, L_in)`` or ``(C, L_in)``; indices: the same shape.
        - Output: ``(N, C, L_out)`` or ``(C, L_out)`` with
          ``L_out = (L_in - 1) * stride - 2 * padding + kernel_size``, or ``output_size`` given to
          ``forward``.

    Example:
        >>> pool = nn.MaxPool1d(2, return_indices=True)
        >>> out, idx = pool(ag.tensor([[[1., 2., 3., 4.]]]))
        >>> nn.MaxUnpool1d(2)(out, idx)
        tensor([[[0., 2., 0., 4.]]])
    """
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride if stride is not None else kernel_size, padding

    def forward(self, input, indices, output_size=None):
        return max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(MaxUnpool1d):
    """The partial inverse of :class:`MaxPool2d`: each value goes back to the position its index
    names (flat within each ``H x W`` plane), and every other position is zero. Differentiable in
    the values.

    Args:
        kernel_size (int or tuple): the pooling's window size.
        stride (int or tuple, optional): the pooling's stride; defaults to ``kernel_size``.
        padding (int or tuple): the pooling's padding.

    Shape:
        - Input: ``(N, C, H_in, W_in)`` or ``(C, H_in, W_in)``; indices: the same shape.
        - Output: ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)`` with
          ``H_out = (H_in - 1) * stride[0] - 2 * padding[0] + kernel_size[0]`` (likewise ``W_out``),
          or ``output_size`` given to ``forward``.

    Example:
        >>> pool = nn.MaxPool2d(2, return_indices=True)
        >>> out, idx = pool(ag.tensor([[[[1., 2.], [3., 4.]]]]))
        >>> nn.MaxUnpool2d(2)(out, idx)
        tensor([[[[0., 0.],
                  [0., 4.]]]])
    """
    def forward(self, input, indices, output_size=None):
        return max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)
