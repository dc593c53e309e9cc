import Hashing

/// Writes a .bba file as a stream: the header at once, then each chunk as it is appended, then
/// the trailer and footer at `finish`. Only the chunk table (24 bytes per chunk) stays in
/// memory.
///
/// Example:
/// ```swift
/// var out: [UInt8] = []
/// var writer = try ContainerWriter(header: ContainerHeader(originalSize: 5)) { out += $0 }
/// let raw: [UInt8] = [1, 2, 3, 4, 5]
/// try writer.append(
///   ChunkRecord(method: .stored, rawSize: 5, rawChecksum: XXH64.hash(raw)), payload: raw)
/// try writer.finish(originalChecksum: XXH64.hash(raw))
/// ```
public struct ContainerWriter {
  private let sink: ([UInt8]) throws -> Void
  /// Bytes handed to the sink so far.
  public private(set) var bytesWritten: UInt64 = 0
  private var table: [ChunkTableEntry] = []
  private var totalRawSize: UInt64 = 0
  private var finished = false
  /// Whether the header names a model; without one, the chunks hold opaque bytes (no items).
  private let namesModel: Bool

  /// Checks the header against the format's limits and writes it to `sink`.
  /// - Parameter sink: receives the file's bytes in order, in pieces; what it throws, the
  ///   writer rethrows.
  /// - Throws: `ContainerError.limitExceeded` for a header above the limits, or the sink's error.
  public init(header: ContainerHeader, sink: @escaping ([UInt8]) throws -> Void) throws {
    self.sink = sink
    namesModel = !header.modelName.isEmpty
    try emit(try header.encoded())
  }

  /// The number of chunks appended so far.
  public var chunkCount: Int { table.count }

  /// Writes a chunk record and its payload.
  ///
  /// The writer fills in the record's index, offset, payload size and payload checksum.
  /// - Returns: the record as written.
  /// - Throws: `ContainerError.limitExceeded` for a payload or raw size above 2^32 bytes or a
  ///   chunk past the 2^32 − 1st, `.unexpectedLaneCount` for lanes on a chunk that is not
  ///   bits-back, `.unexpectedItemCount` for items in a container that names no model (what a
  ///   reader would refuse), or the sink's error.
  @discardableResult
  public mutating func append(_ record: ChunkRecord, payload: [UInt8]) throws -> ChunkRecord {
    precondition(!finished, "ContainerWriter.append called after finish")
    precondition(
      record.method != .stored || record.rawSize == UInt64(payload.count),
      "a stored chunk's payload must be its raw bytes (rawSize \(record.rawSize), payload \(payload.count))")
    if table.count >= ContainerFormat.maxChunkCount {
      throw ContainerError.limitExceeded(
        field: "chunk count", value: UInt64(table.count) + 1, limit: UInt64(ContainerFormat.maxChunkCount))
    }
    var written = record
    written.index = table.count
    written.offset = bytesWritten
    written.payloadSize = UInt64(payload.count)
    written.payloadChecksum = XXH64.hash(payload)
    try written.checkLimits()
    try written.checkLaneCount()
    try written.checkItemCount(containerNamesModel: namesModel)
    let (sum, overflow) = totalRawSize.addingReportingOverflow(written.rawSize)
    if overflow {
      throw ContainerError.limitExceeded(field: "total raw size", value: UInt64.max, limit: UInt64.max)
    }
    try emit(written.encoded())
    try emit(payload)
    totalRawSize = sum
    table.append(ChunkTableEntry(offset: written.offset, payloadSize: written.payloadSize, rawSize: written.rawSize))
    return written
  }

  /// Writes the trailer (chunk table, total raw size, the original file's checksum) and the
  /// footer. The writer takes no more chunks after this.
  /// - Parameter originalChecksum: the XXH64 of the whole original file.
  @discardableResult
  public mutating func finish(originalChecksum: UInt64) throws -> ContainerTrailer {
    precondition(!finished, "ContainerWriter.finish called twice")
    finished = true
    let trailer = ContainerTrailer(
      offset: bytesWritten, totalRawSize: totalRawSize, originalChecksum: originalChecksum, table: table)
    try emit(trailer.encoded())
    return trailer
  }

  private mutating func emit(_ bytes: [UInt8]) throws {
    if bytes.isEmpty { return }
    try sink(bytes)
    bytesWritten += UInt64(bytes.count)
  }
}
