"""Datasets and mini-batch loading, as in torch.utils.data.

A TensorDataset is batched by slicing or index_select on the whole tensors, one call per tensor per
batch: no per-sample Python loop. Other datasets are read sample by sample and joined by
`default_collate` (or your `collate_fn`).
"""

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from . import distributed

__all__ = ["ConcatDataset", "DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]


def _ag():
    import autograd_core

    return autograd_core


def _is_tensor(x):
    from ...tensor import Tensor

    return isinstance(x, Tensor)


class Dataset:
    """A map-style dataset: subclasses define `__getitem__(i)` and `__len__()`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows of the given tensors: dataset[i] == (t0[i], t1[i], ...).

    >>> from autograd_core.utils.data import TensorDataset
    >>> ds = TensorDataset(ag.randn(5, 3), ag.arange(5))     # X (N, ...), y (N, ...)
    >>> len(ds), ds[2][1].item()
    (5, 2)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        converted = []
        for position, t in enumerate(tensors):
            if isinstance(t, np.ndarray):
                t = _ag().from_numpy(np.ascontiguousarray(t))
            if not _is_tensor(t):
                raise TypeError(f"TensorDataset: argument {position} is a {type(t).__name__}, expected a tensor")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {position} is 0-d; each tensor needs a sample axis")
            converted.append(t)
        lengths = {t.shape[0] for t in converted}
        if len(lengths) != 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in converted)
            raise ValueError(f"TensorDataset: all tensors need the same size along dim 0, got shapes {shapes}")
        self.tensors = tuple(converted)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def _get_batch(self, index):
        """index: a slice (contiguous rows: views) or an int64 tensor of rows (index_select: copies)."""
        if isinstance(index, slice):
            return tuple(t[index] for t in self.tensors)
        return tuple(t.index_select(0, index) for t in self.tensors)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, index):
        if isinstance(index, (list, tuple)):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)

    @property
    def _get_batch(self):
        inner = getattr(self.dataset, "_get_batch", None)
        if inner is None:
            raise AttributeError("_get_batch")
        rows = np.asarray(self.indices, dtype=np.int64)

        def get_batch(index):
            picked = rows[index] if isinstance(index, slice) else rows[np.asarray(index.numpy())]
            return inner(_ag().from_numpy(np.ascontiguousarray(picked)))

        return get_batch


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset")
        self.cumulative = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative[-1]

    def __getitem__(self, index):
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"ConcatDataset: index {index} out of range for length {len(self)}")
        part = int(np.searchsorted(self.cumulative, index, side="right"))
        start = self.cumulative[part - 1] if part else 0
        return self.datasets[part][index - start]


def random_split(dataset, lengths, generator=None):
    """Split a dataset into non-overlapping random Subsets of the given lengths.

    lengths: counts summing to len(dataset), or fractions summing to 1 (rounding leftovers go to the
    first parts, one each). generator: as in DataLoader (None: autograd_core's global generator).
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1 + 1e-9:
        if any(x < 0 for x in lengths):
            raise ValueError(f"random_split: fractions must be >= 0, got {lengths}")
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not isinstance(x, numbers.Integral) or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(
            f"random_split: lengths must be non-negative ints summing to the dataset length {n} "
            f"(or fractions summing to 1), got {lengths}"
        )
    order = _permutation(n, _make_generator(generator)).tolist()
    parts, start = [], 0
    for length in lengths:
        parts.append(Subset(dataset, order[start : start + length]))
        start += length
    return parts


def default_collate(batch):
    """Join a list of samples into one batch.

    Tensors are stacked along a new first axis; python ints/floats/bools become int64/float32/bool
    tensors; NumPy arrays are stacked into tensors; tuples, lists and dicts are collated field by
    field (a batch of (x, y) pairs gives (X, Y)); strings stay a list.
    """
    if not isinstance(batch, Sequence) or len(batch) == 0:
        raise ValueError("default_collate: expected a non-empty list of samples")
    ag = _ag()
    first = batch[0]
    if _is_tensor(first):
        shapes = {tuple(b.shape) for b in batch}
        if len(shapes) != 1:
            raise ValueError(f"default_collate: cannot stack tensors of different shapes {sorted(shapes)}")
        return ag.stack(list(batch))
    if isinstance(first, (np.ndarray, np.generic)):
        return ag.from_numpy(np.ascontiguousarray(np.stack([np.asarray(b) for b in batch])))
    if isinstance(first, bool):
        return ag.tensor(list(batch), dtype=ag.bool)
    if isinstance(first, numbers.Integral):
        return ag.tensor([int(b) for b in batch], dtype=ag.int64)
    if isinstance(first, numbers.Real):
        return ag.tensor([float(b) for b in batch], dtype=ag.float32)
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # namedtuple
        return type(first)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(first, Sequence):
        sizes = {len(sample) for sample in batch}
        if len(sizes) != 1:
            raise ValueError(f"default_collate: samples have different numbers of fields {sorted(sizes)}")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        return tuple(fields) if isinstance(first, tuple) else fields
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}")


class _NumpyGenerator:
    """A seeded source of permutations for one DataLoader (generator=<int>)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(int(seed))

    def permutation(self, n):
        return self.rng.permutation(n)


def _make_generator(generator):
    if generator is None or isinstance(generator, _NumpyGenerator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return _NumpyGenerator(generator)
    ag_generator = getattr(_ag(), "Generator", None)
    if ag_generator is not None and isinstance(generator, ag_generator):
        return generator
    raise TypeError(f"generator must be None, an int seed or an ag.Generator, got {type(generator).__name__}")


def _permutation(n, generator):
    """A random permutation of range(n) as an int64 NumPy array."""
    if isinstance(generator, _NumpyGenerator):
        return generator.permutation(n).astype(np.int64)
    ag = _ag()
    if hasattr(ag, "randperm"):
        perm = ag.randperm(n) if generator is None else ag.randperm(n, generator=generator)
        return np.asarray(perm.numpy(), dtype=np.int64)
    # no randperm in the core: order by uniform draws from the seeded generator
    keys = np.asarray(ag.rand(n, dtype=ag.float64).numpy())
    return np.argsort(keys, kind="stable").astype(np.int64)


class DataLoader:
    """Iterate over a dataset in mini-batches.

    batch_size: samples per batch (None: one sample at a time, not collated).
    shuffle: a new random order every epoch, drawn from `generator`: None uses autograd_core's global
        generator (so ag.manual_seed fixes it), an int seeds a generator private to this loader.
    drop_last: drop the final batch when it has fewer than batch_size samples.
    collate_fn: joins a list of samples into a batch (default: default_collate).
    num_workers, pin_memory: accepted so PyTorch code runs unchanged; batches are always made in
        this process (a TensorDataset batch is one slice per tensor, so workers would not help).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None, generator=None,
                 num_workers=0, pin_memory=False):
        if isinstance(dataset, (tuple, list)) and dataset and all(_is_tensor(t) or isinstance(t, np.ndarray) for t in dataset):
            dataset = TensorDataset(*dataset)
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader: dataset must define __getitem__ and __len__, got {type(dataset).__name__}")
        if batch_size is not None and (not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool)
                                       or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive int or None, got {batch_size!r}")
        if not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an int >= 0, got {num_workers!r}")
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: drop_last needs a batch_size")
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = _make_generator(generator)

    def __len__(self):
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _batch_bounds(self, n):
        size = self.batch_size or 1
        stop = (n // size) * size if self.drop_last else n
        for start in range(0, stop, size):
            yield start, min(start + size, n)

    def __iter__(self):
        n = len(self.dataset)
        order = _permutation(n, self.generator) if self.shuffle else None
        fast = getattr(self.dataset, "_get_batch", None) if self.collate_fn is None and self.batch_size else None
        if fast is not None:
            ag = _ag()
            order_t = ag.from_numpy(order) if order is not None else None
            for start, stop in self._batch_bounds(n):
                yield fast(slice(start, stop) if order_t is None else order_t[start:stop])
            return
        collate = self.collate_fn or default_collate
        for start, stop in self._batch_bounds(n):
            rows = range(start, stop) if order is None else order[start:stop].tolist()
            if self.batch_size is None:
                yield self.dataset[rows[0]]
            else:
                yield collate([self.dataset[i] for i in rows])

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")
