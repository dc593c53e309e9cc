import BitsBack
import Container
import Hashing
import Testing
import TestSupport

/// Issue 15, item 4: data that goes through zstd costs no more than zstd itself. A container
/// whose chunks all went through zstd needs no model; image chunks that fall back to zstd are
/// written at the user's level (19 by default); a file of one opaque chunk is written in the
/// compact form (docs/FORMAT.md), 46 bytes over its payload.
@Suite struct FallbackTests {
  /// `count` 4×4 images, all 0: zstd codes them in a few bytes, far below any bits-back
  /// message (a lane's head alone takes 8), so every chunk falls back.
  static func blankImages(_ count: Int) -> [UInt8] {
    Fixtures.idx([UInt8](repeating: 0, count: count * 16), count: count, height: 4, width: 4)
  }

  static func options(_ model: CodingModel, chunk: Int = 64) -> CompressionOptions {
    var options = CompressionOptions()
    options.model = .model(model)
    options.chunkImageCount = chunk
    options.laneCount = 4
    options.threadCount = 1
    return options
  }

  @Test func anImageContainerOfZstdChunksDecodesWithoutItsModel() throws {
    let model = try GoldenFiles.model("model-8bit.bbm")
    let original = Self.blankImages(256)
    let container = try Compressor.compress(original, options: Self.options(model))
    let summary = try ContainerReader.inspect(container)
    #expect(summary.header.modelName == model.name && summary.header.modelHash == model.identity)
    #expect(!summary.header.isCompact)
    #expect(summary.chunks.count == 4 && summary.chunks.allSatisfy { $0.method == .zstd && $0.itemCount == 64 })
    // No `models:`, and the weights file is not built in: the model is never needed.
    var output: [UInt8] = []
    let report = try Decompressor.decompress(source: MemoryByteSource(container)) { output += $0 }
    #expect(output == original)
    #expect(report.modelName == nil && report.imageCount == 256 && report.chunkCount == 4)
    // With the model given, the same.
    #expect(try Decompressor.decompress(container, models: [model]) == original)
  }

