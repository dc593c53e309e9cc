import ANS
import Codecs
import PortableMath
import Testing
import TestSupport

/// The pop of `BucketedGaussian` starts its search at a guess and widens it; archives were
/// written by bisection over every bucket, so it must find the same bucket for every slot,
/// whatever the guess: the one whose interval holds the slot.
@Suite struct BucketedGaussianSearchTests {
  /// Checks that `symbol(at:)` gives the bucket whose interval (`interval(of:)`) holds `slot`, with
  /// that interval; returns a description of the first failure.
  static func failure(_ codec: BucketedGaussian, _ slot: UInt32) -> String? {
    let mask = (UInt32(1) << codec.precisionBits) &- 1
    let found = codec.symbol(at: slot)
    let interval = codec.interval(of: found.symbol)
    guard found.start == interval.start, found.frequency == interval.frequency,
          (slot &- interval.start) & mask < interval.frequency else {
      return "μ \(codec.mean) σ \(codec.scale) slot \(slot): bucket \(found.symbol) (\(found.start), \(found.frequency)), "
        + "its interval (\(interval.start), \(interval.frequency))"
    }
    return nil
  }

  /// Means and scales of trained posteriors and far beyond them.
  static func codecs(bits: Int, precisionBits: Int, count: Int, seed: UInt64) -> [BucketedGaussian] {
    var generator = SeededGenerator(seed: seed)
    let buckets = MaxEntropyBuckets(bits: bits)
    let fixed: [(Double, Double)] = [(0, 1), (0, 1e-9), (0, 1e6), (40, 0.01), (-40, 0.01), (8.2, 3), (-1e300, 1e300),
                                     (0.3, 1e-300), (5, 1e-5), (-5, 20)]
    return fixed.map { BucketedGaussian(mean: $0.0, scale: $0.1, buckets: buckets, precisionBits: precisionBits) }
      + (0..<count).map { _ in
        BucketedGaussian(
          mean: generator.nextGaussian() * 1.5, scale: Portable.exp(generator.nextGaussian() * 2 - 1.5), buckets: buckets,
          precisionBits: precisionBits)
      }
  }

  @Test(arguments: [(12, 24), (8, 20), (1, 8), (16, 31)])
  func everySlotKindFindsTheBucketThatHoldsIt(bits: Int, precisionBits: Int) {
    var generator = SeededGenerator(seed: UInt64(bits * 100 + precisionBits))
    let total = UInt64(1) << precisionBits
    var failures: [String] = []
    for codec in Self.codecs(bits: bits, precisionBits: precisionBits, count: 300, seed: UInt64(bits)) {
      // Random slots, the ends, and both sides of some bucket boundaries.
      var slots: [UInt32] = [0, 1, UInt32(total - 1), UInt32(total / 2)]
      for _ in 0..<40 { slots.append(UInt32(generator.next() % total)) }
      for _ in 0..<10 {
        let bucket = Int(generator.next() % UInt64(1 << bits))
        let start = codec.interval(of: bucket).start
        slots += [start, start &- 1, start &+ 1].map { $0 & UInt32(total - 1) }
      }
      for slot in slots { if let f = Self.failure(codec, slot) { failures.append(f) } }
    }
    let count = failures.count
    #expect(count == 0, "first failure: \(failures.first ?? "")")
  }

  /// From any start, not only the guess, the search finds the same bucket and its bounds.
  @Test func everyStartGivesTheSameBucket() {
    var generator = SeededGenerator(seed: 77)
    let precisionBits = 24, mask = (UInt32(1) << precisionBits) &- 1
    for codec in Self.codecs(bits: 12, precisionBits: precisionBits, count: 40, seed: 5) {
      for _ in 0..<8 {
        let slot = UInt32(truncatingIfNeeded: generator.next()) & mask
        // The unrotated slot, as symbol(at:) searches it: C rotated by the interval of bucket 0.
        let unrotated = (slot &- codec.interval(of: 0).start) & mask
        let reference = searchQuantizedCDF(slot: unrotated, symbolCount: 4096) { i in
          i == 4096 ? UInt32(1) << precisionBits : (codec.interval(of: i).start &- codec.interval(of: 0).start) & mask
        }
        var starts = [0, 1, 2047, 2048, 4094, 4095, codec.guess(unrotated), reference.symbol]
        for _ in 0..<6 { starts.append(Int(generator.next() % 4096)) }
        for start in starts {
          let found = codec.search(unrotated, from: start)
          #expect(found.symbol == reference.symbol && found.lower == reference.lower && found.upper == reference.upper,
                  "μ \(codec.mean) σ \(codec.scale) slot \(unrotated) from \(start): \(found) against \(reference)")
        }
      }
    }
  }
}
