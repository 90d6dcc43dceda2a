/* conv.h: what the convolution files share, for csrc/conv*.c only. conv.c holds the public entry points
 * of agc.h (it picks an algorithm per call), the process-wide settings and the workspace bound; each
 * algorithm lives in its own file behind the functions below:
 *   conv_im2col.c     im2col + GEMM (and the 1x1 plain GEMM) for all three passes: the reference path
 *   conv_direct.c     direct-packed forward: columns written straight into the GEMM's packed panels
 *   conv_oclanes.c    direct forward with output channels in vector lanes (conv_oclanes_vec.h kernels)
 *   conv_depthwise.c  depthwise forward loops
 *   conv_winograd.c   Winograd F(2x2, 3x3) forward
 * All take the agc_conv2d_geom contract of agc.h (C-contiguous NCHW, nothing aliases) and return an AGC
 * code. */
#ifndef AGC_CONV_H
#define AGC_CONV_H

#include "internal.h"

/* below this many elements touched, a loop stays on one thread (fork cost ~ a few microseconds) */
#define CONV_OMP_MIN 32768

/* The settings of agc_conv_set_workspace_limit / _set_direct / _set_winograd (conv.c). Modes: 0
 * automatic; direct 1 = im2col + GEMM everywhere, 2 = the direct-packed path wherever it applies,
 * 3 = the output-channels-in-lanes kernel wherever it applies (else as 0); winograd 1 = never, 2 =
 * wherever the geometry allows. */
extern int64_t agc_conv_workspace_limit;
extern int agc_conv_direct_mode;
extern int agc_conv_winograd_mode;

/* 1 when none of the n values of dt is inf or NaN. The fast paths that do not form the plain sum of products
 * need it: Winograd's transforms add and subtract the inputs of a whole tile (an inf there becomes NaN
 * in outputs that never read it: inf - inf), the direct depthwise loops skip the padding taps (an inf
 * weight over padding gives inf * 0 = NaN through im2col), and the stride-1 data gradient convolves a
 * zero-padded grad_out (an inf weight times those zeros gives NaN at inputs no output reads through
 * it). With a non-finite operand they fall back to im2col + GEMM, whose result every path must give. */
static inline int agc_conv_all_finite(agc_dtype dt, const void *p, int64_t n)
{
    /* the exponent field plus one carries into the top bit exactly when it is all ones: integer ands,
     * adds and ors only, which vectorise on any x86-64 (Winograd runs this on every input row it reads) */
    if (dt == AGC_F32) {
        const uint32_t *u = (const uint32_t *)p;
        uint32_t acc = 0;
        for (int64_t i = 0; i < n; i++)
            acc |= (u[i] & 0x7f800000u) + 0x00800000u;
        return !(acc >> 31);
    }
    const uint64_t *u = (const uint64_t *)p;
    uint64_t acc = 0;
    for (int64_t i = 0; i < n; i++)
        acc |= (u[i] & 0x7ff0000000000000u) + 0x0010000000000000u;
    return !(acc >> 63);
}

/* Loops written once in plain C (Winograd's transforms, the depthwise loops) are instantiated per tier by
 * a macro taking (T, S, ATTR): suffix S for portable, S##_avx2 compiled for AVX2, so the compiler
 * vectorises them 8 floats wide. They only add, subtract and multiply, uncontracted (-std=c11 turns FMA
 * contraction off), so every tier gives the same bits. The AVX-512 tier runs the AVX2 instance: compiled
 * for AVX-512 (512- or 256-bit vectors) the depthwise loops measured slower, 5.3-5.4 ms against 4.7-4.8
 * for 32x64x56x56 3x3 on 2 threads (portable 5.8), their rows being short.
 * CONV_TIERS(DEF, T, S) defines the instances; CONV_PICK(fn, S, ...) calls the active tier's. */
#if AGC_HAVE_X86
#define CONV_TIERS(DEF, T, S) DEF(T, S, ) DEF(T, S##_avx2, AGC_TARGET_AVX2)
#define CONV_PICK(fn, S, ...) (agc_isa_active() >= AGC_ISA_AVX2 ? fn##_##S##_avx2(__VA_ARGS__) : fn##_##S(__VA_ARGS__))
#else
#define CONV_TIERS(DEF, T, S) DEF(T, S, )
#define CONV_PICK(fn, S, ...) fn##_##S(__VA_ARGS__)
#endif

static inline int conv_is_pointwise(const agc_conv2d_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->stride_h == 1 && g->stride_w == 1 && g->pad_h == 0 && g->pad_w == 0
        && g->oh == g->h && g->ow == g->w;
}

/* conv_im2col.c: the three passes through a column buffer (or none for a pointwise geometry), and the
 * bytes that buffer and its companions take */
int agc_conv_forward_gemm(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight,
                          const void *bias, void *out);
