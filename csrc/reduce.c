/* reduce.c: reductions (agc_reduce): sum, mean, prod, max/min (with indices), all/any, var/std, logsumexp, norms.
 *
 * agc_reduce. The kept and reduced groups are first simplified: size-1 dims dropped; kept dims with
 * a negative x stride flipped (x and out together) and sorted so the smallest x stride is innermost;
 * for ops whose result does not depend on the visiting order (everything but max/min with indices)
 * reduced dims are flipped to positive strides and sorted the same way; then dims contiguous with
 * their neighbour are merged. Two layouts follow:
 *  - row path: one output at a time walks its reduced space as runs along the innermost reduced dim
 *    (contiguous when that stride is 1: sum over the last axis; strided otherwise: the fallback);
 *  - column path, when the reduced dims are strided but the innermost kept dim is contiguous (sum
 *    over axis 0 of a C-contiguous matrix): up to RD_W outputs at once, each reduced position adding
 *    a contiguous vector into per-output accumulators.
 * Single-pass ops on one contiguous-or-strided run per output (sum, mean, sumsq, float32 norm2,
 * logsumexp, max/min) skip the pass machinery (row_fast). Summation: float32 is summed in float
 * accumulators over short blocks (RD_BLK elements of a run, RD_VBLK in the vector tiers, or RD_RB positions
 * in the column path; 16 additions per accumulator), each block total added into a double. The reduced space is cut
 * into fixed chunks (RD_CH elements / RD_CHR positions) whose partial results are combined in chunk
 * order, so threads may split an output's chunks or split the outputs and the result is the same bits
 * for any thread count. Float32 sums of 1e7 elements come out within ~1e-7 relative. A float32 sum
 * or mean that comes out inf or NaN is summed again in double, where float32 terms cannot overflow:
 * the result is then NaN only for a NaN or both infinities in the input, whatever the order. (Measured:
 * float blocks run 2x faster than float64 accumulation on cache-resident rows, 25% faster on 16 MB.)
 * Other ops: max/min keep the first index of the extreme; a NaN wins (first NaN, its index); var is
 * two-pass (mean, then squared deviations) with divisor max(n - correction, 0), and std its root
 * taken in double; equal values give exactly 0 (float32: the mean is summed in double; float64: a
 * near-zero result retries the mean moved by the rms deviation); logsumexp shifts by the max (all
 * -inf gives -inf, a +inf gives +inf); norm2 in float64 rescales by a power of two when
 * the plain sum of squares overflows or underflows (float32 accumulates squares in double); int64
 * sum/prod wrap around like two's complement. int32 / uint8 sum, prod, max and min take their own
 * simple path (reduce_small_int): read in their width, sums and products into int64.
 *
 * (softmax and log_softmax: softmax.c; cumsum and cumprod: scan.c.)
 *
 * SIMD tiers: the float32 hot loops (contiguous row sums of the plain, square, abs, deviation and
 * exp modes, the float32 norm2 sum in double, contiguous max/min, column sums and column max/min)
 * and the float64 contiguous row sums of the plain, square, abs, deviation and exp modes and float64
 * contiguous max/min have one vector body (reduce_vec.h, its equality contract there) compiled for AVX2 and AVX-512;
 * each call picks the active tier's table once (agc_isa_active(): cpu.c decides, honouring
 * AGC_SIMD and agc_set_simd_target). The loops here are the portable reference and serve every
 * other case; their float32 exp is expf, the tiers' is vec.h's vf_exp (within 2 ulp); float64's exp
 * is libm's, the tiers' vd_exp (within 1 ulp).
 * Threads: OpenMP with the agc_threads_for thresholds of internal.h.
 * Tests: tests/test_reduce_kernels.py; benchmarks: benchmarks/bench_reduce.py. */
#include "reduce.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define RD_CH 32768       /* row path: reduced elements per chunk */
#define RD_CHR 1024       /* column path: reduced positions per chunk */
#define RD_W 1024         /* column path: most outputs per group */
#define RD_PAR 32768      /* elements of work below which everything stays on one thread */

/* the active vector tier's float32 kernels, NULL for the portable loops (read once per call) */
static const agc_reduce_kernels *rd_vector_kernels(void)
{
#if AGC_HAVE_X86
    const agc_isa isa = agc_isa_active();
    if (isa >= AGC_ISA_AVX512) return &agc_reduce_kernels_avx512;
    if (isa >= AGC_ISA_AVX2) return &agc_reduce_kernels_avx2;
#endif
    return NULL;
}

/* ================================================================ plan */

typedef struct {
    int op, dt, want_idx;
    size_t es;
    const char *x;
    char *out;
    int64_t *idx;
    int nk;
    int64_t ks[AGC_MAX_DIMS], kx[AGC_MAX_DIMS], ko[AGC_MAX_DIMS];
    int nr;
    int64_t rs[AGC_MAX_DIMS], rx[AGC_MAX_DIMS];
    int64_t nout, nred, n0, s0;
    int col;                 /* column path */
    int64_t K, W, ncb, ngroups, nchunks, chunk;
    double p0;
} plan;

/* sort dims (shape s, strides a [, b]) by |a| descending, stable (insertion sort: ndim <= 16) */
static void sort_dims(int n, int64_t *s, int64_t *a, int64_t *b)
{
    for (int i = 1; i < n; i++) {
        int64_t ts = s[i], ta = a[i], tb = b ? b[i] : 0;
        int j = i - 1;
        while (j >= 0 && llabs(a[j]) < llabs(ta)) {
            s[j + 1] = s[j];
            a[j + 1] = a[j];
            if (b) b[j + 1] = b[j];
            j--;
        }
        s[j + 1] = ts;
        a[j + 1] = ta;
        if (b) b[j + 1] = tb;
    }
}

/* merge dim i into dim i+1 when contiguous with it (row-major order is preserved) */
static int merge_dims(int n, int64_t *s, int64_t *a, int64_t *b)
{
    if (n == 0) return 0;
    int m = 0;
    for (int i = 1; i < n; i++) {
        if (a[m] == a[i] * s[i] && (!b || b[m] == b[i] * s[i])) {
            s[m] *= s[i];
            a[m] = a[i];
            if (b) b[m] = b[i];
        } else {
            m++;
            s[m] = s[i];
            a[m] = a[i];
            if (b) b[m] = b[i];
        }
    }
    return m + 1;
}

/* iterator over the reduced space: runs along the innermost reduced dim; starts at flat index f */
typedef struct {
    int64_t idx[AGC_MAX_DIMS];
    int64_t off, i0;
} rit;

static void rit_init(rit *it, const plan *P, int64_t f)
{
    int64_t q = f / P->n0;
    it->i0 = f - q * P->n0;
    it->off = 0;
    for (int d = P->nr - 2; d >= 0; d--) {
        it->idx[d] = q % P->rs[d];
        q /= P->rs[d];
        it->off += it->idx[d] * P->rx[d];
    }
}

/* the next run: at most `remaining` elements; *o = offset (elements) of its first element */
static int64_t rit_run(rit *it, const plan *P, int64_t remaining, int64_t *o)
{
    int64_t len = P->n0 - it->i0;
    if (len > remaining) len = remaining;
    *o = it->off + it->i0 * P->s0;
    it->i0 += len;
    if (it->i0 == P->n0) {
        it->i0 = 0;
        for (int d = P->nr - 2; d >= 0; d--) {
            it->off += P->rx[d];
            if (++it->idx[d] < P->rs[d]) break;
            it->off -= P->rx[d] * P->rs[d];
            it->idx[d] = 0;
        }
    }
    return len;
}

/* ================================================================ partial results */

typedef struct {
    double d;   /* float sum / prod / extreme */
    int64_t i;  /* int64 sum / prod / extreme; all/any flag */
    int64_t ix; /* index of the extreme */
} part_t;

