import BitsBack
import Container
import Foundation
import Hashing
import Model
import Testing
import TestSupport

/// The compressor's two passes over a streamed input, the decompressor's chunk-by-chunk output,
/// and the invariant: no container the decompressor cannot decode.
@Suite struct StreamingTests {
  static let model = Fixtures.model(.logisticMixture(components: 2))
  static let file = Fixtures.idx(Fixtures.images(700, binary: false), count: 700)

  func options(threads: Int = 2, chunk: Int? = 100) -> CompressionOptions {
    var options = CompressionOptions()
    options.model = .model(Self.model)
    options.laneCount = 4
    options.threadCount = threads
    options.chunkImageCount = chunk
    return options
  }

  /// An input that hands out its bytes in small pieces of varying size, as a pipe does.
  struct TricklingInput: CompressionInput {
    let bytes: [UInt8]
    var position = 0
    var pieces = TestSupport.SeededGenerator(seed: 5)
    /// When set, the second pass sees other bytes than the first.
    var changeOnRewind = false
    var rewinds = 0

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
      let count = min(buffer.count, bytes.count - position, Int.random(in: 1...700, using: &pieces))
      for i in 0..<count {
        var byte = bytes[position + i]
        if changeOnRewind && rewinds > 0 && position + i == bytes.count - 1 { byte ^= 1 }
        buffer[i] = byte
      }
      position += count
      return count
    }

