"""ag.distributed, DistributedDataParallel and DistributedSampler.

The multi-process checks live in tests/distributed_worker.py: each `mpiexec -n N` launch runs all of
them (one launch per N, so the MPI tests cost a few seconds), and every check is reported here as a
test of its own. Skipped only when mpi4py or mpiexec is missing: pip install 'autograd_core[distributed]'.
"""
import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import autograd_core as ag
import autograd_core.distributed as dist
from autograd_core import nn
from autograd_core.utils.data.distributed import DistributedSampler

HERE = pathlib.Path(__file__).resolve().parent
WORKER = HERE / "distributed_worker.py"
ROOT = pathlib.Path(ag.__file__).resolve().parent.parent
MPIEXEC = shutil.which("mpiexec", path=os.pathsep.join([str(pathlib.Path(sys.executable).parent),
                                                        os.environ.get("PATH", "")]))
HAVE_MPI = importlib.util.find_spec("mpi4py") is not None and MPIEXEC is not None
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="mpi4py or mpiexec is not installed: "
                               "pip install 'autograd_core[distributed]' (mpi4py and MPICH wheels)")
LAUNCH_TIMEOUT = 120  # seconds; a launch normally takes 1-3 s


def _check_names():
    spec = importlib.util.spec_from_file_location("distributed_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [fn.__name__ for fn in module.CHECKS]


CHECK_NAMES = _check_names()


def _launch(n, scenario, timeout=LAUNCH_TIMEOUT):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1")
    return subprocess.run([MPIEXEC, "-n", str(n), sys.executable, str(WORKER), scenario], env=env,
                          check=False, capture_output=True, text=True, timeout=timeout)


_suite_results = {}


def _suite(n):
    if n not in _suite_results:
        proc = _launch(n, "suite")
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULTS ")]
        if proc.returncode != 0 or not lines:
            _suite_results[n] = f"the launch failed (exit code {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        else:
            _suite_results[n] = json.loads(lines[0][len("RESULTS "):])
    result = _suite_results[n]
    if isinstance(result, str):
        pytest.fail(result)
    return result


@needs_mpi
@pytest.mark.parametrize("check", CHECK_NAMES)
@pytest.mark.parametrize("nprocs", [1, 2, 3])
def test_mpi(nprocs, check):
    outcome = _suite(nprocs)[check]
    assert outcome == "ok", f"{check} with {nprocs} processes failed:\n{outcome}"


@needs_mpi
def test_mpi_rank_that_raises_aborts_the_job():
    proc = _launch(2, "crash", timeout=60)
    assert proc.returncode != 0
    assert "rank 1 fails on purpose" in proc.stderr
    assert "aborting all 2 ranks" in proc.stderr
    assert "UNREACHABLE" not in proc.stdout


@needs_mpi
def test_mpi_collective_past_the_timeout_aborts_the_job():
    proc = _launch(2, "timeout", timeout=60)
    assert proc.returncode != 0
    assert "waited more than 1 s in all_reduce" in proc.stderr
    assert "UNREACHABLE" not in proc.stdout


# ---------------------------------------------------------------- in this process (no MPI started)


def test_group_queries_before_init_raise():
    assert not dist.is_initialized()
    assert dist.is_available() == (importlib.util.find_spec("mpi4py") is not None)
    for fn in (dist.get_rank, dist.get_world_size, dist.barrier):
        with pytest.raises(RuntimeError, match="init_process_group"):
            fn()
    with pytest.raises(RuntimeError, match="all_reduce: the default process group has not been initialized"):
        dist.all_reduce(ag.zeros(3))
    with pytest.raises(RuntimeError, match="init_process_group"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="num_replicas was not given"):
        DistributedSampler(range(4))


def test_init_process_group_argument_errors():
    with pytest.raises(ValueError, match="backend 'nccl' is not available"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="init_method and store are not used"):
        dist.init_process_group("mpi", init_method="tcp://127.0.0.1:23456")
    with pytest.raises(ValueError, match="timeout must be a positive"):
        dist.init_process_group("mpi", timeout=-1)
    assert not dist.is_initialized()


def test_reduce_op_names():
    assert {op.name for op in dist.ReduceOp} >= {"SUM", "AVG", "PRODUCT", "MIN", "MAX"}
    assert repr(dist.ReduceOp.SUM) == "ReduceOp.SUM"


@pytest.mark.parametrize("size", [0, 1, 7, 10, 101])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_partitions(size, replicas, drop_last):
    shards = [list(DistributedSampler(range(size), replicas, r, shuffle=True, seed=1, drop_last=drop_last))
              for r in range(replicas)]
    assert len({len(s) for s in shards}) == 1
    flat = [i for s in shards for i in s]
    if drop_last:
        assert len(flat) == len(set(flat)) == (size // replicas) * replicas
    else:
        assert set(flat) == set(range(size)) and len(flat) == -(-size // replicas) * replicas


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_matches_torch(shuffle, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for size in (1, 9, 10, 64, 1000):
        for replicas in (1, 2, 3, 5):
            for rank in range(replicas):
                ours = DistributedSampler(range(size), replicas, rank, shuffle=shuffle, seed=42, drop_last=drop_last)
                theirs = TorchSampler(range(size), replicas, rank, shuffle=shuffle, seed=42, drop_last=drop_last)
                for epoch in (0, 1, 7):
                    ours.set_epoch(epoch)
                    theirs.set_epoch(epoch)
                    assert list(ours) == list(theirs) and len(ours) == len(theirs), (size, replicas, rank, epoch)
    assert torch.utils.data.distributed.DistributedSampler is TorchSampler


def test_distributed_sampler_epochs_differ_and_errors():
    sampler = DistributedSampler(range(50), num_replicas=2, rank=1, seed=3)
    first = list(sampler)
    assert list(sampler) == first  # no set_epoch: the same order again, as torch
    sampler.set_epoch(1)
    assert list(sampler) != first
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(5), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be a positive int"):
        DistributedSampler(range(5), num_replicas=0, rank=0)
    with pytest.raises(TypeError, match="seed must be an int"):
        DistributedSampler(range(5), num_replicas=1, rank=0, seed=1.5)


def test_distributed_sampler_feeds_a_dataloader_shard():
    x = ag.arange(10.0).reshape(10, 1)
    ds = ag.utils.data.TensorDataset(x)
    sampler = DistributedSampler(ds, num_replicas=3, rank=2, shuffle=False)
    loader = ag.utils.data.DataLoader(ag.utils.data.Subset(ds, list(sampler)), batch_size=2)
    rows = np.concatenate([b[0].numpy() for b in loader]).ravel().tolist()
    assert rows == [2.0, 5.0, 8.0, 1.0]  # padded with the first index to 12 = 3 x 4
