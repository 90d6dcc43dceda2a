"""RNN / LSTM / GRU and cells: shapes for every option, NumPy reference recurrences, gradcheck on
tiny sizes, PyTorch parameter names and (where installed) outputs from torch's weights."""
import math

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import nn

gradcheck = ag.autograd.gradcheck


def t64(a, requires_grad=False):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def np_of(t):
    return np.asarray(t.detach())


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def np_lstm_layer(x, h, c, w_ih, w_hh, b_ih, b_hh, reverse=False):
    outs = [None] * len(x)
    steps = range(len(x) - 1, -1, -1) if reverse else range(len(x))
    for t in steps:
        g = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, gg, o = np.split(g, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(gg)
        h = sigmoid(o) * np.tanh(c)
        outs[t] = h
    return np.stack(outs), h, c


def np_gru_layer(x, h, w_ih, w_hh, b_ih, b_hh):
    outs = []
    for t in range(len(x)):
        xr, xz, xn = np.split(x[t] @ w_ih.T + b_ih, 3, axis=1)
        hr, hz, hn = np.split(h @ w_hh.T + b_hh, 3, axis=1)
        r, z = sigmoid(xr + hr), sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        outs.append(h)
    return np.stack(outs), h


def params(module):
    return {k: np_of(v) for k, v in module.state_dict().items()}


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_rnn_shapes(cls, batch_first, bidirectional):
    m = cls(3, 4, num_layers=2, batch_first=batch_first, bidirectional=bidirectional)
    d = 2 if bidirectional else 1
    x = ag.randn(2, 5, 3) if batch_first else ag.randn(5, 2, 3)
    out, hidden = m(x)
    assert tuple(out.shape) == ((2, 5, 4 * d) if batch_first else (5, 2, 4 * d))
    h = hidden[0] if cls is nn.LSTM else hidden
    assert tuple(h.shape) == (2 * d, 2, 4)
    if cls is nn.LSTM:
        assert tuple(hidden[1].shape) == (2 * d, 2, 4)
    # unbatched input
    out1, hidden1 = m(ag.randn(5, 3))
    assert tuple(out1.shape) == (5, 4 * d)
    assert tuple((hidden1[0] if cls is nn.LSTM else hidden1).shape) == (2 * d, 4)


def test_rnn_parameter_names_and_init():
    m = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    names = list(m.state_dict().keys())
    assert names[:8] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse",
                         "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse"]
    assert tuple(m.weight_ih_l1.shape) == (20, 10) and tuple(m.weight_hh_l1_reverse.shape) == (20, 5)
    bound = 1 / math.sqrt(5)
    assert all(float(p.abs().max()) <= bound for p in m.parameters())
    g = nn.GRU(3, 5, bias=False)
    assert list(g.state_dict().keys()) == ["weight_ih_l0", "weight_hh_l0"]
    assert tuple(g.weight_ih_l0.shape) == (15, 3)


def test_lstm_matches_numpy_two_layers_bidirectional():
    ag.manual_seed(0)
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    p = params(m)
    r = np.random.default_rng(0)
    x = r.normal(size=(6, 2, 3))
    h0, c0 = r.normal(size=(4, 2, 4)), r.normal(size=(4, 2, 4))
    out, (hn, cn) = m(t64(x), (t64(h0), t64(c0)))
    layer_in, hs, cs = x, [], []
    for layer in range(2):
        outs = []
        for d, sfx in enumerate(["", "_reverse"]):
            k = layer * 2 + d
            o, h, c = np_lstm_layer(layer_in, h0[k], c0[k], p[f"weight_ih_l{layer}{sfx}"],
                                    p[f"weight_hh_l{layer}{sfx}"], p[f"bias_ih_l{layer}{sfx}"],
                                    p[f"bias_hh_l{layer}{sfx}"], reverse=d == 1)
            outs.append(o)
            hs.append(h)
            cs.append(c)
        layer_in = np.concatenate(outs, 2)
    np.testing.assert_allclose(np_of(out), layer_in, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np_of(hn), np.stack(hs), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np_of(cn), np.stack(cs), rtol=1e-10, atol=1e-12)


def test_gru_and_rnn_match_numpy():
    m = nn.GRU(3, 4, batch_first=True).double()
    p = params(m)
    x = np.random.default_rng(1).normal(size=(2, 5, 3))
    out, hn = m(t64(x))
    ref, h = np_gru_layer(x.transpose(1, 0, 2), np.zeros((2, 4)), p["weight_ih_l0"], p["weight_hh_l0"],
                          p["bias_ih_l0"], p["bias_hh_l0"])
    np.testing.assert_allclose(np_of(out), ref.transpose(1, 0, 2), rtol=1e-10)
    np.testing.assert_allclose(np_of(hn)[0], h, rtol=1e-10)
    rnn = nn.RNN(3, 4, nonlinearity="relu").double()
    p = params(rnn)
    h = np.zeros((2, 4))
    xs = np.random.default_rng(2).normal(size=(5, 2, 3))
    for t in range(5):
        h = np.maximum(xs[t] @ p["weight_ih_l0"].T + p["bias_ih_l0"] + h @ p["weight_hh_l0"].T + p["bias_hh_l0"], 0)
    np.testing.assert_allclose(np_of(rnn(t64(xs))[1])[0], h, rtol=1e-10)


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_rnn_gradcheck(cls):
    ag.manual_seed(1)
    m = cls(2, 3, num_layers=2, bidirectional=True).double()
    x = t64(np.random.default_rng(3).normal(size=(3, 2, 2)), True)
    weights = list(m.parameters())

    def f(inp, *ws):  # ws are m's own parameters: gradcheck perturbs them in place
        out, hidden = m(inp)
        h = hidden[0] if cls is nn.LSTM else hidden
        return out.sum(2), h
    assert gradcheck(f, [x] + [w for w in weights])


