// The integer product (see include/CDense.h): activations and weights quantized to int16 with
// power-of-two scales, exact int32 sums, one IEEE conversion and three IEEE operations per
// output. Integer sums do not depend on their order, so the versions (scalar, AVX2 and, at the
// AVX-512 level where the CPU has AVX-512BW, AVX-512 with or without VNNI) may block and
// vectorize them as they like; the float steps are written once, in the same order.

#pragma clang fp contract(off)

#include "kernel.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <stdatomic.h>
#endif

static int ceil_log2(ptrdiff_t n) {
  int c = 0;
  while (c < 62 && ((ptrdiff_t)1 << c) < n) c++;
  return c;
}

static int budget(ptrdiff_t inner) { return 30 - ceil_log2(inner > 1 ? inner : 1); }

int bbans_int16_activation_bits(ptrdiff_t inner) {
  const int b = budget(inner) / 2;
  return b < 14 ? b : 14;
}

int bbans_int16_weight_bits(ptrdiff_t inner) {
  const int b = budget(inner) - bbans_int16_activation_bits(inner);
  return b < 14 ? b : 14;
}

static float power_of_two(int e) {
  const uint32_t bits = (uint32_t)(e + 127) << 23;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

// The magnitude bits of x: ordered like |x| for every finite x, ∞ above them, NaN above ∞.
ALWAYS_INLINE uint32_t magnitude_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u & 0x7fffffffu;
}

// The exponent E of the largest magnitude, from its bits (see CDense.h).
static int exponent_of(uint32_t magnitude) {
  if (magnitude >= 0x7f800000u) return 128;
  if (magnitude < (uint32_t)(127 - 60) << 23) return -60;
  return (int)(magnitude >> 23) - 127;
}

// The scale 2^e of a vector whose largest magnitude has these bits, rounded to `bits` bits
// (CDense.h), and its inverse 2^−e.
ALWAYS_INLINE void scales_of(uint32_t largest, int bits, float *scale, float *inverse) {
  const int e = bits - 1 - exponent_of(largest);
  *scale = power_of_two(e);
  *inverse = power_of_two(-e);
}

ALWAYS_INLINE int16_t quantize(float x, float scale, float limit) {
  float v = x * scale;
  if (!(v == v)) return 0;
  if (v > limit) v = limit;
  if (v < -limit) v = -limit;
  // Round to nearest, ties to even: |v| ≤ 2^14, so adding 1.5 · 2^23 leaves no fraction bits
  // and subtracting it back is exact.
  v = (v + 12582912.0f) - 12582912.0f;
  return (int16_t)v;
}

static ptrdiff_t padded_columns(ptrdiff_t columns) { return (columns + 15) / 16 * 16; }

void bbans_int16_pack(
    ptrdiff_t inner, ptrdiff_t columns, const float *w, ptrdiff_t row_stride,
    int16_t *packed, float *column_scales) {
  const ptrdiff_t padded = padded_columns(columns), pairs = (inner + 1) / 2;
  const int bits = bbans_int16_weight_bits(inner);
  const float limit = (float)(1 << bits);
  memset(packed, 0, sizeof(int16_t) * (size_t)(pairs * padded * 2));
  for (ptrdiff_t j = 0; j < padded; j++) {
    if (j >= columns) {
      column_scales[j] = 1.0f;
      continue;
    }
    uint32_t largest = 0;
    for (ptrdiff_t t = 0; t < inner; t++) {
      const uint32_t m = magnitude_bits(w[t * row_stride + j]);
      if (m > largest) largest = m;
    }
    float scale;
    scales_of(largest, bits, &scale, &column_scales[j]);
    for (ptrdiff_t t = 0; t < inner; t++)
      packed[(t / 2) * padded * 2 + j * 2 + t % 2] = quantize(w[t * row_stride + j], scale, limit);
  }
}

// The rows of one block, quantized: q[(r · pairs + k) · 2 + i] = A(r, 2k + i) (0 past inner),
// and each row's 1 / s_r.
ALWAYS_INLINE void quantize_rows(
    ptrdiff_t rows, ptrdiff_t inner, const float *a, ptrdiff_t a_row_stride, int bits,
    int16_t *q, float *inverse_scales) {
  const ptrdiff_t pairs = (inner + 1) / 2;
  const float limit = (float)(1 << bits);
  for (ptrdiff_t r = 0; r < rows; r++) {
    const float *row = a + r * a_row_stride;
    uint32_t largest = 0;
    for (ptrdiff_t t = 0; t < inner; t++) {
      const uint32_t m = magnitude_bits(row[t]);
      largest = m > largest ? m : largest;
    }
    float scale;
    scales_of(largest, bits, &scale, &inverse_scales[r]);
    int16_t *out = q + r * pairs * 2;
    for (ptrdiff_t t = 0; t < inner; t++) out[t] = quantize(row[t], scale, limit);
    if (inner % 2) out[inner] = 0;
  }
}

