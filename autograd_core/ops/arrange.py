"""Arranging tensors, with PyTorch's names and semantics: atleast_1d/2d/3d, dstack, column_stack,
rot90, repeat_interleave, block_diag, cartesian_prod, diff, and the products that rearrange axes
(tensordot, kron, cross).

Each is built from differentiable ops (cat, reshape, permute, flip, index_select, matmul, mul), so
gradients and double gradients come from those; only integer index arrays are computed in NumPy.
"""
import numpy as np

from .. import _core
from .._core import TensorBase
from ._registry import op
from .creation import arange, tensor, zeros
from .index import index_select
from .shape import cat, flip, fliplr, flipud, meshgrid, reshape, stack, swapaxes, transpose, vstack
from .unary import where


def _check_tensor(x, op):
    if not isinstance(x, TensorBase):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")


def _each(tensors, fn):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(fn(t) for t in tensors[0])
    out = tuple(fn(t) for t in tensors)
    return out[0] if len(out) == 1 else out


def _1d(x):
    return x.reshape(1) if x.ndim == 0 else x


def _2d(x):
    return x.reshape(1, 1) if x.ndim == 0 else x.unsqueeze(0) if x.ndim == 1 else x


def _3d(x):
    if x.ndim == 0:
        return x.reshape(1, 1, 1)
    if x.ndim == 1:
        return x.reshape(1, x.shape[0], 1)
    if x.ndim == 2:
        return x.unsqueeze(-1)
    return x


@op(method=False)
def atleast_1d(*tensors):
    """Each tensor with at least one dimension (0-d becomes shape (1,))."""
    return _each(tensors, _1d)


@op(method=False)
def atleast_2d(*tensors):
    """Each tensor with at least two dimensions (a 1-d (n,) becomes (1, n))."""
    return _each(tensors, _2d)


@op(method=False)
def atleast_3d(*tensors):
    """Each tensor with at least three dimensions ((n,) -> (1, n, 1), (m, n) -> (m, n, 1))."""
    return _each(tensors, _3d)


def _sequence(tensors, op):
    if isinstance(tensors, TensorBase) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{op}: expected a non-empty list or tuple of tensors")
    for t in tensors:
        _check_tensor(t, op)
    return list(tensors)


@op(method=False)
def dstack(tensors):
    """Stack along the third axis, after atleast_3d."""
    return cat([_3d(t) for t in _sequence(tensors, "dstack")], 2)


@op(method=False)
def column_stack(tensors):
    """Columns side by side: 0-d and 1-d tensors become columns (n, 1), the rest are joined on dim 1."""
    parts = [t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in _sequence(tensors, "column_stack")]
    return cat(parts, 1)


