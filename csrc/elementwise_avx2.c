/* elementwise_avx2.c: AVX2/FMA row kernels for the hot float32 ops, same contract as the portable
 * loops in elementwise.c (which stay in use for everything not listed in the tables at the end).
 * Every kernel is compiled with AGC_AVX2 (a per-function target attribute) and only reached after
 * cpu.c has checked the CPU; the file builds on any compiler and target.
 * Layout handling: unit-stride rows run straight through 8-lane vectors; the last partial vector is
 * a masked load/store through the same code, and non-unit strides are gathered into a stack block
 * first. So every element is computed by the same instructions wherever it sits: results do not
 * depend on the thread split or on the layout.
 * Exactness: ops that are exact in the portable loop (add, mul, relu, clamp, affine, floor, the
 * simple _bwd helpers ...) use the same operations in the same order (no FMA contraction), so both
 * targets give bitwise equal results. exp, log, tanh, sigmoid (and silu, gelu_tanh, and the _bwd
 * helpers built on them) use the vector functions below, accurate to ~2 ulp over the whole float32
 * range with IEEE overflow/underflow/inf/NaN behaviour (tests/test_kernels.py checks them against
 * float64 NumPy).
 * Tests: tests/test_kernels.py (runs every op under both targets). */
#include "internal.h"

#if AGC_HAVE_X86
#include <immintrin.h>
#include <math.h>

#define BLOCK 256 /* elements per gathered block for strided rows */

/* ---------------------------------------------------------------- vector math (float32) */
#define V(c) _mm256_set1_ps(c)

/* lanes [0, m) of a mask, for tails */
static AGC_AVX2 inline __m256i tail_mask(int64_t m)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)m), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* exp: x = n ln2 + r, |r| <= ln2/2 (two-constant Cody-Waite reduction, exact with FMA); e^r by its
 * degree-7 Taylor polynomial (truncation < 0.15 ulp); 2^n applied in two halves so that results
 * in the subnormal range round once and 2^128 * (e^r < 1) stays finite. Clamping x to [-104, 89]
 * (NaN passes through the max/min operand order) makes overflow give inf and underflow 0. */
static AGC_AVX2 inline __m256 exp_ps(__m256 x)
{
    x = _mm256_min_ps(V(89.0f), _mm256_max_ps(V(-104.0f), x));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, V(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, V(0.693147182464599609375f), x);
    r = _mm256_fnmadd_ps(n, V(-1.904654299957768e-09f), r);
    __m256 p = V(1.0f / 5040);
    p = _mm256_fmadd_ps(p, r, V(1.0f / 720));
    p = _mm256_fmadd_ps(p, r, V(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, V(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, V(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, V(0.5f));
    __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), V(1.0f));
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1);
    __m256i n2 = _mm256_sub_epi32(ni, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(y, s1), s2);
}

/* log: x = 2^e m with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m - 1) / (m + 1),
 * |s| < 0.172, by its odd series to s^9 (truncation < 1e-9 relative); e ln2 added in two parts.
 * Subnormal inputs are scaled by 2^23 first. */
static AGC_AVX2 inline __m256 log_ps(__m256 x)
{
    __m256 sub = _mm256_cmp_ps(x, V(1.17549435e-38f), _CMP_LT_OQ);
    __m256 xs = _mm256_blendv_ps(x, _mm256_mul_ps(x, V(8388608.0f)), sub);
    __m256 eadj = _mm256_and_ps(sub, V(23.0f));
    __m256i bits = _mm256_castps_si256(xs);
    __m256i ei = _mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127));
    __m256 m = _mm256_castsi256_ps(
        _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f800000)));
    __m256 big = _mm256_cmp_ps(m, V(1.41421356f), _CMP_GT_OQ);
    m = _mm256_blendv_ps(m, _mm256_mul_ps(m, V(0.5f)), big);
    __m256 e = _mm256_sub_ps(_mm256_add_ps(_mm256_cvtepi32_ps(ei), _mm256_and_ps(big, V(1.0f))), eadj);
    __m256 f = _mm256_sub_ps(m, V(1.0f));
    __m256 s = _mm256_div_ps(f, _mm256_add_ps(f, V(2.0f)));
    __m256 t = _mm256_add_ps(s, s);
    __m256 z = _mm256_mul_ps(s, s);
    __m256 q = V(1.0f / 9);
    q = _mm256_fmadd_ps(q, z, V(1.0f / 7));
    q = _mm256_fmadd_ps(q, z, V(1.0f / 5));
    q = _mm256_fmadd_ps(q, z, V(1.0f / 3));
    __m256 lm = _mm256_fmadd_ps(_mm256_mul_ps(t, z), q, t);
    __m256 r = _mm256_fmadd_ps(e, V(0.693359375f), _mm256_fmadd_ps(e, V(-2.12194440e-4f), lm));
    /* log(+inf) = inf, log(0) = -inf, log(x < 0) = log(NaN) = NaN */
    r = _mm256_blendv_ps(r, V(INFINITY), _mm256_cmp_ps(x, V(INFINITY), _CMP_EQ_OQ));
    r = _mm256_blendv_ps(r, V(-INFINITY), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_EQ_OQ));
    r = _mm256_blendv_ps(r, V(NAN), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_NGE_UQ));
    return r;
}

