"""The op registry (csrc/include/agc.h's op rows, published by csrc/registry.c and _core.op_table()):
its columns agree with the kernels that exist and with what the binding and ops/ do, and the ops added
through it end to end (hypot, logaddexp, copysign) behave like PyTorch's."""
import math

import numpy as np
import op_db
import pytest

import autograd_core as ag
from autograd_core import _core
from autograd_core.ops import binary as binary_ops
from autograd_core.ops import unary as unary_ops

FLOATS = {_core.F32, _core.F64}
INTS = {_core.I64, _core.I32, _core.U8}
FAMILIES = {"unary": (_core.UNARY_OPS, _core.unary), "binary": (_core.BINARY_OPS, _core.binary),
            "reduce": (_core.REDUCE_OPS, _core.reduce)}


def test_registry_names_and_codes_are_the_op_dicts():
    for family, (by_name, _) in FAMILIES.items():
        rows = _core.op_table(family)
        assert [r.code for r in rows] == list(range(len(rows))), family
        assert {r.name: r.code for r in rows} == by_name, family
        assert all(r.family == family and r.arity == (2 if family == "binary" else 1) for r in rows)
    assert len(_core.op_table()) == sum(len(d) for d, _ in FAMILIES.values())


@pytest.mark.parametrize("family", ["unary", "binary"])
def test_registry_flags_match_the_kernels(family):
    for r in _core.op_table(family):
        dtypes = set(r.dtypes)
        assert dtypes, f"{r.name}: no kernel for any dtype"
        # float math <=> no integer kernel; no floats <=> no float kernel
        assert r.float_only == (not dtypes & INTS and not dtypes & {_core.BOOL}), r
        assert bool(r.flags & _core.OP_NO_FLOAT) == (not dtypes & FLOATS), r
        if r.float_only:
            assert dtypes == FLOATS, r


def test_registry_bool_out_ops_write_bool():
    x = ag.tensor([1.5, -2.0, 0.0])
    for r in _core.op_table("unary"):
        if r.params:
            continue
        got = _core.unary(r.code, x)
        assert (got.dtype == ag.bool) == r.bool_out, r
    for r in _core.op_table("binary"):
        if _core.F32 in r.dtypes:
            assert (_core.binary(r.code, x, x).dtype == ag.bool) == r.bool_out, r
    for r in _core.op_table("reduce"):
        arg = x != 0 if r.bool_out else x
        assert (_core.reduce(r.code, arg).dtype == ag.bool) == r.bool_out, r


def test_registry_float_ops_promote_or_refuse_integers():
    i = ag.tensor([1, 2, 3])
    for r in _core.op_table("binary"):
        if r.float_only:  # the binding computes them in float32
            assert _core.binary(r.code, i, i).dtype == ag.float32, r
        elif r.flags & _core.OP_NO_FLOAT:
            with pytest.raises(TypeError, match=f"{r.name}: not supported for floating point"):
                _core.binary(r.code, i.float(), i.float())
    for r in _core.op_table("reduce"):
        if r.float_only:
            with pytest.raises(TypeError, match=f"{r.name}\\(\\): expected an input of a floating point dtype"):
                _core.reduce(r.code, i)


def test_registry_fused_backward_rows():
    fused = [r for r in _core.op_table("unary") if r.fused]
    assert {r.name for r in fused} >= {"tanh", "sigmoid", "relu", "gelu", "gelu_tanh", "silu"}
    for r in fused:
        bwd = _core.op_info("binary", r.fused)
        assert bwd.grad_of in ("x", "y") and set(bwd.dtypes) == FLOATS, bwd
    # every fused-backward kernel reads x or y, and no other op claims to
    for r in _core.op_table("binary"):
        assert (r.grad_of is not None) == r.name.endswith("_bwd"), r


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "relu", "gelu", "gelu_tanh", "silu"])
def test_fused_backward_matches_the_graph_backward(name):
    """ops/unary saves what the registry says the fused kernel reads; its gradient equals the Tensor-op VJP
    (which create_graph uses)."""
    x = ag.tensor(np.linspace(-3, 3, 13), dtype=ag.float64, requires_grad=True)
    fn = getattr(unary_ops, "_" + name, None) or getattr(unary_ops, name)
    fn = fn.public
    (fused,) = ag.autograd.grad(fn(x).sum(), [x])
    (graph,) = ag.autograd.grad(fn(x).sum(), [x], create_graph=True)
    np.testing.assert_allclose(np.asarray(fused), np.asarray(graph.detach()), rtol=1e-12, atol=1e-15)


