"""Regressions for the silent wrong answers of issue 12 (items 7-12, 15 and 17) and the ones the
differential fuzzer (tests/fuzz.py) found; each compared with PyTorch when it is installed, and with
hand-computed values otherwise."""
import math

import numpy as np
import pytest

import autograd_core as ag

F = ag.nn.functional
inf, nan = math.inf, math.nan

try:
    import torch
    TF = torch.nn.functional
except ImportError:  # the hand-computed expectations still run
    torch = TF = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


def grad_of(fn, *values, dtype=ag.float64):
    xs = [ag.tensor(v, dtype=dtype, requires_grad=True) for v in values]
    fn(*xs).sum().backward()
    return [x.grad.numpy() for x in xs]


def torch_grad_of(fn, *values, dtype=None):
    dtype = dtype or torch.float64
    xs = [torch.tensor(v, dtype=dtype, requires_grad=True) for v in values]
    fn(*xs).sum().backward()
    return [x.grad.numpy() for x in xs]


# ---------------------------------------------------------------------------- 7. cosine_similarity
def test_cosine_similarity_broadcasts_before_reducing():
    got = F.cosine_similarity(ag.tensor([[[1., 2.], [3., 4.]]]), ag.tensor([[1.]]))
    # along dim 1 of the broadcast (1, 2, 2): columns [1, 3] and [2, 4] against [1, 1]
    np.testing.assert_allclose(got.numpy(), [[4 / math.sqrt(20), 6 / math.sqrt(40)]], rtol=1e-6)
    assert tuple(F.cosine_similarity(ag.ones(2, 1, 1), ag.ones(2, 1)).shape) == (2, 1)
    assert float(F.cosine_similarity(ag.tensor([[1e30, 1.]]), ag.tensor([[1e30, 1.]])).max()) <= 1.0


@needs_torch
@pytest.mark.parametrize("shapes", [((1, 2, 2), (1, 1)), ((2, 1, 1), (2, 1)), ((3, 4), (4,)), ((2, 3, 4), (3, 1))])
def test_cosine_similarity_matches_torch(shapes):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    got = F.cosine_similarity(ag.tensor(a), ag.tensor(b))
    want = TF.cosine_similarity(torch.tensor(a), torch.tensor(b))
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)
    ga = grad_of(lambda x, y: F.cosine_similarity(x, y), a, b)
    gt = torch_grad_of(lambda x, y: TF.cosine_similarity(x, y), a, b)
    for x, y in zip(ga, gt):
        np.testing.assert_allclose(x, y, rtol=1e-8, atol=1e-12)


def test_cosine_similarity_gradcheck():
    rng = np.random.default_rng(1)
    a = ag.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    b = ag.tensor(rng.standard_normal((3, 1)), requires_grad=True)
    assert ag.autograd.gradcheck(lambda x, y: F.cosine_similarity(x, y), [a, b])


# ---------------------------------------------------------------------------- 8. fmod
def test_fmod_integers_take_the_dividends_sign():
    assert ag.fmod(ag.tensor([7, -7, 7, -7]), ag.tensor([-4, 4, 4, -4])).tolist() == [3, -3, 3, -3]
    for dtype in (ag.int32, ag.uint8):
        assert ag.fmod(ag.tensor([7, 9], dtype=dtype), ag.tensor([4, 3], dtype=dtype)).tolist() == [3, 0]
    assert ag.fmod(ag.tensor([-2**63, 5]), ag.tensor([-1, -1])).tolist() == [0, 0]  # no INT64_MIN % -1
    with pytest.raises(ZeroDivisionError, match="fmod"):
        ag.fmod(ag.tensor([1, 2]), ag.tensor([1, 0]))


def test_fmod_large_floats_are_exact():
    assert float(ag.fmod(ag.tensor(1e17, dtype=ag.float64), 6.0)) == 4.0
    assert float(ag.fmod(ag.tensor(-1e17, dtype=ag.float64), 6.0)) == -4.0
    x = np.array([5.5, -5.5, 1e30, 3.0, -0.0], dtype=np.float32)
    np.testing.assert_array_equal(ag.fmod(ag.tensor(x), 2.5).numpy(), np.fmod(x, np.float32(2.5)))


@needs_torch
def test_fmod_matches_torch_with_gradient():
    a = np.array([7.5, -7.5, 1e17, 3.0, -4.25])
    b = np.array([2.0, 2.0, 6.0, -1.5, 0.5])
    np.testing.assert_array_equal(ag.fmod(ag.tensor(a), ag.tensor(b)).numpy(),
                                  torch.fmod(torch.tensor(a), torch.tensor(b)).numpy())
    for x, y in zip(grad_of(ag.fmod, a, b), torch_grad_of(torch.fmod, a, b)):
        np.testing.assert_array_equal(x, y)


# ---------------------------------------------------------------------------- 9. diagonals
@pytest.mark.parametrize("fn, want", [
    (lambda m: ag.diag(m), [1.0, 3.0]),
    (lambda m: ag.diagonal(m), [1.0, 3.0]),
    (lambda m: ag.trace(m).reshape(1), [4.0]),
])
def test_diagonals_do_not_turn_inf_into_nan(fn, want):
    assert fn(ag.tensor([[1., inf], [2., 3.]])).tolist() == want


def test_diag_embed_keeps_inf_off_the_diagonal_out():
    assert ag.diag_embed(ag.tensor([1., inf])).tolist() == [[1.0, 0.0], [0.0, inf]]
    assert ag.diag(ag.tensor([nan, 1.])).tolist()[0][1] == 0.0


def test_diagonal_is_a_view():
    m = ag.zeros(3, 3)
    ag.diagonal(m).fill_(1)
    assert m.tolist() == np.eye(3).tolist()


@needs_torch
@pytest.mark.parametrize("offset", [-3, -1, 0, 2, 5])
@pytest.mark.parametrize("dims", [(0, 1), (1, 3), (3, 1), (-1, -2)])
def test_diagonal_and_diag_embed_match_torch(offset, dims):
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5))
    got = ag.diagonal(ag.tensor(x), offset, *dims)
    want = torch.diagonal(torch.tensor(x), offset, *dims)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    v = np.random.default_rng(3).standard_normal(tuple(want.shape))
    np.testing.assert_array_equal(ag.diag_embed(ag.tensor(v), offset, *dims).numpy(),
                                  torch.diag_embed(torch.tensor(v), offset, *dims).numpy())


def test_diagonal_family_gradcheck():
    rng = np.random.default_rng(4)
    x = ag.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    assert ag.autograd.gradcheck(lambda t: ag.diagonal(t, 1, 0, 2), [x])
    assert ag.autograd.gradgradcheck(lambda t: ag.diag_embed(t, -1, 0, 2), [x])
    assert ag.autograd.gradcheck(lambda t: ag.diag(t, 1), [ag.tensor(rng.standard_normal(3), requires_grad=True)])
    assert ag.autograd.gradcheck(ag.trace, [ag.tensor(rng.standard_normal((3, 3)), requires_grad=True)])


