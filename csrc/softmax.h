/* softmax.h: the per-tier float32 and float64 softmax kernels (softmax_vec.h instances) that softmax.c picks from
 * by agc_isa_active(); shared by softmax.c and softmax_vec.h only. */
#ifndef AGC_SOFTMAX_H
#define AGC_SOFTMAX_H

#include "internal.h"

#define SM_BLK 512 /* rows: float32 sums run in float blocks of this many elements, added into a double */
#define SM_TW 256  /* inner > 1: columns per tile (a multiple of every vector width) */
#define SM_RB 64   /* inner > 1: rows per float block of the column sums */
#define SM_LD 16   /* float64 rows: logical double lanes of the sums (every tier) */

typedef struct {
    void (*row)(int log_, const float *x, float *y, int64_t n);
    void (*tile)(int log_, const float *x, float *y, int64_t n, int64_t inner, int64_t tw);
    void (*bwd_row)(int log_, const float *y, const float *g, float *out, int64_t n);
    /* the same three for float64 (sums in double lanes) */
    void (*row_d)(int log_, const double *x, double *y, int64_t n);
    void (*tile_d)(int log_, const double *x, double *y, int64_t n, int64_t inner, int64_t tw);
    void (*bwd_row_d)(int log_, const double *y, const double *g, double *out, int64_t n);
} agc_softmax_kernels;

#if AGC_HAVE_X86
extern const agc_softmax_kernels agc_softmax_kernels_avx2, agc_softmax_kernels_avx512;
#endif

#endif
