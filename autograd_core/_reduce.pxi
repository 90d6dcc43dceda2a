# _reduce.pxi: reductions over dims, softmax and cumulative sums/products (included by _core.pyx).

# ------------------------------------------------------------------------------------------ reductions
cdef int parse_dims(object dims, int ndim, bint *mask, str op) except -1:
    """Fill mask[i] for reduced dims; dims None means all. Returns the number of reduced dims."""
    cdef int i, d, n = 0
    for i in range(ndim):
        mask[i] = dims is None
    if dims is None:
        return ndim
    if isinstance(dims, int):
        dims = (dims,)
    for dd in dims:
        d = wrap_dim(dd, ndim, op)
        if ndim == 0:
            continue
        if mask[d]:
            raise RuntimeError(f"{op}: dim {d} appears multiple times in the list of dims")
        mask[d] = True
    for i in range(ndim):
        n += mask[i]
    return n


def reduce(int op, TensorBase x, dims=None, bint keepdim=False, double p0=0.0, bint with_index=False,
           out_dtype=None):
    """Reduce x over `dims` (int, tuple or None for all). Returns the result, or (values, indices)
    when with_index (max/min only)."""
    if not 0 <= op < AGC_NREDUCE:
        raise ValueError(f"reduce: unknown op code {op}; codes are the values of REDUCE_OPS")
    if is_half(x._dtype):
        if out_dtype is None or is_half(out_dtype):
            return half_call(reduce, x._dtype if out_dtype is None else out_dtype, op, x, dims, keepdim, p0,
                             with_index)
        return reduce(op, widen(x), dims, keepdim, p0, with_index, out_dtype)  # sum(dtype=float32 or float64)
    cdef str name = _REDUCE_NAMES[op]
    cdef unsigned flags = agc_reduce_info[op].flags
    cdef bint mask[16]
    cdef int64_t oshape[16]
    cdef int64_t osx[16]
    cdef int64_t ishape[16]
    cdef int64_t isx[16]
    cdef int64_t outshape[16]
    cdef int64_t so[16]
    cdef int nred = parse_dims(dims, x._ndim, mask, name)
    cdef int no = 0, ni = 0, nout = 0, i, rc
    cdef int64_t nreduced = 1
    cdef int dt = x._dtype
    for i in range(x._ndim):
        if mask[i]:
            ishape[ni] = x._shape[i]
            isx[ni] = x._strides[i]
            nreduced *= x._shape[i]
            ni += 1
            if keepdim:
                outshape[nout] = 1
                nout += 1
        else:
            oshape[no] = x._shape[i]
            osx[no] = x._strides[i]
            no += 1
            outshape[nout] = x._shape[i]
            nout += 1
    if flags & AGC_OP_BOOL_OUT:  # all, any
        if x._dtype != AGC_BOOL:
            x = binary(AGC_BINARY_NE, x, 0)
            if dt == AGC_U8:  # PyTorch keeps uint8 for all/any of a uint8 tensor
                return cast(reduce(op, x, dims, keepdim), AGC_U8)
            return reduce(op, x, dims, keepdim)
    elif (x._dtype == AGC_U8 or x._dtype == AGC_I32) and not (flags & AGC_OP_FLOAT):
        pass  # read in their own width by the kernel; sum and prod write int64 (below), like torch
    elif x._dtype == AGC_BOOL or x._dtype == AGC_U8 or x._dtype == AGC_I32:
        if op == AGC_REDUCE_SUM or op == AGC_REDUCE_PROD:
            x = cast(x, AGC_I64)
            return reduce(op, x, dims, keepdim, p0, with_index)
        if op != AGC_REDUCE_MAX and op != AGC_REDUCE_MIN:
            raise TypeError(f"{name}: not supported for dtype {DTYPE_NAMES[x._dtype]}; convert with "
                            f".float() first")
        x = cast(x, AGC_I64)
        r = reduce(op, x, dims, keepdim, p0, with_index)
        if with_index:
            return cast(r[0], dt), r[1]
        return cast(r, dt)
    elif flags & AGC_OP_FLOAT:
        require_float(x._dtype, name + "()", "an input")
    if nreduced == 0 and (op == AGC_REDUCE_MAX or op == AGC_REDUCE_MIN):
        raise IndexError(f"{name}(): expected a non-empty tensor to reduce over, got shape {tuple(x.shape)} "
                         f"reducing dims {dims}")
    cdef int odt = AGC_BOOL if flags & AGC_OP_BOOL_OUT else x._dtype
    if (op == AGC_REDUCE_SUM or op == AGC_REDUCE_PROD) and (x._dtype == AGC_U8 or x._dtype == AGC_I32):
        odt = AGC_I64
    cdef TensorBase out = new_tensor(odt, nout, outshape)
    cdef TensorBase idx = None
    cdef int64_t *pidx = NULL
    # strides of out over the kept dims only
    cdef int k = 0
    for i in range(nout):
        if not (keepdim and mask[i]):
            so[k] = out._strides[i]
            k += 1
    if with_index:
        idx = new_tensor(AGC_I64, nout, outshape)
        pidx = <int64_t *>idx._data
    with nogil:
        rc = agc_reduce(op, x._dtype, no, oshape, osx, ni, ishape, isx, x._data, out._data, so, pidx, p0)
    check_rc(rc, name)
    if with_index:
        return out, idx
    return out


