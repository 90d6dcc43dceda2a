/* rnn.c: one layer and direction of an Elman RNN (tanh or relu), LSTM (optionally with a projection)
 * or GRU over a whole, possibly packed, sequence: forward and backward through time.
 *
 * Layout (contract in agc.h): the sequence is packed by time step, as PyTorch packs it: step t holds
 * batch_sizes[t] rows (non-increasing in t), stored after the rows of steps 0..t-1, so a padded
 * (T, B, .) batch is the case batch_sizes[t] == B. Every array is CONTIGUOUS row-major. Outputs
 * never alias inputs.
 * Forward: the input projection of all steps is one GEMM into the workspace; then per step one GEMM
 * with the hidden weights and the fused pointwise cell (all gates of a hidden unit in one pass). The
 * hidden weights are packed once per call into the GEMM's B panels (agc_gemm_prepacked), so no
 * step repacks them. Backward runs the steps in reverse with one GEMM (dh = dgates @ W_hh) and the
 * fused pointwise backward per step; the weight gradients are single GEMMs over all N rows
 * (dW_hh = dgates^T @ h_prev, dW_ih = dgates^T @ x), the bias gradients column sums.
 * Threads: the rows of a batch are independent sequences, so threads own disjoint blocks of rows
 * (whole MR-row panels) and run every step for them with no barrier between steps, and take over
 * other panels' remaining steps when their own are done (the scheduling comment below); the
 * big GEMMs (input projection, weight gradients) thread inside agc_gemm. No element's arithmetic
 * depends on the split (a GEMM element of agc_gemm_prepacked is the same sum whichever rows share its
 * tile, which is why the projection uses it too rather than agc_gemm, whose small-M paths differ), and column
 * sums run over the rows in order, so results are bitwise identical for any thread count.
 * Arithmetic: float32 sigmoid/tanh use the polynomial functions below (written so the compiler
 * vectorises them; ~2 ulp), float64 uses libm. The per-step kernels are compiled three times,
 * portable, AVX2 and AVX-512 (16 float lanes), and picked by agc_isa_active().
 * Tests: tests/test_rnn.py, tests/test_rnn_fused.py. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#define AGC_VEC_ISA AGC_VEC_PORTABLE
#include "vec.h"

/* The cell loops select between branches of sigmoid/tanh (x < 0, |x| < 0.625); GCC keeps such a
 * select as a branch (and so leaves the loop scalar) unless it may compute the division of both
 * branches, which the default -ftrapping-math forbids. Nothing here reads the FP exception flags.
 * fp-contract=fast lets the AVX2 build fuse the polynomials' multiply-adds (measured: an LSTM step's
 * pointwise at B = 32, H = 128 went from 24.7 to 19.3 us). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math", "fp-contract=fast")
#endif

/* Below this much work (flops of the hidden GEMMs of all steps) the recurrence stays on one thread:
 * it forks once per call, ~2 us, so even a small layer (B = 32, H = 128, 32 LSTM steps: 134 MFLOP)
 * is far above it. */
#define RNN_PAR_FLOPS (1 << 20)
#define RNN_ALWAYS_INLINE static inline __attribute__((always_inline))

/* ---------------------------------------------------------------- float32 math */
/* exp is vec.h's, the one exp every kernel family shares: its one-lane portable instance, plain C
 * that the compiler vectorises inside the cell loops (and, under this file's fp-contract=fast, fuses
 * its multiply-adds in the AVX2 build). */
RNN_ALWAYS_INLINE float exp_f32(float x) { return vf_exp(x); }

/* e = exp(-|x|) <= 1 never overflows; sigmoid = 1 / (1 + e) for x >= 0, e / (1 + e) below */
RNN_ALWAYS_INLINE float sigmoid_f32(float x)
{
    float e = exp_f32(-fabsf(x));
    float num = __builtin_isless(x, 0.0f) ? e : 1.0f;
    return num / (1.0f + e);
}

/* |x| < 0.625: x + x z P(z), z = x^2 (the degree-5 fit of elementwise_avx2.c, relative error
 * < 2e-10); else sign(x) (1 - 2 / (exp(2|x|) + 1)), which loses at most a factor 0.8 there */
RNN_ALWAYS_INLINE float tanh_f32(float x)
{
    float ax = fabsf(x);
    float z = x * x;
    float p = 0.0021475369576364756f;
    p = p * z - 0.008182673715054989f;
    p = p * z + 0.021702967584133148f;
    p = p * z - 0.05394720286130905f;
    p = p * z + 0.13333210349082947f;
    p = p * z - 0.3333333134651184f;
    float small = x * z * p + x;
    float large = 1.0f - 2.0f / (exp_f32(ax + ax) + 1.0f);
    large = __builtin_isless(x, 0.0f) ? -large : large;
    return __builtin_isless(ax, 0.625f) ? small : large;
}

