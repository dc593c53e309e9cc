import BitsBack
import Container
import Testing

/// The golden files (testdata/golden, made by its make.sh; testdata/README.md describes them):
/// containers made once and checked in. They must decode bit-exactly forever, on every machine
/// and build, and the originals must re-encode to the identical bytes. A failure here means the
/// format, a model's arithmetic, or the weights file changed: see DESIGN.md, "Determinism".
@Suite struct GoldenFileTests {
  struct Golden: CustomStringConvertible, Sendable {
    let original: String
    /// The weights file in testdata/golden, or nil for none (zstd, stored) or a built-in model.
    let model: String?
    let method: ChunkMethod
    /// The built-in model the container names (chosen from the data, or by name with
    /// `--model` where `named`), if any.
    var builtin: String? = nil
    var named = false
    var description: String { original }
  }

  static let files: [Golden] = [
    Golden(original: "images-8bit.idx", model: "model-8bit.bbm", method: .bitsBack),
    Golden(original: "images-binary.idx", model: "model-binary.bbm", method: .bitsBack),
    // A context head with a row summary (weights file version 2).
    Golden(original: "images-8bit-rows.idx", model: "model-rows.bbm", method: .bitsBack),
    // The same model with int16 arithmetic in its encoder and decoder (weights file version 4).
    Golden(original: "images-8bit-int16.idx", model: "model-int16.bbm", method: .bitsBack),
    // Flow posteriors (weights file version 3): Householder, IAF, Sylvester with a context head.
    Golden(original: "images-8bit-householder.idx", model: "model-householder.bbm", method: .bitsBack),
    Golden(original: "images-binary-iaf.idx", model: "model-iaf.bbm", method: .bitsBack),
    Golden(original: "images-8bit-sylvester.idx", model: "model-sylvester.bbm", method: .bitsBack),
    Golden(original: "text.txt", model: nil, method: .zstd),
    Golden(original: "random.bin", model: nil, method: .stored),
    // The built-in models, chosen from the data: guards their arithmetic (the mixture of
    // logistics, the context network, PortableMath) across machines and builds.
    Golden(original: "fashion-mnist-20.idx", model: nil, method: .bitsBack, builtin: "fashion-mnist"),
    Golden(original: "fashion-mnist-20-binary.idx", model: nil, method: .bitsBack, builtin: "mnist-binary"),
    // A built-in model with an IAF posterior (issue 17), by name.
    Golden(original: "fashion-mnist-20-binary-plain.idx", model: nil, method: .bitsBack, builtin: "mnist-binary-plain", named: true),
    // The other current built-in models, by name: mnist and mnist-plain on generated digits,
    // fashion-mnist-plain on the 8-bit Fashion-MNIST images.
    Golden(original: "digits-20-mnist.idx", model: nil, method: .bitsBack, builtin: "mnist", named: true),
    Golden(original: "digits-20-mnist-plain.idx", model: nil, method: .bitsBack, builtin: "mnist-plain", named: true),
    Golden(original: "fashion-mnist-20-plain.idx", model: nil, method: .bitsBack, builtin: "fashion-mnist-plain", named: true),
  ]

  /// The options make.sh gives `bbans compress`: --chunk 64 --lanes 4 --threads 1, and
  /// --model for the images.
  func options(_ model: CodingModel?) -> CompressionOptions {
    var options = CompressionOptions()
    if let model { options.model = .model(model) }
    options.chunkImageCount = 64
    options.laneCount = 4
    options.threadCount = 1
    return options
  }

  @Test(arguments: files)
  func decodesBitExactly(_ golden: Golden) throws {
    let container = try GoldenFiles.bytes(golden.original + ".bba")
    let models = try golden.model.map { [try GoldenFiles.model($0)] } ?? []
    let summary = try ContainerReader.inspect(container)
    #expect(summary.chunks.allSatisfy { $0.method == golden.method })
    let identity = golden.builtin.map { ModelRegistry.builtin(named: $0)?.identity } ?? models.first?.identity
    #expect(summary.header.modelHash == (identity ?? 0), "the weights file no longer has the identity the container recorded")
    let output = try Decompressor.decompress(container, models: models, threadCount: 2)
    #expect(output == (try GoldenFiles.bytes(golden.original)))
  }

  @Test(arguments: files)
  func reencodesToTheSameBytes(_ golden: Golden) throws {
    let original = try GoldenFiles.bytes(golden.original)
    let model = try golden.model.map { try GoldenFiles.model($0) }
      ?? (golden.named ? golden.builtin.flatMap { ModelRegistry.builtin(named: $0) } : nil)
    let container = try Compressor.compress(original, options: options(model))
    let expected = try GoldenFiles.bytes(golden.original + ".bba")
    #expect(container.count == expected.count)
    #expect(container == expected, "first difference at byte \((0..<min(container.count, expected.count)).first { container[$0] != expected[$0] } ?? min(container.count, expected.count))")
  }
}

/// Archives that the bbans of commit 743e125 wrote for GNU gzip files (testdata/golden/legacy):
/// it kept their pixels but not how to rebuild the deflate stream, so that bbans could not
/// decode them. The GNU gzip encoder rebuilds them now, the level the header suggests first
/// (`-9` here) or, when it is not that one (`-5`), the one whose output has the file's checksum.
@Suite struct LegacyGzipArchiveTests {
  @Test(arguments: ["fashion-mnist-100-gzip5.idx.gz", "fashion-mnist-100-gzip9.idx.gz"])
  func decodesToTheOriginalGzipFile(_ name: String) throws {
    let container = try GoldenFiles.bytes("legacy/" + name + ".bba")
    #expect(try Decompressor.decompress(container) == (try GoldenFiles.bytes("legacy/" + name)))
  }

  @Test func theEncoderIsNamedWhenTheHeaderSuggestsAnother() throws {
    let container = try GoldenFiles.bytes("legacy/fashion-mnist-100-gzip5.idx.gz.bba")
    #expect(throws: BitsBackError.rebuildNeedsEncoding(.gnu(level: 5))) {
      try Decompressor.decompress(source: MemoryByteSource(container)) { _ in }
    }
  }
}
