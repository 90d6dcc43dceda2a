/* storage.c: aligned buffers, strided copy with dtype casts, fill.
 * agc_alloc returns 64-byte aligned memory. Every block carries a 64-byte header (its capacity)
 * just before the returned pointer, so agc_free must receive agc_alloc's pointers only (it does:
 * nothing else frees them). Blocks of 1 MiB and more are 2 MiB aligned and advised as huge pages.
 * Freed blocks of 64 KiB and more are kept in a small cache (at most CACHE_SLOTS blocks, CACHE_BYTES
 * in total) that agc_alloc reuses for a request of the same size class: a training loop or a
 * benchmark that allocates same-sized large outputs again and again then pays no page faults (first
 * touch of a fresh 64 MiB output costs more than the arithmetic that fills it). The 64 KiB - 1 MiB
 * blocks are the GEMM's packing buffers and a recurrent layer's per-call scratch: glibc serves them
 * with mmap or trims them back to the system on free, so without the cache every call faulted its
 * pages in again (7% of an LSTM forward at 2 threads, measured with perf).
 * Built with AddressSanitizer (AGC_SANITIZE=1), agc_alloc and agc_free are plain posix_memalign and
 * free instead, so that the sanitizer sees every tensor's exact bounds and lifetime.
 * agc_copy handles any pair of dtypes and any strides on both sides, through the merged-dimension
 * iterator; contiguous same-dtype rows are memcpy. Casts: float -> integer truncates toward zero;
 * NaN or out-of-range values give the integer type's minimum (what x86 hardware and NumPy give),
 * without undefined behaviour; integer narrowing wraps; anything -> bool is (x != 0). float16 and
 * bfloat16 are read exactly (through double) and written with one correctly rounded step from double
 * (round to nearest, ties to even; overflow to inf; subnormals kept; NaN stays NaN with its sign),
 * in plain integer C, so no F16C instructions are needed. Threads above AGC_PAR_CHEAP elements.
 * Tests: tests/test_kernels.py, tests/test_half.py. */
/* posix_memalign and madvise */
#define _DEFAULT_SOURCE
#include "internal.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
/* The sanitizer build (AGC_SANITIZE=1) gives every tensor a malloc block of exactly its size, freed
 * at once: with the header, size classes and caches of the allocator below, AddressSanitizer would see one
 * large block where a kernel's overrun or a use after free stays inside. Alignment is kept, since
 * the kernels assume it. Test: tests/test_hardening.py (run by tools/sanitize.sh). */
void *agc_alloc(int64_t nbytes)
{
    if (nbytes < 0 || (uint64_t)nbytes > SIZE_MAX / 2) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, AGC_ALIGN, nbytes == 0 ? 1 : (size_t)nbytes) != 0) return NULL;
    return p;
}

void agc_free(void *p)
{
    free(p);
}
#else /* the caching allocator */
#define HUGE_ALIGN ((size_t)2 << 20)
#define HEADER ((size_t)AGC_ALIGN)
#define CACHE_MIN ((size_t)64 << 10)
#define LARGE_MIN ((size_t)1 << 20)
#define CACHE_SLOTS 32
#define CACHE_BYTES ((size_t)512 << 20)
#define BLOCK_MAGIC 0x616763626c6f636bull /* "agcblock" */

/* Large blocks start their data at one of COLORS offsets (mod 4 KiB) in turn: when an input and an
 * output sit within a few cache lines of each other mod 4 KiB, loads and stores alias in the core's
 * store buffer (measured: relu of 1M float32 takes 143 us 48 bytes apart, 107 us 600+ bytes apart).
 * Without colouring every large tensor would sit at the same offset, as they are all 2 MiB aligned.
 * The offsets (576, 1152, ..., 3456) are 576 bytes apart and also keep clear of offset 16, where
 * glibc puts large NumPy arrays. */
#define COLORS 6
#define COLOR_STEP ((size_t)576)
#define COLOR_BASE ((size_t)512)

typedef struct {
    uint64_t magic;
    size_t capacity; /* usable bytes after the header */
    void *base;      /* what posix_memalign returned */
} block_header;
static atomic_uint next_color;

