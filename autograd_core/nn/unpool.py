"""MaxUnpool1d / MaxUnpool2d and F.max_unpool1d / max_unpool2d: the partial inverse of max
pooling. Each value goes back to the position its max-pool index names (flat within each plane,
as max_pool2d(..., return_indices=True) gives them); everything else is zero. Differentiable in
the values (scatter_add into zeros)."""
from .functional.pooling import max_unpool1d, max_unpool2d
from .module import Module


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
