"""autograd_core.distributions: Normal, Categorical, Bernoulli and kl_divergence.

Without torch: closed forms checked against NumPy, gradients by gradcheck, sampling by its moments on
seeded draws, shapes, reproducibility and errors. With torch: log_prob, entropy and kl_divergence
compared with torch.distributions on the same parameters."""
import math

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.autograd import gradcheck

D = ag.distributions

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def f64(x, grad=False):
    return ag.tensor(x, dtype=ag.float64, requires_grad=grad)


# ------------------------------------------------------------------------------ Normal
def test_normal_log_prob_entropy_cdf_against_formulas():
    loc, scale, v = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.2, 3.0]), np.array([0.3, -0.7, 10.0])
    n = D.Normal(f64(loc), f64(scale))
    want = -0.5 * ((v - loc) / scale) ** 2 - np.log(scale) - 0.5 * np.log(2 * np.pi)
    np.testing.assert_allclose(n.log_prob(f64(v)).numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(n.entropy().numpy(), 0.5 + 0.5 * np.log(2 * np.pi) + np.log(scale), rtol=1e-12)
    erf = np.vectorize(math.erf)
    np.testing.assert_allclose(n.cdf(f64(v)).numpy(), 0.5 * (1 + erf((v - loc) / (scale * np.sqrt(2)))), rtol=1e-12)
    assert n.mean is n.loc and n.stddev is n.scale
    np.testing.assert_allclose(n.variance.numpy(), scale ** 2)


def test_normal_broadcasts_numbers_and_tensors():
    n = D.Normal(ag.zeros(4, 1), 2.0)
    assert n.batch_shape == (4, 1) and n.event_shape == ()
    assert tuple(n.sample((3,)).shape) == (3, 4, 1)
    assert tuple(D.Normal(ag.zeros(3), ag.ones(2, 1)).batch_shape) == (2, 3)


def test_normal_rsample_is_differentiable_and_sample_is_not():
    loc, scale = f64([0.5, -1.0], True), f64([1.5, 0.2], True)
    n = D.Normal(loc, scale)
    assert not n.sample().requires_grad
    ag.manual_seed(3)
    y = n.rsample((5,))
    ag.manual_seed(3)
    eps = ag.randn(5, 2, dtype=ag.float64)
    np.testing.assert_allclose(y.detach().numpy(), (loc + scale * eps).detach().numpy())
    y.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [5.0, 5.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy())


def test_normal_sample_moments():
    ag.manual_seed(0)
    x = D.Normal(ag.tensor([1.0, -2.0]), ag.tensor([0.5, 3.0])).sample((40000,)).numpy()
    np.testing.assert_allclose(x.mean(0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(x.std(0), [0.5, 3.0], rtol=0.03)


def test_normal_gradcheck():
    v = f64([0.3, -0.7])
    assert gradcheck(lambda m, s: D.Normal(m, s).log_prob(v), (f64([0.5, -1.0], True), f64([1.5, 0.2], True)))
    assert gradcheck(lambda m, s: D.Normal(m, s).entropy(), (f64([0.5, -1.0], True), f64([1.5, 0.2], True)))
    assert gradcheck(lambda a, b, c, d: D.kl_divergence(D.Normal(a, b), D.Normal(c, d)),
                     (f64([0.5, -1.0], True), f64([1.5, 0.2], True), f64([0.1, 0.0], True), f64([1.0, 2.0], True)))


# ------------------------------------------------------------------------------ Categorical
def test_categorical_from_probs_and_logits_agree():
    p = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    a = D.Categorical(probs=f64(p * 7))  # unnormalised weights are normalised
    b = D.Categorical(logits=f64(np.log(p) + 4.0))  # logits up to a constant
    np.testing.assert_allclose(a.probs.numpy(), p)
    np.testing.assert_allclose(b.probs.numpy(), p)
    idx = ag.tensor([2, 0])
    np.testing.assert_allclose(a.log_prob(idx).numpy(), np.log([0.3, 0.6]), rtol=1e-12)
    np.testing.assert_allclose(b.log_prob(idx).numpy(), np.log([0.3, 0.6]), rtol=1e-12)
    np.testing.assert_allclose(b.entropy().numpy(), -(p * np.log(p)).sum(1), rtol=1e-12)
    assert a.batch_shape == (2,) and a.param_shape == (2, 3)
    np.testing.assert_array_equal(a.mode.numpy(), [1, 0])


def test_categorical_log_prob_broadcasts_values_over_the_batch():
    c = D.Categorical(logits=ag.randn(4, 5))
    v = ag.tensor([[0], [1], [4]])  # (3, 1) against batch (4,)
    out = c.log_prob(v)
    assert tuple(out.shape) == (3, 4)
    np.testing.assert_allclose(out.numpy()[2], c.logits.numpy()[:, 4], rtol=1e-6)


def test_categorical_sample_shapes_and_frequencies():
    ag.manual_seed(1)
    c = D.Categorical(probs=ag.tensor([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]]))
    x = c.sample((30000,))
    assert tuple(x.shape) == (30000, 2) and x.dtype == ag.int64
    f0 = np.bincount(x.numpy()[:, 0], minlength=3) / 30000
    f1 = np.bincount(x.numpy()[:, 1], minlength=3) / 30000
    np.testing.assert_allclose(f0, [0.1, 0.2, 0.7], atol=0.015)
    np.testing.assert_allclose(f1, [0.5, 0.5, 0.0], atol=0.015)
    assert f1[2] == 0  # a zero-probability category is never drawn
    assert tuple(c.sample().shape) == (2,)
    assert tuple(D.Categorical(logits=ag.zeros(5)).sample((2, 3)).shape) == (2, 3)
    ag.manual_seed(7)
    first = c.sample((10,)).numpy()
    ag.manual_seed(7)
    np.testing.assert_array_equal(c.sample((10,)).numpy(), first)


def test_categorical_reinforce_gradient():
    # d/dlogits of sum_a log pi(a) * R(a) is R - (sum R) softmax for one draw of every action
    logits = f64([0.1, -0.3, 0.7], True)
    c = D.Categorical(logits=logits)
    actions, rewards = ag.tensor([0, 1, 2]), f64([1.0, 0.0, 2.0])
    (c.log_prob(actions) * rewards).sum().backward()
    p = np.exp([0.1, -0.3, 0.7]) / np.exp([0.1, -0.3, 0.7]).sum()
    np.testing.assert_allclose(logits.grad.numpy(), [1.0, 0.0, 2.0] - 3.0 * p, rtol=1e-12)
    assert gradcheck(lambda l: D.Categorical(logits=l).entropy(), (f64([[0.1, -0.3, 0.7]], True),))
    assert gradcheck(lambda a, b: D.kl_divergence(D.Categorical(logits=a), D.Categorical(logits=b)),
                     (f64([0.1, -0.3, 0.7], True), f64([1.0, 0.2, -0.5], True)))


# ------------------------------------------------------------------------------ Bernoulli
def test_bernoulli_log_prob_entropy_moments():
    p = np.array([0.3, 0.9, 0.5])
    b = D.Bernoulli(probs=f64(p))
    v = np.array([1.0, 0.0, 1.0])
    np.testing.assert_allclose(b.log_prob(f64(v)).numpy(), v * np.log(p) + (1 - v) * np.log(1 - p), rtol=1e-9)
    np.testing.assert_allclose(b.entropy().numpy(), -(p * np.log(p) + (1 - p) * np.log(1 - p)), rtol=1e-9)
    np.testing.assert_allclose(b.variance.numpy(), p * (1 - p))
    bl = D.Bernoulli(logits=f64(np.log(p / (1 - p))))
    np.testing.assert_allclose(bl.probs.numpy(), p, rtol=1e-12)
    ag.manual_seed(2)
    x = b.sample((20000,))
    assert tuple(x.shape) == (20000, 3) and x.dtype == ag.float64
    assert set(np.unique(x.numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(x.numpy().mean(0), p, atol=0.015)
    assert gradcheck(lambda l: D.Bernoulli(logits=l).log_prob(f64(v)), (f64([0.2, -1.0, 3.0], True),))
    assert gradcheck(lambda a, c: D.kl_divergence(D.Bernoulli(logits=a), D.Bernoulli(logits=c)),
                     (f64([0.2, -1.0, 3.0], True), f64([1.0, 0.5, -2.0], True)))


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("make,err,match", [
    (lambda: D.Normal(0.0, -1.0), ValueError, "Normal: scale must be positive"),
    (lambda: D.Normal(ag.zeros(3), ag.ones(2)), ValueError, r"\(3,\) and \(2,\) do not broadcast"),
    (lambda: D.Normal("a", 1.0), TypeError, "Normal: loc must be a tensor or a number"),
    (lambda: D.Normal(ag.zeros(2, dtype=ag.int64), 1.0), TypeError, "Normal: loc must be a floating-point"),
    (lambda: D.Categorical(), ValueError, "exactly one of probs or logits"),
    (lambda: D.Categorical(probs=ag.ones(2), logits=ag.ones(2)), ValueError, "exactly one of probs or logits"),
    (lambda: D.Categorical(probs=ag.tensor(0.5)), ValueError, "at least one dimension"),
    (lambda: D.Categorical(probs=ag.tensor([0.5, -0.1])), ValueError, "nonnegative"),
    (lambda: D.Categorical(logits=ag.zeros(3)).log_prob(ag.tensor([3])), ValueError, r"in \[0, 3\)"),
    (lambda: D.Categorical(logits=ag.zeros(3)).log_prob(ag.tensor([1.0])), TypeError, "integer category"),
    (lambda: D.Categorical(logits=ag.zeros(3)).sample((-1,)), ValueError, "negative size"),
    (lambda: D.Bernoulli(probs=ag.tensor([1.5])), ValueError, r"Bernoulli: probs must be in \[0, 1\]"),
    (lambda: D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(probs=0.5)), NotImplementedError, "Normal and Bernoulli"),
    (lambda: D.kl_divergence(D.Categorical(logits=ag.zeros(2)), D.Categorical(logits=ag.zeros(3))), ValueError,
     "2 and 3 categories"),
    (lambda: D.Categorical(logits=ag.zeros(3)).rsample(), NotImplementedError, "no reparameterised"),
])
def test_bad_input_raises_clearly(make, err, match):
    with pytest.raises(err, match=match):
        make()


# ------------------------------------------------------------------------------ against torch
@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_against_torch_distributions(dtype):
    TD = torch.distributions
    rng = np.random.default_rng(0)
    ours = lambda a: ag.tensor(a.astype(dtype))
    theirs = lambda a: torch.tensor(a.astype(dtype))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-11, atol=1e-12)

    loc, scale, v = rng.standard_normal((3, 4)), rng.uniform(0.1, 2, (3, 4)), rng.standard_normal((2, 3, 4))
    n, tn = D.Normal(ours(loc), ours(scale)), TD.Normal(theirs(loc), theirs(scale))
    np.testing.assert_allclose(n.log_prob(ours(v)).numpy(), tn.log_prob(theirs(v)).numpy(), **tol)
    np.testing.assert_allclose(n.entropy().numpy(), tn.entropy().numpy(), **tol)
    np.testing.assert_allclose(n.cdf(ours(v)).numpy(), tn.cdf(theirs(v)).numpy(), **tol)
    n2, tn2 = D.Normal(ours(v[0]), ours(scale[::-1].copy())), TD.Normal(theirs(v[0]), theirs(scale[::-1].copy()))
    np.testing.assert_allclose(D.kl_divergence(n, n2).numpy(), TD.kl_divergence(tn, tn2).numpy(), **tol)

    probs = rng.uniform(0, 1, (3, 5))
    probs[0, 2] = 0.0
    logits = rng.standard_normal((3, 5)) * 3
    idx = rng.integers(0, 5, (4, 3))
    for c, tc in [(D.Categorical(probs=ours(probs)), TD.Categorical(probs=theirs(probs))),
                  (D.Categorical(logits=ours(logits)), TD.Categorical(logits=theirs(logits)))]:
        np.testing.assert_allclose(c.log_prob(ag.tensor(idx)).numpy(), tc.log_prob(torch.tensor(idx)).numpy(), **tol)
        np.testing.assert_allclose(c.entropy().numpy(), tc.entropy().numpy(), **tol)
        np.testing.assert_allclose(c.probs.numpy(), tc.probs.numpy(), **tol)
    c, tc = D.Categorical(logits=ours(logits)), TD.Categorical(logits=theirs(logits))
    c2, tc2 = D.Categorical(probs=ours(probs + 0.1)), TD.Categorical(probs=theirs(probs + 0.1))
    np.testing.assert_allclose(D.kl_divergence(c, c2).numpy(), TD.kl_divergence(tc, tc2).numpy(), **tol)

    p, bl, bv = rng.uniform(0.01, 0.99, (3, 4)), rng.standard_normal((3, 4)) * 4, (rng.random((3, 4)) > 0.5) * 1.0
    for b, tb in [(D.Bernoulli(probs=ours(p)), TD.Bernoulli(probs=theirs(p))),
                  (D.Bernoulli(logits=ours(bl)), TD.Bernoulli(logits=theirs(bl)))]:
        np.testing.assert_allclose(b.log_prob(ours(bv)).numpy(), tb.log_prob(theirs(bv)).numpy(), **tol)
        np.testing.assert_allclose(b.entropy().numpy(), tb.entropy().numpy(), **tol)
    b, tb = D.Bernoulli(probs=ours(p)), TD.Bernoulli(probs=theirs(p))
    b2, tb2 = D.Bernoulli(logits=ours(bl)), TD.Bernoulli(logits=theirs(bl))
    np.testing.assert_allclose(D.kl_divergence(b, b2).numpy(), TD.kl_divergence(tb, tb2).numpy(), **tol)
