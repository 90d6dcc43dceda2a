/* optim.c: fused in-place optimizer updates (SGD, Adam/AdamW, RMSprop, Adagrad), each followed by the
 * optional proximal L1 soft-threshold (scaled by each optimizer's own step, see agc.h), in one pass
 * over a parameter with no temporaries.
 * Layout: p, g and every state buffer are contiguous arrays of n elements of one float dtype (f32 or
 * f64; other dtypes give AGC_EUNSUPPORTED). g and the state buffers must not overlap p or each other
 * (the binding allocates the state itself and copies a gradient that aliases p).
 * Arithmetic: the order of operations follows PyTorch's single-tensor CPU implementations, in the
 * parameter's dtype, with scalars computed in double and rounded once. Only IEEE add, sub, mul, div,
 * sqrt and compare are used, never FMA: the whole file is compiled without floating-point contraction
 * (the pragmas below), because the AVX2 and AVX-512 target attributes enable FMA and GCC would otherwise
 * fuse a multiply and an add, intrinsics included. So each tier's vector body (AVX2: 8 float / 4
 * double lanes; AVX-512: 16 / 8), its scalar tail and the portable loop give bit-identical results:
 * no result depends on the SIMD tier or on how the elements are split between threads.
 * Threads: OpenMP over fixed chunks of OPT_CHUNK elements above a size threshold (below).
 * Tests: tests/test_optim.py. */
#include "agc.h"
#include "internal.h"

#include <math.h>
#include <stdint.h>

/* No FP traps are ever enabled, so the compiler may evaluate both sides of the weight-decay and L1
 * selects and vectorize the portable loops (Adam over 10^6 f32: ~7 ms -> ~2 ms); values are
 * unchanged. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#pragma GCC optimize("fp-contract=off")
#elif defined(__clang__)
#pragma clang fp contract(off)
#endif

#if AGC_HAVE_X86
#include <immintrin.h>
#endif

/* Thread thresholds (elements), measured with a C harness on the 2-core dev box (f32, AVX2, best of
 * 200): Adam 1 -> 2 threads is 1.45x at 32K, 1.67x at 64K, 1.9x from 256K; SGD with momentum 1.5x at
 * 64K, 1.9x from 256K. Kernels with sqrt and division (Adam, RMSprop, Adagrad) fork from 32K. */
#define AGC_PAR_OPTIM 65536
#define AGC_PAR_OPTIM_HEAVY 32768
#define OPT_CHUNK 16384 /* elements per OpenMP work item: a multiple of every SIMD width */

/* ---------------------------------------------------------------- scalar and vector op sets */
/* Each set names a type and its element operations; kernel bodies below are written once against
 * the set passed as O. MAX/MIN have the semantics of maxps/minps (a > b ? a : b), so NaN handling is
 * identical in every set. */
#define S32_T float
#define S32_W 1
#define S32_LD(ptr) (*(ptr))
#define S32_ST(ptr, x) (*(ptr) = (x))
#define S32_SET(x) ((float)(x))
#define S32_ADD(a, b) ((a) + (b))
#define S32_SUB(a, b) ((a) - (b))
#define S32_MUL(a, b) ((a) * (b))
#define S32_DIV(a, b) ((a) / (b))
#define S32_SQRT(a) sqrtf(a)
#define S32_MAX(a, b) ((a) > (b) ? (a) : (b))
#define S32_MIN(a, b) ((a) < (b) ? (a) : (b))

#define S64_T double
#define S64_W 1
#define S64_LD(ptr) (*(ptr))
#define S64_ST(ptr, x) (*(ptr) = (x))
#define S64_SET(x) ((double)(x))
#define S64_ADD(a, b) ((a) + (b))
#define S64_SUB(a, b) ((a) - (b))
#define S64_MUL(a, b) ((a) * (b))
#define S64_DIV(a, b) ((a) / (b))
#define S64_SQRT(a) sqrt(a)
#define S64_MAX(a, b) ((a) > (b) ? (a) : (b))
#define S64_MIN(a, b) ((a) < (b) ? (a) : (b))

