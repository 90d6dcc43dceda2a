# cython: freethreading_compatible = False
"""_core: the binding between Python and the C kernels in csrc/.

Owns the storage object and tensor metadata (shape, strides, offset, dtype), checks every argument,
raising Python exceptions that name the op and the shapes, then releases the GIL and calls C.
Tensors are created here directly as instances of the Python class registered with
`_set_tensor_class` (autograd_core.tensor.Tensor), so results need no wrapping.
"""
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_RECORDS_RO, PyBUF_WRITABLE
from cpython.buffer cimport PyBUF_FORMAT, PyBUF_ND, PyBUF_STRIDES
cimport cython
from libc.stdint cimport int64_t, uint64_t, uint8_t, int32_t, INT64_MAX
from libc.string cimport memcpy, memset
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.ref cimport Py_INCREF
from libc.stdlib cimport malloc, free
from libc.math cimport INFINITY, isnan, isinf

import os as _os

# ------------------------------------------------------------------------------------------ dtypes
DTYPE_NAMES = ("float32", "float64", "int64", "bool", "int32", "uint8", "float16", "bfloat16")
cdef int64_t ITEMSIZE[8]
ITEMSIZE[:] = [4, 8, 8, 1, 4, 1, 2, 2]
cdef const char *FORMATS[8]
FORMATS[0] = b"f"
FORMATS[1] = b"d"
FORMATS[2] = b"q"
FORMATS[3] = b"?"
FORMATS[4] = b"i"
FORMATS[5] = b"B"
FORMATS[6] = b"e"
FORMATS[7] = NULL  # bfloat16 has no buffer-protocol format (NumPy has no bfloat16)
F32 = AGC_F32
F64 = AGC_F64
I64 = AGC_I64
BOOL = AGC_BOOL
I32 = AGC_I32
U8 = AGC_U8
F16 = AGC_F16
BF16 = AGC_BF16

# category: 0 bool, 1 integer, 2 floating
cdef int CATEGORY[8]
CATEGORY[:] = [2, 2, 1, 0, 1, 1, 2, 2]

# is_float: the dtypes the kernels compute in; is_half: the storage-only floats, which the compute
# entries below route through float32 (half_call); is_floating: either (what may require grad)
cdef inline bint is_float(int dt) noexcept:
    return dt == AGC_F32 or dt == AGC_F64


cdef inline bint is_half(int dt) noexcept:
    return dt == AGC_F16 or dt == AGC_BF16


cdef inline bint is_floating(int dt) noexcept:
    return is_float(dt) or is_half(dt)


def is_floating_code(int dt):
    return is_floating(dt)

# numpy dtype char -> code
_NP_CODES = {"f": AGC_F32, "d": AGC_F64, "q": AGC_I64, "l": AGC_I64, "?": AGC_BOOL, "i": AGC_I32,
             "B": AGC_U8, "e": AGC_F16}
_NP_NAMES = {"float32": AGC_F32, "float64": AGC_F64, "int64": AGC_I64, "bool": AGC_BOOL,
             "int32": AGC_I32, "uint8": AGC_U8, "float16": AGC_F16}

agc_init()
if agc_init_error() != NULL:
    raise ImportError(f"autograd_core: {agc_init_error().decode()}")

UNARY_OPS = {}
BINARY_OPS = {}
REDUCE_OPS = {}
_unary_names = ["neg", "abs", "sign", "square", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "sin",
                "cos", "tanh", "sigmoid", "relu", "floor", "ceil", "round", "reciprocal", "isnan",
                "isfinite", "logical_not", "clamp", "leaky_relu", "pow_scalar", "rpow_scalar", "affine",
                "elu", "softplus", "gelu", "gelu_tanh", "silu", "erf"]
_binary_names = ["add", "sub", "mul", "div", "floordiv", "mod", "pow", "maximum", "minimum", "eq", "ne",
                 "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor", "atan2", "fmod",
                 "sigmoid_bwd", "tanh_bwd", "relu_bwd", "silu_bwd", "gelu_bwd", "gelu_tanh_bwd",
                 "softplus_bwd", "elu_bwd"]
_reduce_names = ["sum", "mean", "prod", "max", "min", "all", "any", "var", "logsumexp", "norm2", "normp",
                 "sumsq", "std"]
assert len(_unary_names) == AGC_NUNARY and len(_binary_names) == AGC_NBINARY
assert len(_reduce_names) == AGC_NREDUCE
for _i, _n in enumerate(_unary_names):
    UNARY_OPS[_n] = _i
for _i, _n in enumerate(_binary_names):
    BINARY_OPS[_n] = _i
for _i, _n in enumerate(_reduce_names):
    REDUCE_OPS[_n] = _i

# op codes used inside this file
cdef enum:
    U_NEG = 0
    U_ISNAN = 19
    U_ISFINITE = 20
    U_LOGICAL_NOT = 21
    U_CLAMP = 22
    B_ADD = 0
    B_SUB = 1
    B_MUL = 2
    B_DIV = 3
    B_FLOORDIV = 4
    B_MOD = 5
    B_POW = 6
    B_EQ = 9
    B_GE = 14
    B_LAND = 15
    B_LXOR = 17
    B_ATAN2 = 18
    B_FMOD = 19
    B_FIRST_BWD = 20  # the fused backward helpers, float only, from here on
    R_SUM = 0
    R_MEAN = 1
    R_PROD = 2
    R_MAX = 3
    R_MIN = 4
    R_ALL = 5
    R_ANY = 6
    R_VAR = 7

