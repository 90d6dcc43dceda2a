/* layernorm_avx512.c: the AVX-512 instance of the layer-norm row kernels (layernorm_vec.h over vec.h).
 * Builds on any compiler and target; layernorm.c reaches it only when cpu.c has found the ISA.
 * Tests: tests/test_layer_norm.py. */
#include "internal.h"

#if AGC_HAVE_X86
#define AGC_VEC_ISA AGC_VEC_AVX512
#include "vec.h"
#include "layernorm_vec.h"
#endif
