import PortableMath
import Hashing
// Model: the VAE of bits-back coding (Townsend, Bird and Barber, ICLR 2019), with deterministic
// inference. The encoder gives the posterior q(z|x), a diagonal Gaussian; the decoder gives the
// likelihood p(x|z) through one of the heads of `Likelihood`; the prior is N(0, I).
//
// Determinism: the dense kernel (Dense.swift) accumulates every output in one fixed order and the
// heads' formulas use PortableMath, so an image's outputs are bit-identical whatever the batch
// size, SIMD position or thread, on every machine.

/// −ELBO in bits per dimension, split into its reconstruction and KL parts.
public struct NegativeELBO: Equatable, Sendable {
  public var total: Double { reconstruction + kl }
  /// −log₂ p(x | z) per pixel.
  public var reconstruction: Double
  /// KL(q(z|x) ‖ p(z)) per pixel (for the discretized figure: against the uniform bucket prior).
  public var kl: Double

  public init(reconstruction: Double, kl: Double) {
    self.reconstruction = reconstruction
    self.kl = kl
  }
}

/// A trained VAE: immutable, safe to use from several threads at once.
public struct VAE: Sendable {
  public let architecture: Architecture
  /// A short name ("mnist") and a one-line description, stored in the weights file.
  public let name: String
  public let summary: String
  /// The validation discretized −ELBO recorded by training (zero parts if none was recorded).
  public let figures: NegativeELBO
  package let encoder: MLP
  package let decoder: MLP
  /// The per-pixel context network (`Architecture.context`), or nil.
  package let context: MLP?
  /// The row summary's layers (`RowSummary`), or nil.
  package let rows: RowNetworks?
  /// The IAF posterior's MADEs, one per step (`Posterior.iaf`); empty for other posteriors.
  package let flows: [MLP]
  /// XXH64 of the serialized weights file: the model's identity in compressed files.
  public let identity: UInt64

  /// The posterior's log standard deviations are clamped to this range: below e^−8 every
  /// bucket of 2^16 but one is empty anyway, and above e^2 the posterior is wider than the prior.
  public static let logScaleRange: ClosedRange<Float> = -8...2

  /// - Parameter identity: the hash of the weights file these tensors were read from, which is
  ///   the file this model serializes to (the format is canonical); nil to compute it.
  package init(architecture: Architecture, name: String, summary: String, figures: NegativeELBO,
               encoder: MLP, decoder: MLP, context: MLP? = nil, rows: RowNetworks? = nil, flows: [MLP] = [],
               identity: UInt64? = nil) {
    precondition(architecture.problem == nil, "VAE: \(architecture.problem ?? "")")
    precondition(encoder.layers.map(\.inCount) + [encoder.outCount] == architecture.encoderSizes, "VAE: encoder does not match the architecture")
    precondition(decoder.layers.map(\.inCount) + [decoder.outCount] == architecture.decoderSizes, "VAE: decoder does not match the architecture")
    precondition((context.map { $0.layers.map(\.inCount) + [$0.outCount] } ?? []) == architecture.contextSizes,
                 "VAE: context network does not match the architecture")
    precondition((rows.map { [$0.state.inCount, $0.state.outCount] } ?? []) == architecture.rowStateSizes
                   && (rows.map { [$0.global.inCount, $0.global.outCount] } ?? []) == architecture.rowGlobalSizes,
                 "VAE: row summary does not match the architecture")
    precondition(flows.count == architecture.posterior.flowSteps
                   && flows.allSatisfy { $0.layers.map(\.inCount) + [$0.outCount] == architecture.flowSizes },
                 "VAE: the posterior's flow does not match the architecture")
    self.architecture = architecture
    self.name = name
    self.summary = summary
    self.figures = figures
    // The integer form is derived from the Float weights, never stored: the file is the same
    // but for the arithmetic's name.
    let integer = architecture.arithmetic == .int16
    self.encoder = integer ? encoder.integerForm() : encoder.floatForm()
    self.decoder = integer ? decoder.integerForm() : decoder.floatForm()
    self.context = context
    self.rows = rows
    self.flows = flows
    self.identity = identity ?? XXH64.hash(VAE.serialize(
      architecture: architecture, name: name, summary: summary, figures: figures, encoder: encoder, decoder: decoder,
      context: context, rows: rows, flows: flows))
  }

  /// An untrained model with weights drawn from `seed` (He-uniform, zero biases): for tests and
  /// as the starting point of training.
  public init(randomWith architecture: Architecture, seed: UInt64, name: String = "untrained") {
    precondition(architecture.problem == nil, "VAE(randomWith:): \(architecture.problem ?? "")")
    var generator = SeededGenerator(seed: seed)
    let encoder = MLP(sizes: architecture.encoderSizes, generator: &generator)
    let decoder = MLP(sizes: architecture.decoderSizes, generator: &generator)
    let context = architecture.context == nil ? nil : MLP(sizes: architecture.contextSizes, generator: &generator)
    var rows: RowNetworks?
    if architecture.context?.rows != nil {
      // He-uniform for ReLU layers (the MLP initialiser halves the last layer's range).
      let state = MLP(sizes: architecture.rowStateSizes + [1], generator: &generator).layers[0]
      let global = MLP(sizes: architecture.rowGlobalSizes + [1], generator: &generator).layers[0]
      rows = RowNetworks(state: state, global: global)
    }
    let flows = (0..<architecture.posterior.flowSteps).map { _ in
      architecture.initialFlow(generator: &generator)
    }
    self.init(architecture: architecture, name: name, summary: "", figures: NegativeELBO(reconstruction: 0, kl: 0),
              encoder: encoder, decoder: decoder, context: context, rows: rows, flows: flows)
  }

