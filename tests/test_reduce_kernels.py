"""Kernel tests for csrc/reduce.c through `_core` directly: agc_reduce (every op of AGC_REDUCE_OPS),
agc_softmax, agc_softmax_backward and agc_cumulative.

Every op and dtype is checked against a float64 NumPy reference over every subset of dims of 3-d
and 4-d inputs, on contiguous, transposed, sliced (step 2), negative-stride and broadcast (stride 0)
layouts, under both SIMD targets ("avx2" and "portable", switched in-process). Also: empty and size-1
dims, float32 sums of 1e7 elements (row and column paths), NaN/inf rules, overflow-safe norms,
first-occurrence indices of max/min, bitwise identity between 1 and 2 threads, and hypothesis tests
with random shapes, strides and dims.
"""
import itertools
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core  # noqa: F401  (registers the Tensor class with _core)
from autograd_core import _core

R = _core.REDUCE_OPS
FLOAT_OPS = ["mean", "var", "std", "logsumexp", "norm2", "normp", "sumsq"]
NUMERIC_OPS = ["sum", "prod", "max", "min"]
NORM_PS = [2.5, np.inf, -np.inf, 0.0, 1.0, 2.0, 0.5]


from conftest import AVAILABLE, TARGETS, T  # noqa: E402  (fixtures `target`, `threads` come from conftest)



def reduce(op, a, dims, p0=0.0, with_index=False):
    r = _core.reduce(R[op], T(a), dims, False, p0, with_index)
    if with_index:
        return np.asarray(r[0]), np.asarray(r[1])
    return np.asarray(r)


# ------------------------------------------------------------------------------------------ references
def ref(op, a, dims, p0=0.0):
    """float64 (or exact integer / bool) NumPy reference; dims is a tuple (maybe empty)."""
    x = a.astype(np.float64) if a.dtype.kind == "f" else a
    nred = int(np.prod([a.shape[d] for d in dims])) if dims else 1
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if op == "sum":
            return x.sum(axis=dims)
        if op == "prod":
            return x.prod(axis=dims)
        if op == "max":
            return x.max(axis=dims)
        if op == "min":
            return x.min(axis=dims)
        if op == "all":
            return x.all(axis=dims)
        if op == "any":
            return x.any(axis=dims)
        if op == "mean":
            return x.mean(axis=dims)
        if op == "var":
            n = nred
            m = x.mean(axis=dims, keepdims=True)
            return ((x - m) ** 2).sum(axis=dims) / max(n - p0, 0)
        if op == "std":
            return np.sqrt(ref("var", x, dims, p0))
        if op == "logsumexp":
            if nred == 0:
                return np.full(np.sum(x, axis=dims).shape, -np.inf)
            m = x.max(axis=dims, keepdims=True)
            mf = np.where(np.isfinite(m), m, 0)
            return (np.log(np.exp(x - mf).sum(axis=dims, keepdims=True)) + mf).reshape(np.sum(x, axis=dims).shape)
        if op == "sumsq":
            return (x * x).sum(axis=dims)
        if op == "norm2":
            return np.sqrt((x * x).sum(axis=dims))
        if op == "normp":
            ab = np.abs(x)
            if p0 == np.inf:
                return ab.max(axis=dims)
            if p0 == -np.inf:
                return ab.min(axis=dims)
            if p0 == 0:
                return (ab != 0).sum(axis=dims).astype(np.float64)
            return (ab ** p0).sum(axis=dims) ** (1 / p0)
    raise AssertionError(op)


def scale_of(op, a, dims, p0):
    """Magnitude against which a float32 result's error is measured (sums can cancel)."""
    x = np.abs(a.astype(np.float64))
    if op in ("sum", "mean"):
        s = x.sum(axis=dims)
        return s / (int(np.prod([a.shape[d] for d in dims])) or 1) if op == "mean" else s
    if op == "var":
        return ref("var", a, dims, p0) + ref("mean", np.abs(a), dims) ** 2 * 1e-3
    if op == "std":
        # an error e in the variance moves its root by up to sqrt(e) (near 0): the bound for the root
        # is sqrt(rtol * var's scale), written as rtol * scale for assert_close
        rtol = 2e-6 if a.dtype == np.float32 else 1e-12
        return np.sqrt(rtol * scale_of("var", a, dims, p0)) / rtol + np.sqrt(scale_of("var", a, dims, p0))
    if op == "logsumexp" and a.size:
        # max + log(sum): the two terms may cancel
        return np.abs(ref(op, a, dims, p0)) + x.max(axis=dims)
    return np.abs(ref(op, a, dims, p0))


