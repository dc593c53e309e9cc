import ANS
import Codecs
import Model
import PortableMath

// The three lane-batched codecs of the BB-ANS chain (`ChunkCoder`): each pushes and pops the
// values of every lane of a step at once, so that the networks run on all of them together.
// `Codecs.BitsBack` puts them in bits-back order; a new kind of posterior (or likelihood) is one
// more codec here, with its own order over lanes and dimensions, and the chain does not change.
//
// Symbols are rows, one per lane of the block `lanes`: row r belongs to lane lanes.lowerBound + r.
// The lanes share the message's tail, so the order of the lanes is part of the format (golden
// files in testdata/golden pin it).

/// p(z): uniform over the 2^bucketBits buckets of each latent dimension.
///
/// Symbol: the latents' bucket indices, lanes.count × latentCount. Push: lanes first to last,
/// each lane's dimensions last to first; pop: the exact reverse.
struct LatentPrior: LaneBatchedCodec {
  let bucket: Uniform
  let latentCount: Int

  func push(_ latents: [Int], onto message: inout ANSMessage, lanes: Range<Int>) {
    precondition(latents.count == lanes.count * latentCount, "LatentPrior: \(latents.count) latents for \(lanes.count) lanes")
    for (row, lane) in lanes.enumerated() {
      for j in stride(from: latentCount - 1, through: 0, by: -1) {
        bucket.push(latents[row * latentCount + j], onto: &message, lane: lane)
      }
    }
  }

  func pop(from message: inout ANSMessage, lanes: Range<Int>) -> [Int] {
    var latents = [Int](repeating: 0, count: lanes.count * latentCount)
    for (row, lane) in lanes.enumerated().reversed() {
      for j in 0..<latentCount { latents[row * latentCount + j] = bucket.pop(from: &message, lane: lane) }
    }
    return latents
  }
}

/// q(z|x), a diagonal Gaussian: each latent dimension j a `BucketedGaussian` over the prior's
/// buckets, independent of the others.
///
/// Symbol: as `LatentPrior`'s. Pop (encoding): lanes first to last, each lane's dimensions first
/// to last; push (decoding): the exact reverse. A posterior whose dimension j depends on the
/// dimensions before it (a flow) pops in the same order, each conditional from the buckets
/// already popped, and pushes with all of z known.
struct DiagonalPosterior: LaneBatchedCodec {
  /// The encoder network's outputs, lanes.count × latentCount each.
  let mean: [Float]
  let logScale: [Float]
  let buckets: MaxEntropyBuckets
  let latentCount: Int
  let precisionBits: Int

  /// q(z_j | x) of row `row`.
  @inline(__always)
  func dimension(_ j: Int, row: Int) -> BucketedGaussian {
    let index = row * latentCount + j
    return BucketedGaussian(
      mean: Double(mean[index]), scale: Portable.exp(Double(logScale[index])), buckets: buckets,
      precisionBits: precisionBits)
  }

  func push(_ latents: [Int], onto message: inout ANSMessage, lanes: Range<Int>) {
    precondition(latents.count == lanes.count * latentCount && mean.count == latents.count,
                 "DiagonalPosterior: \(latents.count) latents for \(lanes.count) lanes")
    for (row, lane) in lanes.enumerated().reversed() {
      for j in stride(from: latentCount - 1, through: 0, by: -1) {
        dimension(j, row: row).push(latents[row * latentCount + j], onto: &message, lane: lane)
      }
    }
  }

  func pop(from message: inout ANSMessage, lanes: Range<Int>) -> [Int] {
    precondition(mean.count == lanes.count * latentCount, "DiagonalPosterior: made for \(mean.count / latentCount) lanes, asked for \(lanes.count)")
    var latents = [Int](repeating: 0, count: lanes.count * latentCount)
    for (row, lane) in lanes.enumerated() {
      for j in 0..<latentCount { latents[row * latentCount + j] = dimension(j, row: row).pop(from: &message, lane: lane) }
    }
    return latents
  }
}

