"""Loss functions: reductions, regression, classification and margin losses."""
import math

from ... import _core
from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...dtypes import bool_, int64
from ...ops.binary import minimum
from ...ops.creation import arange, ones, ones_like, tensor, zeros_like
from ...ops.unary import where
from ...tensor import Tensor
from ._common import _check_float, _check_tensor
from .activation import logsigmoid, softplus
from .distance import pairwise_distance

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, op, extra=()):
    if reduction not in _REDUCTIONS + tuple(extra):
        allowed = ", ".join(repr(r) for r in _REDUCTIONS + tuple(extra))
        raise ValueError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_pair(input, target, op):
    _check_float(input, op)
    _check_tensor(target, "target", op)
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{op}: target shape {tuple(target.shape)} does not match input shape "
                         f"{tuple(input.shape)}")
    if not target.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating point target, got {target.dtype}")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    return target


def mse_loss(input, target, reduction="mean"):
    """(input - target)^2, reduced."""
    _check_reduction(reduction, "mse_loss")
    target = _check_pair(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input, target, reduction="mean"):
    """|input - target|, reduced."""
    _check_reduction(reduction, "l1_loss")
    target = _check_pair(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta = 0 gives L1)."""
    _check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    target = _check_pair(input, target, "smooth_l1_loss")
    d = (input - target).abs()
    if beta == 0:
        return _reduce(d, reduction)
    loss = where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)  (= delta * smooth_l1 with beta=delta)."""
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    target = _check_pair(input, target, "huber_loss")
    d = (input - target).abs()
    loss = where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta)
    return _reduce(loss, reduction)


def _apply_weight(loss, weight, op):
    if weight is None:
        return loss
    try:
        _core.broadcast_shape(tuple(weight.shape), tuple(loss.shape), op)
    except Exception as exc:
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} does not broadcast to the loss shape "
                         f"{tuple(loss.shape)}") from exc
    return loss * weight


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1]; each log is clamped at -100
    (as PyTorch does) so p = 0 or 1 gives a finite loss."""
    _check_reduction(reduction, "binary_cross_entropy")
    target = _check_pair(input, target, "binary_cross_entropy")
    with no_grad():
        if input.numel() and (bool(((input < 0) | (input > 1)).any())):
            raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1 "
                             "(use binary_cross_entropy_with_logits for logits)")
    log_p = input.log().clamp(min=-100.0)
    log_1mp = (1 - input).log().clamp(min=-100.0)
    loss = -(target * log_p + (1 - target) * log_1mp)
    return _reduce(_apply_weight(loss, weight, "binary_cross_entropy"), reduction)


class _Log1pExp(Function):
    """log(1 + exp(x)) computed as max(x, 0) + log1p(exp(-|x|)): no overflow; derivative sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.relu() + (-x.abs()).exp().log1p()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sigmoid()


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Sigmoid + BCE in one stable formula: max(x, 0) - x y + log1p(exp(-|x|)); with pos_weight
    (per class, broadcast over the last dim): (1 - y) x + (1 + (pw - 1) y) (log1p(exp(-|x|)) + max(-x, 0))."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    target = _check_pair(input, target, "binary_cross_entropy_with_logits")
    # (1 - y) x + log(1 + exp(-x)) = max(x, 0) - x y + log1p(exp(-|x|)); the log1pexp Function keeps the
    # gradient smooth at x = 0 (sigmoid(x) - y) where the max/abs form has kinks
    if pos_weight is None:
        loss = (1 - target) * input + _Log1pExp.apply(-input)
    else:
        if pos_weight.ndim > 0 and input.ndim and pos_weight.shape[-1] not in (1, input.shape[-1]):
            raise ValueError(f"binary_cross_entropy_with_logits: pos_weight of shape {tuple(pos_weight.shape)} "
                             f"does not match the class dimension of input {tuple(input.shape)}")
        coef = 1 + (pos_weight - 1) * target
        loss = (1 - target) * input + coef * _Log1pExp.apply(-input)
    return _reduce(_apply_weight(loss, weight, "binary_cross_entropy_with_logits"), reduction)


