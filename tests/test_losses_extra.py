"""The margin, ranking, embedding and likelihood losses (MultiMarginLoss, MarginRankingLoss,
SoftMarginLoss, CosineEmbeddingLoss, TripletMarginLoss, GaussianNLLLoss, PoissonNLLLoss,
MultiLabelSoftMarginLoss) and the distances (pairwise_distance, cdist, PairwiseDistance,
CosineSimilarity): formulas against NumPy, gradcheck, errors, and values and gradients against torch."""
import numpy as np
import pytest

import autograd_core as ag
from autograd_core import nn
from autograd_core.autograd import gradcheck
from autograd_core.nn import functional as F

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
rng = np.random.default_rng(0)
X, Y = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
Z = rng.standard_normal((5, 4))
CLS = np.array([0, 3, 1, 1, 2])
SIGN = np.array([1.0, -1.0, 1.0, -1.0, -1.0])


def test_multi_margin_loss_is_the_svm_hinge():
    x = X
    want = []
    for i, y in enumerate(CLS):
        m = np.maximum(0, 1.0 - x[i, y] + x[i])
        m[y] = 0
        want.append(m.sum() / 4)
    np.testing.assert_allclose(F.multi_margin_loss(ag.tensor(x), ag.tensor(CLS), reduction="none").numpy(), want,
                               rtol=1e-12)
    assert gradcheck(lambda t: F.multi_margin_loss(t, ag.tensor(CLS), p=2), (ag.tensor(x, requires_grad=True),))


def test_cdist_and_pairwise_distance():
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    for p in (1.0, 2.0, 3.0, float("inf")):
        want = np.linalg.norm(a[:, :, None, :] - b[:, None, :, :], ord=p, axis=-1)
        np.testing.assert_allclose(ag.cdist(ag.tensor(a), ag.tensor(b), p).numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(F.pairwise_distance(ag.tensor(X), ag.tensor(Y)).numpy(),
                               np.linalg.norm(X - Y + 1e-6, axis=-1), rtol=1e-12)
    same = ag.tensor(a[0], requires_grad=True)
    d = ag.cdist(same, same)  # zero distances on the diagonal: finite gradients
    d.sum().backward()
    assert np.isfinite(same.grad.numpy()).all()
    assert gradcheck(lambda s, t: ag.cdist(s, t), (ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)))


@pytest.mark.parametrize("call,err,match", [
    (lambda: F.multi_margin_loss(ag.tensor(X), ag.tensor([0, 9, 1, 1, 2])), IndexError, r"in \[0, 4\)"),
    (lambda: F.multi_margin_loss(ag.tensor(X), ag.tensor(CLS), p=3), ValueError, "p must be 1 or 2"),
    (lambda: ag.cdist(ag.ones(3, 4), ag.ones(2, 5)), ValueError, r"\(3, 4\) and \(2, 5\)"),
    (lambda: F.gaussian_nll_loss(ag.ones(3), ag.ones(3), ag.tensor([1.0, -1.0, 1.0])), ValueError, "negative"),
    (lambda: F.margin_ranking_loss(ag.ones(3), ag.ones(3), ag.ones(4)), ValueError, "do not broadcast"),
    (lambda: nn.SoftMarginLoss(reduction="avg"), ValueError, "reduction must be one of"),
])
def test_bad_input_raises_clearly(call, err, match):
    with pytest.raises(err, match=match):
        call()


def _cases(t, c, n):
    """(name, loss module, inputs) with the same values for autograd_core and torch: t makes an input
    that requires grad, c a constant (targets, weights), n is the nn module namespace."""
    var = np.abs(Z) + 0.1
    return [
        ("MultiMarginLoss", n.MultiMarginLoss(), [t(X), c(CLS)]),
        ("MultiMarginLoss p2 w", n.MultiMarginLoss(p=2, margin=0.5, weight=c(np.array([1.0, 2.0, 0.5, 1.5]))),
         [t(X), c(CLS)]),
        ("MarginRankingLoss", n.MarginRankingLoss(0.3), [t(X[:, 0]), t(Y[:, 0]), c(SIGN)]),
        ("SoftMarginLoss", n.SoftMarginLoss(), [t(X), c(np.sign(Y))]),
        ("CosineEmbeddingLoss", n.CosineEmbeddingLoss(0.2), [t(X), t(Y), c(SIGN)]),
        ("TripletMarginLoss", n.TripletMarginLoss(), [t(X), t(Y), t(Z)]),
        ("TripletMarginLoss p1 swap", n.TripletMarginLoss(margin=0.5, p=1.0, swap=True), [t(X), t(Y), t(Z)]),
        ("GaussianNLLLoss", n.GaussianNLLLoss(), [t(X), c(Y), t(var)]),
        ("GaussianNLLLoss full", n.GaussianNLLLoss(full=True, reduction="sum"), [t(X), c(Y), t(var)]),
        ("PoissonNLLLoss", n.PoissonNLLLoss(), [t(X), c(np.abs(Y) * 3)]),
        ("PoissonNLLLoss full rate", n.PoissonNLLLoss(log_input=False, full=True), [t(np.abs(X) + 0.1),
                                                                                     c(np.round(np.abs(Y) * 3))]),
        ("MultiLabelSoftMarginLoss", n.MultiLabelSoftMarginLoss(), [t(X), c((Y > 0) * 1.0)]),
        ("PairwiseDistance", n.PairwiseDistance(), [t(X), t(Y)]),
        ("CosineSimilarity", n.CosineSimilarity(), [t(X), t(Y)]),
    ]


@needs_torch
@pytest.mark.parametrize("k", range(14))
def test_against_torch(k):
    name, om, oin = _cases(lambda a: ag.tensor(a, requires_grad=True), ag.tensor, nn)[k]
    _, tm, tin = _cases(lambda a: torch.tensor(a, requires_grad=True), torch.tensor, torch.nn)[k]
    out, tout = om(*oin), tm(*tin)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    g = rng.standard_normal(tuple(tout.shape))
    out.backward(ag.tensor(g))
    tout.backward(torch.tensor(g))
    for a, b in zip(oin, tin):
        if b.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
    tcd = torch.cdist(torch.tensor(X), torch.tensor(Y), p=1.5).numpy()
    np.testing.assert_allclose(ag.cdist(ag.tensor(X), ag.tensor(Y), p=1.5).numpy(), tcd, rtol=1e-10)
