import ANS
import PortableMath

/// A Gaussian N(μ, σ²) over the max-entropy buckets of N(0, 1): the posterior q(z_j | x) of one
/// latent dimension in BB-ANS (Townsend, Bird and Barber, ICLR 2019, section 2.5.1).
///
/// Bucket i spans [e_i, e_{i+1}) with e_i = Φ⁻¹(i/2^k), so the prior N(0,1) gives each bucket
/// mass 2^−k (a `Uniform(bits: k)` codes the prior). The posterior's mass on bucket i is
/// Φ((e_{i+1} − μ)/σ) − Φ((e_i − μ)/σ), quantized with `quantizedCumulative` at a precision
/// above k, every bucket at least 1. Pop searches the integer CDF; no float is ever inverted
/// to decide a bucket. The search starts at a guess (the bucket of μ + σ·Φ⁻¹(slot/M), from a
/// rough Φ⁻¹) and widens from there until it brackets the slot: the CDF rises strictly, so
/// the bucket it finds is the one bisection over all 2^k buckets finds, with about 2 values
/// of Φ instead of k.
///
/// The CDF is rotated to start at the bucket that holds μ: slot 0 then falls in the posterior's
/// central bucket. Pops from an empty message read slot 0 (its floor is zeros), so the first
/// image of a chain, whose latents no earlier image pays for, gets its most likely latents
/// rather than the lowest bucket, and its likelihood stays cheap.
public struct BucketedGaussian: IntervalCodec, Sendable {
  public let precisionBits: Int
  public let mean: Double
  public let scale: Double
  public let buckets: MaxEntropyBuckets
  /// C(j) of the bucket j that holds the mean: the rotation of the CDF.
  @usableFromInline let rotation: UInt32

  /// - Parameters:
  ///   - mean: μ.
  ///   - scale: σ > 0 (finite).
  ///   - buckets: the 2^k buckets.
  ///   - precisionBits: n with k < n ≤ 31.
  public init(mean: Double, scale: Double, buckets: MaxEntropyBuckets, precisionBits: Int) {
    precondition(precisionBits > buckets.bits && precisionBits <= ANSMessage.maxPrecisionBits, "BucketedGaussian: precisionBits \(precisionBits) must exceed the bucket bits \(buckets.bits) and be at most 31")
    precondition(scale > 0 && scale.isFinite && mean.isFinite, "BucketedGaussian: mean \(mean) and scale \(scale) must be finite with scale > 0")
    self.mean = mean
    self.scale = scale
    self.buckets = buckets
    self.precisionBits = precisionBits
    rotation = Self.cumulative(
      buckets.bucket(containing: mean), mean: mean, scale: scale, buckets: buckets, precisionBits: precisionBits)
  }

  /// C(i) before the rotation: ⌊Φ((e_i − μ)/σ)·(M − 2^k)⌋ + i.
  @inlinable
  static func cumulative(
    _ i: Int, mean: Double, scale: Double, buckets: MaxEntropyBuckets, precisionBits: Int
  ) -> UInt32 {
    if i == 0 { return 0 }
    let count = buckets.count
    if i == count { return UInt32(1) << precisionBits }
    let below = Portable.normalCDF((buckets.edges[i] - mean) / scale)
    return quantizedCumulative(below, index: i, symbolCount: count, precisionBits: precisionBits)
  }

  @inlinable
  func unrotatedCumulative(_ i: Int) -> UInt32 {
    Self.cumulative(i, mean: mean, scale: scale, buckets: buckets, precisionBits: precisionBits)
  }

  @inlinable
  public func interval(of symbol: Int) -> (start: UInt32, frequency: UInt32) {
    precondition(symbol >= 0 && symbol < buckets.count, "BucketedGaussian: bucket \(symbol) is outside 0..<\(buckets.count)")
    let lower = unrotatedCumulative(symbol)
    let upper = unrotatedCumulative(symbol + 1)
    let mask = (UInt32(1) << precisionBits) &- 1
    return ((lower &- rotation) & mask, upper &- lower)
  }

  @inlinable
  public func symbol(at slot: UInt32) -> (symbol: Int, start: UInt32, frequency: UInt32) {
    let mask = (UInt32(1) << precisionBits) &- 1
    let unrotated = (slot &+ rotation) & mask
    let found = search(unrotated, from: guess(unrotated))
    return (found.symbol, (found.lower &- rotation) & mask, found.upper &- found.lower)
  }

  /// Where the search for an unrotated slot starts: the bucket of μ + σ·x, x ≈ Φ⁻¹(slot/M) by
  /// Abramowitz and Stegun 26.2.23 (absolute error below 4.5e-4), clamped to the buckets. Only
  /// the number of steps depends on it, never the bucket found.
  @inlinable
  package func guess(_ slot: UInt32) -> Int {
    let p = (Double(slot) + 0.5) * Double(sign: .plus, exponent: -precisionBits, significand: 1)
    let q = p < 0.5 ? p : 1 - p
    let t = (-2 * Portable.log(q)).squareRoot()
    let magnitude = t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1 + t * (1.432788 + t * (0.189269 + t * 0.001308)))
    let x = mean + scale * (p < 0.5 ? -magnitude : magnitude)
    return x.isNaN ? buckets.count / 2 : buckets.bucket(containing: x)
  }

  /// The bucket s with C(s) ≤ slot < C(s + 1) (unrotated), and C(s), C(s + 1): from bucket
  /// `start`, steps of 1, 2, 4, … up or down until the slot is bracketed (C(0) = 0 and
  /// C(2^k) = M always bracket it), then bisection between the last two.
  @inlinable
  package func search(_ slot: UInt32, from start: Int) -> (symbol: Int, lower: UInt32, upper: UInt32) {
    let count = buckets.count
    let first = unrotatedCumulative(start)
    var step = 1
    if first <= slot {
      var low = start, lowValue = first
      while true {
        let high = min(start + step, count)
        let value = unrotatedCumulative(high)
        if value > slot {
          return searchQuantizedCDF(slot: slot, between: low, lowValue, and: high, value) { unrotatedCumulative($0) }
        }
        (low, lowValue, step) = (high, value, step * 2)
      }
    } else {
      var high = start, highValue = first
      while true {
        let low = max(start - step, 0)
        let value = unrotatedCumulative(low)
        if value <= slot {
          return searchQuantizedCDF(slot: slot, between: low, value, and: high, highValue) { unrotatedCumulative($0) }
        }
        (high, highValue, step) = (low, value, step * 2)
      }
    }
  }
}
