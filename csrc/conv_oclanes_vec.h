/* conv_oclanes_vec.h: the register-block kernels of the output-channels-in-lanes forward (conv_oclanes.c),
 * written once over vec.h and compiled per ISA by conv_oclanes_avx2.c and conv_oclanes_avx512.c (each
 * includes vec.h, then this). float32 only.
 *
 * A kernel computes an R x X block of output pixels (R output rows, X consecutive columns) for one block
 * of OCL_LANES = 16 output channels, held as OCL_NV = 16 / VF_W vectors per pixel: for each tap k =
 * (c, a, b) the 16 weights w[k][0..16) are loaded once and multiplied by every pixel's input value,
 * broadcast (an embedded broadcast on AVX-512), into that pixel's accumulators. Pixel (r, j) reads
 * x0[r rs + j SW + koff[k]]: SW (the column stride) is a compile-time 1 or 2, so the X addresses of a
 * row are constant displacements from one pointer. The accumulators are transposed in registers and
 * stored to NCHW with the bias added (ocl_store_row). Each output is sum_k w x in k order from zero, fused:
 * the same bits on AVX2 and AVX-512 (and whatever thread or block computes it).
 * Register budget (accumulators R X OCL_NV, plus the weights and a broadcast): AVX-512 32 zmm, R X <= 28;
 * AVX2 16 ymm, R X <= 6. */
#ifndef AGC_VEC_H
#error "include vec.h first"
#endif
#include "conv.h"

#define OCL_NV (OCL_LANES / VF_W)
#define OCLW_ACC 28 /* accumulator array bound of the weight-gradient kernels */

/* The X pixels' accumulators a[0..X) of one output row (16 channels each, OCL_NV vectors a pixel,
 * pixel-major) to NCHW: transposed in registers to 16 vectors of pixels, the channel's bias added,
 * and the first X lanes of channels [0, ocn) stored at out + l ocs. */
#if AGC_VEC_ISA == AGC_VEC_AVX512
VEC_FN void ocl_store_row(const vf *a, int NV, int X, float *out, int64_t ocs, int ocn, const float *bias,
                          int64_t room)
{
    (void)NV;
    (void)room;
    vf r[16], t[16];
    for (int j = 0; j < 16; j++)
        r[j] = j < X ? a[j] : vf_zero();
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
#define OCL_PD(v) _mm512_castps_pd(v)
    for (int i = 0; i < 4; i++) {
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(OCL_PD(t[4 * i]), OCL_PD(t[4 * i + 2])));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(OCL_PD(t[4 * i]), OCL_PD(t[4 * i + 2])));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(OCL_PD(t[4 * i + 1]), OCL_PD(t[4 * i + 3])));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(OCL_PD(t[4 * i + 1]), OCL_PD(t[4 * i + 3])));
    }
