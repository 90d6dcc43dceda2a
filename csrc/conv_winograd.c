/* conv_winograd.c: the forward of 3x3, stride-1, undilated, ungrouped convolutions with enough channels
 * and pixels (agc_conv_wino_applies) in Winograd's minimal filtering F(2x2, 3x3): each 2x2 block of outputs ("tile") comes from a 4x4 input
 * patch d as Y = A^T [(G g G^T) .* (B^T d B)] A, 16 multiplications per tile and channel pair where the
 * direct form needs 36 (2.25x fewer). The products over channels are 16 GEMMs, one per transform
 * position q (agc_gemm_batched, batch 16):   M_q (o x T) = U_q (o x c) @ V_q (c x T)
 * with U_q the transformed filters (computed per call, in double, rounded once) and V_q the transformed
 * input patches of T tiles. Tiles are processed in chunks of whole tile rows (tile row r of image n is
 * n th + r, th = ceil(oh / 2), tw = ceil(ow / 2) tiles a row), sized so U + V + M stay under the
 * workspace cap and near WINO_CHUNK_TARGET bytes. Patches reaching past the padded input read zeros;
 * outputs past oh / ow of the ragged last tile row / column are computed and dropped.
 * Threads: the input transform splits (channel, tile row) items, the output transform (output
 * channel, tile row) items; each value is computed by the same code whoever runs it, and the GEMM
 * splits M and N, never K: results do not depend on the thread count.
 * Rounding: the input transform adds/subtracts up to 4 inputs (|V| <= 4 max|x|), U is at most
 * (9/4) max|w| in magnitude, and the output transform sums 9 of the 16 products per output with
 * coefficients +-1: the float error is a few units of rounding of sum_c 16 |U||V| (<= 144 c max|x|
 * max|w|), against 9 c max|x| max|w| for the direct sum. Tests: tests/test_conv.py (winograd).
 * Contract in agc.h (agc_conv2d_geom); conv.c decides when it runs (with finite operands only: the
 * transforms turn an inf into NaN in outputs that never read it). */
#include <string.h>

#include "conv.h"

#define WINO_MIN_C_F32 64
#define WINO_MIN_O_F32 32
#define WINO_MIN_CH_F64 16
#define WINO_MIN_PIXELS 196
#define WINO_CHUNK_TARGET ((int64_t)4 << 20)

int agc_conv_wino_applies(agc_dtype dt, const agc_conv2d_geom *g)
{
    if (agc_conv_winograd_mode == 1 || (dt != AGC_F32 && dt != AGC_F64))
        return 0;
    if (g->kh != 3 || g->kw != 3 || g->stride_h != 1 || g->stride_w != 1 || g->dil_h != 1 || g->dil_w != 1 ||
        g->groups != 1 || g->pad_h < 0 || g->pad_w < 0 || g->n == 0)
        return 0;
    if (agc_conv_winograd_mode == 2)
        return 1;
    /* measured, 2 threads, forward and data gradient vs the direct-packed path (ms, old -> Winograd):
     * f32: 32x128x28x28 -> 128 44 -> 28, 8x64x28x28 -> 64 2.9 -> 2.3, 16x64x14x14 -> 64 1.6 -> 1.4,
     * 64x32x14x14 -> 32 2.0 -> 1.9, 64x16x28x28 -> 16 2.1 -> 3.9, 32x128x7x7 -> 128 2.8 -> 3.7,
     * 4x64x4x4 -> 64 0.05 -> 0.28 (the transforms' memory traffic and the 16 small GEMMs' fixed costs
     * dominate with few channels or small images); f64 (whose GEMM is half as fast, so the saved
     * multiplications weigh more): 64x16x28x28 -> 16 7.7 -> 3.9, 64x16x14x14 -> 16 2.0 -> 1.05,
     * 32x128x7x7 -> 128 6.7 -> 5.7, 2x64x8x8 -> 64 0.17 -> 0.29. */
    if (g->oh * g->ow < WINO_MIN_PIXELS)
        return 0;
    if (dt == AGC_F32)
        return g->c >= WINO_MIN_C_F32 && g->o >= WINO_MIN_O_F32;
    return g->c >= WINO_MIN_CH_F64 && g->o >= WINO_MIN_CH_F64;
}

