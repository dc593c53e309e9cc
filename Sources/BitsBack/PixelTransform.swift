/// How the file's pixel values map to the model's symbols, recorded in the side bytes.
///
/// Binary models code 0 and 1; images stored as 0 and 255 map 255 to 1 and back.
enum PixelTransform: UInt8, Sendable {
  case identity = 0
  case binary255 = 1

  /// The transform that makes `pixels` binary, or nil when they are not: identity for data
  /// that holds only 0 and 1, binary255 for data that holds only 0 and 255.
  static func binary(for pixels: [UInt8]) -> PixelTransform? {
    var seen = [Bool](repeating: false, count: 256)
    for p in pixels { seen[Int(p)] = true }
    let others = (2..<255).contains { seen[$0] }
    if others { return nil }
    if seen[1] && seen[255] { return nil }
    return seen[255] ? .binary255 : .identity
  }

  func forward(_ pixels: [UInt8]) -> [UInt8] {
    self == .binary255 ? pixels.map { $0 == 0 ? 0 : 1 } : pixels
  }

  func inverse(_ symbols: [UInt8]) -> [UInt8] {
    self == .binary255 ? symbols.map { $0 == 0 ? 0 : 255 } : symbols
  }
}

/// The container's side bytes: the pixel transform, then the file layout.
struct SideBytes {
  let transform: PixelTransform
  let layout: FileLayout

  func encoded() -> [UInt8] { [transform.rawValue] + layout.encoded() }

  init(transform: PixelTransform, layout: FileLayout) {
    self.transform = transform
    self.layout = layout
  }

  init(decoding bytes: [UInt8]) throws {
    guard let first = bytes.first, let transform = PixelTransform(rawValue: first) else {
      throw BitsBackError.corruptSideBytes("the pixel transform code \(bytes.first.map(String.init) ?? "is missing") is unknown")
    }
    self.transform = transform
    self.layout = try FileLayout(decoding: Array(bytes.dropFirst()))
  }
}
