"""Regression tests for the defects a differential fuzz found (issue 12): crashes and memory safety,
silent wrong results, gradient checks, in-place semantics, optimizer state and a reference cycle.
Each test names its item; where PyTorch is installed the behaviour is compared with it."""
import gc
import os
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import _core

F = ag.nn.functional

try:
    import torch
except ImportError:  # the comparisons with PyTorch are skipped
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
OVERLAP = "more than one element of the written-to tensor"


def _raises_like(fn_ours, fn_torch, exc=RuntimeError):
    """Both raise (ours `exc`), or neither; returns our message (None when neither raised)."""
    try:
        fn_torch()
        torch_raised = False
    except (RuntimeError, ValueError, TypeError, IndexError):
        torch_raised = True
    if torch_raised:
        with pytest.raises(exc) as info:
            fn_ours()
        return str(info.value)
    fn_ours()
    return None


# ------------------------------------------------------------------------------------------ item 1
@pytest.mark.parametrize("values, minlength", [([1, 2**63 - 1], 0), ([2**62], 0), ([1], 2**62), ([2**40], 0)])
def test_bincount_huge_values_raise(values, minlength):
    with pytest.raises(RuntimeError, match="bincount"):
        ag.bincount(ag.tensor(values), minlength=minlength)
    ag.zeros(3).sum()  # the heap is still sound


def test_bincount_still_counts():
    x = np.array([0, 3, 3, 1, 7])
    got = ag.bincount(ag.tensor(x), minlength=10).numpy()
    np.testing.assert_array_equal(got, np.bincount(x, minlength=10))
    w = np.array([0.5, 1.0, 2.0, 0.25, 1.0], dtype=np.float32)
    np.testing.assert_allclose(ag.bincount(ag.tensor(x), weights=ag.tensor(w)).numpy(), np.bincount(x, w))


# ------------------------------------------------------------------------------------------ item 2
RANK_LIMIT_KEYS = [(None,), (None, Ellipsis), (Ellipsis, None), (True,), (False,), (slice(None), None),
                   (0, None, None)]


@pytest.mark.parametrize("key", RANK_LIMIT_KEYS, ids=str)
def test_indexing_past_the_rank_limit_raises(key):
    t = ag.zeros(*[1] * 16)
    with pytest.raises(IndexError, match="17 dimensions.*16"):
        t[key]
    with pytest.raises(IndexError, match="16"):
        t[key] = 1


def test_indexing_with_a_bool_tensor_past_the_rank_limit_raises():
    t = ag.zeros(*[1] * 16)
    with pytest.raises(IndexError, match="16"):
        t[ag.tensor(True)]
    with pytest.raises(IndexError, match="16"):
        t[ag.tensor([[0]])]


@pytest.mark.parametrize("op", [
    lambda t: t.unsqueeze(0), lambda t: t.unsqueeze(-1), lambda t: t.view(*[1] * 17),
    lambda t: t.reshape(*[1] * 17), lambda t: t.expand(*[1] * 17), lambda t: ag.stack([t, t]),
    lambda t: t + ag.ones(*[1] * 17), lambda t: t.unflatten(0, (1, 1)), lambda t: t.repeat(*[1] * 17),
    lambda t: ag.einsum("abcdefghijklmnop,q->abcdefghijklmnopq", t, ag.ones(2)),
    lambda t: F.one_hot(t.long(), 3), lambda t: ag.diag_embed(t),
], ids=["unsqueeze0", "unsqueeze-1", "view", "reshape", "expand", "stack", "broadcast", "unflatten", "repeat",
        "einsum", "one_hot", "diag_embed"])
def test_every_rank_growth_stops_at_the_limit(op):
    with pytest.raises((IndexError, ValueError, RuntimeError), match="16"):
        op(ag.zeros(*[1] * 16))


def test_indexing_at_the_rank_limit_still_works():
    t = ag.zeros(*[1] * 15)
    assert t[None].shape == (1,) * 16
    assert t[..., None].shape == (1,) * 16
    t[None] = 3
    assert float(t.sum()) == 3


