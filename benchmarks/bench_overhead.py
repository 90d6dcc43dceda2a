"""Framework overhead per op: a chain of 1,000 elementwise ops on a 16-element float32 tensor.

The chain alternates y = y * 1.0001 and y = y + 0.001, so the kernels do almost nothing and the time
is the Python, binding and autograd bookkeeping around them. Cases:
  fwd          forward only, no graph: a leaf without requires_grad, under no_grad
  fwd graph    forward recording the graph (requires_grad leaf), no backward: where fwd+bwd goes
  fwd+bwd      requires_grad leaf, the chain, then .sum().backward()
  mixed fwd+bwd  a more representative chain, repeating y * w (a weight that requires grad), tanh,
               y + b (a tensor) and y * 0.5, then .sum().backward()
Contenders: ours (autograd_core), NumPy running the same forward chain (it has no autograd) and,
when importable, PyTorch. Times are per op: the whole case divided by the 1,000 ops of the chain.
Targets (issue 2): forward no more than 1.0x PyTorch's per-op time, forward+backward no more than 0.6x.

    pytest benchmarks/bench_overhead.py --benchmark-only   # groups "overhead fwd 1000 ops", ...
    python benchmarks/bench_overhead.py                    # overhead_report(): the ratio table
"""
import os
import sys
import time

import numpy as np

try:
    import pytest
except ImportError:  # report.py loads this module where pytest may be absent; the tests need it
    pytest = None

if __name__ == "__main__":  # run as a script from a source checkout: import the package beside it
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import autograd_core as ag  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

OPS = 1000
SIZE = 16
TARGETS = {"fwd": 1.0, "fwd+bwd": 0.6, "mixed fwd+bwd": 0.6}  # issue 2: ours/torch per-op time at most this
W, B = 1.01, 0.01  # the mixed chain's weight and bias values


