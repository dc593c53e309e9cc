import BitsBack
import Foundation
import Model

/// The models that the golden files were made with (testdata/golden/*.bbm, found from this
/// source file's path), so that bits-back seeds reach the BB-ANS decoder.
let goldenModels: [CodingModel] = {
  let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("testdata/golden")
  let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
  return files.filter { $0.hasSuffix(".bbm") }.sorted().compactMap { try? ModelRegistry.model(namedOrPath: folder.appendingPathComponent($0).path) }
}()

/// Whole .bba files: decompression either throws or gives bytes (whose checksum the container
/// recorded). A crash, a trap or a hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzContainer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  _ = try? Decompressor.decompress(bytes, models: goldenModels, threadCount: 1)
  return 0
}
