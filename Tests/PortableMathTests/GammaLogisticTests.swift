// lgamma, sigmoid, logSigmoid, softplus, tanh (Double) against libm.

import Foundation
import PortableMath
import Testing

@Suite struct GammaLogisticTests {
  static let samples = 100_000

  @Test func lgammaHasSmallRelativeError() {
    var rng = SplitMix64(seed: 21)
    var inputs = (0..<Self.samples).map { _ in rng.uniform(0, 30) }.filter { $0 > 0 }
    inputs += (0..<Self.samples / 2).map { _ in rng.logUniform(-300, 300).magnitude }
    inputs += (0..<Self.samples / 4).map { _ in 1 + rng.logUniform(-12, -1) }
    inputs += (0..<Self.samples / 4).map { _ in 2 + rng.logUniform(-12, -1) }
    var worst = WorstCase()
    for x in inputs {
      worst.record(relativeError(Portable.lgamma(x), referenceLgamma(Reference(x))), at: x)
    }
    print("lgamma: max relative error \(worst) over \(inputs.count) inputs")
    #expect(worst.error <= 1e-14, "\(worst)")
    #expect(Portable.lgamma(1.0) == 0)
    #expect(Portable.lgamma(2.0) == 0)
    #expect(Portable.lgamma(Double.infinity) == .infinity)
    #expect(Portable.lgamma(Double.nan).isNaN)
    #expect(Portable.lgamma(Double.leastNonzeroMagnitude) == -Portable.log(Double.leastNonzeroMagnitude))
  }

  func checkUlps(
    _ name: String, bound: Double, inputs: [Double],
    _ ours: (Double) -> Double, _ reference: (Reference) -> Reference
  ) {
    var worst = WorstCase()
    for x in inputs {
      worst.record(ulpError(ours(x), reference(Reference(x))), at: x)
    }
    print("\(name): max error \(worst) ulp over \(inputs.count) inputs")
    #expect(worst.error <= bound + referenceSlack, "\(name): \(worst)")
  }

  func logisticInputs(seed: UInt64) -> [Double] {
    var rng = SplitMix64(seed: seed)
    var inputs = (0..<Self.samples).map { _ in rng.uniform(-745, 745) }
    inputs += (0..<Self.samples).map { _ in rng.uniform(-40, 40) }
    inputs += (0..<Self.samples / 4).map { _ in rng.logUniform(-20, 1) }
    return inputs
  }

  @Test func sigmoidIsAccurate() {
    checkUlps("sigmoid", bound: 2, inputs: logisticInputs(seed: 22), Portable.sigmoid) {
      1 / (1 + Foundation.exp(-$0))
    }
    #expect(Portable.sigmoid(0.0) == 0.5)
    #expect(Portable.sigmoid(Double.infinity) == 1)
    #expect(Portable.sigmoid(-Double.infinity) == 0)
    #expect(Portable.sigmoid(Double.nan).isNaN)
  }

  @Test func softplusIsAccurate() {
    checkUlps("softplus", bound: 2, inputs: logisticInputs(seed: 23), Portable.softplus) {
      $0 > 0 ? $0 + Foundation.log1p(Foundation.exp(-$0)) : Foundation.log1p(Foundation.exp($0))
    }
    #expect(Portable.softplus(Double.infinity) == .infinity)
    #expect(Portable.softplus(-Double.infinity) == 0)
    #expect(Portable.softplus(Double.nan).isNaN)
  }

  @Test func logSigmoidIsAccurate() {
    checkUlps("logSigmoid", bound: 2, inputs: logisticInputs(seed: 24), Portable.logSigmoid) {
      $0 < 0 ? $0 - Foundation.log1p(Foundation.exp($0)) : -Foundation.log1p(Foundation.exp(-$0))
    }
    #expect(Portable.logSigmoid(Double.infinity) == 0)
    #expect(Portable.logSigmoid(-Double.infinity) == -.infinity)
  }

  @Test func tanhIsAccurate() {
    var rng = SplitMix64(seed: 25)
    var inputs = (0..<Self.samples).map { _ in rng.uniform(-25, 25) }
    inputs += (0..<Self.samples).map { _ in rng.logUniform(-20, 0.3) }
    checkUlps("tanh", bound: 2, inputs: inputs, Portable.tanh, { Foundation.tanh($0) })
    #expect(Portable.tanh(0.0) == 0)
    #expect(Portable.tanh(-0.0 as Double).sign == .minus)
    #expect(Portable.tanh(Double.infinity) == 1)
    #expect(Portable.tanh(-Double.infinity) == -1)
    #expect(Portable.tanh(Double.nan).isNaN)
  }
}

/// log Γ in the reference precision (Glibc's Float80 lgamma also returns the sign).
func referenceLgamma(_ x: Reference) -> Reference {
  #if arch(x86_64) && !os(Windows)
  return Foundation.lgamma(x).0
  #else
  return Foundation.lgamma(x)
  #endif
}
