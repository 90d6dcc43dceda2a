"""Which MPI is which: the library mpi4py loads, the mpiexec that started this process, and an
mpiexec that can start processes for that library.

MPI standardises the library, not the launcher. Each implementation's mpiexec tells its processes
their rank through its own channel: MPICH's hydra (also Intel MPI's and MVAPICH's) through PMI,
which leaves PMI_RANK and PMI_SIZE in the environment; Open MPI through its own runtime, which leaves
OMPI_COMM_WORLD_RANK and OMPI_COMM_WORLD_SIZE. A library started by the other family's mpiexec
either aborts inside MPI_Init with a message about PMI or PMIx (MPICH under Open MPI's), or does not
find its launcher and comes up alone, so that `mpiexec -n 4` runs four single-process jobs that each
train on all the data. That is the classic failure of a mpi4py built for one MPI next to another
MPI's mpiexec on PATH. import_mpi and init_process_group turn it into an error naming both, before
MPI_Init from the launcher's family and after it from the world size (check_launch).

    python -m autograd_core.distributed     # what mpi4py uses, and which mpiexec matches it
"""
import collections
import os
import pathlib
import re
import shutil
import subprocess
import sys

__all__ = ["MPIEXEC_ENV", "Implementation", "Launch", "check_launch", "explain_import_failure", "find_mpiexec",
           "import_mpi", "launched_world", "mpi_library", "mpiexec_candidates", "mpiexec_implementation", "report"]

MPIEXEC_ENV = "AUTOGRAD_CORE_MPIEXEC"  # names the mpiexec to use; find_mpiexec and the tests honour it

Implementation = collections.namedtuple("Implementation", "family name version")
Implementation.__doc__ = """An MPI implementation: family is "mpich" (MPICH and the MPIs whose mpiexec
speaks PMI: Intel MPI, MVAPICH, Cray MPICH), "openmpi", "msmpi" or None when not recognised; name
and version as the library or launcher reports them."""

Launch = collections.namedtuple("Launch", "size rank family launcher")
Launch.__doc__ = """How this process was started, read from the environment its launcher left:
size and rank, the launcher's family (as in Implementation) and a description naming its variables."""

_LIBRARY_PATTERNS = [  # (regex on MPI_Get_library_version's text, family, name); first match wins
    (r"Open MPI v?([\d.]+\w*)", "openmpi", "Open MPI"),
    (r"Intel\(R\) MPI Library[^\n]*?Version ([\d.]+)", "mpich", "Intel MPI"),
    (r"MVAPICH2? Version\s*:\s*([\d.]+\w*)", "mpich", "MVAPICH"),
    (r"CRAY MPICH version ([\d.]+)", "mpich", "Cray MPICH"),
    (r"MPICH Version\s*:\s*([\d.]+\w*)", "mpich", "MPICH"),
    (r"Microsoft MPI[^\n]*?([\d.]+)", "msmpi", "Microsoft MPI"),
]
_LAUNCHER_PATTERNS = [  # (regex on `mpiexec --version`, family, name)
    (r"\(Open(?:RTE| MPI)\)\s*([\d.]+\w*)", "openmpi", "Open MPI"),
    (r"PRRTE\)?\s*([\d.]+\w*)", "openmpi", "Open MPI (PRRTE)"),
    (r"Intel\(R\) MPI Library[^\n]*?Version ([\d.]+)", "mpich", "Intel MPI (hydra)"),
    (r"HYDRA build details:\s*\n\s*Version:\s*([\d.]+\w*)", "mpich", "MPICH (hydra)"),
    (r"Microsoft MPI[^\n]*?([\d.]+)", "msmpi", "Microsoft MPI"),
]
_CONSEQUENCE = "MPI would abort at start-up or each process would come up alone, as rank 0 of 1"
_FAMILY_NAMES = {"mpich": "an MPICH-family (hydra, PMI)", "openmpi": "an Open MPI", "msmpi": "a Microsoft MPI"}
# Debian/Ubuntu install each MPI's launcher under its own name beside the `mpiexec` alternative
_FAMILY_LAUNCHERS = {"mpich": ["mpiexec.mpich", "mpiexec.hydra"], "openmpi": ["mpiexec.openmpi"]}


def _classify(text, patterns):
    for pattern, family, name in patterns:
        found = re.search(pattern, text)
        if found:
            return Implementation(family, name, found.group(1))
    first = text.strip().splitlines()[0].strip() if text.strip() else "unknown"
    return Implementation(None, first, "")


def _describe(impl):
    return f"{impl.name} {impl.version}".strip()


