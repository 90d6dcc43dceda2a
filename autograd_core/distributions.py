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
it reproducible). sample() never records a graph; rsample() does, for every continuous family
(Normal, Uniform, MultivariateNormal, Gamma, Beta, Dirichlet, Exponential, Laplace, and Independent
over those).

Also: Uniform, MultivariateNormal, Beta, Gamma, Dirichlet, Exponential, Laplace, Poisson, Binomial,
OneHotCategorical, Independent, and kl_divergence for every same-family pair (register_kl adds
more). Gamma, Beta, Dirichlet, Poisson and Binomial draw through NumPy's generator seeded from
autograd_core's. Gamma's rsample is differentiable with respect to the concentration by implicit
reparameterisation (see _standard_gamma_grad); Beta is X / (X + Y) and Dirichlet G / sum(G) over
such Gamma draws, so their gradients follow by the chain rule.
"""
import math
import sys
import types

import numpy as np

from . import _core, linalg
from .autograd.function import Function
from .autograd.grad_mode import no_grad
from .dtypes import int64
from .nn import functional as F
from .ops.creation import as_tensor, empty, from_numpy, multinomial, rand, randint, randn, zeros
from .ops.creation import bernoulli as _bernoulli_draw
from .ops.special import _digamma_np
from .special import xlogy
from .tensor import Tensor

__all__ = ["Bernoulli", "Beta", "Binomial", "Categorical", "Dirichlet", "Distribution", "Exponential", "Gamma",
           "Independent", "Laplace", "MultivariateNormal", "Normal", "OneHotCategorical", "Poisson", "Uniform",
           "kl_divergence", "register_kl"]

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
        (self.loc, self.scale), shape = _broadcast_params("Normal", ("scale",), loc=loc, scale=scale)
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
            return _bernoulli_draw(self.probs.detach().expand(self._extended_shape(sample_shape)))

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


def _np_rng():
    """A NumPy generator seeded from autograd_core's global generator (so ag.manual_seed fixes it)."""
    return np.random.default_rng(int(randint(0, 2 ** 62, (1,)).item()))


def _from_np(a, like):
    return from_numpy(np.array(a, dtype=np.asarray(like.detach()).dtype, order="C"))


def _positive(t, name, cls):
    with no_grad():
        if t.numel() and not bool((t > 0).all()):
            raise ValueError(f"{cls}: {name} must be positive")


def _broadcast_params(cls, positive=(), **named):
    """The named parameters of distribution cls as float tensors expanded to their broadcast shape
    (the batch shape), checking that those listed in positive are > 0. Returns (tensors, shape)."""
    tensors = [_param(value, name, cls) for name, value in named.items()]
    for name, t in zip(named, tensors):
        if name in positive:
            _positive(t, name, cls)
    shape = ()
    for t in tensors:
        shape = _broadcast_shape(shape, tuple(t.shape))
    return [t.expand(shape) for t in tensors], shape


def _np_param(t, shape):
    """Parameter t as a float64 NumPy array broadcast to shape, for NumPy's samplers."""
    return np.broadcast_to(np.asarray(t.detach(), dtype=np.float64), shape)


_LAGUERRE_NODES = 64


