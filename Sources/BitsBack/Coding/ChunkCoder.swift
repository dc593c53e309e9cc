import ANS
import Codecs
import Model
import PortableMath

/// The BB-ANS chain of one chunk: B lanes of images coded in lock-step, so that the networks
/// run on B images at a time (DESIGN.md, "Speed: chains in lock-step").
///
/// Lane l holds a contiguous block of the chunk's images; step t codes image t of every lane
/// that has one. Each step is `Codecs.BitsBack` over a block of lanes (Townsend, Bird and Barber,
/// ICLR 2019), with the lane-batched codecs of ChainCodecs.swift:
///   encode: pop z with the posterior q(z|x), push x with the likelihood p(x|z) (pixels in
///           reverse raster order), push z with the prior (uniform over the buckets);
///   decode: the exact reverse, steps from last to first, lanes from last to first.
/// All lanes share one tail, so the chain's initial bits are paid once per chunk. The first
/// steps code their lanes one after another, bits-back on a block of one lane at a time (each
/// lane's posterior pops take the words that the lanes before it pushed); once the tail holds
/// enough words for every lane's posterior pops of a whole step, the remaining steps code the
/// block of all their lanes at once (posterior pops of every lane, then likelihood pushes, then
/// prior pushes), which keeps the networks batched. Images that cost few bits (binary ones) need
/// several one-after-another steps before that reserve exists; 8-bit ones, one or two. The number
/// of such steps, S, is pushed last (`stepCountCodec`, lane 0) and popped first by the decoder.
package struct ChunkCoder {
  /// The precision of the posterior's bucket frequencies.
  static let posteriorPrecisionBits = 24

  let model: VAE
  let buckets: MaxEntropyBuckets
  let pixels: PixelLikelihood
  package let pixelCount: Int
  let latentCount: Int
  let prior: LatentPrior
  /// The flow posterior's weights laid out for its conditionals, or nil for a diagonal posterior.
  let flowPlan: FlowPlan?
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
    prior = LatentPrior(bucket: Uniform(bits: architecture.bucketBits), latentCount: latentCount)
    flowPlan = architecture.posterior.isFlow ? FlowPlan(model) : nil
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

  /// The chain's codec: bits-back over the images of a block of lanes (lanes.count × pixelCount),
  /// with the posterior and the likelihood made by the networks on the block's images and latents.
  /// - Parameter stepper: the context head's per-pixel network, sized for the chunk's lanes.
  func chain(stepper: PixelStepper?) -> Codecs.BitsBack<LatentPrior, ImageLikelihood, ChainPosterior> {
    Codecs.BitsBack(
      prior: prior,
      likelihood: { latents in
        ImageLikelihood(model: model, pixels: pixels, pixelCount: pixelCount,
                        decoderOutputs: likelihoodParameters(latents), stepper: stepper)
      },
      posterior: { images in
        if model.architecture.posterior.isFlow {
          let outputs = images.withUnsafeBufferPointer { model.posteriorOutputs(pixels: $0, count: images.count / pixelCount) }
          return .flow(FlowPosterior(plan: flowPlan!, outputs: outputs, buckets: buckets, latentCount: latentCount,
                                     precisionBits: Self.posteriorPrecisionBits))
        }
        let (mean, logScale) = images.withUnsafeBufferPointer { model.posterior(pixels: $0, count: images.count / pixelCount) }
        return .diagonal(DiagonalPosterior(mean: mean, logScale: logScale, buckets: buckets, latentCount: latentCount,
                                           precisionBits: Self.posteriorPrecisionBits))
      })
  }

  /// The decoder network on the bucket centres of a block's latents (one row per lane).
  func likelihoodParameters(_ latents: [Int]) -> [Float] {
    let centres = latents.map { Float(buckets.centres[$0]) }
    return centres.withUnsafeBufferPointer { model.likelihoodParameters(latents: $0, count: latents.count / latentCount) }
  }

  // MARK: - Encode

  /// Codes `imageCount` images (pixels row-major, imageCount × pixelCount) into a message.
  /// - Returns: the message; its `floorWordsRead` measures the initial bits.
  package func encode(_ images: UnsafeBufferPointer<UInt8>, imageCount: Int, laneCount: Int) -> ANSMessage {
    precondition(images.count == imageCount * pixelCount, "ChunkCoder.encode: \(images.count) pixels for \(imageCount) images")
    let layout = Layout(imageCount: imageCount, laneCount: laneCount)
    var message = ANSMessage(laneCount: layout.laneCount)
    guard imageCount > 0 else { return message }
    let chain = chain(stepper: PixelStepper(model: model, lanes: layout.laneCount))
    var sequentialSteps = layout.stepCount
    for t in 0..<layout.stepCount {
      let active = layout.activeLanes(t)
      if sequentialSteps == layout.stepCount && message.tail.count >= reserveWords(lanes: active) {
        sequentialSteps = t
      }
      // One block of all the lanes, or (before the reserve) blocks of one lane, each lane's
      // posterior taking the bits of the lanes before it.
      let blockSize = t < sequentialSteps ? 1 : active
      for first in Swift.stride(from: 0, to: active, by: blockSize) {
        let block = first..<(first + blockSize)
        var x = [UInt8](repeating: 0, count: blockSize * pixelCount)
        for l in block {
          let source = images.baseAddress! + layout.image(lane: l, step: t) * pixelCount
          x.withUnsafeMutableBufferPointer { ($0.baseAddress! + (l - first) * pixelCount).update(from: source, count: pixelCount) }
        }
        chain.push(x, onto: &message, lanes: block)
      }
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
    let chain = chain(stepper: PixelStepper(model: model, lanes: layout.laneCount))
    for t in stride(from: layout.stepCount - 1, through: 0, by: -1) {
      let active = layout.activeLanes(t)
      // The encoder's blocks, last first.
      let blockSize = t < sequentialSteps ? 1 : active
      for first in Swift.stride(from: active - blockSize, through: 0, by: -blockSize) {
        let x = chain.pop(from: &message, lanes: first..<(first + blockSize))
        x.withUnsafeBufferPointer { (batch.baseAddress! + first * pixelCount).update(from: $0.baseAddress!, count: $0.count) }
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
