"""Indexing ops: x[key], x[key] = v, gather/scatter, index_select/index_add, index_put, masked_fill,
masked_select, take_along_dim, nonzero. Forward in C (csrc/index.c through _core); each VJP is another
op of this file, so gradients of gradients work:

    x[key]        <->  index_put with accumulate into zeros (IndexEmbed)
    gather        <->  scatter_add into zeros
    index_select  <->  index_add into zeros
    x[key] = v    ->   grad_x = g with the written region zeroed, grad_v = g[key] summed to v's shape

Keys follow PyTorch: ints, slices, None and ... give a view; int tensors, lists, numpy arrays and
bool masks are advanced indices (a copy). Ints are applied first (as a select); then the advanced
indices broadcast together, and their result dims replace the indexed dims in place when those are
adjacent, else they go first. For x of shape (3, 4, 5), x[0, :, [1, 2]] has shape (4, 2) as in
PyTorch (NumPy, which counts the int as an advanced index, gives (2, 4)).
"""
import numbers

import numpy as np

from .. import _core
from .._core import TensorBase
from ..autograd.function import Function, records
from ..autograd.grad_mode import state
from ._grad import sum_to
from ._registry import op, tensor_method
from .creation import tensor

# dtype codes 2.._F16-1 are the integers and bool; below and from _F16 on are the floating dtypes
_F16 = _core.F16


_MASK_CODES = (_core.BOOL, _core.U8)
_INT_CODES = (_core.I64, _core.I32)


def _check_inplace(x, op):
    if state.enabled and x.requires_grad and x.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
                           "(wrap it in `with ag.no_grad():` to modify it without recording)")


def _inplace_apply(fn_cls, x, args, op):
    """Run fn_cls (whose forward writes into its first argument and returns it) and make x the output
    of the recorded node, like PyTorch's in-place ops."""
    _check_inplace(x, op)
    out = fn_cls.apply(x, *args)
    if out is not x and out.grad_fn is not None:
        x._attach(out.grad_fn, out._output_nr)
    return x


def _zeros(shape, code):
    return _core.full(tuple(shape), 0, code)


# ---------------------------------------------------------------------------------------- key parsing
class _Key:
    """A parsed key: `basic` for _core.basic_index, then advanced int64 index tensors `indices` (checked,
    negative values wrapped) for dims `dims` of that view. `geometry` (shape, strides, offset), when
    set, first takes that strided view of a contiguous tensor: a write into a view of another tensor
    is recorded on that base tensor (see _put)."""

    __slots__ = ("basic", "dims", "geometry", "indices")

    def __init__(self, basic, dims=(), indices=(), geometry=None):
        self.basic, self.dims, self.indices, self.geometry = basic, dims, indices, geometry


def _view(t, key):
    """t seen through key.geometry then key.basic (a view)."""
    geo = key.geometry
    if geo is not None:
        t = _core.make_contiguous(t)
        t = _core.as_strided(t, geo[0], geo[1], t.storage_offset() + geo[2])
    return _core.basic_index(t, key.basic) if key.basic else t


def _index_tensor(k, op):
    """An index given as a tensor, list or numpy array, as a tensor of an int or bool dtype."""
    if isinstance(k, TensorBase):
        t = k
    elif isinstance(k, range):  # as PyTorch: a range indexes like the list of its values
        t = _core.from_buffer(np.arange(k.start, k.stop, k.step, dtype=np.int64))
    elif isinstance(k, (np.ndarray, list, tuple)):
        try:
            a = np.asarray(k)
        except ValueError:
            raise IndexError(f"{op}: an index list must be a regular (non-ragged) nested sequence") from None
        kind = a.dtype.kind
        if kind == "b" or (kind == "u" and a.dtype.itemsize == 1):
            t = _core.from_buffer(np.array(a, copy=True, order="C"))  # a mask, privately copied
        elif kind in "iu" or (a.size == 0 and kind == "f"):  # [] is an empty index, not a float tensor
            t = _core.from_buffer(a.astype(np.int64))  # a private copy
        else:
            t = tensor(k)
    else:
        raise IndexError(f"{op}: only integers, slices (`:`), ellipsis (`...`), None and integer or boolean "
                         f"tensors are valid indices, got {type(k).__name__}")
    if t._dtype_code not in _INT_CODES and t._dtype_code not in _MASK_CODES:
        raise IndexError(f"{op}: tensors used as indices must be long, int, byte or bool tensors, got "
                         f"{t.dtype}")
    return t


