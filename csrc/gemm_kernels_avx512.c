/* gemm_kernels_avx512.c: the AVX-512 GEMM context (F, BW, DQ, VL). 32 zmm registers: the tile
 * keeps MR NV accumulators, NV B vectors and a broadcast in registers. Zen 5 and Intel server
 * cores retire 2 512-bit FMAs a cycle with latency 4, so at least 8 independent accumulators.
 * Default tile 8 x 32 float32 / 8 x 16 float64 (16 accumulators, 2 B vectors), KC 256 / 384.
 * Measured (session 6, benchmarks/tune_gemm.py, 1 thread, best of 3 interleaved rounds, 2-core Zen 5
 * KVM guest with nothing else running; this guest's 512-bit FMA peak equals its 256-bit one, 117
 * GFLOPS float32 a core): float32 geomean over 256^3, 512^3, 1024^3 and the three MLP forms 108.7
 * GFLOPS for 8x32 KC 256 (93% of peak), 107.3 for 6x32, 105.7 for 6x64, and the former default 12x32
 * lower still; float64 8x16 KC 384 54.1, 6x32 53.0, 12x16 less. The 8-row tile also splits the small
 * row counts of the recurrent layers evenly (a batch of 32 is 4 panels, where 12 rows gave 3 and one
 * of 2 threads did twice the other's work: an LSTM 64-128, batch 32, forward at 2 threads went from 1.97 to 1.32 ms,
 * the LSTM 256-512, batch 64, forward from 169 to 134 ms). The matrix-vector
 * leaves are the AVX2 context's (memory-bound: wider vectors buy nothing there). Edge strips of at
 * most NR/2 columns run the half-width tiles, 8 x 16 / 8 x 8 (float32 128 x 10 x 64, a 10-output
 * layer: 5.7 -> 3.6 us). Contracts:
 * gemm.h. Tests: tests/test_gemm.py (skipped, with the reason, on CPUs without AVX-512). */
#include "gemm_pack.h"
#include "gemm_ukernel_x86.h"

#if AGC_NATIVE_AVX512
#define MR_F32 8
#define MR_F64 8

GEMM_PACK_X86_F32(pack_f32_avx512, MR_F32, 32, AGC_TARGET_AVX512)
GEMM_PACK_X86_F64(pack_f64_avx512, MR_F64, 16, AGC_TARGET_AVX512)
GEMM_UKERNEL_X86(f32_avx512, float, __m512, _mm512, ps, 16, MR_F32, 2, AGC_TARGET_AVX512)
GEMM_UKERNEL_X86(f64_avx512, double, __m512d, _mm512, pd, 8, MR_F64, 2, AGC_TARGET_AVX512)
GEMM_UKERNEL_X86(f32_avx512_half, float, __m512, _mm512, ps, 16, MR_F32, 1, AGC_TARGET_AVX512)
GEMM_UKERNEL_X86(f64_avx512_half, double, __m512d, _mm512, pd, 8, MR_F64, 1, AGC_TARGET_AVX512)

const gemm_ctx agc_gemm_desc_f32_avx512 = {
    "avx512 8x32", AGC_ISA_AVX512, 4, MR_F32, 32, 0, 256, 0,
    pack_f32_avx512_a, pack_f32_avx512_b, f32_avx512_kern, f32_avx512_small, NULL, NULL, f32_avx512_half_small};
const gemm_ctx agc_gemm_desc_f64_avx512 = {
    "avx512 8x16", AGC_ISA_AVX512, 8, MR_F64, 16, 0, 384, 0,
    pack_f64_avx512_a, pack_f64_avx512_b, f64_avx512_kern, f64_avx512_small, NULL, NULL, f64_avx512_half_small};

/* The other tiles measured against the ones above (benchmarks/tune_gemm.py runs them through
 * _core.gemm_set_context); kept so that the measurement can be repeated on another CPU. ALT_F32 /
 * ALT_F64 build a tile's packing and micro-kernel (NR / W zmm vectors a row), ALT_ROW its context. */
#define ALT_F32(MR, NR)                                                                             \
    GEMM_PACK_X86_F32(pack_f32_avx512_##MR##x##NR, MR, NR, AGC_TARGET_AVX512)                      \
    GEMM_UKERNEL_X86(f32_avx512_##MR##x##NR, float, __m512, _mm512, ps, 16, MR, (NR) / 16, AGC_TARGET_AVX512)
#define ALT_F64(MR, NR)                                                                             \
    GEMM_PACK_X86_F64(pack_f64_avx512_##MR##x##NR, MR, NR, AGC_TARGET_AVX512)                      \
    GEMM_UKERNEL_X86(f64_avx512_##MR##x##NR, double, __m512d, _mm512, pd, 8, MR, (NR) / 8, AGC_TARGET_AVX512)
#define ALT_ROW(T, ES, MR, NR)                                                                      \
    {"avx512 " #MR "x" #NR, AGC_ISA_AVX512, ES, MR, NR, 0, 0, 0, pack_##T##_avx512_##MR##x##NR##_a, \
     pack_##T##_avx512_##MR##x##NR##_b, T##_avx512_##MR##x##NR##_kern, T##_avx512_##MR##x##NR##_small, NULL, NULL, NULL}

ALT_F32(12, 32)
ALT_F32(14, 32)
ALT_F32(6, 64)
ALT_F32(6, 32)
ALT_F64(12, 16)
ALT_F64(14, 16)
ALT_F64(6, 32)

const gemm_ctx agc_gemm_desc_avx512_alternatives[] = {
    ALT_ROW(f32, 4, 12, 32),
    ALT_ROW(f32, 4, 14, 32),
    ALT_ROW(f32, 4, 6, 64),
    ALT_ROW(f32, 4, 6, 32),
    ALT_ROW(f64, 8, 12, 16),
    ALT_ROW(f64, 8, 14, 16),
    ALT_ROW(f64, 8, 6, 32),
    {NULL, AGC_ISA_AVX512, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};
#endif
