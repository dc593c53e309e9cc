import CZlib

/// The encoder, and its settings, that makes a gzip member's deflate stream exactly: what the
/// side bytes record so that the decompressor can make the same stream again.
public enum DeflateEncoding: Sendable, Equatable, CustomStringConvertible {
  /// zlib's raw deflate (window bits 15, memLevel 8, default strategy) at level 0…9: files
  /// written through zlib (Python's gzip module, zlib's gzwrite, pigz -i excepted).
  case zlib(level: Int)
  /// GNU gzip 1.x at level 1…9 (`gzip -N`): the official MNIST and Fashion-MNIST files.
  case gnu(level: Int)

  public var description: String {
    switch self {
    case .zlib(let level): return "zlib level \(level)"
    case .gnu(let level): return "GNU gzip -\(level)"
    }
  }

  /// Every encoding the compressor tries on a gzip file, in the order of preference when
  /// several make the same stream: zlib first, whose side bytes every earlier bbans reads.
  static let all: [DeflateEncoding] = (0...9).map { .zlib(level: $0) } + (1...9).map { .gnu(level: $0) }

  /// A new encoder of this kind.
  func makeStream() throws -> DeflateStream {
    switch self {
    case .zlib(let level): return try ZlibDeflateStream(level: level)
    case .gnu(let level): return GNUDeflateStream(level: level)
    }
  }
}

/// A raw deflate encoder fed piece by piece. Its output depends only on the bytes fed, never
/// on how they were cut into pieces: that is what lets the compressor check, while it reads a
/// file, that the decompressor will make the same stream.
protocol DeflateStream: AnyObject {
  func compress(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws
  func finish(output: (UnsafeRawBufferPointer) throws -> Void) throws
}

/// zlib's raw deflate, fed exactly as the first versions of bbans fed it (pieces of 1 MiB, the
/// last one with Z_FINISH; a 64 KiB output buffer): zlib's stored blocks (level 0) depend on
/// that pattern, and files compressed then must keep decoding to the same bytes.
final class ZlibDeflateStream: DeflateStream {
  static let pieceSize = 1 << 20
  private var stream = z_stream()
  private var staged: UnsafeMutableRawBufferPointer
  private var stagedCount = 0
  private var outputBuffer: UnsafeMutableRawBufferPointer

  init(level: Int) throws {
    precondition((0...9).contains(level), "zlib level \(level) is not 0 to 9")
    let status = deflateInit2_(
      &stream, Int32(level), Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else { throw IOError.codecFailure(library: "zlib", message: "deflateInit2 failed (\(status))") }
    staged = .allocate(byteCount: Self.pieceSize, alignment: 16)
    outputBuffer = .allocate(byteCount: 1 << 16, alignment: 16)
  }

  deinit {
    deflateEnd(&stream)
    staged.deallocate()
    outputBuffer.deallocate()
  }

  func compress(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws {
    var offset = 0
    while offset < input.count {
      // A full piece goes to zlib only once more bytes follow it: the last piece must carry
      // Z_FINISH, as it always did.
      if stagedCount == Self.pieceSize { try run(flush: Z_NO_FLUSH, output: output) }
      let take = min(input.count - offset, Self.pieceSize - stagedCount)
      (staged.baseAddress! + stagedCount).copyMemory(from: input.baseAddress! + offset, byteCount: take)
      stagedCount += take
      offset += take
    }
  }

  func finish(output: (UnsafeRawBufferPointer) throws -> Void) throws {
    try run(flush: Z_FINISH, output: output)
  }

  private func run(flush: Int32, output: (UnsafeRawBufferPointer) throws -> Void) throws {
    stream.next_in = staged.baseAddress!.assumingMemoryBound(to: UInt8.self)
    stream.avail_in = UInt32(stagedCount)
    repeat {
      stream.next_out = outputBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
      stream.avail_out = UInt32(outputBuffer.count)
      guard deflate(&stream, flush) != Z_STREAM_ERROR else {
        throw IOError.codecFailure(library: "zlib", message: "deflate failed")
      }
      let produced = outputBuffer.count - Int(stream.avail_out)
      if produced > 0 { try output(UnsafeRawBufferPointer(rebasing: outputBuffer[0..<produced])) }
    } while stream.avail_out == 0
    stagedCount = 0
  }
}

/// zlib's raw inflate, fed piece by piece.
final class Inflater {
  private var stream = z_stream()
  private var outputBuffer: UnsafeMutableRawBufferPointer
  /// Whether the deflate stream has ended.
  private(set) var ended = false

  init() throws {
    guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw IOError.codecFailure(library: "zlib", message: "inflateInit2 failed")
    }
    outputBuffer = .allocate(byteCount: 1 << 18, alignment: 16)
  }

  deinit {
    inflateEnd(&stream)
    outputBuffer.deallocate()
  }

  /// Inflates as much of `input` as belongs to the stream, handing out the content in pieces of
  /// at most 256 KiB, each with the compressed bytes consumed to make it; returns how many bytes
  /// of `input` the stream took (fewer than all when it ended, or after `maxPieces` pieces: a
  /// few bytes of deflate can hold a thousand times as many of content).
  /// - Throws: `IOError.malformed` for a damaged stream.
  func inflate(
    _ input: UnsafeRawBufferPointer, maxPieces: Int = .max,
    output: (_ consumed: UnsafeRawBufferPointer, _ content: UnsafeRawBufferPointer) throws -> Void
  ) throws -> Int {
    guard !ended, input.count > 0 else { return 0 }
    precondition(input.count <= Int(UInt32.max), "Inflater.inflate takes pieces of at most 4 GiB (zlib's counters), not \(input.count) bytes")
    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: UInt8.self))
    stream.avail_in = UInt32(input.count)
    var taken = 0
    var pieces = 0
    while true {
      if pieces == maxPieces { return taken }
      pieces += 1
      stream.next_out = outputBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
      stream.avail_out = UInt32(outputBuffer.count)
      let status = CZlib.inflate(&stream, Z_NO_FLUSH)
      let now = input.count - Int(stream.avail_in)
      let produced = outputBuffer.count - Int(stream.avail_out)
      try output(
        UnsafeRawBufferPointer(rebasing: input[taken..<now]),
        UnsafeRawBufferPointer(rebasing: outputBuffer[0..<produced]))
      taken = now
      switch status {
      case Z_STREAM_END:
        ended = true
        return taken
      case Z_OK:
        if stream.avail_in == 0 && stream.avail_out != 0 { return taken }
      case Z_BUF_ERROR:
        return taken  // no progress possible: the input is used up
      default:
        let message = stream.msg.map { String(cString: $0) } ?? "status \(status)"
        throw IOError.malformed(format: "gzip", reason: "the deflate stream is damaged (\(message))")
      }
    }
  }
}

/// CRC-32 (gzip's), updated piece by piece through zlib.
struct CRC32 {
  private(set) var value: UInt32 = 0

  mutating func update(_ bytes: UnsafeRawBufferPointer) {
    var crc = UInt(value)
    var offset = 0
    while offset < bytes.count {
      let piece = min(bytes.count - offset, 1 << 30)
      crc = CZlib.crc32(crc, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, UInt32(piece))
      offset += piece
    }
    value = UInt32(truncatingIfNeeded: crc)
  }
}