static struct {
    void *data[CACHE_SLOTS]; /* the data pointer of each cached block, NULL if the slot is empty */
    size_t capacity[CACHE_SLOTS];
    uint64_t age[CACHE_SLOTS];
    size_t total;
    uint64_t clock;
} cache;
static atomic_flag cache_lock = ATOMIC_FLAG_INIT;

static void lock(void)
{
    while (atomic_flag_test_and_set_explicit(&cache_lock, memory_order_acquire)) {
    }
}
static void unlock(void)
{
    atomic_flag_clear_explicit(&cache_lock, memory_order_release);
}

/* Small blocks (capacity up to SMALL_MAX bytes) are recycled through one LIFO list per capacity
 * class (64, 128, ..., SMALL_MAX), at most SMALL_KEEP blocks each: the tensors of a chain of
 * small ops are allocated and freed at a high rate, and taking a block back from these lists costs
 * a few nanoseconds where posix_memalign costs ~100. A block on a list keeps its header; the
 * lists are reachable statics (not leaks), emptied by nothing but reuse. */
#define SMALL_MAX ((size_t)1024)
#define SMALL_CLASSES (SMALL_MAX / AGC_ALIGN)
#define SMALL_KEEP 64
static struct {
    void *data[SMALL_CLASSES][SMALL_KEEP];
    int count[SMALL_CLASSES];
} small;
static atomic_flag small_lock = ATOMIC_FLAG_INIT;

static void *small_take(size_t cap)
{
    size_t c = cap / AGC_ALIGN - 1;
    void *p = NULL;
    while (atomic_flag_test_and_set_explicit(&small_lock, memory_order_acquire)) {
    }
    if (small.count[c] > 0) p = small.data[c][--small.count[c]];
    atomic_flag_clear_explicit(&small_lock, memory_order_release);
    return p;
}

/* 1 if p was kept for reuse */
static int small_keep(void *p, size_t cap)
{
    size_t c = cap / AGC_ALIGN - 1;
    int kept = 0;
    while (atomic_flag_test_and_set_explicit(&small_lock, memory_order_acquire)) {
    }
    if (small.count[c] < SMALL_KEEP) {
        small.data[c][small.count[c]++] = p;
        kept = 1;
    }
    atomic_flag_clear_explicit(&small_lock, memory_order_release);
    return kept;
}

/* size classes: large requests round up to 1/16 of their power of two, so near sizes share blocks */
static size_t round_capacity(size_t n)
{
    if (n < CACHE_MIN) return (n + AGC_ALIGN - 1) / AGC_ALIGN * AGC_ALIGN;
    size_t p = CACHE_MIN;
    while (p < n / 2) p *= 2;
    size_t step = p / 8;
    return (n + step - 1) / step * step;
}

void *agc_alloc(int64_t nbytes)
{
    if (nbytes < 0 || (uint64_t)nbytes > SIZE_MAX / 2) return NULL;
    size_t n = nbytes == 0 ? 1 : (size_t)nbytes; /* 0 bytes: still a unique, valid pointer */
    size_t cap = round_capacity(n);
    if (cap <= SMALL_MAX) {
        void *hit = small_take(cap);
        if (hit) return hit;
    }
    if (cap >= CACHE_MIN) {
        void *hit = NULL;
        lock();
        int best = -1;
        for (int i = 0; i < CACHE_SLOTS; i++)
            if (cache.data[i] && cache.capacity[i] == cap) {
                best = i;
                break;
            }
        if (best >= 0) {
            hit = cache.data[best];
            cache.data[best] = NULL;
            cache.total -= cap;
        }
        unlock();
        if (hit) return hit;
    }
    void *base = NULL;
    int large = cap >= LARGE_MIN;
    size_t pad = large ? COLOR_BASE + (size_t)(atomic_fetch_add(&next_color, 1u) % COLORS) * COLOR_STEP : 0;
    size_t total = cap + HEADER + (large ? COLOR_BASE + (COLORS - 1) * COLOR_STEP : 0);
    if (posix_memalign(&base, large ? HUGE_ALIGN : AGC_ALIGN, total) != 0) return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (large && total >= HUGE_ALIGN) madvise(base, total / HUGE_ALIGN * HUGE_ALIGN, MADV_HUGEPAGE);
#endif
    char *data = (char *)base + pad + HEADER;
    block_header *h = (block_header *)(data - HEADER);
    h->magic = BLOCK_MAGIC;
    h->capacity = cap;
    h->base = base;
    return data;
}

