// exp, expm1, log, log1p, log2 (Double): accuracy against libm, and special values.

import Foundation
import PortableMath
import Testing

@Suite struct ExpLogTests {
  static let samples = 100_000

  /// Measures `ours` against `reference` over `inputs` and checks the worst ulp error.
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

  @Test func expIsWithinOneUlp() {
    var rng = SplitMix64(seed: 1)
    var inputs = (0..<Self.samples).map { _ in rng.uniform(-745.1, 709.78) }
    inputs += (0..<Self.samples / 4).map { _ in rng.logUniform(-20, 0) }
    inputs += (0..<Self.samples / 4).map { _ in rng.uniform(-745.13, -708) }  // subnormal results
    checkUlps("exp", bound: 1, inputs: inputs, Portable.exp, { Foundation.exp($0) })
  }

  @Test func expm1IsWithinOneUlp() {
    var rng = SplitMix64(seed: 2)
    var inputs = (0..<Self.samples).map { _ in rng.uniform(-40, 709.78) }
    inputs += (0..<Self.samples).map { _ in rng.logUniform(-20, 0.5) }
    inputs += (0..<Self.samples / 4).map { _ in rng.uniform(-0.5, 0.5) }
    checkUlps("expm1", bound: 1, inputs: inputs, Portable.expm1, { Foundation.expm1($0) })
  }

  @Test func logIsWithinOneUlp() {
    var rng = SplitMix64(seed: 3)
    var inputs = (0..<Self.samples).map { _ in rng.positiveDoubleBits() }
    inputs += (0..<Self.samples / 2).map { _ in rng.uniform(0.5, 2) }
    inputs += (0..<Self.samples / 4).map { _ in 1 + rng.logUniform(-15, -1) }
    checkUlps("log", bound: 1, inputs: inputs, Portable.log, { Foundation.log($0) })
  }

  @Test func log1pIsWithinOneUlp() {
    var rng = SplitMix64(seed: 4)
    var inputs = (0..<Self.samples).map { _ in rng.positiveDoubleBits() }
    inputs += (0..<Self.samples / 2).map { _ in rng.uniform(-1, 1) }
    inputs += (0..<Self.samples / 2).map { _ in rng.logUniform(-20, 0) }.filter { $0 > -1 }
    inputs += (0..<Self.samples / 4).map { _ in -1 + rng.logUniform(-16, -0.5).magnitude }
    checkUlps("log1p", bound: 1, inputs: inputs, Portable.log1p, { Foundation.log1p($0) })
  }

  @Test func log2IsWithinOneUlp() {
    var rng = SplitMix64(seed: 5)
    var inputs = (0..<Self.samples).map { _ in rng.positiveDoubleBits() }
    inputs += (0..<Self.samples / 2).map { _ in rng.uniform(0.5, 2) }
    inputs += (0..<Self.samples / 4).map { _ in 1 + rng.logUniform(-15, -1) }
    checkUlps("log2", bound: 1, inputs: inputs, Portable.log2, { Foundation.log2($0) })
  }

  @Test func log2IsExactAtPowersOfTwo() {
    for k in -1074...1023 {
      let x = Double(sign: .plus, exponent: k, significand: 1)
      #expect(Portable.log2(x) == Double(k), "log2(2^\(k))")
    }
  }

  @Test func specialValues() {
    let nan = Double.nan
    let inf = Double.infinity
    #expect(Portable.exp(0.0) == 1)
    #expect(Portable.exp(-0.0) == 1)
    #expect(Portable.exp(1.0) == 0x1.5bf0a8b145769p+1)
    #expect(Portable.exp(Double.infinity) == inf)
    #expect(Portable.exp(-Double.infinity) == 0)
    #expect(Portable.exp(nan).isNaN)
    #expect(Portable.exp(709.78) < inf)
    #expect(Portable.exp(709.79) == inf)
    #expect(Portable.exp(-745.13) == Double.leastNonzeroMagnitude)
    #expect(Portable.exp(-745.14) == 0)
    #expect(Portable.exp(0x1p-60) == 1)
    #expect(Portable.expm1(0.0) == 0)
    #expect(Portable.expm1(-0.0).sign == .minus)
    #expect(Portable.expm1(Double.infinity) == inf)
    #expect(Portable.expm1(-Double.infinity) == -1)
    #expect(Portable.expm1(nan).isNaN)
    #expect(Portable.expm1(1e-300) == 1e-300)
    #expect(Portable.expm1(Double.leastNonzeroMagnitude) == Double.leastNonzeroMagnitude)
    #expect(Portable.expm1(710.0) == inf)
    #expect(Portable.log(1.0) == 0)
    #expect(Portable.log(0.0) == -inf)
    #expect(Portable.log(-0.0) == -inf)
    #expect(Portable.log(-1.0).isNaN)
    #expect(Portable.log(Double.infinity) == inf)
    #expect(Portable.log(nan).isNaN)
    #expect(Portable.log(-Double.infinity).isNaN)
    #expect(Portable.log(Double.leastNonzeroMagnitude) == Foundation.log(Double.leastNonzeroMagnitude))
    #expect(Portable.log(Double.greatestFiniteMagnitude) == Foundation.log(Double.greatestFiniteMagnitude))
    #expect(Portable.log1p(0.0) == 0)
    #expect(Portable.log1p(-0.0).sign == .minus)
    #expect(Portable.log1p(-1.0) == -inf)
    #expect(Portable.log1p(-1.5).isNaN)
    #expect(Portable.log1p(Double.infinity) == inf)
    #expect(Portable.log1p(nan).isNaN)
    #expect(Portable.log1p(1e-300) == 1e-300)
    #expect(Portable.log1p(Double.greatestFiniteMagnitude) == Foundation.log(Double.greatestFiniteMagnitude))
    #expect(Portable.log2(0.0) == -inf)
    #expect(Portable.log2(-2.0).isNaN)
    #expect(Portable.log2(Double.infinity) == inf)
    #expect(Portable.log2(nan).isNaN)
  }
}
