/* index.c: advanced indexing, gather/scatter, index_select/index_add, nonzero.
 * Two kernels do all the data movement; the binding expresses every op as one of them by choosing
 * strides over an ndim-d iteration space `shape` (the shape of the values read or written):
 *   agc_index_gather:  out[i] = x[X(i)]
 *   agc_index_put:     x[X(i)] = v[i]   (or += with accumulate)
 * where X(i) = sum_d i_d * sx[d] + sum_k idx_k[i] * xs[k] and idx_k[i] is index tensor k read with
 * its own strides over the same space (0 where it broadcasts). Example: gather along dim has
 * sx[dim] = 0 and one index tensor with xs[0] = the input's stride at dim; x[idx] on a 1-D x has
 * sx = {0} and one index. Dims of size 1 are dropped and dims contiguous with each other for every
 * operand are merged before the loops. A row whose index values are constant (every index stride 0
 * on the innermost dim, like an embedding lookup) is a strided row copy from one computed offset.
 * Data moves by item size (1, 4 or 8 bytes), so gather and assignment work for every dtype.
 *
 * Aliasing: out and v must not overlap x; the written x must not overlap itself (the binding
 * checks). Index values must be in range (the binding checks them with agc_index_check first).
 *
 * Threads (above INDEX_PAR elements). Gather: chunks of the flat iteration space. Put: a dim with
 * sx[d] != 0 is "parallel" (distinct coordinates there can never reach the same x element, since
 * they select different elements along a dim of x that no index addresses); the others are
 * "serial". Each thread takes a range of the parallel coordinates and runs all the serial ones in
 * row-major order, so every x element receives its contributions in row-major order of the
 * iteration space whatever the thread count: the same order as the single-threaded loop, hence
 * bitwise-identical results for accumulation and last-write-wins for duplicate assignment.
 * Tests: tests/test_index.py. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define INDEX_PAR 65536
#define NOPS_MAX (AGC_MAX_DIMS + 2) /* operand 0: x, 1: out or v, 2..: index tensors */

typedef struct {
    int ndim; /* >= 1; dim ndim-1 innermost */
    int nidx;
    int64_t numel;
    int64_t shape[AGC_MAX_DIMS];
    int64_t st[NOPS_MAX][AGC_MAX_DIMS]; /* strides in elements */
    const int64_t *idx[AGC_MAX_DIMS];
    int64_t xs[AGC_MAX_DIMS];
} plan;

/* Fill a plan from the kernel arguments: drop size-1 dims, merge dims contiguous with each other for
 * every operand. */
static void plan_init(plan *p, int ndim, const int64_t *shape, const int64_t *sx, const int64_t *so, int nidx,
                      const int64_t *const *idx, const int64_t *sidx, const int64_t *xs)
{
    const int nops = 2 + nidx;
    int64_t sh[AGC_MAX_DIMS];
    int64_t st[NOPS_MAX][AGC_MAX_DIMS];
    int nd = 0;
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) numel *= shape[d];
    /* innermost first, reversed below */
    for (int d = ndim - 1; d >= 0; d--) {
        if (shape[d] == 1) continue;
        int64_t s[NOPS_MAX];
        s[0] = sx[d];
        s[1] = so[d];
        for (int k = 0; k < nidx; k++) s[2 + k] = sidx[(int64_t)k * ndim + d];
        if (nd > 0) {
            int merge = 1;
            for (int k = 0; k < nops; k++)
                if (s[k] != st[k][nd - 1] * sh[nd - 1]) {
                    merge = 0;
                    break;
                }
            if (merge) {
                sh[nd - 1] *= shape[d];
                continue;
            }
        }
        sh[nd] = shape[d];
        for (int k = 0; k < nops; k++) st[k][nd] = s[k];
        nd++;
    }
    if (nd == 0) {
        sh[0] = 1;
        for (int k = 0; k < nops; k++) st[k][0] = 0;
        nd = 1;
    }
    p->ndim = nd;
    p->nidx = nidx;
    p->numel = numel;
    for (int d = 0; d < nd; d++) {
        p->shape[d] = sh[nd - 1 - d];
        for (int k = 0; k < nops; k++) p->st[k][d] = st[k][nd - 1 - d];
    }
    for (int k = 0; k < nidx; k++) {
        p->idx[k] = idx[k];
        p->xs[k] = xs[k];
    }
}

/* The same plan with the parallel dims (x stride != 0) moved outside the serial ones, each group in
 * its original order. Returns the number of parallel coordinates (product of their sizes). */
