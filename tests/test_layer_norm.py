"""The fused layer-norm kernel (csrc/layernorm.c, layernorm_vec.h) through F.layer_norm / nn.LayerNorm,
F.group_norm, F.instance_norm and _core.layer_norm_forward/backward.

Contracts tested (stated in layernorm_vec.h / layernorm.c):
- forward and backward against a NumPy float64 reference and against torch, float32 and float64,
  normalized_shape of 1, 2 and 3 dims, with and without weight and bias, on contiguous, transposed,
  sliced and broadcast inputs; gradcheck and gradgradcheck in float64 (double backward goes through
  the composite form);
- every row length 1..49 plus block-sized ones on every tier this CPU has; each vector tier within
  LN_BOUND float32 units of the portable instance, AVX2 and AVX-512 bitwise equal;
- bitwise equal results for 1, 2, 3 and 4 threads (several row blocks, so the backward's partial
  column sums are combined);
- clear errors naming layer_norm for bad normalized_shape, weight/bias shapes, dtypes.
"""
import numpy as np
import pytest

import autograd_core as ag
from autograd_core import _core
from autograd_core.autograd import gradcheck, gradgradcheck
from autograd_core.nn import functional as F
from conftest import T, TARGETS, two_vector_tiers

REFERENCE = TARGETS[0]
LENGTHS = list(range(1, 50)) + [63, 64, 65, 127, 128, 129, 513]


def np_of(t):
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)


def ref_forward(x, k, w=None, b=None, eps=1e-5):
    x = x.astype(np.float64)
    dims = tuple(range(x.ndim - k, x.ndim))
    mu = x.mean(dims, keepdims=True)
    var = ((x - mu) ** 2).mean(dims, keepdims=True)
    out = (x - mu) / np.sqrt(var + eps)
    if w is not None:
        out = out * w
    if b is not None:
        out = out + b
    return out


def ref_backward(x, g, k, w=None, eps=1e-5):
    x, g = x.astype(np.float64), g.astype(np.float64)
    dims = tuple(range(x.ndim - k, x.ndim))
    lead = tuple(range(x.ndim - k))
    mu = x.mean(dims, keepdims=True)
    rstd = 1 / np.sqrt(((x - mu) ** 2).mean(dims, keepdims=True) + eps)
    xh = (x - mu) * rstd
    gh = g * w if w is not None else g
    gx = rstd * (gh - gh.mean(dims, keepdims=True) - xh * (gh * xh).mean(dims, keepdims=True))
    return gx, (g * xh).sum(lead), g.sum(lead)


def gx_scale(x, g, k, w=None, eps=1e-5):
    """the magnitude of the terms of gx: rstd (|gh| + |mean(gh)| + |xh mean(gh xh)|)"""
    x, g = x.astype(np.float64), g.astype(np.float64)
    dims = tuple(range(x.ndim - k, x.ndim))
    mu = x.mean(dims, keepdims=True)
    rstd = 1 / np.sqrt(((x - mu) ** 2).mean(dims, keepdims=True) + eps)
    xh = (x - mu) * rstd
    gh = g * w if w is not None else g
    return rstd * (np.abs(gh) + np.abs(gh.mean(dims, keepdims=True)) + np.abs(xh * (gh * xh).mean(dims, keepdims=True)))


def run_core(x, k, w, b, g, eps=1e-5):
    out, mean, rstd = _core.layer_norm_forward(T(x), k, None if w is None else T(w), None if b is None else T(b), eps)
    gx, gw, gb = _core.layer_norm_backward(T(x), T(g), mean, rstd, None if w is None else T(w), k)
    return {"out": np_of(out), "mean": np_of(mean), "rstd": np_of(rstd), "gx": np_of(gx),
            "gw": None if gw is None else np_of(gw), "gb": np_of(gb)}


