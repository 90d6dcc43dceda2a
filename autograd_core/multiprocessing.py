"""ag.multiprocessing: importable where programs import torch.multiprocessing. It is Python's
multiprocessing (every name re-exported) plus PyTorch's additions: the sharing-strategy functions
and spawn / start_processes.

Tensors sent between processes are pickled (copied); there is no shared-memory tensor transport,
so `Tensor.share_memory_()` and `Module.share_memory()` are no-ops. Hogwild-style training, where
processes update one shared model in place, therefore does not share updates here.
"""
import multiprocessing as _mp
import sys as _sys
import traceback as _traceback
from multiprocessing import *

__all__ = [name for name in dir(_mp) if not name.startswith("_")] + [
    "get_sharing_strategy", "set_sharing_strategy", "get_all_sharing_strategies", "spawn", "start_processes",
    "ProcessContext", "ProcessRaisedException", "ProcessExitedException"]

_STRATEGIES = ("file_descriptor", "file_system")
_strategy = "file_descriptor"


def get_all_sharing_strategies():
    return set(_STRATEGIES)


def get_sharing_strategy():
    return _strategy


def set_sharing_strategy(new_strategy):
    """Recorded for compatibility; tensors are pickled between processes whatever the strategy."""
    global _strategy
    if new_strategy not in _STRATEGIES:
        raise ValueError(f"set_sharing_strategy: unknown strategy {new_strategy!r}; expected one of {_STRATEGIES}")
    _strategy = new_strategy


class ProcessRaisedException(Exception):
    """A process started by spawn raised; the message holds its traceback."""

    def __init__(self, msg, error_index, error_pid):
        super().__init__(msg)
        self.error_index = error_index
        self.pid = error_pid


class ProcessExitedException(Exception):
    """A process started by spawn exited with a non-zero code (killed, or sys.exit)."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg)
        self.error_index = error_index
        self.pid = error_pid
        self.exit_code = exit_code
        self.signal_name = signal_name


def _wrap(fn, i, args, error_queue):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:  # noqa: BLE001  (any failure goes back to the parent with its traceback)
        error_queue.put(_traceback.format_exc())
        _sys.exit(1)


class ProcessContext:
    """The processes of one spawn call: join() waits for them, raising when one failed."""

    def __init__(self, processes, error_queues):
        self.processes = processes
        self.error_queues = error_queues

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None):
        """Wait for the processes; True when all have finished. The first failure terminates the
        others and raises ProcessRaisedException (with the traceback) or ProcessExitedException."""
        for index, process in enumerate(self.processes):
            process.join(timeout)
            if process.exitcode not in (None, 0):
                for other in self.processes:
                    if other.is_alive():
                        other.terminate()
                    other.join()
                queue = self.error_queues[index]
                if not queue.empty():
                    raise ProcessRaisedException(f"\n\n-- Process {index} terminated with the following error:\n"
                                                 f"{queue.get()}", index, process.pid)
                code = process.exitcode
                raise ProcessExitedException(f"process {index} terminated with exit code {code}", index,
                                             process.pid, code)
        return all(p.exitcode is not None for p in self.processes)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Run fn(i, *args) in nprocs new processes, i = 0 .. nprocs - 1. join=True waits (raising if one
    failed); join=False returns the ProcessContext."""
    context = _mp.get_context(start_method)
    processes, queues = [], []
    for i in range(nprocs):
        error_queue = context.SimpleQueue()
        process = context.Process(target=_wrap, args=(fn, i, args, error_queue), daemon=daemon)
        process.start()
        processes.append(process)
        queues.append(error_queue)
    ctx = ProcessContext(processes, queues)
    if not join:
        return ctx
    while not ctx.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """As start_processes, with the 'spawn' start method by default (PyTorch's spawn)."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
