/* cpu.c: run-time CPU dispatch and the thread count.
 * agc_init (once, at import) checks for AVX2 and FMA and, unless AGC_SIMD=portable is set, points
 * the active elementwise tables at the AVX2 bodies where they exist (portable loops elsewhere).
 * agc_set_simd_target switches at run time; tests run both targets in one process. It is not
 * thread-safe against kernels running at the same moment: call it while no kernel runs.
 * Threads: agc_set_num_threads sets the count every kernel passes to `omp parallel num_threads`,
 * a process-wide setting (omp_set_num_threads alone would only affect the calling thread).
 * Tests: tests/test_kernels.py. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int agc_nthreads_setting = 1;
static int use_avx2 = 0;
static int initialised = 0;

int agc_cpu_has_avx2(void)
{
#if AGC_HAVE_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

void agc_select_kernels(int avx2)
{
    memcpy(agc_unary_active, agc_unary_portable, sizeof(agc_unary_active));
    memcpy(agc_binary_active, agc_binary_portable, sizeof(agc_binary_active));
#if AGC_HAVE_X86
    if (avx2) {
        for (int op = 0; op < AGC_NUNARY; op++)
            for (int dt = 0; dt < AGC_NDTYPES; dt++)
                if (agc_unary_avx2[op][dt]) agc_unary_active[op][dt] = agc_unary_avx2[op][dt];
        for (int op = 0; op < AGC_NBINARY; op++)
            for (int dt = 0; dt < AGC_NDTYPES; dt++)
                if (agc_binary_avx2[op][dt]) agc_binary_active[op][dt] = agc_binary_avx2[op][dt];
    }
#endif
    use_avx2 = avx2;
}

void agc_init(void)
{
    if (initialised) return;
    initialised = 1;
    const char *env = getenv("AGC_SIMD");
    int avx2 = agc_cpu_has_avx2() && !(env && strcmp(env, "portable") == 0);
    agc_select_kernels(avx2);
#ifdef _OPENMP
    /* omp_get_max_threads honours OMP_NUM_THREADS and the process's CPU affinity mask */
    agc_nthreads_setting = omp_get_max_threads();
#endif
    if (agc_nthreads_setting < 1) agc_nthreads_setting = 1;
}

const char *agc_simd_target(void)
{
    return use_avx2 ? "avx2" : "portable";
}

int agc_set_simd_target(const char *name)
{
    if (!initialised) agc_init();
    if (strcmp(name, "portable") == 0) {
        agc_select_kernels(0);
        return 0;
    }
    if (strcmp(name, "avx2") == 0 && agc_cpu_has_avx2()) {
        agc_select_kernels(1);
        return 0;
    }
    return -1;
}

void agc_set_num_threads(int n)
{
    if (n < 1) n = 1;
    agc_nthreads_setting = n;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

int agc_get_num_threads(void)
{
    return agc_nthreads_setting;
}
