// Golden inference: fixed weights (a seeded random model), a fixed input, and the exact bit
// patterns of the outputs, generated once by running this code and pinned here. They must not
// change with the batch size, the thread count, the machine or the build: a change here means
// that files compressed before the change no longer decode.

import Model
import Testing

struct GoldenInferenceTests {
  static let architecture = Architecture(
    height: 4, width: 4, encoderHidden: [9], decoderHidden: [7], latentCount: 3, bucketBits: 8, likelihood: .betaBinomial)
  static let model = VAE(randomWith: architecture, seed: 2024)
  /// Two images: a ramp and a checkerboard-like pattern, with both ends of the range.
  static let pixels: [UInt8] = (0..<16).map { UInt8($0 * 17) } + (0..<16).map { ($0 + $0 / 4) % 2 == 0 ? 255 : 0 }
  static let latents: [Float] = [0.25, -1.5, 0.75]

  static let expectedMean: [UInt32] = [0x3B71_9FC0, 0x3CAA_C708, 0x3EB5_48AC, 0x3DB6_2D84, 0x3E22_B2D2, 0x3F5A_4B50]
  static let expectedLogScale: [UInt32] = [0x3F00_B210, 0xBEB6_F626, 0x3E4B_7E8B, 0x3F0C_38F2, 0x3E90_5560, 0x3E70_8504]
  /// 16 pixels × (a, b) of the beta-binomial head.
  static let expectedParameters: [UInt32] = [
    0x3EC5_20EE, 0x3F30_EAFA, 0x3EAA_C384, 0x3F98_8CDF, 0x3F9E_6742, 0xBDC0_E818, 0xBF69_946C, 0x3E2A_DCC4,
    0x3F4B_94DE, 0xBF39_1BFC, 0xBEB3_D0BA, 0xBF3C_7848, 0xBEFD_3D3C, 0xBF80_3BDB, 0xBEEF_56BF, 0xBF38_D975,
    0x3FA4_8DC3, 0x3F1F_D035, 0xBF33_463C, 0x3F55_B2A9, 0x3F70_5854, 0xBF4B_897A, 0x3F22_1350, 0xBFB8_59C4,
    0xBF1B_5250, 0x3E91_E164, 0xBF8C_E792, 0xBF86_2C19, 0xBF78_E0A4, 0x3FA0_4F72, 0x3FB2_E168, 0x3E83_A65D,
  ]
  /// The identity (XXH64 of the weights file) of `model`: pins the He-uniform initialisation
  /// from the seed and the file's layout.
  static let expectedIdentity: UInt64 = 0x22D4_2288_C24E_81E4

  @Test func posteriorAndLikelihoodParametersArePinned() {
    let (mean, logScale) = Self.pixels.withUnsafeBufferPointer { Self.model.posterior(pixels: $0, count: 2) }
    let parameters = Self.latents.withUnsafeBufferPointer { Self.model.likelihoodParameters(latents: $0, count: 1) }
    func literal(_ values: [Float]) -> String {
      values.map { "0x" + String($0.bitPattern, radix: 16, uppercase: true) }.joined(separator: ", ")
    }
    #expect(mean.map(\.bitPattern) == Self.expectedMean, "mean: [\(literal(mean))]")
    #expect(logScale.map(\.bitPattern) == Self.expectedLogScale, "logScale: [\(literal(logScale))]")
    #expect(parameters.map(\.bitPattern) == Self.expectedParameters, "parameters: [\(literal(parameters))]")
  }

  /// The pinned values are the right ones (to Float accuracy), not merely stable ones: the
  /// Double reference networks give them too.
  @Test func pinnedValuesAgreeWithTheDoubleReference() {
    let input = Self.pixels.map { Double($0) / 255 }
    let out = ReferenceMLP(Self.model.encoder).forward(input, rows: 2).output
    let l = Self.architecture.latentCount
    for r in 0..<2 {
      for j in 0..<l {
        let mean = Double(Float(bitPattern: Self.expectedMean[r * l + j]))
        let logScale = Double(Float(bitPattern: Self.expectedLogScale[r * l + j]))
        #expect(abs(mean - out[r * 2 * l + j]) <= 1e-6, "mean \(r), \(j)")
        #expect(abs(logScale - out[r * 2 * l + l + j]) <= 1e-6, "log scale \(r), \(j)")
      }
    }
    let parameters = ReferenceMLP(Self.model.decoder).forward(Self.latents.map(Double.init), rows: 1).output
    for (k, bits) in Self.expectedParameters.enumerated() {
      #expect(abs(Double(Float(bitPattern: bits)) - parameters[k]) <= 1e-6, "parameter \(k)")
    }
  }

