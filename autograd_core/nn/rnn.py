"""Recurrent layers RNN, LSTM (with proj_size), GRU and their cells, with PyTorch's options, names
and semantics (num_layers, bias, batch_first, dropout between layers, bidirectional, h0/c0,
unbatched input, PackedSequence input).

Parameter names and gate orders are PyTorch's (weight_ih_l0, weight_hh_l0_reverse, weight_hr_l0,
...; LSTM gates i, f, g, o; GRU gates r, z, n), so state dicts move between the two. Every parameter
starts U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

Each layer and direction is one graph node (_RNNLayer) over the whole sequence, run by csrc/rnn.c:
the input projection of all steps is one GEMM, each step one GEMM with the hidden weights plus the
fused pointwise cell, and backward through time forms every weight gradient as one GEMM over all
steps. Sequences are handled in the packed layout (step after step, batch_sizes[t] rows each); a
padded batch is the case where every step has the whole batch. Double backward recomputes the layer
from differentiable ops (_layer_composite).
"""
import math
import numbers
import warnings

from .. import _core
from ..autograd.engine import grad
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..device import check_device
from ..dtypes import get_default_dtype
from ..ops.creation import empty, zeros
from ..ops.shape import cat, stack
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter
from .utils.rnn import PackedSequence

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---------------------------------------------------------------------- differentiable reference
def _rnn_cell(xg, h, w_hh, b_hh, nonlinearity):
    pre = xg + F.linear(h, w_hh, b_hh)
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()


def _lstm_cell(xg, h, c, w_hh, b_hh):
    gates = xg + F.linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, 1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    return h, c


def _gru_cell(xg, h, w_hh, b_hh):
    hg = F.linear(h, w_hh, b_hh)
    xr, xz, xn = xg.chunk(3, 1)
    hr, hz, hn = hg.chunk(3, 1)
    r = (xr + hr).sigmoid()
    z = (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return (1 - z) * n + z * h


def _steps(batch_sizes, rows, batch):
    """The per-step batch sizes of a layer's input: the packed ones, or the whole batch each step."""
    if batch_sizes is not None:
        return list(batch_sizes)
    return [batch] * (rows // batch if batch else 0)


def _layer_composite(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, reverse, batch_sizes):
    """The same layer as _RNNLayer, step by step from differentiable ops (its double-backward path,
    and the reference the tests compare the kernels with)."""
    sizes = _steps(batch_sizes, x.shape[0], h0.shape[0])
    offsets = [0]
    for bs in sizes:
        offsets.append(offsets[-1] + bs)
    xg = F.linear(x, w_ih, b_ih)
    h, c = h0, c0
    outs = [None] * len(sizes)
    order = range(len(sizes) - 1, -1, -1) if reverse else range(len(sizes))
    for t in order:
        bs, row = sizes[t], offsets[t]
        if bs == 0:
            outs[t] = xg[row:row]
            continue
        xt, hp = xg[row:row + bs], h[:bs]
        if mode == "LSTM":
            hn, cn = _lstm_cell(xt, hp, c[:bs], w_hh, b_hh)
            if w_hr is not None:
                hn = F.linear(hn, w_hr)
            c = cn if bs == c.shape[0] else cat([cn, c[bs:]], 0)
        elif mode == "GRU":
            hn = _gru_cell(xt, hp, w_hh, b_hh)
        else:
            hn = _rnn_cell(xt, hp, w_hh, b_hh, "tanh" if mode == "RNN_TANH" else "relu")
        h = hn if bs == h.shape[0] else cat([hn, h[bs:]], 0)
        outs[t] = hn
    out = cat(outs, 0) if outs else zeros((0, h0.shape[1]), dtype=x.dtype)
    return (out, h, c) if mode == "LSTM" else (out, h)


class _RNNLayer(Function):
    """One layer and direction over a whole sequence in the packed layout: x (N, I), h0 (B, P),
    c0 (B, H) (LSTM) -> out (N, P), h_n (B, P) (and c_n (B, H)). One graph node; backward is
    csrc/rnn.c's backward through time, or with create_graph the recomputed composite."""

    _core_forward = True

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, reverse, batch_sizes):
        training = any(ctx.needs_input_grad[:8])
        out, hn, cn, ws = _core.rnn_forward(_core.RNN_MODES[mode], reverse, x, w_ih, w_hh, b_ih, b_hh, w_hr,
                                            h0, c0, batch_sizes, training)
        if training:
            ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, ws)
            ctx.args = (mode, reverse, batch_sizes)
            ctx.set_materialize_grads(False)
        return (out, hn, cn) if mode == "LSTM" else (out, hn)

    @staticmethod
    def backward(ctx, g_out, g_hn, g_cn=None):
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, ws = ctx.saved_tensors
        mode, reverse, batch_sizes = ctx.args
        needs = ctx.needs_input_grad
        if is_grad_enabled():
            return _recompute_grads(ctx, (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr), (g_out, g_hn, g_cn))
        grads = _core.rnn_backward(_core.RNN_MODES[mode], reverse, x, w_ih, w_hh, w_hr, ws, h0.shape[0],
                                   batch_sizes, g_out, g_hn, g_cn, tuple(needs[:8]))
        return grads + (None, None, None)