def test_registry_errors():
    with pytest.raises(ValueError, match="binary: unknown op code 999"):
        _core.binary(999, ag.ones(2), ag.ones(2))
    with pytest.raises(ValueError, match="unary: unknown op code -1"):
        _core.unary(-1, ag.ones(2))
    with pytest.raises(ValueError, match="reduce: unknown op code"):
        _core.reduce(len(_core.REDUCE_OPS), ag.ones(2))
    with pytest.raises(ValueError, match="op_table: family must be"):
        _core.op_table("ternary")
    with pytest.raises(KeyError, match="no binary op named 'nope'"):
        _core.op_info("binary", "nope")


# ------------------------------------------------------------------------------------------ hypot
def test_hypot_forward_against_numpy_without_overflow():
    rng = np.random.default_rng(1913)
    for dtype, big in ((np.float32, 1e30), (np.float64, 1e200)):
        a = rng.standard_normal((3, 5)).astype(dtype)
        b = rng.standard_normal(5).astype(dtype)
        a[0, :2] = [big, big / 1e20]     # the squares overflow; hypot does not
        b[:2] = [big, -big]
        a[1, 2], b[2] = 1e-30 if dtype == np.float32 else 1e-200, 0   # the squares underflow
        got = ag.hypot(ag.from_numpy(a), ag.from_numpy(b))
        assert got.dtype == ag.from_numpy(a).dtype
        np.testing.assert_allclose(np.asarray(got), np.hypot(a, b), rtol=2e-7 if dtype == np.float32 else 1e-15)
        assert np.isfinite(np.asarray(got)).all()
    # transposed and strided views, a Python scalar, and the method form
    a = rng.standard_normal((4, 6))
    t = ag.from_numpy(a)
    np.testing.assert_allclose(np.asarray(t.T.hypot(t[:, ::2].T.sum(0))), np.hypot(a.T, a[:, ::2].T.sum(0)))
    np.testing.assert_allclose(np.asarray(ag.hypot(t, 2.5)), np.hypot(a, 2.5))
    np.testing.assert_allclose(np.asarray(ag.hypot(-1.5, t)), np.hypot(-1.5, a))
    # mixed float dtypes promote like every binary op
    assert ag.hypot(t.float(), t).dtype == ag.float64
    # inf wins over NaN, as in C and torch
    got = ag.hypot(ag.tensor([math.inf, math.nan, -math.inf]), ag.tensor([math.nan, math.inf, 1.0]))
    assert np.asarray(got).tolist() == [math.inf, math.inf, math.inf]


def test_hypot_gradients():
    rng = np.random.default_rng(7)
    a = ag.from_numpy(rng.uniform(0.3, 2, (3, 4)) * rng.choice([-1, 1], (3, 4))).requires_grad_()
    b = ag.from_numpy(rng.uniform(0.3, 2, (4,))).requires_grad_()
    assert ag.autograd.gradcheck(ag.hypot, [a, b])
    assert ag.autograd.gradgradcheck(ag.hypot, [a, b])
    assert ag.autograd.gradcheck(lambda x: ag.hypot(x, 0.7), [a])
    # a float32 operand gets a float32 gradient from the float64 result
    c = ag.tensor([3.0, 0.0], requires_grad=True)
    d = ag.tensor([4.0, 0.0], dtype=ag.float64, requires_grad=True)
    ag.hypot(c, d).sum().backward()
    assert c.grad.dtype == ag.float32 and d.grad.dtype == ag.float64
    # at the origin the gradient is NaN, as in PyTorch (the cone has no derivative at its tip)
    assert np.asarray(c.grad)[0] == pytest.approx(0.6) and math.isnan(np.asarray(c.grad)[1])
    assert np.asarray(d.grad)[0] == pytest.approx(0.8) and math.isnan(np.asarray(d.grad)[1])


