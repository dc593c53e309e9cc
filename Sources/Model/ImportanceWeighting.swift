import PortableMath
import Dispatch

/// The importance-weighted bound on −log₂ p(x) and the −ELBO from the same samples, in bits/dim.
///
/// The −ELBO is −log p(x) + KL(q(z|x) ‖ p(z|x)); the bound lies between −log p(x) and the
/// −ELBO and comes closer to −log p(x) as the samples grow, so `gap` (−ELBO − bound) is a lower
/// bound on KL(q(z|x) ‖ p(z|x)): the posterior's share of the −ELBO, and the most that a
/// richer posterior of the same decoder could save. The gap reaches it as k → ∞.
public struct ImportanceWeightedBound: Equatable, Sendable {
  /// The continuous −ELBO, the average over the samples of −log₂ p(x|z) (reconstruction) and
  /// log₂ q(z|x) − log₂ p(z) (KL), in bits/dim.
  public var negativeELBO: NegativeELBO
  /// The IWAE bound −log₂ (1/k Σ_s p(x|z_s) p(z_s) / q(z_s|x)), in bits/dim.
  public var bound: Double
  /// Samples per image, k.
  public var samples: Int

  /// −ELBO − bound, in bits/dim: never negative (per image, by Jensen's inequality; up to
  /// rounding), 0 for k = 1, and in expectation growing with k.
  public var gap: Double { negativeELBO.total - bound }

  public init(negativeELBO: NegativeELBO, bound: Double, samples: Int) {
    self.negativeELBO = negativeELBO
    self.bound = bound
    self.samples = samples
  }
}

