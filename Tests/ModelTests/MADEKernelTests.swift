// The IAF posterior's inner loops (CDense's made.c): every level gives each row the scalar
// sequence of its contract, m = bm + x₀·wm₀ + x₁·wm₁ + … (one multiply and one add at a time),
// and x ← x + input·w, whatever the number of rows and the block a row falls in.

import CDense
import Testing

import Model

struct MADEKernelTests {
  static var levels: [Int] { Array(0...Int(bbans_dense_supported_level())) }

  /// Values of many magnitudes, with subnormals, zeros of both signs and some large ones.
  static func values(_ count: Int, seed: UInt64) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { k in
      switch k % 11 {
      case 3: return -0.0
      case 5: return Float.leastNonzeroMagnitude * Float(k % 7)
      case 7: return Float.random(in: -1..<1, using: &generator) * 1e30
      default: return Float.random(in: -1..<1, using: &generator) * Float(1 << (k % 9))
      }
    }
  }

  @Test(arguments: [1, 3, 4, 5, 8, 12, 16, 17, 31, 32, 33, 48, 64, 71])
  func outputsAreEachRowsSequentialSum(rows: Int) {
    let units = 37
    let x = Self.values(units * rows, seed: UInt64(rows)), wm = Self.values(units, seed: 100), ws = Self.values(units, seed: 200)
    for used in [0, 1, 16, units] {
      var expectedM = [Float](repeating: 0, count: rows), expectedS = expectedM
      for r in 0..<rows {
        var m: Float = 0.25, s: Float = -3
        for u in 0..<used {
          let a = x[u * rows + r]
          m = m + a * wm[u]
          s = s + a * ws[u]
        }
        expectedM[r] = m; expectedS[r] = s
      }
      for level in Self.levels {
        var m = [Float](repeating: .nan, count: rows), s = m
        bbans_made_outputs_at_level(Int32(level), used, rows, x, wm, ws, 0.25, -3, &m, &s)
        #expect(m.map(\.bitPattern) == expectedM.map(\.bitPattern), "level \(level), \(rows) rows, \(used) units")
        #expect(s.map(\.bitPattern) == expectedS.map(\.bitPattern), "level \(level), \(rows) rows, \(used) units")
      }
    }
  }

  @Test(arguments: [1, 3, 4, 5, 8, 12, 16, 17, 31, 32, 33, 48, 64, 71])
  func inputsAddEachRowsProduct(rows: Int) {
    let units = 29
    let start = Self.values(units * rows, seed: UInt64(rows) + 7), input = Self.values(rows, seed: 300), w = Self.values(units, seed: 400)
    for (lo, hi) in [(0, units), (5, 6), (12, units), (7, 7)] {
      var expected = start
      for u in lo..<hi { for r in 0..<rows { expected[u * rows + r] = expected[u * rows + r] + input[r] * w[u] } }
      for level in Self.levels {
        var x = start
        bbans_made_inputs_at_level(Int32(level), lo, hi, rows, input, w, &x)
        #expect(x.map(\.bitPattern) == expected.map(\.bitPattern), "level \(level), \(rows) rows, units \(lo)..<\(hi)")
      }
    }
  }
}
