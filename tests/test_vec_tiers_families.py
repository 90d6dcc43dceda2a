"""The SIMD tiers of the reduction, nn and optimizer kernels (csrc/reduce_vec.h, csrc/nn_vec.h,
csrc/optim.c) against the portable reference, for every tier the registry lists (`TARGETS`; tiers this
CPU lacks skip with the reason).

Contracts tested (stated in the C files):
- Reductions: float64 row sums are bitwise equal to the portable loops on every tier (same order,
  unfused; logsumexp within 2 float64 units, its exp being vd_exp). max/min values and first indices are exact, so every tier is bitwise equal to the
  portable loops (NaN rules and the sign of a zero extreme included). Sums differ from the portable
  loops by float rounding only: within RED_BOUND units of the float32 spacing of the sum of the terms'
  magnitudes (for var/std/logsumexp/norm2: of the result, see red_scale). AVX2 and AVX-512 run the same
  additions in the same order (64 logical lanes), so they are bitwise equal to each other.
- Batch norm and cross-entropy: within NN_BOUND units of the result's float32 spacing (of the terms'
  magnitudes for sums that cancel), AVX2 and AVX-512 bitwise equal; float64 batch norm the same in
  float64 units.
- Optimizer updates: bitwise equal to the portable loop on every tier (no FMA anywhere).
- Every length 0..49 at start offsets 0..3 (every tail of an 8- or 16-lane vector, up to three full
  vectors and one more), plus lengths around the block sizes; column reductions (a strided reduced
  axis) with 1..49 outputs; bitwise equal across 1, 2, 3 and 4 threads within a tier.
"""
import numpy as np
import pytest

import autograd_core  # noqa: F401  (registers the Tensor class with _core)
from autograd_core import _core
from conftest import T, TARGETS, two_vector_tiers

REFERENCE = TARGETS[0]  # the registry lists the portable reference first
LENGTHS = list(range(50)) + [63, 64, 65, 127, 511, 512, 513, 1000, 4097]


def bits(a):
    a = np.ascontiguousarray(a)
    return a.view(np.uint32) if a.dtype == np.float32 else a.view(np.uint64) if a.dtype == np.float64 else a


def assert_bitwise(got, ref, msg):
    np.testing.assert_array_equal(bits(got), bits(ref), err_msg=msg)


# ---------------------------------------------------------------------------------------- reductions
RED_BOUND = {"sum": 4, "mean": 4, "sumsq": 4, "logsumexp": 4, "var": 8, "std": 8, "norm2": 1}
RED_EXACT = ["max", "min"]


def red(tier, op, x, dims, with_index=False):
    _core.set_simd_target(tier)
    r = _core.reduce(_core.REDUCE_OPS[op], T(x), dims, with_index=with_index)
    if with_index:
        return np.asarray(r[0]).copy(), np.asarray(r[1]).copy()
    return np.asarray(r).copy()


def red_scale(op, x, axis):
    """The magnitude a tier's rounding is measured against (float64)."""
    x = x.astype(np.float64)
    if x.shape[axis] == 0:
        return np.zeros(x.shape[1 - axis])
    with np.errstate(all="ignore"):
        if op in ("sum", "mean"):
            s = np.abs(x).sum(axis)
            return s / max(x.shape[axis], 1) if op == "mean" else s
        if op == "sumsq":
            return (x * x).sum(axis)
        if op == "var":
            return np.maximum(x.var(axis) * x.shape[axis] / max(x.shape[axis] - 1, 1), 0)
        if op == "std":
            return np.sqrt(x.var(axis) * x.shape[axis] / max(x.shape[axis] - 1, 1))
        return np.maximum(np.abs(np.asarray(red(REFERENCE, op, x.astype(np.float32), [axis]), np.float64)), 1.0)


def red_error_units(got, ref, sc):
    with np.errstate(all="ignore"):
        unit = np.maximum(np.spacing(np.minimum(sc, 3.4e38).astype(np.float32)).astype(np.float64), 2.0 ** -126)
        err = np.abs(got.astype(np.float64) - ref.astype(np.float64)) / unit
    same = (got == ref) | (np.isnan(got) & np.isnan(ref))
    return np.where(same, 0.0, np.where(np.isnan(err), np.inf, err))