  @Test func randomModelIdentityIsPinned() {
    #expect(Self.model.identity == Self.expectedIdentity, "identity 0x\(String(Self.model.identity, radix: 16, uppercase: true))")
  }
}

/// The causal-context head: the per-pixel network's output for every pixel of an image.
struct GoldenContextTests {
  static let architecture = Architecture(
    height: 3, width: 3, encoderHidden: [6], decoderHidden: [5], latentCount: 2, bucketBits: 8, likelihood: .betaBinomial,
    context: ContextHead(features: 2, hidden: 8))
  static let model = VAE(randomWith: architecture, seed: 77)
  static let pixels: [UInt8] = [0, 255, 17, 128, 64, 200, 3, 99, 250]
  static let latents: [Float] = [-0.5, 1.25]

  /// 9 pixels × (a, b); pixel 5's hidden units are all off, so its outputs are the (zero) biases.
  static let expectedParameters: [UInt32] = [
    0xBC37_A405, 0xBC3A_3F6E, 0x3C13_6238, 0xBEC9_4827, 0xBDAE_2D82, 0x3E25_AF76, 0x3ECC_D4C2, 0x3E8A_D5A8, 0x3EF9_D4DA,
    0x3DEF_9964, 0x0000_0000, 0x0000_0000, 0xBDA4_6872, 0xBE42_C3F2, 0x3F3A_09BC, 0x3E7E_875A, 0xBE57_913C, 0xBD8F_A1C9,
  ]

  static func parameters(latents: [Float], pixels: [UInt8], count: Int) -> [Float] {
    let features = latents.withUnsafeBufferPointer { model.likelihoodParameters(latents: $0, count: count) }
    return pixels.withUnsafeBufferPointer { model.pixelParameters(decoderOutputs: features, pixels: $0, count: count) }
  }

  @Test func contextParametersArePinned() {
    let parameters = Self.parameters(latents: Self.latents, pixels: Self.pixels, count: 1)
    let literal = parameters.map { "0x" + String($0.bitPattern, radix: 16, uppercase: true) }.joined(separator: ", ")
    #expect(parameters.map(\.bitPattern) == Self.expectedParameters, "parameters: [\(literal)]")
    // The pinned values are the right ones, to Float accuracy.
    let features = ReferenceMLP(Self.model.decoder).forward(Self.latents.map(Double.init), rows: 1).output
    let input = ObjectiveGradientTests.referenceContextInput(Self.architecture, features: features, targets: Self.pixels, rows: 1)
    let reference = ReferenceMLP(Self.model.context!).forward(input, rows: 9).output
    for (k, bits) in Self.expectedParameters.enumerated() {
      #expect(abs(Double(Float(bitPattern: bits)) - reference[k]) <= 1e-6, "parameter \(k)")
    }
  }

  /// An image's context parameters are the same alone and among others.
  @Test func contextParametersDoNotDependOnTheBatch() {
    var generator = SeededGenerator(seed: 78)
    let count = 7
    let latents = (0..<(count * 2)).map { _ in Float(generator.nextGaussian()) }
    let pixels = (0..<(count * 9)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    let all = Self.parameters(latents: latents, pixels: pixels, count: count)
    for r in 0..<count {
      let one = Self.parameters(latents: Array(latents[(2 * r)..<(2 * r + 2)]), pixels: Array(pixels[(9 * r)..<(9 * r + 9)]), count: 1)
      #expect(one.map(\.bitPattern) == all[(18 * r)..<(18 * r + 18)].map(\.bitPattern), "image \(r)")
    }
  }
}