RNN_ALWAYS_INLINE double sigmoid_f64(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

RNN_ALWAYS_INLINE double tanh_f64(double x) { return tanh(x); }

/* relu keeps NaN (torch does) */
#define RELU(v) ((v) < 0 ? 0 : (v))

/* ---------------------------------------------------------------- pointwise cells, one row */
/* Forward rows read the gate pre-activations x W_ih^T (gates, in place) and h_prev W_hh^T (q), add
 * the biases and write the activations back over the gates (the workspace backward reads).
 * LSTM gates i f g o, bias b = b_ih + b_hh; GRU gates r z n, biases separate since b_hn sits inside
 * r * (.) and the fourth gate slot keeps hn = W_hn h + b_hn. Backward rows write the gradients of
 * the pre-activations: dx for the input side and (GRU only, where they differ) dq for the hidden
 * side. Columns [j0, j1) of H. */
#define DEFINE_ROWS(T, S, SIG, TANH)                                                                    \
    RNN_ALWAYS_INLINE void lstm_fwd_row_##S(int64_t j0, int64_t j1, int64_t H, T *restrict g,            \
                                            const T *restrict q, const T *restrict b, T *restrict c,     \
                                            T *restrict h, T *restrict tc)                               \
    {                                                                                                    \
        for (int64_t j = j0; j < j1; j++) {                                                              \
            T i = SIG(g[j] + q[j] + b[j]);                                                               \
            T f = SIG(g[H + j] + q[H + j] + b[H + j]);                                                   \
            T gg = TANH(g[2 * H + j] + q[2 * H + j] + b[2 * H + j]);                                     \
            T o = SIG(g[3 * H + j] + q[3 * H + j] + b[3 * H + j]);                                       \
            T cn = f * c[j] + i * gg;                                                                    \
            T th = TANH(cn);                                                                             \
            g[j] = i;                                                                                    \
            g[H + j] = f;                                                                                \
            g[2 * H + j] = gg;                                                                           \
            g[3 * H + j] = o;                                                                            \
            c[j] = cn;                                                                                   \
            tc[j] = th;                                                                                  \
            h[j] = o * th;                                                                               \
        }                                                                                                \
    }                                                                                                    \
    RNN_ALWAYS_INLINE void gru_fwd_row_##S(int64_t j0, int64_t j1, int64_t H, T *restrict g,             \
                                           const T *restrict q, const T *restrict bi,                    \
                                           const T *restrict bh, const T *restrict hp, T *restrict h)    \
    {                                                                                                    \
        for (int64_t j = j0; j < j1; j++) {                                                              \
            T r = SIG(g[j] + bi[j] + (q[j] + bh[j]));                                                    \
            T z = SIG(g[H + j] + bi[H + j] + (q[H + j] + bh[H + j]));                                    \
            T hn = q[2 * H + j] + bh[2 * H + j];                                                         \
            T n = TANH(g[2 * H + j] + bi[2 * H + j] + r * hn);                                           \
            g[j] = r;                                                                                    \
            g[H + j] = z;                                                                                \
            g[2 * H + j] = n;                                                                            \
            g[3 * H + j] = hn;                                                                           \
            h[j] = (1 - z) * n + z * hp[j];                                                              \
        }                                                                                                \
    }                                                                                                    \
    RNN_ALWAYS_INLINE void rnn_fwd_row_##S(int64_t j0, int64_t j1, int relu, T *restrict g,              \
                                           const T *restrict q, const T *restrict b, T *restrict h)      \
    {                                                                                                    \
        if (relu) {                                                                                      \
            for (int64_t j = j0; j < j1; j++) {                                                          \
                T v = g[j] + q[j] + b[j];                                                                \
                v = RELU(v);                                                                             \
                g[j] = v;                                                                                \
                h[j] = v;                                                                                \
            }                                                                                            \
        } else {                                                                                         \
            for (int64_t j = j0; j < j1; j++) {                                                          \
                T v = TANH(g[j] + q[j] + b[j]);                                                          \
                g[j] = v;                                                                                \
                h[j] = v;                                                                                \
            }                                                                                            \
        }                                                                                                \
    }                                                                                                    \
    /* a: i f g o; dc in: the gradient reaching c_t from step t + 1, out: the one reaching c_{t-1} */    \
    RNN_ALWAYS_INLINE void lstm_bwd_row_##S(int64_t j0, int64_t j1, int64_t H, const T *restrict a,      \
                                            const T *restrict tc, const T *restrict cp,                  \
                                            const T *restrict dh, T *restrict dc, T *restrict dx)        \
    {                                                                                                    \
        for (int64_t j = j0; j < j1; j++) {                                                              \
            T i = a[j], f = a[H + j], gg = a[2 * H + j], o = a[3 * H + j], th = tc[j], d = dh[j];        \
            T dcv = dc[j] + d * o * (1 - th * th);                                                       \
            dx[j] = dcv * gg * i * (1 - i);                                                              \
            dx[H + j] = dcv * cp[j] * f * (1 - f);                                                       \
            dx[2 * H + j] = dcv * i * (1 - gg * gg);                                                     \
            dx[3 * H + j] = d * th * o * (1 - o);                                                        \
            dc[j] = dcv * f;                                                                             \
        }                                                                                                \
    }                                                                                                    \
    /* a: r z n hn; dhp = the direct part z dh of the gradient reaching h_{t-1} */                        \
    RNN_ALWAYS_INLINE void gru_bwd_row_##S(int64_t j0, int64_t j1, int64_t H, const T *restrict a,       \
                                           const T *restrict hp, const T *restrict dh,                   \
                                           T *restrict dx, T *restrict dq, T *restrict dhp)              \
    {                                                                                                    \
        for (int64_t j = j0; j < j1; j++) {                                                              \
            T r = a[j], z = a[H + j], n = a[2 * H + j], hn = a[3 * H + j], d = dh[j];                    \
            T dn = d * (1 - z) * (1 - n * n);                                                            \
            T dz = d * (hp[j] - n) * z * (1 - z);                                                        \
            T dr = dn * hn * r * (1 - r);                                                                \
            dx[j] = dr;                                                                                  \
            dx[H + j] = dz;                                                                              \
            dx[2 * H + j] = dn;                                                                          \
            dq[j] = dr;                                                                                  \
            dq[H + j] = dz;                                                                              \
            dq[2 * H + j] = dn * r;                                                                      \
            dhp[j] = d * z;                                                                              \
        }                                                                                                \
    }                                                                                                    \
    RNN_ALWAYS_INLINE void rnn_bwd_row_##S(int64_t j0, int64_t j1, int relu, const T *restrict a,        \
                                           const T *restrict dh, T *restrict dx)                         \
    {                                                                                                    \
        if (relu) {                                                                                      \
            for (int64_t j = j0; j < j1; j++) dx[j] = a[j] > 0 ? dh[j] : 0;                              \
        } else {                                                                                         \
            for (int64_t j = j0; j < j1; j++) dx[j] = dh[j] * (1 - a[j] * a[j]);                         \
        }                                                                                                \
    }

