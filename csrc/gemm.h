/* gemm.h: private to gemm.c and gemm_kernels.c. Micro-tile sizes, the per-(dtype, ISA) table of
 * packing routines and micro-kernels, and the kernels' contracts. */
#ifndef AGC_GEMM_H
#define AGC_GEMM_H

#include <stdint.h>

/* Register tile: MR rows x NR columns of C held in 12 ymm accumulators (2 vectors per row), the
 * same shape for float32 (6 x 16) and float64 (6 x 8). The portable kernels use the same tile so
 * that the packing routines are shared. */
#define GEMM_MR 6
#define GEMM_NR_F32 16
#define GEMM_NR_F64 8
#define GEMM_NR_MAX 16

/* Packed layouts. A block (mc x kc) -> ceil(mc / MR) panels, panel p holds rows [p*MR, p*MR + MR)
 * as a[k * MR + i] (zero rows past mc). B block (kc x nc) -> ceil(nc / NR) panels, panel q holds
 * columns [q*NR, q*NR + NR) as b[k * NR + j] (zero columns past nc). */
typedef void (*gemm_pack_a_fn)(int64_t mc, int64_t kc, const void *A, int64_t rs_a, int64_t cs_a,
                               void *out);
typedef void (*gemm_pack_b_fn)(int64_t kc, int64_t nc, const void *B, int64_t rs_b, int64_t cs_b,
                               void *out);
/* Packed micro-kernel: C[0:m, 0:n] = alpha * (a @ b) + beta * C[0:m, 0:n] for one packed A panel
 * and one packed B panel of depth kc. beta == 0 never reads C. m <= MR, n <= NR; partial tiles
 * and C with cs_c != 1 go through a scratch tile. */
typedef void (*gemm_kern_fn)(int64_t kc, const void *a, const void *b, void *C, int64_t rs_c,
                             int64_t cs_c, int m, int n, double alpha, double beta);
/* Unpacked micro-kernel for small products: A read in place with any strides, B rows contiguous
 * (cs_b == 1), C rows contiguous (cs_c == 1). Same C update as above, m <= MR, n <= NR. */
typedef void (*gemm_small_fn)(int64_t kc, const void *A, int64_t rs_a, int64_t cs_a, const void *B,
                              int64_t rs_b, void *C, int64_t rs_c, int m, int n, double alpha,
                              double beta);

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
    int esz; /* element size in bytes */
    int mr, nr;
    gemm_pack_a_fn pack_a;
    gemm_pack_b_fn pack_b;
    gemm_kern_fn kern;
    gemm_small_fn small;
    gemm_gemv_dot_fn gemv_dot;
    gemm_gemv_axpy_fn gemv_axpy;
} gemm_ops;

extern const gemm_ops agc_gemm_ops_f32_portable, agc_gemm_ops_f64_portable;
#if defined(__x86_64__) || defined(__i386__)
#define AGC_GEMM_HAVE_AVX2 1
extern const gemm_ops agc_gemm_ops_f32_avx2, agc_gemm_ops_f64_avx2;
#endif

#endif
