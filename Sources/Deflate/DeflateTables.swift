// The fixed tables of deflate (RFC 1951 §3.2.5 and §3.2.6), built once per encoder into
// plain buffers so that the hot loops index memory without bounds checks or lazy globals.

/// Numbers of the format that every part of the encoder shares.
enum DeflateFormat {
  /// Literal bytes 0…255 come first in the literal/length alphabet.
  static let literals = 256
  /// The end-of-block symbol of the literal/length alphabet.
  static let endOfBlock = 256
  /// Length symbols 257…285.
  static let lengthCodes = 29
  /// Symbols of the literal/length alphabet that a block can use (257 + 29).
  static let literalLengthCodes = literals + 1 + lengthCodes
  /// Distance symbols 0…29.
  static let distanceCodes = 30
  /// Symbols of the code-length alphabet (0…15 lengths, 16/17/18 repeats).
  static let bitLengthCodes = 19
  /// No literal/length or distance code may be longer than this (RFC 1951 §3.2.7).
  static let maxBits = 15
  /// No code-length code may be longer than this (it is sent in 3 bits).
  static let maxBitLengthBits = 7

  static let minMatch = 3
  static let maxMatch = 258

  /// Code-length symbols: repeat the previous length 3…6 times (2 extra bits).
  static let repeatPrevious = 16
  /// Repeat a zero length 3…10 times (3 extra bits).
  static let repeatZeroShort = 17
  /// Repeat a zero length 11…138 times (7 extra bits).
  static let repeatZeroLong = 18

  /// Extra bits of each length symbol (257 + index).
  static let lengthExtraBits: [UInt8] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
  ]
  /// Extra bits of each distance symbol.
  static let distanceExtraBits: [UInt8] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
  ]
  /// Extra bits of each code-length symbol.
  static let bitLengthExtraBits: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7]
  /// The order in which the code lengths of the code-length code are sent (RFC 1951 §3.2.7):
  /// likeliest first, so that the unused tail can be left off.
  static let bitLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
}

/// Lookup tables from lengths and distances to their symbols and back, in owned buffers.
///
/// `distanceCode` follows gzip's two-part layout: distances − 1 below 256 index it directly,
/// larger ones by their top 8 bits (`256 + (d >> 7)`), since from symbol 16 on every symbol
/// spans a multiple of 128 distances.
struct CodeTables {
  /// Length − 3 (0…255) → length symbol − 257 (0…28).
  let lengthCode: UnsafeMutablePointer<UInt8>
  /// Length symbol − 257 → first length − 3 it stands for.
  let lengthBase: UnsafeMutablePointer<Int32>
  let lengthExtra: UnsafeMutablePointer<UInt8>
  /// See the type's comment (512 entries).
  let distanceCode: UnsafeMutablePointer<UInt8>
  /// Distance symbol → first distance − 1 it stands for.
  let distanceBase: UnsafeMutablePointer<Int32>
  let distanceExtra: UnsafeMutablePointer<UInt8>
  /// The fixed Huffman code of block type 1 (RFC 1951 §3.2.6): 288 literal/length lengths
  /// and bit-reversed codes, and 30 distance codes of 5 bits.
  let staticLiteralLength: UnsafeMutablePointer<UInt8>
  let staticLiteralCode: UnsafeMutablePointer<UInt16>
  let staticDistanceLength: UnsafeMutablePointer<UInt8>
  let staticDistanceCode: UnsafeMutablePointer<UInt16>

