// CBLAS: OpenBLAS (cblas.h) and LAPACKE for Swift, plus the few vector kernels that Swift
// cannot express with the instruction set chosen at run time.
//
// Why the kernels live here: Swift code is compiled for the baseline x86-64 (SSE2), so a Swift
// dot product cannot use AVX2/FMA without making the whole binary require them. These
// `static inline` functions carry `target("avx2,fma")` or `target("avx512f,...")` and are chosen
// at run time by `deja_simd_level()`, like usearch's and simsimd's dispatch.
// The graph logic stays in Swift; only the inner products are here.

#ifndef DEJA_CBLAS_SHIM_H
#define DEJA_CBLAS_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define DEJA_X86_64 1
#else
#define DEJA_X86_64 0
#endif

/// Asks the CPU to start loading the cache line that holds `p`.
static inline void deja_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// Prefetches `bytes` bytes starting at `p`, one cache line at a time.
static inline void deja_prefetch_range(const void *p, size_t bytes) {
    const char *c = (const char *)p;
    for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(c + off, 0, 3);
}

/// The kernel levels, best last: what `deja_simd_level()` answers and every kernel takes as its
/// `level` argument (a level the CPU lacks must never be passed).
#define DEJA_SIMD_PORTABLE 0
#define DEJA_SIMD_AVX2 1
#define DEJA_SIMD_AVX512 2
/// AVX-512 with VNNI (Ice Lake-SP, Sapphire/Emerald Rapids, Zen 4): the float kernels are the
/// AVX-512 ones; products of int8 vectors use `vpdpbusd`.
#define DEJA_SIMD_AVX512_VNNI 3

/// The best kernel level this CPU runs: AVX-512 needs F, BW, DQ and VL (Skylake-SP, Zen 4 and
/// later); AVX2 needs FMA too (Haswell, Zen 1 and later).
static inline int deja_simd_level(void) {
#if DEJA_X86_64
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return DEJA_SIMD_PORTABLE;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return __builtin_cpu_supports("avx512vnni") ? DEJA_SIMD_AVX512_VNNI : DEJA_SIMD_AVX512;
    return DEJA_SIMD_AVX2;
#else
    return DEJA_SIMD_PORTABLE;
#endif
}

/// Extensions beyond the kernel level, reported beside it (bit 0 VNNI, 1 BF16, 2 AMX).
static inline int deja_cpu_extensions(void) {
#if DEJA_X86_64
    __builtin_cpu_init();
    int bits = 0;
    if (__builtin_cpu_supports("avx512vnni") || __builtin_cpu_supports("avxvnni")) bits |= 1;
    if (__builtin_cpu_supports("avx512bf16")) bits |= 2;
    if (__builtin_cpu_supports("amx-tile")) bits |= 4;
    return bits;
#else
    return 0;
#endif
}

/// Portable inner product: four accumulators so that the compiler can vectorise it with the
/// baseline instruction set (SSE2 on x86-64, NEON on arm64).
static inline float deja_dot_portable(const float *a, const float *b, size_t n) {
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

#if DEJA_X86_64
__attribute__((target("avx2,fma")))
static inline float deja_dot_avx2(const float *a, const float *b, size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    }
    __m256 acc = _mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3));
    __m128 lo = _mm256_castps256_ps128(acc);
    __m128 hi = _mm256_extractf128_ps(acc, 1);
    __m128 s = _mm_add_ps(lo, hi);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    float sum = _mm_cvtss_f32(s);
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

__attribute__((target("avx2,fma")))
static inline void deja_dot_rows_avx2(const float *q, const float *base, size_t dim,
                                      const uint32_t *rows, size_t count, float *out) {
    const size_t rowBytes = dim * sizeof(float);
    (void)rowBytes;
    for (size_t r = 0; r < count; r++) {
        if (r + 1 < count) __builtin_prefetch(base + (size_t)rows[r + 1] * dim, 0, 3);
        out[r] = deja_dot_avx2(q, base + (size_t)rows[r] * dim, dim);
    }
}

/// The AVX-512 inner product: four 16-float accumulators, the tail under a mask (no scalar loop).
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
static inline float deja_dot_avx512(const float *a, const float *b, size_t n) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
        acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), acc2);
        acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), acc3);
    }
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    }
    if (i < n) {
        __mmask16 live = (__mmask16)((1u << (n - i)) - 1u);
        acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(live, a + i), _mm512_maskz_loadu_ps(live, b + i), acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
static inline void deja_dot_rows_avx512(const float *q, const float *base, size_t dim,
                                        const uint32_t *rows, size_t count, float *out) {
    for (size_t r = 0; r < count; r++) {
        if (r + 1 < count) __builtin_prefetch(base + (size_t)rows[r + 1] * dim, 0, 3);
        out[r] = deja_dot_avx512(q, base + (size_t)rows[r] * dim, dim);
    }
}
#endif

static inline void deja_dot_rows_portable(const float *q, const float *base, size_t dim,
                                          const uint32_t *rows, size_t count, float *out) {
    const size_t rowBytes = dim * sizeof(float);
    for (size_t r = 0; r < count; r++) {
        if (r + 1 < count) deja_prefetch_range(base + (size_t)rows[r + 1] * dim, rowBytes);
        out[r] = deja_dot_portable(q, base + (size_t)rows[r] * dim, dim);
    }
}

/// Inner product of two `n`-float vectors with the kernel of `level` (at most `deja_simd_level()`).
static inline float deja_dot(int level, const float *a, const float *b, size_t n) {
#if DEJA_X86_64
    if (level >= DEJA_SIMD_AVX512) return deja_dot_avx512(a, b, n);
    if (level == DEJA_SIMD_AVX2) return deja_dot_avx2(a, b, n);
#endif
    return deja_dot_portable(a, b, n);
}

/// `out[r] = <q, base[rows[r]]>` for each of `count` row numbers of the row-major matrix `base`
/// (`dim` floats per row), prefetching the next row while the current one is multiplied.
static inline void deja_dot_rows(int level, const float *q, const float *base, size_t dim,
                                 const uint32_t *rows, size_t count, float *out) {
#if DEJA_X86_64
    if (level >= DEJA_SIMD_AVX512) { deja_dot_rows_avx512(q, base, dim, rows, count, out); return; }
    if (level == DEJA_SIMD_AVX2) { deja_dot_rows_avx2(q, base, dim, rows, count, out); return; }
#endif
    deja_dot_rows_portable(q, base, dim, rows, count, out);
}


// MARK: - int8 vectors (an HNSW index with `vectors: int8`)
//
// A stored vector is `dim` signed bytes and one float scale; the query stays in float, so the
// only error is the stored side's rounding (asymmetric distance). Pairs of stored vectors (the
// link heuristic while building) multiply byte by byte into 32-bit sums, which is exact.

/// Σ q[i]·c[i] for a float query and int8 codes.
static inline float deja_dot_f32_i8_portable(const float *q, const int8_t *c, size_t n) {
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += q[i] * (float)c[i];
        s1 += q[i + 1] * (float)c[i + 1];
        s2 += q[i + 2] * (float)c[i + 2];
        s3 += q[i + 3] * (float)c[i + 3];
    }
    for (; i < n; i++) s0 += q[i] * (float)c[i];
    return (s0 + s1) + (s2 + s3);
}

