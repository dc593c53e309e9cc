// The integer product's contract (Sources/CDense/include/CDense.h, `IntegerMatrix`): each row of
// A and each column of W rounded to int16 with a power-of-two scale read off the largest
// magnitude's exponent, exact sums, then start[j] + ((Float)acc · 1/s_r) · 2^−f_j. Checked here
// against a reference written from the contract in Swift, on every kernel level this CPU runs,
// with sums in Int64 so that an overflow in the kernel would show.

import CDense
@_spi(Benchmarks) import Model
import Testing

struct IntegerArithmeticTests {
  static var levels: [Int] { Array(0...DenseKernel.supportedLevel) }

  static func bits(inner: Int) -> (activations: Int, weights: Int) {
    var c = 0
    while (1 << c) < max(inner, 1) { c += 1 }
    let budget = 30 - c
    let a = min(14, budget / 2)
    return (a, min(14, budget - a))
  }

  /// 2^e with e = bits − 1 − E for the largest magnitude's exponent E.
  static func exponent(largest: Float, bits: Int) -> Int {
    let m = largest.bitPattern & 0x7fff_ffff
    let e: Int = m >= 0x7f80_0000 ? 128 : m < UInt32(127 - 60) << 23 ? -60 : Int(m >> 23) - 127
    return bits - 1 - e
  }

  static func quantize(_ x: Float, exponent e: Int, bits: Int) -> Int64 {
    var v = x * Float(sign: .plus, exponent: e, significand: 1)
    if v.isNaN { return 0 }
    let limit = Float(1 << bits)
    v = min(max(v, -limit), limit)
    return Int64(v.rounded(.toNearestOrEven))
  }

  static func largest(_ values: some Sequence<Float>) -> Float {
    Float(bitPattern: values.map { $0.bitPattern & 0x7fff_ffff }.max() ?? 0)
  }

  /// The product by the contract, in Swift.
  static func reference(rows: Int, columns: Int, inner: Int, a: [Float], w: [Float], start: [Float]?) -> [Float] {
    let (ba, bw) = bits(inner: inner)
    var q = [Int64](repeating: 0, count: inner * columns), fs = [Int](repeating: 0, count: columns)
    for j in 0..<columns {
      fs[j] = exponent(largest: largest((0..<inner).map { w[$0 * columns + j] }), bits: bw)
      for t in 0..<inner { q[t * columns + j] = quantize(w[t * columns + j], exponent: fs[j], bits: bw) }
    }
    var c = [Float](repeating: 0, count: rows * columns)
    for r in 0..<rows {
      let row = Array(a[(r * inner)..<((r + 1) * inner)])
      let e = exponent(largest: largest(row), bits: ba)
      let qa = row.map { quantize($0, exponent: e, bits: ba) }
      for j in 0..<columns {
        var acc: Int64 = 0
        for t in 0..<inner { acc += qa[t] * q[t * columns + j] }
        #expect(acc >= Int64(Int32.min) && acc <= Int64(Int32.max), "the sum \(acc) does not fit in int32")
        let value = (Float(Int32(truncatingIfNeeded: acc)) * Float(sign: .plus, exponent: -e, significand: 1))
          * Float(sign: .plus, exponent: -fs[j], significand: 1)
        c[r * columns + j] = (start?[j] ?? 0) + value
      }
    }
    return c
  }

  /// Every version of the integer kernel this CPU runs (AVX-512 with and without VNNI among them).
  static var variants: [Int] { Array(0...IntegerMatrix.supportedVariant) }

  static func product(rows: Int, columns: Int, inner: Int, a: [Float], w: [Float], start: [Float]?, level: Int?,
                      variant: Int? = nil) -> [Float] {
    let matrix = w.withUnsafeBufferPointer {
      IntegerMatrix(weights: $0.baseAddress!, inner: inner, columns: columns, rowStride: columns)
    }
    var c = [Float](repeating: .nan, count: rows * columns)
    a.withUnsafeBufferPointer { ap in
      c.withUnsafeMutableBufferPointer { cp in
        if let start {
          start.withUnsafeBufferPointer {
            matrix.product(rows: rows, a: ap.baseAddress!, aRowStride: inner, start: $0.baseAddress!,
                           c: cp.baseAddress!, cRowStride: columns, level: level, variant: variant)
          }
        } else {
          matrix.product(rows: rows, a: ap.baseAddress!, aRowStride: inner, start: nil, c: cp.baseAddress!,
                         cRowStride: columns, level: level, variant: variant)
        }
      }
    }
    return c
  }

  static func check(rows: Int, columns: Int, inner: Int, a: [Float], w: [Float], start: [Float]?) {
    let expected = reference(rows: rows, columns: columns, inner: inner, a: a, w: w, start: start)
    for level in levels {
      let c = product(rows: rows, columns: columns, inner: inner, a: a, w: w, start: start, level: level)
      for i in c.indices where c[i].bitPattern != expected[i].bitPattern {
        Issue.record("level \(level), \(rows)×\(inner)·\(inner)×\(columns): C[\(i / columns)][\(i % columns)] = \(c[i]), contract \(expected[i])")
        return
      }
    }
    for variant in variants {
      let c = product(rows: rows, columns: columns, inner: inner, a: a, w: w, start: start, level: nil, variant: variant)
      for i in c.indices where c[i].bitPattern != expected[i].bitPattern {
        Issue.record("variant \(variant), \(rows)×\(inner)·\(inner)×\(columns): C[\(i / columns)][\(i % columns)] = \(c[i]), contract \(expected[i])")
        return
      }
    }
  }

