"""DataLoader, as torch.utils.data.DataLoader: batches from a map-style dataset through a sampler
and a batch sampler, or from an iterable dataset, in this process or in worker processes.

With num_workers > 0, worker processes (the multiprocessing start method by default, fork on
Linux; `multiprocessing_context` to choose) each hold the dataset; the main process hands out
batches of indices round-robin, keeping prefetch_factor batches per worker in flight, and yields
the results in sampler order. Batches are the same as with num_workers=0 (same sampler order, same
collate), as long as __getitem__ does not itself draw random numbers (workers are seeded as
described in _worker.py). The workers' base seed is one draw from `generator` (or the global
generator) per epoch, taken after the sampler's draws: later random ops in the main process
(dropout) therefore see a stream one draw further on than with num_workers=0. (PyTorch draws it
in both modes; drawing it only for workers keeps this library's num_workers=0 stream unchanged.) Iterable datasets are read by every worker: shard them with
get_worker_info(). Batches travel between processes by pickling (a copy); pin_memory is accepted
and does nothing (CPU only).
"""
import itertools
import multiprocessing
import numbers
import queue
import warnings

from ...dtypes import int64 as _int64
from ...ops.creation import randint
from ...ops.creation import tensor as _tensor
from ...tensor import is_tensor
from . import _worker
from .collate import default_collate, default_convert
from .dataset import IterableDataset, TensorDataset, as_generator
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]

get_worker_info = _worker.get_worker_info

_POLL_SECONDS = 1.0


class _MapFetcher:
    """index (a list of indices when batching, else one index) -> batch."""

    def __init__(self, dataset, auto_collation, collate_fn, fast):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.fast = getattr(dataset, "_get_batch", None) if fast and auto_collation else None

    def __call__(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.fast is not None:
            return self.fast(_index_for_batch(index))
        getitems = getattr(self.dataset, "__getitems__", None)
        data = getitems(index) if getitems is not None else [self.dataset[i] for i in index]
        return self.collate_fn(data)


def _index_for_batch(indices):
    """A slice for consecutive indices (TensorDataset then returns views), else an int64 tensor."""
    indices = list(indices)
    first = indices[0] if indices else 0
    if indices == list(range(first, first + len(indices))):
        return slice(first, first + len(indices))
    return _tensor(indices, dtype=_int64)


class _IterableFetcher:
    """Draws the next batch (or sample) from an iterator over the dataset; StopIteration at the end
    (a short last batch is kept unless drop_last)."""

    def __init__(self, dataset, auto_collation, collate_fn, batch_size, drop_last):
        self.iterator = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __call__(self, index=None):
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        data = list(itertools.islice(self.iterator, self.batch_size))
        if not data or (self.drop_last and len(data) < self.batch_size):
            raise StopIteration
        return self.collate_fn(data)


class _FetcherFactory:
    """Picklable: builds the fetcher for a dataset (in a worker, or in this process)."""

    def __init__(self, iterable, auto_collation, collate_fn, fast, batch_size, drop_last):
        self.iterable = iterable
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.fast = fast
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __call__(self, dataset):
        if self.iterable:
            return _IterableFetcher(dataset, self.auto_collation, self.collate_fn, self.batch_size, self.drop_last)
        return _MapFetcher(dataset, self.auto_collation, self.collate_fn, self.fast)


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"DataLoader: {name} must be an integer >= {minimum}, got {value!r}")


