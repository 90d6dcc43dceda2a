"""Optimizer step benchmarks: one step over 10^6 float32 parameters (one 1000 x 1000 tensor).

Each case times ours (ag.optim, one fused C kernel), a NumPy implementation of the same update
(in-place NumPy ops) and, when importable, torch.optim with its defaults. Targets (issue 5): Adam
at least 3x faster than NumPy and no slower than torch; SGD with momentum likewise.

    pytest benchmarks/bench_optim.py --benchmark-only     # pytest-benchmark groups
    python benchmarks/bench_optim.py                      # optim_report(): the ratio table
"""
import os
import sys

import numpy as np
import pytest

if __name__ == "__main__":  # run as a script from a source checkout: import the package beside it
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import autograd_core as ag
from autograd_core import _core

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import time_settled  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

N = 1000  # parameters: N x N = 10^6
LR = 1e-3


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, N)).astype(np.float32), rng.standard_normal((N, N)).astype(np.float32)


# ------------------------------------------------------------------------------ the three contenders
def ours(kind):
    w, g = _problem()
    p = ag.tensor(w, requires_grad=True)
    p.grad = ag.tensor(g)
    opt = ag.optim.Adam([p], lr=LR) if kind == "adam" else ag.optim.SGD([p], lr=LR, momentum=0.9)
    opt.step()  # state allocated outside the timed region, as for the others
    return opt.step


def numpy_impl(kind):
    """The same update in NumPy, in place with one scratch array (out= everywhere)."""
    w, g = _problem()
    tmp = np.empty_like(w)
    if kind == "sgd":
        buf = g.copy()

        def sgd_step():
            np.multiply(buf, 0.9, out=buf)
            np.add(buf, g, out=buf)
            np.multiply(buf, LR, out=tmp)
            np.subtract(w, tmp, out=w)

        return sgd_step
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    state = {"t": 0}
    b1, b2, eps = 0.9, 0.999, 1e-8

    def adam_step():
        state["t"] += 1
        t = state["t"]
        np.multiply(m, b1, out=m)
        np.multiply(g, 1 - b1, out=tmp)
        np.add(m, tmp, out=m)
        np.multiply(v, b2, out=v)
        np.multiply(g, g, out=tmp)
        np.multiply(tmp, 1 - b2, out=tmp)
        np.add(v, tmp, out=v)
        np.sqrt(v, out=tmp)
        np.divide(tmp, np.sqrt(1 - b2**t), out=tmp)
        np.add(tmp, eps, out=tmp)
        np.divide(m, tmp, out=tmp)
        np.multiply(tmp, LR / (1 - b1**t), out=tmp)
        np.subtract(w, tmp, out=w)

    return adam_step


def torch_impl(kind):
    w, g = _problem()
    p = torch.tensor(w, requires_grad=True)
    p.grad = torch.tensor(g)
    opt = torch.optim.Adam([p], lr=LR) if kind == "adam" else torch.optim.SGD([p], lr=LR, momentum=0.9)
    opt.step()
    return opt.step


# ------------------------------------------------------------------------------ pytest-benchmark
KINDS = ["adam", "sgd"]


@pytest.mark.parametrize("kind", KINDS)
def test_bench_ours(benchmark, kind):
    benchmark.group = f"optim {kind} float32 1M"
    benchmark(ours(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_bench_numpy(benchmark, kind):
    benchmark.group = f"optim {kind} float32 1M"
    benchmark(numpy_impl(kind))


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("kind", KINDS)
def test_bench_torch(benchmark, kind):
    benchmark.group = f"optim {kind} float32 1M"
    benchmark(torch_impl(kind))


# ------------------------------------------------------------------------------ report
def _best_times(steps, repeat=7, number=5):
    """Best seconds per step of each contender (name -> step), each timed in its own settled blocks
    (benchmarks/timing.py), rotating through the contenders."""
    return time_settled(steps, budget=0.002 * repeat * number, rounds=3, batch=0.005)


def optim_report(repeat=7, number=5):
    """Print ours vs NumPy (and torch) for one step over 10^6 float32 parameters, on one thread and
    on the default thread count (NumPy's update is single-threaded either way); returns the rows."""
    default_threads = ag.get_num_threads()
    torch_threads = torch.get_num_threads() if torch is not None else None
    print(f"optimizer step, 10^6 float32 parameters | simd={_core.simd_target()}")
    header = (f"{'case':<16}{'threads':>8}{'ours ms':>10}{'numpy ms':>10}{'torch ms':>10}"
              f"{'numpy/ours':>12}{'torch/ours':>12}")
    print(header)
    print("-" * len(header))
    rows = []
    try:
        for threads in sorted({1, default_threads}):
            ag.set_num_threads(threads)
            if torch is not None:
                torch.set_num_threads(threads)
            for kind, label in (("adam", "Adam"), ("sgd", "SGD momentum")):
                steps = {"ours": ours(kind), "numpy": numpy_impl(kind)}
                if torch is not None:
                    steps["torch"] = torch_impl(kind)
                best = _best_times(steps, repeat, number)
                t_ours, t_np, t_torch = best["ours"], best["numpy"], best.get("torch", float("nan"))
                rows.append((label, threads, t_ours, t_np, t_torch))
                torch_ms = f"{t_torch * 1e3:>10.3f}" if torch is not None else f"{'-':>10}"
                torch_ratio = f"{t_torch / t_ours:>11.2f}x" if torch is not None else f"{'-':>12}"
                print(f"{label:<16}{threads:>8}{t_ours * 1e3:>10.3f}{t_np * 1e3:>10.3f}{torch_ms}"
                      f"{t_np / t_ours:>11.2f}x{torch_ratio}")
    finally:
        ag.set_num_threads(default_threads)
        if torch is not None:
            torch.set_num_threads(torch_threads)
    print("ratios > 1: ours faster. Targets: numpy/ours >= 3, torch/ours >= 1. Best of "
          f"{repeat} runs of {number} steps; on a busy machine the multi-thread rows are noisy.")
    return rows


if __name__ == "__main__":
    optim_report()
