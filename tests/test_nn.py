"""ag.nn: Module machinery, layers, activations, init, utils; training sanity; torch cross-checks."""
import copy
import math
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
from autograd_core import _core
from autograd_core import nn
from autograd_core.nn import functional as F

gradcheck = ag.autograd.gradcheck


def t64(a, requires_grad=False):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def rng(seed=0):
    return np.random.default_rng(seed)


def np_of(t):
    return np.asarray(t.detach())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.block = nn.Sequential(nn.ReLU(), nn.Linear(8, 3))
        self.scale = nn.Parameter(ag.ones(3))
        self.register_buffer("steps", ag.zeros(1))
        self.register_buffer("scratch", ag.zeros(2), persistent=False)

    def forward(self, x):
        return self.block(self.bn(self.fc1(x))) * self.scale


# ------------------------------------------------------------------------------------ Module API
def test_module_registration_and_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "block.1.weight", "block.1.bias"]
    assert len(list(net.parameters())) == 7
    assert [n for n, _ in net.named_children()] == ["fc1", "bn", "block"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "bn", "block", "block.0", "block.1"]
    assert len(list(net.modules())) == 6
    assert list(net.state_dict().keys()) == [
        "scale", "steps", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
        "bn.num_batches_tracked", "block.1.weight", "block.1.bias"]
    assert "scratch" in dict(net.named_buffers())
    assert isinstance(net.fc1.weight, nn.Parameter) and net.fc1.weight.requires_grad


def test_module_shared_parameter_listed_once():
    a = nn.Linear(3, 3)
    seq = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict().keys()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_module_setattr_errors_and_delete():
    net = Net()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        net.scale = ag.ones(3)
    net.scale = None
    assert net.scale is None and "scale" not in net.state_dict()
    del net.fc1
    assert not hasattr(net, "fc1")
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = net.nothing
    with pytest.raises(KeyError, match="contain"):
        net.register_buffer("a.b", ag.zeros(1))
    with pytest.raises(TypeError):
        net.register_parameter("p", ag.zeros(1))


def test_module_train_eval_zero_grad_requires_grad():
    net = Net()
    assert net.training and net.bn.training
    net.eval()
    assert not net.training and not net.block[1].training
    net.train()
    assert net.bn.training
    out = net(ag.randn(5, 4)).sum()
    out.backward()
    assert net.fc1.weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert float(net.fc1.weight.grad.abs().sum()) == 0.0
    net.zero_grad()
    assert net.fc1.weight.grad is None
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_module_apply_and_to_dtype():
    net = Net()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen[0] == "Linear"
    net.double()
    assert all(p.dtype == ag.float64 for p in net.parameters())
    assert net.bn.running_mean.dtype == ag.float64
    assert net.bn.num_batches_tracked.dtype == ag.int64
    out = net(ag.randn(5, 4, dtype=ag.float64))
    assert out.dtype == ag.float64
    net.float()
    assert net.fc1.weight.dtype == ag.float32 and net.fc1.weight.requires_grad
    with pytest.raises(TypeError, match="floating point"):
        net.to(ag.int64)


def test_module_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: calls.append("pre") or (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append("post") or out + 1)
    out = lin(ag.randn(3, 2))
    assert calls == ["pre", "post"]
    np.testing.assert_allclose(np_of(out), np_of(lin.bias)[None, :].repeat(3, 0) + 1, rtol=1e-6)
    h1.remove()
    h2.remove()
    x = ag.randn(3, 2)
    np.testing.assert_allclose(np_of(lin(x)), np_of(F.linear(x, lin.weight, lin.bias)))
    assert calls == ["pre", "post"]


