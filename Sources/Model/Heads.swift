import PortableMath
import Hashing
/// The likelihood heads' negative log-likelihood −log p(x | raw parameters), in nats, and its
/// gradient with respect to the raw decoder outputs, computed stably in Double.
///
/// These are the training loss and the evaluation's reconstruction term. The coder does not
/// call them: it builds integer frequencies from the same raw outputs with the formulas of
/// `Likelihood` (docs/MODEL_FORMAT.md). The values here are the exact log-probabilities of
/// those formulas, written in forms that do not overflow or cancel.
package enum Heads {
  /// −log p(x | params) for one image, summed over its pixels, in nats.
  /// - Parameters:
  ///   - params: pixelCount × parametersPerPixel raw outputs, pixel-major.
  ///   - pixels: pixelCount values (0...255, or 0/1 for Bernoulli, where any non-zero is 1).
  ///   - gradient: if non-nil, receives ∂(−log p)/∂params (same layout), overwritten.
  package static func negativeLogLikelihood(
    _ likelihood: Likelihood, params: UnsafePointer<Float>, pixels: UnsafePointer<UInt8>, pixelCount: Int,
    gradient: UnsafeMutablePointer<Float>?
  ) -> Double {
    switch likelihood {
    case .bernoulli:
      return bernoulli(params: params, pixels: pixels, pixelCount: pixelCount, gradient: gradient)
    case .betaBinomial:
      return betaBinomial(params: params, pixels: pixels, pixelCount: pixelCount, gradient: gradient)
    case .logisticMixture(let k):
      return logisticMixture(components: k, params: params, pixels: pixels, pixelCount: pixelCount, gradient: gradient)
    }
  }

  // MARK: Bernoulli

  /// −log p(x) = softplus(ℓ) − x·ℓ;  ∂/∂ℓ = σ(ℓ) − x.
  static func bernoulli(params: UnsafePointer<Float>, pixels: UnsafePointer<UInt8>, pixelCount: Int,
                        gradient: UnsafeMutablePointer<Float>?) -> Double {
    var total = 0.0
    for p in 0..<pixelCount {
      let l = Double(params[p])
      let x: Double = pixels[p] != 0 ? 1 : 0
      total += Portable.softplus(l) - x * l
      gradient?[p] = Float(Portable.sigmoid(l) - x)
    }
    return total
  }

  // MARK: Beta-binomial

  static let trials = 255
  /// ln C(255, x) for x in 0...255.
  static let logBinomial: [Double] = (0...255).map {
    Portable.lgamma(256) - Portable.lgamma(Double($0) + 1) - Portable.lgamma(Double(256 - $0))
  }

  /// log P(x) = ln C(n,x) + lnΓ(x+α) + lnΓ(n−x+β) − lnΓ(n+α+β) − lnΓ(α) − lnΓ(β) + lnΓ(α+β);
  /// ∂/∂α = ψ(x+α) − ψ(n+α+β) − ψ(α) + ψ(α+β), and ∂α/∂a = α inside the clamp, 0 outside.
  static func betaBinomial(params: UnsafePointer<Float>, pixels: UnsafePointer<UInt8>, pixelCount: Int,
                           gradient: UnsafeMutablePointer<Float>?) -> Double {
    let n = Double(trials), bound = Likelihood.betaBinomialLogBound
    var total = 0.0
    for p in 0..<pixelCount {
      let a = Double(params[2 * p]), b = Double(params[2 * p + 1])
      let ca = min(max(a, -bound), bound), cb = min(max(b, -bound), bound)
      let alpha = Portable.exp(ca), beta = Portable.exp(cb)
      let x = Double(pixels[p])
      let logP = logBinomial[Int(pixels[p])]
        + Portable.lgamma(x + alpha) + Portable.lgamma(n - x + beta) - Portable.lgamma(n + alpha + beta)
        - Portable.lgamma(alpha) - Portable.lgamma(beta) + Portable.lgamma(alpha + beta)
      total -= logP
      if let gradient {
        let common = digamma(alpha + beta) - digamma(n + alpha + beta)
        let dAlpha = digamma(x + alpha) - digamma(alpha) + common
        let dBeta = digamma(n - x + beta) - digamma(beta) + common
        gradient[2 * p] = (a > -bound && a < bound) ? Float(-alpha * dAlpha) : 0
        gradient[2 * p + 1] = (b > -bound && b < bound) ? Float(-beta * dBeta) : 0
      }
    }
    return total
  }

  /// The digamma function ψ = Γ'/Γ for x > 0 (training only): recurrence ψ(x) = ψ(x+1) − 1/x
  /// up to x ≥ 6, then the asymptotic series ln x − 1/2x − Σ B_2k / (2k x^2k).
  package static func digamma(_ x0: Double) -> Double {
    var x = x0, shift = 0.0
    while x < 6 { shift -= 1 / x; x += 1 }
    let inv = 1 / x, inv2 = inv * inv
    let series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 * (1.0 / 132)))))
    return shift + Portable.log(x) - 0.5 * inv - series
  }

  // MARK: Logistic mixture

  /// Per component, with a = (e⁺ − μ)/s, b = (e⁻ − μ)/s, d = a − b = 2h/s:
  ///   log mass = log σ(a) + log σ(−b) + log(1 − e^{−d})   (σ(a) − σ(b) = σ(a) σ(−b) (1 − e^{b−a})),
  ///   log σ(a) alone at x = 0 (e⁻ = −∞), log σ(−b) alone at x = 255 (e⁺ = +∞);
  /// then log P = logsumexp_k(log π_k + log mass_k). No subtraction of close probabilities.
  static func logisticMixture(components k: Int, params: UnsafePointer<Float>, pixels: UnsafePointer<UInt8>,
                              pixelCount: Int, gradient: UnsafeMutablePointer<Float>?) -> Double {
    let h = 1.0 / 255
    let minLogScale = Likelihood.logisticMinLogScale
    var logPi = [Double](repeating: 0, count: k)
    var joint = [Double](repeating: 0, count: k)
    var dMu = [Double](repeating: 0, count: k)
    var dLogScale = [Double](repeating: 0, count: k)
    var total = 0.0
    for p in 0..<pixelCount {
      let base = params + 3 * k * p
      let xi = Int(pixels[p])
      let c = Double(xi) / 127.5 - 1
      // log π = logits − logsumexp(logits).
      var maxLogit = -Double.infinity
      for j in 0..<k { maxLogit = max(maxLogit, Double(base[j])) }
      var sum = 0.0
      for j in 0..<k { sum += Portable.exp(Double(base[j]) - maxLogit) }
      let logNorm = maxLogit + Portable.log(sum)
      for j in 0..<k {
        logPi[j] = Double(base[j]) - logNorm
        let mu = Double(base[k + j])
        let rawL = Double(base[2 * k + j])
        let l = max(rawL, minLogScale)
        let invS = Portable.exp(-l)
        var logMass = 0.0, dm = 0.0, dl = 0.0
        if xi > 0 {
          // −b = (μ − e⁻)/s; ∂ log σ(−b)/∂b = −σ(b).
          let b = (c - h - mu) * invS
          let sb = Portable.sigmoid(b)
          logMass += Portable.logSigmoid(-b)
          dm += sb * invS           // ∂b/∂μ = −1/s
          dl += b * sb              // ∂b/∂ℓ = −b
        }
        if xi < 255 {
          let a = (c + h - mu) * invS
          let sna = Portable.sigmoid(-a)
          logMass += Portable.logSigmoid(a)
          dm -= sna * invS
          dl -= a * sna
        }
        if xi > 0 && xi < 255 {
          // log(1 − e^{−d}) and d·∂/∂d = d e^{−d} / (1 − e^{−d}); ∂d/∂ℓ = −d.
          let d = 2 * h * invS
          let oneMinus = d < 0.01
            ? d * (1 - d / 2 * (1 - d / 3 * (1 - d / 4 * (1 - d / 5))))
            : 1 - Portable.exp(-d)
          logMass += Portable.log(oneMinus)
          dl -= d * (1 - oneMinus) / oneMinus
        }
        joint[j] = logPi[j] + logMass
        dMu[j] = dm
        dLogScale[j] = rawL > minLogScale ? dl : 0
      }
      var maxJoint = -Double.infinity
      for j in 0..<k { maxJoint = max(maxJoint, joint[j]) }
      var s = 0.0
      for j in 0..<k { s += Portable.exp(joint[j] - maxJoint) }
      let logP = maxJoint + Portable.log(s)
      total -= logP
      if let gradient {
        let g = gradient + 3 * k * p
        for j in 0..<k {
          let r = Portable.exp(joint[j] - logP)      // responsibility
          g[j] = Float(Portable.exp(logPi[j]) - r)    // ∂(−log P)/∂logit_j = π_j − r_j
          g[k + j] = Float(-r * dMu[j])
          g[2 * k + j] = Float(-r * dLogScale[j])
        }
      }
    }
    return total
  }
}
