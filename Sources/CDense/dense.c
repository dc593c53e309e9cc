// The dense-layer kernel (see include/CDense.h): one loop nest, compiled for three instruction
// sets. Each version cuts C into column panels of 2 vectors, then 1 vector, then narrower
// vectors, then the last 1-3 columns padded to a 4-float vector; a panel into tiles of up to
// 8 rows whose accumulators stay in registers; inside a tile every accumulator runs
// t = 0, 1, … with a separate multiply and add. Tile shapes differ between versions, the
// arithmetic of an element does not, so all versions give the same bits.

// Never fuse a·b + c into an FMA: AVX-512F implies FMA, and a fused add rounds once instead
// of twice, which would make the AVX-512 version disagree with the others.
#pragma clang fp contract(off)

#include "kernel.h"

#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

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

// One tile: rows r ..< r + rows (rows ≤ 8) × `vectors` vectors (1 or 2) of type VT from column
// j. Inlined with constant rows and vectors into each version, so the accumulators live in
// registers.
#define DEFINE_TILE(VT, LANES)                                                                 \
  ALWAYS_INLINE void tile_##VT(const product_args *p, ptrdiff_t r, ptrdiff_t j,               \
                               const int rows, const int vectors) {                           \
    VT acc[8][2];                                                                              \
    for (int v = 0; v < vectors; v++) {                                                        \
      VT s = {0};                                                                              \
      if (p->start) LOAD(VT, s, p->start + j + v * LANES);                                     \
      for (int q = 0; q < rows; q++) acc[q][v] = s;                                            \
    }                                                                                          \
    const float *bp = p->b + j;                                                                \
    const float *ap = p->a + r * p->a_row_stride;                                              \
    for (ptrdiff_t t = 0; t < p->inner; t++) {                                                 \
      VT bv[2];                                                                                \
      for (int v = 0; v < vectors; v++) LOAD(VT, bv[v], bp + v * LANES);                       \
      for (int q = 0; q < rows; q++) {                                                         \
        const float x = ap[q * p->a_row_stride];                                               \
        for (int v = 0; v < vectors; v++) acc[q][v] = acc[q][v] + x * bv[v];                   \
      }                                                                                        \
      bp += p->b_row_stride;                                                                   \
      ap += p->a_inner_stride;                                                                 \
    }                                                                                          \
    for (int q = 0; q < rows; q++)                                                             \
      for (int v = 0; v < vectors; v++)                                                        \
        STORE(VT, p->c + (r + q) * p->c_row_stride + j + v * LANES, acc[q][v]);                \
  }

DEFINE_TILE(v4f, 4)
DEFINE_TILE(v8f, 8)
DEFINE_TILE(v16f, 16)

// Columns j ..< columns of every row, one element at a time, in the same order.
ALWAYS_INLINE void single_columns(const product_args *p, ptrdiff_t rows, ptrdiff_t j) {
  for (ptrdiff_t r = 0; r < rows; r++) {
    const float *ar = p->a + r * p->a_row_stride;
    for (ptrdiff_t jj = j; jj < p->columns; jj++) {
      float acc = p->start ? p->start[jj] : 0.0f;
      const float *bp = p->b + jj;
      const float *ap = ar;
      for (ptrdiff_t t = 0; t < p->inner; t++) {
        acc = acc + *ap * *bp;
        bp += p->b_row_stride;
        ap += p->a_inner_stride;
      }
      p->c[r * p->c_row_stride + jj] = acc;
    }
  }
}