// C[r][j] for one output: the float steps of every version.
ALWAYS_INLINE float finish(int32_t acc, float inverse_row_scale, float column_scale, float start) {
  return start + ((float)acc * inverse_row_scale) * column_scale;
}

// The portable version: tiles of up to 4 rows × 8 columns whose int32 sums stay in registers
// while the pairs of inputs go by. On x86-64 with SSE2's pmaddwd (8 products per instruction,
// like the AVX2 tile below at half the width); elsewhere (NEON) with vector extensions, each
// pair's weights split into the first and second input's and widened to int32. Exact sums, so
// both give the AVX2 version's bits. (BBANS_INT16_GENERIC builds the second on x86-64 too, so
// that it can be checked on a machine without NEON.)
#if defined(__x86_64__) && !defined(BBANS_INT16_GENERIC)
#define PORTABLE_TILE(ROWS_)                                                                    \
  do {                                                                                          \
    enum { ROWS = ROWS_ };                                                                      \
    __m128i acc[ROWS][2];                                                                       \
    for (int i = 0; i < ROWS; i++) acc[i][0] = acc[i][1] = _mm_setzero_si128();                \
    const int16_t *wp = packed + j * 2;                                                         \
    const int16_t *qp = q + r * pairs * 2;                                                      \
    for (ptrdiff_t k = 0; k < pairs; k++) {                                                     \
      const __m128i w0 = _mm_loadu_si128((const __m128i *)wp);                                  \
      const __m128i w1 = _mm_loadu_si128((const __m128i *)(wp + 8));                            \
      for (int i = 0; i < ROWS; i++) {                                                          \
        int32_t pair;                                                                           \
        memcpy(&pair, qp + i * pairs * 2 + 2 * k, sizeof pair);                                 \
        const __m128i x = _mm_set1_epi32(pair);                                                 \
        acc[i][0] = _mm_add_epi32(acc[i][0], _mm_madd_epi16(x, w0));                            \
        acc[i][1] = _mm_add_epi32(acc[i][1], _mm_madd_epi16(x, w1));                            \
      }                                                                                         \
      wp += padded * 2;                                                                         \
    }                                                                                           \
    for (int i = 0; i < ROWS; i++) {                                                            \
      int32_t sums[8];                                                                          \
      _mm_storeu_si128((__m128i *)sums, acc[i][0]);                                             \
      _mm_storeu_si128((__m128i *)(sums + 4), acc[i][1]);                                       \
      store_sums(sums, columns - j < 8 ? columns - j : 8, inverse_scales[r + i], column_scales + j, \
                 start ? start + j : NULL, c + (r + i) * c_row_stride + j);                     \
    }                                                                                           \
  } while (0)
#else
typedef int16_t v8i16 __attribute__((vector_size(16)));
typedef int16_t v4i16 __attribute__((vector_size(8)));
typedef int32_t v4i32 __attribute__((vector_size(16)));
#define PORTABLE_TILE(ROWS_)                                                                    \
  do {                                                                                          \
    enum { ROWS = ROWS_ };                                                                      \
    v4i32 acc[ROWS][2];                                                                         \
    for (int i = 0; i < ROWS; i++) acc[i][0] = acc[i][1] = (v4i32){0, 0, 0, 0};                 \
    const int16_t *wp = packed + j * 2;                                                         \
    const int16_t *qp = q + r * pairs * 2;                                                      \
    for (ptrdiff_t k = 0; k < pairs; k++) {                                                     \
      v4i32 first[2], second[2];                                                                \
      for (int v = 0; v < 2; v++) {                                                             \
        v8i16 w;                                                                                \
        memcpy(&w, wp + 8 * v, sizeof w);                                                       \
        first[v] = __builtin_convertvector(__builtin_shufflevector(w, w, 0, 2, 4, 6), v4i32);   \
        second[v] = __builtin_convertvector(__builtin_shufflevector(w, w, 1, 3, 5, 7), v4i32);  \
      }                                                                                         \
      for (int i = 0; i < ROWS; i++) {                                                          \
        const int32_t x0 = qp[i * pairs * 2 + 2 * k], x1 = qp[i * pairs * 2 + 2 * k + 1];       \
        for (int v = 0; v < 2; v++) acc[i][v] += first[v] * x0 + second[v] * x1;               \
      }                                                                                         \
      wp += padded * 2;                                                                         \
    }                                                                                           \
    for (int i = 0; i < ROWS; i++) {                                                            \
      int32_t sums[8];                                                                          \
      memcpy(sums, &acc[i][0], sizeof acc[i][0]);                                               \
      memcpy(sums + 4, &acc[i][1], sizeof acc[i][1]);                                           \
      store_sums(sums, columns - j < 8 ? columns - j : 8, inverse_scales[r + i], column_scales + j, \
                 start ? start + j : NULL, c + (r + i) * c_row_stride + j);                     \
    }                                                                                           \
  } while (0)
