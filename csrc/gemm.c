/* gemm.c: C = alpha * A @ B + beta * C for float32 and float64, any strides (contract in agc.h).
 * Blocking, outer to inner (the BLIS/GotoBLAS loop nest): NC columns of C, KC of the shared
 * dimension, MC rows. For each (NC, KC) step the KC x NC block of B is packed into NR-column
 * panels (shared by the threads when they split M); each thread packs its MC x KC blocks of A into
 * MR-row panels of its own, then runs the MR x NR micro-kernel over every (A panel, B panel) pair
 * (packed_worker). Packing absorbs any
 * strides, so transposed, sliced, broadcast (stride 0) and flipped operands are never copied first.
 * Everything that depends on the ISA (tile, block sizes, packing, micro-kernels) comes from the
 * GEMM context of the active tier (gemm.h; kernels in gemm_kernels_<isa>.c). The micro-kernels
 * only ever compute full MR x NR tiles: this frame packs zero rows and columns past the edges and
 * runs an edge tile (or one of a C with non-unit column stride) on a scratch tile that holds the
 * m x n corner of C, copied in and out, so the kernel's own update gives every element the bits
 * of the full-tile path (run_tile); a strip of at most NR/2 columns runs the context's half-width
 * kernel there (same sums, half the arithmetic). A C stored
 * column-major is handled as C^T = B^T A^T so that the micro-kernel sees contiguous rows.
 * Small products with contiguous B and C rows skip packing altogether (small_worker): the same
 * micro-kernel body reads A in place and B's rows directly, over the same K blocks, so the small
 * path's results equal the packed path's bits. Matrix-vector products (N == 1 or M == 1) use dot
 * or axpy loops (gemv_worker), whose sums are ordered differently.
 * Threads: a product below GEMM_PAR_WORK runs on the calling thread (no parallel region at all).
 * Batches: whole products per thread or one after another on all threads, whichever costs less
 * counting a fork as GEMM_FORK_WORK (many small products: whole; few large ones: one by one).
 * Threads split M and N (whole MR x NR tiles), never K: every element of C is the same sum in the
 * same order whatever the thread count, so results are bitwise identical for 1 and n threads.
 * The K blocking (the only thing that changes the summation order) depends on K and the cache
 * sizes only. Tests: tests/test_gemm.py. */
