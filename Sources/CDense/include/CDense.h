// The dense-layer kernel in C, so that one build carries an SSE2 (or NEON) version and, on x86-64,
// AVX2 and AVX-512F versions of the same loops, chosen at load time from what the CPU has.
// Swift cannot compile one function for several instruction sets; C can, with target attributes.
//
// Every version computes every element of C in the same order (see bbans_dense_product), so
// they agree bit for bit: the choice changes the speed, never a number.
#ifndef BBANS_CDENSE_H
#define BBANS_CDENSE_H
#include <stddef.h>

/// C = start + A·B:
///
///     C[r][j] = start[j] + Σ_{t = 0 ..< inner} A(r, t) · B[t][j]      (t ascending)
///
/// each element accumulated as acc = acc + a·b, a separate multiply and add (never fused),
/// from start[j] (or 0 when start is NULL). Blocks run over rows and columns of C, never
/// over t.
///   A(r, t) = a[r · a_row_stride + t · a_inner_stride];  B[t][j] = b[t · b_row_stride + j];
///   C[r][j] = c[r · c_row_stride + j] (overwritten; must not overlap a, b or start).
void bbans_dense_product(
    ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t inner,
    const float *a, ptrdiff_t a_row_stride, ptrdiff_t a_inner_stride,
    const float *b, ptrdiff_t b_row_stride,
    const float *start,
    float *c, ptrdiff_t c_row_stride);

/// The same product with the version of `level` (clamped to what the CPU supports), whatever
/// the level in use: for tests and benchmarks, which compare the versions.
void bbans_dense_product_at_level(
    int level,
    ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t inner,
    const float *a, ptrdiff_t a_row_stride, ptrdiff_t a_inner_stride,
    const float *b, ptrdiff_t b_row_stride,
    const float *start,
    float *c, ptrdiff_t c_row_stride);

/// ReLU in place: v[i] = v[i] > 0 ? v[i] : 0 (NaN and −0 become +0), without branches.
void bbans_relu(float *v, ptrdiff_t count);

/// Where the forward pass's output was not positive, the gradient is 0:
/// gradient[i] = output[i] > 0 ? gradient[i] : 0, without branches.
void bbans_relu_mask(float *gradient, const float *output, ptrdiff_t count);

/// The instruction-set levels of the kernel.
enum {
  BBANS_DENSE_PORTABLE = 0,  ///< 128-bit vectors: SSE2 on x86-64, NEON on arm64.
  BBANS_DENSE_AVX2 = 1,      ///< 256-bit vectors (AVX2, no FMA).
  BBANS_DENSE_AVX512 = 2,    ///< 512-bit vectors (AVX-512F, no FMA).
};

/// The level in use: the highest the CPU (and its operating system) supports, unless the environment variable BBANS_DENSE_LEVEL (0, 1, 2), read at the first
/// call, names another (clamped to what the CPU supports).
int bbans_dense_level(void);

/// The highest level this CPU supports.
int bbans_dense_supported_level(void);


#endif
