"""float64 on the vector tiers (csrc/vec.h's double lanes; the float64 rows of elementwise_vec.h, the
float64 kernels of softmax_vec.h, reduce_vec.h and nn_vec.h), for every tier the registry lists
(`TARGETS`; tiers this CPU lacks skip with the reason).

- vd_exp, vd_log, vd_tanh, vd_sigmoid against long double (x87, 64-bit mantissa) on a dense grid,
  random bit patterns (every exponent: subnormal inputs and results, overflow) and special values, in
  ulps of the float64 result (subnormal spacing below DBL_MIN): the bounds vec.h states.
- Each op's float64 row against the portable loops (libm): exact ops bitwise (bound 0, signed zeros
  included), math ops within a bound in float64 units of a scale (the result, or for the backward
  helpers the size of the terms they add, as tests/test_vec_tiers.py does for float32).
- AVX2 and AVX-512 give the same bits (one body, the same operation order); so do 1, 2, 3 and 4
  threads, every tail length at every start offset, strided and broadcast inputs.
- softmax / log_softmax (rows, tiles, backward), logsumexp, max/min (values and indices, NaN and
  signed-zero rules) and cross-entropy in float64: within bounds of the portable loops (max/min exact)
  and bitwise equal across the vector tiers.
"""
import math

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import _core
from conftest import T, TARGETS, require_target, two_vector_tiers

REFERENCE = TARGETS[0]  # the registry lists the portable reference first
DBL_MIN = 2.0 ** -1022
F = ag.nn.functional

# name: max error in float64 units (module docstring); 0 = bitwise equal to the portable loop
UNARY_BOUND = {
    "neg": 0, "abs": 0, "square": 0, "sqrt": 0, "rsqrt": 0, "relu": 0, "floor": 0, "ceil": 0, "round": 0,
    "reciprocal": 0, "clamp": 0, "leaky_relu": 0, "affine": 0,
    # measured (AVX2 = AVX-512): exp 1, log 1, tanh 3, sigmoid 2, silu 3, gelu_tanh 2
    "exp": 1, "log": 2, "tanh": 3, "sigmoid": 3, "silu": 4, "gelu_tanh": 3,
    # libm's erf / erfc in the portable loop (gelu: beyond its own error, PORTABLE_X2)
    "erf": 3, "gelu": 5,
}
BINARY_BOUND = {
    "add": 0, "sub": 0, "mul": 0, "div": 0, "maximum": 0, "minimum": 0, "sigmoid_bwd": 0, "tanh_bwd": 0,
    "relu_bwd": 0, "softplus_bwd": 4, "elu_bwd": 3,  # measured 3, 2
    # 1 - s from a rounded s (every tier) turns a 1-ulp difference in s into up to |x| ulp (as float32):
    # measured 7 and 4
    "silu_bwd": 8, "gelu_tanh_bwd": 6,
    "gelu_bwd": 4,  # in units of |Phi| + |x phi| (measured 3)
}
# The portable float64 gelu rounds x / sqrt 2 and x^2 before erfc and exp, which costs it up to about 2 x^2
# units itself (10 at x = -2.87, 72 at x = -7.3, 1500 at x = -35): the rows are compared with it for
# |x| <= 8 within bound + 2 x^2, and against mpmath everywhere (test_float64_erf_gelu_accuracy)
PORTABLE_X2 = ("gelu", "gelu_bwd")
PARAMS = {"clamp": (-1.5, 2.0), "leaky_relu": (0.125, 0.0), "affine": (2.0, 3.0)}

SPECIALS = np.array([0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 5e-324, -5e-324, 1e-310, -1e-310, DBL_MIN, -DBL_MIN,
                     709.782712893384, 709.7827128933841, 710, 711, -708.39641853226, -745.1332191019411,
                     -745.1332191019412, -746, -800, 0.5, -0.5, 0.625, -0.625, 1, -1, 1 - 2 ** -53, 1 + 2 ** -52,
                     20, 20.000000000000004, -20, 1e300, -1e300, 1.7976931348623157e308, 0.75, -1.278],
                    dtype=np.float64)


def grid_and_bits(seed, lo=-40.0, hi=40.0, n=40001, nbits=40000):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2 ** 63, nbits, dtype=np.uint64)
    bits[::2] |= np.uint64(1 << 63)
    return np.concatenate([np.linspace(lo, hi, n), bits.view(np.float64), SPECIALS])


