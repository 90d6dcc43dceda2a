"""ag.nn.functional: the functional form of every layer, activation and loss.

Activations with a C forward kernel are autograd Functions whose backward uses the fused C helper
when no double-backward is requested (grad mode off inside backward) and differentiable Tensor ops
otherwise, so create_graph=True still works. Batch norm (training) and softmax cross-entropy with
class indices run fused C kernels (csrc/nn.c) in the same way.
"""
import math
import numbers

import autograd_core as ag

from .. import _core
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..ops.conv import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    max_pool1d,
    max_pool2d,
)
from ..tensor import Tensor

_U = _core.UNARY_OPS
_B = _core.BINARY_OPS


def _check_tensor(x, name, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(x).__name__}")


def _check_float(x, op, name="input"):
    _check_tensor(x, name, op)
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating point {name}, got {x.dtype}")


# ---------------------------------------------------------------------------------------- linear
from ..ops.linalg import Linear as _Linear  # noqa: E402  (y = x @ W^T + b as one GEMM)

def linear(input, weight, bias=None):
    """y = input @ weight^T + bias; input (*, in_features), weight (out_features, in_features)."""
    _check_tensor(input, "input", "linear")
    if weight.ndim != 2:
        raise ValueError(f"linear: expected a 2-D weight, got shape {tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"linear: input of shape {tuple(input.shape)} has {input.shape[-1] if input.ndim else 0} "
                           f"features in its last dimension, but the weight expects in_features={weight.shape[1]} "
                           f"(weight shape {tuple(weight.shape)})")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {tuple(bias.shape)}, expected ({weight.shape[0]},)")
    if input.dtype != weight.dtype:
        raise TypeError(f"linear: input dtype {input.dtype} does not match weight dtype {weight.dtype}")
    if input.ndim == 2:
        return _Linear.apply(input, weight, bias)
    lead = tuple(input.shape[:-1])
    # (the row count spelled out: reshape(-1, 0) of an empty tensor is ambiguous)
    out = _Linear.apply(input.reshape(math.prod(lead), weight.shape[1]), weight, bias)
    return out.reshape(lead + (weight.shape[0],))


def bilinear(input1, input2, weight, bias=None):
    """y_k = x1^T W_k x2 + b_k; weight (out, in1, in2)."""
    y = ((input1.unsqueeze(-2).unsqueeze(-2) @ weight) * input2.unsqueeze(-2).unsqueeze(-2)).sum(-1)
    y = y.squeeze(-1)
    return y + bias if bias is not None else y


# ---------------------------------------------------------------------------------------- activations
def _maybe_inplace(input, inplace, fn, op):
    """fn(input), or with inplace=True, input itself overwritten with it, as PyTorch's in-place forms
    do: a leaf that requires grad raises, the version counter is bumped (a backward that saved the old
    values raises), and in a graph input becomes the output of the op."""
    if not inplace:
        return fn(input)
    return input._inplace_op(fn, op)


def relu(input, inplace=False):
    """max(x, 0); with inplace=True, written into input."""
    return _maybe_inplace(input, inplace, lambda x: x.relu(), "relu_")


def relu_(input):
    """In-place :func:`relu`: ``max(x, 0)`` written into ``input``, which is returned."""
    return relu(input, inplace=True)


def sigmoid(input):
    """The logistic sigmoid ``1 / (1 + exp(-x))``, elementwise; see :class:`~autograd_core.nn.Sigmoid`."""
    return input.sigmoid()


def tanh(input):
    """The hyperbolic tangent, elementwise; see :class:`~autograd_core.nn.Tanh`."""
    return input.tanh()


class _LeakyReLU(Function):
    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return _core.unary(_U["leaky_relu"], x, slope)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return ag.where(x > 0, g, g * ctx.slope), None


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``max(0, x) + negative_slope * min(0, x)``, elementwise; see :class:`~autograd_core.nn.LeakyReLU`."""
    _check_float(input, "leaky_relu")
    return _maybe_inplace(input, inplace, lambda x: _LeakyReLU.apply(x, float(negative_slope)), "leaky_relu_")


def leaky_relu_(input, negative_slope=0.01):
    """In-place :func:`leaky_relu`: ``max(0, x) + negative_slope * min(0, x)`` written into ``input``."""
    return leaky_relu(input, negative_slope, inplace=True)


class _NormalCDF(Function):
    """Phi(x) = 0.5 (1 + erf(x / sqrt 2)); used by the exact GELU's differentiable backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        e = _core.unary(_U["erf"], _core.unary(_U["affine"], x, 1 / math.sqrt(2.0), 0.0))
        return _core.unary(_U["affine"], e, 0.5, 0.5)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * _normal_pdf(x)


