import BitsBack
import Foundation
import FuzzSupport
import Model

/// The invariant: whatever the bytes (a gzip file above all), a container that compress gives
/// decompresses to exactly them. Each input is compressed with each golden model (when it
/// takes the images) and with the built-in choice; a container that does not decode, or
/// decodes to other bytes, traps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRoundTrip(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  var choices: [ModelChoice] = goldenModels.map { .model($0) }
  if size < 4096 { choices.append(.automatic) }
  for choice in choices {
    var options = CompressionOptions()
    options.model = choice
    options.threadCount = 1
    options.chunkImageCount = 7
    options.laneCount = 2
    options.zstdLevel = 1
    guard let container = try? Compressor.compress(bytes, options: options) else { continue }
    let models: [CodingModel]
    if case .model(let model) = choice { models = [model] } else { models = [] }
    guard let back = try? Decompressor.decompress(container, models: models, threadCount: 1), back == bytes else {
      fatalError("compress wrote a container that does not decompress to its input (\(size) bytes)")
    }
  }
  return 0
}