def run(target, name, *args):
    _core.set_simd_target(target)
    if name in UNARY_BOUND or name in _core.UNARY_OPS:
        p0, p1 = PARAMS.get(name, (0.0, 0.0))
        return np.asarray(_core.unary(_core.UNARY_OPS[name], T(args[0]), p0, p1)).copy()
    return np.asarray(_core.binary(_core.BINARY_OPS[name], T(args[0]), T(args[1]))).copy()


def units(got, ref, sc, tiny=DBL_MIN):
    """|got - ref| in units of the float64 spacing of sc (at least `tiny`); 0 where both are the same
    inf or both NaN, inf where only one is NaN or the infinities differ."""
    with np.errstate(all="ignore"):
        unit = np.maximum(np.spacing(np.abs(sc.astype(np.float64))).astype(np.longdouble), np.longdouble(tiny))
        err = np.abs(got.astype(np.longdouble) - ref.astype(np.longdouble)) / unit
    same = (got == ref) | (np.isnan(got) & np.isnan(ref))
    err = np.where(same, 0.0, err.astype(np.float64))
    return np.where(np.isnan(err), np.inf, err)


# ------------------------------------------------------------------------------ vec.h's double math
def _ld_sigmoid(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


ACCURACY = {
    # name: (long double reference, grid, max ulp). Measured on AVX2 and AVX-512: exp 0.83, log 1.91,
    # tanh 2.43, sigmoid 2.26 (the portable loops' libm: 0.50, 0.51, 1.94, 2.26)
    "exp": (np.exp, (-746, 710), 1.0),
    "log": (np.log, (1e-3, 4), 2.0),
    "tanh": (np.tanh, (-20, 20), 3.0),
    "sigmoid": (_ld_sigmoid, (-750, 750), 3.0),
}


@pytest.mark.parametrize("name", list(ACCURACY))
def test_float64_math_accuracy_ulps(name, target):
    ref, (lo, hi), bound = ACCURACY[name]
    x = np.concatenate([grid_and_bits(11, lo, hi, 200001, 100000), np.linspace(-1, 1, 20001),
                        np.linspace(0.9, 1.1, 20001), np.geomspace(1e-300, 1e-5, 2001)])
    if name == "log":
        x = np.concatenate([np.abs(x), -np.abs(x[:1000])])
    with np.errstate(all="ignore"):
        got = run(target, name, x)
        want = ref(x.astype(np.longdouble))
        want64 = want.astype(np.float64)  # inf where the exact result overflows float64
    err = np.where(np.isinf(want64) & (got == want64), 0.0, units(got, want, want64, 5e-324))
    worst = int(np.argmax(err))
    assert err.max() <= bound, (f"{name} ({target}): {err.max():.3f} ulp at x={x[worst]!r}: got {got[worst]!r}, "
                                f"exact {float(want[worst])!r}")


def test_float64_math_specials(target):
    with np.errstate(all="ignore"):
        x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 710.0, -746.0, 1e-300])
        e, l, th, sg = (run(target, n, x) for n in ("exp", "log", "tanh", "sigmoid"))
        np.testing.assert_array_equal(e[:5], [1, 1, np.inf, 0, np.nan])
        assert e[5] == 1 and e[6] == 1 and e[7] == np.inf and e[8] == 0 and e[9] == 1
        np.testing.assert_array_equal(l[:5], [-np.inf, -np.inf, np.inf, np.nan, np.nan])
        assert l[5] == np.log(5e-324) and np.isnan(l[6])
        np.testing.assert_array_equal(th[:5], [0, -0.0, 1, -1, np.nan])
        assert not np.signbit(th[0]) and np.signbit(th[1])
        assert th[5] == 5e-324 and th[6] == -5e-324 and th[9] == 1e-300  # tanh x = x for tiny x
        np.testing.assert_array_equal(sg[:5], [0.5, 0.5, 1, 0, np.nan])
        assert sg[8] == 0 and sg[7] == 1
        # the subnormal results of exp round once (2^-1074 is the smallest)
        assert run(target, "exp", np.array([-744.4400719213812]))[0] == 5e-324


def _gelu_grad_scale(x):
    """|Phi(x)| + |x phi(x)|: gelu' cancels to 0 near x = -0.75, so its error is measured in units of
    the terms it adds (float64, to a few bits)"""
    with np.errstate(all="ignore"):
        phi = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
        return 0.5 * np.array([math.erfc(-v / math.sqrt(2)) for v in x]) + np.abs(x * phi)


