/* nn.c: fused kernels for the nn layer: batch normalisation (training forward with batch
 * statistics, backward) and softmax cross-entropy with class-index targets (forward + backward).
 *
 * Layouts: batch norm works on a CONTIGUOUS (n, c, s) array, s the product of the spatial sizes
 * (s = 1 for BatchNorm1d on (n, c)). Cross-entropy works on CONTIGUOUS (n, c) logits. Per-channel
 * and per-row vectors are contiguous. Outputs never alias inputs.
 * Arithmetic: float32 data is accumulated in double; variance is two-pass. Every sum is taken in a
 * fixed order inside one thread (threads split channels or rows, never a reduction), so results do
 * not depend on the thread count. Threads (agc_threads_for) only above NN_PAR_MIN elements.
 * Tiers: the batch-norm loops (float32 and float64, both layouts) and the float32 cross-entropy rows
 * have one vector body (nn_vec.h; a channel's plain sum and the log-sum-exp of a row are the
 * reductions' kernels, reduce_vec.h) compiled for AVX2 and AVX-512, picked once per call from
 * agc_isa_active(); equality contracts in those files. The loops here are the portable reference and
 * run float64 cross-entropy (its exp has no float64 vector instance yet) and the weighted,
 * label-smoothed cross-entropy gradient.
 * Tests: tests/test_nn.py (batch_norm) and tests/test_losses.py (cross_entropy). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "nn.h"
#include "reduce.h"

#define NN_PAR_MIN 32768

/* the active tier's kernels: nn_vec.h's and the reductions' (NULL for the portable loops) */
typedef struct {
    const agc_nn_kernels *vk;
    const agc_reduce_kernels *rk;
} nn_tier;

#define DEFINE_NN_HELPERS(T, SUF)                                                                  \
    /* four independent accumulators: breaks the add latency chain; fixed order, so deterministic */ \
    static inline double sum_##SUF##_p(const T *p, int64_t s)                                               \
    {                                                                                                   \
        double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;                                                  \
        int64_t k = 0;                                                                                  \
        for (; k + 4 <= s; k += 4) {                                                                    \
            a0 += (double)p[k];                                                                         \
            a1 += (double)p[k + 1];                                                                     \
            a2 += (double)p[k + 2];                                                                     \
            a3 += (double)p[k + 3];                                                                     \
        }                                                                                               \
        for (; k < s; k++) a0 += (double)p[k];                                                          \
        return (a0 + a1) + (a2 + a3);                                                                   \
    }                                                                                                   \
    static inline double sqdev_##SUF##_p(const T *p, int64_t s, double mean)                                \
    {                                                                                                   \
        double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;                                                  \
        int64_t k = 0;                                                                                  \
        for (; k + 4 <= s; k += 4) {                                                                    \
            const double d0 = (double)p[k] - mean, d1 = (double)p[k + 1] - mean;                        \
            const double d2 = (double)p[k + 2] - mean, d3 = (double)p[k + 3] - mean;                    \
            a0 += d0 * d0;                                                                              \
            a1 += d1 * d1;                                                                              \
            a2 += d2 * d2;                                                                              \
            a3 += d3 * d3;                                                                              \
        }                                                                                               \
        for (; k < s; k++) a0 += ((double)p[k] - mean) * ((double)p[k] - mean);                         \
        return (a0 + a1) + (a2 + a3);                                                                   \
    }                                                                                                   \
    /* sum of g and of g * (x - mean) in one pass */                                                    \
    static inline void gsums_##SUF##_p(const T *p, const T *q, int64_t s, double mean, double *sg,          \
                                   double *sgx)                                                         \
    {                                                                                                   \
        double a0 = 0.0, a1 = 0.0, b0 = 0.0, b1 = 0.0;                                                  \
        int64_t k = 0;                                                                                  \
        for (; k + 2 <= s; k += 2) {                                                                    \
            a0 += (double)q[k];                                                                         \
            a1 += (double)q[k + 1];                                                                     \
            b0 += (double)q[k] * ((double)p[k] - mean);                                                 \
            b1 += (double)q[k + 1] * ((double)p[k + 1] - mean);                                         \
        }                                                                                               \
        for (; k < s; k++) {                                                                            \
            a0 += (double)q[k];                                                                         \
            b0 += (double)q[k] * ((double)p[k] - mean);                                                 \
        }                                                                                               \
        *sg += a0 + a1;                                                                                 \
        *sgx += b0 + b1;                                                                                \
    }                                                                                                   \
                                                                                                        \
    static inline void affine_##SUF##_p(const T *p, T *o, int64_t s, T sc, T sh)                           \
    {                                                                                                   \
        for (int64_t k = 0; k < s; k++) o[k] = p[k] * sc + sh;                                          \
    }                                                                                                   \
    static inline void bwdapply_##SUF##_p(const T *p, const T *q, T *o, int64_t s, T a1, T a2, T a3)      \
    {                                                                                                   \
        for (int64_t k = 0; k < s; k++) o[k] = a1 * q[k] + a2 * p[k] + a3;                              \
    }


