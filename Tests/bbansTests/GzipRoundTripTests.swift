import BitsBack
import Container
import Dispatch
import Foundation
import Model
import Testing
import TestSupport

/// Never lose a file, tried with the files people have: over a thousand gzip files made by
/// GNU gzip at every level (with and without -n) and by zlib at every level, the fixtures, and
/// the official dataset files where they are installed. Each comes back byte for byte through
/// the command line, and each GNU gzip or zlib one is coded with the model.
@Suite(.serialized) struct GzipRoundTripTests {
  let cli = CLITests()

  /// Runs `body` on `count` items, four processes at a time.
  func inParallel(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
    let failures = FailureList()
    let queue = DispatchQueue(label: "gzip-round-trips", attributes: .concurrent)
    let group = DispatchGroup()
    let slots = DispatchSemaphore(value: 4)
    for index in 0..<count {
      slots.wait()
      queue.async(group: group) {
        defer { slots.signal() }
        do { try body(index) } catch { failures.add("\(index): \(error)") }
      }
    }
    group.wait()
    #expect(failures.all.isEmpty, "\(failures.all.prefix(10))")
  }

  final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ text: String) { lock.lock(); list.append(text); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return list }
  }

  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  /// gzip's output for `file` (by path, so that without -n the name and time are stored).
  static func gnuGzip(_ file: URL, arguments: [String]) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
    process.arguments = arguments + ["-c", file.path]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw Failure(description: "gzip \(arguments) failed") }
    return data
  }

  /// Compresses `file` and decompresses the result through the CLI; the original must come
  /// back. Returns the container's header.
  func roundTrip(_ file: URL, folder: URL, model: URL?) throws -> ContainerHeader {
    let archive = folder.appendingPathComponent(file.lastPathComponent + ".bba")
    let back = folder.appendingPathComponent(file.lastPathComponent + ".back")
    let modelArguments = model.map { ["--model", $0.path] } ?? []
    let compress = try cli.run(["compress", file.path, "-o", archive.path, "--threads", "1"] + modelArguments, in: folder)
    guard compress.status == 0 else { throw Failure(description: "compress \(file.lastPathComponent): \(compress.stderr)") }
    let decompress = try cli.run(["decompress", archive.path, "-o", back.path, "--threads", "1"] + modelArguments, in: folder)
    guard decompress.status == 0 else { throw Failure(description: "decompress \(file.lastPathComponent): \(decompress.stderr)") }
    guard try Data(contentsOf: back) == Data(contentsOf: file) else {
      throw Failure(description: "\(file.lastPathComponent) did not come back byte for byte")
    }
    let header = try ContainerReader.inspect([UInt8](Data(contentsOf: archive))).header
    try? FileManager.default.removeItem(at: archive)
    try? FileManager.default.removeItem(at: back)
    return header
  }

  /// Image contents of several kinds: blobs, noise, sparse strokes, constant, 1 to 60 images.
  static func contents(_ count: Int) -> [[UInt8]] {
    var generator = TestSupport.SeededGenerator(seed: 77)
    return (0..<count).map { index in
      let images = Int.random(in: 1...60, using: &generator)
      var pixels: [UInt8]
      switch index % 4 {
      case 0:
        pixels = (0..<(images * 64)).map { _ in UInt8.random(in: 0...40, using: &generator) }
      case 1:
        pixels = (0..<(images * 64)).map { _ in Int.random(in: 0..<5, using: &generator) == 0 ? UInt8.random(in: 0...255, using: &generator) : 0 }
      case 2:
        pixels = (0..<(images * 64)).map { i in UInt8((i % 64) * 4 % 256) }
      default:
        pixels = [UInt8](repeating: UInt8(index % 256), count: images * 64)
      }
      let be32 = { (v: Int) -> [UInt8] in [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
      return [0, 0, 8, 3] + be32(images) + be32(8) + be32(8) + pixels
    }
  }

  @Test func aThousandGzipFilesComeBackAndAreCodedWithTheModel() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gzip") else { return }
    let folder = try cli.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (model, _, _) = try cli.fixtures(in: folder)
    let contents = Self.contents(36)
    // 36 contents × (GNU gzip -1 … -9, with and without -n, and zlib 0 … 9) = 1,008 files.
    var files: [(URL, String)] = []
    for (index, content) in contents.enumerated() {
      let plain = folder.appendingPathComponent("images-\(index).idx")
      try Data(content).write(to: plain)
      for level in 1...9 {
        for name in [true, false] {
          let gz = folder.appendingPathComponent("images-\(index)-gnu\(level)\(name ? "" : "n").idx.gz")
          try Self.gnuGzip(plain, arguments: ["-\(level)"] + (name ? [] : ["-n"])).write(to: gz)
          files.append((gz, "gzip -\(level)\(name ? "" : " -n")"))
        }
      }
      for level in 0...9 {
        let gz = folder.appendingPathComponent("images-\(index)-zlib\(level).idx.gz")
        try Data(try Gzip.wrap(content, level: level)).write(to: gz)
        files.append((gz, "zlib \(level)"))
      }
    }
    #expect(files.count >= 1000)
    let list = files
    try inParallel(list.count) { index in
      let (file, maker) = list[index]
      let header = try self.roundTrip(file, folder: folder, model: model)
      guard header.modelName == "tiny" else {
        throw Failure(description: "\(file.lastPathComponent) (\(maker)) went through zstd")
      }
    }
  }

  /// The fixtures, and the official files where they are installed: the original comes back;
  /// image files are coded with the built-in model.
  @Test func fixturesAndOfficialFilesComeBack() throws {
    let folder = try cli.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let testdata = URL(fileURLWithPath: ioTestdataFolder())
    var files: [(URL, Bool)] = []
    for name in try FileManager.default.contentsOfDirectory(atPath: testdata.path).sorted() where !name.hasSuffix(".md") {
      let url = testdata.appendingPathComponent(name)
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
        files.append((url, name.contains("idx")))
      }
    }
    for folderPath in ["/usr/share/datasets/fashion-mnist", testdata.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data/mnist").path] {
      for name in (try? FileManager.default.contentsOfDirectory(atPath: folderPath).sorted()) ?? [] where name.hasSuffix(".gz") {
        files.append((URL(fileURLWithPath: folderPath).appendingPathComponent(name), name.contains("images")))
      }
    }
    for (file, isImages) in files {
      let header = try roundTrip(file, folder: folder, model: nil)
      if isImages { #expect(!header.modelName.isEmpty, "\(file.path) went through zstd") }
    }
  }

  @Test func theSameFileGivesTheSameArchiveOnAnyNumberOfThreads() throws {
    let folder = try cli.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (model, idx, _) = try cli.fixtures(in: folder, count: 200)
    var archives: [Data] = []
    for threads in [1, 2, 8] {
      let out = folder.appendingPathComponent("t\(threads).bba")
      let run = try cli.run(["compress", idx.path, "-o", out.path, "--threads", "\(threads)", "--model", model.path], in: folder)
      #expect(run.status == 0, "\(run.stderr)")
      archives.append(try Data(contentsOf: out))
    }
    #expect(archives[0] == archives[1] && archives[1] == archives[2])
  }

  /// The worst bug found so far: `compress --rm` of a GNU gzip file removed the original and
  /// kept an archive that could not be decoded.
  @Test func compressRmOfAGNUGzipFileKeepsADecodableArchive() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gzip") else { return }
    let folder = try cli.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (model, idx, _) = try cli.fixtures(in: folder, count: 200)
    let gz = folder.appendingPathComponent("images.idx.gz")
    let original = try Self.gnuGzip(idx, arguments: ["-9"])
    try original.write(to: gz)
    let compress = try cli.run(["compress", "--rm", gz.path, "--model", model.path], in: folder)
    #expect(compress.status == 0, "\(compress.stderr)")
    #expect(!FileManager.default.fileExists(atPath: gz.path))
    let decompress = try cli.run(["decompress", gz.path + ".bba", "--model", model.path], in: folder)
    #expect(decompress.status == 0, "\(decompress.stderr)")
    #expect(try Data(contentsOf: gz) == original)
  }

  @Test func fifosDevNullAndStandardInputAreReadAsStreams() throws {
    let folder = try cli.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (model, idx, bytes) = try cli.fixtures(in: folder, count: 100)
    let reference = folder.appendingPathComponent("reference.bba")
    #expect(try cli.run(["compress", idx.path, "-o", reference.path, "--model", model.path], in: folder).status == 0)
    let fifo = folder.appendingPathComponent("images.fifo")
    #expect(mkfifo(fifo.path, 0o600) == 0)
    let writer = Thread {
      if let handle = FileHandle(forWritingAtPath: fifo.path) {
        handle.write(bytes)
        try? handle.close()
      }
    }
    writer.start()
    let fromFifo = folder.appendingPathComponent("fifo.bba")
    let run = try cli.run(["compress", fifo.path, "-o", fromFifo.path, "--model", model.path], in: folder)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(try Data(contentsOf: fromFifo) == Data(contentsOf: reference))
    let piped = try cli.run(["compress", "-", "--model", model.path], stdin: bytes, in: folder)
    let referenceBytes = try Data(contentsOf: reference)
    #expect(piped.status == 0 && piped.stdout == referenceBytes)
    let empty = folder.appendingPathComponent("null.bba")
    #expect(try cli.run(["compress", "/dev/null", "-o", empty.path], in: folder).status == 0)
    let back = folder.appendingPathComponent("null.out")
    #expect(try cli.run(["decompress", empty.path, "-o", back.path], in: folder).status == 0)
    #expect(try Data(contentsOf: back).isEmpty)
  }
}

