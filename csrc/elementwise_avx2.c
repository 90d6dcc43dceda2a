/* elementwise_avx2.c: AVX2/FMA row kernels for the hot float32 ops (work in progress: for now
 * every entry is NULL, so the portable loops run everywhere). */
#include "internal.h"

#if AGC_HAVE_X86
const agc_unary_kernel agc_unary_avx2[AGC_NUNARY][AGC_NDTYPES];
const agc_binary_kernel agc_binary_avx2[AGC_NBINARY][AGC_NDTYPES];
#endif
