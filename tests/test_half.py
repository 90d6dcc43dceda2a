"""float16 and bfloat16 storage dtypes: the C casts bit for bit against NumPy's float16 rounding and
torch's bfloat16 rounding (round to nearest even, inf, NaN, subnormals), creation and conversion,
NumPy interop, printing, views and indexing, ops computed in float32 and rounded, autograd, the
optimizer, save/load in PyTorch's format, and a small training loop against torch."""
import io

import numpy as np
import pytest

import autograd_core as ag

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")
RNG = np.random.default_rng(1616)
HALVES = [ag.float16, ag.bfloat16]


def _special_f32():
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 65504.0, 65519.99, 65520.0, -65520.0, 1e-8,
                         2.0 ** -24, 2.0 ** -25, 1.5 * 2.0 ** -25, 2.0 ** -14, 2.0 ** -14 - 2.0 ** -25, 3.0e38,
                         2.0 ** 127 * (2 - 2.0 ** -8), 1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 1.0 + 2.0 ** -8,
                         1.0 + 3 * 2.0 ** -8, 2.0 ** -133, 2.0 ** -134, 1e-40], dtype=np.float32)
    random_bits = RNG.integers(0, 2 ** 32, 20000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return np.concatenate([specials, -specials, random_bits, RNG.standard_normal(2000).astype(np.float32) * 1000])


def _bits16(t):
    """The raw 16-bit patterns of a half tensor (through a bitwise-exact float32 round trip for
    bfloat16, whose float32 value is its bits shifted up)."""
    if t.dtype == ag.float16:
        return t.numpy().view(np.uint16)
    return (t.float().numpy().view(np.uint32) >> 16).astype(np.uint16)


def _bf16_reference(x32):
    """Round-to-nearest-even float32 -> bfloat16 bits, NaN kept NaN."""
    b = x32.view(np.uint32).astype(np.uint64)
    rounded = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(x32), np.uint16(0x7FC0) | ((b >> 16).astype(np.uint16) & np.uint16(0x8000)), rounded)


def test_float32_to_float16_matches_numpy_bitwise():
    x = _special_f32()
    got = _bits16(ag.tensor(x).half())
    want = x.astype(np.float16).view(np.uint16)
    nan = np.isnan(x)
    np.testing.assert_array_equal(got[~nan], want[~nan])
    assert np.isnan(ag.tensor(x[nan]).half().float().numpy()).all()


def test_float64_to_float16_rounds_once_like_numpy():
    # values just above a float16 tie, which float64 -> float32 -> float16 would round the other way
    ties = 1.0 + 2.0 ** -11 + np.array([2.0 ** -40, -2.0 ** -40, 0.0])
    x = np.concatenate([ties, RNG.standard_normal(5000) * 100, RNG.standard_normal(1000) * 1e-6])
    got = ag.tensor(x, dtype=ag.float64).half().numpy()
    np.testing.assert_array_equal(got.view(np.uint16), x.astype(np.float16).view(np.uint16))


def test_every_float16_pattern_widens_exactly_and_round_trips():
    bits = np.arange(2 ** 16, dtype=np.uint32).astype(np.uint16)
    h = bits.view(np.float16)
    t = ag.from_numpy(h.copy())
    assert t.dtype == ag.float16
    wide = t.float().numpy()
    finite = ~np.isnan(h)
    np.testing.assert_array_equal(wide[finite], h[finite].astype(np.float32))
    assert np.isnan(wide[~finite]).all()
    np.testing.assert_array_equal(_bits16(t.float().half())[finite], bits[finite])
    np.testing.assert_array_equal(t.double().numpy()[finite], h[finite].astype(np.float64))


def test_every_bfloat16_pattern_widens_exactly_and_round_trips():
    bits = np.arange(2 ** 16, dtype=np.uint32)
    values = (bits << 16).view(np.float32)
    t = ag.tensor(values).bfloat16()  # exact: every such float32 is a bfloat16
    finite = ~np.isnan(values)
    np.testing.assert_array_equal(t.float().numpy()[finite], values[finite])
    np.testing.assert_array_equal(_bits16(t)[finite], bits.astype(np.uint16)[finite])
    assert np.isnan(t.float().numpy()[~finite]).all()