def _parse(x, key, op="index"):
    if not isinstance(key, tuple):
        key = (key,)
    items = []
    consumed = n_ellipsis = 0
    for k in key:
        if k is None or isinstance(k, slice):
            items.append(k)
            consumed += k is not None
        elif k is Ellipsis:
            items.append(k)
            n_ellipsis += 1
        elif isinstance(k, (bool, np.bool_)):
            items.append(("mask0", bool(k)))
        elif isinstance(k, numbers.Integral):
            items.append(int(k))
            consumed += 1
        else:
            t = _index_tensor(k, op)
            if t._dtype_code in _MASK_CODES:
                if t.ndim == 0:
                    items.append(("mask0", bool(t.item())))
                else:
                    items.append(("mask", t))
                    consumed += t.ndim
            else:
                items.append(("idx", t))
                consumed += 1
    if n_ellipsis > 1:
        raise IndexError(f"{op}: an index can only have a single ellipsis ('...')")
    if consumed > x.ndim:
        raise IndexError(f"{op}: too many indices for tensor of dimension {x.ndim} (shape {tuple(x.shape)})")
    basic, adv = [], []  # adv: (view dim, index tensor, source dim or -1 for a new dim)
    vdim = sdim = 0
    shape = x.shape
    for it in items:
        if it is None:
            basic.append(None)
            vdim += 1
        elif it is Ellipsis:
            n = x.ndim - consumed
            basic.append(Ellipsis)
            vdim += n
            sdim += n
        elif isinstance(it, slice):
            basic.append(it)
            vdim += 1
            sdim += 1
        elif isinstance(it, int):
            basic.append(it)
            sdim += 1
        elif it[0] == "mask0":
            # a bool scalar adds a dim of size 1 and keeps it (True) or empties it (False)
            basic.append(None)
            adv.append((vdim, _zeros((1 if it[1] else 0,), _core.I64), -1))
            vdim += 1
        elif it[0] == "idx":
            basic.append(slice(None))
            adv.append((vdim, it[1], sdim))
            vdim += 1
            sdim += 1
        else:
            mask = it[1]
            k = mask.ndim
            if tuple(mask.shape) != tuple(shape[sdim:sdim + k]):
                raise IndexError(f"{op}: the shape of the mask {list(mask.shape)} at index {sdim} does not "
                                 f"match the shape of the indexed tensor {list(shape)} at index {sdim}")
            nz = _core.nonzero(mask)
            for j in range(k):
                basic.append(slice(None))
                adv.append((vdim, _core.basic_index(nz, (slice(None), j)), sdim))
                vdim += 1
                sdim += 1
    basic = tuple(basic)
    if not adv:
        return _Key(basic)
    view_shape = _core.basic_index(x, basic).shape
    dims, indices = [], []
    for vd, t, sd in adv:
        dims.append(vd)
        indices.append(_core.check_index(t, view_shape[vd], sd if sd >= 0 else vd, True, op))
    return _Key(basic, tuple(dims), tuple(indices))


def _result_shape(x_shape, key):
    """The shape of x[key] for a tensor of shape x_shape (without computing it)."""
    view = _core.basic_index(_core.expand(_zeros((), _core.U8), tuple(x_shape)), key.basic)
    if not key.dims:
        return tuple(view.shape)
    bshape = ()
    for t in key.indices:
        bshape = _core.broadcast_shape(bshape, tuple(t.shape), "index")
    dims = key.dims
    rest = [s for i, s in enumerate(view.shape) if i not in dims]
    if all(dims[i + 1] == dims[i] + 1 for i in range(len(dims) - 1)):
        return tuple(rest[:dims[0]]) + bshape + tuple(rest[dims[0]:])
    return bshape + tuple(rest)


# ---------------------------------------------------------------------------------------- raw forwards
def _index_raw(x, key):
    view = _view(x, key)
    if key.dims:
        return _core.index(view, key.dims, key.indices)
    return view


def _put_raw(x, key, values, accumulate):
    """x[key] = values (or += values), in place, no graph."""
    view = _view(x, key)
    if key.dims:
        _core.index_put_(view, key.dims, key.indices, values, accumulate)
    elif accumulate:
        _core.binary(_core.BINARY_OPS["add"], view, values, out=view)
    elif isinstance(values, TensorBase):
        _core.copy_(view, values)
    else:
        _core.fill_(view, values)
    return x


