"""Probability distributions for sampling and likelihoods: what a policy gradient (Categorical),
a variational autoencoder (Normal, with the reparameterised rsample and kl_divergence) or a
binary generative model (Bernoulli) needs, with PyTorch's torch.distributions names and meanings.

    dist = Categorical(logits=policy(state))
    action = dist.sample()
    loss = -(dist.log_prob(action) * reward).sum()      # REINFORCE

Parameters may be tensors (they keep their graph: log_prob, entropy, rsample and kl_divergence are
differentiable with respect to them) or Python numbers. batch_shape is the broadcast shape of the
parameters (without Categorical's last, category dim); sample(sample_shape) returns
sample_shape + batch_shape + event_shape, drawn from autograd_core's generator (ag.manual_seed makes
it reproducible). sample() never records a graph; Normal.rsample() does (loc + scale * eps).
"""
import math

from . import _core
from .autograd.grad_mode import no_grad
from .dtypes import int64
from .nn import functional as F
from .ops.creation import as_tensor, bernoulli, multinomial, randn, zeros
from .tensor import Tensor

__all__ = ["Bernoulli", "Categorical", "Distribution", "Normal", "kl_divergence"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _param(x, name, cls):
    """A float tensor for parameter x of distribution cls (Python numbers become float32)."""
    if isinstance(x, Tensor):
        if not x.is_floating_point():
            raise TypeError(f"{cls}: {name} must be a floating-point tensor, got dtype {x.dtype}")
        return x
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{cls}: {name} must be a tensor or a number, got {type(x).__name__}")
    return as_tensor(float(x))


def _broadcast_shape(a, b):
    try:
        return _core.broadcast_shape(a, b)
    except RuntimeError:
        raise ValueError(f"shapes {tuple(a)} and {tuple(b)} do not broadcast") from None


def _shape(sample_shape, op):
    if isinstance(sample_shape, int):
        sample_shape = (sample_shape,)
    try:
        shape = tuple(int(s) for s in sample_shape)
    except TypeError:
        raise TypeError(f"{op}: sample_shape must be a tuple of ints, got {sample_shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"{op}: sample_shape {shape} has a negative size")
    return shape


class Distribution:
    """Base class: batch_shape, event_shape, sample, rsample, log_prob, entropy, mean, variance,
    stddev. Subclasses define the ones they support."""

    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=()):
        self.batch_shape = tuple(batch_shape)
        self.event_shape = tuple(event_shape)

    def _extended_shape(self, sample_shape=()):
        return _shape(sample_shape, f"{type(self).__name__}.sample") + self.batch_shape + self.event_shape

    def sample(self, sample_shape=()):
        """Draw a sample of shape ``sample_shape + batch_shape + event_shape``, without gradient.

        Example:
            >>> ag.distributions.Normal(ag.zeros(3), ag.ones(3)).sample((5,)).shape
            Size([5, 3])
        """
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        """Draw a reparameterised sample: differentiable with respect to the parameters (as in a VAE).
        Only distributions with ``has_rsample`` define it.
        """
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sampling (rsample)")

    def log_prob(self, value):
        """The log-probability (or log-density) of ``value``, over the broadcast batch shape;
        differentiable with respect to the parameters (the score-function gradient of REINFORCE).
        """
        raise NotImplementedError

    def entropy(self):
        r"""The entropy :math:`H = -\mathbb{E}[\log p(x)]`, one per batch element."""
        raise NotImplementedError

    @property
    def stddev(self):
        """The standard deviation: the square root of the variance."""
        return self.variance.sqrt()

    def __repr__(self):
        return f"{type(self).__name__}(batch_shape={self.batch_shape}, event_shape={self.event_shape})"


class Normal(Distribution):
    """Normal(loc, scale): the Gaussian with mean loc and standard deviation scale > 0."""

    has_rsample = True

    def __init__(self, loc, scale):
        loc, scale = _param(loc, "loc", "Normal"), _param(scale, "scale", "Normal")
        shape = _broadcast_shape(tuple(loc.shape), tuple(scale.shape))
        with no_grad():
            if scale.numel() and not bool((scale > 0).all()):
                raise ValueError("Normal: scale must be positive")
        self.loc = loc.expand(shape)
        self.scale = scale.expand(shape)
        super().__init__(shape)

    @property
    def mean(self):
        """The mean, ``loc``."""
        return self.loc

    @property
    def mode(self):
        """The mode, ``loc``."""
        return self.loc

    @property
    def stddev(self):
        """The standard deviation, ``scale``."""
        return self.scale

    @property
    def variance(self):
        """The variance, ``scale ** 2``."""
        return self.scale * self.scale

    def rsample(self, sample_shape=()):
        """loc + scale * eps with eps ~ N(0, 1): differentiable with respect to loc and scale."""
        eps = randn(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + self.scale * eps

    def log_prob(self, value):
        r""":math:`\log p(x) = -\frac{(x - \mu)^2}{2\sigma^2} - \log \sigma - \frac12 \log 2\pi`.

        Example:
            >>> ag.distributions.Normal(0.0, 1.0).log_prob(ag.tensor(0.0))
            tensor(-0.9189)
        """
        value = _param(value, "value", "Normal.log_prob")
        z = (value - self.loc) / self.scale
        return -0.5 * z * z - self.scale.log() - _HALF_LOG_2PI

    def entropy(self):
        r""":math:`\frac12 + \frac12 \log 2\pi + \log \sigma`."""
        return self.scale.log() + (0.5 + _HALF_LOG_2PI)

    def cdf(self, value):
        r""":math:`P(X \le x) = \frac12 \left(1 + \operatorname{erf}\frac{x - \mu}{\sigma\sqrt2}\right)`."""
        value = _param(value, "value", "Normal.cdf")
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())


class Categorical(Distribution):
    """Categorical(probs=None, logits=None): one of K categories, from probabilities (any
    nonnegative weights along the last dim, normalised) or from unnormalised log-probabilities.
    Samples are int64 category indices; batch_shape is the parameters' shape without the last dim."""

    def __init__(self, probs=None, logits=None):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: pass exactly one of probs or logits")
        p = _param(probs if logits is None else logits, "probs" if logits is None else "logits", "Categorical")
        if p.dim() < 1:
            raise ValueError(f"Categorical: {'probs' if logits is None else 'logits'} must have at least one "
                             f"dimension (the categories), got shape {tuple(p.shape)}")
        if logits is None:
            with no_grad():
                if p.numel() and not bool((p >= 0).all()):
                    raise ValueError("Categorical: probs must be nonnegative")
            self.probs = p / p.sum(-1, keepdim=True)
            # (as PyTorch: probabilities clamped to [eps, 1 - eps] before the log, so a category of
            # probability 0 gets log(eps), not -inf)
            self.logits = self.probs.clamp(_eps(p), 1 - _eps(p)).log()
        else:
            self.logits = p - p.logsumexp(-1, keepdim=True)
            self.probs = self.logits.softmax(-1)
        self._num_events = p.shape[-1]
        super().__init__(tuple(p.shape[:-1]))

    @property
    def param_shape(self):
        """The shape of ``probs`` and ``logits``: ``batch_shape + (K,)``."""
        return self.batch_shape + (self._num_events,)

    @property
    def mode(self):
        """The most probable category (int64)."""
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()):
        """Category indices (int64) of shape ``sample_shape + batch_shape``.

        Example:
            >>> c = ag.distributions.Categorical(probs=ag.tensor([0.0, 1.0, 0.0]))
            >>> c.sample((4,))
            tensor([1, 1, 1, 1])
        """
        shape = _shape(sample_shape, "Categorical.sample")
        n = math.prod(shape)
        with no_grad():
            flat = self.probs.detach().reshape(-1, self._num_events)
            if n == 0 or flat.shape[0] == 0:
                return zeros(shape + self.batch_shape, dtype=int64)
            draws = multinomial(flat, n, replacement=True)  # (batch, n)
            return draws.t().reshape(shape + self.batch_shape)

    def log_prob(self, value):
        r""":math:`\log p_k` of category index ``value`` (broadcast against the batch shape).

        Example:
            >>> ag.distributions.Categorical(logits=ag.zeros(4)).log_prob(ag.tensor(2))
            tensor(-1.3863)
        """
        value = as_tensor(value)
        if value.is_floating_point() or value.dtype.name == "bool":
            raise TypeError(f"Categorical.log_prob: value must hold integer category indices, got dtype "
                            f"{value.dtype}")
        with no_grad():
            if value.numel() and bool(((value < 0) | (value >= self._num_events)).any()):
                raise ValueError(f"Categorical.log_prob: values must be in [0, {self._num_events}), the number "
                                 "of categories")
        shape = _broadcast_shape(tuple(value.shape), self.batch_shape)
        logits = self.logits.expand(shape + (self._num_events,))
        index = value.long().expand(shape).unsqueeze(-1)
        return logits.gather(-1, index).squeeze(-1)

    def entropy(self):
        r""":math:`-\sum_k p_k \log p_k` (0 log 0 counted as 0)."""
        return -(self.probs * self.logits).sum(-1)


