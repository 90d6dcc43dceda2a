/* conv_direct.c: the direct-packed forward (contract in agc.h, agc_conv2d_geom; conv.c decides when it
 * runs, agc_conv_use_direct states where it pays). No column buffer: blocks of output pixels have their
 * columns written straight into the GEMM's packed B panels (NR pixels x c k, in L1/L2) and are
 * multiplied by the weights packed once into A panels (agc_gemm_prepacked, in gemm.c); im2col + the
 * GEMM's own packing moved the same data twice. Measured single-thread: LeNet-5 layer 2 forward 0.87 ->
 * 0.61 ms, ResNet-like 64@56^2 52 -> 45 ms, 128@28^2 97 -> 87 ms. conv.c also runs the stride-1 data
 * gradient through it, as a convolution of grad_out with the flipped weights. The weight gradient keeps
 * im2col (a direct version with transposed A panels measured slower).
 * Panels are built by portable loops, or per tier (AVX2 float32, AVX-512 float32 and float64) with
 * masked vector loads. Threads take whole (pixel block, group) items; every output element is one GEMM
 * sum whose order depends on ck only, so nothing depends on the thread count or on the blocking.
 * Tests: tests/test_conv.py. */
#include <string.h>

#include "conv.h"

/* ------------------------------------------------------------------------ direct-packed forward */
/* The forward as out_gi (og x P) = W_gi (og x ck) @ col (ck x P) per image, with col never formed:
 * each block of output pixels of one image has its columns written straight into the GEMM's packed
 * B layout (full-K panels of NR pixels, b[k * NR + j], k = (c, a, b)), while that block is in L2,
 * and agc_gemm_prepacked multiplies it by the weights, packed once into A panels. The output block
 * lands in NCHW directly (C rows = channels, stride P), so there is no reorder or transpose either.
 * Threads take whole (image, group, pixel block) items; every output element is one GEMM sum whose
 * order depends on ck only, so nothing depends on the thread count or on the blocking. */
#define CONV_PANEL_BLOCK ((int64_t)24 << 10) /* bytes of B panels per block: L2-resident */

/* zero floats before and after the zero row that stands in for input rows outside the image */
#define CONV_ZPAD(g) ((g)->pad_w + (g)->kw * (g)->dil_w + 32)
#define CONV_SEG_MAX 64 /* a panel (NR <= 64 pixels) has at most NR row segments */
typedef struct {
    int64_t j, len, i, jj; /* panel column j.. j + len = output row i, columns jj.. jj + len */
    int64_t xoff;          /* elements from image 0 to the segment's image in x */
} conv_seg;

/* The runs of one panel's pixels that share an output row (and so an image). Pixels are numbered
 * across the batch, l = image * oh ow + p: a panel may span the end of one image and the start of the
 * next, so that an image size that is not a multiple of NR wastes no panel columns. */
static int panel_segments(const agc_conv2d_geom *g, int64_t ps, int64_t cnt, conv_seg *seg)
{
    const int64_t P = g->oh * g->ow;
    int ns = 0;
    for (int64_t j = 0; j < cnt;) {
        const int64_t n = (ps + j) / P, p = (ps + j) % P, i = p / g->ow, jj = p % g->ow;
        const int64_t len = g->ow - jj < cnt - j ? g->ow - jj : cnt - j;
        seg[ns].j = j, seg[ns].len = len, seg[ns].i = i, seg[ns].jj = jj, seg[ns].xoff = n * g->c * g->h * g->w;
        ns++;
        j += len;
    }
    return ns;
}