class _SoftmaxCrossEntropy(Function):
    """Per-row softmax cross-entropy of logits (M, C) and class indices (M,), fused in C."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, smoothing, info):
        loss, lse, denom = _core.softmax_xent_forward(x, target, weight, ignore_index, smoothing)
        info.append(denom)
        ctx.save_for_backward(x, lse)
        ctx.target, ctx.weight, ctx.ignore_index, ctx.smoothing = target, weight, ignore_index, smoothing
        return loss

    @staticmethod
    def backward(ctx, g):
        x, lse = ctx.saved_tensors
        target, weight, ignore, eps = ctx.target, ctx.weight, ctx.ignore_index, ctx.smoothing
        if not is_grad_enabled():
            return _core.softmax_xent_backward(x, target, weight, ignore, eps, lse, g), None, None, None, None, None
        # differentiable form (double backward)
        c = x.shape[1]
        p = x.softmax(1)
        valid = target != ignore
        safe_t = where(valid, target, zeros_like(target))
        onehot = (safe_t.unsqueeze(1) == arange(c)).to(x.dtype)
        w = weight.detach() if weight is not None else ones(c, dtype=x.dtype)
        wt = w.index_select(0, safe_t) * valid.to(x.dtype)
        grad = (p - onehot) * (wt * (1 - eps)).unsqueeze(1)
        if eps > 0:
            grad = grad + (p * w.sum() - w) * (valid.to(x.dtype) * (eps / c)).unsqueeze(1)
        return grad * g.unsqueeze(1), None, None, None, None, None


def _class_dim_last(input):
    """(N, C, d1, ...) -> (N * d1 * ..., C)."""
    if input.ndim == 2:
        return input
    perm = (0,) + tuple(range(2, input.ndim)) + (1,)
    rows = math.prod(input.shape[:1] + input.shape[2:])  # (not -1: ambiguous when empty)
    return input.permute(perm).reshape(rows, input.shape[1])


def _check_class_target(input, target, op):
    _check_tensor(target, "target", op)
    if target.dtype.is_floating_point or target.dtype == bool_:
        raise TypeError(f"{op}: expected integer class indices (int64) as target, got {target.dtype}")
    if input.ndim == 1:
        expected = ()
    else:
        expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(f"{op}: expected target of shape {expected} for input of shape {tuple(input.shape)}, "
                         f"got {tuple(target.shape)}")
    return target.long() if target.dtype != int64 else target


def _check_class_weight(weight, c, input, op):
    if weight is None:
        return None
    if tuple(weight.shape) != (c,):
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)}, expected ({c},) (one per class)")
    return weight.detach().to(input.dtype)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """log_softmax + NLL over the class dim 1 of (N, C, *) logits (or (C,)). target is class indices
    (N, *) or class probabilities of input's shape. weight rescales classes; rows whose target equals
    ignore_index count nowhere; label_smoothing mixes the target with the uniform distribution.
    'mean' divides by the summed weights of the counted rows (class indices), by N * d1 * ...
    (probabilities)."""
    op = "cross_entropy"
    _check_reduction(reduction, op)
    _check_float(input, op)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    class_dim = 0 if input.ndim == 1 else 1
    c = input.shape[class_dim]
    w = _check_class_weight(weight, c, input, op)
    _check_tensor(target, "target", op)
    if target.dtype.is_floating_point:
        if tuple(target.shape) != tuple(input.shape):
            raise ValueError(f"{op}: class-probability target of shape {tuple(target.shape)} does not match "
                             f"input shape {tuple(input.shape)}")
        target = target.to(input.dtype)
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / c
        logp = input.log_softmax(class_dim)
        if w is not None:
            shape = (c,) if input.ndim == 1 else (1, c) + (1,) * (input.ndim - 2)
            logp = logp * w.reshape(shape)
        loss = -(logp * target).sum(class_dim)
        return _reduce(loss, reduction)
    target = _check_class_target(input, target, op)
    if input.ndim == 1:
        rows, idx = input.unsqueeze(0), target.reshape(1)
    else:
        rows, idx = _class_dim_last(input), target.reshape(-1)
    info = []
    loss = _SoftmaxCrossEntropy.apply(rows, idx, w, int(ignore_index), float(label_smoothing), info)
    if reduction == "none":
        return loss.reshape(tuple(target.shape))
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / info[0] if info[0] != 0 else loss.sum() * float("nan")


def _mean_denominator(idx, w, ignore_index, dtype):
    with no_grad():
        valid = idx != ignore_index
        if w is None:
            return valid.sum().to(dtype)
        safe = where(valid, idx, zeros_like(idx))
        return (w.index_select(0, safe) * valid.to(dtype)).sum()


def _check_index_range(idx, c, ignore_index, op):
    values = idx.detach().numpy()
    bad = (values != ignore_index) & ((values < 0) | (values >= c))
    if bad.any():
        raise IndexError(f"{op}: target {int(values[bad][0])} is out of bounds for {c} classes")


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-weight[t] * input[t] per row for log-probabilities (N, C, *) and class indices (N, *)."""
    op = "nll_loss"
    _check_reduction(reduction, op)
    _check_float(input, op)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    c = input.shape[0 if input.ndim == 1 else 1]
    w = _check_class_weight(weight, c, input, op)
    target = _check_class_target(input, target, op)
    rows = input.unsqueeze(0) if input.ndim == 1 else _class_dim_last(input)
    idx = target.reshape(-1)
    valid = idx != ignore_index
    _check_index_range(idx, c, ignore_index, op)
    safe = where(valid, idx, zeros_like(idx))
    picked = rows.gather(1, safe.unsqueeze(1)).squeeze(1)
    scale = valid.to(input.dtype)
    if w is not None:
        scale = scale * w.index_select(0, safe)
    loss = -(picked * scale)
    if reduction == "none":
        return loss.reshape(tuple(target.shape))
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / _mean_denominator(idx, w, ignore_index, input.dtype)


