"""Optimizers: 20-step trajectories against NumPy implementations of PyTorch's documented update
rules (written here), cross-checks against torch.optim when it is importable, param groups,
state_dict round trips, the L1 proximal step on a lasso problem, the fused kernels' SIMD/thread
independence, and bad input."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
from autograd_core import _core

try:
    import torch
except ImportError:  # cross-checks skip without torch
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")

STEPS = 20


# ------------------------------------------------------------------------------ NumPy references
# One function per optimizer: (params, grads, state, opts) -> None, updating params and state in
# place, exactly as PyTorch documents the algorithm (not as our kernels order the arithmetic).
def soft_threshold(w, t):
    return np.sign(w) * np.maximum(np.abs(w) - t, 0.0)


def apply_l1(w, o, step):
    """The L1 rule: soft-threshold by l1 times the optimizer's step `step` (a scalar or per
    coordinate), on parameters with ndim >= 2 only."""
    if o.get("l1", 0) and w.ndim >= 2:
        w[...] = soft_threshold(w, o["l1"] * step)


def ref_sgd(params, grads, state, o):
    mom, damp, wd = o.get("momentum", 0), o.get("dampening", 0), o.get("weight_decay", 0)
    for i, (w, g) in enumerate(zip(params, grads)):
        d = -g if o.get("maximize") else g.copy()
        if wd:
            d = d + wd * w
        if mom:
            if i not in state:
                state[i] = d.copy()
            else:
                state[i] = mom * state[i] + (1 - damp) * d
            d = d + mom * state[i] if o.get("nesterov") else state[i]
        w -= o["lr"] * d
        gain = 1.0
        if mom:
            gain = (1 - damp) / (1 - mom)
            if o.get("nesterov"):
                gain = 1 + mom * gain
        apply_l1(w, o, o["lr"] * gain)


def ref_adam(params, grads, state, o, decoupled=False):
    b1, b2 = o.get("betas", (0.9, 0.999))
    eps = o.get("eps", 1e-8)
    wd = o.get("weight_decay", 1e-2 if decoupled else 0)
    lr = o["lr"]
    for i, (w, g) in enumerate(zip(params, grads)):
        s = state.setdefault(i, dict(t=0, m=np.zeros_like(w), v=np.zeros_like(w), vmax=np.zeros_like(w)))
        s["t"] += 1
        t = s["t"]
        d = -g if o.get("maximize") else g.copy()
        if decoupled:
            w *= 1 - lr * wd
        elif wd:
            d = d + wd * w
        s["m"] = b1 * s["m"] + (1 - b1) * d
        s["v"] = b2 * s["v"] + (1 - b2) * d * d
        mhat = s["m"] / (1 - b1**t)
        if o.get("amsgrad"):
            s["vmax"] = np.maximum(s["vmax"], s["v"])
            vhat = s["vmax"] / (1 - b2**t)
        else:
            vhat = s["v"] / (1 - b2**t)
        w -= lr * mhat / (np.sqrt(vhat) + eps)
        apply_l1(w, o, lr / (1 - b1**t) / (np.sqrt(vhat) + eps))


def ref_adamw(params, grads, state, o):
    ref_adam(params, grads, state, o, decoupled=True)


def ref_rmsprop(params, grads, state, o):
    alpha, eps = o.get("alpha", 0.99), o.get("eps", 1e-8)
    wd, mom = o.get("weight_decay", 0), o.get("momentum", 0)
    for i, (w, g) in enumerate(zip(params, grads)):
        s = state.setdefault(i, dict(v=np.zeros_like(w), a=np.zeros_like(w), b=np.zeros_like(w)))
        d = -g if o.get("maximize") else g.copy()
        if wd:
            d = d + wd * w
        s["v"] = alpha * s["v"] + (1 - alpha) * d * d
        if o.get("centered"):
            s["a"] = alpha * s["a"] + (1 - alpha) * d
            avg = np.sqrt(s["v"] - s["a"] ** 2) + eps
        else:
            avg = np.sqrt(s["v"]) + eps
        if mom > 0:
            s["b"] = mom * s["b"] + d / avg
            w -= o["lr"] * s["b"]
            apply_l1(w, o, o["lr"] / avg / (1 - mom))
        else:
            w -= o["lr"] * d / avg
            apply_l1(w, o, o["lr"] / avg)


def ref_adagrad(params, grads, state, o):
    lr, lr_decay = o["lr"], o.get("lr_decay", 0)
    wd, eps = o.get("weight_decay", 0), o.get("eps", 1e-10)
    for i, (w, g) in enumerate(zip(params, grads)):
        s = state.setdefault(i, dict(t=0, sum=np.full_like(w, o.get("initial_accumulator_value", 0))))
        s["t"] += 1
        d = -g if o.get("maximize") else g.copy()
        if wd:
            d = d + wd * w
        clr = lr / (1 + (s["t"] - 1) * lr_decay)
        s["sum"] = s["sum"] + d * d
        w -= clr * d / (np.sqrt(s["sum"]) + eps)
        apply_l1(w, o, clr / (np.sqrt(s["sum"]) + eps))


REFS = {"SGD": ref_sgd, "Adam": ref_adam, "AdamW": ref_adamw, "RMSprop": ref_rmsprop, "Adagrad": ref_adagrad}

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05, l1=0.3)),
    ("Adam", dict(lr=0.02)),
    ("Adam", dict(lr=0.02, amsgrad=True)),
    ("Adam", dict(lr=0.02, weight_decay=0.1)),
    ("Adam", dict(lr=0.02, maximize=True)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.05, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.02, l1=0.5)),
    ("AdamW", dict(lr=0.02)),
    ("AdamW", dict(lr=0.02, weight_decay=0.3, amsgrad=True)),
    ("AdamW", dict(lr=0.02, maximize=True, l1=0.5)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4, maximize=True)),
    ("RMSprop", dict(lr=0.01, l1=0.5)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, eps=1e-3, maximize=True)),
    ("Adagrad", dict(lr=0.1, l1=0.3)),
]


def case_id(case):
    name, opts = case
    return name + "-" + ("-".join(f"{k}={v}" for k, v in opts.items()) or "default")


# ------------------------------------------------------------------------------ the problem
class Problem:
    """Two parameters (a (5, 4) matrix and a (4,) bias) and a gradient that depends on their current
    values (a quadratic bowl plus a per-step perturbation), so errors would compound step by step."""

    def __init__(self, seed=0, shapes=((5, 4), (4,))):
        rng = np.random.default_rng(seed)
        self.init = [rng.standard_normal(s) for s in shapes]
        self.scale = [rng.uniform(0.5, 2.0, s) for s in shapes]
        self.target = [rng.standard_normal(s) for s in shapes]
        self.noise = [[0.3 * rng.standard_normal(s) for s in shapes] for _ in range(200)]

    def grads(self, values, k):
        return [c * (w - t) + n for w, c, t, n in zip(values, self.scale, self.target, self.noise[k])]


def ag_params(values, dtype):
    return [ag.tensor(np.array(v, dtype=dtype), requires_grad=True) for v in values]


def numpy_of(t):
    return np.array(t.detach().numpy(), dtype=np.float64)


def run_ours(opt, params, problem, steps, dtype, start=0):
    traj = []
    for k in range(start, start + steps):
        gs = problem.grads([numpy_of(p) for p in params], k)
        for p, g in zip(params, gs):
            p.grad = ag.tensor(np.asarray(g, dtype=dtype))
        opt.step()
        traj.append([numpy_of(p) for p in params])
    return traj


def run_ref(name, opts, problem, steps):
    values = [v.copy() for v in problem.init]
    state = {}
    traj = []
    for k in range(steps):
        REFS[name](values, problem.grads(values, k), state, opts)
        traj.append([v.copy() for v in values])
    return traj


def assert_traj_close(got, want, rtol, atol):
    for k, (g_step, w_step) in enumerate(zip(got, want)):
        for g, w in zip(g_step, w_step):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"step {k + 1}")


# ------------------------------------------------------------------------------ trajectories
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_trajectory_matches_numpy_float64(case):
    name, opts = case
    problem = Problem()
    params = ag_params(problem.init, np.float64)
    opt = getattr(ag.optim, name)(params, **opts)
    got = run_ours(opt, params, problem, STEPS, np.float64)
    assert_traj_close(got, run_ref(name, opts, problem, STEPS), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_trajectory_matches_numpy_float32(case):
    name, opts = case
    problem = Problem()
    params = ag_params(problem.init, np.float32)
    opt = getattr(ag.optim, name)(params, **opts)
    got = run_ours(opt, params, problem, STEPS, np.float32)
    assert params[0].dtype == ag.float32
    assert_traj_close(got, run_ref(name, opts, problem, STEPS), rtol=2e-4, atol=2e-4)


@needs_torch
@pytest.mark.parametrize("case", [c for c in CASES if "l1" not in c[1]], ids=case_id)
def test_trajectory_matches_torch(case):
    name, opts = case
    problem = Problem()
    params = ag_params(problem.init, np.float64)
    got = run_ours(getattr(ag.optim, name)(params, **opts), params, problem, STEPS, np.float64)
    tparams = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in problem.init]
    topt = getattr(torch.optim, name)(tparams, **opts)
    want = []
    for k in range(STEPS):
        gs = problem.grads([p.detach().numpy() for p in tparams], k)
        for p, g in zip(tparams, gs):
            p.grad = torch.tensor(g)
        topt.step()
        want.append([p.detach().numpy().copy() for p in tparams])
    assert_traj_close(got, want, rtol=1e-10, atol=1e-12)
    # the state carries PyTorch's names
    ours = opt_state_keys(getattr(ag.optim, name), opts, problem)
    theirs = {i: sorted(s) for i, s in topt.state_dict()["state"].items()}
    assert ours == theirs


def opt_state_keys(cls, opts, problem):
    params = ag_params(problem.init, np.float64)
    opt = cls(params, **opts)
    run_ours(opt, params, problem, 2, np.float64)
    return {i: sorted(s) for i, s in opt.state_dict()["state"].items()}


def test_autograd_gradients_drive_the_step():
    # loss.backward() fills .grad; SGD with momentum then follows the NumPy reference
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 3))
    y = rng.standard_normal((8, 2))
    w0 = rng.standard_normal((2, 3))
    w = ag.tensor(w0.copy(), requires_grad=True)
    opt = ag.optim.SGD([w], lr=0.1, momentum=0.9)
    ref_w = w0.copy()
    state = {}
    for _ in range(10):
        opt.zero_grad()
        loss = ((ag.tensor(x) @ w.T - ag.tensor(y)) ** 2).mean()
        loss.backward()
        opt.step()
        g = 2 * (x @ ref_w.T - y).T @ x / y.size
        ref_sgd([ref_w], [g], state, dict(lr=0.1, momentum=0.9))
    np.testing.assert_allclose(numpy_of(w), ref_w, rtol=1e-10, atol=1e-12)


def test_parameters_without_grad_are_skipped():
    a = ag.tensor(np.ones((2, 2)), requires_grad=True)
    b = ag.tensor(np.ones(3), requires_grad=True)
    opt = ag.optim.Adam([a, b], lr=0.1)
    a.grad = ag.tensor(np.ones((2, 2)))
    opt.step()
    assert np.all(numpy_of(b) == 1.0)
    assert b not in opt.state or len(opt.state[b]) == 0
    assert opt.state[a]["step"] == 1


def test_step_with_closure_returns_loss():
    w = ag.tensor(np.array([3.0, -2.0]), requires_grad=True)
    opt = ag.optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with ag.no_grad():  # the closure still records its graph
        loss = opt.step(closure)
    assert float(loss.item()) == pytest.approx(13.0)
    np.testing.assert_allclose(numpy_of(w), [1.5, -1.0])


def test_zero_grad():
    w = ag.tensor(np.ones(3), requires_grad=True)
    opt = ag.optim.SGD([w], lr=0.1)
    w.grad = ag.tensor(np.full(3, 2.0))
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and np.all(numpy_of(w.grad) == 0)
    opt.zero_grad()
    assert w.grad is None


# ------------------------------------------------------------------------------ groups, state dicts
def test_param_groups_use_their_own_options():
    problem = Problem(seed=3)
    params = ag_params(problem.init, np.float64)
    g0 = dict(lr=0.05, momentum=0.9, nesterov=True)
    g1 = dict(lr=0.2, weight_decay=0.1)
    opt = ag.optim.SGD([dict(params=[params[0]], **g0), dict(params=[params[1]], lr=0.2, weight_decay=0.1)],
                       lr=1.0, momentum=0.0)
    assert opt.param_groups[1]["momentum"] == 0.0 and opt.param_groups[0]["lr"] == 0.05
    got = run_ours(opt, params, problem, STEPS, np.float64)
    values = [v.copy() for v in problem.init]
    states = [{}, {}]
    for k in range(STEPS):
        gs = problem.grads(values, k)
        ref_sgd([values[0]], [gs[0]], states[0], g0)
        ref_sgd([values[1]], [gs[1]], states[1], g1)
        for g, v in zip(got[k], values):
            np.testing.assert_allclose(g, v, rtol=1e-10, atol=1e-12)


def test_add_param_group_fills_defaults():
    a = ag.tensor(np.ones(2), requires_grad=True)
    b = ag.tensor(np.ones(2), requires_grad=True)
    opt = ag.optim.Adam([a], lr=0.01, betas=(0.8, 0.9))
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["betas"] == (0.8, 0.9)
    assert opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["params"][0] is b
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


@pytest.mark.parametrize("case", [c for c in CASES if c[0] != "SGD" or "momentum" in c[1]], ids=case_id)
def test_state_dict_round_trip_resumes_trajectory(case):
    name, opts = case
    cls = getattr(ag.optim, name)
    problem = Problem(seed=5)
    params = ag_params(problem.init, np.float64)
    opt = cls(params, **opts)
    run_ours(opt, params, problem, 7, np.float64)
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sd["param_groups"][0]["params"] == [0, 1]
    # a fresh optimizer on copies of the parameters, loaded from the state dict
    params2 = ag_params([numpy_of(p) for p in params], np.float64)
    opt2 = cls(params2, lr=123.0)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == opts["lr"]
    a = run_ours(opt, params, problem, 6, np.float64, start=7)
    b = run_ours(opt2, params2, problem, 6, np.float64, start=7)
    for sa, sb in zip(a, b):
        for x, y in zip(sa, sb):
            np.testing.assert_array_equal(x, y)


def test_load_state_dict_copies_and_converts_dtype():
    problem = Problem()
    params = ag_params(problem.init, np.float64)
    opt = ag.optim.Adam(params, lr=0.01)
    run_ours(opt, params, problem, 3, np.float64)
    params32 = ag_params(problem.init, np.float32)
    opt32 = ag.optim.Adam(params32, lr=0.01)
    opt32.load_state_dict(opt.state_dict())
    m = opt32.state[params32[0]]["exp_avg"]
    assert m.dtype == ag.float32
    np.testing.assert_allclose(numpy_of(m), numpy_of(opt.state[params[0]]["exp_avg"]), rtol=1e-6)
    assert opt32.state[params32[0]]["step"] == 3
    # copied: stepping one does not move the other's moments
    run_ours(opt32, params32, problem, 1, np.float32, start=3)
    assert opt.state[params[0]]["step"] == 3


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_state_dict_survives_ag_save_and_load(tmp_path, name):
    opts = dict(SGD=dict(lr=0.05, momentum=0.9, nesterov=True), Adam=dict(lr=0.02, amsgrad=True),
                RMSprop=dict(lr=0.01, centered=True, momentum=0.5), Adagrad=dict(lr=0.1, lr_decay=0.01))[name]
    cls = getattr(ag.optim, name)
    problem = Problem(seed=9)
    params = ag_params(problem.init, np.float32)
    opt = cls(params, **opts)
    run_ours(opt, params, problem, 4, np.float32)
    path = str(tmp_path / "opt.safetensors")
    ag.save(opt.state_dict(), path)
    params2 = ag_params([numpy_of(p) for p in params], np.float32)
    opt2 = cls(params2, lr=1.0)
    opt2.load_state_dict(ag.load(path))
    a = run_ours(opt, params, problem, 4, np.float32, start=4)
    b = run_ours(opt2, params2, problem, 4, np.float32, start=4)
    for sa, sb in zip(a, b):
        for x, y in zip(sa, sb):
            np.testing.assert_array_equal(x, y)


@needs_torch
def test_load_torch_state_dict_continues_torch_trajectory():
    problem = Problem(seed=7)
    opts = dict(lr=0.02, amsgrad=True, weight_decay=0.01)
    tparams = [torch.tensor(v, requires_grad=True) for v in problem.init]
    topt = torch.optim.Adam(tparams, **opts)

    def torch_steps(k0, n):
        out = []
        for k in range(k0, k0 + n):
            gs = problem.grads([p.detach().numpy() for p in tparams], k)
            for p, g in zip(tparams, gs):
                p.grad = torch.tensor(g)
            topt.step()
            out.append([p.detach().numpy().copy() for p in tparams])
        return out

    torch_steps(0, 5)
    tsd = topt.state_dict()
    sd = {"state": {i: {k: (ag.tensor(v.numpy()) if v.dim() else v) for k, v in s.items()}
                    for i, s in tsd["state"].items()},
          "param_groups": tsd["param_groups"]}
    params = ag_params([p.detach().numpy() for p in tparams], np.float64)
    opt = ag.optim.Adam(params, lr=1.0)
    opt.load_state_dict(sd)
    assert opt.state[params[0]]["step"] == 5
    assert_traj_close(run_ours(opt, params, problem, 5, np.float64, start=5), torch_steps(5, 5),
                      rtol=1e-10, atol=1e-12)


def test_load_state_dict_errors():
    a = ag.tensor(np.ones((2, 2)), requires_grad=True)
    b = ag.tensor(np.ones(3), requires_grad=True)
    opt = ag.optim.Adam([a, b])
    a.grad = ag.tensor(np.ones((2, 2)))
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="parameter group that doesn't match"):
        ag.optim.Adam([a]).load_state_dict(sd)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        ag.optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(sd)
    c = ag.tensor(np.ones((3, 2)), requires_grad=True)
    with pytest.raises(ValueError, match=r"shape \(2, 2\).*shape \(3, 2\)"):
        ag.optim.Adam([c, b]).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


# ------------------------------------------------------------------------------ L1 proximal step
def lasso_problem():
    """Orthogonal design (X^T X / n = I, centred columns): the argmin of
    |Xw + b - y|^2 / (2n) + lam |w|_1 is w* = soft_threshold(X^T y / n, lam), b* = mean(y), with
    exact zeros where |X^T y / n| <= lam."""
    rng = np.random.default_rng(0)
    n, d, lam = 64, 8, 0.1
    q, _ = np.linalg.qr(rng.standard_normal((n, d)))
    q -= q.mean(axis=0)  # centred columns decouple the bias
    q, _ = np.linalg.qr(q)
    x = q * math.sqrt(n)
    w_true = np.array([2.0, 0, 0, -1.5, 0, 0.6, 0, 0])
    y = x @ w_true + 0.7 + 0.03 * rng.standard_normal(n)
    w_star = soft_threshold(x.T @ (y - y.mean()) / n, lam)
    assert (w_star == 0).sum() == 5
    return x, y, lam, w_star


def test_l1_sgd_reaches_the_lasso_through_autograd():
    x, y, lam, w_star = lasso_problem()
    n, d = x.shape
    w = ag.tensor(np.zeros((1, d)), requires_grad=True)
    b = ag.tensor(np.zeros(1), requires_grad=True)
    opt = ag.optim.SGD([w, b], lr=0.5, l1=lam)
    xt, yt = ag.tensor(x), ag.tensor(y.reshape(n, 1))
    for _ in range(60):
        opt.zero_grad()
        loss = ((xt @ w.T + b - yt) ** 2).sum() / (2 * n)
        loss.backward()
        opt.step()
    got = numpy_of(w)[0]
    assert np.array_equal(got == 0, w_star == 0)  # exact zeros, the lasso's support
    np.testing.assert_allclose(got, w_star, atol=1e-9)
    np.testing.assert_allclose(numpy_of(b), [y.mean()], atol=1e-9)  # bias: no L1 (ndim 1)


LASSO_CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9), 300),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), 300),
    ("SGD", dict(lr=0.2, momentum=0.5, dampening=0.5), 300),
    ("Adam", dict(lr=0.1), 400),
    ("AdamW", dict(lr=0.1, weight_decay=0.0, amsgrad=True), 400),
    ("RMSprop", dict(lr=0.01), 1000),
    ("RMSprop", dict(lr=0.003, momentum=0.9), 1500),  # centered: variance -> 0 on a deterministic problem
    ("Adagrad", dict(lr=0.5), 300),
]


@pytest.mark.parametrize("case", LASSO_CASES, ids=lambda c: case_id(c[:2]))
def test_l1_every_optimizer_converges_to_the_lasso(case):
    # the threshold scales with each optimizer's own step, so its fixed points are the lasso's
    name, opts, steps = case
    x, y, lam, w_star = lasso_problem()
    n, d = x.shape
    w = ag.tensor(np.zeros((1, d)), requires_grad=True)
    b = ag.tensor(np.zeros(1), requires_grad=True)
    opt = getattr(ag.optim, name)([w, b], l1=lam, **opts)
    for _ in range(steps):
        r = x @ numpy_of(w)[0] + numpy_of(b)[0] - y
        w.grad = ag.tensor((x.T @ r / n).reshape(1, d))
        b.grad = ag.tensor(np.array([r.mean()]))
        opt.step()
    got = numpy_of(w)[0]
    assert np.array_equal(got == 0, w_star == 0)
    np.testing.assert_allclose(got, w_star, atol=1e-6)


def test_l1_skips_parameters_with_ndim_below_2():
    problem = Problem(shapes=((6,), ()))
    a = ag_params(problem.init, np.float64)
    b = ag_params(problem.init, np.float64)
    ra = run_ours(ag.optim.SGD(a, lr=0.1, momentum=0.5), a, problem, 5, np.float64)
    rb = run_ours(ag.optim.SGD(b, lr=0.1, momentum=0.5, l1=10.0), b, problem, 5, np.float64)
    for sa, sb in zip(ra, rb):
        for x, y in zip(sa, sb):
            np.testing.assert_array_equal(x, y)


def test_soft_threshold_kernel_gives_positive_zeros_and_keeps_nan():
    w = ag.tensor(np.array([[-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, np.nan, -0.0]]))
    _core.soft_threshold_(w, 1.0)
    got = numpy_of(w)[0]
    np.testing.assert_array_equal(got[:7], [-2.0, 0, 0, 0, 0, 0, 2.0])
    assert not np.signbit(got[1:6]).any() and not np.signbit(got[8])
    assert np.isnan(got[7])


# ------------------------------------------------------------------------------ kernels and layouts
def fused_run(name, opts, dtype, n, steps=3):
    rng = np.random.default_rng(11)
    p = ag.tensor(rng.standard_normal((n, 3)).astype(dtype), requires_grad=True)
    opt = getattr(ag.optim, name)([p], **opts)
    for _ in range(steps):
        p.grad = ag.tensor(rng.standard_normal((n, 3)).astype(dtype))
        opt.step()
    return numpy_of(p)


KERNEL_CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01, l1=0.1)),
    ("Adam", dict(lr=0.1, amsgrad=True, weight_decay=0.01, l1=0.1)),
    ("AdamW", dict(lr=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, l1=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, l1=0.1)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", KERNEL_CASES, ids=case_id)
def test_kernel_simd_paths_are_bit_identical(case, dtype):
    name, opts = case
    wide = _core.simd_targets()[1:]
    if not wide:
        pytest.skip("CPU without AVX2: only the portable path exists")
    old = _core.simd_target()
    try:
        _core.set_simd_target("portable")
        portable = fused_run(name, opts, dtype, 1001)  # 3003 elements: vector body and scalar tail
        for tier in wide:
            _core.set_simd_target(tier)
            np.testing.assert_array_equal(fused_run(name, opts, dtype, 1001), portable, err_msg=tier)
    finally:
        _core.set_simd_target(old)


@pytest.mark.parametrize("case", KERNEL_CASES[:2], ids=case_id)
def test_kernel_results_independent_of_threads(case):
    name, opts = case
    before = ag.get_num_threads()
    try:
        ag.set_num_threads(1)
        one = fused_run(name, opts, np.float32, 40001, steps=2)  # above the threading threshold
        ag.set_num_threads(2)
        two = fused_run(name, opts, np.float32, 40001, steps=2)
    finally:
        ag.set_num_threads(before)
    np.testing.assert_array_equal(one, two)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 70), seed=st.integers(0, 2**16), amsgrad=st.booleans(), maximize=st.booleans(),
       decoupled=st.booleans(), wd=st.sampled_from([0.0, 0.1]), l1=st.sampled_from([0.0, 0.05]),
       step=st.integers(1, 50))
def test_adam_kernel_any_size_matches_one_reference_step(n, seed, amsgrad, maximize, decoupled, wd, l1, step):
    # sizes around the SIMD width (vector body + scalar tail), every flag, both SIMD paths
    rng = np.random.default_rng(seed)
    w, g, m = (rng.standard_normal((n, 1)) for _ in range(3))
    v, vmax = (rng.uniform(0, 2, (n, 1)) for _ in range(2))
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    # NumPy: one step of the documented update with state (m, v, vmax) at step - 1
    d = -g if maximize else g.copy()
    rw = w * (1 - lr * wd) if decoupled else w.copy()
    if wd and not decoupled:
        d = d + wd * w
    rm = b1 * m + (1 - b1) * d
    rv = b2 * v + (1 - b2) * d * d
    rvmax = np.maximum(vmax, rv)
    denom = np.sqrt(rvmax if amsgrad else rv) / math.sqrt(1 - b2**step) + eps
    rw = rw - lr / (1 - b1**step) * rm / denom
    rw = soft_threshold(rw, l1 * lr / (1 - b1**step) / denom)
    targets = _core.simd_targets()
    results = []
    try:
        for target in targets:
            _core.set_simd_target(target)
            tw, tg, tm, tv, tx = (ag.tensor(a.copy()) for a in (w, g, m, v, vmax))
            _core.adam_step(tw, tg, tm, tv, tx if amsgrad else None, lr, b1, b2, eps, wd, step, maximize,
                            decoupled, l1)
            results.append(numpy_of(tw))
            np.testing.assert_allclose(results[-1], rw, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(numpy_of(tm), rm, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(numpy_of(tv), rv, rtol=1e-12, atol=1e-14)
            if amsgrad:
                np.testing.assert_allclose(numpy_of(tx), rvmax, rtol=1e-12, atol=1e-14)
    finally:
        _core.set_simd_target(targets[-1])
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_noncontiguous_parameter_and_gradient():
    rng = np.random.default_rng(2)
    w0 = rng.standard_normal((4, 6))
    gs = [rng.standard_normal((6, 4)) for _ in range(4)]
    p = ag.tensor(w0.copy()).T.requires_grad_()  # a (6, 4) leaf with transposed strides
    assert not p.is_contiguous()
    q = ag.tensor(w0.T.copy(), requires_grad=True)
    opt_p = ag.optim.Adam([p], lr=0.1, l1=0.05)
    opt_q = ag.optim.Adam([q], lr=0.1, l1=0.05)
    for g in gs:
        p.grad = ag.tensor(g.T.copy()).T  # non-contiguous gradient too
        q.grad = ag.tensor(g)
        opt_p.step()
        opt_q.step()
    assert not p.is_contiguous()
    np.testing.assert_array_equal(numpy_of(p), numpy_of(q))


def test_step_bumps_the_version_counter():
    w = ag.tensor(np.ones(3), requires_grad=True)
    opt = ag.optim.SGD([w], lr=0.1)
    w.grad = ag.tensor(np.ones(3))
    before = w._version
    opt.step()
    assert w._version > before


# ------------------------------------------------------------------------------ bad input
def test_bad_options_raise_clear_errors():
    w = ag.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="invalid learning rate: -0.1"):
        ag.optim.SGD([w], lr=-0.1)
    with pytest.raises(ValueError, match="invalid learning rate"):
        ag.optim.Adam([w], lr=-1e-3)
    with pytest.raises(ValueError, match="invalid momentum value"):
        ag.optim.SGD([w], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        ag.optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="invalid beta parameter at index 0: 1.0"):
        ag.optim.Adam([w], betas=(1.0, 0.999))
    with pytest.raises(ValueError, match="invalid beta parameter at index 1"):
        ag.optim.AdamW([w], betas=(0.9, -0.1))
    with pytest.raises(ValueError, match="invalid eps value"):
        ag.optim.Adam([w], eps=-1.0)
    with pytest.raises(ValueError, match="invalid weight_decay value"):
        ag.optim.RMSprop([w], weight_decay=-1.0)
    with pytest.raises(ValueError, match="invalid alpha value"):
        ag.optim.RMSprop([w], alpha=-0.5)
    with pytest.raises(ValueError, match="invalid lr_decay value"):
        ag.optim.Adagrad([w], lr_decay=-0.1)
    with pytest.raises(ValueError, match="invalid initial_accumulator_value value"):
        ag.optim.Adagrad([w], initial_accumulator_value=-1)
    with pytest.raises(ValueError, match="invalid l1 value"):
        ag.optim.Adam([w], l1=-0.1)
    with pytest.raises(ValueError, match="l1 > 0 needs momentum < 1"):
        ag.optim.SGD([w], lr=0.1, momentum=1.0, l1=0.1)
    with pytest.raises(TypeError, match="lr must be a real number"):
        ag.optim.SGD([w], lr="0.1")
    with pytest.raises(ValueError, match="invalid learning rate"):  # per-group options are checked too
        ag.optim.SGD([{"params": [w], "lr": -1.0}], lr=0.1)


def test_bad_params_raise_clear_errors():
    w = ag.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts, but got a single"):
        ag.optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        ag.optim.Adam([])
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        ag.optim.Adam([w, 3.0])
    with pytest.raises(TypeError, match="ordered collections"):
        ag.optim.Adam([{"params": {w}}])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        ag.optim.Adam([w * 2])
    with pytest.raises(TypeError, match="float32/float64"):
        ag.optim.Adam([ag.tensor([1, 2])])
    with pytest.raises(TypeError, match="params argument given to the optimizer should be an iterable"):
        ag.optim.Adam(5)
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        ag.optim.SGD([{"params": [w]}])


def test_bad_gradients_raise_clear_errors():
    w = ag.tensor(np.ones((2, 3)), requires_grad=True)
    opt = ag.optim.Adam([w])
    # a wrong gradient cannot even be assigned (as in PyTorch), so no step can see one
    with pytest.raises(RuntimeError, match=r"gradient of shape \(3, 2\) does not match the tensor's shape"):
        w.grad = ag.tensor(np.ones((3, 2)))
    with pytest.raises(RuntimeError, match="gradient of dtype float32 does not match the tensor's dtype"):
        w.grad = ag.tensor(np.ones((2, 3), dtype=np.float32))
    assert w.grad is None
    opt.step()


def test_repr_lists_group_options():
    w = ag.tensor(np.ones(2), requires_grad=True)
    text = repr(ag.optim.Adam([w], lr=0.5))
    assert text.startswith("Adam (") and "Parameter Group 0" in text and "lr: 0.5" in text


def test_gradient_sharing_memory_with_its_parameter():
    # p.grad a view of p itself: the step must read the gradient before overwriting p
    w = ag.tensor(np.array([[1.0, 2.0]]), requires_grad=True)
    w.grad = w.detach()
    opt = ag.optim.SGD([w], lr=0.5, momentum=0.9)
    opt.step()
    np.testing.assert_array_equal(numpy_of(w), [[0.5, 1.0]])
    np.testing.assert_array_equal(numpy_of(opt.state[w]["momentum_buffer"]), [[1.0, 2.0]])
