import BitsBack
import Testing

/// Parses `bytes` (recognising the format), checks the images, and checks that rebuilding gives
/// the same bytes.
private func roundTrip(
  _ bytes: [UInt8], format: DataFormat, count: Int, height: Int, width: Int, channels: Int,
  pixels: [UInt8], sourceLocation: SourceLocation = #_sourceLocation
) throws {
  let parsed = try DatasetFile.parse(bytes)
  #expect(parsed != nil, "not recognised", sourceLocation: sourceLocation)
  guard let (images, layout) = parsed else { return }
  #expect(layout.format == format, sourceLocation: sourceLocation)
  #expect(
    [images.count, images.height, images.width, images.channels] == [count, height, width, channels],
    sourceLocation: sourceLocation)
  #expect(images.pixels == pixels, sourceLocation: sourceLocation)
  #expect(layout.isReproducible, sourceLocation: sourceLocation)
  #expect(try FileLayout(decoding: layout.encoded()) == layout, sourceLocation: sourceLocation)
  #expect(try DatasetFile.rebuild(images, layout: layout) == bytes, sourceLocation: sourceLocation)
  // The explicit format gives the same answer.
  let explicit = try DatasetFile.parse(bytes, as: format)
  #expect(explicit?.0 == images && explicit?.1 == layout, sourceLocation: sourceLocation)
}

struct IOFormatTests {
  @Test(arguments: [0, 1, 2, 1000])
  func idxRoundTripsByteForByte(count: Int) throws {
    var random = IOTestRandom(seed: UInt64(count))
    let pixels = random.sparsePixels(count * 28 * 28)
    try roundTrip(ioIDXFile(dims: [count, 28, 28], values: pixels), format: .idx, count: count, height: 28, width: 28, channels: 1, pixels: pixels)
  }

  @Test func idxOfOtherRanksMapsToImages() throws {
    var random = IOTestRandom(seed: 1)
    let values = random.bytes(2 * 3 * 4 * 5)
    try roundTrip(ioIDXFile(dims: [120], values: values), format: .idx, count: 120, height: 1, width: 1, channels: 1, pixels: values)
    try roundTrip(ioIDXFile(dims: [6, 20], values: values), format: .idx, count: 6, height: 1, width: 20, channels: 1, pixels: values)
    try roundTrip(ioIDXFile(dims: [2, 3, 4, 5], values: values), format: .idx, count: 2, height: 3, width: 4, channels: 5, pixels: values)
  }

  @Test(arguments: [0, 1, 2, 1000])
  func npyRoundTripsByteForByte(count: Int) throws {
    var random = IOTestRandom(seed: 100 + UInt64(count))
    let gray = random.sparsePixels(count * 8 * 7)
    try roundTrip(ioNPYFile(shape: [count, 8, 7], values: gray), format: .npy, count: count, height: 8, width: 7, channels: 1, pixels: gray)
    let color = random.bytes(count * 4 * 5 * 3)
    try roundTrip(ioNPYFile(shape: [count, 4, 5, 3], values: color), format: .npy, count: count, height: 4, width: 5, channels: 3, pixels: color)
  }

  @Test func npyVersionsAndDtypeSpellings() throws {
    var random = IOTestRandom(seed: 3)
    let values = random.bytes(2 * 3 * 3)
    for version: UInt8 in [1, 2, 3] {
      for descr in ["|u1", "<u1", "u1"] {
        let file = ioNPYFile(shape: [2, 3, 3], values: values, descr: descr, version: version)
        try roundTrip(file, format: .npy, count: 2, height: 3, width: 3, channels: 1, pixels: values)
      }
    }
  }

  @Test func pgmWithCommentsRoundTrips() throws {
    var random = IOTestRandom(seed: 4)
    let pixels = random.bytes(5 * 3)
    let header = Array("P5\n# made by hand\n5 # width\n  3\r\n# maxval next\n255\n".utf8)
    try roundTrip(header + pixels, format: .pgm, count: 1, height: 3, width: 5, channels: 1, pixels: pixels)
  }