void agc_free(void *p)
{
    if (!p) return;
    block_header *h = (block_header *)((char *)p - HEADER);
    size_t cap = h->capacity;
    if (cap <= SMALL_MAX && small_keep(p, cap)) return;
    if (cap < CACHE_MIN || cap > CACHE_BYTES / 2) {
        h->magic = 0;
        free(h->base);
        return;
    }
    void *evicted[CACHE_SLOTS];
    int nevict = 0;
    lock();
    /* make room: evict the oldest blocks until this one fits in both the slots and the byte budget */
    for (;;) {
        int empty = -1, oldest = -1;
        for (int i = 0; i < CACHE_SLOTS; i++) {
            if (!cache.data[i]) {
                if (empty < 0) empty = i;
            } else if (oldest < 0 || cache.age[i] < cache.age[oldest]) {
                oldest = i;
            }
        }
        if (empty >= 0 && cache.total + cap <= CACHE_BYTES) {
            cache.data[empty] = p;
            cache.capacity[empty] = cap;
            cache.age[empty] = ++cache.clock;
            cache.total += cap;
            p = NULL;
            break;
        }
        if (oldest < 0) break; /* cannot happen: cap <= CACHE_BYTES / 2 */
        evicted[nevict++] = ((block_header *)((char *)cache.data[oldest] - HEADER))->base;
        cache.total -= cache.capacity[oldest];
        cache.data[oldest] = NULL;
    }
    unlock();
    for (int i = 0; i < nevict; i++) free(evicted[i]);
    if (p) free(h->base);
}
#endif /* __SANITIZE_ADDRESS__ */

size_t agc_dtype_size(agc_dtype dt)
{
    switch (dt) {
    case AGC_F32: return 4;
    case AGC_F64: return 8;
    case AGC_I64: return 8;
    case AGC_BOOL: return 1;
    case AGC_I32: return 4;
    case AGC_U8: return 1;
    case AGC_F16: return 2;
    case AGC_BF16: return 2;
    default: return 0;
    }
}

/* ---------------------------------------------------------------- conversions without UB */
static inline int64_t f2i64(double v)
{
    /* the range check also rejects NaN */
    if (v >= -9223372036854775808.0 && v < 9223372036854775808.0) return (int64_t)v;
    return INT64_MIN;
}
static inline int32_t f2i32(double v)
{
    if (v > -2147483649.0 && v < 2147483648.0) return (int32_t)v;
    return INT32_MIN;
}

/* IEEE double -> a narrow float with M mantissa bits and exponent bias B (binary16: 10, 15;
 * bfloat16: 7, 127), rounded to nearest even. Every float32 and double value gets one rounding,
 * so float32 -> float16 agrees bit for bit with NumPy and with F16C's round-to-nearest. */
static inline uint16_t narrow_from_double(double d, int M, int B)
{
    uint64_t a;
    memcpy(&a, &d, 8);
    const uint16_t sign = (uint16_t)((a >> 63) << 15);
    a &= ~(1ull << 63);
    const uint32_t exp_all_ones = (uint32_t)(2 * B + 1) << M; /* inf's bits */
    if (a >= 0x7ff0000000000000ull) {
        if (a == 0x7ff0000000000000ull) return (uint16_t)(sign | exp_all_ones);
        /* NaN: quiet, with the top payload bits */
        return (uint16_t)(sign | exp_all_ones | (1u << (M - 1)) | (uint32_t)((a >> (52 - M)) & ((1u << M) - 1)));
    }
    const int e = (int)(a >> 52) - 1023;
    if (e > B) return (uint16_t)(sign | exp_all_ones);
    const uint64_t m = (a & ((1ull << 52) - 1)) | (1ull << 52);
    /* low bits of the 53-bit significand to drop: more below the narrow format's normal range */
    const int shift = e >= 1 - B ? 52 - M : 52 - M + (1 - B - e);
    if (shift > 53) return sign; /* below half the smallest subnormal (zero and double subnormals too) */
    uint64_t q = m >> shift;
    const uint64_t rem = m & ((1ull << shift) - 1), half = 1ull << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    /* normal: a carry out of the mantissa steps the exponent, up to inf's bits; subnormal: q itself
     * (q == 2^M is the smallest normal) */
    uint32_t bits = e >= 1 - B ? ((uint32_t)(e + B) << M) + (uint32_t)q - (1u << M) : (uint32_t)q;
    if (bits > exp_all_ones) bits = exp_all_ones;
    return (uint16_t)(sign | bits);
}