def row_inputs(n, off, rows=3, seed=0):
    """rows x n float32 rows starting `off` elements into a buffer (misaligned for off > 0)"""
    rng = np.random.default_rng(seed + n)
    buf = np.zeros(rows * n + off + 4, np.float32)
    buf[off:off + rows * n] = (rng.standard_normal(rows * n) * 3 + 1).astype(np.float32)
    return buf[off:off + rows * n].reshape(rows, n)


@pytest.mark.parametrize("op", list(RED_BOUND) + RED_EXACT)
def test_reduce_rows_tier_against_portable(op, tier):
    for n in LENGTHS:
        if n == 0 and op in RED_EXACT:
            continue
        for off in range(4) if n < 50 else (0, 3):
            x = row_inputs(n, off)
            if op in RED_EXACT:
                ref = red(REFERENCE, op, x, [1], with_index=True)
                got = red(tier, op, x, [1], with_index=True)
                assert_bitwise(got[0], ref[0], f"{op} ({tier}) n={n} off={off}")
                np.testing.assert_array_equal(got[1], ref[1], err_msg=f"{op} ({tier}) n={n} off={off}")
                assert_bitwise(red(tier, op, x, [1]), ref[0], f"{op} values only ({tier}) n={n}")
                continue
            with np.errstate(all="ignore"):
                ref = red(REFERENCE, op, x, [1])
                got = red(tier, op, x, [1])
            err = red_error_units(got, ref, red_scale(op, x, 1))
            assert err.max() <= RED_BOUND[op], f"{op} ({tier}) n={n} off={off}: {err.max():.2f} units, {got} vs {ref}"


@pytest.mark.parametrize("op", list(RED_BOUND) + RED_EXACT)
def test_reduce_columns_tier_against_portable(op, tier):
    """axis 0 of a C-contiguous matrix: the column kernels (G outputs at once, strided positions)"""
    rng = np.random.default_rng(7)
    for g in list(range(1, 50)) + [64, 100, 1030]:
        for rows in (1, 3, 70):
            off = g % 4
            buf = np.zeros(rows * g + off + 4, np.float32)
            buf[off:off + rows * g] = (rng.standard_normal(rows * g) * 2 - 0.5).astype(np.float32)
            x = buf[off:off + rows * g].reshape(rows, g)
            if op in RED_EXACT:
                ref = red(REFERENCE, op, x, [0], with_index=True)
                got = red(tier, op, x, [0], with_index=True)
                assert_bitwise(got[0], ref[0], f"{op} ({tier}) {rows}x{g}")
                np.testing.assert_array_equal(got[1], ref[1], err_msg=f"{op} ({tier}) {rows}x{g}")
                continue
            with np.errstate(all="ignore"):
                ref = red(REFERENCE, op, x, [0])
                got = red(tier, op, x, [0])
            err = red_error_units(got, ref, red_scale(op, x, 0))
            assert err.max() <= RED_BOUND[op], f"{op} ({tier}) {rows}x{g}: {err.max():.2f} units"


