/* internal.h: shared by the .c files, never seen by the binding.
 * - AGC_TARGET_AVX2, AGC_TARGET_AVX512: the per-function target attributes of the AVX2+FMA and
 *   AVX-512 (F, BW, DQ, VL) tiers (no -march=native anywhere); cpu.c decides which tier may run.
 *   AGC_TARGET_AVX512_LOOPS is the AVX-512 tier for loops left to the compiler's vectoriser: GCC
 *   otherwise keeps them at 256 bits (its generic tuning prefers narrower vectors).
 *   AGC_NATIVE_AVX512 guards code written with AVX-512 intrinsics: 0 off x86 and in the emulation
 *   test build (AGC_EMU512), where the avx512 tier is vec.h's 16 lanes emulated on AVX2.
 * - Threading: agc_threads_for(work, threshold) says how many OpenMP threads a kernel should use:
 *   1 below the threshold, else the count set by agc_set_num_threads (cpu.c).
 * - agc_iter: the N-d strided iterator. It drops size-1 dims and merges dims that are contiguous
 *   with each other for every operand at once, so a contiguous view becomes one flat row and a
 *   (4096, 1024) + (1024,) broadcast becomes 4096 rows of 1024. agc_iter_run splits the flat index
 *   range into chunks whose boundaries are multiples of AGC_CHUNK_ALIGN elements; every element is
 *   computed by the same code whatever the split, so results never depend on the thread count.
 * - Kernel tables for elementwise.c (portable) and the vector tiers (elementwise_vec.h compiled
 *   per ISA), filled once by cpu.c.
 * reduce.c, gemm.c and conv.c may use any of this but do not have to. */
#ifndef AGC_INTERNAL_H
#define AGC_INTERNAL_H

#include "agc.h"

#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define AGC_HAVE_X86 1
#define AGC_TARGET_AVX2 __attribute__((target("avx2,fma")))
#ifdef AGC_EMU512
/* The emulation test build (tools/emu512.sh): the "avx512" tier is vec.h's 16-lane instance emulated
 * on AVX2 (vec_emu512.h) and everything of that tier is compiled for AVX2, so it runs on any AVX2
 * machine. Code written with AVX-512 intrinsics (the GEMM micro-kernels, the conv panel builder, the
 * optimizer loops) exists only where AGC_NATIVE_AVX512 is set; in this build those families run
 * their AVX2 code under the "avx512" tier. */
#define AGC_NATIVE_AVX512 0
#define AGC_TARGET_AVX512 AGC_TARGET_AVX2
#define AGC_TARGET_AVX512_LOOPS AGC_TARGET_AVX2
#else
#define AGC_NATIVE_AVX512 1
#define AGC_TARGET_AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl")))
#define AGC_TARGET_AVX512_LOOPS \
    __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,prefer-vector-width=512")))
#endif
#else
#define AGC_HAVE_X86 0
#define AGC_NATIVE_AVX512 0
#define AGC_TARGET_AVX2
#define AGC_TARGET_AVX512
#define AGC_TARGET_AVX512_LOOPS
#endif

/* The tiers as preprocessor numbers (equal to the agc_isa values) for vec.h's AGC_VEC_ISA, which
 * #if cannot compare against enum constants */
#define AGC_VEC_PORTABLE 0
#define AGC_VEC_AVX2 1
#define AGC_VEC_AVX512 2
_Static_assert(AGC_VEC_PORTABLE == AGC_ISA_PORTABLE && AGC_VEC_AVX2 == AGC_ISA_AVX2 &&
                   AGC_VEC_AVX512 == AGC_ISA_AVX512,
               "AGC_VEC_* must match agc_isa");

/* Elementwise size thresholds (elements) above which kernels fork threads. An OpenMP fork/join
 * costs ~1.5-2 us here. Measured on the 2-core dev box (float32, best of 300, 1 vs 2 threads):
 * add 32K 9.4 vs 10.1 us, 64K 14.8 vs 12.6 us; tanh 8K 12.4 vs 10.6 us; exp 8K about even. */
