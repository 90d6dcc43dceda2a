# _index.pxi: bindings of the indexing kernels in csrc/index.c (advanced indexing, gather/scatter,
# index_select/index_add, nonzero). Included textually into _core.pyx. Every op here is one call of
# agc_index_gather or agc_index_put with strides chosen over an iteration space (see index.c). Index
# tensors are validated here (dtype, shape, every value in range) before C sees them; written
# tensors must not overlap themselves, and sources overlapping the destination are copied first.
# The autodiff wrappers live in autograd_core/ops/index.py. Tests: tests/test_index.py.

cdef extern from "agc.h" nogil:
    int agc_index_gather(int dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx, int nidx,
                         const int64_t **idx, const int64_t *sidx, const int64_t *xs, void *out,
                         const int64_t *so)
    int agc_index_put(int dt, int accumulate, int ndim, const int64_t *shape, const void *v, const int64_t *sv,
                      int nidx, const int64_t **idx, const int64_t *sidx, const int64_t *xs, void *x,
                      const int64_t *sx)
    int agc_index_check(int ndim, const int64_t *shape, const int64_t *idx, const int64_t *sidx, int64_t lo,
                        int64_t hi, int64_t *bad, int64_t *nneg)
    int agc_index_wrap(int ndim, const int64_t *shape, const int64_t *idx, const int64_t *sidx, int64_t size,
                       int64_t *out)
    int agc_count_nonzero(int dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx,
                          int64_t *count)
    int agc_nonzero(int dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx, int64_t count,
                    int64_t *out)


cdef inline bint _ix_is_int(int dt) noexcept:
    return dt == AGC_I64 or dt == AGC_I32


cdef TensorBase _ix_int_index(object index, str op, str what="index"):
    """index as an int64 tensor; int32 is converted, any other dtype is a TypeError."""
    cdef TensorBase t = tensor_arg(index, op + "()", what)
    if not _ix_is_int(t._dtype):
        raise TypeError(f"{op}(): expected {what} of dtype int64, got {DTYPE_NAMES[t._dtype]}")
    if t._dtype != AGC_I64:
        t = cast(t, AGC_I64)
    return t


cdef TensorBase _ix_checked(TensorBase idx, int64_t size, bint allow_negative, int dim, str op):
    """Raise IndexError naming the first value of idx (int64) outside the valid range of a dim of
    `size`; with allow_negative, return idx with negative values wrapped (a copy only if needed)."""
    cdef int64_t bad = -1, nneg = 0, lo = -size if allow_negative else 0
    cdef int rc
    with nogil:
        rc = agc_index_check(idx._ndim, idx._shape, <const int64_t *>idx._data, idx._strides, lo, size,
                             &bad, &nneg)
    check_rc(rc, op)
    cdef int64_t rest, off, i
    if bad >= 0:
        rest = bad
        off = 0
        for i in range(idx._ndim - 1, -1, -1):
            off += (rest % idx._shape[i]) * idx._strides[i]
            rest //= idx._shape[i]
        raise IndexError(f"{op}: index {(<const int64_t *>idx._data)[off]} is out of bounds for dimension "
                         f"{dim} with size {size}")
    if not allow_negative or nneg == 0:
        return idx
    cdef TensorBase out = new_tensor(AGC_I64, idx._ndim, idx._shape)
    with nogil:
        rc = agc_index_wrap(idx._ndim, idx._shape, <const int64_t *>idx._data, idx._strides, size,
                            <int64_t *>out._data)
    check_rc(rc, op)
    return out


cdef int _ix_check_dest(TensorBase t, str op) except -1:
    check_writable(t, op)
    check_no_internal_overlap(t, op)
    return 0


cdef TensorBase _ix_source(TensorBase src, TensorBase dest, int dt):
    """src in dtype dt, copied if it shares memory with dest."""
    if src._dtype != dt:
        return cast(src, dt)
    if overlaps(dest, src):
        return clone(src)
    return src


