import BitsBack
import Container
import Model
import Testing
import TestSupport

/// The library API end to end: bytes in, container out, the same bytes back.
@Suite struct CompressorTests {
  func options(_ model: CodingModel?) -> CompressionOptions {
    var options = CompressionOptions()
    if let model { options.model = .model(model) }
    options.laneCount = 4
    return options
  }

  @Test(arguments: [0, 1, 2, 1000])
  func idxRoundTripsThroughBitsBack(count: Int) throws {
    let model = Fixtures.model(.logisticMixture(components: 3))
    let file = Fixtures.idx(Fixtures.images(count, binary: false), count: count)
    var output: [UInt8] = []
    let report = try Compressor.compress(file, options: options(model)) { output.append(contentsOf: $0) }
    #expect(report.compressedSize == output.count)
    #expect(try Decompressor.decompress(output, models: [model]) == file)
    if count > 0 {
      #expect(report.modelName == model.name)
      #expect(report.chunks.allSatisfy { $0.itemCount > 0 })
    }
  }

  /// Models with int16 arithmetic (plain, and with a row summary) code and decode at 0, 1, 2 and
  /// 1,000 images, with one thread and with two on smaller chunks; their archives differ from
  /// their Float forms' and do not decode with them. (The rate of trained int16 models against
  /// their Float forms: docs/MODELS.md.)
  @Test(arguments: [0, 1, 2, 1000], [false, true])
  func int16ArithmeticRoundTrips(count: Int, rows: Bool) throws {
    let head = ContextHead(features: 2, hidden: 8, neighbourCount: 12, rows: RowSummary(stateWidth: 3, globalWidth: 4))
    let float = Fixtures.model(.logisticMixture(components: 3), context: rows ? head : nil)
    let vae = float.vae.with(arithmetic: .int16)
    let model = CodingModel(name: "test-int16", vae: vae, fileSize: vae.serialized().count)
    let file = Fixtures.idx(Fixtures.images(count, binary: false), count: count)
    var one = options(model)
    one.threadCount = 1
    var output: [UInt8] = []
    let report = try Compressor.compress(file, options: one) { output.append(contentsOf: $0) }
    #expect(try Decompressor.decompress(output, models: [model]) == file)
    guard count > 0 else { return }
    var two = one
    two.threadCount = 2
    two.chunkImageCount = max(1, count / 3)
    let threaded = try Compressor.compress(file, options: two)
    #expect(try Decompressor.decompress(threaded, models: [model]) == file)
    if !rows { #expect(report.modelName == model.name) }
    // (At 1,000 images zstd codes these random models' data better: nothing to decode wrongly.)
    guard report.chunks.contains(where: { $0.method == .bitsBack }) else { return }
    #expect(throws: (any Error).self) { _ = try Decompressor.decompress(output, models: [float]) }
    let floatOutput = try Compressor.compress(file, options: options(float))
    #expect(floatOutput != output)
  }

  @Test func binaryImagesStoredAs0And255UseTheBernoulliModel() throws {
    let model = Fixtures.model(.bernoulli)
    let pixels = Fixtures.images(300, binary: true).map { $0 * 255 }
    let file = Fixtures.idx(pixels, count: 300)
    let container = try Compressor.compress(file, options: options(model))
    #expect(try Decompressor.decompress(container, models: [model]) == file)
    #expect(container.count < file.count / 4)
  }

  @Test func anyBytesRoundTripThroughZstd() throws {
    var generator = TestSupport.SeededGenerator(seed: 9)
    let random = (0..<10_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
    let text = Array(String(repeating: "bits back coding ", count: 500).utf8)
    for input in [[], [42], random, text] as [[UInt8]] {
      let container = try Compressor.compress(input)
      #expect(try Decompressor.decompress(container) == input)
      let summary = try ContainerReader.inspect(container)
      #expect(summary.header.modelName.isEmpty)
      // Never much worse than the data itself: the container's header, record and trailer.
      #expect(container.count <= input.count + 256)
    }
  }

  @Test func theWrongModelIsRefused() throws {
    // A model that codes its images with bits-back for sure (a random model's chunks may go
    // through zstd, and then the container needs no model at all: FallbackTests).
    let model = try GoldenFiles.model("model-8bit.bbm")
    let other = Fixtures.model(.betaBinomial, height: 4, width: 4, seed: 2)
    let file = try GoldenFiles.bytes("images-8bit.idx")
    let container = try Compressor.compress(file, options: options(model))
    #expect(try ContainerReader.inspect(container).chunks.allSatisfy { $0.method == .bitsBack })
    #expect(throws: BitsBackError.modelMismatch(name: model.name, expected: model.identity, found: other.identity)) {
      try Decompressor.decompress(container, models: [other])
    }
    #expect(throws: BitsBackError.modelUnavailable(name: model.name, hash: model.identity)) {
      try Decompressor.decompress(container)
    }
  }

  @Test func aModelOfAnotherShapeIsRefused() {
    let model = Fixtures.model(.betaBinomial, height: 8, width: 8)
    let file = Fixtures.idx(Fixtures.images(3, height: 9, width: 9, binary: false), count: 3, height: 9, width: 9)
    #expect(throws: BitsBackError.self) { try Compressor.compress(file, options: options(model)) }
  }

  @Test func theOutputDoesNotDependOnThreads() throws {
    let model = Fixtures.model(.logisticMixture(components: 2))
    let file = Fixtures.idx(Fixtures.images(500, binary: false), count: 500)
    var one = options(model)
    one.threadCount = 1
    one.chunkImageCount = 100
    var two = one
    two.threadCount = 2
    #expect(try Compressor.compress(file, options: one) == Compressor.compress(file, options: two))
  }

  /// A small chunk gets one lane per 16 images (each lane costs a 64-bit head), a large one
  /// the most asked for; the container records what each chunk used, and both decode.
  @Test func smallChunksUseFewerLanes() throws {
    var options = CompressionOptions()
    #expect(options.laneCount == 32)
    #expect([1, 15, 16, 100, 511, 512, 10_000].map { options.lanes(forImages: $0) } == [1, 1, 1, 6, 31, 32, 32])
    // The golden 8-bit model and its 256 images of 4 × 4, which it codes with bits-back.
    let model = try GoldenFiles.model("model-8bit.bbm")
    let all = try GoldenFiles.bytes("images-8bit.idx")
    options.model = .model(model)
    options.threadCount = 1
    for (count, lanes) in [(100, 6), (256, 16)] {
      let file = Fixtures.idx(Array(all[16..<(16 + count * 16)]), count: count, height: 4, width: 4)
      var output: [UInt8] = []
      let report = try Compressor.compress(file, options: options) { output.append(contentsOf: $0) }
      #expect(report.chunks.map(\.method) == [.bitsBack] && report.chunks.map(\.laneCount) == [UInt16(lanes)])
      #expect(try Decompressor.decompress(output, models: [model]) == file)
    }
  }
}
