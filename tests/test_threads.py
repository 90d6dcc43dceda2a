"""Threaded kernels give bitwise the 1-thread result at 2, 3 and 4 threads, whatever the schedule.

A quiet 2-core machine hides races: threads there progress together. Each check below runs a kernel
family at 1 thread with no perturbation, then at 2, 3 and 4 threads under the schedule-perturbation
switch (`_core.set_schedule_perturbation`): one thread of every parallel region made to sleep at each
perturbation point ('victim', so the others run ahead of it, as when a busy machine deschedules it),
and seeded random sleeps in every thread ('random'). Results must be equal to the last bit.
Shapes cross the GEMM's block boundaries (several NC, KC and MC blocks, edge tiles) and include the
shapes of issue 11 (tiny M with huge N and the reverse), which returned garbage column blocks before
the split-N fix. The last tests run the kernels while busy processes compete for the cores, and
change the thread count from another Python thread while kernels run.
"""
import os
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import _core
from autograd_core.nn import functional as F

from conftest import AVAILABLE, require_target

THREADS = (2, 3, 4)
# (mode, victim or seed): thread 0 held back, the last thread held back, and random sleeps
SCHEDULES = (("victim", 0), ("victim", 3), ("random", 1), ("random", 2))
DELAY_US = 300
SIMD = list(AVAILABLE)


def rng_for(name):
    """A generator seeded from a stable hash of the name (not the per-process salted hash())."""
    return np.random.default_rng(zlib.crc32(name.encode()))


def _as_arrays(result):
    if isinstance(result, (tuple, list)):
        out = []
        for r in result:
            out.extend(_as_arrays(r))
        return out
    if isinstance(result, ag.Tensor):
        return [np.array(result.detach().numpy(), copy=True)]
    return [np.array(result, copy=True)]


class _Settings:
    """Thread count, perturbation and SIMD target, restored on exit."""

    def __init__(self, simd=None):
        self.simd = simd

    def __enter__(self):
        self.old = (ag.get_num_threads(), _core.simd_target())
        if self.simd:
            _core.set_simd_target(self.simd)
        return self

    def __exit__(self, *exc):
        _core.set_schedule_perturbation("off")
        ag.set_num_threads(self.old[0])
        _core.set_simd_target(self.old[1])


def assert_bitwise_across_threads(fn, simd=None, threads=THREADS, schedules=SCHEDULES, delay_us=DELAY_US):
    """fn() -> tensor(s) or array(s). Equal to the last bit at every thread count and schedule;
    simd=None runs the widest tier the CPU has."""
    simd = simd or AVAILABLE[-1]
    require_target(simd)
    with _Settings(simd):
        _core.set_schedule_perturbation("off")
        ag.set_num_threads(1)
        ref = _as_arrays(fn())
        for n in threads:
            ag.set_num_threads(n)
            for mode, arg in schedules:
                _core.set_schedule_perturbation(mode, victim=arg if mode == "victim" else 0,
                                                delay_us=delay_us, seed=arg)
                got = _as_arrays(fn())
                _core.set_schedule_perturbation("off")
                assert len(got) == len(ref)
                for k, (g, r) in enumerate(zip(got, ref)):
                    assert g.shape == r.shape and g.dtype == r.dtype
                    if g.tobytes() != r.tobytes():
                        diff = np.argwhere(g != r)
                        raise AssertionError(
                            f"output {k} differs from 1 thread at {n} threads under {mode}({arg}): "
                            f"{len(diff)} of {g.size} elements, first at {tuple(diff[0]) if len(diff) else '?'}")


def tensor(rng, shape, dtype=np.float32, requires_grad=False):
    t = ag.from_numpy(rng.standard_normal(shape).astype(dtype))
    return t.requires_grad_() if requires_grad else t