static int64_t plan_parallel_first(const plan *p, plan *q)
{
    const int nops = 2 + p->nidx;
    *q = *p;
    int n = 0;
    int64_t npar = 1;
    for (int pass = 0; pass < 2; pass++)
        for (int d = 0; d < p->ndim; d++) {
            int par = p->st[0][d] != 0;
            if (par != (pass == 0)) continue;
            q->shape[n] = p->shape[d];
            for (int k = 0; k < nops; k++) q->st[k][n] = p->st[k][d];
            if (par) npar *= p->shape[d];
            n++;
        }
    return npar;
}

/* Row visitor: n elements starting at element offsets (ox, oo) with inner strides (sx, so); when
 * `fixed` the index values are constant along the row and already folded into ox; otherwise
 * ip[k] points at index k's first value for the row, with inner strides is[k]. */
typedef struct {
    const plan *p;
    char *x;
    char *o;
    int64_t isz;
    int accumulate;
    agc_dtype dt;
} run_ctx;

#define COPY_ROW(T)                                                                                  \
    do {                                                                                             \
        T *xp = (T *)c->x, *op = (T *)c->o;                                                          \
        if (fixed) {                                                                                 \
            if (put)                                                                                 \
                for (int64_t j = 0; j < n; j++) xp[ox + j * sx] = op[oo + j * so];                   \
            else                                                                                     \
                for (int64_t j = 0; j < n; j++) op[oo + j * so] = xp[ox + j * sx];                   \
        } else {                                                                                     \
            for (int64_t j = 0; j < n; j++) {                                                        \
                int64_t off = ox + j * sx;                                                           \
                for (int k = 0; k < nidx; k++) off += ip[k][j * is[k]] * p->xs[k];                   \
                if (put)                                                                             \
                    xp[off] = op[oo + j * so];                                                       \
                else                                                                                 \
                    op[oo + j * so] = xp[off];                                                       \
            }                                                                                        \
        }                                                                                            \
    } while (0)

#define ACC_ROW(T)                                                                                   \
    do {                                                                                             \
        T *xp = (T *)c->x;                                                                           \
        const T *vp = (const T *)c->o;                                                               \
        if (fixed) {                                                                                 \
            for (int64_t j = 0; j < n; j++) xp[ox + j * sx] += vp[oo + j * so];                      \
        } else {                                                                                     \
            for (int64_t j = 0; j < n; j++) {                                                        \
                int64_t off = ox + j * sx;                                                           \
                for (int k = 0; k < nidx; k++) off += ip[k][j * is[k]] * p->xs[k];                   \
                xp[off] += vp[oo + j * so];                                                          \
            }                                                                                        \
        }                                                                                            \
    } while (0)

/* uint8 accumulation wraps modulo 256 (like torch); written without int promotion surprises */
#define ACC_ROW_U8()                                                                                 \
    do {                                                                                             \
        uint8_t *xp = (uint8_t *)c->x;                                                               \
        const uint8_t *vp = (const uint8_t *)c->o;                                                   \
        for (int64_t j = 0; j < n; j++) {                                                            \
            int64_t off = ox + j * sx;                                                               \
            if (!fixed)                                                                              \
                for (int k = 0; k < nidx; k++) off += ip[k][j * is[k]] * p->xs[k];                   \
            xp[off] = (uint8_t)(xp[off] + vp[oo + j * so]);                                          \
        }                                                                                            \
    } while (0)

static void do_row(const run_ctx *c, int put, int64_t n, int64_t ox, int64_t oo, int fixed,
                   const int64_t *const *ip, const int64_t *is)
{
    const plan *p = c->p;
    const int nd = p->ndim, nidx = p->nidx;
    const int64_t sx = p->st[0][nd - 1], so = p->st[1][nd - 1];
    if (put && c->accumulate) {
        switch (c->dt) {
        case AGC_F32: ACC_ROW(float); break;
        case AGC_F64: ACC_ROW(double); break;
        case AGC_I64: ACC_ROW(uint64_t); break; /* wraps like torch, without signed overflow */
        case AGC_I32: {
            /* int32 sums wrap like torch; add in uint32 to avoid signed overflow */
            uint32_t *xp = (uint32_t *)c->x;
            const uint32_t *vp = (const uint32_t *)c->o;
            for (int64_t j = 0; j < n; j++) {
                int64_t off = ox + j * sx;
                if (!fixed)
                    for (int k = 0; k < nidx; k++) off += ip[k][j * is[k]] * p->xs[k];
                xp[off] += vp[oo + j * so];
            }
            break;
        }
        case AGC_U8: ACC_ROW_U8(); break;
        default: break; /* bool: rejected by the caller */
        }
        return;
    }
    switch (c->isz) {
    case 1: COPY_ROW(uint8_t); break;
    case 4: COPY_ROW(uint32_t); break;
    default: COPY_ROW(uint64_t); break;
    }
}

