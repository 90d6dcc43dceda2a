/* agc.h: the only header the Cython binding sees. Types, and each kernel's prototype with its contract.
 *
 * Conventions for every kernel below:
 *  - Sizes, shapes and strides are int64_t and strides are in ELEMENTS (not bytes). Strides may be 0
 *    (broadcast) or negative (flip); they are never checked here: the binding validates every
 *    argument before calling, and C never sees user input the binding has not checked.
 *  - Pointers point at the first element of the view (storage base + offset already applied).
 *  - ndim <= AGC_MAX_DIMS. ndim == 0 means a single element.
 *  - Arguments go: sizes, inputs, outputs (named out). Strides pair up as (x, sx).
 *  - Return value: 0 on success; AGC_EUNSUPPORTED when (op, dtype) is not implemented (the binding
 *    turns it into a Python TypeError naming the op); AGC_ENOMEM when an allocation failed.
 *  - Kernels run without the GIL and may use OpenMP threads above a size threshold. No result of
 *    any kernel depends on the number of threads (reductions use a fixed blocking order).
 */
#ifndef AGC_H
#define AGC_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AGC_MAX_DIMS 16
#define AGC_ALIGN 64

#define AGC_OK 0
#define AGC_EUNSUPPORTED (-1)
#define AGC_ENOMEM (-2)

typedef enum {
    AGC_F32 = 0,
    AGC_F64 = 1,
    AGC_I64 = 2,
    AGC_BOOL = 3, /* one byte, 0 or 1 */
    AGC_I32 = 4,
    AGC_U8 = 5,
    /* storage-only floats: copies and casts (storage.c) and data movement (index.c) handle them; every
     * other kernel returns AGC_EUNSUPPORTED, and the binding computes them in float32 */
    AGC_F16 = 6,  /* IEEE binary16 */
    AGC_BF16 = 7, /* bfloat16: float32's sign and exponent, 7 mantissa bits */
    AGC_NDTYPES = 8
} agc_dtype;

/* ---------------------------------------------------------------- runtime: cpu.c */
/* Instruction-set tiers, narrowest first. A tier's kernels run only where the CPU has its instructions
 * and the OS saves its registers (CPUID plus XGETBV, cpu.c). A family without kernels of the active
 * tier uses those of the widest narrower tier it has. */
typedef enum {
    AGC_ISA_PORTABLE = 0, /* plain C loops: the reference every tier is tested against */
    AGC_ISA_AVX2 = 1,     /* AVX2 + FMA, 256-bit */
    AGC_ISA_AVX512 = 2,   /* AVX-512 F, BW, DQ, VL, 512-bit */
    AGC_NISA = 3
} agc_isa;

/* Run once at import: detects the CPU's tiers and selects the widest. AGC_SIMD=portable|avx2|avx512 in
 * the environment forces one; if that one is unknown or unavailable, agc_init_error() says why and the
 * binding refuses to import. */
void agc_init(void);
const char *agc_init_error(void);
/* The tier in use, its name ("portable", "avx2", "avx512"), and whether this CPU and OS run a tier. */
agc_isa agc_isa_active(void);
const char *agc_isa_name(agc_isa isa);
int agc_isa_available(agc_isa isa);
/* 1 in the emulation test build (AGC_EMU512=1, tools/emu512.sh): there the avx512 tier is vec.h's
 * 16-lane kernels emulated on AVX2, available wherever AVX2 is, and the families written with
 * AVX-512 intrinsics run their AVX2 code under it. 0 in every normal build. */
int agc_isa_emulated(void);
/* The name of the tier in use (agc_isa_name(agc_isa_active())). */
const char *agc_simd_target(void);
/* Switch tiers at run time by name (tests run every tier in one process). Returns 0, or -1 if the
 * name is unknown or the CPU lacks the tier. Not safe while a kernel runs. */
int agc_set_simd_target(const char *name);
void agc_set_num_threads(int n);
int agc_get_num_threads(void);
/* Schedule perturbation, for tests (cpu.c): makes the interleavings that a busy machine causes
 * happen on a quiet one. mode 0: off (the default; a kernel then pays one predicted branch per
 * perturbation point). mode 1: thread `victim` of every parallel region sleeps `delay_us` at each
 * point, so the others run ahead of it. mode 2: at each point every thread sleeps, with probability
 * 1/4, a pseudo-random 0..delay_us drawn from `seed`, the thread id and a per-thread counter.
 * AGC_PERTURB=mode[,victim_or_seed[,delay_us]] in the environment sets it at import. */
void agc_set_perturbation(int mode, int victim, int delay_us, uint64_t seed);
int agc_get_perturbation(void);
/* The adaptive thread cap (cpu.c): 1 on (the default, unless AGC_ADAPTIVE=0), 0 off, 2 the
 * late-start signal only (tests of that signal on a machine other processes load). Setting it also
 * clears a cap in force. */
void agc_set_adaptive_threads(int on);
/* out[0..5]: adaptive on, threads a kernel may use now, late worker starts seen, times the late-start
 * cap engaged, fork decisions it reduced, fork decisions the run-queue check reduced. */
void agc_thread_stats(int64_t *out);

/* ---------------------------------------------------------------- storage.c */
/* 64-byte aligned allocation; NULL on failure. nbytes == 0 returns a valid unique pointer.
 * Free only with agc_free (blocks carry a header; freed blocks >= 1 MiB are cached for reuse). */
void *agc_alloc(int64_t nbytes);
void agc_free(void *p);
size_t agc_dtype_size(agc_dtype dt);

/* out[i] = (dt_out) x[i] over an ndim-d index space; any strides on both sides; dt_in may equal
 * dt_out (plain strided copy). Casting float -> int truncates toward zero; anything -> bool is (x != 0);
 * anything -> float16/bfloat16 rounds to nearest even (overflow gives inf, NaN stays NaN).
 * out must not partially overlap x (the binding copies through a temporary when it would). */
int agc_copy(int ndim, const int64_t *shape, agc_dtype dt_in, const void *x, const int64_t *sx,
             agc_dtype dt_out, void *out, const int64_t *so);

/* out[i] = value over a strided view. For integer dtypes ivalue is used, for floats fvalue, for
 * bool (fvalue != 0). */
int agc_fill(int ndim, const int64_t *shape, agc_dtype dt, void *out, const int64_t *so,
             double fvalue, int64_t ivalue);