DEFINE_ROWS(float, f32, sigmoid_f32, tanh_f32)
DEFINE_ROWS(double, f64, sigmoid_f64, tanh_f64)

/* ---------------------------------------------------------------- pointwise cells, a block of rows */
/* One step's rows [0, bs), hidden units [j0, j1). Pointers are the step's first row; leading
 * dimensions in elements. */
typedef struct {
    int mode;
    int64_t bs, H;
    void *gates;       /* ldg */
    const void *q;     /* ldq: h_prev W_hh^T (forward), unused in backward */
    const void *b1;    /* LSTM / RNN: b_ih + b_hh; GRU: b_ih */
    const void *b2;    /* GRU: b_hh */
    void *c;           /* LSTM cell state, ld H (forward in/out) */
    const void *hp;    /* h_prev, ld H (GRU) */
    void *h;           /* ldh: forward output h_t */
    void *tc;          /* LSTM tanh(c_t), ld H */
    int64_t ldg, ldq, ldh;
    /* backward */
    const void *cp;    /* LSTM c_{t-1}, ld H */
    const void *dh;    /* ld H */
    void *dc;          /* LSTM, ld H, in/out */
    void *dx, *dq;     /* ldd; dq (GRU only) the gradient of the hidden side */
    int64_t ldd;
    void *dhp;         /* GRU direct gradient to h_{t-1}, ld H */
} cell_args;

#define DEFINE_BLOCKS(T, S, ATTR, ISA)                                                                  \
    static ATTR void cell_fwd_##S##ISA(const cell_args *a, int64_t j0, int64_t j1)                      \
    {                                                                                                    \
        const int64_t H = a->H;                                                                          \
        for (int64_t r = 0; r < a->bs; r++) {                                                            \
            T *g = (T *)a->gates + r * a->ldg;                                                           \
            const T *q = (const T *)a->q + r * a->ldq;                                                   \
            T *h = (T *)a->h + r * a->ldh;                                                               \
            if (a->mode == AGC_RNN_LSTM)                                                                 \
                lstm_fwd_row_##S(j0, j1, H, g, q, a->b1, (T *)a->c + r * H, h, (T *)a->tc + r * H);      \
            else if (a->mode == AGC_RNN_GRU)                                                             \
                gru_fwd_row_##S(j0, j1, H, g, q, a->b1, a->b2, (const T *)a->hp + r * H, h);             \
            else                                                                                         \
                rnn_fwd_row_##S(j0, j1, a->mode == AGC_RNN_RELU, g, q, a->b1, h);                        \
        }                                                                                                \
    }                                                                                                    \
    static ATTR void cell_bwd_##S##ISA(const cell_args *a, int64_t j0, int64_t j1)                      \
    {                                                                                                    \
        const int64_t H = a->H;                                                                          \
        for (int64_t r = 0; r < a->bs; r++) {                                                            \
            const T *g = (const T *)a->gates + r * a->ldg;                                               \
            const T *dh = (const T *)a->dh + r * H;                                                      \
            T *dx = (T *)a->dx + r * a->ldd;                                                             \
            if (a->mode == AGC_RNN_LSTM)                                                                 \
                lstm_bwd_row_##S(j0, j1, H, g, (const T *)a->tc + r * H, (const T *)a->cp + r * H, dh,   \
                                 (T *)a->dc + r * H, dx);                                                \
            else if (a->mode == AGC_RNN_GRU)                                                             \
                gru_bwd_row_##S(j0, j1, H, g, (const T *)a->hp + r * H, dh, dx,                         \
                                (T *)a->dq + r * a->ldd, (T *)a->dhp + r * H);                           \
            else                                                                                         \
                rnn_bwd_row_##S(j0, j1, a->mode == AGC_RNN_RELU, g, dh, dx);                             \
        }                                                                                                \
    }

DEFINE_BLOCKS(float, f32, , )
DEFINE_BLOCKS(double, f64, , )
#if AGC_HAVE_X86
DEFINE_BLOCKS(float, f32, AGC_TARGET_AVX2, _avx2)
DEFINE_BLOCKS(double, f64, AGC_TARGET_AVX2, _avx2)
DEFINE_BLOCKS(float, f32, AGC_TARGET_AVX512_LOOPS, _avx512)
DEFINE_BLOCKS(double, f64, AGC_TARGET_AVX512_LOOPS, _avx512)
#endif

typedef void (*cell_fn)(const cell_args *, int64_t, int64_t);

