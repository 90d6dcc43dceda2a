/* layernorm_vec.h: the layer-norm row kernels (the agc_ln_kernels table of layernorm.h), written once
 * over vec.h's double lanes and compiled per ISA: portable by layernorm.c, AVX2 and AVX-512 by
 * layernorm_avx2.c and layernorm_avx512.c (each includes vec.h, then this). float32 and float64 share
 * one body: elements are widened to double on load, the statistics and the backward are computed in
 * double and a result is rounded once to the element type on store; the float32 outputs out and gx
 * are computed in float lanes from the double statistics (ln_out_f32, ln_gx_f32: a few roundings,
 * like batch norm's).
 *
 * Statistics (ln_fwd): one pass over the deviations e = x - m0 from a first estimate m0 gives both
 * their sum, which corrects the mean, and their squares: var = mean(e^2) - mean(e)^2. A row of equal
 * values thus has its value as mean exactly and normalises to exactly 0. m0 is x[0] for float32, the
 * plain mean (one pass more) for float64; see ln_fwd.
 *
 * Equality contract (tests/test_layer_norm.py):
 * - Every row sum runs over LN_LD = 16 logical double lanes (portable: 16 scalars, AVX2: 4 vectors of
 *   4, AVX-512: 2 of 8; element k in lane k mod 16) folded by vd_tree, then the last d mod 16
 *   elements added in order. The tiers therefore add in the same order; AVX2 and AVX-512 fuse every
 *   multiply-add (vd_fma), so they are bitwise equal to each other; the portable instance rounds the
 *   products separately (the build does not contract), so it differs by double roundings only,
 *   which after the final rounding to float32 shows at ties only (float64: a few ulp).
 * - Elementwise outputs (out, gx) and the column sums (pw, pb: one lane per column, rows added in
 *   the caller's order) are one lane's arithmetic: AVX2 and AVX-512 bitwise equal; the portable
 *   instance's unfused multiply-adds put float32 out within one float32 rounding of theirs.
 * Tails are masked loads and stores through a scratch: an element's bits do not depend on its
 * position, and nothing past the row is written. */
#ifndef AGC_VEC_H
#error "include vec.h first"
#endif
#include "layernorm.h"

#define LN_LD 16
#define LN_NA (LN_LD / VD_W)


/* out = (x - mean) rstd w + b for float32 in float lanes: mean split in two floats, so that
 * (x - hi) - lo is the deviation rounded once (x - hi is exact where x is near the mean, the case that
 * matters), then one rounding for the scale and one for the fused w, b. */
static VEC_TARGET void ln_out_f32(const float *x, const float *w, const float *b, float *out, int64_t d, double mean,
                                  double rstd)
{
    const float hif = (float)mean;
    const vf hi = VC(hif), lo = VC((float)(mean - (double)hif)), r = VC((float)rstd);
    const vf one = VC(1.0f), zero = vf_zero();
    int64_t i = 0;
    for (; i + VF_W <= d; i += VF_W) {
        const vf xh = vf_mul(vf_sub(vf_sub(vf_load(x + i), hi), lo), r);
        vf_store(out + i, vf_fma(xh, w ? vf_load(w + i) : one, b ? vf_load(b + i) : zero));
    }
    if (i < d) {
        const int64_t m = d - i;
        const vf xh = vf_mul(vf_sub(vf_sub(vf_load_part(x + i, m), hi), lo), r);
        vf_store_part(out + i, m, vf_fma(xh, w ? vf_load_part(w + i, m) : one, b ? vf_load_part(b + i, m) : zero));
    }
}

/* the same for float64, in double lanes */
static VEC_TARGET void ln_out_f64(const double *x, const double *w, const double *b, double *out, int64_t d,
                                  double mean, double rstd)
{
    const vd vm = vd_set1(mean), vr = vd_set1(rstd), one = vd_set1(1.0), zero = vd_zero();
    int64_t i = 0;
    for (; i + VD_W <= d; i += VD_W) {
        const vd xh = vd_mul(vd_sub(vd_load(x + i), vm), vr);
        vd_store(out + i, vd_fma(xh, w ? vd_load(w + i) : one, b ? vd_load(b + i) : zero));
    }
    if (i < d) {
        const int64_t m = d - i;
        const vd xh = vd_mul(vd_sub(vd_load_part(x + i, m), vm), vr);
        vd_stp_f64(out + i, m, vd_fma(xh, w ? vd_load_part(w + i, m) : one, b ? vd_load_part(b + i, m) : zero));
    }
}

