/* gemm.h: private to gemm.c and the gemm_kernels_*.c files. The GEMM context, one per (ISA, dtype):
 * the register tile (MR x NR), the block sizes and the leaf routines (packing, micro-kernels, the
 * matrix-vector loops), in the manner of BLIS's per-architecture contexts. Each kernel file defines
 * the descriptors of its ISA; gemm.c fills the contexts once (block sizes from the caches where the
 * descriptor leaves them 0) and picks one through agc_isa_active(). */
#ifndef AGC_GEMM_H
#define AGC_GEMM_H

#include "internal.h"

#include <stdint.h>

/* An x86 vector intrinsic by prefix (_mm256, _mm512), operation and suffix (ps, pd), so one body
 * serves both register widths. */
#define GEMM_CAT(a, b) a##b
#define GEMM_VOP(P, OP, S) GEMM_CAT(P, _##OP##_##S)

/* Largest tile any context uses, for scratch tiles on the stack. */
#define GEMM_MR_MAX 16
#define GEMM_NR_MAX 64

/* Packed layouts. A block (mc x kc) -> ceil(mc / MR) panels, panel p holds rows [p*MR, p*MR + MR)
 * as a[k * MR + i] (zero rows past mc). B block (kc x nc) -> ceil(nc / NR) panels, panel q holds
 * columns [q*NR, q*NR + NR) as b[k * NR + j] (zero columns past nc). Panels are 64-byte aligned
 * when out is (MR and NR are multiples of the vector width that matters: NR for B). */
typedef void (*gemm_pack_a_fn)(int64_t mc, int64_t kc, const void *A, int64_t rs_a, int64_t cs_a,
                               void *out);
typedef void (*gemm_pack_b_fn)(int64_t kc, int64_t nc, const void *B, int64_t rs_b, int64_t cs_b,
                               void *out);
/* Packed micro-kernel, one full MR x NR tile: C = alpha * (a @ b) + beta * C, with C's rows
 * contiguous (row stride rs_c). beta == 0 never reads C; otherwise each element is
 * fma(beta, c, alpha * acc), the rounding gemm.c reproduces for the edge tiles it handles through
 * a scratch tile. acc is summed over k in order from zero with one FMA per term. */
typedef void (*gemm_kern_fn)(int64_t kc, const void *a, const void *b, void *C, int64_t rs_c,
                             double alpha, double beta);
/* Unpacked micro-kernel for small products, one full tile: A read in place with any strides (MR
 * rows), B with contiguous rows of at least NR readable elements (row stride rs_b), C as above.
 * Same arithmetic as the packed kernel (gemm.c runs both over the same K blocks), so both give the
 * same bits. */
typedef void (*gemm_small_fn)(int64_t kc, const void *A, int64_t rs_a, int64_t cs_a, const void *B,
                              int64_t rs_b, void *C, int64_t rs_c, double alpha, double beta);

/* Matrix-vector products (N == 1), rows [0, m) of y = alpha * A x + beta * y (beta == 0 never
 * reads y). dot: rows of A contiguous (cs_a == 1) and x contiguous. axpy: columns of A contiguous
 * (rs_a == 1), x with any stride; at most GEMM_AXPY_ROWS rows per call. Each y_i is summed over k
 * in a fixed order, whoever computes it. */
#define GEMM_AXPY_ROWS 256
typedef void (*gemm_gemv_dot_fn)(int64_t m, int64_t k, const void *A, int64_t rs_a, const void *x,
                                 double alpha, double beta, void *y, int64_t incy);
typedef void (*gemm_gemv_axpy_fn)(int64_t m, int64_t k, const void *A, int64_t cs_a, const void *x,
                                  int64_t incx, double alpha, double beta, void *y, int64_t incy);

typedef struct {
    const char *kernel; /* the micro-kernel's name, for gemm_info and the benchmark report */
    agc_isa isa;
    int esz; /* element size in bytes */
    int mr, nr;
    int64_t mc, kc, nc; /* block sizes; 0 in a descriptor: derived from the cache sizes */
    gemm_pack_a_fn pack_a;
    gemm_pack_b_fn pack_b;
    gemm_kern_fn kern;
    gemm_small_fn small;
    gemm_gemv_dot_fn gemv_dot; /* NULL in a descriptor: the next narrower ISA's */
    gemm_gemv_axpy_fn gemv_axpy;
    /* The small kernel's body on an MR x NR/2 tile (NULL: none), for edge strips of at most NR/2
     * columns, where the full tile would compute more than half zeros (a 10-output layer: 10 of 32
     * columns). Its elements are the same sums, so its bits are the full kernel's. */
    gemm_small_fn small_half;
} gemm_ctx;

/* Descriptors, one per kernel file and dtype. */
extern const gemm_ctx agc_gemm_desc_f32_portable, agc_gemm_desc_f64_portable;
#if AGC_HAVE_X86
extern const gemm_ctx agc_gemm_desc_f32_avx2, agc_gemm_desc_f64_avx2;
extern const gemm_ctx agc_gemm_desc_f32_avx512, agc_gemm_desc_f64_avx512;
/* other tiles, for measurement (agc_gemm_set_context); ends with kernel == NULL */
extern const gemm_ctx agc_gemm_desc_avx512_alternatives[];
#endif

/* The context in use for dt (the active ISA's), filled on first use. */
const gemm_ctx *agc_gemm_ctx(agc_dtype dt);

#endif
