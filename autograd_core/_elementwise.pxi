# _elementwise.pxi: type promotion and the elementwise ops (agc_unary, agc_binary, agc_where):
# broadcasting, Python scalars, out= (included by _core.pyx). What each op accepts and returns
# comes from its registry row (agc.h).

# ------------------------------------------------------------------------------------------ type promotion
cdef int scalar_category(object s) except -2:
    if isinstance(s, bool):
        return 0
    if isinstance(s, int):
        return 1
    if isinstance(s, float):
        return 2
    return -1


cdef int promote_pair(int da, bint a_dimless, int db, bint b_dimless) noexcept:
    """PyTorch's rule for two tensors: dimensioned tensors win over 0-d ones within a category; a
    higher category always wins."""
    cdef int ca = CATEGORY[da], cb = CATEGORY[db]
    if da == db:
        return da
    if ca != cb:
        if ca > cb:
            return da
        return db
    if a_dimless and not b_dimless:
        return db
    if b_dimless and not a_dimless:
        return da
    return promote_same_category(da, db)


cdef int promote_same_category(int da, int db) noexcept:
    if CATEGORY[da] == 2:
        if da == AGC_F64 or db == AGC_F64:
            return AGC_F64
        # float16 with bfloat16 meets in float32, as in PyTorch (neither holds the other)
        return AGC_F32 if (da == AGC_F32 or db == AGC_F32 or da != db) else da
    if CATEGORY[da] == 1:
        if da == AGC_I64 or db == AGC_I64:
            return AGC_I64
        if da == AGC_I32 or db == AGC_I32:
            # uint8 with int32 gives int32
            return AGC_I32
        return AGC_U8
    return AGC_BOOL


cdef int promote_with_scalar(int dt, object s) except -2:
    cdef int cs = scalar_category(s)
    if cs < 0:
        raise TypeError(f"unsupported operand type {type(s).__name__}")
    if cs <= CATEGORY[dt]:
        return dt
    if cs == 2:
        return AGC_F32
    return AGC_I64


def result_type(a, b):
    """The dtype code of a binary op between a and b (tensors or Python scalars)."""
    return result_type_code(a, b)


cdef int result_type_code(object a, object b) except -2:
    cdef TensorBase ta, tb
    if isinstance(a, TensorBase):
        ta = a
        if isinstance(b, TensorBase):
            tb = b
            return promote_pair(ta._dtype, ta._ndim == 0, tb._dtype, tb._ndim == 0)
        return promote_with_scalar(ta._dtype, b)
    tb = b
    return promote_with_scalar(tb._dtype, a)


cdef inline int write_scalar(object s, int dt, char *buf) except -1:
    if dt == AGC_F32:
        (<float *>buf)[0] = <float><double>s
    elif dt == AGC_F64:
        (<double *>buf)[0] = <double>s
    elif dt == AGC_I64:
        (<int64_t *>buf)[0] = int(s)
    elif dt == AGC_I32:
        # a Python int operand wraps to the tensor's dtype, like PyTorch (int32 + 2**32 adds 0)
        (<int32_t *>buf)[0] = ((int(s) + 0x80000000) & 0xFFFFFFFF) - 0x80000000
    elif dt == AGC_U8:
        (<uint8_t *>buf)[0] = int(s) & 0xFF
    else:
        (<uint8_t *>buf)[0] = 1 if s else 0
    return 0


# ------------------------------------------------------------------------------------------ elementwise
cdef int broadcast_shapes(TensorBase a, TensorBase b, int64_t *shape, str op) except -1:
    cdef int nd = a._ndim if a._ndim > b._ndim else b._ndim
    cdef int i, ia, ib
    cdef int64_t sa, sb
    for i in range(nd):
        ia = i - (nd - a._ndim)
        ib = i - (nd - b._ndim)
        sa = a._shape[ia] if ia >= 0 else 1
        sb = b._shape[ib] if ib >= 0 else 1
        if sa == sb or sb == 1:
            shape[i] = sa
        elif sa == 1:
            shape[i] = sb
        else:
            raise RuntimeError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast "
                               f"together (size {sa} vs {sb} at dimension {i})")
    return nd


