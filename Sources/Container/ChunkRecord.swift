import Hashing

/// How a chunk's payload encodes its raw bytes.
public enum ChunkMethod: UInt8, Sendable, CaseIterable, CustomStringConvertible {
  /// The payload is the raw bytes.
  case stored = 0
  /// The payload is one zstd frame of the raw bytes.
  case zstd = 1
  /// The payload is a BB-ANS message: the flattened words of `laneCount` chains (BitsBack).
  case bitsBack = 2

  public var description: String {
    switch self {
    case .stored: return "stored"
    case .zstd: return "zstd"
    case .bitsBack: return "bits-back"
    }
  }
}

/// The fixed-size record in front of each chunk's payload (docs/FORMAT.md, "Chunk record").
///
/// A writer fills in `index`, `offset`, `payloadSize` and `payloadChecksum`; the caller gives the
/// rest. A reader returns every field as the file has it, after checking the record's checksum.
public struct ChunkRecord: Equatable, Sendable {
  /// The chunk's position in the file, from 0.
  public internal(set) var index: Int = 0
  /// Where the record starts in the file, in bytes from the start.
  public internal(set) var offset: UInt64 = 0
  public var method: ChunkMethod
  /// The number of items (images) in the chunk (0 for opaque bytes).
  public var itemCount: UInt32
  /// The number of BB-ANS chains side by side (bits-back only; 0 otherwise).
  public var laneCount: UInt16
  /// The bits the coder spent on the first items before it had bits to get back (bits-back
  /// only), shown by `bbans info`.
  public var initialBits: UInt32
  /// The number of bytes the payload decodes to, at most 2^32.
  public var rawSize: UInt64
  /// The XXH64 of the decoded bytes; check it with `checkDecoded(_:)`.
  public var rawChecksum: UInt64
  /// The payload's length in bytes, at most 2^32.
  public internal(set) var payloadSize: UInt64 = 0
  /// The XXH64 of the payload.
  public internal(set) var payloadChecksum: UInt64 = 0

  public init(
    method: ChunkMethod, itemCount: UInt32 = 0, laneCount: UInt16 = 0, initialBits: UInt32 = 0,
    rawSize: UInt64, rawChecksum: UInt64
  ) {
    self.method = method
    self.itemCount = itemCount
    self.laneCount = laneCount
    self.initialBits = initialBits
    self.rawSize = rawSize
    self.rawChecksum = rawChecksum
  }

  /// Checks that `decoded` has the size and checksum this record promises.
  /// - Throws: `ContainerError.malformed` for a wrong size, `.rawChecksumMismatch` for wrong
  ///   bytes.
  public func checkDecoded(_ decoded: [UInt8]) throws {
    if UInt64(decoded.count) != rawSize {
      throw ContainerError.malformed(
        "chunk \(index) decoded to \(decoded.count) bytes, but its record says \(rawSize)")
    }
    let computed = XXH64.hash(decoded)
    if computed != rawChecksum {
      throw ContainerError.rawChecksumMismatch(chunkIndex: index, stored: rawChecksum, computed: computed)
    }
  }

  /// The record's 64 bytes, checksum included.
  func encoded() -> [UInt8] {
    var writer = LittleEndianWriter()
    writer.raw(ContainerFormat.chunkTag)
    writer.u32(UInt32(index))
    writer.u8(method.rawValue)
    writer.u8(0)  // flags
    writer.u16(laneCount)
    writer.u32(itemCount)
    writer.u64(rawSize)
    writer.u64(payloadSize)
    writer.u64(payloadChecksum)
    writer.u64(rawChecksum)
    writer.u32(initialBits)
    writer.u32(0)  // reserved
    writer.u64(XXH64.hash(writer.bytes))
    return writer.bytes
  }

  /// Throws when the payload or raw size is above its limit (shared by writer and reader).
  func checkLimits() throws {
    if payloadSize > ContainerFormat.maxPayloadSize {
      throw ContainerError.limitExceeded(
        field: "payload size of chunk \(index)", value: payloadSize, limit: ContainerFormat.maxPayloadSize)
    }
    if rawSize > ContainerFormat.maxChunkRawSize {
      throw ContainerError.limitExceeded(
        field: "raw size of chunk \(index)", value: rawSize, limit: ContainerFormat.maxChunkRawSize)
    }
  }

  /// Throws when the lane count does not fit the method: only bits-back chunks have lanes
  /// (shared by writer and reader).
  func checkLaneCount() throws {
    if method != .bitsBack && laneCount != 0 {
      throw ContainerError.unexpectedLaneCount(chunkIndex: index, method: method, laneCount: laneCount)
    }
  }

