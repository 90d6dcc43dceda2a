/* rng.c: counter-based random numbers (Philox 4x32-10, Salmon et al., SC'11).
 * Element i of a call belongs to group j = i / 4 and uses the 128-bit counter
 * (lo32(offset + j), hi32(offset + j), lane, 0) under the 64-bit key `seed`; lane 0 gives 32 random
 * bits per element, and the kinds that need 64 bits per element (float64 uniform and normal,
 * randint) also use lane 1. So the output depends only on (seed, offset, i): threads split the
 * groups however they like and the numbers never change. agc_rng_advance(n) = ceil(n / 4) counters.
 * uniform: 24-bit (float32) or 53-bit (float64) fractions in [0, 1), scaled to [low, high).
 * normal: Box-Muller on the pairs (0, 1) and (2, 3) of each group.
 * randint: 64-bit multiply-shift into [0, high - low) (bias below 2^-64 * range, i.e. none that
 * can be measured). bernoulli: (u < p) with a 32-bit u. Tests: tests/test_kernels.py. */
#include "internal.h"

#include <math.h>

#define RNG_PAR_THRESHOLD 16384

static inline uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t *hi)
{
    uint64_t p = (uint64_t)a * b;
    *hi = (uint32_t)(p >> 32);
    return (uint32_t)p;
}