/* A narrow float's bits -> double, exactly. */
static inline double narrow_to_double(uint16_t h, int M, int B)
{
    const uint64_t sign = (uint64_t)(h >> 15) << 63;
    const uint32_t exp = (h >> M) & (uint32_t)(2 * B + 1), mant = h & ((1u << M) - 1);
    uint64_t a;
    if (exp == (uint32_t)(2 * B + 1)) {
        a = 0x7ff0000000000000ull | ((uint64_t)mant << (52 - M)); /* inf, or NaN keeping its payload */
    } else if (exp == 0) {
        double v = ldexp((double)mant, 1 - B - M);
        memcpy(&a, &v, 8);
    } else {
        a = ((uint64_t)(exp - (uint32_t)B + 1023) << 52) | ((uint64_t)mant << (52 - M));
    }
    a |= sign;
    double d;
    memcpy(&d, &a, 8);
    return d;
}

#define TO_F16(v) narrow_from_double((double)(v), 10, 15)
#define TO_BF16(v) narrow_from_double((double)(v), 7, 127)
#define FROM_F16(v) narrow_to_double((v), 10, 15)
#define FROM_BF16(v) narrow_to_double((v), 7, 127)

/* CONV_<from>_<to>(v) for every pair; the type names go F32 F64 I64 BOOL I32 U8 F16 BF16 */
typedef float t_F32;
typedef double t_F64;
typedef int64_t t_I64;
typedef uint8_t t_BOOL;
typedef int32_t t_I32;
typedef uint8_t t_U8;
typedef uint16_t t_F16;
typedef uint16_t t_BF16;

#define TO_F32(v) ((float)(v))
#define TO_F64(v) ((double)(v))
#define TO_BOOL(v) ((uint8_t)((v) != 0))
/* integer targets depend on whether the source is a float */
#define FTO_I64(v) f2i64((double)(v))
#define FTO_I32(v) f2i32((double)(v))
#define FTO_U8(v) ((uint8_t)(uint32_t)f2i32((double)(v)))
#define ITO_I64(v) ((int64_t)(v))
#define ITO_I32(v) ((int32_t)(uint32_t)(uint64_t)(v)) /* wraps (GCC defines the final step as modulo) */
#define ITO_U8(v) ((uint8_t)(uint64_t)(v))