assert UNARY_OPS["isnan"] == U_ISNAN and UNARY_OPS["logical_not"] == U_LOGICAL_NOT
assert UNARY_OPS["clamp"] == U_CLAMP
assert BINARY_OPS["eq"] == B_EQ and BINARY_OPS["ge"] == B_GE and BINARY_OPS["atan2"] == B_ATAN2
assert BINARY_OPS["fmod"] == B_FMOD and BINARY_OPS["sigmoid_bwd"] == B_FIRST_BWD
assert REDUCE_OPS["var"] == R_VAR


SIMD_TARGETS = tuple(agc_isa_name(<agc_isa>i).decode() for i in range(AGC_NISA))


def simd_target():
    """The SIMD tier in use: 'portable', 'avx2' or 'avx512' (see SIMD_TARGETS, narrowest first)."""
    return agc_simd_target().decode()


def simd_targets():
    """The SIMD tiers this CPU and its operating system can run, narrowest first."""
    return [agc_isa_name(<agc_isa>i).decode() for i in range(AGC_NISA) if agc_isa_available(<agc_isa>i)]


def set_simd_target(str name):
    """Switch kernels to another SIMD tier (tests run every tier in one process)."""
    cdef bytes b = name.encode()
    if agc_set_simd_target(b) != 0:
        if name not in SIMD_TARGETS:
            raise ValueError(f"set_simd_target: unknown target {name!r}; expected one of {SIMD_TARGETS}")
        raise ValueError(f"set_simd_target: target {name!r} is not available on this CPU "
                         f"(available: {simd_targets()})")


def set_num_threads(int n):
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    agc_set_num_threads(n)


def get_num_threads():
    return agc_get_num_threads()


cdef extern from *:
    """
    /* Grad and anomaly mode (inference mode is a no_grad): one copy per OS thread, as in PyTorch.
     * A thread starts with grad enabled and anomaly mode off. */
    static _Thread_local int agc_tls_grad_disabled = 0;
    static _Thread_local int agc_tls_anomaly = 0;
    static _Thread_local int agc_tls_anomaly_inf = 0;
    """
    int agc_tls_grad_disabled
    int agc_tls_anomaly
    int agc_tls_anomaly_inf


cdef class ModeState:
    """The calling thread's autograd modes (autograd.grad_mode.state is the one instance). Each
    attribute reads and writes a C thread-local, so `with no_grad():` in one thread never changes
    what another thread records; a property costs ~20 ns where threading.local costs ~40."""

    @property
    def enabled(self):
        return agc_tls_grad_disabled == 0

    @enabled.setter
    def enabled(self, value):
        global agc_tls_grad_disabled
        agc_tls_grad_disabled = 0 if value else 1

    @property
    def anomaly(self):
        return agc_tls_anomaly != 0

    @anomaly.setter
    def anomaly(self, value):
        global agc_tls_anomaly
        agc_tls_anomaly = 1 if value else 0

    @property
    def anomaly_check_inf(self):
        return agc_tls_anomaly_inf != 0

    @anomaly_check_inf.setter
    def anomaly_check_inf(self, value):
        global agc_tls_anomaly_inf
        agc_tls_anomaly_inf = 1 if value else 0


_PERTURB_MODES = {"off": 0, "victim": 1, "random": 2}


def set_schedule_perturbation(str mode="off", int victim=0, int delay_us=200, seed=0):
    """Test switch: sleep at the threaded kernels' perturbation points so that the interleavings a
    busy machine causes happen on a quiet one. 'victim': thread `victim` of each parallel region
    sleeps `delay_us` at every point; 'random': each thread sleeps a pseudo-random 0..delay_us at a
    quarter of the points (seeded); 'off' (the default) costs one predicted branch per point."""
    if mode not in _PERTURB_MODES:
        raise ValueError(f"set_schedule_perturbation: mode must be one of {sorted(_PERTURB_MODES)}, got {mode!r}")
    if victim < 0 or delay_us < 0 or delay_us > 100000:
        raise ValueError("set_schedule_perturbation: expected victim >= 0 and 0 <= delay_us <= 100000, "
                         f"got victim={victim}, delay_us={delay_us}")
    agc_set_perturbation(_PERTURB_MODES[mode], victim, delay_us, <uint64_t>(int(seed) & 0xFFFFFFFFFFFFFFFF))


def set_adaptive_threads(bint on):
    """Turn the adaptive thread cap on (the default) or off. With it on, kernels use fewer threads
    for a while when workers start late because other processes hold the cores (see csrc/cpu.c);
    results never change, only speed."""
    agc_set_adaptive_threads(on)


def thread_stats():
    """The adaptive thread cap's state: whether it is on, how many threads a kernel may use now,
    late worker starts seen, how often the cap engaged, and fork decisions it reduced."""
    cdef int64_t out[5]
    agc_thread_stats(out)
    return {"adaptive": bool(out[0]), "threads_now": out[1], "late_starts": out[2], "engaged": out[3],
            "capped_forks": out[4]}


def get_schedule_perturbation():
    """The perturbation mode in force: 'off', 'victim' or 'random'."""
    cdef int m = agc_get_perturbation()
    return {v: k for k, v in _PERTURB_MODES.items()}[m]


