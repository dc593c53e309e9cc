// Deflate: a raw deflate (RFC 1951) encoder that makes, byte for byte, the stream GNU gzip 1.x
// writes (`gzip -N -n -c FILE` without its 10-byte header and 8-byte trailer), so that a .gz
// file made by gzip can be rebuilt exactly from the data it holds. zlib cannot do this: it
// shares gzip's matcher but not its block boundaries or its block-type choices.
//
// Written from RFC 1951 and from the behaviour of gzip's deflate.c and trees.c (Jean-loup
// Gailly's algorithm), checked against /usr/bin/gzip. The choices of gzip it reproduces:
//
// - Matching (DeflateEngine+Matching): a 64 KiB window whose upper half slides down once
//   `strstart` reaches 32 KiB + MAX_DIST (MAX_DIST = 32768 − 262); hash chains on 3 bytes
//   with a 15-bit rolling hash (shift 5) and chain links kept for 32 KiB of positions;
//   position 0 never matched; the level table of (good, lazy, nice, chain); gzip's candidate
//   filter, which never compares byte 2 and lets lengths run into the bytes after the input.
//   The window is read the way gzip reads a regular file: 64 KiB at first, then, whenever fewer
//   than 262 bytes are ahead, all the free space at once, and at the end two zero bytes after
//   the input. The parse only goes on once such a read is complete, which makes the output
//   independent of how the input is cut into `compress` calls.
// - Parsing (DeflateEngine+Parsing): `deflate_fast` (greedy, with `max_insert_length`) for
//   levels 1–3, lazy evaluation with TOO_FAR = 4096 for levels 4–9.
// - Blocks (DeflateEngine, DeflateEngine+Blocks): a block ends at 32767 symbols, or, above
//   level 2, at a multiple of 4096 symbols when gzip's estimate says compression is going
//   well; then stored, static or dynamic by gzip's cost estimates.
// - Trees (HuffmanTree): gzip's heap with depth as tie-breaker, its forcing of two codes, its
//   fix-up of over-long codes, its run-length coding of the lengths, the order of RFC 1951.

/// Raw deflate (RFC 1951) exactly as GNU gzip 1.x writes it at `level` 1...9.
///
/// Feed the input in pieces of any size with `compress(_:output:)`, then call
/// `finish(output:)`; the bytes handed to `output` are, joined, the deflate stream of
/// `gzip -level -n -c` on a file holding the same input (10-byte header and 8-byte trailer
/// left off). Memory stays bounded (under 500 KB): the encoder keeps gzip's 64 KiB window, its
/// hash tables, one block of symbols and one block of output, never the whole input.
///
/// Example:
/// ```swift
/// let encoder = GNUDeflateEncoder(level: 9)
/// var stream: [UInt8] = []
/// data.withUnsafeBytes { encoder.compress($0) { stream.append(contentsOf: $0) } }
/// encoder.finish { stream.append(contentsOf: $0) }
/// ```
///
/// If `output` throws, the error comes out of the call and the encoder must not be used again.
public final class GNUDeflateEncoder {
  private var engine: DeflateEngine
  private var finished = false

  /// - Parameter level: gzip's compression level, 1 (fastest) to 9 (smallest).
  public init(level: Int) {
    precondition((1...9).contains(level), "GNUDeflateEncoder: level \(level) is not in 1...9")
    engine = DeflateEngine(level: level)
  }

  deinit {
    engine.deallocate()
  }

  /// Feeds more input; output bytes may be handed to `output` in pieces of any size.
  ///
  /// The pieces passed to `output` are only valid during the call.
  public func compress(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) rethrows {
    precondition(!finished, "GNUDeflateEncoder.compress: called after finish()")
    guard let base = input.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
    var offset = 0
    while offset < input.count {
      offset += engine.feed(base + offset, count: input.count - offset)
      if !engine.fillPending {
        try drain(output)
      }
    }
  }

  /// Ends the stream (final block) and hands out the rest.
  public func finish(output: (UnsafeRawBufferPointer) throws -> Void) rethrows {
    precondition(!finished, "GNUDeflateEncoder.finish: called twice")
    finished = true
    engine.endInput()
    try drain(output)
  }

  /// Runs the parse until it waits for input or ends, handing out each block's bytes.
  private func drain(_ output: (UnsafeRawBufferPointer) throws -> Void) rethrows {
    while true {
      let step = engine.run()
      if engine.bits.count > 0 {
        try output(UnsafeRawBufferPointer(start: engine.bits.bytes, count: engine.bits.count))
        engine.bits.count = 0
      }
      if step != .blockWritten { return }
    }
  }

  /// The raw deflate stream of `bytes`, as `gzip -level -n -c` writes it (without the gzip
  /// header and trailer).
  public static func deflate(_ bytes: [UInt8], level: Int) -> [UInt8] {
    let encoder = GNUDeflateEncoder(level: level)
    var stream: [UInt8] = []
    stream.reserveCapacity(bytes.count / 2 + 64)
    bytes.withUnsafeBytes { encoder.compress($0) { stream.append(contentsOf: $0) } }
    encoder.finish { stream.append(contentsOf: $0) }
    return stream
  }
}