def broadcast_shape(shape_a, shape_b, str op="broadcast"):
    na, nb = len(shape_a), len(shape_b)
    nd = max(na, nb)
    out = []
    for i in range(nd):
        sa = shape_a[i - (nd - na)] if i - (nd - na) >= 0 else 1
        sb = shape_b[i - (nd - nb)] if i - (nd - nb) >= 0 else 1
        if sa == sb or sb == 1:
            out.append(sa)
        elif sa == 1:
            out.append(sb)
        else:
            raise RuntimeError(f"{op}: shapes {tuple(shape_a)} and {tuple(shape_b)} cannot be broadcast "
                               f"together (size {sa} vs {sb} at dimension {i})")
    return tuple(out)


def binary(int op, a, b, out=None):
    """out = op(a, b) with broadcasting and type promotion; a or b may be a Python scalar."""
    cdef TensorBase ta, tb, to
    cdef int dt, out_dt
    cdef int64_t shape[16]
    cdef int64_t sa[16]
    cdef int64_t sb[16]
    cdef char abuf[8]
    cdef char bbuf[8]
    cdef const void *pa
    cdef const void *pb
    cdef int nd, rc, i
    if not 0 <= op < AGC_NBINARY:
        raise ValueError(f"binary: unknown op code {op}; codes are the values of BINARY_OPS")
    cdef str name = _BINARY_NAMES[op]
    cdef unsigned flags = agc_binary_info[op].flags
    cdef bint a_t = isinstance(a, TensorBase), b_t = isinstance(b, TensorBase)
    if not a_t and not b_t:
        raise TypeError(f"{name}: at least one operand must be a tensor")
    dt = result_type_code(a, b)
    if (a_t and is_half((<TensorBase>a)._dtype)) or (b_t and is_half((<TensorBase>b)._dtype)) or \
            (out is not None and is_half((<TensorBase>out)._dtype)):
        r = binary(op, widen(a), widen(b))
        if is_half(dt):
            r = narrow(r, dt)
        return r if out is None else write_into(out, r, name)
    if (flags & AGC_OP_FLOAT) and not is_float(dt):
        dt = AGC_F32
    if op == AGC_BINARY_POW and not is_float(dt) and b_t == False and CATEGORY[dt] != 2:
        if scalar_category(b) == 1 and b < 0:
            raise RuntimeError(f"pow: integers to negative integer powers are not allowed")
    if (flags & AGC_OP_NO_FLOAT) and CATEGORY[dt] == 2:
        raise TypeError(f"{name}: not supported for floating point tensors")
    if out is not None:
        to = out
        if not (flags & AGC_OP_BOOL_OUT):
            if CATEGORY[dt] > CATEGORY[to._dtype]:
                raise RuntimeError(f"{name}: result type {DTYPE_NAMES[dt]} can't be cast to the desired "
                                   f"output type {DTYPE_NAMES[to._dtype]}")
            dt = to._dtype if CATEGORY[to._dtype] == CATEGORY[dt] or \
                not (flags & (AGC_OP_GRAD_OF_X | AGC_OP_GRAD_OF_Y)) else dt
    if a_t and b_t:
        ta = a
        tb = b
        nd = broadcast_shapes(ta, tb, shape, name)
    elif a_t:
        ta = a
        nd = ta._ndim
        for i in range(nd):
            shape[i] = ta._shape[i]
    else:
        tb = b
        nd = tb._ndim
        for i in range(nd):
            shape[i] = tb._shape[i]
    # operands in the compute dtype
    if a_t:
        ta = operand(ta, dt, nd, shape, sa, name)
        pa = ta._data
    else:
        pa = scalar_operand(a, dt, nd, abuf, sa)
    if b_t:
        tb = operand(tb, dt, nd, shape, sb, name)
        pb = tb._data
    else:
        pb = scalar_operand(b, dt, nd, bbuf, sb)
    out_dt = AGC_BOOL if flags & AGC_OP_BOOL_OUT else dt
    if out is None:
        to = new_tensor(out_dt, nd, shape)
    else:
        to = out
        check_writable(to, name)
        check_no_internal_overlap(to, name)
        if to._ndim != nd or any_diff(to._shape, shape, nd):
            raise RuntimeError(f"{name}: output with shape {tuple(to.shape)} doesn't match the broadcast "
                               f"shape {shape_tuple(nd, shape)}")
        if to._dtype != out_dt or (a_t and overlaps(to, ta) and not same_view(to, ta)) or \
                (b_t and overlaps(to, tb) and not same_view(to, tb)):
            tmp = binary(op, ta if a_t else a, tb if b_t else b)
            copy_(to, tmp)
            return to
        to._storage.version += 1
    if to._numel >= GIL_FREE_NUMEL:
        with nogil:
            rc = agc_binary(op, dt, nd, shape, pa, sa, pb, sb, to._data, to._strides)
    else:
        rc = agc_binary(op, dt, nd, shape, pa, sa, pb, sb, to._data, to._strides)
    if rc == AGC_EUNSUPPORTED:
        raise TypeError(f"{name}: not implemented for dtype {DTYPE_NAMES[dt]}")
    check_rc(rc, name)
    return to