@pytest.mark.parametrize("cls,gates", [(nn.RNNCell, 1), (nn.LSTMCell, 4), (nn.GRUCell, 3)])
def test_cells(cls, gates):
    cell = cls(3, 4).double()
    assert tuple(cell.weight_ih.shape) == (gates * 4, 3)
    x = t64(np.random.default_rng(4).normal(size=(2, 3)), True)
    out = cell(x)
    h = out[0] if cls is nn.LSTMCell else out
    assert tuple(h.shape) == (2, 4)
    single = cell(x[0])
    h1 = single[0] if cls is nn.LSTMCell else single
    np.testing.assert_allclose(np_of(h1), np_of(h)[0], rtol=1e-12)
    assert gradcheck(lambda a: cell(a)[0] if cls is nn.LSTMCell else cell(a), [x])
    # one step of the full layer equals the cell with the same weights
    layer = {nn.RNNCell: nn.RNN, nn.LSTMCell: nn.LSTM, nn.GRUCell: nn.GRU}[cls](3, 4).double()
    layer.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    lout = layer(x.unsqueeze(0))[0][0]
    np.testing.assert_allclose(np_of(lout), np_of(h), rtol=1e-12)


def test_rnn_dropout_between_layers_only_in_training():
    m = nn.GRU(3, 4, num_layers=2, dropout=0.5).double()
    x = t64(np.random.default_rng(5).normal(size=(4, 2, 3)))
    m.eval()
    a, b = np_of(m(x)[0]), np_of(m(x)[0])
    np.testing.assert_array_equal(a, b)
    m.train()
    ag.manual_seed(1)
    c = np_of(m(x)[0])
    assert not np.allclose(a, c)


def test_rnn_bad_input():
    m = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match=r"input has 5 features, expected input_size=3 \(input of shape \(2, 2, 5\)\)"):
        m(ag.randn(2, 2, 5))
    with pytest.raises(ValueError, match=r"expected h0 of shape \(1, 2, 4\)"):
        m(ag.randn(5, 2, 3), (ag.zeros(1, 3, 4), ag.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="2-D .* or 3-D"):
        m(ag.randn(3))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")


def test_rnn_matches_torch_with_its_weights():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x = np.random.default_rng(6).normal(size=(2, 5, 3))
    for tcls, ocls in [(torch.nn.LSTM, nn.LSTM), (torch.nn.GRU, nn.GRU), (torch.nn.RNN, nn.RNN)]:
        tm = tcls(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
        om = ocls(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
        assert list(om.state_dict().keys()) == list(tm.state_dict().keys())
        om.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
        tout, _ = tm(torch.tensor(x))
        oout, _ = om(t64(x))
        np.testing.assert_allclose(np_of(oout), tout.detach().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
def test_layer_kernel_matches_composite_and_double_backward(mode):
    from autograd_core.nn import rnn
    r = np.random.default_rng(7)
    hs, gates = 3, rnn._GATES[mode]
    sizes = [3, 2, 2, 1]
    x = t64(r.normal(size=(sum(sizes), 2)), True)
    h0 = t64(r.normal(size=(3, hs)), True)
    c0 = t64(r.normal(size=(3, hs)), True) if mode == "LSTM" else None
    w_ih = t64(r.normal(size=(gates * hs, 2)) * 0.5, True)
    w_hh = t64(r.normal(size=(gates * hs, hs)) * 0.5, True)
    b_ih = t64(r.normal(size=gates * hs), True)
    b_hh = t64(r.normal(size=gates * hs), True)
    inputs = [x, h0, c0, w_ih, w_hh, b_ih, b_hh]
    for reverse in (False, True):
        def fused(*a, reverse=reverse):
            return rnn._RNNLayer.apply(*a, None, mode, reverse, sizes)

        def composite(*a, reverse=reverse):
            return rnn._layer_composite(*a, None, mode, reverse, sizes)
        outs_f, outs_c = fused(*inputs), composite(*inputs)
        for a, b_ in zip(outs_f, outs_c):
            np.testing.assert_allclose(np_of(a), np_of(b_), rtol=1e-12, atol=1e-14)
        gs = [t64(r.normal(size=o.shape)) for o in outs_f]
        used = [t for t in inputs if t is not None]
        grads_f = ag.autograd.grad(list(outs_f), used, gs)
        grads_c = ag.autograd.grad(list(outs_c), used, gs)
        for a, b_ in zip(grads_f, grads_c):
            np.testing.assert_allclose(np_of(a), np_of(b_), rtol=1e-10, atol=1e-12)
        args = [t for t in inputs if t is not None]
        if mode == "LSTM":
            f = fused
        else:
            def f(x_, h_, *w, fused=fused):
                return fused(x_, h_, None, *w)
        assert gradcheck(f, args)
        assert ag.autograd.gradgradcheck(f, args)


def test_rnn_benchmark_cases_run():
    # benchmarks/bench_rnn.py builds its steps from the public API: one step of ours per kind keeps
    # the benchmark from rotting (timing never decides a test)
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks", "bench_rnn.py")
    spec = importlib.util.spec_from_file_location("_agc_bench_rnn_under_test", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for kind in bench.KINDS:
        bench.lib_layer(ag, kind, "small", True)()
    bench.lib_charlm(ag)()
