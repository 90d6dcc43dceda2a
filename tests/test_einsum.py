"""ag.einsum against np.einsum (forward, float32 and float64, contiguous and transposed operands),
gradcheck on every case, errors; and against torch.einsum's gradients when torch is installed."""
import numpy as np
import pytest

import autograd_core as ag
from autograd_core.autograd import gradcheck

try:
    import torch
except ImportError:
    torch = None

CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]), ("ij->ji", [(3, 4)]), ("i,i->", [(5,), (5,)]), ("i,j->ij", [(3,), (4,)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]), ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("ijk->", [(2, 3, 4)]), ("ij,ij->i", [(3, 4), (3, 4)]),
    ("ij", [(3, 4)]), ("ba", [(3, 4)]), ("i,i", [(3,), (3,)]), ("iij->j", [(3, 3, 4)]),
    ("ab...,b->a...", [(2, 3, 4, 5), (3,)]), ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("ij,kj->ik", [(1, 4), (3, 4)]), ("i j , j k -> i k", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("eq,shapes", CASES, ids=[c[0] for c in CASES])
def test_forward_against_numpy(eq, shapes, dtype):
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(s).astype(dtype) for s in shapes]
    want = np.einsum(eq.replace(" ", ""), *arrs)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(ag.einsum(eq, *[ag.tensor(a) for a in arrs]).numpy(), want, rtol=tol, atol=tol)
    # transposed (non-contiguous) operands with the same values
    ts = [ag.tensor(np.ascontiguousarray(a.T)).permute(*reversed(range(a.ndim))) for a in arrs]
    np.testing.assert_allclose(ag.einsum(eq, ts).numpy(), want, rtol=tol, atol=tol)  # a list of operands too


@pytest.mark.parametrize("eq,shapes", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(eq, shapes):
    rng = np.random.default_rng(1)
    xs = tuple(ag.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes)
    assert gradcheck(lambda *t: ag.einsum(eq, *t), xs)


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("eq,shapes", CASES, ids=[c[0] for c in CASES])
def test_gradients_against_torch(eq, shapes):
    rng = np.random.default_rng(2)
    arrs = [rng.standard_normal(s) for s in shapes]
    xs = [ag.tensor(a, requires_grad=True) for a in arrs]
    ts = [torch.tensor(a, requires_grad=True) for a in arrs]
    out, tout = ag.einsum(eq, *xs), torch.einsum(eq.replace(" ", ""), *ts)
    g = rng.standard_normal(tuple(tout.shape))
    out.backward(ag.tensor(g))
    tout.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_identity_equation_returns_a_new_tensor():
    a = ag.randn(2, 3)
    b = ag.einsum("ij->ij", a)
    assert b is not a
    np.testing.assert_array_equal(b.numpy(), a.numpy())


@pytest.mark.parametrize("call,err,match", [
    (lambda: ag.einsum("ij,jk->ik", ag.ones(2, 3)), ValueError, "names 2 operands, 1 were given"),
    (lambda: ag.einsum("ij->ij", ag.ones(2, 3, 4)), ValueError, r"shape \(2, 3, 4\) \(3 dims\)"),
    (lambda: ag.einsum("ij,jk->ik", ag.ones(2, 3), ag.ones(4, 5)), ValueError, "subscript 'j' has sizes 3 and 4"),
    (lambda: ag.einsum("ii->i", ag.ones(2, 3)), ValueError, "sizes 2 and 3"),
    (lambda: ag.einsum("ij->k", ag.ones(2, 3)), ValueError, "output subscript 'k'"),
    (lambda: ag.einsum("ij->ii", ag.ones(2, 2)), ValueError, "repeated"),
    (lambda: ag.einsum("i1->i", ag.ones(2, 2)), ValueError, "must be letters"),
    (lambda: ag.einsum("ij", np.ones((2, 2))), TypeError, "operand 0 is a ndarray"),
    (lambda: ag.einsum("i..j..", ag.ones(2, 2)), ValueError, "bad ellipsis"),
])
def test_bad_input_raises_clearly(call, err, match):
    with pytest.raises(err, match=match):
        call()
