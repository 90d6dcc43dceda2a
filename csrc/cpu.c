/* cpu.c: run-time CPU dispatch and the thread count.
 * agc_init (once, at import) detects the instruction-set tiers (agc_isa: portable, AVX2+FMA,
 * AVX-512) from CPUID and, for the wider registers, from XGETBV: the CPU having an instruction is not
 * enough, the OS must also save the register state on a context switch. It selects the widest tier,
 * or the one AGC_SIMD names, and points the active elementwise tables at that tier's bodies where
 * they exist (the widest narrower tier's bodies elsewhere); the other kernel families (reductions,
 * nn, optim, RNN cells) pick their tier's function from agc_isa_active() per call. agc_set_simd_target switches at run time; tests run
 * every tier in one process. It is not thread-safe against kernels running at the same moment: call
 * it while no kernel runs.
 * Threads: agc_set_num_threads sets the count every kernel passes to `omp parallel num_threads`,
 * a process-wide setting (omp_set_num_threads alone would only affect the calling thread).
 * Schedule perturbation (agc_set_perturbation, AGC_PERTURB): sleeps at the AGC_PERTURB() points of
 * the threaded kernels, so tests can force on a quiet machine the interleavings that load causes
 * (one thread descheduled for milliseconds while the others run ahead).
 *
 * Behaviour under contention: the adaptive thread cap. A fork/join region ends when its last
 * thread does. When other processes hold the cores, a woken worker may wait a whole scheduler
 * time slice (milliseconds) before it runs, and the region waits with it: measured before this
 * mechanism, a LeNet-5 step at 2 threads took 5x its 1-thread time beside two busy processes, a
 * char-LSTM step 8x (PyTorch suffers the same). The OS does not tell a process cheaply that its
 * cores are taken, but the workers can: each notes, at its first scheduling point after a fork,
 * how long after the fork decision it started (agc_region_start). A start later than LATE_NS
 * (250 us; a sleeping worker wakes in 5-60 us on an idle core) three times within WINDOW_NS means
 * the cores are contended (on a quiet virtual machine a late start happens about once per 0.3 s,
 * when an idle vCPU is slow to wake; requiring two close together still engaged the cap there now
 * and then and cost LeNet-5 at 2 threads 30%): for the next `backoff` (20 ms, doubling while contention persists, up to
 * 1 s) kernels use at most half the threads (at least 1). When the backoff ends, regions run with
 * every thread again, which probes the machine: a single late start soon after is a failed probe
 * and re-engages the cap at once with a doubled backoff (measured: beside two busy processes a
 * char-LSTM step re-engaged 18 times in 3 s while each probe needed two late starts); a quiet
 * machine never engages it. A second signal, the number of runnable threads the kernel reports
 * (runq_limit below), catches the worker that started on time and is then descheduled mid-region.
 * Only thread counts change, and
 * no result depends on the thread count, so the cap can never change a number. Switch it off with
 * AGC_ADAPTIVE=0 or _core.set_adaptive_threads(False) (the thread tests do, so that they exercise
 * the requested thread counts).
 * Tests: tests/test_kernels.py, tests/test_threads.py. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if AGC_HAVE_X86
#include <cpuid.h>
#endif

int agc_nthreads_setting = 1;
static agc_isa active_isa = AGC_ISA_PORTABLE;
static int isa_ok[AGC_NISA];
static int initialised = 0;
static char init_error[160];

static const char *const isa_names[AGC_NISA] = {"portable", "avx2", "avx512"};

#if AGC_HAVE_X86
static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

static void detect_isas(void)
{
    isa_ok[AGC_ISA_PORTABLE] = 1;
#if AGC_HAVE_X86
    unsigned a, b, c, d;
    if (!__get_cpuid_count(1, 0, &a, &b, &c, &d)) return;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return;
    const uint64_t xcr0 = xgetbv0();
    const int ymm_state = (xcr0 & 0x6) == 0x6;      /* SSE and AVX state */
    const int zmm_state = (xcr0 & 0xe0) == 0xe0;    /* opmask, upper ZMM0-15, ZMM16-31 */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    const int avx2 = (b >> 5) & 1;
    const int f512 = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    isa_ok[AGC_ISA_AVX2] = ymm_state && avx2 && fma;
    isa_ok[AGC_ISA_AVX512] = isa_ok[AGC_ISA_AVX2] && zmm_state && f512 && dq && bw && vl;
#ifdef AGC_EMU512
    isa_ok[AGC_ISA_AVX512] = isa_ok[AGC_ISA_AVX2];
