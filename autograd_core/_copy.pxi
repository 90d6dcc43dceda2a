# _copy.pxi: copies, casts and fills between strided views, and the overlap tests they need
# (included by _core.pyx).

# ------------------------------------------------------------------------------------------ copy/fill
cdef bint overlaps(TensorBase a, TensorBase b) noexcept:
    """Conservative: True if a and b may share memory (same storage and overlapping extents)."""
    if a._storage is not b._storage:
        return False
    if a._numel == 0 or b._numel == 0:
        return False
    cdef int64_t alo, ahi, blo, bhi
    extent(a, &alo, &ahi)
    extent(b, &blo, &bhi)
    return not (ahi < blo or bhi < alo)


cdef void extent(TensorBase t, int64_t *lo, int64_t *hi) noexcept:
    cdef int i
    lo[0] = t._offset
    hi[0] = t._offset
    for i in range(t._ndim):
        if t._strides[i] > 0:
            hi[0] += t._strides[i] * (t._shape[i] - 1)
        else:
            lo[0] += t._strides[i] * (t._shape[i] - 1)


cdef bint same_view(TensorBase a, TensorBase b) noexcept:
    if a._data != b._data or a._ndim != b._ndim:
        return False
    cdef int i
    for i in range(a._ndim):
        if a._shape[i] != b._shape[i] or (a._shape[i] != 1 and a._strides[i] != b._strides[i]):
            return False
    return True


cdef TensorBase contiguous(TensorBase t):
    """t itself if C-contiguous, else a contiguous copy."""
    if is_contiguous(t):
        return t
    cdef TensorBase out = new_tensor(t._dtype, t._ndim, t._shape)
    cdef int rc
    with nogil:
        rc = agc_copy(t._ndim, t._shape, t._dtype, t._data, t._strides, out._dtype, out._data, out._strides)
    check_rc(rc, "contiguous")
    return out


def make_contiguous(TensorBase t):
    return contiguous(t)


def clone(TensorBase t):
    cdef TensorBase out = new_tensor(t._dtype, t._ndim, t._shape)
    cdef int rc
    with nogil:
        rc = agc_copy(t._ndim, t._shape, t._dtype, t._data, t._strides, out._dtype, out._data, out._strides)
    check_rc(rc, "clone")
    return out


def cast(TensorBase t, int dtype):
    """A contiguous copy of t converted to dtype (t itself if the dtype already matches)."""
    if t._dtype == dtype:
        return t
    cdef TensorBase out = new_tensor(dtype, t._ndim, t._shape)
    cdef int rc
    with nogil:
        rc = agc_copy(t._ndim, t._shape, t._dtype, t._data, t._strides, dtype, out._data, out._strides)
    check_rc(rc, "to")
    return out


cdef int broadcast_strides_to(TensorBase t, int ndim, const int64_t *shape, int64_t *out_strides,
                              str op) except -1:
    """Strides of t broadcast to `shape` (right-aligned), 0 where t has size 1 or lacks the dim."""
    cdef int i, j
    cdef int off = ndim - t._ndim
    if off < 0:
        raise RuntimeError(f"{op}: cannot broadcast shape {tuple(t.shape)} to {shape_tuple(ndim, shape)}")
    for i in range(ndim):
        j = i - off
        if j < 0:
            out_strides[i] = 0
        elif t._shape[j] == shape[i]:
            out_strides[i] = t._strides[j] if shape[i] != 1 else 0
        elif t._shape[j] == 1:
            out_strides[i] = 0
        else:
            raise RuntimeError(f"{op}: cannot broadcast shape {tuple(t.shape)} to {shape_tuple(ndim, shape)}")
    return 0


cdef tuple shape_tuple(int ndim, const int64_t *shape):
    return tuple([shape[i] for i in range(ndim)])


