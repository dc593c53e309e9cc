// A pixel's discretized logistic mixture of up to 4 components, from the context network's raw
// outputs to the interval the coder pushes or pops (see include/CDense.h, "Logistic mixture").
// It is the Swift path's arithmetic, operation for operation: the head's parametrization of
// Sources/BitsBack/Coding/PixelLikelihood.swift (`logisticMixture`), the CDF, quantization and
// search of Sources/Codecs/DiscretizedLogistic.swift and QuantizedCDF.swift, and the 4-lane exp
// and sigmoid of Sources/PortableMath/DoubleSIMD.swift (the scalar ones of Exp.swift and
// Logistic.swift on each lane).
//
// The pixels of 8 lanes of the message are computed side by side, one lane of the message in
// each lane of a vector of 8 Doubles, one vector per component, so that sums over components
// are sums of vectors in index order. Each Double is the same sequence of IEEE operations at
// every level, so every level, and the Swift path, give the same bits. A pop is a branch-free
// bisection of 8 steps once C(1) is passed (most pixels of these data sets stop there), 8
// lanes in step, so that no evaluation waits on a mispredicted branch. Where the Swift exp
// would leave its main path (NaN, a subnormal result, the edge of overflow), these functions
// give up on the 8 lanes, and the caller takes the Swift path for them.

// Never fuse a·b + c into an FMA (AVX-512F implies FMA; a fused add rounds once).
#pragma clang fp contract(off)

#include "kernel.h"

#include <stdint.h>

// Every helper below that takes or returns a vector is forced inline into each version, so no
// vector crosses a real call and the ABI clang warns about (AVX vectors without AVX) never applies.
#pragma clang diagnostic ignored "-Wpsabi"

typedef double v8d __attribute__((vector_size(64)));
typedef int64_t v8i __attribute__((vector_size(64)));
typedef uint64_t v8u __attribute__((vector_size(64)));
typedef int32_t v8s __attribute__((vector_size(32)));
typedef uint32_t v8w __attribute__((vector_size(32)));

enum { WIDTH = 8, MAX_COMPONENTS = 4 };

#define ANY(mask) (((mask)[0] | (mask)[1] | (mask)[2] | (mask)[3] | (mask)[4] | (mask)[5] | (mask)[6] | (mask)[7]) != 0)
#define ALL(mask) (((mask)[0] & (mask)[1] & (mask)[2] & (mask)[3] & (mask)[4] & (mask)[5] & (mask)[6] & (mask)[7]) != 0)

// Lane by lane, mask ? a : b, for masks of all-ones or all-zeros lanes.
ALWAYS_INLINE v8d select8(v8i mask, v8d a, v8d b) { return (v8d)(((v8i)a & mask) | ((v8i)b & ~mask)); }
ALWAYS_INLINE v8w select8w(v8s mask, v8w a, v8w b) { return (a & (v8w)mask) | (b & ~(v8w)mask); }

ALWAYS_INLINE v8d splat8(double x) { return (v8d){x, x, x, x, x, x, x, x}; }

// The Swift exp's main path (`expMain`), for −707.6 ≤ x ≤ 709.7 on every lane: n = 128k + j
// from x·128/ln2 rounded by the shifter, r from ln2/128 in two parts, e^r − 1 by its degree-5
// polynomial, 2^(j/128) from the table as (hi, lo), then (hi + lo)·2^k. k + 1023 is taken as
// (n + 1023·128) >> 7 on a non-negative number, the same integer as (n >> 7) + 1023 there
// (AVX2 has no 64-bit arithmetic shift).
ALWAYS_INLINE v8d exp_main(v8d x, const double *table) {
  const double shifter = 0x1.8p52;
  const v8d t = x * 0x1.71547652b82fep+7 + shifter;
  const v8i n = (v8i)t - (v8i)splat8(shifter);
  const v8d nd = t - shifter;
  const v8d r = (x - nd * 0x1.62e42fef80000p-8) - nd * 0x1.1cf79abc9e3b4p-43;
  v8d q = splat8(0x1.1111111111111p-7);
  q = 0x1.5555555555555p-5 + r * q;
  q = 0x1.5555555555555p-3 + r * q;
  q = 0.5 + r * q;
  const v8d p = r + (r * r) * q;
  const v8i j2 = (n & 127) * 2;
  v8d thi, tlo;
  for (int i = 0; i < WIDTH; i++) {
    thi[i] = table[j2[i]];
    tlo[i] = table[j2[i] + 1];
  }
  const v8d lo = tlo + thi * p;
  const v8u biased = (v8u)(n + 1023 * 128) >> 7;
  const v8d scale = (v8d)(biased << 52);
  return (thi + lo) * scale;
}