def _normal_pdf(x):
    return (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))


class _GELU(Function):
    @staticmethod
    def forward(ctx, x, tanh_approx):
        ctx.save_for_backward(x)
        ctx.tanh_approx = tanh_approx
        return _core.unary(_U["gelu_tanh" if tanh_approx else "gelu"], x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if not is_grad_enabled():
            return _core.binary(_B["gelu_tanh_bwd" if ctx.tanh_approx else "gelu_bwd"], x, g), None
        if ctx.tanh_approx:
            k = math.sqrt(2 / math.pi)
            t = ((x + x * x * x * 0.044715) * k).tanh()
            d = (t + 1) * 0.5 + x * 0.5 * (1 - t * t) * k * (x * x * (3 * 0.044715) + 1)
            return g * d, None
        return g * (_NormalCDF.apply(x) + x * _normal_pdf(x)), None


def gelu(input, approximate="none"):
    """x * Phi(x) (approximate='none') or its tanh approximation (approximate='tanh')."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    _check_float(input, "gelu")
    return _GELU.apply(input, approximate == "tanh")


class _SiLU(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _core.unary(_U["silu"], x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if not is_grad_enabled():
            return _core.binary(_B["silu_bwd"], x, g)
        s = x.sigmoid()
        return g * s * (1 + x * (1 - s))


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    _check_float(input, "silu")
    return _maybe_inplace(input, inplace, _SiLU.apply, "silu_")


class _ELU(Function):
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return _core.unary(_U["elu"], x, alpha)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if not is_grad_enabled() and ctx.alpha == 1.0:
            return _core.binary(_B["elu_bwd"], x, g), None
        return ag.where(x <= 0, g * (x.exp() * ctx.alpha), g), None  # (NaN: g, as PyTorch)


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    _check_float(input, "elu")
    return _maybe_inplace(input, inplace, lambda x: _ELU.apply(x, float(alpha)), "elu_")


def elu_(input, alpha=1.0):
    """In-place :func:`elu`: ``x if x > 0 else alpha * (exp(x) - 1)`` written into ``input``."""
    return elu(input, alpha, inplace=True)


class _Softplus(Function):
    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        return _core.unary(_U["softplus"], x, beta, threshold)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        beta, threshold = ctx.beta, ctx.threshold
        if not is_grad_enabled() and beta == 1.0 and threshold == 20.0:
            return _core.binary(_B["softplus_bwd"], x, g), None, None
        return ag.where(x * beta > threshold, g, g * (x * beta).sigmoid()), None, None


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, linear above beta x > threshold."""
    _check_float(input, "softplus")
    return _Softplus.apply(input, float(beta), float(threshold))


def softmax(input, dim=None, dtype=None):
    """``exp(x_i) / sum_j exp(x_j)`` along ``dim`` (computed with the maximum subtracted); with
    ``dtype``, the input is converted first. See :class:`~autograd_core.nn.Softmax`.

    Example:
        >>> F.softmax(ag.tensor([[0.0, 0.0]]), dim=1)
        tensor([[0.5000, 0.5000]])

    """
    if dim is None:
        raise TypeError("softmax: dim must be given (implicit dim choice is deprecated in PyTorch too)")
    if dtype is not None:
        input = input.to(dtype)
    return input.softmax(dim)


def log_softmax(input, dim=None, dtype=None):
    """``x_i - log(sum_j exp(x_j))`` along ``dim``, computed stably; with ``dtype``, the input is
    converted first. See :class:`~autograd_core.nn.LogSoftmax`.
    """
    if dim is None:
        raise TypeError("log_softmax: dim must be given")
    if dtype is not None:
        input = input.to(dtype)
    return input.log_softmax(dim)


def softmin(input, dim=None):
    """``softmax(-x)`` along ``dim``; see :class:`~autograd_core.nn.Softmin`."""
    return softmax(-input, dim)


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    return -softplus(-input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    r"""``x`` clamped to ``[min_val, max_val]``, elementwise; see :class:`~autograd_core.nn.Hardtanh`.

    .. math::
        \text{HardTanh}(x) = \min(\max(x, \text{min\_val}), \text{max\_val})

    Example:
        >>> nn.functional.hardtanh(ag.tensor([-2.0, 0.5, 3.0]))
        tensor([-1.0000,  0.5000,  1.0000])
    """
    return _maybe_inplace(input, inplace, lambda x: ag.hardtanh(x, min_val, max_val), "hardtanh_")


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place :func:`hardtanh`: ``x`` clamped to ``[min_val, max_val]`` and written into ``input``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """``min(max(x, 0), 6)``, elementwise; see :class:`~autograd_core.nn.ReLU6`.

    Example:
        >>> nn.functional.relu6(ag.tensor([-1.0, 3.0, 8.0]))
        tensor([0., 3., 6.])
    """
    return _maybe_inplace(input, inplace, lambda x: ag.relu6(x), "relu6_")


# ---------------------------------------------------------------------------------------- dropout
def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p (mask from the seeded generator) and scale the rest by
    1 / (1 - p); the identity when not training."""
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    _check_float(input, "dropout")
    if p == 1.0:
        return _maybe_inplace(input, inplace, lambda x: x * 0.0, "dropout_")
    with no_grad():
        mask = ag.empty(tuple(input.shape), dtype=input.dtype)
        _core.bernoulli_(mask, 1.0 - p)
        mask.mul_(1.0 / (1.0 - p))
    return _maybe_inplace(input, inplace, lambda x: x * mask, "dropout_")


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of a ``(N, C, L)`` or ``(C, L)`` input, each with probability ``p``, and
    scale the kept ones by ``1 / (1 - p)``; the identity when not training. See
    :class:`~autograd_core.nn.Dropout1d`.

    Args:
        input (Tensor): ``(N, C, L)`` or ``(C, L)``.
        p (float): probability of zeroing a channel, in ``[0, 1]``.
        training (bool): apply dropout only when true.
        inplace (bool): write the result into ``input``.
    """
    return _channel_dropout(input, p, training, inplace, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of a ``(N, C, H, W)`` or ``(C, H, W)`` input, each with probability ``p``,
    and scale the kept ones by ``1 / (1 - p)``; the identity when not training. See
    :class:`~autograd_core.nn.Dropout2d`.

    Args:
        input (Tensor): ``(N, C, H, W)`` or ``(C, H, W)``.
        p (float): probability of zeroing a channel, in ``[0, 1]``.
        training (bool): apply dropout only when true.
        inplace (bool): write the result into ``input``.
    """
    return _channel_dropout(input, p, training, inplace, "dropout2d")


def _channel_dropout(input, p, training, inplace, op):
    """Zero whole channels of (N, C, *) input."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _maybe_inplace(input, inplace, lambda x: x * 0.0, op + "_")
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    with no_grad():
        mask = ag.empty(shape, dtype=input.dtype)
        _core.bernoulli_(mask, 1.0 - p)
        mask.mul_(1.0 / (1.0 - p))
    return _maybe_inplace(input, inplace, lambda x: x * mask, op + "_")


# ---------------------------------------------------------------------------------------- normalisation
class _BatchNormTrain(Function):
    """Training-mode batch norm with batch statistics; stats (mean, biased var) go to `stats`."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps, stats):
        out, mean, var, invstd = _core.batch_norm_forward(x, weight, bias, eps)
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.eps = eps
        ctx.has_bias = bias is not None
        stats.append((mean, var))
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight, mean, invstd = ctx.saved_tensors
        need = ctx.needs_input_grad
        if not is_grad_enabled():
            gx, gw, gb = _core.batch_norm_backward(x, g, mean, invstd, weight, need[0],
                                                   weight is not None and need[1], ctx.has_bias and need[2])
            return gx, gw, gb, None, None
        # differentiable form (double backward): statistics recomputed from x with Tensor ops
        dims = (0,) + tuple(range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        mu = x.mean(dims, keepdim=True)
        xc = x - mu
        inv = ((xc * xc).mean(dims, keepdim=True) + ctx.eps).rsqrt()
        xhat = xc * inv
        w = weight.reshape(shape) if weight is not None else 1.0
        gx = w * inv * (g - g.mean(dims, keepdim=True) - xhat * (g * xhat).mean(dims, keepdim=True))
        gw = (g * xhat).sum(dims) if weight is not None else None
        gb = g.sum(dims) if ctx.has_bias else None
        return gx, gw, gb, None, None


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """Normalise (N, C, *) input per channel. training=True uses batch statistics and updates the
    running ones in place (running_var gets the unbiased variance); else the running statistics."""
    _check_float(input, "batch_norm")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got {tuple(input.shape)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"batch_norm: input of shape {tuple(input.shape)} has {c} channels but {name} "
                             f"has shape {tuple(t.shape)}")
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training:
        count = input.numel() // c if c else 0
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input "
                             f"of shape {tuple(input.shape)}")
        stats = []
        out = _BatchNormTrain.apply(input, weight, bias, float(eps), stats)
        if running_mean is not None or running_var is not None:
            mean, var = stats[0]
            with no_grad():
                m = float(momentum)
                if running_mean is not None:
                    running_mean.mul_(1 - m).add_(mean.to(running_mean.dtype) * m)
                if running_var is not None:
                    unbiased = var * (count / (count - 1))
                    running_var.mul_(1 - m).add_(unbiased.to(running_var.dtype) * m)
        return out
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are required when training=False")
    scale = (running_var + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return input * scale.reshape(shape) + shift.reshape(shape)


def _centered(x, dims):
    """x minus its mean over dims, refined once by the mean of the first deviations. A row of equal
    values then gives exactly 0 (as PyTorch's layer and group norm do): the rounded mean can be an ulp
    or two off, and those few-bit deviations sum exactly, so the correction removes them."""
    xc = x - x.mean(dims, keepdim=True)
    return xc - xc.mean(dims, keepdim=True)


class _LayerNorm(Function):
    """Layer norm as one graph node with the closed-form backward; double backward differentiates
    the composite form instead."""

    @staticmethod
    def forward(ctx, x, weight, bias, k, eps):
        dims = tuple(range(x.ndim - k, x.ndim))
        xc = _centered(x, dims)
        inv = ((xc * xc).mean(dims, keepdim=True) + eps).rsqrt()
        xhat = xc * inv
        out = xhat * weight if weight is not None else xhat
        if bias is not None:
            out = out + bias
        ctx.save_for_backward(x, weight, bias, xhat, inv)
        ctx.k, ctx.eps = k, eps
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight, bias, xhat, inv = ctx.saved_tensors
        k, eps = ctx.k, ctx.eps
        need = ctx.needs_input_grad
        if is_grad_enabled():
            wanted = [t for t in (x, weight, bias) if t is not None and t.requires_grad]
            with ag.enable_grad():
                out = _layer_norm_composite(x, k, weight, bias, eps)
                grads = iter(ag.autograd.grad([out], wanted, [g], create_graph=True, allow_unused=True))
            return tuple(next(grads) if t is not None and t.requires_grad else None
                         for t in (x, weight, bias)) + (None, None)
        dims = tuple(range(x.ndim - k, x.ndim))
        lead = tuple(range(x.ndim - k))
        gx = gw = gb = None
        if need[0]:
            gxhat = g * weight if weight is not None else g
            gx = inv * (gxhat - gxhat.mean(dims, keepdim=True) - xhat * (gxhat * xhat).mean(dims, keepdim=True))
        if weight is not None and need[1]:
            gw = (g * xhat).sum(lead) if lead else g * xhat
        if bias is not None and need[2]:
            gb = g.sum(lead) if lead else g
        return gx, gw, gb, None, None


def _layer_norm_composite(input, k, weight, bias, eps):
    dims = tuple(range(input.ndim - k, input.ndim))
    xc = _centered(input, dims)
    var = (xc * xc).mean(dims, keepdim=True)
    out = xc * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing dimensions given by normalized_shape (biased variance)."""
    _check_float(input, "layer_norm")
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise ValueError(f"layer_norm: input of shape {tuple(input.shape)} does not end with normalized_shape "
                         f"{normalized_shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized_shape:
            raise ValueError(f"layer_norm: {name} of shape {tuple(t.shape)}, expected {normalized_shape}")
    return _LayerNorm.apply(input, weight, bias, k, float(eps))


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """x / max(||x||_p, eps) along dim."""
    # (the norm kernel rescales: sqrt(sum(x * x)) underflows to 0 for tiny x and overflows for huge x)
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise (N, C, *) input over each group of C / num_groups channels together with the spatial
    dims (biased variance), then scale and shift per channel by weight and bias (shape (C,))."""
    _check_float(input, "group_norm")
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected an input of shape (N, C, *), got {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if not isinstance(num_groups, numbers.Integral) or num_groups <= 0 or c % num_groups:
        raise ValueError(f"group_norm: num_channels {c} must be divisible by num_groups {num_groups} (input shape "
                         f"{tuple(input.shape)})")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"group_norm: {name} of shape {tuple(t.shape)}, expected ({c},)")
    x = input.reshape(n, num_groups, -1)
    var = x.var(-1, keepdim=True, correction=0)
    out = (_centered(x, (-1,)) / (var + eps).sqrt()).reshape(tuple(input.shape))
    return _per_channel_affine(out, weight, bias)


def _per_channel_affine(out, weight, bias):
    shape = (1, out.shape[1]) + (1,) * (out.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each (sample, channel) of (N, C, *) input over its spatial dims. With running
    statistics: use_input_stats=True updates them (momentum; the unbiased variance), False
    normalises with them instead (evaluation)."""
    _check_float(input, "instance_norm")
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, *spatial), got {tuple(input.shape)}")
    c = input.shape[1]
    dims = tuple(range(2, input.ndim))
    if use_input_stats:
        mean = input.mean(dims, keepdim=True)
        var = input.var(dims, keepdim=True, correction=0)
        if running_mean is not None or running_var is not None:
            count = 1
            for d in dims:
                count *= input.shape[d]
            with ag.no_grad():
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(mean.detach().mean(0).reshape(c) * momentum)
                if running_var is not None:
                    unbiased = var.detach().mean(0).reshape(c) * (count / max(count - 1, 1))
                    running_var.mul_(1 - momentum).add_(unbiased * momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
        shape = (1, c) + (1,) * len(dims)
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    return _per_channel_affine((input - mean) / (var + eps).sqrt(), weight, bias)


# ---------------------------------------------------------------------------------------- embedding
def embedding(input, weight, padding_idx=None, max_norm=None):
    """Rows of weight (num_embeddings, dim) picked by the integer indices in input; the padding_idx row
    receives no gradient."""
    _check_tensor(input, "input", "embedding")
    if input.dtype.is_floating_point or input.dtype == ag.bool:
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
        grad = ag.zeros((ctx.num, g.shape[1]), dtype=g.dtype).index_add(0, idx, g)
        return grad, None, None


def one_hot(tensor, num_classes=-1):
    """int64 (*, num_classes) with a 1 at each index; num_classes=-1 means max + 1."""
    _check_tensor(tensor, "tensor", "one_hot")
    if tensor.dtype != ag.int64:
        raise TypeError(f"one_hot: expected an int64 tensor of class indices, got {tensor.dtype}")
    if tensor.numel() and int(tensor.min()) < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {int(tensor.min())}")
    top = int(tensor.max()) + 1 if tensor.numel() else 0
    if num_classes == -1:
        num_classes = top
    elif top > num_classes:
        raise ValueError(f"one_hot: class value {top - 1} is out of range for num_classes={num_classes}")
    return (tensor.unsqueeze(-1) == ag.arange(num_classes)).long()


# ---------------------------------------------------------------------------------------- padding
def pad(input, pad, mode="constant", value=0.0):
    """Pad the last len(pad) // 2 dimensions: pad = (left_last, right_last, left_prev, right_prev, ...).
    mode 'constant' (negative pads crop), 'reflect', 'replicate' or 'circular'."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length {len(pad)} must be even and at most 2 * ndim "
                         f"({2 * input.ndim}) for input of shape {tuple(input.shape)}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: unknown mode {mode!r}; expected constant, reflect, replicate or circular")
    out = input
    for i in range(len(pad) // 2):
        dim = input.ndim - 1 - i
        left, right = pad[2 * i], pad[2 * i + 1]
        if left == 0 and right == 0:
            continue
        if mode == "constant":
            out = _pad_constant(out, dim, left, right, value)
        else:
            out = out.index_select(dim, _pad_index(out.shape[dim], left, right, mode))
    return out


def _pad_constant(x, dim, left, right, value):
    size = x.shape[dim]
    if left < 0 or right < 0:
        start, stop = max(-left, 0), size - max(-right, 0)
        if stop < start:
            raise ValueError(f"pad: cropping ({left}, {right}) removes more than the {size} elements of dim {dim}")
        idx = [slice(None)] * x.ndim
        idx[dim] = slice(start, stop)
        x = x[tuple(idx)]
        left, right = max(left, 0), max(right, 0)
    parts = []
    for amount in (left, None, right):
        if amount is None:
            parts.append(x)
        elif amount > 0:
            shape = list(x.shape)
            shape[dim] = amount
            parts.append(ag.full(tuple(shape), value, dtype=x.dtype))
    return ag.cat(parts, dim) if len(parts) > 1 else x


def _pad_index(size, left, right, mode):
    import numpy as np
    idx = np.arange(-left, size + right)
    if mode == "replicate":
        idx = np.clip(idx, 0, size - 1)
    elif mode == "circular":
        # a negative pad crops first, and the other side then wraps around the cropped part (as PyTorch)
        lo, hi = max(-left, 0), size - max(-right, 0)
        if hi < lo or max(left, 0) > hi - lo or max(right, 0) > hi - lo:
            raise ValueError(f"pad: circular padding ({left}, {right}) larger than the dimension size {size} "
                             f"(after cropping: {max(hi - lo, 0)})")
        idx = lo + (np.arange(-max(left, 0), hi - lo + max(right, 0)) % max(hi - lo, 1))
    else:
        if left >= size or right >= size:
            raise ValueError(f"pad: reflect padding ({left}, {right}) must be smaller than the dimension "
                             f"size {size}")
        period = 2 * (size - 1) if size > 1 else 1
        idx = np.abs(idx) % period
        idx = np.where(idx >= size, period - idx, idx)
    return ag.tensor(idx.astype(np.int64))


# ---------------------------------------------------------------------------------------- more activations
def mish(input, inplace=False):
    r"""Mish, elementwise: :math:`x \tanh(\operatorname{softplus}(x))`; see :class:`~autograd_core.nn.Mish`.

    Example:
        >>> nn.functional.mish(ag.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8651])
    """
    return _maybe_inplace(input, inplace, ag.mish, "mish_")


def hardswish(input, inplace=False):
    r"""Hard swish, elementwise: :math:`x \cdot \min(\max(x + 3, 0), 6) / 6`; see
    :class:`~autograd_core.nn.Hardswish`.

    Example:
        >>> nn.functional.hardswish(ag.tensor([-4.0, 1.0, 4.0]))
        tensor([-0.0000, 0.6667, 4.0000])
    """
    return _maybe_inplace(input, inplace, ag.hardswish, "hardswish_")


def hardsigmoid(input, inplace=False):
    r"""Hard sigmoid, elementwise: :math:`\min(\max(x / 6 + 1/2, 0), 1)`; see
    :class:`~autograd_core.nn.Hardsigmoid`.

    Example:
        >>> nn.functional.hardsigmoid(ag.tensor([-4.0, 0.0, 4.0]))
        tensor([0.0000, 0.5000, 1.0000])
    """
    return _maybe_inplace(input, inplace, ag.hardsigmoid, "hardsigmoid_")


def softsign(input):
    """``x / (1 + abs(x))``, elementwise; see :class:`~autograd_core.nn.Softsign`."""
    return ag.softsign(input)


def tanhshrink(input):
    """``x - tanh(x)``, elementwise; see :class:`~autograd_core.nn.Tanhshrink`."""
    return ag.tanhshrink(input)


def selu(input, inplace=False):
    r"""SELU, elementwise: :math:`\lambda (\max(0, x) + \min(0, \alpha (e^x - 1)))` with
    :math:`\alpha \approx 1.6733` and :math:`\lambda \approx 1.0507`; see :class:`~autograd_core.nn.SELU`.
    """
    return _maybe_inplace(input, inplace, ag.selu, "selu_")


def celu(input, alpha=1.0, inplace=False):
    r"""CELU, elementwise: :math:`\max(0, x) + \min(0, \alpha (e^{x/\alpha} - 1))`; see
    :class:`~autograd_core.nn.CELU`.
    """
    return _maybe_inplace(input, inplace, lambda x: ag.celu(x, alpha), "celu_")


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be nonnegative, got {lambd}")
    # (inside the band is tested, not outside: a NaN is outside, keeps its value and gets the gradient)
    inside = (input >= -lambd) & (input <= lambd)
    return ag.where(inside, input * 0, input - lambd * input.sign())


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return ag.where((input >= -lambd) & (input <= lambd), input * 0, input)


def _threshold(x, limit, value):
    return ag.where(x <= limit, ag.full_like(x, value), x)  # (NaN > limit is false: NaN must stay NaN)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value (NaN stays NaN)."""
    return _maybe_inplace(input, inplace, lambda x: _threshold(x, threshold, value), "threshold_")


def threshold_(input, threshold, value):
    """In-place :func:`threshold`: ``x`` where ``x > threshold``, else ``value``, written into ``input``."""
    return _maybe_inplace(input, True, lambda x: _threshold(x, threshold, value), "threshold_")


def glu(input, dim=-1):
    """a * sigmoid(b) for the two halves a, b of input along dim (which must have even size)."""
    n = input.shape[dim]
    if n % 2:
        raise ValueError(f"glu: dimension {dim} of shape {tuple(input.shape)} must have an even size, got {n}")
    a, b = input.split(n // 2, dim)
    return a * b.sigmoid()


def prelu(input, weight):
    """max(0, x) + weight * min(0, x), weight of one value or one per channel (dim 1)."""
    if weight.numel() != 1:
        c = input.shape[1] if input.ndim >= 2 else -1
        if weight.ndim != 1 or weight.shape[0] != c:
            raise ValueError(f"prelu: weight of shape {tuple(weight.shape)} must have 1 element or one per channel "
                             f"(dim 1 of input shape {tuple(input.shape)})")
        w = weight.reshape((1, c) + (1,) * (input.ndim - 2))
    else:
        w = weight.reshape(())
    # (x > 0, not >= 0: at the kink the input's gradient is the weight, as in PyTorch)
    return ag.where(input > 0, input, input * w)


# ---------------------------------------------------------------------------------------- resizing
_INTERP_DIMS = {"nearest": (1, 2), "linear": (1,), "bilinear": (2,)}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """Resize the spatial dims of (N, C, L) or (N, C, H, W) input, as PyTorch: mode 'nearest'
    (1-d or 2-d), 'linear' (1-d) or 'bilinear' (2-d). Give the output `size` (an int or one per
    spatial dim) or `scale_factor` (output = floor(input * factor)). align_corners=True (linear
    modes only) maps the corner pixels' centres onto each other; False (the default) maps the
    corners' edges, so a 2x upsample repeats no pixel exactly. With scale_factor the source
    coordinate uses 1 / scale_factor unless recompute_scale_factor=True (then input / output size).
    Differentiable: the backward scatters the gradient onto the source pixels by the same weights."""
    if mode not in _INTERP_DIMS:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (nearest, linear, bilinear)")
    nsp = input.dim() - 2
    if nsp not in _INTERP_DIMS[mode]:
        want = " or ".join(f"{d + 2}-d" for d in _INTERP_DIMS[mode])
        raise ValueError(f"interpolate: mode {mode!r} needs a {want} input (N, C, spatial...), got shape "
                         f"{tuple(input.shape)}")
    if align_corners is not None and mode == "nearest":
        raise ValueError("interpolate: align_corners can only be set with the interpolating modes linear and "
                         "bilinear")
    align_corners = bool(align_corners)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size or scale_factor")
    in_sizes = tuple(input.shape[2:])

    def per_dim(v, name):
        vals = tuple(v) if isinstance(v, (tuple, list)) else (v,) * nsp
        if len(vals) != nsp:
            raise ValueError(f"interpolate: {name} has {len(vals)} entries for an input with {nsp} spatial "
                             f"dims, shape {tuple(input.shape)}")
        return vals

    if size is not None:
        out_sizes = tuple(int(v) for v in per_dim(size, "size"))
        scales = [None] * nsp
    else:
        factors = tuple(float(v) for v in per_dim(scale_factor, "scale_factor"))
        if any(not f > 0 for f in factors):
            raise ValueError(f"interpolate: scale_factor must be positive, got {scale_factor}")
        out_sizes = tuple(int(math.floor(n * f)) for n, f in zip(in_sizes, factors))
        scales = [None if recompute_scale_factor else 1.0 / f for f in factors]
    if any(o <= 0 for o in out_sizes):
        raise ValueError(f"interpolate: the output size {out_sizes} must be positive (input spatial size "
                         f"{in_sizes})")
    out = input
    for k, (n_in, n_out, scale) in enumerate(zip(in_sizes, out_sizes, scales)):
        out = _resize_dim(out, 2 + k, n_in, n_out, scale, mode, align_corners, nsp)
    return out.clone() if out is input else out


def _resize_dim(x, dim, n_in, n_out, scale, mode, align_corners, nsp):
    """Resize one dim of x from n_in to n_out entries (separable: bilinear is linear along H, then W)."""
    import numpy as np

    # PyTorch keeps a dim whose size does not change as it is, whatever scale_factor says, in its
    # linear modes and in 2-d nearest (its 1-d nearest maps through the scale all the same)
    if n_out == n_in and (mode != "nearest" or nsp == 2):
        return x
    if mode == "nearest":
        # in float32, as PyTorch computes it for every dtype: floor(23 * float32(14 / 46)) is 6, not 7
        ratio = np.float32(n_in / n_out if scale is None else scale)
        src = np.minimum(np.floor(np.arange(n_out, dtype=np.float32) * ratio).astype(np.int64), n_in - 1)
        return x.index_select(dim, ag.tensor(src))
    if align_corners:
        ratio = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        pos = np.arange(n_out) * ratio
    else:
        ratio = n_in / n_out if scale is None else scale
        pos = np.maximum((np.arange(n_out) + 0.5) * ratio - 0.5, 0.0)
    i0 = np.minimum(np.floor(pos).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w1 = pos - i0
    shape = [1] * x.dim()
    shape[dim] = n_out
    w1 = ag.tensor(w1.reshape(shape), dtype=x.dtype)
    lo, hi = x.index_select(dim, ag.tensor(i0)), x.index_select(dim, ag.tensor(i1))
    return lo + (hi - lo) * w1


# ---------------------------------------------------------------------------------------- attention
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
    scores = (query @ key.transpose(-2, -1)) * scale
    # a bool mask is added as 0 / -inf, as PyTorch does (so an inf score at a masked place gives NaN)
    if is_causal:
        scores = scores + ag.where(_causal_mask(L, S), 0.0, float("-inf")).to(scores.dtype)
    if attn_mask is not None:
        if attn_mask.dtype == ag.bool:
            scores = scores + ag.where(attn_mask, 0.0, float("-inf")).to(scores.dtype)
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
    import numpy as np
    return ag.tensor(np.tril(np.ones((L, S), dtype=bool)))


# ---------------------------------------------------------------------------------------- losses
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
    loss = ag.where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)  (= delta * smooth_l1 with beta=delta)."""
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    target = _check_pair(input, target, "huber_loss")
    d = (input - target).abs()
    loss = ag.where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta)
    return _reduce(loss, reduction)


def _apply_weight(loss, weight, op):
    if weight is None:
        return loss
    try:
        ag._core.broadcast_shape(tuple(weight.shape), tuple(loss.shape), op)
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
        safe_t = ag.where(valid, target, ag.zeros_like(target))
        onehot = (safe_t.unsqueeze(1) == ag.arange(c)).to(x.dtype)
        w = weight.detach() if weight is not None else ag.ones(c, dtype=x.dtype)
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
    if target.dtype.is_floating_point or target.dtype == ag.bool:
        raise TypeError(f"{op}: expected integer class indices (int64) as target, got {target.dtype}")
    if input.ndim == 1:
        expected = ()
    else:
        expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(f"{op}: expected target of shape {expected} for input of shape {tuple(input.shape)}, "
                         f"got {tuple(target.shape)}")
    return target.long() if target.dtype != ag.int64 else target


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
        safe = ag.where(valid, idx, ag.zeros_like(idx))
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
    safe = ag.where(valid, idx, ag.zeros_like(idx))
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
        safe = ag.where(positive, target, ag.ones_like(target))
        xlogx = ag.where(positive, target * safe.log(), ag.zeros_like(target))  # 0 log 0 = 0
        loss = xlogx - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


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
        x1, x2 = ag.broadcast_tensors(x1, x2)
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


# ---------------------------------------------------------------------------------------- more losses
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
    wrong = ag.ones(tuple(x.shape), dtype=x.dtype).scatter_add(1, t.unsqueeze(1), -ag.ones((x.shape[0], 1),
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
    loss = ag.where(target > 0, 1 - cos, (cos - margin).clamp(min=0.0))
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    """max(0, d(a, p) - d(a, n) + margin) with d the p-norm distance of rows (pairwise_distance);
    swap=True uses min(d(a, n), d(p, n)) for the negative distance."""
    _check_reduction(reduction, "triplet_margin_loss")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ag.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp(min=0.0), reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 * (log(max(var, eps)) + (input - target)^2 / max(var, eps)) (+ 0.5 log(2 pi) with full):
    the negative log-likelihood of target under N(input, var)."""
    _check_reduction(reduction, "gaussian_nll_loss")
    target = _broadcast_pair(input, target, "gaussian_nll_loss")
    var = var if isinstance(var, Tensor) else ag.tensor(float(var), dtype=input.dtype)
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
        loss = loss + ag.where(target > 1, stirling, ag.zeros_like(stirling))
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


# ---------------------------------------------------------------------------------------- distances
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
        safe = ag.where(sq > 0, sq, ag.ones_like(sq))
        return ag.where(sq > 0, safe.sqrt(), ag.zeros_like(sq))
    if p == 1.0:
        return d.abs().sum(-1)
    if p == float("inf"):
        return d.abs().amax(-1)
    if p == 0:
        return (d != 0).to(x1.dtype).sum(-1)
    return d.norm(p, -1)


# ---------------------------------------------------------------------------------------- gumbel-softmax
def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Samples from the Gumbel-softmax (Concrete) distribution: softmax((logits + g) / tau) with g
    standard Gumbel noise. hard=True returns one-hot samples whose gradient is the soft sample's
    (the straight-through estimator)."""
    _check_tensor(logits, "logits", "gumbel_softmax")
    if tau <= 0:
        raise ValueError(f"gumbel_softmax: tau must be positive, got {tau}")
    gumbels = -ag.empty(tuple(logits.shape), dtype=logits.dtype).exponential_().log()
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.detach().argmax(dim, keepdim=True)
    y_hard = ag.zeros_like(y_soft).scatter(dim, index, value=1.0)
    return y_hard - y_soft.detach() + y_soft


# the functional forms of layers defined in their own files
from .fold import fold, unfold  # noqa: F401
from .normalization import rms_norm  # noqa: F401
from .pixelshuffle import pixel_shuffle, pixel_unshuffle  # noqa: F401
from .sparse import embedding_bag  # noqa: F401
from .unpool import max_unpool1d, max_unpool2d  # noqa: F401
