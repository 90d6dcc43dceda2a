"""out= on tuple-returning ops (out=(values, indices)) and on the reductions, scans and products
added to autograd_core/ops/out.py: values against NumPy, the dtype and resize rules, structure
errors naming the op, and agreement with PyTorch call by call where it is installed."""
import warnings

import numpy as np
import pytest

import autograd_core as ag

RNG = np.random.default_rng(16)
X = RNG.standard_normal((3, 5)).astype(np.float32)
V = RNG.standard_normal(5).astype(np.float32)
M = RNG.standard_normal((5, 5)).astype(np.float32)
IDX = np.array([[0, 4], [1, 0], [3, 3]])


def _sorted_desc(a, axis):
    return -np.sort(-a, axis=axis)


# name -> (call(lib, out, T), NumPy values (one array, or a tuple of arrays))
TUPLE_CASES = {
    "max-dim": (lambda m, o, T: m.max(T(X), 1, out=o), (X.max(1), X.argmax(1))),
    "min-dim-keepdim": (lambda m, o, T: m.min(T(X), dim=0, keepdim=True, out=o),
                        (X.min(0, keepdims=True), X.argmin(0)[None])),
    "sort": (lambda m, o, T: m.sort(T(X), 1, out=o), (np.sort(X, 1), np.argsort(X, 1, kind="stable"))),
    "sort-descending": (lambda m, o, T: m.sort(T(X), dim=0, descending=True, out=o),
                        (_sorted_desc(X, 0), np.argsort(-X, 0, kind="stable"))),
    "topk": (lambda m, o, T: m.topk(T(X), 2, out=o), (_sorted_desc(X, 1)[:, :2], np.argsort(-X, 1)[:, :2])),
    "kthvalue": (lambda m, o, T: m.kthvalue(T(X), 2, 1, out=o), (np.sort(X, 1)[:, 1], np.argsort(X, 1)[:, 1])),
    "median": (lambda m, o, T: m.median(T(X), 1, out=o), (np.sort(X, 1)[:, 2], np.argsort(X, 1)[:, 2])),
    "nanmedian": (lambda m, o, T: m.nanmedian(T(X), 1, out=o), (np.sort(X, 1)[:, 2], np.argsort(X, 1)[:, 2])),
    "cummax": (lambda m, o, T: m.cummax(T(X), 1, out=o),
               (np.maximum.accumulate(X, 1), np.array([[int(np.argmax(r[:j + 1][::-1]) * -1 + j) for j in range(5)]
                                                        for r in X]))),
    "cummin": (lambda m, o, T: m.cummin(T(X), 1, out=o),
               (np.minimum.accumulate(X, 1), np.array([[int(np.argmin(r[:j + 1][::-1]) * -1 + j) for j in range(5)]
                                                        for r in X]))),
}

SINGLE_CASES = {
    "cumsum": (lambda m, o, T: m.cumsum(T(X), 1, out=o), np.cumsum(X, 1)),
    "cumprod": (lambda m, o, T: m.cumprod(T(X), 0, out=o), np.cumprod(X, 0)),
    "std": (lambda m, o, T: m.std(T(X), 1, out=o), X.std(1, ddof=1)),
    "var": (lambda m, o, T: m.var(T(X), 0, keepdim=True, out=o), X.var(0, ddof=1, keepdims=True)),
    "softmax": (lambda m, o, T: m.softmax(T(X), 1, out=o), np.exp(X) / np.exp(X).sum(1, keepdims=True)),
    "log_softmax": (lambda m, o, T: m.log_softmax(T(X), 1, out=o),
                    X - np.log(np.exp(X).sum(1, keepdims=True))),
    "dot": (lambda m, o, T: m.dot(T(V), T(V), out=o), np.dot(V, V)),
    "mv": (lambda m, o, T: m.mv(T(X), T(V), out=o), X @ V),
    "max-full": (lambda m, o, T: m.max(T(X), out=o), X.max()),
    "amax": (lambda m, o, T: m.amax(T(X), 1, out=o), X.max(1)),
    "argmin": (lambda m, o, T: m.argmin(T(X), 1, out=o), X.argmin(1)),
    "logsumexp": (lambda m, o, T: m.logsumexp(T(X), 1, out=o), np.log(np.exp(X).sum(1))),
    "tensordot": (lambda m, o, T: m.tensordot(T(X), T(M), 1, out=o), X @ M),
    "gather": (lambda m, o, T: m.gather(T(X), 1, T(IDX, np.int64), out=o), np.take_along_axis(X, IDX, 1)),
    "index_select": (lambda m, o, T: m.index_select(T(X), 1, T(IDX[0], np.int64), out=o), X[:, IDX[0]]),
    "tril": (lambda m, o, T: m.tril(T(X), out=o), np.tril(X)),
}


