/* conv_im2col.c: 2-D convolution forward, backward-data and backward-weight by lowering to GEMM, the
 * reference algorithm every other one must agree with (contract in agc.h, agc_conv2d_geom; conv.c
 * decides when it runs). All tensors are C-contiguous NCHW; nothing aliases.
 *
 * The batch is processed in chunks of nb images. For a chunk, the column buffer is laid out channel-major,
 * col[(c, a, b)][j][i * ow + jj] (row length L = nb * oh * ow), so that each group is ONE GEMM whose
 * N dimension spans the whole chunk:
 *   forward:         tmp (o x L)      = W (o x c k)       @ col (c k x L),   then tmp -> out[n][o] + bias
 *   backward-data:   dcol (c k x L)   = W^T (c k x o)     @ G (o x L),       then col2im -> dx (+ bias)
 *   backward-weight: dW (o x c k)    += G (o x L)         @ col^T (L x c k), chunks in batch order
 * where G is grad_out reordered to [o][j][p]. Groups go through one agc_gemm_batched call (batch =
 * groups). nb is chosen so that col + tmp/G stay under the workspace cap (64 MiB by default) and near
 * 4 MiB when one image fits; with nb == 1 the reorders are skipped because [o][0][p] is already the
 * NCHW layout of one image. With >= 16 output channels per group the forward and weight-gradient GEMMs
 * run transposed (L-major: out^T = col^T W^T, dW^T = col G^T, then transposed back), and a forward whose
 * single image exceeds the 4 MiB target goes through it in ~1 MiB blocks of output rows.
 * A 1x1, stride-1, unpadded convolution is a plain GEMM on the input itself: no column buffer.
 *
 * Threads: the GEMMs thread themselves (splitting M and N, never K). im2col, col2im and the reorders
 * run OpenMP loops over independent rows / planes above a size threshold; col2im gives each (image,
 * channel) plane to one thread and adds its taps in a fixed order, so no result depends on the thread
 * count. Tests: tests/test_conv.py. */
#include <string.h>

#include "conv.h"

/* Images per chunk: the column buffer (c k x nb p) plus the reorder buffer (o x nb p) stay under the
 * cap, and under CONV_CACHE_TARGET when one image fits in it, so that the GEMM reads the columns back
 * from cache: 4 MiB measured 15-20% faster than 64 MiB chunks on the ResNet-like layers (1 thread). */
#define CONV_CACHE_TARGET ((int64_t)4 << 20)
#define CONV_ROW_TARGET ((int64_t)1 << 20)
static int64_t chunk_images(const agc_conv2d_geom *g, int64_t esize)
{
    int64_t per_image = (g->c * g->kh * g->kw + g->o) * g->oh * g->ow * esize;
    int64_t budget = agc_conv_workspace_limit < CONV_CACHE_TARGET ? agc_conv_workspace_limit : CONV_CACHE_TARGET;
    int64_t nb = per_image > 0 ? budget / per_image : g->n;
    if (nb < 1)
        nb = 1;
    if (nb >= g->n)
        return g->n > 0 ? g->n : 1;
    /* even chunks: 64 images under a 63-image budget run as 32 + 32, not 63 + 1 */
    int64_t chunks = (g->n + nb - 1) / nb;
    return (g->n + chunks - 1) / chunks;
}

/* bytes of the column buffer, the (o x nb p) reorder buffer and the weight-gradient transpose buffer */
int64_t agc_conv_gemm_workspace_bytes(const agc_conv2d_geom *g, int64_t es)
{
    if (g->n == 0 || conv_is_pointwise(g))
        return 0;
    const int64_t nb = chunk_images(g, es), p = g->oh * g->ow;
    return (g->c * g->kh * g->kw * nb * p + g->o * nb * p + g->o * g->c / g->groups * g->kh * g->kw) * es;
}

static inline void conv_col_range(const agc_conv2d_geom *g, int64_t iw0, int64_t W, int64_t OW, int64_t *lo,
                                  int64_t *hi)
{
    *lo = 0, *hi = OW;
    if (g->stride_w == 1) {
        *lo = -iw0 < 0 ? 0 : (-iw0 > OW ? OW : -iw0);
        *hi = W - iw0 < *lo ? *lo : (W - iw0 > OW ? OW : W - iw0);
    }
}