#define AGC_PAR_CHEAP 65536
#define AGC_PAR_HEAVY 8192
/* per-thread chunks start at multiples of this many elements (256 bytes for f32: whole cache lines,
 * and a multiple of every SIMD width) */
#define AGC_CHUNK_ALIGN 64

/* cpu.c. The thread count may be changed by set_num_threads in one Python thread while kernels
 * run in others: it is read with an atomic load, once per decision, and a kernel that sizes
 * per-thread buffers passes the count it read on to its parallel region (never reads it twice). */
extern int agc_nthreads_setting;
static inline int agc_nthreads(void)
{
    return __atomic_load_n(&agc_nthreads_setting, __ATOMIC_RELAXED);
}
/* The fork decision of a parallel region about to start with n > 1 threads: applies the adaptive
 * cap (cpu.c: fewer threads while other processes hold the cores) and notes the fork time, against
 * which the workers measure how late they start. Returns the thread count to use. */
int agc_fork(int n);
static inline int agc_threads_for(int64_t work, int64_t threshold)
{
#ifdef _OPENMP
    const int setting = agc_nthreads();
    if (work < threshold || setting <= 1) return 1;
    if (omp_in_parallel()) return 1;
    int64_t most = work / (threshold / 2 > 0 ? threshold / 2 : 1);
    int n = most < setting ? (int)(most > 1 ? most : 1) : setting;
    return n > 1 ? agc_fork(n) : 1;
#else
    (void)work;
    (void)threshold;
    return 1;
#endif
}

/* Threads take work in dynamic pieces of about 64K elements (agc_grain: how many items of per_item
 * elements make one piece): on a shared 2-core machine a static split leaves one thread waiting
 * whenever the other is descheduled. Which thread computes a piece never changes its result. */
static inline int64_t agc_grain(int64_t per_item)
{
    int64_t g = 65536 / (per_item > 0 ? per_item : 1);
    return g < 1 ? 1 : (g > 1024 ? 1024 : g);
}

/* Scheduling points. AGC_PERTURB() goes anywhere threads could drift apart (the top of an `omp for`
 * body, a block step): a thread sleeps there when the schedule perturbation is on (tests); when it
 * is off the point costs one load and a predicted branch. AGC_REGION_POINT() goes at the start of
 * each thread's share of a region (a worker function's first line, the top of a coarse `omp for`
 * body): besides perturbing, a thread passing its first one after a fork measures how late it
 * started, which feeds the adaptive thread cap (cpu.c). It reads a thread-local, so it is kept out
 * of fine-grained loops. */
extern int agc_perturb_mode;
extern int64_t agc_fork_gen;
void agc_perturb_point(void);
void agc_region_start(int64_t gen);
static _Thread_local int64_t agc_seen_gen = 0;
#define AGC_PERTURB()                                                                              \
    do {                                                                                           \
        if (__builtin_expect(__atomic_load_n(&agc_perturb_mode, __ATOMIC_RELAXED) != 0, 0))        \
            agc_perturb_point();                                                                   \
    } while (0)
#define AGC_REGION_POINT()                                                                         \
    do {                                                                                           \
        AGC_PERTURB();                                                                             \
        const int64_t gen_ = __atomic_load_n(&agc_fork_gen, __ATOMIC_RELAXED);                     \
        if (gen_ != agc_seen_gen) {                                                                \
            agc_seen_gen = gen_;                                                                   \
            agc_region_start(gen_);                                                                \
        }                                                                                          \
    } while (0)

/* ---------------------------------------------------------------- the strided iterator */
#define AGC_ITER_MAXOPS 4

typedef struct {
    int ndim;                                      /* >= 1 after agc_iter_init; dim ndim-1 is innermost */
    int nops;
    int64_t numel;
    int64_t shape[AGC_MAX_DIMS];
    int64_t stride[AGC_ITER_MAXOPS][AGC_MAX_DIMS]; /* in elements */
} agc_iter;