// e^x on each lane, as the Swift exp; *ok = 0 where that one would leave its main path and
// the scalar function's other branches would be needed (then the lane's result is meaningless).
ALWAYS_INLINE v8d exp8(v8d x, const double *table, int *ok) {
  const v8i main = (x >= -707.6) & (x <= 709.7);
  if (ALL(main)) return exp_main(x, table);
  const v8i scalar = (x != x) | ((x > -745.2) & (x < -707.6)) | ((x > 709.7) & (x <= 709.8));
  if (ANY(scalar)) *ok = 0;
  v8d y = exp_main(select8(main, x, splat8(0)), table);
  y = select8(x <= -745.2, splat8(0), y);
  return select8(x > 709.8, splat8(__builtin_inf()), y);
}

// σ(x) on each lane, as the Swift sigmoid: e = e^−|x|, d = 1 + e and its rounding error δ, then
// q − q·(δ/d) with q = 1/d for x ≥ 0 and e/d below.
ALWAYS_INLINE v8d sigmoid8(v8d x, const double *table, int *ok) {
  const v8d magnitude = (v8d)((v8i)x & 0x7FFFFFFFFFFFFFFF);
  const v8d e = exp8(-magnitude, table, ok);
  const v8d d = 1 + e;
  const v8d delta = (1 - d) + e;
  const v8d q = select8(x >= 0, splat8(1), e) / d;
  return q - q * (delta / d);
}

// The mixtures of 8 lanes: component j's weights, means and inverse scales in vector j.
typedef struct {
  v8d weight[MAX_COMPONENTS], mean[MAX_COMPONENTS], inverse[MAX_COMPONENTS];
  int count, precision_bits;
  const double *table;
  int ok;
} mixtures8;

// PixelLikelihood.logisticMixture for lanes[0..<8] of raw (lane l's parameters at
// raw + l · stride = [logits, means, log-scales]): each value through `VAE.finite` (NaN 0, ±∞
// the largest Float), π = softmax(logits) (the largest logit, Swift.max in index order,
// subtracted first; the sum in index order), μ, and 1/s with s = exp(max(ℓ, −7)) capped at the
// largest Double.
ALWAYS_INLINE void load_mixtures(mixtures8 *m, const float *raw, ptrdiff_t stride, const int lanes[WIDTH], int k) {
  float values[3 * MAX_COMPONENTS][WIDTH];
  for (int i = 0; i < WIDTH; i++)
    for (int v = 0; v < 3 * k; v++) values[v][i] = raw[lanes[i] * stride + v];
  v8d logit[MAX_COMPONENTS], log_scale[MAX_COMPONENTS];
  const double largest_float = 0x1.fffffep+127;
  for (int v = 0; v < 3 * k; v++) {
    v8f f;
    LOAD(v8f, f, values[v]);
    v8d x = __builtin_convertvector(f, v8d);
    x = select8(x != x, splat8(0), x);
    x = select8(x > largest_float, splat8(largest_float), x);
    x = select8(x < -largest_float, splat8(-largest_float), x);
    if (v < k) logit[v] = x;
    else if (v < 2 * k) m->mean[v - k] = x;
    else log_scale[v - 2 * k] = x;
  }
  v8d largest = splat8(-__builtin_inf());
  for (int j = 0; j < k; j++) largest = select8(logit[j] >= largest, logit[j], largest);  // Swift.max(largest, x)
  v8d e[MAX_COMPONENTS], total = splat8(0);
  for (int j = 0; j < k; j++) {
    e[j] = exp8(logit[j] - largest, m->table, &m->ok);
    total = total + e[j];
  }
  const double most = 0x1.fffffffffffffp+1023;
  for (int j = 0; j < k; j++) {
    m->weight[j] = e[j] / total;
    const v8d s = exp8(select8(log_scale[j] < -7, splat8(-7), log_scale[j]), m->table, &m->ok);
    m->inverse[j] = 1 / select8(s > most, splat8(most), s);
  }
  m->count = k;
}

