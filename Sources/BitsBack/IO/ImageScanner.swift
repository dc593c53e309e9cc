/// Learns, from a file's (inflated) bytes fed piece by piece, whether it is an image file
/// bbans codes and what it holds, without keeping its pixels: the compressor's first pass.
///
/// IDX and NPY files are a header, then every pixel, then nothing; the scanner keeps the header,
/// the first images (the sample that chooses a model), the set of pixel values seen (binary or
/// 8-bit), and checks that the file ends where its header says. PGM files (one image or a few
/// concatenated, each with its own header) are kept whole up to `maxPGMSize` and parsed at the
/// end; larger ones are coded as opaque bytes.
struct ImageScanner {
  /// The most bytes of a PGM file kept in memory to parse it.
  static let maxPGMSize = 64 << 20
  /// The images whose pixels are kept to choose a model.
  static let sampleImages = 64

  /// What the scan found.
  enum Outcome {
    /// An image file: its shape, layout (header, and for PGM the pixels too).
    case images(ScannedImages)
    /// Not an image file bbans codes; the note says why when the user should know.
    case opaque(note: String?)
  }

  private enum State {
    /// Collecting the first bytes, until the format and header are known.
    case head
    /// In the pixels of an IDX or NPY file.
    case pixels
    /// Keeping a PGM file whole.
    case pgm
    /// Decided: not images.
    case done(note: String?)
  }

  private var state = State.head
  private var head: [UInt8] = []
  private var format = DataFormat.raw
  private var dims: [Int] = []
  private var prefix: [UInt8] = []
  private var expectedPixels = 0
  private var pixelsSeen = 0
  private var sample: [UInt8] = []
  private var sampleTarget = 0
  private var seen = [Bool](repeating: false, count: 256)

  /// Whether more bytes could change the outcome (false once it is known to be opaque).
  var wantsMore: Bool {
    if case .done = state { return false }
    return true
  }

  mutating func add(_ bytes: UnsafeRawBufferPointer) {
    var rest = bytes
    while rest.count > 0 {
      switch state {
      case .done:
        return
      case .head:
        let take = min(rest.count, max(1, headWanted() - head.count))
        head.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[0..<take]))
        rest = UnsafeRawBufferPointer(rebasing: rest[take...])
        decide(atEnd: false)
        if case .pixels = state {
          // The bytes of `head` past the header are the first pixels.
          let extra = Array(head[prefix.count...])
          head = []
          extra.withUnsafeBytes { addPixels($0) }
        } else if case .pgm = state {
          let kept = head
          head = []
          kept.withUnsafeBytes { add($0) }
        }
      case .pixels:
        addPixels(rest)
        return
      case .pgm:
        if head.count + rest.count > Self.maxPGMSize {
          state = .done(note: "the PGM file is over \(Self.maxPGMSize >> 20) MiB, the most bbans parses as images; it goes through zstd")
          head = []
          return
        }
        head.append(contentsOf: rest)
        return
      }
    }
  }

  /// How many first bytes `decide` needs: the whole header once its length is known.
  private func headWanted() -> Int {
    if !head.isEmpty && NPYFile.magic.starts(with: head.prefix(6)) {
      // Bytes up to the header length (12 at most), then the header; a header that cannot be
      // read fails in `decide` at the next byte.
      do { return try NPYFile.dataStart(head) ?? 12 } catch { return head.count + 1 }
    }
    if head.count >= 4 && IDXFile.hasMagic(head) { return 4 + 4 * Int(head[3]) }
    return 10
  }

  /// Decides the format from `head` once it holds enough bytes (or at the end).
  private mutating func decide(atEnd: Bool) {
    do {
      if !head.isEmpty && NPYFile.magic.starts(with: head.prefix(6)) {
        guard let (dataStart, shape) = try NPYFile.header(head) else {
          if atEnd { state = .done(note: nil) }
          return
        }
        startPixels(format: .npy, prefixSize: dataStart, dims: shape)
      } else if head.count >= 4 && IDXFile.hasMagic(head) {
        guard let shape = try IDXFile.header(head) else {
          if atEnd { state = .done(note: nil) }
          return
        }
        startPixels(format: .idx, prefixSize: 4 + 4 * shape.count, dims: shape)
      } else if head.count >= 3 && PGMFile.hasMagic(head) {
        state = .pgm
      } else if head.count >= 4 || atEnd {
        state = .done(note: nil)
      }
    } catch let error as IOError {
      state = .done(note: Self.note(for: error))
    } catch {
      state = .done(note: nil)
    }
  }

  private mutating func startPixels(format: DataFormat, prefixSize: Int, dims: [Int]) {
    guard let total = checkedProduct(dims.map(UInt64.init)),
      let shape = try? imageShape(dims, format: format.description)
    else {
      state = .done(note: nil)
      return
    }
    self.format = format
    self.dims = dims
    prefix = Array(head[0..<prefixSize])
    expectedPixels = total
    let pixelsPerImage = shape.1 * shape.2 * shape.3
    sampleTarget = pixelsPerImage == 0 ? 0 : min(shape.0, Self.sampleImages) * pixelsPerImage
    state = .pixels
  }

  private mutating func addPixels(_ bytes: UnsafeRawBufferPointer) {
    guard bytes.count > 0 else { return }
    if bytes.count > expectedPixels - pixelsSeen {
      state = .done(note: nil)  // bytes after the values: not the format bbans rebuilds
      return
    }
    if sample.count < sampleTarget {
      sample.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<min(bytes.count, sampleTarget - sample.count)]))
    }
    seen.withUnsafeMutableBufferPointer { marks in
      for byte in bytes { marks[Int(byte)] = true }
    }
    pixelsSeen += bytes.count
  }

  /// The outcome, after the last byte.
  mutating func finish() -> Outcome {
    if case .head = state { decide(atEnd: true) }
    switch state {
    case .done(let note):
      return .opaque(note: note)
    case .head:
      return .opaque(note: nil)
    case .pgm:
      guard let (batch, layout, _) = try? PGMFile.parse(head) else { return .opaque(note: nil) }
      return .images(ScannedImages(batch, layout: layout))
    case .pixels:
      guard pixelsSeen == expectedPixels, let shape = try? imageShape(dims, format: format.description) else {
        return .opaque(note: nil)
      }
      return .images(ScannedImages(
        format: format, count: shape.0, height: shape.1, width: shape.2, channels: shape.3,
        layout: FileLayout(format: format, prefixes: [prefix]), sample: sample, valuesSeen: seen, keptPixels: nil))
    }
  }

  /// What to tell the user about a file that looked like images but is not one bbans codes.
  static func note(for error: IOError) -> String? {
    switch error {
    case .unsupportedElementType(_, let found):
      return "\(elementTypeName(found)) data: bbans models uint8 images; stored with zstd"
    case .unsupportedShape(let format, let reason):
      return "\(format) file: \(reason); stored with zstd"
    default:
      return nil
    }
  }

  /// NumPy's name for an element type as the file readers describe it ("dtype '<f4'",
  /// "32-bit float"): what a user of NumPy or PyTorch calls it.
  static func elementTypeName(_ found: String) -> String {
    let idxNames = [
      "signed 8-bit": "int8", "16-bit integer": "int16", "32-bit integer": "int32",
      "32-bit float": "float32", "64-bit float": "float64",
    ]
    if let name = idxNames[found] { return name }
    guard found.hasPrefix("dtype '"), found.hasSuffix("'") else { return found }
    var descr = found.dropFirst(7).dropLast()
    if let first = descr.first, "<>|=".contains(first) { descr = descr.dropFirst() }
    guard let kind = descr.first, let size = Int(descr.dropFirst()) else { return found }
    let kinds: [Character: String] = ["f": "float", "i": "int", "u": "uint", "c": "complex"]
    if kind == "b" && size == 1 { return "bool" }
    guard let word = kinds[kind] else { return found }
    return "\(word)\(size * 8)"
  }
}

