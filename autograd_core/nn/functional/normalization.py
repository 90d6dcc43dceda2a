"""Batch, layer, group and instance normalisation, and normalize."""
import numbers

import numpy as np

from ... import _core
from ...autograd.engine import grad
from ...autograd.function import Function
from ...autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from ._common import _check_float


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


def _layer_norm_composite(x, k, weight, bias, eps):
    """Layer norm over the last k dimensions in Tensor ops: not a second forward (the fused kernel,
    _core.layer_norm_forward, is the forward) but the differentiable form that double backward goes
    through."""
    dims = tuple(range(x.ndim - k, x.ndim))
    xc = _centered(x, dims)
    out = xc * ((xc * xc).mean(dims, keepdim=True) + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


class _LayerNorm(Function):
    """Layer norm as one graph node: the fused kernel forward (it keeps each row's mean and rstd) and
    backward; a double backward differentiates the composite form instead."""

    @staticmethod
    def forward(ctx, x, weight, bias, k, eps):
        out, mean, rstd = _core.layer_norm_forward(x, k, weight, bias, eps)
        ctx.save_for_backward(x, weight, bias, mean, rstd)
        ctx.k, ctx.eps = k, eps
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight, bias, mean, rstd = ctx.saved_tensors
        k, eps = ctx.k, ctx.eps
        need = ctx.needs_input_grad
        if is_grad_enabled():
            wanted = [t for t in (x, weight, bias) if t is not None and t.requires_grad]
            with enable_grad():
                out = _layer_norm_composite(x, k, weight, bias, eps)
                grads = iter(grad([out], wanted, [g], create_graph=True, allow_unused=True))
            return tuple(next(grads) if t is not None and t.requires_grad else None
                         for t in (x, weight, bias)) + (None, None)
        gx, gw, gb = _core.layer_norm_backward(x, g, mean, rstd, weight, k, need[0],
                                               weight is not None and need[1], bias is not None and need[2])
        return gx, gw, gb, None, None


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
    # each (sample, group) is a row normalised over its channels and positions: layer norm's kernel
    rows = input.reshape(n, num_groups, (c // num_groups) * _spatial_size(input))
    out = _LayerNorm.apply(rows, None, None, 1, float(eps))
    return _per_channel_affine(out.reshape(tuple(input.shape)), weight, bias)


def _spatial_size(x):
    size = 1
    for d in x.shape[2:]:
        size *= d
    return size


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
        # each (sample, channel) is a row normalised over its positions: layer norm's kernel
        count = _spatial_size(input)
        rows = input.reshape(input.shape[0], c, count)
        out = _LayerNorm.apply(rows, None, None, 1, float(eps)).reshape(tuple(input.shape))
        if running_mean is not None or running_var is not None:
            with no_grad():
                x = rows.detach()
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(x.mean(-1).mean(0) * momentum)
                if running_var is not None:
                    unbiased = x.var(-1, correction=0).mean(0) * (count / max(count - 1, 1))
                    running_var.mul_(1 - momentum).add_(unbiased * momentum)
        return _per_channel_affine(out, weight, bias)
    if running_mean is None or running_var is None:
        raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
    shape = (1, c) + (1,) * len(dims)
    mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    return _per_channel_affine((input - mean) / (var + eps).sqrt(), weight, bias)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2 over the last len(normalized_shape) dims) + eps) * weight; eps None: the
    machine epsilon of the input's dtype (as PyTorch)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise ValueError(f"rms_norm: expected input with shape [*, {', '.join(map(str, shape))}], but got input of "
                         f"size {tuple(input.shape)}")
    if eps is None:
        eps = float(np.finfo(input.dtype.numpy).eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return out * weight if weight is not None else out
