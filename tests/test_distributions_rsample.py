"""rsample of Gamma, Beta and Dirichlet: the implicit reparameterisation gradient per sample against
finite differences of the Gamma CDF (scipy) and torch's _standard_gamma_grad on the same draws, and
the Monte Carlo gradient of E[f(x)] against its closed form."""
import math

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import distributions as D
from autograd_core.distributions import _standard_gamma_grad

CONCENTRATIONS = [0.01, 0.1, 0.5, 1.0, 2.5, 10.0, 100.0, 3000.0]


def _draws(a, n, seed):
    x = np.random.default_rng(seed).standard_gamma(a, n)
    # and points on both sides of the switch between the series and the upper-tail quadrature
    edge = a + 1 + 2 * math.sqrt(a)
    return np.concatenate([np.maximum(x, 1e-300), [edge * (1 - 1e-9), edge * (1 + 1e-9), a + 8 * math.sqrt(a) + 6]])


@pytest.mark.parametrize("a", CONCENTRATIONS)
def test_standard_gamma_grad_matches_cdf_finite_differences(a):
    special = pytest.importorskip("scipy.special")
    x = _draws(a, 12, int(a * 100))
    got = _standard_gamma_grad(np.full(x.shape, a), x)
    h = 1e-5 * a
    # difference whichever of P and Q = 1 - P is the small one, so the difference does not cancel
    dcdf = np.where(x < a, special.gammainc(a + h, x) - special.gammainc(a - h, x),
                    special.gammaincc(a - h, x) - special.gammaincc(a + h, x)) / (2 * h)
    log_pdf = (a - 1) * np.log(x) - x - math.lgamma(a)
    want = -dcdf / np.exp(log_pdf)
    keep = np.exp(log_pdf) > 1e-250  # the quotient of two underflowing numbers tells nothing
    np.testing.assert_allclose(got[keep], want[keep], rtol=2e-5)


def test_standard_gamma_grad_matches_torch_on_the_same_draws():
    torch = pytest.importorskip("torch")
    a = np.repeat([0.1, 0.7, 1.0, 3.0, 40.0], 40)
    x = np.maximum(np.random.default_rng(1).standard_gamma(a), 1e-300)
    ours = _standard_gamma_grad(a, x)
    theirs = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(x)).numpy()
    # torch's kernel is a fitted approximation (about 3e-4 relative); ours is exact to ~1e-12
    np.testing.assert_allclose(ours, theirs, rtol=2e-3)


def test_gamma_rsample_per_sample_gradient():
    n = 400
    a = ag.full((n,), 1.7, dtype=ag.float64, requires_grad=True)
    b = ag.full((n,), 0.5, dtype=ag.float64, requires_grad=True)
    ag.manual_seed(0)
    x = D.Gamma(a, b).rsample()
    assert x.shape == (n,) and x.dtype == ag.float64 and x.requires_grad
    x.sum().backward()
    g = x.detach().numpy() * 0.5  # the standard draw
    np.testing.assert_allclose(a.grad.numpy(), _standard_gamma_grad(np.full(n, 1.7), g) / 0.5, rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), -x.detach().numpy() / 0.5, rtol=1e-12)


def _mean_and_error(per_sample):
    return per_sample.mean(), per_sample.std() / math.sqrt(per_sample.size)


@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_gamma_monte_carlo_gradients(dtype):
    n = 20000
    alpha, beta = 0.8, 2.0
    a = ag.full((n,), alpha, dtype=dtype, requires_grad=True)
    b = ag.full((n,), beta, dtype=dtype, requires_grad=True)
    ag.manual_seed(3)
    x = D.Gamma(a, b).rsample()
    (x * x).sum().backward()
    # E[x^2] = a (a + 1) / b^2: d/da = (2a + 1) / b^2, d/db = -2 a (a + 1) / b^3
    mean, err = _mean_and_error(a.grad.numpy().astype(np.float64))
    assert abs(mean - (2 * alpha + 1) / beta ** 2) < 5 * err
    mean, err = _mean_and_error(b.grad.numpy().astype(np.float64))
    assert abs(mean + 2 * alpha * (alpha + 1) / beta ** 3) < 5 * err
    # d/da E[x] = 1 / b, through a scalar parameter broadcast over the sample shape
    c = ag.tensor(alpha, dtype=dtype, requires_grad=True)
    D.Gamma(c, beta).rsample((n,)).mean().backward()
    assert abs(c.grad.item() - 1 / beta) < 0.03


