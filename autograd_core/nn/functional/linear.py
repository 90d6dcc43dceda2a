"""linear and bilinear: the functional forms of nn.Linear and nn.Bilinear."""
import math

from ...ops.linalg import Linear as _Linear  # y = x @ W^T + b as one GEMM
from ._common import _check_tensor


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