#define _GNU_SOURCE /* sysconf(_SC_LEVEL1_DCACHE_SIZE) */
#include "gemm.h"
#include "internal.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Thread decisions count work in float32-equivalent flops, 2 M N K esz / 4: a float64 FMA does half
 * the lanes of a float32 one, so at equal flops a float64 product takes twice as long.
 * GEMM_FORK_WORK: what a fork/join of two threads costs, as work. Measured on the 2-core Zen 5 dev box
 * (GOMP_SPINCOUNT=10000, workers spinning): an empty 2-thread region 0.8-0.9 us, about the time of
 * 2^17 float32 flops at the one-core rate of our 64^3 small-path product (110 GFLOPS).
 * GEMM_PAR_WORK: at least this much work (four forks' worth) and a GEMM splits between threads; below
 * it, it stays on one. Measured in C (1 vs 2 threads, best of 1500 interleaved calls, on the dev box
 * shared with other jobs): float32 48^3 (2^17.8) 3.3 vs 4.2 us, 64^3 (2^19) 4.7 vs 3.0 us, 80^3 11.9
 * vs 7.6 us; float64 48^3 (2^18.8 equivalent) 4.1 vs 4.4 us, 56^3 7.9-8.1 vs 7.1-9.0 us, 64^3 9.5 vs
 * 7.3 us. OpenBLAS keeps 64^3 on one thread; through ag.matmul at 2 threads ours then takes 0.75x
 * (float32) and 0.67x (float64) of NumPy's time there, against 1.05x on one thread. */
#define GEMM_FORK_WORK (1 << 17)
#define GEMM_PAR_WORK (1 << 19)
/* The small path (no packing) is taken while M N K is at most this and K at most GEMM_SMALL_K:
 * there, packing costs more than the strided reads it saves (float32, one thread, small vs packed:
 * 64^3 5.7 vs 6.8 us, 128^3 44 vs 48 us, 160^3 83 vs 90 us). */
#define GEMM_SMALL_MNK (160 * 160 * 160)
#define GEMM_SMALL_K 512
/* bytes of edge panels the small path keeps on the caller's stack (more go to the heap) */
#define GEMM_SMALL_EDGE_STACK 8192

/* ------------------------------------------------------------------------ contexts */
/* Block sizes a descriptor leaves 0 are chosen from the cache sizes, read once at run time:
 *  - KC: a packed B micro-panel (KC x NR) is reused by every A micro-panel of the block, so it
 *    should stay in L1 next to the streaming A micro-panel and the C tile: half of L1.
 *    32 KiB L1 -> KC = 256 for both float32 (NR = 16) and float64 (NR = 8). Measured: the
 *    AVX2 float32 micro-kernel alone runs at 98% of peak with KC = 256 and at 69% with KC = 512,
 *    where the B micro-panel fills L1.
 *  - MC: the packed A block (MC x KC) is reused for every B micro-panel, so it should stay in L2
 *    with room for the B micro-panels streaming through: half of L2.
 *  - NC: the packed B block (KC x NC) is shared by the threads from L3: at most half of L3, capped
 *    at 4080 columns so the buffer stays a few MiB.
 * Defaults when nothing can be read: 32 KiB, 512 KiB, 8 MiB. */
static gemm_ctx contexts[AGC_NISA][2];
static pthread_once_t contexts_once = PTHREAD_ONCE_INIT;
/* kept for agc_gemm_set_context: the descriptors the contexts were filled from, and the caches */
static const gemm_ctx *chosen[AGC_NISA][2];
static int64_t cache_l1, cache_l2, cache_l3;

/* size in bytes of the data (or unified) cache at a level, 0 if unknown */
static int64_t cache_bytes(int level)
{
    for (int index = 0; index < 8; index++) {
        char path[96], buf[32];
        int64_t lvl = 0, size = 0;
        int data = 0;
        snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/level", index);
        FILE *f = fopen(path, "r");
        if (!f) break;
        if (fgets(buf, sizeof(buf), f)) lvl = atoll(buf);
        fclose(f);
        snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/type", index);
        if ((f = fopen(path, "r"))) {
            if (fgets(buf, sizeof(buf), f)) data = buf[0] == 'D' || buf[0] == 'U';
            fclose(f);
        }
        snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/size", index);
        if ((f = fopen(path, "r"))) {
            if (fgets(buf, sizeof(buf), f)) {
                char *end;
                size = strtoll(buf, &end, 10);
                if (*end == 'K') size <<= 10;
                else if (*end == 'M') size <<= 20;
            }
            fclose(f);
        }
        if (lvl == level && data && size > 0) return size;
    }
#if defined(_SC_LEVEL1_DCACHE_SIZE)
    long v = sysconf(level == 1 ? _SC_LEVEL1_DCACHE_SIZE
                                : level == 2 ? _SC_LEVEL2_CACHE_SIZE : _SC_LEVEL3_CACHE_SIZE);
    if (v > 0) return v;
#endif
    return 0;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void fill_context(gemm_ctx *cx, const gemm_ctx *desc, const gemm_ctx *narrower, int64_t l1,
                         int64_t l2, int64_t l3)
{
    *cx = *desc;
    const int64_t esz = cx->esz, mr = cx->mr, nr = cx->nr;
    if (!cx->kc) cx->kc = clamp64(l1 / 2 / (nr * esz), 64, 1024);
    if (!cx->mc) cx->mc = clamp64(l2 / 2 / (cx->kc * esz), mr, 1020) / mr * mr;
    if (!cx->nc) cx->nc = clamp64(l3 / 2 / (cx->kc * esz), 4 * nr, 4080) / nr * nr;
    if (!cx->gemv_dot) cx->gemv_dot = narrower->gemv_dot;
    if (!cx->gemv_axpy) cx->gemv_axpy = narrower->gemv_axpy;
}

static void init_contexts(void)
{
    int64_t l1 = cache_bytes(1), l2 = cache_bytes(2), l3 = cache_bytes(3);
    if (l1 < 8192 || l1 > (1 << 20)) l1 = 32 << 10;
    if (l2 < 65536 || l2 > (64 << 20)) l2 = 512 << 10;
    if (l3 < l2) l3 = 8 << 20;
    cache_l1 = l1, cache_l2 = l2, cache_l3 = l3;
    const gemm_ctx *desc[AGC_NISA][2] = {
        {&agc_gemm_desc_f32_portable, &agc_gemm_desc_f64_portable},
#if AGC_HAVE_X86
        {&agc_gemm_desc_f32_avx2, &agc_gemm_desc_f64_avx2},
#if AGC_NATIVE_AVX512
        {&agc_gemm_desc_f32_avx512, &agc_gemm_desc_f64_avx512},
#endif
#endif
    };
    for (int isa = 0; isa < AGC_NISA; isa++)
        for (int d = 0; d < 2; d++) {
            /* a tier this build has no kernels for runs the next narrower one's */
            const gemm_ctx *src = desc[isa][d] ? desc[isa][d] : chosen[isa - 1][d];
            chosen[isa][d] = src;
            fill_context(&contexts[isa][d], src, isa ? &contexts[isa - 1][d] : src, l1, l2, l3);
        }
}

const gemm_ctx *agc_gemm_ctx(agc_dtype dt)
{
    pthread_once(&contexts_once, init_contexts);
    agc_isa isa = agc_isa_active();
    if ((int)isa < 0 || isa >= AGC_NISA) isa = AGC_ISA_PORTABLE;
    return &contexts[isa][dt == AGC_F64];
}

int agc_gemm_set_context(agc_dtype dt, const char *kernel, int64_t mc, int64_t kc, int64_t nc)
{
    if (dt != AGC_F32 && dt != AGC_F64) return AGC_EUNSUPPORTED;
    pthread_once(&contexts_once, init_contexts);
    const agc_isa isa = agc_isa_active();
    const int d = dt == AGC_F64;
    const gemm_ctx *src = chosen[isa][d];
    if (kernel && *kernel) {
        const gemm_ctx *cands[8];
        int n = 0;
        cands[n++] = chosen[isa][d];
#if AGC_NATIVE_AVX512
        if (isa == AGC_ISA_AVX512)
            for (const gemm_ctx *c = agc_gemm_desc_avx512_alternatives; c->kernel && n < 8; c++) cands[n++] = c;
#endif
        src = NULL;
        for (int i = 0; i < n; i++)
            if (cands[i]->esz == (d ? 8 : 4) && strcmp(cands[i]->kernel, kernel) == 0) src = cands[i];
        if (!src) return 1;
    }
    if (mc < 0 || kc < 0 || nc < 0) return 1;
    gemm_ctx cx = *src;
    if (mc) cx.mc = (mc + cx.mr - 1) / cx.mr * cx.mr;
    if (kc) cx.kc = kc;
    if (nc) cx.nc = (nc + cx.nr - 1) / cx.nr * cx.nr;
    fill_context(&contexts[isa][d], &cx, isa ? &contexts[isa - 1][d] : &cx, cache_l1, cache_l2, cache_l3);
    return AGC_OK;
}

int agc_gemm_info(agc_dtype dt, agc_gemm_info_t *info)
{
    if (dt != AGC_F32 && dt != AGC_F64) return AGC_EUNSUPPORTED;
    const gemm_ctx *cx = agc_gemm_ctx(dt);
    info->kernel = cx->kernel;
    info->isa = cx->isa;
    info->mr = cx->mr, info->nr = cx->nr;
    info->mc = cx->mc, info->kc = cx->kc, info->nc = cx->nc;
    return AGC_OK;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/* The depth of the K blocks every path uses for a shared dimension K: equal blocks of at most KC
 * (784 -> 262 + 261 + 261, not 256 * 3 + 16: a thin last block would spend more on reading and
 * writing C than on arithmetic). The blocks fix the summation order of every element of C, so
 * the paths that share them (packed, small, pre-packed) give the same bits. */
static int64_t k_block(const gemm_ctx *cx, int64_t K)
{
    return ceil_div(K, ceil_div(K, cx->kc));
}

/* ------------------------------------------------------------------------ K == 0: C = beta C */
static void scale_c(agc_dtype dt, int64_t M, int64_t N, double beta, void *C, int64_t rs_c, int64_t cs_c)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            int64_t o = i * rs_c + j * cs_c;
            if (dt == AGC_F32) {
                float *c = (float *)C + o;
                *c = beta == 0 ? 0.0f : (float)beta * *c;
            } else {
                double *c = (double *)C + o;
                *c = beta == 0 ? 0.0 : beta * *c;
            }
        }
}

/* ------------------------------------------------------------------------ thread split */
/* Threads own disjoint parts of C: a range of MR-row tiles (split M) or of NR-column tiles (split
 * N). The dimension whose tiles divide more evenly among the threads wins. On a tie, N when
 * M <= N: split N needs no barrier (each thread packs all of A, the smaller operand, and its own
 * B panels), which matters when a woken OpenMP thread is slow to run (OMP_WAIT_POLICY=passive, a
 * busy machine); otherwise M, so that each thread packs only its own rows of A. */
typedef struct {
    int split_n;
    int64_t tiles; /* tiles along the split dimension */
} gemm_split;

static gemm_split choose_split(int64_t M, int64_t N, int64_t MR, int64_t NR, int nthr)
{
    gemm_split sp = {0, ceil_div(M, MR)};
    if (nthr > 1) {
        int64_t tn = ceil_div(N, NR);
        /* the busiest thread's share, relative: ceil(t / T) / (t / T) */
        double load_m = (double)ceil_div(sp.tiles, nthr) * nthr / sp.tiles;
        double load_n = (double)ceil_div(tn, nthr) * nthr / tn;
        if (load_n < load_m - 1e-9 || (load_n < load_m + 1e-9 && M <= N)) sp.split_n = 1, sp.tiles = tn;
    }
    return sp;
}

/* One product, as the workers see it. */
typedef struct {
    const gemm_ctx *ops;
    int64_t M, N, K;
    double alpha, beta;
    const char *A, *B;
    char *C;
    int64_t rs_a, cs_a, rs_b, cs_b, rs_c, cs_c;
    gemm_split sp;
    char *edge; /* small path: per-thread room for a padded edge row tile of A and column strip of B */
    int64_t edge_bytes;
} gemm_problem;

/* Run worker(arg, tid, T) on nthr threads; on one thread without opening a parallel region, which
 * costs a microsecond even when it does not fork (felt by batches of tiny products). */
typedef void (*gemm_worker)(const void *arg, int tid, int T);

static void run_threads(int nthr, gemm_worker worker, const void *arg)
{
#ifdef _OPENMP
    if (nthr > 1) {
#pragma omp parallel num_threads(nthr)
        {
            AGC_REGION_POINT();
            worker(arg, omp_get_thread_num(), omp_get_num_threads());
        }
        return;
    }
#endif
    worker(arg, 0, 1);
}

/* ------------------------------------------------------------------------ edge tiles */
/* An edge tile (or any tile of a C without contiguous rows) runs the micro-kernel on a scratch
 * MR x NR tile: the m x n corner of C is copied in first when beta != 0, the kernel applies its
 * own update fma(beta, c, alpha acc) there, and the corner is copied back. An element's bits
 * therefore never depend on whether its tile was whole, and the corner costs two copies, not a
 * scalar fma per element (measured, float32 128 x 31 x 64: 8.4 us with the scalar loop, which
 * cost more than the kernel). The lanes outside the corner are zeroed once per worker, so that no
 * uninitialised values (denormals or NaNs, slow on some cores) enter the kernel's arithmetic. */
typedef struct {
    _Alignas(64) double t[GEMM_MR_MAX * GEMM_NR_MAX];
    int zeroed;
} edge_tile;

/* the m x n corner of one matrix into another, element size esz, any strides */
static void copy_corner(int esz, char *dst, int64_t rs_d, int64_t cs_d, const char *src, int64_t rs_s,
                        int64_t cs_s, int m, int n)
{
    if (esz == 4) {
        for (int i = 0; i < m; i++) {
            float *d = (float *)dst + i * rs_d;
            const float *s = (const float *)src + i * rs_s;
            if (cs_d == 1 && cs_s == 1)
                for (int j = 0; j < n; j++) d[j] = s[j];
            else
                for (int j = 0; j < n; j++) d[j * cs_d] = s[j * cs_s];
        }
    } else {
        for (int i = 0; i < m; i++) {
            double *d = (double *)dst + i * rs_d;
            const double *s = (const double *)src + i * rs_s;
            if (cs_d == 1 && cs_s == 1)
                for (int j = 0; j < n; j++) d[j] = s[j];
            else
                for (int j = 0; j < n; j++) d[j * cs_d] = s[j * cs_s];
        }
    }
}

/* The scratch tile (row stride NR) for C's m x n corner, holding that corner when beta != 0 */
static void *edge_begin(const gemm_ctx *cx, edge_tile *e, const char *C, int64_t rs_c, int64_t cs_c, int m,
                        int n, double beta)
{
    if (!e->zeroed) {
        memset(e->t, 0, (size_t)cx->mr * cx->nr * cx->esz);
        e->zeroed = 1;
    }
    if (beta != 0) copy_corner(cx->esz, (char *)e->t, cx->nr, 1, C, rs_c, cs_c, m, n);
    return e->t;
}

static void edge_end(const gemm_ctx *cx, const edge_tile *e, char *C, int64_t rs_c, int64_t cs_c, int m, int n)
{
    copy_corner(cx->esz, C, rs_c, cs_c, (const char *)e->t, cx->nr, 1, m, n);
}

/* One MR x NR tile of C from packed panels a and b of depth kc: in place when the tile is whole and
 * C's rows are contiguous, else through the scratch tile e. */
static inline void run_tile(const gemm_ctx *cx, edge_tile *e, int64_t kc, const char *a, const char *b,
                            char *C, int64_t rs_c, int64_t cs_c, int m, int n, double alpha, double beta)
{
    if (m == cx->mr && n == cx->nr && cs_c == 1) {
        cx->kern(kc, a, b, C, rs_c, alpha, beta);
        return;
    }
    void *t = edge_begin(cx, e, C, rs_c, cs_c, m, n, beta);
    if (2 * n <= cx->nr && cx->small_half)
        cx->small_half(kc, a, 1, cx->mr, b, cx->nr, t, cx->nr, alpha, beta);
    else
        cx->kern(kc, a, b, t, cx->nr, alpha, beta);
    edge_end(cx, e, C, rs_c, cs_c, m, n);
}

/* ------------------------------------------------------------------------ small path */
/* No packing: the micro-kernel reads A in place and B rows directly (cs_b == 1, cs_c == 1).
 * Column panels outer, so a K x NR strip of B stays in L1 while the row tiles of A stream past.
 * K is blocked as the packed path blocks it (k_block), and each tile runs the same micro-kernel
 * body on the same K blocks with the same edge handling, so every element has the bits the packed
 * path would give it (tests/test_gemm.py checks this bitwise).
 * Edges: the last row tile's rows of A are packed with zero rows (read as rows 1 apart, columns MR
 * apart), the last column strip of B with zero columns, once each per thread, and the tile goes
 * through a scratch tile. */
static int64_t small_edge_bytes(const gemm_ctx *cx, int64_t M, int64_t N, int64_t K)
{
    if (M % cx->mr == 0 && N % cx->nr == 0) return 0;
    return ceil_div((int64_t)(cx->mr + cx->nr) * K * cx->esz, AGC_ALIGN) * AGC_ALIGN;
}

static void small_worker(const void *arg, int tid, int T)
{
    const gemm_problem *p = arg;
    const gemm_ctx *cx = p->ops;
    const int64_t esz = cx->esz, MR = cx->mr, NR = cx->nr, M = p->M, N = p->N, K = p->K;
    const int64_t kc = k_block(cx, K);
    const int64_t t0 = p->sp.tiles * tid / T, t1 = p->sp.tiles * (tid + 1) / T;
    int64_t i0 = 0, i1 = M, j0 = 0, j1 = N;
    if (p->sp.split_n) j0 = t0 * NR, j1 = t1 * NR < N ? t1 * NR : N;
    else i0 = t0 * MR, i1 = t1 * MR < M ? t1 * MR : M;
    /* split boundaries are whole tiles, so only the range's last row tile / column strip is partial */
    char *apad = p->edge ? p->edge + tid * p->edge_bytes : NULL, *bpad = apad ? apad + MR * K * esz : NULL;
    const int64_t ilast = i0 + (i1 - i0 - 1) / MR * MR, mlast = i1 - ilast;
    if (i1 > i0 && mlast < MR) cx->pack_a(mlast, K, p->A + ilast * p->rs_a * esz, p->rs_a, p->cs_a, apad);
    edge_tile e;
    e.zeroed = 0;
    for (int64_t j = j0; j < j1; j += NR) {
        const int n = (int)(j1 - j < NR ? j1 - j : NR);
        const char *b = p->B + j * esz;
        int64_t rs_b = p->rs_b;
        AGC_PERTURB();
        if (n < NR) {
            cx->pack_b(K, n, b, rs_b, 1, bpad);
            b = bpad, rs_b = NR;
        }
        /* a K block [pc, pc + kcur) of a padded (full-K) panel is its contiguous run at pc * MR
         * (pc * NR), as in agc_gemm_prepacked */
        for (int64_t pc = 0; pc < K; pc += kc) {
            const int64_t kcur = K - pc < kc ? K - pc : kc;
            const double beta = pc == 0 ? p->beta : 1.0;
            const char *bk = b + pc * rs_b * esz;
            for (int64_t i = i0; i < i1; i += MR) {
                const int m = (int)(i1 - i < MR ? i1 - i : MR);
                const char *a = p->A + (i * p->rs_a + pc * p->cs_a) * esz;
                int64_t rs_a = p->rs_a, cs_a = p->cs_a;
                if (m < MR) a = apad + pc * MR * esz, rs_a = 1, cs_a = MR;
                char *c = p->C + (i * p->rs_c + j) * esz;
                if (m == MR && n == NR) {
                    cx->small(kcur, a, rs_a, cs_a, bk, rs_b, c, p->rs_c, p->alpha, beta);
                } else {
                    void *t = edge_begin(cx, &e, c, p->rs_c, 1, m, n, beta);
                    gemm_small_fn kern = 2 * n <= NR && cx->small_half ? cx->small_half : cx->small;
                    kern(kcur, a, rs_a, cs_a, bk, rs_b, t, NR, p->alpha, beta);
                    edge_end(cx, &e, c, p->rs_c, 1, m, n);
                }
            }
        }
    }
}

/* ------------------------------------------------------------------------ packed path */
/* The loop nest: jc (NC columns) > pc (KC depth) > [B block packed] > ic (MC rows of this
 * thread's range) > [A block packed by its thread] > jr (NR panels) > ir (MR panels) >
 * micro-kernel. Threads split M or N by choose_split.
 * Split M: the B block is packed cooperatively into one of two shared buffers, alternating by
 * step, so one barrier per (jc, pc) step suffices: to overwrite a buffer a thread must first pass
 * the barrier of the step after the one that read it, which every thread reaches only once it has
 * finished reading. Every thread runs every (jc, pc) step, so all reach every barrier.
 * Split N: every thread packs the B panels it reads into a B buffer of its own and never waits for
 * the others. The buffer must be private: with a shared one, a thread that owns no panel of the
 * first column blocks runs ahead into a later block and packs at the same offsets, in the same
 * alternating buffer, as the panels another thread is still multiplying (the wrong-results bug of
 * issue 11: whole column blocks of garbage at 2 threads under load). */
typedef struct {
    gemm_problem p;
    int64_t kc, nc, mc;
    int64_t a_bytes, b_bytes;
    int nbbuf; /* B buffers: 2 shared (split M, several threads), or 1 per thread */
    char *buf; /* nbbuf B buffers, then one A buffer per thread */
} gemm_packed_plan;

static void packed_worker(const void *arg, int tid, int T)
{
    const gemm_packed_plan *pl = arg;
    const gemm_problem *p = &pl->p;
    const gemm_ctx *ops = p->ops;
    const int64_t esz = ops->esz, MR = ops->mr, NR = ops->nr, M = p->M, N = p->N, K = p->K;
    const int64_t kc = pl->kc, nc = pl->nc, mc = pl->mc;
    const int64_t rs_a = p->rs_a, cs_a = p->cs_a, rs_b = p->rs_b, cs_b = p->cs_b;
    const int64_t rs_c = p->rs_c, cs_c = p->cs_c;
    const int split_n = p->sp.split_n, shared_b = !split_n && T > 1;
    char *abuf = pl->buf + pl->nbbuf * pl->b_bytes + tid * pl->a_bytes;
    int64_t step = 0;
    edge_tile e;
    e.zeroed = 0;
    const int64_t t0 = p->sp.tiles * tid / T, t1 = p->sp.tiles * (tid + 1) / T;
    const int64_t i0 = split_n ? 0 : t0 * MR;
    const int64_t i1 = split_n ? M : (t1 * MR < M ? t1 * MR : M);
    for (int64_t jc = 0; jc < N; jc += nc) {
        const int64_t ncur = N - jc < nc ? N - jc : nc;
        const int64_t npanels = ceil_div(ncur, NR);
        /* this thread's column panels of the block */
        int64_t q0 = 0, q1 = npanels;
        if (split_n) {
            int64_t first = jc / NR;
            q0 = t0 - first < 0 ? 0 : t0 - first > npanels ? npanels : t0 - first;
            q1 = t1 - first < 0 ? 0 : t1 - first > npanels ? npanels : t1 - first;
        }
        for (int64_t pc = 0; pc < K; pc += kc) {
            const int64_t kcur = K - pc < kc ? K - pc : kc;
            const double beta_k = pc == 0 ? p->beta : 1.0;
            AGC_PERTURB();
            /* panel q of the block lives at (q - q0) * kc * NR: in the shared buffer of this step
             * (split M, q0 == 0), or in this thread's own buffer (split N) */
            char *bbuf = shared_b ? pl->buf + (step++ % 2) * pl->b_bytes : pl->buf + tid * pl->b_bytes;
            if (shared_b) {
#pragma omp for schedule(static)
                for (int64_t q = 0; q < npanels; q++) {
                    int64_t j = q * NR;
                    ops->pack_b(kcur, ncur - j < NR ? ncur - j : NR,
                                p->B + (pc * rs_b + (jc + j) * cs_b) * esz, rs_b, cs_b,
                                bbuf + q * kc * NR * esz);
                }
                /* (the implicit barrier: the whole B block is packed) */
            } else {
                /* each thread packs the panels only it reads */
                for (int64_t q = q0; q < q1; q++) {
                    int64_t j = q * NR;
                    ops->pack_b(kcur, ncur - j < NR ? ncur - j : NR,
                                p->B + (pc * rs_b + (jc + j) * cs_b) * esz, rs_b, cs_b,
                                bbuf + (q - q0) * kc * NR * esz);
                }
            }
            for (int64_t ic = i0; ic < i1; ic += mc) {
                const int64_t mcur = i1 - ic < mc ? i1 - ic : mc;
                AGC_PERTURB();
                ops->pack_a(mcur, kcur, p->A + (ic * rs_a + pc * cs_a) * esz, rs_a, cs_a, abuf);
                for (int64_t q = q0; q < q1; q++) {
                    const int64_t j = jc + q * NR;
                    const int n = (int)(ncur - q * NR < NR ? ncur - q * NR : NR);
                    const char *bp = bbuf + (q - q0) * kc * NR * esz;
                    for (int64_t ir = 0; ir < mcur; ir += MR) {
                        const int m = (int)(mcur - ir < MR ? mcur - ir : MR);
                        run_tile(ops, &e, kcur, abuf + ir * kcur * esz, bp,
                                 p->C + ((ic + ir) * rs_c + j * cs_c) * esz, rs_c, cs_c, m, n,
                                 p->alpha, beta_k);
                    }
                }
            }
        }
    }
}

static int gemm_packed(const gemm_problem *p, int nthr)
{
    const gemm_ctx *bk = p->ops;
    gemm_packed_plan pl;
    pl.p = *p;
    const int64_t esz = p->ops->esz, MR = p->ops->mr, NR = p->ops->nr, M = p->M, N = p->N, K = p->K;
    pl.kc = k_block(bk, K);
    pl.nc = N < bk->nc ? ceil_div(N, NR) * NR : bk->nc;
    /* rows one thread handles at most, blocked into equal MC-sized pieces */
    const int64_t rows = p->sp.split_n ? M : ceil_div(p->sp.tiles, nthr) * MR;
    pl.mc = ceil_div(ceil_div(rows, ceil_div(rows, bk->mc)), MR) * MR;
    pl.b_bytes = pl.kc * pl.nc * esz;
    pl.a_bytes = ceil_div(pl.mc * pl.kc * esz, AGC_ALIGN) * AGC_ALIGN;
    pl.nbbuf = p->sp.split_n ? nthr : nthr > 1 ? 2 : 1;
    pl.buf = agc_alloc(pl.nbbuf * pl.b_bytes + nthr * pl.a_bytes);
    if (!pl.buf) return AGC_ENOMEM;
    run_threads(nthr, packed_worker, &pl);
    agc_free(pl.buf);
    return AGC_OK;
}

/* ------------------------------------------------------------------------ matrix-vector */
/* N == 1: y = alpha * A x + beta * y (the driver turns M == 1 into this by transposing). Rows of
 * y are split between threads; each is summed by one thread in a fixed order. */
static void gemv_worker(const void *arg, int tid, int T)
{
    const gemm_problem *p = arg;
    const gemm_ctx *ops = p->ops;
    const int64_t esz = ops->esz;
    int64_t i0 = p->M * tid / T, i1 = p->M * (tid + 1) / T;
    if (p->cs_a == 1) {
        ops->gemv_dot(i1 - i0, p->K, p->A + i0 * p->rs_a * esz, p->rs_a, p->B, p->alpha, p->beta,
                      p->C + i0 * p->rs_c * esz, p->rs_c);
        return;
    }
    for (int64_t i = i0; i < i1; i += GEMM_AXPY_ROWS) {
        int64_t m = i1 - i < GEMM_AXPY_ROWS ? i1 - i : GEMM_AXPY_ROWS;
        ops->gemv_axpy(m, p->K, p->A + i * esz, p->cs_a, p->B, p->rs_b, p->alpha, p->beta,
                       p->C + i * p->rs_c * esz, p->rs_c);
    }
}

/* Returns 1 if it handled the product, 0 if the general path should, AGC_ENOMEM on failure. */
static int gemv(gemm_problem *p, int nthr_setting)
{
    if (p->cs_a != 1 && p->rs_a != 1) return 0;
    const int64_t esz = p->ops->esz;
    char *xbuf = NULL;
    if (p->cs_a == 1 && p->rs_b != 1) {
        /* the dot form wants x contiguous: one copy of K elements */
        xbuf = agc_alloc(p->K * esz);
        if (!xbuf) return AGC_ENOMEM;
        for (int64_t k = 0; k < p->K; k++)
            memcpy(xbuf + k * esz, p->B + k * p->rs_b * esz, (size_t)esz);
        p->B = xbuf;
        p->rs_b = 1;
    }
    /* memory-bound: a second thread pays once A is past L2 */
    int nthr = nthr_setting > 1 ? agc_threads_for(p->M * p->K, 1 << 17) : 1;
    if (nthr > nthr_setting) nthr = nthr_setting;
    run_threads(nthr, gemv_worker, p);
    agc_free(xbuf);
    return 1;
}

/* ------------------------------------------------------------------------ entry points */
/* One GEMM on at most nthr threads (M, N, K > 0). */
static int gemm_one(agc_dtype dt, int64_t M, int64_t N, int64_t K, double alpha, const char *A,
                    int64_t rs_a, int64_t cs_a, const char *B, int64_t rs_b, int64_t cs_b, double beta,
                    char *C, int64_t rs_c, int64_t cs_c, int nthr)
{
    if (cs_c != 1 && rs_c == 1) {
        /* column-major C: compute C^T = B^T A^T, whose rows are contiguous */
        int64_t t;
        const char *p;
        t = M, M = N, N = t;
        p = A, A = B, B = p;
        t = rs_a, rs_a = cs_b, cs_b = t;
        t = cs_a, cs_a = rs_b, rs_b = t;
        rs_c = cs_c, cs_c = 1;
    }
    gemm_problem p = {agc_gemm_ctx(dt), M, N, K, alpha, beta, A, B, C, rs_a, cs_a, rs_b, cs_b, rs_c, cs_c,
                      {0, 0}, NULL, 0};
    p.sp = choose_split(M, N, p.ops->mr, p.ops->nr, nthr);
    if (M == 1 && N > 1) {
        /* a row times a matrix: as a column, C^T = B^T A^T */
        gemm_problem t = p;
        t.M = N, t.N = 1;
        t.A = B, t.rs_a = cs_b, t.cs_a = rs_b;
        t.B = A, t.rs_b = cs_a, t.cs_b = rs_a;
        t.rs_c = cs_c, t.cs_c = rs_c;
        int rc = gemv(&t, nthr);
        if (rc != 0) return rc < 0 ? rc : AGC_OK;
    } else if (N == 1) {
        int rc = gemv(&p, nthr);
        if (rc != 0) return rc < 0 ? rc : AGC_OK;
    }
    if (cs_b == 1 && cs_c == 1 && K <= GEMM_SMALL_K && (double)M * N * K <= GEMM_SMALL_MNK) {
        /* the padded edge panels of a small product fit on the stack: a heap buffer was a third
         * of the time of an 8 x 8 x 8 product (batches of tiny products) */
        _Alignas(AGC_ALIGN) char stack_edge[GEMM_SMALL_EDGE_STACK];
        p.edge_bytes = small_edge_bytes(p.ops, M, N, K);
        char *heap = NULL;
        if (p.edge_bytes) {
            if (nthr * p.edge_bytes <= GEMM_SMALL_EDGE_STACK) p.edge = stack_edge;
            else if (!(p.edge = heap = agc_alloc(nthr * p.edge_bytes))) return AGC_ENOMEM;
        }
        run_threads(nthr, small_worker, &p);
        agc_free(heap);
        return AGC_OK;
    }
    return gemm_packed(&p, nthr);
}

/* Float32-equivalent work of one M x N x K product (see GEMM_FORK_WORK) */
static double gemm_work(agc_dtype dt, int64_t M, int64_t N, int64_t K)
{
    return 2.0 * M * N * K * (dt == AGC_F64 ? 2 : 1);
}

static int threads_for_work(double work)
{
    return agc_threads_for(work > 9e18 ? INT64_MAX : (int64_t)work, GEMM_PAR_WORK);
}

int agc_gemm(agc_dtype dt, int64_t M, int64_t N, int64_t K, double alpha, const void *A, int64_t rs_a,
             int64_t cs_a, const void *B, int64_t rs_b, int64_t cs_b, double beta, void *C, int64_t rs_c,
             int64_t cs_c)
{
    if (dt != AGC_F32 && dt != AGC_F64) return AGC_EUNSUPPORTED;
    if (M <= 0 || N <= 0) return AGC_OK;
    if (K <= 0) {
        scale_c(dt, M, N, beta, C, rs_c, cs_c);
        return AGC_OK;
    }
    const int nthr = threads_for_work(gemm_work(dt, M, N, K));
    return gemm_one(dt, M, N, K, alpha, A, rs_a, cs_a, B, rs_b, cs_b, beta, C, rs_c, cs_c, nthr);
}

/* Many small GEMMs: threads take whole GEMMs (contiguous ranges of the batch). Few large ones:
 * one after another, each on all threads. Either way each GEMM's result does not depend on the
 * thread count, so neither does the batch's. */
int agc_gemm_batched(agc_dtype dt, int64_t batch, int64_t M, int64_t N, int64_t K, double alpha,
                     const void *A, const int64_t *off_a, int64_t rs_a, int64_t cs_a, const void *B,
                     const int64_t *off_b, int64_t rs_b, int64_t cs_b, double beta, void *C,
                     const int64_t *off_c, int64_t rs_c, int64_t cs_c)
{
    if (dt != AGC_F32 && dt != AGC_F64) return AGC_EUNSUPPORTED;
    if (batch <= 0 || M <= 0 || N <= 0) return AGC_OK;
    const int64_t esz = dt == AGC_F32 ? 4 : 8;
    const char *a = A, *b = B;
    char *c = C;
    if (K <= 0) {
        for (int64_t i = 0; i < batch; i++) scale_c(dt, M, N, beta, c + off_c[i] * esz, rs_c, cs_c);
        return AGC_OK;
    }
    /* Whole GEMMs per thread (one fork, but a batch that does not divide evenly leaves threads
     * idle) against one GEMM after another on `inner` threads each (a fork per GEMM), costed in
     * work: a batch of 8 64^3 products at 2 threads as whole GEMMs, 3 large ones one after another. */
    const double work = gemm_work(dt, M, N, K);
    const int inner = threads_for_work(work);
    const int outer = threads_for_work(work * batch);
    const double whole = (double)ceil_div(batch, outer) * work + GEMM_FORK_WORK;
    const double each = inner > 1 ? batch * (work / inner + GEMM_FORK_WORK) : batch * work;
    if (outer > 1 && batch >= outer && whole <= each) {
        int rc = AGC_OK;
#pragma omp parallel num_threads(outer)
        {
            int tid = 0, T = 1;
#ifdef _OPENMP
            tid = omp_get_thread_num();
            T = omp_get_num_threads();
#endif
            for (int64_t i = batch * tid / T; i < batch * (tid + 1) / T; i++) {
                AGC_REGION_POINT();
                int r = gemm_one(dt, M, N, K, alpha, a + off_a[i] * esz, rs_a, cs_a, b + off_b[i] * esz,
                                 rs_b, cs_b, beta, c + off_c[i] * esz, rs_c, cs_c, 1);
                if (r != AGC_OK) {
#pragma omp atomic write
                    rc = r;
                }
            }
        }
        return rc;
    }
    for (int64_t i = 0; i < batch; i++) {
        int rc = gemm_one(dt, M, N, K, alpha, a + off_a[i] * esz, rs_a, cs_a, b + off_b[i] * esz, rs_b,
                          cs_b, beta, c + off_c[i] * esz, rs_c, cs_c, inner);
        if (rc != AGC_OK) return rc;
    }
    return AGC_OK;
}

/* ------------------------------------------------------------------------ peak FMA throughput */
/* For the benchmark report: independent FMA chains (more than latency x pipes) on every thread,
 * nothing but arithmetic, so the result is what the FMA units of a tier can do. */
#if AGC_HAVE_X86
#include <immintrin.h>
#define PEAK_CHAINS 12
#define PEAK_LOOP(NAME, ATTR, V, P, S, T, W)                                                      \
    ATTR __attribute__((noinline)) static double NAME(int64_t iters)                              \
    {                                                                                             \
        V acc[PEAK_CHAINS], x = GEMM_VOP(P, set1, S)((T)0.999999), y = GEMM_VOP(P, set1, S)((T)1e-9); \
        for (int i = 0; i < PEAK_CHAINS; i++) acc[i] = GEMM_VOP(P, set1, S)((T)i);                \
        for (int64_t it = 0; it < iters; it++)                                                    \
            for (int i = 0; i < PEAK_CHAINS; i++) acc[i] = GEMM_VOP(P, fmadd, S)(acc[i], x, y);   \
        T s[W];                                                                                   \
        double t = 0;                                                                             \
        for (int i = 0; i < PEAK_CHAINS; i++) {                                                   \
            GEMM_VOP(P, storeu, S)(s, acc[i]);                                                    \
            t += s[0] + s[W - 1];                                                                 \
        }                                                                                         \
        return t;                                                                                 \
    }
PEAK_LOOP(peak_f32_avx2, AGC_TARGET_AVX2, __m256, _mm256, ps, float, 8)
PEAK_LOOP(peak_f64_avx2, AGC_TARGET_AVX2, __m256d, _mm256, pd, double, 4)
#if AGC_NATIVE_AVX512
PEAK_LOOP(peak_f32_avx512, AGC_TARGET_AVX512, __m512, _mm512, ps, float, 16)
PEAK_LOOP(peak_f64_avx512, AGC_TARGET_AVX512, __m512d, _mm512, pd, double, 8)
#else
#define peak_f32_avx512 peak_f32_avx2
#define peak_f64_avx512 peak_f64_avx2
#endif
#endif

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

double agc_gemm_peak_gflops(agc_dtype dt, int nthreads)
{
#if AGC_HAVE_X86
    const agc_isa isa = agc_isa_active();
    if (isa < AGC_ISA_AVX2 || (dt != AGC_F32 && dt != AGC_F64)) return 0.0;
    const int f64 = dt == AGC_F64, wide = AGC_NATIVE_AVX512 && isa >= AGC_ISA_AVX512;
    double (*loop)(int64_t) = wide ? (f64 ? peak_f64_avx512 : peak_f32_avx512)
                                   : (f64 ? peak_f64_avx2 : peak_f32_avx2);
    /* short runs, best of many: a 2 ms window is rarely cut by other processes' time slices */
    const int64_t iters = 1000000;
    const double flops_per_iter = PEAK_CHAINS * (f64 ? 4 : 8) * (wide ? 2 : 1) * 2.0;
    if (nthreads < 1) nthreads = 1;
    volatile double sink = 0;
    double best = 0;
    for (int rep = 0; rep < 25; rep++) {
        double t0 = now_seconds();
#pragma omp parallel num_threads(nthreads)
        {
            double s = loop(iters);
#pragma omp critical
            sink += s;
        }
        double g = nthreads * iters * flops_per_iter / (now_seconds() - t0) / 1e9;
        if (g > best) best = g;
    }
    (void)sink;
    return best;
#else
    (void)dt;
    (void)nthreads;
    return 0.0;
#endif
}

/* ------------------------------------------------------------------------ pre-packed operands */
/* For callers that build their operands in the packed layout themselves (conv_direct.c writes its
 * columns straight into B panels, so the data is moved once instead of im2col + packing). Full-K
 * panels: A panel i = rows [i MR, i MR + MR) as a[k * MR + r], k in [0, K), at i * K * MR; B panel
 * q = columns [q NR, q NR + NR) as b[k * NR + j] at q * K * NR. A K block [pc, pc + kc) of a
 * full-K panel is the contiguous run at pc * MR (pc * NR): the micro-kernel takes it as is. */
int agc_gemm_tile_mr(agc_dtype dt)
{
    return agc_gemm_ctx(dt)->mr;
}

int agc_gemm_tile_nr(agc_dtype dt)
{
    return agc_gemm_ctx(dt)->nr;
}

int agc_gemm_pack_a_panels(agc_dtype dt, int64_t M, int64_t K, const void *A, int64_t rs_a, int64_t cs_a,
                           void *out)
{
    if (dt != AGC_F32 && dt != AGC_F64) return AGC_EUNSUPPORTED;
    if (M <= 0 || K <= 0) return AGC_OK;
    const gemm_ctx *ops = agc_gemm_ctx(dt);
    /* pack_a writes ceil(mc / MR) panels of depth kc one after another: with kc = K they are the
     * full-K panels */
    ops->pack_a(M, K, A, rs_a, cs_a, out);
    return AGC_OK;
}

/* One thread. K is blocked as the packed path blocks it (equal blocks of at most KC), so the sum
 * order of each C element depends on K and the cache sizes only. Loop order: K block > B panel >
 * A panel: one KC x NR piece of B stays in L1 while the A panels of the block stream from L2. */
int agc_gemm_prepacked(agc_dtype dt, int64_t M, int64_t N, int64_t K, double alpha, const void *Ap,
                       const void *Bp, double beta, void *C, int64_t rs_c, int64_t cs_c)
{
    if (dt != AGC_F32 && dt != AGC_F64) return AGC_EUNSUPPORTED;
    if (M <= 0 || N <= 0) return AGC_OK;
    if (K <= 0) {
        scale_c(dt, M, N, beta, C, rs_c, cs_c);
        return AGC_OK;
    }
    const gemm_ctx *ops = agc_gemm_ctx(dt), *bk = ops;
    const int64_t esz = ops->esz, MR = ops->mr, NR = ops->nr;
    const int64_t kc = k_block(bk, K);
    const char *a = Ap, *b = Bp;
    char *c = C;
    edge_tile e;
    e.zeroed = 0;
    for (int64_t pc = 0; pc < K; pc += kc) {
        const int64_t kcur = K - pc < kc ? K - pc : kc;
        const double beta_k = pc == 0 ? beta : 1.0;
        for (int64_t j = 0; j < N; j += NR) {
            const int n = (int)(N - j < NR ? N - j : NR);
            const char *bp = b + ((j / NR) * K * NR + pc * NR) * esz;
            for (int64_t i = 0; i < M; i += MR) {
                const int m = (int)(M - i < MR ? M - i : MR);
                run_tile(ops, &e, kcur, a + ((i / MR) * K * MR + pc * MR) * esz, bp, c + (i * rs_c + j * cs_c) * esz,
                         rs_c, cs_c, m, n, alpha, beta_k);
            }
        }
    }
    return AGC_OK;
}
