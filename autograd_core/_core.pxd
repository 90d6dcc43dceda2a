# _core.pxd: the binding's C-level declarations. Kernel prototypes mirror csrc/include/agc.h.
from libc.stdint cimport int64_t, uint64_t, uint8_t


cdef extern from "agc.h" nogil:
    enum:
        AGC_MAX_DIMS
        AGC_OK
        AGC_EUNSUPPORTED
        AGC_ENOMEM
        AGC_F32
        AGC_F64
        AGC_I64
        AGC_BOOL
        AGC_I32
        AGC_U8
        AGC_F16
        AGC_BF16
        AGC_NDTYPES
        AGC_NUNARY
        AGC_NBINARY
        AGC_NREDUCE
        AGC_BINARY_NONE
        # the op registry's flags and the few ops the binding treats specially, by their agc.h names
        AGC_OP_FLOAT
        AGC_OP_BOOL_OUT
        AGC_OP_NO_FLOAT
        AGC_OP_HEAVY
        AGC_OP_HEAVY_F64
        AGC_OP_GRAD_OF_X
        AGC_OP_GRAD_OF_Y
        AGC_OP_PARAMS
        AGC_UNARY_CLAMP
        AGC_UNARY_LOGICAL_NOT
        AGC_BINARY_NE
        AGC_BINARY_POW
        AGC_REDUCE_SUM
        AGC_REDUCE_PROD
        AGC_REDUCE_MAX
        AGC_REDUCE_MIN

    ctypedef struct agc_op_info:
        const char *name
        unsigned flags
        int fused
    # arrays of AGC_NUNARY / AGC_NBINARY / AGC_NREDUCE rows (csrc/registry.c)
    const agc_op_info *agc_unary_info
    const agc_op_info *agc_binary_info
    const agc_op_info *agc_reduce_info
    unsigned agc_unary_dtypes(int op)
    unsigned agc_binary_dtypes(int op)

    ctypedef enum agc_isa:
        AGC_ISA_PORTABLE
        AGC_ISA_AVX2
        AGC_ISA_AVX512
        AGC_NISA

    void agc_init()
    const char *agc_init_error()
    agc_isa agc_isa_active()
    const char *agc_isa_name(agc_isa isa)
    int agc_isa_available(agc_isa isa)
    int agc_isa_emulated()
    const char *agc_simd_target()
    int agc_set_simd_target(const char *name)
    void agc_set_num_threads(int n)
    void agc_set_perturbation(int mode, int victim, int delay_us, uint64_t seed)
    int agc_get_perturbation()
    void agc_set_adaptive_threads(int on)
    void agc_thread_stats(int64_t *out)
    int agc_get_num_threads()

    void *agc_alloc(int64_t nbytes)
    void agc_free(void *p)
    size_t agc_dtype_size(int dt)
    int agc_copy(int ndim, const int64_t *shape, int dt_in, const void *x, const int64_t *sx,
                 int dt_out, void *out, const int64_t *so)
    int agc_fill(int ndim, const int64_t *shape, int dt, void *out, const int64_t *so,
                 double fvalue, int64_t ivalue)

    int agc_unary(int op, int dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx,
                  void *out, const int64_t *so, double p0, double p1)
    int agc_binary(int op, int dt, int ndim, const int64_t *shape, const void *a, const int64_t *sa,
                   const void *b, const int64_t *sb, void *out, const int64_t *so)
    int agc_where(int dt, int ndim, const int64_t *shape, const uint8_t *cond, const int64_t *sc,
                  const void *a, const int64_t *sa, const void *b, const int64_t *sb, void *out,
                  const int64_t *so)

    int agc_reduce(int op, int dt, int n_outer, const int64_t *outer_shape, const int64_t *sx_outer,
                   int n_inner, const int64_t *inner_shape, const int64_t *sx_inner, const void *x,
                   void *out, const int64_t *so, int64_t *idx, double p0)
    int agc_softmax(int log, int dt, int64_t outer, int64_t n, int64_t inner, const void *x, void *out)
    int agc_softmax_backward(int log, int dt, int64_t outer, int64_t n, int64_t inner, const void *y,
                             const void *g, void *out)
    int agc_cumulative(int op, int dt, int64_t outer, int64_t n, int64_t inner, const void *x, void *out)

    int agc_gemm(int dt, int64_t M, int64_t N, int64_t K, double alpha, const void *A, int64_t rs_a,
                 int64_t cs_a, const void *B, int64_t rs_b, int64_t cs_b, double beta, void *C,
                 int64_t rs_c, int64_t cs_c)
    int agc_gemm_batched(int dt, int64_t batch, int64_t M, int64_t N, int64_t K, double alpha,
                         const void *A, const int64_t *off_a, int64_t rs_a, int64_t cs_a, const void *B,
                         const int64_t *off_b, int64_t rs_b, int64_t cs_b, double beta, void *C,
                         const int64_t *off_c, int64_t rs_c, int64_t cs_c)

    int64_t agc_rng_advance(int64_t n)
    int agc_rng_uniform(int dt, int64_t n, uint64_t seed, uint64_t offset, double low, double high,
                        void *out)
    int agc_rng_normal(int dt, int64_t n, uint64_t seed, uint64_t offset, double mean, double std,
                       void *out)
    int agc_rng_randint(int dt, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high,
                        void *out)
    int agc_rng_bernoulli(int dt, int64_t n, uint64_t seed, uint64_t offset, double p, void *out)


cdef class Storage:
    cdef char *ptr              # first byte of the buffer
    cdef int64_t nbytes
    cdef object owner           # the exporting object when memory is borrowed (numpy array), else None
    cdef Py_buffer view         # held while borrowing through the buffer protocol
    cdef bint has_view
    cdef bint readonly
    cdef public int64_t version  # bumped by every in-place write to any view of this storage
    cdef int64_t lo, hi         # views may reach the bytes [ptr + lo, ptr + hi) (lo < 0: negative strides)


cdef class TensorBase:
    cdef Storage _storage
    cdef char *_data            # storage.ptr + offset * itemsize: the first element of this view
    cdef int64_t _offset        # in elements, from storage.ptr
    cdef int _ndim
    cdef int _dtype             # an agc_dtype code
    cdef int64_t _itemsize
    cdef int64_t _numel
    cdef int64_t _shape[16]
    cdef int64_t _strides[16]   # in elements
    cdef object _shape_t        # cached Size
    cdef object _grad            # .grad, checked on assignment
    cdef public object grad_fn
    cdef public object _base    # the tensor this one is a view of, or None
    cdef bint _requires_grad
    cdef public int _output_nr     # which output of grad_fn this tensor is
    cdef object __weakref__
