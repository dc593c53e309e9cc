import BitsBack
import Foundation
import Testing

/// `Compressor.compressFile` and `Decompressor.decompressFile`: a path to a path, the output
/// complete or absent, nothing replaced without `overwrite`, no temporary file left behind.
@Suite struct FileAPITests {
  func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bbans-fileapi-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  func files(in folder: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
  }

  /// The golden 4×4 images and their small model, copied into `folder`.
  func fixtures(in folder: URL) throws -> (images: String, model: CodingModel) {
    let images = folder.appendingPathComponent("images.idx")
    try Data(GoldenFiles.bytes("images-8bit.idx")).write(to: images)
    return (images.path, try GoldenFiles.model("model-8bit.bbm"))
  }

  @Test func aRoundTripThroughFiles() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (images, model) = try fixtures(in: folder)
    var options = CompressionOptions()
    options.model = .model(model)
    var calls: [(Int, Int)] = []
    let report = try Compressor.compressFile(atPath: images, toPath: images + ".bba", options: options) { calls.append(($0, $1)) }
    #expect(report.modelName == model.name)
    #expect(!calls.isEmpty && calls.last!.0 == calls.last!.1, "\(calls)")
    // The same container as in memory.
    let container = try [UInt8](Data(contentsOf: URL(fileURLWithPath: images + ".bba")))
    #expect(container == (try Compressor.compress(GoldenFiles.bytes("images-8bit.idx"), options: options)))
    let back = try Decompressor.decompressFile(atPath: images + ".bba", toPath: images + ".back", models: [model])
    #expect(back.modelName == model.name)
    #expect(try Data(contentsOf: URL(fileURLWithPath: images + ".back")) == Data(contentsOf: URL(fileURLWithPath: images)))
    #expect(try files(in: folder) == ["images.idx", "images.idx.back", "images.idx.bba"])
  }

  @Test func nothingIsReplacedWithoutOverwrite() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (images, model) = try fixtures(in: folder)
    var options = CompressionOptions()
    options.model = .model(model)
    let output = folder.appendingPathComponent("out.bba").path
    try Data("keep me".utf8).write(to: URL(fileURLWithPath: output))
    #expect(throws: FileOutputError.exists(path: output)) {
      try Compressor.compressFile(atPath: images, toPath: output, options: options)
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data("keep me".utf8))
    #expect(try files(in: folder) == ["images.idx", "out.bba"])
    try Compressor.compressFile(atPath: images, toPath: output, options: options, overwrite: true)
    #expect(try Decompressor.decompress([UInt8](Data(contentsOf: URL(fileURLWithPath: output))), models: [model])
            == (try GoldenFiles.bytes("images-8bit.idx")))
    #expect(try files(in: folder) == ["images.idx", "out.bba"])
  }

  @Test func aFailureLeavesNoOutput() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (images, model) = try fixtures(in: folder)
    var options = CompressionOptions()
    options.model = .model(model)
    let archive = folder.appendingPathComponent("a.bba")
    try Compressor.compressFile(atPath: images, toPath: archive.path, options: options)
    // Cut short: the decompressor has written some of the original when it finds out.
    let whole = try Data(contentsOf: archive)
    try whole.prefix(whole.count - 9).write(to: archive)
    let output = folder.appendingPathComponent("back.idx").path
    #expect(throws: (any Error).self) {
      try Decompressor.decompressFile(atPath: archive.path, toPath: output, models: [model])
    }
    #expect(try files(in: folder) == ["a.bba", "images.idx"])
    // Without the model the archive needs: refused, nothing written.
    try Compressor.compressFile(atPath: images, toPath: archive.path, options: options, overwrite: true)
    #expect(throws: BitsBackError.modelUnavailable(name: model.name, hash: model.identity)) {
      try Decompressor.decompressFile(atPath: archive.path, toPath: output)
    }
    #expect(try files(in: folder) == ["a.bba", "images.idx"])
  }

  @Test func pathsThatCannotBeWritten() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (images, _) = try fixtures(in: folder)
    #expect(throws: FileOutputError.sameFile(path: images)) {
      try Compressor.compressFile(atPath: images, toPath: images, overwrite: true)
    }
    #expect(throws: FileOutputError.cannotWrite(path: folder.path, reason: "it is a directory")) {
      try Compressor.compressFile(atPath: images, toPath: folder.path, overwrite: true)
    }
    let nowhere = folder.appendingPathComponent("no/such/folder/out.bba").path
    #expect(throws: FileOutputError.cannotWrite(path: nowhere, reason: "No such file or directory")) {
      try Compressor.compressFile(atPath: images, toPath: nowhere)
    }
    #expect(throws: IOError.self) {
      try Compressor.compressFile(atPath: folder.appendingPathComponent("missing.idx").path, toPath: images + ".bba")
    }
    #expect(try files(in: folder) == ["images.idx"])
    #expect(FileOutputError.exists(path: "x.bba").description == "x.bba already exists")
  }
}
