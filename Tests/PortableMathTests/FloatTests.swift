// Float functions: accuracy against Double libm, and SIMD lanes bit-identical to the scalars.

import Foundation
import PortableMath
import Testing

@Suite struct FloatTests {
  static let samples = 100_000

  func checkUlps(
    _ name: String, bound: Double, inputs: [Float],
    _ ours: (Float) -> Float, _ reference: (Double) -> Double
  ) {
    var worst = WorstCase()
    for x in inputs {
      worst.record(ulpError(ours(x), reference(Double(x))), at: Double(x))
    }
    print("\(name) (Float): max error \(worst) ulp over \(inputs.count) inputs")
    #expect(worst.error <= bound, "\(name): \(worst)")
  }

  static func randomFloats(seed: UInt64, _ lo: Float, _ hi: Float) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<samples).map { _ in rng.uniformFloat(lo, hi) }
  }

  static func positiveFloatBits(seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<samples).compactMap { _ in
      let x = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x7FFF_FFFF)
      return x.isFinite && x > 0 ? x : nil
    }
  }

  static func smallFloats(seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<samples / 2).map { _ in Float(rng.logUniform(-10, 0)) }
  }

  @Test func expIsAccurate() {
    let inputs = Self.randomFloats(seed: 31, -104, 88.8) + Self.smallFloats(seed: 32)
    checkUlps("exp", bound: 1, inputs: inputs, Portable.exp, { Foundation.exp($0) })
  }

  @Test func logIsAccurate() {
    let inputs = Self.positiveFloatBits(seed: 33) + Self.randomFloats(seed: 34, 0.5, 2)
    checkUlps("log", bound: 1, inputs: inputs, Portable.log, { Foundation.log($0) })
  }

  @Test func log1pIsAccurate() {
    let inputs = Self.positiveFloatBits(seed: 35) + Self.randomFloats(seed: 36, -1, 1).filter { $0 > -1 }
      + Self.smallFloats(seed: 37)
    checkUlps("log1p", bound: 1, inputs: inputs, Portable.log1p, { Foundation.log1p($0) })
  }

  @Test func logisticFunctionsAreAccurate() {
    let inputs = Self.randomFloats(seed: 38, -120, 120) + Self.randomFloats(seed: 39, -20, 20)
      + Self.smallFloats(seed: 40)
    checkUlps("sigmoid", bound: 2, inputs: inputs, Portable.sigmoid) { 1 / (1 + Foundation.exp(-$0)) }
    checkUlps("softplus", bound: 2, inputs: inputs, Portable.softplus) {
      $0 > 0 ? $0 + Foundation.log1p(Foundation.exp(-$0)) : Foundation.log1p(Foundation.exp($0))
    }
    checkUlps("logSigmoid", bound: 2, inputs: inputs, Portable.logSigmoid) {
      $0 < 0 ? $0 - Foundation.log1p(Foundation.exp($0)) : -Foundation.log1p(Foundation.exp(-$0))
    }
  }

  @Test func tanhIsAccurate() {
    let inputs = Self.randomFloats(seed: 41, -12, 12) + Self.randomFloats(seed: 42, -1, 1)
      + Self.smallFloats(seed: 43)
    checkUlps("tanh", bound: 2, inputs: inputs, Portable.tanh, { Foundation.tanh($0) })
  }

  @Test func specialValues() {
    #expect(Portable.exp(Float(0)) == 1)
    #expect(Portable.exp(Float.infinity) == .infinity)
    #expect(Portable.exp(-Float.infinity) == 0)
    #expect(Portable.exp(Float.nan).isNaN)
    #expect(Portable.exp(Float(88.72)) < .infinity)
    #expect(Portable.exp(Float(88.73)) == .infinity)
    #expect(Portable.exp(Float(-103.2)) > 0)
    #expect(Portable.exp(Float(-104)) == 0)
    #expect(Portable.log(Float(1)) == 0)
    #expect(Portable.log(Float(0)) == -.infinity)
    #expect(Portable.log(Float(-1)).isNaN)
    #expect(Portable.log(Float.infinity) == .infinity)
    #expect(Portable.log(Float.nan).isNaN)
    #expect(Portable.log1p(Float(-1)) == -.infinity)
    #expect(Portable.log1p(Float(0)) == 0)
    #expect(Portable.sigmoid(Float(0)) == 0.5)
    #expect(Portable.sigmoid(Float.infinity) == 1)
    #expect(Portable.sigmoid(-Float.infinity) == 0)
    #expect(Portable.softplus(Float.infinity) == .infinity)
    #expect(Portable.softplus(-Float.infinity) == 0)
    #expect(Portable.tanh(Float.infinity) == 1)
    #expect(Portable.tanh(-Float.infinity) == -1)
    #expect(Portable.tanh(Float(-0.0)).sign == .minus)
  }

  // MARK: SIMD lanes = scalar, bit for bit

  /// Inputs at the thresholds of every function, and the usual special values.
  static let edgeCases: [Float] = {
    var values: [Float] = [
      0, -0.0, .infinity, -.infinity, .nan, 1, -1, 2, 0.5, -0.5,
      .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, 0x1p-127,
      .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0x1.6a09e6p-1, 0x1.6a09e6p+0,
      88.8, 88.72, 88.73, -104, -103.97, -103.28, -87.33, 0.55, -0.55, 44.4, -44.4, 9, -9,
      1e-7, -1e-7, 1e-30, -1e-30, 17, -17, 100, -100,
    ]
    for v in values where v.isFinite {
      values.append(v.nextUp)
      values.append(v.nextDown)
    }
    return values
  }()

  func checkLanes(
    _ name: String, seed: UInt64,
    _ scalar: (Float) -> Float, _ vector: (SIMD8<Float>) -> SIMD8<Float>
  ) {
    var rng = SplitMix64(seed: seed)
    var pool = Self.edgeCases
    pool += (0..<20_000).map { _ in rng.uniformFloat(-120, 120) }
    pool += (0..<20_000).map { _ in rng.uniformFloat(-2, 2) }
    pool += (0..<20_000).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
    let mismatches = laneMismatches(name, pool: pool, rng: &rng, scalar: scalar, vector: vector)
    #expect(mismatches == 0, "\(name): \(mismatches) lanes differ from the scalar function")
  }

  @Test func simdLanesMatchScalarExp() { checkLanes("exp", seed: 51, Portable.exp, Portable.exp) }
  @Test func simdLanesMatchScalarLog() { checkLanes("log", seed: 52, Portable.log, Portable.log) }
  @Test func simdLanesMatchScalarLog1p() { checkLanes("log1p", seed: 53, Portable.log1p, Portable.log1p) }
  @Test func simdLanesMatchScalarSigmoid() { checkLanes("sigmoid", seed: 54, Portable.sigmoid, Portable.sigmoid) }
  @Test func simdLanesMatchScalarSoftplus() { checkLanes("softplus", seed: 55, Portable.softplus, Portable.softplus) }
  @Test func simdLanesMatchScalarLogSigmoid() {
    checkLanes("logSigmoid", seed: 56, Portable.logSigmoid, Portable.logSigmoid)
  }
  @Test func simdLanesMatchScalarTanh() { checkLanes("tanh", seed: 57, Portable.tanh, Portable.tanh) }
}
