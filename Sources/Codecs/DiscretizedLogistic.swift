import ANS
import PortableMath

/// A mixture of up to 8 logistic distributions, discretized over the pixel values 0...255
/// (Salimans et al., "PixelCNN++", ICLR 2017).
///
/// Pixel x sits at c(x) = x/127.5 − 1 in [−1, 1], with bin edges c(x) ± 1/255; the lowest bin
/// extends to −∞ and the highest to +∞. The CDF below pixel x (0 < x ≤ 255) is
///     F(x) = Σ_k π_k σ((c(x) − 1/255 − μ_k) / s_k),
/// quantized with `quantizedCumulative`: a push costs two evaluations of F, a pop a binary
/// search (8 evaluations). All in Double with PortableMath, components in index order.
public struct DiscretizedLogisticMixture: IntervalCodec, Sendable {
  public static let maxComponents = 8
  public static let symbolCount = 256
  public let precisionBits: Int
  public let componentCount: Int
  @usableFromInline let weights: SIMD8<Double>
  @usableFromInline let means: SIMD8<Double>
  @usableFromInline let inverseScales: SIMD8<Double>

  /// A mixture from normalized weights π_k, means μ_k and scales s_k (one component: the
  /// discretized logistic).
  ///
  /// - Precondition: 1 ≤ K ≤ 8 components; weights ≥ 0 summing to about 1; scales > 0; all finite;
  ///   8 < precisionBits ≤ 31.
  public init(weights: [Double], means: [Double], scales: [Double], precisionBits: Int) {
    let k = weights.count
    precondition(k >= 1 && k <= Self.maxComponents && means.count == k && scales.count == k, "DiscretizedLogisticMixture: needs 1...8 components with as many means and scales, got \(k), \(means.count), \(scales.count)")
    precondition(precisionBits > 8 && precisionBits <= ANSMessage.maxPrecisionBits, "DiscretizedLogisticMixture: precisionBits must be in 9...31, got \(precisionBits)")
    var w = SIMD8<Double>(repeating: 0), m = SIMD8<Double>(repeating: 0), r = SIMD8<Double>(repeating: 1)
    for i in 0..<k {
      precondition(weights[i] >= 0 && weights[i].isFinite && means[i].isFinite && scales[i] > 0 && scales[i].isFinite, "DiscretizedLogisticMixture: component \(i) has weight \(weights[i]), mean \(means[i]), scale \(scales[i])")
      w[i] = weights[i]
      m[i] = means[i]
      r[i] = 1 / scales[i]
    }
    self.weights = w
    self.means = m
    self.inverseScales = r
    self.componentCount = k
    self.precisionBits = precisionBits
  }

  /// A mixture from its components in SIMD lanes 0..<componentCount (the rest ignored), for
  /// callers that build one codec per pixel and should not allocate.
  @inlinable
  public init(
    weights: SIMD8<Double>, means: SIMD8<Double>, scales: SIMD8<Double>, componentCount: Int, precisionBits: Int
  ) {
    precondition(componentCount >= 1 && componentCount <= Self.maxComponents, "DiscretizedLogisticMixture: needs 1...8 components, got \(componentCount)")
    precondition(precisionBits > 8 && precisionBits <= ANSMessage.maxPrecisionBits, "DiscretizedLogisticMixture: precisionBits must be in 9...31, got \(precisionBits)")
    for i in 0..<componentCount {
      let w = weights[i], m = means[i], s = scales[i]
      precondition(w >= 0 && w < .infinity && m.isFinite && s > 0 && s < .infinity, "DiscretizedLogisticMixture: component \(i) has weight \(w), mean \(m), scale \(s)")
    }
    // Whole vectors (this runs once per pixel; lane stores followed by vector loads stall).
    var inverse = SIMD8<Double>(repeating: 1)
    let ones = SIMD4<Double>(repeating: 1)
    let usedLow = SIMD4<Int64>(0, 1, 2, 3) .< Int64(componentCount)
    inverse.lowHalf = ones / scales.lowHalf.replacing(with: ones, where: .!usedLow)
    if componentCount > 4 {
      let usedHigh = SIMD4<Int64>(4, 5, 6, 7) .< Int64(componentCount)
      inverse.highHalf = ones / scales.highHalf.replacing(with: ones, where: .!usedHigh)
    }
    self.weights = weights
    self.means = means
    self.inverseScales = inverse
    self.componentCount = componentCount
    self.precisionBits = precisionBits
  }

