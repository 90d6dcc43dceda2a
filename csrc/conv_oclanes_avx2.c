/* conv_oclanes_avx2.c: the AVX2+FMA instance of the output-channels-in-lanes convolution kernels
 * (conv_oclanes_vec.h over vec.h): 16 channels as 2 ymm, blocks of 1 row x up to 6 pixels (12
 * accumulators of 16 registers). Builds on any compiler and target; conv_oclanes.c reaches it only when
 * cpu.c has found the ISA. Tests: tests/test_conv.py (oclanes). */
#include "internal.h"

#if AGC_HAVE_X86
#define AGC_VEC_ISA AGC_VEC_AVX2
#define OCL_XMAX 6
#define OCL_RMAX 1
#define OCL_ACC 6
#include "vec.h"
#include "conv_oclanes_vec.h"
#endif
