/* reduce_vec.h: the float32 reduction kernels (and float64 row and column sums and max/min) of the
 * vector tiers (the agc_reduce_kernels table of reduce.h), written once over vec.h and compiled per ISA by
 * reduce_avx2.c and reduce_avx512.c (each includes vec.h, then this). reduce.c calls them for
 * contiguous runs and column sums and keeps the portable loops as the reference (and for strided
 * runs, float64 column max/min and the rarer modes).
 *
 * Equality contract (tests/test_vec_tiers.py):
 * - Row sums run in float blocks of RD_VBLK elements over RV_L = 64 logical lanes (AVX2: 8 vectors of
 *   8, AVX-512: 4 of 16; element i of a block always lands in lane i mod 64, tails included), folded
 *   by one halving tree (lanes l and l + 32, then l + 16, ..., vector levels first, the last vector's
 *   lanes after), each block total added into a double. Every tier performs the same additions in
 *   the same order, so AVX2 and AVX-512 are bitwise equal; against the portable loops (16 lanes over
 *   256-element blocks) they differ by float rounding only (M_EXPC also by vf_exp against expf).
 * - The sums in double (M_SQD: squares, the float32 norm2; M_IDD: values, var's mean and batch
 *   norm's channel sums) run in 16 logical double lanes the same way, the run's last n mod 16 terms
 *   added in order after the tree: AVX2 and AVX-512 bitwise equal.
 * - float64 row sums (M_ID, M_SQ, M_ABS, M_DEV2) follow the portable loops' order and rounding: bitwise
 *   equal to them on every tier; M_EXPC (logsumexp) the same order with vd_exp for exp, so the tiers
 *   are bitwise equal to each other and within vd_exp's rounding of the portable loop.
 * - Max/min (values and first indices, float32 and float64) and the column max/min are exact: bitwise
 *   equal to the portable loops on every tier (NaN rules and the sign of a zero extreme included).
 * - Column sums add in position order per output like the portable loops: float32 M_ID and M_ABS
 *   bitwise equal to them, M_SQ and M_DEV2 fuse the square into the add (one rounding less), M_EXPC
 *   uses vf_exp; float64 M_ID, M_SQ, M_ABS and M_DEV2 use the portable loops' operations (no fused
 *   square) and are bitwise equal to them, M_EXPC uses vd_exp; the tiers are bitwise equal to each
 *   other (each output is one lane's arithmetic).
 * Tails are whole vectors with the missing lanes set to the term's neutral input (0, c or -inf),
 * so a lane's result never depends on where the run ends; no store touches memory past the data. */
#ifndef AGC_VEC_H
#error "include vec.h first"
#endif
#include "reduce.h"

#define RV_L 64              /* logical float lanes of a row sum (every tier) */
#define RV_NA (RV_L / VF_W)  /* vectors holding them */
#define RV_LD 16             /* logical double lanes of the float32 norm2 sum */
#define RV_NAD (RV_LD / VD_W)

/* the halving tree over the RV_L logical lanes held in a[0..RV_NA) */
VEC_FN float rv_tree(vf *a) { return vf_tree(a, RV_NA); }

/* Row sum of one mode. ACC(a, v) adds v's term into a; NEUTRAL is the input whose term is 0. */
#define RV_LSUM(NAME, ACC, NEUTRAL)                                                               \
    static VEC_TARGET double NAME(const float *x, int64_t n, float cf)                            \
    {                                                                                             \
        const vf c = VC(cf);                                                                      \
        (void)c;                                                                                  \
        double tot = 0;                                                                           \
        while (n > 0) {                                                                           \
            const int64_t m = n < RD_VBLK ? n : RD_VBLK;                                          \
            vf a[RV_NA];                                                                          \
            for (int k = 0; k < RV_NA; k++) a[k] = vf_zero();                                     \
            int64_t i = 0;                                                                        \
            for (; i + RV_L <= m; i += RV_L)                                                      \
                for (int k = 0; k < RV_NA; k++) {                                                 \
                    const vf v = vf_load(x + i + k * VF_W);                                       \
                    a[k] = ACC(a[k], v);                                                          \
                }                                                                                 \
            for (int k = 0; i < m; i += VF_W, k++) {                                              \
                const vf v = vf_select(vm_first(m - i), vf_load_part(x + i, m - i), NEUTRAL);     \
                a[k] = ACC(a[k], v);                                                              \
            }                                                                                     \
            tot += (double)rv_tree(a);                                                            \
            x += m;                                                                               \
            n -= m;                                                                               \
        }                                                                                         \
        return tot;                                                                               \
    }

