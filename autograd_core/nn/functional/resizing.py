"""interpolate: nearest, linear and bilinear resizing."""
import math

import numpy as np

from ...ops.creation import tensor

_INTERP_DIMS = {"nearest": (1, 2), "linear": (1,), "bilinear": (2,)}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """Resize the spatial dims of (N, C, L) or (N, C, H, W) input, as PyTorch: mode 'nearest'
    (1-d or 2-d), 'linear' (1-d) or 'bilinear' (2-d). Give the output `size` (an int or one per
    spatial dim) or `scale_factor` (output = floor(input * factor)). align_corners=True (linear
    modes only) maps the corner pixels' centres onto each other; False (the default) maps the
    corners' edges, so a 2x upsample repeats no pixel exactly. With scale_factor the source
    coordinate uses 1 / scale_factor unless recompute_scale_factor=True (then input / output size).
    Differentiable: the backward scatters the gradient onto the source pixels by the same weights."""
    if mode not in _INTERP_DIMS:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (nearest, linear, bilinear)")
    nsp = input.dim() - 2
    if nsp not in _INTERP_DIMS[mode]:
        want = " or ".join(f"{d + 2}-d" for d in _INTERP_DIMS[mode])
        raise ValueError(f"interpolate: mode {mode!r} needs a {want} input (N, C, spatial...), got shape "
                         f"{tuple(input.shape)}")
    if align_corners is not None and mode == "nearest":
        raise ValueError("interpolate: align_corners can only be set with the interpolating modes linear and "
                         "bilinear")
    align_corners = bool(align_corners)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size or scale_factor")
    in_sizes = tuple(input.shape[2:])

    def per_dim(v, name):
        vals = tuple(v) if isinstance(v, (tuple, list)) else (v,) * nsp
        if len(vals) != nsp:
            raise ValueError(f"interpolate: {name} has {len(vals)} entries for an input with {nsp} spatial "
                             f"dims, shape {tuple(input.shape)}")
        return vals

    if size is not None:
        out_sizes = tuple(int(v) for v in per_dim(size, "size"))
        scales = [None] * nsp
    else:
        factors = tuple(float(v) for v in per_dim(scale_factor, "scale_factor"))
        if any(not f > 0 for f in factors):
            raise ValueError(f"interpolate: scale_factor must be positive, got {scale_factor}")
        out_sizes = tuple(int(math.floor(n * f)) for n, f in zip(in_sizes, factors))
        scales = [None if recompute_scale_factor else 1.0 / f for f in factors]
    if any(o <= 0 for o in out_sizes):
        raise ValueError(f"interpolate: the output size {out_sizes} must be positive (input spatial size "
                         f"{in_sizes})")
    out = input
    for k, (n_in, n_out, scale) in enumerate(zip(in_sizes, out_sizes, scales)):
        out = _resize_dim(out, 2 + k, n_in, n_out, scale, mode, align_corners, nsp)
    return out.clone() if out is input else out


def _resize_dim(x, dim, n_in, n_out, scale, mode, align_corners, nsp):
    """Resize one dim of x from n_in to n_out entries (separable: bilinear is linear along H, then W)."""
    # PyTorch keeps a dim whose size does not change as it is, whatever scale_factor says, in its
    # linear modes and in 2-d nearest (its 1-d nearest maps through the scale all the same)
    if n_out == n_in and (mode != "nearest" or nsp == 2):
        return x
    if mode == "nearest":
        # in float32, as PyTorch computes it for every dtype: floor(23 * float32(14 / 46)) is 6, not 7
        ratio = np.float32(n_in / n_out if scale is None else scale)
        src = np.minimum(np.floor(np.arange(n_out, dtype=np.float32) * ratio).astype(np.int64), n_in - 1)
        return x.index_select(dim, tensor(src))
    if align_corners:
        ratio = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        pos = np.arange(n_out) * ratio
    else:
        ratio = n_in / n_out if scale is None else scale
        pos = np.maximum((np.arange(n_out) + 0.5) * ratio - 0.5, 0.0)
    i0 = np.minimum(np.floor(pos).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w1 = pos - i0
    shape = [1] * x.dim()
    shape[dim] = n_out
    w1 = tensor(w1.reshape(shape), dtype=x.dtype)
    lo, hi = x.index_select(dim, tensor(i0)), x.index_select(dim, tensor(i1))
    return lo + (hi - lo) * w1