def test_hypot_errors():
    with pytest.raises(TypeError, match="hypot: expected floating point tensors, got int64"):
        ag.hypot(ag.tensor([3]), ag.tensor([4.0]))
    with pytest.raises(TypeError, match="hypot: expected floating point tensors, got bool"):
        ag.hypot(ag.tensor([1.0]), ag.tensor([True]))
    with pytest.raises(RuntimeError, match=r"hypot: shapes \(2,\) and \(3,\) cannot be broadcast"):
        ag.hypot(ag.ones(2), ag.ones(3))
    with pytest.raises(TypeError, match="hypot: at least one operand must be a tensor"):
        ag.hypot(3.0, 4.0)


def test_hypot_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 3, 4))
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (a, b))
    xa, xb = (ag.tensor(v, requires_grad=True) for v in (a, b))
    torch.hypot(ta, tb).pow(2).sum().backward()
    y = ag.hypot(xa, xb)
    (y * y).sum().backward()
    np.testing.assert_allclose(np.asarray(y.detach()), torch.hypot(ta, tb).detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(np.asarray(xa.grad), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(xb.grad), tb.grad.numpy(), rtol=1e-12)


# ------------------------------------------------------------------------------------------ logaddexp
def test_logaddexp_forward_against_numpy_without_overflow():
    rng = np.random.default_rng(2024)
    for dtype in (np.float32, np.float64):
        a = (rng.standard_normal((3, 4)) * 30).astype(dtype)
        b = (rng.standard_normal(4) * 30).astype(dtype)
        a[0, :3] = [1000, -1000, 5]     # exp overflows / underflows; logaddexp does not
        b[:3] = [1000, -1000, -1e4]
        got = ag.logaddexp(ag.from_numpy(a), ag.from_numpy(b))
        np.testing.assert_allclose(np.asarray(got), np.logaddexp(a, b), rtol=2e-7 if dtype == np.float32 else 1e-15)
    inf, nan = math.inf, math.nan
    a = ag.tensor([inf, -inf, inf, -inf, nan, 0.0], dtype=ag.float64)
    b = ag.tensor([inf, -inf, -inf, 2.0, 1.0, nan], dtype=ag.float64)
    want = np.logaddexp(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(ag.logaddexp(a, b)), want)
    np.testing.assert_allclose(np.asarray(ag.tensor([1.0, 2.0]).logaddexp(3.0)), np.logaddexp([1.0, 2.0], 3.0),
                               rtol=1e-6)


def test_logaddexp_gradients_and_errors():
    rng = np.random.default_rng(11)
    a = ag.from_numpy(rng.standard_normal((3, 4)) * 3).requires_grad_()
    b = ag.from_numpy(rng.standard_normal((3, 1)) * 3).requires_grad_()
    assert ag.autograd.gradcheck(ag.logaddexp, [a, b])
    assert ag.autograd.gradgradcheck(ag.logaddexp, [a, b])
    # far apart: the larger input takes the whole gradient, the other 0 (no inf * 0)
    x = ag.tensor([1000.0, -1000.0], requires_grad=True)
    ag.logaddexp(x, ag.tensor([0.0, 0.0])).sum().backward()
    assert np.asarray(x.grad).tolist() == [1.0, 0.0]
    with pytest.raises(TypeError, match="logaddexp: expected floating point tensors, got int64"):
        ag.logaddexp(ag.tensor([1]), ag.tensor([1.0]))


def test_logaddexp_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 3, 4)) * 5
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (a, b))
    xa, xb = (ag.tensor(v, requires_grad=True) for v in (a, b))
    torch.logaddexp(ta, tb).sin().sum().backward()
    y = ag.logaddexp(xa, xb)
    y.sin().sum().backward()
    np.testing.assert_allclose(np.asarray(y.detach()), torch.logaddexp(ta, tb).detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(xa.grad), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(xb.grad), tb.grad.numpy(), rtol=1e-12)


