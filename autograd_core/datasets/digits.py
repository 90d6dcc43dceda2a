"""The handwritten digits shipped with the package (UCI optical digits, CC BY 4.0; see data/README.md)."""

import os

import numpy as np

from ._common import to_tensor

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
DIGITS_PATH = os.path.join(DATA_DIR, "digits.npz")
DIGITS_CITATION = (
    'E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits", '
    "UCI Machine Learning Repository, 1998, DOI 10.24432/C50P49 (CC BY 4.0)"
)

# the train/test split never changes: the same 360 test images (36 per class) for every user
_SPLIT_SEED = 20260101
_TEST_PER_CLASS = 36

_cache = {}


def _raw_digits():
    if "raw" not in _cache:
        with np.load(DIGITS_PATH, allow_pickle=False) as archive:
            _cache["raw"] = (archive["images"], archive["labels"])
    return _cache["raw"]


def _test_mask(labels):
    rng = np.random.default_rng(_SPLIT_SEED)
    mask = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        mask[rng.choice(rows, size=_TEST_PER_CLASS, replace=False)] = True
    return mask


def load_digits(split="all", flatten=False, as_numpy=False):
    """The 1,797 8x8 handwritten digits: float32 images in [0, 1] and int64 labels 0..9.

    split: "all" (1,797 images), "train" (1,437) or "test" (360, 36 per digit; always the same images).
    flatten: images as (N, 64) rows instead of (N, 1, 8, 8).
    as_numpy: NumPy arrays instead of tensors.

    Source (CC BY 4.0): E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits", UCI
    Machine Learning Repository, 1998, DOI 10.24432/C50P49; these are the 1,797 images of its test
    part, each pixel a count 0..16 of set pixels in a 4x4 block of a 32x32 bitmap (here divided by 16).

    >>> images, labels = ag.datasets.load_digits("train")
    >>> tuple(images.shape), tuple(labels.shape)
    ((1437, 1, 8, 8), (1437,))
    """
    if split not in ("all", "train", "test"):
        raise ValueError(f"load_digits: split must be 'all', 'train' or 'test', got {split!r}")
    images, labels = _raw_digits()
    if split != "all":
        mask = _test_mask(labels)
        keep = mask if split == "test" else ~mask
        images, labels = images[keep], labels[keep]
    x = images.astype(np.float32) / np.float32(16.0)
    x = x.reshape(len(x), 64) if flatten else x.reshape(len(x), 1, 8, 8)
    y = labels.astype(np.int64)
    if as_numpy:
        return x, y
    return to_tensor(x), to_tensor(y)
