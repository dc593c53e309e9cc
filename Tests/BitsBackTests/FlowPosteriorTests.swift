import ANS
import BitsBack
import Model
import PortableMath
import Testing
import TestSupport

/// Flow posteriors (issue 17) in the coder: exact bits-back round trips, the rate against the
/// discretized −ELBO, and the coder's conditionals against the continuous flow.
@Suite struct FlowPosteriorTests {
  static let posteriors: [Posterior] = [
    .householder(steps: 1), .householder(steps: 2), .iaf(steps: 2, hidden: 12, context: 4), .iaf(steps: 1, hidden: 5, context: 0),
    .sylvester(steps: 1), .sylvester(steps: 2),
  ]

  /// A fixture model with `posterior`, its flow made far from the identity: the IAF's MADEs get
  /// random (masked) output layers; the Householder vectors are random already.
  static func model(
    _ likelihood: Likelihood, posterior: Posterior, context: ContextHead? = nil, height: Int = 8, width: Int = 8,
    latents: Int = 6, seed: UInt64 = 1
  ) -> VAE {
    let base = Fixtures.model(likelihood, context: context, height: height, width: width, latents: latents, seed: seed,
                              posterior: posterior).vae
    guard posterior.flowSteps > 0 else { return base }
    var generator = TestSupport.SeededGenerator(seed: seed + 1000)
    let flows = base.flows.map { flow in
      let last = flow.layers[1]
      let weights = (0..<last.weights.count).map { _ in Float.random(in: -0.4...0.4, using: &generator) }
      var first = flow.layers[0]
      let bias: [Float]
      if case .sylvester = posterior {
        // Diagonals tanh(±2): steps far from the identity, and still monotone.
        bias = (0..<last.outCount).map { _ in Float.random(in: -2...2, using: &generator) }
        first.bias = (0..<first.outCount).map { _ in Float.random(in: -2...2, using: &generator) }
        first.weights = first.weights.map { $0 * 5 }
      } else {
        bias = (0..<last.outCount).map { _ in Float.random(in: -0.5...0.5, using: &generator) }
      }
      return base.architecture.maskedFlow(
        MLP(layers: [first, DenseLayer(inCount: last.inCount, outCount: last.outCount, weights: weights, bias: bias)]))
    }
    return VAE(architecture: base.architecture, name: base.name, summary: "", figures: base.figures, encoder: base.encoder,
               decoder: base.decoder, context: base.context, rows: base.rows, flows: flows)
  }

  /// Every flow, factorized and causal-context likelihoods, 0, 1, 2 and 1,000 images over 1, 3
  /// and 32 lanes: the images come back and the message returns to empty.
  @Test(arguments: Self.posteriors, [Likelihood.bernoulli, .logisticMixture(components: 3)])
  func decodeUndoesEncode(posterior: Posterior, likelihood: Likelihood) {
    for context in [nil, ContextHead(features: 2, hidden: 6, neighbourCount: 6, rows: RowSummary(stateWidth: 2, globalWidth: 3))] {
      let model = Self.model(likelihood, posterior: posterior, context: context)
      let coder = ChunkCoder(model: model)
      for count in [0, 1, 2, 1000] {
        let images = Fixtures.images(count, binary: likelihood == .bernoulli)
        for lanes in [1, 3, 32] {
          var message = images.withUnsafeBufferPointer { coder.encode($0, imageCount: count, laneCount: lanes) }
          var decoded = [UInt8](repeating: 0, count: images.count)
          let consistent = decoded.withUnsafeMutableBufferPointer { coder.decode(&message, imageCount: count, into: $0) }
          #expect(consistent && decoded == images, "\(posterior.description), \(likelihood), \(count) images, \(lanes) lanes")
          #expect(message.isEmpty)
        }
      }
    }
  }