cdef int _ix_run(bint put, int accumulate, int dt, int ndim, const int64_t *shape, TensorBase x,
                 const int64_t *sx, list indices, const int64_t *sidx, const int64_t *xs, TensorBase other,
                 const int64_t *so, const char *scalar, str op) except -1:
    """One kernel call: gather (x -> other) or put (other or the scalar -> x)."""
    cdef const int64_t *ptrs[16]
    cdef int k, rc, nidx = len(indices)
    cdef TensorBase t
    for k in range(nidx):
        t = <TensorBase>indices[k]
        ptrs[k] = <const int64_t *>t._data
    cdef const void *pv = <const void *>scalar if scalar != NULL else <const void *>other._data
    if put:
        with nogil:
            rc = agc_index_put(dt, accumulate, ndim, shape, pv, so, nidx, ptrs, sidx, xs, x._data, sx)
        x._storage.version += 1
    else:
        with nogil:
            rc = agc_index_gather(dt, ndim, shape, x._data, sx, nidx, ptrs, sidx, xs, other._data, so)
    if rc == AGC_EUNSUPPORTED:
        raise TypeError(f"{op}: not supported for dtype {DTYPE_NAMES[dt]}")
    check_rc(rc, op)
    return 0


# ------------------------------------------------------------------------------------------ advanced indexing
cdef int _ix_broadcast_ok(TensorBase t, int ndim, const int64_t *shape, int64_t *out_strides) noexcept:
    """Like broadcast_strides_to, but returns 0 instead of raising when t does not broadcast."""
    cdef int i, j
    cdef int off = ndim - t._ndim
    if off < 0:
        return 0
    for i in range(ndim):
        j = i - off
        if j < 0:
            out_strides[i] = 0
        elif t._shape[j] == shape[i]:
            out_strides[i] = t._strides[j] if shape[i] != 1 else 0
        elif t._shape[j] == 1:
            out_strides[i] = 0
        else:
            return 0
    return 1


cdef int _ix_layout(TensorBase x, tuple dims, tuple indices, str op, int64_t *oshape, int64_t *sx,
                    int64_t *sidx, int64_t *xs, list checked) except -1:
    """The iteration space of x[..., indices at dims, ...] (PyTorch/NumPy rule: the broadcast index
    dims replace the indexed dims in place when those are adjacent, else they go first). Fills the
    output shape, x's strides over it, each index's strides over it and x's stride at each indexed dim;
    appends the checked int64 indices to `checked`. Returns the output ndim."""
    cdef int nidx = len(dims), k, i, d, j, nout, first = 0
    cdef int64_t bsh[16]
    cdef int64_t bst[16]
    cdef bint indexed[16]
    cdef TensorBase t
    if nidx != len(indices):
        raise ValueError(f"{op}: {nidx} dims but {len(indices)} index tensors")
    if nidx == 0 or nidx > x._ndim:
        raise IndexError(f"{op}: too many indices for tensor of dimension {x._ndim}")
    for i in range(x._ndim):
        indexed[i] = False
    bshape = ()
    shapes = []
    cdef int prev = -1
    cdef bint adjacent = True
    for k in range(nidx):
        d = wrap_dim(dims[k], x._ndim, op)
        if indexed[d]:
            raise IndexError(f"{op}: dim {d} is indexed twice")
        indexed[d] = True
        if k > 0 and d != prev + 1:
            adjacent = False
        if k == 0:
            first = d
        prev = d
        t = _ix_int_index(indices[k], op, "indices")
        t = _ix_checked(t, x._shape[d], True, d, op)
        checked.append(t)
        xs[k] = x._strides[d]
        shapes.append(tuple(t.shape))
        try:
            bshape = broadcast_shape(bshape, shapes[k], op)
        except RuntimeError:
            raise IndexError(f"{op}: shape mismatch: indexing tensors could not be broadcast together with "
                             f"shapes {', '.join(str(list(sh)) for sh in shapes)}") from None
    cdef int nb = len(bshape)
    cdef int nrest = x._ndim - nidx
    if nb + nrest > AGC_MAX_DIMS:
        raise IndexError(f"{op}: the result would have more than {AGC_MAX_DIMS} dimensions")
    for i in range(nb):
        bsh[i] = bshape[i]
    # where the broadcast block starts in the output
    cdef int bpos = first if adjacent else 0
    nout = 0
    j = 0  # x dim cursor over the non-indexed dims
    for i in range(x._ndim + 1):
        if i == bpos:
            for d in range(nb):
                oshape[nout] = bsh[d]
                sx[nout] = 0
                nout += 1
        if i < x._ndim and not indexed[i]:
            oshape[nout] = x._shape[i]
            sx[nout] = x._strides[i]
            nout += 1
    for k in range(nidx):
        t = <TensorBase>checked[k]
        broadcast_strides_to(t, nb, bsh, bst, op)
        for i in range(nout):
            sidx[k * nout + i] = 0
        for i in range(nb):
            sidx[k * nout + bpos + i] = bst[i]
    return nout