static cell_fn pick(agc_dtype dt, int backward)
{
#if AGC_HAVE_X86
    if (agc_isa_active() >= AGC_ISA_AVX512) {
        if (dt == AGC_F32) return backward ? cell_bwd_f32_avx512 : cell_fwd_f32_avx512;
        return backward ? cell_bwd_f64_avx512 : cell_fwd_f64_avx512;
    }
    if (agc_isa_active() >= AGC_ISA_AVX2) {
        if (dt == AGC_F32) return backward ? cell_bwd_f32_avx2 : cell_fwd_f32_avx2;
        return backward ? cell_bwd_f64_avx2 : cell_fwd_f64_avx2;
    }
#endif
    if (dt == AGC_F32) return backward ? cell_bwd_f32 : cell_fwd_f32;
    return backward ? cell_bwd_f64 : cell_fwd_f64;
}

/* ---------------------------------------------------------------- helpers */
static int64_t gates_of(int mode) { return mode == AGC_RNN_LSTM ? 4 : mode == AGC_RNN_GRU ? 3 : 1; }

/* columns per workspace row: the gate activations (GRU keeps hn in a fourth slot) */
static int64_t ws_cols(int mode, int64_t H) { return mode == AGC_RNN_TANH || mode == AGC_RNN_RELU ? H : 4 * H; }

typedef struct {
    int64_t n;                                   /* rows: sum of batch_sizes */
    int64_t s;                                   /* workspace gate columns */
    int64_t gates, hprev, cprev, tc, hraw, total; /* element offsets into the workspace */
} ws_layout;

static ws_layout layout(const agc_rnn_geom *g, int training)
{
    ws_layout w;
    w.n = 0;
    for (int64_t t = 0; t < g->T; t++) w.n += g->batch_sizes[t];
    w.s = ws_cols(g->mode, g->H);
    const int lstm = g->mode == AGC_RNN_LSTM, proj = g->P != g->H;
    w.gates = 0;
    w.hprev = w.n * w.s;
    w.cprev = w.hprev + (training ? w.n * g->P : 0);
    w.tc = w.cprev + (training && lstm ? w.n * g->H : 0);
    w.hraw = w.tc + (training && lstm ? w.n * g->H : 0);
    w.total = w.hraw + (training && proj ? w.n * g->H : 0);
    return w;
}

int64_t agc_rnn_workspace_numel(const agc_rnn_geom *g, int training) { return layout(g, training).total; }

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* element counts rounded up to whole 64-byte lines: the GEMM micro-kernels load packed panels with
 * aligned loads, so every scratch buffer starts on a line */
static int64_t lines(int64_t n, int64_t es) { return ceil_div(n * es, 64) * 64 / es; }

/* B panels (agc_gemm_prepacked) of a K x N matrix with element (k, j) at m[k * rk + j * cj]:
 * ceil(N / NR) panels of K x NR, zero past column N */
#define DEFINE_PACK(T, S)                                                                                \
    static void pack_b_##S(int64_t K, int64_t N, int64_t NR, const T *m, int64_t rk, int64_t cj, T *out) \
    {                                                                                                    \
        for (int64_t p = 0; p < ceil_div(N, NR); p++)                                                    \
            for (int64_t k = 0; k < K; k++)                                                              \
                for (int64_t jj = 0; jj < NR; jj++) {                                                    \
                    const int64_t j = p * NR + jj;                                                       \
                    out[(p * K + k) * NR + jj] = j < N ? m[k * rk + j * cj] : 0;                         \
                }                                                                                        \
    }                                                                                                    \
    /* out[j] = sum over rows r of m[r * ld + j], rows in order (the same sum for any thread split) */  \
    static void colsum_##S(int64_t n, int64_t cols, const T *m, int64_t ld, T *out, int nt)             \
    {                                                                                                    \
        const int64_t chunk = 64;                                                                        \
        const int64_t nch = ceil_div(cols, chunk);                                                       \
        _Pragma("omp parallel for num_threads(nt) schedule(dynamic, 1)")                                 \
        for (int64_t ch = 0; ch < nch; ch++) {                                                           \
            const int64_t j0 = ch * chunk, j1 = j0 + chunk < cols ? j0 + chunk : cols;                   \
            T acc[64];                                                                                   \
            for (int64_t j = j0; j < j1; j++) acc[j - j0] = 0;                                           \
            for (int64_t r = 0; r < n; r++)                                                              \
                for (int64_t j = j0; j < j1; j++) acc[j - j0] += m[r * ld + j];                          \
            for (int64_t j = j0; j < j1; j++) out[j] = acc[j - j0];                                      \
        }                                                                                                \
    }

DEFINE_PACK(float, f32)
DEFINE_PACK(double, f64)

static void pack_b(agc_dtype dt, int64_t K, int64_t N, int64_t NR, const void *m, int64_t rk, int64_t cj, void *out)
{
    if (dt == AGC_F32)
        pack_b_f32(K, N, NR, m, rk, cj, out);
    else
        pack_b_f64(K, N, NR, m, rk, cj, out);
}

static void colsum(agc_dtype dt, int64_t n, int64_t cols, const void *m, int64_t ld, void *out)
{
    int nt = agc_threads_for(n * cols, AGC_PAR_CHEAP);
    if (dt == AGC_F32)
        colsum_f32(n, cols, m, ld, out, nt);
    else
        colsum_f64(n, cols, m, ld, out, nt);
}

