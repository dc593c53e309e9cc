import BitsBack
import Container
import Testing

/// The retired built-in models: models that a retrained one has replaced under their names,
/// kept byte for byte so that the archives made with them still decode. The golden archives of
/// testdata/golden/retired (made by its make.sh from commit 07a9261, with the models that were then
/// `mnist`, `mnist-binary` and `fashion-mnist`) record those names and the old weights' hashes:
/// they must decode forever, whatever the current models are.
@Suite struct RetiredModelTests {
  struct Golden: CustomStringConvertible, Sendable {
    let original: String
    /// The name the archive records: the model's name when it was current.
    let recordedName: String
    /// The retired model that decodes it, and the hash of its weights file.
    let retired: String
    let identity: UInt64
    var description: String { original }
  }

  static let files: [Golden] = [
    Golden(original: "digits-20.idx", recordedName: "mnist", retired: "mnist-v1", identity: 0x5385_FBB7_B765_C58D),
    Golden(
      original: "digits-20-binary.idx", recordedName: "mnist-binary", retired: "mnist-binary-v1",
      identity: 0xDD70_629B_3D2A_AE07),
    Golden(
      original: "fashion-mnist-20to39.idx", recordedName: "fashion-mnist", retired: "fashion-mnist-v1",
      identity: 0xBB4A_637A_69C2_F545),
    // The golden file of GoldenFileTests made with mnist-binary when it was mnist-binary-v1
    // (testdata/golden/fashion-mnist-20-binary.idx.bba until the row-summary model replaced it).
    Golden(
      original: "fashion-mnist-20-binary.idx", recordedName: "mnist-binary", retired: "mnist-binary-v1",
      identity: 0xDD70_629B_3D2A_AE07),
    // Likewise GoldenFileTests' file of fashion-mnist when it was fashion-mnist-v1.
    Golden(
      original: "fashion-mnist-20.idx", recordedName: "fashion-mnist", retired: "fashion-mnist-v1",
      identity: 0xBB4A_637A_69C2_F545),
    // The Float models that the int16 ones replaced (issue 18): GoldenFileTests' two files of
    // the row-summary models (testdata/golden/fashion-mnist-20*.idx.bba until then), and files
    // that the build before the replacement (commit bc96b87) made with mnist and the plain models.
    Golden(
      original: "fashion-mnist-20-v2.idx", recordedName: "fashion-mnist", retired: "fashion-mnist-v2",
      identity: 0xA8E0_8181_60DF_4FBE),
    Golden(
      original: "fashion-mnist-20-binary-v2.idx", recordedName: "mnist-binary", retired: "mnist-binary-v2",
      identity: 0xDED9_D7D1_5587_4990),
    Golden(original: "digits-20-v2.idx", recordedName: "mnist", retired: "mnist-v2", identity: 0xC2BD_B142_B458_C817),
    Golden(
      original: "digits-20-plain.idx", recordedName: "mnist-plain", retired: "mnist-plain-v1",
      identity: 0x8BC2_21CE_1552_477F),
    Golden(
      original: "digits-20-binary-plain.idx", recordedName: "mnist-binary-plain", retired: "mnist-binary-plain-v1",
      identity: 0x2F39_5A0D_9808_123D),
    Golden(
      original: "fashion-mnist-20to39-plain.idx", recordedName: "fashion-mnist-plain", retired: "fashion-mnist-plain-v1",
      identity: 0x2A5A_57E8_ECE0_70B2),
    // The int16 mnist-binary-plain that the model with an IAF posterior replaced (issue 17),
    // made by the build before the replacement (commit cb90f1f).
    Golden(
      original: "digits-20-binary-plain-v2.idx", recordedName: "mnist-binary-plain", retired: "mnist-binary-plain-v2",
      identity: 0x08E9_FEEB_FEB4_278B),
    // The int16 fashion-mnist that the model trained 10 epochs further replaced (issue 16):
    // GoldenFileTests' file of fashion-mnist until then (testdata/golden/fashion-mnist-20.idx.bba).
    Golden(
      original: "fashion-mnist-20-v3.idx", recordedName: "fashion-mnist", retired: "fashion-mnist-v3",
      identity: 0x60C6_CCBF_D4A3_A2D6),
    // The int16 fashion-mnist that the model with a deeper per-pixel network replaced (issue
    // 16): GoldenFileTests' file of fashion-mnist until then, made again by that build.
    Golden(
      original: "fashion-mnist-20-v4.idx", recordedName: "fashion-mnist", retired: "fashion-mnist-v4",
      identity: 0x03E7_E334_1A36_9B86),
    // The int16 mnist that the model with a deeper per-pixel network replaced (issue 16):
    // GoldenFileTests' file of mnist until then (testdata/golden/digits-20-mnist.idx.bba).
    Golden(original: "digits-20-v3.idx", recordedName: "mnist", retired: "mnist-v3", identity: 0xB3BB_4393_9D64_4ED5),
  ]

