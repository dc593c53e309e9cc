import CDense
/// The dense-layer kernel: a register-blocked matrix product over contiguous Float32 storage.
///
/// Every product the networks compute, forward and backward, goes through `matrixProduct`:
///
///     C[r][j] = start[j] + Σ_{t = 0 ..< inner} A(r, t) · B[t][j]      (t ascending)
///
/// Determinism: each output element is accumulated in one fixed order, `acc = acc + a·b` for
/// t = 0, 1, …, with a separate multiply and add (no FMA), starting from `start[j]` (or 0).
/// Blocking is over rows of C (4 at a time) and columns of C (tiles of vectors, then single
/// elements), never over t, so an element's value does not depend on the number of rows in the
/// call, on its position in a SIMD register, or on which thread computes it: a batch of one
/// image and a batch of a hundred give bit-identical rows.
///
/// Speed: the loops are in C (Sources/CDense), compiled for SSE2, AVX2 and AVX-512F and chosen
/// at load time from the CPU; the versions differ in tile width only, so they give the same
/// bits (`DenseKernelTests` checks every version this CPU runs). C is cut into column panels
/// that stay in cache while every row block uses them; a tile keeps 4 to 8 rows × 2 vectors of
/// accumulators in registers, broadcasts one A element per row and streams one row of B (`B`
/// laid out [inner][columns], the weights' [in][out]).
enum Dense {
  /// C = start + A·B, with A read through strides so that a transposed operand costs nothing.
  /// - Parameters:
  ///   - a: A(r, t) = a[r · aRowStride + t · aInnerStride].
  ///   - b: B[t][j] = b[t · bRowStride + j].
  ///   - start: the initial value of column j's accumulators (the bias), or nil for 0.
  ///   - c: C[r][j] = c[r · cRowStride + j]; overwritten.
  ///   - level: the kernel version (clamped to what the CPU supports), or nil for the one in use.
  @inline(__always)
  static func matrixProduct(
    rows: Int, columns: Int, inner: Int,
    a: UnsafePointer<Float>, aRowStride: Int, aInnerStride: Int,
    b: UnsafePointer<Float>, bRowStride: Int,
    start: UnsafePointer<Float>?,
    c: UnsafeMutablePointer<Float>, cRowStride: Int,
    level: Int? = nil
  ) {
    precondition(rows >= 0 && columns >= 0 && inner >= 0, "matrixProduct: negative dimension")
    if let level {
      bbans_dense_product_at_level(
        Int32(clamping: level), rows, columns, inner, a, aRowStride, aInnerStride, b, bRowStride, start, c, cRowStride)
    } else {
      bbans_dense_product(rows, columns, inner, a, aRowStride, aInnerStride, b, bRowStride, start, c, cRowStride)
    }
  }

  /// B = Aᵀ for a rows × columns matrix A (the weights' transpose, for the input gradient).
  static func transpose(_ a: UnsafePointer<Float>, rows: Int, columns: Int, into b: UnsafeMutablePointer<Float>) {
    for i in 0..<rows {
      for j in 0..<columns { b[j * rows + i] = a[i * columns + j] }
    }
  }

  /// ReLU in place: v = v > 0 ? v : 0.
  @inline(__always)
  static func relu(_ v: UnsafeMutablePointer<Float>, count: Int) {
    bbans_relu(v, count)
  }
}
