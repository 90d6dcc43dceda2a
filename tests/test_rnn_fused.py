"""The fused recurrent layers (csrc/rnn.c through nn.RNN / LSTM / GRU and the cells) against PyTorch
with loaded weights over the option grid (outputs, h_n, c_n and every gradient), packed sequences
(PyTorch's semantics, and a packed batch equal to each sequence run alone), gradcheck and
gradgradcheck in float64, bitwise equality at 1 and 2 threads and under both SIMD targets, errors."""
import numpy as np
import pytest

import autograd_core as ag
from autograd_core import _core, nn
from autograd_core.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
)

torch = pytest.importorskip("torch")
gradcheck = ag.autograd.gradcheck
gradgradcheck = ag.autograd.gradgradcheck


def np_of(t):
    return np.asarray(t.detach()) if isinstance(t, ag.Tensor) else t.detach().numpy()


def ours_from_torch(tm, cls, **kw):
    om = cls(**kw).double()
    assert list(om.state_dict().keys()) == list(tm.state_dict().keys())
    om.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})
    return om


MODES = {
    "rnn_tanh": (nn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, torch.nn.LSTM, {}),
    "lstm_proj": (nn.LSTM, torch.nn.LSTM, {"proj_size": 3}),
    "gru": (nn.GRU, torch.nn.GRU, {}),
}
# (num_layers, bias, batch_first, bidirectional, with initial state)
GRID = [(1, True, False, False, False), (2, True, True, True, True), (2, False, False, True, False),
        (1, False, True, False, True), (3, True, False, False, True)]


def run_both(mode, layers, bias, batch_first, bidirectional, with_state, x_np, seed=0):
    ocls, tcls, extra = MODES[mode]
    torch.manual_seed(seed)
    kw = dict(input_size=x_np.shape[-1], hidden_size=5, num_layers=layers, bias=bias, batch_first=batch_first,
              bidirectional=bidirectional, **extra)
    tm = tcls(**kw).double()
    om = ours_from_torch(tm, ocls, **kw)
    lstm = ocls is nn.LSTM
    d = 2 if bidirectional else 1
    batched = x_np.ndim == 3
    batch = x_np.shape[0 if batch_first else 1] if batched else None
    real = extra.get("proj_size", 0) or 5
    r = np.random.default_rng(seed + 1)
    state_shapes = [(layers * d,) + ((batch,) if batched else ()) + (real,)]
    if lstm:
        state_shapes.append((layers * d,) + ((batch,) if batched else ()) + (5,))
    states = [r.normal(size=s) for s in state_shapes] if with_state else None
    results = []
    for lib, m in ((ag, om), (torch, tm)):
        x = lib.tensor(x_np, requires_grad=True)
        hs = [lib.tensor(s, requires_grad=True) for s in states] if states else []
        hx = None if not hs else (tuple(hs) if lstm else hs[0])
        out, hidden = m(x, hx)
        hidden = list(hidden) if lstm else [hidden]
        results.append((m, x, hs, out, hidden))
    return results, r


