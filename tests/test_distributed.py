"""ag.distributed, DistributedDataParallel and DistributedSampler.

The multi-process checks live in tests/distributed_worker.py: each `mpiexec -n N` launch runs all of
them (one launch per N, so the MPI tests cost a few seconds), and every check is reported here as a
test of its own. Skipped only when mpi4py or mpiexec is missing: pip install 'autograd_core[distributed]'.

The mpiexec is the one launcher.find_mpiexec picks for mpi4py's MPI (beside the interpreter first, so
the mpich wheel's), or the one named by $AUTOGRAD_CORE_MPIEXEC, which a run against a system MPI sets:
    AUTOGRAD_CORE_MPIEXEC=/usr/bin/mpiexec.openmpi python -m pytest tests/test_distributed.py
"""
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import pytest

import autograd_core as ag
import autograd_core.distributed as dist
from autograd_core import nn
from autograd_core.distributed import launcher
from autograd_core.utils.data.distributed import DistributedSampler

HERE = pathlib.Path(__file__).resolve().parent
WORKER = HERE / "distributed_worker.py"
ROOT = pathlib.Path(ag.__file__).resolve().parent.parent


def _find_mpi():
    """(mpi4py's Implementation, its mpiexec, why the MPI tests skip, why they fail), None where not
    applicable. They skip when the extra is missing: no mpi4py, no MPI library for it, or no mpiexec
    at all. They fail when the only mpiexecs there are belong to another MPI, or when the one named by
    $AUTOGRAD_CORE_MPIEXEC does: that installation is broken, and skipping would hide it."""
    extra = "pip install 'autograd_core[distributed]' (mpi4py and MPICH wheels)"
    if importlib.util.find_spec("mpi4py") is None:
        return None, None, f"mpi4py is not installed: {extra}", None
    try:
        library = launcher.mpi_library()
    except RuntimeError as exc:
        return None, None, f"mpi4py finds no MPI library ({str(exc).splitlines()[-1]}): {extra}", None
    if not os.environ.get(launcher.MPIEXEC_ENV) and not launcher.mpiexec_candidates():
        return library, None, f"no mpiexec on PATH for mpi4py's {library.name}: {extra}", None
    try:
        return library, launcher.find_mpiexec(library), None, None
    except RuntimeError as exc:
        return library, None, None, str(exc)


LIBRARY, MPIEXEC, SKIP_REASON, SETUP_ERROR = _find_mpi()
needs_mpi = pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")
LAUNCH_TIMEOUT = 120  # seconds; a launch normally takes 1-3 s