#endif
#endif
}

int agc_isa_emulated(void)
{
#ifdef AGC_EMU512
    return 1;
#else
    return 0;
#endif
}

int agc_isa_available(agc_isa isa)
{
    if (!initialised) agc_init();
    return (int)isa >= 0 && isa < AGC_NISA && isa_ok[isa];
}

agc_isa agc_isa_active(void)
{
    return active_isa;
}

const char *agc_isa_name(agc_isa isa)
{
    return (int)isa >= 0 && isa < AGC_NISA ? isa_names[isa] : "unknown";
}

const char *agc_init_error(void)
{
    return init_error[0] ? init_error : NULL;
}

/* Each tier's elementwise overrides ([op][dtype], NULL = not written for that tier) */
typedef struct {
    const agc_unary_kernel (*unary)[AGC_NDTYPES];
    const agc_binary_kernel (*binary)[AGC_NDTYPES];
} tier_tables;

static tier_tables tier_elementwise(agc_isa isa)
{
    tier_tables t = {NULL, NULL};
#if AGC_HAVE_X86
    if (isa == AGC_ISA_AVX2) t = (tier_tables){agc_unary_avx2, agc_binary_avx2};
    if (isa == AGC_ISA_AVX512) t = (tier_tables){agc_unary_avx512, agc_binary_avx512};
#endif
    if (isa == AGC_ISA_PORTABLE) t = (tier_tables){agc_unary_portable, agc_binary_portable};
    return t;
}

/* The active tables get, per (op, dtype), the widest tier's kernel up to `isa` that exists: the
 * portable loops first, then each wider tier overlaid in turn. */
void agc_select_kernels(agc_isa isa)
{
    for (int tier = AGC_ISA_PORTABLE; tier <= (int)isa; tier++) {
        const tier_tables t = tier_elementwise((agc_isa)tier);
        if (!t.unary) continue;
        for (int op = 0; op < AGC_NUNARY; op++)
            for (int dt = 0; dt < AGC_NDTYPES; dt++)
                if (t.unary[op][dt] || tier == AGC_ISA_PORTABLE) agc_unary_active[op][dt] = t.unary[op][dt];
        for (int op = 0; op < AGC_NBINARY; op++)
            for (int dt = 0; dt < AGC_NDTYPES; dt++)
                if (t.binary[op][dt] || tier == AGC_ISA_PORTABLE) agc_binary_active[op][dt] = t.binary[op][dt];
    }
    active_isa = isa;
}

static int isa_by_name(const char *name)
{
    for (int i = 0; i < AGC_NISA; i++)
        if (strcmp(name, isa_names[i]) == 0) return i;
    return -1;
}

void agc_init(void)
{
    if (initialised) return;
    initialised = 1;
    detect_isas();
    agc_isa isa = AGC_ISA_PORTABLE;
    for (int i = AGC_NISA - 1; i > 0; i--)
        if (isa_ok[i]) { isa = (agc_isa)i; break; }
    const char *env = getenv("AGC_SIMD");
    if (env && *env) {
        int want = isa_by_name(env);
        if (want < 0)
            snprintf(init_error, sizeof init_error,
                     "AGC_SIMD=%.40s is not a SIMD tier: expected portable, avx2 or avx512", env);
        else if (!isa_ok[want])
            snprintf(init_error, sizeof init_error,
                     "AGC_SIMD=%s: this CPU (or its operating system) does not support %s; widest "
                     "available is %s", env, env, isa_names[isa]);
        else
            isa = (agc_isa)want;
    }
    agc_select_kernels(isa);
#ifdef _OPENMP
    /* omp_get_max_threads honours OMP_NUM_THREADS and the process's CPU affinity mask */
    agc_nthreads_setting = omp_get_max_threads();
#endif
    if (agc_nthreads_setting < 1) agc_nthreads_setting = 1;
    const char *ad = getenv("AGC_ADAPTIVE");
    if (ad && strcmp(ad, "0") == 0) agc_set_adaptive_threads(0);
    /* AGC_PERTURB=mode[,victim_or_seed[,delay_us]] */
    const char *pe = getenv("AGC_PERTURB");
    if (pe && *pe) {
        char *end;
        long mode = strtol(pe, &end, 10), arg = 0, delay = 200;
        if (*end == ',') arg = strtol(end + 1, &end, 10);
        if (*end == ',') delay = strtol(end + 1, &end, 10);
        agc_set_perturbation((int)mode, mode == 1 ? (int)arg : 0, (int)delay, (uint64_t)arg);
    }
}

