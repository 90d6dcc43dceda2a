"""ag.nn.utils.rnn: batching variable-length sequences (sentences, time series) for an RNN, LSTM,
GRU or Transformer, with PyTorch's names and semantics.

A PackedSequence stores the sequences of a batch step by step: step t holds batch_sizes[t] rows, one
per sequence still running at t, longest sequences first; the recurrent layers take it and skip the
padding entirely. pad_sequence / pad_packed_sequence / pack_padded_sequence / pack_sequence convert
between lists, padded tensors and packed sequences; every conversion is differentiable.
"""
from collections import namedtuple

from ...dtypes import float32, float64, int64
from ...ops.creation import full, tensor
from ...ops.shape import cat, stack
from ...tensor import Tensor

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


def _invert_permutation(perm):
    if perm is None:
        return None
    inv = [0] * len(perm)
    for i, p in enumerate(perm.tolist()):
        inv[p] = i
    return tensor(inv, dtype=int64)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """(data, batch_sizes, sorted_indices, unsorted_indices): data (sum of the lengths, *) holds the
    sequences step by step, batch_sizes (int64, one per step) how many run at each step.
    sorted_indices[i] is the original batch position of the i-th longest sequence (None when the
    batch was already sorted), unsorted_indices its inverse. Build one with pack_padded_sequence or
    pack_sequence rather than by hand."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = _invert_permutation(sorted_indices)
        if batch_sizes is None:
            raise TypeError("PackedSequence: batch_sizes is required (build packed sequences with "
                            "pack_padded_sequence or pack_sequence)")
        if not isinstance(batch_sizes, Tensor):
            batch_sizes = tensor(list(batch_sizes), dtype=int64)
        if batch_sizes.ndim != 1 or batch_sizes.dtype != int64:
            raise ValueError(f"PackedSequence: batch_sizes must be a 1-D int64 tensor, got {batch_sizes.dtype} of "
                             f"shape {tuple(batch_sizes.shape)}")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same sequence with data converted (dtype or device, as Tensor.to); indices unchanged."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes, self.sorted_indices,
                                                        self.unsorted_indices)

    def float(self):
        """The same sequence with ``data`` converted to float32."""
        return self.to(float32)

    def double(self):
        """The same sequence with ``data`` converted to float64."""
        return self.to(float64)

    def cpu(self):
        """``self``: the data already lives in CPU memory."""
        return self

    @property
    def is_cuda(self):
        """False: this library runs on the CPU."""
        return False

    def is_pinned(self):
        """False: there is no pinned (page-locked) memory for a GPU to read from."""
        return False


def _lengths_list(lengths, op):
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise ValueError(f"{op}: lengths must be a 1-D tensor or a list, got shape {tuple(lengths.shape)}")
        lengths = lengths.tolist()
    out = []
    for v in lengths:
        if isinstance(v, float) and v != int(v):
            raise ValueError(f"{op}: lengths must be integers, got {v}")
        out.append(int(v))
    return out


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) ((B, T, *) with batch_first) whose sequence b has lengths[b]
    valid steps. With enforce_sorted the lengths must be non-increasing; otherwise the batch is sorted
    here and sorted_indices / unsorted_indices record the permutation, so the layers' h_n and
    pad_packed_sequence come back in the original order."""
    op = "pack_padded_sequence"
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise ValueError(f"{op}: expected a padded tensor with at least 2 dimensions (T, B, *), got "
                         f"{tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__}")
    lens = _lengths_list(lengths, op)
    batch_dim = 0 if batch_first else 1
    if len(lens) != input.shape[batch_dim]:
        raise ValueError(f"{op}: got {len(lens)} lengths for a batch of {input.shape[batch_dim]} sequences "
                         f"(input of shape {tuple(input.shape)}, batch_first={batch_first})")
    if any(n <= 0 for n in lens):
        raise RuntimeError(f"{op}: Length of all samples has to be greater than 0, but found an element in "
                           f"'lengths' that is <= 0 (lengths {lens})")
    steps = input.shape[1 - batch_dim]
    if max(lens) > steps:
        raise ValueError(f"{op}: the longest length, {max(lens)}, is more than the {steps} steps of the input "
                         f"(shape {tuple(input.shape)}, batch_first={batch_first})")
    sorted_indices = None
    if enforce_sorted:
        if any(lens[i] < lens[i + 1] for i in range(len(lens) - 1)):
            raise RuntimeError(f"{op}: `lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                               f"True (got {lens}). You can pass `enforce_sorted=False` to pack_padded_sequence "
                               f"and/or pack_sequence to sidestep this requirement if you do not need ONNX "
                               f"exportability.")
    else:
        order = sorted(range(len(lens)), key=lambda b: -lens[b])
        sorted_indices = tensor(order, dtype=int64)
        input = input.index_select(batch_dim, sorted_indices)
        lens = [lens[b] for b in order]
    if batch_first:
        input = input.transpose(0, 1)
    batch = input.shape[1]
    batch_sizes = [sum(1 for n in lens if n > t) for t in range(lens[0])]
    rows = [t * batch + b for t, bs in enumerate(batch_sizes) for b in range(bs)]
    flat = input.reshape((steps * batch,) + tuple(input.shape[2:]))
    data = flat.index_select(0, tensor(rows, dtype=int64))
    return PackedSequence(data, tensor(batch_sizes, dtype=int64), sorted_indices,
                          _invert_permutation(sorted_indices))


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of pack_padded_sequence: (padded (T, B, *) or (B, T, *), lengths (int64, B)), in
    the batch's original order. total_length pads to that many steps (at least the longest)."""
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{op}: expected a PackedSequence, got {type(sequence).__name__}")
    data = sequence.data
    sizes = [int(v) for v in sequence.batch_sizes.tolist()]
    steps = len(sizes)
    batch = sizes[0] if sizes else 0
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"{op}: Expected total_length to be at least the length of the longest sequence in "
                             f"input, but got total_length={total_length} and max sequence length being {steps}")
        steps_out = total_length
    else:
        steps_out = steps
    trailing = tuple(data.shape[1:])
    n = data.shape[0]
    offsets = [0]
    for bs in sizes:
        offsets.append(offsets[-1] + bs)
    # every padded position reads a row of data, or the padding row appended after them
    rows = [offsets[t] + b if t < steps and b < sizes[t] else n for t in range(steps_out) for b in range(batch)]
    source = cat([data, full((1,) + trailing, padding_value, dtype=data.dtype)], 0)
    padded = source.index_select(0, tensor(rows, dtype=int64)).reshape((steps_out, batch) + trailing)
    lengths = [sum(1 for bs in sizes if bs > b) for b in range(batch)]
    lengths = tensor(lengths, dtype=int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths.index_select(0, sequence.unsorted_indices)
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into (L_max, B, *) (or (B, L_max, *) with batch_first),
    filling the missing steps with padding_value, after each sequence (padding_side='right') or
    before it ('left'). Differentiable with respect to every sequence."""
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pad_sequence: got an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    trailing = tuple(seqs[0].shape[1:])
    for k, s in enumerate(seqs):
        if s.ndim < 1 or tuple(s.shape[1:]) != trailing:
            raise ValueError(f"pad_sequence: sequence {k} has shape {tuple(s.shape)}; every sequence must be "
                             f"(L, *) with the same trailing shape {trailing}")
        if s.dtype != seqs[0].dtype:
            raise TypeError(f"pad_sequence: sequence {k} has dtype {s.dtype}, sequence 0 has {seqs[0].dtype}")
    longest = max(s.shape[0] for s in seqs)
    rows = []
    for s in seqs:
        missing = longest - s.shape[0]
        if missing:
            fill = full((missing,) + trailing, padding_value, dtype=s.dtype)
            s = cat([s, fill] if padding_side == "right" else [fill, s], 0)
        rows.append(s)
    return stack(rows, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors (L_i, *) (longest first unless enforce_sorted=False)."""
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pack_sequence: got an empty list of sequences")
    lengths = [s.shape[0] for s in seqs]
    return pack_padded_sequence(pad_sequence(seqs), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences in a padded batch, each cut to its length."""
    lens = _lengths_list(lengths, "unpad_sequence")
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[b, :n] for b, n in enumerate(lens)]


def unpack_sequence(packed_sequences):
    """The list of sequences in a PackedSequence, in the original batch order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