ERF_ACCURACY = {"erf": 2.0, "gelu": 5.0, "gelu_bwd": 3.0}  # measured 1.57, 4.21, 2.46 (ulps; see vec.h)


@pytest.fixture(scope="module")
def erf_reference():
    """erf, gelu and gelu' in mpmath at 40 digits (as long double) over the whole range: the Taylor and
    erfcx sides of erf's switch at 0.5, the erfcx fit's two pieces (a = 4), gelu's tail down to the
    subnormal results and the underflow to -0 (x < -38.6), tiny and subnormal inputs, random bits"""
    mp = pytest.importorskip("mpmath")
    rng = np.random.default_rng(13)
    bits = rng.integers(0, 2 ** 63, 600, dtype=np.uint64)
    bits[::2] |= np.uint64(1 << 63)
    x = np.concatenate([rng.uniform(-45, 45, 1500), rng.uniform(-7, 7, 1500), rng.uniform(-0.6, 0.6, 500),
                        np.linspace(-39.5, -36.5, 200), np.geomspace(1e-310, 1, 150), -np.geomspace(1e-310, 1, 150),
                        [0.5, -0.5, 0.5 - 2 ** -54, 4 * math.sqrt(2), 6.0, -6.0, 5.9, 40.0, -40.0],
                        bits.view(np.float64)])
    x = x[np.isfinite(x)]
    ref = {}
    with mp.workdps(40):
        for name in ERF_ACCURACY:
            vals = []
            for v in x:
                v = mp.mpf(float(v))
                if abs(v) > 60:  # mpmath's erfc overflows on huge arguments; the tails are exact here
                    cdf, pdf = mp.mpf(v > 0), mp.mpf(0)
                else:
                    cdf = mp.erfc(-v / mp.sqrt(2)) / 2
                    pdf = mp.exp(-v * v / 2) / mp.sqrt(2 * mp.pi)
                r = mp.erf(v) if name == "erf" else v * cdf if name == "gelu" else cdf + v * pdf
                sc = abs(r) if name != "gelu_bwd" else abs(cdf) + abs(v * pdf)
                vals.append((np.longdouble(mp.nstr(r, 25)), float(sc)))
            ref[name] = (np.array([a for a, _ in vals], dtype=np.longdouble), np.array([b for _, b in vals]))
    return x, ref


@pytest.mark.parametrize("name", list(ERF_ACCURACY))
def test_float64_erf_gelu_accuracy(name, target, erf_reference):
    x, ref = erf_reference
    want, sc = ref[name]
    with np.errstate(all="ignore"):
        got = run(target, name, x) if name != "gelu_bwd" else run(target, name, x, np.ones_like(x))
    err = units(got, want, sc, 5e-324)
    worst = int(np.argmax(err))
    bound = ERF_ACCURACY[name]
    if target == REFERENCE and name != "erf":
        bound = np.inf  # the portable gelu's x^2-ulp tail (PORTABLE_X2); its erf is libm's
    assert err.max() <= bound, (f"{name} ({target}): {err.max():.3f} ulp at x={x[worst]!r}: got {got[worst]!r}, "
                                f"exact {float(want[worst])!r}")


def test_float64_erf_gelu_specials(target):
    """signed zeros, infinities, NaN and the underflow to -0 give the portable loop's results"""
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 1e-300, -1e-300, 40.0, -40.0, -41.0, 1e300,
                  -1e300, 6.0, -6.0, 0.5, -0.5])
    with np.errstate(all="ignore"):
        for name in ERF_ACCURACY:
            args = (x,) if name != "gelu_bwd" else (x, np.ones_like(x))
            got, ref = run(target, name, *args), run(REFERENCE, name, *args)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg=name)
            ok = ~np.isnan(ref)
            # (the portable gelu's x^2 rounding: 4e-15 relative at x = -6; test_float64_erf_gelu_accuracy is exact)
            rtol = 4e-16 if name == "erf" else 1e-14
            np.testing.assert_allclose(got[ok], ref[ok], rtol=rtol, atol=0, err_msg=f"{name} ({target})")
            np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(ref[ok]), err_msg=f"{name} signs")
        e = run(target, "erf", x)
        assert e[5] == 5e-324 and e[2] == 1 and e[3] == -1 and np.signbit(e[1]) and e[14] == 1 and e[15] == -1
        g = run(target, "gelu", x)
        assert np.isnan(g[3]) and g[2] == np.inf and g[11] == 0 and np.signbit(g[11])
        gb = run(target, "gelu_bwd", x, np.ones_like(x))
        assert np.isnan(gb[2]) and np.isnan(gb[3]) and gb[0] == 0.5