#define DEFINE_NN_KERNELS(T, SUF, EXP)                                                                  \
    static void bn_fwd_##SUF(const nn_tier *tier, int64_t n, int64_t c, int64_t s, const T *x, const T *w, const T *b,     \
                             double eps, T *out, T *mean_out, T *var_out, T *invstd_out)                \
    {                                                                                                   \
        const double m = (double)n * (double)s;                                                         \
        const int nth_ = agc_threads_for(n * c * s, NN_PAR_MIN);                                        \
        _Pragma("omp parallel for schedule(static) num_threads(nth_)")                                  \
        for (int64_t ch = 0; ch < c; ch++) {                                                            \
            AGC_PERTURB();                                                                              \
            double sum = 0.0;                                                                           \
            for (int64_t i = 0; i < n; i++) {                                                           \
                sum += sum_##SUF(tier, x + (i * c + ch) * s, s);                                        \
            }                                                                                           \
            const double mean = m > 0 ? sum / m : 0.0;                                                  \
            double sq = 0.0;                                                                            \
            for (int64_t i = 0; i < n; i++) {                                                           \
                sq += sqdev_##SUF(tier, x + (i * c + ch) * s, s, mean);                                \
            }                                                                                           \
            const double var = m > 0 ? sq / m : 0.0;                                                    \
            const double invstd = 1.0 / sqrt(var + eps);                                                \
            const double scale = (w ? (double)w[ch] : 1.0) * invstd;                                    \
            const double shift = (b ? (double)b[ch] : 0.0) - mean * scale;                              \
            const T sc = (T)scale, sh = (T)shift;                                                       \
            for (int64_t i = 0; i < n; i++) {                                                           \
                const T *p = x + (i * c + ch) * s;                                                      \
                T *o = out + (i * c + ch) * s;                                                          \
                affine_##SUF(tier, p, o, s, sc, sh);                                                    \
            }                                                                                           \
            mean_out[ch] = (T)mean;                                                                     \
            var_out[ch] = (T)var;                                                                       \
            invstd_out[ch] = (T)invstd;                                                                 \
        }                                                                                               \
    }                                                                                                   \
                                                                                                        \
    /* s == 1: rows of c channels; accumulate per channel walking rows in order (cache friendly). */    \
    static int bn_fwd_rows_##SUF(const nn_tier *tier, int64_t n, int64_t c, const T *x, const T *w,     \
                                 const T *b, double eps, T *out, T *mean_out, T *var_out, T *invstd_out)\
    {                                                                                                   \
        double *acc = (double *)agc_alloc(3 * c * (int64_t)sizeof(double));                             \
        if (!acc) return AGC_ENOMEM;                                                                    \
        double *scale = acc + c, *shift = acc + 2 * c;                                                  \
        for (int64_t ch = 0; ch < c; ch++) acc[ch] = scale[ch] = 0.0;                                   \
        for (int64_t i = 0; i < n; i++) rows_sum_##SUF(tier, x + i * c, NULL, acc, c);                  \
        for (int64_t ch = 0; ch < c; ch++) {                                                            \
            acc[ch] = n > 0 ? acc[ch] / (double)n : 0.0;                                                \
            mean_out[ch] = (T)acc[ch];                                                                  \
        }                                                                                               \
        for (int64_t i = 0; i < n; i++) rows_sum_##SUF(tier, x + i * c, acc, scale, c);                 \
        for (int64_t ch = 0; ch < c; ch++) {                                                            \
            const double var = n > 0 ? scale[ch] / (double)n : 0.0;                                     \
            const double invstd = 1.0 / sqrt(var + eps);                                                \
            var_out[ch] = (T)var;                                                                       \
            invstd_out[ch] = (T)invstd;                                                                 \
            scale[ch] = (w ? (double)w[ch] : 1.0) * invstd;                                             \
            shift[ch] = (b ? (double)b[ch] : 0.0) - acc[ch] * scale[ch];                                \
        }                                                                                               \
        const int nth_ = agc_threads_for(n * c, NN_PAR_MIN);                                            \
        _Pragma("omp parallel for schedule(static) num_threads(nth_)")                                  \
        for (int64_t i = 0; i < n; i++)                                                                 \
            rows_apply_##SUF(tier, x + i * c, NULL, scale, shift, NULL, out + i * c, c);                \
        agc_free(acc);                                                                                  \
        return AGC_OK;                                                                                  \
    }                                                                                                   \
                                                                                                        \
    static void bn_bwd_##SUF(const nn_tier *tier, int64_t n, int64_t c, int64_t s, const T *x, const T *g, const T *mean_,  \
                             const T *invstd_, const T *w, T *gx, T *gw, T *gb)                         \
    {                                                                                                   \
        const double m = (double)n * (double)s;                                                         \
        const int nth_ = agc_threads_for(n * c * s, NN_PAR_MIN);                                        \
        _Pragma("omp parallel for schedule(static) num_threads(nth_)")                                  \
        for (int64_t ch = 0; ch < c; ch++) {                                                            \
            AGC_PERTURB();                                                                              \
            const double mean = (double)mean_[ch], invstd = (double)invstd_[ch];                        \
            double sg = 0.0, sgx = 0.0;                                                                 \
            for (int64_t i = 0; i < n; i++) {                                                           \
                gsums_##SUF(tier, x + (i * c + ch) * s, g + (i * c + ch) * s, s, mean, &sg, &sgx);      \
            }                                                                                           \
            if (gb) gb[ch] = (T)sg;                                                                     \
            if (gw) gw[ch] = (T)(sgx * invstd);                                                         \
            if (gx) {                                                                                   \
                const double k1 = (w ? (double)w[ch] : 1.0) * invstd;                                   \
                const double k2 = m > 0 ? -k1 * invstd * invstd * sgx / m : 0.0;                        \
                const double k3 = m > 0 ? -k1 * sg / m - k2 * mean : 0.0;                               \
                const T a1 = (T)k1, a2 = (T)k2, a3 = (T)k3;                                             \
                for (int64_t i = 0; i < n; i++) {                                                       \
                    const T *p = x + (i * c + ch) * s, *q = g + (i * c + ch) * s;                       \
                    T *o = gx + (i * c + ch) * s;                                                       \
                    bwdapply_##SUF(tier, p, q, o, s, a1, a2, a3);                                       \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }                                                                                                   \
                                                                                                        \
    static int bn_bwd_rows_##SUF(const nn_tier *tier, int64_t n, int64_t c, const T *x, const T *g,     \
                                 const T *mean_, const T *invstd_, const T *w, T *gx, T *gw, T *gb)     \
    {                                                                                                   \
        double *acc = (double *)agc_alloc(5 * c * (int64_t)sizeof(double));                             \
        if (!acc) return AGC_ENOMEM;                                                                    \
        double *sg = acc, *sgx = acc + c, *k1 = acc + 2 * c, *k2 = acc + 3 * c, *k3 = acc + 4 * c;      \
        for (int64_t ch = 0; ch < c; ch++) {                                                            \
            sg[ch] = sgx[ch] = 0.0;                                                                     \
            k1[ch] = (double)mean_[ch]; /* the mean in double while summing */                          \
        }                                                                                               \
        for (int64_t i = 0; i < n; i++) rows_gsums_##SUF(tier, x + i * c, g + i * c, k1, sg, sgx, c);   \
        for (int64_t ch = 0; ch < c; ch++) {                                                            \
            const double invstd = (double)invstd_[ch];                                                  \
            if (gb) gb[ch] = (T)sg[ch];                                                                 \
            if (gw) gw[ch] = (T)(sgx[ch] * invstd);                                                     \
            k1[ch] = (w ? (double)w[ch] : 1.0) * invstd;                                                \
            k2[ch] = n > 0 ? -k1[ch] * invstd * invstd * sgx[ch] / (double)n : 0.0;                     \
            k3[ch] = n > 0 ? -k1[ch] * sg[ch] / (double)n - k2[ch] * (double)mean_[ch] : 0.0;           \
        }                                                                                               \
        if (gx) {                                                                                       \
            const int nth_ = agc_threads_for(n * c, NN_PAR_MIN);                                        \
            _Pragma("omp parallel for schedule(static) num_threads(nth_)")                              \
            for (int64_t i = 0; i < n; i++)                                                             \
                rows_apply_##SUF(tier, x + i * c, g + i * c, k1, k2, k3, gx + i * c, c);                \
        }                                                                                               \
        agc_free(acc);                                                                                  \
        return AGC_OK;                                                                                  \
    }                                                                                                   \
                                                                                                        \
    static void xent_fwd_##SUF(const nn_tier *tier, int64_t n, int64_t c, const T *x, const int64_t *target, const T *w,    \
                               int64_t ignore_index, double smoothing, T *loss, T *lse_out)             \
    {                                                                                                   \
        const int nth_ = agc_threads_for(n * c, NN_PAR_MIN);                                            \
        _Pragma("omp parallel for schedule(static) num_threads(nth_)")                                  \
        for (int64_t i = 0; i < n; i++) {                                                               \
            AGC_PERTURB();                                                                              \
            const T *row = x + i * c;                                                                   \
            const double lse = xent_lse_##SUF(tier, row, c);                                            \
            lse_out[i] = (T)lse;                                                                        \
            const int64_t t = target[i];                                                                \
            if (t == ignore_index) {                                                                    \
                loss[i] = 0;                                                                            \
                continue;                                                                               \
            }                                                                                           \
            double l = (1.0 - smoothing) * (w ? (double)w[t] : 1.0) * (lse - (double)row[t]);           \
            if (smoothing > 0) {                                                                        \
                double acc = 0.0;                                                                       \
                for (int64_t j = 0; j < c; j++) acc += (w ? (double)w[j] : 1.0) * (lse - (double)row[j]); \
                l += smoothing / (double)c * acc;                                                       \
            }                                                                                           \
            loss[i] = (T)l;                                                                             \
        }                                                                                               \
    }                                                                                                   \
                                                                                                        \
    static void xent_bwd_##SUF(const nn_tier *tier, int64_t n, int64_t c, const T *x, const int64_t *target, const T *w,    \
                               int64_t ignore_index, double smoothing, const T *lse, const T *g,        \
                               int64_t sg, T *out)                                                      \
    {                                                                                                   \
        double wsum = 0.0;                                                                              \
        for (int64_t j = 0; j < c; j++) wsum += w ? (double)w[j] : 1.0;                                 \
        const int nth_ = agc_threads_for(n * c, NN_PAR_MIN);                                            \
        _Pragma("omp parallel for schedule(static) num_threads(nth_)")                                  \
        for (int64_t i = 0; i < n; i++) {                                                               \
            AGC_PERTURB();                                                                              \
            const T *row = x + i * c;                                                                   \
            T *o = out + i * c;                                                                         \
            const int64_t t = target[i];                                                                \
            if (t == ignore_index) {                                                                    \
                for (int64_t j = 0; j < c; j++) o[j] = 0;                                               \
                continue;                                                                               \
            }                                                                                           \
            const double gi = (double)g[i * sg];                                                        \
            const double a = gi * (1.0 - smoothing) * (w ? (double)w[t] : 1.0);                         \
            const double e = gi * smoothing / (double)c;                                                \
            const T pa = (T)(a + e * wsum), l = lse[i];                                                 \
            if (w && smoothing > 0) {                                                                   \
                for (int64_t j = 0; j < c; j++) o[j] = pa * EXP(row[j] - l) - (T)(e * (double)w[j]);    \
            } else {                                                                                    \
                xent_grad_##SUF(tier, row, o, c, pa, l, (T)e);                                          \
            }                                                                                           \
            o[t] -= (T)a;                                                                               \
        }                                                                                               \
    }

DEFINE_NN_HELPERS(float, f32)
DEFINE_NN_HELPERS(double, f64)

/* batch norm with s == 1: one row of c channels against per-channel double arrays (nn.h's rows_*) */
#define DEFINE_BN_ROWS(T, SUF)                                                                          \
    static inline void rows_sum_##SUF##_p(const T *x, const double *mean, double *acc, int64_t c)      \
    {                                                                                                   \
        if (!mean) {                                                                                    \
            for (int64_t ch = 0; ch < c; ch++) acc[ch] += (double)x[ch];                                \
            return;                                                                                     \
        }                                                                                               \
        for (int64_t ch = 0; ch < c; ch++) {                                                            \
            const double d = (double)x[ch] - mean[ch];                                                  \
            acc[ch] += d * d;                                                                           \
        }                                                                                               \
    }                                                                                                   \
    static inline void rows_gsums_##SUF##_p(const T *x, const T *g, const double *mean, double *sg,    \
                                            double *sgx, int64_t c)                                     \
    {                                                                                                   \
        for (int64_t ch = 0; ch < c; ch++) {                                                            \
            const double q = (double)g[ch];                                                             \
            sg[ch] += q;                                                                                \
            sgx[ch] += q * ((double)x[ch] - mean[ch]);                                                  \
        }                                                                                               \
    }                                                                                                   \
    static inline void rows_apply_##SUF##_p(const T *x, const T *g, const double *a, const double *b,  \
                                            const double *d, T *out, int64_t c)                         \
    {                                                                                                   \
        if (!g) {                                                                                       \
            for (int64_t ch = 0; ch < c; ch++) out[ch] = (T)((double)x[ch] * a[ch] + b[ch]);            \
            return;                                                                                     \
        }                                                                                               \
        for (int64_t ch = 0; ch < c; ch++)                                                              \
            out[ch] = (T)(a[ch] * (double)g[ch] + b[ch] * (double)x[ch] + d[ch]);                       \
    }
