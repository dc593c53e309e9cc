import BitsBack
import Container
import Foundation
import Hashing
import Model
import Testing
import TestSupport

/// Small containers of each chunk method, damaged at every byte and cut at every length: each
/// case must throw a typed error (never crash, hang, or return other bytes than the original).
///
/// The bits-back containers use the golden models (testdata/golden), which code these images
/// with bits-back for sure; a random model may lose to zstd, and the chunk would not be bits-back.
@Suite struct CorruptionTableTests {
  /// A container to damage, its original, and the models it needs.
  struct Case: CustomStringConvertible {
    let description: String
    let original: [UInt8]
    let container: [UInt8]
    let models: [CodingModel]
  }

  static func makeCases() throws -> [Case] {
    var cases: [Case] = []
    for (name, imageFile, modelFile) in [
      ("bits-back 8-bit", "images-8bit.idx", "model-8bit.bbm"),
      ("bits-back binary", "images-binary.idx", "model-binary.bbm"),
    ] {
      let model = try GoldenFiles.model(modelFile)
      // The first 12 images, in chunks of 6: one lane each (a chunk gets a lane per 16 images),
      // where the step count S is redundant but still checked (ChunkCoder.decode).
      let all = try GoldenFiles.bytes(imageFile)
      let original = Fixtures.idx(Array(all[16..<(16 + 12 * 16)]), count: 12, height: 4, width: 4)
      var options = CompressionOptions()
      options.model = .model(model)
      options.chunkImageCount = 6
      options.laneCount = 2
      options.threadCount = 1
      cases.append(Case(description: name, original: original, container: try Compressor.compress(original, options: options), models: [model]))
    }
    // The full (1.0) form of one opaque chunk, which the compressor wrote for such files before
    // the compact form: every 1.0 container must still decode and be checked byte by byte.
    // (The compact form has its own table: CompactCorruptionTests.)
    let text = Array(String(repeating: "bits back, ", count: 40).utf8)
    cases.append(Case(description: "zstd", original: text, container: try Self.fullForm(text), models: []))
    var generator = TestSupport.SeededGenerator(seed: 11)
    let noise = (0..<48).map { _ in UInt8.random(in: 0...255, using: &generator) }
    cases.append(Case(description: "stored", original: noise, container: try Self.fullForm(noise), models: []))
    return cases
  }

  /// A full-form (1.0) container of `original` as one zstd chunk at level 19, or one stored
  /// chunk when zstd does not make it smaller: what `Compressor` wrote before the compact form.
  static func fullForm(_ original: [UInt8]) throws -> [UInt8] {
    let checksum = XXH64.hash(original)
    let frame = try Zstd.compress(original, level: 19)
    let chunk = frame.count < original.count
      ? (ChunkRecord(method: .zstd, rawSize: UInt64(original.count), rawChecksum: checksum), frame)
      : (ChunkRecord(method: .stored, rawSize: UInt64(original.count), rawChecksum: checksum), original)
    return try write(ContainerHeader(originalSize: UInt64(original.count)), original.isEmpty ? [] : [chunk], originalChecksum: checksum)
  }

  /// The error a decompression throws, or nil when it gave back exactly the original. A result
  /// other than the original is recorded as a failure.
  static func outcome(_ bytes: [UInt8], _ c: Case) -> Error? {
    do {
      let output = try Decompressor.decompress(bytes, models: c.models, threadCount: 1)
      Issue.record("\(c): a damaged container decompressed without error (\(output == c.original ? "to the original" : "to other bytes"))")
      return nil
    } catch {
      return error
    }
  }

  static func isTyped(_ error: Error) -> Bool {
    error is ContainerError || error is BitsBackError || error is IOError
  }

  @Test func eachCaseUsesItsMethod() throws {
    let methods = try Self.makeCases().map { c in Set(try ContainerReader.inspect(c.container).chunks.map(\.method)) }
    #expect(methods == [[.bitsBack], [.bitsBack], [.zstd], [.stored]])
  }

  /// Every byte XORed with 0x01, 0x80 and 0xFF: the checksums catch each one, in the part of
  /// the file where it lies.
  @Test func everyFlippedByteThrowsTheErrorOfItsPart() throws {
    var count = 0
    for c in try Self.makeCases() {
      #expect(try Decompressor.decompress(c.container, models: c.models, threadCount: 1) == c.original)
      let summary = try ContainerReader.inspect(c.container)
      for offset in c.container.indices {
        for mask: UInt8 in [0x01, 0x80, 0xFF] {
          var damaged = c.container
          damaged[offset] ^= mask
          count += 1
          guard let error = Self.outcome(damaged, c) else { continue }
          #expect(Self.isTyped(error), "\(c), offset \(offset): \(error)")
          let part = Self.part(offset, summary)
          #expect(part.accepts(error), "\(c), offset \(offset) (\(part.name)), mask \(mask): \(error)")
        }
      }
    }
    // 3 flips × (bytes of the four containers); a change of format changes the count.
    #expect(count == 3 * (try Self.makeCases().reduce(0) { $0 + $1.container.count }))
    #expect(count == Self.flipCaseCount)
  }

