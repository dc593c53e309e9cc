import Hashing

/// The header of a .bba file: the format version, the model's identity, the description of
/// the data, and the side bytes needed to rebuild the original file.
///
/// The container does not interpret `formatTag` or `sideBytes`: BitsBack defines them (raw 0,
/// IDX 1, NPY 2, PGM 3). The shape fields describe the items the chunks hold (all 0 when the
/// data are opaque bytes).
public struct ContainerHeader: Equatable, Sendable {
  /// The format version; the writer always writes `ContainerVersion.current`.
  public internal(set) var version: ContainerVersion = .current
  /// The name of the model that coded the bits-back chunks, at most 255 UTF-8 bytes; empty when
  /// no chunk uses a model.
  public var modelName: String
  /// A hash of the model's weights (0 when `modelName` is empty), so that a file never decodes
  /// with the wrong model.
  public var modelHash: UInt64
  /// What kind of file the data came from (opaque here; BitsBack's `DataFormat`).
  public var formatTag: UInt8
  /// The number of items (images), at most 2^32.
  public var itemCount: UInt64
  /// The height, width and channel count of one item.
  public var height: UInt32
  public var width: UInt32
  public var channels: UInt32
  /// Bytes that BitsBack needs, beside the decoded chunks, to rebuild the original file byte for
  /// byte (its headers, its gzip wrapper); at most 16 MiB.
  public var sideBytes: [UInt8]
  /// The size of the original file in bytes.
  public var originalSize: UInt64

  public init(
    modelName: String = "", modelHash: UInt64 = 0, formatTag: UInt8 = 0,
    itemCount: UInt64 = 0, height: UInt32 = 0, width: UInt32 = 0, channels: UInt32 = 0,
    sideBytes: [UInt8] = [], originalSize: UInt64
  ) {
    self.modelName = modelName
    self.modelHash = modelHash
    self.formatTag = formatTag
    self.itemCount = itemCount
    self.height = height
    self.width = width
    self.channels = channels
    self.sideBytes = sideBytes
    self.originalSize = originalSize
  }

  /// Throws `limitExceeded` when a field is above the format's limits.
  func validate() throws {
    let nameBytes = modelName.utf8.count
    if nameBytes > ContainerFormat.maxModelNameBytes {
      throw ContainerError.limitExceeded(
        field: "model name length", value: UInt64(nameBytes),
        limit: UInt64(ContainerFormat.maxModelNameBytes))
    }
    if sideBytes.count > ContainerFormat.maxSideBytes {
      throw ContainerError.limitExceeded(
        field: "side byte count", value: UInt64(sideBytes.count),
        limit: UInt64(ContainerFormat.maxSideBytes))
    }
    if itemCount > ContainerFormat.maxItemCount {
      throw ContainerError.limitExceeded(
        field: "item count", value: itemCount, limit: ContainerFormat.maxItemCount)
    }
    // count × height × width × channels, saturating at UInt64.max on overflow.
    var pixels = itemCount
    for factor in [UInt64(height), UInt64(width), UInt64(channels)] {
      let (product, overflow) = pixels.multipliedReportingOverflow(by: factor)
      pixels = overflow ? UInt64.max : product
    }
    if pixels > ContainerFormat.maxPixelCount {
      throw ContainerError.limitExceeded(
        field: "pixel count (items × height × width × channels)", value: pixels,
        limit: ContainerFormat.maxPixelCount)
    }
  }

  /// The header's bytes, checksum included (docs/FORMAT.md, "Header").
  func encoded() throws -> [UInt8] {
    try validate()
    let name = Array(modelName.utf8)
    var writer = LittleEndianWriter()
    writer.raw(ContainerFormat.magic)
    writer.u16(ContainerFormat.majorVersion)
    writer.u16(ContainerFormat.minorVersion)
    writer.u32(UInt32(ContainerFormat.headerFixedSize + name.count + sideBytes.count))
    writer.u8(UInt8(name.count))
    writer.raw(name)
    writer.u64(modelHash)
    writer.u8(formatTag)
    writer.u64(itemCount)
    writer.u32(height)
    writer.u32(width)
    writer.u32(channels)
    writer.u64(originalSize)
    writer.u32(UInt32(sideBytes.count))
    writer.raw(sideBytes)
    writer.u64(XXH64.hash(writer.bytes))
    return writer.bytes
  }

  /// Whether this header is that of a compact container (major version 2, docs/FORMAT.md,
  /// "The compact form"): one stored or zstd chunk of opaque bytes, no model, no trailer.
  public var isCompact: Bool { version.major == ContainerFormat.compactMajorVersion }

