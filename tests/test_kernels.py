"""Kernel tests: csrc/elementwise*.c, storage.c, rng.c and cpu.c through `_core` directly.

Every unary and binary op and dtype is checked against NumPy on contiguous, strided, negative-stride,
broadcast (stride 0), transposed and 0-d inputs, at sizes around the SIMD widths and the threading
thresholds, under both SIMD targets ("avx2" and "portable", switched in-process). Also: float32
accuracy of the vector exp/log/tanh/sigmoid in ulps against float64, bitwise identity between 1
and 2 threads and between layouts, copy/cast/fill/where, hypothesis tests with random shapes and
strides, and the Philox generator against its published known-answer vectors.
"""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core  # noqa: F401  (registers the Tensor class with _core)
from autograd_core import _core

SIZES = [0, 1, 7, 8, 9, 31, 33, 1000, 100003]
DT = {np.float32: _core.F32, np.float64: _core.F64, np.int64: _core.I64, np.bool_: _core.BOOL,
      np.int32: _core.I32, np.uint8: _core.U8}


from conftest import AVAILABLE, TARGETS, T  # noqa: E402  (fixtures `target`, `threads` come from conftest)
from op_db import KERNEL_BINARY, KERNEL_UNARY, lay_out  # noqa: E402
from op_db import np_sigmoid as sigmoid  # noqa: E402



def N(t):
    return np.asarray(t)


# The C op lists as _core names them: reference, input domain and scalar parameters per kernel come
# from the op database (tests/op_db.py), so each reference is written once; the dtypes each kernel
# has come from the registry (_core.op_table(), read off the C kernel tables).
UNARY = KERNEL_UNARY
BINARY = KERNEL_BINARY


def kernel_dtypes(family, name):
    """The dtype codes the C kernel of `name` has a loop for."""
    return _core.op_info(family, name).dtypes


def test_op_lists_match_header():
    assert set(UNARY) == set(_core.UNARY_OPS)
    assert set(BINARY) == set(_core.BINARY_OPS)


TOL = {np.float32: 3e-6, np.float64: 1e-12}
TOL_OP32 = {"pow_scalar": 1e-5, "rpow_scalar": 1e-5, "gelu_tanh": 1e-5, "elu": 1e-5}


def check(got, ref, dtype, what, tol=None):
    got = N(got)
    if ref.dtype == np.bool_ or dtype in (np.int64, np.bool_):
        assert got.dtype == (np.bool_ if ref.dtype == np.bool_ else np.dtype(dtype)), what
        np.testing.assert_array_equal(got, ref, err_msg=what)
        return
    assert got.dtype == np.dtype(dtype), what
    tol = tol or TOL[dtype]
    with np.errstate(over="ignore"):
        want = ref.astype(dtype).astype(np.float64)
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=tol, atol=tol, err_msg=what)


# layouts: op_db's, on the first n elements of a base array; "transposed" reads an (n / r, r) block
# column-major, so a kernel sees a 2-d strided walk
LAYOUTS = ("contiguous", "sliced", "flipped", "transposed", "broadcast")


def kernel_view(a, n, layout):
    a = a[:n]
    if layout == "transposed":
        for r in (7, 3, 2):
            if n % r == 0 and n > r:
                return lay_out(a.reshape(n // r, r), "transposed")
        layout = "flipped"
    return lay_out(a, layout)


def unary_input(name, dtype, n, rng):
    gen = UNARY[name][1]
    x = gen(rng, max(n, 1))
    if dtype == np.int64:
        x = np.round(np.clip(x, -1e6, 1e6) * 10)
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64], ids=["f32", "f64", "i64"])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary(name, dtype, target):
    ref, _, p0, p1 = UNARY[name]
    op = _core.UNARY_OPS[name]
    info = _core.op_info("unary", name)
    int_loop = _core.I64 in info.dtypes
    rng = np.random.default_rng(sum(map(ord, name)))
    # the large size (above the threading thresholds) on two layouts only, to keep the suite fast
    for layout, n in [(layout, n) for layout in LAYOUTS for n in SIZES
                      if n < 100000 or layout in ("contiguous", "flipped")]:
        x = kernel_view(unary_input(name, dtype, n, rng), n, layout)
        if dtype == np.int64 and not int_loop:
            if not info.float_only:
                with pytest.raises(TypeError, match=name):
                    _core.unary(op, T(x), p0, p1)
                return
            # a float op computes an integer input in float32 (the binding converts it)
            got = _core.unary(op, T(x), p0, p1)
            with np.errstate(all="ignore"):
                want = ref(x.astype(np.float32).astype(np.float64))
            check(got, np.asarray(want).reshape(x.shape), np.float32, f"{name} int64 {layout} n={n}",
                  TOL_OP32.get(name))
            continue
        got = _core.unary(op, T(x), p0, p1)
        with np.errstate(all="ignore"):
            want = ref(x.astype(np.float64) if dtype != np.int64 else x)
        if dtype == np.int64 and want.dtype != np.bool_:
            want = want.astype(np.int64)
        tol = TOL_OP32.get(name) if dtype == np.float32 else None
        check(got, np.asarray(want).reshape(x.shape), dtype, f"{name} {layout} n={n} {target}", tol)