/* ---------------------------------------------------------------- the op registry: registry.c */
/* Every elementwise and reduction op is one row of AGC_UNARY_OPS, AGC_BINARY_OPS or AGC_REDUCE_OPS:
 * X(NAME, name, flags, ...). Unary rows then name the binary op that computes their backward in one
 * pass (NONE if there is none). Unary and binary rows end with two columns:
 *  - the dtypes the op has kernels for: FLOATS (f32 f64), NUMBERS (f32 f64 i64 i32 u8), ALL (NUMBERS
 *    and bool) or INTS_BOOL (i64 i32 u8 bool);
 *  - the body, the expression elementwise.c evaluates per element for every one of those dtypes: in
 *    v (unary) or a, b (binary), with the parameters P0, P1 (in the element type) or D0, D1 (as
 *    double), <tgmath.h> math (exp(v) is expf for float32) and elementwise.c's type-generic helpers,
 *    which give each dtype its semantics where the plain operator would not: WRAP_ADD(a, b) is a + b
 *    for floats and wraps modulo 2^64 / 2^32 / 2^8 for integers (no undefined behaviour), FLOORDIV
 *    is Python's floor division for floats and integers alike, SIGMOID(v) ... A bool element is a
 *    uint8_t 0 or 1, so bool kernels evaluate the uint8 expression (mul is and, maximum is or).
 * The rows expand into the op enums, into the name tables agc_unary_info / agc_binary_info /
 * agc_reduce_info that the binding publishes (_core.UNARY_OPS, BINARY_OPS, REDUCE_OPS, op_table(),
 * with each op's dtypes read off the kernel tables) and into the portable kernels of every dtype. A
 * new op is one row here; elementwise.c hand-writes only a kernel whose semantics no helper gives
 * (bool add, which is or), and vector-tier kernels (elementwise_vec.h) are an optimisation a new op
 * does not need.
 * Every expansion takes the columns variadically, `#define X(NAME, name, ...)`, so that adding a
 * column breaks none of them.
 * Flags: */
