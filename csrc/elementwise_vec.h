/* elementwise_vec.h: the float32 and float64 row kernels of the vector tiers, written once over vec.h
 * and compiled per ISA by elementwise_avx2.c and elementwise_avx512.c (each includes vec.h, then this).
 * One op list and one set of kernel bodies serve both types: they name vector ops through V(op) and
 * constants through K(c), and are expanded twice, once with V(op) = vf_op (float32) and once with
 * V(op) = vd_op (float64); the op list's F64 column says which ops have a float64 row (all of them
 * now; softplus and elu forward are not in the lists for either type and run the portable loops).
 * Same contract as the portable loops in elementwise.c, which stay in use for everything not in the
 * tables at the end (other dtypes, rarer ops) and are the reference the tests measure these against.
 * Layout handling: unit-stride rows run straight through VF_W-lane (float64: VD_W-lane) vectors; the
 * last partial vector
 * is a masked load/store through the same code, and non-unit strides are gathered into a stack block
 * first. So every element is computed by the same instructions wherever it sits: results do
 * not depend on the thread split or on the layout, and the AVX2 and AVX-512 instances give the same
 * bits (vec.h's math uses the same operation order on both).
 * Exactness: ops that are exact in the portable loop (add, mul, relu, clamp, affine, floor, the
 * simple _bwd helpers ...) use the same operations in the same order (no FMA contraction: the
 * build's -std=c11 turns it off), so they equal the portable loop bitwise. exp, log, tanh,
 * sigmoid, erf (and silu, gelu, gelu_tanh, and the _bwd helpers built on them) use vec.h's
 * functions; tests/test_kernels.py states and checks their float32 ulp bounds against float64,
 * tests/test_vec_tiers_f64.py the float64 ones against long double.
 * Streaming: for the memory-bound ops (STREAM = 1 in the op lists), rows of at least STREAM_MIN
 * elements store with non-temporal stores: their output (>= 8 MiB per thread, 16 in float64) would
 * not stay in cache anyway, and streaming skips the read-for-ownership of every output line (a quarter of
 * add's traffic; measured 6.1 vs 6.5-7.8 ms for a 16M add on one thread). Compute-bound ops (exp,
 * tanh, ...) measured 15-25% slower with streaming, so they keep normal stores. */
#ifndef AGC_VEC_H
#error "include vec.h first"
#endif

#define BLOCK 256 /* elements per gathered block for strided rows (a multiple of every VF_W) */
#define STREAM_MIN ((int64_t)1 << 21)

/* How many leading elements (of es bytes) to store normally so the streamed part starts
 * vector-aligned, or -1 for "do not stream". */
static inline int64_t stream_head(int64_t n, const void *out, size_t es)
{
    const uintptr_t addr = (uintptr_t)out, vb = VF_W * sizeof(float);
    if (n < STREAM_MIN || (addr & (es - 1)) != 0) return -1;
    return (int64_t)(((vb - (addr & (vb - 1))) & (vb - 1)) / es);
}

/* ---------------------------------------------------------------- the type being expanded */
/* EW_P: the vector ops' prefix, EW_V/EW_T/EW_W: vector, element and lane count, EW_SFX: the kernels'
 * suffix, EW_LIT: the constants' literal suffix, EW_DT: the dtype code; EW_GATE_0 keeps or drops the
 * ops whose F64 column is 0. Set by EW_TYPE_F32 / EW_TYPE_F64 below. */
#define EW_CAT_(a, b) a##b
#define EW_CAT(a, b) EW_CAT_(a, b)
#define V(op) EW_CAT(EW_P, op)
#define K(c) V(set1)(EW_CAT(c, EW_LIT))
#define EW_FN(name) EW_CAT(name, EW_SFX)
#define EW_GATE_1(...) __VA_ARGS__