def inputs(shape, k, dtype, seed=0, off=0, affine=True):
    rng = np.random.default_rng(seed)
    def arr(shp, scale=1.0, shift=0.0):
        n = int(np.prod(shp))
        buf = np.zeros(n + off + 4, dtype)
        buf[off:off + n] = (rng.standard_normal(n) * scale + shift).astype(dtype)
        return buf[off:off + n].reshape(shp)
    nshape = shape[len(shape) - k:]
    x = arr(shape, 2.0, 0.7)
    w, b = (arr(nshape, 0.5, 1.0), arr(nshape)) if affine else (None, None)
    return x, w, b, arr(shape)


def units(got, ref, dtype, scale=None):
    """|got - ref| in units of the dtype's spacing of max(|ref|, 1) (or of scale)"""
    sc = np.maximum(np.abs(ref) if scale is None else scale, 1.0).astype(dtype)
    return np.max(np.abs(got.astype(np.float64) - ref) / np.spacing(sc).astype(np.float64), initial=0.0)


# ------------------------------------------------------------------------------- forward / backward
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
def test_every_length_against_numpy(target, dtype, affine):
    """rows of every length (every vector tail, the 16-lane sums' tails), odd offsets; results within a
    few units of the float64 reference, measured against the magnitude of the terms each result sums
    (float32: its few float roundings; float64: the conditioning of the reference's own roundings)"""
    bound = 2 if dtype == np.float32 else 32
    for d in LENGTHS:
        x, w, b, g = inputs((3, d), 1, dtype, seed=d, off=d % 4, affine=affine)
        got = run_core(x, 1, w, b, g)
        ref_out = ref_forward(x, 1, w, b)
        gx, gw, gb = ref_backward(x, g, 1, w)
        # out: a few roundings of the terms (x - mean) rstd w and b (float32 is computed in float)
        oscale = np.abs(ref_forward(x, 1) * (1 if w is None else w)) + (0 if b is None else np.abs(b))
        assert units(got["out"], ref_out, dtype, oscale) <= 2 * bound, f"out d={d}"
        # gx = rstd (gh - mean(gh) - xh mean(gh xh)) cancels: measured against its terms' magnitude
        assert units(got["gx"], gx, dtype, gx_scale(x, g, 1, w)) <= 2 * bound, f"gx d={d}"
        if affine:
            assert units(got["gw"], gw, dtype, np.abs(g).sum(0) * 3) <= bound, f"gw d={d}"
        else:
            assert got["gw"] is None
        assert units(got["gb"], gb, dtype, np.abs(g).sum(0)) <= bound, f"gb d={d}"
        np.testing.assert_allclose(got["mean"], x.astype(np.float64).mean(-1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_layer_norm_module_matches_numpy(k, dtype):
    rng = np.random.default_rng(k)
    shape = (2, 3, 5, 6)
    x = rng.standard_normal(shape) * 3 + 1
    nshape = shape[4 - k:]
    ln = ag.nn.LayerNorm(nshape, dtype=dtype)
    w, b = rng.standard_normal(nshape), rng.standard_normal(nshape)
    with ag.no_grad():
        ln.weight.copy_(ag.tensor(w, dtype=dtype))
        ln.bias.copy_(ag.tensor(b, dtype=dtype))
    xt = ag.tensor(x, dtype=dtype, requires_grad=True)
    out = ln(xt)
    tol = 1e-5 if dtype == ag.float32 else 1e-12
    np.testing.assert_allclose(np_of(out), ref_forward(x, k, w, b), rtol=tol, atol=tol)
    g = rng.standard_normal(shape)
    out.backward(ag.tensor(g, dtype=dtype))
    gx, gw, gb = ref_backward(x, g, k, w)
    np.testing.assert_allclose(np_of(xt.grad), gx, rtol=20 * tol, atol=20 * tol)
    np.testing.assert_allclose(np_of(ln.weight.grad), gw, rtol=20 * tol, atol=20 * tol)
    np.testing.assert_allclose(np_of(ln.bias.grad), gb, rtol=20 * tol, atol=20 * tol)


def test_layouts_transposed_sliced_broadcast():
    rng = np.random.default_rng(5)
    base = rng.standard_normal((6, 8, 10))
    w, b = rng.standard_normal(6), rng.standard_normal(6)
    views = {
        "transposed": lambda t: t.permute(2, 1, 0),                    # (10, 8, 6), last dim strided
        "sliced": lambda t: t[1:5, ::2, 3:9].transpose(0, 2),           # (6, 4, 4), last dim strided
        "broadcast": lambda t: t[:1, :1, :6].expand(5, 7, 6),
    }
    for name, view in views.items():
        xt = ag.tensor(base, dtype=ag.float64, requires_grad=True)
        v = view(xt)
        d = v.shape[-1]
        wt = ag.tensor(w[:d], dtype=ag.float64, requires_grad=True)
        bt = ag.tensor(b[:d], dtype=ag.float64, requires_grad=True)
        out = F.layer_norm(v, (d,), wt, bt)
        vn = np_of(v)
        np.testing.assert_allclose(np_of(out), ref_forward(vn, 1, w[:d], b[:d]), rtol=1e-12, atol=1e-12, err_msg=name)
        assert gradcheck(lambda a, ww, bb: F.layer_norm(view(a), (d,), ww, bb), [xt, wt, bt]), name


@pytest.mark.parametrize("k", [1, 2, 3])
def test_gradcheck_and_gradgradcheck(k):
    rng = np.random.default_rng(40 + k)
    shape = (2, 3, 4, 3)[4 - k - 1:]
    nshape = shape[len(shape) - k:]
    x = ag.tensor(rng.standard_normal(shape), dtype=ag.float64, requires_grad=True)
    w = ag.tensor(rng.standard_normal(nshape), dtype=ag.float64, requires_grad=True)
    b = ag.tensor(rng.standard_normal(nshape), dtype=ag.float64, requires_grad=True)
    assert gradcheck(lambda a, ww, bb: F.layer_norm(a, nshape, ww, bb), [x, w, b])
    assert gradcheck(lambda a: F.layer_norm(a, nshape), [x])
    assert gradcheck(lambda a, bb: F.layer_norm(a, nshape, None, bb), [x, b])
    assert gradgradcheck(lambda a, ww, bb: F.layer_norm(a, nshape, ww, bb), [x, w, b])
    assert gradgradcheck(lambda a: F.layer_norm(a, nshape), [x])


def test_group_norm_goes_through_the_kernel_and_matches():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 6, 5, 4)) * 2 + 3
    w, b = rng.standard_normal(6), rng.standard_normal(6)
    out = F.group_norm(ag.tensor(x), 3, ag.tensor(w), ag.tensor(b))
    xg = x.reshape(3, 3, -1)
    ref = ref_forward(xg, 1).reshape(x.shape) * w.reshape(1, 6, 1, 1) + b.reshape(1, 6, 1, 1)
    np.testing.assert_allclose(np_of(out), ref, rtol=1e-12, atol=1e-12)
    xt = ag.tensor(x[:, :, :2, :2].copy(), requires_grad=True)
    assert gradcheck(lambda a, ww: F.group_norm(a, 2, ww), [xt, ag.tensor(w, requires_grad=True)])
    assert gradgradcheck(lambda a: F.group_norm(a, 3), [xt])


