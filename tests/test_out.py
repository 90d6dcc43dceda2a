"""The out= keyword of the torch-level functions (autograd_core/ops/out.py): values, dtype rules,
resizing, layouts of out, autograd errors, and agreement with PyTorch where it is installed."""
import warnings

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.ops.out import OUT_OPS

A = np.array([[1.0, -2.0], [3.0, 4.5]])
B = np.array([[0.5, 2.0], [-1.0, 3.0]])


def t(a, dtype=ag.float32):
    return ag.tensor(np.asarray(a), dtype=dtype)


# op -> (call with module m, output o and tensor maker T, NumPy reference)
CASES = {
    "matmul": (lambda m, o, T: m.matmul(T(A), T(B), out=o), A @ B),
    "mm": (lambda m, o, T: m.mm(T(A), T(B), out=o), A @ B),
    "add": (lambda m, o, T: m.add(T(A), T(B), alpha=2, out=o), A + 2 * B),
    "sub": (lambda m, o, T: m.sub(T(A), 1.5, out=o), A - 1.5),
    "mul": (lambda m, o, T: m.mul(T(A), T(B), out=o), A * B),
    "div": (lambda m, o, T: m.div(T(A), T(B), out=o), A / B),
    "exp": (lambda m, o, T: m.exp(T(A), out=o), np.exp(A)),
    "tanh": (lambda m, o, T: m.tanh(T(A), out=o), np.tanh(A)),
    "sigmoid": (lambda m, o, T: m.sigmoid(T(A), out=o), 1 / (1 + np.exp(-A))),
    "abs": (lambda m, o, T: m.abs(T(A), out=o), np.abs(A)),
    "sqrt": (lambda m, o, T: m.sqrt(T(np.abs(A)), out=o), np.sqrt(np.abs(A))),
    "log": (lambda m, o, T: m.log(T(np.abs(A)), out=o), np.log(np.abs(A))),
    "clamp": (lambda m, o, T: m.clamp(T(A), -1.0, 2.0, out=o), np.clip(A, -1, 2)),
    "where": (lambda m, o, T: m.where(T(A) > 0, T(A), T(B), out=o), np.where(A > 0, A, B)),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced", "empty"])
def test_out_holds_the_result_and_is_returned(name, layout):
    fn, want = CASES[name]
    if layout == "contiguous":
        out = ag.full((2, 2), 7.0)
    elif layout == "transposed":
        out = ag.full((2, 2), 7.0).t()
    elif layout == "sliced":
        base = ag.full((4, 4), 7.0)
        out = base[::2, 1:3]
    else:
        out = ag.empty(0)
    got = fn(ag, out, t)
    assert got is out and tuple(out.shape) == want.shape and out.dtype == ag.float32
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)
    if layout == "sliced":  # written through the view into its base; the rest untouched
        np.testing.assert_allclose(base[::2, 1:3].numpy(), want, rtol=1e-6)
        assert float(base[1].sum()) == 28.0 and float(base[:, 0].sum()) == 28.0


def test_batched_joins_and_reductions():
    a, b = np.arange(12.0).reshape(2, 2, 3), np.arange(6.0).reshape(2, 3, 1)
    out = ag.empty(0, dtype=ag.float64)
    assert ag.bmm(t(a, ag.float64), t(b, ag.float64), out=out) is out
    np.testing.assert_allclose(out.numpy(), a @ b)
    x = np.arange(6.0).reshape(2, 3)
    out = ag.empty(0)
    ag.cat([t(x), t(x)], 1, out=out)
    np.testing.assert_array_equal(out.numpy(), np.concatenate([x, x], 1))
    out = ag.empty(0)
    ag.stack([t(x), t(x)], dim=0, out=out)
    np.testing.assert_array_equal(out.numpy(), np.stack([x, x]))
    out = ag.empty(0)
    ag.sum(t(x), 1, out=out)
    np.testing.assert_array_equal(out.numpy(), x.sum(1))
    out = ag.empty(0)
    ag.mean(t(x), (0, 1), True, out=out)
    np.testing.assert_allclose(out.numpy(), x.mean(keepdims=True))
    out = ag.empty(0)
    ag.sum(t(x), dim=0, out=out)
    np.testing.assert_array_equal(out.numpy(), x.sum(0))