#define CONV_PANEL_BUILD(T, S)                                                                             \
    /* B panels for batch pixels p0 .. p0 + np (xg: image 0's first channel of the group), any stride */  \
    static void build_panels_##S(const agc_conv2d_geom *g, const T *xg, int64_t cg, int64_t p0, int64_t np, \
                                 int nr, T *buf)                                                           \
    {                                                                                                      \
        const int64_t kh = g->kh, kw = g->kw, K = cg * kh * kw, H = g->h, W = g->w;                        \
        conv_seg seg[CONV_SEG_MAX];                                                                      \
        for (int64_t q = 0; q * nr < np; q++) {                                                            \
            T *pan = buf + q * K * nr;                                                                     \
            const int64_t ps = p0 + q * nr, cnt = np - q * nr < nr ? np - q * nr : nr;                     \
            const int ns = panel_segments(g, ps, cnt, seg);                                                \
            for (int64_t c = 0; c < cg; c++)                                                               \
                for (int64_t a = 0; a < kh; a++)                                                           \
                    for (int64_t b = 0; b < kw; b++) {                                                     \
                        T *dst = pan + ((c * kh + a) * kw + b) * nr;                                       \
                        for (int s = 0; s < ns; s++) {                                                     \
                            const int64_t ih = seg[s].i * g->stride_h - g->pad_h + a * g->dil_h;           \
                            T *d = dst + seg[s].j;                                                         \
                            if (ih < 0 || ih >= H) {                                                       \
                                for (int64_t t = 0; t < seg[s].len; t++)                                   \
                                    d[t] = 0;                                                              \
                                continue;                                                                  \
                            }                                                                              \
                            const T *row = xg + seg[s].xoff + (c * H + ih) * W;                            \
                            const int64_t iw0 = seg[s].jj * g->stride_w - g->pad_w + b * g->dil_w;         \
                            for (int64_t t = 0; t < seg[s].len; t++) {                                     \
                                const int64_t iw = iw0 + t * g->stride_w;                                  \
                                d[t] = iw >= 0 && iw < W ? row[iw] : (T)0;                                 \
                            }                                                                              \
                        }                                                                                  \
                        for (int64_t t = cnt; t < nr; t++)                                                 \
                            dst[t] = 0;                                                                    \
                    }                                                                                      \
        }                                                                                                  \
    }

CONV_PANEL_BUILD(float, f32)
CONV_PANEL_BUILD(double, f64)

#if AGC_HAVE_X86
#include <immintrin.h>
/* float32 at the AVX2 tier, NR a multiple of 8 up to 16, stride_w == 1, kw <= CONV_SIMD_KW. A panel
 * row k = (c, a, b) is assembled in NR / 8 registers and stored aligned: each segment of the panel
 * contributes a masked load per register, placed so that lane t reads the input of panel column t;
 * lanes outside the segment or the image row are masked (read as zero and not accessed), so the
 * registers are the OR of the loads. The masks and column offsets depend on (segment, b) only and are
 * computed once per panel; a row above or below the image reads a zero row instead, and the segment
 * loop is unrolled for 1, 2 and 3 segments, so the inner loop has no branch. Masked loads measured
 * slow here (LeNet-5 layer 2: 0.37 ms to build the panels against 0.21 ms): where all NR floats from
 * every segment's column 0 lie inside x (or the zero row), a panel uses plain loads ANDed with the
 * mask instead. */
#define CONV_SIMD_KW 16
#define CONV_AVX2_NR 16
#define CONV_LOAD_MASKED(src, m) _mm256_maskload_ps((const float *)(src), m)
#define CONV_LOAD_PLAIN(src, m) _mm256_and_ps(_mm256_loadu_ps((const float *)(src)), _mm256_castsi256_ps(m))
#define CONV_AVX2_ROWS(NS, LOAD)                                                                           \
    for (int64_t c = 0; c < cg; c++)                                                                       \
        for (int64_t a = 0; a < kh; a++) {                                                                 \
            for (int s = 0; s < NS; s++) {                                                                 \
                const int64_t ih = seg[s].i * g->stride_h - g->pad_h + a * g->dil_h;                      \
                row[s] = ih < 0 || ih >= H ? zrow : (uintptr_t)(xg + seg[s].xoff + c * HW + ih * W);       \
            }                                                                                              \
            for (int64_t b = 0; b < kw; b++, dst += nr)                                                    \
                for (int h = 0; h < nh; h++) {                                                             \
                    __m256 v = _mm256_setzero_ps();                                                        \
                    for (int s = 0; s < NS; s++)                                                           \
                        v = _mm256_or_ps(v, LOAD(row[s] + (uintptr_t)off[s][b] + 32 * h, mask[s][b][h]));  \
                    _mm256_store_ps(dst + 8 * h, v);                                                       \
                }                                                                                          \
        }

