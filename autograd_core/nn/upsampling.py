"""Upsample and its two fixed-mode forms (F.interpolate as modules)."""
from . import functional as F
from .module import Module


class Upsample(Module):
    """Resizes (N, C, L) or (N, C, H, W) input by F.interpolate: give size or scale_factor; mode
    'nearest' (default), 'linear' or 'bilinear'."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        what = f"scale_factor={self.scale_factor}" if self.scale_factor is not None else f"size={self.size}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """2-d nearest-neighbour upsampling: ``Upsample(mode='nearest')``.

    Args:
        size (int or tuple, optional): the output ``(H_out, W_out)``.
        scale_factor (float or tuple, optional): the multiplier of H and W (give size or this).

    Shape:
        - Input: ``(N, C, H, W)``; output: ``(N, C, H_out, W_out)``.

    Example:
        >>> nn.UpsamplingNearest2d(scale_factor=2)(ag.tensor([[[[1.0, 2.0]]]]))
        tensor([[[[1., 1., 2., 2.],
                  [1., 1., 2., 2.]]]])
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear with align_corners=True (as PyTorch's UpsamplingBilinear2d)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
