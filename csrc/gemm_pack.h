/* gemm_pack.h: the packing routines of every GEMM context, as templates over the element type and
 * the context's tile (MR, NR as compile-time constants), instantiated by the gemm_kernels_*.c files
 * under their ISA's target attribute. Layouts: gemm.h. Rows of A past mc and columns of B past nc
 * are written as zeros, so the micro-kernels only ever see full tiles.
 * GEMM_PACK_PLAIN: C loops the compiler vectorises; the contiguous cases copy rows.
 * GEMM_PACK_X86 (x86 only): the two layouts that need a transpose on the way into a panel (A with
 * contiguous rows, B with contiguous columns: the plain A and the W^T of a linear layer) go
 * through in-register transposes of 8 x 8 floats or 4 x 4 doubles; measured 3-4x faster than the
 * element loops, which cost 3% of a 512^3 product each. Everything else uses the plain bodies. */
#ifndef AGC_GEMM_PACK_H
#define AGC_GEMM_PACK_H

#include "gemm.h"

#include <string.h>

#define GEMM_INLINE static inline __attribute__((always_inline))

/* NAME_a / NAME_b: the packing functions of one context */
#define GEMM_PACK_PLAIN(NAME, T, MR, NR, ATTR)                                                    \
    GEMM_INLINE ATTR void NAME##_a_body(int64_t mc, int64_t kc, const T *A, int64_t rs_a,        \
                                        int64_t cs_a, T *out)                                     \
    {                                                                                             \
        for (int64_t i0 = 0; i0 < mc; i0 += MR, out += (MR) * kc) {                              \
            const int64_t m = mc - i0 < (MR) ? mc - i0 : (MR);                                    \
            const T *a = A + i0 * rs_a;                                                           \
            if (m == (MR) && rs_a == 1) {                                                         \
                for (int64_t k = 0; k < kc; k++)                                                  \
                    memcpy(out + k * (MR), a + k * cs_a, (MR) * sizeof(T));                       \
            } else if (m == (MR) && cs_a == 1) {                                                  \
                const T *r[MR];                                                                   \
                for (int i = 0; i < (MR); i++) r[i] = a + i * rs_a;                               \
                for (int64_t k = 0; k < kc; k++)                                                  \
                    for (int i = 0; i < (MR); i++) out[k * (MR) + i] = r[i][k];                   \
            } else {                                                                              \
                for (int64_t k = 0; k < kc; k++) {                                                \
                    T *o = out + k * (MR);                                                        \
                    for (int64_t i = 0; i < m; i++) o[i] = a[i * rs_a + k * cs_a];                \
                    for (int64_t i = m; i < (MR); i++) o[i] = 0;                                  \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
    GEMM_INLINE ATTR void NAME##_b_body(int64_t kc, int64_t nc, const T *B, int64_t rs_b,        \
                                        int64_t cs_b, T *out)                                     \
    {                                                                                             \
        for (int64_t j0 = 0; j0 < nc; j0 += NR, out += (NR) * kc) {                               \
            const int64_t n = nc - j0 < (NR) ? nc - j0 : (NR);                                    \
            const T *b = B + j0 * cs_b;                                                           \
            if (n == (NR) && cs_b == 1) {                                                         \
                for (int64_t k = 0; k < kc; k++)                                                  \
                    memcpy(out + k * (NR), b + k * rs_b, (NR) * sizeof(T));                       \
            } else if (n == (NR) && rs_b == 1) {                                                  \
                /* B transposed: column j is contiguous in k; read each column once */            \
                for (int64_t j = 0; j < (NR); j++) {                                              \
                    const T *col = b + j * cs_b;                                                  \
                    for (int64_t k = 0; k < kc; k++) out[k * (NR) + j] = col[k];                  \
                }                                                                                 \
            } else if (cs_b == 1) {                                                               \
                /* the edge strip of a row-major B (the small path's): row copies, zero tails */  \
                for (int64_t k = 0; k < kc; k++) {                                                \
                    memcpy(out + k * (NR), b + k * rs_b, (size_t)n * sizeof(T));                  \
                    memset(out + k * (NR) + n, 0, (size_t)((NR) - n) * sizeof(T));                \
                }                                                                                 \
            } else {                                                                              \
                for (int64_t k = 0; k < kc; k++) {                                                \
                    T *o = out + k * (NR);                                                        \
                    for (int64_t j = 0; j < n; j++) o[j] = b[k * rs_b + j * cs_b];                \
                    for (int64_t j = n; j < (NR); j++) o[j] = 0;                                  \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
    static ATTR void NAME##_a(int64_t mc, int64_t kc, const void *A, int64_t rs_a, int64_t cs_a,  \
                              void *out)                                                          \
    {                                                                                             \
        NAME##_a_body(mc, kc, (const T *)A, rs_a, cs_a, (T *)out);                                \
    }                                                                                             \
    static ATTR void NAME##_b(int64_t kc, int64_t nc, const void *B, int64_t rs_b, int64_t cs_b,  \
                              void *out)                                                          \
    {                                                                                             \
        NAME##_b_body(kc, nc, (const T *)B, rs_b, cs_b, (T *)out);                                \
    }

#if AGC_HAVE_X86
#include <immintrin.h>

GEMM_INLINE AGC_TARGET_AVX2 void gemm_transpose8_ps(__m256 *r)
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

GEMM_INLINE AGC_TARGET_AVX2 void gemm_transpose4_pd(__m256d *r)
{
    __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20), r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31), r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

/* W: lanes of a ymm (8 floats, 4 doubles); TR: the W x W transpose.
 * A with contiguous rows: W values of k at a time from every row, transposed in groups of W rows
 * (rows past MR are zero), so that column k + j of the panel is ceil(MR / W) stores of W. When W
 * does not divide MR the last group's store runs past the column into the next one's first
 * elements, which a later store overwrites: the columns go out in increasing order, and
 * k + W < kc keeps the last column's spill inside the panel (the tail is scalar). */
#define GEMM_PACK_X86(NAME, T, V, W, SFX, TR, MR, NR, ATTR)                                       \
    GEMM_PACK_PLAIN(NAME##_plain, T, MR, NR, ATTR)                                                \
    static ATTR void NAME##_a(int64_t mc, int64_t kc, const void *A_, int64_t rs_a, int64_t cs_a, \
                              void *out_)                                                         \
    {                                                                                             \
        enum { G = ((MR) + (W) - 1) / (W) };                                                      \
        const T *A = A_;                                                                          \
        T *out = out_;                                                                            \
        if (cs_a != 1) {                                                                          \
            NAME##_plain_a_body(mc, kc, A, rs_a, cs_a, out);                                      \
            return;                                                                               \
        }                                                                                         \
        for (int64_t i0 = 0; i0 < mc; i0 += MR, out += (MR) * kc) {                               \
            const T *a = A + i0 * rs_a;                                                           \
            if (mc - i0 < (MR)) {                                                                 \
                NAME##_plain_a_body(mc - i0, kc, a, rs_a, cs_a, out);                             \
                break;                                                                            \
            }                                                                                     \
            int64_t k = 0;                                                                        \
            for (; k + (W) < kc || (k + (W) == kc && (MR) % (W) == 0); k += (W)) {                \
                V r[G][W];                                                                        \
                _Pragma("GCC unroll 4") for (int g = 0; g < G; g++)                               \
                {                                                                                 \
                    _Pragma("GCC unroll 8") for (int i = 0; i < (W); i++)                         \
                    {                                                                             \
                        const int row = g * (W) + i;                                              \
                        r[g][i] = row < (MR) ? _mm256_loadu_##SFX(a + row * rs_a + k)             \
                                             : _mm256_setzero_##SFX();                            \
                    }                                                                             \
                    TR(r[g]);                                                                     \
                }                                                                                 \
                _Pragma("GCC unroll 8") for (int j = 0; j < (W); j++)                             \
                    _Pragma("GCC unroll 4") for (int g = 0; g < G; g++)                           \
                        _mm256_storeu_##SFX(out + (k + j) * (MR) + g * (W), r[g][j]);             \
            }                                                                                     \
            for (; k < kc; k++)                                                                   \
                for (int i = 0; i < (MR); i++) out[k * (MR) + i] = a[i * rs_a + k];               \
        }                                                                                         \
    }                                                                                             \
    static ATTR void NAME##_b(int64_t kc, int64_t nc, const void *B_, int64_t rs_b, int64_t cs_b, \
                              void *out_)                                                         \
    {                                                                                             \
        const T *B = B_;                                                                          \
        T *out = out_;                                                                            \
        if (rs_b != 1) {                                                                          \
            NAME##_plain_b_body(kc, nc, B, rs_b, cs_b, out);                                      \
            return;                                                                               \
        }                                                                                         \
        for (int64_t j0 = 0; j0 < nc; j0 += NR, out += (NR) * kc) {                               \
            const T *b = B + j0 * cs_b;                                                           \
            if (nc - j0 < (NR)) {                                                                 \
                NAME##_plain_b_body(kc, nc - j0, b, rs_b, cs_b, out);                             \
                break;                                                                            \
            }                                                                                     \
            int64_t k = 0;                                                                        \
            for (; k + (W) <= kc; k += (W))                                                       \
                for (int h = 0; h < (NR); h += (W)) {                                             \
                    V r[W];                                                                       \
                    for (int j = 0; j < (W); j++) r[j] = _mm256_loadu_##SFX(b + (h + j) * cs_b + k); \
                    TR(r);                                                                        \
                    for (int kk = 0; kk < (W); kk++) _mm256_storeu_##SFX(out + (k + kk) * (NR) + h, r[kk]); \
                }                                                                                 \
            for (; k < kc; k++)                                                                   \
                for (int j = 0; j < (NR); j++) out[k * (NR) + j] = b[j * cs_b + k];               \
        }                                                                                         \
    }

#define GEMM_PACK_X86_F32(NAME, MR, NR, ATTR)                                                     \
    GEMM_PACK_X86(NAME, float, __m256, 8, ps, gemm_transpose8_ps, MR, NR, ATTR)
#define GEMM_PACK_X86_F64(NAME, MR, NR, ATTR)                                                     \
    GEMM_PACK_X86(NAME, double, __m256d, 4, pd, gemm_transpose4_pd, MR, NR, ATTR)
#endif

#endif
