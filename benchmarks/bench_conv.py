"""Convolution and pooling benchmarks: ours against a NumPy im2col implementation written here and,
when importable, torch, float32, 2 threads.

Cases (issue 4): LeNet-5 layers (batch 64: 1x28x28 -> 6@5x5 and 6x14x14 -> 16@5x5), forward and
forward+backward; ResNet-like layers (16x64x56x56 -> 64@3x3 pad 1, 32x128x28x28 -> 128@3x3 pad 1),
forward and forward+backward; max_pool2d 2x2 on (64, 16, 28, 28), forward and forward+backward.
Targets: LeNet <= 1.0x torch's time; ResNet-like <= 1.3x torch's time and >= 3x faster than NumPy
im2col; max_pool2d forward+backward <= 1.0x torch; peak memory of the ResNet-like forward+backward no
more than torch's plus the 64 MiB workspace cap.

    pytest benchmarks/bench_conv.py --benchmark-only    # pytest-benchmark groups, one per case
    python benchmarks/bench_conv.py                     # conv_report(): time ratios and peak memory

Timings are best-of-several, each contender in its own settled blocks, rotating over several rounds
so that load from other processes hits them alike (benchmarks/timing.py). Peak memory is measured in fresh subprocesses from /proc/self/status (the VmHWM
high-water mark, reset first through /proc/self/clear_refs; it sees C allocations, which tracemalloc
would not): the growth of the peak during one forward+backward.
"""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

if __name__ == "__main__":  # run as a script from a source checkout: import the package beside it
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import autograd_core as ag  # noqa: E402
import autograd_core.nn.functional as F  # noqa: E402
from autograd_core import _core  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import time_settled  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

THREADS = 2
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name, input shape, weight shape, padding, torch ratio target, numpy speed-up target
CONVS = [
    ("lenet1 64x1x28x28 -> 6@5x5", (64, 1, 28, 28), (6, 1, 5, 5), 0, 1.0, None),
    ("lenet2 64x6x14x14 -> 16@5x5", (64, 6, 14, 14), (16, 6, 5, 5), 0, 1.0, None),
    ("resnet 16x64x56x56 -> 64@3x3 p1", (16, 64, 56, 56), (64, 64, 3, 3), 1, 1.3, 3.0),
    ("resnet 32x128x28x28 -> 128@3x3 p1", (32, 128, 28, 28), (128, 128, 3, 3), 1, 1.3, 3.0),
]
POOL_SHAPE = (64, 16, 28, 28)


