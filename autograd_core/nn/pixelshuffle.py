"""Pixel shuffle (sub-pixel convolution's rearrangement) and its inverse, as PyTorch:
(*, C r^2, H, W) <-> (*, C, H r, W r), by reshape and permute (differentiable views and copies)."""
from .functional.pixelshuffle import pixel_shuffle, pixel_unshuffle
from .module import Module


class PixelShuffle(Module):
    r"""Rearrange ``(*, C r^2, H, W)`` into ``(*, C, H r, W r)``: each group of :math:`r^2` channels
    becomes an :math:`r \times r` block of pixels (the sub-pixel convolution upsampling of Shi et
    al., 2016).

    Args:
        upscale_factor (int): :math:`r`, the factor each spatial side grows by.

    Shape:
        - Input: ``(*, C r^2, H, W)``; output: ``(*, C, H r, W r)``.

    Example:
        >>> nn.PixelShuffle(2)(ag.arange(8.).reshape(1, 8, 1, 1)).shape
        Size([1, 2, 2, 2])
    """
    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    r"""The inverse of :class:`PixelShuffle`: ``(*, C, H r, W r)`` into ``(*, C r^2, H, W)``, each
    :math:`r \times r` block of pixels becoming :math:`r^2` channels.

    Args:
        downscale_factor (int): :math:`r`, the factor each spatial side shrinks by.

    Shape:
        - Input: ``(*, C, H r, W r)``; output: ``(*, C r^2, H, W)``.

    Example:
        >>> x = ag.arange(16.).reshape(1, 1, 4, 4)
        >>> nn.PixelUnshuffle(2)(x).shape
        Size([1, 4, 2, 2])
    """
    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
