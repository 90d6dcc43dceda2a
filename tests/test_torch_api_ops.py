"""Tensor functions added for PyTorch programs: stacking, rot90, repeat_interleave, tensordot, kron,
cross, diff, searchsorted/bucketize, quantile/nanquantile, mode, cummax/cummin; autograd.functional;
default dtype, determinism switch, typed constructors, testing.assert_close, size=, range indexing.
Forward against NumPy or formulas (and torch when installed), gradients by gradcheck in float64."""
import numpy as np
import pytest

import autograd_core as ag

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")
RNG = np.random.default_rng(1)


def leaf(a):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


# ------------------------------------------------------------------------------ arrange
def test_stacking_against_numpy():
    a, b = np.arange(3.0), np.arange(3.0, 6.0)
    m = RNG.standard_normal((3, 2))
    t = ag.tensor
    assert np.array_equal(ag.dstack([t(a), t(b)]).numpy(), np.dstack([a, b]))
    assert np.array_equal(ag.dstack([t(m), t(m)]).numpy(), np.dstack([m, m]))
    assert np.array_equal(ag.column_stack([t(a), t(m), t(b)]).numpy(), np.column_stack([a, m, b]))
    assert np.array_equal(ag.hstack([t(a), t(b)]).numpy(), np.hstack([a, b]))
    assert np.array_equal(ag.vstack([t(a), t(b)]).numpy(), np.vstack([a, b]))
    assert ag.atleast_3d(t(a)).shape == np.atleast_3d(a).shape and ag.atleast_2d(t(1.0)).shape == (1, 1)
    assert np.array_equal(ag.block_diag(t(m), t(a)).numpy(), np.block([[m, np.zeros((3, 3))], [np.zeros((1, 2)), a[None]]]))
    assert ag.cartesian_prod(t(a), t(b[:2])).tolist() == [[x, y] for x in a for y in b[:2]]
    assert ag.autograd.gradcheck(lambda x, y: ag.column_stack([x, y]), [leaf(a), leaf(m)])
    assert ag.autograd.gradcheck(lambda x, y: ag.dstack([x, y]), [leaf(m), leaf(m * 2)])


def test_rot90_repeat_interleave_diff():
    x = RNG.standard_normal((2, 3, 4))
    for k in range(-2, 6):
        for dims in [(0, 1), (1, 2), (2, 0)]:
            assert np.array_equal(ag.tensor(x).rot90(k, dims).numpy(), np.rot90(x, k, dims))
    assert ag.autograd.gradcheck(lambda t: ag.rot90(t, 1, [1, 2]), [leaf(x)])
    assert np.array_equal(ag.repeat_interleave(ag.tensor(x), 2, dim=1).numpy(), np.repeat(x, 2, axis=1))
    assert np.array_equal(ag.tensor([1, 2]).repeat_interleave(ag.tensor([2, 3])).numpy(), [1, 1, 2, 2, 2])
    assert ag.repeat_interleave(ag.tensor([1, 0, 2])).tolist() == [0, 2, 2]
    assert np.array_equal(ag.repeat_interleave(ag.tensor(x), 3).numpy(), np.repeat(x, 3))
    assert ag.autograd.gradcheck(lambda t: ag.repeat_interleave(t, ag.tensor([1, 0, 2]), dim=1), [leaf(x)])
    assert np.allclose(ag.diff(ag.tensor(x), n=2, dim=-1).numpy(), np.diff(x, n=2, axis=-1))
    assert np.allclose(ag.diff(ag.tensor([1.0, 4.0]), prepend=ag.tensor([0.0])).numpy(), [1.0, 3.0])
    with pytest.raises(ValueError, match="rot90: expected rotation dims to be different"):
        ag.rot90(ag.tensor(x), 1, (1, 1))
    with pytest.raises(ValueError, match="repeat_interleave: repeats must have the same size"):
        ag.repeat_interleave(ag.tensor(x), ag.tensor([1, 2]), dim=1)


