import CDense

/// The dense-layer kernel (`Dense.matrixProduct`) for the benchmarks and the kernel tests only.
///
/// Not part of the library's API: it is reachable through `@_spi(Benchmarks) import Model`, so
/// that Benchmarks/ (another package) can time the kernel in GFLOP/s without the kernel itself
/// becoming public.
@_spi(Benchmarks)
public enum DenseKernel {
  /// The kernel's instruction-set level in use: 0 portable (SSE2/NEON), 1 AVX2, 2 AVX-512F.
  public static var level: Int { Int(bbans_dense_level()) }
  /// The highest level this CPU supports.
  public static var supportedLevel: Int { Int(bbans_dense_supported_level()) }

  /// C = start + A·B for row-major A (rows × inner), B (inner × columns) and C (rows × columns):
  ///
  ///     C[r][j] = start[j] + Σ_{t = 0 ..< inner} A[r][t] · B[t][j]      (t ascending, no FMA)
  ///
  /// - Parameters:
  ///   - start: the bias, `columns` values, or nil for 0.
  ///   - level: the version to run (clamped to what the CPU supports), or nil for the one in use.
  public static func matrixProduct(
    rows: Int, columns: Int, inner: Int,
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, start: UnsafePointer<Float>?,
    c: UnsafeMutablePointer<Float>, level: Int? = nil
  ) {
    Dense.matrixProduct(
      rows: rows, columns: columns, inner: inner, a: a, aRowStride: inner, aInnerStride: 1,
      b: b, bRowStride: columns, start: start, c: c, cRowStride: columns, level: level)
  }
}

/// The integer product (`IntegerMatrix`, the int16 arithmetic) for the benchmarks and tests:
/// the weights rounded once, then C = start + A·W as often as asked.
@_spi(Benchmarks)
public struct IntegerKernel {
  let matrix: IntegerMatrix

  /// Rounds W (inner × columns, row-major).
  public init(weights: UnsafePointer<Float>, inner: Int, columns: Int) {
    matrix = IntegerMatrix(weights: weights, inner: inner, columns: columns, rowStride: columns)
  }

  /// C = start + A·W for row-major A (rows × inner) and C (rows × columns).
  /// - Parameter level: the version to run (clamped to what the CPU supports), or nil for the one in use.
  public func product(rows: Int, a: UnsafePointer<Float>, start: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>,
                      level: Int? = nil) {
    matrix.product(rows: rows, a: a, aRowStride: matrix.inner, start: start, c: c, cRowStride: matrix.columns, level: level)
  }
}

@_spi(Benchmarks)
extension VAE {
  /// A copy whose decoder output layer has its weights multiplied by `weightScale` and the
  /// given bias: for the end-to-end benchmarks, which need a model of the real architecture
  /// (and so the real cost) whose likelihood fits synthetic images well enough that bits-back
  /// coding, not the zstd fallback, codes them. Not for anything else.
  public func withDecoderOutputLayer(weightScale: Float, bias: [Float]) -> VAE {
    var decoder = self.decoder
    let last = decoder.layers.count - 1
    precondition(bias.count == decoder.layers[last].outCount,
                 "withDecoderOutputLayer: \(bias.count) biases for \(decoder.layers[last].outCount) outputs")
    decoder.layers[last].weights = decoder.layers[last].weights.map { $0 * weightScale }
    decoder.layers[last].bias = bias
    return VAE(architecture: architecture, name: name, summary: summary, figures: figures,
               encoder: encoder, decoder: decoder, context: context, rows: rows)
  }
}

/// The row summary's costs when decoding (`RowContextStepper`), apart: the work once per row
/// (the state, the global vector and every column's row part) and the work per pixel (the left
/// part, the rest of the per-pixel network). For the benchmarks only.
@_spi(Benchmarks)
public enum RowContextTiming {
  /// Steps every pixel of `lanes` images (lane r's pixels at r · pixelCount, its decoder
  /// features at r · pixelCount · F) through the decoding path, timing the two kinds of work.
  /// - Returns: seconds spent once per row, seconds spent per pixel, and a value of the output
  ///   (for the caller's black hole).
  public static func measure(model: VAE, lanes: Int, pixels: [UInt8], features: [Float]) -> (rows: Double, pixels: Double, sink: Float) {
    let stepper = RowContextStepper(model: model, rows: lanes)
    let p = model.architecture.pixelCount, w = model.architecture.width, f = model.architecture.context!.features
    let clock = ContinuousClock()
    var rowTime = Duration.zero, pixelTime = Duration.zero
    var sink: Float = 0
    pixels.withUnsafeBufferPointer { x in
      features.withUnsafeBufferPointer { o in
        for i in 0..<p {
          if i % w == 0 {
            let start = clock.now
            stepper.startRow(pixel: i, rows: lanes, features: o.baseAddress!, featureStride: p * f,
                             pixels: x.baseAddress!, pixelStride: p)
            rowTime += clock.now - start
          }
          let start = clock.now
          sink += stepper.pixelPart(pixel: i, rows: lanes, pixels: x.baseAddress!, pixelStride: p)[0]
          pixelTime += clock.now - start
        }
      }
    }
    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
    return (seconds(rowTime), seconds(pixelTime), sink)
  }
}