def test_diagonal_errors():
    with pytest.raises(RuntimeError, match="diagonal: dim1 and dim2"):
        ag.diagonal(ag.zeros(2, 2), 0, 1, 1)
    with pytest.raises(RuntimeError, match="trace: expected a matrix"):
        ag.trace(ag.zeros(2, 2, 2))


# ---------------------------------------------------------------------------- 10. integer promotion
def test_integer_inputs_promote_before_negation():
    u = ag.tensor([7], dtype=ag.uint8)
    assert float(ag.cosh(u)) == pytest.approx(math.cosh(7), rel=1e-6)
    assert float(ag.sinh(u)) == pytest.approx(math.sinh(7), rel=1e-6)
    assert math.isnan(float(ag.logit(ag.tensor([255], dtype=ag.uint8))))
    assert float(F.softsign(ag.tensor([255], dtype=ag.uint8))) == pytest.approx(255 / 256)
    assert float(F.logsigmoid(ag.tensor([255], dtype=ag.uint8).float())) == pytest.approx(0.0, abs=1e-6)
    assert ag.sinh(ag.tensor([True])).dtype == ag.float32


def test_atan2_gradient_with_an_integer_operand():
    x = ag.tensor([2.0, 0.5], requires_grad=True)
    y = ag.tensor([3, 200], dtype=ag.uint8)
    ag.atan2(y, x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-3 / 13, -200 / (200 ** 2 + 0.25)], rtol=1e-6)


@needs_torch
@pytest.mark.parametrize("name", ["sinh", "cosh", "tan", "log2", "log10", "exp2", "logit", "reciprocal",
                                  "rsqrt", "sigmoid", "erf", "nan_to_num", "trunc", "square"])
@pytest.mark.parametrize("dtype", ["uint8", "int32", "int64", "bool"])
def test_unary_integer_inputs_match_torch(name, dtype):
    x = np.array([0, 1, 7, 200, 255]).astype(dtype) if dtype != "bool" else np.array([True, False])
    try:
        want = getattr(torch, name)(torch.tensor(x))
    except NotImplementedError:
        # PyTorch has no trunc for bool; ours accepts it as the identity, like trunc of any integer
        assert (name, dtype) == ("trunc", "bool"), f"PyTorch lacks {name} for {dtype}: an unexpected difference"
        got = ag.trunc(ag.tensor(x))
        assert got.dtype == ag.bool and got.tolist() == x.tolist()
        return
    got = getattr(ag, name)(ag.tensor(x))
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(got.numpy().astype(np.float64), want.numpy().astype(np.float64), rtol=1e-6)


# ---------------------------------------------------------------------------- 11. embedding padding_idx
def test_embedding_negative_padding_idx_stops_the_last_rows_gradient():
    w = ag.randn(4, 3, requires_grad=True)
    F.embedding(ag.tensor([0, 3, 3]), w, padding_idx=-1).sum().backward()
    assert w.grad.numpy()[3].tolist() == [0.0, 0.0, 0.0]
    assert w.grad.numpy()[0].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("bad", [4, 7, -5])
def test_embedding_out_of_range_padding_idx_raises(bad):
    with pytest.raises(ValueError, match="padding_idx"):
        F.embedding(ag.tensor([0]), ag.randn(4, 3), padding_idx=bad)


# ---------------------------------------------------------------------------- 12 and 17: kinks and ties
KINKS = [
    ("celu", lambda m, x: m.celu(x), [-1.0, 0.0, 1.0, -100.0, 100.0]),
    ("celu_alpha2", lambda m, x: m.celu(x, 2.0), [-1.0, 0.0, 1.0]),
    ("elu", lambda m, x: m.elu(x), [-1.0, 0.0, 1.0]),
    ("relu6", lambda m, x: m.relu6(x), [-1.0, 0.0, 3.0, 6.0, 7.0]),
    ("hardtanh", lambda m, x: m.hardtanh(x), [-2.0, -1.0, 0.0, 1.0, 2.0]),
    ("hardtanh_bounds", lambda m, x: m.hardtanh(x, -0.5, 2.0), [-0.5, 2.0, 1.0]),
    ("hardsigmoid", lambda m, x: m.hardsigmoid(x), [-4.0, -3.0, 0.0, 3.0, 4.0]),
    ("hardswish", lambda m, x: m.hardswish(x), [-4.0, -3.0, 0.0, 3.0, 4.0]),
    ("leaky_relu", lambda m, x: m.leaky_relu(x, 0.1), [-1.0, 0.0, 1.0]),
    ("softshrink", lambda m, x: m.softshrink(x), [-0.5, 0.0, 0.5, 1.0]),
    ("hardshrink", lambda m, x: m.hardshrink(x), [-0.5, 0.0, 0.5, 1.0]),
    ("relu", lambda m, x: m.relu(x), [-1.0, 0.0, 1.0]),
]
KINK_EXPECTED = {"celu": [math.exp(-1), 1, 1, math.exp(-100), 1], "relu6": [0, 0, 1, 0, 0], "hardtanh": [0, 0, 1, 0, 0],
                 "hardsigmoid": [0, 0, 1 / 6, 0, 0], "hardswish": [0, 0, 0.5, 1, 1]}


@pytest.mark.parametrize("name, fn, xs", KINKS, ids=[k[0] for k in KINKS])
def test_gradient_at_kinks(name, fn, xs):
    got = grad_of(lambda x: fn(F, x), xs)[0]
    if name in KINK_EXPECTED:
        np.testing.assert_allclose(got, KINK_EXPECTED[name], rtol=1e-12)
    if torch is not None:
        # (rtol: PyTorch's float64 hardsigmoid gradient uses a float32 1/6)
        np.testing.assert_allclose(got, torch_grad_of(lambda x: fn(TF, x), xs)[0], rtol=1e-7)


def test_prelu_gradient_at_zero_is_the_weight():
    x = ag.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    w = ag.tensor([0.25], requires_grad=True)
    F.prelu(x, w).sum().backward()
    assert x.grad.tolist() == [0.25, 0.25, 1.0]
    assert w.grad.tolist() == [-1.0]


@needs_torch
@pytest.mark.parametrize("name", ["fmax", "fmin", "maximum", "minimum"])
def test_binary_extremes_ties_and_nan_match_torch(name):
    a = [1.0, 2.0, nan, 3.0, nan, -0.0]
    b = [1.0, nan, 1.0, 3.0, nan, 0.0]
    got = getattr(ag, name)(ag.tensor(a), ag.tensor(b)).numpy()
    np.testing.assert_array_equal(got, getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy())
    for x, y in zip(grad_of(getattr(ag, name), a, b), torch_grad_of(getattr(torch, name), a, b)):
        np.testing.assert_array_equal(x, y)


def test_fmax_ignores_nan():
    assert ag.fmax(ag.tensor([nan, 1.0]), ag.tensor([2.0, nan])).tolist() == [2.0, 1.0]
    assert ag.fmax(ag.tensor([1, 5]), ag.tensor([3, 2])).tolist() == [3, 5]