DEFINE_BN_ROWS(float, f32)
DEFINE_BN_ROWS(double, f64)

static inline void rows_sum_f32(const nn_tier *tier, const float *x, const double *mean, double *acc, int64_t c)
{
    (tier ? tier->vk->rows_sum : rows_sum_f32_p)(x, mean, acc, c);
}
static inline void rows_gsums_f32(const nn_tier *tier, const float *x, const float *g, const double *mean, double *sg,
                                  double *sgx, int64_t c)
{
    (tier ? tier->vk->rows_gsums : rows_gsums_f32_p)(x, g, mean, sg, sgx, c);
}
static inline void rows_apply_f32(const nn_tier *tier, const float *x, const float *g, const double *a,
                                  const double *b, const double *d, float *out, int64_t c)
{
    (tier ? tier->vk->rows_apply : rows_apply_f32_p)(x, g, a, b, d, out, c);
}
static inline void rows_sum_f64(const nn_tier *tier, const double *x, const double *mean, double *acc, int64_t c)
{
    (tier ? tier->vk->rows_sum_d : rows_sum_f64_p)(x, mean, acc, c);
}
static inline void rows_gsums_f64(const nn_tier *tier, const double *x, const double *g, const double *mean,
                                  double *sg, double *sgx, int64_t c)
{
    (tier ? tier->vk->rows_gsums_d : rows_gsums_f64_p)(x, g, mean, sg, sgx, c);
}
static inline void rows_apply_f64(const nn_tier *tier, const double *x, const double *g, const double *a,
                                  const double *b, const double *d, double *out, int64_t c)
{
    (tier ? tier->vk->rows_apply_d : rows_apply_f64_p)(x, g, a, b, d, out, c);
}