def _standard_gamma_grad(a, x):
    r"""dx/da for x ~ Gamma(a, 1) drawn by inverting the CDF P(a, x) at a fixed uniform: by the
    implicit function theorem dx/da = -(dP/da) / p(x; a), with p the density. float64 NumPy arrays.

    Below the upper tail (x <= a + 1 + 2 sqrt(a)) the series P(a, x) = sum_n x^(a+n) e^-x /
    Gamma(a+n+1), differentiated term by term and divided by p, gives
    dx/da = -sum_n r_n (log x - psi(a+n+1)) with r_n = x^(n+1) Gamma(a) / Gamma(a+n+1).
    Its terms peak near n = x - a, so beyond that bound they would grow large and cancel; there
    the upper tail Q = 1 - P is used instead: dQ/da / p = int_0^inf (1 + s/x)^(a-1) e^-s
    (log(x + s) - psi(a)) ds, by Gauss-Laguerre quadrature after scaling s to the integrand's
    decay rate. Both agree with 40-digit mpmath to about 1e-12 relative for a in [0.01, 1e4]
    (tests/test_distributions_rsample.py checks against scipy).
    """
    a, x = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(x, dtype=np.float64))
    out = np.empty(a.shape)
    psi = _digamma_np(a)
    upper = x > a + 1 + 2 * np.sqrt(a)
    lower = ~upper
    if lower.any():
        al, xl = a[lower], x[lower]
        log_x = np.log(xl)
        r = xl / al
        p = psi[lower] + 1 / al  # psi(a + n + 1), by psi(z + 1) = psi(z) + 1 / z
        total = r * (log_x - p)
        # the terms decay like a Poisson tail past n = x - a: 12 standard deviations is below 1e-30
        count = int(np.ceil(max(float(np.max(xl - al)), 0.0) + 12 * math.sqrt(float(np.max(xl))) + 40))
        for n in range(1, count):
            r = r * xl / (al + n)
            p = p + 1 / (al + n)
            total = total + r * (log_x - p)
        out[lower] = -total
    if upper.any():
        nodes, weights = np.polynomial.laguerre.laggauss(_LAGUERRE_NODES)
        au, xu = a[upper][:, None], x[upper][:, None]
        # for a > 1 the integrand decays like exp(-s (x - a + 1) / x): scale s so that it decays like e^-u
        scale = np.where(au > 1, xu / (xu - au + 1), 1.0)
        s = scale * nodes
        f = np.exp((au - 1) * np.log1p(s / xu) - s + nodes)
        out[upper] = scale[:, 0] * np.sum(weights * f * (np.log(xu + s) - psi[upper][:, None]), axis=1)
    return out


