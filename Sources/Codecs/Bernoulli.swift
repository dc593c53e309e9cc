import ANS
import PortableMath

/// A binary symbol (0 or 1) with P(1) = p, quantized to 2^precisionBits, both frequencies ≥ 1.
public struct Bernoulli: IntervalCodec, Sendable {
  public let precisionBits: Int
  /// The frequency of symbol 1 (symbol 0 has M minus it); its interval comes after 0's.
  public let frequencyOfOne: UInt32

  /// - Parameters:
  ///   - p: the probability of 1; NaN counts as 1/2, values outside [0, 1] are clamped.
  ///   - precisionBits: 1 < n ≤ 31.
  public init(probabilityOfOne p: Double, precisionBits: Int) {
    precondition(precisionBits >= 2 && precisionBits <= ANSMessage.maxPrecisionBits, "Bernoulli: precisionBits must be in 2...31, got \(precisionBits)")
    self.precisionBits = precisionBits
    let total = Double(UInt32(1) << precisionBits)
    let scaled = p.isNaN ? total / 2 : (p * total).rounded(.toNearestOrEven)
    // f₁ in [1, M − 1].
    frequencyOfOne = UInt32(min(max(scaled, 1), total - 1))
  }

  /// P(1) = σ(logit), computed with PortableMath.
  public init(logit: Double, precisionBits: Int) {
    self.init(probabilityOfOne: Portable.sigmoid(logit), precisionBits: precisionBits)
  }

  @inlinable
  public func interval(of symbol: Int) -> (start: UInt32, frequency: UInt32) {
    let total = UInt32(1) << precisionBits
    switch symbol {
    case 0: return (0, total - frequencyOfOne)
    case 1: return (total - frequencyOfOne, frequencyOfOne)
    default: preconditionFailure("Bernoulli: symbol \(symbol) is neither 0 nor 1")
    }
  }

  @inlinable
  public func symbol(at slot: UInt32) -> (symbol: Int, start: UInt32, frequency: UInt32) {
    let zeroFrequency = (UInt32(1) << precisionBits) - frequencyOfOne
    return slot < zeroFrequency ? (0, 0, zeroFrequency) : (1, zeroFrequency, frequencyOfOne)
  }
}