class DataLoader:
    """Iterate over a dataset in mini-batches (PyTorch's arguments and semantics).

    batch_size: samples per batch; None: samples one at a time, not collated.
    shuffle: a new random order every epoch (a RandomSampler drawing from `generator`).
    sampler / batch_sampler: where the indices (or lists of indices) come from.
    collate_fn: joins a list of samples into a batch (default: default_collate).
    num_workers: worker processes (0: load in this process); prefetch_factor batches in flight per
        worker (default 2), persistent_workers keeps them across epochs, worker_init_fn(worker_id)
        runs in each worker after seeding, timeout (seconds, 0: none) bounds the wait for a batch.
    generator: an ag.Generator (or, beyond PyTorch, an int seed) for the shuffling and the workers'
        base seed; None uses the global generator, so ag.manual_seed makes runs reproducible.
    pin_memory: accepted, no effect (this library runs on the CPU).
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if isinstance(dataset, (tuple, list)) and dataset and all(
                is_tensor(t) or type(t).__name__ == "ndarray" for t in dataset):
            dataset = TensorDataset(*dataset)
        _check_int(num_workers, "num_workers", 0)
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified in multiprocessing; "
                             "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None")
        if prefetch_factor is None and num_workers > 0:
            prefetch_factor = 2
        if prefetch_factor is not None:
            _check_int(prefetch_factor, "prefetch_factor", 1)
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}")
        elif not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset must define __getitem__ (and __len__) or be an IterableDataset, "
                            f"got {type(dataset).__name__}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None:
            if drop_last:
                raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually "
                                 "exclusive with drop_last")
        else:
            _check_int(batch_size, "batch_size", 1)
        generator = as_generator(generator, "DataLoader")
        if sampler is None and not iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, bool(drop_last))
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.persistent_workers = bool(persistent_workers)
        self.in_order = in_order
        self._fast = collate_fn is None
        if collate_fn is None:
            collate_fn = default_collate if (self._auto_collation or iterable and batch_size) else default_convert
        self.collate_fn = collate_fn
        self._iterator = None

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    @property
    def _iterable(self):
        return isinstance(self.dataset, IterableDataset)

    def _fetcher_factory(self):
        auto = self._auto_collation or (self._iterable and self.batch_size is not None)
        return _FetcherFactory(self._iterable, auto, self.collate_fn, self._fast, self.batch_size, self.drop_last)

    def _base_seed(self):
        return int(randint(0, 2 ** 62, (1,), generator=self.generator).item())

    def __iter__(self):
        if self.num_workers == 0:
            return self._single_process()
        if self.persistent_workers:
            if self._iterator is None or not self._iterator.alive:
                self._iterator = _MultiProcessIter(self)
            else:
                self._iterator.reset(self)
            return self._iterator
        return _MultiProcessIter(self)

    def _single_process(self):
        fetch = self._fetcher_factory()(self.dataset)
        if self._iterable:
            while True:
                try:
                    batch = fetch()
                except StopIteration:
                    return
                yield batch
        elif self._whole_order_path(fetch):
            # a TensorDataset through the default samplers: the whole epoch's order at once, and
            # each batch one slice of it (the same batches the per-index path gives)
            sampler = self.batch_sampler.sampler
            n = len(sampler)
            order = sampler._order() if isinstance(sampler, RandomSampler) else None
            size = self.batch_size
            stop = (n // size) * size if self.drop_last else n
            for start in range(0, stop, size):
                end = min(start + size, n)
                yield fetch.fast(slice(start, end) if order is None else order[start:end])
        else:
            for index in self._index_sampler:
                yield fetch(index)

    def _whole_order_path(self, fetch):
        batch_sampler = self.batch_sampler
        return (getattr(fetch, "fast", None) is not None and type(batch_sampler) is BatchSampler
                and (type(batch_sampler.sampler) is SequentialSampler
                     or type(batch_sampler.sampler) is RandomSampler)
                and batch_sampler.sampler is self.sampler)

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)

    def __del__(self):
        it = getattr(self, "_iterator", None)
        if it is not None:
            it.shutdown()

    def __repr__(self):
        size = len(self.dataset) if hasattr(self.dataset, "__len__") and not self._iterable else "?"
        return (f"DataLoader({type(self.dataset).__name__} of {size}, batch_size={self.batch_size}, "
                f"num_workers={self.num_workers}, drop_last={self.drop_last})")


class _MultiProcessIter:
    """Iterates a DataLoader with worker processes; see the module docstring."""

    def __init__(self, loader):
        context = loader.multiprocessing_context
        if context is None:
            context = multiprocessing.get_context()
        elif isinstance(context, str):
            context = multiprocessing.get_context(context)
        self.num_workers = loader.num_workers
        self.prefetch = loader.prefetch_factor * loader.num_workers
        self.timeout = loader.timeout
        self.persistent = loader.persistent_workers
        self.iterable = loader._iterable
        self.result_queue = context.Queue()
        self.index_queues = []
        self.workers = []
        self.alive = True
        # the epoch's indices are drawn before the workers' base seed, so that the sampler sees the
        # random stream a num_workers=0 loader would (same seed, same batches)
        self._start_epoch_indices(loader)
        base_seed = loader._base_seed()
        factory = loader._fetcher_factory()
        for worker_id in range(self.num_workers):
            index_queue = context.Queue()
            index_queue.cancel_join_thread()
            process = context.Process(
                target=_worker.worker_loop,
                args=(factory, loader.dataset, index_queue, self.result_queue, base_seed, loader.worker_init_fn,
                      worker_id, self.num_workers),
                daemon=True)
            process.start()
            self.index_queues.append(index_queue)
            self.workers.append(process)
        self._start_epoch()

    def _start_epoch_indices(self, loader):
        if self.iterable:
            self.indices = itertools.repeat(None)
            return
        indices = iter(loader._index_sampler)
        try:
            first = next(indices)
        except StopIteration:
            self.indices = iter(())
        else:
            self.indices = itertools.chain((first,), indices)

    def _start_epoch(self):
        # task ids keep counting across epochs, so that no result can pass for another epoch's
        self.send_id = getattr(self, "send_id", 0)
        self.receive_id = self.send_id
        self.pending = {}  # task id -> [worker id] or [worker id, data]
        self.active = [True] * self.num_workers
        self.cycle = itertools.cycle(range(self.num_workers))
        for _ in range(self.prefetch):
            self._put_task()

    def reset(self, loader):
        """A new epoch on persistent workers: each worker acknowledges a Reset (restarting its
        iterable dataset) after finishing its earlier tasks, and every result that arrives before
        the acknowledgements (from an epoch left unfinished) is dropped."""
        for q in self.index_queues:
            q.put(_worker.Reset())
        acknowledged = 0
        while acknowledged < self.num_workers:
            task_id, _ = self._get()
            if isinstance(task_id, _worker.Reset):
                acknowledged += 1
        self._start_epoch_indices(loader)
        self._start_epoch()

    def _put_task(self):
        for _ in range(self.num_workers):
            worker_id = next(self.cycle)
            if self.active[worker_id]:
                break
        else:
            return
        try:
            index = next(self.indices)
        except StopIteration:
            return
        self.index_queues[worker_id].put((self.send_id, index))
        self.pending[self.send_id] = [worker_id]
        self.send_id += 1

    def _get(self):
        if self.timeout > 0:
            try:
                return self.result_queue.get(timeout=self.timeout)
            except queue.Empty:
                self.shutdown()
                raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds") from None
        while True:
            try:
                return self.result_queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                for worker_id, process in enumerate(self.workers):
                    if not process.is_alive():
                        code = process.exitcode
                        self.shutdown()
                        raise RuntimeError(f"DataLoader worker {worker_id} (pid {process.pid}) exited "
                                           f"unexpectedly with exit code {code}") from None

    def __iter__(self):
        return self

    def __next__(self):
        while True:
            while self.receive_id < self.send_id:
                entry = self.pending[self.receive_id]
                if len(entry) == 2 or self.active[entry[0]]:
                    break
                del self.pending[self.receive_id]  # its worker ran out of data
                self.receive_id += 1
            else:
                if not self.persistent:
                    self.shutdown()
                raise StopIteration
            entry = self.pending[self.receive_id]
            if len(entry) == 2:
                del self.pending[self.receive_id]
                self.receive_id += 1
                return self._deliver(entry[1])
            task_id, data = self._get()
            if isinstance(data, _worker.IterationEnd):
                self.active[data.worker_id] = False
                if task_id in self.pending:
                    self.pending[task_id].append(data)
                continue
            if task_id == self.receive_id:
                del self.pending[task_id]
                self.receive_id += 1
                return self._deliver(data)
            self.pending[task_id].append(data)

    def _deliver(self, data):
        if isinstance(data, _worker.IterationEnd):
            return self.__next__()
        self._put_task()
        if isinstance(data, _worker.ExceptionWrapper):
            self.shutdown()
            data.reraise()
        return data

    def shutdown(self):
        if not self.alive:
            return
        self.alive = False
        for q, process in zip(self.index_queues, self.workers):
            try:
                if process.is_alive():
                    q.put(None)
            except (OSError, ValueError):
                pass
        for process in self.workers:
            process.join(timeout=1.0)
            if process.is_alive():
                process.terminate()
        for q in self.index_queues:
            q.close()
        self.result_queue.cancel_join_thread()
        self.result_queue.close()

    def __del__(self):
        try:
            self.shutdown()
        except Exception as exc:  # noqa: BLE001  (interpreter shutdown)
            warnings.warn(f"DataLoader: could not stop the workers cleanly: {exc}", RuntimeWarning, stacklevel=1)