cdef int check_rc(int rc, str op) except -1:
    if rc == AGC_OK:
        return 0
    if rc == AGC_ENOMEM:
        raise MemoryError(f"{op}: out of memory")
    if rc == AGC_EUNSUPPORTED:
        raise TypeError(f"{op}: not implemented for this dtype")
    raise RuntimeError(f"{op}: kernel failed with code {rc}")


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


cdef inline bint is_compare(int op) noexcept:
    return B_EQ <= op <= B_GE


cdef inline bint is_logical(int op) noexcept:
    return B_LAND <= op <= B_LXOR


# ------------------------------------------------------------------------------------------ half
# float16 and bfloat16 are storage types. An op on them computes in float32 and rounds its result to
# the half dtype, as PyTorch's CPU kernels accumulate half in float32: each compute entry of the
# binding starts with a one-line check that sends half operands here. Autograd needs nothing more:
# a Function's forward and backward call these same entries.
cdef object widen(object t):
    if isinstance(t, TensorBase) and is_half((<TensorBase>t)._dtype):
        return cast(t, AGC_F32)
    if isinstance(t, (tuple, list)):
        return type(t)([widen(e) for e in t])
    return t


cdef object narrow(object r, int dt):
    """Round float32 results (a tensor or a tuple of them) to half dtype dt; others pass."""
    if isinstance(r, TensorBase):
        return cast(r, dt) if (<TensorBase>r)._dtype == AGC_F32 else r
    if isinstance(r, tuple):
        return tuple([narrow(e, dt) for e in r])
    return r


cdef int half_of(tuple args) noexcept:
    """The first half dtype among args (tensors, or sequences of tensors), else -1."""
    cdef int dt
    for a in args:
        if isinstance(a, TensorBase):
            if is_half((<TensorBase>a)._dtype):
                return (<TensorBase>a)._dtype
        elif isinstance(a, (tuple, list)):
            dt = half_of(tuple(a))
            if dt >= 0:
                return dt
    return -1


def half_call(fn, int dt, *args, **kwargs):
    """fn(*args, **kwargs) with its half tensors widened to float32 and its float32 results rounded
    to dt."""
    return narrow(fn(*widen(args), **{k: widen(v) for k, v in kwargs.items()}), dt)


def half_inplace(fn, *args, **kwargs):
    """fn(*args, **kwargs) for a kernel that updates its tensor arguments in place (an optimizer step,
    an accumulating scatter): half tensors are widened, and written back rounded afterwards."""
    wide = widen(args)
    result = fn(*wide, **kwargs)
    for a, w in zip(args, wide):
        if w is not a and isinstance(a, TensorBase):
            copy_(a, w)
    return result


