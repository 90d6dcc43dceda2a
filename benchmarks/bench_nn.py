"""nn benchmarks: MLP training steps and BatchNorm2d forward + backward, float32.

Cases (issue 5 targets: no slower than PyTorch):
  mlp_small   Linear-ReLU 64-128-64-10, batch 128, cross-entropy, Adam: one full training step
  mlp_large   784-1024-1024-10, batch 256, cross-entropy, SGD momentum 0.9: one full training step
  batchnorm   BatchNorm2d(16) training forward + backward on (64, 16, 28, 28)
  ln_fwd      LayerNorm(512) forward on (64, 128, 512) (a transformer's activations)
  ln_fwdbwd   LayerNorm(512) forward + backward on (64, 128, 512)
  ln_1024     LayerNorm(1024) forward + backward on (32, 1024)
Each is timed for ours, a hand-written NumPy implementation of the same computation and, when
importable, PyTorch (same thread count).

    pytest benchmarks/bench_nn.py --benchmark-only     # pytest-benchmark groups
    python benchmarks/bench_nn.py                      # nn_report(): the ratio table
"""
import os
import sys

import numpy as np
import pytest

if __name__ == "__main__":  # run as a script from a source checkout: import the package beside it
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import autograd_core as ag  # noqa: E402
from autograd_core import _core  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import time_settled  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

MLPS = {
    "mlp_small": {"sizes": (64, 128, 64, 10), "batch": 128, "opt": "adam"},
    "mlp_large": {"sizes": (784, 1024, 1024, 10), "batch": 256, "opt": "sgd"},
}
BN_SHAPE = (64, 16, 28, 28)
LN_SHAPES = {"ln_fwd": (64, 128, 512), "ln_fwdbwd": (64, 128, 512), "ln_1024": (32, 1024)}


def _data(sizes, batch, seed=0):
    r = np.random.default_rng(seed)
    x = r.standard_normal((batch, sizes[0])).astype(np.float32)
    y = r.integers(0, sizes[-1], batch)
    return x, y


