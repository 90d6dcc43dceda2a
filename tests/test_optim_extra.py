"""The optimizers without fused kernels (Adadelta, Adamax, NAdam, RAdam, Rprop, ASGD, LBFGS), the
extra schedulers and swa_utils: trajectories against torch.optim from the same start (skipped without
torch), a NumPy reference for one update rule, state_dict round trips and bad input."""
import copy
import warnings

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.optim import lr_scheduler as S

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((6, 3))
W0 = RNG.standard_normal((3, 4)) * 0.5
B0 = RNG.standard_normal(4) * 0.1


def loss_of(lib, x, w, b):
    y = lib.tanh(x @ w + b)
    return ((y - 0.3) ** 2).sum() + (w ** 4).sum() * 0.01


def run(lib, opt_cls, kwargs, dtype, steps, groups=False, state_round_trip=False):
    """steps of opt_cls on loss_of from W0, B0: the final params and the optimizer."""
    np_dtype = np.float64 if dtype == "float64" else np.float32
    t = lib.from_numpy
    x = t(X.astype(np_dtype))
    w = t(W0.astype(np_dtype).copy()).requires_grad_()
    b = t(B0.astype(np_dtype).copy()).requires_grad_()
    params = [{"params": [w]}, {"params": [b], "lr": kwargs.get("lr", 0.01) * 0.5}] if groups else [w, b]
    opt = opt_cls(params, **kwargs)
    for i in range(steps):
        def closure(opt=opt):
            opt.zero_grad()
            loss = loss_of(lib, x, w, b)
            loss.backward()
            return loss
        if opt_cls.__name__ == "LBFGS":
            opt.step(closure)
        else:
            closure()
            opt.step()
        if state_round_trip and i == steps // 2:
            sd = copy.deepcopy(opt.state_dict())
            opt = opt_cls(params, **kwargs)
            opt.load_state_dict(sd)
    return w.detach().numpy().copy(), b.detach().numpy().copy(), opt


CASES = [
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": False}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.05}),
    ("NAdam", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.01}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-4, 0.2), "maximize": True}),
    ("ASGD", {"lr": 0.05}),
    ("ASGD", {"lr": 0.05, "t0": 3, "lambd": 0.01, "weight_decay": 0.01}),
    ("LBFGS", {"lr": 0.8, "max_iter": 6}),
    ("LBFGS", {"lr": 0.5, "history_size": 3, "max_iter": 5}),
    ("LBFGS", {"lr": 1, "line_search_fn": "strong_wolfe"}),
    ("LBFGS", {"lr": 1, "line_search_fn": "strong_wolfe", "history_size": 2, "max_iter": 7}),
]


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_optimizer_matches_torch(name, kwargs, dtype):
    # float32 L-BFGS amplifies the rounding differences of its dot products (NumPy's against torch's
    # summation order) iteration after iteration: one step (up to max_iter iterations) is compared
    steps = (3 if dtype == "float64" else 1) if name == "LBFGS" else 25
    groups = name != "LBFGS"
    w, b, ours = run(ag, getattr(ag.optim, name), kwargs, dtype, steps, groups)
    tw, tb, theirs = run(torch, getattr(torch.optim, name), kwargs, dtype, steps, groups)
    tol = {"rtol": 1e-9, "atol": 1e-10} if dtype == "float64" else {"rtol": 2e-4, "atol": 2e-5}
    if name == "ASGD" and dtype == "float64":
        # torch keeps ASGD's eta and mu as float32 0-d tensors whatever the parameters' dtype; ours are
        # Python floats, so float64 runs differ by float32 rounding of eta
        tol = {"rtol": 1e-6, "atol": 1e-8}
    np.testing.assert_allclose(w, tw, **tol)
    np.testing.assert_allclose(b, tb, **tol)
    assert np.abs(w - W0).max() > 1e-3  # the run moved
    # the state has torch's keys, and its values agree
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    for k, st in theirs_sd["state"].items():
        assert set(ours_sd["state"][k]) <= set(st) | {"func_evals"}, (set(ours_sd["state"][k]), set(st))
        for key, value in st.items():
            mine = ours_sd["state"][k].get(key)
            if isinstance(value, torch.Tensor) and value.numel() > 1:
                np.testing.assert_allclose(np.asarray(mine), value.numpy(), rtol=tol["rtol"] * 100, atol=tol["atol"] * 100)
    for g_ours, g_theirs in zip(ours_sd["param_groups"], theirs_sd["param_groups"]):
        for key, value in g_ours.items():
            assert key in g_theirs, key


