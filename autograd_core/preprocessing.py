"""Preprocessing in the scikit-learn manner: scalers with fit/transform, train/validation splits.

Everything here accepts tensors or NumPy arrays and gives back the same kind it was given.
(Formerly `ag.data`, a name too close to `ag.utils.data`, PyTorch's Dataset and DataLoader; that
name still imports, with a DeprecationWarning.)
Statistics are computed in float64 over the first axis (samples); every other axis is a feature,
so images of shape (N, C, H, W) are scaled pixel by pixel.
"""

import numpy as np

from .datasets._common import numpy_rng
from .dtypes import float32, float64
from .nn.functional import one_hot as _one_hot
from .ops.creation import from_numpy
from .tensor import is_tensor
from .utils.data.dataset import random_split

__all__ = ["MinMaxScaler", "StandardScaler", "one_hot", "train_val_split"]


def _as_numpy(x, op):
    if is_tensor(x):
        return np.asarray(x.detach().numpy())
    try:
        return np.asarray(x)
    except Exception as exc:  # pragma: no cover - message only
        raise TypeError(f"{op}: expected a tensor or an array, got {type(x).__name__}") from exc


def _samples(x, op):
    """x as a float64 NumPy array of shape (N, ...) with N >= 1."""
    a = _as_numpy(x, op)
    if a.ndim == 0:
        raise ValueError(f"{op}: expected an array of shape (n_samples, ...), got a 0-d value")
    if a.shape[0] == 0:
        raise ValueError(f"{op}: cannot fit on 0 samples (shape {a.shape})")
    if not np.issubdtype(a.dtype, np.number) and a.dtype != np.bool_:
        raise TypeError(f"{op}: expected numbers, got dtype {a.dtype}")
    return a.astype(np.float64)


class _Scaler:
    """Shared machinery: subclasses set `_shift` and `_scale` in fit; transform is (x - shift) / scale."""

    _shift = None
    _scale = None

    def _check_fitted(self, op):
        if self._shift is None:
            raise RuntimeError(f"{type(self).__name__}.{op}: call fit (or fit_transform) first")

    def _check_features(self, x, op):
        shape = tuple(x.shape)[1:]
        if shape != self._shift.shape:
            raise ValueError(
                f"{type(self).__name__}.{op}: was fitted on samples of shape {self._shift.shape}, "
                f"got input of shape {tuple(x.shape)}"
            )

    def _apply(self, x, op, inverse):
        self._check_fitted(op)
        self._check_features(x, op)
        if is_tensor(x):
            out_dtype = x.dtype if x.dtype in (float32, float64) else float32
            np_dtype = np.float64 if out_dtype == float64 else np.float32
            shift = from_numpy(self._shift.astype(np_dtype))
            scale = from_numpy(self._scale.astype(np_dtype))
            xf = x if x.dtype == out_dtype else x.to(out_dtype)
            # tensor ops, so a scaler inside a model stays differentiable
            return xf * scale + shift if inverse else (xf - shift) / scale
        a = np.asarray(x)
        dtype = a.dtype if a.dtype in (np.float32, np.float64) else np.float64
        a = a.astype(dtype, copy=False)
        shift, scale = self._shift.astype(dtype), self._scale.astype(dtype)
        return a * scale + shift if inverse else (a - shift) / scale

    def transform(self, x):
        """Scale x with the statistics learned by fit; same kind (tensor/array) as given."""
        return self._apply(x, "transform", inverse=False)

    def inverse_transform(self, x):
        """Undo transform: back to the original units."""
        return self._apply(x, "inverse_transform", inverse=True)

    def fit_transform(self, x):
        return self.fit(x).transform(x)


class StandardScaler(_Scaler):
    """Standardise features to zero mean and unit variance: (x - mean_) / scale_.

    Fit on the training data only, then transform training, validation and test data with the same
    statistics. scale_ is the population standard deviation (ddof=0); a constant feature gets
    scale_ = 1, so it maps to 0 instead of dividing by zero.
    """

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std
        self.mean_ = self.var_ = self.scale_ = None
        self.n_samples_seen_ = 0

    def fit(self, x):
        """Learn each feature's mean and population standard deviation from ``x`` (samples on the first
        axis); returns self.
        """
        a = _samples(x, "StandardScaler.fit")
        self.mean_ = a.mean(axis=0)
        self.var_ = a.var(axis=0)
        std = np.sqrt(self.var_)
        # a feature whose spread is at rounding level of its magnitude counts as constant
        constant = std <= 10 * np.finfo(np.float64).eps * np.maximum(np.abs(self.mean_), 1.0)
        self.scale_ = np.where(constant, 1.0, std)
        self.n_samples_seen_ = a.shape[0]
        self._shift = self.mean_ if self.with_mean else np.zeros_like(self.mean_)
        self._scale = self.scale_ if self.with_std else np.ones_like(self.scale_)
        return self

    def __repr__(self):
        return f"StandardScaler(with_mean={self.with_mean}, with_std={self.with_std})"


