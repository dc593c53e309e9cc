import BitsBack
import Foundation
import FuzzSupport
import Model

/// Whole .bba files: decompression either throws or gives bytes (whose checksum the container
/// recorded). A crash, a trap or a hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzContainer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  _ = try? Decompressor.decompress(bytes, models: goldenModels, threadCount: 1)
  return 0
}