/* zero: a row of zeros, the stand-in for rows outside the image, with CONV_ZPAD(g) zero floats before
 * and after it; x .. xend: the whole input, for the plain loads' bounds */
AGC_TARGET_AVX2 static void build_panels_f32_avx2(const agc_conv2d_geom *g, const float *xg, int64_t cg, int64_t p0,
                                           int64_t np, int nr, const float *zero, const float *x,
                                           const float *xend, float *buf)
{
    const int64_t kh = g->kh, kw = g->kw, K = cg * kh * kw, H = g->h, W = g->w, HW = H * W;
    const int nh = nr / 8;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const uintptr_t zrow = (uintptr_t)zero;
    conv_seg seg[CONV_AVX2_NR];
    __m256i mask[CONV_AVX2_NR][CONV_SIMD_KW][CONV_AVX2_NR / 8];
    int64_t off[CONV_AVX2_NR][CONV_SIMD_KW]; /* bytes from the row start to panel column 0's lane */
    uintptr_t row[CONV_AVX2_NR];
    for (int64_t q = 0; q * nr < np; q++) {
        float *dst = buf + q * K * nr;
        const int64_t ps = p0 + q * nr, cnt = np - q * nr < nr ? np - q * nr : nr;
        const int ns = panel_segments(g, ps, cnt, seg);
        for (int s = 0; s < ns; s++)
            for (int64_t b = 0; b < kw; b++) {
                /* panel column t (seg.j <= t < seg.j + len) reads row[iw0 + t - seg.j] */
                const int64_t j0 = seg[s].j, iw0 = seg[s].jj - g->pad_w + b * g->dil_w;
                int64_t lo = j0 + (iw0 < 0 ? -iw0 : 0), hi = j0 + (W - iw0 < seg[s].len ? W - iw0 : seg[s].len);
                lo = lo > nr ? nr : lo;
                hi = hi < 0 ? 0 : hi;
                const __m256i vlo = _mm256_set1_epi32((int)lo), vhi = _mm256_set1_epi32((int)hi);
                for (int h = 0; h < nh; h++) {
                    const __m256i l = _mm256_add_epi32(lane, _mm256_set1_epi32(8 * h));
                    mask[s][b][h] = _mm256_andnot_si256(_mm256_cmpgt_epi32(vlo, l), _mm256_cmpgt_epi32(vhi, l));
                }
                off[s][b] = (iw0 - j0) * 4;
            }
        /* every load reads nr floats from row + off, row between the first segment's image at xg and the
         * last one's + (cg - 1) HW + (H - 1) W */
        int64_t omin = off[0][0], omax = off[0][0];
        for (int s = 0; s < ns; s++)
            for (int64_t b = 0; b < kw; b++) {
                omin = off[s][b] < omin ? off[s][b] : omin;
                omax = off[s][b] > omax ? off[s][b] : omax;
            }
        const uintptr_t first = (uintptr_t)(xg + seg[0].xoff) + (uintptr_t)omin;
        const uintptr_t last =
            (uintptr_t)(xg + seg[ns - 1].xoff + (cg - 1) * HW + (H - 1) * W) + (uintptr_t)omax + 4 * nr;
        const int plain = first >= (uintptr_t)x && last <= (uintptr_t)xend;
        if (plain && ns == 1) {
            CONV_AVX2_ROWS(1, CONV_LOAD_PLAIN)
        } else if (plain && ns == 2) {
            CONV_AVX2_ROWS(2, CONV_LOAD_PLAIN)
        } else if (plain && ns == 3) {
            CONV_AVX2_ROWS(3, CONV_LOAD_PLAIN)
        } else if (plain) {
            CONV_AVX2_ROWS(ns, CONV_LOAD_PLAIN)
        } else {
            CONV_AVX2_ROWS(ns, CONV_LOAD_MASKED)
        }
    }
}

