import CZlib
import Foundation

/// gzip files (RFC 1952) through zlib: take a file apart into its wrapper and content, and find
/// the zlib level that rebuilds its deflate stream exactly.
///
/// A deflate stream is not determined by its content: each compressor (and each level) makes its
/// own choices. A file is rebuilt byte for byte only when zlib's raw deflate (window bits 15,
/// memLevel 8, default strategy) at some level makes exactly its stream, which is the case for
/// files written through zlib (Python's gzip module, zlib's gzwrite) and for small files written
/// by GNU gzip, but not for large ones written by GNU gzip (MNIST's .gz files among them), whose
/// blocks end elsewhere.
package enum Gzip {
  /// The largest content this code inflates: 2^32 bytes.
  static let maxInflatedSize = 1 << 32
  /// Pieces handed to zlib at once (its counters are 32-bit).
  private static let pieceSize = 1 << 20

  /// A gzip file taken apart.
  struct Unwrapped {
    /// The decompressed bytes, all members together.
    var content: [UInt8]
    /// The first member's header and trailer (level still nil).
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
          content: [], wrapper: GzipWrapper(header: Array(bytes[position..<headerEnd]), level: nil, trailer: trailer),
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
    guard bytes.count - start >= 10 else { throw fail("the member at offset \(start) has a header shorter than 10 bytes") }
    guard bytes[start + 2] == 8 else { throw fail("compression method \(bytes[start + 2]) is not deflate (8)") }
    let flags = bytes[start + 3]
    guard flags & 0xE0 == 0 else { throw fail("reserved header flags are set (\(flags))") }
    var position = start + 10
    if flags & 0x04 != 0 {  // FEXTRA: u16 length, then data
      guard bytes.count - position >= 2 else { throw fail("the extra field is truncated") }
      let length = Int(bytes[position]) | Int(bytes[position + 1]) << 8
      guard bytes.count - position - 2 >= length else { throw fail("the extra field is truncated") }
      position += 2 + length
    }
    for (flag, name) in [(UInt8(0x08), "file name"), (0x10, "comment")] where flags & flag != 0 {
      guard let zero = bytes[position...].firstIndex(of: 0) else { throw fail("the \(name) has no terminating zero") }
      position = zero + 1
    }
    if flags & 0x02 != 0 {  // FHCRC
      guard bytes.count - position >= 2 else { throw fail("the header CRC is truncated") }
      position += 2
    }
    return position
  }

  /// Inflates the raw deflate stream at `start`, appending to `output`; returns the number of
  /// compressed bytes it took.
  private static func inflate(_ bytes: [UInt8], from start: Int, appendingTo output: inout [UInt8]) throws -> Int {
    var stream = z_stream()
    guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw IOError.codecFailure(library: "zlib", message: "inflateInit2 failed")
    }
    defer { inflateEnd(&stream) }
    var buffer = [UInt8](repeating: 0, count: 1 << 18)
    return try bytes.withUnsafeBufferPointer { input in
      var fed = start
      while true {
        if stream.avail_in == 0 && fed < input.count {
          let piece = min(input.count - fed, pieceSize)
          stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + fed)
          stream.avail_in = UInt32(piece)
          fed += piece
        }
        let status = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
          stream.next_out = out.baseAddress
          stream.avail_out = UInt32(out.count)
          return CZlib.inflate(&stream, Z_NO_FLUSH)
        }
        let produced = buffer.count - Int(stream.avail_out)
        if output.count + produced > maxInflatedSize {
          throw IOError.limitExceeded(field: "inflated size", value: UInt64(output.count + produced), limit: UInt64(maxInflatedSize))
        }
        output.append(contentsOf: buffer[0..<produced])
        switch status {
        case Z_STREAM_END:
          return fed - Int(stream.avail_in) - start
        case Z_OK:
          continue
        case Z_BUF_ERROR where fed == input.count && stream.avail_in == 0:
          throw fail("the deflate stream is truncated")
        default:
          let message = stream.msg.map { String(cString: $0) } ?? "status \(status)"
          throw fail("the deflate stream is damaged (\(message))")
        }
      }
    }
  }

  /// CRC-32 (the gzip one), through zlib.
  static func crc32(of bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt = 0
    bytes.withUnsafeBufferPointer { buffer in
      var position = 0
      while position < buffer.count {
        let piece = min(buffer.count - position, pieceSize)
        crc = CZlib.crc32(crc, buffer.baseAddress! + position, UInt32(piece))
        position += piece
      }
    }
    return UInt32(truncatingIfNeeded: crc)
  }

  /// Compresses `input` with zlib's raw deflate at `level`, handing the output to `consume` in
  /// pieces; stops early, returning false, when `consume` returns false.
  static func deflateRaw(_ input: [UInt8], level: Int, _ consume: (UnsafeRawBufferPointer) -> Bool) throws -> Bool {
    precondition((0...9).contains(level), "zlib level \(level) is not 0 to 9")
    var stream = z_stream()
    let status = deflateInit2_(
      &stream, Int32(level), Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else { throw IOError.codecFailure(library: "zlib", message: "deflateInit2 failed (\(status))") }
    defer { deflateEnd(&stream) }
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    return try input.withUnsafeBufferPointer { source in
      var position = 0
      repeat {
        let piece = min(source.count - position, pieceSize)
        stream.next_in = source.baseAddress.map { UnsafeMutablePointer(mutating: $0 + position) }
        stream.avail_in = UInt32(piece)
        position += piece
        let flush = position == source.count ? Z_FINISH : Z_NO_FLUSH
        repeat {
          let result = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
            stream.next_out = out.baseAddress
            stream.avail_out = UInt32(out.count)
            return deflate(&stream, flush)
          }
          guard result != Z_STREAM_ERROR else { throw IOError.codecFailure(library: "zlib", message: "deflate failed") }
          let produced = buffer.count - Int(stream.avail_out)
          let keepGoing = buffer.withUnsafeBytes { consume(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
          if !keepGoing { return false }
        } while stream.avail_out == 0
      } while position < source.count
      return true
    }
  }

  /// The zlib level whose raw deflate of `content` is exactly `stream`, or nil. Tries first the
  /// level the header's XFL byte suggests (2 → 9, 4 → 1, else 6), then the others; each try
  /// stops at the first byte that differs (usually within the first block).
  static func matchingLevel(content: [UInt8], stream: ArraySlice<UInt8>, xfl: UInt8) throws -> Int? {
    let suggested = xfl == 2 ? 9 : xfl == 4 ? 1 : 6
    for level in [suggested] + (0...9).filter({ $0 != suggested }) {
      var matched = stream.startIndex
      let whole = try deflateRaw(content, level: level) { piece in
        guard stream.endIndex - matched >= piece.count else { return false }
        let same = stream[matched..<(matched + piece.count)].withUnsafeBytes { expected in
          memcmp(expected.baseAddress!, piece.baseAddress!, piece.count) == 0
        }
        matched += piece.count
        return same
      }
      if whole && matched == stream.endIndex { return level }
    }
    return nil
  }

  /// A gzip file of `content`: `header` (default: no name, no time, OS Unix, XFL from the
  /// level), zlib's raw deflate at `level`, CRC-32 and size.
  package static func wrap(_ content: [UInt8], level: Int, header: [UInt8]? = nil) throws -> [UInt8] {
    let xfl: UInt8 = level == 9 ? 2 : level == 1 ? 4 : 0
    var output = header ?? [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, xfl, 3]
    _ = try deflateRaw(content, level: level) { output.append(contentsOf: $0); return true }
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
