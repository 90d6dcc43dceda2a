/* conv_oclanes_avx512.c: the AVX-512 instance of the output-channels-in-lanes convolution kernels
 * (conv_oclanes_vec.h over vec.h): 16 channels in one zmm, blocks of up to 2 rows x 14 pixels (28
 * accumulators of 32 registers). Builds on any compiler and target; conv_oclanes.c reaches it only when
 * cpu.c has found the ISA. Tests: tests/test_conv.py (oclanes). */
#include "internal.h"

#if AGC_NATIVE_AVX512 /* its transpose is AVX-512 intrinsics: not in the emulation build */
#define AGC_VEC_ISA AGC_VEC_AVX512
#define OCL_XMAX 14
#define OCL_RMAX 2
#define OCL_ACC 28
#include "vec.h"
#include "conv_oclanes_vec.h"
#endif