def test_float32_to_bfloat16_rounds_to_nearest_even():
    x = _special_f32()
    got = _bits16(ag.tensor(x).bfloat16())
    want = _bf16_reference(x)
    nan = np.isnan(x)
    np.testing.assert_array_equal(got[~nan], want[~nan])
    assert np.isnan(ag.tensor(x[nan]).bfloat16().float().numpy()).all()


@needs_torch
def test_bfloat16_and_float16_rounding_match_torch_bitwise():
    x = _special_f32()
    nan = np.isnan(x)
    theirs = torch.from_numpy(x).bfloat16().view(torch.int16).numpy().view(np.uint16)
    np.testing.assert_array_equal(_bits16(ag.tensor(x).bfloat16())[~nan], theirs[~nan])
    theirs = torch.from_numpy(x).half().view(torch.int16).numpy().view(np.uint16)
    np.testing.assert_array_equal(_bits16(ag.tensor(x).half())[~nan], theirs[~nan])


@pytest.mark.parametrize("dtype", HALVES, ids=str)
def test_casts_to_and_from_integers_and_bool(dtype):
    ints = ag.tensor([0, 1, -3, 300, 65519, 100000])
    h = ints.to(dtype)
    want = np.array([0, 1, -3, 300, 65519, 100000], dtype=np.float32)
    if dtype == ag.float16:
        np.testing.assert_array_equal(h.float().numpy(), want.astype(np.float16).astype(np.float32))
        assert h[5].item() == float("inf")
    back = ag.tensor([1.75, -2.5, 0.0, -0.0], dtype=dtype)
    assert back.long().tolist() == [1, -2, 0, 0]
    assert back.bool().tolist() == [True, True, False, False]
    assert ag.tensor([True, False]).to(dtype).tolist() == [1.0, 0.0]
    assert back.to(ag.uint8).tolist() == [1, 254, 0, 0]
    other = ag.bfloat16 if dtype == ag.float16 else ag.float16
    assert back.to(other).tolist() == [1.75, -2.5, 0.0, -0.0]


@pytest.mark.parametrize("dtype", HALVES, ids=str)
def test_creation_and_attributes(dtype):
    assert ag.half is ag.float16 and ag.float16.itemsize == 2 and ag.bfloat16.is_floating_point
    z = ag.zeros(2, 3, dtype=dtype)
    assert z.dtype == dtype and z.element_size() == 2 and z.is_floating_point() and z.sum().item() == 0
    assert ag.ones(4, dtype=dtype).tolist() == [1.0] * 4
    assert ag.full((2,), 0.1, dtype=dtype).tolist() == [float(ag.tensor(0.1).to(dtype).item())] * 2
    t = ag.tensor([[1.5, 2.0], [3.0, 4.0]], dtype=dtype)
    assert t.dtype == dtype and t.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert t.float().dtype == ag.float32 and t.to(ag.float64).dtype == ag.float64
    assert t.to(dtype) is t and t.type_as(ag.zeros(1)).dtype == ag.float32
    assert ag.empty(3, dtype=dtype).shape == (3,) and ag.zeros_like(t).dtype == dtype
    r = ag.rand(1000, dtype=dtype)
    assert r.dtype == dtype and 0 <= r.min().item() and r.max().item() <= 1
    assert abs(ag.randn(4000, dtype=dtype).float().mean().item()) < 0.1
    assert ag.tensor(2.5, dtype=dtype).item() == 2.5


