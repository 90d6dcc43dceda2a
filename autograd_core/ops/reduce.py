"""Reductions, softmax family and cumulative ops: forward in C, VJPs with Tensor ops."""
import collections
import math

from .. import _core
from .._core import TensorBase
from .._core import reduce as _reduce
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._registry import op
from .creation import arange, ones, ones_like
from .shape import cat

# dtype codes 2.._F16-1 are the integers and bool; below and from _F16 on are the floating dtypes
_F16 = _core.F16


R = _core.REDUCE_OPS
_return_types = collections.namedtuple("values_indices", ["values", "indices"])


def _dims(x, dim):
    """Normalised tuple of reduced dims (all dims for None)."""
    nd = x.ndim
    if dim is None:
        return tuple(range(nd))
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return tuple(range(nd))
        return tuple(sorted(_core._wrap_dim(d, nd, "reduce") for d in dim))
    return (_core._wrap_dim(dim, nd, "reduce"),)


def _expand_back(g, shape, dims, keepdim):
    """Broadcast a reduced gradient back to the input's shape (differentiably)."""
    if not keepdim and len(shape):
        kshape = tuple(1 if i in dims else s for i, s in enumerate(shape))
        g = g.reshape(kshape)
    return g.expand(shape)


def _nelem(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d] if shape else 1  # (dim 0 of a 0-d tensor is its one element)
    return n


class Sum(Function):
    _core_forward = True
    op = R["sum"]

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim, ctx.code = x.shape, dims, keepdim, x._dtype_code
        return _reduce(R["sum"], x, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g, ctx.shape, ctx.dims, ctx.keepdim), None, None


