"""Activation modules: thin wrappers over ag.nn.functional."""
from ..device import check_device
from ..dtypes import get_default_dtype
from ..ops.creation import full
from . import functional as F
from .module import Module, Parameter


class ReLU(Module):
    r"""Rectified linear unit, elementwise.

    .. math::
        \text{ReLU}(x) = \max(0, x)

    Its gradient is 1 for x > 0 and 0 otherwise (0 at x = 0, as PyTorch).

    Args:
        inplace (bool): PyTorch's in-place flag.

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.ReLU()(ag.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    r"""Leaky ReLU: a small slope instead of zero for negative inputs, so no unit dies.

    .. math::
        \text{LeakyReLU}(x) = \max(0, x) + \text{negative\_slope} \cdot \min(0, x)

    Args:
        negative_slope (float): the slope for x < 0 (default 0.01).
        inplace (bool): PyTorch's in-place flag.

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.LeakyReLU(0.1)(ag.tensor([-2.0, 3.0]))
        tensor([-0.2000,  3.0000])
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    r"""Logistic sigmoid, elementwise: squashes to (0, 1).

    .. math::
        \sigma(x) = \frac{1}{1 + e^{-x}}

    Its derivative is :math:`\sigma(x)(1 - \sigma(x))`, at most 1/4: deep sigmoid stacks make
    gradients vanish.

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.Sigmoid()(ag.tensor([0.0]))
        tensor([0.5000])
    """

    def forward(self, input):
        return input.sigmoid()


class Tanh(Module):
    r"""Hyperbolic tangent, elementwise: squashes to (-1, 1), zero-centred.

    .. math::
        \tanh(x) = \frac{e^x - e^{-x}}{e^x + e^{-x}}

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.Tanh()(ag.tensor([0.0, 100.0]))
        tensor([0., 1.])
    """

    def forward(self, input):
        return input.tanh()


class GELU(Module):
    r"""Gaussian error linear unit: x weighted by the standard normal CDF.

    .. math::
        \text{GELU}(x) = x\, \Phi(x) = \frac{x}{2} \left(1 + \operatorname{erf}(x / \sqrt{2})\right)

    Args:
        approximate (str): ``'none'`` (exact) or ``'tanh'``:
            :math:`\frac{x}{2}(1 + \tanh(\sqrt{2/\pi}(x + 0.044715 x^3)))`.

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.GELU()(ag.tensor([1.0]))
        tensor([0.8413])
    """

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    r"""Sigmoid linear unit (swish), elementwise.

    .. math::
        \text{SiLU}(x) = x\, \sigma(x)

    Args:
        inplace (bool): PyTorch's in-place flag.

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.SiLU()(ag.tensor([1.0]))
        tensor([0.7311])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input, self.inplace)


class ELU(Module):
    r"""Exponential linear unit: smooth, with negative outputs down to -alpha.

    .. math::
        \text{ELU}(x) = \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases}

    Args:
        alpha (float): the negative saturation value.
        inplace (bool): PyTorch's in-place flag.

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.ELU()(ag.tensor([-1.0, 2.0]))
        tensor([-0.6321,  2.0000])
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Softplus(Module):
    r"""Softplus: a smooth ReLU, always positive.

    .. math::
        \text{Softplus}(x) = \frac{1}{\beta} \log(1 + e^{\beta x})

    Args:
        beta (float): the sharpness.
        threshold (float): above ``beta * x > threshold`` the output is x (no overflow).

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.Softplus()(ag.tensor([0.0]))
        tensor([0.6931])
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    r"""Softmax along ``dim``: non-negative values summing to 1 (a probability distribution).

    .. math::
        \text{Softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}}

    Computed with the maximum subtracted first, so large scores do not overflow. For a classifier,
    give raw scores to :class:`CrossEntropyLoss` instead of applying Softmax yourself.

    Args:
        dim (int): the dimension that sums to 1.

    Shape:
        - Input: ``(*)``; output: the same shape.

    Example:
        >>> nn.Softmax(dim=1)(ag.tensor([[1.0, 1.0, 2.0]]))
        tensor([[0.2119, 0.2119, 0.5761]])

    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    r"""The logarithm of the softmax along ``dim``, computed stably.

    .. math::
        \text{LogSoftmax}(x)_i = x_i - \log \sum_j e^{x_j}

    Pair it with :class:`NLLLoss` (the pair is :class:`CrossEntropyLoss`).

    Args:
        dim (int): the dimension of the classes.

    Shape:
        - Input: ``(*)``; output: the same shape.

    Example:
        >>> nn.LogSoftmax(dim=0)(ag.tensor([0.0, 0.0]))
        tensor([-0.6931, -0.6931])

    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Module):
    r"""Softmax of the negated input along ``dim``: the smallest values get the most weight.

    .. math::
        \text{Softmin}(x)_i = \frac{e^{-x_i}}{\sum_j e^{-x_j}}

    Args:
        dim (int): the dimension that sums to 1.

    Shape:
        - Input: ``(*)``; output: the same shape.

    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSigmoid(Module):
    r"""Logarithm of the sigmoid, computed stably for large inputs.

    .. math::
        \text{LogSigmoid}(x) = \log \frac{1}{1 + e^{-x}} = -\text{softplus}(-x)

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.LogSigmoid()(ag.tensor([0.0]))
        tensor([-0.6931])
    """

    def forward(self, input):
        return F.logsigmoid(input)


