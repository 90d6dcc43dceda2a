/* conv.c: 2-D convolution forward, backward-data and backward-weight by lowering to GEMM (contract in
 * agc.h, agc_conv2d_geom). All tensors are C-contiguous NCHW; nothing aliases.
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
 * Direct-packed path (the forward with >= 4 output channels per group, and the stride-1 data gradient
 * where padding adds little work, as a convolution of grad_out with the flipped weights): no column
 * buffer either. Blocks of output pixels have their columns written straight into the GEMM's packed B
 * panels (16 pixels x c k, in L1/L2) and are multiplied by the weights packed once into A panels
 * (agc_gemm_prepacked, in gemm.c); im2col + the GEMM's own packing moved the same data twice. Measured
 * single-thread: LeNet-5 layer 2 forward 0.87 -> 0.61 ms, ResNet-like 64@56^2 52 -> 45 ms,
 * 128@28^2 97 -> 87 ms. The weight gradient keeps im2col (a direct version with transposed A panels
 * measured slower). Depthwise forwards (one input channel per group) run direct loops
 * (depthwise_f32/f64): 32x64x56x56 3x3 48 -> 39 ms, 2 threads. agc_conv_set_direct selects the
 * algorithm for tests (mode 1: im2col + GEMM everywhere).
 *
 * Winograd path (3x3, stride 1, no dilation, groups 1, enough channels and pixels: the forward and
 * the stride-1 data gradient, which is a forward with flipped weights): F(2x2, 3x3) as 16 batched GEMMs
 * over chunks of transformed tiles, 2.25x fewer multiplications (section at the end of this file).
 * Measured, float32, 2 threads: 32x128x28x28 -> 128@3x3 forward 44 -> 28 ms, data gradient 44 -> 29 ms;
 * 16x64x56x56 -> 64@3x3 forward ~25 -> 16 ms. agc_conv_set_winograd switches it (1 off, 2 forced).
 *
 * Threads: the GEMMs thread themselves (splitting M and N, never K). im2col, col2im and the reorders
 * run OpenMP loops over independent rows / planes above a size threshold; col2im gives each (image,
 * channel) plane to one thread and adds its taps in a fixed order, so no result depends on the thread
 * count. Tests: tests/test_conv.py. */
#include <string.h>

#include "internal.h"

#define CONV_DEFAULT_LIMIT ((int64_t)64 << 20)
/* below this many elements touched, a loop stays on one thread (fork cost ~ a few microseconds) */
#define CONV_OMP_MIN 32768

static int64_t workspace_limit = CONV_DEFAULT_LIMIT;

int64_t agc_conv_set_workspace_limit(int64_t nbytes)
{
    int64_t prev = workspace_limit;
    workspace_limit = nbytes > 0 ? nbytes : CONV_DEFAULT_LIMIT;
    return prev;
}

/* 1 when none of the n values is inf or NaN. The fast paths that do not form the plain sum of products
 * need it: Winograd's transforms add and subtract the inputs of a whole tile (an inf there becomes NaN
 * in outputs that never read it: inf - inf), the direct depthwise loops skip the padding taps (an inf
 * weight over padding gives inf * 0 = NaN through im2col), and the stride-1 data gradient convolves a
 * zero-padded grad_out (an inf weight times those zeros gives NaN at inputs no output reads through
 * it). With a non-finite operand they fall back to im2col + GEMM, whose result every path must give. */
static int all_finite(agc_dtype dt, const void *p, int64_t n)
{
    int bad = 0;
    if (dt == AGC_F32) {
        const uint32_t *u = (const uint32_t *)p;
        for (int64_t i = 0; i < n; i++)
            bad |= (u[i] & 0x7f800000u) == 0x7f800000u;
    } else {
        const uint64_t *u = (const uint64_t *)p;
        for (int64_t i = 0; i < n; i++)
            bad |= (u[i] & 0x7ff0000000000000u) == 0x7ff0000000000000u;
    }
    return !bad;
}

static int is_pointwise(const agc_conv2d_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->stride_h == 1 && g->stride_w == 1 && g->pad_h == 0 && g->pad_w == 0
        && g->oh == g->h && g->ow == g->w;
}

/* Images per chunk: the column buffer (c k x nb p) plus the reorder buffer (o x nb p) stay under the
 * cap, and under CONV_CACHE_TARGET when one image fits in it, so that the GEMM reads the columns back
 * from cache: 4 MiB measured 15-20% faster than 64 MiB chunks on the ResNet-like layers (1 thread). */
#define CONV_CACHE_TARGET ((int64_t)4 << 20)
#define CONV_ROW_TARGET ((int64_t)1 << 20)
static int64_t chunk_images(const agc_conv2d_geom *g, int64_t esize)
{
    int64_t per_image = (g->c * g->kh * g->kw + g->o) * g->oh * g->ow * esize;
    int64_t budget = workspace_limit < CONV_CACHE_TARGET ? workspace_limit : CONV_CACHE_TARGET;
    int64_t nb = per_image > 0 ? budget / per_image : g->n;
    if (nb < 1)
        nb = 1;
    if (nb >= g->n)
        return g->n > 0 ? g->n : 1;
    /* even chunks: 64 images under a 63-image budget run as 32 + 32, not 63 + 1 */
    int64_t chunks = (g->n + nb - 1) / nb;
    return (g->n + chunks - 1) / chunks;
}

static int use_direct(agc_dtype dt, const agc_conv2d_geom *g);
static int64_t direct_workspace_bytes(const agc_conv2d_geom *g, int64_t es, int64_t mr, int64_t nr, int nthr);
static int wino_applies(agc_dtype dt, const agc_conv2d_geom *g);
static int64_t wino_workspace_bytes(const agc_conv2d_geom *g, int64_t es, int nthr);
static int conv_forward_winograd(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight,
                                 const void *bias, void *out);

