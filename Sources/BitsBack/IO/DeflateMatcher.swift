#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds, while a gzip member is read, which encoder makes its deflate stream byte for byte.
///
/// A deflate stream is not determined by its content: each encoder and level makes its own
/// choices of matches and block boundaries. The decompressor rebuilds a gzip file by deflating
/// the content again, so the compressor keeps a gzip file's model coding only when one of
/// `DeflateEncoding.all` makes exactly the file's stream. Every candidate deflates the content
/// as it is inflated, and its output is compared with the original stream as it goes; a
/// candidate dies at its first differing byte (usually within the first block), so the cost is
/// about one deflate pass, by the encoder that matches.
///
/// Memory: the original stream's bytes are kept from the oldest position a live candidate has
/// not yet confirmed: about one deflate block.
final class DeflateMatcher {
  private final class Candidate {
    let encoding: DeflateEncoding
    let stream: DeflateStream
    /// Bytes of the original stream this candidate has made, all equal so far.
    var matched = 0
    /// Output made beyond the original bytes known so far, waiting to be compared.
    var pending: [UInt8] = []
    var alive = true

    init(encoding: DeflateEncoding, stream: DeflateStream) {
      self.encoding = encoding
      self.stream = stream
    }
  }

  private var candidates: [Candidate]
  /// The original stream's bytes from offset `base` on.
  private var original: [UInt8] = []
  private var base = 0
  private var originalCount = 0
  /// The most output a candidate may make ahead of the original bytes known (it cannot match
  /// if it runs that far ahead: the inflater always sees the stream before its content).
  private static let maxPending = 4 << 20

  init(encodings: [DeflateEncoding] = DeflateEncoding.all) throws {
    candidates = try encodings.map { Candidate(encoding: $0, stream: try $0.makeStream()) }
  }

  /// Whether some candidate still matches.
  var isAlive: Bool { candidates.contains { $0.alive } }

  /// The original stream's next bytes (before the content they make).
  func addOriginal(_ bytes: UnsafeRawBufferPointer) {
    guard isAlive, bytes.count > 0 else { return }
    original.append(contentsOf: bytes)
    originalCount += bytes.count
    for candidate in candidates where candidate.alive && !candidate.pending.isEmpty {
      let waiting = candidate.pending
      candidate.pending = []
      waiting.withUnsafeBytes { compare(candidate, $0) }
    }
    trim()
  }

  /// The next bytes of the content.
  func addContent(_ bytes: UnsafeRawBufferPointer) throws {
    guard bytes.count > 0 else { return }
    for candidate in candidates where candidate.alive {
      try candidate.stream.compress(bytes) { compare(candidate, $0) }
    }
  }

  /// After the whole stream and content: the encoding that made exactly the stream, or nil.
  func finish() throws -> DeflateEncoding? {
    for candidate in candidates where candidate.alive {
      try candidate.stream.finish { compare(candidate, $0) }
    }
    return candidates.first { $0.alive && $0.pending.isEmpty && $0.matched == originalCount }?.encoding
  }

  private func compare(_ candidate: Candidate, _ piece: UnsafeRawBufferPointer) {
    guard candidate.alive, piece.count > 0 else { return }
    let known = min(piece.count, originalCount - candidate.matched)
    if known > 0 {
      let same = original.withUnsafeBytes { all in
        memcmp(all.baseAddress! + (candidate.matched - base), piece.baseAddress!, known) == 0
      }
      guard same else {
        candidate.alive = false
        candidate.pending = []
        return
      }
      candidate.matched += known
    }
    if known < piece.count {
      candidate.pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: piece[known...]))
      if candidate.pending.count > Self.maxPending {
        candidate.alive = false
        candidate.pending = []
      }
    }
  }

  /// Drops the original bytes every live candidate has confirmed.
  private func trim() {
    guard let oldest = candidates.lazy.filter(\.alive).map(\.matched).min() else {
      original = []
      base = originalCount
      return
    }
    if oldest - base >= 1 << 20 {
      original.removeFirst(oldest - base)
      base = oldest
    }
  }
}
