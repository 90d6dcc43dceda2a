"""One implementation per concept, seen from the public API: the functional activations are the ops,
binary ops and Tensor's operators share one dispatch, renamed modules still import."""
import importlib
import sys
import warnings

import numpy as np
import pytest

import autograd_core as ag
import autograd_core.nn.functional as F
from autograd_core.ops import binary, unary

# the activations whose functional form has the op's own signature: the same object
SAME = ["gelu", "softplus", "logsigmoid", "softsign", "tanhshrink", "sigmoid", "tanh"]
# float-only activations: PyTorch raises on integer tensors, in the function and the F form
FLOAT_ONLY = ["gelu", "silu", "elu", "selu", "celu", "softplus", "leaky_relu", "mish", "hardsigmoid",
              "hardswish", "logsigmoid"]


@pytest.mark.parametrize("name", SAME)
def test_functional_activation_is_the_op(name):
    assert getattr(F, name) is getattr(unary, name)


def test_gelu_is_ag_gelu():
    assert F.gelu is ag.gelu


@pytest.mark.parametrize("name", FLOAT_ONLY)
@pytest.mark.parametrize("dtype", [ag.int64, ag.int32, ag.uint8, ag.bool])
def test_float_activations_reject_integer_tensors_everywhere(name, dtype):
    x = ag.tensor([0, 1, 1], dtype=dtype)
    for fn in (getattr(ag, name, None), getattr(F, name)):
        if fn is None:
            continue
        with pytest.raises(TypeError, match=f"{name}: expected a floating point input, got"):
            fn(x)


def test_promoting_activations_still_promote_integers():
    x = ag.tensor([-1, 0, 2])
    for fn in (F.sigmoid, F.tanh, F.softsign, F.tanhshrink, ag.sigmoid):
        assert fn(x).dtype == ag.float32
    assert F.relu(x).dtype == ag.int64 and F.relu6(x).dtype == ag.int64


def test_activation_rejects_non_tensor_with_its_name():
    with pytest.raises(TypeError, match="silu: expected input to be a Tensor, got list"):
        F.silu([1.0, 2.0])


@pytest.mark.parametrize("name", ["elu", "softplus", "gelu", "silu", "leaky_relu"])
def test_activation_gradients_agree_with_and_without_double_backward(name):
    """The fused C backward (no graph recorded in backward) and the Tensor-op VJP give one gradient,
    at the default parameters and at others (elu alpha, softplus beta: the fused kernel only has the
    defaults)."""
    rng = np.random.default_rng(13)
    kwargs = {"elu": [{}, {"alpha": 0.7}], "softplus": [{}, {"beta": 2.0, "threshold": 3.0}],
              "gelu": [{}, {"approximate": "tanh"}], "silu": [{}], "leaky_relu": [{}, {"negative_slope": 0.2}]}[name]
    for kw in kwargs:
        x = ag.tensor(rng.uniform(-3, 3, (4, 5)), requires_grad=True)
        (g1,) = ag.autograd.grad(getattr(F, name)(x, **kw).sum(), [x])
        (g2,) = ag.autograd.grad(getattr(F, name)(x, **kw).sum(), [x], create_graph=True)
        np.testing.assert_allclose(g1.numpy(), g2.detach().numpy(), rtol=1e-12, atol=1e-12)
        assert g1.dtype == ag.float64


def test_tensor_operators_are_the_binary_dispatch():
    assert ag.Tensor.__add__ is binary.OPERATORS["add"] and ag.Tensor.__mul__ is binary.OPERATORS["mul"]
    assert ag.Tensor.__sub__ is binary.OPERATORS["sub"] and ag.Tensor.__truediv__ is binary.OPERATORS["div"]


@pytest.mark.parametrize("requires_grad", [False, True])
def test_operators_and_functions_agree(requires_grad):
    rng = np.random.default_rng(7)
    a = ag.tensor(rng.uniform(1, 2, (3, 4)), requires_grad=requires_grad)
    b = ag.tensor(rng.uniform(1, 2, (4,)), requires_grad=requires_grad)
    for op, fn in ((lambda x, y: x + y, ag.add), (lambda x, y: x - y, ag.sub), (lambda x, y: x * y, ag.mul),
                   (lambda x, y: x / y, ag.div)):
        for x, y in ((a, b), (a, 2.5), (a, 3), (2.5, b)):
            got, want = op(x, y), fn(x, y) if isinstance(x, ag.Tensor) or isinstance(y, ag.Tensor) else None
            np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
            assert got.requires_grad == requires_grad


def test_operators_convert_lists_and_arrays_but_functions_do_not():
    t = ag.tensor([1.0, 2.0])
    np.testing.assert_array_equal((t + [1, 2]).numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(([1, 2] - t).numpy(), [0.0, 0.0])
    np.testing.assert_array_equal((t * np.float32(3)).numpy(), [3.0, 6.0])
    with pytest.raises(TypeError, match="unsupported operand type list"):
        ag.add(t, [1, 2])
    with pytest.raises(TypeError, match="unsupported operand type: str"):
        t + "x"


def test_tensor_where_is_pytorchs():
    x = ag.tensor([1.0, -2.0, 3.0])
    cond = ag.tensor([False, True, False])
    np.testing.assert_array_equal(x.where(cond, 0.0).numpy(), [0.0, -2.0, 0.0])
    np.testing.assert_array_equal(ag.where(cond, x, 0.0).numpy(), [0.0, -2.0, 0.0])


def test_data_is_a_deprecated_name_of_preprocessing():
    sys.modules.pop("autograd_core.data", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = importlib.import_module("autograd_core.data")
    assert any(issubclass(w.category, DeprecationWarning) and "preprocessing" in str(w.message) for w in caught)
    for name in ag.preprocessing.__all__:
        assert getattr(data, name) is getattr(ag.preprocessing, name)
    assert ag.data is data


def test_train_names_stay_importable():
    from autograd_core.train import (  # noqa: F401
        EarlyStopping,
        GradientMonitor,
        History,
        ModelCheckpoint,
        evaluate,
        fit,
        grid_search,
        l1_penalty,
        l2_penalty,
        lr_range_test,
        predict,
    )

    for name in ag.train.__all__:
        assert getattr(ag.train, name).__module__.startswith("autograd_core.train.")


def test_train_val_split_uses_random_split():
    """Without stratification train_val_split draws the same partition as random_split for one seed."""
    x = np.arange(20)
    tr, va = ag.preprocessing.train_val_split(x, val_fraction=0.25, seed=5)
    parts = ag.utils.data.random_split(range(20), [15, 5], generator=5)
    np.testing.assert_array_equal(tr, parts[0].indices)
    np.testing.assert_array_equal(va, parts[1].indices)
    with pytest.raises(TypeError, match="train_val_split: seed must be an int or None"):
        ag.preprocessing.train_val_split(x, seed=1.5)


def test_is_tensor_is_defined_once():
    from autograd_core.utils.data import collate, dataset

    tensor = importlib.import_module("autograd_core.tensor")  # (ag.tensor is the function)

    assert ag.is_tensor is tensor.is_tensor
    assert collate.is_tensor is tensor.is_tensor and dataset.is_tensor is tensor.is_tensor
    assert ag.is_tensor(ag.nn.Parameter(ag.zeros(1))) and not ag.is_tensor(np.zeros(1))