/// Σ a[i]·b[i] of two int8 code vectors, exact in 32 bits for n < 133,000.
static inline int32_t deja_dot_i8_i8_portable(const int8_t *a, const int8_t *b, size_t n) {
    int32_t s = 0;
    for (size_t i = 0; i < n; i++) s += (int32_t)a[i] * (int32_t)b[i];
    return s;
}

#if DEJA_X86_64
__attribute__((target("avx2,fma")))
static inline float deja_dot_f32_i8_avx2(const float *q, const int8_t *c, size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 c0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(c + i))));
        __m256 c1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(c + i + 8))));
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), c0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), c1, acc1);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 c0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(c + i))));
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), c0, acc0);
    }
    __m256 acc = _mm256_add_ps(acc0, acc1);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    float sum = _mm_cvtss_f32(s);
    for (; i < n; i++) sum += q[i] * (float)c[i];
    return sum;
}

__attribute__((target("avx2,fma")))
static inline int32_t deja_dot_i8_i8_avx2(const int8_t *a, const int8_t *b, size_t n) {
    __m256i acc = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i x = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i)));
        __m256i y = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i)));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, y));
    }
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    int32_t sum = _mm_cvtsi128_si32(s);
    for (; i < n; i++) sum += (int32_t)a[i] * (int32_t)b[i];
    return sum;
}

/// The AVX-512 form: 16 bytes widened to 16 floats per step, the tail under a mask.
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
static inline float deja_dot_f32_i8_avx512(const float *q, const int8_t *c, size_t n) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 c0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(c + i))));
        __m512 c1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(c + i + 16))));
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), c0, acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 16), c1, acc1);
    }
    for (; i + 16 <= n; i += 16) {
        __m512 c0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(c + i))));
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), c0, acc0);
    }
    if (i < n) {
        __mmask16 live = (__mmask16)((1u << (n - i)) - 1u);
        __m512 c0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(live, c + i)));
        acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(live, q + i), c0, acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
static inline int32_t deja_dot_i8_i8_avx512(const int8_t *a, const int8_t *b, size_t n) {
    __m512i acc = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512i x = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(a + i)));
        __m512i y = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(b + i)));
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(x, y));
    }
    if (i < n) {
        __mmask32 live = (__mmask32)((n - i) >= 32 ? 0xFFFFFFFFu : ((1u << (n - i)) - 1u));
        __m512i x = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(live, a + i));
        __m512i y = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(live, b + i));
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(x, y));
    }
    return _mm512_reduce_add_epi32(acc);
}

/// Σ a[i]·b[i] of two int8 code vectors with VNNI, exact: `vpdpbusd` multiplies unsigned bytes
/// by signed ones and adds each four products into a 32-bit lane, so `a` is moved to unsigned
/// (a + 128: its sign bit flipped) and 128·Σb taken off again. 64 bytes a step where the
/// AVX-512 kernel above widens 32 to 16 bits first. Exact in 32 bits for n < 1,000,000.
__attribute__((target("avx512f,avx512bw,avx512vnni")))
static inline int32_t deja_dot_i8_i8_vnni(const int8_t *a, const int8_t *b, size_t n) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    const __m512i ones = _mm512_set1_epi8(1);
    __m512i acc = _mm512_setzero_si512(), sum = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i y = _mm512_loadu_si512((const void *)(b + i));
        acc = _mm512_dpbusd_epi32(acc, _mm512_xor_si512(_mm512_loadu_si512((const void *)(a + i)), flip), y);
        sum = _mm512_dpbusd_epi32(sum, ones, y);
    }
    if (i < n) {
        // Lanes past the end load as 0 in b, so whatever a holds there adds nothing.
        __mmask64 live = (__mmask64)((1ULL << (n - i)) - 1ULL);
        __m512i y = _mm512_maskz_loadu_epi8(live, b + i);
        acc = _mm512_dpbusd_epi32(acc, _mm512_xor_si512(_mm512_maskz_loadu_epi8(live, a + i), flip), y);
        sum = _mm512_dpbusd_epi32(sum, ones, y);
    }
    return _mm512_reduce_add_epi32(acc) - 128 * _mm512_reduce_add_epi32(sum);
}
#endif

/// Σ q[i]·c[i] (float query, int8 codes) with the kernel of `level`.
static inline float deja_dot_f32_i8(int level, const float *q, const int8_t *c, size_t n) {
#if DEJA_X86_64
    if (level >= DEJA_SIMD_AVX512) return deja_dot_f32_i8_avx512(q, c, n);
    if (level == DEJA_SIMD_AVX2) return deja_dot_f32_i8_avx2(q, c, n);
#endif
    return deja_dot_f32_i8_portable(q, c, n);
}

/// Rounds the normalised `v` to int8 `codes`, its largest component to ±127, and returns
/// Σ codes[i]² (0, codes all 0, for a zero vector). Plain loops without branches, which the
/// compiler vectorises at any SIMD level: converted and range-checked one component at a time in
/// Swift, this was 1 % of a semantic hit's samples for its query alone. Rounds to nearest even
/// by adding and taking off 1.5 · 2²³ (a float that large has no fractional bits).
static inline int64_t deja_quantize_i8(const float *v, size_t n, int8_t *codes) {
    float largest = 0;
    for (size_t i = 0; i < n; i++) {
        float a = v[i] < 0 ? -v[i] : v[i];
        largest = a > largest ? a : largest;
    }
    if (!(largest > 0)) {
        for (size_t i = 0; i < n; i++) codes[i] = 0;
        return 0;
    }
    const float factor = 127.0f / largest, bias = 12582912.0f;
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        float scaled = v[i] * factor;
        scaled = scaled < -127.0f ? -127.0f : (scaled > 127.0f ? 127.0f : scaled);
        int32_t c = (int32_t)((scaled + bias) - bias);
        codes[i] = (int8_t)c;
        sum += c * c;
    }
    return sum;
}