def index(TensorBase x, tuple dims, tuple indices):
    """Advanced indexing: x with dims[k] indexed by the int tensor indices[k] (negative values count
    from the end), the index tensors broadcast together. Always a new tensor."""
    cdef int64_t oshape[16]
    cdef int64_t sx[16]
    cdef int64_t sidx[256]
    cdef int64_t xs[16]
    cdef list checked = []
    cdef int nout = _ix_layout(x, dims, indices, "index", oshape, sx, sidx, xs, checked)
    cdef TensorBase out = new_tensor(x._dtype, nout, oshape)
    _ix_run(False, 0, x._dtype, nout, oshape, x, sx, checked, sidx, xs, out, out._strides, NULL, "index")
    return out


def index_put_(TensorBase x, tuple dims, tuple indices, values, bint accumulate=False):
    """x[indices at dims] = values (or += with accumulate), in place; values (a tensor, cast to x's
    dtype, or a Python scalar) broadcast to the indexing result's shape. With duplicate indices the
    last value in row-major order wins; accumulation sums in that order (thread-count independent)."""
    cdef str op = "index_put_"
    _ix_check_dest(x, op)
    if accumulate and half_of((x, values)) >= 0:  # the kernel moves half values but adds only in float32
        return half_inplace(index_put_, x, dims, indices, values, True)
    cdef int64_t oshape[16]
    cdef int64_t sx[16]
    cdef int64_t sidx[256]
    cdef int64_t xs[16]
    cdef int64_t sv[16]
    cdef char buf[8]
    cdef list checked = []
    cdef int nout = _ix_layout(x, dims, indices, op, oshape, sx, sidx, xs, checked)
    cdef int k, i
    cdef TensorBase v = None, t
    for k in range(len(checked)):
        t = <TensorBase>checked[k]
        if overlaps(x, t):
            checked[k] = clone(t)
    if isinstance(values, TensorBase):
        v = _ix_source(<TensorBase>values, x, x._dtype)
        if v._ndim > nout or _ix_broadcast_ok(v, nout, oshape, sv) == 0:
            raise RuntimeError(f"{op}: shape mismatch: value tensor of shape {tuple(values.shape)} cannot be "
                               f"broadcast to indexing result of shape {shape_tuple(nout, oshape)}")
        _ix_run(True, accumulate, x._dtype, nout, oshape, x, sx, checked, sidx, xs, v, sv, NULL, op)
    else:
        check_scalar_fits(x._dtype, values, op)
        write_scalar(values, x._dtype, buf)
        for i in range(nout):
            sv[i] = 0
        _ix_run(True, accumulate, x._dtype, nout, oshape, x, sx, checked, sidx, xs, None, sv, buf, op)
    return x


# ------------------------------------------------------------------------------------------ gather / scatter
cdef int _ix_dim_rule(TensorBase index, TensorBase other, int dim, bint all_dims, str op, str other_name) \
        except -1:
    """index.size(d) <= other.size(d) for every d (all_dims) or every d != dim; same ndim."""
    cdef int d
    if index._ndim != other._ndim:
        raise RuntimeError(f"{op}(): index tensor must have the same number of dimensions as {other_name} "
                           f"tensor (index shape {tuple(index.shape)}, {other_name} shape {tuple(other.shape)})")
    for d in range(index._ndim):
        if (all_dims or d != dim) and index._shape[d] > other._shape[d]:
            raise RuntimeError(f"{op}(): size of index {tuple(index.shape)} must not exceed the size of "
                               f"{other_name} {tuple(other.shape)} at dimension {d}"
                               + ("" if all_dims else f" (any dimension but {dim})"))
    return 0


def gather(TensorBase x, dim, index):
    """out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (and likewise for other dims); out has
    index's shape; index.size(d) <= x.size(d) for d != dim."""
    cdef str op = "gather"
    cdef int d = wrap_dim(dim, x._ndim, op)
    cdef TensorBase idx = _ix_int_index(index, op)
    _ix_dim_rule(idx, x, d, False, op, "input")
    cdef int64_t size = x._shape[d] if x._ndim > 0 else 1
    idx = _ix_checked(idx, size, False, d, op)
    cdef int64_t sx[16]
    cdef int64_t xs[1]
    cdef int i
    for i in range(x._ndim):
        sx[i] = x._strides[i]
    xs[0] = x._strides[d] if x._ndim > 0 else 0
    if x._ndim > 0:
        sx[d] = 0
    cdef TensorBase out = new_tensor(x._dtype, idx._ndim, idx._shape)
    _ix_run(False, 0, x._dtype, idx._ndim, idx._shape, x, sx, [idx], idx._strides, xs, out, out._strides,
            NULL, op)
    return out


