// Shared by the test targets (swift-collections style): a seeded generator and the codec
// round-trip contract. A library product only so that Benchmarks/ can use the same generator.

/// A small, fast, seeded generator (SplitMix64, Steele, Lea and Flood 2014): tests and
/// benchmarks use it so that every run sees the same "random" data.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  public private(set) var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform double in [0, 1) with 53 random bits.
  public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

  /// A standard normal draw (Box–Muller; uses libm-free PortableMath-free arithmetic only
  /// through Swift's standard library, which is fine for test data).
  public mutating func nextGaussian() -> Double {
    var u = nextUnit()
    while u == 0 { u = nextUnit() }
    let v = nextUnit()
    let radius = (-2 * logApprox(u)).squareRoot()
    return radius * cosApprox(2 * Double.pi * v)
  }
}

// Test data only needs a plausible normal sample; these avoid importing Foundation here.
private func logApprox(_ x: Double) -> Double {
  // log x = 2·atanh((x−1)/(x+1)) after scaling x into [0.5, 1).
  var m = x, e = 0.0
  while m < 0.5 { m *= 2; e -= 1 }
  let s = (m - 1) / (m + 1), s2 = s * s
  var term = s, sum = 0.0, k = 1.0
  for _ in 0..<40 { sum += term / k; term *= s2; k += 2 }
  return 2 * sum + e * 0.693_147_180_559_945_3
}

private func cosApprox(_ x: Double) -> Double {
  var r = x.truncatingRemainder(dividingBy: 2 * Double.pi)
  if r > Double.pi { r -= 2 * Double.pi }
  let r2 = r * r
  var term = 1.0, sum = 1.0
  for k in stride(from: 2.0, through: 40.0, by: 2.0) { term *= -r2 / ((k - 1) * k); sum += term }
  return sum
}
