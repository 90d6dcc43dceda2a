"""Tensor printing (autograd_core/_format.py): PyTorch's format.

Fixed expected strings run without torch; with torch installed, reprs are compared with torch's over a broad
parametrised set and a seeded random sample (dtype names: 'torch.' -> 'autograd_core.'; grad_fn names:
torch's 'MulBackward0' is our 'MulBackward')."""
import numpy as np
import pytest

import autograd_core as ag

try:
    import torch
except ImportError:  # the comparisons with torch are skipped
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
nan, inf = float("nan"), float("inf")


# ------------------------------------------------------------------------------------------ without torch
EXPECTED = [
    (lambda: ag.tensor([1.0, 2.5, -3.0]), "tensor([ 1.0000,  2.5000, -3.0000])"),
    (lambda: ag.tensor(3.25), "tensor(3.2500)"),
    (lambda: ag.tensor([True, False]), "tensor([ True, False])"),
    (lambda: ag.tensor([1e-5, 1e5]), "tensor([1.0000e-05, 1.0000e+05])"),
    (lambda: ag.tensor([[1.0, 2.0], [3.0, -4.0]]), "tensor([[ 1.,  2.],\n        [ 3., -4.]])"),
    (lambda: ag.tensor([nan, inf, -inf, 1.5]), "tensor([   nan,    inf,   -inf, 1.5000])"),
    (lambda: ag.tensor(-0.0), "tensor(-0.)"),
    (lambda: ag.tensor([], dtype=ag.int64), "tensor([], dtype=autograd_core.int64)"),
    (lambda: ag.zeros(2, 0), "tensor([], size=(2, 0))"),
    (lambda: ag.tensor([1, -20, 300]), "tensor([  1, -20, 300])"),
    (lambda: ag.tensor(np.arange(2000.0, dtype=np.float32).reshape(2, 1000)),
     ("tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.9700e+02, 9.9800e+02,\n"
      "         9.9900e+02],\n"
      "        [1.0000e+03, 1.0010e+03, 1.0020e+03,  ..., 1.9970e+03, 1.9980e+03,\n"
      "         1.9990e+03]])")),
    (lambda: ag.tensor(np.arange(12.0, dtype=np.float32).reshape(2, 2, 3) / 4),
     ("tensor([[[0.0000, 0.2500, 0.5000],\n         [0.7500, 1.0000, 1.2500]],\n\n"
      "        [[1.5000, 1.7500, 2.0000],\n         [2.2500, 2.5000, 2.7500]]])")),
    (lambda: ag.tensor([1.5, 2.5], dtype=ag.float64, requires_grad=True),
     "tensor([1.5000, 2.5000], dtype=autograd_core.float64, requires_grad=True)"),
    (lambda: ag.tensor(np.arange(30.0, dtype=np.float32) / 3),
     ("tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,\n"
      "        3.0000, 3.3333, 3.6667, 4.0000, 4.3333, 4.6667, 5.0000, 5.3333, 5.6667,\n"
      "        6.0000, 6.3333, 6.6667, 7.0000, 7.3333, 7.6667, 8.0000, 8.3333, 8.6667,\n"
      "        9.0000, 9.3333, 9.6667])")),
    (lambda: ag.tensor([1.5, 2.0], requires_grad=True) * 2, "tensor([3., 4.], grad_fn=<MulBackward>)"),
]


@pytest.mark.parametrize("i", range(len(EXPECTED)))
def test_expected_strings(i):
    make, want = EXPECTED[i]
    t = make()
    assert repr(t) == want
    assert str(t) == want


def test_summarised_large_tensor():
    x = ag.tensor(np.arange(1_000_000, dtype=np.int64).reshape(1000, 1000))
    lines = repr(x).split("\n")
    assert lines[0] == "tensor([[     0,      1,      2,  ...,    997,    998,    999],"
    assert lines[3] == "        ...,"
    assert lines[-1] == "        [999000, 999001, 999002,  ..., 999997, 999998, 999999]])"
    assert len(lines) == 7
    # 1001 elements summarise, 1000 do not
    assert "..." in repr(ag.zeros(1001)) and "..." not in repr(ag.zeros(1000))


# ------------------------------------------------------------------------------------------ against torch
def torch_repr(t):
    return repr(t).replace("torch.", "autograd_core.").replace("Backward0>", "Backward>")


DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "bool": np.bool_}