#if AGC_HAVE_X86
#define V32_T __m256
#define V32_W 8
#define V32_LD(ptr) _mm256_loadu_ps(ptr)
#define V32_ST(ptr, x) _mm256_storeu_ps((ptr), (x))
#define V32_SET(x) _mm256_set1_ps((float)(x))
#define V32_ADD(a, b) _mm256_add_ps((a), (b))
#define V32_SUB(a, b) _mm256_sub_ps((a), (b))
#define V32_MUL(a, b) _mm256_mul_ps((a), (b))
#define V32_DIV(a, b) _mm256_div_ps((a), (b))
#define V32_SQRT(a) _mm256_sqrt_ps(a)
#define V32_MAX(a, b) _mm256_max_ps((a), (b))
#define V32_MIN(a, b) _mm256_min_ps((a), (b))

#define V64_T __m256d
#define V64_W 4
#define V64_LD(ptr) _mm256_loadu_pd(ptr)
#define V64_ST(ptr, x) _mm256_storeu_pd((ptr), (x))
#define V64_SET(x) _mm256_set1_pd((double)(x))
#define V64_ADD(a, b) _mm256_add_pd((a), (b))
#define V64_SUB(a, b) _mm256_sub_pd((a), (b))
#define V64_MUL(a, b) _mm256_mul_pd((a), (b))
#define V64_DIV(a, b) _mm256_div_pd((a), (b))
#define V64_SQRT(a) _mm256_sqrt_pd(a)
#define V64_MAX(a, b) _mm256_max_pd((a), (b))
#define V64_MIN(a, b) _mm256_min_pd((a), (b))

#if AGC_NATIVE_AVX512
#define W32_T __m512
#define W32_W 16
#define W32_LD(ptr) _mm512_loadu_ps(ptr)
#define W32_ST(ptr, x) _mm512_storeu_ps((ptr), (x))
#define W32_SET(x) _mm512_set1_ps((float)(x))
#define W32_ADD(a, b) _mm512_add_ps((a), (b))
#define W32_SUB(a, b) _mm512_sub_ps((a), (b))
#define W32_MUL(a, b) _mm512_mul_ps((a), (b))
#define W32_DIV(a, b) _mm512_div_ps((a), (b))
#define W32_SQRT(a) _mm512_sqrt_ps(a)
#define W32_MAX(a, b) _mm512_max_ps((a), (b))
#define W32_MIN(a, b) _mm512_min_ps((a), (b))

#define W64_T __m512d
#define W64_W 8
#define W64_LD(ptr) _mm512_loadu_pd(ptr)
#define W64_ST(ptr, x) _mm512_storeu_pd((ptr), (x))
#define W64_SET(x) _mm512_set1_pd((double)(x))
#define W64_ADD(a, b) _mm512_add_pd((a), (b))
#define W64_SUB(a, b) _mm512_sub_pd((a), (b))
#define W64_MUL(a, b) _mm512_mul_pd((a), (b))
#define W64_DIV(a, b) _mm512_div_pd((a), (b))
#define W64_SQRT(a) _mm512_sqrt_pd(a)
#define W64_MAX(a, b) _mm512_max_pd((a), (b))
#define W64_MIN(a, b) _mm512_min_pd((a), (b))
#else /* the emulation test build: the avx512 tier's updates are the AVX2 ones (no vec.h body here) */
#define W32_T V32_T
#define W32_W V32_W
#define W32_LD V32_LD
#define W32_ST V32_ST
#define W32_SET V32_SET
#define W32_ADD V32_ADD
#define W32_SUB V32_SUB
#define W32_MUL V32_MUL
#define W32_DIV V32_DIV
#define W32_SQRT V32_SQRT
#define W32_MAX V32_MAX
#define W32_MIN V32_MIN
#define W64_T V64_T
#define W64_W V64_W
#define W64_LD V64_LD
#define W64_ST V64_ST
#define W64_SET V64_SET
#define W64_ADD V64_ADD
#define W64_SUB V64_SUB
#define W64_MUL V64_MUL
#define W64_DIV V64_DIV
#define W64_SQRT V64_SQRT
#define W64_MAX V64_MAX
#define W64_MIN V64_MIN
#endif
#endif

