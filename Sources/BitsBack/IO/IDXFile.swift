/// IDX files (LeCun's MNIST format): 2 zero bytes, a type code, the number of dimensions d,
/// then d big-endian u32 sizes, then the values in row-major order.
///
/// Only unsigned bytes (type 0x08) are images to bbans; d = 1 to 4, mapped to
/// (count, height, width, channels) as (N), (N, W), (N, H, W), (N, H, W, C).
enum IDXFile {
  /// The type codes of the IDX format and what they hold.
  static let typeNames: [UInt8: String] = [
    0x08: "unsigned 8-bit", 0x09: "signed 8-bit", 0x0B: "16-bit integer", 0x0C: "32-bit integer",
    0x0D: "32-bit float", 0x0E: "64-bit float",
  ]

  /// Whether the bytes start like an IDX file (a known type code, 1 to 4 dimensions).
  static func hasMagic(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 4 && bytes[0] == 0 && bytes[1] == 0 && typeNames[bytes[2]] != nil && (1...4).contains(bytes[3])
  }

  /// Splits an IDX file into images and its header.
  /// - Throws: `IOError` for a wrong type, shape or length.
  static func parse(_ bytes: [UInt8]) throws -> (ImageBatch, FileLayout, rank: Int) {
    func fail(_ reason: String) -> IOError { .malformed(format: "IDX", reason: reason) }
    guard let dims = try header(bytes) else {
      throw fail("the file has \(bytes.count) bytes, fewer than its \(bytes.count >= 4 ? 4 + 4 * Int(bytes[3]) : 4)-byte header")
    }
    let headerSize = 4 + 4 * dims.count
    let needed = checkedProduct(dims.map(UInt64.init))
    guard let total = needed, total == bytes.count - headerSize else {
      let text = needed.map(String.init) ?? "more than 2^63"
      throw fail("dimensions \(dims) need \(text) bytes of values, but \(bytes.count - headerSize) follow the header")
    }
    let (count, height, width, channels) = try imageShape(dims, format: "IDX")
    let batch = ImageBatch(count: count, height: height, width: width, channels: channels, pixels: Array(bytes[headerSize...]))
    return (batch, FileLayout(format: .idx, prefixes: [Array(bytes[0..<headerSize])]), dims.count)
  }

  /// The dimensions in the header at the start of `bytes`, or nil when `bytes` ends before the
  /// header does (its size is 4 + 4 × the number of dimensions).
  /// - Throws: `IOError` for a wrong magic number or a type other than unsigned bytes.
  static func header(_ bytes: [UInt8]) throws -> [Int]? {
    func fail(_ reason: String) -> IOError { .malformed(format: "IDX", reason: reason) }
    guard bytes.count >= 4 else { return nil }
    guard hasMagic(bytes) else {
      throw fail("the magic number \(hexBytes(Array(bytes.prefix(4)))) is not 00 00, a type code, 1 to 4 dimensions")
    }
    guard bytes[2] == 0x08 else {
      throw IOError.unsupportedElementType(format: "IDX", found: typeNames[bytes[2]] ?? "unknown")
    }
    let rank = Int(bytes[3])
    guard bytes.count >= 4 + 4 * rank else { return nil }
    return (0..<rank).map { d in (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * d + $1]) } }
  }
}

/// Binary PGM images (Netpbm P5, maxval at most 255): "P5", width, height and maxval as ASCII
/// decimals separated by whitespace and `#` comments, one whitespace byte, then width × height
/// bytes. Several images of one size may follow each other; each header is kept verbatim,
/// comments included, and bytes after the last image are kept as the suffix.
enum PGMFile {
  static func hasMagic(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 3 && bytes[0] == 0x50 && bytes[1] == 0x35 && isWhitespace(bytes[2])
  }

  static func isWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0B || byte == 0x0C
  }

  /// Splits concatenated P5 images into pixels and headers.
  /// - Throws: `IOError` when the first image is malformed or 16-bit.
  static func parse(_ bytes: [UInt8]) throws -> (ImageBatch, FileLayout, rank: Int) {
    let first = try header(bytes, at: 0)
    var prefixes = [Array(bytes[0..<first.end])]
    let size = first.width * first.height
    var pixels = Array(bytes[first.end..<(first.end + size)])
    var position = first.end + size
    // Further images of the same size; anything else ends the run and becomes the suffix.
    while hasMagic(Array(bytes[position..<min(bytes.count, position + 3)])),
      let next = try? header(bytes, at: position), next.width == first.width, next.height == first.height
    {
      prefixes.append(Array(bytes[position..<next.end]))
      pixels += bytes[next.end..<(next.end + size)]
      position = next.end + size
    }
    let batch = ImageBatch(count: prefixes.count, height: first.height, width: first.width, channels: 1, pixels: pixels)
    return (batch, FileLayout(format: .pgm, prefixes: prefixes, suffix: Array(bytes[position...])), 3)
  }

  /// Reads one P5 header at `start`: its size, and where its pixels begin (checked to fit).
  private static func header(_ bytes: [UInt8], at start: Int) throws -> (width: Int, height: Int, end: Int) {
    func fail(_ reason: String) -> IOError { .malformed(format: "PGM", reason: reason) }
    guard hasMagic(Array(bytes[start..<min(bytes.count, start + 3)])) else {
      throw fail("the image at offset \(start) does not start with P5 and whitespace")
    }
    var position = start + 2
    var values: [Int] = []
    while values.count < 3 {
      // Whitespace and comments (from # to the end of the line) between the numbers.
      while position < bytes.count && (isWhitespace(bytes[position]) || bytes[position] == 0x23) {
        if bytes[position] == 0x23 {
          while position < bytes.count && bytes[position] != 0x0A && bytes[position] != 0x0D { position += 1 }
        } else {
          position += 1
        }
      }
      var value = 0
      var digits = 0
      while position < bytes.count, (0x30...0x39).contains(bytes[position]) {
        value = value * 10 + Int(bytes[position] - 0x30)
        digits += 1
        position += 1
        guard digits <= 9 else { throw fail("a number in the header at offset \(start) has more than 9 digits") }
      }
      guard digits > 0 else { throw fail("the header at offset \(start) lacks its width, height or maxval") }
      values.append(value)
    }
    guard position < bytes.count, isWhitespace(bytes[position]) else {
      throw fail("the maxval of the image at offset \(start) is not followed by one whitespace byte")
    }
    position += 1
    let (width, height, maxval) = (values[0], values[1], values[2])
    guard width > 0, height > 0 else { throw fail("the image at offset \(start) is \(width) × \(height)") }
    guard maxval > 0 else { throw fail("the maxval of the image at offset \(start) is 0") }
    guard maxval <= 255 else { throw IOError.unsupportedElementType(format: "PGM", found: "16-bit (maxval \(maxval))") }
    guard bytes.count - position >= width * height else {
      throw fail("the \(width) × \(height) image at offset \(start) has \(bytes.count - position) of its \(width * height) pixel bytes")
    }
    return (width, height, position)
  }
}