// The quantized cumulative frequency below pixel value x[i] (0...256) of each lane: 0 at 0, 2^n
// at 256, and otherwise F(x) = Σ π_j σ((c(x) − 1/255 − μ_j)/s_j), summed in index order,
// clamped to [0, 1], times the spare frequency 2^n − 256, rounded down, plus x.
ALWAYS_INLINE v8w cumulatives(mixtures8 *m, v8s x) {
  const v8s one = (v8s){0} + 1, last = (v8s){0} + 255;
  const v8s inner = (v8s)select8w(x < 1, (v8w)one, select8w(x > 255, (v8w)last, (v8w)x));
  const v8d edge = __builtin_convertvector(inner, v8d) / 127.5 - 1 - 1.0 / 255;
  v8d sum = splat8(0);
  for (int j = 0; j < m->count; j++)
    sum = sum + m->weight[j] * sigmoid8((edge - m->mean[j]) * m->inverse[j], m->table, &m->ok);
  const v8d clamped = select8(sum > 0, select8(sum < 1, sum, splat8(1)), splat8(0));
  const double spare = (double)(((int64_t)1 << m->precision_bits) - 256);
  // Truncation is rounding down here (≥ 0), and the product is below 2^31.
  const v8w value = (v8w)__builtin_convertvector(clamped * spare, v8s) + (v8w)x;
  const v8w top = (v8w){0} + ((uint32_t)1 << m->precision_bits);
  return select8w(x <= 0, (v8w){0}, select8w(x >= 256, top, value));
}

// Lanes are taken in blocks, whose mixtures wait on the stack between the two passes of a pop.
enum { BLOCK = 64 };

