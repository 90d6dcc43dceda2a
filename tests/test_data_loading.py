"""utils.data beyond the basics: Generator, every Sampler, IterableDataset / ChainDataset,
DataLoader sampler= / batch_sampler=, worker processes (same batches as num_workers=0, seeding,
worker_init_fn, sharding, persistent workers, errors, timeout), and ag.multiprocessing."""
import collections
import os
import random
import time

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.utils.data import (
    BatchSampler,
    ChainDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    StackDataset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_convert,
    get_worker_info,
    random_split,
)


# ------------------------------------------------------------------------------------- Generator
def test_generator_reproducible_and_independent_of_global():
    g = ag.Generator().manual_seed(7)
    a = ag.rand(5, generator=g)
    ag.manual_seed(1)
    before = ag.get_rng_state()
    b = ag.Generator().manual_seed(7)
    assert np.array_equal(ag.rand(5, generator=b).numpy(), a.numpy())
    assert ag.get_rng_state() == before  # the global stream did not move
    state = g.get_state()
    x = ag.randn(3, 2, generator=g)
    g.set_state(state)
    assert np.array_equal(ag.randn(3, 2, generator=g).numpy(), x.numpy())
    assert g.initial_seed() == 7 and str(g.device) == "cpu"
    for fn in (lambda gen: ag.randint(0, 10, (6,), generator=gen), lambda gen: ag.randperm(9, generator=gen),
               lambda gen: ag.empty(4).uniform_(generator=gen), lambda gen: ag.empty(4).normal_(generator=gen),
               lambda gen: ag.bernoulli(ag.full((5,), 0.5), generator=gen),
               lambda gen: ag.multinomial(ag.ones(4), 3, generator=gen),
               lambda gen: ag.normal(0.0, 1.0, (3,), generator=gen)):
        assert np.array_equal(fn(ag.Generator().manual_seed(3)).numpy(), fn(ag.Generator().manual_seed(3)).numpy())


def test_generator_errors():
    with pytest.raises(RuntimeError, match="CPU"):
        ag.Generator(device="cuda")
    with pytest.raises(TypeError, match="Generator"):
        ag.rand(3, generator=5)
    with pytest.raises(ValueError, match="16 bytes"):
        ag.Generator().set_state(ag.zeros(3, dtype=ag.uint8))


# ------------------------------------------------------------------------------------- samplers
def test_sequential_and_batch_sampler():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    assert list(BatchSampler(SequentialSampler(range(7)), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2


def test_random_sampler_variants():
    g = ag.Generator().manual_seed(0)
    order = list(RandomSampler(range(10), generator=g))
    assert sorted(order) == list(range(10))
    assert list(RandomSampler(range(10), generator=ag.Generator().manual_seed(0))) == order
    more = list(RandomSampler(range(4), num_samples=10, generator=g))
    assert len(more) == 10 and sorted(more[:8]) == [0, 0, 1, 1, 2, 2, 3, 3] and len(set(more[8:])) == 2
    repl = list(RandomSampler(range(3), replacement=True, num_samples=200, generator=g))
    assert len(repl) == 200 and set(repl) == {0, 1, 2}
    ag.manual_seed(4)
    a = list(RandomSampler(range(20)))
    ag.manual_seed(4)
    assert list(RandomSampler(range(20))) == a


def test_subset_and_weighted_samplers():
    idx = [3, 9, 4, 7]
    got = list(SubsetRandomSampler(idx, generator=ag.Generator().manual_seed(1)))
    assert sorted(got) == sorted(idx) and len(SubsetRandomSampler(idx)) == 4
    w = [0.1, 0.0, 0.6, 0.3]
    draws = list(WeightedRandomSampler(w, 4000, generator=ag.Generator().manual_seed(2)))
    counts = np.bincount(draws, minlength=4) / 4000
    assert counts[1] == 0 and np.allclose(counts, w, atol=0.03)
    no_repl = list(WeightedRandomSampler([1, 1, 1, 5], 4, replacement=False))
    assert sorted(no_repl) == [0, 1, 2, 3]


def test_sampler_errors():
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="1d"):
        WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([1.0, 2.0], 3, replacement=False)


@pytest.mark.skipif(pytest.importorskip("torch") is None, reason="torch")
def test_sampler_semantics_match_torch():
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata
    for ours, theirs in [
        (BatchSampler(range(10), 4, False), tdata.BatchSampler(range(10), 4, False)),
        (BatchSampler(range(10), 4, True), tdata.BatchSampler(range(10), 4, True)),
        (SequentialSampler(range(6)), tdata.SequentialSampler(range(6))),
    ]:
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    assert len(RandomSampler(range(5), num_samples=12)) == len(tdata.RandomSampler(range(5), num_samples=12))
    loader_lens = [(DataLoader(range(10), batch_size=3, drop_last=d), tdata.DataLoader(range(10), batch_size=3, drop_last=d))
                   for d in (False, True)]
    for ours, theirs in loader_lens:
        assert len(ours) == len(theirs)
        assert [b.tolist() for b in ours] == [b.tolist() for b in theirs]
    del torch


# ------------------------------------------------------------------------------------- DataLoader
class Noisy(Dataset):
    """Deterministic samples (a dict with a tensor and a number)."""

    def __len__(self):
        return 23

    def __getitem__(self, i):
        return {"x": ag.tensor([float(i), float(i) ** 2]), "y": i % 3}


def batches(loader):
    return [(b["x"].numpy().tolist(), b["y"].numpy().tolist()) for b in loader]


def test_dataloader_sampler_and_batch_sampler():
    ds = Noisy()
    got = batches(DataLoader(ds, batch_size=4, sampler=[5, 1, 7, 2, 9]))
    assert [y for _, ys in got for y in ys] == [5 % 3, 1 % 3, 7 % 3, 2 % 3, 9 % 3]
    got = batches(DataLoader(ds, batch_sampler=[[0, 1], [5, 6, 7]]))
    assert next(x[0] for x, _ in got[1:]) == [5.0, 25.0] and len(got[1][0]) == 3

    class EveryOther(Sampler):
        def __iter__(self):
            return iter(range(0, 23, 2))

        def __len__(self):
            return 12

    loader = DataLoader(ds, batch_size=5, sampler=EveryOther())
    assert len(loader) == 3 and batches(loader)[0][0][1] == [2.0, 4.0]
    ds_t = TensorDataset(ag.arange(10).float(), ag.arange(10))
    b = list(DataLoader(ds_t, batch_size=3, sampler=[9, 0, 4, 5]))
    assert b[0][1].tolist() == [9, 0, 4] and b[1][1].tolist() == [5]


def test_dataloader_argument_errors():
    ds = Noisy()
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=4, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="IterableDataset: expected unspecified shuffle"):
        DataLoader(Count(5), shuffle=True)


