"""GroupNorm, InstanceNorm1d/2d, PReLU and the activations Mish, Hardswish, Hardsigmoid, Softsign,
Tanhshrink, SELU, CELU, Softshrink, Hardshrink, Threshold and GLU (modules and functional forms).

Without torch: formulas against NumPy, gradcheck in float64, running statistics, errors. With torch:
forward values and input/parameter gradients equal torch's."""
import numpy as np
import pytest

import autograd_core as ag
from autograd_core import nn
from autograd_core.autograd import gradcheck
from autograd_core.nn import functional as F

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def test_group_norm_formula_and_gradcheck():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 6, 3, 4))
    w, b = rng.standard_normal(6), rng.standard_normal(6)
    out = F.group_norm(ag.tensor(a), 3, ag.tensor(w), ag.tensor(b), eps=1e-5).numpy()
    g = a.reshape(2, 3, -1)
    want = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5)).reshape(a.shape)
    np.testing.assert_allclose(out, want * w.reshape(1, 6, 1, 1) + b.reshape(1, 6, 1, 1), rtol=1e-10)
    x = ag.tensor(a[:, :, :2, :2], requires_grad=True)
    wt, bt = ag.tensor(w, requires_grad=True), ag.tensor(b, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, wt, bt))


def test_instance_norm_running_stats_and_unbatched():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 3, 5, 5)) * 2 + 1
    m = nn.InstanceNorm2d(3, affine=True, track_running_stats=True).double()
    y = m(ag.tensor(a)).detach().numpy()
    want = (a - a.mean((2, 3), keepdims=True)) / np.sqrt(a.var((2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, want, rtol=1e-10)
    np.testing.assert_allclose(m.running_mean.numpy(), 0.1 * a.mean((2, 3)).mean(0), rtol=1e-10)
    np.testing.assert_allclose(m.running_var.numpy(), 0.9 + 0.1 * a.var((2, 3), ddof=1).mean(0), rtol=1e-10)
    assert m.num_batches_tracked.item() == 0  # as PyTorch's InstanceNorm: kept, never counted
    m.eval()
    y = m(ag.tensor(a)).detach().numpy()
    rm, rv = m.running_mean.numpy().reshape(1, 3, 1, 1), m.running_var.numpy().reshape(1, 3, 1, 1)
    np.testing.assert_allclose(y, (a - rm) / np.sqrt(rv + 1e-5), rtol=1e-10)
    u = nn.InstanceNorm1d(3)(ag.tensor(a[0, :, 0]))  # unbatched (C, L)
    assert tuple(u.shape) == (3, 5)
    x = ag.tensor(a[:2, :, :2, :3], requires_grad=True)
    assert gradcheck(lambda x: F.instance_norm(x), (x,))


ACTS = {
    "Mish": (lambda: nn.Mish(), lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    "Hardswish": (lambda: nn.Hardswish(), lambda x: x * np.clip(x + 3, 0, 6) / 6),
    "Hardsigmoid": (lambda: nn.Hardsigmoid(), lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    "Softsign": (lambda: nn.Softsign(), lambda x: x / (1 + np.abs(x))),
    "Tanhshrink": (lambda: nn.Tanhshrink(), lambda x: x - np.tanh(x)),
    "SELU": (lambda: nn.SELU(), lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))),
    "CELU": (lambda: nn.CELU(0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x / 0.7))),
    "Softshrink": (lambda: nn.Softshrink(0.4), lambda x: np.where(x > 0.4, x - 0.4, np.where(x < -0.4, x + 0.4, 0))),
    "Hardshrink": (lambda: nn.Hardshrink(0.4), lambda x: np.where(np.abs(x) > 0.4, x, 0)),
    "Threshold": (lambda: nn.Threshold(0.1, -2.0), lambda x: np.where(x > 0.1, x, -2.0)),
    "GLU": (lambda: nn.GLU(1), lambda x: x[:, :3] / (1 + np.exp(-x[:, 3:]))),
    "PReLU": (lambda: nn.PReLU(6, 0.25).double(), lambda x: np.where(x >= 0, x, 0.25 * x)),
}


@pytest.mark.parametrize("name", list(ACTS))
def test_activation_formula_and_gradcheck(name):
    make, ref = ACTS[name]
    m = make()
    a = np.random.default_rng(2).standard_normal((2, 6, 3)) * 2
    a[np.abs(np.abs(a) - 0.4) < 1e-3] += 0.01  # keep away from the kinks for the finite differences
    a[np.abs(a - 0.1) < 1e-3] += 0.01
    a[np.abs(a) < 1e-3] += 0.01
    np.testing.assert_allclose(m(ag.tensor(a)).detach().numpy(), ref(a), rtol=1e-9, atol=1e-12)
    assert gradcheck(lambda x: m(x), (ag.tensor(a, requires_grad=True),))


def test_prelu_learns_its_slope():
    m = nn.PReLU()
    x = ag.tensor([-2.0, 3.0])
    m(x).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), [-2.0])