class _StandardGamma(Function):
    """x ~ Gamma(a, 1) elementwise, with the implicit reparameterisation gradient dx/da."""

    @staticmethod
    def forward(ctx, a):
        dtype = np.asarray(a.detach()).dtype
        draws = _np_rng().standard_gamma(np.asarray(a.detach(), dtype=np.float64))
        # a tiny concentration can underflow a draw to 0, where log_prob is -inf: keep it positive
        x = np.maximum(draws, np.finfo(dtype).tiny).astype(dtype)
        ctx.save_for_backward(a)
        ctx.draws = x
        return _from_np(x, a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * _from_np(_standard_gamma_grad(np.asarray(a.detach()), ctx.draws), a)


def _standard_gamma(concentration):
    """A Gamma(concentration, 1) draw of concentration's shape, differentiable in concentration."""
    return _StandardGamma.apply(concentration.contiguous())


def _sum_rightmost(x, n):
    return x.sum(tuple(range(x.ndim - n, x.ndim))) if n > 0 else x


class Uniform(Distribution):
    """Uniform(low, high): constant density on [low, high)."""

    has_rsample = True

    def __init__(self, low, high):
        (self.low, self.high), shape = _broadcast_params("Uniform", low=low, high=high)
        with no_grad():
            if self.low.numel() and not bool((self.low < self.high).all()):
                raise ValueError("Uniform: low must be smaller than high")
        super().__init__(shape)

    @property
    def mean(self):
        r"""The mean, :math:`(\text{low} + \text{high}) / 2`."""
        return (self.high + self.low) / 2

    @property
    def mode(self):
        r"""NaN: every point of :math:`[\text{low}, \text{high})` is equally likely, so there is no single mode."""
        return self.mean * float("nan")

    @property
    def variance(self):
        r"""The variance, :math:`(\text{high} - \text{low})^2 / 12`."""
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()):
        u = rand(self._extended_shape(sample_shape), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        value = _param(value, "value", "Uniform.log_prob")
        inside = ((self.low <= value) & (self.high > value)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def cdf(self, value):
        r""":math:`P(X \le x) = (x - \text{low}) / (\text{high} - \text{low})`, clamped to :math:`[0, 1]`."""
        value = _param(value, "value", "Uniform.cdf")
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value):
        r"""The inverse CDF: :math:`\text{low} + p (\text{high} - \text{low})` for :math:`p \in [0, 1]`."""
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return (self.high - self.low).log()


class MultivariateNormal(Distribution):
    """MultivariateNormal(loc, covariance_matrix=None, precision_matrix=None, scale_tril=None): the
    Gaussian on R^k given by one of the three matrix parameters (batched, broadcast with loc)."""

    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None):
        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError("MultivariateNormal: exactly one of covariance_matrix or precision_matrix or scale_tril "
                             "may be specified")
        loc = _param(loc, "loc", "MultivariateNormal")
        if loc.ndim < 1:
            raise ValueError("MultivariateNormal: loc must be at least one-dimensional")
        matrix = next(m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None)
        matrix = _param(matrix, "matrix parameter", "MultivariateNormal")
        if matrix.ndim < 2 or matrix.shape[-1] != matrix.shape[-2] or matrix.shape[-1] != loc.shape[-1]:
            raise ValueError(f"MultivariateNormal: the matrix parameter must be (..., k, k) with k = loc.shape[-1] = "
                             f"{loc.shape[-1]}, got shape {tuple(matrix.shape)}")
        k = loc.shape[-1]
        batch = _broadcast_shape(tuple(loc.shape[:-1]), tuple(matrix.shape[:-2]))
        if scale_tril is not None:
            tril = matrix
        elif covariance_matrix is not None:
            tril = linalg.cholesky(matrix)
        else:
            tril = linalg.cholesky(linalg.inv(matrix))
        self.loc = loc.expand(*batch, k)
        self._unbroadcasted_scale_tril = tril
        self.scale_tril = tril.expand(*batch, k, k)
        super().__init__(batch, (k,))

    @property
    def covariance_matrix(self):
        r"""The covariance :math:`\Sigma = L L^T` (``(*batch, k, k)``), from the Cholesky factor ``scale_tril`` :math:`L`."""
        return self.scale_tril @ self.scale_tril.mT

    @property
    def precision_matrix(self):
        r"""The precision :math:`\Sigma^{-1}` (``(*batch, k, k)``)."""
        return linalg.inv(self.covariance_matrix)

    @property
    def mean(self):
        r"""The mean, ``loc`` (``(*batch, k)``)."""
        return self.loc

    @property
    def mode(self):
        r"""The mode, ``loc``."""
        return self.loc

    @property
    def variance(self):
        r"""The marginal variances, the diagonal of :math:`\Sigma` (``(*batch, k)``)."""
        return (self.scale_tril ** 2).sum(-1)

    def rsample(self, sample_shape=()):
        eps = randn(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        value = _param(value, "value", "MultivariateNormal.log_prob")
        diff = value - self.loc
        batch = tuple(diff.shape[:-1])
        tril = self._unbroadcasted_scale_tril
        y = linalg.solve(tril.expand(*_broadcast_shape(batch, tuple(tril.shape[:-2])), *tril.shape[-2:]),
                         diff.unsqueeze(-1)).squeeze(-1)
        k = self.event_shape[0]
        return -0.5 * (k * math.log(2 * math.pi) + (y * y).sum(-1)) - self._half_log_det()

    def entropy(self):
        k = self.event_shape[0]
        h = 0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(*self.batch_shape) if self.batch_shape else h


class Gamma(Distribution):
    """Gamma(concentration, rate): density rate^a x^(a-1) exp(-rate x) / Gamma(a) on x > 0."""

    has_rsample = True

    def __init__(self, concentration, rate):
        (self.concentration, self.rate), shape = _broadcast_params("Gamma", ("concentration", "rate"),
                                                                   concentration=concentration, rate=rate)
        super().__init__(shape)

    @property
    def mean(self):
        r"""The mean, :math:`\alpha / \beta` (concentration over rate)."""
        return self.concentration / self.rate

    @property
    def mode(self):
        r"""The mode, :math:`(\alpha - 1) / \beta`, clamped at 0 (for :math:`\alpha < 1` the density peaks at 0)."""
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        r"""The variance, :math:`\alpha / \beta^2`."""
        return self.concentration / self.rate ** 2

    def rsample(self, sample_shape=()):
        """G / rate with G ~ Gamma(concentration, 1): differentiable with respect to both parameters
        (the concentration through the implicit reparameterisation gradient)."""
        shape = self._extended_shape(sample_shape)
        return _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)

    def log_prob(self, value):
        value = _param(value, "value", "Gamma.log_prob")
        a, b = self.concentration, self.rate
        return a * b.log() + (a - 1) * value.log() - b * value - a.lgamma()

    def entropy(self):
        a = self.concentration
        return a - self.rate.log() + a.lgamma() + (1.0 - a) * a.digamma()


