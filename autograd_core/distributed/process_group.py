"""The default process group over MPI: one process per rank, started by `mpiexec -n N python train.py`.

MPI (through mpi4py) gives each process its rank and the world size; the group works on a duplicate
of MPI_COMM_WORLD, so the user's own mpi4py traffic never mixes with ours. init_process_group
installs an excepthook that aborts the whole job (MPI_Abort) when one rank dies of an uncaught
exception: without it the other ranks would wait in their next collective forever.
"""
import datetime
import importlib.util
import numbers
import sys
import threading
import time

from .launcher import check_launch, import_mpi, mpi_library

__all__ = ["GroupMember", "barrier", "destroy_process_group", "get_backend", "get_rank", "get_world_size",
           "group", "init_process_group", "is_available", "is_initialized", "is_mpi_available"]


class _World:
    """State of the default group: the communicator, rank and size (None when not initialised)."""

    comm = None
    rank = -1
    size = -1
    previous_excepthook = None
    watchdog = None


_world = _World()


class _GroupWorld:
    """`dist.group.WORLD`: stands for the default group wherever a `group=` argument is taken."""

    def __repr__(self):
        return "autograd_core.distributed.group.WORLD"


class group:
    """Names for process groups, as in ``torch.distributed``: ``group.WORLD`` is the default group of
    every process (also ``GroupMember.WORLD``).
    """

    WORLD = _GroupWorld()


GroupMember = group


def is_available():
    """True when the MPI backend can be used (mpi4py is installed); does not start MPI."""
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available():
    """True when the MPI backend can be used: the same as :func:`is_available`."""
    return is_available()


def is_initialized():
    """True between :func:`init_process_group` and :func:`destroy_process_group`."""
    return _world.comm is not None


_MPI = []  # the mpi4py.MPI module once imported (importing it starts MPI)


def _mpi():
    if _MPI:
        return _MPI[0]
    MPI = import_mpi()  # raises RuntimeError saying what is missing
    _MPI.append(MPI)
    return MPI


def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Join the default process group: rank and world size come from MPI (start the job with
    `mpiexec -n N python script.py`; run alone, it is a group of one).

    world_size / rank, if given, must agree with MPI's. timeout (a datetime.timedelta or seconds):
    if a collective waits longer than this, the whole job is aborted with a message naming it (the
    default, None, waits forever, as MPI does).
    """
    if backend is None:
        backend = "mpi"
    if str(backend).lower() != "mpi":
        raise ValueError(f"init_process_group: backend {backend!r} is not available; autograd_core runs its "
                         "collectives over MPI only: use backend='mpi' (gloo and nccl are PyTorch's)")
    if init_method not in (None, "env://") or store is not None:
        raise ValueError("init_process_group: with the MPI backend, mpiexec starts the processes and tells each "
                         "its rank; init_method and store are not used (leave them unset)")
    if is_initialized():
        raise RuntimeError("trying to initialize the default process group twice!")
    seconds = _timeout_seconds(timeout)
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()
    try:
        check_launch(mpi_library(), comm.Get_size())
    except RuntimeError:
        comm.Free()
        raise
    if world_size not in (-1, None) and world_size != comm.Get_size():
        comm.Free()
        raise ValueError(f"init_process_group: world_size={world_size} but mpiexec started {comm.Get_size()} "
                         "processes (launch with mpiexec -n WORLD_SIZE, or leave world_size unset)")
    if rank not in (-1, None) and rank != comm.Get_rank():
        comm.Free()
        raise ValueError(f"init_process_group: rank={rank} but MPI gave this process rank {comm.Get_rank()} "
                         "(leave rank unset: MPI assigns it)")
    _world.comm, _world.rank, _world.size = comm, comm.Get_rank(), comm.Get_size()
    _world.previous_excepthook = sys.excepthook
    sys.excepthook = _abort_on_uncaught
    if seconds is not None:
        _world.watchdog = _Watchdog(seconds)


def _timeout_seconds(timeout):
    if timeout is None:
        return None
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    if not isinstance(timeout, numbers.Real) or isinstance(timeout, bool) or not timeout > 0:
        raise ValueError(f"init_process_group: timeout must be a positive datetime.timedelta or number of seconds, "
                         f"got {timeout!r}")
    return float(timeout)


def _abort_on_uncaught(exc_type, exc, tb):
    """sys.excepthook while the group is up: report the error, then bring the whole job down."""
    hook = _world.previous_excepthook or sys.__excepthook__
    hook(exc_type, exc, tb)
    comm = _world.comm
    if comm is None or _world.size == 1 or issubclass(exc_type, KeyboardInterrupt):
        return
    sys.stderr.write(f"autograd_core.distributed: rank {_world.rank} raised {exc_type.__name__}; aborting all "
                     f"{_world.size} ranks (MPI_Abort)\n")
    sys.stderr.flush()
    sys.stdout.flush()
    # mpiexec forwards a rank's output asynchronously and MPI_Abort tears the job down at once: without
    # a moment to drain, the last lines written (this notice) were lost in about 1 run in 20
    time.sleep(0.2)
    _abort_job()


def _abort_job():
    """MPI_Abort on MPI_COMM_WORLD, not on the group's duplicate: MPICH 4.0 (Debian 12's) then ends
    only the calling process, and a rank asleep outside MPI would keep the job alive."""
    _mpi().COMM_WORLD.Abort(1)


def _require_group(op):
    if _world.comm is None:
        raise RuntimeError(f"{op}: the default process group has not been initialized; call "
                           "autograd_core.distributed.init_process_group(backend='mpi') first")
    return _world


def _check_group(group_arg, op):
    if group_arg is not None and group_arg is not group.WORLD:
        raise ValueError(f"{op}: only the default group (group=None or group.WORLD) is supported, got {group_arg!r}")


def get_rank(group=None):
    """This process's rank in the default group (0 .. world_size - 1)."""
    _check_group(group, "get_rank")
    return _require_group("get_rank").rank


