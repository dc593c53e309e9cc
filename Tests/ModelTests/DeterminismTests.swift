// Determinism (DESIGN.md): an image's outputs do not depend on the batch it is computed in or on
// the number of threads, bit for bit; training with the same seed gives the same weights.

import Model
import Testing

/// Images whose pixels are a seeded mixture of smooth patterns and noise, 0...255.
func syntheticImages(count: Int, height: Int, width: Int, seed: UInt64) -> [UInt8] {
  var generator = SeededGenerator(seed: seed)
  var pixels: [UInt8] = []
  pixels.reserveCapacity(count * height * width)
  for _ in 0..<count {
    let kind = Int(generator.next() % 3)
    for y in 0..<height {
      for x in 0..<width {
        let base: Double
        switch kind {
        case 0: base = Double(x) / Double(max(width - 1, 1)) * 220          // horizontal ramp
        case 1: base = (y % 2 == 0) ? 230 : 20                              // stripes
        default: base = (x == y || x + y == width - 1) ? 240 : 10           // a cross
        }
        let noisy = base + generator.nextGaussian() * 12
        pixels.append(UInt8(min(max(noisy.rounded(), 0), 255)))
      }
    }
  }
  return pixels
}

struct DeterminismTests {
  /// Odd widths so that the kernel's 16-, 8- and 1-column paths all run.
  static let architecture = Architecture(
    height: 6, width: 5, encoderHidden: [37, 19], decoderHidden: [21], latentCount: 5, bucketBits: 10,
    likelihood: .logisticMixture(components: 3))
  static let imageCount = 40

  @Test(arguments: [1, 3, 7, 32])
  func posteriorAndLikelihoodDoNotDependOnTheBatch(_ batch: Int) {
    let model = VAE(randomWith: Self.architecture, seed: 31)
    let p = Self.architecture.pixelCount, l = Self.architecture.latentCount
    let pixels = syntheticImages(count: Self.imageCount, height: 6, width: 5, seed: 32)
    let whole = pixels.withUnsafeBufferPointer { model.posterior(pixels: $0, count: Self.imageCount) }
    let latents = whole.mean.enumerated().map { $0.element + 0.25 * Float($0.offset % 3) }
    let wholeParameters = latents.withUnsafeBufferPointer { model.likelihoodParameters(latents: $0, count: Self.imageCount) }

    var mean: [Float] = [], logScale: [Float] = [], parameters: [Float] = []
    for start in stride(from: 0, to: Self.imageCount, by: batch) {
      let count = min(batch, Self.imageCount - start)
      let part = pixels.withUnsafeBufferPointer {
        model.posterior(pixels: UnsafeBufferPointer(rebasing: $0[(start * p)..<((start + count) * p)]), count: count)
      }
      mean += part.mean
      logScale += part.logScale
      parameters += latents.withUnsafeBufferPointer {
        model.likelihoodParameters(latents: UnsafeBufferPointer(rebasing: $0[(start * l)..<((start + count) * l)]), count: count)
      }
    }
    #expect(mean.map(\.bitPattern) == whole.mean.map(\.bitPattern))
    #expect(logScale.map(\.bitPattern) == whole.logScale.map(\.bitPattern))
    #expect(parameters.map(\.bitPattern) == wholeParameters.map(\.bitPattern))
  }

  @Test func discretizedNegativeELBODoesNotDependOnThreads() {
    let architecture = Architecture(
      height: 6, width: 5, encoderHidden: [16], decoderHidden: [16], latentCount: 4, bucketBits: 8, likelihood: .betaBinomial)
    let model = VAE(randomWith: architecture, seed: 41)
    let count = 130   // three blocks of 50 images
    let pixels = syntheticImages(count: count, height: 6, width: 5, seed: 42)
    let figures = [1, 2, 3].map { threads in
      pixels.withUnsafeBufferPointer { model.discretizedNegativeELBO(pixels: $0, count: count, seed: 5, threads: threads) }
    }
    #expect(figures[0].reconstruction.bitPattern == figures[1].reconstruction.bitPattern)
    #expect(figures[0].kl.bitPattern == figures[1].kl.bitPattern)
    #expect(figures[0] == figures[2])
    #expect(figures[0].total > 0)
  }

  @Test func trainingWithTheSameSeedGivesTheSameWeights() {
    let architecture = Architecture(
      height: 4, width: 4, encoderHidden: [12], decoderHidden: [12], latentCount: 2, bucketBits: 8, likelihood: .betaBinomial)
    let count = 48
    let pixels = syntheticImages(count: count, height: 4, width: 4, seed: 51)
    func train(seed: UInt64) -> VAE {
      var options = TrainingOptions()
      options.batchSize = 16
      options.epochs = 2
      options.threads = 2
      options.seed = seed
      options.learningRate = 5e-3
      var trainer = Trainer(architecture: architecture, options: options)
      for epoch in 0..<options.epochs {
        _ = pixels.withUnsafeBufferPointer { trainer.trainEpoch(pixels: $0, count: count, epoch: epoch) }
      }
      return trainer.model(name: "t", summary: "", figures: NegativeELBO(reconstruction: 0, kl: 0))
    }
    let first = train(seed: 9), second = train(seed: 9)
    #expect(first.serialized() == second.serialized())
    #expect(first.identity == second.identity)
    #expect(train(seed: 10).identity != first.identity)
  }
}