// The last 1 to 3 columns, j ..< columns, through the 4-float vector tile: B's columns (and
// the start's) are copied into a panel one vector wide, zero beyond them, the tile writes a
// scratch block of up to 8 rows, and only the real columns are copied out. Each real column's
// sum is the same sequence of multiplies and adds as anywhere else; the padding lanes are
// thrown away. Without memory for the panel, the columns go one at a time. Inlined into each
// version with its own row block.
ALWAYS_INLINE void tail_columns(const product_args *p, ptrdiff_t rows, ptrdiff_t j, const int block) {
  const ptrdiff_t width = p->columns - j;
  if (width <= 0) return;
  float *panel = malloc(sizeof(float) * 4 * (size_t)(p->inner > 0 ? p->inner : 1));
  if (!panel) {
    single_columns(p, rows, j);
    return;
  }
  for (ptrdiff_t t = 0; t < p->inner; t++)
    for (ptrdiff_t c = 0; c < 4; c++) panel[t * 4 + c] = c < width ? p->b[t * p->b_row_stride + j + c] : 0.0f;
  float start[4], out[8 * 4];
  for (ptrdiff_t c = 0; c < 4; c++) start[c] = p->start && c < width ? p->start[j + c] : 0.0f;
  product_args q = *p;
  q.columns = 4;
  q.b = panel;
  q.b_row_stride = 4;
  q.start = p->start ? start : NULL;
  q.c = out;
  q.c_row_stride = 4;
  for (ptrdiff_t r = 0; r < rows;) {
    q.a = p->a + r * p->a_row_stride;
    const ptrdiff_t n = rows - r >= block ? block : 1;
    if (n == block) tile_v4f(&q, 0, 0, block, 1); else tile_v4f(&q, 0, 0, 1, 1);
    for (ptrdiff_t k = 0; k < n; k++)
      for (ptrdiff_t c = 0; c < width; c++) p->c[(r + k) * p->c_row_stride + j + c] = out[k * 4 + c];
    r += n;
  }
  free(panel);
}

// A column panel (VECTORS vectors of VT wide) at a time, as long as one fits; within it, blocks
// of ROWS rows, then single rows. The panel of B (inner × width) stays in cache while every
// row block uses it: B, the weights, is read from memory once per call, not once per block.
#define PANELS(VT, LANES, VECTORS, ROWS)                                                       \
  for (; j + (VECTORS) * (LANES) <= p->columns; j += (VECTORS) * (LANES)) {                    \
    ptrdiff_t r = 0;                                                                           \
    for (; r + (ROWS) <= rows; r += (ROWS)) tile_##VT(p, r, j, ROWS, VECTORS);                 \
    for (; r < rows; r++) tile_##VT(p, r, j, 1, VECTORS);                                     \
  }

// One version: the widest panels first, then narrower ones, then the last columns padded to
// one 4-float vector, in blocks of TAIL_ROWS rows.
#define DEFINE_PRODUCT(NAME, ATTRIBUTES, PANEL_STEPS, TAIL_ROWS)                                \
  ATTRIBUTES static void NAME(const product_args *p, ptrdiff_t rows) {                         \
    ptrdiff_t j = 0;                                                                           \
    PANEL_STEPS                                                                                \
    tail_columns(p, rows, j, TAIL_ROWS);                                                       \
  }

// 16 registers: 4 × 2 accumulators, 2 of B, 1 broadcast.
DEFINE_PRODUCT(product_portable, ,
               PANELS(v4f, 4, 2, 4)
               PANELS(v4f, 4, 1, 4), 4)

#if defined(__x86_64__)
// 16 registers: 6 × 2 accumulators, 2 of B, 1 broadcast.
DEFINE_PRODUCT(product_avx2, __attribute__((target("avx2"))),
               PANELS(v8f, 8, 2, 6)
               PANELS(v8f, 8, 1, 6)
               PANELS(v4f, 4, 1, 6), 6)

// 32 registers: 8 × 2 accumulators, 2 of B, 1 broadcast.
DEFINE_PRODUCT(product_avx512, __attribute__((target("avx512f"))),
               PANELS(v16f, 16, 2, 8)
               PANELS(v16f, 16, 1, 8)
               PANELS(v8f, 8, 1, 8)
               PANELS(v4f, 4, 1, 8), 8)

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

// Uses `level`, clamped to what the CPU supports, from now on; returns the level set.
static int set_level(int level) {
  const int supported = bbans_dense_supported_level();
  if (level < 0) level = 0;
  if (level > supported) level = supported;
  atomic_store_explicit(&current_level, level, memory_order_relaxed);
  return level;
}