@needs_torch
@pytest.mark.parametrize("fn", [lambda m, x: x.median(), lambda m, x: x.max(), lambda m, x: x.amax(),
                                lambda m, x: x.reshape(2, 3).median(1)[0]])
@pytest.mark.parametrize("values", [[1.0, 2.0, 2.0, 2.0, 3.0, 0.5], [1.0, nan, 5.0, nan, 0.0, 2.0]])
def test_reduction_ties_match_torch(fn, values):
    got = grad_of(lambda x: fn(ag, x), values)[0]
    np.testing.assert_array_equal(got, torch_grad_of(lambda x: fn(torch, x), values)[0])


@needs_torch
@pytest.mark.parametrize("bounds", [(nan, 1.0), (None, nan), (-1.0, 1.0)])
def test_clamp_with_scalar_bounds_matches_torch(bounds):
    xs = [-2.0, -1.0, 0.0, 1.0, 2.0, nan]
    got = ag.tensor(xs).clamp(*bounds).numpy()
    np.testing.assert_array_equal(got, torch.tensor(xs).clamp(*bounds).numpy())
    np.testing.assert_array_equal(grad_of(lambda x: x.clamp(*bounds), xs)[0],
                                  torch_grad_of(lambda x: x.clamp(*bounds), xs)[0])


@needs_torch
def test_clamp_with_tensor_bounds_matches_torch():
    x, lo, hi = [1.0, 2.0, 3.0, 4.0, 0.0], [1.0, 3.0, 2.0, 5.0, nan], [0.0, 2.0, 2.5, 6.0, 1.0]
    got = ag.clamp(ag.tensor(x), ag.tensor(lo), ag.tensor(hi)).numpy()
    np.testing.assert_array_equal(got, torch.clamp(torch.tensor(x), torch.tensor(lo), torch.tensor(hi)).numpy())
    for a, b in zip(grad_of(ag.clamp, x, lo, hi), torch_grad_of(torch.clamp, x, lo, hi)):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------- 15. multinomial
def test_multinomial_without_replacement_needs_enough_nonzero_classes():
    with pytest.raises(RuntimeError, match="2 classes of non-zero probability"):
        ag.multinomial(ag.tensor([1.0, 0.0, 1.0]), 3, replacement=False)
    with pytest.raises(RuntimeError, match="num_samples"):
        ag.multinomial(ag.tensor([1.0, 1.0]), 0)


def test_multinomial_never_draws_a_zero_probability_class():
    ag.manual_seed(0)
    p = ag.tensor([[1.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 2.0]])
    for replacement in (True, False):
        n = 2 if not replacement else 50
        if not replacement:
            p = ag.tensor([[1.0, 0.0, 3.0, 0.0], [0.0, 1e-30, 0.0, 2.0]])
        out = ag.multinomial(p, n, replacement=replacement).numpy()
        assert (np.take_along_axis(p.numpy(), out, 1) > 0).all()
        if not replacement:
            assert all(len(set(row)) == n for row in out.tolist())
    assert tuple(ag.multinomial(ag.zeros(0, 3), 2).shape) == (0, 2)


# ---------------------------------------------------------------------------- 17. smaller differences
def test_fully_masked_attention_rows_are_zero():
    q = ag.tensor(np.random.default_rng(5).standard_normal((1, 3, 4)), requires_grad=True)
    mask = ag.tensor([[True, True], [False, False], [True, False]])
    k = ag.tensor(np.random.default_rng(6).standard_normal((1, 2, 4)))
    out = F.scaled_dot_product_attention(q, k, k, attn_mask=mask)
    assert out.detach().numpy()[0, 1].tolist() == [0.0] * 4
    out.sum().backward()
    assert np.isfinite(q.grad.numpy()).all() and q.grad.numpy()[0, 1].tolist() == [0.0] * 4
    if torch is not None:
        want = TF.scaled_dot_product_attention(torch.tensor(q.detach().numpy()), torch.tensor(k.numpy()),
                                               torch.tensor(k.numpy()), attn_mask=torch.tensor(mask.numpy()))
        np.testing.assert_allclose(out.detach().numpy(), want.numpy(), rtol=1e-12, atol=1e-15)


def test_std_of_equal_float32_values_has_a_zero_gradient():
    x = ag.tensor([345.5842] * 5, requires_grad=True)
    y = x.std()
    y.backward()
    assert float(y) == 0.0 and x.grad.tolist() == [0.0] * 5


def test_float32_std_does_not_overflow():
    assert float(ag.tensor([1e30, 0.0, 1.0]).std()) == pytest.approx(5.7735e29, rel=1e-4)
    assert float(ag.tensor([3e38, 3e38, 0.0]).std()) == pytest.approx(1.7320508e38, rel=1e-5)
    x = ag.tensor([[1e30, 0.0, 1.0]] * 2).t()
    np.testing.assert_allclose(x.std(0).numpy(), [5.7735e29] * 2, rtol=1e-4)
    assert math.isinf(float(ag.tensor([1e30, 0.0, 1.0]).var()))  # the variance itself overflows float32


@needs_torch
@pytest.mark.parametrize("pad", [(-2, 3), (3, -5), (-2, -3), (0, -3), (-12, 0)])
def test_circular_padding_with_negative_pads_matches_torch(pad):
    x = np.arange(24.0).reshape(1, 2, 12)
    got = F.pad(ag.tensor(x), pad, mode="circular")
    np.testing.assert_array_equal(got.numpy(), TF.pad(torch.tensor(x), pad, mode="circular").numpy())


def test_circular_padding_wider_than_the_cropped_part_raises():
    with pytest.raises(ValueError, match="after cropping"):
        F.pad(ag.zeros(1, 1, 12), (-11, 2), mode="circular")


def test_chunk_of_an_empty_dim_gives_empty_chunks():
    assert [tuple(c.shape) for c in ag.zeros(0, 3).chunk(2)] == [(0, 3), (0, 3)]
    assert [tuple(c.shape) for c in ag.zeros(2, 0).chunk(3, 1)] == [(2, 0)] * 3


def test_unique_keeps_each_nan():
    values, counts = ag.unique(ag.tensor([1.0, nan, nan, 1.0]), return_counts=True)
    assert values.tolist()[0] == 1.0 and all(math.isnan(v) for v in values.tolist()[1:])
    assert counts.tolist() == [2, 1, 1]


def test_no_grad_decorates_generators():
    @ag.no_grad()
    def gen():
        received = yield ag.is_grad_enabled()
        yield received, ag.is_grad_enabled()
        return "done"

    g = gen()
    assert next(g) is False
    assert ag.is_grad_enabled()
    assert g.send(3) == (3, False)
    with pytest.raises(StopIteration) as stop:
        next(g)
    assert stop.value.value == "done"

    @ag.set_grad_enabled(False)
    def plain():
        return ag.is_grad_enabled()

    assert plain() is False and ag.is_grad_enabled()


def test_element_count_overflow_is_a_runtime_error():
    with pytest.raises(RuntimeError, match="more than 2"):
        ag.zeros(2 ** 40, 2 ** 40)


