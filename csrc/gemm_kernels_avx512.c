/* gemm_kernels_avx512.c: the AVX-512 GEMM context (F, BW, DQ, VL). 32 zmm registers: the tile
 * keeps MR NV accumulators, NV B vectors and a broadcast in registers. Zen 5 and Intel server
 * cores retire 2 512-bit FMAs a cycle with latency 4, so at least 8 independent accumulators; the
 * tile and block sizes below were chosen by measurement (see the descriptors). The matrix-vector
 * leaves are the AVX2 context's (memory-bound: wider vectors buy nothing there). Contracts:
 * gemm.h. Tests: tests/test_gemm.py (skipped, with the reason, on CPUs without AVX-512). */
#include "gemm_pack.h"
#include "gemm_ukernel_x86.h"

#if AGC_HAVE_X86
#define MR_F32 12
#define MR_F64 12

GEMM_PACK_X86_F32(pack_f32_avx512, MR_F32, 32, AGC_AVX512)
GEMM_PACK_X86_F64(pack_f64_avx512, MR_F64, 16, AGC_AVX512)
GEMM_UKERNEL_X86(f32_avx512, float, __m512, _mm512, ps, 16, MR_F32, 2, AGC_AVX512)
GEMM_UKERNEL_X86(f64_avx512, double, __m512d, _mm512, pd, 8, MR_F64, 2, AGC_AVX512)

const gemm_ctx agc_gemm_desc_f32_avx512 = {
    "avx512 12x32", AGC_ISA_AVX512, 4, MR_F32, 32, 0, 0, 0,
    pack_f32_avx512_a, pack_f32_avx512_b, f32_avx512_kern, f32_avx512_small, NULL, NULL};
const gemm_ctx agc_gemm_desc_f64_avx512 = {
    "avx512 12x16", AGC_ISA_AVX512, 8, MR_F64, 16, 0, 0, 0,
    pack_f64_avx512_a, pack_f64_avx512_b, f64_avx512_kern, f64_avx512_small, NULL, NULL};
#endif
