// The inner loops of the IAF posterior's conditionals (see include/CDense.h, "MADE"): per unit
// a multiply and an add for every row, rows side by side in vectors. Each row's arithmetic is
// the same scalar sequence whatever the vector width, so every level gives the same bits.

// Never fuse a·b + c into an FMA (AVX-512F implies FMA; a fused add rounds once).
#pragma clang fp contract(off)

#include "kernel.h"

// Outputs: rows r ..< r + VECTORS · LANES, both sums in registers across the units.
#define DEFINE_OUTPUT_BLOCK(VT, LANES)                                                         \
  ALWAYS_INLINE void outputs_##VT(ptrdiff_t units, ptrdiff_t rows, const float *x, const float *wm, \
                                const float *ws, float bm, float bs, float *m, float *s,       \
                                ptrdiff_t r, const int vectors) {                             \
    VT mv[2], sv[2];                                                                          \
    for (int v = 0; v < vectors; v++) {                                                       \
      mv[v] = (VT){0} + bm;                                                                   \
      sv[v] = (VT){0} + bs;                                                                   \
    }                                                                                         \
    for (ptrdiff_t u = 0; u < units; u++) {                                                   \
      const float *xu = x + u * rows + r;                                                     \
      const float wmu = wm[u], wsu = ws[u];                                                   \
      for (int v = 0; v < vectors; v++) {                                                     \
        VT a;                                                                                 \
        LOAD(VT, a, xu + v * LANES);                                                         \
        mv[v] = mv[v] + a * wmu;                                                              \
        sv[v] = sv[v] + a * wsu;                                                              \
      }                                                                                       \
    }                                                                                         \
    for (int v = 0; v < vectors; v++) {                                                       \
      STORE(VT, m + r + v * LANES, mv[v]);                                                   \
      STORE(VT, s + r + v * LANES, sv[v]);                                                   \
    }                                                                                         \
  }

// Inputs: rows r ..< r + LANES of every unit in [lo, hi) gain input · w[u].
#define DEFINE_INPUT_BLOCK(VT, LANES)                                                          \
  ALWAYS_INLINE void inputs_##VT(ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t rows, const float *input,  \
                               const float *w, float *x, ptrdiff_t r) {                       \
    VT v;                                                                                     \
    LOAD(VT, v, input + r);                                                                  \
    for (ptrdiff_t u = lo; u < hi; u++) {                                                     \
      VT p;                                                                                   \
      LOAD(VT, p, x + u * rows + r);                                                         \
      p = p + v * w[u];                                                                       \
      STORE(VT, x + u * rows + r, p);                                                        \
    }                                                                                         \
  }

DEFINE_OUTPUT_BLOCK(v4f, 4)
DEFINE_OUTPUT_BLOCK(v8f, 8)
DEFINE_OUTPUT_BLOCK(v16f, 16)
DEFINE_INPUT_BLOCK(v4f, 4)
DEFINE_INPUT_BLOCK(v8f, 8)
DEFINE_INPUT_BLOCK(v16f, 16)

ALWAYS_INLINE void outputs_scalar(ptrdiff_t units, ptrdiff_t rows, const float *x, const float *wm, const float *ws,
                                float bm, float bs, float *m, float *s, ptrdiff_t r) {
  float mr = bm, sr = bs;
  for (ptrdiff_t u = 0; u < units; u++) {
    const float a = x[u * rows + r];
    mr = mr + a * wm[u];
    sr = sr + a * ws[u];
  }
  m[r] = mr;
  s[r] = sr;
}

ALWAYS_INLINE void inputs_scalar(ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t rows, const float *input, const float *w,
                               float *x, ptrdiff_t r) {
  for (ptrdiff_t u = lo; u < hi; u++) x[u * rows + r] = x[u * rows + r] + input[r] * w[u];
}

