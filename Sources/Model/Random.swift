import PortableMath
import Hashing
/// A small seeded generator (SplitMix64), so that training and evaluation are reproducible:
/// the same seed gives the same weights initialisation, shuffles, noise and samples.
package struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var state: UInt64

  package init(seed: UInt64) { state = seed }

  package mutating func next() -> UInt64 {
    state = state &+ 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform double in [0, 1) with 53 random bits.
  package mutating func nextUnit() -> Double {
    Double(next() >> 11) * 0x1p-53
  }

  /// A standard normal sample (Marsaglia's polar method; only log and square root).
  package mutating func nextGaussian() -> Double {
    while true {
      let u = nextUnit() * 2 - 1, v = nextUnit() * 2 - 1
      let s = u * u + v * v
      if s > 0 && s < 1 {
        return u * (-2 * Portable.log(s) / s).squareRoot()
      }
    }
  }

  /// A generator for sub-stream `index` of this seed (per epoch, per purpose).
  package static func derived(seed: UInt64, index: UInt64) -> SeededGenerator {
    var g = SeededGenerator(seed: seed ^ (index &* 0xD1B5_4A32_D192_ED03))
    _ = g.next()
    return g
  }
}
