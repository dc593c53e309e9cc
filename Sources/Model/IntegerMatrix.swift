import CDense

/// A layer's weights in the form of the integer product (`Arithmetic.int16`, Sources/CDense
/// `bbans_int16_product`): each column j rounded to int16 as W[t][j] · 2^f_j, with 2^f_j the
/// power of two that puts the column's largest magnitude in [2^(b−1), 2^b) for the weight bits b
/// of this inner size; pairs of inputs interleaved for `vpmaddwd`.
///
/// The product C = start + A·W rounds each row of A the same way, with a scale of its own, sums
/// the int16 products exactly in int32 (the bits are chosen so that no sum can overflow), and
/// turns each sum into a Float with one conversion and two multiplies by powers of two before
/// adding start. Integer sums do not depend on their order, so the result is the same on every
/// machine, kernel level and batch: determinism by construction, as the float kernel has it by
/// its fixed order.
package struct IntegerMatrix: Equatable, Sendable {
  /// The most inputs a product takes: a block of rows is rounded into a buffer of this many values.
  package static let innerLimit = 24_576

  package let inner: Int
  package let columns: Int
  /// ⌈inner/2⌉ × padded columns × 2.
  let packed: [Int16]
  /// 2^−f_j per padded column (1 in the padding).
  let columnScales: [Float]

  /// Rounds W (inner × columns, W[t][j] = weights[t · rowStride + j]); finite weights expected.
  package init(weights: UnsafePointer<Float>, inner: Int, columns: Int, rowStride: Int) {
    precondition((0...IntegerMatrix.innerLimit).contains(inner) && columns >= 0, "IntegerMatrix: \(inner) inputs")
    self.inner = inner
    self.columns = columns
    let padded = (columns + 15) / 16 * 16
    var packed = [Int16](repeating: 0, count: (inner + 1) / 2 * padded * 2)
    var scales = [Float](repeating: 1, count: padded)
    packed.withUnsafeMutableBufferPointer { p in
      scales.withUnsafeMutableBufferPointer { s in
        bbans_int16_pack(inner, columns, weights, rowStride, p.baseAddress, s.baseAddress)
      }
    }
    self.packed = packed
    self.columnScales = scales
  }

  /// A layer's weights.
  package init(_ layer: DenseLayer) {
    self = layer.weights.withUnsafeBufferPointer {
      IntegerMatrix(weights: $0.baseAddress!, inner: layer.inCount, columns: layer.outCount, rowStride: layer.outCount)
    }
  }

  /// C = start + A·W for `rows` rows of A (row r at a + r · aRowStride, `inner` values).
  /// - Parameters:
  ///   - level: the kernel level (clamped to what the CPU supports), or nil for the one in use.
  ///   - variant: for tests, one version (`IntegerMatrix.supportedVariant`), whatever the level.
  @inline(__always)
  package func product(
    rows: Int, a: UnsafePointer<Float>, aRowStride: Int, start: UnsafePointer<Float>?,
    c: UnsafeMutablePointer<Float>, cRowStride: Int, level: Int? = nil, variant: Int? = nil
  ) {
    precondition(rows >= 0, "IntegerMatrix.product: negative rows")
    packed.withUnsafeBufferPointer { p in
      columnScales.withUnsafeBufferPointer { s in
        if let variant {
          bbans_int16_product_variant(Int32(clamping: variant), rows, columns, inner, a, aRowStride, p.baseAddress,
                                      s.baseAddress, start, c, cRowStride)
        } else if let level {
          bbans_int16_product_at_level(Int32(clamping: level), rows, columns, inner, a, aRowStride, p.baseAddress,
                                       s.baseAddress, start, c, cRowStride)
        } else {
          bbans_int16_product(rows, columns, inner, a, aRowStride, p.baseAddress, s.baseAddress, start, c, cRowStride)
        }
      }
    }
  }
}

extension IntegerMatrix {
  /// The integer kernel's versions this CPU runs: 0 portable, 1 AVX2, 2 AVX-512BW, 3 AVX-512
  /// VNNI; this is the highest (level 2 runs it).
  package static var supportedVariant: Int { Int(bbans_int16_supported_variant()) }
}
