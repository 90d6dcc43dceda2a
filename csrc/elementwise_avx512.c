/* elementwise_avx512.c: the AVX-512 (F, BW, DQ, VL) instance of the vector-tier row kernels
 * (elementwise_vec.h over vec.h with 16-lane vectors and mask-register tails). Builds on any
 * compiler and target; reached only through the tables after cpu.c has found AVX-512 and the OS
 * support for its register state.
 * Tests: tests/test_kernels.py (every op under every tier the CPU has). */
#include "internal.h"

#if AGC_HAVE_X86
#define AGC_VEC_ISA AGC_VEC_AVX512
#include "vec.h"
#include "elementwise_vec.h"
#endif
