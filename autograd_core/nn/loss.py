"""Loss modules; each calls its ag.nn.functional form. reduction is 'mean', 'sum' or 'none'."""
from . import functional as F
from .functional.loss import _check_reduction
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        _check_reduction(reduction, type(self).__name__, extra=getattr(self, "_extra_reductions", ()))
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    r"""Mean squared error between input and target.

    .. math::
        \ell_i = (x_i - y_i)^2, \qquad \ell = \operatorname{mean}_i \ell_i

    Args:
        reduction (str): ``'mean'`` (default) averages the per-element losses, ``'sum'`` adds them,
            ``'none'`` returns them unreduced.

    Shape:
        - Input: ``(*)``, any shape.
        - Target: same shape as the input.
        - Output: a scalar, or the input's shape with ``reduction='none'``.

    Example:
        >>> loss = nn.MSELoss()
        >>> loss(ag.tensor([1.0, 2.0, 4.0]), ag.tensor([1.0, 1.0, 1.0]))
        tensor(3.3333)
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    r"""Mean absolute error between input and target.

    .. math::
        \ell_i = |x_i - y_i|

    Args:
        reduction (str): ``'mean'`` (default) averages the per-element losses, ``'sum'`` adds them,
            ``'none'`` returns them unreduced.

    Shape:
        - Input: ``(*)``; target: the same shape; output: a scalar, or ``(*)`` with ``'none'``.

    Example:
        >>> nn.L1Loss()(ag.tensor([1.0, 2.0, 4.0]), ag.tensor([1.0, 1.0, 1.0]))
        tensor(1.3333)
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    r"""Squared error for small differences, absolute error for large ones.

    With :math:`d = x - y`:

    .. math::
        \ell = \begin{cases} 0.5\, d^2 / \beta & |d| < \beta \\
                             |d| - 0.5\,\beta & \text{otherwise} \end{cases}

    Args:
        reduction (str): ``'mean'`` (default) averages the per-element losses, ``'sum'`` adds them,
            ``'none'`` returns them unreduced.
        beta (float): where the loss changes from quadratic to linear (``beta=0`` gives L1).

    Shape:
        - Input: ``(*)``; target: the same shape; output: a scalar, or ``(*)`` with ``'none'``.

    Example:
        >>> nn.SmoothL1Loss()(ag.tensor([0.5, 3.0]), ag.tensor([0.0, 0.0]))
        tensor(1.3125)
    """

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    r"""The Huber loss: quadratic within ``delta`` of the target, linear outside.

    With :math:`d = x - y`:

    .. math::
        \ell = \begin{cases} 0.5\, d^2 & |d| < \delta \\
                             \delta\,(|d| - 0.5\,\delta) & \text{otherwise} \end{cases}

    It equals ``delta * SmoothL1Loss(beta=delta)``.

    Args:
        reduction (str): ``'mean'`` (default) averages the per-element losses, ``'sum'`` adds them,
            ``'none'`` returns them unreduced.
        delta (float): the threshold between the quadratic and the linear part.

    Shape:
        - Input: ``(*)``; target: the same shape; output: a scalar, or ``(*)`` with ``'none'``.

    Example:
        >>> nn.HuberLoss(delta=1.0)(ag.tensor([0.5, 3.0]), ag.tensor([0.0, 0.0]))
        tensor(1.3125)
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    r"""Binary cross-entropy between predicted probabilities and 0/1 targets.

    .. math::
        \ell_i = -w_i \left[ y_i \log x_i + (1 - y_i) \log(1 - x_i) \right]

    The logarithms are clamped at -100, as in PyTorch, so a probability of exactly 0 or 1 gives a
    finite loss. Prefer :class:`BCEWithLogitsLoss` on raw scores: it is numerically stable.

    Args:
        weight (Tensor, optional): a rescaling weight broadcast against the input.
        reduction (str): ``'mean'`` (default) averages the per-element losses, ``'sum'`` adds them,
            ``'none'`` returns them unreduced.

    Shape:
        - Input: ``(*)``, probabilities in [0, 1]; target: the same shape; output: a scalar, or
          ``(*)`` with ``'none'``.

    Example:
        >>> nn.BCELoss()(ag.tensor([0.9, 0.2]), ag.tensor([1.0, 0.0]))
        tensor(0.1643)
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    r"""A sigmoid followed by binary cross-entropy, in one numerically stable formula.

    .. math::
        \ell_i = -w_i \left[ p\, y_i \log \sigma(x_i) + (1 - y_i) \log(1 - \sigma(x_i)) \right]

    computed as :math:`\max(x, 0) - x y + \log(1 + e^{-|x|})` (for ``pos_weight`` :math:`p = 1`),
    which neither overflows nor loses precision for large scores.

    Args:
        weight (Tensor, optional): a rescaling weight broadcast against the input.
        reduction (str): ``'mean'`` (default) averages the per-element losses, ``'sum'`` adds them,
            ``'none'`` returns them unreduced.
        pos_weight (Tensor, optional): weight of the positive examples, one per class (broadcast over
            the last dimension); above 1 raises recall.

    Shape:
        - Input: ``(*)``, raw scores (logits); target: the same shape, in [0, 1]; output: a scalar,
          or ``(*)`` with ``'none'``.

    Example:
        >>> nn.BCEWithLogitsLoss()(ag.tensor([2.0, -1.0]), ag.tensor([1.0, 0.0]))
        tensor(0.2201)
    """

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class CrossEntropyLoss(_WeightedLoss):
    r"""Cross-entropy between raw class scores (logits) and target classes.

    For one sample with scores :math:`x` over :math:`C` classes and target class :math:`y`:

    .. math::
        \ell = -w_y \log \frac{\exp(x_y)}{\sum_{c=1}^{C} \exp(x_c)}
             = w_y \left( \log \sum_c e^{x_c} - x_y \right)

    It is :func:`~autograd_core.nn.functional.log_softmax` followed by
    :class:`NLLLoss`, computed stably. Do not apply softmax first: the input is the raw scores. With
    ``reduction='mean'`` and class weights the sum is divided by the sum of the targets' weights.
    Targets may also be class probabilities of the input's shape (soft labels).

    Args:
        weight (Tensor, optional): a weight per class, shape ``(C,)``.
        ignore_index (int): a target value that contributes nothing (default -100).
        reduction (str): ``'mean'`` (default) averages the per-element losses, ``'sum'`` adds them,
            ``'none'`` returns them unreduced.
        label_smoothing (float): in [0, 1]; the target becomes :math:`(1 - \epsilon)` on the class
            and :math:`\epsilon / C` spread over all classes.

    Shape:
        - Input: ``(N, C)``, or ``(N, C, d1, ...)`` for sequences and images, or ``(C,)``.
        - Target: ``(N,)`` or ``(N, d1, ...)`` of class indices in [0, C), or probabilities of the
          input's shape.
        - Output: a scalar, or ``(N,)`` / ``(N, d1, ...)`` with ``'none'``.

    Example:
        >>> loss = nn.CrossEntropyLoss()
        >>> logits = ag.tensor([[2.0, 0.5, -1.0], [0.0, 0.0, 3.0]])
        >>> loss(logits, ag.tensor([0, 2]))
        tensor(0.1681)
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    r"""Negative log-likelihood of the target class, given log-probabilities.

    .. math::
        \ell_n = -w_{y_n}\, x_{n, y_n}

    Use after :class:`LogSoftmax` (the pair is :class:`CrossEntropyLoss`). With ``'mean'`` the sum
    is divided by the total weight of the (non-ignored) targets.

    Args:
        weight (Tensor, optional): a weight per class, shape ``(C,)``.
        ignore_index (int): a target value that contributes nothing (default -100).
        reduction (str): ``'mean'`` (default) averages the per-element losses, ``'sum'`` adds them,
            ``'none'`` returns them unreduced.

    Shape:
        - Input: ``(N, C)`` or ``(N, C, d1, ...)`` log-probabilities; target: ``(N,)`` or
          ``(N, d1, ...)`` class indices; output: a scalar, or the target's shape with ``'none'``.

    Example:
        >>> logp = F.log_softmax(ag.tensor([[2.0, 0.5, -1.0]]), dim=1)
        >>> nn.NLLLoss()(logp, ag.tensor([0]))
        tensor(0.2413)
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class KLDivLoss(_Loss):
    r"""Kullback-Leibler divergence :math:`D_{KL}(P \,\|\, Q)` with ``input`` = :math:`\log Q`.

    .. math::
        \ell_i = y_i \left( \log y_i - x_i \right)

    The input is log-probabilities; the target is probabilities (or log-probabilities with
    ``log_target=True``). Use ``reduction='batchmean'`` for the mathematical KL divergence (the sum
    divided by the batch size); ``'mean'`` divides by the number of elements, as in PyTorch.

    Args:
        reduction (str): ``'mean'``, ``'batchmean'``, ``'sum'`` or ``'none'``.
        log_target (bool): the target is given as log-probabilities.

    Shape:
        - Input: ``(*)``; target: the same shape; output: a scalar, or ``(*)`` with ``'none'``.

    Example:
        >>> p = ag.tensor([[0.5, 0.5]])
        >>> q = ag.tensor([[0.25, 0.75]])
        >>> nn.KLDivLoss(reduction="batchmean")(q.log(), p)
        tensor(0.1438)
    """

    _extra_reductions = ("batchmean",)

    def __init__(self, reduction="mean", log_target=False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MultiMarginLoss(_WeightedLoss):
    """The multi-class hinge (SVM) loss; see F.multi_margin_loss."""

    def __init__(self, p=1, margin=1.0, weight=None, reduction="mean"):
        super().__init__(weight, reduction)
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight, self.reduction)


