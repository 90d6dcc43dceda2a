/* elementwise.c: agc_unary, agc_binary, agc_where and their portable loops.
 * agc.h's op rows expand into one typed row kernel per (op, dtype of the row's dtypes column), from
 * the row's one body, and into the portable tables that cpu.c copies into the active tables (then
 * overrides with the vector tiers, elementwise_avx2.c / elementwise_avx512.c, where the CPU allows).
 * Each row kernel has fast paths for unit strides and, for binary ops, for a stride-0
 * (scalar-broadcast) operand; agc_iter merges dims first, so contiguous tensors are one flat row.
 * A body is one expression for all of its dtypes: float math goes through <tgmath.h> (`exp(v)` is
 * expf for float32), and the type-generic helpers below (_Generic over the element type) give each
 * dtype its own semantics where an operator would not.
 * Semantics worth knowing: floordiv and mod follow Python (and NumPy): mod takes b's sign (fmod, C's,
 * takes a's); for floats b == 0 gives a / b and NaN; for integers b == 0 gives 0 and INT_MIN // -1
 * wraps. round is half to even (rint). maximum/minimum propagate NaN. Integer add/sub/mul/neg/abs
 * wrap modulo 2^64, 2^32 or 2^8 like PyTorch (computed in uint64_t: no undefined behaviour);
 * logical_and/or/xor on integers are bitwise; clamp and affine parameters saturate to the dtype's
 * range (the binding rejects bounds that do not fit). Bool elements are uint8_t 0 or 1 and run the
 * uint8 expression, except add (or), hand-written below.
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

/* the floats' cases of the type-generic helpers (TYPED below): the plain operator or <tgmath.h> */
#define DEFINE_FLOAT_BASICS(T, S)                                                                  \
    static inline T wadd_##S(T a, T b) { return a + b; }                                           \
    static inline T wsub_##S(T a, T b) { return a - b; }                                           \
    static inline T wmul_##S(T a, T b) { return a * b; }                                           \
    static inline T wneg_##S(T v) { return -v; }                                                   \
    static inline T abs_##S(T v) { return fabs(v); }                                               \
    static inline T floor_##S(T v) { return floor(v); }                                            \
    static inline T ceil_##S(T v) { return ceil(v); }                                              \
    static inline T rint_##S(T v) { return rint(v); }                                              \
    static inline int isnan_##S(T v) { return isnan(v) != 0; }                                    \
    static inline int isfinite_##S(T v) { return isfinite(v) != 0; }                              \
    static inline T fmod_##S(T a, T b) { return fmod(a, b); }                                      \
    static inline T pow_##S(T a, T b) { return pow(a, b); }
DEFINE_FLOAT_BASICS(float, f32)
DEFINE_FLOAT_BASICS(double, f64)

/* NaN in x stays NaN (both comparisons are false) */
#define CLAMP(v, lo, hi) CLAMP_HI_((v) < (lo) ? (lo) : (v), hi)
#define CLAMP_HI_(w, hi) ((w) > (hi) ? (hi) : (w))

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

/* ---------------------------------------------------------------- integer helpers
 * The integers' cases of the type-generic helpers. Arithmetic goes through uint64_t, where overflow
 * is defined (modulo 2^64), and the conversion back to the element type keeps the low bits (modulo
 * 2^64 / 2^32 / 2^8: implementation-defined in C for the signed types, defined by GCC and Clang), so
 * every integer dtype wraps like PyTorch's without undefined behaviour. */
#define DEFINE_INT_HELPERS(T, S)                                                                   \
    static inline T wadd_##S(T a, T b) { return (T)((uint64_t)a + (uint64_t)b); }                  \
    static inline T wsub_##S(T a, T b) { return (T)((uint64_t)a - (uint64_t)b); }                  \
    static inline T wmul_##S(T a, T b) { return (T)((uint64_t)a * (uint64_t)b); }                  \
    static inline T wneg_##S(T v) { return (T)(0 - (uint64_t)v); }                                 \
    static inline T abs_##S(T v) { return v < (T)0 ? wneg_##S(v) : v; } /* INT_MIN stays */       \
    static inline T sign_##S(T v) { return (T)((v > (T)0) - (v < (T)0)); }                         \
    static inline T maximum_##S(T a, T b) { return a > b ? a : b; }                                \
    static inline T minimum_##S(T a, T b) { return a < b ? a : b; }                                \
    static inline T floor_##S(T v) { return v; }                                                   \
    static inline T ceil_##S(T v) { return v; }                                                    \
    static inline T rint_##S(T v) { return v; }                                                    \
    static inline int isnan_##S(T v) { return (void)v, 0; }                                        \
    static inline int isfinite_##S(T v) { return (void)v, 1; }
