/* softmax_vec.h: the float32 and float64 softmax / log_softmax kernels of the vector tiers, written
 * once over vec.h and compiled per ISA by softmax_avx2.c and softmax_avx512.c (each includes vec.h,
 * then this). Same arithmetic as softmax.c's portable loops: max, exp(x - max) summed (float32: in
 * float blocks of SM_BLK into a double; float64: in SM_LD logical double lanes), then a scale by
 * 1 / sum (softmax) or x - max - log(sum) (log_softmax).
 * Tails are masked: masked-off lanes read -inf, whose exp is 0, so every element goes through the
 * same exp. A row's bits depend only on the row and the tier (not on the thread split).
 * Tests: tests/test_reduce_kernels.py (every tier against the portable loops and NumPy). */
#ifndef AGC_VEC_H
#error "include vec.h first"
#endif
#include "softmax.h"

/* one row (inner == 1) */
static VEC_TARGET void sm_row(int log_, const float *x, float *y, int64_t n)
{
    const vf ninf = VC(-INFINITY);
    /* four chains: max has a latency of several cycles and two loads issue per cycle */
    vf m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
    int64_t i = 0;
    for (; i + 4 * VF_W <= n; i += 4 * VF_W) {
        m0 = vf_max(m0, vf_load(x + i));
        m1 = vf_max(m1, vf_load(x + i + VF_W));
        m2 = vf_max(m2, vf_load(x + i + 2 * VF_W));
        m3 = vf_max(m3, vf_load(x + i + 3 * VF_W));
    }
    for (; i + VF_W <= n; i += VF_W) m0 = vf_max(m0, vf_load(x + i));
    if (i < n) m1 = vf_max(m1, vf_select(vm_first(n - i), vf_load_part(x + i, n - i), ninf));
    const float mf = vf_hmax(vf_max(vf_max(m0, m1), vf_max(m2, m3)));
    const vf m = VC(mf);
    double tot = 0;
    for (int64_t b = 0; b < n; b += SM_BLK) {
        const int64_t e = b + SM_BLK < n ? b + SM_BLK : n;
        vf a0 = vf_zero(), a1 = vf_zero();
        for (i = b; i + 2 * VF_W <= e; i += 2 * VF_W) {
            vf v0 = vf_exp(vf_sub(vf_load(x + i), m));
            vf v1 = vf_exp(vf_sub(vf_load(x + i + VF_W), m));
            if (!log_) {
                vf_store(y + i, v0);
                vf_store(y + i + VF_W, v1);
            }
            a0 = vf_add(a0, v0);
            a1 = vf_add(a1, v1);
        }
        for (; i < e; i += VF_W) {
            const int64_t k = e - i;
            vf v = vf_exp(vf_sub(vf_select(vm_first(k), vf_load_part(x + i, k), ninf), m));
            if (!log_) vf_store_part(y + i, k, v);
            a0 = vf_add(a0, v);
        }
        tot += (double)vf_hsum(vf_add(a0, a1));
    }
    if (log_) {
        const float lf = (float)log(tot);
        const vf l = VC(lf);
        for (i = 0; i + VF_W <= n; i += VF_W) vf_store(y + i, vf_sub(vf_sub(vf_load(x + i), m), l));
        for (; i < n; i++) y[i] = (x[i] - mf) - lf;
    } else {
        const float rf = (float)(1.0 / tot);
        const vf r = VC(rf);
        for (i = 0; i + VF_W <= n; i += VF_W) vf_store(y + i, vf_mul(vf_load(y + i), r));
        for (; i < n; i++) y[i] *= rf;
    }
}

/* a tile of tw <= SM_TW columns of one (n, inner) slab, vectorised along the columns; the running
 * float sums are flushed into doubles every SM_RB rows */
static VEC_TARGET void sm_tile(int log_, const float *x, float *y, int64_t n, int64_t inner, int64_t tw)
{
    float m[SM_TW], s[SM_TW];
    double tot[SM_TW];
    for (int64_t j = 0; j < tw; j++) {
        m[j] = -INFINITY;
        s[j] = 0;
        tot[j] = 0;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < tw; j++) m[j] = x[i * inner + j] > m[j] ? x[i * inner + j] : m[j];
    const vf ninf = VC(-INFINITY);
    for (int64_t i = 0; i < n; i++) {
        const float *xr = x + i * inner;
        float *yr = y + i * inner;
        for (int64_t j = 0; j < tw; j += VF_W) {
            const int64_t k = tw - j;
            vf e;
            if (k >= VF_W) {
                e = vf_exp(vf_sub(vf_load(xr + j), vf_load(m + j)));
                if (!log_) vf_store(yr + j, e);
                vf_store(s + j, vf_add(vf_load(s + j), e));
            } else {
                vf v = vf_select(vm_first(k), vf_load_part(xr + j, k), ninf);
                e = vf_exp(vf_sub(v, vf_load_part(m + j, k)));
                if (!log_) vf_store_part(yr + j, k, e);
                vf_store_part(s + j, k, vf_add(vf_load_part(s + j, k), e));
            }
        }
        if ((i + 1) % SM_RB == 0 || i + 1 == n)
            for (int64_t j = 0; j < tw; j++) {
                tot[j] += s[j];
                s[j] = 0;
            }
    }
    if (log_) {
        float l[SM_TW];
        for (int64_t j = 0; j < tw; j++) l[j] = (float)log(tot[j]);
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < tw; j++) y[i * inner + j] = (x[i * inner + j] - m[j]) - l[j];
    } else {
        float r[SM_TW];
        for (int64_t j = 0; j < tw; j++) r[j] = (float)(1.0 / tot[j]);
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < tw; j++) y[i * inner + j] *= r[j];
    }
}

