import Foundation
import Model
import Testing

/// The output is complete or absent: written to a temporary file beside the target and renamed
/// only when done; nothing is left after an error or a signal; the input is never touched
/// (removed only with --rm, after success); an existing output needs -f.
@Suite(.serialized) struct OutputSafetyTests {
  let binary = CLITests.binary

  func start(_ arguments: [String], in folder: URL) throws -> Process {
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.currentDirectoryURL = folder
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return process
  }

  func run(_ arguments: [String], in folder: URL) throws -> (status: Int32, stderr: String) {
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.currentDirectoryURL = folder
    let err = Pipe()
    process.standardOutput = FileHandle.nullDevice
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stderr, as: UTF8.self))
  }

  func folder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bbans-output-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  func contents(_ folder: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
  }

  /// 16 MiB of text-like bytes: zstd at level 19 takes seconds on it.
  func largeInput() -> Data {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    var bytes = [UInt8](repeating: 0, count: 16 << 20)
    for i in bytes.indices {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      bytes[i] = 97 + UInt8((state >> 59) % 16)
    }
    return Data(bytes)
  }

  @Test func sigtermDuringCompressionLeavesNoFileBehind() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("large.txt")
    let data = largeInput()
    try data.write(to: input)
    let process = try start(["compress", input.path, "--threads", "1"], in: folder)
    // Wait for the temporary file, then stop the compression while it works.
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline && process.isRunning {
      if try contents(folder).contains(where: { $0.hasSuffix("-tmp") }) { break }
      Thread.sleep(forTimeInterval: 0.01)
    }
    #expect(process.isRunning, "the compression ended before the test could stop it")
    #expect(try contents(folder).contains { $0.hasPrefix(".large.txt.bba.bbans-") && $0.hasSuffix("-tmp") })
    Thread.sleep(forTimeInterval: 0.2)
    process.terminate()  // SIGTERM
    process.waitUntilExit()
    #expect(process.terminationStatus == 128 + SIGTERM)
    #expect(try contents(folder) == ["large.txt"])
    #expect(try Data(contentsOf: input) == data)
  }

  @Test func verifyKeepsAnOutputThatDecompresses() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("a.txt")
    let text = Data(String(repeating: "verify me ", count: 300).utf8)
    try text.write(to: input)
    let result = try run(["compress", input.path, "--verify"], in: folder)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try contents(folder) == ["a.txt", "a.txt.bba"])
    try FileManager.default.removeItem(at: input)
    #expect(try run(["decompress", "a.txt.bba"], in: folder).status == 0)
    #expect(try Data(contentsOf: input) == text)
  }

  @Test func theInputIsKeptUnlessRmAndRemovedOnlyAfterSuccess() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("b.txt")
    try Data("keep or remove".utf8).write(to: input)
    #expect(try run(["compress", "b.txt", "-k"], in: folder).status == 0)
    #expect(try contents(folder) == ["b.txt", "b.txt.bba"])
    // A failing run with --rm (the output exists, no -f) keeps the input.
    let refused = try run(["compress", "b.txt", "--rm"], in: folder)
    #expect(refused.status != 0)
    #expect(try contents(folder) == ["b.txt", "b.txt.bba"])
    #expect(try run(["compress", "b.txt", "--rm", "-f"], in: folder).status == 0)
    #expect(try contents(folder) == ["b.txt.bba"])
    // Decompressing with --rm removes the container only after the original is in place.
    #expect(try run(["decompress", "b.txt.bba", "--rm"], in: folder).status == 0)
    #expect(try contents(folder) == ["b.txt"])
    #expect(try Data(contentsOf: input) == Data("keep or remove".utf8))
  }

  @Test func theInputCannotBeItsOwnOutput() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("c.bba")
    let text = Data("not mine to replace".utf8)
    try text.write(to: input)
    for arguments in [["compress", "c.bba", "-o", "c.bba", "-f"], ["decompress", "c.bba", "-o", "./c.bba", "-f"]] {
      let result = try run(arguments, in: folder)
      #expect(result.status != 0)
      #expect(result.stderr.contains("is both the input and the output"), "\(result.stderr)")
      #expect(try contents(folder) == ["c.bba"])
      #expect(try Data(contentsOf: input) == text)
    }
  }

  @Test func aFailedCompressionLeavesNoTemporaryFile() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    // A model of 8×8 images and a file of 4×4 images: the compressor refuses after the
    // temporary output was opened.
    let architecture = Architecture(
      height: 8, width: 8, encoderHidden: [8], decoderHidden: [8], latentCount: 2, bucketBits: 8, likelihood: .betaBinomial)
    try Data(VAE(randomWith: architecture, seed: 5, name: "wide").serialized()).write(to: folder.appendingPathComponent("wide.bbm"))
    let idx = Data([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 4] + (0..<32).map { UInt8($0) })
    try idx.write(to: folder.appendingPathComponent("small.idx"))
    let result = try run(["compress", "small.idx", "--model", "wide.bbm", "--rm"], in: folder)
    #expect(result.status != 0)
    #expect(result.stderr.contains("does not fit"), "\(result.stderr)")
    #expect(try contents(folder) == ["small.idx", "wide.bbm"])
    #expect(try Data(contentsOf: folder.appendingPathComponent("small.idx")) == idx)
  }

  @Test func aFailedDecompressionLeavesNoTemporaryFile() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let text = Data(String(repeating: "damage ", count: 200).utf8)
    try text.write(to: folder.appendingPathComponent("d.txt"))
    #expect(try run(["compress", "d.txt", "--rm"], in: folder).status == 0)
    let container = folder.appendingPathComponent("d.txt.bba")
    var bytes = try Data(contentsOf: container)
    bytes[bytes.count / 2] ^= 0x55
    try bytes.write(to: container)
    let result = try run(["decompress", "d.txt.bba", "--rm"], in: folder)
    #expect(result.status != 0)
    #expect(result.stderr.hasPrefix("bbans: error: "))
    #expect(try contents(folder) == ["d.txt.bba"], "the damaged input stays, nothing else appears")
  }
}