def test_tensordot_kron_cross():
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((4, 3, 5))
    np.testing.assert_allclose(ag.tensordot(ag.tensor(a), ag.tensor(b), dims=([1, 2], [1, 0])).numpy(),
                               np.tensordot(a, b, axes=([1, 2], [1, 0])))
    np.testing.assert_allclose(ag.tensordot(ag.tensor(a), ag.tensor(b[:, :, :2].transpose(1, 0, 2)), 2).numpy(),
                               np.tensordot(a, b[:, :, :2].transpose(1, 0, 2), 2))
    assert ag.autograd.gradcheck(lambda x, y: ag.tensordot(x, y, ([1, 2], [1, 0])), [leaf(a), leaf(b)])
    p, q = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 2))
    np.testing.assert_allclose(ag.kron(ag.tensor(p), ag.tensor(q)).numpy(), np.kron(p, q))
    np.testing.assert_allclose(ag.kron(ag.tensor(p[0]), ag.tensor(q)).numpy(), np.kron(p[0], q))
    assert ag.autograd.gradcheck(ag.kron, [leaf(p), leaf(q)])
    u, v = RNG.standard_normal((4, 3)), RNG.standard_normal((1, 3))
    np.testing.assert_allclose(ag.cross(ag.tensor(u), ag.tensor(v), dim=1).numpy(), np.cross(u, v))
    np.testing.assert_allclose(ag.linalg.cross(ag.tensor(u), ag.tensor(v)).numpy(), np.cross(u, v))
    assert ag.autograd.gradcheck(lambda x, y: ag.cross(x, y, dim=-1), [leaf(u), leaf(v)])
    with pytest.raises(ValueError, match="cross: inputs dimension 1 must have length 3"):
        ag.cross(ag.zeros(3, 4), ag.zeros(3, 4), dim=1)
    with pytest.raises(ValueError, match="contracted dimensions need to match"):
        ag.tensordot(ag.zeros(2, 3), ag.zeros(2, 3), dims=([1], [1]) if False else ([0], [1]))


# ------------------------------------------------------------------------------ search and order statistics
def test_searchsorted_bucketize():
    seq = np.array([1.0, 3.0, 3.0, 5.0, 7.0])
    vals = np.array([[0.0, 3.0, 6.0], [7.0, 8.0, 1.0]])
    for right in (False, True):
        side = "right" if right else "left"
        got = ag.searchsorted(ag.tensor(seq), ag.tensor(vals), right=right)
        assert got.dtype == ag.int64 and np.array_equal(got.numpy(), np.searchsorted(seq, vals, side=side))
        assert np.array_equal(ag.bucketize(ag.tensor(vals), ag.tensor(seq), right=right).numpy(),
                              np.searchsorted(seq, vals, side=side))
    rows = np.sort(RNG.standard_normal((2, 5)), axis=1)
    got = ag.searchsorted(ag.tensor(rows), ag.tensor(vals), side="right", out_int32=True)
    assert got.dtype == ag.int32
    assert got.tolist() == [np.searchsorted(r, v, side="right").tolist() for r, v in zip(rows, vals)]
    assert ag.searchsorted(ag.tensor(seq), 4.0).item() == 3
    with pytest.raises(ValueError, match="side and right can't be set to opposites"):
        ag.searchsorted(ag.tensor(seq), ag.tensor(vals), right=True, side="left")
    with pytest.raises(ValueError, match="boundaries tensor must be 1 dimension"):
        ag.bucketize(ag.tensor(vals), ag.tensor(rows))


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_against_numpy(interpolation):
    x = RNG.standard_normal((4, 7))
    q = np.array([0.0, 0.25, 0.5, 0.9, 1.0])
    got = ag.quantile(ag.tensor(x), ag.tensor(q, dtype=ag.float64), dim=1, keepdim=True, interpolation=interpolation)
    np.testing.assert_allclose(got.numpy(), np.quantile(x, q, axis=1, keepdims=True, method=interpolation), rtol=1e-12)
    np.testing.assert_allclose(ag.tensor(x).quantile(0.3, interpolation=interpolation).item(),
                               np.quantile(x, 0.3, method=interpolation))
    xn = x.copy()
    xn[0, 2] = xn[2, :] = np.nan
    got = ag.nanquantile(ag.tensor(xn), 0.4, dim=1, interpolation=interpolation).numpy()
    with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")
        ref = np.nanquantile(xn, 0.4, axis=1, method=interpolation)
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert np.isnan(ag.quantile(ag.tensor(xn), 0.5, dim=1).numpy()[[0, 2]]).all()


def test_quantile_gradient_and_errors():
    x = RNG.standard_normal((3, 6))
    assert ag.autograd.gradcheck(lambda t: ag.quantile(t, ag.tensor([0.2, 0.7], dtype=ag.float64), dim=0), [leaf(x)])
    with pytest.raises(ValueError, match="q values must be in the range"):
        ag.quantile(ag.tensor(x), 1.5)
    with pytest.raises(TypeError, match="float or double"):
        ag.quantile(ag.tensor([1, 2]), 0.5)
    with pytest.raises(ValueError, match="interpolation"):
        ag.quantile(ag.tensor(x), 0.5, interpolation="cubic")


