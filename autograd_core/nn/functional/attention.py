"""scaled_dot_product_attention."""
import math

import numpy as np

from ...dtypes import bool_
from ...ops.creation import tensor
from ...ops.unary import where
from .dropout import dropout


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """softmax(Q K^T * scale + mask) V over the last two dimensions; a bool mask marks positions that
    take part (True = attend), a float mask is added to the scores."""
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"scaled_dot_product_attention: query feature size {query.shape[-1]} differs from "
                         f"key's {key.shape[-1]}")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: key length {key.shape[-2]} differs from value's "
                         f"{value.shape[-2]}")
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    # (the query scaled first, as PyTorch does: q . k can overflow where the scaled score does not)
    scores = (query * scale) @ key.transpose(-2, -1)
    # a bool mask is added as 0 / -inf, as PyTorch does (so an inf score at a masked place gives NaN)
    if is_causal:
        scores = scores + where(_causal_mask(L, S), 0.0, float("-inf")).to(scores.dtype)
    if attn_mask is not None:
        if attn_mask.dtype == bool_:
            scores = scores + where(attn_mask, 0.0, float("-inf")).to(scores.dtype)
        else:
            scores = scores + attn_mask
    # a query whose every score is -inf (all keys masked) attends to nothing and gets 0, as in PyTorch,
    # rather than the softmax's 0/0 = NaN (its scores are zeroed first so the backward stays finite)
    dead = (scores == float("-inf")).all(-1, keepdim=True)
    if dead.any():
        weights = scores.masked_fill(dead, 0.0).softmax(-1).masked_fill(dead, 0.0)
    else:
        weights = scores.softmax(-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return weights @ value


def _causal_mask(L, S):
    return tensor(np.tril(np.ones((L, S), dtype=bool)))
