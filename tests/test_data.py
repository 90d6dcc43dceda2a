"""ag.utils.data (Dataset, DataLoader, collate, random_split) and ag.data (scalers, train_val_split)."""

import collections

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
from autograd_core.preprocessing import MinMaxScaler, StandardScaler, train_val_split
from autograd_core.utils.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def arr(t):
    return np.asarray(t.numpy())


def xy(n=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = np.arange(n, dtype=np.int64)
    return ag.from_numpy(x), ag.from_numpy(y)


# ---------------------------------------------------------------------------------------- DataLoader


def test_dataloader_order_and_partial_last_batch():
    x, y = xy(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [tuple(b[0].shape) for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert np.array_equal(np.concatenate([arr(b[1]) for b in batches]), np.arange(10))
    assert np.array_equal(np.concatenate([arr(b[0]) for b in batches]), arr(x))
    assert all(b[0].is_contiguous() and b[1].is_contiguous() for b in batches)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 15), drop_last=st.booleans(), shuffle=st.booleans())
def test_dataloader_batches_cover_the_data(n, batch_size, drop_last, shuffle):
    y = ag.arange(n)
    loader = DataLoader(TensorDataset(y.reshape(n, 1).float(), y), batch_size=batch_size, shuffle=shuffle,
                        drop_last=drop_last)
    batches = list(loader)
    assert len(batches) == len(loader)
    sizes = [len(b[1]) for b in batches]
    assert all(size == batch_size for size in sizes[:-1]) and (not sizes or 0 < sizes[-1] <= batch_size)
    labels = np.concatenate([arr(b[1]) for b in batches]) if batches else np.zeros(0, dtype=np.int64)
    kept = (n // batch_size) * batch_size if drop_last else n
    assert len(labels) == kept and len(set(labels.tolist())) == kept
    if not shuffle:
        assert labels.tolist() == list(range(kept))
    for xb, yb in batches:
        assert np.array_equal(arr(xb)[:, 0], arr(yb).astype(np.float32))


def test_dataloader_drop_last():
    x, y = xy(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(b[1]) for b in loader] == [4, 4]
    assert len(DataLoader(TensorDataset(x, y), batch_size=5, drop_last=True)) == 2


def test_dataloader_shuffle_is_a_permutation_reproducible_with_seed():
    x, y = xy(23)
    loader = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True)
    ag.manual_seed(123)
    first = [np.concatenate([arr(b[1]) for b in loader]) for _ in range(2)]
    ag.manual_seed(123)
    again = [np.concatenate([arr(b[1]) for b in loader]) for _ in range(2)]
    for epoch in first:
        assert sorted(epoch.tolist()) == list(range(23))
    assert not np.array_equal(first[0], np.arange(23))
    assert not np.array_equal(first[0], first[1])  # a new order every epoch
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    # rows stay paired after shuffling
    for xb, yb in loader:
        assert np.array_equal(arr(xb), arr(x)[arr(yb)])


def test_dataloader_private_generator_seed():
    x, y = xy(12)
    a = [arr(b[1]).tolist() for b in DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True, generator=5)]
    b = [arr(b[1]).tolist() for b in DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True, generator=5)]
    assert a == b and sorted(a[0]) == list(range(12))