class Mean(Function):
    _core_forward = True
    op = R["mean"]

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return _reduce(R["mean"], x, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        n = _nelem(ctx.shape, ctx.dims)
        return _expand_back(g / n if n else g, ctx.shape, ctx.dims, ctx.keepdim), None, None


@op
def sum(x, dim=None, keepdim=False, dtype=None):
    """Sum over dim (int, tuple, or None for all); bool and int inputs give int64."""
    if dtype is not None:
        x = x.to(dtype)
    dims = _dims(x, dim)
    return _reduction(Sum, x, dims, keepdim)


@op
def mean(x, dim=None, keepdim=False, dtype=None):
    """The arithmetic mean over ``dim`` (floating-point input; ``dtype`` converts first). ``dim`` is an int, a
    tuple or None (all elements); ``keepdim`` keeps the reduced dimensions with size 1.

    Example:
        >>> x = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> x.mean(), x.mean(dim=0), x.mean(dim=1, keepdim=True).shape
        (tensor(2.5000), tensor([2., 3.]), Size([2, 1]))
    """
    if dtype is not None:
        x = x.to(dtype)
    if 1 < x._dtype_code < _F16:
        raise TypeError(f"mean(): could not infer output dtype. Input dtype must be floating point, got "
                        f"{x.dtype}")
    dims = _dims(x, dim)
    return _reduction(Mean, x, dims, keepdim)


def _reduction(cls, x, dims, keepdim):
    """Reduce with Function cls (its `op` kernel), recording the graph only when needed."""
    if state.enabled and x.requires_grad:
        return cls.apply(x, dims, keepdim)
    return _reduce(cls.op, x, dims, keepdim)


class _SavingReduce(Function):
    """A reduction whose backward needs its input and its output."""

    op = None

    @classmethod
    def forward(cls, ctx, x, dims, keepdim):
        out = _reduce(cls.op, x, dims, keepdim)
        ctx.dims, ctx.keepdim = dims, keepdim
        ctx.save_for_backward(x, out)
        return out


class Prod(_SavingReduce):
    op = R["prod"]

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        dims, keepdim = ctx.dims, ctx.keepdim
        if state.enabled:  # create_graph: cumprod has no double backward through zeros; divide instead
            others = _product_of_others_by_division(x, out, dims, keepdim)
        else:
            others = _product_of_others(x, dims)
        return _expand_back(g, x.shape, dims, keepdim) * others, None, None


def _product_of_others_by_division(x, out, dims, keepdim):
    """out / x where x != 0; for the single zero of a slice, the product of its non-zero elements; 0
    where a slice has two or more zeros (differentiable again)."""
    zero = x == 0
    nzeros = _expand_back(zero.sum(dims, keepdim=keepdim), x.shape, dims, keepdim)
    nonzero_x = x.masked_fill(zero, 1.0)
    prod_nz = _expand_back(_prod_dims(nonzero_x, dims, keepdim) if dims else x, x.shape, dims, keepdim)
    outx = _expand_back(out, x.shape, dims, keepdim)
    return prod_nz.where(nzeros == 1, 0.0).where(zero, outx / nonzero_x)


def _product_of_others(x, dims):
    """For each element, the product of the other elements of its slice over dims, from exclusive
    products from the left and from the right: exact with zeros, and finite where out / x would divide
    an overflowed product (as PyTorch computes it when there are zeros)."""
    if x.ndim == 0 or not dims:
        return ones(tuple(x.shape), dtype=x._dtype_code)
    kept = [d for d in range(x.ndim) if d not in dims]
    order = kept + list(dims)
    n = _nelem(x.shape, dims)
    lead = tuple(x.shape[d] for d in kept)
    xr = x.permute(order).reshape(lead + (n,))
    one = ones(lead + (1 if n else 0,), dtype=x._dtype_code)
    left = cat([one, xr.narrow(-1, 0, n - 1).cumprod(-1)], -1) if n > 1 else one
    right = cat([one, xr.flip([-1]).narrow(-1, 0, n - 1).cumprod(-1)], -1).flip([-1]) if n > 1 else one
    others = (left * right).reshape(tuple(x.shape[d] for d in order))
    inverse = [0] * x.ndim
    for i, d in enumerate(order):
        inverse[d] = i
    return others.permute(inverse)


@op
def prod(x, dim=None, keepdim=False, dtype=None):
    """The product of the elements over ``dim`` (``dtype`` converts first). ``dim`` is an int, a tuple or None
    (all elements); ``keepdim`` keeps the reduced dimensions with size 1.
    """
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(dim, (list, tuple)):
        raise TypeError("prod: dim must be a single int")
    return _prod_dims(x, _dims(x, dim), keepdim)


def _prod_dims(x, dims, keepdim):
    return _reduction(Prod, x, dims, keepdim)


class _Extreme(_SavingReduce):
    """amax/amin and max()/min() without dim: the gradient is shared evenly among tied maxima."""

    op = R["max"]
    share_nan = False

    @classmethod
    def backward(cls, ctx, g):
        x, out = ctx.saved_tensors
        dims, keepdim = ctx.dims, ctx.keepdim
        o = _expand_back(out, x.shape, dims, keepdim)
        mask = x == o
        if cls.share_nan:
            mask = mask | (x.isnan() & o.isnan())
        mask = mask.to(g.dtype)
        count = mask.sum(dims, keepdim=True)
        return _expand_back(g, x.shape, dims, keepdim) * mask / count, None, None


class Amax(_Extreme):
    op = R["max"]


class MaxAll(Amax):
    """max() of all elements: where the maximum is NaN, the gradient is shared among the NaNs
    (PyTorch's rule for max() and min(); its amax/amin give NaN there instead, as _Extreme does)."""

    share_nan = True


class Amin(_Extreme):
    op = R["min"]


class MinAll(Amin):
    share_nan = True


class _ExtremeWithIndex(Function):
    """max(dim)/min(dim): the gradient goes to the index that was returned."""

    op = R["max"]

    @classmethod
    def forward(cls, ctx, x, dim, keepdim):
        values, idx = _reduce(cls.op, x, (dim,), keepdim, 0.0, True)
        ctx.dim, ctx.keepdim, ctx.shape = dim, keepdim, x.shape
        ctx.save_for_backward(idx)
        ctx.mark_non_differentiable(idx)
        return values, idx

    @classmethod
    def backward(cls, ctx, g, _gi):
        (idx,) = ctx.saved_tensors
        return _scatter_to_index(g, idx, ctx.shape, ctx.dim, ctx.keepdim), None, None


class MaxDim(_ExtremeWithIndex):
    op = R["max"]


class MinDim(_ExtremeWithIndex):
    op = R["min"]


def _scatter_to_index(g, idx, shape, dim, keepdim):
    """A tensor of `shape` that is g at position idx along dim and 0 elsewhere (differentiable in g)."""
    if not keepdim:
        g = g.unsqueeze(dim)
        idx = idx.unsqueeze(dim)
    n = shape[dim]
    pos_shape = [1] * len(shape)
    pos_shape[dim] = n
    pos = arange(n).reshape(pos_shape)
    mask = (pos == idx).to(g.dtype)
    return g.expand(shape) * mask


def _extreme(x, dim, keepdim, op_full, cls_full, cls_dim, name):
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(f"{name}(): expected a non-empty tensor; it has shape {tuple(x.shape)}")
        dims = tuple(range(x.ndim))
        if state.enabled and x.requires_grad:
            return cls_full.apply(x, dims, False)
        return _reduce(op_full, x, dims, False)
    d = _core._wrap_dim(dim, x.ndim, name)
    if x.ndim == 0:
        return _return_types(x.clone(), _core.full((), 0, _core.I64))
    if state.enabled and x.requires_grad:
        v, i = cls_dim.apply(x, d, keepdim)
    else:
        v, i = _reduce(op_full, x, (d,), keepdim, 0.0, True)
    return _return_types(v, i)


@op
def max(x, dim=None, keepdim=False):
    """max() of all elements, or (values, indices) along dim; max(a, b) is maximum."""
    if isinstance(dim, TensorBase):
        return x.maximum(dim)
    return _extreme(x, dim, keepdim, R["max"], MaxAll, MaxDim, "max")


@op
def min(x, dim=None, keepdim=False):
    """Without ``dim``, the smallest element (0-d); with an int ``dim``, a named tuple ``(values,
    indices)`` along it; ``min(a, b)`` with a tensor ``b`` is :func:`minimum`. The gradient goes to the
    position of the minimum.
    """
    if isinstance(dim, TensorBase):
        return x.minimum(dim)
    return _extreme(x, dim, keepdim, R["min"], MinAll, MinDim, "min")


@op
def amax(x, dim=None, keepdim=False):
    """The largest element over ``dim`` (several dimensions allowed, no indices). ``dim`` is an int, a tuple
    or None (all elements); ``keepdim`` keeps the reduced dimensions with size 1. The
    gradient is split evenly among tied maxima.
    """
    dims = _dims(x, dim)
    return _reduction(Amax, x, dims, keepdim)


@op
def amin(x, dim=None, keepdim=False):
    """The smallest element over ``dim`` (no indices). ``dim`` is an int, a tuple or None (all elements);
    ``keepdim`` keeps the reduced dimensions with size 1. The gradient is split evenly
    among tied minima.
    """
    dims = _dims(x, dim)
    return _reduction(Amin, x, dims, keepdim)


@op
def aminmax(x, dim=None, keepdim=False):
    """``(amin(x, dim), amax(x, dim))``."""
    return amin(x, dim, keepdim), amax(x, dim, keepdim)


def _arg(x, dim, keepdim, op, name):
    # (only the reduced dim must be non-empty: argmax over dim 0 of a (3, 0) tensor is a (0,) tensor)
    if x.numel() == 0 and (dim is None or x.ndim == 0 or x.shape[_core._wrap_dim(dim, x.ndim, name)] == 0):
        raise RuntimeError(f"{name}(): expected a non-empty tensor to reduce over; it has shape "
                           f"{tuple(x.shape)}" + ("" if dim is None else f" and dim {dim}"))
    if dim is None:
        flat = x.reshape(-1)
        _, i = _reduce(op, flat.detach(), (0,), False, 0.0, True)
        return i.reshape((1,) * x.ndim) if keepdim else i
    d = _core._wrap_dim(dim, x.ndim, name)
    if x.ndim == 0:
        return _core.full((), 0, _core.I64)
    _, i = _reduce(op, x.detach(), (d,), keepdim, 0.0, True)
    return i


@op
def argmax(x, dim=None, keepdim=False):
    """The index (int64) of the largest element: of the flattened tensor without ``dim``, else along
    ``dim``; the first one on ties.

    Example:
        >>> ag.tensor([[1, 5, 2], [7, 0, 7]]).argmax(dim=1)
        tensor([1, 0])
    """
    return _arg(x, dim, keepdim, R["max"], "argmax")


@op
def argmin(x, dim=None, keepdim=False):
    """The index (int64) of the smallest element: of the flattened tensor without ``dim``, else along
    ``dim``; the first one on ties.
    """
    return _arg(x, dim, keepdim, R["min"], "argmin")


def _correction(unbiased, correction):
    if correction is not None:
        return float(correction)
    if unbiased is None:
        return 1.0
    return 1.0 if unbiased else 0.0


def _safe_mean(x, dims, n):
    """The mean over dims (kept) for var and std backward. Narrower floats are summed in float64, as
    the forward kernel does: no float32 sum overflows there, and equal values give their own value
    back, so their deviations and var's gradient are exactly 0 (x / n rounded, then summed, is not).
    float64 is the sum of x / n: its plain sum of values near 1.8e308 overflows where the mean does not."""
    if x._dtype_code != _core.F64:
        return (x.to(_core.F64).sum(dims, keepdim=True) / (n or 1)).to(x._dtype_code)
    return (x / (n or 1)).sum(dims, keepdim=True)


class Var(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim, corr):
        ctx.dims, ctx.keepdim, ctx.corr = dims, keepdim, corr
        ctx.save_for_backward(x)
        return _reduce(R["var"], x, dims, keepdim, corr)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        dims, keepdim = ctx.dims, ctx.keepdim
        n = _nelem(x.shape, dims)
        centered = x - _safe_mean(x, dims, n)
        # a divisor of 0 (one element, correction 1) gives inf and a NaN gradient, as PyTorch
        div = n - ctx.corr
        # (g times the small factor first: g * centered alone can overflow where the product does not)
        return _expand_back(g, x.shape, dims, keepdim) * (2.0 / div if div > 0 else math.inf) * centered, \
            None, None, None


@op
def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """Variance with Bessel's correction by default (correction=1); unbiased=False gives correction=0."""
    if isinstance(unbiased, (list, tuple)) or (isinstance(dim, bool)):
        raise TypeError("var: pass dim as an int or tuple and unbiased as a keyword")
    if 1 < x._dtype_code < _F16:
        raise TypeError(f"var(): input dtype must be floating point, got {x.dtype}")
    corr = _correction(unbiased, correction)
    dims = _dims(x, dim)
    if state.enabled and x.requires_grad:
        return Var.apply(x, dims, keepdim, corr)
    return _reduce(R["var"], x, dims, keepdim, corr)


class Std(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim, corr):
        ctx.dims, ctx.keepdim, ctx.corr = dims, keepdim, corr
        out = _reduce(R["std"], x, dims, keepdim, corr)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        """centered / ((n - corr) std), zero where std is 0 (as PyTorch; sqrt(var) would give 0 * inf)."""
        x, out = ctx.saved_tensors
        dims, keepdim = ctx.dims, ctx.keepdim
        n = _nelem(x.shape, dims)
        o = _expand_back(out, x.shape, dims, keepdim)
        centered = x - _safe_mean(x, dims, n)
        # (divided in turn: o * (n - corr) overflows float32 for a std near its largest value)
        gx = _expand_back(g, x.shape, dims, keepdim) * (centered / o / (n - ctx.corr)).masked_fill(o == 0, 0.0)
        return gx, None, None, None


@op
def std(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """The standard deviation over ``dim``: the square root of :func:`var` (Bessel's correction by
    default, ``correction=0`` or ``unbiased=False`` for the population value). ``dim`` is an int, a tuple or
    None (all elements); ``keepdim`` keeps the reduced dimensions with size 1.
    """
    if isinstance(unbiased, (list, tuple)) or (isinstance(dim, bool)):
        raise TypeError("std: pass dim as an int or tuple and unbiased as a keyword")
    if state.enabled and x.requires_grad and not 1 < x._dtype_code < _F16:
        return Std.apply(x, _dims(x, dim), keepdim, _correction(unbiased, correction))
    if 1 < x._dtype_code < _F16:
        raise TypeError(f"std(): input dtype must be floating point, got {x.dtype}")
    # (one kernel, not sqrt(var): the root is taken before the float32 cast, as PyTorch does)
    return _reduce(R["std"], x, _dims(x, dim), keepdim, _correction(unbiased, correction))


@op(method=False)
def var_mean(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """``(var(x, dim, ...), mean(x, dim))`` in one call."""
    return var(x, dim, unbiased, keepdim, correction), mean(x, dim, keepdim)


@op(method=False)
def std_mean(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """``(std(x, dim, ...), mean(x, dim))`` in one call."""
    return std(x, dim, unbiased, keepdim, correction), mean(x, dim, keepdim)


class LogSumExp(_SavingReduce):
    op = R["logsumexp"]

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        dims, keepdim = ctx.dims, ctx.keepdim
        return _expand_back(g, x.shape, dims, keepdim) * (x - _expand_back(out, x.shape, dims, keepdim)).exp(), \
            None, None


@op
def logsumexp(x, dim=None, keepdim=False):
    """log(sum(exp(x))) computed with the max subtracted first (no overflow)."""
    if 1 < x._dtype_code < _F16:
        x = x.to(_core.F32)
    dims = _dims(x, dim)
    return _reduction(LogSumExp, x, dims, keepdim)


class Softmax(Function):
    _core_forward = True

    @staticmethod
    def forward(ctx, x, dim, log):
        y = _core.softmax(x, dim, log)
        ctx.dim, ctx.log = dim, log
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        d = ctx.dim
        if not state.enabled:
            return _core.softmax_backward(y, g, d, ctx.log), None, None
        if ctx.log:
            return g - y.exp() * g.sum(d, keepdim=True), None, None
        return y * (g - (g * y).sum(d, keepdim=True)), None, None


def _softmax_dim(x, dim, name):
    if dim is None:
        # PyTorch's legacy implicit choice
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return _core._wrap_dim(dim, x.ndim, name)


@op
def softmax(x, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along dim, with the row max subtracted first."""
    if dtype is not None:
        x = x.to(dtype)
    if 1 < x._dtype_code < _F16:
        raise TypeError(f"softmax: expected a floating point tensor, got {x.dtype}")
    d = _softmax_dim(x, dim, "softmax")
    if x.ndim == 0:
        return ones_like(x) if not x.requires_grad else x * 0 + 1
    if state.enabled and x.requires_grad:
        return Softmax.apply(x, d, False)
    return _core.softmax(x, d, False)


@op
def log_softmax(x, dim=None, dtype=None):
    """x - logsumexp(x) along dim."""
    if dtype is not None:
        x = x.to(dtype)
    if 1 < x._dtype_code < _F16:
        raise TypeError(f"log_softmax: expected a floating point tensor, got {x.dtype}")
    d = _softmax_dim(x, dim, "log_softmax")
    if x.ndim == 0:
        return x * 0
    if state.enabled and x.requires_grad:
        return Softmax.apply(x, d, True)
    return _core.softmax(x, d, True)


# dtype code: (its smallest normal, a power of two that lifts a slice below it clear of the subnormals)
_NORM_LIFT = {_core.F32: (2.0**-126, 2.0**24), _core.F64: (2.0**-1022, 2.0**53), _core.F16: (2.0**-14, 2.0**11),
              _core.BF16: (2.0**-126, 2.0**8)}


class Norm2(_SavingReduce):
    op = R["norm2"]

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        dims, keepdim = ctx.dims, ctx.keepdim
        tiny, lift = _NORM_LIFT.get(x._dtype_code, (0.0, 1.0))
        small = (out < tiny) & (out > 0)
        if bool(small.any()):
            # a subnormal norm has few bits (two copies of 5e-324: 5e-324, 30% below the true value), and
            # x / norm would carry that error: those slices are lifted by a power of two (exact, and no
            # element of theirs can overflow) and their norm taken again, in full precision
            f = _expand_back(small.to(x._dtype_code) * (lift - 1.0) + 1.0, x.shape, dims, keepdim)
            x = x * f
            out = norm(x, dim=dims, keepdim=keepdim)
        o = _expand_back(out, x.shape, dims, keepdim)
        return _expand_back(g, x.shape, dims, keepdim) * (x / o).masked_fill(o == 0, 0.0), None, None


@op
def norm(x, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over dim (all elements by default): p = 2 / 'fro', 1, inf, -inf, 0 or any float."""
    if dtype is not None:
        x = x.to(dtype)
    if 1 < x._dtype_code < _F16:
        raise TypeError(f"norm(): input dtype must be floating point, got {x.dtype}")
    if p == "fro" or p == 2 or p is None:
        dims = _dims(x, dim)
        if state.enabled and x.requires_grad:
            return Norm2.apply(x, dims, keepdim)
        return _reduce(R["norm2"], x, dims, keepdim)
    if p == "nuc":
        raise NotImplementedError("norm: the nuclear norm needs an SVD, which autograd_core does not provide")
    p = float(p)
    if p == math.inf:
        return amax(x.abs(), dim, keepdim)
    if p == -math.inf:
        return amin(x.abs(), dim, keepdim)
    if p == 0:
        return (x != 0).to(x.dtype).sum(dim, keepdim=keepdim)
    if p == 1:
        return x.abs().sum(dim, keepdim=keepdim)
    if not (state.enabled and x.requires_grad):
        return _reduce(R["normp"], x, _dims(x, dim), keepdim, p)
    return (x.abs() ** p).sum(dim, keepdim=keepdim) ** (1.0 / p)


@op
def all(x, dim=None, keepdim=False):
    """True where every element over ``dim`` is nonzero (a bool tensor). ``dim`` is an int, a tuple or None
    (all elements); ``keepdim`` keeps the reduced dimensions with size 1.
    """
    return _reduce(R["all"], x, _dims(x, dim), keepdim)


@op
def any(x, dim=None, keepdim=False):
    """True where some element over ``dim`` is nonzero (a bool tensor). ``dim`` is an int, a tuple or None
    (all elements); ``keepdim`` keeps the reduced dimensions with size 1.
    """
    return _reduce(R["any"], x, _dims(x, dim), keepdim)


@op
def count_nonzero(x, dim=None):
    """The number of nonzero elements over ``dim`` (int64)."""
    return (x != 0).sum(dim)


class Cumsum(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return _core.cumulative(0, x, dim)

    @staticmethod
    def backward(ctx, g):
        d = ctx.dim
        return g.flip(d).cumsum(d).flip(d), None


@op
def cumsum(x, dim, dtype=None):
    """Inclusive cumulative sum along dim (integers and bools sum in int64, as in PyTorch)."""
    if dtype is not None:
        x = x.to(dtype)
    elif 1 < x._dtype_code < _F16:
        x = x.to(_core.I64)
    d = _core._wrap_dim(dim, x.ndim, "cumsum")
    if x.ndim == 0:
        return x.clone()
    if state.enabled and x.requires_grad:
        return Cumsum.apply(x, d)
    return _core.cumulative(0, x, d)


class Cumprod(Function):
    @staticmethod
    def forward(ctx, x, dim):
        out = _core.cumulative(1, x, dim)
        ctx.dim = dim
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        d = ctx.dim
        if bool((x == 0).any()):
            raise RuntimeError("cumprod: backward through inputs containing zeros is not supported")
        return (g * out).flip(d).cumsum(d).flip(d) / x, None


@op
def cumprod(x, dim, dtype=None):
    """The cumulative product along ``dim``: ``out[i] = x[0] * ... * x[i]``. Its backward divides by
    ``x``, so it raises a RuntimeError for inputs containing zeros.

    Example:
        >>> ag.cumprod(ag.tensor([1.0, 2.0, 3.0]), dim=0)
        tensor([1., 2., 6.])
    """
    if dtype is not None:
        x = x.to(dtype)
    elif 1 < x._dtype_code < _F16:
        x = x.to(_core.I64)
    d = _core._wrap_dim(dim, x.ndim, "cumprod")
    if x.ndim == 0:
        return x.clone()
    if state.enabled and x.requires_grad:
        return Cumprod.apply(x, d)
    return _core.cumulative(1, x, d)