class Beta(Distribution):
    """Beta(concentration1, concentration0): density x^(a-1) (1-x)^(b-1) / B(a, b) on (0, 1)."""

    has_rsample = True

    def __init__(self, concentration1, concentration0):
        (self.concentration1, self.concentration0), shape = _broadcast_params(
            "Beta", ("concentration1", "concentration0"), concentration1=concentration1, concentration0=concentration0)
        super().__init__(shape)

    @property
    def mean(self):
        r"""The mean, :math:`\alpha / (\alpha + \beta)` (``concentration1`` :math:`\alpha`, ``concentration0`` :math:`\beta`)."""
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        r"""The mode, :math:`(\alpha - 1) / (\alpha + \beta - 2)` (meaningful for :math:`\alpha, \beta > 1`)."""
        return (self.concentration1 - 1) / (self.concentration1 + self.concentration0 - 2)

    @property
    def variance(self):
        r"""The variance, :math:`\alpha\beta / ((\alpha + \beta)^2 (\alpha + \beta + 1))`."""
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def rsample(self, sample_shape=()):
        """X / (X + Y) with X ~ Gamma(concentration1), Y ~ Gamma(concentration0): differentiable with
        respect to both; kept inside (0, 1) by machine epsilon, as sample() always was."""
        shape = self._extended_shape(sample_shape)
        x = _standard_gamma(self.concentration1.expand(shape))
        y = _standard_gamma(self.concentration0.expand(shape))
        eps = _eps(x)
        return (x / (x + y)).clamp(eps, 1 - eps)

    def log_prob(self, value):
        value = _param(value, "value", "Beta.log_prob")
        a, b = self.concentration1, self.concentration0
        return (a - 1) * value.log() + (b - 1) * (-value).log1p() - (a.lgamma() + b.lgamma() - (a + b).lgamma())

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        total = a + b
        lbeta = a.lgamma() + b.lgamma() - total.lgamma()
        return lbeta - (a - 1) * a.digamma() - (b - 1) * b.digamma() + (total - 2) * total.digamma()


class Dirichlet(Distribution):
    """Dirichlet(concentration): distributions over the simplex of the last dim's size."""

    has_rsample = True

    def __init__(self, concentration):
        c = _param(concentration, "concentration", "Dirichlet")
        if c.ndim < 1:
            raise ValueError("Dirichlet: concentration parameter must be at least one-dimensional")
        _positive(c, "concentration", "Dirichlet")
        self.concentration = c
        super().__init__(tuple(c.shape[:-1]), tuple(c.shape[-1:]))

    @property
    def mean(self):
        r"""The mean, :math:`\alpha_i / \sum_j \alpha_j` along the last dimension."""
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        r"""The mode, :math:`(\alpha_i - 1) / \sum_j (\alpha_j - 1)` (concentrations below 1 are clamped to 1 first)."""
        c = (self.concentration - 1).clamp(min=0)
        return c / c.sum(-1, keepdim=True)

    @property
    def variance(self):
        r"""The variance of each component, :math:`\alpha_i (\alpha_0 - \alpha_i) / (\alpha_0^2 (\alpha_0 + 1))` with :math:`\alpha_0 = \sum_j \alpha_j`."""
        c = self.concentration
        c0 = c.sum(-1, keepdim=True)
        return c * (c0 - c) / (c0 ** 2 * (c0 + 1))

    def rsample(self, sample_shape=()):
        """G / G.sum(-1) with independent G_i ~ Gamma(concentration_i): differentiable with respect to
        the concentration."""
        g = _standard_gamma(self.concentration.expand(self._extended_shape(sample_shape)))
        return g / g.sum(-1, keepdim=True)

    def log_prob(self, value):
        value = _param(value, "value", "Dirichlet.log_prob")
        c = self.concentration
        return ((c - 1) * value.log()).sum(-1) + c.sum(-1).lgamma() - c.lgamma().sum(-1)

    def entropy(self):
        c = self.concentration
        k = c.shape[-1]
        c0 = c.sum(-1)
        return c.lgamma().sum(-1) - c0.lgamma() + (c0 - k) * c0.digamma() - ((c - 1) * c.digamma()).sum(-1)


