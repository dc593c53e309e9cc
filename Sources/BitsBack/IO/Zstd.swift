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

  /// The first 4 bytes of a zstd frame (`ZSTD_MAGICNUMBER`, 0xFD2FB528 little-endian). A
  /// skippable frame has another magic number, so a payload that starts with one is refused.
  static let frameMagic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]

  /// The bytes that one zstd frame decodes to, which must be exactly `expectedSize` bytes: the
  /// caller knows the size (from a chunk record), so a damaged or hostile frame can neither make
  /// this return a wrong length nor allocate more than the data really decode to (the output
  /// grows as the frame decodes, up to `expectedSize`).
  ///
  /// The data must be exactly one frame (docs/FORMAT.md, "Chunk record"): libzstd itself would
  /// decode frame after frame and pass over skippable frames, so that other bytes than the
  /// compressor's could give the same output; here a second frame, a skippable frame or any
  /// byte after the frame is refused.
  /// - Throws: `IOError.sizeMismatch` when the frame header or the data give another size,
  ///   `IOError.malformed` for bytes after the frame, `IOError.codecFailure` for damaged data.
  public static func decompress(_ bytes: [UInt8], expectedSize: Int) throws -> [UInt8] {
    precondition(expectedSize >= 0, "expectedSize \(expectedSize) is negative")
    guard bytes.starts(with: frameMagic) else {
      let found = bytes.isEmpty ? "the data are empty" : "the data start with \(hex(bytes.prefix(4)))"
      throw IOError.codecFailure(library: "zstd", message: found + " instead of a zstd frame's magic number 28 B5 2F FD")
    }
    // The frame's extent, from its header and block headers alone (nothing is decoded).
    let frameSize = bytes.withUnsafeBytes { ZSTD_findFrameCompressedSize($0.baseAddress, $0.count) }
    if ZSTD_isError(frameSize) != 0 {
      throw IOError.codecFailure(library: "zstd", message: String(cString: ZSTD_getErrorName(frameSize)))
    }
    if frameSize != bytes.count {
      throw IOError.malformed(
        format: "zstd",
        reason: "the payload has \(bytes.count) bytes, but its frame ends after \(frameSize); a chunk holds exactly one frame")
    }
    let declared = bytes.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
    // UInt64.max is ZSTD_CONTENTSIZE_UNKNOWN, UInt64.max − 1 ZSTD_CONTENTSIZE_ERROR (the macros do
    // not import into Swift).
    if declared == UInt64.max - 1 {
      throw IOError.codecFailure(library: "zstd", message: "the data do not start with a zstd frame header")
    }
    if declared != UInt64.max && declared != UInt64(expectedSize) {
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
      // 0: the frame is complete. It must end the loop even when its last byte filled the
      // buffer: called again, libzstd would wait for a next frame and never answer 0.
      if result == 0 { break }
      if inputPosition == bytes.count && written < output.count { break }
      if !progressed && written < output.count { break }
    }
    if written > expectedSize {
      throw IOError.sizeMismatch(expected: expectedSize, found: UInt64(written))
    }
    if lastResult != 0 {
      throw IOError.codecFailure(library: "zstd", message: "the data end inside a frame")
    }
    if written != expectedSize {
      throw IOError.sizeMismatch(expected: expectedSize, found: UInt64(written))
    }
    output.removeSubrange(written...)
    return output
  }

  /// Bytes as "28 B5 2F FD", for error messages.
  private static func hex(_ bytes: ArraySlice<UInt8>) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) }.joined(separator: " ")
  }
}