class Hardtanh(Module):
    r"""Hardtanh, elementwise: the input clamped to ``[min_val, max_val]``.

    .. math::
        \text{HardTanh}(x) = \begin{cases} \text{max\_val} & x > \text{max\_val} \\
        \text{min\_val} & x < \text{min\_val} \\ x & \text{otherwise} \end{cases}

    Args:
        min_val (float): lower end of the linear region. Default: -1.
        max_val (float): upper end of the linear region. Default: 1.
        inplace (bool): write the result into the input.

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.Hardtanh()(ag.tensor([-2.0, 0.5, 3.0]))
        tensor([-1.0000,  0.5000,  1.0000])
    """
    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        self.min_val, self.max_val = min_val, max_val
        self.inplace = inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    r"""ReLU capped at 6, elementwise: :math:`\min(\max(0, x), 6)`.

    Args:
        inplace (bool): write the result into the input.

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.ReLU6()(ag.tensor([-1.0, 3.0, 8.0]))
        tensor([0., 3., 6.])
    """
    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class _Simple(Module):
    """An activation without parameters or options: forward is F.<_fn>."""

    _fn = None

    def forward(self, input):
        return getattr(F, self._fn)(input)


class _SimpleInplace(_Simple):
    """A _Simple activation that PyTorch also offers in place (inplace=True writes into the input)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return getattr(F, self._fn)(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Mish(_SimpleInplace):
    r"""Mish, a smooth self-gated activation, elementwise.

    .. math::
        \text{Mish}(x) = x \tanh(\operatorname{softplus}(x)) = x \tanh(\ln(1 + e^x))

    Args:
        inplace (bool): write the result into the input.

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.Mish()(ag.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8651])
    """
    _fn = "mish"


class Hardswish(_SimpleInplace):
    r"""Hard swish (MobileNetV3), a piecewise version of :math:`x \sigma(x)`, elementwise.

    .. math::
        \text{Hardswish}(x) = \begin{cases} 0 & x \le -3 \\ x & x \ge 3 \\
        x (x + 3) / 6 & \text{otherwise} \end{cases}

    Args:
        inplace (bool): write the result into the input.

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.Hardswish()(ag.tensor([-4.0, 1.0, 4.0]))
        tensor([-0.0000, 0.6667, 4.0000])
    """
    _fn = "hardswish"


class Hardsigmoid(_SimpleInplace):
    r"""Hard sigmoid, a piecewise-linear sigmoid, elementwise.

    .. math::
        \text{Hardsigmoid}(x) = \begin{cases} 0 & x \le -3 \\ 1 & x \ge 3 \\
        x / 6 + 1 / 2 & \text{otherwise} \end{cases}

    Args:
        inplace (bool): write the result into the input.

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.Hardsigmoid()(ag.tensor([-4.0, 0.0, 4.0]))
        tensor([0.0000, 0.5000, 1.0000])
    """
    _fn = "hardsigmoid"


class Softsign(_Simple):
    r"""Softsign, elementwise: squashes to (-1, 1) more slowly than tanh.

    .. math::
        \text{Softsign}(x) = \frac{x}{1 + |x|}

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.Softsign()(ag.tensor([1.0]))
        tensor([0.5000])
    """

    _fn = "softsign"


class Tanhshrink(_Simple):
    r"""x minus its tanh.

    .. math::
        \text{Tanhshrink}(x) = x - \tanh(x)

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.
    """

    _fn = "tanhshrink"


class SELU(_SimpleInplace):
    r"""Scaled exponential linear unit, elementwise; with LeCun-normal initialisation it keeps
    activations near zero mean and unit variance (self-normalising networks).

    .. math::
        \text{SELU}(x) = \lambda \left(\max(0, x) + \min(0, \alpha (e^x - 1))\right)

    with :math:`\alpha = 1.6732632423543772` and :math:`\lambda = 1.0507009873554805`.

    Args:
        inplace (bool): write the result into the input.

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.SELU()(ag.tensor([0.0, 1.0]))
        tensor([0.0000, 1.0507])
    """
    _fn = "selu"


class CELU(Module):
    r"""Continuously differentiable ELU.

    .. math::
        \text{CELU}(x) = \max(0, x) + \min(0, \alpha (e^{x/\alpha} - 1))

    Args:
        alpha (float): the negative saturation value.
        inplace (bool): PyTorch's in-place flag.

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Softshrink(Module):
    r"""Soft thresholding: shrink towards zero by lambd (the proximal step of L1).

    .. math::
        \text{Softshrink}(x) = \begin{cases} x - \lambda & x > \lambda \\
                                          x + \lambda & x < -\lambda \\
                                          0 & \text{otherwise} \end{cases}

    Args:
        lambd (float): the threshold (default 0.5).

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.Softshrink(0.5)(ag.tensor([-1.0, 0.2, 2.0]))
        tensor([-0.5000,  0.0000,  1.5000])
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    r"""Hard thresholding: zero the inputs within lambd of zero.

    .. math::
        \text{Hardshrink}(x) = \begin{cases} x & |x| > \lambda \\ 0 & \text{otherwise} \end{cases}

    Args:
        lambd (float): the threshold (default 0.5).

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.
    """

    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class Threshold(Module):
    r"""Replace the values not above a threshold.

    .. math::
        y = \begin{cases} x & x > \text{threshold} \\ \text{value} & \text{otherwise} \end{cases}

    Args:
        threshold (float): the threshold.
        value (float): what replaces the values at or below it.
        inplace (bool): PyTorch's in-place flag.

    Shape:
        - Input: ``(*)``, any shape; output: the same shape.

    Example:
        >>> nn.Threshold(1.0, -5.0)(ag.tensor([0.5, 2.0]))
        tensor([-5.,  2.])
    """

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value = threshold, value
        self.inplace = inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class GLU(Module):
    r"""Gated linear unit: split the input in two halves a, b along ``dim``.

    .. math::
        \text{GLU}(a, b) = a \otimes \sigma(b)

    Args:
        dim (int): the dimension to split (its size must be even).

    Shape:
        - Input: ``(*, 2M, *)``; output: ``(*, M, *)``.

    Example:
        >>> nn.GLU()(ag.tensor([[1.0, 2.0, 0.0, 0.0]]))
        tensor([[0.5000, 1.0000]])

    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """max(0, x) + a * min(0, x) with a learnt slope a: one for all channels (num_parameters=1) or
    one per channel (dim 1), starting at init."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        check_device(device, type(self).__name__)
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(full((num_parameters,), float(init), dtype=dtype or get_default_dtype()))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