def assert_close(got, want, dtype, scale=None, rtol=None):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    if dtype == np.bool_ or np.dtype(dtype).kind in "iub":
        np.testing.assert_array_equal(got, want)
        return
    got = got.astype(np.float64)
    if rtol is None:
        rtol = 2e-6 if dtype == np.float32 else 1e-12
    if scale is None:
        scale = np.abs(want)
    scale = np.where(np.isfinite(scale), scale, 0)
    same_special = (np.isnan(got) & np.isnan(want)) | (np.isinf(want) & (got == want))
    with np.errstate(invalid="ignore"):
        err = np.abs(got - want)
        ok = same_special | (err <= rtol * scale + (1e-30 if dtype == np.float32 else 1e-300)) | \
            (err <= rtol * np.abs(want))
    assert ok.all(), f"max abs err {np.nanmax(np.where(ok, 0, err))}; got {got[~ok][:5]} want {want[~ok][:5]}"


# ------------------------------------------------------------------------------------------ layouts
def layouts(base):
    """(name, array) views of the same values with different strides."""
    yield "contiguous", base
    if base.ndim >= 2:
        yield "transposed", np.ascontiguousarray(base.transpose()).transpose()
    if base.ndim >= 1:
        big = np.repeat(base, 2, axis=-1)
        yield "sliced", big[..., ::2]
        yield "negative", np.ascontiguousarray(base[::-1, ...])[::-1, ...]
        # broadcast: the first axis of size > 1 becomes a stride-0 repeat of one slice
        axis = next((d for d in range(base.ndim) if base.shape[d] > 1), None)
        if axis is not None:
            one = np.take(base, [0], axis=axis)
            yield "broadcast", np.broadcast_to(one, base.shape)


def make(shape, dtype, rng, low=-2.0, high=2.0):
    if dtype == np.bool_:
        return rng.random(shape) > 0.4
    if dtype == np.int64:
        return rng.integers(-3, 4, shape).astype(np.int64)
    return rng.uniform(low, high, shape).astype(dtype)


def op_dtypes(op):
    if op in ("all", "any"):
        return [np.bool_]
    if op in NUMERIC_OPS:
        return [np.float32, np.float64, np.int64]
    return [np.float32, np.float64]


def op_params(op):
    if op == "normp":
        return NORM_PS
    if op in ("var", "std"):
        return [0.0, 1.0]
    return [0.0]


ALL_OPS = list(R)


def check_op(op, a, dims, p0=0.0):
    nred = int(np.prod([a.shape[d] for d in dims])) if dims else 1
    if nred == 0 and (op in ("max", "min") or (op == "normp" and np.isinf(p0))):
        return
    got = reduce(op, a, dims, p0)
    want = ref(op, a, dims, p0)
    if op in ("all", "any"):
        np.testing.assert_array_equal(got, want)
        return
    assert_close(got, want, a.dtype.type, scale=scale_of(op, a, dims, p0) if a.dtype.kind == "f" else None)


# ------------------------------------------------------------------------------------------ every op
@pytest.mark.parametrize("op", ALL_OPS)
def test_reduce_every_dim_subset(op, target):
    rng = np.random.default_rng(zlib.crc32(op.encode()))
    for shape in [(3, 4, 5), (2, 3, 1, 6)]:
        for dtype in op_dtypes(op):
            low = 0.5 if op == "prod" else -2.0
            base = make(shape, dtype, rng, low=low, high=1.5 if op == "prod" else 2.0)
            for name, a in layouts(base):
                for r in range(len(shape) + 1):
                    for dims in itertools.combinations(range(len(shape)), r):
                        for p0 in op_params(op):
                            check_op(op, a, dims, p0)


