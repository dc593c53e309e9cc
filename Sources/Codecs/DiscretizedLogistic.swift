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

  /// The pixel whose interval holds `slot`. Most pixels of small-image data sets sit at the
  /// ends of the range (background, full ink), so the two end pixels are tried first (one or
  /// two evaluations of F), and only then the binary search between them (eight more).
  /// The result is the same pixel either way: the one with C(x) ≤ slot < C(x + 1).
  @inlinable
  public func symbol(at slot: UInt32) -> (symbol: Int, start: UInt32, frequency: UInt32) {
    let last = Self.symbolCount - 1
    let second = cumulative(1)
    if slot < second { return (0, 0, second) }
    let penultimate = cumulative(last)
    if slot >= penultimate { return (last, penultimate, cumulative(Self.symbolCount) - penultimate) }
    let found = searchQuantizedCDF(slot: slot, between: 1, second, and: last, penultimate) { cumulative($0) }
    return (found.symbol, found.lower, found.upper - found.lower)
  }
}