/* ---------------------------------------------------------------- scalar-op bodies */
#define EW_HELPERS()                                                                               \
    /* (v < lo ? lo : v), then (> hi ? hi : .): NaN stays NaN, as in the portable loop */         \
    VEC_FN EW_V EW_FN(clamp_v)(EW_V v, EW_V lo, EW_V hi)                                           \
    {                                                                                              \
        EW_V w = V(select)(V(lt)(v, lo), lo, v);                                                   \
        return V(select)(V(gt)(w, hi), hi, w);                                                     \
    }                                                                                              \
    /* u = k (x + c x^3), computed as the portable loop does */                                   \
    VEC_FN EW_V EW_FN(gelu_tanh_u)(EW_V v)                                                         \
    {                                                                                              \
        return V(mul)(K(0.79788456080286535588), V(add)(v, V(mul)(V(mul)(V(mul)(K(0.044715), v), v), v))); \
    }                                                                                              \
    /* x sigmoid(2u): no cancellation for x < 0 */                                                 \
    VEC_FN EW_V EW_FN(gelu_tanh_v)(EW_V v)                                                         \
    {                                                                                              \
        EW_V u = EW_FN(gelu_tanh_u)(v);                                                            \
        return V(mul)(v, V(sigmoid)(V(add)(u, u)));                                                \
    }                                                                                              \
    /* g (s + 2 x s (1 - s) k (1 + 3 c x^2)), s = sigmoid(2u), in the portable loop's order */    \
    VEC_FN EW_V EW_FN(gelu_tanh_bwd_v)(EW_V x, EW_V g)                                             \
    {                                                                                              \
        EW_V u = EW_FN(gelu_tanh_u)(x);                                                            \
        EW_V s = V(sigmoid)(V(add)(u, u));                                                         \
        EW_V t = V(mul)(V(mul)(V(mul)(K(2.0), x), s), V(sub)(K(1.0), s));                          \
        t = V(mul)(V(mul)(t, K(0.79788456080286535588)), V(add)(K(1.0), V(mul)(V(mul)(K(3 * 0.044715), x), x))); \
        return V(mul)(g, V(add)(s, t));                                                            \
    }                                                                                              \
    /* g s (1 + x (1 - s)) in the portable loop's order */                                        \
    VEC_FN EW_V EW_FN(silu_bwd_v)(EW_V x, EW_V g)                                                  \
    {                                                                                              \
        EW_V s = V(sigmoid)(x);                                                                    \
        return V(mul)(V(mul)(g, s), V(add)(K(1.0), V(mul)(x, V(sub)(K(1.0), s))));                 \
    }

/* ---------------------------------------------------------------- op lists */
/* X(NAME, STREAM, F64, body): body maps the vector v (parameters P0, P1) to the result; F64 = 1 when
 * the op has a float64 row */
#define VEC_UNARY_OPS(X)                                                                           \
    X(NEG, 1, 1, V(neg)(v))                                                                        \
    X(ABS, 1, 1, V(abs)(v))                                                                        \
    X(SQUARE, 1, 1, V(mul)(v, v))                                                                  \
    X(EXP, 0, 1, V(exp)(v))                                                                        \
    X(LOG, 0, 1, V(log)(v))                                                                        \
    X(SQRT, 0, 1, V(sqrt)(v))                                                                      \
    X(RSQRT, 0, 1, V(div)(K(1.0), V(sqrt)(v)))                                                     \
    X(TANH, 0, 1, V(tanh)(v))                                                                      \
    X(SIGMOID, 0, 1, V(sigmoid)(v))                                                                \
    X(SILU, 0, 1, V(mul)(v, V(sigmoid)(v)))                                                        \
    X(GELU, 0, 1, V(gelu)(v))                                                                      \
    X(GELU_TANH, 0, 1, EW_FN(gelu_tanh_v)(v))                                                      \
    X(ERF, 0, 1, V(erf)(v))                                                                        \
    X(RELU, 1, 1, V(select)(V(lt)(v, V(zero)()), V(zero)(), v))                                    \
    X(FLOOR, 1, 1, V(floor)(v))                                                                    \
    X(CEIL, 1, 1, V(ceil)(v))                                                                      \
    X(ROUND, 1, 1, V(rint)(v))                                                                     \
    X(RECIPROCAL, 0, 1, V(div)(K(1.0), v))                                                         \
    X(CLAMP, 1, 1, EW_FN(clamp_v)(v, P0, P1))                                                      \
    X(LEAKY_RELU, 1, 1, V(select)(V(gt)(v, V(zero)()), v, V(mul)(P0, v)))                          \
    X(AFFINE, 1, 1, V(add)(V(mul)(P0, v), P1))

