"""nn additions: ParameterList/Dict, Unfold/Fold, PixelShuffle, RMSNorm, EmbeddingBag, MaxUnpool,
gumbel_softmax, weight_norm/spectral_norm, nn.parallel.DataParallel. Forward against torch (when
installed) or formulas, gradients by gradcheck in float64, errors."""
import warnings

import numpy as np
import pytest

import autograd_core as ag
import autograd_core.nn.functional as F

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")
RNG = np.random.default_rng(3)


def leaf(a):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def test_parameter_containers():
    plist = ag.nn.ParameterList([ag.nn.Parameter(ag.zeros(2)), ag.ones(3)])
    plist.append(ag.zeros(1))
    assert len(plist) == 3 and isinstance(plist[1], ag.nn.Parameter) and plist[-1].shape == (1,)
    pdict = ag.nn.ParameterDict({"a": ag.ones(2), "b": ag.nn.Parameter(ag.zeros(1))})
    pdict["c"] = ag.zeros(4)

    class M(ag.nn.Module):
        def __init__(self):
            super().__init__()
            self.plist = plist
            self.pdict = pdict

    m = M()
    assert sorted(m.state_dict()) == ["pdict.a", "pdict.b", "pdict.c", "plist.0", "plist.1", "plist.2"]
    assert len(list(m.parameters())) == 6 and list(pdict.keys()) == ["a", "b", "c"] and "b" in pdict
    opt = ag.optim.SGD(m.parameters(), lr=1.0)
    (plist[1].sum() + pdict["a"].sum()).backward()
    opt.step()
    assert plist[1].tolist() == [0, 0, 0] and pdict["a"].tolist() == [0, 0]
    del pdict["c"]
    assert len(pdict) == 2 and "pdict.c" not in m.state_dict()
    with pytest.raises(IndexError):
        plist[5]
    with pytest.raises(KeyError):
        pdict["zz"]
    assert pdict.get("zz") is None and pdict.get("zz", 3) == 3 and pdict.get("a") is pdict["a"]


