// The logistic family and tanh for Double: sigmoid, logSigmoid, softplus, tanh.

extension Portable {
  /// The logistic function σ(x) = 1/(1 + e^−x), within about 1 ulp and stable for all x:
  /// with e = e^−|x|, it is 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0 (relative accuracy
  /// in the lower tail, no overflow). The rounding error of 1 + e is recovered exactly
  /// (Fast2Sum) and corrected for: n/(d + δ) ≈ q − q·δ/d with q = n/d.
  public static func sigmoid(_ x: Double) -> Double {
    let e = x >= 0 ? exp(-x) : exp(x)  // NaN goes the second way and stays NaN
    let d = 1 + e
    let delta = (1 - d) + e  // 1 + e = d + δ exactly
    let q = (x >= 0 ? 1 : e) / d
    return q - q * (delta / d)
  }

  /// log σ(x) = −softplus(−x), stable for all x: ≈ x for very negative x, ≈ −e^−x for large x.
  public static func logSigmoid(_ x: Double) -> Double {
    -softplus(-x)
  }

  /// softplus(x) = log(1 + e^x), stable for all x: x + log1p(e^−x) for x > 0, log1p(e^x)
  /// otherwise (so e^x never overflows, and tiny results keep their relative accuracy).
  public static func softplus(_ x: Double) -> Double {
    if x > 0 {
      return x + log1p(exp(-x))
    }
    return log1p(exp(x))  // NaN goes this way and stays NaN
  }

  /// The hyperbolic tangent, within about 1.5 ulp.
  ///
  /// Method: with a = |x| and m = expm1(2a), tanh(a) = m/(m + 2), the rounding error of m + 2
  /// recovered exactly (Fast2Sum) and corrected for; no cancellation anywhere. ±1 for a ≥ 22,
  /// x itself for |x| < 2^−28 (the x³/3 term is below half an ulp).
  public static func tanh(_ x: Double) -> Double {
    let a = Swift.abs(x)
    if !(a < 22) {
      return x.isNaN ? x + x : (x < 0 ? -1 : 1)
    }
    if a < 0x1p-28 {
      return x
    }
    let m = expm1(2 * a)
    let d = m + 2
    let delta = m >= 2 ? (m - d) + 2 : (2 - d) + m  // m + 2 = d + δ exactly
    let q = m / d
    let r = q - q * (delta / d)
    return x < 0 ? -r : r
  }
}