/* Shared pieces of every update. g <- -g under maximize is a multiplication by -1 (exact); weight
 * decay is skipped when 0 like PyTorch (0 * inf would make NaN). */
#define GRAD_IN(O, w, g, i)                                                                       \
    O##_T g = O##_MUL(O##_LD(gp + (i)), c_sign);                                                \
    if (has_wd) g = O##_ADD(g, O##_MUL(w, c_wd))

/* Soft-threshold by t (evaluated only when has_l1): max(0, w - t) + min(0, w + t) equals
 * sign(w) * max(|w| - t, 0) exactly, gives +0 inside [-t, t] and keeps NaN (maxps/minps return the
 * second operand on NaN). */
#define SOFT_THRESHOLD(O, w, t)                                                                   \
    if (has_l1) {                                                                                \
        const O##_T t_ = (t);                                                                    \
        w = O##_ADD(O##_MAX(c_zero, O##_SUB(w, t_)), O##_MIN(c_zero, O##_ADD(w, t_)));           \
    }

/* Runs BODY with `flag` a compile-time constant (from the run-time flag##_rt): branches whose body
 * stores to a state buffer become straight-line code, so the compiler can vectorize the portable
 * loops too. */
#define SPECIALIZE(flag, BODY)                                                                     \
    if (flag##_rt) {                                                                             \
        const int flag = 1;                                                                      \
        BODY                                                                                     \
    } else {                                                                                     \
        const int flag = 0;                                                                      \
        BODY                                                                                     \
    }

typedef void (*chunk_fn)(int64_t lo, int64_t hi, const void *args);

static void run_chunks(int64_t n, int64_t threshold, chunk_fn fn, const void *args)
{
    int nt = agc_threads_for(n, threshold);
    if (nt <= 1) {
        fn(0, n, args);
        return;
    }
#ifdef _OPENMP
    int64_t nchunks = (n + OPT_CHUNK - 1) / OPT_CHUNK;
    /* dynamic: on a busy machine a thread that starts late finds the work already done instead of
     * holding back its static half; elementwise, so the split never changes a result */
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
    for (int64_t c = 0; c < nchunks; c++) {
        AGC_REGION_POINT();
        int64_t lo = c * OPT_CHUNK, hi = lo + OPT_CHUNK < n ? lo + OPT_CHUNK : n;
        fn(lo, hi, args);
    }
#endif
}

/* Defines NAME_f32/f64 portable chunk functions, and _avx2 / _avx512 variants on x86, from LOOP(O):
 * the vector set O runs while whole vectors fit, then the scalar set finishes the tail. pick_NAME reads
 * the active tier once per call. */
#define ONE_LOOP(LOOP, O)                                                                          \
    {                                                                                            \
        LOOP(O)                                                                                  \
    }
#if AGC_HAVE_X86
#define DEFINE_TIER_CHUNKS(NAME, LOOP, TIER, ATTR, O32, O64)                                       \
    ATTR static void NAME##_f32_##TIER(int64_t lo, int64_t hi, const void *args)                \
    {                                                                                            \
        typedef float T;                                                                         \
        int64_t i = lo;                                                                          \
        ONE_LOOP(LOOP, O32)                                                                      \
        ONE_LOOP(LOOP, S32)                                                                      \
    }                                                                                            \
    ATTR static void NAME##_f64_##TIER(int64_t lo, int64_t hi, const void *args)                \
    {                                                                                            \
        typedef double T;                                                                        \
        int64_t i = lo;                                                                          \
        ONE_LOOP(LOOP, O64)                                                                      \
        ONE_LOOP(LOOP, S64)                                                                      \
    }
