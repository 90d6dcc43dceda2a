"""Sorting and selection (sort, argsort, topk, median, unique, bincount) and closeness tests (isclose,
allclose), with PyTorch's signatures and results.

The orders come from NumPy's stable sort on the tensor's data (np.asarray shares it; nothing is
differentiated there); values are then taken with gather, so sort, topk and median are differentiable
and their gradient flows to the chosen elements. Ties keep their original order; NaN sorts as the
largest value (last ascending, first descending), as in PyTorch.
"""
import numpy as np

from .. import _core
from .._core import TensorBase
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ._registry import tensor_method
from .creation import as_tensor, tensor
from .index import gather
from .reduce import _return_types

__all__ = ["allclose", "argsort", "bincount", "isclose", "median", "sort", "topk", "unique"]


class _MedianAll(Function):
    """median() of all elements: the gradient is shared evenly among the elements equal to the median
    (among the NaNs when it is NaN), as PyTorch does; median(dim) sends it to the returned index."""

    @staticmethod
    def forward(ctx, x, value):
        ctx.save_for_backward(x, value)
        return value.clone()

    @staticmethod
    def backward(ctx, g):
        x, value = ctx.saved_tensors
        mask = x.isnan() if bool(value.isnan()) else x == value
        mask = mask.to(g.dtype)
        return g * mask / mask.sum(), None


def _dim(x, dim, op):
    nd = max(x.dim(), 1)
    if not isinstance(dim, int) or isinstance(dim, bool) or not -nd <= dim < nd:
        raise IndexError(f"{op}: dim {dim!r} is out of range for a tensor of shape {tuple(x.shape)} "
                         f"(expected an int in [{-nd}, {nd - 1}])")
    return dim % nd


def _order(a, axis, descending):
    """Indices that sort a along axis, stably; descending keeps ties in their original order too."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    # sorting the reversed data ascending and reading the result backwards orders the values
    # descending with equal values in their original order (and NaN first)
    idx = np.flip(np.argsort(np.flip(a, axis), axis=axis, kind="stable"), axis)
    return a.shape[axis] - 1 - idx


def _data(x, op):
    if not isinstance(x, TensorBase):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    return np.asarray(x.detach())


@tensor_method
def sort(x, dim=-1, descending=False, stable=False):
    """(values, indices) of x sorted along dim; stable is accepted for PyTorch compatibility (the
    sort is always stable)."""
    d = _dim(x, dim, "sort")
    if x.dim() == 0:
        return _return_types(x.clone(), tensor(0))
    idx = tensor(np.ascontiguousarray(_order(_data(x, "sort"), d, descending)).astype(np.int64))
    return _return_types(gather(x, d, idx), idx)


@tensor_method
def argsort(x, dim=-1, descending=False, stable=False):
    """The indices sort(x, dim, descending) orders x by."""
    d = _dim(x, dim, "argsort")
    if x.dim() == 0:
        return tensor(0)
    return tensor(np.ascontiguousarray(_order(_data(x, "argsort"), d, descending)).astype(np.int64))


@tensor_method
def topk(x, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (or, largest=False, smallest) entries along dim, largest
    first (smallest first); the result is always sorted."""
    d = _dim(x, dim, "topk")
    n = x.shape[d] if x.dim() else 1
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= n:
        raise RuntimeError(f"topk: k ({k!r}) is out of range for dimension {d} of size {n} "
                           f"(shape {tuple(x.shape)})")
    if x.dim() == 0:
        return _return_types(x.clone() if k else x.reshape(0), tensor(0) if k else tensor([], dtype=_core.I64))
    order = _order(_data(x, "topk"), d, largest)
    idx = tensor(np.ascontiguousarray(np.take(order, np.arange(k), axis=d)).astype(np.int64))
    return _return_types(gather(x, d, idx), idx)


