"""sort, argsort, topk, median, unique, bincount, isclose, allclose (autograd_core/ops/sorting.py).

Against NumPy (stable orders, NaN last ascending and first descending), gradcheck of the values,
non-contiguous inputs, errors; with torch, the same calls compared with PyTorch's."""
import numpy as np
import pytest

import autograd_core as ag
from autograd_core.autograd import gradcheck

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
nan = float("nan")


def _stable_desc(a, axis):
    n = a.shape[axis]
    key = np.where(np.isnan(a), np.inf, a) if a.dtype.kind == "f" else a
    # descending by value, NaN first, ties by original index
    order = np.lexsort((np.broadcast_to(np.arange(n).reshape([-1 if i == axis else 1 for i in range(a.ndim)]),
                                        a.shape).swapaxes(axis, -1),
                        -key.swapaxes(axis, -1).astype(np.float64)), axis=-1)
    return order.swapaxes(axis, -1)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
def test_sort_and_argsort_against_numpy(dtype, dim, layout):
    rng = np.random.default_rng(0)
    base = rng.integers(-3, 4, (6, 8)).astype(dtype)  # many ties
    if dtype != "int64":
        base[1, 2] = nan
        base[4, 4] = nan
    t = ag.tensor(base)
    a = base
    if layout == "transposed":
        t, a = t.t(), base.T
    elif layout == "sliced":
        t, a = t[::2, 1::3], base[::2, 1::3]
    values, idx = ag.sort(t, dim)
    want = np.argsort(a, axis=dim, kind="stable")
    np.testing.assert_array_equal(idx.numpy(), want)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(a, want, dim))
    np.testing.assert_array_equal(ag.argsort(t, dim).numpy(), want)
    d_idx = ag.argsort(t, dim, descending=True).numpy()
    np.testing.assert_array_equal(d_idx, _stable_desc(a, dim % 2))
    np.testing.assert_array_equal(t.sort(dim, descending=True).values.numpy(), np.take_along_axis(a, d_idx, dim))


@pytest.mark.parametrize("largest", [True, False])
def test_topk_values_indices_and_gradient(largest):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 7))
    x = ag.tensor(a, requires_grad=True)
    v, i = x.topk(3, dim=1, largest=largest)
    order = np.argsort(-a if largest else a, axis=1)[:, :3]
    np.testing.assert_array_equal(i.numpy(), order)
    np.testing.assert_array_equal(v.detach().numpy(), np.take_along_axis(a, order, 1))
    assert gradcheck(lambda t: t.topk(3, dim=0, largest=largest).values, (x,))
    assert gradcheck(lambda t: ag.sort(t, 1, descending=True).values, (x,))
    assert tuple(ag.topk(x, 0).values.shape) == (4, 0)


def test_median():
    a = np.array([[3.0, 1.0, 2.0, 4.0], [5.0, nan, 0.0, 1.0], [2.0, 2.0, 7.0, -1.0]])
    m = ag.median(ag.tensor(a), 1)
    np.testing.assert_array_equal(m.values.numpy(), [2.0, nan, 2.0])  # the lower median; NaN propagates
    np.testing.assert_array_equal(m.indices.numpy()[:2], [2, 1])
    assert ag.median(ag.tensor([[4.0, 1.0], [3.0, 2.0]])).item() == 2.0
    assert tuple(ag.median(ag.tensor(a), 0, keepdim=True).values.shape) == (1, 4)
    x = ag.tensor(np.random.default_rng(2).standard_normal((3, 5)), requires_grad=True)
    assert gradcheck(lambda t: t.median(1).values, (x,))
    assert gradcheck(lambda t: t.median(), (x,))