@needs_torch
def test_mode_cummax_cummin_quantile_match_torch():
    x = RNG.integers(0, 4, (5, 9)).astype(np.float64)
    x[1, 3] = np.nan
    for dim in (0, 1, -1):
        for name in ("cummax", "cummin"):
            ours, theirs = getattr(ag, name)(ag.tensor(x), dim), getattr(torch, name)(torch.tensor(x), dim)
            np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
            np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    clean = np.nan_to_num(x)
    for dim in (0, 1):
        for keepdim in (False, True):
            ours, theirs = ag.mode(ag.tensor(clean), dim, keepdim), torch.mode(torch.tensor(clean), dim, keepdim)
            np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
            np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    q = torch.tensor([0.1, 0.5, 0.95], dtype=torch.float64)
    for interp in ("linear", "nearest", "midpoint"):
        np.testing.assert_allclose(ag.nanquantile(ag.tensor(x), ag.tensor(q.numpy()), 1, interpolation=interp).numpy(),
                                   torch.nanquantile(torch.tensor(x), q, 1, interpolation=interp).numpy())


def test_cummax_mode_gradients():
    x = RNG.standard_normal((3, 5))
    assert ag.autograd.gradcheck(lambda t: ag.cummax(t, 1).values, [leaf(x)])
    assert ag.autograd.gradcheck(lambda t: ag.cummin(t, 0).values, [leaf(x)])
    # mode needs equal values, where finite differences change the answer: check the gradient
    # reaches exactly the reported positions instead
    r = leaf(np.round(x))
    m = ag.mode(r, 1)
    m.values.sum().backward()
    expected = np.zeros(x.shape)
    expected[np.arange(3), m.indices.numpy()] = 1
    assert np.array_equal(r.grad.numpy(), expected)
    v, i = ag.cummax(ag.tensor([1.0, 3.0, 2.0, 3.0]), 0)
    assert v.tolist() == [1, 3, 3, 3] and i.tolist() == [0, 1, 1, 3]


# ------------------------------------------------------------------------------ autograd.functional
def test_functional_against_formulas():
    F = ag.autograd.functional
    x = RNG.standard_normal(3)
    w = RNG.standard_normal((2, 3))
    jac = F.jacobian(lambda t: ag.tensor(w) @ t.sin(), ag.tensor(x))
    np.testing.assert_allclose(jac.numpy(), w * np.cos(x), rtol=1e-12)
    hess = F.hessian(lambda t: (t ** 3).sum() + t[0] * t[1], ag.tensor(x))
    expected = np.diag(6 * x)
    expected[0, 1] = expected[1, 0] = 1
    np.testing.assert_allclose(hess.numpy(), expected, rtol=1e-12)
    v = RNG.standard_normal(3)
    _, hv = F.hvp(lambda t: (t ** 3).sum() + t[0] * t[1], ag.tensor(x), ag.tensor(v))
    np.testing.assert_allclose(hv.numpy(), expected @ v, rtol=1e-12)
    _, jv = F.jvp(lambda t: ag.tensor(w) @ t.sin(), ag.tensor(x), ag.tensor(v))
    np.testing.assert_allclose(jv.numpy(), (w * np.cos(x)) @ v, rtol=1e-12)
    u = RNG.standard_normal(2)
    out, vj = F.vjp(lambda t: ag.tensor(w) @ t.sin(), ag.tensor(x), ag.tensor(u))
    np.testing.assert_allclose(vj.numpy(), u @ (w * np.cos(x)), rtol=1e-12)
    assert not out.requires_grad and not vj.requires_grad
    jacs = F.jacobian(lambda a, b: (a * b, a.sum()), (ag.tensor(x), ag.tensor(v)))
    np.testing.assert_allclose(jacs[0][1].numpy(), np.diag(x)) and np.testing.assert_allclose(jacs[1][0].numpy(), 1)
    # create_graph: the Jacobian is differentiable
    xt = ag.tensor(x, requires_grad=True)
    F.jacobian(lambda t: t ** 2, xt, create_graph=True).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), np.full(3, 2.0))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        F.jacobian(lambda a, b: a * 2, (ag.tensor(x), ag.tensor(v)), strict=True)
    zero = F.jacobian(lambda a, b: a * 2, (ag.tensor(x), ag.tensor(v)))[1]
    assert zero.shape == (3, 3) and not zero.numpy().any()
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        F.jacobian(lambda a: a, [ag.tensor(x)])
    with pytest.raises(RuntimeError, match="single Tensor with a single element"):
        F.hessian(lambda a: a * 2, ag.tensor(x))


