"""Learning-rate schedulers: lr sequences against closed forms written here, and against
torch.optim.lr_scheduler when torch is importable; state_dict round trips; bad input."""
import math

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.optim import lr_scheduler as sched

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")


def make_opt(lr=0.1, cls="SGD", groups=1, **kw):
    params = [ag.tensor(np.ones(2), requires_grad=True) for _ in range(groups)]
    return getattr(ag.optim, cls)([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(params)], lr=lr,
                                  **kw)


def make_torch_opt(lr=0.1, cls="SGD", groups=1, **kw):
    params = [torch.ones(2, requires_grad=True) for _ in range(groups)]
    return getattr(torch.optim, cls)([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(params)], lr=lr,
                                     **kw)


def lr_sequence(scheduler, n, metrics=None):
    """get_last_lr() right after construction, then after each of n steps."""
    seq = [list(scheduler.get_last_lr())]
    for k in range(n):
        scheduler.optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[k])
        seq.append(list(scheduler.get_last_lr()))
        assert seq[-1] == [g["lr"] for g in scheduler.optimizer.param_groups]
    return np.array(seq)


# closed forms of epoch e for base lr b
CLOSED = {
    "StepLR": (dict(step_size=3, gamma=0.5), lambda b, e: b * 0.5 ** (e // 3)),
    "MultiStepLR": (dict(milestones=[2, 5, 5, 9], gamma=0.1),
                    lambda b, e: b * 0.1 ** sum(m <= e for m in [2, 5, 5, 9])),
    "ExponentialLR": (dict(gamma=0.9), lambda b, e: b * 0.9**e),
    "CosineAnnealingLR": (dict(T_max=10, eta_min=0.001),
                          lambda b, e: 0.001 + (b - 0.001) * (1 + math.cos(math.pi * e / 10)) / 2),
    "LambdaLR": (dict(lr_lambda=lambda e: 1.0 / (1 + e)), lambda b, e: b / (1 + e)),
}


@pytest.mark.parametrize("name", sorted(CLOSED))
def test_lr_sequence_matches_closed_form(name):
    kwargs, closed = CLOSED[name]
    opt = make_opt(groups=2)
    n = 25 if name == "CosineAnnealingLR" else 12  # cosine: past T_max the recursion rises again
    seq = lr_sequence(getattr(sched, name)(opt, **kwargs), n)
    want = np.array([[closed(b, e) for b in (0.1, 0.2)] for e in range(n + 1)])
    np.testing.assert_allclose(seq, want, rtol=1e-12, atol=1e-15)


@needs_torch
@pytest.mark.parametrize("name", sorted(CLOSED))
def test_lr_sequence_matches_torch(name):
    kwargs, _ = CLOSED[name]
    ours = lr_sequence(getattr(sched, name)(make_opt(groups=2), **kwargs), 25)
    theirs = lr_sequence(getattr(torch.optim.lr_scheduler, name)(make_torch_opt(groups=2), **kwargs), 25)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_lambda_lr_per_group_lambdas():
    opt = make_opt(groups=2)
    seq = lr_sequence(sched.LambdaLR(opt, [lambda e: 0.5**e, lambda e: e + 1]), 4)
    np.testing.assert_allclose(seq[:, 0], [0.1 * 0.5**e for e in range(5)])
    np.testing.assert_allclose(seq[:, 1], [0.2 * (e + 1) for e in range(5)])
    with pytest.raises(ValueError, match="expected 2 lr_lambdas, but got 1"):
        sched.LambdaLR(make_opt(groups=2), [lambda e: 1.0])


def test_schedulers_chain_on_one_optimizer():
    opt = make_opt()
    a = sched.ExponentialLR(opt, gamma=0.9)
    b = sched.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(6):
        opt.step()
        a.step()
        b.step()
        lrs.append(opt.param_groups[0]["lr"])
    want = [0.1 * 0.9**e * 0.5 ** (e // 2) for e in range(1, 7)]
    np.testing.assert_allclose(lrs, want, rtol=1e-12)


def ref_plateau(metrics, lr, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps):
    best = math.inf if mode == "min" else -math.inf
    bad = cool = 0
    out = [lr]
    for x in metrics:
        if mode == "min":
            better = x < (best * (1 - threshold) if threshold_mode == "rel" else best - threshold)
        else:
            better = x > (best * (1 + threshold) if threshold_mode == "rel" else best + threshold)
        if better:
            best, bad = x, 0
        else:
            bad += 1
        if cool > 0:
            cool -= 1
            bad = 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            if lr - new > eps:
                lr = new
            cool, bad = cooldown, 0
        out.append(lr)
    return out


PLATEAU = [
    dict(mode="min", factor=0.5, patience=2, threshold=1e-2, threshold_mode="rel", cooldown=0, min_lr=0.0,
         eps=1e-8),
    dict(mode="min", factor=0.1, patience=0, threshold=0.05, threshold_mode="abs", cooldown=2, min_lr=1e-3,
         eps=1e-8),
    dict(mode="max", factor=0.3, patience=1, threshold=1e-3, threshold_mode="rel", cooldown=1, min_lr=0.0,
         eps=1e-8),
    dict(mode="max", factor=0.5, patience=1, threshold=0.1, threshold_mode="abs", cooldown=0, min_lr=0.02,
         eps=1e-8),
]
METRICS = [1.0, 0.9, 0.95, 0.91, 0.905, 0.7, 0.71, 0.72, 0.73, 0.69, 0.69, 0.8, 0.5, 0.6, 0.65, 0.66, 0.4,
           0.41, 0.42, 0.43]


@pytest.mark.parametrize("opts", PLATEAU, ids=lambda o: f"{o['mode']}-{o['threshold_mode']}-p{o['patience']}")
def test_reduce_lr_on_plateau(opts):
    opt = make_opt()
    seq = lr_sequence(sched.ReduceLROnPlateau(opt, **opts), len(METRICS), METRICS)
    want = ref_plateau(METRICS, 0.1, **opts)
    np.testing.assert_allclose(seq[:, 0], want, rtol=1e-12)
    assert len(set(want)) > 1  # the sequence exercises at least one reduction


@needs_torch
@pytest.mark.parametrize("opts", PLATEAU, ids=lambda o: f"{o['mode']}-{o['threshold_mode']}-p{o['patience']}")
def test_reduce_lr_on_plateau_matches_torch(opts):
    ours = lr_sequence(sched.ReduceLROnPlateau(make_opt(groups=2), **opts), len(METRICS), METRICS)
    theirs = lr_sequence(torch.optim.lr_scheduler.ReduceLROnPlateau(make_torch_opt(groups=2), **opts),
                         len(METRICS), METRICS)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def ref_one_cycle(step, total, max_lr, pct, anneal, three_phase, div, final_div, m_base, m_max):
    init, lo = max_lr / div, max_lr / div / final_div
    f = ((lambda a, b, p: b + (a - b) / 2 * (math.cos(math.pi * p) + 1)) if anneal == "cos"
         else (lambda a, b, p: (b - a) * p + a))
    e1 = pct * total - 1
    if three_phase:
        phases = [(e1, init, max_lr, m_max, m_base), (2 * pct * total - 2, max_lr, init, m_base, m_max),
                  (total - 1, init, lo, m_max, m_max)]
    else:
        phases = [(e1, init, max_lr, m_max, m_base), (total - 1, max_lr, lo, m_base, m_max)]
    start = 0.0
    for i, (end, a, b, ma, mb) in enumerate(phases):
        if step <= end or i == len(phases) - 1:
            p = (step - start) / (end - start)
            return f(a, b, p), f(ma, mb, p)
        start = end


ONE_CYCLE = [
    dict(anneal_strategy="cos", three_phase=False, pct_start=0.3),
    dict(anneal_strategy="linear", three_phase=False, pct_start=0.25),
    dict(anneal_strategy="cos", three_phase=True, pct_start=0.3),
    dict(anneal_strategy="linear", three_phase=True, pct_start=0.4),
]


@pytest.mark.parametrize("cls", ["SGD", "Adam"])
@pytest.mark.parametrize("opts", ONE_CYCLE, ids=lambda o: f"{o['anneal_strategy']}-3p{o['three_phase']}")
def test_one_cycle_lr_and_momentum(opts, cls):
    total = 40
    extra = dict(momentum=0.9) if cls == "SGD" else {}
    opt = make_opt(cls=cls, **extra)
    s = sched.OneCycleLR(opt, max_lr=1.0, total_steps=total, div_factor=20.0, final_div_factor=100.0, **opts)
    lrs, moms = [], []
    for k in range(total):
        g = opt.param_groups[0]
        lrs.append(g["lr"])
        moms.append(g["momentum"] if cls == "SGD" else g["betas"][0])
        if k < total - 1:
            opt.step()
            s.step()
    want = [ref_one_cycle(k, total, 1.0, opts["pct_start"], opts["anneal_strategy"], opts["three_phase"], 20.0,
                          100.0, 0.85, 0.95) for k in range(total)]
    np.testing.assert_allclose(lrs, [w[0] for w in want], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(moms, [w[1] for w in want], rtol=1e-12, atol=1e-15)
    assert lrs[0] == pytest.approx(1.0 / 20) and lrs[-1] == pytest.approx(1.0 / 20 / 100)
    if cls == "Adam":
        assert opt.param_groups[0]["betas"][1] == 0.999
    s.step()  # step total_steps is the last allowed
    with pytest.raises(ValueError, match="tried to step 41 times"):
        s.step()


@needs_torch
@pytest.mark.parametrize("cls", ["SGD", "Adam"])
@pytest.mark.parametrize("opts", ONE_CYCLE, ids=lambda o: f"{o['anneal_strategy']}-3p{o['three_phase']}")
def test_one_cycle_matches_torch(opts, cls):
    extra = dict(momentum=0.9) if cls == "SGD" else {}
    kw = dict(max_lr=[1.0, 0.5], epochs=3, steps_per_epoch=10, base_momentum=0.8, max_momentum=0.9, **opts)
    ours = sched.OneCycleLR(make_opt(cls=cls, groups=2, **extra), **kw)
    theirs = torch.optim.lr_scheduler.OneCycleLR(make_torch_opt(cls=cls, groups=2, **extra), **kw)
    key = "momentum" if cls == "SGD" else "betas"
    for _ in range(29):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12, abs=1e-15)
        for g, tg in zip(ours.optimizer.param_groups, theirs.optimizer.param_groups):
            assert np.allclose(g[key], tg[key], rtol=1e-12)
        ours.optimizer.step()
        theirs.optimizer.step()
        ours.step()
        theirs.step()


def test_one_cycle_without_momentum_support_raises():
    opt = make_opt(cls="Adagrad")
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        sched.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    sched.OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False)


@pytest.mark.parametrize("make", [
    lambda o: sched.StepLR(o, step_size=2, gamma=0.5),
    lambda o: sched.MultiStepLR(o, milestones=[3, 6], gamma=0.5),
    lambda o: sched.ExponentialLR(o, gamma=0.8),
    lambda o: sched.CosineAnnealingLR(o, T_max=6),
    lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=30),
], ids=["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "OneCycleLR"])
def test_state_dict_round_trip(make):
    opt = make_opt(momentum=0.9)
    a = make(opt)
    for _ in range(5):
        opt.step()
        a.step()
    sd = a.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 5
    opt2 = make_opt(momentum=0.9)
    opt2.load_state_dict(opt.state_dict())
    b = make(opt2)
    b.load_state_dict(sd)
    assert b.last_epoch == 5
    for _ in range(8):
        a.step()
        b.step()
        assert a.get_last_lr() == b.get_last_lr()


def test_reduce_on_plateau_state_dict_round_trip():
    opt = make_opt()
    a = sched.ReduceLROnPlateau(opt, patience=1)
    for m in [1.0, 1.0, 1.0]:
        a.step(m)
    b = sched.ReduceLROnPlateau(make_opt(), patience=1)
    b.load_state_dict(a.state_dict())
    assert b.best == 1.0 and b.last_epoch == 3 and b.num_bad_epochs == a.num_bad_epochs


def test_last_epoch_semantics():
    opt = make_opt()
    s = sched.StepLR(opt, step_size=2)
    assert s.last_epoch == 0 and opt.param_groups[0]["initial_lr"] == 0.1
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(make_opt(), step_size=2, last_epoch=4)
    # resuming: initial_lr is present, last_epoch continues from the given value
    r = sched.ExponentialLR(opt, gamma=0.5, last_epoch=3)
    assert r.last_epoch == 4


def test_scheduler_bad_input():
    opt = make_opt()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        sched.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="factor should be < 1.0"):
        sched.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode 'up' is unknown"):
        sched.ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(ValueError, match="threshold mode 'pct' is unknown"):
        sched.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="total_steps OR"):
        sched.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="pct_start"):
        sched.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="anneal_strategy"):
        sched.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="expected 1 values for max_lr"):
        sched.OneCycleLR(opt, max_lr=[0.1, 0.2], total_steps=10)
    with pytest.raises(ValueError, match="T_max must be a positive integer"):
        sched.CosineAnnealingLR(opt, T_max=0)
