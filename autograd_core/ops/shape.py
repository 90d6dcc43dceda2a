"""Shape ops. Views (reshape of compatible strides, permute, transpose, expand, squeeze, unsqueeze,
basic indexing, split) share storage; cat, stack, repeat, flip copy."""
from .. import _core
from .._core import TensorBase
from ..autograd.function import Function, records
from ._grad import sum_to
from ._registry import op
from .creation import arange


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    if len(shape) == 1 and isinstance(shape[0], TensorBase):
        return tuple(shape[0].tolist())
    return tuple(shape)


class Reshape(Function):
    _core_forward = True

    @staticmethod
    def forward(ctx, x, shape, must_view):
        ctx.shape = x.shape
        return _core.view(x, shape) if must_view else _core.reshape(x, shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None, None


@op
def reshape(x, *shape):
    """A view when the strides allow it, else a copy."""
    shape = _shape_arg(shape)
    if records(x):
        return Reshape.apply(x, shape, False)
    return _core.reshape(x, shape)


@op
def view(x, *shape):
    """A view with a new shape; raises if x's strides cannot express it (use reshape then)."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, TensorBase)):
        return x.to(shape[0])
    shape = _shape_arg(shape)
    if records(x):
        return Reshape.apply(x, shape, True)
    return _core.view(x, shape)


@op
def view_as(x, other):
    """``x.view(other.shape)`` (a view sharing storage with ``x``)."""
    return view(x, other.shape)


@op
def reshape_as(x, other):
    """``x.reshape(other.shape)``: a view when the strides allow, else a copy."""
    return reshape(x, other.shape)


@op
def flatten(x, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim`` to ``end_dim`` into one (a view when possible).

    Example:
        >>> ag.zeros(2, 3, 4).flatten(1).shape
        Size([2, 12])
    """
    if x.ndim == 0:
        return reshape(x, (1,))
    s = _core._wrap_dim(start_dim, x.ndim, "flatten")
    e = _core._wrap_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise RuntimeError(f"flatten: start_dim {start_dim} cannot come after end_dim {end_dim}")
    shape = x.shape
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(x, tuple(shape[:s]) + (n,) + tuple(shape[e + 1:]))


@op
def unflatten(x, dim, sizes):
    """Split dimension ``dim`` into ``sizes`` (one entry may be -1), the inverse of :func:`flatten`."""
    d = _core._wrap_dim(dim, x.ndim, "unflatten")
    return reshape(x, tuple(x.shape[:d]) + tuple(sizes) + tuple(x.shape[d + 1:]))


@op
def squeeze(x, dim=None):
    """Remove dimensions of size 1: all of them, or only ``dim`` (an int or a tuple) when it has size
    1 (a view sharing storage with ``x``).

    Example:
        >>> ag.zeros(2, 1, 3).squeeze().shape
        Size([2, 3])
    """
    if records(x):
        return Reshape.apply(x, tuple(_core.squeeze(x.detach(), dim).shape), True)
    return _core.squeeze(x, dim)


@op
def unsqueeze(x, dim):
    """Insert a dimension of size 1 at position ``dim`` (negative counts from the end of the result);
    a view sharing storage with ``x``.

    Example:
        >>> ag.zeros(3).unsqueeze(0).shape
        Size([1, 3])
    """
    if records(x):
        return Reshape.apply(x, tuple(_core.unsqueeze(x.detach(), dim).shape), True)
    return _core.unsqueeze(x, dim)


class Permute(Function):
    _core_forward = True

    @staticmethod
    def forward(ctx, x, dims):
        out = _core.permute(x, dims)
        ctx.dims = tuple(_core._wrap_dim(d, x.ndim, "permute") for d in dims)
        return out

    @staticmethod
    def backward(ctx, g):
        inv = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inv[d] = i
        return g.permute(inv), None


@op
def permute(x, *dims):
    """Reorder the dimensions: output dimension i is input dimension ``dims[i]`` (a view sharing
    storage with ``x``).

    Example:
        >>> ag.zeros(2, 3, 4).permute(2, 0, 1).shape
        Size([4, 2, 3])
    """
    dims = _shape_arg(dims)
    if records(x):
        return Permute.apply(x, dims)
    return _core.permute(x, dims)


class Transpose(Function):
    _core_forward = True

    @staticmethod
    def forward(ctx, x, d0, d1):
        ctx.d = (d0, d1)
        return _core.transpose(x, d0, d1)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(*ctx.d), None, None


@op
def transpose(x, dim0, dim1):
    """Swap dimensions ``dim0`` and ``dim1`` (a view sharing storage with ``x``); also ``ag.swapaxes``."""
    if records(x):
        return Transpose.apply(x, dim0, dim1)
    return _core.transpose(x, dim0, dim1)


swapaxes = op(transpose, name="swapaxes")


@op
def t(x):
    """Transpose of a matrix (0-d and 1-d tensors are returned as they are)."""
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but got {x.ndim}D (shape {tuple(x.shape)})")
    if x.ndim < 2:
        return x
    return transpose(x, 0, 1)


class Expand(Function):
    _core_forward = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return _core.expand(x, shape)

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.shape), None


