/* elementwise.c: agc_unary, agc_binary, agc_where and their portable loops.
 * agc.h's op rows (their float bodies) and the per-dtype lists below expand into one typed row
 * kernel per (op, dtype) and into the portable tables that cpu.c copies into the active tables (then
 * overrides with the vector tiers, elementwise_avx2.c / elementwise_avx512.c, where the CPU allows). Each row kernel has fast paths for unit strides and, for binary ops, for a stride-0
 * (scalar-broadcast) operand; agc_iter merges dims first, so contiguous tensors are one flat row.
 * Float math goes through <tgmath.h>, so `exp(v)` is expf for float32 and exp for float64.
 * Semantics worth knowing: floordiv and mod follow Python (and NumPy): mod takes b's sign (fmod, C's, takes a's); for
 * floats b == 0 gives a / b and NaN; for int64 b == 0 gives 0 and INT64_MIN // -1 wraps. round is
 * half to even (rint). maximum/minimum propagate NaN. int64 add/sub/mul/neg/abs wrap (computed
 * unsigned: no undefined behaviour). int32 and uint8 have the integer ops too (portable loops only):
 * int32 computed in int64 and narrowed modulo 2^32, uint8 in int/unsigned and narrowed modulo 2^8,
 * so both wrap like PyTorch; logical_and/or/xor on integers are bitwise, as for int64; clamp and
 * affine parameters saturate to the dtype's range (the binding rejects bounds that do not fit).
 * out may alias an input exactly.
 * The backward helpers test the closed side of a kink (a <= 0), so a NaN input passes the gradient
 * through, as PyTorch's relu and elu do.
 * Threads: above AGC_PAR_CHEAP elements, or AGC_PAR_HEAVY for transcendental ops.
 * Tests: tests/test_kernels.py (int32 / uint8: tests/test_int_dtypes.py). */
#include "internal.h"

#include <tgmath.h>

/* ---------------------------------------------------------------- scalar helpers */
/* gelu and its derivative in double for both float types: in float32, the rounding of x / sqrt 2 and
 * of x^2 alone would cost erfc and exp a relative error of about x^2 ulp (170 ulp at x = -11.7);
 * erfc keeps the relative accuracy for large negative x, where 1 + erf cancels */
