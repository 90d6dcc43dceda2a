/* softmax.c: agc_softmax and agc_softmax_backward (softmax and log_softmax over the middle axis of a
 * contiguous (outer, n, inner) array; out may alias x).
 * Forward: max, exp(x - max) summed (float32: in float blocks of SM_BLK into a double; float64: in
 * double), then a scale by 1 / sum, or x - max - log(sum) for log_softmax. Backward: softmax
 * out = y (g - sum(g y)), log_softmax out = g - exp(y) sum(g), sums in double (float blocks for the
 * float32 rows). Rows (inner == 1) run along n; otherwise tiles of SM_TW columns run along inner.
 * Tiers: the row, tile and backward-row kernels (float32 and float64) have one vector body each
 * (softmax_vec.h) compiled for AVX2 and AVX-512; the call picks the active tier's (agc_isa_active(),
 * read once per call). The loops below are the portable reference (and the backward over tiles).
 * Threads: whole rows / tiles per piece, so no result depends on the thread count.
 * Tests: tests/test_reduce_kernels.py, tests/test_vec_tiers.py. */
#include "softmax.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static const agc_softmax_kernels *vector_kernels(void)
{
#if AGC_HAVE_X86
    const agc_isa isa = agc_isa_active();
    if (isa >= AGC_ISA_AVX512) return &agc_softmax_kernels_avx512;
    if (isa >= AGC_ISA_AVX2) return &agc_softmax_kernels_avx2;
#endif
    return NULL;
}

/* ---------------------------------------------------------------- portable loops */
/* One float accumulator (the vector bodies have 2 x VF_W of them per SM_BLK block): blocks of 256
 * keep its rounding error at the vector bodies' level. */
#define SM_PBLK 256

/* sum of exp(x - m) in float blocks of SM_PBLK into a double; stores the exps in y unless y is NULL */
static double exp_sum_f32(const float *x, float *y, int64_t n, float m)
{
    double tot = 0;
    for (int64_t b = 0; b < n; b += SM_PBLK) {
        const int64_t e = b + SM_PBLK < n ? b + SM_PBLK : n;
        float a = 0;
        for (int64_t i = b; i < e; i++) {
            const float v = expf(x[i] - m);
            if (y) y[i] = v;
            a += v;
        }
        tot += a;
    }
    return tot;
}

static void softmax_row_f32(int log_, const float *x, float *y, int64_t n)
{
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    if (log_) {
        const float lse = (float)log(exp_sum_f32(x, NULL, n, m));
        for (int64_t i = 0; i < n; i++) y[i] = (x[i] - m) - lse;
        return;
    }
    const float r = (float)(1.0 / exp_sum_f32(x, y, n, m));
    for (int64_t i = 0; i < n; i++) y[i] *= r;
}

static void softmax_row_f64(int log_, const double *x, double *y, int64_t n)
{
    double m = -INFINITY;
    for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    double tot = 0;
    for (int64_t i = 0; i < n; i++) {
        const double v = exp(x[i] - m);
        if (!log_) y[i] = v;
        tot += v;
    }
    if (log_) {
        const double lse = log(tot);
        for (int64_t i = 0; i < n; i++) y[i] = (x[i] - m) - lse;
        return;
    }
    const double r = 1.0 / tot;
    for (int64_t i = 0; i < n; i++) y[i] *= r;
}

/* a tile of tw columns of one (n, inner) slab, along the columns */
#define DEF_SOFTMAX_TILE(NAME, T, EXP)                                                             \
    static void NAME(int log_, const T *x, T *y, int64_t n, int64_t inner, int64_t tw)             \
    {                                                                                              \
        T m[SM_TW];                                                                                \
        double s[SM_TW];                                                                           \
        for (int64_t j = 0; j < tw; j++) {                                                         \
            m[j] = -INFINITY;                                                                      \
            s[j] = 0;                                                                              \
        }                                                                                          \
        for (int64_t i = 0; i < n; i++)                                                            \
            for (int64_t j = 0; j < tw; j++) m[j] = x[i * inner + j] > m[j] ? x[i * inner + j] : m[j]; \
        for (int64_t i = 0; i < n; i++)                                                            \
            for (int64_t j = 0; j < tw; j++) {                                                     \
                T e = EXP(x[i * inner + j] - m[j]);                                                \
                if (!log_) y[i * inner + j] = e;                                                   \
                s[j] += e;                                                                         \
            }                                                                                      \
        if (log_) {                                                                                \
            T l[SM_TW];                                                                            \
            for (int64_t j = 0; j < tw; j++) l[j] = (T)log(s[j]);                                  \
            for (int64_t i = 0; i < n; i++)                                                        \
                for (int64_t j = 0; j < tw; j++) y[i * inner + j] = (x[i * inner + j] - m[j]) - l[j]; \
        } else {                                                                                   \
            T r[SM_TW];                                                                            \
            for (int64_t j = 0; j < tw; j++) r[j] = (T)(1.0 / s[j]);                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                for (int64_t j = 0; j < tw; j++) y[i * inner + j] *= r[j];                         \
        }                                                                                          \
    }
DEF_SOFTMAX_TILE(softmax_tile_f32, float, expf)
DEF_SOFTMAX_TILE(softmax_tile_f64, double, exp)

