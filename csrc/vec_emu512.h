/* vec_emu512.h: vec.h's AVX-512 instance emulated on AVX2, for the test build only (AGC_EMU512=1, see
 * tools/emu512.sh). vf is 16 float lanes held as two __m256 (lanes 0-7 in lo, 8-15 in hi), vd 8 double
 * lanes as two __m256d, vm a 16-bit lane mask as in the native instance. Every kernel written on vec.h
 * (elementwise_vec.h, reduce_vec.h, nn_vec.h, softmax_vec.h) then compiles as its "avx512" instance
 * for an AVX2 target, so its 16-lane logic (tails, masks, the 64-logical-lane sum trees, the lane counts
 * of every loop) runs on any AVX2 machine, where the native instance cannot.
 *
 * Contract: each primitive gives, lane for lane, the bits of the native AVX-512 instruction it stands
 * for (the lane arithmetic is the same IEEE operation at either width; vf_hsum and vf_hmax follow the
 * order of GCC's _mm512_reduce_add_ps / _mm512_reduce_max_ps: halves, then quarters, then pairs), so an
 * emulated kernel's results equal the native AVX-512 kernel's bitwise. tools/emu512.sh checks that
 * where the CPU has AVX-512 and runs the tier tests of every family under the emulation.
 * Speed is no concern here. Included by vec.h only (it defines what vec.h's native section would). */
#ifndef AGC_VEC_H
#error "vec_emu512.h is included by vec.h"
#endif

#define VF_W 16
#define VEC_TARGET AGC_TARGET_AVX2
#define VEC_NAME(x) x##_avx512
#define VEC_FN static inline __attribute__((always_inline)) AGC_TARGET_AVX2
typedef struct {
    __m256 lo, hi;
} vf;
typedef struct {
    __m256i lo, hi;
} vi;
typedef uint16_t vm;

VEC_FN vf emu_vf_(__m256 lo, __m256 hi)
{
    vf r = {lo, hi};
    return r;
}
VEC_FN vi emu_vi_(__m256i lo, __m256i hi)
{
    vi r = {lo, hi};
    return r;
}
/* the 8 lane masks (all-ones lanes) of mask bits b[0..8) */
VEC_FN __m256i emu_lanes_(unsigned b)
{
    const __m256i sel = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)(b & 0xFFu)), sel), sel);
}
VEC_FN vm emu_bits_(__m256 lo, __m256 hi)
{
    return (vm)((unsigned)_mm256_movemask_ps(lo) | ((unsigned)_mm256_movemask_ps(hi) << 8));
}

#define EMU_F1(NAME, EXPR)                                                                            \
    VEC_FN vf NAME(vf a)                                                                              \
    {                                                                                                 \
        return emu_vf_(EXPR(a.lo), EXPR(a.hi));                                                       \
    }
#define EMU_F2(NAME, INTR)                                                                            \
    VEC_FN vf NAME(vf a, vf b)                                                                        \
    {                                                                                                 \
        return emu_vf_(INTR(a.lo, b.lo), INTR(a.hi, b.hi));                                           \
    }
#define EMU_F3(NAME, INTR)                                                                            \
    VEC_FN vf NAME(vf a, vf b, vf c)                                                                  \
    {                                                                                                 \
        return emu_vf_(INTR(a.lo, b.lo, c.lo), INTR(a.hi, b.hi, c.hi));                               \
    }
#define EMU_CMP(NAME, PRED)                                                                           \
    VEC_FN vm NAME(vf a, vf b)                                                                        \
    {                                                                                                 \
        return emu_bits_(_mm256_cmp_ps(a.lo, b.lo, PRED), _mm256_cmp_ps(a.hi, b.hi, PRED));           \
    }
#define EMU_I2(NAME, INTR)                                                                            \
    VEC_FN vi NAME(vi a, vi b)                                                                        \
    {                                                                                                 \
        return emu_vi_(INTR(a.lo, b.lo), INTR(a.hi, b.hi));                                           \
    }

