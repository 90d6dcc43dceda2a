/* softmax_avx2.c: the AVX2+FMA instance of the float32 softmax kernels (softmax_vec.h over
 * vec.h). Builds on any compiler and target; softmax.c reaches it only when cpu.c has found the ISA.
 * Tests: tests/test_reduce_kernels.py. */
#include "internal.h"

#if AGC_HAVE_X86
#define AGC_VEC_ISA AGC_VEC_AVX2
#include "vec.h"
#include "softmax_vec.h"
#endif
