/* conv_oclanes.c: the float32 forward with output channels in vector lanes, for layers with few output
 * channels and a short reduction (LeNet-5's second layer), where the GEMM forms spend as much time
 * packing as multiplying. Contract in agc.h (agc_conv2d_geom); conv.c decides when it runs
 * (agc_conv_use_oclanes, the one geometry rule, below).
 *
 * The weights are repacked once per call to wp[group][oc block][k][16], k = (c, a, b), channels past
 * the group's count zero. Per (image, group, chunk of output rows) item, the kernels of
 * conv_oclanes_vec.h (AVX2 or AVX-512 instance) compute R x X blocks of output pixels for each block
 * of 16 channels: each tap's 16 weights are loaded once and FMA'd with the block's inputs, broadcast.
 * Taps are addressed by a table of input offsets, so padding, dilation and groups cost nothing in the
 * kernel; a padded (or bottom / right padded) geometry first copies the item's input rows into a
 * zero-bordered per-thread buffer. The block is then transposed to NCHW with the bias added.
 * Column stride 1 or 2 (a compile-time constant of the kernels); any row stride.
 * Threads take items dynamically; each output is one kernel sum in tap order whoever computes it, so
 * results do not depend on the thread count; AVX2 and AVX-512 give the same bits. The portable tier
 * has no instance (the GEMM paths serve it). Tests: tests/test_conv.py (oclanes). */
#include <string.h>

#include "conv.h"

static const agc_ocl_kernels *ocl_table(void)
{
#if AGC_HAVE_X86
    const agc_isa isa = agc_isa_active();
    if (isa >= AGC_ISA_AVX512)
        return &agc_ocl_kernels_avx512;
    if (isa >= AGC_ISA_AVX2)
        return &agc_ocl_kernels_avx2;
#endif
    return NULL;
}

/* The geometry rule. */
int agc_conv_use_oclanes(agc_dtype dt, const agc_conv2d_geom *g)
{
    if (dt != AGC_F32 || agc_conv_direct_mode == 1 || agc_conv_direct_mode == 2 || g->stride_w > 2 ||
        !ocl_table())
        return 0;
    if (agc_conv_direct_mode == 3)
        return 1;
    const int64_t og = g->o / g->groups, ck = g->c / g->groups * g->kh * g->kw;
    return og >= 8 && og <= 32 && ck >= 64 && ck <= 512;
}

/* the register block for an output row of ow pixels: X columns (the row in equal pieces of at most
 * xmax), R rows */
static void ocl_block_shape(const agc_ocl_kernels *kt, int64_t ow, int *R, int *X)
{
    const int64_t pieces = (ow + kt->xmax - 1) / kt->xmax;
    *X = (int)((ow + pieces - 1) / pieces);
    const int r = kt->acc / *X;
    *R = r < 1 ? 1 : r > kt->rmax ? kt->rmax : r;
}

int agc_conv_forward_oclanes(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight,
                             const void *bias, void *out)
{
    const agc_ocl_kernels *kt = ocl_table();
    if (dt != AGC_F32 || !kt || g->stride_w > 2)
        return AGC_EUNSUPPORTED;
    const int64_t G = g->groups, cg = g->c / G, og = g->o / G, kk = g->kh * g->kw, ck = cg * kk;
    const int64_t nob = (og + OCL_LANES - 1) / OCL_LANES, H = g->h, W = g->w, OH = g->oh, OW = g->ow;
    const int64_t sh = g->stride_h, sw = g->stride_w;
    int R, X;
    ocl_block_shape(kt, OW, &R, &X);
    /* the input extent the outputs read, from the top / left padding on */
    const int64_t Hn = (OH - 1) * sh + (g->kh - 1) * g->dil_h + 1, Wn = (OW - 1) * sw + (g->kw - 1) * g->dil_w + 1;
    const int padded = g->pad_h > 0 || g->pad_w > 0 || Hn > H || Wn > W;

    /* items: (image, group, chunk of output rows); rows are split only as far as needed for about 4
     * items a thread */
    const int nthr = agc_threads_for(2 * g->n * g->o * OH * OW * ck, (int64_t)1 << 20);
    int64_t chunks = (4 * nthr + g->n * G - 1) / (g->n * G);
    int64_t rows = (OH + chunks - 1) / chunks;
    rows = (rows + R - 1) / R * R;
    chunks = (OH + rows - 1) / rows;
    const int64_t items = g->n * G * chunks;
    /* the padded buffer holds one chunk's input rows of the group's channels, row stride Wp */
    const int64_t Wp = padded ? Wn : W, Hb = padded ? (rows - 1) * sh + (g->kh - 1) * g->dil_h + 1 : H;
    const int64_t cs = Hb * Wp; /* channel stride the kernels see */
    const int64_t pbuf = padded ? (cg * cs + 16 + AGC_ALIGN / 4 - 1) / (AGC_ALIGN / 4) * (AGC_ALIGN / 4) : 0;

    float *wp = agc_alloc(G * nob * ck * OCL_LANES * (int64_t)sizeof(float));
    int64_t *koff = agc_alloc(ck * (int64_t)sizeof(int64_t));
    float *xbuf = padded ? agc_alloc(nthr * pbuf * (int64_t)sizeof(float)) : NULL;
    if (!wp || !koff || (padded && !xbuf)) {
        agc_free(wp);
        agc_free(koff);
        agc_free(xbuf);
        return AGC_ENOMEM;
    }
    const float *w = weight, *b = bias;
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
        _Alignas(64) float tile[OCL_TAB_R * OCL_TAB_X * OCL_LANES];
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
                        kt->fn[sw - 1][r - 1][xc - 1](wp + (gi * nob + ob) * ck * OCL_LANES, koff, ck, x0, sh * Wp,
                                                      tile);
                        const int64_t ocn = og - ob * OCL_LANES < OCL_LANES ? og - ob * OCL_LANES : OCL_LANES;
                        for (int64_t l = 0; l < ocn; l++) {
                            const int64_t o = gi * og + ob * OCL_LANES + l;
                            const float bv = b ? b[o] : 0.0f;
                            float *orow = (float *)out + ((n * g->o + o) * OH + oy) * OW + ox;
                            for (int i = 0; i < r; i++)
                                for (int j = 0; j < xc; j++)
                                    orow[i * OW + j] = tile[(i * xc + j) * OCL_LANES + l] + bv;
                        }
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