  /// Shapes through every path: 6-row, 8-row and single-row tiles, 3, 2 and 1 vectors, columns
  /// past a multiple of 8 and 16, odd inner, more rows than a block of 24, inner so long that a
  /// block holds fewer rows, inner 0 and 1.
  @Test(arguments: [(1, 1, 1), (3, 7, 5), (6, 16, 9), (7, 9, 2), (13, 33, 40), (25, 100, 11), (50, 17, 3),
                    (4, 128, 47), (9, 24, 784), (30, 12, 3001), (2, 5, 0), (32, 100, 65), (17, 50, 33),
                    (8, 48, 16), (40, 512, 20)])
  func everyElementIsTheContractsValue(_ shape: (Int, Int, Int)) {
    let (rows, columns, inner) = shape
    var generator = SeededGenerator(seed: UInt64(rows * 10_000 + columns * 100 + inner))
    // Rows of very different sizes, some exact zeros, negative and positive weights.
    let a = (0..<(rows * inner)).map { i -> Float in
      let size = Float(sign: .plus, exponent: (i / max(inner, 1)) % 9 - 4, significand: 1)
      return i % 5 == 0 ? 0 : Float(generator.nextUnit() * 2 - 1) * size
    }
    let w = (0..<(inner * columns)).map { _ in Float(generator.nextUnit() * 2 - 1) * 0.1 }
    let start = (0..<columns).map { _ in Float(generator.nextUnit() - 0.5) }
    Self.check(rows: rows, columns: columns, inner: inner, a: a, w: w, start: start)
    Self.check(rows: rows, columns: columns, inner: inner, a: a, w: w, start: nil)
  }

  /// The largest sums the bits allow: every activation and weight at its bound with one sign,
  /// at inner sizes on both sides of a power of two. The contract's sums are in Int64 and must
  /// equal the kernel's.
  @Test(arguments: [2, 16, 17, 500, 512, 513, 784, 4096])
  func theLargestSumsDoNotOverflow(_ inner: Int) {
    let rows = 7, columns = 9
    // Values just under a power of two round up to the bound 2^bits.
    let a = [Float](repeating: -0.99999, count: rows * inner)
    let w = [Float](repeating: 0.99999, count: inner * columns)
    let (ba, bw) = Self.bits(inner: inner)
    var c = 0
    while (1 << c) < inner { c += 1 }
    #expect(ba + bw + c <= 30 && ba <= 14 && bw <= 14)
    #expect(Int(bbans_int16_activation_bits(inner)) == ba && Int(bbans_int16_weight_bits(inner)) == bw)
    Self.check(rows: rows, columns: columns, inner: inner, a: a, w: w, start: nil)
    let product = Self.product(rows: rows, columns: columns, inner: inner, a: a, w: w, start: nil, level: nil)
    #expect(product.allSatisfy { abs($0 + Float(inner)) <= Float(inner) * 1e-4 }, "\(product.prefix(3)) for −\(inner)")
  }

  /// NaN counts as 0, ±∞ as the bound, a row of zeros gives start, a tiny row keeps its scale.
  @Test func specialValues() {
    let inner = 6, columns = 3
    let a: [Float] = [.nan, 1, -2, 0.5, 0, 3,
                      .infinity, 1, -.infinity, 0, 0, 0,
                      0, 0, 0, 0, 0, 0,
                      1e-30, -2e-30, 3e-30, 0, 1e-30, 0,
                      Float.leastNonzeroMagnitude, 0, 0, 0, 0, -Float.leastNonzeroMagnitude]
    let w = (0..<(inner * columns)).map { Float($0 % 7) - 3 }
    Self.check(rows: 5, columns: columns, inner: inner, a: a, w: w, start: [0.25, -1, 2])
    let c = Self.product(rows: 5, columns: columns, inner: inner, a: a, w: w, start: [0.25, -1, 2], level: nil)
    // Never NaN; finite but for the row with infinities (whose scale makes the sums overflow to ±∞,
    // as a Float product would).
    let noNaN = c.allSatisfy { !$0.isNaN }, finite = (c[0..<3] + c[6...]).allSatisfy { $0.isFinite }
    #expect(noNaN && finite)
    #expect(Array(c[6..<9]) == [0.25, -1, 2])
  }

  /// A row's result does not depend on the rows beside it in the call.
  @Test func aRowIsTheSameAloneAndInABatch() {
    let rows = 31, columns = 20, inner = 45
    var generator = SeededGenerator(seed: 7)
    let a = (0..<(rows * inner)).map { _ in Float(generator.nextUnit() * 4 - 2) }
    let w = (0..<(inner * columns)).map { _ in Float(generator.nextUnit() - 0.5) }
    let all = Self.product(rows: rows, columns: columns, inner: inner, a: a, w: w, start: nil, level: nil)
    for r in [0, 5, 30] {
      let one = Self.product(rows: 1, columns: columns, inner: inner, a: Array(a[(r * inner)..<((r + 1) * inner)]),
                             w: w, start: nil, level: nil)
      #expect(one == Array(all[(r * columns)..<((r + 1) * columns)]))
    }
  }

  /// The int16 products stay close to the Float ones.
  @Test func closeToTheFloatProduct() {
    let rows = 12, columns = 40, inner = 300
    var generator = SeededGenerator(seed: 11)
    let a = (0..<(rows * inner)).map { _ in max(0, Float(generator.nextUnit() * 2 - 1)) }
    let w = (0..<(inner * columns)).map { _ in Float(generator.nextUnit() * 2 - 1) * 0.05 }
    let exact = DenseKernelTests.product(rows: rows, columns: columns, inner: inner, a: a, b: w, start: nil)
    let integer = Self.product(rows: rows, columns: columns, inner: inner, a: a, w: w, start: nil, level: nil)
    let largest = exact.map(abs).max()!
    #expect(zip(exact, integer).allSatisfy { abs($0 - $1) <= largest * 2e-3 })
  }
}
