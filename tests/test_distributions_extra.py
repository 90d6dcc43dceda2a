"""Uniform, MultivariateNormal, Beta, Gamma, Dirichlet, OneHotCategorical, Independent: log_prob,
entropy, mean, variance and kl_divergence against torch.distributions (when installed) and
formulas; sample moments; rsample gradients; special functions (lgamma, digamma, polygamma)."""
import math

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import distributions as D

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")
RNG = np.random.default_rng(5)
A = RNG.uniform(0.5, 3.0, (3, 4))
B = RNG.uniform(0.5, 3.0, (3, 4))
L = np.tril(RNG.standard_normal((2, 3, 3)), -1) + np.diag(RNG.uniform(0.5, 1.5, 3))
LOC = RNG.standard_normal((2, 3))


def build(lib, name, variant=0):
    d = lib.distributions
    t = (lambda a: ag.tensor(a)) if lib is ag else (lambda a: torch.tensor(a))
    shift = 0.3 * variant
    if name == "Uniform":
        return d.Uniform(t(-A - shift), t(B))
    if name == "MultivariateNormal":
        return d.MultivariateNormal(t(LOC + shift), scale_tril=t(L * (1 + shift)))
    if name == "MultivariateNormal-cov":
        cov = L @ L.transpose(0, 2, 1) * (1 + shift)
        return d.MultivariateNormal(t(LOC), covariance_matrix=t(cov))
    if name == "Beta":
        return d.Beta(t(A + shift), t(B))
    if name == "Gamma":
        return d.Gamma(t(A), t(B + shift))
    if name == "Dirichlet":
        return d.Dirichlet(t(A + shift))
    if name == "OneHotCategorical":
        return d.OneHotCategorical(logits=t(A * (1 + shift)))
    if name == "Independent":
        return d.Independent(d.Normal(t(LOC + shift), t(A[:2, :3])), 1)
    raise KeyError(name)


def value_for(name, lib):
    t = (lambda a: ag.tensor(a)) if lib is ag else (lambda a: torch.tensor(a))
    if name == "Uniform":
        return t(np.clip(RNG_VALUES["u"], -A + 1e-3, B - 1e-3))
    if name.startswith("MultivariateNormal"):
        return t(RNG_VALUES["mvn"])
    if name == "Beta":
        return t(RNG_VALUES["beta"])
    if name == "Gamma":
        return t(RNG_VALUES["gamma"])
    if name == "Dirichlet":
        return t(RNG_VALUES["dir"])
    if name == "OneHotCategorical":
        return t(np.eye(4)[[0, 3, 1]])
    return t(RNG_VALUES["mvn"])


RNG_VALUES = {"u": RNG.uniform(-1, 1, (3, 4)), "mvn": RNG.standard_normal((5, 2, 3)), "beta": RNG.uniform(0.05, 0.95, (3, 4)),
              "gamma": RNG.uniform(0.1, 4, (3, 4)), "dir": RNG.dirichlet(np.ones(4), size=3)}
NAMES = ["Uniform", "MultivariateNormal", "MultivariateNormal-cov", "Beta", "Gamma", "Dirichlet", "OneHotCategorical",
         "Independent"]


