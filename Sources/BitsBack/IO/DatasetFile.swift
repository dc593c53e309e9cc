import Foundation

/// Image files taken apart into images and side bytes, and put back together byte for byte.
///
/// Example:
/// ```swift
/// if let (images, layout) = try DatasetFile.parse(bytes), layout.isReproducible {
///   // code `images.pixels` with the model, keep `layout.encoded()` as side bytes …
///   assert(try DatasetFile.rebuild(images, layout: layout) == bytes)
/// }
/// ```
public enum DatasetFile {
  /// Recognises an image file (IDX, NPY or PGM, each possibly gzipped) and splits it into its
  /// images and the layout that rebuilds it.
  ///
  /// - Parameters:
  ///   - bytes: the whole file.
  ///   - format: the format the user asked for, or nil to recognise it. With a format, a file
  ///     that breaks its rules throws; without one, it is no image file (nil), and the caller
  ///     keeps its bytes as they are (zstd). `.raw` always gives nil.
  /// - Returns: the images and layout, or nil for bytes of no known image format. For a gzip
  ///   stream that no encoder bbans knows reproduces, the layout's `isReproducible` is false: the images
  ///   are right, but `rebuild` cannot give back the original bytes.
  /// - Complexity: for gzip, up to ten deflate passes, each usually stopped within its first
  ///   block by a differing byte.
  public static func parse(_ bytes: [UInt8], as format: DataFormat? = nil) throws -> (ImageBatch, FileLayout)? {
    if format == .raw { return nil }
    guard Gzip.hasMagic(bytes) else { return try parsePlain(bytes, as: format).map { ($0.0, $0.1) } }
    let unwrapped: Gzip.Unwrapped
    do {
      unwrapped = try Gzip.unwrap(bytes)
    } catch let error as IOError {
      if format != nil { throw error }
      return nil
    }
    guard let (images, plainLayout, _) = try parsePlain(unwrapped.content, as: format) else { return nil }
    var layout = plainLayout
    var wrapper = unwrapped.wrapper
    if unwrapped.isSingleMember {
      wrapper.encoding = try Gzip.matchingEncoding(content: unwrapped.content, stream: bytes[unwrapped.deflateRange])
    }
    layout.gzip = wrapper
    return (images, layout)
  }

  /// The original file from its images and layout.
  /// - Throws: `IOError.notReproducible` for a layout whose gzip stream no zlib level makes,
  ///   `IOError.layoutMismatch` when the pixels do not split into the layout's runs.
  public static func rebuild(_ images: ImageBatch, layout: FileLayout) throws -> [UInt8] {
    guard layout.isReproducible else {
      throw IOError.notReproducible(reason: "no encoder bbans knows makes the file's deflate stream")
    }
    let runs = layout.prefixes.count
    var plain: [UInt8] = []
    if runs == 0 {
      guard images.pixels.isEmpty else {
        throw IOError.layoutMismatch(reason: "the layout has no run for \(images.pixels.count) pixel bytes")
      }
    } else {
      guard images.pixels.count % runs == 0 else {
        throw IOError.layoutMismatch(reason: "\(images.pixels.count) pixel bytes do not split into \(runs) equal runs")
      }
      let runLength = images.pixels.count / runs
      plain.reserveCapacity(images.pixels.count + layout.prefixes.reduce(layout.suffix.count) { $0 + $1.count })
      for (index, prefix) in layout.prefixes.enumerated() {
        plain += prefix
        plain += images.pixels[(index * runLength)..<((index + 1) * runLength)]
      }
    }
    plain += layout.suffix
    guard let gzip = layout.gzip, let encoding = gzip.encoding else { return plain }
    return try gzip.header + Gzip.deflate(plain, encoding: encoding) + gzip.trailer
  }

  /// The images of an IDX, NPY or PGM file (gzipped or not) for training: clear errors for
  /// anything else.
  /// - Throws: `IOError`: `fileAccess`, `unrecognizedFormat`, `unsupportedElementType`,
  ///   `unsupportedShape` (fewer than 3 dimensions, empty images), `noImages`, `malformed`.
  public static func loadImages(path: String) throws -> ImageBatch {
    guard let data = FileManager.default.contents(atPath: path) else {
      let reason = FileManager.default.fileExists(atPath: path) ? "it cannot be read" : "no such file"
      throw IOError.fileAccess(path: path, reason: reason)
    }
    return try loadImages(bytes: [UInt8](data), name: path)
  }

  /// The images of an image file already in memory; `name` appears in errors.
  public static func loadImages(bytes: [UInt8], name: String) throws -> ImageBatch {
    let content = Gzip.hasMagic(bytes) ? try Gzip.unwrap(bytes).content : bytes
    let format: DataFormat
    if NPYFile.hasMagic(content) {
      format = .npy
    } else if IDXFile.hasMagic(content) {
      format = .idx
    } else if PGMFile.hasMagic(content) {
      format = .pgm
    } else {
      throw IOError.unrecognizedFormat(path: name, firstBytes: Array(content.prefix(8)))
    }
    let (images, _, rank) = try parsePlain(content, as: format)!
    guard rank >= 3 else {
      throw IOError.unsupportedShape(
        format: format.description,
        reason: "\(name) has \(rank) dimension\(rank == 1 ? "" : "s"), where images need 3 (N, H, W) or 4 (N, H, W, C)")
    }
    guard images.count > 0 else { throw IOError.noImages(path: name) }
    guard images.pixelsPerImage > 0 else {
      throw IOError.unsupportedShape(
        format: format.description, reason: "its images are \(images.height) × \(images.width) × \(images.channels), with no pixel")
    }
    return images
  }

  /// Parses bytes that are not gzipped: with a format, as that format (throwing); without, by
  /// magic number, nil when no reader takes them.
  static func parsePlain(_ bytes: [UInt8], as format: DataFormat?) throws -> (ImageBatch, FileLayout, rank: Int)? {
    switch format {
    case .raw: return nil
    case .idx: return try IDXFile.parse(bytes)
    case .npy: return try NPYFile.parse(bytes)
    case .pgm: return try PGMFile.parse(bytes)
    case nil:
      if NPYFile.hasMagic(bytes) { return try? NPYFile.parse(bytes) }
      if IDXFile.hasMagic(bytes) { return try? IDXFile.parse(bytes) }
      if PGMFile.hasMagic(bytes) { return try? PGMFile.parse(bytes) }
      return nil
    }
  }
}