  init() {
    lengthCode = .allocate(capacity: 256)
    lengthBase = .allocate(capacity: DeflateFormat.lengthCodes)
    lengthExtra = .allocate(capacity: DeflateFormat.lengthCodes)
    distanceCode = .allocate(capacity: 512)
    distanceBase = .allocate(capacity: DeflateFormat.distanceCodes)
    distanceExtra = .allocate(capacity: DeflateFormat.distanceCodes)
    staticLiteralLength = .allocate(capacity: 288)
    staticLiteralCode = .allocate(capacity: 288)
    staticDistanceLength = .allocate(capacity: DeflateFormat.distanceCodes)
    staticDistanceCode = .allocate(capacity: DeflateFormat.distanceCodes)

    var length = 0
    lengthBase.initialize(repeating: 0, count: DeflateFormat.lengthCodes)
    for code in 0..<DeflateFormat.lengthCodes {
      lengthExtra[code] = DeflateFormat.lengthExtraBits[code]
    }
    for code in 0..<(DeflateFormat.lengthCodes - 1) {
      lengthBase[code] = Int32(length)
      for _ in 0..<(1 << Int(DeflateFormat.lengthExtraBits[code])) {
        lengthCode[length] = UInt8(code)
        length += 1
      }
    }
    precondition(length == 256, "CodeTables: length table covers \(length) lengths, not 256")
    // Length 258 could be symbol 284 with 5 extra bits of 31, or symbol 285: take the short one.
    lengthCode[255] = UInt8(DeflateFormat.lengthCodes - 1)
    lengthBase[DeflateFormat.lengthCodes - 1] = 255

    var distance = 0
    for code in 0..<DeflateFormat.distanceCodes {
      distanceExtra[code] = DeflateFormat.distanceExtraBits[code]
    }
    for code in 0..<16 {
      distanceBase[code] = Int32(distance)
      for _ in 0..<(1 << Int(DeflateFormat.distanceExtraBits[code])) {
        distanceCode[distance] = UInt8(code)
        distance += 1
      }
    }
    precondition(distance == 256, "CodeTables: short distance table covers \(distance), not 256")
    distance >>= 7
    // Entries 256 and 257 (distances below 256, by their top bits) are never looked up.
    distanceCode[256] = 0
    distanceCode[257] = 0
    for code in 16..<DeflateFormat.distanceCodes {
      distanceBase[code] = Int32(distance << 7)
      for _ in 0..<(1 << (Int(DeflateFormat.distanceExtraBits[code]) - 7)) {
        distanceCode[256 + distance] = UInt8(code)
        distance += 1
      }
    }
    precondition(distance == 256, "CodeTables: long distance table ends at \(256 + distance), not 512")

    for symbol in 0..<288 {
      staticLiteralLength[symbol] = symbol < 144 ? 8 : symbol < 256 ? 9 : symbol < 280 ? 7 : 8
    }
    canonicalCodes(lengths: staticLiteralLength, count: 288, codes: staticLiteralCode)
    for symbol in 0..<DeflateFormat.distanceCodes {
      staticDistanceLength[symbol] = 5
      staticDistanceCode[symbol] = reverseBits(UInt16(symbol), count: 5)
    }
  }

  /// The distance symbol of `distanceMinusOne` (0…32767).
  @inline(__always)
  func distanceSymbol(_ distanceMinusOne: Int) -> Int {
    distanceMinusOne < 256
      ? Int(distanceCode[distanceMinusOne]) : Int(distanceCode[256 &+ (distanceMinusOne &>> 7)])
  }

  func deallocate() {
    lengthCode.deallocate()
    lengthBase.deallocate()
    lengthExtra.deallocate()
    distanceCode.deallocate()
    distanceBase.deallocate()
    distanceExtra.deallocate()
    staticLiteralLength.deallocate()
    staticLiteralCode.deallocate()
    staticDistanceLength.deallocate()
    staticDistanceCode.deallocate()
  }
}

/// The low `count` bits of `value` in reverse order. Deflate sends Huffman codes from their
/// most significant bit but packs bits from the least significant end of each byte, so codes
/// are stored reversed and sent like any other bit field.
func reverseBits(_ value: UInt16, count: Int) -> UInt16 {
  var value = value
  var result: UInt16 = 0
  for _ in 0..<count {
    result = (result << 1) | (value & 1)
    value >>= 1
  }
  return result
}

/// Fills `codes` with the canonical Huffman code of RFC 1951 §3.2.2 for `lengths` (0 = unused),
/// bit-reversed for sending. The lengths fix the code completely; this is what lets a decoder
/// rebuild it from the lengths alone.
func canonicalCodes(lengths: UnsafePointer<UInt8>, count: Int, codes: UnsafeMutablePointer<UInt16>) {
  var lengthCount = [Int](repeating: 0, count: DeflateFormat.maxBits + 1)
  for symbol in 0..<count { lengthCount[Int(lengths[symbol])] += 1 }
  lengthCount[0] = 0
  var nextCode = [Int](repeating: 0, count: DeflateFormat.maxBits + 1)
  var code = 0
  for bits in 1...DeflateFormat.maxBits {
    code = (code + lengthCount[bits - 1]) << 1
    nextCode[bits] = code
  }
  for symbol in 0..<count {
    let length = Int(lengths[symbol])
    if length == 0 { continue }
    codes[symbol] = reverseBits(UInt16(truncatingIfNeeded: nextCode[length]), count: length)
    nextCode[length] += 1
  }
}