/// An image file found by the first pass.
struct ScannedImages {
  var format: DataFormat
  var count: Int
  var height: Int
  var width: Int
  var channels: Int
  /// The bytes around the pixels (the gzip wrapper is added by the caller).
  var layout: FileLayout
  /// The first images' pixels (at most `ImageScanner.sampleImages`).
  var sample: [UInt8]
  /// Which of the 256 byte values the pixels hold.
  var valuesSeen: [Bool]
  /// The pixels, when the first pass kept them (a PGM file, images given in memory); IDX and
  /// NPY pixels are read again by the second pass.
  var keptPixels: [UInt8]?

  var pixelsPerImage: Int { height * width * channels }

  /// The scan of images already in memory.
  init(_ batch: ImageBatch, layout: FileLayout) {
    var marks = [Bool](repeating: false, count: 256)
    for byte in batch.pixels { marks[Int(byte)] = true }
    let sampleCount = min(batch.count, ImageScanner.sampleImages) * batch.pixelsPerImage
    self.init(
      format: layout.format, count: batch.count, height: batch.height, width: batch.width, channels: batch.channels,
      layout: layout, sample: Array(batch.pixels[0..<sampleCount]), valuesSeen: marks, keptPixels: batch.pixels)
  }

  init(
    format: DataFormat, count: Int, height: Int, width: Int, channels: Int, layout: FileLayout, sample: [UInt8],
    valuesSeen: [Bool], keptPixels: [UInt8]?
  ) {
    self.format = format
    self.count = count
    self.height = height
    self.width = width
    self.channels = channels
    self.layout = layout
    self.sample = sample
    self.valuesSeen = valuesSeen
    self.keptPixels = keptPixels
  }

  /// The transform that makes the pixels binary, or nil (as `PixelTransform.binary(for:)`).
  var binaryTransform: PixelTransform? {
    if (2..<255).contains(where: { valuesSeen[$0] }) { return nil }
    if valuesSeen[1] && valuesSeen[255] { return nil }
    return valuesSeen[255] ? .binary255 : .identity
  }
}