/* Visit flat positions [begin, end) of the plan's space row by row. */
static void run_range(const run_ctx *c, int put, int64_t begin, int64_t end)
{
    const plan *p = c->p;
    const int nd = p->ndim, nidx = p->nidx;
    const int64_t inner = p->shape[nd - 1];
    int fixed = 1;
    for (int k = 0; k < nidx; k++)
        if (p->st[2 + k][nd - 1] != 0) fixed = 0;
    int64_t is[AGC_MAX_DIMS];
    for (int k = 0; k < nidx; k++) is[k] = p->st[2 + k][nd - 1];
    int64_t coord[AGC_MAX_DIMS];
    int64_t rest = begin;
    for (int d = nd - 1; d >= 0; d--) {
        coord[d] = rest % p->shape[d];
        rest /= p->shape[d];
    }
    int64_t pos = begin;
    while (pos < end) {
        int64_t ox = 0, oo = 0;
        const int64_t *ip[AGC_MAX_DIMS];
        for (int d = 0; d < nd; d++) {
            ox += coord[d] * p->st[0][d];
            oo += coord[d] * p->st[1][d];
        }
        for (int k = 0; k < nidx; k++) {
            int64_t oi = 0;
            for (int d = 0; d < nd; d++) oi += coord[d] * p->st[2 + k][d];
            ip[k] = p->idx[k] + oi;
            if (fixed) ox += ip[k][0] * p->xs[k];
        }
        int64_t n = inner - coord[nd - 1];
        if (n > end - pos) n = end - pos;
        do_row(c, put, n, ox, oo, fixed, ip, is);
        pos += n;
        coord[nd - 1] = 0;
        for (int d = nd - 2; d >= 0; d--) {
            if (++coord[d] < p->shape[d]) break;
            coord[d] = 0;
        }
    }
}

static int check_args(agc_dtype dt, int ndim, int nidx)
{
    if ((int)dt < 0 || dt >= AGC_NDTYPES) return AGC_EUNSUPPORTED;
    if (ndim < 0 || ndim > AGC_MAX_DIMS || nidx < 0 || nidx > AGC_MAX_DIMS) return AGC_EUNSUPPORTED;
    return AGC_OK;
}

int agc_index_gather(agc_dtype dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx, int nidx,
                     const int64_t *const *idx, const int64_t *sidx, const int64_t *xs, void *out,
                     const int64_t *so)
{
    int rc = check_args(dt, ndim, nidx);
    if (rc) return rc;
    plan p;
    plan_init(&p, ndim, shape, sx, so, nidx, idx, sidx, xs);
    if (p.numel == 0) return AGC_OK;
    run_ctx c = {&p, (char *)x, (char *)out, (int64_t)agc_dtype_size(dt), 0, dt};
    const int64_t numel = p.numel;
    int nt = agc_threads_for(numel, INDEX_PAR);
    if (nt <= 1) {
        run_range(&c, 0, 0, numel);
        return AGC_OK;
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), T = omp_get_num_threads();
        int64_t chunk = (numel + T - 1) / T;
        chunk = (chunk + AGC_CHUNK_ALIGN - 1) / AGC_CHUNK_ALIGN * AGC_CHUNK_ALIGN;
        int64_t b = (int64_t)t * chunk, e = b + chunk;
        if (b > numel) b = numel;
        if (e > numel) e = numel;
        if (b < e) run_range(&c, 0, b, e);
    }
#endif
    return AGC_OK;
}

int agc_index_put(agc_dtype dt, int accumulate, int ndim, const int64_t *shape, const void *v, const int64_t *sv,
                  int nidx, const int64_t *const *idx, const int64_t *sidx, const int64_t *xs, void *x,
                  const int64_t *sx)
{
    int rc = check_args(dt, ndim, nidx);
    if (rc) return rc;
    if (accumulate && dt == AGC_BOOL) return AGC_EUNSUPPORTED;
    plan p;
    plan_init(&p, ndim, shape, sx, sv, nidx, idx, sidx, xs);
    if (p.numel == 0) return AGC_OK;
    run_ctx c = {&p, (char *)x, (char *)v, (int64_t)agc_dtype_size(dt), accumulate, dt};
    int nt = agc_threads_for(p.numel, INDEX_PAR);
    plan q;
    int64_t npar = nt > 1 ? plan_parallel_first(&p, &q) : 1;
    if (nt <= 1 || npar < 2) {
        run_range(&c, 1, 0, p.numel);
        return AGC_OK;
    }
#ifdef _OPENMP
    const int64_t nser = p.numel / npar;
    run_ctx cq = c;
    cq.p = &q;
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), T = omp_get_num_threads();
        int64_t chunk = (npar + T - 1) / T;
        int64_t b = (int64_t)t * chunk, e = b + chunk;
        if (b > npar) b = npar;
        if (e > npar) e = npar;
        if (b < e) run_range(&cq, 1, b * nser, e * nser);
    }
