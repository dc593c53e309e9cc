import Container
import Hashing
import Testing

/// The compact form (docs/FORMAT.md, "The compact form"): one stored or zstd chunk of opaque
/// bytes under a 46-byte header, nothing after the payload.
struct CompactFormTests {
  /// A compact container of a stored chunk of `raw`, or of a "zstd" chunk whose payload is
  /// `payload` (the container does not decode it).
  static func compact(_ raw: [UInt8], payload: [UInt8]? = nil) throws -> [UInt8] {
    var out: [UInt8] = []
    let record = ChunkRecord(
      method: payload == nil ? .stored : .zstd, rawSize: UInt64(raw.count), rawChecksum: XXH64.hash(raw))
    try ContainerWriter.writeCompact(record, payload: payload ?? raw) { out += $0 }
    return out
  }

  static let raw: [UInt8] = Array("compact form, compact form".utf8)

  static func error(_ bytes: [UInt8]) -> (any Error)? {
    do {
      _ = try readContainer(MemoryByteSource(bytes))
      return nil
    } catch {
      return error
    }
  }

  @Test func roundTripsWithTheRecordInTheHeader() throws {
    for payload in [nil, [1, 2, 3, 4, 5] as [UInt8]] {
      let bytes = try Self.compact(Self.raw, payload: payload)
      #expect(bytes.count == 46 + (payload ?? Self.raw).count)
      let (header, chunks, trailer) = try readContainer(MemoryByteSource(bytes))
      #expect(header.isCompact && header.version == ContainerVersion(major: 2, minor: 0))
      #expect(header.modelName.isEmpty && header.itemCount == 0 && header.sideBytes.isEmpty)
      #expect(header.originalSize == UInt64(Self.raw.count))
      #expect(chunks.count == 1)
      let (record, read) = chunks[0]
      #expect(record.method == (payload == nil ? .stored : .zstd) && record.index == 0 && record.offset == 0)
      #expect(read == payload ?? Self.raw && record.payloadSize == UInt64(read.count))
      #expect(record.rawSize == UInt64(Self.raw.count) && record.rawChecksum == XXH64.hash(Self.raw))
      #expect(trailer.originalChecksum == XXH64.hash(Self.raw) && trailer.totalRawSize == UInt64(Self.raw.count))
      #expect(trailer.table == [ChunkTableEntry(offset: 0, payloadSize: UInt64(read.count), rawSize: UInt64(Self.raw.count))])
      // Through a pipe, in pieces, too; and `inspect` without keeping the payload.
      #expect(try readContainer(PipeSource(bytes, seed: 4)).1.count == 1)
      let summary = try ContainerReader.inspect(bytes)
      #expect(summary.headerSize == 46 && summary.fileSize == UInt64(bytes.count) && summary.chunks == [record])
    }
    // An empty file: a stored chunk of no bytes, 46 bytes in all.
    let empty = try Self.compact([])
    #expect(empty.count == 46)
    #expect(try readContainer(MemoryByteSource(empty)).1.map(\.1) == [[]])
  }

  @Test func everyFlippedByteThrowsTheErrorOfItsPart() throws {
    for bytes in [try Self.compact(Self.raw), try Self.compact(Self.raw, payload: [1, 2, 3, 4, 5])] {
      for offset in bytes.indices {
        for mask: UInt8 in [0x01, 0x80, 0xFF] {
          var damaged = bytes
          damaged[offset] ^= mask
          let error = Self.error(damaged) as? ContainerError
          switch offset {
          case 0..<8: if case .notAContainer? = error {} else { Issue.record("offset \(offset): \(String(describing: error))") }
          case 8..<10: if case .unsupportedVersion? = error {} else { Issue.record("offset \(offset): \(String(describing: error))") }
          case 10..<46: if case .headerChecksumMismatch? = error {} else { Issue.record("offset \(offset): \(String(describing: error))") }
          default: if case .chunkChecksumMismatch(0, _, _)? = error {} else { Issue.record("offset \(offset): \(String(describing: error))") }
          }
        }
      }
    }
  }