/// Σ a[i]·b[i] of two int8 code vectors with the kernel of `level`.
static inline int32_t deja_dot_i8_i8(int level, const int8_t *a, const int8_t *b, size_t n) {
#if DEJA_X86_64
    if (level >= DEJA_SIMD_AVX512_VNNI) return deja_dot_i8_i8_vnni(a, b, n);
    if (level >= DEJA_SIMD_AVX512) return deja_dot_i8_i8_avx512(a, b, n);
    if (level == DEJA_SIMD_AVX2) return deja_dot_i8_i8_avx2(a, b, n);
#endif
    return deja_dot_i8_i8_portable(a, b, n);
}

/// `out[r] = scales[rows[r]] · Σ q[i]·codes[rows[r]][i]`: the int8 form of `deja_dot_rows`.
static inline void deja_dot_rows_i8(int level, const float *q, const int8_t *codes, const float *scales,
                                    size_t dim, const uint32_t *rows, size_t count, float *out) {
    for (size_t r = 0; r < count; r++) {
        if (r + 1 < count) deja_prefetch_range(codes + (size_t)rows[r + 1] * dim, dim);
        out[r] = scales[rows[r]] * deja_dot_f32_i8(level, q, codes + (size_t)rows[r] * dim, dim);
    }
}

/// `out[r] = qscale · scales[rows[r]] · Σ qcodes[i]·codes[rows[r]][i]`: the rows against a query
/// rounded to int8 as well (`qcodes`, `qscale`), all in integer products.
static inline void deja_dot_rows_i8_i8(int level, const int8_t *qcodes, float qscale, const int8_t *codes,
                                       const float *scales, size_t dim, const uint32_t *rows, size_t count,
                                       float *out) {
    for (size_t r = 0; r < count; r++) {
        if (r + 1 < count) deja_prefetch_range(codes + (size_t)rows[r + 1] * dim, dim);
        out[r] = qscale * scales[rows[r]] * (float)deja_dot_i8_i8(level, qcodes, codes + (size_t)rows[r] * dim, dim);
    }
}

// MARK: - Transformer kernels (the MiniLM embedder)
//
// The element-wise steps between the matrix products: bias, GELU, layer norm, softmax. Each is
// written as plain C (the portable path) and, for GELU and layer norm, again with AVX2 intrinsics
// for the same arithmetic; the two agree up to rounding.

#include <math.h>

/// erf(x) for float as x·P(x²)/Q(x²) on [-4, 4] (outside it erf is ±1 in float). Absolute
/// error below 5e-7 against a double-precision erf; no branches, so the loops vectorise.
static inline __attribute__((always_inline)) float deja_erf_rational(float x) {
    x = x < -4.0f ? -4.0f : (x > 4.0f ? 4.0f : x);
    const float x2 = x * x;
    float p = -2.72614225801306e-10f;
    p = p * x2 + 2.77068142495902e-08f;
    p = p * x2 + -2.10102402082508e-06f;
    p = p * x2 + -5.69250639462346e-05f;
    p = p * x2 + -7.34990630326855e-04f;
    p = p * x2 + -2.95459980854025e-03f;
    p = p * x2 + -1.60960333262415e-02f;
    float q = -1.45660718464996e-05f;
    q = q * x2 + -2.13374055278905e-04f;
    q = q * x2 + -1.68282697438203e-03f;
    q = q * x2 + -7.37332916720468e-03f;
    q = q * x2 + -1.42647390514189e-02f;
    return x * p / q;
}

/// x[r][c] = gelu(x[r][c] + bias[c]) with the exact (erf) GELU: 0.5·v·(1 + erf(v/√2)).
static inline __attribute__((always_inline)) void deja_bias_gelu_body(float *x, size_t rows, size_t cols, const float *bias) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * cols;
        for (size_t c = 0; c < cols; c++) {
            const float v = row[c] + bias[c];
            row[c] = 0.5f * v * (1.0f + deja_erf_rational(v * 0.70710678118654752f));
        }
    }
}

/// h[r] = layerNorm(h[r] + d[r] + bias)·gamma + beta, per row of `cols` floats; `d` and `bias`
/// may be NULL (then only the layer norm). Mean and variance in float, as PyTorch does.
static inline __attribute__((always_inline)) void deja_add_layer_norm_body(
    float *h, const float *d, const float *bias, const float *gamma, const float *beta,
    size_t rows, size_t cols, float eps) {
    for (size_t r = 0; r < rows; r++) {
        float *row = h + r * cols;
        if (d) {
            const float *dr = d + r * cols;
            if (bias) { for (size_t c = 0; c < cols; c++) row[c] += dr[c] + bias[c]; }
            else { for (size_t c = 0; c < cols; c++) row[c] += dr[c]; }
        }
        float sum = 0.0f;
        for (size_t c = 0; c < cols; c++) sum += row[c];
        const float mean = sum / (float)cols;
        float var = 0.0f;
        for (size_t c = 0; c < cols; c++) { const float t = row[c] - mean; var += t * t; }
        const float inv = 1.0f / sqrtf(var / (float)cols + eps);
        for (size_t c = 0; c < cols; c++) row[c] = (row[c] - mean) * inv * gamma[c] + beta[c];
    }
}

#if DEJA_X86_64
/// `deja_erf_rational` on eight lanes, the same coefficients in the same order.
__attribute__((target("avx2,fma")))
static inline __m256 deja_erf_rational8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-4.0f)), _mm256_set1_ps(4.0f));
    const __m256 x2 = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-2.72614225801306e-10f);
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(2.77068142495902e-08f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-2.10102402082508e-06f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-5.69250639462346e-05f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-7.34990630326855e-04f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-2.95459980854025e-03f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-1.60960333262415e-02f));
    __m256 q = _mm256_set1_ps(-1.45660718464996e-05f);
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-2.13374055278905e-04f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-1.68282697438203e-03f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-7.37332916720468e-03f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-1.42647390514189e-02f));
    return _mm256_div_ps(_mm256_mul_ps(x, p), q);
}