cdef TensorBase operand(TensorBase t, int dt, int nd, const int64_t *shape, int64_t *strides, str op):
    """t in the compute dtype dt, with its strides broadcast to `shape` written into `strides`."""
    if t._dtype != dt:
        t = cast(t, dt)
    broadcast_strides_to(t, nd, shape, strides, op)
    return t


cdef const void *scalar_operand(object s, int dt, int nd, char *buf, int64_t *strides) except NULL:
    """A Python scalar written into buf as dtype dt, broadcast by zero strides."""
    cdef int i
    write_scalar(s, dt, buf)
    for i in range(nd):
        strides[i] = 0
    return buf


cdef inline bint any_diff(const int64_t *a, const int64_t *b, int n) noexcept:
    cdef int i
    for i in range(n):
        if a[i] != b[i]:
            return True
    return False


def unary(int op, TensorBase x, double p0=0.0, double p1=0.0, out=None):
    """out = op(x; p0, p1); FLOAT ops compute integer and bool inputs in float32."""
    if not 0 <= op < AGC_NUNARY:
        raise ValueError(f"unary: unknown op code {op}; codes are the values of UNARY_OPS")
    cdef str name = _UNARY_NAMES[op]
    cdef int out_dt = x._dtype
    cdef TensorBase to
    cdef int rc
    if is_half(x._dtype) or (out is not None and is_half((<TensorBase>out)._dtype)):
        r = unary(op, widen(x), p0, p1)
        if is_half(x._dtype):
            r = narrow(r, x._dtype)
        return r if out is None else write_into(out, r, name)
    if (agc_unary_info[op].flags & AGC_OP_FLOAT) and not is_float(x._dtype):
        # integer and bool inputs compute in float32, as for the binary FLOAT ops (torch's rule)
        x = cast(x, AGC_F32)
        out_dt = AGC_F32
    if op == AGC_UNARY_CLAMP and (x._dtype == AGC_I32 or x._dtype == AGC_U8):
        # bounds arrive as doubles (+-inf for an absent side); a finite bound must fit the dtype
        # (PyTorch wraps a uint8 bound in -128..-1 modulo 256, so clamp(max=-1) is clamp(max=255))
        lo, hi = (-2147483648.0, 2147483647.0) if x._dtype == AGC_I32 else (-128.0, 255.0)
        for p in (p0, p1):
            if p != INFINITY and p != -INFINITY and not (lo <= p <= hi):
                raise RuntimeError(f"clamp: bound {p:g} cannot be converted to type {DTYPE_NAMES[x._dtype]} "
                                   f"without overflow")
        if x._dtype == AGC_U8:
            if -INFINITY < p0 < 0:
                p0 += 256
            if -INFINITY < p1 < 0:
                p1 += 256
    if op == AGC_UNARY_LOGICAL_NOT and x._dtype != AGC_BOOL:
        x = binary(AGC_BINARY_NE, x, 0)  # logical_not(x) = not (x != 0)
    if agc_unary_info[op].flags & AGC_OP_BOOL_OUT:
        out_dt = AGC_BOOL
    if out is None:
        to = new_tensor(out_dt, x._ndim, x._shape)
    else:
        to = out
        check_writable(to, name)
        check_no_internal_overlap(to, name)
        if to._ndim != x._ndim or any_diff(to._shape, x._shape, x._ndim) or to._dtype != out_dt:
            raise RuntimeError(f"{name}: output {tuple(to.shape)} {DTYPE_NAMES[to._dtype]} doesn't match "
                               f"the result {tuple(x.shape)} {DTYPE_NAMES[out_dt]}")
        if overlaps(to, x) and not same_view(to, x):
            copy_(to, unary(op, x, p0, p1))
            return to
        to._storage.version += 1
    if to._numel >= GIL_FREE_NUMEL:
        with nogil:
            rc = agc_unary(op, x._dtype, x._ndim, x._shape, x._data, x._strides, to._data, to._strides, p0, p1)
    else:
        rc = agc_unary(op, x._dtype, x._ndim, x._shape, x._data, x._strides, to._data, to._strides, p0, p1)
    if rc == AGC_EUNSUPPORTED:
        raise TypeError(f"{name}: not implemented for dtype {DTYPE_NAMES[x._dtype]}")
    check_rc(rc, name)
    return to