# ---------------------------------------------------------------------------- found by the fuzzer
def test_numpy_scalars_keep_their_precision():
    assert ag.tensor(np.float64(0.1)).dtype == ag.float64
    assert ag.tensor(np.float32(0.1)).dtype == ag.float32
    assert ag.tensor(0.1).dtype == ag.float32


def test_sinh_cosh_are_accurate_near_zero_and_overflow():
    assert float(ag.sinh(ag.tensor([1e-8]))) == pytest.approx(1e-8, rel=1e-6)
    assert float(ag.sinh(ag.tensor([89.0]))) == pytest.approx(math.sinh(89.0), rel=1e-5)
    assert float(ag.cosh(ag.tensor([-89.0]))) == pytest.approx(math.cosh(89.0), rel=1e-5)
    assert math.isinf(float(ag.sinh(ag.tensor([90.0]))))
    x = ag.tensor(np.linspace(-3, 3, 7), requires_grad=True)
    assert ag.autograd.gradgradcheck(ag.sinh, [x]) and ag.autograd.gradgradcheck(ag.cosh, [x])


@needs_torch
@pytest.mark.parametrize("name", ["relu", "elu", "hardtanh", "celu", "softshrink", "hardshrink", "threshold"])
def test_nan_keeps_its_value_through_piecewise_functions(name):
    args = (0.5, -1.0) if name == "threshold" else ()
    xs = [nan, -2.0, 0.25, 2.0]
    got = getattr(F, name)(ag.tensor(xs), *args).numpy()
    np.testing.assert_array_equal(got, getattr(TF, name)(torch.tensor(xs), *args).numpy())


def test_logit_and_mish_gradients_outside_their_usual_range():
    assert math.isnan(grad_of(ag.logit, [1.5])[0][0])
    assert grad_of(lambda x: ag.logit(x, eps=0.1), [0.05])[0][0] == 0.0
    g = grad_of(F.mish, [3.4e38], dtype=ag.float32)[0][0]
    assert g == pytest.approx(1.0)


def test_trunc_output_requires_grad_with_a_zero_gradient():
    x = ag.tensor([1.5, -1.5], requires_grad=True)
    y = ag.trunc(x)
    assert y.tolist() == [1.0, -1.0] and y.requires_grad
    (y * 3).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_var_and_std_of_one_element_have_nan_gradients():
    for fn in (lambda t: t.var(0), lambda t: t.std(0), lambda t: t.var()):
        x = ag.tensor(2.0, requires_grad=True)
        fn(x).backward()
        assert math.isnan(float(x.grad))


def test_prod_gradient_is_the_product_of_the_others():
    x = ag.tensor([[1e30, -6e29], [2.0, 0.0]], dtype=ag.float32, requires_grad=True)
    x.prod(1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[-6e29, 1e30], [0.0, 2.0]], rtol=1e-6)
    y = ag.tensor(np.array([[1.5, 0.0, 2.0], [0.5, 3.0, -1.0]]), requires_grad=True)
    assert ag.autograd.gradcheck(lambda t: t.prod(1), [y])
    assert ag.autograd.gradgradcheck(lambda t: t.prod(1), [y])


def test_argmax_over_a_nonempty_dim_of_an_empty_tensor():
    assert tuple(ag.zeros(3, 0).argmax(0).shape) == (0,)
    with pytest.raises(RuntimeError, match="argmax"):
        ag.zeros(3, 0).argmax(1)


def test_cumsum_of_integers_is_int64():
    assert ag.tensor([200, 100], dtype=ag.uint8).cumsum(0).tolist() == [200, 300]
    assert ag.tensor(5, dtype=ag.uint8).cumsum(0).dtype == ag.int64


def test_cat_promotes_over_skipped_empty_tensors():
    out = ag.cat([ag.zeros(0, dtype=ag.bool), ag.tensor([1, 2], dtype=ag.uint8)])
    assert out.dtype == ag.uint8
    x = ag.zeros(0, requires_grad=True)
    y = F.pad(x, (1, 0))
    assert y.requires_grad
    y.sum().backward()
    assert tuple(x.grad.shape) == (0,)


def test_matmul_backward_with_an_empty_batch():
    a = ag.zeros(3, 0, 1, requires_grad=True)
    b = ag.zeros(1, 0, requires_grad=True)
    (a @ b).sum().backward()
    assert tuple(a.grad.shape) == (3, 0, 1) and b.grad.tolist() == [[]]


def test_integer_division_by_zero_is_not_checked_for_empty_outputs():
    assert tuple(ag.fmod(ag.zeros(1, 0, 1, dtype=ag.int64), ag.tensor([0, 1])).shape) == (1, 0, 2)
    with pytest.raises(ZeroDivisionError):
        ag.remainder(ag.tensor([1]), ag.tensor([0]))


def test_div_gradient_does_not_overflow_through_b_squared():
    a = ag.tensor([1e-200], dtype=ag.float64, requires_grad=True)
    b = ag.tensor([1e-200], dtype=ag.float64, requires_grad=True)
    (a / b).sum().backward()
    assert float(b.grad) == pytest.approx(-1e200)


# ------------------------------------------------------- the last fuzz mismatches (issue 12, session 5)
@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
@pytest.mark.parametrize("layout", ["contiguous", "expanded", "transposed"])
def test_layer_and_group_norm_of_equal_values_are_exactly_zero(dtype, layout):
    # the rounded mean of equal values can be an ulp off (5 x -1.1085128 in float32 gave -3.8e-5)
    rng = np.random.default_rng(3)
    for v in [-1.1085127592086792, 0.12573022, -218.79166, 1e-3, 3.7e4]:
        for n in (5, 12, 23, 1000):
            base = ag.full((n,), v, dtype=dtype)
            x = {"contiguous": base.reshape(1, 1, n).expand(2, 3, n).contiguous(),
                 "expanded": base.expand(2, 3, n),
                 "transposed": base.expand(3, 2, n).contiguous().transpose(0, 1)}[layout]
            w, b = ag.tensor(rng.standard_normal(n), dtype=dtype), ag.zeros(n, dtype=dtype)
            assert not F.layer_norm(x, (n,)).numpy().any(), (v, n)
            assert not F.layer_norm(x, (n,), w, b).numpy().any(), (v, n)
            assert not F.layer_norm(x, (3, n)).numpy().any(), (v, n)
            assert not F.group_norm(x.reshape(2, 3 * n, 1)[:, :, 0].reshape(2, 3, n), 3).numpy().any(), (v, n)
    xr = ag.full((2, 5), -1.1085127592086792, dtype=dtype, requires_grad=True)
    F.layer_norm(xr, (5,)).sum().backward()
    assert not xr.grad.numpy().any()


