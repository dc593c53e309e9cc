// The map from raw network outputs to pixel codecs is total (docs/MODEL_FORMAT.md): NaN, ±∞
// and huge values in any parameter give a codec whose pops undo its pushes, never a trap.

import ANS
import BitsBack
import Codecs
import Model
import Testing
import TestSupport

@Suite struct PixelLikelihoodTests {
  /// Values that networks with huge weights give, and the edges of the heads' clamps.
  static let extremes: [Float] = [
    .nan, -.nan, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e30, -1e30,
    709.7, 709.8, 710, .leastNonzeroMagnitude, 0, -7, -10, 10, 88.8,
  ]

  static let heads: [Likelihood] = [.bernoulli, .betaBinomial] + [1, 2, 3, 4, 5, 8].map { .logisticMixture(components: $0) }

  /// Parameter vectors drawn from `extremes` and ordinary values, several pixels pushed with each
  /// and popped back: the pixels return and the message is empty again.
  @Test(arguments: heads)
  func anyRawParametersGiveAValidCodec(_ likelihood: Likelihood) {
    let architecture = Architecture(height: 1, width: 1, encoderHidden: [], decoderHidden: [], latentCount: 1,
                                    bucketBits: 4, likelihood: likelihood)
    let head = PixelLikelihood(architecture)
    let n = likelihood.parametersPerPixel
    var generator = TestSupport.SeededGenerator(seed: 14)
    for trial in 0..<400 {
      // Every parameter extreme in the first trials, one slot at a time; then random mixtures.
      let raw: [Float] = (0..<n).map { slot in
        if trial < Self.extremes.count * n {
          return trial % n == slot ? Self.extremes[trial / n] : 0.5
        }
        return Bool.random(using: &generator)
          ? Self.extremes.randomElement(using: &generator)!
          : Float.random(in: -20...20, using: &generator)
      }
      let pixels = (0..<8).map { _ in UInt8.random(in: likelihood.isBinary ? 0...1 : 0...255, using: &generator) }
      var message = ANSMessage()
      raw.withUnsafeBufferPointer { p in
        for pixel in pixels.reversed() { head.push(pixel, parameters: p.baseAddress!, onto: &message, lane: 0) }
        let back = pixels.map { _ in head.pop(parameters: p.baseAddress!, from: &message, lane: 0) }
        #expect(back == pixels, "\(likelihood) with raw parameters \(raw)")
      }
      #expect(message.isEmpty, "\(likelihood) with raw parameters \(raw)")
    }
  }

  /// The weights file's limit on components is the coder's.
  @Test func aFileHoldsNoMoreComponentsThanTheCoderTakes() {
    #expect(Likelihood.maxComponents == DiscretizedLogisticMixture.maxComponents)
  }

  /// `VAE.finite` changes no finite value, and maps the others as documented.
  @Test func finiteKeepsFiniteValuesAndMapsTheRest() {
    for x: Float in [0, -0.0, 1, -1e30, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude] {
      #expect(VAE.finite(x).bitPattern == x.bitPattern)
    }
    #expect(VAE.finite(.nan) == 0 && VAE.finite(-.nan) == 0)
    #expect(VAE.finite(.infinity) == .greatestFiniteMagnitude && VAE.finite(-.infinity) == -.greatestFiniteMagnitude)
  }
}
