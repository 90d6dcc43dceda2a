"""Elementwise benchmarks (csrc/elementwise*.c through the public API): add, mul, broadcast add
(rows + a row vector), exp, tanh, sigmoid, gelu and relu on float32 tensors of 1M and 16M elements.

Each case times ours (autograd_core), NumPy and, when importable, PyTorch on the same input under
one pytest-benchmark group named for the op, dtype and size ("exp float32 16M"). NumPy has no
sigmoid, relu or erf: its cases are the usual 1 / (1 + exp(-x)), maximum(x, 0) and, for gelu,
0.5 x (1 + erf(x / sqrt 2)) with SciPy's erf (no NumPy column when SciPy is missing). Every contender
allocates its output, as user code does. Targets (issue 2, float32, 2 threads): add, mul and
broadcast add at least as fast as NumPy and PyTorch; exp, tanh, sigmoid and relu at least as fast
as PyTorch; (issue 14, on an AVX-512 machine) exp, tanh, sigmoid and gelu at least as fast as the
faster of NumPy and PyTorch.

    pytest benchmarks/bench_elementwise.py --benchmark-only     # pytest-benchmark groups
    python benchmarks/bench_elementwise.py [op ...]             # elementwise_report(): ratio table
    AGC_SIMD=avx2 python benchmarks/bench_elementwise.py        # the same for one SIMD tier
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
from timing import time_settled, wins  # noqa: E402

try:
    import torch
except ImportError:
    torch = None
try:
    from scipy.special import erf as _erf
except ImportError:
    _erf = None

SIZES = {"1M": 1 << 20, "16M": 1 << 24}
ROW = 1024  # broadcast add: (n / 1024, 1024) + (1024,): 1024 x 1024 at 1M, 16384 x 1024 at 16M
UNARY = ["exp", "tanh", "sigmoid", "gelu", "relu"]
BINARY = ["add", "mul", "broadcast_add"]
OPS = BINARY + UNARY


def _inputs(op, n, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n).astype(np.float32)
    if op == "broadcast_add":
        return a.reshape(n // ROW, ROW), rng.standard_normal(ROW).astype(np.float32)
    if op in BINARY:
        return a, rng.standard_normal(n).astype(np.float32)
    return (a,)


# ------------------------------------------------------------------------------ the three contenders
def ours(op, arrays):
    ts = [ag.from_numpy(a) for a in arrays]
    if op in ("add", "broadcast_add"):
        a, b = ts
        return lambda: a + b
    if op == "mul":
        a, b = ts
        return lambda: a * b
    f = getattr(ag, op)
    (x,) = ts
    return lambda: f(x)


NUMPY = {
    "add": np.add, "broadcast_add": np.add, "mul": np.multiply, "exp": np.exp, "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "relu": lambda x: np.maximum(x, 0),
    "gelu": (lambda x: np.float32(0.5) * x * (1 + _erf(x * np.float32(0.7071067811865476)))) if _erf else None,
}


def numpy_impl(op, arrays):
    f = NUMPY[op]
    if f is None:
        return None
    return lambda: f(*arrays)


def torch_impl(op, arrays):
    ts = [torch.from_numpy(a) for a in arrays]
    f = ({"add": torch.add, "broadcast_add": torch.add, "mul": torch.mul, "gelu": torch.nn.functional.gelu}.get(op)
         or getattr(torch, op))
    return lambda: f(*ts)


def _group(op, size):
    return f"{op.replace('_', ' ')} float32 {size}"


def _check_same(op, arrays):
    got = np.asarray(ours(op, arrays)())
    if numpy_impl(op, arrays) is None:
        return
    want = numpy_impl(op, arrays)()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------ pytest-benchmark
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("op", OPS)
def test_bench_ours(benchmark, op, size):
    arrays = _inputs(op, SIZES[size])
    _check_same(op, arrays)
    benchmark.group = _group(op, size)
    benchmark(ours(op, arrays))


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("op", OPS)
def test_bench_numpy(benchmark, op, size):
    if NUMPY[op] is None:
        pytest.skip("NumPy has no erf and SciPy is not installed")
    benchmark.group = _group(op, size)
    benchmark(numpy_impl(op, _inputs(op, SIZES[size])))


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("op", OPS)
def test_bench_torch(benchmark, op, size):
    benchmark.group = _group(op, size)
    benchmark(torch_impl(op, _inputs(op, SIZES[size])))


# ------------------------------------------------------------------------------ report
def _best_times(fns, repeat=9, per_round=None):
    """Best seconds per call of each function (a list), each timed in its own settled blocks
    (benchmarks/timing.py), rotating through the contenders for about `repeat` rounds.

    These cases run from the last-level cache or memory at the hardware's bandwidth, for every
    contender alike, and that bandwidth varies by 10-20% from second to second on a shared machine:
    many short rounds let each contender meet the quiet moments. None of them uses OpenBLAS, whose
    threads need the longer settle; 0.1 s covers the OpenMP spin of ours and PyTorch's."""
    best = time_settled(dict(enumerate(fns)), budget=0.04 * repeat, rounds=max(2, repeat - 1), settle=0.1,
                        per_round=per_round)
    return [best[k] for k in range(len(fns))]


def elementwise_report(repeat=9, threads=None, ops=None):
    """Print ours vs NumPy and PyTorch (ratios > 1: ours faster) for every case (or the ops named);
    returns the rows."""
    old = ag.get_num_threads()
    old_torch = torch.get_num_threads() if torch is not None else None
    threads = threads or old
    ag.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    print(f"elementwise float32 | simd={_core.simd_target()} threads={threads}")
    header = (f"{'case':<26}{'ours ms':>10}{'numpy ms':>10}{'torch ms':>10}{'numpy/ours':>12}"
              f"{'torch/ours':>12}{'rounds won':>12}")
    print(header)
    print("-" * len(header))
    rows = []
    try:
        for size in SIZES:
            for op in ops or OPS:
                arrays = _inputs(op, SIZES[size])
                np_fn = numpy_impl(op, arrays) or (lambda: None)  # no NumPy contender: timed, shown as '-'
                fns = [ours(op, arrays), np_fn] + ([torch_impl(op, arrays)] if torch else [])
                per_round = {}
                t_ours, t_np, *t_rest = _best_times(fns, repeat, per_round)
                t_torch = t_rest[0] if t_rest else float("nan")
                if NUMPY[op] is None:
                    t_np = float("nan")
                rows.append((_group(op, size), t_ours, t_np, t_torch))
                if torch is not None:
                    won, n = wins(per_round, 0, 2)
                    torch_cols = (f"{t_torch * 1e3:>10.3f}", f"{t_torch / t_ours:>11.2f}x", f"{won:>8}/{n:<3}")
                else:
                    torch_cols = (f"{'-':>10}", f"{'-':>12}", "")
                print(f"{_group(op, size):<26}{t_ours * 1e3:>10.3f}{t_np * 1e3:>10.3f}{torch_cols[0]}"
                      f"{t_np / t_ours:>11.2f}x{torch_cols[1]}{torch_cols[2]}")
    finally:
        ag.set_num_threads(old)
        if torch is not None:
            torch.set_num_threads(old_torch)
    print("Best batch of each contender, timed in settled blocks in turns; on a busy machine the numbers are noisy.")
    if torch is not None:
        print("rounds won: in how many rounds ours' best batch beat PyTorch's best batch of the same round.")
    return rows


if __name__ == "__main__":
    elementwise_report(ops=sys.argv[1:] or None)