#define CONV_F32_F32 TO_F32
#define CONV_F32_F64 TO_F64
#define CONV_F32_I64 FTO_I64
#define CONV_F32_BOOL TO_BOOL
#define CONV_F32_I32 FTO_I32
#define CONV_F32_U8 FTO_U8
#define CONV_F64_F32 TO_F32
#define CONV_F64_F64 TO_F64
#define CONV_F64_I64 FTO_I64
#define CONV_F64_BOOL TO_BOOL
#define CONV_F64_I32 FTO_I32
#define CONV_F64_U8 FTO_U8
#define CONV_I64_F32 TO_F32
#define CONV_I64_F64 TO_F64
#define CONV_I64_I64 ITO_I64
#define CONV_I64_BOOL TO_BOOL
#define CONV_I64_I32 ITO_I32
#define CONV_I64_U8 ITO_U8
#define CONV_BOOL_F32 TO_F32
#define CONV_BOOL_F64 TO_F64
#define CONV_BOOL_I64 ITO_I64
#define CONV_BOOL_BOOL TO_BOOL
#define CONV_BOOL_I32 ITO_I32
#define CONV_BOOL_U8 ITO_U8
#define CONV_I32_F32 TO_F32
#define CONV_I32_F64 TO_F64
#define CONV_I32_I64 ITO_I64
#define CONV_I32_BOOL TO_BOOL
#define CONV_I32_I32 ITO_I32
#define CONV_I32_U8 ITO_U8
#define CONV_U8_F32 TO_F32
#define CONV_U8_F64 TO_F64
#define CONV_U8_I64 ITO_I64
#define CONV_U8_BOOL TO_BOOL
#define CONV_U8_I32 ITO_I32
#define CONV_U8_U8 ITO_U8
/* into the narrow floats from anything: through double (exact for every source but int64 beyond 2^53) */
#define CONV_F32_F16 TO_F16
#define CONV_F32_BF16 TO_BF16
#define CONV_F64_F16 TO_F16
#define CONV_F64_BF16 TO_BF16
#define CONV_I64_F16 TO_F16
#define CONV_I64_BF16 TO_BF16
#define CONV_BOOL_F16 TO_F16
#define CONV_BOOL_BF16 TO_BF16
#define CONV_I32_F16 TO_F16
#define CONV_I32_BF16 TO_BF16
#define CONV_U8_F16 TO_F16
#define CONV_U8_BF16 TO_BF16
/* out of them: read exactly as a double, then as from double */
#define CONV_F16_F32(v) CONV_F64_F32(FROM_F16(v))
#define CONV_F16_F64(v) FROM_F16(v)
#define CONV_F16_I64(v) CONV_F64_I64(FROM_F16(v))
#define CONV_F16_BOOL(v) CONV_F64_BOOL(FROM_F16(v))
#define CONV_F16_I32(v) CONV_F64_I32(FROM_F16(v))
#define CONV_F16_U8(v) CONV_F64_U8(FROM_F16(v))
#define CONV_F16_F16(v) (v)
#define CONV_F16_BF16(v) TO_BF16(FROM_F16(v))
#define CONV_BF16_F32(v) CONV_F64_F32(FROM_BF16(v))
#define CONV_BF16_F64(v) FROM_BF16(v)
#define CONV_BF16_I64(v) CONV_F64_I64(FROM_BF16(v))
#define CONV_BF16_BOOL(v) CONV_F64_BOOL(FROM_BF16(v))
#define CONV_BF16_I32(v) CONV_F64_I32(FROM_BF16(v))
#define CONV_BF16_U8(v) CONV_F64_U8(FROM_BF16(v))
#define CONV_BF16_F16(v) TO_F16(FROM_BF16(v))
#define CONV_BF16_BF16(v) (v)

typedef void (*cast_fn)(int64_t n, const void *x, int64_t sx, void *out, int64_t so);

#define DEFINE_CAST(A, B)                                                                          \
    static void cast_##A##_##B(int64_t n, const void *xv, int64_t sx, void *ov, int64_t so)        \
    {                                                                                              \
        const t_##A *x = xv;                                                                       \
        t_##B *out = ov;                                                                           \
        if (sx == 1 && so == 1)                                                                    \
            for (int64_t i = 0; i < n; i++) out[i] = CONV_##A##_##B(x[i]);                        \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++) out[i * so] = CONV_##A##_##B(x[i * sx]);               \
    }
#define DEFINE_CASTS_FROM(A)                                                                       \
    DEFINE_CAST(A, F32)                                                                            \
    DEFINE_CAST(A, F64)                                                                            \
    DEFINE_CAST(A, I64) DEFINE_CAST(A, BOOL) DEFINE_CAST(A, I32) DEFINE_CAST(A, U8)                 \
    DEFINE_CAST(A, F16) DEFINE_CAST(A, BF16)
DEFINE_CASTS_FROM(F32)
DEFINE_CASTS_FROM(F64)
DEFINE_CASTS_FROM(I64)
DEFINE_CASTS_FROM(BOOL)
DEFINE_CASTS_FROM(I32)
DEFINE_CASTS_FROM(U8)
DEFINE_CASTS_FROM(F16)
DEFINE_CASTS_FROM(BF16)