@pytest.mark.parametrize("name,kwargs", CASES[::2], ids=[n for n, _ in CASES[::2]])
def test_optimizer_state_dict_round_trip(name, kwargs):
    """Stopping halfway, rebuilding the optimizer from its state_dict and continuing gives the
    uninterrupted trajectory."""
    steps = 4 if name == "LBFGS" else 10
    cls = getattr(ag.optim, name)
    w1, b1, _ = run(ag, cls, kwargs, "float64", steps, groups=name != "LBFGS")
    w2, b2, _ = run(ag, cls, kwargs, "float64", steps, groups=name != "LBFGS", state_round_trip=True)
    np.testing.assert_allclose(w1, w2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b1, b2, rtol=1e-12, atol=1e-14)


@needs_torch
@pytest.mark.parametrize("name,kwargs", [c for c in CASES if c[0] in ("NAdam", "ASGD", "Adadelta")][:3])
def test_optimizer_loads_torch_state_dict(name, kwargs):
    """A torch optimizer's state dict (0-d tensors for step, mu_product, eta, mu) loads into ours, and
    both continue along the same path."""
    _, _, theirs = run(torch, getattr(torch.optim, name), kwargs, "float64", 5)
    w = ag.from_numpy(W0.copy()).requires_grad_()
    b = ag.from_numpy(B0.copy()).requires_grad_()
    ours = getattr(ag.optim, name)([w, b], **kwargs)
    ours.load_state_dict(theirs.state_dict())
    for key, value in theirs.state_dict()["state"][0].items():
        mine = ours.state_dict()["state"][0][key]
        np.testing.assert_allclose(np.asarray(mine, dtype=np.float64), value.numpy(), rtol=1e-12)


def test_adadelta_numpy_reference():
    w = ag.from_numpy(W0.copy()).requires_grad_()
    opt = ag.optim.Adadelta([w], lr=0.7, rho=0.85, eps=1e-5)
    ref, v, u = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for _ in range(5):
        opt.zero_grad()
        (w ** 3).sum().backward()
        opt.step()
        g = 3 * ref ** 2
        v = 0.85 * v + 0.15 * g * g
        delta = np.sqrt(u + 1e-5) / np.sqrt(v + 1e-5) * g
        u = 0.85 * u + 0.15 * delta * delta
        ref = ref - 0.7 * delta
    np.testing.assert_allclose(w.detach().numpy(), ref, rtol=1e-12)


def test_lbfgs_minimises_rosenbrock():
    xy = ag.tensor([-1.5, 2.0], dtype=ag.float64, requires_grad=True)
    opt = ag.optim.LBFGS([xy], lr=1, max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        x, y = xy[0], xy[1]
        loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(xy.detach().numpy(), [1.0, 1.0], atol=1e-5)


def test_optimizer_bad_input():
    w = ag.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="Adadelta: invalid rho"):
        ag.optim.Adadelta([w], rho=1.5)
    with pytest.raises(ValueError, match="NAdam: invalid beta"):
        ag.optim.NAdam([w], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="Rprop: invalid eta"):
        ag.optim.Rprop([w], etas=(1.5, 1.2))
    with pytest.raises(ValueError, match="only 'strong_wolfe'"):
        ag.optim.LBFGS([w], line_search_fn="backtracking")
    with pytest.raises(ValueError, match="per-parameter options"):
        ag.optim.LBFGS([{"params": [w]}, {"params": [ag.zeros(2, requires_grad=True)]}])
    with pytest.raises(RuntimeError, match="requires a closure"):
        ag.optim.LBFGS([w]).step()
    with pytest.raises(ValueError, match="Adamax: invalid learning rate"):
        ag.optim.Adamax([w], lr=-1)