def _check_names():
    spec = importlib.util.spec_from_file_location("distributed_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [fn.__name__ for fn in module.CHECKS]


CHECK_NAMES = _check_names()


def _launch_env():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1")
    # Open MPI's mpiexec refuses more processes than cores (3 ranks on CI's 2) and, without these
    # two, refuses to run as root (CI does); MPICH's ignores them
    env.update(OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def _launch(n, scenario, timeout=LAUNCH_TIMEOUT, mpiexec=None):
    if SETUP_ERROR is not None:
        pytest.fail(f"mpi4py is installed but cannot be launched: {SETUP_ERROR}")
    return subprocess.run([mpiexec or MPIEXEC, "-n", str(n), sys.executable, str(WORKER), scenario],
                          env=_launch_env(), check=False, capture_output=True, text=True, timeout=timeout)


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
    started = time.monotonic()
    proc = _launch(2, "crash", timeout=60)
    assert time.monotonic() - started < 40, "the other rank was left waiting"
    assert proc.returncode != 0
    assert "rank 1 fails on purpose" in proc.stderr
    assert "aborting all 2 ranks" in proc.stderr
    assert "UNREACHABLE" not in proc.stdout


@needs_mpi
def test_mpi_collective_past_the_timeout_aborts_the_job():
    started = time.monotonic()
    proc = _launch(2, "timeout", timeout=60)
    assert time.monotonic() - started < 40, "the sleeping rank kept the job alive (rank 1 sleeps 60 s)"
    assert proc.returncode != 0
    assert "waited more than 1 s in all_reduce" in proc.stderr
    assert "UNREACHABLE" not in proc.stdout


def _other_family_mpiexec():
    for path in launcher.mpiexec_candidates():
        impl = launcher.mpiexec_implementation(path)
        if impl.family is not None and impl.family != LIBRARY.family:
            return path
    return None


@needs_mpi
def test_mpi_mpiexec_of_another_implementation_is_named():
    other = _other_family_mpiexec() if LIBRARY is not None else None
    if other is None:
        pytest.skip(f"no mpiexec of an MPI other than mpi4py's ({LIBRARY}) is installed here")
    proc = _launch(2, "crash", timeout=60, mpiexec=other)
    assert proc.returncode != 0
    assert "was started as rank" in proc.stderr and "of 2" in proc.stderr, proc.stderr
    assert "different MPI implementations" in proc.stderr, proc.stderr
    assert LIBRARY.name in proc.stderr
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


# ------------------------------------------------------------------ which MPI, which mpiexec


@pytest.mark.parametrize(("text", "family", "name", "version"), [
    ("MPICH Version:      4.0.2\nMPICH Release date: Thu Apr  7 2022\n", "mpich", "MPICH", "4.0.2"),
    ("Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, repo rev: v4.1.4", "openmpi", "Open MPI", "4.1.4"),
    ("Intel(R) MPI Library 2021.10 for Linux* OS, Version 2021.10 Build 2023", "mpich", "Intel MPI", "2021.10"),
    ("MVAPICH2 Version      :\t2.3.7\nMVAPICH2 Release date\t:", "mpich", "MVAPICH", "2.3.7"),
    ("MPI VERSION    : CRAY MPICH version 8.1.25.17 (ANL base 3.4a2)", "mpich", "Cray MPICH", "8.1.25.17"),
    ("Something MPI 1.0", None, "Something MPI 1.0", ""),
])
def test_mpi_library_text_names_the_family(text, family, name, version):
    assert launcher._classify(text, launcher._LIBRARY_PATTERNS) == (family, name, version)


@pytest.mark.parametrize(("text", "family", "version"), [
    ("HYDRA build details:\n    Version:                                 4.0.2\n    Release Date: x", "mpich", "4.0.2"),
    ("mpiexec.openmpi (OpenRTE) 4.1.4\n\nReport bugs to http://www.open-mpi.org/community/help/", "openmpi",
     "4.1.4"),
    ("mpiexec (Open MPI) 5.0.3\n\nReport bugs to https://www.open-mpi.org/community/help/", "openmpi", "5.0.3"),
    ("prterun (PRRTE) 3.0.5", "openmpi", "3.0.5"),
    ("", None, ""),
])
def test_mpiexec_version_text_names_the_family(text, family, version):
    found = launcher._classify(text, launcher._LAUNCHER_PATTERNS)
    assert (found.family, found.version) == (family, version)


def test_launched_world_reads_each_launchers_variables():
    assert launcher.launched_world({}) is None
    assert launcher.launched_world({"PMI_SIZE": "3", "PMI_RANK": "2"})[:3] == (3, 2, "mpich")
    found = launcher.launched_world({"OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_RANK": "0"})
    assert found[:3] == (4, 0, "openmpi") and "OMPI_COMM_WORLD_SIZE=4" in found.launcher
    assert launcher.launched_world({"PMI_SIZE": "junk"}) is None


def test_check_launch_names_both_implementations(monkeypatch):
    for var in [v for v in os.environ if v.startswith(("PMI_", "OMPI_COMM_WORLD_"))] + [launcher.MPIEXEC_ENV]:
        monkeypatch.delenv(var, raising=False)
    open_mpi = launcher.Implementation("openmpi", "Open MPI", "4.1.4")
    mpich = launcher.Implementation("mpich", "MPICH", "4.0.2")
    launcher.check_launch(open_mpi, 1)  # no launcher in the environment: a group of one is right
    monkeypatch.setenv("PMI_SIZE", "3")
    monkeypatch.setenv("PMI_RANK", "1")
    launcher.check_launch(mpich)  # before MPI_Init: the families agree
    launcher.check_launch(mpich, 3)  # and so do the sizes
    with pytest.raises(RuntimeError) as info:
        launcher.check_launch(open_mpi)  # before MPI_Init: the family alone tells
    text = str(info.value)
    assert "started as rank 1 of 3" in text and "PMI_SIZE=3" in text
    assert "Open MPI 4.1.4" in text and "different MPI implementations" in text
    assert "--no-binary mpi4py" in text and "python -m autograd_core.distributed" in text
    with pytest.raises(RuntimeError, match=r"rank 1 of 3 .*MPI sees a world of 1: mpi4py uses MPICH 4.0.2"):
        launcher.check_launch(mpich, 1)
    unknown = launcher.Implementation(None, "Some MPI 1.0", "")
    launcher.check_launch(unknown)
    with pytest.raises(RuntimeError, match="a world of 2"):
        launcher.check_launch(unknown, 2)


def test_find_mpiexec_checks_the_named_launcher(monkeypatch, tmp_path):
    monkeypatch.setenv(launcher.MPIEXEC_ENV, str(tmp_path / "no-such-mpiexec"))
    with pytest.raises(RuntimeError, match="AUTOGRAD_CORE_MPIEXEC=.*no such executable"):
        launcher.find_mpiexec(launcher.Implementation("mpich", "MPICH", "4.0.2"))
    fake = tmp_path / "mpiexec"
    fake.write_text("#!/bin/sh\necho 'mpiexec (OpenRTE) 4.1.4'\n")
    fake.chmod(0o755)
    monkeypatch.setenv(launcher.MPIEXEC_ENV, str(fake))
    assert launcher.find_mpiexec(launcher.Implementation("openmpi", "Open MPI", "4.1.4")) == str(fake)
    with pytest.raises(RuntimeError, match="is Open MPI 4.1.4, but mpi4py uses MPICH 4.0.2: mpiexec and mpi4py "
                                           "belong to different MPI implementations"):
        launcher.find_mpiexec(launcher.Implementation("mpich", "MPICH", "4.0.2"))


def test_find_mpiexec_prefers_mpi4pys_family(monkeypatch, tmp_path):
    monkeypatch.delenv(launcher.MPIEXEC_ENV, raising=False)
    for name, text in (("mpiexec", "mpiexec (OpenRTE) 4.1.4"), ("mpiexec.mpich", "HYDRA build details:\n  Version: 4.0.2"),
                       ("mpiexec.hydra", "HYDRA build details:\n  Version: 5.0.2")):
        fake = tmp_path / name
        fake.write_text(f"#!/bin/sh\nprintf '{text}\\n'\n")
        fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert launcher.find_mpiexec(launcher.Implementation("mpich", "MPICH", "4.0.2")) == str(tmp_path / "mpiexec.mpich")
    assert launcher.find_mpiexec(launcher.Implementation("mpich", "MPICH", "5.0.2")) == str(tmp_path / "mpiexec.hydra")
    assert launcher.find_mpiexec(launcher.Implementation("mpich", "MPICH", "4.1")) == str(tmp_path / "mpiexec.mpich")
    assert launcher.find_mpiexec(launcher.Implementation("openmpi", "Open MPI", "4")) == str(tmp_path / "mpiexec")
    with pytest.raises(RuntimeError, match=r"no mpiexec for mpi4py's MPI \(Microsoft MPI 10\)"):
        launcher.find_mpiexec(launcher.Implementation("msmpi", "Microsoft MPI", "10"))


def test_distributed_report_runs():
    text = launcher.report()
    if importlib.util.find_spec("mpi4py") is None:
        assert "pip install" in text
    else:
        assert text.startswith("mpi4py ") and " uses " in text


def test_import_failures_are_explained():
    missing = launcher.explain_import_failure(ModuleNotFoundError("No module named 'mpi4py'"))
    assert "pip install 'autograd_core[distributed]'" in missing
    shadowed = launcher.explain_import_failure("ImportError: .../MPI.so: undefined symbol: ompi_mpi_logical8")
    assert "built against another MPI" in shadowed and "ompi_mpi_logical8" in shadowed and "ldd" in shadowed
    no_library = launcher.explain_import_failure("cannot load MPI library\nlibmpi.so: cannot open shared object file")
    assert "finds no MPI library" in no_library and "MPI4PY_LIBMPI" in no_library


def test_init_process_group_without_an_mpi_library_says_so():
    spec = importlib.util.find_spec("mpi4py")
    package = pathlib.Path(spec.origin).parent if spec is not None else None
    if package is None or not any(package.glob("MPI.mpich.*")):  # one compiled module per MPI family
        pytest.skip("only mpi4py's own wheels choose their MPI library at run time (MPI4PY_LIBMPI)")
    env = dict(os.environ, MPI4PY_LIBMPI="/nonexistent/libmpi.so",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", "import autograd_core.distributed as d; d.init_process_group()"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert "RuntimeError: mpi4py finds no MPI library" in proc.stderr and "/nonexistent/libmpi.so" in proc.stderr
