import BitsBack
import Container
import Testing

/// A zstd chunk's payload is exactly one zstd frame (docs/FORMAT.md, "Chunk record"): libzstd
/// alone would decode a second frame and pass over skippable frames, so that bytes other than
/// the compressor's would decode to the same data; each such payload is refused with its error.
@Suite struct ZstdPayloadTests {
  static let raw = [UInt8](repeating: 7, count: 1000)

  /// A skippable frame (magic 0x184D2A50) of four bytes of user data.
  static let skippable: [UInt8] = [0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]

  func frame(_ bytes: [UInt8]) throws -> [UInt8] { try Zstd.compress(bytes, level: 3) }

  /// The error for `payload`, which has one frame of `frameSize` bytes at its start.
  func trailing(_ payload: [UInt8], frameSize: Int) -> IOError {
    .malformed(
      format: "zstd",
      reason: "the payload has \(payload.count) bytes, but its frame ends after \(frameSize); a chunk holds exactly one frame")
  }

  @Test func oneFrameDecodes() throws {
    #expect(try Zstd.decompress(try frame(Self.raw), expectedSize: 1000) == Self.raw)
    #expect(try Zstd.decompress(try frame([]), expectedSize: 0) == [])
  }

  /// The output buffer starts at 1 MiB and doubles: a frame that ends exactly as it fills one
  /// (an 8 MiB chunk of a large opaque file, say) decodes like any other.
  @Test func framesThatEndAtTheOutputBuffersSizeDecode() throws {
    var state: UInt64 = 1
    let bytes = (0..<((2 << 20) + 1)).map { _ -> UInt8 in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return 97 + UInt8(state >> 60)
    }
    for size in [(1 << 20) - 1, 1 << 20, (1 << 20) + 1, 2 << 20, (2 << 20) + 1] {
      let raw = Array(bytes[..<size])
      #expect(try Zstd.decompress(try Zstd.compress(raw, level: 1), expectedSize: size) == raw, "\(size) bytes")
    }
  }

  @Test func bytesAfterTheFrameAreRefused() throws {
    let one = try frame(Self.raw)
    for extra: [UInt8] in [[0], [0x28, 0xB5, 0x2F, 0xFD], Array(repeating: 0, count: 100)] {
      #expect(throws: trailing(one + extra, frameSize: one.count)) { try Zstd.decompress(one + extra, expectedSize: 1000) }
    }
  }

  @Test func twoFramesAreRefused() throws {
    let one = try frame(Self.raw)
    // A second frame of nothing: libzstd would give the same 1000 bytes.
    let empty = try frame([])
    #expect(throws: trailing(one + empty, frameSize: one.count)) { try Zstd.decompress(one + empty, expectedSize: 1000) }
    // Two halves, each a frame: together they decode to the whole.
    let first = try frame(Array(Self.raw[..<500])), second = try frame(Array(Self.raw[500...]))
    #expect(throws: trailing(first + second, frameSize: first.count)) { try Zstd.decompress(first + second, expectedSize: 1000) }
    // A skippable frame after the frame.
    #expect(throws: trailing(one + Self.skippable, frameSize: one.count)) {
      try Zstd.decompress(one + Self.skippable, expectedSize: 1000)
    }
  }

  @Test func aPayloadThatIsNotAFrameIsRefused() throws {
    let one = try frame(Self.raw)
    #expect(throws: IOError.codecFailure(
      library: "zstd", message: "the data start with 50 2A 4D 18 instead of a zstd frame's magic number 28 B5 2F FD")
    ) {
      try Zstd.decompress(Self.skippable + one, expectedSize: 1000)
    }
    #expect(throws: IOError.codecFailure(library: "zstd", message: "the data are empty instead of a zstd frame's magic number 28 B5 2F FD")) {
      try Zstd.decompress([], expectedSize: 0)
    }
    // A frame cut short: its blocks run past the payload.
    #expect(throws: IOError.self) { try Zstd.decompress(Array(one.dropLast()), expectedSize: 1000) }
  }

  @Test func aContainerWithTwoFramesInAZstdChunkIsRefused() throws {
    let one = try frame(Self.raw)
    let payload = one + (try frame([]))
    let record = ChunkRecord(method: .zstd, rawSize: 1000, rawChecksum: 0)
    let header = ContainerHeader(originalSize: 1000)
    var bytes: [UInt8] = []
    var writer = try ContainerWriter(header: header) { bytes.append(contentsOf: $0) }
    try writer.append(record, payload: payload)
    try writer.finish(originalChecksum: 0)
    // The container itself is sound (its checksums match); the decompressor meets the frames
    // before any checksum of the decoded bytes.
    #expect(try ContainerReader.inspect(bytes).chunks.count == 1)
    #expect(throws: trailing(payload, frameSize: one.count)) { try Decompressor.decompress(bytes) }
  }
}
