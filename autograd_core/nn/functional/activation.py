"""Activations, softmax and its relatives, and gumbel_softmax.

The activations are the ops of ops/unary.py: where the signatures agree they are the same function
(``F.gelu is ag.gelu``), and where PyTorch's functional form has ``inplace=`` it is a wrapper that
writes the op's result into the input. Like PyTorch's, the float activations (gelu, silu, elu,
softplus, leaky_relu, mish, ...) raise TypeError on integer tensors.
"""
from ...ops import unary
from ...ops.creation import empty, full_like, zeros_like
from ...ops.unary import where
from ._common import _check_tensor, _maybe_inplace

# the ops themselves are the functional forms where PyTorch's signatures agree
gelu, logsigmoid, sigmoid, softplus = unary.gelu, unary.logsigmoid, unary.sigmoid, unary.softplus
softsign, tanh, tanhshrink = unary.softsign, unary.tanh, unary.tanhshrink


def relu(input, inplace=False):
    """max(x, 0); with inplace=True, written into input."""
    return _maybe_inplace(input, inplace, lambda x: x.relu(), "relu_")


def relu_(input):
    """In-place :func:`relu`: ``max(x, 0)`` written into ``input``, which is returned."""
    return relu(input, inplace=True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``max(0, x) + negative_slope * min(0, x)``, elementwise; see :class:`~autograd_core.nn.LeakyReLU`."""
    return _maybe_inplace(input, inplace, lambda x: unary.leaky_relu(x, negative_slope), "leaky_relu_")


def leaky_relu_(input, negative_slope=0.01):
    """In-place :func:`leaky_relu`: ``max(0, x) + negative_slope * min(0, x)`` written into ``input``."""
    return leaky_relu(input, negative_slope, inplace=True)


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    return _maybe_inplace(input, inplace, unary.silu, "silu_")


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return _maybe_inplace(input, inplace, lambda x: unary.elu(x, alpha), "elu_")


def elu_(input, alpha=1.0):
    """In-place :func:`elu`: ``x if x > 0 else alpha * (exp(x) - 1)`` written into ``input``."""
    return elu(input, alpha, inplace=True)


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


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    r"""``x`` clamped to ``[min_val, max_val]``, elementwise; see :class:`~autograd_core.nn.Hardtanh`.

    .. math::
        \text{HardTanh}(x) = \min(\max(x, \text{min\_val}), \text{max\_val})

    Example:
        >>> nn.functional.hardtanh(ag.tensor([-2.0, 0.5, 3.0]))
        tensor([-1.0000,  0.5000,  1.0000])
    """
    return _maybe_inplace(input, inplace, lambda x: unary.hardtanh(x, min_val, max_val), "hardtanh_")


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place :func:`hardtanh`: ``x`` clamped to ``[min_val, max_val]`` and written into ``input``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """``min(max(x, 0), 6)``, elementwise; see :class:`~autograd_core.nn.ReLU6`.

    Example:
        >>> nn.functional.relu6(ag.tensor([-1.0, 3.0, 8.0]))
        tensor([0., 3., 6.])
    """
    return _maybe_inplace(input, inplace, lambda x: unary.relu6(x), "relu6_")


def mish(input, inplace=False):
    r"""Mish, elementwise: :math:`x \tanh(\operatorname{softplus}(x))`; see :class:`~autograd_core.nn.Mish`.

    Example:
        >>> nn.functional.mish(ag.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8651])
    """
    return _maybe_inplace(input, inplace, unary.mish, "mish_")


def hardswish(input, inplace=False):
    r"""Hard swish, elementwise: :math:`x \cdot \min(\max(x + 3, 0), 6) / 6`; see
    :class:`~autograd_core.nn.Hardswish`.

    Example:
        >>> nn.functional.hardswish(ag.tensor([-4.0, 1.0, 4.0]))
        tensor([-0.0000, 0.6667, 4.0000])
    """
    return _maybe_inplace(input, inplace, unary.hardswish, "hardswish_")


def hardsigmoid(input, inplace=False):
    r"""Hard sigmoid, elementwise: :math:`\min(\max(x / 6 + 1/2, 0), 1)`; see
    :class:`~autograd_core.nn.Hardsigmoid`.

    Example:
        >>> nn.functional.hardsigmoid(ag.tensor([-4.0, 0.0, 4.0]))
        tensor([0.0000, 0.5000, 1.0000])
    """
    return _maybe_inplace(input, inplace, unary.hardsigmoid, "hardsigmoid_")


def selu(input, inplace=False):
    r"""SELU, elementwise: :math:`\lambda (\max(0, x) + \min(0, \alpha (e^x - 1)))` with
    :math:`\alpha \approx 1.6733` and :math:`\lambda \approx 1.0507`; see :class:`~autograd_core.nn.SELU`.
    """
    return _maybe_inplace(input, inplace, unary.selu, "selu_")


def celu(input, alpha=1.0, inplace=False):
    r"""CELU, elementwise: :math:`\max(0, x) + \min(0, \alpha (e^{x/\alpha} - 1))`; see
    :class:`~autograd_core.nn.CELU`.
    """
    return _maybe_inplace(input, inplace, lambda x: unary.celu(x, alpha), "celu_")


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be nonnegative, got {lambd}")
    # (inside the band is tested, not outside: a NaN is outside, keeps its value and gets the gradient)
    inside = (input >= -lambd) & (input <= lambd)
    return where(inside, input * 0, input - lambd * input.sign())


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return where((input >= -lambd) & (input <= lambd), input * 0, input)


def _threshold(x, limit, value):
    return where(x <= limit, full_like(x, value), x)  # (NaN > limit is false: NaN must stay NaN)


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
    return where(input > 0, input, input * w)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Samples from the Gumbel-softmax (Concrete) distribution: softmax((logits + g) / tau) with g
    standard Gumbel noise. hard=True returns one-hot samples whose gradient is the soft sample's
    (the straight-through estimator)."""
    _check_tensor(logits, "logits", "gumbel_softmax")
    if tau <= 0:
        raise ValueError(f"gumbel_softmax: tau must be positive, got {tau}")
    gumbels = -empty(tuple(logits.shape), dtype=logits.dtype).exponential_().log()
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.detach().argmax(dim, keepdim=True)
    y_hard = zeros_like(y_soft).scatter(dim, index, value=1.0)
    return y_hard - y_soft.detach() + y_soft