def chain(y, ops=OPS):
    """ops alternating elementwise ops: * 1.0001 then + 0.001. Works on any array/tensor type."""
    for _ in range(ops // 2):
        y = y * 1.0001
        y = y + 0.001
    return y


def expected_value(ops=OPS):
    """What every element of chain(ones) is, in float64."""
    y = 1.0
    for _ in range(ops // 2):
        y = y * 1.0001 + 0.001
    return y


def mixed_chain(y, w, b, ops=OPS):
    """ops ops repeating y * w, tanh, + b, * 0.5."""
    for _ in range(ops // 4):
        y = y * w
        y = y.tanh()
        y = y + b
        y = y * 0.5
    return y


def mixed_expected_grad(ops=OPS):
    """d sum(mixed_chain(ones)) / dx for each element, in float64."""
    y, g = 1.0, 1.0
    for _ in range(ops // 4):
        t = np.tanh(y * W)
        g *= W * (1 - t * t) * 0.5
        y = (t + B) * 0.5
    return g


def _mixed(lib, ops=OPS):
    x = lib.ones(SIZE, requires_grad=True)
    w = lib.full((SIZE,), W, requires_grad=True)
    b = lib.full((SIZE,), B)

    def run():
        x.grad = w.grad = None
        mixed_chain(x, w, b, ops).sum().backward()
        return x.grad
    return run


# ------------------------------------------------------------------------------ the contenders
def _impl(lib, case, ops=OPS):
    """A zero-argument callable running one case with lib (autograd_core or torch, which share the
    API used here); returns its output, or the leaf's gradient for the backward cases."""
    if case == "mixed fwd+bwd":
        return _mixed(lib, ops)
    if case == "fwd":
        x = lib.ones(SIZE)

        def run():
            with lib.no_grad():
                return chain(x, ops)
        return run
    x = lib.ones(SIZE, requires_grad=True)
    if case == "fwd graph":
        return lambda: chain(x, ops)

    def run_backward():
        x.grad = None
        chain(x, ops).sum().backward()
        return x.grad
    return run_backward


def ours(case, ops=OPS):
    """One case with autograd_core."""
    return _impl(ag, case, ops)


def torch_impl(case, ops=OPS):
    """The same case with PyTorch (torch must be importable)."""
    return _impl(torch, case, ops)


def numpy_impl(case, ops=OPS):
    """The forward chain on a NumPy array (no autograd: only the "fwd" case exists)."""
    if case != "fwd":
        raise ValueError(f"overhead: NumPy has no autograd, no case {case!r}")
    x = np.ones(SIZE, dtype=np.float32)
    return lambda: chain(x, ops)


def contenders(case, ops=OPS):
    """name -> callable for every contender available for this case."""
    fns = {"ours": ours(case, ops)}
    if case == "fwd":
        fns["numpy"] = numpy_impl(case, ops)
    if torch is not None:
        fns["torch"] = torch_impl(case, ops)
    return fns


def check(case, ops=OPS):
    """Each contender's answer agrees with the float64 value of the chain (a benchmark of a wrong
    computation is worthless): forward values, or the gradient d sum(y) / dx = 1.0001^(ops/2). The
    mixed chain's gradient vanishes over 1,000 ops, so it is checked on a 16-op chain."""
    if case == "mixed fwd+bwd":
        ops = 16
    want = {"fwd+bwd": 1.0001 ** (ops // 2), "mixed fwd+bwd": mixed_expected_grad(ops)}.get(case, None)
    want = expected_value(ops) if want is None else want
    for name, fn in contenders(case, ops).items():
        got = fn()
        if name == "torch":
            got = got.detach().numpy()
        got = np.asarray(got, dtype=np.float64)
        if got.shape != (SIZE,) or not np.allclose(got, want, rtol=1e-4, atol=0):
            raise AssertionError(f"overhead {case}: {name} gave {got[:3]}..., expected {want}")


CASES = ["fwd", "fwd graph", "fwd+bwd", "mixed fwd+bwd"]


def _group(case):
    return f"overhead {case} {OPS} ops"


# ------------------------------------------------------------------------------ pytest-benchmark
def _bench(benchmark, case, impl):
    fns = contenders(case)
    if impl not in fns:
        pytest.skip("torch not installed" if impl == "torch" else f"no {impl} contender for {case}")
    benchmark.group = _group(case)
    benchmark.extra_info["ops"] = OPS
    benchmark(fns[impl])


def test_overhead_fwd_ours(benchmark):
    check("fwd")
    _bench(benchmark, "fwd", "ours")


def test_overhead_fwd_numpy(benchmark):
    _bench(benchmark, "fwd", "numpy")


def test_overhead_fwd_torch(benchmark):
    _bench(benchmark, "fwd", "torch")


def test_overhead_fwd_graph_ours(benchmark):
    _bench(benchmark, "fwd graph", "ours")


def test_overhead_fwd_graph_torch(benchmark):
    _bench(benchmark, "fwd graph", "torch")


def test_overhead_fwd_bwd_ours(benchmark):
    check("fwd+bwd")
    _bench(benchmark, "fwd+bwd", "ours")


def test_overhead_fwd_bwd_torch(benchmark):
    _bench(benchmark, "fwd+bwd", "torch")


def test_overhead_mixed_fwd_bwd_ours(benchmark):
    check("mixed fwd+bwd")
    _bench(benchmark, "mixed fwd+bwd", "ours")


def test_overhead_mixed_fwd_bwd_torch(benchmark):
    _bench(benchmark, "mixed fwd+bwd", "torch")


# ------------------------------------------------------------------------------ report
def _time_interleaved(fns, repeat):
    """Best and median seconds per call of each callable. One warm-up call each, then `repeat`
    rounds in which the callables take turns, so load from other processes hits all alike."""
    for f in fns.values():
        f()
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    return {k: (min(v), float(np.median(v))) for k, v in times.items()}


def overhead_report(repeat=15, file=None, quick=False):
    """Print per-op times (us) of ours, NumPy and PyTorch and the ratios ours/other for each case;
    returns a list of dicts (case, ours, numpy, torch in seconds per op, target)."""
    out = file or sys.stdout
    if quick:
        repeat = min(repeat, 3)
    threads = ag.get_num_threads()
    print(f"framework overhead per op: chain of {OPS} ops (y * 1.0001, y + 0.001) on float32[{SIZE}] | "
          f"simd={ag.simd_target()} threads={threads}", file=out)
    head = (f"{'case':<12}{'ours us/op':>12}{'numpy us/op':>13}{'torch us/op':>13}{'ours/numpy':>12}"
            f"{'ours/torch':>12}{'target':>10}")
    print(head, file=out)
    print("-" * len(head), file=out)
    rows = []
    for case in CASES:
        check(case)
        t = _time_interleaved(contenders(case), repeat)
        per_op = {k: v[0] / OPS for k, v in t.items()}
        o, n, tt = per_op["ours"], per_op.get("numpy"), per_op.get("torch")
        target = TARGETS.get(case)
        line = f"{case:<14}{o * 1e6:>10.2f}"
        line += f"{n * 1e6:>13.2f}" if n else f"{'-':>13}"
        line += f"{tt * 1e6:>13.2f}" if tt else f"{'-':>13}"
        line += f"{o / n:>11.2f}x" if n else f"{'-':>12}"
        line += f"{o / tt:>11.2f}x" if tt else f"{'-':>12}"
        line += f"{'<= %.1f' % target:>10}" if target else f"{'':>10}"
        if target and tt and o / tt > target:
            line += "  below target"
        print(line, file=out, flush=True)
        rows.append(dict(case=case, ours=o, numpy=n, torch=tt, target=target,
                         ours_median=t["ours"][1] / OPS))
    print(f"ratios are time(ours) / time(other): below 1 means ours is faster. Best of {repeat} interleaved "
          f"runs of the whole chain, divided by {OPS}. Targets: ours/torch.", file=out)
    return rows


if __name__ == "__main__":
    overhead_report()
