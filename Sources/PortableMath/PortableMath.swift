// PortableMath: elementary functions written in plain IEEE-754 arithmetic, so that they give the
// same bits on every machine.
//
// Why this module exists
// ----------------------
// bits-back coding over rANS needs the sender and the receiver to compute the same integer
// frequencies, bit for bit. The frequencies come from probabilities (the posterior's normal CDF,
// the likelihood's logistic or beta-binomial), and those come from exp, log, erfc and lgamma.
// The platform's libm gives no such guarantee: glibc, Apple's libm and musl return different
// last bits for the same input, and a glibc update can change them (glibc switched exp and log
// to new table-driven code in 2.28). One unit in the last place (ulp) of difference in one
// probability can change one frequency, and a changed frequency makes the rest of the ANS chain
// decode to garbage. So every number that feeds a frequency is computed here, with only
// +, −, ×, ÷ and squareRoot() (all correctly rounded by IEEE 754), comparisons and bit patterns:
// no libm call, no fused multiply-add (Swift never contracts a*b+c on its own), no table or
// constant that depends on the platform. The results then depend only on the order of the
// operations written in these files.
//
// Accuracy (measured by Tests/PortableMathTests against libm, over ≥ 100 000 seeded inputs per
// function; the test of each function asserts the bound and prints the measured maximum):
//
// | function                      | bound asserted             | method |
// | ---                           | ---                        | ---    |
// | exp(Double)                   | ≤ 1 ulp                    | 128-entry table of 2^(j/128), degree-5 polynomial |
// | expm1(Double)                 | ≤ 1 ulp                    | Taylor series near 0, the exp kernel elsewhere |
// | log(Double)                   | ≤ 1 ulp                    | atanh series in s = f/(2+f), exponent·ln2 in two parts |
// | log1p(Double)                 | ≤ 1 ulp                    | as log, plus the exact rounding error of 1 + x |
// | log2(Double)                  | ≤ 1 ulp                    | as log, multiplied by 1/ln2 in two parts |
// | normalCDF / normalSurvival    | ≤ 1e-15 relative (x ≥ −37.5; subnormal below) | series near 0, e^(−x²/2)·Mills ratio elsewhere |
// | normalQuantile                | ≤ 1e-14 relative           | Abramowitz–Stegun 26.2.23, three Halley steps on our Φ |
// | lgamma                        | ≤ 1e-14 relative (absolute near 1 and 2) | series about 2, Stirling for x ≥ 12 |
// | sigmoid, logSigmoid, softplus, tanh (Double) | a few ulp   | from exp, expm1, log1p |
// | Float functions               | ≤ 2 ulp of Float           | Float polynomials, SIMD lanes bit-identical to scalar |
//
// The exact figures are in the test output (`swift test -c release --filter PortableMathTests`).

/// Namespace for the portable elementary functions: pure functions of their arguments, whose
/// results are the same bits on every machine and every build.
///
/// See the module overview at the top of `PortableMath.swift` for why they exist and how
/// accurate they are.
public enum Portable {}

// MARK: - Helpers shared by the files of the module

extension Portable {
  /// 2^k as a Double, for k in −1022...1023 (a normal power of two, built from its bit pattern).
  @inline(__always)
  static func powerOfTwo(_ k: Int) -> Double {
    Double(bitPattern: UInt64(truncatingIfNeeded: k &+ 1023) << 52)
  }

  /// x·2^k with a single rounding, for x a normal number of moderate size (2^−200 < |x| < 2^200)
  /// and k in −1200...1200: the result is exact unless it is subnormal or overflows, and then it
  /// is rounded once, as IEEE would round the exact product.
  @inline(__always)
  static func scale(_ x: Double, _ k: Int) -> Double {
    if k > 1023 {
      return x * powerOfTwo(1023) * powerOfTwo(k - 1023)
    }
    if k < -1022 {
      // x·2^(k+1022) is exact and normal; the final multiplication by 2^−1022 rounds once.
      return x * powerOfTwo(k + 1022) * powerOfTwo(-1022)
    }
    return x * powerOfTwo(k)
  }

  /// The unbiased binary exponent e and the significand m of a positive finite x, with
  /// x = m·2^e and m in [√2/2, √2). Subnormal x are handled (scaled by 2^54 first).
  @inline(__always)
  static func splitExponent(_ x: Double) -> (m: Double, e: Int) {
    var bits = x.bitPattern
    var e = 0
    if bits < 0x0010_0000_0000_0000 {  // subnormal
      bits = (x * 0x1p54).bitPattern
      e = -54
    }
    e += Int(bits >> 52) - 1023
    var m = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)
    if m > 0x1.6a09e667f3bcdp+0 {  // √2
      m *= 0.5
      e += 1
    }
    return (m, e)
  }
}
