import PortableMath

/// Where each pixel's causal neighbours are (`ContextHead.neighbours`), and how their values
/// enter the per-pixel network.
///
/// The table is computed once per architecture: for pixel i (raster order over rows, columns,
/// then channels), the flat indices of its neighbours in the same channel, or −1 outside the
/// image. Every index is below i, so a decoder that has the pixels 0..<i can always build
/// pixel i's input: the coder relies on it, and a test checks it.
package struct ContextNeighbourhood: Sendable {
  package let pixelCount: Int
  /// The architecture's context head's neighbours (0 without one).
  package let neighbourCount: Int
  /// pixelCount × neighbourCount indices, −1 outside the image.
  package let indices: [Int32]
  /// The network's input for a pixel value: v/255 for 8-bit models, 0/1 for binary ones.
  package let valueTable: [Float]

  package init(_ architecture: Architecture) {
    let h = architecture.height, w = architecture.width, c = architecture.channels
    let neighbours = architecture.context?.neighbours ?? []
    let k = neighbours.count
    pixelCount = architecture.pixelCount
    neighbourCount = k
    var indices = [Int32](repeating: -1, count: pixelCount * k)
    for y in 0..<h {
      for x in 0..<w {
        for ch in 0..<c {
          let i = (y * w + x) * c + ch
          for (n, offset) in neighbours.enumerated() {
            let ny = y + offset.dy, nx = x + offset.dx
            guard ny >= 0, nx >= 0, nx < w else { continue }
            indices[i * k + n] = Int32((ny * w + nx) * c + ch)
          }
        }
      }
    }
    self.indices = indices
    valueTable = (0...255).map { v in architecture.likelihood.isBinary ? (v != 0 ? 1 : 0) : Float(v) / 255 }
  }

  /// Writes pixel i's network input, [features, neighbour values], for `rows` images: image
  /// r's row at input + r · inputStride. Teacher forcing (every pixel of a batch) and decoding
  /// (pixel i of every lane) both build their rows here, so the two see the same inputs.
  /// - Parameters:
  ///   - features: image r's decoder outputs (pixelCount × featureCount) at features + r · featureStride.
  ///   - pixels: image r's pixels at pixels + r · pixelStride; only those before i are read.
  @inline(__always)
  package func fillInputs(
    pixel i: Int, rows: Int, features: UnsafePointer<Float>, featureStride: Int, featureCount: Int,
    pixels: UnsafePointer<UInt8>, pixelStride: Int, into input: UnsafeMutablePointer<Float>, inputStride: Int
  ) {
    precondition(i >= 0 && i < pixelCount, "ContextNeighbourhood: pixel \(i) is outside the image")
    let k = neighbourCount
    // The tables are read through pointers once per call, not through the arrays once per row.
    indices.withUnsafeBufferPointer { indexTable in
      valueTable.withUnsafeBufferPointer { values in
        let neighbourIndices = indexTable.baseAddress! + i * k
        for r in 0..<rows {
          let row = input + r * inputStride
          let f = features + r * featureStride + i * featureCount
          for j in 0..<featureCount { row[j] = f[j] }
          let image = pixels + r * pixelStride
          for n in 0..<k {
            let index = Int(neighbourIndices[n])
            row[featureCount + n] = index < 0 ? 0 : values[Int(image[index])]
          }
        }
      }
    }
  }
}

