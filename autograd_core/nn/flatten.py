"""Flatten, Unflatten and Identity; PairwiseDistance and CosineSimilarity."""
from . import functional as F
from .module import Module


class Identity(Module):
    """Returns its input; accepts and ignores any constructor arguments (as PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Flattens dims start_dim..end_dim (default: all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expands dim into unflattened_size."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class PairwiseDistance(Module):
    r"""The p-norm distance between matching rows of two inputs.

    .. math::
        d_n = \| x^{(1)}_n - x^{(2)}_n + \epsilon \|_p

    Args:
        p (float): the norm's order.
        eps (float): added to the difference so the norm is differentiable where the rows coincide.
        keepdim (bool): keep the last dimension, of size 1.

    Shape:
        - Input1, input2: ``(N, D)`` or ``(D,)``, broadcastable; output: ``(N,)`` (``(N, 1)`` with keepdim).

    Example:
        >>> nn.PairwiseDistance(eps=0.0)(ag.tensor([[0.0, 0.0]]), ag.tensor([[3.0, 4.0]]))
        tensor([5.])
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    r"""Cosine of the angle between two inputs along ``dim``.

    .. math::
        \text{sim} = \frac{x_1 \cdot x_2}{\max(\|x_1\|_2\, \|x_2\|_2,\ \epsilon)}

    Args:
        dim (int): the dimension holding the vectors.
        eps (float): a lower bound on the product of the norms, avoiding a division by zero.

    Shape:
        - Input1, input2: broadcastable, e.g. ``(N, D)``; output: the broadcast shape without ``dim``.

    Example:
        >>> nn.CosineSimilarity(dim=1)(ag.tensor([[1.0, 0.0]]), ag.tensor([[1.0, 1.0]]))
        tensor([0.7071])
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
