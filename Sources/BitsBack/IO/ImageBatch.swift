// File IO: the image files people keep small images in (IDX, NPY, PGM, each optionally
// gzipped), split into pixels and the side bytes that rebuild the original file byte for byte.
//
// Reading order: ImageBatch (this file), FileLayout, DatasetFile, then one file per format
// (IDXFile, NPYFile, PGMFile), GzipWrapper, Zstd.

/// The kind of file the data came from; stored in the container header's format tag.
public enum DataFormat: UInt8, Sendable, CaseIterable, CustomStringConvertible {
  /// Opaque bytes: no image structure known.
  case raw = 0
  /// IDX (MNIST's format): big-endian dimensions, then unsigned bytes.
  case idx = 1
  /// NumPy .npy, dtype uint8, C order.
  case npy = 2
  /// Binary PGM (P5), 8-bit; one image or several concatenated.
  case pgm = 3

  public var description: String {
    switch self {
    case .raw: return "raw"
    case .idx: return "IDX"
    case .npy: return "NPY"
    case .pgm: return "PGM"
    }
  }
}

/// Images of one size, as bytes: `count` items of `height` × `width` × `channels`, row-major,
/// channels last (`pixels[((i·height + y)·width + x)·channels + c]`).
public struct ImageBatch: Sendable, Equatable {
  public var count: Int
  public var height: Int
  public var width: Int
  public var channels: Int
  public var pixels: [UInt8]

  /// - Precondition: `pixels.count == count × height × width × channels`.
  public init(count: Int, height: Int, width: Int, channels: Int = 1, pixels: [UInt8]) {
    precondition(
      count >= 0 && height >= 0 && width >= 0 && channels >= 0
        && pixels.count == count * height * width * channels,
      "ImageBatch: \(pixels.count) pixels do not fill \(count) × \(height) × \(width) × \(channels)")
    self.count = count
    self.height = height
    self.width = width
    self.channels = channels
    self.pixels = pixels
  }

  /// Bytes per image: height × width × channels.
  public var pixelsPerImage: Int { height * width * channels }
}

/// Why an image file could not be read, written or rebuilt.
///
/// Each case carries the evidence; `description` is one full sentence.
public enum IOError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file's bytes break its format's rules (the string says where and how).
  case malformed(format: String, reason: String)
  /// The file is of a known format, but holds values other than unsigned bytes.
  case unsupportedElementType(format: String, found: String)
  /// The data's shape is not one this code takes (rank, order, size).
  case unsupportedShape(format: String, reason: String)
  /// No reader knows these bytes.
  case unrecognizedFormat(path: String, firstBytes: [UInt8])
  /// The file holds no image.
  case noImages(path: String)
  /// A size is above what this code allows.
  case limitExceeded(field: String, value: UInt64, limit: UInt64)
  /// The layout says its gzip stream cannot be rebuilt (no zlib level reproduces it).
  case notReproducible(reason: String)
  /// The images given to `rebuild` do not fit the layout.
  case layoutMismatch(reason: String)
  /// zlib or zstd reported an error.
  case codecFailure(library: String, message: String)
  /// A zstd frame says (or gives) a size other than the one expected.
  case sizeMismatch(expected: Int, found: UInt64)
  /// A file could not be read or written.
  case fileAccess(path: String, reason: String)

  public var description: String {
    switch self {
    case .malformed(let format, let reason):
      return "The \(format) data are malformed: \(reason)."
    case .unsupportedElementType(let format, let found):
      return "The \(format) file holds \(found) values, but bbans only takes unsigned 8-bit pixels."
    case .unsupportedShape(let format, let reason):
      return "The \(format) data have a shape bbans does not take: \(reason)."
    case .unrecognizedFormat(let path, let bytes):
      return "\(path) is not an IDX, NPY or PGM file (gzipped or not): it starts with \(hexBytes(bytes))."
    case .noImages(let path):
      return "\(path) holds no image."
    case .limitExceeded(let field, let value, let limit):
      return "The \(field) is \(value), above the limit of \(limit)."
    case .notReproducible(let reason):
      return "The original file cannot be rebuilt byte for byte: \(reason)."
    case .layoutMismatch(let reason):
      return "The images do not fit the file layout: \(reason)."
    case .codecFailure(let library, let message):
      return "\(library) failed: \(message)."
    case .sizeMismatch(let expected, let found):
      return "The zstd data decode to \(found) bytes, but \(expected) were expected."
    case .fileAccess(let path, let reason):
      return "Cannot access \(path): \(reason)."
    }
  }
}

/// Bytes as "0x1F 8B 08" (at most 16 shown).
func hexBytes(_ bytes: [UInt8]) -> String {
  if bytes.isEmpty { return "no bytes (the file is empty)" }
  let shown = bytes.prefix(16).map { byte -> String in
    let digits = String(byte, radix: 16, uppercase: true)
    return digits.count == 1 ? "0" + digits : digits
  }
  return "0x" + shown.joined(separator: " ") + (bytes.count > 16 ? " …" : "")
}

/// The product of `factors`, or nil when it overflows `Int` (hostile dimensions).
func checkedProduct(_ factors: [UInt64]) -> Int? {
  var product: UInt64 = 1
  for factor in factors {
    let (next, overflow) = product.multipliedReportingOverflow(by: factor)
    if overflow || next > UInt64(Int.max) { return nil }
    product = next
  }
  return Int(product)
}

/// Maps an array's dimensions to (count, height, width, channels): (N) → N×1×1×1,
/// (N, W) → N×1×W×1, (N, H, W) → N×H×W×1, (N, H, W, C) as they are.
func imageShape(_ dims: [Int], format: String) throws -> (Int, Int, Int, Int) {
  switch dims.count {
  case 1: return (dims[0], 1, 1, 1)
  case 2: return (dims[0], 1, dims[1], 1)
  case 3: return (dims[0], dims[1], dims[2], 1)
  case 4: return (dims[0], dims[1], dims[2], dims[3])
  default:
    throw IOError.unsupportedShape(
      format: format, reason: "\(dims.count) dimensions \(dims), where 1 to 4 are taken")
  }
}