  /// A copy with other metadata (name, summary, recorded figures).
  package func with(name: String? = nil, summary: String? = nil, figures: NegativeELBO? = nil) -> VAE {
    VAE(architecture: architecture, name: name ?? self.name, summary: summary ?? self.summary,
        figures: figures ?? self.figures, encoder: encoder, decoder: decoder, context: context, rows: rows, flows: flows)
  }

  /// What `bbans convert` writes: the same weights with another arithmetic, the summary saying
  /// so, and the figures measured with it (zero parts for none).
  public func converted(to arithmetic: Arithmetic, figures: NegativeELBO) -> VAE {
    convertedFile(to: arithmetic, figures: figures).model
  }

  /// `converted(to:figures:)`, and the weights file it serializes to: the model is built once,
  /// its identity hashed from that file.
  package func convertedFile(to arithmetic: Arithmetic, figures: NegativeELBO) -> (model: VAE, file: [UInt8]) {
    var a = architecture
    a.arithmetic = arithmetic
    let summary = summary + "; \(arithmetic.name) arithmetic (bbans convert)"
    let file = VAE.serialize(architecture: a, name: name, summary: summary, figures: figures, encoder: encoder,
                             decoder: decoder, context: context, rows: rows, flows: flows)
    let model = VAE(architecture: a, name: name, summary: summary, figures: figures, encoder: encoder, decoder: decoder,
                    context: context, rows: rows, flows: flows, identity: XXH64.hash(file))
    return (model, file)
  }

  /// The same weights computed with another arithmetic: another model, with its own identity.
  public func with(arithmetic: Arithmetic) -> VAE {
    var a = architecture
    a.arithmetic = arithmetic
    return VAE(architecture: a, name: name, summary: summary, figures: figures, encoder: encoder, decoder: decoder,
               context: context, rows: rows, flows: flows)
  }
}

extension VAE {
  /// The encoder's input for `count` images: pixel/255 for 8-bit models, the 0/1 value (any
  /// non-zero pixel counts as 1) for Bernoulli models.
  package func encoderInput(pixels: UnsafeBufferPointer<UInt8>, count: Int) -> [Float] {
    let n = count * architecture.pixelCount
    precondition(pixels.count >= n, "VAE: \(pixels.count) pixels given for \(count) images of \(architecture.pixelCount)")
    if architecture.likelihood.isBinary {
      return (0..<n).map { pixels[$0] != 0 ? 1 : 0 }
    }
    return (0..<n).map { Float(pixels[$0]) / 255 }
  }

  /// Posterior q(z|x) for `count` images (pixels row-major, count × pixelCount, values 0...255,
  /// or 0/1 for Bernoulli models): means and log standard deviations, each count × latentCount.
  /// log σ is clamped to `VAE.logScaleRange`.
  ///
  /// Both are finite whatever the weights (huge ones overflow the encoder to ±∞ or NaN): a NaN
  /// mean becomes 0 and an infinite one ±`Float.greatestFiniteMagnitude`; a NaN log σ becomes 0
  /// before the clamp. Finite outputs are untouched, so this changes nothing that coded before
  /// (docs/MODEL_FORMAT.md, "How the raw outputs become probabilities").
  public func posterior(pixels: UnsafeBufferPointer<UInt8>, count: Int) -> (mean: [Float], logScale: [Float]) {
    precondition(count >= 0, "VAE.posterior: negative count")
    let l = architecture.latentCount
    if count == 0 { return ([], []) }
    let input = encoderInput(pixels: pixels, count: count)
    let out = input.withUnsafeBufferPointer { encoder.forward($0, rows: count) }
    var mean = [Float](repeating: 0, count: count * l)
    var logScale = [Float](repeating: 0, count: count * l)
    let lo = VAE.logScaleRange.lowerBound, hi = VAE.logScaleRange.upperBound
    let width = encoder.outCount
    for i in 0..<count {
      for j in 0..<l {
        mean[i * l + j] = VAE.finite(out[i * width + j])
        let rawLogScale = out[i * width + l + j]
        logScale[i * l + j] = rawLogScale.isNaN ? 0 : Swift.min(Swift.max(rawLogScale, lo), hi)
      }
    }
    return (mean, logScale)
  }

  /// A network output made finite: NaN → 0, ±∞ → ±`Float.greatestFiniteMagnitude`, any finite
  /// value unchanged. The coder reads every raw output through this map (docs/MODEL_FORMAT.md).
  @inlinable @inline(__always)
  public static func finite(_ x: Float) -> Float {
    x.isNaN ? 0 : Swift.min(Swift.max(x, -.greatestFiniteMagnitude), .greatestFiniteMagnitude)
  }

  /// The decoder's outputs for `count` latent vectors (count × latentCount Floats, the bucket
  /// centres): count × pixelCount × outputs per pixel, pixel-major within an image. Without a
  /// context network they are the likelihood's raw parameters (turn them into probabilities
  /// with the formulas of `Likelihood`); with one, the per-pixel features that
  /// `pixelParameters` combines with the neighbours.
  public func likelihoodParameters(latents: UnsafeBufferPointer<Float>, count: Int) -> [Float] {
    precondition(count >= 0, "VAE.likelihoodParameters: negative count")
    precondition(latents.count >= count * architecture.latentCount,
                 "VAE.likelihoodParameters: \(latents.count) latents given for \(count) vectors of \(architecture.latentCount)")
    if count == 0 { return [] }
    return decoder.forward(latents, rows: count)
  }
}