@needs_torch
@pytest.mark.parametrize("kwargs", [{"kernel_size": 2}, {"kernel_size": (3, 2), "dilation": (1, 2), "padding": 1, "stride": (2, 1)}])
def test_unfold_fold_match_torch(kwargs):
    x = RNG.standard_normal((2, 3, 6, 7))
    ours = F.unfold(ag.tensor(x), **kwargs)
    theirs = torch.nn.functional.unfold(torch.tensor(x), **kwargs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_allclose(F.fold(ours, (6, 7), **kwargs).numpy(),
                               torch.nn.functional.fold(theirs, (6, 7), **kwargs).numpy(), rtol=1e-12)
    assert ag.nn.Unfold(**kwargs)(ag.tensor(x[0])).shape == tuple(theirs.shape[1:])


def test_unfold_fold_gradients_and_errors():
    x = RNG.standard_normal((1, 2, 4, 5))
    assert ag.autograd.gradcheck(lambda t: F.unfold(t, 2, padding=1, stride=2), [leaf(x)])
    cols = RNG.standard_normal((1, 8, 12))
    assert ag.autograd.gradcheck(lambda t: ag.nn.Fold((4, 5), 2)(t), [leaf(cols)])
    with pytest.raises(ValueError, match="fold: given output_size.*sliding blocks 3 \\* 4 = 12, but got input.size\\(2\\)=11"):
        F.fold(ag.zeros(1, 8, 11), (4, 5), 2)
    with pytest.raises(ValueError, match="unfold: expected a 3-D or 4-D input"):
        F.unfold(ag.zeros(4, 4), 2)


def test_pixel_shuffle_round_trip():
    x = RNG.standard_normal((2, 8, 3, 5))
    y = ag.nn.PixelShuffle(2)(ag.tensor(x))
    assert y.shape == (2, 2, 6, 10)
    # formula: out[n, c, h*r + i, w*r + j] = in[n, c*r*r + i*r + j, h, w]
    assert y.numpy()[1, 1, 3, 8] == x[1, 1 * 4 + 1 * 2 + 0, 1, 4]
    np.testing.assert_array_equal(ag.nn.PixelUnshuffle(2)(y).numpy(), x)
    assert ag.autograd.gradcheck(lambda t: F.pixel_shuffle(t, 2), [leaf(x[:1, :4, :2, :2])])
    with pytest.raises(ValueError, match="divisible by the square of upscale_factor"):
        F.pixel_shuffle(ag.zeros(1, 6, 2, 2), 2)
    if torch is not None:
        np.testing.assert_array_equal(y.numpy(), torch.nn.functional.pixel_shuffle(torch.tensor(x), 2).numpy())


def test_rms_norm():
    x = RNG.standard_normal((3, 4, 5))
    norm = ag.nn.RMSNorm([4, 5], eps=1e-6)
    expected = x / np.sqrt((x ** 2).mean(axis=(1, 2), keepdims=True) + 1e-6)
    np.testing.assert_allclose(norm(ag.tensor(x, dtype=ag.float32)).detach().numpy(), expected, rtol=1e-5)
    w = RNG.standard_normal(5)
    assert ag.autograd.gradcheck(lambda t, g: F.rms_norm(t, (5,), g), [leaf(x), leaf(w)])
    if torch is not None:
        np.testing.assert_allclose(F.rms_norm(ag.tensor(x), (5,)).numpy(),
                                   torch.nn.functional.rms_norm(torch.tensor(x), (5,)).numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="expected input with shape"):
        norm(ag.zeros(3, 5, 4))


@needs_torch
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_torch(mode):
    weight = RNG.standard_normal((10, 3))
    inp = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0])
    offsets = np.array([0, 4, 4, 6])
    ours = F.embedding_bag(ag.tensor(inp), ag.tensor(weight), ag.tensor(offsets), mode=mode, padding_idx=2)
    theirs = torch.nn.functional.embedding_bag(torch.tensor(inp), torch.tensor(weight), torch.tensor(offsets), mode=mode,
                                               padding_idx=2)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    two_d = F.embedding_bag(ag.tensor(inp[:8].reshape(2, 4)), ag.tensor(weight), mode=mode)
    np.testing.assert_allclose(two_d.numpy(), torch.nn.functional.embedding_bag(
        torch.tensor(inp[:8].reshape(2, 4)), torch.tensor(weight), mode=mode).numpy(), rtol=1e-12)
    if mode == "sum":
        psw = RNG.standard_normal(9)
        np.testing.assert_allclose(
            F.embedding_bag(ag.tensor(inp), ag.tensor(weight), ag.tensor(offsets), mode="sum",
                            per_sample_weights=ag.tensor(psw)).numpy(),
            torch.nn.functional.embedding_bag(torch.tensor(inp), torch.tensor(weight), torch.tensor(offsets), mode="sum",
                                              per_sample_weights=torch.tensor(psw)).numpy(), rtol=1e-12)
    assert ag.autograd.gradcheck(lambda w: F.embedding_bag(ag.tensor(inp), w, ag.tensor(offsets), mode=mode),
                                 [leaf(weight)])


def test_embedding_bag_module_and_errors():
    bag = ag.nn.EmbeddingBag(5, 2, mode="sum")
    out = bag(ag.tensor([[0, 1], [2, 3]]))
    np.testing.assert_allclose(out.detach().numpy(), bag.weight.detach().numpy()[[0, 2]] + bag.weight.detach().numpy()[[1, 3]],
                               rtol=1e-6)
    with pytest.raises(ValueError, match="offsets has to be None"):
        bag(ag.tensor([[0, 1]]), ag.tensor([0]))
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        ag.nn.EmbeddingBag(5, 2)(ag.tensor([0, 1]), ag.tensor([0]), per_sample_weights=ag.ones(2))


def test_max_unpool():
    x = RNG.standard_normal((2, 3, 4, 6))
    out, idx = F.max_pool2d(ag.tensor(x), 2, return_indices=True)
    un = ag.nn.MaxUnpool2d(2)(out, idx)
    assert un.shape == x.shape
    kept = un.numpy() != 0
    assert np.array_equal(un.numpy()[kept], x[kept]) and kept.sum() == out.numel()
    flat = un.numpy().reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.numpy().reshape(2, 3, -1), 2), out.numpy().reshape(2, 3, -1))
    assert ag.autograd.gradcheck(lambda t: F.max_unpool2d(t, idx, 2), [leaf(out.numpy())])
    assert F.max_unpool2d(out, idx, 2, output_size=(5, 7)).shape == (2, 3, 5, 7)
    o1, i1 = F.max_pool1d(ag.tensor(x[0]), 3, return_indices=True)
    assert ag.nn.MaxUnpool1d(3)(o1, i1).shape == (3, 4, 6)
    if torch is not None:
        t_out, t_idx = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
        np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
        np.testing.assert_array_equal(un.numpy(), torch.nn.functional.max_unpool2d(t_out, t_idx, 2).numpy())
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(out, idx, 2, output_size=(9, 9))