/* strides[k] is operand k's stride array (NULL means "contiguous for this shape"). */
static inline void agc_iter_init(agc_iter *it, int nops, int ndim, const int64_t *shape,
                                 const int64_t *const *strides)
{
    int64_t cstr[AGC_MAX_DIMS];
    int64_t numel = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        cstr[d] = numel;
        numel *= shape[d];
    }
    it->nops = nops;
    it->numel = numel;
    /* walk from the innermost dim outwards; the list is built innermost-first, then reversed */
    int nd = 0;
    int64_t sh[AGC_MAX_DIMS];
    int64_t st[AGC_ITER_MAXOPS][AGC_MAX_DIMS];
    for (int d = ndim - 1; d >= 0; d--) {
        if (shape[d] == 1) continue;
        if (nd > 0) {
            int merge = 1;
            for (int k = 0; k < nops; k++) {
                int64_t s = strides[k] ? strides[k][d] : cstr[d];
                if (s != st[k][nd - 1] * sh[nd - 1]) {
                    merge = 0;
                    break;
                }
            }
            if (merge) {
                sh[nd - 1] *= shape[d];
                continue;
            }
        }
        sh[nd] = shape[d];
        for (int k = 0; k < nops; k++) st[k][nd] = strides[k] ? strides[k][d] : cstr[d];
        nd++;
    }
    if (nd == 0) {
        sh[0] = 1;
        for (int k = 0; k < nops; k++) st[k][0] = 0;
        nd = 1;
    }
    it->ndim = nd;
    for (int d = 0; d < nd; d++) {
        it->shape[d] = sh[nd - 1 - d];
        for (int k = 0; k < nops; k++) it->stride[k][d] = st[k][nd - 1 - d];
    }
}

/* Called once per row: n elements, ptrs[k] = operand k's first element, s[k] its inner stride. */
typedef void (*agc_row_fn)(void *ctx, int64_t n, char *const *ptrs, const int64_t *s);

/* Visit flat indices [begin, end) of the iterator's index space, row by row. The row pointers are
 * computed once from the start index and then stepped dimension by dimension (one add per operand
 * for the next row), so short rows, as in a (rows, 1024) + (1024,) broadcast, cost little each. */
static inline void agc_iter_range(const agc_iter *it, int64_t begin, int64_t end, char *const *base,
                                  const int64_t *itemsize, agc_row_fn fn, void *ctx)
{
    const int nd = it->ndim, nops = it->nops;
    const int64_t inner = it->shape[nd - 1];
    int64_t idx[AGC_MAX_DIMS];
    int64_t rest = begin;
    for (int d = nd - 1; d >= 0; d--) {
        idx[d] = rest % it->shape[d];
        rest /= it->shape[d];
    }
    int64_t s[AGC_ITER_MAXOPS];
    int64_t bstride[AGC_ITER_MAXOPS][AGC_MAX_DIMS]; /* in bytes */
    char *p[AGC_ITER_MAXOPS];
    for (int k = 0; k < nops; k++) {
        s[k] = it->stride[k][nd - 1];
        int64_t off = 0;
        for (int d = 0; d < nd; d++) {
            bstride[k][d] = it->stride[k][d] * itemsize[k];
            off += idx[d] * bstride[k][d];
        }
        p[k] = base[k] + off;
    }
    int64_t pos = begin;
    while (pos < end) {
        int64_t n = inner - idx[nd - 1];
        if (n > end - pos) n = end - pos;
        fn(ctx, n, p, s);
        pos += n;
        if (pos >= end) break;
        /* back to the start of this row, then on to the next one */
        for (int k = 0; k < nops; k++) p[k] -= idx[nd - 1] * bstride[k][nd - 1];
        idx[nd - 1] = 0;
        for (int d = nd - 2; d >= 0; d--) {
            if (++idx[d] < it->shape[d]) {
                for (int k = 0; k < nops; k++) p[k] += bstride[k][d];
                break;
            }
            for (int k = 0; k < nops; k++) p[k] -= (it->shape[d] - 1) * bstride[k][d];
            idx[d] = 0;
        }
    }
}