@pytest.mark.parametrize("call,match", [
    (lambda: F.group_norm(ag.ones(2, 6, 3), 4), "divisible by num_groups 4"),
    (lambda: nn.GroupNorm(4, 6), "divisible"),
    (lambda: F.group_norm(ag.ones(2, 6, 3), 3, ag.ones(5)), r"weight of shape \(5,\), expected \(6,\)"),
    (lambda: nn.InstanceNorm2d(3)(ag.ones(3, 4)), "expected a 3-d .* or 4-d input"),
    (lambda: nn.InstanceNorm2d(4)(ag.ones(2, 3, 4, 4)), "expected 4 channels"),
    (lambda: F.glu(ag.ones(2, 5)), "even size"),
    (lambda: F.prelu(ag.ones(2, 3), ag.ones(4)), "one per channel"),
    (lambda: F.softshrink(ag.ones(2), -1.0), "nonnegative"),
])
def test_bad_input_raises_clearly(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@needs_torch
def test_against_torch():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 6, 4, 5))
    pairs = [
        (nn.GroupNorm(3, 6), torch.nn.GroupNorm(3, 6)),
        (nn.GroupNorm(1, 6, affine=False), torch.nn.GroupNorm(1, 6, affine=False)),
        (nn.InstanceNorm2d(6, affine=True), torch.nn.InstanceNorm2d(6, affine=True)),
        (nn.InstanceNorm2d(6, track_running_stats=True), torch.nn.InstanceNorm2d(6, track_running_stats=True)),
        (nn.PReLU(6, 0.2), torch.nn.PReLU(6, 0.2)),
        (nn.PReLU(), torch.nn.PReLU()),
        (nn.Mish(), torch.nn.Mish()), (nn.Hardswish(), torch.nn.Hardswish()),
        (nn.Hardsigmoid(), torch.nn.Hardsigmoid()), (nn.Softsign(), torch.nn.Softsign()),
        (nn.Tanhshrink(), torch.nn.Tanhshrink()), (nn.SELU(), torch.nn.SELU()), (nn.CELU(0.5), torch.nn.CELU(0.5)),
        (nn.Softshrink(0.3), torch.nn.Softshrink(0.3)), (nn.Hardshrink(0.3), torch.nn.Hardshrink(0.3)),
        (nn.Threshold(0.2, 5.0), torch.nn.Threshold(0.2, 5.0)), (nn.GLU(1), torch.nn.GLU(1)),
    ]
    for ours, theirs in pairs:
        ours, theirs = ours.double(), theirs.double()
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        for _ in range(2):  # twice: running statistics update the same way
            x, tx = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
            y, ty = ours(x), theirs(tx)
            np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=type(ours).__name__)
            g = rng.standard_normal(tuple(ty.shape))
            y.backward(ag.tensor(g))
            ty.backward(torch.tensor(g))
            # torch's hard-sigmoid/-swish backward multiplies by a float32 1/6 even in float64
            rtol = 1e-7 if type(ours).__name__ in ("Hardsigmoid", "Hardswish") else 1e-9
            np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=1e-11,
                                       err_msg=type(ours).__name__)
            for (n, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
                np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=n)
            ours.zero_grad()
            theirs.zero_grad()
        for k, v in theirs.state_dict().items():
            np.testing.assert_allclose(np.asarray(ours.state_dict()[k]), v.numpy(), rtol=1e-10, err_msg=k)
        ours.eval()
        theirs.eval()
        with torch.no_grad():
            np.testing.assert_allclose(ours(ag.tensor(a)).detach().numpy(), theirs(torch.tensor(a)).numpy(),
                                       rtol=1e-10, atol=1e-12)
