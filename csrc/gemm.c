/* gemm.c: C = alpha * A @ B + beta * C for any strides (contract in agc.h).
 * First, plain version: a strided triple loop, summing over k in order. It is correct for every
 * stride (0, negative, transposed) and is replaced by the packed, blocked GEMM.
 * Tests: tests/test_gemm.py. */
#include "agc.h"

#define AGC_GEMM_PLAIN(T)                                                                         \
    static void gemm_plain_##T(int64_t M, int64_t N, int64_t K, T alpha, const T *A, int64_t rs_a, \
                               int64_t cs_a, const T *B, int64_t rs_b, int64_t cs_b, T beta, T *C, \
                               int64_t rs_c, int64_t cs_c)                                        \
    {                                                                                             \
        for (int64_t i = 0; i < M; i++) {                                                         \
            for (int64_t j = 0; j < N; j++) {                                                     \
                T acc = 0;                                                                        \
                for (int64_t k = 0; k < K; k++)                                                   \
                    acc += A[i * rs_a + k * cs_a] * B[k * rs_b + j * cs_b];                       \
                T *c = &C[i * rs_c + j * cs_c];                                                   \
                *c = beta == 0 ? alpha * acc : alpha * acc + beta * *c;                           \
            }                                                                                     \
        }                                                                                         \
    }

AGC_GEMM_PLAIN(float)
AGC_GEMM_PLAIN(double)

int agc_gemm(agc_dtype dt, int64_t M, int64_t N, int64_t K, double alpha, const void *A, int64_t rs_a,
             int64_t cs_a, const void *B, int64_t rs_b, int64_t cs_b, double beta, void *C, int64_t rs_c,
             int64_t cs_c)
{
    if (dt == AGC_F32)
        gemm_plain_float(M, N, K, (float)alpha, A, rs_a, cs_a, B, rs_b, cs_b, (float)beta, C, rs_c, cs_c);
    else if (dt == AGC_F64)
        gemm_plain_double(M, N, K, alpha, A, rs_a, cs_a, B, rs_b, cs_b, beta, C, rs_c, cs_c);
    else
        return AGC_EUNSUPPORTED;
    return AGC_OK;
}

int agc_gemm_batched(agc_dtype dt, int64_t batch, int64_t M, int64_t N, int64_t K, double alpha,
                     const void *A, const int64_t *off_a, int64_t rs_a, int64_t cs_a, const void *B,
                     const int64_t *off_b, int64_t rs_b, int64_t cs_b, double beta, void *C,
                     const int64_t *off_c, int64_t rs_c, int64_t cs_c)
{
    if (dt != AGC_F32 && dt != AGC_F64)
        return AGC_EUNSUPPORTED;
    size_t sz = dt == AGC_F32 ? 4 : 8;
    for (int64_t i = 0; i < batch; i++) {
        int rc = agc_gemm(dt, M, N, K, alpha, (const char *)A + off_a[i] * (int64_t)sz, rs_a, cs_a,
                          (const char *)B + off_b[i] * (int64_t)sz, rs_b, cs_b, beta,
                          (char *)C + off_c[i] * (int64_t)sz, rs_c, cs_c);
        if (rc)
            return rc;
    }
    return AGC_OK;
}
