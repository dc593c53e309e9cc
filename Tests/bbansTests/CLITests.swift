import Foundation
import Model
import Testing
import TestSupport

/// The built `bbans` binary, run as a user would.
@Suite(.serialized) struct CLITests {
  /// The binary sits beside the test bundle in the build folder.
  static let binary: URL = {
    var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("bbans").path) {
      url = url.deletingLastPathComponent()
    }
    return url.appendingPathComponent("bbans")
  }()

  struct Run {
    let status: Int32
    let stdout: Data
    let stderr: String
  }

  func run(_ arguments: [String], stdin: Data? = nil, in folder: URL) throws -> Run {
    let process = Process()
    process.executableURL = Self.binary
    process.arguments = arguments
    process.currentDirectoryURL = folder
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    let stderrData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(status: process.terminationStatus, stdout: stdoutData, stderr: String(decoding: stderrData, as: UTF8.self))
  }

  func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bbans-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// A random model's weights file, and an IDX file of images it fits.
  func fixtures(in folder: URL, count: Int = 50) throws -> (model: URL, idx: URL, bytes: Data) {
    let architecture = Architecture(
      height: 8, width: 8, encoderHidden: [16], decoderHidden: [16], latentCount: 4, bucketBits: 8,
      likelihood: .logisticMixture(components: 2))
    let model = folder.appendingPathComponent("tiny.bbm")
    try Data(VAE(randomWith: architecture, seed: 3, name: "tiny").serialized()).write(to: model)
    var generator = TestSupport.SeededGenerator(seed: 4)
    var bytes: [UInt8] = [0, 0, 8, 3, 0, 0, 0, UInt8(count), 0, 0, 0, 8, 0, 0, 0, 8]
    bytes += (0..<(count * 64)).map { _ in UInt8.random(in: 0...40, using: &generator) }
    let idx = folder.appendingPathComponent("images.idx")
    try Data(bytes).write(to: idx)
    return (model, idx, Data(bytes))
  }

  @Test func compressThenDecompressGivesTheFileBack() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (model, idx, bytes) = try fixtures(in: folder)
    let compress = try run(["compress", idx.path, "--model", model.path], in: folder)
    #expect(compress.status == 0, "\(compress.stderr)")
    let bba = folder.appendingPathComponent("images.idx.bba")
    #expect(FileManager.default.fileExists(atPath: bba.path))
    #expect(FileManager.default.fileExists(atPath: idx.path), "the input is kept")
    try FileManager.default.removeItem(at: idx)
    let decompress = try run(["decompress", bba.path, "--model", model.path], in: folder)
    #expect(decompress.status == 0, "\(decompress.stderr)")
    #expect(try Data(contentsOf: idx) == bytes)
    let info = try run(["info", bba.path], in: folder)
    #expect(info.status == 0)
    #expect(String(decoding: info.stdout, as: UTF8.self).contains("model:       tiny"))
  }

  @Test func standardInputToStandardOutput() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let payload = Data((0..<5000).map { UInt8($0 % 7) })
    let compressed = try run(["compress", "-"], stdin: payload, in: folder)
    #expect(compressed.status == 0, "\(compressed.stderr)")
    let back = try run(["decompress", "-"], stdin: compressed.stdout, in: folder)
    #expect(back.status == 0, "\(back.stderr)")
    #expect(back.stdout == payload)
  }

  @Test func anExistingOutputNeedsForce() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("a.txt")
    try Data("hello".utf8).write(to: input)
    let existing = folder.appendingPathComponent("a.txt.bba")
    try Data("keep me".utf8).write(to: existing)
    let refused = try run(["compress", input.path], in: folder)
    #expect(refused.status != 0)
    #expect(refused.stderr.hasPrefix("bbans: error: "))
    #expect(refused.stderr.contains("already exists"))
    #expect(try Data(contentsOf: existing) == Data("keep me".utf8))
    let forced = try run(["compress", input.path, "-f"], in: folder)
    #expect(forced.status == 0)
    #expect(try Data(contentsOf: existing) != Data("keep me".utf8))
  }

  /// Bad input: one line on stderr, a non-zero exit, no output file left, the input untouched.
  @Test func badInputGivesOneLineAndLeavesNothing() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let notContainer = folder.appendingPathComponent("junk.bba")
    let junk = Data("this is not a container at all".utf8)
    try junk.write(to: notContainer)
    let cases: [[String]] = [
      ["decompress", notContainer.path],
      ["decompress", folder.appendingPathComponent("missing.bba").path],
      ["compress", folder.appendingPathComponent("missing").path],
      ["decompress", notContainer.path, "-o", folder.appendingPathComponent("no/such/dir/out").path],
      ["info", notContainer.path],
    ]
    for arguments in cases {
      let result = try run(arguments, in: folder)
      #expect(result.status != 0, "\(arguments)")
      #expect(result.stderr.hasPrefix("bbans: error: "), "\(arguments): \(result.stderr)")
      #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
    }
    #expect(try Data(contentsOf: notContainer) == junk)
    let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    #expect(left == ["junk.bba"])
  }

  @Test func aTruncatedContainerIsRefused() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (model, idx, _) = try fixtures(in: folder)
    #expect(try run(["compress", idx.path, "--model", model.path], in: folder).status == 0)
    let bba = folder.appendingPathComponent("images.idx.bba")
    let whole = try Data(contentsOf: bba)
    try whole.prefix(whole.count - 9).write(to: bba)
    let result = try run(["decompress", bba.path, "--model", model.path, "-o", "out"], in: folder)
    #expect(result.status != 0)
    #expect(result.stderr.hasPrefix("bbans: error: "))
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
  }

  /// `bbans train` writes a model that `compress` can use; `--start-from` continues it (same
  /// architecture, other weights, whatever the architecture options say) and refuses a model
  /// of another image shape with one line, writing nothing.
  @Test func trainAndContinueTraining() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (tiny, idx, _) = try fixtures(in: folder)
    let first = try run(["train", idx.path, "-o", "a.bbm", "--context", "--context-neighbours", "10", "--context-hidden", "4",
                         "--hidden", "16", "--latents", "3", "--components", "2", "--epochs", "1", "--threads", "1"], in: folder)
    #expect(first.status == 0, "\(first.stderr)")
    let a = try VAE(contentsOf: [UInt8](Data(contentsOf: folder.appendingPathComponent("a.bbm"))))
    #expect(a.architecture.context?.neighbourCount == 10)
    let second = try run(["train", idx.path, "-o", "b.bbm", "--start-from", "a.bbm", "--hidden", "99",
                          "--epochs", "1", "--threads", "1", "--learning-rate", "1e-4"], in: folder)
    #expect(second.status == 0, "\(second.stderr)")
    let b = try VAE(contentsOf: [UInt8](Data(contentsOf: folder.appendingPathComponent("b.bbm"))))
    #expect(b.architecture == a.architecture)
    #expect(b.decoder != a.decoder)
    let compress = try run(["compress", idx.path, "--model", "b.bbm", "-o", "images.bba"], in: folder)
    #expect(compress.status == 0, "\(compress.stderr)")

    // The tiny model is of 8×8 images too; a 4×4 file is not.
    var small: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 20, 0, 0, 0, 4, 0, 0, 0, 4]
    small += [UInt8](repeating: 7, count: 20 * 16)
    try Data(small).write(to: folder.appendingPathComponent("small.idx"))
    let refused = try run(["train", "small.idx", "-o", "c.bbm", "--start-from", tiny.path, "--epochs", "1"], in: folder)
    #expect(refused.status != 0)
    #expect(refused.stderr.hasPrefix("bbans: error: ") && refused.stderr.contains("8×8×1"), "\(refused.stderr)")
    #expect(refused.stderr.split(separator: "\n").count == 1)
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("c.bbm").path))
  }

  /// --start-from a row-summary model with --context-deeper or --context-hidden grows its
  /// per-pixel network (a second layer, a wider first one), and the model trains and codes;
  /// a model without a row summary, a narrower width or widths that drop its own layers are
  /// refused with one line, writing nothing.
  @Test func growingTheContextNetworkWithStartFrom() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (_, idx, bytes) = try fixtures(in: folder)
    let base = ["--hidden", "16", "--latents", "3", "--components", "2", "--epochs", "1", "--threads", "1"]
    let context = ["--context", "--context-neighbours", "10", "--context-hidden", "4"]
    for (name, options) in [("plain-context.bbm", context), ("rows.bbm", context + ["--rows", "2,2"])] {
      let result = try run(["train", idx.path, "-o", name] + options + base, in: folder)
      #expect(result.status == 0, "\(result.stderr)")
    }
    for (name, options, hidden, deeper) in [("deeper.bbm", ["--context-deeper", "4"], 4, [4]),
                                            ("narrow.bbm", ["--context-deeper", "12"], 4, [12]),
                                            ("wider.bbm", ["--context-hidden", "7"], 7, []),
                                            ("both.bbm", ["--context-hidden", "6", "--context-deeper", "4,4"], 6, [4, 4])] {
      let result = try run(["train", idx.path, "-o", name, "--start-from", "rows.bbm"] + options + base, in: folder)
      #expect(result.status == 0, "\(name): \(result.stderr)")
      let model = try VAE(contentsOf: [UInt8](Data(contentsOf: folder.appendingPathComponent(name))))
      #expect(model.architecture.context?.hidden == hidden && model.architecture.context?.rows?.deeper == deeper, "\(name)")
      for command in [["compress", idx.path, "--model", name, "-o", "f.bba", "-f"], ["decompress", "f.bba", "--model", name, "-o", "f.idx", "-f"]] {
        let coded = try run(command, in: folder)
        #expect(coded.status == 0, "\(name): \(coded.stderr)")
      }
      #expect(try Data(contentsOf: folder.appendingPathComponent("f.idx")) == bytes, "\(name)")
    }
    for (options, message) in [(["--start-from", "plain-context.bbm", "--context-deeper", "4"], "needs a row-summary model"),
                               (["--start-from", "rows.bbm", "--context-hidden", "3"], "can be widened, not narrowed"),
                               (["--start-from", "plain-context.bbm", "--context-hidden", "8"], "has no row summary"),
                               (["--start-from", "deeper.bbm", "--context-deeper", "5"], "must begin with them"),
                               (["--start-from", "rows.bbm", "--context-deeper", "5"], "one layer at least 12 wide")] {
      let refused = try run(["train", idx.path, "-o", "x.bbm"] + options + base, in: folder)
      #expect(refused.status != 0 && refused.stderr.contains(message), "\(options): \(refused.stderr)")
      #expect(refused.stderr.split(separator: "\n").count == 1)
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.bbm").path))
    }
  }

  /// --posterior from scratch and onto a diagonal model with --start-from: each flow trains,
  /// is listed by `bbans models`-style architecture, and codes a file that comes back; a flow
  /// model cannot take another flow.
  /// `bbans convert`: the int16 form of a trained model, with its figures measured when asked;
  /// it codes and decodes, and archives record it; bad options and names are refused in one
  /// line and write nothing; an existing output needs -f; `evaluate --arithmetic` measures it.
  @Test func convertToInt16Arithmetic() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (_, idx, bytes) = try fixtures(in: folder)
    let trained = try run(["train", idx.path, "-o", "f.bbm", "--hidden", "16", "--latents", "3", "--components", "2",
                           "--epochs", "1", "--threads", "1"], in: folder)
    #expect(trained.status == 0, "\(trained.stderr)")
    let converted = try run(["convert", "f.bbm", "-o", "i.bbm", "--arithmetic", "int16", "--validation-data", idx.path],
                            in: folder)
    #expect(converted.status == 0, "\(converted.stderr)")
    #expect(String(decoding: converted.stdout, as: UTF8.self).contains("with int16 arithmetic: validation"))
    let float = try VAE(contentsOf: [UInt8](Data(contentsOf: folder.appendingPathComponent("f.bbm"))))
    let model = try VAE(contentsOf: [UInt8](Data(contentsOf: folder.appendingPathComponent("i.bbm"))))
    #expect(model.architecture.arithmetic == .int16 && model.name == "i" && model.figures.total > 0)
    #expect(model.identity != float.identity)
    for command in [["compress", idx.path, "--model", "i.bbm", "-o", "i.bba", "-f"], ["decompress", "i.bba", "--model", "i.bbm", "-o", "i.idx", "-f"]] {
      let result = try run(command, in: folder)
      #expect(result.status == 0, "\(result.stderr)")
    }
    #expect(try Data(contentsOf: folder.appendingPathComponent("i.idx")) == bytes)
    let evaluated = try run(["evaluate", "f.bbm", idx.path, "--samples", "1", "--arithmetic", "int16", "--all"], in: folder)
    #expect(evaluated.status == 0 && String(decoding: evaluated.stdout, as: UTF8.self).contains("(int16 arithmetic)"),
            "\(evaluated.stderr)")
    for (arguments, message) in [
      (["convert", "f.bbm", "-o", "x.bbm", "--arithmetic", "int8"], "--arithmetic must be one of float32, int16, not 'int8'"),
      (["convert", "f.bbm", "-o", "i.bbm", "--arithmetic", "int16"], "i.bbm exists; use -f to overwrite it"),
      (["convert", "f.bbm", "-o", "mnist.bbm", "--arithmetic", "int16"], "is a built-in model's"),
      (["convert", "missing.bbm", "-o", "x.bbm", "--arithmetic", "int16"], "missing.bbm"),
      (["convert", "f.bbm", "-o", "x.bbm", "--arithmetic", "int16", "--last", "5"], "--last needs --validation-data"),
    ] {
      let refused = try run(arguments, in: folder)
      let stderr = refused.stderr
      #expect(refused.status != 0 && stderr.contains(message) && stderr.hasPrefix("bbans: error: "), "\(arguments): \(stderr)")
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.bbm").path))
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("mnist.bbm").path))
    }
  }

  @Test func trainWithAFlowPosterior() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (_, idx, bytes) = try fixtures(in: folder)
    let base = ["--hidden", "16", "--latents", "3", "--components", "2", "--epochs", "1", "--threads", "1"]
    let diagonal = try run(["train", idx.path, "-o", "d.bbm"] + base, in: folder)
    #expect(diagonal.status == 0, "\(diagonal.stderr)")
    for (posterior, expected) in [("householder:2", Posterior.householder(steps: 2)), ("iaf:2,6,2", .iaf(steps: 2, hidden: 6, context: 2)),
                                  ("sylvester:2", .sylvester(steps: 2))] {
      for start in [false, true] {
        let name = "\(expected.name)-\(start).bbm"
        let trained = try run(["train", idx.path, "-o", name, "--posterior", posterior] + base + (start ? ["--start-from", "d.bbm"] : []),
                              in: folder)
        #expect(trained.status == 0, "\(posterior): \(trained.stderr)")
        let model = try VAE(contentsOf: [UInt8](Data(contentsOf: folder.appendingPathComponent(name))))
        #expect(model.architecture.posterior == expected)
        for command in [["compress", idx.path, "--model", name, "-o", "f.bba", "-f"], ["decompress", "f.bba", "--model", name, "-o", "f.idx", "-f"]] {
          let result = try run(command, in: folder)
          #expect(result.status == 0, "\(posterior): \(result.stderr)")
        }
        #expect(try Data(contentsOf: folder.appendingPathComponent("f.idx")) == bytes, "\(posterior)")
      }
    }
    let refused = try run(["train", idx.path, "-o", "x.bbm", "--posterior", "iaf:1", "--start-from", "householder-true.bbm"] + base,
                          in: folder)
    #expect(refused.status != 0 && refused.stderr.contains("needs a model with a diagonal posterior"), "\(refused.stderr)")
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.bbm").path))
    // An explicit diagonal posterior cannot take a flow out; without --posterior the flow stays.
    let removing = try run(["train", idx.path, "-o", "x.bbm", "--posterior", "diagonal", "--start-from", "iaf-true.bbm"] + base,
                           in: folder)
    #expect(removing.status != 0 && removing.stderr.contains("a flow is not taken out"), "\(removing.stderr)")
    #expect(removing.stderr.split(separator: "\n").count == 1)
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.bbm").path))
    let goingOn = try run(["train", idx.path, "-o", "x.bbm", "--start-from", "iaf-true.bbm"] + base, in: folder)
    #expect(goingOn.status == 0, "\(goingOn.stderr)")
    let continued = try VAE(contentsOf: [UInt8](Data(contentsOf: folder.appendingPathComponent("x.bbm"))))
    #expect(continued.architecture.posterior == .iaf(steps: 2, hidden: 6, context: 2))
  }

  @Test func trainWithAWeightAverage() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (_, idx, _) = try fixtures(in: folder)
    let trained = try run(["train", idx.path, "-o", "a.bbm", "--hidden", "16", "--latents", "3", "--epochs", "2",
                           "--validation", "10", "--average-decay", "0.9", "--threads", "1"], in: folder)
    #expect(trained.status == 0, "\(trained.stderr)")
    // Each validation line measures the weights and their average, and says which was kept.
    let lines = String(decoding: trained.stdout, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("epoch") }
    #expect(lines.count == 2 && lines.allSatisfy { $0.contains(", average ") && ($0.contains("(average:") || $0.contains("(weights:")) },
            "\(lines)")
    _ = try VAE(contentsOf: [UInt8](Data(contentsOf: folder.appendingPathComponent("a.bbm"))))

    // Without validation images the average is what is saved: the same run through the library.
    let unvalidated = try run(["train", idx.path, "-o", "c.bbm", "--hidden", "16", "--latents", "3", "--epochs", "1",
                               "--average-decay", "0.9", "--threads", "1"], in: folder)
    #expect(unvalidated.status == 0, "\(unvalidated.stderr)")
    let saved = try VAE(contentsOf: [UInt8](Data(contentsOf: folder.appendingPathComponent("c.bbm"))))
    var options = TrainingOptions()
    options.epochs = 1
    options.threads = 1
    options.averageDecay = 0.9
    var trainer = Trainer(architecture: saved.architecture, options: options)
    let pixels = [UInt8](try Data(contentsOf: idx).dropFirst(16))
    _ = pixels.withUnsafeBufferPointer { trainer.trainEpoch(pixels: $0, count: 50, epoch: 0) }
    let none = NegativeELBO(reconstruction: 0, kl: 0)
    #expect(saved.decoder == trainer.averagedModel(name: "", summary: "", figures: none)!.decoder)
    #expect(saved.decoder != trainer.model(name: "", summary: "", figures: none).decoder)

    let refused = try run(["train", idx.path, "-o", "b.bbm", "--average-decay", "1"], in: folder)
    #expect(refused.status != 0)
    #expect(refused.stderr.contains("--average-decay must be in [0, 1)"), "\(refused.stderr)")
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("b.bbm").path))
  }

  /// `bbans models` lists the current models with their hashes; `--all` the retired ones too,
  /// which decode their archives (testdata/golden/retired) by hash and go by their own names.
  @Test func retiredModelsAreListedWithAllAndDecodeTheirArchives() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let current = try run(["models"], in: folder)
    let all = try run(["models", "--all"], in: folder)
    #expect(current.status == 0 && all.status == 0)
    let currentNames = lines(current.stdout).dropFirst().map { $0.split(separator: " ").first.map(String.init) ?? "" }
    let allLines = lines(all.stdout).dropFirst()
    #expect(!currentNames.contains("mnist-v1") && currentNames.contains("mnist"), "\(currentNames)")
    let v1 = try #require(allLines.first { $0.hasPrefix("mnist-v1 ") })
    #expect(v1.contains("0x5385FBB7B765C58D") && v1.hasSuffix("retired (was mnist)"), "\(v1)")

    let golden = URL(fileURLWithPath: ioTestdataFolder()).appendingPathComponent("golden/retired")
    let decoded = try run(["-d", "-c", golden.appendingPathComponent("digits-20.idx.bba").path], in: folder)
    #expect(decoded.status == 0, "\(decoded.stderr)")
    #expect(decoded.stdout == (try Data(contentsOf: golden.appendingPathComponent("digits-20.idx"))))
  }

  func lines(_ data: Data) -> [String] {
    String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
  }
}