# ------------------------------------------------------------------------------ elementwise rows
def scale(name, x, g, ref):
    """The magnitude an op's error is measured against (float64)."""
    with np.errstate(all="ignore"):
        if name == "silu_bwd":
            s = _ld_sigmoid(x.astype(np.longdouble)).astype(np.float64)
            return np.abs(g) * s * (1 + np.abs(x) * (1 - s))
        if name == "gelu_tanh_bwd":
            k, c = np.sqrt(2 / np.pi), 0.044715
            s = _ld_sigmoid((2 * k * (x + c * x ** 3)).astype(np.longdouble)).astype(np.float64)
            return np.abs(g) * (s + np.abs(2 * x * s * (1 - s) * k * (1 + 3 * c * x * x)))
        if name == "gelu_bwd":
            return np.abs(g) * _gelu_grad_scale(x)
    return np.abs(ref)


def op_cases():
    return list(UNARY_BOUND) + list(BINARY_BOUND)


def test_float64_rows_are_the_vector_ones():
    """The registry lists a float64 kernel for every op here, and the op lists here are those of
    elementwise_vec.h: an op gaining or losing its float64 row shows up as a failing bound."""
    for name in op_cases():
        fam = "unary" if name in UNARY_BOUND else "binary"
        assert _core.F64 in _core.op_info(fam, name).dtypes, name


@pytest.mark.parametrize("name", op_cases())
def test_float64_tier_against_portable_within_bound(name, target):
    x = grid_and_bits(1)
    g = np.random.default_rng(2).uniform(-8, 8, x.size)
    args = (x,) if name in UNARY_BOUND else (x, g)
    with np.errstate(all="ignore"):
        ref = run(REFERENCE, name, *args)
        got = run(target, name, *args)
    bound = UNARY_BOUND.get(name, BINARY_BOUND.get(name))
    if bound == 0:
        ok = ~np.isnan(ref)
        np.testing.assert_array_equal(got.view(np.uint64)[ok], ref.view(np.uint64)[ok], err_msg=f"{name} ({target})")
        assert np.array_equal(np.isnan(got), np.isnan(ref)), name
        return
    err = units(got, ref, scale(name, x, g, ref))
    if name in PORTABLE_X2:
        near = np.abs(x) <= 8
        err = np.where(near, np.maximum(err - 2 * np.where(near, x, 0) ** 2, 0), 0.0)
    worst = int(np.argmax(err))
    assert err.max() <= bound, (f"{name} ({target}): {err.max():.2f} units (bound {bound}) at x={x[worst]!r}, "
                                f"g={g[worst]!r}: got {got[worst]!r}, portable {ref[worst]!r}")


def test_float64_vector_tiers_bitwise_equal():
    tiers = two_vector_tiers()
    x = grid_and_bits(3)
    g = np.random.default_rng(4).standard_normal(x.size) * 3
    old = _core.simd_target()
    try:
        for name in op_cases():
            args = (x,) if name in UNARY_BOUND else (x, g)
            with np.errstate(all="ignore"):
                results = [run(t, name, *args) for t in tiers]
            for t, r in zip(tiers[1:], results[1:]):
                np.testing.assert_array_equal(r.view(np.uint64), results[0].view(np.uint64),
                                              err_msg=f"{name}: {t} vs {tiers[0]}")
    finally:
        _core.set_simd_target(old)


TAIL_OPS = ["exp", "log", "tanh", "sigmoid", "silu", "relu", "clamp", "add", "maximum", "elu_bwd", "silu_bwd", "erf",
            "gelu", "gelu_bwd"]


