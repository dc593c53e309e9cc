import Model

/// Weights files: `VAE(contentsOf:)` either throws or gives a model whose file reads back to a
/// model of the same identity.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWeights(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  guard let model = try? VAE(contentsOf: bytes) else { return 0 }
  guard let again = try? VAE(contentsOf: model.serialized()), again.identity == model.identity else {
    fatalError("weights: a \(size)-byte file loads, but its model does not serialize to a file that loads the same")
  }
  return 0
}
