"""Tensor basics: creation, dtypes and promotion, memory sharing with numpy, repr, in-place ops,
random numbers, thread-count independence."""
import numpy as np
import pytest

import autograd_core as ag


def test_creation_dtypes_follow_python_types():
    assert ag.tensor(1.5).dtype == ag.float32 and ag.tensor(1.5).shape == ()
    assert ag.tensor([1, 2]).dtype == ag.int64
    assert ag.tensor([True, False]).dtype == ag.bool
    assert ag.tensor(np.zeros(2, dtype=np.float64)).dtype == ag.float64
    assert ag.tensor([[1, 2], [3, 4]], dtype=ag.float64).dtype == ag.float64


def test_shape_arguments_both_forms():
    for f in (ag.zeros, ag.ones, ag.empty, ag.rand, ag.randn):
        assert f(2, 3).shape == (2, 3) == f((2, 3)).shape
    assert isinstance(ag.zeros(2, 3).shape, tuple) and isinstance(ag.zeros(2).shape, ag.Size)
    assert ag.full((2, 2), 7).dtype == ag.int64 and ag.full((2,), 1.5).dtype == ag.float32
    np.testing.assert_array_equal(ag.eye(3, 2).numpy(), np.eye(3, 2, dtype=np.float32))
    np.testing.assert_array_equal(ag.arange(5).numpy(), np.arange(5))
    np.testing.assert_allclose(ag.arange(0, 1, 0.25).numpy(), [0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(ag.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5), rtol=1e-6)
    x = ag.ones(2, 3, dtype=ag.float64)
    assert ag.zeros_like(x).dtype == ag.float64 and ag.full_like(x, 3).numpy().sum() == 18
    assert ag.rand_like(x).shape == (2, 3) and ag.randn_like(x).dtype == ag.float64
    assert ag.zeros(2, requires_grad=True).requires_grad


@pytest.mark.parametrize("a,b,expected", [
    (ag.ones(2), ag.ones(2, dtype=ag.float64), ag.float64),
    (ag.ones(2), 2.5, ag.float32),
    (ag.ones(2, dtype=ag.int64), 2.5, ag.float32),
    (ag.ones(2, dtype=ag.int64), 2, ag.int64),
    (ag.ones(2, dtype=ag.bool), 2, ag.int64),
    (ag.ones(2), ag.tensor(1.0, dtype=ag.float64), ag.float32),  # 0-d does not promote within a category
    (ag.ones(2, dtype=ag.int64), ag.tensor(1.0, dtype=ag.float64), ag.float64),  # but does across categories
    (ag.ones(2, dtype=ag.int32), ag.ones(2, dtype=ag.int64), ag.int64),
])
def test_type_promotion_matches_pytorch(a, b, expected):
    assert (a + b).dtype == expected
    assert (b + a).dtype == expected


def test_int_true_division_gives_float32():
    r = ag.tensor([3, 4]) / ag.tensor([2, 2])
    assert r.dtype == ag.float32
    np.testing.assert_allclose(r.numpy(), [1.5, 2.0])
    np.testing.assert_array_equal((ag.tensor([-7, 7]) // 2).numpy(), [-4, 3])
    np.testing.assert_array_equal((ag.tensor([-7, 7]) % 3).numpy(), [2, 1])


def test_comparisons_and_bool_ops():
    x = ag.tensor([1.0, 2.0, 3.0])
    m = (x > 1.5) & ~(x == 3.0)
    assert m.dtype == ag.bool
    np.testing.assert_array_equal(m.numpy(), [False, True, False])
    np.testing.assert_array_equal((x != 2).numpy(), [True, False, True])


def test_numpy_memory_is_shared_both_ways():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = ag.from_numpy(a)
    a[0, 0] = 100
    assert t[0, 0].item() == 100
    t[1, 2] = -1.0
    assert a[1, 2] == -1
    b = np.asarray(t)
    assert np.shares_memory(a, b)
    tt = t.T
    assert not tt.is_contiguous() and tt.stride() == (1, 3)
    assert np.asarray(tt).strides == (4, 12)


def test_views_share_storage_and_reshape_copies_only_when_needed():
    x = ag.arange(12).reshape(3, 4)
    v = x[:, 1:3]
    v.fill_(0)
    assert x.sum().item() == sum(range(12)) - (1 + 2 + 5 + 6 + 9 + 10)
    y = x.T.reshape(12)  # cannot be a view: a copy
    y.fill_(5)
    assert x[0, 0].item() == 0
    assert x.view(4, 3).shape == (4, 3)


def test_repr_like_pytorch():
    assert repr(ag.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(ag.tensor([1, 2])) == "tensor([1, 2])"
    assert "requires_grad=True" in repr(ag.ones(2, requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(ag.ones(2, requires_grad=True) * 2)
    assert "dtype=autograd_core.float64" in repr(ag.ones(2, dtype=ag.float64))


def test_item_tolist_len_iter():
    x = ag.tensor([[1, 2], [3, 4]])
    assert x.tolist() == [[1, 2], [3, 4]] and len(x) == 2
    assert [r.tolist() for r in x] == [[1, 2], [3, 4]]
    assert ag.tensor(2.5).item() == 2.5 and float(ag.tensor([3.0])) == 3.0


def test_inplace_ops():
    x = ag.zeros(3)
    x.add_(1).mul_(3).sub_(ag.tensor([1.0, 2.0, 3.0])).div_(2)
    np.testing.assert_allclose(x.numpy(), [1.0, 0.5, 0.0])
    x.clamp_(0.2, 0.8)
    np.testing.assert_allclose(x.numpy(), [0.8, 0.5, 0.2])
    x.copy_(ag.tensor([7.0]))
    np.testing.assert_allclose(x.numpy(), [7, 7, 7])
    x.zero_()
    assert x.sum().item() == 0
    x += 2
    assert x.sum().item() == 6


def test_to_and_conversions():
    x = ag.tensor([1.7, -1.7])
    assert x.to(ag.int64).tolist() == [1, -1]
    assert x.double().dtype == ag.float64 and x.long().dtype == ag.int64
    assert x.to(ag.float64).to(ag.float32).dtype == ag.float32
    y = ag.ones(2, requires_grad=True)
    y.double().sum().backward()
    assert y.grad.dtype == ag.float32


def test_manual_seed_reproducible():
    ag.manual_seed(123)
    a = [ag.rand(5), ag.randn(3, 3), ag.randint(0, 10, (4,)), ag.randperm(6)]
    ag.manual_seed(123)
    b = [ag.rand(5), ag.randn(3, 3), ag.randint(0, 10, (4,)), ag.randperm(6)]
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert sorted(a[3].tolist()) == list(range(6))
    r = ag.rand(100000).numpy()
    assert 0 <= r.min() and r.max() < 1 and abs(r.mean() - 0.5) < 0.01
    n = ag.randn(100000).numpy()
    assert abs(n.mean()) < 0.02 and abs(n.std() - 1) < 0.02


@pytest.fixture
def restore_threads():
    n = ag.get_num_threads()
    yield
    ag.set_num_threads(n)


def test_results_do_not_depend_on_thread_count(restore_threads):
    ag.manual_seed(7)
    x = ag.randn(1000, 1000)
    w = ag.randn(1000, 300)
    outs = []
    for threads in (1, 2):
        ag.set_num_threads(threads)
        assert ag.get_num_threads() == threads
        ag.manual_seed(11)
        r = ag.rand(300000)
        outs.append([x.sum().item(), x.sum(0).numpy().copy(), x.softmax(-1).numpy().copy(),
                     (x @ w).numpy().copy(), x.exp().numpy().copy(), r.numpy().copy()])
    for p, q in zip(*outs):
        np.testing.assert_array_equal(p, q)


def test_float32_sum_accuracy_large():
    a = np.random.default_rng(0).uniform(0, 1, 10_000_000).astype(np.float32)
    got = ag.from_numpy(a).sum().item()
    want = a.astype(np.float64).sum()
    assert abs(got - want) / want < 1e-6


def test_no_grad_skips_graph_nodes():
    x = ag.ones(3, requires_grad=True)
    with ag.no_grad():
        y = x * 2 + 1
    assert y.grad_fn is None and not y.requires_grad


def test_tensor_constructor():
    assert ag.Tensor([1, 2]).dtype == ag.float32
    assert ag.Tensor(2, 3).shape == (2, 3)


def test_small_blocks_reused_without_mixing_data():
    # small tensors come from per-size free lists: freeing and reallocating many of every small
    # size class must never hand one block to two live tensors
    rng = np.random.default_rng(0)
    live = {}
    for step in range(3000):
        n = int(rng.integers(0, 300))  # 0 ... 1.2 KiB of float32: every small class and just above
        key = step
        live[key] = (ag.full((n,), float(step)), n)
        if len(live) > 200:
            for k in list(live)[: int(rng.integers(1, 50))]:
                del live[k]
    for k, (t, n) in live.items():
        assert t.shape == (n,)
        assert np.all(t.numpy() == np.float32(k))