#define RV_ACC_ID(a, v) vf_add(a, v)
#define RV_ACC_SQ(a, v) vf_fma(v, v, a)
#define RV_ACC_ABS(a, v) vf_add(a, vf_abs(v))
#define RV_ACC_DEV2(a, v) vf_fma(vf_sub(v, c), vf_sub(v, c), a)
#define RV_ACC_EXPC(a, v) vf_add(a, vf_exp(vf_sub(v, c)))
RV_LSUM(rv_lsum_id, RV_ACC_ID, vf_zero())
RV_LSUM(rv_lsum_sq, RV_ACC_SQ, vf_zero())
RV_LSUM(rv_lsum_abs, RV_ACC_ABS, vf_zero())
RV_LSUM(rv_lsum_dev2, RV_ACC_DEV2, c)
/* c is the run's finite max here, so exp(-inf - c) = 0 */
RV_LSUM(rv_lsum_expc, RV_ACC_EXPC, VC(-INFINITY))

/* the halving tree over the RV_LD logical double lanes held in a[0..RV_NAD) */
VEC_FN double rv_tree_d(vd *a) { return vd_tree(a, RV_NAD); }
/* float32 squares (norm2) or values summed in double: RV_LD logical double lanes, the last
 * n mod RV_LD terms added in order after the tree */
static VEC_TARGET double rv_lsum_sqd(const float *x, int64_t n, float cf)
{
    (void)cf;
    vd a[RV_NAD];
    for (int k = 0; k < RV_NAD; k++) a[k] = vd_zero();
    int64_t i = 0;
    for (; i + RV_LD <= n; i += RV_LD)
        for (int k = 0; k < RV_NAD; k++) {
            const vd v = vd_load_f32(x + i + k * VD_W);
            a[k] = vd_fma(v, v, a[k]);
        }
    double tot = rv_tree_d(a);
    for (; i < n; i++) tot = fma((double)x[i], (double)x[i], tot);
    return tot;
}

static VEC_TARGET double rv_lsum_idd(const float *x, int64_t n, float cf)
{
    (void)cf;
    vd a[RV_NAD];
    for (int k = 0; k < RV_NAD; k++) a[k] = vd_zero();
    int64_t i = 0;
    for (; i + RV_LD <= n; i += RV_LD)
        for (int k = 0; k < RV_NAD; k++) a[k] = vd_add(a[k], vd_load_f32(x + i + k * VD_W));
    double tot = rv_tree_d(a);
    for (; i < n; i++) tot += (double)x[i];
    return tot;
}

/* float64 row sums: the portable loops' order exactly (RD_BLK-element blocks, element i of a block in
 * logical lane i mod 16, vd_tree's halving = the portable pairwise combine, block totals added into
 * a double) and their unfused products, so every tier is bitwise equal to the portable loops. The
 * block's last partial vector loads the mode's neutral input in its missing lanes, whose term is +0. */
