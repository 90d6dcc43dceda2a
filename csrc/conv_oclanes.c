/* conv_oclanes.c: the float32 forward with output channels in vector lanes (made for LeNet-5's second
 * layer, few output channels and a short reduction, where the GEMM forms spend as much time packing as
 * multiplying; measured faster than them on larger layers too). Contract in agc.h (agc_conv2d_geom);
 * conv.c decides when it runs (agc_conv_use_oclanes, the one geometry rule, below).
 *
 * The weights are repacked once per call to wp[group][oc block][k][16], k = (c, a, b), channels past
 * the group's count zero. Per (image, group, chunk of output rows) item, the kernels of
 * conv_oclanes_vec.h (AVX2 or AVX-512 instance) compute R x X blocks of output pixels for each block
 * of 16 channels: each tap's 16 weights are loaded once and FMA'd with the block's inputs, broadcast.
 * Taps are addressed by a table of input offsets, so padding, dilation and groups cost nothing in the
 * kernel; a padded (or bottom / right padded) geometry first copies the item's input rows into a
 * zero-bordered per-thread buffer. The kernels transpose their block in registers and store it to
 * NCHW with the bias added (measured: the scalar transposing copy it replaced took a quarter of the
 * time of a 16 -> 32 channel 3x3 layer).
 * Column stride 1 or 2 (a compile-time constant of the kernels); any row stride.
 * Threads take items dynamically; each output is one kernel sum in tap order whoever computes it, so
 * results do not depend on the thread count; AVX2 and AVX-512 give the same bits. The portable tier
 * has no instance (the GEMM paths serve it). Tests: tests/test_conv.py (oclanes). */
#include <string.h>

#include "conv.h"

/* which instance of the kernels the active tier runs: 0 none (portable), 1 AVX2, 2 AVX-512 */
static int ocl_tier(void)
{
    const agc_isa isa = agc_isa_active();
    if (!AGC_HAVE_X86 || isa < AGC_ISA_AVX2)
        return 0;
    return AGC_NATIVE_AVX512 && isa >= AGC_ISA_AVX512 ? 2 : 1;
}

static const agc_ocl_kernels *ocl_table(void)
{
#if AGC_HAVE_X86
    const int t = ocl_tier();
    return t == 2 ? &agc_ocl_kernels_avx512 : t == 1 ? &agc_ocl_kernels_avx2 : NULL;
#else
    return NULL;
#endif
}

/* The geometry rule: float32 on AVX2 / AVX-512, column stride 1 or 2, at least 6 output channels a
 * group (fewer leave most of the 16 lanes idle). Measured, AVX-512, 1 thread, CPU time, ms (lanes vs
 * direct-packed vs im2col; Winograd off): 64x6x14x14 -> 16@5x5 (LeNet-5 layer 2) 0.27 / 0.56 / 0.61;
 * 64x1x28x28 -> 6@5x5 0.27 / 0.34 / 0.33; 64x3x32x32 -> 16@3x3 p1 0.69 / 0.81 / 1.07;
 * 64x16x32x32 -> 32@3x3 p1 6.0 / 6.7 / 11.2, stride 2 1.55 / 3.2 / 4.6; 16x64x28x28 -> 128@3x3 16.7 /
 * 18.4 / 20.8; 16x64x56x56 -> 128@3x3 stride 2 18.1 / 22.6 / 24.9; 4x256x14x14 -> 256@3x3 8.5 / 9.3 / 9.8; but 16x16x32x32 -> 3@3x3
 * 0.69 / 0.53 / 0.65 and -> 1@3x3 0.69 / 0.53 / 0.42. Winograd and the depthwise loops, where they apply,
 * come first (conv.c). */
int agc_conv_use_oclanes(agc_dtype dt, const agc_conv2d_geom *g)
{
    if (dt != AGC_F32 || agc_conv_direct_mode == 1 || agc_conv_direct_mode == 2 || g->stride_w > 2 ||
        !ocl_table())
        return 0;
    return agc_conv_direct_mode == 3 || g->o / g->groups >= 6;
}

/* the register block for an output row of ow pixels: X columns (the row in equal pieces of at most
 * xmax), R rows */
