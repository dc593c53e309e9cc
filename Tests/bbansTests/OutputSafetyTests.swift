#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Model
import Testing

/// The output is complete or absent: written to a temporary file beside the target and moved
/// into place only when done; nothing is left after an error or a signal; the input is never
/// touched (removed only with --rm, after success); an existing output needs -f, and a file that
/// appears at the output path during a run is never replaced without it. Devices and FIFOs are
/// written into, never replaced; directories are refused.
@Suite(.serialized) struct OutputSafetyTests {
  let binary = CLITests.binary

  func start(_ arguments: [String], in folder: URL, stderr: Any = FileHandle.nullDevice) throws -> Process {
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.currentDirectoryURL = folder
    process.standardOutput = FileHandle.nullDevice
    process.standardError = stderr
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return process
  }

  /// Runs bbans to its end; `stdout` is where its standard output goes (discarded by default).
  func run(_ arguments: [String], in folder: URL, stdout: Any = FileHandle.nullDevice) throws -> (status: Int32, stderr: String) {
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.currentDirectoryURL = folder
    let err = Pipe()
    process.standardOutput = stdout
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

  /// 16 MiB of text-like bytes (by default): zstd at level 19 takes seconds on it.
  func largeInput(count: Int = 16 << 20, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> Data {
    var state = seed
    var bytes = [UInt8](repeating: 0, count: count)
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

/// What stands at the output path: another run's output, a device, a FIFO, a link, a folder.
extension OutputSafetyTests {
  /// The file type of `path` itself (lstat), as S_IFREG, S_IFLNK, S_IFCHR, …
  func fileType(_ path: String) -> mode_t? {
    var info = stat()
    return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : nil
  }

  /// A small text file and its container, made once with an output that was free.
  func textAndContainer(in folder: URL) throws -> Data {
    try Data(String(repeating: "where does it go? ", count: 400).utf8).write(to: folder.appendingPathComponent("t.txt"))
    #expect(try run(["compress", "t.txt", "-o", "reference.bba"], in: folder).status == 0)
    return try Data(contentsOf: folder.appendingPathComponent("reference.bba"))
  }

  @Test func twoCompressionsToOneOutputLeaveExactlyOneWinner() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let inputs = [largeInput(count: 1 << 20, seed: 1), largeInput(count: 1 << 20, seed: 2)]
    try inputs[0].write(to: folder.appendingPathComponent("a.txt"))
    try inputs[1].write(to: folder.appendingPathComponent("b.txt"))
    let errors = [Pipe(), Pipe()]
    let processes = try ["a.txt", "b.txt"].indices.map { i in
      try start(["compress", ["a.txt", "b.txt"][i], "-o", "out.bba", "--threads", "1"], in: folder, stderr: errors[i])
    }
    // Both runs must have their temporary files at once, or the race was not run.
    var bothPending = false
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline && processes.allSatisfy(\.isRunning) && !bothPending {
      bothPending = try contents(folder).filter { $0.hasPrefix(".out.bba.bbans-") && $0.hasSuffix("-tmp") }.count == 2
      Thread.sleep(forTimeInterval: 0.005)
    }
    let stderr = processes.indices.map { i -> String in
      let text = errors[i].fileHandleForReading.readDataToEndOfFile()
      processes[i].waitUntilExit()
      return String(decoding: text, as: UTF8.self)
    }
    #expect(bothPending, "one run ended before the other had opened its output")
    let statuses = processes.map(\.terminationStatus)
    #expect(statuses.sorted() == [0, 1], "\(statuses) \(stderr)")
    guard let winner = statuses.firstIndex(of: 0), let loser = statuses.firstIndex(of: 1) else { return }
    #expect(stderr[loser] == "bbans: error: out.bba already exists; use -f to overwrite it\n")
    #expect(try contents(folder) == ["a.txt", "b.txt", "out.bba"])
    #expect(try run(["decompress", "out.bba", "-o", "back"], in: folder).status == 0)
    #expect(try Data(contentsOf: folder.appendingPathComponent("back")) == inputs[winner])
  }

  /// Starts compressing 1 MiB (a second of zstd -19) to out.bba, lets `intrude` put something
  /// at that path once the run has its temporary file, and waits for the run's end.
  func intrude(force: Bool, _ intrude: (String) throws -> Void) throws -> (folder: URL, input: Data, status: Int32, stderr: String) {
    let folder = try folder()
    let input = largeInput(count: 1 << 20, seed: 3)
    try input.write(to: folder.appendingPathComponent("in.txt"))
    let errors = Pipe()
    let process = try start(["compress", "in.txt", "-o", "out.bba", "--threads", "1"] + (force ? ["-f"] : []), in: folder, stderr: errors)
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline && process.isRunning {
      if try contents(folder).contains(where: { $0.hasPrefix(".out.bba.bbans-") }) { break }
      Thread.sleep(forTimeInterval: 0.002)
    }
    #expect(process.isRunning, "the compression ended before the test could intrude")
    try intrude(folder.appendingPathComponent("out.bba").path)
    let stderr = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (folder, input, process.terminationStatus, String(decoding: stderr, as: UTF8.self))
  }

  @Test func aFileOrLinkThatAppearsDuringTheRunIsKept() throws {
    let file = try intrude(force: false) { try Data("theirs".utf8).write(to: URL(fileURLWithPath: $0)) }
    defer { try? FileManager.default.removeItem(at: file.folder) }
    #expect(file.status == 1)
    #expect(file.stderr == "bbans: error: out.bba already exists; use -f to overwrite it\n")
    #expect(try Data(contentsOf: file.folder.appendingPathComponent("out.bba")) == Data("theirs".utf8))
    #expect(try contents(file.folder) == ["in.txt", "out.bba"])

    let link = try intrude(force: false) { try FileManager.default.createSymbolicLink(atPath: $0, withDestinationPath: "nowhere") }
    defer { try? FileManager.default.removeItem(at: link.folder) }
    #expect(link.status == 1)
    #expect(link.stderr == "bbans: error: out.bba already exists; use -f to overwrite it\n")
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.folder.appendingPathComponent("out.bba").path) == "nowhere")
    #expect(try contents(link.folder) == ["in.txt", "out.bba"])
  }

  @Test func withForceAFileThatAppearsDuringTheRunIsReplaced() throws {
    let run = try intrude(force: true) { try Data("theirs".utf8).write(to: URL(fileURLWithPath: $0)) }
    defer { try? FileManager.default.removeItem(at: run.folder) }
    #expect(run.status == 0, "\(run.stderr)")
    #expect(try contents(run.folder) == ["in.txt", "out.bba"])
    #expect(try self.run(["decompress", "out.bba", "-o", "back"], in: run.folder).status == 0)
    #expect(try Data(contentsOf: run.folder.appendingPathComponent("back")) == run.input)
  }

  @Test func forceReplacesARegularFileByRenaming() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let container = try textAndContainer(in: folder)
    let output = folder.appendingPathComponent("out.bba")
    try Data("old".utf8).write(to: output)
    // A second name of the old file: replaced by rename, it keeps the old bytes (written in
    // place, it would show the new ones).
    try FileManager.default.linkItem(at: output, to: folder.appendingPathComponent("old"))
    #expect(try run(["compress", "t.txt", "-o", "out.bba"], in: folder).status == 1)
    #expect(try run(["compress", "t.txt", "-o", "out.bba", "-f"], in: folder).status == 0)
    #expect(try Data(contentsOf: output) == container)
    #expect(try Data(contentsOf: folder.appendingPathComponent("old")) == Data("old".utf8))
    #expect(try contents(folder) == ["old", "out.bba", "reference.bba", "t.txt"])
  }