enum { K_SUM, K_MAX, K_MIN, K_PROD, K_ALL, K_ANY };
/* elementwise transforms summed by K_SUM */

typedef struct {
    int kind, mode, absval;
    double p;
    int needix; /* max/min: the index is wanted (else only the value) */
    const double *c; /* per-output constant (mean, max, scale), G values */
} pass_t;

static void part_identity(const pass_t *ps, part_t *r, int64_t G)
{
    for (int64_t j = 0; j < G; j++) {
        r[j].ix = 0;
        switch (ps->kind) {
        case K_SUM: r[j].d = 0; r[j].i = 0; break;
        case K_PROD: r[j].d = 1; r[j].i = 1; break;
        case K_MAX: r[j].d = -INFINITY; r[j].i = INT64_MIN; r[j].ix = -1; break;
        case K_MIN: r[j].d = INFINITY; r[j].i = INT64_MAX; r[j].ix = -1; break;
        case K_ALL: r[j].i = 1; break;
        default: r[j].i = 0; break;
        }
    }
}

/* a = a (+) b where b covers later positions than a */
static void part_combine(const pass_t *ps, int dt, part_t *a, const part_t *b, int64_t G)
{
    for (int64_t j = 0; j < G; j++) {
        switch (ps->kind) {
        case K_SUM:
            a[j].d += b[j].d;
            a[j].i = (int64_t)((uint64_t)a[j].i + (uint64_t)b[j].i);
            break;
        case K_PROD:
            a[j].d *= b[j].d;
            a[j].i = (int64_t)((uint64_t)a[j].i * (uint64_t)b[j].i);
            break;
        case K_MAX:
        case K_MIN:
            if (b[j].ix < 0) break;
            if (a[j].ix < 0) {
                a[j] = b[j];
            } else if (dt == AGC_I64) {
                if (ps->kind == K_MAX ? b[j].i > a[j].i : b[j].i < a[j].i) a[j] = b[j];
            } else if (!isnan(a[j].d)) {
                if (isnan(b[j].d) || (ps->kind == K_MAX ? b[j].d > a[j].d : b[j].d < a[j].d)) a[j] = b[j];
            }
            break;
        case K_ALL: a[j].i &= b[j].i; break;
        default: a[j].i |= b[j].i; break;
        }
    }
}

/* ================================================================ row lines: portable */

/* Sum of EXPR(v) over a run x[0], x[s], ..., n elements: ACC accumulators over RD_BLK-element
 * blocks (16 interleaved partial sums, combined pairwise), each block total added into a double. */
#define DEF_LINE_SUM(NAME, T, ACC, EXPR)                                                      \
    static double NAME(const T *x, int64_t n, int64_t s, double cd, double p)                 \
    {                                                                                         \
        const ACC c = (ACC)cd;                                                                \
        (void)c;                                                                              \
        (void)p;                                                                              \
        double tot = 0;                                                                       \
        while (n > 0) {                                                                       \
            int64_t m = n < RD_BLK ? n : RD_BLK, i = 0;                                       \
            ACC a[16] = {0};                                                                  \
            if (s == 1) {                                                                     \
                for (; i + 16 <= m; i += 16)                                                  \
                    for (int j = 0; j < 16; j++) {                                            \
                        ACC v = (ACC)x[i + j];                                                \
                        a[j] += (EXPR);                                                       \
                    }                                                                         \
            } else {                                                                          \
                for (; i + 16 <= m; i += 16)                                                  \
                    for (int j = 0; j < 16; j++) {                                            \
                        ACC v = (ACC)x[(i + j) * s];                                          \
                        a[j] += (EXPR);                                                       \
                    }                                                                         \
            }                                                                                 \
            for (int j = 0; i < m; i++, j++) {                                                \
                ACC v = (ACC)x[i * s];                                                        \
                a[j] += (EXPR);                                                               \
            }                                                                                 \
            for (int w = 8; w > 0; w >>= 1)                                                   \
                for (int j = 0; j < w; j++) a[j] += a[j + w];                                 \
            tot += (double)a[0];                                                              \
            x += m * s;                                                                       \
            n -= m;                                                                           \
        }                                                                                     \
        return tot;                                                                           \
    }

DEF_LINE_SUM(lsum_f32_id, float, float, v)
DEF_LINE_SUM(lsum_f32_sq, float, float, v * v)
DEF_LINE_SUM(lsum_f32_abs, float, float, fabsf(v))
DEF_LINE_SUM(lsum_f32_dev2, float, float, (v - c) * (v - c))
DEF_LINE_SUM(lsum_f32_expc, float, float, expf(v - c))
DEF_LINE_SUM(lsum_f32_sqd, float, double, v * v)
DEF_LINE_SUM(lsum_f32_powp, float, double, pow(fabs(v), p))
DEF_LINE_SUM(lsum_f32_nz, float, double, (double)(v != 0))
DEF_LINE_SUM(lsum_f32_sqs, float, double, (v * c) * (v * c))
DEF_LINE_SUM(lsum_f32_dev2d, float, double, (v - c) * (v - c))
DEF_LINE_SUM(lsum_f32_idd, float, double, v)
DEF_LINE_SUM(lsum_f64_id, double, double, v)
DEF_LINE_SUM(lsum_f64_sq, double, double, v * v)
DEF_LINE_SUM(lsum_f64_abs, double, double, fabs(v))
DEF_LINE_SUM(lsum_f64_dev2, double, double, (v - c) * (v - c))
DEF_LINE_SUM(lsum_f64_expc, double, double, exp(v - c))
DEF_LINE_SUM(lsum_f64_powp, double, double, pow(fabs(v), p))
DEF_LINE_SUM(lsum_f64_nz, double, double, (double)(v != 0))
DEF_LINE_SUM(lsum_f64_sqs, double, double, (v * c) * (v * c))

typedef double (*lsum_fn)(const void *x, int64_t n, int64_t s, double c, double p);

static lsum_fn lsum_portable(int dt, int mode)
{
#define F(fn) ((lsum_fn)(void (*)(void))(fn))
    if (dt == AGC_F32) {
        switch (mode) {
        case M_ID: return F(lsum_f32_id);
        case M_SQ: return F(lsum_f32_sq);
        case M_ABS: return F(lsum_f32_abs);
        case M_DEV2: return F(lsum_f32_dev2);
        case M_EXPC: return F(lsum_f32_expc);
        case M_SQD: return F(lsum_f32_sqd);
        case M_POWP: return F(lsum_f32_powp);
        case M_NZ: return F(lsum_f32_nz);
        case M_DEV2D: return F(lsum_f32_dev2d);
        case M_IDD: return F(lsum_f32_idd);
        default: return F(lsum_f32_sqs);
        }
    }
    switch (mode) {
    case M_ID: return F(lsum_f64_id);
    case M_SQ: case M_SQD: return F(lsum_f64_sq);
    case M_ABS: return F(lsum_f64_abs);
    case M_DEV2: return F(lsum_f64_dev2);
    case M_EXPC: return F(lsum_f64_expc);
    case M_POWP: return F(lsum_f64_powp);
    case M_NZ: return F(lsum_f64_nz);
    default: return F(lsum_f64_sqs);
    }
#undef F
}

static uint64_t lsum_i64(const int64_t *x, int64_t n, int64_t s)
{
    uint64_t a = 0;
    for (int64_t i = 0; i < n; i++) a += (uint64_t)x[i * s];
    return a;
}