int64_t agc_conv2d_workspace_bytes(agc_dtype dt, const agc_conv2d_geom *g)
{
    int64_t esize = (int64_t)agc_dtype_size(dt);
    if (g->n == 0 || is_pointwise(g))
        return 0;
    int64_t nb = chunk_images(g, esize);
    int64_t p = g->oh * g->ow;
    /* column buffer + the (o x nb p) reorder buffer + the weight-gradient transpose buffer (the weight
     * gradient, and the forward and data gradient when the direct-packed path does not apply) */
    int64_t bytes =
        (g->c * g->kh * g->kw * nb * p + g->o * nb * p + g->o * g->c / g->groups * g->kh * g->kw) * esize;
    if (use_direct(dt, g)) {
        /* packed weights + one block of packed columns per thread */
        int nthr = agc_nthreads() > 1 ? agc_nthreads() : 1;
        int64_t d = direct_workspace_bytes(g, esize, agc_gemm_tile_mr(dt), agc_gemm_tile_nr(dt), nthr);
        bytes = d > bytes ? d : bytes;
    }
    const int nthr_ws = agc_nthreads() > 1 ? agc_nthreads() : 1;
    if (wino_applies(dt, g)) {
        int64_t d = wino_workspace_bytes(g, esize, nthr_ws);
        bytes = d > bytes ? d : bytes;
    }
    /* the stride-1 data gradient: a direct-packed or Winograd convolution of grad_out, plus the flipped
     * weights */
    agc_conv2d_geom t = *g;
    t.c = g->o, t.h = g->oh, t.w = g->ow, t.o = g->c, t.oh = g->h, t.ow = g->w;
    t.pad_h = g->dil_h * (g->kh - 1) - g->pad_h;
    t.pad_w = g->dil_w * (g->kw - 1) - g->pad_w;
    if (wino_applies(dt, &t)) {
        int64_t d = wino_workspace_bytes(&t, esize, nthr_ws) + g->o * g->c * g->kh * g->kw * esize;
        bytes = d > bytes ? d : bytes;
    }
    if (g->stride_h == 1 && g->stride_w == 1 && use_direct(dt, &t) && 100 * g->h * g->w <= 115 * g->oh * g->ow) {
        int nthr = agc_nthreads() > 1 ? agc_nthreads() : 1;
        int64_t d = direct_workspace_bytes(&t, esize, agc_gemm_tile_mr(dt), agc_gemm_tile_nr(dt), nthr) +
                    g->o * g->c / g->groups * g->kh * g->kw * esize;
        bytes = d > bytes ? d : bytes;
    }
    return bytes;
}

/* Stride-1 rows of kernel column b: output columns [*lo, *hi) read inside the image (iw0 = b dil_w -
 * pad_w is the input column of output column 0); the others read padding. Strided rows keep [0, OW). */
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

/* ------------------------------------------------------------------------ direct-packed forward */
/* The forward as out_gi (og x P) = W_gi (og x ck) @ col (ck x P) per image, with col never formed:
 * each block of output pixels of one image has its columns written straight into the GEMM's packed
 * B layout (full-K panels of NR pixels, b[k * NR + j], k = (c, a, b)), while that block is in L2,
 * and agc_gemm_prepacked multiplies it by the weights, packed once into A panels. The output block
 * lands in NCHW directly (C rows = channels, stride P), so there is no reorder or transpose either.
 * Threads take whole (image, group, pixel block) items; every output element is one GEMM sum whose
 * order depends on ck only, so nothing depends on the thread count or on the blocking. */
#define CONV_PANEL_BLOCK ((int64_t)24 << 10) /* bytes of B panels per block: L2-resident */

/* zero floats before and after the zero row that stands in for input rows outside the image */
#define CONV_ZPAD(g) ((g)->pad_w + (g)->kw * (g)->dil_w + 32)
#define CONV_SEG_MAX 64 /* a panel (NR <= 64 pixels) has at most NR row segments */
typedef struct {
    int64_t j, len, i, jj; /* panel column j.. j + len = output row i, columns jj.. jj + len */
    int64_t xoff;          /* elements from image 0 to the segment's image in x */
} conv_seg;

/* The runs of one panel's pixels that share an output row (and so an image). Pixels are numbered
 * across the batch, l = image * oh ow + p: a panel may span the end of one image and the start of the
 * next, so that an image size that is not a multiple of NR wastes no panel columns. */
static int panel_segments(const agc_conv2d_geom *g, int64_t ps, int64_t cnt, conv_seg *seg)
{
    const int64_t P = g->oh * g->ow;
    int ns = 0;
    for (int64_t j = 0; j < cnt;) {
        const int64_t n = (ps + j) / P, p = (ps + j) % P, i = p / g->ow, jj = p % g->ow;
        const int64_t len = g->ow - jj < cnt - j ? g->ow - jj : cnt - j;
        seg[ns].j = j, seg[ns].len = len, seg[ns].i = i, seg[ns].jj = jj, seg[ns].xoff = n * g->c * g->h * g->w;
        ns++;
        j += len;
    }
    return ns;
}

#define CONV_PANEL_BUILD(T, S)                                                                             \
    /* B panels for batch pixels p0 .. p0 + np (xg: image 0's first channel of the group), any stride */  \
    static void build_panels_##S(const agc_conv2d_geom *g, const T *xg, int64_t cg, int64_t p0, int64_t np, \
                                 int nr, T *buf)                                                           \
    {                                                                                                      \
        const int64_t kh = g->kh, kw = g->kw, K = cg * kh * kw, H = g->h, W = g->w;                        \
        conv_seg seg[CONV_SEG_MAX];                                                                      \
        for (int64_t q = 0; q * nr < np; q++) {                                                            \
            T *pan = buf + q * K * nr;                                                                     \
            const int64_t ps = p0 + q * nr, cnt = np - q * nr < nr ? np - q * nr : nr;                     \
            const int ns = panel_segments(g, ps, cnt, seg);                                                \
            for (int64_t c = 0; c < cg; c++)                                                               \
                for (int64_t a = 0; a < kh; a++)                                                           \
                    for (int64_t b = 0; b < kw; b++) {                                                     \
                        T *dst = pan + ((c * kh + a) * kw + b) * nr;                                       \
                        for (int s = 0; s < ns; s++) {                                                     \
                            const int64_t ih = seg[s].i * g->stride_h - g->pad_h + a * g->dil_h;           \
                            T *d = dst + seg[s].j;                                                         \
                            if (ih < 0 || ih >= H) {                                                       \
                                for (int64_t t = 0; t < seg[s].len; t++)                                   \
                                    d[t] = 0;                                                              \
                                continue;                                                                  \
                            }                                                                              \
                            const T *row = xg + seg[s].xoff + (c * H + ih) * W;                            \
                            const int64_t iw0 = seg[s].jj * g->stride_w - g->pad_w + b * g->dil_w;         \
                            for (int64_t t = 0; t < seg[s].len; t++) {                                     \
                                const int64_t iw = iw0 + t * g->stride_w;                                  \
                                d[t] = iw >= 0 && iw < W ? row[iw] : (T)0;                                 \
                            }                                                                              \
                        }                                                                                  \
                        for (int64_t t = cnt; t < nr; t++)                                                 \
                            dst[t] = 0;                                                                    \
                    }                                                                                      \
        }                                                                                                  \
    }