def test_layer_norm_with_the_refined_mean_keeps_its_gradients():
    rng = np.random.default_rng(4)
    x = ag.tensor(rng.standard_normal((3, 4, 5)), requires_grad=True)
    w = ag.tensor(rng.standard_normal(5), requires_grad=True)
    b = ag.tensor(rng.standard_normal(5), requires_grad=True)
    assert ag.autograd.gradcheck(lambda x, w, b: F.layer_norm(x, (5,), w, b), (x, w, b))
    assert ag.autograd.gradgradcheck(lambda x, w, b: F.layer_norm(x, (5,), None, b) * w, (x, w, b))
    g = ag.tensor(rng.standard_normal((2, 6, 3)), requires_grad=True)
    assert ag.autograd.gradcheck(lambda g: F.group_norm(g, 3), (g,))


def _conv_grads(x, w, b, gy, stride, padding, dilation, groups, modes):
    """conv2d's output and gradients with _core.conv_set_direct / conv_set_winograd set to modes."""
    od, ow = ag._core.conv_set_direct(modes[0]), ag._core.conv_set_winograd(modes[1])
    try:
        xs = [ag.tensor(v, requires_grad=True) for v in (x, w, b)]
        y = F.conv2d(*xs, stride, padding, dilation, groups)
        return [y.detach().numpy()] + [t.numpy() for t in ag.autograd.grad([y], xs, [ag.tensor(gy)])]
    finally:
        ag._core.conv_set_direct(od)
        ag._core.conv_set_winograd(ow)


def _same_nonfinite(a, b, rtol):
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.isposinf(a), np.isposinf(b))
    np.testing.assert_array_equal(np.isneginf(a), np.isneginf(b))
    fin = np.isfinite(b)
    np.testing.assert_allclose(a[fin], b[fin], rtol=rtol, atol=rtol * max(1.0, np.abs(b[fin]).max(initial=0)))


# (x shape, w shape, stride, padding, dilation, groups): Winograd-able 3x3, depthwise with padding, the
# stride-1 data gradient through a zero-padded grad_out, and a strided one
_NONFINITE_CONVS = [((2, 3, 8, 8), (4, 3, 3, 3), 1, 1, 1, 1), ((1, 2, 8, 10), (4, 1, 3, 3), 1, (0, 1), 1, 2),
                    ((1, 3, 9, 7), (5, 3, 3, 3), 1, 0, 1, 1), ((2, 2, 7, 9), (6, 2, 2, 3), 2, 1, (1, 2), 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("where", ["x", "w", "gy"])
@pytest.mark.parametrize("case", _NONFINITE_CONVS, ids=str)
def test_conv_algorithms_agree_on_inf_and_nan(case, where, dtype):
    # Winograd's tile transforms (inf - inf), the depthwise loops that skip padding and the data gradient
    # through a zero-padded grad_out (inf * 0) used to put NaN where im2col + GEMM, the plain sum, has none
    xs, ws, stride, padding, dilation, groups = case
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    y = F.conv2d(ag.tensor(x), ag.tensor(w), None, stride, padding, dilation, groups)
    gy = rng.standard_normal(tuple(y.shape)).astype(dtype)
    target = {"x": x, "w": w, "gy": gy}[where]
    target[tuple(s // 2 for s in target.shape)] = np.inf
    target.reshape(-1)[1] = np.nan if where != "w" else -np.inf
    plain = _conv_grads(x, w, b, gy, stride, padding, dilation, groups, (1, 1))
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for modes in [(0, 0), (2, 1), (0, 2), (2, 2)]:
        for got, want in zip(_conv_grads(x, w, b, gy, stride, padding, dilation, groups, modes), plain):
            _same_nonfinite(got, want, rtol)
    if torch is not None:  # the plain sum is PyTorch's too once oneDNN is off (and its float64 path)
        with torch.backends.mkldnn.flags(enabled=False):
            ts = [torch.tensor(v, requires_grad=True) for v in (x, w, b)]
            yt = TF.conv2d(*ts, stride, padding, dilation, groups)
            want = [yt.detach().numpy()] + [t.numpy() for t in torch.autograd.grad(yt, ts, torch.tensor(gy))]
        for got, ref in zip(plain, want):
            _same_nonfinite(got, ref, rtol)


@pytest.mark.parametrize("at", [(3, 5, 9, 4), (3, 5, 11, 11), (2, 0, 0, 0)], ids=str)
@pytest.mark.parametrize("where", ["x", "gy"])
def test_winograd_declines_an_inf_found_in_a_late_chunk(where, at):
    # Winograd looks for inf / NaN while it transforms its input (x, or grad_out for the data gradient), one
    # chunk of tile rows at a time (each tile row checks the two input rows the next one does not read
    # again; an image's last checks all four); an inf in a later image is found after earlier chunks have
    # written their outputs, and the whole result must still be the plain sum's
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 8, 12, 12)).astype(np.float32)
    w, b = rng.standard_normal((8, 8, 3, 3)).astype(np.float32), rng.standard_normal(8).astype(np.float32)
    gy = rng.standard_normal((4, 8, 12, 12)).astype(np.float32)
    {"x": x, "gy": gy}[where][at] = np.inf
    plain = _conv_grads(x, w, b, gy, 1, 1, 1, 1, (1, 1))
    old = ag._core.conv_set_workspace_limit(64 << 10)  # chunks of a few tile rows
    try:
        wino = _conv_grads(x, w, b, gy, 1, 1, 1, 1, (0, 2))
    finally:
        ag._core.conv_set_workspace_limit(old)
    for got, want in zip(wino, plain):
        _same_nonfinite(got, want, 1e-4)
    assert not np.isfinite(wino[0 if where == "x" else 1]).all()


def test_conv1d_input_gradient_beside_an_infinite_weight_is_finite():
    # the fuzz case: length 3, kernel 3, stride 2; input 0 is read only through w[..., 0]
    x = ag.tensor([[[-0.64, 3.0, 0.32]], [[-0.81, -0.35, 0.58]]], requires_grad=True)
    w = ag.tensor([[[0.19, -0.53, -1.19]], [[0.98, -0.90, inf]]], requires_grad=True)
    F.conv1d(x, w, stride=2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[:, 0, :2], [[0.19 + 0.98, -0.53 - 0.90]] * 2, rtol=1e-6)
    assert np.isposinf(x.grad.numpy()[:, 0, 2]).all()


def test_reflect_pad_cropped_to_nothing_has_a_zero_gradient():
    x = ag.tensor(np.random.default_rng(6).standard_normal((2, 4, 2, 4)), dtype=ag.float32, requires_grad=True)
    y = F.pad(x, (3, 1, 0, -2, 3, 2), mode="reflect")
    assert tuple(y.shape) == (2, 9, 0, 8)
    y.sum().backward()
    assert x.grad.shape == x.shape and not x.grad.numpy().any()
    for mode in ("replicate", "circular"):
        x.grad = None
        F.pad(x, (1, 1, -1, -1), mode=mode).sum().backward()
        assert not x.grad.numpy().any()


def _exact_prod(x, dim):
    return np.prod(np.asarray(x, dtype=np.longdouble), axis=dim)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prod_is_exact_where_partial_products_overflow_or_underflow(dtype):
    rows = np.array([[1.0, -2.8957686, 3.4e38, 9.9999461e-41], [1.8862959, 3.4e38, -0.066165432, -0.0],
                     [-1.0, 3.4e38, -1.9624766, 0.23298274], [1e30, -1e30, 1.485198, 0.0]], dtype=dtype)
    got = ag.tensor(rows).prod(1).numpy()
    want = _exact_prod(rows, 1).astype(dtype)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.isfinite(got).all()


def test_prod_gradient_is_the_exact_product_of_the_others():
    # the fuzz cases: an underflowed product, a NaN beside a finite value, an inf beside a huge value
    rows = np.array([[1e-300, 5e-324], [nan, 1.737], [inf, -3.655862e38], [2.0, 3.0]])
    x = ag.tensor(rows, requires_grad=True)
    x.prod(1).sum().backward()
    want = rows[:, ::-1]  # with two elements, each one's gradient is the other
    np.testing.assert_array_equal(x.grad.numpy(), want)
    if torch is not None:  # PyTorch divides the product by the element: 0, NaN and NaN here
        t = torch.tensor(rows, requires_grad=True)
        t.prod(1).sum().backward()
        assert t.grad[0, 0] == 0 and t.grad[1, 1] != t.grad[1, 1] and t.grad[2, 0] != t.grad[2, 0]


def test_attention_with_overflowing_score_terms_follows_its_own_matmul():
    # q . k has terms of +-1e329: the score is inf or NaN by the order of the sum (fused multiply-adds
    # here, -inf where PyTorch gets NaN); the result is softmax(scores) @ v for those scores, a fully
    # masked row giving 0
    q = ag.tensor([[[-6.518e29, -1.747e29, 1.664e30], [1e300, -1.641e30, 1e300], [-6.235e29, 1e300, -inf]],
                   [[2.418e29, 1e300, 1.576e30], [1e300, 5.105e29, -1.493e30], [2.253e30, 3.0, 1.102e30]]],
                  dtype=ag.float64)
    mask = ag.tensor([[True, True, False], [False, False, False], [False, True, True]])
    k = q * 0.5
    got = F.scaled_dot_product_attention(q, k, q, attn_mask=mask).numpy()
    scores = (q @ k.transpose(-2, -1)) * (1 / math.sqrt(3)) + ag.where(mask, 0.0, -inf)
    dead = (scores == -inf).all(-1, keepdim=True)
    want = ((scores.masked_fill(dead, 0.0).softmax(-1) @ q).masked_fill(dead, 0.0)).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=1e-12)
    # a row whose scores are all -inf (fully masked) gives 0; one whose score is NaN gives NaN
    assert np.isfinite(got[0, 0, :2]).all()


@pytest.mark.parametrize("dtypes", [(ag.float32, ag.float64), (ag.float64, ag.float32)])
def test_mixed_dtype_cosine_similarity_is_accurate_to_float64(dtypes):
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((4, 2, 5)), np.float64(-0.07883150471845854)
    x1 = ag.tensor(a, dtype=dtypes[0], requires_grad=True)
    x2 = ag.tensor(b, dtype=dtypes[1], requires_grad=True)
    got = F.cosine_similarity(x1, x2, dim=1, eps=1e-3)
    assert got.dtype == ag.float64
    a64 = x1.detach().numpy().astype(np.float64)
    b64 = np.broadcast_to(np.float64(x2.detach().numpy()), a.shape)
    want = (a64 * b64).sum(1) / np.linalg.norm(a64, axis=1) / np.linalg.norm(b64, axis=1)
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-13)
    got.sum().backward()
    assert x1.grad.dtype == dtypes[0] and x2.grad.dtype == dtypes[1]