cdef object write_into(TensorBase to, TensorBase r, str name):
    """Copy a result computed in float32 into out=, with binary's category rule."""
    if CATEGORY[r._dtype] > CATEGORY[to._dtype]:
        raise RuntimeError(f"{name}: result type {DTYPE_NAMES[r._dtype]} can't be cast to the desired output type "
                           f"{DTYPE_NAMES[to._dtype]}")
    copy_(to, r)
    return to


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
    cdef str name = _binary_names[op] if 0 <= op < AGC_NBINARY else "binary"
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
    if (op == B_DIV or op == B_ATAN2 or op >= B_FIRST_BWD) and not is_float(dt):
        dt = AGC_F32
    if op == B_POW and not is_float(dt) and b_t == False and CATEGORY[dt] != 2:
        if scalar_category(b) == 1 and b < 0:
            raise RuntimeError(f"pow: integers to negative integer powers are not allowed")
    if is_logical(op) and CATEGORY[dt] == 2:
        raise TypeError(f"{name}: not supported for floating point tensors")
    if out is not None:
        to = out
        if not is_compare(op):
            if CATEGORY[dt] > CATEGORY[to._dtype]:
                raise RuntimeError(f"{name}: result type {DTYPE_NAMES[dt]} can't be cast to the desired "
                                   f"output type {DTYPE_NAMES[to._dtype]}")
            dt = to._dtype if CATEGORY[to._dtype] == CATEGORY[dt] or op < B_FIRST_BWD else dt
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
    out_dt = AGC_BOOL if is_compare(op) else dt
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
    """out = op(x; p0, p1)."""
    cdef str name = _unary_names[op] if 0 <= op < AGC_NUNARY else "unary"
    cdef int out_dt = x._dtype
    cdef TensorBase to
    cdef int rc
    if is_half(x._dtype) or (out is not None and is_half((<TensorBase>out)._dtype)):
        r = unary(op, widen(x), p0, p1)
        if is_half(x._dtype):
            r = narrow(r, x._dtype)
        return r if out is None else write_into(out, r, name)
    if op == U_CLAMP and (x._dtype == AGC_I32 or x._dtype == AGC_U8):
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
    if op == U_ISNAN or op == U_ISFINITE:
        out_dt = AGC_BOOL
    elif op == U_LOGICAL_NOT:
        if x._dtype != AGC_BOOL:
            x = binary(BINARY_OPS["ne"], x, 0)  # logical_not(x) = not (x != 0)
        out_dt = AGC_BOOL
    if out is None:
        to = new_tensor(out_dt, x._ndim, x._shape)
    else:
        to = out
        check_writable(to, name)
        check_no_internal_overlap(to, name)
        if to._ndim != x._ndim or any_diff(to._shape, x._shape, x._ndim) or to._dtype != out_dt:
            raise RuntimeError(f"{name}: output {tuple(to.shape)} {DTYPE_NAMES[to._dtype]} doesn't match "
                               f"the input {tuple(x.shape)} {DTYPE_NAMES[out_dt]}")
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
    if is_half(x._dtype):
        if out_dtype is None or is_half(out_dtype):
            return half_call(reduce, x._dtype if out_dtype is None else out_dtype, op, x, dims, keepdim, p0,
                             with_index)
        return reduce(op, widen(x), dims, keepdim, p0, with_index, out_dtype)  # sum(dtype=float32 or float64)
    cdef str name = _reduce_names[op] if 0 <= op < AGC_NREDUCE else "reduce"
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
    if op == R_ALL or op == R_ANY:
        if x._dtype != AGC_BOOL:
            x = binary(BINARY_OPS["ne"], x, 0)
            if dt == AGC_U8:  # PyTorch keeps uint8 for all/any of a uint8 tensor
                return cast(reduce(op, x, dims, keepdim), AGC_U8)
            return reduce(op, x, dims, keepdim)
    elif (x._dtype == AGC_U8 or x._dtype == AGC_I32) and op in (R_SUM, R_PROD, R_MAX, R_MIN):
        pass  # read in their own width by the kernel; sum and prod write int64 (below), like torch
    elif x._dtype == AGC_BOOL or x._dtype == AGC_U8 or x._dtype == AGC_I32:
        if op == R_SUM or op == R_PROD:
            x = cast(x, AGC_I64)
            return reduce(op, x, dims, keepdim, p0, with_index)
        if op != R_MAX and op != R_MIN:
            raise TypeError(f"{name}: not supported for dtype {DTYPE_NAMES[x._dtype]}; convert with "
                            f".float() first")
        x = cast(x, AGC_I64)
        r = reduce(op, x, dims, keepdim, p0, with_index)
        if with_index:
            return cast(r[0], dt), r[1]
        return cast(r, dt)
    elif not is_float(x._dtype) and op not in (R_SUM, R_PROD, R_MAX, R_MIN):
        raise TypeError(f"{name}(): input dtype must be floating point, got {DTYPE_NAMES[x._dtype]}")
    if nreduced == 0 and (op == R_MAX or op == R_MIN):
        raise IndexError(f"{name}(): expected a non-empty tensor to reduce over, got shape {tuple(x.shape)} "
                         f"reducing dims {dims}")
    cdef int odt = AGC_BOOL if (op == R_ALL or op == R_ANY) else x._dtype
    if (op == R_SUM or op == R_PROD) and (x._dtype == AGC_U8 or x._dtype == AGC_I32):
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
    if not is_float(x._dtype):
        raise TypeError(f"softmax: expected a floating point tensor, got {DTYPE_NAMES[x._dtype]}")
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


# ------------------------------------------------------------------------------------------ views
def view(TensorBase x, shape):
    """A view with a new shape; raises if the strides cannot express it (like torch.view)."""
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef int n = infer_shape(x, shape, sh, "view")
    if not view_strides(x, n, sh, st):
        raise RuntimeError(f"view: view size {shape_tuple(n, sh)} is not compatible with input tensor's size "
                           f"{tuple(x.shape)} and stride {x.stride()} (at least one dimension spans across "
                           f"two contiguous subspaces). Use .reshape(...) instead.")
    return make_view(x, n, sh, st, x._offset)


def reshape(TensorBase x, shape):
    """A view when the strides allow it, else a contiguous copy."""
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef int n = infer_shape(x, shape, sh, "reshape")
    if view_strides(x, n, sh, st):
        return make_view(x, n, sh, st, x._offset)
    cdef TensorBase c = contiguous(x)
    set_strides_for(n, sh, st)
    return make_view(c, n, sh, st, c._offset)


cdef void set_strides_for(int n, const int64_t *sh, int64_t *st) noexcept:
    cdef int64_t s = 1
    cdef int i
    for i in range(n - 1, -1, -1):
        st[i] = s
        s *= sh[i]


cdef int infer_shape(TensorBase x, object shape, int64_t *sh, str op) except -1:
    cdef int n = read_shape(shape, sh, op), i, infer = -1
    cdef int64_t prod = 1
    cdef bint overflow = False
    for i in range(n):
        if sh[i] == -1:
            if infer >= 0:
                raise RuntimeError(f"{op}: only one dimension can be inferred, got shape {tuple(shape)}")
            infer = i
        elif sh[i] < 0:
            raise RuntimeError(f"{op}: invalid shape dimension {sh[i]} in {tuple(shape)}")
        elif sh[i] == 0:
            prod = 0
        elif prod != 0:
            if prod > INT64_MAX // sh[i]:
                overflow = True  # unless a later 0 makes the shape empty
            else:
                prod *= sh[i]
    if overflow and prod != 0:
        raise RuntimeError(f"{op}: shape {tuple(shape)} is invalid for input of size {x._numel} "
                           f"(input shape {tuple(x.shape)})")
    if infer >= 0:
        if prod == 0 or x._numel % prod != 0:
            raise RuntimeError(f"{op}: shape {tuple(shape)} is invalid for input of size {x._numel}")
        sh[infer] = x._numel // prod
        prod *= sh[infer]
    if prod != x._numel:
        raise RuntimeError(f"{op}: shape {tuple(shape)} is invalid for input of size {x._numel} "
                           f"(input shape {tuple(x.shape)})")
    return n