static inline double gelu_d(double v) { return 0.5 * v * erfc(-v * 0.70710678118654752440); }
static inline double gelu_grad_d(double x)
{
    return 0.5 * erfc(-x * 0.70710678118654752440) + x * (0.39894228040143267794 * exp(-0.5 * x * x));
}
#define DEFINE_FLOAT_HELPERS(T, S)                                                                 \
    /* PyTorch's rule: NaN, -0.0 and +0.0 all give +0.0 */                                         \
    static inline T sign_##S(T v) { return v > 0 ? (T)1 : v < 0 ? (T)-1 : (T)0; }                  \
    /* exp of a non-positive number never overflows */                                             \
    static inline T sigmoid_##S(T v)                                                               \
    {                                                                                              \
        if (v >= 0) return (T)1 / ((T)1 + exp(-v));                                                \
        T e = exp(v);                                                                              \
        return e / ((T)1 + e);                                                                     \
    }                                                                                              \
    static inline T maximum_##S(T a, T b) { return (a > b || isnan(a)) ? a : b; }                 \
    static inline T minimum_##S(T a, T b) { return (a < b || isnan(a)) ? a : b; }                 \
    /* Python's float floor division (what NumPy does too) */                                      \
    static inline T floordiv_##S(T a, T b)                                                         \
    {                                                                                              \
        if (b == 0) return a / b;                                                                  \
        T mod = fmod(a, b);                                                                        \
        T div = (a - mod) / b;                                                                     \
        if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;                                          \
        if (div == 0) return copysign((T)0, a / b);                                                \
        T fl = floor(div);                                                                         \
        if (div - fl > (T)0.5) fl += 1;                                                            \
        return fl;                                                                                 \
    }                                                                                              \
    static inline T mod_##S(T a, T b)                                                              \
    {                                                                                              \
        T mod = fmod(a, b);                                                                        \
        if (b == 0) return mod;                                                                    \
        if (mod != 0) {                                                                            \
            if ((b < 0) != (mod < 0)) mod += b;                                                    \
        } else {                                                                                   \
            mod = copysign((T)0, b);                                                               \
        }                                                                                          \
        return mod;                                                                                \
    }                                                                                              \
    static inline T gelu_##S(T v) { return (T)gelu_d((double)v); }                                 \
    /* 0.5 (1 + tanh(u)) = sigmoid(2u): no cancellation for negative x, where 1 + tanh(u) -> 0 */  \
    static inline T gelu_tanh_##S(T v)                                                             \
    {                                                                                              \
        T u = (T)0.79788456080286535588 * (v + (T)0.044715 * v * v * v);                           \
        return v * sigmoid_##S(u + u);                                                             \
    }                                                                                              \
    static inline T gelu_bwd_##S(T x, T g) { return (T)((double)g * gelu_grad_d((double)x)); }    \
    /* with s = sigmoid(2u): 0.5 (1 + tanh u) = s and 0.5 (1 - tanh^2 u) = 2 s (1 - s) */          \
    static inline T gelu_tanh_bwd_##S(T x, T g)                                                    \
    {                                                                                              \
        const T k = (T)0.79788456080286535588, c = (T)0.044715;                                    \
        T u = k * (x + c * x * x * x);                                                             \
        T s = sigmoid_##S(u + u);                                                                  \
        T d = s + (T)2 * x * s * ((T)1 - s) * k * ((T)1 + 3 * c * x * x);                          \
        return g * d;                                                                              \
    }                                                                                              \
    /* max(a, b) + log1p(exp(-|a - b|)): exp never overflows; equal infinities, where a - b is NaN, \
     * take the a == b branch */                                                                   \
    static inline T logaddexp_##S(T a, T b)                                                        \
    {                                                                                              \
        if (a == b) return a + (T)0.69314718055994530942;                                          \
        T d = a - b;                                                                               \
        if (isnan(d)) return d;                                                                    \
        return (d > 0 ? a : b) + log1p(exp(-fabs(d)));                                             \
    }                                                                                              \
    static inline T silu_bwd_##S(T x, T g)                                                         \
    {                                                                                              \
        T s = sigmoid_##S(x);                                                                      \
        return g * s * ((T)1 + x * ((T)1 - s));                                                    \
    }                                                                                              \
    static inline T softplus_##S(T v, T beta, T threshold)                                         \
    {                                                                                              \
        return v * beta > threshold ? v : log1p(exp(beta * v)) / beta;                             \
    }
DEFINE_FLOAT_HELPERS(float, f32)
DEFINE_FLOAT_HELPERS(double, f64)

#define SIGN(v) _Generic((v), float: sign_f32, double: sign_f64)(v)
#define SIGMOID(v) _Generic((v), float: sigmoid_f32, double: sigmoid_f64)(v)
#define MAXIMUM(a, b) _Generic((a), float: maximum_f32, double: maximum_f64)(a, b)
#define MINIMUM(a, b) _Generic((a), float: minimum_f32, double: minimum_f64)(a, b)
#define FLOORDIV(a, b) _Generic((a), float: floordiv_f32, double: floordiv_f64)(a, b)
#define MOD(a, b) _Generic((a), float: mod_f32, double: mod_f64)(a, b)
#define GELU(v) _Generic((v), float: gelu_f32, double: gelu_f64)(v)
#define GELU_TANH(v) _Generic((v), float: gelu_tanh_f32, double: gelu_tanh_f64)(v)
#define GELU_BWD(x, g) _Generic((x), float: gelu_bwd_f32, double: gelu_bwd_f64)(x, g)
#define GELU_TANH_BWD(x, g) _Generic((x), float: gelu_tanh_bwd_f32, double: gelu_tanh_bwd_f64)(x, g)
#define LOGADDEXP(a, b) _Generic((a), float: logaddexp_f32, double: logaddexp_f64)(a, b)
#define SILU_BWD(x, g) _Generic((x), float: silu_bwd_f32, double: silu_bwd_f64)(x, g)
#define SOFTPLUS(v, b, t) _Generic((v), float: softplus_f32, double: softplus_f64)(v, b, t)

/* NaN in x stays NaN (both comparisons are false) */
#define CLAMP(v, lo, hi) CLAMP_HI_((v) < (lo) ? (lo) : (v), hi)
#define CLAMP_HI_(w, hi) ((w) > (hi) ? (hi) : (w))
/* the float body of an op that has no float kernels: its table entries stay empty (FLOAT_ENTRY) */
#define NO_FLOAT_BODY ((void)a, (void)b, 0)