@pytest.mark.parametrize("shape,offset,dim1,dim2", [((0, 4, 3), -1, -3, -2), ((2, 0, 2), 1, 0, 2),
                                                     ((0, 5, 3, 4), -1, 2, 1), ((3, 0, 4), 3, -3, 2)])
def test_diagonal_and_diag_embed_of_empty_tensors(shape, offset, dim1, dim2):
    # the diagonal's start offset lay past the empty storage, which as_strided rightly refused
    x = ag.zeros(shape, requires_grad=True)
    d = ag.diagonal(x, offset, dim1, dim2)
    d.sum().backward()
    assert x.grad.shape == x.shape
    e = ag.diag_embed(ag.zeros(shape), offset, dim1, dim2)
    if torch is not None:
        assert tuple(d.shape) == tuple(torch.diagonal(torch.zeros(shape), offset, dim1, dim2).shape)
        assert tuple(e.shape) == tuple(torch.diag_embed(torch.zeros(shape), offset, dim1, dim2).shape)


def test_float32_var_and_std_of_equal_values_are_exactly_zero():
    # (their mean is summed in float64, exact for equal values; PyTorch's float32 var of 3 x -1e30 is inf)
    for v in (-0.00156608, -1e30, 3.0e38, 1.1e-38):
        for n in (3, 7, 1000):
            x = ag.full((n,), v, dtype=ag.float32, requires_grad=True)
            assert x.var().item() == 0.0 and x.std().item() == 0.0
            x.std().backward()
            assert not x.grad.numpy().any()