@tensor_method
def median(x, dim=None, keepdim=False):
    """The lower median (for an even count, the smaller of the two middle values) of all elements,
    or (values, indices) along dim. A NaN makes the median NaN (its index that of the first NaN)."""
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError("median: cannot compute the median of an empty tensor")
        with no_grad():
            value = median(x.detach().reshape(-1), 0).values.reshape(())
        if x.requires_grad and is_grad_enabled():
            return _MedianAll.apply(x, value)
        return value
    d = _dim(x, dim, "median")
    if x.dim() == 0:
        return _return_types(x.clone(), tensor(0))
    n = x.shape[d]
    if n == 0:
        raise IndexError(f"median: dimension {d} of shape {tuple(x.shape)} is empty")
    a = _data(x, "median")
    pick = np.take(_order(a, d, False), [(n - 1) // 2], axis=d)
    if x.is_floating_point():
        nan = np.isnan(a)
        has = nan.any(axis=d, keepdims=True)
        pick = np.where(has, np.argmax(nan, axis=d, keepdims=True), pick)
    idx = tensor(np.ascontiguousarray(pick).astype(np.int64))
    values = gather(x, d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return _return_types(values, idx)


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of x (flattened, or the distinct slices along dim), in ascending order;
    with return_inverse the index of each element's value, with return_counts how often each occurs."""
    a = _data(x, "unique")
    if dim is not None:
        dim = _dim(x, dim, "unique")
    # every NaN is distinct (NaN != NaN), as in PyTorch; NumPy would merge them
    nan_kw = {"equal_nan": False} if dim is None else {}
    res = np.unique(a, return_inverse=return_inverse, return_counts=return_counts, axis=dim, **nan_kw)
    if not (return_inverse or return_counts):
        return tensor(np.ascontiguousarray(res), dtype=x.dtype)
    out = [tensor(np.ascontiguousarray(res[0]), dtype=x.dtype)]
    k = 1
    if return_inverse:
        inv = res[k].reshape(a.shape if dim is None else (a.shape[dim],))
        out.append(tensor(inv.astype(np.int64)))
        k += 1
    if return_counts:
        out.append(tensor(res[k].astype(np.int64)))
    return tuple(out)


tensor_method(unique, name="unique")


@tensor_method
def bincount(x, weights=None, minlength=0):
    """Counts of each value 0..max(x) in a 1-d tensor of nonnegative integers (at least minlength
    bins); with weights, the sum of the weights of each value instead (in the weights' dtype)."""
    if x.dim() != 1 or x.is_floating_point() or x.dtype.name == "bool":
        raise RuntimeError(f"bincount: expected a 1-d tensor of integers, got dtype {x.dtype} and shape "
                           f"{tuple(x.shape)}")
    a = _data(x, "bincount")
    if a.size and a.min() < 0:
        raise RuntimeError("bincount: the input must hold nonnegative values")
    if isinstance(minlength, bool) or not isinstance(minlength, int) or minlength < 0:
        raise RuntimeError(f"bincount: minlength must be a nonnegative int, got {minlength!r}")
    if weights is None:
        return tensor(np.bincount(a, minlength=minlength).astype(np.int64))
    w = as_tensor(weights)
    if tuple(w.shape) != tuple(x.shape):
        raise RuntimeError(f"bincount: weights of shape {tuple(w.shape)} do not match the input's "
                           f"{tuple(x.shape)}")
    wd = np.asarray(w.detach())
    out_dtype = w.dtype if w.is_floating_point() else _core.F64
    return tensor(np.bincount(a, weights=wd.astype(np.float64), minlength=minlength), dtype=out_dtype)


@tensor_method
def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol * |b| elementwise (bool, broadcast); infinities are close only to the
    same infinity, NaN only to NaN and only with equal_nan=True."""
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be nonnegative, got rtol={rtol}, atol={atol}")
    with no_grad():
        a = as_tensor(a)
        b = as_tensor(b) if isinstance(b, TensorBase) else b
        close = a == b
        if a.is_floating_point() or (isinstance(b, TensorBase) and b.is_floating_point()) \
                or isinstance(b, float):
            af = a if a.is_floating_point() else a.double()
            bf = b if not isinstance(b, TensorBase) or b.is_floating_point() else b.double()
            diff = (af - bf).abs()
            tol = atol + rtol * (bf.abs() if isinstance(bf, TensorBase) else abs(bf))
            finite = diff.isfinite()
            close = close | (finite & (diff <= tol))
            if equal_nan:
                bnan = bf.isnan() if isinstance(bf, TensorBase) else bf != bf
                close = close | (af.isnan() & bnan)
        else:
            close = close | ((a - b).abs().double() <= atol + rtol * (b.abs().double() if isinstance(b, TensorBase)
                                                                      else abs(b)))
        return close


@tensor_method
def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when isclose(a, b, ...) holds for every element."""
    return bool(isclose(a, b, rtol, atol, equal_nan).all())