# ---------------------------------------------------------------------------------------- x[key]
class Index(Function):
    @staticmethod
    def forward(ctx, x, key):
        ctx.shape, ctx.key = x.shape, key
        ctx.save_for_backward(*key.indices)  # backward raises if an index is modified in place meanwhile
        return _index_raw(x, key)

    @staticmethod
    def backward(ctx, g):
        _ = ctx.saved_tensors  # the version check
        return IndexEmbed.apply(g, ctx.shape, ctx.key), None


class IndexEmbed(Function):
    """zeros(shape) with g added at key (duplicates accumulate): the adjoint of x[key]."""

    @staticmethod
    def forward(ctx, g, shape, key):
        ctx.key = key
        out = _zeros(shape, g._dtype_code)
        view = _view(out, key)
        if key.dims:
            _core.index_put_(view, key.dims, key.indices, g, True)
        else:
            _core.copy_(view, g)
        return out

    @staticmethod
    def backward(ctx, gg):
        return _index(gg, ctx.key), None, None


def _index(x, key):
    if records(x):
        return Index.apply(x, key)
    return _index_raw(x, key)


@op(method=False)
def getitem(x, key):
    """x[key] with PyTorch's rules: a view for ints/slices/None/..., a copy with advanced indices."""
    if isinstance(key, tuple) and len(key) == 1:
        key = key[0]
    if isinstance(key, TensorBase) and key._dtype_code in _INT_CODES and x.ndim > 0:
        # x[int tensor]: the common case, without the general key walk
        if records(x):
            return Index.apply(x, _Key((), (0,), (key,)))
        return _core.index(x, (0,), (key,))
    if (isinstance(key, TensorBase) and key._dtype_code == _core.BOOL and key.ndim > 0 and not records(x)
            and tuple(key.shape) == tuple(x.shape[:key.ndim])):
        return _core.masked_select_leading(x, key)  # x[mask]: one pass, no coordinates
    return _index(x, _parse(x, key, "index"))


# ---------------------------------------------------------------------------------------- x[key] = v
def _values(values, x, op):
    if isinstance(values, TensorBase):
        return values
    if isinstance(values, (bool, int, float)):
        return values
    if isinstance(values, numbers.Number):
        return values.item() if hasattr(values, "item") else float(values)
    if isinstance(values, (list, tuple, np.ndarray)):
            return tensor(values, dtype=x._dtype_code)
    raise TypeError(f"{op}: can't assign a {type(values).__name__} to a tensor")


def _fit_values(values, x_shape, key, op):
    """Drop leading size-1 dims of values that the indexing result lacks (x[0] = ones(1, n) works)."""
    if not isinstance(values, TensorBase):
        return values
    rshape = _result_shape(x_shape, key)
    if values.ndim > len(rshape):
        extra = values.ndim - len(rshape)
        if any(s != 1 for s in values.shape[:extra]):
            raise RuntimeError(f"{op}: shape mismatch: value tensor of shape {tuple(values.shape)} cannot be "
                               f"broadcast to indexing result of shape {rshape}")
        values = values.reshape(tuple(values.shape[extra:]))
    return values


class IndexPut(Function):
    """x with values written (or added, with accumulate) at key; inplace writes into x itself."""

    @staticmethod
    def forward(ctx, x, values, key, accumulate, inplace):
        ctx.key, ctx.accumulate = key, accumulate
        ctx.vmeta = (values.shape, values._dtype_code) if isinstance(values, TensorBase) else None
        ctx.save_for_backward(*key.indices)
        out = x if inplace else _core.clone(x)
        return _put_raw(out, key, values, accumulate)

    @staticmethod
    def backward(ctx, g):
        _ = ctx.saved_tensors  # the version check
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = g if ctx.accumulate else IndexPut.apply(g, 0, ctx.key, False, False)
        if ctx.vmeta is not None and ctx.needs_input_grad[1]:
            shape, code = ctx.vmeta
            gv = sum_to(_index(g, ctx.key), tuple(shape))
            if gv._dtype_code != code:
                gv = gv.to(code)
        return gx, gv, None, None, None