@pytest.mark.parametrize("name", TAIL_OPS)
def test_float64_tails_offsets_strides(name, target):
    """Every length 0..40 (every tail of a 1-, 4- or 8-lane vector, up to four full vectors and more) at
    every start offset 0..3: each element's bits do not depend on its position, nothing outside the
    output is written; strided and broadcast operands give the contiguous bits."""
    rng = np.random.default_rng(5)
    pool = rng.standard_normal(48) * 4
    pool[::5] = SPECIALS[:10]
    if name == "log":
        pool = np.abs(pool)
    gpool = rng.standard_normal(48)
    binary = name in BINARY_BOUND
    with np.errstate(all="ignore"):
        full = run(target, name, pool, gpool) if binary else run(target, name, pool)
        for n in range(41):
            for off in range(4):
                x = np.zeros(n + 8)
                x[off:off + n] = pool[:n]
                out = np.full(n + 8, 7.0)
                xv, ov = x[off:off + n], out[off:off + n]
                _core.set_simd_target(target)
                if binary:
                    _core.binary(_core.BINARY_OPS[name], T(xv), T(gpool[:n].copy()), out=T(ov))
                else:
                    p0, p1 = PARAMS.get(name, (0.0, 0.0))
                    _core.unary(_core.UNARY_OPS[name], T(xv), p0, p1, out=T(ov))
                np.testing.assert_array_equal(ov.view(np.uint64), full[:n].view(np.uint64),
                                              err_msg=f"{name} ({target}) n={n} offset={off}")
                assert (out[:off] == 7).all() and (out[off + n:] == 7).all(), f"{name} n={n}: wrote outside"
        # strided (gathered in blocks) and stride-0 operands
        big = np.repeat(pool, 20)[:701]
        gbig = np.repeat(gpool, 20)[:701]
        if binary:
            contig = run(target, name, big, gbig)
            strided = run(target, name, np.repeat(big, 3)[::3], np.repeat(gbig, 2)[::2])
            bc = run(target, name, big, np.broadcast_to(gbig[:1], big.shape))
            np.testing.assert_array_equal(bc.view(np.uint64), run(target, name, big, np.full(701, gbig[0])).view(np.uint64))
        else:
            contig = run(target, name, big)
            strided = run(target, name, np.repeat(big, 3)[::3])
        np.testing.assert_array_equal(strided.view(np.uint64), contig.view(np.uint64), err_msg=f"{name} strided")


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "log", "add", "silu_bwd", "gelu"])
def test_float64_bitwise_across_threads(name, target, threads):
    x = np.abs(grid_and_bits(6, -30, 30, 150001, 60000)) if name == "log" else grid_and_bits(6, -30, 30, 150001, 60000)
    g = np.random.default_rng(7).standard_normal(x.size)
    results = []
    with np.errstate(all="ignore"):
        for nt in (1, 2, 3, 4):
            _core.set_num_threads(nt)
            results.append(run(target, name, x) if name in UNARY_BOUND else run(target, name, x, g))
    for nt, r in zip((2, 3, 4), results[1:]):
        np.testing.assert_array_equal(r.view(np.uint64), results[0].view(np.uint64), err_msg=f"{name}: 1 vs {nt} threads")


# ------------------------------------------------------------------------------ softmax, reductions, cross-entropy
def _tensor(a, grad=False):
    t = ag.tensor(np.ascontiguousarray(a))
    return t.requires_grad_() if grad else t


def _softmax_all(target, x, dim, log):
    """forward and the backward of sum(out * w) at `target`"""
    _core.set_simd_target(target)
    xt = _tensor(x, grad=True)
    y = (F.log_softmax if log else F.softmax)(xt, dim=dim)
    w = np.random.default_rng(x.size).standard_normal(x.shape)
    (y * _tensor(w)).sum().backward()
    return y.detach().numpy().copy(), xt.grad.numpy().copy()


SM_SHAPES = [((3, 1), 1), ((4, 7), 1), ((5, 16), 1), ((3, 17), 1), ((2, 63), 1), ((3, 129), 1), ((2, 1000), 1),
             ((64, 9), 0), ((5, 300), 0), ((3, 40, 5), 1)]


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_float64_softmax_tiers(log, target):
    """against the portable loops: within a few float64 units of the output scale (1 for softmax, the
    row's |x - max| + 1 for log_softmax) forward, and of sum|g y| + |g| backward; against NumPy in
    float64 as well"""
    for shape, dim in SM_SHAPES:
        rng = np.random.default_rng(shape[0] * 31 + shape[1])
        x = rng.standard_normal(shape) * 6
        with np.errstate(all="ignore"):
            y0, g0 = _softmax_all(REFERENCE, x, dim, log)
            y1, g1 = _softmax_all(target, x, dim, log)
        m = x.max(axis=dim, keepdims=True)
        e = np.exp(x - m)
        want = (x - m) - np.log(e.sum(axis=dim, keepdims=True)) if log else e / e.sum(axis=dim, keepdims=True)
        sc = np.abs(x - m) + 1 if log else np.ones_like(x)
        n = shape[dim]
        assert units(y1, y0, sc).max() <= 4 + n / 64, f"{shape} dim={dim} ({target}) forward vs portable"
        np.testing.assert_allclose(y1, want, rtol=1e-13, atol=1e-14 * (n if log else 1))
        assert units(g1, g0, np.maximum(np.abs(g0), 1.0) * 8).max() <= 8 + n / 16, f"{shape} backward ({target})"