  /// Throws when the chunk claims items in a container whose header names no model, whose
  /// chunks therefore hold opaque bytes (shared by writer and reader).
  func checkItemCount(containerNamesModel: Bool) throws {
    if !containerNamesModel && itemCount != 0 {
      throw ContainerError.unexpectedItemCount(chunkIndex: index, itemCount: itemCount)
    }
  }

  /// Parses and checks a record from its 64 bytes (the tag already matched), expecting chunk
  /// number `expectedIndex` at `offset`.
  ///
  /// Order of checks: checksum, index, method, reserved bytes, limits, stored size, lane count.
  static func decode(_ bytes: [UInt8], expectedIndex: Int, offset: UInt64) throws -> ChunkRecord {
    var cursor = LittleEndianCursor(bytes, position: 4, what: "chunk record")
    var tail = LittleEndianCursor(bytes, position: ContainerFormat.chunkRecordSize - 8, what: "chunk record")
    let stored = try tail.u64()
    let computed = XXH64.hash(bytes[0..<(ContainerFormat.chunkRecordSize - 8)])
    if stored != computed {
      throw ContainerError.recordChecksumMismatch(chunkIndex: expectedIndex, stored: stored, computed: computed)
    }
    let index = try cursor.u32()
    if Int(index) != expectedIndex {
      throw ContainerError.malformed(
        "the chunk record at offset \(offset) has index \(index), but chunk \(expectedIndex) comes next")
    }
    let code = try cursor.u8()
    guard let method = ChunkMethod(rawValue: code) else {
      throw ContainerError.unknownMethod(code: code, chunkIndex: expectedIndex)
    }
    let flags = try cursor.u8()
    let laneCount = try cursor.u16()
    let itemCount = try cursor.u32()
    let rawSize = try cursor.u64()
    let payloadSize = try cursor.u64()
    let payloadChecksum = try cursor.u64()
    let rawChecksum = try cursor.u64()
    let initialBits = try cursor.u32()
    let reserved = try cursor.u32()
    if flags != 0 || reserved != 0 {
      throw ContainerError.malformed(
        "chunk \(expectedIndex) has reserved fields set (flags \(flags), reserved \(reserved))")
    }
    var record = ChunkRecord(
      method: method, itemCount: itemCount, laneCount: laneCount, initialBits: initialBits,
      rawSize: rawSize, rawChecksum: rawChecksum)
    record.index = expectedIndex
    record.offset = offset
    record.payloadSize = payloadSize
    record.payloadChecksum = payloadChecksum
    try record.checkLimits()
    if method == .stored && payloadSize != rawSize {
      throw ContainerError.malformed(
        "stored chunk \(expectedIndex) has a payload of \(payloadSize) bytes but a raw size of \(rawSize)")
    }
    try record.checkLaneCount()
    return record
  }
}

/// One entry of the trailer's chunk table: where a chunk is and how big it is.
public struct ChunkTableEntry: Equatable, Sendable {
  /// Where the chunk's record starts, in bytes from the start of the file.
  public var offset: UInt64
  public var payloadSize: UInt64
  public var rawSize: UInt64

  public init(offset: UInt64, payloadSize: UInt64, rawSize: UInt64) {
    self.offset = offset
    self.payloadSize = payloadSize
    self.rawSize = rawSize
  }
}

/// The end of a .bba file: the chunk count and table, the total raw size, and the checksum of
/// the whole original file (docs/FORMAT.md, "Trailer").
public struct ContainerTrailer: Equatable, Sendable {
  /// Where the trailer starts, in bytes from the start of the file.
  public var offset: UInt64
  public var totalRawSize: UInt64
  /// The XXH64 of the original file, which the decompressor checks after rebuilding it.
  public var originalChecksum: UInt64
  public var table: [ChunkTableEntry]

  public var chunkCount: Int { table.count }

  /// The trailer and footer bytes.
  func encoded() -> [UInt8] {
    var writer = LittleEndianWriter()
    writer.raw(ContainerFormat.trailerTag)
    writer.u32(UInt32(table.count))
    writer.u64(totalRawSize)
    writer.u64(originalChecksum)
    for entry in table {
      writer.u64(entry.offset)
      writer.u64(entry.payloadSize)
      writer.u64(entry.rawSize)
    }
    writer.u64(XXH64.hash(writer.bytes))
    // Footer.
    writer.u64(offset)
    writer.raw(ContainerFormat.endMagic)
    return writer.bytes
  }
}
