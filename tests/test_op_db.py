"""Tests generated from the op database (tests/op_db.py): every row forward against NumPy on every
layout in float32 and float64, integer and bool inputs (result dtype and values), gradcheck on
every layout and gradgradcheck in float64, every SIMD tier the CPU has, PyTorch parity (values and
gradients) when torch is installed, and every other spelling of the op (method, in-place, `F.*`,
module, operator, ag.<name> of an F.* op) against the function form. Test ids are `<op>-<dtype>-<layout>`, so
`pytest -k tanh` runs everything about tanh; inputs come from the `rng` fixture, seeded from the id."""
import warnings

import numpy as np
import pytest
from op_db import OPS, SAME, F

import autograd_core as ag

FLOAT_IDS = {np.float32: "float32", np.float64: "float64"}
INT_IDS = {np.int64: "int64", np.int32: "int32", np.uint8: "uint8", np.bool_: "bool"}


def tensor(a, requires_grad=False):
    t = ag.from_numpy(a)
    if requires_grad and t.dtype.is_floating_point:
        t.requires_grad_()
    return t


def numpy(t):
    if isinstance(t, (tuple, list)):
        raise TypeError(f"expected one tensor, got {type(t).__name__}")
    return np.asarray(t.detach().numpy()) if hasattr(t, "detach") else np.asarray(t)


def samples(op, layout, dtype, rng):
    """The row's samples; a generated test that would run none fails instead of passing empty."""
    found = op.samples(layout, dtype, rng)
    assert found, f"{op.name}: no samples for {np.dtype(dtype).name} {layout}"
    return found


def reference(op, sample):
    args = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in sample.args]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # NumPy's notes on empty or 1-element variances
        return np.asarray(op.ref(*args, **sample.kwargs))


def call(op, sample, requires_grad=False):
    tensors = [tensor(a, requires_grad) for a in sample.args]
    args, kwargs = op.call_args(tensors, sample.kwargs)
    return op.op(*args, **kwargs), tensors


def assert_close(got, want, dtype, tol, what):
    got = numpy(got)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, NumPy says {want.shape}"
    if want.dtype == np.bool_ or np.dtype(dtype).kind in "iub":
        np.testing.assert_array_equal(got, want.astype(got.dtype), err_msg=what)
    else:
        np.testing.assert_allclose(got.astype(np.float64), want, rtol=tol, atol=tol, err_msg=what)


def result_dtype(op, dtype):
    if np.dtype(dtype).kind == "f":
        return np.dtype(op.out_dtype or dtype)
    return np.dtype(op.int_out or dtype)


def tol(op, dtype):
    return op.tol32 if dtype == np.float32 else op.tol64


def params(ops, *axes):
    """pytest params (row, axis values...) with ids `<op>-<value>-...`; axes are (values, id) pairs
    or a callable row -> list of such pairs."""
    out = []
    for op in ops:
        combos = [[]]
        for axis in axes:
            values = axis(op) if callable(axis) else axis
            combos = [c + [v] for c in combos for v in values]
        for combo in combos:
            ids = [op.name] + [v[1] for v in combo]
            out.append(pytest.param(op, *[v[0] for v in combo], id="-".join(ids)))
    return out


def float_dtypes(op):
    return [(d, FLOAT_IDS[d]) for d in op.dtypes]


def layouts(op):
    return [(layout, layout) for layout in op.layouts]


FORWARD = params(OPS, float_dtypes, layouts)
INTEGER = params([op for op in OPS if op.int_dtypes],
                 lambda op: [(d, INT_IDS[d]) for d in op.int_dtypes],
                 [(layout, layout) for layout in ("contiguous", "transposed", "broadcast")])
GRAD = params([op for op in OPS if op.grad and np.float64 in op.dtypes], layouts)
GRADGRAD = params([op for op in OPS if op.gradgrad])
SIMD = params([op for op in OPS if op.simd], float_dtypes)
TORCH = params([op for op in OPS if op.torch is not None and op.dtypes], float_dtypes,
               lambda op: [(layout, layout) for layout in ("contiguous", "transposed") if layout in op.layouts])
VARIANTS = params([op for op in OPS if op.dtypes],
                  lambda op: [(v, v) for v in ("method", "inplace", "functional", "module", "operator", "toplevel")
                              if getattr(op, v) is not None])


# ------------------------------------------------------------------------------------------ forward
@pytest.mark.parametrize("op,dtype,layout", FORWARD)
def test_forward(op, dtype, layout, rng):
    for sample in samples(op, layout, dtype, rng):
        got, _ = call(op, sample)
        what = f"{op.name} {np.dtype(dtype).name} {layout} {sample}"
        assert got.dtype.numpy == result_dtype(op, dtype), f"{what}: result dtype {got.dtype}"
        assert_close(got, reference(op, sample), dtype, tol(op, dtype), what)


