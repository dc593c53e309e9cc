// The dense-layer kernel in C, so that one build carries an SSE2 (or NEON) version and, on x86-64,
// AVX2 and AVX-512F versions of the same loops, chosen at load time from what the CPU has.
// Swift cannot compile one function for several instruction sets; C can, with target attributes.
//
// Every version computes every element of C in the same order (see bbans_dense_product), so
// they agree bit for bit: the choice changes the speed, never a number.
#ifndef BBANS_CDENSE_H
#define BBANS_CDENSE_H
#include <stddef.h>
#include <stdint.h>

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


/// The end of a row-summary head's first layer: out[q][j] = ReLU((c[j] + acc[q][j]) + left[q][j])
/// with c = starts + (q / rows_per_start) · h, or ReLU(acc[q][j] + left[q][j]) when starts is
/// NULL; acc row q at acc + q · acc_stride, left's at left + q · h, out's at out + q · out_stride.
/// ReLU(v) = v > 0 ? v : 0 (NaN and −0 give 0).
void bbans_first_layer_finish(ptrdiff_t rows, ptrdiff_t h, const float *acc, ptrdiff_t acc_stride,
                              const float *starts, ptrdiff_t rows_per_start, const float *left, float *out,
                              ptrdiff_t out_stride);

// ---------------------------------------------------------------------------------------------
// The integer product (models with int16 arithmetic, docs/MODEL_FORMAT.md "Arithmetic").
//
// Integer sums are exact, so their order cannot change them: every version, tile shape,
// SIMD width and thread gives the same int32 sum, and every float step around it is one IEEE
// operation in a fixed order. Determinism by construction.
#include <stdint.h>

/// The bits an operand of a product over `inner` terms gets: activations and weights are
/// quantized to |q| ≤ 2^bits each, and inner · 2^bits_a · 2^bits_w ≤ 2^30, so no int32 sum
/// (nor vpmaddwd's pair sum) can overflow. bits_a = min(14, ⌊budget/2⌋), bits_w = min(14,
/// budget − bits_a), budget = 30 − ⌈log₂ inner⌉.
int bbans_int16_activation_bits(ptrdiff_t inner);
int bbans_int16_weight_bits(ptrdiff_t inner);

/// The rounding of a vector to `bits` bits (the weights' columns, the input rows): it is
/// multiplied by s = 2^e, e = bits − 1 − E for a largest magnitude in [2^E, 2^(E+1)), read off
/// the float's exponent bits (no libm; E is taken as −60 below 2^−60, 0 included, and 128 for
/// ∞ or NaN), so that the scaled largest lies in [2^(bits−1), 2^bits); then each value becomes
/// q = round(x · s) to nearest, ties to even, clamped to ±2^bits, NaN giving 0 (x · s is exact,
/// or ±∞ and then clamped).

/// Packs the weights W (inner × columns, W[t][j] = w[t · row_stride + j]) for the integer
/// product: packed[(t/2) · padded · 2 + j · 2 + t % 2] = round(W[t][j] · 2^f_j), zero in the
/// padding (t ≥ inner, j ≥ columns); column_scales[j] = 2^−f_j (1 in the padding), with 2^f_j
/// the scale of column j at the weight bits (above). packed holds ⌈inner/2⌉ · padded · 2
/// values and column_scales `padded`, padded = columns rounded up to a multiple of 16.
void bbans_int16_pack(
    ptrdiff_t inner, ptrdiff_t columns, const float *w, ptrdiff_t row_stride,
    int16_t *packed, float *column_scales);

/// C = start + A·W with W packed by bbans_int16_pack:
///
///     q_r[t] = A(r, t) rounded with s_r, the scale of row r at bits_a (above)
///     acc    = Σ_t q_r[t] · packed W[t][j]                  (exact, in int32)
///     C[r][j] = start[j] + ((float)acc · (1 / s_r)) · column_scales[j]
///
/// (start[j] taken as 0 when start is NULL; (float)acc rounds to nearest, ties to even, the
/// multiplies are by powers of two). A(r, t) = a[r · a_row_stride + t]. Every level gives the
/// same bits.
void bbans_int16_product_at_level(
    int level,
    ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t inner,
    const float *a, ptrdiff_t a_row_stride,
    const int16_t *packed, const float *column_scales,
    const float *start,
    float *c, ptrdiff_t c_row_stride);