def test_gumbel_softmax():
    logits = ag.tensor(np.log([[0.1, 0.2, 0.7]]).repeat(4000, 0))
    ag.manual_seed(0)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.numpy().sum(1), 1, rtol=1e-6)
    hard = F.gumbel_softmax(logits, hard=True)
    assert set(np.unique(hard.numpy())) <= {0.0, 1.0} and (hard.numpy().sum(1) == 1).all()
    np.testing.assert_allclose(hard.numpy().mean(0), [0.1, 0.2, 0.7], atol=0.03)  # Gumbel-max sampling
    lg = leaf(np.zeros((2, 3)))
    (F.gumbel_softmax(lg, hard=True) * ag.tensor([[1.0, 2.0, 3.0]] * 2, dtype=ag.float64)).sum().backward()
    assert lg.grad is not None and np.abs(lg.grad.numpy()).sum() > 0  # straight-through gradient


@needs_torch
def test_weight_and_spectral_norm_match_torch():
    warnings.simplefilter("ignore")
    W = RNG.standard_normal((4, 3))
    X = RNG.standard_normal((2, 3))
    for dim in (0, 1, None):
        m = ag.nn.Linear(3, 4, dtype=ag.float64)
        tm = torch.nn.Linear(3, 4).double()
        with ag.no_grad():
            m.weight.copy_(ag.tensor(W))
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(W))
            tm.bias.copy_(torch.tensor(m.bias.detach().numpy()))
        ag.nn.utils.weight_norm(m, dim=dim)
        torch.nn.utils.weight_norm(tm, dim=dim)
        assert sorted(m.state_dict()) == sorted(tm.state_dict())
        y, ty = m(ag.tensor(X)), tm(torch.tensor(X))
        (y ** 2).sum().backward()
        (ty ** 2).sum().backward()
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(m.weight_g.grad.numpy(), tm.weight_g.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(m.weight_v.grad.numpy(), tm.weight_v.grad.numpy(), rtol=1e-10)
        ag.nn.utils.remove_weight_norm(m)
        assert sorted(m.state_dict()) == ["bias", "weight"]
        np.testing.assert_allclose(m.weight.detach().numpy(), W, rtol=1e-12)
    conv = ag.nn.Conv2d(2, 3, 3, dtype=ag.float64)
    tconv = torch.nn.Conv2d(2, 3, 3).double()
    with torch.no_grad():
        tconv.weight.copy_(torch.tensor(conv.weight.detach().numpy()))
        tconv.bias.copy_(torch.tensor(conv.bias.detach().numpy()))
    ag.nn.utils.spectral_norm(conv)
    torch.nn.utils.spectral_norm(tconv)
    with ag.no_grad():
        conv.weight_u.copy_(ag.tensor(tconv.weight_u.numpy()))
        conv.weight_v.copy_(ag.tensor(tconv.weight_v.numpy()))
    x = RNG.standard_normal((1, 2, 5, 5))
    for _ in range(3):
        y, ty = conv(ag.tensor(x)), tconv(torch.tensor(x))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(conv.weight_orig.grad.numpy(), tconv.weight_orig.grad.numpy(), rtol=1e-9)
    conv.eval()
    tconv.eval()
    np.testing.assert_allclose(conv(ag.tensor(x)).detach().numpy(), tconv(torch.tensor(x)).detach().numpy(), rtol=1e-10)


def test_norm_hooks_formulas_and_errors():
    m = ag.nn.Linear(3, 4, dtype=ag.float64)
    W = m.weight.detach().numpy().copy()
    ag.nn.utils.spectral_norm(m, n_power_iterations=30)
    m(ag.zeros(1, 3, dtype=ag.float64))
    np.testing.assert_allclose(np.linalg.svd(m.weight.detach().numpy(), compute_uv=False)[0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(m.weight.detach().numpy() * np.linalg.svd(W, compute_uv=False)[0], W, rtol=1e-6)
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        ag.nn.utils.spectral_norm(m)
    with pytest.raises(ValueError, match="has no parameter 'kernel'"):
        ag.nn.utils.weight_norm(ag.nn.Linear(2, 2), name="kernel")
    ag.nn.utils.remove_spectral_norm(m)
    assert sorted(m.state_dict()) == ["bias", "weight"]


def test_data_parallel_pass_through():
    net = ag.nn.Linear(3, 2)
    dp = ag.nn.parallel.DataParallel(net)
    x = ag.randn(4, 3)
    assert np.array_equal(dp(x).detach().numpy(), net(x).detach().numpy())
    assert sorted(dp.state_dict()) == ["module.bias", "module.weight"] and dp.module is net
    assert ag.nn.DataParallel is ag.nn.parallel.DataParallel if hasattr(ag.nn, "DataParallel") else True
    with pytest.raises(RuntimeError, match="CPU"):
        ag.nn.parallel.DataParallel(net, device_ids=[0, 1])
    assert ag.nn.parallel.data_parallel(net, x).shape == (4, 2)


@needs_torch
def test_parametrizations_match_torch():
    W = RNG.standard_normal((4, 3))
    X = RNG.standard_normal((2, 3))
    for kind in ("weight_norm", "spectral_norm"):
        m = ag.nn.Linear(3, 4, dtype=ag.float64)
        tm = torch.nn.Linear(3, 4).double()
        with ag.no_grad():
            m.weight.copy_(ag.tensor(W))
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(W))
            tm.bias.copy_(torch.tensor(m.bias.detach().numpy()))
        getattr(ag.nn.utils.parametrizations, kind)(m)
        getattr(torch.nn.utils.parametrizations, kind)(tm)
        assert sorted(m.state_dict()) == sorted(tm.state_dict()) and type(m).__name__ == type(tm).__name__
        if kind == "spectral_norm":
            with ag.no_grad():
                m.parametrizations.weight[0]._u.copy_(ag.tensor(tm.parametrizations.weight[0]._u.numpy()))
                m.parametrizations.weight[0]._v.copy_(ag.tensor(tm.parametrizations.weight[0]._v.numpy()))
        for _ in range(2):
            y, ty = m(ag.tensor(X)), tm(torch.tensor(X))
        (y ** 2).sum().backward()
        (ty ** 2).sum().backward()
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
        for (name, p), (tname, tp) in zip(sorted(m.named_parameters()), sorted(tm.named_parameters())):
            assert name == tname
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_parametrize_register_remove_and_errors():
    P = ag.nn.utils.parametrize

    class Symmetric(ag.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).mT

    m = ag.nn.Linear(3, 3)
    P.register_parametrization(m, "weight", Symmetric())
    w = m.weight.detach().numpy()
    assert np.array_equal(w, w.T) and P.is_parametrized(m, "weight") and type(m).__name__ == "ParametrizedLinear"
    assert P.type_before_parametrizations(m) is ag.nn.Linear
    with P.cached():
        assert m.weight is m.weight
    clone = __import__("copy").deepcopy(m)
    assert np.array_equal(clone.weight.detach().numpy(), w)
    opt = ag.optim.SGD(m.parameters(), lr=0.1)
    m(ag.ones(1, 3)).sum().backward()
    opt.step()
    assert np.allclose(m.weight.detach().numpy(), m.weight.detach().numpy().T)
    P.remove_parametrizations(m, "weight")
    assert type(m) is ag.nn.Linear and sorted(m.state_dict()) == ["bias", "weight"]
    with pytest.raises(ValueError, match="no parameter or buffer with name 'kernel'"):
        P.register_parametrization(ag.nn.Linear(2, 2), "kernel", Symmetric())
    with pytest.raises(ValueError, match="shape"):
        P.register_parametrization(ag.nn.Linear(2, 2), "weight", ag.nn.Flatten(0))
    with pytest.raises(ValueError, match="does not have a parametrization"):
        P.remove_parametrizations(ag.nn.Linear(2, 2), "weight")
