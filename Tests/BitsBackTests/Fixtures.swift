import BitsBack
import Model
import TestSupport

/// Small random models and image-like data for the coder's tests (trained models are slow to
/// evaluate in bulk and may change; these are fixed by their seeds).
enum Fixtures {
  static func model(
    _ likelihood: Likelihood, context: ContextHead? = nil, height: Int = 8, width: Int = 8, latents: Int = 6, seed: UInt64 = 1,
    posterior: Posterior = .diagonal
  ) -> CodingModel {
    let architecture = Architecture(
      height: height, width: width, encoderHidden: [24], decoderHidden: [24], latentCount: latents,
      bucketBits: 10, likelihood: likelihood, context: context, posterior: posterior)
    let vae = VAE(randomWith: architecture, seed: seed, name: "test-\(architecture.headName)")
    return CodingModel(name: "test-\(architecture.headName)", vae: vae, fileSize: vae.serialized().count)
  }

  static let likelihoods: [Likelihood] = [.bernoulli, .betaBinomial, .logisticMixture(components: 3)]

  /// `count` images of height × width: blobs of ink on a dark background, 8-bit or binary.
  static func images(_ count: Int, height: Int = 8, width: Int = 8, binary: Bool, seed: UInt64 = 2) -> [UInt8] {
    var generator = TestSupport.SeededGenerator(seed: seed)
    var pixels = [UInt8](repeating: 0, count: count * height * width)
    for n in 0..<count {
      let cy = Double.random(in: 2...Double(height - 2), using: &generator)
      let cx = Double.random(in: 2...Double(width - 2), using: &generator)
      for y in 0..<height {
        for x in 0..<width {
          let d = (Double(y) - cy) * (Double(y) - cy) + (Double(x) - cx) * (Double(x) - cx)
          let ink = max(0, 255 - d * 40 + Double.random(in: -30...30, using: &generator))
          let value = UInt8(min(255, ink))
          pixels[(n * height + y) * width + x] = binary ? (value > 128 ? 1 : 0) : value
        }
      }
    }
    return pixels
  }

  /// An IDX file (MNIST's format) of the images.
  static func idx(_ pixels: [UInt8], count: Int, height: Int = 8, width: Int = 8) -> [UInt8] {
    func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
    return [0, 0, 8, 3] + be32(count) + be32(height) + be32(width) + pixels
  }
}
