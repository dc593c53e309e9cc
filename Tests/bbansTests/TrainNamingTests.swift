import Foundation
import Model
import Testing

/// `bbans train`'s model names, its default thread count and its progress line: a trained
/// model never takes a built-in model's name, and an archive made with a weights file names
/// the file that decompressing it needs.
@Suite(.serialized) struct TrainNamingTests {
  let cli = CLITests()

  /// The smallest training run: one epoch of a tiny network over the fixtures' 50 images.
  func train(_ idx: URL, _ arguments: [String], in folder: URL) throws -> CLITests.Run {
    try cli.run(["train", idx.path] + arguments + ["--hidden", "8", "--latents", "2", "--epochs", "1", "--threads", "1"], in: folder)
  }

  func files(in folder: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
  }

  @Test func aBuiltinModelsNameIsRefused() throws {
    let folder = try cli.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (_, idx, _) = try cli.fixtures(in: folder)
    let before = try files(in: folder)
    for (arguments, name) in [(["-o", "mnist.bbm"], "mnist"), (["-o", "mine.bbm", "--name", "mnist-binary"], "mnist-binary")] {
      let result = try train(idx, arguments, in: folder)
      #expect(result.status == 1)
      #expect(result.stderr.hasPrefix("bbans: error: the model's name '\(name)' ") && result.stderr.contains("built-in model"), "\(result.stderr)")
      #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
      #expect(result.stdout.isEmpty, "refused before any training")
      #expect(try files(in: folder) == before, "nothing written")
    }
  }

  @Test func theNameComesFromNameOrTheFile() throws {
    let folder = try cli.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (_, idx, _) = try cli.fixtures(in: folder)
    let plain = try train(idx, ["-o", "mine.bbm"], in: folder)
    #expect(plain.status == 0, "\(plain.stderr)")
    #expect(try VAE(contentsOf: [UInt8](Data(contentsOf: folder.appendingPathComponent("mine.bbm")))).name == "mine")
    let named = try train(idx, ["-o", "other.bbm", "--name", "digits"], in: folder)
    #expect(named.status == 0, "\(named.stderr)")
    #expect(try VAE(contentsOf: [UInt8](Data(contentsOf: folder.appendingPathComponent("other.bbm")))).name == "digits")

    // The archive records the weights file's name, and decompressing without it says which file.
    let compress = try cli.run(["compress", idx.path, "--model", "mine.bbm", "-o", "images.bba"], in: folder)
    #expect(compress.status == 0, "\(compress.stderr)")
    let info = try cli.run(["info", "images.bba"], in: folder)
    let infoText = String(decoding: info.stdout, as: UTF8.self)
    #expect(infoText.contains("model:       mine (hash"), "\(infoText)")
    let missing = try cli.run(["decompress", "images.bba", "-o", "back.idx"], in: folder)
    // A one-epoch model on noise may code no chunk smaller than zstd; such an archive decodes
    // without the model. One with a bits-back chunk needs it, and says which file.
    if infoText.contains("bits-back") {
      #expect(missing.status == 1)
      #expect(missing.stderr.hasPrefix("bbans: error: the file was compressed with the model 'mine' "), "\(missing.stderr)")
      #expect(missing.stderr.contains("pass its weights file (mine.bbm"), "\(missing.stderr)")
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("back.idx").path))
    } else {
      #expect(missing.status == 0, "\(missing.stderr)")
    }
  }

  /// A weights file under a built-in model's name (here allowed with --builtin-name, as
  /// scripts/train-models.sh does; or an older file, or a renamed one) is named by its whole
  /// file name in archives, so that decompressing never looks for the built-in model.
  @Test func aFileUnderABuiltinNameIsKeptApart() throws {
    let folder = try cli.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (_, idx, bytes) = try cli.fixtures(in: folder)
    let trained = try train(idx, ["-o", "mnist.bbm", "--builtin-name"], in: folder)
    #expect(trained.status == 0, "\(trained.stderr)")
    #expect(try VAE(contentsOf: [UInt8](Data(contentsOf: folder.appendingPathComponent("mnist.bbm")))).name == "mnist")
    let compress = try cli.run(["compress", idx.path, "--model", "mnist.bbm", "-o", "images.bba"], in: folder)
    #expect(compress.status == 0, "\(compress.stderr)")
    let info = try cli.run(["info", "images.bba"], in: folder)
    let infoText = String(decoding: info.stdout, as: UTF8.self)
    #expect(infoText.contains("model:       mnist.bbm (hash"), "\(infoText)")
    if infoText.contains("bits-back") {
      let missing = try cli.run(["decompress", "images.bba", "-o", "back.idx"], in: folder)
      #expect(missing.status == 1)
      #expect(missing.stderr.contains("the model 'mnist.bbm'") && missing.stderr.contains("pass its weights file (mnist.bbm,"), "\(missing.stderr)")
    }
    let back = try cli.run(["decompress", "images.bba", "-o", "back.idx", "--model", "mnist.bbm"], in: folder)
    #expect(back.status == 0, "\(back.stderr)")
    #expect(try Data(contentsOf: folder.appendingPathComponent("back.idx")) == bytes)
  }

  @Test func threadsDefaultToTheCores() throws {
    let folder = try cli.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (_, idx, _) = try cli.fixtures(in: folder)
    let result = try cli.run(["train", idx.path, "-o", "a.bbm", "--hidden", "8", "--latents", "2", "--epochs", "1"], in: folder)
    #expect(result.status == 0, "\(result.stderr)")
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let first = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").first ?? ""
    #expect(first.hasSuffix(", \(cores) threads"), "\(first)")
    #expect(result.stderr.isEmpty, "no progress line when stderr is not a terminal: \(result.stderr)")
    let help = try cli.run(["train", "--help"], in: folder)
    let text = String(decoding: help.stdout, as: UTF8.self).split(whereSeparator: \.isWhitespace).joined(separator: " ")
    #expect(text.contains("default: the machine's cores, \(cores) here"), "\(text)")
    #expect(text.contains("The thread count changes the weights"), "\(text)")
  }

  /// On a terminal (script(1) gives it one), the progress line shows the epoch, the loss so far
  /// and the time left.
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
  func progressOnATerminal() throws {
    let folder = try cli.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (_, idx, _) = try cli.fixtures(in: folder)
    let command = [CLITests.binary.path, "train", idx.path, "-o", "a.bbm", "--hidden", "8", "--latents", "2", "--epochs", "2",
                   "--batch-size", "5", "--threads", "1"].map { "'\($0)'" }.joined(separator: " ")
    // script(1) runs the command on a new terminal and copies what it shows to its stdout.
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    process.arguments = ["-qefc", command, "/dev/null"]
    process.currentDirectoryURL = folder
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let screen = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "\(screen)")
    #expect(screen.contains("epoch 1/2 ["), "\(screen)")
    #expect(screen.contains("epoch 2/2 [##############################] 100%  loss "), "\(screen)")
    #expect(screen.contains(" bits/dim  ") && screen.contains(" left"), "\(screen)")
  }
}