  /// Every length from 0 to the whole file minus one: `notAContainer` for nothing, `truncated`
  /// for any other length.
  @Test func everyTruncationThrowsTruncated() throws {
    var count = 0
    for c in try Self.makeCases() {
      for length in 0..<c.container.count {
        count += 1
        guard let error = Self.outcome(Array(c.container.prefix(length)), c) else { continue }
        if length == 0 {
          #expect(error as? ContainerError == .notAContainer(foundMagic: []), "\(c): \(error)")
        } else if case .truncated? = error as? ContainerError {
        } else {
          Issue.record("\(c), length \(length): \(error)")
        }
      }
    }
    #expect(count == Self.truncationCaseCount)
  }

  /// Payload bytes of the bits-back chunks flipped and the checksums made valid again, so that
  /// the BB-ANS decoder itself meets the damage: it must end in an error, never a crash or
  /// other bytes (the raw checksum catches wrong pixels).
  @Test func damagedBitsBackMessagesBehindValidChecksumsThrow() throws {
    var count = 0
    for c in try Self.makeCases().prefix(2) {
      let (header, chunks, trailer) = try Self.read(c.container)
      for (index, chunk) in chunks.enumerated() {
        for offset in chunk.1.indices {
          for mask: UInt8 in [0x01, 0x80] {
            var damaged = chunks
            damaged[index].1[offset] ^= mask
            count += 1
            let bytes = try Self.write(header, damaged, originalChecksum: trailer.originalChecksum)
            guard let error = Self.outcome(bytes, c) else { continue }
            #expect(error is BitsBackError || error is ContainerError, "\(c), chunk \(index), offset \(offset): \(error)")
          }
        }
      }
    }
    #expect(count == Self.messageCaseCount)
  }

  // The numbers of cases, pinned: they follow from the golden models, the data and the format.
  static let flipCaseCount = 3_978
  static let truncationCaseCount = 1_326
  static let messageCaseCount = 360

  // MARK: - Helpers

  /// The part of a container a byte lies in, and the errors a flip there may give.
  struct Part {
    let name: String
    let accepts: (Error) -> Bool
  }

  static func part(_ offset: Int, _ summary: ContainerSummary) -> Part {
    func container(_ body: @escaping (ContainerError) -> Bool) -> (Error) -> Bool {
      { ($0 as? ContainerError).map(body) ?? false }
    }
    let o = UInt64(offset)
    let fileSize = summary.fileSize
    if o < 8 { return Part(name: "magic", accepts: container { if case .notAContainer = $0 { true } else { false } }) }
    if o < 10 { return Part(name: "major version", accepts: container { if case .unsupportedVersion = $0 { true } else { false } }) }
    if o < 16 { return Part(name: "minor version and header length", accepts: container { _ in true }) }
    if o < summary.headerSize {
      return Part(name: "header", accepts: container { if case .headerChecksumMismatch = $0 { true } else { false } })
    }
    for record in summary.chunks where o >= record.offset && o < record.offset + 64 + record.payloadSize {
      if o < record.offset + 4 {
        return Part(name: "tag of chunk \(record.index)", accepts: container { if case .unexpectedTag = $0 { true } else { false } })
      }
      if o < record.offset + 64 {
        return Part(name: "record of chunk \(record.index)", accepts: container { if case .recordChecksumMismatch = $0 { true } else { false } })
      }
      return Part(name: "payload of chunk \(record.index)", accepts: container { if case .chunkChecksumMismatch = $0 { true } else { false } })
    }
    let trailer = summary.trailer.offset
    if o < trailer + 4 { return Part(name: "trailer tag", accepts: container { if case .unexpectedTag = $0 { true } else { false } }) }
    if o < trailer + 8 {
      // The chunk count: checked against the chunks read before the checksum, and it sets the
      // table's length, so a count that is too large shows as a truncation.
      return Part(name: "trailer chunk count", accepts: container {
        switch $0 {
        case .trailerMismatch, .truncated: true
        default: false
        }
      })
    }
    if o < fileSize - 16 {
      return Part(name: "trailer", accepts: container { if case .trailerChecksumMismatch = $0 { true } else { false } })
    }
    if o < fileSize - 8 { return Part(name: "footer offset", accepts: container { if case .trailerMismatch = $0 { true } else { false } }) }
    return Part(name: "end magic", accepts: container { if case .malformed = $0 { true } else { false } })
  }

