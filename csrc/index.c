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
 * Data moves by item size (1, 2, 4 or 8 bytes), so gather and assignment work for every dtype.
 *
 * Aliasing: out and v must not overlap x; the written x must not overlap itself (the binding
 * checks). Index values must be in range (the binding checks them with agc_index_check first).
 *
 * Threads (above INDEX_PAR elements). Gather: chunks of the flat iteration space. Put: a dim with
 * sx[d] != 0 is "parallel": distinct coordinates there can never reach the same x element, since
 * they select different elements along a dim of x that no index addresses. Threads split the
 * largest parallel dim into slabs and walk their slab in the usual row-major order, so every x
 * element gets its contributions from one thread, in row-major order of the iteration space, as in
 * the single-threaded loop: bitwise-identical sums for any thread count, and the same last write
 * for duplicate assignments.
 * Reading indices: agc_index_check/agc_index_wrap validate and normalise index tensors for the
 * binding; agc_count_nonzero/agc_nonzero turn masks into coordinates (single-threaded).
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

/* The parallel dim (x stride != 0) to split between threads: the largest, -1 if none has 2 or more
 * coordinates. */
static int pick_parallel_dim(const plan *p)
{
    int best = -1;
    for (int d = 0; d < p->ndim; d++)
        if (p->st[0][d] != 0 && p->shape[d] >= 2 && (best < 0 || p->shape[d] > p->shape[best])) best = d;
    return best;
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
            /* unit-stride rows (embedding rows, row assignment) as memcpy / a plain fill loop */    \
            if (put && sx == 1 && so == 1)                                                           \
                memcpy(xp + ox, op + oo, (size_t)n * sizeof(T));                                     \
            else if (put && sx == 1 && so == 0) {                                                    \
                const T v0 = op[oo];                                                                 \
                for (int64_t j = 0; j < n; j++) xp[ox + j] = v0;                                     \
            } else if (put)                                                                          \
                for (int64_t j = 0; j < n; j++) xp[ox + j * sx] = op[oo + j * so];                   \
            else if (sx == 1 && so == 1)                                                             \
                memcpy(op + oo, xp + ox, (size_t)n * sizeof(T));                                     \
            else                                                                                     \
                for (int64_t j = 0; j < n; j++) op[oo + j * so] = xp[ox + j * sx];                   \
        } else if (nidx == 1) {                                                                      \
            /* one index (gather/scatter/index_select/x[idx]): no loop over index tensors */         \
            const int64_t *i0 = ip[0], s0 = is[0], x0 = p->xs[0];                                    \
            if (put)                                                                                 \
                for (int64_t j = 0; j < n; j++) xp[ox + j * sx + i0[j * s0] * x0] = op[oo + j * so]; \
            else                                                                                     \
                for (int64_t j = 0; j < n; j++) op[oo + j * so] = xp[ox + j * sx + i0[j * s0] * x0]; \
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
        } else if (nidx == 1) {                                                                      \
            const int64_t *i0 = ip[0], s0 = is[0], x0 = p->xs[0];                                    \
            for (int64_t j = 0; j < n; j++) xp[ox + j * sx + i0[j * s0] * x0] += vp[oo + j * so];    \
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
    case 2: COPY_ROW(uint16_t); break;
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
        AGC_REGION_POINT();
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
    /* bool has no sum; float16/bfloat16 have no arithmetic here (the binding adds them in float32) */
    if (accumulate && (dt == AGC_BOOL || dt == AGC_F16 || dt == AGC_BF16)) return AGC_EUNSUPPORTED;
    plan p;
    plan_init(&p, ndim, shape, sx, sv, nidx, idx, sidx, xs);
    if (p.numel == 0) return AGC_OK;
    run_ctx c = {&p, (char *)x, (char *)v, (int64_t)agc_dtype_size(dt), accumulate, dt};
    int nt = agc_threads_for(p.numel, INDEX_PAR);
    int dp = nt > 1 ? pick_parallel_dim(&p) : -1;
    if (dp < 0) {
        run_range(&c, 1, 0, p.numel);
        return AGC_OK;
    }
#ifdef _OPENMP
    const int64_t len = p.shape[dp];
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), T = omp_get_num_threads();
        AGC_REGION_POINT();
        int64_t chunk = (len + T - 1) / T;
        int64_t b = (int64_t)t * chunk, e = b + chunk;
        if (b > len) b = len;
        if (e > len) e = len;
        if (b < e) {
            /* this thread's slab: coordinates [b, e) of dim dp, visited in the same row-major order */
            plan q = p;
            q.shape[dp] = e - b;
            q.numel = p.numel / len * (e - b);
            for (int k = 0; k < p.nidx; k++) q.idx[k] = p.idx[k] + b * p.st[2 + k][dp];
            run_ctx cq = c;
            cq.p = &q;
            cq.x = c.x + b * p.st[0][dp] * c.isz;
            cq.o = c.o + b * p.st[1][dp] * c.isz;
            run_range(&cq, 1, 0, q.numel);
        }
    }