# ------------------------------------------------------------------------------ ours and PyTorch
# The two libraries share the API used here, so one builder serves both (lib: autograd_core or torch).
def lib_mlp(lib, case):
    cfg = MLPS[case]
    sizes = cfg["sizes"]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(lib.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(lib.nn.ReLU())
    model = lib.nn.Sequential(*layers)
    if cfg["opt"] == "adam":
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = lib.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    x, y = _data(sizes, cfg["batch"])
    xt, yt = lib.tensor(x), lib.tensor(y)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
    return step


def lib_bn(lib):
    bn = lib.nn.BatchNorm2d(BN_SHAPE[1])
    r = np.random.default_rng(0)
    x = lib.tensor(r.standard_normal(BN_SHAPE).astype(np.float32), requires_grad=True)
    g = lib.tensor(r.standard_normal(BN_SHAPE).astype(np.float32))

    def step():
        x.grad = None
        bn(x).backward(g)
    return step


def lib_ln(lib, case):
    shape = LN_SHAPES[case]
    ln = lib.nn.LayerNorm(shape[-1])
    r = np.random.default_rng(0)
    x = lib.tensor(r.standard_normal(shape).astype(np.float32), requires_grad=True)
    g = lib.tensor(r.standard_normal(shape).astype(np.float32))
    if case == "ln_fwd":
        return lambda: ln(x)

    def step():
        x.grad = None
        ln.weight.grad = ln.bias.grad = None
        ln(x).backward(g)
    return step


def ours_mlp(case):
    return lib_mlp(ag, case)


def ours_bn():
    return lib_bn(ag)


# ------------------------------------------------------------------------------ NumPy
def numpy_mlp(case):
    """Forward, softmax cross-entropy, backward and the optimizer update written out in NumPy."""
    cfg = MLPS[case]
    sizes = cfg["sizes"]
    r = np.random.default_rng(1)
    ws = [r.uniform(-1, 1, (sizes[i + 1], sizes[i])).astype(np.float32) / np.sqrt(sizes[i])
          for i in range(len(sizes) - 1)]
    bs = [np.zeros(sizes[i + 1], np.float32) for i in range(len(sizes) - 1)]
    params = ws + bs
    x, y = _data(sizes, cfg["batch"])
    n = len(x)
    state = {"t": 0, "m": [np.zeros_like(p) for p in params], "v": [np.zeros_like(p) for p in params]}

    def step():
        acts = [x]
        h = x
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w.T + b
            if i < len(ws) - 1:
                h = np.maximum(h, 0)
            acts.append(h)
        z = acts[-1] - acts[-1].max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        p[np.arange(n), y] -= 1
        g = p / n
        gw, gb = [None] * len(ws), [None] * len(ws)
        for i in range(len(ws) - 1, -1, -1):
            gw[i] = g.T @ acts[i]
            gb[i] = g.sum(0)
            if i:
                g = (g @ ws[i]) * (acts[i] > 0)
        grads = gw + gb
        if cfg["opt"] == "adam":
            state["t"] += 1
            t = state["t"]
            for p_, g_, m, v in zip(params, grads, state["m"], state["v"]):
                m *= 0.9
                m += 0.1 * g_
                v *= 0.999
                v += 0.001 * g_ * g_
                p_ -= (1e-3 / (1 - 0.9 ** t)) * m / (np.sqrt(v) / np.sqrt(1 - 0.999 ** t) + 1e-8)
        else:
            for p_, g_, m in zip(params, grads, state["m"]):
                m *= 0.9
                m += g_
                p_ -= 1e-2 * m
    return step


def numpy_bn():
    r = np.random.default_rng(0)
    x = r.standard_normal(BN_SHAPE).astype(np.float32)
    g = r.standard_normal(BN_SHAPE).astype(np.float32)
    w = np.ones((1, BN_SHAPE[1], 1, 1), np.float32)
    axes = (0, 2, 3)

    def step():
        mean = x.mean(axes, keepdims=True)
        xc = x - mean
        var = (xc * xc).mean(axes, keepdims=True)
        inv = 1 / np.sqrt(var + 1e-5)
        xhat = xc * inv
        out = xhat * w
        gb = g.sum(axes)
        gw = (g * xhat).sum(axes)
        gx = w * inv * (g - g.mean(axes, keepdims=True) - xhat * (g * xhat).mean(axes, keepdims=True))
        return out, gx, gw, gb
    return step


def numpy_ln(case):
    shape = LN_SHAPES[case]
    r = np.random.default_rng(0)
    x = r.standard_normal(shape).astype(np.float32)
    g = r.standard_normal(shape).astype(np.float32)
    w = np.ones(shape[-1], np.float32)
    lead = tuple(range(len(shape) - 1))

    def step():
        mean = x.mean(-1, keepdims=True)
        xc = x - mean
        inv = 1 / np.sqrt((xc * xc).mean(-1, keepdims=True) + 1e-5)
        xhat = xc * inv
        out = xhat * w + 0
        if case == "ln_fwd":
            return out
        gh = g * w
        gx = inv * (gh - gh.mean(-1, keepdims=True) - xhat * (gh * xhat).mean(-1, keepdims=True))
        return out, gx, (g * xhat).sum(lead), g.sum(lead)
    return step


# ------------------------------------------------------------------------------ PyTorch
def torch_mlp(case):
    return lib_mlp(torch, case)


def torch_bn():
    return lib_bn(torch)


CASES = {
    "mlp_small": (lambda: ours_mlp("mlp_small"), lambda: numpy_mlp("mlp_small"), lambda: torch_mlp("mlp_small")),
    "mlp_large": (lambda: ours_mlp("mlp_large"), lambda: numpy_mlp("mlp_large"), lambda: torch_mlp("mlp_large")),
    "batchnorm": (ours_bn, numpy_bn, torch_bn),
}
for _c in LN_SHAPES:
    CASES[_c] = (lambda c=_c: lib_ln(ag, c), lambda c=_c: numpy_ln(c), lambda c=_c: lib_ln(torch, c))
GROUPS = {"mlp_small": "nn mlp 64-128-64-10 b128 adam float32",
          "mlp_large": "nn mlp 784-1024-1024-10 b256 sgd float32",
          "batchnorm": "nn batchnorm2d fwd+bwd (64,16,28,28) float32",
          "ln_fwd": "nn layernorm(512) fwd (64,128,512) float32",
          "ln_fwdbwd": "nn layernorm(512) fwd+bwd (64,128,512) float32",
          "ln_1024": "nn layernorm(1024) fwd+bwd (32,1024) float32"}


# ------------------------------------------------------------------------------ pytest-benchmark
@pytest.mark.parametrize("case", list(CASES))
def test_bench_ours(benchmark, case):
    benchmark.group = GROUPS[case]
    benchmark(CASES[case][0]())


@pytest.mark.parametrize("case", list(CASES))
def test_bench_numpy(benchmark, case):
    benchmark.group = GROUPS[case]
    benchmark(CASES[case][1]())


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("case", list(CASES))
def test_bench_torch(benchmark, case):
    benchmark.group = GROUPS[case]
    benchmark(CASES[case][2]())


# ------------------------------------------------------------------------------ report
def _best_times(steps, repeat=5, number=5):
    """Best seconds per step of each contender (name -> step), each timed in its own settled blocks
    (benchmarks/timing.py), rotating through the contenders; the first call warms up (optimizer
    state)."""
    return time_settled(steps, budget=0.004 * repeat * number, rounds=3, batch=0.005)


def nn_report(repeat=5, number=5):
    """Print ours vs NumPy (and torch) per case, best of `repeat` runs of `number` steps; returns rows."""
    threads = ag.get_num_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    print(f"nn training steps, float32 | simd={_core.simd_target()} threads={threads}")
    header = f"{'case':<12}{'ours ms':>10}{'numpy ms':>10}{'torch ms':>10}{'numpy/ours':>12}{'torch/ours':>12}"
    print(header)
    print("-" * len(header))
    rows = []
    for case, (make_ours, make_np, make_torch) in CASES.items():
        steps = {"ours": make_ours(), "numpy": make_np()}
        if torch is not None:
            steps["torch"] = make_torch()
        best = _best_times(steps, repeat, number)
        t_ours, t_np, t_torch = best["ours"], best["numpy"], best.get("torch", float("nan"))
        rows.append((case, t_ours, t_np, t_torch))
        torch_ms = f"{t_torch * 1e3:>10.3f}" if torch is not None else f"{'-':>10}"
        torch_ratio = f"{t_torch / t_ours:>11.2f}x" if torch is not None else f"{'-':>12}"
        print(f"{case:<12}{t_ours * 1e3:>10.3f}{t_np * 1e3:>10.3f}{torch_ms}{t_np / t_ours:>11.2f}x{torch_ratio}")
    print("ratios > 1: ours faster. Target: torch/ours >= 1.")
    return rows


if __name__ == "__main__":
    nn_report()
