import Foundation
import Testing
import TestSupport

/// Every format and size through the built binary with the built-in models, as a user runs
/// it: `bbans compress FILE` then `bbans decompress FILE.bba` gives the file back, byte for byte.
@Suite(.serialized) struct CLIRoundTripTests {
  let cli = CLITests()

  /// 28×28 digit-like images: a stroke of ink on a dark background.
  static func images(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = TestSupport.SeededGenerator(seed: seed)
    var pixels = [UInt8](repeating: 0, count: count * 784)
    for n in 0..<count {
      let cx = Double.random(in: 8...20, using: &generator), tilt = Double.random(in: -0.4...0.4, using: &generator)
      for y in 4..<24 {
        let x0 = cx + tilt * Double(y - 14)
        for x in 0..<28 {
          let d = abs(Double(x) - x0)
          if d < 2.5 { pixels[n * 784 + y * 28 + x] = UInt8(max(0, min(255, 255 - d * 80))) }
        }
      }
    }
    return pixels
  }

  static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }

  /// The test files: (name, bytes).
  static func files(count: Int) -> [(String, [UInt8])] {
    let pixels = images(count, seed: UInt64(count) + 1)
    let idx = [0, 0, 8, 3] + be32(count) + be32(28) + be32(28) + pixels
    var header = "{'descr': '|u1', 'fortran_order': False, 'shape': (\(count), 28, 28), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    let npy = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 255), UInt8(header.utf8.count >> 8)]
      + Array(header.utf8) + pixels
    var pgm: [UInt8] = []
    for n in 0..<count { pgm += Array("P5\n28 28\n255\n".utf8) + pixels[(n * 784)..<((n + 1) * 784)] }
    let binary = [0, 0, 8, 3] + be32(count) + be32(28) + be32(28) + pixels.map { $0 >= 128 ? 1 : 0 }
    var result = [("images.idx", idx), ("images.npy", npy), ("binary.idx", binary)]
    if count > 0 { result.append(("images.pgm", pgm)) }
    return result
  }

  @Test(arguments: [0, 1, 2, 1000])
  func everyFormatRoundTrips(count: Int) throws {
    let folder = try cli.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    for (name, bytes) in Self.files(count: count) {
      let compressedSize = try roundTrip(name, bytes, in: folder)
      if count == 1000 { #expect(compressedSize < bytes.count / 8, "\(name): \(compressedSize) bytes") }
    }
  }

  @Test func anyBytesRoundTrip() throws {
    let folder = try cli.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    var generator = TestSupport.SeededGenerator(seed: 11)
    let random = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) }
    for (name, bytes) in [("empty", [UInt8]()), ("one-byte", [42]), ("random.bin", random)] {
      _ = try roundTrip(name, bytes, in: folder)
    }
  }

  /// compress, remove the input, decompress, compare; returns the container's size.
  func roundTrip(_ name: String, _ bytes: [UInt8], in folder: URL) throws -> Int {
    let file = folder.appendingPathComponent(name)
    try Data(bytes).write(to: file)
    let compress = try cli.run(["compress", file.path], in: folder)
    #expect(compress.status == 0, "\(name): \(compress.stderr)")
    let bba = folder.appendingPathComponent(name + ".bba")
    let size = (try? Data(contentsOf: bba).count) ?? 0
    try FileManager.default.removeItem(at: file)
    let decompress = try cli.run(["decompress", bba.path], in: folder)
    #expect(decompress.status == 0, "\(name): \(decompress.stderr)")
    #expect(try Data(contentsOf: file) == Data(bytes), "\(name) came back different")
    try FileManager.default.removeItem(at: bba)
    return size
  }
}
