import Deflate
import Testing
import TestSupport

/// The encoder against GNU gzip: the same deflate stream, byte for byte, at every level, and
/// the same whatever the sizes of the pieces the input comes in.
@Suite struct GNUDeflateEncoderTests {
  /// Streams of GNU gzip 1.12 (`gzip -N -n -c`, header and trailer cut off), pinned so that
  /// they are checked where no gzip is installed.
  @Test(arguments: [
    ([UInt8](), 6, [0x03, 0x00]),
    (Array("a".utf8), 6, [0x4B, 0x04, 0x00]),
    (Array("abc".utf8), 6, [0x4B, 0x4C, 0x4A, 0x06, 0x00]),
    ([UInt8](repeating: 0, count: 1000), 1, [0x63, 0x60, 0x18, 0x05, 0xA3, 0x21, 0x30, 0x1A, 0x02, 0xC3, 0x3D, 0x04, 0x00]),
    ([UInt8](repeating: 0, count: 1000), 9, [0x63, 0x60, 0x18, 0x05, 0xA3, 0x60, 0x14, 0x0C, 0x77, 0x00, 0x00]),
    (
      Array(String(repeating: "hello hello hello hello, deflate!\n", count: 20).utf8), 6,
      [
        0xCB, 0x48, 0xCD, 0xC9, 0xC9, 0x57, 0xC8, 0x40, 0x27, 0x75, 0x14, 0x52, 0x52, 0xD3, 0x72, 0x12,
        0x4B, 0x52, 0x15, 0xB9, 0x30, 0xE4, 0x46, 0x55, 0x8C, 0xAA, 0xA0, 0xBB, 0x0A, 0x00,
      ]
    ),
  ] as [([UInt8], Int, [UInt8])])
  func smallInputsGiveGzipsPinnedStreams(input: [UInt8], level: Int, expected: [UInt8]) {
    #expect(GNUDeflateEncoder.deflate(input, level: level) == expected)
  }

  @Test(.enabled(if: GzipOracle.isAvailable), arguments: Corpus.cases)
  func matchesGNUGzipAtEveryLevel(_ input: CorpusCase) throws {
    let levels = Array(1...9)
    let expected = try GzipOracle.rawDeflate(of: input.bytes, levels: levels)
    for level in levels {
      let stream = GNUDeflateEncoder.deflate(input.bytes, level: level)
      #expect(
        stream == expected[level],
        "level \(level): \(stream.count) bytes, gzip \(expected[level]?.count ?? 0); first difference at \(firstDifference(stream, expected[level] ?? []) ?? -1)")
    }
  }

  /// 8 MiB and one byte either side, at the fast, default and best levels.
  @Test(.enabled(if: GzipOracle.isAvailable), arguments: Corpus.large)
  func matchesGNUGzipAroundEightMebibytes(_ input: CorpusCase, level: Int) throws {
    let expected = try #require(try GzipOracle.rawDeflate(of: input.bytes, levels: [level])[level])
    let stream = GNUDeflateEncoder.deflate(input.bytes, level: level)
    #expect(stream == expected, "level \(level): first difference at \(firstDifference(stream, expected) ?? -1)")
  }

  /// The parse waits for full reads, so pieces of random sizes (from 1 byte to more than the
  /// window) and pieces of one byte give the one-call stream.
  @Test(arguments: Corpus.cases.filter { $0.bytes.count >= 1000 && $0.bytes.count <= 200_000 }.prefix(14))
  func outputDoesNotDependOnHowTheInputIsCut(_ input: CorpusCase) {
    var generator = SeededGenerator(seed: UInt64(input.bytes.count))
    for level in [1, 3, 4, 6, 9] {
      let whole = GNUDeflateEncoder.deflate(input.bytes, level: level)
      let limits = [1, 7, 300, 70_000]
      let limit = limits[Int.random(in: 0..<limits.count, using: &generator)]
      let cut = deflateInPieces(input.bytes, level: level) { Int.random(in: 1...limit, using: &generator) }
      #expect(cut == whole, "level \(level), pieces of 1...\(limit): first difference at \(firstDifference(cut, whole) ?? -1)")
    }
    let bytewise = deflateInPieces(input.bytes, level: 6) { 1 }
    #expect(bytewise == GNUDeflateEncoder.deflate(input.bytes, level: 6), "level 6 in pieces of 1 byte")
  }

  /// `compress` with an empty piece, and `finish` right after `init`, change nothing.
  @Test func emptyPiecesChangeNothing() {
    let bytes = Corpus.text(5000, seed: 1)
    let encoder = GNUDeflateEncoder(level: 6)
    var stream: [UInt8] = []
    [UInt8]().withUnsafeBytes { encoder.compress($0) { stream.append(contentsOf: $0) } }
    bytes.withUnsafeBytes { encoder.compress($0) { stream.append(contentsOf: $0) } }
    [UInt8]().withUnsafeBytes { encoder.compress($0) { stream.append(contentsOf: $0) } }
    encoder.finish { stream.append(contentsOf: $0) }
    #expect(stream == GNUDeflateEncoder.deflate(bytes, level: 6))
  }
}