// One version per level: blocks of two widest vectors, then one, then narrower, then rows one by one.
#define OUTPUT_STEPS(VT, LANES)                                                                \
  for (; r + 2 * (LANES) <= rows; r += 2 * (LANES)) outputs_##VT(units, rows, x, wm, ws, bm, bs, m, s, r, 2); \
  for (; r + (LANES) <= rows; r += (LANES)) outputs_##VT(units, rows, x, wm, ws, bm, bs, m, s, r, 1);
#define INPUT_STEPS(VT, LANES)                                                                 \
  for (; r + (LANES) <= rows; r += (LANES)) inputs_##VT(lo, hi, rows, input, w, x, r);

#define DEFINE_MADE(SUFFIX, ATTRIBUTES, OUTPUTS, INPUTS)                                       \
  ATTRIBUTES static void made_outputs_##SUFFIX(ptrdiff_t units, ptrdiff_t rows, const float *x,  \
                                               const float *wm, const float *ws, float bm,    \
                                               float bs, float *m, float *s) {                \
    ptrdiff_t r = 0;                                                                          \
    OUTPUTS                                                                                   \
    for (; r < rows; r++) outputs_scalar(units, rows, x, wm, ws, bm, bs, m, s, r);            \
  }                                                                                           \
  ATTRIBUTES static void made_inputs_##SUFFIX(ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t rows,       \
                                              const float *input, const float *w, float *x) { \
    ptrdiff_t r = 0;                                                                          \
    INPUTS                                                                                    \
    for (; r < rows; r++) inputs_scalar(lo, hi, rows, input, w, x, r);                        \
  }

DEFINE_MADE(portable, , OUTPUT_STEPS(v4f, 4), INPUT_STEPS(v4f, 4))
#if defined(__x86_64__)
DEFINE_MADE(avx2, __attribute__((target("avx2"))), OUTPUT_STEPS(v8f, 8) OUTPUT_STEPS(v4f, 4),
            INPUT_STEPS(v8f, 8) INPUT_STEPS(v4f, 4))
DEFINE_MADE(avx512, __attribute__((target("avx512f"))), OUTPUT_STEPS(v16f, 16) OUTPUT_STEPS(v8f, 8) OUTPUT_STEPS(v4f, 4),
            INPUT_STEPS(v16f, 16) INPUT_STEPS(v8f, 8) INPUT_STEPS(v4f, 4))
#endif

void bbans_made_outputs_at_level(int level, ptrdiff_t units, ptrdiff_t rows, const float *x, const float *wm,
                                 const float *ws, float bm, float bs, float *m, float *s) {
  if (rows <= 0) return;
  switch (supported_level_at_most(level)) {
#if defined(__x86_64__)
    case BBANS_DENSE_AVX512: made_outputs_avx512(units, rows, x, wm, ws, bm, bs, m, s); break;
    case BBANS_DENSE_AVX2: made_outputs_avx2(units, rows, x, wm, ws, bm, bs, m, s); break;
#endif
    default: made_outputs_portable(units, rows, x, wm, ws, bm, bs, m, s); break;
  }
}

void bbans_made_outputs(ptrdiff_t units, ptrdiff_t rows, const float *x, const float *wm, const float *ws,
                        float bm, float bs, float *m, float *s) {
  bbans_made_outputs_at_level(bbans_dense_level(), units, rows, x, wm, ws, bm, bs, m, s);
}

void bbans_made_inputs_at_level(int level, ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t rows, const float *input,
                                const float *w, float *x) {
  if (rows <= 0 || hi <= lo) return;
  switch (supported_level_at_most(level)) {
#if defined(__x86_64__)
    case BBANS_DENSE_AVX512: made_inputs_avx512(lo, hi, rows, input, w, x); break;
    case BBANS_DENSE_AVX2: made_inputs_avx2(lo, hi, rows, input, w, x); break;
#endif
    default: made_inputs_portable(lo, hi, rows, input, w, x); break;
  }
}

void bbans_made_inputs(ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t rows, const float *input, const float *w, float *x) {
  bbans_made_inputs_at_level(bbans_dense_level(), lo, hi, rows, input, w, x);
}
