"""DistributedSampler: each rank of a data-parallel job reads its own share of the dataset.

The indices are exactly torch.utils.data.DistributedSampler's for the same arguments, seed and epoch
(the shuffle reproduces torch.randperm with a generator seeded seed + epoch), so a job moved between
the two libraries sees the same batches.
"""
import math
import numbers

import numpy as np

from ... import distributed
from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _torch_randperm(n, seed):
    """torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist(), without torch:
    its CPU algorithm is a Fisher-Yates walk driven by the 32-bit outputs of MT19937 seeded like
    NumPy's legacy RandomState. (torch switches algorithm above 2**32 / 20 elements; datasets that
    large are not expected here.)"""
    draws = np.random.RandomState(seed % 2**32).randint(0, 2**32, size=max(n - 1, 0), dtype=np.uint32).tolist()
    order = list(range(n))
    for i, draw in enumerate(draws):
        j = i + draw % (n - i)
        order[i], order[j] = order[j], order[i]
    return order


def _default_group(what):
    if not distributed.is_initialized():
        raise RuntimeError(f"DistributedSampler: {what} was not given and the default process group is not "
                           "initialized; pass it, or call autograd_core.distributed.init_process_group() first")
    return distributed


class DistributedSampler(Sampler):
    """Indices of this rank's share of `dataset`: every rank gets len(self) of them, and together the
    ranks cover the dataset once per epoch.

    num_replicas, rank: default to the process group's world size and rank.
    shuffle: a new order every epoch, drawn from seed + epoch (call set_epoch(epoch) before each
        epoch, or every epoch repeats the first one's order); every rank must use the same seed.
    drop_last: False pads the index list with its own first indices up to a multiple of num_replicas
        (a few samples are seen twice); True drops the tail so that the shards are equal without
        repetition.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None:
            num_replicas = _default_group("num_replicas").get_world_size()
        if rank is None:
            rank = _default_group("rank").get_rank()
        if not isinstance(num_replicas, numbers.Integral) or isinstance(num_replicas, bool) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got {num_replicas!r}")
        if not isinstance(rank, numbers.Integral) or isinstance(rank, bool) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
            raise TypeError(f"DistributedSampler: seed must be an int, got {type(seed).__name__}")
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        n = len(self.dataset)
        indices = _torch_randperm(n, self.seed + self.epoch) if self.shuffle else list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            padding = self.total_size - len(indices)
            if padding and not indices:
                raise ValueError("DistributedSampler: the dataset is empty")
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Shuffle differently in this epoch (the order is drawn from seed + epoch)."""
        self.epoch = int(epoch)

    def __repr__(self):
        return (f"DistributedSampler(rank {self.rank} of {self.num_replicas}, {self.num_samples} samples, "
                f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last})")