/* x ** p0 and p0 ** x in double (float32 too: p0 such as 1/3 is not a float), with the exact
 * shortcuts NumPy and PyTorch take for the common exponents */
static inline double pow_scalar_d(double v, double p)
{
    if (p == 2) return v * v;
    if (p == 1) return v;
    if (p == 0) return 1;
    if (p == -1) return 1 / v;
    return pow(v, p);
}

/* int64 helpers: wrapping arithmetic through uint64 */
static inline int64_t wrap_i64(uint64_t v)
{
    return (int64_t)v; /* modulo 2^64: implementation-defined in C, defined by GCC and Clang */
}
#define IADD(a, b) wrap_i64((uint64_t)(a) + (uint64_t)(b))
#define ISUB(a, b) wrap_i64((uint64_t)(a) - (uint64_t)(b))
#define IMUL(a, b) wrap_i64((uint64_t)(a) * (uint64_t)(b))
static inline int64_t sat_i64(double v)
{
    if (v != v) return 0;
    if (v >= 9223372036854775807.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
}
static inline int64_t floordiv_i64(int64_t a, int64_t b)
{
    if (b == 0) return 0;
    if (b == -1) return ISUB(0, a);
    int64_t q = a / b, r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? q - 1 : q;
}
static inline int64_t mod_i64(int64_t a, int64_t b)
{
    if (b == 0 || b == -1) return 0;
    int64_t r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
/* C's truncated remainder (a's sign); b == -1 is special-cased because INT64_MIN % -1 is undefined */
static inline int64_t fmod_i64(int64_t a, int64_t b)
{
    return (b == 0 || b == -1) ? 0 : a % b;
}
static inline int64_t pow_i64(int64_t a, int64_t b)
{
    if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
    uint64_t r = 1, base = (uint64_t)a, e = (uint64_t)b;
    while (e) {
        if (e & 1) r *= base;
        base *= base;
        e >>= 1;
    }
    return wrap_i64(r);
}
/* int32 and uint8 helpers. wrap_i32: v modulo 2^32 as int32 (the uint32 -> int32 conversion is
 * implementation-defined in C, modulo in GCC and Clang, as for wrap_i64). */
static inline int32_t wrap_i32(int64_t v)
{
    return (int32_t)(uint32_t)(uint64_t)v;
}
static inline int32_t sat_i32(double v)
{
    if (v != v) return 0;
    if (v >= 2147483647.0) return INT32_MAX;
    if (v <= -2147483648.0) return INT32_MIN;
    return (int32_t)v;
}
static inline uint8_t sat_u8(double v)
{
    if (v != v || v <= 0) return 0;
    if (v >= 255.0) return 255;
    return (uint8_t)v;
}
/* negative exponents: integer result of a ** b as for int64 (1, +-1 or 0) */
static inline int32_t pow_i32(int32_t a, int32_t b)
{
    if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
    uint32_t r = 1, base = (uint32_t)a, e = (uint32_t)b;
    while (e) {
        if (e & 1) r *= base;
        base *= base;
        e >>= 1;
    }
    return wrap_i32(r);
}
static inline uint8_t pow_u8(uint8_t a, uint8_t b)
{
    unsigned r = 1, base = a, e = b;
    while (e) {
        if (e & 1) r = (r * base) & 0xFFu;
        base = (base * base) & 0xFFu;
        e >>= 1;
    }
    return (uint8_t)r;
}
static inline int64_t clamp_i64(int64_t v, int64_t lo, int64_t hi)
{
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

/* ---------------------------------------------------------------- op lists
 * The float32/float64 bodies are the last column of agc.h's AGC_UNARY_OPS / AGC_BINARY_OPS rows.
 * The lists here are the other dtypes': X(NAME, OUT, expression), v the element, P0/P1 the
 * parameters as the element type, D0/D1 as double; OUT is SAME (the input dtype) or BOOL. Ops absent
 * from a dtype's list are unsupported for it. */

/* floor/ceil/round of an integer are the integer itself */
#define INT_UNARY(X)                                                                               \
    X(NEG, SAME, ISUB(0, v))                                                                       \
    X(ABS, SAME, v < 0 ? ISUB(0, v) : v)                                                           \
    X(SIGN, SAME, (int64_t)((v > 0) - (v < 0)))                                                    \
    X(SQUARE, SAME, IMUL(v, v))                                                                    \
    X(RELU, SAME, v < 0 ? 0 : v)                                                                   \
    X(FLOOR, SAME, v)                                                                              \
    X(CEIL, SAME, v)                                                                               \
    X(ROUND, SAME, v)                                                                              \
    X(ISNAN, BOOL, 0)                                                                              \
    X(ISFINITE, BOOL, 1)                                                                           \
    X(LOGICAL_NOT, BOOL, v == 0)                                                                   \
    X(CLAMP, SAME, clamp_i64(v, P0, P1))                                                           \
    X(AFFINE, SAME, IADD(IMUL(P0, v), P1))

/* bool */
#define SMALL_UNARY(X)                                                                             \
    X(ISNAN, BOOL, 0)                                                                              \
    X(ISFINITE, BOOL, 1)                                                                           \
    X(LOGICAL_NOT, BOOL, v == 0)

/* int32: computed in int64 (where no overflow can happen) and narrowed modulo 2^32 by wrap_i32,
 * so INT32_MAX + 1 wraps to INT32_MIN like PyTorch, without undefined behaviour */
#define I32_UNARY(X)                                                                               \
    X(NEG, SAME, wrap_i32(-(int64_t)v))                                                            \
    X(ABS, SAME, v < 0 ? wrap_i32(-(int64_t)v) : v)                                                \
    X(SIGN, SAME, (int32_t)((v > 0) - (v < 0)))                                                    \
    X(SQUARE, SAME, wrap_i32((int64_t)v * v))                                                      \
    X(RELU, SAME, v < 0 ? 0 : v)                                                                   \
    X(FLOOR, SAME, v)                                                                              \
    X(CEIL, SAME, v)                                                                               \
    X(ROUND, SAME, v)                                                                              \
    X(ISNAN, BOOL, 0)                                                                              \
    X(ISFINITE, BOOL, 1)                                                                           \
    X(LOGICAL_NOT, BOOL, v == 0)                                                                   \
    X(CLAMP, SAME, clamp_i64(v, P0, P1))                                                           \
    X(AFFINE, SAME, wrap_i32((int64_t)P0 * v + P1))

/* uint8: the operands promote to int, and the (uint8_t) conversion of the result (in the loop) is
 * modulo 2^8 by definition, so -v and v * v wrap like PyTorch's uint8 */
#define U8_UNARY(X)                                                                                \
    X(NEG, SAME, -(int)v)                                                                          \
    X(ABS, SAME, v)                                                                                \
    X(SIGN, SAME, v != 0)                                                                          \
    X(SQUARE, SAME, (unsigned)v * v)                                                               \
    X(RELU, SAME, v)                                                                               \
    X(FLOOR, SAME, v)                                                                              \
    X(CEIL, SAME, v)                                                                               \
    X(ROUND, SAME, v)                                                                              \
    X(ISNAN, BOOL, 0)                                                                              \
    X(ISFINITE, BOOL, 1)                                                                           \
    X(LOGICAL_NOT, BOOL, v == 0)                                                                   \
    X(CLAMP, SAME, clamp_i64(v, P0, P1))                                                           \
    X(AFFINE, SAME, (unsigned)P0 * v + P1)

/* the ops that read the same for every integer type: order, comparisons and bitwise logic */
#define INT_ORDER_BITS(X)                                                                          \
    X(MAXIMUM, SAME, a > b ? a : b)                                                                \
    X(MINIMUM, SAME, a < b ? a : b)                                                                \
    X(EQ, BOOL, a == b)                                                                            \
    X(NE, BOOL, a != b)                                                                            \
    X(LT, BOOL, a < b)                                                                             \
    X(LE, BOOL, a <= b)                                                                            \
    X(GT, BOOL, a > b)                                                                             \
    X(GE, BOOL, a >= b)                                                                            \
    X(LOGICAL_AND, SAME, a & b)                                                                    \
    X(LOGICAL_OR, SAME, a | b)                                                                     \
    X(LOGICAL_XOR, SAME, a ^ b)

#define INT_BINARY(X)                                                                              \
    X(ADD, SAME, IADD(a, b))                                                                       \
    X(SUB, SAME, ISUB(a, b))                                                                       \
    X(MUL, SAME, IMUL(a, b))                                                                       \
    X(FLOORDIV, SAME, floordiv_i64(a, b))                                                          \
    X(MOD, SAME, mod_i64(a, b))                                                                    \
    X(FMOD, SAME, fmod_i64(a, b))                                                                  \
    X(POW, SAME, pow_i64(a, b))                                                                    \
    INT_ORDER_BITS(X)

/* int32: sums and products in int64, narrowed modulo 2^32 (wrap_i32); floordiv/mod as for int64,
 * b == 0 gives 0 (the binding raises first) and INT32_MIN // -1 wraps to INT32_MIN */
#define I32_BINARY(X)                                                                              \
    X(ADD, SAME, wrap_i32((int64_t)a + b))                                                         \
    X(SUB, SAME, wrap_i32((int64_t)a - b))                                                         \
    X(MUL, SAME, wrap_i32((int64_t)a * b))                                                         \
    X(FLOORDIV, SAME, wrap_i32(floordiv_i64(a, b)))                                                \
    X(MOD, SAME, (int32_t)mod_i64(a, b))                                                           \
    X(FMOD, SAME, (int32_t)fmod_i64(a, b))                                                         \
    X(POW, SAME, pow_i32(a, b))                                                                    \
    INT_ORDER_BITS(X)

/* uint8: int arithmetic on the promoted operands, narrowed modulo 2^8 by the loop's conversion */
#define U8_BINARY(X)                                                                               \
    X(ADD, SAME, (unsigned)a + b)                                                                  \
    X(SUB, SAME, (unsigned)a - b)                                                                  \
    X(MUL, SAME, (unsigned)a * b)                                                                  \
    X(FLOORDIV, SAME, b ? a / b : 0)                                                               \
    X(MOD, SAME, b ? a % b : 0)                                                                    \
    X(FMOD, SAME, b ? a % b : 0)                                                                   \
    X(POW, SAME, pow_u8(a, b))                                                                     \
    INT_ORDER_BITS(X)

/* bool operands are 0 or 1; add/mul/maximum/minimum act as or/and, like PyTorch's bool tensors */
#define BOOL_BINARY(X)                                                                             \
    X(ADD, SAME, a | b)                                                                            \
    X(MUL, SAME, a & b)                                                                            \
    X(MAXIMUM, SAME, a | b)                                                                        \
    X(MINIMUM, SAME, a & b)                                                                        \
    X(EQ, BOOL, a == b)                                                                            \
    X(NE, BOOL, a != b)                                                                            \
    X(LT, BOOL, a < b)                                                                             \
    X(LE, BOOL, a <= b)                                                                            \
    X(GT, BOOL, a > b)                                                                             \
    X(GE, BOOL, a >= b)                                                                            \
    X(LOGICAL_AND, BOOL, (a != 0) & (b != 0))                                                      \
    X(LOGICAL_OR, BOOL, (a != 0) | (b != 0))                                                       \
    X(LOGICAL_XOR, BOOL, (a != 0) ^ (b != 0))

/* ---------------------------------------------------------------- loop generators */
#define OUT_SAME(T) T
#define OUT_BOOL(T) uint8_t
#define PCONV_float(d) ((float)(d))
#define PCONV_double(d) (d)
#define PCONV_int64_t(d) sat_i64(d)
#define PCONV_uint8_t(d) sat_u8(d)
#define PCONV_int32_t(d) sat_i32(d)

/* The loops of one row kernel, writing elements of type TO. */
#define UNARY_ROWS(T, TO, EXPR)                                                                    \
    {                                                                                              \
        TO *out = ov;                                                                              \
        if (sx == 1 && so == 1) {                                                                  \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const T v = x[i];                                                                  \
                (void)v;                                                                           \
                out[i] = (TO)(EXPR);                                                               \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const T v = x[i * sx];                                                             \
                (void)v;                                                                           \
                out[i * so] = (TO)(EXPR);                                                          \
            }                                                                                      \
        }                                                                                          \
    }

#define UNARY_SIGNATURE(fname)                                                                     \
    static void fname(int64_t n, const void *xv, int64_t sx, void *ov, int64_t so, double D0, double D1)

#define UNARY_LOCALS(T)                                                                            \
    const T *x = xv;                                                                               \
    const T P0 = PCONV_##T(D0), P1 = PCONV_##T(D1);                                                \
    (void)P0;                                                                                      \
    (void)P1;                                                                                      \
    (void)D0;                                                                                      \
    (void)D1;

#define UNARY_LOOP(fname, T, OUT, EXPR)                                                            \
    UNARY_SIGNATURE(fname)                                                                         \
    {                                                                                              \
        UNARY_LOCALS(T)                                                                            \
        UNARY_ROWS(T, OUT_##OUT(T), EXPR)                                                          \
    }

/* an agc.h row's float kernel: bool output for BOOL_OUT ops (a constant test the compiler folds) */
#define FLOAT_UNARY_LOOP(fname, T, FLAGS, EXPR)                                                    \
    UNARY_SIGNATURE(fname)                                                                         \
    {                                                                                              \
        UNARY_LOCALS(T)                                                                            \
        if ((FLAGS) & AGC_OP_BOOL_OUT)                                                             \
            UNARY_ROWS(T, uint8_t, EXPR)                                                           \
        else                                                                                       \
            UNARY_ROWS(T, T, EXPR)                                                                 \
    }

#define BINARY_ROWS(T, TO, EXPR)                                                                   \
    {                                                                                              \
        TO *out = ov;                                                                              \
        if (so == 1 && sa == 1 && sb == 1) {                                                       \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const T a = A[i], b = B[i];                                                        \
                out[i] = (TO)(EXPR);                                                               \
            }                                                                                      \
        } else if (so == 1 && sa == 1 && sb == 0) {                                                \
            const T b = B[0];                                                                      \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const T a = A[i];                                                                  \
                out[i] = (TO)(EXPR);                                                               \
            }                                                                                      \
        } else if (so == 1 && sa == 0 && sb == 1) {                                                \
            const T a = A[0];                                                                      \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const T b = B[i];                                                                  \
                out[i] = (TO)(EXPR);                                                               \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const T a = A[i * sa], b = B[i * sb];                                              \
                out[i * so] = (TO)(EXPR);                                                          \
            }                                                                                      \
        }                                                                                          \
    }