def get_world_size(group=None):
    """How many processes the default group has."""
    _check_group(group, "get_world_size")
    return _require_group("get_world_size").size


def get_backend(group=None):
    """The backend of the process group: ``'mpi'``. Raises if no group was initialised."""
    _check_group(group, "get_backend")
    _require_group("get_backend")
    return "mpi"


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank has reached this call."""
    _check_group(group, "barrier")
    world = _require_group("barrier")
    if async_op:
        return Work(world.comm.Ibarrier(), "barrier")
    with _watch("barrier"):
        world.comm.Barrier()
    return None


def destroy_process_group(group=None):
    """Leave the default group (MPI itself stays up until the process exits, so the group can be
    initialised again)."""
    _check_group(group, "destroy_process_group")
    world = _require_group("destroy_process_group")
    if world.watchdog is not None:
        world.watchdog.stop()
        world.watchdog = None
    comm = world.comm
    world.comm, world.rank, world.size = None, -1, -1
    if sys.excepthook is _abort_on_uncaught:
        sys.excepthook = world.previous_excepthook or sys.__excepthook__
    world.previous_excepthook = None
    comm.Free()


class _Watchdog:
    """A daemon thread that aborts the job when one collective has waited longer than the timeout
    (mpi4py releases the GIL inside MPI calls, so the thread runs while the main one waits)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.current = None  # (name, start time) of the collective being waited on
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="autograd_core-dist-watchdog", daemon=True)
        self.thread.start()

    def _run(self):
        period = min(1.0, self.seconds / 4)
        while not self.stopped.wait(period):
            current = self.current
            if current is not None and time.monotonic() - current[1] > self.seconds:
                sys.stderr.write(f"autograd_core.distributed: rank {_world.rank} waited more than {self.seconds:g} s "
                                 f"in {current[0]} (another rank failed or never called it); aborting the job\n")
                sys.stderr.flush()
                if _world.comm is not None:
                    _abort_job()

    def stop(self):
        self.stopped.set()


def _watched():
    return _world.watchdog is not None


class _watch:
    """Context manager marking a blocking MPI call for the watchdog (a no-op without a timeout)."""

    __slots__ = ("name", "watchdog")

    def __init__(self, name):
        self.name = name
        self.watchdog = _world.watchdog

    def __enter__(self):
        if self.watchdog is not None:
            self.watchdog.current = (self.name, time.monotonic())

    def __exit__(self, *exc):
        if self.watchdog is not None:
            self.watchdog.current = None
        return False


class Work:
    """The handle of a collective started with async_op=True: wait() completes it (and writes the
    results into the output tensors); is_completed() polls without blocking."""

    def __init__(self, request, name, finish=None, outputs=(), keep=()):
        self._request, self._name, self._finish = request, name, finish
        self._outputs, self._keep = list(outputs), keep
        self._done = False

    def _complete(self):
        self._done = True
        self._request = self._keep = None
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def is_completed(self):
        """True once the operation has finished (its outputs are then final)."""
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def wait(self, timeout=None):
        """Block until the operation has finished; timeout (seconds or timedelta): raise a
        RuntimeError instead of waiting longer."""
        if self._done:
            return True
        if timeout is None:
            with _watch(self._name):
                self._request.Wait()
        else:
            seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout)
            deadline = time.monotonic() + seconds
            while not self._request.Test():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Work.wait: {self._name} did not finish within {seconds:g} s")
                time.sleep(1e-4)
        self._complete()
        return True

    def is_success(self):
        """True when the operation has completed (it raises instead if it failed)."""
        return self._done

    def result(self):
        """The output tensors (after wait())."""
        self.wait()
        return self._outputs

    def __repr__(self):
        return f"<Work {self._name} {'completed' if self._done else 'pending'}>"