/* a[i] += b[i] */
static void add_into(agc_dtype dt, int64_t n, void *a, const void *b)
{
    if (dt == AGC_F32) {
        float *restrict x = a;
        const float *restrict y = b;
        for (int64_t i = 0; i < n; i++) x[i] += y[i];
    } else {
        double *restrict x = a;
        const double *restrict y = b;
        for (int64_t i = 0; i < n; i++) x[i] += y[i];
    }
}

/* row offsets of the steps; NULL on allocation failure */
static int64_t *offsets(const agc_rnn_geom *g)
{
    int64_t *off = agc_alloc((g->T + 1) * (int64_t)sizeof(int64_t));
    if (!off) return NULL;
    off[0] = 0;
    for (int64_t t = 0; t < g->T; t++) off[t + 1] = off[t] + g->batch_sizes[t];
    return off;
}

/* Scheduling. The batch rows are independent sequences, so the recurrence needs no synchronisation
 * between steps as long as each MR-row panel runs its steps in order. Each thread owns a home block
 * of whole panels and runs every step over it, one GEMM per step for the block's panels together
 * (a per-step split of the hidden units instead measured 3.5x slower at 2 threads than 1 on a
 * loaded 2-core machine: every step waited for the descheduled thread). A thread whose home block
 * is finished takes over the remaining steps of other panels, one panel-step at a time, so a thread
 * descheduled by another process holds back only the panel-step it is in, not half the batch: the
 * others finish the rest meanwhile. Each panel's progress is one word, state[p] = the number of its
 * steps done, with STEP_BUSY set while a thread runs its next step; a thread claims a step by
 * compare-and-swap (acquire) and publishes it by a release store, so the step's writes are seen by
 * whichever thread runs the next. A thread leaves when every panel is done or held by another, and
 * every holder rescans after each release, so no panel is abandoned. No element's arithmetic
 * depends on which thread runs a step or which panels share a GEMM (see the file's comment). */
#define STEP_BUSY ((int64_t)1 << 62)

static int row_threads(const agc_rnn_geom *g, int64_t MR, double flops)
{
    const int64_t panels = ceil_div(g->B, MR);
    int nt = agc_threads_for(flops > 9e18 ? INT64_MAX : (int64_t)flops, RNN_PAR_FLOPS);
    return panels < nt ? (int)(panels > 0 ? panels : 1) : nt;
}

typedef struct {
    agc_dtype dt;
    const agc_rnn_geom *g;
    const int64_t *off;
    ws_layout w;
    int64_t es, MR, NR, G, GH;
    int training;
    const char *bias, *bp, *hrp, *g_out; /* hrp: W_hr packed as B panels (projection only) */
    char *ws, *out, *hs, *cs;
    /* backward */
    char *dg, *dq, *dhs, *dcs, *big;
    cell_fn cell;
} seq_ctx;

/* A thread's scratch for steps over at most `rows` rows. */
typedef struct {
    char *q, *ap, *raw, *tcs;  /* forward: gates q, packed A, unprojected h, tanh(c) when not kept */
    char *tot, *draw;          /* backward: total gradient of h_t, of the unprojected h */
} step_scratch;

static char *scratch_alloc(const seq_ctx *c, int backward, int64_t rows, step_scratch *sc)
{
    const int64_t es = c->es, H = c->g->H, P = c->g->P, GH = c->GH;
    const int64_t pr = ceil_div(rows, c->MR) * c->MR; /* packed A covers whole panels */
    const int64_t width = backward ? GH : (P > H ? P : H);
    const int64_t nb_a = lines(pr * width, es), nb_q = backward ? 0 : lines(rows * GH, es);
    const int64_t nb_raw = lines(rows * H, es), nb_tot = backward ? lines(rows * P, es) : 0;
    char *m = agc_alloc((nb_a + nb_q + 2 * nb_raw + nb_tot) * es);
    if (!m) return NULL;
    sc->ap = m;
    sc->q = m + nb_a * es;
    sc->raw = sc->draw = sc->q + nb_q * es;
    sc->tcs = sc->raw + nb_raw * es;
    sc->tot = sc->tcs + nb_raw * es;
    return m;
}

/* forward step s (in processing order) for rows [r0, r1) */
static int fwd_step(const seq_ctx *c, const step_scratch *sc, int64_t s, int64_t r0, int64_t r1)
{
    const agc_rnn_geom *g = c->g;
    const agc_dtype dt = c->dt;
    const int64_t es = c->es, H = g->H, P = g->P, G = c->G, GH = c->GH, S = c->w.s, NR = c->NR;
    const int64_t np = ceil_div(H, NR);
    const int lstm = g->mode == AGC_RNN_LSTM, proj = P != H;
    const int64_t t = g->reverse ? g->T - 1 - s : s;
    const int64_t bs = g->batch_sizes[t] < r1 ? g->batch_sizes[t] : r1, n = bs - r0;
    if (n <= 0) return AGC_OK;
    char *hs = c->hs + r0 * P * es, *cs = c->cs + r0 * H * es;
    const int64_t row = c->off[t] + r0;
    if (c->training) {
        memcpy(c->ws + (c->w.hprev + row * P) * es, hs, n * P * es);
        if (lstm) memcpy(c->ws + (c->w.cprev + row * H) * es, cs, n * H * es);
    }
    agc_gemm_pack_a_panels(dt, n, P, hs, P, 1, sc->ap);
    int rc = AGC_OK;
    for (int64_t k = 0; k < G && rc == AGC_OK; k++)
        rc = agc_gemm_prepacked(dt, n, H, P, 1.0, sc->ap, c->bp + k * np * P * NR * es, 0.0, sc->q + k * H * es, GH, 1);
    char *outp = c->out + row * P * es;
    char *hout = proj ? (c->training ? c->ws + (c->w.hraw + row * H) * es : sc->raw) : outp;
    cell_args a = {.mode = g->mode, .bs = n, .H = H, .gates = c->ws + (c->w.gates + row * S) * es, .q = sc->q,
                   .b1 = c->bias, .b2 = c->bias + GH * es, .c = cs, .hp = hs, .h = hout,
                   .tc = c->training && lstm ? c->ws + (c->w.tc + row * H) * es : sc->tcs, .ldg = S, .ldq = GH,
                   .ldh = H};
    c->cell(&a, 0, H);
    if (proj && rc == AGC_OK) {
        agc_gemm_pack_a_panels(dt, n, H, hout, H, 1, sc->ap);
        rc = agc_gemm_prepacked(dt, n, P, H, 1.0, sc->ap, c->hrp, 0.0, outp, P, 1);
    }
    memcpy(hs, outp, n * P * es);
    return rc;
}

