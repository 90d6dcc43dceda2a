"""ag.linalg: forward against NumPy (and torch.linalg when installed), gradients by finite
differences in float64 (gradcheck, and gradgradcheck for inv/solve/det), on batched, transposed
and float32 inputs; errors for bad input."""
import math

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import linalg as L

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")
RNG = np.random.default_rng(0)
A = RNG.standard_normal((2, 4, 4))
B = RNG.standard_normal((2, 4, 3))
T = RNG.standard_normal((5, 3))
SPD = A @ A.transpose(0, 2, 1) + 4 * np.eye(4)


def leaf(a):
    return ag.tensor(a, dtype=ag.float64, requires_grad=True)


def gc(fn, *arrays):
    return ag.autograd.gradcheck(fn, [leaf(a) for a in arrays])


def test_forward_against_numpy_float32_and_transposed():
    for dtype, tol in ((np.float32, 1e-4), (np.float64, 1e-10)):
        a = ag.from_numpy(A.astype(dtype))
        at = a.mT  # a transposed (non-contiguous) view
        np.testing.assert_allclose(L.inv(at).numpy(), np.linalg.inv(A.transpose(0, 2, 1)), rtol=tol, atol=tol)
        np.testing.assert_allclose(L.det(a).numpy(), np.linalg.det(A), rtol=tol)
        assert L.inv(a).dtype == a.dtype and L.det(a).shape == (2,)
        np.testing.assert_allclose(L.solve(a, ag.from_numpy(B.astype(dtype))).numpy(), np.linalg.solve(A, B),
                                   rtol=tol * 10, atol=tol * 10)
        w, _V = L.eigh(ag.from_numpy(SPD.astype(dtype)))
        np.testing.assert_allclose(w.numpy(), np.linalg.eigvalsh(SPD), rtol=tol)
        U, S, Vh = L.svd(ag.from_numpy(T.astype(dtype)), full_matrices=False)
        np.testing.assert_allclose((U.numpy() * S.numpy()) @ Vh.numpy(), T, rtol=tol * 10, atol=tol * 10)
    assert ag.det(ag.eye(3)).shape == () and ag.det(ag.eye(3)).item() == 1.0


@pytest.mark.parametrize("name,fn,arrays", [
    ("inv", L.inv, (A,)),
    ("det", L.det, (A,)),
    ("slogdet", lambda a: L.slogdet(a).logabsdet, (A,)),
    ("logdet", lambda a: L.logdet(a), (SPD,)),
    ("solve", L.solve, (A, B)),
    ("solve_vector", L.solve, (A[0], B[0, :, 0])),
    ("solve_right", lambda a, b: L.solve(a, b, left=False), (A[0], B[0].T)),
    ("cholesky", lambda a: L.cholesky(a @ a.mT + 4 * ag.eye(4, dtype=ag.float64)), (A,)),
    ("cholesky_upper", lambda a: L.cholesky(a @ a.mT + 4 * ag.eye(4, dtype=ag.float64), upper=True), (A,)),
    ("qr_tall", lambda a: tuple(L.qr(a)), (T,)),
    ("qr_square", lambda a: tuple(L.qr(a)), (A,)),
    ("eigh_values", lambda a: L.eigh(a + a.mT).eigenvalues, (A,)),
    ("eigh_vectors", lambda a: L.eigh(a + a.mT).eigenvectors ** 2, (A,)),
    ("svd_tall", lambda a: (L.svd(a, False).U ** 2, L.svd(a, False).S, L.svd(a, False).Vh ** 2), (T,)),
    ("svd_wide", lambda a: (L.svd(a, False).U ** 2, L.svd(a, False).S, L.svd(a, False).Vh ** 2), (T.T,)),
    ("svdvals", L.svdvals, (T,)),
    ("pinv", L.pinv, (T,)),
    ("lstsq", lambda a, b: L.lstsq(a, b).solution, (T, T[:, :2] + 0.1)),
    ("norm_nuc", lambda a: L.matrix_norm(a, "nuc"), (T,)),
    ("norm_2", lambda a: L.matrix_norm(a, 2), (T,)),
    ("norm_fro", lambda a: L.norm(a), (T,)),
    ("vector_norm_3", lambda a: L.vector_norm(a, 3, dim=1), (T,)),
    ("matrix_power", lambda a: L.matrix_power(a, -2), (A,)),
])
def test_gradcheck(name, fn, arrays):
    assert gc(fn, *arrays)


@pytest.mark.parametrize("fn,arrays", [(L.inv, (A[0],)), (L.solve, (A[0], B[0])), (L.det, (A[0],))],
                         ids=["inv", "solve", "det"])
