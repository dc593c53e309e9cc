import Foundation

/// gzip files (RFC 1952) in memory: take a file apart into its wrapper and content, and find
/// the encoder that rebuilds its deflate stream exactly (`DeflateMatcher`; the compressor does
/// the same while it streams, `GzipScan`).
///
/// A deflate stream is not determined by its content: each compressor (and each level) makes its
/// own choices. A file is rebuilt byte for byte only when one of `DeflateEncoding.all` makes
/// exactly its stream: zlib's raw deflate (window bits 15, memLevel 8, default strategy) for
/// files written through zlib (Python's gzip module, zlib's gzwrite), GNU gzip's own deflate for
/// files written by `gzip` (MNIST's and Fashion-MNIST's .gz files among them).
package enum Gzip {
  /// The largest content this code inflates: 2^32 bytes.
  static let maxInflatedSize = 1 << 32
  /// Pieces handed to zlib at once (its counters are 32-bit).
  private static let pieceSize = 1 << 20

  /// A gzip file taken apart.
  struct Unwrapped {
    /// The decompressed bytes, all members together.
    var content: [UInt8]
    /// The first member's header and trailer (encoding still nil).
    var wrapper: GzipWrapper
    /// Where the first member's deflate stream lies in the file.
    var deflateRange: Range<Int>
    /// Whether the file is one member and nothing after it (else it cannot be rebuilt).
    var isSingleMember: Bool
  }

  static func hasMagic(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
  }

  private static func fail(_ reason: String) -> IOError { .malformed(format: "gzip", reason: reason) }

  /// Takes a gzip file apart, checking each member's CRC-32 and length.
  static func unwrap(_ bytes: [UInt8]) throws -> Unwrapped {
    var content: [UInt8] = []
    var position = 0
    var first: Unwrapped?
    while position < bytes.count {
      guard bytes.count - position >= 2, bytes[position] == 0x1F, bytes[position + 1] == 0x8B else {
        if first != nil { break }  // bytes after the last member: kept as they are, not rebuilt
        throw fail("the file does not start with 1F 8B")
      }
      let headerEnd = try memberHeaderEnd(bytes, at: position)
      let before = content.count
      let consumed = try inflate(bytes, from: headerEnd, appendingTo: &content)
      let end = headerEnd + consumed
      guard bytes.count - end >= 8 else {
        throw fail("the member at offset \(position) ends before its 8-byte trailer")
      }
      let trailer = Array(bytes[end..<(end + 8)])
      let storedCRC = UInt32(trailer[0]) | UInt32(trailer[1]) << 8 | UInt32(trailer[2]) << 16 | UInt32(trailer[3]) << 24
      let storedSize = UInt32(trailer[4]) | UInt32(trailer[5]) << 8 | UInt32(trailer[6]) << 16 | UInt32(trailer[7]) << 24
      let crc = crc32(of: content[before...])
      guard crc == storedCRC else {
        throw fail("the member at offset \(position) has CRC-32 \(storedCRC), its content gives \(crc)")
      }
      guard UInt32(truncatingIfNeeded: content.count - before) == storedSize else {
        throw fail("the member at offset \(position) says \(storedSize) bytes (mod 2^32), it has \(content.count - before)")
      }
      if first == nil {
        first = Unwrapped(
          content: [], wrapper: GzipWrapper(header: Array(bytes[position..<headerEnd]), encoding: nil, trailer: trailer),
          deflateRange: headerEnd..<end, isSingleMember: true)
      } else {
        first!.isSingleMember = false
      }
      position = end + 8
    }
    guard var result = first else { throw fail("the file is empty") }
    if position < bytes.count { result.isSingleMember = false }
    result.content = content
    return result
  }

  /// The offset where the deflate stream of the member at `start` begins.
  private static func memberHeaderEnd(_ bytes: [UInt8], at start: Int) throws -> Int {
    guard let size = try memberHeaderSize(Array(bytes[start...])) else {
      throw fail("the member at offset \(start) has a truncated header")
    }
    return start + size
  }

  /// The size of the member header at the start of `bytes` (ID1 ID2 CM FLG MTIME XFL OS, then
  /// the optional extra field, file name, comment and header CRC), or nil when `bytes` ends
  /// before it does.
  /// - Throws: `IOError.malformed` for a method other than deflate or reserved flags.
  static func memberHeaderSize(_ bytes: [UInt8]) throws -> Int? {
    guard bytes.count >= 10 else { return nil }
    guard bytes[0] == 0x1F && bytes[1] == 0x8B else { throw fail("the member does not start with 1F 8B") }
    guard bytes[2] == 8 else { throw fail("compression method \(bytes[2]) is not deflate (8)") }
    let flags = bytes[3]
    guard flags & 0xE0 == 0 else { throw fail("reserved header flags are set (\(flags))") }
    var position = 10
    if flags & 0x04 != 0 {  // FEXTRA: u16 length, then data
      guard bytes.count - position >= 2 else { return nil }
      let length = Int(bytes[position]) | Int(bytes[position + 1]) << 8
      guard bytes.count - position - 2 >= length else { return nil }
      position += 2 + length
    }
    for flag in [UInt8(0x08), 0x10] where flags & flag != 0 {  // FNAME, FCOMMENT: zero-terminated
      guard let zero = bytes[position...].firstIndex(of: 0) else { return nil }
      position = zero + 1
    }
    if flags & 0x02 != 0 {  // FHCRC
      guard bytes.count - position >= 2 else { return nil }
      position += 2
    }
    return position
  }

  /// Inflates the raw deflate stream at `start`, appending to `output`; returns the number of
  /// compressed bytes it took.
  private static func inflate(_ bytes: [UInt8], from start: Int, appendingTo output: inout [UInt8]) throws -> Int {
    let inflater = try Inflater()
    var position = start
    try bytes.withUnsafeBytes { all in
      // Pieces of at most `pieceSize`: zlib's counters are 32-bit.
      while !inflater.ended && position < all.count {
        let piece = UnsafeRawBufferPointer(rebasing: all[position..<min(all.count, position + pieceSize)])
        let taken = try inflater.inflate(piece) { _, content in
          if output.count + content.count > maxInflatedSize {
            throw IOError.limitExceeded(
              field: "inflated size", value: UInt64(output.count + content.count), limit: UInt64(maxInflatedSize))
          }
          output.append(contentsOf: content)
        }
        if taken == 0 { break }
        position += taken
      }
    }
    guard inflater.ended else { throw fail("the deflate stream is truncated") }
    return position - start
  }

  /// CRC-32 (the gzip one), through zlib.
  static func crc32(of bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc = CRC32()
    bytes.withUnsafeBytes { crc.update($0) }
    return crc.value
  }

  /// The encoding of `DeflateEncoding.all` whose raw deflate of `content` is exactly `stream`,
  /// or nil (in memory; the compressor does the same as it reads).
  static func matchingEncoding(content: [UInt8], stream: ArraySlice<UInt8>) throws -> DeflateEncoding? {
    let matcher = try DeflateMatcher()
    Array(stream).withUnsafeBytes { matcher.addOriginal($0) }
    try content.withUnsafeBytes { try matcher.addContent($0) }
    return try matcher.finish()
  }

  /// The raw deflate of `content` by `encoding`.
  static func deflate(_ content: [UInt8], encoding: DeflateEncoding) throws -> [UInt8] {
    var output: [UInt8] = []
    let stream = try encoding.makeStream()
    try content.withUnsafeBytes { try stream.compress($0) { output.append(contentsOf: $0) } }
    try stream.finish { output.append(contentsOf: $0) }
    return output
  }

  /// A gzip file of `content`: `header` (default: no name, no time, OS Unix, XFL from the
  /// level), zlib's raw deflate at `level`, CRC-32 and size.
  package static func wrap(_ content: [UInt8], level: Int, header: [UInt8]? = nil) throws -> [UInt8] {
    let xfl: UInt8 = level == 9 ? 2 : level == 1 ? 4 : 0
    var output = header ?? [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, xfl, 3]
    output += try deflate(content, encoding: .zlib(level: level))
    output += trailer(for: content)
    return output
  }

  /// The 8-byte member trailer of `content`: CRC-32 and size mod 2^32, little-endian.
  static func trailer(for content: [UInt8]) -> [UInt8] {
    let crc = crc32(of: content[...])
    let size = UInt32(truncatingIfNeeded: content.count)
    return (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) } + (0..<4).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) }
  }
}