/* backward step s (in processing order: the forward's last step first) for rows [r0, r1) */
static int bwd_step(const seq_ctx *c, const step_scratch *sc, int64_t s, int64_t r0, int64_t r1)
{
    const agc_rnn_geom *g = c->g;
    const agc_dtype dt = c->dt;
    const int64_t es = c->es, H = g->H, P = g->P, GH = c->GH, S = c->w.s;
    const int proj = P != H, gru = g->mode == AGC_RNN_GRU;
    const int64_t t = g->reverse ? s : g->T - 1 - s;
    const int64_t bs = g->batch_sizes[t] < r1 ? g->batch_sizes[t] : r1, n = bs - r0;
    if (n <= 0) return AGC_OK;
    char *dhs = c->dhs + r0 * P * es, *dcs = c->dcs + r0 * H * es;
    const int64_t row = c->off[t] + r0;
    int rc = AGC_OK;
    memcpy(sc->tot, dhs, n * P * es);
    if (c->g_out) add_into(dt, n * P, sc->tot, c->g_out + row * P * es);
    const char *dh = sc->tot;
    if (proj) {
        memcpy(c->big + row * P * es, sc->tot, n * P * es);
        agc_gemm_pack_a_panels(dt, n, P, sc->tot, P, 1, sc->ap);
        rc = agc_gemm_prepacked(dt, n, H, P, 1.0, sc->ap, c->hrp, 0.0, sc->draw, H, 1);
        dh = sc->draw;
    }
    cell_args a = {.mode = g->mode, .bs = n, .H = H, .gates = c->ws + (c->w.gates + row * S) * es,
                   .hp = c->ws + (c->w.hprev + row * P) * es, .tc = c->ws + (c->w.tc + row * H) * es,
                   .ldg = S, .cp = c->ws + (c->w.cprev + row * H) * es, .dh = dh, .dc = dcs,
                   .dx = c->dg + row * GH * es, .dq = c->dq + row * GH * es, .dhp = dhs, .ldd = GH};
    c->cell(&a, 0, H);
    /* dh_{t-1} = dq_t W_hh (+ the GRU's direct z dh_t, already in dhs) */
    agc_gemm_pack_a_panels(dt, n, GH, c->dq + row * GH * es, GH, 1, sc->ap);
    if (rc == AGC_OK) rc = agc_gemm_prepacked(dt, n, P, GH, 1.0, sc->ap, c->bp, gru ? 1.0 : 0.0, dhs, P, 1);
    return rc;
}

typedef int (*step_fn)(const seq_ctx *, const step_scratch *, int64_t, int64_t, int64_t);