def _ag_t(a, dtype=np.float32):
    return ag.from_numpy(np.ascontiguousarray(np.asarray(a, dtype=dtype)))


def _empty_outs(lib, result_dtypes):
    return tuple(lib.empty(0, dtype=d) for d in result_dtypes)


@pytest.mark.parametrize("name", sorted(TUPLE_CASES))
@pytest.mark.parametrize("container", [tuple, list])
def test_tuple_out_holds_the_result(name, container):
    fn, (values, indices) = TUPLE_CASES[name]
    out = container(_empty_outs(ag, (ag.float32, ag.int64)))
    got = fn(ag, out, _ag_t)
    assert isinstance(got, tuple) and got[0] is out[0] and got[1] is out[1]
    assert got.values is out[0] and got.indices is out[1]  # the field names are kept
    np.testing.assert_allclose(out[0].numpy(), values, rtol=1e-6)
    assert out[1].dtype == ag.int64
    np.testing.assert_array_equal(out[1].numpy(), indices)


def test_tuple_out_into_views_and_resized_outs():
    base_v, base_i = ag.full((4, 6), 9.0), ag.full((4, 6), -1, dtype=ag.int64)
    values, indices = base_v[::2, 1:4], base_i[1:4:2, ::2]  # (2, 3) strided views
    ag.topk(_ag_t(X[:2]), 3, out=(values, indices))
    np.testing.assert_allclose(base_v[::2, 1:4].numpy(), _sorted_desc(X[:2], 1)[:, :3])
    np.testing.assert_array_equal(base_i[1:4:2, ::2].numpy(), np.argsort(-X[:2], 1)[:, :3])
    assert float(base_v[1].sum()) == 54.0 and int(base_i[0].sum()) == -6  # the rest untouched
    values = ag.empty(7)
    with pytest.warns(UserWarning, match=r"max: an output with one or more elements was resized since it had shape \[7\]"):
        ag.max(_ag_t(X), 1, out=(values, ag.empty(0, dtype=ag.int64)))
    assert tuple(values.shape) == (3,)


def test_aminmax_out():
    mins, maxs = ag.empty(0), ag.empty(0)
    got = ag.aminmax(_ag_t(X), dim=1, out=(mins, maxs))
    assert got[0] is mins and got[1] is maxs
    np.testing.assert_allclose(mins.numpy(), X.min(1))
    np.testing.assert_allclose(maxs.numpy(), X.max(1))


def test_tuple_out_errors_name_the_op():
    x = _ag_t(X)
    with pytest.raises(RuntimeError, match="sort: expected the out tensor to have dtype int64, but got float32"):
        ag.sort(x, out=(ag.empty(0), ag.empty(0)))
    with pytest.raises(RuntimeError, match="max: expected the out tensor to have dtype float32, but got float64"):
        ag.max(x, 1, out=(ag.empty(0, dtype=ag.float64), ag.empty(0, dtype=ag.int64)))
    with pytest.raises(TypeError, match="topk: expected out to be a tuple of 2 Tensors but got 3"):
        ag.topk(x, 2, out=(ag.empty(0), ag.empty(0, dtype=ag.int64), ag.empty(0)))
    with pytest.raises(TypeError, match="kthvalue: this call returns a tuple of 2 tensors, so out must be a tuple"):
        ag.kthvalue(x, 1, out=ag.empty(0))
    with pytest.raises(TypeError, match="max: this call returns one tensor, so out must be a Tensor"):
        ag.max(x, out=(ag.empty(0), ag.empty(0, dtype=ag.int64)))
    with pytest.raises(TypeError, match="sort: out must be a tuple of Tensors, got an element of type int"):
        ag.sort(x, out=(ag.empty(0), 3))
    with pytest.raises(TypeError, match="cumsum: out must be a Tensor, got tuple"):
        ag.cumsum(x, 0, out=(ag.empty(0),))
    w = ag.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"sort\(\): functions with out=... arguments don't support automatic"):
        ag.sort(w, out=(ag.empty(0), ag.empty(0, dtype=ag.int64)))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        ag.sort(x, out=(ag.empty(0, requires_grad=True), ag.empty(0, dtype=ag.int64)))
    # a failing dtype check writes nothing
    values = ag.full((3,), 5.0)
    with pytest.raises(RuntimeError):
        ag.max(x, 1, out=(values, ag.empty(3, dtype=ag.int32)))
    assert values.tolist() == [5.0, 5.0, 5.0]


