/* elementwise_avx2.c: the AVX2+FMA instance of the vector-tier row kernels (elementwise_vec.h over
 * vec.h with 8-lane vectors). Builds on any compiler and target; reached only through the tables
 * after cpu.c has found AVX2 and FMA.
 * Tests: tests/test_kernels.py (every op under every tier the CPU has). */
#include "internal.h"

#if AGC_HAVE_X86
#define AGC_VEC_ISA AGC_VEC_AVX2
#include "vec.h"
#include "elementwise_vec.h"
#endif
