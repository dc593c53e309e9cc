// The logarithm of the gamma function.

extension Portable {
  /// log Γ(x) for x > 0, with relative error below 1e-14 (also near the zeros at 1 and 2, where
  /// the series below keeps the result relative).
  ///
  /// Method: S(z) = log Γ(2 + z) = (1 − γ)·z + Σₖ₌₂ (−1)ᵏ·(ζ(k) − 1)/k·zᵏ, summed to k = 29,
  /// for |z| ≤ 1/2 (the terms fall like 4^−k). Smaller x is shifted up with
  /// Γ(x) = Γ(x + 1)/x, larger x below 12 shifted down with Γ(x) = (x − 1)·Γ(x − 1)
  /// (x − k is exact), and x ≥ 12 uses Stirling's series
  /// (x − ½)·log x − x + ½·log 2π + Σ B₂ₖ/(2k(2k − 1)·x^(2k−1)), six terms.
  ///
  /// - Precondition: x > 0 (NaN gives NaN, +∞ gives +∞).
  public static func lgamma(_ x: Double) -> Double {
    precondition(!(x <= 0), "Portable.lgamma: x must be > 0, got \(x)")
    if x.isNaN || x == .infinity { return x + x }
    if x < 0.5 {
      // Γ(x) = Γ(2 + x)/(x·(1 + x))
      return (lgammaSeries(x) - log1p(x)) - log(x)
    }
    if x < 1.5 {
      // Γ(x) = Γ(2 + z)/(1 + z), z = x − 1 (exact)
      let z = x - 1
      return lgammaSeries(z) - log1p(z)
    }
    if x < 2.5 {
      return lgammaSeries(x - 2)
    }
    if x < 12 {
      // Γ(x) = (x − 1)(x − 2)…(z)·Γ(z), z in [1.5, 2.5)
      var z = x
      var product = 1.0
      while z >= 2.5 {
        z -= 1
        product *= z
      }
      return lgammaSeries(z - 2) + log(product)
    }
    let w = 1 / x
    let w2 = w * w
    var q = -0x1.f6ab0d9993c7dp-10  // B12/(12·11)
    q = 0x1.b951e2b18ff23p-11 + w2 * q  // B10/(10·9)
    q = -0x1.3813813813814p-11 + w2 * q  // B8/(8·7)
    q = 0x1.a01a01a01a01ap-11 + w2 * q  // B6/(6·5)
    q = -0x1.6c16c16c16c17p-9 + w2 * q  // B4/(4·3)
    q = 0x1.5555555555555p-4 + w2 * q  // B2/(2·1)
    let halfLog2Pi = 0x1.d67f1c864beb5p-1
    return ((x - 0.5) * log(x) - x) + (halfLog2Pi + w * q)
  }

  /// S(z) = log Γ(2 + z) for |z| ≤ 1/2, by its Taylor series at 0 (see `lgamma`).
  @inline(__always)
  static func lgammaSeries(_ z: Double) -> Double {
    z * horner(lgammaCoefficients, z)
  }

  /// aₖ for k = 1…29: a₁ = 1 − γ, aₖ = (−1)ᵏ·(ζ(k) − 1)/k (mpmath at 300 bits, rounded).
  static let lgammaCoefficients: [Double] = [
    0x1.b0ee6072093cep-2, 0x1.4a34cc4a60fa6p-2, -0x1.13e001a557607p-4, 0x1.51322ac7d8483p-6,
    -0x1.e404fc218f5f2p-8, 0x1.7add6eadb6c30p-9, -0x1.38ac5c2bf8e08p-10, 0x1.0b36af86396e9p-11,
    -0x1.d3fd4c76d2fc8p-13, 0x1.a127b0f17d65ap-14, -0x1.78de5bd7c81efp-15, 0x1.580dcee66eb02p-16,
    -0x1.3cbc963ce2243p-17, 0x1.2597a39f34aacp-18, -0x1.11b2eb7679541p-19, 0x1.0064cdeb22f0fp-20,
    -0x1.e2600d93cfd2fp-22, 0x1.c76bbb3f07a4dp-23, -0x1.af5a6cbbf8a97p-24, 0x1.99b93c2070b0fp-25,
    -0x1.862c734df3eacp-26, 0x1.7469daccfadcdp-27, -0x1.6434a8447aeadp-28, 0x1.555a877ffd2c3p-29,
    -0x1.47b1679258d0ep-30, 0x1.3b15d2b2fc10cp-31, -0x1.2f69a9fabe3e0p-32, 0x1.24932a337434cp-33,
    -0x1.1a7c26ec2523cp-34,
  ]
}