  @Test func devNullIsWrittenIntoAndStaysACharacterDevice() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    _ = try textAndContainer(in: folder)
    for arguments in [["compress", "t.txt", "-o", "/dev/null"], ["compress", "t.txt", "-o", "/dev/null", "-f"],
                      ["decompress", "reference.bba", "-o", "/dev/null", "-f"]] {
      let result = try run(arguments, in: folder)
      #expect(result.status == 0, "\(arguments): \(result.stderr)")
      #expect(fileType("/dev/null") == S_IFCHR, "\(arguments) (run as uid \(getuid()))")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: "/dev").filter { $0.contains("bbans") } == [])
    #expect(try contents(folder) == ["reference.bba", "t.txt"])
  }

  @Test func aFIFOIsWrittenIntoAndStaysAFIFO() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let container = try textAndContainer(in: folder)
    let fifo = folder.appendingPathComponent("pipe.bba").path
    #expect(mkfifo(fifo, 0o600) == 0)
    final class Received: @unchecked Sendable { var bytes = Data() }
    for force in [[], ["-f"]] {
      let received = Received()
      let done = DispatchSemaphore(value: 0)
      Thread.detachNewThread {
        // Opening for reading waits for the writer, as the writer's open waits for a reader.
        if let reader = FileHandle(forReadingAtPath: fifo) { received.bytes = reader.readDataToEndOfFile() }
        done.signal()
      }
      let result = try run(["compress", "t.txt", "-o", "pipe.bba"] + force, in: folder)
      // Should bbans not have opened the FIFO, a writer's open that does not wait frees the reader.
      let writer = open(fifo, O_WRONLY | O_NONBLOCK)
      if writer >= 0 { close(writer) }
      #expect(done.wait(timeout: .now() + 20) == .success)
      #expect(result.status == 0, "\(force): \(result.stderr)")
      #expect(received.bytes == container, "\(force)")
      #expect(fileType(fifo) == S_IFIFO)
    }
    #expect(try contents(folder) == ["pipe.bba", "reference.bba", "t.txt"])
  }

  @Test func symbolicLinksAreExistingOutputsThatForceReplaces() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let container = try textAndContainer(in: folder)
    let manager = FileManager.default
    try Data("target".utf8).write(to: folder.appendingPathComponent("target"))
    for (link, destination) in [("dangling.bba", "nowhere"), ("live.bba", "target"), ("loop.bba", "loop.bba")] {
      let path = folder.appendingPathComponent(link).path
      try manager.createSymbolicLink(atPath: path, withDestinationPath: destination)
      // Without -f, even a link that leads nowhere (or to itself) is an output that exists.
      let refused = try run(["compress", "t.txt", "-o", link], in: folder)
      #expect(refused.status == 1)
      #expect(refused.stderr == "bbans: error: \(link) already exists; use -f to overwrite it\n")
      #expect(try manager.destinationOfSymbolicLink(atPath: path) == destination)
      // With -f the link itself is replaced by the new file, as gzip -f and zstd -f do; what it
      // led to stays as it was (or absent).
      let forced = try run(["compress", "t.txt", "-o", link, "-f"], in: folder)
      #expect(forced.status == 0, "\(forced.stderr)")
      #expect(fileType(path) == S_IFREG)
      #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == container)
    }
    #expect(try Data(contentsOf: folder.appendingPathComponent("target")) == Data("target".utf8))
    #expect(try contents(folder) == ["dangling.bba", "live.bba", "loop.bba", "reference.bba", "t.txt", "target"])
  }

  @Test func linksToStandardOutputAreWrittenIntoNotReplaced() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let container = try textAndContainer(in: folder)
    // /dev/stdout on a pipe: the pipe gets the bytes.
    let pipe = Pipe()
    let process = Process()
    process.executableURL = binary
    process.arguments = ["compress", "t.txt", "-o", "/dev/stdout"]
    process.currentDirectoryURL = folder
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let piped = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    #expect(piped == container)
    // A link of our own through /proc/self/fd, as /dev/stdout is, while standard output is a
    // file: the file gets the bytes (rename would have replaced the link), with -f or without.
    let link = folder.appendingPathComponent("stdout.bba").path
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/proc/self/fd/1")
    for force in [[], ["-f"]] {
      let file = folder.appendingPathComponent("redirected")
      try Data().write(to: file)
      let handle = try FileHandle(forWritingTo: file)
      let result = try run(["compress", "t.txt", "-o", "stdout.bba"] + force, in: folder, stdout: handle)
      try handle.close()
      #expect(result.status == 0, "\(force): \(result.stderr)")
      #expect(try Data(contentsOf: file) == container, "\(force)")
      #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "/proc/self/fd/1")
    }
    #expect(try contents(folder) == ["redirected", "reference.bba", "stdout.bba", "t.txt"])
  }

  @Test func aDirectoryIsNeverAnOutput() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    _ = try textAndContainer(in: folder)
    try FileManager.default.createDirectory(at: folder.appendingPathComponent("dir.bba"), withIntermediateDirectories: false)
    try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("link.bba").path, withDestinationPath: "dir.bba")
    for (name, reason) in [("dir.bba", "it is a directory"), ("link.bba", "it is a link to a directory")] {
      for force in [[], ["-f"]] {
        let result = try run(["compress", "t.txt", "-o", name] + force, in: folder)
        #expect(result.status == 1)
        #expect(result.stderr == "bbans: error: cannot write \(name): \(reason)\n")
      }
    }
    #expect(fileType(folder.appendingPathComponent("dir.bba").path) == S_IFDIR)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("dir.bba").path) == [])
    #expect(try contents(folder) == ["dir.bba", "link.bba", "reference.bba", "t.txt"])
  }
}
