"""pad: constant, reflect, replicate and circular padding."""
import numpy as np

from ...ops.creation import full, tensor
from ...ops.shape import cat


def pad(input, pad, mode="constant", value=0.0):
    """Pad the last len(pad) // 2 dimensions: pad = (left_last, right_last, left_prev, right_prev, ...).
    mode 'constant' (negative pads crop), 'reflect', 'replicate' or 'circular'."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length {len(pad)} must be even and at most 2 * ndim "
                         f"({2 * input.ndim}) for input of shape {tuple(input.shape)}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: unknown mode {mode!r}; expected constant, reflect, replicate or circular")
    out = input
    for i in range(len(pad) // 2):
        dim = input.ndim - 1 - i
        left, right = pad[2 * i], pad[2 * i + 1]
        if left == 0 and right == 0:
            continue
        if mode == "constant":
            out = _pad_constant(out, dim, left, right, value)
        else:
            out = out.index_select(dim, _pad_index(out.shape[dim], left, right, mode))
    return out


def _pad_constant(x, dim, left, right, value):
    size = x.shape[dim]
    if left < 0 or right < 0:
        start, stop = max(-left, 0), size - max(-right, 0)
        if stop < start:
            raise ValueError(f"pad: cropping ({left}, {right}) removes more than the {size} elements of dim {dim}")
        idx = [slice(None)] * x.ndim
        idx[dim] = slice(start, stop)
        x = x[tuple(idx)]
        left, right = max(left, 0), max(right, 0)
    parts = []
    for amount in (left, None, right):
        if amount is None:
            parts.append(x)
        elif amount > 0:
            shape = list(x.shape)
            shape[dim] = amount
            parts.append(full(tuple(shape), value, dtype=x.dtype))
    return cat(parts, dim) if len(parts) > 1 else x


def _pad_index(size, left, right, mode):
    idx = np.arange(-left, size + right)
    if mode == "replicate":
        idx = np.clip(idx, 0, size - 1)
    elif mode == "circular":
        # a negative pad crops first, and the other side then wraps around the cropped part (as PyTorch)
        lo, hi = max(-left, 0), size - max(-right, 0)
        if hi < lo or max(left, 0) > hi - lo or max(right, 0) > hi - lo:
            raise ValueError(f"pad: circular padding ({left}, {right}) larger than the dimension size {size} "
                             f"(after cropping: {max(hi - lo, 0)})")
        idx = lo + (np.arange(-max(left, 0), hi - lo + max(right, 0)) % max(hi - lo, 1))
    else:
        if left >= size or right >= size:
            raise ValueError(f"pad: reflect padding ({left}, {right}) must be smaller than the dimension "
                             f"size {size}")
        period = 2 * (size - 1) if size > 1 else 1
        idx = np.abs(idx) % period
        idx = np.where(idx >= size, period - idx, idx)
    return tensor(idx.astype(np.int64))