static void ocl_block_shape(const agc_ocl_kernels *kt, int half, int64_t ow, int *R, int *X)
{
    const int xmax = half ? kt->xmax_half : kt->xmax;
    const int64_t pieces = (ow + xmax - 1) / xmax;
    *X = (int)((ow + pieces - 1) / pieces);
    const int r = half ? 1 : kt->acc / *X;
    *R = r < 1 ? 1 : r > kt->rmax ? kt->rmax : r;
}

/* How a call is cut: the register block (R x X), items of `rows` output rows (`chunks` a (image,
 * group)), and, for a padded geometry, the per-thread buffer of one item's input rows (row stride wp,
 * channel stride cs; pbuf floats a thread). Unpadded, the kernels read x itself (cs = h w, wp = w). */
#define OCL_PAD_TARGET ((int64_t)512 << 10)
typedef struct {
    int half, R, X, padded; /* half: the kernels of fn_half (at most 8 channels a group, where the ISA has them) */
    int64_t rows, chunks, wp, cs, pbuf;
} ocl_plan;

static ocl_plan ocl_make_plan(const agc_ocl_kernels *kt, const agc_conv2d_geom *g, int nthr)
{
    ocl_plan p;
    p.half = kt->xmax_half > 0 && g->o / g->groups <= 8;
    ocl_block_shape(kt, p.half, g->ow, &p.R, &p.X);
    const int64_t G = g->groups, cg = g->c / G, sh = g->stride_h;
    /* the input extent the outputs read, from the top / left padding on */
    const int64_t Hn = (g->oh - 1) * sh + (g->kh - 1) * g->dil_h + 1;
    const int64_t Wn = (g->ow - 1) * g->stride_w + (g->kw - 1) * g->dil_w + 1;
    p.padded = g->pad_h > 0 || g->pad_w > 0 || Hn > g->h || Wn > g->w;
    /* rows are split only as far as needed for about 4 items a thread */
    int64_t chunks = (4 * nthr + g->n * G - 1) / (g->n * G);
    int64_t rows = (g->oh + chunks - 1) / chunks;
    p.wp = p.padded ? Wn : g->w;
    if (p.padded) {
        /* and so that a thread's padded rows stay near OCL_PAD_TARGET (in L2) */
        const int64_t per_row = cg * sh * p.wp * (int64_t)sizeof(float), most = OCL_PAD_TARGET / per_row;
        rows = rows < most ? rows : most;
    }
    rows = rows < 1 ? 1 : rows;
    p.rows = (rows + p.R - 1) / p.R * p.R;
    p.chunks = (g->oh + p.rows - 1) / p.rows;
    p.cs = (p.padded ? (p.rows - 1) * sh + (g->kh - 1) * g->dil_h + 1 : g->h) * p.wp;
    p.pbuf = p.padded ? (cg * p.cs + AGC_ALIGN / 4 - 1) / (AGC_ALIGN / 4) * (AGC_ALIGN / 4) : 0;
    return p;
}

static int ocl_threads(const agc_conv2d_geom *g)
{
    return agc_threads_for(2 * g->n * g->o * g->oh * g->ow * (g->c / g->groups) * g->kh * g->kw, (int64_t)1 << 20);
}

int64_t agc_conv_oclanes_workspace_bytes(const agc_conv2d_geom *g, int nthr)
{
    const agc_ocl_kernels *kt = ocl_table();
    if (!kt || g->n == 0)
        return 0;
    const ocl_plan p = ocl_make_plan(kt, g, nthr);
    const int64_t ck = g->c / g->groups * g->kh * g->kw, nob = (g->o / g->groups + OCL_LANES - 1) / OCL_LANES;
    return (g->groups * nob * (ck + 1) * OCL_LANES + nthr * p.pbuf) * (int64_t)sizeof(float) + ck * 8 + 3 * AGC_ALIGN;
}