def _recompute_grads(ctx, inputs, output_grads):
    """Double backward: rebuild the layer from differentiable ops and let autograd.grad
    (create_graph=True) differentiate it."""
    mode, reverse, batch_sizes = ctx.args
    needs = ctx.needs_input_grad
    wanted = [t for t, n in zip(inputs, needs) if n]
    with enable_grad():
        outs = _layer_composite(*inputs, mode, reverse, batch_sizes)
        pairs = [(o, g) for o, g in zip(outs, output_grads) if g is not None]
        if not pairs:
            return (None,) * 11
        grads = grad([o for o, _ in pairs], wanted, [g for _, g in pairs], create_graph=True,
                                 allow_unused=True)
    it = iter(grads)
    return tuple(next(it) if n else None for n in needs[:8]) + (None, None, None)


# ---------------------------------------------------------------------- modules
class RNNBase(Module):
    """The common base of :class:`RNN`, :class:`LSTM` and :class:`GRU`: the stacked, optionally
    bidirectional layers and their parameters ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` (``_reverse`` for the backward direction), named as in PyTorch.
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive int, got {hidden_size!r}")
        if not isinstance(input_size, int) or input_size < 0:
            raise ValueError(f"{name}: input_size must be a non-negative int, got {input_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0.0 <= dropout <= 1.0):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the "
                             f"probability of an element being zeroed, got {dropout!r}")
        if not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(f"{name}: proj_size should be a non-negative int, got {proj_size!r}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) has to be smaller than hidden_size ({hidden_size})")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout option adds dropout after all but last recurrent layer, so non-zero "
                          f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}")
        check_device(device, name)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        dtype = dtype or get_default_dtype()
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                names = [f"weight_ih{suffix}", f"weight_hh{suffix}"]
                shapes = [(gate_size, layer_input), (gate_size, real_hidden)]
                if bias:
                    names += [f"bias_ih{suffix}", f"bias_hh{suffix}"]
                    shapes += [(gate_size,), (gate_size,)]
                if proj_size:
                    names.append(f"weight_hr{suffix}")
                    shapes.append((proj_size, hidden_size))
                for name_, shape in zip(names, shapes):
                    setattr(self, name_, Parameter(empty(shape, dtype=dtype)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every weight and bias again from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), PyTorch's
        default.
        """
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """A no-op, kept for PyTorch code that calls it: PyTorch packs the weights into one buffer
        for cuDNN; here every layer reads its parameters where they are."""

    @property
    def all_weights(self):
        """The parameters per layer and direction, ``[[weight_ih, weight_hh, bias_ih, bias_hh], ...]``
        (without the biases when ``bias=False``, with ``weight_hr`` for a projected LSTM)."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_params(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        get = self._parameters.get
        return (get(f"weight_ih{suffix}"), get(f"weight_hh{suffix}"), get(f"bias_ih{suffix}"),
                get(f"bias_hh{suffix}"), get(f"weight_hr{suffix}"))

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # ------------------------------------------------------------------ forward
    def _input(self, input):
        """(rows (N, I) in the packed layout, batch_sizes or None, batch, steps, kind)."""
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            data = input.data
            if data.ndim != 2 or data.shape[1] != self.input_size:
                raise ValueError(f"{name}: input has {data.shape[-1] if data.ndim else 0} features, expected "
                                 f"input_size={self.input_size} (PackedSequence data of shape {tuple(data.shape)})")
            sizes = [int(v) for v in input.batch_sizes.tolist()]
            return data, sizes, (sizes[0] if sizes else 0), len(sizes), "packed"
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor or a PackedSequence as input, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: expected 2-D (unbatched) or 3-D input, got shape {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has {input.shape[-1]} features, expected input_size="
                             f"{self.input_size} (input of shape {tuple(input.shape)})")
        if input.ndim == 2:
            return input, None, 1, input.shape[0], "unbatched"
        seq = input.transpose(0, 1) if self.batch_first else input
        steps, batch = seq.shape[0], seq.shape[1]
        return seq.reshape(steps * batch, self.input_size), None, batch, steps, "padded"

    def _hidden(self, hx, batch, kind, size, what, sorted_indices):
        name = type(self).__name__
        directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * directions, batch, size)
        if hx is None:
            return None
        if not isinstance(hx, Tensor):
            raise TypeError(f"{name}: {what} must be a Tensor, got {type(hx).__name__}")
        if kind == "unbatched":
            if hx.ndim != 2:
                raise ValueError(f"{name}: for unbatched 2-D input, {what} should also be 2-D but got "
                                 f"{hx.ndim}-D tensor of shape {tuple(hx.shape)}")
            hx = hx.unsqueeze(1)
        elif hx.ndim != 3:
            raise ValueError(f"{name}: for batched 3-D input, {what} should also be 3-D but got {hx.ndim}-D "
                             f"tensor of shape {tuple(hx.shape)}")
        if tuple(hx.shape) != expected:
            shown, got = expected, tuple(hx.shape)
            if kind == "unbatched":
                shown, got = (expected[0], expected[2]), (got[0], got[2])
            raise ValueError(f"{name}: expected {what} of shape {shown}, got {got}")
        if sorted_indices is not None:
            hx = hx.index_select(1, sorted_indices)
        return hx

    def _run(self, x, batch_sizes, batch, h0, c0):
        """Every layer and direction over the packed rows x: (output rows, h_n, c_n or None)."""
        lstm = self.mode == "LSTM"
        directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size or self.hidden_size
        params = list(self._parameters.values())
        if params and x.dtype != params[0].dtype:
            raise TypeError(f"{type(self).__name__}: input has dtype {x.dtype} but the parameters are "
                            f"{params[0].dtype}; convert one of them (e.g. module.double() or input.float())")
        if h0 is None:
            h0 = zeros((self.num_layers * directions, batch, real_hidden), dtype=x.dtype)
        if lstm and c0 is None:
            c0 = zeros((self.num_layers * directions, batch, self.hidden_size), dtype=x.dtype)
        layer_input = x
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_params(layer, direction)
                k = layer * directions + direction
                res = _RNNLayer.apply(layer_input, h0[k], c0[k] if lstm else None, w_ih, w_hh, b_ih, b_hh, w_hr,
                                      self.mode, direction == 1, batch_sizes)
                outputs.append(res[0])
                h_n.append(res[1])
                if lstm:
                    c_n.append(res[2])
            layer_input = outputs[0] if directions == 1 else cat(outputs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        return layer_input, stack(h_n, 0), (stack(c_n, 0) if lstm else None)

    def _forward(self, input, h0, c0):
        x, batch_sizes, batch, steps, kind = self._input(input)
        sorted_indices = input.sorted_indices if kind == "packed" else None
        real_hidden = self.proj_size or self.hidden_size
        h0 = self._hidden(h0, batch, kind, real_hidden, "h0" if self.mode == "LSTM" else "hx", sorted_indices)
        if self.mode == "LSTM":
            c0 = self._hidden(c0, batch, kind, self.hidden_size, "c0", sorted_indices)
        out, h_n, c_n = self._run(x, batch_sizes, batch, h0, c0)
        if kind == "packed":
            unsorted = input.unsorted_indices
            if unsorted is not None:
                h_n = h_n.index_select(1, unsorted)
                c_n = c_n.index_select(1, unsorted) if c_n is not None else None
            output = PackedSequence(out, input.batch_sizes, input.sorted_indices, unsorted)
        elif kind == "unbatched":
            output = out
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        else:
            output = out.reshape(steps, batch, out.shape[1])
            if self.batch_first:
                output = output.transpose(0, 1)
        return output, h_n, c_n


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.
    forward(input, hx=None) -> (output, h_n); input may be a PackedSequence."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        output, h_n, _ = self._forward(input, hx, None)
        return output, h_n

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


class LSTM(RNNBase):
    """Long short-term memory, optionally with a projection of h (proj_size > 0);
    forward(input, (h0, c0)=None) -> (output, (h_n, c_n)); input may be a PackedSequence."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        h0 = c0 = None
        if hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTM: hx must be a tuple (h0, c0)")
            h0, c0 = hx
        output, h_n, c_n = self._forward(input, h0, c0)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit; forward(input, hx=None) -> (output, h_n); input may be a PackedSequence."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    forward = RNN.forward


