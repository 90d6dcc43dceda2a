"""Every row of the op table: forward against NumPy (float32, float64) and gradcheck in float64, on
every layout; gradgradcheck on a representative set."""
import numpy as np
import pytest
from op_table import GRADGRAD, LAYOUTS, OPS, seeded

import autograd_core as ag

BY_NAME = {c.name: c for c in OPS}


def to_tensor(a, requires_grad=False):
    t = ag.from_numpy(a)
    if requires_grad and t.dtype.is_floating_point:
        t.requires_grad_()
    return t


def check_close(got, want, dtype, case):
    got = np.asarray(got.detach()) if isinstance(got, ag.Tensor) else np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"{case.name}: shape {got.shape} != numpy's {want.shape}"
    if want.dtype == np.bool_ or np.issubdtype(want.dtype, np.integer):
        np.testing.assert_array_equal(got, want, err_msg=case.name)
        return
    tol = case.tol32 if dtype == np.float32 else case.tol64
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=tol, atol=tol, err_msg=case.name)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", OPS, ids=str)
def test_forward(case, dtype, layout):
    ran = 0
    for arrays in case.inputs(seeded(case.name + layout), dtype, layout):
        got = case.fn(*[to_tensor(a) for a in arrays])
        want = case.ref(*[a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays])
        if isinstance(got, ag.Tensor) and got.dtype.is_floating_point:
            assert got.dtype.numpy == np.dtype(dtype) or case.name in ("matmul",), \
                f"{case.name}: result dtype {got.dtype} for {dtype.__name__} inputs"
        check_close(got, want, dtype, case)
        ran += 1
    if layout != "small":
        assert ran > 0


def _grad_inputs(case, arrays, layout):
    """Leaves for gradcheck. Broadcast layouts differentiate the compact base through expand, so a
    finite-difference step moves one logical element."""
    if layout != "broadcast":
        return [to_tensor(a, requires_grad=True) if k not in case.int_inputs else to_tensor(a)
                for k, a in enumerate(arrays)], None
    bases = [a[:1].copy() if a.ndim else a.copy() for a in arrays]
    return [to_tensor(b, requires_grad=True) for b in bases], [a.shape for a in arrays]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", [c for c in OPS if c.grad], ids=str)
def test_gradcheck(case, layout):
    for arrays in case.inputs(seeded(case.name + layout + "g"), np.float64, layout):
        if any(a.size == 0 for a in arrays):
            continue
        leaves, shapes = _grad_inputs(case, arrays, layout)
        if shapes is None:
            fn = case.fn
        else:
            def fn(*xs, shapes=shapes):
                return case.fn(*[x.expand(s) for x, s in zip(xs, shapes)])
        assert ag.autograd.gradcheck(fn, leaves, atol=case.grad_tol, rtol=1e-4)


@pytest.mark.parametrize("name", GRADGRAD)
def test_gradgradcheck(name):
    case = BY_NAME[name]
    for arrays in case.inputs(seeded(name + "gg"), np.float64, "contiguous"):
        leaves = [to_tensor(a, requires_grad=True) for a in arrays]
        assert ag.autograd.gradgradcheck(case.fn, leaves, atol=1e-4, rtol=1e-3)
        break
