import Hashing
import Testing

/// The buffer of xxHash's sanity check: byte i is the top byte of PRIME32 · PRIME64^i (mod 2^64).
private func sanityBuffer(_ count: Int) -> [UInt8] {
  var generator: UInt64 = 2_654_435_761
  var bytes = [UInt8]()
  for _ in 0..<count {
    bytes.append(UInt8(generator >> 56))
    generator &*= 11_400_714_785_074_694_797
  }
  return bytes
}

/// A seeded SplitMix64 for test data.
private struct SplitMix64 {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

struct XXH64Tests {
  /// The published values of xxHash's sanity check (length, seed, XXH64).
  static let vectors: [(Int, UInt64, UInt64)] = [
    (0, 0, 0xEF46_DB37_51D8_E999), (0, 2_654_435_761, 0xAC75_FDA2_929B_17EF),
    (1, 0, 0xE934_A84A_DB05_2768), (1, 2_654_435_761, 0x5014_6076_43A9_B4C3),
    (4, 0, 0x9136_A0DC_A574_57EE), (14, 0, 0x8282_DCC4_994E_35C8),
    (14, 2_654_435_761, 0xC3BD_6BF6_3DEB_6DF0), (222, 0, 0xB641_AE8C_B691_C174),
    (222, 2_654_435_761, 0x20CB_8AB7_AE10_C14A),
  ]

  @Test func matchesPublishedSanityVectors() {
    let buffer = sanityBuffer(222)
    for (length, seed, expected) in Self.vectors {
      let got = XXH64.hash(buffer[0..<length], seed: seed)
      #expect(got == expected, "length \(length), seed \(seed)")
    }
  }

  @Test func matchesPublishedStringVectors() {
    #expect(XXH64.hash(Array("a".utf8)) == 0xD24E_C4F1_A98C_6E5B)
    #expect(XXH64.hash(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
  }

  @Test func streamingInPiecesEqualsOneShot() {
    var random = SplitMix64(state: 42)
    let bytes = (0..<1000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    for length in [0, 1, 7, 31, 32, 33, 63, 64, 100, 1000] {
      let data = Array(bytes[0..<length])
      let oneShot = XXH64.hash(data, seed: 7)
      for trial in 0..<20 {
        var hasher = XXH64(seed: 7)
        var position = 0
        while position < length {
          let step = min(length - position, Int(random.next() % 40))
          hasher.update(data[position..<(position + step)])
          position += step
        }
        #expect(hasher.digest() == oneShot, "length \(length), trial \(trial)")
      }
    }
  }

  @Test func nonContiguousCollectionEqualsArray() {
    let bytes = sanityBuffer(5000)
    let lazy = bytes.lazy.map { $0 }
    #expect(XXH64.hash(lazy) == XXH64.hash(bytes))
  }

  @Test func digestLeavesStateUsable() {
    let bytes = sanityBuffer(100)
    var hasher = XXH64()
    hasher.update(bytes[0..<50])
    _ = hasher.digest()
    hasher.update(bytes[50..<100])
    #expect(hasher.digest() == XXH64.hash(bytes))
  }
}