/* tile rows per chunk (>= 1, even chunks) */
static int64_t wino_rows_per_chunk(const agc_conv2d_geom *g, int64_t es)
{
    const int64_t th = (g->oh + 1) / 2, tw = (g->ow + 1) / 2, rows = g->n * th;
    const int64_t u_bytes = 16 * g->o * g->c * es, per_row = 16 * (g->c + g->o) * tw * es;
    int64_t budget = agc_conv_workspace_limit - u_bytes;
    budget = budget < WINO_CHUNK_TARGET ? budget : WINO_CHUNK_TARGET;
    int64_t r = budget / (per_row > 0 ? per_row : 1);
    r = r < 1 ? 1 : r > rows ? rows : r;
    const int64_t chunks = (rows + r - 1) / r;
    return (rows + chunks - 1) / chunks;
}

int64_t agc_conv_wino_workspace_bytes(const agc_conv2d_geom *g, int64_t es, int nthr)
{
    const int64_t tw = (g->ow + 1) / 2, W2 = 2 * tw + 2;
    const int64_t r = wino_rows_per_chunk(g, es);
    return (16 * g->o * g->c + 16 * (g->c + g->o) * tw * r + nthr * 8 * W2) * es + 4 * AGC_ALIGN;
}

#define CONV_WINOGRAD(T, S, ATTR)                                                                          \
    /* U[q][oi][ci] = (G w G^T)[q / 4][q % 4] for w = weight[oi][ci] (3 x 3) */                           \
    ATTR static void wino_filters_##S(const agc_conv2d_geom *g, const T *w, T *U)                               \
    {                                                                                                      \
        const int64_t O = g->o, C = g->c;                                                                  \
        for (int64_t oi = 0; oi < O; oi++)                                                                 \
            for (int64_t ci = 0; ci < C; ci++) {                                                           \
                const T *k = w + (oi * C + ci) * 9;                                                        \
                double t[4][3], u[4][4];                                                                   \
                for (int b = 0; b < 3; b++) {                                                              \
                    t[0][b] = k[b];                                                                        \
                    t[1][b] = 0.5 * ((double)k[b] + k[3 + b] + k[6 + b]);                                  \
                    t[2][b] = 0.5 * ((double)k[b] - k[3 + b] + k[6 + b]);                                  \
                    t[3][b] = k[6 + b];                                                                    \
                }                                                                                          \
                for (int a = 0; a < 4; a++) {                                                              \
                    u[a][0] = t[a][0];                                                                     \
                    u[a][1] = 0.5 * (t[a][0] + t[a][1] + t[a][2]);                                         \
                    u[a][2] = 0.5 * (t[a][0] - t[a][1] + t[a][2]);                                         \
                    u[a][3] = t[a][2];                                                                     \
                }                                                                                          \
                for (int q = 0; q < 16; q++)                                                               \
                    U[(q * O + oi) * C + ci] = (T)u[q / 4][q % 4];                                         \
            }                                                                                              \
    }                                                                                                      \
    /* V[q][ci][(r - r0) tw + j] = (B^T d B)[q / 4][q % 4] for tile rows r in [r0, r0 + R); returns     \
     * nonzero when an input row it read holds an inf or NaN (checked on the copy, in L1) */              \
    ATTR static int wino_input_##S(const agc_conv2d_geom *g, const T *x, int64_t r0, int64_t R, T *V, T *rowbuf, \
                              int nthr)                                                                    \
    {                                                                                                      \
        const int64_t C = g->c, H = g->h, W = g->w, th = (g->oh + 1) / 2, tw = (g->ow + 1) / 2;           \
        const int64_t W2 = 2 * tw + 2, Tn = R * tw, items = C * R;                                         \
        int bad = 0;                                                                                       \
        _Pragma("omp parallel num_threads(nthr) reduction(|: bad)")                                        \
        {                                                                                                  \
            int tid = 0;                                                                                   \
            WINO_TID(tid);                                                                                 \
            T *rb = rowbuf + tid * 8 * W2, *s = rb + 4 * W2;                                               \
            _Pragma("omp for schedule(static)")                                                            \
            for (int64_t it = 0; it < items; it++) {                                                       \
                AGC_PERTURB();                                                                             \
                const int64_t ci = it / R, rr = it % R, r = r0 + rr, n = r / th, ti = r % th;              \
                const T *xc = x + (n * C + ci) * H * W;                                                    \
                /* the 4 input rows of this tile row, zero-padded to W2 columns from column -pad_w */       \
                int64_t lo = g->pad_w, hi = W + g->pad_w;                                                  \
                hi = hi < W2 ? hi : W2;                                                                    \
                for (int a = 0; a < 4; a++) {                                                              \
                    T *d = rb + a * W2;                                                                    \
                    const int64_t iy = 2 * ti - g->pad_h + a;                                              \
                    if (iy < 0 || iy >= H || lo >= hi) {                                                   \
                        memset(d, 0, (size_t)W2 * sizeof(T));                                              \
                        continue;                                                                          \
                    }                                                                                      \
                    for (int64_t e = 0; e < lo; e++)                                                       \
                        d[e] = 0;                                                                          \
                    memcpy(d + lo, xc + iy * W, (size_t)(hi - lo) * sizeof(T));                            \
                    for (int64_t e = hi; e < W2; e++)                                                      \
                        d[e] = 0;                                                                          \
                }                                                                                          \
                /* inf / NaN in the rows read: rows 2 and 3 of a tile row are rows 0 and 1 of the next, so \
                 * those are checked there, except in an image's last tile row */                          \
                bad |= !agc_conv_all_finite(sizeof(T) == 4 ? AGC_F32 : AGC_F64, rb, (ti == th - 1 ? 4 : 2) * W2); \
                /* columns: s = B^T d */                                                                   \
                const T *d0 = rb, *d1 = rb + W2, *d2 = rb + 2 * W2, *d3 = rb + 3 * W2;                     \
                T *s0 = s, *s1 = s + W2, *s2 = s + 2 * W2, *s3 = s + 3 * W2;                               \
                for (int64_t e = 0; e < W2; e++) {                                                         \
                    s0[e] = d0[e] - d2[e];                                                                 \
                    s1[e] = d1[e] + d2[e];                                                                 \
                    s2[e] = d2[e] - d1[e];                                                                 \
                    s3[e] = d1[e] - d3[e];                                                                 \
                }                                                                                          \
                /* rows: V = s B */                                                                        \
                for (int a = 0; a < 4; a++) {                                                              \
                    const T *sa = s + a * W2;                                                              \
                    T *v0 = V + ((4 * a + 0) * C + ci) * Tn + rr * tw, *v1 = v0 + C * Tn;                   \
                    T *v2 = v1 + C * Tn, *v3 = v2 + C * Tn;                                                \
                    for (int64_t j = 0; j < tw; j++) {                                                     \
                        const T e0 = sa[2 * j], e1 = sa[2 * j + 1], e2 = sa[2 * j + 2], e3 = sa[2 * j + 3]; \
                        v0[j] = e0 - e2;                                                                   \
                        v1[j] = e1 + e2;                                                                   \
                        v2[j] = e2 - e1;                                                                   \
                        v3[j] = e1 - e3;                                                                   \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
        return bad;                                                                                        \
    }                                                                                                      \
    /* out[n][oi][2 ti + u][2 j + v] = (A^T M A)[u][v] + bias[oi] for the chunk's tiles */                 \
    ATTR static void wino_output_##S(const agc_conv2d_geom *g, const T *M, const T *bias, int64_t r0, int64_t R, \
                                T *out, int nthr)                                                          \
    {                                                                                                      \
        const int64_t O = g->o, OH = g->oh, OW = g->ow, th = (OH + 1) / 2, tw = (OW + 1) / 2;              \
        const int64_t Tn = R * tw, items = O * R, full = OW / 2;                                           \
        _Pragma("omp parallel for schedule(static) num_threads(nthr)")                                     \
        for (int64_t it = 0; it < items; it++) {                                                           \
            AGC_PERTURB();                                                                                 \
            const int64_t oi = it / R, rr = it % R, r = r0 + rr, n = r / th, ti = r % th;                  \
            const T bv = bias ? bias[oi] : (T)0;                                                           \
            const T *m[16];                                                                                \
            for (int q = 0; q < 16; q++)                                                                   \
                m[q] = M + (q * O + oi) * Tn + rr * tw;                                                    \
            T *y0 = out + ((n * O + oi) * OH + 2 * ti) * OW;                                               \
            T *y1 = 2 * ti + 1 < OH ? y0 + OW : NULL;                                                      \
            for (int64_t j = 0; j < tw; j++) {                                                             \
                /* rows: a_i = A^T-combination over k, then columns */                                     \
                T a0[4], a1[4];                                                                            \
                for (int i = 0; i < 4; i++) {                                                              \
                    a0[i] = m[4 * i][j] + m[4 * i + 1][j] + m[4 * i + 2][j];                               \
                    a1[i] = m[4 * i + 1][j] - m[4 * i + 2][j] - m[4 * i + 3][j];                           \
                }                                                                                          \
                const T y00 = a0[0] + a0[1] + a0[2], y01 = a1[0] + a1[1] + a1[2];                          \
                const T y10 = a0[1] - a0[2] - a0[3], y11 = a1[1] - a1[2] - a1[3];                          \
                y0[2 * j] = y00 + bv;                                                                      \
                if (j < full)                                                                              \
                    y0[2 * j + 1] = y01 + bv;                                                              \
                if (y1) {                                                                                  \
                    y1[2 * j] = y10 + bv;                                                                  \
                    if (j < full)                                                                          \
                        y1[2 * j + 1] = y11 + bv;                                                          \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }

#ifdef _OPENMP
#define WINO_TID(v) ((v) = omp_get_thread_num())
#else
#define WINO_TID(v) ((void)(v))
#endif
CONV_TIERS(CONV_WINOGRAD, float, f32)
CONV_TIERS(CONV_WINOGRAD, double, f64)

int agc_conv_forward_winograd(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight,
                              const void *bias, void *out)
{
    const int64_t es = (int64_t)agc_dtype_size(dt);
    const int64_t th = (g->oh + 1) / 2, tw = (g->ow + 1) / 2, rows = g->n * th, W2 = 2 * tw + 2;
    const int64_t rpc = wino_rows_per_chunk(g, es);
    const int64_t tmax = rpc * tw;
    /* threads for the transforms: one fork per chunk, worth it above ~CONV_OMP_MIN elements */
    const int nthr = agc_threads_for(16 * (g->c + g->o) * tmax, CONV_OMP_MIN);
    const int64_t ub = (16 * g->o * g->c * es + AGC_ALIGN - 1) / AGC_ALIGN * AGC_ALIGN;
    const int64_t vb = (16 * g->c * tmax * es + AGC_ALIGN - 1) / AGC_ALIGN * AGC_ALIGN;
    const int64_t mb = (16 * g->o * tmax * es + AGC_ALIGN - 1) / AGC_ALIGN * AGC_ALIGN;
    char *buf = agc_alloc(ub + vb + mb + nthr * 8 * W2 * es);
    if (!buf)
        return AGC_ENOMEM;
    char *U = buf, *V = buf + ub, *M = V + vb, *rowbuf = M + mb;
    if (dt == AGC_F32)
        CONV_PICK(wino_filters, f32, g, weight, (float *)U);
    else
        CONV_PICK(wino_filters, f64, g, weight, (double *)U);
    int64_t off_a[16], off_b[16], off_c[16];
    int rc = AGC_OK;
    for (int64_t r0 = 0; r0 < rows && rc == AGC_OK; r0 += rpc) {
        const int64_t R = rows - r0 < rpc ? rows - r0 : rpc, Tn = R * tw;
        const int bad = dt == AGC_F32 ? CONV_PICK(wino_input, f32, g, x, r0, R, (float *)V, (float *)rowbuf, nthr)
                                      : CONV_PICK(wino_input, f64, g, x, r0, R, (double *)V, (double *)rowbuf, nthr);
        if (bad) {
            rc = AGC_CONV_NONFINITE; /* the caller recomputes all of out through another path */
            break;
        }
        for (int q = 0; q < 16; q++) {
            off_a[q] = q * g->o * g->c;
            off_b[q] = q * g->c * Tn;
            off_c[q] = q * g->o * Tn;
        }
        rc = agc_gemm_batched(dt, 16, g->o, Tn, g->c, 1.0, U, off_a, g->c, 1, V, off_b, Tn, 1, 0.0, M, off_c, Tn,
                              1);
        if (rc != AGC_OK)
            break;
        if (dt == AGC_F32)
            CONV_PICK(wino_output, f32, g, (const float *)M, bias, r0, R, out, nthr);
        else
            CONV_PICK(wino_output, f64, g, (const double *)M, bias, r0, R, out, nthr);
    }
    agc_free(buf);
    return rc;
}
