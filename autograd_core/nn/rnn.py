"""Recurrent layers RNN, LSTM, GRU (num_layers, batch_first, bidirectional, dropout) and their cells.

Parameter names and gate orders are PyTorch's (weight_ih_l0, weight_hh_l0_reverse, ...; LSTM gates
i, f, g, o; GRU gates r, z, n), so state dicts move between the two. Every parameter starts
U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)). The input projection of a whole sequence is one GEMM;
the recurrence loops over time steps with differentiable ops (the engine walks long graphs
iteratively).
"""
import math

import autograd_core as ag

from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from . import functional as F
from . import init
from .module import Module, Parameter
from ..device import check_device

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


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
    return n + z * (h - n)


def _recompute_grads(cell, inputs, outputs_grads):
    """Double-backward path of the fused cells: rebuild the cell from differentiable ops and let
    autograd.grad (create_graph=True) differentiate it."""
    wanted = [t for t in inputs if t is not None and t.requires_grad]
    with enable_grad():
        outs = cell(*inputs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        pairs = [(o, g) for o, g in zip(outs, outputs_grads) if g is not None]
        grads = ag.autograd.grad([o for o, _ in pairs], wanted, [g for _, g in pairs], create_graph=True,
                                 allow_unused=True)
    it = iter(grads)
    return tuple(next(it) if t is not None and t.requires_grad else None for t in inputs)


class _FusedLSTMCell(Function):
    """One LSTM step (h, c) from the input projection xg = x W_ih^T + b_ih: two graph nodes per step
    instead of fifteen. Backward is the closed form (or, for double backward, autograd on the
    recomputed cell)."""

    @staticmethod
    def forward(ctx, xg, h, c, w_hh, b_hh):
        hs = h.shape[1]
        gates = xg + F.linear(h, w_hh, b_hh)
        i = gates[:, 0:hs].sigmoid()
        f = gates[:, hs:2 * hs].sigmoid()
        g = gates[:, 2 * hs:3 * hs].tanh()
        o = gates[:, 3 * hs:].sigmoid()
        c2 = f * c + i * g
        th = c2.tanh()
        ctx.save_for_backward(xg, h, c, w_hh, b_hh, i, f, g, o, th)
        return o * th, c2

    @staticmethod
    def backward(ctx, gh, gc):
        xg, h, c, w_hh, b_hh, i, f, g, o, th = ctx.saved_tensors
        if is_grad_enabled():
            return _recompute_grads(_lstm_cell, (xg, h, c, w_hh, b_hh), (gh, gc))
        if gh is None:
            gh = ag.zeros_like(th)
        dc = gh * o * (1 - th * th)
        if gc is not None:
            dc = dc + gc
        dgates = ag.cat([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g),
                         gh * th * o * (1 - o)], 1)
        need = ctx.needs_input_grad
        return (dgates if need[0] else None,
                dgates @ w_hh if need[1] else None,
                dc * f if need[2] else None,
                dgates.T @ h if need[3] else None,
                dgates.sum(0) if b_hh is not None and need[4] else None)


class _FusedGRUCell(Function):
    """One GRU step from the input projection xg (gates r, z, n as PyTorch), closed-form backward."""

    @staticmethod
    def forward(ctx, xg, h, w_hh, b_hh):
        hs = h.shape[1]
        hg = F.linear(h, w_hh, b_hh)
        hn = hg[:, 2 * hs:]
        r = (xg[:, 0:hs] + hg[:, 0:hs]).sigmoid()
        z = (xg[:, hs:2 * hs] + hg[:, hs:2 * hs]).sigmoid()
        n = (xg[:, 2 * hs:] + r * hn).tanh()
        ctx.save_for_backward(xg, h, w_hh, b_hh, r, z, n, hn)
        return n + z * (h - n)

    @staticmethod
    def backward(ctx, gh):
        xg, h, w_hh, b_hh, r, z, n, hn = ctx.saved_tensors
        if is_grad_enabled():
            return _recompute_grads(_gru_cell, (xg, h, w_hh, b_hh), (gh,))
        dn = gh * (1 - z) * (1 - n * n)
        dr = dn * hn * r * (1 - r)
        dz = gh * (h - n) * z * (1 - z)
        dhg = ag.cat([dr, dz, dn * r], 1)
        need = ctx.needs_input_grad
        return (ag.cat([dr, dz, dn], 1) if need[0] else None,
                gh * z + dhg @ w_hh if need[1] else None,
                dhg.T @ h if need[2] else None,
                dhg.sum(0) if b_hh is not None and need[3] else None)


