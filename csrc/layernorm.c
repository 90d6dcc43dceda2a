/* layernorm.c: fused layer normalisation over the last dimension of a CONTIGUOUS (rows, d) array
 * (F.layer_norm's trailing normalized_shape flattened into d; group norm's groups are rows too):
 * the training forward (out, and per-row mean and rstd, kept for the backward) and the backward
 * (grad of x, and the column sums that are grad of weight and bias).
 *
 * Arithmetic: statistics and the backward in double for float32 and float64 alike, the float32
 * forward output in float lanes (layernorm_vec.h). The row kernels are one body compiled per tier: the portable instance here, AVX2
 * and AVX-512 in layernorm_avx2.c / layernorm_avx512.c, picked once per call from agc_isa_active();
 * the equality contract is in layernorm_vec.h.
 * Threads: rows are cut into blocks of ln_block_rows() rows, a count that depends on the shape only;
 * threads take whole blocks dynamically. A row's results never depend on the block, and the
 * backward's column sums go per block into their own partial arrays, added block by block in order
 * afterwards: every result is bitwise the same for any thread count.
 * Tests: tests/test_layer_norm.py. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "agc.h"
#define AGC_VEC_ISA AGC_VEC_PORTABLE
#include "vec.h"
#include "layernorm_vec.h"

/* threads from this many elements; a block holds at least LN_BLOCK elements (amortises the fork and
 * each block's partial column sums) and there are at most LN_MAXBLK blocks (bounds the partial sums'
 * memory by LN_MAXBLK * d doubles per sum) */
#define LN_PAR_MIN 32768
#define LN_BLOCK 32768
#define LN_MAXBLK 64

static const agc_ln_kernels *ln_kernels(void)
{
#if AGC_HAVE_X86
    const agc_isa isa = agc_isa_active();
    if (isa >= AGC_ISA_AVX512) return &agc_ln_kernels_avx512;
    if (isa >= AGC_ISA_AVX2) return &agc_ln_kernels_avx2;
#endif
    return &agc_ln_kernels_portable;
}

static int64_t ln_block_rows(int64_t rows, int64_t d)
{
    int64_t rb = (LN_BLOCK + d - 1) / (d > 0 ? d : 1);
    const int64_t least = (rows + LN_MAXBLK - 1) / LN_MAXBLK;
    if (rb < least) rb = least;
    return rb < 1 ? 1 : rb;
}

int agc_layer_norm_forward(agc_dtype dt, int64_t rows, int64_t d, const void *x, const void *weight,
                           const void *bias, double eps, void *out, double *mean, double *rstd)
{
    if (dt != AGC_F32 && dt != AGC_F64) return AGC_EUNSUPPORTED;
    if (d == 0) {
        for (int64_t r = 0; r < rows; r++) mean[r] = rstd[r] = NAN;
        return AGC_OK;
    }
    const agc_ln_kernels *k = ln_kernels();
    const int64_t rb = ln_block_rows(rows, d), nblk = (rows + rb - 1) / rb;
    const int nt = agc_threads_for(rows * d, LN_PAR_MIN);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int64_t blk = 0; blk < nblk; blk++) {
        AGC_REGION_POINT();
        const int64_t r1 = (blk + 1) * rb < rows ? (blk + 1) * rb : rows;
        for (int64_t r = blk * rb; r < r1; r++) {
            if (dt == AGC_F32)
                k->fwd_f32((const float *)x + r * d, (const float *)weight, (const float *)bias, (float *)out + r * d, d,
                           eps, mean + r, rstd + r);
            else
                k->fwd_f64((const double *)x + r * d, (const double *)weight, (const double *)bias,
                           (double *)out + r * d, d, eps, mean + r, rstd + r);
        }
    }
    return AGC_OK;
}

int agc_layer_norm_backward(agc_dtype dt, int64_t rows, int64_t d, const void *x, const void *g, const double *mean,
                            const double *rstd, const void *weight, void *gx, void *gw, void *gb)
{
    if (dt != AGC_F32 && dt != AGC_F64) return AGC_EUNSUPPORTED;
    const size_t es = dt == AGC_F32 ? sizeof(float) : sizeof(double);
    if (d == 0) return AGC_OK;
    if (rows == 0) {
        if (gw) memset(gw, 0, (size_t)d * es);
        if (gb) memset(gb, 0, (size_t)d * es);
        return AGC_OK;
    }
    const agc_ln_kernels *k = ln_kernels();
    const int64_t rb = ln_block_rows(rows, d), nblk = (rows + rb - 1) / rb;
    /* per block: d partial sums for gw, then d for gb */
    const int nsum = (gw != NULL) + (gb != NULL);
    double *part = NULL;
    if (nsum) {
        part = (double *)agc_alloc(nblk * nsum * d * (int64_t)sizeof(double));
        if (!part) return AGC_ENOMEM;
        memset(part, 0, (size_t)(nblk * nsum * d) * sizeof(double));
    }
    const int nt = agc_threads_for(rows * d, LN_PAR_MIN);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int64_t blk = 0; blk < nblk; blk++) {
        AGC_REGION_POINT();
        double *pw = gw ? part + blk * nsum * d : NULL;
        double *pb = gb ? part + blk * nsum * d + (gw ? d : 0) : NULL;
        const int64_t r1 = (blk + 1) * rb < rows ? (blk + 1) * rb : rows;
        for (int64_t r = blk * rb; r < r1; r++) {
            if (dt == AGC_F32)
                k->bwd_f32((const float *)x + r * d, (const float *)g + r * d, (const float *)weight, d, mean[r],
                           rstd[r], gx ? (float *)gx + r * d : NULL, pw, pb);
            else
                k->bwd_f64((const double *)x + r * d, (const double *)g + r * d, (const double *)weight, d, mean[r],
                           rstd[r], gx ? (double *)gx + r * d : NULL, pw, pb);
        }
    }
    if (nsum) {
        /* the blocks' partial sums, added in block order per column */
        const int ntc = agc_threads_for(nblk * nsum * d, LN_PAR_MIN);
#pragma omp parallel for num_threads(ntc) schedule(static)
        for (int64_t j = 0; j < nsum * d; j++) {
            double s = 0.0;
            for (int64_t blk = 0; blk < nblk; blk++) s += part[blk * nsum * d + j];
            void *dst = j < d && gw ? gw : gb;
            const int64_t jj = j < d ? j : j - d;
            if (dt == AGC_F32) ((float *)dst)[jj] = (float)s;
            else ((double *)dst)[jj] = s;
        }
        agc_free(part);
    }
    return AGC_OK;
}