class Squares(Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        if not 0 <= i < 7:
            raise IndexError(i)
        return {"x": ag.tensor([float(i), float(i * i)]), "label": i % 2, "name": f"s{i}"}


def test_dataloader_generic_dataset_collates_dicts():
    batches = list(DataLoader(Squares(), batch_size=3))
    assert len(batches) == 3
    first = batches[0]
    assert tuple(first["x"].shape) == (3, 2) and first["label"].dtype == ag.int64
    assert arr(first["label"]).tolist() == [0, 1, 0] and first["name"] == ["s0", "s1", "s2"]
    assert arr(batches[-1]["x"]).tolist() == [[6.0, 36.0]]


def test_default_collate_tuples_numbers_namedtuples():
    pairs = [(ag.tensor([1.0, 2.0]), 3), (ag.tensor([4.0, 5.0]), 6)]
    xb, yb = default_collate(pairs)
    assert arr(xb).tolist() == [[1.0, 2.0], [4.0, 5.0]] and arr(yb).tolist() == [3, 6] and yb.dtype == ag.int64
    floats = default_collate([0.5, 1.5])
    assert floats.dtype == ag.float32 and arr(floats).tolist() == [0.5, 1.5]
    assert default_collate([True, False]).dtype == ag.bool
    point = collections.namedtuple("Point", "x y")
    out = default_collate([point(1, 2.0), point(3, 4.0)])
    assert isinstance(out, point) and arr(out.x).tolist() == [1, 3]
    nested = default_collate([(np.zeros(2), {"a": 1}), (np.ones(2), {"a": 2})])
    assert arr(nested[0]).tolist() == [[0, 0], [1, 1]] and arr(nested[1]["a"]).tolist() == [1, 2]


def test_default_collate_errors():
    with pytest.raises(ValueError, match="different shapes"):
        default_collate([ag.zeros(2), ag.zeros(3)])
    with pytest.raises(TypeError, match="cannot batch"):
        default_collate([object(), object()])


def test_tensordataset_different_lengths_is_a_clear_error():
    with pytest.raises(ValueError, match=r"same size along dim 0.*\(10, 3\).*\(9,\)"):
        TensorDataset(ag.zeros(10, 3), ag.zeros(9))
    with pytest.raises(ValueError, match="same size"):
        DataLoader((ag.zeros(4, 2), ag.zeros(5)), batch_size=2)


def test_dataloader_bad_arguments():
    x, y = xy(4)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(x, y), batch_size=0)
    with pytest.raises(TypeError, match="generator"):
        DataLoader(TensorDataset(x, y), shuffle=True, generator="seed")


def test_random_split_and_subset():
    x, y = xy(20)
    ds = TensorDataset(x, y)
    ag.manual_seed(0)
    parts = random_split(ds, [12, 8])
    seen = sorted(i for p in parts for i in p.indices)
    assert [len(p) for p in parts] == [12, 8] and seen == list(range(20))
    fractions = random_split(ds, [0.5, 0.25, 0.25], generator=1)
    assert [len(p) for p in fractions] == [10, 5, 5]
    with pytest.raises(ValueError, match="summing"):
        random_split(ds, [5, 5])
    # batches of a Subset of a TensorDataset (fast path) equal the samples read one by one
    sub = Subset(ds, [7, 3, 19, 0, 11])
    xb, yb = next(iter(DataLoader(sub, batch_size=5)))
    assert arr(yb).tolist() == [7, 3, 19, 0, 11] and np.array_equal(arr(xb), arr(x)[[7, 3, 19, 0, 11]])
    assert arr(sub[2][1]).item() == 19


# ------------------------------------------------------------------------------------------- scalers


def test_standard_scaler_matches_numpy_and_handles_constant_columns():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((50, 4)) * [1.0, 10.0, 0.1, 0.0] + [0.0, -3.0, 5.0, 7.0]
    scaler = StandardScaler().fit(a)
    np.testing.assert_allclose(scaler.mean_, a.mean(axis=0))
    np.testing.assert_allclose(scaler.var_, a.var(axis=0), atol=1e-12)
    expected = (a - a.mean(axis=0)) / np.where(a.std(axis=0) > 0, a.std(axis=0), 1.0)
    z = scaler.transform(a)
    np.testing.assert_allclose(z, expected, atol=1e-12)
    assert np.all(z[:, 3] == 0)
    np.testing.assert_allclose(scaler.inverse_transform(z), a, atol=1e-12)