def compare(results, r, rtol=1e-9, atol=1e-11):
    (om, ox, ohs, oout, ohid), (tm, tx, ths, tout, thid) = results
    np.testing.assert_allclose(np_of(oout), np_of(tout), rtol=rtol, atol=atol)
    for a, b in zip(ohid, thid):
        np.testing.assert_allclose(np_of(a), np_of(b), rtol=rtol, atol=atol)
    grads = [r.normal(size=tuple(tout.shape))] + [r.normal(size=tuple(h.shape)) for h in thid]
    ag.autograd.backward([oout] + ohid, [ag.tensor(g) for g in grads])
    torch.autograd.backward([tout] + thid, [torch.tensor(g) for g in grads])
    np.testing.assert_allclose(np_of(ox.grad), np_of(tx.grad), rtol=rtol, atol=atol)
    for a, b in zip(ohs, ths):
        np.testing.assert_allclose(np_of(a.grad), np_of(b.grad), rtol=rtol, atol=atol)
    tparams = dict(tm.named_parameters())
    for name, p in om.named_parameters():
        np.testing.assert_allclose(np_of(p.grad), np_of(tparams[name].grad), rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("config", GRID, ids=lambda c: "l{}{}{}{}{}".format(
    c[0], "" if c[1] else "-nobias", "-bf" if c[2] else "", "-bi" if c[3] else "", "-h0" if c[4] else ""))
@pytest.mark.parametrize("mode", list(MODES))
def test_rnn_fused_matches_torch_grid(mode, config, rng):
    layers, bias, batch_first, bidirectional, with_state = config
    x = rng.normal(size=(3, 4, 2) if batch_first else (4, 3, 2))
    results, r = run_both(mode, layers, bias, batch_first, bidirectional, with_state, x)
    compare(results, r)


@pytest.mark.parametrize("mode", list(MODES))
def test_rnn_fused_unbatched_matches_torch(mode):
    x = np.random.default_rng(3).normal(size=(4, 2))
    results, r = run_both(mode, 2, True, False, True, True, x)
    compare(results, r)


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_rnn_fused_float32_matches_torch(mode):
    ocls, tcls, extra = MODES[mode]
    torch.manual_seed(0)
    tm = tcls(8, 16, num_layers=2, bidirectional=True, **extra)
    om = ocls(8, 16, num_layers=2, bidirectional=True, **extra)
    om.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(4).normal(size=(7, 5, 8)).astype(np.float32)
    ox, tx = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oo, to = om(ox)[0], tm(tx)[0]
    np.testing.assert_allclose(np_of(oo), np_of(to), rtol=1e-4, atol=1e-5)
    (oo * oo).sum().backward()
    (to * to).sum().backward()
    np.testing.assert_allclose(np_of(ox.grad), np_of(tx.grad), rtol=1e-4, atol=1e-5)
    tparams = dict(tm.named_parameters())
    for name, p in om.named_parameters():
        np.testing.assert_allclose(np_of(p.grad), np_of(tparams[name].grad), rtol=1e-3, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_rnn_fused_cells_match_torch(cell):
    torch.manual_seed(1)
    tc = getattr(torch.nn, cell)(3, 4).double()
    oc = getattr(nn, cell)(3, 4).double()
    oc.load_state_dict({k: v.detach().numpy().copy() for k, v in tc.state_dict().items()})
    r = np.random.default_rng(5)
    x, h, c = r.normal(size=(2, 3)), r.normal(size=(2, 4)), r.normal(size=(2, 4))
    lstm = cell == "LSTMCell"
    ins_o = [ag.tensor(a, requires_grad=True) for a in (x, h, c)]
    ins_t = [torch.tensor(a, requires_grad=True) for a in (x, h, c)]
    out_o = oc(ins_o[0], (ins_o[1], ins_o[2]) if lstm else ins_o[1])
    out_t = tc(ins_t[0], (ins_t[1], ins_t[2]) if lstm else ins_t[1])
    out_o = list(out_o) if lstm else [out_o]
    out_t = list(out_t) if lstm else [out_t]
    gs = [r.normal(size=(2, 4)) for _ in out_o]
    for a, b in zip(out_o, out_t):
        np.testing.assert_allclose(np_of(a), np_of(b), rtol=1e-10)
    ag.autograd.backward(out_o, [ag.tensor(g) for g in gs])
    torch.autograd.backward(out_t, [torch.tensor(g) for g in gs])
    for a, b in zip(ins_o[:3 if lstm else 2], ins_t):
        np.testing.assert_allclose(np_of(a.grad), np_of(b.grad), rtol=1e-10, atol=1e-12)
    tparams = dict(tc.named_parameters())
    for name, p in oc.named_parameters():
        np.testing.assert_allclose(np_of(p.grad), np_of(tparams[name].grad), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- packed sequences
LENGTHS = [3, 5, 1, 4]


def padded_batch(seed=6, features=2):
    r = np.random.default_rng(seed)
    x = r.normal(size=(max(LENGTHS), len(LENGTHS), features))
    for b, n in enumerate(LENGTHS):
        x[n:, b] = 0.0
    return x


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_rnn_fused_packed_matches_torch(mode, bidirectional):
    ocls, tcls, extra = MODES[mode]
    torch.manual_seed(2)
    kw = dict(input_size=2, hidden_size=5, num_layers=2, bidirectional=bidirectional, **extra)
    tm = tcls(**kw).double()
    om = ours_from_torch(tm, ocls, **kw)
    x = padded_batch()
    ox, tx = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    op = pack_padded_sequence(ox, LENGTHS, enforce_sorted=False)
    tp = torch.nn.utils.rnn.pack_padded_sequence(tx, LENGTHS, enforce_sorted=False)
    np.testing.assert_array_equal(np_of(op.batch_sizes), tp.batch_sizes.numpy())
    np.testing.assert_array_equal(np_of(op.sorted_indices), tp.sorted_indices.numpy())
    np.testing.assert_array_equal(np_of(op.unsorted_indices), tp.unsorted_indices.numpy())
    np.testing.assert_array_equal(np_of(op.data), np_of(tp.data))
    oout, ohid = om(op)
    tout, thid = tm(tp)
    assert isinstance(oout, PackedSequence)
    np.testing.assert_allclose(np_of(oout.data), np_of(tout.data), rtol=1e-9, atol=1e-11)
    ohid = list(ohid) if ocls is nn.LSTM else [ohid]
    thid = list(thid) if ocls is nn.LSTM else [thid]
    for a, b in zip(ohid, thid):
        np.testing.assert_allclose(np_of(a), np_of(b), rtol=1e-9, atol=1e-11)
    opad, olen = pad_packed_sequence(oout, batch_first=True, padding_value=-1.0, total_length=6)
    tpad, tlen = torch.nn.utils.rnn.pad_packed_sequence(tout, batch_first=True, padding_value=-1.0, total_length=6)
    np.testing.assert_allclose(np_of(opad), np_of(tpad), rtol=1e-9, atol=1e-11)
    np.testing.assert_array_equal(np_of(olen), tlen.numpy())
    r = np.random.default_rng(7)
    gs = [r.normal(size=tuple(tpad.shape))] + [r.normal(size=tuple(h.shape)) for h in thid]
    ag.autograd.backward([opad] + ohid, [ag.tensor(g) for g in gs])
    torch.autograd.backward([tpad] + thid, [torch.tensor(g) for g in gs])
    np.testing.assert_allclose(np_of(ox.grad), np_of(tx.grad), rtol=1e-9, atol=1e-11)
    tparams = dict(tm.named_parameters())
    for name, p in om.named_parameters():
        np.testing.assert_allclose(np_of(p.grad), np_of(tparams[name].grad), rtol=1e-9, atol=1e-11, err_msg=name)


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_relu", "lstm_proj"])
def test_rnn_fused_packed_equals_each_sequence_alone(mode):
    ocls, _, extra = MODES[mode]
    ag.manual_seed(3)
    m = ocls(2, 5, num_layers=2, bidirectional=True, **extra).double()
    x = padded_batch(8)
    lstm = ocls is nn.LSTM
    real = extra.get("proj_size", 0) or 5
    r = np.random.default_rng(9)
    h0 = r.normal(size=(4, len(LENGTHS), real))
    c0 = r.normal(size=(4, len(LENGTHS), 5))
    hx = (ag.tensor(h0), ag.tensor(c0)) if lstm else ag.tensor(h0)
    out, hid = m(pack_padded_sequence(ag.tensor(x), LENGTHS, enforce_sorted=False), hx)
    padded, lengths = pad_packed_sequence(out)
    assert np_of(lengths).tolist() == LENGTHS
    hid = hid if lstm else (hid,)
    for b, n in enumerate(LENGTHS):
        hx_b = (ag.tensor(h0[:, b:b + 1]), ag.tensor(c0[:, b:b + 1])) if lstm else ag.tensor(h0[:, b:b + 1])
        out_b, hid_b = m(ag.tensor(x[:n, b:b + 1]), hx_b)
        np.testing.assert_allclose(np_of(padded)[:n, b], np_of(out_b)[:, 0], rtol=1e-12, atol=1e-14)
        assert not np.any(np_of(padded)[n:, b])
        for whole, alone in zip(hid, hid_b if lstm else (hid_b,)):
            np.testing.assert_allclose(np_of(whole)[:, b], np_of(alone)[:, 0], rtol=1e-12, atol=1e-14)


def test_pack_utilities_match_torch():
    r = np.random.default_rng(10)
    seqs = [r.normal(size=(n, 3)) for n in LENGTHS]
    ours = pack_sequence([ag.tensor(s) for s in seqs], enforce_sorted=False)
    theirs = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(np_of(a), b.numpy())
    sorted_seqs = sorted(seqs, key=len, reverse=True)
    ours = pack_sequence([ag.tensor(s) for s in sorted_seqs])
    theirs = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in sorted_seqs])
    assert ours.sorted_indices is None and ours.unsorted_indices is None
    np.testing.assert_array_equal(np_of(ours.data), theirs.data.numpy())
    # batch_first packing, and unpack_sequence giving the sequences back in their order
    padded = pad_sequence([ag.tensor(s) for s in seqs], batch_first=True)
    packed = pack_padded_sequence(padded, ag.tensor(LENGTHS), batch_first=True, enforce_sorted=False)
    for s, back in zip(seqs, unpack_sequence(packed)):
        np.testing.assert_array_equal(np_of(back), s)
    assert packed.double().data.dtype == ag.float64 and packed.float().data.dtype == ag.float32


def test_pack_padded_sequence_is_differentiable():
    x = ag.tensor(padded_batch(11), requires_grad=True)

    def f(x_):
        packed = pack_padded_sequence(x_, LENGTHS, enforce_sorted=False)
        return pad_packed_sequence(packed, padding_value=2.0)[0]
    assert gradcheck(f, [x])


# ---------------------------------------------------------------------- gradients
@pytest.mark.parametrize("mode", list(MODES))
def test_rnn_fused_gradcheck_and_gradgradcheck_packed(mode):
    ocls, _, extra = MODES[mode]
    ag.manual_seed(4)
    m = ocls(2, 3, bidirectional=True, **({"proj_size": 2} if extra.get("proj_size") else extra)).double()
    lengths = [3, 1, 2]
    r = np.random.default_rng(12)
    x = ag.tensor(r.normal(size=(3, 3, 2)), requires_grad=True)
    real = 2 if extra.get("proj_size") else 3
    h0 = ag.tensor(r.normal(size=(2, 3, real)), requires_grad=True)
    lstm = ocls is nn.LSTM
    c0 = ag.tensor(r.normal(size=(2, 3, 3)), requires_grad=True)

    def f(x_, h_, c_, *weights):
        out, hid = m(pack_padded_sequence(x_, lengths, enforce_sorted=False), (h_, c_) if lstm else h_)
        hid = hid if lstm else (hid,)
        return (out.data,) + tuple(hid)
    inputs = [x, h0, c0] + list(m.parameters())
    assert gradcheck(f, inputs)
    assert gradgradcheck(f, [x, h0, c0] + list(m.parameters())[:2])


def test_rnn_fused_double_backward_through_module_matches_torch():
    torch.manual_seed(5)
    tm = torch.nn.LSTM(2, 3, batch_first=True).double()
    om = ours_from_torch(tm, nn.LSTM, input_size=2, hidden_size=3, batch_first=True)
    x = np.random.default_rng(13).normal(size=(2, 4, 2))
    res = []
    for lib, m in ((ag, om), (torch, tm)):
        xt = lib.tensor(x, requires_grad=True)
        out, _ = m(xt)
        (g,) = lib.autograd.grad((out ** 2).sum(), [xt], create_graph=True)
        (gg,) = lib.autograd.grad((g ** 2).sum(), [m.weight_hh_l0])
        res.append((g, gg))
    for a, b in zip(*res):
        np.testing.assert_allclose(np_of(a), np_of(b), rtol=1e-9, atol=1e-11)


# ---------------------------------------------------------------------- determinism
def _run_all(m, x, lstm):
    for p in m.parameters():
        p.grad = None
    xt = ag.tensor(x, requires_grad=True)
    out, hid = m(xt)
    hid = list(hid) if lstm else [hid]
    ag.autograd.backward([out] + hid, [ag.ones_like(out)] + [ag.ones_like(h) for h in hid])
    return [np_of(out)] + [np_of(h) for h in hid] + [np_of(xt.grad)] + [np_of(p.grad) for p in m.parameters()]


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_rnn_fused_bitwise_equal_at_1_and_2_threads(cls):
    # big enough (B = 40 rows, several MR-row panels) that the recurrence splits its rows
    ag.manual_seed(6)
    m = cls(16, 48, bidirectional=True)
    x = np.random.default_rng(14).normal(size=(12, 40, 16)).astype(np.float32)
    before = ag.get_num_threads()
    try:
        ag.set_num_threads(1)
        one = _run_all(m, x, cls is nn.LSTM)
        ag.set_num_threads(2)
        two = _run_all(m, x, cls is nn.LSTM)
    finally:
        ag.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(len(_core.simd_targets()) < 2, reason="needs an AVX2 machine")
@pytest.mark.parametrize("tier", _core.SIMD_TARGETS[1:])
def test_rnn_fused_portable_target_agrees(tier):
    if tier not in _core.simd_targets():
        pytest.skip(f"this CPU lacks the {tier} tier")
    ag.manual_seed(7)
    m = nn.LSTM(6, 20)
    x = np.random.default_rng(15).normal(size=(5, 9, 6)).astype(np.float32) * 3
    old = _core.simd_target()
    try:
        _core.set_simd_target(tier)
        fast = _run_all(m, x, True)
        _core.set_simd_target("portable")
        plain = _run_all(m, x, True)
    finally:
        _core.set_simd_target(old)
    for a, b in zip(fast, plain):  # gradients are sums with cancellation: compare to their scale
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * float(np.abs(b).max()))


