import Hashing

/// The compact form of a .bba file (docs/FORMAT.md, "The compact form"): a 46-byte header that
/// holds the one chunk's method, sizes and checksums, then the payload, and nothing after it.
/// It is written for a file of opaque bytes that fits one stored or zstd chunk and needs no
/// model: the full form's chunk record, trailer, table and footer (about 200 bytes) would add
/// nothing a reader needs, since a single chunk's raw bytes are the original file.
///
/// Layout: magic (8), u16 major 2, u16 minor 0, u8 method (0 stored, 1 zstd), u8 flags (0),
/// u32 original size, u32 payload size, u64 XXH64 of the original, u64 XXH64 of the payload,
/// u64 XXH64 of bytes 0 to 37, then the payload.
enum CompactForm {
  /// The header's bytes for `record`, whose payload size and checksum are filled in.
  static func encodeHeader(_ record: ChunkRecord) -> [UInt8] {
    var writer = LittleEndianWriter()
    writer.raw(ContainerFormat.magic)
    writer.u16(ContainerFormat.compactMajorVersion)
    writer.u16(ContainerFormat.compactMinorVersion)
    writer.u8(record.method.rawValue)
    writer.u8(0)  // flags
    writer.u32(UInt32(record.rawSize))
    writer.u32(UInt32(record.payloadSize))
    writer.u64(record.rawChecksum)
    writer.u64(record.payloadChecksum)
    writer.u64(XXH64.hash(writer.bytes))
    return writer.bytes
  }

  /// Reads the rest of a compact header after its first 16 bytes (`prefix`), checks it, and
  /// returns the header and the chunk's record (offset 0: the record's fields are the header's).
  ///
  /// Order of checks: the input holds the 46 bytes (`truncated`), the checksum, the minor
  /// version (`unsupportedVersion`), the method (0 or 1), the flags (0), and for a stored chunk
  /// a payload size equal to the original size (`malformed`).
  static func decode(
    prefix: [UInt8], version: ContainerVersion, from input: inout TrackedSource
  ) throws -> (ContainerHeader, ChunkRecord) {
    let rest: [UInt8]
    do {
      rest = try input.read(UInt64(ContainerFormat.compactHeaderSize - prefix.count), section: "header")
    } catch ContainerError.truncated(let section, _, let needed, let available) {
      throw ContainerError.truncated(
        section: section, offset: 0, needed: needed + UInt64(prefix.count), available: available + UInt64(prefix.count))
    }
    let bytes = prefix + rest
    let size = ContainerFormat.compactHeaderSize
    var tail = LittleEndianCursor(bytes, position: size - 8, what: "header")
    let stored = try tail.u64()
    let computed = XXH64.hash(bytes[0..<(size - 8)])
    if stored != computed {
      throw ContainerError.headerChecksumMismatch(stored: stored, computed: computed)
    }
    if version.minor != ContainerFormat.compactMinorVersion {
      throw ContainerError.unsupportedVersion(found: version, supported: ContainerFormat.compactMajorVersion)
    }
    var cursor = LittleEndianCursor(bytes, position: 12, what: "header")
    let code = try cursor.u8()
    guard let method = ChunkMethod(rawValue: code) else {
      throw ContainerError.unknownMethod(code: code, chunkIndex: 0)
    }
    if method == .bitsBack {
      throw ContainerError.malformed("a compact container holds a stored or zstd chunk, not a bits-back one")
    }
    let flags = try cursor.u8()
    if flags != 0 {
      throw ContainerError.malformed("the compact header has its reserved flags set (\(flags))")
    }
    let rawSize = UInt64(try cursor.u32())
    let payloadSize = UInt64(try cursor.u32())
    let originalChecksum = try cursor.u64()
    let payloadChecksum = try cursor.u64()
    if method == .stored && payloadSize != rawSize {
      throw ContainerError.malformed(
        "the stored chunk has a payload of \(payloadSize) bytes but an original size of \(rawSize)")
    }
    var header = ContainerHeader(originalSize: rawSize)
    header.version = version
    var record = ChunkRecord(method: method, rawSize: rawSize, rawChecksum: originalChecksum)
    record.payloadSize = payloadSize
    record.payloadChecksum = payloadChecksum
    return (header, record)
  }
}

extension ContainerWriter {
  /// Writes a compact container (docs/FORMAT.md, "The compact form"): the whole file is one
  /// stored or zstd chunk of opaque bytes, so its raw bytes are the original file, and
  /// `record.rawChecksum` is the original's XXH64.
  ///
  /// - Returns: the record as written (index 0, offset 0, payload size and checksum filled in).
  /// - Throws: `ContainerError.limitExceeded` for an original or payload above 2^32 − 1 bytes,
  ///   `.unexpectedLaneCount` or `.unexpectedItemCount` for lanes or items (what a reader would
  ///   refuse), or the sink's error.
  /// - Precondition: the method is stored or zstd, and a stored payload is the raw bytes.
  @discardableResult
  public static func writeCompact(
    _ record: ChunkRecord, payload: [UInt8], sink: ([UInt8]) throws -> Void
  ) throws -> ChunkRecord {
    precondition(record.method != .bitsBack, "a compact container holds a stored or zstd chunk")
    precondition(
      record.method != .stored || record.rawSize == UInt64(payload.count),
      "a stored chunk's payload must be its raw bytes (rawSize \(record.rawSize), payload \(payload.count))")
    var written = record
    written.index = 0
    written.offset = 0
    written.payloadSize = UInt64(payload.count)
    written.payloadChecksum = XXH64.hash(payload)
    if written.rawSize > ContainerFormat.maxCompactSize {
      throw ContainerError.limitExceeded(
        field: "original size of a compact container", value: written.rawSize, limit: ContainerFormat.maxCompactSize)
    }
    if written.payloadSize > ContainerFormat.maxCompactSize {
      throw ContainerError.limitExceeded(
        field: "payload size of a compact container", value: written.payloadSize, limit: ContainerFormat.maxCompactSize)
    }
    try written.checkLaneCount()
    try written.checkItemCount(containerNamesModel: false)
    try sink(CompactForm.encodeHeader(written))
    if !payload.isEmpty { try sink(payload) }
    return written
  }
}
