"""A short benchmark that ships with the package: `autograd-core bench` from an installed wheel.

The full report (benchmarks/report.py, every family, pytest-benchmark groups) lives in the source
repository; this one needs nothing but NumPy (and times PyTorch too when it is installed). Each case
runs the same computation in every library on the same data, best of several short batches, and
prints time(ours) / time(other): below 1.00 means ours is faster.
"""

import argparse
import os
import sys
import time

import numpy as np

import autograd_core as ag


def _best_seconds(fn, budget):
    """Best seconds per call over batches of about 5 ms until `budget` seconds are spent."""
    fn()
    started = time.perf_counter()
    fn()
    once = max(time.perf_counter() - started, 1e-7)
    calls = max(1, int(0.005 / once))
    best, spent = float("inf"), 0.0
    while spent < budget or best == float("inf"):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - started
        spent += elapsed
        best = min(best, elapsed / calls)
    return best


def _cases(ag, torch, quick):
    """(name, {library: zero-argument callable}) for each case."""
    rng = np.random.default_rng(0)
    n = 1 << (18 if quick else 22)
    x = rng.standard_normal(n).astype(np.float32)
    a = rng.standard_normal((256, 256)).astype(np.float32)
    images = rng.standard_normal((32, 3, 32, 32)).astype(np.float32)
    kernels = rng.standard_normal((16, 3, 3, 3)).astype(np.float32)
    xt, at = ag.from_numpy(x), ag.from_numpy(a)
    it, kt = ag.from_numpy(images), ag.from_numpy(kernels)
    cases = [
        (f"exp float32 {n >> 10}K", {"autograd_core": lambda: ag.exp(xt), "numpy": lambda: np.exp(x)}),
        (f"sum float32 {n >> 10}K", {"autograd_core": lambda: xt.sum(), "numpy": lambda: x.sum()}),
        ("matmul float32 256^3", {"autograd_core": lambda: at @ at, "numpy": lambda: a @ a}),
        ("conv2d 32x3x32x32 * 16x3x3x3", {"autograd_core": lambda: ag.nn.functional.conv2d(it, kt, padding=1)}),
    ]
    if torch is not None:
        tx, ta = torch.from_numpy(x), torch.from_numpy(a)
        ti, tk = torch.from_numpy(images), torch.from_numpy(kernels)
        cases[0][1]["torch"] = lambda: torch.exp(tx)
        cases[1][1]["torch"] = lambda: tx.sum()
        cases[2][1]["torch"] = lambda: ta @ ta
        cases[3][1]["torch"] = lambda: torch.nn.functional.conv2d(ti, tk, padding=1)
    return cases


def run(argv=(), out=sys.stdout):
    """Time the cases and print one line per case; returns {case: {library: seconds}}."""
    parser = argparse.ArgumentParser(prog="autograd-core bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short timings")
    parser.add_argument("--threads", type=int, help="threads for autograd_core's kernels")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even when installed")
    args = parser.parse_args(list(argv))
    torch = None
    if not args.no_torch:
        try:
            import torch  # optional: compared with when installed, heavy to import
        except ImportError:
            torch = None
    previous = ag.get_num_threads()
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be >= 1")
        ag.set_num_threads(args.threads)
    budget = 0.05 if args.quick else 0.3
    try:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"autograd_core {ag.__version__} built-in benchmark: SIMD {ag._core.simd_target()}, "
              f"{ag.get_num_threads()} threads, load average {load:.1f} on {os.cpu_count()} CPUs", file=out)
        print("(the full report is benchmarks/report.py in the source repository)", file=out)
        results = {}
        for name, fns in _cases(ag, torch, args.quick):
            times = {library: _best_seconds(fn, budget) for library, fn in fns.items()}
            results[name] = times
            ours = times["autograd_core"]
            ratios = "  ".join(f"ours/{library} {ours / t:5.2f}" for library, t in times.items()
                               if library != "autograd_core")
            print(f"  {name:<30} {ours * 1e6:10.1f} us  {ratios}", file=out)
    finally:
        ag.set_num_threads(previous)
    return results