CONV_PANEL_BUILD(float, f32)
CONV_PANEL_BUILD(double, f64)

#if AGC_HAVE_X86
#include <immintrin.h>
/* float32 at the AVX2 tier, NR a multiple of 8 up to 16, stride_w == 1, kw <= CONV_SIMD_KW. A panel
 * row k = (c, a, b) is assembled in NR / 8 registers and stored aligned: each segment of the panel
 * contributes a masked load per register, placed so that lane t reads the input of panel column t;
 * lanes outside the segment or the image row are masked (read as zero and not accessed), so the
 * registers are the OR of the loads. The masks and column offsets depend on (segment, b) only and are
 * computed once per panel; a row above or below the image reads a zero row instead, and the segment
 * loop is unrolled for 1, 2 and 3 segments, so the inner loop has no branch. Masked loads measured
 * slow here (LeNet-5 layer 2: 0.37 ms to build the panels against 0.21 ms): where all NR floats from
 * every segment's column 0 lie inside x (or the zero row), a panel uses plain loads ANDed with the
 * mask instead. */
#define CONV_SIMD_KW 16
#define CONV_AVX2_NR 16
#define CONV_LOAD_MASKED(src, m) _mm256_maskload_ps((const float *)(src), m)
#define CONV_LOAD_PLAIN(src, m) _mm256_and_ps(_mm256_loadu_ps((const float *)(src)), _mm256_castsi256_ps(m))
#define CONV_AVX2_ROWS(NS, LOAD)                                                                           \
    for (int64_t c = 0; c < cg; c++)                                                                       \
        for (int64_t a = 0; a < kh; a++) {                                                                 \
            for (int s = 0; s < NS; s++) {                                                                 \
                const int64_t ih = seg[s].i * g->stride_h - g->pad_h + a * g->dil_h;                      \
                row[s] = ih < 0 || ih >= H ? zrow : (uintptr_t)(xg + seg[s].xoff + c * HW + ih * W);       \
            }                                                                                              \
            for (int64_t b = 0; b < kw; b++, dst += nr)                                                    \
                for (int h = 0; h < nh; h++) {                                                             \
                    __m256 v = _mm256_setzero_ps();                                                        \
                    for (int s = 0; s < NS; s++)                                                           \
                        v = _mm256_or_ps(v, LOAD(row[s] + (uintptr_t)off[s][b] + 32 * h, mask[s][b][h]));  \
                    _mm256_store_ps(dst + 8 * h, v);                                                       \
                }                                                                                          \
        }

/* zero: a row of zeros, the stand-in for rows outside the image, with CONV_ZPAD(g) zero floats before
 * and after it; x .. xend: the whole input, for the plain loads' bounds */
AGC_TARGET_AVX2 static void build_panels_f32_avx2(const agc_conv2d_geom *g, const float *xg, int64_t cg, int64_t p0,
                                           int64_t np, int nr, const float *zero, const float *x,
                                           const float *xend, float *buf)
{
    const int64_t kh = g->kh, kw = g->kw, K = cg * kh * kw, H = g->h, W = g->w, HW = H * W;
    const int nh = nr / 8;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const uintptr_t zrow = (uintptr_t)zero;
    conv_seg seg[CONV_AVX2_NR];
    __m256i mask[CONV_AVX2_NR][CONV_SIMD_KW][CONV_AVX2_NR / 8];
    int64_t off[CONV_AVX2_NR][CONV_SIMD_KW]; /* bytes from the row start to panel column 0's lane */
    uintptr_t row[CONV_AVX2_NR];
    for (int64_t q = 0; q * nr < np; q++) {
        float *dst = buf + q * K * nr;
        const int64_t ps = p0 + q * nr, cnt = np - q * nr < nr ? np - q * nr : nr;
        const int ns = panel_segments(g, ps, cnt, seg);
        for (int s = 0; s < ns; s++)
            for (int64_t b = 0; b < kw; b++) {
                /* panel column t (seg.j <= t < seg.j + len) reads row[iw0 + t - seg.j] */
                const int64_t j0 = seg[s].j, iw0 = seg[s].jj - g->pad_w + b * g->dil_w;
                int64_t lo = j0 + (iw0 < 0 ? -iw0 : 0), hi = j0 + (W - iw0 < seg[s].len ? W - iw0 : seg[s].len);
                lo = lo > nr ? nr : lo;
                hi = hi < 0 ? 0 : hi;
                const __m256i vlo = _mm256_set1_epi32((int)lo), vhi = _mm256_set1_epi32((int)hi);
                for (int h = 0; h < nh; h++) {
                    const __m256i l = _mm256_add_epi32(lane, _mm256_set1_epi32(8 * h));
                    mask[s][b][h] = _mm256_andnot_si256(_mm256_cmpgt_epi32(vlo, l), _mm256_cmpgt_epi32(vhi, l));
                }
                off[s][b] = (iw0 - j0) * 4;
            }
        /* every load reads nr floats from row + off, row between the first segment's image at xg and the
         * last one's + (cg - 1) HW + (H - 1) W */
        int64_t omin = off[0][0], omax = off[0][0];
        for (int s = 0; s < ns; s++)
            for (int64_t b = 0; b < kw; b++) {
                omin = off[s][b] < omin ? off[s][b] : omin;
                omax = off[s][b] > omax ? off[s][b] : omax;
            }
        const uintptr_t first = (uintptr_t)(xg + seg[0].xoff) + (uintptr_t)omin;
        const uintptr_t last =
            (uintptr_t)(xg + seg[ns - 1].xoff + (cg - 1) * HW + (H - 1) * W) + (uintptr_t)omax + 4 * nr;
        const int plain = first >= (uintptr_t)x && last <= (uintptr_t)xend;
        if (plain && ns == 1) {
            CONV_AVX2_ROWS(1, CONV_LOAD_PLAIN)
        } else if (plain && ns == 2) {
            CONV_AVX2_ROWS(2, CONV_LOAD_PLAIN)
        } else if (plain && ns == 3) {
            CONV_AVX2_ROWS(3, CONV_LOAD_PLAIN)
        } else if (plain) {
            CONV_AVX2_ROWS(ns, CONV_LOAD_PLAIN)
        } else {
            CONV_AVX2_ROWS(ns, CONV_LOAD_MASKED)
        }
    }
}

