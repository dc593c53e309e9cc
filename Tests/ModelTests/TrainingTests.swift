// Training lowers the loss: a few dozen Adam steps on a small generated data set.

import Model
import Testing

struct TrainingTests {
  @Test(arguments: [Likelihood.betaBinomial, .bernoulli])
  func aFewDozenStepsLowerTheLoss(_ likelihood: Likelihood) {
    let architecture = Architecture(
      height: 4, width: 4, encoderHidden: [16], decoderHidden: [16], latentCount: 2, bucketBits: 8, likelihood: likelihood)
    let count = 96
    var pixels = syntheticImages(count: count, height: 4, width: 4, seed: 61)
    // Binary data as 0/255: the trainer reads a pixel v as "1 with probability v/255", the
    // evaluation reads any non-zero pixel as 1.
    if likelihood.isBinary { pixels = pixels.map { $0 >= 128 ? 255 : 0 } }
    var options = TrainingOptions()
    options.batchSize = 16
    options.epochs = 8           // 6 batches an epoch: 48 Adam steps
    options.learningRate = 1e-2
    options.threads = 1
    options.seed = 62
    var trainer = Trainer(architecture: architecture, options: options)
    let before = pixels.withUnsafeBufferPointer {
      VAE(randomWith: architecture, seed: options.seed).discretizedNegativeELBO(pixels: $0, count: count, seed: 1)
    }
    var epochLosses: [Double] = []
    for epoch in 0..<options.epochs {
      epochLosses.append(pixels.withUnsafeBufferPointer { trainer.trainEpoch(pixels: $0, count: count, epoch: epoch).total })
    }
    let model = trainer.model(name: "trained", summary: "", figures: NegativeELBO(reconstruction: 0, kl: 0))
    let after = pixels.withUnsafeBufferPointer { model.discretizedNegativeELBO(pixels: $0, count: count, seed: 1) }
    #expect(epochLosses.allSatisfy { $0.isFinite })
    #expect(epochLosses.last! < 0.9 * epochLosses.first!, "continuous −ELBO per epoch (bits/dim): \(epochLosses)")
    #expect(after.total < 0.9 * before.total, "discretized −ELBO: \(before.total) bits/dim before, \(after.total) after")
  }
}

// Polyak averaging: the average follows a ← a + (1 − d_t)(w − a) after every step, with
// d_t = min(d, (1 + t)/(10 + t)), and keeping it changes nothing in the weights Adam moves.
struct WeightAverageTests {
  @Test func theAverageFollowsTheWeightsStepByStep() {
    let architecture = Architecture(
      height: 4, width: 4, encoderHidden: [8], decoderHidden: [8], latentCount: 2, bucketBits: 8, likelihood: .betaBinomial,
      context: ContextHead(features: 2, hidden: 4))
    let pixels = syntheticImages(count: 16, height: 4, width: 4, seed: 63)
    var options = TrainingOptions()
    options.batchSize = 16
    options.epochs = 3
    options.threads = 1
    options.seed = 64
    var plain = Trainer(architecture: architecture, options: options)
    options.averageDecay = 0.2
    var averaging = Trainer(architecture: architecture, options: options)
    let none = NegativeELBO(reconstruction: 0, kl: 0)
    func tensors(_ model: VAE) -> [[Float]] {
      ([model.encoder, model.decoder] + (model.context.map { [$0] } ?? [])).flatMap { $0.layers.flatMap { [$0.weights, $0.bias] } }
    }
    #expect(plain.averagedModel(name: "", summary: "", figures: none) == nil)
    var expected = tensors(VAE(randomWith: architecture, seed: options.seed))
    #expect(tensors(averaging.averagedModel(name: "", summary: "", figures: none)!) == expected)
    for epoch in 0..<3 {   // one step per epoch
      pixels.withUnsafeBufferPointer {
        _ = plain.trainEpoch(pixels: $0, count: 16, epoch: epoch)
        _ = averaging.trainEpoch(pixels: $0, count: 16, epoch: epoch)
      }
      let weights = tensors(averaging.model(name: "", summary: "", figures: none))
      #expect(weights == tensors(plain.model(name: "", summary: "", figures: none)), "averaging changed the trained weights")
      let t = Double(epoch + 1)
      let rate = Float(1 - min(0.2, (1 + t) / (10 + t)))   // the ramp (2/11) at step 1, the cap 0.2 after
      expected = zip(expected, weights).map { a, w in zip(a, w).map { $0 + rate * ($1 - $0) } }
      let average = tensors(averaging.averagedModel(name: "", summary: "", figures: none)!)
      #expect(average == expected, "step \(epoch + 1)")
      #expect(average != weights)
    }
  }
}