@pytest.mark.parametrize("op,dtype,layout", INTEGER)
def test_integer_inputs(op, dtype, layout, rng):
    """Integer and bool inputs: ops with an integer loop keep the dtype and wrap like NumPy; float-only
    ops compute in float32 (PyTorch's rule); comparisons give bool."""
    out = result_dtype(op, dtype)
    for sample in samples(op, layout, dtype, rng):
        got, _ = call(op, sample)
        what = f"{op.name} {np.dtype(dtype).name} {layout} {sample}"
        assert got.dtype.numpy == out, f"{what}: result dtype {got.dtype}, expected {out}"
        if out.kind == "f":
            as_float = type(sample)([a.astype(np.float64) for a in sample.args], sample.kwargs)
            assert_close(got, reference(op, as_float), out.type, op.tol32, what)
        else:
            with np.errstate(all="ignore"):
                want = np.asarray(op.ref(*sample.args, **sample.kwargs))
            assert_close(got, want, out.type, 0, what)


# ------------------------------------------------------------------------------------------ gradients
def _leaves(op, sample, layout):
    """(leaves, fn) for gradcheck: the float arguments are the leaves, the integer ones constants.
    A broadcast layout differentiates the compact first row through expand, so one finite-difference
    step moves one logical element."""
    floats = [k for k, a in enumerate(sample.args) if a.dtype.kind == "f"]
    shapes = {k: sample.args[k].shape for k in floats}
    if layout == "broadcast":
        bases = {k: (a[:1].copy() if a.ndim else a.copy()) for k, a in enumerate(sample.args)}
    else:
        bases = dict(enumerate(sample.args))
    leaves = [tensor(bases[k], requires_grad=True) for k in floats]

    def fn(*xs):
        args = [tensor(a) for a in sample.args]
        for k, x in zip(floats, xs):
            args[k] = x.expand(*shapes[k]) if layout == "broadcast" else x
        args, kwargs = op.call_args(args, sample.kwargs)
        return op.op(*args, **kwargs)
    return leaves, fn


@pytest.mark.parametrize("op,layout", GRAD)
def test_gradcheck(op, layout, rng):
    checked = 0
    for sample in samples(op, layout, np.float64, rng):
        if any(a.size == 0 for a in sample.args):
            continue                     # nothing to differentiate; the forward test covers empties
        leaves, fn = _leaves(op, sample, layout)
        assert ag.autograd.gradcheck(fn, leaves, atol=op.grad_atol, rtol=1e-4), f"{op.name} {layout} {sample}"
        checked += 1
    assert checked, f"{op.name}: every {layout} sample is empty"


@pytest.mark.parametrize("op", GRADGRAD)
def test_gradgradcheck(op, rng):
    for sample in samples(op, "contiguous", np.float64, rng)[:2]:
        leaves, fn = _leaves(op, sample, "contiguous")
        assert ag.autograd.gradgradcheck(fn, leaves, atol=1e-4, rtol=1e-3), f"{op.name} {sample}"


# ------------------------------------------------------------------------------------------ SIMD tiers
@pytest.mark.parametrize("op,dtype", SIMD)
def test_simd_tiers(op, dtype, target, rng):
    """The op through each SIMD tier's kernels (the `target` fixture switches tiers in-process)."""
    for layout in ("contiguous", "flipped"):
        for sample in samples(op, layout, dtype, rng):
            got, _ = call(op, sample)
            assert_close(got, reference(op, sample), dtype, tol(op, dtype),
                         f"{op.name} {target} {layout} {sample}")


# ------------------------------------------------------------------------------------------ PyTorch
def torch_fn(op, torch):
    if op.torch is SAME:
        return op.op
    if callable(op.torch):
        return op.torch
    fn = torch
    for part in op.torch.split("."):
        fn = getattr(fn, part)
    return fn


@pytest.mark.parametrize("op,dtype,layout", TORCH)
def test_torch_parity(op, dtype, layout, rng):
    """Values and input gradients against PyTorch on the same inputs (views with the same strides)."""
    torch = pytest.importorskip("torch")
    tfn = torch_fn(op, torch)
    for sample in samples(op, layout, dtype, rng):
        ours, args = call(op, sample, requires_grad=True)
        # from_numpy keeps the strides, so torch sees the same layout
        targs = [torch.from_numpy(a).requires_grad_(a.dtype.kind == "f" and
                                                    (op.torch_grad_args is None or k in op.torch_grad_args))
                 for k, a in enumerate(sample.args)]
        targs_call, tkwargs = op.call_args(targs, sample.kwargs)
        theirs = tfn(*targs_call, **tkwargs)
        what = f"{op.name} {np.dtype(dtype).name} {layout} {sample}"
        assert str(theirs.dtype) == f"torch.{ours.dtype.name}", f"{what}: {ours.dtype} vs {theirs.dtype}"
        t = tol(op, dtype)
        assert_close(ours, theirs.detach().numpy().astype(np.float64) if theirs.dtype.is_floating_point
                     else theirs.numpy(), dtype, t, what)
        if not theirs.requires_grad or ours.numel() == 0:
            continue
        g = rng.standard_normal(tuple(theirs.shape)).astype(dtype)
        theirs.backward(torch.from_numpy(g))
        if ours.requires_grad:
            ours.backward(ag.from_numpy(g))
        for k, (a, ta) in enumerate(zip(args, targs)):
            if ta.grad is None:
                continue
            # no gradient on our side (floor, sign, round: piecewise constant) is torch's zero
            mine = a.grad if a.grad is not None else ag.zeros(*a.shape, dtype=a.dtype)
            assert_close(mine, ta.grad.numpy().astype(np.float64), dtype, max(t, 1e-7) * 10,
                         f"{what}: gradient of argument {k}")


