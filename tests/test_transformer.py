"""TransformerDecoderLayer, TransformerDecoder and Transformer (autograd_core/nn/transformer.py).

Without torch: shapes, gradient flow to every parameter, gradcheck through a small decoder layer, the
causal mask, errors. With torch: the same weights (state dicts load both ways, same keys) give the same
outputs, post-norm and pre-norm, batch_first or not, with causal and padding masks."""
import numpy as np
import pytest

import autograd_core as ag
from autograd_core import nn
from autograd_core.autograd import gradcheck

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def test_causal_mask():
    m = nn.Transformer.generate_square_subsequent_mask(4).numpy()
    assert m.dtype == np.float32
    np.testing.assert_array_equal(m == 0, np.tril(np.ones((4, 4), bool)))
    assert np.isneginf(m[np.triu_indices(4, 1)]).all()


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_shapes_and_gradients_reach_every_parameter(batch_first):
    ag.manual_seed(0)
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16,
                           dropout=0.1, batch_first=batch_first)
    src = ag.randn(3, 5, 8) if batch_first else ag.randn(5, 3, 8)
    tgt = ag.randn(3, 4, 8) if batch_first else ag.randn(4, 3, 8)
    out = model(src, tgt, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4))
    assert tuple(out.shape) == tuple(tgt.shape)
    out.pow(2).mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not np.isfinite(p.grad.numpy()).all()]
    assert not missing
    for name, p in model.named_parameters():  # Xavier-uniform weight matrices
        if p.dim() > 1:
            bound = np.sqrt(6 / (p.shape[0] + p.shape[1]))
            assert np.abs(p.detach().numpy()).max() <= bound, name


def test_decoder_layer_gradcheck_and_causality():
    ag.manual_seed(1)
    layer = nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0).double()
    tgt = ag.randn(3, 1, 4, dtype=ag.float64, requires_grad=True)
    mem = ag.randn(2, 1, 4, dtype=ag.float64, requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=ag.float64)
    assert gradcheck(lambda t, m: layer(t, m, tgt_mask=mask), (tgt, mem))
    # with the causal mask, changing the last target position leaves the earlier outputs alone
    out1 = layer(tgt, mem, tgt_mask=mask).detach().numpy()
    t2 = tgt.detach().clone()
    t2[2] = t2[2] + 1.0
    out2 = layer(t2, mem, tgt_mask=mask).detach().numpy()
    np.testing.assert_allclose(out1[:2], out2[:2], rtol=1e-12)
    assert not np.allclose(out1[2], out2[2])


@pytest.mark.parametrize("call,match", [
    (lambda m: m(ag.randn(5, 3, 8), ag.randn(4, 2, 8)), "different batch sizes"),
    (lambda m: m(ag.randn(5, 3, 8), ag.randn(4, 3, 6)), "must be d_model=8"),
])
def test_bad_shapes_raise_clearly(call, match):
    model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match=match):
        call(model)


@needs_torch
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_against_torch(norm_first, batch_first):
    tm = torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, batch_first=batch_first,
                              norm_first=norm_first).double().eval()
    om = nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, batch_first=batch_first, norm_first=norm_first).double()
    sd = tm.state_dict()
    assert list(om.state_dict().keys()) == list(sd.keys())
    om.load_state_dict({k: v.numpy() for k, v in sd.items()})
    r = np.random.default_rng(0)
    S, T, N = 5, 4, 3
    src = r.normal(size=(N, S, 8) if batch_first else (S, N, 8))
    tgt = r.normal(size=(N, T, 8) if batch_first else (T, N, 8))
    pad = np.zeros((N, S), bool)
    pad[1, -2:] = True
    tpad = np.zeros((N, T), bool)
    tpad[2, -1] = True
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(T, dtype=torch.float64)
    with torch.no_grad():
        want = tm(torch.tensor(src), torch.tensor(tgt), tgt_mask=tmask, src_key_padding_mask=torch.tensor(pad),
                  memory_key_padding_mask=torch.tensor(pad), tgt_key_padding_mask=torch.tensor(tpad)).numpy()
    got = om(ag.tensor(src), ag.tensor(tgt), tgt_mask=nn.Transformer.generate_square_subsequent_mask(T, dtype=ag.float64),
             src_key_padding_mask=ag.tensor(pad), memory_key_padding_mask=ag.tensor(pad),
             tgt_key_padding_mask=ag.tensor(tpad))
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-9, atol=1e-12)
    # and the decoder alone, with a memory mask
    dec_t = tm.decoder
    dec_o = om.decoder
    mem = r.normal(size=(N, S, 8) if batch_first else (S, N, 8))
    mmask = np.zeros((T, S), bool)
    mmask[:, 0] = True
    with torch.no_grad():
        want = dec_t(torch.tensor(tgt), torch.tensor(mem), memory_mask=torch.tensor(mmask)).numpy()
    got = dec_o(ag.tensor(tgt), ag.tensor(mem), memory_mask=ag.tensor(mmask))
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-9, atol=1e-12)
