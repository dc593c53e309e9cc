// Leaky quantization of a cumulative distribution function.
//
// A continuous or computed CDF F over symbols 0..<K becomes integer cumulative frequencies
//     C(0) = 0,   C(i) = ⌊F(i)·(M − K)⌋ + i  for 0 < i < K,   C(K) = M,
// where F(i) is the probability of the symbols below i. Each symbol then gets
// C(i+1) − C(i) = ⌊F(i+1)(M−K)⌋ − ⌊F(i)(M−K)⌋ + 1 ≥ 1 whenever F is non-decreasing: no symbol
// ever has zero probability (constriction's "leaky quantization"), the frequencies sum to M
// exactly, and a push needs only two values of F, a pop a binary search over C.

/// The quantized cumulative frequency C(i) of a CDF value, for 0 < index < symbolCount.
///
/// - Parameters:
///   - probabilityBelow: F(index), clamped to [0, 1].
///   - index: the symbol whose lower edge this is.
///   - symbolCount: K.
///   - precisionBits: n, with K ≤ 2^n.
@inlinable
public func quantizedCumulative(
  _ probabilityBelow: Double, index: Int, symbolCount: Int, precisionBits: Int
) -> UInt32 {
  let spare = Double((1 << precisionBits) - symbolCount)
  let clamped = probabilityBelow > 0 ? (probabilityBelow < 1 ? probabilityBelow : 1) : 0
  return UInt32((clamped * spare).rounded(.down)) + UInt32(index)
}

/// Finds the symbol whose quantized interval holds `slot`, by binary search over C.
///
/// - Parameters:
///   - symbolCount: K.
///   - cumulative: C(i) for 0 ≤ i ≤ K (C(0) = 0, C(K) = M); must be non-decreasing.
/// - Returns: the symbol s with C(s) ≤ slot < C(s+1), and C(s), C(s+1).
@inlinable
public func searchQuantizedCDF(
  slot: UInt32, symbolCount: Int, cumulative: (Int) -> UInt32
) -> (symbol: Int, lower: UInt32, upper: UInt32) {
  searchQuantizedCDF(slot: slot, between: 0, 0, and: symbolCount, cumulative(symbolCount), cumulative: cumulative)
}

/// The same search between two symbols already known to bracket the slot:
/// C(low) = lowValue ≤ slot < C(high) = highValue.
@inlinable
public func searchQuantizedCDF(
  slot: UInt32, between low: Int, _ lowValue: UInt32, and high: Int, _ highValue: UInt32,
  cumulative: (Int) -> UInt32
) -> (symbol: Int, lower: UInt32, upper: UInt32) {
  var low = low, high = high  // invariant: C(low) ≤ slot < C(high)
  var lowValue = lowValue, highValue = highValue
  while high - low > 1 {
    let middle = (low + high) >> 1
    let value = cumulative(middle)
    if value <= slot { low = middle; lowValue = value } else { high = middle; highValue = value }
  }
  return (low, lowValue, highValue)
}
