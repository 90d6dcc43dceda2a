"""Sorting and selection (sort, argsort, topk, median, quantile, nanquantile, mode, cummax, cummin,
unique, bincount), searching sorted data (searchsorted, bucketize) and closeness tests (isclose,
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
from ._registry import op
from .creation import as_tensor, tensor
from .index import gather
from .reduce import _return_types
from .shape import stack


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


@op
def sort(x, dim=-1, descending=False, stable=False):
    """(values, indices) of x sorted along dim; stable is accepted for PyTorch compatibility (the
    sort is always stable)."""
    d = _dim(x, dim, "sort")
    if x.dim() == 0:
        return _return_types(x.clone(), tensor(0))
    idx = tensor(np.ascontiguousarray(_order(_data(x, "sort"), d, descending)).astype(np.int64))
    return _return_types(gather(x, d, idx), idx)


@op
def argsort(x, dim=-1, descending=False, stable=False):
    """The indices sort(x, dim, descending) orders x by."""
    d = _dim(x, dim, "argsort")
    if x.dim() == 0:
        return tensor(0)
    return tensor(np.ascontiguousarray(_order(_data(x, "argsort"), d, descending)).astype(np.int64))


@op
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


@op
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


@op
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



@op
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
    # numpy computes max + 1 and the byte size without overflow checks (2**63 - 1 corrupts its heap):
    # the bin count is settled here, in Python integers, before numpy sees the data
    top = int(a.max()) if a.size else -1
    if top >= 2**63 - 1:
        raise RuntimeError(f"bincount: maximum value of input overflowed, it should be < {2**63 - 1} but got "
                           f"{top}")
    nbins = max(top + 1, minlength)
    if nbins > 2**59:  # 8-byte bins: keep every byte count numpy derives far from 2**63
        raise RuntimeError(f"bincount: cannot allocate {nbins} bins (largest value {top}, minlength "
                           f"{minlength}): storage size calculation overflowed")
    w = None
    if weights is not None:
        w = as_tensor(weights)
        if tuple(w.shape) != tuple(x.shape):
            raise RuntimeError(f"bincount: weights of shape {tuple(w.shape)} do not match the input's "
                               f"{tuple(x.shape)}")
    try:
        if w is None:
            return tensor(np.bincount(a, minlength=minlength).astype(np.int64))
        wd = np.asarray(w.detach())
        out_dtype = w.dtype if w.is_floating_point() else _core.F64
        return tensor(np.bincount(a, weights=wd.astype(np.float64), minlength=minlength), dtype=out_dtype)
    except MemoryError:
        raise RuntimeError(f"bincount: cannot allocate {nbins} bins ({nbins * 8} bytes) for the largest "
                           f"value {top} and minlength {minlength}") from None


@op
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


@op
def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when isclose(a, b, ...) holds for every element."""
    return bool(isclose(a, b, rtol, atol, equal_nan).all())


@op(method=False)
def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None, sorter=None):
    """For each value, the index where it would be inserted into sorted_sequence (its last dim, a 1-d
    sequence for all values or one row per leading index) to keep it sorted: before equal entries,
    or after them with right=True / side='right'. sorter: indices that sort an unsorted sequence."""
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side can only be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ValueError("searchsorted: side and right can't be set to opposites, got side of left while "
                             "right was True")
        right = side == "right"
    seq = _data(sorted_sequence, "searchsorted")
    scalar = not isinstance(values, TensorBase)
    vals = np.asarray(values.detach()) if not scalar else np.asarray(values)
    if sorter is not None:
        seq = np.take_along_axis(seq, np.asarray(sorter.detach() if isinstance(sorter, TensorBase) else sorter,
                                                 dtype=np.int64), axis=-1)
    kind = "right" if right else "left"
    if seq.ndim <= 1:
        out = np.searchsorted(seq.reshape(-1), vals, side=kind)
    else:
        if vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]:
            raise ValueError(f"searchsorted: boundaries tensor should be 1 dimension or the first N-1 dimensions of "
                             f"boundaries tensor and input value tensor must match, but we got boundaries tensor "
                             f"{tuple(seq.shape)} and input value tensor {tuple(vals.shape)}")
        flat_s = seq.reshape(-1, seq.shape[-1])
        flat_v = vals.reshape(-1, vals.shape[-1])
        out = np.stack([np.searchsorted(r, v, side=kind) for r, v in zip(flat_s, flat_v)]).reshape(vals.shape)
    return tensor(np.ascontiguousarray(out).astype(np.int32 if out_int32 else np.int64))