/* per-run dispatch: the tier is fixed for a whole call (read once from agc_isa_active at entry); tier is
 * NULL for the portable loops */
static inline double sum_f32(const nn_tier *tier, const float *p, int64_t s)
{
    return tier ? tier->rk->lsum[M_IDD](p, s, 0.0f) : sum_f32_p(p, s);
}
static inline double sqdev_f32(const nn_tier *tier, const float *p, int64_t s, double mean)
{
    return tier ? tier->vk->sqdev(p, s, mean) : sqdev_f32_p(p, s, mean);
}
static inline void gsums_f32(const nn_tier *tier, const float *p, const float *q, int64_t s, double mean,
                             double *sg, double *sgx)
{
    (tier ? tier->vk->gsums : gsums_f32_p)(p, q, s, mean, sg, sgx);
}
static inline void affine_f32(const nn_tier *tier, const float *p, float *o, int64_t s, float sc, float sh)
{
    (tier ? tier->vk->affine : affine_f32_p)(p, o, s, sc, sh);
}
static inline void bwdapply_f32(const nn_tier *tier, const float *p, const float *q, float *o, int64_t s,
                                float a1, float a2, float a3)
{
    (tier ? tier->vk->bwdapply : bwdapply_f32_p)(p, q, o, s, a1, a2, a3);
}
static inline double sum_f64(const nn_tier *tier, const double *p, int64_t s)
{
    return tier ? tier->rk->lsumd[M_ID](p, s, 0.0) : sum_f64_p(p, s);
}
static inline double sqdev_f64(const nn_tier *tier, const double *p, int64_t s, double mean)
{
    return tier ? tier->vk->sqdev_d(p, s, mean) : sqdev_f64_p(p, s, mean);
}
static inline void gsums_f64(const nn_tier *tier, const double *p, const double *q, int64_t s, double mean,
                             double *sg, double *sgx)
{
    (tier ? tier->vk->gsums_d : gsums_f64_p)(p, q, s, mean, sg, sgx);
}
static inline void affine_f64(const nn_tier *tier, const double *p, double *o, int64_t s, double sc, double sh)
{
    (tier ? tier->vk->affine_d : affine_f64_p)(p, o, s, sc, sh);
}
static inline void bwdapply_f64(const nn_tier *tier, const double *p, const double *q, double *o, int64_t s,
                                double a1, double a2, double a3)
{
    (tier ? tier->vk->bwdapply_d : bwdapply_f64_p)(p, q, o, s, a1, a2, a3);
}

