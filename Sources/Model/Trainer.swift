import PortableMath
import Hashing
import Dispatch

/// The settings of a training run.
public struct TrainingOptions: Equatable, Sendable {
  public var batchSize = 64
  public var learningRate = 1e-3
  /// Decoupled weight decay (AdamW, Loshchilov and Hutter 2019) on the weights, not the biases.
  public var weightDecay = 0.0
  /// The learning rate decays exponentially per epoch, from `learningRate` in the first epoch
  /// to `learningRate × finalLearningRateFraction` in the last.
  public var finalLearningRateFraction = 0.1
  public var epochs = 10
  public var seed: UInt64 = 0
  /// Each batch is split over this many threads; the same seed, data and thread count give
  /// the same weights bit for bit.
  public var threads = 2
  /// KL warm-up: the KL term's weight in the gradient rises linearly from 1/(n+1) to 1 over
  /// the first n epochs (0: no warm-up). Reported figures are always the full −ELBO.
  public var klWarmupEpochs = 0
  /// Polyak averaging: besides the weights Adam moves, keep an exponential moving average of
  /// them, updated after every step with the decay min(d, (1 + t)/(10 + t)) at step t, so that
  /// the first steps do not leave the initial weights in it (0: no average).
  public var averageDecay = 0.0
  /// Data augmentation: each training image is moved by (dy, dx), each uniform in −shift…shift,
  /// drawn anew per image and epoch; pixels moved in from outside are 0 (0: no shift).
  public var shift = 0

  public init() {}
}

/// Trains a VAE with Adam (Kingma and Ba, 2015) on the continuous −ELBO (`Objective`).
///
/// Determinism: the shuffles, the binarization of Bernoulli data and the noise ε come from
/// generators derived from the seed; each batch is cut into `threads` shards of consecutive
/// rows, and the shards' gradients are added in shard order.
public struct Trainer {
  public let architecture: Architecture
  public let options: TrainingOptions
  package private(set) var encoder: MLP
  package private(set) var decoder: MLP
  package private(set) var context: MLP?
  package private(set) var rows: RowNetworks?
  package private(set) var flows: [MLP]
  /// Adam's moments, layers of the same shapes as `parts` (encoder, decoder, context, row
  /// summary, flow steps).
  private var firstMoment: [[DenseLayer]]
  private var secondMoment: [[DenseLayer]]
  /// The moving average of the weights (as `parts`) when `averageDecay` > 0.
  private var average: [[DenseLayer]]?
  private var step = 0

  public init(architecture: Architecture, options: TrainingOptions) {
    precondition(options.batchSize >= 1 && options.threads >= 1 && options.epochs >= 1, "Trainer: batch size, threads and epochs must be positive")
    let initial = VAE(randomWith: architecture, seed: options.seed)
    self.init(starting: initial, options: options)
  }

  /// Continues training from `model`'s weights (fresh Adam moments).
  public init(starting model: VAE, options: TrainingOptions) {
    architecture = model.architecture
    self.options = options
    encoder = model.encoder
    decoder = model.decoder
    context = model.context
    rows = model.rows
    // A MADE's masked weights stay 0: their gradients are masked, and Adam and the decay keep 0 at 0.
    flows = model.architecture.posterior.flowSteps == 0 ? [] : model.flows.map(model.architecture.maskedFlow)
    let networks = Self.parts(encoder: model.encoder, decoder: model.decoder, context: model.context, rows: model.rows, flows: flows)
    let zeros = networks.map { $0.map { $0.zeros() } }
    firstMoment = zeros
    secondMoment = zeros
    if options.averageDecay > 0 { average = networks }
  }

  /// Every network's layers, in a fixed order: encoder, decoder, then the context network, the
  /// row summary and the flow's steps when the model has them.
  static func parts(encoder: MLP, decoder: MLP, context: MLP?, rows: RowNetworks?, flows: [MLP]) -> [[DenseLayer]] {
    [encoder.layers, decoder.layers] + (context.map { [$0.layers] } ?? []) + (rows.map { [$0.layers] } ?? [])
      + flows.map(\.layers)
  }