#define DEFINE_CHUNKS(NAME, LOOP)                                                                  \
    static void NAME##_f32(int64_t lo, int64_t hi, const void *args)                            \
    {                                                                                            \
        typedef float T;                                                                         \
        int64_t i = lo;                                                                          \
        ONE_LOOP(LOOP, S32)                                                                      \
    }                                                                                            \
    static void NAME##_f64(int64_t lo, int64_t hi, const void *args)                            \
    {                                                                                            \
        typedef double T;                                                                        \
        int64_t i = lo;                                                                          \
        ONE_LOOP(LOOP, S64)                                                                      \
    }                                                                                            \
    DEFINE_TIER_CHUNKS(NAME, LOOP, avx2, AGC_TARGET_AVX2, V32, V64)                              \
    DEFINE_TIER_CHUNKS(NAME, LOOP, avx512, AGC_TARGET_AVX512, W32, W64)                          \
    static chunk_fn pick_##NAME(agc_dtype dt)                                                    \
    {                                                                                            \
        const agc_isa isa = agc_isa_active();                                                    \
        if (dt == AGC_F32)                                                                       \
            return isa >= AGC_ISA_AVX512 ? NAME##_f32_avx512 : isa >= AGC_ISA_AVX2 ? NAME##_f32_avx2 : NAME##_f32; \
        if (dt == AGC_F64)                                                                       \
            return isa >= AGC_ISA_AVX512 ? NAME##_f64_avx512 : isa >= AGC_ISA_AVX2 ? NAME##_f64_avx2 : NAME##_f64; \
        return NULL;                                                                             \
    }
#else
#define DEFINE_CHUNKS(NAME, LOOP)                                                                  \
    static void NAME##_f32(int64_t lo, int64_t hi, const void *args)                            \
    {                                                                                            \
        typedef float T;                                                                         \
        int64_t i = lo;                                                                          \
        ONE_LOOP(LOOP, S32)                                                                      \
    }                                                                                            \
    static void NAME##_f64(int64_t lo, int64_t hi, const void *args)                            \
    {                                                                                            \
        typedef double T;                                                                        \
        int64_t i = lo;                                                                          \
        ONE_LOOP(LOOP, S64)                                                                      \
    }                                                                                            \
    static chunk_fn pick_##NAME(agc_dtype dt)                                                    \
    {                                                                                            \
        if (dt == AGC_F32) return NAME##_f32;                                                    \
        if (dt == AGC_F64) return NAME##_f64;                                                    \
        return NULL;                                                                             \
    }
#endif

/* ---------------------------------------------------------------- SGD */
typedef struct {
    void *p;
    const void *g;
    void *buf;
    double lr, momentum, dampening, weight_decay, l1;
    int flags;
} sgd_args;

/* d = g (+ wd p); buf = d on the first step, else momentum buf + (1 - dampening) d;
 * d = nesterov ? d + momentum buf : buf; p -= lr d. */
#define SGD_LOOP(O)                                                                                \
    const sgd_args *a = (const sgd_args *)args;                                                  \
    T *pp = (T *)a->p;                                                                           \
    const T *gp = (const T *)a->g;                                                               \
    T *bp = (T *)a->buf;                                                                         \
    const int has_wd = a->weight_decay != 0, has_mom_rt = bp != NULL, has_l1 = a->l1 > 0;       \
    const int first_rt = (a->flags & AGC_OPTIM_FIRST_STEP) != 0;                                 \
    const int nesterov = (a->flags & AGC_OPTIM_NESTEROV) != 0;                                   \
    const O##_T c_sign = O##_SET((a->flags & AGC_OPTIM_MAXIMIZE) ? -1.0 : 1.0);                  \
    const O##_T c_wd = O##_SET(a->weight_decay), c_mom = O##_SET(a->momentum);                   \
    const O##_T c_damp = O##_SET(1.0 - a->dampening), c_nlr = O##_SET(-a->lr);                   \
    const O##_T c_l1 = O##_SET(a->l1), c_zero = O##_SET(0.0);                                   \
    SPECIALIZE(has_mom, SPECIALIZE(first, SGD_FOR(O)))