/* cross-entropy rows: log-sum-exp (max, then the sum of exp(x - max) in double) and the gradient
 * pa exp(x - l) - e. Under a vector tier the max and the exp sum are the reduction tier's kernels
 * (float32: the sum in float blocks into a double, as for logsumexp; float64: in double lanes), the
 * gradient nn_vec.h's. */
#define DEFINE_XENT_ROWS(T, SUF, EXP)                                                                   \
    static inline double xent_lse_##SUF##_p(const T *row, int64_t c)                                    \
    {                                                                                                   \
        T mx = row[0];                                                                                  \
        for (int64_t j = 1; j < c; j++) mx = row[j] > mx ? row[j] : mx;                                 \
        double se = 0.0;                                                                                \
        for (int64_t j = 0; j < c; j++) se += (double)EXP(row[j] - mx);                                 \
        return (double)mx + log(se);                                                                    \
    }                                                                                                   \
    static inline void xent_grad_##SUF##_p(const T *row, T *o, int64_t c, T pa, T l, T ej)              \
    {                                                                                                   \
        for (int64_t j = 0; j < c; j++) o[j] = pa * EXP(row[j] - l) - ej;                               \
    }
DEFINE_XENT_ROWS(float, f32, expf)
DEFINE_XENT_ROWS(double, f64, exp)