/* Per-dtype helpers. T is the element type, S its suffix. */
#define CONV_HELPERS(T, S)                                                                                 \
    /* dst[0 .. n) = src[0 .. n) in fixed 32-byte pieces (the last one overlapping the one before it when */ \
    /* n is not a multiple): constant-size memcpy compiles to plain vector moves, where a loop of a       */ \
    /* run-time length ~10 paid its setup and remainder handling on every LeNet-sized row                 */ \
    static inline void copy_row_##S(T *restrict dst, const T *restrict src, int64_t n)                     \
    {                                                                                                      \
        enum { CH = 32 / sizeof(T) };                                                                      \
        if (n < CH) {                                                                                      \
            for (int64_t jj = 0; jj < n; jj++)                                                             \
                dst[jj] = src[jj];                                                                         \
            return;                                                                                        \
        }                                                                                                  \
        int64_t k = 0;                                                                                     \
        for (; k + CH <= n; k += CH)                                                                       \
            memcpy(dst + k, src + k, 32);                                                                  \
        if (k < n)                                                                                         \
            memcpy(dst + n - CH, src + n - CH, 32);                                                        \
    }                                                                                                      \
                                                                                                           \
    /* dst[0 .. n) += src[0 .. n): fixed-length blocks the compiler turns into whole vectors, then the     \
     * remainder one by one (each element still gets one add, so the result is the plain loop's) */        \
    static inline void add_row_##S(T *restrict dst, const T *restrict src, int64_t n)                      \
    {                                                                                                      \
        enum { CH = 32 / sizeof(T) };                                                                      \
        int64_t k = 0;                                                                                     \
        for (; k + CH <= n; k += CH)                                                                       \
            for (int e = 0; e < CH; e++)                                                                   \
                dst[k + e] += src[k + e];                                                                  \
        for (; k < n; k++)                                                                                 \
            dst[k] += src[k];                                                                              \
    }                                                                                                      \
                                                                                                           \
    /* col[(c, a, b)][j][(i - rlo) * ow + jj] for images n0 .. n0 + nb and output rows rlo .. rhi */       \
    static void im2col_##S(const agc_conv2d_geom *g, const T *x, int64_t n0, int64_t nb, int64_t rlo,      \
                           int64_t rhi, T *col)                                                            \
    {                                                                                                      \
        const int64_t kk = g->kh * g->kw, rows = g->c * kk, p = (rhi - rlo) * g->ow, L = nb * p;           \
        const int64_t H = g->h, W = g->w, OH = rhi, OW = g->ow;                                            \
        /* threads split the rows (c, a, b) only: a collapsed (row, image) loop recomputed c, a and b with */ \
        /* 64-bit divisions per image, which cost as much as copying a LeNet-sized row */                  \
        _Pragma("omp parallel for schedule(static) num_threads(agc_threads_for(rows * L, CONV_OMP_MIN))")  \
        for (int64_t r = 0; r < rows; r++) {                                                               \
            AGC_PERTURB();                                                                                 \
            const int64_t c = r / kk, a = (r / g->kw) % g->kh, b = r % g->kw;                              \
            /* the clipping below depends on (a, b) only: computed once per row, not per image */          \
            const int64_t iw0 = b * g->dil_w - g->pad_w;                                                   \
            int64_t lo, hi;                                                                                \
            conv_col_range(g, iw0, W, OW, &lo, &hi);                                                       \
            /* output rows whose input row is inside the image: [i0, i1); the others are zero */           \
            const int64_t ih0 = a * g->dil_h - g->pad_h, sh = g->stride_h;                                 \
            int64_t i0 = ih0 >= 0 ? 0 : (-ih0 + sh - 1) / sh;                                              \
            int64_t i1 = H - ih0 <= 0 ? 0 : (H - ih0 + sh - 1) / sh;                                       \
            i0 = i0 < rlo ? rlo : i0;                                                                      \
            i1 = i1 > OH ? OH : i1;                                                                        \
            i1 = i1 < i0 ? i0 : i1;                                                                        \
            i0 = i0 > OH ? OH : i0;                                                                        \
            i1 = i1 > OH ? OH : i1;                                                                        \
            for (int64_t j = 0; j < nb; j++) {                                                             \
                const T *xp = x + ((n0 + j) * g->c + c) * H * W;                                           \
                T *dst = col + r * L + j * p;                                                              \
                if (i0 > rlo)                                                                              \
                    memset(dst, 0, (size_t)((i0 - rlo) * OW) * sizeof(T));                                 \
                if (OH > i1)                                                                               \
                    memset(dst + (i1 - rlo) * OW, 0, (size_t)((OH - i1) * OW) * sizeof(T));                \
                if (g->stride_w == 1) {                                                                    \
                    for (int64_t i = i0; i < i1; i++) {                                                    \
                        T *restrict row = dst + (i - rlo) * OW;                                            \
                        const T *restrict src = xp + (ih0 + i * sh) * W + iw0;                             \
                        for (int64_t jj = 0; jj < lo; jj++)                                                \
                            row[jj] = 0;                                                                   \
                        copy_row_##S(row + lo, src + lo, hi - lo);                                         \
                        for (int64_t jj = hi; jj < OW; jj++)                                               \
                            row[jj] = 0;                                                                   \
                    }                                                                                      \
                } else {                                                                                   \
                    for (int64_t i = i0; i < i1; i++) {                                                    \
                        T *row = dst + (i - rlo) * OW;                                                     \
                        const T *xr = xp + (ih0 + i * sh) * W;                                             \
                        for (int64_t jj = 0; jj < OW; jj++) {                                              \
                            const int64_t iw = iw0 + jj * g->stride_w;                                     \
                            row[jj] = (iw >= 0 && iw < W) ? xr[iw] : (T)0;                                 \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
                                                                                                           \
    /* dx[n0 + j][c] = bias[c] (or 0) + sum of the taps of dcol that land on it, in (a, b, i, jj) order */ \
    static void col2im_##S(const agc_conv2d_geom *g, const T *dcol, const T *bias, int64_t n0, int64_t nb, \
                           T *dx)                                                                          \
    {                                                                                                      \
        const int64_t p = g->oh * g->ow, L = nb * p, H = g->h, W = g->w, OH = g->oh, OW = g->ow;           \
        _Pragma("omp parallel for collapse(2) schedule(static) num_threads(agc_threads_for(g->c * L * g->kh * g->kw, CONV_OMP_MIN))") \
        for (int64_t j = 0; j < nb; j++) {                                                                 \
            for (int64_t c = 0; c < g->c; c++) {                                                           \
                AGC_PERTURB();                                                                             \
                T *dp = dx + ((n0 + j) * g->c + c) * H * W;                                                \
                const T init = bias ? bias[c] : (T)0;                                                      \
                for (int64_t e = 0; e < H * W; e++)                                                        \
                    dp[e] = init;                                                                          \
                for (int64_t a = 0; a < g->kh; a++) {                                                      \
                    for (int64_t b = 0; b < g->kw; b++) {                                                  \
                        const T *src = dcol + ((c * g->kh + a) * g->kw + b) * L + j * p;                   \
                        const int64_t iw0 = b * g->dil_w - g->pad_w;                                       \
                        int64_t lo, hi;                                                                    \
                        conv_col_range(g, iw0, W, OW, &lo, &hi);                                           \
                        for (int64_t i = 0; i < OH; i++) {                                                 \
                            const int64_t ih = i * g->stride_h - g->pad_h + a * g->dil_h;                  \
                            if (ih < 0 || ih >= H)                                                         \
                                continue;                                                                  \
                            T *dr = dp + ih * W;                                                           \
                            const T *sr = src + i * OW;                                                    \
                            if (g->stride_w == 1) {                                                        \
                                add_row_##S(dr + iw0 + lo, sr + lo, hi - lo);                              \
                            } else {                                                                       \
                                for (int64_t jj = 0; jj < OW; jj++) {                                      \
                                    const int64_t iw = iw0 + jj * g->stride_w;                             \
                                    if (iw >= 0 && iw < W)                                                 \
                                        dr[iw] += sr[jj];                                                  \
                                }                                                                          \
                            }                                                                              \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
                                                                                                           \
    /* out[n0 + j][o][p] = tmp[o][j][p] + bias[o]; with tmp == NULL, adds the bias in place in out */      \
    static void unchunk_##S(const agc_conv2d_geom *g, const T *tmp, const T *bias, int64_t n0, int64_t nb, \
                            T *out)                                                                        \
    {                                                                                                      \
        const int64_t p = g->oh * g->ow, L = nb * p;                                                       \
        _Pragma("omp parallel for collapse(2) schedule(static) num_threads(agc_threads_for(g->o * L, CONV_OMP_MIN))")             \
        for (int64_t j = 0; j < nb; j++) {                                                                 \
            for (int64_t o = 0; o < g->o; o++) {                                                           \
                AGC_PERTURB();                                                                             \
                T *dst = out + ((n0 + j) * g->o + o) * p;                                                  \
                const T *src = tmp ? tmp + o * L + j * p : dst;                                            \
                const T bv = bias ? bias[o] : (T)0;                                                        \
                for (int64_t e = 0; e < p; e++)                                                            \
                    dst[e] = src[e] + bv;                                                                  \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
                                                                                                           \
    /* G[o][j][p] = grad_out[n0 + j][o][p] */                                                              \
    static void chunk_grad_##S(const agc_conv2d_geom *g, const T *gout, int64_t n0, int64_t nb, T *G)      \
    {                                                                                                      \
        const int64_t p = g->oh * g->ow, L = nb * p;                                                       \
        _Pragma("omp parallel for collapse(2) schedule(static) num_threads(agc_threads_for(g->o * L, CONV_OMP_MIN))")             \
        for (int64_t o = 0; o < g->o; o++)                                                                 \
            for (int64_t j = 0; j < nb; j++)                                                               \
                memcpy(G + o * L + j * p, gout + ((n0 + j) * g->o + o) * p, (size_t)p * sizeof(T));        \
    }                                                                                                      \
                                                                                                           \
    /* out[n0 + j][o][p] = tmpT[(j * P + p) * O + o] + bias[o]: the L-major GEMM result back to NCHW, */  \
    /* in tiles of 32 pixels so that both sides stay in cache */                                           \
    static void untranspose_##S(const agc_conv2d_geom *g, const T *tmpT, const T *bias, int64_t n0,         \
                                int64_t nb, int64_t rlo, int64_t rhi, T *out)                              \
    {                                                                                                      \
        const int64_t P = g->oh * g->ow, pc = (rhi - rlo) * g->ow, O = g->o, tiles = (pc + 31) / 32;       \
        _Pragma("omp parallel for collapse(2) schedule(static) num_threads(agc_threads_for(O * nb * pc, CONV_OMP_MIN))") \
        for (int64_t j = 0; j < nb; j++) {                                                                 \
            for (int64_t tb = 0; tb < tiles; tb++) {                                                       \
                AGC_PERTURB();                                                                             \
                const int64_t p0 = tb * 32, p1 = p0 + 32 < pc ? p0 + 32 : pc;                              \
                const T *src = tmpT + (j * pc) * O;                                                        \
                for (int64_t o = 0; o < O; o++) {                                                          \
                    T *dst = out + ((n0 + j) * O + o) * P + rlo * g->ow;                                   \
                    const T bv = bias ? bias[o] : (T)0;                                                    \
                    for (int64_t p = p0; p < p1; p++)                                                      \
                        dst[p] = src[p * O + o] + bv;                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
                                                                                                           \
    /* out[(gi * og + o) * ck + k] = tw[(gi * ck + k) * og + o] */                                         \
    static void weight_untranspose_##S(int64_t groups, int64_t og, int64_t ck, const T *tw, T *out)        \
    {                                                                                                      \
        for (int64_t gi = 0; gi < groups; gi++)                                                            \
            for (int64_t o = 0; o < og; o++)                                                               \
                for (int64_t k = 0; k < ck; k++)                                                           \
                    out[(gi * og + o) * ck + k] = tw[(gi * ck + k) * og + o];                              \
    }                                                                                                      \
                                                                                                           \
    /* out planes (n, ch, p) set to bias[ch] */                                                            \
    static void fill_bias_##S(int64_t n, int64_t ch, int64_t p, const T *bias, T *out)                     \
    {                                                                                                      \
        _Pragma("omp parallel for collapse(2) schedule(static) num_threads(agc_threads_for(n * ch * p, CONV_OMP_MIN))")           \
        for (int64_t i = 0; i < n; i++)                                                                    \
            for (int64_t c = 0; c < ch; c++) {                                                             \
                AGC_PERTURB();                                                                             \
                T *d = out + (i * ch + c) * p;                                                             \
                for (int64_t e = 0; e < p; e++)                                                            \
                    d[e] = bias[c];                                                                        \
            }                                                                                              \
    }

CONV_HELPERS(float, f32)
CONV_HELPERS(double, f64)

static void im2col(agc_dtype dt, const agc_conv2d_geom *g, const void *x, int64_t n0, int64_t nb, int64_t rlo,
                   int64_t rhi, void *col)
{
    if (dt == AGC_F32)
        im2col_f32(g, x, n0, nb, rlo, rhi, col);
    else
        im2col_f64(g, x, n0, nb, rlo, rhi, col);
}

static void col2im(agc_dtype dt, const agc_conv2d_geom *g, const void *dcol, const void *bias, int64_t n0,
                   int64_t nb, void *dx)
{
    if (dt == AGC_F32)
        col2im_f32(g, dcol, bias, n0, nb, dx);
    else
        col2im_f64(g, dcol, bias, n0, nb, dx);
}

static void unchunk(agc_dtype dt, const agc_conv2d_geom *g, const void *tmp, const void *bias, int64_t n0,
                    int64_t nb, void *out)
{
    if (dt == AGC_F32)
        unchunk_f32(g, tmp, bias, n0, nb, out);
    else
        unchunk_f64(g, tmp, bias, n0, nb, out);
}

static void untranspose(agc_dtype dt, const agc_conv2d_geom *g, const void *tmpT, const void *bias, int64_t n0,
                        int64_t nb, int64_t rlo, int64_t rhi, void *out)
{
    if (dt == AGC_F32)
        untranspose_f32(g, tmpT, bias, n0, nb, rlo, rhi, out);
    else
        untranspose_f64(g, tmpT, bias, n0, nb, rlo, rhi, out);
}

static void weight_untranspose(agc_dtype dt, int64_t groups, int64_t og, int64_t ck, const void *tw, void *out)
{
    if (dt == AGC_F32)
        weight_untranspose_f32(groups, og, ck, tw, out);
    else
        weight_untranspose_f64(groups, og, ck, tw, out);
}

static void chunk_grad(agc_dtype dt, const agc_conv2d_geom *g, const void *gout, int64_t n0, int64_t nb,
                       void *G)
{
    if (dt == AGC_F32)
        chunk_grad_f32(g, gout, n0, nb, G);
    else
        chunk_grad_f64(g, gout, n0, nb, G);
}

static void fill_bias(agc_dtype dt, int64_t n, int64_t ch, int64_t p, const void *bias, void *out)
{
    if (dt == AGC_F32)
        fill_bias_f32(n, ch, p, bias, out);
    else
        fill_bias_f64(n, ch, p, bias, out);
}

/* Offsets for a batch of `groups` GEMMs (times `images` when images > 0): element i = gi * step_g (+ n *
 * step_n), gi fastest. */
static int64_t *group_offsets(int64_t images, int64_t groups, int64_t step_n, int64_t step_g)
{
    int64_t count = (images > 0 ? images : 1) * groups;
    int64_t *off = agc_alloc(count * (int64_t)sizeof(int64_t));
    if (!off)
        return NULL;
    for (int64_t i = 0; i < count; i++)
        off[i] = (i / groups) * step_n + (i % groups) * step_g;
    return off;
}

/* the forward through a column buffer, or as a plain GEMM for a pointwise geometry */
int agc_conv_forward_gemm(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight,
                          const void *bias, void *out)
{
    if (dt != AGC_F32 && dt != AGC_F64)
        return AGC_EUNSUPPORTED;
    if (g->n == 0)
        return AGC_OK;
    const int64_t es = (int64_t)agc_dtype_size(dt);
    const int64_t G = g->groups, cg = g->c / G, og = g->o / G, ck = cg * g->kh * g->kw, p = g->oh * g->ow;
    int rc = AGC_OK;

    if (conv_is_pointwise(g)) {
        /* out[n, gi] = W_gi (og x cg) @ x[n, gi] (cg x p), one batched GEMM over (n, gi) */
        int64_t *off_a = group_offsets(g->n, G, 0, og * cg);
        int64_t *off_b = group_offsets(g->n, G, g->c * p, cg * p);
        int64_t *off_c = group_offsets(g->n, G, g->o * p, og * p);
        if (!off_a || !off_b || !off_c) {
            rc = AGC_ENOMEM;
        } else {
            if (bias)
                fill_bias(dt, g->n, g->o, p, bias, out);
            rc = agc_gemm_batched(dt, g->n * G, og, p, cg, 1.0, weight, off_a, cg, 1, x, off_b, p, 1,
                                  bias ? 1.0 : 0.0, out, off_c, p, 1);
        }
        agc_free(off_a);
        agc_free(off_b);
        agc_free(off_c);
        return rc;
    }

    /* with at least NR (the GEMM context's tile width) output channels per group the GEMM runs L-major,
     * out^T (L x o) = col^T @ W^T: its threads then split the long L side into many even blocks and pack
     * only the small W panel in common (measured 2-3x faster than o x L for 64 channels, 2 threads,
     * NR = 16). Fewer channels keep the o x L form so that the micro-kernel's NR columns are not mostly
     * padding. */
    const int lmajor = og >= agc_gemm_tile_nr(dt);
    const int64_t nb_max = chunk_images(g, es);
    char *col = agc_alloc(g->c * g->kh * g->kw * nb_max * p * es);
    char *tmp = (nb_max > 1 || lmajor) ? agc_alloc(g->o * nb_max * p * es) : NULL;
    int64_t *off_a = group_offsets(0, G, 0, 0);
    int64_t *off_b = group_offsets(0, G, 0, 0);
    int64_t *off_c = group_offsets(0, G, 0, 0);
    if (!col || ((nb_max > 1 || lmajor) && !tmp) || !off_a || !off_b || !off_c) {
        rc = AGC_ENOMEM;
        goto done;
    }
    /* when one image's columns exceed the cache target, the L-major forward also splits each image into
     * blocks of output rows (measured ~5% faster on the ResNet 64x56x56 3x3 forward with 1 MiB blocks) */
    const int64_t row_bytes = (g->c * g->kh * g->kw + g->o) * g->ow * es;
    const int64_t row_budget = agc_conv_workspace_limit < CONV_ROW_TARGET ? agc_conv_workspace_limit : CONV_ROW_TARGET;
    int64_t rows_per = nb_max == 1 && lmajor ? row_budget / (row_bytes > 0 ? row_bytes : 1) : g->oh;
    rows_per = rows_per < 1 ? 1 : rows_per > g->oh ? g->oh : rows_per;
    for (int64_t n0 = 0; n0 < g->n && rc == AGC_OK; n0 += nb_max) {
        const int64_t nb = g->n - n0 < nb_max ? g->n - n0 : nb_max, L = nb * p;
        if (lmajor) {
            for (int64_t rlo = 0; rlo < g->oh && rc == AGC_OK; rlo += rows_per) {
                const int64_t rhi = rlo + rows_per < g->oh ? rlo + rows_per : g->oh, Lr = nb * (rhi - rlo) * g->ow;
                im2col(dt, g, x, n0, nb, rlo, rhi, col);
                for (int64_t gi = 0; gi < G; gi++) {
                    off_a[gi] = gi * ck * Lr;
                    off_b[gi] = gi * og * ck;
                    off_c[gi] = gi * og;
                }
                rc = agc_gemm_batched(dt, G, Lr, og, ck, 1.0, col, off_a, 1, Lr, weight, off_b, 1, ck, 0.0, tmp,
                                      off_c, g->o, 1);
                if (rc == AGC_OK)
                    untranspose(dt, g, tmp, bias, n0, nb, rlo, rhi, out);
            }
            continue;
        }
        im2col(dt, g, x, n0, nb, 0, g->oh, col);
        char *dst = nb > 1 ? tmp : (char *)out + n0 * g->o * p * es;
        for (int64_t gi = 0; gi < G; gi++) {
            off_a[gi] = gi * og * ck;
            off_b[gi] = gi * ck * L;
            off_c[gi] = gi * og * L;
        }
        rc = agc_gemm_batched(dt, G, og, L, ck, 1.0, weight, off_a, ck, 1, col, off_b, L, 1, 0.0, dst, off_c, L,
                              1);
        if (nb > 1)
            unchunk(dt, g, tmp, bias, n0, nb, out);
        else if (bias)
            unchunk(dt, g, NULL, bias, n0, nb, out);
    }
done:
    agc_free(col);
    agc_free(tmp);
    agc_free(off_a);
    agc_free(off_b);
    agc_free(off_c);
    return rc;
}

/* the data gradient as GEMM + col2im (a plain GEMM for a pointwise geometry) */
int agc_conv_backward_data_gemm(agc_dtype dt, const agc_conv2d_geom *g, const void *grad_out, const void *weight,
                                const void *bias, void *out)
{
    if (dt != AGC_F32 && dt != AGC_F64)
        return AGC_EUNSUPPORTED;
    if (g->n == 0)
        return AGC_OK;
    const int64_t es = (int64_t)agc_dtype_size(dt);
    const int64_t G = g->groups, cg = g->c / G, og = g->o / G, ck = cg * g->kh * g->kw, p = g->oh * g->ow;
    int rc = AGC_OK;
    if (conv_is_pointwise(g)) {
        /* dx[n, gi] = W_gi^T (cg x og) @ grad_out[n, gi] (og x p) */
        int64_t *off_a = group_offsets(g->n, G, 0, og * cg);
        int64_t *off_b = group_offsets(g->n, G, g->o * p, og * p);
        int64_t *off_c = group_offsets(g->n, G, g->c * p, cg * p);
        if (!off_a || !off_b || !off_c) {
            rc = AGC_ENOMEM;
        } else {
            if (bias)
                fill_bias(dt, g->n, g->c, p, bias, out);
            rc = agc_gemm_batched(dt, g->n * G, cg, p, og, 1.0, weight, off_a, 1, cg, grad_out, off_b, p, 1,
                                  bias ? 1.0 : 0.0, out, off_c, p, 1);
        }
        agc_free(off_a);
        agc_free(off_b);
        agc_free(off_c);
        return rc;
    }

    const int64_t nb_max = chunk_images(g, es);
    char *col = agc_alloc(g->c * g->kh * g->kw * nb_max * p * es);
    char *gbuf = nb_max > 1 ? agc_alloc(g->o * nb_max * p * es) : NULL;
    int64_t *off_a = group_offsets(0, G, 0, og * ck);
    int64_t *off_b = group_offsets(0, G, 0, 0);
    int64_t *off_c = group_offsets(0, G, 0, 0);
    if (!col || (nb_max > 1 && !gbuf) || !off_a || !off_b || !off_c) {
        rc = AGC_ENOMEM;
        goto done;
    }
    for (int64_t n0 = 0; n0 < g->n && rc == AGC_OK; n0 += nb_max) {
        const int64_t nb = g->n - n0 < nb_max ? g->n - n0 : nb_max, L = nb * p;
        const char *gsrc = (const char *)grad_out + n0 * g->o * p * es;
        if (nb > 1) {
            chunk_grad(dt, g, grad_out, n0, nb, gbuf);
            gsrc = gbuf;
        }
        for (int64_t gi = 0; gi < G; gi++) {
            off_b[gi] = gi * og * L;
            off_c[gi] = gi * ck * L;
        }
        rc = agc_gemm_batched(dt, G, ck, L, og, 1.0, weight, off_a, 1, ck, gsrc, off_b, L, 1, 0.0, col, off_c, L,
                              1);
        if (rc == AGC_OK)
            col2im(dt, g, col, bias, n0, nb, out);
    }
done:
    agc_free(col);
    agc_free(gbuf);
    agc_free(off_a);
    agc_free(off_b);
    agc_free(off_c);
    return rc;
}

int agc_conv_backward_weight_gemm(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *grad_out,
                                  void *out)
{
    if (dt != AGC_F32 && dt != AGC_F64)
        return AGC_EUNSUPPORTED;
    const int64_t es = (int64_t)agc_dtype_size(dt);
    const int64_t G = g->groups, cg = g->c / G, og = g->o / G, ck = cg * g->kh * g->kw, p = g->oh * g->ow;
    int rc = AGC_OK;
    if (g->n == 0) {
        memset(out, 0, (size_t)(g->o * ck * es));
        return AGC_OK;
    }

    if (conv_is_pointwise(g)) {
        /* dW_gi (og x cg) = sum_n grad_out[n, gi] (og x p) @ x[n, gi]^T (p x cg), images in order */
        int64_t *off_a = group_offsets(0, G, 0, og * p);
        int64_t *off_b = group_offsets(0, G, 0, cg * p);
        int64_t *off_c = group_offsets(0, G, 0, og * cg);
        if (!off_a || !off_b || !off_c) {
            rc = AGC_ENOMEM;
        } else {
            for (int64_t n = 0; n < g->n && rc == AGC_OK; n++)
                rc = agc_gemm_batched(dt, G, og, cg, p, 1.0, (const char *)grad_out + n * g->o * p * es, off_a,
                                      p, 1, (const char *)x + n * g->c * p * es, off_b, 1, p, n ? 1.0 : 0.0, out,
                                      off_c, cg, 1);
        }
        agc_free(off_a);
        agc_free(off_b);
        agc_free(off_c);
        return rc;
    }

    /* L-major for the same reason as the forward: dW^T (c k x o) = col (c k x L) @ G^T (L x o), summed
     * over chunks into a small (groups, c k, o) buffer and transposed at the end */
    const int lmajor = og >= 16;
    const int64_t nb_max = chunk_images(g, es);
    char *col = agc_alloc(g->c * g->kh * g->kw * nb_max * p * es);
    char *gbuf = nb_max > 1 ? agc_alloc(g->o * nb_max * p * es) : NULL;
    char *tw = lmajor ? agc_alloc(g->o * ck * es) : NULL;
    int64_t *off_a = group_offsets(0, G, 0, 0);
    int64_t *off_b = group_offsets(0, G, 0, 0);
    int64_t *off_c = group_offsets(0, G, 0, lmajor ? ck * og : og * ck);
    if (!col || (nb_max > 1 && !gbuf) || (lmajor && !tw) || !off_a || !off_b || !off_c) {
        rc = AGC_ENOMEM;
        goto done;
    }
    for (int64_t n0 = 0; n0 < g->n && rc == AGC_OK; n0 += nb_max) {
        const int64_t nb = g->n - n0 < nb_max ? g->n - n0 : nb_max, L = nb * p;
        const char *gsrc = (const char *)grad_out + n0 * g->o * p * es;
        if (nb > 1) {
            chunk_grad(dt, g, grad_out, n0, nb, gbuf);
            gsrc = gbuf;
        }
        im2col(dt, g, x, n0, nb, 0, g->oh, col);
        if (lmajor) {
            for (int64_t gi = 0; gi < G; gi++) {
                off_a[gi] = gi * ck * L;
                off_b[gi] = gi * og * L;
            }
            rc = agc_gemm_batched(dt, G, ck, og, L, 1.0, col, off_a, L, 1, gsrc, off_b, 1, L, n0 ? 1.0 : 0.0, tw,
                                  off_c, og, 1);
        } else {
            for (int64_t gi = 0; gi < G; gi++) {
                off_a[gi] = gi * og * L;
                off_b[gi] = gi * ck * L;
            }
            rc = agc_gemm_batched(dt, G, og, ck, L, 1.0, gsrc, off_a, L, 1, col, off_b, 1, L, n0 ? 1.0 : 0.0, out,
                                  off_c, ck, 1);
        }
    }
    if (rc == AGC_OK && lmajor)
        weight_untranspose(dt, G, og, ck, tw, out);
done:
    agc_free(col);
    agc_free(gbuf);
    agc_free(tw);
    agc_free(off_a);
    agc_free(off_b);
    agc_free(off_c);
    return rc;
}
