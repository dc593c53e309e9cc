import ANS
import Codecs
import Model
import PortableMath

/// The BB-ANS chain of one chunk: B lanes of images coded in lock-step, so that the networks
/// run on B images at a time (DESIGN.md, "Speed: chains in lock-step").
///
/// Lane l holds a contiguous block of the chunk's images; step t codes image t of every lane
/// that has one. Per image (Townsend, Bird and Barber, ICLR 2019):
///   encode: pop z with the posterior q(z|x), push x with the likelihood p(x|z) (pixels in
///           reverse raster order), push z with the prior (uniform over the buckets);
///   decode: the exact reverse, steps from last to first, lanes from last to first.
/// All lanes share one tail, so the chain's initial bits are paid once per chunk. The first
/// steps code their lanes one after another (each lane's posterior pops take the words that the
/// lanes before it pushed); once the tail holds enough words for every lane's posterior pops of
/// a whole step, the remaining steps run in three phases over all lanes (posterior pops,
/// likelihood pushes, prior pushes), which keeps the networks batched. Images that cost few bits
/// (binary ones) need several one-after-another steps before that reserve exists; 8-bit ones,
/// one or two. The number of such steps, S, is pushed last (`stepCountCodec`, lane 0) and popped
/// first by the decoder.
package struct ChunkCoder {
  /// The precision of the posterior's bucket frequencies.
  static let posteriorPrecisionBits = 24

  let model: VAE
  let buckets: MaxEntropyBuckets
  let pixels: PixelLikelihood
  package let pixelCount: Int
  let latentCount: Int
  let prior: Uniform
  /// Called after each step with the images it coded, for a progress display that moves with
  /// the images rather than the chunks. Chunks are coded at once on several threads, so it must
  /// be thread-safe; it sees nothing of the message, which is the same with or without it.
  package var onImagesCoded: (@Sendable (_ images: Int) -> Void)?

  package init(model: VAE) {
    self.model = model
    let architecture = model.architecture
    buckets = MaxEntropyBuckets(bits: architecture.bucketBits)
    pixels = PixelLikelihood(architecture)
    pixelCount = architecture.pixelCount
    latentCount = architecture.latentCount
    prior = Uniform(bits: architecture.bucketBits)
  }

  /// How a chunk of `imageCount` images is laid over `laneCount` lanes.
  struct Layout {
    let laneCount: Int
    let perLane: Int
    let extra: Int

    init(imageCount: Int, laneCount requested: Int) {
      laneCount = max(1, min(requested, imageCount))
      perLane = imageCount / laneCount
      extra = imageCount % laneCount
    }

    /// The number of steps: the longest lane's image count.
    var stepCount: Int { perLane + (extra > 0 ? 1 : 0) }
    /// The lanes that have an image at step t: 0..<activeLanes(t) (longer lanes come first).
    func activeLanes(_ t: Int) -> Int { t < perLane ? laneCount : extra }
    /// The index in the chunk of lane l's image at step t.
    func image(lane l: Int, step t: Int) -> Int { l * perLane + min(l, extra) + t }
  }

  // MARK: - Encode

  /// Codes `imageCount` images (pixels row-major, imageCount × pixelCount) into a message.
  /// - Returns: the message; its `floorWordsRead` measures the initial bits.
  package func encode(_ images: UnsafeBufferPointer<UInt8>, imageCount: Int, laneCount: Int) -> ANSMessage {
    precondition(images.count == imageCount * pixelCount, "ChunkCoder.encode: \(images.count) pixels for \(imageCount) images")
    let layout = Layout(imageCount: imageCount, laneCount: laneCount)
    var message = ANSMessage(laneCount: layout.laneCount)
    guard imageCount > 0 else { return message }
    let batch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: layout.laneCount * pixelCount)
    defer { batch.deallocate() }
    var latents = [Int](repeating: 0, count: layout.laneCount * latentCount)
    let stepper = PixelStepper(model: model, lanes: layout.laneCount)
    var sequentialSteps = layout.stepCount
    for t in 0..<layout.stepCount {
      let active = layout.activeLanes(t)
      for l in 0..<active {
        let source = images.baseAddress! + layout.image(lane: l, step: t) * pixelCount
        (batch.baseAddress! + l * pixelCount).update(from: source, count: pixelCount)
      }
      if sequentialSteps == layout.stepCount && message.tail.count >= reserveWords(lanes: active) {
        sequentialSteps = t
      }
      if t < sequentialSteps {
        // One lane after another: each lane's posterior takes the bits of the lanes before it.
        for l in 0..<active {
          let image = UnsafeBufferPointer(rebasing: batch[(l * pixelCount)..<((l + 1) * pixelCount)])
          let posterior = model.posterior(pixels: image, count: 1)
          popPosterior(posterior, row: 0, into: &latents, lane: l, message: &message)
          let parameters = likelihoodParameters(latents, lanes: l..<(l + 1))
          pushImages(batch, lanes: l..<(l + 1), decoderOutputs: parameters, stepper: stepper, message: &message)
          pushPrior(latents, lane: l, message: &message)
        }
        onImagesCoded?(active)
        continue
      }
      let posterior = model.posterior(pixels: UnsafeBufferPointer(rebasing: batch[..<(active * pixelCount)]), count: active)
      for l in 0..<active { popPosterior(posterior, row: l, into: &latents, lane: l, message: &message) }
      let parameters = likelihoodParameters(latents, lanes: 0..<active)
      pushImages(batch, lanes: 0..<active, decoderOutputs: parameters, stepper: stepper, message: &message)
      for l in 0..<active { pushPrior(latents, lane: l, message: &message) }
      onImagesCoded?(active)
    }
    Self.pushStepCount(sequentialSteps, onto: &message)
    return message
  }

  /// The tail words that guarantee that the posterior pops of `lanes` lanes in one step never
  /// reach the floor: a pop at n bits of precision takes at most n bits, and a lane at most one
  /// word more than its bits.
  func reserveWords(lanes: Int) -> Int {
    lanes * ((latentCount * Self.posteriorPrecisionBits + 31) / 32 + 1)
  }

  /// S, the number of one-after-another steps, as two 16-bit halves on lane 0.
  static let stepCountCodec = Uniform(bits: 16)

  package static func pushStepCount(_ steps: Int, onto message: inout ANSMessage) {
    stepCountCodec.push(steps & 0xFFFF, onto: &message, lane: 0)
    stepCountCodec.push((steps >> 16) & 0xFFFF, onto: &message, lane: 0)
  }

  package static func popStepCount(from message: inout ANSMessage) -> Int {
    let high = stepCountCodec.pop(from: &message, lane: 0)
    return high << 16 | stepCountCodec.pop(from: &message, lane: 0)
  }

  // MARK: - Decode

  /// Decodes `imageCount` images from a message made by `encode`; for a message that `encode`
  /// made, the message ends empty (the caller checks it: most damage shows there).
  ///
  /// The step count S is checked against the tail as the encoder saw it: after step t is
  /// decoded the message is what the encoder had before step t, whose tail held the reserve at
  /// t = S and not before. So S has one valid value, and a damaged one is caught even where it
  /// would change nothing else (with one lane, both kinds of step compute the same).
  /// - Returns: false when the message is damaged in a way seen before the end (its S is not the
  ///   encoder's); the images are then not (all) decoded.
  @discardableResult
  package func decode(
    _ message: inout ANSMessage, imageCount: Int, into images: UnsafeMutableBufferPointer<UInt8>
  ) -> Bool {
    precondition(images.count == imageCount * pixelCount, "ChunkCoder.decode: \(images.count) pixels for \(imageCount) images")
    let layout = Layout(imageCount: imageCount, laneCount: message.laneCount)
    guard imageCount > 0 else { return true }
    let sequentialSteps = Self.popStepCount(from: &message)
    guard sequentialSteps <= layout.stepCount else { return false }
    let batch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: layout.laneCount * pixelCount)
    defer { batch.deallocate() }
    var latents = [Int](repeating: 0, count: layout.laneCount * latentCount)
    let stepper = PixelStepper(model: model, lanes: layout.laneCount)
    for t in stride(from: layout.stepCount - 1, through: 0, by: -1) {
      let active = layout.activeLanes(t)
      if t < sequentialSteps {
        for l in stride(from: active - 1, through: 0, by: -1) {
          popPrior(into: &latents, lane: l, message: &message)
          let parameters = likelihoodParameters(latents, lanes: l..<(l + 1))
          popImages(into: batch, lanes: l..<(l + 1), decoderOutputs: parameters, stepper: stepper, message: &message)
          let image = UnsafeBufferPointer(rebasing: batch[(l * pixelCount)..<((l + 1) * pixelCount)])
          pushPosterior(model.posterior(pixels: image, count: 1), row: 0, latents, lane: l, message: &message)
        }
      } else {
        for l in stride(from: active - 1, through: 0, by: -1) { popPrior(into: &latents, lane: l, message: &message) }
        let parameters = likelihoodParameters(latents, lanes: 0..<active)
        popImages(into: batch, lanes: 0..<active, decoderOutputs: parameters, stepper: stepper, message: &message)
        let posterior = model.posterior(pixels: UnsafeBufferPointer(rebasing: batch[..<(active * pixelCount)]), count: active)
        for l in stride(from: active - 1, through: 0, by: -1) {
          pushPosterior(posterior, row: l, latents, lane: l, message: &message)
        }
      }
      let reserveHeld = message.tail.count >= reserveWords(lanes: active)
      if t < sequentialSteps ? reserveHeld : (t == sequentialSteps && !reserveHeld) { return false }
      for l in 0..<active {
        let target = images.baseAddress! + layout.image(lane: l, step: t) * pixelCount
        target.update(from: batch.baseAddress! + l * pixelCount, count: pixelCount)
      }
      onImagesCoded?(active)
    }
    return true
  }

  // MARK: - The three codecs of one image

  /// q(z_j | x) for each latent dimension j of one row of the posterior's outputs.
  func posteriorCodec(_ posterior: (mean: [Float], logScale: [Float]), row: Int, dimension j: Int) -> BucketedGaussian {
    let index = row * latentCount + j
    return BucketedGaussian(
      mean: Double(posterior.mean[index]), scale: Portable.exp(Double(posterior.logScale[index])),
      buckets: buckets, precisionBits: Self.posteriorPrecisionBits)
  }

  func popPosterior(
    _ posterior: (mean: [Float], logScale: [Float]), row: Int, into latents: inout [Int], lane: Int,
    message: inout ANSMessage
  ) {
    for j in 0..<latentCount {
      latents[lane * latentCount + j] = posteriorCodec(posterior, row: row, dimension: j).pop(from: &message, lane: lane)
    }
  }

  func pushPosterior(
    _ posterior: (mean: [Float], logScale: [Float]), row: Int, _ latents: [Int], lane: Int,
    message: inout ANSMessage
  ) {
    for j in stride(from: latentCount - 1, through: 0, by: -1) {
      posteriorCodec(posterior, row: row, dimension: j).push(latents[lane * latentCount + j], onto: &message, lane: lane)
    }
  }

  func pushPrior(_ latents: [Int], lane: Int, message: inout ANSMessage) {
    for j in stride(from: latentCount - 1, through: 0, by: -1) {
      prior.push(latents[lane * latentCount + j], onto: &message, lane: lane)
    }
  }

  func popPrior(into latents: inout [Int], lane: Int, message: inout ANSMessage) {
    for j in 0..<latentCount { latents[lane * latentCount + j] = prior.pop(from: &message, lane: lane) }
  }

  /// The decoder network on the bucket centres of the given lanes' latents.
  func likelihoodParameters(_ latents: [Int], lanes: Range<Int>) -> [Float] {
    var centres = [Float](repeating: 0, count: lanes.count * latentCount)
    for (row, l) in lanes.enumerated() {
      for j in 0..<latentCount { centres[row * latentCount + j] = Float(buckets.centres[latents[l * latentCount + j]]) }
    }
    return centres.withUnsafeBufferPointer { model.likelihoodParameters(latents: $0, count: lanes.count) }
  }

  /// Pushes the images of `lanes` (rows 0..<lanes.count of `decoderOutputs`).
  ///
  /// Factorized likelihood: lane after lane, each image's pixels last to first. Context
  /// likelihood: pixel-major, pixel P−1 of every lane first, so that decoding can go pixel by
  /// pixel over all lanes in lock-step (each pixel's distribution needs its decoded neighbours).
  func pushImages(
    _ batch: UnsafeMutableBufferPointer<UInt8>, lanes: Range<Int>, decoderOutputs: [Float], stepper: PixelStepper?,
    message: inout ANSMessage
  ) {
    let ppp = pixels.parametersPerPixel, first = lanes.lowerBound
    let base = batch.baseAddress!
    guard let stepper, let features = model.architecture.context?.features else {
      decoderOutputs.withUnsafeBufferPointer { p in
        for l in lanes {
          pixels.push(base + l * pixelCount, count: pixelCount, parameters: p.baseAddress! + (l - first) * pixelCount * ppp,
                      onto: &message, lane: l)
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
                               pixels: base + first * pixelCount, pixelStride: pixelCount, into: out.baseAddress!)
        }
      }
      all.withUnsafeBufferPointer { p in
        for i in Swift.stride(from: pixelCount - 1, through: 0, by: -1) {
          for l in lanes {
            pixels.push(base[l * pixelCount + i], parameters: p.baseAddress! + ((l - first) * pixelCount + i) * ppp,
                        onto: &message, lane: l)
          }
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
          pixels: base + first * pixelCount, pixelStride: pixelCount)
        for l in lanes {
          pixels.push(base[l * pixelCount + i], parameters: p + (l - first) * stride, onto: &message, lane: l)
        }
      }
    }
  }

  /// Pops the images of `lanes`: the exact reverse of `pushImages`.
  func popImages(
    into batch: UnsafeMutableBufferPointer<UInt8>, lanes: Range<Int>, decoderOutputs: [Float], stepper: PixelStepper?,
    message: inout ANSMessage
  ) {
    let ppp = pixels.parametersPerPixel, first = lanes.lowerBound
    let base = batch.baseAddress!
    guard let stepper, let features = model.architecture.context?.features else {
      decoderOutputs.withUnsafeBufferPointer { p in
        for l in lanes.reversed() {
          pixels.pop(into: base + l * pixelCount, count: pixelCount,
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
          pixels: base + first * pixelCount, pixelStride: pixelCount)
        for l in lanes.reversed() {
          base[l * pixelCount + i] = pixels.pop(parameters: p + (l - first) * stride, from: &message, lane: l)
        }
      }
    }
  }
}