@op
def rot90(x, k=1, dims=(0, 1)):
    """x rotated by 90 degrees k times in the plane of dims, from the first axis towards the second."""
    _check_tensor(x, "rot90")
    dims = list(dims)
    if len(dims) != 2:
        raise ValueError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise ValueError(f"rot90: expected total dims >= 2, but got total dims = {x.ndim}")
    d0, d1 = (d % x.ndim for d in dims)
    if d0 == d1:
        raise ValueError(f"rot90: expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    k %= 4
    if k == 1:
        return transpose(flip(x, [d1]), d0, d1)
    if k == 2:
        return flip(x, [d0, d1])
    if k == 3:
        return transpose(flip(x, [d0]), d0, d1)
    return x.clone()


@op
def repeat_interleave(x, repeats=None, dim=None, *, output_size=None):
    """Each element (each slice along dim; flattened when dim is None) repeated `repeats` times in
    place: repeats is an int or a tensor with one count per element. repeat_interleave(counts) alone
    gives 0 repeated counts[0] times, 1 repeated counts[1] times, ..."""
    if repeats is None:
        counts = x
        _check_tensor(counts, "repeat_interleave")
        if counts.ndim != 1 or counts.is_floating_point():
            raise ValueError(f"repeat_interleave: repeats must be a 1-d integer tensor, got shape "
                             f"{tuple(counts.shape)} and dtype {counts.dtype}")
        return repeat_interleave(arange(counts.shape[0]), counts, 0)
    _check_tensor(x, "repeat_interleave")
    if dim is None:
        x = x.reshape(-1)
        dim = 0
    if not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
        raise IndexError(f"repeat_interleave: dim {dim} out of range for shape {tuple(x.shape)}")
    if x.ndim == 0:
        x = x.reshape(1)
    dim %= x.ndim
    n = x.shape[dim]
    if isinstance(repeats, TensorBase):
        counts = np.asarray(repeats.detach()).astype(np.int64).reshape(-1)
    else:
        counts = np.asarray(repeats, dtype=np.int64).reshape(-1)
    if counts.size == 1:
        counts = np.full(n, counts[0], dtype=np.int64)
    if counts.size != n:
        raise ValueError(f"repeat_interleave: repeats must have the same size as input along dim {dim} ({n}), "
                         f"got {counts.size}")
    if (counts < 0).any():
        raise ValueError("repeat_interleave: repeats can not be negative")
    index = np.repeat(np.arange(n, dtype=np.int64), counts)
    if output_size is not None and output_size != index.size:
        raise ValueError(f"repeat_interleave: output_size {output_size} does not match the total {index.size}")
    return index_select(x, dim, tensor(index))


@op(method=False)
def block_diag(*tensors):
    """The tensors (0-d, 1-d as one row, or 2-d) as blocks along the diagonal of one matrix."""
    blocks = [t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t for t in tensors]
    for t in blocks:
        if t.ndim != 2:
            raise ValueError(f"block_diag: input tensors must have 2 or fewer dimensions, got shape {tuple(t.shape)}")
    if not blocks:
        return zeros(1, 0)
    cols = sum(t.shape[1] for t in blocks)
    rows, start = [], 0
    for t in blocks:
        left = zeros(t.shape[0], start, dtype=t.dtype)
        right = zeros(t.shape[0], cols - start - t.shape[1], dtype=t.dtype)
        rows.append(cat([left, t, right], 1))  # cat promotes mixed dtypes
        start += t.shape[1]
    return cat(rows, 0)


@op(method=False)
def cartesian_prod(*tensors):
    """All combinations of the elements of 1-d tensors, one per row (the first varies slowest)."""
    for t in tensors:
        _check_tensor(t, "cartesian_prod")
        if t.ndim != 1:
            raise ValueError(f"cartesian_prod: expects 1-d tensors, got shape {tuple(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


@op
def diff(x, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along dim (after joining prepend and append)."""
    _check_tensor(x, "diff")
    if x.ndim == 0:
        raise ValueError("diff: expected at least 1-dimensional input")
    dim %= x.ndim
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = cat([p if isinstance(p, TensorBase) else tensor(p) for p in parts], dim)
    for _ in range(n):
        length = x.shape[dim]
        if length == 0:
            break
        x = x.narrow(dim, 1, length - 1) - x.narrow(dim, 0, length - 1)
    return x


@op(method=False)
def tensordot(a, b, dims=2):
    """Contract a's dims_a with b's dims_b: dims an int (a's last dims with b's first), or a pair
    of lists. The free axes of a come first, then those of b."""
    _check_tensor(a, "tensordot")
    _check_tensor(b, "tensordot")
    if isinstance(dims, TensorBase):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims {dims} out of range for shapes {tuple(a.shape)} and {tuple(b.shape)}")
        dims_a = list(range(a.ndim - dims, a.ndim))
        dims_b = list(range(dims))
    else:
        dims_a, dims_b = dims
        dims_a = [dims_a] if isinstance(dims_a, int) else list(dims_a)
        dims_b = [dims_b] if isinstance(dims_b, int) else list(dims_b)
        if len(dims_a) != len(dims_b):
            raise ValueError(f"tensordot: both dimension lists should have same length, got {dims_a} and {dims_b}")
        dims_a = [d % a.ndim for d in dims_a]
        dims_b = [d % b.ndim for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise ValueError(f"tensordot: contracted dimensions need to match, but first has size {a.shape[da]} in "
                             f"dim {da} and second has size {b.shape[db]} in dim {db}")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    k = int(np.prod([a.shape[d] for d in dims_a], dtype=np.int64))
    am = a.permute(*(free_a + dims_a)).reshape(-1, k)
    bm = b.permute(*(dims_b + free_b)).reshape(k, -1)
    return (am @ bm).reshape(*[a.shape[d] for d in free_a], *[b.shape[d] for d in free_b])


@op
def kron(a, b):
    """The Kronecker product: blocks a[i, j] * b, for any number of dims (the fewer are padded with
    leading ones)."""
    _check_tensor(a, "kron")
    _check_tensor(b, "kron")
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + tuple(a.shape)
    sb = (1,) * (nd - b.ndim) + tuple(b.shape)
    ai = reshape(a, [v for s in sa for v in (s, 1)])
    bi = reshape(b, [v for s in sb for v in (1, s)])
    return (ai * bi).reshape(*[x * y for x, y in zip(sa, sb)])


@op
def cross(a, b, dim=None):
    """The 3-vector cross product along dim (default: the first dimension of size 3, as
    torch.cross; torch.linalg.cross uses -1), broadcasting the other dims."""
    _check_tensor(a, "cross")
    _check_tensor(b, "cross")
    shape = _core.broadcast_shape(tuple(a.shape), tuple(b.shape), "cross")
    a, b = a.expand(*shape), b.expand(*shape)
    if dim is None:
        dims = [d for d, s in enumerate(shape) if s == 3]
        if not dims:
            raise ValueError(f"cross: no dimension of size 3 in input of shape {tuple(shape)}")
        dim = dims[0]
    if not -len(shape) <= dim < len(shape):
        raise IndexError(f"cross: dim {dim} out of range for shape {tuple(shape)}")
    dim %= len(shape)
    if shape[dim] != 3:
        raise ValueError(f"cross: inputs dimension {dim} must have length 3, got shape {tuple(shape)}")
    a0, a1, a2 = (a.select(dim, i) for i in range(3))
    b0, b1, b2 = (b.select(dim, i) for i in range(3))
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim)


row_stack = op(vstack, name="row_stack", method=False)
swapdims = op(swapaxes, name="swapdims")
op(fliplr, name="fliplr")
op(flipud, name="flipud")


@op
def nansum(x, dim=None, keepdim=False, *, dtype=None):
    """The sum treating NaN as zero."""
    _check_tensor(x, "nansum")
    clean = where(x.isnan(), zeros((), dtype=x.dtype), x) if x.is_floating_point() else x
    if dtype is not None:
        clean = clean.to(dtype)
    return clean.sum() if dim is None and not keepdim else clean.sum(dim if dim is not None else
                                                                     tuple(range(x.ndim)), keepdim=keepdim)


@op
def nanmean(x, dim=None, keepdim=False, *, dtype=None):
    """The mean of the non-NaN elements (NaN where there are none)."""
    _check_tensor(x, "nanmean")
    if not x.is_floating_point():
        raise TypeError(f"nanmean(): expected input to have floating point dtype but got {x.dtype}")
    count = nansum((~x.isnan()).to(x.dtype), dim, keepdim)
    return nansum(x, dim, keepdim, dtype=dtype) / count


@op
def tensor_split(x, indices_or_sections, dim=0):
    """Views of x split along dim: into n nearly equal parts (the first ones one longer), or at the
    given indices."""
    _check_tensor(x, "tensor_split")
    d = dim % max(x.ndim, 1)
    n = x.shape[d]
    if isinstance(indices_or_sections, TensorBase):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise ValueError(f"tensor_split: number of sections must be larger than 0, got {sections}")
        base, extra = divmod(n, sections)
        bounds, start = [], 0
        for i in range(sections):
            size = base + (1 if i < extra else 0)
            bounds.append((start, start + size))
            start += size
    else:
        cuts = [0] + [min(max(int(i), 0), n) for i in indices_or_sections] + [n]
        bounds = [(a, max(a, b)) for a, b in zip(cuts[:-1], cuts[1:])]
    return tuple(x.narrow(d, a, b - a) for a, b in bounds)