  /// The networks of `parts` (`parts`' order) for this trainer's architecture.
  private func networks(_ parts: [[DenseLayer]]) -> (encoder: MLP, decoder: MLP, context: MLP?, rows: RowNetworks?, flows: [MLP]) {
    var next = 2
    var context: MLP?, rows: RowNetworks?
    if architecture.context != nil { context = MLP(layers: parts[next]); next += 1 }
    if architecture.context?.rows != nil { rows = RowNetworks(state: parts[next][0], global: parts[next][1]); next += 1 }
    return (MLP(layers: parts[0]), MLP(layers: parts[1]), context, rows, parts[next...].map { MLP(layers: $0) })
  }

  /// A model of this trainer's architecture from `parts`' layers.
  private func model(_ parts: [[DenseLayer]], name: String, summary: String, figures: NegativeELBO) -> VAE {
    let n = networks(parts)
    return VAE(architecture: architecture, name: name, summary: summary, figures: figures, encoder: n.encoder,
               decoder: n.decoder, context: n.context, rows: n.rows, flows: n.flows)
  }

  /// The current weights as a model.
  public func model(name: String, summary: String, figures: NegativeELBO) -> VAE {
    VAE(architecture: architecture, name: name, summary: summary, figures: figures, encoder: encoder, decoder: decoder,
        context: context, rows: rows, flows: flows)
  }

  /// The moving average of the weights as a model (nil when `averageDecay` is 0).
  public func averagedModel(name: String, summary: String, figures: NegativeELBO) -> VAE? {
    average.map { model($0, name: name, summary: summary, figures: figures) }
  }

  /// The KL term's weight in epoch `epoch` (0-based): see `TrainingOptions.klWarmupEpochs`.
  public func klWeight(epoch: Int) -> Double {
    let n = options.klWarmupEpochs
    return epoch >= n ? 1 : Double(epoch + 1) / Double(n + 1)
  }

  /// The learning rate of epoch `epoch` (0-based).
  public func learningRate(epoch: Int) -> Double {
    let span = Double(max(options.epochs - 1, 1))
    return options.learningRate * Portable.exp(Double(min(epoch, options.epochs - 1)) / span * Portable.log(options.finalLearningRateFraction))
  }

  /// One pass over `count` images (pixels row-major, 0...255) in a seeded random order.
  /// Bernoulli models see a fresh stochastic binarization (1 with probability v/255) each epoch.
  /// - Parameters:
  ///   - progress: called after each batch with the number of images done.
  ///   - lossProgress: called after each batch with the number of images done and the mean
  ///     continuous −ELBO of the epoch so far, in bits/dim (what the return value will be once
  ///     every image is done).
  /// - Returns: the mean continuous −ELBO over the epoch's batches, in bits/dim.
  public mutating func trainEpoch(
    pixels: UnsafeBufferPointer<UInt8>, count: Int, epoch: Int, progress: ((Int) -> Void)? = nil,
    lossProgress: ((_ done: Int, _ soFar: NegativeELBO) -> Void)? = nil
  ) -> NegativeELBO {
    let p = architecture.pixelCount, l = architecture.latentCount
    precondition(count > 0 && pixels.count >= count * p, "Trainer.trainEpoch: \(pixels.count) pixels for \(count) images of \(p)")
    var order = Array(0..<count)
    var shuffler = SeededGenerator.derived(seed: options.seed, index: 3 * UInt64(epoch) + 1)
    order.shuffle(using: &shuffler)
    var binarizer = SeededGenerator.derived(seed: options.seed, index: 3 * UInt64(epoch) + 2)
    var noise = SeededGenerator.derived(seed: options.seed, index: 3 * UInt64(epoch) + 3)
    var shifter = SeededGenerator.derived(seed: options.seed, index: (1 << 40) + UInt64(epoch))
    let height = architecture.height, width = architecture.width, channels = architecture.channels
    let binary = architecture.likelihood.isBinary
    let lr = learningRate(epoch: epoch)
    var reconstruction = 0.0, kl = 0.0
    var start = 0
    while start < count {
      let rows = min(options.batchSize, count - start)
      var targets = [UInt8](repeating: 0, count: rows * p)
      for r in 0..<rows {
        let src = order[start + r] * p
        var dy = 0, dx = 0
        if options.shift > 0 {
          dy = Int(shifter.next() % UInt64(2 * options.shift + 1)) - options.shift
          dx = Int(shifter.next() % UInt64(2 * options.shift + 1)) - options.shift
        }
        for i in 0..<p {
          var v = pixels[src + i]
          if dy != 0 || dx != 0 {
            let y = i / (width * channels) - dy, x = (i / channels) % width - dx
            v = y >= 0 && y < height && x >= 0 && x < width ? pixels[src + (y * width + x) * channels + i % channels] : 0
          }
          targets[r * p + i] = binary ? (binarizer.nextUnit() * 255 < Double(v) ? 1 : 0) : v
        }
      }
      let input: [Float] = binary ? targets.map { Float($0) } : targets.map { Float($0) / 255 }
      let epsilon = (0..<(rows * l)).map { _ in Float(noise.nextGaussian()) }
      let result = gradients(input: input, targets: targets, epsilon: epsilon, rows: rows, klWeight: Float(klWeight(epoch: epoch)))
      reconstruction += result.reconstruction
      kl += result.kl
      applyAdam(result.shards, scale: 1 / Float(rows), learningRate: lr)
      start += rows
      progress?(start)
      if let lossProgress {
        let soFar = 1 / (Double(start * p) * Portable.log(2))
        lossProgress(start, NegativeELBO(reconstruction: reconstruction * soFar, kl: kl * soFar))
      }
    }
    let perDim = 1 / (Double(count * p) * Portable.log(2))
    return NegativeELBO(reconstruction: reconstruction * perDim, kl: kl * perDim)
  }

