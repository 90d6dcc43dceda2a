/* scan.c: agc_cumulative (cumsum, cumprod) over the middle axis of a contiguous (outer, n, inner)
 * array; out may alias x. Rows (inner == 1) run along n, otherwise tiles of SCAN_TW columns along
 * inner. float32 and float64 accumulate in double (float32 results rounded once per element), int64
 * wraps like two's complement. On the AVX2 tier and wider, float rows run the in-register prefix scan
 * below (8 elements per step, the AVX-512 tier uses it too: the scan is bound by its serial carry,
 * not by the vector width).
 * Threads: whole rows / tiles per piece, so no result depends on the thread count.
 * Tests: tests/test_reduce_kernels.py. */
#include "internal.h"

#include <math.h>
#include <stdint.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if AGC_HAVE_X86
#include <immintrin.h>
#endif

#define SCAN_TW 256 /* inner > 1: columns per tile */

static int scan_avx2(void)
{
#if AGC_HAVE_X86
    return agc_isa_active() >= AGC_ISA_AVX2;
#else
    return 0;
#endif
}

/* ================================================================ cumulative */

/* one tile of tw columns (a row when inner == 1): running sum / product in double (float32, float64)
 * or wrapping uint64 (int64) */
static void cumulative_tile(int op, int dt, const char *x, char *out, int64_t n, int64_t inner, int64_t tw)
{
    if (dt == AGC_I64) {
        uint64_t a[SCAN_TW];
        for (int64_t j = 0; j < tw; j++) a[j] = op ? 1 : 0;
        const int64_t *xs = (const int64_t *)x;
        int64_t *ys = (int64_t *)out;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < tw; j++) {
                int64_t k = i * inner + j;
                a[j] = op ? a[j] * (uint64_t)xs[k] : a[j] + (uint64_t)xs[k];
                ys[k] = (int64_t)a[j];
            }
        return;
    }
    double a[SCAN_TW];
    for (int64_t j = 0; j < tw; j++) a[j] = op ? 1.0 : 0.0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < tw; j++) {
            int64_t k = i * inner + j;
            if (dt == AGC_F32) {
                double v = ((const float *)x)[k];
                a[j] = op ? a[j] * v : a[j] + v;
                ((float *)out)[k] = (float)a[j];
            } else {
                double v = ((const double *)x)[k];
                a[j] = op ? a[j] * v : a[j] + v;
                ((double *)out)[k] = a[j];
            }
        }
}

#if AGC_HAVE_X86
/* AVX2 scan of a float32 / float64 row in double: 8 elements at a time, an in-register prefix over
 * each 4-lane half, then the running total; the serial dependency is one add (or mul) and one
 * broadcast per 8 elements instead of one per element. */
#define SCAN_SHIFT1(d, id) _mm256_blend_pd(id, _mm256_permute4x64_pd(d, _MM_SHUFFLE(2, 1, 0, 0)), 0xE)
#define SCAN_SHIFT2(d, id) _mm256_blend_pd(id, _mm256_permute4x64_pd(d, _MM_SHUFFLE(1, 0, 0, 0)), 0xC)
#define SCAN_LAST(d) _mm256_permute4x64_pd(d, _MM_SHUFFLE(3, 3, 3, 3))
#define DEF_SCAN_AVX2(NAME, T, LOAD4, STORE4, OP, ID)                                         \
    AGC_TARGET_AVX2 static void NAME(const T *x, T *y, int64_t n)                                    \
    {                                                                                         \
        const __m256d id = _mm256_set1_pd(ID);                                                \
        __m256d carry = id;                                                                   \
        int64_t i = 0;                                                                        \
        for (; i + 8 <= n; i += 8) {                                                          \
            __m256d a = LOAD4(x + i), b = LOAD4(x + i + 4);                                   \
            a = OP(a, SCAN_SHIFT1(a, id));                                                      \
            b = OP(b, SCAN_SHIFT1(b, id));                                                      \
            a = OP(a, SCAN_SHIFT2(a, id));                                                      \
            b = OP(b, SCAN_SHIFT2(b, id));                                                      \
            b = OP(b, SCAN_LAST(a));                                                            \
            a = OP(a, carry);                                                                 \
            b = OP(b, carry);                                                                 \
            STORE4(y + i, a);                                                                 \
            STORE4(y + i + 4, b);                                                             \
            carry = SCAN_LAST(b);                                                               \
        }                                                                                     \
        double c = _mm256_cvtsd_f64(carry);                                                   \
        for (; i < n; i++) {                                                                  \
            c = ID == 0 ? c + (double)x[i] : c * (double)x[i];                                \
            y[i] = (T)c;                                                                      \
        }                                                                                     \
    }
#define SCAN_LD_F32(p) _mm256_cvtps_pd(_mm_loadu_ps(p))
#define SCAN_ST_F32(p, v) _mm_storeu_ps(p, _mm256_cvtpd_ps(v))
DEF_SCAN_AVX2(cumsum_f32_avx2, float, SCAN_LD_F32, SCAN_ST_F32, _mm256_add_pd, 0.0)
DEF_SCAN_AVX2(cumprod_f32_avx2, float, SCAN_LD_F32, SCAN_ST_F32, _mm256_mul_pd, 1.0)
DEF_SCAN_AVX2(cumsum_f64_avx2, double, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_add_pd, 0.0)
DEF_SCAN_AVX2(cumprod_f64_avx2, double, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_mul_pd, 1.0)
#endif

int agc_cumulative(int op, agc_dtype dt, int64_t outer, int64_t n, int64_t inner, const void *x, void *out)
{
    if ((op != 0 && op != 1) || (dt != AGC_F32 && dt != AGC_F64 && dt != AGC_I64)) return AGC_EUNSUPPORTED;
    if (outer <= 0 || n <= 0 || inner <= 0) return AGC_OK;
    const int64_t es = (int64_t)agc_dtype_size(dt);
    const int64_t tw_max = inner == 1 ? 1 : SCAN_TW;
    const int64_t ntile = (inner + tw_max - 1) / tw_max;
    const int nt = agc_threads_for(outer * n * inner, AGC_PAR_CHEAP);
    const int avx2 = scan_avx2();
    (void)avx2;
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, agc_grain(n * tw_max))
#endif
    for (int64_t t = 0; t < outer * ntile; t++) {
        AGC_PERTURB();
        int64_t o = t / ntile, j0 = (t % ntile) * tw_max;
        int64_t tw = inner - j0 < tw_max ? inner - j0 : tw_max;
        int64_t off = (o * n * inner + j0) * es;
#if AGC_HAVE_X86
        if (avx2 && inner == 1 && dt != AGC_I64) {
            const char *xr = (const char *)x + off;
            char *yr = (char *)out + off;
            if (dt == AGC_F32)
                (op ? cumprod_f32_avx2 : cumsum_f32_avx2)((const float *)xr, (float *)yr, n);
            else
                (op ? cumprod_f64_avx2 : cumsum_f64_avx2)((const double *)xr, (double *)yr, n);
            continue;
        }
#endif
        cumulative_tile(op, (int)dt, (const char *)x + off, (char *)out + off, n, inner, tw);
    }
    return AGC_OK;
}