def test_module_repr():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.25))
    assert repr(model) == ("Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n"
                           "  (2): Dropout(p=0.25, inplace=False)\n)")
    assert repr(nn.LSTM(3, 4, num_layers=2, batch_first=True)) == "LSTM(3, 4, num_layers=2, batch_first=True)"
    assert repr(nn.BatchNorm2d(3)) == "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and float(seq(ag.randn(4, 2)).min()) >= 0
    named = nn.Sequential(OrderedDict([("inp", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(named.state_dict().keys()) == ["inp.weight", "inp.bias"]
    with pytest.raises(IndexError):
        seq[10]
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.Linear(2, 1))
    assert len(ml) == 4 and len(list(ml.parameters())) == 8
    assert list(ml.state_dict().keys())[-1] == "3.bias"
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    md["c"] = nn.Linear(1, 2)
    assert list(md.keys()) == ["a", "b", "c"] and "c" in md
    assert list(md.state_dict().keys()) == ["a.weight", "a.bias", "c.weight", "c.bias"]


def test_deepcopy_module():
    net = Net()
    clone = copy.deepcopy(net)
    assert clone.fc1.weight is not net.fc1.weight
    np.testing.assert_array_equal(np_of(clone.fc1.weight), np_of(net.fc1.weight))
    with ag.no_grad():
        clone.fc1.weight.fill_(0.0)
    assert float(net.fc1.weight.abs().sum()) > 0


# ------------------------------------------------------------------------------------ state dict
def test_state_dict_round_trip():
    ag.manual_seed(1)
    a, b = Net(), Net()
    a.train()
    a(ag.randn(6, 4))  # moves running stats
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(np_of(va), np_of(vb))
    a.eval()
    b.eval()
    x = ag.randn(3, 4)
    np.testing.assert_array_equal(np_of(a(x)), np_of(b(x)))


def test_state_dict_shares_storage_and_loads_numpy():
    lin = nn.Linear(2, 2)
    sd = lin.state_dict()
    with ag.no_grad():
        sd["weight"].fill_(3.0)
    assert float(lin.weight.sum()) == 12.0
    lin.load_state_dict({"weight": np.eye(2, dtype=np.float64), "bias": np.zeros(2)})
    np.testing.assert_array_equal(np_of(lin.weight), np.eye(2, dtype=np.float32))
    assert lin.weight.dtype == ag.float32


def test_load_state_dict_errors():
    net = Net()
    sd = net.state_dict()
    missing = dict(sd)
    del missing["fc1.bias"]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "fc1.bias"'):
        net.load_state_dict(missing)
    extra = dict(sd)
    extra["fc9.weight"] = ag.zeros(1)
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "fc9.weight"'):
        net.load_state_dict(extra)
    result = net.load_state_dict(extra, strict=False)
    assert result.unexpected_keys == ["fc9.weight"]
    result = net.load_state_dict(missing, strict=False)
    assert result.missing_keys == ["fc1.bias"]
    wrong = dict(sd)
    wrong["fc1.weight"] = ag.zeros(4, 8)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight: .*\(4, 8\).*\(8, 4\)"):
        net.load_state_dict(wrong)
    with pytest.raises(RuntimeError, match="size mismatch"):
        net.load_state_dict(wrong, strict=False)


# ------------------------------------------------------------------------------------ Linear and simple layers
def test_linear_forward_backward_matches_numpy():
    r = rng(1)
    x, w, b = r.normal(size=(5, 3)), r.normal(size=(4, 3)), r.normal(size=4)
    out = F.linear(t64(x), t64(w), t64(b))
    np.testing.assert_allclose(np_of(out), x @ w.T + b, rtol=1e-12)
    out3 = F.linear(t64(r.normal(size=(2, 5, 3))), t64(w))
    assert tuple(out3.shape) == (2, 5, 4)
    assert gradcheck(F.linear, [t64(x, True), t64(w, True), t64(b, True)])
    assert gradcheck(lambda a, ww: F.linear(a, ww), [t64(r.normal(size=(2, 2, 3)), True), t64(w, True)])


def test_linear_bad_input_size():
    lin = nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match=r"linear: input of shape \(4, 5\) has 5 features.*in_features=3"):
        lin(ag.randn(4, 5))


def test_linear_default_init_distribution():
    ag.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = np_of(lin.weight), np_of(lin.bias)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-a, a) has std a / sqrt(3)
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert abs(w.mean()) < 0.01 * bound


def test_flatten_unflatten_identity():
    x = ag.randn(2, 3, 4, 5)
    assert tuple(nn.Flatten()(x).shape) == (2, 60)
    assert tuple(nn.Flatten(0, 2)(x).shape) == (24, 5)
    assert tuple(nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape) == (2, 3, 20)
    assert nn.Identity(54, unused=1)(x) is x


def test_dropout_train_eval_and_seed():
    x = ag.ones(200, 100)
    drop = nn.Dropout(0.3)
    ag.manual_seed(7)
    y1 = np_of(drop(x))
    ag.manual_seed(7)
    y2 = np_of(drop(x))
    np.testing.assert_array_equal(y1, y2)
    kept = y1 != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y1[kept], 1 / 0.7, rtol=1e-6)
    drop.eval()
    assert drop(x) is x
    assert float(F.dropout(x, 1.0).abs().sum()) == 0.0
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    xg = ag.randn(4, 4, dtype=ag.float64, requires_grad=True)
    ag.manual_seed(3)
    y = F.dropout(xg, 0.5)
    y.sum().backward()
    np.testing.assert_allclose(np_of(xg.grad), (np_of(y) != 0) * 2.0)


