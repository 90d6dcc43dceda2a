# _tensor.pxi: storage (owned or borrowed memory) and the tensor object: shape, strides, offset,
# dtype and the autograd fields; new tensors, views of a storage, wrapping a buffer (included by
# _core.pyx).

# ------------------------------------------------------------------------------------------ storage
# Tracked by the garbage collector so that a cycle through borrowed memory can be collected: a numpy
# array (subclass) that holds the tensor wrapping it refers to the tensor, which refers to its
# Storage, which refers back to the array. The exporter's reference lives in `owner` alone (the
# Py_buffer's own `obj` is parked at NULL while borrowed, see from_buffer), so the collector sees the
# whole loop. no_gc_clear: __dealloc__ needs `owner` to release the buffer; the cycle is broken by
# clearing the tensor or the array instead.
cdef extern from *:
    """
    /* the exporter's reference leaves the Py_buffer (the caller owns it) and comes back before release */
    static PyObject *agc_buffer_take_obj(Py_buffer *v, PyObject *fallback)
    {
        PyObject *o = v->obj;
        if (o == NULL) {
            o = fallback;
            Py_INCREF(o);
        }
        v->obj = NULL;
        return o;
    }
    static void agc_buffer_put_obj(Py_buffer *v, PyObject *o)
    {
        Py_INCREF(o);
        v->obj = o;
    }
    """
    object buffer_take_obj "agc_buffer_take_obj"(Py_buffer *v, object fallback)
    void buffer_put_obj "agc_buffer_put_obj"(Py_buffer *v, object o)


@cython.no_gc_clear
cdef class Storage:
    """A block of memory: owned (64-byte aligned, from agc_alloc) or borrowed from a buffer exporter."""

    def __cinit__(self):
        self.ptr = NULL
        self.nbytes = 0
        self.owner = None
        self.has_view = False
        self.readonly = False
        self.version = 0
        self.lo = 0
        self.hi = 0

    def __dealloc__(self):
        if self.has_view:
            buffer_put_obj(&self.view, self.owner)  # for PyBuffer_Release to drop
            PyBuffer_Release(&self.view)
            self.has_view = False
        elif self.ptr != NULL:
            agc_free(self.ptr)
        self.ptr = NULL

    @property
    def nbytes(self):
        return self.nbytes

    @property
    def data_ptr(self):
        return <size_t>self.ptr


cdef Storage alloc_storage(int64_t nbytes):
    cdef Storage s = Storage.__new__(Storage)
    s.ptr = <char *>agc_alloc(nbytes)
    if s.ptr == NULL:
        raise MemoryError(f"cannot allocate {nbytes} bytes for a tensor")
    s.nbytes = nbytes
    s.hi = nbytes
    return s


class Size(tuple):
    """The shape of a tensor: a tuple of ints."""

    def __repr__(self):
        return f"Size({list(self)!r})"

    def numel(self):
        cdef int64_t n = 1
        for d in self:
            n *= d
        return n


cdef object _TensorCls = None


class _SameMeta:
    """The marker TensorBase._input_meta returns for an input shaped like the output."""

    def __repr__(self):
        return "SAME_META"


SAME_META = _SameMeta()

# Elementwise kernels release the GIL from this many elements up: below it the kernel takes well
# under a microsecond, less than releasing and retaking the GIL costs (~0.1-0.2 us), and no other
# Python thread could do useful work in the gap.
cdef enum:
    GIL_FREE_NUMEL = 4096


def _set_tensor_class(cls):
    global _TensorCls
    _TensorCls = cls