#define CAST_ROW(A)                                                                                \
    {cast_##A##_F32, cast_##A##_F64, cast_##A##_I64, cast_##A##_BOOL,                             \
     cast_##A##_I32, cast_##A##_U8,  cast_##A##_F16, cast_##A##_BF16}
static const cast_fn cast_table[AGC_NDTYPES][AGC_NDTYPES] = {
    CAST_ROW(F32), CAST_ROW(F64), CAST_ROW(I64), CAST_ROW(BOOL),
    CAST_ROW(I32), CAST_ROW(U8),  CAST_ROW(F16), CAST_ROW(BF16),
};

/* same-dtype copies only move bytes; bool -> bool still normalises nothing (it is a plain copy) */
#define DEFINE_MOVE(W, T)                                                                          \
    static void move_##W(int64_t n, const void *xv, int64_t sx, void *ov, int64_t so)              \
    {                                                                                              \
        const T *x = xv;                                                                           \
        T *out = ov;                                                                               \
        if (sx == 1 && so == 1)                                                                    \
            memcpy(out, x, (size_t)n * sizeof(T));                                                 \
        else if (so == 1)                                                                          \
            for (int64_t i = 0; i < n; i++) out[i] = x[i * sx];                                    \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++) out[i * so] = x[i * sx];                               \
    }
DEFINE_MOVE(1, uint8_t)
DEFINE_MOVE(2, uint16_t)
DEFINE_MOVE(4, uint32_t)
DEFINE_MOVE(8, uint64_t)

typedef struct {
    cast_fn fn;
} copy_ctx;

static void copy_row(void *ctx, int64_t n, char *const *p, const int64_t *s)
{
    ((copy_ctx *)ctx)->fn(n, p[0], s[0], p[1], s[1]);
}

/* Transposing copies go tile by tile: within a TILE x TILE tile, the input's cache lines (along the
 * rows) are reused by the next rows instead of being evicted before their neighbours are read.
 * Measured, 2 threads: 1024 x 1024 float32 transpose 5.3 ms row by row, 1.7 ms tiled (NumPy 5.2 ms). */
#define TILE 32

static void tiled_copy(const agc_iter *it, char *const *base, const int64_t *isz, cast_fn fn)
{
    const int d = it->ndim;
    const int64_t R = it->shape[d - 2], C = it->shape[d - 1];
    const int64_t sxc = it->stride[0][d - 1], sor = it->stride[1][d - 2];
    const int64_t rt = (R + TILE - 1) / TILE, ct = (C + TILE - 1) / TILE;
    int64_t outer = 1;
    for (int k = 0; k < d - 2; k++) outer *= it->shape[k];
    const int64_t ntiles = outer * rt * ct;
    int nt = agc_threads_for(it->numel, AGC_PAR_CHEAP);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (int64_t t = 0; t < ntiles; t++) {
        AGC_PERTURB();
        int64_t o = t / (rt * ct), r0 = (t / ct) % rt * TILE, c0 = t % ct * TILE;
        int64_t offx = 0, offo = 0, rest = o;
        for (int k = d - 3; k >= 0; k--) {
            int64_t i = rest % it->shape[k];
            rest /= it->shape[k];
            offx += i * it->stride[0][k];
            offo += i * it->stride[1][k];
        }
        int64_t nr = R - r0 < TILE ? R - r0 : TILE, nc = C - c0 < TILE ? C - c0 : TILE;
        for (int64_t r = r0; r < r0 + nr; r++)
            fn(nc, base[0] + (offx + r + c0 * sxc) * isz[0], sxc, base[1] + (offo + r * sor + c0) * isz[1], 1);
    }
    (void)nt;
}

static int valid_dtype(int dt)
{
    return dt >= 0 && dt < AGC_NDTYPES;
}

