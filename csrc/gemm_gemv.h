/* gemm_gemv.h: the matrix-vector leaves of the GEMM contexts (contracts in gemm.h), as templates
 * instantiated by the gemm_kernels_*.c files under their ISA's target attribute. Memory-bound, so
 * plain C that the compiler vectorises: LANES independent partial sums per row (combined in a fixed
 * order at the end) for the dot form; a column sweep into a block of accumulators for the axpy
 * form. */
#ifndef AGC_GEMM_GEMV_H
#define AGC_GEMM_GEMV_H

#include "gemm_pack.h"

#define GEMV_BODIES(T, LANES)                                                                     \
    GEMM_INLINE void gemv_dot_body_##T(int64_t m, int64_t k, const T *A, int64_t rs_a, const T *x,     \
                                  T alpha, T beta, T *y, int64_t incy)                            \
    {                                                                                             \
        for (int64_t i = 0; i < m; i++) {                                                         \
            const T *a = A + i * rs_a;                                                            \
            T acc[LANES] = {0};                                                                   \
            int64_t p = 0;                                                                        \
            for (; p + LANES <= k; p += LANES)                                                    \
                for (int l = 0; l < LANES; l++)                                                   \
                    acc[l] += a[p + l] * x[p + l];                                                \
            for (int l = 0; p < k; p++, l++)                                                      \
                acc[l] += a[p] * x[p];                                                            \
            for (int w = LANES / 2; w > 0; w /= 2)                                                \
                for (int l = 0; l < w; l++)                                                       \
                    acc[l] += acc[l + w];                                                         \
            T *o = y + i * incy;                                                                  \
            *o = beta == 0 ? alpha * acc[0] : alpha * acc[0] + beta * *o;                         \
        }                                                                                         \
    }                                                                                             \
    GEMM_INLINE void gemv_axpy_body_##T(int64_t m, int64_t k, const T *A, int64_t cs_a, const T *x,    \
                                   int64_t incx, T alpha, T beta, T *y, int64_t incy)             \
    {                                                                                             \
        T acc[GEMM_AXPY_ROWS] = {0};                                                              \
        for (int64_t p = 0; p < k; p++) {                                                         \
            const T *a = A + p * cs_a;                                                            \
            const T xp = x[p * incx];                                                             \
            for (int64_t i = 0; i < m; i++)                                                       \
                acc[i] += a[i] * xp;                                                              \
        }                                                                                         \
        for (int64_t i = 0; i < m; i++) {                                                         \
            T *o = y + i * incy;                                                                  \
            *o = beta == 0 ? alpha * acc[i] : alpha * acc[i] + beta * *o;                         \
        }                                                                                         \
    }

GEMV_BODIES(float, 32)
GEMV_BODIES(double, 16)

#define GEMV_FUNCS(T, ISA, ATTR)                                                                  \
    static ATTR void gemv_dot_##T##_##ISA(int64_t m, int64_t k, const void *A, int64_t rs_a,      \
                                          const void *x, double alpha, double beta, void *y,      \
                                          int64_t incy)                                           \
    {                                                                                             \
        gemv_dot_body_##T(m, k, (const T *)A, rs_a, (const T *)x, (T)alpha, (T)beta, (T *)y,      \
                          incy);                                                                  \
    }                                                                                             \
    static ATTR void gemv_axpy_##T##_##ISA(int64_t m, int64_t k, const void *A, int64_t cs_a,     \
                                           const void *x, int64_t incx, double alpha,             \
                                           double beta, void *y, int64_t incy)                    \
    {                                                                                             \
        gemv_axpy_body_##T(m, k, (const T *)A, cs_a, (const T *)x, incx, (T)alpha, (T)beta,       \
                           (T *)y, incy);                                                         \
    }

#endif