  /// The rate is the discretized −ELBO that validation reports (the flow's conditionals on the
  /// centres, one draw per image) within 0.1%, plus the initial bits.
  @Test(arguments: Self.posteriors)
  func rateMatchesTheDiscretizedELBO(posterior: Posterior) {
    for likelihood in [Likelihood.bernoulli, .logisticMixture(components: 3)] {
      let model = Self.model(likelihood, posterior: posterior, height: 12, width: 12, latents: 8, seed: 5)
      let count = 2000
      let images = Fixtures.images(count, height: 12, width: 12, binary: likelihood == .bernoulli, seed: 6)
      let message = images.withUnsafeBufferPointer { ChunkCoder(model: model).encode($0, imageCount: count, laneCount: 16) }
      let elbo = images.withUnsafeBufferPointer { model.discretizedNegativeELBO(pixels: $0, count: count) }
      let elboBits = elbo.total * Double(images.count)
      let initialBits = Double(32 * message.floorWordsRead + 64 * message.laneCount)
      let bits = Double(message.bitCount)
      #expect(bits <= elboBits * 1.001 + initialBits && bits >= elboBits * 0.999 - initialBits,
              "\(posterior.description), \(likelihood): \(bits) bits, −ELBO \(elboBits), initial \(initialBits)")
    }
  }

  /// The coder's conditionals are the flow's density: with dimension i fixed at the continuous
  /// sample's z_i, Σ_i log N(z_i; mean_i, scale_i²) is log q(z|x) of the reparameterized sample
  /// (Σ −½ε² − log σ − log-determinant), up to Float rounding.
  @Test(arguments: Self.posteriors)
  func conditionalsGiveTheFlowsDensity(posterior: Posterior) {
    let model = Self.model(.logisticMixture(components: 3), posterior: posterior, latents: 7, seed: 3)
    let a = model.architecture, l = a.latentCount, rows = 20
    let images = Fixtures.images(rows, binary: false, seed: 4)
    let out = images.withUnsafeBufferPointer { model.posteriorOutputs(pixels: $0, count: rows) }
    var generator = TestSupport.SeededGenerator(seed: 8)
    let epsilon = (0..<(rows * l)).map { _ in Float(generator.nextGaussian()) }
    let pass = PosteriorPass(architecture: a, flows: model.flows, out: out, epsilon: epsilon, rows: rows)
    var conditionals = PosteriorConditionals(model: model, out: out, rows: rows)
    var logDensity = [Double](repeating: 0, count: rows)
    for i in 0..<l {
      conditionals.conditional(i)
      let values = (0..<rows).map { Double(pass.z[$0 * l + i]) }
      for r in 0..<rows {
        if conditionals.maps.isEmpty {
          let e = (values[r] - conditionals.mean[r]) / conditionals.scale[r]
          logDensity[r] += -0.5 * e * e - Portable.log(conditionals.scale[r])
        } else {
          logDensity[r] += conditionals.maps[r].logDensity(values[r])
        }
      }
      conditionals.fix(i, values: values)
    }
    for r in 0..<rows {
      let z = pass.z[(r * l)..<((r + 1) * l)].map(Double.init)
      let expected = pass.logRatio[r] - 0.5 * z.reduce(0) { $0 + $1 * $1 }
      #expect(abs(logDensity[r] - expected) <= 2e-3 * max(1, abs(expected)),
              "\(posterior.description), row \(r): conditionals give \(logDensity[r]), the flow \(expected)")
    }
  }

  /// Each triangular flow's z_i does not move when ε_j, j > i, changes: dimension i's
  /// conditional never depends on a dimension popped after it.
  @Test(arguments: [Posterior.iaf(steps: 2, hidden: 12, context: 4), .sylvester(steps: 2)])
  func triangularFlowsAreTriangular(posterior: Posterior) {
    let model = Self.model(.bernoulli, posterior: posterior, latents: 6, seed: 7)
    let a = model.architecture, l = a.latentCount
    let out = Fixtures.images(1, binary: true).withUnsafeBufferPointer { model.posteriorOutputs(pixels: $0, count: 1) }
    var generator = TestSupport.SeededGenerator(seed: 9)
    let epsilon = (0..<l).map { _ in Float(generator.nextGaussian()) }
    let reference = PosteriorPass(architecture: a, flows: model.flows, out: out, epsilon: epsilon, rows: 1).z
    for i in 0..<l {
      var changed = epsilon
      for j in (i + 1)..<l { changed[j] += 1.5 }
      let z = PosteriorPass(architecture: a, flows: model.flows, out: out, epsilon: changed, rows: 1).z
      #expect(z[...i].map(\.bitPattern) == reference[...i].map(\.bitPattern), "z_0…z_\(i) moved with ε_\(i + 1)…")
      if i + 1 < l { #expect(z[i + 1] != reference[i + 1]) }
    }
  }

  /// A Sylvester step's inverse is exact at the bucket edges: the bracket that the bisection
  /// finds maps to either side of the edge and is one Double wide; and every step, and G, is
  /// increasing.
  @Test func sylvesterInverseBracketsTheEdgesAndIsMonotone() {
    let model = Self.model(.logisticMixture(components: 3), posterior: .sylvester(steps: 3), latents: 5, seed: 13)
    let rows = 8, l = model.architecture.latentCount
    let out = Fixtures.images(rows, binary: false).withUnsafeBufferPointer { model.posteriorOutputs(pixels: $0, count: rows) }
    var conditionals = PosteriorConditionals(model: model, out: out, rows: rows)
    let buckets = MaxEntropyBuckets(bits: 10)
    var checked = 0
    for i in 0..<l {
      conditionals.conditional(i)
      for map in conditionals.maps {
        for edge in buckets.edges where edge.isFinite {
          var y = edge
          for k in stride(from: map.steps - 1, through: 0, by: -1) {
            let (lo, hi) = map.bracket(k, y)
            #expect(map.step(k, lo) <= y && map.step(k, hi) >= y, "step \(k) at \(y): [\(lo), \(hi)]")
            #expect(hi == lo.nextUp || lo + (hi - lo) * 0.5 <= lo, "step \(k) at \(y): [\(lo), \(hi)] is wider than one Double")
            y = lo
            checked += 1
          }
        }
        var previous = -Double.infinity
        for x in stride(from: -8.0, through: 8.0, by: 0.01) {
          let y = map.forward(x)
          #expect(y >= previous, "G is not increasing at \(x)")
          previous = y
        }
      }
      conditionals.fix(i, values: conditionals.maps.map { $0.forward($0.mean + 0.5 * $0.scale) })
    }
    #expect(checked > 1000)
  }

  /// The Householder flow is orthogonal: it keeps the length of every μ + σε, and q's
  /// conditional scales multiply to σ_1 ⋯ σ_L (the determinant of an orthogonal map is ±1).
  @Test func householderIsOrthogonal() {
    let model = Self.model(.bernoulli, posterior: .householder(steps: 3), latents: 6, seed: 11)
    let a = model.architecture, l = a.latentCount, rows = 10
    let out = Fixtures.images(rows, binary: true).withUnsafeBufferPointer { model.posteriorOutputs(pixels: $0, count: rows) }
    let width = out.count / rows
    var generator = TestSupport.SeededGenerator(seed: 12)
    let epsilon = (0..<(rows * l)).map { _ in Float(generator.nextGaussian()) }
    let pass = PosteriorPass(architecture: a, flows: [], out: out, epsilon: epsilon, rows: rows)
    var conditionals = PosteriorConditionals(model: model, out: out, rows: rows)
    var logScales = [Double](repeating: 0, count: rows)
    for i in 0..<l {
      conditionals.conditional(i)
      for r in 0..<rows { logScales[r] += Portable.log(conditionals.scale[r]) }
      conditionals.fix(i, values: conditionals.mean)
    }
    for r in 0..<rows {
      var before = 0.0, after = 0.0, sumLogSigma = 0.0
      for j in 0..<l {
        let logSigma = Double(min(max(out[r * width + l + j], VAE.logScaleRange.lowerBound), VAE.logScaleRange.upperBound))
        sumLogSigma += logSigma
        let z0 = Double(out[r * width + j]) + Portable.exp(logSigma) * Double(epsilon[r * l + j])
        before += z0 * z0
        after += Double(pass.z[r * l + j]) * Double(pass.z[r * l + j])
      }
      #expect(abs(before - after) <= 1e-5 * max(1, before), "row \(r): |z|² \(after), |μ + σε|² \(before)")
      #expect(abs(logScales[r] - sumLogSigma) <= 1e-9 * max(1, abs(sumLogSigma)), "row \(r): Σ log scale \(logScales[r]) vs Σ log σ \(sumLogSigma)")
    }
  }

  /// The same images and model give the same message whatever the number of threads (chunks
  /// coded side by side) and whatever lanes surround an image's (blocks of one lane or many).
  @Test(arguments: Self.posteriors)
  func compressedFileDoesNotDependOnThreads(posterior: Posterior) throws {
    let model = Self.model(.logisticMixture(components: 3), posterior: posterior)
    let coding = CodingModel(name: "test-flow", vae: model, fileSize: model.serialized().count)
    let images = Fixtures.images(300, binary: false)
    let file = Fixtures.idx(images, count: 300)
    var outputs: [[UInt8]] = []
    for threads in [1, 2, 8] {
      var options = CompressionOptions()
      options.threadCount = threads
      options.chunkImageCount = 64
      options.laneCount = 8
      options.model = .model(coding)
      outputs.append(try Compressor.compress(file, options: options))
    }
    #expect(outputs[0] == outputs[1] && outputs[1] == outputs[2])
    #expect(try Decompressor.decompress(outputs[0], models: [coding]) == file)
  }
}
