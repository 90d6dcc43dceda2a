"""Sliding blocks: unfold (im2col: every kernel-sized block of a batched image as a column) and
fold (its adjoint: columns summed back into an image). Channel order within a column is
(c, kernel row, kernel column), as in PyTorch.

Both are written with strided slices, stack and slice assignment, so they are differentiable
(and fold's gradient is unfold, and the other way round)."""
from ...ops.creation import zeros
from ...ops.shape import stack
from ...tensor import Tensor
from .padding import pad


def _pair(value, name, op):
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return pair


def _args(op, kernel_size, dilation, padding, stride):
    k = _pair(kernel_size, "kernel_size", op)
    d = _pair(dilation, "dilation", op)
    p = _pair(padding, "padding", op)
    s = _pair(stride, "stride", op)
    if min(k) <= 0 or min(d) <= 0 or min(s) <= 0 or min(p) < 0:
        raise ValueError(f"{op}: kernel_size, dilation and stride must be positive and padding non-negative, got "
                         f"kernel_size={k}, dilation={d}, padding={p}, stride={s}")
    return k, d, p, s


def _blocks(size, k, d, p, s, op, shape):
    span = d * (k - 1) + 1
    if size + 2 * p < span:
        raise ValueError(f"{op}: the padded input size {size + 2 * p} is smaller than the dilated kernel {span} "
                         f"(input shape {shape})")
    return (size + 2 * p - span) // s + 1


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C, H, W) -> (N, C * kh * kw, L): each column one block, L blocks in row-major order."""
    op = "unfold"
    if not isinstance(input, Tensor) or input.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D or 4-D input (batched or unbatched image), got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    batched = input.ndim == 4
    x = input if batched else input.unsqueeze(0)
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = _args(op, kernel_size, dilation, padding, stride)
    n, c, h, w = x.shape
    oh = _blocks(h, kh, dh, ph, sh, op, tuple(input.shape))
    ow = _blocks(w, kw, dw, pw, sw, op, tuple(input.shape))
    if ph or pw:
        x = pad(x, (pw, pw, ph, ph))
    pieces = [x[:, :, i * dh: i * dh + sh * (oh - 1) + 1: sh, j * dw: j * dw + sw * (ow - 1) + 1: sw]
              for i in range(kh) for j in range(kw)]
    out = stack(pieces, 2).reshape(n, c * kh * kw, oh * ow)
    return out if batched else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C * kh * kw, L) -> (N, C, H, W): each column added back at its block (overlaps sum)."""
    op = "fold"
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected a 2-D or 3-D input (unbatched or batched columns), got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    batched = input.ndim == 3
    cols = input if batched else input.unsqueeze(0)
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = _args(op, kernel_size, dilation, padding, stride)
    h, w = _pair(output_size, "output_size", op)
    n, ck, length = cols.shape
    if ck % (kh * kw):
        raise ValueError(f"{op}: expected size of input's dimension 1 to be divisible by the product of kernel_size, "
                         f"but got input.size(1)={ck} and kernel_size={(kh, kw)}")
    oh = _blocks(h, kh, dh, ph, sh, op, tuple(input.shape))
    ow = _blocks(w, kw, dw, pw, sw, op, tuple(input.shape))
    if oh * ow != length:
        raise ValueError(f"{op}: given output_size={(h, w)}, kernel_size={(kh, kw)}, dilation={(dh, dw)}, "
                         f"padding={(ph, pw)}, stride={(sh, sw)}, expected size of input's dimension 2 to match the "
                         f"calculated number of sliding blocks {oh} * {ow} = {oh * ow}, but got input.size(2)={length}")
    c = ck // (kh * kw)
    blocks = cols.reshape(n, c, kh, kw, oh, ow)
    out = zeros(n, c, h + 2 * ph, w + 2 * pw, dtype=input.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            out[:, :, rows, columns] = out[:, :, rows, columns] + blocks[:, :, i, j]
    out = out[:, :, ph: ph + h, pw: pw + w]
    return out if batched else out.squeeze(0)