# ---------------------------------------------------------------------------------- schedulers
def lr_trace(lib, make, epochs=14, optimizer="SGD", epoch_arg=None):
    w = lib.zeros(2, requires_grad=True)
    v = lib.zeros(2, requires_grad=True)
    opt_cls = getattr(lib.optim, optimizer)
    kw = {"momentum": 0.9} if optimizer == "SGD" else {}
    opt = opt_cls([{"params": [w]}, {"params": [v], "lr": 0.2}], lr=0.1, **kw)
    sched = make(lib, opt)
    out = []
    for e in range(epochs):
        opt.step()
        if epoch_arg is None:
            sched.step()
        else:
            sched.step(epoch_arg(e))
        out.append([g["lr"] for g in opt.param_groups] + [g.get("momentum", g.get("betas", (0,))[0])
                                                         for g in opt.param_groups])
    return np.array(out), sched


def _sched(name):
    return lambda lib, o: getattr(lib.optim.lr_scheduler, name)


SCHEDULERS = {
    "MultiplicativeLR": lambda lib, o: lib.optim.lr_scheduler.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 0.95),
    "ConstantLR": lambda lib, o: lib.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=4),
    "LinearLR": lambda lib, o: lib.optim.lr_scheduler.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=6),
    "PolynomialLR": lambda lib, o: lib.optim.lr_scheduler.PolynomialLR(o, total_iters=8, power=2.0),
    "CosineAnnealingWarmRestarts": lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.001),
    "CosineAnnealingWarmRestarts-1": lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=4),
    "CyclicLR": lambda lib, o: lib.optim.lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.3], step_size_up=3),
    "CyclicLR-tri2": lambda lib, o: lib.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=2, step_size_down=3,
                                                                    mode="triangular2"),
    "CyclicLR-exp": lambda lib, o: lib.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=2, mode="exp_range",
                                                                   gamma=0.9, cycle_momentum=False),
    "SequentialLR": lambda lib, o: lib.optim.lr_scheduler.SequentialLR(
        o, [lib.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=3),
            lib.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
            lib.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)], milestones=[3, 8]),
    "ChainedScheduler": lambda lib, o: lib.optim.lr_scheduler.ChainedScheduler(
        [lib.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=3),
         lib.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)]),
    "SWALR": lambda lib, o: lib.optim.swa_utils.SWALR(o, swa_lr=0.05, anneal_epochs=4),
    "SWALR-linear": lambda lib, o: lib.optim.swa_utils.SWALR(o, swa_lr=[0.05, 0.5], anneal_epochs=3,
                                                             anneal_strategy="linear"),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_matches_torch(name):
    make = SCHEDULERS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, sched = lr_trace(ag, make)
        theirs, tsched = lr_trace(torch, make)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)


@needs_torch
def test_cosine_warm_restarts_fractional_epochs():
    make = SCHEDULERS["CosineAnnealingWarmRestarts"]
    ours, _ = lr_trace(ag, make, epochs=20, epoch_arg=lambda e: e * 0.7)
    theirs, _ = lr_trace(torch, make, epochs=20, epoch_arg=lambda e: e * 0.7)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@needs_torch