#define BINARY_SIGNATURE(fname)                                                                    \
    static void fname(int64_t n, const void *av, int64_t sa, const void *bv, int64_t sb, void *ov, int64_t so)

#define BINARY_LOOP(fname, T, OUT, EXPR)                                                           \
    BINARY_SIGNATURE(fname)                                                                        \
    {                                                                                              \
        const T *A = av, *B = bv;                                                                  \
        BINARY_ROWS(T, OUT_##OUT(T), EXPR)                                                         \
    }

#define FLOAT_BINARY_LOOP(fname, T, FLAGS, EXPR)                                                   \
    BINARY_SIGNATURE(fname)                                                                        \
    {                                                                                              \
        const T *A = av, *B = bv;                                                                  \
        if ((FLAGS) & AGC_OP_BOOL_OUT)                                                             \
            BINARY_ROWS(T, uint8_t, EXPR)                                                          \
        else                                                                                       \
            BINARY_ROWS(T, T, EXPR)                                                                \
    }

/* agc.h's rows: X(NAME, name, flags, fused, body) and X(NAME, name, flags, body) */
#define GEN_U_FLOAT(NAME, name, flags, fused, body, ...)                                           \
    FLOAT_UNARY_LOOP(u_##NAME##_f32, float, flags, body)                                           \
    FLOAT_UNARY_LOOP(u_##NAME##_f64, double, flags, body)
#define GEN_B_FLOAT(NAME, name, flags, body, ...)                                                  \
    FLOAT_BINARY_LOOP(b_##NAME##_f32, float, flags, body)                                          \
    FLOAT_BINARY_LOOP(b_##NAME##_f64, double, flags, body)
#define GEN_U_I64(NAME, OUT, EXPR) UNARY_LOOP(u_##NAME##_i64, int64_t, OUT, EXPR)
#define GEN_U_BOOL(NAME, OUT, EXPR) UNARY_LOOP(u_##NAME##_bool, uint8_t, OUT, EXPR)
#define GEN_U_I32(NAME, OUT, EXPR) UNARY_LOOP(u_##NAME##_i32, int32_t, OUT, EXPR)
#define GEN_U_U8(NAME, OUT, EXPR) UNARY_LOOP(u_##NAME##_u8, uint8_t, OUT, EXPR)
#define GEN_B_I64(NAME, OUT, EXPR) BINARY_LOOP(b_##NAME##_i64, int64_t, OUT, EXPR)
#define GEN_B_BOOL(NAME, OUT, EXPR) BINARY_LOOP(b_##NAME##_bool, uint8_t, OUT, EXPR)
#define GEN_B_I32(NAME, OUT, EXPR) BINARY_LOOP(b_##NAME##_i32, int32_t, OUT, EXPR)
#define GEN_B_U8(NAME, OUT, EXPR) BINARY_LOOP(b_##NAME##_u8, uint8_t, OUT, EXPR)

AGC_UNARY_OPS(GEN_U_FLOAT)
INT_UNARY(GEN_U_I64)
SMALL_UNARY(GEN_U_BOOL)
I32_UNARY(GEN_U_I32)
U8_UNARY(GEN_U_U8)
AGC_BINARY_OPS(GEN_B_FLOAT)
INT_BINARY(GEN_B_I64)
BOOL_BINARY(GEN_B_BOOL)
I32_BINARY(GEN_B_I32)
U8_BINARY(GEN_B_U8)

/* ---------------------------------------------------------------- tables */
#define ENT_U(NAME, DT, S) [AGC_UNARY_##NAME][DT] = u_##NAME##_##S,
#define ENT_U_FLOAT(NAME, ...) ENT_U(NAME, AGC_F32, f32) ENT_U(NAME, AGC_F64, f64)
#define ENT_U_I64(NAME, OUT, EXPR) ENT_U(NAME, AGC_I64, i64)
#define ENT_U_SMALL(NAME, OUT, EXPR) ENT_U(NAME, AGC_BOOL, bool)
#define ENT_U_I32(NAME, OUT, EXPR) ENT_U(NAME, AGC_I32, i32)
#define ENT_U_U8(NAME, OUT, EXPR) ENT_U(NAME, AGC_U8, u8)
#define ENT_B(NAME, DT, S) [AGC_BINARY_##NAME][DT] = b_##NAME##_##S,
/* NO_FLOAT ops keep empty float entries: their generated float kernels are never installed */
#define FLOAT_ENTRY(NAME, flags, S) ((flags) & AGC_OP_NO_FLOAT ? NULL : b_##NAME##_##S)
#define ENT_B_FLOAT(NAME, name, flags, ...)                                                        \
    [AGC_BINARY_##NAME][AGC_F32] = FLOAT_ENTRY(NAME, flags, f32),                                  \
    [AGC_BINARY_##NAME][AGC_F64] = FLOAT_ENTRY(NAME, flags, f64),
#define ENT_B_I64(NAME, OUT, EXPR) ENT_B(NAME, AGC_I64, i64)
#define ENT_B_BOOL(NAME, OUT, EXPR) ENT_B(NAME, AGC_BOOL, bool)
#define ENT_B_I32(NAME, OUT, EXPR) ENT_B(NAME, AGC_I32, i32)
#define ENT_B_U8(NAME, OUT, EXPR) ENT_B(NAME, AGC_U8, u8)

const agc_unary_kernel agc_unary_portable[AGC_NUNARY][AGC_NDTYPES] = {
    AGC_UNARY_OPS(ENT_U_FLOAT) INT_UNARY(ENT_U_I64) SMALL_UNARY(ENT_U_SMALL)
    I32_UNARY(ENT_U_I32) U8_UNARY(ENT_U_U8)};
const agc_binary_kernel agc_binary_portable[AGC_NBINARY][AGC_NDTYPES] = {
    AGC_BINARY_OPS(ENT_B_FLOAT) INT_BINARY(ENT_B_I64) BOOL_BINARY(ENT_B_BOOL)
    I32_BINARY(ENT_B_I32) U8_BINARY(ENT_B_U8)};

agc_unary_kernel agc_unary_active[AGC_NUNARY][AGC_NDTYPES];
agc_binary_kernel agc_binary_active[AGC_NBINARY][AGC_NDTYPES];

/* ---------------------------------------------------------------- drivers */
typedef struct {
    agc_unary_kernel k;
    double p0, p1;
} unary_ctx;

static void unary_row(void *ctx, int64_t n, char *const *p, const int64_t *s)
{
    unary_ctx *c = ctx;
    c->k(n, p[0], s[0], p[1], s[1], c->p0, c->p1);
}

int agc_unary(int op, agc_dtype dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx,
              void *out, const int64_t *so, double p0, double p1)
{
    agc_init();
    if (op < 0 || op >= AGC_NUNARY || (int)dt < 0 || dt >= AGC_NDTYPES) return AGC_EUNSUPPORTED;
    unary_ctx c = {agc_unary_active[op][dt], p0, p1};
    if (!c.k) return AGC_EUNSUPPORTED;
    agc_iter it;
    const int64_t *strides[2] = {sx, so};
    agc_iter_init(&it, 2, ndim, shape, strides);
    char *base[2] = {(char *)x, (char *)out};
    int64_t isz[2] = {(int64_t)agc_dtype_size(dt), (int64_t)agc_dtype_size(agc_unary_out_dtype(op, dt))};
    agc_iter_run(&it, base, isz, agc_unary_heavy(op, dt) ? AGC_PAR_HEAVY : AGC_PAR_CHEAP, unary_row, &c);
    return AGC_OK;
}

typedef struct {
    agc_binary_kernel k;
} binary_ctx;

static void binary_row(void *ctx, int64_t n, char *const *p, const int64_t *s)
{
    ((binary_ctx *)ctx)->k(n, p[0], s[0], p[1], s[1], p[2], s[2]);
}

int agc_binary(int op, agc_dtype dt, int ndim, const int64_t *shape, const void *a, const int64_t *sa,
               const void *b, const int64_t *sb, void *out, const int64_t *so)
{
    agc_init();
    if (op < 0 || op >= AGC_NBINARY || (int)dt < 0 || dt >= AGC_NDTYPES) return AGC_EUNSUPPORTED;
    binary_ctx c = {agc_binary_active[op][dt]};
    if (!c.k) return AGC_EUNSUPPORTED;
    agc_iter it;
    const int64_t *strides[3] = {sa, sb, so};
    agc_iter_init(&it, 3, ndim, shape, strides);
    char *base[3] = {(char *)a, (char *)b, (char *)out};
    int64_t w = (int64_t)agc_dtype_size(dt);
    int64_t isz[3] = {w, w, (int64_t)agc_dtype_size(agc_binary_out_dtype(op, dt))};
    agc_iter_run(&it, base, isz, agc_binary_heavy(op, dt) ? AGC_PAR_HEAVY : AGC_PAR_CHEAP, binary_row, &c);
    return AGC_OK;
}

/* ---------------------------------------------------------------- where */
#define DEFINE_WHERE(W, T)                                                                         \
    static void where_##W(int64_t n, const uint8_t *c, int64_t sc, const T *a, int64_t sa,         \
                          const T *b, int64_t sb, T *out, int64_t so)                              \
    {                                                                                              \
        if (sc == 1 && sa == 1 && sb == 1 && so == 1)                                              \
            for (int64_t i = 0; i < n; i++) out[i] = c[i] ? a[i] : b[i];                           \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++) out[i * so] = c[i * sc] ? a[i * sa] : b[i * sb];      \
    }
DEFINE_WHERE(1, uint8_t)
DEFINE_WHERE(4, uint32_t)
DEFINE_WHERE(8, uint64_t)

static void where_row(void *ctx, int64_t n, char *const *p, const int64_t *s)
{
    int w = *(int *)ctx;
    const uint8_t *c = (const uint8_t *)p[0];
    if (w == 1)
        where_1(n, c, s[0], (const uint8_t *)p[1], s[1], (const uint8_t *)p[2], s[2], (uint8_t *)p[3], s[3]);
    else if (w == 4)
        where_4(n, c, s[0], (const uint32_t *)p[1], s[1], (const uint32_t *)p[2], s[2], (uint32_t *)p[3],
                s[3]);
    else
        where_8(n, c, s[0], (const uint64_t *)p[1], s[1], (const uint64_t *)p[2], s[2], (uint64_t *)p[3],
                s[3]);
}

int agc_where(agc_dtype dt, int ndim, const int64_t *shape, const uint8_t *cond, const int64_t *sc,
              const void *a, const int64_t *sa, const void *b, const int64_t *sb, void *out,
              const int64_t *so)
{
    if ((int)dt < 0 || dt >= AGC_NDTYPES) return AGC_EUNSUPPORTED;
    int w = (int)agc_dtype_size(dt);
    if (w != 1 && w != 4 && w != 8) return AGC_EUNSUPPORTED; /* float16/bfloat16: the binding selects in float32 */
    agc_iter it;
    const int64_t *strides[4] = {sc, sa, sb, so};
    agc_iter_init(&it, 4, ndim, shape, strides);
    char *base[4] = {(char *)cond, (char *)a, (char *)b, (char *)out};
    int64_t isz[4] = {1, w, w, w};
    agc_iter_run(&it, base, isz, AGC_PAR_CHEAP, where_row, &w);
    return AGC_OK;
}
