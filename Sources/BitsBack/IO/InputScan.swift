import Hashing

/// What the compressor's first pass learns about its input, before it writes the container's
/// header: its size and checksum and, for an image file whose bytes can be rebuilt exactly
/// around its pixels, the images.
struct InputScan {
  var originalSize: UInt64 = 0
  var originalChecksum: UInt64 = 0
  /// The images, when the file is an image file and every byte around its pixels (headers, the
  /// gzip wrapper, the deflate stream) is known to come back exactly; else nil.
  var images: ScannedImages?
  /// Why the images are not coded with a model, when the user should know.
  var notes: [String] = []
  /// For a gzip file, the size of its member header (the inflated bytes start after it).
  var gzipHeaderSize: Int?

  /// The piece size of every read.
  static let pieceSize = 1 << 20

  /// Reads the whole input once.
  ///
  /// THE INVARIANT (docs/FORMAT.md, "What the compressor promises"): the images come back only
  /// when the decompressor is known to rebuild the original file from them byte for byte. For a
  /// gzip file that means: one member, nothing after it, its CRC-32 and size right, and one of
  /// `DeflateEncoding.all` making exactly its deflate stream, checked here, on every byte.
  /// Anything else goes the lossless way (the file's bytes through zstd), with a note.
  static func scan(_ input: inout some CompressionInput) throws -> InputScan {
    var scan = InputScan()
    var hasher = XXH64()
    var scanner = ImageScanner()
    var gzip: GzipScan?
    var decided = false  // whether the first bytes have shown gzip or not
    var first: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: pieceSize)
    func feed(_ piece: UnsafeRawBufferPointer) throws {
      if gzip != nil {
        try gzip!.add(piece, scanner: &scanner)
      } else if scanner.wantsMore {
        scanner.add(piece)
      }
    }
    while true {
      let count = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
      if count == 0 { break }
      try buffer.withUnsafeBytes { all in
        let piece = UnsafeRawBufferPointer(rebasing: all[0..<count])
        hasher.update(piece)
        scan.originalSize += UInt64(count)
        if !decided {
          first.append(contentsOf: piece)
          if first.count < 2 { return }
          decided = true
          if first[0] == 0x1F && first[1] == 0x8B { gzip = try GzipScan() }
          let firstBytes = first
          first = []
          try firstBytes.withUnsafeBytes { try feed($0) }
          return
        }
        try feed(piece)
      }
    }
    scan.originalChecksum = hasher.digest()
    if !decided { first.withUnsafeBytes { scanner.add($0) } }
    var wrapper: GzipWrapper?
    if gzip != nil {
      switch try gzip!.finish() {
      case .failure(let failure):
        if !failure.note.isEmpty { scan.notes.append(failure.note) }
        return scan
      case .success(let found):
        wrapper = found
        scan.gzipHeaderSize = found.header.count
      }
    }
    switch scanner.finish() {
    case .opaque(let note):
      if let note { scan.notes.append(note) }
    case .images(var images):
      images.layout.gzip = wrapper
      scan.images = images
    }
    return scan
  }
}

/// The first pass over a gzip file: its member header, its deflate stream inflated into the
/// image scanner and checked against the encoders that could make it again, its trailer.
struct GzipScan {
  /// The note for a stream that none of `DeflateEncoding.all` makes (found mid-stream or at
  /// its end).
  static let unknownEncoderNote =
    "the gzip file's deflate stream was not made by GNU gzip or zlib at any level, so it cannot be rebuilt byte for byte and goes through zstd; gunzip the file first to code its pixels with the model"

  /// The most header bytes kept (a stored file name or comment, an extra field).
  static let maxHeaderSize = 1 << 16

  private var header: [UInt8] = []
  private var headerSize: Int?
  private let inflater: Inflater
  private var matcher: DeflateMatcher?
  private var crc = CRC32()
  private var contentSize: UInt64 = 0
  /// The bytes after the deflate stream: the trailer, and anything after it.
  private var after: [UInt8] = []
  private var afterCount: UInt64 = 0
  /// Why the file cannot be rebuilt, once known.
  private var failure: String?