# ------------------------------------------------------------------------------------------ copysign
# The op added in three places: its agc.h row (with its body), its ops/binary.py row (partial
# derivatives and docstring) and its tests/op_db.py row. Everything else is generated from those.
def test_float_binary_rows_generate_every_spelling():
    for name in ("hypot", "logaddexp", "copysign", "logaddexp2"):
        fn = getattr(ag, name)
        assert fn is getattr(binary_ops, name) and name in binary_ops.__all__
        assert getattr(ag.Tensor, name) is fn and fn.__doc__ and fn.__name__ == name
        assert fn.Function.CODE == _core.BINARY_OPS[name] and fn.Function.__module__ == binary_ops.__name__
        assert op_db.BY_NAME[name].kernel == name and op_db.KERNEL_BINARY[name].ref is op_db.BY_NAME[name].ref


def test_copysign_forward_signed_zeros_nans_and_ints():
    inf, nan = math.inf, math.nan
    for dtype in (np.float32, np.float64):
        a = np.array([1.5, -2.0, 0.0, -0.0, inf, nan, 3.0, -nan], dtype)
        b = np.array([-0.0, 0.0, -1.0, 2.0, -3.0, -1.0, nan, 1.0], dtype)
        got = np.asarray(ag.copysign(ag.from_numpy(a), ag.from_numpy(b)))
        want = np.copysign(a, b)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))  # -0.0 and the sign of NaN too
    # integer and bool tensors compute in float32, as in PyTorch; a number as either operand
    got = ag.copysign(ag.tensor([1, -2, 3]), ag.tensor([-1, 1, 0], dtype=ag.int32))
    assert got.dtype == ag.float32 and np.asarray(got).tolist() == [-1.0, 2.0, 3.0]
    assert ag.copysign(ag.tensor([True, False]), -1.0).dtype == ag.float32
    np.testing.assert_array_equal(np.asarray(ag.tensor([1.0, -2.0]).copysign(-0.0)), [-1.0, -2.0])
    np.testing.assert_array_equal(np.asarray(ag.copysign(-3.0, ag.tensor([1.0, -1.0]))), [3.0, -3.0])


def test_copysign_gradients_and_errors():
    rng = np.random.default_rng(5)
    a = ag.from_numpy(rng.uniform(0.5, 2, (3, 4)) * rng.choice([-1, 1], (3, 4))).requires_grad_()
    b = ag.from_numpy(rng.uniform(0.5, 2, (4,)) * rng.choice([-1, 1], 4)).requires_grad_()
    assert ag.autograd.gradcheck(ag.copysign, [a, b])
    assert ag.autograd.gradgradcheck(ag.copysign, [a, b])
    # at a = 0 the gradient is 0 (PyTorch's value); b gets a zero gradient of its own shape
    x = ag.tensor([0.0, 2.0, -2.0], requires_grad=True)
    y = ag.tensor([[-1.0], [1.0]], requires_grad=True)
    ag.copysign(x, y).sum().backward()
    assert np.asarray(x.grad).tolist() == [0.0, 0.0, 0.0]  # the two rows' signs cancel
    assert np.asarray(y.grad).tolist() == [[0.0], [0.0]] and y.grad.dtype == ag.float32
    with pytest.raises(RuntimeError, match=r"copysign: shapes \(2,\) and \(3,\) cannot be broadcast"):
        ag.copysign(ag.ones(2), ag.ones(3))
    with pytest.raises(TypeError, match="copysign: at least one operand must be a tensor"):
        ag.copysign(3.0, 4.0)