/// The per-pixel network of a context head, one pixel at a time over the lanes: the local
/// neighbourhood's (`ContextStepper`) or the row summary's (`RowContextStepper`).
enum PixelStepper {
  case local(ContextStepper)
  case rows(RowContextStepper)

  /// nil for a factorized likelihood.
  init?(model: VAE, lanes: Int) {
    guard let head = model.architecture.context else { return nil }
    self = head.rows == nil ? .local(ContextStepper(model: model, rows: lanes)) : .rows(RowContextStepper(model: model, rows: lanes))
  }

  var outputStride: Int {
    switch self {
    case .local(let s): return s.outputStride
    case .rows(let s): return s.outputStride
    }
  }

  @inline(__always)
  func parameters(
    pixel i: Int, rows: Int, features: UnsafePointer<Float>, featureStride: Int,
    pixels: UnsafePointer<UInt8>, pixelStride: Int
  ) -> UnsafePointer<Float> {
    switch self {
    case .local(let s):
      return s.parameters(pixel: i, rows: rows, features: features, featureStride: featureStride, pixels: pixels,
                          pixelStride: pixelStride)
    case .rows(let s):
      return s.parameters(pixel: i, rows: rows, features: features, featureStride: featureStride, pixels: pixels,
                          pixelStride: pixelStride)
    }
  }
}