cdef bint view_strides(TensorBase x, int n, const int64_t *sh, int64_t *st) noexcept:
    """Strides for viewing x as shape sh without copying, if possible: walk the old dims from the
    innermost out in chunks that are contiguous with each other, and give each chunk's elements to
    new dims."""
    cdef int od = x._ndim
    if x._numel == 0 or od == 0:
        set_strides_for(n, sh, st)
        return True
    cdef int view_d = n - 1, td
    cdef int64_t chunk_base = x._strides[od - 1]
    cdef int64_t tensor_numel = 1, view_numel = 1
    for td in range(od - 1, -1, -1):
        tensor_numel *= x._shape[td]
        if td == 0 or (x._shape[td - 1] != 1 and x._strides[td - 1] != tensor_numel * chunk_base):
            while view_d >= 0 and (view_numel < tensor_numel or sh[view_d] == 1):
                st[view_d] = view_numel * chunk_base
                view_numel *= sh[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return False
            if td > 0:
                chunk_base = x._strides[td - 1]
                tensor_numel = 1
                view_numel = 1
    return view_d == -1


def permute(TensorBase x, dims):
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef bint seen[16]
    cdef int n = x._ndim, i, d
    if len(dims) != n:
        raise RuntimeError(f"permute: number of dims {len(dims)} doesn't match the tensor's {n} dimensions "
                           f"(shape {tuple(x.shape)})")
    for i in range(n):
        seen[i] = False
    for i in range(n):
        d = wrap_dim(dims[i], n, "permute")
        if seen[d]:
            raise RuntimeError(f"permute: repeated dim {d} in {tuple(dims)}")
        seen[d] = True
        sh[i] = x._shape[d]
        st[i] = x._strides[d]
    return make_view(x, n, sh, st, x._offset)


def transpose(TensorBase x, d0, d1):
    cdef int a = wrap_dim(d0, x._ndim, "transpose"), b = wrap_dim(d1, x._ndim, "transpose")
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef int i
    for i in range(x._ndim):
        sh[i] = x._shape[i]
        st[i] = x._strides[i]
    if x._ndim >= 2 or a != b:
        sh[a], sh[b] = x._shape[b], x._shape[a]
        st[a], st[b] = x._strides[b], x._strides[a]
    return make_view(x, x._ndim, sh, st, x._offset)


def expand(TensorBase x, shape):
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef int n = len(shape), i, j
    if n < x._ndim:
        raise RuntimeError(f"expand: the number of sizes provided ({n}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({x._ndim})")
    if n > AGC_MAX_DIMS:
        raise ValueError(f"expand: at most {AGC_MAX_DIMS} dimensions")
    for i in range(n):
        j = i - (n - x._ndim)
        s = shape[i]
        if j < 0:
            if s < 0:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension "
                                   f"(shape {tuple(shape)})")
            sh[i] = s
            st[i] = 0
        else:
            if s == -1 or s == x._shape[j]:
                sh[i] = x._shape[j]
                st[i] = x._strides[j]
            elif x._shape[j] == 1:
                if s < 0:
                    raise RuntimeError(f"expand: invalid size {s} in {tuple(shape)}")
                sh[i] = s
                st[i] = 0
            else:
                raise RuntimeError(f"expand: the expanded size of the tensor ({s}) must match the existing "
                                   f"size ({x._shape[j]}) at non-singleton dimension {i}. Target sizes: "
                                   f"{tuple(shape)}. Tensor sizes: {tuple(x.shape)}")
    return make_view(x, n, sh, st, x._offset)


def squeeze(TensorBase x, dims=None):
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef bint mask[16]
    cdef int i, n = 0
    if dims is None:
        for i in range(x._ndim):
            mask[i] = True
    else:
        parse_dims(dims, x._ndim, mask, "squeeze")
    for i in range(x._ndim):
        if mask[i] and x._shape[i] == 1:
            continue
        sh[n] = x._shape[i]
        st[n] = x._strides[i]
        n += 1
    return make_view(x, n, sh, st, x._offset)


def unsqueeze(TensorBase x, dim):
    cdef int d = wrap_dim(dim, x._ndim + 1, "unsqueeze")
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef int i, j = 0
    if x._ndim + 1 > AGC_MAX_DIMS:
        raise ValueError(f"unsqueeze: at most {AGC_MAX_DIMS} dimensions")
    for i in range(x._ndim + 1):
        if i == d:
            sh[i] = 1
            st[i] = (x._strides[j] * x._shape[j]) if j < x._ndim else 1
        else:
            sh[i] = x._shape[j]
            st[i] = x._strides[j]
            j += 1
    return make_view(x, x._ndim + 1, sh, st, x._offset)