/// q(z|x), a flow (`Posterior.householder`, `Posterior.iaf`): dimension i of each lane a
/// `BucketedGaussian` over the prior's buckets, the conditional q(z_i | z_<i, x) given the
/// centres of the buckets of dimensions 0..<i (`PosteriorConditionals`).
///
/// Symbol: as `LatentPrior`'s. Pop (encoding): dimension by dimension, each over the lanes
/// first to last, so that dimension i's conditionals of every lane come from one step of the
/// flow; push (decoding): with all of z known, every conditional first, then the exact reverse
/// of the pops.
struct FlowPosterior: LaneBatchedCodec {
  let plan: FlowPlan
  /// The encoder's outputs (`VAE.posteriorOutputs`), one row per lane.
  let outputs: [Float]
  let buckets: MaxEntropyBuckets
  let latentCount: Int
  let precisionBits: Int

  func push(_ latents: [Int], onto message: inout ANSMessage, lanes: Range<Int>) {
    precondition(latents.count == lanes.count * latentCount, "FlowPosterior: \(latents.count) latents for \(lanes.count) lanes")
    let rows = lanes.count, l = latentCount
    var conditionals = PosteriorConditionals(plan: plan, out: outputs, rows: rows)
    var means = [Double](repeating: 0, count: rows * l), scales = means
    var maps: [SylvesterMap] = []
    var centres = [Double](repeating: 0, count: rows)
    for j in 0..<l {
      conditionals.conditional(j)
      for r in 0..<rows {
        means[j * rows + r] = conditionals.mean[r]
        scales[j * rows + r] = conditionals.scale[r]
        centres[r] = buckets.centres[latents[r * l + j]]
      }
      maps += conditionals.maps
      conditionals.fix(j, values: centres)
    }
    for j in stride(from: l - 1, through: 0, by: -1) {
      for (r, lane) in lanes.enumerated().reversed() {
        if maps.isEmpty {
          BucketedGaussian(mean: means[j * rows + r], scale: scales[j * rows + r], buckets: buckets, precisionBits: precisionBits)
            .push(latents[r * l + j], onto: &message, lane: lane)
        } else {
          BucketedSylvester(map: maps[j * rows + r], buckets: buckets, precisionBits: precisionBits)
            .push(latents[r * l + j], onto: &message, lane: lane)
        }
      }
    }
  }

  func pop(from message: inout ANSMessage, lanes: Range<Int>) -> [Int] {
    let rows = lanes.count, l = latentCount
    var conditionals = PosteriorConditionals(plan: plan, out: outputs, rows: rows)
    var latents = [Int](repeating: 0, count: rows * l)
    var centres = [Double](repeating: 0, count: rows)
    for j in 0..<l {
      conditionals.conditional(j)
      for (r, lane) in lanes.enumerated() {
        let bucket = conditionals.maps.isEmpty
          ? BucketedGaussian(mean: conditionals.mean[r], scale: conditionals.scale[r], buckets: buckets,
                             precisionBits: precisionBits).pop(from: &message, lane: lane)
          : BucketedSylvester(map: conditionals.maps[r], buckets: buckets, precisionBits: precisionBits)
            .pop(from: &message, lane: lane)
        latents[r * l + j] = bucket
        centres[r] = buckets.centres[bucket]
      }
      conditionals.fix(j, values: centres)
    }
    return latents
  }
}

/// A Sylvester conditional (`SylvesterMap`) over the prior's buckets: bucket i's mass is
/// Φ((G⁻¹(e_{i+1}) − μ)/σ) − Φ((G⁻¹(e_i) − μ)/σ), quantized as `BucketedGaussian` quantizes,
/// with its rotation at the bucket that holds G(μ), the map of the base variable's median.
struct BucketedSylvester: IntervalCodec {
  let precisionBits: Int
  let buckets: MaxEntropyBuckets
  let map: SylvesterMap
  let rotation: UInt32
  /// The bucket whose lower edge gives the rotation: its cumulative is kept, since the symbol
  /// coded is often that bucket or the one below it (each cumulative costs an inversion of G).
  let rotationBucket: Int

