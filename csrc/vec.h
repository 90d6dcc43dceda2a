/* vec.h: the vector layer. One set of names for float32 SIMD (vf: a vector of VF_W floats, vi: as
 * many int32 lanes, vm: a lane mask), for float64 SIMD (vd, vdi, vdm), and the vector math written once
 * on top of them (float32: exp, log, tanh, sigmoid, erf, erfc, gelu and its derivative; float64: exp,
 * log, tanh, sigmoid, erf, gelu and its derivative), so a kernel body exists once and is compiled per ISA.
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
 * Double lanes (vd: VD_W doubles, VF_W / 2 in the vector instances; vdm their lane mask, vdi as many
 * int64 lanes): the same primitives as vf with the same semantics (vd_min/vd_max/vd_select/compares,
 * vd_load_part/vd_store_part/vdm_first, vd_hsum/vd_hmax in the ISA's order, the emulation following
 * _mm512_reduce_add_pd / _mm512_reduce_max_pd), vd_fma always fused in the vector instances; vd_load_f32
 * widens VD_W consecutive floats, vd_load_f32_part the first m of them (other lanes 0), vd_store_f32
 * rounds VD_W lanes to float and stores them; vd_bits/vdi_bits reinterpret, vdi_add/sub/shl52/srl52
 * work on the exponent field. The double math (vd_exp, vd_log, vd_tanh, vd_sigmoid, vd_erf, vd_gelu,
 * vd_gelu_grad) is written once
 * on them like the float math, so AVX2 and AVX-512 give the same bits.
 * vf_scale(v, n) is v 2^n rounded once; vf_lookup16 reads a 16-entry table per lane.
 * Accuracy (float32, measured by tests/test_kernels.py over the whole range incl. subnormals and
 * specials, in ulps of the result): exp 2 ulp (measured 1.0), log 3, tanh 3, sigmoid 3, erf 3
 * (measured 2.3), erfc 4 (relative, for large arguments too), gelu 4 (measured 3.9; relative also
 * where gelu is tiny, results in the subnormal range within 4 of their spacing), with IEEE results
 * for inf and NaN. vf_gelu_grad: within 4 units of the float32 spacing of |Phi(x)| + |x phi(x)|
 * (tests/test_vec_tiers.py; the derivative itself cancels to 0 at x = -0.75).
 * Accuracy (float64, measured by tests/test_vec_tiers_f64.py against long double over the whole range
 * incl. subnormal inputs and results, overflow and specials, in ulps of the result): exp 1 (measured
 * 0.83), log 2 (1.93, near x = 1), tanh 3 (2.43), sigmoid 3 (1.89), with IEEE results for +-inf, NaN
 * and signed zeros; against mpmath: erf 2 (1.57), gelu 5 (4.21; relative also where gelu is tiny or
 * subnormal), vd_gelu_grad 3 (2.46) units of the spacing of |Phi(x)| + |x phi(x)|. */
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
typedef __mmask8 vdm;
typedef __m512i vdi;
VEC_FN vdm vdm_first(int64_t m) { return (vdm)(m >= 8 ? 0xFFu : m <= 0 ? 0u : ((1u << m) - 1u)); }
VEC_FN void vd_store_part(double *p, int64_t m, vd v) { _mm512_mask_storeu_pd(p, vdm_first(m), v); }
VEC_FN void vd_stream(double *p, vd v) { _mm512_stream_pd(p, v); }
VEC_FN vd vd_div(vd a, vd b) { return _mm512_div_pd(a, b); }
VEC_FN vd vd_fnma(vd a, vd b, vd c) { return _mm512_fnmadd_pd(a, b, c); }
VEC_FN vd vd_min(vd a, vd b) { return _mm512_min_pd(a, b); }
VEC_FN vd vd_max(vd a, vd b) { return _mm512_max_pd(a, b); }
VEC_FN vd vd_sqrt(vd a) { return _mm512_sqrt_pd(a); }
VEC_FN vd vd_floor(vd a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
VEC_FN vd vd_ceil(vd a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
VEC_FN vd vd_rint(vd a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
VEC_FN vd vd_and(vd a, vd b) { return _mm512_and_pd(a, b); }
VEC_FN vd vd_or(vd a, vd b) { return _mm512_or_pd(a, b); }
VEC_FN vd vd_xor(vd a, vd b) { return _mm512_xor_pd(a, b); }
VEC_FN vd vd_andnot(vd a, vd b) { return _mm512_andnot_pd(a, b); } /* ~a & b */
VEC_FN vdm vd_lt(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
VEC_FN vdm vd_le(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_LE_OQ); }
VEC_FN vdm vd_gt(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
VEC_FN vdm vd_eq(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ); }
VEC_FN vdm vd_nlt(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_NLT_UQ); }
VEC_FN vdm vd_ngt(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_NGT_UQ); }
VEC_FN vdm vd_isnan(vd a) { return _mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q); }
VEC_FN vdm vdm_and(vdm a, vdm b) { return (vdm)(a & b); }
VEC_FN vdm vdm_or(vdm a, vdm b) { return (vdm)(a | b); }
VEC_FN uint32_t vdm_bits(vdm a) { return (uint32_t)a; }
VEC_FN vd vd_select(vdm m, vd a, vd b) { return _mm512_mask_blend_pd(m, b, a); }
VEC_FN double vd_hsum(vd a) { return _mm512_reduce_add_pd(a); }
VEC_FN double vd_hmax(vd a) { return _mm512_reduce_max_pd(a); }
VEC_FN vdi vd_bits(vd a) { return _mm512_castpd_si512(a); }
VEC_FN vd vdi_bits(vdi a) { return _mm512_castsi512_pd(a); }
VEC_FN vdi vdi_set1(int64_t c) { return _mm512_set1_epi64(c); }
VEC_FN vdi vdi_add(vdi a, vdi b) { return _mm512_add_epi64(a, b); }
VEC_FN vdi vdi_sub(vdi a, vdi b) { return _mm512_sub_epi64(a, b); }
VEC_FN vdi vdi_shl52(vdi a) { return _mm512_slli_epi64(a, 52); }
VEC_FN vdi vdi_srl52(vdi a) { return _mm512_srli_epi64(a, 52); }

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
typedef __m256d vdm;
typedef __m256i vdi;
VEC_FN __m256i vec_dfirst_(int64_t m)
{
    const int64_t k = m > 4 ? 4 : m;
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(k), _mm256_setr_epi64x(0, 1, 2, 3));
}
VEC_FN vdm vdm_first(int64_t m) { return _mm256_castsi256_pd(vec_dfirst_(m)); }
VEC_FN void vd_store_part(double *p, int64_t m, vd v) { _mm256_maskstore_pd(p, vec_dfirst_(m), v); }
VEC_FN void vd_stream(double *p, vd v) { _mm256_stream_pd(p, v); }
VEC_FN vd vd_div(vd a, vd b) { return _mm256_div_pd(a, b); }
VEC_FN vd vd_fnma(vd a, vd b, vd c) { return _mm256_fnmadd_pd(a, b, c); }
VEC_FN vd vd_min(vd a, vd b) { return _mm256_min_pd(a, b); }
VEC_FN vd vd_max(vd a, vd b) { return _mm256_max_pd(a, b); }
VEC_FN vd vd_sqrt(vd a) { return _mm256_sqrt_pd(a); }
VEC_FN vd vd_floor(vd a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
VEC_FN vd vd_ceil(vd a) { return _mm256_round_pd(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
VEC_FN vd vd_rint(vd a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
VEC_FN vd vd_and(vd a, vd b) { return _mm256_and_pd(a, b); }
VEC_FN vd vd_or(vd a, vd b) { return _mm256_or_pd(a, b); }
VEC_FN vd vd_xor(vd a, vd b) { return _mm256_xor_pd(a, b); }
VEC_FN vd vd_andnot(vd a, vd b) { return _mm256_andnot_pd(a, b); }
VEC_FN vdm vd_lt(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
VEC_FN vdm vd_le(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_LE_OQ); }
VEC_FN vdm vd_gt(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
VEC_FN vdm vd_eq(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_EQ_OQ); }
VEC_FN vdm vd_nlt(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_NLT_UQ); }
VEC_FN vdm vd_ngt(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_NGT_UQ); }
VEC_FN vdm vd_isnan(vd a) { return _mm256_cmp_pd(a, a, _CMP_UNORD_Q); }
VEC_FN vdm vdm_and(vdm a, vdm b) { return _mm256_and_pd(a, b); }
VEC_FN vdm vdm_or(vdm a, vdm b) { return _mm256_or_pd(a, b); }
VEC_FN uint32_t vdm_bits(vdm a) { return (uint32_t)_mm256_movemask_pd(a); }
VEC_FN vd vd_select(vdm m, vd a, vd b) { return _mm256_blendv_pd(b, a, m); }
VEC_FN double vd_hsum(vd a)
{
    const __m128d s = _mm_add_pd(_mm256_extractf128_pd(a, 1), _mm256_castpd256_pd128(a));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
VEC_FN double vd_hmax(vd a)
{
    const __m128d s = _mm_max_pd(_mm256_extractf128_pd(a, 1), _mm256_castpd256_pd128(a));
    return _mm_cvtsd_f64(_mm_max_sd(s, _mm_unpackhi_pd(s, s)));
}
VEC_FN vdi vd_bits(vd a) { return _mm256_castpd_si256(a); }
VEC_FN vd vdi_bits(vdi a) { return _mm256_castsi256_pd(a); }
VEC_FN vdi vdi_set1(int64_t c) { return _mm256_set1_epi64x(c); }
VEC_FN vdi vdi_add(vdi a, vdi b) { return _mm256_add_epi64(a, b); }
VEC_FN vdi vdi_sub(vdi a, vdi b) { return _mm256_sub_epi64(a, b); }
VEC_FN vdi vdi_shl52(vdi a) { return _mm256_slli_epi64(a, 52); }
VEC_FN vdi vdi_srl52(vdi a) { return _mm256_srli_epi64(a, 52); }

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
typedef int vdm;
typedef int64_t vdi;
VEC_FN vdm vdm_first(int64_t m) { return m > 0; }
VEC_FN void vd_store_part(double *p, int64_t m, vd v) { if (m > 0) *p = v; }
VEC_FN void vd_stream(double *p, vd v) { *p = v; }
VEC_FN vd vd_div(vd a, vd b) { return a / b; }
VEC_FN vd vd_fnma(vd a, vd b, vd c) { return c - a * b; }
VEC_FN vd vd_min(vd a, vd b) { return a < b ? a : b; }
VEC_FN vd vd_max(vd a, vd b) { return a > b ? a : b; }
VEC_FN vd vd_sqrt(vd a) { return sqrt(a); }
VEC_FN vd vd_floor(vd a) { return floor(a); }
VEC_FN vd vd_ceil(vd a) { return ceil(a); }
VEC_FN vd vd_rint(vd a) { return rint(a); }
VEC_FN uint64_t vec_du_(vd a) { uint64_t u; memcpy(&u, &a, 8); return u; }
VEC_FN vd vec_df_(uint64_t u) { vd a; memcpy(&a, &u, 8); return a; }
VEC_FN vd vd_and(vd a, vd b) { return vec_df_(vec_du_(a) & vec_du_(b)); }
VEC_FN vd vd_or(vd a, vd b) { return vec_df_(vec_du_(a) | vec_du_(b)); }
VEC_FN vd vd_xor(vd a, vd b) { return vec_df_(vec_du_(a) ^ vec_du_(b)); }
VEC_FN vd vd_andnot(vd a, vd b) { return vec_df_(~vec_du_(a) & vec_du_(b)); }
VEC_FN vdm vd_lt(vd a, vd b) { return __builtin_isless(a, b); }
VEC_FN vdm vd_le(vd a, vd b) { return __builtin_islessequal(a, b); }
VEC_FN vdm vd_gt(vd a, vd b) { return __builtin_isgreater(a, b); }
VEC_FN vdm vd_eq(vd a, vd b) { return a == b; }
VEC_FN vdm vd_nlt(vd a, vd b) { return !__builtin_isless(a, b); }
VEC_FN vdm vd_ngt(vd a, vd b) { return !__builtin_isgreater(a, b); }
VEC_FN vdm vd_isnan(vd a) { return a != a; }
VEC_FN vdm vdm_and(vdm a, vdm b) { return a & b; }
VEC_FN vdm vdm_or(vdm a, vdm b) { return a | b; }
VEC_FN uint32_t vdm_bits(vdm a) { return a ? 1u : 0u; }
VEC_FN vd vd_select(vdm m, vd a, vd b) { return m ? a : b; }
VEC_FN double vd_hsum(vd a) { return a; }
VEC_FN double vd_hmax(vd a) { return a; }
VEC_FN vdi vd_bits(vd a) { return (vdi)vec_du_(a); }
VEC_FN vd vdi_bits(vdi a) { return vec_df_((uint64_t)a); }
VEC_FN vdi vdi_set1(int64_t c) { return c; }
/* int64 lane arithmetic wraps (through uint64: no signed overflow) */
VEC_FN vdi vdi_add(vdi a, vdi b) { return (vdi)((uint64_t)a + (uint64_t)b); }
VEC_FN vdi vdi_sub(vdi a, vdi b) { return (vdi)((uint64_t)a - (uint64_t)b); }
VEC_FN vdi vdi_shl52(vdi a) { return (vdi)((uint64_t)a << 52); }
VEC_FN vdi vdi_srl52(vdi a) { return (vdi)((uint64_t)a >> 52); }

#else
#error "AGC_VEC_ISA: unknown ISA"
#endif

#define VC(c) vf_set1(c)

/* ================================================================ derived */
VEC_FN vf vf_abs(vf a) { return vf_andnot(VC(-0.0f), a); }
VEC_FN vf vf_neg(vf a) { return vf_xor(a, VC(-0.0f)); }
VEC_FN vf vf_signbit(vf a) { return vf_and(a, VC(-0.0f)); }
#define VD(c) vd_set1(c)
VEC_FN vd vd_abs(vd a) { return vd_andnot(VD(-0.0), a); }
VEC_FN vd vd_neg(vd a) { return vd_xor(a, VD(-0.0)); }
VEC_FN vd vd_signbit(vd a) { return vd_and(a, VD(-0.0)); }

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

/* Double lanes by element type, for bodies written once for float32 and float64 (token-pasted
 * suffix f32 / f64): vd_ld_ loads VD_W elements as doubles (float32 widened), vd_ldp_ the first m
 * (the other lanes 0); vd_stp_ stores the first m <= VD_W lanes rounded to the type, through a
 * scratch unless the vector is whole, so nothing past p[m) is written. */
VEC_FN vd vd_ld_f32(const float *p) { return vd_load_f32(p); }
VEC_FN vd vd_ld_f64(const double *p) { return vd_load(p); }
VEC_FN vd vd_ldp_f32(const float *p, int64_t m) { return vd_load_f32_part(p, m); }
VEC_FN vd vd_ldp_f64(const double *p, int64_t m) { return vd_load_part(p, m); }
VEC_FN void vd_stp_f64(double *p, int64_t m, vd v)
{
    if (m >= VD_W) {
        vd_store(p, v);
        return;
    }
    double t[VD_W];
    vd_store(t, v);
    for (int64_t j = 0; j < m; j++) p[j] = t[j];
}
VEC_FN void vd_stp_f32(float *p, int64_t m, vd v)
{
    if (m >= VD_W) {
        vd_store_f32(p, v);
        return;
    }
    float t[VD_W];
    vd_store_f32(t, v);
    for (int64_t j = 0; j < m; j++) p[j] = t[j];
}

/* 2^n for integer lanes n in [-126, 127], built in the exponent field */
VEC_FN vf vf_pow2i(vi n) { return vi_bits(vi_shl23(vi_add(n, vi_set1(127)))); }

/* v 2^n for lanes n holding integers in [-252, 252] (as floats), rounded once, also into the
 * subnormal range; v 2^(n/2) must be a normal float (true for every use here: |v| is within a few
 * binades of 1). AVX-512 has the instruction (vscalefps); the other instances apply 2^n as two exact
 * power-of-two factors, the first of which cannot round. Both are the correctly rounded v 2^n, so
 * the instances agree bitwise. */
#if AGC_VEC_ISA == AGC_VEC_AVX512 && AGC_NATIVE_AVX512
#define VEC_HAVE_SCALEF 1
VEC_FN vf vf_scale(vf v, vf n) { return _mm512_scalef_ps(v, n); }
#else
VEC_FN vf vf_scale(vf v, vf n)
{
    const vf shifter = VC(12582912.0f);
    vi ni = vi_sub(vf_bits(vf_add(n, shifter)), vf_bits(shifter));
    vi n1 = vi_sra1(ni);
    return vf_mul(vf_mul(v, vf_pow2i(n1)), vf_pow2i(vi_sub(ni, n1)));
}
#endif

/* tbl[j & 15] per lane, tbl 64-byte aligned (a 16-entry table: one permute on AVX-512, two and a
 * blend on AVX2); vec_bits21_(v): v's representation shifted right by 21 (at least bits 21-24) */
#if AGC_VEC_ISA == AGC_VEC_AVX512 && AGC_NATIVE_AVX512
VEC_FN vf vf_lookup16(const float *tbl, vi j) { return _mm512_permutexvar_ps(j, _mm512_load_ps(tbl)); }
VEC_FN vi vec_bits21_(vf v) { return _mm512_srli_epi32(_mm512_castps_si512(v), 21); }
#elif AGC_VEC_ISA == AGC_VEC_AVX2
VEC_FN vf vf_lookup16(const float *tbl, vi j)
{
    __m256 lo = _mm256_permutevar8x32_ps(_mm256_load_ps(tbl), j);
    __m256 hi = _mm256_permutevar8x32_ps(_mm256_load_ps(tbl + 8), j);
    return _mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(j, 28)));
}
VEC_FN vi vec_bits21_(vf v) { return _mm256_srli_epi32(_mm256_castps_si256(v), 21); }
#else
VEC_FN vf vf_lookup16(const float *tbl, vi j)
{
    int32_t jj[VF_W];
    float r[VF_W];
    vf out;
    memcpy(jj, &j, sizeof jj);
    for (int l = 0; l < VF_W; l++) r[l] = tbl[jj[l] & 15];
    memcpy(&out, r, sizeof out);
    return out;
}
/* (bits << 2) >> 23: bits 21-29 */
VEC_FN vi vec_bits21_(vf v)
{
    vi b = vf_bits(v);
    b = vi_add(b, b);
    return vi_srl23(vi_add(b, b));
}
#endif

/* ================================================================ math */
/* exp: x = n ln2 + r, |r| <= ln2/2. Adding 1.5 * 2^23 rounds x / ln2 to the integer n (one FMA, so
 * x / ln2 is not rounded first). ln2 is split in a 9-bit head, so that x - n ln2_hi is exact for
 * every n here, and a tail. e^r by a degree-6 minimax polynomial (relative error < 1.9e-9 on
 * |r| <= ln2/2; its constant and linear coefficients are exactly 1), and 2^n applied by vf_scale,
 * which rounds once into the subnormal range and keeps 2^128 * (e^r < 1) finite. x is clamped to
 * [-104, 89] (below, the result rounds to 0; above, it overflows to inf); the constant-first min/max
 * keep a NaN x. Without vscalefps (AVX2, portable, the emulation) vf_scale costs two multiplies and
 * the conversions: when every lane lies in (-87, 88] (the usual case: softmax, sigmoid, tanh
 * arguments), e^x is a normal float, the clamp changes nothing and p 2^n is exact however it is
 * formed, so one integer add into p's exponent field gives vf_scale's bits with fewer instructions.
 * Either way a lane's bits never depend on its neighbours. Measured on AVX2, one thread, 1M float32:
 * 0.43 -> 0.26 ms with this path (tanh 0.88 -> 0.66, softmax 4096 x 1024 2.65 -> 1.78 with
 * softmax_vec.h's four max chains), before the degree-6 polynomial. */
VEC_FN vf vec_exp_poly_(vf r)
{
    vf p = VC(0.00138368353f);
    p = vf_fma(p, r, VC(0.00837482419f));
    p = vf_fma(p, r, VC(0.0416682251f));
    p = vf_fma(p, r, VC(0.166664198f));
    p = vf_fma(p, r, VC(0.499999911f));
    p = vf_fma(p, r, VC(1.0f));
    return vf_fma(p, r, VC(1.0f));
}

VEC_FN vf vf_exp(vf x)
{
    const vf shifter = VC(12582912.0f);
#ifdef VEC_HAVE_SCALEF
    const int wide = 1; /* vscalefps costs no more than the exponent add: one path */
#else
    const int wide = vm_bits(vm_or(vf_nlt(VC(-87.0f), x), vf_gt(x, VC(88.0f)))) != 0;
#endif
    if (wide) x = vf_min(VC(89.0f), vf_max(VC(-104.0f), x));
    vf k = vf_fma(x, VC(1.44269504088896341f), shifter);
    vf n = vf_sub(k, shifter);
    vf r = vf_fnma(n, VC(0.693359375f), x);
    r = vf_fnma(n, VC(-2.12194440054690583e-4f), r);
    vf p = vec_exp_poly_(r);
    if (!wide) return vi_bits(vi_add(vf_bits(p), vi_shl23(vi_sub(vf_bits(k), vf_bits(shifter)))));
    return vf_scale(p, n);
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

/* The normal cdf's tail Phi(-u) = exp(-u^2 / 2) S(u) for u >= 0 (NaN stays NaN), in parts: returns
 * e^r and sets *s = S(u), *n such that exp(-u^2 / 2) = e^r 2^n (the callers round the product once
 * with vf_scale, so results that underflow into the subnormals round once too).
 * S(u) = erfcx(u / sqrt 2) / 2 by 16 degree-5 minimax fits (relative error, centred on their
 * pieces), without a division: the pieces are the quarters of each binade of u + 1 on [1, 16), so
 * bits 21-24 of u + 1 index the tables (vf_lookup16). Relative error of S < 1.4e-7 as evaluated in
 * float32 on [0, 13.2]; beyond, the tail is below FLT_MIN and only its absolute accuracy counts. (The
 * single fit of S in t = 1 / (1 + 0.45 u) needs a division and nine FMAs; measured 12% slower
 * in gelu on Zen 5, whose 512-bit division is slow.) -u^2 / 2 = hi - lo exactly (lo by an FMA), and the exp
 * reduction subtracts lo from r: with one rounded u^2 the error would grow like u^2 ulp. u is
 * clamped to 14.5 (still in the last piece), where the tail and exp(-u^2 / 2) round to 0 (so
 * gelu(-inf) = -inf * 0 = NaN, as the portable loop's erfc formula gives). */
static const float vec_phi_tab_[7][16] __attribute__((aligned(64))) = {
    /* each piece's centre, then its coefficients c0 .. c5 of (u - centre)^k */
    {1.25f, 1.75f, 2.25f, 2.75f, 3.5f, 4.5f, 5.5f, 6.5f, 8.0f, 10.0f, 12.0f, 14.0f, 0.125f, 0.375f, 0.625f,
     0.875f},
    {0.230760321f, 0.185231671f, 0.153651938f, 0.130724728f, 0.106345162f, 0.084803395f, 0.0703426972f,
     0.0600156747f, 0.0491225496f, 0.0395066962f, 0.0330189727f, 0.0283526611f, 0.453793228f, 0.379604429f,
     0.323356181f, 0.279770583f},
    {-0.110491879f, -0.0747868642f, -0.0532254204f, -0.0394492634f, -0.0267342422f, -0.0173270162f,
     -0.0120574636f, -0.00884039048f, -0.00596191082f, -0.0038753394f, -0.00271462742f, -0.00200503296f,
     -0.342218131f, -0.256590605f, -0.196844682f, -0.154143035f},
    {0.0463213995f, 0.027176816f, 0.0169471614f, 0.0111195398f, 0.00638715876f, 0.00341577479f,
     0.00201327889f, 0.00127655163f, 0.000713556539f, 0.000376632583f, 0.00022171544f, 0.000141097262f,
     0.205506936f, 0.14169091f, 0.100163803f, 0.0724475235f},
    {-0.0175293814f, -0.00907546189f, -0.00503125321f, -0.00295674498f, -0.00145908503f, -0.000651788432f,
     -0.00032805666f, -0.000180897667f, -8.42818845e-05f, -3.62778846e-05f, -1.79926683e-05f,
     -9.88159354e-06f, -0.105509967f, -0.0678187907f, -0.0447473638f, -0.0302504208f},
    {0.00615967624f, 0.00284539862f, 0.00141563977f, 0.000751071086f, 0.00032540274f, 0.00012213664f,
     5.27143857e-05f, 2.53549806e-05f, 1.00246416e-05f, 3.51060476e-06f, 1.46496211e-06f, 6.93747097e-07f,
     0.0482581854f, 0.029161863f, 0.0181034952f, 0.0115257856f},
    {-0.00199307641f, -0.000831486832f, -0.000375069299f, -0.000181201365f, -6.86696076e-05f,
     -2.19664616e-05f, -8.20949663e-06f, -3.46797083e-06f, -1.15341766e-06f, -3.32189046e-07f,
     -1.17376437e-07f, -4.81225086e-08f, -0.0199398343f, -0.0114059839f, -0.00670576748f, -0.0040456634f},
};

VEC_FN vf vec_phi_tail_(vf u, vf *s, vf *n)
{
    u = vf_min(VC(14.5f), u);
    vi j = vec_bits21_(vf_add(u, VC(1.0f)));
    vf w = vf_sub(u, vf_lookup16(vec_phi_tab_[0], j));
    vf p = vf_lookup16(vec_phi_tab_[6], j);
    p = vf_fma(p, w, vf_lookup16(vec_phi_tab_[5], j));
    p = vf_fma(p, w, vf_lookup16(vec_phi_tab_[4], j));
    p = vf_fma(p, w, vf_lookup16(vec_phi_tab_[3], j));
    p = vf_fma(p, w, vf_lookup16(vec_phi_tab_[2], j));
    *s = vf_fma(p, w, vf_lookup16(vec_phi_tab_[1], j));
    vf h = vf_mul(u, VC(-0.5f));
    vf hi = vf_mul(h, u);
    vf lo = vf_fnma(h, u, hi); /* hi - h u, exact */
    const vf shifter = VC(12582912.0f);
    vf k = vf_sub(vf_fma(hi, VC(1.44269504088896341f), shifter), shifter);
    vf r = vf_fnma(k, VC(0.693359375f), hi);
    r = vf_sub(vf_fnma(k, VC(-2.12194440054690583e-4f), r), lo);
    *n = k;
    return vec_exp_poly_(r);
}

/* Phi(-u) for 0 <= u < 4.125 without exp: 16 pieces centred at j / 3.75, each a degree-6 minimax fit
 * for the relative error in w = 3.75 u - j, |w| <= 1/2 (< 4e-9; about 1.3 ulp as evaluated). j is
 * 3.75 u rounded by the 1.5 * 2^23 shifter and read from the low bits of the sum; w comes from one
 * FMA, so its rounding is relative to w, not to u (a rounded 3.75 u would cost u^2 ulp). */
static const float vec_phi_near_tab_[7][16] __attribute__((aligned(64))) = {
    /* coefficients c0 .. c6 of w^k, piece j in column j */
    {0.5f, 0.39486292f, 0.296901435f, 0.211855397f, 0.143061191f, 0.0912112221f, 0.0547992922f,
     0.0309740752f, 0.0164486952f, 0.00819753576f, 0.0038303805f, 0.00167671824f, 0.000687137945f,
     0.000263477472f, 9.44811254e-05f, 3.16712431e-05f},
    {-0.106384605f, -0.102668501f, -0.0922810361f, -0.0772510841f, -0.0602300875f, -0.0437360182f,
     -0.0295788888f, -0.0186312199f, -0.0109299347f, -0.00597187458f, -0.00303892954f, -0.00144028163f,
     -0.000635756878f, -0.000261367473f, -0.000100075747f, -3.56880628e-05f},
    {1.06074878e-10f, 0.00365043571f, 0.00656220736f, 0.0082401149f, 0.00856605638f, 0.00777529227f,
     0.00631016307f, 0.00463710353f, 0.00310895941f, 0.001911f, 0.00108050834f, 0.000563310168f,
     0.000271256256f, 0.00012080984f, 4.98154659e-05f, 1.90336214e-05f},
    {0.00126084837f, 0.00113027822f, 0.000782602758f, 0.000329606963f, -9.83467762e-05f, -0.000403159385f,
     -0.000546878669f, -0.000548601092f, -0.000460011943f, -0.000336903613f, -0.00022010463f,
     -0.000129808453f, -6.96225688e-05f, -3.41295527e-05f, -1.53451256e-05f, -6.34441722e-06f},
    {-1.13137955e-09f, -6.33587551e-05f, -0.00010559964f, -0.000115238108f, -9.45280699e-05f,
     -5.63135472e-05f, -1.64526646e-05f, 1.33117937e-05f, 2.85760143e-05f, 3.12545853e-05f, 2.63228612e-05f,
     1.87080932e-05f, 1.16378715e-05f, 6.45603131e-06f, 3.22900655e-06f, 1.46641219e-06f},
    {-1.33994381e-05f, -1.11172949e-05f, -5.33427556e-06f, 1.3821367e-06f, 6.39263453e-06f, 8.27349231e-06f,
     7.2202256e-06f, 4.52527775e-06f, 1.66434347e-06f, -3.95577644e-07f, -1.38719963e-06f, -1.53769611e-06f,
     -1.24250653e-06f, -8.30331999e-07f, -4.80459676e-07f, -2.46181571e-07f},
    {3.01687209e-09f, 7.32187914e-07f, 1.12373959e-06f, 1.03703326e-06f, 5.86525971e-07f, 3.91021295e-08f,
     -3.58592189e-07f, -4.99731641e-07f, -4.2518289e-07f, -2.50626584e-07f, -8.27767934e-08f,
     2.41145539e-08f, 6.636607e-08f, 6.62153425e-08f, 4.85113532e-08f, 2.93896782e-08f},
};

VEC_FN vf vec_phi_near_(vf u)
{
    const vf shifter = VC(12582912.0f);
    vf k = vf_fma(u, VC(3.75f), shifter);
    vi j = vf_bits(k);
    vf w = vf_fma(u, VC(3.75f), vf_sub(shifter, k));
    vf p = vf_lookup16(vec_phi_near_tab_[6], j);
    p = vf_fma(p, w, vf_lookup16(vec_phi_near_tab_[5], j));
    p = vf_fma(p, w, vf_lookup16(vec_phi_near_tab_[4], j));
    p = vf_fma(p, w, vf_lookup16(vec_phi_near_tab_[3], j));
    p = vf_fma(p, w, vf_lookup16(vec_phi_near_tab_[2], j));
    p = vf_fma(p, w, vf_lookup16(vec_phi_near_tab_[1], j));
    return vf_fma(p, w, vf_lookup16(vec_phi_near_tab_[0], j));
}

/* gelu(x) = x Phi(x), Phi(x) = Phi(-|x|) for x < 0 (relative accuracy where gelu is tiny) and
 * 1 - Phi(-|x|) above (no cancellation: Phi(-|x|) <= 1/2). Lanes with |x| < 4.125 take
 * vec_phi_near_, the others the exp form, where x < 0 rounds x S e^r 2^n once (Phi alone would be
 * subnormal below x = -13.04 while gelu is not). A vector whose lanes are all near skips the exp
 * form (about 40% of gelu's instructions); each lane's formula depends on its own |x| only, so the
 * bits do not depend on the neighbours. gelu(-inf) = -inf * 0 = NaN, as in the portable loop; a NaN
 * x gives x's own bits. */
VEC_FN vf vf_gelu(vf x)
{
    vf u = vf_abs(x);
    vf tail = vec_phi_near_(u);
    vm neg = vf_lt(x, vf_zero());
    vf r = vf_mul(x, vf_select(neg, tail, vf_sub(VC(1.0f), tail)));
    vm near = vf_lt(u, VC(4.125f));
    if (vm_bits(near) != (uint32_t)((1ull << VF_W) - 1)) {
        vf s, n;
        vf se = vec_phi_tail_(u, &s, &n);
        se = vf_mul(s, se);
        /* below -14.5 gelu rounds to -0: x * 0 (NaN for -inf); the clamped tail times x would not */
        vf fneg = vf_select(vf_lt(u, VC(14.5f)), vf_scale(vf_mul(x, se), n), vf_mul(x, vf_zero()));
        vf far = vf_select(neg, fneg, vf_mul(x, vf_sub(VC(1.0f), vf_scale(se, n))));
        r = vf_select(near, r, vf_select(vf_isnan(x), x, far));
    }
    return r;
}

/* gelu'(x) = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi), sharing the exp with the tail */
VEC_FN vf vf_gelu_grad(vf x)
{
    vf s, n;
    vf e = vec_phi_tail_(vf_abs(x), &s, &n);
    e = vf_scale(e, n);
    vf tail = vf_mul(s, e);
    vf cdf = vf_select(vf_lt(x, vf_zero()), tail, vf_sub(VC(1.0f), tail));
    /* NaN: x's own bits, whichever operand order the compiler picks for the NaN arithmetic */
    return vf_select(vf_isnan(x), x, vf_fma(x, vf_mul(e, VC(0.39894228040143267794f)), cdf));
}


/* ================================================================ double-lane math */
/* Adding 1.5 * 2^52 to a double of magnitude below 2^51 rounds it to an integer held in the low
 * mantissa bits: the shifter of the double reductions. */
#define VEC_DSHIFT 6755399441055744.0

/* 2^n for lanes n holding integers in [-1022, 1023] (as doubles), built in the exponent field */
VEC_FN vd vec_pow2d_(vd n)
{
    vdi e = vdi_sub(vd_bits(vd_add(n, VD(VEC_DSHIFT + 1023))), vd_bits(VD(VEC_DSHIFT)));
    return vdi_bits(vdi_shl52(e));
}

/* v 2^n for lanes n holding integers in [-2044, 2046], rounded once (into the subnormals too); v 2^(n/2)
 * must be a normal double (|v| is within a binade of 1 in every use). vscalefpd where AVX-512 has it,
 * elsewhere two exact power-of-two factors, the first of which cannot round: both the correctly
 * rounded v 2^n, so the instances agree bitwise. */
#if AGC_VEC_ISA == AGC_VEC_AVX512 && AGC_NATIVE_AVX512
VEC_FN vd vd_scale(vd v, vd n) { return _mm512_scalef_pd(v, n); }
#else
VEC_FN vd vd_scale(vd v, vd n)
{
    vd n1 = vd_floor(vd_mul(n, VD(0.5)));
    return vd_mul(vd_mul(v, vec_pow2d_(n1)), vec_pow2d_(vd_sub(n, n1)));
}
#endif

/* e^r - 1 - r over r^2 for |r| <= ln2/2: the Taylor terms 1/2! .. 1/13! (the first omitted term,
 * r^12 / 14!, is below 2^-57 relative to the sum) */
VEC_FN vd vec_expm1_poly_d_(vd r)
{
    vd p = VD(1.0 / 6227020800.0);
    p = vd_fma(p, r, VD(1.0 / 479001600.0));
    p = vd_fma(p, r, VD(1.0 / 39916800.0));
    p = vd_fma(p, r, VD(1.0 / 3628800.0));
    p = vd_fma(p, r, VD(1.0 / 362880.0));
    p = vd_fma(p, r, VD(1.0 / 40320.0));
    p = vd_fma(p, r, VD(1.0 / 5040.0));
    p = vd_fma(p, r, VD(1.0 / 720.0));
    p = vd_fma(p, r, VD(1.0 / 120.0));
    p = vd_fma(p, r, VD(1.0 / 24.0));
    p = vd_fma(p, r, VD(1.0 / 6.0));
    return vd_fma(p, r, VD(0.5));
}

/* x = n ln2 + r, |r| <= ln2/2: n by the shifter (one FMA: x / ln2 is not rounded first); ln2 in a
 * 31-bit head (n ln2_hi exact for |n| < 2^22) and a tail, so r is x - n ln2 with one rounding */
VEC_FN vd vec_reduce_ln2_d_(vd x, vd *n)
{
    vd k = vd_fma(x, VD(1.4426950408889634074), VD(VEC_DSHIFT));
    *n = vd_sub(k, VD(VEC_DSHIFT));
    vd r = vd_fnma(*n, VD(6.93147180369123816490e-01), x);
    return vd_fnma(*n, VD(1.90821492927058770002e-10), r);
}

/* exp: e^r = 1 + r (1 + r P(r)) (Taylor to r^13, rounded once at the end), 2^n applied by vd_scale
 * (one rounding into the subnormals; 2^1024 * (e^r < 1) stays finite). x is clamped to [-746, 710]:
 * below, e^x rounds to 0; above, it overflows to inf; the constant-first min/max keep a NaN x. As in
 * vf_exp, without vscalefpd a vector whose lanes all lie in (-707, 709] (e^x normal) adds n into p's
 * exponent field instead: the same exact product, fewer instructions; a lane's bits never depend on
 * its neighbours. */
VEC_FN vd vd_exp(vd x)
{
#ifdef VEC_HAVE_SCALEF
    const int wide = 1;
#else
    const int wide = vdm_bits(vdm_or(vd_nlt(VD(-707.0), x), vd_gt(x, VD(709.0)))) != 0;
#endif
    if (wide) x = vd_min(VD(710.0), vd_max(VD(-746.0), x));
    vd k = vd_fma(x, VD(1.4426950408889634074), VD(VEC_DSHIFT));
    vd n = vd_sub(k, VD(VEC_DSHIFT));
    vd r = vd_fnma(n, VD(6.93147180369123816490e-01), x);
    r = vd_fnma(n, VD(1.90821492927058770002e-10), r);
    vd p = vd_fma(vd_fma(vec_expm1_poly_d_(r), r, VD(1.0)), r, VD(1.0));
    if (!wide) return vdi_bits(vdi_add(vd_bits(p), vdi_shl52(vdi_sub(vd_bits(k), vd_bits(VD(VEC_DSHIFT))))));
    return vd_scale(p, n);
}

/* e^u - 1 for 0 <= u <= 40 (NaN stays NaN): 2^n (e^r - 1) + (2^n - 1), one rounding at the end;
 * for u < ln2/2 (n = 0) it is e^r - 1 itself, relative accuracy down to the subnormals */
VEC_FN vd vec_expm1_pos_d_(vd u)
{
    vd n;
    vd r = vec_reduce_ln2_d_(u, &n);
    vd q = vd_fma(vd_mul(vec_expm1_poly_d_(r), r), r, r);
    vd t = vec_pow2d_(n);
    return vd_fma(t, q, vd_sub(t, VD(1.0)));
}

/* log: x = 2^e m with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m - 1) / (m + 1),
 * |s| < 0.172, by its odd series to s^23 (truncation < 2^-60 relative); e ln2 added in two parts.
 * Subnormal inputs are scaled by 2^52 first. The exponent field becomes a double by OR-ing it into
 * 2^52's mantissa (AVX2 has no int64 -> double conversion). */
VEC_FN vd vd_log(vd x)
{
    const vd two52 = VD(4503599627370496.0);
    vdm sub = vd_lt(x, VD(2.2250738585072014e-308));
    vd xs = vd_select(sub, vd_mul(x, two52), x);
    vd eadj = vd_select(sub, VD(52.0), vd_zero());
    vd eb = vd_sub(vd_or(vdi_bits(vdi_srl52(vd_bits(xs))), two52), VD(4503599627370496.0 + 1023));
    vd m = vd_or(vd_and(xs, vdi_bits(vdi_set1(0x000FFFFFFFFFFFFFLL))), VD(1.0));
    vdm big = vd_gt(m, VD(1.4142135623730951));
    m = vd_select(big, vd_mul(m, VD(0.5)), m);
    vd e = vd_sub(vd_add(eb, vd_select(big, VD(1.0), vd_zero())), eadj);
    vd f = vd_sub(m, VD(1.0));
    vd s = vd_div(f, vd_add(f, VD(2.0)));
    vd t = vd_add(s, s);
    vd z = vd_mul(s, s);
    vd q = VD(1.0 / 23);
    q = vd_fma(q, z, VD(1.0 / 21));
    q = vd_fma(q, z, VD(1.0 / 19));
    q = vd_fma(q, z, VD(1.0 / 17));
    q = vd_fma(q, z, VD(1.0 / 15));
    q = vd_fma(q, z, VD(1.0 / 13));
    q = vd_fma(q, z, VD(1.0 / 11));
    q = vd_fma(q, z, VD(1.0 / 9));
    q = vd_fma(q, z, VD(1.0 / 7));
    q = vd_fma(q, z, VD(1.0 / 5));
    q = vd_fma(q, z, VD(1.0 / 3));
    vd lm = vd_fma(vd_mul(t, z), q, t);
    vd r = vd_fma(e, VD(6.93147180369123816490e-01), vd_fma(e, VD(1.90821492927058770002e-10), lm));
    /* log(+inf) = inf, log(0) = -inf, log(x < 0) = log(NaN) = NaN */
    r = vd_select(vd_eq(x, VD(INFINITY)), VD(INFINITY), r);
    r = vd_select(vd_eq(x, vd_zero()), VD(-INFINITY), r);
    return vd_select(vd_le(vd_zero(), x), r, VD(NAN));
}

/* sigmoid = num / (1 + e) with e = exp(-|x|) <= 1 (never overflows) and num = 1 (x >= 0) or e */
VEC_FN vd vd_sigmoid(vd x)
{
    vd e = vd_exp(vd_neg(vd_abs(x)));
    vd num = vd_select(vd_lt(x, vd_zero()), e, VD(1.0));
    return vd_div(num, vd_add(e, VD(1.0)));
}

/* tanh |x| = t / (t + 2), t = e^(2|x|) - 1: one formula for the whole range (relative accuracy for
 * tiny x from expm1's; the quotient's sensitivity to t's error is 2 / (t + 2) <= 1). 2|x| is
 * clamped to 40, where the quotient rounds to 1; the sign is x's (tanh(-0) = -0). */
VEC_FN vd vd_tanh(vd x)
{
    vd ax = vd_abs(x);
    vd t = vec_expm1_pos_d_(vd_min(VD(40.0), vd_add(ax, ax)));
    return vd_or(vd_div(t, vd_add(t, VD(2.0))), vd_signbit(x));
}

/* e^(hi + lo) = e^r 2^n for hi + lo <= 0 given as an exact sum (|lo| <= ulp(hi)): lo joins the reduced
 * argument, so the rounding of a square feeding hi costs nothing (it would cost about hi ulp). Returns
 * e^r, sets *n; the callers apply 2^n once, after their own products. */
VEC_FN vd vec_exp_parts_d_(vd hi, vd lo, vd *n)
{
    vd r = vd_add(vec_reduce_ln2_d_(hi, n), lo);
    return vd_fma(vd_fma(vec_expm1_poly_d_(r), r, VD(1.0)), r, VD(1.0));
}

/* erfcx(a) = e^(a^2) erfc(a) for finite a >= 0 as h(t) / (a + 4), t = (a - 4) / (a + 4) in [-1, 1):
 * h(t) = (a + 4) erfcx(a) is smooth up to t = 1 (a = inf, h = 1 / sqrt(pi)) and is fitted by two
 * degree-18 polynomials, in t + 1/2 on [-1, 0) and t - 1/2 on [0, 1] (truncated Chebyshev series of
 * relative error < 3e-19; the coefficients are picked per lane by selects, so no table lookups).
 * r = 1 / (a + 4) is rounded, and erfcx(a) changes by up to (a + 4) |erfcx' / erfcx| times r's relative
 * error (4 ulp near a = 0.5): so t is formed as 1 - 8 r, r is re-derived from t exactly (both steps
 * are exact by Sterbenz's lemma or powers of two), rho = 1 - r (a + 4) is computed exactly from the
 * rounded a + 4 and its two-sum error, and the result is moved from a' = 1 / r - 4 back to a by the
 * derivative erfcx' = 2 a erfcx - 2 / sqrt(pi), a' - a = rho / r. Measured: relative error below
 * 3.7 units of 2^-53 (Horner's rounding inside the pieces and the product h r). */
static const double vec_erfcx_tab_[2][19] = {
    {1.8727183681541615, -2.392788914024525, 2.3898481455404954, -1.8967512419429946, 1.1935987447528453,
     -0.5818202334554211, 0.20612173736489256, -0.0433644612143613, -0.0006291081322936081,
     0.003558247304963051, -0.0007291820319958122, -0.00018618617170863957, 9.171106369556517e-05,
     9.287055712164275e-06, -9.710165298801004e-06, -6.802957654972654e-07, 1.02822302351862e-06,
     8.358321761676525e-08, -9.794245596802341e-08},
    {0.7496675362383002, -0.48613064941128237, 0.2975271604740946, -0.17089990990084358, 0.09145440878018533,
     -0.04514108214964335, 0.020257927863506255, -0.008082037901680997, 0.0027547648807807633,
     -0.0007349204607233594, 0.00011191620687789421, 1.8635848874087864e-05, -1.9833000125183045e-05,
     6.309015111241196e-06, -1.6734559745049692e-07, -7.573384447093462e-07, 3.0160923826191715e-07,
     1.5781695935493462e-08, -4.260708730894149e-08},
};

VEC_FN vd vec_erfcx_d_(vd a)
{
    vd d = vd_add(a, VD(4.0));
    vdm big = vd_gt(a, VD(4.0));
    vd e = vd_sub(vd_select(big, VD(4.0), a), vd_sub(d, vd_select(big, a, VD(4.0)))); /* a + 4 - d */
    vd t = vd_fnma(VD(8.0), vd_div(VD(1.0), d), VD(1.0));
    vd r = vd_mul(vd_sub(VD(1.0), t), VD(0.125));
    vd rho = vd_sub(vd_fnma(d, r, VD(1.0)), vd_mul(r, e));
    vdm lo = vd_lt(t, vd_zero());
    vd w = vd_sub(t, vd_select(lo, VD(-0.5), VD(0.5)));
    vd p = vd_select(lo, VD(vec_erfcx_tab_[0][18]), VD(vec_erfcx_tab_[1][18]));
    for (int k = 17; k >= 0; k--) p = vd_fma(p, w, vd_select(lo, VD(vec_erfcx_tab_[0][k]), VD(vec_erfcx_tab_[1][k])));
    vd h = vd_mul(p, r);
    return vd_fnma(vd_fma(vd_add(a, a), h, VD(-1.1283791670955126)), vd_mul(rho, d), h);
}

/* erf: |x| < 1/2: x P(x^2), the Taylor series to x^25 (the first omitted term is below 2^-60 of the
 * sum, and the terms fall by 4 at least: no cancellation). Above: sign(x) (1 - erfc(|x|)),
 * erfc(a) = e^(-a^2) erfcx(a), with -a^2 carried as an exact hi + lo; a is clamped to 6, where
 * erfc < 2^-55 and erf rounds to 1 (erf(+-inf) = +-1). NaN stays x. */
VEC_FN vd vd_erf(vd x)
{
    vd ax = vd_abs(x);
    vd z = vd_mul(x, x);
    vd q = VD(9.422759064650411e-11);
    q = vd_fma(q, z, VD(-1.2290555301717928e-09));
    q = vd_fma(q, z, VD(1.4807192815879218e-08));
    q = vd_fma(q, z, VD(-1.6365844691234924e-07));
    q = vd_fma(q, z, VD(1.6462114365889248e-06));
    q = vd_fma(q, z, VD(-1.492565035840625e-05));
    q = vd_fma(q, z, VD(0.00012055332981789664));
    q = vd_fma(q, z, VD(-0.0008548327023450853));
    q = vd_fma(q, z, VD(0.005223977625442188));
    q = vd_fma(q, z, VD(-0.026866170645131252));
    q = vd_fma(q, z, VD(0.11283791670955126));
    q = vd_fma(q, z, VD(-0.37612638903183754));
    /* the OR keeps erf(-0) = -0 (the FMA's exact zero sum is +0) */
    vd small = vd_or(vd_fma(vd_mul(x, z), q, vd_mul(x, VD(1.1283791670955126))), vd_signbit(x));
    vd a = vd_min(ax, VD(6.0));
    vd hi = vd_mul(vd_neg(a), a);
    vd lo = vd_fnma(a, a, vd_neg(hi)); /* -a^2 - hi, exact */
    vd n;
    vd p = vec_exp_parts_d_(hi, lo, &n);
    vd ec = vd_mul(vd_mul(vec_erfcx_d_(a), p), vec_pow2d_(n)); /* e^-36 is normal: 2^n exact */
    vd large = vd_or(vd_sub(VD(1.0), ec), vd_signbit(x));
    vd r = vd_select(vd_lt(ax, VD(0.5)), small, large);
    return vd_select(vd_isnan(x), x, r);
}

/* The normal cdf's tail Phi(-u) = e^(-u^2 / 2) S(u), S(u) = erfcx(u / sqrt 2) / 2, for 0 <= u, u
 * clamped to 40 (where e^(-u^2 / 2) rounds to 0): returns e^r and sets *s = S(u), *n with
 * e^(-u^2 / 2) = e^r 2^n (callers round their product once with vd_scale, so results in the
 * subnormal range round once too). -u^2 / 2 = hi + lo exactly (h = -u / 2 is exact); the rounding
 * of u / sqrt 2 costs at most one unit (|a erfcx'(a) / erfcx(a)| < 1). */
VEC_FN vd vec_phi_tail_d_(vd u, vd *s, vd *n)
{
    u = vd_min(VD(40.0), u);
    *s = vd_mul(vec_erfcx_d_(vd_mul(u, VD(0.70710678118654752440))), VD(0.5));
    vd h = vd_mul(u, VD(-0.5));
    vd hi = vd_mul(h, u);
    return vec_exp_parts_d_(hi, vd_fnma(vd_neg(h), u, vd_neg(hi)), n); /* lo = h u - hi, exact */
}

/* gelu(x) = x Phi(x): Phi(-|x|) for x < 0, rounded once with x's factor and 2^n (relative accuracy
 * where gelu is tiny or subnormal), x (1 - Phi(-|x|)) above (no cancellation: Phi(-|x|) <= 1/2).
 * Below x = -40 gelu rounds to -0: x * 0 (NaN for -inf, as the portable loop's erfc formula gives);
 * NaN stays x. */
VEC_FN vd vd_gelu(vd x)
{
    vd u = vd_abs(x);
    vd s, n;
    vd se = vec_phi_tail_d_(u, &s, &n);
    se = vd_mul(s, se);
    vd fneg = vd_select(vd_lt(u, VD(40.0)), vd_scale(vd_mul(x, se), n), vd_mul(x, vd_zero()));
    vd fpos = vd_mul(x, vd_sub(VD(1.0), vd_scale(se, n)));
    vd r = vd_select(vd_lt(x, vd_zero()), fneg, fpos);
    return vd_select(vd_isnan(x), x, r);
}

/* gelu'(x) = Phi(x) + x phi(x), phi(x) = e^(-x^2 / 2) / sqrt(2 pi), sharing e^r with the tail. Both
 * terms are rounded once with their 2^n (so where they are subnormal, from x = -37.5, each is within
 * half a subnormal spacing) and then added; beyond |x| = 40 phi rounds to 0 and x phi is x * 0, so
 * gelu'(+-inf) = NaN (inf * 0), as in the portable loop. */
VEC_FN vd vd_gelu_grad(vd x)
{
    vd s, n;
    vd u = vd_abs(x);
    vd e = vec_phi_tail_d_(u, &s, &n);
    vd tail = vd_scale(vd_mul(s, e), n);
    vd xphi = vd_scale(vd_mul(x, vd_mul(e, VD(0.39894228040143267794))), n);
    xphi = vd_select(vd_lt(u, VD(40.0)), xphi, vd_mul(x, vd_zero())); /* the clamped e^r times x would not be 0 */
    vd cdf = vd_select(vd_lt(x, vd_zero()), tail, vd_sub(VD(1.0), tail));
    return vd_select(vd_isnan(x), x, vd_add(cdf, xphi));
}
