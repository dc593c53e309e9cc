// The Double exp and sigmoid on 4 lanes, for the coder's per-pixel mixtures (a mixture's
// components side by side). Every lane is bit-identical to the scalar function of Exp.swift
// and Logistic.swift for the same input: the same operations in the same order. The lanes the
// scalar function sends to another branch (0 or +∞ outright, NaN) are replaced at the same
// thresholds; a vector with a lane whose result is subnormal, or with a NaN, is computed lane
// by lane with the scalar function. Tests check it.

extension Portable {
  /// e^x on each lane; lane i is bit-identical to `exp(x[i])`.
  public static func exp(_ x: SIMD4<Double>) -> SIMD4<Double> {
    // The scalar function's main path has (hi + lo)·2^k with k in −1021...1023 for
    // −707.6 ≤ x ≤ 709.7; the lanes outside that, or NaN, are rare: the scalar function does them.
    let main = (x .>= -707.6) .& (x .<= 709.7)
    if all(main) { return expMain(x) }
    if any(x .!= x) || any((x .> -745.2) .& (x .< -707.6)) || any((x .> 709.7) .& (x .<= 709.8)) {
      return SIMD4(exp(x[0]), exp(x[1]), exp(x[2]), exp(x[3]))
    }
    var y = expMain(x.replacing(with: 0, where: .!main))
    y.replace(with: 0, where: x .<= -745.2)
    y.replace(with: .infinity, where: x .> 709.8)
    return y
  }

  /// σ(x) on each lane; lane i is bit-identical to `sigmoid(x[i])` (for x not NaN).
  public static func sigmoid(_ x: SIMD4<Double>) -> SIMD4<Double> {
    let e = exp(-magnitude(x))  // e^−x for x ≥ 0, e^x for x < 0, as the scalar function
    let d = 1 + e
    let delta = (1 - d) + e
    let q = e.replacing(with: 1, where: x .>= 0) / d
    return q - q * (delta / d)
  }

  /// |x| on each lane (the sign bit cleared).
  @inline(__always)
  static func magnitude(_ x: SIMD4<Double>) -> SIMD4<Double> {
    doublesOf(bitsOf(x) & 0x7FFF_FFFF_FFFF_FFFF)
  }

  @inline(__always)
  static func bitsOf(_ x: SIMD4<Double>) -> SIMD4<Int64> {
    unsafeBitCast(x, to: SIMD4<Int64>.self)
  }

  @inline(__always)
  static func doublesOf(_ bits: SIMD4<Int64>) -> SIMD4<Double> {
    unsafeBitCast(bits, to: SIMD4<Double>.self)
  }

  /// `expKernel` and `finishExp`'s normal case on each lane, for −707.6 ≤ x ≤ 709.7.
  @inline(__always)
  static func expMain(_ x: SIMD4<Double>) -> SIMD4<Double> {
    let shifter = 0x1.8p52
    let t = x * 0x1.71547652b82fep+7 + shifter
    let n = bitsOf(t) &- Int64(bitPattern: shifter.bitPattern)
    let nd = t - shifter
    let r = (x - nd * 0x1.62e42fef80000p-8) - nd * 0x1.1cf79abc9e3b4p-43
    var q = SIMD4<Double>(repeating: 0x1.1111111111111p-7)
    q = 0x1.5555555555555p-5 + r * q
    q = 0x1.5555555555555p-3 + r * q
    q = 0.5 + r * q
    let p = r + (r * r) * q
    let j = n & 127
    let k = n &>> 7
    let thi = SIMD4(expTable[Int(2 &* j[0])], expTable[Int(2 &* j[1])],
                    expTable[Int(2 &* j[2])], expTable[Int(2 &* j[3])])
    let tlo = SIMD4(expTable[Int(2 &* j[0] &+ 1)], expTable[Int(2 &* j[1] &+ 1)],
                    expTable[Int(2 &* j[2] &+ 1)], expTable[Int(2 &* j[3] &+ 1)])
    let lo = tlo + thi * p
    let scale = doublesOf((k &+ 1023) &<< 52)  // 2^k, k in −1021...1023
    return (thi + lo) * scale
  }
}
