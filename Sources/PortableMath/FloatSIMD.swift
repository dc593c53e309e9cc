// The Float functions on 8 lanes. Every lane is bit-identical to the scalar function of
// Float.swift for the same input: the same operations in the same order, with the scalar
// branches turned into lane replacements at the same thresholds. Tests check it.

extension Portable {
  /// e^x on each lane; lane i is bit-identical to `exp(x[i])`.
  public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    var y = expFloatMain(x)  // garbage (never a trap) in the lanes replaced below
    y.replace(with: 0, where: x .< -104)
    y.replace(with: .infinity, where: x .> 88.8)
    return y
  }

  /// log x on each lane; lane i is bit-identical to `log(x[i])`.
  public static func log(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let subnormal = x .< 0x1p-126
    let y = x.replacing(with: x * 0x1p23, where: subnormal)
    let adjust = SIMD8<Int32>(repeating: 0).replacing(with: -23, where: subnormal)
    let bits = bitsOf(y)
    let k = (bits &- 0x3F35_04F3) &>> 23
    let m = floatsOf(bits &- (k &<< 23))
    var result = logFloatKernel(m - 1, SIMD8<Float>(k &+ adjust), SIMD8<Float>(repeating: 0))
    result.replace(with: .nan, where: x .< 0)
    result.replace(with: -.infinity, where: x .== 0)
    result.replace(with: .infinity, where: x .== .infinity)
    result.replace(with: x + x, where: x .!= x)  // NaN
    return result
  }

  /// σ(x) on each lane; lane i is bit-identical to `sigmoid(x[i])`.
  public static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let e = exp(negated(magnitude(x)))
    let d = 1 + e
    let delta = (1 - d) + e
    let q = e.replacing(with: 1, where: x .>= 0) / d
    return q - q * (delta / d)
  }

  /// softplus(x) on each lane; lane i is bit-identical to `softplus(x[i])`.
  public static func softplus(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let l = log1p(exp(negated(magnitude(x))))
    let positivePart = SIMD8<Float>(repeating: 0).replacing(with: x, where: x .> 0)
    return positivePart + l
  }

  /// log σ(x) on each lane; lane i is bit-identical to `logSigmoid(x[i])`.
  public static func logSigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
    negated(softplus(negated(x)))
  }

  /// tanh on each lane; lane i is bit-identical to `tanh(x[i])`.
  public static func tanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let a = magnitude(x)
    let large = 1 - 2 / (exp(2 * a) + 1)
    let r = large.replacing(with: tanhFloatSmall(a), where: a .< 0.55)
    return floatsOf(bitsOf(r) | (bitsOf(x) & Int32(bitPattern: 0x8000_0000)))
  }

  /// log(1 + x) on each lane; lane i is bit-identical to `log1p(x[i])`.
  package static func log1p(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let u = 1 + x
    let bits = bitsOf(u)
    let k = (bits &- 0x3F35_04F3) &>> 23
    let m = floatsOf(bits &- (k &<< 23))
    let v = u - 1
    let c = (1 - (u - v)) + (x - v)
    let unshifted = k .== 0
    let f = (m - 1).replacing(with: x, where: unshifted)
    let correction = (c / u).replacing(with: 0, where: unshifted)
    var result = logFloatKernel(f, SIMD8<Float>(k), correction)
    result.replace(with: .nan, where: x .< -1)
    result.replace(with: -.infinity, where: x .== -1)
    result.replace(with: .infinity, where: x .== .infinity)
    result.replace(with: x + x, where: x .!= x)  // NaN
    return result
  }
}

// MARK: - Lane kernels: the scalar kernels of Float.swift, written for SIMD8<Float>

extension Portable {
  @inline(__always)
  static func bitsOf(_ x: SIMD8<Float>) -> SIMD8<Int32> {
    unsafeBitCast(x, to: SIMD8<Int32>.self)
  }

  @inline(__always)
  static func floatsOf(_ bits: SIMD8<Int32>) -> SIMD8<Float> {
    unsafeBitCast(bits, to: SIMD8<Float>.self)
  }

  @inline(__always)
  static func magnitude(_ x: SIMD8<Float>) -> SIMD8<Float> {
    floatsOf(bitsOf(x) & 0x7FFF_FFFF)
  }

  /// −x by flipping the sign bit, as scalar negation does (the standard library's prefix − on
  /// SIMD vectors computes 0 − x, which turns +0 into +0, not −0).
  @inline(__always)
  static func negated(_ x: SIMD8<Float>) -> SIMD8<Float> {
    floatsOf(bitsOf(x) ^ Int32(bitPattern: 0x8000_0000))
  }

  /// Lane twin of `expFloatMain(_: Float)`.
  @inline(__always)
  static func expFloatMain(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let shifter: Float = 0x1.8p23
    let t = x * 0x1.715476p+0 + shifter
    let n = bitsOf(t) &- Int32(bitPattern: shifter.bitPattern)
    let nf = t - shifter
    let r = (x - nf * 0x1.62e4p-1) - nf * 0x1.7f7d1cp-20
    var q = SIMD8<Float>(repeating: 0x1.a01a02p-13)
    q = 0x1.6c16c2p-10 + r * q
    q = 0x1.111112p-7 + r * q
    q = 0x1.555556p-5 + r * q
    q = 0x1.555556p-3 + r * q
    q = 0.5 + r * q
    let y = 1 + (r + (r * r) * q)
    let n1 = n &>> 1
    let n2 = n &- n1
    let s1 = floatsOf((n1 &+ 127) &<< 23)
    let s2 = floatsOf((n2 &+ 127) &<< 23)
    return y * s1 * s2
  }

  /// Lane twin of `logFloatKernel(_:_:_:)`.
  @inline(__always)
  static func logFloatKernel(
    _ f: SIMD8<Float>, _ k: SIMD8<Float>, _ c: SIMD8<Float>
  ) -> SIMD8<Float> {
    let hfsq = 0.5 * f * f
    let s = f / (2 + f)
    let z = s * s
    var q = SIMD8<Float>(repeating: 0x1.c71c72p-3)
    q = 0x1.24924ap-2 + z * q
    q = 0x1.99999ap-2 + z * q
    q = 0x1.555556p-1 + z * q
    let r = z * q
    return k * 0x1.62e4p-1 - ((hfsq - (s * (hfsq + r) + (k * 0x1.7f7d1cp-20 + c))) - f)
  }

  /// Lane twin of `tanhFloatSmall(_: Float)`.
  @inline(__always)
  static func tanhFloatSmall(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let z = x * x
    var q = SIMD8<Float>(repeating: 0x1.967e18p-14)
    q = -0x1.f57d78p-13 + z * q
    q = 0x1.355824p-11 + z * q
    q = -0x1.7da364p-10 + z * q
    q = 0x1.d6d3d0p-9 + z * q
    q = -0x1.226e36p-7 + z * q
    q = 0x1.664f48p-6 + z * q
    q = -0x1.ba1ba2p-5 + z * q
    q = 0x1.111112p-3 + z * q
    q = -0x1.555556p-2 + z * q
    return x + x * (z * q)
  }
}