@pytest.mark.parametrize("name", ["exp", "tanh", "relu", "neg", "clamp", "affine", "isnan", "square"])
def test_unary_zero_dim_and_strided_out(name, target):
    ref, gen, p0, p1 = UNARY[name]
    op = _core.UNARY_OPS[name]
    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        x = np.array(gen(rng, 1)[0], dtype=dtype)
        got = _core.unary(op, T(x), p0, p1)
        assert N(got).shape == ()
        check(got, np.asarray(ref(x.astype(np.float64))), dtype, f"{name} 0-d")
        # a strided, negative-stride output
        x = gen(rng, 1001).astype(dtype)
        out_dt = np.bool_ if name == "isnan" else dtype
        buf = np.zeros(2002, dtype=out_dt)
        out = buf[::-2]
        _core.unary(op, T(x), p0, p1, out=T(out))
        check(T(out), np.asarray(ref(x.astype(np.float64))), dtype, f"{name} strided out")
        assert not buf[::2].any(), "wrote outside the output view"


@pytest.mark.parametrize("name", ["exp", "sigmoid", "relu", "tanh", "neg"])
def test_unary_in_place_alias(name, target):
    ref, gen, p0, p1 = UNARY[name]
    x = gen(np.random.default_rng(2), 5000).astype(np.float32)
    want = ref(x.astype(np.float64))
    t = T(x)
    _core.unary(_core.UNARY_OPS[name], t, p0, p1, out=t)
    check(t, want, np.float32, name)


def binary_inputs(name, dtype, shape_a, shape_b, rng):
    if dtype == np.bool_:
        return rng.integers(0, 2, shape_a).astype(bool), rng.integers(0, 2, shape_b).astype(bool)
    if dtype == np.int64:
        a = rng.integers(-1000, 1000, shape_a)
        b = rng.integers(-9, 10, shape_b)
        if name == "pow":
            a, b = rng.integers(-6, 7, shape_a), rng.integers(0, 12, shape_b)
        return a, b
    a = rng.standard_normal(shape_a) * 3
    b = rng.standard_normal(shape_b) * 3
    if name == "pow":
        a = np.abs(a)
    if name in ("sigmoid_bwd",):
        a = sigmoid(a)
    if name == "tanh_bwd":
        a = np.tanh(a)
    return a.astype(dtype), b.astype(dtype)


def bool_ref(name, a, b):
    return {"add": np.logical_or, "mul": np.logical_and, "maximum": np.logical_or,
            "minimum": np.logical_and}.get(name, BINARY[name][0])(a, b)


def binary_ref(name, a, b, dtype):
    if dtype == np.bool_:
        return np.asarray(bool_ref(name, a, b))
    if dtype == np.int64:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = BINARY[name][0](a, b)
        return np.asarray(r)
    with np.errstate(all="ignore"):
        return np.asarray(BINARY[name][0](a.astype(np.float64), b.astype(np.float64)))