rng0 = np.random.default_rng(1234)
VALUES = {
    "scalar": np.array(2.75),
    "scalar_int": np.array(-7.0),
    "scalar_tiny": np.array(3e-9),
    "scalar_nan": np.array(nan),
    "neg_zero": np.array([-0.0, 0.0, 1.0]),
    "neg_zero_frac": np.array([-0.0, 2.5]),
    "vec": np.array([1.0, 2.5, -3.0]),
    "vec_int": np.array([1.0, -20.0, 300.0]),
    "vec_sci_ratio": np.array([1e-2, 20.0, 1e3]),
    "vec_sci_small": np.array([5e-5, 0.5]),
    "vec_sci_big": np.array([1.5e8, 3.0]),
    "int_1e8": np.array([1e8, 1.0]),
    "ratio_1000": np.array([1000.0, 1.0]),
    "ratio_1001": np.array([1001.0, 1.0]),
    "rounds_wider": np.array([9.99996, 1.5]),
    "nan_inf": np.array([nan, inf, -inf, 1.5, -2.0]),
    "nan_only": np.array([nan, nan]),
    "inf_int": np.array([inf, 1.0, -3.0]),
    "nan_sci": np.array([1e-5, nan]),
    "zeros": np.zeros(4),
    "mat": rng0.standard_normal((3, 4)),
    "mat_wide": rng0.standard_normal((3, 17)) * 100,
    "mat_int": rng0.integers(-50, 50, (4, 5)).astype(np.float64),
    "mat_mixed": rng0.standard_normal((5, 3)) * 10.0 ** rng0.integers(-8, 8, (5, 3)),
    "cube": rng0.standard_normal((2, 3, 4)),
    "four_d": rng0.standard_normal((2, 1, 2, 3)),
    "long_vec": rng0.standard_normal(97),
    "long_int_vec": rng0.integers(-10**9, 10**9, 60).astype(np.float64),
    "empty": np.zeros(0),
    "empty_2d": np.zeros((2, 0)),
    "empty_3d": np.zeros((0, 3, 1)),
    "big_1d": rng0.standard_normal(1001),
    "big_2d": rng0.standard_normal((1000, 1000)),
    "big_3d": rng0.standard_normal((10, 11, 12)) * 1e4,
    "big_tall": rng0.standard_normal((2000, 2)),
    "big_with_nan": np.where(rng0.random((40, 40)) < 0.3, nan, rng0.standard_normal((40, 40))),
}


@needs_torch
@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name", list(VALUES))
def test_repr_like_torch(name, dtype):
    a = VALUES[name]
    if dtype in ("int64", "bool"):
        a = np.nan_to_num(a, nan=0.0, posinf=9.0, neginf=-9.0)
        a = (a * 1000).astype(np.int64) if dtype == "int64" else a > 0.5
    else:
        a = a.astype(DTYPES[dtype])
    assert repr(ag.tensor(a)) == torch_repr(torch.tensor(a))


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["scalar", "vec", "mat", "mat_wide", "cube", "long_vec", "empty", "empty_2d",
                                  "big_2d", "nan_inf"])
def test_repr_suffixes_like_torch(name, dtype):
    a = VALUES[name].astype(DTYPES[dtype])
    x, tx = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    assert repr(x) == torch_repr(tx)
    assert repr(x * 2) == torch_repr(tx * 2)


@needs_torch
@pytest.mark.parametrize("width", range(1, 12))
def test_suffix_line_breaks_like_torch(width):
    # the dtype / requires_grad suffixes move to a new line when the last line gets too long
    for n in range(1, 9):
        for rows in (1, 2):
            a = np.full((rows, n), 1.5)
            a[0, 0] = -(10.0 ** (width - 1)) - 0.5
            x, tx = ag.tensor(a, dtype=ag.float64), torch.tensor(a, dtype=torch.float64)
            assert repr(x) == torch_repr(tx)
            assert repr(x[0].requires_grad_()) == torch_repr(tx[0].requires_grad_())


@needs_torch
def test_views_like_torch():
    a = np.random.default_rng(5).standard_normal((6, 8))
    x, tx = ag.tensor(a), torch.tensor(a)
    for f in (lambda t: t.t(), lambda t: t[::2, 1::3], lambda t: t[1], lambda t: t.reshape(2, 3, 8)[:, 1]):
        assert repr(f(x)) == torch_repr(f(tx))


def random_array(rng):
    ndim = int(rng.integers(0, 5))
    hi = 3000 if ndim == 1 else 40 if ndim == 2 else 4
    shape = tuple(int(rng.integers(0, hi if rng.random() < 0.2 else 7)) for _ in range(ndim))
    n = int(np.prod(shape))
    kind = rng.integers(0, 7)
    if kind == 0:
        v = rng.standard_normal(n)
    elif kind == 1:
        v = rng.integers(-100, 100, n).astype(float)
    elif kind == 2:
        v = rng.standard_normal(n) * 10.0 ** rng.integers(-12, 12, n)
    elif kind == 3:
        v = rng.standard_normal(n) * 10.0 ** rng.integers(-6, 10)
    elif kind == 4:
        v = rng.choice([nan, inf, -inf, 0.0, -0.0, 1.0, 2.5, -3.0], n)
    elif kind == 5:
        v = np.round(rng.standard_normal(n) * 100, int(rng.integers(0, 6)))
    else:
        v = rng.uniform(-1e-3, 1e-3, n)
    return v.reshape(shape)