#define SGD_FOR(O)                                                                                 \
    for (; i + O##_W <= hi; i += O##_W) {                                                        \
        O##_T w = O##_LD(pp + i);                                                                \
        GRAD_IN(O, w, g, i);                                                                     \
        if (has_mom) {                                                                           \
            O##_T b = first ? g : O##_ADD(O##_MUL(O##_LD(bp + i), c_mom), O##_MUL(g, c_damp));   \
            O##_ST(bp + i, b);                                                                   \
            g = nesterov ? O##_ADD(g, O##_MUL(b, c_mom)) : b;                                    \
        }                                                                                        \
        w = O##_ADD(w, O##_MUL(g, c_nlr));                                                       \
        SOFT_THRESHOLD(O, w, c_l1);                                                                    \
        O##_ST(pp + i, w);                                                                       \
    }

DEFINE_CHUNKS(sgd, SGD_LOOP)

/* How much a constant gradient is amplified at equilibrium: the buffer settles at
 * (1 - dampening) / (1 - momentum) times it (Nesterov adds the gradient itself: 1 + momentum times
 * that). The L1 threshold scales with it so the fixed points are those of the lasso. */
static double sgd_gain(double momentum, double dampening, int nesterov)
{
    if (momentum == 0) return 1.0;
    double settled = (1.0 - dampening) / (1.0 - momentum);
    return nesterov ? 1.0 + momentum * settled : settled;
}

int agc_sgd_step(agc_dtype dt, int64_t n, void *p, const void *g, void *momentum_buffer, double lr,
                 double momentum, double dampening, double weight_decay, int flags, double l1)
{
    chunk_fn fn = pick_sgd(dt);
    if (fn == NULL) return AGC_EUNSUPPORTED;
    if (n <= 0) return AGC_OK;
    sgd_args a = {p, g, momentum_buffer, lr, momentum, dampening, weight_decay, 0.0, flags};
    if (momentum_buffer == NULL) a.momentum = 0;
    a.l1 = l1 > 0 ? l1 * lr * sgd_gain(a.momentum, dampening, (flags & AGC_OPTIM_NESTEROV) != 0) : 0.0;
    run_chunks(n, AGC_PAR_OPTIM, fn, &a);
    return AGC_OK;
}

/* ---------------------------------------------------------------- Adam / AdamW */
typedef struct {
    void *p;
    const void *g;
    void *m, *v, *vmax;
    double decay, wd, b1c, b2, b2c, step_size, bc2_sqrt, eps, l1;
    int amsgrad, maximize;
} adam_args;

/* AdamW: p *= 1 - lr wd first. Then d = g (+ wd p for Adam); m += (1 - b1)(d - m) (PyTorch's lerp);
 * v = b2 v + (1 - b2) d d; vmax = max(vmax, v) under amsgrad;
 * p -= (lr / (1 - b1^t)) m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps). */
#define ADAM_LOOP(O)                                                                               \
    const adam_args *a = (const adam_args *)args;                                                \
    T *pp = (T *)a->p;                                                                           \
    const T *gp = (const T *)a->g;                                                               \
    T *mp = (T *)a->m, *vp = (T *)a->v, *xp = (T *)a->vmax;                                      \
    const int has_wd = a->wd != 0, has_decay = a->decay != 1.0, has_l1 = a->l1 > 0;             \
    const int amsgrad_rt = a->amsgrad;                                                           \
    const O##_T c_sign = O##_SET(a->maximize ? -1.0 : 1.0);                                      \
    const O##_T c_wd = O##_SET(a->wd), c_decay = O##_SET(a->decay), c_b1c = O##_SET(a->b1c);    \
    const O##_T c_b2 = O##_SET(a->b2), c_b2c = O##_SET(a->b2c);                                  \
    const O##_T c_nstep = O##_SET(-a->step_size), c_bc2 = O##_SET(a->bc2_sqrt);                 \
    const O##_T c_eps = O##_SET(a->eps), c_l1 = O##_SET(a->l1), c_zero = O##_SET(0.0);          \
    SPECIALIZE(amsgrad, ADAM_FOR(O))