/* one row backward: the sum (of g, or of g * y) in float blocks of SM_BLK into a double, then one
 * pass writing out. Masked stores only for the tail (they are slow on some AMD cores). */
static VEC_TARGET void sm_bwd_row(int log_, const float *y, const float *g, float *out, int64_t n)
{
    double tot = 0;
    for (int64_t b = 0; b < n; b += SM_BLK) {
        const int64_t e = b + SM_BLK < n ? b + SM_BLK : n;
        int64_t i = b;
        vf a0 = vf_zero(), a1 = vf_zero();
        if (log_) {
            for (; i + 2 * VF_W <= e; i += 2 * VF_W) {
                a0 = vf_add(a0, vf_load(g + i));
                a1 = vf_add(a1, vf_load(g + i + VF_W));
            }
            for (; i < e; i += VF_W) a0 = vf_add(a0, vf_load_part(g + i, e - i));
        } else {
            for (; i + 2 * VF_W <= e; i += 2 * VF_W) {
                a0 = vf_fma(vf_load(g + i), vf_load(y + i), a0);
                a1 = vf_fma(vf_load(g + i + VF_W), vf_load(y + i + VF_W), a1);
            }
            for (; i < e; i += VF_W) a0 = vf_fma(vf_load_part(g + i, e - i), vf_load_part(y + i, e - i), a0);
        }
        tot += (double)vf_hsum(vf_add(a0, a1));
    }
    const vf sv = VC((float)tot);
    int64_t i = 0;
    for (; i + VF_W <= n; i += VF_W) {
        vf yv = vf_load(y + i), gv = vf_load(g + i);
        vf_store(out + i, log_ ? vf_fnma(vf_exp(yv), sv, gv) : vf_mul(yv, vf_sub(gv, sv)));
    }
    if (i < n) {
        vf yv = vf_load_part(y + i, n - i), gv = vf_load_part(g + i, n - i);
        vf_store_part(out + i, n - i, log_ ? vf_fnma(vf_exp(yv), sv, gv) : vf_mul(yv, vf_sub(gv, sv)));
    }
}

/* ---------------------------------------------------------------- float64 */
#define SM_NAD (SM_LD / VD_W)

/* the row's max; a zero max is taken as +0 (the vector max's zero sign depends on the lane order) */
VEC_FN double sm_max_d(const double *x, int64_t n)
{
    const vd ninf = VD(-INFINITY);
    vd m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
    int64_t i = 0;
    for (; i + 4 * VD_W <= n; i += 4 * VD_W) {
        m0 = vd_max(m0, vd_load(x + i));
        m1 = vd_max(m1, vd_load(x + i + VD_W));
        m2 = vd_max(m2, vd_load(x + i + 2 * VD_W));
        m3 = vd_max(m3, vd_load(x + i + 3 * VD_W));
    }
    for (; i + VD_W <= n; i += VD_W) m0 = vd_max(m0, vd_load(x + i));
    if (i < n) m1 = vd_max(m1, vd_select(vdm_first(n - i), vd_load_part(x + i, n - i), ninf));
    const double m = vd_hmax(vd_max(vd_max(m0, m1), vd_max(m2, m3)));
    return m == 0 ? 0.0 : m;
}

/* one row: exp(x - max) summed over SM_LD logical double lanes (element i in lane i mod SM_LD on
 * every tier, missing tail lanes read -inf, whose exp is 0) folded by vd_tree: AVX2 and AVX-512
 * bitwise equal; against the portable loop (one running double sum, libm exp) within vd_exp's
 * rounding and the sum's order */
