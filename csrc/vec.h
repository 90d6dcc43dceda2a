/* vec.h: the vector layer. One set of names for float32 SIMD (vf: a vector of VF_W floats, vi: as
 * many int32 lanes, vm: a lane mask) and the float32 vector math written once on top of them (exp,
 * log, tanh, sigmoid, erf, erfc), so a kernel body exists once and is compiled per ISA.
 *
 * Contract: a translation unit defines AGC_VEC_ISA to AGC_VEC_PORTABLE, AGC_VEC_AVX2 or
 * AGC_VEC_AVX512 and includes this header once. Everything here is `VEC_FN` (static inline with
 * that ISA's target attribute), and code built on it marks its own functions VEC_TARGET and names
 * them with VEC_NAME(x) (x_portable, x_avx2, x_avx512), so several instances can be linked
 * together. The AVX2/AVX-512 instances may only run after cpu.c has found the ISA.
 * - portable: VF_W = 1, plain float C that compilers vectorise in loops (rnn.c's cell loops use it);
 *   vf_fma is a * b + c, fused only where the including file allows contraction.
 * - avx2: __m256 (8 lanes), masks are vectors; masked tail loads/stores via vmaskmov.
 * - avx512: __m512 (16 lanes), masks are __mmask16. The emulation test build (AGC_EMU512) replaces
 *   it by vec_emu512.h: the same 16 lanes and results, as pairs of AVX2 registers.
 * Semantics every instance shares (so a body gives the same bits on AVX2 and AVX-512):
 * vf_min(a, b) = a < b ? a : b and vf_max(a, b) = a > b ? a : b (the second operand when either is
 * NaN, as x86 minps/maxps); vf_select(m, a, b) = m ? a : b; comparisons are ordered (false on NaN)
 * except vf_nlt/vf_ngt (true on NaN); vf_load_part/vf_store_part touch lanes [0, m) only (other lanes
 * load as 0), vm_first(m) is the mask of those lanes; vm_bits(m) has bit i set when lane i is; vf_hsum/vf_hmax reduce across lanes (their
 * order is the ISA's: a horizontal sum's bits depend on the width). The math functions use only these primitives, with the same operation order on every
 * instance, so AVX2 and AVX-512 results are bitwise equal; portable ones differ where vf_fma is not
 * fused.
 * Double lanes (vd: VD_W doubles, VF_W / 2 in the vector instances; only what the float32 kernels that
 * accumulate in double need): vd_load_f32 widens VD_W consecutive floats, vd_load_f32_part the first
 * m of them (other lanes 0); vd_add/sub/mul/fma as for vf (vd_fma always fused in the vector
 * instances); vd_load/vd_load_part/vd_store read and write doubles, vd_store_f32 rounds VD_W lanes to
 * float and stores them.
 * Accuracy (float32, measured by tests/test_kernels.py over the whole range incl. subnormals and
 * specials): exp 2 ulp, log 3, tanh 3, sigmoid 3, erf/erfc 4 (erfc relative, for large arguments
 * too), with IEEE results for inf and NaN. */
#ifndef AGC_VEC_ISA
#error "define AGC_VEC_ISA before including vec.h"
#endif
#ifdef AGC_VEC_H
#error "vec.h is included once per translation unit"
#endif
#define AGC_VEC_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

#if AGC_VEC_ISA != AGC_VEC_PORTABLE
#if !AGC_HAVE_X86
#error "the AVX2/AVX-512 instances of vec.h need an x86 compiler"
#endif
#include <immintrin.h>
#endif

/* ================================================================ AVX-512 */
#if AGC_VEC_ISA == AGC_VEC_AVX512 && !AGC_NATIVE_AVX512
#include "vec_emu512.h"
#elif AGC_VEC_ISA == AGC_VEC_AVX512
#define VF_W 16
#define VEC_TARGET AGC_TARGET_AVX512
#define VEC_NAME(x) x##_avx512
#define VEC_FN static inline __attribute__((always_inline)) AGC_TARGET_AVX512
typedef __m512 vf;
typedef __m512i vi;
typedef __mmask16 vm;

