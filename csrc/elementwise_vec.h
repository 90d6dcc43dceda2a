/* elementwise_vec.h: the float32 row kernels of the vector tiers, written once over vec.h and
 * compiled per ISA by elementwise_avx2.c and elementwise_avx512.c (each includes vec.h, then this).
 * Same contract as the portable loops in elementwise.c, which stay in use for everything not in the
 * tables at the end (other dtypes, rarer ops) and are the reference the tests measure these against.
 * Layout handling: unit-stride rows run straight through VF_W-lane vectors; the last partial vector
 * is a masked load/store through the same code, and non-unit strides are gathered into a stack
 * block first. So every element is computed by the same instructions wherever it sits: results do
 * not depend on the thread split or on the layout, and the AVX2 and AVX-512 instances give the same
 * bits (vec.h's math uses the same operation order on both).
 * Exactness: ops that are exact in the portable loop (add, mul, relu, clamp, affine, floor, the
 * simple _bwd helpers ...) use the same operations in the same order (no FMA contraction: the
 * build's -std=c11 turns it off), so they equal the portable loop bitwise. exp, log, tanh,
 * sigmoid, erf (and silu, gelu, gelu_tanh, and the _bwd helpers built on them) use vec.h's
 * functions; tests/test_kernels.py states and checks their ulp bounds against float64.
 * Streaming: for the memory-bound ops (STREAM = 1 in the op lists), rows of at least STREAM_MIN
 * elements store with non-temporal stores: their output (>= 8 MiB per thread) would not stay in
 * cache anyway, and streaming skips the read-for-ownership of every output line (a quarter of
 * add's traffic; measured 6.1 vs 6.5-7.8 ms for a 16M add on one thread). Compute-bound ops (exp,
 * tanh, ...) measured 15-25% slower with streaming, so they keep normal stores. */
#ifndef AGC_VEC_H
#error "include vec.h first"
#endif

#define BLOCK 256 /* elements per gathered block for strided rows (a multiple of every VF_W) */
#define STREAM_MIN ((int64_t)1 << 21)

/* How many leading elements to store normally so the streamed part starts vector-aligned, or -1
 * for "do not stream". */
static inline int64_t stream_head(int64_t n, const float *out)
{
    const uintptr_t addr = (uintptr_t)out, vb = VF_W * sizeof(float);
    if (n < STREAM_MIN || (addr & 3) != 0) return -1;
    return (int64_t)(((vb - (addr & (vb - 1))) & (vb - 1)) / sizeof(float));
}

/* ---------------------------------------------------------------- scalar-op bodies */
/* (v < lo ? lo : v), then (> hi ? hi : .): NaN stays NaN, as in the portable loop */
VEC_FN vf clamp_v(vf v, vf lo, vf hi)
{
    vf w = vf_select(vf_lt(v, lo), lo, v);
    return vf_select(vf_gt(w, hi), hi, w);
}

/* u = k (x + c x^3), computed as the portable loop does */
VEC_FN vf gelu_tanh_u(vf v)
{
    return vf_mul(VC(0.79788456080286535588f), vf_add(v, vf_mul(vf_mul(vf_mul(VC(0.044715f), v), v), v)));
}

/* x sigmoid(2u): no cancellation for x < 0 */
VEC_FN vf gelu_tanh_v(vf v)
{
    vf u = gelu_tanh_u(v);
    return vf_mul(v, vf_sigmoid(vf_add(u, u)));
}

/* g (s + 2 x s (1 - s) k (1 + 3 c x^2)), s = sigmoid(2u), in the portable loop's order */
VEC_FN vf gelu_tanh_bwd_v(vf x, vf g)
{
    vf u = gelu_tanh_u(x);
    vf s = vf_sigmoid(vf_add(u, u));
    vf t = vf_mul(vf_mul(vf_mul(VC(2.0f), x), s), vf_sub(VC(1.0f), s));
    t = vf_mul(vf_mul(t, VC(0.79788456080286535588f)),
               vf_add(VC(1.0f), vf_mul(vf_mul(VC(3 * 0.044715f), x), x)));
    return vf_mul(g, vf_add(s, t));
}

