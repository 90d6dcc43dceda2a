/* conv_depthwise.c: the depthwise forward (one input channel per group, any channel multiplier) as direct
 * loops; contract in agc.h (agc_conv2d_geom), conv.c decides when it runs. The GEMM lowering gave one-row
 * GEMMs with K = kh kw here: 32x64x56x56 3x3 48 -> 39 ms, 2 threads. It skips the taps over padding,
 * so conv.c sends it finite weights only (an inf weight over padding gives NaN through im2col).
 * Threads take whole (image, channel) planes; each plane adds its taps in (a, b) order whoever runs it.
 * Tests: tests/test_conv.py. */
#include "conv.h"

/* One input channel per group (depthwise, with any channel multiplier og): out[n][oc] = bias[oc] +
 * sum over (a, b) of w[oc][a][b] * x[n][oc / og] shifted, as direct loops over output rows: each tap
 * adds a scaled input row to the output row (contiguous for stride 1, so the compiler vectorizes it at
 * the tier's width: CONV_TIERS).
 * The taps are added in (a, b) order whoever computes the plane: threads take whole (image, channel)
 * planes. The GEMM lowering gave one-row GEMMs with K = kh kw here. */
#define CONV_DEPTHWISE(T, S, ATTR)                                                                           \
    ATTR static void depthwise_##S(const agc_conv2d_geom *g, const T *x, const T *w, const T *bias, T *out) \
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

CONV_TIERS(CONV_DEPTHWISE, float, f32)
CONV_TIERS(CONV_DEPTHWISE, double, f64)

int agc_conv_forward_depthwise(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight,
                               const void *bias, void *out)
{
    if (dt == AGC_F32)
        CONV_PICK(depthwise, f32, g, x, weight, bias, out);
    else if (dt == AGC_F64)
        CONV_PICK(depthwise, f64, g, x, weight, bias, out);
    else
        return AGC_EUNSUPPORTED;
    return AGC_OK;
}