def basic_index(TensorBase x, tuple key):
    """x[key] for a key of ints, slices, None and at most one Ellipsis: always a view."""
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef int n = 0, d = 0, i, nspec = 0
    cdef int64_t off = x._offset, size, start, stop, step, idx, length
    cdef bint seen_ellipsis = False
    cdef int nnew = 0, nslice = 0
    for k in key:
        if k is None:
            nnew += 1
        elif k is not Ellipsis:
            nspec += 1
            if isinstance(k, slice):
                nslice += 1
    if nspec > x._ndim:
        raise IndexError(f"too many indices for tensor of dimension {x._ndim} (shape {tuple(x.shape)})")
    # the result keeps every dimension not indexed by an int and adds one per None
    if nnew + nslice + (x._ndim - nspec) > AGC_MAX_DIMS:
        raise IndexError(f"indexing: the result would have {nnew + nslice + x._ndim - nspec} dimensions "
                         f"(tensor of shape {tuple(x.shape)} indexed with {len(key)} indices), more than the "
                         f"{AGC_MAX_DIMS} a tensor can have")
    for k in key:
        if k is None:
            sh[n] = 1
            st[n] = 1
            n += 1
        elif k is Ellipsis:
            if seen_ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            seen_ellipsis = True
            for i in range(x._ndim - nspec):
                sh[n] = x._shape[d]
                st[n] = x._strides[d]
                n += 1
                d += 1
            nspec = x._ndim  # a second Ellipsis expands to nothing
        elif isinstance(k, slice):
            size = x._shape[d]
            start, stop, step = k.indices(size)
            if step <= 0:
                raise ValueError(f"step must be greater than zero, got {step}")
            length = (stop - start + step - 1) // step if stop > start else 0
            sh[n] = length
            st[n] = x._strides[d] * step
            if length > 0:
                off += start * x._strides[d]
            n += 1
            d += 1
        else:
            try:
                idx = k.__index__()
            except (AttributeError, TypeError):
                raise IndexError(f"only integers, slices, None, Ellipsis, integer and bool tensors are valid "
                                 f"indices, got {type(k).__name__}")
            size = x._shape[d]
            if idx < -size or idx >= size:
                raise IndexError(f"index {idx} is out of bounds for dimension {d} with size {size}")
            if idx < 0:
                idx += size
            off += idx * x._strides[d]
            d += 1
    while d < x._ndim:
        sh[n] = x._shape[d]
        st[n] = x._strides[d]
        n += 1
        d += 1
    return make_view(x, n, sh, st, off)


# ------------------------------------------------------------------------------------------ matmul
cdef int gemm_call(int dt, int64_t M, int64_t N, int64_t K, double alpha, const char *A, int64_t rsa,
                   int64_t csa, const char *B, int64_t rsb, int64_t csb, double beta, char *C,
                   int64_t rsc, int64_t csc) except -1:
    cdef int rc
    with nogil:
        rc = agc_gemm(dt, M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, rsc, csc)
    check_rc(rc, "matmul")
    return 0


def matmul(TensorBase a, TensorBase b):
    if is_half(a._dtype) or is_half(b._dtype):
        return half_call(matmul, a._dtype if is_half(a._dtype) else b._dtype, a, b)
    """np.matmul semantics: 1-D operands are promoted and the added dim removed; batch dims broadcast."""
    if a._ndim == 0 or b._ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes {tuple(a.shape)} "
                           f"and {tuple(b.shape)}")
    cdef int dt = promote_pair(a._dtype, False, b._dtype, False)
    if not is_float(dt):
        raise TypeError(f"matmul: expected floating point tensors, got {DTYPE_NAMES[a._dtype]} and "
                        f"{DTYPE_NAMES[b._dtype]}")
    if a._dtype != dt:
        a = cast(a, dt)
    if b._dtype != dt:
        b = cast(b, dt)
    cdef bint a1 = a._ndim == 1, b1 = b._ndim == 1
    cdef int64_t M, N, K, K2
    cdef int64_t rsa, csa, rsb, csb
    M = 1 if a1 else a._shape[a._ndim - 2]
    K = a._shape[a._ndim - 1]
    K2 = b._shape[0] if b1 else b._shape[b._ndim - 2]
    N = 1 if b1 else b._shape[b._ndim - 1]
    if K != K2:
        raise RuntimeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
                           f"({M}x{K} and {K2}x{N})")
    rsa = 0 if a1 else a._strides[a._ndim - 2]
    csa = a._strides[a._ndim - 1]
    rsb = b._strides[0] if b1 else b._strides[b._ndim - 2]
    csb = 0 if b1 else b._strides[b._ndim - 1]
    # batch dims
    cdef int nba = 0 if a1 else a._ndim - 2
    cdef int nbb = 0 if b1 else b._ndim - 2
    cdef int nb = nba if nba > nbb else nbb
    cdef int64_t bshape[16]
    cdef int64_t bsa[16]
    cdef int64_t bsb[16]
    cdef int i, ia, ib
    cdef int64_t sa_, sb_
    for i in range(nb):
        ia = i - (nb - nba)
        ib = i - (nb - nbb)
        sa_ = a._shape[ia] if ia >= 0 else 1
        sb_ = b._shape[ib] if ib >= 0 else 1
        if sa_ != sb_ and sa_ != 1 and sb_ != 1:
            raise RuntimeError(f"matmul: batch dimensions of shapes {tuple(a.shape)} and {tuple(b.shape)} "
                               f"cannot be broadcast")
        bshape[i] = sa_ if sb_ == 1 else sb_
        bsa[i] = a._strides[ia] if (ia >= 0 and sa_ != 1) else 0
        bsb[i] = b._strides[ib] if (ib >= 0 and sb_ != 1) else 0
    cdef int64_t oshape[16]
    cdef int no = 0
    for i in range(nb):
        oshape[no] = bshape[i]
        no += 1
    if not a1:
        oshape[no] = M
        no += 1
    if not b1:
        oshape[no] = N
        no += 1
    cdef TensorBase out = new_tensor(dt, no, oshape)
    cdef int64_t batch = 1
    for i in range(nb):
        batch *= bshape[i]
    cdef int64_t rsc = N, csc = 1
    if batch == 1:
        gemm_call(dt, M, N, K, 1.0, a._data, rsa, csa, b._data, rsb, csb, 0.0, out._data, rsc, csc)
        return out
    if batch == 0 or M == 0 or N == 0:
        if out._numel:
            fill_(out, 0)
        return out
    cdef int64_t *offs = <int64_t *>malloc(sizeof(int64_t) * 3 * batch)
    if offs == NULL:
        raise MemoryError()
    cdef int64_t bi, rem, oa, ob
    cdef int rc
    try:
        for bi in range(batch):
            rem = bi
            oa = 0
            ob = 0
            for i in range(nb - 1, -1, -1):
                oa += (rem % bshape[i]) * bsa[i]
                ob += (rem % bshape[i]) * bsb[i]
                rem //= bshape[i]
            offs[bi] = oa
            offs[batch + bi] = ob
            offs[2 * batch + bi] = bi * M * N
        with nogil:
            rc = agc_gemm_batched(dt, batch, M, N, K, 1.0, a._data, offs, rsa, csa, b._data, offs + batch,
                                  rsb, csb, 0.0, out._data, offs + 2 * batch, rsc, csc)
        check_rc(rc, "matmul")
    finally:
        free(offs)
    return out