/* backward over one tile (tw columns; tw == 1 with inner == 1 is a row) */
#define DEF_SOFTMAX_BWD(NAME, T, EXP)                                                              \
    static void NAME(int log_, const T *y, const T *g, T *out, int64_t n, int64_t inner, int64_t tw) \
    {                                                                                              \
        double s[SM_TW];                                                                           \
        for (int64_t j = 0; j < tw; j++) s[j] = 0;                                                 \
        for (int64_t i = 0; i < n; i++)                                                            \
            for (int64_t j = 0; j < tw; j++) {                                                     \
                int64_t k = i * inner + j;                                                         \
                s[j] += log_ ? (double)g[k] : (double)g[k] * (double)y[k];                         \
            }                                                                                      \
        T sf[SM_TW];                                                                               \
        for (int64_t j = 0; j < tw; j++) sf[j] = (T)s[j];                                          \
        for (int64_t i = 0; i < n; i++)                                                            \
            for (int64_t j = 0; j < tw; j++) {                                                     \
                int64_t k = i * inner + j;                                                         \
                out[k] = log_ ? g[k] - EXP(y[k]) * sf[j] : y[k] * (g[k] - sf[j]);                  \
            }                                                                                      \
    }
DEF_SOFTMAX_BWD(softmax_bwd_f32, float, expf)
DEF_SOFTMAX_BWD(softmax_bwd_f64, double, exp)

/* ---------------------------------------------------------------- entry points */
int agc_softmax(int log, agc_dtype dt, int64_t outer, int64_t n, int64_t inner, const void *x, void *out)
{
    if (dt != AGC_F32 && dt != AGC_F64) return AGC_EUNSUPPORTED;
    if (outer <= 0 || n <= 0 || inner <= 0) return AGC_OK;
    const agc_softmax_kernels *vk = vector_kernels();
    const int nt = agc_threads_for(outer * n * inner, AGC_PAR_HEAVY);
    (void)nt;
    if (inner == 1) {
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, agc_grain(n))
#endif
        for (int64_t o = 0; o < outer; o++) {
            AGC_PERTURB();
            if (dt == AGC_F32) {
                const float *xr = (const float *)x + o * n;
                float *yr = (float *)out + o * n;
                if (vk) vk->row(log, xr, yr, n);
                else softmax_row_f32(log, xr, yr, n);
            } else {
                const double *xr = (const double *)x + o * n;
                double *yr = (double *)out + o * n;
                if (vk) vk->row_d(log, xr, yr, n);
                else softmax_row_f64(log, xr, yr, n);
            }
        }
        return AGC_OK;
    }
    const int64_t ntile = (inner + SM_TW - 1) / SM_TW;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, agc_grain(n * SM_TW))
#endif
    for (int64_t t = 0; t < outer * ntile; t++) {
        AGC_PERTURB();
        const int64_t o = t / ntile, j0 = (t % ntile) * SM_TW;
        const int64_t tw = inner - j0 < SM_TW ? inner - j0 : SM_TW;
        const int64_t off = o * n * inner + j0;
        if (dt == AGC_F32) {
            if (vk) vk->tile(log, (const float *)x + off, (float *)out + off, n, inner, tw);
            else softmax_tile_f32(log, (const float *)x + off, (float *)out + off, n, inner, tw);
        } else {
            if (vk) vk->tile_d(log, (const double *)x + off, (double *)out + off, n, inner, tw);
            else softmax_tile_f64(log, (const double *)x + off, (double *)out + off, n, inner, tw);
        }
    }
    return AGC_OK;
}

int agc_softmax_backward(int log, agc_dtype dt, int64_t outer, int64_t n, int64_t inner, const void *y,
                         const void *g, void *out)
{
    if (dt != AGC_F32 && dt != AGC_F64) return AGC_EUNSUPPORTED;
    if (outer <= 0 || n <= 0 || inner <= 0) return AGC_OK;
    const agc_softmax_kernels *vk = vector_kernels();
    const int nt = agc_threads_for(outer * n * inner, AGC_PAR_HEAVY);
    (void)nt;
    if (inner == 1) {
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, agc_grain(n))
#endif
        for (int64_t o = 0; o < outer; o++) {
            AGC_PERTURB();
            const int64_t off = o * n;
            if (dt == AGC_F32) {
                const float *yr = (const float *)y + off, *gr = (const float *)g + off;
                float *orow = (float *)out + off;
                if (vk) {
                    vk->bwd_row(log, yr, gr, orow, n);
                    continue;
                }
                double s = 0;
                for (int64_t b = 0; b < n; b += SM_PBLK) {
                    const int64_t e = b + SM_PBLK < n ? b + SM_PBLK : n;
                    float a = 0;
                    for (int64_t i = b; i < e; i++) a += log ? gr[i] : gr[i] * yr[i];
                    s += a;
                }
                const float sf = (float)s;
                if (log)
                    for (int64_t i = 0; i < n; i++) orow[i] = gr[i] - expf(yr[i]) * sf;
                else
                    for (int64_t i = 0; i < n; i++) orow[i] = yr[i] * (gr[i] - sf);
            } else if (vk) {
                vk->bwd_row_d(log, (const double *)y + off, (const double *)g + off, (double *)out + off, n);
            } else {
                softmax_bwd_f64(log, (const double *)y + off, (const double *)g + off, (double *)out + off, n,
                                1, 1);
            }
        }
        return AGC_OK;
    }
    const int64_t ntile = (inner + SM_TW - 1) / SM_TW;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, agc_grain(n * SM_TW))
#endif
    for (int64_t t = 0; t < outer * ntile; t++) {
        AGC_PERTURB();
        const int64_t o = t / ntile, j0 = (t % ntile) * SM_TW;
        const int64_t tw = inner - j0 < SM_TW ? inner - j0 : SM_TW;
        const int64_t off = o * n * inner + j0;
        if (dt == AGC_F32)
            softmax_bwd_f32(log, (const float *)y + off, (const float *)g + off, (float *)out + off, n, inner, tw);
        else
            softmax_bwd_f64(log, (const double *)y + off, (const double *)g + off, (double *)out + off, n, inner,
                            tw);
    }
    return AGC_OK;
}