/* gx = rstd gh + (a2 xh + a3), gh = g w, xh = (x - mean) rstd: float32 in float lanes (the mean split
 * as in ln_out_f32; a few roundings of terms of the size of gh), float64 in double lanes */
static VEC_TARGET void ln_gx_f32(const float *x, const float *g, const float *w, float *gx, int64_t d, double mean,
                                 double rstd, double a2d, double a3d)
{
    const float hif = (float)mean;
    const vf hi = VC(hif), lo = VC((float)(mean - (double)hif)), r = VC((float)rstd);
    const vf a2 = VC((float)a2d), a3 = VC((float)a3d);
    int64_t i = 0;
    for (; i + VF_W <= d; i += VF_W) {
        const vf gh = w ? vf_mul(vf_load(g + i), vf_load(w + i)) : vf_load(g + i);
        const vf xh = vf_mul(vf_sub(vf_sub(vf_load(x + i), hi), lo), r);
        vf_store(gx + i, vf_fma(r, gh, vf_fma(a2, xh, a3)));
    }
    if (i < d) {
        const int64_t m = d - i;
        const vf gv = vf_load_part(g + i, m);
        const vf gh = w ? vf_mul(gv, vf_load_part(w + i, m)) : gv;
        const vf xh = vf_mul(vf_sub(vf_sub(vf_load_part(x + i, m), hi), lo), r);
        vf_store_part(gx + i, m, vf_fma(r, gh, vf_fma(a2, xh, a3)));
    }
}

static VEC_TARGET void ln_gx_f64(const double *x, const double *g, const double *w, double *gx, int64_t d,
                                 double mean, double rstd, double a2d, double a3d)
{
    const vd vm = vd_set1(mean), vr = vd_set1(rstd), a2 = vd_set1(a2d), a3 = vd_set1(a3d);
    for (int64_t i = 0; i < d; i += VD_W) {
        const int64_t m = d - i;
        const int whole = m >= VD_W;
        const vd gv = whole ? vd_load(g + i) : vd_load_part(g + i, m);
        const vd gh = w ? vd_mul(gv, whole ? vd_load(w + i) : vd_load_part(w + i, m)) : gv;
        const vd xh = vd_mul(vd_sub(whole ? vd_load(x + i) : vd_load_part(x + i, m), vm), vr);
        const vd r = vd_fma(vr, gh, vd_fma(a2, xh, a3));
        if (whole) vd_store(gx + i, r);
        else vd_stp_f64(gx + i, m, r);
    }
}

/* Row statistics, then the output. The deviations e = x - m0 from a first estimate m0 give both the mean's correction
 * (their sum) and the variance (their squares); m0 is x[0] for float32 (one pass over the row: its
 * values carry 24 bits and the double sums lose at most log2 of ((x[0] - mean) / std)^2 of 53, so
 * the statistics stay far beyond float32's precision) and the plain mean for float64 (a pass more,
 * but nothing lost to a far-off x[0]). */