def addmm(TensorBase bias, TensorBase a, TensorBase b, double alpha=1.0, double beta=1.0):
    cdef int hdt = half_of((a, b, bias))
    if hdt >= 0:
        return half_call(addmm, hdt, bias, a, b, alpha, beta)
    """beta * bias + alpha * (a @ b) for 2-D a and b, bias broadcast to the result: one GEMM with C
    pre-filled from bias (a Linear layer's forward in one pass)."""
    if a._ndim != 2 or b._ndim != 2:
        raise RuntimeError(f"addmm: expected 2-D matrices, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if a._shape[1] != b._shape[0]:
        raise RuntimeError(f"addmm: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
                           f"({a._shape[0]}x{a._shape[1]} and {b._shape[0]}x{b._shape[1]})")
    cdef int dt = promote_pair(a._dtype, False, b._dtype, False)
    if not is_float(dt):
        raise TypeError("addmm: expected floating point tensors")
    if a._dtype != dt:
        a = cast(a, dt)
    if b._dtype != dt:
        b = cast(b, dt)
    cdef int64_t shape[2]
    shape[0] = a._shape[0]
    shape[1] = b._shape[1]
    cdef TensorBase out = new_tensor(dt, 2, shape)
    cdef int64_t sb[16]
    broadcast_strides_to(bias, 2, shape, sb, "addmm")
    cdef int rc
    with nogil:
        rc = agc_copy(2, shape, bias._dtype, bias._data, sb, dt, out._data, out._strides)
    check_rc(rc, "addmm")
    gemm_call(dt, shape[0], shape[1], a._shape[1], alpha, a._data, a._strides[0], a._strides[1],
              b._data, b._strides[0], b._strides[1], beta, out._data, shape[1], 1)
    return out


# ------------------------------------------------------------------------------------------ random
cdef class Generator:
    """A random-number generator: a seed and a position in the counter-based (Philox-style)
    stream. Random functions take one as `generator=`; without it they use the global
    `default_generator`, which `manual_seed` reseeds. Same seed, same numbers, at any thread count.

    >>> a = ag.rand(3, generator=ag.Generator().manual_seed(0))
    >>> b = ag.rand(3, generator=ag.Generator().manual_seed(0))
    >>> bool((a == b).all())           # the same numbers after every manual_seed(0)
    True
    """
    cdef public uint64_t _seed
    cdef public uint64_t _offset

    def __init__(self, device="cpu"):
        if str(device) != "cpu":
            raise RuntimeError(f"Generator: device {device!r} is not available; autograd_core runs on the CPU "
                               f"only (use device='cpu')")
        self._seed = 67280421310721
        self._offset = 0

    def manual_seed(self, seed):
        """Set the seed (and restart the stream); returns the generator."""
        if isinstance(seed, float) or not hasattr(seed, "__index__"):
            raise TypeError(f"manual_seed: expected an integer seed, got {type(seed).__name__}")
        self._seed = <uint64_t>(int(seed) & 0xFFFFFFFFFFFFFFFF)
        self._offset = 0
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns the new seed."""
        import os
        value = int.from_bytes(os.urandom(8), "little") >> 1
        self.manual_seed(value)
        return value

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The state as a uint8 tensor of 16 bytes (seed and offset, little-endian)."""
        import numpy
        raw = numpy.frombuffer(int(self._seed).to_bytes(8, "little") + int(self._offset).to_bytes(8, "little"),
                               dtype=numpy.uint8).copy()
        return from_buffer(raw)

    def set_state(self, new_state):
        """Restore a state returned by get_state (a uint8 tensor or bytes of 16 bytes)."""
        import numpy
        raw = bytes(numpy.asarray(new_state, dtype=numpy.uint8).reshape(-1)) if not isinstance(
            new_state, (bytes, bytearray)) else bytes(new_state)
        if len(raw) != 16:
            raise ValueError(f"Generator.set_state: expected a state of 16 bytes (from get_state), got {len(raw)}")
        self._seed = <uint64_t>int.from_bytes(raw[:8], "little")
        self._offset = <uint64_t>int.from_bytes(raw[8:], "little")
        return self

    @property
    def device(self):
        import autograd_core
        make = getattr(autograd_core, "device", None)
        return make("cpu") if make is not None else "cpu"

    def __reduce__(self):
        return (_rebuild_generator, (int(self._seed), int(self._offset)))

    def __repr__(self):
        return f"<autograd_core.Generator seed={self._seed} offset={self._offset}>"


def _rebuild_generator(seed, offset):
    cdef Generator g = Generator()
    g._seed = <uint64_t>seed
    g._offset = <uint64_t>offset
    return g


default_generator = Generator()
default_generator._seed = 0x2545F4914F6CDD1D
cdef Generator _default = default_generator


def manual_seed(seed):
    """Seed the global generator: every random op after it is reproducible."""
    _default._seed = (<uint64_t>(int(seed) & 0xFFFFFFFFFFFFFFFF))
    _default._offset = 0


def initial_seed():
    return _default._seed


def get_rng_state():
    return (_default._seed, _default._offset)


def set_rng_state(state):
    _default._seed = <uint64_t>int(state[0])
    _default._offset = <uint64_t>int(state[1])


cdef Generator _generator(object gen):
    if gen is None:
        return _default
    if not isinstance(gen, Generator):
        raise TypeError(f"generator must be an autograd_core.Generator, got {type(gen).__name__}")
    return <Generator>gen


cdef TensorBase random_fill(TensorBase out, int kind, double a, double b, int64_t ia, int64_t ib,
                            object gen=None):
    """Fill out (any layout) with random values: kind 0 uniform[a, b), 1 normal(a, b), 2 randint[ia, ib),
    3 bernoulli(a); drawn from gen (None: the default generator), whose offset advances. Refuses
    read-only memory and tensors whose elements overlap (an expanded view)."""
    cdef str op = ("uniform_", "normal_", "random_", "bernoulli_")[kind]
    check_writable(out, op)
    check_no_internal_overlap(out, op)
    cdef Generator g = _generator(gen)
    # half draws are made in float32 and rounded into out
    cdef TensorBase tgt = out if is_contiguous(out) and not is_half(out._dtype) else \
        new_tensor(AGC_F32 if is_half(out._dtype) else out._dtype, out._ndim, out._shape)
    cdef uint64_t off = g._offset
    g._offset += <uint64_t>agc_rng_advance(out._numel)
    cdef int rc
    cdef int64_t n = out._numel
    cdef uint64_t seed = g._seed
    with nogil:
        if kind == 0:
            rc = agc_rng_uniform(tgt._dtype, n, seed, off, a, b, tgt._data)
        elif kind == 1:
            rc = agc_rng_normal(tgt._dtype, n, seed, off, a, b, tgt._data)
        elif kind == 2:
            rc = agc_rng_randint(tgt._dtype, n, seed, off, ia, ib, tgt._data)
        else:
            rc = agc_rng_bernoulli(tgt._dtype, n, seed, off, a, tgt._data)
    check_rc(rc, "random")
    if tgt is not out:
        copy_(out, tgt)
    else:
        out._storage.version += 1
    return out


def uniform_(TensorBase t, double low=0.0, double high=1.0, generator=None):
    if not is_floating(t._dtype):
        raise TypeError(f"uniform_: expected a floating point tensor, got {DTYPE_NAMES[t._dtype]}")
    if low > high:
        raise ValueError(f"uniform_: expects low <= high, got low={low}, high={high}")
    return random_fill(t, 0, low, high, 0, 0, generator)


def normal_(TensorBase t, double mean=0.0, double std=1.0, generator=None):
    if not is_floating(t._dtype):
        raise TypeError(f"normal_: expected a floating point tensor, got {DTYPE_NAMES[t._dtype]}")
    if std < 0:
        raise ValueError(f"normal_: expects std >= 0.0, got std={std}")
    return random_fill(t, 1, mean, std, 0, 0, generator)


def randint_(TensorBase t, int64_t low, int64_t high, generator=None):
    if low >= high:
        raise ValueError(f"randint: expects low < high, got low={low}, high={high}")
    if t._dtype == AGC_BOOL:
        raise TypeError("randint: bool dtype is not supported")
    return random_fill(t, 2, 0, 0, low, high, generator)


def bernoulli_(TensorBase t, double p, generator=None):
    if not (0.0 <= p <= 1.0):
        raise ValueError(f"bernoulli: expects 0 <= p <= 1, got p={p}")
    return random_fill(t, 3, p, 0, 0, 0, generator)


# ------------------------------------------------------------------------------------------ extensions
include "_gemm.pxi"
include "_index.pxi"
include "_conv.pxi"
include "_nn.pxi"
include "_optim.pxi"
include "_rnn.pxi"