/// Written with intrinsics: the loops of the plain body are not vectorised when Swift's clang
/// compiles this header (measured: scalar `vfmadd213ss`, 8 ns per element).
__attribute__((target("avx2,fma")))
static inline void deja_bias_gelu_avx2(float *x, size_t rows, size_t cols, const float *bias) {
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 invSqrt2 = _mm256_set1_ps(0.70710678118654752f);
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * cols;
        size_t c = 0;
        for (; c + 8 <= cols; c += 8) {
            const __m256 v = _mm256_add_ps(_mm256_loadu_ps(row + c), _mm256_loadu_ps(bias + c));
            const __m256 e = deja_erf_rational8(_mm256_mul_ps(v, invSqrt2));
            _mm256_storeu_ps(row + c, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, e)));
        }
        for (; c < cols; c++) {
            const float v = row[c] + bias[c];
            row[c] = 0.5f * v * (1.0f + deja_erf_rational(v * 0.70710678118654752f));
        }
    }
}

__attribute__((target("avx2,fma")))
static inline float deja_sum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// The plain body when `cols` is not a multiple of 8; intrinsics otherwise (see GELU above).
__attribute__((target("avx2,fma")))
static inline void deja_add_layer_norm_avx2(float *h, const float *d, const float *bias, const float *gamma,
                                            const float *beta, size_t rows, size_t cols, float eps) {
    if (cols % 8 != 0) { deja_add_layer_norm_body(h, d, bias, gamma, beta, rows, cols, eps); return; }
    for (size_t r = 0; r < rows; r++) {
        float *row = h + r * cols;
        __m256 sum = _mm256_setzero_ps();
        for (size_t c = 0; c < cols; c += 8) {
            __m256 v = _mm256_loadu_ps(row + c);
            if (d) v = _mm256_add_ps(v, _mm256_loadu_ps(d + r * cols + c));
            if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + c));
            _mm256_storeu_ps(row + c, v);
            sum = _mm256_add_ps(sum, v);
        }
        const __m256 mean = _mm256_set1_ps(deja_sum8(sum) / (float)cols);
        __m256 var = _mm256_setzero_ps();
        for (size_t c = 0; c < cols; c += 8) {
            const __m256 t = _mm256_sub_ps(_mm256_loadu_ps(row + c), mean);
            var = _mm256_fmadd_ps(t, t, var);
        }
        const __m256 inv = _mm256_set1_ps(1.0f / sqrtf(deja_sum8(var) / (float)cols + eps));
        for (size_t c = 0; c < cols; c += 8) {
            const __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(row + c), mean), inv);
            _mm256_storeu_ps(row + c, _mm256_fmadd_ps(t, _mm256_loadu_ps(gamma + c), _mm256_loadu_ps(beta + c)));
        }
    }
}
#endif

/// x[r][c] = gelu(x[r][c] + bias[c]), exact GELU. `avx2`: a level as for `deja_dot` (AVX2 or
/// better takes the AVX2 path).
static inline void deja_bias_gelu(int avx2, float *x, size_t rows, size_t cols, const float *bias) {
#if DEJA_X86_64
    if (avx2) { deja_bias_gelu_avx2(x, rows, cols, bias); return; }
#endif
    deja_bias_gelu_body(x, rows, cols, bias);
}

/// h = layerNorm(h + d + bias)·gamma + beta per row; `d` and `bias` may be NULL.
static inline void deja_add_layer_norm(int avx2, float *h, const float *d, const float *bias, const float *gamma,
                                       const float *beta, size_t rows, size_t cols, float eps) {
#if DEJA_X86_64
    if (avx2) { deja_add_layer_norm_avx2(h, d, bias, gamma, beta, rows, cols, eps); return; }
#endif
    deja_add_layer_norm_body(h, d, bias, gamma, beta, rows, cols, eps);
}

/// x[r][c] += bias[c].
static inline void deja_add_bias(float *x, size_t rows, size_t cols, const float *bias) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * cols;
        for (size_t c = 0; c < cols; c++) row[c] += bias[c];
    }
}

/// Softmax of each row of a `rows` × `cols` matrix with leading dimension `ld`, in place.
static inline void deja_softmax_rows(float *x, size_t rows, size_t cols, size_t ld) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * ld;
        float m = row[0];
        for (size_t c = 1; c < cols; c++) m = row[c] > m ? row[c] : m;
        float sum = 0.0f;
        for (size_t c = 0; c < cols; c++) { row[c] = expf(row[c] - m); sum += row[c]; }
        const float inv = 1.0f / sum;
        for (size_t c = 0; c < cols; c++) row[c] *= inv;
    }
}

/// The index of the first of `s[0..<n]` above `threshold`, or `n` when none is: how an exact
/// search ranks a block of scores, where after the first few rows almost none can enter the
/// top k. The scalar loop cost about 1 ns a score, a fifth of a batched search's time once
/// OpenBLAS's AVX-512 kernels made the product itself fast (AMD Zen 5).
static inline size_t deja_first_above_portable(const float *s, size_t n, float threshold) {
    size_t i = 0;
    while (i < n && !(s[i] > threshold)) i++;
    return i;
}

#if DEJA_X86_64
__attribute__((target("avx2")))
static inline size_t deja_first_above_avx2(const float *s, size_t n, float threshold) {
    const __m256 t = _mm256_set1_ps(threshold);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 a = _mm256_cmp_ps(_mm256_loadu_ps(s + i), t, _CMP_GT_OQ);
        __m256 b = _mm256_cmp_ps(_mm256_loadu_ps(s + i + 8), t, _CMP_GT_OQ);
        __m256 c = _mm256_cmp_ps(_mm256_loadu_ps(s + i + 16), t, _CMP_GT_OQ);
        __m256 d = _mm256_cmp_ps(_mm256_loadu_ps(s + i + 24), t, _CMP_GT_OQ);
        if (_mm256_movemask_ps(_mm256_or_ps(_mm256_or_ps(a, b), _mm256_or_ps(c, d))) != 0) break;
    }
    return i + deja_first_above_portable(s + i, n - i, threshold);
}

