"""Reduction benchmarks (csrc/reduce.c through the public API): sums over the last axis and over
axis 0, max, var, logsumexp, softmax and log_softmax of a (4096, 1024) float32 matrix, a whole
1e7-element sum ("sum all float32 1e7"), and sum, var and logsumexp over the last axis in float64.

Each case times ours (autograd_core, no grad), NumPy and, when importable, PyTorch on the same input,
under one pytest-benchmark group named for the op, axis, dtype and size ("sum axis=-1 float32
4096x1024"). NumPy has no softmax: its case is the usual max-shifted exp / sum expression. Targets
(issue 2, float32, 2 threads): sum over the last axis and over axis 0, softmax and log_softmax at
least as fast as PyTorch.

    pytest benchmarks/bench_reduce.py --benchmark-only      # pytest-benchmark groups
    python benchmarks/bench_reduce.py                       # reduce_report(): the ratio table

Measured on the 2-core dev box (2 threads, best of 240 calls, each library in its own process: torch's
OpenMP pool spinning in the same process slows ours and vice versa; the box was shared, load 5-9):
sum axis=-1 0.19 ms (torch 0.16-0.23, NumPy 0.88), sum axis=0 0.22 ms (torch 0.65-0.80, NumPy 0.68),
softmax 1.5 ms (torch 2.6, NumPy ~40), log_softmax 1.7 ms (torch 3.0, NumPy ~34).
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
from timing import time_settled, wins  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

SHAPE = (4096, 1024)


def _matrix(seed=0):
    return np.random.default_rng(seed).standard_normal(SHAPE).astype(np.float32)


def _np_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=-1, keepdims=True)


def _np_log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    s = x - m
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def _np_logsumexp(x):
    m = x.max(axis=-1, keepdims=True)
    return (np.log(np.exp(x - m).sum(axis=-1, keepdims=True)) + m)[:, 0]


# name -> (ours(t), numpy(a), torch(tt)); each takes the input in its own library's type
CASES = {
    "sum axis=-1": (lambda t: t.sum(-1), lambda a: a.sum(axis=-1), lambda tt: tt.sum(-1)),
    "sum axis=0": (lambda t: t.sum(0), lambda a: a.sum(axis=0), lambda tt: tt.sum(0)),
    "mean axis=-1": (lambda t: t.mean(-1), lambda a: a.mean(axis=-1), lambda tt: tt.mean(-1)),
    "max axis=-1": (lambda t: t.amax(-1), lambda a: a.max(axis=-1), lambda tt: tt.amax(-1)),
    "var axis=0": (lambda t: t.var(0), lambda a: a.var(axis=0, ddof=1), lambda tt: tt.var(0)),
    "logsumexp axis=-1": (lambda t: t.logsumexp(-1), _np_logsumexp, lambda tt: tt.logsumexp(-1)),
    "softmax axis=-1": (lambda t: ag.softmax(t, -1), _np_softmax, lambda tt: torch.softmax(tt, -1)),
    "log_softmax axis=-1": (lambda t: ag.log_softmax(t, -1), _np_log_softmax,
                            lambda tt: torch.log_softmax(tt, -1)),
    "sum all": (lambda t: t.sum(), lambda a: a.sum(), lambda tt: tt.sum()),
}
# float64 (the vector tiers' float64 row sums; logsumexp's exp is still the portable loop's)
for _name in ("sum axis=-1", "var axis=-1", "logsumexp axis=-1"):
    CASES[_name + " f64"] = CASES.get(_name) or (lambda t: t.var(-1), lambda a: a.var(axis=-1, ddof=1),
                                                 lambda tt: tt.var(-1))
TARGET_CASES = ["sum axis=-1", "sum axis=0", "softmax axis=-1", "log_softmax axis=-1"]


def _input(name):
    if name == "sum all":
        return np.random.default_rng(1).standard_normal(10_000_000).astype(np.float32), "float32 1e7"
    if name.endswith(" f64"):
        return _matrix().astype(np.float64), "float64 4096x1024"
    return _matrix(), "float32 4096x1024"


def _group(name):
    if name == "sum all":
        return "sum all float32 1e7"
    dt = "float64" if name.endswith(" f64") else "float32"
    return f"{name.removesuffix(' f64')} {dt} 4096x1024"


def _callables(name):
    a, _ = _input(name)
    ours_fn, np_fn, torch_fn = CASES[name]
    t = ag.from_numpy(a)
    calls = {"ours": lambda: ours_fn(t), "numpy": lambda: np_fn(a)}
    if torch is not None:
        tt = torch.from_numpy(a)
        calls["torch"] = lambda: torch_fn(tt)
    return calls


# ------------------------------------------------------------------------------ pytest-benchmark
@pytest.fixture(autouse=True)
def _no_grad_and_threads():
    if torch is not None:
        torch.set_num_threads(ag.get_num_threads())
    with ag.no_grad():
        yield


@pytest.mark.parametrize("name", list(CASES))
def test_bench_ours(benchmark, name):
    benchmark.group = _group(name)
    benchmark(_callables(name)["ours"])


@pytest.mark.parametrize("name", list(CASES))
def test_bench_numpy(benchmark, name):
    benchmark.group = _group(name)
    benchmark(_callables(name)["numpy"])


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("name", list(CASES))
def test_bench_torch(benchmark, name):
    benchmark.group = _group(name)
    benchmark(_callables(name)["torch"])


# ------------------------------------------------------------------------------ report
def _best_times(calls, repeat=15, number=3, per_round=None):
    """Best per-call time of each contender (name -> callable), each timed in its own settled blocks
    (benchmarks/timing.py), rotating through the contenders for repeat // 2 rounds: the reductions
    over (4096, 1024) read 16 MiB from the last-level cache at its bandwidth, which varies by 10-20%
    from second to second on a shared machine, so many short rounds let every contender meet the
    quiet moments (see bench_elementwise._best_times)."""
    return time_settled(calls, budget=0.01 * repeat * number, rounds=max(2, repeat // 2), settle=0.1,
                        per_round=per_round)


def reduce_report(repeat=15, number=3):
    """Print ours vs NumPy (and PyTorch) for each case; returns {name: {contender: seconds}}."""
    threads = ag.get_num_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    print(f"reductions | simd={_core.simd_target()} threads={threads}")
    header = (f"{'case':<24}{'ours ms':>10}{'numpy ms':>10}{'torch ms':>10}{'numpy/ours':>12}{'torch/ours':>12}"
              f"{'rounds won':>12}")
    print(header)
    print("-" * len(header))
    rows = {}
    with ag.no_grad():
        for name in CASES:
            per_round = {}
            b = _best_times(_callables(name), repeat, number, per_round)
            rows[name] = b
            t_torch = b.get("torch")
            torch_ms = f"{t_torch * 1e3:>10.3f}" if t_torch else f"{'-':>10}"
            torch_ratio = f"{t_torch / b['ours']:>11.2f}x" if t_torch else f"{'-':>12}"
            won = "%8d/%-3d" % wins(per_round, "ours", "torch") if t_torch else ""
            mark = " *" if name in TARGET_CASES else ""
            print(f"{name:<24}{b['ours'] * 1e3:>10.3f}{b['numpy'] * 1e3:>10.3f}{torch_ms}"
                  f"{b['numpy'] / b['ours']:>11.2f}x{torch_ratio}{won}{mark}")
    print("ratios > 1: ours faster. * issue 2 targets: torch/ours >= 1. rounds won: in how many rounds ours'\n"
          "best batch beat PyTorch's best batch of the same round.")
    return rows


if __name__ == "__main__":
    reduce_report()
