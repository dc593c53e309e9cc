import Container

/// Everything, beside the pixels, needed to rebuild an image file byte for byte: the bytes
/// around the pixels and, for a gzipped file, the gzip wrapper. Its `encoded()` bytes are the
/// container's side bytes (docs/FORMAT.md, "Side bytes of image files").
///
/// The file (before gzip) is `prefixes[0] + run 0 + prefixes[1] + run 1 + … + suffix`, where the
/// pixels are cut into `prefixes.count` runs of equal length: one run for IDX and NPY (the
/// header, then all pixels), one per image for concatenated PGM images (each with its header).
public struct FileLayout: Sendable, Equatable {
  public var format: DataFormat
  /// The bytes before each run of pixels, verbatim.
  public var prefixes: [[UInt8]]
  /// The bytes after the last run, verbatim.
  public var suffix: [UInt8]
  /// The gzip wrapper, when the file was gzipped.
  public var gzip: GzipWrapper?

  public init(format: DataFormat, prefixes: [[UInt8]], suffix: [UInt8] = [], gzip: GzipWrapper? = nil) {
    self.format = format
    self.prefixes = prefixes
    self.suffix = suffix
    self.gzip = gzip
  }

  /// Whether `DatasetFile.rebuild` can give back the original bytes: false for a gzip stream
  /// that no encoder bbans knows reproduces (only containers written before the compressor checked
  /// its gzip streams hold such layouts; now such a file goes through zstd).
  public var isReproducible: Bool { gzip.map { $0.encoding != nil } ?? true }

  /// The newest version of the encoding below.
  static let encodingVersion: UInt8 = 2

  /// The layout as side bytes: u8 version, u8 format, u32 run count R, R × (u32 length,
  /// bytes), u32 suffix length, bytes, u8 gzip flag (0 or 1), and with the flag: u32 header
  /// length, header bytes, the encoding, 8 trailer bytes. Little-endian. The encoding is, in
  /// version 1, u8 zlib level (0–9, or 255 for none); in version 2, u8 encoder (0 zlib, 1 GNU
  /// gzip) and u8 level. A layout whose stream zlib makes is written as version 1, so its bytes
  /// are those of every earlier bbans.
  public func encoded() -> [UInt8] {
    var writer = LittleEndianWriter()
    let version: UInt8
    switch gzip?.encoding {
    case .gnu?: version = 2
    default: version = 1
    }
    writer.u8(version)
    writer.u8(format.rawValue)
    writer.u32(UInt32(prefixes.count))
    for prefix in prefixes {
      writer.u32(UInt32(prefix.count))
      writer.raw(prefix)
    }
    writer.u32(UInt32(suffix.count))
    writer.raw(suffix)
    if let gzip {
      writer.u8(1)
      writer.u32(UInt32(gzip.header.count))
      writer.raw(gzip.header)
      switch gzip.encoding {
      case .zlib(let level)?: writer.u8(UInt8(level))
      case nil: writer.u8(255)
      case .gnu(let level)?:
        writer.u8(1)
        writer.u8(UInt8(level))
      }
      writer.raw(gzip.trailer)
    } else {
      writer.u8(0)
    }
    return writer.bytes
  }

  /// Reads a layout from side bytes; every length is checked against the bytes left, so hostile
  /// side bytes throw rather than allocate.
  /// - Throws: `IOError.malformed` naming the fault.
  public init(decoding bytes: [UInt8]) throws {
    func fail(_ reason: String) -> IOError { .malformed(format: "file layout", reason: reason) }
    var cursor = LittleEndianCursor(bytes, what: "file layout")
    do {
      let version = try cursor.u8()
      guard version == 1 || version == 2 else { throw fail("its version is \(version), not 1 or 2") }
      let code = try cursor.u8()
      guard let format = DataFormat(rawValue: code) else { throw fail("format code \(code) is unknown") }
      let runs = Int(try cursor.u32())
      // Each run takes at least 4 bytes, so the count is bounded by the bytes left.
      guard runs <= cursor.remaining / 4 else { throw fail("\(runs) runs do not fit in \(bytes.count) bytes") }
      var prefixes: [[UInt8]] = []
      for _ in 0..<runs { prefixes.append(try cursor.raw(Int(try cursor.u32()))) }
      let suffix = try cursor.raw(Int(try cursor.u32()))
      var gzip: GzipWrapper?
      switch try cursor.u8() {
      case 0: break
      case 1:
        let header = try cursor.raw(Int(try cursor.u32()))
        let encoding: DeflateEncoding?
        if version == 1 {
          let level = try cursor.u8()
          guard level <= 9 || level == 255 else { throw fail("zlib level \(level) is not 0 to 9") }
          encoding = level == 255 ? nil : .zlib(level: Int(level))
        } else {
          let encoder = try cursor.u8()
          let level = Int(try cursor.u8())
          switch encoder {
          case 0 where level <= 9: encoding = .zlib(level: level)
          case 1 where (1...9).contains(level): encoding = .gnu(level: level)
          default: throw fail("encoder \(encoder) at level \(level) is not zlib 0 to 9 or GNU gzip 1 to 9")
          }
        }
        gzip = GzipWrapper(header: header, encoding: encoding, trailer: try cursor.raw(8))
      case let flag: throw fail("gzip flag \(flag) is not 0 or 1")
      }
      guard cursor.remaining == 0 else { throw fail("\(cursor.remaining) bytes follow its end") }
      self.init(format: format, prefixes: prefixes, suffix: suffix, gzip: gzip)
    } catch let error as ContainerError {
      throw fail("\(error)")
    }
  }
}

/// The parts of a one-member gzip file (RFC 1952) around its deflate stream.
public struct GzipWrapper: Sendable, Equatable {
  /// The member header, verbatim: ID1 ID2 CM FLG MTIME XFL OS and the optional fields.
  public var header: [UInt8]
  /// The encoder whose output is exactly the file's deflate stream, or nil when none gives it
  /// (only in containers written before the compressor checked its gzip streams: now
  /// such a file goes through zstd).
  public var encoding: DeflateEncoding?
  /// The 8-byte member trailer: CRC-32 and ISIZE, little-endian.
  public var trailer: [UInt8]

  public init(header: [UInt8], encoding: DeflateEncoding?, trailer: [UInt8]) {
    self.header = header
    self.encoding = encoding
    self.trailer = trailer
  }
}
