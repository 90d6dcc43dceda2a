"""ag.nn.init: in-place initialisers with PyTorch's fan and gain rules.

Every function fills its tensor without recording a graph and returns it. Random draws come from the
seeded generator, so `ag.manual_seed(s)` makes them reproducible.
"""
import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..ops.creation import from_numpy, randn


def _c_array(a):
    """C-contiguous array keeping 0-d arrays 0-d (np.ascontiguousarray makes them 1-d)."""
    a = np.asarray(a)
    return a if a.flags.c_contiguous else a.copy(order="C")



def calculate_gain(nonlinearity, param=None):
    """Recommended gain for an activation: 1 for linear/conv/sigmoid, 5/3 tanh, sqrt(2) relu,
    sqrt(2 / (1 + slope^2)) leaky_relu (slope 0.01 by default), 3/4 selu."""
    linear_fns = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d")
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (weight layout
    (out, in, *kernel))."""
    if tensor.ndim < 2:
        raise ValueError(f"init: fan in and fan out can not be computed for a tensor with fewer than 2 "
                         f"dimensions (got shape {tuple(tensor.shape)})")
    receptive = 1
    for s in tuple(tensor.shape)[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode {mode!r} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill ``tensor`` in place with values drawn from the uniform distribution :math:`U(a, b)`,
    without recording the fill in the graph; returns it.

    Args:
        tensor (Tensor): the tensor to fill.
        a (float): lower bound. b (float): upper bound.
        generator (Generator, optional): the random stream; the global one when omitted.

    Example:
        >>> w = nn.init.uniform_(ag.empty(2, 3), -0.1, 0.1)
        >>> bool(((w >= -0.1) & (w < 0.1)).all())
        True
    """
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    r"""Fill ``tensor`` in place with values drawn from the normal distribution
    :math:`\mathcal{N}(\text{mean}, \text{std}^2)`, without recording the fill in the graph;
    returns it.

    Args:
        tensor (Tensor): the tensor to fill.
        mean (float): the mean. std (float): the standard deviation.
        generator (Generator, optional): the random stream; the global one when omitted.

    Example:
        >>> nn.init.normal_(ag.empty(2, 3), std=0.02).shape
        Size([2, 3])
    """
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor, val):
    """Fill ``tensor`` in place with ``val``; returns it.

    Example:
        >>> nn.init.constant_(ag.empty(3), 0.5)
        tensor([0.5000, 0.5000, 0.5000])
    """
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor):
    """Fill ``tensor`` in place with zeros; returns it."""
    with no_grad():
        return tensor.zero_()


def ones_(tensor):
    """Fill ``tensor`` in place with ones; returns it."""
    return constant_(tensor, 1.0)


def eye_(tensor):
    """Fill the 2-d ``tensor`` in place with the identity (ones on the diagonal, also when not
    square); returns it.

    Example:
        >>> nn.init.eye_(ag.empty(2, 3))
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tuple(tensor.shape)}")
    with no_grad():
        value = from_numpy(np.eye(*tuple(tensor.shape))).to(tensor.dtype)
        return tensor.copy_(value)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound), bound = gain * sqrt(3 / fan); Linear's default uses a = sqrt(5)."""
    if 0 in tuple(tensor.shape):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2), std = gain / sqrt(fan)."""
    if 0 in tuple(tensor.shape):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1.0, generator=None):
    """A (semi-)orthogonal matrix from the QR decomposition of a seeded normal draw, sign-corrected
    so the distribution is uniform (Haar); tensors with ndim > 2 are flattened to (size(0), -1)."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = randn(rows, cols, dtype=tensor.dtype, generator=generator).detach().numpy().astype(np.float64)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    d = np.sign(np.diag(r))
    d[d == 0] = 1.0
    q = q * d
    if rows < cols:
        q = q.T
    q = _c_array((q * gain).reshape(tuple(tensor.shape)))
    with no_grad():
        return tensor.copy_(from_numpy(q).to(tensor.dtype))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std^2) truncated to [a, b] by redrawing the values that fall outside."""
    with no_grad():
        tensor.normal_(mean, std, generator=generator)
        values = tensor.detach().numpy().copy()
        bad = (values < a) | (values > b)
        for _ in range(100):
            if not bad.any():
                break
            redraw = tensor.detach().clone().normal_(mean, std, generator=generator).numpy()
            values[bad] = redraw[bad]
            bad = (values < a) | (values > b)
        values = np.clip(values, a, b)
        return tensor.copy_(from_numpy(_c_array(values)))
