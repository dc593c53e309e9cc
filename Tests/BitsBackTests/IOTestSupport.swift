import BitsBack
import Foundation

/// A seeded SplitMix64 for the IO tests' data.
struct IOTestRandom {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
  /// MNIST-like pixels: mostly 0, some strokes.
  mutating func sparsePixels(_ count: Int) -> [UInt8] {
    (0..<count).map { _ in next() % 5 == 0 ? UInt8(truncatingIfNeeded: next()) : 0 }
  }
}

/// An IDX file of unsigned bytes with `dims` and the given values.
func ioIDXFile(dims: [Int], values: [UInt8]) -> [UInt8] {
  var bytes: [UInt8] = [0, 0, 0x08, UInt8(dims.count)]
  for d in dims { bytes += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
  return bytes + values
}

/// An .npy file as NumPy writes it: the header dict padded with spaces to a multiple of 64
/// bytes (version 1: u16 length; 2 and 3: u32), ending in a newline.
func ioNPYFile(shape: [Int], values: [UInt8], descr: String = "|u1", fortran: Bool = false, version: UInt8 = 1) -> [UInt8] {
  let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
  var dict = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shapeText), }"
  let lengthSize = version == 1 ? 2 : 4
  let prefixSize = 8 + lengthSize
  while (prefixSize + dict.utf8.count + 1) % 64 != 0 { dict += " " }
  dict += "\n"
  let length = dict.utf8.count
  var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
  bytes += (0..<lengthSize).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
  return bytes + Array(dict.utf8) + values
}

/// The repository's testdata folder.
func ioTestdata(_ name: String) -> String {
  URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("testdata").appendingPathComponent(name).path
}