class OneHotCategorical(Distribution):
    """OneHotCategorical(probs=None, logits=None): a Categorical whose samples are one-hot vectors
    (event_shape (K,)), in the parameters' dtype."""

    def __init__(self, probs=None, logits=None):
        self._categorical = Categorical(probs=probs, logits=logits)
        super().__init__(self._categorical.batch_shape, (self._categorical._num_events,))

    @property
    def probs(self):
        r"""The category probabilities (``(*batch, K)``, summing to 1 along the last dimension)."""
        return self._categorical.probs

    @property
    def logits(self):
        r"""The normalised log-probabilities (``(*batch, K)``)."""
        return self._categorical.logits

    @property
    def mean(self):
        r"""The mean one-hot vector, which is ``probs``."""
        return self.probs

    @property
    def mode(self):
        r"""The one-hot vector of the most probable category."""
        return F.one_hot(self._categorical.mode, self.event_shape[0]).to(self.probs.dtype)

    @property
    def variance(self):
        r"""The variance of each component, :math:`p_i (1 - p_i)`."""
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        index = self._categorical.sample(sample_shape)
        return F.one_hot(index, self.event_shape[0]).to(self.probs.dtype)

    def log_prob(self, value):
        value = _param(value, "value", "OneHotCategorical.log_prob") if not isinstance(value, Tensor) else value
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()


class Independent(Distribution):
    """Reinterprets the rightmost reinterpreted_batch_ndims batch dims of base_distribution as event
    dims: log_prob and entropy are summed over them (a diagonal Normal as one multivariate event)."""

    def __init__(self, base_distribution, reinterpreted_batch_ndims):
        if not isinstance(base_distribution, Distribution):
            raise TypeError(f"Independent: base_distribution must be a Distribution, got "
                            f"{type(base_distribution).__name__}")
        n = reinterpreted_batch_ndims
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= len(base_distribution.batch_shape):
            raise ValueError(f"Independent: expected 0 <= reinterpreted_batch_ndims <= "
                             f"len(base_distribution.batch_shape) = {len(base_distribution.batch_shape)}, got {n!r}")
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = n
        batch = base_distribution.batch_shape
        cut = len(batch) - n
        super().__init__(batch[:cut], batch[cut:] + base_distribution.event_shape)

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    @property
    def mean(self):
        r"""The base distribution's mean."""
        return self.base_dist.mean

    @property
    def mode(self):
        r"""The base distribution's mode."""
        return self.base_dist.mode

    @property
    def variance(self):
        r"""The base distribution's variance."""
        return self.base_dist.variance

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value):
        return _sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self):
        return _sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)