static inline double xent_lse_f32(const nn_tier *t, const float *row, int64_t c)
{
    float mx;
    int64_t k;
    if (t->rk && t->rk->lext(row, c, 1, 0, &mx, &k)) return (double)mx + log(t->rk->lsum[M_EXPC](row, c, mx));
    return xent_lse_f32_p(row, c);
}
static inline void xent_grad_f32(const nn_tier *t, const float *row, float *o, int64_t c, float pa, float l, float ej)
{
    (t->vk ? t->vk->xent_grad : xent_grad_f32_p)(row, o, c, pa, l, ej);
}
static inline double xent_lse_f64(const nn_tier *t, const double *row, int64_t c)
{
    double mx;
    int64_t k;
    if (t->rk && t->rk->lextd(row, c, 1, 0, &mx, &k)) return mx + log(t->rk->lsumd[M_EXPC](row, c, mx));
    return xent_lse_f64_p(row, c);
}
static inline void xent_grad_f64(const nn_tier *t, const double *row, double *o, int64_t c, double pa, double l,
                                 double ej)
{
    (t->vk ? t->vk->xent_grad_d : xent_grad_f64_p)(row, o, c, pa, l, ej);
}

static nn_tier nn_vector_kernels(void)
{
    nn_tier t = {NULL, NULL};
#if AGC_HAVE_X86
    const agc_isa isa = agc_isa_active();
    if (isa >= AGC_ISA_AVX512) t = (nn_tier){&agc_nn_kernels_avx512, &agc_reduce_kernels_avx512};
    else if (isa >= AGC_ISA_AVX2) t = (nn_tier){&agc_nn_kernels_avx2, &agc_reduce_kernels_avx2};
#endif
    return t;
}

