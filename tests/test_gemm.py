"""GEMM (csrc/gemm.c, csrc/gemm_kernels_<tier>.c) against NumPy: micro-tile edges of each tier's
context, primes, K = 0 and 1, large K, every stride layout, alpha/beta, batched broadcast, every
SIMD tier the CPU has against the portable reference, and bitwise equality of 1 and 2 threads. Raw access through _core.gemm / _core.gemm_batched
(autograd_core/_gemm.pxi); the public matmul forms and their gradients through ag."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd_core as ag
from autograd_core import _core

from conftest import AVAILABLE, require_native  # noqa: E402

# The register tile (MR, NR) of each tier's GEMM context, float32 and float64.
TILES = {"portable": {np.float32: (6, 16), np.float64: (6, 8)},
         "avx2": {np.float32: (6, 16), np.float64: (6, 8)},
         "avx512": {np.float32: (8, 32), np.float64: (8, 16)}}

EPS = {np.float32: np.finfo(np.float32).eps, np.float64: np.finfo(np.float64).eps}
DTYPES = [np.float32, np.float64]


@pytest.fixture(params=_core.SIMD_TARGETS)
def simd(request):
    """Run the test on each SIMD tier the CPU has (the others skip with the reason)."""
    require_native(request.param)
    old = _core.simd_target()
    _core.set_simd_target(request.param)
    yield request.param
    _core.set_simd_target(old)


class threads:
    def __init__(self, n):
        self.n = n

    def __enter__(self):
        self.old = _core.get_num_threads()
        _core.set_num_threads(self.n)

    def __exit__(self, *exc):
        _core.set_num_threads(self.old)


def layout(x, kind):
    """A copy of x's values (same shape) viewed with the given memory layout."""
    if kind == "contiguous":
        return np.array(x, order="C")
    if kind == "transposed":  # column-major: what .T of a contiguous matrix gives
        return np.array(x, order="F")
    if kind == "sliced":  # step 2 in both dims
        big = np.zeros((2 * x.shape[0] + 1, 2 * x.shape[1] + 3), x.dtype)
        big[1::2, 3::2] = x
        return big[1::2, 3::2]
    if kind == "flipped":  # negative strides
        return np.array(x[::-1, ::-1], order="C")[::-1, ::-1]
    if kind == "flipped_t":
        return np.array(x[::-1, :], order="F")[::-1, :]
    raise ValueError(kind)


LAYOUTS = ["contiguous", "transposed", "sliced", "flipped", "flipped_t"]


def reference(a, b, alpha=1.0, beta=0.0, c=None):
    r = alpha * (a.astype(np.float64) @ b.astype(np.float64))
    if beta != 0:
        r = r + beta * c.astype(np.float64)
    return r


def tolerance(a, b, dtype, alpha=1.0, beta=0.0, c=None):
    """Elementwise bound: a few eps times K times the sum of |a_ik b_kj| (plus the beta term)."""
    k = a.shape[1]
    scale = abs(alpha) * (np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64)))
    if beta != 0:
        scale = scale + abs(beta) * np.abs(c.astype(np.float64))
    return 2 * EPS[dtype] * (k + 2) * scale + np.finfo(np.float64).tiny


def run_gemm(a, b, out, alpha=1.0, beta=0.0):
    """_core.gemm on numpy views (shared memory); returns the out array."""
    _core.gemm(ag.from_numpy(a), ag.from_numpy(b), ag.from_numpy(out), alpha, beta)
    return out


def check(a, b, dtype, alpha=1.0, beta=0.0, out_layout="contiguous", rng=None):
    m, n = a.shape[0], b.shape[1]
    if beta == 0:
        c0 = np.full((m, n), np.nan, dtype)  # must never be read
    else:
        c0 = (rng or np.random.default_rng(1)).standard_normal((m, n)).astype(dtype)
    out = layout(c0, out_layout)
    run_gemm(a, b, out, alpha, beta)
    want = reference(a, b, alpha, beta, c0)
    err = np.abs(out.astype(np.float64) - want)
    assert np.all(err <= tolerance(a, b, dtype, alpha, beta, c0)), (
        f"{a.shape} @ {b.shape} {np.dtype(dtype).name}: max error {err.max()}")


