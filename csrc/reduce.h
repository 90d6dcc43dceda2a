/* reduce.h: the per-tier float32 (and float64 row/column-sum and max/min) reduction kernels
 * (reduce_vec.h instances) that reduce.c picks from
 * by agc_isa_active(); shared by reduce.c and reduce_vec.h only. */
#ifndef AGC_REDUCE_H
#define AGC_REDUCE_H

#include "internal.h"

#define RD_BLK 256  /* portable f32 row sums: elements per float block */
#define RD_VBLK 2048 /* vector-tier f32 row sums: elements per float block (32 per logical lane) */
#define RD_RB 64    /* f32 column sums: positions per float block */

/* What a sum adds per element: the first RD_NVSUM modes have vector-tier row kernels, the first
 * RD_NVCOL column kernels. M_SQD: float32 squares summed in double (float32 norm2); M_IDD: float32
 * values summed in double (var's mean, batch norm's channel sums);
 * M_DEV2D: float32 squared deviations summed in double, var's fallback when the float blocks of
 * M_DEV2 overflow (var of [1e30, 0, 1]). */
enum { M_ID, M_SQ, M_ABS, M_DEV2, M_EXPC, M_SQD, M_IDD, M_POWP, M_NZ, M_SQS, M_DEV2D };
#define RD_NVSUM 7 /* M_ID .. M_IDD: contiguous row sums */
#define RD_NVCOL 5 /* M_ID .. M_EXPC: column sums */
#define RD_NVSUMD 5 /* M_ID .. M_EXPC: float64 contiguous row sums */

typedef struct {
    /* sum of the mode's term over the contiguous run x[0..n), c the per-output constant (dev2, expc) */
    double (*lsum[RD_NVSUM])(const float *x, int64_t n, float c);
    /* the same for float64 runs */
    double (*lsumd[RD_NVSUMD])(const double *x, int64_t n, double c);
    /* max (ismax) or min of a contiguous run of n >= 1 elements: *m, and when needix (or the extreme
     * is a zero, whose sign must be the first one's) *k, the first position holding it. Returns 0 and
     * sets nothing when the run holds a NaN (the caller's scalar loop finds the first). */
    int (*lext)(const float *x, int64_t n, int ismax, int needix, float *m, int64_t *k);
    /* the same for float64 runs */
    int (*lextd)(const double *x, int64_t n, int ismax, int needix, double *m, int64_t *k);
    /* column sums: for positions x, x + s, ... (n of them), a[j] += term(row[j]) for the G outputs;
     * every RD_RB positions (counted by *cnt across calls) the float block totals go into tot */
    void (*csum[RD_NVCOL])(const float *x, int64_t n, int64_t s, int64_t G, const float *c, float *a,
                           double *tot, int64_t *cnt);
    /* the same for float64 (p unused: the portable kernels' parameter list) */
    void (*csumd[RD_NVCOL])(const double *x, int64_t n, int64_t s, int64_t G, const double *c, double p,
                            double *a, double *tot, int64_t *cnt);
    /* column max/min: positions pos0, pos0 + 1, ... (n of them, rows x, x + s, ...) update the running
     * extremes mv and their positions pv (floats: exact below 2^24) of the G outputs; pos0 == 0 starts
     * them from the first row */
    void (*cext)(const float *x, int64_t n, int64_t s, int64_t G, int ismax, int64_t pos0, float *mv,
                 float *pv);
} agc_reduce_kernels;

#if AGC_HAVE_X86
extern const agc_reduce_kernels agc_reduce_kernels_avx2, agc_reduce_kernels_avx512;
#endif

#endif