/* ten rounds of Philox 4x32 on c under key (k0, k1) */
static inline void philox4x32_10(uint32_t c[4], uint32_t k0, uint32_t k1)
{
    for (int r = 0; r < 10; r++) {
        uint32_t hi0, hi1;
        uint32_t lo0 = mulhilo(0xD2511F53u, c[0], &hi0);
        uint32_t lo1 = mulhilo(0xCD9E8D57u, c[2], &hi1);
        uint32_t n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = lo1;
        c[2] = n2;
        c[3] = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

/* the random words of group j: w0 = lane 0 (and w1 = lane 1 when wide) */
static inline void group_words(uint64_t seed, uint64_t ctr, int wide, uint32_t w0[4], uint32_t w1[4])
{
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    w0[0] = (uint32_t)ctr;
    w0[1] = (uint32_t)(ctr >> 32);
    w0[2] = 0;
    w0[3] = 0;
    philox4x32_10(w0, k0, k1);
    if (wide) {
        w1[0] = (uint32_t)ctr;
        w1[1] = (uint32_t)(ctr >> 32);
        w1[2] = 1;
        w1[3] = 0;
        philox4x32_10(w1, k0, k1);
    }
}

int64_t agc_rng_advance(int64_t n)
{
    return n <= 0 ? 0 : (n + 3) / 4;
}

enum { K_UNIFORM, K_NORMAL, K_RANDINT, K_BERNOULLI };

typedef struct {
    int kind;
    agc_dtype dt;
    uint64_t seed, offset;
    double a, b;        /* uniform: low, high; normal: mean, std; bernoulli: p */
    int64_t ilow;       /* randint */
    uint64_t range;     /* randint: high - low as unsigned */
    void *out;
} rng_job;

static inline double u53(uint32_t lo, uint32_t hi)
{
    return (double)((((uint64_t)hi << 32) | lo) >> 11) * 0x1p-53;
}

static inline void store(const rng_job *job, int64_t i, double v)
{
    switch (job->dt) {
    case AGC_F32: ((float *)job->out)[i] = (float)v; break;
    case AGC_F64: ((double *)job->out)[i] = v; break;
    case AGC_BOOL: ((uint8_t *)job->out)[i] = v != 0; break;
    /* integer outputs only ever receive 0 or 1 (bernoulli) */
    case AGC_I64: ((int64_t *)job->out)[i] = v != 0; break;
    case AGC_I32: ((int32_t *)job->out)[i] = v != 0; break;
    case AGC_U8: ((uint8_t *)job->out)[i] = v != 0; break;
    default: break;
    }
}

static void run_groups(const rng_job *job, int64_t n, int64_t g0, int64_t g1)
{
    const int is_f64 = job->dt == AGC_F64;
    const int wide = job->kind == K_RANDINT || (is_f64 && (job->kind == K_UNIFORM || job->kind == K_NORMAL));
    for (int64_t g = g0; g < g1; g++) {
        uint32_t w0[4], w1[4] = {0, 0, 0, 0};
        group_words(job->seed, job->offset + (uint64_t)g, wide, w0, w1);
        int64_t i0 = g * 4;
        int m = n - i0 < 4 ? (int)(n - i0) : 4;
        switch (job->kind) {
        case K_UNIFORM: {
            const double low = job->a, high = job->b;
            for (int e = 0; e < m; e++) {
                if (is_f64) {
                    double v = low + (high - low) * u53(w0[e], w1[e]);
                    ((double *)job->out)[i0 + e] = v < high || !(high > low) ? v : nextafter(high, low);
                } else {
                    double u = (double)(w0[e] >> 8) * 0x1p-24;
                    float v = (float)(low + (high - low) * u);
                    /* rounding to float may land on high itself */
                    if (!(v < (float)high) && (float)high > (float)low) v = nextafterf((float)high, (float)low);
                    ((float *)job->out)[i0 + e] = v;
                }
            }
            break;
        }
        case K_NORMAL: {
            for (int p = 0; p < 2; p++) {
                int e0 = 2 * p;
                if (e0 >= m) break;
                double u1, u2;
                if (is_f64) {
                    u1 = 1.0 - u53(w0[e0], w1[e0]); /* (0, 1]: log is finite */
                    u2 = u53(w0[e0 + 1], w1[e0 + 1]);
                } else {
                    u1 = ((double)w0[e0] + 1.0) * 0x1p-32;
                    u2 = (double)w0[e0 + 1] * 0x1p-32;
                }
                double r = sqrt(-2.0 * log(u1));
                double t = 6.283185307179586477 * u2;
                store(job, i0 + e0, job->a + job->b * (r * cos(t)));
                if (e0 + 1 < m) store(job, i0 + e0 + 1, job->a + job->b * (r * sin(t)));
            }
            break;
        }
        case K_RANDINT: {
            for (int e = 0; e < m; e++) {
                uint64_t r = ((uint64_t)w1[e] << 32) | w0[e];
                uint64_t k = (uint64_t)(((unsigned __int128)r * job->range) >> 64);
                uint64_t v = (uint64_t)job->ilow + k; /* in [low, high): fits int64 */
                int64_t iv = (int64_t)v;
                int64_t i = i0 + e;
                switch (job->dt) {
                case AGC_I64: ((int64_t *)job->out)[i] = iv; break;
                case AGC_I32: ((int32_t *)job->out)[i] = (int32_t)(uint32_t)v; break;
                case AGC_U8: ((uint8_t *)job->out)[i] = (uint8_t)v; break;
                case AGC_F32: ((float *)job->out)[i] = (float)iv; break;
                case AGC_F64: ((double *)job->out)[i] = (double)iv; break;
                default: break;
                }
            }
            break;
        }
        case K_BERNOULLI: {
            for (int e = 0; e < m; e++) store(job, i0 + e, (double)w0[e] * 0x1p-32 < job->a ? 1.0 : 0.0);
            break;
        }
        }
    }
}

static void run_job(const rng_job *job, int64_t n)
{
    int64_t groups = agc_rng_advance(n);
    int nt = agc_threads_for(n, RNG_PAR_THRESHOLD);
    if (nt <= 1) {
        run_groups(job, n, 0, groups);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), T = omp_get_num_threads();
        AGC_REGION_POINT();
        /* chunks of whole cache lines of output */
        int64_t chunk = ((groups + T - 1) / T + 15) / 16 * 16;
        int64_t b = (int64_t)t * chunk, e = b + chunk;
        if (b > groups) b = groups;
        if (e > groups) e = groups;
        if (b < e) run_groups(job, n, b, e);
    }
#endif
}

int agc_rng_uniform(agc_dtype dt, int64_t n, uint64_t seed, uint64_t offset, double low, double high,
                    void *out)
{
    if (dt != AGC_F32 && dt != AGC_F64) return AGC_EUNSUPPORTED;
    rng_job job = {K_UNIFORM, dt, seed, offset, low, high, 0, 0, out};
    run_job(&job, n);
    return AGC_OK;
}

int agc_rng_normal(agc_dtype dt, int64_t n, uint64_t seed, uint64_t offset, double mean, double std,
                   void *out)
{
    if (dt != AGC_F32 && dt != AGC_F64) return AGC_EUNSUPPORTED;
    rng_job job = {K_NORMAL, dt, seed, offset, mean, std, 0, 0, out};
    run_job(&job, n);
    return AGC_OK;
}

int agc_rng_randint(agc_dtype dt, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high,
                    void *out)
{
    if ((int)dt < 0 || dt >= AGC_NDTYPES || dt == AGC_BOOL || dt == AGC_F16 || dt == AGC_BF16) return AGC_EUNSUPPORTED;
    uint64_t range = high > low ? (uint64_t)high - (uint64_t)low : 0;
    rng_job job = {K_RANDINT, dt, seed, offset, 0, 0, low, range, out};
    run_job(&job, n);
    return AGC_OK;
}

int agc_rng_bernoulli(agc_dtype dt, int64_t n, uint64_t seed, uint64_t offset, double p, void *out)
{
    /* float16/bfloat16 draw into float32 in the binding */
    if ((int)dt < 0 || dt >= AGC_NDTYPES || dt == AGC_F16 || dt == AGC_BF16) return AGC_EUNSUPPORTED;
    rng_job job = {K_BERNOULLI, dt, seed, offset, p, 0, 0, 0, out};
    run_job(&job, n);
    return AGC_OK;
}