/* max/min over a run; base = flat index of x[0]. Updates r (which holds earlier positions). */
#define DEF_LINE_EXT(NAME, T, ABS)                                                            \
    static void NAME(const T *x, int64_t n, int64_t s, int64_t base, int ismax, part_t *r)    \
    {                                                                                         \
        if (r->ix >= 0 && isnan(r->d)) return;                                                \
        double m = r->d;                                                                      \
        int64_t mi = r->ix;                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                     \
            double v = (double)ABS(x[i * s]);                                                 \
            if (mi < 0 || (ismax ? v > m : v < m)) {                                          \
                m = v;                                                                        \
                mi = base + i;                                                                \
            } else if (isnan(v)) {                                                            \
                m = v;                                                                        \
                mi = base + i;                                                                \
                break;                                                                        \
            }                                                                                 \
            if (isnan(m)) break;                                                              \
        }                                                                                     \
        r->d = m;                                                                             \
        r->ix = mi;                                                                           \
    }
#define RD_NOABS(v) (v)
DEF_LINE_EXT(lext_f32, float, RD_NOABS)
DEF_LINE_EXT(lext_f64, double, RD_NOABS)
DEF_LINE_EXT(lext_f32_abs, float, fabsf)
DEF_LINE_EXT(lext_f64_abs, double, fabs)

static void lext_i64(const int64_t *x, int64_t n, int64_t s, int64_t base, int ismax, part_t *r)
{
    int64_t m = r->i, mi = r->ix;
    for (int64_t i = 0; i < n; i++) {
        int64_t v = x[i * s];
        if (mi < 0 || (ismax ? v > m : v < m)) {
            m = v;
            mi = base + i;
        }
    }
    r->i = m;
    r->ix = mi;
}

/* ================================================================ row lines: picking */

/* a row-sum kernel: the vector tier's for contiguous float32 runs of its modes, else the portable
 * loop (strided runs, float64, the double-accumulating modes) */
typedef struct {
    lsum_fn port;
    double (*vec)(const float *x, int64_t n, float c);
    double (*vecd)(const double *x, int64_t n, double c);
} lsum_k;

static lsum_k lsum_select(const agc_reduce_kernels *vk, int dt, int mode)
{
    lsum_k k = {lsum_portable(dt, mode), NULL, NULL};
    if (vk && dt == AGC_F32 && mode < RD_NVSUM) k.vec = vk->lsum[mode];
    if (vk && dt == AGC_F64) {
        const int m = mode == M_SQD ? M_SQ : mode; /* as lsum_portable: float64 squares sum in double anyway */
        if (m < RD_NVSUMD) k.vecd = vk->lsumd[m];
    }
    return k;
}

static double lsum_run(const lsum_k *k, const void *x, int64_t n, int64_t s, double c, double p)
{
    if (s == 1 && k->vec) return k->vec((const float *)x, n, (float)c);
    if (s == 1 && k->vecd) return k->vecd((const double *)x, n, c);
    return k->port(x, n, s, c, p);
}

/* max/min of a float32 / float64 run: the vector kernel on contiguous runs without a NaN (exact, so
 * the same result as lext_f32 / lext_f64), merged into r like those do */
#define DEF_LEXT_RUN(NAME, T, KERNEL, PORTABLE)                                               \
    static void NAME(const agc_reduce_kernels *vk, const T *x, int64_t n, int64_t s, int64_t base, \
                     int ismax, int needix, part_t *r)                                        \
    {                                                                                         \
        T m;                                                                                  \
        int64_t k;                                                                            \
        if (!vk || s != 1 || n < 16 || (r->ix >= 0 && isnan(r->d)) ||                         \
            !vk->KERNEL(x, n, ismax, needix, &m, &k)) {                                       \
            PORTABLE(x, n, s, base, ismax, r);                                                \
            return;                                                                           \
        }                                                                                     \
        if (r->ix < 0 || (ismax ? (double)m > r->d : (double)m < r->d)) {                     \
            r->d = m;                                                                         \
            r->ix = base + k;                                                                 \
        }                                                                                     \
    }
DEF_LEXT_RUN(lext_f32_run, float, lext, lext_f32)
DEF_LEXT_RUN(lext_f64_run, double, lextd, lext_f64)

/* ================================================================ column kernels */

/* For each of n positions (x, x + s, ...): a[j] += EXPR(row[j]) for the G contiguous outputs;
 * every RD_RB positions (counted by *cnt across calls) the float block totals go into tot. */
#define DEF_COL_SUM(NAME, ATTR, T, ACC, EXPR)                                                 \
    ATTR static void NAME(const T *x, int64_t n, int64_t s, int64_t G, const ACC *restrict c, \
                          double p, ACC *restrict a, double *restrict tot, int64_t *cnt)      \
    {                                                                                         \
        (void)c;                                                                              \
        (void)p;                                                                              \
        for (int64_t i = 0; i < n; i++) {                                                     \
            const T *restrict row = x + i * s;                                                \
            for (int64_t j = 0; j < G; j++) {                                                 \
                ACC v = (ACC)row[j];                                                          \
                a[j] += (EXPR);                                                               \
            }                                                                                 \
            if (++*cnt == RD_RB) {                                                            \
                for (int64_t j = 0; j < G; j++) {                                             \
                    tot[j] += (double)a[j];                                                   \
                    a[j] = 0;                                                                 \
                }                                                                             \
                *cnt = 0;                                                                     \
            }                                                                                 \
        }                                                                                     \
    }
#define RD_NOATTR
DEF_COL_SUM(csum_f32_id, RD_NOATTR, float, float, v)
DEF_COL_SUM(csum_f32_sq, RD_NOATTR, float, float, v * v)
DEF_COL_SUM(csum_f32_abs, RD_NOATTR, float, float, fabsf(v))
DEF_COL_SUM(csum_f32_dev2, RD_NOATTR, float, float, (v - c[j]) * (v - c[j]))
DEF_COL_SUM(csum_f32_expc, RD_NOATTR, float, float, expf(v - c[j]))
DEF_COL_SUM(csum_f32_sqd, RD_NOATTR, float, double, v * v)
DEF_COL_SUM(csum_f32_powp, RD_NOATTR, float, double, pow(fabs(v), p))
DEF_COL_SUM(csum_f32_nz, RD_NOATTR, float, double, (double)(v != 0))
DEF_COL_SUM(csum_f32_sqs, RD_NOATTR, float, double, (v * c[j]) * (v * c[j]))
DEF_COL_SUM(csum_f32_dev2d, RD_NOATTR, float, double, (v - c[j]) * (v - c[j]))
DEF_COL_SUM(csum_f32_idd, RD_NOATTR, float, double, v)
DEF_COL_SUM(csum_f64_id, RD_NOATTR, double, double, v)
DEF_COL_SUM(csum_f64_sq, RD_NOATTR, double, double, v * v)
DEF_COL_SUM(csum_f64_abs, RD_NOATTR, double, double, fabs(v))
DEF_COL_SUM(csum_f64_dev2, RD_NOATTR, double, double, (v - c[j]) * (v - c[j]))
DEF_COL_SUM(csum_f64_expc, RD_NOATTR, double, double, exp(v - c[j]))
DEF_COL_SUM(csum_f64_powp, RD_NOATTR, double, double, pow(fabs(v), p))
DEF_COL_SUM(csum_f64_nz, RD_NOATTR, double, double, (double)(v != 0))
DEF_COL_SUM(csum_f64_sqs, RD_NOATTR, double, double, (v * c[j]) * (v * c[j]))

typedef void (*csum_fn)(const void *x, int64_t n, int64_t s, int64_t G, const void *c, double p, void *a,
                        double *tot, int64_t *cnt);