/* Run the whole index space, on several threads when numel >= threshold. */
static inline void agc_iter_run(const agc_iter *it, char *const *base, const int64_t *itemsize,
                                int64_t threshold, agc_row_fn fn, void *ctx)
{
    const int64_t numel = it->numel;
    if (numel == 0) return;
    int nt = agc_threads_for(numel, threshold);
    if (nt <= 1) {
        agc_iter_range(it, 0, numel, base, itemsize, fn, ctx);
        return;
    }
#ifdef _OPENMP
    /* 4 chunks per thread, handed out dynamically: when another process holds one of the cores, the
     * thread that runs takes the chunks the other has not started (a static split would wait for
     * the other half). Which thread computes an element never changes its value. */
    int64_t nchunks = (int64_t)nt * 4;
    int64_t chunk = (numel + nchunks - 1) / nchunks;
    chunk = (chunk + AGC_CHUNK_ALIGN - 1) / AGC_CHUNK_ALIGN * AGC_CHUNK_ALIGN;
    nchunks = (numel + chunk - 1) / chunk;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int64_t c = 0; c < nchunks; c++) {
        AGC_REGION_POINT();
        int64_t b = c * chunk, e = b + chunk < numel ? b + chunk : numel;
        agc_iter_range(it, b, e, base, itemsize, fn, ctx);
    }
#endif
}

/* ---------------------------------------------------------------- elementwise kernel tables */
/* A row kernel: n elements with element strides. Implementations take fast paths for unit strides
 * (and, for binary ops, for a stride-0 operand). */
typedef void (*agc_unary_kernel)(int64_t n, const void *x, int64_t sx, void *out, int64_t so, double p0,
                                 double p1);
typedef void (*agc_binary_kernel)(int64_t n, const void *a, int64_t sa, const void *b, int64_t sb,
                                  void *out, int64_t so);

/* elementwise.c: the portable loops ([op][dtype], NULL = unsupported) and the active tables */
extern const agc_unary_kernel agc_unary_portable[AGC_NUNARY][AGC_NDTYPES];
extern const agc_binary_kernel agc_binary_portable[AGC_NBINARY][AGC_NDTYPES];
extern agc_unary_kernel agc_unary_active[AGC_NUNARY][AGC_NDTYPES];
extern agc_binary_kernel agc_binary_active[AGC_NBINARY][AGC_NDTYPES];
/* registry.c: output dtype of a unary/binary op given its input dtype, and whether its per-element
 * cost is a libm call or more (its threads fork at AGC_PAR_HEAVY elements instead of AGC_PAR_CHEAP) */
agc_dtype agc_unary_out_dtype(int op, agc_dtype dt);
agc_dtype agc_binary_out_dtype(int op, agc_dtype dt);
int agc_unary_heavy(int op, agc_dtype dt);
int agc_binary_heavy(int op, agc_dtype dt);

/* elementwise_avx2.c, elementwise_avx512.c (one body, elementwise_vec.h): a tier's overrides, NULL
 * where a narrower tier's kernel is used */
#if AGC_HAVE_X86
extern const agc_unary_kernel agc_unary_avx2[AGC_NUNARY][AGC_NDTYPES];
extern const agc_binary_kernel agc_binary_avx2[AGC_NBINARY][AGC_NDTYPES];
extern const agc_unary_kernel agc_unary_avx512[AGC_NUNARY][AGC_NDTYPES];
extern const agc_binary_kernel agc_binary_avx512[AGC_NBINARY][AGC_NDTYPES];
#endif

/* cpu.c */
/* fills the active tables for a tier (its own bodies where they exist, narrower tiers' elsewhere) */
void agc_select_kernels(agc_isa isa);

#endif