# ------------------------------------------------------------------------------------------ variants
def _variant(op, kind, tensors, kwargs):
    args, kwargs = op.call_args(tensors, kwargs)
    if kind == "method":
        return getattr(args[0], op.method)(*args[1:], **kwargs)
    if kind == "inplace":
        target = args[0].detach().clone()
        result = getattr(target, op.inplace)(*args[1:], **kwargs)
        assert result is target, f"{op.inplace} returned a new tensor"
        return result
    if kind == "functional":
        return getattr(F, op.functional)(*args, **kwargs)
    if kind == "module":
        return op.module(**kwargs)(*tensors)
    if kind == "toplevel":
        return getattr(ag, op.toplevel)(*args, **kwargs)
    assert not kwargs
    return op.operator(*args)


@pytest.mark.parametrize("op,kind", VARIANTS)
def test_variant_matches_function(op, kind, rng):
    """Each spelling gives the function form's values, dtype and (except in-place) gradients."""
    dtype = np.float64 if np.float64 in op.dtypes else op.dtypes[0]
    ran = 0
    for sample in samples(op, "contiguous", dtype, rng):
        if kind == "operator" and sample.kwargs:
            continue
        want, args = call(op, sample, requires_grad=op.grad and kind != "inplace")
        if kind == "inplace" and tuple(want.shape) != tuple(args[0].shape):
            with pytest.raises(RuntimeError, match=op.inplace.rstrip("_")):
                _variant(op, kind, args, sample.kwargs)   # the result cannot fit in self
            continue
        got = _variant(op, kind, args, sample.kwargs)
        what = f"{op.name} {kind} {sample}"
        assert got.dtype == want.dtype, f"{what}: {got.dtype} vs {want.dtype}"
        np.testing.assert_allclose(numpy(got), numpy(want), rtol=1e-12, atol=1e-12, err_msg=what)
        if op.grad and kind != "inplace" and want.numel():
            g = ag.from_numpy(rng.standard_normal(tuple(want.shape)))
            grads_want = ag.autograd.grad(want, [a for a in args if a.requires_grad], g, allow_unused=True)
            grads_got = ag.autograd.grad(got, [a for a in args if a.requires_grad], g, allow_unused=True)
            for gw, gg in zip(grads_want, grads_got):
                np.testing.assert_allclose(numpy(gg), numpy(gw), rtol=1e-12, atol=1e-12, err_msg=what)
        ran += 1
    assert ran, f"{op.name}: no sample without keywords for the operator form"


# ------------------------------------------------------------------------------------------ the database itself
def test_every_generated_test_has_samples():
    """No generated test id may run zero cases: each (row, dtype, layout) the tests above are
    parametrised with yields at least one sample."""
    rng = np.random.default_rng(0)
    empty = []
    for param in FORWARD + GRAD + TORCH:
        op, *rest = param.values
        dtype = rest[0] if len(rest) == 2 else np.float64
        layout = rest[-1]
        if not op.samples(layout, dtype, rng):
            empty.append(param.id)
    for param in INTEGER:
        op, dtype, layout = param.values
        if not op.samples(layout, dtype, rng):
            empty.append(param.id)
    for param in SIMD:
        op, dtype = param.values
        empty += [f"{param.id}-{layout}" for layout in ("contiguous", "flipped") if not op.samples(layout, dtype, rng)]
    for param in GRADGRAD + VARIANTS:
        op = param.values[0]
        if not op.samples("contiguous", np.float64 if np.float64 in op.dtypes else op.dtypes[0], rng):
            empty.append(param.id)
    assert not empty, f"generated tests with no samples: {empty}"


def test_rows_name_public_ops():
    """Every row's variants exist under the names it gives."""
    missing = [f"{op.name}: Tensor.{name}" for op in OPS for name in (op.method, op.inplace)
               if name and not hasattr(ag.Tensor, name)]
    missing += [f"{op.name}: F.{op.functional}" for op in OPS if op.functional and not hasattr(F, op.functional)]
    assert not missing, missing
