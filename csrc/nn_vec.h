/* nn_vec.h: the batch-norm and cross-entropy gradient row kernels (float32 and float64) of the vector
 * tiers (the agc_nn_kernels table of nn.h), written once over vec.h and compiled per ISA by nn_avx2.c and
 * nn_avx512.c (each includes vec.h, then this). nn.c keeps the portable loops as the reference.
 *
 * Equality contract (tests/test_vec_tiers_families.py):
 * (A channel run's plain sum in double is the reductions' M_IDD kernel, reduce_vec.h.)
 * - The double sums run over NN_LD = 16 logical double lanes (AVX2: 4 vectors of 4, AVX-512: 2 of 8;
 *   element k of a run always in lane k mod 16), folded by one halving tree (vector levels first),
 *   then the last s mod 16 elements added in order: AVX2 and AVX-512 are bitwise equal; against the
 *   portable loops (4 scalar accumulators, unfused squares) they differ by double rounding only,
 *   invisible after the float32 results are rounded except at ties.
 * - affine, bwdapply and xent_grad are elementwise and fused (explicit fma): AVX2 and AVX-512 bitwise
 *   equal, within one float32 rounding of the portable loops' unfused arithmetic (xent_grad also by
 *   vf_exp against expf, 2 ulp; the float64 xent_grad by vd_exp against exp, 1 ulp).
 * - The s == 1 layout ((n, c): one lane per channel, rows in order) adds in the portable loops'
 *   order: its plain sums are bitwise equal to them; the squared deviations, the gradient sums and
 *   the outputs are fused (one double rounding less), so AVX2 and AVX-512 are bitwise equal and the
 *   float32 results match the portable ones except at double-rounding ties.
 * - float64 runs the same bodies (nn_*_f64: loads without widening; affine and bwdapply in double
 *   lanes), with the same contract in float64 units.
 * Tails are masked vectors: an element's bits do not depend on its position. */
#ifndef AGC_VEC_H
#error "include vec.h first"
#endif
#include "nn.h"

#define NN_LD 16
#define NN_NA (NN_LD / VD_W)

/* the halving tree over NN_LD logical double lanes held in a[0..NN_NA) */
VEC_FN double nn_tree(vd *a) { return vd_tree(a, NN_NA); }


/* Batch norm with s == 1 (nn_rows_*), one row of c channels: each channel's double accumulator (or
 * output) in a lane, channels in vectors of VD_W, the last partial vector through a scratch (no
 * masked store). */
#define NN_LDD(p, k, m) ((m) == VD_W ? vd_load((p) + (k)) : vd_load_part((p) + (k), m))