int bbans_dense_level(void) {
  int level = atomic_load_explicit(&current_level, memory_order_relaxed);
  if (level >= 0) return level;
  // The highest level the CPU runs. (Until the row-summary models, AVX2 was the default even
  // where AVX-512F runs: with the v1 models the AVX-512 version made the whole decompressor a
  // little slower on this project's machine, AMD EPYC Zen 4; with the row-summary models, whose
  // products are larger, it makes compress and decompress of 10,000 MNIST images about 20%
  // faster, 1.13 s against 1.40 s, and v1's decompressor no slower.) Every level gives the same
  // bits. BBANS_DENSE_LEVEL=0, 1 or 2 asks for another.
  level = bbans_dense_supported_level();
  const char *wanted = getenv("BBANS_DENSE_LEVEL");
  if (wanted && wanted[0] >= '0' && wanted[0] <= '9' && wanted[1] == 0) level = wanted[0] - '0';
  return set_level(level);
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
  switch (supported_level_at_most(level)) {
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

// Plain loops that clang vectorizes into compares and masks (the ReLU of a branchy loop
// mispredicts on about half of its elements).
void bbans_relu(float *v, ptrdiff_t count) {
  for (ptrdiff_t i = 0; i < count; i++) v[i] = v[i] > 0 ? v[i] : 0.0f;
}

void bbans_relu_mask(float *gradient, const float *output, ptrdiff_t count) {
  for (ptrdiff_t i = 0; i < count; i++) gradient[i] = output[i] > 0 ? gradient[i] : 0.0f;
}

// The end of the row-summary head's first layer (Sources/Model/RowContext.swift,
// `finishFirstLayer`): out = ReLU((c + a) + b), or ReLU(a + b) without c, element by element in
// that order, at the level's vector width (the Swift loop ran at SSE2's).
ALWAYS_INLINE void finish_rows(ptrdiff_t rows, ptrdiff_t h, const float *acc, ptrdiff_t acc_stride,
                               const float *starts, ptrdiff_t rows_per_start, const float *left, float *out,
                               ptrdiff_t out_stride) {
  for (ptrdiff_t q = 0; q < rows; q++) {
    const float *a = acc + q * acc_stride, *b = left + q * h;
    float *o = out + q * out_stride;
    if (starts) {
      const float *c = starts + (q / rows_per_start) * h;
      for (ptrdiff_t j = 0; j < h; j++) {
        const float v = (c[j] + a[j]) + b[j];
        o[j] = v > 0 ? v : 0.0f;
      }
    } else {
      for (ptrdiff_t j = 0; j < h; j++) {
        const float v = a[j] + b[j];
        o[j] = v > 0 ? v : 0.0f;
      }
    }
  }
}

static void finish_rows_portable(ptrdiff_t rows, ptrdiff_t h, const float *acc, ptrdiff_t acc_stride,
                                 const float *starts, ptrdiff_t rows_per_start, const float *left, float *out,
                                 ptrdiff_t out_stride) {
  finish_rows(rows, h, acc, acc_stride, starts, rows_per_start, left, out, out_stride);
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static void finish_rows_avx512(
    ptrdiff_t rows, ptrdiff_t h, const float *acc, ptrdiff_t acc_stride, const float *starts,
    ptrdiff_t rows_per_start, const float *left, float *out, ptrdiff_t out_stride) {
  finish_rows(rows, h, acc, acc_stride, starts, rows_per_start, left, out, out_stride);
}

__attribute__((target("avx2"))) static void finish_rows_avx2(
    ptrdiff_t rows, ptrdiff_t h, const float *acc, ptrdiff_t acc_stride, const float *starts,
    ptrdiff_t rows_per_start, const float *left, float *out, ptrdiff_t out_stride) {
  finish_rows(rows, h, acc, acc_stride, starts, rows_per_start, left, out, out_stride);
}
#endif

void bbans_first_layer_finish(ptrdiff_t rows, ptrdiff_t h, const float *acc, ptrdiff_t acc_stride,
                              const float *starts, ptrdiff_t rows_per_start, const float *left, float *out,
                              ptrdiff_t out_stride) {
  if (rows <= 0 || h <= 0) return;
  if (rows_per_start < 1) rows_per_start = 1;
  switch (bbans_dense_level()) {
#if defined(__x86_64__)
    case BBANS_DENSE_AVX512:
      finish_rows_avx512(rows, h, acc, acc_stride, starts, rows_per_start, left, out, out_stride);
      break;
    case BBANS_DENSE_AVX2:
      finish_rows_avx2(rows, h, acc, acc_stride, starts, rows_per_start, left, out, out_stride);
      break;
#endif
    default: finish_rows_portable(rows, h, acc, acc_stride, starts, rows_per_start, left, out, out_stride);
  }
}