def test_standard_scaler_on_tensors_keeps_tensor_and_dtype():
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((30, 2, 3)) * 4 + 2).astype(np.float32)
    t = ag.from_numpy(a)
    z = StandardScaler().fit_transform(t)
    assert isinstance(z, ag.Tensor) and z.dtype == ag.float32 and tuple(z.shape) == (30, 2, 3)
    np.testing.assert_allclose(arr(z), (a - a.mean(0)) / a.std(0), rtol=1e-4, atol=1e-5)
    ints = ag.tensor([[1, 2], [3, 2], [5, 2]])
    zi = StandardScaler().fit_transform(ints)
    assert zi.dtype == ag.float32 and np.allclose(arr(zi)[:, 1], 0)


def test_scaler_errors():
    with pytest.raises(RuntimeError, match="fit"):
        StandardScaler().transform(np.zeros((2, 2)))
    scaler = StandardScaler().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        scaler.transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="0 samples"):
        StandardScaler().fit(np.zeros((0, 2)))


def test_minmax_scaler_matches_formula():
    rng = np.random.default_rng(2)
    a = rng.uniform(-5, 5, (40, 3))
    a[:, 2] = 1.5
    scaler = MinMaxScaler(feature_range=(-1, 1)).fit(a)
    lo, hi = a.min(0), a.max(0)
    rng_ = np.where(hi - lo > 0, hi - lo, 1.0)
    expected = (a - lo) / rng_ * 2 - 1
    z = scaler.transform(a)
    np.testing.assert_allclose(z, expected, atol=1e-12)
    assert np.all(z[:, 2] == -1)
    np.testing.assert_allclose(scaler.inverse_transform(z), a, atol=1e-12)
    np.testing.assert_allclose(a * scaler.scale_ + scaler.min_, z, atol=1e-12)
    with pytest.raises(ValueError, match="feature_range"):
        MinMaxScaler((1, 0))


# ----------------------------------------------------------------------------------- train_val_split


def test_train_val_split_sizes_disjoint_reproducible():
    x, y = xy(50)
    (xt, yt), (_xv, yv) = train_val_split(x, y, val_fraction=0.2, seed=0)
    assert len(yt) == 40 and len(yv) == 10
    assert sorted(arr(yt).tolist() + arr(yv).tolist()) == list(range(50))
    assert np.array_equal(arr(xt), arr(x)[arr(yt)])
    (_, yt2), _ = train_val_split(x, y, val_fraction=0.2, seed=0)
    assert np.array_equal(arr(yt), arr(yt2))
    tr, va = train_val_split(np.arange(10), val_fraction=0.3, shuffle=False)
    assert tr.tolist() == list(range(7)) and va.tolist() == [7, 8, 9]


def test_train_val_split_stratified_keeps_proportions():
    labels = np.array([0] * 60 + [1] * 30 + [2] * 10)
    x = np.arange(100)
    (_xt, yt), (xv, yv) = train_val_split(x, labels, val_fraction=0.2, stratify=True, seed=3)
    assert np.bincount(yv).tolist() == [12, 6, 2] and np.bincount(yt).tolist() == [48, 24, 8]
    assert np.array_equal(labels[xv], yv)


def test_train_val_split_errors():
    with pytest.raises(ValueError, match="same length"):
        train_val_split(np.zeros(5), np.zeros(6))
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(np.zeros(5), val_fraction=1.5)


def test_one_hot_reexport():
    from autograd_core.preprocessing import one_hot

    out = one_hot(ag.tensor([2, 0, 1]), 4)
    assert arr(out).tolist() == [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]]


def test_concat_dataset_and_unbatched_loader():
    both = Squares() + Squares()
    assert len(both) == 14 and both[8]["name"] == "s1" and both[-1]["name"] == "s6"
    with pytest.raises(IndexError):
        both[14]
    samples = list(DataLoader(Squares(), batch_size=None))
    assert len(samples) == 7 and samples[3]["label"] == 1