def test_rnn_fused_float32_math_accuracy():
    # sigmoid / tanh of the float32 kernel over a wide range, through a 1-unit RNN/GRU step
    v = np.concatenate([np.linspace(-100, 100, 4001), [0.0, -0.0, 1e-8, -1e-8, 0.62, 0.63, -0.63]])
    cell = nn.RNNCell(1, 1, bias=False)
    with ag.no_grad():
        cell.weight_ih.fill_(1.0)
        cell.weight_hh.fill_(0.0)
    got = np_of(cell(ag.tensor(v.astype(np.float32)[:, None])))[:, 0]
    np.testing.assert_allclose(got, np.tanh(v.astype(np.float32).astype(np.float64)), rtol=3e-7, atol=1e-30)
    nan = np_of(cell(ag.tensor(np.array([[np.nan]], dtype=np.float32))))
    assert np.isnan(nan).all()
    # sigmoid: an LSTM cell from c0 = 0 with its g and o gates saturated has c = sigmoid(i-gate input)
    lstm = nn.LSTMCell(1, 1)
    with ag.no_grad():
        lstm.weight_ih.copy_(ag.tensor([[1.0], [0.0], [0.0], [0.0]]))
        lstm.weight_hh.fill_(0.0)
        lstm.bias_ih.copy_(ag.tensor([0.0, 0.0, 20.0, 20.0]))
        lstm.bias_hh.fill_(0.0)
    _, c = lstm(ag.tensor(v.astype(np.float32)[:, None]))
    ref = 1 / (1 + np.exp(-v.astype(np.float32).astype(np.float64)))
    np.testing.assert_allclose(np_of(c)[:, 0], ref, rtol=3e-7, atol=1e-37)


