"""Dropout layers: masks from the seeded generator, scaled by 1 / (1 - p); identity in eval mode."""
from . import functional as F
from .module import Module


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    r"""During training, zero each element with probability ``p`` and scale the rest by ``1/(1-p)``.

    .. math::
        y_i = \frac{m_i\, x_i}{1 - p}, \qquad m_i \sim \text{Bernoulli}(1 - p)

    The scaling keeps the expected value of each element unchanged, so in evaluation mode
    (``model.eval()``) the layer is the identity and needs no rescaling. A fresh mask is drawn at
    every call from autograd_core's generator (``ag.manual_seed`` fixes it).

    Args:
        p (float): the probability of zeroing an element, in [0, 1].
        inplace (bool): accepted for PyTorch compatibility.

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> drop = nn.Dropout(0.5)
        >>> y = drop(ag.ones(1000))
        >>> sorted(set(y.tolist()))            # zeros, and survivors scaled by 1 / (1 - p)
        [0.0, 2.0]
        >>> drop.eval()(ag.ones(3))
        tensor([1., 1., 1.])
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zeroes whole channels of (N, C, L) input."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zeroes whole channels of (N, C, H, W) input."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)
