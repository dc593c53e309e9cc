// The Mills ratio of the standard normal, by piecewise polynomials (used by Normal.swift).

extension Portable {
  /// G(t) = Φ(−t)·e^(t²/2) = M(t)/√(2π) for t in [0.5, 40], where M is the Mills ratio, with
  /// relative error about 2·2^−53.
  ///
  /// M is smooth and slowly varying (M(t) ≈ 1/t − 1/t³ + … for large t), so it is fitted by
  /// polynomials: in u = (t − centre)/halfWidth on [0.5, 2.5], and, as t·G(t), in
  /// u = (1/t² − centre)/halfWidth on [2.5, 40], where t·G(t) is a gentle function of 1/t².
  /// The coefficients are Chebyshev interpolants computed with mpmath at 160 bits, rounded to
  /// Double; the error quoted for each piece is measured in Double arithmetic (this Horner
  /// order) against mpmath.
  @inline(__always)
  static func millsG(_ t: Double) -> Double {
    if t < 2.5 {
      if t < 1 {
        return horner(millsPiece0, (t - 0.75) * 4)
      }
      if t < 1.75 {
        return horner(millsPiece1, (t - 0x1.6p+0) * 0x1.5555555555555p+1)
      }
      return horner(millsPiece2, (t - 0x1.1p+1) * 0x1.5555555555555p+1)
    }
    let w = 1 / (t * t)
    let v: Double
    if t < 5 {
      if t < 3.5 {
        v = horner(millsPiece3, (w - 0x1.eedd19b459718p-4) * 0x1.9855555555555p+4)
      } else {
        v = horner(millsPiece4, (w - 0x1.f23514b060f77p-5) * 0x1.8050505050505p+5)
      }
    } else if t < 10 {
      v = horner(millsPiece5, (w - 0x1.999999999999ap-6) * 0x1.0aaaaaaaaaaabp+6)
    } else {
      v = horner(millsPiece6, (w - 0x1.5c28f5c28f5c3p-8) * 0x1.aaaaaaaaaaaabp+7)
    }
    return v / t
  }

  /// c[0] + u·(c[1] + u·(c[2] + …)), evaluated from the highest coefficient down.
  @inline(__always)
  static func horner(_ c: [Double], _ u: Double) -> Double {
    var i = c.count - 1
    var acc = c[i]
    while i > 0 {
      i -= 1
      acc = c[i] + u * acc
    }
    return acc
  }

  // [0.5, 1] var t deg 12: max rel err 1.54e-16 = 1.38 * 2^-53
  static let millsPiece0: [Double] = [
    0x1.3370237bca626p-2, -0x1.63e07140d7367p-5, 0x1.5bf7f206f35bdp-8,
    -0x1.2c849dfda5eacp-11, 0x1.d68c6d8fab60cp-15, -0x1.53aa0f1b59aebp-18,
    0x1.c990dfd8cdabbp-22, -0x1.2223537237963p-25, 0x1.5cc3a66d171dbp-29,
    -0x1.8f846a55318cdp-33, 0x1.b621ae847d782p-37, -0x1.d38a4874e924dp-41,
    0x1.da621a9b07bdbp-45,
  ]
  // [1, 1.75] var t deg 13: max rel err 1.67e-16 = 1.51 * 2^-53
  static let millsPiece1: [Double] = [
    0x1.bdb9f2a73a6d4p-3, -0x1.323d753ee1addp-5, 0x1.7343a02691f93p-8,
    -0x1.983b63879c469p-11, 0x1.9e5ae9b307baep-14, -0x1.88f97f26f043ep-17,
    0x1.5f5cd6fd14965p-20, -0x1.2a3336e6c978ap-23, 0x1.e30c478d364b0p-27,
    -0x1.77010673b9e77p-30, 0x1.17fa978a10cc9p-33, -0x1.9381b4e5a9dd9p-37,
    0x1.20429ca2c7547p-40, -0x1.851f95f11dff9p-44,
  ]
  // [1.75, 2.5] var t deg 12: max rel err 1.75e-16 = 1.57 * 2^-53
  static let millsPiece2: [Double] = [
    0x1.48de38232294ap-3, -0x1.62914d8f97ea1p-6, 0x1.5db8d5646760dp-9,
    -0x1.408b23396feafp-12, 0x1.14021ffe66a99p-15, -0x1.c222ad29d43b1p-19,
    0x1.5dc187e536e05p-22, -0x1.0437d01a0f9f6p-25, 0x1.743aa2e35a0dbp-29,
    -0x1.00bb1123136bep-32, 0x1.5693150265ed7p-36, -0x1.c3f5041b20179p-40,
    0x1.1bafed8109d6fp-43,
  ]
  // [2.5, 3.5] var w deg 14: max rel err 2.14e-16 = 1.93 * 2^-53
  static let millsPiece3: [Double] = [
    0x1.72df47fc2ef7bp-2, -0x1.33a567277885bp-7, 0x1.319bf0c46d1b7p-11,
    -0x1.a8672647b922ep-15, 0x1.64fd089f1a3ffp-18, -0x1.5553b33ed0d11p-21,
    0x1.663e5b3e4c031p-24, -0x1.93f20bdb4e874p-27, 0x1.e257962a0abd1p-30,
    -0x1.2deb3bf22a427p-32, 0x1.89349e24ecb3ap-35, -0x1.0717bd3a73f21p-37,
    0x1.6cd26d0a0615dp-40, -0x1.29c5ac7336263p-42, 0x1.b41eb1fc7334dp-45,
  ]
  // [3.5, 5] var w deg 12: max rel err 2e-16 = 1.80 * 2^-53
  static let millsPiece4: [Double] = [
    0x1.8337476fcffd9p-2, -0x1.94e1812bc047ep-8, 0x1.111ae4fbea85ap-12,
    -0x1.0eb80e9f28088p-16, 0x1.511d92174e897p-20, -0x1.eaae0d304a7c5p-24,
    0x1.90d331bb643abp-27, -0x1.664462083afc6p-30, 0x1.585e60bc5e103p-33,
    -0x1.5ef0b92cb47c5p-36, 0x1.78f39a54b8180p-39, -0x1.c7ff01aaf7633p-42,
    0x1.0b4682b93d958p-44,
  ]
  // [5, 10] var w deg 12: max rel err 2.5e-16 = 2.26 * 2^-53
  static let millsPiece5: [Double] = [
    0x1.8efceba641de9p-2, -0x1.565ae773905e1p-8, 0x1.973cd1cd46794p-13,
    -0x1.77fb0262b5462p-17, 0x1.c779c95b3a446p-21, -0x1.4e304f9db8715p-24,
    0x1.1b95c9ad27128p-27, -0x1.0e230bf11cd7ep-30, 0x1.1aed1b84daad5p-33,
    -0x1.3fd7542eb9fbdp-36, 0x1.84263c9241299p-39, -0x1.15ad12ef1f5abp-41,
    0x1.7ca34f19d84cap-44,
  ]
  // [10, 40] var w deg 10: max rel err 2.34e-16 = 2.11 * 2^-53
  static let millsPiece6: [Double] = [
    0x1.96615eb3c6a0dp-2, -0x1.db301d5119ff0p-10, 0x1.9876a36d24074p-16,
    -0x1.1ef275d6d9b59p-21, 0x1.14eb79687bf20p-26, -0x1.5152ab03af92fp-31,
    0x1.ed46b4053ad7ap-36, -0x1.a2d115fb716d8p-40, 0x1.935f3273f81f1p-44,
    -0x1.b83904a7d54b1p-48, 0x1.049134c0b9e5bp-51,
  ]
}
