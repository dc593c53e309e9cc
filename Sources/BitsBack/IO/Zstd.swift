import CZstd

/// zstd through libzstd: the baseline bbans measures itself against, and the method of chunks
/// that no model fits.
public enum Zstd {
  /// The levels libzstd takes (negative levels are its fast modes).
  public static var levels: ClosedRange<Int> { Int(ZSTD_minCLevel())...Int(ZSTD_maxCLevel()) }

  /// One zstd frame of `bytes` at `level` (the frame records the content size).
  /// - Precondition: `level` is in `Zstd.levels`.
  public static func compress(_ bytes: [UInt8], level: Int) throws -> [UInt8] {
    precondition(levels.contains(level), "zstd level \(level) is outside \(levels)")
    let bound = ZSTD_compressBound(bytes.count)
    var output = [UInt8](repeating: 0, count: bound)
    let written = output.withUnsafeMutableBytes { out in
      bytes.withUnsafeBytes { input in
        ZSTD_compress(out.baseAddress, out.count, input.baseAddress, input.count, Int32(level))
      }
    }
    if ZSTD_isError(written) != 0 {
      throw IOError.codecFailure(library: "zstd", message: String(cString: ZSTD_getErrorName(written)))
    }
    output.removeSubrange(written...)
    return output
  }

  /// The most bytes one byte of a zstd frame can decode to, with a margin: a block holds at most
  /// 128 KiB and takes at least 4 bytes (an RLE block: 3 bytes of header, 1 byte repeated), so
  /// real frames stay below 2^15. A chunk that claims more is refused before anything is
  /// allocated (see `Decompressor`).
  public static let maxExpansion: UInt64 = 1 << 16

  /// The bytes that zstd data (one or more frames) decode to, which must be exactly
  /// `expectedSize` bytes: the caller knows the size (from a chunk record), so a damaged or
  /// hostile frame can neither make this return a wrong length nor allocate more than the data
  /// really decode to (the output grows as the frames decode, up to `expectedSize`).
  /// - Throws: `IOError.sizeMismatch` when the frame header or the data give another size,
  ///   `IOError.codecFailure` for damaged data.
  public static func decompress(_ bytes: [UInt8], expectedSize: Int) throws -> [UInt8] {
    precondition(expectedSize >= 0, "expectedSize \(expectedSize) is negative")
    let declared = bytes.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
    // UInt64.max is ZSTD_CONTENTSIZE_UNKNOWN, UInt64.max − 1 ZSTD_CONTENTSIZE_ERROR (the macros do
    // not import into Swift).
    if declared == UInt64.max - 1 {
      throw IOError.codecFailure(library: "zstd", message: "the data do not start with a zstd frame header")
    }
    if declared != UInt64.max && declared != UInt64(expectedSize) && bytes.count > 0 {
      throw IOError.sizeMismatch(expected: expectedSize, found: declared)
    }
    guard let stream = ZSTD_createDStream() else {
      throw IOError.codecFailure(library: "zstd", message: "cannot create a decompression context")
    }
    defer { ZSTD_freeDStream(stream) }
    // One spare byte beyond `expectedSize`, so that more output than expected shows as a size
    // mismatch; the buffer starts at 1 MiB at most and doubles as the data fill it.
    let limit = expectedSize + 1
    var output = [UInt8](repeating: 0, count: min(limit, 1 << 20))
    var written = 0
    var inputPosition = 0
    var lastResult = 0
    while true {
      if written == output.count {
        if output.count == limit { break }
        output += [UInt8](repeating: 0, count: min(output.count, limit - output.count))
      }
      let (result, consumed, produced) = output.withUnsafeMutableBytes { out in
        bytes.withUnsafeBytes { input in
          var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: inputPosition)
          var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: written)
          let result = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
          return (result, inBuffer.pos, outBuffer.pos)
        }
      }
      if ZSTD_isError(result) != 0 {
        throw IOError.codecFailure(library: "zstd", message: String(cString: ZSTD_getErrorName(result)))
      }
      let progressed = consumed != inputPosition || produced != written
      (inputPosition, written, lastResult) = (consumed, produced, result)
      if inputPosition == bytes.count && written < output.count { break }
      if !progressed && written < output.count { break }
    }
    if written > expectedSize {
      throw IOError.sizeMismatch(expected: expectedSize, found: UInt64(written))
    }
    if lastResult != 0 && bytes.count > 0 {
      throw IOError.codecFailure(library: "zstd", message: "the data end inside a frame")
    }
    if written != expectedSize {
      throw IOError.sizeMismatch(expected: expectedSize, found: UInt64(written))
    }
    output.removeSubrange(written...)
    return output
  }
}