def copy_(TensorBase dst, TensorBase src):
    """dst[...] = src, broadcasting src and casting to dst's dtype."""
    check_writable(dst, "copy_")
    check_no_internal_overlap(dst, "copy_")
    cdef int64_t ss[16]
    broadcast_strides_to(src, dst._ndim, dst._shape, ss, "copy_")
    cdef int rc
    if overlaps(dst, src) and not same_view(dst, src):
        src = clone(src)
        broadcast_strides_to(src, dst._ndim, dst._shape, ss, "copy_")
    with nogil:
        rc = agc_copy(dst._ndim, dst._shape, src._dtype, src._data, ss, dst._dtype, dst._data, dst._strides)
    check_rc(rc, "copy_")
    dst._storage.version += 1
    return dst


def fill_(TensorBase t, value):
    check_writable(t, "fill_")
    check_scalar_fits(t._dtype, value, "fill_")
    cdef double fv = 0
    cdef int64_t iv = 0
    if isinstance(value, bool):
        fv = 1.0 if value else 0.0
        iv = 1 if value else 0
    elif isinstance(value, int):
        if is_floating(t._dtype) or t._dtype == AGC_BOOL:
            fv = value
            iv = value != 0
        else:
            iv = value
            fv = iv
    else:
        fv = float(value)
        if t._dtype == AGC_BOOL:
            iv = fv != 0
        elif not is_floating(t._dtype):
            iv = <int64_t>fv  # in range: checked above
    if t._dtype == AGC_U8:
        iv = iv & 0xFF  # -255..-1 wrap to 1..255, as PyTorch's uint8 fill does
    cdef int rc
    with nogil:
        rc = agc_fill(t._ndim, t._shape, t._dtype, t._data, t._strides, fv, iv)
    check_rc(rc, "fill_")
    t._storage.version += 1
    return t


cdef double _TWO63 = 9223372036854775808.0
cdef double _F32_MAX = 3.4028234663852886e38


def check_scalar_fits(int dt, value, str op="fill_"):
    """Raise RuntimeError, as PyTorch does, when a Python number stored into a tensor of dtype dt would
    not fit: a float must be finite and within the integer type's range (truncation toward zero is
    fine), an int within the type's range (uint8 also takes -255..-1, wrapped), and a float stored as
    float32, float16 or bfloat16 must not be finite beyond that type's range. bool takes anything."""
    if dt == AGC_BOOL or dt == AGC_F64:
        return
    cdef double v
    ok = True
    if isinstance(value, bool):
        return
    if is_half(dt):  # PyTorch's rule: NaN and inf pass, finite values beyond the largest finite one do not
        try:
            v = float(value)
        except (TypeError, ValueError, OverflowError):
            raise TypeError(f"{op}: expected a number, got {type(value).__name__}") from None
        limit = 65504.0 if dt == AGC_F16 else 3.3895313892515355e38
        ok = isnan(v) or isinf(v) or -limit <= v <= limit
    elif isinstance(value, int):
        if dt == AGC_I64:
            ok = -2**63 <= value < 2**63
        elif dt == AGC_I32:
            ok = -2**31 <= value < 2**31
        elif dt == AGC_U8:
            ok = -255 <= value <= 255
    else:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{op}: expected a number, got {type(value).__name__}") from None
        if dt == AGC_F32:
            ok = isnan(v) or isinf(v) or -_F32_MAX <= v <= _F32_MAX
        elif isnan(v) or isinf(v):
            ok = False
        elif dt == AGC_I64:
            ok = -_TWO63 <= v < _TWO63
        elif dt == AGC_I32:
            ok = -2147483648.0 <= v <= 2147483647.0
        elif dt == AGC_U8:
            ok = 0.0 <= v <= 255.0
    if not ok:
        raise RuntimeError(f"{op}: value {value} cannot be converted to type {DTYPE_NAMES[dt]} without "
                           f"overflow")


def full(shape, value, int dtype):
    cdef TensorBase t = new_tensor_shape(dtype, shape)
    fill_(t, value)
    t._storage.version = 0
    return t