def test_reduce_max_min_specials_exact(tier):
    """NaN (the first one wins, with its index), +-inf, signed zeros (the first zero's sign), ties (the
    first index), in rows (vector pass + index search) and columns"""
    rng = np.random.default_rng(3)
    for n in (1, 7, 16, 17, 33, 49, 100):
        for case in range(6):
            x = rng.integers(-3, 4, (4, n)).astype(np.float32)  # many ties
            if case == 1:
                x[:, n // 2] = np.nan
                x[:, -1] = np.nan
            elif case == 2:
                x[:] = 0.0
                x[:, n // 3:] = -0.0
            elif case == 3:
                x[:] = -0.0
                x[:, n // 2] = 0.0
            elif case == 4:
                x[:, ::3] = np.inf
                x[:, 1::3] = -np.inf
            elif case == 5:
                x[:] = -np.inf
            for op in RED_EXACT:
                for axis, xx in ((1, x), (0, np.ascontiguousarray(x.T))):
                    ref = red(REFERENCE, op, xx, [axis], with_index=True)
                    got = red(tier, op, xx, [axis], with_index=True)
                    assert_bitwise(got[0], ref[0], f"{op} ({tier}) case {case} n={n} axis={axis}")
                    np.testing.assert_array_equal(got[1], ref[1], err_msg=f"{op} ({tier}) case {case} n={n}")


@pytest.mark.parametrize("op", list(RED_BOUND) + RED_EXACT)
def test_reduce_vector_tiers_bitwise_equal(op):
    tiers = two_vector_tiers()
    old = _core.simd_target()
    try:
        for n in LENGTHS:
            for axis in (0, 1):
                x = row_inputs(n, n % 4, rows=5)
                if axis == 0:
                    x = np.ascontiguousarray(x.T)
                if x.size == 0 or (op in RED_EXACT and x.shape[axis] == 0):
                    continue
                with np.errstate(all="ignore"):
                    res = [red(t, op, x, [axis]) for t in tiers]
                assert_bitwise(res[1], res[0], f"{op}: {tiers[1]} vs {tiers[0]}, n={n} axis={axis}")
    finally:
        _core.set_simd_target(old)


@pytest.mark.parametrize("op", ["sum", "sumsq", "logsumexp", "var", "norm2", "max"])
def test_reduce_bitwise_across_threads(op, target, threads):
    """several chunks per output (rows of 70000 > the row chunk) and many column outputs"""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 70000)).astype(np.float32)
    xc = rng.standard_normal((3000, 40)).astype(np.float32)
    _core.set_simd_target(target)
    res = []
    for nt in (1, 2, 3, 4):
        _core.set_num_threads(nt)
        res.append((red(target, op, x, [1]), red(target, op, xc, [0]), red(target, op, x, None)))
    for nt, r in zip((2, 3, 4), res[1:]):
        for a, b in zip(r, res[0]):
            assert_bitwise(a, b, f"{op} ({target}) {nt} threads vs 1")


# float64 row sums (M_ID, M_SQ, M_DEV2: sum, mean, sumsq, var, std, norm2) follow the portable loops'
# order and rounding on every tier, and max/min are exact: bitwise equal to them. logsumexp adds in the
# same order with vd_exp for exp: within 2 float64 units of the result. The rest of float64 runs the
# portable loops.
RED_F64_EXACT = ["sum", "mean", "sumsq", "var", "std", "norm2", "logsumexp", "max", "min"]


def assert_f64_close(got, ref, units, what):
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    assert np.array_equal(np.isnan(got), np.isnan(ref)), what
    ok = np.isfinite(ref)
    np.testing.assert_array_equal(got[~ok & ~np.isnan(ref)], ref[~ok & ~np.isnan(ref)], err_msg=what)
    err = np.abs(got[ok] - ref[ok]) / np.spacing(np.abs(ref[ok]))
    assert err.size == 0 or err.max() <= units, f"{what}: {err.max():.2f} units"


@pytest.mark.parametrize("op", RED_F64_EXACT)
def test_reduce_float64_rows_bitwise_equal_to_portable(op, tier):
    for n in LENGTHS + [255, 256, 257, 769]:
        if n == 0 and op in RED_EXACT:
            continue
        for off in range(4) if n < 50 else (0, 3):
            x = row_inputs(n, off).astype(np.float64)
            buf = np.zeros(x.size + off + 4)
            buf[off:off + x.size] = x.ravel()
            x = buf[off:off + x.size].reshape(x.shape)
            with np.errstate(all="ignore"):
                ref = red(REFERENCE, op, x, [1])
                got = red(tier, op, x, [1])
            if op == "logsumexp":
                assert_f64_close(got, ref, 2, f"float64 {op} ({tier}) n={n} off={off}")
            else:
                assert_bitwise(got, ref, f"float64 {op} ({tier}) n={n} off={off}")


def test_reduce_float64_specials_and_threads(target, threads):
    """inf/NaN/signed zeros in float64 rows give the portable loops' bits; several chunks per output are
    bitwise equal for 1..4 threads"""
    x = np.zeros((4, 37))
    x[0, 5] = np.inf
    x[1, 7] = np.nan
    x[2, :] = -0.0
    x[3, ::2] = 1e300
    big = np.random.default_rng(2).standard_normal((3, 70000))
    res = []
    for nt in (1, 2, 3, 4):
        _core.set_num_threads(nt)
        with np.errstate(all="ignore"):
            res.append([red(target, op, a, [1]) for op in ("sum", "var", "norm2") for a in (x, big)])
    with np.errstate(all="ignore"):
        ref = [red(REFERENCE, op, a, [1]) for op in ("sum", "var", "norm2") for a in (x, big)]
    for nt, r in zip((1, 2, 3, 4), res):
        for a, b in zip(r, ref):
            assert_bitwise(a, b, f"float64 ({target}) {nt} threads vs the portable loops")


# ---------------------------------------------------------------------------------------- nn
# units of the float32 spacing of the result's magnitude scale (nn_scale); 0 = bitwise
NN_BOUND = {"bn_out": 2, "bn_mean": 1, "bn_var": 1, "bn_invstd": 1, "bn_gx": 3, "bn_gw": 1, "bn_gb": 1,
            "xent_loss": 4, "xent_lse": 4, "xent_grad": 3}


def np_(t):
    return None if t is None else np.asarray(t).copy()


def bn_run(tier, x, w, b, g):
    _core.set_simd_target(tier)
    out, mean, var, invstd = _core.batch_norm_forward(T(x), T(w), T(b), 1e-5)
    gx, gw, gb = _core.batch_norm_backward(T(x), T(g), mean, invstd, T(w))
    return dict(bn_out=np_(out), bn_mean=np_(mean), bn_var=np_(var), bn_invstd=np_(invstd), bn_gx=np_(gx),
                bn_gw=np_(gw), bn_gb=np_(gb))


def xent_run(tier, x, target, g, smoothing=0.0, lse_in=None):
    """loss, lse and the gradient; the gradient from lse_in when given (so that a comparison of the
    backward kernels does not measure the forward's difference again)"""
    _core.set_simd_target(tier)
    loss, lse, _ = _core.softmax_xent_forward(T(x), T(target), None, -100, smoothing)
    lse_b = lse if lse_in is None else T(lse_in)
    grad = _core.softmax_xent_backward(T(x), T(target), None, -100, smoothing, lse_b, T(g))
    return dict(xent_loss=np_(loss), xent_lse=np_(lse), xent_grad=np_(grad))


def nn_scale(key, res, x):
    """The magnitude a result's rounding is measured against: the result itself, at least 1 for the
    cancelling ones (mean, the gradient sums) scaled by the data."""
    r = np.abs(res[key].astype(np.float64))
    if key in ("bn_mean", "bn_gb", "bn_gw", "bn_gx", "bn_out", "xent_grad", "xent_loss", "xent_lse"):
        return np.maximum(r, 1.0)
    return r


def bn_inputs(n, c, s, off, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed + s)
    def arr(shape, scale=1.0, shift=0.0):
        k = int(np.prod(shape))
        buf = np.zeros(k + off + 4, dtype)
        buf[off:off + k] = (rng.standard_normal(k) * scale + shift).astype(dtype)
        return buf[off:off + k].reshape(shape)
    return arr((n, c, s), 2.0, 0.5), arr((c,), 0.5, 1.0), arr((c,)), arr((n, c, s))


def test_batch_norm_tier_against_portable(tier):
    """(n, c, s) with every run length s (the per-run kernels), and (n, c) with every channel count c
    (s == 1: the per-row kernels, channels in lanes)"""
    cases = [(3, 2, s) for s in list(range(2, 50)) + [64, 100, 784]] + [(5, c, 1) for c in list(range(1, 50)) + [100]]
    for n, c, s in cases:
        off = (s + c) % 4
        x, w, b, g = bn_inputs(n, c, s, off)
        if s == 1:
            x, g = x.reshape(n, c), g.reshape(n, c)
        ref = bn_run(REFERENCE, x, w, b, g)
        got = bn_run(tier, x, w, b, g)
        for key, bound in NN_BOUND.items():
            if key in got:
                err = red_error_units(got[key], ref[key], nn_scale(key, ref, x))
                assert err.max() <= bound, f"{key} ({tier}) shape {x.shape}: {err.max():.2f} units"


def f64_units(got, ref, sc):
    """|got - ref| in units of the float64 spacing of sc"""
    unit = np.maximum(np.spacing(sc), 2.0 ** -1022)
    same = (got == ref) | (np.isnan(got) & np.isnan(ref))
    return np.where(same, 0.0, np.abs(got - ref) / unit)


# float64 units of nn_scale: the double sums' order differs from the portable loops' (16 lanes and a
# tree against 4 accumulators) and nothing rounds it away; gw and gb sum up to 2352 terms that
# cancel (measured: out 5, var 3, gx 9, gw 19, gb 25)
NN_BOUND_F64 = {"bn_out": 8, "bn_mean": 2, "bn_var": 4, "bn_invstd": 4, "bn_gx": 16, "bn_gw": 40, "bn_gb": 48}


def test_batch_norm_float64_tier_against_portable(tier):
    """float64 batch norm on the vector tiers (same bodies as float32, loads without widening): within
    NN_BOUND_F64 float64 units of the portable loops"""
    cases = [(3, 2, s) for s in list(range(2, 50)) + [64, 100, 784]] + [(5, c, 1) for c in list(range(1, 50)) + [100]]
    for n, c, s in cases:
        x, w, b, g = bn_inputs(n, c, s, (s + c) % 4, dtype=np.float64)
        if s == 1:
            x, g = x.reshape(n, c), g.reshape(n, c)
        ref = bn_run(REFERENCE, x, w, b, g)
        got = bn_run(tier, x, w, b, g)
        for key, bound in NN_BOUND_F64.items():
            if key in got:
                err = f64_units(got[key], ref[key], nn_scale(key, ref, x))
                assert err.max() <= bound, f"float64 {key} ({tier}) shape {x.shape}: {err.max():.2f} units"


def xent_inputs(n, c, off, seed=0):
    rng = np.random.default_rng(seed + c)
    buf = np.zeros(n * c + off + 4, np.float32)
    buf[off:off + n * c] = (rng.standard_normal(n * c) * 3).astype(np.float32)
    x = buf[off:off + n * c].reshape(n, c)
    return x, rng.integers(0, c, n).astype(np.int64), rng.uniform(0.5, 2, n).astype(np.float32)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_tier_against_portable(tier, smoothing):
    for c in list(range(1, 50)) + [100, 513, 1000]:
        for off in range(4) if c < 50 else (1,):
            x, target, g = xent_inputs(3, c, off)
            with np.errstate(all="ignore"):
                ref = xent_run(REFERENCE, x, target, g, smoothing)
                got = xent_run(tier, x, target, g, smoothing, lse_in=ref["xent_lse"])
            for key in ("xent_loss", "xent_lse", "xent_grad"):
                err = red_error_units(got[key], ref[key], nn_scale(key, ref, x))
                assert err.max() <= NN_BOUND[key], f"{key} ({tier}) c={c} off={off}: {err.max():.2f} units"


def test_cross_entropy_specials(target):
    """inf and NaN logits give the same NaN/inf pattern on every tier as on the portable loops"""
    x = np.zeros((5, 20), np.float32)
    x[1, 3] = np.inf
    x[2, 7] = np.nan
    x[3, :] = -np.inf
    x[4, :] = 80.0  # exp(x - max) = 1: no overflow
    labels = np.array([0, 3, 7, 1, 2], np.int64)
    g = np.ones(5, np.float32)
    with np.errstate(all="ignore"):
        ref = xent_run(REFERENCE, x, labels, g)
        got = xent_run(target, x, labels, g)
    for key in ref:
        np.testing.assert_array_equal(np.isnan(got[key]), np.isnan(ref[key]), err_msg=key)
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-6, atol=1e-6, err_msg=key)


