// The 4-lane Double exp and sigmoid (DoubleSIMD.swift) against the scalar functions: every
// lane must carry the scalar function's exact bits, in every lane position.

import PortableMath
import Testing

struct DoubleSIMDTests {
  /// Values at and around every threshold of both functions, and the special values.
  static let edgeCases: [Double] = {
    var values: [Double] = [0, -0.0, 1, -1, 0x1p-60, -0x1p-60, .infinity, -.infinity,
                            .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude]
    for threshold in [-745.2, -707.6, -708.4, -708.3, -720, -740, 709.7, 709.78, 709.8, 710] {
      var x = threshold
      for _ in 0..<8 { values += [x, -x]; x = x.nextUp }
      x = threshold
      for _ in 0..<8 { values.append(x); x = x.nextDown }
    }
    return values
  }()

  func checkLanes(
    _ name: String, seed: UInt64, includeNaN: Bool,
    _ scalar: (Double) -> Double, _ vector: (SIMD4<Double>) -> SIMD4<Double>
  ) {
    var rng = SplitMix64(seed: seed)
    var pool = Self.edgeCases
    if includeNaN { pool += [.nan, -.nan] }
    pool += (0..<20_000).map { _ in Double.random(in: -760...760, using: &rng) }
    pool += (0..<20_000).map { _ in Double.random(in: -3...3, using: &rng) }
    pool += (0..<20_000).map { _ in Double.random(in: -40...4, using: &rng) }
    pool += (0..<5_000).map { _ in
      let x = Double(bitPattern: rng.next())
      return x.isNaN && !includeNaN ? 0 : x
    }
    let mismatches = laneMismatches(name, pool: pool, rng: &rng, scalar: scalar, vector: vector)
    #expect(mismatches == 0, "\(name): \(mismatches) lanes differ from the scalar function")
  }

  @Test func lanesMatchScalarExp() {
    checkLanes("exp", seed: 61, includeNaN: true, Portable.exp, Portable.exp)
  }

  @Test func lanesMatchScalarSigmoid() {
    checkLanes("sigmoid", seed: 62, includeNaN: false, Portable.sigmoid, Portable.sigmoid)
  }
}
