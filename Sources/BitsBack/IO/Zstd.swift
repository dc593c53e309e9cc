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

  /// The bytes that zstd data (one or more frames) decode to, which must be exactly
  /// `expectedSize` bytes: the caller knows the size (from a chunk record), so a damaged or
  /// hostile frame can neither make this allocate more nor return a wrong length.
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
    // One spare byte, so that more output than expected shows as a size mismatch.
    var output = [UInt8](repeating: 0, count: expectedSize + 1)
    let written = output.withUnsafeMutableBytes { out in
      bytes.withUnsafeBytes { input in
        ZSTD_decompress(out.baseAddress, out.count, input.baseAddress, input.count)
      }
    }
    if ZSTD_isError(written) != 0 {
      let name = String(cString: ZSTD_getErrorName(written))
      // More output than the buffer holds (zstd_errors.h, with ZSTD_getErrorCode, is not in the
      // module map, hence the name).
      if name == "Destination buffer is too small" {
        throw IOError.sizeMismatch(expected: expectedSize, found: UInt64(expectedSize) + 1)
      }
      throw IOError.codecFailure(library: "zstd", message: name)
    }
    if written != expectedSize {
      throw IOError.sizeMismatch(expected: expectedSize, found: UInt64(written))
    }
    output.removeLast()
    return output
  }
}