/* sigmoid = num / (1 + e) with e = exp(-|x|) <= 1 (never overflows) and num = 1 (x >= 0) or e */
static AGC_AVX2 inline __m256 sigmoid_ps(__m256 x)
{
    __m256 ax = _mm256_andnot_ps(V(-0.0f), x);
    __m256 e = exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), ax));
    __m256 num = _mm256_blendv_ps(V(1.0f), e, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
    return _mm256_div_ps(num, _mm256_add_ps(e, V(1.0f)));
}

/* tanh: |x| < 0.625: x + x z P(z), z = x^2, P a degree-5 fit (relative error < 2e-10);
 * else sign(x) (1 - 2 / (exp(2|x|) + 1)), where the subtraction loses at most a factor 0.8. */
static AGC_AVX2 inline __m256 tanh_ps(__m256 x)
{
    __m256 sign = _mm256_and_ps(x, V(-0.0f));
    __m256 ax = _mm256_andnot_ps(V(-0.0f), x);
    __m256 z = _mm256_mul_ps(x, x);
    __m256 p = V(0.0021475369576364756f);
    p = _mm256_fmadd_ps(p, z, V(-0.008182673715054989f));
    p = _mm256_fmadd_ps(p, z, V(0.021702967584133148f));
    p = _mm256_fmadd_ps(p, z, V(-0.05394720286130905f));
    p = _mm256_fmadd_ps(p, z, V(0.13333210349082947f));
    p = _mm256_fmadd_ps(p, z, V(-0.3333333134651184f));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(x, z), p, x);
    __m256 e = exp_ps(_mm256_add_ps(ax, ax));
    __m256 large = _mm256_sub_ps(V(1.0f), _mm256_div_ps(V(2.0f), _mm256_add_ps(e, V(1.0f))));
    large = _mm256_or_ps(large, sign);
    return _mm256_blendv_ps(large, small, _mm256_cmp_ps(ax, V(0.625f), _CMP_LT_OQ));
}

/* For the memory-bound ops (STREAM = 1 in the op lists), rows of at least STREAM_MIN elements
 * store with non-temporal stores: their output (>= 8 MiB per thread) would not stay in cache
 * anyway, and streaming skips the read-for-ownership of every output line (a quarter of add's
 * traffic; measured 6.1 vs 6.5-7.8 ms for a 16M add on one thread). Compute-bound ops (exp, tanh,
 * ...) measured 15-25% slower with streaming, so they keep normal stores. Returns how many leading elements to store
 * normally so the streamed part starts 32-byte aligned, or -1 for "do not stream". */
#define STREAM_MIN ((int64_t)1 << 21)
static inline int64_t stream_head(int64_t n, const float *out)
{
    uintptr_t addr = (uintptr_t)out;
    if (n < STREAM_MIN || (addr & 3) != 0) return -1;
    return (int64_t)(((32 - (addr & 31)) & 31) / 4);
}