  init(map: SylvesterMap, buckets: MaxEntropyBuckets, precisionBits: Int) {
    self.map = map
    self.buckets = buckets
    self.precisionBits = precisionBits
    rotationBucket = buckets.bucket(containing: map.forward(map.mean))
    rotation = Self.cumulative(rotationBucket, map: map, buckets: buckets, precisionBits: precisionBits)
  }

  static func cumulative(_ i: Int, map: SylvesterMap, buckets: MaxEntropyBuckets, precisionBits: Int) -> UInt32 {
    if i == 0 { return 0 }
    if i == buckets.count { return UInt32(1) << precisionBits }
    let below = Portable.normalCDF((map.inverse(buckets.edges[i]) - map.mean) / map.scale)
    return quantizedCumulative(below, index: i, symbolCount: buckets.count, precisionBits: precisionBits)
  }

  func unrotatedCumulative(_ i: Int) -> UInt32 {
    i == rotationBucket ? rotation : Self.cumulative(i, map: map, buckets: buckets, precisionBits: precisionBits)
  }

  func interval(of symbol: Int) -> (start: UInt32, frequency: UInt32) {
    let lower = unrotatedCumulative(symbol), upper = unrotatedCumulative(symbol + 1)
    let mask = (UInt32(1) << precisionBits) &- 1
    return ((lower &- rotation) & mask, upper &- lower)
  }

  /// The search starts at a guess, the bucket of G(μ + σ Φ⁻¹(slot/M)), and widens from it by
  /// doubling steps until the slot is bracketed, then bisects: usually two or three CDF
  /// evaluations instead of the dozen of a search over every bucket. The bucket found is the
  /// one whose interval holds the slot whatever the guess.
  func symbol(at slot: UInt32) -> (symbol: Int, start: UInt32, frequency: UInt32) {
    let mask = (UInt32(1) << precisionBits) &- 1
    let unrotated = (slot &+ rotation) & mask
    let count = buckets.count
    let u = (Double(unrotated) + 0.5) / Double(UInt32(1) << precisionBits)
    let guess = buckets.bucket(containing: map.forward(map.mean + map.scale * Portable.normalQuantile(u)))
    // low ≤ symbol < high with C(low) ≤ slot < C(high).
    var low = guess, lowValue = unrotatedCumulative(guess)
    var high = guess + 1, highValue = unrotatedCumulative(guess + 1)
    var width = 1
    while lowValue > unrotated {
      high = low; highValue = lowValue
      low = Swift.max(0, low - width); lowValue = unrotatedCumulative(low)
      width *= 2
    }
    width = 1
    while highValue <= unrotated {
      low = high; lowValue = highValue
      high = Swift.min(count, high + width); highValue = unrotatedCumulative(high)
      width *= 2
    }
    let found = searchQuantizedCDF(slot: unrotated, between: low, lowValue, and: high, highValue) { unrotatedCumulative($0) }
    return (found.symbol, (found.lower &- rotation) & mask, found.upper &- found.lower)
  }
}

/// q(z|x) of the chain: the model's kind of posterior.
enum ChainPosterior: LaneBatchedCodec {
  case diagonal(DiagonalPosterior)
  case flow(FlowPosterior)

  func push(_ latents: [Int], onto message: inout ANSMessage, lanes: Range<Int>) {
    switch self {
    case .diagonal(let q): q.push(latents, onto: &message, lanes: lanes)
    case .flow(let q): q.push(latents, onto: &message, lanes: lanes)
    }
  }

  func pop(from message: inout ANSMessage, lanes: Range<Int>) -> [Int] {
    switch self {
    case .diagonal(let q): return q.pop(from: &message, lanes: lanes)
    case .flow(let q): return q.pop(from: &message, lanes: lanes)
    }
  }
}

/// p(x|z): the images' pixels, given the decoder network's outputs for the lanes' latents.
///
/// Symbol: the images, lanes.count × pixelCount. Factorized likelihood: lane after lane (first to
/// last), each image's pixels last to first. Context likelihood: pixel-major, pixel P−1 of every
/// lane first, so that decoding can go pixel by pixel over all lanes in lock-step (each pixel's
/// distribution needs its decoded neighbours). Pop is the exact reverse.
struct ImageLikelihood: LaneBatchedCodec {
  let model: VAE
  let pixels: PixelLikelihood
  let pixelCount: Int
  /// The decoder network's outputs, one row per lane.
  let decoderOutputs: [Float]
  /// The per-pixel network of a context head; nil for a factorized likelihood.
  let stepper: PixelStepper?