int agc_conv_forward_oclanes(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight,
                             const void *bias, void *out)
{
    const agc_ocl_kernels *kt = ocl_table();
    if (dt != AGC_F32 || !kt || g->stride_w > 2)
        return AGC_EUNSUPPORTED;
    const int64_t G = g->groups, cg = g->c / G, og = g->o / G, ck = cg * g->kh * g->kw;
    const int64_t nob = (og + OCL_LANES - 1) / OCL_LANES, H = g->h, W = g->w, OH = g->oh, OW = g->ow;
    const int64_t sh = g->stride_h, sw = g->stride_w;
    const int nthr = ocl_threads(g);
    const ocl_plan pl = ocl_make_plan(kt, g, nthr);
    const int R = pl.R, X = pl.X, padded = pl.padded;
    const int64_t rows = pl.rows, chunks = pl.chunks, Wp = pl.wp, cs = pl.cs, pbuf = pl.pbuf;
    const int64_t items = g->n * G * chunks;

    float *wp = agc_alloc(G * nob * (ck + 1) * OCL_LANES * (int64_t)sizeof(float));
    int64_t *koff = agc_alloc(ck * (int64_t)sizeof(int64_t));
    float *xbuf = padded ? agc_alloc(nthr * pbuf * (int64_t)sizeof(float)) : NULL;
    if (!wp || !koff || (padded && !xbuf)) {
        agc_free(wp);
        agc_free(koff);
        agc_free(xbuf);
        return AGC_ENOMEM;
    }
    const float *w = weight, *b = bias;
    float *bp = wp + G * nob * ck * OCL_LANES; /* the bias of block (gi, ob) at (gi nob + ob) 16, zero-padded */
    for (int64_t gi = 0; gi < G; gi++)
        for (int64_t e = 0; e < nob * OCL_LANES; e++)
            bp[gi * nob * OCL_LANES + e] = b && e < og ? b[gi * og + e] : 0.0f;
    for (int64_t gi = 0; gi < G; gi++)
        for (int64_t ob = 0; ob < nob; ob++)
            for (int64_t k = 0; k < ck; k++) {
                float *d = wp + ((gi * nob + ob) * ck + k) * OCL_LANES;
                for (int64_t l = 0; l < OCL_LANES; l++) {
                    const int64_t oc = ob * OCL_LANES + l;
                    d[l] = oc < og ? w[(gi * og + oc) * ck + k] : 0.0f;
                }
            }
    for (int64_t c = 0; c < cg; c++)
        for (int64_t a = 0; a < g->kh; a++)
            for (int64_t bb = 0; bb < g->kw; bb++)
                koff[(c * g->kh + a) * g->kw + bb] = c * cs + a * g->dil_h * Wp + bb * g->dil_w;

#pragma omp parallel num_threads(nthr)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        float *xb = padded ? xbuf + tid * pbuf : NULL;
#pragma omp for schedule(dynamic, 1)
        for (int64_t it = 0; it < items; it++) {
            AGC_REGION_POINT();
            const int64_t ch = it % chunks, gi = (it / chunks) % G, n = it / (chunks * G);
            const int64_t oy0 = ch * rows, oy1 = oy0 + rows < OH ? oy0 + rows : OH;
            const float *xg = (const float *)x + (n * g->c + gi * cg) * H * W;
            const float *base; /* input of output (oy0, 0)'s tap (0, 0) */
            if (padded) {
                /* rows iy0 .. iy0 + hb of the padded input (top / left padding included) */
                const int64_t iy0 = oy0 * sh - g->pad_h, hb = (oy1 - 1 - oy0) * sh + (g->kh - 1) * g->dil_h + 1;
                const int64_t lo = g->pad_w < Wp ? g->pad_w : Wp, hi = W + g->pad_w < Wp ? W + g->pad_w : Wp;
                for (int64_t c = 0; c < cg; c++)
                    for (int64_t i = 0; i < hb; i++) {
                        float *d = xb + c * cs + i * Wp;
                        const int64_t iy = iy0 + i;
                        if (iy < 0 || iy >= H || hi <= lo) {
                            memset(d, 0, (size_t)Wp * sizeof(float));
                            continue;
                        }
                        memset(d, 0, (size_t)lo * sizeof(float));
                        memcpy(d + lo, xg + (c * H + iy) * W, (size_t)(hi - lo) * sizeof(float));
                        memset(d + hi, 0, (size_t)(Wp - hi) * sizeof(float));
                    }
                base = xb;
            } else {
                base = xg + oy0 * sh * W;
            }
            for (int64_t oy = oy0; oy < oy1; oy += R) {
                const int r = oy1 - oy < R ? (int)(oy1 - oy) : R;
                for (int64_t ox = 0; ox < OW; ox += X) {
                    const int xc = OW - ox < X ? (int)(OW - ox) : X;
                    const float *x0 = base + (oy - oy0) * sh * Wp + ox * sw;
                    for (int64_t ob = 0; ob < nob; ob++) {
                        const int64_t o0 = gi * og + ob * OCL_LANES;
                        const int ocn = og - ob * OCL_LANES < OCL_LANES ? (int)(og - ob * OCL_LANES) : OCL_LANES;
                        const agc_ocl_fn fn = pl.half ? kt->fn_half[sw - 1][xc - 1] : kt->fn[sw - 1][r - 1][xc - 1];
                        fn(wp + (gi * nob + ob) * ck * OCL_LANES, koff, ck, x0, sh * Wp,
                           (float *)out + ((n * g->o + o0) * OH + oy) * OW + ox, OH * OW, OW, ocn,
                           bp + (gi * nob + ob) * OCL_LANES, OW - ox);
                    }
                }
            }
        }
    }
    agc_free(wp);
    agc_free(koff);
    agc_free(xbuf);
    return AGC_OK;
}