VEC_FN vf vf_set1(float c) { return emu_vf_(_mm256_set1_ps(c), _mm256_set1_ps(c)); }
VEC_FN vf vf_zero(void) { return emu_vf_(_mm256_setzero_ps(), _mm256_setzero_ps()); }
VEC_FN vf vf_load(const float *p) { return emu_vf_(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)); }
VEC_FN void vf_store(float *p, vf v)
{
    _mm256_storeu_ps(p, v.lo);
    _mm256_storeu_ps(p + 8, v.hi);
}
/* a non-temporal store needs 32-byte alignment per half, which a 64-byte aligned pointer gives */
VEC_FN void vf_stream(float *p, vf v)
{
    _mm256_stream_ps(p, v.lo);
    _mm256_stream_ps(p + 8, v.hi);
}
VEC_FN vm vm_first(int64_t m) { return (vm)(m >= 16 ? 0xFFFFu : m <= 0 ? 0u : ((1u << m) - 1u)); }
VEC_FN vf vf_load_part(const float *p, int64_t m)
{
    const vm k = vm_first(m);
    return emu_vf_(_mm256_maskload_ps(p, emu_lanes_(k)), _mm256_maskload_ps(p + 8, emu_lanes_(k >> 8)));
}
VEC_FN void vf_store_part(float *p, int64_t m, vf v)
{
    const vm k = vm_first(m);
    _mm256_maskstore_ps(p, emu_lanes_(k), v.lo);
    _mm256_maskstore_ps(p + 8, emu_lanes_(k >> 8), v.hi);
}
EMU_F2(vf_add, _mm256_add_ps)
EMU_F2(vf_sub, _mm256_sub_ps)
EMU_F2(vf_mul, _mm256_mul_ps)
EMU_F2(vf_div, _mm256_div_ps)
EMU_F3(vf_fma, _mm256_fmadd_ps)
EMU_F3(vf_fnma, _mm256_fnmadd_ps)
EMU_F2(vf_min, _mm256_min_ps)
EMU_F2(vf_max, _mm256_max_ps)
EMU_F1(vf_sqrt, _mm256_sqrt_ps)
#define EMU_FLOOR_(x) _mm256_round_ps((x), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define EMU_CEIL_(x) _mm256_round_ps((x), _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC)
#define EMU_RINT_(x) _mm256_round_ps((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
EMU_F1(vf_floor, EMU_FLOOR_)
EMU_F1(vf_ceil, EMU_CEIL_)
EMU_F1(vf_rint, EMU_RINT_)
EMU_F2(vf_and, _mm256_and_ps)
EMU_F2(vf_or, _mm256_or_ps)
EMU_F2(vf_xor, _mm256_xor_ps)
EMU_F2(vf_andnot, _mm256_andnot_ps) /* ~a & b */
EMU_CMP(vf_lt, _CMP_LT_OQ)
EMU_CMP(vf_le, _CMP_LE_OQ)
EMU_CMP(vf_gt, _CMP_GT_OQ)
EMU_CMP(vf_eq, _CMP_EQ_OQ)
EMU_CMP(vf_nlt, _CMP_NLT_UQ)
EMU_CMP(vf_ngt, _CMP_NGT_UQ)
VEC_FN vm vf_isnan(vf a)
{
    return emu_bits_(_mm256_cmp_ps(a.lo, a.lo, _CMP_UNORD_Q), _mm256_cmp_ps(a.hi, a.hi, _CMP_UNORD_Q));
}
VEC_FN vm vm_and(vm a, vm b) { return (vm)(a & b); }
VEC_FN vm vm_or(vm a, vm b) { return (vm)(a | b); }
VEC_FN uint32_t vm_bits(vm a) { return (uint32_t)a; }
VEC_FN vf vf_select(vm m, vf a, vf b)
{
    return emu_vf_(_mm256_blendv_ps(b.lo, a.lo, _mm256_castsi256_ps(emu_lanes_(m))),
                   _mm256_blendv_ps(b.hi, a.hi, _mm256_castsi256_ps(emu_lanes_((unsigned)m >> 8))));
}
/* _mm512_reduce_add_ps's order: (hi + lo), its upper + lower 128 bits, then (0 + 2) + (1 + 3) */
VEC_FN float vf_hsum(vf a)
{
    const __m256 h = _mm256_add_ps(a.hi, a.lo);
    const __m128 q = _mm_add_ps(_mm256_extractf128_ps(h, 1), _mm256_castps256_ps128(h));
    float t[4];
    _mm_storeu_ps(t, q);
    return (t[0] + t[2]) + (t[1] + t[3]);
}
/* _mm512_reduce_max_ps's order, each step max(upper, lower) as maxps takes its operands */
VEC_FN float vf_hmax(vf a)
{
    const __m256 h = _mm256_max_ps(a.hi, a.lo);
    const __m128 q = _mm_max_ps(_mm256_extractf128_ps(h, 1), _mm256_castps256_ps128(h));
    const __m128 r = _mm_max_ps(q, _mm_shuffle_ps(q, q, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm_cvtss_f32(_mm_max_ps(r, _mm_shuffle_ps(r, r, _MM_SHUFFLE(0, 1, 0, 1))));
}
VEC_FN vi vf_bits(vf a) { return emu_vi_(_mm256_castps_si256(a.lo), _mm256_castps_si256(a.hi)); }
VEC_FN vf vi_bits(vi a) { return emu_vf_(_mm256_castsi256_ps(a.lo), _mm256_castsi256_ps(a.hi)); }
VEC_FN vi vi_set1(int32_t c) { return emu_vi_(_mm256_set1_epi32(c), _mm256_set1_epi32(c)); }
EMU_I2(vi_add, _mm256_add_epi32)
EMU_I2(vi_sub, _mm256_sub_epi32)
EMU_I2(vi_and, _mm256_and_si256)
EMU_I2(vi_or, _mm256_or_si256)
VEC_FN vi vi_sra1(vi a) { return emu_vi_(_mm256_srai_epi32(a.lo, 1), _mm256_srai_epi32(a.hi, 1)); }
VEC_FN vi vi_shl23(vi a) { return emu_vi_(_mm256_slli_epi32(a.lo, 23), _mm256_slli_epi32(a.hi, 23)); }
VEC_FN vi vi_srl23(vi a) { return emu_vi_(_mm256_srli_epi32(a.lo, 23), _mm256_srli_epi32(a.hi, 23)); }
VEC_FN vf vi_to_vf(vi a) { return emu_vf_(_mm256_cvtepi32_ps(a.lo), _mm256_cvtepi32_ps(a.hi)); }
VEC_FN void vec_sfence(void) { _mm_sfence(); }

#define VD_W 8
typedef struct {
    __m256d lo, hi;
} vd;
VEC_FN vd emu_vd_(__m256d lo, __m256d hi)
{
    vd r = {lo, hi};
    return r;
}
/* the 4 double-lane masks of mask bits b[0..4) */
VEC_FN __m256i emu_dlanes_(unsigned b)
{
    const __m256i sel = _mm256_setr_epi64x(1, 2, 4, 8);
    return _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x((long long)(b & 0xFu)), sel), sel);
}
/* the 4 float-lane masks (of 4) of mask bits b[0..4), for the widening loads */
VEC_FN __m128i emu_flanes4_(unsigned b)
{
    const __m128i sel = _mm_setr_epi32(1, 2, 4, 8);
    return _mm_cmpeq_epi32(_mm_and_si128(_mm_set1_epi32((int)(b & 0xFu)), sel), sel);
}
#define EMU_D2(NAME, INTR)                                                                            \
    VEC_FN vd NAME(vd a, vd b)                                                                        \
    {                                                                                                 \
        return emu_vd_(INTR(a.lo, b.lo), INTR(a.hi, b.hi));                                           \
    }
