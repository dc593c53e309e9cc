// The command line as people who know zstd and gzip expect it (issue 15): several inputs in
// one command, -c, -d, -q, -v, -T, --version, '-' for standard input, a quiet end on a closed
// pipe, errors in one format, and summaries and notes that say what was done.

import BitsBack
import Container
import Foundation
import Testing

extension CLITests {
  /// Runs a line of /bin/sh in `folder`, with `$BBANS` set to the binary.
  func shell(_ line: String, in folder: URL) throws -> Run {
    try runProgram(URL(fileURLWithPath: "/bin/sh"), ["-c", line], in: folder)
  }

  func runProgram(_ program: URL, _ arguments: [String], in folder: URL) throws -> Run {
    let process = Process()
    process.executableURL = program
    process.arguments = arguments
    process.currentDirectoryURL = folder
    var environment = ProcessInfo.processInfo.environment
    environment["BBANS"] = Self.binary.path
    process.environment = environment
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    let stderrData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(status: process.terminationStatus, stdout: stdoutData, stderr: String(decoding: stderrData, as: UTF8.self))
  }

  /// Two text files, a.txt and b.txt, of different contents.
  func textFiles(in folder: URL) throws -> (a: Data, b: Data) {
    let a = Data((1...2000).map { "line \($0)\n" }.joined().utf8)
    let b = Data((1...1500).map { "another \($0 * 7)\n" }.joined().utf8)
    try a.write(to: folder.appendingPathComponent("a.txt"))
    try b.write(to: folder.appendingPathComponent("b.txt"))
    return (a, b)
  }

  func lines(_ text: String) -> [String] {
    text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
  }

