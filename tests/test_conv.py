"""Convolution and pooling: forward against NumPy references written here, gradients by finite
differences (gradcheck / gradgradcheck in float64), layouts, empty batches, thread-count independence,
bad input, nn modules, and cross-checks with torch when it is installed."""
import math
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
import autograd_core.ops.conv as C
from autograd_core import _core
from autograd_core.nn.conv import Conv1d, Conv2d, ConvTranspose2d
from autograd_core.nn.pooling import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)

from conftest import two_vector_tiers  # noqa: E402  (the `tier` fixture comes from conftest)

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # torch is optional: only the cross-checks need it
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")
gradcheck = ag.autograd.gradcheck
gradgradcheck = ag.autograd.gradgradcheck


def seeded(*key):
    """A generator seeded from a stable hash (crc32) of the key, the same in every process."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def t(a, requires_grad=False):
    return ag.tensor(np.ascontiguousarray(a), requires_grad=requires_grad)


def arr(x):
    return np.asarray(x.detach().numpy())


def tol(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------------------------------ NumPy references
def ref_conv2d(x, w, b, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    """Direct definition: zero-pad, then for every kernel tap add the strided slice times the tap."""
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    xp = np.pad(x, ((0, 0), (0, 0), pads[0], pads[1]))
    n, c, hp, wp = xp.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    oh, ow = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    og = o // groups
    out = np.zeros((n, o, oh, ow))
    for a in range(kh):
        for bb in range(kw):
            patch = xp[:, :, a * dh: a * dh + sh * (oh - 1) + 1: sh, bb * dw: bb * dw + sw * (ow - 1) + 1: sw]
            for gi in range(groups):
                out[:, gi * og:(gi + 1) * og] += np.einsum(
                    "nchw,oc->nohw", patch[:, gi * cg:(gi + 1) * cg], w[gi * og:(gi + 1) * og, :, a, bb])
    if b is not None:
        out += b.astype(np.float64)[None, :, None, None]
    return out


def ref_conv_transpose2d(x, w, b, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), groups=1,
                         dilation=(1, 1)):
    """Scatter definition: every input pixel adds weight * value into a window of the output."""
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    n, cin, h, wd = x.shape
    _, cog, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + output_padding[0] + 1
    ow = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + output_padding[1] + 1
    full = np.zeros((n, cog * groups, max((h - 1) * sh + dh * (kh - 1) + 1, ph + oh),
                     max((wd - 1) * sw + dw * (kw - 1) + 1, pw + ow)))
    cig = cin // groups
    for a in range(kh):
        for bb in range(kw):
            for gi in range(groups):
                full[:, gi * cog:(gi + 1) * cog, a * dh: a * dh + sh * (h - 1) + 1: sh,
                     bb * dw: bb * dw + sw * (wd - 1) + 1: sw] += np.einsum(
                    "nchw,co->nohw", x[:, gi * cig:(gi + 1) * cig], w[gi * cig:(gi + 1) * cig, :, a, bb])
    out = full[:, :, ph:ph + oh, pw:pw + ow]
    if b is not None:
        out = out + b.astype(np.float64)[None, :, None, None]
    return out


def pool_out(size, k, s, p, d, ceil_mode):
    num = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    n = num // s + 1
    if ceil_mode and (n - 1) * s >= size + p:
        n -= 1
    return n


def ref_max_pool2d(x, k, s, p, d, ceil_mode):
    """Values and flat in-plane indices of the first max of each window, by loops."""
    n, c, h, w = x.shape
    oh, ow = pool_out(h, k[0], s[0], p[0], d[0], ceil_mode), pool_out(w, k[1], s[1], p[1], d[1], ceil_mode)
    out = np.empty((n, c, oh, ow))
    idx = np.empty((n, c, oh, ow), dtype=np.int64)
    for i in range(oh):
        for j in range(ow):
            taps = [(i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]) for a in range(k[0]) for b in range(k[1])]
            taps = [(r, q) for r, q in taps if 0 <= r < h and 0 <= q < w]
            vals = np.stack([x[:, :, r, q] for r, q in taps], -1)
            best = vals.argmax(-1)
            out[:, :, i, j] = np.take_along_axis(vals, best[..., None], -1)[..., 0]
            flat = np.array([r * w + q for r, q in taps])
            idx[:, :, i, j] = flat[best]
    return out, idx


def ref_avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor_override=None):
    n, c, h, w = x.shape
    oh, ow = pool_out(h, k[0], s[0], p[0], 1, ceil_mode), pool_out(w, k[1], s[1], p[1], 1, ceil_mode)
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * s[0] - p[0], j * s[1] - p[1]
            he, we = min(hs + k[0], h + p[0]), min(ws + k[1], w + p[1])
            size = (he - hs) * (we - ws)
            hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
            div = divisor_override or (size if count_include_pad else (he - hs) * (we - ws))
            out[:, :, i, j] = x[:, :, hs:he, ws:we].sum((2, 3)) / div
    return out


def ref_adaptive(x, oh, ow, reduce):
    n, c, h, w = x.shape
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            hs, he = (i * h) // oh, -((-(i + 1) * h) // oh)
            ws, we = (j * w) // ow, -((-(j + 1) * w) // ow)
            out[:, :, i, j] = reduce(x[:, :, hs:he, ws:we], axis=(2, 3))
    return out


# ------------------------------------------------------------------------------------------ conv forward
# (x shape, weight shape, bias, stride, padding, dilation, groups)
CONV_CASES = [
    ((1, 1, 5, 5), (1, 1, 3, 3), True, 1, 0, 1, 1),
    ((2, 3, 7, 6), (4, 3, 3, 2), True, 1, 1, 1, 1),
    ((3, 4, 9, 11), (6, 2, 3, 3), False, 2, 1, 1, 2),
    ((2, 6, 8, 8), (6, 1, 3, 3), True, 1, 1, 1, 6),            # depthwise
    ((2, 3, 10, 9), (5, 3, 3, 3), True, (2, 3), (2, 1), (2, 1), 1),
    ((1, 2, 6, 7), (3, 2, 4, 2), True, 1, "same", 1, 1),       # even kernel: asymmetric 'same'
    ((2, 4, 7, 7), (4, 2, 3, 3), True, 1, "same", 2, 2),
    ((2, 3, 6, 5), (3, 3, 2, 2), False, 1, "valid", 1, 1),
    ((3, 5, 4, 6), (7, 5, 1, 1), True, 1, 0, 1, 1),            # 1x1: no column buffer
    ((2, 4, 5, 5), (6, 2, 1, 1), True, 1, 0, 1, 2),            # grouped 1x1
    ((2, 3, 5, 6), (2, 3, 1, 1), True, 2, 1, 1, 1),            # 1x1 strided and padded: im2col path
    ((1, 2, 5, 6), (2, 2, 3, 3), True, 1, ((1, 2), (0, 3)), 1, 1),  # explicit asymmetric padding
    ((2, 1, 3, 3), (2, 1, 5, 5), True, 1, 1, 1, 1),            # kernel larger than input, fits with padding
]


def conv_pads(padding, kernel, dilation):
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        tot = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return tuple((v // 2, v - v // 2) for v in tot)
    if isinstance(padding, tuple) and isinstance(padding[0], tuple):
        return padding
    p = (padding, padding) if isinstance(padding, int) else padding
    return ((p[0], p[0]), (p[1], p[1]))


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d_forward_matches_numpy(case, dtype):
    xs, ws, has_bias, stride, padding, dilation, groups = case
    rng = seeded("conv2d", case)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype) if has_bias else None
    got = C.conv2d(t(x), t(w), t(b) if b is not None else None, stride, padding, dilation, groups)
    pads = conv_pads(padding, ws[2:], pair(dilation))
    want = ref_conv2d(x, w, b, pair(stride), pads, pair(dilation), groups)
    assert got.dtype == (ag.float32 if dtype == np.float32 else ag.float64)
    assert tuple(got.shape) == want.shape
    np.testing.assert_allclose(arr(got), want, **tol(dtype))


@pytest.mark.parametrize("case", CONV_CASES[:6] + CONV_CASES[8:11], ids=str)
def test_conv2d_chunked_workspace_matches_unchunked(case):
    xs, ws, has_bias, stride, padding, dilation, groups = case
    rng = seeded("chunk", case)
    xs = (5,) + xs[1:]
    x = t(rng.standard_normal(xs), True)
    w = t(rng.standard_normal(ws), True)
    g = t(rng.standard_normal(tuple(C.conv2d(x, w, None, stride, padding, dilation, groups).shape)))
    results = []
    for limit in (0, 1, 700):  # default cap; one image per chunk; a few images per chunk
        old = _core.conv_set_workspace_limit(limit)
        try:
            y = C.conv2d(x, w, None, stride, padding, dilation, groups)
            gx, gw = ag.autograd.grad(y, (x, w), g)
        finally:
            _core.conv_set_workspace_limit(old)
        results.append([arr(y), arr(gx), arr(gw)])
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_conv2d_workspace_is_capped_whatever_the_batch():
    geom = dict(weight_shape=(64, 64, 3, 3), output_hw=(56, 56), stride=(1, 1), padding=(1, 1),
                dilation=(1, 1), groups=1)
    small = _core.conv2d_workspace_bytes(_core.F32, (1, 64, 56, 56), *geom.values())
    for n in (16, 256, 4096):
        nbytes = _core.conv2d_workspace_bytes(_core.F32, (n, 64, 56, 56), *geom.values())
        assert small <= nbytes <= 64 << 20
    pointwise = _core.conv2d_workspace_bytes(_core.F32, (64, 64, 56, 56), (64, 64, 1, 1), (56, 56), (1, 1),
                                             (0, 0), (1, 1), 1)
    assert pointwise == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv1d_forward_matches_numpy(dtype):
    rng = seeded("conv1d")
    for xs, ws, stride, padding, dilation, groups in [((2, 3, 11), (4, 3, 3), 1, 1, 1, 1),
                                                      ((3, 4, 13), (6, 2, 4), 2, 2, 2, 2),
                                                      ((1, 2, 9), (2, 2, 4), 1, "same", 1, 1),
                                                      ((2, 3, 8), (3, 1, 3), 3, 0, 1, 3)]:
        x = rng.standard_normal(xs).astype(dtype)
        w = rng.standard_normal(ws).astype(dtype)
        b = rng.standard_normal(ws[0]).astype(dtype)
        got = C.conv1d(t(x), t(w), t(b), stride, padding, dilation, groups)
        if padding == "same":
            tot = dilation * (ws[2] - 1)
            pads = ((0, 0), (tot // 2, tot - tot // 2))
        else:
            pads = ((0, 0), (padding, padding))
        want = ref_conv2d(x[:, :, None], w[:, :, None], b, (1, stride), pads, (1, dilation), groups)[:, :, 0]
        np.testing.assert_allclose(arr(got), want, **tol(dtype))


TRANSPOSE_CASES = [
    # x shape, weight shape, stride, padding, output_padding, groups, dilation
    ((2, 3, 4, 5), (3, 2, 3, 3), 1, 0, 0, 1, 1),
    ((1, 4, 3, 4), (4, 3, 3, 2), 2, 1, 1, 1, 1),
    ((2, 4, 5, 3), (4, 1, 2, 3), (2, 3), (1, 0), (1, 2), 2, 1),
    ((2, 2, 3, 3), (2, 3, 3, 3), 1, 1, 0, 1, 2),
    ((3, 5, 4, 4), (5, 2, 1, 1), 1, 0, 0, 1, 1),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=str)
def test_conv_transpose2d_forward_matches_numpy(case, dtype):
    xs, ws, stride, padding, output_padding, groups, dilation = case
    rng = seeded("convT", case)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[1] * groups).astype(dtype)
    got = C.conv_transpose2d(t(x), t(w), t(b), stride, padding, output_padding, groups, dilation)
    want = ref_conv_transpose2d(x, w, b, pair(stride), pair(padding), pair(output_padding), groups,
                                pair(dilation))
    assert tuple(got.shape) == want.shape
    np.testing.assert_allclose(arr(got), want, **tol(dtype))


def test_conv2d_unbatched_input():
    rng = seeded("unbatched")
    x = rng.standard_normal((3, 6, 5))
    w = rng.standard_normal((2, 3, 3, 3))
    got = C.conv2d(t(x), t(w), None, 1, 1)
    assert tuple(got.shape) == (2, 6, 5)
    np.testing.assert_allclose(arr(got), ref_conv2d(x[None], w, None, pads=((1, 1), (1, 1)))[0], rtol=1e-12,
                               atol=1e-12)


# ------------------------------------------------------------------------------------------ layouts, empty
def test_conv2d_noncontiguous_inputs():
    rng = seeded("layout")
    x_nhwc = rng.standard_normal((2, 7, 6, 3))
    w_hwio = rng.standard_normal((3, 3, 3, 4))
    x = t(x_nhwc).permute(0, 3, 1, 2)          # channels-last view
    w = t(w_hwio).permute(3, 2, 0, 1)
    assert not x.is_contiguous() and not w.is_contiguous()
    b = t(rng.standard_normal(8))[::2]          # strided bias
    got = C.conv2d(x, w, b, 1, 1)
    want = ref_conv2d(x_nhwc.transpose(0, 3, 1, 2), w_hwio.transpose(3, 2, 0, 1), arr(b), pads=((1, 1), (1, 1)))
    np.testing.assert_allclose(arr(got), want, rtol=1e-12, atol=1e-12)
    xs = t(rng.standard_normal((2, 3, 14, 12)))[:, :, ::2, 1::2]   # sliced with steps
    np.testing.assert_allclose(arr(C.conv2d(xs, w)), ref_conv2d(arr(xs), arr(w), None), rtol=1e-12, atol=1e-12)
    pooled = C.max_pool2d(x, 2)
    np.testing.assert_allclose(arr(pooled), ref_max_pool2d(arr(x), (2, 2), (2, 2), (0, 0), (1, 1), False)[0])


def test_conv2d_noncontiguous_gradients():
    rng = seeded("layout-grad")
    x = t(rng.standard_normal((2, 5, 4, 3)), True)
    w = t(rng.standard_normal((3, 3, 3, 2)), True)
    assert gradcheck(lambda a, b: C.conv2d(a.permute(0, 3, 1, 2), b.permute(3, 2, 0, 1), None, 1, 1), (x, w))


def test_conv2d_empty_batch():
    rng = seeded("empty")
    x = t(np.zeros((0, 3, 5, 5)), True)
    w = t(rng.standard_normal((4, 3, 3, 3)), True)
    b = t(rng.standard_normal(4), True)
    y = C.conv2d(x, w, b, 1, 1)
    assert tuple(y.shape) == (0, 4, 5, 5)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 3, 5, 5)
    np.testing.assert_array_equal(arr(w.grad), 0)
    np.testing.assert_array_equal(arr(b.grad), 0)
    z = C.conv_transpose2d(t(np.zeros((0, 4, 3, 3))), w, None, 2)
    assert tuple(z.shape) == (0, 3, 7, 7)
    assert tuple(C.max_pool2d(t(np.zeros((0, 3, 4, 4))), 2).shape) == (0, 3, 2, 2)
    assert tuple(C.avg_pool2d(t(np.zeros((0, 3, 4, 4))), 2).shape) == (0, 3, 2, 2)
    assert tuple(C.adaptive_avg_pool2d(t(np.zeros((0, 3, 4, 4))), 1).shape) == (0, 3, 1, 1)


# ------------------------------------------------------------------------------------------ gradients
GRAD_CASES = [
    ((2, 2, 5, 4), (3, 2, 3, 2), 1, 1, 1, 1),
    ((1, 4, 6, 5), (4, 2, 3, 3), 2, (1, 0), (1, 2), 2),
    ((2, 3, 4, 4), (3, 1, 2, 2), 1, "same", 1, 3),
    ((2, 3, 3, 4), (2, 3, 1, 1), 1, 0, 1, 1),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=str)
def test_conv2d_gradcheck(case):
    xs, ws, stride, padding, dilation, groups = case
    rng = seeded("gc", case)
    x = t(rng.standard_normal(xs), True)
    w = t(rng.standard_normal(ws), True)
    b = t(rng.standard_normal(ws[0]), True)

    def fn(a, k, c):
        return C.conv2d(a, k, c, stride, padding, dilation, groups)

    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


def test_conv1d_and_transpose_gradcheck():
    rng = seeded("gc1d")
    x = t(rng.standard_normal((2, 2, 7)), True)
    w = t(rng.standard_normal((4, 1, 3)), True)
    b = t(rng.standard_normal(4), True)
    assert gradcheck(lambda a, k, c: C.conv1d(a, k, c, 2, 1, 1, 2), (x, w, b))
    assert gradgradcheck(lambda a, k, c: C.conv1d(a, k, c, 2, 1, 1, 2), (x, w, b))
    xt = t(rng.standard_normal((2, 4, 3, 2)), True)
    wt = t(rng.standard_normal((4, 1, 3, 2)), True)
    bt = t(rng.standard_normal(2), True)

    def fn(a, k, c):
        return C.conv_transpose2d(a, k, c, 2, 1, 1, 2)

    assert gradcheck(fn, (xt, wt, bt))
    assert gradgradcheck(fn, (xt, wt, bt))


def test_conv2d_third_order():
    # Conv2d -> ConvTranspose2d / Conv2dWeightGrad -> Conv2d ...: gradients of any order
    rng = seeded("third")
    x = t(rng.standard_normal((1, 2, 4, 4)), True)
    w = t(rng.standard_normal((2, 2, 2, 2)), True)
    y = C.conv2d(x, w, None, 1, 1)
    (gx,) = ag.autograd.grad((y * y).sum(), (x,), create_graph=True)
    (gw,) = ag.autograd.grad((gx * gx).sum(), (w,), create_graph=True)
    (gxx,) = ag.autograd.grad(gw.sum(), (x,))
    assert np.isfinite(arr(gxx)).all() and np.abs(arr(gxx)).sum() > 0


POOL_GRAD_CASES = [
    ("max", dict(kernel_size=2)),
    ("max", dict(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True)),
    ("max", dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), dilation=2)),
    ("avg", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("avg", dict(kernel_size=(2, 3), stride=1, padding=(1, 1), count_include_pad=True)),
    ("avg", dict(kernel_size=2, divisor_override=3)),
    ("adaptive_avg", dict(output_size=(3, 2))),
    ("adaptive_max", dict(output_size=(2, 3))),
]
POOL_FN = {"max": C.max_pool2d, "avg": C.avg_pool2d, "adaptive_avg": C.adaptive_avg_pool2d,
           "adaptive_max": C.adaptive_max_pool2d}


@pytest.mark.parametrize("kind,kwargs", POOL_GRAD_CASES, ids=str)
def test_pool2d_gradcheck(kind, kwargs):
    rng = seeded("pgc", kind, str(kwargs))
    # distinct values spaced apart, so finite differences never swap a max
    x = t(rng.permutation(2 * 2 * 5 * 7).reshape(2, 2, 5, 7) * 0.1, True)

    def fn(a):
        return POOL_FN[kind](a, **kwargs)

    assert gradcheck(fn, (x,), eps=1e-4)
    assert gradgradcheck(fn, (x,), eps=1e-4)


def test_pool1d_gradcheck():
    rng = seeded("p1d")
    x = t(rng.permutation(2 * 3 * 9).reshape(2, 3, 9) * 0.1, True)
    assert gradgradcheck(lambda a: C.max_pool1d(a, 3, 2, 1, ceil_mode=True), (x,), eps=1e-4)
    assert gradgradcheck(lambda a: C.avg_pool1d(a, 3, 2, 1, count_include_pad=False), (x,), eps=1e-4)


def test_max_pool_double_backward_through_grad_output():
    # the gradient of a max pool with respect to its incoming gradient is a gather at the argmax
    rng = seeded("mpgg")
    x = t(rng.standard_normal((1, 1, 4, 4)), True)
    y = C.max_pool2d(x, 2)
    g = t(rng.standard_normal((1, 1, 2, 2)), True)
    (gx,) = ag.autograd.grad(y, (x,), g, create_graph=True)
    v = t(rng.standard_normal((1, 1, 4, 4)))
    (gg,) = ag.autograd.grad((gx * v).sum(), (g,))
    _, idx = ref_max_pool2d(arr(x), (2, 2), (2, 2), (0, 0), (1, 1), False)
    want = np.take_along_axis(arr(v).reshape(1, 1, -1), idx.reshape(1, 1, -1), -1).reshape(1, 1, 2, 2)
    np.testing.assert_allclose(arr(gg), want, rtol=1e-12)


# ------------------------------------------------------------------------------------------ pool forward
MAX_CASES = [
    ((2, 3, 6, 7), 2, None, 0, 1, False),
    ((1, 2, 7, 7), 3, 2, 1, 1, False),
    ((1, 2, 7, 8), 3, 2, 1, 1, True),
    ((2, 1, 9, 8), (3, 2), (2, 3), (1, 1), (2, 1), True),
    ((1, 1, 5, 5), 2, 1, 1, 2, False),
    ((3, 2, 4, 4), 4, 4, 0, 1, False),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", MAX_CASES, ids=str)
def test_max_pool2d_forward_matches_numpy(case, dtype):
    xs, k, s, p, d, ceil_mode = case
    x = seeded("max", case).standard_normal(xs).astype(dtype)
    out, idx = C.max_pool2d(t(x), k, s, p, d, ceil_mode, return_indices=True)
    want, want_idx = ref_max_pool2d(x, pair(k), pair(s if s is not None else k), pair(p), pair(d), ceil_mode)
    np.testing.assert_array_equal(arr(out), want.astype(dtype))
    np.testing.assert_array_equal(arr(idx), want_idx)
    assert idx.dtype == ag.int64


AVG_CASES = [
    ((2, 3, 6, 7), 2, None, 0, False, True, None),
    ((1, 2, 7, 7), 3, 2, 1, False, True, None),
    ((1, 2, 7, 7), 3, 2, 1, False, False, None),
    ((1, 2, 8, 7), 3, 2, 1, True, True, None),
    ((1, 2, 8, 7), 3, 2, 1, True, False, None),
    ((2, 1, 9, 8), (3, 2), (2, 3), (1, 1), True, True, None),
    ((2, 1, 5, 5), 2, 1, 1, False, True, 3),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", AVG_CASES, ids=str)
def test_avg_pool2d_forward_matches_numpy(case, dtype):
    xs, k, s, p, ceil_mode, cip, div = case
    x = seeded("avg", case).standard_normal(xs).astype(dtype)
    got = C.avg_pool2d(t(x), k, s, p, ceil_mode, cip, div)
    want = ref_avg_pool2d(x, pair(k), pair(s if s is not None else k), pair(p), ceil_mode, cip, div)
    np.testing.assert_allclose(arr(got), want, **tol(dtype))


@pytest.mark.parametrize("size", [(1, 1), (3, 2), (5, 7), (4, 4), (2, 5)])
def test_adaptive_pools_match_numpy(size):
    x = seeded("adaptive", size).standard_normal((2, 3, 5, 7))
    np.testing.assert_allclose(arr(C.adaptive_avg_pool2d(t(x), size)), ref_adaptive(x, *size, np.mean),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(arr(C.adaptive_max_pool2d(t(x), size)), ref_adaptive(x, *size, np.max))
    assert tuple(C.adaptive_avg_pool2d(t(x), (None, 2)).shape) == (2, 3, 5, 2)


def test_pool1d_and_unbatched():
    x = seeded("p1").standard_normal((2, 3, 10))
    got = C.max_pool1d(t(x), 3, 2, 1)
    want = ref_max_pool2d(x[:, :, None], (1, 3), (1, 2), (0, 1), (1, 1), False)[0][:, :, 0]
    np.testing.assert_array_equal(arr(got), want)
    got = C.avg_pool1d(t(x), 4, 3, 2, True, False)
    want = ref_avg_pool2d(x[:, :, None], (1, 4), (1, 3), (0, 2), True, False)[:, :, 0]
    np.testing.assert_allclose(arr(got), want, rtol=1e-12)
    x3 = x[0].reshape(3, 2, 5)
    np.testing.assert_array_equal(arr(C.max_pool2d(t(x3), 2, 1)),
                                  ref_max_pool2d(x3[None], (2, 2), (1, 1), (0, 0), (1, 1), False)[0][0])


def test_max_pool_nan_propagates():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    out = arr(C.max_pool2d(t(x), 2))
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 0, 1, 1])


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_conv2d_random_geometry_matches_numpy(data):
    groups = data.draw(st.integers(1, 3))
    c, o = groups * data.draw(st.integers(1, 3)), groups * data.draw(st.sampled_from([1, 2, 17]))
    kh, kw = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    dilation = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    pads = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in range(2))
    h = data.draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - sum(pads[0])), 9))
    w = data.draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - sum(pads[1])), 9))
    n = data.draw(st.integers(0, 3))
    limit = data.draw(st.sampled_from([0, 1, 5000]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    x = rng.standard_normal((n, c, h, w))
    k = rng.standard_normal((o, c // groups, kh, kw))
    b = rng.standard_normal(o)
    old = _core.conv_set_workspace_limit(limit)
    try:
        got = C.conv2d(t(x), t(k), t(b), stride, pads, dilation, groups)
        g = rng.standard_normal(tuple(got.shape))
        gx = _core.conv2d_backward_data(t(g), t(k), None, h, w, stride, (pads[0][0], pads[1][0]), dilation, groups)
        gw = _core.conv2d_backward_weight(t(x), t(g), kh, kw, stride, (pads[0][0], pads[1][0]), dilation, groups)
    finally:
        _core.conv_set_workspace_limit(old)
    np.testing.assert_allclose(arr(got), ref_conv2d(x, k, b, stride, pads, dilation, groups), rtol=1e-10,
                               atol=1e-10)
    # the two gradient kernels are the adjoints of the forward: <conv(x), g> = <x, gx> = <k, gw>
    y0 = ref_conv2d(x, k, None, stride, pads, dilation, groups)
    np.testing.assert_allclose(np.vdot(y0, g), np.vdot(x, arr(gx)), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.vdot(y0, g), np.vdot(k, arr(gw)), rtol=1e-9, atol=1e-9)


def test_conv2d_both_simd_paths(target):
    rng = seeded("simd")
    x = rng.standard_normal((3, 4, 9, 8)).astype(np.float32)
    k = rng.standard_normal((32, 4, 3, 3)).astype(np.float32)
    got = C.conv2d(t(x), t(k), None, 1, 1)
    np.testing.assert_allclose(arr(got), ref_conv2d(x, k, None, pads=((1, 1), (1, 1))), rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------------------------------ direct-packed path
# The forward (and the stride-1 data gradient) can write its columns straight into the GEMM's packed B
# panels (csrc/conv_direct.c, agc_gemm_prepacked) instead of im2col + GEMM; both algorithms are checked here on
# shapes chosen for the panel builder: output widths giving 1, 2, 3 and more row segments per 16-pixel
# panel, left / right padding (clipped lanes), padding rows, dilation, wide kernels (kw > 16: portable
# builder), strides, groups, K past one cache block (ck > 256), and tiny inputs whose panels touch both
# ends of the input buffer (masked loads). Depthwise convolutions (one input channel per group) run direct
# loops instead, also checked here against im2col.
DIRECT_CASES = CONV_CASES + [
    ((3, 6, 14, 14), (16, 6, 5, 5), True, 1, 0, 1, 1),         # LeNet-5 layer 2: 2-3 segments per panel
    ((2, 4, 9, 20), (8, 4, 3, 3), True, 1, 1, 1, 1),           # 20-wide rows: 1-2 segments, clipped lanes
    ((2, 3, 6, 3), (5, 3, 3, 3), False, 1, 1, 1, 1),           # 3-wide rows: 6 segments per panel
    ((1, 2, 5, 1), (4, 2, 3, 1), True, 1, (1, 0), 1, 1),       # 1-wide rows: 5 segments
    ((2, 3, 40, 1), (6, 3, 3, 1), True, 1, (1, 0), 1, 1),     # 1-wide rows: NR segments per panel
    ((1, 4, 9, 45), (8, 4, 3, 5), True, 1, 2, 1, 1),           # 45-wide rows: every register of a
                                                               # 32/64-wide panel clipped somewhere
    ((2, 32, 7, 9), (12, 32, 3, 3), True, 1, 1, 1, 1),         # ck = 288: two K blocks
    ((2, 4, 8, 30), (6, 4, 3, 17), True, 1, (1, 8), 1, 1),     # kw = 17: portable builder
    ((2, 4, 12, 12), (8, 4, 3, 3), True, 1, 2, 2, 1),          # dilation 2 with padding 2
    ((2, 8, 11, 13), (8, 2, 3, 3), True, (1, 2), 1, 1, 4),     # stride_w 2: portable builder; groups
    ((1, 1, 2, 2), (4, 1, 3, 3), True, 1, 2, 1, 1),            # padding larger than the image
    ((2, 4, 9, 10), (8, 1, 3, 3), True, (2, 1), 1, (1, 2), 4),  # depthwise, channel multiplier 2, dilated
    ((2, 3, 8, 11), (3, 1, 2, 3), False, (1, 3), (0, 2), 1, 3),  # depthwise, stride_w 3, clipped columns
]


@pytest.fixture(params=[1, 2], ids=["im2col", "direct"])
def conv_algorithm(request):
    old = _core.conv_set_direct(request.param)
    yield request.param
    _core.conv_set_direct(old)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", DIRECT_CASES, ids=str)
def test_conv2d_both_algorithms_match_numpy(case, dtype, target, conv_algorithm):
    xs, ws, has_bias, stride, padding, dilation, groups = case
    rng = seeded("direct", case)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype) if has_bias else None
    pads = conv_pads(padding, ws[2:], pair(dilation))
    got = C.conv2d(t(x), t(w), None if b is None else t(b), stride, padding, dilation, groups)
    want = ref_conv2d(x, w, b, pair(stride), pads, pair(dilation), groups)
    np.testing.assert_allclose(arr(got), want, **tol(dtype))
    # the data gradient (through the flipped-weight convolution where it applies) is the forward's
    # adjoint: <conv(x), g> = <x, gx>; with a bias it adds bias[c] (conv_transpose2d's forward)
    g = rng.standard_normal(want.shape).astype(dtype)
    cb = rng.standard_normal(xs[1]).astype(dtype)
    gx = _core.conv2d_backward_data(t(g), t(w), t(cb), xs[2], xs[3], pair(stride), (pads[0][0], pads[1][0]),
                                    pair(dilation), groups)
    y0 = ref_conv2d(x, w, None, pair(stride), pads, pair(dilation), groups)
    lhs = np.vdot(y0, g.astype(np.float64)) + np.vdot(x.astype(np.float64),
                                                      np.broadcast_to(cb[None, :, None, None], x.shape))
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    assert abs(lhs - np.vdot(x.astype(np.float64), arr(gx).astype(np.float64))) <= rtol * (1 + abs(lhs)) * 10


def test_conv2d_direct_gradients_gradcheck(conv_algorithm):
    rng = seeded("direct grad")
    x = t(rng.standard_normal((2, 3, 6, 7)), True)
    w = t(rng.standard_normal((5, 3, 3, 3)), True)
    b = t(rng.standard_normal(5), True)
    assert gradcheck(lambda x, w, b: C.conv2d(x, w, b, 1, 1), (x, w, b))
    assert gradgradcheck(lambda x, w: C.conv2d(x, w, None, 1, (1, 2), (1, 2)), (x, w))


def test_conv2d_direct_thread_count_and_algorithms_agree():
    rng = seeded("direct threads")
    x = t(rng.standard_normal((5, 6, 14, 14)).astype(np.float32))
    w = t(rng.standard_normal((16, 6, 5, 5)).astype(np.float32))
    g = t(rng.standard_normal((5, 16, 12, 12)).astype(np.float32))
    wd = t(rng.standard_normal((12, 1, 3, 3)).astype(np.float32))  # depthwise, 2 outputs per channel
    old_threads, old_mode = ag.get_num_threads(), _core.conv_set_direct(2)
    runs = []
    try:
        for n in (1, 2, 3):
            ag.set_num_threads(n)
            y = C.conv2d(x, w, None, 1, 1)
            gx = _core.conv2d_backward_data(g, w, None, 14, 14, (1, 1), (1, 1), (1, 1), 1)
            yd = C.conv2d(x, wd, None, 1, 1, 1, 6)
            runs.append([arr(y).copy(), arr(gx).copy(), arr(yd).copy()])
        _core.conv_set_direct(1)
        y1 = arr(C.conv2d(x, w, None, 1, 1))
    finally:
        ag.set_num_threads(old_threads)
        _core.conv_set_direct(old_mode)
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(runs[0][0], y1, rtol=1e-5, atol=1e-4)


# ------------------------------------------------------------------------------ output channels in lanes
# The float32 forward with 16 output channels in the vector lanes and a register block of R rows x X
# pixels (csrc/conv_oclanes.c; AVX-512: R <= 2, X <= 14; AVX2: 1 x 6, and for at most 8 channels a
# group its half kernels, 1 x 12), forced here with conv_set_direct(3) on every vector tier the CPU has.
# The shapes cross every block edge: rows not a multiple of X or R, channel counts off 16 and 8, padding
# (a zero-bordered copy, also bottom / right only), stride 2 in either direction, dilation, groups, a
# one-pixel-wide output. AVX2 stores whole vectors past a block's end where its row has room, so rows
# just longer and shorter than 8 and 12 pixels appear too.
OCLANES_CASES = [
    ((3, 6, 14, 14), (16, 6, 5, 5), True, 1, 0, 1, 1),          # LeNet-5 layer 2: 10-wide rows
    ((2, 5, 9, 31), (20, 5, 3, 3), True, 1, 1, 1, 1),           # 31 columns, 20 channels (16 + 4)
    ((2, 3, 7, 45), (3, 3, 3, 3), False, 1, (0, 2), 1, 1),      # 3 channels, 49-wide rows
    ((2, 6, 15, 17), (12, 6, 3, 3), True, 2, 1, 1, 1),          # stride 2, padding
    ((2, 6, 15, 13), (9, 6, 3, 3), True, (2, 1), (1, 0), (2, 1), 1),  # row stride 2, dilation
    ((1, 4, 10, 12), (33, 4, 3, 2), True, (1, 2), (2, 1), (1, 3), 1),  # column stride 2, dilation 3
    ((2, 8, 11, 13), (18, 4, 3, 3), True, 1, 1, 1, 2),          # groups, 9 channels a group
    ((2, 4, 9, 1), (8, 4, 3, 1), True, 1, (1, 0), 1, 1),        # one-pixel-wide rows
    ((2, 3, 8, 9), (16, 3, 4, 4), True, 1, "same", 1, 1),       # 'same' with an even kernel: bottom /
                                                                # right padding only past the top / left
    ((2, 1, 12, 32), (6, 1, 5, 5), True, 1, 0, 1, 1),           # LeNet-5 layer 1: 28-wide rows, 6 channels
    ((2, 2, 9, 29), (5, 2, 3, 3), True, (1, 2), 1, 1, 1),       # 5 channels, column stride 2: 15 wide
    ((2, 4, 8, 27), (8, 2, 3, 3), False, 1, 1, 1, 2),           # groups of 2 -> 4 channels, 27 wide
    ((1, 3, 6, 11), (7, 3, 3, 3), True, 1, 0, 1, 1),            # 7 channels, 9-wide rows
    ((1, 3, 6, 15), (10, 3, 3, 3), True, 1, 1, 1, 1),           # 10 channels (8 + 2): the full kernels
]


def _oclanes_run(case, tier, mode):
    xs, ws, has_bias, stride, padding, dilation, groups = case
    rng = seeded("oclanes", case)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32) if has_bias else None
    old = (_core.simd_target(), _core.conv_set_direct(mode))
    try:
        _core.set_simd_target(tier)
        got = arr(C.conv2d(t(x), t(w), None if b is None else t(b), stride, padding, dilation, groups))
    finally:
        _core.set_simd_target(old[0])
        _core.conv_set_direct(old[1])
    pads = conv_pads(padding, ws[2:], pair(dilation))
    return got, ref_conv2d(x, w, b, pair(stride), pads, pair(dilation), groups)


@pytest.mark.parametrize("case", OCLANES_CASES, ids=str)
def test_conv2d_oclanes_matches_numpy_and_im2col(case, tier):
    got, want = _oclanes_run(case, tier, 3)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    im2col, _ = _oclanes_run(case, tier, 1)
    np.testing.assert_allclose(got, im2col, rtol=1e-5, atol=1e-4)


def test_conv2d_oclanes_tiers_bitwise_equal():
    tiers = two_vector_tiers()
    for case in OCLANES_CASES:
        outs = [_oclanes_run(case, tier, 3)[0] for tier in tiers]
        for other in outs[1:]:
            np.testing.assert_array_equal(outs[0], other)


def test_conv2d_oclanes_threads_bitwise_and_torch():
    """Bitwise equal at 1-4 threads, with one thread held back at every scheduling point; LeNet-5's
    second layer forward and backward (the gradients run the other algorithms) against torch."""
    rng = seeded("oclanes threads")
    old = (ag.get_num_threads(), _core.conv_set_direct(3))
    try:
        for xs, ws in (((5, 1, 20, 32), (6, 1, 5, 5)), ((7, 6, 14, 14), (16, 6, 5, 5))):  # LeNet-5's layers
            x = rng.standard_normal(xs).astype(np.float32)
            w = rng.standard_normal(ws).astype(np.float32)
            b = rng.standard_normal(ws[0]).astype(np.float32)
            ag.set_num_threads(1)
            y1 = arr(C.conv2d(t(x), t(w), t(b), 1, 1))
            for n in (2, 3, 4):
                ag.set_num_threads(n)
                _core.set_schedule_perturbation("victim", victim=n - 1, delay_us=50)
                try:
                    yn = arr(C.conv2d(t(x), t(w), t(b), 1, 1))
                finally:
                    _core.set_schedule_perturbation("off")
                np.testing.assert_array_equal(y1, yn)
        tx, tw, tb = t(x, True), t(w, True), t(b, True)
        y = C.conv2d(tx, tw, tb)
        g = rng.standard_normal(y.shape).astype(np.float32)
        y.backward(t(g))
    finally:
        ag.set_num_threads(old[0])
        _core.conv_set_direct(old[1])
    if torch is None:
        pytest.skip("torch not installed")
    rx, rw, rb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, w, b))
    ry = torch.nn.functional.conv2d(rx, rw, rb)
    ry.backward(torch.tensor(g, dtype=torch.float64))
    np.testing.assert_allclose(arr(y), ry.detach().numpy(), rtol=1e-5, atol=1e-4)
    for mine, theirs in ((tx, rx), (tw, rw), (tb, rb)):
        np.testing.assert_allclose(arr(mine.grad), theirs.grad.numpy(), rtol=1e-4, atol=1e-3)


def ref_conv2d_weight_grad(x, g, kernel, stride, pads, dilation, groups):
    """Direct definition of the weight gradient: for every tap, the strided input slice against grad_out."""
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), pads[0], pads[1]))
    g = g.astype(np.float64)
    n, c, _, _ = xp.shape
    o, oh, ow = g.shape[1], g.shape[2], g.shape[3]
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    cg, og = c // groups, o // groups
    dw_ = np.zeros((o, cg, kh, kw))
    for a in range(kh):
        for bb in range(kw):
            patch = xp[:, :, a * dh: a * dh + sh * (oh - 1) + 1: sh, bb * dw: bb * dw + sw * (ow - 1) + 1: sw]
            for gi in range(groups):
                dw_[gi * og:(gi + 1) * og, :, a, bb] = np.einsum(
                    "nchw,nohw->oc", patch[:, gi * cg:(gi + 1) * cg], g[:, gi * og:(gi + 1) * og])
    return dw_


# The weight gradient with output channels in lanes (csrc/conv_oclanes.c: blocks of R kernel rows x kw
# columns, kw 3 or 5, column dilation 1; AVX2's half kernels for at most 8 channels a group; images cut
# into chunks summed in order). Forced with conv_set_direct(3); the shapes cross the row blocks (kh up to
# 7), channel counts off 16 and 8, padding (also bottom / right only), strides, row dilation, groups, and
# batches of 1, 3 and 17 (chunks of unequal size).
OCLW_CASES = [
    ((5, 6, 14, 14), (16, 6, 5, 5), 1, 0, 1, 1),                # LeNet-5 layer 2
    ((3, 1, 28, 28), (6, 1, 5, 5), 1, 2, 1, 1),                 # LeNet-5 layer 1: 6 channels, padded
    ((1, 3, 9, 31), (20, 3, 3, 3), 1, 1, 1, 1),                 # 20 channels (16 + 4), one image
    ((17, 2, 11, 12), (5, 2, 7, 3), (2, 1), (3, 1), 1, 1),      # 7 kernel rows, 5 channels, 17 images
    ((2, 4, 13, 15), (12, 4, 3, 5), (1, 2), (1, 0), (2, 1), 1),  # row dilation 2, column stride 2
    ((3, 8, 10, 11), (18, 4, 3, 3), 1, 1, 1, 2),                # groups: 9 channels a group
    ((2, 3, 8, 9), (33, 3, 4, 3), 1, "same", 1, 1),             # even kh with 'same': bottom padding only
]


def _oclw_run(case, tier, mode):
    xs, ws, stride, padding, dilation, groups = case
    rng = seeded("oclanes wgrad", case)
    x = rng.standard_normal(xs).astype(np.float32)
    pads = conv_pads(padding, ws[2:], pair(dilation))
    oh = (xs[2] + sum(pads[0]) - pair(dilation)[0] * (ws[2] - 1) - 1) // pair(stride)[0] + 1
    ow = (xs[3] + sum(pads[1]) - pair(dilation)[1] * (ws[3] - 1) - 1) // pair(stride)[1] + 1
    g = rng.standard_normal((xs[0], ws[0], oh, ow)).astype(np.float32)
    old = (_core.simd_target(), _core.conv_set_direct(mode))
    try:
        _core.set_simd_target(tier)
        tx, tw = t(x, True), t(np.zeros(ws, np.float32), True)
        C.conv2d(tx, tw, None, stride, padding, dilation, groups).backward(t(g))
        got = arr(tw.grad)
    finally:
        _core.set_simd_target(old[0])
        _core.conv_set_direct(old[1])
    return got, ref_conv2d_weight_grad(x, g, ws[2:], pair(stride), pads, pair(dilation), groups)


@pytest.mark.parametrize("case", OCLW_CASES, ids=str)
def test_conv2d_oclanes_weight_grad_matches_numpy_and_im2col(case, tier):
    got, want = _oclw_run(case, tier, 3)
    scale = np.abs(want).max()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * scale)
    im2col, _ = _oclw_run(case, tier, 1)
    np.testing.assert_allclose(got, im2col, rtol=1e-5, atol=1e-5 * scale)


def test_conv2d_oclanes_weight_grad_tiers_and_threads_bitwise():
    """AVX2 and AVX-512 run every lane through the same fma chain: the same bits. And the images' chunks are
    fixed by the geometry, so 1-4 threads (one held back at every scheduling point) give the same bits."""
    tiers = two_vector_tiers()
    for case in OCLW_CASES:
        outs = [_oclw_run(case, tier, 3)[0] for tier in tiers]
        for other in outs[1:]:
            np.testing.assert_array_equal(outs[0], other)
    old = ag.get_num_threads()
    try:
        for case in OCLW_CASES[:4]:
            ag.set_num_threads(1)
            one = _oclw_run(case, tiers[-1], 3)[0]
            for n in (2, 3, 4):
                ag.set_num_threads(n)
                _core.set_schedule_perturbation("victim", victim=n - 1, delay_us=50)
                try:
                    np.testing.assert_array_equal(_oclw_run(case, tiers[-1], 3)[0], one)
                finally:
                    _core.set_schedule_perturbation("off")
    finally:
        ag.set_num_threads(old)


def test_conv2d_oclanes_float64_and_portable_use_other_paths():
    """float64, and the portable tier, have no lane kernel: mode 3 gives the automatic choice there."""
    rng = seeded("oclanes f64")
    x = rng.standard_normal((2, 6, 14, 14))
    w = rng.standard_normal((16, 6, 5, 5))
    want = ref_conv2d(x, w, None)
    old = (_core.simd_target(), _core.conv_set_direct(3))
    try:
        np.testing.assert_allclose(arr(C.conv2d(t(x), t(w))), want, **tol(np.float64))
        _core.set_simd_target("portable")
        got = arr(C.conv2d(t(x.astype(np.float32)), t(w.astype(np.float32))))
        np.testing.assert_allclose(got, want, **tol(np.float32))
    finally:
        _core.set_simd_target(old[0])
        _core.conv_set_direct(old[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta", [0.0, 0.5])
@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (5, 17, 3), (6, 16, 256), (7, 33, 257), (13, 15, 600),
                                   (16, 100, 150), (1, 40, 1000), (12, 8, 9), (5, 63, 5), (6, 64, 40),
                                   (13, 65, 300)])
def test_gemm_prepacked_matches_numpy(m, n, k, beta, dtype):
    """agc_gemm_pack_a_panels + agc_gemm_prepacked (the entry points the direct conv path uses) against
    NumPy, over sizes off the tiles of every context (6 x 16, 6 x 8, 8 x 32, 8 x 16, and NR 64 / 32 of
    the measured alternatives) and past one K block; beta == 0 must not read C."""
    rng = seeded("prepacked", m, n, k)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    c0 = rng.standard_normal((m, n)).astype(dtype)
    _, nr = _core.gemm_tile(_core.F32 if dtype == np.float32 else _core.F64)
    nq = -(-n // nr)
    panels = np.zeros((nq, k, nr), dtype)
    for q in range(nq):
        cols = b[:, q * nr:(q + 1) * nr]
        panels[q, :, :cols.shape[1]] = cols
    c = t(np.full((m, n), np.nan, dtype) if beta == 0 else c0)
    _core.gemm_prepacked(t(a), t(panels.ravel()), n, 1.5, beta, c)
    want = 1.5 * (a.astype(np.float64) @ b) + (beta * c0 if beta else 0)
    np.testing.assert_allclose(arr(c), want, **tol(dtype))


def test_gemm_prepacked_rejects_bad_shapes():
    a = t(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"gemm_prepacked: expected b_panels of shape \(\d+,\), got \(10,\)"):
        _core.gemm_prepacked(a, t(np.zeros(10, np.float32)), 5, 1.0, 0.0, t(np.zeros((4, 5), np.float32)))
    with pytest.raises(ValueError, match=r"gemm_prepacked: expected c of shape \(4, 5\)"):
        _core.gemm_prepacked(a, t(np.zeros(48, np.float32)), 5, 1.0, 0.0, t(np.zeros((4, 6), np.float32)))


def test_conv2d_geometry_cache_keeps_checks_and_results():
    """conv2d remembers validated (shapes, options) geometries: repeated calls give the same results,
    unbatched inputs stay unbatched, and inputs or options that differ are still checked."""
    rng = seeded("geom cache")
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((4, 3, 3, 3))
    want = ref_conv2d(x, w, None, (1, 1), ((1, 1), (1, 1)))
    for _ in range(2):
        np.testing.assert_allclose(arr(C.conv2d(t(x), t(w), None, 1, 1)), want, rtol=1e-10)
        np.testing.assert_allclose(arr(C.conv2d(t(x[0]), t(w), None, 1, 1)), want[0], rtol=1e-10)
    with pytest.raises(ValueError, match="has 2 channels"):
        C.conv2d(t(x[:, :2]), t(w), None, 1, 1)
    with pytest.raises(TypeError, match="stride must be an int"):
        C.conv2d(t(x), t(w), None, True, 1)
    with pytest.raises(ValueError, match="groups must be a positive int"):
        C.conv2d(t(x), t(w), None, 1, 1, 1, True)
    with pytest.raises(TypeError, match="same dtype"):
        C.conv2d(t(x.astype(np.float32)), t(w), None, 1, 1)
    y = C.conv2d(t(x, True), t(w), None, [1, 1], [1, 1])  # lists: not cached, still accepted
    np.testing.assert_allclose(arr(y), want, rtol=1e-10)


# ------------------------------------------------------------------------------------------ threads
def test_results_do_not_depend_on_thread_count():
    rng = seeded("threads")
    x = t(rng.standard_normal((8, 16, 20, 20)).astype(np.float32), True)
    w = t(rng.standard_normal((16, 8, 3, 3)).astype(np.float32), True)
    w2 = t(rng.standard_normal((32, 16, 3, 3)).astype(np.float32), True)  # >= 16 channels: L-major GEMMs
    old = ag.get_num_threads()
    runs = []
    try:
        for n in (1, 2, 3):
            ag.set_num_threads(n)
            x.grad = w.grad = w2.grad = None
            y = C.conv2d(x, w, None, 1, 1, 1, 2)
            p = C.max_pool2d(y, 2) + C.avg_pool2d(y, 3, 2, 1)
            limit = _core.conv_set_workspace_limit(60000)  # forward: one image per chunk, rows in blocks
            try:
                z = C.conv2d(x, w2, None, 2, 1)
            finally:
                _core.conv_set_workspace_limit(limit)
            (p.sum() + z.sum()).backward()
            runs.append([arr(y).copy(), arr(p).copy(), arr(z).copy(), arr(x.grad).copy(), arr(w.grad).copy(),
                         arr(w2.grad).copy()])
    finally:
        ag.set_num_threads(old)
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------------------------ bad input
def f64(*shape):
    return t(np.zeros(shape))


ERRORS = [
    (lambda: C.conv2d(f64(1, 3, 5, 5), f64(2, 4, 3, 3)), ValueError, r"conv2d: input \(1, 3, 5, 5\) has 3 channels"),
    (lambda: C.conv2d(f64(1, 4, 2, 2), f64(2, 4, 3, 3)), ValueError, r"conv2d: kernel size .* larger than the padded"),
    (lambda: C.conv2d(f64(1, 4, 5, 5), f64(3, 2, 3, 3), groups=2), ValueError, r"groups=2 must divide the 3 output"),
    (lambda: C.conv2d(f64(1, 3, 5, 5), f64(3, 1, 3, 3), groups=3, padding=-1), ValueError, r"padding must be non-negative"),
    (lambda: C.conv2d(f64(1, 5, 5, 5), f64(2, 1, 3, 3), groups=2), ValueError, r"groups=2 must divide"),
    (lambda: C.conv2d(f64(3, 5, 5), f64(2, 3, 3)), ValueError, r"conv2d: expected a 4-D weight"),
    (lambda: C.conv2d(f64(5, 5), f64(2, 3, 3, 3)), ValueError, r"conv2d: expected a 3-D \(unbatched\) or 4-D"),
    (lambda: C.conv2d(ag.zeros((1, 3, 5, 5), dtype=ag.int64), f64(2, 3, 3, 3)), TypeError, r"conv2d: expected floating"),
    (lambda: C.conv2d(ag.zeros((1, 3, 5, 5)), f64(2, 3, 3, 3)), TypeError, r"conv2d: all tensors must have the same dtype"),
    (lambda: C.conv2d(f64(1, 3, 5, 5), f64(2, 3, 3, 3), f64(3)), ValueError, r"conv2d: bias \(3,\) does not match"),
    (lambda: C.conv2d(f64(1, 3, 5, 5), f64(2, 3, 3, 3), stride=0), ValueError, r"conv2d: stride must be positive"),
    (lambda: C.conv2d(f64(1, 3, 5, 5), f64(2, 3, 3, 3), stride=2, padding="same"), ValueError, r"'same' is not supported"),
    (lambda: C.conv2d(f64(1, 3, 5, 5), f64(2, 3, 3, 3), padding="full"), ValueError, r"padding must be 'same'"),
    (lambda: C.conv1d(f64(1, 3, 5), f64(2, 2, 3)), ValueError, r"conv1d: input \(1, 3, 1, 5\) has 3 channels"),
    (lambda: C.conv1d(f64(1, 3, 2), f64(2, 3, 3)), ValueError, r"conv1d: kernel size"),
    (lambda: C.conv_transpose2d(f64(1, 3, 5, 5), f64(2, 3, 3, 3)), ValueError, r"conv_transpose2d: input \(1, 3, 5, 5\) has 3 channels"),
    (lambda: C.conv_transpose2d(f64(1, 2, 5, 5), f64(2, 3, 3, 3), stride=2, output_padding=2), ValueError, r"output_padding"),
    (lambda: C.max_pool2d(f64(1, 1, 2, 2), 3), ValueError, r"max_pool2d: kernel .* larger than the padded input"),
    (lambda: C.max_pool2d(f64(1, 1, 6, 6), 2, padding=2), ValueError, r"at most half"),
    (lambda: C.max_pool2d(f64(1, 1, 6, 6), 2, padding=-1), ValueError, r"non-negative"),
    (lambda: C.max_pool2d(f64(6, 6), 2), ValueError, r"max_pool2d: expected a 3-D"),
    (lambda: C.max_pool2d(ag.zeros((1, 1, 4, 4), dtype=ag.int64), 2), TypeError, r"max_pool2d: expected floating"),
    (lambda: C.avg_pool2d(f64(1, 1, 4, 4), 0), ValueError, r"avg_pool2d: kernel_size must be positive"),
    (lambda: C.adaptive_avg_pool2d(f64(1, 1, 4, 4), (0, 2)), ValueError, r"output_size must be positive"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_bad_input_raises_clearly(i):
    call, exc, pattern = ERRORS[i]
    with pytest.raises(exc, match=pattern):
        call()


# ------------------------------------------------------------------------------------------ nn modules
def test_conv_modules_parameters_and_init():
    ag.manual_seed(0)
    m = Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
    assert tuple(m.weight.shape) == (6, 2, 3, 3) and tuple(m.bias.shape) == (6,)
    assert list(m.state_dict().keys()) == ["weight", "bias"]
    fan_in = 2 * 9
    assert np.abs(arr(m.weight)).max() <= 1 / math.sqrt(fan_in) + 1e-7   # kaiming_uniform_(a=sqrt(5))
    assert np.abs(arr(m.bias)).max() <= 1 / math.sqrt(fan_in) + 1e-7
    assert np.abs(arr(m.weight)).max() > 0.5 / math.sqrt(fan_in)
    x = ag.randn(2, 4, 7, 7)
    np.testing.assert_allclose(arr(m(x)), ref_conv2d(arr(x), arr(m.weight), arr(m.bias), (2, 2), ((1, 1), (1, 1)),
                                                     (1, 1), 2), rtol=1e-4, atol=1e-5)
    m1 = Conv1d(3, 5, 4, padding="same", bias=False)
    assert tuple(m1.weight.shape) == (5, 3, 4) and m1.bias is None
    assert list(m1.state_dict().keys()) == ["weight"]
    assert tuple(m1(ag.randn(2, 3, 9)).shape) == (2, 5, 9)
    mt = ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    assert tuple(mt.weight.shape) == (4, 3, 3, 3)
    assert tuple(mt(ag.randn(1, 4, 5, 5)).shape) == (1, 6, 10, 10)
    assert tuple(mt(ag.randn(1, 4, 5, 5), output_size=(9, 10)).shape) == (1, 6, 9, 10)
    y = m(x).sum()
    y.backward()
    assert tuple(m.weight.grad.shape) == (6, 2, 3, 3) and tuple(m.bias.grad.shape) == (6,)
    assert "Conv2d(4, 6, kernel_size=(3, 3), stride=(2, 2)" in repr(m)


def test_pool_modules():
    x = ag.randn(2, 3, 9, 8)
    assert tuple(MaxPool2d(2)(x).shape) == (2, 3, 4, 4)
    out, idx = MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True)(x)
    assert tuple(out.shape) == tuple(idx.shape) == (2, 3, 5, 5)
    assert tuple(AvgPool2d(3, 2, 1, count_include_pad=False)(x).shape) == (2, 3, 5, 4)
    assert tuple(AdaptiveAvgPool2d((1, 1))(x).shape) == (2, 3, 1, 1)
    assert tuple(AdaptiveMaxPool2d(2)(x).shape) == (2, 3, 2, 2)
    assert tuple(MaxPool1d(2)(x[:, :, 0]).shape) == (2, 3, 4)
    assert tuple(AvgPool1d(3, 1, 1)(x[:, :, 0]).shape) == (2, 3, 8)
    assert list(MaxPool2d(2).state_dict().keys()) == []


# ------------------------------------------------------------------------------------------ torch cross-checks
@needs_torch
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d_matches_torch_forward_and_backward(case):
    xs, ws, has_bias, stride, padding, dilation, groups = case
    rng = seeded("torch", case)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    ours = [t(x, True), t(w, True), t(b, True)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, w, b)]
    y = C.conv2d(*ours, stride, padding, dilation, groups)
    tx, tpadding = theirs[0], padding
    if isinstance(padding, tuple) and isinstance(padding[0], tuple):
        # torch's conv2d takes no per-side padding: pad its input first (the gradient flows through)
        (top, bottom), (left, right) = padding
        tx, tpadding = TF.pad(tx, (left, right, top, bottom)), 0
    ty = TF.conv2d(tx, *theirs[1:], stride=stride, padding=tpadding, dilation=dilation, groups=groups)
    np.testing.assert_allclose(arr(y), ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(tuple(ty.shape))
    y.backward(t(g))
    ty.backward(torch.tensor(g))
    for a, b_ in zip(ours, theirs):
        np.testing.assert_allclose(arr(a.grad), b_.grad.numpy(), rtol=1e-10, atol=1e-10)


@needs_torch
@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=str)
def test_conv_transpose2d_matches_torch(case):
    xs, ws, stride, padding, output_padding, groups, dilation = case
    rng = seeded("torchT", case)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[1] * groups)
    ours = [t(x, True), t(w, True), t(b, True)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, w, b)]
    y = C.conv_transpose2d(*ours, stride, padding, output_padding, groups, dilation)
    ty = TF.conv_transpose2d(*theirs, stride=stride, padding=padding, output_padding=output_padding,
                             groups=groups, dilation=dilation)
    np.testing.assert_allclose(arr(y), ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(tuple(ty.shape))
    y.backward(t(g))
    ty.backward(torch.tensor(g))
    for a, b_ in zip(ours, theirs):
        np.testing.assert_allclose(arr(a.grad), b_.grad.numpy(), rtol=1e-10, atol=1e-10)


@needs_torch
def test_pools_match_torch():
    rng = seeded("torch-pool")
    x = rng.standard_normal((2, 3, 9, 8))
    cases = [
        (C.max_pool2d, TF.max_pool2d, dict(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True)),
        (C.max_pool2d, TF.max_pool2d, dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 1), dilation=(2, 1))),
        (C.avg_pool2d, TF.avg_pool2d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                           count_include_pad=False)),
        (C.avg_pool2d, TF.avg_pool2d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        (C.avg_pool2d, TF.avg_pool2d, dict(kernel_size=2, stride=1, padding=1, divisor_override=5)),
        (C.adaptive_avg_pool2d, TF.adaptive_avg_pool2d, dict(output_size=(4, 3))),
        (C.adaptive_max_pool2d, TF.adaptive_max_pool2d, dict(output_size=(4, 5))),
    ]
    for ours, theirs, kw in cases:
        a = t(x, True)
        ta = torch.tensor(x, requires_grad=True)
        y, ty = ours(a, **kw), theirs(ta, **kw)
        np.testing.assert_allclose(arr(y), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
        g = rng.standard_normal(tuple(ty.shape))
        y.backward(t(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(arr(a.grad), ta.grad.numpy(), rtol=1e-12, atol=1e-12)
    _, idx = C.max_pool2d(t(x), 3, 2, 1, return_indices=True, ceil_mode=True)
    _, tidx = TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True, ceil_mode=True)
    np.testing.assert_array_equal(arr(idx), tidx.numpy())


@needs_torch
def test_module_state_dict_loads_from_torch():
    tm = torch.nn.Conv2d(3, 4, 3, padding=1)
    m = Conv2d(3, 4, 3, padding=1)
    m.load_state_dict({k: ag.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(arr(m(t(x))), tm(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------------------------------ Winograd F(2x2, 3x3)
# The 3x3 stride-1 forward and stride-1 data gradient go through Winograd's F(2x2, 3x3) with enough channels
# and pixels (float32: c >= 64, o >= 32; float64: c, o >= 16; oh ow >= 196); conv_set_winograd(2) forces it
# on any 3x3 stride-1 ungrouped geometry, 1 turns it off.
# Error bound: each output is a +-1 combination of 9 of the 16 transform-domain sums M_q = sum_c U_q V_q,
# |U| <= 9/4 max|w| and |V| <= 4 max|x|, so every term is <= 9 max|x| max|w| and the float rounding of the
# input transform, the filter transform, the c-term dot products and the output transform is a few
# units of eps times 36 sqrt(c) max|x| max|w| for random-signed data (a sqrt(c) random walk in the GEMM
# sums); the tests allow 16x that.
def wino_atol(dtype, c, x, w):
    eps = np.finfo(dtype).eps
    return 16 * 36 * math.sqrt(c) * eps * float(np.abs(x).max()) * float(np.abs(w).max())


@pytest.fixture(params=[0, 2], ids=["wino-auto", "wino-forced"])
def wino_mode(request):
    old = _core.conv_set_winograd(request.param)
    yield request.param
    _core.conv_set_winograd(old)


WINO_CASES = [  # (n, c, h, w, o, padding, bias)
    (1, 16, 6, 6, 16, 1, True),     # even sizes: whole tiles
    (3, 16, 7, 9, 16, 1, False),    # odd sizes: ragged last tile row and column
    (2, 15, 8, 7, 16, 0, True),     # c just under the threshold
    (2, 16, 5, 8, 15, 0, False),    # o just under the threshold
    (2, 17, 9, 9, 17, 1, True),
    (1, 24, 3, 3, 20, 0, True),     # one output pixel
    (2, 32, 12, 11, 40, 1, True),
    (1, 3, 5, 4, 2, 1, False),      # few channels (forced mode only runs Winograd here)
    (2, 16, 14, 15, 16, 1, True),   # float64 threshold, 14 x 15 outputs
    (1, 64, 14, 14, 32, 1, True),   # float32 threshold (forward; the data gradient has c = 32)
    (1, 63, 15, 14, 33, 0, False),  # just under it
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", WINO_CASES, ids=str)
def test_conv2d_winograd_forward_and_data_gradient_match_numpy(case, dtype, wino_mode):
    n, c, h, wd, o, p, has_bias = case
    rng = seeded("wino", case)
    x = rng.standard_normal((n, c, h, wd)).astype(dtype)
    w = rng.standard_normal((o, c, 3, 3)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype) if has_bias else None
    got = arr(C.conv2d(t(x), t(w), None if b is None else t(b), 1, p))
    want = ref_conv2d(x, w, b, pads=((p, p), (p, p)))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=rtol, atol=wino_atol(dtype, c, x, w))
    # data gradient: the convolution of grad_out (padded by 2 - p) with the flipped, transposed weights
    g = rng.standard_normal(want.shape).astype(dtype)
    cb = rng.standard_normal(c).astype(dtype) if has_bias else None
    gx = arr(_core.conv2d_backward_data(t(g), t(w), None if cb is None else t(cb), h, wd, (1, 1), (p, p),
                                        (1, 1), 1))
    wf = np.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    want_gx = ref_conv2d(g, wf, cb, pads=((2 - p, 2 - p), (2 - p, 2 - p)))
    np.testing.assert_allclose(gx, want_gx, rtol=rtol, atol=wino_atol(dtype, o, g, w))


def test_conv2d_winograd_non_contiguous_input_and_chunks():
    rng = seeded("wino layout")
    xl = rng.standard_normal((3, 10, 11, 16)).astype(np.float32)  # channels-last storage
    w = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    x = ag.tensor(xl).permute(0, 3, 1, 2)
    want = ref_conv2d(xl.transpose(0, 3, 1, 2), w, b, pads=((1, 1), (1, 1)))
    old = _core.conv_set_winograd(0)
    try:
        got = arr(C.conv2d(x, t(w), t(b), 1, 1))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=wino_atol(np.float32, 16, xl, w))
        # a workspace cap forcing one tile row per chunk gives the same bits (the GEMM never splits K)
        limit = _core.conv_set_workspace_limit(16 * 16 * 16 * 4 + 1)
        try:
            chunked = arr(C.conv2d(x, t(w), t(b), 1, 1))
        finally:
            _core.conv_set_workspace_limit(limit)
        np.testing.assert_array_equal(chunked, got)
    finally:
        _core.conv_set_winograd(old)


def test_conv2d_winograd_thread_count_bitwise():
    rng = seeded("wino threads")
    x = t(rng.standard_normal((3, 32, 13, 14)).astype(np.float32))
    w = t(rng.standard_normal((24, 32, 3, 3)).astype(np.float32))
    b = t(rng.standard_normal(24).astype(np.float32))
    g = t(rng.standard_normal((3, 24, 13, 14)).astype(np.float32))
    old_threads, old_mode = ag.get_num_threads(), _core.conv_set_winograd(2)
    runs = []
    try:
        for nt in (1, 2, 3):
            ag.set_num_threads(nt)
            y = arr(C.conv2d(x, w, b, 1, 1)).copy()
            gx = arr(_core.conv2d_backward_data(g, w, None, 13, 14, (1, 1), (1, 1), (1, 1), 1)).copy()
            runs.append((y, gx))
    finally:
        ag.set_num_threads(old_threads)
        _core.conv_set_winograd(old_mode)
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0][0], other[0])
        np.testing.assert_array_equal(runs[0][1], other[1])


def test_conv2d_winograd_gradcheck():
    rng = seeded("wino grad")
    old = _core.conv_set_winograd(2)
    try:
        x = t(rng.standard_normal((2, 3, 5, 6)), True)
        w = t(rng.standard_normal((4, 3, 3, 3)), True)
        b = t(rng.standard_normal(4), True)
        assert gradcheck(lambda x, w, b: C.conv2d(x, w, b, 1, 1), (x, w, b))
        assert gradgradcheck(lambda x, w: C.conv2d(x, w, None, 1, 0), (x, w))
    finally:
        _core.conv_set_winograd(old)


def test_conv2d_winograd_automatic_selection():
    # above the threshold the automatic choice gives the forced Winograd's bits, below it the other path's
    rng = seeded("wino auto")
    old = _core.conv_set_winograd(0)
    try:
        for dtype, (c, o, hw), chosen in [(np.float32, (64, 32, 14), True), (np.float32, (32, 32, 14), False),
                                          (np.float64, (16, 16, 14), True), (np.float64, (16, 16, 13), False)]:
            x = t(rng.standard_normal((2, c, hw, hw)).astype(dtype))
            w = t(rng.standard_normal((o, c, 3, 3)).astype(dtype))
            runs = {}
            for mode in (0, 1, 2):
                _core.conv_set_winograd(mode)
                runs[mode] = arr(C.conv2d(x, w, None, 1, 1)).copy()
            assert not np.array_equal(runs[1], runs[2])
            np.testing.assert_array_equal(runs[0], runs[2] if chosen else runs[1])
    finally:
        _core.conv_set_winograd(old)


# ------------------------------------------------------------------------------ loops compiled per tier
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_winograd_and_depthwise_loops_on_every_tier(dtype):
    """Winograd's transforms and the depthwise loops are plain C compiled for portable and AVX2
    (CONV_TIERS in csrc/conv.h). The depthwise loops only multiply and add, uncontracted: every tier gives
    the portable build's bits (padding, stride 2, a channel multiplier of 2, odd widths for vector
    tails). Winograd runs each tier's GEMM between its transforms, so its forward and data gradient are
    checked against NumPy on every tier instead."""
    rng = seeded("conv tiers", dtype)
    xw = rng.standard_normal((2, 8, 13, 19)).astype(dtype)
    ww = rng.standard_normal((8, 8, 3, 3)).astype(dtype)
    gw = rng.standard_normal((2, 8, 13, 19)).astype(dtype)
    xd = rng.standard_normal((2, 3, 17, 23)).astype(dtype)
    wd = rng.standard_normal((6, 1, 3, 5)).astype(dtype)
    bd = rng.standard_normal(6).astype(dtype)
    want_w = ref_conv2d(xw, ww, None, pads=((1, 1), (1, 1)))
    wf = np.ascontiguousarray(ww.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    want_g = ref_conv2d(gw, wf, None, pads=((1, 1), (1, 1)))
    want_d = ref_conv2d(xd, wd, bd, (2, 1), ((1, 1), (2, 2)), (1, 1), 3)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    old = (_core.simd_target(), _core.conv_set_winograd(2))
    depthwise = {}
    try:
        for tier in _core.simd_targets():
            _core.set_simd_target(tier)
            got = arr(C.conv2d(t(xw), t(ww), None, 1, 1))
            np.testing.assert_allclose(got, want_w, rtol=rtol, atol=wino_atol(dtype, 8, xw, ww), err_msg=tier)
            got = arr(_core.conv2d_backward_data(t(gw), t(ww), None, 13, 19, (1, 1), (1, 1), (1, 1), 1))
            np.testing.assert_allclose(got, want_g, rtol=rtol, atol=wino_atol(dtype, 8, gw, ww), err_msg=tier)
            depthwise[tier] = arr(C.conv2d(t(xd), t(wd), t(bd), (2, 1), (1, 2), 1, 3))
    finally:
        _core.set_simd_target(old[0])
        _core.conv_set_winograd(old[1])
    np.testing.assert_allclose(depthwise["portable"], want_d, rtol=rtol, atol=rtol)
    for tier, got in depthwise.items():
        np.testing.assert_array_equal(got, depthwise["portable"], err_msg=tier)
