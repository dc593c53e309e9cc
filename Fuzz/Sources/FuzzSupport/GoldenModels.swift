import BitsBack
import Foundation
import Model

/// The models that the golden files were made with (testdata/golden/*.bbm, found from this
/// source file's path): small 4 × 4 models, so that bits-back inputs reach the BB-ANS coder.
public let goldenModels: [CodingModel] = {
  let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("testdata/golden")
  let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
  return files.filter { $0.hasSuffix(".bbm") }.sorted().compactMap { try? ModelRegistry.model(namedOrPath: folder.appendingPathComponent($0).path) }
}()