#endif

// Up to 8 outputs of one row from their sums.
ALWAYS_INLINE void store_sums(const int32_t *sums, ptrdiff_t count, float inverse_row_scale,
                              const float *column_scales, const float *start, float *c) {
  for (ptrdiff_t l = 0; l < count; l++) c[l] = finish(sums[l], inverse_row_scale, column_scales[l], start ? start[l] : 0.0f);
}

static void block_portable(
    ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t pairs, const int16_t *q, const float *inverse_scales,
    const int16_t *packed, const float *column_scales, const float *start, float *c, ptrdiff_t c_row_stride) {
  const ptrdiff_t padded = padded_columns(columns);
  for (ptrdiff_t j = 0; j < columns; j += 8) {
    ptrdiff_t r = 0;
    for (; r + 4 <= rows; r += 4) PORTABLE_TILE(4);
    for (; r < rows; r++) PORTABLE_TILE(1);
  }
}

#if defined(__x86_64__)
// One AVX2 tile: ROWS rows × VECTORS vectors of 8 columns from column j. vpmaddwd multiplies a
// broadcast pair of one row's activations by the pair of weights of 8 columns and adds the two
// products: 16 products per instruction.
#define AVX2_TILE(ROWS_, VECTORS_)                                                              \
  do {                                                                                          \
    enum { ROWS = ROWS_, VECTORS = VECTORS_ };                                                  \
    __m256i acc[ROWS][VECTORS];                                                                 \
    for (int i = 0; i < ROWS; i++)                                                              \
      for (int v = 0; v < VECTORS; v++) acc[i][v] = _mm256_setzero_si256();                     \
    const int16_t *wp = packed + j * 2;                                                         \
    const int16_t *qp = q + r * pairs * 2;                                                      \
    for (ptrdiff_t k = 0; k < pairs; k++) {                                                     \
      __m256i wv[VECTORS];                                                                      \
      for (int v = 0; v < VECTORS; v++) wv[v] = _mm256_loadu_si256((const __m256i *)(wp + v * 16)); \
      for (int i = 0; i < ROWS; i++) {                                                          \
        int32_t pair;                                                                           \
        memcpy(&pair, qp + i * pairs * 2 + 2 * k, sizeof pair);                                 \
        const __m256i x = _mm256_set1_epi32(pair);                                              \
        for (int v = 0; v < VECTORS; v++) acc[i][v] = _mm256_add_epi32(acc[i][v], _mm256_madd_epi16(x, wv[v])); \
      }                                                                                         \
      wp += padded * 2;                                                                         \
    }                                                                                           \
    for (int i = 0; i < ROWS; i++) {                                                            \
      const __m256 inverse = _mm256_set1_ps(inverse_scales[r + i]);                             \
      for (int v = 0; v < VECTORS; v++) {                                                       \
        const ptrdiff_t jj = j + v * 8;                                                         \
        __m256 s = _mm256_setzero_ps();                                                         \
        float lanes[8];                                                                         \
        if (start) {                                                                            \
          if (jj + 8 <= columns) s = _mm256_loadu_ps(start + jj);                               \
          else {                                                                                \
            for (int l = 0; l < 8; l++) lanes[l] = jj + l < columns ? start[jj + l] : 0.0f;     \
            s = _mm256_loadu_ps(lanes);                                                         \
          }                                                                                     \
        }                                                                                       \
        const __m256 value = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[i][v]), inverse);            \
        const __m256 out = _mm256_add_ps(s, _mm256_mul_ps(value, _mm256_loadu_ps(column_scales + jj))); \
        float *target = c + (r + i) * c_row_stride + jj;                                        \
        if (jj + 8 <= columns) _mm256_storeu_ps(target, out);                                   \
        else {                                                                                  \
          _mm256_storeu_ps(lanes, out);                                                         \
          for (ptrdiff_t l = 0; jj + l < columns; l++) target[l] = lanes[l];                    \
        }                                                                                       \
      }                                                                                         \
    }                                                                                           \
  } while (0)