@pytest.mark.parametrize("op", ALL_OPS)
def test_reduce_empty_and_size_one(op, target):
    rng = np.random.default_rng(1)
    for shape in [(0, 3), (3, 0), (1, 1, 4), (2, 0, 1), (1,), ()]:
        for dtype in op_dtypes(op):
            a = make(shape, dtype, rng, low=0.5)
            for r in range(len(shape) + 1):
                for dims in itertools.combinations(range(len(shape)), r):
                    for p0 in op_params(op):
                        check_op(op, a, dims, p0)


def test_reduce_empty_identities(target):
    e = np.zeros((2, 0), np.float32)
    assert (reduce("sum", e, (1,)) == 0).all()
    assert (reduce("prod", e, (1,)) == 1).all()
    assert (reduce("sumsq", e, (1,)) == 0).all()
    assert (reduce("norm2", e, (1,)) == 0).all()
    assert np.isnan(reduce("mean", e, (1,))).all()
    assert np.isnan(reduce("var", e, (1,), 1.0)).all()
    assert np.isnan(reduce("std", e, (1,), 1.0)).all()
    assert (reduce("logsumexp", e, (1,)) == -np.inf).all()
    b = np.zeros((2, 0), np.bool_)
    assert reduce("all", b, (1,)).all() and not reduce("any", b, (1,)).any()
    assert reduce("sum", np.zeros((0, 3), np.float64), (1,)).shape == (0,)


# ------------------------------------------------------------------------------------------ max / min
@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_reduce_index_first_occurrence(op, dtype, target):
    rng = np.random.default_rng(3)
    base = rng.integers(0, 3, (4, 5, 6)).astype(dtype)  # many ties
    argf = np.argmax if op == "max" else np.argmin
    for name, a in layouts(base):
        for r in range(1, 4):
            for dims in itertools.combinations(range(3), r):
                kept = [d for d in range(3) if d not in dims]
                nred = int(np.prod([a.shape[d] for d in dims]))
                flat = np.transpose(a, kept + list(dims)).reshape([a.shape[d] for d in kept] + [nred])
                v, i = reduce(op, a, dims, with_index=True)
                np.testing.assert_array_equal(i, argf(flat, axis=-1), err_msg=f"{name} {dims}")
                np.testing.assert_array_equal(v, ref(op, a, dims))


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reduce_nan_wins(op, dtype, target):
    for n in [5, 40, 100_000]:  # scalar loop, vector loop, several chunks
        a = np.zeros(n, dtype)
        a[n // 3] = np.nan
        a[n - 1] = np.nan
        a[0] = 7 if op == "max" else -7
        v, i = reduce(op, a, (0,), with_index=True)
        assert np.isnan(v) and i == n // 3
        assert np.isnan(reduce(op, a, (0,)))
        # column path: NaN in one column only
        m = np.ones((50, 9), dtype)
        m[20, 4] = np.nan
        m[30, 4] = np.nan
        v, i = reduce(op, m, (0,), with_index=True)
        assert np.isnan(v[4]) and i[4] == 20
        assert not np.isnan(np.delete(v, 4)).any()


def test_reduce_max_large_chunks(target, threads):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 200_003)).astype(np.float32)
    a[1, 150_000] = 50
    a[1, 180_000] = 50
    for nt in (1, 2):
        _core.set_num_threads(nt)
        v, i = reduce("max", a, (1,), with_index=True)
        np.testing.assert_array_equal(i, a.argmax(axis=1))
        v, i = reduce("min", a.T, (0,), with_index=True)
        np.testing.assert_array_equal(i, a.argmin(axis=1))
        # column path over several chunks (1024 positions each), ties and NaN in later chunks
        b = rng.integers(0, 5, (9000, 13)).astype(np.float32)
        b[5000, 3] = np.nan
        b[7000, 3] = np.nan
        b[8999, 12] = np.nan
        for op, argf in (("max", np.argmax), ("min", np.argmin)):
            v, i = reduce(op, b, (0,), with_index=True)
            np.testing.assert_array_equal(i, argf(b, axis=0))
            np.testing.assert_array_equal(v, b[i, np.arange(13)])