#undef OCL_PD
    /* r[4 i + m], 128-bit piece k: pixels 4 i .. 4 i + 3 of channel 4 k + m */
    for (int m = 0; m < 4; m++) {
        const vf u0 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0x44), u1 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0xEE);
        const vf u2 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0x44);
        const vf u3 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0xEE);
        t[m] = _mm512_shuffle_f32x4(u0, u2, 0x88);
        t[4 + m] = _mm512_shuffle_f32x4(u0, u2, 0xDD);
        t[8 + m] = _mm512_shuffle_f32x4(u1, u3, 0x88);
        t[12 + m] = _mm512_shuffle_f32x4(u1, u3, 0xDD);
    }
    for (int l = 0; l < ocn; l++)
        vf_store_part(out + l * ocs, X, vf_add(t[l], vf_set1(bias[l])));
}
#elif AGC_VEC_ISA == AGC_VEC_AVX2
/* in 8 x 8 transposes: channel vector h (of NV) by pixels p0 .. p0 + 7 (X <= 12 in the half kernels) */
VEC_FN void ocl_store_row(const vf *a, int NV, int X, float *out, int64_t ocs, int ocn, const float *bias,
                          int64_t room)
{
    for (int p0 = 0; p0 < X; p0 += 8)
        for (int h = 0; h < NV; h++) {
            const int xn = X - p0 < 8 ? X - p0 : 8;
            vf r[8], t[8];
            for (int j = 0; j < 8; j++)
                r[j] = j < xn ? a[NV * (p0 + j) + h] : vf_zero();
            for (int i = 0; i < 4; i++) {
                t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
                t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
            }
            for (int i = 0; i < 2; i++) {
                r[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
                r[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
                r[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
                r[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
            }
            /* r[4 i + m], 128-bit half k: pixels p0 + 4 i .. p0 + 4 i + 3 of channel 8 h + 4 k + m */
            for (int m = 0; m < 4; m++) {
                t[m] = _mm256_permute2f128_ps(r[m], r[4 + m], 0x20);
                t[4 + m] = _mm256_permute2f128_ps(r[m], r[4 + m], 0x31);
            }
            /* a whole-vector store where the row has room (lanes past xn are rewritten later: by the
             * next 8 pixels here or by the next block): AVX2's masked store (vmaskmovps) is slow enough
             * to dominate short reductions */
            for (int l = 0; l < 8 && 8 * h + l < ocn; l++) {
                const vf v = vf_add(t[l], vf_set1(bias[8 * h + l]));
                if (room - p0 >= 8)
                    vf_store(out + (8 * h + l) * ocs + p0, v);
                else
                    vf_store_part(out + (8 * h + l) * ocs + p0, xn, v);
            }
        }
}
#else
#error "conv_oclanes_vec.h: the AVX2 and AVX-512 instances only"
#endif

/* NV: the vectors of channels used a pixel, OCL_NV or (AVX2's half kernels, for at most 8 channels) 1 */
VEC_FN void ocl_block(const float *restrict w, const int64_t *restrict koff, int64_t K, const float *restrict x0,
                      int64_t rs, float *restrict out, int64_t ocs, int64_t ors, int ocn, const float *bias,
                      int64_t room, const int NV, const int R, const int X, const int SW)
{
    vf acc[OCL_RMAX * OCL_XMAX * OCL_NV];
#pragma GCC unroll 64
    for (int i = 0; i < R * X * NV; i++)
        acc[i] = vf_zero();
    for (int64_t k = 0; k < K; k++, w += OCL_LANES) {
        const float *xk = x0 + koff[k];
        vf wv[OCL_NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            wv[v] = vf_load(w + v * VF_W);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const float *xr = xk + r * rs;
#pragma GCC unroll 32
            for (int j = 0; j < X; j++) {
                const vf b = vf_set1(xr[j * SW]);
#pragma GCC unroll 4
                for (int v = 0; v < NV; v++)
                    acc[(r * X + j) * NV + v] = vf_fma(wv[v], b, acc[(r * X + j) * NV + v]);
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        ocl_store_row(acc + r * X * NV, NV, X, out + r * ors, ocs, ocn, bias, room);
}

/* one function per (SW, R, X), and AVX2's half kernels per (SW, X) */
#define OCL_FN(SW, R, X)                                                                                  \
    static VEC_TARGET void VEC_NAME(ocl_##SW##_##R##_##X)(const float *w, const int64_t *koff, int64_t K,   \
                                                            const float *x0, int64_t rs, float *out,        \
                                                            int64_t ocs, int64_t ors, int ocn,              \
                                                            const float *bias, int64_t room)                \
    {                                                                                                     \
        ocl_block(w, koff, K, x0, rs, out, ocs, ors, ocn, bias, room, OCL_NV, R, X, SW);                  \
    }
#define OCL_FNH(SW, X)                                                                                    \
    static VEC_TARGET void VEC_NAME(ocl_h##SW##_##X)(const float *w, const int64_t *koff, int64_t K,        \
                                                       const float *x0, int64_t rs, float *out, int64_t ocs, \
                                                       int64_t ors, int ocn, const float *bias, int64_t room) \
    {                                                                                                     \
        ocl_block(w, koff, K, x0, rs, out, ocs, ors, ocn, bias, room, 1, 1, X, SW);                       \
    }
#define OCL_ROW_1_6(SW, R) OCL_FN(SW, R, 1) OCL_FN(SW, R, 2) OCL_FN(SW, R, 3) OCL_FN(SW, R, 4) OCL_FN(SW, R, 5) \
    OCL_FN(SW, R, 6)
#define OCL_ROW_7_14(SW, R) OCL_FN(SW, R, 7) OCL_FN(SW, R, 8) OCL_FN(SW, R, 9) OCL_FN(SW, R, 10)               \
    OCL_FN(SW, R, 11) OCL_FN(SW, R, 12) OCL_FN(SW, R, 13) OCL_FN(SW, R, 14)
#define OCL_PTRS_1_6(SW, R) VEC_NAME(ocl_##SW##_##R##_1), VEC_NAME(ocl_##SW##_##R##_2),                      \
    VEC_NAME(ocl_##SW##_##R##_3), VEC_NAME(ocl_##SW##_##R##_4), VEC_NAME(ocl_##SW##_##R##_5),                \
    VEC_NAME(ocl_##SW##_##R##_6)
#define OCL_PTRS_7_14(SW, R) VEC_NAME(ocl_##SW##_##R##_7), VEC_NAME(ocl_##SW##_##R##_8),                     \
    VEC_NAME(ocl_##SW##_##R##_9), VEC_NAME(ocl_##SW##_##R##_10), VEC_NAME(ocl_##SW##_##R##_11),              \
    VEC_NAME(ocl_##SW##_##R##_12), VEC_NAME(ocl_##SW##_##R##_13), VEC_NAME(ocl_##SW##_##R##_14)

#if OCL_XMAX == 14 && OCL_RMAX == 2
OCL_ROW_1_6(1, 1) OCL_ROW_7_14(1, 1) OCL_ROW_1_6(1, 2) OCL_ROW_7_14(1, 2)
OCL_ROW_1_6(2, 1) OCL_ROW_7_14(2, 1) OCL_ROW_1_6(2, 2) OCL_ROW_7_14(2, 2)
const agc_ocl_kernels VEC_NAME(agc_ocl_kernels) = {
    OCL_XMAX, OCL_RMAX, OCL_ACC,
    {{{OCL_PTRS_1_6(1, 1), OCL_PTRS_7_14(1, 1)}, {OCL_PTRS_1_6(1, 2), OCL_PTRS_7_14(1, 2)}},
     {{OCL_PTRS_1_6(2, 1), OCL_PTRS_7_14(2, 1)}, {OCL_PTRS_1_6(2, 2), OCL_PTRS_7_14(2, 2)}}},
    0, {{0}}};
#elif OCL_XMAX == 6 && OCL_RMAX == 1 && OCL_NV == 2
/* half kernels: one vector of 8 channels a pixel, so a row block of up to 12 pixels (12 accumulators) */
#define OCL_ROWH(SW) OCL_FNH(SW, 1) OCL_FNH(SW, 2) OCL_FNH(SW, 3) OCL_FNH(SW, 4) OCL_FNH(SW, 5) OCL_FNH(SW, 6)     \
    OCL_FNH(SW, 7) OCL_FNH(SW, 8) OCL_FNH(SW, 9) OCL_FNH(SW, 10) OCL_FNH(SW, 11) OCL_FNH(SW, 12)
#define OCL_PTRSH(SW) VEC_NAME(ocl_h##SW##_1), VEC_NAME(ocl_h##SW##_2), VEC_NAME(ocl_h##SW##_3),                \
    VEC_NAME(ocl_h##SW##_4), VEC_NAME(ocl_h##SW##_5), VEC_NAME(ocl_h##SW##_6), VEC_NAME(ocl_h##SW##_7),        \
    VEC_NAME(ocl_h##SW##_8), VEC_NAME(ocl_h##SW##_9), VEC_NAME(ocl_h##SW##_10), VEC_NAME(ocl_h##SW##_11),      \
    VEC_NAME(ocl_h##SW##_12)
OCL_ROW_1_6(1, 1) OCL_ROW_1_6(2, 1) OCL_ROWH(1) OCL_ROWH(2)
const agc_ocl_kernels VEC_NAME(agc_ocl_kernels) = {
    OCL_XMAX, OCL_RMAX, OCL_ACC, {{{OCL_PTRS_1_6(1, 1)}}, {{OCL_PTRS_1_6(2, 1)}}},
    12, {{OCL_PTRSH(1)}, {OCL_PTRSH(2)}}};
#else
#error "conv_oclanes_vec.h: no kernel list for this OCL_XMAX / OCL_RMAX"
#endif

/* ---------------------------------------------------------------- weight gradient */
/* The accumulators are the R x KW taps (NV vectors each), live across the image's output pixels; each
 * pixel loads its NV vectors of grad_out once and FMAs them with the taps' inputs, broadcast. The R input
 * rows sit at runtime distances (koff_r) and the KW columns at compile-time ones, so the broadcasts are
 * constant displacements from R pointers. */
VEC_FN void oclw_block(const float *restrict gT, const float *restrict x0, int64_t koff_r, int64_t rs, int64_t OH,
                       int64_t OW, float *restrict tot, const int NV, const int R, const int KW, const int SW)
{
    vf acc[OCLW_ACC];
#pragma GCC unroll 64
    for (int i = 0; i < R * KW * NV; i++)
        acc[i] = vf_zero();
    for (int64_t oy = 0; oy < OH; oy++) {
        const float *xrow = x0 + oy * rs, *grow = gT + oy * OW * OCL_LANES;
        for (int64_t ox = 0; ox < OW; ox++) {
            vf gv[OCL_NV];
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                gv[v] = vf_load(grow + ox * OCL_LANES + v * VF_W);
            const float *xp = xrow + ox * SW;
#pragma GCC unroll 16
            for (int r = 0; r < R; r++) {
#pragma GCC unroll 8
                for (int b = 0; b < KW; b++) {
                    const vf xb = vf_set1(xp[r * koff_r + b]);
#pragma GCC unroll 4
                    for (int v = 0; v < NV; v++)
                        acc[(r * KW + b) * NV + v] = vf_fma(gv[v], xb, acc[(r * KW + b) * NV + v]);
                }
            }
        }
    }
#pragma GCC unroll 64
    for (int t = 0; t < R * KW; t++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            float *d = tot + t * OCL_LANES + v * VF_W;
            vf_store(d, vf_add(vf_load(d), acc[t * NV + v]));
        }
}

#define OCLW_FN(NAME, NV, SW, KW, R)                                                                      \
    static VEC_TARGET void VEC_NAME(NAME##_##SW##_##KW##_##R)(const float *gT, const float *x0,            \
                                                              int64_t koff_r, int64_t rs, int64_t OH,     \
                                                              int64_t OW, float *tot)                     \
    {                                                                                                     \
        oclw_block(gT, x0, koff_r, rs, OH, OW, tot, NV, R, KW, SW);                                       \
    }
#define OCLW_P(NAME, SW, KW, R) VEC_NAME(NAME##_##SW##_##KW##_##R)
/* R = 1 .. RMAX of one (SW, KW): definitions (D) and pointers (P) */
#define OCLW_D1(N, NV, SW, KW) OCLW_FN(N, NV, SW, KW, 1)
#define OCLW_D2(N, NV, SW, KW) OCLW_D1(N, NV, SW, KW) OCLW_FN(N, NV, SW, KW, 2)
#define OCLW_D3(N, NV, SW, KW) OCLW_D2(N, NV, SW, KW) OCLW_FN(N, NV, SW, KW, 3)
#define OCLW_D4(N, NV, SW, KW) OCLW_D3(N, NV, SW, KW) OCLW_FN(N, NV, SW, KW, 4)
#define OCLW_D5(N, NV, SW, KW) OCLW_D4(N, NV, SW, KW) OCLW_FN(N, NV, SW, KW, 5)
#define OCLW_D9(N, NV, SW, KW) OCLW_D5(N, NV, SW, KW) OCLW_FN(N, NV, SW, KW, 6) OCLW_FN(N, NV, SW, KW, 7) \
    OCLW_FN(N, NV, SW, KW, 8) OCLW_FN(N, NV, SW, KW, 9)
#define OCLW_Q1(N, SW, KW) OCLW_P(N, SW, KW, 1)
#define OCLW_Q2(N, SW, KW) OCLW_Q1(N, SW, KW), OCLW_P(N, SW, KW, 2)
#define OCLW_Q4(N, SW, KW) OCLW_Q2(N, SW, KW), OCLW_P(N, SW, KW, 3), OCLW_P(N, SW, KW, 4)
#define OCLW_Q5(N, SW, KW) OCLW_Q4(N, SW, KW), OCLW_P(N, SW, KW, 5)
#define OCLW_Q9(N, SW, KW) OCLW_Q5(N, SW, KW), OCLW_P(N, SW, KW, 6), OCLW_P(N, SW, KW, 7), OCLW_P(N, SW, KW, 8), \
    OCLW_P(N, SW, KW, 9)

#if AGC_VEC_ISA == AGC_VEC_AVX512
/* 32 zmm: up to 27 accumulators (3 x 9 or 5 x 5 taps) */
OCLW_D9(oclw, 1, 1, 3) OCLW_D9(oclw, 1, 2, 3) OCLW_D5(oclw, 1, 1, 5) OCLW_D5(oclw, 1, 2, 5)
const agc_oclw_kernels VEC_NAME(agc_oclw_kernels) = {
    {9, 5}, {0, 0},
    {{{OCLW_Q9(oclw, 1, 3)}, {OCLW_Q5(oclw, 1, 5)}}, {{OCLW_Q9(oclw, 2, 3)}, {OCLW_Q5(oclw, 2, 5)}}},
    {{{0}}}, 1024};
#else
/* 16 ymm: two vectors a tap, up to 6 taps (3 x 2, 5 x 1); the half kernels one vector, up to 12 (3 x 4, 5 x 2) */
OCLW_D2(oclw, 2, 1, 3) OCLW_D2(oclw, 2, 2, 3) OCLW_D1(oclw, 2, 1, 5) OCLW_D1(oclw, 2, 2, 5)
OCLW_D4(oclwh, 1, 1, 3) OCLW_D4(oclwh, 1, 2, 3) OCLW_D2(oclwh, 1, 1, 5) OCLW_D2(oclwh, 1, 2, 5)
const agc_oclw_kernels VEC_NAME(agc_oclw_kernels) = {
    {2, 1}, {4, 2},
    {{{OCLW_Q2(oclw, 1, 3)}, {OCLW_Q1(oclw, 1, 5)}}, {{OCLW_Q2(oclw, 2, 3)}, {OCLW_Q1(oclw, 2, 5)}}},
    {{{OCLW_Q4(oclwh, 1, 3)}, {OCLW_Q2(oclwh, 1, 5)}}, {{OCLW_Q4(oclwh, 2, 3)}, {OCLW_Q2(oclwh, 2, 5)}}},
    784};
#endif