def randn(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


# ------------------------------------------------------------------------------------------ shapes
def dtype_code(dtype):
    return 0 if dtype == np.float32 else 1


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_context_per_tier(simd, dtype):
    """The active tier's GEMM context is the one its kernels are for: tile, blocks, gemm_tile."""
    info = _core.gemm_info(dtype_code(dtype))
    assert info["isa"] == simd
    assert (info["mr"], info["nr"]) == TILES[simd][dtype]
    assert info["kernel"].startswith(simd)
    assert _core.gemm_tile(dtype_code(dtype)) == TILES[simd][dtype]
    assert info["kc"] > 0 and info["mc"] % info["mr"] == 0 and info["nc"] % info["nr"] == 0
    assert info["mc"] >= info["mr"] and info["nc"] >= info["nr"]


def test_gemm_info_rejects_other_dtypes():
    with pytest.raises(TypeError, match="gemm_info: expected dtype code"):
        _core.gemm_info(5)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_edge_tiles(simd, dtype):
    """Every M and N around the context's micro-tile edges (MR-1..MR+1, NR-1..NR+1, twice that),
    on the small path (no packing) and, with K past the small path's limit, the packed one, each
    with alpha/beta and a column-major C (which goes through the scratch tile even when whole)."""
    rng = np.random.default_rng(0)
    mr, nr = TILES[simd][dtype]
    sizes = sorted({1, mr - 1, mr, mr + 1, 2 * mr + 1, nr - 1, nr, nr + 1, 2 * nr + 1})
    for m in sizes:
        for n in sizes:
            for k in (1, 3, nr + 1):
                check(randn(rng, (m, k), dtype), randn(rng, (k, n), dtype), dtype)
    for m, n in [(mr - 1, nr + 1), (2 * mr + 1, nr - 1), (mr, nr), (3 * mr + 2, 2 * nr + 3)]:
        a, b = randn(rng, (m, 600), dtype), randn(rng, (600, n), dtype)
        check(a, b, dtype)
        check(a, b, dtype, alpha=-0.75, beta=1.25, out_layout="transposed", rng=rng)
        check(a[:, :5], b[:5], dtype, alpha=2.0, beta=-0.5, out_layout="sliced", rng=rng)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_edge_tiles_same_bits_as_whole_tiles(simd, dtype):
    """An element's bits do not depend on whether its tile was whole: the columns of a product that
    fill whole tiles equal the same columns computed as an edge tile (scratch tile + corner update),
    for beta == 0 and beta != 0."""
    rng = np.random.default_rng(21)
    mr, nr = TILES[simd][dtype]
    for k in (7, 700):
        a, b = randn(rng, (2 * mr, k), dtype), randn(rng, (k, 2 * nr), dtype)
        c0 = randn(rng, (2 * mr, 2 * nr), dtype)
        whole = run_gemm(a, b, c0.copy(), 0.5, 1.5)
        # edge strips of 1 and NR/2 columns (the half-width kernel) and of NR/2 + 1 (the full one)
        for n in (nr + 1, nr + nr // 2, nr + nr // 2 + 1):
            edge = run_gemm(a[: mr + 1], b[:, :n], c0[: mr + 1, :n].copy(), 0.5, 1.5)
            assert edge.tobytes() == np.ascontiguousarray(whole[: mr + 1, :n]).tobytes(), n


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("tier", [t for t in _core.SIMD_TARGETS if t != "portable"])
def test_gemm_tiers_agree_with_portable(tier, dtype):
    """Each SIMD tier against the portable reference, within 4 (K + 2) eps |A| |B| per element (each
    side is within 2 (K + 2) eps |A| |B| of the exact product), on the small and the packed path,
    strided and transposed operands, alpha/beta."""
    require_native(tier)
    rng = np.random.default_rng(22)
    old = _core.simd_target()
    try:
        for m, k, n, la, lb in [(37, 45, 29, "contiguous", "transposed"), (130, 700, 70, "transposed", "sliced"),
                                (64, 64, 64, "contiguous", "contiguous"), (200, 300, 513, "sliced", "flipped")]:
            a, b = layout(randn(rng, (m, k), dtype), la), layout(randn(rng, (k, n), dtype), lb)
            c0 = randn(rng, (m, n), dtype)
            outs = {}
            for t in ("portable", tier):
                _core.set_simd_target(t)
                outs[t] = run_gemm(a, b, c0.copy(), 0.5, -1.0)
            bound = 2 * tolerance(a, b, dtype, 0.5, -1.0, c0)
            err = np.abs(outs[tier].astype(np.float64) - outs["portable"])
            assert np.all(err <= bound), (m, k, n, err.max())
    finally:
        _core.set_simd_target(old)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_primes_and_random_shapes(simd, dtype):
    rng = np.random.default_rng(1)
    shapes = [(1, 1, 1), (2, 3, 5), (7, 11, 13), (31, 37, 41), (97, 1, 89), (1, 101, 103),
              (127, 131, 7), (257, 263, 269), (1, 1, 1000)]
    shapes += [tuple(int(v) for v in rng.integers(1, 300, 3)) for _ in range(6)]
    for m, k, n in shapes:
        check(randn(rng, (m, k), dtype), randn(rng, (k, n), dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_blocked_sizes(simd, dtype):
    """Larger than one MC, KC and (for the threaded split) one block per thread, with odd edges."""
    rng = np.random.default_rng(2)
    for m, k, n in [(301, 517, 263), (130, 1100, 45), (20, 300, 4200)]:
        check(randn(rng, (m, k), dtype), randn(rng, (k, n), dtype), dtype, alpha=0.5, beta=-1.5)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_k_one(simd, dtype):
    rng = np.random.default_rng(3)
    for m, n in [(1, 1), (6, 16), (50, 70)]:
        check(randn(rng, (m, 1), dtype), randn(rng, (1, n), dtype), dtype, alpha=2.0, beta=0.5)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_k_zero(simd, dtype):
    a, b = np.zeros((5, 0), dtype), np.zeros((0, 7), dtype)
    c = np.full((5, 7), np.nan, dtype)
    np.testing.assert_array_equal(run_gemm(a, b, c), np.zeros((5, 7)))
    c = np.arange(35, dtype=dtype).reshape(5, 7)
    np.testing.assert_array_equal(run_gemm(a, b, c.copy(), 3.0, 0.5), 0.5 * c)
    # through matmul: an empty sum is zero
    got = ag.matmul(ag.from_numpy(a), ag.from_numpy(b)).numpy()
    np.testing.assert_array_equal(got, np.zeros((5, 7)))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_empty_m_n(simd, dtype):
    c = np.zeros((0, 4), dtype)
    run_gemm(np.zeros((0, 3), dtype), np.ones((3, 4), dtype), c)
    c = np.zeros((4, 0), dtype)
    run_gemm(np.ones((4, 3), dtype), np.zeros((3, 0), dtype), c)
    assert ag.matmul(ag.zeros(0, 3), ag.zeros(3, 4)).shape == (0, 4)


def test_gemm_large_k_float32_error(simd):
    """Summation error grows like sqrt(K): bounded by a small multiple of eps * sqrt(K) * |C|."""
    rng = np.random.default_rng(4)
    for k in (1000, 30000):
        a, b = randn(rng, (7, k), np.float32), randn(rng, (k, 9), np.float32)
        out = run_gemm(a, b, np.empty((7, 9), np.float32))
        want = reference(a, b)
        rms = np.sqrt(np.mean(want**2))
        err = np.abs(out - want).max()
        assert err <= 2 * EPS[np.float32] * np.sqrt(k) * rms, (k, err)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_matrix_vector(simd, dtype):
    """N == 1 and M == 1 (the matrix-vector path) for every operand layout, alpha and beta."""
    rng = np.random.default_rng(16)
    for m, k in [(1, 1), (5, 3), (300, 70), (7, 1000), (600, 600)]:
        for a_layout in ("contiguous", "transposed", "sliced", "flipped"):
            a = layout(randn(rng, (m, k), dtype), a_layout)
            for x_layout in ("contiguous", "sliced", "flipped"):
                x = layout(randn(rng, (k, 1), dtype), x_layout)
                check(a, x, dtype, rng=rng)  # A @ x
                check(x.T, a.T, dtype, -0.5, 2.0, rng=rng)  # x^T @ A^T: one row
        x = np.broadcast_to(randn(rng, (1, 1), dtype), (k, 1))  # stride-0 vector
        check(randn(rng, (m, k), dtype), x, dtype)


def test_gemm_matrix_vector_threads_bitwise_equal(simd):
    rng = np.random.default_rng(17)
    for dtype in DTYPES:
        for a_layout in ("contiguous", "transposed"):
            a = layout(randn(rng, (1500, 700), dtype), a_layout)
            x = randn(rng, (700, 1), dtype)
            outs = []
            for nthreads in (1, 2):
                with threads(nthreads):
                    outs.append(run_gemm(a, x, np.empty((1500, 1), dtype)))
            assert outs[0].tobytes() == outs[1].tobytes()


# ------------------------------------------------------------------------------------------ strides
@pytest.mark.parametrize("out_layout", ["contiguous", "transposed", "sliced", "flipped"])
@pytest.mark.parametrize("b_layout", LAYOUTS)
@pytest.mark.parametrize("a_layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_strided_operands(simd, dtype, a_layout, b_layout, out_layout):
    rng = np.random.default_rng(5)
    for m, k, n in [(13, 17, 19), (70, 90, 40)]:
        a = layout(randn(rng, (m, k), dtype), a_layout)
        b = layout(randn(rng, (k, n), dtype), b_layout)
        check(a, b, dtype, alpha=1.25, beta=0.75, out_layout=out_layout, rng=rng)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_broadcast_operands(simd, dtype):
    """Stride-0 rows of A and stride-0 columns of B (expanded tensors) are read in place."""
    rng = np.random.default_rng(6)
    for m, k, n in [(9, 20, 33), (100, 64, 70)]:
        a = np.broadcast_to(randn(rng, (1, k), dtype), (m, k))
        b = np.broadcast_to(randn(rng, (k, 1), dtype), (k, n))
        check(a, b, dtype)
        check(np.ascontiguousarray(a), b, dtype, beta=2.0)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_alpha_beta(simd, dtype):
    rng = np.random.default_rng(7)
    for m, k, n in [(5, 4, 3), (40, 50, 60), (200, 150, 170)]:
        a, b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
        for alpha, beta in [(1.0, 0.0), (-2.0, 0.0), (0.5, 1.0), (1.0, -3.0), (0.0, 2.0)]:
            check(a, b, dtype, alpha, beta, rng=rng)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_beta_zero_never_reads_out(simd, dtype):
    rng = np.random.default_rng(8)
    for out_layout in ("contiguous", "transposed"):
        for m, k, n in [(7, 5, 9), (150, 170, 130)]:
            out = layout(np.full((m, n), np.nan, dtype), out_layout)
            a, b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
            run_gemm(a, b, out, 1.0, 0.0)
            assert np.isfinite(out).all()


# ------------------------------------------------------------------------------------------ threads
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_threads_bitwise_equal(simd, dtype):
    """1 and 2 threads give the same bits: threads split M and N, never K."""
    rng = np.random.default_rng(9)
    cases = [(64, 64, 64), (128, 784, 256), (301, 517, 263), (7, 3000, 500), (1000, 40, 30), (469, 893, 348)]
    for m, k, n in cases:
        for a_layout, b_layout in [("contiguous", "contiguous"), ("transposed", "sliced")]:
            a = layout(randn(rng, (m, k), dtype), a_layout)
            b = layout(randn(rng, (k, n), dtype), b_layout)
            outs = []
            for nthreads in (1, 2):
                with threads(nthreads):
                    outs.append(run_gemm(a, b, np.empty((m, n), dtype)))
            assert outs[0].tobytes() == outs[1].tobytes(), (m, k, n, a_layout, b_layout)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_two_threads_blocked_strided_out(simd, dtype):
    """2 threads over several K blocks, splitting M or N, into strided outputs (the threads write
    interleaved elements and reuse their packing buffers across K steps)."""
    rng = np.random.default_rng(15)
    with threads(2):
        for m, k, n in [(469, 893, 348), (40, 1300, 700), (700, 600, 30)]:
            a, b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
            for out_layout in ("sliced", "transposed"):
                check(a, b, dtype, 1.0, 0.5, out_layout, rng)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_batched_threads_bitwise_equal(simd, dtype):
    rng = np.random.default_rng(10)
    for shape_a, shape_b in [((64, 20, 30), (64, 30, 10)), ((3, 200, 150), (3, 150, 170))]:
        a, b = randn(rng, shape_a, dtype), randn(rng, shape_b, dtype)
        outs = []
        for nthreads in (1, 2):
            with threads(nthreads):
                outs.append(ag.bmm(ag.from_numpy(a), ag.from_numpy(b)).numpy())
        assert outs[0].tobytes() == outs[1].tobytes()
        np.testing.assert_allclose(outs[0], np.matmul(a, b), rtol=1e-4 if dtype == np.float32 else 1e-12,
                                   atol=1e-4 if dtype == np.float32 else 1e-12)


# ------------------------------------------------------------------------------------------ batched
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_batched_raw(simd, dtype):
    rng = np.random.default_rng(11)
    for batch, m, k, n in [(1, 5, 6, 7), (5, 17, 9, 33), (40, 8, 8, 8), (3, 130, 70, 90)]:
        a = randn(rng, (batch, m, k), dtype)
        b = np.broadcast_to(randn(rng, (1, k, n), dtype), (batch, k, n))  # batch stride 0
        c0 = randn(rng, (batch, m, n), dtype)
        out = c0.copy()
        _core.gemm_batched(ag.from_numpy(a), ag.from_numpy(b), ag.from_numpy(out), 0.5, 2.0)
        want = 0.5 * np.matmul(a.astype(np.float64), b.astype(np.float64)) + 2.0 * c0
        tol = 1e-4 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(out, want, rtol=tol, atol=tol)
        # transposed operands within each batch element
        at = np.ascontiguousarray(a.transpose(0, 2, 1)).transpose(0, 2, 1)
        out = np.full((batch, m, n), np.nan, dtype)
        _core.gemm_batched(ag.from_numpy(at), ag.from_numpy(b), ag.from_numpy(out))
        np.testing.assert_allclose(out, np.matmul(a, b), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_matmul_batched_broadcast(simd, dtype):
    rng = np.random.default_rng(12)
    pairs = [((2, 1, 5, 7), (3, 7, 4)), ((4, 3, 6), (6,)), ((6,), (2, 6, 5)), ((1, 9, 8), (5, 8, 1)),
             ((3, 40, 30), (30, 20)), ((2, 3, 4, 5), (2, 3, 5, 6)), ((7,), (7,))]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for sa, sb in pairs:
        a, b = randn(rng, sa, dtype), randn(rng, sb, dtype)
        got = ag.matmul(ag.from_numpy(a), ag.from_numpy(b)).numpy()
        want = np.matmul(a.astype(np.float64), b.astype(np.float64))
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.sqrt(sa[-1]))
        # transposed batch views (as backward passes make them)
        if len(sa) >= 2 and len(sb) >= 2:
            at = np.ascontiguousarray(np.swapaxes(a, -1, -2))
            got = ag.matmul(ag.from_numpy(at).mT, ag.from_numpy(b)).numpy()
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.sqrt(sa[-1]))


# ------------------------------------------------------------------------------------------ hypothesis
@st.composite
def gemm_problem(draw):
    m, k, n = (draw(st.integers(1, 40)) for _ in range(3))
    dtype = draw(st.sampled_from(DTYPES))
    a_layout, b_layout = draw(st.sampled_from(LAYOUTS)), draw(st.sampled_from(LAYOUTS))
    out_layout = draw(st.sampled_from(["contiguous", "transposed", "sliced", "flipped"]))
    alpha = draw(st.sampled_from([1.0, -0.5, 3.0]))
    beta = draw(st.sampled_from([0.0, 1.0, -2.0]))
    return m, k, n, dtype, a_layout, b_layout, out_layout, alpha, beta


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(problem=gemm_problem(), seed=st.integers(0, 2**31 - 1))
def test_gemm_hypothesis_shapes_and_strides(simd, problem, seed):
    m, k, n, dtype, a_layout, b_layout, out_layout, alpha, beta = problem
    rng = np.random.default_rng(seed)
    a = layout(randn(rng, (m, k), dtype), a_layout)
    b = layout(randn(rng, (k, n), dtype), b_layout)
    check(a, b, dtype, alpha, beta, out_layout, rng)


# ------------------------------------------------------------------------------------------ dtypes, errors
def test_gemm_unsupported_dtype_raises():
    a = ag.from_numpy(np.ones((2, 2), np.int64))
    with pytest.raises(TypeError, match="gemm"):
        _core.gemm(a, a, ag.from_numpy(np.zeros((2, 2), np.int64)))


@pytest.mark.parametrize("shapes", [((2, 3), (4, 5), (2, 5)), ((2, 3), (3, 5), (2, 4)), ((2, 3, 1), (3, 5), (2, 5))])
def test_gemm_bad_shapes_raise(shapes):
    a, b, c = (ag.from_numpy(np.zeros(s, np.float32)) for s in shapes)
    with pytest.raises(ValueError, match="gemm"):
        _core.gemm(a, b, c)


def test_gemm_dtype_mismatch_raises():
    a = ag.from_numpy(np.zeros((2, 3), np.float32))
    b = ag.from_numpy(np.zeros((3, 2), np.float64))
    with pytest.raises(TypeError, match="gemm"):
        _core.gemm(a, b, ag.from_numpy(np.zeros((2, 2), np.float32)))


def test_gemm_overlapping_out_raises():
    buf = np.zeros((4, 4), np.float32)
    t = ag.from_numpy(buf)
    with pytest.raises(ValueError, match="overlap"):
        _core.gemm(t, t, t)
    a = ag.from_numpy(np.ones((4, 4), np.float32))
    self_overlapping = np.lib.stride_tricks.as_strided(np.zeros(8, np.float32), (4, 4), (4, 4))
    with pytest.raises(ValueError, match="overlapping"):
        _core.gemm(a, a, ag.from_numpy(self_overlapping))


def test_matmul_errors_name_the_op():
    with pytest.raises(RuntimeError, match="matmul"):
        ag.matmul(ag.zeros(2, 3), ag.zeros(4, 5))
    with pytest.raises(TypeError, match="matmul"):
        ag.matmul(ag.from_numpy(np.ones((2, 2), np.int64)), ag.from_numpy(np.ones((2, 2), np.int64)))


# ------------------------------------------------------------------------------------------ public forms, gradients
def test_mm_bmm_linear_forward(simd):
    rng = np.random.default_rng(13)
    x, w, bias = randn(rng, (16, 20), np.float64), randn(rng, (12, 20), np.float64), randn(rng, (12,), np.float64)
    np.testing.assert_allclose(ag.mm(ag.from_numpy(x), ag.from_numpy(w.T)).numpy(), x @ w.T, rtol=1e-12)
    got = ag.nn.functional.linear(ag.from_numpy(x), ag.from_numpy(w), ag.from_numpy(bias)).numpy()
    np.testing.assert_allclose(got, x @ w.T + bias, rtol=1e-12, atol=1e-12)
    a, b = randn(rng, (3, 5, 6), np.float64), randn(rng, (3, 6, 2), np.float64)
    np.testing.assert_allclose(ag.bmm(ag.from_numpy(a), ag.from_numpy(b)).numpy(), a @ b, rtol=1e-12)


GRAD_FORMS = [
    ("mm", lambda a, b: ag.mm(a, b), (4, 5), (5, 3)),
    ("mm_transposed", lambda a, b: ag.mm(a.mT, b.mT), (5, 4), (3, 5)),
    ("bmm", lambda a, b: ag.bmm(a, b), (2, 4, 5), (2, 5, 3)),
    ("matmul_broadcast", lambda a, b: ag.matmul(a, b), (2, 1, 4, 5), (3, 5, 2)),
    ("matmul_batch_by_matrix", lambda a, b: ag.matmul(a, b), (3, 4, 5), (5, 2)),
    ("matmul_vec_mat", lambda a, b: ag.matmul(a, b), (5,), (2, 5, 3)),
    ("matmul_mat_vec", lambda a, b: ag.matmul(a, b), (4, 5), (5,)),
    ("matmul_dot", lambda a, b: ag.matmul(a, b), (5,), (5,)),
    ("linear", lambda x, w: ag.nn.functional.linear(x, w), (6, 5), (3, 5)),
]


@pytest.mark.parametrize("name,fn,sa,sb", GRAD_FORMS, ids=[f[0] for f in GRAD_FORMS])
def test_matmul_gradcheck(name, fn, sa, sb):
    rng = np.random.default_rng(14)
    a = ag.from_numpy(rng.standard_normal(sa)).requires_grad_()
    b = ag.from_numpy(rng.standard_normal(sb)).requires_grad_()
    assert ag.autograd.gradcheck(fn, [a, b])


# ------------------------------------------------------------------------------------------ contexts
ALTERNATIVE_KERNELS = {"avx512": {np.float32: ["avx512 12x32", "avx512 14x32", "avx512 6x64", "avx512 6x32"],
                                  np.float64: ["avx512 12x16", "avx512 14x16", "avx512 6x32"]}}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_tiny_blocks_and_alternative_kernels(simd, dtype):
    """The frame with block sizes far below the defaults (every product crosses many MC, KC and NC
    blocks and the split-M shared B buffers alternate), for the tier's own kernel and the other tiles
    kept for measurement: right against NumPy and bitwise equal at 1 and 2 threads."""
    code = dtype_code(dtype)
    rng = np.random.default_rng(23)
    try:
        for kernel in [""] + ALTERNATIVE_KERNELS.get(simd, {}).get(dtype, []):
            _core.gemm_set_context(code, kernel, mc=1, kc=7, nc=1)
            info = _core.gemm_info(code)
            assert (info["mc"], info["kc"], info["nc"]) == (info["mr"], 7, info["nr"])
            if kernel:
                assert info["kernel"] == kernel
            for m, k, n, la in [(53, 600, 71, "contiguous"), (130, 529, 40, "transposed"), (9, 700, 300, "sliced"),
                                (37, 45, 29, "contiguous")]:
                a, b = layout(randn(rng, (m, k), dtype), la), randn(rng, (k, n), dtype)
                check(a, b, dtype, alpha=1.5, beta=-0.5, out_layout="transposed", rng=rng)
                outs = []
                for nthreads in (1, 2):
                    with threads(nthreads):
                        outs.append(run_gemm(a, b, np.empty((m, n), dtype)))
                assert outs[0].tobytes() == outs[1].tobytes(), (kernel, m, k, n)
    finally:
        _core.gemm_set_context(code)
    assert _core.gemm_info(code)["kernel"].startswith(simd)


def test_gemm_set_context_rejects_bad_arguments(simd):
    with pytest.raises(ValueError, match="gemm_set_context: no 'nonesuch' kernel"):
        _core.gemm_set_context(0, "nonesuch")
    with pytest.raises(ValueError, match="gemm_set_context: block sizes must be >= 0"):
        _core.gemm_set_context(1, "", kc=-1)
    with pytest.raises(TypeError, match="gemm_set_context: expected dtype code"):
        _core.gemm_set_context(3)


# ------------------------------------------------------------------------------------------ small products
# The small path (csrc/gemm.c small_worker: A and B read in place, no packing) takes products with
# contiguous rows of B and C up to 160^3; everything else of the same shape packs. Both run the
# same micro-kernel body over the same K blocks, so they must agree to the last bit.
ODD = list(range(1, 71, 2))


def context(dtype):
    """(MR, NR, KC) of the active tier's GEMM context, from the registry"""
    info = _core.gemm_info(dtype_code(dtype))
    return info["mr"], info["nr"], info["kc"]


def packed_copy(b):
    """b's values with column stride != 1 (column-major), which sends a product to the packed path"""
    return np.asfortranarray(b)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_small_path_odd_sizes(simd, dtype):
    """Every odd M and N from 1 to 69 (crossing each multiple of MR and NR the tiers use), K
    cycling through the odd sizes too, against the float64 product."""
    rng = np.random.default_rng(30)
    a_all, b_all = randn(rng, (70, 70), dtype), randn(rng, (70, 70), dtype)
    for i, m in enumerate(ODD):
        for j, n in enumerate(ODD):
            k = ODD[(7 * i + 3 * j) % len(ODD)]
            check(a_all[:m, :k], b_all[:k, :n], dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_small_path_same_bits_as_packed(simd, dtype):
    """The small path gives the packed path's bits: whole and edge tiles (strips narrower and wider
    than NR/2), K within one K block and across two (KC < K <= 512), alpha and beta, A contiguous,
    transposed, sliced and broadcast."""
    rng = np.random.default_rng(31)
    mr, nr, kc = context(dtype)
    for m, n, k in [(64, 64, 64), (mr + 1, nr - 1, 37), (3 * mr, 2 * nr, kc + 5), (2 * mr - 1, nr + 3, 2 * kc - 3),
                    (37, 45, 29), (2 * mr + 3, nr // 2, 50), (mr, nr + nr // 2 + 1, 19)]:
        k = min(k, 500)
        b = randn(rng, (k, n), dtype)
        c0 = randn(rng, (m, n), dtype)
        for a_layout in ("contiguous", "transposed", "sliced", "broadcast"):
            if a_layout == "broadcast":
                a = np.broadcast_to(randn(rng, (1, k), dtype), (m, k))
            else:
                a = layout(randn(rng, (m, k), dtype), a_layout)
            for alpha, beta in [(1.0, 0.0), (-0.5, 1.5)]:
                small = run_gemm(a, b, c0.copy(), alpha, beta)
                packed = run_gemm(a, packed_copy(b), c0.copy(), alpha, beta)
                assert small.tobytes() == packed.tobytes(), (m, n, k, a_layout, alpha, beta)
            check(a, b, dtype, -0.5, 1.5, rng=rng)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_tiny_m_huge_n_and_reverse(simd, dtype):
    """Tiny M with huge N and the reverse (one tile one way, thousands the other), contiguous and
    transposed B, equal at 1 and 2 threads."""
    rng = np.random.default_rng(32)
    for m, k, n in [(2, 33, 5000), (3, 7, 9001), (9, 64, 4099), (5000, 33, 2), (9001, 7, 3), (4099, 64, 9)]:
        a = randn(rng, (m, k), dtype)
        for b in (randn(rng, (k, n), dtype), packed_copy(randn(rng, (k, n), dtype))):
            check(a, b, dtype)
            outs = []
            for nthreads in (1, 2):
                with threads(nthreads):
                    outs.append(run_gemm(a, b, np.empty((m, n), dtype)))
            assert outs[0].tobytes() == outs[1].tobytes(), (m, k, n)


def _small_products(dtype):
    """(name, operands, form) for the small matmul forms: square, MLP layers (x @ W^T, g @ W,
    x^T @ g), sliced operands, a batch broadcast against one matrix, and batches either side of the
    whole-products-per-thread choice. Operands are numpy arrays; form(*tensors) is the product."""
    rng = np.random.default_rng(33)
    r = lambda *shape: randn(rng, shape, dtype)  # noqa: E731
    big = r(140, 150)
    return [
        ("64^3", (r(64, 64), r(64, 64)), lambda a, b: a @ b),
        ("57x63x41", (r(57, 63), r(63, 41)), lambda a, b: a @ b),
        ("x@W^T", (r(128, 64), r(96, 64)), lambda x, w: x @ w.mT),
        ("g@W", (r(128, 96), r(96, 64)), lambda g, w: g @ w),
        ("x^T@g", (r(128, 64), r(128, 96)), lambda x, g: x.mT @ g),
        ("sliced", (big,), lambda t: t[1::2, 3:131:2] @ t[5:69, 7:140:2]),
        ("batch@matrix", (r(6, 32, 24), r(24, 40)), lambda a, b: a @ b),
        ("bmm 3x64^3 transposed", (r(3, 64, 64), r(3, 64, 64)), lambda a, b: a @ b.mT),
        ("bmm 8x64^3 broadcast", (r(8, 64, 64), r(1, 64, 64)), lambda a, b: a @ b),
        ("bmm 64x8^3", (r(64, 8, 8), r(64, 8, 8)), lambda a, b: a @ b),
    ]


SMALL_FORM_IDS = [f[0] for f in _small_products(np.float32)]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_small_products_against_numpy(simd, dtype):
    tol = 1e-5 if dtype == np.float32 else 1e-13
    for name, arrays, form in _small_products(dtype):
        got = form(*map(ag.from_numpy, arrays)).numpy()
        want = form(*(x.astype(np.float64) for x in arrays))
        scale = form(*(np.abs(x.astype(np.float64)) for x in arrays))
        assert got.dtype == dtype and got.shape == want.shape, name
        assert np.all(np.abs(got - want) <= tol * scale + 1e-30), name


@pytest.mark.parametrize("form", range(len(SMALL_FORM_IDS)), ids=SMALL_FORM_IDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gemm_small_products_bitwise_across_threads(simd, dtype, form):
    """1 to 4 threads, also with one thread held back or random sleeps at every scheduling point
    (AGC_PERTURB), give the 1-thread bits for each small matmul form."""
    from test_threads import assert_bitwise_across_threads

    _, arrays, fn = _small_products(dtype)[form]
    tensors = [ag.from_numpy(x) for x in arrays]
    assert_bitwise_across_threads(lambda: fn(*tensors), simd, schedules=(("victim", 0), ("random", 1)), delay_us=50)