#if AGC_NATIVE_AVX512
/* float32 and float64 at the AVX-512 tier, NR a multiple of the lanes (16 floats, 8 doubles) up to
 * CONV_SEG_MAX, stride_w == 1, kw <= CONV_SIMD_KW. The same assembly as the AVX2 builder, with the
 * lane masks in mask registers: a masked-off lane is neither read nor able to fault, so every load is
 * a merge-masked load into the row's register and no bounds test or plain-load variant is needed. */
#define CONV_AVX512_ROWS(NS, T, V, LANES, SETZERO, MLOAD, STORE)                                                                               \
    for (int64_t c = 0; c < cg; c++)                                                                       \
        for (int64_t a = 0; a < kh; a++) {                                                                 \
            for (int s = 0; s < NS; s++) {                                                                 \
                const int64_t ih = seg[s].i * g->stride_h - g->pad_h + a * g->dil_h;                      \
                row[s] = ih < 0 || ih >= H ? zrow : (uintptr_t)(xg + seg[s].xoff + c * HW + ih * W);       \
            }                                                                                              \
            for (int64_t b = 0; b < kw; b++, dst += nr)                                                    \
                for (int h = 0; h < nh; h++) {                                                             \
                    V v = SETZERO();                                                                       \
                    for (int s = 0; s < NS; s++)                                                           \
                        v = MLOAD(v, mask[s][b][h], (const T *)(row[s] + (uintptr_t)off[s][b]) + LANES * h); \
                    STORE(dst + LANES * h, v);                                                             \
                }                                                                                          \
        }
#define CONV_PANELS_AVX512(T, V, LANES, MASKT, SETZERO, MLOAD, STORE)                                                          \
    AGC_TARGET_AVX512 static void build_panels_##T##_avx512(const agc_conv2d_geom *g, const T *xg, int64_t cg,   \
                                                     int64_t p0, int64_t np, int nr, const T *zero, T *buf) \
    {                                                                                                      \
        const int64_t kh = g->kh, kw = g->kw, K = cg * kh * kw, H = g->h, W = g->w, HW = H * W;            \
        const int nh = nr / LANES;                                                                         \
        const uintptr_t zrow = (uintptr_t)zero;                                                            \
        conv_seg seg[CONV_SEG_MAX];                                                                        \
        MASKT mask[CONV_SEG_MAX][CONV_SIMD_KW][CONV_SEG_MAX / LANES];                                      \
        intptr_t off[CONV_SEG_MAX][CONV_SIMD_KW]; /* bytes from the row start to panel column 0's lane */  \
        uintptr_t row[CONV_SEG_MAX];                                                                       \
        for (int64_t q = 0; q * nr < np; q++) {                                                            \
            T *dst = buf + q * K * nr;                                                                     \
            const int64_t ps = p0 + q * nr, cnt = np - q * nr < nr ? np - q * nr : nr;                     \
            const int ns = panel_segments(g, ps, cnt, seg);                                                \
            for (int s = 0; s < ns; s++)                                                                   \
                for (int64_t b = 0; b < kw; b++) {                                                         \
                    const int64_t j0 = seg[s].j, iw0 = seg[s].jj - g->pad_w + b * g->dil_w;                \
                    int64_t lo = j0 + (iw0 < 0 ? -iw0 : 0);                                                \
                    int64_t hi = j0 + (W - iw0 < seg[s].len ? W - iw0 : seg[s].len);                       \
                    for (int h = 0; h < nh; h++) {                                                         \
                        /* lanes [lo, hi) of the panel row, as bits of register h */                       \
                        const int64_t l0 = lo - LANES * h, l1 = hi - LANES * h;                            \
                        const int64_t b0 = l0 < 0 ? 0 : l0 > LANES ? LANES : l0;                           \
                        const int64_t b1 = l1 < b0 ? b0 : l1 > LANES ? LANES : l1;                         \
                        const uint32_t bits = (uint32_t)(((uint64_t)1 << b1) - ((uint64_t)1 << b0));       \
                        mask[s][b][h] = (MASKT)bits;                                                       \
                    }                                                                                      \
                    off[s][b] = (intptr_t)(iw0 - j0) * (intptr_t)sizeof(T);                                \
                }                                                                                          \
            if (ns == 1) {                                                                                 \
                CONV_AVX512_ROWS(1, T, V, LANES, SETZERO, MLOAD, STORE)                                                                        \
            } else if (ns == 2) {                                                                          \
                CONV_AVX512_ROWS(2, T, V, LANES, SETZERO, MLOAD, STORE)                                                                        \
            } else if (ns == 3) {                                                                          \
                CONV_AVX512_ROWS(3, T, V, LANES, SETZERO, MLOAD, STORE)                                                                        \
            } else {                                                                                       \
                CONV_AVX512_ROWS(ns, T, V, LANES, SETZERO, MLOAD, STORE)                                                                       \
            }                                                                                              \
        }                                                                                                  \
    }