def scatter_(TensorBase x, dim, index, src, bint accumulate=False, str op="scatter_"):
    """In place: x[index[i][j][k]][j][k] = src[i][j][k] for dim 0 (+= with accumulate); src a tensor
    of x's dtype or a Python scalar. index.size(d) <= src.size(d) for all d and <= x.size(d) for
    d != dim."""
    cdef int d = wrap_dim(dim, x._ndim, op)
    _ix_check_dest(x, op)
    if accumulate and half_of((x, src)) >= 0:
        return half_inplace(scatter_, x, dim, index, src, True, op)
    cdef TensorBase idx = _ix_int_index(index, op)
    _ix_dim_rule(idx, x, d, False, op, "self")
    cdef TensorBase s = None
    cdef char buf[8]
    cdef int64_t sv[16]
    cdef int i
    if isinstance(src, TensorBase):
        s = <TensorBase>src
        if s._dtype != x._dtype:
            raise RuntimeError(f"{op}(): expected self.dtype to be equal to src.dtype, got {DTYPE_NAMES[x._dtype]} "
                               f"and {DTYPE_NAMES[s._dtype]}")
        _ix_dim_rule(idx, s, d, True, op, "src")
        s = _ix_source(s, x, x._dtype)
        for i in range(idx._ndim):
            sv[i] = s._strides[i]
    else:
        if accumulate:
            raise TypeError(f"{op}(): src must be a Tensor, got {type(src).__name__}")
        write_scalar(src, x._dtype, buf)
        for i in range(idx._ndim):
            sv[i] = 0
    cdef int64_t size = x._shape[d] if x._ndim > 0 else 1
    idx = _ix_checked(idx, size, False, d, op)
    if overlaps(x, idx):
        idx = clone(idx)
    cdef int64_t sx[16]
    cdef int64_t xs[1]
    for i in range(x._ndim):
        sx[i] = x._strides[i]
    xs[0] = x._strides[d] if x._ndim > 0 else 0
    if x._ndim > 0:
        sx[d] = 0
    cdef const char *scalar = NULL
    if s is None:
        scalar = &buf[0]
    _ix_run(True, accumulate, x._dtype, idx._ndim, idx._shape, x, sx, [idx], idx._strides, xs, s, sv, scalar, op)
    return x


def index_select(TensorBase x, dim, index):
    """x's elements at positions index (1-D or 0-d int tensor) along dim."""
    cdef str op = "index_select"
    cdef int d = wrap_dim(dim, x._ndim, op)
    cdef TensorBase idx = _ix_int_index(index, op)
    if idx._ndim > 1:
        raise IndexError(f"{op}(): index must be 0-D or 1-D, got shape {tuple(idx.shape)}")
    cdef int64_t size = x._shape[d] if x._ndim > 0 else 1
    idx = _ix_checked(idx, size, False, d, op)
    cdef int64_t n = idx._numel
    cdef int64_t istride = idx._strides[0] if idx._ndim == 1 else 0
    cdef int64_t oshape[16]
    cdef int64_t sx[16]
    cdef int64_t sidx[16]
    cdef int64_t xs[1]
    cdef int i, nd = x._ndim
    if nd == 0:
        if n != 1:
            raise IndexError(f"{op}(): index of a 0-d tensor must have one element, got {n}")
        nd = 0
    for i in range(nd):
        oshape[i] = x._shape[i]
        sx[i] = x._strides[i]
        sidx[i] = 0
    xs[0] = x._strides[d] if nd > 0 else 0
    if nd > 0:
        oshape[d] = n
        sx[d] = 0
        sidx[d] = istride
    cdef TensorBase out = new_tensor(x._dtype, nd, oshape)
    _ix_run(False, 0, x._dtype, nd, oshape, x, sx, [idx], sidx, xs, out, out._strides, NULL, op)
    return out


