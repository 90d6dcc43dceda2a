"""Distances and similarities: cosine_similarity, pairwise_distance, cdist."""
from ... import _core
from ...ops.creation import ones_like, zeros_like
from ...ops.shape import broadcast_tensors
from ...ops.unary import where
from ._common import _check_float, _check_tensor


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x1 and x2 along dim, after broadcasting them together (dim indexes
    the broadcast shape); each norm is clamped to at least eps, so the result stays within [-1, 1]:
    ``x1 . x2 / (max(||x1||, eps) max(||x2||, eps))``; see :class:`~autograd_core.nn.CosineSimilarity`.

    Example:
        >>> F.cosine_similarity(ag.tensor([[1.0, 0.0]]), ag.tensor([[0.0, 2.0]]))
        tensor([0.])
    """
    _check_tensor(x1, "x1", "cosine_similarity")
    _check_tensor(x2, "x2", "cosine_similarity")
    if not (x1.dtype.is_floating_point and x2.dtype.is_floating_point):
        raise TypeError(f"cosine_similarity: expected floating point tensors, got {x1.dtype} and {x2.dtype}")
    try:
        x1, x2 = broadcast_tensors(x1, x2)
    except RuntimeError:
        raise ValueError(f"cosine_similarity: shapes {tuple(x1.shape)} and {tuple(x2.shape)} do not "
                         f"broadcast") from None
    dim = _core._wrap_dim(dim, max(x1.ndim, 1), "cosine_similarity")
    # both in the result's dtype first: a float32 input's norm taken in float32 would limit a float64
    # result to float32 accuracy (PyTorch's does; see docs/differences.md, mixed-dtypes)
    if x1._dtype_code != x2._dtype_code:
        dtype = x1.dtype if _core.result_type(x1, x2) == x1._dtype_code else x2.dtype
        x1, x2 = x1.to(dtype), x2.to(dtype)
    # normalising each input first (rather than dividing by the product of the norms) keeps
    # float32 from overflowing in |x1|^2 |x2|^2
    n1, n2 = x1.norm(2, dim, keepdim=True), x2.norm(2, dim, keepdim=True)
    # PyTorch clamps the norms outside the graph: the values are clamped, the gradient is the norm's
    n1 = n1 + (n1.detach().clamp(min=eps) - n1.detach())
    n2 = n2 + (n2.detach().clamp(min=eps) - n2.detach())
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim (rows of (N, D) or broadcast inputs)."""
    _check_float(x1, "pairwise_distance")
    d = x1 - x2 + eps
    if p == 2.0:
        out = (d * d).sum(-1, keepdim=keepdim).sqrt()
    else:
        out = d.norm(p, -1, keepdim=keepdim)
    return out


def cdist(x1, x2, p=2.0):
    """Distances between every row of x1 (.., P, M) and every row of x2 (.., R, M): (.., P, R)."""
    _check_float(x1, "cdist")
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"cdist: expected (..., P, M) and (..., R, M) inputs with the same M, got "
                         f"{tuple(x1.shape)} and {tuple(x2.shape)}")
    if p < 0:
        raise ValueError(f"cdist: p must be nonnegative, got {p}")
    d = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if p == 2.0:
        sq = (d * d).sum(-1)
        # the gradient of sqrt at 0 is infinite: where a distance is 0 its gradient is taken as 0
        safe = where(sq > 0, sq, ones_like(sq))
        return where(sq > 0, safe.sqrt(), zeros_like(sq))
    if p == 1.0:
        return d.abs().sum(-1)
    if p == float("inf"):
        return d.abs().amax(-1)
    if p == 0:
        return (d != 0).to(x1.dtype).sum(-1)
    return d.norm(p, -1)