#if AGC_NATIVE_AVX512
/* float32 and float64 at the AVX-512 tier, NR a multiple of the lanes (16 floats, 8 doubles) up to
 * CONV_SEG_MAX, stride_w == 1, kw <= CONV_SIMD_KW. The same assembly as the AVX2 builder, with the
 * lane masks in mask registers: a masked-off lane is neither read nor able to fault, so every load is
 * a merge-masked load into the row's register and no bounds test or plain-load variant is needed. */
#define CONV_AVX512_ROWS(NS, T, V, LANES, SETZERO, MLOAD, STORE)                                                                               \
    for (int64_t c = 0; c < cg; c++)                                                                       \
        for (int64_t a = 0; a < kh; a++) {                                                                 \
            for (int s = 0; s < NS; s++) {                                                                 \
                const int64_t ih = seg[s].i * g->stride_h - g->pad_h + a * g->dil_h;                      \
                row[s] = ih < 0 || ih >= H ? zrow : (uintptr_t)(xg + seg[s].xoff + c * HW + ih * W);       \
            }                                                                                              \
            for (int64_t b = 0; b < kw; b++, dst += nr)                                                    \
                for (int h = 0; h < nh; h++) {                                                             \
                    V v = SETZERO();                                                                       \
                    for (int s = 0; s < NS; s++)                                                           \
                        v = MLOAD(v, mask[s][b][h], (const T *)(row[s] + (uintptr_t)off[s][b]) + LANES * h); \
                    STORE(dst + LANES * h, v);                                                             \
                }                                                                                          \
        }
#define CONV_PANELS_AVX512(T, V, LANES, MASKT, SETZERO, MLOAD, STORE)                                                          \
    AGC_TARGET_AVX512 static void build_panels_##T##_avx512(const agc_conv2d_geom *g, const T *xg, int64_t cg,   \
                                                     int64_t p0, int64_t np, int nr, const T *zero, T *buf) \
    {                                                                                                      \
        const int64_t kh = g->kh, kw = g->kw, K = cg * kh * kw, H = g->h, W = g->w, HW = H * W;            \
        const int nh = nr / LANES;                                                                         \
        const uintptr_t zrow = (uintptr_t)zero;                                                            \
        conv_seg seg[CONV_SEG_MAX];                                                                        \
        MASKT mask[CONV_SEG_MAX][CONV_SIMD_KW][CONV_SEG_MAX / LANES];                                      \
        intptr_t off[CONV_SEG_MAX][CONV_SIMD_KW]; /* bytes from the row start to panel column 0's lane */  \
        uintptr_t row[CONV_SEG_MAX];                                                                       \
        for (int64_t q = 0; q * nr < np; q++) {                                                            \
            T *dst = buf + q * K * nr;                                                                     \
            const int64_t ps = p0 + q * nr, cnt = np - q * nr < nr ? np - q * nr : nr;                     \
            const int ns = panel_segments(g, ps, cnt, seg);                                                \
            for (int s = 0; s < ns; s++)                                                                   \
                for (int64_t b = 0; b < kw; b++) {                                                         \
                    const int64_t j0 = seg[s].j, iw0 = seg[s].jj - g->pad_w + b * g->dil_w;                \
                    int64_t lo = j0 + (iw0 < 0 ? -iw0 : 0);                                                \
                    int64_t hi = j0 + (W - iw0 < seg[s].len ? W - iw0 : seg[s].len);                       \
                    for (int h = 0; h < nh; h++) {                                                         \
                        /* lanes [lo, hi) of the panel row, as bits of register h */                       \
                        const int64_t l0 = lo - LANES * h, l1 = hi - LANES * h;                            \
                        const int64_t b0 = l0 < 0 ? 0 : l0 > LANES ? LANES : l0;                           \
                        const int64_t b1 = l1 < b0 ? b0 : l1 > LANES ? LANES : l1;                         \
                        const uint32_t bits = (uint32_t)(((uint64_t)1 << b1) - ((uint64_t)1 << b0));       \
                        mask[s][b][h] = (MASKT)bits;                                                       \
                    }                                                                                      \
                    off[s][b] = (intptr_t)(iw0 - j0) * (intptr_t)sizeof(T);                                \
                }                                                                                          \
            if (ns == 1) {                                                                                 \
                CONV_AVX512_ROWS(1, T, V, LANES, SETZERO, MLOAD, STORE)                                                                        \
            } else if (ns == 2) {                                                                          \
                CONV_AVX512_ROWS(2, T, V, LANES, SETZERO, MLOAD, STORE)                                                                        \
            } else if (ns == 3) {                                                                          \
                CONV_AVX512_ROWS(3, T, V, LANES, SETZERO, MLOAD, STORE)                                                                        \
            } else {                                                                                       \
                CONV_AVX512_ROWS(ns, T, V, LANES, SETZERO, MLOAD, STORE)                                                                       \
            }                                                                                              \
        }                                                                                                  \
    }