# ------------------------------------------------------------------------------ NumPy im2col reference
def np_columns(x, kh, kw, pad):
    """(n * oh * ow, c * kh * kw) im2col matrix of a stride-1 convolution."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))  # n, c, oh, ow, kh, kw
    n, c, oh, ow = win.shape[:4]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw), (n, oh, ow)


def np_conv2d(x, w, b, pad):
    cols, (n, oh, ow) = np_columns(x, w.shape[2], w.shape[3], pad)
    y = cols @ w.reshape(w.shape[0], -1).T + b
    return np.ascontiguousarray(y.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2))


def np_conv2d_fwd_bwd(x, w, b, g, pad):
    """Forward plus the three gradients, all through the column matrix (col2im by kernel taps)."""
    o, c, kh, kw = w.shape
    cols, (n, oh, ow) = np_columns(x, kh, kw, pad)
    y = cols @ w.reshape(o, -1).T + b
    g2 = g.transpose(0, 2, 3, 1).reshape(-1, o)
    dw = (g2.T @ cols).reshape(w.shape)
    db = g2.sum(0)
    dcols = (g2 @ w.reshape(o, -1)).reshape(n, oh, ow, c, kh, kw)
    dxp = np.zeros((n, c, x.shape[2] + 2 * pad, x.shape[3] + 2 * pad), dtype=x.dtype)
    for a in range(kh):
        for bb in range(kw):
            dxp[:, :, a:a + oh, bb:bb + ow] += dcols[:, :, :, :, a, bb].transpose(0, 3, 1, 2)
    dx = dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    return y, dx, dw, db


def np_max_pool2x2(x):
    n, c, h, w = x.shape
    win = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    arg = win.argmax(-1)
    return np.take_along_axis(win, arg[..., None], -1)[..., 0], arg


def np_max_pool2x2_fwd_bwd(x, g):
    n, c, h, w = x.shape
    y, arg = np_max_pool2x2(x)
    dwin = np.zeros((n, c, h // 2, w // 2, 4), dtype=x.dtype)
    np.put_along_axis(dwin, arg[..., None], g[..., None], -1)
    dx = dwin.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)
    return y, dx


# ------------------------------------------------------------------------------ contenders
def _conv_inputs(xs, ws, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(xs).astype(np.float32)
    w = (rng.standard_normal(ws) / np.sqrt(np.prod(ws[1:]))).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32)
    pad = (ws[2] - 1) // 2 if ws[2] == 3 else 0
    oh = xs[2] + 2 * pad - ws[2] + 1
    g = rng.standard_normal((xs[0], ws[0], oh, oh)).astype(np.float32)
    return x, w, b, g, pad


def conv_contenders(xs, ws, backward):
    """name -> zero-argument callable; forward only, or forward and backward for input, weight, bias."""
    x, w, b, g, pad = _conv_inputs(xs, ws)
    fns = {}
    if backward:
        ax, aw, ab = (ag.tensor(v, requires_grad=True) for v in (x, w, b))
        agg = ag.tensor(g)

        def ours():
            ax.grad = aw.grad = ab.grad = None
            F.conv2d(ax, aw, ab, 1, pad).backward(agg)

        fns["ours"] = ours
        fns["numpy"] = lambda: np_conv2d_fwd_bwd(x, w, b, g, pad)
        if torch is not None:
            tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
            tg = torch.tensor(g)

            def theirs():
                tx.grad = tw.grad = tb.grad = None
                torch.nn.functional.conv2d(tx, tw, tb, 1, pad).backward(tg)

            fns["torch"] = theirs
    else:
        ax, aw, ab = (ag.tensor(v) for v in (x, w, b))
        fns["ours"] = lambda: F.conv2d(ax, aw, ab, 1, pad)
        fns["numpy"] = lambda: np_conv2d(x, w, b, pad)
        if torch is not None:
            tx, tw, tb = (torch.tensor(v) for v in (x, w, b))

            def theirs():
                with torch.no_grad():
                    return torch.nn.functional.conv2d(tx, tw, tb, 1, pad)

            fns["torch"] = theirs
    return fns


def pool_contenders(backward):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(POOL_SHAPE).astype(np.float32)
    g = rng.standard_normal(POOL_SHAPE[:2] + (POOL_SHAPE[2] // 2, POOL_SHAPE[3] // 2)).astype(np.float32)
    fns = {}
    if backward:
        ax, agg = ag.tensor(x, requires_grad=True), ag.tensor(g)

        def ours():
            ax.grad = None
            F.max_pool2d(ax, 2).backward(agg)

        fns["ours"] = ours
        fns["numpy"] = lambda: np_max_pool2x2_fwd_bwd(x, g)
        if torch is not None:
            tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g)

            def theirs():
                tx.grad = None
                torch.nn.functional.max_pool2d(tx, 2).backward(tg)

            fns["torch"] = theirs
    else:
        ax = ag.tensor(x)
        fns["ours"] = lambda: F.max_pool2d(ax, 2)
        fns["numpy"] = lambda: np_max_pool2x2(x)
        if torch is not None:
            tx = torch.tensor(x)

            def theirs():
                with torch.no_grad():
                    return torch.nn.functional.max_pool2d(tx, 2)

            fns["torch"] = theirs
    return fns


def _cases():
    for name, xs, ws, _, t_torch, t_numpy in CONVS:
        for backward in (False, True):
            label = f"conv2d float32 {name} {'fwd+bwd' if backward else 'fwd'}"
            yield label, (lambda xs=xs, ws=ws, backward=backward: conv_contenders(xs, ws, backward)), \
                t_torch, t_numpy
    for backward in (False, True):
        label = f"max_pool2d float32 2x2 {POOL_SHAPE} {'fwd+bwd' if backward else 'fwd'}"
        yield label, (lambda backward=backward: pool_contenders(backward)), 1.0 if backward else None, None


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
def test_conv(benchmark, case, impl):
    group, make, _, _ = case
    if impl == "torch" and torch is None:
        pytest.skip("torch not installed")
    benchmark.group = group
    benchmark(make()[impl])


# ------------------------------------------------------------------------------ the report
def _time_interleaved(fns, budget=1.5, clock=time.perf_counter):
    """Best seconds per call of each callable. Returns name -> seconds.

    Each contender runs in its own blocks with a settle sleep before each (benchmarks/timing.py,
    time_settled): timed call by call in turn, whichever library followed NumPy ran while OpenBLAS's
    worker threads still spun on the other core. clock=time.process_time measures CPU time instead:
    steady on a loaded machine, but only comparable between contenders when each runs on one thread."""
    return time_settled(fns, budget=budget, rounds=3, clock=clock)


_MEM_SCRIPT = r"""
import sys
sys.path.insert(0, {root!r})
import numpy as np
impl, xs, ws = sys.argv[1], eval(sys.argv[2]), eval(sys.argv[3])
rng = np.random.default_rng(0)
# float32 straight from the generator and shared (from_numpy), so nothing before the measured call
# peaks above the resident size it starts from
x = rng.standard_normal(xs, dtype=np.float32)
w = rng.standard_normal(ws, dtype=np.float32)
b = rng.standard_normal(ws[0], dtype=np.float32)
g = rng.standard_normal((xs[0], ws[0], xs[2], xs[3]), dtype=np.float32)
if impl == "ours":
    import autograd_core as ag
    ag.set_num_threads({threads})
    tx, tw, tb = (ag.from_numpy(v).requires_grad_() for v in (x, w, b))
    tg = ag.from_numpy(g)
    conv = ag.nn.functional.conv2d
