// The exponential of a Double: exp and expm1, and the table-driven kernel they share.

extension Portable {
  /// e^x, within 1 ulp (measured ~0.51 ulp) over the whole range.
  ///
  /// Method: x = (128·k + j)·ln2/128 + r with |r| ≤ ln2/256 (Cody–Waite reduction, ln2/128 in
  /// two parts so that n·hi is exact), e^x = 2^k · 2^(j/128) · e^r, with 2^(j/128) from a table
  /// in two parts (hi + lo) and e^r − 1 from its Taylor polynomial of degree 5 (error < 2^−60).
  /// Results that overflow give +∞; subnormal results are rounded once (see `finishExp`).
  public static func exp(_ x: Double) -> Double {
    if !(x > -745.2) {  // e^x < 2^−1075 rounds to 0; also NaN
      return x.isNaN ? x + x : 0
    }
    if x > 709.8 {  // e^x > greatestFiniteMagnitude (and +∞)
      return .infinity
    }
    let (hi, lo, k) = expKernel(x)
    return finishExp(hi, lo, k)
  }

  /// e^x − 1, within 1 ulp, accurate for tiny x where exp(x) − 1 would cancel.
  ///
  /// Method: for |x| < 0.17, the Taylor series x + x²/2! + … + x¹²/12! (the correction after x
  /// is at most 9% of the result, so its rounding costs little). Elsewhere the exp kernel gives
  /// e^x = 2^k·(hi + lo); a = 2^k·hi is exact, a − 1 is computed exactly as a pair (Fast2Sum),
  /// and the small terms are added last.
  public static func expm1(_ x: Double) -> Double {
    if !(x > -40) {  // e^x − 1 rounds to −1 below −37.5; also NaN
      return x.isNaN ? x + x : -1
    }
    if x > 40 {  // e^x ≥ 2^57: the −1 is far below half an ulp
      return exp(x)
    }
    if Swift.abs(x) < 0.17 {
      if Swift.abs(x) < 0x1p-54 {  // x²/2 is below half an ulp; keeps the sign of −0
        return x
      }
      // x + x²·(1/2! + x·(1/3! + … + x·(1/12!)))
      var q = 0x1.1eed8eff8d898p-29  // 1/12!
      q = 0x1.ae64567f544e4p-26 + x * q  // 1/11!
      q = 0x1.27e4fb7789f5cp-22 + x * q  // 1/10!
      q = 0x1.71de3a556c734p-19 + x * q  // 1/9!
      q = 0x1.a01a01a01a01ap-16 + x * q  // 1/8!
      q = 0x1.a01a01a01a01ap-13 + x * q  // 1/7!
      q = 0x1.6c16c16c16c17p-10 + x * q  // 1/6!
      q = 0x1.1111111111111p-7 + x * q  // 1/5!
      q = 0x1.5555555555555p-5 + x * q  // 1/4!
      q = 0x1.5555555555555p-3 + x * q  // 1/3!
      q = 0.5 + x * q  // 1/2!
      return x + (x * x) * q
    }
    let (hi, lo, k) = expKernel(x)  // here |k| ≤ 58
    let s = powerOfTwo(k)
    let a = s * hi  // exact
    let b = s * lo
    if k >= 53 {
      return a + (b - 1)
    }
    // a − 1 = head + tail exactly (Fast2Sum, larger magnitude first).
    let head: Double
    let tail: Double
    if a >= 1 {
      head = a - 1
      tail = (a - head) - 1
    } else {
      head = -1 + a
      tail = (-1 - head) + a
    }
    return head + (tail + b)
  }
}

// MARK: - The kernel

extension Portable {
  /// Splits e^x into 2^k·(hi + lo), with hi = 2^(j/128) (so 1 ≤ hi < 2) and |lo| < 0.006.
  ///
  /// For |x| ≤ 746: x·128/ln2 is rounded to the nearest integer n = 128·k + j (by adding
  /// 1.5·2^52, which leaves n in the low bits), then r = x − n·ln2/128 is computed with
  /// ln2/128 = L1 + L2, where L1 has 34 significant bits so that n·L1 and x − n·L1 are exact.
  /// e^r − 1 = p(r) = r + r²/2 + r³/6 + r⁴/24 + r⁵/120 (|r| ≤ 0.0028: truncation error < 2^−60).
  /// e^x = 2^k·T[j]·(1 + p) = 2^k·(Thi + (Tlo + Thi·p)).
  @inline(__always)
  static func expKernel(_ x: Double) -> (hi: Double, lo: Double, k: Int) {
    let shifter = 0x1.8p52
    let t = x * 0x1.71547652b82fep+7 + shifter  // x·128/ln2 + 1.5·2^52
    let n = Int(Int64(bitPattern: t.bitPattern) &- Int64(bitPattern: shifter.bitPattern))
    let nd = t - shifter  // = n exactly
    let r = (x - nd * 0x1.62e42fef80000p-8) - nd * 0x1.1cf79abc9e3b4p-43
    // p = r + r²·(1/2 + r·(1/6 + r·(1/24 + r·(1/120))))
    var q = 0x1.1111111111111p-7
    q = 0x1.5555555555555p-5 + r * q
    q = 0x1.5555555555555p-3 + r * q
    q = 0.5 + r * q
    let p = r + (r * r) * q
    let j = n & 127
    let k = n >> 7
    let thi = expTable[2 &* j]
    let tlo = expTable[2 &* j &+ 1]
    return (thi, tlo + thi * p, k)
  }

  /// (hi + lo)·2^k rounded once, for hi in [1, 2) and |lo| < 0.006, k in −1077...1024.
  ///
  /// For normal results the sum is rounded, then scaled exactly. For subnormal results the sum
  /// hi + lo is first scaled to units of 2^−1022 and added to 1, so that the one rounding happens
  /// at the subnormal spacing 2^−1074 (rounding, then scaling, would round twice).
  @inline(__always)
  static func finishExp(_ hi: Double, _ lo: Double, _ k: Int) -> Double {
    if k > 1023 {
      return (hi + lo) * powerOfTwo(1023) * 2
    }
    if k >= -1021 {
      return (hi + lo) * powerOfTwo(k)
    }
    let s = powerOfTwo(k + 1022)  // k + 1022 ≥ −55: normal
    let a = s * hi  // exact
    let b = s * lo
    if a + b >= 1 {
      return (a + b) * powerOfTwo(-1022)  // normal result, exact scaling
    }
    let one = 1.0 + a  // in [1, 2): rounding here is at spacing 2^−52 = 2^−1074 after scaling
    let err = (1.0 - one) + a  // exact error of 1 + a (Fast2Sum, 1 ≥ a)
    let sum = one + (err + b)  // the one rounding
    return (sum - 1) * powerOfTwo(-1022)  // both steps exact
  }
}
