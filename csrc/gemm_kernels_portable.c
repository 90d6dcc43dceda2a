/* gemm_kernels_portable.c: the portable GEMM context, the reference the SIMD tiers are tested
 * against: plain C over an MR x NR accumulator array (6 x 16 float32, 6 x 8 float64), which the
 * compiler vectorises with whatever the baseline ISA offers; no half-width tile (edge strips run the
 * full one). Contracts: gemm.h. Tests:
 * tests/test_gemm.py. */
#include "gemm_gemv.h"
#include "gemm_pack.h"

#include <math.h>

#define MR 6
#define NR_F32 16
#define NR_F64 8

GEMM_PACK_PLAIN(pack_float_portable, float, MR, NR_F32, )
GEMM_PACK_PLAIN(pack_double_portable, double, MR, NR_F64, )

/* acc = sum over k of a_ik b_kj, then C = alpha acc (beta == 0) or fma(beta, c, alpha acc) */
#define PORTABLE_KERNELS(T, NR, SFMA)                                                             \
    GEMM_INLINE void update_##T##_portable(const T *acc, T *C, int64_t rs_c, T alpha, T beta)     \
    {                                                                                             \
        for (int i = 0; i < MR; i++)                                                              \
            for (int j = 0; j < NR; j++) {                                                        \
                T *c = C + i * rs_c + j;                                                          \
                *c = beta == 0 ? alpha * acc[i * NR + j] : SFMA(beta, *c, alpha * acc[i * NR + j]); \
            }                                                                                     \
    }                                                                                             \
    static void kern_##T##_portable(int64_t kc, const void *a_, const void *b_, void *C,          \
                                    int64_t rs_c, double alpha, double beta)                      \
    {                                                                                             \
        const T *a = a_, *b = b_;                                                                 \
        T acc[MR * NR] = {0};                                                                     \
        for (int64_t p = 0; p < kc; p++, a += MR, b += NR)                                        \
            for (int i = 0; i < MR; i++) {                                                        \
                T ai = a[i];                                                                      \
                for (int j = 0; j < NR; j++) acc[i * NR + j] += ai * b[j];                        \
            }                                                                                     \
        update_##T##_portable(acc, C, rs_c, (T)alpha, (T)beta);                                   \
    }                                                                                             \
    static void small_##T##_portable(int64_t kc, const void *A_, int64_t rs_a, int64_t cs_a,      \
                                     const void *B_, int64_t rs_b, void *C, int64_t rs_c,         \
                                     double alpha, double beta)                                   \
    {                                                                                             \
        const T *A = A_, *B = B_;                                                                 \
        T acc[MR * NR] = {0};                                                                     \
        for (int64_t p = 0; p < kc; p++) {                                                        \
            const T *b = B + p * rs_b;                                                            \
            for (int i = 0; i < MR; i++) {                                                        \
                T ai = A[i * rs_a + p * cs_a];                                                    \
                for (int j = 0; j < NR; j++) acc[i * NR + j] += ai * b[j];                        \
            }                                                                                     \
        }                                                                                         \
        update_##T##_portable(acc, C, rs_c, (T)alpha, (T)beta);                                   \
    }

PORTABLE_KERNELS(float, NR_F32, fmaf)
PORTABLE_KERNELS(double, NR_F64, fma)

GEMV_FUNCS(float, portable, )
GEMV_FUNCS(double, portable, )

const gemm_ctx agc_gemm_desc_f32_portable = {
    "portable 6x16", AGC_ISA_PORTABLE, 4, MR, NR_F32, 0, 0, 0,
    pack_float_portable_a, pack_float_portable_b, kern_float_portable, small_float_portable,
    gemv_dot_float_portable, gemv_axpy_float_portable, NULL};
const gemm_ctx agc_gemm_desc_f64_portable = {
    "portable 6x8", AGC_ISA_PORTABLE, 8, MR, NR_F64, 0, 0, 0,
    pack_double_portable_a, pack_double_portable_b, kern_double_portable, small_double_portable,
    gemv_dot_double_portable, gemv_axpy_double_portable, NULL};