def test_float64_softmax_specials(target):
    x = np.array([[0.0, -np.inf, 1.0, 2.0, -np.inf], [np.nan, 1, 2, 3, 4], [np.inf, 1, 2, 3, 4], [-np.inf] * 5,
                  [-0.0, -0.0, -0.0, -0.0, -0.0], [1e308, -1e308, 0, 1e308, 5]])
    for log in (False, True):
        with np.errstate(all="ignore"):
            y0 = _softmax_all(REFERENCE, x, 1, log)[0]
            y1 = _softmax_all(target, x, 1, log)[0]
        np.testing.assert_array_equal(np.isnan(y1), np.isnan(y0))
        ok = ~np.isnan(y0)
        np.testing.assert_allclose(y1[ok], y0[ok], rtol=1e-15, atol=0)


def test_float64_softmax_and_reductions_bitwise_across_tiers_and_threads(threads):
    tiers = two_vector_tiers()
    rng = np.random.default_rng(8)
    shapes = [(7, 1), (9, 15), (6, 16), (5, 17), (4, 31), (3, 33), (5, 257), (2, 1031), (33, 6)]
    old = _core.simd_target()
    try:
        for shape in shapes:
            x = rng.standard_normal(shape) * 5
            got = []
            for t in tiers:
                for nt in (1, 2, 3, 4):
                    _core.set_num_threads(nt)
                    r = [_softmax_all(t, x, d, log) for d in (0, 1) for log in (False, True)]
                    xt = _tensor(x)
                    r += [(xt.logsumexp(dim=d).numpy().copy(), xt.amax(dim=d).numpy().copy(),
                           xt.amin(dim=d).numpy().copy(), xt.argmax(dim=d).numpy().copy()) for d in (0, 1)]
                    got.append((t, nt, [a for pair in r for a in pair]))
            for t, nt, arrs in got[1:]:
                for k, (a, b) in enumerate(zip(arrs, got[0][2])):
                    np.testing.assert_array_equal(a.view(np.uint64) if a.dtype == np.float64 else a,
                                                  b.view(np.uint64) if b.dtype == np.float64 else b,
                                                  err_msg=f"{shape} result {k}: {t} {nt} threads vs {got[0][0]} 1")
    finally:
        _core.set_simd_target(old)


