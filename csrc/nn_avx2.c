/* nn_avx2.c: the AVX2+FMA instance of the float32 batch-norm and cross-entropy kernels (nn_vec.h over
 * vec.h). Builds on any compiler and target; nn.c reaches it only when cpu.c has found the ISA.
 * Tests: tests/test_vec_tiers_families.py, tests/test_nn.py, tests/test_losses.py. */
#include "internal.h"

#if AGC_HAVE_X86
#define AGC_VEC_ISA AGC_VEC_AVX2
#include "vec.h"
#include "nn_vec.h"
#endif