/* g s (1 + x (1 - s)) in the portable loop's order */
VEC_FN vf silu_bwd_v(vf x, vf g)
{
    vf s = vf_sigmoid(x);
    return vf_mul(vf_mul(g, s), vf_add(VC(1.0f), vf_mul(x, vf_sub(VC(1.0f), s))));
}

/* ---------------------------------------------------------------- op lists */
/* X(NAME, STREAM, body): body maps vf v (parameters P0, P1) to the result */
#define VEC_UNARY_F32(X)                                                                           \
    X(NEG, 1, vf_neg(v))                                                                           \
    X(ABS, 1, vf_abs(v))                                                                           \
    X(SQUARE, 1, vf_mul(v, v))                                                                     \
    X(EXP, 0, vf_exp(v))                                                                           \
    X(LOG, 0, vf_log(v))                                                                           \
    X(SQRT, 0, vf_sqrt(v))                                                                         \
    X(RSQRT, 0, vf_div(VC(1.0f), vf_sqrt(v)))                                                      \
    X(TANH, 0, vf_tanh(v))                                                                         \
    X(SIGMOID, 0, vf_sigmoid(v))                                                                   \
    X(SILU, 0, vf_mul(v, vf_sigmoid(v)))                                                           \
    X(GELU, 0, vf_gelu(v))                                                                         \
    X(GELU_TANH, 0, gelu_tanh_v(v))                                                                \
    X(ERF, 0, vf_erf(v))                                                                           \
    X(RELU, 1, vf_select(vf_lt(v, vf_zero()), vf_zero(), v))                                       \
    X(FLOOR, 1, vf_floor(v))                                                                       \
    X(CEIL, 1, vf_ceil(v))                                                                         \
    X(ROUND, 1, vf_rint(v))                                                                        \
    X(RECIPROCAL, 0, vf_div(VC(1.0f), v))                                                          \
    X(CLAMP, 1, clamp_v(v, P0, P1))                                                                \
    X(LEAKY_RELU, 1, vf_select(vf_gt(v, vf_zero()), v, vf_mul(P0, v)))                             \
    X(AFFINE, 1, vf_add(vf_mul(P0, v), P1))

/* X(NAME, STREAM, body): body maps vf a, b to the result */
#define VEC_BINARY_F32(X)                                                                          \
    X(ADD, 1, vf_add(a, b))                                                                        \
    X(SUB, 1, vf_sub(a, b))                                                                        \
    X(MUL, 1, vf_mul(a, b))                                                                        \
    X(DIV, 0, vf_div(a, b))                                                                        \
    X(MAXIMUM, 1, vf_select(vf_isnan(a), a, vf_max(a, b)))                                         \
    X(MINIMUM, 1, vf_select(vf_isnan(a), a, vf_min(a, b)))                                         \
    X(SIGMOID_BWD, 1, vf_mul(vf_mul(b, a), vf_sub(VC(1.0f), a)))                                   \
    X(TANH_BWD, 1, vf_mul(b, vf_sub(VC(1.0f), vf_mul(a, a))))                                      \
    X(RELU_BWD, 1, vf_select(vf_le(a, vf_zero()), vf_zero(), b))                                  \
    X(SILU_BWD, 0, silu_bwd_v(a, b))                                                               \
    X(GELU_BWD, 0, vf_mul(b, vf_gelu_grad(a)))                                                     \
    X(GELU_TANH_BWD, 0, gelu_tanh_bwd_v(a, b))                                                     \
    X(SOFTPLUS_BWD, 0, vf_select(vf_gt(a, VC(20.0f)), b, vf_mul(b, vf_sigmoid(a))))               \
    X(ELU_BWD, 0, vf_select(vf_le(a, vf_zero()), vf_mul(b, vf_exp(a)), b))

