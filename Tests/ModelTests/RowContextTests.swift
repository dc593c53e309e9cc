// The row summary of the context head (`RowSummary`): its gradients by finite differences
// against a Double reference written from the definition, the upgrade of a trained context
// model, and the weights file's new fields.

import Model
import PortableMath
import Testing

struct RowContextTests {
  static let architectures: [Architecture] = [
    (Likelihood.bernoulli, RowSummary(stateWidth: 2, globalWidth: 2, radius: 1, averages: 2, deeper: [3])),
    (.logisticMixture(components: 2), RowSummary(stateWidth: 3, globalWidth: 3, radius: 2, averages: 1)),
  ].map { likelihood, summary in
    Architecture(height: 3, width: 4, encoderHidden: [5], decoderHidden: [5], latentCount: 2, bucketBits: 8,
                 likelihood: likelihood, context: ContextHead(features: 2, hidden: 4, neighbourCount: 12, rows: summary))
  }

  /// The per-pixel network's input rows in Double, from `RowSummary`'s definition, and the sign
  /// of every ReLU's input (to leave out finite differences that cross a kink).
  static func referenceInput(
    _ a: Architecture, features: [Double], targets: [UInt8], rows: Int, state: ReferenceMLP, global: ReferenceMLP,
    pattern: inout [Bool]
  ) -> [Double] {
    let head = a.context!, summary = head.rows!
    let h = a.height, w = a.width, s = summary.stateWidth, k = summary.radius
    func value(_ r: Int, _ y: Int, _ x: Int) -> Double {
      guard y >= 0, x >= 0, x < w, y < h else { return 0 }
      let v = targets[r * a.pixelCount + y * w + x]
      return a.likelihood.isBinary ? (v != 0 ? 1 : 0) : Double(v) / 255
    }
    func relu(_ v: [Double]) -> [Double] {
      for x in v { pattern.append(x > 0) }
      return v.map { max($0, 0) }
    }
    var input: [Double] = []
    for r in 0..<rows {
      var previous = [Double](repeating: 0, count: w * s)
      for y in 0..<h {
        var current: [Double] = []
        for x in 0..<w {
          var row: [Double] = []
          for d in -k...k { row.append(y > 0 ? value(r, y - 1, x + d) : 0) }
          for c in -1...1 {
            for j in 0..<s { row.append(y > 0 && x + c >= 0 && x + c < w ? previous[(x + c) * s + j] : 0) }
          }
          current += relu(state.forward(row, rows: 1).output)
        }
        let g = summary.globalWidth > 0 ? relu(global.forward(current, rows: 1).output) : []
        var e = [Double](repeating: 0, count: summary.averages)
        for x in 0..<w {
          if x > 0 {
            for j in 0..<summary.averages {
              let decay = 1 - 1 / Double(1 << (j + 1))
              e[j] = decay * e[j] + (1 - decay) * value(r, y, x - 1)
            }
          }
          let i = y * w + x
          input += features[((r * a.pixelCount + i) * head.features)..<((r * a.pixelCount + i + 1) * head.features)]
          for (dy, dx) in head.aboveNeighbours { input.append(value(r, y + dy, x + dx)) }
          input += current[(x * s)..<((x + 1) * s)]
          input += g
          for (dy, dx) in head.leftNeighbours { input.append(value(r, y + dy, x + dx)) }
          input += e
        }
        previous = current
      }
    }
    return input
  }

  /// −ELBO of the rows in Double; networks: encoder, decoder, context, state, global.
  static func referenceLoss(
    _ a: Architecture, networks n: [ReferenceMLP], input: [Double], targets: [UInt8], epsilon: [Float], rows: Int,
    pattern: inout [Bool]
  ) -> Double {
    let l = a.latentCount, p = a.pixelCount, ppp = a.parametersPerPixel
    let out = n[0].forward(input, rows: rows)
    pattern += out.pattern
    let lo = Double(VAE.logScaleRange.lowerBound), hi = Double(VAE.logScaleRange.upperBound)
    var z = [Double](repeating: 0, count: rows * l)
    var total = 0.0
    for r in 0..<rows {
      for j in 0..<l {
        let mu = out.output[r * 2 * l + j], logScale = min(max(out.output[r * 2 * l + l + j], lo), hi)
        let sigma = Portable.exp(logScale)
        z[r * l + j] = mu + sigma * Double(epsilon[r * l + j])
        total += 0.5 * (mu * mu + sigma * sigma - 1 - 2 * logScale)
      }
    }
    let decoded = n[1].forward(z, rows: rows)
    pattern += decoded.pattern
    let contextInput = referenceInput(a, features: decoded.output, targets: targets, rows: rows, state: n[3], global: n[4],
                                      pattern: &pattern)
    let params = n[2].forward(contextInput, rows: rows * p)
    pattern += params.pattern
    for r in 0..<rows {
      total += ReferenceHeads.negativeLogLikelihood(
        a.likelihood, params: Array(params.output[(r * p * ppp)..<((r + 1) * p * ppp)]),
        pixels: Array(targets[(r * p)..<((r + 1) * p)]))
    }
    return total
  }