# ------------------------------------------------------------------------------------------ accuracy
def test_sum_float32_1e7_accurate(target):
    rng = np.random.default_rng(5)
    a = (rng.random(10_000_000) + 0.5).astype(np.float32)
    exact = a.astype(np.float64).sum()
    assert abs(float(reduce("sum", a, (0,))) - exact) <= 1e-6 * exact
    assert abs(float(reduce("mean", a, (0,))) - exact / a.size) <= 1e-6 * exact / a.size
    # signed data: error measured against sum |x|
    b = rng.standard_normal(10_000_000).astype(np.float32)
    assert abs(float(reduce("sum", b, (0,))) - b.astype(np.float64).sum()) <= 1e-6 * np.abs(b).astype(np.float64).sum()
    # column path (sum over axis 0) and a strided whole reduction
    m = a.reshape(10_000, 1000)
    col = reduce("sum", m, (0,))
    exact_col = m.astype(np.float64).sum(axis=0)
    assert (np.abs(col - exact_col) <= 1e-6 * exact_col).all()
    tot = float(reduce("sum", m.T, (0, 1)))
    assert abs(tot - exact) <= 1e-6 * exact


def test_float32_var_of_equal_values_is_zero(target):
    a = np.full((3, 5), 345.5842, np.float32)
    assert (reduce("var", a, (1,), 1.0) == 0).all() and (reduce("std", a.T, (0,), 1.0) == 0).all()


def test_norm2_of_subnormals(target):
    a = np.array([[5e-324, 0.0], [1e-310, -3e-320], [1e-300, 5e-324]])
    want = np.array([5e-324, np.hypot(1e-310, 3e-320), 1e-300])
    np.testing.assert_allclose(reduce("norm2", a, (1,)), want, rtol=1e-12)
    np.testing.assert_allclose(reduce("norm2", a.T, (0,)), want, rtol=1e-12)


def test_float32_std_past_var_overflow(target):
    # the squared deviations overflow float32, and in the second row the mean's sum does too
    a = np.array([[1e30, 0.0, 1.0, 0.0], [3e38, 3e38, 0.0, 0.0]], np.float32)
    want = a.astype(np.float64).std(axis=1, ddof=1)
    assert_close(reduce("std", a, (1,), 1.0), want, np.float32, rtol=1e-5)
    assert_close(reduce("std", a.T, (0,), 1.0), want, np.float32, rtol=1e-5)
    assert np.isinf(reduce("var", a, (1,), 1.0)).all()


def test_var_is_stable(target):
    rng = np.random.default_rng(6)
    a = (1e4 + rng.standard_normal((4, 50_000))).astype(np.float32)
    want = a.astype(np.float64).var(axis=1, ddof=1)
    assert_close(reduce("var", a, (1,), 1.0), want, np.float32, rtol=1e-4)
    assert_close(reduce("var", a.T, (0,), 1.0), want, np.float32, rtol=1e-4)


def test_logsumexp_special_values(target):
    inf, nan = np.inf, np.nan
    for dtype in (np.float32, np.float64):
        a = np.array([[-inf, -inf, -inf], [inf, 1, 2], [nan, 1, 2], [1000, 1000, 1000], [-1000, -1000, -inf],
                      [inf, -inf, 0]], dtype)
        want = [-inf, inf, nan, 1000 + np.log(3), -1000 + np.log(2), inf]
        got = reduce("logsumexp", a, (1,))
        assert_close(got, np.array(want), dtype)
        assert_close(reduce("logsumexp", np.ascontiguousarray(a.T), (0,)), np.array(want), dtype)
        assert_close(reduce("logsumexp", np.repeat(a, 40, axis=1), (1,)), np.array(want) + np.log(40), dtype)