# ------------------------------------------------------------------------------------------ item 3
RANDOM_WRITERS = {
    "bernoulli_": lambda t: t.bernoulli_(0.5),
    "random_": lambda t: t.random_(0, 5),
    "uniform_": lambda t: t.uniform_(),
    "normal_": lambda t: t.normal_(),
    "exponential_": lambda t: t.exponential_(),
}


@pytest.mark.parametrize("name", RANDOM_WRITERS)
def test_random_writers_refuse_read_only_memory(name):
    b = bytes(16)
    t = ag.from_numpy(np.frombuffer(b, np.float32))
    with pytest.raises(RuntimeError, match="read-only"):
        RANDOM_WRITERS[name](t)
    assert b == bytes(16)


@pytest.mark.parametrize("name", RANDOM_WRITERS)
def test_random_writers_refuse_a_leaf_that_requires_grad(name):
    w = ag.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        RANDOM_WRITERS[name](w)
    assert w.tolist() == [0, 0, 0]
    if torch is not None:
        with pytest.raises(RuntimeError):
            getattr(torch.zeros(3, requires_grad=True), name)()
    with ag.no_grad():  # allowed, as in PyTorch (initialisation)
        RANDOM_WRITERS[name](w)


@pytest.mark.parametrize("name", RANDOM_WRITERS)
def test_random_writers_refuse_expanded_views(name):
    b = ag.zeros(1, 3)
    with pytest.raises(RuntimeError, match=OVERLAP):
        RANDOM_WRITERS[name](b.expand(4, 3))


@pytest.mark.parametrize("name", RANDOM_WRITERS)
def test_random_overwrite_in_a_graph_gives_zero_gradient(name):
    # the old values are gone: PyTorch's gradient to them is zero, not the identity
    w = ag.ones(3, requires_grad=True)
    y = w * 2
    RANDOM_WRITERS[name](y)
    (y * 3).sum().backward()
    assert w.grad.tolist() == [0, 0, 0]
    w = ag.ones(4, requires_grad=True)
    y = w * 2
    RANDOM_WRITERS[name](y[2:])
    y.sum().backward()
    assert w.grad.tolist() == [2, 2, 0, 0]


def test_fill_in_a_graph_keeps_non_finite_old_values_out():
    w = ag.ones(2, requires_grad=True)
    y = w * float("inf")
    y.fill_(1.0)
    assert y.tolist() == [1.0, 1.0]


# ------------------------------------------------------------------------------------------ item 4
def test_index_add_on_0d_needs_exactly_one_index():
    x = ag.zeros(())
    with pytest.raises(RuntimeError, match="index_add_"):
        x.index_add_(0, ag.zeros(0, dtype=ag.int64), ag.zeros(0))
    with pytest.raises(RuntimeError, match="index_add_"):
        x.index_add_(0, ag.tensor([0, 0]), ag.ones(2))
    assert x.item() == 0.0
    x.index_add_(0, ag.tensor([0]), ag.tensor(2.5))
    assert x.item() == 2.5
    if torch is not None:
        with pytest.raises(RuntimeError):
            torch.zeros(()).index_add_(0, torch.zeros(0, dtype=torch.int64), torch.zeros(0))


@pytest.mark.parametrize("shape, strides, offset", [
    ((2,), (2**63 - 1,), 0), ((3, 3), (2**62, 2**62), 0), ((2,), (-(2**63) + 1,), 1), ((1,), (1,), 10**9),
    ((2,), (1,), -1), ((0,), (1,), 10**9), ((4,), (1,), 1),
])
def test_as_strided_bounds_cannot_wrap(shape, strides, offset):
    owned = ag.arange(4.0)
    borrowed = ag.from_numpy(np.arange(4.0))
    for src in (owned, borrowed):
        with pytest.raises(ValueError, match="outside the storage"):
            _core.as_strided(src, shape, strides, offset)