def test_numpy_interop():
    h = np.array([1.0, 2.5, -0.0009765625], dtype=np.float16)
    t = ag.from_numpy(h)
    assert t.dtype == ag.float16
    h[0] = 7  # shares memory
    assert t[0].item() == 7
    back = t.numpy()
    assert back.dtype == np.float16 and np.shares_memory(back, h)
    assert ag.tensor(h).dtype == ag.float16 and ag.as_tensor(h).dtype == ag.float16
    b = ag.tensor([1.0, 2.0], dtype=ag.bfloat16)
    with pytest.raises(TypeError, match="BFloat16"):
        b.numpy()
    with pytest.raises(TypeError, match="BFloat16"):
        np.asarray(b)
    assert b.tolist() == [1.0, 2.0] and b[1].item() == 2.0


@pytest.mark.parametrize("dtype", HALVES, ids=str)
def test_printing(dtype):
    t = ag.tensor([1.0, 2.5, -3.0], dtype=dtype)
    assert repr(t) == f"tensor([ 1.0000,  2.5000, -3.0000], dtype=autograd_core.{dtype.name})"
    if torch is not None:
        theirs = repr(torch.tensor([1.0, 2.5, -3.0], dtype=getattr(torch, dtype.name)))
        assert repr(t).replace("autograd_core", "torch") == theirs


@pytest.mark.parametrize("dtype", HALVES, ids=str)
def test_views_indexing_and_joins(dtype):
    x = np.arange(24, dtype=np.float32).reshape(4, 6) / 4
    t = ag.tensor(x).to(dtype)
    np.testing.assert_array_equal(t.t().float().numpy(), x.T)
    np.testing.assert_array_equal(t[1:, ::2].float().numpy(), x[1:, ::2])
    np.testing.assert_array_equal(t.reshape(3, 8).float().numpy(), x.reshape(3, 8))
    np.testing.assert_array_equal(t.t().contiguous().float().numpy(), x.T)
    idx = ag.tensor([3, 0, 3])
    np.testing.assert_array_equal(t[idx].float().numpy(), x[[3, 0, 3]])
    np.testing.assert_array_equal(t[:, idx].float().numpy(), x[:, [3, 0, 3]])
    mask = t > 2
    np.testing.assert_array_equal(t[mask].float().numpy(), x[x > 2])
    np.testing.assert_array_equal(ag.nonzero(t > 4.5).numpy(), np.argwhere(x > 4.5))
    np.testing.assert_array_equal(ag.gather(t, 1, ag.tensor([[5, 0]] * 4)).float().numpy(),
                                  np.take_along_axis(x, np.array([[5, 0]] * 4), 1))
    np.testing.assert_array_equal(ag.cat([t, t], 0).float().numpy(), np.concatenate([x, x]))
    np.testing.assert_array_equal(ag.stack([t, t]).float().numpy(), np.stack([x, x]))
    np.testing.assert_array_equal(ag.where(t > 2, t, 0.0).float().numpy(), np.where(x > 2, x, 0))
    u = t.clone()
    u[1] = 9.0
    u[:, 0] = ag.tensor([1.0, 2.0, 3.0, 4.0]).to(dtype)
    u.index_put_((idx,), ag.tensor(1.0, dtype=dtype), accumulate=True)
    want = x.copy()
    want[1] = 9
    want[:, 0] = [1, 2, 3, 4]
    want[3] += 2
    want[0] += 1
    np.testing.assert_array_equal(u.float().numpy(), want)
    assert u.dtype == dtype


def _rounded(values, dtype):
    return ag.tensor(np.asarray(values, dtype=np.float32)).to(dtype).float().numpy()


