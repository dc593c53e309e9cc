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
