import Deflate

/// GNU gzip's deflate (module Deflate) as a `DeflateStream`.
final class GNUDeflateStream: DeflateStream {
  private let encoder: GNUDeflateEncoder

  init(level: Int) { encoder = GNUDeflateEncoder(level: level) }

  func compress(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws {
    try encoder.compress(input, output: output)
  }

  func finish(output: (UnsafeRawBufferPointer) throws -> Void) throws {
    try encoder.finish(output: output)
  }
}