// The pixels of n lanes, lane i's raw parameters at raw + i · raw_stride, its slot slots[i]:
// first every lane's mixture and C(1), which settles the pixels of value 0; then the other
// lanes' searches, 8 lanes in step, from their mixtures kept from the first pass: the largest
// x with C(x) ≤ slot, by adding 128, 64, …, 1 to x = 1 where the sum still passes (C(256) = 2^n
// is above every slot); C(x + 1) is the last sum that did not pass.
// A lane of a group of 8 that the Swift path must do gets symbol −1; the count of them is
// returned.
ALWAYS_INLINE int pop_lanes(int n, const float *raw, ptrdiff_t raw_stride, int k, int precision_bits,
                            const uint32_t *slots, const double *table, bbans_interval *out) {
  int left = 0;
  for (int base = 0; base < n; base += BLOCK) {
    const int count = n - base < BLOCK ? n - base : BLOCK;
    const float *block_raw = raw + base * raw_stride;
    const uint32_t *slot = slots + base;
    bbans_interval *result = out + base;
    // Lane i's weight, mean and inverse scale of component j at kept[c][j][i], c = 0, 1, 2.
    double kept[3][MAX_COMPONENTS][BLOCK + WIDTH];
    int search[BLOCK], waiting = 0;
    uint32_t second[BLOCK];
    for (int g = 0; g < count; g += WIDTH) {
      const int used = count - g < WIDTH ? count - g : WIDTH;
      int group[WIDTH];
      for (int i = 0; i < WIDTH; i++) group[i] = g + (i < used ? i : used - 1);
      mixtures8 m = {.precision_bits = precision_bits, .table = table, .ok = 1};
      load_mixtures(&m, block_raw, raw_stride, group, k);
      const v8w c = cumulatives(&m, (v8s){0} + 1);
      for (int j = 0; j < k; j++) {
        STORE(v8d, &kept[0][j][g], m.weight[j]);
        STORE(v8d, &kept[1][j][g], m.mean[j]);
        STORE(v8d, &kept[2][j][g], m.inverse[j]);
      }
      for (int i = 0; i < used; i++) {
        const int lane = g + i;
        if (!m.ok) {
          result[lane].symbol = -1;
          left++;
        } else if (slot[lane] < c[i]) {
          result[lane] = (bbans_interval){0, 0, c[i]};
        } else {
          second[lane] = c[i];
          search[waiting++] = lane;
        }
      }
    }
    for (int g = 0; g < waiting; g += WIDTH) {
      const int used = waiting - g < WIDTH ? waiting - g : WIDTH;
      int group[WIDTH];
      for (int i = 0; i < WIDTH; i++) group[i] = search[g + (i < used ? i : used - 1)];
      mixtures8 m = {.count = k, .precision_bits = precision_bits, .table = table, .ok = 1};
      for (int j = 0; j < k; j++)
        for (int i = 0; i < WIDTH; i++) {
          m.weight[j][i] = kept[0][j][group[i]];
          m.mean[j][i] = kept[1][j][group[i]];
          m.inverse[j][i] = kept[2][j][group[i]];
        }
      v8w target, low_value, high_value = (v8w){0} + ((uint32_t)1 << precision_bits);
      for (int i = 0; i < WIDTH; i++) {
        target[i] = slot[group[i]];
        low_value[i] = second[group[i]];
      }
      v8s low = (v8s){0} + 1;
      for (int step = 128; step >= 1; step >>= 1) {
        const v8s x = low + step;
        const v8w value = cumulatives(&m, x);
        const v8s passes = (v8s)(value <= target);
        low = (v8s)select8w(passes, (v8w)x, (v8w)low);
        low_value = select8w(passes, value, low_value);
        high_value = select8w(passes, high_value, value);
      }
      for (int i = 0; i < used; i++) {
        const int lane = group[i];
        if (m.ok) {
          result[lane] = (bbans_interval){low[i], low_value[i], high_value[i] - low_value[i]};
        } else {
          result[lane].symbol = -1;
          left++;
        }
      }
    }
  }
  return left;
}

// The intervals of n lanes' pixels, lane i's value symbols[i · symbol_stride]: C(x) and
// C(x + 1), 8 lanes at a time.
ALWAYS_INLINE int push_lanes(int n, const float *raw, ptrdiff_t raw_stride, int k, int precision_bits,
                             const uint8_t *symbols, ptrdiff_t symbol_stride, const double *table, bbans_interval *out) {
  int left = 0;
  for (int g = 0; g < n; g += WIDTH) {
    const int used = n - g < WIDTH ? n - g : WIDTH;
    int group[WIDTH];
    for (int i = 0; i < WIDTH; i++) group[i] = g + (i < used ? i : used - 1);
    mixtures8 m = {.precision_bits = precision_bits, .table = table, .ok = 1};
    load_mixtures(&m, raw, raw_stride, group, k);
    v8s x;
    for (int i = 0; i < WIDTH; i++) x[i] = symbols[group[i] * symbol_stride];
    const v8w lower = cumulatives(&m, x), upper = cumulatives(&m, x + 1);
    for (int i = 0; i < used; i++) {
      if (m.ok) {
        out[g + i] = (bbans_interval){x[i], lower[i], upper[i] - lower[i]};
      } else {
        out[g + i].symbol = -1;
        left++;
      }
    }
  }
  return left;
}