def where(TensorBase cond, a, b):
    """cond ? a : b with broadcasting of all three; a/b may be Python scalars."""
    cdef TensorBase ta, tb, to
    cdef int64_t shape[16]
    cdef int64_t sc[16]
    cdef int64_t sa[16]
    cdef int64_t sb[16]
    cdef int nd, rc, dt
    if cond._dtype != AGC_BOOL:
        raise TypeError(f"where: condition must be a bool tensor, got {DTYPE_NAMES[cond._dtype]}")
    if half_of((a, b)) >= 0:  # selection only: exact through float32
        r = where(cond, widen(a), widen(b))
        dt = result_type(a, b)
        return narrow(r, dt) if is_half(dt) else r
    dt = result_type(a, b) if (isinstance(a, TensorBase) or isinstance(b, TensorBase)) else \
        (AGC_F32 if isinstance(a, float) or isinstance(b, float) else AGC_I64)
    ta = a if isinstance(a, TensorBase) else full((), a, dt)
    tb = b if isinstance(b, TensorBase) else full((), b, dt)
    if ta._dtype != dt:
        ta = cast(ta, dt)
    if tb._dtype != dt:
        tb = cast(tb, dt)
    shp = broadcast_shape(broadcast_shape(cond.shape, ta.shape, "where"), tb.shape, "where")
    nd = parse_shape(shp, shape, "where")
    broadcast_strides_to(cond, nd, shape, sc, "where")
    broadcast_strides_to(ta, nd, shape, sa, "where")
    broadcast_strides_to(tb, nd, shape, sb, "where")
    to = new_tensor(dt, nd, shape)
    with nogil:
        rc = agc_where(dt, nd, shape, <const uint8_t *>cond._data, sc, ta._data, sa, tb._data, sb,
                       to._data, to._strides)
    check_rc(rc, "where")
    return to