@pytest.mark.parametrize("dtype", HALVES, ids=str)
def test_ops_compute_in_float32_and_round(dtype):
    a32 = RNG.standard_normal((5, 7)).astype(np.float32)
    b32 = RNG.standard_normal((5, 7)).astype(np.float32)
    a, b = ag.tensor(a32).to(dtype), ag.tensor(b32).to(dtype)
    wa, wb = a.float().numpy(), b.float().numpy()  # the values the half tensors hold
    cases = {
        "add": (a + b, wa + wb), "mul": (a * b, wa * wb), "div": (a / b, wa / wb), "sub_scalar": (a - 0.3, wa - np.float32(0.3)),
        "exp": (a.exp(), np.exp(wa)), "tanh": (a.tanh(), np.tanh(wa)), "relu": (ag.relu(a), np.maximum(wa, 0)),
        "sqrt": (a.abs().sqrt(), np.sqrt(np.abs(wa))), "neg": (-a, -wa), "pow": (a ** 2, wa ** 2),
        "clamp": (a.clamp(-0.5, 0.5), np.clip(wa, -0.5, 0.5)),
    }
    for name, (got, want) in cases.items():
        assert got.dtype == dtype, name
        np.testing.assert_allclose(got.float().numpy(), _rounded(want, dtype), rtol=1e-6, atol=1e-30, err_msg=name)
    # reductions, matmul and softmax round once, at the end
    for name, got, want in (("sum", a.sum(1), wa.sum(1)), ("mean", a.mean(), wa.mean()),
                            ("matmul", a @ b.t(), wa @ wb.T), ("softmax", ag.softmax(a, 1),
                            np.exp(wa) / np.exp(wa).sum(1, keepdims=True)), ("cumsum", a.cumsum(1), np.cumsum(wa, 1))):
        assert got.dtype == dtype, name
        np.testing.assert_allclose(got.float().numpy(), _rounded(want, dtype), rtol=1e-2 if dtype == ag.bfloat16 else 2e-3,
                                   atol=1e-3, err_msg=name)
    values, indices = a.max(1)
    assert values.dtype == dtype and indices.dtype == ag.int64
    np.testing.assert_array_equal(indices.numpy(), wa.argmax(1))
    assert (a > b).dtype == ag.bool and ((a > b).numpy() == (wa > wb)).all()
    # promotion: half with float32 gives float32, float16 with bfloat16 gives float32, with ints half
    assert (a + ag.ones(7)).dtype == ag.float32
    assert (ag.ones(2, dtype=ag.float16) + ag.ones(2, dtype=ag.bfloat16)).dtype == ag.float32
    assert (a + ag.ones(7, dtype=ag.int64)).dtype == dtype and (a + ag.ones(7, dtype=ag.float64)).dtype == ag.float64
    c = a.clone()
    c.add_(1.0)
    c.mul_(b)
    assert c.dtype == dtype
    np.testing.assert_allclose(c.float().numpy(), _rounded(_rounded(wa + 1, dtype) * wb, dtype), rtol=1e-6)


@needs_torch
@pytest.mark.parametrize("dtype", HALVES, ids=str)
def test_ops_match_torch(dtype):
    x32 = RNG.standard_normal((6, 9)).astype(np.float32)
    w32 = RNG.standard_normal((9, 4)).astype(np.float32)
    tdt = getattr(torch, dtype.name)
    ours = (ag.tensor(x32).to(dtype), ag.tensor(w32).to(dtype))
    theirs = (torch.tensor(x32).to(tdt), torch.tensor(w32).to(tdt))
    for fn in (lambda x, w: x + 1.5, lambda x, w: x.exp(), lambda x, w: x * x, lambda x, w: x.sigmoid(),
               lambda x, w: x @ w, lambda x, w: x.sum(0), lambda x, w: x.softmax(1), lambda x, w: x.abs().log()):
        got, want = fn(*ours), fn(*theirs)
        assert got.dtype.name == str(want.dtype).replace("torch.", "")
        tol = 1e-2 if dtype == ag.bfloat16 else 1e-3
        np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", HALVES, ids=str)
