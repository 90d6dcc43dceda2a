"""ConvTranspose1d / F.conv_transpose1d and nn.utils.rnn.pad_sequence: values, gradients (gradcheck and,
with torch, against torch), output_size, errors."""
import numpy as np
import pytest

import autograd_core as ag
from autograd_core import nn
from autograd_core.autograd import gradcheck
from autograd_core.nn import functional as F
from autograd_core.nn.utils.rnn import pad_sequence

try:
    import torch
except ImportError:
    torch = None


def test_conv_transpose1d_is_the_adjoint_of_conv1d():
    # <conv1d(x, w), y> == <x, conv_transpose1d(y, w)> for the same stride, padding and dilation
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 11)), rng.standard_normal((5, 3, 3))
    kw = dict(stride=2, padding=1, dilation=2)
    y = F.conv1d(ag.tensor(x), ag.tensor(w), **kw).numpy()
    g = rng.standard_normal(y.shape)
    back = F.conv_transpose1d(ag.tensor(g), ag.tensor(w), **kw).numpy()
    assert back.shape == x.shape
    np.testing.assert_allclose((y * g).sum(), (x * back).sum(), rtol=1e-12)


def test_conv_transpose1d_gradcheck_unbatched_and_output_size():
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.standard_normal((2, 4, 5)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((4, 3, 3)), requires_grad=True)
    b = ag.tensor(rng.standard_normal(6), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, groups=2), (x, w, b[:6]))
    m = nn.ConvTranspose1d(4, 6, 3, stride=2)
    assert tuple(m(ag.randn(4, 5)).shape) == (6, 11)
    assert tuple(m(ag.randn(1, 4, 5), output_size=(12,)).shape) == (1, 6, 12)
    with pytest.raises(ValueError, match=r"requested output size \(14,\) is not reachable"):
        m(ag.randn(1, 4, 5), output_size=14)
    with pytest.raises(ValueError, match="conv_transpose1d: expected a 2-D .* or 3-D"):
        F.conv_transpose1d(ag.randn(1, 1, 4, 5), ag.randn(1, 1, 3))


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1, output_padding=1), dict(stride=3, dilation=2, groups=2),
                                dict(stride=2, bias=False)])
def test_conv_transpose1d_against_torch(kw):
    tm = torch.nn.ConvTranspose1d(4, 6, 3, **kw).double()
    om = nn.ConvTranspose1d(4, 6, 3, **kw).double()
    om.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    a = np.random.default_rng(0).standard_normal((2, 4, 7))
    x, tx = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = om(x), tm(tx)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-13)
    g = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    y.backward(ag.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(om.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_pad_sequence():
    a, b, c = ag.tensor([1.0, 2.0]), ag.tensor([3.0]), ag.tensor([4.0, 5.0, 6.0])
    np.testing.assert_array_equal(pad_sequence([a, b, c]).numpy(), [[1, 3, 4], [2, 0, 5], [0, 0, 6]])
    np.testing.assert_array_equal(pad_sequence([a, b, c], batch_first=True, padding_value=-1).numpy(),
                                  [[1, 2, -1], [3, -1, -1], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequence([a, b], batch_first=True, padding_side="left").numpy(),
                                  [[1, 2], [0, 3]])
    x = ag.randn(2, 3, dtype=ag.float64, requires_grad=True)
    y = ag.randn(4, 3, dtype=ag.float64, requires_grad=True)
    assert tuple(pad_sequence([x, y]).shape) == (4, 2, 3)
    assert gradcheck(lambda x, y: pad_sequence([x, y], batch_first=True), (x, y))
    with pytest.raises(ValueError, match=r"sequence 1 has shape \(2, 4\)"):
        pad_sequence([ag.ones(2, 3), ag.ones(2, 4)])
    with pytest.raises(ValueError, match="empty list"):
        pad_sequence([])
    if torch is not None:
        seqs = [np.random.default_rng(k).standard_normal((k + 1, 2)) for k in range(4)]
        want = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], padding_value=0.5).numpy()
        np.testing.assert_array_equal(pad_sequence([ag.tensor(s) for s in seqs], padding_value=0.5).numpy(), want)