#define AGC_OP_FLOAT 1u      /* float math, no integer kernels. An integer or bool input is computed in
                              * float32 (torch's rule: ag.exp and x / y of int64 give float32);
                              * a reduction refuses it */
#define AGC_OP_BOOL_OUT 2u   /* writes bool whatever the input dtype */
#define AGC_OP_NO_FLOAT 4u   /* bool and integers only (bitwise on integers): floats are refused */
#define AGC_OP_HEAVY 8u      /* a libm call or more per element: threads fork at a smaller size */
#define AGC_OP_HEAVY_F64 16u /* heavy for float64 only */
#define AGC_OP_GRAD_OF_X 32u /* a fused backward: out = b * f'(x), a = the forward's input x, b = its incoming
                              * gradient g */
#define AGC_OP_GRAD_OF_Y 64u /* a fused backward given a = the forward's output y */
#define AGC_OP_PARAMS 128u   /* reads the scalar parameters p0 (and p1) */
#define AGC_OP_FLOAT_HEAVY (AGC_OP_FLOAT | AGC_OP_HEAVY)

/* ---------------------------------------------------------------- elementwise.c */
/* Unary ops: out = f(x) with two optional scalar parameters p0, p1. x and out share dtype dt except
 * for BOOL_OUT ops. out may alias x exactly (same pointer and strides), never partially. An op
 * returns AGC_EUNSUPPORTED on a dtype outside its dtypes column; integer arithmetic wraps modulo
 * 2^64, 2^32 or 2^8, like PyTorch's. */
#define AGC_UNARY_OPS(X)                                                                                      \
    X(NEG, neg, 0, NONE, NUMBERS, WRAP_NEG(v))                                                                \
    X(ABS, abs, 0, NONE, NUMBERS, ABS(v))                                                                     \
    X(SIGN, sign, 0, NONE, NUMBERS, SIGN(v))                                                                  \
    X(SQUARE, square, 0, NONE, NUMBERS, WRAP_MUL(v, v))                                                       \
    X(EXP, exp, AGC_OP_FLOAT_HEAVY, NONE, FLOATS, exp(v))                                                     \
    X(LOG, log, AGC_OP_FLOAT_HEAVY, NONE, FLOATS, log(v))                                                     \
    X(LOG1P, log1p, AGC_OP_FLOAT_HEAVY, NONE, FLOATS, log1p(v))                                               \
    X(EXPM1, expm1, AGC_OP_FLOAT_HEAVY, NONE, FLOATS, expm1(v))                                               \
    X(SQRT, sqrt, AGC_OP_FLOAT, NONE, FLOATS, sqrt(v))                                                        \
    X(RSQRT, rsqrt, AGC_OP_FLOAT, NONE, FLOATS, 1 / sqrt(v))                                                  \
    X(SIN, sin, AGC_OP_FLOAT_HEAVY, NONE, FLOATS, sin(v))                                                     \
    X(COS, cos, AGC_OP_FLOAT_HEAVY, NONE, FLOATS, cos(v))                                                     \
    X(TANH, tanh, AGC_OP_FLOAT_HEAVY, TANH_BWD, FLOATS, tanh(v))                                              \
    /* 1/(1+exp(-x)), stable for large |x| */                                                                 \
    X(SIGMOID, sigmoid, AGC_OP_FLOAT_HEAVY, SIGMOID_BWD, FLOATS, SIGMOID(v))                                  \
    X(RELU, relu, 0, RELU_BWD, NUMBERS, v < 0 ? 0 : v)                                                        \
    /* floor/ceil/round of an integer are the integer itself; round is half to even, like torch.round */    \
    X(FLOOR, floor, AGC_OP_HEAVY, NONE, NUMBERS, FLOOR(v))                                                    \
    X(CEIL, ceil, AGC_OP_HEAVY, NONE, NUMBERS, CEIL(v))                                                       \
    X(ROUND, round, AGC_OP_HEAVY, NONE, NUMBERS, RINT(v))                                                     \
    X(RECIPROCAL, reciprocal, AGC_OP_FLOAT, NONE, FLOATS, 1 / v)                                              \
    X(ISNAN, isnan, AGC_OP_BOOL_OUT, NONE, ALL, ISNAN(v))                                                     \
    X(ISFINITE, isfinite, AGC_OP_BOOL_OUT, NONE, ALL, ISFINITE(v))                                            \
    X(LOGICAL_NOT, logical_not, AGC_OP_BOOL_OUT, NONE, ALL, v == 0)                                           \
    /* min(max(x, p0), p1); p0 = -inf or p1 = +inf for one side (integers: saturated to the dtype) */         \
    X(CLAMP, clamp, AGC_OP_PARAMS, NONE, NUMBERS, CLAMP(v, P0, P1))                                           \
    X(LEAKY_RELU, leaky_relu, AGC_OP_FLOAT | AGC_OP_PARAMS, NONE, FLOATS, v > 0 ? v : P0 * v)                 \
    /* x ** p0 (x*x for p0 == 2 etc.) and p0 ** x, in double */                                               \
    X(POW_SCALAR, pow_scalar, AGC_OP_FLOAT_HEAVY | AGC_OP_PARAMS, NONE, FLOATS, pow_scalar_d((double)v, D0))  \
    X(RPOW_SCALAR, rpow_scalar, AGC_OP_FLOAT_HEAVY | AGC_OP_PARAMS, NONE, FLOATS, pow(D0, (double)v))         \
    X(AFFINE, affine, AGC_OP_PARAMS, NONE, NUMBERS, WRAP_ADD(WRAP_MUL(P0, v), P1))                            \
    /* elu and softplus: the fused backward kernels have the default parameters (alpha 1; beta 1,             \
     * threshold 20), and ops/unary.py uses them only then */                                                 \
    X(ELU, elu, AGC_OP_FLOAT_HEAVY | AGC_OP_PARAMS, ELU_BWD, FLOATS, v > 0 ? v : P0 * expm1(v))               \
    /* beta = p0, threshold = p1: x*beta > p1 ? x : log1p(exp(beta*x))/beta */                                \
    X(SOFTPLUS, softplus, AGC_OP_FLOAT_HEAVY | AGC_OP_PARAMS, SOFTPLUS_BWD, FLOATS, SOFTPLUS(v, P0, P1))      \
    /* exact: 0.5 x (1 + erf(x / sqrt 2)) */                                                                  \
    X(GELU, gelu, AGC_OP_FLOAT_HEAVY, GELU_BWD, FLOATS, GELU(v))                                              \
    X(GELU_TANH, gelu_tanh, AGC_OP_FLOAT_HEAVY, GELU_TANH_BWD, FLOATS, GELU_TANH(v)) /* tanh approximation */ \
    X(SILU, silu, AGC_OP_FLOAT_HEAVY, SILU_BWD, FLOATS, v * SIGMOID(v))                                       \
    X(ERF, erf, AGC_OP_FLOAT_HEAVY, NONE, FLOATS, erf(v))

typedef enum {
#define AGC_X(NAME, name, ...) AGC_UNARY_##NAME,
    AGC_UNARY_OPS(AGC_X)
#undef AGC_X
    AGC_NUNARY
} agc_unary_op;

int agc_unary(int op, agc_dtype dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx,
              void *out, const int64_t *so, double p0, double p1);

/* Binary ops: out = f(a, b), a and b of dtype dt (the binding has already promoted and cast them);
 * out of dtype dt, or bool for BOOL_OUT ops. Broadcasting is expressed by stride 0. out may alias a or
 * b exactly, never partially. */
#define AGC_BINARY_OPS(X)                                                                                     \
    X(ADD, add, 0, NUMBERS, WRAP_ADD(a, b)) /* bool: or (elementwise.c) */                                    \
    X(SUB, sub, 0, NUMBERS, WRAP_SUB(a, b))                                                                   \
    X(MUL, mul, 0, ALL, WRAP_MUL(a, b))                                                                       \
    X(DIV, div, AGC_OP_FLOAT | AGC_OP_HEAVY_F64, FLOATS, a / b)   /* true division */                         \
    /* floor(a / b) like Python; integers: b == 0 gives 0 (binding checks first), INT64_MIN // -1 wraps */   \
    X(FLOORDIV, floordiv, AGC_OP_HEAVY, NUMBERS, FLOORDIV(a, b))                                              \
    X(MOD, mod, AGC_OP_HEAVY, NUMBERS, MOD(a, b))                 /* Python's: the result has b's sign */     \
    X(POW, pow, AGC_OP_HEAVY, NUMBERS, POW(a, b))                 /* integers: b >= 0 (binding) */            \
    X(MAXIMUM, maximum, 0, ALL, MAXIMUM(a, b))                    /* NaN propagates */                        \
    X(MINIMUM, minimum, 0, ALL, MINIMUM(a, b))                                                                \
    X(EQ, eq, AGC_OP_BOOL_OUT, ALL, a == b)                                                                   \
    X(NE, ne, AGC_OP_BOOL_OUT, ALL, a != b)                                                                   \
    X(LT, lt, AGC_OP_BOOL_OUT, ALL, a < b)                                                                    \
    X(LE, le, AGC_OP_BOOL_OUT, ALL, a <= b)                                                                   \
    X(GT, gt, AGC_OP_BOOL_OUT, ALL, a > b)                                                                    \
    X(GE, ge, AGC_OP_BOOL_OUT, ALL, a >= b)                                                                   \
    /* bool & bool -> bool; integers: bitwise, in their dtype */                                              \
    X(LOGICAL_AND, logical_and, AGC_OP_NO_FLOAT, INTS_BOOL, a & b)                                            \
    X(LOGICAL_OR, logical_or, AGC_OP_NO_FLOAT, INTS_BOOL, a | b)                                              \
    X(LOGICAL_XOR, logical_xor, AGC_OP_NO_FLOAT, INTS_BOOL, a ^ b)                                            \
    X(ATAN2, atan2, AGC_OP_FLOAT_HEAVY, FLOATS, atan2(a, b))                                                  \
    /* C's fmod: result has a's sign; integers truncate, b == 0 gives 0 */                                    \
    X(FMOD, fmod, AGC_OP_HEAVY, NUMBERS, FMOD(a, b))                                                          \
    X(HYPOT, hypot, AGC_OP_FLOAT_HEAVY, FLOATS, hypot(a, b))      /* sqrt(a^2 + b^2) without overflow */      \
    /* log(exp(a) + exp(b)) without overflow */                                                               \
    X(LOGADDEXP, logaddexp, AGC_OP_FLOAT_HEAVY, FLOATS, LOGADDEXP(a, b))                                      \
    X(COPYSIGN, copysign, AGC_OP_FLOAT, FLOATS, copysign(a, b))   /* |a| with the sign bit of b */            \
    /* log2(2^a + 2^b) = max + log2(1 + 2^-|a - b|): 2^x never overflows; equal infinities, where a - b is    \
     * NaN, take the a == b branch (2^a + 2^a = 2^(a + 1)); a NaN operand gives NaN */                       \
    X(LOGADDEXP2, logaddexp2, AGC_OP_FLOAT_HEAVY, FLOATS,                                                     \
      a == b ? a + 1 : (a > b ? a : b) + log1p(exp2(-fabs(a - b))) * 1.4426950408889634)                      \
    /* fused backward helpers: a = the forward's x or y, b = the incoming gradient g */                       \
    X(SIGMOID_BWD, sigmoid_bwd, AGC_OP_FLOAT | AGC_OP_GRAD_OF_Y, FLOATS, b * a * (1 - a))                     \
    X(TANH_BWD, tanh_bwd, AGC_OP_FLOAT | AGC_OP_GRAD_OF_Y, FLOATS, b * (1 - a * a))                           \
    /* the closed side of the kink: a NaN x passes g */                                                       \
    X(RELU_BWD, relu_bwd, AGC_OP_FLOAT | AGC_OP_GRAD_OF_X, FLOATS, a <= 0 ? 0 : b)                            \
    /* g * s * (1 + x (1 - s)), s = sigmoid(x) */                                                             \
    X(SILU_BWD, silu_bwd, AGC_OP_FLOAT_HEAVY | AGC_OP_GRAD_OF_X, FLOATS, SILU_BWD(a, b))                      \
    X(GELU_BWD, gelu_bwd, AGC_OP_FLOAT_HEAVY | AGC_OP_GRAD_OF_X, FLOATS, GELU_BWD(a, b))                      \
    X(GELU_TANH_BWD, gelu_tanh_bwd, AGC_OP_FLOAT_HEAVY | AGC_OP_GRAD_OF_X, FLOATS, GELU_TANH_BWD(a, b))       \
    /* beta = 1, threshold = 20: g * sigmoid(x) */                                                            \
    X(SOFTPLUS_BWD, softplus_bwd, AGC_OP_FLOAT_HEAVY | AGC_OP_GRAD_OF_X, FLOATS, a > 20 ? b : b * SIGMOID(a)) \
    /* alpha = 1 */                                                                                           \
    X(ELU_BWD, elu_bwd, AGC_OP_FLOAT_HEAVY | AGC_OP_GRAD_OF_X, FLOATS, a <= 0 ? b * exp(a) : b)

typedef enum {
#define AGC_X(NAME, name, ...) AGC_BINARY_##NAME,
    AGC_BINARY_OPS(AGC_X)
#undef AGC_X
    AGC_NBINARY
} agc_binary_op;
#define AGC_BINARY_NONE (-1) /* the fused-backward column's "none" */

int agc_binary(int op, agc_dtype dt, int ndim, const int64_t *shape, const void *a, const int64_t *sa,
               const void *b, const int64_t *sb, void *out, const int64_t *so);

/* out = cond ? a : b. cond is bool; a, b and out share dtype dt. */
int agc_where(agc_dtype dt, int ndim, const int64_t *shape, const uint8_t *cond, const int64_t *sc,
              const void *a, const int64_t *sa, const void *b, const int64_t *sb, void *out,
              const int64_t *so);

/* ---------------------------------------------------------------- reduce.c */
/* Reductions over a split index space: the binding orders the input's dimensions as
 * (kept dims..., reduced dims...) and passes them as two groups. For every index o of the kept
 * space, out[o] = reduce over the reduced space of x[o, r]. out (and idx, when given) are indexed
 * with `so` over the kept space (any strides). n_outer == 0 means one output element.
 * Sums are pairwise/blocked, so float32 sums of 1e7 elements stay within ~1e-6 relative, and the
 * order of summation never depends on the thread count. An empty reduced space gives the op's
 * identity (sum 0, prod 1, all 1, any 0); for max/min/argmax/argmin the binding raises first. */
#define AGC_REDUCE_OPS(X)                                                                         \
    X(SUM, sum, 0)             /* f32 f64 i64; i32 u8 in -> i64 out; bool in -> binding casts to i64 */ \
    X(MEAN, mean, AGC_OP_FLOAT)                                                                   \
    X(PROD, prod, 0)           /* f32 f64 i64; i32 u8 in -> i64 out */                            \
    X(MAX, max, 0)             /* values; with idx != NULL also the first index of the max (flat index \
                                  in the reduced space, row-major); NaN wins like torch */        \
    X(MIN, min, 0)             /* max/min: f32 f64 i64 i32 u8; the value is written in dt */      \
    X(ALL, all, AGC_OP_BOOL_OUT) /* bool -> bool */                                               \
    X(ANY, any, AGC_OP_BOOL_OUT)                                                                  \
    X(VAR, var, AGC_OP_FLOAT | AGC_OP_PARAMS) /* p0 = correction (dof subtracted from n); two-pass; \
                                  divisor max(n - p0, 0), so n <= p0 gives inf (or NaN) like NumPy/torch */ \
    X(LOGSUMEXP, logsumexp, AGC_OP_FLOAT) /* max-shifted; all -inf (or empty) -> -inf, any +inf -> +inf */ \
    X(NORM2, norm2, AGC_OP_FLOAT) /* sqrt(sum x^2), scaled to avoid overflow */                   \
    X(NORMP, normp, AGC_OP_FLOAT | AGC_OP_PARAMS) /* (sum |x|^p0)^(1/p0); p0 = inf/-inf gives max/min \
                                  |x|, p0 = 0 the count of nonzeros */                            \
    X(SUMSQ, sumsq, AGC_OP_FLOAT) /* sum x^2. Empty: mean and var give NaN, sumsq/norms 0 */      \
    X(STD, std, AGC_OP_FLOAT | AGC_OP_PARAMS) /* sqrt(var), p0 as for var; the root is taken in double \
                                  before the cast, so a float32 std is finite even where its var overflows */

typedef enum {
#define AGC_X(NAME, name, ...) AGC_REDUCE_##NAME,
    AGC_REDUCE_OPS(AGC_X)
#undef AGC_X
    AGC_NREDUCE
} agc_reduce_op;

/* ---------------------------------------------------------------- registry.c */
/* One row of the registry as data: the op's name, its flags, and (unary ops) the binary op computing
 * its backward in one pass, AGC_BINARY_NONE if none. Indexed by the op enums. */
typedef struct {
    const char *name;
    unsigned flags;
    int fused;
} agc_op_info;
extern const agc_op_info agc_unary_info[AGC_NUNARY];
extern const agc_op_info agc_binary_info[AGC_NBINARY];
extern const agc_op_info agc_reduce_info[AGC_NREDUCE];
/* The dtypes op has kernels for: bit d set for agc_dtype d (0 for an op out of range). */
unsigned agc_unary_dtypes(int op);
unsigned agc_binary_dtypes(int op);

int agc_reduce(int op, agc_dtype dt, int n_outer, const int64_t *outer_shape, const int64_t *sx_outer,
               int n_inner, const int64_t *inner_shape, const int64_t *sx_inner, const void *x,
               void *out, const int64_t *so, int64_t *idx, double p0);

/* Softmax family on a CONTIGUOUS (outer, n, inner) layout along the middle axis; in and out
 * contiguous, same layout; out may alias x. log = 0: softmax, 1: log_softmax. Max-shifted. */
int agc_softmax(int log, agc_dtype dt, int64_t outer, int64_t n, int64_t inner, const void *x,
                void *out);
/* Backward, contiguous (outer, n, inner): y is the forward output, g the incoming gradient.
 * softmax: out = y * (g - sum_n(g * y)); log_softmax: out = g - exp(y) * sum_n(g). */
int agc_softmax_backward(int log, agc_dtype dt, int64_t outer, int64_t n, int64_t inner, const void *y,
                         const void *g, void *out);
/* Inclusive cumulative sum (op 0) or product (op 1) along the middle axis of a contiguous
 * (outer, n, inner) layout; f32 f64 i64. */
int agc_cumulative(int op, agc_dtype dt, int64_t outer, int64_t n, int64_t inner, const void *x, void *out);

/* ---------------------------------------------------------------- gemm.c */
/* C = alpha * A @ B + beta * C with A (M x K), B (K x N), C (M x N), each with its own row stride
 * and column stride (any values, including 0 and negative; transposes are expressed by swapping
 * them). beta == 0 means C is written without being read (NaN in C does not propagate).
 * K == 0 gives C = beta * C. C must not overlap A or B. Threads split M and N, never K. */
int agc_gemm(agc_dtype dt, int64_t M, int64_t N, int64_t K, double alpha, const void *A, int64_t rs_a,
             int64_t cs_a, const void *B, int64_t rs_b, int64_t cs_b, double beta, void *C, int64_t rs_c,
             int64_t cs_c);
/* Batched: for i in [0, batch): the same GEMM on A + off_a[i], B + off_b[i], C + off_c[i] (element
 * offsets; the binding computes them from broadcast batch strides). Distinct i must write distinct
 * C elements. */
int agc_gemm_batched(agc_dtype dt, int64_t batch, int64_t M, int64_t N, int64_t K, double alpha,
                     const void *A, const int64_t *off_a, int64_t rs_a, int64_t cs_a, const void *B,
                     const int64_t *off_b, int64_t rs_b, int64_t cs_b, double beta, void *C,
                     const int64_t *off_c, int64_t rs_c, int64_t cs_c);
/* Peak FMA throughput of this machine in GFLOPS for dt (f32 or f64) on nthreads threads at the
 * active SIMD tier, measured by a short loop of independent FMAs of that tier's width (~0.1 s);
 * 0 for the portable tier. For benchmark reports. */
double agc_gemm_peak_gflops(agc_dtype dt, int nthreads);
/* The GEMM context in use for dt (the active tier's): micro-kernel name, tier, register tile and
 * block sizes. AGC_EUNSUPPORTED for other dtypes. */
typedef struct {
    const char *kernel;
    int isa;
    int mr, nr;
    int64_t mc, kc, nc;
} agc_gemm_info_t;
int agc_gemm_info(agc_dtype dt, agc_gemm_info_t *info);
/* For measurement (benchmarks/tune_gemm.py) and tests, never while GEMMs run on other threads:
 * refill the active tier's context for dt from the micro-kernel named kernel (NULL or "": the
 * tier's own; the AVX-512 tier also has other tiles) with block sizes mc, kc, nc (0: the default;
 * mc and nc rounded up to whole tiles). 1 for an unknown kernel or a negative size. Switching the
 * tier (agc_set_simd_target) does not reset it; agc_gemm_set_context(dt, NULL, 0, 0, 0) does. */
int agc_gemm_set_context(agc_dtype dt, const char *kernel, int64_t mc, int64_t kc, int64_t nc);
/* Pre-packed operands, for callers that write their operands in the micro-kernel's layout directly
 * (conv_direct.c). MR x NR is the register tile of the active tier's GEMM context for dt (agc_gemm_info).
 * Full-K panels: A (M x K) as ceil(M / MR) panels, panel i holding rows
 * [i MR, i MR + MR) as a[k * MR + r] at element i * K * MR (rows past M zero); B (K x N) as
 * ceil(N / NR) panels, panel q holding columns [q NR, q NR + NR) as b[k * NR + j] at q * K * NR
 * (columns past N: any finite value, their products are discarded).
 * agc_gemm_pack_a_panels packs a strided A that way. agc_gemm_prepacked computes
 * C = alpha * A @ B + beta * C on the calling thread only (callers split N between threads), with
 * K blocked as agc_gemm blocks it; beta == 0 never reads C. f32 and f64. */
int agc_gemm_tile_mr(agc_dtype dt);
int agc_gemm_tile_nr(agc_dtype dt);
int agc_gemm_pack_a_panels(agc_dtype dt, int64_t M, int64_t K, const void *A, int64_t rs_a, int64_t cs_a,
                           void *out);
int agc_gemm_prepacked(agc_dtype dt, int64_t M, int64_t N, int64_t K, double alpha, const void *Ap,
                       const void *Bp, double beta, void *C, int64_t rs_c, int64_t cs_c);

/* ---------------------------------------------------------------- rng.c */
/* Counter-based generator (Philox 4x32-10). Element i of a call uses counter (offset + i / 4, ...)
 * under key `seed`, so output depends only on (seed, offset, i): never on the thread count. The
 * caller advances its offset by agc_rng_advance(n) after each call. out is contiguous, n elements. */
int64_t agc_rng_advance(int64_t n); /* counters consumed by n values */
int agc_rng_uniform(agc_dtype dt, int64_t n, uint64_t seed, uint64_t offset, double low, double high,
                    void *out);
int agc_rng_normal(agc_dtype dt, int64_t n, uint64_t seed, uint64_t offset, double mean, double std,
                   void *out);
/* integers uniform in [low, high), written as dt (i64, i32, u8, f32, f64). uniform and normal: f32 f64. */
int agc_rng_randint(agc_dtype dt, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high,
                    void *out);
/* out[i] = (u < p) as dt (any dtype; 0 or 1): Bernoulli(p) */
int agc_rng_bernoulli(agc_dtype dt, int64_t n, uint64_t seed, uint64_t offset, double p, void *out);

/* ---- conv*.c / pool.c */
/* 2-D convolution (cross-correlation, like torch) in NCHW layout. Every tensor is C-CONTIGUOUS:
 *   x (n, c, h, w), weight (o, c / groups, kh, kw), out (n, o, oh, ow), bias (o) or NULL.
 *   out[n, o, i, j] = bias[o] + sum_{ci, a, b} weight[o, ci, a, b]
 *                     * x[n, gi * c/groups + ci, i * stride_h - pad_h + a * dil_h, j * stride_w - pad_w + b * dil_w]
 * with gi = o / (o_total / groups). pad_h / pad_w are the top / left paddings; the bottom / right
 * padding is whatever oh / ow imply (so asymmetric 'same' padding needs nothing else); taps outside the
 * input read zero. The binding guarantees: all sizes >= 1 except n >= 0, strides and dilations >= 1,
 * pads >= 0, groups divides c and o. Input and output never overlap. Each call works through the
 * batch in chunks so that its column buffer stays under the workspace limit (default 64 MiB; one image
 * per chunk at least; chunks are kept near 4 MiB when an image fits, for cache reuse); 1x1, stride-1,
 * unpadded convolutions use no column buffer. Each GEMM goes
 * through agc_gemm / agc_gemm_batched; f32 and f64. The forward (>= 4 output channels per group) and
 * the stride-1 data gradient (when the padding adds little work) instead write their columns block by
 * block straight into packed GEMM panels (agc_gemm_prepacked): no column buffer, a small per-thread
 * block instead (agc_conv_set_direct below). */
typedef struct {
    int64_t n, c, h, w;    /* input */
    int64_t o, kh, kw;     /* weight (o, c / groups, kh, kw) */
    int64_t oh, ow;        /* output */
    int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
} agc_conv2d_geom;

int agc_conv2d(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight, const void *bias,
               void *out);
/* Gradient with respect to x (the adjoint of agc_conv2d in x, i.e. conv_transpose2d's forward):
 * out (n, c, h, w) = col2im(weight^T @ grad_out) (+ bias[c] when bias != NULL: conv_transpose's bias). */
int agc_conv2d_backward_data(agc_dtype dt, const agc_conv2d_geom *g, const void *grad_out, const void *weight,
                             const void *bias, void *out);
/* Gradient with respect to weight: out (o, c / groups, kh, kw) = sum_n grad_out_n @ im2col(x_n)^T,
 * overwritten (zero when n == 0). Summed chunk by chunk in batch order: independent of threads. */
int agc_conv2d_backward_weight(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *grad_out,
                               void *out);
/* An upper bound on the bytes of workspace any one of the three calls above allocates for this geometry
 * (column buffer + reorder buffer + weight-gradient buffer; 0 for the 1x1 path). */
int64_t agc_conv2d_workspace_bytes(agc_dtype dt, const agc_conv2d_geom *g);
/* Set the column-buffer cap in bytes (<= 0 restores 64 MiB); returns the previous cap. Process-wide:
 * for tests and benchmarks, not to be called while a convolution runs. */
int64_t agc_conv_set_workspace_limit(int64_t nbytes);
/* Which forward (and stride-1 data-gradient) algorithm runs: 0 automatic, 1 im2col into a column buffer
 * then GEMM everywhere (no direct-packed path, no direct depthwise loops), 2 the direct-packed one
 * wherever it applies (columns written block by block straight into the GEMM's packed panels,
 * agc_gemm_prepacked), 3 the float32 forward with output channels in vector lanes wherever it applies
 * (AVX2 / AVX-512, column stride <= 2; elsewhere as 0). Returns the previous mode.
 * Process-wide: for tests and benchmarks. */
int agc_conv_set_direct(int mode);
/* Winograd F(2x2, 3x3) for 3x3, stride-1, undilated, groups-1 convolutions (the forward, and the
 * stride-1 data gradient computed as a forward with flipped weights): 0 automatic (outputs of 196 pixels or
 * more, and float32 with >= 64 input and >= 32 output channels, float64 with >= 16 of each), 1 never, 2 wherever the geometry allows (tests).
 * Takes precedence over agc_conv_set_direct's choice where it applies. Returns the previous mode.
 * Process-wide: for tests and benchmarks. */
int agc_conv_set_winograd(int mode);

/* 2-D pooling over nc = n * c contiguous planes: x (nc, h, w), out (nc, oh, ow). Window (i, j) covers
 * rows i * stride_h - pad_h + a * dil_h (a < kh) and likewise columns; padding never wins a max and
 * counts for an average only with count_include_pad. The binding computes oh / ow (ceil_mode). */
typedef struct {
    int64_t nc, h, w, oh, ow;
    int64_t kh, kw, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
} agc_pool2d_geom;

/* Max; idx (nc, oh, ow) gets the flat index (row * w + col) in the plane of the max, the first one on
 * ties; NaN wins (the last NaN of the window, as in torch). A window with no tap inside the input gives
 * -inf and index -1. */
int agc_max_pool2d(agc_dtype dt, const agc_pool2d_geom *g, const void *x, void *out, int64_t *idx);
/* Average (dil must be 1). Divisor: divisor_override if > 0; else the window clipped to the padded
 * input (count_include_pad) or to the input itself, as torch does (ceil_mode windows are clipped). */
int agc_avg_pool2d(agc_dtype dt, const agc_pool2d_geom *g, int count_include_pad, int64_t divisor_override,
                   const void *x, void *out);
/* Its adjoint: out (nc, h, w) = gradient of agc_avg_pool2d for grad_out (nc, oh, ow). */
int agc_avg_pool2d_backward(agc_dtype dt, const agc_pool2d_geom *g, int count_include_pad,
                            int64_t divisor_override, const void *grad_out, void *out);
/* Adaptive pools: output cell i covers rows [floor(i * h / oh), ceil((i + 1) * h / oh)), likewise
 * columns. The max variant writes idx like agc_max_pool2d. */
int agc_adaptive_avg_pool2d(agc_dtype dt, int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow,
                            const void *x, void *out);
int agc_adaptive_avg_pool2d_backward(agc_dtype dt, int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow,
                                     const void *grad_out, void *out);
int agc_adaptive_max_pool2d(agc_dtype dt, int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow,
                            const void *x, void *out, int64_t *idx);
/* Max-pool backward and its adjoint, per plane p < nc with in_size input and out_size output elements:
 * scatter: out (nc, in_size) = 0, then out[p, idx[p, k]] += grad_out[p, k] (in k order: deterministic);
 * gather:  out (nc, out_size) = x[p, idx[p, k]]. Indices outside [0, in_size) are skipped (scatter) or
 * give 0 (gather), so no index can reach outside the plane. */
int agc_pool_scatter_add(agc_dtype dt, int64_t nc, int64_t in_size, int64_t out_size, const void *grad_out,
                         const int64_t *idx, void *out);
int agc_pool_gather(agc_dtype dt, int64_t nc, int64_t in_size, int64_t out_size, const void *x,
                    const int64_t *idx, void *out);

/* ---- optim.c */
/* Fused in-place optimizer steps: one pass over the n elements of one parameter, no temporaries.
 * p, g and every state buffer are CONTIGUOUS arrays of n elements of dtype dt (f32 or f64, else
 * AGC_EUNSUPPORTED); g and the state buffers do not overlap p or each other. Each follows PyTorch's
 * documented update (and its single-tensor order of operations), with maximize (g -> -g) and L2
 * weight_decay (g -> g + wd p, skipped when 0) applied to the gradient first. l1 > 0 (the L1
 * coefficient; the caller passes 0 for parameters the L1 rule excludes, ndim <= 1) then applies the
 * proximal soft-threshold p <- sign(p) max(|p| - t, 0) with t = l1 times the step the optimizer
 * applies to a constant gradient at equilibrium, so every optimizer's fixed points are the lasso's:
 * SGD t = lr l1 (times (1 - dampening) / (1 - momentum) with momentum, 1 + momentum times that with
 * Nesterov), Adam t = l1 lr / (1 - b1^t) / denom, RMSprop t = l1 lr / avg (/ (1 - momentum)),
 * Adagrad t = l1 clr / (sqrt(sum) + eps), per element. Every element gets the same arithmetic on the
 * AVX2 and portable paths and on any number of threads (no FMA): results are bit-identical. */
#define AGC_OPTIM_MAXIMIZE 1
#define AGC_OPTIM_NESTEROV 2   /* SGD */
#define AGC_OPTIM_FIRST_STEP 4 /* SGD: momentum_buffer is uninitialised; it becomes the gradient */
#define AGC_OPTIM_AMSGRAD 8    /* Adam: max_exp_avg_sq is kept and used */
#define AGC_OPTIM_DECOUPLED 16 /* AdamW: p *= 1 - lr * weight_decay before the Adam update */

/* momentum_buffer NULL means momentum 0: p -= lr d, d = g (+ wd p). Otherwise
 * buf = FIRST_STEP ? d : momentum buf + (1 - dampening) d; p -= lr (nesterov ? d + momentum buf : buf). */
int agc_sgd_step(agc_dtype dt, int64_t n, void *p, const void *g, void *momentum_buffer, double lr,
                 double momentum, double dampening, double weight_decay, int flags, double l1);
/* step >= 1 is this step's count t. m = b1 m + (1 - b1) d; v = b2 v + (1 - b2) d^2; amsgrad:
 * vmax = max(vmax, v) replaces v below (max_exp_avg_sq may be NULL without AMSGRAD);
 * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
int agc_adam_step(agc_dtype dt, int64_t n, void *p, const void *g, void *exp_avg, void *exp_avg_sq,
                  void *max_exp_avg_sq, double lr, double beta1, double beta2, double eps,
                  double weight_decay, int64_t step, int flags, double l1);
/* sq = alpha sq + (1 - alpha) d^2; grad_avg != NULL (centered): ga = alpha ga + (1 - alpha) d and
 * avg = sqrt(sq - ga^2) + eps, else avg = sqrt(sq) + eps; momentum_buffer != NULL:
 * buf = momentum buf + d / avg, p -= lr buf; else p -= lr d / avg. */
int agc_rmsprop_step(agc_dtype dt, int64_t n, void *p, const void *g, void *square_avg, void *grad_avg,
                     void *momentum_buffer, double lr, double alpha, double eps, double weight_decay,
                     double momentum, int flags, double l1);
/* sum += d^2; p -= clr d / (sqrt(sum) + eps), clr = lr / (1 + (t - 1) lr_decay) computed by the caller. */
int agc_adagrad_step(agc_dtype dt, int64_t n, void *p, const void *g, void *sum, double clr, double eps,
                     double weight_decay, int flags, double l1);
/* p <- sign(p) max(|p| - t, 0) alone with t = l1 (no-op for l1 <= 0). */
int agc_soft_threshold(agc_dtype dt, int64_t n, void *p, double l1);

/* ---- nn.c */
/* Batch normalisation over a CONTIGUOUS (n, c, s) array x (s = product of spatial sizes, 1 for
 * (n, c) input), statistics per channel over the n * s elements. weight / bias (c) may be NULL
 * (no affine). Training forward: mean (c), var (c, biased: divided by n * s) and
 * invstd = 1 / sqrt(var + eps) are written, out (n, c, s) = (x - mean) * invstd * weight + bias.
 * f32 and f64; float32 accumulates in double; out never aliases x. n * s == 0 gives mean 0, var 0. */
int agc_batch_norm_forward(agc_dtype dt, int64_t n, int64_t c, int64_t s, const void *x, const void *weight,
                           const void *bias, double eps, void *out, void *mean, void *var, void *invstd);
/* Backward of the training forward for incoming gradient g (n, c, s), given the forward's mean and
 * invstd: gb = sum g, gw = sum g * xhat, gx = weight * invstd * (g - mean(g) - xhat * mean(g * xhat))
 * with xhat = (x - mean) * invstd. Any of gx, gw, gb may be NULL (not computed); weight NULL means 1. */
int agc_batch_norm_backward(agc_dtype dt, int64_t n, int64_t c, int64_t s, const void *x, const void *g,
                            const void *mean, const void *invstd, const void *weight, void *gx, void *gw,
                            void *gb);
/* ---- layernorm.c */
/* Layer normalisation of each row of a CONTIGUOUS (rows, d) array x (F.layer_norm's normalized_shape
 * flattened into d): mean[r] and rstd[r] = 1 / sqrt(var + eps) (biased variance) in double, for
 * float32 too, and out = (x - mean) * rstd * weight + bias, weight / bias (d) NULL meaning 1 / 0.
 * f32 and f64, computed in double; out never aliases x. d == 0 gives NaN statistics. */
int agc_layer_norm_forward(agc_dtype dt, int64_t rows, int64_t d, const void *x, const void *weight,
                           const void *bias, double eps, void *out, double *mean, double *rstd);
/* Backward for incoming gradient g (rows, d) given the forward's mean and rstd, xhat = (x - mean) rstd:
 * gx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)) with gh = g * weight, gw = sum over rows of
 * g * xhat, gb = sum over rows of g. Any of gx, gw, gb may be NULL (not computed); weight NULL means 1.
 * Results are bitwise the same for every thread count. */
int agc_layer_norm_backward(agc_dtype dt, int64_t rows, int64_t d, const void *x, const void *g, const double *mean,
                            const double *rstd, const void *weight, void *gx, void *gw, void *gb);

/* Softmax cross-entropy with class-index targets on CONTIGUOUS logits x (n, c), c >= 1. For row i
 * with t = target[i]: lse[i] = log sum_j exp(x[i, j]) (max-shifted) and
 *   loss[i] = (1 - smoothing) * w[t] * (lse - x[i, t]) + smoothing / c * sum_j w[j] * (lse - x[i, j]),
 * loss[i] = 0 when t == ignore_index. weight (c) NULL means all ones. The binding guarantees every
 * target is ignore_index or in [0, c). */
int agc_softmax_xent_forward(agc_dtype dt, int64_t n, int64_t c, const void *x, const int64_t *target,
                             const void *weight, int64_t ignore_index, double smoothing, void *loss, void *lse);
/* Gradient of sum_i g[i * sg] * loss[i] with respect to x, into out (n, c): sg = 1 for a per-row
 * gradient, 0 for one scalar shared by every row (mean/sum reductions). Rows with ignored targets
 * get 0. lse is the forward's. */
int agc_softmax_xent_backward(agc_dtype dt, int64_t n, int64_t c, const void *x, const int64_t *target,
                              const void *weight, int64_t ignore_index, double smoothing, const void *lse,
                              const void *g, int64_t sg, void *out);

/* ---- rnn.c */
/* One layer and direction of a recurrent network over a whole sequence (PyTorch's cells and gate
 * orders: LSTM i f g o, GRU r z n). The sequence is packed by time step: step t has batch_sizes[t]
 * rows (non-increasing in t, each <= B), stored after those of the steps before it, N rows in all
 * (a padded (T, B, .) batch has batch_sizes[t] == B). Rows of h0 / c0 / h_n / c_n are the B
 * sequences; the sequences alive at step t are rows [0, batch_sizes[t]). reverse runs the steps
 * from T - 1 down to 0, each sequence starting from its h0 row at its own last step.
 * P == H, except an LSTM with a projection (h_t = W_hr (o * tanh c_t), P < H). */
enum { AGC_RNN_TANH = 0, AGC_RNN_RELU = 1, AGC_RNN_LSTM = 2, AGC_RNN_GRU = 3 };
typedef struct {
    int mode;    /* AGC_RNN_* */
    int reverse;
    int64_t T, B, I, H, P;
    const int64_t *batch_sizes; /* T entries */
} agc_rnn_geom;
/* Elements of the workspace agc_rnn_forward fills (and agc_rnn_backward reads when training). */
int64_t agc_rnn_workspace_numel(const agc_rnn_geom *g, int training);
/* Forward, all arrays CONTIGUOUS, f32 or f64: x (N, I), w_ih (G H, I), w_hh (G H, P), b_ih and b_hh
 * (G H, or NULL for no bias), w_hr (P, H; NULL when P == H), h0 (B, P), c0 (B, H; LSTM only) ->
 * out (N, P), h_n (B, P), c_n (B, H; LSTM only); G = 4 (LSTM), 3 (GRU) or 1. ws holds
 * agc_rnn_workspace_numel(g, training) elements; with training it keeps what backward needs. For a
 * sequence that ends before step T - 1 (forward direction), h_n is its h at its last step. */
int agc_rnn_forward(agc_dtype dt, const agc_rnn_geom *g, const void *x, const void *w_ih, const void *w_hh,
                    const void *b_ih, const void *b_hh, const void *w_hr, const void *h0, const void *c0,
                    void *out, void *h_n, void *c_n, void *ws, int training);
/* Backward of a training forward with the same g, x, weights and ws. Incoming gradients g_out
 * (N, P), g_hn (B, P), g_cn (B, H) may each be NULL (zero). Every output may be NULL (not wanted):
 * dx (N, I), dh0 (B, P), dc0 (B, H), dw_ih, dw_hh, db_ih, db_hh, dw_hr, shaped as their tensors. */
int agc_rnn_backward(agc_dtype dt, const agc_rnn_geom *g, const void *x, const void *w_ih, const void *w_hh,
                     const void *w_hr, const void *ws, const void *g_out, const void *g_hn, const void *g_cn,
                     void *dx, void *dh0, void *dc0, void *dw_ih, void *dw_hh, void *db_ih, void *db_hh,
                     void *dw_hr);

/* ---- index.c */
/* Indexing over an ndim-d iteration space `shape` (the shape of the values read or written). With
 * X(i) = sum_d i_d * sx[d] + sum_k idx[k][sum_d i_d * sidx[k * ndim + d]] * xs[k]:
 *   agc_index_gather: out[i] = x[X(i)]            (out indexed with so)
 *   agc_index_put:    x[X(i)] = v[i], or += v[i] when accumulate   (v indexed with sv)
 * nidx index tensors (int64, 0 <= nidx <= AGC_MAX_DIMS), each with its strides over the space in
 * row k of sidx (0 where it broadcasts). Every op of the family is a choice of strides: gather along
 * dim: sx[dim] = 0, one index, xs[0] = x's stride at dim; index_select: the same with the 1-D index
 * strided only along dim; advanced indexing: sx = 0 over the broadcast index dims.
 * The binding guarantees: index values in range; out and v do not overlap x; for put, x does not
 * overlap itself. Gather and assignment work for every dtype; accumulate for all but bool
 * (AGC_EUNSUPPORTED). Integer sums wrap. Put threads split only the dims with sx[d] != 0, so each x
 * element gets its contributions in row-major order of the space whatever the thread count
 * (duplicates in assignment: the last in that order wins). */
int agc_index_gather(agc_dtype dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx, int nidx,
                     const int64_t *const *idx, const int64_t *sidx, const int64_t *xs, void *out,
                     const int64_t *so);
int agc_index_put(agc_dtype dt, int accumulate, int ndim, const int64_t *shape, const void *v, const int64_t *sv,
                  int nidx, const int64_t *const *idx, const int64_t *sidx, const int64_t *xs, void *x,
                  const int64_t *sx);
/* Validation of an int64 index view (ndim-d, any strides): *bad = row-major position of the first
 * value outside [lo, hi), or -1; *nneg = the number of negative values. */
int agc_index_check(int ndim, const int64_t *shape, const int64_t *idx, const int64_t *sidx, int64_t lo,
                    int64_t hi, int64_t *bad, int64_t *nneg);
/* out (contiguous, same shape) = idx < 0 ? idx + size : idx. */
int agc_index_wrap(int ndim, const int64_t *shape, const int64_t *idx, const int64_t *sidx, int64_t size,
                   int64_t *out);
/* Nonzero elements (x != 0; NaN counts, -0.0 does not) of a strided view of any dtype: the count,
 * then their coordinates in row-major order into out (count x ndim, contiguous). */
int agc_count_nonzero(agc_dtype dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx,
                      int64_t *count);
int agc_nonzero(agc_dtype dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx, int64_t count,
                int64_t *out);
/* out (count elements, contiguous) = the elements of x (ndim-d, any strides, any dtype) where the bool
 * mask, read with strides sm over x's shape (0 where it broadcasts), is true, in row-major order. The
 * binding computes count (agc_count_nonzero of the mask times the broadcast factor). */
int agc_masked_select(agc_dtype dt, int ndim, const int64_t *shape, const void *x, const int64_t *sx,
                      const uint8_t *mask, const int64_t *sm, int64_t count, void *out);

#ifdef __cplusplus
}
#endif
#endif
