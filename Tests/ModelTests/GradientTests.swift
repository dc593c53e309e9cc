// Finite-difference checks of every gradient the trainer uses: the likelihood heads, the MLP's
// backward pass and the whole −ELBO (`Objective`).
//
// Each check compares the analytic gradient with a central difference (f(x+h) − f(x−h)) / 2h
// computed in Double, and accepts |analytic − numeric| ≤ absolute + relative · |numeric|.

import Model
import PortableMath
import Testing

/// A Float multiple of 2^-8 in [lower, upper]: such a value stays exact when ±2^-16 is added.
private func gridValue(_ lower: Double, _ upper: Double, _ generator: inout SeededGenerator) -> Float {
  Float(((lower + (upper - lower) * generator.nextUnit()) * 256).rounded() / 256)
}

/// Raw head parameters for `pixels`, away from the clamps, with one mixture component per pixel
/// centred near the pixel so that its mass is not negligible.
private func headParameters(_ likelihood: Likelihood, pixels: [UInt8], seed: UInt64) -> [Float] {
  var generator = SeededGenerator(seed: seed)
  var params: [Float] = []
  for pixel in pixels {
    switch likelihood {
    case .bernoulli:
      params.append(gridValue(-6, 6, &generator))
    case .betaBinomial:
      params.append(gridValue(-4, 4, &generator))
      params.append(gridValue(-4, 4, &generator))
    case .logisticMixture(let k):
      let logits = (0..<k).map { _ in gridValue(-2, 2, &generator) }
      var means = (0..<k).map { _ in gridValue(-1.2, 1.2, &generator) }
      means[0] = Float(((Double(pixel) / 127.5 - 1 + 0.02) * 256).rounded() / 256)
      let logScales = (0..<k).map { _ in gridValue(-4, 0.5, &generator) }
      params += logits + means + logScales
    }
  }
  return params
}

private func headNLL(_ likelihood: Likelihood, _ params: [Float], _ pixels: [UInt8], gradient: inout [Float]) -> Double {
  params.withUnsafeBufferPointer { p in
    pixels.withUnsafeBufferPointer { x in
      gradient.withUnsafeMutableBufferPointer { g in
        Heads.negativeLogLikelihood(likelihood, params: p.baseAddress!, pixels: x.baseAddress!, pixelCount: pixels.count,
                                    gradient: g.baseAddress!)
      }
    }
  }
}

private func headNLL(_ likelihood: Likelihood, _ params: [Float], _ pixels: [UInt8]) -> Double {
  params.withUnsafeBufferPointer { p in
    pixels.withUnsafeBufferPointer { x in
      Heads.negativeLogLikelihood(likelihood, params: p.baseAddress!, pixels: x.baseAddress!, pixelCount: pixels.count,
                                  gradient: nil)
    }
  }
}

struct HeadGradientTests {
  static let likelihoods: [Likelihood] = [
    .bernoulli, .betaBinomial, .logisticMixture(components: 1), .logisticMixture(components: 3),
    .logisticMixture(components: 5),
  ]
  /// The ends of the range, their neighbours and values in between (Bernoulli reads any
  /// non-zero value as 1).
  static let pixels: [UInt8] = [0, 255, 1, 254, 128, 37, 200, 0, 255]

