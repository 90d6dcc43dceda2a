/* gemm_kernels.c: the leaves of the GEMM in gemm.c, for float32 and float64: packing of A and B
 * panels, the register-blocked micro-kernels over packed panels, and the unpacked micro-kernels of
 * the small-matrix path. Each exists as portable C and as an AVX2/FMA version (target attribute,
 * chosen at run time by gemm.c). Layouts and contracts: gemm.h. Tests: tests/test_gemm.py. */
#include "gemm.h"

#include <string.h>

#if AGC_GEMM_HAVE_AVX2
#include <immintrin.h>
#define AGC_GEMM_AVX2 __attribute__((target("avx2,fma")))
#endif

#define MR GEMM_MR
#define INLINE static inline __attribute__((always_inline))

/* ------------------------------------------------------------------------------------- packing */
/* The bodies are inline templates instantiated once plain and once under the AVX2 target, so the
 * compiler can use wide moves for the contiguous cases. Rows of A past mc and columns of B past nc
 * are zero, so the micro-kernel always runs a full tile. */
#define PACK_BODIES(T, NR)                                                                        \
    INLINE void pack_a_body_##T(int64_t mc, int64_t kc, const T *A, int64_t rs_a, int64_t cs_a,   \
                                T *out)                                                           \
    {                                                                                             \
        for (int64_t i0 = 0; i0 < mc; i0 += MR, out += MR * kc) {                                 \
            int64_t m = mc - i0 < MR ? mc - i0 : MR;                                              \
            const T *a = A + i0 * rs_a;                                                           \
            if (m == MR && cs_a == 1) {                                                           \
                const T *r0 = a, *r1 = a + rs_a, *r2 = a + 2 * rs_a, *r3 = a + 3 * rs_a,          \
                        *r4 = a + 4 * rs_a, *r5 = a + 5 * rs_a;                                   \
                for (int64_t k = 0; k < kc; k++) {                                                \
                    T *o = out + k * MR;                                                          \
                    o[0] = r0[k], o[1] = r1[k], o[2] = r2[k];                                     \
                    o[3] = r3[k], o[4] = r4[k], o[5] = r5[k];                                     \
                }                                                                                 \
            } else if (m == MR && rs_a == 1) {                                                    \
                for (int64_t k = 0; k < kc; k++)                                                  \
                    memcpy(out + k * MR, a + k * cs_a, MR * sizeof(T));                           \
            } else {                                                                              \
                for (int64_t k = 0; k < kc; k++) {                                                \
                    T *o = out + k * MR;                                                          \
                    for (int64_t i = 0; i < m; i++)                                               \
                        o[i] = a[i * rs_a + k * cs_a];                                            \
                    for (int64_t i = m; i < MR; i++)                                              \
                        o[i] = 0;                                                                 \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
    INLINE void pack_b_body_##T(int64_t kc, int64_t nc, const T *B, int64_t rs_b, int64_t cs_b,   \
                                T *out)                                                           \
    {                                                                                             \
        for (int64_t j0 = 0; j0 < nc; j0 += NR, out += NR * kc) {                                 \
            int64_t n = nc - j0 < NR ? nc - j0 : NR;                                              \
            const T *b = B + j0 * cs_b;                                                           \
            if (n == NR && cs_b == 1) {                                                           \
                for (int64_t k = 0; k < kc; k++)                                                  \
                    memcpy(out + k * NR, b + k * rs_b, NR * sizeof(T));                           \
            } else if (n == NR && rs_b == 1) {                                                    \
                /* B transposed: column j is contiguous in k; read each column once */            \
                for (int64_t j = 0; j < NR; j++) {                                                \
                    const T *col = b + j * cs_b;                                                  \
                    for (int64_t k = 0; k < kc; k++)                                              \
                        out[k * NR + j] = col[k];                                                 \
                }                                                                                 \
            } else {                                                                              \
                for (int64_t k = 0; k < kc; k++) {                                                \
                    T *o = out + k * NR;                                                          \
                    for (int64_t j = 0; j < n; j++)                                               \
                        o[j] = b[k * rs_b + j * cs_b];                                            \
                    for (int64_t j = n; j < NR; j++)                                              \
                        o[j] = 0;                                                                 \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
    }

PACK_BODIES(float, GEMM_NR_F32)
PACK_BODIES(double, GEMM_NR_F64)

#define PACK_FUNCS(T, ISA, ATTR)                                                                  \
    static ATTR void pack_a_##T##_##ISA(int64_t mc, int64_t kc, const void *A, int64_t rs_a,      \
                                        int64_t cs_a, void *out)                                  \
    {                                                                                             \
        pack_a_body_##T(mc, kc, (const T *)A, rs_a, cs_a, (T *)out);                              \
    }                                                                                             \
    static ATTR void pack_b_##T##_##ISA(int64_t kc, int64_t nc, const void *B, int64_t rs_b,      \
                                        int64_t cs_b, void *out)                                  \
    {                                                                                             \
        pack_b_body_##T(kc, nc, (const T *)B, rs_b, cs_b, (T *)out);                              \
    }

PACK_FUNCS(float, portable, )
PACK_FUNCS(double, portable, )

/* ----------------------------------------------------------------------- C update, shared tail */
/* t holds the MR x NR tile of A @ B (row stride NR). C = alpha * t + beta * C on the m x n corner. */
#define STORE_TILE(T, NR)                                                                         \
    INLINE void store_tile_##T(const T *t, T *C, int64_t rs_c, int64_t cs_c, int m, int n,        \
                               T alpha, T beta)                                                   \
    {                                                                                             \
        for (int i = 0; i < m; i++)                                                               \
            for (int j = 0; j < n; j++) {                                                         \
                T *c = C + i * rs_c + j * cs_c;                                                   \
                *c = beta == 0 ? alpha * t[i * NR + j] : alpha * t[i * NR + j] + beta * *c;       \
            }                                                                                     \
    }

STORE_TILE(float, GEMM_NR_F32)
STORE_TILE(double, GEMM_NR_F64)

/* ---------------------------------------------------------------------- portable micro-kernels */
/* Plain C over an MR x NR accumulator array; the compiler vectorises the j loop with whatever
 * the baseline ISA offers. Every tile goes through the scratch tile. */
#define PORTABLE_KERNELS(T, NR)                                                                   \
    static void kern_##T##_portable(int64_t kc, const void *a_, const void *b_, void *C,          \
                                    int64_t rs_c, int64_t cs_c, int m, int n, double alpha,       \
                                    double beta)                                                  \
    {                                                                                             \
        const T *a = a_, *b = b_;                                                                 \
        T acc[MR * NR] = {0};                                                                     \
        for (int64_t p = 0; p < kc; p++, a += MR, b += NR)                                        \
            for (int i = 0; i < MR; i++) {                                                        \
                T ai = a[i];                                                                      \
                for (int j = 0; j < NR; j++)                                                      \
                    acc[i * NR + j] += ai * b[j];                                                 \
            }                                                                                     \
        store_tile_##T(acc, C, rs_c, cs_c, m, n, (T)alpha, (T)beta);                              \
    }                                                                                             \
    static void small_##T##_portable(int64_t kc, const void *A_, int64_t rs_a, int64_t cs_a,      \
                                     const void *B_, int64_t rs_b, void *C, int64_t rs_c, int m,  \
                                     int n, double alpha, double beta)                            \
    {                                                                                             \
        const T *A = A_, *B = B_;                                                                 \
        T acc[MR * NR] = {0};                                                                     \
        for (int64_t p = 0; p < kc; p++) {                                                        \
            const T *b = B + p * rs_b;                                                            \
            for (int i = 0; i < m; i++) {                                                         \
                T ai = A[i * rs_a + p * cs_a];                                                    \
                for (int j = 0; j < n; j++)                                                       \
                    acc[i * NR + j] += ai * b[j];                                                 \
            }                                                                                     \
        }                                                                                         \
        store_tile_##T(acc, C, rs_c, 1, m, n, (T)alpha, (T)beta);                                 \
    }

PORTABLE_KERNELS(float, GEMM_NR_F32)
PORTABLE_KERNELS(double, GEMM_NR_F64)

/* ------------------------------------------------------------------------- matrix-vector */
/* Memory-bound, so plain C that the compiler vectorises: LANES independent partial sums per row
 * (combined in a fixed order at the end) for the dot form; a column sweep into a block of
 * accumulators for the axpy form. Instantiated plain and under the AVX2 target. */
#define GEMV_BODIES(T, LANES)                                                                     \
    INLINE void gemv_dot_body_##T(int64_t m, int64_t k, const T *A, int64_t rs_a, const T *x,     \
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
    INLINE void gemv_axpy_body_##T(int64_t m, int64_t k, const T *A, int64_t cs_a, const T *x,    \
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

GEMV_FUNCS(float, portable, )
GEMV_FUNCS(double, portable, )

const gemm_ops agc_gemm_ops_f32_portable = {4, MR, GEMM_NR_F32, pack_a_float_portable,
                                            pack_b_float_portable, kern_float_portable,
                                            small_float_portable, gemv_dot_float_portable,
                                            gemv_axpy_float_portable};
const gemm_ops agc_gemm_ops_f64_portable = {8, MR, GEMM_NR_F64, pack_a_double_portable,
                                            pack_b_double_portable, kern_double_portable,
                                            small_double_portable, gemv_dot_double_portable,
                                            gemv_axpy_double_portable};

/* -------------------------------------------------------------------------- AVX2/FMA kernels */
#if AGC_GEMM_HAVE_AVX2

/* AVX2 packing. The two layouts that need a transpose on the way into a panel (A with contiguous
 * rows, B with contiguous columns: the common untransposed A and the W^T of a linear layer) go
 * through in-register transposes of 8 x 8 floats or 4 x 4 doubles instead of element-by-element
 * gathers; measured 3-4x faster than the scalar loops, which cost 3% of a 512^3 product each.
 * Everything else uses the template bodies above. */
INLINE AGC_GEMM_AVX2 void transpose8_ps(__m256 *r)
{
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20), r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20), r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31), r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31), r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