/* returns the kernel and whether it accumulates blocks in float (1) or double (0) */
static csum_fn csum_select(const agc_reduce_kernels *vk, int dt, int mode, int *facc)
{
#define F(fn) ((csum_fn)(void (*)(void))(fn))
    *facc = 0;
    if (dt == AGC_F32) {
        *facc = 1;
        if (vk && mode < RD_NVCOL) return F(vk->csum[mode]);
        switch (mode) {
        case M_ID: return F(csum_f32_id);
        case M_SQ: return F(csum_f32_sq);
        case M_ABS: return F(csum_f32_abs);
        case M_DEV2: return F(csum_f32_dev2);
        case M_EXPC: return F(csum_f32_expc);
        default: break;
        }
        *facc = 0;
        switch (mode) {
        case M_SQD: return F(csum_f32_sqd);
        case M_POWP: return F(csum_f32_powp);
        case M_NZ: return F(csum_f32_nz);
        case M_DEV2D: return F(csum_f32_dev2d);
        case M_IDD: return F(csum_f32_idd);
        default: return F(csum_f32_sqs);
        }
    }
    if (vk && mode < RD_NVCOL) return F(vk->csumd[mode]);
    if (vk && mode == M_SQD) return F(vk->csumd[M_SQ]);
    switch (mode) {
    case M_ID: return F(csum_f64_id);
    case M_SQ: case M_SQD: return F(csum_f64_sq);
    case M_ABS: return F(csum_f64_abs);
    case M_DEV2: return F(csum_f64_dev2);
    case M_EXPC: return F(csum_f64_expc);
    case M_POWP: return F(csum_f64_powp);
    case M_NZ: return F(csum_f64_nz);
    default: return F(csum_f64_sqs);
    }
#undef F
}

