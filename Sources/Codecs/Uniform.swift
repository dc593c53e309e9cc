import ANS

/// The uniform distribution over 0..<2^bits: every symbol costs exactly `bits` bits.
///
/// The prior over max-entropy buckets is this codec (each bucket has mass 2^−bits under N(0,1)).
public struct Uniform: IntervalCodec, Sendable {
  /// k: the symbols are 0..<2^k.
  public let bits: Int
  @inlinable public var precisionBits: Int { bits }

  /// - Precondition: 1 ≤ bits ≤ 31.
  public init(bits: Int) {
    precondition(bits >= 1 && bits <= ANSMessage.maxPrecisionBits, "Uniform: bits must be in 1...31, got \(bits)")
    self.bits = bits
  }

  @inlinable
  public func interval(of symbol: Int) -> (start: UInt32, frequency: UInt32) {
    precondition(symbol >= 0 && symbol < 1 << bits, "Uniform(bits: \(bits)): symbol \(symbol) is out of range")
    return (UInt32(symbol), 1)
  }

  @inlinable
  public func symbol(at slot: UInt32) -> (symbol: Int, start: UInt32, frequency: UInt32) {
    (Int(slot), slot, 1)
  }
}
