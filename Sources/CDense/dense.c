// The dense-layer kernel (see include/CDense.h): one loop nest, compiled for three instruction
// sets. Each version blocks C into tiles of 4 rows × 2 vectors (8 accumulators in registers),
// then 1 vector, then narrower vectors, then single elements; inside a tile every
// accumulator runs t = 0, 1, … with a separate multiply and add. Tile shapes differ between
// versions, the arithmetic of an element does not, so all versions give the same bits.

// Never fuse a·b + c into an FMA: AVX-512F implies FMA, and a fused add rounds once instead
// of twice, which would make the AVX-512 version disagree with the others.
#pragma clang fp contract(off)

#include "CDense.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

typedef float v4f __attribute__((vector_size(16)));
typedef float v8f __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));

#define ALWAYS_INLINE static inline __attribute__((always_inline))

// Loads and stores at any alignment (memcpy of a constant size becomes one instruction).
#define DEFINE_MEMORY(VT)                                                                       \
  ALWAYS_INLINE VT load_##VT(const float *p) { VT v; memcpy(&v, p, sizeof v); return v; }     \
  ALWAYS_INLINE void store_##VT(float *p, VT v) { memcpy(p, &v, sizeof v); }

DEFINE_MEMORY(v4f)
DEFINE_MEMORY(v8f)
DEFINE_MEMORY(v16f)

// The operands of one call, passed by pointer so that the tile functions take no vectors.
typedef struct {
  ptrdiff_t columns, inner;
  const float *a;
  ptrdiff_t a_row_stride, a_inner_stride;
  const float *b;
  ptrdiff_t b_row_stride;
  const float *start;
  float *c;
  ptrdiff_t c_row_stride;
} product_args;

// Tiles of `rows` rows (1 or 4) × `vectors` vectors (1 or 2) of type VT, from column j on, as
// long as a whole tile fits; returns the first column left. Inlined with constant rows and
// vectors into each version, so the accumulator arrays live in registers.
#define DEFINE_TILES(VT, LANES)                                                                \
  ALWAYS_INLINE ptrdiff_t tiles_##VT(const product_args *p, ptrdiff_t r, ptrdiff_t j,         \
                                     const int rows, const int vectors) {                     \
    const ptrdiff_t width = (ptrdiff_t)vectors * LANES;                                        \
    const float *a0 = p->a + r * p->a_row_stride;                                              \
    for (; j + width <= p->columns; j += width) {                                              \
      VT acc[4][2];                                                                            \
      for (int v = 0; v < vectors; v++) {                                                      \
        VT s = p->start ? load_##VT(p->start + j + v * LANES) : (VT){0};                       \
        for (int q = 0; q < rows; q++) acc[q][v] = s;                                          \
      }                                                                                        \
      const float *bp = p->b + j;                                                              \
      const float *ap = a0;                                                                    \
      for (ptrdiff_t t = 0; t < p->inner; t++) {                                               \
        VT bv[2];                                                                              \
        for (int v = 0; v < vectors; v++) bv[v] = load_##VT(bp + v * LANES);                   \
        for (int q = 0; q < rows; q++) {                                                       \
          const float x = ap[q * p->a_row_stride];                                             \
          for (int v = 0; v < vectors; v++) acc[q][v] = acc[q][v] + x * bv[v];                 \
        }                                                                                      \
        bp += p->b_row_stride;                                                                 \
        ap += p->a_inner_stride;                                                               \
      }                                                                                        \
      for (int q = 0; q < rows; q++)                                                           \
        for (int v = 0; v < vectors; v++)                                                      \
          store_##VT(p->c + (r + q) * p->c_row_stride + j + v * LANES, acc[q][v]);             \
    }                                                                                          \
    return j;                                                                                  \
  }

DEFINE_TILES(v4f, 4)
DEFINE_TILES(v8f, 8)
DEFINE_TILES(v16f, 16)

// Columns j ..< columns of rows r ..< r + rows, one element at a time, in the same order.
ALWAYS_INLINE void single_columns(const product_args *p, ptrdiff_t r, ptrdiff_t j, const int rows) {
  for (int q = 0; q < rows; q++) {
    const float *ar = p->a + (r + q) * p->a_row_stride;
    for (ptrdiff_t jj = j; jj < p->columns; jj++) {
      float acc = p->start ? p->start[jj] : 0.0f;
      const float *bp = p->b + jj;
      const float *ap = ar;
      for (ptrdiff_t t = 0; t < p->inner; t++) {
        acc = acc + *ap * *bp;
        bp += p->b_row_stride;
        ap += p->a_inner_stride;
      }
      p->c[(r + q) * p->c_row_stride + jj] = acc;
    }
  }
}

