/* gemm_ukernel_x86.h: the x86 GEMM micro-kernel, written once and instantiated per ISA, dtype and
 * tile by the gemm_kernels_avx2.c / gemm_kernels_avx512.c files. Broadcast-A form: a row of the C
 * tile is NV vectors of W lanes (NR = NV W), MR rows give MR NV accumulators that stay in
 * registers for the whole k loop; per k step NV loads of B, MR broadcasts of A and MR NV FMAs.
 * The vector operations come in as macro parameters (P: the intrinsic prefix, _mm256 or _mm512;
 * S: ps or pd), so the same body serves 256- and 512-bit registers. Full tiles only: gemm.c sends
 * edge tiles through a scratch tile. The A operand is addressed as a[i * a_rs + p * a_cs]: for
 * packed panels the strides are the constants (1, MR) and fold into addressing; for the small path
 * they are A's own strides, read in place. Contract: gemm.h. */
#ifndef AGC_GEMM_UKERNEL_X86_H
#define AGC_GEMM_UKERNEL_X86_H

#include "gemm.h"

#include <immintrin.h>


#define GEMM_UKERNEL_X86(NAME, T, V, P, S, W, MR, NV, ATTR)                                       \
    static inline __attribute__((always_inline)) ATTR void NAME##_tile(                           \
        int64_t kc, const T *a, int64_t a_rs, int64_t a_cs, const T *b, int64_t b_rs, T *C,       \
        int64_t rs_c, T alpha_, T beta_)                                                          \
    {                                                                                             \
        V c[MR][NV];                                                                              \
        _Pragma("GCC unroll 16") for (int i = 0; i < (MR); i++)                                   \
            _Pragma("GCC unroll 4") for (int j = 0; j < (NV); j++)                                \
                c[i][j] = GEMM_VOP(P, setzero, S)();                                              \
        _Pragma("GCC unroll 16") for (int i = 0; i < (MR); i++)                                   \
            _mm_prefetch((const char *)(C + i * rs_c), _MM_HINT_T0);                              \
        _Pragma("GCC unroll 2") for (int64_t p = 0; p < kc; p++)                                  \
        {                                                                                         \
            V bv[NV];                                                                             \
            _Pragma("GCC unroll 4") for (int j = 0; j < (NV); j++)                                \
                bv[j] = GEMM_VOP(P, loadu, S)(b + j * (W));                                       \
            _Pragma("GCC unroll 16") for (int i = 0; i < (MR); i++)                               \
            {                                                                                     \
                const V x = GEMM_VOP(P, set1, S)(a[i * a_rs + p * a_cs]);                         \
                _Pragma("GCC unroll 4") for (int j = 0; j < (NV); j++)                            \
                    c[i][j] = GEMM_VOP(P, fmadd, S)(x, bv[j], c[i][j]);                           \
            }                                                                                     \
            b += b_rs;                                                                            \
        }                                                                                         \
        const V alpha = GEMM_VOP(P, set1, S)(alpha_), beta = GEMM_VOP(P, set1, S)(beta_);         \
        _Pragma("GCC unroll 16") for (int i = 0; i < (MR); i++)                                   \
            _Pragma("GCC unroll 4") for (int j = 0; j < (NV); j++)                                \
            {                                                                                     \
                T *cp = C + i * rs_c + j * (W);                                                   \
                V r = GEMM_VOP(P, mul, S)(alpha, c[i][j]);                                        \
                if (beta_ != 0) r = GEMM_VOP(P, fmadd, S)(beta, GEMM_VOP(P, loadu, S)(cp), r);    \
                GEMM_VOP(P, storeu, S)(cp, r);                                                    \
            }                                                                                     \
    }                                                                                             \
    static ATTR void NAME##_kern(int64_t kc, const void *a, const void *b, void *C, int64_t rs_c, \
                                 double alpha, double beta)                                       \
    {                                                                                             \
        NAME##_tile(kc, (const T *)a, 1, MR, (const T *)b, (NV) * (W), (T *)C, rs_c, (T)alpha,    \
                    (T)beta);                                                                     \
    }                                                                                             \
    static ATTR void NAME##_small(int64_t kc, const void *A, int64_t rs_a, int64_t cs_a,          \
                                  const void *B, int64_t rs_b, void *C, int64_t rs_c,             \
                                  double alpha, double beta)                                      \
    {                                                                                             \
        NAME##_tile(kc, (const T *)A, rs_a, cs_a, (const T *)B, rs_b, (T *)C, rs_c, (T)alpha,     \
                    (T)beta);                                                                     \
    }

#endif
