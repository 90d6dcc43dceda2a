"""Shipped digits and the teaching-problem generators: shapes, dtypes, ranges, geometry, seeding."""

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import datasets


def arr(t):
    return np.asarray(t.numpy())


# ------------------------------------------------------------------------------------------- digits


def test_digits_all_shapes_dtypes_ranges():
    x, y = datasets.load_digits()
    assert tuple(x.shape) == (1797, 1, 8, 8) and x.dtype == ag.float32
    assert tuple(y.shape) == (1797,) and y.dtype == ag.int64
    xa, ya = arr(x), arr(y)
    assert xa.min() == 0.0 and xa.max() == 1.0
    # pixels are counts 0..16 scaled by 1/16
    assert np.array_equal(xa * 16, np.round(xa * 16))
    assert np.array_equal(np.bincount(ya), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])


def test_digits_flatten_and_numpy():
    x, _y = datasets.load_digits(flatten=True, as_numpy=True)
    assert isinstance(x, np.ndarray) and x.shape == (1797, 64) and x.dtype == np.float32
    x4, _ = datasets.load_digits()
    assert np.array_equal(arr(x4).reshape(1797, 64), x)


def test_digits_split_fixed_disjoint_and_complete():
    xtr, ytr = datasets.load_digits("train", flatten=True, as_numpy=True)
    xte, yte = datasets.load_digits("test", flatten=True, as_numpy=True)
    xall, yall = datasets.load_digits(flatten=True, as_numpy=True)
    assert len(xtr) == 1437 and len(xte) == 360
    assert np.array_equal(np.bincount(yte), [36] * 10)
    both = np.concatenate([np.c_[xtr, ytr], np.c_[xte, yte]])
    everything = np.c_[xall, yall]
    assert np.array_equal(np.sort(both.view([("", both.dtype)] * 65), axis=0),
                          np.sort(everything.view([("", everything.dtype)] * 65), axis=0))
    again, _ = datasets.load_digits("test", flatten=True, as_numpy=True)
    assert np.array_equal(again, xte)


def test_digits_bad_split():
    with pytest.raises(ValueError, match="split"):
        datasets.load_digits("validation")


# --------------------------------------------------------------------------------------- generators

CLASSIFIERS = [
    (datasets.make_moons, 2),
    (datasets.make_circles, 2),
    (datasets.make_spirals, 2),
    (datasets.make_xor, 2),
]


@pytest.mark.parametrize("make,n_classes", CLASSIFIERS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_classification_generators_shapes_and_balance(make, n_classes):
    x, y = make(n_samples=101, seed=3)
    assert tuple(x.shape) == (101, 2) and x.dtype == ag.float32
    assert tuple(y.shape) == (101,) and y.dtype == ag.int64
    counts = np.bincount(arr(y), minlength=n_classes)
    assert len(counts) == n_classes and counts.max() - counts.min() <= 1
    assert np.all(np.isfinite(arr(x)))


@pytest.mark.parametrize("make", [c[0] for c in CLASSIFIERS] + [datasets.make_gaussian_mixture,
                                  datasets.make_regression, datasets.make_polynomial],
                         ids=lambda f: f.__name__)
def test_generators_seeded(make):
    a = make(n_samples=50, seed=1)
    b = make(n_samples=50, seed=1)
    c = make(n_samples=50, seed=2)
    assert np.array_equal(arr(a[0]), arr(b[0])) and np.array_equal(arr(a[1]), arr(b[1]))
    assert not np.array_equal(arr(a[0]), arr(c[0]))
    ag.manual_seed(7)
    d = make(n_samples=50)
    ag.manual_seed(7)
    e = make(n_samples=50)
    assert np.array_equal(arr(d[0]), arr(e[0]))


def test_moons_geometry_without_noise():
    x, y = datasets.make_moons(200, noise=0.0, seed=0)
    x, y = arr(x).astype(np.float64), arr(y)
    upper, lower = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=1e-6)
    assert np.all(upper[:, 1] >= -1e-6)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, rtol=1e-6)
    assert np.all(lower[:, 1] <= 0.5 + 1e-6)