@needs_torch
@pytest.mark.parametrize("seed", range(4))
def test_random_reprs_like_torch(seed):
    rng = np.random.default_rng(seed)
    for _ in range(100):
        v = random_array(rng)
        dtype = list(DTYPES)[rng.integers(0, 4)]
        if dtype == "int64":
            a = np.nan_to_num(v, posinf=7, neginf=-7).astype(np.int64) * int(rng.choice([1, 10**6]))
        elif dtype == "bool":
            a = v > 0
        else:
            a = v.astype(DTYPES[dtype])
        x, tx = ag.tensor(a), torch.tensor(a)
        if dtype.startswith("float") and rng.random() < 0.3:
            x, tx = x.requires_grad_(), tx.requires_grad_()
            if rng.random() < 0.5:
                x, tx = x * 2, tx * 2
        assert repr(x) == torch_repr(tx), (a.shape, a.dtype)


# ------------------------------------------------------------------------------------------ print options
@pytest.fixture
def restore_printoptions():
    yield
    ag.set_printoptions(profile="default")
    if torch is not None:
        torch.set_printoptions(profile="default")


def test_printoptions_precision_threshold_and_reset(restore_printoptions):
    assert ag.get_printoptions() == dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)
    ag.set_printoptions(precision=2)
    assert repr(ag.tensor([1.12345])) == "tensor([1.12])"
    ag.set_printoptions(threshold=5)
    assert repr(ag.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    ag.set_printoptions(profile="default")
    assert repr(ag.tensor([1.12345])) == "tensor([1.1235])"
    assert repr(ag.arange(10)) == "tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])"


def test_printoptions_sci_mode_linewidth_profiles(restore_printoptions):
    ag.set_printoptions(sci_mode=False)
    assert repr(ag.tensor([1e-5, 1e5])) == "tensor([     0.0000, 100000.0000])"
    ag.set_printoptions(sci_mode=True, precision=1)
    assert repr(ag.tensor([1.5, 2.0])) == "tensor([1.5e+00, 2.0e+00])"
    ag.set_printoptions(precision=3)  # every call sets sci_mode: back to automatic
    assert repr(ag.tensor([1.5, 2.0])) == "tensor([1.500, 2.000])"
    ag.set_printoptions(linewidth=20)
    assert repr(ag.tensor([1.0, 2.0, 3.0, 4.0, 5.0])) == "tensor([1., 2., 3.,\n        4., 5.])"
    ag.set_printoptions(profile="short")
    assert ag.get_printoptions() == dict(precision=2, threshold=1000, edgeitems=2, linewidth=80, sci_mode=None)
    ag.set_printoptions(profile="full")
    assert "..." not in repr(ag.zeros(5000))
    ag.set_printoptions(edgeitems=0, threshold=3)
    assert repr(ag.ones(2, 3)) == "tensor([...], size=(2, 3))"


@pytest.mark.parametrize("kwargs,err", [
    (dict(precision=-1), ValueError), (dict(precision=2.5), ValueError), (dict(precision="4"), TypeError),
    (dict(linewidth=True), TypeError), (dict(profile="long"), ValueError), (dict(sci_mode=1), TypeError),
    (dict(edgeitems=float("nan")), TypeError),
])
def test_printoptions_bad_values_raise_and_change_nothing(kwargs, err, restore_printoptions):
    before = ag.get_printoptions()
    with pytest.raises(err, match="set_printoptions"):
        ag.set_printoptions(**kwargs)
    assert ag.get_printoptions() == before


@needs_torch
@pytest.mark.parametrize("seed", range(3))
def test_random_reprs_under_random_printoptions_like_torch(seed, restore_printoptions):
    rng = np.random.default_rng(100 + seed)
    for _ in range(40):
        opts = dict(precision=int(rng.integers(0, 9)), threshold=int(rng.choice([0, 1, 5, 50, 1000])),
                    edgeitems=int(rng.integers(0, 5)), linewidth=int(rng.integers(10, 160)),
                    sci_mode=[None, True, False][rng.integers(0, 3)])
        if rng.random() < 0.3:
            opts["profile"] = ["default", "short", "full"][rng.integers(0, 3)]
        ag.set_printoptions(**opts)
        torch.set_printoptions(**opts)
        assert ag.get_printoptions() == {k: v for k, v in torch._tensor_str.get_printoptions().items()}
        for _ in range(5):
            v = random_array(rng)
            dtype = list(DTYPES)[rng.integers(0, 4)]
            if dtype == "int64":
                a = np.nan_to_num(v, posinf=7, neginf=-7).astype(np.int64)
            elif dtype == "bool":
                a = v > 0
            else:
                a = v.astype(DTYPES[dtype])
            assert repr(ag.tensor(a)) == torch_repr(torch.tensor(a)), (opts, a.shape, a.dtype)