def test_norms_overflow_safe(target):
    big = np.array([1e200, 1e200, 3e-200], np.float64)
    assert_close(reduce("norm2", big, (0,)), np.sqrt(2) * 1e200, np.float64)
    assert_close(reduce("normp", big, (0,), 2.0), np.sqrt(2) * 1e200, np.float64)
    small = np.array([3e-200, 4e-200], np.float64)
    assert_close(reduce("norm2", small, (0,)), 5e-200, np.float64)
    assert_close(reduce("norm2", np.array([3e30, 4e30], np.float32), (0,)), 5e30, np.float32)
    assert_close(reduce("norm2", np.array([3e-30, 4e-30], np.float32), (0,)), 5e-30, np.float32)
    col = np.array([[1e200, 1.0], [1e200, 2.0]])  # column path: one column rescaled, one not
    assert_close(reduce("norm2", col, (0,)), np.array([np.sqrt(2) * 1e200, np.sqrt(5)]), np.float64)
    assert reduce("norm2", np.array([np.inf, 1.0]), (0,)) == np.inf
    assert np.isnan(reduce("norm2", np.array([np.inf, np.nan]), (0,)))
    assert reduce("norm2", np.zeros(5), (0,)) == 0


def test_normp_special_orders(target):
    a = np.array([[-3.0, 0.0, 4.0, 0.5]], np.float32)
    assert_close(reduce("normp", a, (1,), np.inf), np.array([4.0]), np.float32)
    assert_close(reduce("normp", a, (1,), -np.inf), np.array([0.0]), np.float32)
    assert_close(reduce("normp", a, (1,), 0.0), np.array([3.0]), np.float32)
    assert_close(reduce("normp", a, (1,), 1.0), np.array([7.5]), np.float32)
    assert_close(reduce("normp", a, (1,), 3.0), np.array([(27 + 64 + 0.125) ** (1 / 3)]), np.float32)
    assert np.isnan(reduce("normp", np.array([1.0, np.nan]), (0,), np.inf))


def test_int64_exact_and_wrapping(target):
    a = np.arange(1, 2_000_001, dtype=np.int64)
    assert reduce("sum", a, (0,)) == a.sum()
    w = np.full(70, 3, np.int64)  # 3**70 wraps like NumPy's int64 product
    with np.errstate(over="ignore"):
        assert reduce("prod", w, (0,)) == np.prod(w)
    big = np.array([2**62, 2**62, 2**62], np.int64)
    with np.errstate(over="ignore"):
        assert reduce("sum", big, (0,)) == big.sum()
    assert reduce("max", np.array([-(2**63), 2**63 - 1], np.int64), (0,)) == 2**63 - 1


def test_sum_of_bool_counts():
    a = np.random.default_rng(7).random((30, 40)) > 0.5
    np.testing.assert_array_equal(reduce("sum", a, (1,)), a.sum(axis=1))


def test_reduce_unsupported_dtype_raises():
    with pytest.raises(TypeError, match="var"):
        reduce("var", np.arange(6, dtype=np.int64), (0,))


# ------------------------------------------------------------------------------------------ threads
# past the threading threshold, with several chunks per output (row path: 32768 elements, column
# path: 1024 positions), few or many outputs
BIG_CASES = [((2, 70_000), (1,)), ((70_000, 2), (0,)), ((1024, 80), (0,)), ((1024, 80), (1,)),
             ((32, 40, 32), (0, 2)), ((9000, 16), (0,)), ((100_000,), (0,))]


@pytest.mark.parametrize("op", ["sum", "var", "logsumexp", "norm2", "prod", "max", "normp"])
def test_reduce_threads_bitwise_identical(op, target, threads):
    rng = np.random.default_rng(8)
    for shape, dims in BIG_CASES:
        a = rng.uniform(0.9, 1.1, shape).astype(np.float32)
        for view in (a, np.ascontiguousarray(a.T).T):
            out = []
            for nt in (1, 2):
                _core.set_num_threads(nt)
                out.append(reduce(op, view, dims, 2.5 if op == "normp" else 1.0))
            assert out[0].tobytes() == out[1].tobytes(), (shape, dims)
            check_op(op, view, dims, 2.5 if op == "normp" else 1.0)