# ------------------------------------------------------------------------------ settings and constructors
def test_default_dtype_round_trip():
    assert ag.get_default_dtype() is ag.float32
    try:
        ag.set_default_dtype(ag.float64)
        assert ag.tensor([1.5]).dtype is ag.float64 and ag.zeros(2).dtype is ag.float64
        assert ag.rand(2).dtype is ag.float64 and ag.nn.Linear(2, 2).weight.dtype is ag.float64
        assert ag.tensor([1]).dtype is ag.int64 and ag.tensor(np.zeros(2, np.float32)).dtype is ag.float32
    finally:
        ag.set_default_dtype(ag.float32)
    assert ag.zeros(1).dtype is ag.float32
    with pytest.raises(TypeError, match="only floating-point types"):
        ag.set_default_dtype(ag.int64)


def test_determinism_switch_and_predicates():
    assert not ag.are_deterministic_algorithms_enabled()
    ag.use_deterministic_algorithms(True, warn_only=True)
    assert ag.are_deterministic_algorithms_enabled() and ag.is_deterministic_algorithms_warn_only_enabled()
    ag.use_deterministic_algorithms(False)
    with pytest.raises(TypeError, match="expected a bool"):
        ag.use_deterministic_algorithms("yes")
    assert ag.is_floating_point(ag.zeros(1)) and not ag.is_floating_point(ag.zeros(1, dtype=ag.int64))
    assert not ag.is_complex(ag.zeros(1)) and ag.is_tensor(ag.zeros(1)) and not ag.is_tensor([1])
    assert ag.is_nonzero(ag.tensor([2]))
    with pytest.raises(TypeError, match="must be Tensor"):
        ag.is_floating_point(1.0)


def test_typed_constructors_size_and_range_index():
    assert ag.FloatTensor(2, 3).shape == (2, 3) and ag.FloatTensor(2, 3).dtype is ag.float32
    assert ag.LongTensor([1, 2]).dtype is ag.int64 and ag.DoubleTensor([1]).dtype is ag.float64
    assert ag.IntTensor([1]).dtype is ag.int32 and ag.BoolTensor([True]).dtype is ag.bool
    assert ag.FloatTensor().shape == (0,) and ag.FloatTensor(ag.tensor([1, 2])).dtype is ag.float32
    assert isinstance(ag.zeros(1), ag.FloatTensor) and not isinstance(ag.zeros(1), ag.LongTensor)
    assert ag.empty(size=(2, 3)).shape == (2, 3) and ag.zeros(size=[4]).shape == (4,) and ag.ones(size=(1,)).shape == (1,)
    with pytest.raises(TypeError, match="not both"):
        ag.zeros(2, size=(2,))
    x = ag.arange(12.0).reshape(4, 3)
    assert np.array_equal(x[range(1, 4, 2)].numpy(), x.numpy()[1:4:2])
    assert np.array_equal(x[range(2), 1].numpy(), x.numpy()[[0, 1], 1])
    y = leaf(np.arange(6.0))
    y[range(0, 6, 3)].sum().backward()
    assert y.grad.tolist() == [1, 0, 0, 1, 0, 0]


def test_assert_close():
    ag.testing.assert_close(ag.ones(3), ag.ones(3) + 1e-7)
    ag.testing.assert_close({"a": [ag.zeros(2), 1.0]}, {"a": [ag.zeros(2), 1.0]})
    ag.testing.assert_close(ag.tensor([float("nan")]), ag.tensor([float("nan")]), equal_nan=True)
    with pytest.raises(AssertionError, match=r"(?s)Mismatched elements: 1 / 3.*index \(2,\)"):
        ag.testing.assert_close(ag.tensor([1.0, 2.0, 3.0]), ag.tensor([1.0, 2.0, 3.1]))
    with pytest.raises(AssertionError, match="dtype"):
        ag.testing.assert_close(ag.ones(2), ag.ones(2, dtype=ag.float64))
    ag.testing.assert_close(ag.ones(2), ag.ones(2, dtype=ag.float64), check_dtype=False)
    with pytest.raises(AssertionError, match="shape"):
        ag.testing.assert_close(ag.ones(2), ag.ones(3))
    with pytest.raises(AssertionError):
        ag.testing.assert_close(ag.tensor([float("nan")]), ag.tensor([float("nan")]))
    ag.testing.assert_close(ag.ones(2), ag.ones(2) + 0.01, rtol=0.0, atol=0.02)


