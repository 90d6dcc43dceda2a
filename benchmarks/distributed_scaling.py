"""Data-parallel measurements over MPI (the figures in docs/distributed.md).

    python benchmarks/distributed_scaling.py                # everything below, one table each (~1 min)
    python benchmarks/distributed_scaling.py step --threads 2             # 1 process x 2 threads
    mpiexec -n 2 python benchmarks/distributed_scaling.py step --threads 1 # 2 processes x 1 thread, DDP
    mpiexec -n 2 python benchmarks/distributed_scaling.py allreduce        # ours against mpi4py's Allreduce

all (the default): launches the runs below itself, with the mpiexec that matches mpi4py's MPI
(autograd_core.distributed.launcher.find_mpiexec, or --mpiexec / $AUTOGRAD_CORE_MPIEXEC), and prints
the load average before and after: the figures mean something only on an otherwise idle machine.
step: one LeNet-5 training step (examples/lenet_digits.py's model, Adam, float32) at a global batch
of --batch samples, split evenly over the processes; the median of --steps steps after a warm-up.
With several processes each step starts at a barrier and counts the slowest rank.
allreduce: dist.all_reduce (in place, SUM) against comm.Allreduce(MPI.IN_PLACE, ...) on the very same
float32 buffers, 1 KB to 64 MB, taking turns, best of --repeats; bus bandwidth = 2 (n-1)/n bytes / t.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's autograd_core (the children get it through PYTHONPATH)
sys.path.insert(0, str(ROOT / "benchmarks"))
from report import _cpu_model  # noqa: E402  (the benchmark report's header names the CPU the same way)
SIZES = [1 << k for k in range(10, 27, 2)]  # 1 KB, 4 KB, ... 64 MB


def lenet(nn):
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def emit(kind, **fields):
    """One machine-readable line for `all` to collect."""
    print("JSON " + json.dumps({"kind": kind, **fields}), flush=True)


def step_time(args):
    import autograd_core as ag
    import autograd_core.distributed as dist
    from autograd_core import nn
    from autograd_core.distributed.launcher import launched_world

    ag.set_num_threads(args.threads)
    launch = launched_world()
    parallel = launch is not None and launch.size > 1
    if parallel:
        dist.init_process_group("mpi")
        world, rank = dist.get_world_size(), dist.get_rank()
    else:
        world, rank = 1, 0
    ag.manual_seed(0)
    model = lenet(nn)
    if parallel:
        model = nn.parallel.DistributedDataParallel(model)
    optimizer = ag.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    per = args.batch // world
    rng = np.random.default_rng(rank)
    x = ag.from_numpy(rng.random((per, 1, 8, 8), dtype=np.float32))
    y = ag.from_numpy(rng.integers(0, 10, per).astype(np.int64))
    times = []
    for i in range(args.warmup + args.steps):
        if parallel:
            dist.barrier()  # every step starts together: the time is the slowest rank's
        started = time.perf_counter()
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
        if i >= args.warmup:
            times.append(time.perf_counter() - started)
    if parallel:
        everyone = [None] * world
        dist.all_gather_object(everyone, times)
        times = [max(column) for column in zip(*everyone)]
    if rank == 0:
        ordered = sorted(times)
        median, p90 = statistics.median(times), ordered[int(0.9 * len(times))]
        print(f"{world} process(es) x {args.threads} thread(s), global batch {args.batch}: median step "
              f"{median * 1e3:.3f} ms (min {ordered[0] * 1e3:.3f}, p90 {p90 * 1e3:.3f})")
        emit("step", processes=world, threads=args.threads, batch=args.batch, median=median, min=ordered[0],
             p90=p90)
    if parallel:
        dist.destroy_process_group()


def allreduce_bandwidth(args):
    import autograd_core as ag
    import autograd_core.distributed as dist

    dist.init_process_group("mpi")
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    world, rank = dist.get_world_size(), dist.get_rank()
    if rank == 0:
        print(f"all_reduce over {world} processes, float32, in place; best of {args.repeats}")
        print(f"{'bytes':>10} {'ours us':>10} {'mpi4py us':>10} {'ratio':>6} {'ours GB/s':>10} {'mpi4py GB/s':>12}")
    for size in args.sizes:
        array = np.ones(size // 4, dtype=np.float32)
        tensor = ag.from_numpy(array)
        reps = max(3, min(200, (1 << 22) // size * 20))
        best = {"ours": float("inf"), "mpi4py": float("inf")}
        for repeat in range(args.repeats):
            for who in ("ours", "mpi4py")[::1 if repeat % 2 == 0 else -1]:  # each goes first in turn
                comm.Barrier()
                started = time.perf_counter()
                for _ in range(reps):
                    if who == "ours":
                        dist.all_reduce(tensor)
                    else:
                        comm.Allreduce(MPI.IN_PLACE, array, op=MPI.SUM)
                elapsed = (time.perf_counter() - started) / reps
                elapsed = comm.allreduce(elapsed, op=MPI.MAX)
                best[who] = min(best[who], elapsed)
            array.fill(1.0)  # keep the values finite
        if rank == 0:
            bus = 2 * (world - 1) / world * size
            print(f"{size:>10} {best['ours'] * 1e6:>10.1f} {best['mpi4py'] * 1e6:>10.1f} "
                  f"{best['ours'] / best['mpi4py']:>6.2f} {bus / best['ours'] / 1e9:>10.2f} "
                  f"{bus / best['mpi4py'] / 1e9:>12.2f}")
            emit("allreduce", processes=world, bytes=size, ours=best["ours"], mpi4py=best["mpi4py"])
    if rank == 0:
        emit("library", text=" ".join(MPI.Get_library_version().strip().splitlines()[0].split()))
    dist.destroy_process_group()


# ------------------------------------------------------------------------------- all: one command


def _run(command, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    # Open MPI's mpiexec refuses to run as root without these; MPICH's ignores them
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return [json.loads(line[5:]) for line in proc.stdout.splitlines() if line.startswith("JSON ")]


def _size(n):
    return f"{n >> 20} MB" if n >= 1 << 20 else f"{n >> 10} KB"


def _us(seconds):
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f} us"


def run_all(args):
    from autograd_core.distributed.launcher import find_mpiexec

    mpiexec = args.mpiexec or find_mpiexec()
    script = [sys.executable, str(pathlib.Path(__file__).resolve())]
    common = ["--batch", str(args.batch), "--steps", str(args.steps), "--warmup", str(args.warmup)]
    load_before = os.getloadavg()
    steps = []
    for procs, threads in ((1, 1), (1, 2), (2, 1)):
        launch = [mpiexec, "-n", str(procs)] if procs > 1 else []
        steps += _run(launch + script + ["step", "--threads", str(threads)] + common, threads)
    found = _run([mpiexec, "-n", "2"] + script + ["allreduce", "--repeats", str(args.repeats)], 1)
    alone = _run(script + ["allreduce", "--repeats", str(args.repeats), "--sizes", "1024"], 1)
    load_after = os.getloadavg()
    library = next(r["text"] for r in found if r["kind"] == "library")
    cpu = _cpu_model()
    print(f"\nCPU: {cpu}, {os.cpu_count()} cores; MPI: {library}; mpiexec: {mpiexec}")
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}: "
          "figures mean something only when both are near 0")
    print(f"\nLeNet-5 training step, global batch {args.batch}, Adam, float32, median of {args.steps} steps\n")
    print("| configuration | median step | min | p90 | vs 1 process x 1 thread |")
    print("|---|---|---|---|---|")
    base = steps[0]["median"]
    for r in steps:
        label = f"{r['processes']} process{'es' if r['processes'] > 1 else ''} x {r['threads']} thread" \
                f"{'s' if r['threads'] > 1 else ''}" + (", DDP" if r["processes"] > 1 else "")
        print(f"| {label} | {r['median'] * 1e3:.2f} ms | {r['min'] * 1e3:.2f} ms | {r['p90'] * 1e3:.2f} ms "
              f"| {r['median'] / base:.2f} |")
    print(f"\nall_reduce in place, float32, 2 processes, best of {args.repeats}; ratio = time(ours) / time(mpi4py)\n")
    print("| size | ours | mpi4py | ours / mpi4py | bus GB/s (ours) | bus GB/s (mpi4py) |")
    print("|---|---|---|---|---|---|")
    for r in (r for r in found if r["kind"] == "allreduce"):
        bus = 2 * (r["processes"] - 1) / r["processes"] * r["bytes"]
        print(f"| {_size(r['bytes'])} | {_us(r['ours'])} | {_us(r['mpi4py'])} | {r['ours'] / r['mpi4py']:.2f} "
              f"| {bus / r['ours'] / 1e9:.2f} | {bus / r['mpi4py'] / 1e9:.2f} |")
    one = next(r for r in alone if r["kind"] == "allreduce")
    print(f"\nthe wrapper's own cost, 1 KB in a group of one (no transfer): ours {_us(one['ours'])}, mpi4py "
          f"{_us(one['mpi4py'])} per call, +{_us(one['ours'] - one['mpi4py'])}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("what", nargs="?", default="all", choices=["all", "step", "allreduce"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES, help="allreduce: buffer sizes in bytes")
    parser.add_argument("--mpiexec", help="the launcher for `all` (default: the one matching mpi4py's MPI)")
    args = parser.parse_args()
    {"all": run_all, "step": step_time, "allreduce": allreduce_bandwidth}[args.what](args)