  @Test(arguments: files)
  func goldenArchivesDecodeBitExactlyWithTheRetiredModel(_ golden: Golden) throws {
    let container = try GoldenFiles.bytes("retired/" + golden.original + ".bba")
    let summary = try ContainerReader.inspect(container)
    #expect(summary.header.modelName == golden.recordedName)
    #expect(summary.header.modelHash == golden.identity, "the golden archive was re-made")
    #expect(summary.chunks.allSatisfy { $0.method == .bitsBack })
    let retired = try #require(ModelRegistry.builtin(named: golden.retired))
    #expect(retired.identity == golden.identity, "the retired weights file \(golden.retired).bbm changed")
    // No model given: found among the built-ins by the hash the archive records.
    let output = try Decompressor.decompress(container, threadCount: 2)
    #expect(output == (try GoldenFiles.bytes("retired/" + golden.original)))
    #expect(ModelRegistry.builtin(identity: golden.identity, preferring: golden.recordedName) != nil)
  }

  @Test func retiredModelsAreListedApartAndGoByTheirOwnNames() throws {
    #expect(ModelRegistry.retiredNames == ["mnist-v1", "mnist-binary-v1", "fashion-mnist-v1", "mnist-v2", "mnist-binary-v2",
                                           "fashion-mnist-v2", "mnist-plain-v1", "mnist-binary-plain-v1", "fashion-mnist-plain-v1",
                                           "mnist-binary-plain-v2", "fashion-mnist-v3", "fashion-mnist-v4", "mnist-v3"])
    #expect(ModelRegistry.retiredBuiltins.map(\.name) == ModelRegistry.retiredNames, "a retired weights file does not load")
    #expect(Set(ModelRegistry.builtinNames).isDisjoint(with: ModelRegistry.retiredNames))
    #expect(ModelRegistry.builtins.allSatisfy { ModelRegistry.formerName(ofBuiltin: $0.name) == nil })
    for golden in Self.files {
      #expect(ModelRegistry.formerName(ofBuiltin: golden.retired) == golden.recordedName)
      // The old name is the current model's; the retired one goes by its own name only.
      #expect(ModelRegistry.builtin(named: golden.recordedName)?.name == golden.recordedName)
      let retired = try ModelRegistry.model(namedOrPath: golden.retired)
      #expect(retired.name == golden.retired && retired.identity == golden.identity)
    }
  }

  /// An archive whose recorded name is a built-in model with other weights (as `mnist`'s
  /// archives will be once `mnist` is retrained) is decoded by the model of its hash.
  @Test func theHashFindsTheModelWhenTheNameIsAnothers() throws {
    let v1 = try #require(ModelRegistry.builtin(named: "mnist-v1"))
    let plain = try #require(ModelRegistry.builtin(named: "mnist-plain"))
    #expect(plain.identity != v1.identity)
    let file = try GoldenFiles.bytes("retired/digits-20.idx")
    var options = CompressionOptions()
    options.model = .model(CodingModel(name: "mnist-plain", vae: v1.vae, fileSize: v1.fileSize))
    options.threadCount = 1
    let container = try Compressor.compress(file, options: options)
    let header = try ContainerReader.inspect(container).header
    #expect(header.modelName == "mnist-plain" && header.modelHash == v1.identity)
    #expect(try Decompressor.decompress(container) == file)
  }

  /// An archive of a model this build lacks names it, name and hash, in one sentence; a
  /// built-in name is not taken for a file's.
  @Test func anArchiveOfAModelThisBuildLacksNamesIt() throws {
    let model = try GoldenFiles.model("model-8bit.bbm")
    let file = try GoldenFiles.bytes("images-8bit.idx")
    for name in ["mnist", "mnist-v1", "mine"] {
      var options = CompressionOptions()
      options.model = .model(CodingModel(name: name, vae: model.vae, fileSize: model.fileSize))
      options.threadCount = 1
      let container = try Compressor.compress(file, options: options)
      #expect(try ContainerReader.inspect(container).chunks.allSatisfy { $0.method == .bitsBack })
      let error = BitsBackError.modelUnavailable(name: name, hash: model.identity)
      #expect(throws: error) { try Decompressor.decompress(container) }
      let text = error.description
      #expect(!text.contains("\n"))
      #expect(text.contains("'\(name)'") && text.contains(String(model.identity, radix: 16, uppercase: true)), "\(text)")
      #expect(text.contains("\(name).bbm") == (name == "mine"), "\(text)")
      #expect(try Decompressor.decompress(container, models: [model]) == file)
    }
  }
}
