// Float versions for the neural network: exp, log, log1p, sigmoid, logSigmoid, softplus, tanh.
//
// Each function here has a twin in FloatSIMD.swift that runs the same operations, in the same
// order, on 8 lanes; the tests check that every lane is bit-identical to the scalar function.
// So the scalar code is written the way the vector code must be: the main path is one formula
// without data-dependent branches; special inputs (NaN, ±∞, overflow, underflow) are branches
// here and lane replacements there, with the same thresholds.

extension Portable {
  /// e^x for Float, within 1 ulp (measured), overflow to +∞ and gradual underflow included.
  ///
  /// Method: x = n·ln2 + r, |r| ≤ ln2/2 (ln2 in two parts, the first of 16 bits so that n·hi is
  /// exact), e^r by its Taylor polynomial of degree 7 (error < 6e-9), times 2^n applied as
  /// 2^⌊n/2⌋·2^(n−⌊n/2⌋) so that each factor is a normal power of two and a subnormal result is
  /// rounded once.
  public static func exp(_ x: Float) -> Float {
    if !(x >= -104) {  // e^x < 2^−150 rounds to 0; also NaN
      return x.isNaN ? x + x : 0
    }
    if x > 88.8 {  // beyond greatestFiniteMagnitude
      return .infinity
    }
    return expFloatMain(x)
  }

  /// The natural logarithm for Float, within 1 ulp (measured).
  ///
  /// Method: as `log(_: Double)`: x = 2^k·m, m in [√2/2, √2), f = m − 1,
  /// log(1 + f) = f − (f²/2 − s·(f²/2 + R(s²))), s = f/(2 + f), R to the s⁸ term.
  public static func log(_ x: Float) -> Float {
    if !(x > 0) || x == .infinity {
      if x == 0 { return -.infinity }
      if x.isNaN || x == .infinity { return x + x }
      return .nan
    }
    var y = x
    var adjust: Int32 = 0
    if x < 0x1p-126 {  // subnormal: scale into the normal range
      y = x * 0x1p23
      adjust = -23
    }
    let bits = Int32(bitPattern: y.bitPattern)
    let k = (bits &- 0x3F35_04F3) &>> 23  // exponent such that m = y/2^k is in [√2/2, √2)
    let m = Float(bitPattern: UInt32(bitPattern: bits &- (k &<< 23)))
    return logFloatKernel(m - 1, Float(k &+ adjust), 0)
  }

  /// log(1 + x) for Float, within 1 ulp (measured), accurate for tiny x.
  ///
  /// Method: as `log1p(_: Double)`: u = 1 + x, and the exact rounding error c of 1 + x enters
  /// as c/u; when u needs no exponent shift the series runs on x itself.
  public static func log1p(_ x: Float) -> Float {
    if !(x > -1) || x == .infinity {
      if x == -1 { return -.infinity }
      if x.isNaN || x == .infinity { return x + x }
      return .nan
    }
    let u = 1 + x  // ≥ 2^−24: normal
    let bits = Int32(bitPattern: u.bitPattern)
    let k = (bits &- 0x3F35_04F3) &>> 23
    let m = Float(bitPattern: UInt32(bitPattern: bits &- (k &<< 23)))
    let v = u - 1
    let c = (1 - (u - v)) + (x - v)  // (1 + x) − u exactly (TwoSum)
    let f = k == 0 ? x : m - 1
    let correction = k == 0 ? 0 : c / u
    return logFloatKernel(f, Float(k), correction)
  }

  /// σ(x) = 1/(1 + e^−x) for Float, stable for all x: with e = e^−|x|, 1/(1 + e) for x ≥ 0 and
  /// e/(1 + e) for x < 0, the rounding error δ of 1 + e = d + δ corrected for as q − q·δ/d.
  public static func sigmoid(_ x: Float) -> Float {
    let e = exp(-magnitude(x))
    let d = 1 + e
    let delta = (1 - d) + e
    let q = (x >= 0 ? 1 : e) / d
    return q - q * (delta / d)
  }

  /// log σ(x) = −softplus(−x) for Float.
  public static func logSigmoid(_ x: Float) -> Float {
    -softplus(-x)
  }

