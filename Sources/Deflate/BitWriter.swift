/// Packs bit fields into bytes the way deflate wants them: each field from its least
/// significant bit, fields one after another from the least significant end of each byte
/// (RFC 1951 §3.1.1).
///
/// Bytes collect in a buffer of fixed capacity that the encoder empties after every block; it
/// holds the largest block gzip can make (see `capacity`), so writes check nothing. The bytes
/// that come out do not depend on the width of the bit accumulator, so a 64-bit one that stores
/// four bytes at a time makes the same stream as gzip's 16-bit `bi_buf`.
struct BitWriter {
  /// Room for one block and the bits left over from the one before. The largest block gzip
  /// writes is a block of static codes (a dynamic block is only chosen when it is smaller, a
  /// stored one holds at most 65535 bytes): at most 32767 symbols of at most 31 bits
  /// (8 + 5 for the length, 5 + 13 for the distance), end of block and header, under 127 KB.
  static let capacity = 136 << 10

  let bytes: UnsafeMutablePointer<UInt8>
  /// Complete bytes in `bytes`, not yet handed out.
  var count = 0
  /// Bits not yet stored, the oldest in the least significant end.
  var bitBuffer: UInt64 = 0
  /// Number of valid bits in `bitBuffer` (always below 32 between calls).
  var bitCount = 0

  init() {
    bytes = .allocate(capacity: Self.capacity + 8)
  }

  func deallocate() { bytes.deallocate() }

  /// Appends the low `bits` bits of `value` (`bits` at most 32).
  @inline(__always)
  mutating func write(_ value: UInt32, bits: Int) {
    bitBuffer |= UInt64(value) &<< UInt64(bitCount)
    bitCount &+= bits
    if bitCount >= 32 {
      UnsafeMutableRawPointer(bytes + count).storeBytes(
        of: UInt32(truncatingIfNeeded: bitBuffer).littleEndian, as: UInt32.self)
      count &+= 4
      bitBuffer &>>= 32
      bitCount &-= 32
    }
  }

  /// Pads with zero bits to the next byte boundary and stores what is left (gzip's `bi_windup`).
  mutating func alignToByte() {
    while bitCount > 0 {
      bytes[count] = UInt8(truncatingIfNeeded: bitBuffer)
      count += 1
      bitBuffer >>= 8
      bitCount -= 8
    }
    bitBuffer = 0
    bitCount = 0
  }

  /// Appends bytes as they are; the writer must be on a byte boundary.
  mutating func writeBytes(_ source: UnsafePointer<UInt8>, count length: Int) {
    precondition(bitCount == 0, "BitWriter.writeBytes: \(bitCount) bits are pending")
    (bytes + count).update(from: source, count: length)
    count += length
  }
}