/* ---------------------------------------------------------------- unary kernels */
/* Each op: OP(NAME, body) where body maps __m256 v (with parameters P0, P1) to the result. */
#define UNARY_F32_OPS(X)                                                                           \
    X(NEG, 1, _mm256_xor_ps(v, V(-0.0f)))                                                          \
    X(ABS, 1, _mm256_andnot_ps(V(-0.0f), v))                                                       \
    X(SQUARE, 1, _mm256_mul_ps(v, v))                                                              \
    X(EXP, 0, exp_ps(v))                                                                           \
    X(LOG, 0, log_ps(v))                                                                           \
    X(SQRT, 0, _mm256_sqrt_ps(v))                                                                  \
    X(RSQRT, 0, _mm256_div_ps(V(1.0f), _mm256_sqrt_ps(v)))                                         \
    X(TANH, 0, tanh_ps(v))                                                                         \
    X(SIGMOID, 0, sigmoid_ps(v))                                                                   \
    X(SILU, 0, _mm256_mul_ps(v, sigmoid_ps(v)))                                                    \
    X(GELU_TANH, 0, gelu_tanh_ps(v))                                                               \
    X(RELU, 1, _mm256_and_ps(v, _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NLT_UQ)))               \
    X(FLOOR, 1, _mm256_round_ps(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC))                     \
    X(CEIL, 1, _mm256_round_ps(v, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC))                      \
    X(ROUND, 1, _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC))                 \
    X(RECIPROCAL, 0, _mm256_div_ps(V(1.0f), v))                                                    \
    X(CLAMP, 1, clamp_ps(v, P0, P1))                                                               \
    X(LEAKY_RELU, 1, _mm256_blendv_ps(_mm256_mul_ps(P0, v), v, _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ))) \
    X(AFFINE, 1, _mm256_add_ps(_mm256_mul_ps(P0, v), P1))

/* (v < lo ? lo : v), then (> hi ? hi : .): NaN stays NaN, as in the portable loop */
static AGC_AVX2 inline __m256 clamp_ps(__m256 v, __m256 lo, __m256 hi)
{
    __m256 w = _mm256_blendv_ps(v, lo, _mm256_cmp_ps(v, lo, _CMP_LT_OQ));
    return _mm256_blendv_ps(w, hi, _mm256_cmp_ps(w, hi, _CMP_GT_OQ));
}

/* x sigmoid(2u), u = k (x + c x^3): the portable loop's formula (no cancellation for x < 0) */
static AGC_AVX2 inline __m256 gelu_tanh_u(__m256 v)
{
    return _mm256_mul_ps(V(0.79788456080286535588f),
                         _mm256_add_ps(v, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(V(0.044715f), v), v), v)));
}

static AGC_AVX2 inline __m256 gelu_tanh_ps(__m256 v)
{
    __m256 u = gelu_tanh_u(v);
    return _mm256_mul_ps(v, sigmoid_ps(_mm256_add_ps(u, u)));
}

/* g (s + 2 x s (1 - s) k (1 + 3 c x^2)), s = sigmoid(2u), in the portable loop's order */
static AGC_AVX2 inline __m256 gelu_tanh_bwd_ps(__m256 x, __m256 g)
{
    __m256 u = gelu_tanh_u(x);
    __m256 s = sigmoid_ps(_mm256_add_ps(u, u));
    __m256 t = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(V(2.0f), x), s), _mm256_sub_ps(V(1.0f), s));
    t = _mm256_mul_ps(_mm256_mul_ps(t, V(0.79788456080286535588f)),
                      _mm256_add_ps(V(1.0f), _mm256_mul_ps(_mm256_mul_ps(V(3 * 0.044715f), x), x)));
    return _mm256_mul_ps(g, _mm256_add_ps(s, t));
}