CONV_PANELS_AVX512(float, __m512, 16, __mmask16, _mm512_setzero_ps, _mm512_mask_loadu_ps, _mm512_store_ps)
CONV_PANELS_AVX512(double, __m512d, 8, __mmask8, _mm512_setzero_pd, _mm512_mask_loadu_pd, _mm512_store_pd)
#endif /* AGC_NATIVE_AVX512 */
#endif

/* The panel builder for dt at the active tier and the context's NR: 0 the portable loops, 1 AVX2,
 * 2 AVX-512. */
static int panel_builder(agc_dtype dt, const agc_conv2d_geom *g, int64_t nr)
{
#if AGC_HAVE_X86
    if (g->stride_w != 1 || g->kw > CONV_SIMD_KW) return 0;
    const agc_isa isa = agc_isa_active();
    const int64_t lanes = dt == AGC_F32 ? 16 : 8;
    if (AGC_NATIVE_AVX512 && isa >= AGC_ISA_AVX512 && nr % lanes == 0 && nr <= CONV_SEG_MAX) return 2;
    if (isa >= AGC_ISA_AVX2 && dt == AGC_F32 && nr % 8 == 0 && nr <= CONV_AVX2_NR) return 1;
#else
    (void)dt, (void)g, (void)nr;
#endif
    return 0;
}

static int direct_mode = 0; /* 0: automatic, 1: never the direct-packed path, 2: always when it applies */

int agc_conv_set_direct(int mode)
{
    int prev = direct_mode;
    direct_mode = mode >= 0 && mode <= 2 ? mode : 0;
    return prev;
}

/* the direct-packed forward applies to f32 and f64, any stride, padding, dilation and groups, and pays
 * off from a few output channels per group on (one-channel groups would use 1 row of the 6-row tile)
 * and from a reduction length (c / groups * kh * kw) of about 32 on: below it the panel building costs
 * more than the short GEMM saves. Measured, 2 threads, float32, batch 64, im2col + GEMM vs direct:
 * 1x28x28 -> 6@5x5 (K 25) 0.20 vs 0.83 ms, 1x28x28 -> 16@3x3 (K 9) 0.30 vs 1.04, 3x32x32 -> 16@3x3
 * (K 27) 0.70 vs 0.73, 3x32x32 -> 16@5x5 (K 75) 1.40 vs 1.12, 6x14x14 -> 16@5x5 (K 150) 0.46 vs 0.33. */
#define DIRECT_MIN_K 32
static int use_direct(agc_dtype dt, const agc_conv2d_geom *g)
{
    if (direct_mode == 1 || (dt != AGC_F32 && dt != AGC_F64))
        return 0;
    return direct_mode == 2 || (g->o / g->groups >= 4 && g->c / g->groups * g->kh * g->kw >= DIRECT_MIN_K);
}

static int64_t direct_panels_per_block(const agc_conv2d_geom *g, int64_t es, int64_t nr)
{
    const int64_t panel = g->c / g->groups * g->kh * g->kw * nr * es;
    int64_t per = CONV_PANEL_BLOCK / (panel > 0 ? panel : 1);
    const int64_t image = (g->oh * g->ow + nr - 1) / nr;
    per = per < 1 ? 1 : per;
    /* equal blocks per image: 7 panels under a 5-panel budget run as 4 + 3, not 5 + 2 */
    const int64_t blocks = (image + per - 1) / per;
    return (image + blocks - 1) / blocks;
}

static int64_t direct_workspace_bytes(const agc_conv2d_geom *g, int64_t es, int64_t mr, int64_t nr, int nthr)
{
    const int64_t ck = g->c / g->groups * g->kh * g->kw, og = g->o / g->groups;
    const int64_t a_bytes = g->groups * ((og + mr - 1) / mr) * mr * ck * es;
    const int64_t per = direct_panels_per_block(g, es, nr);
    const int64_t b_bytes = per * ck * nr * es + 64 + og * per * nr * es; /* panels + output tile */
    return a_bytes + (g->w + 2 * CONV_ZPAD(g)) * es + nthr * ((b_bytes + 2 * AGC_ALIGN - 1) / AGC_ALIGN * AGC_ALIGN);
}

/* out = conv(x, weight) + bias through packed panels; weight (o, c / groups, kh, kw) contiguous. When
 * an image's oh ow pixels are a whole number of panels, blocks stay inside one image and the GEMM writes
 * its rows of out directly; otherwise blocks run over the batch's pixels, panels crossing images, and
 * the GEMM writes a per-thread (og x block) tile that is then copied to the images it covers. */