# ------------------------------------------------------------------------------------------ softmax
def softmax_ref(x, axis, log):
    x = x.astype(np.float64)
    if x.size == 0:
        return x
    m = x.max(axis=axis, keepdims=True)
    e = np.exp(x - m)
    s = e.sum(axis=axis, keepdims=True)
    return x - m - np.log(s) if log else e / s


SOFTMAX_SHAPES = [(7,), (3, 5), (4, 37, 3), (2, 300, 20), (64, 1030), (5, 1), (3, 0, 2), (2, 9, 300)]


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_forward_backward(log, dtype, target):
    rng = np.random.default_rng(9)
    tol = 3e-6 if dtype == np.float32 else 1e-13
    for shape in SOFTMAX_SHAPES:
        x = (rng.standard_normal(shape) * 5).astype(dtype)
        for axis in range(len(shape)):
            y = np.asarray(_core.softmax(T(x), axis, log))
            want = softmax_ref(x, axis, log)
            # log_softmax = (x - max) - lse: float32 rounding is relative to |x| and the max
            scale = np.abs(want) + (np.abs(x).max(axis=axis, keepdims=True) if log and x.size else 0)
            assert_close(y, want, dtype, scale=scale, rtol=tol)
            g = rng.standard_normal(shape).astype(dtype)
            gx = np.asarray(_core.softmax_backward(T(y), T(g), axis, log))
            g64 = g.astype(np.float64)
            if log:
                want_g = g64 - np.exp(want) * g64.sum(axis=axis, keepdims=True)
            else:
                want_g = want * (g64 - (g64 * want).sum(axis=axis, keepdims=True))
            bound = np.abs(g64).sum(axis=axis, keepdims=True) + np.abs(g64)
            assert_close(gx, want_g, dtype, scale=bound, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_extreme_values(dtype, target):
    inf = np.inf
    x = np.array([[0, -inf, -inf], [1e4, 0, -1e4], [-1e4, -1e4, -1e4], [88, 89, 90], [-200, -150, -100]], dtype)
    for log in (False, True):
        got = np.asarray(_core.softmax(T(x), 1, log))
        want = softmax_ref(x, 1, log)
        assert_close(got, want, dtype, rtol=3e-6 if dtype == np.float32 else 1e-13)
        # the same rows along a strided (inner > 1) axis
        got_t = np.asarray(_core.softmax(T(np.ascontiguousarray(x.T)), 0, log))
        assert_close(got_t, want.T, dtype, rtol=3e-6 if dtype == np.float32 else 1e-13)
    assert np.isnan(np.asarray(_core.softmax(T(np.array([np.nan, 1.0], dtype)), 0))).all()


def test_softmax_exp_accuracy_float32(target):
    # softmax([0, d]) = [1, e^d] / (1 + e^d): the second entry is ~e^d for d << 0, subnormals included
    d = np.linspace(-103, 0, 20_001).astype(np.float32)
    x = np.stack([np.zeros_like(d), d], axis=1)
    got = np.asarray(_core.softmax(T(x), 1))[:, 1].astype(np.float64)
    ed = np.exp(d.astype(np.float64))
    want = ed / (1 + ed)
    ulp = np.spacing(want.astype(np.float32)).astype(np.float64)
    assert (np.abs(got - want) <= 3 * np.maximum(ulp, 2.0 ** -149)).all()


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_tier_tails_against_portable(log, target):
    """Every row length 1..49 and every tile width 1..49 (each tail of a 1-, 8- or 16-lane vector, up to
    three full vectors and one more): the tier's float32 forward and backward agree with the portable
    loops within 8 eps of the scale (the result, or for log_softmax the row's max |x|; for the
    backward sum |g| + |g|): vec.h's exp (2 ulp) against libm's (0.5), float sums blocked differently,
    and the final scale's rounding, each on both sides."""
    rng = np.random.default_rng(21)
    eps = float(np.finfo(np.float32).eps)
    for n in range(1, 50):
        for shape, axis in (((3, n), 1), ((4, 3, n), 1)):  # rows along n; tiles of n columns
            x = (rng.standard_normal(shape) * 4).astype(np.float32)
            g = rng.standard_normal(shape).astype(np.float32)
            _core.set_simd_target(TARGETS[0])
            y_ref = np.asarray(_core.softmax(T(x), axis, log)).copy()
            gx_ref = np.asarray(_core.softmax_backward(T(y_ref), T(g), axis, log)).copy()
            _core.set_simd_target(target)
            y = np.asarray(_core.softmax(T(x), axis, log)).copy()
            gx = np.asarray(_core.softmax_backward(T(y_ref), T(g), axis, log)).copy()
            scale = np.abs(y_ref) + (np.abs(x).max(axis=axis, keepdims=True) if log else 0)
            assert (np.abs(y - y_ref) <= 8 * eps * scale + 1e-38).all(), (target, shape, log)
            gscale = np.abs(g).sum(axis=axis, keepdims=True) + np.abs(g)
            assert (np.abs(gx - gx_ref) <= 8 * eps * gscale).all(), (target, shape, log, "backward")


# ------------------------------------------------------------------------------------------ cumulative
@pytest.mark.parametrize("op", [0, 1], ids=["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_cumulative(op, dtype, target):
    rng = np.random.default_rng(10)
    for shape in [(7,), (3, 5), (4, 300, 3), (2, 3, 300), (3, 0, 2), (1,)]:
        if dtype == np.int64:
            x = rng.integers(-3, 4, shape).astype(np.int64)
        elif op == 1:
            x = rng.uniform(0.98, 1.02, shape).astype(dtype)
        else:
            x = rng.standard_normal(shape).astype(dtype)
        for axis in range(len(shape)):
            got = np.asarray(_core.cumulative(op, T(x), axis))
            x64 = x if dtype == np.int64 else x.astype(np.float64)
            want = np.cumsum(x64, axis=axis) if op == 0 else np.cumprod(x64, axis=axis)
            scale = np.cumsum(np.abs(x64), axis=axis) if op == 0 else np.abs(want)
            assert_close(got, want, dtype, scale=scale, rtol=1e-6 if dtype == np.float32 else 1e-13)


# ------------------------------------------------------------------------------------------ hypothesis
@st.composite
def strided_case(draw):
    ndim = draw(st.integers(1, 4))
    shape = draw(st.lists(st.integers(0, 6), min_size=ndim, max_size=ndim))
    steps = draw(st.lists(st.sampled_from([1, 2, -1, -2]), min_size=ndim, max_size=ndim))
    perm = draw(st.permutations(range(ndim)))
    dims = tuple(sorted(draw(st.sets(st.integers(0, ndim - 1)))))
    op = draw(st.sampled_from(ALL_OPS))
    dtype = draw(st.sampled_from(op_dtypes(op)))
    p0 = draw(st.sampled_from(op_params(op)))
    seed = draw(st.integers(0, 2**31))
    return shape, steps, perm, dims, op, dtype, p0, seed


@settings(max_examples=150, deadline=None)
@given(strided_case(), st.sampled_from(TARGETS))
def test_reduce_hypothesis(case, simd):
    shape, steps, perm, dims, op, dtype, p0, seed = case
    if simd not in AVAILABLE:
        return
    rng = np.random.default_rng(seed)
    full = make([n * abs(s) for n, s in zip(shape, steps)], dtype, rng, low=0.5 if op == "prod" else -2.0)
    a = full[tuple(slice(None, None, s) for s in steps)].transpose(perm)
    old = _core.simd_target()
    _core.set_simd_target(simd)
    try:
        check_op(op, a, dims, p0)
        if op in ("max", "min") and dims and all(a.shape[d] > 0 for d in dims):
            kept = [d for d in range(a.ndim) if d not in dims]
            nred = int(np.prod([a.shape[d] for d in dims]))
            flat = np.transpose(a, kept + list(dims)).reshape([a.shape[d] for d in kept] + [nred])
            _, i = reduce(op, a, dims, with_index=True)
            np.testing.assert_array_equal(i, (np.argmax if op == "max" else np.argmin)(flat, axis=-1))
    finally:
        _core.set_simd_target(old)
