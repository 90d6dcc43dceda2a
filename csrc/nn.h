/* nn.h: the per-tier kernels of nn.c (nn_vec.h instances) that nn.c picks from by
 * agc_isa_active(); shared by nn.c and nn_vec.h only. */
#ifndef AGC_NN_H
#define AGC_NN_H

#include "internal.h"

typedef struct {
    /* batch norm over one contiguous run p[0..s) of a channel (its plain sum is the reductions'
     * M_IDD kernel): the sum of squared deviations from mean, and (backward) the sums of q and of
     * q (p - mean), all in double, added into the caller's totals in a fixed order */
    double (*sqdev)(const float *p, int64_t s, double mean);
    void (*gsums)(const float *p, const float *q, int64_t s, double mean, double *sg, double *sgx);
    /* o = p sc + sh and o = a1 q + a2 p + a3, fused (one rounding each) */
    void (*affine)(const float *p, float *o, int64_t s, float sc, float sh);
    void (*bwdapply)(const float *p, const float *q, float *o, int64_t s, float a1, float a2, float a3);
    /* cross-entropy backward row: o[j] = fma(pa, exp(x[j] - l), -e) */
    void (*xent_grad)(const float *x, float *o, int64_t c, float pa, float l, float e);
    /* batch norm with s == 1, one row x[0..c) of the (n, c) input, per-channel double arrays:
     * rows_sum: acc += x, or acc += (x - mean)^2 when mean is given; rows_gsums: sg += g and
     * sgx += g (x - mean); rows_apply: out = a x + b, or a g + b x + d when g is given */
    void (*rows_sum)(const float *x, const double *mean, double *acc, int64_t c);
    void (*rows_gsums)(const float *x, const float *g, const double *mean, double *sg, double *sgx, int64_t c);
    void (*rows_apply)(const float *x, const float *g, const double *a, const double *b, const double *d, float *out,
                       int64_t c);
    /* the batch-norm kernels for float64 (affine and bwdapply in double) */
    double (*sqdev_d)(const double *p, int64_t s, double mean);
    void (*gsums_d)(const double *p, const double *q, int64_t s, double mean, double *sg, double *sgx);
    void (*affine_d)(const double *p, double *o, int64_t s, double sc, double sh);
    void (*bwdapply_d)(const double *p, const double *q, double *o, int64_t s, double a1, double a2, double a3);
    void (*rows_sum_d)(const double *x, const double *mean, double *acc, int64_t c);
    void (*rows_gsums_d)(const double *x, const double *g, const double *mean, double *sg, double *sgx, int64_t c);
    void (*rows_apply_d)(const double *x, const double *g, const double *a, const double *b, const double *d,
                         double *out, int64_t c);
    /* cross-entropy backward row for float64 */
    void (*xent_grad_d)(const double *x, double *o, int64_t c, double pa, double l, double e);
} agc_nn_kernels;

#if AGC_HAVE_X86
extern const agc_nn_kernels agc_nn_kernels_avx2, agc_nn_kernels_avx512;
#endif

#endif