extension VAE {
  /// The likelihood's raw parameters of every pixel of `count` images whose pixels are all
  /// known (encoding, evaluation, training): count × pixelCount × parametersPerPixel.
  ///
  /// Without a context network these are the decoder's outputs. With one, pixel i's
  /// parameters come from the context network on [features of i, values of i's neighbours],
  /// computed by the `ContextStepper` that decoding uses, pixel by pixel over blocks of
  /// `contextBlockRows` images: the hidden layer of a block stays in cache, and the dense
  /// kernel gives every row the same bits whatever the number of rows in a call, so encoding
  /// and decoding agree.
  /// - Parameters:
  ///   - decoderOutputs: `likelihoodParameters(latents:count:)` for the same images.
  ///   - pixels: count × pixelCount values.
  public func pixelParameters(decoderOutputs: [Float], pixels: UnsafeBufferPointer<UInt8>, count: Int) -> [Float] {
    guard let head = architecture.context, context != nil else { return decoderOutputs }
    let p = architecture.pixelCount, ppp = architecture.parametersPerPixel, f = head.features
    precondition(decoderOutputs.count == count * p * f && pixels.count >= count * p,
                 "VAE.pixelParameters: \(decoderOutputs.count) outputs and \(pixels.count) pixels for \(count) images")
    guard count > 0 else { return [] }
    if head.rows != nil {
      // Row by row over blocks of images, every pixel known: the values `RowContextStepper`
      // gives when decoding one pixel at a time.
      let block = min(count, Self.contextBlockRows)
      let stepper = RowContextStepper(model: self, rows: block)
      return [Float](unsafeUninitializedCapacity: count * p * ppp) { result, initialized in
        decoderOutputs.withUnsafeBufferPointer { features in
          for start in Swift.stride(from: 0, to: count, by: block) {
            let n = min(block, count - start)
            stepper.allPixels(
              rows: n, features: features.baseAddress! + start * p * f, featureStride: p * f,
              pixels: pixels.baseAddress! + start * p, pixelStride: p, into: result.baseAddress! + start * p * ppp)
          }
        }
        initialized = count * p * ppp
      }
    }
    let block = min(count, Self.contextBlockRows)
    let stepper = ContextStepper(model: self, rows: block)
    let stride = stepper.outputStride
    return [Float](unsafeUninitializedCapacity: count * p * ppp) { result, initialized in
      decoderOutputs.withUnsafeBufferPointer { features in
        for start in Swift.stride(from: 0, to: count, by: block) {
          let rows = min(block, count - start)
          for i in 0..<p {
            let values = stepper.parameters(
              pixel: i, rows: rows, features: features.baseAddress! + start * p * f, featureStride: p * f,
              pixels: pixels.baseAddress! + start * p, pixelStride: p)
            for r in 0..<rows {
              let target = result.baseAddress! + ((start + r) * p + i) * ppp
              for j in 0..<ppp { target[j] = values[r * stride + j] }
            }
          }
        }
      }
      initialized = count * p * ppp
    }
  }

  /// Images per block in `pixelParameters`.
  static let contextBlockRows = 64

  /// The context network's input rows for every pixel of `count` images (teacher forcing).
  package func contextInput(decoderOutputs: [Float], pixels: UnsafeBufferPointer<UInt8>, count: Int) -> [Float] {
    guard let head = architecture.context else { return [] }
    return Objective.contextInput(
      architecture: architecture, decoderOutputs: decoderOutputs, pixels: pixels, count: count, head: head)
  }
}

