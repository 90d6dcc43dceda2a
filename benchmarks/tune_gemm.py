"""Choose the GEMM context of the active SIMD tier by measurement: micro-kernel tile and block sizes.

Every candidate (kernel, KC, MC) runs the same products on one thread, interleaved round by round, and
keeps its best time (min of N): on a shared machine the minimum is the run nobody interrupted, and
interleaving spreads any slow period over all candidates alike. Prints GFLOPS per candidate and case and
the geometric mean, best first. The choice in csrc/gemm_kernels_<tier>.c is argued from this script.

    python benchmarks/tune_gemm.py [float32|float64] [rounds]
"""
import itertools
import math
import os
import sys
import time

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import autograd_core as ag  # noqa: E402
from autograd_core import _core  # noqa: E402

KERNELS = {"avx512": {"float32": ["avx512 8x32", "avx512 6x32", "avx512 12x32", "avx512 14x32", "avx512 6x64"],
                      "float64": ["avx512 8x16", "avx512 6x32", "avx512 12x16", "avx512 14x16"]}}
KC = [128, 192, 256, 384]
MC = [0]  # 0: from the L2 size
# (m, k, n, transpose a, transpose b): square sizes and the MLP forward / backward forms
CASES = [(256, 256, 256, False, False), (512, 512, 512, False, False), (1024, 1024, 1024, False, False),
         (128, 784, 256, False, False), (128, 256, 784, False, True), (784, 128, 256, True, False)]


def _best_time(fn, budget):
    best, t_end = float("inf"), time.perf_counter() + budget
    while True:
        t0 = time.perf_counter()
        fn()
        t = time.perf_counter() - t0
        best = min(best, t)
        if time.perf_counter() > t_end:
            return best


def tune(dtype="float32", rounds=3, budget=0.05, file=sys.stdout):
    code = 0 if dtype == "float32" else 1
    tier = _core.simd_target()
    kernels = KERNELS.get(tier, {}).get(dtype, [_core.gemm_info(code)["kernel"]])
    cands = list(itertools.product(kernels, KC, MC))
    rng = np.random.default_rng(0)
    ops = []
    for m, k, n, ta, tb in CASES:
        a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
        b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
        a, b = (a.T if ta else a), (b.T if tb else b)
        ops.append((f"{m}x{k}x{n}{' A^T' if ta else ''}{' B^T' if tb else ''}", 2.0 * m * n * k,
                    ag.from_numpy(a), ag.from_numpy(b)))
    best = {(c, o[0]): float("inf") for c in cands for o in ops}
    old = ag.get_num_threads()
    ag.set_num_threads(1)
    try:
        for _ in range(rounds):
            for c in cands:
                _core.gemm_set_context(code, c[0], c[2], c[1], 0)
                for name, _, ta, tb in ops:
                    best[(c, name)] = min(best[(c, name)], _best_time(lambda: ag.matmul(ta, tb), budget))
    finally:
        _core.gemm_set_context(code)
        ag.set_num_threads(old)
    print(f"tier {tier}, {dtype}, 1 thread, best of {rounds} interleaved rounds; GFLOPS", file=file)
    rows = []
    for c in cands:
        g = [f / best[(c, name)] / 1e9 for name, f, _, _ in ops]
        rows.append((math.exp(sum(map(math.log, g)) / len(g)), c, g))
    rows.sort(reverse=True)
    print(f"{'kernel':14s} {'KC':>4s} {'MC':>4s} {'geomean':>8s} " + " ".join(f"{o[0]:>18s}" for o in ops), file=file)
    for gm, (kern, kc, mc), g in rows:
        print(f"{kern:14s} {kc:4d} {mc:4d} {gm:8.1f} " + " ".join(f"{v:18.1f}" for v in g), file=file)
    return rows


if __name__ == "__main__":
    tune(sys.argv[1] if len(sys.argv) > 1 else "float32", int(sys.argv[2]) if len(sys.argv) > 2 else 3)