DEFINE_NN_KERNELS(float, f32, expf)
DEFINE_NN_KERNELS(double, f64, exp)

int agc_batch_norm_forward(agc_dtype dt, int64_t n, int64_t c, int64_t s, const void *x, const void *weight,
                           const void *bias, double eps, void *out, void *mean, void *var, void *invstd)
{
    if (dt == AGC_F32) {
        const nn_tier t = nn_vector_kernels();
        if (s == 1)
            return bn_fwd_rows_f32(t.vk ? &t : NULL, n, c, (const float *)x, (const float *)weight, (const float *)bias, eps,
                                   (float *)out, (float *)mean, (float *)var, (float *)invstd);
        bn_fwd_f32(t.vk ? &t : NULL, n, c, s, (const float *)x, (const float *)weight, (const float *)bias, eps, (float *)out,
                   (float *)mean, (float *)var, (float *)invstd);
        return AGC_OK;
    }
    if (dt == AGC_F64) {
        const nn_tier t = nn_vector_kernels();
        if (s == 1)
            return bn_fwd_rows_f64(t.vk ? &t : NULL, n, c, (const double *)x, (const double *)weight, (const double *)bias,
                                   eps, (double *)out, (double *)mean, (double *)var, (double *)invstd);
        bn_fwd_f64(t.vk ? &t : NULL, n, c, s, (const double *)x, (const double *)weight, (const double *)bias, eps,
                   (double *)out, (double *)mean, (double *)var, (double *)invstd);
        return AGC_OK;
    }
    return AGC_EUNSUPPORTED;
}

