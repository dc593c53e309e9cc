import ANS
import BitsBack
import Model
import Testing
import TestSupport

@Suite struct ChunkCoderTests {
  /// Every likelihood head, 0, 1, 2 and 1000 images, several lane counts: the images come back
  /// and the message returns to empty.
  @Test(arguments: Fixtures.likelihoods)
  func decodeUndoesEncode(likelihood: Likelihood) {
    let model = Fixtures.model(likelihood)
    let coder = ChunkCoder(model: model.vae)
    for count in [0, 1, 2, 1000] {
      let images = Fixtures.images(count, binary: likelihood == .bernoulli)
      for lanes in [1, 3, 32] {
        var message = images.withUnsafeBufferPointer { coder.encode($0, imageCount: count, laneCount: lanes) }
        #expect(message.laneCount == max(1, min(lanes, count)))
        var decoded = [UInt8](repeating: 0, count: images.count)
        _ = decoded.withUnsafeMutableBufferPointer { coder.decode(&message, imageCount: count, into: $0) }
        #expect(decoded == images, "\(likelihood), \(count) images, \(lanes) lanes")
        #expect(message.isEmpty)
      }
    }
  }

  /// The step count S has one valid value, the encoder's: any other is refused, also with one
  /// lane, where both kinds of step decode the same images and S changes nothing else.
  @Test(arguments: [1, 3])
  func aStepCountOtherThanTheEncodersIsRefused(lanes: Int) {
    let model = Fixtures.model(.bernoulli)
    let coder = ChunkCoder(model: model.vae)
    let count = 40
    let images = Fixtures.images(count, binary: true)
    let encoded = images.withUnsafeBufferPointer { coder.encode($0, imageCount: count, laneCount: lanes) }
    var probe = encoded
    let steps = ChunkCoder.popStepCount(from: &probe)
    #expect(steps > 0 && steps < count / lanes, "S = \(steps): the test needs one-lane-at-a-time steps and others")
    for other in [0, steps - 1, steps + 1, count / lanes] where other != steps {
      var message = probe
      ChunkCoder.pushStepCount(other, onto: &message)
      var decoded = [UInt8](repeating: 0, count: images.count)
      let accepted = decoded.withUnsafeMutableBufferPointer { coder.decode(&message, imageCount: count, into: $0) }
      #expect(!accepted, "\(lanes) lanes: S = \(other) instead of \(steps) was accepted")
    }
    var message = encoded
    var decoded = [UInt8](repeating: 0, count: images.count)
    #expect(decoded.withUnsafeMutableBufferPointer { coder.decode(&message, imageCount: count, into: $0) })
    #expect(decoded == images && message.isEmpty)
  }

  /// The rate of a chunk is the model's discretized −ELBO on the same images within 0.5%,
  /// plus the initial bits that the chunk measures.
  @Test(arguments: Fixtures.likelihoods)
  func rateMatchesTheDiscretizedELBO(likelihood: Likelihood) {
    let model = Fixtures.model(likelihood, height: 12, width: 12, latents: 8, seed: 5)
    let count = 2000
    let images = Fixtures.images(count, height: 12, width: 12, binary: likelihood == .bernoulli, seed: 6)
    let coder = ChunkCoder(model: model.vae)
    let message = images.withUnsafeBufferPointer { coder.encode($0, imageCount: count, laneCount: 16) }
    let elbo = images.withUnsafeBufferPointer { model.vae.discretizedNegativeELBO(pixels: $0, count: count) }
    let pixels = Double(images.count)
    let elboBits = elbo.total * pixels
    let initialBits = Double(32 * message.floorWordsRead + 64 * message.laneCount)
    let bits = Double(message.bitCount)
    #expect(bits <= elboBits * 1.005 + initialBits, "\(bits) bits, −ELBO \(elboBits), initial \(initialBits)")
    // A random beta-binomial decoder gives some pixels probabilities far below 2^−24, which
    // the leaky quantization raises to 2^−24: there the coder pays less than the model says.
    if likelihood != .betaBinomial {
      #expect(bits >= elboBits * 0.995 - initialBits, "\(bits) bits, −ELBO \(elboBits), initial \(initialBits)")
    }
    // The initial bits are paid once per chunk, not once per lane: under two images' worth.
    #expect(initialBits < 2 * elboBits / Double(count) + Double(64 * message.laneCount))
  }

  /// Outputs do not depend on the lane count's effect on batching: the same images in one
  /// chunk with different lane counts decode alike, and a lane's result does not depend on
  /// what the other lanes hold (bit-exact network outputs whatever the batch).
  @Test func networkOutputsDoNotDependOnTheBatch() {
    let model = Fixtures.model(.logisticMixture(components: 2))
    let images = Fixtures.images(40, binary: false)
    let one = images.withUnsafeBufferPointer { model.vae.posterior(pixels: UnsafeBufferPointer(rebasing: $0[0..<64]), count: 1) }
    let all = images.withUnsafeBufferPointer { model.vae.posterior(pixels: $0, count: 40) }
    #expect(one.mean.map(\.bitPattern) == all.mean[0..<6].map(\.bitPattern))
    #expect(one.logScale.map(\.bitPattern) == all.logScale[0..<6].map(\.bitPattern))
  }
}