VEC_FN vd vd_zero(void) { return emu_vd_(_mm256_setzero_pd(), _mm256_setzero_pd()); }
VEC_FN vd vd_set1(double c) { return emu_vd_(_mm256_set1_pd(c), _mm256_set1_pd(c)); }
VEC_FN vd vd_load_f32(const float *p)
{
    return emu_vd_(_mm256_cvtps_pd(_mm_loadu_ps(p)), _mm256_cvtps_pd(_mm_loadu_ps(p + 4)));
}
VEC_FN vd vd_load_f32_part(const float *p, int64_t m)
{
    const vm k = vm_first(m < 8 ? m : 8);
    return emu_vd_(_mm256_cvtps_pd(_mm_maskload_ps(p, emu_flanes4_(k))),
                   _mm256_cvtps_pd(_mm_maskload_ps(p + 4, emu_flanes4_((unsigned)k >> 4))));
}
EMU_D2(vd_add, _mm256_add_pd)
EMU_D2(vd_sub, _mm256_sub_pd)
EMU_D2(vd_mul, _mm256_mul_pd)
VEC_FN vd vd_fma(vd a, vd b, vd c)
{
    return emu_vd_(_mm256_fmadd_pd(a.lo, b.lo, c.lo), _mm256_fmadd_pd(a.hi, b.hi, c.hi));
}
VEC_FN void vd_store(double *p, vd v)
{
    _mm256_storeu_pd(p, v.lo);
    _mm256_storeu_pd(p + 4, v.hi);
}
VEC_FN vd vd_load(const double *p) { return emu_vd_(_mm256_loadu_pd(p), _mm256_loadu_pd(p + 4)); }
VEC_FN vd vd_load_part(const double *p, int64_t m)
{
    const vm k = vm_first(m < 8 ? m : 8);
    return emu_vd_(_mm256_maskload_pd(p, emu_dlanes_(k)), _mm256_maskload_pd(p + 4, emu_dlanes_((unsigned)k >> 4)));
}
VEC_FN void vd_store_f32(float *p, vd v)
{
    _mm_storeu_ps(p, _mm256_cvtpd_ps(v.lo));
    _mm_storeu_ps(p + 4, _mm256_cvtpd_ps(v.hi));
}
typedef uint8_t vdm;
typedef struct {
    __m256i lo, hi;
} vdi;
VEC_FN vdi emu_vdi_(__m256i lo, __m256i hi)
{
    vdi r = {lo, hi};
    return r;
}
VEC_FN vdm emu_dbits_(__m256d lo, __m256d hi)
{
    return (vdm)((unsigned)_mm256_movemask_pd(lo) | ((unsigned)_mm256_movemask_pd(hi) << 4));
}
#define EMU_D1(NAME, EXPR)                                                                            \
    VEC_FN vd NAME(vd a)                                                                              \
    {                                                                                                 \
        return emu_vd_(EXPR(a.lo), EXPR(a.hi));                                                       \
    }