def test_nn_vector_tiers_bitwise_equal():
    tiers = two_vector_tiers()
    old = _core.simd_target()
    try:
        for dtype in (np.float32, np.float64):
            for c, s in [(3, 2), (3, 7), (3, 15), (3, 16), (3, 17), (3, 33), (3, 100), (1, 1), (7, 1), (19, 1), (64, 1)]:
                x, w, b, g = bn_inputs(4, c, s, s % 4, dtype=dtype)
                if s == 1:
                    x, g = x.reshape(4, c), g.reshape(4, c)
                res = [bn_run(t, x, w, b, g) for t in tiers]
                for key in res[0]:
                    assert_bitwise(res[1][key], res[0][key], f"{key} s={s} {dtype}: {tiers[1]} vs {tiers[0]}")
        for c in (1, 5, 8, 16, 17, 40, 600):
            for sm in (0.0, 0.1):
                x, target, g = xent_inputs(4, c, c % 4)
                res = [xent_run(t, x, target, g, sm) for t in tiers]
                for key in res[0]:
                    assert_bitwise(res[1][key], res[0][key], f"{key} c={c}: {tiers[1]} vs {tiers[0]}")
    finally:
        _core.set_simd_target(old)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nn_bitwise_across_threads(target, threads, dtype):
    x, w, b, g = bn_inputs(16, 8, 300, 0, dtype=dtype)  # above NN_PAR_MIN: threads split channels
    x1, w1, b1, g1 = bn_inputs(700, 50, 1, 0, dtype=dtype)  # s == 1: threads split rows of the output pass
    x1, g1 = x1.reshape(700, 50), g1.reshape(700, 50)
    xx, tt, gg = xent_inputs(400, 100, 0)
    res = []
    for nt in (1, 2, 3, 4):
        _core.set_num_threads(nt)
        rows = {k + "_rows": v for k, v in bn_run(target, x1, w1, b1, g1).items()}
        res.append({**bn_run(target, x, w, b, g), **rows, **xent_run(target, xx.astype(dtype), tt, gg.astype(dtype))})
    for nt, r in zip((2, 3, 4), res[1:]):
        for key in r:
            assert_bitwise(r[key], res[0][key], f"{key} ({target}) {nt} threads vs 1")