  @Test func aContainerWithABitsBackChunkStillNamesTheModelItNeeds() throws {
    let container = try GoldenFiles.bytes("images-8bit.idx.bba")
    let header = try ContainerReader.inspect(container).header
    #expect(throws: BitsBackError.modelUnavailable(name: header.modelName, hash: header.modelHash)) {
      try Decompressor.decompress(container)
    }
    // A zstd chunk first, then a bits-back one: the model is asked for when the second comes.
    let model = try GoldenFiles.model("model-8bit.bbm")
    let images = try GoldenFiles.bytes("images-8bit.idx")
    let original = Fixtures.idx(
      [UInt8](repeating: 0, count: 64 * 16) + Array(images[16..<(16 + 64 * 16)]), count: 128, height: 4, width: 4)
    let mixed = try Compressor.compress(original, options: Self.options(model))
    #expect(try ContainerReader.inspect(mixed).chunks.map(\.method) == [.zstd, .bitsBack])
    var written = 0
    #expect(throws: BitsBackError.modelUnavailable(name: model.name, hash: model.identity)) {
      _ = try Decompressor.decompress(source: MemoryByteSource(mixed), threadCount: 1) { written += $0.count }
    }
    #expect(try Decompressor.decompress(mixed, models: [model]) == original)
  }

  @Test func fallbackChunksUseTheUsersZstdLevel() throws {
    let model = try GoldenFiles.model("model-8bit.bbm")
    // Images that repeat a pattern: zstd finds it, the model cannot.
    var generator = TestSupport.SeededGenerator(seed: 5)
    let pattern = (0..<160).map { _ in UInt8.random(in: 0...255, using: &generator) }
    let pixels = Array((0..<(64 * 16)).map { pattern[$0 % pattern.count] })
    let original = Fixtures.idx(pixels, count: 64, height: 4, width: 4)
    for level in [19, 1, 3, 12] {
      var options = Self.options(model)
      options.zstdLevel = level
      let container = try Compressor.compress(original, options: options)
      let (_, chunks, _) = try CorruptionTableTests.read(container)
      #expect(chunks.count == 1)
      let (record, payload) = chunks[0]
      #expect(record.method == .zstd, "level \(level)")
      let atLevel = try Zstd.compress(pixels, level: level)
      let atChoice = try Zstd.compress(pixels, level: 3)
      // The user's level, unless the level the choice was made with gave fewer bytes.
      #expect(payload == (atLevel.count <= atChoice.count ? atLevel : atChoice), "level \(level)")
      #expect(try Decompressor.decompress(container) == original)
    }
  }

  /// The four inputs of the issue: the container is at most 64 bytes above zstd's frame (here
  /// libzstd's, which has no content checksum; `zstd -19` adds 4 bytes of one).
  @Test func oneOpaqueChunkCostsAtMost64BytesOverZstd() throws {
    var generator = TestSupport.SeededGenerator(seed: 15)
    let random = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
    let text = try GoldenFiles.bytes("text.txt")
    for (name, input) in [("200,000 random bytes", random), ("1 byte", [0x41]), ("empty", []), ("text", text)] as [(String, [UInt8])] {
      let container = try Compressor.compress(input)
      let frame = try Zstd.compress(input, level: 19)
      let summary = try ContainerReader.inspect(container)
      #expect(summary.header.isCompact, "\(name)")
      #expect(summary.chunks.count == 1)
      let payload = summary.chunks[0].method == .zstd ? frame.count : input.count
      #expect(container.count == ContainerFormat.compactHeaderSize + payload, "\(name)")
      #expect(container.count <= frame.count + 64, "\(name): \(container.count) bytes, zstd \(frame.count)")
      #expect(try Decompressor.decompress(container) == input, "\(name)")
    }
  }

  @Test func aFileOfMoreThanOneChunkKeepsTheFullForm() throws {
    // 8 MiB + 1 byte: two opaque chunks, so a chunk table.
    let input = [UInt8](repeating: 7, count: (8 << 20) + 1)
    let container = try Compressor.compress(input)
    let summary = try ContainerReader.inspect(container)
    #expect(!summary.header.isCompact && summary.header.version == ContainerVersion(major: 1, minor: 0))
    #expect(summary.chunks.count == 2)
    #expect(try Decompressor.decompress(container) == input)
  }

  /// The 1.0 containers of one opaque chunk that bbans wrote before the compact form
  /// (testdata/golden/legacy): they decode forever.
  @Test(arguments: ["text.txt", "random.bin"])
  func fullFormOpaqueGoldenFilesStillDecode(_ name: String) throws {
    let container = try GoldenFiles.bytes("legacy/" + name + ".bba")
    let summary = try ContainerReader.inspect(container)
    #expect(summary.header.version == ContainerVersion(major: 1, minor: 0))
    #expect(try Decompressor.decompress(container) == (try GoldenFiles.bytes(name)))
  }

  @Test(arguments: ["text.txt", "random.bin"])
  func compactGoldenFilesAreCompact(_ name: String) throws {
    let summary = try ContainerReader.inspect(try GoldenFiles.bytes(name + ".bba"))
    #expect(summary.header.isCompact && summary.header.version == ContainerVersion(major: 2, minor: 0))
    #expect(summary.headerSize == 46 && summary.chunks.count == 1)
    #expect(summary.trailer.originalChecksum == XXH64.hash(try GoldenFiles.bytes(name)))
  }

  /// Compact containers through the whole decompressor: every flipped byte and every cut gives
  /// a typed error of the part it lies in, never a crash or other bytes.
  @Test func damagedCompactContainersThrowTypedErrors() throws {
    var generator = TestSupport.SeededGenerator(seed: 11)
    let noise = (0..<48).map { _ in UInt8.random(in: 0...255, using: &generator) }
    let text = Array(String(repeating: "bits back, ", count: 40).utf8)
    for (original, method) in [(text, ChunkMethod.zstd), (noise, .stored), ([], .stored)] as [([UInt8], ChunkMethod)] {
      let container = try Compressor.compress(original)
      #expect(try ContainerReader.inspect(container).chunks.map(\.method) == [method])
      for offset in container.indices {
        for mask: UInt8 in [0x01, 0x80, 0xFF] {
          var damaged = container
          damaged[offset] ^= mask
          do {
            _ = try Decompressor.decompress(damaged)
            Issue.record("\(method), offset \(offset): decompressed without error")
          } catch let error as ContainerError {
            switch (offset, error) {
            case (0..<8, .notAContainer), (8..<10, .unsupportedVersion), (10..<46, .headerChecksumMismatch),
              (46..., .chunkChecksumMismatch): break
            default: Issue.record("\(method), offset \(offset): \(error)")
            }
          } catch {
            Issue.record("\(method), offset \(offset): \(error)")
          }
        }
      }
      for length in 0..<container.count {
        do {
          _ = try Decompressor.decompress(Array(container.prefix(length)))
          Issue.record("\(method), length \(length): decompressed without error")
        } catch ContainerError.truncated where length > 0 {
        } catch ContainerError.notAContainer(foundMagic: []) where length == 0 {
        } catch {
          Issue.record("\(method), length \(length): \(error)")
        }
      }
    }
  }

  /// A compact header that claims 2^32 − 1 bytes from a zstd frame of a few bytes, behind
  /// valid checksums: refused before anything of that size is allocated.
  @Test func aCompactContainerClaimingGibibytesFromAFewBytesIsRefused() throws {
    let frame = try Zstd.compress([1, 2, 3], level: 3)
    var bytes: [UInt8] = []
    try ContainerWriter.writeCompact(
      ChunkRecord(method: .zstd, rawSize: 0xFFFF_FFFF, rawChecksum: 0), payload: frame) { bytes += $0 }
    #expect(throws: BitsBackError.implausibleSize(
      "chunk 0 (zstd) claims 4294967295 bytes from a payload of \(frame.count), more than 65536 times as many")) {
      try Decompressor.decompress(bytes)
    }
  }
}