def test_instance_norm_goes_through_the_kernel_and_matches():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 4, 5)) * 2 - 1
    rm, rv = ag.zeros(3, dtype=ag.float64), ag.ones(3, dtype=ag.float64)
    out = F.instance_norm(ag.tensor(x), rm, rv, momentum=0.1)
    ref = ref_forward(x.reshape(2, 3, 20), 1).reshape(x.shape)
    np.testing.assert_allclose(np_of(out), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np_of(rm), 0.1 * x.mean((2, 3)).mean(0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np_of(rv), 0.9 + 0.1 * x.var((2, 3), ddof=1).mean(0), rtol=1e-12)
    xt = ag.tensor(x[:, :, :2, :3].copy(), requires_grad=True)
    assert gradcheck(lambda a: F.instance_norm(a), [xt])
    assert gradgradcheck(lambda a: F.instance_norm(a), [xt])


def test_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for shape, k in [((4, 7, 33), 1), ((3, 5, 6), 2), ((2, 3, 4, 5), 3), ((8, 512), 1)]:
        for dtype, tdt, tol in ((ag.float32, torch.float32, 2e-5), (ag.float64, torch.float64, 1e-12)):
            x = rng.standard_normal(shape) * 3 + 2
            nshape = shape[len(shape) - k:]
            w, b, g = rng.standard_normal(nshape), rng.standard_normal(nshape), rng.standard_normal(shape)
            ts = [torch.tensor(a, dtype=tdt, requires_grad=True) for a in (x, w, b)]
            tout = torch.nn.functional.layer_norm(ts[0], nshape, ts[1], ts[2])
            tout.backward(torch.tensor(g, dtype=tdt))
            ours = [ag.tensor(a, dtype=dtype, requires_grad=True) for a in (x, w, b)]
            out = F.layer_norm(ours[0], nshape, ours[1], ours[2])
            out.backward(ag.tensor(g, dtype=dtype))
            np.testing.assert_allclose(np_of(out), tout.detach().numpy(), rtol=tol, atol=tol)
            for a, t in zip(ours, ts):
                np.testing.assert_allclose(np_of(a.grad), t.grad.numpy(), rtol=10 * tol, atol=10 * tol)
    x = rng.standard_normal((2, 6, 3, 3))
    tg = torch.nn.functional.group_norm(torch.tensor(x), 3)
    np.testing.assert_allclose(np_of(F.group_norm(ag.tensor(x), 3)), tg.numpy(), rtol=1e-12, atol=1e-12)
    ti = torch.nn.functional.instance_norm(torch.tensor(x))
    np.testing.assert_allclose(np_of(F.instance_norm(ag.tensor(x))), ti.numpy(), rtol=1e-12, atol=1e-12)


def test_specials_and_equal_rows():
    x = np.array([[1.0, 2.0, np.nan, 4.0], [3.0, 3.0, 3.0, 3.0], [1e30, -1e30, 1e30, -1e30],
                  [0.1, 0.1, 0.1, 0.1]], np.float32)
    out = np_of(F.layer_norm(ag.tensor(x), 4))
    assert np.isnan(out[0]).all()
    assert (out[1] == 0).all() and (out[3] == 0).all()  # the corrected mean of equal values is exact
    np.testing.assert_allclose(out[2], [1, -1, 1, -1], rtol=1e-6)  # no float32 overflow: statistics in double
    x64 = np.full((2, 37), 0.1)
    assert (np_of(F.layer_norm(ag.tensor(x64), 37)) == 0).all()


def test_empty_inputs():
    """no rows: empty output, zero weight and bias gradients; empty rows (d == 0): empty output and NaN
    statistics, as PyTorch"""
    w, b = ag.ones(5, requires_grad=True), ag.zeros(5, requires_grad=True)
    x = ag.randn(0, 5, requires_grad=True)
    out = F.layer_norm(x, 5, w, b)
    out.sum().backward()
    assert tuple(out.shape) == (0, 5) and tuple(x.grad.shape) == (0, 5)
    np.testing.assert_array_equal(np_of(w.grad), np.zeros(5))
    np.testing.assert_array_equal(np_of(b.grad), np.zeros(5))
    out, mean, rstd = _core.layer_norm_forward(ag.randn(3, 0), 1, None, None, 1e-5)
    assert tuple(out.shape) == (3, 0) and np.isnan(np_of(mean)).all()


# ------------------------------------------------------------------------------------ tiers, threads
def test_vector_tier_against_portable(tier):
    """float32 within 2 units (the instances differ in the fusion of multiply-adds only: in double,
    seen after the rounding to float32 at ties, and in float32 for out and gx); float64 within a few
    units; gx measured against the magnitude of its terms"""
    for dtype, bound in ((np.float32, 2), (np.float64, 64)):
        for d in LENGTHS:
            x, w, b, g = inputs((3, d), 1, dtype, seed=d, off=d % 4)
            _core.set_simd_target(REFERENCE)
            ref = run_core(x, 1, w, b, g)
            _core.set_simd_target(tier)
            got = run_core(x, 1, w, b, g)
            for key in ref:
                sc = np.abs(ref[key]).max(initial=0) if key in ("gw", "gb", "mean") else None
                if key == "gx":
                    sc = gx_scale(x, g, 1, w)
                assert units(got[key], ref[key].astype(np.float64), dtype, sc) <= bound, f"{key} ({tier}) d={d} {dtype}"


def test_vector_tiers_bitwise_equal():
    tiers = two_vector_tiers()
    old = _core.simd_target()
    try:
        for dtype in (np.float32, np.float64):
            for d in LENGTHS:
                for affine in (True, False):
                    x, w, b, g = inputs((3, d), 1, dtype, seed=d, off=d % 4, affine=affine)
                    res = []
                    for t in tiers:
                        _core.set_simd_target(t)
                        res.append(run_core(x, 1, w, b, g))
                    for key in res[0]:
                        if res[0][key] is not None:
                            np.testing.assert_array_equal(res[1][key], res[0][key], err_msg=f"{key} d={d} {dtype}")
    finally:
        _core.set_simd_target(old)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bitwise_across_threads(target, threads, dtype):
    """300 rows of 700: several row blocks, so the backward combines partial column sums"""
    x, w, b, g = inputs((300, 700), 1, dtype, seed=1)
    x3, w3, b3, g3 = inputs((20, 9, 200), 2, dtype, seed=2)
    res = []
    for nt in (1, 2, 3, 4):
        _core.set_num_threads(nt)
        res.append((run_core(x, 1, w, b, g), run_core(x3, 2, w3, b3, g3), run_core(x, 1, None, None, g)))
    for nt, r in zip((2, 3, 4), res[1:]):
        for a, c in zip(r, res[0]):
            for key in a:
                if a[key] is not None:
                    np.testing.assert_array_equal(a[key], c[key], err_msg=f"{key} ({target}) {nt} threads vs 1")


# ---------------------------------------------------------------------------------------- errors
def test_errors_name_the_op_and_shapes():
    x = ag.randn(3, 4, 5)
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(3, 4, 5\) does not end with normalized_shape \(4,\)"):
        F.layer_norm(x, (4,))
    with pytest.raises(ValueError, match="layer_norm.*normalized_shape"):
        F.layer_norm(x, (2, 3, 4, 5))
    with pytest.raises(ValueError, match="layer_norm.*normalized_shape"):
        F.layer_norm(x, ())
    with pytest.raises(ValueError, match=r"layer_norm: weight of shape \(4,\), expected \(5,\)"):
        F.layer_norm(x, 5, ag.ones(4))
    with pytest.raises(ValueError, match=r"layer_norm: bias of shape \(5, 1\), expected \(4, 5\)"):
        F.layer_norm(x, (4, 5), None, ag.ones(5, 1))
    with pytest.raises(TypeError, match="layer_norm"):
        F.layer_norm(ag.tensor([[1, 2, 3]]), 3)
    with pytest.raises(ValueError, match="layer_norm: cannot normalize the last 4 dimensions"):
        _core.layer_norm_forward(x, 4, None, None, 1e-5)
    with pytest.raises(ValueError, match="layer_norm: expected weight of shape"):
        _core.layer_norm_forward(x, 1, ag.ones(4), None, 1e-5)
    with pytest.raises(ValueError, match="layer_norm: eps must be >= 0"):
        _core.layer_norm_forward(x, 1, None, None, -1.0)
    out, mean, rstd = _core.layer_norm_forward(x, 1, None, None, 1e-5)
    with pytest.raises(RuntimeError, match=r"layer_norm_backward: gradient shape \(3, 4\)"):
        _core.layer_norm_backward(x, ag.ones(3, 4), mean, rstd, None, 1)
    with pytest.raises(ValueError, match="layer_norm_backward: expected mean as 12 float64 values"):
        _core.layer_norm_backward(x, ag.ones(3, 4, 5), mean[:5], rstd, None, 1)
    with pytest.raises(ValueError, match=r"LayerNorm|layer_norm"):
        ag.nn.LayerNorm((4, 5))(ag.randn(3, 5, 4))