def test_unique_bincount_isclose():
    x = ag.tensor([3, 1, 3, 2, 1, 3])
    np.testing.assert_array_equal(ag.unique(x).numpy(), [1, 2, 3])
    u, inv, cnt = x.unique(return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(u.numpy()[inv.numpy()], x.numpy())
    np.testing.assert_array_equal(cnt.numpy(), [2, 1, 3])
    rows = ag.unique(ag.tensor([[1, 2], [0, 5], [1, 2]]), dim=0)
    np.testing.assert_array_equal(rows.numpy(), [[0, 5], [1, 2]])
    np.testing.assert_array_equal(ag.bincount(x, minlength=6).numpy(), [0, 2, 1, 3, 0, 0])
    w = ag.bincount(ag.tensor([0, 2, 2]), weights=ag.tensor([0.5, 1.0, 2.0]))
    assert w.dtype == ag.float32
    np.testing.assert_allclose(w.numpy(), [0.5, 0.0, 3.0])
    a = ag.tensor([1.0, float("inf"), nan, 1e-9, -float("inf")])
    b = ag.tensor([1.0 + 1e-6, float("inf"), nan, 0.0, float("inf")])
    np.testing.assert_array_equal(ag.isclose(a, b).numpy(), [True, True, False, True, False])
    np.testing.assert_array_equal(a.isclose(b, equal_nan=True).numpy(), [True, True, True, True, False])
    assert ag.allclose(ag.ones(2, 3), ag.ones(3) + 1e-7) and not ag.allclose(ag.ones(3), ag.zeros(3))
    np.testing.assert_array_equal(ag.isclose(ag.tensor([1, 2]), ag.tensor([1, 3])).numpy(), [True, False])


@pytest.mark.parametrize("call,err,match", [
    (lambda: ag.sort(ag.ones(2, 3), 2), IndexError, r"sort: dim 2 is out of range.*\(2, 3\)"),
    (lambda: ag.topk(ag.ones(2, 3), 4), RuntimeError, r"topk: k \(4\) is out of range for dimension 1 of size 3"),
    (lambda: ag.median(ag.ones(0)), RuntimeError, "empty"),
    (lambda: ag.bincount(ag.tensor([1.0, 2.0])), RuntimeError, "1-d tensor of integers"),
    (lambda: ag.bincount(ag.tensor([1, -2])), RuntimeError, "nonnegative"),
    (lambda: ag.bincount(ag.tensor([1, 2]), weights=ag.ones(3)), RuntimeError, r"weights of shape \(3,\)"),
    (lambda: ag.isclose(ag.ones(2), ag.ones(2), rtol=-1), ValueError, "nonnegative"),
])
def test_bad_input_raises_clearly(call, err, match):
    with pytest.raises(err, match=match):
        call()


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_against_torch(dtype):
    rng = np.random.default_rng(3)
    for _ in range(20):
        shape = tuple(int(s) for s in rng.integers(1, 6, int(rng.integers(1, 4))))
        a = rng.integers(-4, 5, shape).astype(dtype) if rng.random() < 0.5 else \
            (rng.standard_normal(shape) * 10).astype(dtype)
        if dtype != "int64" and a.size > 2 and rng.random() < 0.5:
            a.flat[int(rng.integers(0, a.size))] = nan
        t, tt = ag.tensor(a), torch.tensor(a)
        dim = int(rng.integers(-len(shape), len(shape)))
        for desc in (False, True):
            ours, theirs = ag.sort(t, dim, descending=desc), torch.sort(tt, dim=dim, descending=desc, stable=True)
            np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
            np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        k = int(rng.integers(0, shape[dim] + 1))
        np.testing.assert_array_equal(ag.topk(t, k, dim).values.numpy(), torch.topk(tt, k, dim).values.numpy())
        np.testing.assert_array_equal(ag.topk(t, k, dim, largest=False).values.numpy(),
                                      torch.topk(tt, k, dim, largest=False).values.numpy())
        np.testing.assert_array_equal(ag.median(t, dim).values.numpy(), torch.median(tt, dim).values.numpy())
        np.testing.assert_array_equal(ag.median(t).numpy(), torch.median(tt).numpy())
        np.testing.assert_array_equal(ag.unique(t).numpy(), torch.unique(tt).numpy())
        b = a + (rng.standard_normal(shape) * 1e-6).astype(dtype) if dtype != "int64" else a
        np.testing.assert_array_equal(ag.isclose(t, ag.tensor(b)).numpy(), torch.isclose(tt, torch.tensor(b)).numpy())