INLINE AGC_GEMM_AVX2 void transpose4_pd(__m256d *r)
{
    __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20), r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31), r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

static AGC_GEMM_AVX2 void pack_a_float_avx2(int64_t mc, int64_t kc, const void *A_, int64_t rs_a,
                                            int64_t cs_a, void *out_)
{
    const float *A = A_;
    float *out = out_;
    if (cs_a != 1) {
        pack_a_body_float(mc, kc, A, rs_a, cs_a, out);
        return;
    }
    for (int64_t i0 = 0; i0 < mc; i0 += MR, out += MR * kc) {
        const float *a = A + i0 * rs_a;
        if (mc - i0 < MR) {
            pack_a_body_float(mc - i0, kc, a, rs_a, cs_a, out);
            break;
        }
        int64_t k = 0;
        /* 8 k at a time: each column of 6 goes out as an 8-float store whose last two floats are
         * overwritten by the next store, so k + 8 < kc keeps every store inside the panel */
        for (; k + 8 < kc; k += 8) {
            __m256 r[8];
            for (int i = 0; i < MR; i++) r[i] = _mm256_loadu_ps(a + i * rs_a + k);
            r[6] = r[7] = _mm256_setzero_ps();
            transpose8_ps(r);
            for (int j = 0; j < 8; j++) _mm256_storeu_ps(out + (k + j) * MR, r[j]);
        }
        for (; k < kc; k++)
            for (int i = 0; i < MR; i++) out[k * MR + i] = a[i * rs_a + k];
    }
}

