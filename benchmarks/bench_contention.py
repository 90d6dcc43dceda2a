"""Training steps and a GEMM with other processes competing for the cores, ours and PyTorch side by
side: `python benchmarks/bench_contention.py [--busy 0,1,2] [--threads 1,2] [--seconds 2]`.

Users' machines are busy: a browser, an IDE, another training run. A fork/join kernel whose worker
thread is descheduled waits for it, so 2 threads can be much slower than 1 under load. This
benchmark measures that directly: for 0, 1 and 2 busy processes (pure Python spin loops, one per
core at most), each workload runs in a fresh subprocess per (library, thread count), and the
median step time over a few seconds is reported (a median, not a best: under load the spread is
what users feel). The table gives ours at 2 threads against ours at 1 thread and against PyTorch at
the same thread count and load. Timings are reported, never asserted.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

WORKLOADS = ("lenet5_step", "mlp_step", "lstm_step", "gemm1024")


def _build(lib, name):
    """A zero-argument step function for a workload, written once against the shared API
    (`lib` is autograd_core or torch)."""
    nn = lib.nn
    lib.manual_seed(0)
    if name == "gemm1024":
        a, b = lib.randn(1024, 1024), lib.randn(1024, 1024)
        return lambda: a @ b
    if name == "lenet5_step":
        model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(),
                              nn.AvgPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84),
                              nn.Tanh(), nn.Linear(84, 10))
        x, y = lib.randn(64, 1, 32, 32), lib.randint(0, 10, (64,))
    elif name == "mlp_step":
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
        x, y = lib.randn(128, 784), lib.randint(0, 10, (128,))
    elif name == "lstm_step":
        class CharLSTM(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(65, 32)
                self.lstm = nn.LSTM(32, 128, batch_first=True)
                self.head = nn.Linear(128, 65)

            def forward(self, idx):
                h, _ = self.lstm(self.embed(idx))
                return self.head(h).reshape(-1, 65)

        model = CharLSTM()
        x, y = lib.randint(0, 65, (32, 32)), lib.randint(0, 65, (32 * 32,))
    else:
        raise ValueError(f"unknown workload {name!r}")
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return step


def _worker(lib_name, workload, threads, seconds):
    if lib_name == "torch":
        import torch as lib
    else:
        import autograd_core as lib
    lib.set_num_threads(threads)
    step = _build(lib, workload)
    for _ in range(3):
        step()
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(times) < 5:
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    print(json.dumps({"median": statistics.median(times), "n": len(times)}))


_BUSY = "import time\nend = time.time() + {secs}\nwhile time.time() < end:\n    pass\n"


def measure(libs, busy_counts, thread_counts, seconds, workloads=WORKLOADS):
    """{(lib, workload, busy, threads): median seconds per step}"""
    results = {}
    for busy in busy_counts:
        procs = [subprocess.Popen([sys.executable, "-c", _BUSY.format(secs=3600)]) for _ in range(busy)]
        try:
            time.sleep(0.5)
            for workload in workloads:
                for threads in thread_counts:
                    for lib in libs:
                        out = subprocess.run([sys.executable, __file__, "--worker", lib, workload, str(threads),
                                              str(seconds)], capture_output=True, text=True, timeout=600)
                        if out.returncode != 0:
                            raise RuntimeError(f"{lib} {workload}: {out.stderr[-2000:]}")
                        results[(lib, workload, busy, threads)] = json.loads(out.stdout.strip().splitlines()[-1])["median"]
        finally:
            for p in procs:
                p.kill()
                p.wait()
    return results


def report(results, libs, busy_counts, thread_counts, workloads=WORKLOADS):
    lines = []
    head = "| workload | busy | " + " | ".join(f"{lib} {t}T ms" for lib in libs for t in thread_counts)
    extra = []
    if 1 in thread_counts and 2 in thread_counts:
        extra.append("ours 2T/1T")
    if "torch" in libs:
        extra += [f"ours/torch {t}T" for t in thread_counts]
        if 1 in thread_counts and 2 in thread_counts:
            extra.append("ours best/torch best")
    lines.append(head + (" | " + " | ".join(extra) if extra else "") + " |")
    lines.append("|" + "---|" * (2 + len(libs) * len(thread_counts) + len(extra)))
    for w in workloads:
        for b in busy_counts:
            row = [w, str(b)] + [f"{results[(lib, w, b, t)] * 1e3:.2f}" for lib in libs for t in thread_counts]
            if "ours 2T/1T" in extra:
                row.append(f"{results[('ours', w, b, 2)] / results[('ours', w, b, 1)]:.2f}")
            if "torch" in libs:
                row += [f"{results[('ours', w, b, t)] / results[('torch', w, b, t)]:.2f}" for t in thread_counts]
                if 1 in thread_counts and 2 in thread_counts:
                    ours = min(results[("ours", w, b, t)] for t in thread_counts)
                    theirs = min(results[("torch", w, b, t)] for t in thread_counts)
                    row.append(f"{ours / theirs:.2f}")
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    ap.add_argument("--busy", default="0,1,2")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args(argv)
    if args.worker:
        lib, workload, threads, seconds = args.worker
        return _worker(lib, workload, int(threads), float(seconds))
    libs = ["ours"]
    if not args.no_torch:
        try:
            import torch  # noqa: F401
            libs.append("torch")
        except ImportError:
            pass
    busy = [int(b) for b in args.busy.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    workloads = tuple(args.workloads.split(","))
    from autograd_core import _core
    print(f"# contention: {os.cpu_count()} CPUs, SIMD {_core.simd_target()}, busy processes {busy}, "
          f"median step over {args.seconds:g} s in a fresh process per cell")
    results = measure(libs, busy, threads, args.seconds, workloads)
    print(report(results, libs, busy, threads, workloads))


if __name__ == "__main__":
    main()