def _put(x, key, values, accumulate, inplace, op):
    values = _fit_values(_values(values, x, op), x.shape, key, op)
    if records(x, values) and not 1 < x._dtype_code < _F16:
        if not inplace:
            return IndexPut.apply(x, values, key, accumulate, False)
        base = x._base
        if base is not None and x.grad_fn is not None and base.requires_grad and base.grad_fn is None:
            raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation (wrap it in `with ag.no_grad():` to modify it without recording)")
        if base is not None and base.is_contiguous() and (x.grad_fn is not None or not base.requires_grad):
            # x is a view: record the write on its base (which other code may read), then make x a view
            # of the updated base, so gradients flow through both (PyTorch's CopySlices)
            geo = (tuple(x.shape), x.stride(), x.storage_offset() - base.storage_offset())
            bkey = _Key(key.basic, key.dims, key.indices, geo)
            _inplace_apply(IndexPut, base, (values, bkey, accumulate, True), op)
            out = Index.apply(base, _Key((), geometry=geo))
            if out.grad_fn is not None:
                x._attach(out.grad_fn, out._output_nr)
            return x
        return _inplace_apply(IndexPut, x, (values, key, accumulate, True), op)
    if isinstance(values, TensorBase) and values.requires_grad:
        values = values.detach()
    if inplace:
        return _put_raw(x, key, values, accumulate)
    return _put_raw(_core.clone(x), key, values, accumulate)


@op(method=False)
def setitem(x, key, value):
    """x[key] = value in place (value broadcast and cast to x's dtype); differentiable like PyTorch."""
    if isinstance(key, tuple) and len(key) == 1:
        key = key[0]
    if isinstance(key, TensorBase) and key._dtype_code in _INT_CODES and x.ndim > 0:
        _put(x, _Key((), (0,), (key,)), value, False, True, "setitem")  # x[int tensor] = value
        return
    _put(x, _parse(x, key, "setitem"), value, False, True, "setitem")


def _indices_key(indices, op):
    if isinstance(indices, TensorBase) or not isinstance(indices, (tuple, list)):
        raise TypeError(f"{op}: indices must be a tuple of tensors, got {type(indices).__name__}")
    return tuple(indices)


@op
def index_put(x, indices, values, accumulate=False):
    """A copy of x with x[indices] = values (+= with accumulate, duplicates summed)."""
    return _put(x, _parse(x, _indices_key(indices, "index_put"), "index_put"), values, accumulate, False,
                "index_put")


@tensor_method
def index_put_(x, indices, values, accumulate=False):
    """In place: x[indices] = values (+= with accumulate, duplicates summed)."""
    return _put(x, _parse(x, _indices_key(indices, "index_put_"), "index_put_"), values, accumulate, True,
                "index_put_")


# ---------------------------------------------------------------------------------------- gather / scatter
def _pad_to(t, shape):
    """t placed at the start of zeros(shape) (gradients for a src larger than its index)."""
    if tuple(t.shape) == tuple(shape):
        return t
    return IndexEmbed.apply(t, tuple(shape), _Key(tuple(slice(0, n) for n in t.shape)))


