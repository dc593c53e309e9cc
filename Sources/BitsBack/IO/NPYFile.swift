/// NumPy .npy files: "\x93NUMPY", a major and minor version byte, the header length (u16 in
/// version 1, u32 in versions 2 and 3, little-endian), the header (a Python dict literal, padded
/// with spaces and a newline), then the array's bytes.
///
/// bbans takes dtype uint8 (`'|u1'`, `'<u1'`, `'>u1'`, `'=u1'` or `'u1'`), C order, 1 to 4
/// dimensions (mapped like IDX's). The header is kept verbatim as the layout's prefix.
enum NPYFile {
  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

  static func hasMagic(_ bytes: [UInt8]) -> Bool { bytes.starts(with: magic) }

  /// Splits an .npy file into images and its header.
  /// - Throws: `IOError` for a wrong version, dtype, order, shape or length.
  static func parse(_ bytes: [UInt8]) throws -> (ImageBatch, FileLayout, rank: Int) {
    func fail(_ reason: String) -> IOError { .malformed(format: "NPY", reason: reason) }
    guard let (dataStart, dims) = try header(bytes) else {
      throw fail("the header is truncated (the file has \(bytes.count) bytes)")
    }
    let needed = checkedProduct(dims.map(UInt64.init))
    guard let total = needed, total == bytes.count - dataStart else {
      let text = needed.map(String.init) ?? "more than 2^63"
      throw fail("shape \(dims) needs \(text) bytes of values, but \(bytes.count - dataStart) follow the header")
    }
    let (count, height, width, channels) = try imageShape(dims, format: "NPY")
    let batch = ImageBatch(count: count, height: height, width: width, channels: channels, pixels: Array(bytes[dataStart...]))
    return (batch, FileLayout(format: .npy, prefixes: [Array(bytes[0..<dataStart])]), dims.count)
  }

  /// The largest header this code reads (NumPy writes a few hundred bytes).
  static let maxHeaderSize = 1 << 20

  /// Where the values start (the size of magic, version, header length and header), from the
  /// first bytes of the file, or nil when `bytes` ends before the header length does.
  /// - Throws: `IOError` for a wrong magic or version, or a header over 1 MiB.
  static func dataStart(_ bytes: [UInt8]) throws -> Int? {
    func fail(_ reason: String) -> IOError { .malformed(format: "NPY", reason: reason) }
    guard bytes.count >= 10 else {
      guard magic.starts(with: bytes.prefix(6)) else { throw fail("the file does not start with \\x93NUMPY") }
      return nil
    }
    guard hasMagic(bytes) else { throw fail("the file does not start with \\x93NUMPY and its version") }
    let lengthSize = try Self.lengthSize(bytes)
    guard bytes.count >= 8 + lengthSize else { return nil }
    let headerLength = (0..<lengthSize).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
    guard headerLength <= maxHeaderSize else {
      throw IOError.limitExceeded(field: "NPY header length", value: UInt64(headerLength), limit: UInt64(maxHeaderSize))
    }
    return 8 + lengthSize + headerLength
  }

  /// The size of the header length field: u16 in version 1, u32 in versions 2 and 3.
  private static func lengthSize(_ bytes: [UInt8]) throws -> Int {
    switch bytes[6] {
    case 1: return 2
    case 2, 3: return 4
    case let major: throw IOError.malformed(format: "NPY", reason: "version \(major).\(bytes[7]) is not 1, 2 or 3")
    }
  }