const char *agc_simd_target(void)
{
    return isa_names[active_isa];
}

int agc_set_simd_target(const char *name)
{
    if (!initialised) agc_init();
    int isa = isa_by_name(name);
    if (isa < 0 || !isa_ok[isa]) return -1;
    agc_select_kernels((agc_isa)isa);
    return 0;
}

void agc_set_num_threads(int n)
{
    if (n < 1) n = 1;
    __atomic_store_n(&agc_nthreads_setting, n, __ATOMIC_RELAXED);
}

int agc_get_num_threads(void)
{
    return agc_nthreads();
}

/* ---------------------------------------------------------------- adaptive thread cap */
#define LATE_NS 250000LL
#define WINDOW_NS 50000000LL
#define BACKOFF_MIN_NS 20000000LL
#define BACKOFF_MAX_NS 1000000000LL

int64_t agc_fork_gen = 0;
static int64_t fork_ns = 0;         /* when the latest fork decision was taken */
static int adaptive_on = 1;
static int cap_threads = 0;         /* while now < cap_until_ns: at most this many threads */
static int64_t cap_until_ns = 0;
static int64_t backoff_ns = BACKOFF_MIN_NS;
static int64_t last_late_ns = 0, last_late2_ns = 0; /* the two latest late starts */
static int64_t stat_late = 0, stat_engaged = 0, stat_capped = 0;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* The second signal: the kernel's count of runnable threads (the fourth field of /proc/loadavg,
 * "running/total"), read by the forking thread at most every RUNQ_PERIOD_NS (~5 us a read). A
 * worker that starts on time can still be descheduled in the middle of a region when its core is
 * shared with a busy process, which the late-start test never sees: measured beside two busy
 * processes, a LeNet-5 step at 2 threads took 1.42x its 1-thread time and no late start engaged the
 * cap. Our own team counts as running (its workers may be spinning), so others = running - team.
 * Two reads in a row with others > 0 cap regions at (cores - others) threads, at least 1; the first
 * read with others <= 0 lifts the cap (a kernel thread or a short-lived process alone, seen in
 * about 1 read in 10 on a quiet machine, must not cap it). Linux only (elsewhere: no second signal). */
#define RUNQ_PERIOD_NS 10000000LL
static int64_t runq_read_ns = -RUNQ_PERIOD_NS;
static int runq_cap = 0;     /* 0: no cap */
static int runq_pending = 0; /* the previous read's cap, not yet confirmed */
static int64_t stat_runq_capped = 0;

static int runnable_threads(void)
{
#if defined(__linux__)
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f) return -1;
    double l1, l5, l15;
    int running = -1, total;
    if (fscanf(f, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &running, &total) != 5) running = -1;
    fclose(f);
    return running;
#else
    return -1;
#endif
}

/* Called by forking threads only; two Python threads forking at once may both read, which is
 * harmless (the fields are single words, and any interleaving leaves a cap some read saw). */
static int runq_limit(int64_t now, int team)
{
    if (now - LOAD(runq_read_ns) >= RUNQ_PERIOD_NS) {
        STORE(runq_read_ns, now);
        const int running = runnable_threads();
        int cap = 0;
#ifdef _OPENMP
        const int cores = omp_get_num_procs();
        const int others = running - team;
        if (running > 0 && others > 0) cap = cores - others > 1 ? cores - others : 1;
#endif
        STORE(runq_cap, cap > 0 && LOAD(runq_pending) > 0 ? cap : 0);
        STORE(runq_pending, cap);
    }
    return LOAD(runq_cap);
}

int agc_fork(int n)
{
    const int64_t now = now_ns();
    if (LOAD(adaptive_on) == 1) {
        const int rc = runq_limit(now, agc_nthreads());
        if (rc > 0 && n > rc) {
            n = rc;
            __atomic_fetch_add(&stat_runq_capped, 1, __ATOMIC_RELAXED);
        }
    }
    if (LOAD(adaptive_on) && now < LOAD(cap_until_ns)) {
        const int cap = LOAD(cap_threads);
        if (n > cap) {
            n = cap;
            __atomic_fetch_add(&stat_capped, 1, __ATOMIC_RELAXED);
        }
    }
    if (n > 1) {
        STORE(fork_ns, now);
        __atomic_fetch_add(&agc_fork_gen, 1, __ATOMIC_RELAXED);
    }
    return n;
}