# ------------------------------------------------------------------------------------------ tensor
cdef class TensorBase:
    """Metadata of a strided view into a Storage, plus the autograd fields."""

    def __cinit__(self):
        self._storage = None
        self._data = NULL
        self._ndim = 0
        self._numel = 1
        self._shape_t = None
        self._grad = None
        self.grad_fn = None
        self._base = None
        self._requires_grad = False
        self._output_nr = 0

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        # as PyTorch: a gradient has the tensor's shape and dtype, or optimizers and accumulation
        # would silently broadcast or convert it
        if value is not None:
            if not isinstance(value, TensorBase):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            check_grad_like(self, <TensorBase>value, "assigning .grad")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    def _attach(self, node, int output_nr):
        """Make this tensor output `output_nr` of graph node `node`."""
        self._requires_grad = True
        self.grad_fn = node
        self._output_nr = output_nr

    def _shape_is(self, shape):
        """True if this tensor's shape equals `shape` (compared without building a Size)."""
        cdef int i
        if len(shape) != self._ndim:
            return False
        for i in range(self._ndim):
            if shape[i] != self._shape[i]:
                return False
        return True

    def _same_meta(self, TensorBase other):
        """True if other has this tensor's shape and dtype."""
        cdef int i
        if other._ndim != self._ndim or other._dtype != self._dtype:
            return False
        for i in range(self._ndim):
            if other._shape[i] != self._shape[i]:
                return False
        return True

    def _input_meta(self, x):
        """What backward needs to know about input x of an op whose output is this tensor: None if
        x is not a tensor (a Python scalar), SAME_META if x has this tensor's shape and dtype (its
        gradient is the output's, unchanged), else x's (shape, dtype code)."""
        if not isinstance(x, TensorBase):
            return None
        if self._same_meta(<TensorBase>x):
            return SAME_META
        return (<TensorBase>x)._meta()

    def _attach_out_like(self, node, TensorBase x):
        """_attach_out(node, 0) for the one output of a node, returning the node's output-meta list:
        the list of x's node when this tensor has x's shape and dtype and x is the one output of its
        node (a chain of ops then shares one list instead of making a list and two tuples per op),
        else a new [meta]."""
        cdef list metas
        if not is_floating(self._dtype):
            return [self._meta()]
        self._requires_grad = True
        self.grad_fn = node
        self._output_nr = 0
        fn = x.grad_fn
        if fn is not None and self._same_meta(x):
            metas = fn._out_meta
            if len(metas) == 1:
                return metas
        return [self._meta()]

    def _attach_out(self, node, int output_nr):
        """Record this tensor as output `output_nr` of node (float dtypes only); return its metadata."""
        if is_floating(self._dtype):
            self._requires_grad = True
            self.grad_fn = node
            self._output_nr = output_nr
        return self._meta()

    def _meta(self):
        """(shape, dtype code): what backward needs to know about a tensor without keeping it."""
        if self._shape_t is not None:
            return (self._shape_t, self._dtype)
        cdef tuple shape = PyTuple_New(self._ndim)
        cdef int i
        cdef object d
        for i in range(self._ndim):
            d = self._shape[i]
            Py_INCREF(d)
            PyTuple_SET_ITEM(shape, i, d)
        return (shape, self._dtype)

    def _detach_graph(self):
        self.grad_fn = None
        self._requires_grad = False

    # ---- metadata
    @property
    def shape(self):
        if self._shape_t is None:
            self._shape_t = Size([self._shape[i] for i in range(self._ndim)])
        return self._shape_t

    @property
    def ndim(self):
        return self._ndim

    @property
    def _dtype_code(self):
        return self._dtype

    @property
    def itemsize(self):
        return self._itemsize

    @property
    def _version(self):
        return self._storage.version

    @property
    def _storage_offset(self):
        return self._offset

    @property
    def _data_ptr(self):
        return <size_t>self._data

    @property
    def _storage_obj(self):
        return self._storage

    def _bump_version(self):
        self._storage.version += 1

    def numel(self):
        return self._numel

    def dim(self):
        return self._ndim

    def storage_offset(self):
        return self._offset

    def data_ptr(self):
        return <size_t>self._data

    def stride(self, dim=None):
        if dim is None:
            return tuple([self._strides[i] for i in range(self._ndim)])
        return self._strides[wrap_dim(dim, self._ndim, "stride")]

    def size(self, dim=None):
        if dim is None:
            return self.shape
        return self._shape[wrap_dim(dim, self._ndim, "size")]

    def is_contiguous(self):
        return is_contiguous(self)

    def _same_storage(self, TensorBase other):
        return self._storage is other._storage

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if value and not is_floating(self._dtype):
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, "
                               f"got {DTYPE_NAMES[self._dtype]}")
        if not value and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; "
                               "use detach() to get a tensor that does not require grad")
        self._requires_grad = bool(value)

    # ---- buffer protocol: numpy sees the same memory
    def __getbuffer__(self, Py_buffer *buffer, int flags):
        if (flags & PyBUF_WRITABLE) and self._storage.readonly:
            raise BufferError("tensor memory is read-only")
        if (flags & PyBUF_FORMAT) and FORMATS[self._dtype] == NULL:
            raise BufferError(f"{DTYPE_NAMES[self._dtype]} has no buffer format (NumPy has no such dtype); "
                              f"convert first, e.g. with .float()")
        cdef Py_ssize_t *arr = <Py_ssize_t *>malloc(sizeof(Py_ssize_t) * 2 * (self._ndim + 1))
        if arr == NULL:
            raise MemoryError()
        cdef int i
        for i in range(self._ndim):
            arr[i] = self._shape[i]
            arr[self._ndim + i] = self._strides[i] * self._itemsize
        buffer.buf = self._data
        buffer.obj = self
        buffer.len = self._numel * self._itemsize
        buffer.readonly = self._storage.readonly
        buffer.itemsize = self._itemsize
        buffer.format = <char *>FORMATS[self._dtype] if (flags & PyBUF_FORMAT) else NULL
        buffer.ndim = self._ndim
        buffer.shape = arr
        buffer.strides = arr + self._ndim
        buffer.suboffsets = NULL
        buffer.internal = arr

    def __releasebuffer__(self, Py_buffer *buffer):
        free(buffer.internal)