  @Test(arguments: [1, 2, 1000])
  func concatenatedPGMImagesRoundTrip(count: Int) throws {
    var random = IOTestRandom(seed: 5 + UInt64(count))
    var file: [UInt8] = []
    var pixels: [UInt8] = []
    for index in 0..<count {
      let image = random.bytes(4 * 6)
      file += Array("P5 \(index % 2 == 0 ? "" : "# image \(index)\n")4 6 200\n".utf8) + image
      pixels += image
    }
    file += Array("\n".utf8)  // a stray byte after the last image is kept as the suffix
    try roundTrip(file, format: .pgm, count: count, height: 6, width: 4, channels: 1, pixels: pixels)
  }

  @Test func autoDetectionTreatsMalformedFilesAsOpaque() throws {
    let idx = ioIDXFile(dims: [2, 3, 3], values: [UInt8](repeating: 1, count: 18))
    let cases: [(String, [UInt8], DataFormat)] = [
      ("IDX missing a pixel", Array(idx.dropLast()), .idx),
      ("IDX with an extra byte", idx + [0], .idx),
      ("IDX of floats", [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0], .idx),
      ("IDX with overflowing dimensions", ioIDXFile(dims: [0x7FFF_FFFF, 0x7FFF_FFFF, 0x7FFF_FFFF], values: []), .idx),
      ("NPY of float32", ioNPYFile(shape: [1, 1, 1], values: [0, 0, 0, 0], descr: "<f4"), .npy),
      ("NPY in Fortran order", ioNPYFile(shape: [2, 2, 2], values: [UInt8](repeating: 0, count: 8), fortran: true), .npy),
      ("NPY missing data", ioNPYFile(shape: [2, 2, 2], values: [1]), .npy),
      ("NPY with a broken dict", Array(ioNPYFile(shape: [1, 1, 1], values: [1]).prefix(20)), .npy),
      ("16-bit PGM", Array("P5 2 2 65535\n".utf8) + [UInt8](repeating: 0, count: 8), .pgm),
      ("PGM missing pixels", Array("P5 2 2 255\n".utf8) + [1, 2], .pgm),
      ("PGM without maxval", Array("P5 2 2\n".utf8), .pgm),
    ]
    for (name, bytes, format) in cases {
      #expect(try DatasetFile.parse(bytes) == nil, "\(name): auto-detection should give nil")
      #expect(throws: IOError.self, "\(name): the explicit format should throw") {
        _ = try DatasetFile.parse(bytes, as: format)
      }
    }
    #expect(try DatasetFile.parse(Array("hello, world".utf8)) == nil)
    #expect(try DatasetFile.parse([]) == nil)
    #expect(try DatasetFile.parse(idx, as: .raw) == nil)
  }

  @Test func explicitErrorsCarryEvidence() {
    #expect(throws: IOError.unsupportedElementType(format: "NPY", found: "dtype '<f4'")) {
      _ = try DatasetFile.parse(ioNPYFile(shape: [1, 1, 1], values: [0, 0, 0, 0], descr: "<f4"), as: .npy)
    }
    #expect(throws: IOError.malformed(format: "IDX", reason: "dimensions [2, 3, 3] need 18 bytes of values, but 17 follow the header")) {
      _ = try DatasetFile.parse(ioIDXFile(dims: [2, 3, 3], values: [UInt8](repeating: 1, count: 17)), as: .idx)
    }
    let error = IOError.unsupportedElementType(format: "IDX", found: "32-bit float")
    #expect(error.description == "The IDX file holds 32-bit float values, but bbans only takes unsigned 8-bit pixels.")
  }

  @Test func rebuildRefusesImagesThatDoNotFit() throws {
    let file = Array("P5 2 2 255\n".utf8) + [1, 2, 3, 4] + Array("P5 2 2 255\n".utf8) + [5, 6, 7, 8]
    let (images, layout) = try #require(try DatasetFile.parse(file))
    var wrong = images
    wrong.pixels.removeLast()
    #expect(throws: IOError.self) { _ = try DatasetFile.rebuild(wrong, layout: layout) }
  }

  @Test func hostileLayoutBytesThrow() throws {
    let layout = FileLayout(format: .idx, prefixes: [[1, 2, 3]], suffix: [9], gzip: GzipWrapper(header: [1], encoding: .zlib(level: 6), trailer: [0, 0, 0, 0, 0, 0, 0, 0]))
    let bytes = layout.encoded()
    #expect(try FileLayout(decoding: bytes) == layout)
    for length in 0..<bytes.count {
      #expect(throws: IOError.self, "prefix of \(length) bytes") { _ = try FileLayout(decoding: Array(bytes[0..<length])) }
    }
    #expect(throws: IOError.self) { _ = try FileLayout(decoding: bytes + [0]) }
    // A run count of 2^32 − 1 in a few bytes.
    #expect(throws: IOError.self) { _ = try FileLayout(decoding: [1, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0]) }
    // A prefix length of 2^32 − 1.
    #expect(throws: IOError.self) { _ = try FileLayout(decoding: [1, 1, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]) }
  }

  @Test func loadImagesGivesClearErrors() throws {
    let labels = ioIDXFile(dims: [3], values: [1, 2, 3])
    #expect(throws: IOError.unsupportedShape(
      format: "IDX", reason: "labels.idx has 1 dimension, where images need 3 (N, H, W) or 4 (N, H, W, C)")
    ) { _ = try DatasetFile.loadImages(bytes: labels, name: "labels.idx") }
    #expect(throws: IOError.noImages(path: "empty.npy")) {
      _ = try DatasetFile.loadImages(bytes: ioNPYFile(shape: [0, 28, 28], values: []), name: "empty.npy")
    }
    #expect(throws: IOError.unrecognizedFormat(path: "notes.txt", firstBytes: Array("hello".utf8))) {
      _ = try DatasetFile.loadImages(bytes: Array("hello".utf8), name: "notes.txt")
    }
    #expect(throws: IOError.fileAccess(path: "/nonexistent/x.idx", reason: "no such file")) {
      _ = try DatasetFile.loadImages(path: "/nonexistent/x.idx")
    }
    let images = try DatasetFile.loadImages(bytes: ioNPYFile(shape: [2, 2, 2], values: Array(0..<8)), name: "a.npy")
    #expect(images == ImageBatch(count: 2, height: 2, width: 2, pixels: Array(0..<8)))
  }
}
