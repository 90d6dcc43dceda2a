"""Sliding blocks: unfold (im2col: every kernel-sized block of a batched image as a column) and
fold (its adjoint: columns summed back into an image), as F.unfold / F.fold and nn.Unfold /
nn.Fold. Channel order within a column is (c, kernel row, kernel column), as in PyTorch.

Both are written with strided slices, stack and slice assignment, so they are differentiable
(and fold's gradient is unfold, and the other way round)."""
from .functional.fold import fold, unfold
from .module import Module


class Unfold(Module):
    """Extract sliding blocks: see unfold."""
    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Module):
    """Combine sliding blocks into an image: see fold."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size = output_size
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