cdef bint is_contiguous(TensorBase t) noexcept:
    cdef int64_t expected = 1
    cdef int i
    for i in range(t._ndim - 1, -1, -1):
        if t._shape[i] != 1:
            if t._strides[i] != expected:
                return False
            expected *= t._shape[i]
    return True


cdef inline void set_contiguous_strides(TensorBase t) noexcept:
    cdef int64_t s = 1
    cdef int i
    for i in range(t._ndim - 1, -1, -1):
        t._strides[i] = s
        s *= t._shape[i]


cdef int64_t checked_numel(int ndim, const int64_t *shape) except -1:
    """The number of elements of a shape, raising instead of overflowing int64."""
    cdef int64_t n = 1
    cdef int i
    for i in range(ndim):
        if shape[i] == 0:
            return 0
    for i in range(ndim):
        if shape[i] > 0 and n > INT64_MAX // shape[i]:
            # (RuntimeError as PyTorch: a size that cannot be computed, not memory that ran out)
            raise RuntimeError(f"shape {shape_tuple(ndim, shape)} has more than 2**63 elements")
        n *= shape[i]
    return n


cdef TensorBase new_tensor(int dtype, int ndim, const int64_t *shape):
    """A new contiguous, uninitialised tensor of the registered Tensor class."""
    cdef TensorBase t = <TensorBase>TensorBase.__new__(_TensorCls)
    cdef int64_t n = 1
    cdef int i
    if ndim > AGC_MAX_DIMS:
        raise ValueError(f"tensors have at most {AGC_MAX_DIMS} dimensions, got {ndim}")
    for i in range(ndim):
        if shape[i] < 0:
            raise ValueError(f"negative dimension {shape[i]} in shape "
                             f"{tuple([shape[j] for j in range(ndim)])}")
        t._shape[i] = shape[i]
    n = checked_numel(ndim, shape)
    if n > INT64_MAX // ITEMSIZE[dtype]:
        raise RuntimeError(f"a tensor of shape {shape_tuple(ndim, shape)} needs more than 2**63 bytes")
    t._ndim = ndim
    t._numel = n
    t._dtype = dtype
    t._itemsize = ITEMSIZE[dtype]
    t._storage = alloc_storage(n * t._itemsize)
    t._data = t._storage.ptr
    t._offset = 0
    set_contiguous_strides(t)
    return t


cdef int read_shape(object shape, int64_t *out, str op) except -1:
    """Copy a sequence of ints into out (no sign check); returns its length."""
    cdef int n, i
    try:
        n = len(shape)
    except TypeError:
        raise TypeError(f"{op}: shape must be a sequence of ints, got {type(shape).__name__}")
    if n > AGC_MAX_DIMS:
        raise ValueError(f"{op}: tensors have at most {AGC_MAX_DIMS} dimensions, got {n}")
    for i in range(n):
        try:
            out[i] = shape[i].__index__()
        except (AttributeError, TypeError):
            raise TypeError(f"{op}: shape must contain ints, got {shape!r}")
    return n


cdef int parse_shape(object shape, int64_t *out, str op) except -1:
    cdef int n = read_shape(shape, out, op), i
    for i in range(n):
        if out[i] < 0:
            raise ValueError(f"{op}: negative dimension {out[i]} in shape {tuple(shape)}")
    return n


cdef TensorBase new_tensor_shape(int dtype, object shape):
    cdef int64_t buf[16]
    cdef int n = parse_shape(shape, buf, "empty")
    return new_tensor(dtype, n, buf)


def empty(shape, int dtype):
    return new_tensor_shape(dtype, shape)


cdef TensorBase make_view(TensorBase src, int ndim, const int64_t *shape, const int64_t *strides,
                          int64_t offset):
    """A view sharing src's storage. offset is in elements from the storage start."""
    cdef TensorBase t = <TensorBase>TensorBase.__new__(_TensorCls)
    cdef int64_t n = checked_numel(ndim, shape)
    cdef int i
    for i in range(ndim):
        t._shape[i] = shape[i]
        t._strides[i] = strides[i]
    t._ndim = ndim
    t._numel = n
    t._dtype = src._dtype
    t._itemsize = src._itemsize
    t._storage = src._storage
    t._offset = offset
    t._data = src._storage.ptr + offset * src._itemsize
    t._base = src._base if src._base is not None else src
    return t