def test_copysign_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((2, 3, 4))
    a[0, 0] = 0.0
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (a, b))
    xa, xb = (ag.tensor(v, requires_grad=True) for v in (a, b))
    (torch.copysign(ta, tb) * torch.tensor(a + 1)).sum().backward()
    y = ag.copysign(xa, xb)
    (y * ag.tensor(a + 1)).sum().backward()
    np.testing.assert_array_equal(np.asarray(y.detach()), torch.copysign(ta, tb).detach().numpy())
    np.testing.assert_array_equal(np.asarray(xa.grad), ta.grad.numpy())
    np.testing.assert_array_equal(np.asarray(xb.grad), tb.grad.numpy())
    ints = torch.copysign(torch.tensor([1, -2]), torch.tensor([-1, 1]))
    assert str(ag.copysign(ag.tensor([1, -2]), ag.tensor([-1, 1])).dtype).endswith(str(ints.dtype).split(".")[1])


# ------------------------------------------------------------------------------------------ @op
def test_ops_modules_publish_through_op_only():
    """No ops module writes its __all__ by hand: @op / op(...) builds it, so a composite op is its
    function (and its op_db row). A Tensor-only method (tensor_method) is not exported."""
    import ast
    import importlib
    import inspect
    import pathlib

    from autograd_core.ops import _registry

    ops_dir = pathlib.Path(unary_ops.__file__).parent
    for path in sorted(ops_dir.glob("*.py")):
        tree = ast.parse(path.read_text())
        assigned = [n for n in ast.walk(tree) if isinstance(n, ast.Assign)
                    for t in n.targets if isinstance(t, ast.Name) and t.id == "__all__"]
        assert not assigned, f"ops/{path.name} writes __all__ by hand"
    for name in ("unary", "binary", "shape", "creation", "arrange", "trig"):  # (star-imported by ag)
        module = importlib.import_module(f"autograd_core.ops.{name}")
        assert module.__all__ and len(set(module.__all__)) == len(module.__all__)
        for n in module.__all__:
            # (ag's function is the op itself, or the op wrapped for out=)
            assert inspect.unwrap(getattr(ag, n)) is getattr(module, n), (name, n)

    def f(x):
        return x

    # a probe module: op lists in the caller's __all__ (method=False: no Tensor method), tensor_method
    # only attaches
    probe = {"f": f}
    exec("from autograd_core.ops._registry import op, tensor_method\n"  # noqa: S102 (a probe module)
         "op(f, name='probe_exported')\nop(f, name='probe_function', method=False)\n"
         "tensor_method(f, name='probe_method_only')", probe)
    try:
        assert probe["__all__"] == ["probe_exported", "probe_function"]
        assert ag.Tensor.probe_exported is f and ag.Tensor.probe_method_only is f
        assert not hasattr(ag.Tensor, "probe_function")
    finally:
        del ag.Tensor.probe_exported, ag.Tensor.probe_method_only
    assert _registry._pending == {}


# ------------------------------------------------------------------------------------------ binary rows with a gradient
# pow, maximum/minimum, atan2 and the modulo ops are ops/binary.py rows (partials da, db) like hypot.
def test_gradient_rows_keep_their_node_names_and_spellings():
    x = ag.tensor([1.5, 2.5], dtype=ag.float64, requires_grad=True)
    for name, node in (("pow", "PowBackward"), ("maximum", "MaximumBackward"), ("minimum", "MinimumBackward"),
                       ("atan2", "Atan2Backward"), ("remainder", "RemainderBackward"), ("fmod", "FmodBackward")):
        fn = getattr(ag, name)
        assert fn(x, x * 0.5 + 0.1).grad_fn.name() == node
        assert getattr(x, name)(0.7).grad_fn.name() == node
    assert ag.pow.Function.CODE == _core.BINARY_OPS["pow"] and ag.atan2.Function.__module__ == binary_ops.__name__