static VEC_TARGET void sm_row_d(int log_, const double *x, double *y, int64_t n)
{
    const vd ninf = VD(-INFINITY);
    const double mf = sm_max_d(x, n);
    const vd m = VD(mf);
    vd a[SM_NAD];
    for (int k = 0; k < SM_NAD; k++) a[k] = vd_zero();
    int64_t i = 0;
    for (; i + SM_LD <= n; i += SM_LD)
        for (int k = 0; k < SM_NAD; k++) {
            const vd v = vd_exp(vd_sub(vd_load(x + i + k * VD_W), m));
            if (!log_) vd_store(y + i + k * VD_W, v);
            a[k] = vd_add(a[k], v);
        }
    for (int k = 0; i < n; i += VD_W, k++) {
        const int64_t r = n - i;
        const vd v = vd_exp(vd_sub(vd_select(vdm_first(r), vd_load_part(x + i, r), ninf), m));
        if (!log_) vd_store_part(y + i, r, v);
        a[k] = vd_add(a[k], v);
    }
    const double tot = vd_tree(a, SM_NAD);
    if (log_) {
        const vd l = VD(log(tot));
        for (i = 0; i + VD_W <= n; i += VD_W) vd_store(y + i, vd_sub(vd_sub(vd_load(x + i), m), l));
        if (i < n) vd_store_part(y + i, n - i, vd_sub(vd_sub(vd_load_part(x + i, n - i), m), l));
    } else {
        const vd r = VD(1.0 / tot);
        for (i = 0; i + VD_W <= n; i += VD_W) vd_store(y + i, vd_mul(vd_load(y + i), r));
        if (i < n) vd_store_part(y + i, n - i, vd_mul(vd_load_part(y + i, n - i), r));
    }
}

/* a tile of tw <= SM_TW columns, vectorised along the columns; each column's max and double sum run
 * over the rows in order, as in the portable loop */
static VEC_TARGET void sm_tile_d(int log_, const double *x, double *y, int64_t n, int64_t inner, int64_t tw)
{
    double m[SM_TW], s[SM_TW];
    for (int64_t j = 0; j < tw; j++) {
        m[j] = -INFINITY;
        s[j] = 0;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < tw; j++) m[j] = x[i * inner + j] > m[j] ? x[i * inner + j] : m[j];
    const vd ninf = VD(-INFINITY);
    for (int64_t i = 0; i < n; i++) {
        const double *xr = x + i * inner;
        double *yr = y + i * inner;
        for (int64_t j = 0; j < tw; j += VD_W) {
            const int64_t k = tw - j;
            if (k >= VD_W) {
                const vd e = vd_exp(vd_sub(vd_load(xr + j), vd_load(m + j)));
                if (!log_) vd_store(yr + j, e);
                vd_store(s + j, vd_add(vd_load(s + j), e));
            } else {
                const vd v = vd_select(vdm_first(k), vd_load_part(xr + j, k), ninf);
                const vd e = vd_exp(vd_sub(v, vd_load_part(m + j, k)));
                if (!log_) vd_store_part(yr + j, k, e);
                vd_store_part(s + j, k, vd_add(vd_load_part(s + j, k), e));
            }
        }
    }
    if (log_) {
        double l[SM_TW];
        for (int64_t j = 0; j < tw; j++) l[j] = log(s[j]);
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < tw; j++) y[i * inner + j] = (x[i * inner + j] - m[j]) - l[j];
    } else {
        double r[SM_TW];
        for (int64_t j = 0; j < tw; j++) r[j] = 1.0 / s[j];
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < tw; j++) y[i * inner + j] *= r[j];
    }
}

/* one row backward: the sum (of g, or of g y, fused) over SM_LD logical double lanes, then one pass
 * writing out (log_softmax's g - exp(y) s fused) */
static VEC_TARGET void sm_bwd_row_d(int log_, const double *y, const double *g, double *out, int64_t n)
{
    vd a[SM_NAD];
    for (int k = 0; k < SM_NAD; k++) a[k] = vd_zero();
    int64_t i = 0;
    for (; i + SM_LD <= n; i += SM_LD)
        for (int k = 0; k < SM_NAD; k++) {
            const vd gv = vd_load(g + i + k * VD_W);
            a[k] = log_ ? vd_add(a[k], gv) : vd_fma(gv, vd_load(y + i + k * VD_W), a[k]);
        }
    for (int k = 0; i < n; i += VD_W, k++) {
        const vd gv = vd_load_part(g + i, n - i);
        a[k] = log_ ? vd_add(a[k], gv) : vd_fma(gv, vd_load_part(y + i, n - i), a[k]);
    }
    const vd sv = VD(vd_tree(a, SM_NAD));
    for (i = 0; i + VD_W <= n; i += VD_W) {
        const vd yv = vd_load(y + i), gv = vd_load(g + i);
        vd_store(out + i, log_ ? vd_fnma(vd_exp(yv), sv, gv) : vd_mul(yv, vd_sub(gv, sv)));
    }
    if (i < n) {
        const vd yv = vd_load_part(y + i, n - i), gv = vd_load_part(g + i, n - i);
        vd_store_part(out + i, n - i, log_ ? vd_fnma(vd_exp(yv), sv, gv) : vd_mul(yv, vd_sub(gv, sv)));
    }
}

const agc_softmax_kernels VEC_NAME(agc_softmax_kernels) = {sm_row,   sm_tile,   sm_bwd_row,
                                                          sm_row_d, sm_tile_d, sm_bwd_row_d};