  @Test(arguments: likelihoods, [UInt64(1), 2, 3])
  func headGradientMatchesFiniteDifferences(_ likelihood: Likelihood, seed: UInt64) {
    let pixels = Self.pixels
    var params = headParameters(likelihood, pixels: pixels, seed: seed)
    var gradient = [Float](repeating: .nan, count: params.count)
    _ = headNLL(likelihood, params, pixels, gradient: &gradient)
    // The step 2^-16 is exact on the grid values; truncation error h²/6 · f''' stays below 1e-6
    // for log scales ≥ −4, rounding noise (a few ulps of values up to ~10³) / 2h below 1e-7.
    let h: Float = 0x1p-16
    let tolerance = Tolerance(absolute: 1e-6, relative: 1e-5)
    for i in params.indices {
      let saved = params[i]
      params[i] = saved + h
      let up = headNLL(likelihood, params, pixels)
      params[i] = saved - h
      let down = headNLL(likelihood, params, pixels)
      params[i] = saved
      let numeric = (up - down) / (2 * Double(h))
      #expect(tolerance.accepts(analytic: Double(gradient[i]), numeric: numeric),
              "\(likelihood.name): ∂/∂param[\(i)] (pixel \(pixels[i / likelihood.parametersPerPixel])) is \(gradient[i]), finite difference \(numeric)")
    }
  }

  @Test(arguments: likelihoods)
  func headValueMatchesReference(_ likelihood: Likelihood) {
    let params = headParameters(likelihood, pixels: Self.pixels, seed: 7)
    let value = headNLL(likelihood, params, Self.pixels)
    let reference = ReferenceHeads.negativeLogLikelihood(likelihood, params: params.map(Double.init), pixels: Self.pixels)
    #expect(abs(value - reference) <= 1e-9 * max(1, abs(reference)), "\(likelihood.name): \(value) vs reference \(reference)")
  }

  /// Outside the clamps the likelihood does not move, and the gradient says so.
  @Test func clampedParametersHaveZeroGradient() {
    let pixels: [UInt8] = [0, 100, 255]
    var gradient = [Float](repeating: .nan, count: 6)
    _ = headNLL(.betaBinomial, [11, -12, -10.5, 0.5, 0.25, 10.25], pixels, gradient: &gradient)
    #expect(gradient[0] == 0 && gradient[1] == 0 && gradient[2] == 0 && gradient[5] == 0)
    #expect(gradient[3] != 0 && gradient[4] != 0)

    var mixtureGradient = [Float](repeating: .nan, count: 6)
    _ = headNLL(.logisticMixture(components: 2), [0.5, -0.5, 0.1, -0.2, -8, -1], [130], gradient: &mixtureGradient)
    #expect(mixtureGradient[4] == 0, "log scale −8 is below the clamp at −7")
    #expect(mixtureGradient[5] != 0)
  }
}

struct NetworkGradientTests {
  /// A network with odd sizes (so the kernel's 16-, 8- and 1-column paths all run) and random
  /// biases.
  static func network(sizes: [Int], seed: UInt64) -> MLP {
    var generator = SeededGenerator(seed: seed)
    var mlp = MLP(sizes: sizes, generator: &generator)
    for i in mlp.layers.indices {
      mlp.layers[i].bias = mlp.layers[i].bias.map { _ in Float(generator.nextUnit() * 0.4 - 0.2) }
    }
    return mlp
  }

  @Test func forwardMatchesDoubleReference() {
    let mlp = Self.network(sizes: [7, 21, 9, 19], seed: 11)
    var generator = SeededGenerator(seed: 12)
    let rows = 6
    let input = (0..<(rows * 7)).map { _ in Float(generator.nextUnit()) }
    let output = input.withUnsafeBufferPointer { mlp.forward($0, rows: rows) }
    let reference = ReferenceMLP(mlp).forward(input.map(Double.init), rows: rows).output
    for k in reference.indices {
      #expect(abs(Double(output[k]) - reference[k]) <= 1e-5 * (1 + abs(reference[k])), "output \(k): \(output[k]) vs \(reference[k])")
    }
  }

  /// L = Σ g · y for a fixed g: backward(outputGradient: g) must give ∂L/∂W, ∂L/∂b and ∂L/∂x.
  @Test func backwardMatchesFiniteDifferences() {
    let mlp = Self.network(sizes: [7, 21, 9, 19], seed: 13)
    var generator = SeededGenerator(seed: 14)
    let rows = 3
    let input = (0..<(rows * 7)).map { _ in Float(generator.nextUnit() * 2 - 1) }
    let outputGradient = (0..<(rows * 19)).map { _ in Float(generator.nextUnit() * 2 - 1) }
    let activations = mlp.forwardKeepingActivations(input, rows: rows)
    let (gradients, inputGradient) = mlp.backward(
      activations: activations, outputGradient: outputGradient, rows: rows,
      transposedWeights: mlp.transposedWeights(), wantInputGradient: true)

    let base = ReferenceMLP(mlp)
    let basePattern = base.forward(input.map(Double.init), rows: rows).pattern
    func loss(_ network: ReferenceMLP, _ x: [Double]) -> Double? {
      let (y, pattern) = network.forward(x, rows: rows)
      guard pattern == basePattern else { return nil }   // the step crossed a ReLU kink
      return zip(y, outputGradient).reduce(0) { $0 + $1.0 * Double($1.1) }
    }
    // Within one ReLU pattern L is affine in any single parameter, so the central difference is
    // exact but for rounding (~1e-12); the tolerance covers the Float backward pass.
    let h = 1e-4
    let tolerance = Tolerance(absolute: 1e-5, relative: 1e-4)
    var checked = 0, skipped = 0
    func check(_ analytic: Float, _ up: Double?, _ down: Double?, _ what: @autoclosure () -> String) {
      guard let up, let down else { skipped += 1; return }
      checked += 1
      let numeric = (up - down) / (2 * h)
      #expect(tolerance.accepts(analytic: Double(analytic), numeric: numeric), "\(what()): \(analytic) vs finite difference \(numeric)")
    }
    let x = input.map(Double.init)
    for l in base.layers.indices {
      for i in base.layers[l].weights.indices {
        var plus = base, minus = base
        plus.layers[l].weights[i] += h
        minus.layers[l].weights[i] -= h
        check(gradients.layers[l].weights[i], loss(plus, x), loss(minus, x), "layer \(l) weight \(i)")
      }
      for j in base.layers[l].bias.indices {
        var plus = base, minus = base
        plus.layers[l].bias[j] += h
        minus.layers[l].bias[j] -= h
        check(gradients.layers[l].bias[j], loss(plus, x), loss(minus, x), "layer \(l) bias \(j)")
      }
    }
    for k in x.indices {
      var plus = x, minus = x
      plus[k] += h
      minus[k] -= h
      check(inputGradient[k], loss(base, plus), loss(base, minus), "input \(k)")
    }
    #expect(checked > 0)
    #expect(skipped * 100 <= checked, "\(skipped) of \(checked + skipped) steps crossed a ReLU kink")
  }
}