static AGC_GEMM_AVX2 void pack_a_double_avx2(int64_t mc, int64_t kc, const void *A_, int64_t rs_a,
                                             int64_t cs_a, void *out_)
{
    const double *A = A_;
    double *out = out_;
    if (cs_a != 1) {
        pack_a_body_double(mc, kc, A, rs_a, cs_a, out);
        return;
    }
    for (int64_t i0 = 0; i0 < mc; i0 += MR, out += MR * kc) {
        const double *a = A + i0 * rs_a;
        if (mc - i0 < MR) {
            pack_a_body_double(mc - i0, kc, a, rs_a, cs_a, out);
            break;
        }
        int64_t k = 0;
        for (; k + 4 <= kc; k += 4) {
            /* rows 0-3 transposed as a 4 x 4 block, rows 4-5 as pairs */
            __m256d r[4];
            for (int i = 0; i < 4; i++) r[i] = _mm256_loadu_pd(a + i * rs_a + k);
            transpose4_pd(r);
            __m256d x4 = _mm256_loadu_pd(a + 4 * rs_a + k), x5 = _mm256_loadu_pd(a + 5 * rs_a + k);
            __m256d lo = _mm256_unpacklo_pd(x4, x5), hi = _mm256_unpackhi_pd(x4, x5);
            double *o = out + k * MR;
            _mm256_storeu_pd(o, r[0]);
            _mm_storeu_pd(o + 4, _mm256_castpd256_pd128(lo));
            _mm256_storeu_pd(o + 6, r[1]);
            _mm_storeu_pd(o + 10, _mm256_castpd256_pd128(hi));
            _mm256_storeu_pd(o + 12, r[2]);
            _mm_storeu_pd(o + 16, _mm256_extractf128_pd(lo, 1));
            _mm256_storeu_pd(o + 18, r[3]);
            _mm_storeu_pd(o + 22, _mm256_extractf128_pd(hi, 1));
        }
        for (; k < kc; k++)
            for (int i = 0; i < MR; i++) out[k * MR + i] = a[i * rs_a + k];
    }
}