/* ================================================================ weight gradient
 * dw[o][c][a][b] = sum over images and output pixels of grad_out[n][o][oy][ox] x[n][c][oy sh + a dh - ph]
 * [ox sw + b - pw], for column dilation 1 and kw 3 or 5 (the kernels' compile-time columns). grad_out is
 * laid out once as gT[n][group][oc block][pixel][16] (channels in lanes, zero past the group's count)
 * and, for a padded geometry, x once as zero-bordered planes. A block is (group, oc block, input channel,
 * R kernel rows); the images are cut into a fixed number of chunks (from the geometry, never from the
 * thread count) so that even one block gives the threads work. An item (block, chunk) sums its images in
 * order into its own partial (the kernels), and the partials are added in chunk order at the end: the
 * same bits at any thread count, and on AVX2 and AVX-512 (every lane the same fma chain). */
static const agc_oclw_kernels *oclw_table(void)
{
#if AGC_HAVE_X86
    const int t = ocl_tier();
    return t == 2 ? &agc_oclw_kernels_avx512 : t == 1 ? &agc_oclw_kernels_avx2 : NULL;
#else
    return NULL;
#endif
}

/* The rule: float32, the forward's lanes rule (agc_conv_use_oclanes: at least 6 output channels a group,
 * column stride <= 2), column dilation 1, kw 3 or 5, the tier's measured max_pixels an image (beyond it
 * the blocks' re-reads of the laid-out grad_out leave the cache),
 * at most OCLW_MAX_TAPS taps, and buffers within the conv workspace cap (they grow with the batch).
 * Measured, 1 thread, batch 64, ms, lanes / im2col + GEMM. AVX-512: LeNet-5 layer 1 (1 -> 6, 5x5, 28x28
 * padded) 0.60 / 1.43, layer 2 (6 -> 16, 5x5, 10x10 out) 0.38 / 0.70, 1 -> 32 3x3 at 28x28 0.74 / 1.10,
 * 3 -> 16 3x3 at 32x32 1.26 / 2.30, 16 -> 32 3x3 at 32x32 7.2 / 8.6, the same at stride 2 1.70 / 2.88.
 * AVX2: layer 1 (half kernels) 0.43 / 0.70, layer 2 0.32 / 0.63, 1 -> 32 at 28x28 0.84 / 0.92, 16 -> 32
 * stride 2 2.0 / 3.7, but 3 -> 16 at 32x32 1.46 / 1.37 and 16 -> 32 at 32x32 9.8 / 8.5 (1024 pixels). */
#define OCLW_MAX_TAPS 256 /* the largest c kh kw measured */
int agc_conv_use_oclanes_wgrad(agc_dtype dt, const agc_conv2d_geom *g)
{
    const agc_oclw_kernels *kt = oclw_table();
    if (!kt || !agc_conv_use_oclanes(dt, g) || g->dil_w != 1 || (g->kw != 3 && g->kw != 5))
        return 0;
    if (agc_conv_oclanes_wgrad_workspace_bytes(g) > agc_conv_workspace_limit)
        return 0; /* its buffers grow with the batch: past the cap, im2col + GEMM in bounded pieces */
    const int64_t taps = g->c / g->groups * g->kh * g->kw;
    return agc_conv_direct_mode == 3 || /* forced (tests) */
           (taps <= OCLW_MAX_TAPS && g->oh * g->ow <= kt->max_pixels);
}

/* How a weight-gradient call is cut: half kernels or not, R kernel rows a block (nab blocks of rows), the
 * chunks of images (nch of `per`), and the zero-bordered planes (padded; Hp x Wp) */