@pytest.mark.parametrize("name", sorted(SINGLE_CASES))
def test_single_out_holds_the_result(name):
    fn, want = SINGLE_CASES[name]
    want = np.asarray(want)
    dtype = ag.int64 if want.dtype.kind == "i" else ag.float32
    out = ag.empty(0, dtype=dtype)
    assert fn(ag, out, _ag_t) is out
    np.testing.assert_allclose(out.numpy(), want, rtol=2e-5, atol=1e-6)


def test_dtype_rules_of_the_new_ops():
    x = _ag_t(X)
    f64 = ag.empty(0, dtype=ag.float64)
    ag.std(x, 1, out=f64)  # cast: float32 into float64
    np.testing.assert_allclose(f64.numpy(), X.std(1, ddof=1), rtol=1e-6)
    with pytest.raises(RuntimeError, match="var: result type float32 can't be cast to the desired output type int64"):
        ag.var(x, 1, out=ag.empty(0, dtype=ag.int64))
    for op, call in (("softmax", lambda o: ag.softmax(x, 1, out=o)), ("dot", lambda o: ag.dot(x[0], x[1], out=o)),
                     ("mv", lambda o: ag.mv(x, _ag_t(V), out=o))):
        with pytest.raises(RuntimeError, match=f"{op}: expected the out tensor to have dtype float32, but got float64"):
            call(ag.empty(0, dtype=ag.float64))
    with pytest.raises(RuntimeError, match="argmax: expected the out tensor to have dtype int64, but got float32"):
        ag.argmax(x, 1, out=ag.empty(0))
    # cumsum computes in out's dtype when no dtype= is given, and a dtype= must then be out's dtype
    ints = ag.empty(0, dtype=ag.int64)
    ag.cumsum(_ag_t([1.7, 2.6, 3.2]), 0, out=ints)
    assert ints.tolist() == [1, 3, 6]
    with pytest.raises(RuntimeError, match="cumsum: expected the out tensor to have dtype float64, but got float32"):
        ag.cumsum(x, 0, dtype=ag.float64, out=ag.empty(0))
    with pytest.raises(RuntimeError, match="sum: expected the out tensor to have dtype float64, but got float32"):
        ag.sum(x, 0, dtype=ag.float64, out=ag.empty(0))


def test_einsum_has_no_out_as_in_pytorch():
    with pytest.raises(TypeError):
        ag.einsum("ij->ji", _ag_t(X), out=ag.empty(0))


def test_matches_pytorch():
    torch = pytest.importorskip("torch")

    def torch_t(a, dtype=np.float32):
        return torch.from_numpy(np.ascontiguousarray(np.asarray(a, dtype=dtype)))

    for name, (fn, _) in TUPLE_CASES.items():
        for shape in ((0,), (3,), (3, 5)):
            ours = (ag.full(shape, 7.0), ag.full(shape, 7, dtype=ag.int64))
            theirs = (torch.full(shape, 7.0), torch.full(shape, 7, dtype=torch.int64))
            with warnings.catch_warnings(record=True) as ours_warned:
                warnings.simplefilter("always")
                fn(ag, ours, _ag_t)
            with warnings.catch_warnings(record=True) as theirs_warned:
                warnings.simplefilter("always")
                fn(torch, theirs, torch_t)
            assert len(ours_warned) == len(theirs_warned), (name, shape)
            for o, t in zip(ours, theirs):
                assert tuple(o.shape) == tuple(t.shape), name
                np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-6, err_msg=name)
    for name, (fn, want) in SINGLE_CASES.items():
        dtype = np.int64 if np.asarray(want).dtype.kind == "i" else np.float32
        for bad in ((np.float64, np.int32, np.int64) if dtype == np.float32 else (np.float32, np.int32)):
            ours_error = theirs_error = None
            try:
                fn(ag, ag.empty(0, dtype=getattr(ag, np.dtype(bad).name)), _ag_t)
            except RuntimeError as e:
                ours_error = e
            try:
                fn(torch, torch.empty(0, dtype=getattr(torch, np.dtype(bad).name)), torch_t)
            except RuntimeError as e:
                theirs_error = e
            assert (ours_error is None) == (theirs_error is None), (name, bad, ours_error, theirs_error)