static AGC_GEMM_AVX2 void pack_b_float_avx2(int64_t kc, int64_t nc, const void *B_, int64_t rs_b,
                                            int64_t cs_b, void *out_)
{
    const float *B = B_;
    float *out = out_;
    const int NR = GEMM_NR_F32;
    if (rs_b != 1) {
        pack_b_body_float(kc, nc, B, rs_b, cs_b, out);
        return;
    }
    for (int64_t j0 = 0; j0 < nc; j0 += NR, out += NR * kc) {
        const float *b = B + j0 * cs_b;
        if (nc - j0 < NR) {
            pack_b_body_float(kc, nc - j0, b, rs_b, cs_b, out);
            break;
        }
        int64_t k = 0;
        for (; k + 8 <= kc; k += 8)
            for (int h = 0; h < NR; h += 8) {
                __m256 r[8];
                for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(b + (h + j) * cs_b + k);
                transpose8_ps(r);
                for (int kk = 0; kk < 8; kk++) _mm256_store_ps(out + (k + kk) * NR + h, r[kk]);
            }
        for (; k < kc; k++)
            for (int j = 0; j < NR; j++) out[k * NR + j] = b[j * cs_b + k];
    }
}

static AGC_GEMM_AVX2 void pack_b_double_avx2(int64_t kc, int64_t nc, const void *B_, int64_t rs_b,
                                             int64_t cs_b, void *out_)
{
    const double *B = B_;
    double *out = out_;
    const int NR = GEMM_NR_F64;
    if (rs_b != 1) {
        pack_b_body_double(kc, nc, B, rs_b, cs_b, out);
        return;
    }
    for (int64_t j0 = 0; j0 < nc; j0 += NR, out += NR * kc) {
        const double *b = B + j0 * cs_b;
        if (nc - j0 < NR) {
            pack_b_body_double(kc, nc - j0, b, rs_b, cs_b, out);
            break;
        }
        int64_t k = 0;
        for (; k + 4 <= kc; k += 4)
            for (int h = 0; h < NR; h += 4) {
                __m256d r[4];
                for (int j = 0; j < 4; j++) r[j] = _mm256_loadu_pd(b + (h + j) * cs_b + k);
                transpose4_pd(r);
                for (int kk = 0; kk < 4; kk++) _mm256_store_pd(out + (k + kk) * NR + h, r[kk]);
            }
        for (; k < kc; k++)
            for (int j = 0; j < NR; j++) out[k * NR + j] = b[j * cs_b + k];
    }
}

