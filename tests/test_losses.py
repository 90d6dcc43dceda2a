"""Losses: forward against NumPy formulas for every reduction and option, gradcheck in float64,
the fused softmax-cross-entropy kernel, bad input, and PyTorch cross-checks."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
from autograd_core import nn
from autograd_core.nn import functional as F

gradcheck = ag.autograd.gradcheck
REDUCTIONS = ["mean", "sum", "none"]


def t64(a, requires_grad=False):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def np_of(t):
    return np.asarray(t.detach())


def reduce(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](loss)


def log_softmax(x, axis=1):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


R = np.random.default_rng(0)
X = R.normal(size=(6, 5)) * 2
Y = R.normal(size=(6, 5))
P = 1 / (1 + np.exp(-R.normal(size=(6, 5))))
T01 = R.uniform(size=(6, 5))

POINTWISE = [
    ("mse", nn.MSELoss, {}, lambda x, y: (x - y) ** 2, Y),
    ("l1", nn.L1Loss, {}, lambda x, y: np.abs(x - y), Y),
    ("smooth_l1", nn.SmoothL1Loss, {"beta": 0.7},
     lambda x, y: np.where(np.abs(x - y) < 0.7, 0.5 * (x - y) ** 2 / 0.7, np.abs(x - y) - 0.35), Y),
    ("smooth_l1_beta0", nn.SmoothL1Loss, {"beta": 0.0}, lambda x, y: np.abs(x - y), Y),
    ("huber", nn.HuberLoss, {"delta": 0.7},
     lambda x, y: np.where(np.abs(x - y) < 0.7, 0.5 * (x - y) ** 2, 0.7 * (np.abs(x - y) - 0.35)), Y),
    ("bce_logits", nn.BCEWithLogitsLoss, {},
     lambda x, y: -(y * np.log(1 / (1 + np.exp(-x))) + (1 - y) * np.log(1 - 1 / (1 + np.exp(-x)))), T01),
    ("kl_div", nn.KLDivLoss, {}, lambda x, y: y * (np.log(y) - x), T01),
    ("kl_div_log_target", nn.KLDivLoss, {"log_target": True}, lambda x, y: np.exp(y) * (y - x), Y),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,cls,kwargs,ref,target", POINTWISE, ids=[p[0] for p in POINTWISE])
def test_pointwise_loss_forward_and_gradcheck(name, cls, kwargs, ref, target, reduction):
    loss = cls(reduction=reduction, **kwargs)
    got = loss(t64(X), t64(target))
    np.testing.assert_allclose(np_of(got), reduce(ref(X, target), reduction), rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda a: loss(a, t64(target[:3, :3])), [t64(X[:3, :3], True)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_forward_weight_and_gradcheck(reduction):
    w = R.uniform(size=5)
    got = nn.BCELoss(weight=t64(w), reduction=reduction)(t64(P), t64(T01))
    ref = -(T01 * np.log(P) + (1 - T01) * np.log(1 - P)) * w
    np.testing.assert_allclose(np_of(got), reduce(ref, reduction), rtol=1e-10)
    assert gradcheck(lambda a: F.binary_cross_entropy(a, t64(T01[:2]), reduction=reduction), [t64(P[:2], True)])


def test_bce_clamps_log_and_rejects_out_of_range():
    out = F.binary_cross_entropy(t64([0.0, 1.0]), t64([1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(np_of(out), [100.0, 100.0])
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(t64([1.5]), t64([1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_pos_weight(reduction):
    pw = R.uniform(0.5, 3, size=5)
    w = R.uniform(size=(1, 5))
    got = F.binary_cross_entropy_with_logits(t64(X), t64(T01), weight=t64(w), pos_weight=t64(pw),
                                             reduction=reduction)
    s = 1 / (1 + np.exp(-X))
    ref = -(pw * T01 * np.log(s) + (1 - T01) * np.log(1 - s)) * w
    np.testing.assert_allclose(np_of(got), reduce(ref, reduction), rtol=1e-10)
    assert gradcheck(lambda a: F.binary_cross_entropy_with_logits(a, t64(T01[:2]), pos_weight=t64(pw)),
                     [t64(X[:2], True)])


def test_bce_with_logits_stable_for_large_logits():
    x = ag.tensor([1000.0, -1000.0, 0.0], requires_grad=True)
    y = ag.tensor([0.0, 1.0, 1.0])
    out = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(np_of(out), [1000.0, 1000.0, np.log(2)], rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [1.0, -1.0, -0.5], rtol=1e-6)


def test_kl_div_batchmean_and_zero_target():
    target = T01.copy()
    target[0, 0] = 0.0
    got = F.kl_div(t64(X), t64(target), reduction="batchmean")
    ref = np.where(target > 0, target * (np.log(np.where(target > 0, target, 1)) - X), 0.0).sum() / X.shape[0]
    np.testing.assert_allclose(float(got), ref, rtol=1e-12)
    assert gradcheck(lambda a: F.kl_div(a, t64(target[:2]), reduction="batchmean"), [t64(X[:2], True)])


# ------------------------------------------------------------------------------------ cross-entropy / NLL
def np_cross_entropy(x, t, w=None, ignore_index=-100, reduction="mean", eps=0.0):
    c = x.shape[1]
    lp = log_softmax(x, 1)
    if x.ndim > 2:  # (N, C, d...) -> (M, C)
        lp = np.moveaxis(lp, 1, -1).reshape(-1, c)
        t = t.reshape(-1)
    w = np.ones(c) if w is None else w
    valid = t != ignore_index
    ts = np.where(valid, t, 0)
    nll = -lp[np.arange(len(ts)), ts] * w[ts]
    smooth = -(lp * w).sum(1)
    loss = np.where(valid, (1 - eps) * nll + eps / c * smooth, 0.0)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (w[ts] * valid).sum()


CE_CASES = [
    ("plain", {}),
    ("weight", {"weight": R.uniform(0.5, 2, 5)}),
    ("ignore", {"ignore_index": 2}),
    ("smoothing", {"label_smoothing": 0.2}),
    ("all", {"weight": R.uniform(0.5, 2, 5), "ignore_index": 1, "label_smoothing": 0.1}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,opts", CE_CASES, ids=[c[0] for c in CE_CASES])
def test_cross_entropy_class_indices(name, opts, reduction):
    t = np.array([0, 2, 1, 4, 2, 3])
    kwargs = dict(opts)
    if "weight" in kwargs:
        kwargs["weight"] = t64(kwargs["weight"])
    got = nn.CrossEntropyLoss(reduction=reduction, **kwargs)(t64(X), ag.tensor(t))
    ref = np_cross_entropy(X, t, w=opts.get("weight"), ignore_index=opts.get("ignore_index", -100),
                           reduction=reduction, eps=opts.get("label_smoothing", 0.0))
    np.testing.assert_allclose(np_of(got), ref, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda a: F.cross_entropy(a, ag.tensor(t), reduction=reduction, **kwargs), [t64(X, True)])


def test_cross_entropy_double_backward():
    t = ag.tensor([0, 2, 1, -100, 2, 3])
    w = t64(R.uniform(0.5, 2, 5))
    assert ag.autograd.gradgradcheck(lambda a: F.cross_entropy(a, t, weight=w, label_smoothing=0.1),
                                     [t64(X, True)])


def test_cross_entropy_spatial_and_unbatched():
    x = R.normal(size=(2, 4, 3, 3))
    t = R.integers(0, 4, size=(2, 3, 3))
    for reduction in REDUCTIONS:
        got = F.cross_entropy(t64(x), ag.tensor(t), reduction=reduction)
        ref = np_cross_entropy(x, t, reduction=reduction)
        if reduction == "none":
            ref = ref.reshape(2, 3, 3)
        np.testing.assert_allclose(np_of(got), ref, rtol=1e-10)
    assert gradcheck(lambda a: F.cross_entropy(a, ag.tensor(t[:1, :2, :2])), [t64(x[:1, :, :2, :2], True)])
    got = F.cross_entropy(t64(X[0]), ag.tensor(3))
    np.testing.assert_allclose(float(got), -log_softmax(X[:1], 1)[0, 3], rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probabilities(reduction):
    probs = np.exp(log_softmax(R.normal(size=(6, 5)), 1))
    w = R.uniform(0.5, 2, 5)
    eps = 0.1
    got = F.cross_entropy(t64(X), t64(probs), weight=t64(w), label_smoothing=eps, reduction=reduction)
    smoothed = probs * (1 - eps) + eps / 5
    ref = -(log_softmax(X, 1) * w * smoothed).sum(1)
    np.testing.assert_allclose(np_of(got), reduce(ref, reduction), rtol=1e-10)
    assert gradcheck(lambda a: F.cross_entropy(a, t64(probs), reduction=reduction), [t64(X, True)])


def test_cross_entropy_float32_stable_and_thread_independent():
    x = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    got = F.cross_entropy(ag.tensor(x), ag.tensor([2, 1]), reduction="none")
    np.testing.assert_allclose(np_of(got), [2000.0, np.log(3)], rtol=1e-6)
    big = np.random.default_rng(1).normal(size=(4000, 37)).astype(np.float32)
    t = ag.tensor(np.random.default_rng(2).integers(0, 37, 4000))
    results = []
    for threads in (1, 2):
        ag.set_num_threads(threads)
        xt = ag.tensor(big, requires_grad=True)
        loss = F.cross_entropy(xt, t, label_smoothing=0.05)
        loss.backward()
        results.append((float(loss), np_of(xt.grad).copy()))
    ag.set_num_threads(2)
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
    ref = np_cross_entropy(big.astype(np.float64), np_of(t), eps=0.05)
    np.testing.assert_allclose(results[0][0], ref, rtol=1e-5)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction):
    lp = log_softmax(X, 1)
    t = np.array([0, 2, -100, 4, 2, 3])
    w = R.uniform(0.5, 2, 5)
    got = nn.NLLLoss(weight=t64(w), reduction=reduction)(t64(lp), ag.tensor(t))
    valid = t != -100
    ts = np.where(valid, t, 0)
    loss = np.where(valid, -lp[np.arange(6), ts] * w[ts], 0)
    ref = {"none": loss, "sum": loss.sum(), "mean": loss.sum() / (w[ts] * valid).sum()}[reduction]
    np.testing.assert_allclose(np_of(got), ref, rtol=1e-12)
    assert gradcheck(lambda a: F.nll_loss(a, ag.tensor(t), reduction=reduction), [t64(lp, True)])
    # log_softmax + nll equals cross_entropy
    np.testing.assert_allclose(np_of(F.nll_loss(F.log_softmax(t64(X), 1), ag.tensor(t))),
                               np_of(F.cross_entropy(t64(X), ag.tensor(t))), rtol=1e-12)


# ------------------------------------------------------------------------------------ bad input
def test_loss_bad_input_errors():
    x = ag.randn(4, 3)
    with pytest.raises(ValueError, match=r"mse_loss: target shape \(4, 2\) does not match input shape \(4, 3\)"):
        F.mse_loss(x, ag.randn(4, 2))
    with pytest.raises(TypeError, match="l1_loss: expected a floating point target"):
        F.l1_loss(x, ag.zeros(4, 3, dtype=ag.int64))
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(x, ag.tensor([0, 1, 2, 0]), reduction="batchmean")
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, ag.tensor([0, 1, 3, 0]))
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        F.nll_loss(x, ag.tensor([0, 1, -1, 0]))
    with pytest.raises(ValueError, match=r"expected target of shape \(4,\)"):
        F.cross_entropy(x, ag.tensor([0, 1]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.nll_loss(x, ag.tensor([True, False, True, True]))
    with pytest.raises(ValueError, match="class-probability target"):
        F.cross_entropy(x, ag.rand(4, 2))
    with pytest.raises(ValueError, match="weight of shape"):
        F.cross_entropy(x, ag.tensor([0, 1, 2, 0]), weight=ag.ones(4))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, ag.tensor([0, 1, 2, 0]), label_smoothing=1.5)
    with pytest.raises(TypeError, match="floating point input"):
        F.mse_loss(ag.zeros(2, dtype=ag.int64), ag.zeros(2))


# ------------------------------------------------------------------------------------ torch cross-check
def test_losses_match_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x, y = torch.tensor(X), torch.tensor(T01)
    t = torch.tensor([0, 2, 1, 4, 2, 3])
    w = torch.tensor(R.uniform(0.5, 2, 5))
    pairs = [
        (F.cross_entropy(t64(X), ag.tensor(t.numpy()), weight=t64(w.numpy()), ignore_index=2, label_smoothing=0.15),
         tf.cross_entropy(x, t, weight=w, ignore_index=2, label_smoothing=0.15)),
        (F.cross_entropy(t64(X), t64(y.numpy()), label_smoothing=0.1), tf.cross_entropy(x, y, label_smoothing=0.1)),
        (F.binary_cross_entropy_with_logits(t64(X), t64(T01), pos_weight=t64(w.numpy())),
         tf.binary_cross_entropy_with_logits(x, y, pos_weight=w)),
        (F.smooth_l1_loss(t64(X), t64(T01), beta=0.3), tf.smooth_l1_loss(x, y, beta=0.3)),
        (F.huber_loss(t64(X), t64(T01), delta=0.3), tf.huber_loss(x, y, delta=0.3)),
        (F.kl_div(t64(X), t64(T01), reduction="batchmean"), tf.kl_div(x, y, reduction="batchmean")),
        (F.kl_div(t64(X), t64(Y), log_target=True, reduction="sum"), tf.kl_div(x, torch.tensor(Y), log_target=True,
                                                                               reduction="sum")),
        (F.binary_cross_entropy(t64(P), t64(T01)), tf.binary_cross_entropy(torch.tensor(P), y)),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(float(ours), float(theirs), rtol=1e-10)



@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), c=st.integers(1, 12), eps=st.sampled_from([0.0, 0.3]), weighted=st.booleans(),
       seed=st.integers(0, 10 ** 6), dtype=st.sampled_from([np.float32, np.float64]))
def test_fused_cross_entropy_property(n, c, eps, weighted, seed, dtype):
    r = np.random.default_rng(seed)
    x = (r.normal(size=(n, c)) * 4).astype(dtype)
    t = r.integers(0, c, n)
    t[r.uniform(size=n) < 0.2] = -100
    w = r.uniform(0.2, 3, c) if weighted else None
    xt = ag.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xt, ag.tensor(t), weight=None if w is None else ag.tensor(w.astype(dtype)),
                           label_smoothing=eps, reduction="none")
    ref = np_cross_entropy(x.astype(np.float64), t, w=w, reduction="none", eps=eps)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(np_of(loss), ref, rtol=tol, atol=tol)
    g = r.normal(size=n)
    loss.backward(ag.tensor(g.astype(dtype)))
    # gradient reference: g_i * ((1 - eps) w_t (p - onehot) + eps / c (W p - w))
    p = np.exp(log_softmax(x.astype(np.float64), 1))
    wv = np.ones(c) if w is None else w
    valid = t != -100
    ts = np.where(valid, t, 0)
    onehot = np.eye(c)[ts]
    grad = (1 - eps) * wv[ts][:, None] * (p - onehot) + eps / c * (wv.sum() * p - wv)
    grad *= (g * valid)[:, None]
    np.testing.assert_allclose(np_of(xt.grad), grad, rtol=10 * tol, atol=10 * tol)