  /// The batch's loss and the per-shard gradients, shards computed in parallel.
  private func gradients(input: [Float], targets: [UInt8], epsilon: [Float], rows: Int, klWeight: Float)
    -> (reconstruction: Double, kl: Double, shards: [Objective.Result]) {
    let p = architecture.pixelCount, l = architecture.latentCount
    let shardCount = min(options.threads, rows)
    let transposed = (encoder: encoder.transposedWeights(), decoder: decoder.transposedWeights(),
                      context: context?.transposedWeights() ?? [])
    let flowsTransposed = flows.map { $0.transposedWeights() }
    let results = UnsafeMutableBufferPointer<Objective.Result?>.allocate(capacity: shardCount)
    results.initialize(repeating: nil)
    defer {
      _ = results.deinitialize()  // the shards hold arrays: release them
      results.deallocate()
    }
    let work: (Int) -> Void = { s in
      let lo = s * rows / shardCount, hi = (s + 1) * rows / shardCount
      results[s] = Objective.evaluate(
        architecture: architecture, encoder: encoder, decoder: decoder, context: context, rowNetworks: self.rows,
        flows: flows, flowsTransposed: flowsTransposed, transposed: transposed,
        input: Array(input[(lo * p)..<(hi * p)]), targets: Array(targets[(lo * p)..<(hi * p)]),
        epsilon: Array(epsilon[(lo * l)..<(hi * l)]), rows: hi - lo, klWeight: klWeight)
    }
    if shardCount == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: shardCount, execute: work) }
    let shards = results.map { $0! }
    // Losses added in shard order.
    var reconstruction = 0.0, kl = 0.0
    for s in shards { reconstruction += s.reconstruction; kl += s.kl }
    return (reconstruction, kl, shards)
  }

  /// Adam with decoupled weight decay; the gradient is (Σ_shards g_s, in shard order) · scale.
  private mutating func applyAdam(_ shards: [Objective.Result], scale: Float, learningRate: Double) {
    step += 1
    let beta1: Float = 0.9, beta2: Float = 0.999
    var c1 = 1.0, c2 = 1.0
    for _ in 0..<step { c1 *= 0.9; c2 *= 0.999; if c2 == 0 { break } }
    let hyper = AdamStep(
      lr: Float(learningRate), beta1: beta1, beta2: beta2,
      correction1: Float(1 / (1 - c1)), correction2: Float(1 / (1 - c2)),
      scale: scale, epsilon: 1e-8, decay: Float(options.weightDecay))
    var networks = Self.parts(encoder: encoder, decoder: decoder, context: context, rows: rows, flows: flows)
    let shardParts = shards.map {
      Self.parts(encoder: $0.encoder, decoder: $0.decoder, context: $0.context, rows: $0.rows, flows: $0.flows)
    }
    // Leave the networks uniquely referenced, so that the updates below do not copy the tensors.
    encoder = MLP(layers: [])
    decoder = MLP(layers: [])
    context = nil
    rows = nil
    flows = []
    for part in networks.indices {
      for i in networks[part].indices {
        for weights in [true, false] {
          let grads: [[Float]] = shardParts.map { weights ? $0[part][i].weights : $0[part][i].bias }
          if weights {
            hyper.apply(param: &networks[part][i].weights, m: &firstMoment[part][i].weights,
                        v: &secondMoment[part][i].weights, grads: grads, decay: true, threads: options.threads)
          } else {
            hyper.apply(param: &networks[part][i].bias, m: &firstMoment[part][i].bias,
                        v: &secondMoment[part][i].bias, grads: grads, decay: false, threads: options.threads)
          }
        }
      }
    }
    (encoder, decoder, context, rows, flows) = self.networks(networks)
    if average != nil { updateAverage(networks) }
  }

  /// a ← a + (1 − d)(w − a), elementwise, with d = min(averageDecay, (1 + t)/(10 + t)).
  private mutating func updateAverage(_ networks: [[DenseLayer]]) {
    let t = Double(step)
    let rate = Float(1 - min(options.averageDecay, (1 + t) / (10 + t)))
    var averaged = average!
    average = nil
    for part in networks.indices {
      for i in networks[part].indices {
        Self.moveAverage(&averaged[part][i].weights, towards: networks[part][i].weights, rate: rate)
        Self.moveAverage(&averaged[part][i].bias, towards: networks[part][i].bias, rate: rate)
      }
    }
    average = averaged
  }

  static func moveAverage(_ average: inout [Float], towards current: [Float], rate: Float) {
    precondition(average.count == current.count, "Trainer: the average and the weights differ in shape")
    current.withUnsafeBufferPointer { c in
      average.withUnsafeMutableBufferPointer { a in
        for i in a.indices { a[i] = a[i] + rate * (c[i] - a[i]) }
      }
    }
  }
}