def test_inverse_trig_nan_reductions_and_aliases():
    x = np.linspace(-0.95, 0.95, 9)
    for name, ref in (("asin", np.arcsin), ("acos", np.arccos), ("atan", np.arctan)):
        fn = getattr(ag, name)
        np.testing.assert_allclose(fn(ag.tensor(x)).numpy(), ref(x), rtol=1e-12)
        assert ag.autograd.gradcheck(fn, [leaf(x)])
        assert getattr(ag, "arc" + name[1:]) is fn
    assert np.isnan(ag.asin(ag.tensor([2.0])).item())
    y = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 2.0], [np.nan] * 3])
    assert ag.nansum(ag.tensor(y)).item() == 6.0
    np.testing.assert_allclose(ag.tensor(y).nansum(0, keepdim=True).numpy(), np.nansum(y, 0, keepdims=True))
    with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")
        np.testing.assert_allclose(ag.nanmean(ag.tensor(y), 1).numpy(), np.nanmean(y, 1))
    assert ag.autograd.gradcheck(lambda t: ag.nansum(t, 1), [leaf(np.where(np.isnan(y), 0.5, y))])
    assert not ag.zeros(1).is_complex() and ag.ones(2).byte().dtype is ag.uint8
    assert ag.row_stack([ag.ones(2), ag.zeros(2)]).shape == (2, 2) and ag.zeros(2, 3).swapdims(0, 1).shape == (3, 2)
    assert np.array_equal(ag.fliplr(ag.eye(2)).numpy(), np.fliplr(np.eye(2)))


def test_kthvalue_nanmedian_histc_tensor_split_products_erfinv():
    x = RNG.standard_normal((4, 7))
    for k in (1, 4, 7):
        got = ag.kthvalue(ag.tensor(x), k, 1)
        np.testing.assert_array_equal(got.values.numpy(), np.sort(x, 1)[:, k - 1])
        np.testing.assert_array_equal(np.take_along_axis(x, got.indices.numpy()[:, None], 1)[:, 0], got.values.numpy())
    assert ag.autograd.gradcheck(lambda t: ag.kthvalue(t, 3, 0).values, [leaf(x)])
    with pytest.raises(IndexError, match="kthvalue: k"):
        ag.kthvalue(ag.tensor(x), 8, 1)
    xn = x.copy()
    xn[1, 2] = np.nan
    xn[3] = np.nan
    med = ag.nanmedian(ag.tensor(xn), 1)
    expected = [np.sort(r[~np.isnan(r)])[(np.sum(~np.isnan(r)) - 1) // 2] if (~np.isnan(r)).any() else np.nan for r in xn]
    np.testing.assert_array_equal(med.values.numpy(), expected)
    h = RNG.standard_normal(200)
    np.testing.assert_array_equal(ag.histc(ag.tensor(h), 8).numpy(), np.histogram(h, 8, (h.min(), h.max()))[0])
    assert ag.histc(ag.tensor(h), 4, -1, 1).sum().item() == ((h >= -1) & (h <= 1)).sum()
    parts = ag.tensor_split(ag.arange(10), 3)
    assert [p.tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert [p.tolist() for p in ag.arange(6).tensor_split([1, 4])] == [[0], [1, 2, 3], [4, 5]]
    b1, b2, i = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 4, 5)), RNG.standard_normal((2, 3, 5))
    np.testing.assert_allclose(ag.baddbmm(ag.tensor(i), ag.tensor(b1), ag.tensor(b2), beta=0.5, alpha=2).numpy(),
                               0.5 * i + 2 * b1 @ b2, rtol=1e-12)
    m, v = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    np.testing.assert_allclose(ag.addmv(ag.tensor(v[:3]), ag.tensor(m), ag.tensor(v)).numpy(), v[:3] + m @ v, rtol=1e-12)
    np.testing.assert_allclose(ag.dist(ag.tensor(m), ag.tensor(m[:1]), 3).item(),
                               (np.abs(m - m[:1]) ** 3).sum() ** (1 / 3), rtol=1e-12)
    y = np.array([-0.999999, -0.3, 0.0, 0.5, 0.9999, 1 - 1e-12])
    np.testing.assert_allclose(ag.special.erf(ag.erfinv(ag.tensor(y))).numpy(), y, rtol=1e-12, atol=1e-15)
    assert ag.erfinv(ag.tensor([1.0])).item() == float("inf") and np.isnan(ag.erfinv(ag.tensor([1.5])).item())
    assert ag.autograd.gradcheck(ag.erfinv, [leaf(np.linspace(-0.9, 0.9, 7))])
    if torch is not None:
        z = np.linspace(-1, 1, 2001)
        np.testing.assert_allclose(ag.erfinv(ag.tensor(z)).numpy(), torch.erfinv(torch.tensor(z)).numpy(), rtol=1e-14)
