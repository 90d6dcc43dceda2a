"""Embedding: a lookup table with N(0, 1) initialisation; the padding_idx row starts at zero and gets
no gradient."""

from ..autograd.grad_mode import no_grad
from ..device import check_device
from ..dtypes import get_default_dtype
from ..ops.creation import empty
from . import functional as F
from . import init
from .functional.embedding import embedding_bag
from .module import Module, Parameter


class Embedding(Module):
    """A lookup table: row ``i`` of ``weight`` is the vector of token ``i``.

    ``Embedding(V, D)(idx)`` equals ``one_hot(idx, V) @ weight`` without building the one-hot
    matrix; the gradient of ``weight`` adds up the output gradients of every occurrence of each index.

    Args:
        num_embeddings (int): the vocabulary size V.
        embedding_dim (int): the size D of each vector.
        padding_idx (int, optional): this row starts at zero and gets no gradient.
        max_norm (float, optional): rows looked up are renormalised in place to at most this L2 norm.

    Attributes:
        weight (Parameter): ``(V, D)``, initialised from N(0, 1).

    Shape:
        - Input: integer tensor ``(*)`` of indices in [0, V); output: ``(*, D)``.

    Example:
        >>> emb = nn.Embedding(10, 3)
        >>> emb(ag.tensor([[1, 2, 1]])).shape
        Size([1, 3, 3])
    """
    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, _weight=None,
                 device=None, dtype=None):
        check_device(device, type(self).__name__)
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings "
                                 f"({num_embeddings})")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        if _weight is None:
            self.weight = Parameter(empty((num_embeddings, embedding_dim), dtype=dtype or get_default_dtype()))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight of shape {tuple(_weight.shape)}, expected "
                                 f"({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight)

    def reset_parameters(self):
        """Draw ``weight`` from N(0, 1) again, with the ``padding_idx`` row zero."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        """An Embedding holding a copy of ``embeddings`` (``(V, D)``), frozen unless ``freeze=False``.

        Example:
            >>> emb = nn.Embedding.from_pretrained(ag.tensor([[0.0, 1.0], [2.0, 3.0]]))
            >>> emb(ag.tensor([1]))
            tensor([[2., 3.]])
            >>> emb.weight.requires_grad
            False
        """
        rows, dim = embeddings.shape
        module = cls(rows, dim, padding_idx=padding_idx, _weight=embeddings.detach().clone())
        module.weight.requires_grad_(not freeze)
        return module

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s


class EmbeddingBag(Module):
    """An Embedding followed by a sum, mean or max over each bag: see embedding_bag."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None, dtype=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"EmbeddingBag: padding_idx {padding_idx} must be within num_embeddings "
                                 f"({num_embeddings})")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(empty((num_embeddings, embedding_dim), dtype=dtype or get_default_dtype()))
            self.reset_parameters()
        else:
            self.weight = Parameter(_weight)

    def reset_parameters(self):
        """Draw ``weight`` from N(0, 1) again, with the ``padding_idx`` row zero."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        """An EmbeddingBag holding a copy of ``embeddings`` (``(V, D)``), frozen unless ``freeze=False``;
        the other arguments are the constructor's.

        Example:
            >>> bag = nn.EmbeddingBag.from_pretrained(ag.tensor([[1.0, 2.0], [3.0, 4.0]]), mode="sum")
            >>> bag(ag.tensor([[0, 1]]))
            tensor([[4., 6.]])
        """
        rows, dim = embeddings.shape
        module = cls(rows, dim, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings.detach().clone(),
                     include_last_offset, padding_idx)
        module.weight.requires_grad_(not freeze)
        return module

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}, mode='{self.mode}'"