void agc_region_start(int64_t gen)
{
    (void)gen;
#ifdef _OPENMP
    if (omp_get_thread_num() == 0 || omp_get_num_threads() <= 1) return; /* the forking thread itself */
    const int64_t now = now_ns(), late = now - LOAD(fork_ns);
    if (late <= LATE_NS || !LOAD(adaptive_on)) return;
    __atomic_fetch_add(&stat_late, 1, __ATOMIC_RELAXED);
    const int64_t prev = __atomic_exchange_n(&last_late_ns, now, __ATOMIC_RELAXED);
    const int64_t prev2 = __atomic_exchange_n(&last_late2_ns, prev, __ATOMIC_RELAXED);
    const int64_t until = LOAD(cap_until_ns), b_prev = LOAD(backoff_ns);
    if (now < until) return; /* already engaged (a region forked just before) */
    /* A late start soon after a backoff ended is a failed probe: the contention persists, so the
     * cap engages again at once for twice as long. Otherwise one late start alone may be a hiccup:
     * it takes a second one within WINDOW_NS. */
    const int probe_failed = until > 0 && now - until < (2 * b_prev > WINDOW_NS ? 2 * b_prev : WINDOW_NS);
    if (!probe_failed && now - prev2 > WINDOW_NS) return;
    int64_t b = probe_failed ? 2 * b_prev : BACKOFF_MIN_NS;
    if (b > BACKOFF_MAX_NS) b = BACKOFF_MAX_NS;
    STORE(backoff_ns, b);
    const int half = omp_get_num_threads() / 2;
    STORE(cap_threads, half > 1 ? half : 1);
    STORE(cap_until_ns, now + b);
    __atomic_fetch_add(&stat_engaged, 1, __ATOMIC_RELAXED);
#endif
}

void agc_set_adaptive_threads(int on)
{
    STORE(adaptive_on, on == 2 ? 2 : on ? 1 : 0);
    STORE(cap_until_ns, 0);
    STORE(backoff_ns, BACKOFF_MIN_NS);
    STORE(runq_cap, 0);
    STORE(runq_pending, 0);
    STORE(runq_read_ns, now_ns() - RUNQ_PERIOD_NS); /* the next fork reads the run queue afresh */
}

void agc_thread_stats(int64_t *out)
{
    const int64_t now = now_ns();
    out[0] = LOAD(adaptive_on);
    int n = now < LOAD(cap_until_ns) ? LOAD(cap_threads) : agc_nthreads();
    const int rc = LOAD(runq_cap);
    out[1] = LOAD(adaptive_on) == 1 && rc > 0 && rc < n ? rc : n;
    out[2] = LOAD(stat_late);
    out[3] = LOAD(stat_engaged);
    out[4] = LOAD(stat_capped);
    out[5] = LOAD(stat_runq_capped);
}

/* ---------------------------------------------------------------- schedule perturbation */
int agc_perturb_mode = 0;
static int perturb_victim = 0, perturb_delay_us = 0;
static uint64_t perturb_seed = 0;
static _Thread_local uint64_t perturb_counter = 0;

void agc_set_perturbation(int mode, int victim, int delay_us, uint64_t seed)
{
    if (mode < 0 || mode > 2) mode = 0;
    perturb_victim = victim < 0 ? 0 : victim;
    perturb_delay_us = delay_us < 0 ? 0 : delay_us > 100000 ? 100000 : delay_us;
    __atomic_store_n(&perturb_seed, seed, __ATOMIC_RELAXED);
    __atomic_store_n(&agc_perturb_mode, mode, __ATOMIC_RELEASE);
}

int agc_get_perturbation(void)
{
    return __atomic_load_n(&agc_perturb_mode, __ATOMIC_RELAXED);
}

static void sleep_us(int64_t us)
{
    if (us <= 0) return;
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* splitmix64: a well-mixed 64-bit value from any input */
static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void agc_perturb_point(void)
{
    const int mode = __atomic_load_n(&agc_perturb_mode, __ATOMIC_ACQUIRE);
    int tid = 0, nthr = 1;
#ifdef _OPENMP
    tid = omp_get_thread_num();
    nthr = omp_get_num_threads();
#endif
    if (nthr <= 1) return; /* nothing to interleave with */
    if (mode == 1) {
        if (tid == perturb_victim % nthr) sleep_us(perturb_delay_us);
    } else if (mode == 2) {
        const uint64_t seed = __atomic_load_n(&perturb_seed, __ATOMIC_RELAXED);
        uint64_t r = mix64(seed ^ mix64(((uint64_t)tid << 40) ^ perturb_counter++));
        if ((r & 7) == 0) sleep_us((int64_t)((r >> 8) % (uint64_t)(perturb_delay_us + 1)));
    }
}
