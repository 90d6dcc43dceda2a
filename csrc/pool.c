/* pool.c: 2-D max / average / adaptive pooling and their backward passes (contract in agc.h,
 * agc_pool2d_geom). Inputs and outputs are C-contiguous stacks of nc planes (nc = batch * channels);
 * a 1-D pool is the same call with h == 1. Outputs never alias inputs.
 * Max pools record the flat in-plane index of each window's max, so their backward is a scatter-add
 * by index (agc_pool_scatter_add) and the adjoint of that is a gather (agc_pool_gather): together they
 * make max pooling differentiable twice.
 * Threads: OpenMP over planes above a size threshold; each plane is computed by one thread in a fixed
 * order (backward scatters included), so no result depends on the thread count.
 * Tests: tests/test_conv.py. */
#include <math.h>
#include <string.h>

#include "internal.h"

#define POOL_OMP_MIN 32768

/* cond ? a : b as a conditional move: the hint says the condition is a coin flip */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 9
#define POOL_SELECT(cond, a, b) (__builtin_expect_with_probability((cond), 1, 0.5) ? (a) : (b))
#else
#define POOL_SELECT(cond, a, b) ((cond) ? (a) : (b))
#endif

/* Taps t in [0, k) of a window starting at s with dilation d that fall in [0, n): [*lo, *hi). */
static void tap_range(int64_t s, int64_t k, int64_t d, int64_t n, int64_t *lo, int64_t *hi)
{
    int64_t l = s < 0 ? (-s + d - 1) / d : 0;
    int64_t h = s >= n ? 0 : (n - s + d - 1) / d;
    if (h > k)
        h = k;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

#define POOL_KERNELS(T, S)                                                                                 \
    /* rows: the valid tap range [lo, hi) of every output row and column, computed once per call (the */ \
    /* divisions in tap_range cost more than the window itself for 2x2 pools) */                          \
    static void max_pool_##S(const agc_pool2d_geom *g, const T *x, T *out, int64_t *idx, const int64_t *rows, \
                             const int64_t *cols)                                                          \
    {                                                                                                      \
        const int64_t H = g->h, W = g->w, OH = g->oh, OW = g->ow, dh = g->dil_h, dw = g->dil_w;           \
        _Pragma("omp parallel for schedule(static) num_threads(agc_threads_for(g->nc * H * W, POOL_OMP_MIN))") \
        for (int64_t p = 0; p < g->nc; p++) {                                                              \
            AGC_PERTURB();                                                                                 \
            const T *xp = x + p * H * W;                                                                   \
            T *op = out + p * OH * OW;                                                                     \
            int64_t *ip = idx + p * OH * OW;                                                               \
            for (int64_t i = 0; i < OH; i++) {                                                             \
                const int64_t hs = i * g->stride_h - g->pad_h, alo = rows[2 * i], ahi = rows[2 * i + 1];   \
                for (int64_t j = 0; j < OW; j++) {                                                         \
                    const int64_t ws = j * g->stride_w - g->pad_w, blo = cols[2 * j], bhi = cols[2 * j + 1]; \
                    T best = (T)-INFINITY;                                                                 \
                    int64_t bi = -1;                                                                       \
                    if (alo < ahi && blo < bhi) {                                                          \
                        bi = (hs + alo * dh) * W + ws + blo * dw;                                          \
                        best = xp[bi];                                                                     \
                    }                                                                                      \
                    for (int64_t a = alo; a < ahi; a++) {                                                  \
                        const int64_t row = (hs + a * dh) * W + ws;                                        \
                        for (int64_t b = blo; b < bhi; b++) {                                              \
                            const T v = xp[row + b * dw];                                                  \
                            if (v > best || v != v) { /* NaN wins, the last one, as in torch */            \
                                best = v;                                                                  \
                                bi = row + b * dw;                                                         \
                            }                                                                              \
                        }                                                                                  \
                    }                                                                                      \
                    op[i * OW + j] = best;                                                                 \
                    ip[i * OW + j] = bi;                                                                   \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
                                                                                                           \
    /* 2x2 windows, stride 2, no padding or dilation: the common CNN pool, without the general loop's */  \
    /* per-window bookkeeping (measured 4x faster on (64, 16, 28, 28)) */                                  \
    static void max_pool_2x2_##S(const agc_pool2d_geom *g, const T *x, T *out, int64_t *idx)               \
    {                                                                                                      \
        const int64_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;                                          \
        _Pragma("omp parallel for schedule(static) num_threads(agc_threads_for(g->nc * H * W, POOL_OMP_MIN))") \
        for (int64_t p = 0; p < g->nc; p++) {                                                              \
            AGC_PERTURB();                                                                                 \
            const T *xp = x + p * H * W;                                                                   \
            for (int64_t i = 0; i < OH; i++) {                                                             \
                const T *r0 = xp + 2 * i * W, *r1 = r0 + W;                                                \
                T *op = out + (p * OH + i) * OW;                                                           \
                int64_t *ip = idx + (p * OH + i) * OW;                                                     \
                const int64_t i0 = 2 * i * W;                                                              \
                for (int64_t j = 0; j < OW; j++) {                                                         \
                    /* selects, not branches: with random data a branch per tap mispredicts half the time; */ \
                    /* the offset of the winner within the window is built arithmetically */              \
                    const int64_t c = 2 * j;                                                               \
                    const T v0 = r0[c], v1 = r0[c + 1], v2 = r1[c], v3 = r1[c + 1];                        \
                    const int t1 = (v1 > v0) | (v1 != v1);                                                 \
                    T best = POOL_SELECT(t1, v1, v0);                                                      \
                    int64_t off = t1;                                                                      \
                    const int t2 = (v2 > best) | (v2 != v2);                                               \
                    best = POOL_SELECT(t2, v2, best);                                                      \
                    off += t2 * (W - off);                                                                 \
                    const int t3 = (v3 > best) | (v3 != v3);                                               \
                    best = POOL_SELECT(t3, v3, best);                                                      \
                    off += t3 * (W + 1 - off);                                                             \
                    const int64_t bi = i0 + c + off;                                                       \
                    op[j] = best;                                                                          \
                    ip[j] = bi;                                                                            \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
                                                                                                           \
    /* torch's avg_pool2d window and divisor: the window is clipped to the padded input for the count, */  \
    /* then to the input for the sum */                                                                    \
    static void avg_pool_##S(const agc_pool2d_geom *g, int include_pad, int64_t div_override, const T *x,  \
                             T *out, int backward)                                                         \
    {                                                                                                      \
        const int64_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;                                          \
        _Pragma("omp parallel for schedule(static) num_threads(agc_threads_for(g->nc * H * W, POOL_OMP_MIN))")                     \
        for (int64_t p = 0; p < g->nc; p++) {                                                              \
            AGC_PERTURB();                                                                                 \
            const T *src = backward ? x + p * OH * OW : x + p * H * W;                                     \
            T *dst = backward ? out + p * H * W : out + p * OH * OW;                                       \
            if (backward)                                                                                  \
                memset(dst, 0, (size_t)(H * W) * sizeof(T));                                               \
            for (int64_t i = 0; i < OH; i++) {                                                             \
                int64_t hs = i * g->stride_h - g->pad_h, he = hs + g->kh;                                  \
                if (he > H + g->pad_h)                                                                     \
                    he = H + g->pad_h;                                                                     \
                const int64_t hspan = he - hs;                                                             \
                hs = hs < 0 ? 0 : hs;                                                                      \
                he = he > H ? H : he;                                                                      \
                for (int64_t j = 0; j < OW; j++) {                                                         \
                    int64_t ws = j * g->stride_w - g->pad_w, we = ws + g->kw;                              \
                    if (we > W + g->pad_w)                                                                 \
                        we = W + g->pad_w;                                                                 \
                    const int64_t wspan = we - ws;                                                         \
                    ws = ws < 0 ? 0 : ws;                                                                  \
                    we = we > W ? W : we;                                                                  \
                    if (hs >= he || ws >= we) {                                                            \
                        if (!backward)                                                                     \
                            dst[i * OW + j] = 0;                                                           \
                        continue;                                                                          \
                    }                                                                                      \
                    const int64_t count = div_override > 0 ? div_override                                  \
                                        : include_pad      ? hspan * wspan                                 \
                                                           : (he - hs) * (we - ws);                        \
                    if (backward) {                                                                        \
                        const T v = src[i * OW + j] / (T)count;                                            \
                        for (int64_t a = hs; a < he; a++)                                                  \
                            for (int64_t b = ws; b < we; b++)                                              \
                                dst[a * W + b] += v;                                                       \
                    } else {                                                                               \
                        T acc = 0;                                                                         \
                        for (int64_t a = hs; a < he; a++)                                                  \
                            for (int64_t b = ws; b < we; b++)                                              \
                                acc += src[a * W + b];                                                     \
                        dst[i * OW + j] = acc / (T)count;                                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
                                                                                                           \
    /* mode 0: average forward, 1: average backward (x is grad_out), 2: max forward */                     \
    static void adaptive_##S(int64_t nc, int64_t H, int64_t W, int64_t OH, int64_t OW, const T *x, T *out,  \
                             int64_t *idx, int mode)                                                       \
    {                                                                                                      \
        _Pragma("omp parallel for schedule(static) num_threads(agc_threads_for(nc * H * W, POOL_OMP_MIN))")                        \
        for (int64_t p = 0; p < nc; p++) {                                                                 \
            AGC_PERTURB();                                                                                 \
            const T *src = mode == 1 ? x + p * OH * OW : x + p * H * W;                                    \
            T *dst = mode == 1 ? out + p * H * W : out + p * OH * OW;                                      \
            if (mode == 1)                                                                                 \
                memset(dst, 0, (size_t)(H * W) * sizeof(T));                                               \
            for (int64_t i = 0; i < OH; i++) {                                                             \
                const int64_t hs = i * H / OH, he = ((i + 1) * H + OH - 1) / OH;                           \
                for (int64_t j = 0; j < OW; j++) {                                                         \
                    const int64_t ws = j * W / OW, we = ((j + 1) * W + OW - 1) / OW;                       \
                    const T count = (T)((he - hs) * (we - ws));                                            \
                    if (mode == 0) {                                                                       \
                        T acc = 0;                                                                         \
                        for (int64_t a = hs; a < he; a++)                                                  \
                            for (int64_t b = ws; b < we; b++)                                              \
                                acc += src[a * W + b];                                                     \
                        dst[i * OW + j] = acc / count;                                                     \
                    } else if (mode == 1) {                                                                \
                        const T v = src[i * OW + j] / count;                                               \
                        for (int64_t a = hs; a < he; a++)                                                  \
                            for (int64_t b = ws; b < we; b++)                                              \
                                dst[a * W + b] += v;                                                       \
                    } else {                                                                               \
                        T best = (T)-INFINITY;                                                             \
                        int64_t bi = -1;                                                                   \
                        for (int64_t a = hs; a < he; a++)                                                  \
                            for (int64_t b = ws; b < we; b++) {                                            \
                                const T v = src[a * W + b];                                                \
                                if (bi < 0 || v > best || v != v) {                                        \
                                    best = v;                                                              \
                                    bi = a * W + b;                                                        \
                                }                                                                          \
                            }                                                                              \
                        dst[i * OW + j] = best;                                                            \
                        idx[p * OH * OW + i * OW + j] = bi;                                                \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
                                                                                                           \
    static void scatter_##S(int64_t nc, int64_t in_size, int64_t out_size, const T *g, const int64_t *idx, \
                            T *out)                                                                        \
    {                                                                                                      \
        _Pragma("omp parallel for schedule(static) num_threads(agc_threads_for(nc * (in_size + out_size), POOL_OMP_MIN))")         \
        for (int64_t p = 0; p < nc; p++) {                                                                 \
            AGC_PERTURB();                                                                                 \
            T *dst = out + p * in_size;                                                                    \
            const T *gp = g + p * out_size;                                                                \
            const int64_t *ip = idx + p * out_size;                                                        \
            memset(dst, 0, (size_t)in_size * sizeof(T));                                                   \
            for (int64_t k = 0; k < out_size; k++)                                                         \
                if (ip[k] >= 0 && ip[k] < in_size)                                                         \
                    dst[ip[k]] += gp[k];                                                                   \
        }                                                                                                  \
    }                                                                                                      \
                                                                                                           \
    static void gather_##S(int64_t nc, int64_t in_size, int64_t out_size, const T *x, const int64_t *idx,  \
                           T *out)                                                                         \
    {                                                                                                      \
        _Pragma("omp parallel for schedule(static) num_threads(agc_threads_for(nc * out_size, POOL_OMP_MIN))")                     \
        for (int64_t p = 0; p < nc; p++) {                                                                 \
            AGC_PERTURB();                                                                                 \
            const T *xp = x + p * in_size;                                                                 \
            const int64_t *ip = idx + p * out_size;                                                        \
            T *dst = out + p * out_size;                                                                   \
            for (int64_t k = 0; k < out_size; k++)                                                         \
                dst[k] = ip[k] >= 0 && ip[k] < in_size ? xp[ip[k]] : (T)0;                                                 \
        }                                                                                                  \
    }

POOL_KERNELS(float, f32)
POOL_KERNELS(double, f64)

int agc_max_pool2d(agc_dtype dt, const agc_pool2d_geom *g, const void *x, void *out, int64_t *idx)
{
    if (dt != AGC_F32 && dt != AGC_F64)
        return AGC_EUNSUPPORTED;
    if (g->kh == 2 && g->kw == 2 && g->stride_h == 2 && g->stride_w == 2 && g->pad_h == 0 && g->pad_w == 0
        && g->dil_h == 1 && g->dil_w == 1 && 2 * g->oh <= g->h && 2 * g->ow <= g->w) {
        if (dt == AGC_F32)
            max_pool_2x2_f32(g, x, out, idx);
        else
            max_pool_2x2_f64(g, x, out, idx);
        return AGC_OK;
    }
    int64_t *rows = agc_alloc(2 * (g->oh + g->ow) * (int64_t)sizeof(int64_t));
    if (!rows)
        return AGC_ENOMEM;
    int64_t *cols = rows + 2 * g->oh;
    for (int64_t i = 0; i < g->oh; i++)
        tap_range(i * g->stride_h - g->pad_h, g->kh, g->dil_h, g->h, &rows[2 * i], &rows[2 * i + 1]);
    for (int64_t j = 0; j < g->ow; j++)
        tap_range(j * g->stride_w - g->pad_w, g->kw, g->dil_w, g->w, &cols[2 * j], &cols[2 * j + 1]);
    if (dt == AGC_F32)
        max_pool_f32(g, x, out, idx, rows, cols);
    else
        max_pool_f64(g, x, out, idx, rows, cols);
    agc_free(rows);
    return AGC_OK;
}

int agc_avg_pool2d(agc_dtype dt, const agc_pool2d_geom *g, int count_include_pad, int64_t divisor_override,
                   const void *x, void *out)
{
    if (dt == AGC_F32)
        avg_pool_f32(g, count_include_pad, divisor_override, x, out, 0);
    else if (dt == AGC_F64)
        avg_pool_f64(g, count_include_pad, divisor_override, x, out, 0);
    else
        return AGC_EUNSUPPORTED;
    return AGC_OK;
}

int agc_avg_pool2d_backward(agc_dtype dt, const agc_pool2d_geom *g, int count_include_pad,
                            int64_t divisor_override, const void *grad_out, void *out)
{
    if (dt == AGC_F32)
        avg_pool_f32(g, count_include_pad, divisor_override, grad_out, out, 1);
    else if (dt == AGC_F64)
        avg_pool_f64(g, count_include_pad, divisor_override, grad_out, out, 1);
    else
        return AGC_EUNSUPPORTED;
    return AGC_OK;
}

static int adaptive(agc_dtype dt, int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow, const void *x,
                    void *out, int64_t *idx, int mode)
{
    if (dt == AGC_F32)
        adaptive_f32(nc, h, w, oh, ow, x, out, idx, mode);
    else if (dt == AGC_F64)
        adaptive_f64(nc, h, w, oh, ow, x, out, idx, mode);
    else
        return AGC_EUNSUPPORTED;
    return AGC_OK;
}

int agc_adaptive_avg_pool2d(agc_dtype dt, int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow,
                            const void *x, void *out)
{
    return adaptive(dt, nc, h, w, oh, ow, x, out, NULL, 0);
}

int agc_adaptive_avg_pool2d_backward(agc_dtype dt, int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow,
                                     const void *grad_out, void *out)
{
    return adaptive(dt, nc, h, w, oh, ow, grad_out, out, NULL, 1);
}

int agc_adaptive_max_pool2d(agc_dtype dt, int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow,
                            const void *x, void *out, int64_t *idx)
{
    return adaptive(dt, nc, h, w, oh, ow, x, out, idx, 2);
}

int agc_pool_scatter_add(agc_dtype dt, int64_t nc, int64_t in_size, int64_t out_size, const void *grad_out,
                         const int64_t *idx, void *out)
{
    if (dt == AGC_F32)
        scatter_f32(nc, in_size, out_size, grad_out, idx, out);
    else if (dt == AGC_F64)
        scatter_f64(nc, in_size, out_size, grad_out, idx, out);
    else
        return AGC_EUNSUPPORTED;
    return AGC_OK;
}

int agc_pool_gather(agc_dtype dt, int64_t nc, int64_t in_size, int64_t out_size, const void *x,
                    const int64_t *idx, void *out)
{
    if (dt == AGC_F32)
        gather_f32(nc, in_size, out_size, x, idx, out);
    else if (dt == AGC_F64)
        gather_f64(nc, in_size, out_size, x, idx, out);
    else
        return AGC_EUNSUPPORTED;
    return AGC_OK;
}