int agc_copy(int ndim, const int64_t *shape, agc_dtype dt_in, const void *x, const int64_t *sx,
             agc_dtype dt_out, void *out, const int64_t *so)
{
    if (!valid_dtype(dt_in) || !valid_dtype(dt_out)) return AGC_EUNSUPPORTED;
    copy_ctx ctx;
    if (dt_in == dt_out) {
        size_t w = agc_dtype_size(dt_in);
        ctx.fn = w == 1 ? move_1 : w == 2 ? move_2 : w == 4 ? move_4 : move_8;
    } else {
        ctx.fn = cast_table[dt_in][dt_out];
    }
    agc_iter it;
    const int64_t *strides[2] = {sx, so};
    agc_iter_init(&it, 2, ndim, shape, strides);
    char *base[2] = {(char *)x, (char *)out};
    int64_t isz[2] = {(int64_t)agc_dtype_size(dt_in), (int64_t)agc_dtype_size(dt_out)};
    int d = it.ndim;
    /* a transpose: the output runs along its last dim, the input along the one before */
    if (d >= 2 && it.stride[1][d - 1] == 1 && it.stride[0][d - 2] == 1 && it.stride[0][d - 1] != 0 &&
        it.stride[0][d - 1] != 1 && it.shape[d - 1] >= TILE && it.shape[d - 2] >= TILE) {
        tiled_copy(&it, base, isz, ctx.fn);
        return AGC_OK;
    }
    agc_iter_run(&it, base, isz, AGC_PAR_CHEAP, copy_row, &ctx);
    return AGC_OK;
}

/* ---------------------------------------------------------------- fill */
typedef struct {
    uint64_t bits; /* the value's bytes, in the low end */
    int width;
} fill_ctx;

#define DEFINE_FILL(W, T)                                                                          \
    static void fill_##W(int64_t n, char *o, int64_t so, uint64_t bits)                           \
    {                                                                                              \
        T v;                                                                                       \
        memcpy(&v, &bits, sizeof(T));                                                                        \
        T *out = (T *)o;                                                                           \
        if (so == 1)                                                                               \
            for (int64_t i = 0; i < n; i++) out[i] = v;                                            \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++) out[i * so] = v;                                       \
    }
DEFINE_FILL(1, uint8_t)
DEFINE_FILL(2, uint16_t)
DEFINE_FILL(4, uint32_t)
DEFINE_FILL(8, uint64_t)

static void fill_row(void *ctx, int64_t n, char *const *p, const int64_t *s)
{
    fill_ctx *c = ctx;
    if (c->width == 1)
        fill_1(n, p[0], s[0], c->bits);
    else if (c->width == 2)
        fill_2(n, p[0], s[0], c->bits);
    else if (c->width == 4)
        fill_4(n, p[0], s[0], c->bits);
    else
        fill_8(n, p[0], s[0], c->bits);
}

int agc_fill(int ndim, const int64_t *shape, agc_dtype dt, void *out, const int64_t *so, double fvalue,
             int64_t ivalue)
{
    if (!valid_dtype(dt)) return AGC_EUNSUPPORTED;
    fill_ctx c;
    c.bits = 0;
    c.width = (int)agc_dtype_size(dt);
    /* the value's bytes go to the start of `bits`, where fill_W's memcpy reads them */
    switch (dt) {
    case AGC_F32: { float v = (float)fvalue; memcpy(&c.bits, &v, 4); break; }
    case AGC_F64: memcpy(&c.bits, &fvalue, 8); break;
    case AGC_I64: memcpy(&c.bits, &ivalue, 8); break;
    case AGC_BOOL: { uint8_t v = fvalue != 0; memcpy(&c.bits, &v, 1); break; }
    case AGC_I32: { int32_t v = ITO_I32(ivalue); memcpy(&c.bits, &v, 4); break; }
    case AGC_U8: { uint8_t v = ITO_U8(ivalue); memcpy(&c.bits, &v, 1); break; }
    case AGC_F16: { uint16_t v = TO_F16(fvalue); memcpy(&c.bits, &v, 2); break; }
    case AGC_BF16: { uint16_t v = TO_BF16(fvalue); memcpy(&c.bits, &v, 2); break; }
    default: return AGC_EUNSUPPORTED;
    }
    agc_iter it;
    const int64_t *strides[1] = {so};
    agc_iter_init(&it, 1, ndim, shape, strides);
    char *base[1] = {(char *)out};
    int64_t isz[1] = {c.width};
    agc_iter_run(&it, base, isz, AGC_PAR_CHEAP, fill_row, &c);
    return AGC_OK;
}