def test_autograd_through_half(dtype):
    x32 = RNG.standard_normal((4, 3)).astype(np.float32)
    w32 = RNG.standard_normal((3, 2)).astype(np.float32)
    x = ag.tensor(x32).to(dtype).requires_grad_()
    w = ag.tensor(w32).to(dtype).requires_grad_()
    loss = ((x @ w).tanh() ** 2).sum()
    loss.backward()
    assert x.grad.dtype == dtype and w.grad.dtype == dtype and loss.dtype == dtype
    xf = ag.tensor(x.detach().float().numpy(), requires_grad=True)
    wf = ag.tensor(w.detach().float().numpy(), requires_grad=True)
    ((xf @ wf).tanh() ** 2).sum().backward()
    tol = 3e-2 if dtype == ag.bfloat16 else 5e-3
    np.testing.assert_allclose(x.grad.float().numpy(), xf.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(w.grad.float().numpy(), wf.grad.numpy(), rtol=tol, atol=tol)
    # a cast in the graph sends the gradient back in the leaf's dtype
    leaf = ag.tensor([1.0, 2.0], requires_grad=True)
    (leaf.to(dtype) * 3).sum().backward()
    assert leaf.grad.dtype == ag.float32 and leaf.grad.tolist() == [3.0, 3.0]
    h = ag.tensor([1.0, 2.0], dtype=dtype, requires_grad=True)
    (h.float() * 2).sum().backward()
    assert h.grad.dtype == dtype and h.grad.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("dtype", HALVES, ids=str)
def test_conv_pool_and_rnn_compute_in_float32_and_round(dtype):
    """conv2d, the pools and the recurrent layers take half tensors as every other op does: the result
    (and each gradient) is the float32 computation rounded to the half dtype."""
    rng = np.random.default_rng(5)
    F = ag.nn.functional
    x32 = ag.tensor(rng.normal(size=(2, 3, 7, 7)).astype(np.float32)).to(dtype).float()
    w32 = ag.tensor(rng.normal(size=(4, 3, 3, 3)).astype(np.float32)).to(dtype).float()
    xh, wh = x32.to(dtype).requires_grad_(), w32.to(dtype).requires_grad_()
    x32.requires_grad_()
    w32.requires_grad_()
    yh, y32 = F.conv2d(xh, wh, padding=1), F.conv2d(x32, w32, padding=1)
    assert yh.dtype == dtype
    np.testing.assert_array_equal(_bits16(yh.detach()), _bits16(y32.detach().to(dtype)))
    yh.float().sum().backward()
    y32.sum().backward()
    assert xh.grad.dtype == dtype and wh.grad.dtype == dtype
    np.testing.assert_array_equal(_bits16(wh.grad), _bits16(w32.grad.to(dtype)))
    # each pool of the half result equals the pool of its float32 value, rounded
    c = yh.detach()
    for pool in (lambda t: F.max_pool2d(t, 2), lambda t: F.avg_pool2d(t, 2), lambda t: F.adaptive_avg_pool2d(t, 3)):
        np.testing.assert_array_equal(_bits16(pool(c)), _bits16(pool(c.float()).to(dtype)))
    ag.manual_seed(0)
    lstm = ag.nn.LSTM(3, 5, batch_first=True)
    seq = ag.tensor(rng.normal(size=(2, 4, 3)).astype(np.float32))
    ref = lstm(seq.to(dtype).float())[0]
    out = lstm.to(dtype)(seq.to(dtype))[0]
    assert out.dtype == dtype
    np.testing.assert_allclose(out.detach().float().numpy(), ref.detach().numpy(), atol=2e-2)
    out.float().sum().backward()
    assert lstm.weight_hh_l0.grad.dtype == dtype


def test_unsupported_dtype_names_it():
    with pytest.raises(TypeError, match=r"unsupported dtype int16"):
        ag.tensor([1], dtype=np.int16)


@pytest.mark.parametrize("dtype", HALVES, ids=str)
def test_save_load_pt_format(dtype, tmp_path):
    sd = {"w": ag.tensor([[0.1, -2.5], [3.0, 1e-3]]).to(dtype), "b": ag.tensor([1.0, 2.0]).to(dtype)[::2]}
    path = tmp_path / "half.pt"
    ag.save(sd, path)
    back = ag.load(path)
    for k in sd:
        assert back[k].dtype == dtype
        np.testing.assert_array_equal(_bits16(back[k].contiguous()), _bits16(sd[k].contiguous()))
    if torch is not None:
        theirs = torch.load(path, weights_only=True)
        tdt = getattr(torch, dtype.name)
        for k in sd:
            assert theirs[k].dtype == tdt
            np.testing.assert_array_equal(theirs[k].float().numpy(), sd[k].float().numpy())
        buffer = io.BytesIO()
        torch.save({"x": torch.tensor([0.1, 65504.0, -1e-5]).to(tdt)}, buffer)
        buffer.seek(0)
        mine = ag.load(buffer)
        assert mine["x"].dtype == dtype
        np.testing.assert_array_equal(mine["x"].float().numpy(), torch.tensor([0.1, 65504.0, -1e-5]).to(tdt).float().numpy())


@needs_torch
def test_state_dict_round_trip_with_torch(tmp_path):
    model = ag.nn.Sequential(ag.nn.Linear(3, 4), ag.nn.ReLU(), ag.nn.Linear(4, 2)).half()
    assert all(p.dtype == ag.float16 for p in model.parameters())
    path = tmp_path / "model.pt"
    ag.save(model.state_dict(), path)
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).half()
    tmodel.load_state_dict(torch.load(path, weights_only=True))
    torch.save(tmodel.bfloat16().state_dict(), tmp_path / "back.pt")
    model.bfloat16().load_state_dict(ag.load(tmp_path / "back.pt"))
    for (name, p), (tname, tp) in zip(model.state_dict().items(), tmodel.state_dict().items()):
        assert name == tname and p.dtype == ag.bfloat16
        np.testing.assert_array_equal(p.float().numpy(), tp.float().numpy())