@needs_torch
@pytest.mark.parametrize("name", NAMES)
def test_matches_torch(name):
    ours, theirs = build(ag, name), build(torch, name)
    assert ours.batch_shape == tuple(theirs.batch_shape) and ours.event_shape == tuple(theirs.event_shape)
    np.testing.assert_allclose(ours.log_prob(value_for(name, ag)).numpy(), theirs.log_prob(value_for(name, torch)).numpy(),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.mean.numpy(), theirs.mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.variance.numpy(), theirs.variance.numpy(), rtol=1e-10)
    kl = D.kl_divergence(ours, build(ag, name, 1))
    tkl = torch.distributions.kl_divergence(theirs, build(torch, name, 1))
    np.testing.assert_allclose(kl.numpy(), tkl.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_sample_shapes_and_moments(name):
    ag.manual_seed(0)
    dist = build(ag, name)
    s = dist.sample((4000,))
    assert tuple(s.shape) == (4000,) + dist.batch_shape + dist.event_shape
    assert not s.requires_grad
    mean = s.numpy().mean(0)
    np.testing.assert_allclose(mean, dist.mean.numpy(), atol=0.12 * max(1.0, float(np.abs(dist.mean.numpy()).max())))
    if name not in ("MultivariateNormal", "MultivariateNormal-cov", "Independent", "Uniform"):
        return
    ag.manual_seed(3)
    a = dist.sample((2,))
    ag.manual_seed(3)
    assert np.array_equal(dist.sample((2,)).numpy(), a.numpy())


def test_rsample_gradients():
    loc = ag.tensor(LOC, requires_grad=True)
    tril = ag.tensor(L, requires_grad=True)
    ag.manual_seed(1)
    x = D.MultivariateNormal(loc, scale_tril=tril).rsample((3,))
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), np.full(LOC.shape, 3.0))
    # x = loc + L eps, so d sum(x) / dL[b, i, j] = sum over samples of eps[b, j], for every row i
    centred = x.detach().numpy() - LOC
    eps = np.stack([[np.linalg.solve(L[b], centred[k, b]) for b in range(L.shape[0])] for k in range(3)])
    np.testing.assert_allclose(tril.grad.numpy(), np.broadcast_to(eps.sum(0)[:, None, :], L.shape), atol=1e-12)
    low = ag.tensor([0.0], requires_grad=True)
    D.Uniform(low, 2.0).rsample((10,)).sum().backward()
    assert low.grad.item() > 0
    with pytest.raises(NotImplementedError, match="Poisson has no reparameterised sampling"):
        D.Poisson(1.0).rsample()


def test_gradients_of_log_prob_and_kl():
    def lp(a, b):
        return D.Beta(a, b).log_prob(ag.tensor(RNG_VALUES["beta"]))

    leaf = lambda x: ag.tensor(x, requires_grad=True)
    assert ag.autograd.gradcheck(lp, [leaf(A), leaf(B)])
    assert ag.autograd.gradcheck(lambda a, b: D.kl_divergence(D.Gamma(a, b), D.Gamma(b, a)), [leaf(A), leaf(B)])
    assert ag.autograd.gradcheck(lambda c: D.Dirichlet(c).entropy(), [leaf(A)])
    assert ag.autograd.gradcheck(
        lambda m, t: D.MultivariateNormal(m, scale_tril=t).log_prob(ag.tensor(RNG_VALUES["mvn"])), [leaf(LOC), leaf(L)])


def test_formulas_without_torch():
    u = D.Uniform(ag.tensor([0.0]), ag.tensor([4.0]))
    assert math.isclose(u.log_prob(ag.tensor([1.0])).item(), -math.log(4), rel_tol=1e-6)
    assert u.log_prob(ag.tensor([5.0])).item() == -math.inf
    g = D.Gamma(ag.tensor([2.0], dtype=ag.float64), ag.tensor([3.0], dtype=ag.float64))
    x = 0.7
    assert math.isclose(g.log_prob(ag.tensor([x], dtype=ag.float64)).item(),
                        2 * math.log(3) + math.log(x) - 3 * x - math.lgamma(2), rel_tol=1e-12)
    mvn = D.MultivariateNormal(ag.zeros(2, dtype=ag.float64), covariance_matrix=ag.eye(2, dtype=ag.float64) * 4)
    assert math.isclose(mvn.log_prob(ag.zeros(2, dtype=ag.float64)).item(), -math.log(2 * math.pi * 4), rel_tol=1e-12)
    ind = D.Independent(D.Normal(ag.zeros(3), ag.ones(3)), 1)
    assert ind.batch_shape == () and ind.event_shape == (3,)
    oh = D.OneHotCategorical(probs=ag.tensor([0.2, 0.8]))
    assert math.isclose(oh.log_prob(ag.tensor([0.0, 1.0])).item(), math.log(0.8), rel_tol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="low must be smaller"):
        D.Uniform(1.0, 0.0)
    with pytest.raises(ValueError, match="exactly one of covariance_matrix"):
        D.MultivariateNormal(ag.zeros(2))
    with pytest.raises(ValueError, match="k = loc.shape"):
        D.MultivariateNormal(ag.zeros(2), covariance_matrix=ag.eye(3))
    with pytest.raises(ValueError, match="concentration must be positive"):
        D.Gamma(-1.0, 1.0)
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        D.Independent(D.Normal(ag.zeros(3), ag.ones(3)), 2)
    with pytest.raises(NotImplementedError, match="not implemented for Gamma and Beta"):
        D.kl_divergence(D.Gamma(1.0, 1.0), D.Beta(1.0, 1.0))

    @D.register_kl(D.Gamma, D.Beta)
    def _gamma_beta(p, q):
        return p.concentration * 0

    assert D.kl_divergence(D.Gamma(1.0, 1.0), D.Beta(1.0, 1.0)).item() == 0