def test_circles_radii_without_noise():
    x, y = datasets.make_circles(100, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(*arr(x).astype(np.float64).T)
    np.testing.assert_allclose(r[arr(y) == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(r[arr(y) == 1], 0.3, rtol=1e-6)


def test_spirals_classes_and_radius():
    x, y = datasets.make_spirals(300, n_classes=3, noise=0.0, seed=0)
    assert set(np.unique(arr(y))) == {0, 1, 2}
    assert np.hypot(*arr(x).T).max() <= 1.0 + 1e-6


def test_xor_labels_follow_quadrants_without_noise():
    x, y = datasets.make_xor(40, noise=0.0, seed=0)
    xa = arr(x)
    assert np.array_equal(arr(y), (np.sign(xa[:, 0]) != np.sign(xa[:, 1])).astype(np.int64))


def test_regression_is_linear_with_known_coefficients():
    x, y, w, b = datasets.make_regression(64, n_features=3, noise=0.0, bias=0.5, seed=0, return_coef=True)
    assert tuple(x.shape) == (64, 3) and tuple(y.shape) == (64, 1) and y.dtype == ag.float32
    np.testing.assert_allclose(arr(y), arr(x).astype(np.float64) @ arr(w) + b, rtol=1e-5, atol=1e-5)
    x2, y2 = datasets.make_regression(64, n_features=2, noise=0.0, weights=[1.0, -2.0], seed=0)
    np.testing.assert_allclose(arr(y2)[:, 0], arr(x2) @ [1.0, -2.0], rtol=1e-5, atol=1e-5)


def test_regression_noise_level():
    x, y = datasets.make_regression(4000, noise=0.5, weights=[2.0], seed=0)
    residual = arr(y)[:, 0] - 2.0 * arr(x)[:, 0]
    assert abs(residual.std() - 0.5) < 0.03


def test_polynomial_matches_polyval():
    x, y = datasets.make_polynomial(50, degree=2, noise=0.0, coef=[1.0, -2.0, 3.0], x_range=(-2, 2), seed=0)
    xa = arr(x)[:, 0].astype(np.float64)
    assert xa.min() >= -2 and xa.max() <= 2
    np.testing.assert_allclose(arr(y)[:, 0], 1 - 2 * xa + 3 * xa**2, rtol=1e-5, atol=1e-5)


def test_gaussian_mixture_near_centres():
    x, c = datasets.make_gaussian_mixture(800, n_components=8, radius=2.0, std=0.01, seed=0)
    angle = 2 * np.pi * arr(c) / 8
    centres = 2.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    assert np.abs(arr(x) - centres).max() < 0.08
    assert len(np.unique(arr(c))) == 8
    x3, _ = datasets.make_gaussian_mixture(10, centers=[[0, 0, 0], [5, 5, 5]], std=0.0, seed=0)
    assert tuple(x3.shape) == (10, 3)


def test_sequence_tasks():
    x, y = datasets.make_copy_task(5, seq_len=6, vocab_size=4, delay=3, seed=0)
    assert tuple(x.shape) == (5, 9) and x.dtype == ag.int64
    xa, ya = arr(x), arr(y)
    assert np.array_equal(ya[:, 3:], xa[:, :6]) and np.all(ya[:, :3] == 0) and np.all(xa[:, 6:] == 0)
    assert xa[:, :6].min() >= 1 and xa.max() <= 3
    x, y = datasets.make_reverse_task(4, seq_len=5, seed=0)
    assert np.array_equal(arr(y), arr(x)[:, ::-1])
    x, y = datasets.make_sum_task(6, seq_len=7, seed=0)
    assert tuple(x.shape) == (6, 7, 1) and tuple(y.shape) == (6, 1)
    np.testing.assert_allclose(arr(y), arr(x).sum(axis=1), rtol=1e-5)


@pytest.mark.parametrize("call", [
    lambda: datasets.make_moons(0),
    lambda: datasets.make_moons(10, noise=-1),
    lambda: datasets.make_circles(10, factor=1.5),
    lambda: datasets.make_spirals(10, n_classes=1),
    lambda: datasets.make_regression(10, n_features=2, weights=[1.0]),
    lambda: datasets.make_polynomial(10, degree=2, coef=[1.0]),
    lambda: datasets.make_copy_task(10, vocab_size=1),
], ids=["moons-n", "moons-noise", "circles-factor", "spirals-classes", "regression-weights", "poly-coef",
        "copy-vocab"])
def test_generator_bad_arguments(call):
    with pytest.raises(ValueError):
        call()