def _sum_layouts(a):
    """a (2-D float32) as the reductions meet it: contiguous, transposed and sliced (step 2)."""
    big = np.zeros((a.shape[0], 2 * a.shape[1]), a.dtype)
    big[:, ::2] = a
    t = ag.tensor(np.ascontiguousarray(a.T)).t()
    return [(ag.tensor(a), a), (t, a), (ag.tensor(big)[:, ::2], a), (ag.tensor(a).t(), a.T)]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (NumPy's reference meets the same infinities)
def test_float32_sum_is_nan_only_for_a_nan_or_both_infinities(target, threads):
    # Float blocks overflowed: 3.4e38 + 3.4e38 became +inf and met the -inf as NaN, where the sum is
    # -inf (the finite values' true sum is finite); PyTorch's float32 sum gives NaN or -inf by order.
    # A non-finite float32 result is now summed again in double: the row, column and chunked paths,
    # every SIMD tier and thread count give NaN only for a NaN or both infinities.
    from autograd_core import _core

    big = 3.4e38
    small = np.array([[big, 1.0, -big], [big, 2.0, big], [-inf, 3.0, 0.5]], np.float32)
    rng = np.random.default_rng(3)
    long_rows = rng.standard_normal((3, 70_000)).astype(np.float32)  # three chunks of the row path
    long_rows[:, [100, 40_000, 69_000]] = big
    long_rows[0, 50_000] = -inf
    long_rows[1, 69_999] = inf
    long_rows[1, 10] = -inf  # row 1: both infinities
    long_rows[2, 5] = -big
    for nt in (1, 2):
        _core.set_num_threads(nt)
        for a in (small, long_rows, np.ascontiguousarray(long_rows[:, :1500].T)):
            for t, ref in _sum_layouts(a):
                exact = ref.astype(np.float64)
                for fn in ("sum", "mean"):
                    for dim in (None, 0, 1):
                        got = getattr(t, fn)() if dim is None else getattr(t, fn)(dim)
                        want = getattr(exact, fn)(axis=dim).astype(np.float32)
                        got, msg = got.numpy(), f"{fn} dim={dim} {nt} threads"
                        finite = np.isfinite(want)
                        np.testing.assert_array_equal(got[~finite], want[~finite], err_msg=msg)
                        # (finite sums: float32's rounding, relative to the sum of the magnitudes)
                        bound = 1e-6 * getattr(np.abs(exact), fn)(axis=dim)
                        assert np.all(np.abs(got - want)[finite] <= np.broadcast_to(bound, want.shape)[finite]), msg
    assert float(ag.tensor(small).sum(0)[0]) == -inf and math.isnan(float(ag.tensor(long_rows).sum(1)[1]))
    assert float(ag.tensor(small).sum(1)[1]) == inf  # big + 2 + big overflows float32, as it should



@pytest.mark.parametrize("layout", ["expanded", "contiguous"])
def test_float32_var_gradient_of_equal_values_is_exactly_zero(layout):
    # var's backward took the mean as a float32 sum of x / n: equal values left a residue (-4e-8 for
    # 3 x -1.776) and 3 x 3.4e38 overflowed (PyTorch: -inf there, -1.2e22 for 3 x -1e30). It is now
    # summed in float64 like the forward's, so the deviations and the gradient are exactly 0; a
    # slice holding inf still gives NaN.
    row = np.array([-1.7761811, 3.4e38, -1e30, 0.72164, inf, 1e-40], np.float32)
    base = ag.tensor(row[None], requires_grad=True)
    x = base.expand(3, 6) if layout == "expanded" else base * ag.ones(3, 1)
    g = ag.tensor(np.random.default_rng(0).standard_normal(6).astype(np.float32))
    x.var(0).backward(g)
    got = base.grad.numpy()[0]
    assert got[:4].tolist() == [0.0] * 4 and got[5] == 0.0 and math.isnan(got[4])
    y = ag.tensor(np.stack([row[:4]] * 5), requires_grad=True)
    y.var(0, correction=0).sum().backward()
    assert not y.grad.numpy().any()



@pytest.mark.parametrize("dtype,tiny", [(ag.float32, 1e-40), (ag.float64, 5e-324)])
def test_norm_of_values_whose_squares_underflow(dtype, tiny):
    # documented (norm-underflow): four stride-0 copies of a subnormal have norm 2 |x| and the gradient
    # x / norm = 1/2 each; PyTorch's squares underflow to 0, so its norm and gradient are 0
    base = ag.tensor([tiny], dtype=dtype, requires_grad=True)
    x = base.expand(4)
    y = x.norm()
    assert float(y) == pytest.approx(2 * tiny, rel=1e-6 if dtype == ag.float32 else 0.5)
    (gx,) = ag.autograd.grad([y], [x], [ag.tensor(1.0, dtype=dtype)], retain_graph=True)
    assert gx.tolist() == [0.5] * 4
    y.backward()
    assert base.grad.tolist() == [2.0]
    if torch is not None:
        t = torch.tensor([tiny], dtype=getattr(torch, str(dtype).split(".")[-1])).expand(4)
        assert float(t.norm()) == 0.0  # (the difference the page documents)
    # a subnormal norm holds few bits (two copies of 5e-324: the norm rounds to 5e-324 itself); the
    # gradient x / norm must not take that error: 1 / sqrt(2) each (it gave 1, 41% high)
    two = ag.tensor([[tiny, 3.0]], dtype=dtype, requires_grad=True)
    y = two.expand(2, 2).norm(dim=0)
    y.backward(ag.tensor([1.0, 1.0], dtype=dtype))
    assert two.grad.numpy()[0] == pytest.approx([math.sqrt(2), math.sqrt(2)], rel=1e-6)


def test_cosine_similarity_gradient_of_a_broadcast_scale_is_rounding_noise():
    # documented (broadcast-rounding): the cosine does not depend on b's scale, so d/db is 0; its ten
    # terms add up to 8.9e4 in magnitude, and float32 gives a few units of 2^-7 there (ours -2^-6,
    # PyTorch -0.0107); float64 gives ~3e-11 in both
    a = np.array([-1.2313031e-05, -2.4656404e-04], np.float32).reshape(1, 2, 1)
    b = np.array([-2.3329758e-05], np.float32).reshape(1, 1, 1)
    g = np.array([-0.17817643, -1.1882489, -0.43687865, -0.6441871, -0.6475791], np.float32).reshape(5, 1)
    grads = {}
    for dtype in (ag.float32, ag.float64):
        ta = ag.tensor(a, dtype=dtype, requires_grad=True)
        tb = ag.tensor(b, dtype=dtype, requires_grad=True)
        F.cosine_similarity(ta.expand(5, 2, 1), tb, dim=-2).backward(ag.tensor(g, dtype=dtype))
        grads[dtype] = float(tb.grad)
    assert abs(grads[ag.float64]) < 1e-9
    assert abs(grads[ag.float32]) <= 4 * 2.0**-7  # a few units in the last place of the terms' scale



def test_float64_var_and_std_of_equal_values_are_exactly_zero(target):
    # sum / n missed the value by an ulp for about a quarter of values, and std's gradient at that
    # residue was noise of order 1 (0.08 for three copies of -0.00156608; PyTorch's too): the mean is
    # now retried, moved by the rms deviation, when the deviations are within a few ulps
    rng = np.random.default_rng(11)
    values = rng.standard_normal(300) * 10.0 ** rng.integers(-100, 100, 300)
    for n in (2, 3, 7, 100):
        m = np.repeat(values[:, None], n, axis=1)
        for t, dim in ((ag.tensor(m), 1), (ag.tensor(np.ascontiguousarray(m.T)), 0)):  # row and column paths
            assert not t.var(dim).numpy().any() and not t.std(dim).numpy().any()
    x = ag.tensor([-0.00156608] * 3, dtype=ag.float64, requires_grad=True)
    x.std().backward()
    assert float(x.std()) == 0.0 and x.grad.tolist() == [0.0] * 3
    # values a few ulps apart keep a variance at least as close to the exact one as the plain mean's
    b = 1.0 + np.array([0, 1, 2, 3, 1, 0]) * 2.0**-52
    exact = float(np.var(b.astype(np.longdouble), ddof=1))
    assert 0 < exact <= float(ag.tensor(b).var()) <= 1.05 * exact
    a = rng.standard_normal((40, 9))
    np.testing.assert_allclose(ag.tensor(a).std(0).numpy(), a.std(0, ddof=1), rtol=1e-13)



def test_float32_var_gradient_beside_an_infinity_follows_the_float64_mean():
    # documented (overflow-order): the mean of [3.4e38, 3.4e38, -inf, 1] is -inf, so var's gradient is
    # +inf at the finite elements and NaN at the -inf; PyTorch's float32 mean overflows 3.4e38 + 3.4e38
    # to inf, meets the -inf as NaN and gives NaN everywhere
    x = ag.tensor([3.4e38, 3.4e38, -inf, 1.0], requires_grad=True)
    y = x.var()
    assert math.isnan(float(y))
    y.backward()
    got = x.grad.numpy()
    assert got[[0, 1, 3]].tolist() == [inf] * 3 and math.isnan(got[2])



def test_attention_scales_the_query_before_its_products_overflow():
    # q . k = 2.1 * 1.7e38 overflowed float32 before the 1/sqrt(3) scale, and the inf score made the row
    # NaN; scaled first (as PyTorch does) the score is 2.1e38, finite, and takes all the weight
    q = ag.tensor([[[2.0963540, 0.0321233, -0.3344986], [3.4e38, 0.0, -0.0660785]]], requires_grad=True)
    out = F.scaled_dot_product_attention(q, q * 0.5, q)
    assert out.detach().numpy()[0, 0].tolist() == q.detach().numpy()[0, 1].tolist()
    if torch is not None:
        tq = torch.tensor(q.detach().numpy())
        want = TF.scaled_dot_product_attention(tq, tq * 0.5, tq)
        np.testing.assert_array_equal(out.detach().numpy(), want.numpy())


@needs_torch
def test_the_last_fuzz_mismatches_are_fixed_or_documented():
    pytest.importorskip("hypothesis")
    from tests import fuzz

    cases = [
        {"op": "conv1d", "shapes": [(2, 1, 3), (2, 1, 3)], "dtypes": ["float32", "float32"],
         "layouts": ["sliced", "sliced"], "special": "some", "scale": 1.0, "ints": "small",
         "params": {"stride": 2, "padding": 0, "dilation": 1}, "seed": 7789},
        {"op": "cosine_similarity", "shapes": [(4, 2, 5), ()], "dtypes": ["float32", "float64"],
         "layouts": ["contiguous", "expanded"], "special": "none", "scale": 1.0, "ints": "full",
         "params": {"dim": 1, "eps": 0.001}, "seed": 3112618},
        {"op": "layer_norm", "shapes": [(5,)], "dtypes": ["float32"], "layouts": ["expanded"], "special": "none",
         "scale": 1.0, "ints": "small", "params": {}, "seed": 75},
        {"op": "pad", "shapes": [(2, 4, 2, 4)], "dtypes": ["float32"], "layouts": ["contiguous"],
         "special": "none", "scale": 1000.0, "ints": "full", "params": {"pad": (3, 1, 0, -2, 3, 2),
                                                                         "mode": "reflect"}, "seed": 31977},
        {"op": "prod", "shapes": [(5, 2)], "dtypes": ["float64"], "layouts": ["sliced"], "special": "many",
         "scale": 1.0, "ints": "small", "params": {"dim": -1, "keepdim": False}, "seed": 485411},
        {"op": "prod", "shapes": [(3, 5, 4)], "dtypes": ["float64"], "layouts": ["transposed"], "special": "some",
         "scale": 1.0, "ints": "small", "params": {"dim": 0, "keepdim": False}, "seed": 757085},
        {"op": "prod", "shapes": [(4, 4, 4, 4)], "dtypes": ["float32"], "layouts": ["reversed"], "special": "many",
         "scale": 1.0, "ints": "full", "params": {"dim": 0, "keepdim": False}, "seed": 14887},
        {"op": "sdpa", "shapes": [(2, 3, 3), (3, 3)], "dtypes": ["float64", "float64"],
         "layouts": ["reversed", "reversed"], "special": "many", "scale": 1e30, "ints": "small", "params": {},
         "seed": 4},
        {"op": "diag_embed", "shapes": [(0, 4, 3)], "dtypes": ["bool"], "layouts": ["reversed"], "special": "none",
         "scale": 0.001, "ints": "small", "params": {"offset": -1, "dim1": -3, "dim2": -2}, "seed": 3867143},
        {"op": "std", "shapes": [(3,)], "dtypes": ["float64"], "layouts": ["expanded"], "special": "some",
         "scale": 0.001, "ints": "small", "params": {}, "seed": 147},
        {"op": "var", "shapes": [(3,)], "dtypes": ["float32"], "layouts": ["expanded"], "special": "some",
         "scale": 1.0, "ints": "small", "params": {"dim": 0, "keepdim": True}, "seed": 251},
        # session 6: float32 sums through a -inf and overflowing partial sums (fixed), var/std gradients
        # in slices of equal values beside inf and NaN (var: fixed; float64 std: documented), a
        # cancelling broadcast gradient and norms of subnormals (documented)
        {"op": "sum", "shapes": [(4, 2, 4)], "dtypes": ["float32"], "layouts": ["sliced"], "special": "many",
         "scale": 1e30, "ints": "small", "params": {}, "seed": 17260},
        {"op": "var", "shapes": [(3, 1, 3, 3)], "dtypes": ["float32"], "layouts": ["expanded"], "special": "many",
         "scale": 1.0, "ints": "small", "params": {"dim": 0, "keepdim": False}, "seed": 32697},
        {"op": "var", "shapes": [(3, 3, 3, 3)], "dtypes": ["float32"], "layouts": ["expanded"], "special": "many",
         "scale": 1.0, "ints": "small", "params": {"dim": 0, "keepdim": False}, "seed": 32697},
        {"op": "std", "shapes": [(5, 5, 4, 1)], "dtypes": ["float64"], "layouts": ["expanded"], "special": "some",
         "scale": 1.0, "ints": "small", "params": {"dim": 0, "keepdim": False}, "seed": 1},
        {"op": "cosine_similarity", "shapes": [(5, 2, 1), (1, 1, 1)], "dtypes": ["float32", "float32"],
         "layouts": ["expanded", "contiguous"], "special": "none", "scale": 0.001, "ints": "small",
         "params": {"dim": -2, "eps": 1e-08}, "seed": 12351330},
        {"op": "norm", "shapes": [(4,)], "dtypes": ["float32"], "layouts": ["expanded"], "special": "some",
         "scale": 1.0, "ints": "small", "params": {}, "seed": 947},
        {"op": "norm", "shapes": [(4,)], "dtypes": ["float64"], "layouts": ["expanded"], "special": "many",
         "scale": 1.0, "ints": "full", "params": {}, "seed": 369},
        {"op": "norm", "shapes": [(2,)], "dtypes": ["float64"], "layouts": ["expanded"], "special": "many",
         "scale": 1000.0, "ints": "full", "params": {"dim": 0, "keepdim": True}, "seed": 2120},
        {"op": "var", "shapes": [(3, 5, 3)], "dtypes": ["float32"], "layouts": ["sliced"], "special": "many",
         "scale": 1000.0, "ints": "small", "params": {}, "seed": 5},
        {"op": "sdpa", "shapes": [(2, 4, 3), (4, 4)], "dtypes": ["float32", "float32"],
         "layouts": ["reversed", "contiguous"], "special": "some", "scale": 1.0, "ints": "small", "params": {},
         "seed": 4636960},
    ]
    tally = fuzz.Tally()
    for case in cases:
        tally.add(case, *fuzz.run_case(case))
    assert tally.failures() == 0, [(c["op"], ex) for (c_op, _), exs in tally.examples.items() for c, ex in exs]
