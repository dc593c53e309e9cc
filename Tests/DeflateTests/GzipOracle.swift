import Deflate
import Foundation

/// GNU gzip as the oracle: what `gzip -N -n -c FILE` writes, header and trailer cut off.
///
/// The input goes through a temporary file, not a pipe: from a regular file every read of
/// gzip gets all it asks for, while a pipe may hand it shorter reads, which move its window
/// refills and with them its output.
enum GzipOracle {
  static let path = "/usr/bin/gzip"
  static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: path) }

  /// Runs gzip with `arguments` and returns its standard output.
  static func run(_ arguments: [String]) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw OracleError.failed(arguments: arguments, status: process.terminationStatus)
    }
    return [UInt8](data)
  }

  /// The raw deflate streams gzip makes of `bytes` at each of `levels`.
  static func rawDeflate(of bytes: [UInt8], levels: [Int]) throws -> [Int: [UInt8]] {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("deflate-oracle-\(UUID().uuidString)")
    try Data(bytes).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    var streams: [Int: [UInt8]] = [:]
    for level in levels {
      let member = try run(["-\(level)", "-n", "-c", url.path])
      streams[level] = try GzipMember(member).deflateStream
    }
    return streams
  }

  /// The decompressed content of the gzip file at `path`.
  static func decompress(path: String) throws -> [UInt8] {
    try run(["-dc", path])
  }
}

enum OracleError: Error, CustomStringConvertible {
  case failed(arguments: [String], status: Int32)
  case notGzip(length: Int)

  var description: String {
    switch self {
    case .failed(let arguments, let status):
      return "gzip \(arguments.joined(separator: " ")) exited with status \(status)"
    case .notGzip(let length):
      return "a gzip member of \(length) bytes has no valid header"
    }
  }
}

/// One gzip member (RFC 1952): its deflate stream lies between the header, whose optional
/// fields (FEXTRA, FNAME, FCOMMENT, FHCRC) are skipped, and the 8-byte CRC-32 and size.
struct GzipMember {
  let deflateStream: [UInt8]

  init(_ bytes: [UInt8]) throws {
    guard bytes.count >= 18, bytes[0] == 0x1F, bytes[1] == 0x8B, bytes[2] == 8 else {
      throw OracleError.notGzip(length: bytes.count)
    }
    let flags = bytes[3]
    var position = 10
    func skipZeroTerminated() throws {
      guard let end = bytes[position...].firstIndex(of: 0) else { throw OracleError.notGzip(length: bytes.count) }
      position = end + 1
    }
    if flags & 4 != 0 { position += 2 + Int(bytes[position]) | Int(bytes[position + 1]) << 8 }
    if flags & 8 != 0 { try skipZeroTerminated() }
    if flags & 16 != 0 { try skipZeroTerminated() }
    if flags & 2 != 0 { position += 2 }
    guard position <= bytes.count - 8 else { throw OracleError.notGzip(length: bytes.count) }
    deflateStream = Array(bytes[position..<(bytes.count - 8)])
  }
}

/// The encoder's output for `bytes`, fed in pieces of the sizes `pieceSizes` gives in turn.
func deflateInPieces(_ bytes: [UInt8], level: Int, pieceSizes: () -> Int) -> [UInt8] {
  let encoder = GNUDeflateEncoder(level: level)
  var stream: [UInt8] = []
  bytes.withUnsafeBytes { raw in
    var offset = 0
    while offset < raw.count {
      let end = min(raw.count, offset + max(1, pieceSizes()))
      encoder.compress(UnsafeRawBufferPointer(rebasing: raw[offset..<end])) { stream.append(contentsOf: $0) }
      offset = end
    }
  }
  encoder.finish { stream.append(contentsOf: $0) }
  return stream
}

/// The index of the first byte where `a` and `b` differ, or nil when they are equal; for
/// failure messages that locate the fault.
func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
  if a == b { return nil }
  return zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
}