static int conv_forward_direct(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight,
                               const void *bias, void *out)
{
    const int64_t es = (int64_t)agc_dtype_size(dt);
    const int64_t G = g->groups, cg = g->c / G, og = g->o / G, ck = cg * g->kh * g->kw, P = g->oh * g->ow;
    const int64_t MR = agc_gemm_tile_mr(dt), NR = agc_gemm_tile_nr(dt);
    const int64_t a_panel_bytes = ((og + MR - 1) / MR) * MR * ck * es;
    const int64_t per = direct_panels_per_block(g, es, NR), block_px = per * NR;
    const int whole = P % NR == 0;
    /* blocks: per image (whole) or over the batch's n P pixels */
    const int64_t bpi = (P + block_px - 1) / block_px, nblk = whole ? g->n * bpi : (g->n * P + block_px - 1) / block_px;
    const int64_t items = nblk * G;
    const int64_t b_bytes = ((per * ck * NR * es + 64) + AGC_ALIGN - 1) / AGC_ALIGN * AGC_ALIGN;
    const int64_t t_bytes = whole ? 0 : (og * block_px * es + AGC_ALIGN - 1) / AGC_ALIGN * AGC_ALIGN;
    const int nthr = agc_threads_for(items > 1 ? 2 * g->n * g->o * P * ck : 0, (int64_t)1 << 20);
    char *apack = agc_alloc(G * a_panel_bytes);
    char *bbuf = agc_alloc(nthr * (b_bytes + t_bytes));
    const int64_t zlen = g->w + 2 * CONV_ZPAD(g);
    char *zrow = agc_alloc(zlen * es); /* a row of zeros: rows outside the image read from it */
    if (!apack || !bbuf || !zrow) {
        agc_free(apack);
        agc_free(bbuf);
        agc_free(zrow);
        return AGC_ENOMEM;
    }
    memset(zrow, 0, (size_t)(zlen * es));
    memset(bbuf, 0, (size_t)(nthr * (b_bytes + t_bytes)));
    for (int64_t gi = 0; gi < G; gi++)
        agc_gemm_pack_a_panels(dt, og, ck, (const char *)weight + gi * og * ck * es, ck, 1, apack + gi * a_panel_bytes);
    const int simd = panel_builder(dt, g, NR);
    int rc = AGC_OK;
#pragma omp parallel num_threads(nthr)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        char *buf = bbuf + tid * (b_bytes + t_bytes), *tile = buf + b_bytes;
        /* dynamic: when another process holds part of a core, the other thread takes more blocks (each
         * block's result is the same whichever thread computes it) */
#pragma omp for schedule(dynamic, 1)
        for (int64_t it = 0; it < items; it++) {
            AGC_REGION_POINT();
            const int64_t blk = it / G, gi = it % G;
            int64_t l0, np;
            if (whole) {
                const int64_t p0 = (blk % bpi) * block_px;
                l0 = (blk / bpi) * P + p0;
                np = P - p0 < block_px ? P - p0 : block_px;
            } else {
                l0 = blk * block_px;
                np = g->n * P - l0 < block_px ? g->n * P - l0 : block_px;
            }
            const char *xg = (const char *)x + gi * cg * g->h * g->w * es;
#if AGC_HAVE_X86
#if AGC_NATIVE_AVX512
            if (simd == 2 && dt == AGC_F32)
                build_panels_float_avx512(g, (const float *)xg, cg, l0, np, (int)NR,
                                          (const float *)zrow + CONV_ZPAD(g), (float *)buf);
            else if (simd == 2)
                build_panels_double_avx512(g, (const double *)xg, cg, l0, np, (int)NR,
                                           (const double *)zrow + CONV_ZPAD(g), (double *)buf);
            else
#endif
            if (simd == 1)
                build_panels_f32_avx2(g, (const float *)xg, cg, l0, np, (int)NR, (const float *)zrow + CONV_ZPAD(g),
                                      (const float *)x, (const float *)x + g->n * g->c * g->h * g->w,
                                      (float *)buf);
            else
#endif
            if (dt == AGC_F64)
                build_panels_f64(g, (const double *)xg, cg, l0, np, (int)NR, (double *)buf);
            else
                build_panels_f32(g, (const float *)xg, cg, l0, np, (int)NR, (float *)buf);
            /* C: out's rows (stride P) for a block inside one image, else the tile (stride np) */
            char *dst = whole ? (char *)out + (((l0 / P) * g->o + gi * og) * P + l0 % P) * es : tile;
            const int64_t ld = whole ? P : np;
            int r = agc_gemm_prepacked(dt, og, np, ck, 1.0, apack + gi * a_panel_bytes, buf, 0.0, dst, ld, 1);
            if (r != AGC_OK) {
#pragma omp atomic write
                rc = r;
            }
            /* bias, and the tile's pieces to their images: out[n][gi og + oc][p] for l = n P + p */
            for (int64_t l = l0; l < l0 + np;) {
                const int64_t n = l / P, p = l % P, cnt = P - p < l0 + np - l ? P - p : l0 + np - l;
                for (int64_t oc = 0; oc < og; oc++) {
                    const int64_t orow = (n * g->o + gi * og + oc) * P + p, trow = oc * np + (l - l0);
                    if (dt == AGC_F32) {
                        float *d = (float *)out + orow;
                        const float *sp = whole ? d : (const float *)tile + trow;
                        const float bv = bias ? ((const float *)bias)[gi * og + oc] : 0.0f;
                        if (bias || !whole)
                            for (int64_t e = 0; e < cnt; e++)
                                d[e] = sp[e] + bv;
                    } else {
                        double *d = (double *)out + orow;
                        const double *sp = whole ? d : (const double *)tile + trow;
                        const double bv = bias ? ((const double *)bias)[gi * og + oc] : 0.0;
                        if (bias || !whole)
                            for (int64_t e = 0; e < cnt; e++)
                                d[e] = sp[e] + bv;
                    }
                }
                l += cnt;
            }
        }
    }
    agc_free(apack);
    agc_free(bbuf);
    agc_free(zrow);
    return rc;
}

/* conv2d's gradient for x as a forward convolution of grad_out with the flipped, transposed weights,
 * through the direct-packed path: for stride 1, dx[c][y][x] = sum over o, a, b of
 * G[o][y + pad - a dil][x + ...] W[o][c][a][b] is a convolution with W'[c][o][kh-1-a][kw-1-b] and top /
 * left padding dil (k - 1) - pad. That convolution runs over the padded grad_out, h w outputs of
 * o k k each where col2im's GEMM does oh ow of them: it is used only while h w <= 1.15 oh ow (not on
 * LeNet-5's 14x14 -> 10x10 layer, where it measured 1.6x slower than GEMM + col2im). Returns 1 when it
 * does not apply (stride > 1, padding beyond the kernel span, too few channels per group, a much larger
 * input than output), else an AGC code. */
