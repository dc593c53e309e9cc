import ANS
import BitsBack
import Model
import Testing
import TestSupport

/// The causal-context likelihood in the coder: pixel-major lock-step decoding, causality, rate.
@Suite struct ContextCodingTests {
  static let head = ContextHead(features: 2, hidden: 8)
  /// The default six neighbours, and every neighbour a head may have (reaching 4 rows up and
  /// 4 columns left).
  static let heads = [head, ContextHead(features: 2, hidden: 8, neighbourCount: ContextHead.neighbourOrder.count)]
  /// Heads with a summary of the whole causal past (`RowSummary`): with and without a global
  /// vector, moving averages and deeper layers, and with a radius that reaches past the edges.
  static let rowHeads = [
    ContextHead(features: 2, hidden: 8, neighbourCount: 12, rows: RowSummary(stateWidth: 3, globalWidth: 4)),
    ContextHead(features: 1, hidden: 6, neighbourCount: 24,
                rows: RowSummary(stateWidth: 2, globalWidth: 0, radius: 0, averages: 0, deeper: [6, 5])),
    ContextHead(features: 3, hidden: 5, neighbourCount: 6,
                rows: RowSummary(stateWidth: 4, globalWidth: 2, radius: 9 - 1, averages: 3, deeper: [5])),
  ]
  static let allHeads = heads + rowHeads

  /// Every head with a context network, 0, 1, 2 and 300 images (1,000 with a row summary),
  /// several lane counts: the images come back and the message returns to empty.
  @Test(arguments: Fixtures.likelihoods, Self.allHeads)
  func decodeUndoesEncode(likelihood: Likelihood, head: ContextHead) {
    let model = Fixtures.model(likelihood, context: head)
    let coder = ChunkCoder(model: model.vae)
    for count in head.rows == nil ? [0, 1, 2, 300] : [0, 1, 2, 1000] {
      let images = Fixtures.images(count, binary: likelihood == .bernoulli)
      for lanes in [1, 3, 32] {
        var message = images.withUnsafeBufferPointer { coder.encode($0, imageCount: count, laneCount: lanes) }
        var decoded = [UInt8](repeating: 0, count: images.count)
        _ = decoded.withUnsafeMutableBufferPointer { coder.decode(&message, imageCount: count, into: $0) }
        #expect(decoded == images, "\(likelihood), \(head.neighbourCount) neighbours, \(count) images, \(lanes) lanes")
        #expect(message.isEmpty)
      }
    }
  }