#define LN_DEFINE(T, SUF, ONEPASS)                                                                \
    static VEC_TARGET void ln_fwd_##SUF(const T *x, const T *w, const T *b, T *out, int64_t d, double eps, \
                                        double *mean_o, double *rstd_o)                           \
    {                                                                                             \
        vd a[LN_NA], q[LN_NA];                                                                    \
        for (int k = 0; k < LN_NA; k++) a[k] = q[k] = vd_zero();                                  \
        int64_t i = 0;                                                                            \
        double m0 = (double)x[0];                                                                 \
        if (!(ONEPASS)) {                                                                         \
            for (; i + LN_LD <= d; i += LN_LD)                                                    \
                for (int k = 0; k < LN_NA; k++) a[k] = vd_add(a[k], vd_ld_##SUF(x + i + k * VD_W)); \
            double s = vd_tree(a, LN_NA);                                                         \
            for (; i < d; i++) s += (double)x[i];                                                 \
            m0 = s / (double)d;                                                                   \
            for (int k = 0; k < LN_NA; k++) a[k] = vd_zero();                                     \
        }                                                                                         \
        const vd vm0 = vd_set1(m0);                                                               \
        for (i = 0; i + LN_LD <= d; i += LN_LD)                                                   \
            for (int k = 0; k < LN_NA; k++) {                                                     \
                const vd e = vd_sub(vd_ld_##SUF(x + i + k * VD_W), vm0);                          \
                a[k] = vd_add(a[k], e);                                                           \
                q[k] = vd_fma(e, e, q[k]);                                                        \
            }                                                                                     \
        double s1 = vd_tree(a, LN_NA), s2 = vd_tree(q, LN_NA);                                    \
        for (; i < d; i++) {                                                                      \
            const double e = (double)x[i] - m0;                                                   \
            s1 += e;                                                                              \
            s2 = fma(e, e, s2);                                                                   \
        }                                                                                         \
        const double dm = s1 / (double)d, mean = m0 + dm;                                         \
        double var = s2 / (double)d - dm * dm;                                                    \
        var = var > 0 ? var : 0;                                                                  \
        const double rstd = 1.0 / sqrt(var + eps);                                                \
        *mean_o = mean;                                                                           \
        *rstd_o = rstd;                                                                           \
        ln_out_##SUF(x, w, b, out, d, mean, rstd);                                                \
    }                                                                                             \
                                                                                                  \
    /* gx needs the two row sums first; then gx (ln_gx_*) and the column sums, each one pass */   \
    static VEC_TARGET void ln_bwd_##SUF(const T *x, const T *g, const T *w, int64_t d, double mean, double rstd, \
                                        T *gx, double *pw, double *pb)                            \
    {                                                                                             \
        const vd vm = vd_set1(mean), vr = vd_set1(rstd);                                          \
        int64_t i = 0;                                                                            \
        if (gx) {                                                                                 \
            vd a[LN_NA], q[LN_NA];                                                                \
            for (int k = 0; k < LN_NA; k++) a[k] = q[k] = vd_zero();                              \
            for (; i + LN_LD <= d; i += LN_LD)                                                    \
                for (int k = 0; k < LN_NA; k++) {                                                 \
                    const int64_t j = i + k * VD_W;                                               \
                    vd gh = vd_ld_##SUF(g + j);                                                   \
                    if (w) gh = vd_mul(gh, vd_ld_##SUF(w + j));                                   \
                    const vd xh = vd_mul(vd_sub(vd_ld_##SUF(x + j), vm), vr);                     \
                    a[k] = vd_add(a[k], gh);                                                      \
                    q[k] = vd_fma(gh, xh, q[k]);                                                  \
                }                                                                                 \
            double s1 = vd_tree(a, LN_NA), s2 = vd_tree(q, LN_NA);                                \
            for (; i < d; i++) {                                                                  \
                const double gh = w ? (double)g[i] * (double)w[i] : (double)g[i];                 \
                s1 += gh;                                                                         \
                s2 = fma(gh, ((double)x[i] - mean) * rstd, s2);                                   \
            }                                                                                     \
            ln_gx_##SUF(x, g, w, gx, d, mean, rstd, -rstd * (s2 / (double)d), -rstd * (s1 / (double)d)); \
        }                                                                                         \
        if (!pw && !pb) return;                                                                   \
        /* pw += g xh; pb += g */                                                                 \
        for (i = 0; i < d; i += VD_W) {                                                           \
            const int64_t m = d - i;                                                              \
            const int whole = m >= VD_W;                                                          \
            const vd gv = whole ? vd_ld_##SUF(g + i) : vd_ldp_##SUF(g + i, m);                    \
            if (pw) {                                                                             \
                const vd xv = whole ? vd_ld_##SUF(x + i) : vd_ldp_##SUF(x + i, m);                \
                const vd xh = vd_mul(vd_sub(xv, vm), vr);                                         \
                const vd r = vd_fma(gv, xh, whole ? vd_load(pw + i) : vd_load_part(pw + i, m));   \
                if (whole) vd_store(pw + i, r);                                                   \
                else vd_stp_f64(pw + i, m, r);                                                    \
            }                                                                                     \
            if (pb) {                                                                             \
                const vd r = vd_add(gv, whole ? vd_load(pb + i) : vd_load_part(pb + i, m));       \
                if (whole) vd_store(pb + i, r);                                                   \
                else vd_stp_f64(pb + i, m, r);                                                    \
            }                                                                                     \
        }                                                                                         \
    }

LN_DEFINE(float, f32, 1)
LN_DEFINE(double, f64, 0)

const agc_ln_kernels VEC_NAME(agc_ln_kernels) = {ln_fwd_f32, ln_bwd_f32, ln_fwd_f64, ln_bwd_f64};