CONV_PANELS_AVX512(float, __m512, 16, __mmask16, _mm512_setzero_ps, _mm512_mask_loadu_ps, _mm512_store_ps)
CONV_PANELS_AVX512(double, __m512d, 8, __mmask8, _mm512_setzero_pd, _mm512_mask_loadu_pd, _mm512_store_pd)
#endif /* AGC_NATIVE_AVX512 */
#endif

/* The panel builder for dt at the active tier and the context's NR: 0 the portable loops, 1 AVX2,
 * 2 AVX-512. */
static int panel_builder(agc_dtype dt, const agc_conv2d_geom *g, int64_t nr)
{
#if AGC_HAVE_X86
    if (g->stride_w != 1 || g->kw > CONV_SIMD_KW) return 0;
    const agc_isa isa = agc_isa_active();
    const int64_t lanes = dt == AGC_F32 ? 16 : 8;
    if (AGC_NATIVE_AVX512 && isa >= AGC_ISA_AVX512 && nr % lanes == 0 && nr <= CONV_SEG_MAX) return 2;
    if (isa >= AGC_ISA_AVX2 && dt == AGC_F32 && nr % 8 == 0 && nr <= CONV_AVX2_NR) return 1;
#else
    (void)dt, (void)g, (void)nr;
#endif
    return 0;
}

/* the direct-packed forward applies to f32 and f64, any stride, padding, dilation and groups, and pays
 * off from a few output channels per group on (one-channel groups would use 1 row of the 6-row tile)
 * and from a reduction length (c / groups * kh * kw) of about 32 on: below it the panel building costs
 * more than the short GEMM saves. Measured, 2 threads, float32, batch 64, im2col + GEMM vs direct:
 * 1x28x28 -> 6@5x5 (K 25) 0.20 vs 0.83 ms, 1x28x28 -> 16@3x3 (K 9) 0.30 vs 1.04, 3x32x32 -> 16@3x3
 * (K 27) 0.70 vs 0.73, 3x32x32 -> 16@5x5 (K 75) 1.40 vs 1.12, 6x14x14 -> 16@5x5 (K 150) 0.46 vs 0.33. */
#define DIRECT_MIN_K 32
int agc_conv_use_direct(agc_dtype dt, const agc_conv2d_geom *g)
{
    if (agc_conv_direct_mode == 1 || (dt != AGC_F32 && dt != AGC_F64))
        return 0;
    return agc_conv_direct_mode == 2 || (g->o / g->groups >= 4 && g->c / g->groups * g->kh * g->kw >= DIRECT_MIN_K);
}