  /// Reads the first 16 bytes of a container (or fewer, if the input is shorter) and checks the
  /// magic and the major version: 1 (the full form) or 2 (the compact form).
  static func decodePrefix(from input: inout TrackedSource) throws -> (bytes: [UInt8], version: ContainerVersion) {
    let start = try input.readAvailable(upTo: 16)
    let magicPart = Array(start.prefix(8))
    if magicPart != Array(ContainerFormat.magic.prefix(magicPart.count)) || magicPart.isEmpty {
      throw ContainerError.notAContainer(foundMagic: magicPart)
    }
    if start.count < 16 {
      throw ContainerError.truncated(
        section: "header", offset: 0, needed: 16,
        available: UInt64(start.count))
    }
    var cursor = LittleEndianCursor(start, position: 8, what: "header")
    let version = ContainerVersion(major: try cursor.u16(), minor: try cursor.u16())
    if version.major != ContainerFormat.majorVersion && version.major != ContainerFormat.compactMajorVersion {
      throw ContainerError.unsupportedVersion(found: version, supported: ContainerFormat.compactMajorVersion)
    }
    return (start, version)
  }

  /// Reads and checks a full-form (1.x) header from the start of `input`, whose first 16 bytes
  /// `decodePrefix` has read and checked.
  ///
  /// Order of checks: magic, major version (in `decodePrefix`), header length against its
  /// limits and the input, checksum, then each field against its limits and the header's
  /// length, then the extension (at most 2^16 bytes, and none in a minor version this reader
  /// knows).
  static func decode(prefix start: [UInt8], version: ContainerVersion, from input: inout TrackedSource) throws -> ContainerHeader {
    var cursor = LittleEndianCursor(start, position: 12, what: "header")
    let length = Int(try cursor.u32())
    if length < ContainerFormat.headerFixedSize {
      throw ContainerError.malformed(
        "the header length is \(length) bytes, below the minimum of \(ContainerFormat.headerFixedSize)")
    }
    if length > ContainerFormat.maxHeaderSize {
      throw ContainerError.limitExceeded(
        field: "header length", value: UInt64(length), limit: UInt64(ContainerFormat.maxHeaderSize))
    }
    let rest: [UInt8]
    do {
      rest = try input.read(UInt64(length - 16), section: "header")
    } catch ContainerError.truncated(let section, _, let needed, let available) {
      // Report the whole header, from offset 0.
      throw ContainerError.truncated(
        section: section, offset: 0, needed: needed + 16, available: available + 16)
    }
    let bytes = start + rest

    // The checksum covers every byte before it.
    var tail = LittleEndianCursor(bytes, position: length - 8, what: "header")
    let stored = try tail.u64()
    let computed = XXH64.hash(bytes[0..<(length - 8)])
    if stored != computed {
      throw ContainerError.headerChecksumMismatch(stored: stored, computed: computed)
    }

    var fields = LittleEndianCursor(Array(bytes[0..<(length - 8)]), position: 16, what: "header")
    let nameBytes = try fields.raw(Int(try fields.u8()))
    let name = String(decoding: nameBytes, as: UTF8.self)
    if Array(name.utf8) != nameBytes {
      throw ContainerError.malformed("the model name is not valid UTF-8 (\(hex(nameBytes)))")
    }
    var header = ContainerHeader(
      modelName: name, modelHash: try fields.u64(), formatTag: try fields.u8(),
      itemCount: try fields.u64(), height: try fields.u32(), width: try fields.u32(),
      channels: try fields.u32(), originalSize: try fields.u64())
    header.version = version
    let sideCount = Int(try fields.u32())
    if sideCount > ContainerFormat.maxSideBytes {
      throw ContainerError.limitExceeded(
        field: "side byte count", value: UInt64(sideCount), limit: UInt64(ContainerFormat.maxSideBytes))
    }
    header.sideBytes = try fields.raw(sideCount)
    // Minor versions up to ours have no extension; later ones may append up to 64 KiB of fields
    // we skip.
    if fields.remaining > ContainerFormat.maxHeaderExtensionBytes {
      throw ContainerError.limitExceeded(
        field: "header extension length", value: UInt64(fields.remaining),
        limit: UInt64(ContainerFormat.maxHeaderExtensionBytes))
    }
    if fields.remaining > 0 && version.minor <= ContainerFormat.minorVersion {
      throw ContainerError.malformed(
        "the version \(version) header has \(fields.remaining) bytes after the side bytes")
    }
    try header.validate()
    return header
  }
}