// quantize_rows with 8 values at a time: the same largest magnitude (an unsigned max of the
// magnitude bits), the same multiply, NaN to 0, clamp and rounding as `quantize`.
__attribute__((target("avx2"))) static void quantize_rows_avx2(
    ptrdiff_t rows, ptrdiff_t inner, const float *a, ptrdiff_t a_row_stride, int bits,
    int16_t *q, float *inverse_scales) {
  const ptrdiff_t pairs = (inner + 1) / 2;
  const float limit = (float)(1 << bits);
  const __m256i magnitude_mask = _mm256_set1_epi32(0x7fffffff);
  const __m256 high = _mm256_set1_ps(limit), low = _mm256_set1_ps(-limit), magic = _mm256_set1_ps(12582912.0f);
  for (ptrdiff_t r = 0; r < rows; r++) {
    const float *row = a + r * a_row_stride;
    __m256i largest8 = _mm256_setzero_si256();
    ptrdiff_t t = 0;
    for (; t + 8 <= inner; t += 8)
      largest8 = _mm256_max_epu32(largest8, _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(row + t)), magnitude_mask));
    uint32_t lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, largest8);
    uint32_t largest = 0;
    for (int l = 0; l < 8; l++) largest = lanes[l] > largest ? lanes[l] : largest;
    for (; t < inner; t++) {
      const uint32_t m = magnitude_bits(row[t]);
      largest = m > largest ? m : largest;
    }
    float scale;
    scales_of(largest, bits, &scale, &inverse_scales[r]);
    const __m256 scale8 = _mm256_set1_ps(scale);
    int16_t *out = q + r * pairs * 2;
    t = 0;
    for (; t + 16 <= inner; t += 16) {
      __m256i v[2];
      for (int h = 0; h < 2; h++) {
        __m256 x = _mm256_mul_ps(_mm256_loadu_ps(row + t + 8 * h), scale8);
        x = _mm256_and_ps(x, _mm256_cmp_ps(x, x, _CMP_ORD_Q));
        x = _mm256_max_ps(_mm256_min_ps(x, high), low);
        x = _mm256_sub_ps(_mm256_add_ps(x, magic), magic);
        v[h] = _mm256_cvttps_epi32(x);
      }
      const __m256i packed = _mm256_permute4x64_epi64(_mm256_packs_epi32(v[0], v[1]), 0xd8);
      _mm256_storeu_si256((__m256i *)(out + t), packed);
    }
    for (; t < inner; t++) out[t] = quantize(row[t], scale, limit);
    if (inner % 2) out[inner] = 0;
  }
}

__attribute__((target("avx2"))) static void block_avx2(
    ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t pairs, const int16_t *q, const float *inverse_scales,
    const int16_t *packed, const float *column_scales, const float *start, float *c, ptrdiff_t c_row_stride) {
  const ptrdiff_t padded = padded_columns(columns);
  for (ptrdiff_t j = 0; j < columns; j += 16) {
    // 6 × 2 accumulators, 2 of weights, 1 broadcast: 15 of the 16 registers.
    ptrdiff_t r = 0;
    if (columns - j > 8) {
      for (; r + 6 <= rows; r += 6) AVX2_TILE(6, 2);
      for (; r < rows; r++) AVX2_TILE(1, 2);
    } else {
      for (; r + 6 <= rows; r += 6) AVX2_TILE(6, 1);
      for (; r < rows; r++) AVX2_TILE(1, 1);
    }
  }
}

