"""GEMM benchmarks: ag.matmul against NumPy's matmul (OpenBLAS) and, when importable, torch.matmul.

Cases: square float32 and float64 products of N = 64 ... 2048, and the MLP-shaped products of a
784 -> 256 layer on a batch of 128, forward and the transposed forms its backward pass uses
(operands are transposed views, as the autograd layer passes them). Targets (issue 14), 2 threads:
N >= 256 and the MLP shapes at least 0.95x NumPy's GFLOPS, N = 64 and 128 at least 1.0x per call,
and 85% of the active tier's FMA peak from 512^3 up. The report names the tier, its GEMM context
(micro-kernel, tile, block sizes) and that tier's measured FMA peak.

    pytest benchmarks/bench_gemm.py --benchmark-only    # pytest-benchmark groups, one per case
    python benchmarks/bench_gemm.py [threads]           # gemm_report(): GFLOPS, ratio, peak fraction

OpenBLAS picks its kernel from the CPU unless OPENBLAS_CORETYPE says otherwise; for a fair run
unset it (and OPENBLAS_L2_SIZE) in the benchmark command only:
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_gemm.py
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

THREADS = 2
SQUARE = [64, 128, 256, 512, 1024, 2048]
# (name, shape of a as stored, transpose a?, shape of b as stored, transpose b?)
MLP = [
    ("x @ W        128x784 @ 784x256", (128, 784), False, (784, 256), False),
    ("x @ W^T      128x784 @ (256x784)^T", (128, 784), False, (256, 784), True),
    ("g @ W^T      128x256 @ (784x256)^T", (128, 256), False, (784, 256), True),
    ("g @ W        128x256 @ 256x784", (128, 256), False, (256, 784), False),
    ("x^T @ g      (128x784)^T @ 128x256", (128, 784), True, (128, 256), False),
    ("g^T @ x      (128x256)^T @ 128x784", (128, 256), True, (128, 784), False),
]
TARGET = {64: 1.0, 128: 1.0}  # others 0.95


def _operands(dtype, sa, ta, sb, tb, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(sa).astype(dtype)
    b = rng.standard_normal(sb).astype(dtype)
    return (a.T if ta else a), (b.T if tb else b)


def _contenders(a, b):
    """name -> zero-argument callable computing a @ b, on views of the same numpy arrays"""
    ta, tb = ag.from_numpy(a), ag.from_numpy(b)
    fns = {"ours": lambda: ag.matmul(ta, tb), "numpy": lambda: np.matmul(a, b)}
    if torch is not None:
        xa, xb = torch.from_numpy(a), torch.from_numpy(b)
        fns["torch"] = lambda: torch.matmul(xa, xb)
    return fns


def _cases():
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        for n in SQUARE:
            yield f"gemm {name} {n}", dtype, (n, n), False, (n, n), False, TARGET.get(n, 0.95)
        for label, sa, ta, sb, tb in MLP:
            yield f"gemm {name} mlp {' '.join(label.split())}", dtype, sa, ta, sb, tb, 0.95


CASES = list(_cases())


# ------------------------------------------------------------------------------ pytest-benchmark
@pytest.fixture(scope="module", autouse=True)
def _threads():
    old = _core.get_num_threads()
    _core.set_num_threads(THREADS)
    if torch is not None:
        torch.set_num_threads(THREADS)
    yield
    _core.set_num_threads(old)


@pytest.mark.parametrize("impl", ["ours", "numpy", "torch"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gemm(benchmark, case, impl):
    group, dtype, sa, ta, sb, tb, _ = case
    if impl == "torch" and torch is None:
        pytest.skip("torch not installed")
    a, b = _operands(dtype, sa, ta, sb, tb)
    fn = _contenders(a, b)[impl]
    benchmark.group = group
    benchmark.extra_info["gflops_per_call"] = 2.0 * a.shape[0] * a.shape[1] * b.shape[1] / 1e9
    benchmark(fn)


# ------------------------------------------------------------------------------ the report
def _blas_info():
    try:
        from threadpoolctl import threadpool_info

        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        return ", ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} "
                         f"{i.get('num_threads')} threads" for i in infos) or "unknown"
    except ImportError:
        return "unknown (threadpoolctl not installed)"


def _peak(dtype_code, threads):
    """Peak FMA GFLOPS on `threads` threads: measured on all of them at once, or threads x the
    one-thread peak if that is higher (on a busy machine the threads rarely all run together)."""
    return max(_core.gemm_peak_gflops(dtype_code, threads), threads * _core.gemm_peak_gflops(dtype_code, 1))


def gemm_report(file=None, threads=THREADS, quick=False):
    """Print GFLOPS of ours, NumPy (and torch), the ratio ours/NumPy and the fraction of peak FMA
    throughput, for every target case, all on `threads` threads (quick: N <= 512 and two MLP
    forms, shorter timing). Returns the rows as dicts."""
    out = file or sys.stdout
    old = _core.get_num_threads()
    _core.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    limiter = None
    try:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(limits=threads, user_api="blas")
    except ImportError:
        pass
    try:
        peak = {np.float32: _peak(0, threads), np.float64: _peak(1, threads)}
        print(f"GEMM report: simd={_core.simd_target()} threads={threads}; numpy BLAS: {_blas_info()}", file=out)
        for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if var in os.environ:
                print(f"  note: {var}={os.environ[var]} is set; OpenBLAS may not run its best kernel", file=out)
        for code, name in ((0, "float32"), (1, "float64")):
            info = _core.gemm_info(code)
            print(f"  {name} GEMM context: kernel {info['kernel']}, MR x NR {info['mr']} x {info['nr']}, "
                  f"MC {info['mc']} KC {info['kc']} NC {info['nc']}", file=out)
        print(f"peak FMA throughput of the {_core.simd_target()} tier ({threads} threads): float32 "
              f"{peak[np.float32]:.1f} GFLOPS, float64 {peak[np.float64]:.1f} GFLOPS", file=out)
        head = f"{'case':56s} {'ours':>7s} {'numpy':>7s} " + (f"{'torch':>7s} " if torch else "")
        head += f"{'ratio':>6s} {'target':>6s} {'peak%':>6s} {'us/call':>9s}"
        print(head, file=out)
        rows = []
        cases = CASES
        if quick:
            quick_mlp = ("x @ W 128x784 @ 784x256", "x^T @ g (128x784)^T @ 128x256")
            cases = [c for c in CASES if (" mlp " not in c[0] and max(c[2]) <= 512) or c[0].endswith(quick_mlp)]
        for group, dtype, sa, ta, sb, tb, target in cases:
            a, b = _operands(dtype, sa, ta, sb, tb)
            flops = 2.0 * a.shape[0] * a.shape[1] * b.shape[1]
            t = time_settled(_contenders(a, b), budget=0.1 if quick else 0.4, rounds=2 if quick else 3)
            g = {k: flops / v / 1e9 for k, v in t.items()}
            ratio = g["ours"] / g["numpy"]
            frac = g["ours"] / peak[dtype] if peak[dtype] else float("nan")
            line = f"{group:56s} {g['ours']:7.1f} {g['numpy']:7.1f} " + (f"{g['torch']:7.1f} " if torch else "")
            line += f"{ratio:6.2f} {target:6.1f} {100 * frac:5.1f}% {1e6 * t['ours']:9.1f}"
            line += "" if ratio >= target else "  below target"
            print(line, file=out, flush=True)
            rows.append(dict(case=group, ours=g["ours"], numpy=g["numpy"], torch=g.get("torch"), ratio=ratio,
                             target=target, peak_fraction=frac))
        return rows
    finally:
        _core.set_num_threads(old)
        if limiter is not None:
            limiter.restore_original_limits()


if __name__ == "__main__":
    gemm_report(threads=int(sys.argv[1]) if len(sys.argv) > 1 else THREADS)