  @Test func everyTruncationThrowsTruncated() throws {
    for bytes in [try Self.compact(Self.raw), try Self.compact(Self.raw, payload: [1, 2, 3, 4, 5]), try Self.compact([])] {
      for length in 0..<bytes.count {
        let prefix = Array(bytes[0..<length])
        for error in [Self.error(prefix), { () -> (any Error)? in
          do { _ = try readContainer(PipeSource(prefix, seed: 9)); return nil } catch { return error }
        }()] {
          let e = error as? ContainerError
          if length == 0 {
            #expect(e == .notAContainer(foundMagic: []))
          } else if case .truncated? = e {
          } else {
            Issue.record("length \(length) of \(bytes.count): \(String(describing: error))")
          }
        }
        #expect(throws: ContainerError.self) { try ContainerReader.inspect(prefix) }
      }
    }
  }

  @Test func bytesAfterThePayloadAreRefused() throws {
    let bytes = try Self.compact(Self.raw) + [0]
    for error in [Self.error(bytes), { () -> (any Error)? in
      do { _ = try readContainer(PipeSource(bytes, seed: 2)); return nil } catch { return error }
    }()] {
      if case .malformed? = error as? ContainerError {} else { Issue.record("\(String(describing: error))") }
    }
  }

  /// Fields that only the field checks catch, behind a valid header checksum.
  @Test func hostileFieldsBehindAValidChecksumAreRefused() throws {
    let bytes = try Self.compact(Self.raw, payload: [1, 2, 3, 4, 5])
    func forged(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
      var out = bytes
      change(&out)
      return resealed(out, start: 0, end: 46)
    }
    // A later minor version: refused, the compact header has no room for skippable fields.
    #expect(throws: ContainerError.unsupportedVersion(found: ContainerVersion(major: 2, minor: 1), supported: 2)) {
      _ = try ContainerReader(source: MemoryByteSource(forged { poke(&$0, 10, UInt16(1)) }))
    }
    #expect(throws: ContainerError.unknownMethod(code: 9, chunkIndex: 0)) {
      _ = try ContainerReader(source: MemoryByteSource(forged { $0[12] = 9 }))
    }
    #expect(throws: ContainerError.malformed("a compact container holds a stored or zstd chunk, not a bits-back one")) {
      _ = try ContainerReader(source: MemoryByteSource(forged { $0[12] = 2 }))
    }
    #expect(throws: ContainerError.malformed("the compact header has its reserved flags set (1)")) {
      _ = try ContainerReader(source: MemoryByteSource(forged { $0[13] = 1 }))
    }
    // A stored chunk whose payload size is not its original size.
    #expect(throws: ContainerError.self) {
      _ = try ContainerReader(source: MemoryByteSource(forged { $0[12] = 0 }))
    }
    // A payload of 4 GiB claimed from a few bytes: truncated, before anything is allocated.
    #expect(throws: ContainerError.truncated(
      section: "payload of the compact container", offset: 46, needed: 0xFFFF_FFFF, available: 5)) {
      _ = try readContainer(MemoryByteSource(forged { poke(&$0, 18, UInt32.max) }))
    }
    #expect(throws: ContainerError.self) { _ = try readContainer(PipeSource(forged { poke(&$0, 18, UInt32.max) }, seed: 1)) }
  }

  @Test func theWriterRefusesWhatAReaderWouldRefuse() {
    #expect(throws: ContainerError.unexpectedItemCount(chunkIndex: 0, itemCount: 3)) {
      try ContainerWriter.writeCompact(ChunkRecord(method: .zstd, itemCount: 3, rawSize: 9, rawChecksum: 0), payload: [1]) { _ in }
    }
    #expect(throws: ContainerError.unexpectedLaneCount(chunkIndex: 0, method: .zstd, laneCount: 2)) {
      try ContainerWriter.writeCompact(ChunkRecord(method: .zstd, laneCount: 2, rawSize: 9, rawChecksum: 0), payload: [1]) { _ in }
    }
    #expect(throws: ContainerError.limitExceeded(
      field: "original size of a compact container", value: 1 << 32, limit: 0xFFFF_FFFF)) {
      try ContainerWriter.writeCompact(ChunkRecord(method: .zstd, rawSize: 1 << 32, rawChecksum: 0), payload: [1]) { _ in }
    }
  }
}