/* One template for both dtypes: a row of the tile is two ymm vectors (16 floats or 8 doubles), six
 * rows give 12 accumulators; with the two B vectors and one broadcast that is 15 of 16 registers.
 * Per k step: 2 loads of B, 6 broadcasts of A, 12 FMAs. Zen 3 retires 2 FMAs a cycle with latency
 * 4, so 12 independent accumulators keep both pipes busy. The A operand is addressed as
 * a_i[p * a_cs] with six row pointers: for packed panels the compiler folds them into constant
 * offsets, for the small path they are rows of A read in place. */
#define AVX2_KERNELS(T, V, W, NR, SFX, MASKT, SFMA)                                                  \
    INLINE AGC_GEMM_AVX2 V bcast_##T(const T *p) { return _mm256_set1_##SFX(*p); }                 \
    INLINE AGC_GEMM_AVX2 void tile_##T##_avx2(                                                    \
        int64_t kc, const T *a0, const T *a1, const T *a2, const T *a3, const T *a4, const T *a5, \
        int64_t a_cs, const T *b, int64_t b_rs, int packed, int n, V acc[12])                     \
    {                                                                                             \
        V c00 = _mm256_setzero_##SFX(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,    \
          c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;                       \
        MASKT m0 = {0}, m1 = {0};                                                                 \
        if (!packed && n < NR) {                                                                  \
            /* lane j of the row is loaded only if j < n (no read past B's last column) */        \
            for (int j = 0; j < W; j++) {                                                         \
                m0[j] = j < n ? -1 : 0;                                                           \
                m1[j] = j + W < n ? -1 : 0;                                                       \
            }                                                                                     \
        }                                                                                         \
        _Pragma("GCC unroll 4") for (int64_t p = 0; p < kc; p++)                                  \
        {                                                                                         \
            V b0, b1;                                                                             \
            if (packed) {                                                                         \
                b0 = _mm256_load_##SFX(b);                                                        \
                b1 = _mm256_load_##SFX(b + W);                                                    \
            } else if (n == NR) {                                                                 \
                b0 = _mm256_loadu_##SFX(b);                                                       \
                b1 = _mm256_loadu_##SFX(b + W);                                                   \
            } else {                                                                              \
                b0 = _mm256_maskload_##SFX(b, (__m256i)m0);                                       \
                b1 = _mm256_maskload_##SFX(b + W, (__m256i)m1);                                   \
            }                                                                                     \
            V x = bcast_##T(a0 + p * a_cs);                                                       \
            c00 = _mm256_fmadd_##SFX(x, b0, c00);                                                 \
            c01 = _mm256_fmadd_##SFX(x, b1, c01);                                                 \
            x = bcast_##T(a1 + p * a_cs);                                                         \
            c10 = _mm256_fmadd_##SFX(x, b0, c10);                                                 \
            c11 = _mm256_fmadd_##SFX(x, b1, c11);                                                 \
            x = bcast_##T(a2 + p * a_cs);                                                         \
            c20 = _mm256_fmadd_##SFX(x, b0, c20);                                                 \
            c21 = _mm256_fmadd_##SFX(x, b1, c21);                                                 \
            x = bcast_##T(a3 + p * a_cs);                                                         \
            c30 = _mm256_fmadd_##SFX(x, b0, c30);                                                 \
            c31 = _mm256_fmadd_##SFX(x, b1, c31);                                                 \
            x = bcast_##T(a4 + p * a_cs);                                                         \
            c40 = _mm256_fmadd_##SFX(x, b0, c40);                                                 \
            c41 = _mm256_fmadd_##SFX(x, b1, c41);                                                 \
            x = bcast_##T(a5 + p * a_cs);                                                         \
            c50 = _mm256_fmadd_##SFX(x, b0, c50);                                                 \
            c51 = _mm256_fmadd_##SFX(x, b1, c51);                                                 \
            b += b_rs;                                                                            \
        }                                                                                         \
        acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11, acc[4] = c20, acc[5] = c21;       \
        acc[6] = c30, acc[7] = c31, acc[8] = c40, acc[9] = c41, acc[10] = c50, acc[11] = c51;     \
    }                                                                                             \
    /* Full tiles with contiguous C rows are updated in registers; the rest through scratch. */   \
    INLINE AGC_GEMM_AVX2 void update_##T##_avx2(V acc[12], T *C, int64_t rs_c, int64_t cs_c,      \
                                                int m, int n, T alpha_, T beta_)                  \
    {                                                                                             \
        V alpha = _mm256_set1_##SFX(alpha_), beta = _mm256_set1_##SFX(beta_);                     \
        if (m == MR && n == NR && cs_c == 1) {                                                    \
            for (int i = 0; i < MR; i++) {                                                        \
                T *c = C + i * rs_c;                                                              \
                V r0 = _mm256_mul_##SFX(alpha, acc[2 * i]);                                       \
                V r1 = _mm256_mul_##SFX(alpha, acc[2 * i + 1]);                                   \
                if (beta_ != 0) {                                                                 \
                    r0 = _mm256_fmadd_##SFX(beta, _mm256_loadu_##SFX(c), r0);                     \
                    r1 = _mm256_fmadd_##SFX(beta, _mm256_loadu_##SFX(c + W), r1);                 \
                }                                                                                 \
                _mm256_storeu_##SFX(c, r0);                                                       \
                _mm256_storeu_##SFX(c + W, r1);                                                   \
            }                                                                                     \
            return;                                                                               \
        }                                                                                         \
        T t[MR * NR] __attribute__((aligned(32)));                                                \
        for (int i = 0; i < m; i++) {                                                             \
            _mm256_store_##SFX(t + i * NR, _mm256_mul_##SFX(alpha, acc[2 * i]));                  \
            _mm256_store_##SFX(t + i * NR + W, _mm256_mul_##SFX(alpha, acc[2 * i + 1]));          \
        }                                                                                         \
        /* same rounding as the full-tile path: one fused beta * c + alpha * acc */               \
        for (int i = 0; i < m; i++)                                                               \
            for (int j = 0; j < n; j++) {                                                         \
                T *c = C + i * rs_c + j * cs_c;                                                   \
                *c = beta_ == 0 ? t[i * NR + j] : SFMA(beta_, *c, t[i * NR + j]);  \
            }                                                                                     \
    }                                                                                             \
    static AGC_GEMM_AVX2 void kern_##T##_avx2(int64_t kc, const void *a_, const void *b_,         \
                                              void *C, int64_t rs_c, int64_t cs_c, int m, int n,  \
                                              double alpha, double beta)                          \
    {                                                                                             \
        const T *a = a_;                                                                          \
        V acc[12];                                                                                \
        T *c = C;                                                                                 \
        for (int i = 0; i < m; i++) {                                                             \
            _mm_prefetch((const char *)(c + i * rs_c), _MM_HINT_T0);                              \
            _mm_prefetch((const char *)(c + i * rs_c + NR - 1), _MM_HINT_T0);                     \
        }                                                                                         \
        tile_##T##_avx2(kc, a, a + 1, a + 2, a + 3, a + 4, a + 5, MR, b_, NR, 1, NR, acc);        \
        update_##T##_avx2(acc, C, rs_c, cs_c, m, n, (T)alpha, (T)beta);                           \
    }                                                                                             \
    static AGC_GEMM_AVX2 void small_##T##_avx2(int64_t kc, const void *A_, int64_t rs_a,          \
                                               int64_t cs_a, const void *B, int64_t rs_b,         \
                                               void *C, int64_t rs_c, int m, int n, double alpha, \
                                               double beta)                                       \
    {                                                                                             \
        /* rows past m repeat the last row (in bounds); their results are never stored */         \
        const T *A = A_, *r[MR];                                                                  \
        for (int i = 0; i < MR; i++)                                                              \
            r[i] = A + (i < m ? i : m - 1) * rs_a;                                                \
        V acc[12];                                                                                \
        tile_##T##_avx2(kc, r[0], r[1], r[2], r[3], r[4], r[5], cs_a, B, rs_b, 0, n, acc);        \
        update_##T##_avx2(acc, C, rs_c, 1, m, n, (T)alpha, (T)beta);                              \
    }

