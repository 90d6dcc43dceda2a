"""Padding modules (ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, 1-d and 2-d) and the 1-d adaptive
pools: shapes, values and gradients against torch, and errors."""
import numpy as np
import pytest

import autograd_core as ag
from autograd_core import nn

try:
    import torch
except ImportError:
    torch = None


def test_padding_module_values():
    x = ag.tensor([[[1.0, 2.0, 3.0]]])
    np.testing.assert_array_equal(nn.ZeroPad1d((1, 2))(x).numpy()[0, 0], [0, 1, 2, 3, 0, 0])
    np.testing.assert_array_equal(nn.ConstantPad1d(1, -1.0)(x).numpy()[0, 0], [-1, 1, 2, 3, -1])
    np.testing.assert_array_equal(nn.ReflectionPad1d(2)(x).numpy()[0, 0], [3, 2, 1, 2, 3, 2, 1])
    np.testing.assert_array_equal(nn.ReplicationPad1d((0, 2))(x).numpy()[0, 0], [1, 2, 3, 3, 3])
    assert tuple(nn.ZeroPad2d((1, 0, 2, 3))(ag.ones(2, 3, 4, 5)).shape) == (2, 3, 9, 6)
    with pytest.raises(ValueError, match=r"ZeroPad2d: padding must be an int or 4 ints"):
        nn.ZeroPad2d((1, 2))


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("name,args,shape", [
    ("ZeroPad2d", ((1, 2, 0, 3),), (2, 3, 4, 5)), ("ConstantPad2d", (2, 0.5), (2, 3, 4, 5)),
    ("ReflectionPad2d", ((1, 2, 3, 1),), (2, 3, 4, 5)), ("ReplicationPad2d", (2,), (2, 3, 4, 5)),
    ("ReflectionPad1d", (3,), (2, 3, 5)), ("ReplicationPad1d", ((1, 4),), (2, 3, 5)),
    ("AdaptiveAvgPool1d", (3,), (2, 3, 7)), ("AdaptiveMaxPool1d", (4,), (2, 3, 9)), ("AdaptiveAvgPool1d", (5,), (3, 5)),
])
def test_against_torch(name, args, shape):
    a = np.random.default_rng(0).standard_normal(shape)
    x, tx = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = getattr(nn, name)(*args)(x), getattr(torch.nn, name)(*args)(tx)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    y.backward(ag.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