def test_as_strided_accepts_what_numpy_views_reach():
    a = np.arange(12.0).reshape(3, 4)[::-1, 1::2]  # negative strides: memory below the first element
    t = ag.from_numpy(a)
    np.testing.assert_array_equal(ag.flip(t, 0).numpy(), a[::-1])
    np.testing.assert_array_equal(ag.flip(t, (0, 1)).numpy(), a[::-1, ::-1])
    v = _core.as_strided(t, (3,), (-4,), 0)  # walks down the rows of the parent array
    np.testing.assert_array_equal(v.numpy(), [9.0, 5.0, 1.0])
    with pytest.raises(ValueError, match="outside the storage"):
        _core.as_strided(t, (4,), (-4,), 0)


# ------------------------------------------------------------------------------------------ item 5
ASAN_PROBE = """
import ctypes, autograd_core as ag
t = ag.zeros(3)  # 12 bytes
ptr = t.data_ptr()
{action}
print("not detected")
"""


@pytest.mark.skipif(os.environ.get("AGC_SANITIZED") != "1",
                    reason="only in the sanitizer build (tools/sanitize.sh)")
@pytest.mark.parametrize("action, report", [
    ("ctypes.memmove(ptr + 12, b'x', 1)", "heap-buffer-overflow"),  # one byte past a 12-byte tensor
    ("del t\nctypes.memmove(ctypes.create_string_buffer(4), ptr, 4)", "heap-use-after-free"),
], ids=["overrun", "use_after_free"])
def test_sanitizer_build_sees_small_overruns_and_use_after_free(action, report):
    # with a caching allocator both accesses stay inside a live block and go unnoticed
    code = textwrap.dedent(ASAN_PROBE).format(action=action)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=False)
    assert "not detected" not in run.stdout
    assert report in run.stderr


# ------------------------------------------------------------------------------------------ item 6
INPLACE_OPS = {
    "add_": lambda t: t.add_(1), "sub_": lambda t: t.sub_(1), "mul_": lambda t: t.mul_(2),
    "div_": lambda t: t.div_(2), "pow_": lambda t: t.pow_(2), "clamp_": lambda t: t.clamp_(0, 1),
    "exp_": lambda t: t.exp_(), "neg_": lambda t: t.neg_(), "abs_": lambda t: t.abs_(),
    "relu_": lambda t: t.relu_(), "sigmoid_": lambda t: t.sigmoid_(), "tanh_": lambda t: t.tanh_(),
    "copy_": lambda t: t.copy_(t * 0 + 1), "copy_row": lambda t: t.copy_(t[0:1] * 0 + 1),
    "addcmul_": lambda t: t.addcmul_(t * 0 + 1, t * 0 + 1), "lerp_": lambda t: t.lerp_(t * 0 + 1, 0.5),
    "fill_": lambda t: t.fill_(1), "zero_": lambda t: t.zero_(),
}


@needs_torch
@pytest.mark.parametrize("name", INPLACE_OPS)
def test_inplace_on_expanded_view_matches_torch(name):
    fn = INPLACE_OPS[name]
    b, tb = ag.zeros(1, 3), torch.zeros(1, 3)
    msg = _raises_like(lambda: fn(b.expand(4, 3)), lambda: fn(tb.expand(4, 3)))
    if msg is not None:
        assert OVERLAP in msg and name.split("_")[0] in msg
        assert b.tolist() == [[0, 0, 0]]  # nothing written
    else:
        np.testing.assert_array_equal(b.numpy(), tb.numpy())


def test_inplace_on_expanded_view_without_torch():
    b = ag.zeros(1, 3)
    with pytest.raises(RuntimeError, match=OVERLAP):
        b.expand(4, 3).add_(1)
    assert b.tolist() == [[0, 0, 0]]
    b.expand(4, 3).fill_(2)  # one value: every write agrees, allowed as in PyTorch
    assert b.tolist() == [[2, 2, 2]]
    with pytest.raises(RuntimeError, match=OVERLAP):  # the kernels' out= paths check it too
        _core.binary(_core.BINARY_OPS["add"], ag.ones(4, 3), 1, out=b.expand(4, 3))
    with pytest.raises(RuntimeError, match=OVERLAP):
        _core.unary(_core.UNARY_OPS["exp"], ag.ones(4, 3), out=b.expand(4, 3))
    assert b.tolist() == [[2, 2, 2]]