# ------------------------------------------------------------------------------------ activations
ACTIVATIONS = [
    ("relu", nn.ReLU(), lambda x: np.maximum(x, 0)),
    ("leaky_relu", nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    ("sigmoid", nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    ("tanh", nn.Tanh(), np.tanh),
    ("gelu", nn.GELU(), lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    ("gelu_tanh", nn.GELU("tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    ("silu", nn.SiLU(), lambda x: x / (1 + np.exp(-x))),
    ("elu", nn.ELU(0.7), lambda x: np.where(x > 0, x, 0.7 * (np.exp(x) - 1))),
    ("softplus", nn.Softplus(), lambda x: np.log1p(np.exp(x))),
    ("softplus_beta", nn.Softplus(beta=2.0, threshold=3.0),
     lambda x: np.where(2 * x > 3, x, np.log1p(np.exp(2 * x)) / 2)),
    ("softmax", nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    ("log_softmax", nn.LogSoftmax(dim=1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
]


@pytest.mark.parametrize("name,module,ref", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_forward(name, module, ref, dtype):
    x = rng(2).normal(size=(6, 7)).astype(dtype) * 3
    x[np.abs(x) < 1e-3] = 0.5  # keep away from kinks
    got = np_of(module(ag.tensor(x)))
    np.testing.assert_allclose(got, ref(x.astype(np.float64)), rtol=1e-5 if dtype == np.float32 else 1e-10,
                               atol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("name,module,ref", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_gradcheck(name, module, ref):
    x = rng(3).normal(size=(3, 4)) * 2
    x[np.abs(x) < 0.05] = 0.3
    assert gradcheck(module, [t64(x, True)])


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "elu", "softplus", "leaky_relu"])
def test_activation_double_backward(name):
    fn = {"gelu": F.gelu, "gelu_tanh": lambda t: F.gelu(t, "tanh"), "silu": F.silu, "elu": F.elu,
          "softplus": F.softplus, "leaky_relu": F.leaky_relu}[name]
    x = rng(4).normal(size=(3, 4))
    x[np.abs(x) < 0.05] = 0.3
    assert ag.autograd.gradgradcheck(fn, [t64(x, True)])


def test_activation_bad_dtype():
    with pytest.raises(TypeError, match="gelu: expected a floating point input"):
        F.gelu(ag.tensor([1, 2]))
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


# ------------------------------------------------------------------------------------ batch norm
def np_batch_norm(x, w, b, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axes)
    var = x.var(axes)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * w.reshape(shape) + b.reshape(shape), \
        mean, var


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (4, 3, 5, 6)])
def test_batch_norm_training_forward_and_running_stats(shape):
    r = rng(5)
    module = nn.BatchNorm1d(3) if len(shape) < 4 else nn.BatchNorm2d(3)
    module.double()
    w, b = r.normal(size=3), r.normal(size=3)
    module.load_state_dict({"weight": w, "bias": b, "running_mean": np.zeros(3), "running_var": np.ones(3),
                            "num_batches_tracked": np.array(0)})
    rm, rv = np.zeros(3), np.ones(3)
    count = np.prod(shape) // 3
    for step in range(3):
        x = r.normal(size=shape) * 2 + 1
        out = module(t64(x))
        ref, mean, var = np_batch_norm(x, w, b)
        np.testing.assert_allclose(np_of(out), ref, rtol=1e-10, atol=1e-10)
        rm = 0.9 * rm + 0.1 * mean
        rv = 0.9 * rv + 0.1 * var * count / (count - 1)
        np.testing.assert_allclose(np_of(module.running_mean), rm, rtol=1e-12)
        np.testing.assert_allclose(np_of(module.running_var), rv, rtol=1e-12)
    assert int(module.num_batches_tracked.item()) == 3
    module.eval()
    x = r.normal(size=shape)
    sh = (1, -1) + (1,) * (len(shape) - 2)
    expected = (x - rm.reshape(sh)) / np.sqrt(rv.reshape(sh) + 1e-5) * w.reshape(sh) + b.reshape(sh)
    np.testing.assert_allclose(np_of(module(t64(x))), expected, rtol=1e-10, atol=1e-12)


def test_batch_norm_cumulative_momentum_none():
    module = nn.BatchNorm1d(2, momentum=None).double()
    r = rng(6)
    batches = [r.normal(size=(5, 2)) for _ in range(4)]
    for x in batches:
        module(t64(x))
    np.testing.assert_allclose(np_of(module.running_mean), np.mean([x.mean(0) for x in batches], 0), rtol=1e-12)
    np.testing.assert_allclose(np_of(module.running_var), np.mean([x.var(0, ddof=1) for x in batches], 0),
                               rtol=1e-12)


def test_batch_norm_options():
    x = t64(rng(7).normal(size=(6, 4, 3)))
    plain = nn.BatchNorm1d(4, affine=False).double()
    assert list(plain.state_dict().keys()) == ["running_mean", "running_var", "num_batches_tracked"]
    ref, _, _ = np_batch_norm(np_of(x), np.ones(4), np.zeros(4))
    np.testing.assert_allclose(np_of(plain(x)), ref, atol=1e-12)
    untracked = nn.BatchNorm1d(4, track_running_stats=False).double()
    assert list(untracked.state_dict().keys()) == ["weight", "bias"]
    untracked.eval()  # no running stats: batch statistics even in eval
    np.testing.assert_allclose(np_of(untracked(x)), ref, atol=1e-12)
    with pytest.raises(ValueError, match="expected 4 channels"):
        plain(ag.randn(6, 5))
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(4)(ag.randn(6, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        plain(ag.randn(1, 4))


def test_batch_norm_gradcheck_train_and_eval():
    r = rng(8)
    x = t64(r.normal(size=(4, 3, 2, 2)), True)
    w, b = t64(r.normal(size=3), True), t64(r.normal(size=3), True)
    assert gradcheck(lambda a, ww, bb: F.batch_norm(a, None, None, ww, bb, training=True), [x, w, b])
    assert gradcheck(lambda a: F.batch_norm(a, None, None, None, None, training=True), [x])
    rm, rv = t64(r.normal(size=3)), t64(r.uniform(0.5, 2, size=3))
    assert gradcheck(lambda a, ww, bb: F.batch_norm(a, rm, rv, ww, bb, training=False), [x, w, b])
    x1 = t64(r.normal(size=(5, 3)), True)
    assert gradcheck(lambda a, ww, bb: F.batch_norm(a, None, None, ww, bb, training=True), [x1, w, b])
    assert ag.autograd.gradgradcheck(lambda a, ww: F.batch_norm(a, None, None, ww, None, training=True), [x, w])


@pytest.mark.parametrize("simd", _core.SIMD_TARGETS)
@pytest.mark.parametrize("shape", [(16, 8, 30, 30), (300, 7)])
def test_batch_norm_float32_kernel_matches_numpy_and_threads(simd, shape):
    previous = _core.simd_target()
    if simd not in _core.simd_targets():
        pytest.skip(f"this CPU lacks the {simd} tier")
    _core.set_simd_target(simd)
    x = rng(9).normal(size=shape).astype(np.float32) * 3 + 2
    xt = ag.tensor(x, requires_grad=True)
    g = rng(10).normal(size=x.shape).astype(np.float32)
    w = rng(11).normal(size=shape[1]).astype(np.float32)
    outs = []
    try:
        for threads in (1, 2):
            ag.set_num_threads(threads)
            xt.grad = None
            out = F.batch_norm(xt, None, None, ag.tensor(w), None, training=True)
            out.backward(ag.tensor(g))
            outs.append((np_of(out).copy(), np_of(xt.grad).copy()))
    finally:
        ag.set_num_threads(2)
        _core.set_simd_target(previous)
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    ref, _, var = np_batch_norm(x.astype(np.float64), w.astype(np.float64), np.zeros(shape[1]))
    np.testing.assert_allclose(outs[0][0], ref, atol=5e-5)
    gd = g.astype(np.float64)
    axes = (0,) + tuple(range(2, len(shape)))
    sh = (1, -1) + (1,) * (len(shape) - 2)
    xhat = (x - x.mean(axes, keepdims=True)) / np.sqrt(var.reshape(sh) + 1e-5)
    gref = w.reshape(sh) / np.sqrt(var.reshape(sh) + 1e-5) * \
        (gd - gd.mean(axes, keepdims=True) - xhat * (gd * xhat).mean(axes, keepdims=True))
    np.testing.assert_allclose(outs[0][1], gref, atol=5e-5)


# ------------------------------------------------------------------------------------ layer norm, embedding
def test_layer_norm_forward_and_gradcheck():
    r = rng(11)
    x = r.normal(size=(3, 4, 5))
    ln = nn.LayerNorm((4, 5)).double()
    w, b = r.normal(size=(4, 5)), r.normal(size=(4, 5))
    ln.load_state_dict({"weight": w, "bias": b})
    mu = x.mean((1, 2), keepdims=True)
    var = x.var((1, 2), keepdims=True)
    np.testing.assert_allclose(np_of(ln(t64(x))), (x - mu) / np.sqrt(var + 1e-5) * w + b, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda a, ww, bb: F.layer_norm(a, (5,), ww, bb), [t64(x, True), t64(w[0], True), t64(b[0], True)])
    with pytest.raises(ValueError, match="normalized_shape"):
        ln(ag.randn(3, 5, 4))


def test_embedding_forward_padding_and_errors():
    ag.manual_seed(0)
    emb = nn.Embedding(1000, 16, padding_idx=0)
    w = np_of(emb.weight)
    assert np.all(w[0] == 0)
    assert abs(w[1:].std() - 1.0) < 0.03 and abs(w[1:].mean()) < 0.03
    idx = ag.tensor([[0, 5, 5], [7, 0, 999]])
    out = emb(idx)
    assert tuple(out.shape) == (2, 3, 16)
    np.testing.assert_array_equal(np_of(out), w[np_of(idx)])
    (out * 2).sum().backward()
    grad = np_of(emb.weight.grad)
    assert np.all(grad[0] == 0)
    np.testing.assert_allclose(grad[5], 4.0)
    np.testing.assert_allclose(grad[7], 2.0)
    with pytest.raises(IndexError, match="index 1000 is out of range"):
        emb(ag.tensor([1000]))
    with pytest.raises(TypeError, match="integer indices"):
        emb(ag.tensor([1.0]))
    emb64 = nn.Embedding(4, 3).double()
    assert gradcheck(lambda ww: F.embedding(ag.tensor([1, 3, 1]), ww), [emb64.weight])


# ------------------------------------------------------------------------------------ functional helpers
def test_one_hot():
    out = F.one_hot(ag.tensor([0, 2, 1]), 4)
    np.testing.assert_array_equal(np_of(out), np.eye(4, dtype=np.int64)[[0, 2, 1]])
    assert out.dtype == ag.int64
    assert tuple(F.one_hot(ag.tensor([[1], [3]])).shape) == (2, 1, 4)
    with pytest.raises(ValueError, match="out of range"):
        F.one_hot(ag.tensor([5]), 3)
    with pytest.raises(TypeError, match="int64"):
        F.one_hot(ag.tensor([1.0]))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_matches_numpy(mode):
    x = rng(12).normal(size=(2, 3, 4, 5))
    pads = (2, 1, 1, 3)
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    ref = np.pad(x, [(0, 0), (0, 0), (1, 3), (2, 1)], mode=np_mode)
    got = F.pad(t64(x), pads, mode=mode)
    np.testing.assert_allclose(np_of(got), ref)
    assert gradcheck(lambda a: F.pad(a, (1, 2), mode=mode), [t64(x[0, 0], True)])


def test_pad_constant_value_and_crop():
    x = ag.ones(2, 3)
    np.testing.assert_array_equal(np_of(F.pad(x, (1, 0), value=5.0)), [[5, 1, 1, 1]] * 2)
    assert tuple(F.pad(x, (-1, -1)).shape) == (2, 1)
    with pytest.raises(ValueError, match="even"):
        F.pad(x, (1,))


def test_scaled_dot_product_attention_matches_numpy():
    r = rng(13)
    q, k, v = r.normal(size=(2, 3, 4)), r.normal(size=(2, 5, 4)), r.normal(size=(2, 5, 6))
    mask = r.uniform(size=(3, 5)) > 0.3
    mask[:, 0] = True

    def ref(q, k, v, mask):
        s = q @ k.transpose(0, 2, 1) / 2.0
        s = np.where(mask, s, -np.inf)
        p = np.exp(s - s.max(-1, keepdims=True))
        return (p / p.sum(-1, keepdims=True)) @ v

    got = F.scaled_dot_product_attention(t64(q), t64(k), t64(v), attn_mask=ag.tensor(mask))
    np.testing.assert_allclose(np_of(got), ref(q, k, v, mask), rtol=1e-10)
    causal = F.scaled_dot_product_attention(t64(q), t64(q), t64(q), is_causal=True)
    np.testing.assert_allclose(np_of(causal), ref(q, q, q, np.tril(np.ones((3, 3), bool))), rtol=1e-10)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c),
                     [t64(q, True), t64(k, True), t64(v, True)])


def test_multihead_attention_shapes_and_masks():
    mha = nn.MultiheadAttention(8, 2, batch_first=True).double()
    x = t64(rng(14).normal(size=(3, 5, 8)))
    out, weights = mha(x, x, x)
    assert tuple(out.shape) == (3, 5, 8) and tuple(weights.shape) == (3, 5, 5)
    np.testing.assert_allclose(np_of(weights).sum(-1), 1.0)
    pad = np.zeros((3, 5), bool)
    pad[:, -2:] = True
    _, w2 = mha(x, x, x, key_padding_mask=ag.tensor(pad))
    assert np.all(np_of(w2)[:, :, -2:] == 0)
    assert list(mha.state_dict().keys()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2).double()
    assert tuple(enc(x).shape) == (3, 5, 8)
    assert "layers.1.self_attn.in_proj_weight" in enc.state_dict()
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight


# ------------------------------------------------------------------------------------ init
def test_calculate_gain_and_fans():
    init = nn.init
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
    assert init._calculate_fan_in_and_fan_out(ag.empty(16, 3, 5, 5)) == (75, 400)
    with pytest.raises(ValueError, match="fewer than 2"):
        init.xavier_uniform_(ag.empty(5))


def test_init_distributions():
    init = nn.init
    ag.manual_seed(0)
    w = ag.empty(300, 200)
    init.xavier_uniform_(w, gain=2.0)
    a = 2.0 * math.sqrt(6 / 500)
    assert np.abs(np_of(w)).max() <= a and abs(np_of(w).std() - a / math.sqrt(3)) < 0.02 * a
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(np_of(w).std() - math.sqrt(2 / 300)) < 0.02 * math.sqrt(2 / 300)
    init.kaiming_uniform_(w)
    bound = math.sqrt(2) * math.sqrt(3 / 200)
    assert np.abs(np_of(w)).max() <= bound
    init.xavier_normal_(w)
    assert abs(np_of(w).std() - math.sqrt(2 / 500)) < 0.03 * math.sqrt(2 / 500)
    init.constant_(w, 0.5)
    assert np.all(np_of(w) == 0.5)
    init.zeros_(w)
    init.ones_(w)
    assert np.all(np_of(w) == 1)
    q = init.orthogonal_(ag.empty(4, 6, dtype=ag.float64), gain=3.0)
    np.testing.assert_allclose(np_of(q) @ np_of(q).T, 9 * np.eye(4), atol=1e-10)
    q = init.orthogonal_(ag.empty(6, 4, dtype=ag.float64))
    np.testing.assert_allclose(np_of(q).T @ np_of(q), np.eye(4), atol=1e-10)
    ag.manual_seed(5)
    first = np_of(init.normal_(ag.empty(10))).copy()
    ag.manual_seed(5)
    np.testing.assert_array_equal(first, np_of(init.normal_(ag.empty(10))))


# ------------------------------------------------------------------------------------ utils
def test_clip_grad_norm_and_value():
    p1, p2 = nn.Parameter(ag.zeros(3)), nn.Parameter(ag.zeros(2, 2))
    p1.grad = ag.tensor([3.0, 0.0, 4.0])
    p2.grad = ag.tensor([[0.0, 12.0], [0.0, 0.0]])
    total = nn.utils.clip_grad_norm_([p1, p2], 6.5)
    assert float(total) == pytest.approx(13.0)
    np.testing.assert_allclose(np_of(p1.grad), np.array([3, 0, 4]) * 6.5 / 13, rtol=1e-5)
    total_inf = nn.utils.clip_grad_norm_([p1, p2], 100.0, norm_type=math.inf)
    assert float(total_inf) == pytest.approx(6.0, rel=1e-5)
    nn.utils.clip_grad_value_([p1, p2], 1.0)
    assert float(p2.grad.max()) == 1.0
    p1.grad = ag.tensor([float("nan"), 0.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p1], 1.0, error_if_nonfinite=True)


def test_parameters_to_vector_round_trip_and_penalties():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    vec = nn.utils.parameters_to_vector(net.parameters())
    assert tuple(vec.shape) == (3 * 4 + 4 + 4 * 2 + 2,)
    nn.utils.vector_to_parameters(ag.arange(vec.numel()).float(), net.parameters())
    np.testing.assert_array_equal(np_of(net[0].bias), np.arange(12, 16))
    with pytest.raises(ValueError, match="elements"):
        nn.utils.vector_to_parameters(ag.zeros(3), net.parameters())
    l1 = nn.utils.l1_penalty(net.parameters())
    l2 = nn.utils.l2_penalty(net.parameters())
    w1, w2 = np_of(net[0].weight), np_of(net[2].weight)
    assert float(l1) == pytest.approx(np.abs(w1).sum() + np.abs(w2).sum())
    assert float(l2) == pytest.approx((w1 ** 2).sum() + (w2 ** 2).sum())
    l2.backward()
    np.testing.assert_allclose(np_of(net[0].weight.grad), 2 * w1)
    assert net[0].bias.grad is None


# ------------------------------------------------------------------------------------ training sanity
def two_spirals(n, seed):
    r = np.random.default_rng(seed)
    t = np.sqrt(r.uniform(0, 1, n)) * 3 * np.pi
    a = np.stack([t * np.cos(t), t * np.sin(t)], 1) / (3 * np.pi)
    b = -a
    x = np.concatenate([a, b]) + r.normal(scale=0.02, size=(2 * n, 2))
    y = np.concatenate([np.zeros(n), np.ones(n)]).astype(np.int64)
    return x.astype(np.float32), y


def test_mlp_learns_two_spirals():
    ag.manual_seed(0)
    x, y = two_spirals(300, seed=0)
    model = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
    opt = ag.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = ag.tensor(x), ag.tensor(y)
    perm = np.random.default_rng(1)
    for epoch in range(100):
        order = perm.permutation(len(x))
        for start in range(0, len(x), 200):
            idx = ag.tensor(order[start:start + 200])
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    model.eval()
    with ag.no_grad():
        accuracy = float((model(xt).argmax(1) == yt).float().mean())
    assert accuracy >= 0.97, accuracy


def test_logistic_regression_gradient_descent_matches_newton_optimum():
    r = rng(20)
    n, d = 200, 3
    x = r.normal(size=(n, d))
    true_w = np.array([1.5, -2.0, 0.5])
    y = (r.uniform(size=n) < 1 / (1 + np.exp(-(x @ true_w + 0.3)))).astype(np.float64)
    lam = 0.01
    # reference optimum of mean BCE + lam * ||w||^2 (bias excluded) by Newton's method in NumPy
    X = np.hstack([x, np.ones((n, 1))])
    theta = np.zeros(d + 1)
    reg = np.diag([lam * 2] * d + [0.0])
    for _ in range(50):
        p = 1 / (1 + np.exp(-X @ theta))
        grad = X.T @ (p - y) / n + reg @ theta
        hess = (X.T * (p * (1 - p))) @ X / n + reg
        theta -= np.linalg.solve(hess, grad)
    model = nn.Linear(d, 1).double()
    xt, yt = t64(x), t64(y[:, None])
    for _ in range(3000):
        model.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(xt), yt) + lam * nn.utils.l2_penalty(model.parameters())
        loss.backward()
        with ag.no_grad():
            for p in model.parameters():
                p.sub_(p.grad * 1.0)
    got = np.concatenate([np_of(model.weight).ravel(), np_of(model.bias)])
    np.testing.assert_allclose(got, theta, atol=1e-5)


# ------------------------------------------------------------------------------------ torch cross-checks
def test_torch_state_dict_loads_and_matches():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.GELU(),
                                 torch.nn.Linear(8, 3), torch.nn.LayerNorm(3)).double()
    tmodel.train()
    tx = torch.randn(16, 4, dtype=torch.float64)
    tmodel(tx)
    ours = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.GELU(), nn.Linear(8, 3), nn.LayerNorm(3)).double()
    tsd = tmodel.state_dict()
    assert list(ours.state_dict().keys()) == list(tsd.keys())
    ours.load_state_dict({k: v.numpy() for k, v in tsd.items()})
    for mode in ("train", "eval"):
        getattr(tmodel, mode)()
        getattr(ours, mode)()
        x = rng(21).normal(size=(10, 4))
        np.testing.assert_allclose(np_of(ours(t64(x))), tmodel(torch.tensor(x)).detach().numpy(), rtol=1e-9,
                                   atol=1e-10)
    for k, v in tmodel.state_dict().items():
        np.testing.assert_allclose(np_of(ours.state_dict()[k]), v.numpy(), rtol=1e-12)
    direct = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.GELU(), nn.Linear(8, 3), nn.LayerNorm(3)).double()
    direct.load_state_dict(tmodel.state_dict())  # torch tensors themselves are accepted too
    np.testing.assert_array_equal(np_of(direct[0].weight), tmodel[0].weight.detach().numpy())


def test_torch_multihead_attention_matches():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(8, 2).double()
    ours = nn.MultiheadAttention(8, 2).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    r = rng(22)
    q, k = r.normal(size=(4, 3, 8)), r.normal(size=(6, 3, 8))
    mask = np.zeros((3, 6), bool)
    mask[1, -2:] = True
    to, tw = tm(torch.tensor(q), torch.tensor(k), torch.tensor(k), key_padding_mask=torch.tensor(mask))
    oo, ow = ours(t64(q), t64(k), t64(k), key_padding_mask=ag.tensor(mask))
    np.testing.assert_allclose(np_of(oo), to.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np_of(ow), tw.detach().numpy(), rtol=1e-9, atol=1e-12)
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0).double().eval()
    ol = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0).double()
    ol.load_state_dict({k: v.detach().numpy() for k, v in tl.state_dict().items()})
    with torch.no_grad():
        np.testing.assert_allclose(np_of(ol(t64(q))), tl(torch.tensor(q)).numpy(), rtol=1e-9, atol=1e-10)


def test_module_to_keeps_parameter_identity():
    lin = nn.Linear(2, 2)
    weight = lin.weight
    lin.double()
    assert lin.weight is weight and weight.dtype == ag.float64 and weight.requires_grad
    lin(ag.randn(3, 2, dtype=ag.float64)).sum().backward()
    assert weight.grad.dtype == ag.float64



@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 9), min_size=2, max_size=4).filter(lambda s: s[0] * int(np.prod(s[2:])) > 1),
       affine=st.booleans(), seed=st.integers(0, 10 ** 6), dtype=st.sampled_from([np.float32, np.float64]))
