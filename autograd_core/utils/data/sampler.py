"""Samplers, as torch.utils.data.sampler: iterables of dataset indices (or, BatchSampler, of lists
of indices) that a DataLoader draws its batches from.

Random samplers draw from their `generator` (an ag.Generator); without one, from the global
generator, so ag.manual_seed makes the order reproducible.
"""
import numbers

from ..._core import Generator
from ...dtypes import float64 as _float64
from ...ops.creation import as_tensor, multinomial, randint, randperm
from ...ops.shape import cat as _cat

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]


def _check_generator(generator, owner):
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{owner}: generator must be None or an autograd_core.Generator, got "
                        f"{type(generator).__name__}")
    return generator


def _pass_generator(generator):
    """The generator one pass draws from: the sampler's own, or None for the global one (PyTorch
    seeds a fresh generator from the global one; drawing from it directly keeps this library's
    random stream as it was, and ag.manual_seed fixes the order either way)."""
    return generator


def _check_positive_int(value, name, owner):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: {name} should be a positive integer value, but got {name}={value!r}")


class Sampler:
    """Base class: subclasses define __iter__ (indices) and usually __len__."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices (num_samples of them: whole permutations, then part of
    one), or, with replacement, num_samples independent uniform draws."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got replacement={replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = _check_generator(generator, "RandomSampler")
        _check_positive_int(self.num_samples, "num_samples", "RandomSampler")

    @property
    def num_samples(self):
        """How many indices one pass yields: ``num_samples`` when given, else ``len(data_source)``."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        yield from self._order().tolist()

    def _order(self):
        """This pass's indices as an int64 tensor (DataLoader's TensorDataset path reads it whole)."""
        n = len(self.data_source)
        generator = _pass_generator(self.generator)
        if self.replacement:
            return randint(0, n, (self.num_samples,), generator=generator)
        parts = [randperm(n, generator=generator) for _ in range(self.num_samples // n)]
        parts.append(randperm(n, generator=generator)[:self.num_samples % n])
        return _cat(parts) if len(parts) > 1 else parts[0]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, drawn anew each pass."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = _check_generator(generator, "SubsetRandomSampler")

    def __iter__(self):
        order = randperm(len(self.indices), generator=_pass_generator(self.generator)).tolist()
        for i in order:
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """num_samples indices in [0, len(weights)), index i drawn with probability proportional to
    weights[i] (with or without replacement)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _check_positive_int(num_samples, "num_samples", "WeightedRandomSampler")
        if not isinstance(replacement, bool):
            raise ValueError(  # noqa: TRY004  (PyTorch raises ValueError here)
                f"WeightedRandomSampler: replacement should be a boolean value, but got replacement={replacement!r}")
        weights = as_tensor(weights, dtype=_float64)
        if weights.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but given weights have "
                             f"shape {tuple(weights.shape)}")
        if not replacement and num_samples > weights.shape[0]:
            raise ValueError(f"WeightedRandomSampler: cannot draw {num_samples} samples without replacement "
                             f"from {weights.shape[0]} weights")
        self.weights = weights
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = _check_generator(generator, "WeightedRandomSampler")

    def __iter__(self):
        drawn = multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator)
        yield from drawn.tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of batch_size (the last one shorter unless
    drop_last)."""

    def __init__(self, sampler, batch_size, drop_last):
        _check_positive_int(batch_size, "batch_size", "BatchSampler")
        if not isinstance(drop_last, bool):
            raise ValueError(  # noqa: TRY004  (PyTorch raises ValueError here)
                f"BatchSampler: drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