def test_inplace_on_expanded_view_in_a_graph_raises():
    w = ag.ones(3, requires_grad=True)
    y = w * 1
    with pytest.raises(RuntimeError, match="mul_: unsupported operation: " + OVERLAP):
        y.expand(2, 3).mul_(2)
    y.sum().backward()
    assert w.grad.tolist() == [1, 1, 1]


def test_inplace_on_non_overlapping_views_still_works():
    x = ag.arange(12.0).reshape(3, 4)
    x.t().add_(1)
    x[:, ::2].mul_(2)
    x[1].copy_(ag.zeros(4))
    expected = np.arange(12.0).reshape(3, 4) + 1
    expected[:, ::2] *= 2
    expected[1] = 0
    np.testing.assert_array_equal(x.numpy(), expected)


# ------------------------------------------------------------------------------------------ item 13
def test_hook_changing_the_gradient_shape_raises():
    x = ag.ones(3, requires_grad=True)
    x.register_hook(lambda g: g[:1])
    with pytest.raises(RuntimeError, match="changed the size of value"):
        (x * 2).sum().backward()
    assert x.grad is None
    y = ag.ones(3, requires_grad=True) * 1
    y.register_hook(lambda g: g[:1])
    with pytest.raises(RuntimeError, match="changed the size of value"):
        (y * 2).sum().backward()


def test_hook_changing_the_gradient_dtype_raises():
    x = ag.ones(3, requires_grad=True)
    x.register_hook(lambda g: g.double())
    with pytest.raises(RuntimeError, match="changed the type of value"):
        (x * 2).sum().backward()
    x = ag.ones(3, requires_grad=True)
    x.register_hook(lambda g: g * 3)  # a same-shaped replacement is fine
    (x * 2).sum().backward()
    assert x.grad.tolist() == [6, 6, 6]


@pytest.mark.parametrize("value, exc", [(ag.zeros(5), RuntimeError), (ag.zeros(1), RuntimeError),
                                        (ag.zeros(3, dtype=ag.float64), RuntimeError),
                                        (ag.zeros(3, dtype=ag.int64), RuntimeError), (3.0, TypeError)],
                         ids=["longer", "broadcastable", "float64", "int64", "number"])
def test_assigning_a_wrong_grad_raises(value, exc):
    x = ag.ones(3, requires_grad=True)
    with pytest.raises(exc, match="grad"):
        x.grad = value
    assert x.grad is None
    x.grad = ag.full((3,), 2.0)
    x.grad = None
    if torch is not None and exc is RuntimeError:
        tx = torch.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError):
            tx.grad = torch.from_numpy(value.numpy())


