import Hashing

/// Where a container reader gets its bytes: a file, a pipe, memory.
///
/// The reader asks for bytes in pieces of at most 1 MiB, so a source never has to hold the
/// whole file, and a damaged length field cannot make the reader allocate more than the input
/// really delivers (plus one piece).
public protocol ByteSource {
  /// Reads the next bytes: between 1 and `maxCount` of them, or none at the end of the input.
  /// Fewer than `maxCount` bytes do not mean the end; only an empty array does.
  mutating func read(upTo maxCount: Int) throws -> [UInt8]
  /// The number of bytes left, when the source knows it (a regular file, memory), or nil
  /// (a pipe). The reader uses it to refuse impossible lengths before reading them.
  var remainingByteCount: UInt64? { get }
}

/// A byte source over an array in memory.
public struct MemoryByteSource: ByteSource, Sendable {
  private let bytes: [UInt8]
  private var position = 0

  public init(_ bytes: [UInt8]) { self.bytes = bytes }

  public mutating func read(upTo maxCount: Int) throws -> [UInt8] {
    let count = min(max(maxCount, 0), bytes.count - position)
    defer { position += count }
    return Array(bytes[position..<(position + count)])
  }

  public var remainingByteCount: UInt64? { UInt64(bytes.count - position) }
}

/// Little-endian encoding into a growing byte array.
package struct LittleEndianWriter {
  package private(set) var bytes: [UInt8] = []

  package init() {}

  package mutating func u8(_ value: UInt8) { bytes.append(value) }
  package mutating func u16(_ value: UInt16) { put(value) }
  package mutating func u32(_ value: UInt32) { put(value) }
  package mutating func u64(_ value: UInt64) { put(value) }
  package mutating func raw(_ values: some Sequence<UInt8>) { bytes.append(contentsOf: values) }

  private mutating func put<T: FixedWidthInteger>(_ value: T) {
    var v = value
    for _ in 0..<(T.bitWidth / 8) {
      bytes.append(UInt8(truncatingIfNeeded: v))
      v >>= 8
    }
  }
}

/// Little-endian decoding from a byte array, which throws (never traps) past the end.
package struct LittleEndianCursor {
  package let bytes: [UInt8]
  package private(set) var position: Int
  /// Names the structure in errors ("header", "layout").
  private let what: String

  package init(_ bytes: [UInt8], position: Int = 0, what: String) {
    self.bytes = bytes
    self.position = position
    self.what = what
  }

  package var remaining: Int { bytes.count - position }

  package mutating func u8() throws -> UInt8 { try UInt8(take(1)) }
  package mutating func u16() throws -> UInt16 { try UInt16(take(2)) }
  package mutating func u32() throws -> UInt32 { try UInt32(take(4)) }
  package mutating func u64() throws -> UInt64 { try take(8) }

  /// The next `count` bytes.
  package mutating func raw(_ count: Int) throws -> [UInt8] {
    guard count >= 0, count <= remaining else {
      throw ContainerError.malformed(
        "the \(what) needs \(count) more bytes at offset \(position), but has \(remaining)")
    }
    defer { position += count }
    return Array(bytes[position..<(position + count)])
  }

  private mutating func take(_ width: Int) throws -> UInt64 {
    guard width <= remaining else {
      throw ContainerError.malformed(
        "the \(what) needs \(width) more bytes at offset \(position), but has \(remaining)")
    }
    var value: UInt64 = 0
    for i in stride(from: width - 1, through: 0, by: -1) {
      value = (value << 8) | UInt64(bytes[position + i])
    }
    position += width
    return value
  }
}

/// A byte source that counts the offset and reads exact lengths in bounded pieces.
struct TrackedSource {
  /// The largest piece asked of the source at once: 1 MiB.
  static let pieceSize = 1 << 20

  var source: any ByteSource
  private(set) var offset: UInt64 = 0

  init(_ source: any ByteSource) { self.source = source }

  /// The bytes left when the source knows them.
  var remaining: UInt64? { source.remainingByteCount }

  /// Throws `truncated` at once if the source knows it holds fewer than `needed` bytes.
  func require(_ needed: UInt64, section: String) throws {
    if let left = remaining, left < needed {
      throw ContainerError.truncated(section: section, offset: offset, needed: needed, available: left)
    }
  }

  /// Exactly `count` bytes, or `truncated` naming `section`. Memory grows with what the source
  /// delivers, never with what `count` claims.
  mutating func read(_ count: UInt64, section: String) throws -> [UInt8] {
    try require(count, section: section)
    var out: [UInt8] = []
    out.reserveCapacity(Int(min(count, UInt64(Self.pieceSize))))
    try pump(count, section: section) { out.append(contentsOf: $0) }
    return out
  }

  /// Reads exactly `count` bytes and returns their XXH64 without keeping them.
  mutating func hash(_ count: UInt64, section: String) throws -> UInt64 {
    try require(count, section: section)
    var hasher = XXH64()
    try pump(count, section: section) { hasher.update($0) }
    return hasher.digest()
  }

  /// Up to `count` bytes: fewer only when the input ends first.
  mutating func readAvailable(upTo count: Int) throws -> [UInt8] {
    var out: [UInt8] = []
    while out.count < count {
      let piece = try source.read(upTo: count - out.count)
      if piece.isEmpty { break }
      out += piece.prefix(count - out.count)
    }
    offset += UInt64(out.count)
    return out
  }

  /// Whether the input has ended (reads at most one byte, which is lost).
  mutating func atEnd() throws -> (Bool, UInt64) {
    if let left = remaining { return (left == 0, left) }
    return (try source.read(upTo: 1).isEmpty, 1)
  }

  private mutating func pump(
    _ count: UInt64, section: String, _ body: ([UInt8]) -> Void
  ) throws {
    let start = offset
    var left = count
    while left > 0 {
      let piece = try source.read(upTo: Int(min(left, UInt64(Self.pieceSize))))
      if piece.isEmpty {
        throw ContainerError.truncated(
          section: section, offset: start, needed: count, available: count - left)
      }
      let taken = UInt64(min(piece.count, Int(left)))
      body(taken == UInt64(piece.count) ? piece : Array(piece[0..<Int(taken)]))
      left -= taken
      offset += taken
    }
  }
}