def test_modulo_rows_gradients():
    # away from the jumps of the quotient: d/da = 1, d/db = -floor(a / b) (remainder) or -trunc(a / b) (fmod)
    rng = np.random.default_rng(77)
    a = ag.tensor(rng.uniform(-5, 5, (3, 4)) + 0.013, dtype=ag.float64, requires_grad=True)
    b = ag.tensor(rng.choice([-1.7, 1.3, 2.9], (4,)), dtype=ag.float64, requires_grad=True)
    for fn in (ag.remainder, ag.fmod):
        assert ag.autograd.gradcheck(fn, (a, b))
        assert ag.autograd.gradcheck(lambda t, fn=fn: fn(t, 2.5), (a,))
        assert ag.autograd.gradcheck(lambda t, fn=fn: fn(7.25, t), (b,))


def test_atan2_row_with_an_integer_operand_and_pow_at_zero_exponent():
    b = ag.tensor([1.0, -2.0, 0.5], dtype=ag.float64, requires_grad=True)
    a = ag.tensor([3, 200, 0], dtype=ag.uint8)  # (a * a in uint8 would wrap around)
    y = ag.atan2(a, b)
    y.sum().backward()
    an, bn = np.array([3.0, 200.0, 0.0]), np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(np.asarray(b.grad), -an / (an * an + bn * bn), rtol=1e-12)
    x = ag.tensor([0.0, 2.0], dtype=ag.float64, requires_grad=True)
    e = ag.tensor([0.0, 0.0], dtype=ag.float64, requires_grad=True)
    ag.pow(x, e).sum().backward()
    assert np.asarray(x.grad).tolist() == [0.0, 0.0]  # b * a ** (b - 1) is taken as 0 where b == 0
    assert np.asarray(e.grad)[0] == 0.0 and np.isclose(np.asarray(e.grad)[1], math.log(2.0))


def test_logaddexp2_edges_against_numpy():
    inf, nan = math.inf, math.nan
    a = np.array([0.0, 200.0, -inf, inf, inf, nan, 1.0, -1e30], np.float32)
    b = np.array([0.0, 200.0, -inf, inf, -inf, 1.0, nan, 3.0], np.float32)
    for dtype in (np.float32, np.float64):
        got = np.asarray(ag.logaddexp2(ag.from_numpy(a.astype(dtype)), ag.from_numpy(b.astype(dtype))))
        np.testing.assert_allclose(got, np.logaddexp2(a.astype(dtype), b.astype(dtype)), rtol=1e-6)
    with pytest.raises(TypeError, match="logaddexp2: expected floating point tensors, got int64"):
        ag.logaddexp2(ag.tensor([1, 2]), ag.tensor([1.0, 2.0]))


def test_addcmul_composite():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x, t1, t2 = (rng.standard_normal(s) for s in ((3, 1), (4,), (3, 4)))
    xs = [ag.tensor(v, requires_grad=True) for v in (x, t1, t2)]
    ts = [torch.tensor(v, requires_grad=True) for v in (x, t1, t2)]
    ag.addcmul(*xs, value=-0.5).sin().sum().backward()
    torch.addcmul(*ts, value=-0.5).sin().sum().backward()
    for a, t in zip(xs, ts):
        np.testing.assert_allclose(np.asarray(a.grad), t.grad.numpy(), rtol=1e-12)
    assert xs[0].addcmul(xs[1], xs[2]).shape == (3, 4)
    with pytest.raises(TypeError, match="addcmul: for integer tensors .* value must be an integer, got 0.5"):
        ag.addcmul(ag.tensor([1]), ag.tensor([2]), ag.tensor([3]), value=0.5)
    assert ag.addcmul(ag.tensor([1]), ag.tensor([2]), ag.tensor([3]), value=2).tolist() == [13]
