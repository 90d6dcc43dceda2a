"""MaxUnpool1d / MaxUnpool2d and F.max_unpool1d / max_unpool2d: the partial inverse of max
pooling. Each value goes back to the position its max-pool index names (flat within each plane,
as max_pool2d(..., return_indices=True) gives them); everything else is zero. Differentiable in
the values (scatter_add into zeros)."""
from ..ops.creation import zeros
from ..tensor import Tensor
from .module import Module


def _tuple(value, n, name, op):
    out = (value,) * n if isinstance(value, int) else tuple(value)
    if len(out) != n:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return out


def _unpool(input, indices, kernel_size, stride, padding, output_size, n, op):
    if not isinstance(input, Tensor) or not isinstance(indices, Tensor):
        raise TypeError(f"{op}: expected input and indices tensors")
    if input.ndim not in (n + 1, n + 2):
        raise ValueError(f"{op}: expected a {n + 1}-D or {n + 2}-D input, got shape {tuple(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise ValueError(f"{op}: indices of shape {tuple(indices.shape)} must have the input's shape "
                         f"{tuple(input.shape)}")
    k = _tuple(kernel_size, n, "kernel_size", op)
    s = _tuple(stride if stride is not None else kernel_size, n, "stride", op)
    p = _tuple(padding, n, "padding", op)
    spatial_in = tuple(input.shape[-n:])
    default = tuple((i - 1) * st - 2 * pd + kk for i, st, pd, kk in zip(spatial_in, s, p, k))
    if output_size is None:
        spatial = default
    else:
        spatial = tuple(output_size)[-n:]
        for got, want, st in zip(spatial, default, s):
            if not want - st < got < want + st:
                raise ValueError(f"{op}: invalid output_size {tuple(output_size)}: each size must be within a stride "
                                 f"of the default {default}")
    lead = tuple(input.shape[:-n])
    plane = 1
    for v in spatial:
        plane *= v
    flat_idx = indices.reshape(*lead, -1).long()
    if flat_idx.numel() and (int(flat_idx.min()) < 0 or int(flat_idx.max()) >= plane):
        raise IndexError(f"{op}: found an index out of range for an output plane of {plane} elements "
                         f"(output size {spatial})")
    out = zeros(*lead, plane, dtype=input.dtype).scatter_add(-1, flat_idx, input.reshape(*lead, -1))
    return out.reshape(*lead, *spatial)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


class MaxUnpool1d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride if stride is not None else kernel_size, padding

    def forward(self, input, indices, output_size=None):
        return max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(MaxUnpool1d):
    def forward(self, input, indices, output_size=None):
        return max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)