// One AVX-512 tile: ROWS rows × VECTORS vectors of 16 columns from column j (the packed
// weights' padding makes every vector whole). MADD(acc, x, w) adds the pair products of x and w
// to acc: vpmaddwd and vpaddd with AVX-512BW, one vpdpwssd with AVX-512 VNNI; both wrap the
// same exact int32 sums (no saturation), so both give the other versions' bits.
#define AVX512_TILE(ROWS_, VECTORS_, MADD)                                                      \
  do {                                                                                          \
    enum { ROWS = ROWS_, VECTORS = VECTORS_ };                                                  \
    __m512i acc[ROWS][VECTORS];                                                                 \
    for (int i = 0; i < ROWS; i++)                                                              \
      for (int v = 0; v < VECTORS; v++) acc[i][v] = _mm512_setzero_si512();                     \
    const int16_t *wp = packed + j * 2;                                                         \
    const int16_t *qp = q + r * pairs * 2;                                                      \
    for (ptrdiff_t k = 0; k < pairs; k++) {                                                     \
      __m512i wv[VECTORS];                                                                      \
      for (int v = 0; v < VECTORS; v++) wv[v] = _mm512_loadu_si512((const void *)(wp + v * 32)); \
      for (int i = 0; i < ROWS; i++) {                                                          \
        int32_t pair;                                                                           \
        memcpy(&pair, qp + i * pairs * 2 + 2 * k, sizeof pair);                                 \
        const __m512i x = _mm512_set1_epi32(pair);                                              \
        for (int v = 0; v < VECTORS; v++) acc[i][v] = MADD(acc[i][v], x, wv[v]);               \
      }                                                                                         \
      wp += padded * 2;                                                                         \
    }                                                                                           \
    for (int i = 0; i < ROWS; i++) {                                                            \
      const __m512 inverse = _mm512_set1_ps(inverse_scales[r + i]);                             \
      for (int v = 0; v < VECTORS; v++) {                                                       \
        const ptrdiff_t jj = j + v * 16;                                                        \
        const ptrdiff_t width = columns - jj < 16 ? columns - jj : 16;                          \
        const __mmask16 live = (__mmask16)((1u << width) - 1);                                  \
        const __m512 s = start ? _mm512_maskz_loadu_ps(live, start + jj) : _mm512_setzero_ps(); \
        const __m512 value = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[i][v]), inverse);            \
        const __m512 out = _mm512_add_ps(s, _mm512_mul_ps(value, _mm512_loadu_ps(column_scales + jj))); \
        _mm512_mask_storeu_ps(c + (r + i) * c_row_stride + jj, live, out);                      \
      }                                                                                         \
    }                                                                                           \
  } while (0)

#define MADD_BW(acc, x, w) _mm512_add_epi32((acc), _mm512_madd_epi16((x), (w)))
#define MADD_VNNI(acc, x, w) _mm512_dpwssd_epi32((acc), (x), (w))

// Panels of 3, 2 or 1 vectors (48, 32 or 16 columns); tiles of 8 rows, then single rows:
// 8 × 3 accumulators, 3 of weights and 1 broadcast, 28 of the 32 registers.
#define DEFINE_BLOCK_AVX512(NAME, ATTRIBUTES, MADD)                                             \
  ATTRIBUTES static void NAME(                                                                  \
      ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t pairs, const int16_t *q, const float *inverse_scales, \
      const int16_t *packed, const float *column_scales, const float *start, float *c, ptrdiff_t c_row_stride) { \
    const ptrdiff_t padded = padded_columns(columns);                                           \
    for (ptrdiff_t j = 0; j < columns;) {                                                       \
      const ptrdiff_t left = columns - j;                                                       \
      ptrdiff_t r = 0;                                                                          \
      if (left > 32) {                                                                          \
        for (; r + 8 <= rows; r += 8) AVX512_TILE(8, 3, MADD);                                  \
        for (; r < rows; r++) AVX512_TILE(1, 3, MADD);                                          \
        j += 48;                                                                                \
      } else if (left > 16) {                                                                   \
        for (; r + 8 <= rows; r += 8) AVX512_TILE(8, 2, MADD);                                  \
        for (; r < rows; r++) AVX512_TILE(1, 2, MADD);                                          \
        j += 32;                                                                                \
      } else {                                                                                  \
        for (; r + 8 <= rows; r += 8) AVX512_TILE(8, 1, MADD);                                  \
        for (; r < rows; r++) AVX512_TILE(1, 1, MADD);                                          \
        j += 16;                                                                                \
      }                                                                                         \
    }                                                                                           \
  }

DEFINE_BLOCK_AVX512(block_avx512bw, __attribute__((target("avx512f,avx512bw"))), MADD_BW)
DEFINE_BLOCK_AVX512(block_avx512vnni, __attribute__((target("avx512f,avx512bw,avx512vnni"))), MADD_VNNI)