  @Test(arguments: architectures)
  func gradientsMatchFiniteDifferences(_ architecture: Architecture) throws {
    let model = VAE(randomWith: architecture, seed: 31)
    let rows = 2, p = architecture.pixelCount, l = architecture.latentCount
    var generator = SeededGenerator(seed: 32)
    var targets = (0..<(rows * p)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    if architecture.likelihood.isBinary { targets = targets.map { $0 >= 128 ? 1 : 0 } }
    let input = targets.withUnsafeBufferPointer { model.encoderInput(pixels: $0, count: rows) }
    let epsilon = (0..<(rows * l)).map { _ in Float(generator.nextGaussian()) }
    let context = try #require(model.context), rowNetworks = try #require(model.rows)
    let result = Objective.evaluate(
      architecture: architecture, encoder: model.encoder, decoder: model.decoder, context: context, rowNetworks: rowNetworks,
      transposed: (encoder: model.encoder.transposedWeights(), decoder: model.decoder.transposedWeights(),
                   context: context.transposedWeights()),
      input: input, targets: targets, epsilon: epsilon, rows: rows)
    let rowGradient = try #require(result.rows)
    let gradients = [result.encoder.layers, result.decoder.layers, try #require(result.context).layers,
                     [rowGradient.state], [rowGradient.global]]
    let reference = [model.encoder, model.decoder, context, MLP(layers: [rowNetworks.state]),
                     MLP(layers: [rowNetworks.global])].map(ReferenceMLP.init)
    let x = input.map(Double.init)
    func loss(_ n: [ReferenceMLP]) -> (Double, [Bool]) {
      var pattern: [Bool] = []
      let value = Self.referenceLoss(architecture, networks: n, input: x, targets: targets, epsilon: epsilon, rows: rows,
                                     pattern: &pattern)
      return (value, pattern)
    }
    let (value, _) = loss(reference)
    #expect(abs(result.reconstruction + result.kl - value) <= 1e-5 * abs(value),
            "−ELBO \(result.reconstruction + result.kl) vs reference \(value)")
    let h = 1e-5
    let tolerance = Tolerance(absolute: 1e-5, relative: 1e-4)
    let names = ["encoder", "decoder", "context", "state", "global"]
    var checked = 0, nonZero = 0
    for n in reference.indices {
      for layer in reference[n].layers.indices {
        for isWeight in [true, false] {
          let count = isWeight ? reference[n].layers[layer].weights.count : reference[n].layers[layer].bias.count
          for i in 0..<count {
            var plus = reference, minus = reference
            if isWeight {
              plus[n].layers[layer].weights[i] += h
              minus[n].layers[layer].weights[i] -= h
            } else {
              plus[n].layers[layer].bias[i] += h
              minus[n].layers[layer].bias[i] -= h
            }
            let (up, upPattern) = loss(plus), (down, downPattern) = loss(minus)
            guard upPattern == downPattern else { continue }  // a ReLU kink between the two
            let numeric = (up - down) / (2 * h)
            let g = isWeight ? gradients[n][layer].weights[i] : gradients[n][layer].bias[i]
            checked += 1
            if g != 0 { nonZero += 1 }
            #expect(tolerance.accepts(analytic: Double(g), numeric: numeric),
                    "\(names[n]) layer \(layer) \(isWeight ? "weight" : "bias") \(i): \(g) vs finite difference \(numeric)")
          }
        }
      }
    }
    // The check means something: most parameters were compared, and the row summary's layers
    // do get gradients.
    #expect(checked > 100 && nonZero > checked / 2, "\(checked) checked, \(nonZero) non-zero")
    #expect(rowGradient.state.weights.contains { $0 != 0 } && rowGradient.global.weights.contains { $0 != 0 })
  }

  /// A small 2-component row-summary model's architecture, with the given deeper layers.
  static func smallRowModel(deeper: [Int]) -> Architecture {
    Architecture(
      height: 5, width: 6, encoderHidden: [8], decoderHidden: [8], latentCount: 3, bucketBits: 8,
      likelihood: .logisticMixture(components: 2),
      context: ContextHead(features: 2, hidden: 6, neighbourCount: 12,
                           rows: RowSummary(stateWidth: 3, globalWidth: 2, deeper: deeper)))
  }

  /// Every pixel's parameters from two models on the same random images and latents (the
  /// first model's decoder features for both), to compare a model with an upgraded copy.
  static func pixelParameters(of model: VAE, and upgraded: VAE, images count: Int, seed: UInt64) -> ([Float], [Float]) {
    var generator = SeededGenerator(seed: seed)
    let p = model.architecture.pixelCount, latentCount = model.architecture.latentCount
    let pixels = (0..<(count * p)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    let latents = (0..<(count * latentCount)).map { _ in Float(generator.nextGaussian()) }
    let features = latents.withUnsafeBufferPointer { model.likelihoodParameters(latents: $0, count: count) }
    let before = pixels.withUnsafeBufferPointer { model.pixelParameters(decoderOutputs: features, pixels: $0, count: count) }
    let after = pixels.withUnsafeBufferPointer { upgraded.pixelParameters(decoderOutputs: features, pixels: $0, count: count) }
    return (before, after)
  }

  static func largestGap(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

  /// A context model with a row summary added computes what it computed before (the new
  /// inputs' weights are 0), to the rounding of the first layer's split product.
  @Test func addingARowSummaryKeepsTheDistributions() throws {
    let old = Architecture(height: 6, width: 7, encoderHidden: [8], decoderHidden: [8], latentCount: 3, bucketBits: 8,
                           likelihood: .logisticMixture(components: 2),
                           context: ContextHead(features: 2, hidden: 6, neighbourCount: 24))
    let model = VAE(randomWith: old, seed: 3)
    for deeper in [[], [6], [6, 4]] {
      let upgraded = model.addingRowSummary(RowSummary(stateWidth: 3, globalWidth: 2, deeper: deeper), seed: 4)
      #expect(upgraded.architecture.context?.rows?.deeper == deeper)
      let (before, after) = Self.pixelParameters(of: model, and: upgraded, images: 4, seed: 5)
      if deeper.last ?? 6 == 6 {
        #expect(Self.largestGap(before, after) < 1e-4, "deeper \(deeper): the distributions moved")
      }
      let loaded = try VAE(contentsOf: upgraded.serialized())
      #expect(loaded.identity == upgraded.identity)
    }
  }

  /// Deeper layers added to a row-summary model as the identity leave every distribution the
  /// same bit for bit, and the widths it keeps are the model's own.
  @Test func addingDeeperLayersKeepsTheDistributions() throws {
    for (base, deeper) in [([Int](), [6]), ([], [6, 6]), ([4], [4, 4])] {
      let architecture = Self.smallRowModel(deeper: base)
      let model = VAE(randomWith: architecture, seed: 7)
      let upgraded = model.addingDeeperLayers(deeper)
      #expect(upgraded.architecture.context?.rows?.deeper == deeper)
      let (before, after) = Self.pixelParameters(of: model, and: upgraded, images: 3, seed: 8)
      #expect(before.map(\.bitPattern) == after.map(\.bitPattern), "\(base) → \(deeper)")
      let loaded = try VAE(contentsOf: upgraded.serialized())
      #expect(loaded.identity == upgraded.identity && loaded.identity != model.identity)
    }
    // One narrower layer (at least twice the 6 outputs of a 2-component mixture): the output
    // layer's product split into v and −v, the same distributions to its rounding.
    for (base, deeper) in [([Int](), [12]), ([], [20]), ([4], [4, 13])] {
      let architecture = Self.smallRowModel(deeper: base)
      let model = VAE(randomWith: architecture, seed: 12)
      let upgraded = model.addingDeeperLayers(deeper, seed: 13)
      #expect(upgraded.architecture.context?.rows?.deeper == deeper)
      let (before, after) = Self.pixelParameters(of: model, and: upgraded, images: 3, seed: 14)
      #expect(Self.largestGap(before, after) < 1e-4, "\(base) → \(deeper): the distributions moved")
      let loaded = try VAE(contentsOf: upgraded.serialized())
      #expect(loaded.identity == upgraded.identity && loaded.identity != model.identity)
    }
  }

  /// A first hidden layer widened with new units whose outgoing weights are 0 leaves every
  /// distribution the same, to the rounding of the first layer's split product.
  @Test func addingHiddenUnitsKeepsTheDistributions() throws {
    for deeper in [[Int](), [5]] {
      let architecture = Self.smallRowModel(deeper: deeper)
      let model = VAE(randomWith: architecture, seed: 9)
      let upgraded = model.addingHiddenUnits(width: 10, seed: 10)
      #expect(upgraded.architecture.context?.hidden == 10)
      let (before, after) = Self.pixelParameters(of: model, and: upgraded, images: 3, seed: 11)
      #expect(Self.largestGap(before, after) < 1e-4, "deeper \(deeper): the distributions moved")
      #expect(try VAE(contentsOf: upgraded.serialized()).identity == upgraded.identity)
    }
  }

  /// A version-2 file whose summary kind this build does not know is refused by name.
  @Test func unknownSummaryKindIsRefused() {
    let model = VAE(randomWith: Self.architectures[0], seed: 1)
    var bytes = model.serialized()
    let kind = Array(RowSummary.kindName.utf8)
    let at = (0..<(bytes.count - kind.count)).first { Array(bytes[$0..<($0 + kind.count)]) == kind }!
    bytes[at] = UInt8(ascii: "c")  // "cows"
    #expect(throws: ModelError.unknownContextSummary("cows")) { try VAE.architecture(ofWeightsFile: bytes) }
    #expect(throws: ModelError.unknownContextSummary("cows")) { try VAE(contentsOf: bytes) }
  }
}
