// The standard normal distribution: Φ, its complement and its inverse.

extension Portable {
  /// The standard normal CDF Φ(x) = erfc(−x/√2)/2, with relative error below 1e-15 for all x
  /// down to −37.5 (below that Φ(x) is subnormal and only absolutely accurate), and absolute
  /// error below 2e-16 everywhere.
  ///
  /// Method: for |x| < 1/2, Φ(x) = 1/2 + D(x), with D(x) = x·Σ (−x²/2)ⁿ/(n!·(2n+1))/√(2π) summed
  /// to n = 15. For |x| ≥ 1/2, with t = |x|: Φ(−t) = e^(−t²/2)·G(t), with G = Mills ratio/√(2π)
  /// from piecewise polynomials (`millsG`) and e^(−t²/2) computed without error in its argument:
  /// t = th + tl with th of 26 bits, so th²/2 is exact and e^(−t²/2) = e^(−th²/2)·e^(−(t−th)(t+th)/2),
  /// the second factor by a short series; the result is scaled by 2^k only once, at the end,
  /// so it keeps full relative precision until it becomes subnormal.
  public static func normalCDF(_ x: Double) -> Double {
    if x.isNaN { return x + x }
    if Swift.abs(x) < 0.5 {
      return 0.5 + normalCentral(x)
    }
    if x < 0 {
      if x < -38.5 { return 0 }  // Φ(−38.5) < 2^−1075
      let tail = normalLowerTail(-x)
      return scale(tail.mantissa, tail.exponent)
    }
    if x > 9 { return 1 }  // 1 − Φ(−9) rounds to 1
    let tail = normalLowerTail(x)
    return 1 - scale(tail.mantissa, tail.exponent)
  }

  /// The normal survival function 1 − Φ(x) = Φ(−x), accurate (relatively) in the upper tail.
  public static func normalSurvival(_ x: Double) -> Double {
    normalCDF(-x)
  }

  /// D(x) = Φ(x) − 1/2 for |x| < 1, with small relative error (no cancellation against 1/2):
  /// D(x) = x·Σₙ cₙ·x²ⁿ, cₙ = (−1)ⁿ/(2ⁿ·n!·(2n+1)·√(2π)), n = 0…15 (truncation < 1e-18).
  @inline(__always)
  static func normalCentral(_ x: Double) -> Double {
    let z = x * x
    var q = -0x1.62913220111d0p-62  // n = 15
    q = 0x1.6354d1ae7b14dp-57 + z * q
    q = -0x1.4df215a78901cp-52 + z * q
    q = 0x1.25098c9a0d57fp-47 + z * q
    q = -0x1.ddc738b863ab4p-43 + z * q
    q = 0x1.67c1700ad73d2p-38 + z * q
    q = -0x1.f107e1883d947p-34 + z * q
    q = 0x1.3878b823c4d4ep-29 + z * q
    q = -0x1.62226a4aabe03p-25 + z * q
    q = 0x1.658a2177b2739p-21 + z * q
    q = -0x1.3ce8fac15e2c4p-17 + z * q
    q = 0x1.e42b0d5216fc8p-14 + z * q
    q = -0x1.37403f6ba1100p-10 + z * q
    q = 0x1.46d04297691dap-7 + z * q
    q = -0x1.1058377e2cee0p-4 + z * q
    q = 0x1.9884533d43651p-2 + z * q  // n = 0: 1/√(2π)
    return x * q
  }

  /// Φ(−t) = mantissa·2^exponent for t in [0.5, 40], with the mantissa normal and accurate to a
  /// few ulps, and G(t) = Φ(−t)·e^(t²/2) (the Mills ratio over √(2π)).
  @inline(__always)
  static func normalLowerTail(_ t: Double) -> (mantissa: Double, exponent: Int, g: Double) {
    let g = millsG(t)
    let th = Double(bitPattern: t.bitPattern & 0xFFFF_FFFF_F800_0000)  // 26 significant bits
    let d = (t - th) * (t + th) * 0.5  // t²/2 − th²/2, at most 5e-5
    let (hi, lo, k) = expKernel(-0.5 * (th * th))  // exact argument
    // e^(−d) − 1 = −d + d²/2 − d³/6 (next term < 3e-19)
    let q = d * (-1 + d * (0.5 - d * 0x1.5555555555555p-3))
    let y = hi + (lo + (hi + lo) * q)  // e^(−t²/2)·2^−k
    return (y * g, k, g)
  }
}
