import PortableMath
import Hashing
import Dispatch

extension VAE {
  /// The discretized −ELBO of `count` images in bits/dim, as the bits-back coder will pay it:
  /// latents on the max-entropy buckets of `bucketBits`, a uniform prior over the buckets.
  ///
  /// Per image, one bucket i_j per latent is drawn from q (a draw z = μ + σε falls in bucket i
  /// with probability q_i), and the image costs what bits-back charges for that draw:
  ///
  ///     KL part:  Σ_j (k + log₂ q_{i_j}),   q_i = Φ((e_{i+1} − μ)/σ) − Φ((e_i − μ)/σ)
  ///     reconstruction part:  −log₂ p(x | the buckets' centres)
  ///
  /// Both are one-sample estimates of their expectations over q (the KL part's expectation is
  /// Σ_i q_i log₂(q_i 2^k)); over thousands of images the sampling error is far below 10⁻³
  /// bits/dim, and the cost is two evaluations of Φ per latent instead of one per bucket.
  /// The draw for image i uses a generator derived from (seed, i), so the figure does not
  /// depend on `threads` or on how images are batched. The coder pays this plus its
  /// quantization and initial bits.
  /// - Parameters:
  ///   - pixels: count × pixelCount values, 0...255 (0/1 for Bernoulli models).
  public func discretizedNegativeELBO(
    pixels: UnsafeBufferPointer<UInt8>, count: Int, seed: UInt64 = 0, threads: Int = 1
  ) -> NegativeELBO {
    let p = architecture.pixelCount
    precondition(count > 0 && pixels.count >= count * p, "discretizedNegativeELBO: \(pixels.count) pixels for \(count) images of \(p)")
    precondition(threads >= 1, "discretizedNegativeELBO: threads must be positive")
    let buckets = MaxEntropyBuckets(bits: architecture.bucketBits)
    let block = 50
    let blockCount = (count + block - 1) / block
    let sums = UnsafeMutableBufferPointer<(Double, Double)>.allocate(capacity: blockCount)
    sums.initialize(repeating: (0, 0))
    defer { sums.deallocate() }
    let work: (Int) -> Void = { t in
      var b = t
      while b < blockCount {
        let lo = b * block, hi = Swift.min(count, lo + block)
        let slice = UnsafeBufferPointer(rebasing: pixels[(lo * p)..<(hi * p)])
        sums[b] = self.discretizedBlock(pixels: slice, count: hi - lo, firstIndex: lo, seed: seed, buckets: buckets)
        b += threads
      }
    }
    if threads == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: threads, execute: work) }
    var reconstruction = 0.0, kl = 0.0
    for s in sums { reconstruction += s.0; kl += s.1 }
    let perDim = 1 / Double(count * p)
    return NegativeELBO(reconstruction: reconstruction * perDim, kl: kl * perDim)
  }

  /// Σ reconstruction bits and Σ KL bits of a block of images.
  private func discretizedBlock(
    pixels: UnsafeBufferPointer<UInt8>, count: Int, firstIndex: Int, seed: UInt64, buckets: MaxEntropyBuckets
  ) -> (Double, Double) {
    let l = architecture.latentCount, p = architecture.pixelCount, ppp = architecture.parametersPerPixel
    var latents = [Float](repeating: 0, count: count * l)
    var kl = 0.0
    if architecture.posterior.isFlow {
      // The flow's conditionals, dimension by dimension, each given the centres drawn before it,
      // as the coder pops them; image i's draws in dimension order, as for the diagonal posterior.
      var conditionals = PosteriorConditionals(model: self, out: posteriorOutputs(pixels: pixels, count: count), rows: count)
      var generators = (0..<count).map { SeededGenerator.derived(seed: seed, index: UInt64(firstIndex + $0)) }
      var bits = [Double](repeating: 0, count: count)
      var centres = [Double](repeating: 0, count: count)
      for j in 0..<l {
        conditionals.conditional(j)
        for i in 0..<count {
          let (b, bucket) = conditionals.maps.isEmpty
            ? VAE.sampledBucket(mean: conditionals.mean[i], sigma: conditionals.scale[i], buckets: buckets, generator: &generators[i])
            : VAE.sampledBucket(map: conditionals.maps[i], buckets: buckets, generator: &generators[i])
          bits[i] += b
          centres[i] = buckets.centres[bucket]
          latents[i * l + j] = Float(centres[i])
        }
        conditionals.fix(j, values: centres)
      }
      for b in bits { kl += b }
    } else {
      let (mean, logScale) = posterior(pixels: pixels, count: count)
      for i in 0..<count {
        var generator = SeededGenerator.derived(seed: seed, index: UInt64(firstIndex + i))
        for j in 0..<l {
          let (bits, bucket) = VAE.sampledBucket(
            mean: Double(mean[i * l + j]), logScale: Double(logScale[i * l + j]), buckets: buckets, generator: &generator)
          kl += bits
          latents[i * l + j] = Float(buckets.centres[bucket])
        }
      }
    }
    let outputs = latents.withUnsafeBufferPointer { likelihoodParameters(latents: $0, count: count) }
    let params = pixelParameters(decoderOutputs: outputs, pixels: pixels, count: count)
    var nats = 0.0
    params.withUnsafeBufferPointer { pp in
      for i in 0..<count {
        nats += Heads.negativeLogLikelihood(
          architecture.likelihood, params: pp.baseAddress! + i * p * ppp, pixels: pixels.baseAddress! + i * p,
          pixelCount: p, gradient: nil)
      }
    }
    return (nats / Portable.log(2), kl)
  }

  /// One bucket drawn from q = N(μ, σ²) over the buckets, and its bits-back cost k + log₂ q_i.
  /// The bucket's mass is computed on the side of the tail (Φ(−t) rather than 1 − Φ(t)), so
  /// that buckets far from μ keep their relative accuracy.
  static func sampledBucket(
    mean mu: Double, logScale: Double, buckets: MaxEntropyBuckets, generator: inout SeededGenerator
  ) -> (bits: Double, bucket: Int) {
    sampledBucket(mean: mu, sigma: Portable.exp(logScale), buckets: buckets, generator: &generator)
  }

  /// The same for q = N(μ, σ²) given σ.
  static func sampledBucket(
    mean mu: Double, sigma: Double, buckets: MaxEntropyBuckets, generator: inout SeededGenerator
  ) -> (bits: Double, bucket: Int) {
    let i = buckets.bucket(containing: mu + sigma * generator.nextGaussian())
    let q = gaussianMass(mean: mu, sigma: sigma, lower: buckets.edges[i], upper: buckets.edges[i + 1])
    return (Double(buckets.bits) + Portable.log2(Swift.max(q, 0x1p-1000)), i)
  }

  /// The same for a Sylvester conditional: the base variable drawn, mapped by G, its bucket's
  /// mass from the edges mapped back by G⁻¹ (infinite edges stay infinite).
  static func sampledBucket(
    map: SylvesterMap, buckets: MaxEntropyBuckets, generator: inout SeededGenerator
  ) -> (bits: Double, bucket: Int) {
    let i = buckets.bucket(containing: map.forward(map.mean + map.scale * generator.nextGaussian()))
    func base(_ edge: Double) -> Double { edge.isInfinite ? edge : map.inverse(edge) }
    let q = gaussianMass(mean: map.mean, sigma: map.scale, lower: base(buckets.edges[i]), upper: base(buckets.edges[i + 1]))
    return (Double(buckets.bits) + Portable.log2(Swift.max(q, 0x1p-1000)), i)
  }

  /// N(μ, σ²)'s mass on [lower, upper).
  static func gaussianMass(mean mu: Double, sigma: Double, lower: Double, upper: Double) -> Double {
    // The mass on the far side of an edge from μ (0 for an infinite edge).
    func tail(_ edge: Double) -> Double {
      if edge == -.infinity || edge == .infinity { return 0 }
      return edge < mu ? Portable.normalCDF((edge - mu) / sigma) : Portable.normalCDF((mu - edge) / sigma)
    }
    let q: Double
    if upper < mu { q = tail(upper) - tail(lower) }        // both edges below μ
    else if lower >= mu { q = tail(lower) - tail(upper) }  // both edges above μ
    else { q = 1 - tail(lower) - tail(upper) }             // μ inside the bucket
    return q
  }
}