/* ---------------------------------------------------------------- unary kernels */
#define DEFINE_VEC_UNARY(NAME, STREAM, BODY)                                                       \
    VEC_FN void u_##NAME##_run(int64_t n, const float *x, float *out, vf P0, vf P1, int stream)    \
    {                                                                                              \
        (void)P0;                                                                                  \
        (void)P1;                                                                                  \
        int64_t i = 0;                                                                             \
        if (stream) {                                                                              \
            for (; i + VF_W <= n; i += VF_W) {                                                     \
                vf v = vf_load(x + i);                                                             \
                vf_stream(out + i, BODY);                                                          \
            }                                                                                      \
        } else {                                                                                   \
            for (; i + VF_W <= n; i += VF_W) {                                                     \
                vf v = vf_load(x + i);                                                             \
                vf_store(out + i, BODY);                                                           \
            }                                                                                      \
        }                                                                                          \
        if (i < n) {                                                                               \
            vf v = vf_load_part(x + i, n - i);                                                     \
            vf_store_part(out + i, n - i, BODY);                                                   \
        }                                                                                          \
    }                                                                                              \
    static VEC_TARGET void u_##NAME##_contig(int64_t n, const float *x, float *out, vf P0, vf P1)  \
    {                                                                                              \
        const int64_t head = STREAM ? stream_head(n, out) : -1;                                    \
        if (head < 0) {                                                                            \
            u_##NAME##_run(n, x, out, P0, P1, 0);                                                  \
            return;                                                                                \
        }                                                                                          \
        u_##NAME##_run(head, x, out, P0, P1, 0);                                                   \
        u_##NAME##_run(n - head, x + head, out + head, P0, P1, 1);                                 \
        vec_sfence();                                                                              \
    }                                                                                              \
    static VEC_TARGET void u_##NAME##_f32(int64_t n, const void *xv, int64_t sx, void *ov,         \
                                          int64_t so, double p0, double p1)                        \
    {                                                                                              \
        const float *x = xv;                                                                       \
        float *out = ov;                                                                           \
        const vf P0 = VC((float)p0), P1 = VC((float)p1);                                           \
        if (sx == 1 && so == 1) {                                                                  \
            u_##NAME##_contig(n, x, out, P0, P1);                                                  \
            return;                                                                                \
        }                                                                                          \
        float buf[BLOCK];                                                                          \
        for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {                                                \
            const int64_t m = n - i0 < BLOCK ? n - i0 : BLOCK;                                     \
            for (int64_t k = 0; k < m; k++) buf[k] = x[(i0 + k) * sx];                             \
            u_##NAME##_contig(m, buf, buf, P0, P1);                                                \
            for (int64_t k = 0; k < m; k++) out[(i0 + k) * so] = buf[k];                           \
        }                                                                                          \
    }
VEC_UNARY_F32(DEFINE_VEC_UNARY)

/* ---------------------------------------------------------------- binary kernels */
/* a and b each either unit-stride or one broadcast value (stride 0) */
#define VEC_STORE_LOOP(LOADS, BODY)                                                                \
    if (stream) {                                                                                  \
        for (; i + VF_W <= n; i += VF_W) {                                                         \
            LOADS;                                                                                 \
            vf_stream(out + i, BODY);                                                              \
        }                                                                                          \
    } else {                                                                                       \
        for (; i + VF_W <= n; i += VF_W) {                                                         \
            LOADS;                                                                                 \
            vf_store(out + i, BODY);                                                               \
        }                                                                                          \
    }