  static func read(_ bytes: [UInt8]) throws -> (ContainerHeader, [(ChunkRecord, [UInt8])], ContainerTrailer) {
    var reader = try ContainerReader(source: MemoryByteSource(bytes))
    var chunks: [(ChunkRecord, [UInt8])] = []
    while let chunk = try reader.nextChunk() { chunks.append(chunk) }
    return (reader.header, chunks, reader.trailer!)
  }

  /// A container of these chunks, with checksums that match whatever the payloads are.
  static func write(_ header: ContainerHeader, _ chunks: [(ChunkRecord, [UInt8])], originalChecksum: UInt64) throws -> [UInt8] {
    var bytes: [UInt8] = []
    var writer = try ContainerWriter(header: header) { bytes.append(contentsOf: $0) }
    for (record, payload) in chunks { _ = try writer.append(record, payload: payload) }
    _ = try writer.finish(originalChecksum: originalChecksum)
    return bytes
  }
}

/// Hostile sizes behind valid checksums: refused with a clear error before anything of the
/// claimed size is allocated.
@Suite struct HostileSizeTests {
  static func container(
    model: CodingModel?, itemCount: UInt64 = 0, shape: (UInt32, UInt32, UInt32) = (0, 0, 0),
    originalSize: UInt64, chunks: [(ChunkRecord, [UInt8])]
  ) throws -> [UInt8] {
    let header = ContainerHeader(
      modelName: model?.name ?? "", modelHash: model?.identity ?? 0, formatTag: model == nil ? 0 : 1,
      itemCount: itemCount, height: shape.0, width: shape.1, channels: shape.2,
      sideBytes: model == nil ? [] : try GoldenFiles.sideBytes(), originalSize: originalSize)
    return try CorruptionTableTests.write(header, chunks, originalChecksum: 0)
  }

