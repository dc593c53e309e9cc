import Hashing

/// Reads a .bba file as a stream: the header at `init`, then one chunk per `nextChunk()`, then
/// the trailer and footer, which `nextChunk()` checks before it returns nil.
///
/// A compact container (`header.isCompact`) reads the same way: one chunk, whose record comes
/// from the header, then nil, with a trailer made from the header once the input has been
/// checked to end after the payload.
///
/// Each chunk returned has passed its record and payload checksums, but the file as a whole is
/// valid only once `nextChunk()` has returned nil (a truncated or damaged end shows only
/// then): a decompressor writes to a temporary file and keeps it only after that nil, and after
/// comparing the rebuilt file's XXH64 with `trailer.originalChecksum`.
///
/// Example:
/// ```swift
/// var reader = try ContainerReader(source: MemoryByteSource(bytes))
/// while let (record, payload) = try reader.nextChunk() {
///   let raw = decode(record.method, payload)
///   try record.checkDecoded(raw)
/// }
/// let expected = reader.trailer!.originalChecksum
/// ```
public struct ContainerReader {
  /// The file's header, checked.
  public let header: ContainerHeader
  /// The header's size in bytes (where the first chunk record starts).
  public let headerSize: UInt64
  /// The trailer, once `nextChunk()` has returned nil.
  public private(set) var trailer: ContainerTrailer?
  private var input: TrackedSource
  private var table: [ChunkTableEntry] = []
  private var totalRawSize: UInt64 = 0
  private var failure: (any Error)?
  /// The one chunk's record of a compact container, until it is read.
  private var compactRecord: ChunkRecord?
  /// A compact container's trailer, made from its header once the payload has been read.
  private var trailerPending: ContainerTrailer?

  /// Reads and checks the header (of either form: a compact container's header holds its one
  /// chunk's record too, which `nextChunk()` returns with the payload).
  /// - Throws: `ContainerError` (not a container, unsupported version, truncated, checksum
  ///   mismatch, limit exceeded, malformed), or the source's error.
  public init(source: some ByteSource) throws {
    input = TrackedSource(source)
    let (prefix, version) = try ContainerHeader.decodePrefix(from: &input)
    if version.major == ContainerFormat.compactMajorVersion {
      let (header, record) = try CompactForm.decode(prefix: prefix, version: version, from: &input)
      self.header = header
      compactRecord = record
    } else {
      header = try ContainerHeader.decode(prefix: prefix, version: version, from: &input)
    }
    headerSize = input.offset
  }

  /// The number of bytes read so far (for progress).
  public var bytesRead: UInt64 { input.offset }

  /// The next chunk's record and payload, both checked, or nil after the last chunk, once the
  /// trailer and footer have been checked too. After an error, every call throws it again.
  public mutating func nextChunk() throws -> (record: ChunkRecord, payload: [UInt8])? {
    try next(keepingPayload: true)
  }

  /// Reads and checks a whole container without keeping the payloads: for `bbans info`.
  public static func inspect(_ bytes: [UInt8]) throws -> ContainerSummary {
    try inspect(source: MemoryByteSource(bytes))
  }

  /// Reads and checks a whole container from a stream without keeping the payloads; memory
  /// stays at one 1 MiB piece plus 64 bytes per chunk.
  public static func inspect(source: some ByteSource) throws -> ContainerSummary {
    var reader = try ContainerReader(source: source)
    var chunks: [ChunkRecord] = []
    while let (record, _) = try reader.next(keepingPayload: false) {
      chunks.append(record)
    }
    return ContainerSummary(
      header: reader.header, headerSize: reader.headerSize, chunks: chunks,
      trailer: reader.trailer!, fileSize: reader.bytesRead)
  }

