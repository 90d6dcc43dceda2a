"""Datasets, samplers and mini-batch loading, as torch.utils.data.

    dataset.py     Dataset, IterableDataset, TensorDataset, Subset, ConcatDataset, ChainDataset,
                   StackDataset, random_split
    sampler.py     Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler,
                   WeightedRandomSampler, BatchSampler
    collate.py     default_collate, default_convert
    dataloader.py  DataLoader (worker processes: _worker.py, get_worker_info)

A TensorDataset is batched by slicing or index_select on the whole tensors, one call per tensor per
batch: no per-sample Python loop. Other datasets are read sample by sample and joined by
`default_collate` (or your `collate_fn`).
"""
from . import distributed, sampler  # noqa: F401  (torch.utils.data.distributed / .sampler)
from .collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .dataset import (
                      ChainDataset,
                      ConcatDataset,
                      Dataset,
                      IterableDataset,
                      StackDataset,
                      Subset,
                      TensorDataset,
                      random_split,
)
from .sampler import (
                      BatchSampler,
                      RandomSampler,
                      Sampler,
                      SequentialSampler,
                      SubsetRandomSampler,
                      WeightedRandomSampler,
)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "default_collate", "default_convert", "get_worker_info",
           "random_split"]
