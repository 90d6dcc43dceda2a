"""Datasets, as torch.utils.data.dataset: map-style (Dataset, TensorDataset, Subset,
ConcatDataset, StackDataset), iterable (IterableDataset, ChainDataset), and random_split.

A TensorDataset (and a Subset of one) has `_get_batch`, which DataLoader uses to take a whole batch
with one slice or index_select per tensor instead of one sample at a time.
"""
import math
import numbers

import numpy as np

from ..._core import Generator
from ...ops.creation import from_numpy, randperm
from ...tensor import is_tensor

__all__ = [
    "ChainDataset",
    "ConcatDataset",
    "Dataset",
    "IterableDataset",
    "StackDataset",
    "Subset",
    "TensorDataset",
    "as_generator",
    "random_split",
]


def as_generator(generator, owner):
    """None, an ag.Generator, or an int seed (beyond PyTorch: a private generator seeded with it)."""
    if generator is None or isinstance(generator, Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return Generator().manual_seed(int(generator))
    raise TypeError(f"{owner}: generator must be None, an int seed or an autograd_core.Generator, got "
                    f"{type(generator).__name__}")


class Dataset:
    """A map-style dataset: subclasses define `__getitem__(i)` and `__len__()`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset read as a stream: subclasses define __iter__. With DataLoader workers, every worker
    iterates its own copy; shard the stream inside __iter__ with get_worker_info() so that samples
    are not repeated."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it is iterated, not indexed")

    def __len__(self):
        raise TypeError(f"{type(self).__name__} is an IterableDataset and defines no __len__")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several iterable datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        for i, d in enumerate(self.datasets):
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset: only IterableDatasets can be chained, item {i} is a "
                                f"{type(d).__name__}")

    def __iter__(self):
        for d in self.datasets:
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class StackDataset(Dataset):
    """Samples taken together from several datasets of one length: a tuple (positional) or a dict
    (keyword) of their samples."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: give datasets either as positional or as keyword arguments, not both")
        self.datasets = args or kwargs
        parts = list(args) if args else list(kwargs.values())
        if not parts:
            raise ValueError("StackDataset: at least one dataset is required")
        lengths = {len(d) for d in parts}
        if len(lengths) != 1:
            raise ValueError(f"StackDataset: size mismatch between datasets, lengths {sorted(lengths)}")
        self._length = lengths.pop()

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


class TensorDataset(Dataset):
    """Samples are rows of the given tensors: dataset[i] == (t0[i], t1[i], ...).

    >>> ds = ag.utils.data.TensorDataset(ag.arange(6.).reshape(3, 2), ag.tensor([0, 1, 0]))
    >>> len(ds), ds[1]
    (3, (tensor([2., 3.]), tensor(1)))
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        converted = []
        for position, t in enumerate(tensors):
            if isinstance(t, np.ndarray):
                t = from_numpy(np.ascontiguousarray(t))
            if not is_tensor(t):
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
            return inner(from_numpy(np.ascontiguousarray(picked)))

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
    first parts, one each). generator: an ag.Generator, or an int seed (None: the global generator).
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
    order = randperm(n, generator=as_generator(generator, "random_split")).tolist()
    parts, start = [], 0
    for length in lengths:
        parts.append(Subset(dataset, order[start : start + length]))
        start += length
    return parts