#define DEFINE_UNARY_F32(NAME, STREAM, BODY)                                                               \
    static AGC_AVX2 inline void u_##NAME##_run(int64_t n, const float *x, float *out, __m256 P0,   \
                                               __m256 P1, int stream)                              \
    {                                                                                              \
        (void)P0;                                                                                  \
        (void)P1;                                                                                  \
        int64_t i = 0;                                                                             \
        if (stream) {                                                                              \
            for (; i + 8 <= n; i += 8) {                                                           \
                __m256 v = _mm256_loadu_ps(x + i);                                                 \
                _mm256_stream_ps(out + i, BODY);                                                   \
            }                                                                                      \
        } else {                                                                                   \
            for (; i + 8 <= n; i += 8) {                                                           \
                __m256 v = _mm256_loadu_ps(x + i);                                                 \
                _mm256_storeu_ps(out + i, BODY);                                                   \
            }                                                                                      \
        }                                                                                          \
        if (i < n) {                                                                               \
            __m256i mask = tail_mask(n - i);                                                       \
            __m256 v = _mm256_maskload_ps(x + i, mask);                                            \
            _mm256_maskstore_ps(out + i, mask, BODY);                                              \
        }                                                                                          \
    }                                                                                              \
    static AGC_AVX2 void u_##NAME##_contig(int64_t n, const float *x, float *out, __m256 P0, __m256 P1) \
    {                                                                                              \
        int64_t head = STREAM ? stream_head(n, out) : -1;                                                        \
        if (head < 0) {                                                                            \
            u_##NAME##_run(n, x, out, P0, P1, 0);                                                  \
            return;                                                                                \
        }                                                                                          \
        u_##NAME##_run(head, x, out, P0, P1, 0);                                                   \
        u_##NAME##_run(n - head, x + head, out + head, P0, P1, 1);                                 \
        _mm_sfence();                                                                              \
    }                                                                                              \
    static AGC_AVX2 void u_##NAME##_f32_avx2(int64_t n, const void *xv, int64_t sx, void *ov,      \
                                             int64_t so, double p0, double p1)                     \
    {                                                                                              \
        const float *x = xv;                                                                       \
        float *out = ov;                                                                           \
        __m256 P0 = V((float)p0), P1 = V((float)p1);                                               \
        if (sx == 1 && so == 1) {                                                                  \
            u_##NAME##_contig(n, x, out, P0, P1);                                                  \
            return;                                                                                \
        }                                                                                          \
        float buf[BLOCK];                                                                          \
        for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {                                                \
            int64_t m = n - i0 < BLOCK ? n - i0 : BLOCK;                                           \
            for (int64_t k = 0; k < m; k++) buf[k] = x[(i0 + k) * sx];                             \
            u_##NAME##_contig(m, buf, buf, P0, P1);                                                \
            for (int64_t k = 0; k < m; k++) out[(i0 + k) * so] = buf[k];                           \
        }                                                                                          \
    }
UNARY_F32_OPS(DEFINE_UNARY_F32)

/* ---------------------------------------------------------------- binary kernels */
/* OP(NAME, body) where body maps __m256 a, b to the result */
#define BINARY_F32_OPS(X)                                                                          \
    X(ADD, 1, _mm256_add_ps(a, b))                                                                 \
    X(SUB, 1, _mm256_sub_ps(a, b))                                                                 \
    X(MUL, 1, _mm256_mul_ps(a, b))                                                                 \
    X(DIV, 0, _mm256_div_ps(a, b))                                                                 \
    X(MAXIMUM, 1, _mm256_blendv_ps(_mm256_max_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q)))     \
    X(MINIMUM, 1, _mm256_blendv_ps(_mm256_min_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q)))     \
    X(SIGMOID_BWD, 1, _mm256_mul_ps(_mm256_mul_ps(b, a), _mm256_sub_ps(V(1.0f), a)))               \
    X(TANH_BWD, 1, _mm256_mul_ps(b, _mm256_sub_ps(V(1.0f), _mm256_mul_ps(a, a))))                  \
    X(RELU_BWD, 1, _mm256_and_ps(b, _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_NLE_UQ)))            \
    X(SILU_BWD, 0, silu_bwd_ps(a, b))                                                              \
    X(GELU_TANH_BWD, 0, gelu_tanh_bwd_ps(a, b))                                                    \
    X(SOFTPLUS_BWD, 0, _mm256_blendv_ps(_mm256_mul_ps(b, sigmoid_ps(a)), b, _mm256_cmp_ps(a, V(20.0f), _CMP_GT_OQ))) \
    X(ELU_BWD, 0, _mm256_blendv_ps(_mm256_mul_ps(b, exp_ps(a)), b, _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_NLE_UQ)))

/* g s (1 + x (1 - s)) in the portable loop's order */
static AGC_AVX2 inline __m256 silu_bwd_ps(__m256 x, __m256 g)
{
    __m256 s = sigmoid_ps(x);
    __m256 t = _mm256_add_ps(V(1.0f), _mm256_mul_ps(x, _mm256_sub_ps(V(1.0f), s)));
    return _mm256_mul_ps(_mm256_mul_ps(g, s), t);
}

/* a and b each either unit-stride (sa/sb = 1) or one broadcast value (0) */
#define STORE_LOOP(LOADS, BODY)                                                                    \
    if (stream) {                                                                                  \
        for (; i + 8 <= n; i += 8) {                                                               \
            LOADS;                                                                                 \
            _mm256_stream_ps(out + i, BODY);                                                       \
        }                                                                                          \
    } else {                                                                                       \
        for (; i + 8 <= n; i += 8) {                                                               \
            LOADS;                                                                                 \
            _mm256_storeu_ps(out + i, BODY);                                                       \
        }                                                                                          \
    }