# ---------------------------------------------------------------------- cells
class _CellBase(Module):
    def __init__(self, mode, input_size, hidden_size, bias, device, dtype):
        super().__init__()
        name = type(self).__name__
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive int, got {hidden_size!r}")
        check_device(device, name)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gates = _GATES[mode]
        dtype = dtype or get_default_dtype()
        self.weight_ih = Parameter(empty((gates * hidden_size, input_size), dtype=dtype))
        self.weight_hh = Parameter(empty((gates * hidden_size, hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty((gates * hidden_size,), dtype=dtype))
            self.bias_hh = Parameter(empty((gates * hidden_size,), dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every weight and bias again from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), PyTorch's
        default.
        """
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, input):
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D input of shape "
                             f"{tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has {input.shape[-1]} features, expected input_size={self.input_size} "
                             f"(input of shape {tuple(input.shape)})")
        if input.dtype != self.weight_ih.dtype:
            raise TypeError(f"{name}: input has dtype {input.dtype} but the parameters are {self.weight_ih.dtype}")
        batched = input.ndim == 2
        return (input if batched else input.unsqueeze(0)), batched

    def _hidden(self, h, input, batched, what):
        if h is None:
            return zeros((input.shape[0], self.hidden_size), dtype=input.dtype)
        shape = (input.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        if not isinstance(h, Tensor) or tuple(h.shape) != shape:
            got = tuple(h.shape) if isinstance(h, Tensor) else type(h).__name__
            raise ValueError(f"{type(self).__name__}: expected {what} of shape {shape}, got {got}")
        return h if batched else h.unsqueeze(0)

    def _step(self, input, h, c):
        """One step of the layer kernel (a sequence of length 1)."""
        return _RNNLayer.apply(input, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, None,
                               self.mode, False, None)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """One Elman step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, bias, device,
                         dtype)

    def forward(self, input, hx=None):
        input, batched = self._prepare(input)
        h = self._step(input, self._hidden(hx, input, batched, "hx"), None)[0]
        return h if batched else h.squeeze(0)


class LSTMCell(_CellBase):
    """One LSTM step: forward(input, (h, c)=None) -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        input, batched = self._prepare(input)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTMCell: hx must be a tuple (h, c)")
        h0, c0 = (None, None) if hx is None else hx
        out, _, c = self._step(input, self._hidden(h0, input, batched, "h"), self._hidden(c0, input, batched, "c"))
        return (out, c) if batched else (out.squeeze(0), c.squeeze(0))


class GRUCell(_CellBase):
    """One GRU step: forward(input, hx=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)

    forward = RNNCell.forward