@op
def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element given 1-d ascending boundaries: i such that boundaries[i-1] < x <=
    boundaries[i] (with right=True, boundaries[i-1] <= x < boundaries[i])."""
    b = _data(boundaries, "bucketize")
    if b.ndim != 1:
        raise ValueError(f"bucketize: boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(x, q, dim, keepdim, interpolation, ignore_nan, op):
    if not isinstance(x, TensorBase):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{op}: input tensor must be either float or double dtype, got {x.dtype}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
    scalar_q = not isinstance(q, TensorBase)
    qs = np.asarray(q.detach() if not scalar_q else q, dtype=np.float64)
    if qs.ndim > 1:
        raise ValueError(f"{op}: q must be a scalar or 1D tensor, got shape {qs.shape}")
    if ((qs < 0) | (qs > 1)).any():
        raise ValueError(f"{op}: q values must be in the range [0, 1]")
    if x.numel() == 0:
        raise ValueError(f"{op}: input tensor must be non-empty")
    if dim is None:
        data = x.reshape(-1)
        d = 0
    else:
        d = _dim(x, dim, op)
        data = x if x.ndim else x.reshape(1)
    values = sort(data, d).values  # NaN sorts last
    raw = np.moveaxis(np.asarray(data.detach(), dtype=np.float64), d, -1)
    n = raw.shape[-1]
    nan = np.isnan(raw)
    count = (n - nan.sum(-1)) if ignore_nan else np.full(raw.shape[:-1], n)
    outs = []
    for qv in qs.reshape(-1):
        rank = qv * (np.maximum(count, 1) - 1)
        if interpolation == "lower":
            rank = np.floor(rank)
        elif interpolation == "higher":
            rank = np.ceil(rank)
        elif interpolation == "nearest":
            rank = np.round(rank)
        lo = np.floor(rank).astype(np.int64)
        hi = np.ceil(rank).astype(np.int64)
        weight = 0.5 * (hi != lo) if interpolation == "midpoint" else rank - lo
        if not ignore_nan:
            # a NaN anywhere makes the result NaN: point at the last (NaN) entry
            has_nan = nan.any(-1)
            lo = np.where(has_nan, n - 1, lo)
            hi = np.where(has_nan, n - 1, hi)
        idx_lo = tensor(np.ascontiguousarray(np.expand_dims(lo, -1)))
        idx_hi = tensor(np.ascontiguousarray(np.expand_dims(hi, -1)))
        v = values.movedim(d, -1)
        low = gather(v, -1, idx_lo)
        high = gather(v, -1, idx_hi)
        w = tensor(np.ascontiguousarray(np.expand_dims(weight, -1)), dtype=x.dtype)
        result = low + (high - low) * w
        if ignore_nan:
            empty = tensor(np.ascontiguousarray(np.expand_dims(count == 0, -1)))
            if bool(np.any(count == 0)):
                result = result.masked_fill(empty, float("nan"))
        result = result.squeeze(-1)
        if keepdim:
            if dim is None:
                result = result.reshape((1,) * x.ndim)
            else:
                result = result.unsqueeze(d)
        outs.append(result)
    if scalar_q or qs.ndim == 0:
        return outs[0]
    return stack(outs, 0)


@op
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles (q a float or a 1-d tensor, then stacked first) of all elements or along
    dim; interpolation 'linear', 'lower', 'higher', 'midpoint' or 'nearest' between neighbours.
    A NaN in a slice makes its quantile NaN. Differentiable through the selected elements."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


@op
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """quantile ignoring NaN (an all-NaN slice gives NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


@op
def mode(input, dim=-1, keepdim=False):
    """(values, indices): the most frequent value along dim (the smallest of equally frequent ones)
    and the index of its last occurrence."""
    d = _dim(input, dim, "mode")
    x = input if input.ndim else input.reshape(1)
    a = np.moveaxis(_data(x, "mode"), d, -1)
    rows = a.reshape(-1, a.shape[-1])
    out = np.empty(rows.shape[0], dtype=np.int64)
    for r, row in enumerate(rows):
        uniq, counts = np.unique(row, return_counts=True)
        best = uniq[np.argmax(counts)]  # unique sorts ascending: argmax takes the smallest of ties
        hits = np.nonzero((row == best) | (np.isnan(row) & np.isnan(best)))[0]
        out[r] = hits[-1]
    idx = tensor(out.reshape(a.shape[:-1] + (1,)))
    values = gather(x.movedim(d, -1), -1, idx)
    if keepdim:
        values, idx = values.movedim(-1, d), idx.movedim(-1, d)
    else:
        values, idx = values.squeeze(-1), idx.squeeze(-1)
    if input.ndim == 0:
        values, idx = values.reshape(()), idx.reshape(())
    return _return_types(values, idx)


def _cumulative_extreme(input, dim, op, better):
    d = _dim(input, dim, op)
    x = input if input.ndim else input.reshape(1)
    a = np.moveaxis(_data(x, op), d, 0)
    idx = np.zeros(a.shape, dtype=np.int64)
    if a.shape[0]:
        best = a[0].copy()
        cur = np.zeros(a.shape[1:], dtype=np.int64)
        best_nan = np.isnan(best) if a.dtype.kind == "f" else np.zeros(best.shape, dtype=bool)
        for i in range(a.shape[0]):
            v = a[i]
            v_nan = np.isnan(v) if a.dtype.kind == "f" else np.zeros(v.shape, dtype=bool)
            # ties move to the later index; a NaN, once seen, stays (the latest NaN wins)
            take = (v_nan | (~best_nan & better(v, best))) if i else np.ones(v.shape, dtype=bool)
            cur = np.where(take, i, cur)
            best = np.where(take, v, best)
            best_nan = best_nan | v_nan
            idx[i] = cur
    index = tensor(np.ascontiguousarray(np.moveaxis(idx, 0, d)))
    values = gather(x, d, index)
    if input.ndim == 0:
        values, index = values.reshape(()), index.reshape(())
    return _return_types(values, index)


@op
def cummax(input, dim):
    """(values, indices): the running maximum along dim and where it was attained (the latest
    position among equal values). Differentiable through the selected elements."""
    return _cumulative_extreme(input, dim, "cummax", np.greater_equal)


@op
def cummin(input, dim):
    """(values, indices): the running minimum along dim (see cummax)."""
    return _cumulative_extreme(input, dim, "cummin", np.less_equal)


@op
def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices): the k-th smallest element (k from 1) along dim. Differentiable through
    the selected elements."""
    d = _dim(input, dim, "kthvalue")
    x = input if input.ndim else input.reshape(1)
    n = x.shape[d]
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
        raise IndexError(f"kthvalue: k ({k}) is out of range for dimension {d} of size {n}")
    order = _order(_data(x, "kthvalue"), d, False)
    idx = tensor(np.ascontiguousarray(np.take(order, [k - 1], axis=d)).astype(np.int64))
    values = gather(x, d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    if input.ndim == 0:
        values, idx = values.reshape(()), idx.reshape(())
    return _return_types(values, idx)


@op
def nanmedian(x, dim=None, keepdim=False):
    """median ignoring NaN: the lower median of the non-NaN elements (NaN when all are NaN), or
    (values, indices) along dim."""
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError("nanmedian: cannot compute the median of an empty tensor")
        return nanmedian(x.reshape(-1), 0).values.reshape(())
    d = _dim(x, dim, "nanmedian")
    if x.dim() == 0:
        return _return_types(x.clone(), tensor(0))
    a = _data(x, "nanmedian")
    order = _order(a, d, False)  # NaN sorts last
    count = (~np.isnan(a)).sum(axis=d, keepdims=True) if x.is_floating_point() else np.full(
        np.take(a, [0], axis=d).shape, a.shape[d])
    position = np.maximum(count - 1, 0) // 2
    idx = tensor(np.ascontiguousarray(np.take_along_axis(order, position, axis=d)).astype(np.int64))
    values = gather(x, d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return _return_types(values, idx)


@op
def histc(input, bins=100, min=0, max=0):
    """Counts of the elements in `bins` equal-width bins over [min, max] (the data's range when both
    are 0); elements outside are ignored; the result has the input's float dtype."""
    if not isinstance(input, TensorBase) or not input.is_floating_point():
        raise TypeError("histc: expected a floating point tensor")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins <= 0:
        raise ValueError(f"histc: bins must be > 0, got {bins!r}")
    a = _data(input, "histc").reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise ValueError(f"histc: max must be larger than min, got min={min}, max={max}")
    inside = a[(a >= lo) & (a <= hi)]
    counts = np.histogram(inside, bins=bins, range=(lo, hi))[0]
    return tensor(counts.astype(a.dtype))