/// One Adam update over one tensor, elementwise (so any split over threads gives the same result):
///   g = (Σ_s g_s)·scale;  m = β1 m + (1−β1) g;  v = β2 v + (1−β2) g²;
///   p = p − lr · (m·c1 / (√(v·c2) + ε) + decay · p).
private struct AdamStep {
  var lr, beta1, beta2, correction1, correction2, scale, epsilon, decay: Float

  func apply(param: inout [Float], m: inout [Float], v: inout [Float], grads: [[Float]], decay useDecay: Bool, threads: Int) {
    let n = param.count
    let wd: Float = useDecay ? decay : 0
    let gradPointers = grads.map { g in g.withUnsafeBufferPointer { $0.baseAddress! } }
    withExtendedLifetime(grads) {
      param.withUnsafeMutableBufferPointer { pp in
        m.withUnsafeMutableBufferPointer { mp in
          v.withUnsafeMutableBufferPointer { vp in
            let p0 = pp.baseAddress!, m0 = mp.baseAddress!, v0 = vp.baseAddress!
            let chunks = n >= 65536 ? threads : 1
            let body: (Int) -> Void = { c in
              let lo = c * n / chunks, hi = (c + 1) * n / chunks
              for i in lo..<hi {
                var g: Float = gradPointers[0][i]
                for s in 1..<gradPointers.count { g = g + gradPointers[s][i] }
                g = g * scale
                let mi = beta1 * m0[i] + (1 - beta1) * g
                let vi = beta2 * v0[i] + (1 - beta2) * g * g
                m0[i] = mi
                v0[i] = vi
                p0[i] = p0[i] - lr * (mi * correction1 / ((vi * correction2).squareRoot() + epsilon) + wd * p0[i])
              }
            }
            if chunks == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: chunks, execute: body) }
          }
        }
      }
    }
  }
}