class MarginRankingLoss(_Loss):
    r"""Ranking hinge loss: ``input1`` should rank above ``input2`` where the target is 1.

    .. math::
        \ell_i = \max(0, -y_i (x^{(1)}_i - x^{(2)}_i) + \text{margin})

    Args:
        margin (float): the required gap.
        reduction (str): ``'mean'`` (default) averages the per-element losses, ``'sum'`` adds them,
            ``'none'`` returns them unreduced.

    Shape:
        - Input1, input2, target (of 1 or -1): ``(N,)`` or ``()``; output: a scalar, or ``(N,)``.

    Example:
        >>> x1, x2, y = ag.tensor([1.0, 0.2]), ag.tensor([0.0, 0.0]), ag.tensor([1.0, -1.0])
        >>> nn.MarginRankingLoss(margin=0.5)(x1, x2, y)
        tensor(0.3500)
    """

    def __init__(self, margin=0.0, reduction="mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)


class SoftMarginLoss(_Loss):
    r"""Logistic loss for targets of 1 or -1.

    .. math::
        \ell_i = \log(1 + \exp(-y_i x_i))

    Args:
        reduction (str): ``'mean'`` (default) averages the per-element losses, ``'sum'`` adds them,
            ``'none'`` returns them unreduced.

    Shape:
        - Input: ``(*)``; target: the same shape, of 1 or -1; output: a scalar, or ``(*)``.

    Example:
        >>> nn.SoftMarginLoss()(ag.tensor([2.0, -1.0]), ag.tensor([1.0, -1.0]))
        tensor(0.2201)
    """

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, self.reduction)