static int claim(int64_t *state, int64_t p, int64_t s)
{
    int64_t want = s;
    return __atomic_compare_exchange_n(&state[p], &want, s | STEP_BUSY, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void publish(int64_t *state, int64_t p, int64_t done)
{
    __atomic_store_n(&state[p], done, __ATOMIC_RELEASE);
}

/* one thread's share: its home panels [p0, p1) step by step, then any panel-step left */
static int run_share(const seq_ctx *c, step_fn fn, int backward, int64_t *state, int64_t panels, int64_t p0,
                     int64_t p1, int *failed)
{
    const int64_t T = c->g->T, MR = c->MR, B = c->g->B;
    step_scratch sc;
    char *mem = scratch_alloc(c, backward, (p1 - p0 > 1 ? p1 - p0 : 1) * MR, &sc);
    if (!mem) return AGC_ENOMEM;
    int rc = AGC_OK;
    for (int64_t s = 0; s < T && rc == AGC_OK && !__atomic_load_n(failed, __ATOMIC_RELAXED); s++) {
        AGC_PERTURB();
        for (int64_t a = p0; a < p1 && rc == AGC_OK;) {
            if (!claim(state, a, s)) {
                a++;
                continue;
            }
            int64_t b = a + 1;
            while (b < p1 && claim(state, b, s)) b++;
            rc = fn(c, &sc, s, a * MR, b * MR < B ? b * MR : B);
            for (int64_t p = a; p < b; p++) publish(state, p, rc == AGC_OK ? s + 1 : T);
            a = b;
        }
    }
    /* take over what is left, starting after the home block so threads spread over the victims */
    int progress = 1;
    while (progress && rc == AGC_OK && !__atomic_load_n(failed, __ATOMIC_RELAXED)) {
        progress = 0;
        for (int64_t i = 0; i < panels && rc == AGC_OK; i++) {
            const int64_t p = (p1 + i) % panels;
            for (;;) {
                const int64_t v = __atomic_load_n(&state[p], __ATOMIC_RELAXED);
                if (v & STEP_BUSY) {
                    progress = 1; /* held by another thread: look again after the others */
                    break;
                }
                if (v >= T || !claim(state, p, v)) break;
                AGC_PERTURB();
                rc = fn(c, &sc, v, p * MR, (p + 1) * MR < B ? (p + 1) * MR : B);
                publish(state, p, rc == AGC_OK ? v + 1 : T);
                if (rc != AGC_OK) break;
            }
        }
        /* only busy panels are left: they are another thread's, which rescans after it releases */
        if (progress) {
            int any_free = 0;
            for (int64_t p = 0; p < panels && !any_free; p++) {
                const int64_t v = __atomic_load_n(&state[p], __ATOMIC_RELAXED);
                any_free = !(v & STEP_BUSY) && v < T;
            }
            progress = any_free;
        }
    }
    agc_free(mem);
    return rc;
}

/* run fn over every step of every row, on nt threads */
static int run_steps(const seq_ctx *c, int nt, step_fn fn, int backward)
{
    const int64_t T = c->g->T, MR = c->MR, panels = ceil_div(c->g->B, MR);
    if (panels == 0 || T == 0) return AGC_OK;
    if (nt <= 1) {
        step_scratch sc;
        char *mem = scratch_alloc(c, backward, c->g->B, &sc);
        if (!mem) return AGC_ENOMEM;
        int rc = AGC_OK;
        for (int64_t s = 0; s < T && rc == AGC_OK; s++) rc = fn(c, &sc, s, 0, c->g->B);
        agc_free(mem);
        return rc;
    }
    int64_t *state = agc_alloc(panels * (int64_t)sizeof(int64_t));
    if (!state) return AGC_ENOMEM;
    memset(state, 0, (size_t)panels * sizeof(int64_t));
    int failed = 0;
    int rc = AGC_OK;
#pragma omp parallel num_threads(nt) reduction(min : rc)
    {
        const int k = omp_get_thread_num(), n = omp_get_num_threads();
        AGC_REGION_POINT();
        int r = run_share(c, fn, backward, state, panels, panels * k / n, panels * (k + 1) / n, &failed);
        if (r != AGC_OK) __atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
        rc = r < rc ? r : rc;
    }
    agc_free(state);
    return rc;
}

/* ---------------------------------------------------------------- forward */
int agc_rnn_forward(agc_dtype dt, const agc_rnn_geom *g, const void *x, const void *w_ih, const void *w_hh,
                    const void *b_ih, const void *b_hh, const void *w_hr, const void *h0, const void *c0,
                    void *out, void *h_n, void *c_n, void *ws, int training)
{
    if (dt != AGC_F32 && dt != AGC_F64) return AGC_EUNSUPPORTED;
    const int64_t es = (int64_t)agc_dtype_size(dt);
    const int mode = g->mode;
    const int lstm = mode == AGC_RNN_LSTM, gru = mode == AGC_RNN_GRU;
    const int64_t B = g->B, I = g->I, H = g->H, P = g->P, G = gates_of(mode), GH = G * H;
    const int64_t MR = agc_gemm_tile_mr(dt), NR = agc_gemm_tile_nr(dt), np = ceil_div(H, NR);
    const ws_layout w = layout(g, training);

    /* shared scratch: biases (2 GH), packed W_hh^T (G np P NR), h and c state (B x P, B x H) */
    int64_t *off = offsets(g);
    const int64_t nb_bias = lines(2 * GH, es), nb_bp = lines(G * np * P * NR, es);
    const int64_t nb_h = lines(B * P, es), nb_c = lines(B * H, es);
    const int64_t nb_hr = P != H ? lines(ceil_div(P, NR) * H * NR, es) : 0;
    char *scr = agc_alloc((nb_bias + nb_bp + nb_h + nb_c + nb_hr) * es);
    if (!off || !scr) {
        agc_free(off);
        agc_free(scr);
        return AGC_ENOMEM;
    }
    char *bias = scr, *bp = bias + nb_bias * es, *hs = bp + nb_bp * es, *cs = hs + nb_h * es;
    char *hrp = nb_hr ? cs + nb_c * es : NULL;
    /* W_hr^T (H x P) as B panels for the projection h = h_raw W_hr^T */
    if (hrp) pack_b(dt, H, P, NR, w_hr, 1, H, hrp);
    /* biases: LSTM / RNN add b_ih + b_hh once per call; GRU keeps them apart */
    memset(bias, 0, nb_bias * es);
    if (b_ih) memcpy(bias, b_ih, GH * es);
    if (b_hh) {
        if (gru)
            memcpy(bias + GH * es, b_hh, GH * es);
        else
            add_into(dt, GH, bias, b_hh);
    }
    /* W_hh^T (P x GH) as B panels gate by gate: packed once, read by every step */
    for (int64_t k = 0; k < G; k++)
        pack_b(dt, P, H, NR, (const char *)w_hh + k * H * P * es, 1, P, bp + k * np * P * NR * es);
    if (B) memcpy(hs, h0, B * P * es);
    if (lstm && B) memcpy(cs, c0, B * H * es);

    /* the input projection of every step at once */
    int rc = agc_gemm(dt, w.n, GH, I, 1.0, x, I, 1, w_ih, 1, I, 0.0, (char *)ws + w.gates * es, w.s, 1);
    seq_ctx c = {.dt = dt, .g = g, .off = off, .w = w, .es = es, .MR = MR, .NR = NR, .G = G, .GH = GH,
                 .training = training, .bias = bias, .bp = bp, .hrp = hrp, .ws = ws, .out = out, .hs = hs,
                 .cs = cs, .cell = pick(dt, 0)};
    if (rc == AGC_OK) rc = run_steps(&c, row_threads(g, MR, 2.0 * w.n * GH * P), fwd_step, 0);
    if (B) memcpy(h_n, hs, B * P * es);
    if (lstm && B) memcpy(c_n, cs, B * H * es);
    agc_free(scr);
    agc_free(off);
    return rc;
}

/* ---------------------------------------------------------------- backward */
int agc_rnn_backward(agc_dtype dt, const agc_rnn_geom *g, const void *x, const void *w_ih, const void *w_hh,
                     const void *w_hr, const void *ws, const void *g_out, const void *g_hn, const void *g_cn,
                     void *dx, void *dh0, void *dc0, void *dw_ih, void *dw_hh, void *db_ih, void *db_hh,
                     void *dw_hr)
{
    if (dt != AGC_F32 && dt != AGC_F64) return AGC_EUNSUPPORTED;
    const int64_t es = (int64_t)agc_dtype_size(dt);
    const int mode = g->mode;
    const int lstm = mode == AGC_RNN_LSTM, gru = mode == AGC_RNN_GRU;
    const int64_t B = g->B, I = g->I, H = g->H, P = g->P, G = gates_of(mode), GH = G * H;
    const int proj = P != H;
    const ws_layout w = layout(g, 1);
    const int64_t N = w.n;
    const int64_t MR = agc_gemm_tile_mr(dt), NR = agc_gemm_tile_nr(dt);

    /* shared scratch: dG (N x GH) and, for the GRU, dQ (N x GH); packed W_hh (GH x P); dh and dc
     * state (B x P, B x H); with a projection, the total gradient of every h_t (N x P, for dW_hr) */
    int64_t *off = offsets(g);
    const int64_t nb_dg = lines(N * GH, es), nb_dq = gru ? nb_dg : 0, nb_bp = lines(ceil_div(P, NR) * GH * NR, es);
    const int64_t nb_dh = lines(B * P, es), nb_dc = lines(B * H, es), nb_big = proj ? lines(N * P, es) : 0;
    const int64_t nb_hr = proj ? lines(ceil_div(H, NR) * P * NR, es) : 0;
    char *scr = agc_alloc((nb_dg + nb_dq + nb_bp + nb_dh + nb_dc + nb_big + nb_hr) * es);
    if (!off || !scr) {
        agc_free(off);
        agc_free(scr);
        return AGC_ENOMEM;
    }
    char *dg = scr, *dq = gru ? dg + nb_dg * es : dg, *bp = dg + (nb_dg + nb_dq) * es, *dhs = bp + nb_bp * es;
    char *dcs = dhs + nb_dh * es, *big = dcs + nb_dc * es, *hrp = proj ? big + nb_big * es : NULL;
    pack_b(dt, GH, P, NR, w_hh, P, 1, bp);
    /* W_hr (P x H) as B panels for the projection's gradient dh_raw = dh W_hr */
    if (hrp) pack_b(dt, P, H, NR, w_hr, H, 1, hrp);
    if (g_hn)
        memcpy(dhs, g_hn, B * P * es);
    else
        memset(dhs, 0, B * P * es);
    if (lstm) {
        if (g_cn)
            memcpy(dcs, g_cn, B * H * es);
        else
            memset(dcs, 0, B * H * es);
    }
    seq_ctx c = {.dt = dt, .g = g, .off = off, .w = w, .es = es, .MR = MR, .NR = NR, .G = G, .GH = GH,
                 .training = 1, .bp = bp, .hrp = hrp, .g_out = g_out, .ws = (char *)ws, .dg = dg, .dq = dq,
                 .dhs = dhs, .dcs = dcs, .big = big, .cell = pick(dt, 1)};
    int rc = run_steps(&c, row_threads(g, MR, 2.0 * N * GH * P), bwd_step, 1);
    if (rc == AGC_OK && dh0) memcpy(dh0, dhs, B * P * es);
    if (rc == AGC_OK && dc0 && lstm) memcpy(dc0, dcs, B * H * es);
    /* weight gradients: one GEMM each over all N rows */
    const char *wsb = ws;
    if (rc == AGC_OK && dw_ih) rc = agc_gemm(dt, GH, I, N, 1.0, dg, 1, GH, x, I, 1, 0.0, dw_ih, I, 1);
    if (rc == AGC_OK && dw_hh)
        rc = agc_gemm(dt, GH, P, N, 1.0, dq, 1, GH, wsb + w.hprev * es, P, 1, 0.0, dw_hh, P, 1);
    if (rc == AGC_OK && dx) rc = agc_gemm(dt, N, I, GH, 1.0, dg, GH, 1, w_ih, I, 1, 0.0, dx, I, 1);
    if (rc == AGC_OK && dw_hr)
        rc = agc_gemm(dt, P, H, N, 1.0, big, 1, P, wsb + w.hraw * es, H, 1, 0.0, dw_hr, H, 1);
    if (rc == AGC_OK && db_ih) colsum(dt, N, GH, dg, GH, db_ih);
    if (rc == AGC_OK && db_hh) colsum(dt, N, GH, dq, GH, db_hh);
    agc_free(scr);
    agc_free(off);
    return rc;
}
