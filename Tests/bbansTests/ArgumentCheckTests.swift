// Every numeric option is range-checked before anything is read or written (issue 14), and a
// weights file with a non-finite number is refused: one line `bbans: error: …`, exit status 1,
// no output and no temporary file left behind.

import Foundation
import Model
import Testing

extension CLITests {
  /// Runs `arguments` in a folder holding the tiny model and its images, and checks the refusal:
  /// status 1, nothing on stdout, stderr the lines given (or starting with them), the folder as
  /// it was.
  func expectRefusal(_ arguments: [String], _ expected: [String], in folder: URL) throws {
    let before = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    let result = try run(arguments, in: folder)
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    #expect(result.status == 1, "\(arguments): status \(result.status), \(result.stderr)")
    #expect(result.stdout.isEmpty, "\(arguments)")
    #expect(lines.count == expected.count && zip(lines, expected).allSatisfy { $0.hasPrefix($1) },
            "\(arguments): \(result.stderr)")
    #expect(result.stderr.hasSuffix("\n"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == before, "\(arguments)")
  }

  @Test func hugeAndOutOfRangeNumbersAreRefusedInOneLine() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (model, idx, _) = try fixtures(in: folder)
    let huge = "9223372036854775807"
    let compress = ["compress", idx.path, "--model", model.path, "-o", "out.bba"]
    #expect(try run(compress, in: folder).status == 0, "the fixture compresses")
    let bba = folder.appendingPathComponent("out.bba").path
    let decompress = ["decompress", bba, "--model", model.path, "-o", "back"]
    let train = ["train", idx.path, "-o", "new.bbm", "--hidden", "8", "--latents", "2", "--epochs", "1", "--threads", "1"]
    let cases: [([String], String)] = [
      (compress + ["--threads", huge], "--threads must be in 1...1024 (got \(huge))"),
      (compress + ["--threads", "0"], "--threads must be in 1...1024 (got 0)"),
      (compress + ["--chunk", huge], "--chunk must be in 1...4294967295 (got \(huge))"),
      (compress + ["--chunk=-1"], "--chunk must be in 1...4294967295 (got -1)"),
      (compress + ["--lanes", huge], "--lanes must be in 1...4096 (got \(huge))"),
      (decompress + ["--threads", huge], "--threads must be in 1...1024 (got \(huge))"),
      (["bench", idx.path, "--threads", huge], "--threads must be in 1...1024 (got \(huge))"),
      (train + ["--epochs", huge], "--epochs must be in 1...1000000 (got \(huge))"),
      (train + ["--batch-size", huge], "--batch-size must be in 1...65536 (got \(huge))"),
      (train + ["--threads", huge], "--threads must be in 1...1024 (got \(huge))"),
      (train + ["--components", "9"], "--components must be in 1...8 (got 9)"),
      (train + ["--latents", huge], "--latents must be in 1...4096 (got \(huge))"),
      (train + ["--bucket-bits", "17"], "--bucket-bits must be in 1...16 (got 17)"),
      (train + ["--validate-every", huge], "--validate-every must be in 1...1000000 (got \(huge))"),
      (train + ["--kl-warmup", huge], "--kl-warmup must be in 0...1000000 (got \(huge))"),
      (train + ["--first-epoch", "2"], "--first-epoch must be in 1...1 (got 2)"),
      (train + ["--epochs", "3", "--first-epoch", "2"], "--first-epoch needs --start-from"),
      (train + ["--rows", "4,4"], "--rows needs --context"),
      (train + ["--rows", "4"], "--rows takes two widths"),
      (train + ["--context-deeper", "4"], "--context-deeper needs --rows"),
      (train + ["--shift", "9"], "--shift must be in 0...8 (got 9)"),
      (train + ["--posterior", "planar:2"], "--posterior is diagonal, householder:K, iaf:K[,H[,C]] or sylvester:K, not 'planar:2'"),
      (train + ["--posterior", "householder"], "--posterior is diagonal, householder:K, iaf:K[,H[,C]] or sylvester:K, not 'householder'"),
      (train + ["--posterior", "householder:17"], "--posterior householder: steps must be in 1...16 (got 17)"),
      (train + ["--posterior", "iaf:2,0"], "--posterior iaf: must be 1 to 16 widths"),
      (train + ["--posterior", "iaf:2,8,2000"], "--posterior iaf: context values must be in 0...1024 (got 2000)"),
      (train + ["--context", "--rows", "4,4", "--rows-radius", "9"], "--rows-radius must be in 0...8 (got 9)"),
      (train + ["--validation", huge], "--validation must be in 0...4294967295 (got \(huge))"),
      (train + ["--context-features", huge], "--context-features must be in 1...64 (got \(huge))"),
      (train + ["--context-hidden", huge], "--context-hidden must be in 1...1024 (got \(huge))"),
      (train + ["--context-neighbours", "25"], "--context-neighbours must be in 1...24 (got 25)"),
      (train + ["--hidden", huge], "--hidden must be 1 to 16 widths in 1...65536 separated by commas (got '\(huge)')"),
      (train + ["--decoder-hidden", "8,0"], "--decoder-hidden must be 1 to 16 widths"),
      (train + ["--learning-rate", "nan"], "--learning-rate must be in (0, 1] (got nan)"),
      (train + ["--learning-rate", "inf"], "--learning-rate must be in (0, 1] (got inf)"),
      (train + ["--final-learning-rate", "0"], "--final-learning-rate must be in (0, 1] (got 0.0)"),
      (train + ["--weight-decay=-inf"], "--weight-decay must be in [0, 1] (got -inf)"),
      (train + ["--average-decay", "nan"], "--average-decay must be in [0, 1) (got nan)"),
    ]
    for (arguments, message) in cases {
      try expectRefusal(arguments, ["bbans: error: " + message], in: folder)
    }
    // Numbers that do not parse, and other mistakes ArgumentParser finds, get a line that says
    // where the help is.
    try expectRefusal(compress + ["--threads", "99999999999999999999"],
                      ["bbans: error: The value '99999999999999999999' is invalid", "see 'bbans compress --help'"], in: folder)
    try expectRefusal(["train", idx.path, "--epochs", "2"], ["bbans: error: Missing expected argument '--output", "see 'bbans train --help'"],
                      in: folder)
    try expectRefusal(["compress", idx.path, "--no-such-option"], ["bbans: error: Unknown option '--no-such-option'", "see 'bbans compress --help'"],
                      in: folder)
  }

  @Test func helpStillPrintsAndSucceeds() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    for arguments in [["--help"], ["compress", "--help"], ["help", "train"], ["train", "-h"]] {
      let result = try run(arguments, in: folder)
      #expect(result.status == 0, "\(arguments): \(result.stderr)")
      #expect(String(decoding: result.stdout, as: UTF8.self).contains("USAGE: bbans"), "\(arguments)")
    }
  }

  /// A weights file with NaN, +∞ or −∞ behind a valid checksum: compress, decompress and
  /// train --start-from refuse it, naming the file, the tensor and the element.
  @Test func aWeightsFileWithANonFiniteNumberIsRefused() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (model, idx, _) = try fixtures(in: folder)
    #expect(try run(["compress", idx.path, "--model", model.path, "-o", "good.bba"], in: folder).status == 0)
    let vae = try VAE(contentsOf: [UInt8](Data(contentsOf: model)))
    for (value, text) in [(Float.nan, "NaN"), (.infinity, "+Inf"), (-.infinity, "-Inf")] {
      var layers = vae.decoder.layers
      layers[1].weights[17] = value
      let damaged = VAE(architecture: vae.architecture, name: vae.name, summary: vae.summary, figures: vae.figures,
                        encoder: vae.encoder, decoder: MLP(layers: layers))
      try Data(damaged.serialized()).write(to: folder.appendingPathComponent("damaged.bbm"))
      let line = "bbans: error: damaged.bbm: tensor 'decoder.1.weight' holds \(text) at index 17"
      try expectRefusal(["compress", idx.path, "--model", "damaged.bbm", "-o", "out.bba"], [line], in: folder)
      try expectRefusal(["decompress", "good.bba", "--model", "damaged.bbm", "-o", "back"], [line], in: folder)
      try expectRefusal(["train", idx.path, "-o", "new.bbm", "--start-from", "damaged.bbm", "--epochs", "1", "--threads", "1"],
                        ["bbans: error: cannot start from damaged.bbm: tensor 'decoder.1.weight' holds \(text) at index 17"],
                        in: folder)
    }
  }
}

extension CLITests {
  /// Training from weights so large that the networks overflow to NaN: the weights turn NaN,
  /// and `train` says so in one line instead of writing a file that no reader would load.
  @Test func trainingThatDivergesWritesNothing() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (model, idx, _) = try fixtures(in: folder)
    let vae = try VAE(contentsOf: [UInt8](Data(contentsOf: model)))
    var layers = vae.encoder.layers
    layers[0].weights = layers[0].weights.indices.map { $0 % 2 == 0 ? Float.greatestFiniteMagnitude : -.greatestFiniteMagnitude }
    let huge = VAE(architecture: vae.architecture, name: vae.name, summary: vae.summary, figures: vae.figures,
                   encoder: MLP(layers: layers), decoder: vae.decoder)
    try Data(huge.serialized()).write(to: folder.appendingPathComponent("huge.bbm"))
    let result = try run(["train", idx.path, "-o", "new.bbm", "--start-from", "huge.bbm", "--epochs", "1", "--threads", "1"], in: folder)
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("bbans: error: training diverged in epoch 1: tensor '"), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("new.bbm").path))
  }
}