#define DEFINE_MIXTURE(SUFFIX, ATTRIBUTES)                                                             \
  ATTRIBUTES static int pop_##SUFFIX(int n, const float *raw, ptrdiff_t raw_stride, int k, int precision_bits, \
                                     const uint32_t *slots, const double *table, bbans_interval *out) {  \
    return pop_lanes(n, raw, raw_stride, k, precision_bits, slots, table, out);                       \
  }                                                                                                    \
  ATTRIBUTES static int push_##SUFFIX(int n, const float *raw, ptrdiff_t raw_stride, int k,            \
                                      int precision_bits, const uint8_t *symbols, ptrdiff_t symbol_stride, \
                                      const double *table, bbans_interval *out) {                     \
    return push_lanes(n, raw, raw_stride, k, precision_bits, symbols, symbol_stride, table, out);      \
  }

DEFINE_MIXTURE(portable, )
#if defined(__x86_64__)
DEFINE_MIXTURE(avx2, __attribute__((target("avx2"))))
DEFINE_MIXTURE(avx512, __attribute__((target("avx512f"))))
#endif

int bbans_mixture_pop_lanes_at_level(int level, int lanes, const float *raw, ptrdiff_t raw_stride, int components,
                                     int precision_bits, const uint32_t *slots, const double *exp_table,
                                     bbans_interval *out) {
  if (lanes <= 0) return 0;
  if (components < 1 || components > 4 || precision_bits <= 8 || precision_bits > 31) {
    for (int i = 0; i < lanes; i++) out[i].symbol = -1;
    return lanes;
  }
  switch (supported_level_at_most(level)) {
#if defined(__x86_64__)
    case BBANS_DENSE_AVX512: return pop_avx512(lanes, raw, raw_stride, components, precision_bits, slots, exp_table, out);
    case BBANS_DENSE_AVX2: return pop_avx2(lanes, raw, raw_stride, components, precision_bits, slots, exp_table, out);
#endif
    default: return pop_portable(lanes, raw, raw_stride, components, precision_bits, slots, exp_table, out);
  }
}

int bbans_mixture_push_lanes_at_level(int level, int lanes, const float *raw, ptrdiff_t raw_stride, int components,
                                      int precision_bits, const uint8_t *symbols, ptrdiff_t symbol_stride,
                                      const double *exp_table, bbans_interval *out) {
  if (lanes <= 0) return 0;
  if (components < 1 || components > 4 || precision_bits <= 8 || precision_bits > 31) {
    for (int i = 0; i < lanes; i++) out[i].symbol = -1;
    return lanes;
  }
  switch (supported_level_at_most(level)) {
#if defined(__x86_64__)
    case BBANS_DENSE_AVX512:
      return push_avx512(lanes, raw, raw_stride, components, precision_bits, symbols, symbol_stride, exp_table, out);
    case BBANS_DENSE_AVX2:
      return push_avx2(lanes, raw, raw_stride, components, precision_bits, symbols, symbol_stride, exp_table, out);
#endif
    default:
      return push_portable(lanes, raw, raw_stride, components, precision_bits, symbols, symbol_stride, exp_table, out);
  }
}

int bbans_mixture_pop_lanes(int lanes, const float *raw, ptrdiff_t raw_stride, int components, int precision_bits,
                            const uint32_t *slots, const double *exp_table, bbans_interval *out) {
  return bbans_mixture_pop_lanes_at_level(bbans_dense_level(), lanes, raw, raw_stride, components, precision_bits,
                                          slots, exp_table, out);
}

int bbans_mixture_push_lanes(int lanes, const float *raw, ptrdiff_t raw_stride, int components, int precision_bits,
                             const uint8_t *symbols, ptrdiff_t symbol_stride, const double *exp_table,
                             bbans_interval *out) {
  return bbans_mixture_push_lanes_at_level(bbans_dense_level(), lanes, raw, raw_stride, components, precision_bits,
                                           symbols, symbol_stride, exp_table, out);
}
