import Container
import Hashing
import Testing

/// The kind of a container error, without its evidence.
private func kind(_ error: any Error) -> String {
  guard let error = error as? ContainerError else { return "not a ContainerError: \(error)" }
  switch error {
  case .notAContainer: return "notAContainer"
  case .unsupportedVersion: return "unsupportedVersion"
  case .truncated: return "truncated"
  case .headerChecksumMismatch: return "headerChecksumMismatch"
  case .recordChecksumMismatch: return "recordChecksumMismatch"
  case .chunkChecksumMismatch: return "chunkChecksumMismatch"
  case .rawChecksumMismatch: return "rawChecksumMismatch"
  case .trailerChecksumMismatch: return "trailerChecksumMismatch"
  case .unknownMethod: return "unknownMethod"
  case .limitExceeded: return "limitExceeded"
  case .unexpectedTag: return "unexpectedTag"
  case .unexpectedLaneCount: return "unexpectedLaneCount"
  case .unexpectedItemCount: return "unexpectedItemCount"
  case .trailerMismatch(let field, _, _): return "trailerMismatch(\(field))"
  case .malformed: return "malformed"
  }
}

/// The error reading all of `bytes` throws, or nil when it reads without error.
private func readError(_ source: some ByteSource) -> (any Error)? {
  do {
    _ = try readContainer(source)
    return nil
  } catch {
    return error
  }
}

struct ContainerCorruptionTests {
  @Test func everyTruncationThrowsTruncated() throws {
    let bytes = try smallContainer()
    for length in 0..<bytes.count {
      let prefix = Array(bytes[0..<length])
      for (name, error) in [("memory", readError(MemoryByteSource(prefix))), ("pipe", readError(PipeSource(prefix, seed: 3)))] {
        let expected = length == 0 ? "notAContainer" : "truncated"
        #expect(error.map(kind) == expected, "\(name) source, length \(length) of \(bytes.count)")
      }
      #expect(throws: ContainerError.self) { try ContainerReader.inspect(prefix) }
    }
  }

  @Test func everyFlippedByteIsDetected() throws {
    let bytes = try smallContainer()
    let summary = try ContainerReader.inspect(bytes)
    let headerSize = Int(summary.headerSize)
    let trailer = Int(summary.trailer.offset)
    // The expected error kind for a damaged byte at each offset (docs/FORMAT.md, "Rules").
    func expected(_ offset: Int) -> String? {
      switch offset {
      case 0..<8: return "notAContainer"
      case 8..<10: return "unsupportedVersion"
      case 12..<16: return nil  // the header length: several errors are right
      case 16..<headerSize, 10..<12: return "headerChecksumMismatch"
      case trailer..<(trailer + 4): return "unexpectedTag"
      case (trailer + 4)..<(trailer + 8): return "trailerMismatch(chunk count)"
      case (trailer + 8)..<(bytes.count - 16): return "trailerChecksumMismatch"
      case (bytes.count - 16)..<(bytes.count - 8): return "trailerMismatch(trailer offset in the footer)"
      case (bytes.count - 8)..<bytes.count: return "malformed"
      default:
        for chunk in summary.chunks {
          let record = Int(chunk.offset)
          let payloadEnd = record + 64 + Int(chunk.payloadSize)
          if offset < record + 4 && offset >= record { return "unexpectedTag" }
          if offset < record + 64 && offset >= record { return "recordChecksumMismatch" }
          if offset < payloadEnd && offset >= record { return "chunkChecksumMismatch" }
        }
        return "unmapped"
      }
    }
    for offset in 0..<bytes.count {
      for mask: UInt8 in [0x01, 0x80, 0xFF] {
        var damaged = bytes
        damaged[offset] ^= mask
        let error = readError(MemoryByteSource(damaged))
        #expect(error != nil, "flip \(mask) at \(offset) went unnoticed")
        guard let error else { continue }
        if let want = expected(offset) {
          #expect(kind(error) == want, "flip \(mask) at \(offset): \(error)")
        } else {
          #expect(error is ContainerError, "flip \(mask) at \(offset): \(error)")
        }
      }
    }
  }

