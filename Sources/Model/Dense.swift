import PortableMath
import Hashing
/// The dense-layer kernel: a register-blocked matrix product over contiguous Float32 storage.
///
/// Every product the networks compute, forward and backward, goes through `matrixProduct`:
///
///     C[r][j] = start[j] + Σ_{t = 0 ..< inner} A(r, t) · B[t][j]      (t ascending)
///
/// Determinism: each output element is accumulated in one fixed order, `acc = acc + a·b` for
/// t = 0, 1, …, with a separate multiply and add (no FMA), starting from `start[j]` (or 0).
/// Blocking is over rows of C (4 at a time) and columns of C (16, then 8, then 1 at a time),
/// never over t, so an element's value does not depend on the number of rows in the call, on
/// its position in a SIMD register, or on which thread computes it: a batch of one image and
/// a batch of a hundred give bit-identical rows.
///
/// Speed: the inner loop keeps 4 × 16 accumulators in registers, broadcasts one A element per
/// row and streams one row of B (`B` laid out [inner][columns], the weights' [in][out]).
enum Dense {
  @inline(__always)
  static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
  }

  @inline(__always)
  static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
  }

  /// C = start + A·B, with A read through strides so that a transposed operand costs nothing.
  /// - Parameters:
  ///   - a: A(r, t) = a[r · aRowStride + t · aInnerStride].
  ///   - b: B[t][j] = b[t · bRowStride + j].
  ///   - start: the initial value of column j's accumulators (the bias), or nil for 0.
  ///   - c: C[r][j] = c[r · cRowStride + j]; overwritten.
  static func matrixProduct(
    rows: Int, columns: Int, inner: Int,
    a: UnsafePointer<Float>, aRowStride: Int, aInnerStride: Int,
    b: UnsafePointer<Float>, bRowStride: Int,
    start: UnsafePointer<Float>?,
    c: UnsafeMutablePointer<Float>, cRowStride: Int
  ) {
    precondition(rows >= 0 && columns >= 0 && inner >= 0, "matrixProduct: negative dimension")
    var r = 0
    while r + 4 <= rows {
      productBlock(rowCount: 4, r: r, columns: columns, inner: inner, a: a, aRowStride: aRowStride,
        aInnerStride: aInnerStride, b: b, bRowStride: bRowStride, start: start, c: c, cRowStride: cRowStride)
      r += 4
    }
    while r < rows {
      productBlock(rowCount: 1, r: r, columns: columns, inner: inner, a: a, aRowStride: aRowStride,
        aInnerStride: aInnerStride, b: b, bRowStride: bRowStride, start: start, c: c, cRowStride: cRowStride)
      r += 1
    }
  }

  @inline(__always)
  private static func startVector(_ start: UnsafePointer<Float>?, _ j: Int) -> SIMD8<Float> {
    guard let start else { return SIMD8(repeating: 0) }
    return load8(start + j)
  }

  /// Rows r ..< r + rowCount (rowCount 4 or 1) of C, all columns.
  @inline(__always)
  private static func productBlock(
    rowCount: Int, r: Int, columns: Int, inner: Int,
    a: UnsafePointer<Float>, aRowStride: Int, aInnerStride: Int,
    b: UnsafePointer<Float>, bRowStride: Int,
    start: UnsafePointer<Float>?,
    c: UnsafeMutablePointer<Float>, cRowStride: Int
  ) {
    let a0 = a + r * aRowStride
    var j = 0
    if rowCount == 4 {
      let a1 = a0 + aRowStride, a2 = a1 + aRowStride, a3 = a2 + aRowStride
      while j + 16 <= columns {
        var c00 = startVector(start, j), c01 = startVector(start, j + 8)
        var c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01
        var bp = b + j
        var ai = 0
        for _ in 0..<inner {
          let b0 = load8(bp), b1 = load8(bp + 8)
          let x0 = SIMD8<Float>(repeating: a0[ai]), x1 = SIMD8<Float>(repeating: a1[ai])
          let x2 = SIMD8<Float>(repeating: a2[ai]), x3 = SIMD8<Float>(repeating: a3[ai])
          c00 = c00 + x0 * b0; c01 = c01 + x0 * b1
          c10 = c10 + x1 * b0; c11 = c11 + x1 * b1
          c20 = c20 + x2 * b0; c21 = c21 + x2 * b1
          c30 = c30 + x3 * b0; c31 = c31 + x3 * b1
          bp += bRowStride
          ai += aInnerStride
        }
        let cr = c + r * cRowStride + j
        store8(c00, cr); store8(c01, cr + 8)
        store8(c10, cr + cRowStride); store8(c11, cr + cRowStride + 8)
        store8(c20, cr + 2 * cRowStride); store8(c21, cr + 2 * cRowStride + 8)
        store8(c30, cr + 3 * cRowStride); store8(c31, cr + 3 * cRowStride + 8)
        j += 16
      }
      while j + 8 <= columns {
        var c0 = startVector(start, j)
        var c1 = c0, c2 = c0, c3 = c0
        var bp = b + j
        var ai = 0
        for _ in 0..<inner {
          let b0 = load8(bp)
          c0 = c0 + SIMD8<Float>(repeating: a0[ai]) * b0
          c1 = c1 + SIMD8<Float>(repeating: a1[ai]) * b0
          c2 = c2 + SIMD8<Float>(repeating: a2[ai]) * b0
          c3 = c3 + SIMD8<Float>(repeating: a3[ai]) * b0
          bp += bRowStride
          ai += aInnerStride
        }
        let cr = c + r * cRowStride + j
        store8(c0, cr); store8(c1, cr + cRowStride)
        store8(c2, cr + 2 * cRowStride); store8(c3, cr + 3 * cRowStride)
        j += 8
      }
      for row in 0..<4 {
        scalarColumns(from: j, r: r + row, columns: columns, inner: inner, a: a, aRowStride: aRowStride,
          aInnerStride: aInnerStride, b: b, bRowStride: bRowStride, start: start, c: c, cRowStride: cRowStride)
      }
    } else {
      while j + 16 <= columns {
        var c00 = startVector(start, j), c01 = startVector(start, j + 8)
        var bp = b + j
        var ai = 0
        for _ in 0..<inner {
          let x0 = SIMD8<Float>(repeating: a0[ai])
          c00 = c00 + x0 * load8(bp); c01 = c01 + x0 * load8(bp + 8)
          bp += bRowStride
          ai += aInnerStride
        }
        let cr = c + r * cRowStride + j
        store8(c00, cr); store8(c01, cr + 8)
        j += 16
      }
      while j + 8 <= columns {
        var c0 = startVector(start, j)
        var bp = b + j
        var ai = 0
        for _ in 0..<inner {
          c0 = c0 + SIMD8<Float>(repeating: a0[ai]) * load8(bp)
          bp += bRowStride
          ai += aInnerStride
        }
        store8(c0, c + r * cRowStride + j)
        j += 8
      }
      scalarColumns(from: j, r: r, columns: columns, inner: inner, a: a, aRowStride: aRowStride,
        aInnerStride: aInnerStride, b: b, bRowStride: bRowStride, start: start, c: c, cRowStride: cRowStride)
    }
  }

  /// The columns left over after the SIMD blocks, one element at a time, in the same order.
  @inline(__always)
  private static func scalarColumns(
    from j0: Int, r: Int, columns: Int, inner: Int,
    a: UnsafePointer<Float>, aRowStride: Int, aInnerStride: Int,
    b: UnsafePointer<Float>, bRowStride: Int,
    start: UnsafePointer<Float>?,
    c: UnsafeMutablePointer<Float>, cRowStride: Int
  ) {
    guard j0 < columns else { return }
    let ar = a + r * aRowStride
    for j in j0..<columns {
      var acc: Float = start?[j] ?? 0
      var bp = b + j
      var ai = 0
      for _ in 0..<inner {
        acc = acc + ar[ai] * bp.pointee
        bp += bRowStride
        ai += aInnerStride
      }
      c[r * cRowStride + j] = acc
    }
  }

  /// B = Aᵀ for a rows × columns matrix A (the weights' transpose, for the input gradient).
  static func transpose(_ a: UnsafePointer<Float>, rows: Int, columns: Int, into b: UnsafeMutablePointer<Float>) {
    for i in 0..<rows {
      for j in 0..<columns { b[j * rows + i] = a[i * columns + j] }
    }
  }

  /// ReLU in place: v = max(v, 0).
  static func relu(_ v: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count where !(v[i] > 0) { v[i] = 0 }
  }
}