#define DEFINE_VEC_BINARY(NAME, STREAM, BODY)                                                      \
    VEC_FN void b_##NAME##_run(int64_t n, const float *A, int64_t sa, const float *B, int64_t sb,  \
                               float *out, int stream)                                             \
    {                                                                                              \
        int64_t i = 0;                                                                             \
        if (sa == 1 && sb == 1) {                                                                  \
            VEC_STORE_LOOP(vf a = vf_load(A + i); vf b = vf_load(B + i), BODY)                     \
            if (i < n) {                                                                           \
                vf a = vf_load_part(A + i, n - i), b = vf_load_part(B + i, n - i);                 \
                vf_store_part(out + i, n - i, BODY);                                               \
            }                                                                                      \
        } else if (sa == 1) {                                                                      \
            const vf b = VC(B[0]);                                                                 \
            VEC_STORE_LOOP(vf a = vf_load(A + i), BODY)                                            \
            if (i < n) {                                                                           \
                vf a = vf_load_part(A + i, n - i);                                                 \
                vf_store_part(out + i, n - i, BODY);                                               \
            }                                                                                      \
        } else {                                                                                   \
            const vf a = VC(A[0]);                                                                 \
            VEC_STORE_LOOP(vf b = vf_load(B + i), BODY)                                            \
            if (i < n) {                                                                           \
                vf b = vf_load_part(B + i, n - i);                                                 \
                vf_store_part(out + i, n - i, BODY);                                               \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static VEC_TARGET void b_##NAME##_contig(int64_t n, const float *A, int64_t sa, const float *B, \
                                             int64_t sb, float *out)                               \
    {                                                                                              \
        const int64_t head = STREAM ? stream_head(n, out) : -1;                                    \
        if (head < 0) {                                                                            \
            b_##NAME##_run(n, A, sa, B, sb, out, 0);                                               \
            return;                                                                                \
        }                                                                                          \
        b_##NAME##_run(head, A, sa, B, sb, out, 0);                                                \
        b_##NAME##_run(n - head, A + head * sa, sa, B + head * sb, sb, out + head, 1);             \
        vec_sfence();                                                                              \
    }                                                                                              \
    static VEC_TARGET void b_##NAME##_f32(int64_t n, const void *av, int64_t sa, const void *bv,   \
                                          int64_t sb, void *ov, int64_t so)                        \
    {                                                                                              \
        const float *A = av, *B = bv;                                                              \
        float *out = ov;                                                                           \
        if (so == 1 && (sa == 0 || sa == 1) && (sb == 0 || sb == 1) && (sa | sb)) {                \
            b_##NAME##_contig(n, A, sa, B, sb, out);                                               \
            return;                                                                                \
        }                                                                                          \
        float ba[BLOCK], bb[BLOCK];                                                                \
        for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {                                                \
            const int64_t m = n - i0 < BLOCK ? n - i0 : BLOCK;                                     \
            for (int64_t k = 0; k < m; k++) {                                                      \
                ba[k] = A[(i0 + k) * sa];                                                          \
                bb[k] = B[(i0 + k) * sb];                                                          \
            }                                                                                      \
            b_##NAME##_contig(m, ba, 1, bb, 1, ba);                                                \
            for (int64_t k = 0; k < m; k++) out[(i0 + k) * so] = ba[k];                            \
        }                                                                                          \
    }
VEC_BINARY_F32(DEFINE_VEC_BINARY)

/* ---------------------------------------------------------------- this tier's tables */
#define VEC_ENT_U(NAME, STREAM, BODY) [AGC_UNARY_##NAME][AGC_F32] = u_##NAME##_f32,
#define VEC_ENT_B(NAME, STREAM, BODY) [AGC_BINARY_##NAME][AGC_F32] = b_##NAME##_f32,
const agc_unary_kernel VEC_NAME(agc_unary)[AGC_NUNARY][AGC_NDTYPES] = {VEC_UNARY_F32(VEC_ENT_U)};
const agc_binary_kernel VEC_NAME(agc_binary)[AGC_NBINARY][AGC_NDTYPES] = {VEC_BINARY_F32(VEC_ENT_B)};
