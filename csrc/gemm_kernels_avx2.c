/* gemm_kernels_avx2.c: the AVX2/FMA GEMM context. Tile 6 x 16 float32 / 6 x 8 float64: a row is
 * two ymm vectors, six rows give 12 accumulators; with the two B vectors and one broadcast that is
 * 15 of 16 registers. Zen 3 retires 2 FMAs a cycle with latency 4, so 12 independent accumulators
 * keep both pipes busy. Edge strips of at most NR/2 columns run the half-width tiles (6 x 8 / 6 x 4).
 * Block sizes from the caches (gemm.c). Contracts: gemm.h. Tests:
 * tests/test_gemm.py (every tier the CPU has). */
#include "gemm_gemv.h"
#include "gemm_pack.h"
#include "gemm_ukernel_x86.h"

#if AGC_HAVE_X86
#define MR 6

GEMM_PACK_X86_F32(pack_f32_avx2, MR, 16, AGC_TARGET_AVX2)
GEMM_PACK_X86_F64(pack_f64_avx2, MR, 8, AGC_TARGET_AVX2)
GEMM_UKERNEL_X86(f32_avx2, float, __m256, _mm256, ps, 8, MR, 2, AGC_TARGET_AVX2)
GEMM_UKERNEL_X86(f64_avx2, double, __m256d, _mm256, pd, 4, MR, 2, AGC_TARGET_AVX2)
GEMM_UKERNEL_X86(f32_avx2_half, float, __m256, _mm256, ps, 8, MR, 1, AGC_TARGET_AVX2)
GEMM_UKERNEL_X86(f64_avx2_half, double, __m256d, _mm256, pd, 4, MR, 1, AGC_TARGET_AVX2)

/* Dot form with FMAs: four rows at a time share each load of x; per row, two vector partial sums
 * and a fixed-order reduction. The compiler's version of the plain body (no FMA contraction under
 * -std=c11) ran at half of NumPy's speed on a 1024 x 1024 float32 matrix-vector product. */
#define AVX2_GEMV_DOT(T, V, W, SFX, SFMA)                                                          \
    GEMM_INLINE AGC_TARGET_AVX2 T hsum_##T(V v)                                                          \
    {                                                                                             \
        T t[W];                                                                                   \
        _mm256_storeu_##SFX(t, v);                                                                \
        T s = 0;                                                                                  \
        for (int l = 0; l < W; l++) s += t[l];                                                    \
        return s;                                                                                 \
    }                                                                                             \
    static AGC_TARGET_AVX2 void gemv_dot_##T##_avx2(int64_t m, int64_t k, const void *A_,           \
                                                  int64_t rs_a, const void *x_, double alpha,     \
                                                  double beta, void *y_, int64_t incy)            \
    {                                                                                             \
        const T *A = A_, *x = x_;                                                                 \
        T *y = y_;                                                                                \
        for (int64_t i = 0; i < m; i += 4) {                                                      \
            const int rows = m - i < 4 ? (int)(m - i) : 4;                                        \
            /* rows past m repeat the last one (in bounds); their sums are dropped */              \
            const T *a[4];                                                                        \
            for (int r = 0; r < 4; r++) a[r] = A + (i + (r < rows ? r : rows - 1)) * rs_a;        \
            V s[4][2];                                                                            \
            for (int r = 0; r < 4; r++) s[r][0] = s[r][1] = _mm256_setzero_##SFX();               \
            int64_t p = 0;                                                                        \
            for (; p + 2 * W <= k; p += 2 * W) {                                                  \
                V x0 = _mm256_loadu_##SFX(x + p), x1 = _mm256_loadu_##SFX(x + p + W);             \
                for (int r = 0; r < 4; r++) {                                                     \
                    s[r][0] = _mm256_fmadd_##SFX(_mm256_loadu_##SFX(a[r] + p), x0, s[r][0]);      \
                    s[r][1] = _mm256_fmadd_##SFX(_mm256_loadu_##SFX(a[r] + p + W), x1, s[r][1]);  \
                }                                                                                 \
            }                                                                                     \
            for (int r = 0; r < rows; r++) {                                                      \
                T sum = hsum_##T(_mm256_add_##SFX(s[r][0], s[r][1]));                             \
                for (int64_t q = p; q < k; q++) sum = SFMA(a[r][q], x[q], sum);                   \
                T *o = y + (i + r) * incy;                                                        \
                *o = beta == 0 ? (T)alpha * sum : SFMA((T)beta, *o, (T)alpha * sum);              \
            }                                                                                     \
        }                                                                                         \
    }

AVX2_GEMV_DOT(float, __m256, 8, ps, __builtin_fmaf)
AVX2_GEMV_DOT(double, __m256d, 4, pd, __builtin_fma)

/* the axpy form stays the compiler's vectorisation of the plain body */
#define GEMV_AXPY_FUNC(T)                                                                         \
    static AGC_TARGET_AVX2 void gemv_axpy_##T##_avx2(int64_t m, int64_t k, const void *A, int64_t cs_a,  \
                                              const void *x, int64_t incx, double alpha,          \
                                              double beta, void *y, int64_t incy)                 \
    {                                                                                             \
        gemv_axpy_body_##T(m, k, (const T *)A, cs_a, (const T *)x, incx, (T)alpha, (T)beta,       \
                           (T *)y, incy);                                                         \
    }
GEMV_AXPY_FUNC(float)
GEMV_AXPY_FUNC(double)

const gemm_ctx agc_gemm_desc_f32_avx2 = {
    "avx2 6x16", AGC_ISA_AVX2, 4, MR, 16, 0, 0, 0,
    pack_f32_avx2_a, pack_f32_avx2_b, f32_avx2_kern, f32_avx2_small,
    gemv_dot_float_avx2, gemv_axpy_float_avx2, f32_avx2_half_small};
const gemm_ctx agc_gemm_desc_f64_avx2 = {
    "avx2 6x8", AGC_ISA_AVX2, 8, MR, 8, 0, 0, 0,
    pack_f64_avx2_a, pack_f64_avx2_b, f64_avx2_kern, f64_avx2_small,
    gemv_dot_double_avx2, gemv_axpy_double_avx2, f64_avx2_half_small};
#endif