  private mutating func next(keepingPayload: Bool) throws -> (record: ChunkRecord, payload: [UInt8])? {
    if trailer != nil { return nil }
    if let failure { throw failure }
    if let pending = trailerPending {
      trailer = pending
      return nil
    }
    do {
      if header.isCompact { return try readCompactChunk(keepingPayload: keepingPayload) }
      let start = input.offset
      let tag = try input.read(4, section: "next chunk record or trailer")
      if tag == ContainerFormat.chunkTag {
        return try readChunk(at: start, tag: tag, keepingPayload: keepingPayload)
      }
      if tag == ContainerFormat.trailerTag {
        try readTrailer(at: start, tag: tag)
        return nil
      }
      throw ContainerError.unexpectedTag(found: tag, offset: start)
    } catch {
      failure = error
      throw error
    }
  }

  private mutating func readChunk(
    at start: UInt64, tag: [UInt8], keepingPayload: Bool
  ) throws -> (record: ChunkRecord, payload: [UInt8]) {
    let index = table.count
    if index >= ContainerFormat.maxChunkCount {
      throw ContainerError.limitExceeded(
        field: "chunk count", value: UInt64(index) + 1, limit: UInt64(ContainerFormat.maxChunkCount))
    }
    let rest = try input.read(UInt64(ContainerFormat.chunkRecordSize - 4), section: "record of chunk \(index)")
    let record = try ChunkRecord.decode(tag + rest, expectedIndex: index, offset: start)
    try record.checkItemCount(containerNamesModel: !header.modelName.isEmpty)
    // After the payload, the file must still hold a trailer with index + 1 entries and the
    // footer. (payloadSize ≤ 2^32 and index < 2^32, so the sum cannot overflow.)
    let tailSize = UInt64(ContainerFormat.trailerFixedSize + ContainerFormat.footerSize)
      + UInt64(ContainerFormat.tableEntrySize) * UInt64(index + 1)
    try input.require(record.payloadSize + tailSize, section: "payload of chunk \(index) and the trailer")
    let payload = try readPayload(of: record, index: index, section: "payload of chunk \(index)", keeping: keepingPayload)
    let (sum, overflow) = totalRawSize.addingReportingOverflow(record.rawSize)
    if overflow {
      throw ContainerError.limitExceeded(field: "total raw size", value: UInt64.max, limit: UInt64.max)
    }
    totalRawSize = sum
    table.append(ChunkTableEntry(offset: start, payloadSize: record.payloadSize, rawSize: record.rawSize))
    return (record, payload)
  }

  /// Reads a chunk's payload (or only hashes it, when it is not kept) and checks its checksum.
  private mutating func readPayload(
    of record: ChunkRecord, index: Int, section: String, keeping: Bool
  ) throws -> [UInt8] {
    var payload: [UInt8] = []
    let computed: UInt64
    if keeping {
      payload = try input.read(record.payloadSize, section: section)
      computed = XXH64.hash(payload)
    } else {
      computed = try input.hash(record.payloadSize, section: section)
    }
    if computed != record.payloadChecksum {
      throw ContainerError.chunkChecksumMismatch(chunkIndex: index, stored: record.payloadChecksum, computed: computed)
    }
    return payload
  }

  /// A compact container's one chunk: its payload, checked against the header, then the end
  /// of the input; the next call returns nil, with a trailer made from the header.
  private mutating func readCompactChunk(keepingPayload: Bool) throws -> (record: ChunkRecord, payload: [UInt8])? {
    guard let record = compactRecord else {
      return nil
    }
    let payload = try readPayload(of: record, index: 0, section: "payload of the compact container", keeping: keepingPayload)
    let endOffset = input.offset
    let (ended, extra) = try input.atEnd()
    if !ended {
      throw ContainerError.malformed(
        "the input goes on after the compact container's payload, at offset \(endOffset) (\(extra) more bytes at least)")
    }
    compactRecord = nil
    totalRawSize = record.rawSize
    table = [ChunkTableEntry(offset: 0, payloadSize: record.payloadSize, rawSize: record.rawSize)]
    trailerPending = ContainerTrailer(
      offset: endOffset, totalRawSize: record.rawSize, originalChecksum: record.rawChecksum, table: table)
    return (record, payload)
  }