def test_dtype_rules():
    ints = t([[1, 2], [3, 4]], ag.int64)
    out64 = ag.empty(2, 2, dtype=ag.float64)
    ag.add(t(A), t(B), out=out64)  # float32 into float64: a safe cast
    np.testing.assert_allclose(out64.numpy(), (A + B).astype(np.float32))
    out32 = ag.empty(2, 2)
    ag.exp(ints, out=out32)  # integer input, floating result
    np.testing.assert_allclose(out32.numpy(), np.exp([[1, 2], [3, 4]]), rtol=1e-6)
    with pytest.raises(RuntimeError, match=r"mul: result type float32 can't be cast to the desired output type int64"):
        ag.mul(t(A), 2, out=ag.empty(2, 2, dtype=ag.int64))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type bool"):
        ag.add(ints, 1, out=ag.empty(2, 2, dtype=ag.bool))
    with pytest.raises(RuntimeError, match="matmul: expected the out tensor to have dtype float32, but got float64"):
        ag.matmul(t(A), t(B), out=out64)
    with pytest.raises(RuntimeError, match="abs: expected the out tensor to have dtype float32"):
        ag.abs(t(A), out=out64)
    long_out = ag.empty(2, dtype=ag.int64)
    ag.sum(t(A), 0, out=long_out)  # sum computes in out's dtype, as PyTorch
    assert long_out.tolist() == [4, 2]


def test_resize_warns_unless_out_is_empty():
    out = ag.empty(3)
    with pytest.warns(UserWarning, match=r"add: an output with one or more elements was resized since it had shape \[3\]"):
        ag.add(t(A), 1, out=out)
    assert tuple(out.shape) == (2, 2)
    np.testing.assert_allclose(out.numpy(), A + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ag.add(t(A), 1, out=ag.empty(0))
        ag.add(t(A), 1, out=out)


def test_out_aliasing_an_input():
    x = t(A)
    ag.mul(x, x, out=x)
    np.testing.assert_allclose(x.numpy(), A * A, rtol=1e-6)


def test_autograd_raises_like_pytorch():
    w = ag.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"mul\(\): functions with out=... arguments don't support automatic"):
        ag.mul(w, 2, out=ag.empty(2, 2))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        ag.cat([w, w], out=ag.empty(0))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        ag.add(t(A), 1, out=ag.empty(2, 2, requires_grad=True))
    with ag.no_grad():
        out = ag.empty(2, 2)
        ag.mul(w, 3, out=out)
    assert out.tolist() == [[3.0, 3.0], [3.0, 3.0]] and out.grad_fn is None


def test_bad_out_and_methods():
    with pytest.raises(TypeError, match="add: out must be a Tensor, got list"):
        ag.add(t(A), 1, out=[0.0])
    with pytest.raises(RuntimeError):  # an expanded out has elements sharing memory
        ag.add(t(A), 1, out=ag.zeros(1, 2).expand(2, 2))
    with pytest.raises(TypeError):  # as in PyTorch, Tensor methods take no out=
        t(A).add(1, out=ag.empty(2, 2))


def test_every_listed_op_takes_out():
    import inspect

    for op in OUT_OPS:
        assert "out" in inspect.signature(getattr(ag, op)).parameters, op
        assert getattr(ag, op).__doc__, op


def test_matches_pytorch():
    torch = pytest.importorskip("torch")

    def torch_t(a):
        return torch.tensor(np.asarray(a), dtype=torch.float32)

    for name, (fn, _) in CASES.items():
        for shape in ((2, 2), (0,), (3,)):
            ours, theirs = ag.full(shape, 7.0), torch.full(shape, 7.0)
            with warnings.catch_warnings(record=True) as ours_warned:
                warnings.simplefilter("always")
                fn(ag, ours, t)
            with warnings.catch_warnings(record=True) as theirs_warned:
                warnings.simplefilter("always")
                fn(torch, theirs, torch_t)
            assert tuple(ours.shape) == tuple(theirs.shape), name
            assert len(ours_warned) == len(theirs_warned), (name, shape)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, err_msg=name)