__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
static inline size_t deja_first_above_avx512(const float *s, size_t n, float threshold) {
    const __m512 t = _mm512_set1_ps(threshold);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __mmask16 a = _mm512_cmp_ps_mask(_mm512_loadu_ps(s + i), t, _CMP_GT_OQ);
        __mmask16 b = _mm512_cmp_ps_mask(_mm512_loadu_ps(s + i + 16), t, _CMP_GT_OQ);
        __mmask16 c = _mm512_cmp_ps_mask(_mm512_loadu_ps(s + i + 32), t, _CMP_GT_OQ);
        __mmask16 d = _mm512_cmp_ps_mask(_mm512_loadu_ps(s + i + 48), t, _CMP_GT_OQ);
        if ((a | b | c | d) != 0) break;
    }
    return i + deja_first_above_portable(s + i, n - i, threshold);
}
#endif

static inline size_t deja_first_above(int level, const float *s, size_t n, float threshold) {
#if DEJA_X86_64
    if (level >= DEJA_SIMD_AVX512) return deja_first_above_avx512(s, n, threshold);
    if (level >= DEJA_SIMD_AVX2) return deja_first_above_avx2(s, n, threshold);
#endif
    return deja_first_above_portable(s, n, threshold);
}

// ---- Small matrix products with weights packed once ---------------------------------------
//
// `y = x · W` for a short x (a sentence or two: 1 to ~100 rows) and a fixed W. OpenBLAS packs W
// into panels on every call, which a product of 18 rows cannot amortise (a fifth of MiniLM's
// time at batch 1). Here W is packed once, at load, into panels of 16 columns, `[n/16][k][16]`,
// and a 6 × 16 micro-kernel walks a panel with 12 accumulators, as GotoBLAS-style kernels do.
// The kernel is inline assembly rather than intrinsics so that its speed does not depend on the
// optimisation level of the Swift module that includes this header (debug builds compile these
// functions at -O0, where intrinsics run ten times slower).

/// Packs the row-major `[k][n]` matrix `w` into `n / 16` panels of `[k][16]` (n a multiple of 16).
static inline void deja_pack_panels(const float *w, size_t k, size_t n, float *panels) {
    for (size_t j = 0; j < n; j += 16)
        for (size_t i = 0; i < k; i++) memcpy(panels + j * k + i * 16, w + i * n + j, 16 * sizeof(float));
}

