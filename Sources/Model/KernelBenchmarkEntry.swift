/// The dense-layer kernel (`Dense.matrixProduct`) for the benchmarks and the kernel tests only.
///
/// Not part of the library's API: it is reachable through `@_spi(Benchmarks) import Model`, so
/// that Benchmarks/ (another package) can time the kernel in GFLOP/s without the kernel itself
/// becoming public.
@_spi(Benchmarks)
public enum DenseKernel {
  /// C = start + A·B for row-major A (rows × inner), B (inner × columns) and C (rows × columns):
  ///
  ///     C[r][j] = start[j] + Σ_{t = 0 ..< inner} A[r][t] · B[t][j]      (t ascending, no FMA)
  ///
  /// - Parameter start: the bias, `columns` values, or nil for 0.
  public static func matrixProduct(
    rows: Int, columns: Int, inner: Int,
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, start: UnsafePointer<Float>?,
    c: UnsafeMutablePointer<Float>
  ) {
    Dense.matrixProduct(
      rows: rows, columns: columns, inner: inner, a: a, aRowStride: inner, aInnerStride: 1,
      b: b, bRowStride: columns, start: start, c: c, cRowStride: columns)
  }
}