class Exponential(Distribution):
    """Exponential(rate): density rate * exp(-rate x) on x >= 0."""

    has_rsample = True

    def __init__(self, rate):
        rate = _param(rate, "rate", "Exponential")
        _positive(rate, "rate", "Exponential")
        self.rate = rate
        super().__init__(tuple(rate.shape))

    @property
    def mean(self):
        r"""The mean, :math:`1 / \lambda`."""
        return 1 / self.rate

    @property
    def mode(self):
        r"""The mode, 0."""
        return self.rate * 0

    @property
    def variance(self):
        r"""The variance, :math:`1 / \lambda^2`."""
        return self.rate ** -2

    def rsample(self, sample_shape=()):
        e = empty(self._extended_shape(sample_shape), dtype=self.rate.dtype).exponential_()
        return e / self.rate

    def log_prob(self, value):
        value = _param(value, "value", "Exponential.log_prob")
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        r""":math:`P(X \le x) = 1 - e^{-\lambda x}`."""
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        r"""The inverse CDF: :math:`-\ln(1 - p) / \lambda`."""
        return -(-value).log1p() / self.rate

    def entropy(self):
        return 1.0 - self.rate.log()


class Laplace(Distribution):
    """Laplace(loc, scale): density exp(-|x - loc| / scale) / (2 scale)."""

    has_rsample = True

    def __init__(self, loc, scale):
        (self.loc, self.scale), shape = _broadcast_params("Laplace", ("scale",), loc=loc, scale=scale)
        super().__init__(shape)

    @property
    def mean(self):
        r"""The mean, ``loc``."""
        return self.loc

    @property
    def mode(self):
        r"""The mode, ``loc``."""
        return self.loc

    @property
    def variance(self):
        r"""The variance, :math:`2 b^2` with ``scale`` :math:`b`."""
        return 2 * self.scale ** 2

    def rsample(self, sample_shape=()):
        eps = float(_np_finfo_eps(self.loc))
        u = rand(self._extended_shape(sample_shape), dtype=self.loc.dtype) * (2 - 2 * eps) - (1 - eps)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        value = _param(value, "value", "Laplace.log_prob")
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        r""":math:`P(X \le x) = \frac12 + \frac12 \operatorname{sign}(x - \mu) \left(1 - e^{-|x - \mu| / b}\right)`."""
        z = value - self.loc
        return 0.5 - 0.5 * z.sign() * (-z.abs() / self.scale).expm1()

    def entropy(self):
        return 1 + (2 * self.scale).log()


def _np_finfo_eps(t):
    return np.finfo(np.asarray(t.detach()).dtype).eps


class Poisson(Distribution):
    """Poisson(rate): counts k >= 0 with probability rate^k exp(-rate) / k! (float samples)."""

    def __init__(self, rate):
        rate = _param(rate, "rate", "Poisson")
        with no_grad():
            if rate.numel() and not bool((rate >= 0).all()):
                raise ValueError("Poisson: rate must be non-negative")
        self.rate = rate
        super().__init__(tuple(rate.shape))

    @property
    def mean(self):
        r"""The mean, the rate :math:`\lambda`."""
        return self.rate

    @property
    def mode(self):
        r"""The mode, :math:`\lfloor \lambda \rfloor`."""
        return self.rate.floor()

    @property
    def variance(self):
        r"""The variance, the rate :math:`\lambda`."""
        return self.rate

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return _from_np(_np_rng().poisson(_np_param(self.rate, shape)), self.rate)

    def log_prob(self, value):
        value = _param(value, "value", "Poisson.log_prob")
        return xlogy(value, self.rate) - self.rate - (value + 1).lgamma()