def test_custom_function_gradient_of_another_dtype_is_converted():
    class Double(ag.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return (g * 2).double()

    x = ag.ones(3, requires_grad=True)
    Double.apply(x).sum().backward()
    assert x.grad.dtype == ag.float32 and x.grad.tolist() == [2, 2, 2]


# ------------------------------------------------------------------------------------------ item 14
OUT_OF_RANGE = [1e30, 1e19, 9.3e18, 2.0**63, float("nan"), float("inf"), -float("inf"), -1e19]


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_out_of_range_floats_into_int64_raise(value):
    cases = {
        "fill_": lambda: ag.zeros(2, dtype=ag.int64).fill_(value),
        "full": lambda: ag.full((2,), value, dtype=ag.int64),
        "full_like": lambda: ag.full_like(ag.zeros(2, dtype=ag.int64), value),
        "setitem": lambda: ag.zeros(2, dtype=ag.int64).__setitem__(0, value),
        "setitem index": lambda: ag.zeros(2, dtype=ag.int64).__setitem__(ag.tensor([0]), value),
        "masked_fill": lambda: ag.zeros(2, dtype=ag.int64).masked_fill(ag.tensor([True, False]), value),
        "index_fill": lambda: ag.zeros(2, dtype=ag.int64).index_fill(0, ag.tensor([0]), value),
        "tensor": lambda: ag.tensor([value], dtype=ag.int64),
        "tensor scalar": lambda: ag.tensor(value, dtype=ag.int64),
    }
    for fn in cases.values():
        with pytest.raises(RuntimeError, match="cannot be converted to type int64 without overflow"):
            fn()


@needs_torch
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float32"])
@pytest.mark.parametrize("value", [1e30, 1e10, 3e9, 2147483647.5, 300.0, 255.9, -0.5, -1.0, -1, -129, -255,
                                   -256, 256, 2**31, -2**31 - 1, 2**40, 1e39, float("nan"), float("inf"),
                                   True, 7.9])
def test_scalar_stores_raise_like_torch(dtype, value):
    ours, theirs = getattr(ag, dtype), getattr(torch, dtype)
    pairs = [(lambda: ag.zeros(2, dtype=ours).fill_(value),
              lambda: torch.zeros(2, dtype=theirs).fill_(value)),
             (lambda: ag.tensor([value], dtype=ours), lambda: torch.tensor([value], dtype=theirs))]
    for make, make_torch in pairs:
        try:
            expected = make_torch()
        except (RuntimeError, OverflowError):
            with pytest.raises(RuntimeError, match="without overflow"):
                make()
            continue
        np.testing.assert_array_equal(make().numpy(), expected.numpy())


def test_in_range_scalars_into_int64_are_kept():
    assert ag.full((1,), 2.0**62, dtype=ag.int64).item() == 2**62
    assert ag.zeros(1, dtype=ag.int64).fill_(-2.0**63).item() == -2**63
    assert ag.tensor([-7.9, 7.9], dtype=ag.int64).tolist() == [-7, 7]
    assert ag.arange(0, 10, 3, dtype=ag.int64).tolist() == [0, 3, 6, 9]
    with pytest.raises(RuntimeError, match="arange: value 1e\\+30"):
        ag.arange(0, 1e30, 1e29, dtype=ag.int64)


# ------------------------------------------------------------------------------------------ item 16
ACTIVATIONS = {
    "relu": lambda m, y: m.nn.functional.relu(y, inplace=True),
    "relu_": lambda m, y: m.nn.functional.relu_(y),
    "leaky_relu": lambda m, y: m.nn.functional.leaky_relu(y, 0.1, inplace=True),
    "elu": lambda m, y: m.nn.functional.elu(y, 0.7, inplace=True),
    "elu_": lambda m, y: m.nn.functional.elu_(y),
    "silu": lambda m, y: m.nn.functional.silu(y, inplace=True),
    "hardtanh": lambda m, y: m.nn.functional.hardtanh(y, -2.0, 3.0, inplace=True),
    "relu6": lambda m, y: m.nn.functional.relu6(y, inplace=True),
    "selu": lambda m, y: m.nn.functional.selu(y, inplace=True),
    "celu": lambda m, y: m.nn.functional.celu(y, 1.5, inplace=True),
    "threshold": lambda m, y: m.nn.functional.threshold(y, 0.5, 9.0, inplace=True),
    "hardswish": lambda m, y: m.nn.functional.hardswish(y, inplace=True),
    "hardsigmoid": lambda m, y: m.nn.functional.hardsigmoid(y, inplace=True),
    "mish": lambda m, y: m.nn.functional.mish(y, inplace=True),
    "dropout_p1": lambda m, y: m.nn.functional.dropout(y, 1.0, inplace=True),
    "ReLU": lambda m, y: m.nn.ReLU(inplace=True)(y),
    "LeakyReLU": lambda m, y: m.nn.LeakyReLU(0.2, inplace=True)(y),
    "ELU": lambda m, y: m.nn.ELU(inplace=True)(y),
    "SiLU": lambda m, y: m.nn.SiLU(inplace=True)(y),
    "ReLU6": lambda m, y: m.nn.ReLU6(inplace=True)(y),
    "Hardtanh": lambda m, y: m.nn.Hardtanh(inplace=True)(y),
    "Hardswish": lambda m, y: m.nn.Hardswish(inplace=True)(y),
    "SELU": lambda m, y: m.nn.SELU(inplace=True)(y),
    "CELU": lambda m, y: m.nn.CELU(inplace=True)(y),
    "Threshold": lambda m, y: m.nn.Threshold(0.1, 20.0, inplace=True)(y),
}
VALUES = [-1.5, -0.25, 0.75, 2.0, 7.0]


def _inplace_run(mod, name):
    x = mod.tensor(VALUES, requires_grad=True)
    y = x * 2
    z = ACTIVATIONS[name](mod, y)
    (y * y).sum().backward()  # reads y after the call: only right if y was really overwritten
    return z is y, y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_inplace_activation_overwrites_its_input(name):
    same, y, grad = _inplace_run(ag, name)
    assert same
    if torch is not None:
        t_same, t_y, t_grad = _inplace_run(torch, name)
        assert t_same
        np.testing.assert_allclose(y, t_y, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(grad, t_grad, rtol=1e-5, atol=1e-6)


def test_inplace_relu_gradient_of_the_issue():
    x = ag.tensor([-1.0, 2.0], requires_grad=True)
    y = x * 1
    F.relu(y, inplace=True)
    (y * y).sum().backward()  # y is relu(x): d/dx = 2 relu(x) relu'(x)
    assert x.grad.tolist() == [0.0, 4.0]


def test_inplace_activation_refuses_a_leaf_and_detects_saved_values():
    x = ag.tensor(VALUES, requires_grad=True)
    with pytest.raises(RuntimeError, match="relu_: a leaf Variable"):
        F.relu(x, inplace=True)
    y = x.exp()  # exp saves its output for backward
    F.relu(y, inplace=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    with ag.no_grad():
        r = ag.nn.ReLU(inplace=True)(x)
    assert r is x and min(x.tolist()) == 0.0


def test_inplace_dropout_module_writes_into_its_input():
    ag.manual_seed(0)
    t = ag.ones(1000)
    out = ag.nn.Dropout(0.5, inplace=True)(t)
    assert out is t and set(np.unique(t.numpy())) == {0.0, 2.0}
    t = ag.ones(2, 3, 4)
    out = ag.nn.Dropout2d(0.5, inplace=True)(t)
    assert out is t and set(np.unique(t.numpy())) <= {0.0, 2.0}
    t = ag.ones(5)
    assert ag.nn.Dropout(0.5, inplace=True).eval()(t) is t and t.tolist() == [1.0] * 5


# ------------------------------------------------------------------------------------------ item 19
def _trained(opt_cls, **kw):
    ps = [ag.nn.Parameter(ag.ones(3)), ag.nn.Parameter(ag.ones(2, 2))]
    opt = opt_cls(ps, lr=0.1, **kw)
    for p in ps:
        p.grad = ag.full(tuple(p.shape), 0.5)
    opt.step()
    return ps, opt


OPTIMIZERS = [(ag.optim.Adam, {}, "exp_avg"), (ag.optim.AdamW, {"amsgrad": True}, "exp_avg_sq"),
              (ag.optim.SGD, {"momentum": 0.9}, "momentum_buffer"), (ag.optim.RMSprop, {}, "square_avg"),
              (ag.optim.Adagrad, {}, "sum")]


@pytest.mark.parametrize("opt_cls, kw, key", OPTIMIZERS, ids=lambda v: getattr(v, "__name__", None))
def test_optimizer_load_refuses_incomplete_state(opt_cls, kw, key):
    ps, opt = _trained(opt_cls, **kw)
    sd = opt.state_dict()
    bad = {"state": {k: dict(v) for k, v in sd["state"].items()}, "param_groups": sd["param_groups"]}
    fresh = opt_cls(ps, lr=0.1, **kw)
    if key == "momentum_buffer":  # SGD: a missing buffer is started again from the gradient
        del bad["state"][1][key]
        fresh.load_state_dict(bad)
        bad["state"][1][key] = ag.zeros(5)
        with pytest.raises(ValueError, match="shape"):
            fresh.load_state_dict(bad)
        return
    del bad["state"][1][key]
    with pytest.raises(ValueError, match=f"parameter 1 lacks '{key}'"):
        fresh.load_state_dict(bad)


@pytest.mark.parametrize("opt_cls, kw, key", OPTIMIZERS, ids=lambda v: getattr(v, "__name__", None))
def test_optimizer_step_is_all_or_nothing(opt_cls, kw, key):
    ps, opt = _trained(opt_cls, **kw)
    before = [p.detach().clone() for p in ps]
    steps = [dict(opt.state[p]).get("step") for p in ps]
    opt.state[ps[1]][key] = ag.zeros(7)  # corrupt the second parameter's state
    for p in ps:
        p.grad = ag.full(tuple(p.shape), 0.5)
    with pytest.raises(ValueError, match=f"state '{key}' of parameter 1"):
        opt.step()
    for b, p in zip(before, ps):
        np.testing.assert_array_equal(b.numpy(), p.detach().numpy())
    assert [dict(opt.state[p]).get("step") for p in ps] == steps
    if key != "momentum_buffer":
        del opt.state[ps[1]][key]
        with pytest.raises(ValueError, match=f"lacks '{key}'"):
            opt.step()
        np.testing.assert_array_equal(before[0].numpy(), ps[0].detach().numpy())


def test_optimizer_step_refuses_an_expanded_parameter_before_moving_any():
    a = ag.nn.Parameter(ag.ones(3))
    base = ag.zeros(1, 2)
    b = base.expand(3, 2)
    opt = ag.optim.SGD([a, b], lr=0.1)
    a.grad = ag.ones(3)
    b.grad = ag.ones(3, 2)
    with pytest.raises(RuntimeError, match=OVERLAP):
        opt.step()
    assert a.tolist() == [1.0, 1.0, 1.0]


@needs_torch
def test_optimizer_state_from_torch_still_loads():
    tp = [torch.nn.Parameter(torch.ones(3))]
    topt = torch.optim.Adam(tp, lr=0.1)
    tp[0].grad = torch.full((3,), 0.5)
    topt.step()
    ps = [ag.nn.Parameter(ag.ones(3))]
    opt = ag.optim.Adam(ps, lr=0.1)
    sd = topt.state_dict()
    state = {k: (ag.tensor(v.numpy()) if v.ndim else v) for k, v in sd["state"][0].items()}
    opt.load_state_dict({"state": {0: state}, "param_groups": sd["param_groups"]})
    assert opt.state[ps[0]]["step"] == 1


# ------------------------------------------------------------------------------------------ item 21
class _ArraySubclass(np.ndarray):
    pass


def test_cycle_through_a_numpy_subclass_is_collected():
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(200):
            a = np.zeros(25000).view(_ArraySubclass)  # 200 kB each: 40 MB if the cycles leaked
            a.t = ag.from_numpy(a)
        del a
        gc.collect()
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert current < 4 << 20, f"{current / 2**20:.1f} MiB still allocated after collection"


def test_borrowed_storage_keeps_its_array_alive_and_releases_it():
    import weakref

    a = np.arange(6.0).view(_ArraySubclass)
    ref = weakref.ref(a)
    t = ag.from_numpy(a)
    del a
    gc.collect()
    assert ref() is not None and t.tolist() == [0, 1, 2, 3, 4, 5]  # the tensor keeps the array
    v = t[2:]
    del t
    gc.collect()
    assert ref() is not None and v.tolist() == [2, 3, 4, 5]  # and so does a view of it
    del v
    gc.collect()
    assert ref() is None
    b = np.arange(4.0)
    ag.from_numpy(b)
    b.resize(8, refcheck=False)  # numpy may resize again once no export is held