/* column max/min: the same rules as the row loop, per output; base = flat index of position 0 */
#define DEF_COL_EXT(NAME, T, ABS)                                                             \
    static void NAME(const T *x, int64_t n, int64_t s, int64_t base, int64_t G, int ismax,    \
                     part_t *r)                                                               \
    {                                                                                         \
        for (int64_t i = 0; i < n; i++) {                                                     \
            const T *row = x + i * s;                                                         \
            for (int64_t j = 0; j < G; j++) {                                                 \
                double v = (double)ABS(row[j]);                                               \
                if (r[j].ix >= 0 && isnan(r[j].d)) continue;                                  \
                if (r[j].ix < 0 || isnan(v) || (ismax ? v > r[j].d : v < r[j].d)) {           \
                    r[j].d = v;                                                               \
                    r[j].ix = base + i;                                                       \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }
DEF_COL_EXT(cext_f32, float, RD_NOABS)
DEF_COL_EXT(cext_f64, double, RD_NOABS)
DEF_COL_EXT(cext_f32_abs, float, fabsf)
DEF_COL_EXT(cext_f64_abs, double, fabs)

static void cext_i64(const int64_t *x, int64_t n, int64_t s, int64_t base, int64_t G, int ismax, part_t *r)
{
    for (int64_t i = 0; i < n; i++) {
        const int64_t *row = x + i * s;
        for (int64_t j = 0; j < G; j++) {
            int64_t v = row[j];
            if (r[j].ix < 0 || (ismax ? v > r[j].i : v < r[j].i)) {
                r[j].i = v;
                r[j].ix = base + i;
            }
        }
    }
}

/* float32 column max/min through the vector kernel: positions kept as floats in L1 arrays, the
 * chunk's runs fed in order */
static void cext_f32_vec(const agc_reduce_kernels *vk, const plan *P, const char *xg, int64_t G, int64_t beg,
                         int64_t end, int ismax, part_t *r)
{
    float mv[RD_W], pv[RD_W];
    rit it;
    rit_init(&it, P, beg);
    int64_t f = beg;
    while (f < end) {
        int64_t o, n = rit_run(&it, P, end - f, &o);
        vk->cext((const float *)xg + o, n, P->s0, G, ismax, f - beg, mv, pv);
        f += n;
    }
    for (int64_t j = 0; j < G; j++) {
        r[j].d = mv[j];
        r[j].ix = beg + (int64_t)pv[j];
    }
}

/* column path: G contiguous outputs starting at xg, positions [beg, end) of the reduced space */
static void col_chunk(const plan *P, const pass_t *ps, const agc_reduce_kernels *vk, const char *xg, int64_t G, int64_t beg,
                      int64_t end, part_t *r)
{
    rit it;
    rit_init(&it, P, beg);
    part_identity(ps, r, G);
    const int dt = P->dt;
    const int64_t es = (int64_t)P->es, s0 = P->s0;
    int64_t f = beg;
    if (ps->kind == K_SUM && dt == AGC_I64) {
        uint64_t a[RD_W] = {0};
        while (f < end) {
            int64_t o, n = rit_run(&it, P, end - f, &o);
            const int64_t *x = (const int64_t *)(xg + o * es);
            for (int64_t i = 0; i < n; i++)
                for (int64_t j = 0; j < G; j++) a[j] += (uint64_t)x[i * s0 + j];
            f += n;
        }
        for (int64_t j = 0; j < G; j++) r[j].i = (int64_t)a[j];
    } else if (ps->kind == K_SUM) {
        int facc;
        csum_fn fn = csum_select(vk, dt, ps->mode, &facc);
        double tot[RD_W];
        float af[RD_W], cf[RD_W];
        double ad[RD_W];
        for (int64_t j = 0; j < G; j++) {
            tot[j] = 0;
            af[j] = 0;
            ad[j] = 0;
            cf[j] = ps->c ? (float)ps->c[j] : 0.0f;
        }
        const void *cv = facc ? (const void *)cf : (const void *)ps->c;
        void *av = facc ? (void *)af : (void *)ad;
        int64_t cnt = 0;
        while (f < end) {
            int64_t o, n = rit_run(&it, P, end - f, &o);
            fn(xg + o * es, n, s0, G, cv, ps->p, av, tot, &cnt);
            f += n;
        }
        for (int64_t j = 0; j < G; j++) r[j].d = tot[j] + (facc ? (double)af[j] : ad[j]);
    } else if (ps->kind == K_MAX || ps->kind == K_MIN) {
        int ismax = ps->kind == K_MAX;
        /* positions within a chunk are exact in float lanes */
        if (vk && dt == AGC_F32 && !ps->absval && end > beg && end - beg <= (1 << 24)) {
            cext_f32_vec(vk, P, xg, G, beg, end, ismax, r);
            return;
        }
        while (f < end) {
            int64_t o, n = rit_run(&it, P, end - f, &o);
            const char *p = xg + o * es;
            if (dt == AGC_F32)
                (ps->absval ? cext_f32_abs : cext_f32)((const float *)p, n, s0, f, G, ismax, r);
            else if (dt == AGC_F64)
                (ps->absval ? cext_f64_abs : cext_f64)((const double *)p, n, s0, f, G, ismax, r);
            else
                cext_i64((const int64_t *)p, n, s0, f, G, ismax, r);
            f += n;
        }
    } else if (ps->kind == K_PROD) {
        while (f < end) {
            int64_t o, n = rit_run(&it, P, end - f, &o);
            const char *p = xg + o * es;
            for (int64_t i = 0; i < n; i++) {
                if (dt == AGC_F32) {
                    const float *x = (const float *)p + i * s0;
                    for (int64_t j = 0; j < G; j++) r[j].d *= (double)x[j];
                } else if (dt == AGC_F64) {
                    const double *x = (const double *)p + i * s0;
                    for (int64_t j = 0; j < G; j++) r[j].d *= x[j];
                } else {
                    const int64_t *x = (const int64_t *)p + i * s0;
                    for (int64_t j = 0; j < G; j++) r[j].i = (int64_t)((uint64_t)r[j].i * (uint64_t)x[j]);
                }
            }
            f += n;
        }
    } else {
        int all = ps->kind == K_ALL;
        while (f < end) {
            int64_t o, n = rit_run(&it, P, end - f, &o);
            const uint8_t *p = (const uint8_t *)(xg + o * es);
            for (int64_t i = 0; i < n; i++) {
                const uint8_t *x = p + i * s0;
                if (all)
                    for (int64_t j = 0; j < G; j++) r[j].i &= x[j] != 0;
                else
                    for (int64_t j = 0; j < G; j++) r[j].i |= x[j] != 0;
            }
            f += n;
        }
    }
}

/* ================================================================ row chunks */

/* row path: one output, flat reduced range [beg, end) */
static void row_chunk(const plan *P, const pass_t *ps, const agc_reduce_kernels *vk, const char *xg, int64_t beg, int64_t end,
                      part_t *r)
{
    rit it;
    rit_init(&it, P, beg);
    part_identity(ps, r, 1);
    const int dt = P->dt;
    const int64_t es = (int64_t)P->es, s0 = P->s0;
    lsum_k ls = {NULL, NULL};
    if (ps->kind == K_SUM && dt != AGC_I64) ls = lsum_select(vk, dt, ps->mode);
    const double c = ps->c ? ps->c[0] : 0.0;
    int64_t f = beg;
    double dacc = ps->kind == K_PROD ? 1.0 : 0.0;
    while (f < end) {
        int64_t o, n = rit_run(&it, P, end - f, &o);
        const char *p = xg + o * es;
        switch (ps->kind) {
        case K_SUM:
            if (dt == AGC_I64)
                r->i = (int64_t)((uint64_t)r->i + lsum_i64((const int64_t *)p, n, s0));
            else
                dacc += lsum_run(&ls, p, n, s0, c, ps->p);
            break;
        case K_MAX:
        case K_MIN: {
            int ismax = ps->kind == K_MAX;
            if (dt == AGC_F32) {
                if (ps->absval)
                    lext_f32_abs((const float *)p, n, s0, f, ismax, r);
                else
                    lext_f32_run(vk, (const float *)p, n, s0, f, ismax, ps->needix, r);
            } else if (dt == AGC_F64) {
                if (ps->absval)
                    lext_f64_abs((const double *)p, n, s0, f, ismax, r);
                else
                    lext_f64_run(vk, (const double *)p, n, s0, f, ismax, ps->needix, r);
            } else {
                lext_i64((const int64_t *)p, n, s0, f, ismax, r);
            }
            break;
        }
        case K_PROD:
            if (dt == AGC_F32) {
                const float *x = (const float *)p;
                for (int64_t i = 0; i < n; i++) dacc *= (double)x[i * s0];
            } else if (dt == AGC_F64) {
                const double *x = (const double *)p;
                for (int64_t i = 0; i < n; i++) dacc *= x[i * s0];
            } else {
                const int64_t *x = (const int64_t *)p;
                uint64_t a = (uint64_t)r->i;
                for (int64_t i = 0; i < n; i++) a *= (uint64_t)x[i * s0];
                r->i = (int64_t)a;
            }
            break;
        case K_ALL: {
            const uint8_t *x = (const uint8_t *)p;
            int64_t i = 0;
            while (i < n && x[i * s0]) i++;
            if (i < n) r->i = 0;
            break;
        }
        default: {
            const uint8_t *x = (const uint8_t *)p;
            int64_t i = 0;
            while (i < n && !x[i * s0]) i++;
            if (i < n) r->i = 1;
            break;
        }
        }
        f += n;
        if ((ps->kind == K_ALL && r->i == 0) || (ps->kind == K_ANY && r->i == 1)) break;
    }
    if (ps->kind == K_SUM || ps->kind == K_PROD) r->d = dacc;
}

/* ================================================================ passes and pipelines */

static void chunk(const plan *P, const pass_t *ps, const agc_reduce_kernels *vk, const char *xg, int64_t G, int64_t c, part_t *r)
{
    int64_t beg = c * P->chunk, end = beg + P->chunk;
    if (end > P->nred) end = P->nred;
    if (P->col)
        col_chunk(P, ps, vk, xg, G, beg, end, r);
    else
        row_chunk(P, ps, vk, xg, beg, end, r);
}

/* one pass over the reduced space of a group of G outputs: chunk results combined in chunk order,
 * the chunks computed by nt threads when nt > 1 */
static int run(const plan *P, const pass_t *ps, const agc_reduce_kernels *vk, const char *xg, int64_t G, int nt, part_t *res)
{
    part_identity(ps, res, G);
    const int64_t nch = P->nchunks;
    if (nt <= 1 || nch <= 1) {
        part_t tmp[RD_W];
        for (int64_t c = 0; c < nch; c++) {
            chunk(P, ps, vk, xg, G, c, tmp);
            part_combine(ps, P->dt, res, tmp, G);
        }
        return AGC_OK;
    }
    part_t *buf = (part_t *)agc_alloc(nch * G * (int64_t)sizeof(part_t));
    if (!buf) return AGC_ENOMEM;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
#endif
    for (int64_t c = 0; c < nch; c++) {
        AGC_REGION_POINT();
        chunk(P, ps, vk, xg, G, c, buf + c * G);
    }
    for (int64_t c = 0; c < nch; c++) part_combine(ps, P->dt, res, buf + c * G, G);
    agc_free(buf);
    return AGC_OK;
}

static void group_offsets(const plan *P, int64_t g, int64_t *xo, int64_t *oo, int64_t *G)
{
    int64_t q = g, cb = 0;
    int nd = P->nk;
    if (P->col) {
        cb = g % P->ncb;
        q = g / P->ncb;
        nd = P->nk - 1;
    }
    int64_t x = 0, o = 0;
    for (int d = nd - 1; d >= 0; d--) {
        int64_t i = q % P->ks[d];
        q /= P->ks[d];
        x += i * P->kx[d];
        o += i * P->ko[d];
    }
    if (P->col) {
        x += cb * P->W;
        o += cb * P->W * P->ko[P->nk - 1];
        *G = P->K - cb * P->W < P->W ? P->K - cb * P->W : P->W;
    } else {
        *G = 1;
    }
    *xo = x;
    *oo = o;
}

/* every pass an op needs, for one group of outputs, then the stores */
static int group_reduce(const plan *P, int64_t g, const agc_reduce_kernels *vk, int nt)
{
    int64_t xo, oo, G;
    group_offsets(P, g, &xo, &oo, &G);
    const char *xg = P->x + xo * (int64_t)P->es;
    const int64_t ostep = P->col ? P->ko[P->nk - 1] : 0;
    const int dt = P->dt;
    const double N = (double)P->nred;
    part_t r[RD_W];
    double c[RD_W], v[RD_W];
    pass_t ps = {K_SUM, M_ID, 0, P->p0, P->idx != NULL, NULL};
    int rc = AGC_OK, ints = 0; /* ints: the result is r[j].i (int64 / bool) rather than v[j] */
    switch (P->op) {
    case AGC_REDUCE_SUM:
    case AGC_REDUCE_MEAN:
    case AGC_REDUCE_SUMSQ:
        ps.mode = P->op == AGC_REDUCE_SUMSQ ? M_SQ : M_ID;
        rc = run(P, &ps, vk, xg, G, nt, r);
        ints = dt == AGC_I64;
        if (!rc && dt == AGC_F32 && ps.mode == M_ID) {
            /* a float block can overflow to inf (and then meet a -inf: NaN) where the true sum is
             * -inf or finite: redo a non-finite result in double, where no float32 sum overflows */
            int again = 0;
            for (int64_t j = 0; j < G; j++) again |= !isfinite(r[j].d);
            if (again) {
                ps.mode = M_IDD;
                rc = run(P, &ps, vk, xg, G, nt, r);
            }
        }
        for (int64_t j = 0; j < G; j++) v[j] = P->op == AGC_REDUCE_MEAN ? r[j].d / N : r[j].d;
        break;
    case AGC_REDUCE_PROD:
        ps.kind = K_PROD;
        rc = run(P, &ps, vk, xg, G, nt, r);
        ints = dt == AGC_I64;
        for (int64_t j = 0; j < G; j++) v[j] = r[j].d;
        break;
    case AGC_REDUCE_MAX:
    case AGC_REDUCE_MIN:
        ps.kind = P->op == AGC_REDUCE_MAX ? K_MAX : K_MIN;
        rc = run(P, &ps, vk, xg, G, nt, r);
        ints = dt == AGC_I64;
        for (int64_t j = 0; j < G; j++) v[j] = r[j].d;
        break;
    case AGC_REDUCE_ALL:
    case AGC_REDUCE_ANY:
        ps.kind = P->op == AGC_REDUCE_ALL ? K_ALL : K_ANY;
        rc = run(P, &ps, vk, xg, G, nt, r);
        ints = 1;
        break;
    case AGC_REDUCE_VAR:
    case AGC_REDUCE_STD: {
        /* float32: the mean from float64 sums (M_IDD), not float blocks: exact for equal values (their
         * deviations are then 0, and std's gradient is 0 as it should be) and finite near 3e38 */
        ps.mode = dt == AGC_F32 ? M_IDD : M_ID;
        rc = run(P, &ps, vk, xg, G, nt, r);
        if (rc) break;
        ps.mode = M_ID;
        for (int64_t j = 0; j < G; j++) c[j] = r[j].d / N;
        ps.mode = M_DEV2;
        ps.c = c;
        rc = run(P, &ps, vk, xg, G, nt, r);
        if (rc) break;
        if (dt == AGC_F32) {
            int again = 0;
            for (int64_t j = 0; j < G; j++) again |= isinf(r[j].d) && isfinite(c[j]);
            if (again) {
                ps.mode = M_DEV2D;
                rc = run(P, &ps, vk, xg, G, nt, r);
            }
        } else {
            /* float64 equal values: sum / N can miss their value by an ulp or two, and std's gradient
             * at the residue is rounding noise of order 1 where it should be 0. When the deviations
             * are within a few ulps of the mean, try the mean moved by the rms deviation either way
             * and keep the smallest sum of squares: sum (x - a)^2 is smallest at the true mean, so
             * this never does worse, and for equal values one candidate is their value (x - c is a
             * small multiple of an ulp, and its square, sum, quotient and root are then exact) */
            double dlt[RD_W], cc[RD_W];
            int again = 0;
            for (int64_t j = 0; j < G; j++) {
                double u = 8.0 * DBL_EPSILON * fabs(c[j]);
                dlt[j] = r[j].d > 0 && r[j].d <= N * u * u ? sqrt(r[j].d / N) : 0.0;
                again |= dlt[j] > 0;
            }
            part_t r2[RD_W];
            for (int side = -1; again && side <= 1 && !rc; side += 2) {
                for (int64_t j = 0; j < G; j++) cc[j] = c[j] + side * dlt[j];
                ps.c = cc;
                rc = run(P, &ps, vk, xg, G, nt, r2);
                for (int64_t j = 0; j < G; j++)
                    if (r2[j].d < r[j].d) r[j].d = r2[j].d;
            }
            if (rc) break;
        }
        double div = N - P->p0 > 0 ? N - P->p0 : 0.0;
        for (int64_t j = 0; j < G; j++) v[j] = r[j].d / div;
        if (P->op == AGC_REDUCE_STD)
            for (int64_t j = 0; j < G; j++) v[j] = sqrt(v[j]);
        break;
    }
    case AGC_REDUCE_LOGSUMEXP: {
        ps.kind = K_MAX;
        rc = run(P, &ps, vk, xg, G, nt, r);
        if (rc) break;
        for (int64_t j = 0; j < G; j++) {
            v[j] = r[j].d;
            c[j] = isfinite(v[j]) ? v[j] : 0.0;
        }
        ps.kind = K_SUM;
        ps.mode = M_EXPC;
        ps.c = c;
        rc = run(P, &ps, vk, xg, G, nt, r);
        /* NaN -> NaN, all -inf (or empty) -> -inf, any +inf -> +inf */
        for (int64_t j = 0; j < G; j++)
            if (isfinite(v[j])) v[j] = v[j] + log(r[j].d);
        break;
    }
    case AGC_REDUCE_NORM2:
    case AGC_REDUCE_NORMP: {
        double p = P->op == AGC_REDUCE_NORM2 ? 2.0 : P->p0;
        if (isinf(p)) {
            ps.kind = p > 0 ? K_MAX : K_MIN;
            ps.absval = 1;
            rc = run(P, &ps, vk, xg, G, nt, r);
            for (int64_t j = 0; j < G; j++) v[j] = r[j].d;
        } else if (p == 0 || p == 1) {
            ps.mode = p == 0 ? M_NZ : M_ABS;
            rc = run(P, &ps, vk, xg, G, nt, r);
            for (int64_t j = 0; j < G; j++) v[j] = r[j].d;
        } else if (p == 2 && dt == AGC_F32) {
            /* squares of float32 summed in double cannot overflow or underflow */
            ps.mode = M_SQD;
            rc = run(P, &ps, vk, xg, G, nt, r);
            for (int64_t j = 0; j < G; j++) v[j] = sqrt(r[j].d);
        } else if (p == 2) {
            ps.mode = M_SQ;
            rc = run(P, &ps, vk, xg, G, nt, r);
            if (rc) break;
            int again = 0;
            for (int64_t j = 0; j < G; j++) {
                v[j] = r[j].d;
                /* overflowed, or small enough that squares of the inputs may have lost bits */
                if (isinf(v[j]) || v[j] < 0x1p-960) again = 1;
            }
            if (!again) {
                for (int64_t j = 0; j < G; j++) v[j] = sqrt(v[j]);
                break;
            }
            pass_t pa = {K_MAX, M_ID, 1, 0.0, 0, NULL};
            rc = run(P, &pa, vk, xg, G, nt, r);
            if (rc) break;
            for (int64_t j = 0; j < G; j++) {
                double a = r[j].d;
                c[j] = 1.0;
                if (a > 0 && isfinite(a)) {
                    int e;
                    frexp(a, &e);
                    /* a power of two: scaling is exact. For a subnormal maximum 2^-e would overflow
                     * (e reaches -1073): 2^1021 still lifts every subnormal well clear of underflow */
                    if (e < -1021) e = -1021;
                    c[j] = ldexp(1.0, -e);
                }
            }
            ps.mode = M_SQS;
            ps.c = c;
            part_t r2[RD_W];
            rc = run(P, &ps, vk, xg, G, nt, r2);
            for (int64_t j = 0; j < G; j++) {
                double a = r[j].d;
                if (!(a > 0 && isfinite(a)))
                    v[j] = isnan(v[j]) ? v[j] : (a > 0 ? a : 0.0); /* 0, inf or NaN */
                else
                    v[j] = sqrt(r2[j].d) / c[j];
            }
        } else {
            ps.mode = M_POWP;
            ps.p = p;
            rc = run(P, &ps, vk, xg, G, nt, r);
            for (int64_t j = 0; j < G; j++) v[j] = pow(r[j].d, 1.0 / p);
        }
        break;
    }
    default:
        return AGC_EUNSUPPORTED;
    }
    if (rc) return rc;
    for (int64_t j = 0; j < G; j++) {
        int64_t o = oo + j * ostep;
        switch (P->op == AGC_REDUCE_ALL || P->op == AGC_REDUCE_ANY ? AGC_BOOL : dt) {
        case AGC_F32: ((float *)P->out)[o] = (float)v[j]; break;
        case AGC_F64: ((double *)P->out)[o] = v[j]; break;
        case AGC_I64: ((int64_t *)P->out)[o] = ints ? r[j].i : (int64_t)v[j]; break;
        default: ((uint8_t *)P->out)[o] = (uint8_t)(r[j].i != 0); break;
        }
        if (P->idx) P->idx[o] = r[j].ix > 0 ? r[j].ix : 0;
    }
    return AGC_OK;
}

/* Row path, one run per output, one chunk: sum, mean, sumsq and logsumexp without the pass
 * machinery (for rows of ~1000 elements that overhead was a third of the time). Same arithmetic as
 * group_reduce: the same line functions over the same single chunk. */
static int row_fast_ok(const plan *P)
{
    if (P->col || P->nchunks != 1 || P->nred < 1 || P->nr != 1) return 0;
    if (P->op == AGC_REDUCE_MAX || P->op == AGC_REDUCE_MIN) return 1;
    if (P->dt != AGC_F32 && P->dt != AGC_F64) return 0;
    if (P->dt == AGC_F32 && (P->op == AGC_REDUCE_NORM2 || (P->op == AGC_REDUCE_NORMP && P->p0 == 2.0))) return 1;
    return P->op == AGC_REDUCE_SUM || P->op == AGC_REDUCE_MEAN || P->op == AGC_REDUCE_SUMSQ ||
           P->op == AGC_REDUCE_LOGSUMEXP;
}

static void row_fast(const plan *P, const agc_reduce_kernels *vk, int nt)
{
    const int op = P->op, dt = P->dt;
    const int64_t es = (int64_t)P->es, n = P->n0, s = P->s0;
    const int ext = op == AGC_REDUCE_MAX || op == AGC_REDUCE_MIN;
    const int norm = op == AGC_REDUCE_NORM2 || op == AGC_REDUCE_NORMP; /* float32 only, see row_fast_ok */
    int mode = M_ID;
    if (op == AGC_REDUCE_SUMSQ) mode = M_SQ;
    if (op == AGC_REDUCE_LOGSUMEXP) mode = M_EXPC;
    if (norm) mode = M_SQD;
    const lsum_k ls = lsum_select(vk, dt, mode);
    const int64_t gr = agc_grain(n);
    (void)gr;
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, gr)
#endif
    for (int64_t o = 0; o < P->nout; o++) {
        AGC_PERTURB();
        int64_t xo, oo, G;
        if (P->nk == 1) {
            xo = o * P->kx[0];
            oo = o * P->ko[0];
        } else {
            group_offsets(P, o, &xo, &oo, &G);
        }
        const char *p = P->x + xo * es;
        double v;
        if (ext) {
            const int ismax = op == AGC_REDUCE_MAX;
            part_t r = {0, 0, -1};
            if (dt == AGC_F32) {
                lext_f32_run(vk, (const float *)p, n, s, 0, ismax, P->idx != NULL, &r);
                ((float *)P->out)[oo] = (float)r.d;
            } else if (dt == AGC_F64) {
                lext_f64_run(vk, (const double *)p, n, s, 0, ismax, P->idx != NULL, &r);
                ((double *)P->out)[oo] = r.d;
            } else {
                lext_i64((const int64_t *)p, n, s, 0, ismax, &r);
                ((int64_t *)P->out)[oo] = r.i;
            }
            if (P->idx) P->idx[oo] = r.ix;
            continue;
        }
        if (op == AGC_REDUCE_LOGSUMEXP) {
            part_t r = {-INFINITY, 0, -1};
            if (dt == AGC_F32) {
                lext_f32_run(vk, (const float *)p, n, s, 0, 1, 0, &r);
            } else {
                lext_f64_run(vk, (const double *)p, n, s, 0, 1, 0, &r);
            }
            v = r.d;
            if (isfinite(v)) v = v + log(lsum_run(&ls, p, n, s, v, 0.0));
        } else {
            v = lsum_run(&ls, p, n, s, 0.0, 0.0);
            if (dt == AGC_F32 && mode == M_ID && !isfinite(v)) { /* as in group_reduce */
                const lsum_k exact = lsum_select(vk, dt, M_IDD);
                v = lsum_run(&exact, p, n, s, 0.0, 0.0);
            }
            if (op == AGC_REDUCE_MEAN) v /= (double)P->nred;
            if (norm) v = sqrt(v);
        }
        if (dt == AGC_F32)
            ((float *)P->out)[oo] = (float)v;
        else
            ((double *)P->out)[oo] = v;
    }
}

/* ---------------------------------------------------------------- int32 / uint8: sum, prod, max, min
 * Read in their own width (no int64 copy of the input): sum and prod accumulate in uint64 (exact
 * modulo 2^64, so the int64 result is torch's and does not depend on the order) and write int64;
 * max and min write the input dtype, and the first flat index of the extreme into idx when given.
 * Each output walks its reduced space in row-major order as runs along the innermost reduced dim;
 * threads split the outputs only. */
#define DEFINE_SMALL_RUN(S, T)                                                                    \
    static void small_run_##S(int op, const T *x, int64_t n, int64_t s, int64_t base, uint64_t *acc, \
                              int64_t *best, int64_t *bi)                                          \
    {                                                                                              \
        uint64_t a = *acc;                                                                         \
        int64_t b = *best, k = *bi;                                                                \
        switch (op) {                                                                              \
        case AGC_REDUCE_SUM:                                                                       \
            if (s == 1)                                                                            \
                for (int64_t i = 0; i < n; i++) a += (uint64_t)(int64_t)x[i];                      \
            else                                                                                   \
                for (int64_t i = 0; i < n; i++) a += (uint64_t)(int64_t)x[i * s];                  \
            break;                                                                                 \
        case AGC_REDUCE_PROD:                                                                      \
            for (int64_t i = 0; i < n; i++) a *= (uint64_t)(int64_t)x[i * s];                      \
            break;                                                                                 \
        case AGC_REDUCE_MAX:                                                                       \
            for (int64_t i = 0; i < n; i++)                                                        \
                if ((int64_t)x[i * s] > b || k < 0) b = x[i * s], k = base + i;                    \
            break;                                                                                 \
        default: /* AGC_REDUCE_MIN */                                                              \
            for (int64_t i = 0; i < n; i++)                                                        \
                if ((int64_t)x[i * s] < b || k < 0) b = x[i * s], k = base + i;                    \
            break;                                                                                 \
        }                                                                                          \
        *acc = a;                                                                                  \
        *best = b;                                                                                 \
        *bi = k;                                                                                   \
    }
DEFINE_SMALL_RUN(i32, int32_t)
DEFINE_SMALL_RUN(u8, uint8_t)

static int reduce_small_int(int op, agc_dtype dt, int n_outer, const int64_t *oshape, const int64_t *sxo,
                            int n_inner, const int64_t *ishape, const int64_t *sxi, const void *x, void *out,
                            const int64_t *so, int64_t *idx)
{
    const int64_t es = (int64_t)agc_dtype_size(dt);
    int64_t nout = 1, nin = 1;
    for (int d = 0; d < n_outer; d++) nout *= oshape[d];
    for (int d = 0; d < n_inner; d++) nin *= ishape[d];
    if (nout == 0) return AGC_OK;
    /* runs along the innermost reduced dim; the dims above it are walked by index */
    const int64_t rn = n_inner > 0 ? ishape[n_inner - 1] : 1;
    const int64_t rs = n_inner > 0 ? sxi[n_inner - 1] : 0;
    const int64_t nruns = rn > 0 ? nin / rn : 0;
    const int nt = agc_threads_for(nout * (nin > 0 ? nin : 1), AGC_PAR_CHEAP);
    const int isum = op == AGC_REDUCE_SUM, iprod = op == AGC_REDUCE_PROD;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t o = 0; o < nout; o++) {
        AGC_PERTURB();
        int64_t xo = 0, oo = 0, rest = o;
        for (int d = n_outer - 1; d >= 0; d--) {
            int64_t i = rest % oshape[d];
            rest /= oshape[d];
            xo += i * sxo[d];
            oo += i * so[d];
        }
        uint64_t acc = iprod ? 1 : 0;
        int64_t best = 0, bi = -1;
        for (int64_t r = 0; r < nruns; r++) {
            int64_t off = xo, q = r;
            for (int d = n_inner - 2; d >= 0; d--) {
                off += (q % ishape[d]) * sxi[d];
                q /= ishape[d];
            }
            const char *p = (const char *)x + off * es;
            if (dt == AGC_I32)
                small_run_i32(op, (const int32_t *)p, rn, rs, r * rn, &acc, &best, &bi);
            else
                small_run_u8(op, (const uint8_t *)p, rn, rs, r * rn, &acc, &best, &bi);
        }
        if (isum || iprod) {
            ((int64_t *)out)[oo] = (int64_t)acc; /* modulo 2^64, as GCC and Clang define it */
        } else {
            if (dt == AGC_I32)
                ((int32_t *)out)[oo] = (int32_t)best;
            else
                ((uint8_t *)out)[oo] = (uint8_t)best;
            if (idx) idx[oo] = bi;
        }
    }
    return AGC_OK;
}