class Gather(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim = x.shape, dim
        out = _core.gather(x, dim, index)
        ctx.save_for_backward(index)
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        return scatter_add(_zeros(ctx.shape, g._dtype_code), ctx.dim, index, g), None, None


def _one_element(t):
    """A 0-d tensor as shape (1,): on a 1-d input PyTorch takes a 0-d index or src as one element
    (``zeros(10).scatter_(0, tensor(3), value=1)``). A reshape keeps the graph, so a 0-d src still
    gets a 0-d gradient."""
    return t.reshape(1) if isinstance(t, TensorBase) and t.ndim == 0 else t


@op
def gather(x, dim, index, *, sparse_grad=False):
    """out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (likewise for other dims); out has index's shape."""
    if x.ndim == 1 and isinstance(index, TensorBase) and index.ndim == 0:
        return gather(x, dim, index.reshape(1)).reshape(())
    if records(x):
        return Gather.apply(x, dim, index)
    return _core.gather(x, dim, index)


class ScatterAdd(Function):
    @staticmethod
    def forward(ctx, x, dim, index, src, inplace):
        ctx.dim, ctx.src_shape = dim, src.shape
        out = x if inplace else _core.clone(x)
        _core.scatter_(out, dim, index, src, True, "scatter_add_" if inplace else "scatter_add")
        ctx.save_for_backward(index)
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        gsrc = _pad_to(gather(g, ctx.dim, index), ctx.src_shape) if ctx.needs_input_grad[3] else None
        return g, None, None, gsrc, None


@op
def scatter_add(x, dim, index, src):
    """A copy of x with src added at index along dim: out[index[i][j]][j] += src[i][j] for dim 0."""
    if x.ndim == 1:
        index, src = _one_element(index), _one_element(src)
    if records(x, src):
        return ScatterAdd.apply(x, dim, index, src, False)
    return _core.scatter_(_core.clone(x), dim, index, src, True, "scatter_add")


@tensor_method
def scatter_add_(x, dim, index, src):
    """In place: x[index[i][j]][j] += src[i][j] for dim 0 (sums in a fixed order)."""
    if x.ndim == 1:
        index, src = _one_element(index), _one_element(src)
    if records(x, src):
        return _inplace_apply(ScatterAdd, x, (dim, index, src, True), "scatter_add_")
    return _core.scatter_(x, dim, index, src, True, "scatter_add_")


class Scatter(Function):
    @staticmethod
    def forward(ctx, x, dim, index, src, inplace):
        ctx.dim = dim
        ctx.src_shape = src.shape if isinstance(src, TensorBase) else None
        out = x if inplace else _core.clone(x)
        _core.scatter_(out, dim, index, src, False, "scatter_" if inplace else "scatter")
        ctx.save_for_backward(index)
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        gx = scatter(g, ctx.dim, index, 0) if ctx.needs_input_grad[0] else None
        gsrc = None
        if ctx.src_shape is not None and ctx.needs_input_grad[3]:
            gsrc = _pad_to(gather(g, ctx.dim, index), ctx.src_shape)
        return gx, None, None, gsrc, None


def _scatter_src(src, value, x, op):
    if src is None:
        src = value
    elif value is not None:
        raise TypeError(f"{op}: give either src or value, not both")
    if src is None:
        raise TypeError(f"{op}: missing src (a tensor) or value (a number)")
    if isinstance(src, TensorBase):
        return src
    if isinstance(src, (bool, int, float)):
        return src
    if isinstance(src, numbers.Number):
        return src.item() if hasattr(src, "item") else float(src)
    raise TypeError(f"{op}: src must be a Tensor or a number, got {type(src).__name__}")


def _scatter_reduce(reduce, op):
    if reduce not in (None, "add"):
        raise ValueError(f"{op}: reduce must be None or 'add', got {reduce!r}")
    return reduce == "add"


@op
def scatter(x, dim, index, src=None, *, value=None, reduce=None):
    """A copy of x with out[index[i][j]][j] = src[i][j] for dim 0 (src a tensor or a number; with
    duplicate indices the last in row-major order wins); reduce='add' adds instead (scatter_add)."""
    if _scatter_reduce(reduce, "scatter"):
        return scatter_add(x, dim, index, _scatter_src(src, value, x, "scatter"))
    src = _scatter_src(src, value, x, "scatter")
    if x.ndim == 1:
        index, src = _one_element(index), _one_element(src)
    if records(x, src):
        return Scatter.apply(x, dim, index, src, False)
    return _core.scatter_(_core.clone(x), dim, index, src, False, "scatter")


@tensor_method
def scatter_(x, dim, index, src=None, *, value=None, reduce=None):
    """In place: x[index[i][j]][j] = src[i][j] for dim 0 (src a tensor or a number); reduce='add' adds."""
    if _scatter_reduce(reduce, "scatter_"):
        return scatter_add_(x, dim, index, _scatter_src(src, value, x, "scatter_"))
    src = _scatter_src(src, value, x, "scatter_")
    if x.ndim == 1:
        index, src = _one_element(index), _one_element(src)
    if records(x, src):
        return _inplace_apply(Scatter, x, (dim, index, src, True), "scatter_")
    return _core.scatter_(x, dim, index, src, False, "scatter_")


# ---------------------------------------------------------------------------------------- index_select / index_add
class IndexSelect(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim = x.shape, dim
        ctx.save_for_backward(index)
        return _core.index_select(x, dim, index)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        return index_add(_zeros(ctx.shape, g._dtype_code), ctx.dim, index, g), None, None


@op
def index_select(x, dim, index):
    """x's slices at positions index (a 1-D int tensor) along dim."""
    if records(x):
        return IndexSelect.apply(x, dim, index)
    return _core.index_select(x, dim, index)


def _scaled(source, alpha, x):
    if alpha == 1:
        return source
    if not x.is_floating_point() and not isinstance(alpha, numbers.Integral):
        raise TypeError(f"index_add: a float alpha ({alpha}) needs a floating point tensor, got {x.dtype}")
    return _core.binary(_core.BINARY_OPS["mul"], source, alpha)


class IndexAdd(Function):
    @staticmethod
    def forward(ctx, x, dim, index, source, alpha, inplace):
        ctx.dim, ctx.alpha, ctx.src_shape = dim, alpha, source.shape
        out = x if inplace else _core.clone(x)
        _core.index_add_(out, dim, index, _scaled(source, alpha, x))
        ctx.save_for_backward(index)
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        gsrc = None
        if ctx.needs_input_grad[3]:
            gsrc = index_select(g, ctx.dim, index)
            if ctx.alpha != 1:
                gsrc = gsrc * ctx.alpha
            if tuple(gsrc.shape) != tuple(ctx.src_shape):
                gsrc = gsrc.reshape(tuple(ctx.src_shape))
        return g, None, None, gsrc, None, None


@op
def index_add(x, dim, index, source, *, alpha=1):
    """A copy of x with alpha * source[..., j, ...] added at x[..., index[j], ...] along dim."""
    if records(x, source):
        return IndexAdd.apply(x, dim, index, source, alpha, False)
    return _core.index_add_(_core.clone(x), dim, index, _scaled(source, alpha, x))


@tensor_method
def index_add_(x, dim, index, source, *, alpha=1):
    """In place: x[..., index[j], ...] += alpha * source[..., j, ...] along dim (summed in j order)."""
    if records(x, source):
        return _inplace_apply(IndexAdd, x, (dim, index, source, alpha, True), "index_add_")
    return _core.index_add_(x, dim, index, _scaled(source, alpha, x))


def _dim_key(x, dim, index, op):
    """The key (:, ..., :, index) selecting positions `index` (0-d or 1-D) along dim."""
    if not isinstance(index, TensorBase) or index._dtype_code not in _INT_CODES:
        raise TypeError(f"{op}: index must be an int64 tensor, got "
                        f"{index.dtype if isinstance(index, TensorBase) else type(index).__name__}")
    if index.ndim > 1:
        raise IndexError(f"{op}: index must be 0-D or 1-D, got shape {tuple(index.shape)}")
    d = _core._wrap_dim(dim, x.ndim, op)
    index = _core.check_index(index, x.shape[d] if x.ndim else 1, d, False, op)
    if x.ndim == 0:
        return _Key((None,), (0,), (index.reshape(-1),)), d
    return _Key((slice(None),) * d, (d,), (index.reshape(-1),)), d


@op
def index_fill(x, dim, index, value):
    """A copy of x with value (a number or a 0-d tensor) at positions index along dim."""
    key, _ = _dim_key(x, dim, index, "index_fill")
    return _put(x, key, value, False, False, "index_fill")


@tensor_method
def index_fill_(x, dim, index, value):
    """In place: x[..., index, ...] = value along dim."""
    key, _ = _dim_key(x, dim, index, "index_fill_")
    return _put(x, key, value, False, True, "index_fill_")


def _copy_source(x, d, index, source, op):
    want = list(x.shape) if x.ndim else [1]
    want[d] = index.numel()
    if not isinstance(source, TensorBase) or tuple(source.shape) != tuple(want) and \
            not (x.ndim == 0 and source.numel() == index.numel() <= 1):
        raise RuntimeError(f"{op}: source of shape {tuple(getattr(source, 'shape', ()))} does not match "
                           f"self of shape {tuple(x.shape)} with {index.numel()} indices along dim {d}")
    return source.reshape(tuple(want)) if x.ndim == 0 else source


@op
def index_copy(x, dim, index, source):
    """A copy of x with x[..., index[j], ...] = source[..., j, ...] along dim."""
    key, d = _dim_key(x, dim, index, "index_copy")
    return _put(x, key, _copy_source(x, d, index, source, "index_copy"), False, False, "index_copy")


@tensor_method
def index_copy_(x, dim, index, source):
    """In place: x[..., index[j], ...] = source[..., j, ...] along dim."""
    key, d = _dim_key(x, dim, index, "index_copy_")
    return _put(x, key, _copy_source(x, d, index, source, "index_copy_"), False, True, "index_copy_")


@op
def take(x, index):
    """x flattened, read at index (any shape, negative values count from the end)."""
    flat = x.reshape(-1)
    key = _Key((), (0,), (_core.check_index(index, flat.shape[0], 0, True, "take"),))
    return _index(flat, key)


# ---------------------------------------------------------------------------------------- masks
def _check_mask(mask, op):
    if not isinstance(mask, TensorBase):
        raise TypeError(f"{op}: mask must be a bool Tensor, got {type(mask).__name__}")
    if mask._dtype_code != _core.BOOL:
        raise TypeError(f"{op}: only boolean masks are supported, got a mask of dtype {mask.dtype}")


def _masked_fill_raw(x, mask, value):
    if isinstance(value, TensorBase):
        v = _core.cast(value, x._dtype_code)
    else:
        v = _core.full((), value, x._dtype_code)
    return _core.where(mask, v, x)


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.shape = x.shape
        ctx.vmeta = (value.shape, value._dtype_code) if isinstance(value, TensorBase) else None
        ctx.save_for_backward(mask)
        return _masked_fill_raw(x, mask, value)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        kept = masked_fill(g, mask, 0)
        gx = sum_to(kept, tuple(ctx.shape)) if ctx.needs_input_grad[0] else None
        gv = None
        if ctx.vmeta is not None and ctx.needs_input_grad[2]:
            gv = (g - kept).sum().reshape(tuple(ctx.vmeta[0]))
            if gv._dtype_code != ctx.vmeta[1]:
                gv = gv.to(ctx.vmeta[1])
        return gx, None, gv


@op
def masked_fill(x, mask, value):
    """x with value (a number or a 0-d tensor) where the bool mask (broadcast) is True."""
    _check_mask(mask, "masked_fill")
    if isinstance(value, TensorBase):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill: only supports a 0-dimensional value tensor, but got a tensor with "
                               f"{value.ndim} dimension(s)")
    elif not isinstance(value, numbers.Number):
        raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got {type(value).__name__}")
    _core.broadcast_shape(tuple(x.shape), tuple(mask.shape), "masked_fill")
    if records(x, value) and not 1 < x._dtype_code < _F16:
        return MaskedFill.apply(x, mask, value)
    return _masked_fill_raw(x, mask, value)


@op
def masked_select(x, mask):
    """The elements of x (broadcast with mask) where mask is True, as a 1-D tensor."""
    _check_mask(mask, "masked_select")
    shape = _core.broadcast_shape(tuple(x.shape), tuple(mask.shape), "masked_select")
    if tuple(x.shape) != shape:
        x = x.expand(shape)
    if tuple(mask.shape) != shape:
        mask = _core.expand(mask, shape)
    if x.ndim == 0:
        x, mask = x.reshape(1), _core.reshape(mask, (1,))
    return getitem(x, mask)


@op
def take_along_dim(x, indices, dim=None):
    """x's values at indices along dim (indices and x broadcast over the other dims); dim None: over
    the flattened x."""
    if dim is None:
        return gather(x.reshape(-1), 0, indices.reshape(-1))
    if x.ndim != indices.ndim:
        raise RuntimeError(f"take_along_dim: input and indices should have the same number of dimensions, got "
                           f"shapes {tuple(x.shape)} and {tuple(indices.shape)}")
    d = _core._wrap_dim(dim, x.ndim, "take_along_dim")
    xs, js = list(x.shape), list(indices.shape)
    for i in range(x.ndim):
        if i != d:
            xs[i] = js[i] = _core.broadcast_shape((xs[i],), (js[i],), "take_along_dim")[0]
    if tuple(xs) != tuple(x.shape):
        x = x.expand(tuple(xs))
    if tuple(js) != tuple(indices.shape):
        indices = _core.expand(indices, tuple(js))
    return gather(x, d, indices)


@op
def nonzero(x, *, as_tuple=False):
    """Coordinates of the nonzero elements: (count, ndim) int64, or with as_tuple one 1-D tensor per dim."""
    nz = _core.nonzero(x.detach() if x.requires_grad else x)
    if not as_tuple:
        return nz
    if x.ndim == 0:
        return (_zeros((nz.shape[0],), _core.I64),)
    return tuple(_core.clone(_core.basic_index(nz, (slice(None), j))) for j in range(x.ndim))


@op
def argwhere(x):
    """Coordinates of the nonzero elements, (count, ndim) int64."""
    return nonzero(x)