static int backward_data_direct(agc_dtype dt, const agc_conv2d_geom *g, const void *grad_out, const void *weight,
                                const void *bias, void *out)
{
    agc_conv2d_geom t = *g;
    t.c = g->o, t.h = g->oh, t.w = g->ow, t.o = g->c, t.oh = g->h, t.ow = g->w;
    t.pad_h = g->dil_h * (g->kh - 1) - g->pad_h;
    t.pad_w = g->dil_w * (g->kw - 1) - g->pad_w;
    if (g->stride_h != 1 || g->stride_w != 1 || t.pad_h < 0 || t.pad_w < 0)
        return 1;
    if (!all_finite(dt, weight, g->o * (g->c / g->groups) * g->kh * g->kw))
        return 1;
    const int wino = wino_applies(dt, &t) && all_finite(dt, grad_out, g->n * g->o * g->oh * g->ow);
    if (!wino && !use_direct(dt, &t))
        return 1;
    if (!wino && direct_mode != 2 && 100 * g->h * g->w > 115 * g->oh * g->ow)
        return 1;
    const int64_t es = (int64_t)agc_dtype_size(dt), G = g->groups, cg = g->c / G, og = g->o / G;
    const int64_t kh = g->kh, kw = g->kw, kk = kh * kw;
    char *wt = agc_alloc(g->c * og * kk * es);
    if (!wt)
        return AGC_ENOMEM;
    for (int64_t gi = 0; gi < G; gi++)
        for (int64_t ci = 0; ci < cg; ci++)
            for (int64_t oi = 0; oi < og; oi++)
                for (int64_t e = 0; e < kk; e++) {
                    /* e = a' kw + b' <- (kh - 1 - a') kw + (kw - 1 - b') = kk - 1 - e */
                    const int64_t dst = ((gi * cg + ci) * og + oi) * kk + e;
                    const int64_t src = ((gi * og + oi) * cg + ci) * kk + (kk - 1 - e);
                    memcpy(wt + dst * es, (const char *)weight + src * es, (size_t)es);
                }
    int rc = wino ? conv_forward_winograd(dt, &t, grad_out, wt, bias, out)
                  : conv_forward_direct(dt, &t, grad_out, wt, bias, out);
    agc_free(wt);
    return rc;
}

/* ------------------------------------------------------------------------ depthwise forward */
/* One input channel per group (depthwise, with any channel multiplier og): out[n][oc] = bias[oc] +
 * sum over (a, b) of w[oc][a][b] * x[n][oc / og] shifted, as direct loops over output rows: each tap
 * adds a scaled input row to the output row (contiguous for stride 1, so the compiler vectorizes it).
 * The taps are added in (a, b) order whoever computes the plane: threads take whole (image, channel)
 * planes. The GEMM lowering gave one-row GEMMs with K = kh kw here. */