# ---------------------------------------------------------------------------------------- optim
def optim_steps(tier, kind, n, off, dtype):
    """three steps of one fused update on a parameter of n elements starting `off` into its buffer"""
    rng = np.random.default_rng(n)
    def arr(scale=1.0, positive=False):
        buf = np.zeros(n + off + 4, dtype)
        v = rng.uniform(0, scale, n) if positive else rng.standard_normal(n) * scale
        buf[off:off + n] = v.astype(dtype)
        return buf[off:off + n]
    p, m, v, mx = arr(), arr(0.1), arr(0.1, True), arr(0.1, True)
    _core.set_simd_target(tier)
    for step in (1, 2, 3):
        g = arr()
        if kind == "adam":
            _core.adam_step(T(p), T(g), T(m), T(v), T(mx), 0.01, 0.9, 0.999, 1e-8, 0.01, step, False, True, 0.001)
        else:
            _core.sgd_step(T(p), T(g), T(m), 0.1, 0.9, 0.0, 0.01, True, False, step == 1, 0.001)
    return p.copy(), m.copy()


@pytest.mark.parametrize("kind", ["adam", "sgd"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_optim_tails_bitwise_equal_to_portable(kind, dtype, tier):
    for n in range(50):
        for off in range(4):
            ref = optim_steps(REFERENCE, kind, n, off, dtype)
            got = optim_steps(tier, kind, n, off, dtype)
            for a, b in zip(got, ref):
                assert_bitwise(a, b, f"{kind} ({tier}) n={n} off={off}")
