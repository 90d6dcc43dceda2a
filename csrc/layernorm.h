/* layernorm.h: the per-tier row kernels of layer normalisation (layernorm_vec.h, compiled once per
 * ISA: portable in layernorm.c, AVX2 and AVX-512 in their own files), picked by layernorm.c from
 * agc_isa_active(); shared by layernorm.c and layernorm_vec.h only. */
#ifndef AGC_LAYERNORM_H
#define AGC_LAYERNORM_H

#include "internal.h"

/* One row x[0..d) of T (float or double), all arithmetic in double.
 * fwd: *mean and *rstd = 1 / sqrt(var + eps) of the row (biased variance), and
 *   out = (x - mean) rstd w + b, w / b NULL meaning 1 / 0.
 * bwd: with gh = g w (g when w is NULL) and xh = (x - mean) rstd:
 *   gx = rstd (gh - mean(gh) - xh mean(gh xh)) when gx is not NULL; and the column sums
 *   pw[j] += g[j] xh[j], pb[j] += g[j] when pw / pb are not NULL (doubles, one per column). */
typedef struct {
    void (*fwd_f32)(const float *x, const float *w, const float *b, float *out, int64_t d, double eps, double *mean,
                    double *rstd);
    void (*bwd_f32)(const float *x, const float *g, const float *w, int64_t d, double mean, double rstd, float *gx,
                    double *pw, double *pb);
    void (*fwd_f64)(const double *x, const double *w, const double *b, double *out, int64_t d, double eps,
                    double *mean, double *rstd);
    void (*bwd_f64)(const double *x, const double *g, const double *w, int64_t d, double mean, double rstd,
                    double *gx, double *pw, double *pb);
} agc_ln_kernels;

extern const agc_ln_kernels agc_ln_kernels_portable;
#if AGC_HAVE_X86
extern const agc_ln_kernels agc_ln_kernels_avx2, agc_ln_kernels_avx512;
#endif

#endif