  /// Pixel i's parameters do not change when any pixel at or after i changes: the network
  /// never sees a pixel that the decoder has not decoded yet.
  @Test(arguments: Self.allHeads)
  func parametersNeverReadAPixelNotYetDecoded(head: ContextHead) {
    let model = Fixtures.model(.logisticMixture(components: 2), context: head).vae
    let p = model.architecture.pixelCount, ppp = model.architecture.parametersPerPixel
    let latents = [Float](repeating: 0.3, count: model.architecture.latentCount)
    let outputs = latents.withUnsafeBufferPointer { model.likelihoodParameters(latents: $0, count: 1) }
    let image = Fixtures.images(1, binary: false)
    let reference = image.withUnsafeBufferPointer { model.pixelParameters(decoderOutputs: outputs, pixels: $0, count: 1) }
    var generator = TestSupport.SeededGenerator(seed: 9)
    for i in 0..<p {
      var changed = image
      for j in i..<p { changed[j] = UInt8.random(in: 0...255, using: &generator) }
      let parameters = changed.withUnsafeBufferPointer { model.pixelParameters(decoderOutputs: outputs, pixels: $0, count: 1) }
      #expect(parameters[(i * ppp)..<((i + 1) * ppp)].map(\.bitPattern) == reference[(i * ppp)..<((i + 1) * ppp)].map(\.bitPattern),
              "pixel \(i)'s parameters changed with pixels \(i)...")
    }
    // And some pixel's parameters do depend on earlier pixels (the context is used at all).
    var changed = image
    changed[0] = changed[0] &+ 100
    let parameters = changed.withUnsafeBufferPointer { model.pixelParameters(decoderOutputs: outputs, pixels: $0, count: 1) }
    #expect(parameters[ppp..<(2 * ppp)].map(\.bitPattern) != reference[ppp..<(2 * ppp)].map(\.bitPattern))
    // With a row summary's global vector, the last pixel depends on the first: the whole causal
    // past is seen.
    if let rows = head.rows, rows.globalWidth > 0 {
      let last = (p - 1) * ppp
      #expect(parameters[last..<(last + ppp)].map(\.bitPattern) != reference[last..<(last + ppp)].map(\.bitPattern),
              "the last pixel does not see the first")
    }
  }

  /// With a row summary, the coder's path (the row part of a whole row in one product, then the
  /// left part pixel by pixel, over lanes in lock-step) gives the bits of the teacher-forced
  /// pass over every pixel, for one lane and for several.
  @Test(arguments: Self.rowHeads)
  func rowSummaryStepperMatchesTeacherForcing(head: ContextHead) {
    let model = Fixtures.model(.logisticMixture(components: 3), context: head).vae
    let p = model.architecture.pixelCount, ppp = model.architecture.parametersPerPixel, f = head.features
    let latentCount = model.architecture.latentCount
    var generator = TestSupport.SeededGenerator(seed: 14)
    for count in [1, 3, 70] {
      let images = Fixtures.images(count, binary: false, seed: UInt64(count) + 40)
      let latents = (0..<(count * latentCount)).map { _ in Float.random(in: -2...2, using: &generator) }
      let outputs = latents.withUnsafeBufferPointer { model.likelihoodParameters(latents: $0, count: count) }
      let whole = images.withUnsafeBufferPointer { model.pixelParameters(decoderOutputs: outputs, pixels: $0, count: count) }
      let stepper = RowContextStepper(model: model, rows: count)
      var stepped = [Float](repeating: 0, count: whole.count)
      images.withUnsafeBufferPointer { x in
        outputs.withUnsafeBufferPointer { o in
          for i in 0..<p {
            let values = stepper.parameters(pixel: i, rows: count, features: o.baseAddress!, featureStride: p * f,
                                            pixels: x.baseAddress!, pixelStride: p)
            for r in 0..<count {
              for j in 0..<ppp { stepped[(r * p + i) * ppp + j] = values[r * stepper.outputStride + j] }
            }
          }
        }
      }
      #expect(stepped.map(\.bitPattern) == whole.map(\.bitPattern), "\(count) images")
    }
  }

  /// What training sees (every pixel of a batch through the context network in one product)
  /// and what the coder uses (the stepper, pixel by pixel over blocks of images) are the same
  /// bits, for counts below, at and above a block.
  @Test(arguments: Self.heads)
  func teacherForcedParametersMatchTheStepper(head: ContextHead) throws {
    let model = Fixtures.model(.logisticMixture(components: 3), context: head).vae
    let network = try #require(model.context)
    let p = model.architecture.pixelCount, latentCount = model.architecture.latentCount
    var generator = TestSupport.SeededGenerator(seed: 4)
    for count in [1, 5, 64, 70] {
      let images = Fixtures.images(count, binary: false, seed: UInt64(count))
      let latents = (0..<(count * latentCount)).map { _ in Float.random(in: -2...2, using: &generator) }
      let outputs = latents.withUnsafeBufferPointer { model.likelihoodParameters(latents: $0, count: count) }
      let stepped = images.withUnsafeBufferPointer { model.pixelParameters(decoderOutputs: outputs, pixels: $0, count: count) }
      let input = images.withUnsafeBufferPointer { model.contextInput(decoderOutputs: outputs, pixels: $0, count: count) }
      let whole = input.withUnsafeBufferPointer { network.forward($0, rows: count * p) }
      #expect(stepped.map(\.bitPattern) == whole.map(\.bitPattern), "\(count) images, \(head.neighbourCount) neighbours")
    }
  }

  /// The rate of a chunk is the model's discretized −ELBO within 0.5%, plus the initial bits.
  @Test(arguments: [Likelihood.bernoulli, .logisticMixture(components: 3)], [Self.head, Self.rowHeads[0]])
  func rateMatchesTheDiscretizedELBO(likelihood: Likelihood, head: ContextHead) {
    let model = Fixtures.model(likelihood, context: head, height: 12, width: 12, latents: 8, seed: 5)
    let count = 1000
    let images = Fixtures.images(count, height: 12, width: 12, binary: likelihood == .bernoulli, seed: 6)
    let coder = ChunkCoder(model: model.vae)
    let message = images.withUnsafeBufferPointer { coder.encode($0, imageCount: count, laneCount: 16) }
    let elboBits = images.withUnsafeBufferPointer { model.vae.discretizedNegativeELBO(pixels: $0, count: count) }.total
      * Double(images.count)
    let initialBits = Double(32 * message.floorWordsRead + 64 * message.laneCount)
    let bits = Double(message.bitCount)
    #expect(bits <= elboBits * 1.005 + initialBits, "\(bits) bits, −ELBO \(elboBits), initial \(initialBits)")
    #expect(bits >= elboBits * 0.995 - initialBits, "\(bits) bits, −ELBO \(elboBits), initial \(initialBits)")
  }

  /// A context model survives its weights file, and the head's name is in it.
  @Test(arguments: Self.allHeads)
  func weightsFileRoundTrip(head: ContextHead) throws {
    let model = Fixtures.model(.logisticMixture(components: 3), context: head).vae
    let bytes = model.serialized()
    let loaded = try VAE(contentsOf: bytes)
    #expect(loaded.serialized() == bytes)
    // Version 2 only for a row summary: every other model is written as before.
    #expect(bytes[8] == (head.rows == nil ? 1 : 2))
    #expect(loaded.architecture == model.architecture)
    #expect(loaded.architecture.context?.neighbourCount == head.neighbourCount)
    #expect(loaded.identity == model.identity)
    #expect(loaded.architecture.headName == "context-logistic-mixture")
  }
}

/// Training's teacher-forced pass (`RowContextPass`, what `Objective` differentiates) gives the
/// coder's bits: the parameters training scores are the ones the archive pays.
@Suite struct RowContextTrainingPassTests {
  @Test(arguments: ContextCodingTests.rowHeads)
  func trainingPassGivesTheCodersBits(head: ContextHead) throws {
    let model = Fixtures.model(.logisticMixture(components: 3), context: head).vae
    let latentCount = model.architecture.latentCount
    var generator = TestSupport.SeededGenerator(seed: 24)
    for count in [1, 5] {
      let images = Fixtures.images(count, binary: false, seed: UInt64(count) + 60)
      let latents = (0..<(count * latentCount)).map { _ in Float.random(in: -2...2, using: &generator) }
      let outputs = latents.withUnsafeBufferPointer { model.likelihoodParameters(latents: $0, count: count) }
      let coder = images.withUnsafeBufferPointer { model.pixelParameters(decoderOutputs: outputs, pixels: $0, count: count) }
      let training = images.withUnsafeBufferPointer {
        RowContextPass(plan: RowContextPlan(model.architecture), context: model.context!, rows: model.rows!,
                       features: outputs, pixels: $0, count: count).output
      }
      #expect(training.map(\.bitPattern) == coder.map(\.bitPattern), "\(count) images")
    }
  }
}
