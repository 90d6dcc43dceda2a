"""ag.nn.utils: gradient clipping, parameter <-> vector conversion and L1/L2 penalty helpers;
weight_norm and spectral_norm (weight_norm.py: hook style; parametrizations.py: over parametrize.py);
ag.nn.utils.rnn.pad_sequence.

Bias-exclusion rule of the penalty helpers (the same one ag.optim's l1= option uses): a parameter
with ndim <= 1 (biases, norm scales) is not penalised; weight matrices and conv kernels are.
"""
import math

from ...autograd.grad_mode import no_grad
from ...dtypes import float64
from ...ops.creation import tensor
from ...ops.shape import cat, stack
from ...tensor import Tensor
from . import (  # noqa: F401
    parametrizations,
    parametrize,
    rnn,
)
from .weight_norm import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm  # noqa: F401


def _as_list(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so their joint norm is at most max_norm; returns the total norm
    (before clipping) as a 0-d tensor."""
    params = [p for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if not params:
        return tensor(0.0)
    with no_grad():
        grads = [p.grad.detach() for p in params]
        if norm_type == math.inf:
            norms = [g.abs().max() for g in grads]
            total = stack([n.to(float64) for n in norms]).max()
        else:
            total = stack([(g.abs() ** norm_type).sum().to(float64) for g in grads]).sum() ** (1.0 / norm_type)
        total_value = float(total.item())
        if error_if_nonfinite and not math.isfinite(total_value):
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
                               f"non-finite ({total_value}), so it cannot be clipped")
        coef = max_norm / (total_value + 1e-6)
        if coef < 1.0:
            for g in grads:
                g.mul_(coef)
    return total.to(params[0].grad.dtype)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    params = _as_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got an empty parameter list")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D vec into the parameters (in place)."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D Tensor, got "
                        f"{type(vec).__name__}{'' if not isinstance(vec, Tensor) else tuple(vec.shape)}")
    params = _as_list(parameters)
    total = sum(p.numel() for p in params)
    if vec.numel() != total:
        raise ValueError(f"vector_to_parameters: vector has {vec.numel()} elements, the parameters {total}")
    offset = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[offset:offset + n].reshape(tuple(p.shape)).to(p.dtype))
            offset += n


def _penalised(parameters):
    return [p for p in _as_list(parameters) if p.ndim > 1]


def l1_penalty(parameters):
    """sum |w| over the parameters with ndim > 1 (biases and other 1-D parameters excluded);
    differentiable. Add lam * l1_penalty(model.parameters()) to the loss for the lasso objective."""
    params = _penalised(parameters)
    if not params:
        return tensor(0.0)
    return stack([p.abs().sum() for p in params]).sum()


def l2_penalty(parameters):
    """sum w^2 over the parameters with ndim > 1 (biases excluded); differentiable. Note: no 1/2
    factor, so its gradient is 2 w (ridge: loss + lam * l2_penalty)."""
    params = _penalised(parameters)
    if not params:
        return tensor(0.0)
    return stack([(p * p).sum() for p in params]).sum()