#define NN_DEFINE(T, SUF)                                                                         \
    static VEC_TARGET double nn_sqdev_##SUF(const T *p, int64_t s, double mean)                  \
    {                                                                                             \
        const vd m = vd_set1(mean);                                                               \
        vd a[NN_NA];                                                                              \
        for (int k = 0; k < NN_NA; k++) a[k] = vd_zero();                                         \
        int64_t i = 0;                                                                            \
        for (; i + NN_LD <= s; i += NN_LD)                                                        \
            for (int k = 0; k < NN_NA; k++) {                                                     \
                const vd d = vd_sub(vd_ld_##SUF(p + i + k * VD_W), m);                            \
                a[k] = vd_fma(d, d, a[k]);                                                        \
            }                                                                                     \
        double r = nn_tree(a);                                                                    \
        for (; i < s; i++) {                                                                      \
            const double d = (double)p[i] - mean;                                                 \
            r = fma(d, d, r);                                                                     \
        }                                                                                         \
        return r;                                                                                 \
    }                                                                                             \
                                                                                                  \
    static VEC_TARGET void nn_gsums_##SUF(const T *p, const T *q, int64_t s, double mean, double *sg, double *sgx) \
    {                                                                                             \
        const vd m = vd_set1(mean);                                                               \
        vd a[NN_NA], b[NN_NA];                                                                    \
        for (int k = 0; k < NN_NA; k++) a[k] = b[k] = vd_zero();                                  \
        int64_t i = 0;                                                                            \
        for (; i + NN_LD <= s; i += NN_LD)                                                        \
            for (int k = 0; k < NN_NA; k++) {                                                     \
                const vd gv = vd_ld_##SUF(q + i + k * VD_W);                                      \
                a[k] = vd_add(a[k], gv);                                                          \
                b[k] = vd_fma(gv, vd_sub(vd_ld_##SUF(p + i + k * VD_W), m), b[k]);                \
            }                                                                                     \
        double ra = nn_tree(a), rb = nn_tree(b);                                                  \
        for (; i < s; i++) {                                                                      \
            ra += (double)q[i];                                                                   \
            rb = fma((double)q[i], (double)p[i] - mean, rb);                                      \
        }                                                                                         \
        *sg += ra;                                                                                \
        *sgx += rb;                                                                               \
    }                                                                                             \
                                                                                                  \
    /* acc += x; with mean: acc += (x - mean)^2 (fused) */                                        \
    static VEC_TARGET void nn_rows_sum_##SUF(const T *x, const double *mean, double *acc, int64_t c) \
    {                                                                                             \
        if (!mean) {                                                                              \
            for (int64_t k = 0; k < c; k += VD_W) {                                                   \
                const int64_t m = c - k < VD_W ? c - k : VD_W;                                    \
                const vd v = m == VD_W ? vd_ld_##SUF(x + k) : vd_ldp_##SUF(x + k, m);             \
                vd_stp_f64(acc + k, m, vd_add(NN_LDD(acc, k, m), v));                             \
            }                                                                                     \
            return;                                                                               \
        }                                                                                         \
        for (int64_t k = 0; k < c; k += VD_W) {                                                   \
            const int64_t m = c - k < VD_W ? c - k : VD_W;                                        \
            const vd d = vd_sub(m == VD_W ? vd_ld_##SUF(x + k) : vd_ldp_##SUF(x + k, m), NN_LDD(mean, k, m)); \
            vd_stp_f64(acc + k, m, vd_fma(d, d, NN_LDD(acc, k, m)));                              \
        }                                                                                         \
    }                                                                                             \
                                                                                                  \
    /* sg += g; sgx += g (x - mean) (fused) */                                                    \
    static VEC_TARGET void nn_rows_gsums_##SUF(const T *x, const T *g, const double *mean, double *sg, double *sgx, \
                                               int64_t c)                                         \
    {                                                                                             \
        for (int64_t k = 0; k < c; k += VD_W) {                                                   \
            const int64_t m = c - k < VD_W ? c - k : VD_W;                                        \
            const vd q = m == VD_W ? vd_ld_##SUF(g + k) : vd_ldp_##SUF(g + k, m);                 \
            const vd xv = m == VD_W ? vd_ld_##SUF(x + k) : vd_ldp_##SUF(x + k, m);                \
            vd_stp_f64(sg + k, m, vd_add(NN_LDD(sg, k, m), q));                                   \
            vd_stp_f64(sgx + k, m, vd_fma(q, vd_sub(xv, NN_LDD(mean, k, m)), NN_LDD(sgx, k, m))); \
        }                                                                                         \
    }                                                                                             \
                                                                                                  \
    /* out = (T)(a x + b), or with g: (T)(a g + (b x + d)), in double, fused */                   \
    static VEC_TARGET void nn_rows_apply_##SUF(const T *x, const T *g, const double *a, const double *b, \
                                               const double *d, T *out, int64_t c)                \
    {                                                                                             \
        for (int64_t k = 0; k < c; k += VD_W) {                                                   \
            const int64_t m = c - k < VD_W ? c - k : VD_W;                                        \
            const vd xv = m == VD_W ? vd_ld_##SUF(x + k) : vd_ldp_##SUF(x + k, m);                \
            vd r;                                                                                 \
            if (!g) {                                                                             \
                r = vd_fma(xv, NN_LDD(a, k, m), NN_LDD(b, k, m));                                 \
            } else {                                                                              \
                const vd gv = m == VD_W ? vd_ld_##SUF(g + k) : vd_ldp_##SUF(g + k, m);            \
                r = vd_fma(NN_LDD(a, k, m), gv, vd_fma(NN_LDD(b, k, m), xv, NN_LDD(d, k, m)));    \
            }                                                                                     \
            vd_stp_##SUF(out + k, m, r);                                                           \
        }                                                                                         \
    }

NN_DEFINE(float, f32)
NN_DEFINE(double, f64)

static VEC_TARGET void nn_affine_f32(const float *p, float *o, int64_t s, float sc, float sh)
{
    const vf a = VC(sc), b = VC(sh);
    int64_t i = 0;
    for (; i + VF_W <= s; i += VF_W) vf_store(o + i, vf_fma(vf_load(p + i), a, b));
    if (i < s) vf_store_part(o + i, s - i, vf_fma(vf_load_part(p + i, s - i), a, b));
}

static VEC_TARGET void nn_bwdapply_f32(const float *p, const float *q, float *o, int64_t s, float a1, float a2,
                                       float a3)
{
    const vf v1 = VC(a1), v2 = VC(a2), v3 = VC(a3);
    int64_t i = 0;
    for (; i + VF_W <= s; i += VF_W)
        vf_store(o + i, vf_fma(v1, vf_load(q + i), vf_fma(v2, vf_load(p + i), v3)));
    if (i < s) {
        const int64_t k = s - i;
        vf_store_part(o + i, k, vf_fma(v1, vf_load_part(q + i, k), vf_fma(v2, vf_load_part(p + i, k), v3)));
    }
}

/* the same two in double lanes for float64 */
static VEC_TARGET void nn_affine_f64(const double *p, double *o, int64_t s, double sc, double sh)
{
    const vd a = vd_set1(sc), b = vd_set1(sh);
    for (int64_t i = 0; i < s; i += VD_W) {
        const int64_t m = s - i < VD_W ? s - i : VD_W;
        vd_stp_f64(o + i, m, vd_fma(NN_LDD(p, i, m), a, b));
    }
}

static VEC_TARGET void nn_bwdapply_f64(const double *p, const double *q, double *o, int64_t s, double a1, double a2,
                                       double a3)
{
    const vd v1 = vd_set1(a1), v2 = vd_set1(a2), v3 = vd_set1(a3);
    for (int64_t i = 0; i < s; i += VD_W) {
        const int64_t m = s - i < VD_W ? s - i : VD_W;
        vd_stp_f64(o + i, m, vd_fma(v1, NN_LDD(q, i, m), vd_fma(v2, NN_LDD(p, i, m), v3)));
    }
}

static VEC_TARGET void nn_xent_grad(const float *x, float *o, int64_t c, float pa, float l, float e)
{
    const vf va = VC(pa), vl = VC(l), ve = VC(-e);
    int64_t i = 0;
    for (; i + VF_W <= c; i += VF_W) vf_store(o + i, vf_fma(va, vf_exp(vf_sub(vf_load(x + i), vl)), ve));
    if (i < c) {
        const int64_t k = c - i;
        vf_store_part(o + i, k, vf_fma(va, vf_exp(vf_sub(vf_load_part(x + i, k), vl)), ve));
    }
}

static VEC_TARGET void nn_xent_grad_f64(const double *x, double *o, int64_t c, double pa, double l, double e)
{
    const vd va = VD(pa), vl = VD(l), ve = VD(-e);
    int64_t i = 0;
    for (; i + VD_W <= c; i += VD_W) vd_store(o + i, vd_fma(va, vd_exp(vd_sub(vd_load(x + i), vl)), ve));
    if (i < c) {
        const int64_t k = c - i;
        vd_store_part(o + i, k, vd_fma(va, vd_exp(vd_sub(vd_load_part(x + i, k), vl)), ve));
    }
}

const agc_nn_kernels VEC_NAME(agc_nn_kernels) = {
    nn_sqdev_f32, nn_gsums_f32, nn_affine_f32, nn_bwdapply_f32, nn_xent_grad,
    nn_rows_sum_f32, nn_rows_gsums_f32, nn_rows_apply_f32,
    nn_sqdev_f64, nn_gsums_f64, nn_affine_f64, nn_bwdapply_f64,
    nn_rows_sum_f64, nn_rows_gsums_f64, nn_rows_apply_f64, nn_xent_grad_f64,
};
