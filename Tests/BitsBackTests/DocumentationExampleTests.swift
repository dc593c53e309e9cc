import BitsBack
import Foundation
import Testing
import TestSupport

// The examples of Sources/BitsBack/BitsBack.docc/CompressingFiles.md and of the README's
// "The library", as they stand there; the tests below run them.

/// Compresses the bytes of an IDX, NPY or PGM file in memory, and back.
func compressInMemory(_ file: [UInt8]) throws -> [UInt8] {
  let container = try Compressor.compress(file)             // the built-in model that fits, or zstd
  let back = try Decompressor.decompress(container)
  assert(back == file)

  var options = CompressionOptions()
  options.model = .model(try ModelRegistry.model(namedOrPath: "fashion-mnist"))
  return try Compressor.compress(file, options: options)
}

/// Compresses the file at `path` to `path + ".bba"`, then decompresses that to `copyPath`.
func compressFileToFile(path: String, copyPath: String) throws {
  var shown = 0
  try Compressor.compressFile(atPath: path, toPath: path + ".bba") { done, total in
    shown = done * 100 / max(total, 1)                      // a progress bar would go here
  }
  assert(shown == 100)
  try Decompressor.decompressFile(atPath: path + ".bba", toPath: copyPath)
}

/// Compresses the file at `path` to `archivePath` and back to `copyPath`, piece by piece.
func compressAsAStream(path: String, archivePath: String, copyPath: String) throws {
  FileManager.default.createFile(atPath: archivePath, contents: nil)
  let archive = try FileHandle(forWritingTo: URL(fileURLWithPath: archivePath))
  var input = try FileInput(path: path)
  let report = try Compressor.compress(&input) { piece in try archive.write(contentsOf: piece) }
  try archive.close()
  print(report.modelName ?? "zstd", report.notes)

  FileManager.default.createFile(atPath: copyPath, contents: nil)
  let original = try FileHandle(forWritingTo: URL(fileURLWithPath: copyPath))
  _ = try Decompressor.decompress(source: try FileByteSource(path: archivePath)) { piece in
    try original.write(contentsOf: piece)
  }
  try original.close()
}

@Suite struct DocumentationExampleTests {
  static let root = DocumentationSnippets.packageRoot(testFile: #filePath)
  static let images = root.appendingPathComponent("testdata/fashion-mnist-100-idx3-ubyte")

  func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bbans-docs-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// Every Swift block of the article, and each one of the README that declares a function,
  /// stands in this file (or, for the Codecs example, in CodecsTests' and ANSTests' own).
  @Test func theDocumentationsCodeIsThisFilesCode() throws {
    let sources = try ["BitsBackTests", "CodecsTests", "ANSTests"].map {
      try String(contentsOfFile: Self.root.appendingPathComponent("Tests/\($0)/DocumentationExampleTests.swift").path, encoding: .utf8)
    }
    let article = try DocumentationSnippets.swiftBlocks(
      inFileAt: Self.root.appendingPathComponent("Sources/BitsBack/BitsBack.docc/CompressingFiles.md").path)
    #expect(article.count == 3)
    let readme = try DocumentationSnippets.swiftBlocks(inFileAt: Self.root.appendingPathComponent("README.md").path)
      .filter { $0.contains { $0.hasPrefix("func ") } }
    #expect(readme.count >= 4, "the README shows the article's three functions and the codec's")
    for block in article + readme {
      #expect(sources.contains { DocumentationSnippets.block(block, standsIn: $0) }, "\(block.joined(separator: "\n"))")
    }
  }

  @Test func inMemory() throws {
    let file = try [UInt8](Data(contentsOf: Self.images))
    let smaller = try compressInMemory(file)
    #expect(try Decompressor.decompress(smaller) == file)
    #expect(smaller.count < file.count / 2)
  }

  @Test func fileToFile() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("images.idx").path
    try FileManager.default.copyItem(atPath: Self.images.path, toPath: path)
    try compressFileToFile(path: path, copyPath: path + ".copy")
    #expect(try Data(contentsOf: URL(fileURLWithPath: path + ".copy")) == Data(contentsOf: Self.images))
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["images.idx", "images.idx.bba", "images.idx.copy"])
  }

  @Test func asAStream() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let archive = folder.appendingPathComponent("images.bba").path, copy = folder.appendingPathComponent("images.idx").path
    try compressAsAStream(path: Self.images.path, archivePath: archive, copyPath: copy)
    #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == Data(contentsOf: Self.images))
    #expect(try Decompressor.decompress([UInt8](Data(contentsOf: URL(fileURLWithPath: archive)))) == [UInt8](Data(contentsOf: Self.images)))
  }
}
