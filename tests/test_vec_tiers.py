"""The SIMD tiers of the elementwise kernels (csrc/vec.h, csrc/elementwise_vec.h) against the portable
reference, for every tier the registry lists (`TARGETS`; tiers this CPU lacks skip with the reason).

- Each tier's float32 results are within a stated bound of the portable loops' (libm) results, op by
  op, on a dense grid, random bit patterns (every exponent, subnormals) and special values (NaN, +-inf,
  +-0, the overflow and underflow edges). The bound is in units of the float32 spacing of a scale:
  the result itself, or for the backward helpers the size of the terms they add (their results
  cancel to ~0 at the activations' turning points, where no float32 evaluation keeps relative
  accuracy). Below FLT_MIN * 2^23 the unit is FLT_MIN: an intermediate in the subnormal range
  (sigmoid(-91) inside silu) has absolute, not relative, accuracy in every tier.
- Ops that are exact in the portable loop are bitwise equal to it (bound 0), signed zeros included.
- The vector tiers run one kernel body over one vector layer with the same operation order, so they
  are bitwise equal to each other.
- Tails: every length 0..49 (every tail of a 1-, 8- or 16-lane vector, up to three full vectors and
  one more) at every start offset 0..3: each element's bits do not depend on its position, and
  nothing outside the output is written.
"""
import numpy as np
import pytest

import autograd_core  # noqa: F401  (registers the Tensor class with _core)
from autograd_core import _core
from conftest import T, TARGETS, require_target, two_vector_tiers

F32_MIN = np.float32(2.0 ** -126)
REFERENCE = TARGETS[0]  # the registry lists the portable reference first


# name: max error in units (see the module docstring); 0 = bitwise equal to the portable loop
UNARY_BOUND = {
    "neg": 0, "abs": 0, "square": 0, "sqrt": 0, "rsqrt": 0, "relu": 0, "floor": 0, "ceil": 0, "round": 0,
    "reciprocal": 0, "clamp": 0, "leaky_relu": 0, "affine": 0,
    "exp": 2, "log": 3, "tanh": 3, "sigmoid": 3, "silu": 4, "erf": 4, "gelu_tanh": 4,
    # vec.h's piecewise Phi and exp(-x^2 / 2) S(x) against the portable loop's (gelu in double, within
    # 0.5 ulp of exact): measured 4
    "gelu": 4,
}
BINARY_BOUND = {
    "add": 0, "sub": 0, "mul": 0, "div": 0, "maximum": 0, "minimum": 0, "sigmoid_bwd": 0, "tanh_bwd": 0,
    "relu_bwd": 0, "gelu_bwd": 4, "softplus_bwd": 4, "elu_bwd": 4,
    # the portable formula's 1 - s from a rounded s = sigmoid(.) (every tier) turns a 1-ulp difference
    # in s into up to |x| ulp of the result for |x| of a few units (measured 9 and 7)
    "silu_bwd": 14, "gelu_tanh_bwd": 12,
}
PARAMS = {"clamp": (-1.5, 2.0), "leaky_relu": (0.125, 0.0), "affine": (2.0, 3.0)}

SPECIALS = np.array([0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e-45, -1e-45, 1e-40, -1e-40, 1.1754944e-38,
                     -1.1754944e-38, 88.72283, 88.7228394, 88.72284, 89, 89.5, -87.33654, -103.97208, -103.9721,
                     -104, -110, 0.5, -0.5, 0.49999997, -0.49999997, 0.625, -0.625, 1, -1, 9, 10.5, -10.5, 11,
                     -11, 20, 20.000002, -20, 3.4e38, -3.4e38, 0.75, -0.7518, -1.278], dtype=np.float32)


def inputs(seed):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2 ** 32, 60000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return np.concatenate([np.linspace(-16, 16, 60001, dtype=np.float32), bits, SPECIALS])


def run(target, name, *args):
    _core.set_simd_target(target)
    if name in UNARY_BOUND:
        p0, p1 = PARAMS.get(name, (0.0, 0.0))
        return np.asarray(_core.unary(_core.UNARY_OPS[name], T(args[0]), p0, p1)).copy()
    return np.asarray(_core.binary(_core.BINARY_OPS[name], T(args[0]), T(args[1]))).copy()


def sigmoid64(x):
    return np.exp(-np.logaddexp(0, -x))


def scale(name, x, g, ref):
    """The magnitude the error is measured against (float64)."""
    with np.errstate(all="ignore"):
        x = x.astype(np.float64)
        if name == "silu_bwd":
            s = sigmoid64(x)
            return np.abs(g) * s * (1 + np.abs(x) * (1 - s))
        if name == "gelu_bwd":
            from math import erfc
            cdf = 0.5 * np.vectorize(erfc, otypes=[np.float64])(-x / np.sqrt(2))
            return np.abs(g) * (cdf + np.abs(x) * np.exp(-x * x / 2) / np.sqrt(2 * np.pi))
        if name == "gelu_tanh_bwd":
            k, c = np.sqrt(2 / np.pi), 0.044715
            s = sigmoid64(2 * k * (x + c * x ** 3))
            return np.abs(g) * (s + np.abs(2 * x * s * (1 - s) * k * (1 + 3 * c * x * x)))
    return np.abs(ref.astype(np.float64))


