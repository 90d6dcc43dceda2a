"""Data-parallel measurements over MPI (the figures in docs/distributed.md).

    python benchmarks/distributed_scaling.py step --threads 2             # 1 process x 2 threads
    mpiexec -n 2 python benchmarks/distributed_scaling.py step --threads 1 # 2 processes x 1 thread, DDP
    mpiexec -n 2 python benchmarks/distributed_scaling.py allreduce        # ours against mpi4py's Allreduce

step: one LeNet-5 training step (examples/lenet_digits.py's model, Adam) at a global batch of
--batch samples, split evenly over the processes; the median of --steps steps after a warm-up.
allreduce: dist.all_reduce (in place, SUM) against comm.Allreduce(MPI.IN_PLACE, ...) on the very same
float32 buffers, taking turns, best of --repeats; bandwidth is the bus bandwidth 2 (n-1)/n bytes / t.
"""
import argparse
import os
import statistics
import time

import numpy as np


def lenet(nn):
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def step_time(args):
    import autograd_core as ag
    import autograd_core.distributed as dist
    from autograd_core import nn

    ag.set_num_threads(args.threads)
    world = int(os.environ.get("PMI_SIZE", os.environ.get("OMPI_COMM_WORLD_SIZE", "1")))
    parallel = world > 1
    if parallel:
        dist.init_process_group("mpi")
        world, rank = dist.get_world_size(), dist.get_rank()
    else:
        rank = 0
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
        print(f"{world} process(es) x {args.threads} thread(s), global batch {args.batch}: median step "
              f"{statistics.median(times) * 1e3:.3f} ms (min {min(times) * 1e3:.3f}, "
              f"p90 {sorted(times)[int(0.9 * len(times))] * 1e3:.3f})")
    if parallel:
        dist.destroy_process_group()


def allreduce_bandwidth(args):
    from mpi4py import MPI

    import autograd_core as ag
    import autograd_core.distributed as dist

    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    world, rank = dist.get_world_size(), dist.get_rank()
    if rank == 0:
        print(f"all_reduce over {world} processes, float32, in place; best of {args.repeats}")
        print(f"{'bytes':>10} {'ours us':>10} {'mpi4py us':>10} {'ratio':>6} {'ours GB/s':>10} {'mpi4py GB/s':>12}")
    for size in [1 << k for k in range(10, 27, 2)]:  # 1 KB .. 64 MB
        array = np.ones(size // 4, dtype=np.float32)
        tensor = ag.from_numpy(array)
        reps = max(3, min(200, (1 << 22) // size * 20))
        best = {"ours": float("inf"), "mpi4py": float("inf")}
        for _ in range(args.repeats):
            for who in ("ours", "mpi4py"):
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
    dist.destroy_process_group()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["step", "allreduce"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    (step_time if args.what == "step" else allreduce_bandwidth)(args)