  func exists(_ name: String, in folder: URL) -> Bool {
    FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path)
  }

  @Test func severalInputsEachToItsOwnOutputAndAFailureDoesNotStopTheOthers() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (a, b) = try textFiles(in: folder)
    let compressed = try run(["compress", "a.txt", "missing.txt", "b.txt"], in: folder)
    #expect(compressed.status == 1)
    #expect(lines(compressed.stderr).count == 1 && compressed.stderr.hasPrefix("bbans: error: ")
              && compressed.stderr.contains("missing.txt"), "\(compressed.stderr)")
    #expect(exists("a.txt.bba", in: folder) && exists("b.txt.bba", in: folder))
    #expect(!exists("missing.txt.bba", in: folder))

    try FileManager.default.removeItem(at: folder.appendingPathComponent("a.txt"))
    try FileManager.default.removeItem(at: folder.appendingPathComponent("b.txt"))
    let back = try run(["decompress", "a.txt.bba", "b.txt.bba"], in: folder)
    #expect(back.status == 0, "\(back.stderr)")
    #expect(try Data(contentsOf: folder.appendingPathComponent("a.txt")) == a)
    #expect(try Data(contentsOf: folder.appendingPathComponent("b.txt")) == b)

    // With -c the outputs follow one another on standard output, as `zstd -dc` does.
    let both = try run(["-dc", "a.txt.bba", "b.txt.bba"], in: folder)
    #expect(both.status == 0, "\(both.stderr)")
    #expect(both.stdout == a + b)
  }

  @Test func oneOutputForSeveralInputsIsAnArgumentError() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    _ = try textFiles(in: folder)
    try expectRefusal(["compress", "a.txt", "b.txt", "-o", "out.bba"],
                      ["bbans: error: -o names one output, and 2 inputs are given", "see 'bbans compress --help'"], in: folder)
    try expectRefusal(["-d", "a.bba", "b.bba", "-o", "out"],
                      ["bbans: error: -o names one output, and 2 inputs are given", "see 'bbans decompress --help'"], in: folder)
    try expectRefusal(["compress", "a.txt", "-c", "-o", "out.bba"], ["bbans: error: -c and -o out.bba contradict each other"], in: folder)
    try expectRefusal(["a.txt", "--no-such-option"], ["bbans: error: Unknown option '--no-such-option'", "see 'bbans compress --help'"],
                      in: folder)
    try expectRefusal(["a.txt", "-T0"], ["bbans: error: --threads must be in 1...1024 (got 0)"], in: folder)
    try expectRefusal(["a.txt", "-q", "-v"], ["bbans: error: -q and -v contradict each other"], in: folder)
  }

  @Test func standardOutputWithDashCAndStandardInputWithDash() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (a, _) = try textFiles(in: folder)
    let compressed = try run(["compress", "-c", "a.txt"], in: folder)
    #expect(compressed.status == 0, "\(compressed.stderr)")
    #expect(!compressed.stdout.isEmpty)
    #expect(!exists("a.txt.bba", in: folder), "-c writes no file")
    let fromStandardInput = try run(["-d", "-", "--stdout"], stdin: compressed.stdout, in: folder)
    #expect(fromStandardInput.status == 0, "\(fromStandardInput.stderr)")
    #expect(fromStandardInput.stdout == a)
    // No input at all reads standard input, as zstd does when it is not a terminal.
    let noInput = try run(["decompress"], stdin: compressed.stdout, in: folder)
    #expect(noInput.stdout == a, "\(noInput.stderr)")
  }

  @Test func dashDDecompressesAndAPlainFileCompresses() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (model, idx, bytes) = try fixtures(in: folder)
    let compressed = try run([idx.lastPathComponent, "--model", model.path, "-T2"], in: folder)
    #expect(compressed.status == 0, "\(compressed.stderr)")
    #expect(exists("images.idx.bba", in: folder))
    let refused = try run(["-d", "images.idx.bba", "--model", model.path], in: folder)
    #expect(refused.status == 1 && refused.stderr.contains("already exists"), "the original is there: \(refused.stderr)")
    let forced = try run(["-df", "images.idx.bba", "--model", model.path, "-T", "2"], in: folder)
    #expect(forced.status == 0, "\(forced.stderr)")
    #expect(try Data(contentsOf: idx) == bytes)
    let threads = try run(["decompress", "images.idx.bba", "--model", model.path, "--threads", "2", "-c"], in: folder)
    #expect(threads.status == 0 && threads.stdout == bytes, "\(threads.stderr)")
  }

  @Test func quietSaysNothingAndVerboseSaysWhatWasDone() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (_, b) = try textFiles(in: folder)
    // Standard error is a pipe here: no progress, no summary unless -v.
    let plain = try run(["compress", "a.txt"], in: folder)
    #expect(plain.status == 0 && plain.stderr.isEmpty, "\(plain.stderr)")
    let verbose = try run(["compress", "b.txt", "-v"], in: folder)
    #expect(verbose.status == 0, "\(verbose.stderr)")
    let summary = lines(verbose.stderr)
    #expect(summary.count == 1 && summary[0].hasPrefix("bbans: b.txt → b.txt.bba: \(b.count) → ") && summary[0].contains(" bytes ("),
            "\(verbose.stderr)")
    #expect(summary.first?.contains(", zstd, ") == true, "text goes through zstd, and the summary says so: \(verbose.stderr)")
    #expect(!verbose.stderr.contains("\r") && !verbose.stderr.contains("model"))

    try FileManager.default.removeItem(at: folder.appendingPathComponent("b.txt"))
    let back = try run(["-d", "b.txt.bba", "-v"], in: folder)
    #expect(back.status == 0)
    #expect(lines(back.stderr).count == 1 && back.stderr.hasPrefix("bbans: b.txt.bba → b.txt: ") && back.stderr.contains(" bytes (zstd), "),
            "\(back.stderr)")

    // A note (no model for this shape) is shown, and -q hides it.
    var small: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 20, 0, 0, 0, 32, 0, 0, 0, 32]
    small += (0..<(20 * 1024)).map { UInt8(truncatingIfNeeded: $0 * 37 % 251) }
    try Data(small).write(to: folder.appendingPathComponent("small.idx"))
    let noted = try run(["small.idx"], in: folder)
    #expect(noted.status == 0 && noted.stderr == "bbans: no built-in model for 32×32×1 images; train one with bbans train\n",
            "\(noted.stderr)")
    let quiet = try run(["small.idx", "-qf"], in: folder)
    #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
    // Errors are said even with -q.
    let failed = try run(["missing", "-q"], in: folder)
    #expect(failed.status == 1 && failed.stderr.hasPrefix("bbans: error: "))
  }

  /// testdata/fashion-mnist-100-idx3-ubyte: 100 Fashion-MNIST test images, which the built-in
  /// model codes with bits-back.
  static let fashion: Data = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("testdata/fashion-mnist-100-idx3-ubyte")
    return (try? Data(contentsOf: url)) ?? Data()
  }()

  @Test func theSummaryNamesTheModelOnlyWhenItCodedTheData() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try Self.fashion.write(to: folder.appendingPathComponent("fashion.idx"))
    let coded = try run(["fashion.idx", "-v", "--chunk", "50"], in: folder)
    #expect(coded.status == 0)
    #expect(coded.stderr.contains(" bits/dim, model fashion-mnist, "), "\(coded.stderr)")
    let back = try run(["-dc", "fashion.idx.bba", "-v"], in: folder)
    #expect(back.stdout == Self.fashion)
    #expect(back.stderr.contains(": 78416 bytes, 100 images with model fashion-mnist, "), "\(back.stderr)")

    // Half the images blank: the second chunk is smaller through zstd, and the summary says so.
    var half = Self.fashion.prefix(16 + 50 * 784)
    half += Data(count: 50 * 784)
    try half.write(to: folder.appendingPathComponent("half.idx"))
    let partly = try run(["half.idx", "-v", "--chunk", "50"], in: folder)
    #expect(partly.stderr.contains(", model fashion-mnist on 1 of 2 chunks (50 of 100 images), zstd on the rest, "),
            "\(partly.stderr)")
    let partlyBack = try run(["-dc", "half.idx.bba", "-v"], in: folder)
    #expect(partlyBack.stdout == half)
    #expect(partlyBack.stderr.contains(": 78416 bytes, 100 images, with model fashion-mnist on 1 of 2 chunks, "), "\(partlyBack.stderr)")

    // Random images that the random tiny model codes worse than zstd: "zstd", and the model tried.
    let (model, idx, _) = try fixtures(in: folder)
    let fallback = try run(["compress", idx.path, "--model", model.path, "-v"], in: folder)
    #expect(fallback.status == 0)
    #expect(fallback.stderr.contains(", zstd (model tiny coded no chunk smaller), "), "\(fallback.stderr)")
    let fallbackBack = try run(["-dc", "images.idx.bba", "--model", model.path, "-v"], in: folder)
    #expect(fallbackBack.stderr.contains(": 3216 bytes, 50 images (zstd), "), "\(fallbackBack.stderr)")
  }

  @Test func notesForDataNoModelTakes() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    var flat: [UInt8] = [0, 0, 8, 2, 0, 0, 0, 10, 0, 0, 3, 16]  // (10, 784)
    flat += (0..<(10 * 784)).map { UInt8(truncatingIfNeeded: $0 * 13 % 256) }
    try Data(flat).write(to: folder.appendingPathComponent("flat.idx"))
    let flatRun = try run(["flat.idx"], in: folder)
    #expect(flatRun.stderr == "bbans: an (N, 784) array: reshape to (N, 28, 28) to use model mnist\n", "\(flatRun.stderr)")

    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 28, 28), }"
    header += String(repeating: " ", count: 117 - header.count) + "\n"
    var npy: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
    npy += [UInt8](repeating: 0, count: 2 * 784 * 4)
    try Data(npy).write(to: folder.appendingPathComponent("float.npy"))
    let floatRun = try run(["float.npy", "-v"], in: folder)
    #expect(lines(floatRun.stderr).first == "bbans: float32 data: bbans models uint8 images; stored with zstd", "\(floatRun.stderr)")
    #expect(floatRun.stderr.contains(", zstd, "))
  }

  @Test func versionAndHelp() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let version = try run(["--version"], in: folder)
    #expect(version.status == 0 && String(decoding: version.stdout, as: UTF8.self) == "bbans \(BBANSVersion.expected)\n")
    let root = String(decoding: try run(["--help"], in: folder).stdout, as: UTF8.self)
    #expect(root.contains("bbans -d [<options>] <file> ..."), "\(root)")
    for command in ["compress", "decompress"] {
      let help = try run([command, "--help"], in: folder)
      let text = String(decoding: help.stdout, as: UTF8.self)
      #expect(help.status == 0)
      for option in ["-c, --stdout", "-T, --threads <threads>", "-q, --quiet", "-v, --verbose", "-o, --output <output>", "<inputs> ..."] {
        #expect(text.contains(option), "\(command) --help lacks \(option)")
      }
    }
  }

  /// On a terminal (util-linux's `script` gives one, where it is installed): a bar that moves
  /// with the images, then the summary; with -q, nothing.
  @Test func aTerminalGetsAProgressBarAndASummary() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    // No terminal to be had (no /dev/ptmx in a sandbox): nothing to test.
    guard try shell("script -qec true /dev/null", in: folder).status == 0 else { return }
    try Self.fashion.write(to: folder.appendingPathComponent("fashion.idx"))
    let shown = try shell("script -qec '\"$BBANS\" fashion.idx --chunk 50 -T1' /dev/null", in: folder)
    let text = String(decoding: shown.stdout, as: UTF8.self)
    #expect(shown.status == 0, "\(text)")
    #expect(text.contains("\rcompressing fashion.idx ["), "\(text)")
    #expect(text.contains("bbans: fashion.idx → fashion.idx.bba: 78416 → "), "\(text)")
    let quiet = try shell("script -qec '\"$BBANS\" -d fashion.idx.bba -c -q >/dev/null' /dev/null", in: folder)
    #expect(quiet.status == 0 && quiet.stdout.isEmpty, "\(String(decoding: quiet.stdout, as: UTF8.self))")
  }

  /// `bbans -c FILE | head -c 10`: bbans ends without a word, with status 141, and leaves
  /// no temporary file.
  @Test func aClosedPipeEndsQuietly() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    var generator = SystemRandomNumberGenerator()
    // Incompressible, and more than a pipe holds: bbans is still writing when head has gone.
    let noise = Data((0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) })
    try noise.write(to: folder.appendingPathComponent("noise.bin"))
    let result = try shell("{ \"$BBANS\" compress -c noise.bin 2>err; echo $? >status; } | head -c 10 >/dev/null", in: folder)
    #expect(result.status == 0)
    let status = String(decoding: try Data(contentsOf: folder.appendingPathComponent("status")), as: UTF8.self)
    #expect(status == "141\n")
    #expect(try Data(contentsOf: folder.appendingPathComponent("err")).isEmpty)
    let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    #expect(left == ["err", "noise.bin", "status"])
  }

  /// A FIFO is read as a stream (read twice through a temporary copy).
  @Test func aFIFOInputIsCompressed() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (model, _, bytes) = try fixtures(in: folder)
    let result = try shell("mkfifo pipe && { cat images.idx >pipe & } && \"$BBANS\" compress pipe -o pipe.bba --model \(model.path) -v; s=$?; wait; exit $s",
                           in: folder)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("model tiny"), "\(result.stderr)")
    let back = try run(["-dc", "pipe.bba", "--model", model.path], in: folder)
    #expect(back.stdout == bytes)
  }

  /// Progress inside the chunks changes nothing in the coded bytes, and counts every image.
  @Test func imageProgressLeavesTheBytesAlone() throws {
    let bytes = [UInt8](Self.fashion)
    var options = CompressionOptions()
    options.model = .model(try ModelRegistry.model(namedOrPath: "fashion-mnist"))
    options.chunkImageCount = 50
    options.laneCount = 2
    let plain = try Compressor.compress(bytes, options: options)
    let counter = Counter()
    options.imageProgress = { counter.add($0) }
    let watched = try Compressor.compress(bytes, options: options)
    #expect(watched == plain)
    #expect(counter.value == 100)
    let decoded = Counter()
    var back: [UInt8] = []
    let report = try Decompressor.decompress(source: MemoryByteSource(watched), imageProgress: { decoded.add($0) }) {
      back.append(contentsOf: $0)
    }
    #expect(back == bytes)
    #expect(report.modelName == "fashion-mnist")
    #expect(decoded.value == 100)
  }
}

/// The version `bbans --version` prints.
enum BBANSVersion {
  static let expected = "0.1.0"
}

/// A count that several threads add to.
final class Counter: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0
  func add(_ n: Int) {
    lock.lock()
    count += n
    lock.unlock()
  }
  var value: Int {
    lock.lock()
    defer { lock.unlock() }
    return count
  }
}