#endif
    return AGC_OK;
}

/* ---------------------------------------------------------------- index validation, nonzero */
/* Row-wise walk of an ndim-d strided view: for each row along the innermost dim, `body` runs with
 * `row` (the element offset of the row's first element), `n` (its length), `s` (its stride) and
 * `base` (the row-major position of its first element). ndim == 0 is one row of one element. */
#define FOR_ROWS(ndim, shape, st, body)                                                              \
    do {                                                                                             \
        int64_t numel_ = 1;                                                                          \
        for (int d_ = 0; d_ < (ndim); d_++) numel_ *= (shape)[d_];                                   \
        if (numel_ == 0) break;                                                                      \
        const int64_t n = (ndim) > 0 ? (shape)[(ndim) - 1] : 1;                                      \
        const int64_t s = (ndim) > 0 ? (st)[(ndim) - 1] : 0;                                         \
        int64_t coord_[AGC_MAX_DIMS] = {0};                                                          \
        for (int64_t base = 0; base < numel_; base += n) {                                           \
            int64_t row = 0;                                                                         \
            for (int d_ = 0; d_ < (ndim) - 1; d_++) row += coord_[d_] * (st)[d_];                    \
            body;                                                                                    \
            for (int d_ = (ndim) - 2; d_ >= 0; d_--) {                                               \
                if (++coord_[d_] < (shape)[d_]) break;                                               \
                coord_[d_] = 0;                                                                      \
            }                                                                                        \
        }                                                                                            \
    } while (0)

int agc_index_check(int ndim, const int64_t *shape, const int64_t *idx, const int64_t *sidx, int64_t lo,
                    int64_t hi, int64_t *bad, int64_t *nneg)
{
    int64_t first_bad = -1, neg = 0;
    FOR_ROWS(ndim, shape, sidx, {
        const int64_t *p = idx + row;
        int64_t rowbad = 0;
        if (s == 1) { /* the usual contiguous index: a loop the compiler vectorises */
            for (int64_t j = 0; j < n; j++) {
                neg += p[j] < 0;
                rowbad |= (p[j] < lo) | (p[j] >= hi);
            }
        } else {
            for (int64_t j = 0; j < n; j++) {
                int64_t v = p[j * s];
                neg += v < 0;
                rowbad |= (v < lo) | (v >= hi);
            }
        }
        if (rowbad && first_bad < 0)
            for (int64_t j = 0; j < n; j++)
                if (p[j * s] < lo || p[j * s] >= hi) {
                    first_bad = base + j;
                    break;
                }
    });
    *bad = first_bad;
    *nneg = neg;
    return AGC_OK;
}

int agc_index_wrap(int ndim, const int64_t *shape, const int64_t *idx, const int64_t *sidx, int64_t size,
                   int64_t *out)
{
    FOR_ROWS(ndim, shape, sidx, {
        const int64_t *p = idx + row;
        for (int64_t j = 0; j < n; j++) {
            int64_t v = p[j * s];
            out[base + j] = v < 0 ? v + size : v;
        }
    });
    return AGC_OK;
}

/* Branch-free nonzero test over a row: n elements with stride s; bytes for bool/uint8, values for the
 * rest (so -0.0 is zero and NaN is nonzero). `act(nz)` runs for every element. */
#define NZ_ROW(T, act)                                                                               \
    do {                                                                                             \
        const T *p = (const T *)x + row;                                                             \
        for (int64_t j = 0; j < n; j++) {                                                            \
            const int64_t nz = p[j * s] != 0;                                                        \
            act;                                                                                     \
        }                                                                                            \
    } while (0)