# ---------------------------------------------------------------------- options and errors
def test_rnn_fused_proj_size_names_and_shapes():
    torch.manual_seed(0)
    tm = torch.nn.LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=2)
    om = nn.LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=2)
    assert list(om.state_dict().keys()) == list(tm.state_dict().keys())
    for k, v in tm.state_dict().items():
        assert tuple(om.state_dict()[k].shape) == tuple(v.shape), k
    out, (h, c) = om(ag.randn(5, 4, 3))
    assert tuple(out.shape) == (5, 4, 4) and tuple(h.shape) == (4, 4, 2) and tuple(c.shape) == (4, 4, 6)
    assert "proj_size=2" in repr(om)
    om.flatten_parameters()  # a documented no-op
    assert len(om.all_weights) == 4 and len(om.all_weights[0]) == 5


def test_rnn_fused_errors_name_the_users_shapes():
    m = nn.LSTM(3, 4, batch_first=True)
    with pytest.raises(ValueError, match=r"input has 5 features, expected input_size=3 \(input of shape \(2, 5, 5\)\)"):
        m(ag.randn(2, 5, 5))
    with pytest.raises(ValueError, match=r"expected h0 of shape \(1, 2, 4\), got \(1, 5, 4\)"):
        m(ag.randn(2, 5, 3), (ag.zeros(1, 5, 4), ag.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match=r"expected c0 of shape \(1, 2, 4\), got \(1, 2, 3\)"):
        m(ag.randn(2, 5, 3), (ag.zeros(1, 2, 4), ag.zeros(1, 2, 3)))
    with pytest.raises(ValueError, match=r"unbatched 2-D input, hx should also be 2-D"):
        nn.GRU(3, 4)(ag.randn(5, 3), ag.zeros(1, 1, 4))
    with pytest.raises(TypeError, match=r"dtype \S*float64 but the parameters are \S*float32"):
        nn.GRU(3, 4)(ag.randn(5, 2, 3, dtype=ag.float64))
    with pytest.raises(ValueError, match="proj_size .* smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.rnn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.5)
    with pytest.raises(ValueError, match="expected input_size=3 \\(PackedSequence data of shape \\(4, 2\\)\\)"):
        m(pack_sequence([ag.randn(3, 2), ag.randn(1, 2)]))
    with pytest.raises(ValueError, match=r"input has 5 features, expected input_size=3 \(input of shape \(4, 5\)\)"):
        nn.GRUCell(3, 4)(ag.randn(4, 5))


def test_pack_errors():
    x = ag.randn(4, 3, 2)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(RuntimeError, match="greater than 0"):
        pack_padded_sequence(x, [4, 0, 0])
    with pytest.raises(ValueError, match="got 2 lengths for a batch of 3"):
        pack_padded_sequence(x, [4, 2])
    with pytest.raises(ValueError, match="longest length, 5, is more than the 4 steps"):
        pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(ValueError, match="total_length to be at least"):
        pad_packed_sequence(pack_padded_sequence(x, [4, 2, 1]), total_length=3)
    with pytest.raises(TypeError, match="expected a PackedSequence"):
        pad_packed_sequence(x)