int agc_batch_norm_backward(agc_dtype dt, int64_t n, int64_t c, int64_t s, const void *x, const void *g,
                            const void *mean, const void *invstd, const void *weight, void *gx, void *gw,
                            void *gb)
{
    if (dt == AGC_F32) {
        const nn_tier t = nn_vector_kernels();
        if (s == 1)
            return bn_bwd_rows_f32(t.vk ? &t : NULL, n, c, (const float *)x, (const float *)g, (const float *)mean,
                                   (const float *)invstd, (const float *)weight, (float *)gx, (float *)gw,
                                   (float *)gb);
        bn_bwd_f32(t.vk ? &t : NULL, n, c, s, (const float *)x, (const float *)g, (const float *)mean, (const float *)invstd,
                   (const float *)weight, (float *)gx, (float *)gw, (float *)gb);
        return AGC_OK;
    }
    if (dt == AGC_F64) {
        const nn_tier t = nn_vector_kernels();
        if (s == 1)
            return bn_bwd_rows_f64(t.vk ? &t : NULL, n, c, (const double *)x, (const double *)g, (const double *)mean,
                                   (const double *)invstd, (const double *)weight, (double *)gx, (double *)gw,
                                   (double *)gb);
        bn_bwd_f64(t.vk ? &t : NULL, n, c, s, (const double *)x, (const double *)g, (const double *)mean,
                   (const double *)invstd, (const double *)weight, (double *)gx, (double *)gw, (double *)gb);
        return AGC_OK;
    }
    return AGC_EUNSUPPORTED;
}

int agc_softmax_xent_forward(agc_dtype dt, int64_t n, int64_t c, const void *x, const int64_t *target,
                             const void *weight, int64_t ignore_index, double smoothing, void *loss, void *lse)
{
    if (dt == AGC_F32) {
        const nn_tier t = nn_vector_kernels();
        xent_fwd_f32(&t, n, c, (const float *)x, target, (const float *)weight, ignore_index, smoothing,
                     (float *)loss, (float *)lse);
        return AGC_OK;
    }
    if (dt == AGC_F64) {
        const nn_tier t = nn_vector_kernels();
        xent_fwd_f64(&t, n, c, (const double *)x, target, (const double *)weight, ignore_index, smoothing,
                     (double *)loss, (double *)lse);
        return AGC_OK;
    }
    return AGC_EUNSUPPORTED;
}

int agc_softmax_xent_backward(agc_dtype dt, int64_t n, int64_t c, const void *x, const int64_t *target,
                              const void *weight, int64_t ignore_index, double smoothing, const void *lse,
                              const void *g, int64_t sg, void *out)
{
    if (dt == AGC_F32) {
        const nn_tier t = nn_vector_kernels();
        xent_bwd_f32(&t, n, c, (const float *)x, target, (const float *)weight, ignore_index, smoothing,
                     (const float *)lse, (const float *)g, sg, (float *)out);
        return AGC_OK;
    }
    if (dt == AGC_F64) {
        const nn_tier t = nn_vector_kernels();
        xent_bwd_f64(&t, n, c, (const double *)x, target, (const double *)weight, ignore_index, smoothing,
                     (const double *)lse, (const double *)g, sg, (double *)out);
        return AGC_OK;
    }
    return AGC_EUNSUPPORTED;
}