extension GzipRoundTripTests {
  /// Standard input redirected from a file, already read up to some offset (as a shell's
  /// `{ head -c 16 >/dev/null; bbans compress -; } < file` leaves it): the input is what
  /// follows, on both passes.
  @Test func standardInputFromAFileStartsWhereItStands() throws {
    let folder = try cli.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (_, idx, bytes) = try cli.fixtures(in: folder, count: 20)
    let archive = folder.appendingPathComponent("rest.bba")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "{ head -c 16 >/dev/null; \"$0\" compress - > \"$1\"; } < \"$2\"", CLITests.binary.path, archive.path, idx.path]
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let back = try cli.run(["decompress", "-c", archive.path], in: folder)
    #expect(back.status == 0, "\(back.stderr)")
    #expect(back.stdout == bytes.dropFirst(16))
  }
}

extension GzipRoundTripTests {
  /// The archives that bbans of commit 743e125 wrote for GNU gzip files and could not decode:
  /// back to the original `.gz`, to a file and to standard output, the encoder found whether
  /// or not the header suggests it.
  @Test(arguments: ["fashion-mnist-100-gzip5.idx.gz", "fashion-mnist-100-gzip9.idx.gz"])
  func legacyArchivesOfGNUGzipFilesDecode(_ name: String) throws {
    let folder = try cli.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let legacy = URL(fileURLWithPath: ioTestdataFolder()).appendingPathComponent("golden/legacy")
    let original = try Data(contentsOf: legacy.appendingPathComponent(name))
    let archive = legacy.appendingPathComponent(name + ".bba").path
    let toFile = try cli.run(["decompress", archive, "-o", folder.appendingPathComponent(name).path], in: folder)
    #expect(toFile.status == 0, "\(toFile.stderr)")
    #expect(try Data(contentsOf: folder.appendingPathComponent(name)) == original)
    let toStdout = try cli.run(["-dc", archive], in: folder)
    #expect(toStdout.status == 0, "\(toStdout.stderr)")
    #expect(toStdout.stdout == original)
  }
}

/// The repository's testdata folder.
func ioTestdataFolder() -> String {
  URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("testdata").path
}
