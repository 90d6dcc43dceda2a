"""Sparse COO tensors: construction, to_sparse / to_dense round trips, coalesce, and sparse @ dense
products with gradients to the dense operand and the values, against torch when installed."""
import numpy as np
import pytest

import autograd_core as ag

try:
    import torch
except ImportError:
    torch = None

RNG = np.random.default_rng(7)
A = RNG.standard_normal((6, 5))
A[A < 0.4] = 0
I = [[0, 1, 1, 0, 4], [2, 0, 2, 2, 1]]
V = [3.0, 4.0, 5.0, 1.0, -2.0]


def test_round_trips_and_metadata():
    sp = ag.tensor(A).to_sparse()
    assert sp.is_sparse and not ag.tensor(A).is_sparse and sp.shape == (6, 5) and sp.is_coalesced()
    np.testing.assert_array_equal(sp.to_dense().numpy(), A)
    assert sp._nnz() == int((A != 0).sum()) and sp.sparse_dim() == 2 and sp.dense_dim() == 0
    s = ag.sparse_coo_tensor(I, V, (5, 3))
    dense = np.zeros((5, 3))
    for (r, c), v in zip(zip(*I), V):
        dense[r, c] += v
    np.testing.assert_array_equal(s.to_dense().numpy(), dense)
    c = s.coalesce()
    assert c._indices().tolist() == [[0, 1, 1, 4], [2, 0, 2, 1]] and c._values().tolist() == [4.0, 4.0, 5.0, -2.0]
    assert ag.sparse_coo_tensor(I, V).shape == (5, 3)
    np.testing.assert_array_equal(s.t().to_dense().numpy(), dense.T)
    hybrid = ag.tensor(np.stack([A, A * 2], -1)).to_sparse(2)
    assert hybrid.dense_dim() == 1 and np.array_equal(hybrid.to_dense().numpy(), np.stack([A, A * 2], -1))
    with pytest.raises(RuntimeError, match="uncoalesced"):
        s.indices()


@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_mm_matches_dense_and_gradients(dtype):
    sp = ag.tensor(A, dtype=dtype).to_sparse()
    x = ag.tensor(RNG.standard_normal((5, 3)), dtype=dtype, requires_grad=True)
    y = ag.sparse.mm(sp, x)
    tol = 1e-5 if dtype is ag.float32 else 1e-12
    np.testing.assert_allclose(y.detach().numpy(), A @ x.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose((sp @ x).detach().numpy(), y.detach().numpy())
    np.testing.assert_allclose(ag.spmm(sp, x[:, 0]).detach().numpy(), A @ x.detach().numpy()[:, 0], rtol=tol, atol=tol)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), A.T @ np.ones((6, 3)), rtol=tol, atol=tol)
    if dtype is ag.float64:
        vals = ag.tensor(V, dtype=ag.float64, requires_grad=True)
        dense = ag.tensor(RNG.standard_normal((3, 2)), requires_grad=True)
        assert ag.autograd.gradcheck(lambda v, d: ag.sparse.mm(ag.sparse_coo_tensor(I, v, (5, 3)), d), [vals, dense])
        assert ag.autograd.gradcheck(lambda v: ag.sparse_coo_tensor(I, v, (5, 3)).to_dense(), [vals])


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_against_torch():
    sp, tsp = ag.tensor(A).to_sparse(), torch.tensor(A).to_sparse()
    np.testing.assert_array_equal(sp._indices().numpy(), tsp._indices().numpy())
    np.testing.assert_array_equal(sp._values().numpy(), tsp._values().numpy())
    x = RNG.standard_normal((5, 4))
    ours, theirs = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    w = RNG.standard_normal((6, 4))
    (ag.sparse.mm(sp, ours) * ag.tensor(w)).sum().backward()
    (torch.sparse.mm(tsp, theirs) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)
    s = ag.sparse_coo_tensor(I, V, (5, 3)).coalesce()
    t = torch.sparse_coo_tensor(I, V, (5, 3)).coalesce()
    assert s._indices().tolist() == t._indices().tolist() and s._values().tolist() == t._values().tolist()
    assert ag.sparse.sum(s).item() == torch.sparse.sum(t).item()


def test_errors():
    with pytest.raises(ValueError, match="one row per index column"):
        ag.sparse_coo_tensor(I, V[:3], (5, 3))
    with pytest.raises(ValueError, match="out of bounds"):
        ag.sparse_coo_tensor(I, V, (2, 2))
    with pytest.raises(ValueError, match="cannot be multiplied"):
        ag.sparse.mm(ag.sparse_coo_tensor(I, V, (5, 3)), ag.zeros(4, 2))
    with pytest.raises(TypeError, match="only multiplication by a scalar"):
        ag.sparse_coo_tensor(I, V, (5, 3)) * ag.zeros(5, 3)
    with pytest.raises(RuntimeError, match="CPU"):
        ag.sparse_coo_tensor(I, V, (5, 3), device="cuda")
