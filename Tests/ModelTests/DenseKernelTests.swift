// The dense kernel's contract (Dense.swift): every element of C is the sequential Float sum
// start[j] + A[r][0]·B[0][j] + A[r][1]·B[1][j] + …, one multiply and one add at a time, whatever
// the shape, the SIMD block the element falls in, or the number of rows in the call.

@_spi(Benchmarks) import Model
import Testing

struct DenseKernelTests {
  static func product(
    rows: Int, columns: Int, inner: Int, a: [Float], b: [Float], start: [Float]?, level: Int? = nil
  ) -> [Float] {
    var c = [Float](repeating: .nan, count: rows * columns)
    a.withUnsafeBufferPointer { ap in
      b.withUnsafeBufferPointer { bp in
        c.withUnsafeMutableBufferPointer { cp in
          if let start {
            start.withUnsafeBufferPointer { sp in
              DenseKernel.matrixProduct(rows: rows, columns: columns, inner: inner, a: ap.baseAddress!, b: bp.baseAddress!,
                                        start: sp.baseAddress!, c: cp.baseAddress!, level: level)
            }
          } else {
            DenseKernel.matrixProduct(rows: rows, columns: columns, inner: inner, a: ap.baseAddress!, b: bp.baseAddress!,
                                      start: nil, c: cp.baseAddress!, level: level)
          }
        }
      }
    }
    return c
  }

  /// Every instruction-set level this CPU runs (the kernel's versions must agree bit for bit).
  static var levels: [Int] { Array(0...DenseKernel.supportedLevel) }

  /// Shapes that reach every path of every version: 4-row and 1-row blocks; tiles of 2 and 1
  /// vectors of 16, 8 and 4 floats; single columns; inner 1.
  @Test(arguments: [(1, 1, 1), (3, 7, 5), (4, 8, 3), (5, 16, 9), (9, 41, 13), (8, 25, 1), (13, 33, 40),
                    (4, 63, 7), (6, 100, 11), (5, 9, 32), (7, 32, 8)])
  func everyElementIsTheSequentialFloatSum(_ shape: (Int, Int, Int)) {
    for level in Self.levels { checkSequentialSums(shape, level: level) }
  }

  func checkSequentialSums(_ shape: (Int, Int, Int), level: Int) {
    let (rows, columns, inner) = shape
    var generator = SeededGenerator(seed: UInt64(rows * 10_000 + columns * 100 + inner))
    let a = (0..<(rows * inner)).map { _ in Float(generator.nextUnit() * 2 - 1) }
    let b = (0..<(inner * columns)).map { _ in Float(generator.nextUnit() * 2 - 1) }
    let start = (0..<columns).map { _ in Float(generator.nextUnit() - 0.5) }
    for withStart in [true, false] {
      let c = Self.product(
        rows: rows, columns: columns, inner: inner, a: a, b: b, start: withStart ? start : nil, level: level)
      for r in 0..<rows {
        for j in 0..<columns {
          var acc: Float = withStart ? start[j] : 0
          for t in 0..<inner {
            let term = a[r * inner + t] * b[t * columns + j]
            acc = acc + term
          }
          #expect(c[r * columns + j].bitPattern == acc.bitPattern,
                  "level \(level), \(rows)×\(inner)·\(inner)×\(columns): C[\(r)][\(j)] = \(c[r * columns + j]), sequential sum \(acc)")
        }
      }
    }
  }

  /// A row computed alone by the portable version equals the same row computed in a block of
  /// four by every version.
  @Test func rowDoesNotDependOnTheOtherRows() {
    let rows = 11, columns = 37, inner = 23
    var generator = SeededGenerator(seed: 5)
    let a = (0..<(rows * inner)).map { _ in Float(generator.nextGaussian()) }
    let b = (0..<(inner * columns)).map { _ in Float(generator.nextGaussian()) }
    for level in Self.levels {
      let all = Self.product(rows: rows, columns: columns, inner: inner, a: a, b: b, start: nil, level: level)
      for r in 0..<rows {
        let one = Self.product(rows: 1, columns: columns, inner: inner, a: Array(a[(r * inner)..<((r + 1) * inner)]),
                               b: b, start: nil, level: 0)
        #expect(one.map(\.bitPattern) == all[(r * columns)..<((r + 1) * columns)].map(\.bitPattern),
                "row \(r) alone at level 0 and in a block at level \(level)")
      }
    }
  }
}