#if DEJA_X86_64
/// out[6][16] = the six rows x[0..5] (k floats each) · panel[k][16]. AVX2 and FMA.
static inline void deja_kernel_6x16(const float *const x[6], size_t k, const float *panel, float *out) {
    const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3], *x4 = x[4], *x5 = x[5];
    size_t i = 0;
    __asm__ volatile(
        "vxorps %%ymm4, %%ymm4, %%ymm4\n\t"
        "vxorps %%ymm5, %%ymm5, %%ymm5\n\t"
        "vxorps %%ymm6, %%ymm6, %%ymm6\n\t"
        "vxorps %%ymm7, %%ymm7, %%ymm7\n\t"
        "vxorps %%ymm8, %%ymm8, %%ymm8\n\t"
        "vxorps %%ymm9, %%ymm9, %%ymm9\n\t"
        "vxorps %%ymm10, %%ymm10, %%ymm10\n\t"
        "vxorps %%ymm11, %%ymm11, %%ymm11\n\t"
        "vxorps %%ymm12, %%ymm12, %%ymm12\n\t"
        "vxorps %%ymm13, %%ymm13, %%ymm13\n\t"
        "vxorps %%ymm14, %%ymm14, %%ymm14\n\t"
        "vxorps %%ymm15, %%ymm15, %%ymm15\n\t"
        "test %[k], %[k]\n\t"
        "jz 2f\n\t"
        "1:\n\t"
        "vmovups (%[p]), %%ymm0\n\t"
        "vmovups 32(%[p]), %%ymm1\n\t"
        "vbroadcastss (%[x0],%[i],4), %%ymm2\n\t"
        "vbroadcastss (%[x1],%[i],4), %%ymm3\n\t"
        "vfmadd231ps %%ymm0, %%ymm2, %%ymm4\n\t"
        "vfmadd231ps %%ymm1, %%ymm2, %%ymm5\n\t"
        "vfmadd231ps %%ymm0, %%ymm3, %%ymm6\n\t"
        "vfmadd231ps %%ymm1, %%ymm3, %%ymm7\n\t"
        "vbroadcastss (%[x2],%[i],4), %%ymm2\n\t"
        "vbroadcastss (%[x3],%[i],4), %%ymm3\n\t"
        "vfmadd231ps %%ymm0, %%ymm2, %%ymm8\n\t"
        "vfmadd231ps %%ymm1, %%ymm2, %%ymm9\n\t"
        "vfmadd231ps %%ymm0, %%ymm3, %%ymm10\n\t"
        "vfmadd231ps %%ymm1, %%ymm3, %%ymm11\n\t"
        "vbroadcastss (%[x4],%[i],4), %%ymm2\n\t"
        "vbroadcastss (%[x5],%[i],4), %%ymm3\n\t"
        "vfmadd231ps %%ymm0, %%ymm2, %%ymm12\n\t"
        "vfmadd231ps %%ymm1, %%ymm2, %%ymm13\n\t"
        "vfmadd231ps %%ymm0, %%ymm3, %%ymm14\n\t"
        "vfmadd231ps %%ymm1, %%ymm3, %%ymm15\n\t"
        "add $64, %[p]\n\t"
        "inc %[i]\n\t"
        "cmp %[k], %[i]\n\t"
        "jb 1b\n\t"
        "2:\n\t"
        "vmovups %%ymm4, (%[out])\n\t"
        "vmovups %%ymm5, 32(%[out])\n\t"
        "vmovups %%ymm6, 64(%[out])\n\t"
        "vmovups %%ymm7, 96(%[out])\n\t"
        "vmovups %%ymm8, 128(%[out])\n\t"
        "vmovups %%ymm9, 160(%[out])\n\t"
        "vmovups %%ymm10, 192(%[out])\n\t"
        "vmovups %%ymm11, 224(%[out])\n\t"
        "vmovups %%ymm12, 256(%[out])\n\t"
        "vmovups %%ymm13, 288(%[out])\n\t"
        "vmovups %%ymm14, 320(%[out])\n\t"
        "vmovups %%ymm15, 352(%[out])\n\t"
        "vzeroupper\n\t"
        : [p] "+r"(panel), [i] "+r"(i)
        : [k] "r"(k), [x0] "r"(x0), [x1] "r"(x1), [x2] "r"(x2), [x3] "r"(x3), [x4] "r"(x4), [x5] "r"(x5), [out] "r"(out)
        : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
          "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}


/// out[8][32] = the eight rows of x (k floats each, `ldx` floats apart) · the two adjacent
/// 16-wide panels `pa` and `pb` ([k][16] each). AVX-512: 16 accumulators of 16 floats, one
/// broadcast per row per step, so each step does 16 fused multiply-adds of 16 lanes against
/// the 6 × 16 kernel's 12 of 8. Each step also asks for the panels' lines 16 steps ahead: at
/// batch 1 the weights (42 MB for MiniLM) come from L3 or memory on every sentence, and on an
/// Intel Xeon (Emerald Rapids) this prefetch made one-thread sentences 1.06-1.27× faster.
static inline void deja_kernel_8x32_avx512(const float *x, size_t ldx, size_t k, const float *pa, const float *pb,
                                           float *out) {
    const float *x0 = x, *x4 = x + 4 * ldx;
    size_t s = ldx * sizeof(float), s3 = 3 * ldx * sizeof(float);
    __asm__ volatile(
        "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
        "vpxord %%zmm1, %%zmm1, %%zmm1\n\t"
        "vpxord %%zmm2, %%zmm2, %%zmm2\n\t"
        "vpxord %%zmm3, %%zmm3, %%zmm3\n\t"
        "vpxord %%zmm4, %%zmm4, %%zmm4\n\t"
        "vpxord %%zmm5, %%zmm5, %%zmm5\n\t"
        "vpxord %%zmm6, %%zmm6, %%zmm6\n\t"
        "vpxord %%zmm7, %%zmm7, %%zmm7\n\t"
        "vpxord %%zmm8, %%zmm8, %%zmm8\n\t"
        "vpxord %%zmm9, %%zmm9, %%zmm9\n\t"
        "vpxord %%zmm10, %%zmm10, %%zmm10\n\t"
        "vpxord %%zmm11, %%zmm11, %%zmm11\n\t"
        "vpxord %%zmm12, %%zmm12, %%zmm12\n\t"
        "vpxord %%zmm13, %%zmm13, %%zmm13\n\t"
        "vpxord %%zmm14, %%zmm14, %%zmm14\n\t"
        "vpxord %%zmm15, %%zmm15, %%zmm15\n\t"
        "test %[k], %[k]\n\t"
        "jz 2f\n\t"
        "1:\n\t"
        "prefetcht0 1024(%[pa])\n\t"
        "prefetcht0 1024(%[pb])\n\t"
        "vmovups (%[pa]), %%zmm16\n\t"
        "vmovups (%[pb]), %%zmm17\n\t"
        "vbroadcastss (%[x0]), %%zmm18\n\t"
        "vfmadd231ps %%zmm16, %%zmm18, %%zmm0\n\t"
        "vfmadd231ps %%zmm17, %%zmm18, %%zmm1\n\t"
        "vbroadcastss (%[x0],%[s],1), %%zmm19\n\t"
        "vfmadd231ps %%zmm16, %%zmm19, %%zmm2\n\t"
        "vfmadd231ps %%zmm17, %%zmm19, %%zmm3\n\t"
        "vbroadcastss (%[x0],%[s],2), %%zmm20\n\t"
        "vfmadd231ps %%zmm16, %%zmm20, %%zmm4\n\t"
        "vfmadd231ps %%zmm17, %%zmm20, %%zmm5\n\t"
        "vbroadcastss (%[x0],%[s3],1), %%zmm21\n\t"
        "vfmadd231ps %%zmm16, %%zmm21, %%zmm6\n\t"
        "vfmadd231ps %%zmm17, %%zmm21, %%zmm7\n\t"
        "vbroadcastss (%[x4]), %%zmm18\n\t"
        "vfmadd231ps %%zmm16, %%zmm18, %%zmm8\n\t"
        "vfmadd231ps %%zmm17, %%zmm18, %%zmm9\n\t"
        "vbroadcastss (%[x4],%[s],1), %%zmm19\n\t"
        "vfmadd231ps %%zmm16, %%zmm19, %%zmm10\n\t"
        "vfmadd231ps %%zmm17, %%zmm19, %%zmm11\n\t"
        "vbroadcastss (%[x4],%[s],2), %%zmm20\n\t"
        "vfmadd231ps %%zmm16, %%zmm20, %%zmm12\n\t"
        "vfmadd231ps %%zmm17, %%zmm20, %%zmm13\n\t"
        "vbroadcastss (%[x4],%[s3],1), %%zmm21\n\t"
        "vfmadd231ps %%zmm16, %%zmm21, %%zmm14\n\t"
        "vfmadd231ps %%zmm17, %%zmm21, %%zmm15\n\t"
        "add $64, %[pa]\n\t"
        "add $64, %[pb]\n\t"
        "add $4, %[x0]\n\t"
        "add $4, %[x4]\n\t"
        "dec %[k]\n\t"
        "jnz 1b\n\t"
        "2:\n\t"
        "vmovups %%zmm0, 0(%[out])\n\t"
        "vmovups %%zmm1, 64(%[out])\n\t"
        "vmovups %%zmm2, 128(%[out])\n\t"
        "vmovups %%zmm3, 192(%[out])\n\t"
        "vmovups %%zmm4, 256(%[out])\n\t"
        "vmovups %%zmm5, 320(%[out])\n\t"
        "vmovups %%zmm6, 384(%[out])\n\t"
        "vmovups %%zmm7, 448(%[out])\n\t"
        "vmovups %%zmm8, 512(%[out])\n\t"
        "vmovups %%zmm9, 576(%[out])\n\t"
        "vmovups %%zmm10, 640(%[out])\n\t"
        "vmovups %%zmm11, 704(%[out])\n\t"
        "vmovups %%zmm12, 768(%[out])\n\t"
        "vmovups %%zmm13, 832(%[out])\n\t"
        "vmovups %%zmm14, 896(%[out])\n\t"
        "vmovups %%zmm15, 960(%[out])\n\t"
        "vzeroupper\n\t"
        : [pa] "+r"(pa), [pb] "+r"(pb), [x0] "+r"(x0), [x4] "+r"(x4), [k] "+r"(k)
        : [s] "r"(s), [s3] "r"(s3), [out] "r"(out)
        : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
          "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21");
}


/// out[12][32] = the twelve rows of x (k floats each, `ldx` floats apart) · the two adjacent
/// 16-wide panels `pa` and `pb`: the 8 × 32 kernel with four more rows, 24 accumulators of the
/// 32 registers. A 34-row product (a 34-token sentence) is then three tiles, 36 rows computed,
/// where eight-row tiles compute 40 and read each pair of panels five times instead of three.
static inline void deja_kernel_12x32_avx512(const float *x, size_t ldx, size_t k, const float *pa, const float *pb,
                                            float *out) {
    const float *x0 = x, *x4 = x + 4 * ldx, *x8 = x + 8 * ldx;
    size_t s = ldx * sizeof(float), s3 = 3 * ldx * sizeof(float);
    __asm__ volatile(
        "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
        "vpxord %%zmm1, %%zmm1, %%zmm1\n\t"
        "vpxord %%zmm2, %%zmm2, %%zmm2\n\t"
        "vpxord %%zmm3, %%zmm3, %%zmm3\n\t"
        "vpxord %%zmm4, %%zmm4, %%zmm4\n\t"
        "vpxord %%zmm5, %%zmm5, %%zmm5\n\t"
        "vpxord %%zmm6, %%zmm6, %%zmm6\n\t"
        "vpxord %%zmm7, %%zmm7, %%zmm7\n\t"
        "vpxord %%zmm8, %%zmm8, %%zmm8\n\t"
        "vpxord %%zmm9, %%zmm9, %%zmm9\n\t"
        "vpxord %%zmm10, %%zmm10, %%zmm10\n\t"
        "vpxord %%zmm11, %%zmm11, %%zmm11\n\t"
        "vpxord %%zmm12, %%zmm12, %%zmm12\n\t"
        "vpxord %%zmm13, %%zmm13, %%zmm13\n\t"
        "vpxord %%zmm14, %%zmm14, %%zmm14\n\t"
        "vpxord %%zmm15, %%zmm15, %%zmm15\n\t"
        "vpxord %%zmm16, %%zmm16, %%zmm16\n\t"
        "vpxord %%zmm17, %%zmm17, %%zmm17\n\t"
        "vpxord %%zmm18, %%zmm18, %%zmm18\n\t"
        "vpxord %%zmm19, %%zmm19, %%zmm19\n\t"
        "vpxord %%zmm20, %%zmm20, %%zmm20\n\t"
        "vpxord %%zmm21, %%zmm21, %%zmm21\n\t"
        "vpxord %%zmm22, %%zmm22, %%zmm22\n\t"
        "vpxord %%zmm23, %%zmm23, %%zmm23\n\t"
        "test %[k], %[k]\n\t"
        "jz 2f\n\t"
        "1:\n\t"
        "prefetcht0 1024(%[pa])\n\t"
        "prefetcht0 1024(%[pb])\n\t"
        "vmovups (%[pa]), %%zmm24\n\t"
        "vmovups (%[pb]), %%zmm25\n\t"
        "vbroadcastss (%[x0]), %%zmm26\n\t"
        "vfmadd231ps %%zmm24, %%zmm26, %%zmm0\n\t"
        "vfmadd231ps %%zmm25, %%zmm26, %%zmm1\n\t"
        "vbroadcastss (%[x0],%[s],1), %%zmm27\n\t"
        "vfmadd231ps %%zmm24, %%zmm27, %%zmm2\n\t"
        "vfmadd231ps %%zmm25, %%zmm27, %%zmm3\n\t"
        "vbroadcastss (%[x0],%[s],2), %%zmm28\n\t"
        "vfmadd231ps %%zmm24, %%zmm28, %%zmm4\n\t"
        "vfmadd231ps %%zmm25, %%zmm28, %%zmm5\n\t"
        "vbroadcastss (%[x0],%[s3],1), %%zmm29\n\t"
        "vfmadd231ps %%zmm24, %%zmm29, %%zmm6\n\t"
        "vfmadd231ps %%zmm25, %%zmm29, %%zmm7\n\t"
        "vbroadcastss (%[x4]), %%zmm30\n\t"
        "vfmadd231ps %%zmm24, %%zmm30, %%zmm8\n\t"
        "vfmadd231ps %%zmm25, %%zmm30, %%zmm9\n\t"
        "vbroadcastss (%[x4],%[s],1), %%zmm31\n\t"
        "vfmadd231ps %%zmm24, %%zmm31, %%zmm10\n\t"
        "vfmadd231ps %%zmm25, %%zmm31, %%zmm11\n\t"
        "vbroadcastss (%[x4],%[s],2), %%zmm26\n\t"
        "vfmadd231ps %%zmm24, %%zmm26, %%zmm12\n\t"
        "vfmadd231ps %%zmm25, %%zmm26, %%zmm13\n\t"
        "vbroadcastss (%[x4],%[s3],1), %%zmm27\n\t"
        "vfmadd231ps %%zmm24, %%zmm27, %%zmm14\n\t"
        "vfmadd231ps %%zmm25, %%zmm27, %%zmm15\n\t"
        "vbroadcastss (%[x8]), %%zmm28\n\t"
        "vfmadd231ps %%zmm24, %%zmm28, %%zmm16\n\t"
        "vfmadd231ps %%zmm25, %%zmm28, %%zmm17\n\t"
        "vbroadcastss (%[x8],%[s],1), %%zmm29\n\t"
        "vfmadd231ps %%zmm24, %%zmm29, %%zmm18\n\t"
        "vfmadd231ps %%zmm25, %%zmm29, %%zmm19\n\t"
        "vbroadcastss (%[x8],%[s],2), %%zmm30\n\t"
        "vfmadd231ps %%zmm24, %%zmm30, %%zmm20\n\t"
        "vfmadd231ps %%zmm25, %%zmm30, %%zmm21\n\t"
        "vbroadcastss (%[x8],%[s3],1), %%zmm31\n\t"
        "vfmadd231ps %%zmm24, %%zmm31, %%zmm22\n\t"
        "vfmadd231ps %%zmm25, %%zmm31, %%zmm23\n\t"
        "add $64, %[pa]\n\t"
        "add $64, %[pb]\n\t"
        "add $4, %[x0]\n\t"
        "add $4, %[x4]\n\t"
        "add $4, %[x8]\n\t"
        "dec %[k]\n\t"
        "jnz 1b\n\t"
        "2:\n\t"
        "vmovups %%zmm0, 0(%[out])\n\t"
        "vmovups %%zmm1, 64(%[out])\n\t"
        "vmovups %%zmm2, 128(%[out])\n\t"
        "vmovups %%zmm3, 192(%[out])\n\t"
        "vmovups %%zmm4, 256(%[out])\n\t"
        "vmovups %%zmm5, 320(%[out])\n\t"
        "vmovups %%zmm6, 384(%[out])\n\t"
        "vmovups %%zmm7, 448(%[out])\n\t"
        "vmovups %%zmm8, 512(%[out])\n\t"
        "vmovups %%zmm9, 576(%[out])\n\t"
        "vmovups %%zmm10, 640(%[out])\n\t"
        "vmovups %%zmm11, 704(%[out])\n\t"
        "vmovups %%zmm12, 768(%[out])\n\t"
        "vmovups %%zmm13, 832(%[out])\n\t"
        "vmovups %%zmm14, 896(%[out])\n\t"
        "vmovups %%zmm15, 960(%[out])\n\t"
        "vmovups %%zmm16, 1024(%[out])\n\t"
        "vmovups %%zmm17, 1088(%[out])\n\t"
        "vmovups %%zmm18, 1152(%[out])\n\t"
        "vmovups %%zmm19, 1216(%[out])\n\t"
        "vmovups %%zmm20, 1280(%[out])\n\t"
        "vmovups %%zmm21, 1344(%[out])\n\t"
        "vmovups %%zmm22, 1408(%[out])\n\t"
        "vmovups %%zmm23, 1472(%[out])\n\t"
        "vzeroupper\n\t"
        : [pa] "+r"(pa), [pb] "+r"(pb), [x0] "+r"(x0), [x4] "+r"(x4), [x8] "+r"(x8), [k] "+r"(k)
        : [s] "r"(s), [s3] "r"(s3), [out] "r"(out)
        : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
          "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22",
          "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
}

#endif

/// How many 12-row tiles (the rest in 8-row ones) cover `rows` (eight or more) with the fewest
/// rows computed, the last tile overlapping the one before when they do not divide `rows`;
/// among plans computing as many rows, the one with fewer tiles, which reads the weights fewer
/// times. 34 rows: three of 12 (36 rows) rather than five of 8 (40); 16 rows: two of 8.
static inline size_t deja_twelve_row_tiles(size_t rows) {
    size_t best = 0, fewest = (rows + 7) / 8 * 8;
    for (size_t twelves = 1; rows >= 12 && (twelves - 1) * 12 < rows; twelves++) {
        size_t rest = twelves * 12 >= rows ? 0 : rows - twelves * 12;
        size_t computed = twelves * 12 + (rest + 7) / 8 * 8;
        if (computed <= fewest) { best = twelves; fewest = computed; }
    }
    return best;
}

/// Columns `[j0, j1)` (multiples of 16) of `y[rows][n] = x[rows][k] · W`, W packed by
/// `deja_pack_panels`: the share of one thread when several split a product by columns.
/// `level` picks the kernels: with AVX-512 and eight rows or more, each pair of panels goes to
/// the 12 × 32 and 8 × 32 kernels in the tiles `deja_twelve_row_tiles` plans, while the pair is
/// still in cache; an odd panel left, and products of fewer than eight rows, go to the 6 × 16
/// kernel. Returns 0, having done nothing, when it cannot (level below AVX2, not x86-64, k over
/// 4096, n not a multiple of 16): the caller then uses `cblas_sgemm`.
///
/// The last rows once went to the 6 × 16 kernel in a sweep of their own over every panel, which
/// read the whole matrix a second time: at batch 1 the weights come from L3 on every sentence,
/// and a 34-token sentence (32 rows in tiles, 2 left) paid for that second read. Recomputing a
/// few rows at full width costs less than the AVX2 kernel's six rows at half width.
static inline int deja_gemm_packed_columns(int level, const float *x, size_t rows, size_t k, const float *panels,
                                           size_t n, size_t j0, size_t j1, float *y) {
#if DEJA_X86_64
    static const float zeros[4096];
    if (level < DEJA_SIMD_AVX2 || k > 4096 || n % 16 != 0 || j0 % 16 != 0 || j1 > n) return 0;
    float tile[384];
    size_t j = j0;
    if (level >= DEJA_SIMD_AVX512 && rows >= 8) {
        size_t twelves = deja_twelve_row_tiles(rows);
        for (; j + 32 <= j1; j += 32) {
            const float *pa = panels + j * k, *pb = panels + (j + 16) * k;
            size_t done = 0;
            for (size_t t = 0; done < rows; t++) {
                size_t height = t < twelves ? 12 : 8;
                // A last tile that would run past the end takes the last `height` rows instead,
                // overlapping the tile before: those rows come out the same again (each row's
                // sums run in the same order in every kernel), and only the new ones are kept.
                size_t r = done + height > rows ? rows - height : done;
                if (height == 12) deja_kernel_12x32_avx512(x + r * k, k, k, pa, pb, tile);
                else deja_kernel_8x32_avx512(x + r * k, k, k, pa, pb, tile);
                for (size_t i = done - r; i < height; i++) memcpy(y + (r + i) * n + j, tile + i * 32, 32 * sizeof(float));
                done = r + height;
            }
        }
    }
    // The AVX2 kernel: every column left (all of them below eight rows, else an odd panel), every
    // row.
    for (size_t c = j; c < j1; c += 16) {
        const float *panel = panels + c * k;
        for (size_t r = 0; r < rows; r += 6) {
            // A last tile of fewer than six rows multiplies rows of zeros in their place.
            size_t live = rows - r < 6 ? rows - r : 6;
            const float *xr[6];
            for (size_t t = 0; t < 6; t++) xr[t] = t < live ? x + (r + t) * k : zeros;
            deja_kernel_6x16(xr, k, panel, tile);
            for (size_t t = 0; t < live; t++) memcpy(y + (r + t) * n + c, tile + t * 16, 16 * sizeof(float));
        }
    }
    return 1;
#else
    (void)level; (void)x; (void)rows; (void)k; (void)panels; (void)n; (void)j0; (void)j1; (void)y;
    return 0;
#endif
}

/// `y[rows][n] = x[rows][k] · W` with W packed by `deja_pack_panels`, on this thread; 0 when it
/// cannot (see `deja_gemm_packed_columns`).
static inline int deja_gemm_packed(int level, const float *x, size_t rows, size_t k, const float *panels, size_t n,
                                   float *y) {
    return deja_gemm_packed_columns(level, x, rows, k, panels, n, 0, n, y);
}

#include "team.h"

#endif