VEC_FN vf vf_set1(float c) { return _mm512_set1_ps(c); }
VEC_FN vf vf_zero(void) { return _mm512_setzero_ps(); }
VEC_FN vf vf_load(const float *p) { return _mm512_loadu_ps(p); }
VEC_FN void vf_store(float *p, vf v) { _mm512_storeu_ps(p, v); }
VEC_FN void vf_stream(float *p, vf v) { _mm512_stream_ps(p, v); }
VEC_FN vm vm_first(int64_t m) { return (vm)(m >= 16 ? 0xFFFFu : m <= 0 ? 0u : ((1u << m) - 1u)); }
VEC_FN vf vf_load_part(const float *p, int64_t m) { return _mm512_maskz_loadu_ps(vm_first(m), p); }
VEC_FN void vf_store_part(float *p, int64_t m, vf v) { _mm512_mask_storeu_ps(p, vm_first(m), v); }
VEC_FN vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
VEC_FN vf vf_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
VEC_FN vf vf_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
VEC_FN vf vf_div(vf a, vf b) { return _mm512_div_ps(a, b); }
VEC_FN vf vf_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
VEC_FN vf vf_fnma(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }
VEC_FN vf vf_min(vf a, vf b) { return _mm512_min_ps(a, b); }
VEC_FN vf vf_max(vf a, vf b) { return _mm512_max_ps(a, b); }
VEC_FN vf vf_sqrt(vf a) { return _mm512_sqrt_ps(a); }
VEC_FN vf vf_floor(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
VEC_FN vf vf_ceil(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
VEC_FN vf vf_rint(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
VEC_FN vf vf_and(vf a, vf b) { return _mm512_and_ps(a, b); }
VEC_FN vf vf_or(vf a, vf b) { return _mm512_or_ps(a, b); }
VEC_FN vf vf_xor(vf a, vf b) { return _mm512_xor_ps(a, b); }
VEC_FN vf vf_andnot(vf a, vf b) { return _mm512_andnot_ps(a, b); } /* ~a & b */
VEC_FN vm vf_lt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
VEC_FN vm vf_le(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
VEC_FN vm vf_gt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
VEC_FN vm vf_eq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
VEC_FN vm vf_nlt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_NLT_UQ); }
VEC_FN vm vf_ngt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_NGT_UQ); }
VEC_FN vm vf_isnan(vf a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
VEC_FN vm vm_and(vm a, vm b) { return (vm)(a & b); }
VEC_FN vm vm_or(vm a, vm b) { return (vm)(a | b); }
VEC_FN uint32_t vm_bits(vm a) { return (uint32_t)a; }
VEC_FN vf vf_select(vm m, vf a, vf b) { return _mm512_mask_blend_ps(m, b, a); }
VEC_FN float vf_hsum(vf a) { return _mm512_reduce_add_ps(a); }
VEC_FN float vf_hmax(vf a) { return _mm512_reduce_max_ps(a); }
VEC_FN vi vf_bits(vf a) { return _mm512_castps_si512(a); }
VEC_FN vf vi_bits(vi a) { return _mm512_castsi512_ps(a); }
VEC_FN vi vi_set1(int32_t c) { return _mm512_set1_epi32(c); }
VEC_FN vi vi_add(vi a, vi b) { return _mm512_add_epi32(a, b); }
VEC_FN vi vi_sub(vi a, vi b) { return _mm512_sub_epi32(a, b); }
VEC_FN vi vi_and(vi a, vi b) { return _mm512_and_si512(a, b); }
VEC_FN vi vi_or(vi a, vi b) { return _mm512_or_si512(a, b); }
VEC_FN vi vi_sra1(vi a) { return _mm512_srai_epi32(a, 1); }
VEC_FN vi vi_shl23(vi a) { return _mm512_slli_epi32(a, 23); }
VEC_FN vi vi_srl23(vi a) { return _mm512_srli_epi32(a, 23); }
VEC_FN vf vi_to_vf(vi a) { return _mm512_cvtepi32_ps(a); }
VEC_FN void vec_sfence(void) { _mm_sfence(); }

#define VD_W 8
typedef __m512d vd;
VEC_FN vd vd_zero(void) { return _mm512_setzero_pd(); }
VEC_FN vd vd_set1(double c) { return _mm512_set1_pd(c); }
VEC_FN vd vd_load_f32(const float *p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
VEC_FN vd vd_load_f32_part(const float *p, int64_t m)
{
    return _mm512_cvtps_pd(_mm256_maskz_loadu_ps((__mmask8)vm_first(m), p));
}
VEC_FN vd vd_add(vd a, vd b) { return _mm512_add_pd(a, b); }
VEC_FN vd vd_sub(vd a, vd b) { return _mm512_sub_pd(a, b); }
VEC_FN vd vd_mul(vd a, vd b) { return _mm512_mul_pd(a, b); }
VEC_FN vd vd_fma(vd a, vd b, vd c) { return _mm512_fmadd_pd(a, b, c); }
VEC_FN void vd_store(double *p, vd v) { _mm512_storeu_pd(p, v); }
VEC_FN vd vd_load(const double *p) { return _mm512_loadu_pd(p); }
VEC_FN vd vd_load_part(const double *p, int64_t m) { return _mm512_maskz_loadu_pd((__mmask8)vm_first(m), p); }
VEC_FN void vd_store_f32(float *p, vd v) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(v)); }