  /// Reads the trailer and footer, checks them against the chunks read, and checks that the
  /// input ends after the footer.
  private mutating func readTrailer(at start: UInt64, tag: [UInt8]) throws {
    let fixed = try input.read(UInt64(ContainerFormat.trailerFixedSize - 12), section: "trailer")
    var cursor = LittleEndianCursor(fixed, what: "trailer")
    let count = try cursor.u32()
    let storedTotal = try cursor.u64()
    let originalChecksum = try cursor.u64()
    if Int(count) != table.count {
      throw ContainerError.trailerMismatch(field: "chunk count", stored: UInt64(count), actual: UInt64(table.count))
    }
    // The table's length follows from chunks really read, so it is bounded by the input.
    let tableBytes = try input.read(UInt64(ContainerFormat.tableEntrySize * table.count), section: "chunk table")
    var checksumCursor = LittleEndianCursor(try input.read(8, section: "trailer checksum"), what: "trailer")
    let stored = try checksumCursor.u64()
    var hasher = XXH64()
    hasher.update(tag)
    hasher.update(fixed)
    hasher.update(tableBytes)
    let computed = hasher.digest()
    if stored != computed {
      throw ContainerError.trailerChecksumMismatch(stored: stored, computed: computed)
    }
    if storedTotal != totalRawSize {
      throw ContainerError.trailerMismatch(field: "total raw size", stored: storedTotal, actual: totalRawSize)
    }
    var entries = LittleEndianCursor(tableBytes, what: "chunk table")
    for (index, actual) in table.enumerated() {
      let entry = ChunkTableEntry(offset: try entries.u64(), payloadSize: try entries.u64(), rawSize: try entries.u64())
      if entry.offset != actual.offset {
        throw ContainerError.trailerMismatch(field: "offset of chunk \(index)", stored: entry.offset, actual: actual.offset)
      }
      if entry.payloadSize != actual.payloadSize {
        throw ContainerError.trailerMismatch(
          field: "payload size of chunk \(index)", stored: entry.payloadSize, actual: actual.payloadSize)
      }
      if entry.rawSize != actual.rawSize {
        throw ContainerError.trailerMismatch(field: "raw size of chunk \(index)", stored: entry.rawSize, actual: actual.rawSize)
      }
    }
    // Footer: the trailer's offset, then the end marker, then nothing.
    var footer = LittleEndianCursor(try input.read(UInt64(ContainerFormat.footerSize), section: "footer"), what: "footer")
    let trailerOffset = try footer.u64()
    if trailerOffset != start {
      throw ContainerError.trailerMismatch(field: "trailer offset in the footer", stored: trailerOffset, actual: start)
    }
    let end = try footer.raw(8)
    if end != ContainerFormat.endMagic {
      throw ContainerError.malformed(
        "the footer ends with \(hex(end)) instead of the end marker \(hex(ContainerFormat.endMagic))")
    }
    let endOffset = input.offset
    let (ended, extra) = try input.atEnd()
    if !ended {
      throw ContainerError.malformed("the input goes on after the footer, at offset \(endOffset) (\(extra) more bytes at least)")
    }
    trailer = ContainerTrailer(offset: start, totalRawSize: storedTotal, originalChecksum: originalChecksum, table: table)
  }
}

/// Everything `bbans info` shows about a container: header, chunk records, trailer, sizes.
public struct ContainerSummary: Equatable, Sendable {
  public var header: ContainerHeader
  /// The header's size in bytes.
  public var headerSize: UInt64
  /// Every chunk's record, checked, in file order.
  public var chunks: [ChunkRecord]
  public var trailer: ContainerTrailer
  /// The container file's size in bytes.
  public var fileSize: UInt64
}