def error_units(got, ref, sc):
    """|got - ref| in units of the float32 spacing of sc (at least FLT_MIN); 0 where both are the same
    inf or both NaN, inf where only one is NaN or the infinities differ."""
    with np.errstate(all="ignore"):
        unit = np.spacing(np.minimum(sc, 3.4e38).astype(np.float32)).astype(np.float64)
        unit = np.maximum(unit, float(F32_MIN))
        err = np.abs(got.astype(np.float64) - ref.astype(np.float64)) / unit
    same = (got == ref) | (np.isnan(got) & np.isnan(ref))
    err = np.where(same, 0.0, err)
    return np.where(np.isnan(err), np.inf, err)


@pytest.mark.parametrize("name", list(UNARY_BOUND) + list(BINARY_BOUND))
def test_tier_against_portable_within_bound(name, tier):
    target = tier
    x = inputs(1)
    # gradients of a moderate size: a huge g times a subnormal intermediate would measure only the
    # subnormal's absolute accuracy, scaled up
    g = np.random.default_rng(2).uniform(-8, 8, x.size).astype(np.float32)
    args = (x,) if name in UNARY_BOUND else (x, g)
    with np.errstate(all="ignore"):
        ref = run(REFERENCE, name, *args)
        got = run(target, name, *args)
    bound = UNARY_BOUND.get(name, BINARY_BOUND.get(name))
    if bound == 0:
        # exact ops: the same bits, NaN positions and signed zeros included
        np.testing.assert_array_equal(got.view(np.uint32)[~np.isnan(ref)], ref.view(np.uint32)[~np.isnan(ref)],
                                      err_msg=f"{name} ({target})")
        assert np.array_equal(np.isnan(got), np.isnan(ref)), name
        return
    err = error_units(got, ref, scale(name, x, g, ref))
    worst = int(np.argmax(err))
    assert err.max() <= bound, (f"{name} ({target}): {err.max():.2f} units (bound {bound}) at x={x[worst]!r}, "
                                f"g={g[worst]!r}: got {got[worst]!r}, portable {ref[worst]!r}")


@pytest.mark.parametrize("name", list(UNARY_BOUND) + list(BINARY_BOUND))
def test_vector_tiers_bitwise_equal(name):
    tiers = two_vector_tiers()
    x = inputs(3)
    g = np.random.default_rng(4).standard_normal(x.size).astype(np.float32)
    args = (x,) if name in UNARY_BOUND else (x, g)
    old = _core.simd_target()
    try:
        with np.errstate(all="ignore"):
            results = [run(t, name, *args) for t in tiers]
    finally:
        _core.set_simd_target(old)
    for t, r in zip(tiers[1:], results[1:]):
        np.testing.assert_array_equal(r.view(np.uint32), results[0].view(np.uint32), err_msg=f"{name}: {t} vs {tiers[0]}")


TAIL_OPS = ["exp", "tanh", "gelu", "relu", "clamp", "add", "maximum", "gelu_bwd", "elu_bwd"]


@pytest.mark.parametrize("name", TAIL_OPS)
def test_tails_and_offsets(name, target):
    rng = np.random.default_rng(5)
    pool = (rng.standard_normal(64) * 3).astype(np.float32)
    pool[::7] = SPECIALS[:10]
    gpool = rng.standard_normal(64).astype(np.float32)
    with np.errstate(all="ignore"):
        full = run(target, name, pool, gpool) if name in BINARY_BOUND else run(target, name, pool)
        for n in range(50):
            for off in range(4):
                x = np.zeros(n + 8, dtype=np.float32)
                x[off:off + n] = pool[:n]
                gb = np.zeros(n + 8, dtype=np.float32)
                gb[off:off + n] = gpool[:n]
                out = np.full(n + 8, 7.0, dtype=np.float32)
                xv, ov = x[off:off + n], out[off:off + n]
                _core.set_simd_target(target)
                if name in BINARY_BOUND:
                    _core.binary(_core.BINARY_OPS[name], T(xv), T(gb[off:off + n]), out=T(ov))
                    # a stride-0 operand: the broadcast fast path, element by element the same
                    bc = np.asarray(_core.binary(_core.BINARY_OPS[name], T(xv), T(gpool[:1].reshape(())))).copy()
                    ref_bc = np.asarray(_core.binary(_core.BINARY_OPS[name], T(xv),
                                                     T(np.full(n, gpool[0], np.float32)))).copy()
                    np.testing.assert_array_equal(bc.view(np.uint32), ref_bc.view(np.uint32), err_msg=f"{name} n={n}")
                else:
                    p0, p1 = PARAMS.get(name, (0.0, 0.0))
                    _core.unary(_core.UNARY_OPS[name], T(xv), p0, p1, out=T(ov))
                np.testing.assert_array_equal(ov.view(np.uint32), full[:n].view(np.uint32),
                                              err_msg=f"{name} ({target}) n={n} offset={off}")
                assert (out[:off] == 7).all() and (out[off + n:] == 7).all(), f"{name} n={n}: wrote outside"


def test_gelu_erf_specials(target):
    require_target(target)
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 30, -30, 1e-40, -1e-40], dtype=np.float32)
    with np.errstate(all="ignore"):
        erf = run(target, "erf", x)
        gelu = run(target, "gelu", x)
    np.testing.assert_array_equal(erf[:7], np.array([np.nan, 1, -1, 0, -0.0, 1, -1], np.float32))
    np.testing.assert_allclose(erf[7:], [1.1283792e-40, -1.1283792e-40], rtol=1e-4)  # subnormal: 2/sqrt(pi) x
    assert np.signbit(erf[4]) and not np.signbit(erf[3])
    np.testing.assert_array_equal(gelu[:3], [np.nan, np.inf, np.nan])  # -inf * erfc(inf) = -inf * 0
    assert gelu[3] == 0 and gelu[5] == 30 and gelu[6] == 0 and np.signbit(gelu[6])
