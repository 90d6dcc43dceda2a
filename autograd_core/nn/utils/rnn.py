"""ag.nn.utils.rnn: pad_sequence, for batching variable-length sequences (sentences, time series)
before an RNN, LSTM, GRU or Transformer (with a padding mask built from the lengths)."""
import autograd_core as ag

__all__ = ["pad_sequence"]


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
            fill = ag.full((missing,) + trailing, padding_value, dtype=s.dtype)
            s = ag.cat([s, fill] if padding_side == "right" else [fill, s], 0)
        rows.append(s)
    return ag.stack(rows, 0 if batch_first else 1)
