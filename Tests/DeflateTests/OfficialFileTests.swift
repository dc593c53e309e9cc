import Deflate
import Foundation
import Testing

/// A .gz file made by GNU gzip, and the level that rebuilds its deflate stream.
struct OfficialFile: CustomStringConvertible, Sendable {
  let path: String
  let level: Int
  var description: String { "\((path as NSString).lastPathComponent) at level \(level)" }

  static let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// The files present on this machine: the official MNIST files next to the repository
  /// (`../shared/data/mnist`, gzip -9), Debian's Fashion-MNIST (`dataset-fashion-mnist`,
  /// gzip -6), and the fixture made with gzip -9.
  static let present: [OfficialFile] = {
    func gzipFiles(in directory: String, level: Int) -> [OfficialFile] {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
      return names.filter { $0.hasSuffix(".gz") }.sorted().map {
        OfficialFile(path: (directory as NSString).appendingPathComponent($0), level: level)
      }
    }
    let mnist = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data/mnist").path
    return gzipFiles(in: mnist, level: 9)
      + gzipFiles(in: "/usr/share/datasets/fashion-mnist", level: 6)
      + [OfficialFile(path: repositoryRoot.appendingPathComponent("testdata/gnu-gzip9-noise-idx3.gz").path, level: 9)]
  }()
}

/// Published datasets rebuild byte for byte: their decompressed content, deflated again at
/// the level they were made with, gives their own deflate stream. Files that are absent on
/// this machine are left out.
@Suite struct OfficialFileTests {
  @Test(.enabled(if: GzipOracle.isAvailable), arguments: OfficialFile.present)
  func officialFileRebuildsByteForByte(_ file: OfficialFile) throws {
    let original = try GzipMember([UInt8](Data(contentsOf: URL(fileURLWithPath: file.path)))).deflateStream
    let content = try GzipOracle.decompress(path: file.path)
    let stream = deflateInPieces(content, level: file.level) { 1 << 20 }
    #expect(
      stream == original,
      "\(stream.count) bytes, the file's stream \(original.count); first difference at \(firstDifference(stream, original) ?? -1)")
  }
}