class CosineEmbeddingLoss(_Loss):
    r"""Pulls pairs together (target 1) or pushes them apart (target -1) by cosine similarity.

    .. math::
        \ell_i = \begin{cases} 1 - \cos(x^{(1)}_i, x^{(2)}_i) & y_i = 1 \\
                 \max(0, \cos(x^{(1)}_i, x^{(2)}_i) - \text{margin}) & y_i = -1 \end{cases}

    Args:
        margin (float): in [-1, 1]; dissimilar pairs are penalised above this similarity.
        reduction (str): ``'mean'`` (default) averages the per-element losses, ``'sum'`` adds them,
            ``'none'`` returns them unreduced.

    Shape:
        - Input1, input2: ``(N, D)``; target: ``(N,)`` of 1 or -1; output: a scalar, or ``(N,)``.

    Example:
        >>> a = ag.tensor([[1.0, 0.0], [1.0, 0.0]])
        >>> b = ag.tensor([[1.0, 1.0], [1.0, 1.0]])
        >>> nn.CosineEmbeddingLoss(reduction="none")(a, b, ag.tensor([1.0, -1.0]))
        tensor([0.2929, 0.7071])
    """

    def __init__(self, margin=0.0, reduction="mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, self.margin, self.reduction)


class TripletMarginLoss(_Loss):
    r"""Triplet loss: the anchor should be nearer the positive than the negative by a margin.

    .. math::
        \ell_i = \max(0, d(a_i, p_i) - d(a_i, n_i) + \text{margin}), \qquad d(u, v) = \| u - v + \epsilon \|_p

    Args:
        margin (float): the required gap between the two distances.
        p (float): the norm's order.
        eps (float): added to the difference, keeping the norm differentiable at 0.
        swap (bool): use the smaller of d(a, n) and d(p, n) as the negative distance.
        reduction (str): ``'mean'`` (default) averages the per-element losses, ``'sum'`` adds them,
            ``'none'`` returns them unreduced.

    Shape:
        - Anchor, positive, negative: ``(N, D)`` or ``(D,)``; output: a scalar, or ``(N,)``.

    Example:
        >>> a, p, n = ag.zeros(1, 2), ag.tensor([[1.0, 0.0]]), ag.tensor([[3.0, 0.0]])
        >>> nn.TripletMarginLoss(margin=1.0)(a, p, n)
        tensor(0.)
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
        super().__init__(reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.swap,
                                     self.reduction)


class GaussianNLLLoss(_Loss):
    r"""Negative log-likelihood of the target under a Gaussian with predicted mean and variance.

    .. math::
        \ell_i = \frac{1}{2} \left( \log \max(\sigma^2_i, \epsilon)
                 + \frac{(x_i - y_i)^2}{\max(\sigma^2_i, \epsilon)} \right)
                 \;\left[ + \tfrac{1}{2} \log 2\pi \text{ if full} \right]

    Args:
        full (bool): include the constant term.
        eps (float): the variance is clamped below at ``eps`` for stability.
        reduction (str): ``'mean'`` (default) averages the per-element losses, ``'sum'`` adds them,
            ``'none'`` returns them unreduced.

    Shape:
        - Input (the mean): ``(N, *)``; target: the same shape; var: the same shape, or one fewer
          trailing dimension of size 1 (one variance per sample); output: a scalar, or ``(N, *)``.

    Example:
        >>> nn.GaussianNLLLoss()(ag.tensor([0.0, 1.0]), ag.tensor([0.0, 0.0]), ag.tensor([1.0, 1.0]))
        tensor(0.2500)
    """

    def __init__(self, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class PoissonNLLLoss(_Loss):
    r"""Negative log-likelihood of counts under a Poisson distribution.

    .. math::
        \ell_i = e^{x_i} - y_i x_i \quad (\text{log\_input}), \qquad
        \ell_i = x_i - y_i \log(x_i + \epsilon) \quad (\text{otherwise})

    with Stirling's approximation :math:`y \log y - y + \frac12 \log 2\pi y` added for
    :math:`y > 1` when ``full``.

    Args:
        log_input (bool): the input is the log of the rate (default) or the rate itself.
        full (bool): add the Stirling term.
        eps (float): keeps the log finite when ``log_input=False``.
        reduction (str): ``'mean'`` (default) averages the per-element losses, ``'sum'`` adds them,
            ``'none'`` returns them unreduced.

    Shape:
        - Input: ``(*)``; target: the same shape; output: a scalar, or ``(*)``.

    Example:
        >>> nn.PoissonNLLLoss()(ag.tensor([0.0, 1.0]), ag.tensor([1.0, 2.0]))
        tensor(0.8591)
    """

    def __init__(self, log_input=True, full=False, eps=1e-8, reduction="mean"):
        super().__init__(reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, self.eps, self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    r"""Multi-label one-versus-all logistic loss, averaged over the C classes of each sample.

    .. math::
        \ell_n = -\frac{1}{C} \sum_c w_c \left[ y_{nc} \log \sigma(x_{nc})
                 + (1 - y_{nc}) \log(1 - \sigma(x_{nc})) \right]

    Args:
        weight (Tensor, optional): a weight per class, shape ``(C,)``.
        reduction (str): ``'mean'`` (default) averages the per-element losses, ``'sum'`` adds them,
            ``'none'`` returns them unreduced.

    Shape:
        - Input: ``(N, C)`` scores; target: ``(N, C)`` of 0 and 1; output: a scalar, or ``(N,)``.

    Example:
        >>> nn.MultiLabelSoftMarginLoss()(ag.tensor([[2.0, -1.0]]), ag.tensor([[1.0, 0.0]]))
        tensor(0.2201)
    """

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, self.weight, self.reduction)