int agc_conv_backward_data_gemm(agc_dtype dt, const agc_conv2d_geom *g, const void *grad_out, const void *weight,
                                const void *bias, void *out);
int agc_conv_backward_weight_gemm(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *grad_out,
                                  void *out);
int64_t agc_conv_gemm_workspace_bytes(const agc_conv2d_geom *g, int64_t es);

/* conv_direct.c */
int agc_conv_use_direct(agc_dtype dt, const agc_conv2d_geom *g);
int64_t agc_conv_direct_workspace_bytes(const agc_conv2d_geom *g, int64_t es, int64_t mr, int64_t nr, int nthr);
int agc_conv_forward_direct(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight,
                            const void *bias, void *out);

/* conv_oclanes.c, and its per-ISA kernels (conv_oclanes_vec.h): fn[SW - 1][R - 1][X - 1] computes an
 * R x X block of output pixels at column stride SW for 16 output channels (R <= rmax, X <= xmax,
 * R X <= acc): pixel (r, j) of channel l, bias[l] added, to out[l ocs + r ors + j] for l < ocn. room: the
 * columns from out to the end of its output row; a kernel may write past X there (AVX2 stores whole
 * vectors, masked stores being slow), so blocks of a row must run left to right */
#define OCL_LANES 16
#define OCL_TAB_R 2
#define OCL_TAB_X 14
typedef void (*agc_ocl_fn)(const float *w, const int64_t *koff, int64_t K, const float *x0, int64_t rs,
                           float *out, int64_t ocs, int64_t ors, int ocn, const float *bias, int64_t room);
typedef struct {
    int xmax, rmax, acc;
    agc_ocl_fn fn[2][OCL_TAB_R][OCL_TAB_X];
    /* where a vector holds 8 channels (AVX2): kernels for at most 8 channels, one vector a pixel, one row of
     * up to xmax_half pixels (fn_half[SW - 1][X - 1]); xmax_half 0 elsewhere */
    int xmax_half;
    agc_ocl_fn fn_half[2][OCL_TAB_X];
} agc_ocl_kernels;
/* The weight gradient's kernels (same files): wfn[SW - 1][KW == 5][R - 1] adds one image's contribution to
 * the gradient of R kernel rows x KW columns (column dilation 1) of one input channel, for 16 output
 * channels in lanes: tot[(r KW + b) 16 + l] += sum over output pixels (oy, ox), in that order, of
 * gT[(oy OW + ox) 16 + l] x0[oy rs + r koff_r + ox SW + b] (an fma chain from zero per image, then added
 * to tot). rmax[KW == 5] bounds R; the half kernels (xmax_half > 0: AVX2) use lanes 0..7 only. */
#define OCLW_TAB_R 9
typedef void (*agc_oclw_fn)(const float *gT, const float *x0, int64_t koff_r, int64_t rs, int64_t OH, int64_t OW,
                            float *tot);
typedef struct {
    int rmax[2], rmax_half[2];
    agc_oclw_fn fn[2][2][OCLW_TAB_R], fn_half[2][2][OCLW_TAB_R];
    /* where this tier measured faster than im2col + GEMM: at most max_pixels output pixels an image
     * (conv_oclanes.c, agc_conv_use_oclanes_wgrad) */
    int max_pixels;
} agc_oclw_kernels;
#if AGC_HAVE_X86
extern const agc_ocl_kernels agc_ocl_kernels_avx2, agc_ocl_kernels_avx512;
extern const agc_oclw_kernels agc_oclw_kernels_avx2, agc_oclw_kernels_avx512;
#endif
int agc_conv_use_oclanes(agc_dtype dt, const agc_conv2d_geom *g);
int64_t agc_conv_oclanes_workspace_bytes(const agc_conv2d_geom *g, int nthr);
int agc_conv_forward_oclanes(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight,
                             const void *bias, void *out);
int agc_conv_use_oclanes_wgrad(agc_dtype dt, const agc_conv2d_geom *g);
int64_t agc_conv_oclanes_wgrad_workspace_bytes(const agc_conv2d_geom *g);
int agc_conv_backward_weight_oclanes(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *grad_out,
                                     void *out);

/* conv_winograd.c */
int agc_conv_wino_applies(agc_dtype dt, const agc_conv2d_geom *g);
int64_t agc_conv_wino_workspace_bytes(const agc_conv2d_geom *g, int64_t es, int nthr);
/* AGC_CONV_NONFINITE: x holds an inf or NaN (found while transforming it, so no separate pass reads
 * x); out is then partly written and the caller computes it through another path. The weights must be
 * checked finite beforehand (agc_conv_all_finite). */
#define AGC_CONV_NONFINITE 2
int agc_conv_forward_winograd(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight,
                              const void *bias, void *out);

/* conv_depthwise.c: one input channel per group */
int agc_conv_forward_depthwise(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight,
                               const void *bias, void *out);

#endif