class RNNBase(Module):
    """The common base of :class:`RNN`, :class:`LSTM` and :class:`GRU`: the stacked, optionally
    bidirectional layers and their parameters ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` (``_reverse`` for the backward direction), named as in PyTorch.
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        check_device(device, type(self).__name__)
        super().__init__()
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{type(self).__name__}: hidden_size must be a positive int, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"{type(self).__name__}: num_layers must be a positive int, got {num_layers!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1], got {dropout}")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        dtype = dtype or ag.float32
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                names = [f"weight_ih{suffix}", f"weight_hh{suffix}"]
                shapes = [(gate_size, layer_input), (gate_size, hidden_size)]
                if bias:
                    names += [f"bias_ih{suffix}", f"bias_hh{suffix}"]
                    shapes += [(gate_size,), (gate_size,)]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(ag.empty(shape, dtype=dtype)))
                self._flat_weights_names.extend(names)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every weight and bias again from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), PyTorch's
        default.
        """
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _layer_params(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        get = self._parameters.get
        return (get(f"weight_ih{suffix}"), get(f"weight_hh{suffix}"), get(f"bias_ih{suffix}"),
                get(f"bias_hh{suffix}"))

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
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
    def _prepare(self, input, hx):
        name = type(self).__name__
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: expected 2-D (unbatched) or 3-D input, got shape {tuple(input.shape)}")
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[2] != self.input_size:
            raise ValueError(f"{name}: input has {input.shape[2]} features, expected input_size="
                             f"{self.input_size} (input shape {tuple(input.shape)})")
        return input, batched

    def _check_hidden(self, h, batch, what):
        directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * directions, batch, self.hidden_size)
        if tuple(h.shape) != expected:
            raise ValueError(f"{type(self).__name__}: expected {what} of shape {expected}, got {tuple(h.shape)}")

    def _run(self, input, h0, c0):
        """input (L, N, H_in) -> output (L, N, D * H), final h (and c) per layer and direction."""
        lstm = self.mode == "LSTM"
        seq_len, batch = input.shape[0], input.shape[1]
        directions = 2 if self.bidirectional else 1
        layer_input = input
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                w_ih, w_hh, b_ih, b_hh = self._layer_params(layer, direction)
                k = layer * directions + direction
                h = h0[k]
                c = c0[k] if lstm else None
                xg = F.linear(layer_input.reshape(seq_len * batch, layer_input.shape[2]), w_ih, b_ih)
                xg = xg.reshape(seq_len, batch, xg.shape[1])
                steps = range(seq_len - 1, -1, -1) if direction == 1 else range(seq_len)
                out = [None] * seq_len
                for t in steps:
                    if lstm:
                        h, c = _FusedLSTMCell.apply(xg[t], h, c, w_hh, b_hh)
                    elif self.mode == "GRU":
                        h = _FusedGRUCell.apply(xg[t], h, w_hh, b_hh)
                    else:
                        h = _rnn_cell(xg[t], h, w_hh, b_hh, "tanh" if self.mode == "RNN_TANH" else "relu")
                    out[t] = h
                outputs.append(ag.stack(out, 0) if seq_len else ag.zeros((0, batch, self.hidden_size),
                                                                         dtype=input.dtype))
                h_n.append(h)
                if lstm:
                    c_n.append(c)
            layer_input = outputs[0] if directions == 1 else ag.cat(outputs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        return layer_input, ag.stack(h_n, 0), (ag.stack(c_n, 0) if lstm else None)

    def _finish(self, output, batched):
        if not batched:
            return output.squeeze(1)
        return output.transpose(0, 1) if self.batch_first else output


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.
    forward(input, h0=None) -> (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        check_device(device, type(self).__name__)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, dtype=dtype)

    def forward(self, input, hx=None):
        input, batched = self._prepare(input, hx)
        batch = input.shape[1]
        directions = 2 if self.bidirectional else 1
        if hx is None:
            hx = ag.zeros((self.num_layers * directions, batch, self.hidden_size), dtype=input.dtype)
        elif not batched:
            hx = hx.unsqueeze(1)
        self._check_hidden(hx, batch, "hx")
        output, h_n, _ = self._run(input, hx, None)
        return self._finish(output, batched), (h_n if batched else h_n.squeeze(1))

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


class LSTM(RNNBase):
    """Long short-term memory; forward(input, (h0, c0)=None) -> (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        check_device(device, type(self).__name__)
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype)

    def forward(self, input, hx=None):
        input, batched = self._prepare(input, hx)
        batch = input.shape[1]
        directions = 2 if self.bidirectional else 1
        if hx is None:
            zeros = ag.zeros((self.num_layers * directions, batch, self.hidden_size), dtype=input.dtype)
            h0, c0 = zeros, zeros
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTM: hx must be a tuple (h0, c0)")
            h0, c0 = hx
            if not batched:
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
        self._check_hidden(h0, batch, "h0")
        self._check_hidden(c0, batch, "c0")
        output, h_n, c_n = self._run(input, h0, c0)
        if not batched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return self._finish(output, batched), (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit; forward(input, h0=None) -> (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        check_device(device, type(self).__name__)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype)

    forward = RNN.forward


class _CellBase(Module):
    def __init__(self, input_size, hidden_size, bias, gates, dtype):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        dtype = dtype or ag.float32
        self.weight_ih = Parameter(ag.empty((gates * hidden_size, input_size), dtype=dtype))
        self.weight_hh = Parameter(ag.empty((gates * hidden_size, hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(ag.empty((gates * hidden_size,), dtype=dtype))
            self.bias_hh = Parameter(ag.empty((gates * hidden_size,), dtype=dtype))
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

    def _prepare(self, input, hx):
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: expected 1-D or 2-D input, got shape {tuple(input.shape)}")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise ValueError(f"{name}: input has {input.shape[1]} features, expected input_size={self.input_size}")
        return input, batched

    def _hidden(self, h, input, batched):
        if h is None:
            return ag.zeros((input.shape[0], self.hidden_size), dtype=input.dtype)
        h = h if batched else h.unsqueeze(0)
        if tuple(h.shape) != (input.shape[0], self.hidden_size):
            raise ValueError(f"{type(self).__name__}: expected hidden state of shape "
                             f"{(input.shape[0], self.hidden_size)}, got {tuple(h.shape)}")
        return h

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    r"""One step of an Elman RNN.

    .. math::
        h' = \tanh(x W_{ih}^T + b_{ih} + h W_{hh}^T + b_{hh})

    (ReLU instead of tanh with ``nonlinearity='relu'``).

    Args:
        input_size (int): features of x.
        hidden_size (int): features of h.
        bias (bool): use the biases.
        nonlinearity (str): ``'tanh'`` or ``'relu'``.

    Shape:
        - Input: ``(N, input_size)`` or ``(input_size,)``; hx: ``(N, hidden_size)`` or None (zeros).
        - Output: h', ``(N, hidden_size)``.

    Example:
        >>> cell = nn.RNNCell(3, 5)
        >>> h = None
        >>> for x_t in ag.randn(4, 2, 3):       # 4 time steps, batch 2
        ...     h = cell(x_t, h)
        >>> h.shape
        Size([2, 5])

    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        check_device(device, type(self).__name__)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, 1, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, batched = self._prepare(input, hx)
        h = self._hidden(hx, input, batched)
        h = _rnn_cell(F.linear(input, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh,
                      self.nonlinearity)
        return h if batched else h.squeeze(0)


class LSTMCell(_CellBase):
    r"""One step of a long short-term memory.

    .. math::
        \begin{aligned}
        i &= \sigma(x W_{ii}^T + b_{ii} + h W_{hi}^T + b_{hi}), \quad
        f = \sigma(x W_{if}^T + b_{if} + h W_{hf}^T + b_{hf}) \\
        g &= \tanh(x W_{ig}^T + b_{ig} + h W_{hg}^T + b_{hg}), \quad
        o = \sigma(x W_{io}^T + b_{io} + h W_{ho}^T + b_{ho}) \\
        c' &= f \odot c + i \odot g, \qquad h' = o \odot \tanh(c')
        \end{aligned}

    The gates are stacked in ``weight_ih`` (``(4 * hidden_size, input_size)``) in PyTorch's order
    i, f, g, o.

    Args:
        input_size (int): features of x.
        hidden_size (int): features of h and c.
        bias (bool): use the biases.

    Shape:
        - Input: ``(N, input_size)`` or ``(input_size,)``; hx: ``(h, c)``, each ``(N, hidden_size)``,
          or None (zeros).
        - Output: ``(h', c')``, each ``(N, hidden_size)``.

    Example:
        >>> h, c = nn.LSTMCell(3, 5)(ag.randn(2, 3))
        >>> h.shape, c.shape
        (Size([2, 5]), Size([2, 5]))

    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        check_device(device, type(self).__name__)
        super().__init__(input_size, hidden_size, bias, 4, dtype)

    def forward(self, input, hx=None):
        input, batched = self._prepare(input, hx)
        h0, c0 = (None, None) if hx is None else hx
        h = self._hidden(h0, input, batched)
        c = self._hidden(c0, input, batched)
        h, c = _FusedLSTMCell.apply(F.linear(input, self.weight_ih, self.bias_ih), h, c, self.weight_hh,
                                    self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(_CellBase):
    r"""One step of a gated recurrent unit.

    .. math::
        \begin{aligned}
        r &= \sigma(x W_{ir}^T + b_{ir} + h W_{hr}^T + b_{hr}), \quad
        z = \sigma(x W_{iz}^T + b_{iz} + h W_{hz}^T + b_{hz}) \\
        n &= \tanh(x W_{in}^T + b_{in} + r \odot (h W_{hn}^T + b_{hn})), \qquad
        h' = (1 - z) \odot n + z \odot h
        \end{aligned}

    The gates are stacked in ``weight_ih`` (``(3 * hidden_size, input_size)``) in PyTorch's order
    r, z, n.

    Args:
        input_size (int): features of x.
        hidden_size (int): features of h.
        bias (bool): use the biases.

    Shape:
        - Input: ``(N, input_size)`` or ``(input_size,)``; hx: ``(N, hidden_size)`` or None (zeros).
        - Output: h', ``(N, hidden_size)``.

    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        check_device(device, type(self).__name__)
        super().__init__(input_size, hidden_size, bias, 3, dtype)

    def forward(self, input, hx=None):
        input, batched = self._prepare(input, hx)
        h = self._hidden(hx, input, batched)
        h = _FusedGRUCell.apply(F.linear(input, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
