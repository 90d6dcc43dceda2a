"""DataLoader worker processes: the loop each worker runs, get_worker_info, the seeding rule, and
the wrapper that carries an exception (with its traceback) back to the main process.

Seeding, as PyTorch: each iterator draws a base seed; worker i seeds autograd_core's global
generator and Python's `random` with base_seed + i, and NumPy's legacy global generator with a
state derived from both, so workers draw different random numbers and a run is reproducible.
Workers run kernels on one thread (as PyTorch's do): the processes already use the cores.
"""
import random
import sys
import traceback

import numpy as np

from ..._core import set_num_threads
from ...ops.creation import manual_seed

__all__ = ["WorkerInfo", "get_worker_info"]

_worker_info = None


class WorkerInfo:
    """In a worker: id (0 .. num_workers - 1), num_workers, seed, and dataset (this worker's copy)."""

    __slots__ = ("dataset", "id", "num_workers", "seed")

    def __init__(self, id, num_workers, seed, dataset):
        self.id = id
        self.num_workers = num_workers
        self.seed = seed
        self.dataset = dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, dataset={type(self.dataset).__name__})"


def get_worker_info():
    """The WorkerInfo of this DataLoader worker process, or None in the main process."""
    return _worker_info


class ExceptionWrapper:
    """An exception raised in a worker, re-raised in the main process with the worker's traceback."""

    def __init__(self, where):
        exc_type, exc, tb = sys.exc_info()
        self.exc_type = exc_type
        self.message = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = where

    def reraise(self):
        message = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.message}"
        if self.exc_type is KeyError:
            message = KeyErrorMessage(message)
        try:
            exc = self.exc_type(message)
        except Exception:  # noqa: BLE001  (exceptions whose constructor takes other arguments)
            raise RuntimeError(message) from None
        raise exc


class KeyErrorMessage(str):
    """KeyError quotes its argument; this keeps a multi-line message readable."""

    def __repr__(self):
        return self


class IterationEnd:
    """Sent by a worker whose iterable dataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class Reset:
    """Sent to persistent workers at a new epoch: restart the iterable dataset's iterator."""


def seed_worker(base_seed, worker_id):
    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def worker_loop(fetcher_factory, dataset, index_queue, result_queue, base_seed, init_fn, worker_id, num_workers):
    """Run in a worker process until it reads None: take (task id, index) from index_queue, put
    (task id, batch or ExceptionWrapper or IterationEnd) on result_queue."""
    global _worker_info
    try:
        set_num_threads(1)
        seed = seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = fetcher_factory(dataset)
        except Exception:  # noqa: BLE001  (re-raised in the main process)
            init_error = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
        ended = False
        while True:
            task = index_queue.get()
            if task is None:
                break
            if isinstance(task, Reset):
                fetcher = fetcher_factory(dataset)
                ended = False
                result_queue.put((task, None))
                continue
            task_id, index = task
            if init_error is not None:
                data, init_error = init_error, None
                ended = True
            elif ended:
                data = IterationEnd(worker_id)
            else:
                try:
                    data = fetcher(index)
                except StopIteration:
                    data = IterationEnd(worker_id)
                    ended = True
                except Exception:  # noqa: BLE001  (re-raised in the main process)
                    data = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
            result_queue.put((task_id, data))
            del data
    except KeyboardInterrupt:
        pass