def test_gradgradcheck(fn, arrays):
    assert ag.autograd.gradgradcheck(fn, [leaf(a) for a in arrays])


@needs_torch
@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "solve", "cholesky", "qr", "eigh", "svd", "pinv", "lstsq",
                                  "matrix_rank", "norms"])
def test_against_torch_forward_and_gradient(name):
    def run(lib, x, y):
        la = lib.linalg
        if name == "inv":
            return la.inv(x)
        if name == "det":
            return la.det(x)
        if name == "slogdet":
            return la.slogdet(x)[1]
        if name == "solve":
            return la.solve(x, y)
        if name == "cholesky":
            return la.cholesky(x @ x.mT + 4 * lib.eye(4, dtype=lib.float64))
        if name == "qr":
            q, r = la.qr(x)
            return q.abs().sum(-1) + r.abs().sum(-2)
        if name == "eigh":
            w, v = la.eigh(x @ x.mT)
            return (v ** 2).sum(-2) * w
        if name == "svd":
            u, s, vh = la.svd(x, full_matrices=False)
            return (u ** 2).sum(-1).sum(-1) + s.sum(-1) + (vh ** 2).sum(-1).sum(-1)
        if name == "pinv":
            return la.pinv(x[..., :3])
        if name == "lstsq":
            return la.lstsq(x, y).solution
        if name == "matrix_rank":
            return la.matrix_rank(x[..., :2] @ x[..., :2].mT).to(lib.float64)
        return lib.stack([la.norm(x), la.norm(x, "nuc"), la.norm(x, -2), la.norm(x, float("inf")),
                          la.vector_norm(x, 0.5), la.vector_norm(x, float("-inf"))])

    xs = A[0] if name == "norms" else A
    ours_x, ours_y = leaf(xs), leaf(B)
    theirs_x, theirs_y = (torch.tensor(xs, requires_grad=True), torch.tensor(B, requires_grad=True))
    ours, theirs = run(ag, ours_x, ours_y), run(torch, theirs_x, theirs_y)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-9, atol=1e-10)
    if name != "matrix_rank":
        weights = RNG.standard_normal(tuple(theirs.shape))
        (ours * ag.tensor(weights)).sum().backward()
        (theirs * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_lstsq_and_rank_results():
    a = ag.tensor(T)
    b = ag.tensor(RNG.standard_normal((5, 2)))
    r = L.lstsq(a, b)
    np.testing.assert_allclose(r.solution.numpy(), np.linalg.lstsq(T, b.numpy(), rcond=None)[0], rtol=1e-10)
    assert r.rank.item() == 3 and r.residuals.shape == (2,)
    assert L.matrix_rank(ag.ones(4, 4, dtype=ag.float64)).item() == 1
    assert L.lstsq(a, b, driver="gelsd").singular_values.shape == (3,)


def test_errors():
    with pytest.raises(ValueError, match=r"linalg.inv: A must be batches of square matrices.*3 by 2"):
        L.inv(ag.zeros(3, 2))
    with pytest.raises(L.LinAlgError, match="linalg.inv"):
        L.inv(ag.zeros(2, 2))
    with pytest.raises(L.LinAlgError, match="cholesky"):
        L.cholesky(-ag.eye(3))
    with pytest.raises(TypeError, match="float32 or float64"):
        L.det(ag.zeros(2, 2, dtype=ag.int64))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        L.det(ag.zeros(3))
    with pytest.raises(ValueError, match="incompatible shapes"):
        L.solve(ag.eye(3), ag.zeros(4, 2))
    with pytest.raises(ValueError, match="unrecognized mode"):
        L.qr(ag.eye(2), mode="full")
    with pytest.raises(ValueError, match="1-D or 2-D"):
        L.norm(ag.zeros(2, 2, 2), ord=1)
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        x = ag.zeros(3, 2, requires_grad=True) + ag.tensor([[1.0, 0], [0, 2], [0, 0]])
        L.svd(x, full_matrices=True).S.sum().backward()


def test_top_level_names():
    a = ag.tensor(A[0])
    np.testing.assert_allclose(ag.inverse(a).numpy(), np.linalg.inv(A[0]))
    np.testing.assert_allclose(a.inverse().numpy(), np.linalg.inv(A[0]))
    np.testing.assert_allclose(a.det().item(), np.linalg.det(A[0]))
    np.testing.assert_allclose(ag.logdet(ag.tensor(SPD[0])).item(), math.log(np.linalg.det(SPD[0])))
    assert math.isnan(ag.logdet(ag.tensor([[-1.0, 0], [0, 1]])).item())