typedef struct {
    int half, k5, padded;
    int64_t nob, R, nab, blocks, nch, per, Hp, Wp;
} oclw_plan;

static oclw_plan oclw_make_plan(const agc_oclw_kernels *kt, const agc_conv2d_geom *g)
{
    oclw_plan p;
    const int64_t N = g->n, G = g->groups, cg = g->c / G, og = g->o / G, kh = g->kh, kw = g->kw;
    p.nob = (og + OCL_LANES - 1) / OCL_LANES;
    p.k5 = kw == 5;
    p.half = kt->rmax_half[p.k5] > 0 && og <= 8;
    const int rmax = p.half ? kt->rmax_half[p.k5] : kt->rmax[p.k5];
    /* kernel rows in nab blocks of at most rmax, as even as they go */
    p.nab = (kh + rmax - 1) / rmax;
    p.R = (kh + p.nab - 1) / p.nab;
    p.blocks = G * p.nob * cg * p.nab;
    /* chunks of images from the geometry alone (per kernel row, not per block, whose height is the tier's),
     * so every tier and thread count sums the same partials */
    const int64_t rows = G * p.nob * cg * kh, want = (16 + rows - 1) / rows;
    p.nch = rows >= 16 ? 1 : want < N ? want : N;
    p.per = (N + p.nch - 1) / p.nch;
    /* the input extent the outputs read, from the top / left padding on */
    const int64_t Hn = (g->oh - 1) * g->stride_h + (kh - 1) * g->dil_h + 1, Wn = (g->ow - 1) * g->stride_w + kw;
    p.padded = g->pad_h > 0 || g->pad_w > 0 || Hn > g->h || Wn > g->w;
    p.Wp = p.padded ? Wn : g->w;
    p.Hp = p.padded ? Hn : g->h;
    return p;
}

/* gT, the partials and the padded planes */
int64_t agc_conv_oclanes_wgrad_workspace_bytes(const agc_conv2d_geom *g)
{
    const agc_oclw_kernels *kt = oclw_table();
    if (!kt || g->n == 0)
        return 0;
    const oclw_plan p = oclw_make_plan(kt, g);
    return (g->n * g->groups * p.nob * g->oh * g->ow * OCL_LANES + p.nch * p.blocks * p.R * g->kw * OCL_LANES +
            (p.padded ? g->n * g->c * p.Hp * p.Wp : 0)) *
               (int64_t)sizeof(float) +
           3 * AGC_ALIGN;
}

