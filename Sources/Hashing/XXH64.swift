// Hashing: checksums for the container and the weights file.
//
// XXH64 (Yann Collet's xxHash, 64-bit variant), written from its public specification
// (xxhash_spec.md, "XXH64 algorithm description"). It is not a cryptographic hash: it guards
// against accidental damage (bit flips, truncation, a wrong model), not against an adversary.

/// The xxHash64 hash of a byte stream, fed in pieces of any size.
///
/// Feeding the bytes in several `update` calls gives the same digest as one call with all of
/// them (the state buffers a partial 32-byte stripe between calls).
///
/// Example:
/// ```swift
/// var hasher = XXH64()
/// hasher.update([1, 2, 3])
/// hasher.update([4, 5])
/// assert(hasher.digest() == XXH64.hash([1, 2, 3, 4, 5]))
/// ```
public struct XXH64: Sendable {
  // The five primes of the specification.
  static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
  static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
  static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
  static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
  static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

  /// The seed the hash started from.
  private let seed: UInt64
  /// The four accumulators of the stripe loop (spec step 2).
  private var acc1, acc2, acc3, acc4: UInt64
  /// Bytes fed so far, all calls together (the spec adds it at step 4, modulo 2^64).
  private var totalLength: UInt64 = 0
  /// A partial stripe carried to the next call: its first `pendingCount` bytes of 32.
  private var pending: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
  private var pendingCount = 0

  /// Starts a hash with a seed (0 unless the caller wants a separate family of hashes).
  public init(seed: UInt64 = 0) {
    self.seed = seed
    // Step 1: acc1 = seed + P1 + P2, acc2 = seed + P2, acc3 = seed, acc4 = seed − P1.
    acc1 = seed &+ Self.prime1 &+ Self.prime2
    acc2 = seed &+ Self.prime2
    acc3 = seed
    acc4 = seed &- Self.prime1
  }

  /// One lane step: acc = rotl(acc + lane·P2, 31) · P1.
  @inline(__always)
  static func round(_ acc: UInt64, _ lane: UInt64) -> UInt64 {
    rotl(acc &+ lane &* prime2, 31) &* prime1
  }

  /// Folds an accumulator into the converged value: acc = (acc ^ round(0, value)) · P1 + P4.
  @inline(__always)
  static func merge(_ acc: UInt64, _ value: UInt64) -> UInt64 {
    (acc ^ round(0, value)) &* prime1 &+ prime4
  }

  @inline(__always)
  static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

  /// Consumes whole 32-byte stripes from `base` (`count` a multiple of 32).
  @inline(__always)
  private mutating func consumeStripes(_ base: UnsafeRawPointer, count: Int) {
    var a1 = acc1, a2 = acc2, a3 = acc3, a4 = acc4
    var offset = 0
    while offset < count {
      let p = base + offset
      a1 = Self.round(a1, UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
      a2 = Self.round(a2, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
      a3 = Self.round(a3, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
      a4 = Self.round(a4, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
      offset += 32
    }
    acc1 = a1; acc2 = a2; acc3 = a3; acc4 = a4
  }

  /// Feeds bytes to the hash.
  /// - Complexity: O(n); several GB/s in release builds.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard let start = bytes.baseAddress, bytes.count > 0 else { return }
    totalLength &+= UInt64(bytes.count)
    var position = 0
    // Complete the pending stripe first.
    if pendingCount > 0 {
      let take = min(32 - pendingCount, bytes.count)
      let filled = pendingCount
      withUnsafeMutableBytes(of: &pending) { stripe in
        stripe.baseAddress!.advanced(by: filled).copyMemory(from: start, byteCount: take)
      }
      pendingCount += take
      position = take
      guard pendingCount == 32 else { return }
      let stripe = pending
      withUnsafeBytes(of: stripe) { consumeStripes($0.baseAddress!, count: 32) }
      pendingCount = 0
    }
    let whole = (bytes.count - position) & ~31
    if whole > 0 {
      consumeStripes(start + position, count: whole)
      position += whole
    }
    let rest = bytes.count - position
    if rest > 0 {
      let from = start + position
      withUnsafeMutableBytes(of: &pending) { stripe in
        stripe.baseAddress!.copyMemory(from: from, byteCount: rest)
      }
      pendingCount = rest
    }
  }

  /// Feeds bytes from any collection: arrays, array slices and other contiguous collections
  /// take the fast path; other collections are copied through a 4 KiB block.
  public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
    let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
      update(UnsafeRawBufferPointer(buffer))
    }
    if done != nil { return }
    var block = [UInt8]()
    block.reserveCapacity(4096)
    for byte in bytes {
      block.append(byte)
      if block.count == 4096 {
        block.withUnsafeBytes { update($0) }
        block.removeAll(keepingCapacity: true)
      }
    }
    block.withUnsafeBytes { update($0) }
  }

  /// The hash of every byte fed so far; the state is unchanged, so more bytes may follow.
  public func digest() -> UInt64 {
    var acc: UInt64
    if totalLength >= 32 {
      // Step 3: converge the four accumulators, then merge each one.
      acc = Self.rotl(acc1, 1) &+ Self.rotl(acc2, 7) &+ Self.rotl(acc3, 12) &+ Self.rotl(acc4, 18)
      acc = Self.merge(acc, acc1)
      acc = Self.merge(acc, acc2)
      acc = Self.merge(acc, acc3)
      acc = Self.merge(acc, acc4)
    } else {
      // Short input: acc = seed + P5.
      acc = seed &+ Self.prime5
    }
    // Step 4: add the length.
    acc &+= totalLength
    // Step 5: the bytes of the last partial stripe, 8, then 4, then 1 at a time.
    let count = pendingCount
    withUnsafeBytes(of: pending) { raw in
      var offset = 0
      while offset + 8 <= count {
        let lane = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        acc ^= Self.round(0, lane)
        acc = Self.rotl(acc, 27) &* Self.prime1 &+ Self.prime4
        offset += 8
      }
      if offset + 4 <= count {
        let lane = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        acc ^= lane &* Self.prime1
        acc = Self.rotl(acc, 23) &* Self.prime2 &+ Self.prime3
        offset += 4
      }
      while offset < count {
        acc ^= UInt64(raw[offset]) &* Self.prime5
        acc = Self.rotl(acc, 11) &* Self.prime1
        offset += 1
      }
    }
    // Step 6: the avalanche.
    acc ^= acc >> 33
    acc &*= Self.prime2
    acc ^= acc >> 29
    acc &*= Self.prime3
    acc ^= acc >> 32
    return acc
  }

  /// The hash of `bytes` in one call.
  public static func hash(_ bytes: some Collection<UInt8>, seed: UInt64 = 0) -> UInt64 {
    var hasher = XXH64(seed: seed)
    hasher.update(bytes)
    return hasher.digest()
  }
}
