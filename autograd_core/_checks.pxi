# _checks.pxi: the binding's argument checks, included first by _core.pyx. Each message about a bad
# argument is written here once; a wrapper passes the op's name and the argument's name, and the
# message says what was expected and what came. Kernel return codes become exceptions here too.


cdef int require_float(int dt, str op, object what, object got=None) except -1:
    """TypeError unless dt is float32 or float64. what: the argument(s) with their article ("an input",
    "tensors"), None when the argument is a dtype; got: what to report instead of dt's name (both
    operands' dtypes, say)."""
    if dt == AGC_F32 or dt == AGC_F64:
        return 0
    if got is None:
        got = DTYPE_NAMES[dt] if 0 <= dt < AGC_NDTYPES else f"dtype code {dt}"
    if what is None:  # the argument is a dtype
        raise TypeError(f"{op}: expected a floating point dtype (float32 or float64), got {got}")
    raise TypeError(f"{op}: expected {what} of a floating point dtype (float32 or float64), got {got}")


cdef TensorBase tensor_arg(object v, str op, str what, bint optional=False):
    """v as a tensor; None is returned when optional, else refused."""
    if v is None:
        if optional:
            return None
        raise TypeError(f"{op}: {what} is required")
    if not isinstance(v, TensorBase):
        raise TypeError(f"{op}: {what} must be a Tensor{' or None' if optional else ''}, got {type(v).__name__}")
    return <TensorBase>v


cdef int require_dtype(TensorBase t, int dt, str op, str what) except -1:
    if t._dtype != dt:
        raise TypeError(f"{op}: {what} has dtype {DTYPE_NAMES[t._dtype]}, expected {DTYPE_NAMES[dt]}")
    return 0


cdef int require_ndim(TensorBase t, int ndim, str op, str what) except -1:
    if t._ndim != ndim:
        raise ValueError(f"{op}: {what} must be {ndim}-D, got shape {tuple(t.shape)}")
    return 0


cdef int require_dtype_ndim(TensorBase t, int dt, int ndim, str op, str what) except -1:
    require_dtype(t, dt, op, what)
    return require_ndim(t, ndim, op, what)


cdef int require_shape(TensorBase t, tuple expected, str op, str what, type exc=ValueError) except -1:
    """exc (ValueError unless the op's contract says otherwise) unless t has shape `expected`."""
    cdef int i
    if t._ndim == len(expected):
        for i in range(t._ndim):
            if t._shape[i] != expected[i]:
                break
        else:
            return 0
    raise exc(f"{op}: expected {what} of shape {expected}, got {tuple(t.shape)}")


cdef int check_rc(int rc, str op) except -1:
    if rc == AGC_OK:
        return 0
    if rc == AGC_ENOMEM:
        raise MemoryError(f"{op}: out of memory")
    if rc == AGC_EUNSUPPORTED:
        raise TypeError(f"{op}: not implemented for this dtype")
    raise RuntimeError(f"{op}: kernel failed with code {rc}")


cdef int check_grad_like(TensorBase t, TensorBase g, str what) except -1:
    """g may be t's gradient: same shape and dtype (RuntimeError naming both otherwise)."""
    if g._ndim != t._ndim or any_diff(g._shape, t._shape, t._ndim):
        raise RuntimeError(f"{what}: a gradient of shape {tuple(g.shape)} does not match the tensor's shape "
                           f"{tuple(t.shape)}; a gradient must have the same shape as its tensor")
    if g._dtype != t._dtype:
        raise RuntimeError(f"{what}: a gradient of dtype {DTYPE_NAMES[g._dtype]} does not match the tensor's "
                           f"dtype {DTYPE_NAMES[t._dtype]}; a gradient must have its tensor's dtype")
    return 0


def check_grad(TensorBase t, TensorBase g, str what):
    """Raise unless g has t's shape and dtype."""
    check_grad_like(t, g, what)


cdef inline int wrap_dim(object dim, int ndim, str op) except -100:
    cdef int64_t d
    try:
        d = dim
    except TypeError:
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    cdef int n = ndim if ndim > 0 else 1
    if d < -n or d >= n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {d})")
    if d < 0:
        d += n
    return <int>d


def _wrap_dim(dim, int ndim, str op="op"):
    return wrap_dim(dim, ndim, op)


cdef int check_writable(TensorBase t, str op) except -1:
    if t._storage.readonly:
        raise RuntimeError(f"{op}: the tensor's memory is read-only (it wraps a read-only numpy array)")
    return 0


cdef int check_no_internal_overlap(TensorBase t, str op) except -1:
    """A tensor written element by element must not overlap itself: an expanded view would receive
    several writes per memory location, whose result depends on their order (PyTorch raises too).
    Sufficient test: sorted by stride, each dim steps over everything spanned by the dims below it."""
    cdef int64_t st[16]
    cdef int64_t sh[16]
    cdef int n = 0, i, j
    cdef int64_t span = 0, s, h
    for i in range(t._ndim):
        if t._shape[i] == 0:
            return 0
        if t._shape[i] > 1:
            st[n] = t._strides[i] if t._strides[i] >= 0 else -t._strides[i]
            sh[n] = t._shape[i]
            n += 1
    for i in range(1, n):
        j = i
        while j > 0 and st[j - 1] > st[j]:
            s = st[j]
            st[j] = st[j - 1]
            st[j - 1] = s
            h = sh[j]
            sh[j] = sh[j - 1]
            sh[j - 1] = h
            j -= 1
    for i in range(n):
        if st[i] <= span:
            raise RuntimeError(f"{op}: unsupported operation: more than one element of the written-to tensor "
                               f"(shape {tuple(t.shape)}, stride {t.stride()}) refers to a single memory "
                               f"location. Please clone() the tensor before performing the operation.")
        span += st[i] * (sh[i] - 1)
    return 0


def check_write_target(TensorBase t, str op, bint overlap_ok=False):
    """Raise unless t may be written in place: writable memory and, unless overlap_ok (fill_ and zero_
    write one value, so repeated writes agree), no element sharing memory with another."""
    check_writable(t, op)
    if not overlap_ok:
        check_no_internal_overlap(t, op)