struct ObjectiveGradientTests {
  /// Tiny models: 3×3 images, one hidden layer of 5, 2 latents; every head, factorized and with
  /// the causal-context network (the default six neighbours, and ten).
  static let architectures: [Architecture] = [
    Likelihood.bernoulli, .betaBinomial, .logisticMixture(components: 2),
  ].flatMap { likelihood in
    [nil, ContextHead(features: 3, hidden: 4), ContextHead(features: 1, hidden: 3, neighbourCount: 10)].map { context in
      Architecture(height: 3, width: 3, encoderHidden: [5], decoderHidden: [5], latentCount: 2, bucketBits: 8,
                   likelihood: likelihood, context: context)
    }
  }

  /// The context network's input rows in Double: pixel i's features, then its neighbours'
  /// values (v/255, or 0/1 for binary models; 0 outside the image), as `ContextHead` defines them.
  static func referenceContextInput(_ a: Architecture, features: [Double], targets: [UInt8], rows: Int) -> [Double] {
    guard let head = a.context else { return features }
    var input: [Double] = []
    for r in 0..<rows {
      for y in 0..<a.height {
        for x in 0..<a.width {
          let i = y * a.width + x
          input += features[((r * a.pixelCount + i) * head.features)..<((r * a.pixelCount + i + 1) * head.features)]
          for (dy, dx) in head.neighbours {
            let ny = y + dy, nx = x + dx
            guard ny >= 0, nx >= 0, nx < a.width else { input.append(0); continue }
            let v = targets[r * a.pixelCount + ny * a.width + nx]
            input.append(a.likelihood.isBinary ? (v != 0 ? 1 : 0) : Double(v) / 255)
          }
        }
      }
    }
    return input
  }

  /// −ELBO of the rows in Double, from the reference MLP and heads: the function whose gradient
  /// `Objective.evaluate` computes. networks: encoder, decoder, the context network if any, then
  /// the IAF's MADEs.
  static func tanhD(_ x: Double) -> Double { 1 - 2 / (Portable.exp(2 * x) + 1) }