#define NZ_ROW_NARROW(act)                                                                           \
    do {                                                                                             \
        const uint16_t *p = (const uint16_t *)x + row;                                               \
        for (int64_t j = 0; j < n; j++) {                                                            \
            const int64_t nz = (p[j * s] & 0x7fff) != 0;                                             \
            act;                                                                                     \
        }                                                                                            \
    } while (0)

#define NZ_DISPATCH(act)                                                                             \
    switch (dt) {                                                                                    \
    case AGC_F32: NZ_ROW(float, act); break;                                                         \
    case AGC_F64: NZ_ROW(double, act); break;                                                        \
    case AGC_I64: NZ_ROW(int64_t, act); break;                                                       \
    case AGC_I32: NZ_ROW(int32_t, act); break;                                                       \
    case AGC_F16: /* fall through: both narrow floats are zero when all but the sign bit are */     \
    case AGC_BF16: NZ_ROW_NARROW(act); break;                                                        \
    default: NZ_ROW(uint8_t, act); break;                                                            \
    }

int agc_count_nonzero(agc_dtype dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx,
                      int64_t *count)
{
    if ((int)dt < 0 || dt >= AGC_NDTYPES) return AGC_EUNSUPPORTED;
    int64_t c = 0;
    FOR_ROWS(ndim, shape, sx, { NZ_DISPATCH(c += nz) });
    *count = c;
    return AGC_OK;
}

int agc_nonzero(agc_dtype dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx, int64_t count,
                int64_t *out)
{
    if ((int)dt < 0 || dt >= AGC_NDTYPES) return AGC_EUNSUPPORTED;
    int64_t k = 0;
    int64_t c[AGC_MAX_DIMS];
    FOR_ROWS(ndim, shape, sx, {
        /* coordinates of the row start, then the innermost one per element */
        int64_t rest = base;
        for (int d = ndim - 1; d >= 0; d--) {
            c[d] = rest % shape[d];
            rest /= shape[d];
        }
        /* every element writes its coordinates into slot k, which only a nonzero one keeps (k
         * advances): no unpredictable branch */
        NZ_DISPATCH({
            if (k < count) {
                int64_t *o = out + k * ndim;
                for (int d = 0; d < ndim - 1; d++) o[d] = c[d];
                if (ndim > 0) o[ndim - 1] = j;
            }
            k += nz;
        })
    });
    return AGC_OK;
}

/* out (count elements, contiguous) = the elements of x whose mask element is nonzero, in row-major
 * order; the mask is read with its own strides over x's shape (0 where it broadcasts). Branch-free:
 * every element is written to slot k, which only a selected one keeps. */
#define MSEL_ROW(T)                                                                                  \
    do {                                                                                             \
        const T *xp = (const T *)x + xrow;                                                           \
        const uint8_t *mp = mask + row;                                                              \
        T *op = (T *)out;                                                                            \
        for (int64_t j = 0; j < n; j++) {                                                            \
            if (k < count) op[k] = xp[j * xs];                                                       \
            k += mp[j * s] != 0;                                                                     \
        }                                                                                            \
    } while (0)

int agc_masked_select(agc_dtype dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx,
                      const uint8_t *mask, const int64_t *sm, int64_t count, void *out)
{
    if ((int)dt < 0 || dt >= AGC_NDTYPES) return AGC_EUNSUPPORTED;
    const size_t isz = agc_dtype_size(dt);
    const int64_t xs = ndim > 0 ? sx[ndim - 1] : 0;
    int64_t k = 0;
    FOR_ROWS(ndim, shape, sm, {
        int64_t rest = base / n;
        int64_t xrow = 0;
        for (int d = ndim - 2; d >= 0; d--) {
            xrow += (rest % shape[d]) * sx[d];
            rest /= shape[d];
        }
        switch (isz) {
        case 1: MSEL_ROW(uint8_t); break;
        case 2: MSEL_ROW(uint16_t); break;
        case 4: MSEL_ROW(uint32_t); break;
        default: MSEL_ROW(uint64_t); break;
        }
    });
    return AGC_OK;
}