class Count(IterableDataset):
    """0 .. n-1, sharded across workers by get_worker_info."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self):
        return self.n


def test_iterable_and_chain_dataset_in_process():
    assert [b.tolist() for b in DataLoader(Count(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Count(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert list(DataLoader(Count(3), batch_size=None)) == [0, 1, 2]
    chain = ChainDataset([Count(2), Count(3)])
    assert list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5 and list(Count(1) + Count(2)) == [0, 0, 1]
    with pytest.raises(TypeError, match="only IterableDatasets"):
        ChainDataset([Noisy()])
    with pytest.raises(TypeError, match="IterableDataset"):
        Count(2)[0]


def test_stack_dataset_and_default_convert():
    s = StackDataset([1, 2], ["a", "b"])
    assert s[1] == (2, "b") and len(s) == 2
    d = StackDataset(x=[1, 2], y=[3, 4])
    assert d[0] == {"x": 1, "y": 3}
    with pytest.raises(ValueError, match="size mismatch"):
        StackDataset([1], [1, 2])
    out = default_convert({"a": np.zeros(2), "b": 3, "c": (np.ones(1),)})
    assert isinstance(out["a"], ag.Tensor) and out["b"] == 3 and isinstance(out["c"][0], ag.Tensor)


def test_random_split_with_generator():
    a = random_split(range(10), [0.7, 0.3], generator=ag.Generator().manual_seed(3))
    b = random_split(range(10), [7, 3], generator=ag.Generator().manual_seed(3))
    assert [list(p) for p in a] == [list(p) for p in b]
    assert sorted(list(a[0]) + list(a[1])) == list(range(10))


# ------------------------------------------------------------------------------------- workers
def random_draw(_):
    return np.random.randint(0, 2 ** 30), random.random(), float(ag.rand(1).item())


class RandomPerWorker(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return i, info.id if info else -1, info.seed if info else -1, float(ag.rand(1).item()), np.random.randint(0, 2 ** 30)


@pytest.mark.parametrize("num_workers", [1, 3])
def test_workers_give_the_same_batches_as_in_process(num_workers):
    ds = Noisy()
    ag.manual_seed(11)
    ref = batches(DataLoader(ds, batch_size=4, shuffle=True))
    ag.manual_seed(11)
    got = batches(DataLoader(ds, batch_size=4, shuffle=True, num_workers=num_workers, prefetch_factor=1))
    assert got == ref
    tds = TensorDataset(ag.randn(30, 3), ag.arange(30))
    g1, g2 = ag.Generator().manual_seed(2), ag.Generator().manual_seed(2)
    ref = [(x.numpy().tolist(), y.tolist()) for x, y in DataLoader(tds, batch_size=7, shuffle=True, generator=g1)]
    got = [(x.numpy().tolist(), y.tolist()) for x, y in DataLoader(tds, batch_size=7, shuffle=True, generator=g2,
                                                                   num_workers=num_workers)]
    assert got == ref


def test_workers_seeding_and_worker_info():
    def run():
        ag.manual_seed(5)
        return list(DataLoader(RandomPerWorker(), batch_size=None, num_workers=2))

    first, second = run(), run()
    assert first == second  # reproducible under ag.manual_seed
    ids = {row[1] for row in first}
    seeds = {row[1]: row[2] for row in first}
    assert ids == {0, 1} and seeds[1] == seeds[0] + 1  # worker i is seeded base_seed + i
    draws_by_worker = collections.defaultdict(list)
    for row in first:
        draws_by_worker[row[1]].append(row[3])
    assert draws_by_worker[0] != draws_by_worker[1]  # different streams per worker
    assert get_worker_info() is None


def _init_fn(worker_id):
    os.environ["AGC_TEST_WORKER"] = str(worker_id * 10)


class InitSeen(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return int(os.environ.get("AGC_TEST_WORKER", "-1"))


def test_worker_init_fn_runs_in_each_worker():
    got = [int(v) for b in DataLoader(InitSeen(), batch_size=1, num_workers=2, worker_init_fn=_init_fn) for v in b]
    assert got == [0, 10, 0, 10]
    assert "AGC_TEST_WORKER" not in os.environ


def test_iterable_dataset_sharded_across_workers():
    got = [v for b in DataLoader(Count(11), batch_size=2, num_workers=3) for v in b.tolist()]
    assert sorted(got) == list(range(11))
    unsharded = ChainDataset([Count(0), _Plain(4)])
    got = sorted(v for b in DataLoader(unsharded, batch_size=2, num_workers=2) for v in b.tolist())
    assert got == [0, 0, 1, 1, 2, 2, 3, 3]  # without sharding every worker yields everything, as in PyTorch


class _Plain(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def test_persistent_workers_reuse_processes():
    loader = DataLoader(Noisy(), batch_size=6, num_workers=2, persistent_workers=True)
    first = batches(loader)
    pids = [p.pid for p in loader._iterator.workers]
    second = batches(loader)
    assert first == second == batches(DataLoader(Noisy(), batch_size=6))
    assert [p.pid for p in loader._iterator.workers] == pids
    it_loader = DataLoader(Count(9), batch_size=4, num_workers=2, persistent_workers=True)
    assert sorted(v for b in it_loader for v in b.tolist()) == list(range(9))
    assert sorted(v for b in it_loader for v in b.tolist()) == list(range(9))
    loader._iterator.shutdown()
    it_loader._iterator.shutdown()


class Failing(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 4:
            raise ValueError(f"bad sample {i}")
        return i


class Dying(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            os._exit(3)
        return i


class Slow(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(3)
        return i


def test_worker_errors_are_reported():
    with pytest.raises(ValueError, match=r"(?s)Caught ValueError in DataLoader worker process \d.*bad sample 4"):
        list(DataLoader(Failing(), batch_size=2, num_workers=2))
    with pytest.raises(RuntimeError, match="exited unexpectedly with exit code 3"):
        list(DataLoader(Dying(), batch_size=1, num_workers=1))
    with pytest.raises(RuntimeError, match="timed out after 0.5 seconds"):
        list(DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.5))


# ------------------------------------------------------------------------------------- multiprocessing
def _square_into(i, queue):
    queue.put((i, i * i))


def _raise(i):
    raise KeyError(f"process {i} failed")


def test_multiprocessing_module_as_torch():
    import autograd_core.multiprocessing as mp

    assert mp.Process is not None and mp.Queue is not None and mp.get_context is not None
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()
    ctx = mp.get_context("fork")
    queue = ctx.SimpleQueue()
    mp.spawn(_square_into, args=(queue,), nprocs=2, start_method="fork")
    assert sorted(queue.get() for _ in range(2)) == [(0, 0), (1, 1)]
    with pytest.raises(mp.ProcessRaisedException, match="process 0 failed"):
        mp.spawn(_raise, nprocs=1, start_method="fork")
    with pytest.raises(ValueError, match="unknown strategy"):
        mp.set_sharing_strategy("shm")
    t = ag.ones(2)
    assert t.share_memory_() is t and t.is_shared() is False
    m = ag.nn.Linear(2, 2)
    assert m.share_memory() is m


def test_persistent_workers_after_an_unfinished_epoch():
    loader = DataLoader(Noisy(), batch_size=2, num_workers=2, persistent_workers=True, prefetch_factor=3)
    first = next(iter(loader))  # leave the epoch with tasks in flight
    assert first["y"].tolist() == [0, 1]
    assert batches(loader) == batches(DataLoader(Noisy(), batch_size=2))
    loader._iterator.shutdown()


def test_init_functions_take_a_generator():
    for name in ("uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
                 "orthogonal_", "trunc_normal_"):
        fn = getattr(ag.nn.init, name)
        a = fn(ag.empty(3, 4), generator=ag.Generator().manual_seed(1))
        b = fn(ag.empty(3, 4), generator=ag.Generator().manual_seed(1))
        c = fn(ag.empty(3, 4), generator=ag.Generator().manual_seed(2))
        assert np.array_equal(a.numpy(), b.numpy()) and not np.array_equal(a.numpy(), c.numpy()), name