# ------------------------------------------------------------------------------------------- GEMM
# (M, K, N): every path of gemm.c. Work above the 1-thread threshold (GEMM_PAR_WORK, 2^19
# float32-equivalent flops) everywhere.
GEMM_SHAPES = {
    "small": (96, 128, 96),                      # no packing
    "split_m_tall": (3000, 200, 40),             # many MR tiles, few NR tiles
    "split_n_issue_8x27x28800": (8, 27, 28800),  # issue 11: tiny M, huge N (several NC blocks)
    "split_n_issue_16x128x50257": (16, 128, 50257),
    "split_n_issue_128x64x9216": (128, 64, 9216),
    "split_n_issue_64x128x9216": (64, 128, 9216),
    "blocks_all": (300, 700, 4500),              # several KC, MC (per thread) and NC blocks (split N)
    "split_m_blocks": (600, 600, 4100),          # split M (at 2 and 4 threads) over 3 KC x 2 NC steps
    "edge_tiles": (61, 517, 4099),               # partial MR and NR tiles, uneven K blocks
    "tall_k": (40, 2000, 40),                    # many K blocks, tiny output
}


@pytest.mark.parametrize("simd", SIMD)
@pytest.mark.parametrize("case", sorted(GEMM_SHAPES))
def test_gemm_threads_bitwise(case, simd):
    M, K, N = GEMM_SHAPES[case]
    if simd == "portable" and M * K * N > 5e7 and case != "split_m_blocks":
        M = max(8, M // 4)  # the portable kernels are slow: keep the shape class, trim the work
    rng = rng_for(case)
    for dtype in (np.float32, np.float64):
        a, b = tensor(rng, (M, K), dtype), tensor(rng, (K, N), dtype)
        assert_bitwise_across_threads(lambda: a @ b, simd)


@pytest.mark.parametrize("simd", SIMD)
def test_gemm_strided_operands_threads_bitwise(simd):
    rng = rng_for("gemm strided")
    a = tensor(rng, (700, 96))           # used transposed: A is 96 x 700, column-major
    b = tensor(rng, (9000, 700))[::2].T  # 700 x 4500, strided both ways
    assert_bitwise_across_threads(lambda: a.T @ b, simd)
    # a column-major output goes through C^T = B^T A^T
    c = tensor(rng, (300, 5000))
    d = tensor(rng, (300, 64))
    assert_bitwise_across_threads(lambda: ag.matmul(c.T, d).T.contiguous(), simd)


@pytest.mark.parametrize("simd", SIMD)
def test_gemm_batched_and_gemv_threads_bitwise(simd):
    rng = rng_for("gemm batched")
    many_a, many_b = tensor(rng, (64, 20, 30)), tensor(rng, (64, 30, 40))   # whole GEMMs per thread
    few_a, few_b = tensor(rng, (3, 200, 300)), tensor(rng, (3, 300, 500))  # each GEMM on all threads
    mat, vec = tensor(rng, (6000, 300)), tensor(rng, (300,))
    row, wide = tensor(rng, (300,)), tensor(rng, (300, 6000))
    assert_bitwise_across_threads(lambda: (many_a @ many_b, few_a @ few_b, mat @ vec, row @ wide,
                                           mat.T[:, :4000] @ ag.ones(4000)), simd)


def test_linear_issue_shapes_forward_backward_threads_bitwise():
    rng = rng_for("linear 128 -> 50257")
    lin = ag.nn.Linear(128, 50257)
    x = tensor(rng, (16, 128), requires_grad=True)
    fc1 = ag.nn.Linear(9216, 128)  # the MNIST CNN's fc1, whose backward failed in issue 11
    h = tensor(rng, (64, 9216), requires_grad=True)

    def run():
        for p in (*lin.parameters(), *fc1.parameters(), x, h):
            p.grad = None
        y = lin(x)
        y.sum().backward()
        z = fc1(h)
        (z * z).sum().backward()
        return y, x.grad, lin.weight.grad, lin.bias.grad, z, h.grad, fc1.weight.grad

    assert_bitwise_across_threads(run, schedules=SCHEDULES[:3])


# ------------------------------------------------------------------------------------ convolution
CONV_CASES = {
    # name: (N, C, H, W, O, k, stride, pad, groups)
    "lenet1_N128_C1_O6_k5": (128, 1, 32, 32, 6, 5, 1, 0, 1),  # issue 11's LeNet-5 first layer
    "N32_C3_O8_k3": (32, 3, 32, 32, 8, 3, 1, 1, 1),
    "N100_C3_O6_k5": (100, 3, 32, 32, 6, 5, 1, 0, 1),
    "lenet2_N64_C6_O16_k5": (64, 6, 14, 14, 16, 5, 1, 0, 1),
    "strided_N16_C8_O16_k3_s2": (16, 8, 33, 33, 16, 3, 2, 1, 1),
    "depthwise_N4_C32_k3": (4, 32, 20, 20, 32, 3, 1, 1, 32),
    "winograd_N2_C32_O32_k3": (2, 32, 20, 20, 32, 3, 1, 1, 1),
}
# conv_set_direct: 1 = im2col + GEMM everywhere, 2 = direct-packed wherever it applies, 3 = the
# output-channels-in-lanes forward wherever it applies
ALGORITHMS = {"im2col": (1, 1), "direct": (2, 1), "oclanes": (3, 1), "winograd": (0, 2)}


# Winograd applies to 3x3 stride-1 layers with many channels: only its own case runs it; the lane
# kernel (forward only) on the cases that cover its blocks, padding and stride
OCLANES_THREAD_CASES = ("lenet2_N64_C6_O16_k5", "strided_N16_C8_O16_k3_s2", "N32_C3_O8_k3")
CONV_PARAMS = [(case, alg) for case in sorted(CONV_CASES) for alg in sorted(ALGORITHMS)
               if ((alg == "winograd") == case.startswith("winograd") or alg == "im2col")
               and (alg != "oclanes" or case in OCLANES_THREAD_CASES)]


@pytest.mark.parametrize("case,algorithm", CONV_PARAMS)
def test_conv2d_forward_backward_threads_bitwise(case, algorithm):
    N, C, H, W, O, k, stride, pad, groups = CONV_CASES[case]
    rng = rng_for(case)
    x = tensor(rng, (N, C, H, W), requires_grad=True)
    w = tensor(rng, (O, C // groups, k, k), requires_grad=True)
    b = tensor(rng, (O,), requires_grad=True)
    direct, wino = ALGORITHMS[algorithm]
    old = (_core.conv_set_direct(direct), _core.conv_set_winograd(wino))
    try:
        def run():
            x.grad = w.grad = b.grad = None
            y = F.conv2d(x, w, b, stride=stride, padding=pad, groups=groups)
            (y * y).sum().backward()
            return y, x.grad, w.grad, b.grad

        assert_bitwise_across_threads(run, schedules=SCHEDULES[:3])
    finally:
        _core.conv_set_direct(old[0])
        _core.conv_set_winograd(old[1])


def test_pools_threads_bitwise():
    rng = rng_for("pools")
    x = tensor(rng, (32, 16, 30, 30), requires_grad=True)

    def run():
        x.grad = None
        a = F.max_pool2d(x, 3, stride=2, padding=1)
        b = F.avg_pool2d(x, 2)
        c = F.adaptive_avg_pool2d(x, (7, 5))
        (a.sum() + (b * b).sum() + c.sum()).backward()
        return a, b, c, x.grad

    assert_bitwise_across_threads(run, schedules=SCHEDULES[:3])


# ------------------------------------------------------------------------- reductions and softmax
@pytest.mark.parametrize("simd", SIMD)
def test_reductions_threads_bitwise(simd):
    rng = rng_for("reductions")
    big = tensor(rng, (512, 1030))
    ints = ag.from_numpy(rng.integers(-1000, 1000, size=(700, 300)))

    def run():
        return (big.sum(), big.sum(0), big.sum(1), big.mean((0, 1)), big.var(0), big.std(1),
                big.amax(0), big.amin(1), big.argmax(0), big.argmin(1), big.logsumexp(1), big.norm(),
                big.T.sum(1), big[:, ::3].sum(0), big.prod(1), big.cumsum(1), ints.sum(0), ints.max(1)[0])

    assert_bitwise_across_threads(run, simd)


@pytest.mark.parametrize("simd", SIMD)
def test_softmax_cross_entropy_norms_threads_bitwise(simd):
    rng = rng_for("softmax")
    logits = tensor(rng, (2048, 100), requires_grad=True)
    target = ag.from_numpy(rng.integers(0, 100, size=2048))
    feats = tensor(rng, (512, 256), requires_grad=True)
    ln = ag.nn.LayerNorm(256)

    def run():
        bn = ag.nn.BatchNorm1d(256)  # fresh running statistics each run
        logits.grad = feats.grad = None
        s = logits.softmax(1)
        ls = logits.log_softmax(0)
        loss = F.cross_entropy(logits, target)
        y = bn(feats) + ln(feats)
        (loss + (s * ls).sum() + (y * y).sum()).backward()
        return s, ls, loss, y, logits.grad, feats.grad, bn.running_mean, bn.running_var

    assert_bitwise_across_threads(run, simd, schedules=SCHEDULES[:3])


# --------------------------------------------------------------------------------- elementwise
@pytest.mark.parametrize("simd", SIMD)
def test_elementwise_threads_bitwise(simd):
    rng = rng_for("elementwise")
    x = tensor(rng, (1024, 700))
    row = tensor(rng, (700,))
    x64 = tensor(rng, (300, 1000), np.float64)
    assert_bitwise_across_threads(
        lambda: (x.exp(), x.tanh(), x.sigmoid(), x + row, x * x.T.T, x64.log1p().abs(), x[:, ::2].relu(),
                 x.T.contiguous(), x.to(ag.float64)), simd)


# ------------------------------------------------------------------------------------- indexing
def test_gather_scatter_index_threads_bitwise():
    rng = rng_for("indexing")
    x = tensor(rng, (2000, 300), requires_grad=True)
    idx = ag.from_numpy(rng.integers(0, 2000, size=5000))
    col = ag.from_numpy(rng.integers(0, 300, size=(2000, 50)))
    src = tensor(rng, (5000, 300))

    def run():
        x.grad = None
        a = x[idx]                              # gather; its backward accumulates (index_put)
        b = x.gather(1, col)
        c = ag.zeros(2000, 300).index_add_(0, idx, src)
        d = ag.zeros(2000, 300).scatter_add(1, col, b.detach())
        e = x.index_select(0, idx)
        (a.sum() + (b * b).sum() + e.mean()).backward()
        return a, b, c, d, e, x.grad

    assert_bitwise_across_threads(run, schedules=SCHEDULES[:3])


# ------------------------------------------------------------------------------------ optimizers
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_optimizer_updates_threads_bitwise(name):
    rng = rng_for(name)
    start = rng.standard_normal(300_000).astype(np.float32)
    grads = [rng.standard_normal(300_000).astype(np.float32) for _ in range(3)]
    kwargs = {"SGD": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4),
              "Adam": dict(lr=1e-3, amsgrad=True), "AdamW": dict(lr=1e-3), "RMSprop": dict(lr=1e-3, momentum=0.5),
              "Adagrad": dict(lr=1e-2)}[name]

    def run():
        p = ag.nn.Parameter(ag.from_numpy(start.copy()))
        opt = getattr(ag.optim, name)([p], **kwargs)
        for g in grads:
            p.grad = ag.from_numpy(g)
            opt.step()
        return p

    assert_bitwise_across_threads(run, schedules=SCHEDULES[:3])


# --------------------------------------------------------------------------------------- recurrent
@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN", "LSTM_proj"])
def test_recurrent_layers_threads_bitwise(mode):
    """Threads own blocks of batch rows and take over the remaining steps of other rows when theirs
    are done (csrc/rnn.c); the held-back thread of the perturbed schedules makes the others take
    over its rows mid-sequence. No row may change, forward or backward, packed or padded."""
    rng = rng_for(mode)
    ag.manual_seed(0)
    extra = {"proj_size": 20} if mode == "LSTM_proj" else {}
    layer = getattr(ag.nn, mode.split("_")[0])(24, 48, num_layers=2, bidirectional=True, batch_first=True,
                                              **extra)
    x = tensor(rng, (37, 15, 24), requires_grad=True)
    lengths = rng.integers(1, 16, size=37)
    lengths[0] = 15

    def run():
        x.grad = None
        for p in layer.parameters():
            p.grad = None
        out, _ = layer(x)
        packed = ag.nn.utils.rnn.pack_padded_sequence(x, lengths.tolist(), batch_first=True, enforce_sorted=False)
        pout, _ = layer(packed)
        padded, _ = ag.nn.utils.rnn.pad_packed_sequence(pout, batch_first=True)
        ((out * out).sum() + padded.sum()).backward()
        return out, padded, x.grad, *[p.grad for p in layer.parameters()]

    assert_bitwise_across_threads(run, schedules=SCHEDULES[:3])


# ----------------------------------------------------------------------------------------- random
def test_random_generation_threads_bitwise():
    x = ag.ones(400_000)

    def run():
        ag.manual_seed(1234)
        return (ag.rand(300_000), ag.randn(300_001, dtype=ag.float64), ag.randint(0, 10, (200_000,)),
                F.dropout(x, 0.3), ag.empty(250_000).uniform_(-2, 3), ag.empty(250_000).normal_(1, 2))

    assert_bitwise_across_threads(run)


# --------------------------------------------------------------------- under competing load
_BUSY = "import time\nend = time.time() + {secs}\nwhile time.time() < end:\n    pass\n"


def test_kernels_under_competing_load_bitwise():
    """Busy processes on both cores while the threaded kernels run at 2, 3 and 4 threads (bounded:
    the busy processes stop by themselves after 40 s and are killed when the test ends)."""
    rng = rng_for("load")
    a, b = tensor(rng, (16, 128)), tensor(rng, (128, 50257))
    c, d = tensor(rng, (64, 9216)), tensor(rng, (9216, 128))
    x = tensor(rng, (128, 1, 32, 32))
    w = tensor(rng, (6, 1, 5, 5))
    big = tensor(rng, (1024, 1000))

    def run():
        return a @ b, c.T @ (c @ d), F.conv2d(x, w), big.sum(0), big.softmax(1)

    busy = [subprocess.Popen([sys.executable, "-c", _BUSY.format(secs=40)]) for _ in range(2)]
    try:
        deadline = time.monotonic() + 25
        with _Settings():
            ag.set_num_threads(1)
            ref = _as_arrays(run())
            rounds = 0
            while time.monotonic() < deadline and rounds < 6:
                for n in THREADS:
                    ag.set_num_threads(n)
                    got = _as_arrays(run())
                    assert all(g.tobytes() == r.tobytes() for g, r in zip(got, ref)), f"differs at {n} threads"
                rounds += 1
        assert rounds >= 1
    finally:
        for p in busy:
            p.kill()
            p.wait()


# ---------------------------------------------------------- set_num_threads from another thread
def test_set_num_threads_while_kernels_run_in_other_threads():
    """One Python thread keeps changing the thread count while two others run kernels (the GIL is
    released inside them): no crash, and every result is still the 1-thread result."""
    rng = rng_for("set_num_threads race")
    a, b = tensor(rng, (16, 128)), tensor(rng, (128, 20000))
    x, w = tensor(rng, (32, 3, 32, 32)), tensor(rng, (8, 3, 3, 3))
    big = tensor(rng, (2000, 300))
    with _Settings():
        ag.set_num_threads(1)
        refs = [_as_arrays(a @ b), _as_arrays(F.conv2d(x, w, padding=1)), _as_arrays(big.sum(0))]
        stop = threading.Event()
        errors = []

        def toggler():
            n = 0
            while not stop.is_set():
                ag.set_num_threads(1 + n % 4)
                n += 1
                time.sleep(0.0002)

        def worker():
            try:
                for _ in range(40):
                    for fn, ref in zip((lambda: a @ b, lambda: F.conv2d(x, w, padding=1), lambda: big.sum(0)),
                                       refs):
                        got = _as_arrays(fn())
                        if got[0].tobytes() != ref[0].tobytes():
                            errors.append("result differs")
            except Exception as e:  # reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=toggler)] + [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads[1:]:
            t.join()
        stop.set()
        threads[0].join()
        assert errors == []


# -------------------------------------------------------------------------- perturbation switch
def test_perturbation_switch_api():
    with _Settings():
        assert _core.get_schedule_perturbation() == "off"
        _core.set_schedule_perturbation("victim", victim=1, delay_us=10)
        assert _core.get_schedule_perturbation() == "victim"
        _core.set_schedule_perturbation("random", seed=3)
        assert _core.get_schedule_perturbation() == "random"
    assert _core.get_schedule_perturbation() == "off"
    with pytest.raises(ValueError, match="set_schedule_perturbation: mode must be one of"):
        _core.set_schedule_perturbation("sometimes")
    with pytest.raises(ValueError, match="delay_us"):
        _core.set_schedule_perturbation("victim", delay_us=-1)


def test_perturbation_from_environment_slows_threaded_regions():
    """AGC_PERTURB=1,0,20000 makes thread 0 of every region sleep 20 ms per point: a threaded GEMM
    then takes visibly longer than without it (checked in a child process, where the variable is
    read at import). The measured fact here is the sleep, not a speed, so the bound is loose."""
    code = ("import time, autograd_core as ag\n"
            "ag.set_num_threads(2)\n"
            "a, b = ag.ones(8, 27), ag.ones(27, 28800)\n"
            "t = time.perf_counter(); a @ b; print(time.perf_counter() - t)\n"
            "from autograd_core import _core; print(_core.get_schedule_perturbation())\n")
    # the adaptive cap off, as in every thread test: under load it may run the GEMM on one thread,
    # where no region (and so no perturbation point) exists
    env = dict(os.environ, AGC_PERTURB="1,0,20000", AGC_ADAPTIVE="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    seconds, mode = out.stdout.split()
    assert mode == "victim" and float(seconds) >= 0.02


# ----------------------------------------------------------------------------- adaptive thread cap
def test_adaptive_cap_engages_when_workers_start_late_and_never_changes_results():
    """A worker held back 0.5 ms at every scheduling point (the perturbation switch standing in for a
    busy machine) starts late in every region: the cap engages, kernels then run on fewer threads,
    and the results stay bitwise the 1-thread ones. Turning the cap off clears it. (A small GEMM, so
    that the late starts come close together, as they do under real load.)"""
    rng = rng_for("adaptive")
    a, b = tensor(rng, (64, 256)), tensor(rng, (256, 128))
    with _Settings():
        ag.set_num_threads(1)
        ref = (a @ b).numpy().copy()
        ag.set_num_threads(2)
        _core.set_adaptive_threads("late")  # the run-queue signal would cap first on a loaded machine
        try:
            before = _core.thread_stats()
            _core.set_schedule_perturbation("victim", victim=1, delay_us=500)
            outs = [(a @ b).numpy().copy() for _ in range(6)]
            _core.set_schedule_perturbation("off")
            stats = _core.thread_stats()
            assert stats["adaptive"] and stats["late_starts"] >= before["late_starts"] + 2
            assert stats["engaged"] > before["engaged"] and stats["capped_forks"] > before["capped_forks"]
            assert stats["threads_now"] == 1
            assert all(o.tobytes() == ref.tobytes() for o in outs)
        finally:
            _core.set_adaptive_threads(False)
        stats = _core.thread_stats()
        assert not stats["adaptive"] and stats["threads_now"] == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the run-queue signal reads /proc/loadavg")
def test_adaptive_cap_follows_other_processes_runnable_threads():
    """Beside busy processes (more runnable threads than cores besides our team), the run-queue
    check caps regions at one thread within a few reads, and the results stay bitwise the 1-thread
    ones; when they stop, the cap lifts (checked when nothing else loaded the machine before)."""
    rng = rng_for("adaptive runq")
    a, b = tensor(rng, (64, 256)), tensor(rng, (256, 128))
    cores = os.cpu_count() or 2
    with _Settings():
        ag.set_num_threads(1)
        ref = (a @ b).numpy().copy()
        ag.set_num_threads(2)
        _core.set_adaptive_threads(True)
        end = time.monotonic() + 0.1  # several reads of the run queue before the busy processes start
        while time.monotonic() < end:
            (a @ b).numpy()
            time.sleep(0.005)
        quiet_before = _core.thread_stats()["threads_now"] == 2
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
        try:
            time.sleep(0.3)
            before = _core.thread_stats()
            outs, end = [], time.monotonic() + 10
            while time.monotonic() < end and _core.thread_stats()["runq_capped_forks"] <= before["runq_capped_forks"]:
                outs.append((a @ b).numpy().copy())
                time.sleep(0.002)
            assert _core.thread_stats()["runq_capped_forks"] > before["runq_capped_forks"]
            outs += [(a @ b).numpy().copy() for _ in range(5)]
            assert all(o.tobytes() == ref.tobytes() for o in outs)
        finally:
            for p in busy:
                p.kill()
                p.wait()
        try:
            end = time.monotonic() + 10
            while quiet_before and time.monotonic() < end and _core.thread_stats()["threads_now"] != 2:
                (a @ b).numpy()
                time.sleep(0.015)
            assert not quiet_before or _core.thread_stats()["threads_now"] == 2
        finally:
            _core.set_adaptive_threads(False)


def test_adaptive_cap_on_by_default_and_switch_from_environment():
    code = "from autograd_core import _core; print(_core.thread_stats()['adaptive'])"
    on = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    off = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, AGC_ADAPTIVE="0"))
    assert on.stdout.split() == ["True"] and off.stdout.split() == ["False"], (on.stderr, off.stderr)


# ------------------------------------------------------------------------------ grad mode per thread
def test_grad_mode_is_per_thread():
    x = ag.ones(3, requires_grad=True)
    stop = threading.Event()

    def toggler():
        while not stop.is_set():
            with ag.no_grad():
                pass
            with ag.set_grad_enabled(False):
                pass

    t = threading.Thread(target=toggler)
    t.start()
    try:
        missing = sum((x * 2).grad_fn is None for _ in range(5000))
    finally:
        stop.set()
        t.join()
    assert missing == 0 and ag.is_grad_enabled()


def test_new_thread_starts_with_grad_enabled_and_modes_restore_per_thread():
    seen = {}
    barrier = threading.Barrier(2)

    def inner(name, off):
        seen[name + " start"] = ag.is_grad_enabled()
        ctx = ag.no_grad() if off else ag.enable_grad()
        with ctx:
            barrier.wait()  # both threads inside their blocks at once
            seen[name + " inside"] = ag.is_grad_enabled()
            barrier.wait()
        seen[name + " after"] = ag.is_grad_enabled()

    with ag.no_grad():
        threads = [threading.Thread(target=inner, args=("a", True)), threading.Thread(target=inner, args=("b", False))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not ag.is_grad_enabled()  # the main thread's own no_grad is untouched
    assert ag.is_grad_enabled()
    assert seen == {"a start": True, "a inside": False, "a after": True,
                    "b start": True, "b inside": True, "b after": True}


def test_anomaly_mode_is_per_thread():
    seen = []
    with ag.autograd.detect_anomaly():
        t = threading.Thread(target=lambda: seen.append(ag.autograd.is_anomaly_enabled()))
        t.start()
        t.join()
        assert ag.autograd.is_anomaly_enabled()
    assert seen == [False] and not ag.autograd.is_anomaly_enabled()