/* X(NAME, STREAM, F64, body): body maps the vectors a, b to the result */
#define VEC_BINARY_OPS(X)                                                                          \
    X(ADD, 1, 1, V(add)(a, b))                                                                     \
    X(SUB, 1, 1, V(sub)(a, b))                                                                     \
    X(MUL, 1, 1, V(mul)(a, b))                                                                     \
    X(DIV, 0, 1, V(div)(a, b))                                                                     \
    X(MAXIMUM, 1, 1, V(select)(V(isnan)(a), a, V(max)(a, b)))                                      \
    X(MINIMUM, 1, 1, V(select)(V(isnan)(a), a, V(min)(a, b)))                                      \
    X(SIGMOID_BWD, 1, 1, V(mul)(V(mul)(b, a), V(sub)(K(1.0), a)))                                  \
    X(TANH_BWD, 1, 1, V(mul)(b, V(sub)(K(1.0), V(mul)(a, a))))                                     \
    X(RELU_BWD, 1, 1, V(select)(V(le)(a, V(zero)()), V(zero)(), b))                                \
    X(SILU_BWD, 0, 1, EW_FN(silu_bwd_v)(a, b))                                                     \
    X(GELU_BWD, 0, 1, V(mul)(b, V(gelu_grad)(a)))                                                  \
    X(GELU_TANH_BWD, 0, 1, EW_FN(gelu_tanh_bwd_v)(a, b))                                           \
    X(SOFTPLUS_BWD, 0, 1, V(select)(V(gt)(a, K(20.0)), b, V(mul)(b, V(sigmoid)(a))))               \
    X(ELU_BWD, 0, 1, V(select)(V(le)(a, V(zero)()), V(mul)(b, V(exp)(a)), b))