def test_cyclic_lr_moves_adam_beta1():
    make = SCHEDULERS["CyclicLR"]
    ours, _ = lr_trace(ag, make, optimizer="Adam")
    theirs, _ = lr_trace(torch, make, optimizer="Adam")
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("name", ["ConstantLR", "LinearLR", "PolynomialLR"])
def test_scheduler_closed_form_agrees_with_recursive(name):
    make = SCHEDULERS[name]
    rec, _ = lr_trace(ag, make, epochs=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        closed, _ = lr_trace(ag, make, epochs=10, epoch_arg=lambda e: e + 1)
    np.testing.assert_allclose(rec, closed, rtol=1e-12)


@pytest.mark.parametrize("name", ["SequentialLR", "CyclicLR", "CosineAnnealingWarmRestarts", "LinearLR"])
def test_scheduler_state_dict_round_trip(name):
    make = SCHEDULERS[name]
    full, _ = lr_trace(ag, make, epochs=10)
    w = ag.zeros(2, requires_grad=True)
    v = ag.zeros(2, requires_grad=True)
    opt = ag.optim.SGD([{"params": [w]}, {"params": [v], "lr": 0.2}], lr=0.1, momentum=0.9)
    sched = make(ag, opt)
    for _ in range(5):
        opt.step()
        sched.step()
    saved_sched, saved_opt = copy.deepcopy(sched.state_dict()), copy.deepcopy(opt.state_dict())
    opt2 = ag.optim.SGD([{"params": [w]}, {"params": [v], "lr": 0.2}], lr=0.1, momentum=0.9)
    sched2 = make(ag, opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    rest = []
    for _ in range(5):
        opt2.step()
        sched2.step()
        rest.append([g["lr"] for g in opt2.param_groups])
    np.testing.assert_allclose(np.array(rest), full[5:, :2], rtol=1e-12)


def test_scheduler_bad_input():
    opt = ag.optim.SGD([ag.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="ConstantLR: factor"):
        S.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="LinearLR: start_factor"):
        S.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="T_0 must be a positive"):
        S.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="expects 1 milestones"):
        S.SequentialLR(opt, [S.ConstantLR(opt), S.ConstantLR(opt)], milestones=[1, 2])
    other = ag.optim.SGD([ag.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="different optimizer"):
        S.ChainedScheduler([S.ConstantLR(opt), S.ConstantLR(other)])
    with pytest.raises(ValueError, match="momentum or beta1"):
        S.CyclicLR(ag.optim.Adagrad([ag.zeros(2, requires_grad=True)]), 0.01, 0.1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        ag.optim.swa_utils.SWALR(opt, 0.05, anneal_strategy="step")


# ---------------------------------------------------------------------------------- swa_utils
def _bn_model(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(), lib.nn.Linear(4, 1))


@needs_torch
@pytest.mark.parametrize("avg", ["mean", "ema", "ema-multi"])
def test_averaged_model_and_update_bn_match_torch(avg):
    rng = np.random.default_rng(1)
    data = rng.standard_normal((12, 3))
    values = [rng.standard_normal(tuple(p.shape)) for p in _bn_model(ag).parameters()]
    results = []
    for lib in (ag, torch):
        lib.manual_seed(0)
        model = _bn_model(lib)
        with lib.no_grad():
            for p, value in zip(model.parameters(), values):
                p.copy_(lib.from_numpy(value.astype(np.float32)))
        kwargs = {}
        if avg == "ema":
            kwargs["avg_fn"] = lib.optim.swa_utils.get_ema_avg_fn(0.9)
        elif avg == "ema-multi":
            kwargs["multi_avg_fn"] = lib.optim.swa_utils.get_ema_multi_avg_fn(0.9)
        swa = lib.optim.swa_utils.AveragedModel(model, **kwargs)
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        x = lib.from_numpy(data.astype(np.float32))
        for _ in range(4):
            opt.zero_grad()
            model(x).pow(2).mean().backward()
            opt.step()
            swa.update_parameters(model)
        loader = [(x[:6], 0), (x[6:], 0)]
        lib.optim.swa_utils.update_bn(loader, swa)
        results.append(([p.detach().numpy().copy() for p in swa.parameters()],
                        [b.detach().numpy().copy() for b in swa.buffers()], swa.training))
    for a, b in zip(results[0][0] + results[0][1], results[1][0] + results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert results[0][2] == results[1][2]


def test_averaged_model_running_mean():
    lin = ag.nn.Linear(2, 2)
    swa = ag.optim.swa_utils.AveragedModel(lin)
    seen = []
    for k in range(3):
        with ag.no_grad():
            lin.weight.fill_(float(k + 1))
        seen.append(k + 1)
        swa.update_parameters(lin)
    np.testing.assert_allclose(swa.module.weight.detach().numpy(), np.full((2, 2), np.mean(seen)))
    assert int(swa.n_averaged.item()) == 3
    assert swa(ag.ones(1, 2)).shape == (1, 2)