  @Test func bytesAfterTheFooterAreRefused() throws {
    let bytes = try smallContainer() + [0]
    #expect(readError(MemoryByteSource(bytes)).map(kind) == "malformed")
    #expect(readError(PipeSource(bytes, seed: 1)).map(kind) == "malformed")
  }

  @Test func unknownMajorVersionIsRefusedExactly() throws {
    var bytes = try smallContainer()
    poke(&bytes, 8, UInt16(3))
    poke(&bytes, 10, UInt16(7))
    #expect(throws: ContainerError.unsupportedVersion(found: ContainerVersion(major: 3, minor: 7), supported: 2)) {
      _ = try ContainerReader(source: MemoryByteSource(bytes))
    }
  }

  @Test func unknownMethodIsRefusedExactly() throws {
    var bytes = try smallContainer()
    let second = Int(try ContainerReader.inspect(bytes).chunks[1].offset)
    bytes[second + 8] = 7
    bytes = resealed(bytes, start: second, end: second + 64)
    #expect(throws: ContainerError.unknownMethod(code: 7, chunkIndex: 1)) {
      _ = try readContainer(MemoryByteSource(bytes))
    }
  }

  @Test func hostileHeaderLengthsThrowBeforeAllocating() {
    #expect(throws: ContainerError.limitExceeded(field: "header length", value: 0xFFFF_FFFF, limit: 16_843_073)) {
      _ = try ContainerReader(source: MemoryByteSource(forgedHeader(length: 0xFFFF_FFFF)))
    }
    let claimsMore = forgedHeader(length: 1_000_000)
    #expect(throws: ContainerError.truncated(section: "header", offset: 0, needed: 1_000_000, available: 66)) {
      _ = try ContainerReader(source: MemoryByteSource(claimsMore))
    }
    #expect(throws: ContainerError.self) { _ = try ContainerReader(source: PipeSource(claimsMore, seed: 2)) }
    #expect(throws: ContainerError.self) { _ = try ContainerReader(source: MemoryByteSource(forgedHeader(length: 20))) }
  }

  @Test func hostileHeaderFieldsThrowLimitExceeded() {
    func header(_ bytes: [UInt8]) throws { _ = try ContainerReader(source: MemoryByteSource(bytes)) }
    #expect(throws: ContainerError.limitExceeded(field: "side byte count", value: 0xFFFF_FFFF, limit: 1 << 24)) {
      try header(forgedHeader(sideLength: 0xFFFF_FFFF))
    }
    #expect(throws: ContainerError.limitExceeded(field: "item count", value: 1 << 40, limit: 1 << 32)) {
      try header(forgedHeader(itemCount: 1 << 40))
    }
    #expect(throws: ContainerError.limitExceeded(
      field: "pixel count (items × height × width × channels)", value: UInt64.max, limit: 1 << 48)
    ) {
      try header(forgedHeader(itemCount: 1 << 32, height: .max, width: .max, channels: .max))
    }
    // A side length that runs past the header's end.
    #expect(throws: ContainerError.self) { try header(forgedHeader(sideLength: 100)) }
    // Extension bytes in a version 1.0 header, and a model name that is not UTF-8.
    #expect(throws: ContainerError.self) { try header(forgedHeader(extra: [1])) }
    #expect(throws: ContainerError.self) { try header(forgedHeader(name: [0xC3, 0x28])) }
  }

  @Test func hostilePayloadSizesThrowBeforeAllocating() throws {
    let bytes = try smallContainer()
    func withPayloadSize(_ size: UInt64) -> [UInt8] {
      var damaged = bytes
      poke(&damaged, 72 + 16, size)  // raw size (the first chunk is stored: both must agree)
      poke(&damaged, 72 + 24, size)  // payload size
      return resealed(damaged, start: 72, end: 72 + 64)
    }
    #expect(throws: ContainerError.limitExceeded(field: "payload size of chunk 0", value: 1 << 40, limit: 1 << 32)) {
      _ = try readContainer(MemoryByteSource(withPayloadSize(1 << 40)))
    }
    let big = withPayloadSize(1 << 31)
    let left = UInt64(bytes.count - 136)
    #expect(throws: ContainerError.truncated(
      section: "payload of chunk 0 and the trailer", offset: 136, needed: (1 << 31) + 72, available: left)
    ) {
      _ = try readContainer(MemoryByteSource(big))
    }
    // A pipe cannot say how much is left: the reader reads what comes and stops at its end.
    #expect(throws: ContainerError.truncated(section: "payload of chunk 0", offset: 136, needed: 1 << 31, available: left)) {
      _ = try readContainer(PipeSource(big, seed: 4))
    }
  }

  @Test func recordFieldChecksNameTheFault() throws {
    let bytes = try smallContainer()
    var wrongIndex = bytes
    poke(&wrongIndex, 72 + 4, UInt32(5))
    #expect(readError(MemoryByteSource(resealed(wrongIndex, start: 72, end: 136))).map(kind) == "malformed")
    var storedMismatch = bytes
    poke(&storedMismatch, 72 + 16, UInt64(11))
    #expect(readError(MemoryByteSource(resealed(storedMismatch, start: 72, end: 136))).map(kind) == "malformed")
    var reserved = bytes
    reserved[72 + 9] = 1
    #expect(readError(MemoryByteSource(resealed(reserved, start: 72, end: 136))).map(kind) == "malformed")
  }

  @Test func aHeaderExtensionOverItsLimitIsRefused() throws {
    // A later minor version may add up to 2^16 bytes, which a reader skips; one more is refused,
    // though the header length as a whole is within its limit.
    let most = [UInt8](repeating: 7, count: 1 << 16)
    let (header, _, _) = try readContainer(MemoryByteSource(forgedHeader(minor: 1, extra: most) + emptyTail(headerSize: 66 + (1 << 16))))
    #expect(header.version == ContainerVersion(major: 1, minor: 1))
    #expect(throws: ContainerError.limitExceeded(field: "header extension length", value: (1 << 16) + 1, limit: 1 << 16)) {
      _ = try ContainerReader(source: MemoryByteSource(forgedHeader(minor: 1, extra: most + [7])))
    }
    #expect(throws: ContainerError.limitExceeded(field: "header extension length", value: 1 << 20, limit: 1 << 16)) {
      _ = try ContainerReader(source: PipeSource(forgedHeader(minor: 9, extra: [UInt8](repeating: 0, count: 1 << 20)), seed: 5))
    }
  }

  /// A container whose header names no model, with one stored and one zstd-method chunk (the
  /// container does not decode payloads, so any bytes serve).
  func opaqueContainer() throws -> [UInt8] {
    let first: [UInt8] = Array(0..<10)
    return try writeContainer(ContainerHeader(originalSize: 20), [
      TestChunk(record: ChunkRecord(method: .stored, rawSize: 10, rawChecksum: XXH64.hash(first)), payload: first),
      TestChunk(record: ChunkRecord(method: .zstd, rawSize: 10, rawChecksum: 3), payload: [1, 2, 3, 4, 5]),
    ])
  }

  @Test func laneCountsOnStoredAndZstdChunksAreRefused() throws {
    // The header has 66 bytes; chunk 0's record starts there, chunk 1's after its 10 bytes.
    for (index, method, record) in [(0, ChunkMethod.stored, 66), (1, .zstd, 66 + 64 + 10)] {
      var bytes = try opaqueContainer()
      poke(&bytes, record + 10, UInt16(3))
      let damaged = resealed(bytes, start: record, end: record + 64)
      for error in [readError(MemoryByteSource(damaged)), readError(PipeSource(damaged, seed: 6))] {
        #expect(error as? ContainerError == .unexpectedLaneCount(chunkIndex: index, method: method, laneCount: 3))
      }
    }
    // In a container with a model too: the stored chunk of the small container.
    var bytes = try smallContainer()
    poke(&bytes, 72 + 10, UInt16(1))
    #expect(throws: ContainerError.unexpectedLaneCount(chunkIndex: 0, method: .stored, laneCount: 1)) {
      _ = try readContainer(MemoryByteSource(resealed(bytes, start: 72, end: 136)))
    }
    #expect(ContainerError.unexpectedLaneCount(chunkIndex: 1, method: .zstd, laneCount: 3).description
      == "Chunk 1 is a zstd chunk with 3 lanes, but only bits-back chunks have lanes (its lane count must be 0).")
  }

  @Test func itemCountsInAContainerWithoutAModelAreRefused() throws {
    for (index, record) in [(0, 66), (1, 66 + 64 + 10)] {
      var bytes = try opaqueContainer()
      poke(&bytes, record + 12, UInt32(5))
      #expect(throws: ContainerError.unexpectedItemCount(chunkIndex: index, itemCount: 5)) {
        _ = try readContainer(MemoryByteSource(resealed(bytes, start: record, end: record + 64)))
      }
    }
    #expect(ContainerError.unexpectedItemCount(chunkIndex: 0, itemCount: 5).description
      == "Chunk 0 claims 5 items, but the container names no model, so its chunks hold opaque bytes (their item count must be 0).")
  }

  @Test func writerRefusesLanesAndItemsThatReadersWouldRefuse() throws {
    let opaque = ContainerHeader(originalSize: 3)
    let named = ContainerHeader(modelName: "m", modelHash: 1, itemCount: 1, height: 1, width: 3, channels: 1, originalSize: 3)
    let payload: [UInt8] = [1, 2, 3]
    for header in [opaque, named] {
      var writer = try ContainerWriter(header: header) { _ in }
      #expect(throws: ContainerError.unexpectedLaneCount(chunkIndex: 0, method: .zstd, laneCount: 2)) {
        try writer.append(ChunkRecord(method: .zstd, laneCount: 2, rawSize: 3, rawChecksum: 0), payload: payload)
      }
    }
    var writer = try ContainerWriter(header: opaque) { _ in }
    #expect(throws: ContainerError.unexpectedItemCount(chunkIndex: 0, itemCount: 1)) {
      try writer.append(ChunkRecord(method: .stored, itemCount: 1, rawSize: 3, rawChecksum: 0), payload: payload)
    }
    // With a model, image chunks coded by zstd or stored keep their item count.
    var images = try ContainerWriter(header: named) { _ in }
    try images.append(ChunkRecord(method: .stored, itemCount: 1, rawSize: 3, rawChecksum: 0), payload: payload)
  }

  @Test func writerRefusesWhatReadersWouldRefuse() {
    let longName = String(repeating: "x", count: 256)
    #expect(throws: ContainerError.limitExceeded(field: "model name length", value: 256, limit: 255)) {
      _ = try ContainerWriter(header: ContainerHeader(modelName: longName, originalSize: 0)) { _ in }
    }
    let side = [UInt8](repeating: 0, count: (1 << 24) + 1)
    #expect(throws: ContainerError.limitExceeded(field: "side byte count", value: (1 << 24) + 1, limit: 1 << 24)) {
      _ = try ContainerWriter(header: ContainerHeader(sideBytes: side, originalSize: 0)) { _ in }
    }
  }

  @Test func sinkErrorsPassThrough() {
    struct DiskFull: Error {}
    #expect(throws: DiskFull.self) {
      _ = try ContainerWriter(header: ContainerHeader(originalSize: 0)) { _ in throw DiskFull() }
    }
  }
}