// One version: blocks of 4 rows, then single rows; in each, the widest tiles first.
#define DEFINE_PRODUCT(NAME, ATTRIBUTES, COLUMN_STEPS)                                         \
  ATTRIBUTES static void NAME(const product_args *p, ptrdiff_t rows) {                         \
    ptrdiff_t r = 0;                                                                           \
    for (; r + 4 <= rows; r += 4) {                                                            \
      const int block = 4;                                                                     \
      ptrdiff_t j = 0;                                                                         \
      COLUMN_STEPS                                                                             \
      single_columns(p, r, j, block);                                                          \
    }                                                                                          \
    for (; r < rows; r++) {                                                                    \
      const int block = 1;                                                                     \
      ptrdiff_t j = 0;                                                                         \
      COLUMN_STEPS                                                                             \
      single_columns(p, r, j, block);                                                          \
    }                                                                                          \
  }

DEFINE_PRODUCT(product_portable, ,
               j = tiles_v4f(p, r, j, block, 2);
               j = tiles_v4f(p, r, j, block, 1);)

#if defined(__x86_64__)
DEFINE_PRODUCT(product_avx2, __attribute__((target("avx2"))),
               j = tiles_v8f(p, r, j, block, 2);
               j = tiles_v8f(p, r, j, block, 1);
               j = tiles_v4f(p, r, j, block, 1);)

DEFINE_PRODUCT(product_avx512, __attribute__((target("avx512f"))),
               j = tiles_v16f(p, r, j, block, 2);
               j = tiles_v16f(p, r, j, block, 1);
               j = tiles_v8f(p, r, j, block, 1);
               j = tiles_v4f(p, r, j, block, 1);)

// AVX2 needs the CPU's flag and the OS saving the YMM registers (XCR0 bits 1, 2); AVX-512F
// also the opmask and ZMM state (bits 5, 6, 7).
static int detect_level(void) {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return BBANS_DENSE_PORTABLE;
  const unsigned osxsave = 1u << 27, avx = 1u << 28;
  if ((ecx & (osxsave | avx)) != (osxsave | avx)) return BBANS_DENSE_PORTABLE;
  unsigned xcr0_low, xcr0_high;
  __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  if ((xcr0_low & 0x6) != 0x6) return BBANS_DENSE_PORTABLE;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return BBANS_DENSE_PORTABLE;
  if (!(ebx & (1u << 5))) return BBANS_DENSE_PORTABLE;
  if ((ebx & (1u << 16)) && (xcr0_low & 0xe6) == 0xe6) return BBANS_DENSE_AVX512;
  return BBANS_DENSE_AVX2;
}
#else
static int detect_level(void) { return BBANS_DENSE_PORTABLE; }
#endif

static _Atomic int supported_level = -1;
static _Atomic int current_level = -1;

int bbans_dense_supported_level(void) {
  int level = atomic_load_explicit(&supported_level, memory_order_relaxed);
  if (level < 0) {
    level = detect_level();
    atomic_store_explicit(&supported_level, level, memory_order_relaxed);
  }
  return level;
}

int bbans_dense_set_level(int level) {
  const int supported = bbans_dense_supported_level();
  if (level < 0) level = 0;
  if (level > supported) level = supported;
  atomic_store_explicit(&current_level, level, memory_order_relaxed);
  return level;
}

int bbans_dense_level(void) {
  int level = atomic_load_explicit(&current_level, memory_order_relaxed);
  if (level >= 0) return level;
  level = bbans_dense_supported_level();
  const char *wanted = getenv("BBANS_DENSE_LEVEL");
  if (wanted && wanted[0] >= '0' && wanted[0] <= '9' && wanted[1] == 0) level = wanted[0] - '0';
  return bbans_dense_set_level(level);
}

void bbans_dense_product_at_level(
    int level,
    ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t inner,
    const float *a, ptrdiff_t a_row_stride, ptrdiff_t a_inner_stride,
    const float *b, ptrdiff_t b_row_stride,
    const float *start,
    float *c, ptrdiff_t c_row_stride) {
  if (rows <= 0 || columns <= 0) return;
  const product_args p = {columns, inner, a, a_row_stride, a_inner_stride, b, b_row_stride, start, c, c_row_stride};
  if (level > bbans_dense_supported_level()) level = bbans_dense_supported_level();
  switch (level) {
#if defined(__x86_64__)
    case BBANS_DENSE_AVX512: product_avx512(&p, rows); break;
    case BBANS_DENSE_AVX2: product_avx2(&p, rows); break;
#endif
    default: product_portable(&p, rows); break;
  }
}

void bbans_dense_product(
    ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t inner,
    const float *a, ptrdiff_t a_row_stride, ptrdiff_t a_inner_stride,
    const float *b, ptrdiff_t b_row_stride,
    const float *start,
    float *c, ptrdiff_t c_row_stride) {
  bbans_dense_product_at_level(bbans_dense_level(), rows, columns, inner, a, a_row_stride, a_inner_stride,
                               b, b_row_stride, start, c, c_row_stride);
}