def test_float64_max_min_exact(target):
    """max/min/argmax/argmin in float64: the portable loops' bits (first index, a NaN wins at its first
    position, the first zero's sign) at every length across the vector widths"""
    rng = np.random.default_rng(9)
    for n in (1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000):
        base = rng.standard_normal((6, n))
        base[1] = np.round(base[1])  # ties: the first index
        base[2] = 0.0
        base[2, ::2] = -0.0  # the first zero's sign
        base[3, n // 2] = np.nan
        base[3, -1] = np.nan
        base[4, n // 3] = np.inf
        base[5, :] = -np.inf
        out = {}
        for t in (REFERENCE, target):
            _core.set_simd_target(t)
            xt = _tensor(base)
            out[t] = [xt.amax(dim=1).numpy().copy(), xt.amin(dim=1).numpy().copy(), xt.argmax(dim=1).numpy().copy(),
                      xt.argmin(dim=1).numpy().copy(), xt.max().numpy().copy(), xt.logsumexp(dim=1).numpy().copy()]
        for k, (a, b) in enumerate(zip(out[target][:5], out[REFERENCE][:5])):
            np.testing.assert_array_equal(np.asarray(a).view(np.uint64) if a.dtype == np.float64 else a,
                                          np.asarray(b).view(np.uint64) if b.dtype == np.float64 else b,
                                          err_msg=f"n={n} result {k} ({target})")
        np.testing.assert_array_equal(out[target][0], np.max(base, axis=1))
        np.testing.assert_array_equal(out[target][2], np.argmax(base, axis=1))
        a, b = out[target][5], out[REFERENCE][5]
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a, b, rtol=4e-16 * max(1.0, math.log2(n)), atol=0)


def test_float64_logsumexp_and_cross_entropy(target):
    rng = np.random.default_rng(10)
    for n, c in ((1, 3), (7, 17), (33, 10), (16, 129), (3, 1000)):
        x = rng.standard_normal((n, c)) * 4
        tgt = rng.integers(0, c, n)
        res = {}
        for t in (REFERENCE, target):
            _core.set_simd_target(t)
            xt = _tensor(x, grad=True)
            loss = F.cross_entropy(xt, ag.tensor(tgt), label_smoothing=0.1)
            loss.backward()
            res[t] = (loss.detach().numpy().copy(), xt.grad.numpy().copy(), _tensor(x).logsumexp(dim=1).numpy().copy())
        m = x.max(axis=1, keepdims=True)
        lse = (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0]
        np.testing.assert_allclose(res[target][2], lse, rtol=1e-15 * max(4, c / 32))
        np.testing.assert_allclose(res[target][2], res[REFERENCE][2], rtol=1e-15 * max(4, c / 32))
        np.testing.assert_allclose(res[target][0], res[REFERENCE][0], rtol=1e-14)
        np.testing.assert_allclose(res[target][1], res[REFERENCE][1], rtol=0, atol=1e-16 * max(4, c / 32))


GRAD_FNS = {
    "exp": lambda x: x.exp(), "log": lambda x: (x * x + 0.5).log(), "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(), "silu": F.silu, "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "softplus": F.softplus, "elu": F.elu, "erf": lambda x: x.erf(), "gelu": F.gelu,
    "softmax_rows": lambda x: F.softmax(x, dim=1), "log_softmax_rows": lambda x: F.log_softmax(x, dim=1),
    "softmax_cols": lambda x: F.softmax(x, dim=0), "logsumexp": lambda x: x.logsumexp(dim=1),
    "amax": lambda x: x.amax(dim=1),
    "cross_entropy": lambda x: F.cross_entropy(x, ag.tensor(np.arange(x.shape[0]) % x.shape[1]), label_smoothing=0.1),
}


@pytest.mark.parametrize("name", list(GRAD_FNS))
def test_float64_gradcheck(name, target):
    """the float64 gradients through the vector kernels against central finite differences, on a
    contiguous input, its transpose and a slice"""
    rng = np.random.default_rng(len(name))
    x = ag.tensor(rng.standard_normal((7, 19)) * 2).requires_grad_()
    fn = GRAD_FNS[name]
    for view in (lambda a: a, lambda a: a.T, lambda a: a[1:6, 2:17:2]):
        assert ag.autograd.gradcheck(lambda a: fn(view(a)), (x,), eps=1e-6, atol=1e-7, rtol=1e-5), name


@pytest.mark.parametrize("name", ["relu", "add"])
def test_float64_long_rows_streaming_stores(name, target, threads):
    """float64 rows of 2^21 elements and more take the non-temporal store path (vd_stream, after an
    unaligned head when the output is 8 bytes past a 64-byte boundary): the bits of the short-row
    path, nothing written outside the output"""
    n = (1 << 21) + 13
    rng = np.random.default_rng(12)
    x, y = rng.standard_normal(n), rng.standard_normal(n)
    buf = np.zeros(n + 10)
    off = (8 - (buf.ctypes.data // 8) % 8) % 8 + 1  # one double past a 64-byte boundary
    out = buf[off:off + n]
    results = []
    for nt in (1, 2):
        _core.set_num_threads(nt)
        _core.set_simd_target(target)
        if name == "relu":
            _core.unary(_core.UNARY_OPS[name], T(x), out=T(out))
        else:
            _core.binary(_core.BINARY_OPS[name], T(x), T(y), out=T(out))
        results.append(out.copy())
    assert not buf[:off].any() and not buf[off + n:].any()
    np.testing.assert_array_equal(results[0], results[1])
    short = run(target, name, x[:1000]) if name == "relu" else run(target, name, x[:1000], y[:1000])
    np.testing.assert_array_equal(short.view(np.uint64), results[0][:1000].view(np.uint64))
    np.testing.assert_array_equal(results[0], np.maximum(x, 0) if name == "relu" else x + y)


# ------------------------------------------------------------------------------ float64 column sums
COL_OPS = {  # reduce.c's mode for float64 columns: M_ID, M_ABS, M_SQ, M_DEV2, M_EXPC
    "sum": lambda t: t.sum(dim=0), "mean": lambda t: t.mean(dim=0), "norm1": lambda t: t.norm(p=1, dim=0),
    "norm2": lambda t: t.norm(dim=0), "var": lambda t: t.var(dim=0), "logsumexp": lambda t: t.logsumexp(dim=0),
}


def _col_inputs():
    """C-contiguous matrices and column slices of them (row stride > G): every G mod 8 (vector tails),
    1 to 130 positions (reduce.h's RD_RB = 64 positions per block: 0, 1 and 2 block flushes)"""
    rng = np.random.default_rng(14)
    for g in list(range(1, 18)) + [31, 33, 100, 1030]:
        for rows in (1, 3, 64, 65, 130):
            x = rng.standard_normal((rows, g + 3)) * 3 - 0.5
            x[rows // 2, ::5] = 1e15  # makes the order of the additions visible in the bits
            yield f"{rows}x{g}", x[:, :g].copy()
            yield f"{rows}x{g} slice", x[:, 3:]


def _cols(target, fn, x):
    _core.set_simd_target(target)
    return fn(ag.tensor(x)).numpy().copy()


@pytest.mark.parametrize("op", list(COL_OPS))
def test_float64_column_sums_against_portable(op, target):
    """the float64 column kernels add in the portable loops' order with their operations: bitwise equal
    to them (logsumexp: within vd_exp's rounding, rtol 4e-16 per term), and to NumPy within rounding"""
    fn = COL_OPS[op]
    for label, x in _col_inputs():
        ref, got = _cols(REFERENCE, fn, x), _cols(target, fn, x)
        if op == "logsumexp":
            np.testing.assert_allclose(got, ref, rtol=4e-16 * 4, atol=0, err_msg=f"{op} {label} ({target})")
            m = x.max(axis=0)
            np.testing.assert_allclose(got, m + np.log(np.exp(x - m).sum(axis=0)), rtol=1e-14)
            continue
        np.testing.assert_array_equal(got.view(np.uint64), ref.view(np.uint64), err_msg=f"{op} {label} ({target})")
        want = {"sum": x.sum(0), "mean": x.mean(0), "norm1": np.abs(x).sum(0), "norm2": np.sqrt((x * x).sum(0)),
                "var": x.var(0, ddof=1) if x.shape[0] > 1 else np.full(x.shape[1], np.nan)}[op]
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13 * np.abs(x).sum(0).max(), equal_nan=True)


def test_float64_column_sums_bitwise_across_tiers_and_threads(threads):
    tiers = two_vector_tiers()
    rng = np.random.default_rng(15)
    x = rng.standard_normal((257, 1031)) * 2
    old = _core.simd_target()
    try:
        base = None
        for t in tiers:
            for nt in (1, 2, 3, 4):
                _core.set_num_threads(nt)
                r = [_cols(t, fn, x) for fn in COL_OPS.values()] + [_cols(t, COL_OPS["sum"], x[:, 5:])]
                if base is None:
                    base = r
                for k, (a, b) in enumerate(zip(r, base)):
                    np.testing.assert_array_equal(a.view(np.uint64), b.view(np.uint64),
                                                  err_msg=f"{k}: {t} {nt} threads")
    finally:
        _core.set_simd_target(old)


def test_float64_column_sums_specials(target):
    """NaN and infinities in a column give the portable loop's result (NaN, +-inf, inf - inf = NaN)"""
    x = np.ones((70, 11))
    x[3, 0], x[60, 1], x[5, 2], x[6, 2], x[2, 3], x[69, 4] = np.nan, np.inf, np.inf, -np.inf, -np.inf, 1e308
    x[68, 4] = 1e308
    for op, fn in COL_OPS.items():
        with np.errstate(all="ignore"):
            ref, got = _cols(REFERENCE, fn, x), _cols(target, fn, x)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg=op)
        ok = ~np.isnan(ref)
        np.testing.assert_allclose(got[ok], ref[ok], rtol=1e-15, err_msg=op)