class MinMaxScaler(_Scaler):
    """Rescale each feature linearly so the training data spans feature_range (default [0, 1]).

    A constant feature maps to feature_range[0].
    """

    def __init__(self, feature_range=(0.0, 1.0)):
        low, high = feature_range
        if not low < high:
            raise ValueError(f"MinMaxScaler: feature_range must be (low, high) with low < high, got {feature_range!r}")
        self.feature_range = (float(low), float(high))
        self.data_min_ = self.data_max_ = self.scale_ = self.min_ = None

    def fit(self, x):
        """Learn each feature's minimum and maximum from ``x`` (samples on the first axis); returns self."""
        a = _samples(x, "MinMaxScaler.fit")
        low, high = self.feature_range
        self.data_min_ = a.min(axis=0)
        self.data_max_ = a.max(axis=0)
        data_range = self.data_max_ - self.data_min_
        data_range = np.where(data_range == 0, 1.0, data_range)
        # transform(x) = x * scale_ + min_  ==  (x - shift) / (1 / scale_)
        self.scale_ = (high - low) / data_range
        self.min_ = low - self.data_min_ * self.scale_
        self._scale = data_range / (high - low)
        self._shift = self.data_min_ - low * self._scale
        return self

    def __repr__(self):
        return f"MinMaxScaler(feature_range={self.feature_range})"


def _take(x, indices):
    if is_tensor(x):
        return x.index_select(0, from_numpy(indices.astype(np.int64)))
    return np.asarray(x)[indices]


def _stratified_val_indices(labels, n_val, rng):
    """Pick n_val rows so each class keeps (as near as rounding allows) its share of the data."""
    classes, inverse = np.unique(labels, return_inverse=True)
    counts = np.bincount(inverse)
    exact = counts * (n_val / len(labels))
    take = np.floor(exact).astype(np.int64)
    # hand out the rows lost to rounding to the classes with the largest remainders
    for c in np.argsort(-(exact - take), kind="stable")[: n_val - int(take.sum())]:
        take[c] += 1
    chosen = [rng.permutation(np.flatnonzero(inverse == c))[: take[c]] for c in range(len(classes))]
    return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)


def train_val_split(*arrays, val_fraction=0.2, stratify=None, shuffle=True, seed=None):
    """Split arrays/tensors along the first axis into a training part and a validation part.

    Returns (train, val), each a tuple with one entry per input (or a single array if one input
    was given), so `fit(model, loss, opt, train, val)` takes them directly:

    >>> from autograd_core.preprocessing import train_val_split
    >>> X, y = ag.randn(8, 2), ag.tensor([0, 1, 0, 1, 0, 1, 0, 1])
    >>> train, val = train_val_split(X, y, val_fraction=0.25, stratify=y, seed=0)
    >>> (X_train, y_train), (X_val, y_val) = train, val
    >>> tuple(X_train.shape), y_val.sum().item()
    ((6, 2), 1)

    stratify: class labels (or True to use the last array) so both parts keep the class proportions.
    seed: an int for a fixed split; None draws from autograd_core's generator (see ag.manual_seed).
    Without stratify the rows are drawn by :func:`ag.utils.data.random_split` (the one random
    partition of the library); this function adds the tuple-of-arrays form and stratification.
    """
    if not arrays:
        raise ValueError("train_val_split: expected at least one array")
    lengths = [len(a) if is_tensor(a) else np.shape(a)[0] for a in arrays]
    if len(set(lengths)) != 1:
        shapes = ", ".join(str(tuple(np.shape(a)) if not is_tensor(a) else tuple(a.shape)) for a in arrays)
        raise ValueError(f"train_val_split: all inputs need the same length along the first axis, got shapes {shapes}")
    n = lengths[0]
    if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
        raise TypeError(f"train_val_split: seed must be an int or None, got {type(seed).__name__}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"train_val_split: val_fraction must be in (0, 1), got {val_fraction!r}")
    n_val = round(n * val_fraction)
    if n_val < 1 or n_val >= n:
        raise ValueError(f"train_val_split: val_fraction={val_fraction} of {n} samples leaves an empty part")
    if stratify is not None and stratify is not False:
        if not shuffle:
            raise ValueError("train_val_split: stratify needs shuffle=True")
        labels = _as_numpy(arrays[-1] if stratify is True else stratify, "train_val_split")
        if labels.shape[:1] != (n,):
            raise ValueError(f"train_val_split: stratify labels have shape {labels.shape}, expected ({n},)")
        rng = numpy_rng(seed)
        val_idx = _stratified_val_indices(labels.reshape(n, -1)[:, 0] if labels.ndim > 1 else labels, n_val, rng)
        mask = np.zeros(n, dtype=bool)
        mask[val_idx] = True
        train_idx = rng.permutation(np.flatnonzero(~mask))
        val_idx = rng.permutation(val_idx)
    elif shuffle:
        train_part, val_part = random_split(range(n), [n - n_val, n_val], generator=None if seed is None else int(seed))
        train_idx = np.asarray(train_part.indices, dtype=np.int64)
        val_idx = np.asarray(val_part.indices, dtype=np.int64)
    else:
        train_idx, val_idx = np.arange(n - n_val), np.arange(n - n_val, n)
    train = tuple(_take(a, train_idx) for a in arrays)
    val = tuple(_take(a, val_idx) for a in arrays)
    if len(arrays) == 1:
        return train[0], val[0]
    return train, val


def one_hot(labels, num_classes=-1):
    """Integer class labels -> one-hot int64 rows (the same function as ag.nn.functional.one_hot)."""
    return _one_hot(labels, num_classes)
