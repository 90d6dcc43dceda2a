"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, AdaptiveMaxPool1d/2d, like PyTorch's;
and the padding layers ZeroPad1d/2d, ConstantPad1d/2d, ReflectionPad1d/2d, ReplicationPad1d/2d."""
from ..ops import conv as C
from . import functional as F
from .module import Module


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    r"""1-d max pooling: the largest value in each window of each channel.

    .. math::
        \text{out}(n, c, l) = \max_{m < k} \text{input}(n, c, s\,l + d\,m - p)

    Args:
        kernel_size (int or tuple): the window size.
        stride (int or tuple, optional): the window step; defaults to ``kernel_size``.
        padding (int or tuple): implicit padding on each side (with -inf, never chosen).
        ceil_mode (bool): round the output size up instead of down (a last, partial window).
        dilation (int): the spacing between window elements.
        return_indices (bool): also return the flat index of each maximum (for ``MaxUnpool``).

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``.
        - Output: ``(N, C, L_out)`` with
          :math:`L_{out} = \lfloor (L + 2p - d(k - 1) - 1) / s \rfloor + 1`.

    The gradient flows to the position of each maximum (to the first one on ties).

    Example:
        >>> nn.MaxPool1d(2)(ag.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
        tensor([[[3., 2.]]])
    """

    def forward(self, input):
        return C.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class MaxPool2d(_MaxPoolNd):
    r"""2-d max pooling: the largest value in each window of each channel.

    .. math::
        \text{out}(n, c, h, w) = \max_{i < k_H,\, j < k_W}
            \text{input}(n, c, s_H h + d_H i - p_H,\, s_W w + d_W j - p_W)

    Args:
        kernel_size (int or tuple): the window size.
        stride (int or tuple, optional): the window step; defaults to ``kernel_size``.
        padding (int or tuple): implicit padding on each side (with -inf, never chosen).
        ceil_mode (bool): round the output size up instead of down (a last, partial window).
        dilation (int or tuple): the spacing between window elements.
        return_indices (bool): also return the flat index (over H*W) of each maximum.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: ``(N, C, H_out, W_out)`` with
          :math:`H_{out} = \lfloor (H + 2p_H - d_H(k_H - 1) - 1) / s_H \rfloor + 1`, likewise W.

    Example:
        >>> x = ag.arange(16.0).reshape(1, 1, 4, 4)
        >>> nn.MaxPool2d(2)(x)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """

    def forward(self, input):
        return C.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool1d(Module):
    r"""1-d average pooling: the mean of each window of each channel.

    Args:
        kernel_size (int or tuple): the window size.
        stride (int or tuple, optional): the window step; defaults to ``kernel_size``.
        padding (int or tuple): implicit padding on each side (with zeros).
        ceil_mode (bool): round the output size up instead of down (a last, partial window).
        count_include_pad (bool): count the padding zeros in the divisor (default, as PyTorch).

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``; output: ``(N, C, L_out)`` with
          :math:`L_{out} = \lfloor (L + 2p - k) / s \rfloor + 1`.

    Example:
        >>> nn.AvgPool1d(2)(ag.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
        tensor([[[2., 1.]]])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return C.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    r"""2-d average pooling: the mean of each window of each channel.

    .. math::
        \text{out}(n, c, h, w) = \frac{1}{k_H k_W} \sum_{i < k_H,\, j < k_W}
            \text{input}(n, c, s_H h + i - p_H,\, s_W w + j - p_W)

    Args:
        kernel_size (int or tuple): the window size.
        stride (int or tuple, optional): the window step; defaults to ``kernel_size``.
        padding (int or tuple): implicit padding on each side (with zeros).
        ceil_mode (bool): round the output size up instead of down (a last, partial window).
        count_include_pad (bool): count the padding zeros in the divisor (default, as PyTorch).
        divisor_override (int, optional): divide by this instead of the window size.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``; output: ``(N, C, H_out, W_out)`` with
          :math:`H_{out} = \lfloor (H + 2p_H - k_H) / s_H \rfloor + 1`, likewise W.

    Example:
        >>> nn.AvgPool2d(2)(ag.arange(16.0).reshape(1, 1, 4, 4))
        tensor([[[[ 2.5000,  4.5000],
                  [10.5000, 12.5000]]]])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return C.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    r"""Average pooling to a fixed output size, whatever the input size.

    Output cell ``(i, j)`` averages input rows :math:`\lfloor iH/H_{out} \rfloor` to
    :math:`\lceil (i+1)H/H_{out} \rceil - 1` and the matching columns, so windows may overlap or differ
    in size by one. ``AdaptiveAvgPool2d(1)`` is global average pooling.

    Args:
        output_size (int or tuple): ``(H_out, W_out)``; an int for both; None keeps that dimension.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``; output: ``(N, C, H_out, W_out)``.

    Example:
        >>> nn.AdaptiveAvgPool2d(1)(ag.arange(16.0).reshape(1, 1, 4, 4)).flatten()
        tensor([7.5000])
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return C.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed output size, whatever the input size (windows as in
    :class:`AdaptiveAvgPool2d`).

    Args:
        output_size (int or tuple): ``(H_out, W_out)``; an int for both; None keeps that dimension.
        return_indices (bool): also return the flat index (over H*W) of each maximum.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``; output: ``(N, C, H_out, W_out)``.

    Example:
        >>> nn.AdaptiveMaxPool2d((1, 2))(ag.arange(16.0).reshape(1, 1, 4, 4))
        tensor([[[[13., 15.]]]])
    """

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input):
        return C.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling of ``(N, C, L)`` input to ``(N, C, output_size)`` (windows as in
    :class:`AdaptiveAvgPool2d`).

    Example:
        >>> nn.AdaptiveAvgPool1d(2)(ag.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
        tensor([[[2., 1.]]])
    """

    def forward(self, input):
        return C.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """Max pooling of ``(N, C, L)`` input to ``(N, C, output_size)`` (windows as in
    :class:`AdaptiveAvgPool2d`); ``return_indices`` also returns the argmax positions.

    Example:
        >>> nn.AdaptiveMaxPool1d(1)(ag.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
        tensor([[[3.]]])
    """

    def forward(self, input):
        return C.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class _PadNd(Module):
    """Pads the last n dims by F.pad: padding is an int (every side) or 2n ints (left, right, top,
    bottom for n = 2)."""

    _n = 1
    _mode = "constant"

    def __init__(self, padding, value=0.0):
        super().__init__()
        if isinstance(padding, int):
            padding = (padding,) * (2 * self._n)
        padding = tuple(padding)
        if len(padding) != 2 * self._n:
            raise ValueError(f"{type(self).__name__}: padding must be an int or {2 * self._n} ints, got {padding}")
        self.padding = padding
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, self._mode, self.value)

    def extra_repr(self):
        return f"{self.padding}" + (f", value={self.value}" if self._mode == "constant" and self.value else "")


class ZeroPad1d(_PadNd):
    """Pad the last dimension with zeros.

    Args:
        padding (int or tuple): an int for both sides, or ``(left, right)``.

    Shape:
        - Input: ``(N, C, W)`` or ``(C, W)``; output: ``W + left + right`` wide.

    Example:
        >>> nn.ZeroPad1d((1, 2))(ag.tensor([[1.0, 2.0]]))
        tensor([[0., 1., 2., 0., 0.]])
    """

    def __init__(self, padding):
        super().__init__(padding)


class ZeroPad2d(ZeroPad1d):
    """Pad the last two dimensions with zeros.

    Args:
        padding (int or tuple): an int for every side, or ``(left, right, top, bottom)``.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``; output: ``(N, C, H + top + bottom, W + left + right)``.

    Example:
        >>> nn.ZeroPad2d(1)(ag.ones(1, 1, 1)).squeeze(0)
        tensor([[0., 0., 0.],
                [0., 1., 0.],
                [0., 0., 0.]])
    """

    _n = 2


class ConstantPad1d(_PadNd):
    """Pad the last dimension with a constant ``value``.

    Args:
        padding (int or tuple): an int for both sides, or ``(left, right)``.
        value (float): the fill value.

    Example:
        >>> nn.ConstantPad1d(1, 9.0)(ag.tensor([[1.0, 2.0]]))
        tensor([[9., 1., 2., 9.]])
    """

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ConstantPad2d(ConstantPad1d):
    """Pad the last two dimensions with a constant ``value``.

    Args:
        padding (int or tuple): an int for every side, or ``(left, right, top, bottom)``.
        value (float): the fill value.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``; output: ``(N, C, H + top + bottom, W + left + right)``.
    """

    _n = 2


class ReflectionPad1d(ZeroPad1d):
    """Pad the last dimension with its reflection, the edge not repeated.

    Args:
        padding (int or tuple): an int for both sides, or ``(left, right)``; each less than the width.

    Example:
        >>> nn.ReflectionPad1d(2)(ag.tensor([[1.0, 2.0, 3.0]]))
        tensor([[3., 2., 1., 2., 3., 2., 1.]])
    """

    _mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """Pad the last two dimensions with their reflection, the edge not repeated.

    Args:
        padding (int or tuple): an int for every side, or ``(left, right, top, bottom)``; each less
            than that size.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``; output: ``(N, C, H + top + bottom, W + left + right)``.
    """

    _n = 2


class ReplicationPad1d(ZeroPad1d):
    """Pad the last dimension by repeating its edge values.

    Args:
        padding (int or tuple): an int for both sides, or ``(left, right)``.

    Example:
        >>> nn.ReplicationPad1d(2)(ag.tensor([[1.0, 2.0, 3.0]]))
        tensor([[1., 1., 1., 2., 3., 3., 3.]])
    """

    _mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """Pad the last two dimensions by repeating their edge values.

    Args:
        padding (int or tuple): an int for every side, or ``(left, right, top, bottom)``.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``; output: ``(N, C, H + top + bottom, W + left + right)``.
    """

    _n = 2
