/* conv.c: the public 2-D convolution entry points of agc.h (forward, backward-data, backward-weight,
 * workspace bound, settings): each call picks one algorithm from the geometry, the dtype and the
 * operands, in this order (conv.h lists the files):
 *   forward:  Winograd F(2x2, 3x3) where agc_conv_wino_applies (3x3, stride 1, many channels and pixels);
 *             depthwise loops for one input channel per group; float32 on AVX2 / AVX-512 with >= 6
 *             output channels a group and column stride <= 2, output channels in vector lanes
 *             (agc_conv_use_oclanes); the direct-packed GEMM where agc_conv_use_direct (enough output
 *             channels and reduction length); else im2col + GEMM (a plain GEMM for 1x1 stride-1
 *             unpadded).
 *   data gradient: stride 1, as a forward convolution of grad_out with the flipped, transposed weights
 *             (Winograd or direct-packed, see backward_data_direct); else GEMM + col2im.
 *   weight gradient: im2col + GEMM.
 * The fast paths that do not form the plain sum of products get finite operands only (all_finite).
 * agc_conv_set_direct / agc_conv_set_winograd force or forbid the fast paths for tests. Every
 * algorithm's result is independent of the thread count. Tests: tests/test_conv.py. */
#include <string.h>

#include "conv.h"

#define CONV_DEFAULT_LIMIT ((int64_t)64 << 20)

int64_t agc_conv_workspace_limit = CONV_DEFAULT_LIMIT;
int agc_conv_direct_mode = 0;
int agc_conv_winograd_mode = 0;

int64_t agc_conv_set_workspace_limit(int64_t nbytes)
{
    int64_t prev = agc_conv_workspace_limit;
    agc_conv_workspace_limit = nbytes > 0 ? nbytes : CONV_DEFAULT_LIMIT;
    return prev;
}

int agc_conv_set_direct(int mode)
{
    int prev = agc_conv_direct_mode;
    agc_conv_direct_mode = mode >= 0 && mode <= 3 ? mode : 0;
    return prev;
}

int agc_conv_set_winograd(int mode)
{
    int prev = agc_conv_winograd_mode;
    agc_conv_winograd_mode = mode >= 0 && mode <= 2 ? mode : 0;
    return prev;
}

int64_t agc_conv2d_workspace_bytes(agc_dtype dt, const agc_conv2d_geom *g)
{
    int64_t esize = (int64_t)agc_dtype_size(dt);
    if (g->n == 0 || conv_is_pointwise(g))
        return 0;
    /* column buffer + the (o x nb p) reorder buffer + the weight-gradient transpose buffer (the weight
     * gradient, and the forward and data gradient when the direct-packed path does not apply) */
    int64_t bytes = agc_conv_gemm_workspace_bytes(g, esize);
    if (agc_conv_use_direct(dt, g)) {
        /* packed weights + one block of packed columns per thread */
        int nthr = agc_nthreads() > 1 ? agc_nthreads() : 1;
        int64_t d = agc_conv_direct_workspace_bytes(g, esize, agc_gemm_tile_mr(dt), agc_gemm_tile_nr(dt), nthr);
        bytes = d > bytes ? d : bytes;
    }
    const int nthr_ws = agc_nthreads() > 1 ? agc_nthreads() : 1;
    if (agc_conv_use_oclanes(dt, g)) {
        int64_t d = agc_conv_oclanes_workspace_bytes(g, nthr_ws);
        bytes = d > bytes ? d : bytes;
    }
    if (agc_conv_wino_applies(dt, g)) {
        int64_t d = agc_conv_wino_workspace_bytes(g, esize, nthr_ws);
        bytes = d > bytes ? d : bytes;
    }
    if (agc_conv_use_oclanes_wgrad(dt, g)) {
        int64_t d = agc_conv_oclanes_wgrad_workspace_bytes(g);
        bytes = d > bytes ? d : bytes;
    }
    /* the stride-1 data gradient: a direct-packed or Winograd convolution of grad_out, plus the flipped
     * weights */
    agc_conv2d_geom t = *g;
    t.c = g->o, t.h = g->oh, t.w = g->ow, t.o = g->c, t.oh = g->h, t.ow = g->w;
    t.pad_h = g->dil_h * (g->kh - 1) - g->pad_h;
    t.pad_w = g->dil_w * (g->kw - 1) - g->pad_w;
    if (agc_conv_wino_applies(dt, &t)) {
        int64_t d = agc_conv_wino_workspace_bytes(&t, esize, nthr_ws) + g->o * g->c * g->kh * g->kw * esize;
        bytes = d > bytes ? d : bytes;
    }
    if (g->stride_h == 1 && g->stride_w == 1 && agc_conv_use_direct(dt, &t) &&
        100 * g->h * g->w <= 115 * g->oh * g->ow) {
        int nthr = agc_nthreads() > 1 ? agc_nthreads() : 1;
        int64_t d = agc_conv_direct_workspace_bytes(&t, esize, agc_gemm_tile_mr(dt), agc_gemm_tile_nr(dt),
                                                    nthr) +
                    g->o * g->c / g->groups * g->kh * g->kw * esize;
        bytes = d > bytes ? d : bytes;
    }
    return bytes;
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
    if (!agc_conv_all_finite(dt, weight, g->o * (g->c / g->groups) * g->kh * g->kw))
        return 1;
    const int wino = agc_conv_wino_applies(dt, &t);
    const int direct = agc_conv_use_direct(dt, &t) &&
                       (agc_conv_direct_mode == 2 || 100 * g->h * g->w <= 115 * g->oh * g->ow);
    if (!wino && !direct)
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
    /* Winograd declines a grad_out holding an inf or NaN */
    int rc = wino ? agc_conv_forward_winograd(dt, &t, grad_out, wt, bias, out) : AGC_CONV_NONFINITE;
    if (rc == AGC_CONV_NONFINITE)
        rc = direct ? agc_conv_forward_direct(dt, &t, grad_out, wt, bias, out) : 1;
    agc_free(wt);
    return rc;
}