int agc_conv_backward_weight_oclanes(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *grad_out,
                                     void *out)
{
    const agc_oclw_kernels *kt = oclw_table();
    if (dt != AGC_F32 || !kt || g->stride_w > 2 || g->dil_w != 1 || (g->kw != 3 && g->kw != 5))
        return AGC_EUNSUPPORTED;
    const int64_t N = g->n, G = g->groups, cg = g->c / G, og = g->o / G, kh = g->kh, kw = g->kw;
    const int64_t H = g->h, W = g->w, OH = g->oh, OW = g->ow, P = OH * OW, sh = g->stride_h, sw = g->stride_w;
    const oclw_plan pl = oclw_make_plan(kt, g);
    const int half = pl.half, k5 = pl.k5, padded = pl.padded;
    const int64_t nob = pl.nob, R = pl.R, nab = pl.nab, blocks = pl.blocks, nch = pl.nch, per = pl.per;
    const int64_t Hp = pl.Hp, Wp = pl.Wp, taps = R * kw;

    float *gT = agc_alloc(N * G * nob * P * OCL_LANES * (int64_t)sizeof(float));
    float *part = agc_alloc(nch * blocks * taps * OCL_LANES * (int64_t)sizeof(float));
    float *xp = padded ? agc_alloc(N * g->c * Hp * Wp * (int64_t)sizeof(float)) : NULL;
    if (!gT || !part || (padded && !xp)) {
        agc_free(gT);
        agc_free(part);
        agc_free(xp);
        return AGC_ENOMEM;
    }
    const float *gy = grad_out, *xs = x;
    const int nthr = agc_threads_for(2 * N * g->o * P * cg * kh * kw, (int64_t)1 << 20);
#pragma omp parallel num_threads(nthr)
    {
        /* gT: per (image, group, block) a transpose of up to 16 channel rows of P pixels */
#pragma omp for schedule(static)
        for (int64_t it = 0; it < N * G * nob; it++) {
            AGC_PERTURB();
            const int64_t ob = it % nob, gi = (it / nob) % G, n = it / (nob * G);
            const int64_t ocn = og - ob * OCL_LANES < OCL_LANES ? og - ob * OCL_LANES : OCL_LANES;
            const float *s = gy + (n * g->o + gi * og + ob * OCL_LANES) * P;
            float *d = gT + it * P * OCL_LANES;
            /* pixel by pixel, so the writes run along d (16 reading streams, one per channel) */
            for (int64_t p = 0; p < P; p++) {
                float *dp = d + p * OCL_LANES;
                int64_t l = 0;
                for (; l < ocn; l++) dp[l] = s[l * P + p];
                for (; l < OCL_LANES; l++) dp[l] = 0.0f;
            }
        }
        if (padded) {
#pragma omp for schedule(static)
            for (int64_t it = 0; it < N * g->c; it++) {
                AGC_PERTURB();
                float *d = xp + it * Hp * Wp;
                const float *s = xs + it * H * W;
                /* columns [lo, hi) of a padded row come from the input row, the rest are zero */
                const int64_t lo = g->pad_w < Wp ? g->pad_w : Wp, hi = W + g->pad_w < Wp ? W + g->pad_w : Wp;
                for (int64_t i = 0; i < Hp; i++) {
                    const int64_t iy = i - g->pad_h;
                    float *row = d + i * Wp;
                    if (iy < 0 || iy >= H || hi <= lo) {
                        memset(row, 0, (size_t)Wp * sizeof(float));
                        continue;
                    }
                    memset(row, 0, (size_t)lo * sizeof(float));
                    memcpy(row + lo, s + iy * W, (size_t)(hi - lo) * sizeof(float));
                    memset(row + hi, 0, (size_t)(Wp - hi) * sizeof(float));
                }
            }
        }
        const float *xb = padded ? xp : xs;
#pragma omp for schedule(dynamic, 1)
        for (int64_t it = 0; it < blocks * nch; it++) {
            AGC_REGION_POINT();
            const int64_t ch = it % nch, blk = it / nch;
            const int64_t ab = blk % nab, c = (blk / nab) % cg, ob = (blk / (nab * cg)) % nob, gi = blk / (nab * cg * nob);
            const int64_t a0 = ab * R, r = kh - a0 < R ? kh - a0 : R;
            const agc_oclw_fn fn = half ? kt->fn_half[sw - 1][k5][r - 1] : kt->fn[sw - 1][k5][r - 1];
            float *tot = part + (ch * blocks + blk) * taps * OCL_LANES;
            memset(tot, 0, (size_t)(taps * OCL_LANES) * sizeof(float));
            const int64_t n0 = ch * per, n1 = n0 + per < N ? n0 + per : N;
            for (int64_t n = n0; n < n1; n++)
                fn(gT + ((n * G + gi) * nob + ob) * P * OCL_LANES,
                   xb + ((n * g->c + gi * cg + c) * Hp + a0 * g->dil_h) * Wp, g->dil_h * Wp, sh * Wp, OH, OW, tot);
        }
        /* dw: the chunks' partials in chunk order */
#pragma omp for schedule(static)
        for (int64_t blk = 0; blk < blocks; blk++) {
            const int64_t ab = blk % nab, c = (blk / nab) % cg, ob = (blk / (nab * cg)) % nob, gi = blk / (nab * cg * nob);
            const int64_t a0 = ab * R, r = kh - a0 < R ? kh - a0 : R;
            for (int64_t l = 0; l < OCL_LANES && ob * OCL_LANES + l < og; l++) {
                float *d = (float *)out + ((gi * og + ob * OCL_LANES + l) * cg + c) * kh * kw;
                for (int64_t t = 0; t < r * kw; t++) {
                    float s = part[(0 * blocks + blk) * taps * OCL_LANES + t * OCL_LANES + l];
                    for (int64_t ch = 1; ch < nch; ch++)
                        s += part[(ch * blocks + blk) * taps * OCL_LANES + t * OCL_LANES + l];
                    d[(a0 + t / kw) * kw + t % kw] = s;
                }
            }
        }
    }
    agc_free(gT);
    agc_free(part);
    agc_free(xp);
    return AGC_OK;
}