#define RV_LSUMD(NAME, TERM, NEUTRAL)                                                             \
    static VEC_TARGET double NAME(const double *x, int64_t n, double cd)                          \
    {                                                                                             \
        const vd c = vd_set1(cd);                                                                 \
        (void)c;                                                                                  \
        double tot = 0;                                                                           \
        while (n > 0) {                                                                           \
            const int64_t m = n < RD_BLK ? n : RD_BLK;                                            \
            vd a[RV_NAD];                                                                         \
            for (int k = 0; k < RV_NAD; k++) a[k] = vd_zero();                                    \
            int64_t i = 0;                                                                        \
            for (; i + RV_LD <= m; i += RV_LD)                                                    \
                for (int k = 0; k < RV_NAD; k++) {                                                \
                    const vd v = vd_load(x + i + k * VD_W);                                       \
                    a[k] = vd_add(a[k], TERM(v));                                                 \
                }                                                                                 \
            for (int k = 0; i < m; i += VD_W, k++) {                                              \
                const vd v = rv_loadd_part(x + i, m - i, NEUTRAL);                                \
                a[k] = vd_add(a[k], TERM(v));                                                     \
            }                                                                                     \
            tot += vd_tree(a, RV_NAD);                                                            \
            x += m;                                                                               \
            n -= m;                                                                               \
        }                                                                                         \
        return tot;                                                                               \
    }
/* the first m (>= 1) of VD_W doubles, the other lanes `fill` */
VEC_FN vd rv_loadd_part(const double *p, int64_t m, double fill)
{
    if (m >= VD_W) return vd_load(p);
    double t[VD_W];
    for (int j = 0; j < VD_W; j++) t[j] = j < m ? p[j] : fill;
    return vd_load(t);
}
#define RV_TD_ID(v) (v)
#define RV_TD_SQ(v) vd_mul(v, v)
#define RV_TD_DEV2(v) vd_mul(vd_sub(v, c), vd_sub(v, c))
#define RV_TD_ABS(v) vd_abs(v)
#define RV_TD_EXPC(v) vd_exp(vd_sub(v, c))
RV_LSUMD(rv_lsumd_id, RV_TD_ID, 0.0)
RV_LSUMD(rv_lsumd_sq, RV_TD_SQ, 0.0)
RV_LSUMD(rv_lsumd_abs, RV_TD_ABS, 0.0)
RV_LSUMD(rv_lsumd_dev2, RV_TD_DEV2, cd)
/* c is the run's finite max here, so exp(-inf - c) = 0 */
RV_LSUMD(rv_lsumd_expc, RV_TD_EXPC, -INFINITY)

/* max/min of a contiguous run: one vector pass for the value (NaN seen: return 0), then, when the
 * index is wanted or the extreme is a zero, the first position equal to it. One body for float32 (vf,
 * P = vf_) and float64 (vd, P = vd_, masks vdm_). */
