/* reduce_avx512.c: the AVX-512 instance of the float32 reduction kernels (reduce_vec.h over vec.h).
 * Builds on any compiler and target; reduce.c reaches it only when cpu.c has found the ISA.
 * Tests: tests/test_vec_tiers.py, tests/test_reduce_kernels.py. */
#include "internal.h"

#if AGC_HAVE_X86
#define AGC_VEC_ISA AGC_VEC_AVX512
#include "vec.h"
#include "reduce_vec.h"
#endif
