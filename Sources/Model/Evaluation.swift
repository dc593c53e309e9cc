import PortableMath
import Hashing
import Dispatch

extension VAE {
  /// The discretized −ELBO of `count` images in bits/dim, as the bits-back coder will pay it:
  /// latents on the max-entropy buckets of `bucketBits`, a uniform prior over the buckets.
  ///
  ///     KL part:  Σ_latents Σ_i q_i log₂(q_i · 2^k),   q_i = Φ((e_{i+1} − μ)/σ) − Φ((e_i − μ)/σ)
  ///     reconstruction part:  −log₂ p(x | bucket centres), one bucket per latent drawn from q
  ///
  /// The draw for image i uses a generator derived from (seed, i), so the figure does not
  /// depend on `threads` or on how images are batched. Buckets more than 9σ from μ (total
  /// mass below 10⁻¹⁸) are left out of the sums. The coder pays this plus its quantization and
  /// initial bits.
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
    let (mean, logScale) = posterior(pixels: pixels, count: count)
    var latents = [Float](repeating: 0, count: count * l)
    var kl = 0.0
    for i in 0..<count {
      var generator = SeededGenerator.derived(seed: seed, index: UInt64(firstIndex + i))
      for j in 0..<l {
        let (bits, bucket) = VAE.bucketKL(
          mean: Double(mean[i * l + j]), logScale: Double(logScale[i * l + j]), buckets: buckets, generator: &generator)
        kl += bits
        latents[i * l + j] = Float(buckets.centres[bucket])
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

  /// Σ_i q_i log₂(q_i · 2^k) over the buckets within 9σ of μ, and one bucket drawn from q.
  /// Tail masses are computed on the side of the tail (Φ(−t) rather than 1 − Φ(t)).
  static func bucketKL(
    mean mu: Double, logScale: Double, buckets: MaxEntropyBuckets, generator: inout SeededGenerator
  ) -> (bits: Double, bucket: Int) {
    let sigma = Portable.exp(logScale)
    let k = Portable.log2(Double(buckets.count))
    let first = buckets.bucket(containing: mu - 9 * sigma), last = buckets.bucket(containing: mu + 9 * sigma)
    // tail[e] = the mass on the far side of edge e from μ: Φ((e − μ)/σ) below μ, Φ((μ − e)/σ) above.
    var tail = [Double](repeating: 0, count: last - first + 2)
    for e in first...(last + 1) {
      let edge = buckets.edges[e]
      if edge == -.infinity || edge == .infinity { continue }
      tail[e - first] = edge < mu ? Portable.normalCDF((edge - mu) / sigma) : Portable.normalCDF((mu - edge) / sigma)
    }
    var masses = [Double](repeating: 0, count: last - first + 1)
    var bits = 0.0, total = 0.0
    for i in first...last {
      let lower = buckets.edges[i], upper = buckets.edges[i + 1]
      let tl = tail[i - first], tu = tail[i + 1 - first]
      let q: Double
      if upper < mu { q = tu - tl }           // both edges below μ
      else if lower >= mu { q = tl - tu }     // both edges above μ
      else { q = 1 - tl - tu }                // μ inside the bucket
      masses[i - first] = q
      total += q
      if q > 0 { bits += q * (Portable.log2(q) + k) }
    }
    var u = generator.nextUnit() * total
    for (offset, q) in masses.enumerated() {
      if u < q { return (bits, first + offset) }
      u -= q
    }
    return (bits, last)
  }
}