extension VAE {
  /// The importance-weighted (IWAE) bound on −log₂ p(x) with `samples` samples per image, and
  /// the continuous −ELBO from the same samples, averaged over `count` images, in bits/dim
  /// (Burda, Grosse and Salakhutdinov 2016, "Importance weighted autoencoders"):
  ///
  ///     z_s = μ + σ ε_s,  ε_s ~ N(0, I),  s = 1…k
  ///     log w_s = log p(x|z_s) + log p(z_s) − log q(z_s|x)
  ///     bound = −log (1/k Σ_s w_s) ≤ −ELBO estimate = −(1/k) Σ_s log w_s
  ///
  /// with p(z) = N(0, I), q the diagonal posterior of `posterior(pixels:count:)` and p(x|z)
  /// the likelihood of the decoder at z (through the context head, where there is one).
  /// For k = 1 the two are equal; as k grows the bound falls towards −log p(x).
  ///
  /// This is a bound for the **continuous-latent** model, the one that training fits. The
  /// coder pays `discretizedNegativeELBO`: the latents on buckets, the decoder at the buckets'
  /// centres. Neither quantity bounds the other exactly, but over the built-in models the two
  /// −ELBOs differ by far less than the gap that the bound reveals (docs/MODELS.md).
  ///
  /// The samples of image i come from a generator derived from (seed, i), drawn k × latents in
  /// order, so the figures do not depend on `threads`, and the first k of a larger k are the
  /// same samples. The sum over samples is a log-sum-exp in Double with `Portable` functions.
  /// - Parameters:
  ///   - pixels: count × pixelCount values, 0...255 (0/1 for Bernoulli models).
  ///   - samples: k ≥ 1, the importance samples per image.
  ///   - threads: images are split over this many threads; the sums run in image order.
  /// - Complexity: count × k decoder passes (the samples of an image go through in batches).
  public func importanceWeightedBound(
    pixels: UnsafeBufferPointer<UInt8>, count: Int, samples: Int, seed: UInt64 = 0, threads: Int = 1
  ) -> ImportanceWeightedBound {
    let p = architecture.pixelCount
    precondition(count > 0 && pixels.count >= count * p, "importanceWeightedBound: \(pixels.count) pixels for \(count) images of \(p)")
    precondition(samples >= 1, "importanceWeightedBound: samples must be positive (got \(samples))")
    precondition(threads >= 1, "importanceWeightedBound: threads must be positive")
    // Per image, in nats: (Σ_s −log p(x|z_s), Σ_s log q − log p, −log Σ_s w_s + log k).
    let results = UnsafeMutableBufferPointer<(Double, Double, Double)>.allocate(capacity: count)
    results.initialize(repeating: (0, 0, 0))
    defer { results.deallocate() }
    let work: (Int) -> Void = { t in
      var i = t
      while i < count {
        let image = UnsafeBufferPointer(rebasing: pixels[(i * p)..<((i + 1) * p)])
        results[i] = self.importanceWeights(image: image, index: i, samples: samples, seed: seed)
        i += threads
      }
    }
    if threads == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: threads, execute: work) }
    var reconstruction = 0.0, kl = 0.0, bound = 0.0
    for r in results {
      reconstruction += r.0
      kl += r.1
      bound += r.2
    }
    let perDim = 1 / (Double(count * p) * Portable.log(2))
    let k = Double(samples)
    return ImportanceWeightedBound(
      negativeELBO: NegativeELBO(reconstruction: reconstruction / k * perDim, kl: kl / k * perDim),
      bound: bound * perDim, samples: samples)
  }

  /// Samples per decoder batch in `importanceWeights`: a fixed number, so that no figure
  /// depends on how many samples are asked for beyond which ones they are.
  static let importanceBatch = 100

  /// One image's Σ_s −log p(x|z_s), Σ_s (log q(z_s|x) − log p(z_s)) and −log (1/k Σ_s w_s),
  /// in nats.
  private func importanceWeights(
    image: UnsafeBufferPointer<UInt8>, index: Int, samples: Int, seed: UInt64
  ) -> (Double, Double, Double) {
    let l = architecture.latentCount, p = architecture.pixelCount, ppp = architecture.parametersPerPixel
    let (mean, logScale) = posterior(pixels: image, count: 1)
    let flowOutputs = architecture.posterior.isFlow ? posteriorOutputs(pixels: image, count: 1) : []
    var generator = SeededGenerator.derived(seed: seed, index: UInt64(index))
    var logWeights = [Double](repeating: 0, count: samples)
    var reconstruction = 0.0, kl = 0.0
    let batch = Swift.min(samples, Self.importanceBatch)
    let repeated = [UInt8]((0..<batch).flatMap { _ in image })
    var latents = [Float](repeating: 0, count: batch * l)
    for start in Swift.stride(from: 0, to: samples, by: batch) {
      let rows = Swift.min(batch, samples - start)
      // log q(z|x) − log p(z) per sample; the log √(2π) terms cancel.
      var logRatio = [Double](repeating: 0, count: rows)
      if architecture.posterior.isFlow {
        // The flow's sample and its log q − log p, from the same draws in the same order.
        let epsilon = (0..<(rows * l)).map { _ in Float(generator.nextGaussian()) }
        let pass = PosteriorPass(architecture: architecture, flows: flows, out: [Float]((0..<rows).flatMap { _ in flowOutputs }),
                                 epsilon: epsilon, rows: rows)
        for i in 0..<(rows * l) { latents[i] = pass.z[i] }
        logRatio = pass.logRatio
      } else {
      for r in 0..<rows {
        var sum = 0.0
        for j in 0..<l {
          let mu = Double(mean[j]), sigma = Portable.exp(Double(logScale[j]))
          let z = Float(mu + sigma * generator.nextGaussian())
          latents[r * l + j] = z
          let e = (Double(z) - mu) / sigma, zz = Double(z)
          sum += -0.5 * e * e - Double(logScale[j]) + 0.5 * zz * zz
        }
        logRatio[r] = sum
      }
      }
      let outputs = latents.withUnsafeBufferPointer {
        likelihoodParameters(latents: UnsafeBufferPointer(rebasing: $0[0..<(rows * l)]), count: rows)
      }
      repeated.withUnsafeBufferPointer { all in
        let imagePixels = UnsafeBufferPointer(rebasing: all[0..<(rows * p)])
        let params = pixelParameters(decoderOutputs: outputs, pixels: imagePixels, count: rows)
        params.withUnsafeBufferPointer { pp in
          for r in 0..<rows {
            let nll = Heads.negativeLogLikelihood(
              architecture.likelihood, params: pp.baseAddress! + r * p * ppp, pixels: all.baseAddress! + r * p,
              pixelCount: p, gradient: nil)
            reconstruction += nll
            kl += logRatio[r]
            logWeights[start + r] = -nll - logRatio[r]
          }
        }
      }
    }
    // −log (1/k Σ_s w_s) = −(m + log Σ_s exp(log w_s − m)) + log k, m = max_s log w_s.
    let m = logWeights.max()!
    guard m > -.infinity else { return (reconstruction, kl, .infinity) }
    var sum = 0.0
    for w in logWeights { sum += Portable.exp(w - m) }
    let bound = -(m + Portable.log(sum)) + Portable.log(Double(samples))
    return (reconstruction, kl, bound)
  }
}