def kl_div(input, target, reduction="mean", log_target=False):
    """Pointwise KL term with input = log q: target * (log target - input) (0 where target = 0), or
    exp(t) * (t - input) with log_target. reduction 'batchmean' divides the sum by the batch size
    (the true KL divergence); 'mean' by the number of elements, as PyTorch."""
    op = "kl_div"
    _check_reduction(reduction, op, extra=("batchmean",))
    target = _check_pair(input, target, op)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target > 0
        safe = where(positive, target, ones_like(target))
        xlogx = where(positive, target * safe.log(), zeros_like(target))  # 0 log 0 = 0
        loss = xlogx - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def _broadcast_pair(a, b, op):
    _check_float(a, op)
    _check_tensor(b, "target", op)
    try:
        _core.broadcast_shape(tuple(a.shape), tuple(b.shape), op)
    except RuntimeError:
        raise ValueError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} do not broadcast") from None
    return b.to(a.dtype) if b.dtype != a.dtype else b


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    """The multi-class hinge (SVM) loss: for each sample, sum over the wrong classes j of
    max(0, margin - x[y] + x[j])^p / C (times weight[y]); input (N, C) or (C,), target class indices."""
    _check_reduction(reduction, "multi_margin_loss")
    _check_float(input, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p!r}")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    if input.ndim not in (1, 2):
        raise ValueError(f"multi_margin_loss: expected (N, C) or (C,) input, got {tuple(input.shape)}")
    t = target.reshape(-1).long()
    if t.shape[0] != x.shape[0]:
        raise ValueError(f"multi_margin_loss: target of shape {tuple(target.shape)} for input {tuple(input.shape)}")
    c = x.shape[1]
    with no_grad():
        if t.numel() and bool(((t < 0) | (t >= c)).any()):
            raise IndexError(f"multi_margin_loss: target classes must be in [0, {c})")
    xy = x.gather(1, t.unsqueeze(1))
    m = (margin - xy + x).clamp(min=0.0)
    if p == 2:
        m = m * m
    if weight is not None:
        m = m * weight.to(x.dtype)[t].unsqueeze(1)
    wrong = ones(tuple(x.shape), dtype=x.dtype).scatter_add(1, t.unsqueeze(1), -ones((x.shape[0], 1),
                                                                                            dtype=x.dtype))
    loss = (m * wrong).sum(1) / c
    return _reduce(loss if input.ndim == 2 else loss.reshape(()), reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin), target +1 or -1."""
    _check_reduction(reduction, "margin_ranking_loss")
    target = _broadcast_pair(input1, target, "margin_ranking_loss")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0.0), reduction)


def soft_margin_loss(input, target, reduction="mean"):
    """log(1 + exp(-target * input)), target +1 or -1."""
    _check_reduction(reduction, "soft_margin_loss")
    target = _check_pair(input, target, "soft_margin_loss")
    return _reduce(softplus(-target * input), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1 (rows of
    (N, D) inputs, or two (D,) vectors)."""
    _check_reduction(reduction, "cosine_embedding_loss")
    dim = input1.ndim - 1
    # (as PyTorch: eps added to the squared norms, not clamped)
    eps = 1e-12
    cos = (input1 * input2).sum(dim) / ((input1 * input1).sum(dim) + eps).sqrt() / \
        ((input2 * input2).sum(dim) + eps).sqrt()
    target = target.to(cos.dtype)
    loss = where(target > 0, 1 - cos, (cos - margin).clamp(min=0.0))
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    """max(0, d(a, p) - d(a, n) + margin) with d the p-norm distance of rows (pairwise_distance);
    swap=True uses min(d(a, n), d(p, n)) for the negative distance."""
    _check_reduction(reduction, "triplet_margin_loss")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp(min=0.0), reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 * (log(max(var, eps)) + (input - target)^2 / max(var, eps)) (+ 0.5 log(2 pi) with full):
    the negative log-likelihood of target under N(input, var)."""
    _check_reduction(reduction, "gaussian_nll_loss")
    target = _broadcast_pair(input, target, "gaussian_nll_loss")
    var = var if isinstance(var, Tensor) else tensor(float(var), dtype=input.dtype)
    with no_grad():
        if var.numel() and bool((var < 0).any()):
            raise ValueError("gaussian_nll_loss: var has negative entries")
    v = var.clamp(min=eps)
    loss = 0.5 * (v.log() + (input - target) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
    """exp(input) - target * input with log_input (input is log rate), else input - target * log(input
    + eps); full adds Stirling's term for target > 1."""
    _check_reduction(reduction, "poisson_nll_loss")
    target = _broadcast_pair(input, target, "poisson_nll_loss")
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        stirling = target * target.clamp(min=1.0).log() - target + 0.5 * (2 * math.pi * target.clamp(min=1.0)).log()
        loss = loss + where(target > 1, stirling, zeros_like(stirling))
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, reduction="mean"):
    """Per sample, the mean over classes of the binary cross-entropy of sigmoid(input) with the 0/1
    target (N, C)."""
    _check_reduction(reduction, "multilabel_soft_margin_loss")
    target = _check_pair(input, target, "multilabel_soft_margin_loss")
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.mean(input.ndim - 1), reduction)