def test_batch_norm_kernel_property(shape, affine, seed, dtype):
    r = np.random.default_rng(seed)
    x = (r.normal(size=shape) * 2 + 0.5).astype(dtype)
    c = shape[1]
    w = r.normal(size=c).astype(dtype) if affine else None
    b = r.normal(size=c).astype(dtype) if affine else None
    xt = ag.tensor(x, requires_grad=True)
    wt = None if w is None else ag.tensor(w, requires_grad=True)
    bt = None if b is None else ag.tensor(b, requires_grad=True)
    out = F.batch_norm(xt, None, None, wt, bt, training=True)
    ref, _, var = np_batch_norm(x.astype(np.float64), np.ones(c) if w is None else w.astype(np.float64),
                                np.zeros(c) if b is None else b.astype(np.float64))
    tol = 5e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(np_of(out), ref, rtol=tol, atol=tol)
    g = r.normal(size=shape)
    out.backward(ag.tensor(g.astype(dtype)))
    axes = (0,) + tuple(range(2, len(shape)))
    sh = (1, -1) + (1,) * (len(shape) - 2)
    inv = 1 / np.sqrt(var.reshape(sh) + 1e-5)
    xhat = (x - x.astype(np.float64).mean(axes, keepdims=True)) * inv
    scale = 1.0 if w is None else w.astype(np.float64).reshape(sh)
    gx = scale * inv * (g - g.mean(axes, keepdims=True) - xhat * (g * xhat).mean(axes, keepdims=True))
    np.testing.assert_allclose(np_of(xt.grad), gx, rtol=20 * tol, atol=20 * tol)
    if affine:
        np.testing.assert_allclose(np_of(wt.grad), (g * xhat).sum(axes), rtol=20 * tol, atol=20 * tol)
        np.testing.assert_allclose(np_of(bt.grad), g.sum(axes), rtol=20 * tol, atol=20 * tol)


def test_layer_norm_double_backward_and_affine_grads():
    r = rng(30)
    x = t64(r.normal(size=(2, 3, 4)), True)
    w, b = t64(r.normal(size=(3, 4)), True), t64(r.normal(size=(3, 4)), True)
    assert gradcheck(lambda a, ww, bb: F.layer_norm(a, (3, 4), ww, bb), [x, w, b])
    assert gradcheck(lambda a: F.layer_norm(a, 4), [x])
    assert ag.autograd.gradgradcheck(lambda a, ww: F.layer_norm(a, (4,), ww), [x, t64(r.normal(size=4), True)])


def test_embedding_double_backward():
    weight = t64(rng(31).normal(size=(5, 3)), True)
    assert ag.autograd.gradgradcheck(lambda w: F.embedding(ag.tensor([1, 0, 1, 4]), w, padding_idx=0) ** 2,
                                     [weight])