#endif
    return AGC_OK;
}

/* ---------------------------------------------------------------- index validation */
int agc_index_check(int ndim, const int64_t *shape, const int64_t *idx, const int64_t *sidx, int64_t lo,
                    int64_t hi, int64_t *bad, int64_t *nneg)
{
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) numel *= shape[d];
    int64_t coord[AGC_MAX_DIMS] = {0};
    int64_t first_bad = -1, neg = 0;
    for (int64_t i = 0; i < numel; i++) {
        int64_t off = 0;
        for (int d = 0; d < ndim; d++) off += coord[d] * sidx[d];
        int64_t v = idx[off];
        if (v < 0) neg++;
        if ((v < lo || v >= hi) && first_bad < 0) first_bad = i;
        for (int d = ndim - 1; d >= 0; d--) {
            if (++coord[d] < shape[d]) break;
            coord[d] = 0;
        }
    }
    *bad = first_bad;
    *nneg = neg;
    return AGC_OK;
}

int agc_index_wrap(int ndim, const int64_t *shape, const int64_t *idx, const int64_t *sidx, int64_t size,
                   int64_t *out)
{
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) numel *= shape[d];
    int64_t coord[AGC_MAX_DIMS] = {0};
    for (int64_t i = 0; i < numel; i++) {
        int64_t off = 0;
        for (int d = 0; d < ndim; d++) off += coord[d] * sidx[d];
        int64_t v = idx[off];
        out[i] = v < 0 ? v + size : v;
        for (int d = ndim - 1; d >= 0; d--) {
            if (++coord[d] < shape[d]) break;
            coord[d] = 0;
        }
    }
    return AGC_OK;
}

/* ---------------------------------------------------------------- nonzero */
/* element i of a strided view is nonzero; floats compare as values (-0.0 is zero, NaN is nonzero) */
static inline int is_nonzero(agc_dtype dt, const char *base, int64_t off)
{
    switch (dt) {
    case AGC_F32: return ((const float *)base)[off] != 0;
    case AGC_F64: return ((const double *)base)[off] != 0;
    case AGC_I64: return ((const int64_t *)base)[off] != 0;
    case AGC_I32: return ((const int32_t *)base)[off] != 0;
    default: return ((const uint8_t *)base)[off] != 0;
    }
}

int agc_count_nonzero(agc_dtype dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx,
                      int64_t *count)
{
    if ((int)dt < 0 || dt >= AGC_NDTYPES) return AGC_EUNSUPPORTED;
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) numel *= shape[d];
    int64_t coord[AGC_MAX_DIMS] = {0};
    int64_t n = 0;
    for (int64_t i = 0; i < numel; i++) {
        int64_t off = 0;
        for (int d = 0; d < ndim; d++) off += coord[d] * sx[d];
        n += is_nonzero(dt, (const char *)x, off);
        for (int d = ndim - 1; d >= 0; d--) {
            if (++coord[d] < shape[d]) break;
            coord[d] = 0;
        }
    }
    *count = n;
    return AGC_OK;
}

int agc_nonzero(agc_dtype dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx, int64_t count,
                int64_t *out)
{
    if ((int)dt < 0 || dt >= AGC_NDTYPES) return AGC_EUNSUPPORTED;
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) numel *= shape[d];
    int64_t coord[AGC_MAX_DIMS] = {0};
    int64_t n = 0;
    for (int64_t i = 0; i < numel && n < count; i++) {
        int64_t off = 0;
        for (int d = 0; d < ndim; d++) off += coord[d] * sx[d];
        if (is_nonzero(dt, (const char *)x, off)) {
            for (int d = 0; d < ndim; d++) out[n * ndim + d] = coord[d];
            n++;
        }
        for (int d = ndim - 1; d >= 0; d--) {
            if (++coord[d] < shape[d]) break;
            coord[d] = 0;
        }
    }
    return AGC_OK;
}