  @Test func anOriginalSizeTheChunksDoNotHoldIsRefused() throws {
    let bytes = try Self.container(
      model: nil, originalSize: 1 << 40,
      chunks: [(ChunkRecord(method: .stored, rawSize: 3, rawChecksum: XXH64.hash([1, 2, 3] as [UInt8])), [1, 2, 3])])
    #expect(throws: BitsBackError.implausibleSize("the header gives the original 1099511627776 bytes, the chunks hold 3")) {
      try Decompressor.decompress(bytes)
    }
  }

  @Test func aZstdChunkClaimingFourGibibytesFromAFewBytesIsRefused() throws {
    let frame = try Zstd.compress([1, 2, 3], level: 3)
    let bytes = try Self.container(
      model: nil, originalSize: 1 << 32,
      chunks: [(ChunkRecord(method: .zstd, rawSize: 1 << 32, rawChecksum: 0), frame)])
    #expect(throws: BitsBackError.implausibleSize(
      "chunk 0 (zstd) claims 4294967296 bytes from a payload of \(frame.count), more than 65536 times as many")) {
      try Decompressor.decompress(bytes)
    }
  }

  @Test func aZstdFrameDeclaringMoreThanItsRecordIsRefused() throws {
    // The frame's own header says 1000 bytes; the record 999.
    let frame = try Zstd.compress([UInt8](repeating: 7, count: 1000), level: 3)
    #expect(throws: IOError.sizeMismatch(expected: 999, found: 1000)) { try Zstd.decompress(frame, expectedSize: 999) }
    #expect(throws: IOError.self) { try Zstd.decompress(Array(frame.dropLast()), expectedSize: 1000) }
    #expect(throws: IOError.self) { try Zstd.decompress(frame + [1, 2, 3, 4, 5, 6, 7, 8], expectedSize: 1000) }
    #expect(try Zstd.decompress(frame, expectedSize: 1000) == [UInt8](repeating: 7, count: 1000))
  }

  @Test func twoToTheFortyImagesAreRefusedByTheHeader() throws {
    let model = try GoldenFiles.model("model-binary.bbm")
    #expect(throws: ContainerError.limitExceeded(field: "item count", value: 1 << 40, limit: 1 << 32)) {
      try Self.container(model: model, itemCount: 1 << 40, shape: (4, 4, 1), originalSize: 16, chunks: [])
    }
  }

  @Test func imageCountsAndShapesThatDisagreeAreRefusedBeforeDecoding() throws {
    let model = try GoldenFiles.model("model-binary.bbm")
    let message: [UInt8] = [UInt8](repeating: 0, count: 16)
    let chunk = ChunkRecord(method: .bitsBack, itemCount: 1, laneCount: 1, rawSize: 16, rawChecksum: 0)
    // The header claims 2^32 images; the chunks hold one. The decompressor streams: it never
    // allocates what the header claims, decodes the one chunk (here a damaged message) and
    // would refuse the count after the last chunk.
    #expect(throws: BitsBackError.corruptChunk(index: 0, reason: "the head of lane 0 is 0x0, outside the range [2^31, 2^63) of a valid message")) {
      try Decompressor.decompress(try Self.container(model: model, itemCount: 1 << 32, shape: (4, 4, 1), originalSize: 32, chunks: [(chunk, message)]), models: [model])
    }
    // Another shape than the model's.
    #expect(throws: BitsBackError.implausibleSize("the header describes 28×28×1 images, but its model codes 4×4×1")) {
      try Decompressor.decompress(try Self.container(model: model, itemCount: 1, shape: (28, 28, 1), originalSize: 800, chunks: [(chunk, message)]), models: [model])
    }
    // A chunk whose raw size is not its images' pixels.
    var wrong = chunk
    wrong.rawSize = 17
    #expect(throws: BitsBackError.implausibleSize("chunk 0 holds 1 images of 16 pixels, but claims 17 bytes")) {
      try Decompressor.decompress(try Self.container(model: model, itemCount: 1, shape: (4, 4, 1), originalSize: 32, chunks: [(wrong, message)]), models: [model])
    }
  }

  @Test func aBitsBackChunkClaimingMillionsOfImagesFromAFewWordsIsRefused() throws {
    let model = try GoldenFiles.model("model-binary.bbm")
    let count: UInt32 = 1 << 24  // 2^28 pixels from 16 bytes of message
    let chunk = ChunkRecord(method: .bitsBack, itemCount: count, laneCount: 4, rawSize: UInt64(count) * 16, rawChecksum: 0)
    let bytes = try Self.container(
      model: model, itemCount: UInt64(count), shape: (4, 4, 1), originalSize: UInt64(count) * 16 + 16,
      chunks: [(chunk, [UInt8](repeating: 1, count: 16))])
    #expect(throws: BitsBackError.implausibleSize(
      "chunk 0 (bits-back) claims 268435456 bytes from a payload of 16, more than 256 times as many")) {
      try Decompressor.decompress(bytes, models: [model])
    }
  }

  @Test func laneCountsAboveTheImagesOrTheMessageAreRefused() throws {
    let model = try GoldenFiles.model("model-binary.bbm")
    for lanes: UInt16 in [0, 3, 65535] {
      let chunk = ChunkRecord(method: .bitsBack, itemCount: 2, laneCount: lanes, rawSize: 32, rawChecksum: 0)
      let bytes = try Self.container(model: model, itemCount: 2, shape: (4, 4, 1), originalSize: 48, chunks: [(chunk, [UInt8](repeating: 1, count: 16))])
      #expect(throws: BitsBackError.corruptChunk(index: 0, reason: "\(lanes) lanes for 2 images")) {
        try Decompressor.decompress(bytes, models: [model])
      }
    }
    // As many lanes as images, but a message too short for their heads.
    let chunk = ChunkRecord(method: .bitsBack, itemCount: 64, laneCount: 64, rawSize: 1024, rawChecksum: 0)
    let bytes = try Self.container(model: model, itemCount: 64, shape: (4, 4, 1), originalSize: 1040, chunks: [(chunk, [UInt8](repeating: 1, count: 16))])
    #expect(throws: BitsBackError.corruptChunk(index: 0, reason: "an ANS message with its lanes needs at least 128 words for its heads, found 4")) {
      try Decompressor.decompress(bytes, models: [model])
    }
  }
}

/// The golden files of testdata/golden, found from this source file's path.
enum GoldenFiles {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("testdata/golden")

  static func bytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
  }

  static func model(_ name: String) throws -> CodingModel {
    try ModelRegistry.model(namedOrPath: folder.appendingPathComponent(name).path)
  }

  /// The side bytes of an IDX file of 4×4 images (from the 8-bit golden container).
  static func sideBytes() throws -> [UInt8] {
    try ContainerReader.inspect(try bytes("images-binary.idx.bba")).header.sideBytes
  }
}