/// The same with one version, for tests: 0 portable, 1 AVX2, 2 AVX-512BW, 3 AVX-512 VNNI
/// (lowered to the highest this CPU runs, bbans_int16_supported_variant()). Level 2 runs 3 where
/// the CPU has VNNI, else 2 where it has AVX-512BW, else 1.
void bbans_int16_product_variant(
    int variant,
    ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t inner,
    const float *a, ptrdiff_t a_row_stride,
    const int16_t *packed, const float *column_scales,
    const float *start,
    float *c, ptrdiff_t c_row_stride);
int bbans_int16_supported_variant(void);

/// The same at the level in use (bbans_dense_level()).
void bbans_int16_product(
    ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t inner,
    const float *a, ptrdiff_t a_row_stride,
    const int16_t *packed, const float *column_scales,
    const float *start,
    float *c, ptrdiff_t c_row_stride);

// ---------------------------------------------------------------------------------------------
// MADE: the inner loops of the IAF posterior's conditionals (Sources/Model/Posterior.swift,
// `PosteriorConditionals`), rows side by side; x is laid out [unit][row] (x[u · rows + r]).
// Every level runs each row's scalar sequence below, so all give the same bits.

/// m[r] = bm + Σ_{u < units} x[u·rows + r] · wm[u] and s[r] likewise with bs and ws, u
/// ascending, one multiply and one add per term (never fused).
void bbans_made_outputs(ptrdiff_t units, ptrdiff_t rows, const float *x, const float *wm, const float *ws,
                        float bm, float bs, float *m, float *s);
void bbans_made_outputs_at_level(int level, ptrdiff_t units, ptrdiff_t rows, const float *x, const float *wm,
                                 const float *ws, float bm, float bs, float *m, float *s);

/// x[u·rows + r] = x[u·rows + r] + input[r] · w[u] for lo ≤ u < hi (never fused).
void bbans_made_inputs(ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t rows, const float *input, const float *w, float *x);
void bbans_made_inputs_at_level(int level, ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t rows, const float *input,
                                const float *w, float *x);

// ---------------------------------------------------------------------------------------------
// Logistic mixture: a pixel's discretized mixture of 1-4 logistics (docs/MODEL_FORMAT.md, the
// context-logistic-mixture head) from its raw parameters raw = [logits, means, log-scales]
// (3 · components Floats), the same arithmetic as the Swift path (`PixelLikelihood` and
// `DiscretizedLogisticMixture`) at every level. exp_table is PortableMath's table of
// 2^(j/128) as (hi, lo) pairs (`Portable.expTableAddress`). A pixel the Swift path must do
// (more than 4 components, or a pixel of a pair whose 4-lane exp left its main path: NaN, a
// subnormal result, the edge of overflow) gets symbol −1 in out.

/// A symbol and its interval [start, start + frequency) of 2^precision_bits.
typedef struct {
  int32_t symbol;
  uint32_t start, frequency;
} bbans_interval;

/// The pixel values of `lanes` pixels, one per lane of a message, whose intervals hold slots[i]
/// (0 ≤ slot < 2^precision_bits), and those intervals, in out[i]; pixel i's raw parameters at
/// raw + i · raw_stride. Returns how many pixels it left to the Swift path (symbol −1).
int bbans_mixture_pop_lanes(int lanes, const float *raw, ptrdiff_t raw_stride, int components, int precision_bits,
                            const uint32_t *slots, const double *exp_table, bbans_interval *out);
int bbans_mixture_pop_lanes_at_level(int level, int lanes, const float *raw, ptrdiff_t raw_stride, int components,
                                     int precision_bits, const uint32_t *slots, const double *exp_table,
                                     bbans_interval *out);

/// The intervals of `lanes` pixels of values symbols[i · symbol_stride], likewise.
int bbans_mixture_push_lanes(int lanes, const float *raw, ptrdiff_t raw_stride, int components, int precision_bits,
                             const uint8_t *symbols, ptrdiff_t symbol_stride, const double *exp_table,
                             bbans_interval *out);
int bbans_mixture_push_lanes_at_level(int level, int lanes, const float *raw, ptrdiff_t raw_stride, int components,
                                      int precision_bits, const uint8_t *symbols, ptrdiff_t symbol_stride,
                                      const double *exp_table, bbans_interval *out);

#endif