/* ---------------------------------------------------------------- unary kernels */
#define DEFINE_VEC_UNARY_(NAME, STREAM, BODY)                                                      \
    VEC_FN void EW_FN(u_##NAME##_run)(int64_t n, const EW_T *x, EW_T *out, EW_V P0, EW_V P1, int stream) \
    {                                                                                              \
        (void)P0;                                                                                  \
        (void)P1;                                                                                  \
        int64_t i = 0;                                                                             \
        if (stream) {                                                                              \
            for (; i + EW_W <= n; i += EW_W) {                                                     \
                EW_V v = V(load)(x + i);                                                           \
                V(stream)(out + i, BODY);                                                          \
            }                                                                                      \
        } else {                                                                                   \
            for (; i + EW_W <= n; i += EW_W) {                                                     \
                EW_V v = V(load)(x + i);                                                           \
                V(store)(out + i, BODY);                                                           \
            }                                                                                      \
        }                                                                                          \
        if (i < n) {                                                                               \
            EW_V v = V(load_part)(x + i, n - i);                                                   \
            V(store_part)(out + i, n - i, BODY);                                                   \
        }                                                                                          \
    }                                                                                              \
    static VEC_TARGET void EW_FN(u_##NAME##_contig)(int64_t n, const EW_T *x, EW_T *out, EW_V P0, EW_V P1) \
    {                                                                                              \
        const int64_t head = STREAM ? stream_head(n, out, sizeof(EW_T)) : -1;                      \
        if (head < 0) {                                                                            \
            EW_FN(u_##NAME##_run)(n, x, out, P0, P1, 0);                                           \
            return;                                                                                \
        }                                                                                          \
        EW_FN(u_##NAME##_run)(head, x, out, P0, P1, 0);                                            \
        EW_FN(u_##NAME##_run)(n - head, x + head, out + head, P0, P1, 1);                          \
        vec_sfence();                                                                              \
    }                                                                                              \
    static VEC_TARGET void EW_FN(u_##NAME)(int64_t n, const void *xv, int64_t sx, void *ov, int64_t so, \
                                           double p0, double p1)                                   \
    {                                                                                              \
        const EW_T *x = xv;                                                                        \
        EW_T *out = ov;                                                                            \
        const EW_V P0 = V(set1)((EW_T)p0), P1 = V(set1)((EW_T)p1);                                 \
        if (sx == 1 && so == 1) {                                                                  \
            EW_FN(u_##NAME##_contig)(n, x, out, P0, P1);                                           \
            return;                                                                                \
        }                                                                                          \
        EW_T buf[BLOCK];                                                                           \
        for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {                                                \
            const int64_t m = n - i0 < BLOCK ? n - i0 : BLOCK;                                     \
            for (int64_t k = 0; k < m; k++) buf[k] = x[(i0 + k) * sx];                             \
            EW_FN(u_##NAME##_contig)(m, buf, buf, P0, P1);                                         \
            for (int64_t k = 0; k < m; k++) out[(i0 + k) * so] = buf[k];                           \
        }                                                                                          \
    }
#define DEFINE_VEC_UNARY(NAME, STREAM, F64, BODY) EW_GATE_##F64(DEFINE_VEC_UNARY_(NAME, STREAM, BODY))

/* ---------------------------------------------------------------- binary kernels */
/* a and b each either unit-stride or one broadcast value (stride 0) */
#define VEC_STORE_LOOP(LOADS, BODY)                                                                \
    if (stream) {                                                                                  \
        for (; i + EW_W <= n; i += EW_W) {                                                         \
            LOADS;                                                                                 \
            V(stream)(out + i, BODY);                                                              \
        }                                                                                          \
    } else {                                                                                       \
        for (; i + EW_W <= n; i += EW_W) {                                                         \
            LOADS;                                                                                 \
            V(store)(out + i, BODY);                                                               \
        }                                                                                          \
    }
#define DEFINE_VEC_BINARY_(NAME, STREAM, BODY)                                                     \
    VEC_FN void EW_FN(b_##NAME##_run)(int64_t n, const EW_T *A, int64_t sa, const EW_T *B, int64_t sb, \
                                      EW_T *out, int stream)                                       \
    {                                                                                              \
        int64_t i = 0;                                                                             \
        if (sa == 1 && sb == 1) {                                                                  \
            VEC_STORE_LOOP(EW_V a = V(load)(A + i); EW_V b = V(load)(B + i), BODY)                 \
            if (i < n) {                                                                           \
                EW_V a = V(load_part)(A + i, n - i), b = V(load_part)(B + i, n - i);               \
                V(store_part)(out + i, n - i, BODY);                                               \
            }                                                                                      \
        } else if (sa == 1) {                                                                      \
            const EW_V b = V(set1)(B[0]);                                                          \
            VEC_STORE_LOOP(EW_V a = V(load)(A + i), BODY)                                          \
            if (i < n) {                                                                           \
                EW_V a = V(load_part)(A + i, n - i);                                               \
                V(store_part)(out + i, n - i, BODY);                                               \
            }                                                                                      \
        } else {                                                                                   \
            const EW_V a = V(set1)(A[0]);                                                          \
            VEC_STORE_LOOP(EW_V b = V(load)(B + i), BODY)                                          \
            if (i < n) {                                                                           \
                EW_V b = V(load_part)(B + i, n - i);                                               \
                V(store_part)(out + i, n - i, BODY);                                               \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static VEC_TARGET void EW_FN(b_##NAME##_contig)(int64_t n, const EW_T *A, int64_t sa, const EW_T *B, \
                                                    int64_t sb, EW_T *out)                         \
    {                                                                                              \
        const int64_t head = STREAM ? stream_head(n, out, sizeof(EW_T)) : -1;                      \
        if (head < 0) {                                                                            \
            EW_FN(b_##NAME##_run)(n, A, sa, B, sb, out, 0);                                        \
            return;                                                                                \
        }                                                                                          \
        EW_FN(b_##NAME##_run)(head, A, sa, B, sb, out, 0);                                         \
        EW_FN(b_##NAME##_run)(n - head, A + head * sa, sa, B + head * sb, sb, out + head, 1);      \
        vec_sfence();                                                                              \
    }                                                                                              \
    static VEC_TARGET void EW_FN(b_##NAME)(int64_t n, const void *av, int64_t sa, const void *bv,  \
                                           int64_t sb, void *ov, int64_t so)                       \
    {                                                                                              \
        const EW_T *A = av, *B = bv;                                                               \
        EW_T *out = ov;                                                                            \
        if (so == 1 && (sa == 0 || sa == 1) && (sb == 0 || sb == 1) && (sa | sb)) {                \
            EW_FN(b_##NAME##_contig)(n, A, sa, B, sb, out);                                        \
            return;                                                                                \
        }                                                                                          \
        EW_T ba[BLOCK], bb[BLOCK];                                                                 \
        for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {                                                \
            const int64_t m = n - i0 < BLOCK ? n - i0 : BLOCK;                                     \
            for (int64_t k = 0; k < m; k++) {                                                      \
                ba[k] = A[(i0 + k) * sa];                                                          \
                bb[k] = B[(i0 + k) * sb];                                                          \
            }                                                                                      \
            EW_FN(b_##NAME##_contig)(m, ba, 1, bb, 1, ba);                                         \
            for (int64_t k = 0; k < m; k++) out[(i0 + k) * so] = ba[k];                            \
        }                                                                                          \
    }
#define DEFINE_VEC_BINARY(NAME, STREAM, F64, BODY) EW_GATE_##F64(DEFINE_VEC_BINARY_(NAME, STREAM, BODY))

/* ---------------------------------------------------------------- the two expansions */
#define EW_P vf_
#define EW_V vf
#define EW_T float
#define EW_W VF_W
#define EW_SFX _f32
#define EW_LIT f
#define EW_GATE_0(...) __VA_ARGS__
EW_HELPERS()
VEC_UNARY_OPS(DEFINE_VEC_UNARY)
VEC_BINARY_OPS(DEFINE_VEC_BINARY)
#undef EW_P
#undef EW_V
#undef EW_T
#undef EW_W
#undef EW_SFX
#undef EW_LIT
#undef EW_GATE_0

#define EW_P vd_
#define EW_V vd
#define EW_T double
#define EW_W VD_W
#define EW_SFX _f64
#define EW_LIT
#define EW_GATE_0(...)
EW_HELPERS()
VEC_UNARY_OPS(DEFINE_VEC_UNARY)
VEC_BINARY_OPS(DEFINE_VEC_BINARY)

/* ---------------------------------------------------------------- this tier's tables */
#define EW_IF_0(...)
#define EW_IF_1(...) __VA_ARGS__
#define VEC_ENT_U(NAME, STREAM, F64, BODY)                                                         \
    [AGC_UNARY_##NAME][AGC_F32] = u_##NAME##_f32, EW_IF_##F64([AGC_UNARY_##NAME][AGC_F64] = u_##NAME##_f64, )
#define VEC_ENT_B(NAME, STREAM, F64, BODY)                                                         \
    [AGC_BINARY_##NAME][AGC_F32] = b_##NAME##_f32, EW_IF_##F64([AGC_BINARY_##NAME][AGC_F64] = b_##NAME##_f64, )
const agc_unary_kernel VEC_NAME(agc_unary)[AGC_NUNARY][AGC_NDTYPES] = {VEC_UNARY_OPS(VEC_ENT_U)};
const agc_binary_kernel VEC_NAME(agc_binary)[AGC_NBINARY][AGC_NDTYPES] = {VEC_BINARY_OPS(VEC_ENT_B)};
