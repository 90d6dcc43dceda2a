# _gemm.pxi: matrix products (csrc/gemm.c; included by _core.pyx): matmul and addmm, then raw GEMM
# access for tests and benchmarks, which exposes alpha, beta and an arbitrary strided output.

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
    """np.matmul semantics: 1-D operands are promoted and the added dim removed; batch dims broadcast."""
    if is_half(a._dtype) or is_half(b._dtype):
        return half_call(matmul, a._dtype if is_half(a._dtype) else b._dtype, a, b)
    if a._ndim == 0 or b._ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes {tuple(a.shape)} "
                           f"and {tuple(b.shape)}")
    cdef int dt = promote_pair(a._dtype, False, b._dtype, False)
    require_float(dt, "matmul", "tensors", f"{DTYPE_NAMES[a._dtype]} and {DTYPE_NAMES[b._dtype]}")
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
    """beta * bias + alpha * (a @ b) for 2-D a and b, bias broadcast to the result: one GEMM with C
    pre-filled from bias (a Linear layer's forward in one pass)."""
    cdef int hdt = half_of((a, b, bias))
    if hdt >= 0:
        return half_call(addmm, hdt, bias, a, b, alpha, beta)
    if a._ndim != 2 or b._ndim != 2:
        raise RuntimeError(f"addmm: expected 2-D matrices, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if a._shape[1] != b._shape[0]:
        raise RuntimeError(f"addmm: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
                           f"({a._shape[0]}x{a._shape[1]} and {b._shape[0]}x{b._shape[1]})")
    cdef int dt = promote_pair(a._dtype, False, b._dtype, False)
    require_float(dt, "addmm", "tensors", f"{DTYPE_NAMES[a._dtype]} and {DTYPE_NAMES[b._dtype]}")
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

cdef extern from "agc.h" nogil:
    double agc_gemm_peak_gflops(int dt, int nthreads)
    ctypedef struct agc_gemm_info_t:
        const char *kernel
        int isa
        int mr, nr
        int64_t mc, kc, nc
    int agc_gemm_info(int dt, agc_gemm_info_t *info)
    int agc_gemm_set_context(int dt, const char *kernel, int64_t mc, int64_t kc, int64_t nc)


cdef int64_t _gemm_span_lo(TensorBase t) noexcept:
    """lowest byte offset (from the storage start) that t touches"""
    cdef int64_t lo = t._offset
    cdef int i
    for i in range(t._ndim):
        if t._strides[i] < 0:
            lo += t._strides[i] * (t._shape[i] - 1)
    return lo * t._itemsize


cdef int64_t _gemm_span_hi(TensorBase t) noexcept:
    """one past the highest byte offset t touches"""
    cdef int64_t hi = t._offset
    cdef int i
    for i in range(t._ndim):
        if t._strides[i] > 0:
            hi += t._strides[i] * (t._shape[i] - 1)
    return (hi + 1) * t._itemsize


cdef int _gemm_check_out(TensorBase out, TensorBase a, TensorBase b, str op) except -1:
    if out._storage.readonly:
        raise ValueError(f"{op}: out is read-only")
    cdef TensorBase x
    for x in (a, b):
        if (out._numel and x._numel and x._storage is out._storage
                and _gemm_span_lo(x) < _gemm_span_hi(out) and _gemm_span_lo(out) < _gemm_span_hi(x)):
            raise ValueError(f"{op}: out must not overlap the inputs")
    # every element of out distinct: with dims sorted by |stride|, each stride must step over the
    # whole extent of the smaller ones (sufficient, and true of every view numpy or slicing makes)
    if out._numel == 0:
        return 0
    dims = sorted((abs(out._strides[i]), out._shape[i]) for i in range(out._ndim) if out._shape[i] > 1)
    cdef int64_t extent = 1
    for stride, size in dims:
        if stride < extent:
            raise ValueError(f"{op}: out must not have overlapping elements (a stride-0 or self-overlapping "
                             f"view), got shape {tuple(out.shape)} and strides "
                             f"{tuple(out._strides[k] for k in range(out._ndim))}")
        extent = stride * size
    return 0


cdef int _gemm_check_dtypes(TensorBase a, TensorBase b, TensorBase out, str op) except -1:
    if not (a._dtype == b._dtype == out._dtype):
        raise TypeError(f"{op}: a, b and out must share one dtype, got {DTYPE_NAMES[a._dtype]}, "
                        f"{DTYPE_NAMES[b._dtype]} and {DTYPE_NAMES[out._dtype]}")
    require_float(a._dtype, op, "tensors")
    return 0


def gemm(TensorBase a, TensorBase b, TensorBase out, double alpha=1.0, double beta=0.0):
    """out = alpha * a @ b + beta * out in place, for 2-D a (M, K), b (K, N), out (M, N) with any
    strides (out must not overlap a or b). beta == 0 never reads out. Returns out."""
    if a._ndim != 2 or b._ndim != 2 or out._ndim != 2:
        raise ValueError(f"gemm: expected 2-D a, b and out, got shapes {tuple(a.shape)}, {tuple(b.shape)} "
                         f"and {tuple(out.shape)}")
    if a._shape[1] != b._shape[0] or out._shape[0] != a._shape[0] or out._shape[1] != b._shape[1]:
        raise ValueError(f"gemm: shapes {tuple(a.shape)} @ {tuple(b.shape)} -> {tuple(out.shape)} do not "
                         f"match (expected (M, K) @ (K, N) -> (M, N))")
    _gemm_check_dtypes(a, b, out, "gemm")
    _gemm_check_out(out, a, b, "gemm")
    cdef int rc
    with nogil:
        rc = agc_gemm(a._dtype, a._shape[0], b._shape[1], a._shape[1], alpha, a._data, a._strides[0],
                      a._strides[1], b._data, b._strides[0], b._strides[1], beta, out._data,
                      out._strides[0], out._strides[1])
    check_rc(rc, "gemm")
    return out


def gemm_batched(TensorBase a, TensorBase b, TensorBase out, double alpha=1.0, double beta=0.0):
    """out[i] = alpha * a[i] @ b[i] + beta * out[i] for 3-D a (batch, M, K), b (batch, K, N), out
    (batch, M, N), any strides (a and b may have batch stride 0, i.e. be expanded). Returns out."""
    if a._ndim != 3 or b._ndim != 3 or out._ndim != 3:
        raise ValueError(f"gemm_batched: expected 3-D a, b and out, got shapes {tuple(a.shape)}, "
                         f"{tuple(b.shape)} and {tuple(out.shape)}")
    if (a._shape[0] != b._shape[0] or a._shape[0] != out._shape[0] or a._shape[2] != b._shape[1]
            or out._shape[1] != a._shape[1] or out._shape[2] != b._shape[2]):
        raise ValueError(f"gemm_batched: shapes {tuple(a.shape)} @ {tuple(b.shape)} -> {tuple(out.shape)} "
                         f"do not match (expected (B, M, K) @ (B, K, N) -> (B, M, N))")
    _gemm_check_dtypes(a, b, out, "gemm_batched")
    _gemm_check_out(out, a, b, "gemm_batched")
    cdef int64_t batch = a._shape[0]
    cdef int64_t *offs = <int64_t *>malloc(sizeof(int64_t) * 3 * (batch if batch > 0 else 1))
    if offs == NULL:
        raise MemoryError()
    cdef int64_t i
    cdef int rc
    try:
        for i in range(batch):
            offs[i] = i * a._strides[0]
            offs[batch + i] = i * b._strides[0]
            offs[2 * batch + i] = i * out._strides[0]
        with nogil:
            rc = agc_gemm_batched(a._dtype, batch, a._shape[1], b._shape[2], a._shape[2], alpha, a._data,
                                  offs, a._strides[1], a._strides[2], b._data, offs + batch, b._strides[1],
                                  b._strides[2], beta, out._data, offs + 2 * batch, out._strides[1],
                                  out._strides[2])
        check_rc(rc, "gemm_batched")
    finally:
        free(offs)
    return out


def gemm_peak_gflops(int dtype, int nthreads=0):
    """Peak FMA throughput in GFLOPS for float32 (dtype code 0) or float64 (1) on nthreads threads
    (default: the current thread setting) at the active SIMD tier, measured by a short loop of that
    tier's FMAs (256-bit for avx2, 512-bit for avx512); 0.0 at the portable tier."""
    if dtype != AGC_F32 and dtype != AGC_F64:
        raise TypeError(f"gemm_peak_gflops: expected dtype code {AGC_F32} (float32) or {AGC_F64} (float64), "
                        f"got {dtype}")
    if nthreads <= 0:
        nthreads = agc_get_num_threads()
    cdef double g
    with nogil:
        g = agc_gemm_peak_gflops(dtype, nthreads)
    return g


def gemm_info(int dtype):
    """The GEMM context the active SIMD tier uses for float32 (dtype code 0) or float64 (1), as a dict:
    kernel (name), isa (tier name), mr and nr (register tile), mc, kc and nc (block sizes)."""
    if dtype != AGC_F32 and dtype != AGC_F64:
        raise TypeError(f"gemm_info: expected dtype code {AGC_F32} (float32) or {AGC_F64} (float64), "
                        f"got {dtype}")
    cdef agc_gemm_info_t info
    check_rc(agc_gemm_info(dtype, &info), "gemm_info")
    return {"kernel": info.kernel.decode(), "isa": SIMD_TARGETS[info.isa], "mr": info.mr, "nr": info.nr,
            "mc": info.mc, "kc": info.kc, "nc": info.nc}


def gemm_set_context(int dtype, str kernel="", int64_t mc=0, int64_t kc=0, int64_t nc=0):
    """For measurement and tests, never while GEMMs run on other threads: refill the active tier's GEMM
    context for float32 (dtype code 0) or float64 (1) from the micro-kernel named `kernel` (as gemm_info
    names it; "" the tier's own) with block sizes mc, kc, nc (0: the default, from the caches).
    gemm_set_context(dtype) restores the default."""
    if dtype != AGC_F32 and dtype != AGC_F64:
        raise TypeError(f"gemm_set_context: expected dtype code {AGC_F32} (float32) or {AGC_F64} (float64), "
                        f"got {dtype}")
    if mc < 0 or kc < 0 or nc < 0:
        raise ValueError(f"gemm_set_context: block sizes must be >= 0, got mc={mc} kc={kc} nc={nc}")
    cdef bytes name = kernel.encode()
    cdef int rc = agc_gemm_set_context(dtype, name, mc, kc, nc)
    if rc == 1:
        raise ValueError(f"gemm_set_context: no {kernel!r} kernel for this dtype at the {simd_target()} tier")
    check_rc(rc, "gemm_set_context")