/// The context network run one pixel at a time over several images in lock-step: decoding
/// (pixel i of every lane, once pixels 0..<i of each are known), encoding (the same, last pixel
/// first) and `VAE.pixelParameters` all go through it, so they share its arithmetic. Buffers
/// are allocated once.
package final class ContextStepper {
  let network: MLP
  let neighbourhood: ContextNeighbourhood
  let featureCount: Int
  let inputCount: Int
  let hidden: Int
  let outputCount: Int
  /// The distance between two rows of `parameters`' result: `outputCount` rounded up to a
  /// multiple of 8 when it is over 8, so that the output layer runs as whole SIMD tiles (the
  /// padding columns have zero weights and are never read; the real columns' sums are the same).
  package let outputStride: Int
  let capacity: Int
  private let input: UnsafeMutablePointer<Float>
  private let hiddenValues: UnsafeMutablePointer<Float>
  private let output: UnsafeMutablePointer<Float>
  /// The output layer's weights and bias with `outputStride` columns.
  private let outputWeights: [Float]
  private let outputBias: [Float]

  /// - Parameter rows: the most images stepped at once.
  package init(model: VAE, rows: Int) {
    guard let head = model.architecture.context, let network = model.context else {
      preconditionFailure("ContextStepper: the model \(model.name) has no context network")
    }
    precondition(network.layers.count == 2 && head.rows == nil,
                 "ContextStepper: the context network must have one hidden layer and no row summary")
    self.network = network
    neighbourhood = ContextNeighbourhood(model.architecture)
    featureCount = head.features
    inputCount = head.inputCount
    hidden = head.hidden
    outputCount = model.architecture.parametersPerPixel
    let padded = network.layers[1].paddedToTiles()
    outputStride = padded.outCount
    outputWeights = padded.weights
    outputBias = padded.bias
    capacity = max(rows, 1)
    input = .allocate(capacity: capacity * inputCount)
    hiddenValues = .allocate(capacity: capacity * hidden)
    output = .allocate(capacity: capacity * outputStride)
  }

  deinit {
    input.deallocate()
    hiddenValues.deallocate()
    output.deallocate()
  }

  /// The raw parameters of pixel i for images 0..<rows: `outputCount` values for image r at
  /// r · `outputStride`.
  /// - Parameters:
  ///   - features: image r's decoder outputs at features + r · featureStride.
  ///   - pixels: image r's pixels at pixels + r · pixelStride (those before i are read).
  package func parameters(
    pixel i: Int, rows: Int, features: UnsafePointer<Float>, featureStride: Int,
    pixels: UnsafePointer<UInt8>, pixelStride: Int
  ) -> UnsafePointer<Float> {
    precondition(rows <= capacity, "ContextStepper: \(rows) rows exceed the capacity \(capacity)")
    neighbourhood.fillInputs(
      pixel: i, rows: rows, features: features, featureStride: featureStride, featureCount: featureCount,
      pixels: pixels, pixelStride: pixelStride, into: input, inputStride: inputCount)
    let first = network.layers[0]
    first.weights.withUnsafeBufferPointer { w in
      first.bias.withUnsafeBufferPointer { b in
        Dense.matrixProduct(rows: rows, columns: hidden, inner: inputCount, a: input, aRowStride: inputCount,
          aInnerStride: 1, b: w.baseAddress!, bRowStride: hidden, start: b.baseAddress!, c: hiddenValues, cRowStride: hidden)
      }
    }
    Dense.relu(hiddenValues, count: rows * hidden)
    outputWeights.withUnsafeBufferPointer { w in
      outputBias.withUnsafeBufferPointer { b in
        Dense.matrixProduct(rows: rows, columns: outputStride, inner: hidden, a: hiddenValues, aRowStride: hidden,
          aInnerStride: 1, b: w.baseAddress!, bRowStride: outputStride, start: b.baseAddress!, c: output, cRowStride: outputStride)
      }
    }
    return UnsafePointer(output)
  }
}

extension DenseLayer {
  /// The output width the steppers compute for `columns` outputs: rounded up to a multiple of 8
  /// when it is over 8, so that the layer runs as whole SIMD tiles.
  package static func tileWidth(_ columns: Int) -> Int { columns > 8 ? (columns + 7) / 8 * 8 : columns }

  /// This layer with zero columns appended up to `tileWidth(outCount)` (weights and bias): the
  /// real columns' sums are the same, and the padding columns are never read.
  package func paddedToTiles() -> DenseLayer {
    let stride = Self.tileWidth(outCount)
    var padded = [Float](repeating: 0, count: inCount * stride)
    for t in 0..<inCount {
      for j in 0..<outCount { padded[t * stride + j] = weights[t * outCount + j] }
    }
    return DenseLayer(inCount: inCount, outCount: stride, weights: padded,
                      bias: bias + [Float](repeating: 0, count: stride - outCount))
  }
}