    mutating func rewind() throws {
      position = 0
      rewinds += 1
    }
  }

  @Test func aTricklingInputGivesTheSameContainerAsMemory() throws {
    let inMemory = try Compressor.compress(Self.file, options: options())
    var input = TricklingInput(bytes: Self.file)
    var streamed: [UInt8] = []
    _ = try Compressor.compress(&input, options: options()) { streamed += $0 }
    #expect(streamed == inMemory)
    #expect(try Decompressor.decompress(streamed, models: [Self.model]) == Self.file)
  }

  @Test func anInputThatChangesBetweenThePassesIsRefused() throws {
    for file in [Self.file, Array("not an image file, some text".utf8)] {
      var input = TricklingInput(bytes: file)
      input.changeOnRewind = true
      #expect(throws: BitsBackError.self) {
        try Compressor.compress(&input, options: CompressionOptions()) { _ in }
      }
    }
  }

  /// The default chunking depends on the image count alone: the same bytes on every machine.
  @Test func theDefaultContainerDoesNotDependOnTheThreadCount() throws {
    let outputs = try [1, 2, 8].map { try Compressor.compress(Self.file, options: options(threads: $0, chunk: nil)) }
    #expect(outputs[0] == outputs[1] && outputs[1] == outputs[2])
    #expect([0, 1, 8192, 8193, 10_000, 60_000].map(Compressor.defaultChunk) == [1, 1, 8192, 4097, 5000, 7500])
  }

  @Test func theDecompressorHandsOutTheFileChunkByChunk() throws {
    let container = try Compressor.compress(Self.file, options: options())
    var pieces: [[UInt8]] = []
    let report = try Decompressor.decompress(source: MemoryByteSource(container), models: [Self.model], threadCount: 2) {
      pieces.append($0)
    }
    #expect(pieces.joined().elementsEqual(Self.file))
    #expect(report.originalSize == UInt64(Self.file.count) && report.imageCount == 700 && report.chunkCount == 7)
  }

  @Test func aHeaderClaimingMoreImagesThanItsChunksHoldIsRefused() throws {
    let container = try Compressor.compress(Self.file, options: options())
    var reader = try ContainerReader(source: MemoryByteSource(container))
    var header = reader.header
    var chunks: [(ChunkRecord, [UInt8])] = []
    while let chunk = try reader.nextChunk() { chunks.append(chunk) }
    header.itemCount += 1
    let forged = try CorruptionTableTests.write(header, chunks, originalChecksum: reader.trailer!.originalChecksum)
    #expect(throws: BitsBackError.implausibleSize("the header describes 701 images, the chunks hold 700")) {
      try Decompressor.decompress(forged, models: [Self.model])
    }
  }

  @Test func aHeaderWhoseOriginalSizeDisagreesWithTheRebuiltFileIsRefused() throws {
    let container = try Compressor.compress(Self.file, options: options())
    var reader = try ContainerReader(source: MemoryByteSource(container))
    var header = reader.header
    var chunks: [(ChunkRecord, [UInt8])] = []
    while let chunk = try reader.nextChunk() { chunks.append(chunk) }
    header.originalSize += 1
    let forged = try CorruptionTableTests.write(header, chunks, originalChecksum: reader.trailer!.originalChecksum)
    #expect(throws: BitsBackError.implausibleSize("the header gives the original \(Self.file.count + 1) bytes, the rebuilt file has \(Self.file.count)")) {
      try Decompressor.decompress(forged, models: [Self.model])
    }
  }

  /// Found by FuzzRoundTrip: an NPY version 2 header cut after 10 bytes made the scanner read
  /// its 4-byte length past what it had.
  @Test func shortHeadersOfEveryFormatRoundTrip() throws {
    let npy2: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x02, 0x00, 0x19, 0x71, 0x3A, 0x20, 0x46, 0x61, 0x6C, 0xE1,
                         0xE1, 0xE1, 0xEE, 0xE8, 0xB9, 0x99, 0x7F, 0x5C]
    var inputs: [[UInt8]] = [npy2]
    for file in [npy2, Fixtures.idx([1, 2, 3, 4], count: 1, height: 2, width: 2), Array("P5 2 2 255\n".utf8) + [1, 2, 3, 4]] {
      for length in 0...min(file.count, 24) { inputs.append(Array(file.prefix(length))) }
    }
    for input in inputs {
      for streamed in [false, true] {
        var container: [UInt8] = []
        if streamed {
          var source = TricklingInput(bytes: input)
          _ = try Compressor.compress(&source, options: CompressionOptions()) { container += $0 }
        } else {
          container = try Compressor.compress(input)
        }
        #expect(try Decompressor.decompress(container) == input, "\(input)")
      }
    }
  }

  // MARK: - gzip

  /// Each gzip file of images: the model codes its pixels when an encoder rebuilds it, zstd its
  /// bytes otherwise; both come back byte for byte.
  func check(_ gz: [UInt8], modelCoded: Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let report = try Compressor.compress(gz, options: options()) { _ in }
    let container = try Compressor.compress(gz, options: options())
    #expect(try Decompressor.decompress(container, models: [Self.model]) == gz, sourceLocation: sourceLocation)
    #expect((report.modelName != nil) == modelCoded, "\(report.notes)", sourceLocation: sourceLocation)
    if !modelCoded { #expect(!report.notes.isEmpty, sourceLocation: sourceLocation) }
  }

  @Test func zlibGzipAtEveryLevelIsCodedWithTheModel() throws {
    for level in 0...9 { try check(try Gzip.wrap(Self.file, level: level), modelCoded: true) }
  }

  @Test func aGzipHeaderWithNameCommentAndExtraFieldIsKept() throws {
    var header: [UInt8] = [0x1F, 0x8B, 8, 0x1E, 0x78, 0x56, 0x34, 0x12, 0, 3]  // FEXTRA FNAME FCOMMENT FHCRC
    header += [4, 0, 1, 2, 3, 4] + Array("images.idx".utf8) + [0] + Array("made for a test".utf8) + [0] + [0xAB, 0xCD]
    try check(try Gzip.wrap(Self.file, level: 6, header: header), modelCoded: true)
  }

  @Test func gzipFilesBbansDoesNotRebuildGoTheLosslessWay() throws {
    let whole = try Gzip.wrap(Self.file, level: 6)
    let half = Self.file.count / 2
    let twoMembers = try Gzip.wrap(Array(Self.file[..<half]), level: 6) + Gzip.wrap(Array(Self.file[half...]), level: 6)
    try check(twoMembers, modelCoded: false)
    try check(whole + [0, 0, 0, 0], modelCoded: false)  // junk after the member
    try check(whole + whole, modelCoded: false)
    var badCRC = whole
    badCRC[whole.count - 8] ^= 0x40
    try check(badCRC, modelCoded: false)
    try check(Array(whole.dropLast(3)), modelCoded: false)  // truncated trailer
    try check(Array(whole.dropLast(40)), modelCoded: false)  // truncated stream
    // A stream no known encoder makes: zlib at level 6 with memLevel 9 would do; here, a
    // stored block where zlib would compress.
    var stored: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]
    var offset = 0
    while offset < Self.file.count {
      let length = min(1000, Self.file.count - offset)
      let final: UInt8 = offset + length == Self.file.count ? 1 : 0
      stored += [final, UInt8(length & 255), UInt8(length >> 8), UInt8(~length & 255), UInt8((~length >> 8) & 255)]
      stored += Self.file[offset..<(offset + length)]
      offset += length
    }
    stored += Array(try Gzip.wrap(Self.file, level: 1).suffix(8))
    try check(stored, modelCoded: false)
  }
}