typedef int32_t mask_f32 __attribute__((vector_size(32)));
typedef int64_t mask_f64 __attribute__((vector_size(32)));

AVX2_KERNELS(float, __m256, 8, GEMM_NR_F32, ps, mask_f32, __builtin_fmaf)
AVX2_KERNELS(double, __m256d, 4, GEMM_NR_F64, pd, mask_f64, __builtin_fma)

/* Dot form with FMAs: four rows at a time share each load of x; per row, two vector partial sums
 * and a fixed-order reduction. The compiler's version of the plain body (no FMA contraction under
 * -std=c11) ran at half of NumPy's speed on a 1024 x 1024 float32 matrix-vector product. */
#define AVX2_GEMV_DOT(T, V, W, SFX, SFMA)                                                          \
    INLINE AGC_GEMM_AVX2 T hsum_##T(V v)                                                          \
    {                                                                                             \
        T t[W];                                                                                   \
        _mm256_storeu_##SFX(t, v);                                                                \
        T s = 0;                                                                                  \
        for (int l = 0; l < W; l++) s += t[l];                                                    \
        return s;                                                                                 \
    }                                                                                             \
    static AGC_GEMM_AVX2 void gemv_dot_##T##_avx2(int64_t m, int64_t k, const void *A_,           \
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
#define GEMV_AXPY_FUNC(T, ISA, ATTR)                                                              \
    static ATTR void gemv_axpy_##T##_##ISA(int64_t m, int64_t k, const void *A, int64_t cs_a,     \
                                           const void *x, int64_t incx, double alpha,             \
                                           double beta, void *y, int64_t incy)                    \
    {                                                                                             \
        gemv_axpy_body_##T(m, k, (const T *)A, cs_a, (const T *)x, incx, (T)alpha, (T)beta,       \
                           (T *)y, incy);                                                         \
    }
GEMV_AXPY_FUNC(float, avx2, AGC_GEMM_AVX2)
GEMV_AXPY_FUNC(double, avx2, AGC_GEMM_AVX2)

const gemm_ops agc_gemm_ops_f32_avx2 = {4, MR, GEMM_NR_F32, pack_a_float_avx2, pack_b_float_avx2,
                                        kern_float_avx2, small_float_avx2, gemv_dot_float_avx2,
                                        gemv_axpy_float_avx2};
const gemm_ops agc_gemm_ops_f64_avx2 = {8, MR, GEMM_NR_F64, pack_a_double_avx2, pack_b_double_avx2,
                                        kern_double_avx2, small_double_avx2, gemv_dot_double_avx2,
                                        gemv_axpy_double_avx2};
#endif
