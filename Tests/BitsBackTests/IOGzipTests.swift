import BitsBack
import Foundation
import Testing

struct IOGzipTests {
  static let idx: [UInt8] = {
    var random = IOTestRandom(seed: 11)
    return ioIDXFile(dims: [200, 28, 28], values: random.sparsePixels(200 * 28 * 28))
  }()

  @Test(arguments: [0, 1, 3, 6, 9])
  func zlibGzipRoundTripsAndFindsItsLevel(level: Int) throws {
    let gz = try Gzip.wrap(Self.idx, level: level)
    let (images, layout) = try #require(try DatasetFile.parse(gz))
    #expect(layout.format == .idx)
    #expect(images.count == 200 && images.height == 28 && images.width == 28)
    let gzip = try #require(layout.gzip)
    #expect(gzip.encoding != nil)
    #expect(layout.isReproducible)
    #expect(try FileLayout(decoding: layout.encoded()) == layout)
    #expect(try DatasetFile.rebuild(images, layout: layout) == gz)
  }

  @Test func headerFieldsAreKeptVerbatim() throws {
    // FLG = FEXTRA | FNAME | FCOMMENT, MTIME set, XFL 0, OS 11.
    var header: [UInt8] = [0x1F, 0x8B, 8, 0x1C, 0x78, 0x56, 0x34, 0x12, 0, 11]
    header += [3, 0, 0xAA, 0xBB, 0xCC]
    header += Array("train-images-idx3-ubyte".utf8) + [0]
    header += Array("a comment".utf8) + [0]
    let gz = try Gzip.wrap(Self.idx, level: 6, header: header)
    let (images, layout) = try #require(try DatasetFile.parse(gz))
    #expect(layout.gzip?.header == header)
    #expect(layout.gzip?.encoding != nil)
    #expect(try DatasetFile.rebuild(images, layout: layout) == gz)
  }

  @Test func gnuGzipNineIsRebuiltByTheGNUEncoder() throws {
    let fixture = try #require(FileManager.default.contents(atPath: ioTestdata("gnu-gzip9-noise-idx3.gz")))
    let bytes = [UInt8](fixture)
    let (images, layout) = try #require(try DatasetFile.parse(bytes))
    #expect(images.count == 50 && images.height == 28 && images.width == 28)
    // gzip -9 made it; on these small images, other GNU levels make the same stream.
    guard case .gnu? = layout.gzip?.encoding else {
      Issue.record("the stream is matched by \(String(describing: layout.gzip?.encoding)), not by GNU gzip")
      return
    }
    #expect(try FileLayout(decoding: layout.encoded()) == layout)
    #expect(try DatasetFile.rebuild(images, layout: layout) == bytes)
  }

  @Test func layoutsWithoutEncodingStillDecodeAsNotReproducible() throws {
    // Containers written before the compressor checked gzip streams hold such layouts.
    let layout = FileLayout(
      format: .idx, prefixes: [Array(Self.idx[..<16])],
      gzip: GzipWrapper(header: [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3], encoding: nil, trailer: [UInt8](repeating: 0, count: 8)))
    #expect(layout.encoded().first == 1)
    #expect(try FileLayout(decoding: layout.encoded()) == layout)
    #expect(!layout.isReproducible)
  }

  @Test func gnuGzipBinaryOutputIsHandled() throws {
    let gzipPath = "/usr/bin/gzip"
    guard FileManager.default.isExecutableFile(atPath: gzipPath) else { return }
    // Whatever the local gzip makes must be handled right.
    let content = Self.idx
    let process = Process()
    process.executableURL = URL(fileURLWithPath: gzipPath)
    process.arguments = ["-9", "-n", "-c"]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(Data(content))
    try input.fileHandleForWriting.close()
    let gz = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
    process.waitUntilExit()
    let (images, layout) = try #require(try DatasetFile.parse(gz))
    #expect(images.pixels == Array(Self.idx[16...]))
    #expect(layout.isReproducible)
    #expect(try DatasetFile.rebuild(images, layout: layout) == gz)
  }

  @Test func multiMemberGzipIsNotReproducible() throws {
    let half = Self.idx.count / 2
    let gz = try Gzip.wrap(Array(Self.idx[..<half]), level: 6) + Gzip.wrap(Array(Self.idx[half...]), level: 6)
    let (images, layout) = try #require(try DatasetFile.parse(gz))
    #expect(images.pixels == Array(Self.idx[16...]))
    #expect(!layout.isReproducible)
  }

  @Test func damagedGzipIsOpaqueUnlessAskedFor() throws {
    let gz = try Gzip.wrap(Self.idx, level: 6)
    var badCRC = gz
    badCRC[gz.count - 6] ^= 1
    let truncated = Array(gz.dropLast(20))
    var badMethod = gz
    badMethod[2] = 7
    for (name, bytes) in [("bad CRC", badCRC), ("truncated", truncated), ("bad method", badMethod)] {
      #expect(try DatasetFile.parse(bytes) == nil, "\(name)")
      #expect(throws: IOError.self, "\(name)") { _ = try DatasetFile.parse(bytes, as: .idx) }
    }
  }

  @Test func gzippedNonImageIsOpaque() throws {
    #expect(try DatasetFile.parse(try Gzip.wrap(Array("just text".utf8), level: 6)) == nil)
  }

  @Test func loadsMNISTWhenPresent() throws {
    let path = "/work/shared/data/mnist/train-images-idx3-ubyte.gz"
    guard FileManager.default.fileExists(atPath: path) else { return }
    let images = try DatasetFile.loadImages(path: path)
    #expect(images.count == 60000 && images.height == 28 && images.width == 28 && images.channels == 1)
  }
}

struct IOZstdTests {
  @Test(arguments: [0, 1, 1000, 100_000])
  func zstdRoundTrips(size: Int) throws {
    var random = IOTestRandom(seed: UInt64(size))
    let bytes = random.sparsePixels(size)
    for level in [1, 3, 19] {
      let compressed = try Zstd.compress(bytes, level: level)
      #expect(try Zstd.decompress(compressed, expectedSize: size) == bytes)
    }
  }

  @Test func zstdRefusesASizeMismatch() throws {
    let compressed = try Zstd.compress([UInt8](repeating: 7, count: 500), level: 3)
    #expect(throws: IOError.sizeMismatch(expected: 499, found: 500)) { _ = try Zstd.decompress(compressed, expectedSize: 499) }
    #expect(throws: IOError.sizeMismatch(expected: 501, found: 500)) { _ = try Zstd.decompress(compressed, expectedSize: 501) }
    #expect(throws: IOError.self) { _ = try Zstd.decompress([1, 2, 3, 4, 5, 6], expectedSize: 3) }
    #expect(throws: IOError.self) { _ = try Zstd.decompress(Array(compressed.dropLast(3)), expectedSize: 500) }
  }
}