def index_add_(TensorBase x, dim, index, TensorBase src):
    """In place: x[..., index[j], ...] += src[..., j, ...] along dim (sums in j order)."""
    cdef str op = "index_add_"
    cdef int d = wrap_dim(dim, x._ndim, op)
    _ix_check_dest(x, op)
    if half_of((x, src)) >= 0:
        return half_inplace(index_add_, x, dim, index, src)
    cdef TensorBase idx = _ix_int_index(index, op)
    if idx._ndim > 1:
        raise IndexError(f"{op}(): index must be 0-D or 1-D, got shape {tuple(idx.shape)}")
    cdef int i
    cdef int64_t n = idx._numel
    cdef bint ok = src._ndim == x._ndim
    if ok:
        for i in range(x._ndim):
            if (i == d and src._shape[i] != n) or (i != d and src._shape[i] != x._shape[i]):
                ok = False
    elif x._ndim == 0 and src._ndim <= 1 and src._numel == n == 1:
        ok = True  # a 0-d self takes exactly one index (a 0-d kernel call adds one source element)
    if not ok:
        raise RuntimeError(f"{op}(): source of shape {tuple(src.shape)} does not match self of shape "
                           f"{tuple(x.shape)} with {n} indices along dim {d}")
    if src._dtype != x._dtype:
        raise RuntimeError(f"{op}(): self ({DTYPE_NAMES[x._dtype]}) and source ({DTYPE_NAMES[src._dtype]}) "
                           f"must have the same dtype")
    cdef int64_t size = x._shape[d] if x._ndim > 0 else 1
    idx = _ix_checked(idx, size, False, d, op)
    if overlaps(x, idx):
        idx = clone(idx)
    src = _ix_source(src, x, x._dtype)
    cdef int64_t shape[16]
    cdef int64_t sx[16]
    cdef int64_t sv[16]
    cdef int64_t sidx[16]
    cdef int64_t xs[1]
    cdef int nd = x._ndim
    for i in range(nd):
        shape[i] = src._shape[i]
        sx[i] = x._strides[i]
        sv[i] = src._strides[i]
        sidx[i] = 0
    xs[0] = x._strides[d] if nd > 0 else 0
    if nd > 0:
        sx[d] = 0
        sidx[d] = idx._strides[0] if idx._ndim == 1 else 0
    _ix_run(True, 1, x._dtype, nd, shape, x, sx, [idx], sidx, xs, src, sv, NULL, op)
    return x


# ------------------------------------------------------------------------------------------ nonzero
def nonzero(TensorBase x):
    """The coordinates of x's nonzero elements, (count, ndim) int64, in row-major order."""
    cdef int64_t count = 0
    cdef int rc
    with nogil:
        rc = agc_count_nonzero(x._dtype, x._ndim, x._shape, x._data, x._strides, &count)
    check_rc(rc, "nonzero")
    cdef int64_t shape[2]
    shape[0] = count
    shape[1] = x._ndim
    cdef TensorBase out = new_tensor(AGC_I64, 2, shape)
    with nogil:
        rc = agc_nonzero(x._dtype, x._ndim, x._shape, x._data, x._strides, count, <int64_t *>out._data)
    check_rc(rc, "nonzero")
    return out


def check_index(index, int64_t size, int dim, bint allow_negative=True, str op="index"):
    """index (an int tensor) as int64 with every value checked against a dim of `size` (IndexError
    naming the value, the dim and the size); negative values wrapped when allowed."""
    return _ix_checked(_ix_int_index(index, op), size, allow_negative, dim, op)


cdef extern from "agc.h" nogil:
    int agc_masked_select(int dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx,
                          const uint8_t *mask, const int64_t *sm, int64_t count, void *out)


def masked_select_leading(TensorBase x, TensorBase mask):
    """x[mask] for a bool mask whose shape equals x's leading dims: shape (count, *x.shape[mask.ndim:]),
    in one pass over x."""
    cdef str op = "index"
    cdef int k = mask._ndim, i, rc
    if mask._dtype != AGC_BOOL:
        raise TypeError(f"{op}: expected a bool mask, got {DTYPE_NAMES[mask._dtype]}")
    if k > x._ndim or tuple(mask.shape) != tuple(x.shape)[:k]:
        raise IndexError(f"{op}: the shape of the mask {list(mask.shape)} at index 0 does not match the shape "
                         f"of the indexed tensor {list(x.shape)} at index 0")
    cdef int64_t count = 0, inner = 1
    with nogil:
        rc = agc_count_nonzero(AGC_BOOL, k, mask._shape, mask._data, mask._strides, &count)
    check_rc(rc, op)
    cdef int64_t oshape[16]
    cdef int64_t sm[16]
    oshape[0] = count
    for i in range(k, x._ndim):
        oshape[1 + i - k] = x._shape[i]
        inner *= x._shape[i]
    for i in range(x._ndim):
        sm[i] = mask._strides[i] if i < k else 0
    cdef TensorBase out = new_tensor(x._dtype, 1 + x._ndim - k, oshape)
    with nogil:
        rc = agc_masked_select(x._dtype, x._ndim, x._shape, x._data, x._strides, <const uint8_t *>mask._data,
                               sm, count * inner, out._data)
    check_rc(rc, op)
    return out