  /// The header at the start of `bytes`: where the values start and the shape, or nil when
  /// `bytes` ends before the header does.
  /// - Throws: `IOError` for a wrong magic, version, dtype or order, or a header over 1 MiB.
  static func header(_ bytes: [UInt8]) throws -> (dataStart: Int, dims: [Int])? {
    func fail(_ reason: String) -> IOError { .malformed(format: "NPY", reason: reason) }
    guard let dataStart = try Self.dataStart(bytes), bytes.count >= dataStart else { return nil }
    let lengthSize = try Self.lengthSize(bytes)
    let text = String(decoding: bytes[(8 + lengthSize)..<dataStart], as: UTF8.self)
    var parser = DictParser(text: Array(text.unicodeScalars))
    let dict = try parser.parse()
    guard case .string(let descr)? = dict["descr"] else { throw fail("the header has no 'descr' string") }
    guard ["|u1", "<u1", ">u1", "=u1", "u1"].contains(descr) else {
      throw IOError.unsupportedElementType(format: "NPY", found: "dtype '\(descr)'")
    }
    guard case .bool(let fortranOrder)? = dict["fortran_order"] else { throw fail("the header has no 'fortran_order' True or False") }
    guard case .tuple(let dims)? = dict["shape"] else { throw fail("the header has no 'shape' tuple") }
    if fortranOrder && dims.filter({ $0 != 1 }).count > 1 {
      throw IOError.unsupportedShape(format: "NPY", reason: "the array is in Fortran order; save it in C order")
    }
    return (dataStart, dims)
  }

  /// A value of the header dict.
  enum Value: Equatable {
    case string(String)
    case bool(Bool)
    case tuple([Int])
  }

  /// Parses the dict literal NumPy writes: `{'key': value, …}` with string, True/False and
  /// integer-tuple values, optional trailing commas, and whitespace anywhere between tokens.
  struct DictParser {
    let text: [Unicode.Scalar]
    var position = 0

    init(text: [Unicode.Scalar]) { self.text = text }

    private func fail(_ reason: String) -> IOError {
      .malformed(format: "NPY", reason: "the header dict \(reason) (at character \(position))")
    }

    private mutating func skipSpace() {
      while position < text.count, text[position].properties.isWhitespace { position += 1 }
    }

    private mutating func expect(_ scalar: Unicode.Scalar) throws {
      skipSpace()
      guard position < text.count, text[position] == scalar else { throw fail("lacks '\(scalar)'") }
      position += 1
    }

    private mutating func peek() -> Unicode.Scalar? {
      skipSpace()
      return position < text.count ? text[position] : nil
    }

    mutating func parse() throws -> [String: Value] {
      var dict: [String: Value] = [:]
      try expect("{")
      while peek() != "}" {
        let key = try string()
        try expect(":")
        dict[key] = try value()
        if peek() == "," { position += 1 } else { break }
      }
      try expect("}")
      return dict
    }

    private mutating func string() throws -> String {
      guard let quote = peek(), quote == "'" || quote == "\"" else { throw fail("lacks a quoted key or value") }
      position += 1
      let start = position
      while position < text.count, text[position] != quote { position += 1 }
      guard position < text.count else { throw fail("has an unterminated string") }
      defer { position += 1 }
      var result = ""
      result.unicodeScalars.append(contentsOf: text[start..<position])
      return result
    }

    private mutating func value() throws -> Value {
      switch peek() {
      case "'", "\"": return .string(try string())
      case "(": return .tuple(try tuple())
      default:
        for (word, flag) in [("True", true), ("False", false)] {
          let scalars = Array(word.unicodeScalars)
          if text.count - position >= scalars.count, Array(text[position..<(position + scalars.count)]) == scalars {
            position += scalars.count
            return .bool(flag)
          }
        }
        throw fail("has a value that is not a string, True, False or a tuple")
      }
    }

    private mutating func tuple() throws -> [Int] {
      try expect("(")
      var values: [Int] = []
      while peek() != ")" {
        var value = 0
        var digits = 0
        while position < text.count, (48...57).contains(text[position].value) {
          guard digits < 18 else { throw fail("has a dimension with more than 18 digits") }
          value = value * 10 + Int(text[position].value - 48)
          digits += 1
          position += 1
        }
        guard digits > 0 else { throw fail("has a shape entry that is not a number") }
        if position < text.count, text[position] == "L" { position += 1 }  // Python 2 longs
        values.append(value)
        if peek() == "," { position += 1 } else { break }
      }
      try expect(")")
      return values
    }
  }
}