@needs_torch
def test_special_functions_match_torch():
    x = np.concatenate([np.linspace(-4.5, -0.1, 23), np.linspace(0.05, 30, 60)])
    for n in range(4):
        ours = ag.polygamma(n, ag.tensor(x)).numpy()
        theirs = torch.polygamma(n, torch.tensor(x)).numpy()
        # torch's trigamma is accurate to about 5e-10 relative (ours to 1e-15 against mpmath)
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(ag.lgamma(ag.tensor(x)).numpy(), torch.lgamma(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ag.special.digamma(ag.tensor(x[30:], dtype=ag.float32)).numpy(),
                               torch.special.digamma(torch.tensor(x[30:], dtype=torch.float32)).numpy(), rtol=1e-5)
    assert ag.lgamma(ag.tensor([0.0])).item() == math.inf and ag.digamma(ag.tensor([0.0])).item() == -math.inf
    assert ag.autograd.gradgradcheck(ag.lgamma, [ag.tensor(np.linspace(0.3, 4, 5), requires_grad=True)])
    np.testing.assert_allclose(ag.mvlgamma(ag.tensor(A), 3).numpy(), torch.mvlgamma(torch.tensor(A), 3).numpy(), rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("name", ["Exponential", "Laplace", "Poisson", "Binomial"])
def test_more_families_match_torch(name):
    counts = RNG_VALUES["gamma"].round()

    def make(lib, shift=0.0):
        t = (lambda a: ag.tensor(a)) if lib is ag else (lambda a: torch.tensor(a))
        d = lib.distributions
        if name == "Exponential":
            return d.Exponential(t(A + shift))
        if name == "Laplace":
            return d.Laplace(t(B + shift), t(A))
        if name == "Poisson":
            return d.Poisson(t(A + shift))
        return d.Binomial(t(np.full(A.shape, 6.0)), t(A / 4 + shift / 10))

    value = counts if name in ("Poisson", "Binomial") else RNG_VALUES["gamma"]
    ours, theirs = make(ag), make(torch)
    np.testing.assert_allclose(ours.log_prob(ag.tensor(value)).numpy(), theirs.log_prob(torch.tensor(value)).numpy(),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.mean.numpy(), theirs.mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.variance.numpy(), theirs.variance.numpy(), rtol=1e-12)
    np.testing.assert_allclose(D.kl_divergence(ours, make(ag, 0.3)).numpy(),
                               torch.distributions.kl_divergence(theirs, make(torch, 0.3)).numpy(), rtol=1e-9, atol=1e-12)
    if name in ("Exponential", "Laplace"):
        np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy(), rtol=1e-12)
    ag.manual_seed(2)
    samples = ours.sample((3000,)).numpy()
    np.testing.assert_allclose(samples.mean(0), ours.mean.numpy(), atol=0.25)


def test_submodule_import_paths():
    from autograd_core.distributions.kl import kl_divergence, register_kl
    from autograd_core.distributions.normal import Normal
    from autograd_core.distributions.one_hot_categorical import OneHotCategorical

    assert Normal is D.Normal and OneHotCategorical is D.OneHotCategorical
    assert kl_divergence is D.kl_divergence and register_kl is D.register_kl
    assert D.bernoulli.Bernoulli(probs=0.5).sample((3,)).shape == (3,)