int agc_conv2d(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight, const void *bias,
               void *out)
{
    if (dt != AGC_F32 && dt != AGC_F64)
        return AGC_EUNSUPPORTED;
    if (g->n == 0)
        return AGC_OK;
    const int64_t cg = g->c / g->groups;

    /* depthwise (one input channel per group, several groups): direct loops. A single-channel input
     * with groups == 1 is an ordinary convolution, faster through im2col + GEMM (LeNet's first layer,
     * 1x28x28 -> 6@5x5 on a batch of 64: 0.20 ms vs 0.83 ms through the depthwise loops) */
    const int64_t nw = g->o * cg * g->kh * g->kw;
    if (agc_conv_wino_applies(dt, g) && agc_conv_all_finite(dt, weight, nw)) {
        const int rc = agc_conv_forward_winograd(dt, g, x, weight, bias, out); /* declines a non-finite x */
        if (rc != AGC_CONV_NONFINITE)
            return rc;
    }
    if (!conv_is_pointwise(g) && g->c == g->groups && g->groups > 1 && agc_conv_direct_mode != 1 &&
        agc_conv_all_finite(dt, weight, nw))
        return agc_conv_forward_depthwise(dt, g, x, weight, bias, out);
    if (!conv_is_pointwise(g) && agc_conv_use_oclanes(dt, g))
        return agc_conv_forward_oclanes(dt, g, x, weight, bias, out);
    if (!conv_is_pointwise(g) && agc_conv_use_direct(dt, g))
        return agc_conv_forward_direct(dt, g, x, weight, bias, out);
    return agc_conv_forward_gemm(dt, g, x, weight, bias, out);
}

int agc_conv2d_backward_data(agc_dtype dt, const agc_conv2d_geom *g, const void *grad_out, const void *weight,
                             const void *bias, void *out)
{
    if (dt != AGC_F32 && dt != AGC_F64)
        return AGC_EUNSUPPORTED;
    if (g->n == 0)
        return AGC_OK;
    if (!conv_is_pointwise(g)) {
        int r = backward_data_direct(dt, g, grad_out, weight, bias, out);
        if (r != 1)
            return r;
    }
    return agc_conv_backward_data_gemm(dt, g, grad_out, weight, bias, out);
}

int agc_conv2d_backward_weight(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *grad_out,
                               void *out)
{
    if (dt != AGC_F32 && dt != AGC_F64)
        return AGC_EUNSUPPORTED;
    if (g->n > 0 && !conv_is_pointwise(g) && agc_conv_use_oclanes_wgrad(dt, g))
        return agc_conv_backward_weight_oclanes(dt, g, x, grad_out, out);
    return agc_conv_backward_weight_gemm(dt, g, x, grad_out, out);
}
