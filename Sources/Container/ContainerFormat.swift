// Container: the .bba file format (specified in docs/FORMAT.md).
//
// A .bba file is written and read as a stream: a header, then chunk after chunk (a fixed-size
// chunk record, then its payload), then a trailer with a chunk table, then a fixed-size footer.
// Every structure carries an XXH64 checksum, and every count, size and length read from a file
// is checked against the documented limits and against what the rest of the file could hold
// before anything is allocated. The container does not know what the payloads mean: BitsBack
// decides the chunks' methods, the data format tag and the side bytes.
//
// A file of one stored or zstd chunk of opaque bytes may instead have the compact form (major
// version 2, CompactForm): a 46-byte header that holds the chunk's record, then the payload.
// ContainerReader reads both forms and gives them the same shape.
//
// Reading order for a new reader: ContainerFormat (constants and limits), ContainerHeader,
// ChunkRecord, ContainerTrailer, ContainerWriter, ContainerReader, ContainerError.

/// The constants of the format: magic numbers, version, record tags and limits.
///
/// The limits bound what a reader accepts, so that a hostile or damaged file can never make it
/// allocate absurd memory; a writer refuses to write what a reader would refuse to read.
public enum ContainerFormat {
  /// The first 8 bytes of every .bba file, PNG-style: 0x89 (not ASCII, catches 7-bit
  /// transfers), "BBA", CR LF (catches line-ending conversion), 0x1A (stops DOS `type`), LF.
  public static let magic: [UInt8] = [0x89, 0x42, 0x42, 0x41, 0x0D, 0x0A, 0x1A, 0x0A]
  /// The last 8 bytes of every .bba file: 0x89 "BBAEND" LF. Missing means a truncated file.
  public static let endMagic: [UInt8] = [0x89, 0x42, 0x42, 0x41, 0x45, 0x4E, 0x44, 0x0A]
  /// The major version this code writes and the only one it reads; a new major version may
  /// change anything after the first 16 bytes.
  public static let majorVersion: UInt16 = 1
  /// The minor version this code writes. A reader of major version 1 reads any minor version:
  /// later minors may only append fields at the end of the header (before its checksum), which
  /// older readers skip.
  public static let minorVersion: UInt16 = 0

  /// The major version of the compact form (docs/FORMAT.md, "The compact form"): a file of one
  /// stored or zstd chunk of opaque bytes, with a 46-byte header and no chunk record, trailer
  /// or footer. A 1.x reader refuses it as `unsupportedVersion`.
  public static let compactMajorVersion: UInt16 = 2
  /// The minor version of the compact form this code writes and the only one it reads (the
  /// compact header has no room for fields a reader could skip).
  public static let compactMinorVersion: UInt16 = 0
  /// Bytes of the compact header, checksum included: 8 magic, 2 + 2 version, 1 method,
  /// 1 flags, 4 original size, 4 payload size, 8 original checksum, 8 payload checksum,
  /// 8 header checksum.
  public static let compactHeaderSize = 46
  /// The largest original file (and payload) of a compact container: 2^32 − 1 bytes (u32).
  public static let maxCompactSize = UInt64(UInt32.max)

  /// The tag that opens a chunk record: ASCII "CHNK".
  static let chunkTag: [UInt8] = [0x43, 0x48, 0x4E, 0x4B]
  /// The tag that opens the trailer: ASCII "TRLR".
  static let trailerTag: [UInt8] = [0x54, 0x52, 0x4C, 0x52]

  /// Bytes of the header without model name and side bytes: 16 (magic, version, length)
  /// + 1 + 8 (model) + 1 + 8 + 4 + 4 + 4 (data description) + 8 (original size)
  /// + 4 (side length) + 8 (checksum).
  static let headerFixedSize = 66
  /// Bytes of a chunk record, checksum included (payload excluded).
  static let chunkRecordSize = 64
  /// Bytes of the trailer without its chunk table: tag, count, total raw size, original
  /// checksum (24) and the trailer checksum (8).
  static let trailerFixedSize = 32
  /// Bytes of one chunk-table entry: record offset, payload size, raw size.
  static let tableEntrySize = 24
  /// Bytes of the footer: trailer offset and end magic.
  static let footerSize = 16

  /// The longest model name, in UTF-8 bytes.
  public static let maxModelNameBytes = 255
  /// The most side bytes (the original file's headers and wrapper information): 16 MiB.
  public static let maxSideBytes = 1 << 24
  /// The most header bytes a later minor version may add, which a reader skips: 64 KiB.
  public static let maxHeaderExtensionBytes = 1 << 16
  /// The most items (images) a file may describe: 2^32.
  public static let maxItemCount: UInt64 = 1 << 32
  /// The largest item count × height × width × channels: 2^48.
  public static let maxPixelCount: UInt64 = 1 << 48
  /// The largest payload of one chunk: 2^32 bytes (4 GiB).
  public static let maxPayloadSize: UInt64 = 1 << 32
  /// The most bytes one chunk may decode to: 2^32 (4 GiB).
  public static let maxChunkRawSize: UInt64 = 1 << 32
  /// The most chunks in one file (chunk indices are 32-bit).
  public static let maxChunkCount = Int(UInt32.max)

  /// The largest header a reader accepts, extension included.
  static var maxHeaderSize: Int {
    headerFixedSize + maxModelNameBytes + maxSideBytes + maxHeaderExtensionBytes
  }
}

/// A format version, major.minor.
public struct ContainerVersion: Equatable, Sendable, CustomStringConvertible {
  public var major: UInt16
  public var minor: UInt16

  public init(major: UInt16, minor: UInt16) {
    self.major = major
    self.minor = minor
  }

  /// The version this code writes.
  public static let current = ContainerVersion(
    major: ContainerFormat.majorVersion, minor: ContainerFormat.minorVersion)

  public var description: String { "\(major).\(minor)" }
}