#define CONV_DEPTHWISE(T, S)                                                                               \
    static void depthwise_##S(const agc_conv2d_geom *g, const T *x, const T *w, const T *bias, T *out)     \
    {                                                                                                      \
        const int64_t H = g->h, W = g->w, OH = g->oh, OW = g->ow, kh = g->kh, kw = g->kw;                  \
        const int64_t og = g->o / g->groups, planes = g->n * g->o;                                         \
        _Pragma("omp parallel for schedule(static) num_threads(agc_threads_for(planes * OH * OW * kh * kw, CONV_OMP_MIN))") \
        for (int64_t pl = 0; pl < planes; pl++) {                                                          \
            AGC_PERTURB();                                                                                 \
            const int64_t n = pl / g->o, oc = pl % g->o;                                                   \
            const T *xp = x + (n * g->c + oc / og) * H * W, *wc = w + oc * kh * kw;                        \
            T *op = out + pl * OH * OW;                                                                    \
            const T init = bias ? bias[oc] : (T)0;                                                         \
            for (int64_t i = 0; i < OH; i++) {                                                             \
                T *restrict orow = op + i * OW;                                                            \
                for (int64_t jj = 0; jj < OW; jj++)                                                        \
                    orow[jj] = init;                                                                       \
                for (int64_t a = 0; a < kh; a++) {                                                         \
                    const int64_t ih = i * g->stride_h - g->pad_h + a * g->dil_h;                          \
                    if (ih < 0 || ih >= H)                                                                 \
                        continue;                                                                          \
                    const T *restrict xr = xp + ih * W;                                                    \
                    for (int64_t b = 0; b < kw; b++) {                                                     \
                        const T wv = wc[a * kw + b];                                                       \
                        const int64_t iw0 = b * g->dil_w - g->pad_w, sw = g->stride_w;                     \
                        /* output columns jj with 0 <= jj sw + iw0 < W */                                  \
                        int64_t lo = iw0 >= 0 ? 0 : (-iw0 + sw - 1) / sw;                                  \
                        int64_t hi = W - iw0 <= 0 ? 0 : (W - iw0 + sw - 1) / sw;                           \
                        hi = hi > OW ? OW : hi;                                                            \
                        if (sw == 1) {                                                                     \
                            for (int64_t jj = lo; jj < hi; jj++)                                           \
                                orow[jj] += wv * xr[jj + iw0];                                             \
                        } else {                                                                           \
                            for (int64_t jj = lo; jj < hi; jj++)                                           \
                                orow[jj] += wv * xr[jj * sw + iw0];                                        \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }

CONV_DEPTHWISE(float, f32)
CONV_DEPTHWISE(double, f64)

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

int agc_conv2d(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight, const void *bias,
               void *out)
{
    if (dt != AGC_F32 && dt != AGC_F64)
        return AGC_EUNSUPPORTED;
    if (g->n == 0)
        return AGC_OK;
    const int64_t es = (int64_t)agc_dtype_size(dt);
    const int64_t G = g->groups, cg = g->c / G, og = g->o / G, ck = cg * g->kh * g->kw, p = g->oh * g->ow;
    int rc = AGC_OK;

    /* depthwise (one input channel per group, several groups): direct loops. A single-channel input
     * with groups == 1 is an ordinary convolution, faster through im2col + GEMM (LeNet's first layer,
     * 1x28x28 -> 6@5x5 on a batch of 64: 0.20 ms vs 0.83 ms through the depthwise loops) */
    const int64_t nw = g->o * cg * g->kh * g->kw;
    if (wino_applies(dt, g) && all_finite(dt, weight, nw) && all_finite(dt, x, g->n * g->c * g->h * g->w))
        return conv_forward_winograd(dt, g, x, weight, bias, out);
    if (!is_pointwise(g) && g->c == g->groups && g->groups > 1 && direct_mode != 1 && all_finite(dt, weight, nw)) {
        if (dt == AGC_F32)
            depthwise_f32(g, x, weight, bias, out);
        else
            depthwise_f64(g, x, weight, bias, out);
        return AGC_OK;
    }
    if (!is_pointwise(g) && use_direct(dt, g))
        return conv_forward_direct(dt, g, x, weight, bias, out);
    if (is_pointwise(g)) {
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
    const int64_t row_budget = workspace_limit < CONV_ROW_TARGET ? workspace_limit : CONV_ROW_TARGET;
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

int agc_conv2d_backward_data(agc_dtype dt, const agc_conv2d_geom *g, const void *grad_out, const void *weight,
                             const void *bias, void *out)
{
    if (dt != AGC_F32 && dt != AGC_F64)
        return AGC_EUNSUPPORTED;
    if (g->n == 0)
        return AGC_OK;
    const int64_t es = (int64_t)agc_dtype_size(dt);
    const int64_t G = g->groups, cg = g->c / G, og = g->o / G, ck = cg * g->kh * g->kw, p = g->oh * g->ow;
    int rc = AGC_OK;

    if (!is_pointwise(g)) {
        int r = backward_data_direct(dt, g, grad_out, weight, bias, out);
        if (r != 1)
            return r;
    }
    if (is_pointwise(g)) {
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

int agc_conv2d_backward_weight(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *grad_out,
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

    if (is_pointwise(g)) {
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

/* ------------------------------------------------------------------------ Winograd F(2x2, 3x3) */
/* 3x3, stride-1, undilated, ungrouped convolutions with enough channels and pixels (wino_applies) in
 * Winograd's minimal filtering F(2x2, 3x3): each 2x2 block of outputs ("tile") comes from a 4x4 input
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
 * max|w|), against 9 c max|x| max|w| for the direct sum. Tests: tests/test_conv.py (winograd). */
#define WINO_MIN_C_F32 64
#define WINO_MIN_O_F32 32
#define WINO_MIN_CH_F64 16
#define WINO_MIN_PIXELS 196
#define WINO_CHUNK_TARGET ((int64_t)4 << 20)
static int winograd_mode = 0; /* 0: automatic, 1: never, 2: wherever the geometry allows */

int agc_conv_set_winograd(int mode)
{
    int prev = winograd_mode;
    winograd_mode = mode >= 0 && mode <= 2 ? mode : 0;
    return prev;
}

static int wino_applies(agc_dtype dt, const agc_conv2d_geom *g)
{
    if (winograd_mode == 1 || (dt != AGC_F32 && dt != AGC_F64))
        return 0;
    if (g->kh != 3 || g->kw != 3 || g->stride_h != 1 || g->stride_w != 1 || g->dil_h != 1 || g->dil_w != 1 ||
        g->groups != 1 || g->pad_h < 0 || g->pad_w < 0 || g->n == 0)
        return 0;
    if (winograd_mode == 2)
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
    int64_t budget = workspace_limit - u_bytes;
    budget = budget < WINO_CHUNK_TARGET ? budget : WINO_CHUNK_TARGET;
    int64_t r = budget / (per_row > 0 ? per_row : 1);
    r = r < 1 ? 1 : r > rows ? rows : r;
    const int64_t chunks = (rows + r - 1) / r;
    return (rows + chunks - 1) / chunks;
}

static int64_t wino_workspace_bytes(const agc_conv2d_geom *g, int64_t es, int nthr)
{
    const int64_t tw = (g->ow + 1) / 2, W2 = 2 * tw + 2;
    const int64_t r = wino_rows_per_chunk(g, es);
    return (16 * g->o * g->c + 16 * (g->c + g->o) * tw * r + nthr * 8 * W2) * es + 4 * AGC_ALIGN;
}

#define CONV_WINOGRAD(T, S)                                                                                \
    /* U[q][oi][ci] = (G w G^T)[q / 4][q % 4] for w = weight[oi][ci] (3 x 3) */                           \
    static void wino_filters_##S(const agc_conv2d_geom *g, const T *w, T *U)                               \
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
    /* V[q][ci][(r - r0) tw + j] = (B^T d B)[q / 4][q % 4] for tile rows r in [r0, r0 + R) */             \
    static void wino_input_##S(const agc_conv2d_geom *g, const T *x, int64_t r0, int64_t R, T *V, T *rowbuf, \
                               int nthr)                                                                   \
    {                                                                                                      \
        const int64_t C = g->c, H = g->h, W = g->w, th = (g->oh + 1) / 2, tw = (g->ow + 1) / 2;           \
        const int64_t W2 = 2 * tw + 2, Tn = R * tw, items = C * R;                                         \
        _Pragma("omp parallel num_threads(nthr)")                                                          \
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
    }                                                                                                      \
    /* out[n][oi][2 ti + u][2 j + v] = (A^T M A)[u][v] + bias[oi] for the chunk's tiles */                 \
    static void wino_output_##S(const agc_conv2d_geom *g, const T *M, const T *bias, int64_t r0, int64_t R, \
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
CONV_WINOGRAD(float, f32)
CONV_WINOGRAD(double, f64)

static int conv_forward_winograd(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight,
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
        wino_filters_f32(g, weight, (float *)U);
    else
        wino_filters_f64(g, weight, (double *)U);
    int64_t off_a[16], off_b[16], off_c[16];
    int rc = AGC_OK;
    for (int64_t r0 = 0; r0 < rows && rc == AGC_OK; r0 += rpc) {
        const int64_t R = rows - r0 < rpc ? rows - r0 : rpc, Tn = R * tw;
        if (dt == AGC_F32)
            wino_input_f32(g, x, r0, R, (float *)V, (float *)rowbuf, nthr);
        else
            wino_input_f64(g, x, r0, R, (double *)V, (double *)rowbuf, nthr);
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
            wino_output_f32(g, (const float *)M, bias, r0, R, out, nthr);
        else
            wino_output_f64(g, (const double *)M, bias, r0, R, out, nthr);
    }
    agc_free(buf);
    return rc;
}