  /// softplus(x) = log(1 + e^x) for Float, stable for all x: max(x, 0) + log1p(e^−|x|).
  public static func softplus(_ x: Float) -> Float {
    let l = log1p(exp(-magnitude(x)))
    let positivePart: Float = x > 0 ? x : 0
    return positivePart + l
  }

  /// The hyperbolic tangent for Float, within 2 ulp (measured).
  ///
  /// Method: with a = |x|, for a < 0.55 the odd Taylor series a + a·(a²·P(a²)) to the a²¹ term;
  /// above, 1 − 2/(e^(2a) + 1) (e^(2a) = +∞ gives exactly 1); then the sign bit of x.
  public static func tanh(_ x: Float) -> Float {
    let a = magnitude(x)
    let r = a < 0.55 ? tanhFloatSmall(a) : 1 - 2 / (exp(2 * a) + 1)
    return Float(bitPattern: r.bitPattern | (x.bitPattern & 0x8000_0000))
  }
}

// MARK: - Kernels shared with FloatSIMD.swift (same constants, same order)

extension Portable {
  /// |x| by clearing the sign bit (the SIMD twin does the same to the lane's bits).
  @inline(__always)
  static func magnitude(_ x: Float) -> Float {
    Float(bitPattern: x.bitPattern & 0x7FFF_FFFF)
  }

  /// e^x for −104 ≤ x ≤ 88.8 (see `exp(_: Float)`).
  @inline(__always)
  static func expFloatMain(_ x: Float) -> Float {
    let shifter: Float = 0x1.8p23
    let t = x * 0x1.715476p+0 + shifter  // x/ln2 + 1.5·2^23: n in the low bits
    let n = Int32(bitPattern: t.bitPattern) &- Int32(bitPattern: shifter.bitPattern)
    let nf = t - shifter
    let r = (x - nf * 0x1.62e4p-1) - nf * 0x1.7f7d1cp-20  // ln2 = hi (16 bits) + lo
    var q: Float = 0x1.a01a02p-13  // 1/7!
    q = 0x1.6c16c2p-10 + r * q  // 1/6!
    q = 0x1.111112p-7 + r * q  // 1/5!
    q = 0x1.555556p-5 + r * q  // 1/4!
    q = 0x1.555556p-3 + r * q  // 1/3!
    q = 0.5 + r * q  // 1/2!
    let y = 1 + (r + (r * r) * q)
    let n1 = n &>> 1
    let n2 = n &- n1
    let s1 = Float(bitPattern: UInt32(bitPattern: (n1 &+ 127) &<< 23))
    let s2 = Float(bitPattern: UInt32(bitPattern: (n2 &+ 127) &<< 23))
    return y * s1 * s2
  }

  /// log(1 + f) + k·ln2 + c for 1 + f in [√2/2, √2) (see `logKernel` for the Double form).
  @inline(__always)
  static func logFloatKernel(_ f: Float, _ k: Float, _ c: Float) -> Float {
    let hfsq = 0.5 * f * f
    let s = f / (2 + f)
    let z = s * s
    var q: Float = 0x1.c71c72p-3  // 2/9
    q = 0x1.24924ap-2 + z * q  // 2/7
    q = 0x1.99999ap-2 + z * q  // 2/5
    q = 0x1.555556p-1 + z * q  // 2/3
    let r = z * q
    return k * 0x1.62e4p-1 - ((hfsq - (s * (hfsq + r) + (k * 0x1.7f7d1cp-20 + c))) - f)
  }

  /// tanh(x) for 0 ≤ x < 0.55: x + x·(z·P(z)), z = x², P from the Taylor series of tanh.
  @inline(__always)
  static func tanhFloatSmall(_ x: Float) -> Float {
    let z = x * x
    var q: Float = 0x1.967e18p-14  // x²¹
    q = -0x1.f57d78p-13 + z * q  // x¹⁹
    q = 0x1.355824p-11 + z * q  // x¹⁷
    q = -0x1.7da364p-10 + z * q  // x¹⁵
    q = 0x1.d6d3d0p-9 + z * q  // x¹³
    q = -0x1.226e36p-7 + z * q  // x¹¹
    q = 0x1.664f48p-6 + z * q  // x⁹
    q = -0x1.ba1ba2p-5 + z * q  // x⁷
    q = 0x1.111112p-3 + z * q  // x⁵
    q = -0x1.555556p-2 + z * q  // x³
    return x + x * (z * q)
  }
}