/* ================================================================ AVX2 + FMA */
#elif AGC_VEC_ISA == AGC_VEC_AVX2
#define VF_W 8
#define VEC_TARGET AGC_TARGET_AVX2
#define VEC_NAME(x) x##_avx2
#define VEC_FN static inline __attribute__((always_inline)) AGC_TARGET_AVX2
typedef __m256 vf;
typedef __m256i vi;
typedef __m256 vm;

VEC_FN vf vf_set1(float c) { return _mm256_set1_ps(c); }
VEC_FN vf vf_zero(void) { return _mm256_setzero_ps(); }
VEC_FN vf vf_load(const float *p) { return _mm256_loadu_ps(p); }
VEC_FN void vf_store(float *p, vf v) { _mm256_storeu_ps(p, v); }
VEC_FN void vf_stream(float *p, vf v) { _mm256_stream_ps(p, v); }
VEC_FN __m256i vec_first_(int64_t m)
{
    const int k = m > 8 ? 8 : (int)m;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
VEC_FN vm vm_first(int64_t m) { return _mm256_castsi256_ps(vec_first_(m)); }
VEC_FN vf vf_load_part(const float *p, int64_t m) { return _mm256_maskload_ps(p, vec_first_(m)); }
VEC_FN void vf_store_part(float *p, int64_t m, vf v) { _mm256_maskstore_ps(p, vec_first_(m), v); }
VEC_FN vf vf_add(vf a, vf b) { return _mm256_add_ps(a, b); }
VEC_FN vf vf_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
VEC_FN vf vf_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
VEC_FN vf vf_div(vf a, vf b) { return _mm256_div_ps(a, b); }
VEC_FN vf vf_fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
VEC_FN vf vf_fnma(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }
VEC_FN vf vf_min(vf a, vf b) { return _mm256_min_ps(a, b); }
VEC_FN vf vf_max(vf a, vf b) { return _mm256_max_ps(a, b); }
VEC_FN vf vf_sqrt(vf a) { return _mm256_sqrt_ps(a); }
VEC_FN vf vf_floor(vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
VEC_FN vf vf_ceil(vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
VEC_FN vf vf_rint(vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
VEC_FN vf vf_and(vf a, vf b) { return _mm256_and_ps(a, b); }
VEC_FN vf vf_or(vf a, vf b) { return _mm256_or_ps(a, b); }
VEC_FN vf vf_xor(vf a, vf b) { return _mm256_xor_ps(a, b); }
VEC_FN vf vf_andnot(vf a, vf b) { return _mm256_andnot_ps(a, b); }
VEC_FN vm vf_lt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
VEC_FN vm vf_le(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
VEC_FN vm vf_gt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
VEC_FN vm vf_eq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
VEC_FN vm vf_nlt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_NLT_UQ); }
VEC_FN vm vf_ngt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_NGT_UQ); }
VEC_FN vm vf_isnan(vf a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
VEC_FN vm vm_and(vm a, vm b) { return _mm256_and_ps(a, b); }
VEC_FN vm vm_or(vm a, vm b) { return _mm256_or_ps(a, b); }
VEC_FN uint32_t vm_bits(vm a) { return (uint32_t)_mm256_movemask_ps(a); }
VEC_FN vf vf_select(vm m, vf a, vf b) { return _mm256_blendv_ps(b, a, m); }
VEC_FN float vf_hsum(vf a)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
VEC_FN float vf_hmax(vf a)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}
VEC_FN vi vf_bits(vf a) { return _mm256_castps_si256(a); }
VEC_FN vf vi_bits(vi a) { return _mm256_castsi256_ps(a); }
VEC_FN vi vi_set1(int32_t c) { return _mm256_set1_epi32(c); }
VEC_FN vi vi_add(vi a, vi b) { return _mm256_add_epi32(a, b); }
VEC_FN vi vi_sub(vi a, vi b) { return _mm256_sub_epi32(a, b); }
VEC_FN vi vi_and(vi a, vi b) { return _mm256_and_si256(a, b); }
VEC_FN vi vi_or(vi a, vi b) { return _mm256_or_si256(a, b); }
VEC_FN vi vi_sra1(vi a) { return _mm256_srai_epi32(a, 1); }
VEC_FN vi vi_shl23(vi a) { return _mm256_slli_epi32(a, 23); }
VEC_FN vi vi_srl23(vi a) { return _mm256_srli_epi32(a, 23); }
VEC_FN vf vi_to_vf(vi a) { return _mm256_cvtepi32_ps(a); }
VEC_FN void vec_sfence(void) { _mm_sfence(); }

#define VD_W 4
typedef __m256d vd;
VEC_FN vd vd_zero(void) { return _mm256_setzero_pd(); }
VEC_FN vd vd_set1(double c) { return _mm256_set1_pd(c); }
VEC_FN vd vd_load_f32(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
VEC_FN vd vd_load_f32_part(const float *p, int64_t m)
{
    const int k = m > 4 ? 4 : (int)m;
    return _mm256_cvtps_pd(_mm_maskload_ps(p, _mm_cmpgt_epi32(_mm_set1_epi32(k), _mm_setr_epi32(0, 1, 2, 3))));
}
VEC_FN vd vd_add(vd a, vd b) { return _mm256_add_pd(a, b); }
VEC_FN vd vd_sub(vd a, vd b) { return _mm256_sub_pd(a, b); }
VEC_FN vd vd_mul(vd a, vd b) { return _mm256_mul_pd(a, b); }
VEC_FN vd vd_fma(vd a, vd b, vd c) { return _mm256_fmadd_pd(a, b, c); }
VEC_FN void vd_store(double *p, vd v) { _mm256_storeu_pd(p, v); }
VEC_FN vd vd_load(const double *p) { return _mm256_loadu_pd(p); }
VEC_FN vd vd_load_part(const double *p, int64_t m)
{
    const int64_t k = m > 4 ? 4 : m;
    return _mm256_maskload_pd(p, _mm256_cmpgt_epi64(_mm256_set1_epi64x(k), _mm256_setr_epi64x(0, 1, 2, 3)));
}
VEC_FN void vd_store_f32(float *p, vd v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }

/* ================================================================ portable: one lane of plain C */
#elif AGC_VEC_ISA == AGC_VEC_PORTABLE
#define VF_W 1
#define VEC_TARGET
#define VEC_NAME(x) x##_portable
#define VEC_FN static inline __attribute__((always_inline))
typedef float vf;
typedef int32_t vi;
typedef int vm;

VEC_FN vf vf_set1(float c) { return c; }
VEC_FN vf vf_zero(void) { return 0.0f; }
VEC_FN vf vf_load(const float *p) { return *p; }
VEC_FN void vf_store(float *p, vf v) { *p = v; }
VEC_FN void vf_stream(float *p, vf v) { *p = v; }
VEC_FN vm vm_first(int64_t m) { return m > 0; }
VEC_FN vf vf_load_part(const float *p, int64_t m) { return m > 0 ? *p : 0.0f; }
VEC_FN void vf_store_part(float *p, int64_t m, vf v) { if (m > 0) *p = v; }
VEC_FN vf vf_add(vf a, vf b) { return a + b; }
VEC_FN vf vf_sub(vf a, vf b) { return a - b; }
VEC_FN vf vf_mul(vf a, vf b) { return a * b; }
VEC_FN vf vf_div(vf a, vf b) { return a / b; }
VEC_FN vf vf_fma(vf a, vf b, vf c) { return a * b + c; }
VEC_FN vf vf_fnma(vf a, vf b, vf c) { return c - a * b; }
VEC_FN vf vf_min(vf a, vf b) { return a < b ? a : b; }
VEC_FN vf vf_max(vf a, vf b) { return a > b ? a : b; }
VEC_FN vf vf_sqrt(vf a) { return sqrtf(a); }
VEC_FN vf vf_floor(vf a) { return floorf(a); }
VEC_FN vf vf_ceil(vf a) { return ceilf(a); }
VEC_FN vf vf_rint(vf a) { return rintf(a); }
VEC_FN uint32_t vec_u_(vf a) { uint32_t u; memcpy(&u, &a, 4); return u; }
VEC_FN vf vec_f_(uint32_t u) { vf a; memcpy(&a, &u, 4); return a; }
VEC_FN vf vf_and(vf a, vf b) { return vec_f_(vec_u_(a) & vec_u_(b)); }
VEC_FN vf vf_or(vf a, vf b) { return vec_f_(vec_u_(a) | vec_u_(b)); }
VEC_FN vf vf_xor(vf a, vf b) { return vec_f_(vec_u_(a) ^ vec_u_(b)); }
VEC_FN vf vf_andnot(vf a, vf b) { return vec_f_(~vec_u_(a) & vec_u_(b)); }
VEC_FN vm vf_lt(vf a, vf b) { return __builtin_isless(a, b); }
VEC_FN vm vf_le(vf a, vf b) { return __builtin_islessequal(a, b); }
VEC_FN vm vf_gt(vf a, vf b) { return __builtin_isgreater(a, b); }
VEC_FN vm vf_eq(vf a, vf b) { return a == b; }
VEC_FN vm vf_nlt(vf a, vf b) { return !__builtin_isless(a, b); }
VEC_FN vm vf_ngt(vf a, vf b) { return !__builtin_isgreater(a, b); }
VEC_FN vm vf_isnan(vf a) { return a != a; }
VEC_FN vm vm_and(vm a, vm b) { return a & b; }
VEC_FN vm vm_or(vm a, vm b) { return a | b; }
VEC_FN uint32_t vm_bits(vm a) { return a ? 1u : 0u; }
VEC_FN vf vf_select(vm m, vf a, vf b) { return m ? a : b; }
VEC_FN float vf_hsum(vf a) { return a; }
VEC_FN float vf_hmax(vf a) { return a; }
VEC_FN vi vf_bits(vf a) { return (vi)vec_u_(a); }
VEC_FN vf vi_bits(vi a) { return vec_f_((uint32_t)a); }
VEC_FN vi vi_set1(int32_t c) { return c; }
/* int32 lane arithmetic wraps (through uint32: no signed overflow) */
VEC_FN vi vi_add(vi a, vi b) { return (vi)((uint32_t)a + (uint32_t)b); }
VEC_FN vi vi_sub(vi a, vi b) { return (vi)((uint32_t)a - (uint32_t)b); }
VEC_FN vi vi_and(vi a, vi b) { return a & b; }
VEC_FN vi vi_or(vi a, vi b) { return a | b; }
VEC_FN vi vi_sra1(vi a) { return a >> 1; } /* arithmetic in GCC and Clang */
VEC_FN vi vi_shl23(vi a) { return (vi)((uint32_t)a << 23); }
VEC_FN vi vi_srl23(vi a) { return (vi)((uint32_t)a >> 23); }
VEC_FN vf vi_to_vf(vi a) { return (float)a; }
VEC_FN void vec_sfence(void) {}

#define VD_W 1
typedef double vd;
VEC_FN vd vd_zero(void) { return 0.0; }
VEC_FN vd vd_set1(double c) { return c; }
VEC_FN vd vd_load_f32(const float *p) { return (double)*p; }
VEC_FN vd vd_load_f32_part(const float *p, int64_t m) { return m > 0 ? (double)*p : 0.0; }
VEC_FN vd vd_add(vd a, vd b) { return a + b; }
VEC_FN vd vd_sub(vd a, vd b) { return a - b; }
VEC_FN vd vd_mul(vd a, vd b) { return a * b; }
VEC_FN vd vd_fma(vd a, vd b, vd c) { return a * b + c; }
VEC_FN void vd_store(double *p, vd v) { *p = v; }
VEC_FN vd vd_load(const double *p) { return *p; }
VEC_FN vd vd_load_part(const double *p, int64_t m) { return m > 0 ? *p : 0.0; }
VEC_FN void vd_store_f32(float *p, vd v) { *p = (float)v; }

#else
#error "AGC_VEC_ISA: unknown ISA"
#endif

#define VC(c) vf_set1(c)

/* ================================================================ derived */
VEC_FN vf vf_abs(vf a) { return vf_andnot(VC(-0.0f), a); }
VEC_FN vf vf_neg(vf a) { return vf_xor(a, VC(-0.0f)); }
VEC_FN vf vf_signbit(vf a) { return vf_and(a, VC(-0.0f)); }

/* The sum of na vectors' lanes by one halving tree: vector pairs (k, k + w) for w = na/2, na/4, ..
 * 1, then lane pairs likewise. With na * width fixed (the logical lane count a kernel chooses) every
 * tier adds in the same order, which is what makes AVX2 and AVX-512 sums bitwise equal. na is a
 * power of two. */
VEC_FN float vf_tree(vf *a, int na)
{
    for (int w = na / 2; w >= 1; w /= 2)
        for (int k = 0; k < w; k++) a[k] = vf_add(a[k], a[k + w]);
    float t[VF_W];
    vf_store(t, a[0]);
    for (int w = VF_W / 2; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) t[j] += t[j + w];
    return t[0];
}

VEC_FN double vd_tree(vd *a, int na)
{
    for (int w = na / 2; w >= 1; w /= 2)
        for (int k = 0; k < w; k++) a[k] = vd_add(a[k], a[k + w]);
    double t[VD_W];
    vd_store(t, a[0]);
    for (int w = VD_W / 2; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) t[j] += t[j + w];
    return t[0];
}

/* 2^n for integer lanes n in [-126, 127], built in the exponent field */
VEC_FN vf vf_pow2i(vi n) { return vi_bits(vi_shl23(vi_add(n, vi_set1(127)))); }

/* ================================================================ math */
/* exp: x = n ln2 + r, |r| <= ln2/2. Adding 1.5 * 2^23 rounds x / ln2 to the integer n, which then
 * sits in the low mantissa bits of the sum (read back with integer operations: no float-to-int
 * conversion, which NaN would make undefined). ln2 is split in a 9-bit head (n ln2_hi exact for
 * every n here, so x - n ln2_hi is exact with or without FMA) and a tail. e^r by its degree-7 Taylor polynomial
 * (truncation < 3e-9 for |r| <= ln2/2). 2^n is applied as two factors 2^(n/2) so that results in the
 * subnormal range round once and 2^128 * (e^r < 1) stays finite. x is clamped to [-104, 89] (below,
 * the result rounds to 0; above, it overflows to inf); the constant-first min/max keep a NaN x.
 * When every lane lies in (-87, 88] (the usual case: softmax, sigmoid, tanh arguments), e^x is a
 * normal float, so the clamp changes nothing and p 2^n is exact however it is formed: one integer add
 * into p's exponent field gives the same bits as the two factors, with fewer instructions. So a
 * lane's bits never depend on its neighbours, whichever way its vector goes. With the FMA forms of
 * the reduction, measured on AVX2, one thread, 1M float32: 0.43 -> 0.26 ms (tanh 0.88 -> 0.66;
 * softmax 4096 x 1024 2.65 -> 1.78 ms with softmax_vec.h's four max chains). */
VEC_FN vf vf_exp(vf x)
{
    const int wide = vm_bits(vm_or(vf_nlt(VC(-87.0f), x), vf_gt(x, VC(88.0f)))) != 0;
    if (wide) x = vf_min(VC(89.0f), vf_max(VC(-104.0f), x));
    const vf shifter = VC(12582912.0f);
    vf k = vf_fma(x, VC(1.44269504088896341f), shifter);
    vf n = vf_sub(k, shifter);
    vf r = vf_fnma(n, VC(0.693359375f), x);
    r = vf_fnma(n, VC(-2.12194440054690583e-4f), r);
    vf p = VC(1.0f / 5040);
    p = vf_fma(p, r, VC(1.0f / 720));
    p = vf_fma(p, r, VC(1.0f / 120));
    p = vf_fma(p, r, VC(1.0f / 24));
    p = vf_fma(p, r, VC(1.0f / 6));
    p = vf_fma(p, r, VC(0.5f));
    p = vf_fma(p, vf_mul(r, r), vf_add(r, VC(1.0f)));
    vi ni = vi_sub(vf_bits(k), vf_bits(shifter));
    if (!wide) return vi_bits(vi_add(vf_bits(p), vi_shl23(ni)));
    vi n1 = vi_sra1(ni);
    vi n2 = vi_sub(ni, n1);
    return vf_mul(vf_mul(p, vf_pow2i(n1)), vf_pow2i(n2));
}

/* log: x = 2^e m with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m - 1) / (m + 1),
 * |s| < 0.172, by its odd series to s^9 (truncation < 1e-9 relative); e ln2 added in two parts.
 * Subnormal inputs are scaled by 2^23 first. */
VEC_FN vf vf_log(vf x)
{
    vm sub = vf_lt(x, VC(1.17549435e-38f));
    vf xs = vf_select(sub, vf_mul(x, VC(8388608.0f)), x);
    vf eadj = vf_select(sub, VC(23.0f), vf_zero());
    vi bits = vf_bits(xs);
    vi ei = vi_sub(vi_srl23(bits), vi_set1(127));
    vf m = vi_bits(vi_or(vi_and(bits, vi_set1(0x007fffff)), vi_set1(0x3f800000)));
    vm big = vf_gt(m, VC(1.41421356f));
    m = vf_select(big, vf_mul(m, VC(0.5f)), m);
    vf e = vf_sub(vf_add(vi_to_vf(ei), vf_select(big, VC(1.0f), vf_zero())), eadj);
    vf f = vf_sub(m, VC(1.0f));
    vf s = vf_div(f, vf_add(f, VC(2.0f)));
    vf t = vf_add(s, s);
    vf z = vf_mul(s, s);
    vf q = VC(1.0f / 9);
    q = vf_fma(q, z, VC(1.0f / 7));
    q = vf_fma(q, z, VC(1.0f / 5));
    q = vf_fma(q, z, VC(1.0f / 3));
    vf lm = vf_fma(vf_mul(t, z), q, t);
    vf r = vf_fma(e, VC(0.693359375f), vf_fma(e, VC(-2.12194440054690583e-4f), lm));
    /* log(+inf) = inf, log(0) = -inf, log(x < 0) = log(NaN) = NaN */
    r = vf_select(vf_eq(x, VC(INFINITY)), VC(INFINITY), r);
    r = vf_select(vf_eq(x, vf_zero()), VC(-INFINITY), r);
    r = vf_select(vf_le(vf_zero(), x), r, VC(NAN));
    return r;
}

/* sigmoid = num / (1 + e) with e = exp(-|x|) <= 1 (never overflows) and num = 1 (x >= 0) or e */
VEC_FN vf vf_sigmoid(vf x)
{
    vf e = vf_exp(vf_neg(vf_abs(x)));
    vf num = vf_select(vf_lt(x, vf_zero()), e, VC(1.0f));
    return vf_div(num, vf_add(e, VC(1.0f)));
}

/* tanh: |x| < 0.625: x + x z P(z), z = x^2, P a degree-5 fit (relative error < 2e-10);
 * else sign(x) (1 - 2 / (exp(2|x|) + 1)), where the subtraction loses at most a factor 0.8. */
VEC_FN vf vf_tanh(vf x)
{
    vf ax = vf_abs(x);
    vf z = vf_mul(x, x);
    vf p = VC(0.0021475369576364756f);
    p = vf_fma(p, z, VC(-0.008182673715054989f));
    p = vf_fma(p, z, VC(0.021702967584133148f));
    p = vf_fma(p, z, VC(-0.05394720286130905f));
    p = vf_fma(p, z, VC(0.13333210349082947f));
    p = vf_fma(p, z, VC(-0.3333333134651184f));
    vf small = vf_fma(vf_mul(x, z), p, x);
    vf large = vf_sub(VC(1.0f), vf_div(VC(2.0f), vf_add(vf_exp(vf_add(ax, ax)), VC(1.0f))));
    large = vf_or(large, vf_signbit(x));
    return vf_select(vf_lt(ax, VC(0.625f)), small, large);
}

/* erf(z) / z for |z| < 0.5 as a degree-4 polynomial in z^2 (a weighted least-squares fit, relative
 * error < 2e-9) */
VEC_FN vf vec_erf_small_(vf z)
{
    vf w = vf_mul(z, z);
    vf p = VC(0.00472800208479527f);
    p = vf_fma(p, w, VC(-0.0267626044024871f));
    p = vf_fma(p, w, VC(0.1128291833472186f));
    p = vf_fma(p, w, VC(-0.37612614486815993f));
    p = vf_fma(p, w, VC(1.1283791663985638f));
    return vf_mul(z, p);
}

/* erfc(a) for a >= 0.5 (any a >= 0 works, with lower accuracy near 0): exp(-a^2) R(t),
 * t = 1 / (1 + a / 2), R a degree-9 polynomial fitted to erfc(a) exp(a^2) on [0.5, 10.5] (relative
 * error < 2e-9). a^2 is carried as hi + lo (lo exact by FMA), and exp(-hi - lo) = exp(-hi) (1 - lo):
 * with one rounded a^2 the relative error would grow like a^2 ulp. Beyond 10.5 exp underflows. */
VEC_FN vf vec_erfc_large_(vf a)
{
    vf t = vf_div(VC(1.0f), vf_fma(a, VC(0.5f), VC(1.0f)));
    vf r = VC(-0.07368798774005363f);
    r = vf_fma(r, t, VC(0.34818961702234447f));
    r = vf_fma(r, t, VC(-0.6054267868514833f));
    r = vf_fma(r, t, VC(0.40071658277867545f));
    r = vf_fma(r, t, VC(-0.10454763962575747f));
    r = vf_fma(r, t, VC(0.23398376628570128f));
    r = vf_fma(r, t, VC(0.2351925073848527f));
    r = vf_fma(r, t, VC(0.2835840264789374f));
    r = vf_fma(r, t, VC(0.2819854832742483f));
    r = vf_fma(r, t, VC(3.499728410453058e-06f));
    vf hi = vf_mul(a, a);
    vf lo = vf_fma(a, a, vf_neg(hi));
    vf e = vf_exp(vf_neg(hi));
    e = vf_fnma(e, lo, e);
    return vf_mul(e, r);
}

/* erfc(x): 1 - erf(x) below |x| = 0.5 (erf <= 0.52 there: no cancellation), the exp form above
 * (2 - erfc(|x|) for negative x, in [1, 2]). erfc(+-inf) = 0, 2; NaN stays NaN. */
VEC_FN vf vf_erfc(vf x)
{
    vf ax = vf_abs(x);
    vf small = vf_sub(VC(1.0f), vec_erf_small_(x));
    vf large = vec_erfc_large_(vf_min(ax, VC(11.0f)));
    large = vf_select(vf_lt(x, vf_zero()), vf_sub(VC(2.0f), large), large);
    vf r = vf_select(vf_lt(ax, VC(0.5f)), small, large);
    return vf_select(vf_isnan(x), x, r);
}

/* erf(x): the odd polynomial below |x| = 0.5, sign(x) (1 - erfc(|x|)) above; erf(+-inf) = +-1 */
VEC_FN vf vf_erf(vf x)
{
    vf ax = vf_abs(x);
    vf small = vec_erf_small_(x);
    vf large = vf_or(vf_sub(VC(1.0f), vec_erfc_large_(vf_min(ax, VC(11.0f)))), vf_signbit(x));
    vf r = vf_select(vf_lt(ax, VC(0.5f)), small, large);
    return vf_select(vf_isnan(x), x, r);
}