  /// F(x): the mixture's probability below pixel x, for 0 < x < 256.
  ///
  /// Up to 4 components are evaluated side by side (`Portable.sigmoid` on 4 lanes gives each
  /// lane the scalar function's bits), then summed in index order.
  @inlinable
  func probabilityBelow(_ x: Int) -> Double {
    let edge = Double(x) / 127.5 - 1 - 1.0 / 255
    var sum = 0.0
    if componentCount <= 4 {
      let s = Portable.sigmoid((SIMD4(repeating: edge) - means.lowHalf) * inverseScales.lowHalf)
      let terms = weights.lowHalf * s
      for k in 0..<componentCount { sum += terms[k] }
      return sum
    }
    for k in 0..<componentCount {
      sum += weights[k] * Portable.sigmoid((edge - means[k]) * inverseScales[k])
    }
    return sum
  }

  @inlinable
  func cumulative(_ x: Int) -> UInt32 {
    if x == 0 { return 0 }
    if x == Self.symbolCount { return UInt32(1) << precisionBits }
    return quantizedCumulative(probabilityBelow(x), index: x, symbolCount: Self.symbolCount, precisionBits: precisionBits)
  }

  @inlinable
  public func interval(of symbol: Int) -> (start: UInt32, frequency: UInt32) {
    precondition(symbol >= 0 && symbol < Self.symbolCount, "DiscretizedLogisticMixture: pixel value \(symbol) is outside 0...255")
    let lower = cumulative(symbol)
    return (lower, cumulative(symbol + 1) - lower)
  }

  /// The pixel whose interval holds `slot`: the one x with C(x) ≤ slot < C(x + 1), which any
  /// search finds, so the search is free to be fast. Most pixels of small-image data sets are
  /// background, so C(1) is tried first (one evaluation of F). Otherwise the search starts at
  /// a guess, the pixel where the heaviest component alone would put the slot (its inverse
  /// CDF), steps away from it by 1, 2, 4, … until the slot is bracketed, then bisects: two or
  /// three evaluations when the guess is close, where a bisection of 1…255 takes eight.
  @inlinable
  public func symbol(at slot: UInt32) -> (symbol: Int, start: UInt32, frequency: UInt32) {
    let second = cumulative(1)
    if slot < second { return (0, 0, second) }
    let total = cumulative(Self.symbolCount)
    let guess = max(1, guessedSymbol(at: slot))
    var low = 1, lowValue = second  // C(low) ≤ slot
    var high = Self.symbolCount, highValue = total  // slot < C(high)
    let value = guess == 1 ? second : cumulative(guess)
    if value <= slot {
      low = guess
      lowValue = value
      var step = 1
      while low + step < high {
        let next = cumulative(low + step)
        if next > slot {
          high = low + step
          highValue = next
          break
        }
        low += step
        lowValue = next
        step *= 2
      }
    } else {
      high = guess
      highValue = value
      var step = 1
      while high - step > low {
        let next = cumulative(high - step)
        if next <= slot {
          low = high - step
          lowValue = next
          break
        }
        high -= step
        highValue = next
        step *= 2
      }
    }
    let found = searchQuantizedCDF(slot: slot, between: low, lowValue, and: high, highValue) { cumulative($0) }
    return (found.symbol, found.lower, found.upper - found.lower)
  }

  /// About the pixel x with F(x) ≤ u < F(x + 1) under the heaviest component alone, u the
  /// slot's place in (0, 1): x = ⌊127.5 (μ + s·logit(u) + 1 + 1/255)⌋ clamped to 0…255, with
  /// logit from a rough logarithm (`roughLog2`). Only a starting point for the search: any
  /// value gives the same symbol.
  @inlinable
  func guessedSymbol(at slot: UInt32) -> Int {
    var heaviest = 0
    for k in 1..<componentCount where weights[k] > weights[heaviest] { heaviest = k }
    let m = Double(UInt64(1) << precisionBits)
    let logit = 0.6931471805599453 * (Self.roughLog2(Double(slot) + 0.5) - Self.roughLog2(m - Double(slot) - 0.5))
    let x = 127.5 * (means[heaviest] + logit / inverseScales[heaviest] + 1 + 1.0 / 255)
    return x >= 255 ? 255 : (x > 0 ? Int(x) : 0)  // NaN gives 0
  }

  /// log₂ x for x ≥ 1 to within 0.09: the exponent plus the significand's fraction (a chord of
  /// log₂ between powers of two). For search guesses only.
  @inlinable
  static func roughLog2(_ x: Double) -> Double {
    let bits = x.bitPattern
    let exponent = Double(Int((bits >> 52) & 0x7FF) - 1023)
    let fraction = Double(bits & 0x000F_FFFF_FFFF_FFFF) * 0x1p-52
    return exponent + fraction
  }
}