cdef void split_at(TensorBase x, int d, int64_t *outer, int64_t *n, int64_t *inner) noexcept:
    """View a contiguous tensor as (outer, n, inner) around dim d."""
    cdef int i
    outer[0] = 1
    n[0] = x._shape[d] if x._ndim else 1
    inner[0] = 1
    for i in range(x._ndim):
        if i < d:
            outer[0] *= x._shape[i]
        elif i > d:
            inner[0] *= x._shape[i]


def softmax(TensorBase x, dim, bint log=False):
    if is_half(x._dtype):
        return half_call(softmax, x._dtype, x, dim, log)
    cdef int d = wrap_dim(dim, x._ndim, "log_softmax" if log else "softmax")
    require_float(x._dtype, "log_softmax" if log else "softmax", "a tensor")
    x = contiguous(x)
    cdef int64_t outer, n, inner
    cdef int rc
    split_at(x, d, &outer, &n, &inner)
    cdef TensorBase out = new_tensor(x._dtype, x._ndim, x._shape)
    with nogil:
        rc = agc_softmax(log, x._dtype, outer, n, inner, x._data, out._data)
    check_rc(rc, "softmax")
    return out


def softmax_backward(TensorBase y, TensorBase g, dim, bint log=False):
    if is_half(y._dtype):
        return half_call(softmax_backward, y._dtype, y, g, dim, log)
    cdef int d = wrap_dim(dim, y._ndim, "softmax_backward")
    y = contiguous(y)
    if g._dtype != y._dtype:
        g = cast(g, y._dtype)
    g = contiguous(g)
    cdef int64_t outer, n, inner
    cdef int rc
    split_at(y, d, &outer, &n, &inner)
    cdef TensorBase out = new_tensor(y._dtype, y._ndim, y._shape)
    with nogil:
        rc = agc_softmax_backward(log, y._dtype, outer, n, inner, y._data, g._data, out._data)
    check_rc(rc, "softmax_backward")
    return out


def cumulative(int op, TensorBase x, dim):
    cdef str name = "cumprod" if op else "cumsum"
    cdef int d = wrap_dim(dim, x._ndim, name)
    if is_half(x._dtype):
        return half_call(cumulative, x._dtype, op, x, dim)
    if x._dtype == AGC_BOOL or x._dtype == AGC_I32 or x._dtype == AGC_U8:
        x = cast(x, AGC_I64)
    x = contiguous(x)
    cdef int64_t outer, n, inner
    cdef int rc
    split_at(x, d, &outer, &n, &inner)
    cdef TensorBase out = new_tensor(x._dtype, x._ndim, x._shape)
    with nogil:
        rc = agc_cumulative(op, x._dtype, outer, n, inner, x._data, out._data)
    check_rc(rc, name)
    return out