#define DEFINE_BINARY_F32(NAME, STREAM, BODY)                                                              \
    static AGC_AVX2 inline void b_##NAME##_run(int64_t n, const float *A, int64_t sa, const float *B, \
                                               int64_t sb, float *out, int stream)                 \
    {                                                                                              \
        int64_t i = 0;                                                                             \
        if (sa == 1 && sb == 1) {                                                                  \
            STORE_LOOP(__m256 a = _mm256_loadu_ps(A + i); __m256 b = _mm256_loadu_ps(B + i), BODY) \
            if (i < n) {                                                                           \
                __m256i mask = tail_mask(n - i);                                                   \
                __m256 a = _mm256_maskload_ps(A + i, mask), b = _mm256_maskload_ps(B + i, mask);   \
                _mm256_maskstore_ps(out + i, mask, BODY);                                          \
            }                                                                                      \
        } else if (sa == 1) {                                                                      \
            const __m256 b = V(B[0]);                                                              \
            STORE_LOOP(__m256 a = _mm256_loadu_ps(A + i), BODY)                                    \
            if (i < n) {                                                                           \
                __m256i mask = tail_mask(n - i);                                                   \
                __m256 a = _mm256_maskload_ps(A + i, mask);                                        \
                _mm256_maskstore_ps(out + i, mask, BODY);                                          \
            }                                                                                      \
        } else {                                                                                   \
            const __m256 a = V(A[0]);                                                              \
            STORE_LOOP(__m256 b = _mm256_loadu_ps(B + i), BODY)                                    \
            if (i < n) {                                                                           \
                __m256i mask = tail_mask(n - i);                                                   \
                __m256 b = _mm256_maskload_ps(B + i, mask);                                        \
                _mm256_maskstore_ps(out + i, mask, BODY);                                          \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static AGC_AVX2 void b_##NAME##_contig(int64_t n, const float *A, int64_t sa, const float *B,  \
                                           int64_t sb, float *out)                                 \
    {                                                                                              \
        int64_t head = STREAM ? stream_head(n, out) : -1;                                                        \
        if (head < 0) {                                                                            \
            b_##NAME##_run(n, A, sa, B, sb, out, 0);                                               \
            return;                                                                                \
        }                                                                                          \
        b_##NAME##_run(head, A, sa, B, sb, out, 0);                                                \
        b_##NAME##_run(n - head, A + head * sa, sa, B + head * sb, sb, out + head, 1);             \
        _mm_sfence();                                                                              \
    }                                                                                              \
    static AGC_AVX2 void b_##NAME##_f32_avx2(int64_t n, const void *av, int64_t sa, const void *bv, \
                                             int64_t sb, void *ov, int64_t so)                     \
    {                                                                                              \
        const float *A = av, *B = bv;                                                              \
        float *out = ov;                                                                           \
        if (so == 1 && (sa == 0 || sa == 1) && (sb == 0 || sb == 1) && (sa | sb)) {                \
            b_##NAME##_contig(n, A, sa, B, sb, out);                                               \
            return;                                                                                \
        }                                                                                          \
        float ba[BLOCK], bb[BLOCK];                                                                \
        for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {                                                \
            int64_t m = n - i0 < BLOCK ? n - i0 : BLOCK;                                           \
            for (int64_t k = 0; k < m; k++) {                                                      \
                ba[k] = A[(i0 + k) * sa];                                                          \
                bb[k] = B[(i0 + k) * sb];                                                          \
            }                                                                                      \
            b_##NAME##_contig(m, ba, 1, bb, 1, ba);                                                \
            for (int64_t k = 0; k < m; k++) out[(i0 + k) * so] = ba[k];                            \
        }                                                                                          \
    }
BINARY_F32_OPS(DEFINE_BINARY_F32)

/* ---------------------------------------------------------------- tables */
#define ENT_U(NAME, STREAM, BODY) [AGC_UNARY_##NAME][AGC_F32] = u_##NAME##_f32_avx2,
#define ENT_B(NAME, STREAM, BODY) [AGC_BINARY_##NAME][AGC_F32] = b_##NAME##_f32_avx2,
const agc_unary_kernel agc_unary_avx2[AGC_NUNARY][AGC_NDTYPES] = {UNARY_F32_OPS(ENT_U)};
const agc_binary_kernel agc_binary_avx2[AGC_NBINARY][AGC_NDTYPES] = {BINARY_F32_OPS(ENT_B)};

#endif
