// The logarithm of a Double: log, log1p, log2, and the series they share.

extension Portable {
  /// The natural logarithm, within 1 ulp.
  ///
  /// Method: x = 2^e·(1 + f) with 1 + f in [√2/2, √2); then
  /// log(1 + f) = 2·atanh(s) = 2s + 2s³/3 + 2s⁵/5 + … with s = f/(2 + f), |s| ≤ 0.1716,
  /// rewritten as f − f²/2 + s·(f²/2 + R) so that the large term f is exact (see `logKernel`),
  /// and e·ln2 added in two parts (ln2 = hi + lo, hi with 42 bits so that e·hi is exact).
  /// Special cases: log(0) = −∞, log(x < 0) = NaN, log(+∞) = +∞, log(NaN) = NaN.
  public static func log(_ x: Double) -> Double {
    if !(x > 0) || x == .infinity {
      if x == 0 { return -.infinity }
      if x.isNaN || x == .infinity { return x + x }
      return .nan
    }
    let (m, e) = splitExponent(x)
    return logKernel(m - 1, e, 0)  // m − 1 is exact (Sterbenz)
  }

  /// log(1 + x), within 1 ulp, accurate for tiny x where log(1 + x) would lose x.
  ///
  /// Method: u = 1 + x, rounded; if u is already in [√2/2, √2) the series runs on f = x itself.
  /// Otherwise u = 2^e·(1 + f) and the rounding error c of 1 + x (exact, by TwoSum) enters as
  /// log(1 + x) = log(u) + log(1 + c/u) ≈ log(u) + c/u.
  public static func log1p(_ x: Double) -> Double {
    if !(x > -1) || x == .infinity {
      if x == -1 { return -.infinity }
      if x.isNaN || x == .infinity { return x + x }
      return .nan
    }
    if Swift.abs(x) < 0x1p-54 {  // log1p(x) = x − x²/2 + …: x is within half an ulp
      return x
    }
    let u = 1 + x
    let (m, e) = splitExponent(u)
    if e == 0 {
      return logKernel(x, 0, 0)
    }
    // c = (1 + x) − u exactly (TwoSum).
    let v = u - 1
    let c = (1 - (u - v)) + (x - v)
    return logKernel(m - 1, e, c / u)
  }

  /// The binary logarithm, within 1 ulp; exact (an integer) at powers of two.
  ///
  /// Method: log2(x) = e + log(1 + f)/ln2, where log(1 + f) = hi + lo with hi truncated to 21
  /// significant bits, and 1/ln2 = ivhi + ivlo with ivhi of 32 bits, so that hi·ivhi is exact;
  /// the remaining products are small corrections, and e is added last by Fast2Sum.
  public static func log2(_ x: Double) -> Double {
    if !(x > 0) || x == .infinity {
      if x == 0 { return -.infinity }
      if x.isNaN || x == .infinity { return x + x }
      return .nan
    }
    let (m, e) = splitExponent(x)
    let f = m - 1
    let hfsq = 0.5 * f * f
    let s = f / (2 + f)
    let r = logSeries(s * s)
    let hiFull = f - hfsq
    let hi = Double(bitPattern: hiFull.bitPattern & 0xFFFF_FFFF_0000_0000)
    let lo = ((f - hi) - hfsq) + s * (hfsq + r)
    let ivhi = 0x1.7154765200000p+0
    let ivlo = 0x1.705fc2eefa200p-33
    var valueHi = hi * ivhi
    var valueLo = (lo + hi) * ivlo + lo * ivhi
    let y = Double(e)
    let w = y + valueHi
    valueLo += (y - w) + valueHi
    valueHi = w
    return valueLo + valueHi
  }
}

// MARK: - The series

extension Portable {
  /// log(1 + f) + e·ln2 + c, for 1 + f in [√2/2, √2) (up to rounding) and a small correction c.
  ///
  /// With s = f/(2 + f): log(1 + f) = 2s + s·R(s²), R(z) = 2z/3 + 2z²/5 + …, and since
  /// 2s = f − s·f = f − f²/2 + s·f²/2, log(1 + f) = f − (hfsq − s·(hfsq + R)) with hfsq = f²/2:
  /// the exact f is added last, and the rounding errors sit in the small terms.
  @inline(__always)
  static func logKernel(_ f: Double, _ e: Int, _ c: Double) -> Double {
    let hfsq = 0.5 * f * f
    let s = f / (2 + f)
    let r = logSeries(s * s)
    let ed = Double(e)
    let ln2hi = 0x1.62e42fefa3800p-1  // 42 significant bits: ed·ln2hi is exact
    let ln2lo = 0x1.ef35793c76730p-45
    return ed * ln2hi - ((hfsq - (s * (hfsq + r) + (ed * ln2lo + c))) - f)
  }

  /// R(z) = 2z/3 + 2z²/5 + … + 2z¹⁰/21, the atanh series after its first term, for
  /// z = s² ≤ 0.0295 (truncation error below 2^−60 relative to log(1 + f)).
  @inline(__always)
  static func logSeries(_ z: Double) -> Double {
    var q = 0x1.8618618618618p-4  // 2/21
    q = 0x1.af286bca1af28p-4 + z * q  // 2/19
    q = 0x1.e1e1e1e1e1e1ep-4 + z * q  // 2/17
    q = 0x1.1111111111111p-3 + z * q  // 2/15
    q = 0x1.3b13b13b13b14p-3 + z * q  // 2/13
    q = 0x1.745d1745d1746p-3 + z * q  // 2/11
    q = 0x1.c71c71c71c71cp-3 + z * q  // 2/9
    q = 0x1.2492492492492p-2 + z * q  // 2/7
    q = 0x1.999999999999ap-2 + z * q  // 2/5
    q = 0x1.5555555555555p-1 + z * q  // 2/3
    return z * q
  }
}