  func push(_ images: [UInt8], onto message: inout ANSMessage, lanes: Range<Int>) {
    precondition(images.count == lanes.count * pixelCount, "ImageLikelihood: \(images.count) pixels for \(lanes.count) lanes")
    let ppp = pixels.parametersPerPixel, first = lanes.lowerBound
    images.withUnsafeBufferPointer { imageBuffer in
      let base = imageBuffer.baseAddress!
      guard let stepper, let features = model.architecture.context?.features else {
        decoderOutputs.withUnsafeBufferPointer { p in
          for l in lanes {
            pixels.push(base + (l - first) * pixelCount, count: pixelCount,
                        parameters: p.baseAddress! + (l - first) * pixelCount * ppp, onto: &message, lane: l)
          }
        }
        return
      }
      if case .rows(let rowStepper) = stepper {
        // Every pixel is known: every pixel's parameters row by row, all columns at once, which
        // gives the values `RowContextStepper` gives when decoding one pixel at a time.
        var all = [Float](repeating: 0, count: lanes.count * pixelCount * ppp)
        decoderOutputs.withUnsafeBufferPointer { f in
          all.withUnsafeMutableBufferPointer { out in
            rowStepper.allPixels(rows: lanes.count, features: f.baseAddress!, featureStride: pixelCount * features,
                                 pixels: base, pixelStride: pixelCount, into: out.baseAddress!)
          }
        }
        all.withUnsafeBufferPointer { p in
          for i in Swift.stride(from: pixelCount - 1, through: 0, by: -1) {
            pixels.pushLanes(lanes, pixels: base + i, pixelStride: pixelCount, parameters: p.baseAddress! + i * ppp,
                             stride: pixelCount * ppp, onto: &message)
          }
        }
        return
      }
      // Every pixel is known, so pixel i's parameters come from the same stepper as in decoding,
      // pixel by pixel from the last.
      let stride = stepper.outputStride
      decoderOutputs.withUnsafeBufferPointer { f in
        for i in Swift.stride(from: pixelCount - 1, through: 0, by: -1) {
          let p = stepper.parameters(
            pixel: i, rows: lanes.count, features: f.baseAddress!, featureStride: pixelCount * features,
            pixels: base, pixelStride: pixelCount)
          pixels.pushLanes(lanes, pixels: base + i, pixelStride: pixelCount, parameters: p, stride: stride, onto: &message)
        }
      }
    }
  }

  func pop(from message: inout ANSMessage, lanes: Range<Int>) -> [UInt8] {
    let ppp = pixels.parametersPerPixel, first = lanes.lowerBound
    var images = [UInt8](repeating: 0, count: lanes.count * pixelCount)
    images.withUnsafeMutableBufferPointer { imageBuffer in
      let base = imageBuffer.baseAddress!
      guard let stepper, let features = model.architecture.context?.features else {
        decoderOutputs.withUnsafeBufferPointer { p in
          for l in lanes.reversed() {
            pixels.pop(into: base + (l - first) * pixelCount, count: pixelCount,
                       parameters: p.baseAddress! + (l - first) * pixelCount * ppp, from: &message, lane: l)
          }
        }
        return
      }
      let stride = stepper.outputStride
      decoderOutputs.withUnsafeBufferPointer { f in
        for i in 0..<pixelCount {
          // Pixel i of every lane, from the features and the pixels 0..<i already decoded.
          let p = stepper.parameters(
            pixel: i, rows: lanes.count, features: f.baseAddress!, featureStride: pixelCount * features,
            pixels: UnsafePointer(base), pixelStride: pixelCount)
          pixels.popLanes(lanes, parameters: p, stride: stride, from: &message, into: base + i, pixelStride: pixelCount)
        }
      }
    }
    return images
  }
}
