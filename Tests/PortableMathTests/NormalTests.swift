// normalCDF, normalSurvival, normalQuantile: relative accuracy against libm's erfc, symmetry.

import Foundation
import PortableMath
import Testing

@Suite struct NormalTests {
  static let samples = 100_000

  /// Φ(x) from erfc in the reference precision (x/√2 rounded there, far below Double's error).
  static func phi(_ x: Reference) -> Reference {
    Foundation.erfc(-x / Reference(2).squareRoot()) / 2
  }

  @Test func normalCDFHasSmallRelativeError() {
    var rng = SplitMix64(seed: 11)
    var inputs = (0..<Self.samples).map { _ in rng.uniform(-37.5, 9) }
    inputs += (0..<Self.samples / 2).map { _ in rng.uniform(-1.5, 1.5) }
    inputs += (0..<Self.samples / 4).map { _ in rng.logUniform(-20, 0) }
    var worst = WorstCase()
    for x in inputs {
      worst.record(relativeError(Portable.normalCDF(x), Self.phi(Reference(x))), at: x)
    }
    print("normalCDF: max relative error \(worst) over \(inputs.count) inputs, x in [-37.5, 9]")
    #expect(worst.error <= 1e-15 + referenceSlack * 2e-16, "\(worst)")
  }

  @Test func normalSurvivalHasSmallRelativeErrorInTheUpperTail() {
    var rng = SplitMix64(seed: 12)
    let inputs = (0..<Self.samples).map { _ in rng.uniform(-9, 37.5) }
    var worst = WorstCase()
    for x in inputs {
      worst.record(relativeError(Portable.normalSurvival(x), Self.phi(-Reference(x))), at: x)
    }
    print("normalSurvival: max relative error \(worst) over \(inputs.count) inputs")
    #expect(worst.error <= 1e-15 + referenceSlack * 2e-16, "\(worst)")
  }

  @Test func normalCDFSpecialValues() {
    #expect(Portable.normalCDF(0.0) == 0.5)
    #expect(Portable.normalCDF(-Double.infinity) == 0)
    #expect(Portable.normalCDF(Double.infinity) == 1)
    #expect(Portable.normalCDF(Double.nan).isNaN)
    #expect(Portable.normalCDF(-39) == 0)
    #expect(Portable.normalCDF(-38) > 0)  // subnormal, not flushed
    #expect(Portable.normalCDF(10) == 1)
    #expect(Portable.normalSurvival(-10) == 1)
    // Monotone across the joins of the pieces.
    for join in [-40.0, -10, -5, -3.5, -2.5, -1.75, -1, 1, 1.75, 2.5, 3.5, 5, 10] {
      var x = join
      for _ in 0..<8 { x = x.nextDown }
      var previous = Portable.normalCDF(x)
      for _ in 0..<16 {
        x = x.nextUp
        let value = Portable.normalCDF(x)
        #expect(value >= previous, "normalCDF decreases at \(x)")
        previous = value
      }
    }
  }

  /// The relative error of x = Φ⁻¹(p), from the residual of the reference Φ at x:
  /// δx ≈ (Φ(x) − p)/φ(x), computed around the centre as erf, so that tiny x keep their precision.
  static func quantileRelativeError(_ x: Double, _ p: Double) -> Double {
    let wx = Reference(x)
    let density = Foundation.exp(-wx * wx / 2) / (2 * Reference.pi).squareRoot()
    let residual: Reference
    if Swift.abs(x) < 1 {
      residual = Foundation.erf(wx / Reference(2).squareRoot()) / 2 - (Reference(p) - 0.5)
    } else if x < 0 {
      residual = phi(wx) - Reference(p)
    } else {
      residual = (1 - Reference(p)) - phi(-wx)
    }
    return Double(Swift.abs(residual / density / wx))
  }

  @Test func normalQuantileHasSmallRelativeError() {
    var rng = SplitMix64(seed: 13)
    var inputs = (0..<Self.samples / 2).map { _ in rng.uniform(0, 1) }.filter { $0 > 0 && $0 < 1 }
    inputs += (0..<Self.samples / 2).map { _ in Foundation.pow(10, rng.uniform(-323, -0.3)) }
    inputs += (0..<Self.samples / 4).map { _ in 1 - Foundation.pow(10, rng.uniform(-16, -0.3)) }
    inputs += (0..<Self.samples / 4).map { _ in 0.5 + rng.logUniform(-17, -1) }
    var worst = WorstCase()
    for p in inputs where p != 0.5 {
      worst.record(Self.quantileRelativeError(Portable.normalQuantile(p), p), at: p)
    }
    print("normalQuantile: max relative error \(worst) over \(inputs.count) inputs")
    #expect(worst.error <= 1e-14, "\(worst)")
  }

  @Test func normalQuantileSpecialValuesAndSymmetry() {
    #expect(Portable.normalQuantile(0) == -.infinity)
    #expect(Portable.normalQuantile(1) == .infinity)
    #expect(Portable.normalQuantile(0.5) == 0)
    #expect(Portable.normalQuantile(-0.1).isNaN)
    #expect(Portable.normalQuantile(1.1).isNaN)
    #expect(Portable.normalQuantile(.nan).isNaN)
    #expect(Portable.normalQuantile(Double.leastNonzeroMagnitude).isFinite)
    #expect(Portable.normalQuantile(Double.leastNonzeroMagnitude) < -38)
    var rng = SplitMix64(seed: 14)
    for _ in 0..<10_000 {
      let p = Double(rng.next() >> 11) * 0x1p-53  // a multiple of 2^−53: 1 − p is exact
      guard p > 0 else { continue }
      #expect(Portable.normalQuantile(1 - p) == -Portable.normalQuantile(p), "p = \(p)")
    }
  }
}