# (shape of a, shape of b, how to lay a out): broadcasting in every position
BCASTS = [
    ("same", lambda n: ((n,), (n,))),
    ("row", lambda n: ((max(n // 8, 1), 8), (8,))),
    ("col", lambda n: ((8, max(n // 8, 1)), (8, 1))),
    ("scalar_b", lambda n: ((n,), ())),
    ("scalar_a", lambda n: ((), (n,))),
    ("outer", lambda n: ((max(n // 16, 1), 1), (1, 16))),
]


# the (op, dtype) pairs with a kernel; the binding promotes or rejects the others
BINARY_CASES = [pytest.param(name, dtype, id=f"{name}-{dtype.__name__}")
                for name in BINARY
                for dtype, code in ((np.float32, _core.F32), (np.float64, _core.F64), (np.int64, _core.I64),
                                    (np.bool_, _core.BOOL))
                if code in kernel_dtypes("binary", name)]


@pytest.mark.parametrize("bcast", [b[0] for b in BCASTS])
@pytest.mark.parametrize("name,dtype", BINARY_CASES)
def test_binary(name, dtype, bcast, target):
    op = _core.BINARY_OPS[name]
    shapes = dict(BCASTS)[bcast]
    rng = np.random.default_rng(sum(map(ord, name + bcast)))
    for how, n in [(how, n) for how in ("contiguous", "sliced", "flipped", "transposed")
                   for n in (0, 1, 9, 33, 1000, 40000) if n < 40000 or how == "contiguous"]:
        sa, sb = shapes(n)
        a, b = binary_inputs(name, dtype, sa, sb, rng)
        a, b = lay_out(a, how), lay_out(b, how)
        got = _core.binary(op, T(a), T(b))
        want = binary_ref(name, a, b, dtype)
        check(got, want, dtype, f"{name} {bcast} {how} n={n} {target}")


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "pow", "floordiv"])
def test_binary_python_scalar_and_out(name, target):
    op = _core.BINARY_OPS[name]
    rng = np.random.default_rng(3)
    a = np.abs(rng.standard_normal(1003)).astype(np.float32) + 0.5
    check(_core.binary(op, T(a), 1.5), binary_ref(name, a, np.float32(1.5), np.float32), np.float32, name)
    check(_core.binary(op, 1.5, T(a)), binary_ref(name, np.float32(1.5), a, np.float32), np.float32, name)
    # in place: out aliases a exactly
    want = binary_ref(name, a, a[::-1].copy(), np.float32)
    t = T(a)
    _core.binary(op, t, T(a[::-1].copy()), out=t)
    check(t, want, np.float32, name + " in place")


def test_floordiv_mod_python_semantics(target):
    a = np.array([7, -7, 7, -7, 0, 5, -5, 1, -1], dtype=np.float64)
    b = np.array([2, 2, -2, -2, 3, 0, 0, np.inf, np.inf], dtype=np.float64)
    for dtype in (np.float32, np.float64):
        fd = N(_core.binary(_core.BINARY_OPS["floordiv"], T(a.astype(dtype)), T(b.astype(dtype))))
        md = N(_core.binary(_core.BINARY_OPS["mod"], T(a.astype(dtype)), T(b.astype(dtype))))
        np.testing.assert_array_equal(fd, [3, -4, -4, 3, 0, np.inf, -np.inf, 0, -1])
        np.testing.assert_array_equal(md[:5], [1, 1, -1, -1, 0])
        assert np.isnan(md[5:7]).all() and md[7] == 1 and md[8] == np.inf
        assert math.copysign(1, md[4]) == 1 and math.copysign(1, fd[4]) == 1
    ai = np.array([7, -7, 7, -7, 5, np.iinfo(np.int64).min, np.iinfo(np.int64).min])
    bi = np.array([2, 2, -2, -2, 0, -1, 3])
    fd = N(_core.binary(_core.BINARY_OPS["floordiv"], T(ai), T(bi)))
    md = N(_core.binary(_core.BINARY_OPS["mod"], T(ai), T(bi)))
    np.testing.assert_array_equal(fd, [3, -4, -4, 3, 0, np.iinfo(np.int64).min, ai[6] // 3])
    np.testing.assert_array_equal(md, [1, 1, -1, -1, 0, 0, ai[6] % 3])


def test_int64_wraps_without_ub(target):
    lo, hi = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    a = np.array([hi, lo, lo, hi, 3])
    b = np.array([1, -1, lo, hi, -4])
    with np.errstate(all="ignore"):
        for name in ("add", "sub", "mul"):
            np.testing.assert_array_equal(N(_core.binary(_core.BINARY_OPS[name], T(a), T(b))),
                                          BINARY[name][0](a, b), err_msg=name)
        for name in ("neg", "abs", "square"):
            np.testing.assert_array_equal(N(_core.unary(_core.UNARY_OPS[name], T(a))), UNARY[name][0](a),
                                          err_msg=name)
    p = N(_core.binary(_core.BINARY_OPS["pow"], T(np.array([1, -1, -1, 2, 0, 3])), T(np.array([-3, -3, -2, -1, 0, 41]))))
    np.testing.assert_array_equal(p, [1, -1, 1, 0, 1, np.int64(3) ** 41])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_and_inf_propagation(dtype, target):
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0], dtype=dtype)
    a = np.repeat(specials, len(specials))
    b = np.tile(specials, len(specials))
    for name in ("maximum", "minimum", "add", "mul", "div", "eq", "lt", "ge", "ne"):
        with np.errstate(all="ignore"):
            want = BINARY[name][0](a, b)
        got = N(_core.binary(_core.BINARY_OPS[name], T(a), T(b)))
        np.testing.assert_array_equal(got, want, err_msg=name)
    for name in ("relu", "clamp", "exp", "log", "tanh", "sigmoid", "sqrt", "floor", "round", "neg", "abs",
                 "isnan", "isfinite"):
        ref, _, p0, p1 = UNARY[name]
        with np.errstate(all="ignore"):
            want = np.asarray(ref(specials.astype(np.float64))).astype(dtype if name not in ("isnan", "isfinite")
                                                                         else np.bool_)
        got = N(_core.unary(_core.UNARY_OPS[name], T(specials), p0, p1))
        np.testing.assert_array_equal(got, want, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sign_specials(dtype, target):
    # PyTorch's rule, not NumPy's: sign(NaN) is 0 (NumPy gives NaN), and -0.0 gives +0.0
    for n in (7, 100003):  # single-threaded and threaded sizes
        x = np.resize(np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 3.5, -1e-30], dtype=dtype), n)
        got = N(_core.unary(_core.UNARY_OPS["sign"], T(x), 0, 0))
        want = np.resize(np.array([0, 0, 0, 1, -1, 1, -1], dtype=dtype), n)
        np.testing.assert_array_equal(got, want)
        assert not np.signbit(got[np.resize(np.arange(7) < 3, n)]).any()


# ------------------------------------------------------------------------------------------ accuracy
def ulp_error(got, ref64):
    """|got - exact| in units of the float32 spacing at the exact result (0 where both are the same
    inf or both NaN)."""
    with np.errstate(over="ignore"):
        ref32 = ref64.astype(np.float32)
    spacing = np.spacing(np.abs(ref32)).astype(np.float64)
    spacing = np.where(spacing == 0, np.spacing(np.float32(0)), spacing)
    with np.errstate(invalid="ignore"):
        err = np.abs(got.astype(np.float64) - ref64) / spacing
    same_inf = np.isinf(got) & np.isinf(ref32) & (np.sign(got) == np.sign(ref32))
    both_nan = np.isnan(got) & np.isnan(ref64)
    err = np.where(same_inf | both_nan, 0.0, err)
    return np.where(np.isnan(err), np.inf, err)


SPECIAL32 = np.array([0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1.1754944e-38, 88.72283, 88.7228394,
                      88.72284, 89, -87.33654, -103.97208, -103.9721, -104, -110, 1, -1, 0.625, -0.625, 9, 9.1,
                      20, -20, 3.4e38, -3.4e38, 0.5, 2], dtype=np.float32)


def _wide32(rng, lo, hi, n):
    """float32 values: a dense grid on [lo, hi], random bit patterns (every exponent), specials."""
    bits = rng.integers(0, 2 ** 32, 200000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return np.concatenate([np.linspace(lo, hi, n, dtype=np.float32), bits, SPECIAL32])


_erfc = np.vectorize(math.erfc, otypes=[np.float64])
_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu_exact(x):
    """x Phi(x) in float64 through erfc: relative accuracy where gelu is tiny (1 + erf would cancel)."""
    return np.where(np.isnan(x), x, x * 0.5 * _erfc(-np.nan_to_num(x) / math.sqrt(2)))


# where gelu's tail underflows: Phi(x) subnormal from x = -13.04, gelu subnormal from -13.2, 0 below -14.3
GELU_EDGE = np.array([-4.125, -4.1249995, -4.1250005, -13.04, -13.1052, -13.2, -13.5, -14.0, -14.1, -14.3, -14.5,
                      -14.6, -15, -1e30, 4.125, 5.42, 5.5], dtype=np.float32)

ACCURACY = {
    # name: (reference, domain, max ulp). vec.h's header states these bounds for the vector tiers; the
    # portable loops (libm, gelu in double) are within them too. The grid covers the domain densely,
    # the random bit patterns every exponent (subnormals, huge values), and the error is in ulps of
    # the float32 result, subnormal spacing included.
    "exp": (UNARY["exp"].ref, (-110, 95), 2.0),
    "tanh": (UNARY["tanh"].ref, (-12, 12), 3.0),
    "sigmoid": (UNARY["sigmoid"].ref, (-110, 110), 3.0),
    "log": (UNARY["log"].ref, (1e-3, 4), 3.0),
    "erf": (_erf, (-6, 6), 3.0),
    "gelu": (gelu_exact, (-16, 16), 4.0),
}


@pytest.mark.parametrize("name", list(ACCURACY))
def test_float32_accuracy_ulps(name, target):
    ref, (lo, hi), max_ulp = ACCURACY[name]
    rng = np.random.default_rng(7)
    x = _wide32(rng, lo, hi, 300001)
    if name == "log":
        x = np.concatenate([np.abs(x), -np.abs(x[:1000])])
    if name == "gelu":
        x = np.concatenate([x, GELU_EDGE, np.nextafter(GELU_EDGE, np.float32(0))])
    got = N(_core.unary(_core.UNARY_OPS[name], T(x)))
    with np.errstate(all="ignore"):
        want = ref(x.astype(np.float64))
    err = ulp_error(got, want)
    worst = int(np.argmax(err))
    assert err.max() <= max_ulp, (f"{name} ({target}): {err.max():.2f} ulp at x={x[worst]!r}: got {got[worst]!r}, "
                                  f"exact {want[worst]!r}")


# ------------------------------------------------------------------------------------------ identities
BIG = 300007  # above every threading threshold, not a multiple of any SIMD width


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_thread_count_and_layout_do_not_change_bits(name, target, threads):
    ref, gen, p0, p1 = UNARY[name]
    op = _core.UNARY_OPS[name]
    x = gen(np.random.default_rng(5), 2 * BIG).astype(np.float32)
    results = []
    for nt in (1, 2):
        _core.set_num_threads(nt)
        results.append(N(_core.unary(op, T(x), p0, p1)))
    np.testing.assert_array_equal(results[0], results[1], err_msg=f"{name}: 1 vs 2 threads")
    strided = N(_core.unary(op, T(x[::2]), p0, p1))
    np.testing.assert_array_equal(strided, results[1][::2], err_msg=f"{name}: strided vs contiguous")


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_thread_count_does_not_change_bits(name, target, threads):
    op = _core.BINARY_OPS[name]
    dtype = np.float32 if _core.F32 in kernel_dtypes("binary", name) else np.int64
    a, b = binary_inputs(name, dtype, (BIG,), (BIG,), np.random.default_rng(6))
    results = []
    for nt in (1, 2):
        _core.set_num_threads(nt)
        results.append(N(_core.binary(op, T(a), T(b))))
        results.append(N(_core.binary(op, T(a), T(b[:1].reshape(())))))
    np.testing.assert_array_equal(results[0], results[2], err_msg=name)
    np.testing.assert_array_equal(results[1], results[3], err_msg=name + " scalar")


@pytest.mark.parametrize("name", ["relu", "add", "maximum"])
def test_long_rows_streaming_stores(name, target, threads):
    """Rows of millions of elements take the non-temporal store path (with an unaligned head when the
    output is not 32-byte aligned): same bits as the short-row path, for 1 thread (one streamed row)
    and 2 threads (two rows just under the streaming size)."""
    n = (1 << 21) + 13
    rng = np.random.default_rng(12)
    x = rng.standard_normal(n).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    buf = np.zeros(n + 3, dtype=np.float32)
    out = buf[1:-2]  # 4 bytes past a 64-byte boundary
    results = []
    for nt in (1, 2):
        _core.set_num_threads(nt)
        if name in UNARY:
            _core.unary(_core.UNARY_OPS[name], T(x), out=T(out))
        else:
            _core.binary(_core.BINARY_OPS[name], T(x), T(y), out=T(out))
        results.append(out.copy())
    assert buf[0] == 0 and buf[-1] == 0 and buf[-2] == 0
    np.testing.assert_array_equal(results[0], results[1])
    # short rows (one per 1000 elements) never stream: the same bits again
    m = n // 1000 * 1000
    if name in UNARY:
        short = N(_core.unary(_core.UNARY_OPS[name], T(x[:m].reshape(-1, 1000)[:, ::1].T.copy().T)))
    else:
        short = N(_core.binary(_core.BINARY_OPS[name], T(x[:m].reshape(-1, 1000).T.copy().T),
                               T(y[:m].reshape(-1, 1000).T.copy().T)))
    np.testing.assert_array_equal(short.reshape(-1), results[0][:m])
    ref = UNARY[name][0](x.astype(np.float64)) if name in UNARY else BINARY[name][0](x.astype(np.float64), y)
    check(T(results[0]), ref, np.float32, name)


def test_set_simd_target():
    old = _core.simd_target()
    try:
        _core.set_simd_target("portable")
        assert _core.simd_target() == "portable"
        with pytest.raises(ValueError):
            _core.set_simd_target("avx512-that-does-not-exist")
        for name in AVAILABLE:
            _core.set_simd_target(name)
            assert _core.simd_target() == name
        for name in set(TARGETS) - set(AVAILABLE):
            with pytest.raises(ValueError, match="not available"):
                _core.set_simd_target(name)
    finally:
        _core.set_simd_target(old)


def test_num_threads_roundtrip(threads):
    _core.set_num_threads(1)
    assert _core.get_num_threads() == 1
    _core.set_num_threads(2)
    assert _core.get_num_threads() == 2


# ------------------------------------------------------------------------------------------ copy, fill, where
CAST_DTYPES = [np.float32, np.float64, np.int64, np.bool_, np.int32, np.uint8]


@pytest.mark.parametrize("dst", CAST_DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("src", CAST_DTYPES, ids=lambda d: d.__name__)
def test_copy_cast_every_pair(src, dst, threads):
    rng = np.random.default_rng(8)
    base = rng.uniform(-3, 250, 70001)
    if src in (np.float32, np.float64):
        base = np.concatenate([base, [0.0, -0.0, 2.5, -2.5, 0.99, -0.99]])
    x = base.astype(src)
    if dst in (np.int32, np.int64, np.uint8) and src in (np.float32, np.float64):
        x = x[x > -1] if dst == np.uint8 else x  # float -> uint8 is only defined in range
    want = x.astype(dst)
    for nt in (1, 2):
        _core.set_num_threads(nt)
        for v in (x, x[::-3], x[: len(x) // 6 * 6].reshape(-1, 6).T):
            got = N(_core.cast(T(v), DT[dst]))
            np.testing.assert_array_equal(got, v.astype(dst), err_msg=f"{src.__name__} -> {dst.__name__}")
    # strided destination
    out = np.zeros(2 * len(x), dtype=dst)
    _core.copy_(T(out[::-2]), T(x))
    np.testing.assert_array_equal(out[::-2], want)
    assert not out[::2].any()


def test_cast_out_of_range_is_defined():
    x = np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 3e9], dtype=np.float64)
    got = N(_core.cast(T(x), _core.I64))
    assert (got[:5] == np.iinfo(np.int64).min).all() and got[5] == 3_000_000_000
    got32 = N(_core.cast(T(x), _core.I32))
    assert (got32 == np.iinfo(np.int32).min).all()
    assert N(_core.cast(T(x), _core.BOOL)).all()


@pytest.mark.parametrize("dtype", CAST_DTYPES, ids=lambda d: d.__name__)
def test_fill_strided(dtype):
    buf = np.zeros((50, 70), dtype=dtype)
    v = buf[::3, ::-2]
    _core.fill_(T(v), 7 if dtype is not np.bool_ else True)
    want = np.zeros((50, 70), dtype=dtype)
    want[::3, ::-2] = 7 if dtype is not np.bool_ else True
    np.testing.assert_array_equal(buf, want)


def test_copy_large_transposed(threads):
    x = np.random.default_rng(9).standard_normal((700, 900)).astype(np.float32)
    for nt in (1, 2):
        _core.set_num_threads(nt)
        np.testing.assert_array_equal(N(_core.make_contiguous(T(x.T))), x.T)
        np.testing.assert_array_equal(N(_core.clone(T(x[::-1, ::2]))), x[::-1, ::2])


@pytest.mark.parametrize("src,dst", [(np.float32, np.float32), (np.float64, np.float32), (np.int64, np.float64),
                                     (np.uint8, np.bool_)])
def test_copy_transposes_tiled(src, dst, threads):
    rng = np.random.default_rng(13)
    for shape, axes in [((33, 65), (1, 0)), ((300, 257), (1, 0)), ((3, 70, 40), (0, 2, 1)), ((40, 3, 70), (2, 1, 0)),
                        ((64, 5000), (1, 0))]:
        x = (rng.standard_normal(shape) * 50).astype(src)
        for v in (x.transpose(axes), x[::-1].transpose(axes), x[..., ::-1].transpose(axes)):
            for nt in (1, 2):
                _core.set_num_threads(nt)
                np.testing.assert_array_equal(N(_core.cast(T(v), DT[dst])) if src is not dst
                                              else N(_core.make_contiguous(T(v))), v.astype(dst))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_, np.uint8])
def test_where(dtype):
    rng = np.random.default_rng(10)
    c = rng.integers(0, 2, (300, 7)).astype(bool)
    a = rng.integers(0, 100, (300, 7)).astype(dtype)
    b = rng.integers(0, 100, (7,)).astype(dtype)
    for cc, aa in ((c, a), (c[::-1], a.T.copy().T), (c[:, :1], a)):
        got = N(_core.where(T(cc), T(aa), T(b)))
        np.testing.assert_array_equal(got, np.where(cc, aa, b))


# ------------------------------------------------------------------------------------------ hypothesis
@st.composite
def strided_arrays(draw, dtype=np.float64):
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=ndim, max_size=ndim)))
    steps = [draw(st.sampled_from([1, 2, -1, -2])) for _ in shape]
    full = tuple(s * abs(k) for s, k in zip(shape, steps))
    seed = draw(st.integers(0, 2 ** 31))
    base = np.random.default_rng(seed).standard_normal(full) * 2
    idx = tuple(slice(None, None, k) for k in steps)
    arr = base[idx].astype(dtype)
    if ndim >= 2 and draw(st.booleans()):
        arr = arr.swapaxes(0, ndim - 1)
    return arr


def broadcastable_partner(draw, a):
    """b broadcastable against a: some dims 1, some dropped, maybe strided."""
    shape = list(a.shape)
    for i in range(len(shape)):
        if draw(st.booleans()):
            shape[i] = 1
    drop = draw(st.integers(0, len(shape)))
    shape = shape[drop:]
    seed = draw(st.integers(0, 2 ** 31))
    b = np.random.default_rng(seed).standard_normal([2 * s for s in shape]) * 2
    return b[tuple(slice(None, None, 2) for _ in shape)]


@settings(max_examples=60, deadline=None)
@given(data=st.data(), a=strided_arrays(), target=st.sampled_from(TARGETS),
       name=st.sampled_from(["add", "sub", "mul", "div", "maximum", "minimum", "lt", "sigmoid_bwd", "relu_bwd"]),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_hypothesis_binary(data, a, target, name, dtype):
    if target not in AVAILABLE:
        return
    b = broadcastable_partner(data.draw, a).astype(dtype)
    a = a.astype(dtype)
    old = _core.simd_target()
    _core.set_simd_target(target)
    try:
        got = _core.binary(_core.BINARY_OPS[name], T(a), T(b))
    finally:
        _core.set_simd_target(old)
    check(got, binary_ref(name, a, b, dtype), dtype, f"{name} {a.shape} {b.shape}")


@settings(max_examples=60, deadline=None)
@given(a=strided_arrays(np.float32), target=st.sampled_from(TARGETS),
       name=st.sampled_from(["exp", "tanh", "sigmoid", "relu", "abs", "silu", "floor", "clamp", "affine"]))
def test_hypothesis_unary(a, target, name):
    if target not in AVAILABLE:
        return
    ref, _, p0, p1 = UNARY[name]
    old = _core.simd_target()
    _core.set_simd_target(target)
    try:
        got = _core.unary(_core.UNARY_OPS[name], T(a), p0, p1)
    finally:
        _core.set_simd_target(old)
    check(got, np.asarray(ref(a.astype(np.float64))), np.float32, f"{name} {a.shape} {a.strides}",
          TOL_OP32.get(name))


@settings(max_examples=40, deadline=None)
@given(a=strided_arrays(), dst=st.sampled_from(CAST_DTYPES))
def test_hypothesis_copy(a, dst):
    a = np.abs(a) * 20
    got = N(_core.cast(T(a), DT[dst])) if dst is not np.float64 else N(_core.clone(T(a)))
    np.testing.assert_array_equal(got, a.astype(dst))


# ------------------------------------------------------------------------------------------ rng
M32 = 0xFFFFFFFF


def philox4x32_10(ctr, key):
    """Pure-Python Philox 4x32-10 (the reference the C generator is checked against)."""
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for _ in range(10):
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & M32, p1 & M32, ((p0 >> 32) ^ c3 ^ k1) & M32, p0 & M32
        k0, k1 = (k0 + 0x9E3779B9) & M32, (k1 + 0xBB67AE85) & M32
    return c0, c1, c2, c3


def test_philox_reference_matches_known_answers():
    # the known-answer vectors published with Random123 (Salmon et al., SC'11)
    assert philox4x32_10((0, 0, 0, 0), (0, 0)) == (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)
    assert philox4x32_10((M32,) * 4, (M32, M32)) == (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)
    assert philox4x32_10((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0)) == \
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)


def _rand(dtype, n, kind="uniform", *args):
    t = _core.empty((n,), DT[dtype])
    getattr(_core, kind + "_")(t, *args)
    return N(t).copy()


def test_rng_uniform_is_philox_exactly():
    seed = 0x1234_5678_9ABC_DEF0
    _core.manual_seed(seed)
    got32 = _rand(np.float32, 10)
    got64 = _rand(np.float64, 10)
    key = (seed & M32, seed >> 32)
    want32, want64 = [], []
    for i in range(10):
        w = philox4x32_10((i // 4, 0, 0, 0), key)[i % 4]
        want32.append((w >> 8) * 2.0 ** -24)
    for i in range(10):
        j = 3 + i // 4  # the float32 call consumed ceil(10 / 4) = 3 counters
        lo = philox4x32_10((j, 0, 0, 0), key)[i % 4]
        hi = philox4x32_10((j, 0, 1, 0), key)[i % 4]
        want64.append((((hi << 32) | lo) >> 11) * 2.0 ** -53)
    np.testing.assert_array_equal(got32, np.array(want32, dtype=np.float32))
    np.testing.assert_array_equal(got64, np.array(want64))


def test_rng_randint_is_multiply_shift():
    seed, low, high = 99, -5, 1000
    _core.manual_seed(seed)
    got = _rand(np.int64, 9, "randint", low, high)
    want = []
    for i in range(9):
        lo = philox4x32_10((i // 4, 0, 0, 0), (seed, 0))[i % 4]
        hi = philox4x32_10((i // 4, 0, 1, 0), (seed, 0))[i % 4]
        want.append(low + ((((hi << 32) | lo) * (high - low)) >> 64))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind,args,dtypes", [
    ("uniform", (-2.0, 3.0), [np.float32, np.float64]),
    ("normal", (1.0, 2.0), [np.float32, np.float64]),
    ("randint", (-7, 100), [np.int64, np.int32, np.float32, np.float64]),
    ("bernoulli", (0.3,), [np.bool_, np.float32, np.float64]),
])
def test_rng_reproducible_and_thread_independent(kind, args, dtypes, threads):
    for dtype in dtypes:
        runs = []
        for nt in (1, 2, 1):
            _core.set_num_threads(nt)
            _core.manual_seed(2024)
            runs.append(_rand(dtype, 200003, kind, *args))
        np.testing.assert_array_equal(runs[0], runs[1], err_msg=f"{kind} {dtype.__name__}: 1 vs 2 threads")
        np.testing.assert_array_equal(runs[0], runs[2])
        _core.manual_seed(2025)
        assert not np.array_equal(runs[0], _rand(dtype, 200003, kind, *args))


@pytest.mark.parametrize("kind,args", [("uniform", (0.0, 1.0)), ("normal", (0.0, 1.0)), ("randint", (0, 50)),
                                       ("bernoulli", (0.5,))])
def test_rng_offsets_continue_the_stream(kind, args):
    """Two calls of 40 and 61 values give the same numbers as one call of 101: element i depends only on
    (seed, offset, i) and the offset advances by ceil(n / 4) counters."""
    dtype = np.int64 if kind == "randint" else np.float64
    _core.manual_seed(5)
    whole = _rand(dtype, 101, kind, *args)
    _core.manual_seed(5)
    parts = np.concatenate([_rand(dtype, 40, kind, *args), _rand(dtype, 61, kind, *args)])
    np.testing.assert_array_equal(whole, parts)


def test_rng_distributions():
    n = 1_000_000
    _core.manual_seed(11)
    u = _rand(np.float32, n, "uniform", -2.0, 3.0)
    assert u.min() >= -2 and u.max() < 3
    assert abs(u.mean() - 0.5) < 5 * (5 / math.sqrt(12)) / math.sqrt(n)
    hist = np.histogram(u, bins=50, range=(-2, 3))[0]
    chi2 = ((hist - n / 50) ** 2 / (n / 50)).sum()
    assert chi2 < 120, chi2  # 49 degrees of freedom: p ~ 1e-7
    z = _rand(np.float64, n, "normal", 0.0, 1.0)
    assert abs(z.mean()) < 5 / math.sqrt(n) and abs(z.std() - 1) < 5 * 0.71 / math.sqrt(n)
    assert abs((z > 1.96).mean() - 0.025) < 0.001 and np.isfinite(z).all()
    zf = _rand(np.float32, n, "normal", 3.0, 0.5)
    assert abs(zf.mean() - 3) < 5 * 0.5 / math.sqrt(n)
    r = _rand(np.int64, n, "randint", -3, 7)
    counts = np.bincount(r + 3)
    assert r.min() == -3 and r.max() == 6 and len(counts) == 10
    assert ((counts - n / 10) ** 2 / (n / 10)).sum() < 40
    big = _rand(np.int64, 1000, "randint", -2 ** 63, 2 ** 63 - 1)
    assert big.min() < -2 ** 60 and big.max() > 2 ** 60
    bern = _rand(np.float32, n, "bernoulli", 0.3)
    assert set(np.unique(bern)) <= {0.0, 1.0} and abs(bern.mean() - 0.3) < 5 * math.sqrt(0.21 / n)
    assert _rand(np.bool_, 1000, "bernoulli", 1.0).all() and not _rand(np.bool_, 1000, "bernoulli", 0.0).any()


def test_rng_uniform_float32_never_reaches_high():
    _core.manual_seed(1)
    u = _rand(np.float32, 100000, "uniform", 1.0, 1.0000001)
    assert (u >= 1.0).all() and (u < np.float32(1.0000001)).all()