class Binomial(Distribution):
    """Binomial(total_count=1, probs=None, logits=None): successes in total_count trials (float
    samples)."""

    def __init__(self, total_count=1, probs=None, logits=None):
        if (probs is None) == (logits is None):
            raise ValueError("Binomial: pass exactly one of probs or logits")
        count = _param(total_count, "total_count", "Binomial")
        if logits is None:
            p = _param(probs, "probs", "Binomial")
            with no_grad():
                if p.numel() and not bool(((p >= 0) & (p <= 1)).all()):
                    raise ValueError("Binomial: probs must be in [0, 1]")
            q = p.clamp(_eps(p), 1 - _eps(p))
            self.probs, self.logits = p, q.log() - (-q).log1p()
        else:
            self.logits = _param(logits, "logits", "Binomial")
            self.probs = self.logits.sigmoid()
        shape = _broadcast_shape(tuple(count.shape), tuple(self.probs.shape))
        self.total_count = count.to(self.probs.dtype).expand(shape)
        self.probs, self.logits = self.probs.expand(shape), self.logits.expand(shape)
        super().__init__(shape)

    @property
    def mean(self):
        r"""The mean, :math:`n p`."""
        return self.total_count * self.probs

    @property
    def variance(self):
        r"""The variance, :math:`n p (1 - p)`."""
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        n = np.broadcast_to(np.asarray(self.total_count.detach()).astype(np.int64), shape)
        return _from_np(_np_rng().binomial(n, _np_param(self.probs, shape)), self.probs)

    def log_prob(self, value):
        value = _param(value, "value", "Binomial.log_prob")
        n = self.total_count
        log_comb = (n + 1).lgamma() - (value + 1).lgamma() - (n - value + 1).lgamma()
        # k log p + (n - k) log(1 - p) through the logits: log p = -softplus(-l), log(1 - p) = -softplus(l)
        return log_comb - value * F.softplus(-self.logits) - (n - value) * F.softplus(self.logits)


# ------------------------------------------------------------------------------ KL divergence
_KL_REGISTRY = {}


def register_kl(type_p, type_q):
    """Decorator registering fn(p, q) as KL(p || q) for p of type_p and q of type_q (subclasses
    included; the most specific registered pair wins)."""
    def deco(fn):
        _KL_REGISTRY[(type_p, type_q)] = fn
        return fn

    return deco


def kl_divergence(p, q):
    """KL(p || q), elementwise over the broadcast batch shape; differentiable with respect to the
    parameters of both. Pairs: every family with itself (Normal, Categorical, Bernoulli, Uniform,
    MultivariateNormal, Beta, Gamma, Dirichlet, OneHotCategorical, Independent), and any pair added
    with register_kl."""
    matches = [(tp, tq) for (tp, tq) in _KL_REGISTRY if isinstance(p, tp) and isinstance(q, tq)]
    if not matches:
        raise NotImplementedError(f"kl_divergence: not implemented for {type(p).__name__} and {type(q).__name__}")
    best = min(matches, key=lambda pair: (type(p).__mro__.index(pair[0]), type(q).__mro__.index(pair[1])))
    return _KL_REGISTRY[best](p, q)


@register_kl(Normal, Normal)
def _kl_normal(p, q):
    ratio = p.scale / q.scale
    d = (p.loc - q.loc) / q.scale
    return 0.5 * (ratio * ratio + d * d - 1) - ratio.log()


@register_kl(Categorical, Categorical)
def _kl_categorical(p, q):
    if p._num_events != q._num_events:
        raise ValueError(f"kl_divergence: Categoricals with {p._num_events} and {q._num_events} categories")
    return (p.probs * (p.logits - q.logits)).sum(-1)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli(p, q):
    # p log(p / q) + (1 - p) log((1 - p) / (1 - q)), through the logits: log p = -softplus(-l),
    # log(1 - p) = -softplus(l)
    lp, lq = p.logits, q.logits
    return p.probs * (F.softplus(-lq) - F.softplus(-lp)) + (1 - p.probs) * (F.softplus(lq) - F.softplus(lp))


@register_kl(Uniform, Uniform)
def _kl_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    outside = (q.low > p.low) | (q.high < p.high)
    return result.masked_fill(outside, float("inf"))


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError("kl_divergence: MultivariateNormals of different dimensions")
    k = p.event_shape[0]
    batch = _broadcast_shape(p.batch_shape, q.batch_shape)
    lq = q._unbroadcasted_scale_tril.expand(*batch, k, k)
    lp = p._unbroadcasted_scale_tril.expand(*batch, k, k)
    m = linalg.solve(lq, lp)  # Lq^-1 Lp: its squared Frobenius norm is tr(Sq^-1 Sp)
    diff = (q.loc - p.loc).expand(*batch, k)
    y = linalg.solve(lq, diff.unsqueeze(-1)).squeeze(-1)
    term = (m * m).sum((-2, -1)) + (y * y).sum(-1) - k
    return 0.5 * term + q._half_log_det() - p._half_log_det()