def test_gamma_log_moment_gradient_is_trigamma():
    n = 20000
    alpha = 3.0
    a = ag.full((n,), alpha, dtype=ag.float64, requires_grad=True)
    ag.manual_seed(4)
    D.Gamma(a, 1.0).rsample().log().sum().backward()
    # E[log x] = digamma(a), so its derivative is trigamma(a)
    mean, err = _mean_and_error(a.grad.numpy())
    assert abs(mean - ag.polygamma(1, ag.tensor(alpha, dtype=ag.float64)).item()) < 5 * err


def test_beta_monte_carlo_gradients():
    n = 20000
    alpha, beta = 2.0, 0.7
    a = ag.full((n,), alpha, dtype=ag.float64, requires_grad=True)
    b = ag.full((n,), beta, dtype=ag.float64, requires_grad=True)
    ag.manual_seed(5)
    x = D.Beta(a, b).rsample()
    assert float(x.min()) > 0 and float(x.max()) < 1
    x.sum().backward()
    # E[x] = a / (a + b)
    total = alpha + beta
    mean, err = _mean_and_error(a.grad.numpy())
    assert abs(mean - beta / total ** 2) < 5 * err
    mean, err = _mean_and_error(b.grad.numpy())
    assert abs(mean + alpha / total ** 2) < 5 * err


def test_dirichlet_monte_carlo_gradients():
    n = 20000
    conc = np.array([0.5, 1.5, 3.0])
    c = ag.tensor(np.tile(conc, (n, 1)), requires_grad=True)
    ag.manual_seed(6)
    x = D.Dirichlet(c).rsample()
    assert x.shape == (n, 3)
    np.testing.assert_allclose(x.detach().numpy().sum(-1), 1.0, rtol=1e-12)
    x[:, 0].sum().backward()
    # E[x_0] = c_0 / c_sum: d/dc_i = (delta_i0 c_sum - c_0) / c_sum^2
    total = conc.sum()
    want = (np.eye(3)[0] * total - conc[0]) / total ** 2
    grads = c.grad.numpy()
    for i in range(3):
        mean, err = _mean_and_error(grads[:, i])
        assert abs(mean - want[i]) < 5 * err, i


def test_sample_is_rsample_without_graph_and_seeded():
    for dist in (D.Gamma(ag.tensor([1.5, 0.2], requires_grad=True), 2.0),
                 D.Beta(ag.tensor([1.5, 0.2], requires_grad=True), 0.5),
                 D.Dirichlet(ag.tensor([[1.5, 0.2, 1.0]], requires_grad=True))):
        assert dist.has_rsample
        ag.manual_seed(9)
        s = dist.sample((4,))
        assert not s.requires_grad and s.shape == (4,) + dist.batch_shape + dist.event_shape
        ag.manual_seed(9)
        r = dist.rsample((4,))
        assert r.requires_grad
        np.testing.assert_array_equal(s.numpy(), r.detach().numpy())
        assert float(r.detach().min()) > 0


def test_independent_over_gamma_has_rsample():
    ind = D.Independent(D.Gamma(ag.ones(3, requires_grad=True), 1.0), 1)
    assert ind.has_rsample
    assert ind.rsample((2,)).shape == (2, 3)


def test_tiny_concentration_stays_positive_with_finite_gradient():
    a = ag.full((200,), 1e-3, dtype=ag.float32, requires_grad=True)
    ag.manual_seed(2)
    x = D.Gamma(a, 1.0).rsample()
    assert float(x.detach().min()) > 0
    x.sum().backward()
    assert np.isfinite(a.grad.numpy()).all()