static int64_t direct_panels_per_block(const agc_conv2d_geom *g, int64_t es, int64_t nr)
{
    const int64_t panel = g->c / g->groups * g->kh * g->kw * nr * es;
    int64_t per = CONV_PANEL_BLOCK / (panel > 0 ? panel : 1);
    const int64_t image = (g->oh * g->ow + nr - 1) / nr;
    per = per < 1 ? 1 : per;
    /* equal blocks per image: 7 panels under a 5-panel budget run as 4 + 3, not 5 + 2 */
    const int64_t blocks = (image + per - 1) / per;
    return (image + blocks - 1) / blocks;
}

int64_t agc_conv_direct_workspace_bytes(const agc_conv2d_geom *g, int64_t es, int64_t mr, int64_t nr, int nthr)
{
    const int64_t ck = g->c / g->groups * g->kh * g->kw, og = g->o / g->groups;
    const int64_t a_bytes = g->groups * ((og + mr - 1) / mr) * mr * ck * es;
    const int64_t per = direct_panels_per_block(g, es, nr);
    const int64_t b_bytes = per * ck * nr * es + 64 + og * per * nr * es; /* panels + output tile */
    return a_bytes + (g->w + 2 * CONV_ZPAD(g)) * es + nthr * ((b_bytes + 2 * AGC_ALIGN - 1) / AGC_ALIGN * AGC_ALIGN);
}

/* out = conv(x, weight) + bias through packed panels; weight (o, c / groups, kh, kw) contiguous. When
 * an image's oh ow pixels are a whole number of panels, blocks stay inside one image and the GEMM writes
 * its rows of out directly; otherwise blocks run over the batch's pixels, panels crossing images, and
 * the GEMM writes a per-thread (og x block) tile that is then copied to the images it covers. */