  static func referenceLoss(
    _ architecture: Architecture, networks: [ReferenceMLP], input: [Double], targets: [UInt8], epsilon: [Float], rows: Int
  ) -> Double {
    let l = architecture.latentCount, p = architecture.pixelCount, ppp = architecture.parametersPerPixel
    let out = networks[0].forward(input, rows: rows).output
    let width = out.count / rows
    let lo = Double(VAE.logScaleRange.lowerBound), hi = Double(VAE.logScaleRange.upperBound)
    var z = [Double](repeating: 0, count: rows * l)
    var total = 0.0
    for r in 0..<rows {
      for j in 0..<l {
        let mu = out[r * width + j], logScale = min(max(out[r * width + l + j], lo), hi)
        let sigma = Portable.exp(logScale)
        z[r * l + j] = mu + sigma * Double(epsilon[r * l + j])
        total += 0.5 * (mu * mu + sigma * sigma - 1 - 2 * logScale)
      }
    }
    let flowStart = architecture.context == nil ? 2 : 3
    switch architecture.posterior {
    case .diagonal: break
    case .householder(let steps):
      // z ← z − 2 v (vᵀz)/‖v‖², for v_1 … v_K in turn; the KL stays the diagonal one.
      for k in 0..<steps {
        for r in 0..<rows {
          let v = (0..<l).map { out[r * width + 2 * l + k * l + $0] }
          let n = v.reduce(0) { $0 + $1 * $1 }, c = (0..<l).reduce(0) { $0 + v[$1] * z[r * l + $1] }
          for j in 0..<l { z[r * l + j] -= 2 * c / n * v[j] }
        }
      }
    case .iaf(let steps, _, let c):
      // z ← z ⊙ exp(ŝ) + m, [m, ŝ] = MADE([z, h]); KL += ½(z_K² − z_0²) − Σ ŝ.
      let z0 = z
      for k in 0..<steps {
        var input: [Double] = []
        for r in 0..<rows {
          let zRow = Array(z[(r * l)..<((r + 1) * l)])
          let hRow = Array(out[(r * width + 2 * l)..<(r * width + 2 * l + c)])
          input += zRow
          input += hRow
        }
        let o = networks[flowStart + k].forward(input, rows: rows).output
        for r in 0..<rows {
          for j in 0..<l {
            let sh = min(max(o[r * 2 * l + l + j], lo), hi)
            z[r * l + j] = z[r * l + j] * Portable.exp(sh) + o[r * 2 * l + j]
            total -= sh
          }
        }
      }
      for i in z.indices { total += 0.5 * (z[i] * z[i] - z0[i] * z0[i]) }
    case .sylvester(let steps):
      // z ← z + A h(B z + b) with A, B lower triangular, diagonals tanh(bias); KL += ½(z_K² − z_0²) − log-det.
      let z0 = z
      for k in 0..<steps {
        let b = networks[flowStart + k].layers[0], a = networks[flowStart + k].layers[1]
        for r in 0..<rows {
          var h = [Double](repeating: 0, count: l)
          for j in 0..<l {
            var pre = out[r * width + 2 * l + k * l + j]
            for t in 0..<j { pre += z[r * l + t] * b.weights[t * l + j] }
            pre += tanhD(b.bias[j]) * z[r * l + j]
            h[j] = tanhD(pre)
          }
          for i in 0..<l {
            var next = z[r * l + i] + tanhD(a.bias[i]) * h[i]
            for j in 0..<i { next += h[j] * a.weights[j * l + i] }
            total -= Portable.log(1 + tanhD(a.bias[i]) * tanhD(b.bias[i]) * (1 - h[i] * h[i]))
            z[r * l + i] = next
          }
        }
      }
      for i in z.indices { total += 0.5 * (z[i] * z[i] - z0[i] * z0[i]) }
    }
    var params = networks[1].forward(z, rows: rows).output
    if architecture.context != nil {
      let contextInput = referenceContextInput(architecture, features: params, targets: targets, rows: rows)
      params = networks[2].forward(contextInput, rows: rows * p).output
    }
    for r in 0..<rows {
      total += ReferenceHeads.negativeLogLikelihood(
        architecture.likelihood, params: Array(params[(r * p * ppp)..<((r + 1) * p * ppp)]),
        pixels: Array(targets[(r * p)..<((r + 1) * p)]))
    }
    return total
  }

  /// The flow posteriors on two of the models above, with 3 latents: Householder with 1 and 2
  /// reflections, IAF with and without context.
  static let flowArchitectures: [Architecture] = [
    Posterior.householder(steps: 1), .householder(steps: 2), .iaf(steps: 2, hidden: 5, context: 2), .iaf(steps: 1, hidden: 4, context: 0),
    .sylvester(steps: 1), .sylvester(steps: 2),
  ].flatMap { posterior in
    [architectures[0], architectures[7]].map { base in
      var a = base
      a.latentCount = 3
      a.posterior = posterior
      return a
    }
  }

  /// A model whose IAF steps are not the identity: random (masked) output layers.
  static func randomFlowModel(_ architecture: Architecture, seed: UInt64) -> VAE {
    let model = VAE(randomWith: architecture, seed: seed)
    guard architecture.posterior.flowSteps > 0 else { return model }
    var generator = SeededGenerator(seed: seed + 1)
    let flows = model.flows.map { flow in
      let last = flow.layers[1]
      let random = MLP(sizes: [last.inCount, last.outCount], generator: &generator).layers[0]
      var first = flow.layers[0], scale: Float = 1
      if case .sylvester = architecture.posterior {
        // Diagonals away from 0, so that every term of the log-determinant is exercised.
        first.bias = (0..<first.outCount).map { Float($0 % 3 - 1) * 0.7 }
        first.weights = first.weights.map { $0 * 2 }
        scale = 3
      }
      return architecture.maskedFlow(MLP(layers: [first, DenseLayer(inCount: last.inCount, outCount: last.outCount,
                                                                    weights: random.weights, bias: random.weights.prefix(last.outCount).map { $0 * scale })]))
    }
    return VAE(architecture: architecture, name: "test", summary: "", figures: model.figures, encoder: model.encoder,
               decoder: model.decoder, context: model.context, rows: model.rows, flows: flows)
  }