@register_kl(Gamma, Gamma)
def _kl_gamma(p, q):
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = q.concentration.lgamma() - p.concentration.lgamma()
    t3 = (p.concentration - q.concentration) * p.concentration.digamma()
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Beta, Beta)
def _kl_beta(p, q):
    sum_p = p.concentration1 + p.concentration0
    sum_q = q.concentration1 + q.concentration0
    t1 = q.concentration1.lgamma() + q.concentration0.lgamma() + sum_p.lgamma()
    t2 = p.concentration1.lgamma() + p.concentration0.lgamma() + sum_q.lgamma()
    t3 = (p.concentration1 - q.concentration1) * p.concentration1.digamma()
    t4 = (p.concentration0 - q.concentration0) * p.concentration0.digamma()
    t5 = (sum_q - sum_p) * sum_p.digamma()
    return t1 - t2 + t3 + t4 + t5


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet(p, q):
    sum_p = p.concentration.sum(-1)
    sum_q = q.concentration.sum(-1)
    t1 = sum_p.lgamma() - sum_q.lgamma()
    t2 = (p.concentration.lgamma() - q.concentration.lgamma()).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = p.concentration.digamma() - sum_p.digamma().unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot(p, q):
    return _kl_categorical(p._categorical, q._categorical)


@register_kl(Independent, Independent)
def _kl_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independents with different reinterpreted_batch_ndims")
    return _sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


@register_kl(Exponential, Exponential)
def _kl_exponential(p, q):
    ratio = q.rate / p.rate
    return ratio - 1 - ratio.log()


@register_kl(Laplace, Laplace)
def _kl_laplace(p, q):
    scale_ratio = p.scale / q.scale
    loc_diff = (p.loc - q.loc).abs()
    return -scale_ratio.log() + loc_diff / q.scale + scale_ratio * (-loc_diff / p.scale).exp() - 1


@register_kl(Poisson, Poisson)
def _kl_poisson(p, q):
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Binomial, Binomial)
def _kl_binomial(p, q):
    with no_grad():
        if not bool((p.total_count == q.total_count).all()):
            raise NotImplementedError("kl_divergence: Binomials with different total_count")
    return p.total_count * _kl_bernoulli(p, q)


def _submodules():
    """PyTorch's submodule paths (torch.distributions.normal.Normal, torch.distributions.kl, ...)
    as aliases of this one module, registered in sys.modules so that `import` and `from ... import`
    find them."""
    layout = {
        "distribution": ["Distribution"], "normal": ["Normal"], "categorical": ["Categorical"],
        "bernoulli": ["Bernoulli"], "uniform": ["Uniform"], "multivariate_normal": ["MultivariateNormal"],
        "beta": ["Beta"], "gamma": ["Gamma"], "dirichlet": ["Dirichlet"], "exponential": ["Exponential"],
        "laplace": ["Laplace"], "poisson": ["Poisson"], "binomial": ["Binomial"],
        "one_hot_categorical": ["OneHotCategorical"], "independent": ["Independent"],
        "kl": ["kl_divergence", "register_kl"],
    }
    this = sys.modules[__name__]
    for sub, names in layout.items():
        if sub in vars(this):  # a module-level name would be shadowed (as ops.creation.bernoulli once was)
            raise ImportError(f"distributions: the submodule alias {sub!r} would shadow a module-level name")
        module = types.ModuleType(f"{__name__}.{sub}", f"torch.distributions.{sub} names: {', '.join(names)}")
        for name in names:
            setattr(module, name, getattr(this, name))
        sys.modules[module.__name__] = module
        setattr(this, sub, module)


_submodules()