class Bernoulli(Distribution):
    """Bernoulli(probs=None, logits=None): 1 with probability probs (or sigmoid(logits)), else 0.
    Samples are float tensors of 0s and 1s, of the parameter's dtype."""

    def __init__(self, probs=None, logits=None):
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: pass exactly one of probs or logits")
        if logits is None:
            p = _param(probs, "probs", "Bernoulli")
            with no_grad():
                if p.numel() and not bool(((p >= 0) & (p <= 1)).all()):
                    raise ValueError("Bernoulli: probs must be in [0, 1]")
            self.probs = p
            q = p.clamp(_eps(p), 1 - _eps(p))  # (as PyTorch, and as Categorical above)
            self.logits = q.log() - (-q).log1p()
        else:
            self.logits = _param(logits, "logits", "Bernoulli")
            self.probs = self.logits.sigmoid()
        super().__init__(tuple(self.probs.shape))

    @property
    def mean(self):
        """The mean, ``probs``."""
        return self.probs

    @property
    def mode(self):
        """1 where ``probs > 0.5``, else 0."""
        return (self.probs > 0.5).to(self.probs.dtype)

    @property
    def variance(self):
        """The variance, ``probs * (1 - probs)``."""
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        """0/1 samples of the parameter's dtype, shape ``sample_shape + batch_shape``."""
        with no_grad():
            return bernoulli(self.probs.detach().expand(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        r""":math:`y \log p + (1 - y) \log(1 - p)`, computed stably from the logits."""
        value = _param(value, "value", "Bernoulli.log_prob")
        shape = _broadcast_shape(tuple(value.shape), self.batch_shape)
        return -F.binary_cross_entropy_with_logits(self.logits.expand(shape), value.expand(shape),
                                                   reduction="none")

    def entropy(self):
        r""":math:`-p \log p - (1 - p) \log(1 - p)`."""
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


def _eps(t):
    return 1.1920928955078125e-07 if t.dtype.name == "float32" else 2.220446049250313e-16


def kl_divergence(p, q):
    """KL(p || q) for two distributions of the same family (Normal, Categorical or Bernoulli),
    elementwise over the broadcast batch shape; differentiable with respect to both."""
    if type(p) is not type(q) or type(p) not in _KL:
        raise NotImplementedError(f"kl_divergence: not implemented for {type(p).__name__} and {type(q).__name__}")
    return _KL[type(p)](p, q)


def _kl_normal(p, q):
    ratio = p.scale / q.scale
    d = (p.loc - q.loc) / q.scale
    return 0.5 * (ratio * ratio + d * d - 1) - ratio.log()


def _kl_categorical(p, q):
    if p._num_events != q._num_events:
        raise ValueError(f"kl_divergence: Categoricals with {p._num_events} and {q._num_events} categories")
    return (p.probs * (p.logits - q.logits)).sum(-1)


def _kl_bernoulli(p, q):
    # p log(p / q) + (1 - p) log((1 - p) / (1 - q)), through the logits: log p = -softplus(-l),
    # log(1 - p) = -softplus(l)
    lp, lq = p.logits, q.logits
    return p.probs * (F.softplus(-lq) - F.softplus(-lp)) + (1 - p.probs) * (F.softplus(lq) - F.softplus(lp))


_KL = {Normal: _kl_normal, Categorical: _kl_categorical, Bernoulli: _kl_bernoulli}