#define EMU_DCMP(NAME, PRED)                                                                          \
    VEC_FN vdm NAME(vd a, vd b)                                                                       \
    {                                                                                                 \
        return emu_dbits_(_mm256_cmp_pd(a.lo, b.lo, PRED), _mm256_cmp_pd(a.hi, b.hi, PRED));          \
    }
#define EMU_DI2(NAME, INTR)                                                                           \
    VEC_FN vdi NAME(vdi a, vdi b)                                                                     \
    {                                                                                                 \
        return emu_vdi_(INTR(a.lo, b.lo), INTR(a.hi, b.hi));                                          \
    }
VEC_FN vdm vdm_first(int64_t m) { return (vdm)(m >= 8 ? 0xFFu : m <= 0 ? 0u : ((1u << m) - 1u)); }
VEC_FN void vd_store_part(double *p, int64_t m, vd v)
{
    const vdm k = vdm_first(m);
    _mm256_maskstore_pd(p, emu_dlanes_(k), v.lo);
    _mm256_maskstore_pd(p + 4, emu_dlanes_((unsigned)k >> 4), v.hi);
}
VEC_FN void vd_stream(double *p, vd v)
{
    _mm256_stream_pd(p, v.lo);
    _mm256_stream_pd(p + 4, v.hi);
}
EMU_D2(vd_div, _mm256_div_pd)
EMU_D2(vd_min, _mm256_min_pd)
EMU_D2(vd_max, _mm256_max_pd)
EMU_D2(vd_and, _mm256_and_pd)
EMU_D2(vd_or, _mm256_or_pd)
EMU_D2(vd_xor, _mm256_xor_pd)
EMU_D2(vd_andnot, _mm256_andnot_pd) /* ~a & b */
VEC_FN vd vd_fnma(vd a, vd b, vd c)
{
    return emu_vd_(_mm256_fnmadd_pd(a.lo, b.lo, c.lo), _mm256_fnmadd_pd(a.hi, b.hi, c.hi));
}
EMU_D1(vd_sqrt, _mm256_sqrt_pd)
#define EMU_DFLOOR_(x) _mm256_round_pd((x), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define EMU_DCEIL_(x) _mm256_round_pd((x), _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC)
#define EMU_DRINT_(x) _mm256_round_pd((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
EMU_D1(vd_floor, EMU_DFLOOR_)
EMU_D1(vd_ceil, EMU_DCEIL_)
EMU_D1(vd_rint, EMU_DRINT_)
EMU_DCMP(vd_lt, _CMP_LT_OQ)
EMU_DCMP(vd_le, _CMP_LE_OQ)
EMU_DCMP(vd_gt, _CMP_GT_OQ)
EMU_DCMP(vd_eq, _CMP_EQ_OQ)
EMU_DCMP(vd_nlt, _CMP_NLT_UQ)
EMU_DCMP(vd_ngt, _CMP_NGT_UQ)
VEC_FN vdm vd_isnan(vd a)
{
    return emu_dbits_(_mm256_cmp_pd(a.lo, a.lo, _CMP_UNORD_Q), _mm256_cmp_pd(a.hi, a.hi, _CMP_UNORD_Q));
}
VEC_FN vdm vdm_and(vdm a, vdm b) { return (vdm)(a & b); }
VEC_FN vdm vdm_or(vdm a, vdm b) { return (vdm)(a | b); }
VEC_FN uint32_t vdm_bits(vdm a) { return (uint32_t)a; }
VEC_FN vd vd_select(vdm m, vd a, vd b)
{
    return emu_vd_(_mm256_blendv_pd(b.lo, a.lo, _mm256_castsi256_pd(emu_dlanes_(m))),
                   _mm256_blendv_pd(b.hi, a.hi, _mm256_castsi256_pd(emu_dlanes_((unsigned)m >> 4))));
}
/* _mm512_reduce_add_pd's order: (hi + lo), its upper + lower 128 bits, then lane 0 + lane 1 */
VEC_FN double vd_hsum(vd a)
{
    const __m256d h = _mm256_add_pd(a.hi, a.lo);
    const __m128d q = _mm_add_pd(_mm256_extractf128_pd(h, 1), _mm256_castpd256_pd128(h));
    double t[2];
    _mm_storeu_pd(t, q);
    return t[0] + t[1];
}
/* _mm512_reduce_max_pd's order, each step max(upper, lower), the last max(lane 0, lane 1) */
VEC_FN double vd_hmax(vd a)
{
    const __m256d h = _mm256_max_pd(a.hi, a.lo);
    const __m128d q = _mm_max_pd(_mm256_extractf128_pd(h, 1), _mm256_castpd256_pd128(h));
    return _mm_cvtsd_f64(_mm_max_pd(q, _mm_shuffle_pd(q, q, 1)));
}
VEC_FN vdi vd_bits(vd a) { return emu_vdi_(_mm256_castpd_si256(a.lo), _mm256_castpd_si256(a.hi)); }
VEC_FN vd vdi_bits(vdi a) { return emu_vd_(_mm256_castsi256_pd(a.lo), _mm256_castsi256_pd(a.hi)); }
VEC_FN vdi vdi_set1(int64_t c) { return emu_vdi_(_mm256_set1_epi64x(c), _mm256_set1_epi64x(c)); }
EMU_DI2(vdi_add, _mm256_add_epi64)
EMU_DI2(vdi_sub, _mm256_sub_epi64)
VEC_FN vdi vdi_shl52(vdi a) { return emu_vdi_(_mm256_slli_epi64(a.lo, 52), _mm256_slli_epi64(a.hi, 52)); }
VEC_FN vdi vdi_srl52(vdi a) { return emu_vdi_(_mm256_srli_epi64(a.lo, 52), _mm256_srli_epi64(a.hi, 52)); }