int agc_conv_forward_direct(agc_dtype dt, const agc_conv2d_geom *g, const void *x, const void *weight,
                            const void *bias, void *out)
{
    const int64_t es = (int64_t)agc_dtype_size(dt);
    const int64_t G = g->groups, cg = g->c / G, og = g->o / G, ck = cg * g->kh * g->kw, P = g->oh * g->ow;
    const int64_t MR = agc_gemm_tile_mr(dt), NR = agc_gemm_tile_nr(dt);
    const int64_t a_panel_bytes = ((og + MR - 1) / MR) * MR * ck * es;
    const int64_t per = direct_panels_per_block(g, es, NR), block_px = per * NR;
    const int whole = P % NR == 0;
    /* blocks: per image (whole) or over the batch's n P pixels */
    const int64_t bpi = (P + block_px - 1) / block_px, nblk = whole ? g->n * bpi : (g->n * P + block_px - 1) / block_px;
    const int64_t items = nblk * G;
    const int64_t b_bytes = ((per * ck * NR * es + 64) + AGC_ALIGN - 1) / AGC_ALIGN * AGC_ALIGN;
    const int64_t t_bytes = whole ? 0 : (og * block_px * es + AGC_ALIGN - 1) / AGC_ALIGN * AGC_ALIGN;
    const int nthr = agc_threads_for(items > 1 ? 2 * g->n * g->o * P * ck : 0, (int64_t)1 << 20);
    char *apack = agc_alloc(G * a_panel_bytes);
    char *bbuf = agc_alloc(nthr * (b_bytes + t_bytes));
    const int64_t zlen = g->w + 2 * CONV_ZPAD(g);
    char *zrow = agc_alloc(zlen * es); /* a row of zeros: rows outside the image read from it */
    if (!apack || !bbuf || !zrow) {
        agc_free(apack);
        agc_free(bbuf);
        agc_free(zrow);
        return AGC_ENOMEM;
    }
    memset(zrow, 0, (size_t)(zlen * es));
    memset(bbuf, 0, (size_t)(nthr * (b_bytes + t_bytes)));
    for (int64_t gi = 0; gi < G; gi++)
        agc_gemm_pack_a_panels(dt, og, ck, (const char *)weight + gi * og * ck * es, ck, 1, apack + gi * a_panel_bytes);
    const int simd = panel_builder(dt, g, NR);
    int rc = AGC_OK;
#pragma omp parallel num_threads(nthr)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        char *buf = bbuf + tid * (b_bytes + t_bytes), *tile = buf + b_bytes;
        /* dynamic: when another process holds part of a core, the other thread takes more blocks (each
         * block's result is the same whichever thread computes it) */
#pragma omp for schedule(dynamic, 1)
        for (int64_t it = 0; it < items; it++) {
            AGC_REGION_POINT();
            const int64_t blk = it / G, gi = it % G;
            int64_t l0, np;
            if (whole) {
                const int64_t p0 = (blk % bpi) * block_px;
                l0 = (blk / bpi) * P + p0;
                np = P - p0 < block_px ? P - p0 : block_px;
            } else {
                l0 = blk * block_px;
                np = g->n * P - l0 < block_px ? g->n * P - l0 : block_px;
            }
            const char *xg = (const char *)x + gi * cg * g->h * g->w * es;
#if AGC_HAVE_X86
#if AGC_NATIVE_AVX512
            if (simd == 2 && dt == AGC_F32)
                build_panels_float_avx512(g, (const float *)xg, cg, l0, np, (int)NR,
                                          (const float *)zrow + CONV_ZPAD(g), (float *)buf);
            else if (simd == 2)
                build_panels_double_avx512(g, (const double *)xg, cg, l0, np, (int)NR,
                                           (const double *)zrow + CONV_ZPAD(g), (double *)buf);
            else
#endif
            if (simd == 1)
                build_panels_f32_avx2(g, (const float *)xg, cg, l0, np, (int)NR, (const float *)zrow + CONV_ZPAD(g),
                                      (const float *)x, (const float *)x + g->n * g->c * g->h * g->w,
                                      (float *)buf);
            else
#endif
            if (dt == AGC_F64)
                build_panels_f64(g, (const double *)xg, cg, l0, np, (int)NR, (double *)buf);
            else
                build_panels_f32(g, (const float *)xg, cg, l0, np, (int)NR, (float *)buf);
            /* C: out's rows (stride P) for a block inside one image, else the tile (stride np) */
            char *dst = whole ? (char *)out + (((l0 / P) * g->o + gi * og) * P + l0 % P) * es : tile;
            const int64_t ld = whole ? P : np;
            int r = agc_gemm_prepacked(dt, og, np, ck, 1.0, apack + gi * a_panel_bytes, buf, 0.0, dst, ld, 1);
            if (r != AGC_OK) {
#pragma omp atomic write
                rc = r;
            }
            /* bias, and the tile's pieces to their images: out[n][gi og + oc][p] for l = n P + p */
            for (int64_t l = l0; l < l0 + np;) {
                const int64_t n = l / P, p = l % P, cnt = P - p < l0 + np - l ? P - p : l0 + np - l;
                for (int64_t oc = 0; oc < og; oc++) {
                    const int64_t orow = (n * g->o + gi * og + oc) * P + p, trow = oc * np + (l - l0);
                    if (dt == AGC_F32) {
                        float *d = (float *)out + orow;
                        const float *sp = whole ? d : (const float *)tile + trow;
                        const float bv = bias ? ((const float *)bias)[gi * og + oc] : 0.0f;
                        if (bias || !whole)
                            for (int64_t e = 0; e < cnt; e++)
                                d[e] = sp[e] + bv;
                    } else {
                        double *d = (double *)out + orow;
                        const double *sp = whole ? d : (const double *)tile + trow;
                        const double bv = bias ? ((const double *)bias)[gi * og + oc] : 0.0;
                        if (bias || !whole)
                            for (int64_t e = 0; e < cnt; e++)
                                d[e] = sp[e] + bv;
                    }
                }
                l += cnt;
            }
        }
    }
    agc_free(apack);
    agc_free(bbuf);
    agc_free(zrow);
    return rc;
}