else:
    import torch
    torch.set_num_threads({threads})
    tx, tw, tb = (torch.from_numpy(v).requires_grad_() for v in (x, w, b))
    tg = torch.from_numpy(g)
    conv = torch.nn.functional.conv2d
# load lazily initialised code paths on a tiny, separate problem (a slice of x would give x a full-size
# gradient, whose freed block our allocator's cache would keep resident before the measurement)
sx = tx.detach()[:1, :, :6, :6].contiguous().requires_grad_()
sw = tw.detach().clone().requires_grad_()
conv(sx, sw, None, 1, 1).sum().backward()
del sx, sw
def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))
try:  # reset the high-water mark to the current RSS (ru_maxrss would carry the parent's peak over fork)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    pass
before = max(status("VmRSS:"), status("VmHWM:"))
conv(tx, tw, tb, 1, 1).backward(tg)
after = status("VmHWM:")
print(after - before, before)
"""


def peak_memory(impl, xs, ws):
    """Growth of the process's peak RSS (bytes) during one forward+backward, in a fresh subprocess."""
    script = _MEM_SCRIPT.format(root=ROOT, threads=THREADS)
    res = subprocess.run([sys.executable, "-c", script, impl, repr(xs), repr(ws)], capture_output=True,
                         text=True, timeout=600)
    if res.returncode:
        raise RuntimeError(f"peak_memory({impl}) failed: {res.stderr[-2000:]}")
    return int(res.stdout.strip().splitlines()[-1].split()[0])


def conv_report(file=None, memory=True, threads=THREADS, cpu_time=False):
    """Print ms per call of ours, NumPy im2col and torch, the ratios ours/torch and NumPy/ours against
    the targets, and the peak memory of the ResNet-like forward+backward. Returns the timing rows.
    cpu_time=True times CPU seconds (use with threads=1; NumPy's BLAS may still use several threads)."""
    clock = time.process_time if cpu_time else time.perf_counter
    out = file or sys.stdout
    old = _core.get_num_threads()
    _core.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        print(f"conv/pool report: simd={_core.simd_target()} threads={threads} float32 "
              f"{'CPU time' if cpu_time else 'wall time'}; "
              f"torch {'%s' % torch.__version__ if torch else 'not installed'}", file=out)
        head = f"{'case':62s} {'ours ms':>9s} {'numpy ms':>9s} {'torch ms':>9s} {'ours/torch':>10s} " \
               f"{'target':>6s} {'numpy/ours':>10s} {'target':>6s}"
        print(head, file=out)
        rows = []
        for group, make, t_torch, t_numpy in CASES:
            t = _time_interleaved(make(), clock=clock)
            r_torch = t["ours"] / t["torch"] if "torch" in t else float("nan")
            r_numpy = t["numpy"] / t["ours"]
            line = f"{group:62s} {1e3 * t['ours']:9.2f} {1e3 * t['numpy']:9.2f} "
            line += f"{1e3 * t['torch']:9.2f} " if "torch" in t else f"{'-':>9s} "
            line += f"{r_torch:10.2f} {('<= %.1f' % t_torch) if t_torch else '':>6s} {r_numpy:10.2f} "
            line += f"{('>= %.0f' % t_numpy) if t_numpy else '':>6s}"
            missed = (t_torch and "torch" in t and r_torch > t_torch) or (t_numpy and r_numpy < t_numpy)
            print(line + ("  below target" if missed else ""), file=out, flush=True)
            rows.append(dict(case=group, ours=t["ours"], numpy=t["numpy"], torch=t.get("torch"),
                             ours_over_torch=r_torch, numpy_over_ours=r_numpy))
        if memory:
            print("\npeak memory growth of one forward+backward (VmHWM in a fresh process):", file=out)
            cap = 64 << 20
            for name, xs, ws, pad, _, _ in CONVS[2:]:
                ws_bytes = _core.conv2d_workspace_bytes(_core.F32, xs, ws, xs[2:], (1, 1), (pad, pad), (1, 1), 1)
                ours = peak_memory("ours", xs, ws)
                line = f"  {name:40s} ours {ours / 2**20:7.1f} MiB (conv workspace {ws_bytes / 2**20:.1f} MiB)"
                if torch is not None:
                    theirs = peak_memory("torch", xs, ws)
                    ok = ours <= theirs + cap
                    line += f"  torch {theirs / 2**20:7.1f} MiB  {'within' if ok else 'ABOVE'} torch + 64 MiB cap"
                print(line, file=out, flush=True)
        return rows
    finally:
        _core.set_num_threads(old)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="conv/pool benchmark report")
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    parser.add_argument("--cpu-time", action="store_true", help="time CPU seconds (steady under load; 1 thread)")
    args = parser.parse_args()
    conv_report(memory=not args.no_memory, threads=args.threads, cpu_time=args.cpu_time)
