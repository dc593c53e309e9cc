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

  /// Every head with a context network, 0, 1, 2 and 300 images, several lane counts: the
  /// images come back and the message returns to empty.
  @Test(arguments: Fixtures.likelihoods, Self.heads)
  func decodeUndoesEncode(likelihood: Likelihood, head: ContextHead) {
    let model = Fixtures.model(likelihood, context: head)
    let coder = ChunkCoder(model: model.vae)
    for count in [0, 1, 2, 300] {
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
  @Test(arguments: Self.heads)
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
  @Test(arguments: [Likelihood.bernoulli, .logisticMixture(components: 3)])
  func rateMatchesTheDiscretizedELBO(likelihood: Likelihood) {
    let model = Fixtures.model(likelihood, context: Self.head, height: 12, width: 12, latents: 8, seed: 5)
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
  @Test(arguments: Self.heads)
  func weightsFileRoundTrip(head: ContextHead) throws {
    let model = Fixtures.model(.logisticMixture(components: 3), context: head).vae
    let loaded = try VAE(contentsOf: model.serialized())
    #expect(loaded.architecture == model.architecture)
    #expect(loaded.architecture.context?.neighbourCount == head.neighbourCount)
    #expect(loaded.identity == model.identity)
    #expect(loaded.architecture.headName == "context-logistic-mixture")
  }
}
