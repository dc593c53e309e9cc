import BitsBack
import Container
import Foundation
import Model
import Testing

/// The built-in models: they load, they are found by name, they code the data they were made
/// for, and the README's library example runs as written.
@Suite struct BuiltinModelTests {
  static let names = ["mnist", "mnist-binary", "fashion-mnist", "mnist-plain", "mnist-binary-plain", "fashion-mnist-plain"]

  /// testdata/fashion-mnist-100-idx3-ubyte: 100 Fashion-MNIST test images (testdata/README.md).
  static func fashionSample() throws -> [UInt8] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("testdata/fashion-mnist-100-idx3-ubyte")
    return [UInt8](try Data(contentsOf: url))
  }

  @Test func everyBuiltinModelLoadsAndIsFoundByName() throws {
    #expect(ModelRegistry.builtinNames == Self.names)
    #expect(ModelRegistry.builtins.map(\.name) == Self.names, "a built-in weights file does not load")
    for name in Self.names {
      let model = try ModelRegistry.model(namedOrPath: name)
      #expect(model.name == name)
      #expect(model.architecture.height == 28 && model.architecture.width == 28)
      #expect(model.fileSize < 8 << 20, "\(name) is \(model.fileSize) bytes")
      #expect(model.validationRate != nil)
    }
  }

  /// The int16 models (issue 18) and the Float models whose weights files they are made from:
  /// every current model but `mnist`, `mnist-binary-plain` and `fashion-mnist`; `mnist-v3`, the
  /// int16 `mnist` until the model with a deeper per-pixel network replaced it; `mnist-binary-plain-v2`,
  /// the int16 `mnist-binary-plain` until the one with an IAF posterior (issue 17) replaced it;
  /// `fashion-mnist-v3`, the int16 `fashion-mnist` until the one trained 10 epochs further
  /// replaced it, and `fashion-mnist-v4`, that one until the model with a deeper per-pixel
  /// network replaced it. Those replacements' Float weights files were never built-in models of
  /// their own.
  static let int16Forms = [
    ("mnist-v3", "mnist-v2"), ("mnist-binary", "mnist-binary-v2"), ("fashion-mnist-v3", "fashion-mnist-v2"),
    ("mnist-plain", "mnist-plain-v1"), ("fashion-mnist-plain", "fashion-mnist-plain-v1"),
    ("mnist-binary-plain-v2", "mnist-binary-plain-v1"), ("mnist-binary-plain", nil), ("fashion-mnist", nil),
    ("fashion-mnist-v4", nil), ("mnist", nil),
  ]

  /// Every current built-in model is the int16 form of a Float weights file (issue 18): the
  /// weights are that file's, its identity is the hash of the file it serializes to (what
  /// `bbans convert` writes), which loads back as the same model, and a decompressor finds it
  /// by that hash.
  @Test func theCurrentModelsAreTheInt16FormsOfFloatModels() throws {
    #expect(Set(Self.int16Forms.map(\.0)).isSuperset(of: Self.names))
    for (name, floatName) in Self.int16Forms {
      let model = try #require(ModelRegistry.builtin(named: name))
      #expect(model.architecture.arithmetic == .int16)
      if let floatName {
        let float = try #require(ModelRegistry.builtin(named: floatName))
        #expect(float.architecture.arithmetic == .float32)
        #expect(ModelRegistry.formerName(ofBuiltin: floatName) == ModelRegistry.formerName(ofBuiltin: name) ?? name)
        #expect(model.vae.encoder.layers.map(\.weights) == float.vae.encoder.layers.map(\.weights))
        #expect(model.vae.decoder.layers.map(\.weights) == float.vae.decoder.layers.map(\.weights))
        #expect(model.vae.summary == float.vae.summary + "; int16 arithmetic (bbans convert)")
      } else {
        if name == "mnist-binary-plain" { #expect(model.architecture.posterior == .iaf(steps: 4, hidden: 100, context: 32)) }
        #expect(model.vae.summary.hasSuffix("; int16 arithmetic (bbans convert)"))
      }
      let bytes = model.vae.serialized()
      #expect(bytes.count == model.fileSize)
      let reloaded = try VAE(contentsOf: bytes)
      #expect(reloaded.identity == model.identity && reloaded.architecture == model.architecture)
      #expect(ModelRegistry.builtin(identity: model.identity)?.name == name)
      #expect(ModelRegistry.builtinArchitecture(named: name)?.arithmetic == .int16)
    }
  }

  /// The README's example, as written there.
  @Test func theReadmeLibraryExampleRuns() throws {
    let file: [UInt8] = try Self.fashionSample()
    let container = try Compressor.compress(file)
    let back = try Decompressor.decompress(container)
    #expect(back == file)

    var options = CompressionOptions()
    options.model = .model(try ModelRegistry.model(namedOrPath: "mnist"))
    let smaller = try Compressor.compress(file, options: options)
    #expect(try Decompressor.decompress(smaller) == file)
  }

  /// Automatic choice: 8-bit Fashion-MNIST images get a built-in 8-bit model and bits-back,
  /// and beat zstd -19 on the same bytes; the same images thresholded to 0/1 get mnist-binary.
  @Test func automaticChoiceCodesTheBundledImagesWithBitsBack() throws {
    let file = try Self.fashionSample()
    let bytes = try Compressor.compress(file)
    let summary = try ContainerReader.inspect(bytes)
    #expect(summary.header.modelName == "fashion-mnist")
    #expect(summary.chunks.allSatisfy { $0.method == .bitsBack })
    #expect(bytes.count < (try Zstd.compress(file, level: 19)).count)

    var binary = file
    for i in 16..<binary.count { binary[i] = binary[i] >= 128 ? 1 : 0 }
    let binaryBytes = try Compressor.compress(binary)
    #expect(try ContainerReader.inspect(binaryBytes).header.modelName == "mnist-binary")
    #expect(try Decompressor.decompress(binaryBytes) == binary)
  }
}