@needs_torch
@pytest.mark.parametrize("dtype", HALVES, ids=str)
def test_training_loop_matches_torch(dtype):
    x32 = RNG.standard_normal((32, 5)).astype(np.float32)
    y32 = (x32 @ RNG.standard_normal((5, 1)).astype(np.float32)).astype(np.float32)
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    net = ag.nn.Sequential(ag.nn.Linear(5, 8), ag.nn.Tanh(), ag.nn.Linear(8, 1))
    net.load_state_dict({k: ag.tensor(v.detach().numpy()) for k, v in tnet.state_dict().items()})
    tdt = getattr(torch, dtype.name)
    tnet.to(tdt)
    net.to(dtype)
    topt = torch.optim.SGD(tnet.parameters(), lr=0.05, momentum=0.9)
    opt = ag.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    x, y = ag.tensor(x32).to(dtype), ag.tensor(y32).to(dtype)
    tx, ty = torch.tensor(x32).to(tdt), torch.tensor(y32).to(tdt)
    losses, tlosses = [], []
    for _ in range(15):
        opt.zero_grad()
        loss = ag.nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = torch.nn.functional.mse_loss(tnet(tx), ty)
        tloss.backward()
        topt.step()
        losses.append(loss.item())
        tlosses.append(tloss.item())
    assert all(p.dtype == dtype for p in net.parameters())
    assert losses[-1] < 0.5 * losses[0]
    tol = 0.08 if dtype == ag.bfloat16 else 0.02
    np.testing.assert_allclose(losses, tlosses, rtol=tol, atol=tol)


def test_safetensors_float16_round_trip_and_bfloat16_error(tmp_path):
    pytest.importorskip("safetensors")
    sd = {"w": ag.tensor([0.1, -2.5, 65504.0]).half()}
    ag.save(sd, tmp_path / "h.safetensors")
    back = ag.load(tmp_path / "h.safetensors")
    assert back["w"].dtype == ag.float16
    np.testing.assert_array_equal(back["w"].numpy(), sd["w"].numpy())
    with pytest.raises(TypeError, match="bfloat16 tensor cannot be written to safetensors"):
        ag.save({"w": sd["w"].bfloat16()}, tmp_path / "b.safetensors")