#define ADAM_FOR(O)                                                                                \
    for (; i + O##_W <= hi; i += O##_W) {                                                        \
        O##_T w = O##_LD(pp + i);                                                                \
        if (has_decay) w = O##_MUL(w, c_decay);                                                  \
        GRAD_IN(O, w, g, i);                                                                     \
        O##_T m = O##_LD(mp + i);                                                                \
        m = O##_ADD(m, O##_MUL(c_b1c, O##_SUB(g, m)));                                           \
        O##_T v = O##_ADD(O##_MUL(O##_LD(vp + i), c_b2), O##_MUL(O##_MUL(g, g), c_b2c));         \
        O##_ST(mp + i, m);                                                                       \
        O##_ST(vp + i, v);                                                                       \
        if (amsgrad) {                                                                           \
            O##_T x = O##_LD(xp + i);                                                            \
            v = O##_MAX(v, x);                                                                   \
            O##_ST(xp + i, v);                                                                   \
        }                                                                                        \
        O##_T denom = O##_ADD(O##_DIV(O##_SQRT(v), c_bc2), c_eps);                               \
        w = O##_ADD(w, O##_MUL(c_nstep, O##_DIV(m, denom)));                                     \
        SOFT_THRESHOLD(O, w, O##_DIV(c_l1, denom));                                                                    \
        O##_ST(pp + i, w);                                                                       \
    }

DEFINE_CHUNKS(adam, ADAM_LOOP)

int agc_adam_step(agc_dtype dt, int64_t n, void *p, const void *g, void *exp_avg, void *exp_avg_sq,
                  void *max_exp_avg_sq, double lr, double beta1, double beta2, double eps,
                  double weight_decay, int64_t step, int flags, double l1)
{
    chunk_fn fn = pick_adam(dt);
    if (fn == NULL) return AGC_EUNSUPPORTED;
    if (n <= 0) return AGC_OK;
    const double t = (double)step;
    const double bc1 = 1.0 - pow(beta1, t), bc2 = 1.0 - pow(beta2, t);
    adam_args a;
    a.p = p;
    a.g = g;
    a.m = exp_avg;
    a.v = exp_avg_sq;
    a.vmax = max_exp_avg_sq;
    a.amsgrad = (flags & AGC_OPTIM_AMSGRAD) != 0 && max_exp_avg_sq != NULL;
    const int decoupled = (flags & AGC_OPTIM_DECOUPLED) != 0;
    a.decay = decoupled ? 1.0 - lr * weight_decay : 1.0;
    a.wd = decoupled ? 0.0 : weight_decay;
    a.b1c = 1.0 - beta1;
    a.b2 = beta2;
    a.b2c = 1.0 - beta2;
    a.maximize = (flags & AGC_OPTIM_MAXIMIZE) != 0;
    a.step_size = lr / bc1;
    a.bc2_sqrt = sqrt(bc2);
    a.eps = eps;
    a.l1 = l1 > 0 ? l1 * a.step_size : 0.0; /* per element: divided by denom in the loop */
    run_chunks(n, AGC_PAR_OPTIM_HEAVY, fn, &a);
    return AGC_OK;
}

/* ---------------------------------------------------------------- RMSprop */
typedef struct {
    void *p;
    const void *g;
    void *sq, *gavg, *buf;
    double lr, alpha, eps, wd, momentum, l1;
    int flags;
} rmsprop_args;

/* d = g (+ wd p); sq = alpha sq + (1 - alpha) d d; centered: gavg += (1 - alpha)(d - gavg),
 * avg = sqrt(sq - gavg gavg) + eps, else sqrt(sq) + eps; momentum: buf = momentum buf + d / avg,
 * p -= lr buf; else p -= lr d / avg. */
#define RMSPROP_LOOP(O)                                                                            \
    const rmsprop_args *a = (const rmsprop_args *)args;                                          \
    T *pp = (T *)a->p;                                                                           \
    const T *gp = (const T *)a->g;                                                               \
    T *sp = (T *)a->sq, *ap = (T *)a->gavg, *bp = (T *)a->buf;                                   \
    const int has_wd = a->wd != 0, has_l1 = a->l1 > 0;                                          \
    const int centered_rt = ap != NULL, has_mom_rt = bp != NULL;                                 \
    const O##_T c_sign = O##_SET((a->flags & AGC_OPTIM_MAXIMIZE) ? -1.0 : 1.0);                  \
    const O##_T c_wd = O##_SET(a->wd), c_alpha = O##_SET(a->alpha);                              \
    const O##_T c_alphac = O##_SET(1.0 - a->alpha), c_eps = O##_SET(a->eps);                     \
    const O##_T c_mom = O##_SET(a->momentum), c_nlr = O##_SET(-a->lr);                           \
    const O##_T c_l1 = O##_SET(a->l1), c_zero = O##_SET(0.0);                                   \
    SPECIALIZE(centered, SPECIALIZE(has_mom, RMSPROP_FOR(O)))

#define RMSPROP_FOR(O)                                                                             \
    for (; i + O##_W <= hi; i += O##_W) {                                                        \
        O##_T w = O##_LD(pp + i);                                                                \
        GRAD_IN(O, w, g, i);                                                                     \
        O##_T s = O##_ADD(O##_MUL(O##_LD(sp + i), c_alpha), O##_MUL(O##_MUL(g, g), c_alphac));   \
        O##_ST(sp + i, s);                                                                       \
        if (centered) {                                                                          \
            O##_T ga = O##_LD(ap + i);                                                           \
            ga = O##_ADD(ga, O##_MUL(c_alphac, O##_SUB(g, ga)));                                 \
            O##_ST(ap + i, ga);                                                                  \
            s = O##_SUB(s, O##_MUL(ga, ga));                                                     \
        }                                                                                        \
        O##_T avg = O##_ADD(O##_SQRT(s), c_eps);                                                 \
        if (has_mom) {                                                                           \
            O##_T b = O##_ADD(O##_MUL(O##_LD(bp + i), c_mom), O##_DIV(g, avg));                  \
            O##_ST(bp + i, b);                                                                   \
            w = O##_ADD(w, O##_MUL(b, c_nlr));                                                   \
        } else {                                                                                 \
            w = O##_ADD(w, O##_MUL(c_nlr, O##_DIV(g, avg)));                                     \
        }                                                                                        \
        SOFT_THRESHOLD(O, w, O##_DIV(c_l1, avg));                                                                    \
        O##_ST(pp + i, w);                                                                       \
    }

DEFINE_CHUNKS(rmsprop, RMSPROP_LOOP)

int agc_rmsprop_step(agc_dtype dt, int64_t n, void *p, const void *g, void *square_avg, void *grad_avg,
                     void *momentum_buffer, double lr, double alpha, double eps, double weight_decay,
                     double momentum, int flags, double l1)
{
    chunk_fn fn = pick_rmsprop(dt);
    if (fn == NULL) return AGC_EUNSUPPORTED;
    if (n <= 0) return AGC_OK;
    /* per element: divided by avg in the loop; with momentum the buffer settles at d / (avg (1 - m)) */
    double l1s = l1 > 0 ? l1 * lr / (momentum_buffer != NULL ? 1.0 - momentum : 1.0) : 0.0;
    rmsprop_args a = {p, g, square_avg, grad_avg, momentum_buffer, lr, alpha, eps, weight_decay,
                      momentum, l1s, flags};
    run_chunks(n, AGC_PAR_OPTIM_HEAVY, fn, &a);
    return AGC_OK;
}

/* ---------------------------------------------------------------- Adagrad */
typedef struct {
    void *p;
    const void *g;
    void *sum;
    double clr, eps, wd, l1;
    int flags;
} adagrad_args;

/* d = g (+ wd p); sum += d d; p -= clr d / (sqrt(sum) + eps). */
#define ADAGRAD_LOOP(O)                                                                            \
    const adagrad_args *a = (const adagrad_args *)args;                                          \
    T *pp = (T *)a->p;                                                                           \
    const T *gp = (const T *)a->g;                                                               \
    T *sp = (T *)a->sum;                                                                         \
    const int has_wd = a->wd != 0, has_l1 = a->l1 > 0;                                          \
    const O##_T c_sign = O##_SET((a->flags & AGC_OPTIM_MAXIMIZE) ? -1.0 : 1.0);                  \
    const O##_T c_wd = O##_SET(a->wd), c_eps = O##_SET(a->eps), c_nclr = O##_SET(-a->clr);      \
    const O##_T c_l1 = O##_SET(a->l1), c_zero = O##_SET(0.0);                                   \
    for (; i + O##_W <= hi; i += O##_W) {                                                        \
        O##_T w = O##_LD(pp + i);                                                                \
        GRAD_IN(O, w, g, i);                                                                     \
        O##_T s = O##_ADD(O##_LD(sp + i), O##_MUL(g, g));                                        \
        O##_ST(sp + i, s);                                                                       \
        O##_T sd = O##_ADD(O##_SQRT(s), c_eps);                                                  \
        w = O##_ADD(w, O##_MUL(c_nclr, O##_DIV(g, sd)));                                         \
        SOFT_THRESHOLD(O, w, O##_DIV(c_l1, sd));                                                                    \
        O##_ST(pp + i, w);                                                                       \
    }

DEFINE_CHUNKS(adagrad, ADAGRAD_LOOP)

int agc_adagrad_step(agc_dtype dt, int64_t n, void *p, const void *g, void *sum, double clr, double eps,
                     double weight_decay, int flags, double l1)
{
    chunk_fn fn = pick_adagrad(dt);
    if (fn == NULL) return AGC_EUNSUPPORTED;
    if (n <= 0) return AGC_OK;
    adagrad_args a = {p, g, sum, clr, eps, weight_decay, l1 > 0 ? l1 * clr : 0.0, flags}; /* / sd per element */
    run_chunks(n, AGC_PAR_OPTIM_HEAVY, fn, &a);
    return AGC_OK;
}

/* ---------------------------------------------------------------- soft-threshold alone */
typedef struct {
    void *p;
    double l1;
} soft_args;

#define SOFT_LOOP(O)                                                                               \
    const soft_args *a = (const soft_args *)args;                                                \
    T *pp = (T *)a->p;                                                                           \
    const int has_l1 = a->l1 > 0;                                                                \
    const O##_T c_l1 = O##_SET(a->l1), c_zero = O##_SET(0.0);                                   \
    for (; i + O##_W <= hi; i += O##_W) {                                                        \
        O##_T w = O##_LD(pp + i);                                                                \
        SOFT_THRESHOLD(O, w, c_l1);                                                                    \
        O##_ST(pp + i, w);                                                                       \
    }

DEFINE_CHUNKS(soft, SOFT_LOOP)

int agc_soft_threshold(agc_dtype dt, int64_t n, void *p, double l1)
{
    chunk_fn fn = pick_soft(dt);
    if (fn == NULL) return AGC_EUNSUPPORTED;
    if (n <= 0 || !(l1 > 0)) return AGC_OK;
    soft_args a = {p, l1};
    run_chunks(n, AGC_PAR_OPTIM, fn, &a);
    return AGC_OK;
}
