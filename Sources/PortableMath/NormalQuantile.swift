// The inverse of the standard normal CDF.

extension Portable {
  /// Φ⁻¹(p), the standard normal quantile, for p in (0, 1), with relative error below 1e-14;
  /// −∞ at 0, +∞ at 1, NaN outside [0, 1].
  ///
  /// It is exactly antisymmetric: normalQuantile(1 − p) == −normalQuantile(p) bit for bit
  /// whenever 1 − p is exact (p ≥ 1/2, or p a multiple of 2^−53), because p > 1/2 is answered
  /// as −Φ⁻¹(1 − p).
  ///
  /// Method: a start from Abramowitz & Stegun 26.2.23 (absolute error < 4.5e-4), then three
  /// Halley steps x ← x − u/(1 + x·u/2) with u = (Φ(x) − p)/φ(x), computed with this module's
  /// Φ: near the centre as (Φ(x) − 1/2) − (p − 1/2), with no cancellation against 1/2; in the
  /// tail as u = M(t)·(1 − p/Φ(x)), with Φ(x) kept as a scaled pair so that even subnormal p
  /// get a relative step. Halley's step triples the number of correct digits; three are one
  /// more than needed, and their count is fixed so that the result is deterministic.
  public static func normalQuantile(_ p: Double) -> Double {
    if !(p > 0 && p < 1) {
      if p == 0 { return -.infinity }
      if p == 1 { return .infinity }
      return .nan
    }
    if p > 0.5 {
      return -lowerNormalQuantile(1 - p)  // 1 − p is exact for p in [1/2, 1]
    }
    if p == 0.5 {
      return 0
    }
    return lowerNormalQuantile(p)
  }

  /// Φ⁻¹(q) for q in (0, 1/2).
  static func lowerNormalQuantile(_ q: Double) -> Double {
    // Abramowitz & Stegun 26.2.23: x ≈ −(t − (c0 + c1·t + c2·t²)/(1 + d1·t + d2·t² + d3·t³)),
    // t = √(−2·log q).
    let t = (-2 * log(q)).squareRoot()
    let numerator = 2.515517 + t * (0.802853 + t * 0.010328)
    let denominator = 1 + t * (1.432788 + t * (0.189269 + t * 0.001308))
    var x = numerator / denominator - t
    let sqrt2Pi = 0x1.40d931ff62706p+1
    for _ in 0..<3 {
      let u: Double
      if x > -1 {
        // u = (Φ(x) − q)/φ(x), φ(x) = e^(−x²/2)/√(2π)
        let f = normalCentral(x) - (q - 0.5)
        u = f * sqrt2Pi / exp(-0.5 * (x * x))
      } else {
        // Φ(x) = m·2^k, M = Φ(x)/φ(x) = G·√(2π): u = M·(1 − q/Φ(x))
        let tail = normalLowerTail(-x)
        let ratio = scale(q, -tail.exponent) / tail.mantissa
        u = (tail.g * sqrt2Pi) * (1 - ratio)
      }
      x -= u / (1 + 0.5 * x * u)
    }
    return x
  }
}
