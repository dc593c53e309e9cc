// Helpers for the PortableMath tests: a seeded generator, input samplers, and error measures
// against libm (the reference; PortableMath itself never calls it).

import Foundation
import Testing

/// SplitMix64: a tiny seeded generator, so that every run tests the same inputs.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

extension SplitMix64 {
  /// A positive finite Double with a uniformly random bit pattern: every binade equally likely,
  /// subnormals included.
  mutating func positiveDoubleBits() -> Double {
    while true {
      let x = Double(bitPattern: next() & 0x7FFF_FFFF_FFFF_FFFF)
      if x.isFinite && x > 0 { return x }
    }
  }

  /// ±10^u with u uniform in [lo, hi]: magnitudes spread over many decades.
  mutating func logUniform(_ lo: Double, _ hi: Double) -> Double {
    let magnitude = Foundation.pow(10, Double.random(in: lo...hi, using: &self))
    return Bool.random(using: &self) ? magnitude : -magnitude
  }

  mutating func uniform(_ lo: Double, _ hi: Double) -> Double {
    Double.random(in: lo...hi, using: &self)
  }

  mutating func uniformFloat(_ lo: Float, _ hi: Float) -> Float {
    Float.random(in: lo...hi, using: &self)
  }
}

#if arch(x86_64) && !os(Windows)
/// The reference type: Float80 (64-bit significand) where the platform has it, so that errors
/// are measured in fractions of an ulp; Double elsewhere (then errors are whole ulps and include
/// libm's own error, and the bounds get one ulp of slack).
typealias Reference = Float80
let referenceSlack = 0.0
#else
typealias Reference = Double
let referenceSlack = 1.0
#endif

/// |y − reference| in units of the last place of a Double at the reference.
func ulpError(_ y: Double, _ reference: Reference) -> Double {
  if y.isNaN || reference.isNaN { return y.isNaN && reference.isNaN ? 0 : .infinity }
  let rounded = Double(reference)
  if rounded.isInfinite || y.isInfinite { return y == rounded ? 0 : .infinity }
  if reference == 0 { return y == 0 ? 0 : Double(Swift.abs(y) / Double.leastNonzeroMagnitude) }
  let exponent = max(Int(reference.exponent), -1022)
  let ulp = Reference(sign: .plus, exponent: Reference.Exponent(exponent - 52), significand: 1)
  return Double(Swift.abs(Reference(y) - reference) / ulp)
}

/// |y − reference| in units of the last place of a Float at the reference.
func ulpError(_ y: Float, _ reference: Double) -> Double {
  if y.isNaN || reference.isNaN { return y.isNaN && reference.isNaN ? 0 : .infinity }
  let rounded = Float(reference)
  if rounded.isInfinite || y.isInfinite { return y == rounded ? 0 : .infinity }
  if reference == 0 { return y == 0 ? 0 : Double(Swift.abs(y) / Float.leastNonzeroMagnitude) }
  let exponent = max(Int(reference.exponent), -126)
  let ulp = Double(sign: .plus, exponent: exponent - 23, significand: 1)
  return Swift.abs(Double(y) - reference) / ulp
}

/// |y − reference| / |reference|.
func relativeError(_ y: Double, _ reference: Reference) -> Double {
  if y == Double(reference) { return 0 }
  return Double(Swift.abs((Reference(y) - reference) / reference))
}

/// The worst case of an error measure over many inputs, with the input that produced it.
struct WorstCase: CustomStringConvertible {
  var error = 0.0
  var input = 0.0
  mutating func record(_ error: Double, at input: Double) {
    if !(error <= self.error) {
      self.error = error
      self.input = input
    }
  }
  var description: String { "\(error) at x = \(input) (\(input.bitPattern.hexString))" }
}

extension UInt64 {
  var hexString: String { "0x" + String(self, radix: 16) }
}

/// Packs `pool` into vectors of V three times (in order, then twice shuffled, so that each value
/// lands in several lane positions) and records every lane whose result is not the scalar
/// function's, bit for bit (NaN matching any NaN); returns how many lanes differed.
func laneMismatches<V: SIMD>(
  _ name: String, pool: [V.Scalar], rng: inout SplitMix64,
  scalar: (V.Scalar) -> V.Scalar, vector: (V) -> V
) -> Int where V.Scalar: BinaryFloatingPoint {
  var mismatches = 0
  for pass in 0..<3 {
    var values = pool
    if pass > 0 { values.shuffle(using: &rng) }
    while values.count % V.scalarCount != 0 { values.append(0) }
    for start in stride(from: 0, to: values.count, by: V.scalarCount) {
      let v = V(values[start..<(start + V.scalarCount)])
      let y = vector(v)
      for lane in 0..<V.scalarCount {
        let expected = scalar(v[lane])
        let same = expected.isNaN ? y[lane].isNaN : (y[lane] == expected && y[lane].sign == expected.sign)
        if !same {
          mismatches += 1
          if mismatches <= 5 {
            Issue.record("\(name): lane \(lane) of \(v[lane]) gives \(y[lane]), scalar \(expected)")
          }
        }
      }
    }
  }
  return mismatches
}
