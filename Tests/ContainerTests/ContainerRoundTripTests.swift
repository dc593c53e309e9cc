import Container
import Hashing
import Testing

struct ContainerRoundTripTests {
  static let header = ContainerHeader(
    modelName: "mnist-vae-ü", modelHash: 0xDEAD_BEEF_0123_4567, formatTag: 1,
    itemCount: 60000, height: 28, width: 28, channels: 1,
    sideBytes: [0, 0, 8, 3, 0, 0, 0xEA, 0x60, 0, 0, 0, 28, 0, 0, 0, 28], originalSize: 47_040_016)

  @Test(arguments: ChunkMethod.allCases, [0, 1, 2, 100])
  func chunksComeBackAsWritten(method: ChunkMethod, count: Int) throws {
    var random = SeededRandom(seed: UInt64(count) &* 31 &+ UInt64(method.rawValue))
    let chunks = (0..<count).map { _ in randomChunk(method, maxSize: 300, random: &random) }
    let bytes = try writeContainer(Self.header, chunks, originalChecksum: 0x5555)

    for useMemory in [true, false] {
      let (header, read, trailer) = useMemory
        ? try readContainer(MemoryByteSource(bytes)) : try readContainer(PipeSource(bytes, seed: 9))
      #expect(header == Self.header)
      #expect(header.version == ContainerVersion(major: 1, minor: 0))
      #expect(read.count == count)
      for (index, (record, payload)) in read.enumerated() {
        let written = chunks[index]
        #expect(record.index == index)
        #expect(record.method == method)
        #expect(record.itemCount == written.record.itemCount)
        #expect(record.laneCount == written.record.laneCount)
        #expect(record.initialBits == written.record.initialBits)
        #expect(record.rawSize == written.record.rawSize)
        #expect(record.rawChecksum == written.record.rawChecksum)
        #expect(record.payloadSize == UInt64(written.payload.count))
        #expect(record.payloadChecksum == XXH64.hash(written.payload))
        #expect(payload == written.payload)
      }
      #expect(trailer.chunkCount == count)
      #expect(trailer.originalChecksum == 0x5555)
      #expect(trailer.totalRawSize == chunks.reduce(0) { $0 + $1.record.rawSize })
    }
  }

  @Test func writerReturnsWhatTheReaderReads() throws {
    var random = SeededRandom(seed: 5)
    let chunks = (0..<5).map { _ in randomChunk(.zstd, maxSize: 50, random: &random) }
    let output = ByteBox()
    var writer = try ContainerWriter(header: Self.header) { output.bytes += $0 }
    var written: [ChunkRecord] = []
    for chunk in chunks { written.append(try writer.append(chunk.record, payload: chunk.payload)) }
    let trailer = try writer.finish(originalChecksum: 1)
    #expect(writer.bytesWritten == UInt64(output.bytes.count))
    let summary = try ContainerReader.inspect(output.bytes)
    #expect(summary.chunks == written)
    #expect(summary.trailer == trailer)
    #expect(summary.fileSize == UInt64(output.bytes.count))
    #expect(summary.headerSize == UInt64(66 + "mnist-vae-ü".utf8.count + 16))
  }

  @Test func emptyContainerHasExactSize() throws {
    let bytes = try writeContainer(ContainerHeader(originalSize: 0), [])
    // Header 66 + trailer 32 + footer 16.
    #expect(bytes.count == 114)
    #expect(Array(bytes.prefix(8)) == ContainerFormat.magic)
    #expect(Array(bytes.suffix(8)) == ContainerFormat.endMagic)
    let (_, chunks, trailer) = try readContainer(MemoryByteSource(bytes))
    #expect(chunks.isEmpty)
    #expect(trailer.offset == 66)
  }

  @Test func readerReturnsNilAgainAfterTheEnd() throws {
    var reader = try ContainerReader(source: MemoryByteSource(try smallContainer()))
    while try reader.nextChunk() != nil {}
    #expect(try reader.nextChunk() == nil)
    #expect(reader.trailer != nil)
  }

  @Test func checkDecodedCatchesWrongBytes() throws {
    let (_, chunks, _) = try readContainer(MemoryByteSource(try smallContainer()))
    let stored = chunks[0].0
    try stored.checkDecoded(Array(0..<10))
    #expect(throws: ContainerError.rawChecksumMismatch(
      chunkIndex: 0, stored: XXH64.hash(Array<UInt8>(0..<10)), computed: XXH64.hash(Array<UInt8>(1..<11)))
    ) { try stored.checkDecoded(Array(1..<11)) }
    #expect(throws: ContainerError.self) { try stored.checkDecoded(Array(0..<9)) }
  }

  @Test func laterMinorVersionWithExtensionIsRead() throws {
    let bytes = forgedHeader(minor: 3, extra: [1, 2, 3, 4, 5]) + emptyTail(headerSize: 71)
    let (header, chunks, _) = try readContainer(MemoryByteSource(bytes))
    #expect(header.version == ContainerVersion(major: 1, minor: 3))
    #expect(chunks.isEmpty)
  }

  @Test func errorDescriptionsAreSentences() {
    let errors: [ContainerError] = [
      .notAContainer(foundMagic: [1, 2]), .unsupportedVersion(found: .init(major: 2, minor: 0), supported: 1),
      .truncated(section: "header", offset: 0, needed: 66, available: 10),
      .headerChecksumMismatch(stored: 1, computed: 2), .recordChecksumMismatch(chunkIndex: 3, stored: 1, computed: 2),
      .chunkChecksumMismatch(chunkIndex: 3, stored: 0x1A2B_3C4D, computed: 0xFF10EE),
      .rawChecksumMismatch(chunkIndex: 1, stored: 1, computed: 2), .trailerChecksumMismatch(stored: 1, computed: 2),
      .unknownMethod(code: 9, chunkIndex: 0), .limitExceeded(field: "side byte count", value: 5, limit: 4),
      .unexpectedTag(found: [0, 0, 0, 0], offset: 80), .trailerMismatch(field: "chunk count", stored: 2, actual: 1),
      .unexpectedLaneCount(chunkIndex: 2, method: .stored, laneCount: 1), .unexpectedItemCount(chunkIndex: 0, itemCount: 9),
      .malformed("a reason"),
    ]
    for error in errors {
      let text = error.description
      #expect(text.first!.isUppercase && text.hasSuffix("."), "\(text)")
    }
    #expect(ContainerError.chunkChecksumMismatch(chunkIndex: 3, stored: 0x1A2B_3C4D, computed: 0xFF10EE).description
      == "The payload of chunk 3 is damaged: its record says 0x000000001A2B3C4D, the payload gives 0x0000000000FF10EE.")
  }
}

/// The trailer and footer of a container with no chunk, whose header has `headerSize` bytes.
func emptyTail(headerSize: Int) -> [UInt8] {
  var tail: [UInt8] = [0x54, 0x52, 0x4C, 0x52] + [UInt8](repeating: 0, count: 20)
  tail += (0..<8).map { UInt8(truncatingIfNeeded: XXH64.hash(tail) >> (8 * $0)) }
  tail += (0..<8).map { UInt8(truncatingIfNeeded: UInt64(headerSize) >> (8 * $0)) }
  return tail + ContainerFormat.endMagic
}