def assign_meta(TensorBase dst, TensorBase src):
    """Make dst view exactly what src views (tensor.data = other, Tensor(...) construction)."""
    cdef int i
    dst._storage = src._storage
    dst._data = src._data
    dst._offset = src._offset
    dst._ndim = src._ndim
    dst._dtype = src._dtype
    dst._itemsize = src._itemsize
    dst._numel = src._numel
    for i in range(src._ndim):
        dst._shape[i] = src._shape[i]
        dst._strides[i] = src._strides[i]
    dst._shape_t = None
    dst._base = src._base


def alias(TensorBase src):
    """A new tensor object viewing exactly the same elements as src."""
    return make_view(src, src._ndim, src._shape, src._strides, src._offset)


def data_alias(TensorBase src):
    """A new tensor object viewing src's elements that does not keep src alive: its base is src's
    base (None if src is not a view). What a graph node saves of its own output."""
    cdef TensorBase t = make_view(src, src._ndim, src._shape, src._strides, src._offset)
    t._base = src._base
    return t


def as_strided(TensorBase src, shape, strides, offset=None):
    """A view of src's storage with the given shape, strides and offset (elements), checked to stay
    inside the memory the storage owns or borrows."""
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef int n = parse_shape(shape, sh, "as_strided")
    cdef int i
    if len(strides) != n:
        raise ValueError(f"as_strided: shape {tuple(shape)} and strides {tuple(strides)} differ in length")
    for i in range(n):
        st[i] = strides[i]
    cdef int64_t off = src._offset if offset is None else offset
    # the extent in Python integers, which cannot overflow whatever the strides
    lo = hi = int(off)
    empty = False
    for i in range(n):
        if sh[i] == 0:
            empty = True
        elif st[i] > 0:
            hi += int(st[i]) * (sh[i] - 1)
        else:
            lo += int(st[i]) * (sh[i] - 1)
    item = src._itemsize
    if empty:  # no element is reached, but the data pointer must still point into the storage
        lo = hi = int(off)
        hi -= 1
    if not (src._storage.lo <= lo * item and (hi + 1) * item <= src._storage.hi):
        raise ValueError(f"as_strided: shape {tuple(shape)}, strides {tuple(strides)} and offset {off} "
                         f"reach outside the storage of {src._storage.nbytes // item} elements")
    return make_view(src, n, sh, st, off)


def from_buffer(obj):
    """Wrap an object exporting the buffer protocol (a numpy array) without copying."""
    cdef Storage s = Storage.__new__(Storage)
    cdef int flags = PyBUF_RECORDS_RO
    PyObject_GetBuffer(obj, &s.view, flags)
    s.has_view = True
    s.owner = buffer_take_obj(&s.view, obj)
    s.readonly = s.view.readonly
    s.ptr = <char *>s.view.buf
    s.nbytes = s.view.len
    fmt = (s.view.format or b"B").decode()
    fmt = fmt.lstrip("<=@")
    if fmt not in _NP_CODES:
        raise TypeError(f"from_numpy: unsupported dtype with buffer format {fmt!r}; supported are "
                        f"float32, float64, int64, int32, uint8 and bool")
    cdef int dt = _NP_CODES[fmt]
    if s.view.itemsize != ITEMSIZE[dt]:
        raise TypeError(f"from_numpy: unsupported item size {s.view.itemsize} for format {fmt!r}")
    cdef TensorBase t = <TensorBase>TensorBase.__new__(_TensorCls)
    cdef int i
    if s.view.ndim > AGC_MAX_DIMS:
        raise ValueError(f"from_numpy: at most {AGC_MAX_DIMS} dimensions are supported, got {s.view.ndim}")
    t._ndim = s.view.ndim
    t._numel = 1
    for i in range(t._ndim):
        t._shape[i] = s.view.shape[i]
        t._numel *= s.view.shape[i]
        if s.view.strides[i] % s.view.itemsize != 0:
            raise ValueError("from_numpy: strides that are not a multiple of the element size are "
                             "not supported; pass np.ascontiguousarray(a)")
        t._strides[i] = s.view.strides[i] // s.view.itemsize
    # the bytes the exporter vouches for: the extent of its own shape and strides around buf
    s.lo = 0
    s.hi = 0 if t._numel == 0 else s.view.itemsize
    if t._numel > 0:
        for i in range(t._ndim):
            if s.view.strides[i] > 0:
                s.hi += s.view.strides[i] * (t._shape[i] - 1)
            else:
                s.lo += s.view.strides[i] * (t._shape[i] - 1)
    t._dtype = dt
    t._itemsize = ITEMSIZE[dt]
    t._storage = s
    t._offset = 0
    t._data = s.ptr
    return t