DEFINE_INT_HELPERS(int64_t, i64)
DEFINE_INT_HELPERS(int32_t, i32)
DEFINE_INT_HELPERS(uint8_t, u8)

static inline int64_t sat_i64(double v)
{
    if (v != v) return 0;
    if (v >= 9223372036854775807.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
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

/* Integer division, modulo and power: the semantics differ from the floats' (Python's floor and
 * modulo rounding on integers, b == 0 giving 0 where the binding has not raised, INT_MIN / -1 and
 * INT_MIN % -1 undefined in C, exact integer powers), so these are written per integer type. */
static inline int64_t floordiv_i64(int64_t a, int64_t b)
{
    if (b == 0) return 0;
    if (b == -1) return wneg_i64(a);
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
/* int32 through the int64 helpers, where INT32_MIN / -1 is defined; the quotient wraps back */
static inline int32_t floordiv_i32(int32_t a, int32_t b) { return (int32_t)floordiv_i64(a, b); }
static inline int32_t mod_i32(int32_t a, int32_t b) { return (int32_t)mod_i64(a, b); }
static inline int32_t fmod_i32(int32_t a, int32_t b) { return (int32_t)fmod_i64(a, b); }
/* uint8: no negative operands, so C's / and % are already Python's */
static inline uint8_t floordiv_u8(uint8_t a, uint8_t b) { return b ? a / b : 0; }
static inline uint8_t mod_u8(uint8_t a, uint8_t b) { return b ? a % b : 0; }
static inline uint8_t fmod_u8(uint8_t a, uint8_t b) { return b ? a % b : 0; }
/* exact powers by squaring, wrapping like the products; a negative exponent gives the integer part
 * of a ** b (1, +-1 or 0) */
static inline int64_t pow_i64(int64_t a, int64_t b)
{
    if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
    uint64_t r = 1, base = (uint64_t)a, e = (uint64_t)b;
    while (e) {
        if (e & 1) r *= base;
        base *= base;
        e >>= 1;
    }
    return (int64_t)r;
}
static inline int32_t pow_i32(int32_t a, int32_t b)
{
    if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
    uint32_t r = 1, base = (uint32_t)a, e = (uint32_t)b;
    while (e) {
        if (e & 1) r *= base;
        base *= base;
        e >>= 1;
    }
    return (int32_t)r;
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

/* ---------------------------------------------------------------- type-generic helpers
 * The names agc.h's bodies use. TYPED(fn, x) is fn's version for x's type: x is an element (v, a)
 * or a parameter (P0), const-qualified or not (_Generic drops the qualifier). The float-only ones
 * (SIGMOID, GELU ...) have float cases only: a row that uses them lists FLOATS. */
#define TYPED(fn, x)                                                                               \
    _Generic((x), float: fn##_f32, double: fn##_f64, int64_t: fn##_i64, int32_t: fn##_i32, uint8_t: fn##_u8)
#define FLOAT_TYPED(fn, x) _Generic((x), float: fn##_f32, double: fn##_f64)
#define WRAP_ADD(a, b) TYPED(wadd, a)(a, b)
#define WRAP_SUB(a, b) TYPED(wsub, a)(a, b)
#define WRAP_MUL(a, b) TYPED(wmul, a)(a, b)
#define WRAP_NEG(v) TYPED(wneg, v)(v)
#define ABS(v) TYPED(abs, v)(v)
#define SIGN(v) TYPED(sign, v)(v)
#define FLOOR(v) TYPED(floor, v)(v)
#define CEIL(v) TYPED(ceil, v)(v)
#define RINT(v) TYPED(rint, v)(v)
#define ISNAN(v) TYPED(isnan, v)(v)
#define ISFINITE(v) TYPED(isfinite, v)(v)
#define MAXIMUM(a, b) TYPED(maximum, a)(a, b)
#define MINIMUM(a, b) TYPED(minimum, a)(a, b)
#define FLOORDIV(a, b) TYPED(floordiv, a)(a, b)
#define MOD(a, b) TYPED(mod, a)(a, b)
#define FMOD(a, b) TYPED(fmod, a)(a, b)
#define POW(a, b) TYPED(pow, a)(a, b)
#define SIGMOID(v) FLOAT_TYPED(sigmoid, v)(v)
#define GELU(v) FLOAT_TYPED(gelu, v)(v)
#define GELU_TANH(v) FLOAT_TYPED(gelu_tanh, v)(v)
#define GELU_BWD(x, g) FLOAT_TYPED(gelu_bwd, x)(x, g)
#define GELU_TANH_BWD(x, g) FLOAT_TYPED(gelu_tanh_bwd, x)(x, g)
#define LOGADDEXP(a, b) FLOAT_TYPED(logaddexp, a)(a, b)
#define SILU_BWD(x, g) FLOAT_TYPED(silu_bwd, x)(x, g)
#define SOFTPLUS(v, b, t) FLOAT_TYPED(softplus, v)(v, b, t)

/* ---------------------------------------------------------------- dtype sets
 * agc.h's dtypes column: DTYPES_<set>(G, ...) calls G(suffix, element type, dtype, ...) once per
 * dtype of the set. */
#define DTYPES_FLOATS(G, ...) G(f32, float, AGC_F32, __VA_ARGS__) G(f64, double, AGC_F64, __VA_ARGS__)
#define DTYPES_INTS(G, ...)                                                                        \
    G(i64, int64_t, AGC_I64, __VA_ARGS__) G(i32, int32_t, AGC_I32, __VA_ARGS__) G(u8, uint8_t, AGC_U8, __VA_ARGS__)
#define DTYPES_NUMBERS(G, ...) DTYPES_FLOATS(G, __VA_ARGS__) DTYPES_INTS(G, __VA_ARGS__)
#define DTYPES_ALL(G, ...) DTYPES_NUMBERS(G, __VA_ARGS__) G(bool, uint8_t, AGC_BOOL, __VA_ARGS__)
#define DTYPES_INTS_BOOL(G, ...) DTYPES_INTS(G, __VA_ARGS__) G(bool, uint8_t, AGC_BOOL, __VA_ARGS__)

/* The one kernel no row can give: bool add is or (true + true is true), where the uint8 body would
 * write 2. X(NAME, expression). */
#define BOOL_BINARY_HAND(X) X(ADD, a | b)

/* ---------------------------------------------------------------- loop generators */
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


/* an agc.h row's kernel for element type T: bool output for BOOL_OUT ops (a constant test the
 * compiler folds) */
#define ROW_UNARY_LOOP(fname, T, FLAGS, EXPR)                                                    \
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

#define ROW_BINARY_LOOP(fname, T, FLAGS, EXPR)                                                   \
    BINARY_SIGNATURE(fname)                                                                        \
    {                                                                                              \
        const T *A = av, *B = bv;                                                                  \
        if ((FLAGS) & AGC_OP_BOOL_OUT)                                                             \
            BINARY_ROWS(T, uint8_t, EXPR)                                                          \
        else                                                                                       \
            BINARY_ROWS(T, T, EXPR)                                                                \
    }

/* agc.h's rows: X(NAME, name, flags, fused, dtypes, body) and X(NAME, name, flags, dtypes, body) */
#define GEN_U_ONE(S, T, DT, NAME, flags, body) ROW_UNARY_LOOP(u_##NAME##_##S, T, flags, body)
#define GEN_U(NAME, name, flags, fused, dtypes, body, ...) DTYPES_##dtypes(GEN_U_ONE, NAME, flags, body)
#define GEN_B_ONE(S, T, DT, NAME, flags, body) ROW_BINARY_LOOP(b_##NAME##_##S, T, flags, body)
#define GEN_B(NAME, name, flags, dtypes, body, ...) DTYPES_##dtypes(GEN_B_ONE, NAME, flags, body)
#define GEN_B_BOOL_HAND(NAME, EXPR) ROW_BINARY_LOOP(b_##NAME##_bool, uint8_t, 0, EXPR)

AGC_UNARY_OPS(GEN_U)
AGC_BINARY_OPS(GEN_B)
BOOL_BINARY_HAND(GEN_B_BOOL_HAND)

/* ---------------------------------------------------------------- tables */
#define ENT_U_ONE(S, T, DT, NAME) [AGC_UNARY_##NAME][DT] = u_##NAME##_##S,
#define ENT_U(NAME, name, flags, fused, dtypes, ...) DTYPES_##dtypes(ENT_U_ONE, NAME)
#define ENT_B_ONE(S, T, DT, NAME) [AGC_BINARY_##NAME][DT] = b_##NAME##_##S,
#define ENT_B(NAME, name, flags, dtypes, ...) DTYPES_##dtypes(ENT_B_ONE, NAME)
#define ENT_B_BOOL_HAND(NAME, EXPR) [AGC_BINARY_##NAME][AGC_BOOL] = b_##NAME##_bool,

const agc_unary_kernel agc_unary_portable[AGC_NUNARY][AGC_NDTYPES] = {AGC_UNARY_OPS(ENT_U)};
const agc_binary_kernel agc_binary_portable[AGC_NBINARY][AGC_NDTYPES] = {
    AGC_BINARY_OPS(ENT_B) BOOL_BINARY_HAND(ENT_B_BOOL_HAND)};

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
