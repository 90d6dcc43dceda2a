"""embedding and one_hot."""
import numpy as np

from ...autograd.function import Function
from ...dtypes import bool_, int64
from ...ops.creation import arange, zeros
from ...ops.creation import tensor as _tensor
from ...ops.shape import stack
from ._common import _check_tensor


def embedding(input, weight, padding_idx=None, max_norm=None):
    """Rows of weight (num_embeddings, dim) picked by the integer indices in input; the padding_idx row
    receives no gradient."""
    _check_tensor(input, "input", "embedding")
    if input.dtype.is_floating_point or input.dtype == bool_:
        raise TypeError(f"embedding: expected integer indices, got {input.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D, got shape {tuple(weight.shape)}")
    if max_norm is not None:
        raise NotImplementedError("embedding: max_norm is not supported")
    num = weight.shape[0]
    if padding_idx is not None:
        # (the same rule and message as nn.Embedding; a negative padding_idx counts from the end)
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within num_embeddings "
                             f"({num}): -{num} <= padding_idx < {num}")
        padding_idx %= num
    idx = input.reshape(-1).long()
    if idx.numel():
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= num:
            bad = lo if lo < 0 else hi
            raise IndexError(f"embedding: index {bad} is out of range for {num} embeddings")
    out = _Embedding.apply(weight, idx, padding_idx)
    return out.reshape(tuple(input.shape) + (weight.shape[1],))


class _Embedding(Function):
    """Row lookup; backward scatter-adds the output gradient into a dense weight gradient, leaving the
    padding_idx row at zero."""

    @staticmethod
    def forward(ctx, weight, idx, padding_idx):
        ctx.save_for_backward(idx)
        ctx.num, ctx.padding_idx = weight.shape[0], padding_idx
        return weight.index_select(0, idx)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        if ctx.padding_idx is not None:
            g = g * (idx != ctx.padding_idx).to(g.dtype).unsqueeze(1)
        grad = zeros((ctx.num, g.shape[1]), dtype=g.dtype).index_add(0, idx, g)
        return grad, None, None


def one_hot(tensor, num_classes=-1):
    """int64 (*, num_classes) with a 1 at each index; num_classes=-1 means max + 1."""
    _check_tensor(tensor, "tensor", "one_hot")
    if tensor.dtype != int64:
        raise TypeError(f"one_hot: expected an int64 tensor of class indices, got {tensor.dtype}")
    if tensor.numel() and int(tensor.min()) < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {int(tensor.min())}")
    top = int(tensor.max()) + 1 if tensor.numel() else 0
    if num_classes == -1:
        num_classes = top
    elif top > num_classes:
        raise ValueError(f"one_hot: class value {top - 1} is out of range for num_classes={num_classes}")
    return (tensor.unsqueeze(-1) == arange(num_classes)).long()


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings, without materialising the bags: input 2-D
    (B, N: each row a bag) or 1-D with offsets (bag b is input[offsets[b]:offsets[b + 1]]).
    per_sample_weights (mode 'sum' only) scale each embedding; padding_idx entries are left out
    (and not counted by 'mean'); an empty bag gives zeros."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  f"GitHub.")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None, as input is treated is a "
                             "mini-batch of fixed length sequences")
        rows, length = input.shape
        flat = input.reshape(-1)
        starts = np.arange(0, rows * length, length, dtype=np.int64) if length else np.zeros(rows, dtype=np.int64)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
        flat = input
        starts = np.asarray(offsets.detach() if hasattr(offsets, "detach") else offsets, dtype=np.int64).reshape(-1)
        if include_last_offset:
            starts = starts[:-1]
        if starts.size and (starts[0] != 0 or (np.diff(starts) < 0).any() or starts[-1] > flat.shape[0]):
            raise ValueError(f"embedding_bag: offsets must start at 0 and be non-decreasing within the input length "
                             f"{flat.shape[0]}, got {starts.tolist()}")
    else:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    n = flat.shape[0]
    bags = starts.size
    bag_of = np.zeros(n, dtype=np.int64)
    if bags:
        bag_of = np.searchsorted(starts, np.arange(n), side="right") - 1
    idx = np.asarray(flat.detach()).astype(np.int64)
    keep = np.ones(n, dtype=bool) if padding_idx is None else idx != (padding_idx % weight.shape[0])
    emb = embedding(flat, weight, padding_idx, max_norm)
    dim = weight.shape[1]
    if mode == "max":
        pieces = []
        for b in range(bags):
            members = np.nonzero((bag_of == b) & keep)[0]
            if members.size:
                pieces.append(emb.index_select(0, _tensor(members)).amax(0))
            else:
                pieces.append(zeros(dim, dtype=weight.dtype))
        return stack(pieces, 0) if pieces else zeros(0, dim, dtype=weight.dtype)
    scale = keep.astype(np.float64)
    if mode == "mean":
        counts = np.bincount(bag_of[keep], minlength=bags).astype(np.float64)
        scale = scale / np.maximum(counts[bag_of], 1.0)
    contrib = emb * _tensor(scale, dtype=weight.dtype).unsqueeze(1)
    if per_sample_weights is not None:
        contrib = contrib * per_sample_weights.unsqueeze(1)
    index = _tensor(bag_of).unsqueeze(1).expand(n, dim)
    return zeros(bags, dim, dtype=weight.dtype).scatter_add(0, index, contrib)