def launched_world(environ=None):
    """The Launch this process's environment describes, or None when no mpiexec started it."""
    env = os.environ if environ is None else environ
    for size_var, rank_var, family, launcher in (
            ("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "openmpi", "Open MPI's mpiexec"),
            ("PMI_SIZE", "PMI_RANK", "mpich", "a PMI launcher (MPICH's or Intel MPI's hydra mpiexec, or srun)")):
        size = env.get(size_var)
        if size is not None and size.strip().isdigit():
            rank = env.get(rank_var, "")
            return Launch(int(size), int(rank) if rank.strip().isdigit() else -1, family,
                          f"{launcher}; {size_var}={size} in the environment")
    return None


_LIBRARY_PROBE = ("import mpi4py\nmpi4py.rc.initialize = False\nmpi4py.rc.finalize = False\n"
                  "from mpi4py import MPI\nprint(MPI.Get_library_version())")


def mpi_library(python=None):
    """The Implementation of the MPI library mpi4py loads. Without `python` it asks this process's
    mpi4py.MPI when it is already imported, else a short child process (so that MPI is not started
    here just to ask); with `python` (an interpreter's path), that interpreter's mpi4py.
    Raises RuntimeError saying why when mpi4py.MPI cannot be imported."""
    if python is None and "mpi4py.MPI" in sys.modules:
        return _classify(sys.modules["mpi4py.MPI"].Get_library_version(), _LIBRARY_PATTERNS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_", "PMIX_"))}
    proc = subprocess.run([python or sys.executable, "-c", _LIBRARY_PROBE], capture_output=True, text=True,
                          timeout=60, check=False, env=env)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        starts = [i for i, line in enumerate(lines) if re.match(r"\w+(Error|Exception)\b", line)]
        message = "\n".join(lines[starts[-1]:] if starts else lines[-3:])  # the exception, not the traceback
        raise RuntimeError(f"{python or sys.executable}: {explain_import_failure(message)}")
    return _classify(proc.stdout, _LIBRARY_PATTERNS)


def explain_import_failure(message):
    """What to do when `from mpi4py import MPI` failed with `message` (an exception's text)."""
    message = str(message)
    if "No module named 'mpi4py'" in message:
        return ("autograd_core.distributed needs mpi4py and an MPI library: pip install 'autograd_core[distributed]' "
                "(mpi4py and MPICH wheels), or build mpi4py against your system's MPI (docs/distributed.md)")
    if "undefined symbol" in message:
        return (f"mpi4py.MPI cannot be imported: {message}. Its compiled module was built against another MPI "
                "than the library it loads now: a libmpi found first on the library path (an mpich wheel in "
                "the interpreter's lib directory, LD_LIBRARY_PATH) shadows the one mpi4py was built for. Check "
                "with ldd on mpi4py/MPI*.so, and rebuild mpi4py so that it links the MPI you launch with "
                "(docs/distributed.md, 'With the system's MPI')")
    if "cannot load MPI library" in message:
        return (f"mpi4py finds no MPI library: {message}. pip install mpich, or install your system's MPI and "
                "name its library if it is not found: MPI4PY_LIBMPI=/path/to/libmpi.so")
    return f"mpi4py.MPI cannot be imported: {message}"


def mpiexec_implementation(path):
    """The Implementation an mpiexec belongs to, from its --version (family None if unrecognised)."""
    try:
        proc = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30, check=False,
                              stdin=subprocess.DEVNULL)
    except OSError as exc:
        return Implementation(None, f"cannot run {path}: {exc}", "")
    except subprocess.TimeoutExpired:
        return Implementation(None, f"{path} --version did not answer within 30 s", "")
    return _classify(proc.stdout + proc.stderr, _LAUNCHER_PATTERNS)


def mpiexec_candidates():
    """mpiexec paths in the order they are tried: beside the interpreter (a venv's or the mpich wheel's),
    `mpiexec` on PATH, then each family's Debian name."""
    seen, found = set(), []
    beside = str(pathlib.Path(sys.executable).parent)
    names = [("mpiexec", beside), ("mpiexec", None)]
    names += [(name, None) for family in _FAMILY_LAUNCHERS.values() for name in family]
    for name, path in names:
        where = shutil.which(name, path=path) if path else shutil.which(name)
        if where is not None:
            real = os.path.realpath(where)
            if real not in seen:
                seen.add(real)
                found.append(where)
    return found


def find_mpiexec(library=None):
    """The path of an mpiexec that starts processes mpi4py's MPI understands.

    $AUTOGRAD_CORE_MPIEXEC wins when set (it must exist and, if its family is recognised, match).
    Otherwise a candidate of mpi4py's family, of the library's own version if there is one (the same
    installation), in this order: beside the interpreter, `mpiexec` on PATH, then mpiexec.mpich /
    mpiexec.hydra / mpiexec.openmpi. library: mpi4py's Implementation if already known. Raises RuntimeError naming what was found when none fits.
    """
    library = library or mpi_library()
    named = os.environ.get(MPIEXEC_ENV)
    if named:
        path = shutil.which(named)
        if path is None:
            raise RuntimeError(f"{MPIEXEC_ENV}={named!r}: no such executable")
        launcher = mpiexec_implementation(path)
        if None not in (launcher.family, library.family) and launcher.family != library.family:
            raise RuntimeError(_mismatch_text(f"{MPIEXEC_ENV}={named}", launcher, library))
        return path
    tried, fitting = [], []
    for path in mpiexec_candidates():
        launcher = mpiexec_implementation(path)
        if library.family is None or launcher.family == library.family:
            if launcher.version == library.version:
                return path
            fitting.append(path)
        tried.append(f"  {path}: {_describe(launcher)}")
    if fitting:
        return fitting[0]
    raise RuntimeError(f"no mpiexec for mpi4py's MPI ({_describe(library)}) was found"
                       + (":\n" + "\n".join(tried) if tried else " (none on PATH)")
                       + f"\ninstall that MPI's launcher, or name it in ${MPIEXEC_ENV}")


def _mismatch_text(what, launcher, library):
    return (f"{what} is {_describe(launcher)}, but mpi4py uses {_describe(library)}: mpiexec and mpi4py belong to "
            f"different MPI implementations, so {_CONSEQUENCE}")


def check_launch(library, world_size=None):
    """Raise RuntimeError when mpi4py's MPI (library, an Implementation) cannot belong to the launch
    this process's environment describes: the launcher is of another family, or (world_size, once MPI
    is up) it started more processes than MPI sees."""
    launch = launched_world()
    if launch is None:
        return
    other_family = library.family is not None and library.family != launch.family
    if not other_family and (world_size is None or world_size == launch.size):
        return
    if other_family:
        cause = (f"mpi4py uses {_describe(library)}, which does not understand {_FAMILY_NAMES[launch.family]} "
                 f"launcher: mpiexec and mpi4py belong to different MPI implementations, so {_CONSEQUENCE}")
    else:
        cause = (f"MPI sees a world of {world_size}: mpi4py uses {_describe(library)}, which did not join the other "
                 "processes (another MPI's mpiexec, or a nested launch?), so each process came up alone")
    try:
        hint = f"launch with {find_mpiexec(library)}"
    except (RuntimeError, subprocess.SubprocessError):
        hint = "launch with that MPI's own mpiexec"
    raise RuntimeError(
        f"init_process_group: this process was started as rank {launch.rank} of {launch.size} ({launch.launcher}), "
        f"but {cause}. Either {hint}, or build mpi4py against the MPI whose mpiexec you use: "
        "MPICC=/path/to/that/mpicc pip install --no-binary mpi4py mpi4py (mpi4py's own wheels can load "
        "another MPI library instead: MPI4PY_LIBMPI=/path/to/libmpi.so). "
        "`python -m autograd_core.distributed` shows which mpiexec matches mpi4py.")


_THREAD_LEVELS = {"single": "THREAD_SINGLE", "funneled": "THREAD_FUNNELED", "serialized": "THREAD_SERIALIZED",
                  "multiple": "THREAD_MULTIPLE"}


def import_mpi():
    """Import mpi4py.MPI, which starts MPI. Started by an mpiexec, look at the library before MPI_Init:
    under another MPI's launcher, MPI_Init aborts with an error about PMI or PMIx that does not say
    why, so check_launch raises first. Otherwise MPI starts as mpi4py would start it at import (its
    mpi4py.rc thread level, finalized at exit). Raises RuntimeError saying why when mpi4py or its MPI
    library cannot be loaded."""
    try:
        import mpi4py  # optional extra [distributed]; imported only by programs that use MPI
    except ImportError as exc:
        raise RuntimeError(explain_import_failure(exc)) from exc
    rc = mpi4py.rc
    if "mpi4py.MPI" in sys.modules or not rc.initialize or launched_world() is None:
        return _load_mpi()
    if rc.finalize is None:
        rc.finalize = True  # MPI_Init is called below, not at import: still finalize at exit
    rc.initialize = False
    try:
        MPI = _load_mpi()
    finally:
        rc.initialize = True
    check_launch(mpi_library())
    if rc.threads:
        MPI.Init_thread(getattr(MPI, _THREAD_LEVELS[rc.thread_level]))
    else:
        MPI.Init()
    return MPI


def _load_mpi():
    try:
        from mpi4py import MPI  # optional extra; importing it initialises MPI
    except (ImportError, RuntimeError) as exc:  # mpi4py's wheels raise RuntimeError when no libmpi loads
        raise RuntimeError(explain_import_failure(exc)) from exc
    return MPI


def report():
    """A few lines on mpi4py's MPI and the mpiexecs found (python -m autograd_core.distributed)."""
    lines = []
    try:
        import mpi4py  # optional extra [distributed]; imported only by programs that use MPI
    except ImportError:
        return ("mpi4py is not installed: pip install 'autograd_core[distributed]' (mpi4py and MPICH wheels), "
                "or build it against your system's MPI: MPICC=mpicc pip install --no-binary mpi4py mpi4py")
    try:
        library = mpi_library()
    except RuntimeError as exc:
        return str(exc)
    lines.append(f"mpi4py {mpi4py.__version__} ({pathlib.Path(mpi4py.__file__).parent}) uses {_describe(library)}")
    for path in mpiexec_candidates():
        launcher = mpiexec_implementation(path)
        fits = ("matches" if launcher.family == library.family else
                f"does NOT match: {_CONSEQUENCE}") if library.family else "unknown"
        lines.append(f"  {path}: {_describe(launcher)} -> {fits}")
    try:
        lines.append(f"launch with: {find_mpiexec(library)} -n N {pathlib.Path(sys.executable).name} script.py")
    except RuntimeError as exc:
        lines.append(str(exc))
    return "\n".join(lines)