@op
def expand(x, *shape):
    """Broadcast size-1 dimensions to ``shape`` without copying (-1 keeps a size; new leading
    dimensions may be added) (a view sharing storage with ``x``): write to a copy, not to the expanded tensor.

    Example:
        >>> ag.tensor([[1], [2]]).expand(2, 3)
        tensor([[1, 1, 1],
                [2, 2, 2]])
    """
    shape = _shape_arg(shape)
    if records(x):
        return Expand.apply(x, shape)
    return _core.expand(x, shape)


@op
def expand_as(x, other):
    """``x.expand(other.shape)``."""
    return expand(x, other.shape)


@op
def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` (a view, as :func:`expand`)."""
    return expand(x, tuple(shape))


@op(method=False)
def broadcast_tensors(*tensors):
    """The tensors broadcast to their common shape (views), by NumPy's rules."""
    shape = ()
    for t_ in tensors:
        shape = _core.broadcast_shape(shape, t_.shape, "broadcast_tensors")
    return tuple(expand(t_, shape) for t_ in tensors)


@op
def repeat(x, *sizes):
    """Tile x: output dim i has size x.shape[i] * sizes[i] (sizes may add leading dims)."""
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller than the number of "
                           f"dimensions of the tensor ({x.ndim})")
    xs = (1,) * (len(sizes) - x.ndim) + tuple(x.shape)
    x = reshape(x, xs)
    # insert a size-1 axis before each dim, expand it to the repeat count, then merge the pairs
    inter = []
    for s in xs:
        inter += [1, s]
    y = reshape(x, tuple(inter))
    big = []
    for r, s in zip(sizes, xs):
        big += [r, s]
    y = expand(y, tuple(big))
    return reshape(y, tuple(r * s for r, s in zip(sizes, xs)))


@op
def tile(x, *dims):
    """Repeat ``x`` along each dimension ``dims[i]`` times; ``dims`` shorter than ``x.ndim`` is padded
    with leading 1s (a copy).
    """
    dims = _shape_arg(dims)
    dims = (1,) * (x.ndim - len(dims)) + tuple(dims)
    return repeat(x, *dims)


class Flip(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return _flip_copy(x, dims)

    @staticmethod
    def backward(ctx, g):
        return g.flip(ctx.dims), None


def _flip_copy(x, dims):
    shape = tuple(x.shape)
    strides = list(x.stride())
    off = x.storage_offset()
    for d in dims:
        if shape[d] > 0:
            off += strides[d] * (shape[d] - 1)
        strides[d] = -strides[d]
    if x.numel() == 0:
        return _core.clone(x)
    return _core.clone(_core.as_strided(x, shape, tuple(strides), off))


@op
def flip(x, *dims):
    """Reverse the order of elements along ``dims`` (a copy).

    Example:
        >>> ag.tensor([1, 2, 3]).flip(0)
        tensor([3, 2, 1])
    """
    dims = _shape_arg(dims)
    dims = tuple(sorted({_core._wrap_dim(d, x.ndim, "flip") for d in dims}))
    if records(x):
        return Flip.apply(x, dims)
    return _flip_copy(x, dims)


def fliplr(x):
    """Reverse the order of the columns (dimension 1) of a tensor with at least 2 dimensions, as
    ``flip(x, 1)``.

    Example:
        >>> ag.tensor([[1, 2], [3, 4]]).fliplr()
        tensor([[2, 1],
                [4, 3]])
    """
    return flip(x, 1)


def flipud(x):
    """Reverse the order of the rows (dimension 0) of a tensor, as ``flip(x, 0)``.

    Example:
        >>> ag.tensor([[1, 2], [3, 4]]).flipud()
        tensor([[3, 4],
                [1, 2]])
    """
    return flip(x, 0)


class Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return _roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        return roll(g, tuple(-s for s in ctx.shifts), ctx.dims), None, None


def _roll(x, shifts, dims):
    out = x
    for s, d in zip(shifts, dims):
        n = out.shape[d]
        if n == 0:
            continue
        s %= n
        if s == 0:
            continue
        a = narrow(out, d, n - s, s)
        b = narrow(out, d, 0, n - s)
        out = cat([a, b], d)
    return out if out is not x else _core.clone(x)


@op
def roll(x, shifts, dims=None):
    """Shift elements by ``shifts`` along ``dims``, wrapping around; without ``dims`` the flattened
    tensor is rolled and the shape restored.
    """
    if dims is None:
        flat = roll(reshape(x, (-1,)), shifts, 0)
        return reshape(flat, x.shape)
    if isinstance(shifts, int):
        shifts = (shifts,)
    if isinstance(dims, int):
        dims = (dims,)
    dims = tuple(_core._wrap_dim(d, x.ndim, "roll") for d in dims)
    if records(x):
        return Roll.apply(x, tuple(shifts), dims)
    return _roll(x, tuple(shifts), dims)


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return _core.clone(x)

    @staticmethod
    def backward(ctx, g):
        return g


@op
def clone(x, memory_format=None):
    """A copy of ``x`` with its own storage; differentiable (the gradient passes through)."""
    if records(x):
        return Clone.apply(x)
    return _core.clone(x)


@op
def contiguous(x, memory_format=None):
    """x itself if C-contiguous, else a contiguous copy."""
    return x if x.is_contiguous() else clone(x)


@op
def detach(x):
    """A tensor sharing x's memory, cut from the graph."""
    return _core.alias(x)


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *xs):
        # xs may include skipped 1-d empty tensors: they take part in the dtype and get an empty gradient
        ctx.dim = dim
        ctx.sizes = [0 if _skipped_in_cat(x) else x.shape[dim] for x in xs]
        ctx.metas = [(x.shape, x._dtype_code) for x in xs]
        return _cat_forward([x for x in xs if not _skipped_in_cat(x)] or xs[:1], dim, _cat_dtype(xs))

    @staticmethod
    def backward(ctx, g):
        grads = []
        start = 0
        for n, meta in zip(ctx.sizes, ctx.metas):
            if tuple(meta[0]) == (0,) and g.ndim != 1:
                grads.append(_core.full((0,), 0, meta[1]))
                continue
            gi = narrow(g, ctx.dim, start, n)
            if gi._dtype_code != meta[1]:
                gi = gi.to(meta[1])
            grads.append(gi)
            start += n
        return (None, *grads)


def _skipped_in_cat(x):
    return x.ndim == 1 and x.shape[0] == 0


def _cat_dtype(xs):
    code = xs[0]._dtype_code
    for x in xs[1:]:
        code = _core.result_type(_core.empty((1,), code), _core.empty((1,), x._dtype_code))
    return code


def _cat_forward(xs, dim, code):
    shape = list(xs[0].shape)
    shape[dim] = sum(x.shape[dim] for x in xs)
    out = _core.empty(tuple(shape), code)
    start = 0
    for x in xs:
        n = x.shape[dim]
        if n:
            key = (slice(None),) * dim + (slice(start, start + n),)
            _core.copy_(_core.basic_index(out, key), x)
        start += n
    return out


@op
def cat(tensors, dim=0):
    """Join tensors along an existing dim (1-d empty tensors are skipped, like PyTorch)."""
    tensors = [x for x in tensors]
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of tensors")
    for i, x in enumerate(tensors):
        if not isinstance(x, TensorBase):
            raise TypeError(f"cat: expected a list of tensors, element {i} is {type(x).__name__}")
    xs = [x for x in tensors if not _skipped_in_cat(x)] or tensors[:1]
    ref = xs[0]
    if ref.ndim == 0:
        raise RuntimeError("cat: zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _core._wrap_dim(dim, ref.ndim, "cat")
    for i, x in enumerate(xs):
        if x.ndim != ref.ndim or any(a != b for j, (a, b) in enumerate(zip(x.shape, ref.shape)) if j != d):
            raise RuntimeError(f"cat: sizes of tensors must match except in dimension {d}; expected "
                               f"{tuple(ref.shape)} (any size at dim {d}) but got {tuple(x.shape)} for tensor {i}")
    if records(*tensors):
        return Cat.apply(d, *tensors)
    return _cat_forward(xs, d, _cat_dtype(tensors))


concat = op(cat, name="concat", method=False)
concatenate = op(cat, name="concatenate", method=False)


@op
def stack(tensors, dim=0):
    """Join tensors of the same shape along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of tensors")
    ref = tensors[0].shape
    for i, x in enumerate(tensors):
        if x.shape != ref:
            raise RuntimeError(f"stack: expects each tensor to be equal size, but got {tuple(ref)} at entry 0 and "
                               f"{tuple(x.shape)} at entry {i}")
    d = _core._wrap_dim(dim, len(ref) + 1, "stack")
    return cat([unsqueeze(x, d) for x in tensors], d)


@op(method=False)
def hstack(tensors):
    """Join along dim 1 (dim 0 for 1-d tensors), after atleast_1d."""
    tensors = [x.reshape(1) if x.ndim == 0 else x for x in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


@op(method=False)
def vstack(tensors):
    """Join along dim 0, after atleast_2d."""
    return cat([x.reshape(1, -1) if x.ndim <= 1 else x for x in tensors], 0)


class BasicIndex(Function):
    """x[key] for ints/slices/None/Ellipsis: a view; backward places g into zeros of x's shape."""

    _core_forward = True

    @staticmethod
    def forward(ctx, x, key):
        ctx.shape, ctx.code, ctx.key = x.shape, x._dtype_code, key
        return _core.basic_index(x, key)

    @staticmethod
    def backward(ctx, g):
        return IndexBackward.apply(g, ctx.shape, ctx.key), None


class IndexBackward(Function):
    @staticmethod
    def forward(ctx, g, shape, key):
        ctx.key = key
        out = _core.full(tuple(shape), 0, g._dtype_code)
        _core.copy_(_core.basic_index(out, key), g)
        return out

    @staticmethod
    def backward(ctx, gg):
        return basic_index(gg, ctx.key), None, None


def basic_index(x, key):
    if records(x):
        return BasicIndex.apply(x, key)
    return _core.basic_index(x, key)


@op
def narrow(x, dim, start, length):
    """The slice ``start:start + length`` of dimension ``dim`` (a view sharing storage with ``x``)."""
    d = _core._wrap_dim(dim, x.ndim, "narrow")
    n = x.shape[d]
    if start < 0:
        start += n
    if start < 0 or length < 0 or start + length > n:
        raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}) of dim {d}")
    return basic_index(x, (slice(None),) * d + (slice(start, start + length),))


@op
def select(x, dim, index):
    """The slice at ``index`` of dimension ``dim``, which is removed (a view sharing storage with
    ``x``); ``x[:, i]`` is ``select(x, 1, i)``.
    """
    d = _core._wrap_dim(dim, x.ndim, "select")
    return basic_index(x, (slice(None),) * d + (index,))


class Split(Function):
    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        out = []
        start = 0
        for n in sizes:
            out.append(_core.basic_index(x, (slice(None),) * dim + (slice(start, start + n),)))
            start += n
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        return cat(list(grads), ctx.dim), None, None


@op
def split(x, split_size_or_sections, dim=0):
    """Views of consecutive pieces of x along dim: of equal size (the last may be smaller), or of the
    given sizes."""
    d = _core._wrap_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0 and n > 0:
            raise RuntimeError(f"split: split_size must be positive, got {s}")
        sizes = [min(s, n - i) for i in range(0, n, s)] if n else [0]
    else:
        sizes = [int(v) for v in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(f"split: sizes {sizes} must sum to the size of dim {d} ({n})")
    if records(x):
        return Split.apply(x, tuple(sizes), d)
    return Split.forward(Split.__new__(Split), x, tuple(sizes), d)


@op
def chunk(x, chunks, dim=0):
    """Split into ``chunks`` pieces along ``dim`` (views), each of size ``ceil(n / chunks)`` except the
    last, which may be smaller (there may be fewer than ``chunks``).
    """
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be positive, got {chunks}")
    d = _core._wrap_dim(dim, x.ndim, "chunk")
    n = x.shape[d]
    if n == 0:  # PyTorch gives `chunks` empty pieces
        return split(x, [0] * chunks, d)
    return split(x, -(-n // chunks), d)


@op
def unbind(x, dim=0):
    """The slices along ``dim`` as a tuple (views), that dimension removed."""
    d = _core._wrap_dim(dim, x.ndim, "unbind")
    return tuple(squeeze(p, d) for p in split(x, 1, d)) if x.shape[d] else ()


@op
def movedim(x, source, destination):
    """Move dimension(s) ``source`` to position(s) ``destination``, the others keeping their order
    (a view sharing storage with ``x``); also ``ag.moveaxis``.
    """
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [_core._wrap_dim(s, x.ndim, "movedim") for s in src]
    dst = [_core._wrap_dim(s, x.ndim, "movedim") for s in dst]
    order = [d for d in range(x.ndim) if d not in src]
    for s, d in sorted(zip(dst, src)):
        order.insert(s, d)
    return permute(x, order)


moveaxis = op(movedim, name="moveaxis")


def _tri_mask(x, diagonal, upper):
    n, m = x.shape[-2], x.shape[-1]
    r = arange(n).reshape(n, 1)
    c = arange(m).reshape(1, m)
    return (c - r >= diagonal) if upper else (c - r <= diagonal)


def _triangle(x, diagonal, upper, op):
    if x.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape {tuple(x.shape)}")
    return x.where(_tri_mask(x, diagonal, upper), _core.full((), 0, x._dtype_code))


@op
def tril(x, diagonal=0):
    """Lower triangle of the last two dims (elements above the diagonal set to 0)."""
    return _triangle(x, diagonal, False, "tril")


@op
def triu(x, diagonal=0):
    """Upper triangle of the last two dims (elements below the diagonal set to 0)."""
    return _triangle(x, diagonal, True, "triu")


def _diagonal_view(x, offset, d1, d2):
    """The view of x's diagonal `offset` in dims (d1, d2), as the last dim (no copy, no arithmetic:
    an inf or NaN elsewhere in the matrix cannot leak into it)."""
    shape, strides = x.shape, x.stride()
    n1, n2 = shape[d1], shape[d2]
    if offset >= 0:
        k = max(0, min(n1, n2 - offset))
        start = offset * strides[d2]
    else:
        k = max(0, min(n1 + offset, n2))
        start = -offset * strides[d1]
    keep = [i for i in range(x.ndim) if i not in (d1, d2)]
    out_shape = tuple(shape[i] for i in keep) + (k,)
    # an empty view reads nothing: it starts at x's own offset (start may lie past an empty storage)
    empty = any(n == 0 for n in out_shape)
    return _core.as_strided(x, out_shape, tuple(strides[i] for i in keep) + (strides[d1] + strides[d2],),
                            x.storage_offset() + (0 if empty else start))


def _diagonal_dims(ndim, dim1, dim2, op):
    if ndim < 2:
        raise RuntimeError(f"{op}: expected a tensor of at least 2 dimensions, got {ndim}")
    d1 = _core._wrap_dim(dim1, ndim, op)
    d2 = _core._wrap_dim(dim2, ndim, op)
    if d1 == d2:
        raise RuntimeError(f"{op}: dim1 and dim2 cannot be the same dimension ({dim1} and {dim2})")
    return d1, d2


class Diagonal(Function):
    _core_forward = True

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        ctx.args = (tuple(x.shape), offset, d1, d2)
        return _diagonal_view(x, offset, d1, d2)

    @staticmethod
    def backward(ctx, g):
        return _diagonal_scatter(g, *ctx.args), None, None, None


def _scatter_diagonal(g, shape, offset, d1, d2):
    out = _core.full(shape, 0, g._dtype_code)
    _core.copy_(_diagonal_view(out, offset, d1, d2), g)
    return out


class DiagonalScatter(Function):
    """Zeros of `shape` with g on the diagonal (offset, d1, d2): the adjoint of diagonal."""

    _core_forward = True

    @staticmethod
    def forward(ctx, g, shape, offset, d1, d2):
        ctx.args = (offset, d1, d2)
        return _scatter_diagonal(g, shape, offset, d1, d2)

    @staticmethod
    def backward(ctx, g):
        return diagonal(g, *ctx.args), None, None, None, None


def _diagonal_scatter(g, shape, offset, d1, d2):
    if records(g):
        return DiagonalScatter.apply(g, shape, offset, d1, d2)
    return _scatter_diagonal(g, shape, offset, d1, d2)


@op
def diagonal(x, offset=0, dim1=0, dim2=1):
    """The diagonal `offset` of dims (dim1, dim2) as a view, moved to the last dim."""
    d1, d2 = _diagonal_dims(x.ndim, dim1, dim2, "diagonal")
    if records(x):
        return Diagonal.apply(x, offset, d1, d2)
    return _diagonal_view(x, offset, d1, d2)


@op
def diag(x, diagonal=0):
    """1-d input: a square matrix with x on the given diagonal; 2-d input: that diagonal (a copy)."""
    if x.ndim == 1:
        n = x.shape[0] + abs(diagonal)
        return _diagonal_scatter(x, (n, n), diagonal, 0, 1)
    if x.ndim == 2:
        return diagonal_(x, diagonal).clone()
    raise RuntimeError(f"diag: expected a 1-d or 2-d tensor, got shape {tuple(x.shape)}")


diagonal_ = diagonal


@op
def diag_embed(x, offset=0, dim1=-2, dim2=-1):
    """Matrices with the last dim of x on their diagonal `offset`, in the new dims (dim1, dim2) of the
    result; zeros elsewhere."""
    if x.ndim < 1:
        raise RuntimeError("diag_embed: expected a tensor of at least 1 dimension, got a 0-d tensor")
    d1, d2 = _diagonal_dims(x.ndim + 1, dim1, dim2, "diag_embed")
    n = x.shape[-1] + abs(offset)
    shape = [s for s in x.shape[:-1]]
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    return _diagonal_scatter(x, tuple(shape), offset, d1, d2)


@op
def trace(x):
    """The sum of the main diagonal of a matrix."""
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, got shape {tuple(x.shape)}")
    return diagonal(x).sum()


@op(method=False)
def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-d tensors: with ``indexing='ij'`` output i varies along dimension i;
    ``'xy'`` swaps the first two dimensions (NumPy's default).

    Example:
        >>> ys, xs = ag.meshgrid(ag.arange(2), ag.arange(3), indexing="ij")
        >>> xs
        tensor([[0, 1, 2],
                [0, 1, 2]])
    """
    tensors = _shape_arg(tensors)
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = list(tensors)
    if indexing == "xy" and len(ts) >= 2:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t_.numel() for t_ in ts)
    out = []
    for i, t_ in enumerate(ts):
        s = [1] * len(ts)
        s[i] = -1
        out.append(expand(reshape(t_, tuple(s)), shape))
    if indexing == "xy" and len(out) >= 2:
        out[0], out[1] = out[1], out[0]
        out = [o.transpose(0, 1) for o in out]
    return tuple(out)