#define RV_LEXT(NAME, T, VT, MT, W, P, MP)                                                         \
    static VEC_TARGET int NAME(const T *x, int64_t n, int ismax, int needix, T *mout, int64_t *kout) \
    {                                                                                              \
        const T initf = ismax ? -INFINITY : INFINITY;                                              \
        const VT init = P##set1(initf);                                                            \
        VT m0 = init, m1 = init;                                                                   \
        MT bad = P##isnan(P##zero());                                                              \
        int64_t i = 0;                                                                             \
        if (ismax) {                                                                               \
            RV_EXT_PASS(VT, W, P, MP, P##max)                                                      \
        } else {                                                                                   \
            RV_EXT_PASS(VT, W, P, MP, P##min)                                                      \
        }                                                                                          \
        if (MP##bits(bad)) return 0;                                                               \
        T t[W];                                                                                    \
        P##store(t, m0);                                                                           \
        T m = t[0];                                                                                \
        for (int j = 1; j < W; j++) m = ismax ? (t[j] > m ? t[j] : m) : (t[j] < m ? t[j] : m);     \
        int64_t k = 0;                                                                             \
        if (needix || m == 0) {                                                                    \
            const VT mv = P##set1(m);                                                              \
            for (k = 0; k < n; k += W) {                                                           \
                const uint32_t hit =                                                               \
                    MP##bits(MP##and(MP##first(n - k), P##eq(P##load_part(x + k, n - k), mv)));    \
                if (hit) {                                                                         \
                    k += __builtin_ctz(hit);                                                       \
                    break;                                                                         \
                }                                                                                  \
            }                                                                                      \
            m = x[k]; /* the first zero's sign */                                                  \
        }                                                                                          \
        *mout = m;                                                                                 \
        *kout = k;                                                                                 \
        return 1;                                                                                  \
    }
#define RV_EXT_PASS(VT, W, P, MP, OP)                                                              \
    for (; i + 2 * W <= n; i += 2 * W) {                                                           \
        const VT v0 = P##load(x + i), v1 = P##load(x + i + W);                                     \
        bad = MP##or(bad, MP##or(P##isnan(v0), P##isnan(v1)));                                     \
        m0 = OP(m0, v0);                                                                           \
        m1 = OP(m1, v1);                                                                           \
    }                                                                                              \
    for (; i < n; i += W) {                                                                        \
        const VT v = P##select(MP##first(n - i), P##load_part(x + i, n - i), init);                \
        bad = MP##or(bad, P##isnan(v));                                                            \
        m0 = OP(m0, v);                                                                            \
    }                                                                                              \
    m0 = OP(m0, m1);
RV_LEXT(rv_lext, float, vf, vm, VF_W, vf_, vm_)
RV_LEXT(rv_lextd, double, vd, vdm, VD_W, vd_, vdm_)

/* column sums; ACC(a, v, C) with C the expression of the outputs' constants (read only by the modes
 * that use it). The last partial vector goes through a scratch vector: no masked store. Written once
 * for float and double (PARAM_P: double's kernels take the portable kernels' unused p, so both share
 * reduce.c's call). */
#define RV_CSUM_(NAME, T, VT, W, P, ACC, PARAM_P)                                                 \
    static VEC_TARGET void NAME(const T *x, int64_t n, int64_t s, int64_t G, const T *c, PARAM_P T *a, \
                                double *tot, int64_t *cnt)                                        \
    {                                                                                             \
        (void)c;                                                                                  \
        for (int64_t i = 0; i < n; i++) {                                                         \
            const T *row = x + i * s;                                                             \
            int64_t j = 0;                                                                        \
            for (; j + W <= G; j += W) {                                                          \
                const VT v = P##load(row + j);                                                    \
                P##store(a + j, ACC(P##load(a + j), v, P##load(c + j)));                          \
            }                                                                                     \
            if (j < G) {                                                                          \
                const int64_t k = G - j;                                                          \
                const VT v = P##load_part(row + j, k);                                            \
                T t[W];                                                                           \
                P##store(t, ACC(P##load_part(a + j, k), v, P##load_part(c + j, k)));              \
                memcpy(a + j, t, (size_t)k * sizeof(T));                                          \
            }                                                                                     \
            if (++*cnt == RD_RB) {                                                                \
                for (j = 0; j < G; j++) {                                                         \
                    tot[j] += (double)a[j];                                                       \
                    a[j] = 0;                                                                     \
                }                                                                                 \
                *cnt = 0;                                                                         \
            }                                                                                     \
        }                                                                                         \
    }
#define RV_NOP_
#define RV_DP_ double p,
#define RV_CSUM(NAME, ACC) RV_CSUM_(NAME, float, vf, VF_W, vf_, ACC, RV_NOP_)
#define RV_CSUMD(NAME, ACC) RV_CSUM_(NAME, double, vd, VD_W, vd_, ACC, RV_DP_)
#define RV_CACC_ID(a, v, C) vf_add(a, v)
#define RV_CACC_SQ(a, v, C) vf_fma(v, v, a)
#define RV_CACC_ABS(a, v, C) vf_add(a, vf_abs(v))
#define RV_CACC_DEV2(a, v, C) rv_dev2_acc(a, v, C)
#define RV_CACC_EXPC(a, v, C) vf_add(a, vf_exp(vf_sub(v, C)))
VEC_FN vf rv_dev2_acc(vf a, vf v, vf c)
{
    const vf d = vf_sub(v, c);
    return vf_fma(d, d, a);
}
RV_CSUM(rv_csum_id, RV_CACC_ID)
RV_CSUM(rv_csum_sq, RV_CACC_SQ)
RV_CSUM(rv_csum_abs, RV_CACC_ABS)
RV_CSUM(rv_csum_dev2, RV_CACC_DEV2)
RV_CSUM(rv_csum_expc, RV_CACC_EXPC)
/* float64: the portable loop's operations (products rounded before the add), so bitwise equal to it;
 * M_EXPC with vd_exp */
#define RV_CACCD_ID(a, v, C) vd_add(a, v)
#define RV_CACCD_SQ(a, v, C) vd_add(a, vd_mul(v, v))
#define RV_CACCD_ABS(a, v, C) vd_add(a, vd_abs(v))
#define RV_CACCD_DEV2(a, v, C) vd_add(a, vd_mul(vd_sub(v, C), vd_sub(v, C)))
#define RV_CACCD_EXPC(a, v, C) vd_add(a, vd_exp(vd_sub(v, C)))
RV_CSUMD(rv_csumd_id, RV_CACCD_ID)
RV_CSUMD(rv_csumd_sq, RV_CACCD_SQ)
RV_CSUMD(rv_csumd_abs, RV_CACCD_ABS)
RV_CSUMD(rv_csumd_dev2, RV_CACCD_DEV2)
RV_CSUMD(rv_csumd_expc, RV_CACCD_EXPC)

/* column max/min: a lane updates on a strictly better value (ties keep the first) or on the first
 * NaN, after which it keeps the NaN (the portable loop's rules); rows read in order */
static VEC_TARGET void rv_cext(const float *x, int64_t n, int64_t s, int64_t G, int ismax, int64_t pos0, float *mv,
                               float *pv)
{
    for (int64_t i = 0; i < n; i++, x += s) {
        const int64_t pos = pos0 + i;
        if (pos == 0) {
            for (int64_t j = 0; j < G; j++) {
                mv[j] = x[j];
                pv[j] = 0;
            }
            continue;
        }
        const vf pw = VC((float)pos);
        for (int64_t j = 0; j < G; j += VF_W) {
            const int64_t k = G - j;
            const vf v = vf_load_part(x + j, k), m = vf_load_part(mv + j, k);
            const vm better = ismax ? vf_gt(v, m) : vf_lt(v, m);
            const vm upd = vm_or(better, vm_and(vf_isnan(v), vf_eq(m, m)));
            const vf nm = vf_select(upd, v, m), np = vf_select(upd, pw, vf_load_part(pv + j, k));
            if (k >= VF_W) {
                vf_store(mv + j, nm);
                vf_store(pv + j, np);
            } else {
                float t[VF_W];
                vf_store(t, nm);
                memcpy(mv + j, t, (size_t)k * sizeof(float));
                vf_store(t, np);
                memcpy(pv + j, t, (size_t)k * sizeof(float));
            }
        }
    }
}

const agc_reduce_kernels VEC_NAME(agc_reduce_kernels) = {
    {rv_lsum_id, rv_lsum_sq, rv_lsum_abs, rv_lsum_dev2, rv_lsum_expc, rv_lsum_sqd, rv_lsum_idd},
    {rv_lsumd_id, rv_lsumd_sq, rv_lsumd_abs, rv_lsumd_dev2, rv_lsumd_expc},
    rv_lext,
    rv_lextd,
    {rv_csum_id, rv_csum_sq, rv_csum_abs, rv_csum_dev2, rv_csum_expc},
    {rv_csumd_id, rv_csumd_sq, rv_csumd_abs, rv_csumd_dev2, rv_csumd_expc},
    rv_cext,
};