  @Test(arguments: architectures + flowArchitectures)
  func objectiveGradientMatchesFiniteDifferences(_ architecture: Architecture) {
    let likelihood = architecture.likelihood
    let what = architecture.headName + " " + architecture.posterior.description
    let model = Self.randomFlowModel(architecture, seed: 21)
    let rows = 3, p = architecture.pixelCount, l = architecture.latentCount
    var generator = SeededGenerator(seed: 22)
    var targets = (0..<(rows * p)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    targets[0] = 0
    targets[1] = 255
    if likelihood.isBinary { targets = targets.map { $0 >= 128 ? 1 : 0 } }
    let input = targets.withUnsafeBufferPointer { model.encoderInput(pixels: $0, count: rows) }
    let epsilon = (0..<(rows * l)).map { _ in Float(generator.nextGaussian()) }
    let networks = [model.encoder, model.decoder] + (model.context.map { [$0] } ?? []) + model.flows
    let result = Objective.evaluate(
      architecture: architecture, encoder: model.encoder, decoder: model.decoder, context: model.context,
      flows: model.flows, flowsTransposed: model.flows.map { $0.transposedWeights() },
      transposed: (encoder: model.encoder.transposedWeights(), decoder: model.decoder.transposedWeights(),
                   context: model.context?.transposedWeights() ?? []),
      input: input, targets: targets, epsilon: epsilon, rows: rows)
    let gradients = [result.encoder, result.decoder] + (result.context.map { [$0] } ?? []) + result.flows
    #expect(gradients.count == networks.count, "\(what): \(gradients.count) gradients for \(networks.count) networks")

    let reference = networks.map(ReferenceMLP.init)
    let x = input.map(Double.init)
    func loss(_ n: [ReferenceMLP]) -> Double {
      Self.referenceLoss(architecture, networks: n, input: x, targets: targets, epsilon: epsilon, rows: rows)
    }
    let value = loss(reference)
    #expect(abs(result.reconstruction + result.kl - value) <= 1e-5 * abs(value),
            "\(what): −ELBO \(result.reconstruction + result.kl) vs reference \(value)")

    // Truncation (h² f‴) and rounding (1e-16 · |L| / h) are both below 1e-8; the tolerance
    // covers the Float forward and backward passes of `Objective` (the largest error seen was
    // below 1/20 of it, for gradients up to ~170).
    let h = 1e-5
    let tolerance = Tolerance(absolute: 1e-5, relative: 1e-4)
    let names = ["encoder", "decoder"] + (model.context == nil ? [] : ["context"]) + model.flows.indices.map { "flow\($0)" }
    let firstFlow = names.count - model.flows.count
    for (n, network) in zip(reference.indices, reference) where n < gradients.count {
      for layer in network.layers.indices {
        for isWeight in [true, false] {
          let count = isWeight ? network.layers[layer].weights.count : network.layers[layer].bias.count
          for i in 0..<count {
            // A MADE's masked weights are held at 0, their gradients masked.
            if n >= firstFlow && isWeight && network.layers[layer].weights[i] == 0 {
              #expect(gradients[n].layers[layer].weights[i] == 0, "\(what) \(names[n]) masked weight \(i) has a gradient")
              continue
            }
            var plus = reference, minus = reference
            if isWeight {
              plus[n].layers[layer].weights[i] += h
              minus[n].layers[layer].weights[i] -= h
            } else {
              plus[n].layers[layer].bias[i] += h
              minus[n].layers[layer].bias[i] -= h
            }
            let numeric = (loss(plus) - loss(minus)) / (2 * h)
            let g = isWeight ? gradients[n].layers[layer].weights[i] : gradients[n].layers[layer].bias[i]
            #expect(tolerance.accepts(analytic: Double(g), numeric: numeric),
                    "\(what) \(names[n]) layer \(layer) \(isWeight ? "weight" : "bias") \(i): \(g) vs finite difference \(numeric)")
          }
        }
      }
    }
  }
}