static int reduce_supported(int op, int dt)
{
    switch (op) {
    case AGC_REDUCE_SUM:
    case AGC_REDUCE_PROD:
    case AGC_REDUCE_MAX:
    case AGC_REDUCE_MIN: return dt == AGC_F32 || dt == AGC_F64 || dt == AGC_I64;
    case AGC_REDUCE_ALL:
    case AGC_REDUCE_ANY: return dt == AGC_BOOL;
    case AGC_REDUCE_MEAN:
    case AGC_REDUCE_VAR:
    case AGC_REDUCE_STD:
    case AGC_REDUCE_LOGSUMEXP:
    case AGC_REDUCE_NORM2:
    case AGC_REDUCE_NORMP:
    case AGC_REDUCE_SUMSQ: return dt == AGC_F32 || dt == AGC_F64;
    default: return 0;
    }
}

int agc_reduce(int op, agc_dtype dt, int n_outer, const int64_t *outer_shape, const int64_t *sx_outer,
               int n_inner, const int64_t *inner_shape, const int64_t *sx_inner, const void *x,
               void *out, const int64_t *so, int64_t *idx, double p0)
{
    if ((dt == AGC_I32 || dt == AGC_U8) && op >= AGC_REDUCE_SUM && op <= AGC_REDUCE_MIN && op != AGC_REDUCE_MEAN)
        return reduce_small_int(op, dt, n_outer, outer_shape, sx_outer, n_inner, inner_shape, sx_inner, x, out,
                                so, op == AGC_REDUCE_MAX || op == AGC_REDUCE_MIN ? idx : NULL);
    if (!reduce_supported(op, (int)dt)) return AGC_EUNSUPPORTED;
    plan P;
    memset(&P, 0, sizeof(P));
    P.op = op;
    P.dt = (int)dt;
    P.es = agc_dtype_size(dt);
    P.x = (const char *)x;
    P.out = (char *)out;
    P.idx = (op == AGC_REDUCE_MAX || op == AGC_REDUCE_MIN) ? idx : NULL;
    P.p0 = p0;
    const int64_t es = (int64_t)P.es;
    int64_t ooff = 0;
    /* kept dims: drop size 1, flip negative x strides (moving out along), sort, merge */
    P.nout = 1;
    for (int d = 0; d < n_outer; d++) {
        int64_t n = outer_shape[d];
        P.nout *= n;
        if (n == 1) continue;
        int64_t sx = sx_outer[d], sout = so[d];
        if (sx < 0) {
            P.x += (n - 1) * sx * es;
            ooff += (n - 1) * sout;
            sx = -sx;
            sout = -sout;
        }
        P.ks[P.nk] = n;
        P.kx[P.nk] = sx;
        P.ko[P.nk] = sout;
        P.nk++;
    }
    if (P.nout == 0) return AGC_OK;
    P.out += ooff * (int64_t)(op == AGC_REDUCE_ALL || op == AGC_REDUCE_ANY ? 1 : es);
    if (P.idx) P.idx += ooff;
    sort_dims(P.nk, P.ks, P.kx, P.ko);
    P.nk = merge_dims(P.nk, P.ks, P.kx, P.ko);
    /* reduced dims: drop size 1; unless indices are wanted, flip negative strides and sort */
    P.nred = 1;
    const int ordered = P.idx != NULL;
    for (int d = 0; d < n_inner; d++) {
        int64_t n = inner_shape[d];
        P.nred *= n;
        if (n == 1) continue;
        int64_t sx = sx_inner[d];
        if (sx < 0 && !ordered) {
            P.x += (n - 1) * sx * es;
            sx = -sx;
        }
        P.rs[P.nr] = n;
        P.rx[P.nr] = sx;
        P.nr++;
    }
    if (!ordered) sort_dims(P.nr, P.rs, P.rx, NULL);
    P.nr = merge_dims(P.nr, P.rs, P.rx, NULL);
    if (P.nr == 0) {
        P.nr = 1;
        P.rs[0] = 1;
        P.rx[0] = 1;
    }
    P.n0 = P.rs[P.nr - 1];
    P.s0 = P.rx[P.nr - 1];
    if (P.nred == 0) {
        P.n0 = 1; /* keeps the iterator's divisions defined; no chunk is visited */
        P.nr = 1;
    }
    int64_t work = P.nout * (P.nred > 0 ? P.nred : 1);
    int nt = agc_threads_for(work, RD_PAR);
    /* column path: reduced runs strided (or very short) while the innermost kept dim is contiguous */
    if (P.nk >= 1 && P.kx[P.nk - 1] == 1 && P.ks[P.nk - 1] >= 4 && P.nred > 1 && (P.s0 != 1 || P.n0 < 16)) {
        P.col = 1;
        P.K = P.ks[P.nk - 1];
        int64_t nko = P.nout / P.K;
        /* groups as wide as the rows (up to RD_W): a group reads whole rows, which streams memory
         * in order (half rows at a 4 KB stride measured 1.5x slower for (4096, 1024) axis 0) */
        P.W = RD_W;
        const int64_t nch = (P.nred + RD_CHR - 1) / RD_CHR;
        if (nt > 1 && nko * ((P.K + RD_W - 1) / RD_W) < 2 * nt && nch < 2 * nt) {
            /* too few groups and chunks to share: narrower groups, down to 128 columns (any width
             * gives the same bits: columns never interact) */
            int64_t w = (P.K + 4 * nt - 1) / (4 * nt);
            w = (w + 15) / 16 * 16;
            P.W = w < 128 ? 128 : (w > RD_W ? RD_W : w);
        }
        P.ncb = (P.K + P.W - 1) / P.W;
        P.ngroups = nko * P.ncb;
        P.chunk = RD_CHR;
    } else {
        P.ngroups = P.nout;
        P.chunk = RD_CH;
    }
    P.nchunks = (P.nred + P.chunk - 1) / P.chunk;
    const agc_reduce_kernels *vk = rd_vector_kernels();
    if (row_fast_ok(&P)) {
        row_fast(&P, vk, nt);
        return AGC_OK;
    }
    if (nt > 1 && (P.ngroups >= 2 * nt || P.nchunks <= 1)) {
        const int64_t gr = agc_grain(P.nred * (P.col ? P.W : 1));
        (void)gr;
        /* outputs shared between threads: each group is computed whole by one thread */
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, gr)
#endif
        for (int64_t g = 0; g < P.ngroups; g++) {
            AGC_PERTURB();
            group_reduce(&P, g, vk, 1);
        }
        return AGC_OK;
    }
    for (int64_t g = 0; g < P.ngroups; g++) {
        int rc = group_reduce(&P, g, vk, nt);
        if (rc) return rc;
    }
    return AGC_OK;
}
