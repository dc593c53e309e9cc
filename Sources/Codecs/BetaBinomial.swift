import ANS
import PortableMath

/// The beta-binomial distribution over 0...n: P(x) = C(n, x)·B(x + α, n − x + β) / B(α, β).
///
/// The likelihood of 8-bit pixels in the BB-ANS paper (n = 255). Its CDF has no closed form, so
/// the codec sums the probabilities in index order with the ratio
///     P(x+1)/P(x) = (n − x)(x + α) / ((x + 1)(n − x − 1 + β)),
/// starting from weight 1 at x = 0 and rescaling when the weights grow large, then normalizes.
/// Both push and pop compute all n + 1 weights (O(n)), in the same order, so they agree bit for bit.
public struct BetaBinomial: IntervalCodec, Sendable {
  public let precisionBits: Int
  public let n: Int
  public let alpha: Double
  public let beta: Double

  /// - Precondition: 1 ≤ n < 2^precisionBits ≤ 2^31, α and β finite and > 0.
  public init(n: Int, alpha: Double, beta: Double, precisionBits: Int) {
    precondition(n >= 1 && n + 1 <= 1 << precisionBits && precisionBits <= ANSMessage.maxPrecisionBits, "BetaBinomial: n = \(n) does not fit precision \(precisionBits)")
    precondition(alpha > 0 && beta > 0 && alpha.isFinite && beta.isFinite, "BetaBinomial: α = \(alpha) and β = \(beta) must be finite and positive")
    self.n = n
    self.alpha = alpha
    self.beta = beta
    self.precisionBits = precisionBits
  }

  /// Calls `body` with the quantized cumulative frequencies C(0...n+1).
  @inlinable
  func withCumulative<R>(_ body: (UnsafeBufferPointer<UInt32>) -> R) -> R {
    let count = n + 1
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: count + 1) { below in
      // below[x] = Σ_{j<x} w(j), with w(0) = 1 and the ratio recurrence; rescaled on overflow risk.
      var weight = 1.0
      var sum = 0.0
      let big = 0x1p600, small = 0x1p-600
      for x in 0..<count {
        below[x] = sum
        sum += weight
        if x + 1 < count {
          let k = Double(x), nn = Double(n)
          weight = weight * ((nn - k) * (k + alpha)) / ((k + 1) * (nn - k - 1 + beta))
          if weight > big || sum > big {
            weight *= small
            sum *= small
            for j in 0...x { below[j] *= small }
          }
        }
      }
      below[count] = sum
      return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: count + 1) { cumulative in
        cumulative[0] = 0
        for x in 1..<count {
          cumulative[x] = quantizedCumulative(below[x] / sum, index: x, symbolCount: count, precisionBits: precisionBits)
        }
        cumulative[count] = UInt32(1) << precisionBits
        return body(UnsafeBufferPointer(cumulative))
      }
    }
  }

  @inlinable
  public func interval(of symbol: Int) -> (start: UInt32, frequency: UInt32) {
    precondition(symbol >= 0 && symbol <= n, "BetaBinomial(n: \(n)): symbol \(symbol) is out of range")
    return withCumulative { c in (c[symbol], c[symbol + 1] - c[symbol]) }
  }

  @inlinable
  public func symbol(at slot: UInt32) -> (symbol: Int, start: UInt32, frequency: UInt32) {
    withCumulative { c in
      let found = searchQuantizedCDF(slot: slot, symbolCount: n + 1) { c[$0] }
      return (found.symbol, found.lower, found.upper - found.lower)
    }
  }
}