// Which AVX-512 integer version the CPU runs, once AVX-512F (and the OS's ZMM state) is known to
// run: 2 with VNNI (CPUID leaf 7: EBX bit 30 BW, ECX bit 11 VNNI), 1 with BW only, 0 without.
static int avx512_integer_kind(void) {
  static _Atomic int kind = -1;
  int k = atomic_load_explicit(&kind, memory_order_relaxed);
  if (k >= 0) return k;
  unsigned eax, ebx, ecx, edx;
  k = 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (ebx & (1u << 30))) k = (ecx & (1u << 11)) ? 2 : 1;
  atomic_store_explicit(&kind, k, memory_order_relaxed);
  return k;
}
#endif

// Rows are quantized a block at a time into a buffer on the stack: at most 24,576 values.
enum { QUANTIZED_CAPACITY = 24576, BLOCK_ROWS = 24 };

// The versions: 0 portable, 1 AVX2, 2 AVX-512BW, 3 AVX-512 VNNI.
static int supported_variant(void) {
  const int level = bbans_dense_supported_level();
#if defined(__x86_64__)
  if (level >= BBANS_DENSE_AVX512) {
    const int kind = avx512_integer_kind();
    if (kind > 0) return 1 + kind;
  }
#endif
  return level >= BBANS_DENSE_AVX2 ? 1 : 0;
}

int bbans_int16_supported_variant(void) { return supported_variant(); }

void bbans_int16_product_variant(
    int variant,
    ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t inner,
    const float *a, ptrdiff_t a_row_stride,
    const int16_t *packed, const float *column_scales,
    const float *start,
    float *c, ptrdiff_t c_row_stride) {
  if (rows <= 0 || columns <= 0) return;
  const ptrdiff_t pairs = (inner + 1) / 2;
  if (pairs == 0) {
    for (ptrdiff_t r = 0; r < rows; r++)
      for (ptrdiff_t j = 0; j < columns; j++) c[r * c_row_stride + j] = finish(0, 1.0f, column_scales[j], start ? start[j] : 0.0f);
    return;
  }
  ptrdiff_t block = QUANTIZED_CAPACITY / (2 * pairs);
  if (block > BLOCK_ROWS) block = BLOCK_ROWS;
  if (block < 1) block = 1;  // inner ≤ QUANTIZED_CAPACITY: the caller checks
  int16_t q[QUANTIZED_CAPACITY];
  float inverse_scales[BLOCK_ROWS];
  const int bits = bbans_int16_activation_bits(inner);
  const int most = supported_variant();
  if (variant > most) variant = most;
  for (ptrdiff_t r = 0; r < rows; r += block) {
    const ptrdiff_t n = rows - r < block ? rows - r : block;
    float *out = c + r * c_row_stride;
#if defined(__x86_64__)
    if (variant >= 1) {
      quantize_rows_avx2(n, inner, a + r * a_row_stride, a_row_stride, bits, q, inverse_scales);
      switch (variant) {
        case 3: block_avx512vnni(n, columns, pairs, q, inverse_scales, packed, column_scales, start, out, c_row_stride); break;
        case 2: block_avx512bw(n, columns, pairs, q, inverse_scales, packed, column_scales, start, out, c_row_stride); break;
        default: block_avx2(n, columns, pairs, q, inverse_scales, packed, column_scales, start, out, c_row_stride); break;
      }
      continue;
    }
#endif
    quantize_rows(n, inner, a + r * a_row_stride, a_row_stride, bits, q, inverse_scales);
    block_portable(n, columns, pairs, q, inverse_scales, packed, column_scales, start, out, c_row_stride);
  }
}

// A level's version: AVX-512 where the level is 2 and the CPU has AVX-512BW (with VNNI if it
// has it), AVX2 at level 1 (and at 2 without BW), portable at 0.
void bbans_int16_product_at_level(
    int level,
    ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t inner,
    const float *a, ptrdiff_t a_row_stride,
    const int16_t *packed, const float *column_scales,
    const float *start,
    float *c, ptrdiff_t c_row_stride) {
  level = supported_level_at_most(level);
  const int variant = level >= BBANS_DENSE_AVX512 ? 3 : (level >= BBANS_DENSE_AVX2 ? 1 : 0);
  bbans_int16_product_variant(variant, rows, columns, inner, a, a_row_stride, packed, column_scales, start, c,
                              c_row_stride);
}

void bbans_int16_product(
    ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t inner,
    const float *a, ptrdiff_t a_row_stride,
    const int16_t *packed, const float *column_scales,
    const float *start,
    float *c, ptrdiff_t c_row_stride) {
  bbans_int16_product_at_level(bbans_dense_level(), rows, columns, inner, a, a_row_stride, packed, column_scales,
                               start, c, c_row_stride);
}