  init() throws {
    inflater = try Inflater()
    matcher = try DeflateMatcher()
  }

  mutating func add(_ piece: UnsafeRawBufferPointer, scanner: inout ImageScanner) throws {
    if failure != nil { return }
    var rest = piece
    if headerSize == nil {
      let take = min(rest.count, Self.maxHeaderSize + 1 - header.count)
      header.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[0..<take]))
      do {
        guard let size = try Gzip.memberHeaderSize(header) else {
          if header.count > Self.maxHeaderSize {
            failure = "the gzip header (its file name, comment or extra field) is over 64 KiB, so the file goes through zstd"
          }
          return
        }
        headerSize = size
        // The bytes after the header are the deflate stream's first ones.
        let overshoot = header.count - size
        header.removeLast(overshoot)
        rest = UnsafeRawBufferPointer(rebasing: rest[(take - overshoot)...])
      } catch {
        failure = "the gzip file is damaged (\(error)), so its bytes go through zstd"
        return
      }
    }
    if inflater.ended {
      noteAfter(rest)
      return
    }
    guard scanner.wantsMore else {
      failure = ""  // not images: nothing to rebuild, and nothing to say about gzip
      return
    }
    do {
      let taken = try inflater.inflate(rest) { consumed, content in
        matcher?.addOriginal(consumed)
        guard content.count > 0 else { return }
        crc.update(content)
        contentSize += UInt64(content.count)
        scanner.add(content)
        try matcher?.addContent(content)
      }
      if matcher?.isAlive == false {
        failure = Self.unknownEncoderNote
        matcher = nil
      }
      if inflater.ended { noteAfter(UnsafeRawBufferPointer(rebasing: rest[taken...])) }
    } catch {
      failure = "the gzip file is damaged (\(error)), so its bytes go through zstd"
    }
  }

  private mutating func noteAfter(_ bytes: UnsafeRawBufferPointer) {
    if after.count < 8 { after.append(contentsOf: bytes.prefix(8 - after.count)) }
    afterCount += UInt64(bytes.count)
  }

  /// The wrapper that rebuilds the file, or why there is none.
  mutating func finish() throws -> Result<GzipWrapper, GzipFailure> {
    if let failure { return .failure(GzipFailure(failure)) }
    guard headerSize != nil else { return .failure(GzipFailure("the gzip header is truncated, so the file goes through zstd")) }
    guard inflater.ended else { return .failure(GzipFailure("the gzip stream is truncated, so the file goes through zstd")) }
    guard afterCount >= 8 else { return .failure(GzipFailure("the gzip trailer is truncated, so the file goes through zstd")) }
    guard afterCount == 8 else {
      return .failure(GzipFailure(
        "the gzip file has more after its first member (\(afterCount - 8) bytes: another member or trailing data), which bbans does not rebuild; its bytes go through zstd"))
    }
    let storedCRC = UInt32(after[0]) | UInt32(after[1]) << 8 | UInt32(after[2]) << 16 | UInt32(after[3]) << 24
    let storedSize = UInt32(after[4]) | UInt32(after[5]) << 8 | UInt32(after[6]) << 16 | UInt32(after[7]) << 24
    guard storedCRC == crc.value, storedSize == UInt32(truncatingIfNeeded: contentSize) else {
      return .failure(GzipFailure("the gzip file's CRC-32 or size does not match its content, so its bytes go through zstd"))
    }
    guard let encoding = try matcher?.finish() else {
      return .failure(GzipFailure(Self.unknownEncoderNote))
    }
    return .success(GzipWrapper(header: header, encoding: encoding, trailer: after))
  }
}

/// Why a gzip file is not rebuilt: a note for the user ("" when there is nothing to say).
struct GzipFailure: Error {
  let note: String
  init(_ note: String) { self.note = note }
}
