// `bbans evaluate MODEL DATA` (issue 17, item 3): the discretized −ELBO, the continuous −ELBO,
// the IWAE bound and the gap, as the library computes them; bad options and input refused in
// one line.

import Foundation
import Model
import Testing

extension CLITests {
  /// On the golden 8-bit model: six lines, the figures those of the library at the same seed
  /// (four decimals), the same for one thread and two.
  @Test func evaluatePrintsTheLibrarysFigures() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let golden = URL(fileURLWithPath: ioTestdataFolder()).appendingPathComponent("golden")
    let model = golden.appendingPathComponent("model-8bit.bbm"), images = golden.appendingPathComponent("images-8bit.idx")
    let result = try run(["evaluate", model.path, images.path, "--samples", "20", "--last", "100", "--threads", "1"], in: folder)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.isEmpty)
    let lines = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
    #expect(lines.count == 6, "\(lines)")
    guard lines.count == 6 else { return }
    #expect(lines[0] == "bbans evaluate: model-8bit on the last 100 of 256 images of 4×4×1, k = 20 samples per image, 1 thread")

    let vae = try VAE(contentsOf: [UInt8](Data(contentsOf: model)))
    let pixels = Array([UInt8](try Data(contentsOf: images))[(16 + 156 * 16)...])
    let (discretized, weighted) = pixels.withUnsafeBufferPointer {
      (vae.discretizedNegativeELBO(pixels: $0, count: 100, seed: 1),
       vae.importanceWeightedBound(pixels: $0, count: 100, samples: 20, seed: 1))
    }
    func f(_ x: Double) -> String { String(format: "%.4f", x) }
    #expect(lines[1] == "discretized −ELBO (the coder's): \(f(discretized.total)) bits/dim (reconstruction \(f(discretized.reconstruction)) + KL \(f(discretized.kl)))")
    let continuous = weighted.negativeELBO
    #expect(lines[2] == "continuous −ELBO:                \(f(continuous.total)) bits/dim (reconstruction \(f(continuous.reconstruction)) + KL \(f(continuous.kl)))")
    #expect(lines[3] == "IWAE bound, k = 20:              \(f(weighted.bound)) bits/dim")
    #expect(lines[4].hasPrefix("gap (−ELBO − IWAE):              \(f(weighted.gap)) bits/dim ("))
    #expect(weighted.gap > 0)
    #expect(lines[5].hasPrefix("bbans evaluate: ") && lines[5].hasSuffix(" s"))

    let two = try run(["evaluate", model.path, images.path, "--samples", "20", "--last", "100", "--threads", "2"], in: folder)
    let twoLines = String(decoding: two.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
    #expect(two.status == 0 && twoLines.count == 6 && twoLines[1...4] == lines[1...4], "\(twoLines)")
  }

  @Test func evaluateRefusesBadOptionsAndInputInOneLine() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (tiny, _, _) = try fixtures(in: folder)
    let golden = URL(fileURLWithPath: ioTestdataFolder()).appendingPathComponent("golden")
    let model = golden.appendingPathComponent("model-8bit.bbm").path, images = golden.appendingPathComponent("images-8bit.idx").path
    let evaluate = ["evaluate", model, images]
    let huge = "9223372036854775807"
    let cases: [([String], String)] = [
      (evaluate + ["--samples", "0"], "--samples must be in 1...1000000 (got 0)"),
      (evaluate + ["--samples", huge], "--samples must be in 1...1000000 (got \(huge))"),
      (evaluate + ["--last", "0"], "--last must be in 1...4294967295 (got 0)"),
      (evaluate + ["--threads", huge], "--threads must be in 1...1024 (got \(huge))"),
      (evaluate + ["--all", "--last", "5"], "--all and --last exclude each other"),
      (evaluate + ["--last", "300"], "--last 300 asks for more images than the 256 in \(images); use --all"),
      (["evaluate", "no-such-model", images], "there is no built-in model or model file called 'no-such-model'"),
      (["evaluate", tiny.path, images], "\(tiny.path) is a model of 8×8×1 images, but \(images) holds 4×4×1 images"),
      (["evaluate", model, "missing.idx"], "Cannot access missing.idx"),
      (["evaluate", model, tiny.path], "\(tiny.path) is not an IDX, NPY or PGM file"),
    ]
    for (arguments, message) in cases {
      try expectRefusal(arguments, ["bbans: error: " + message], in: folder)
    }
    try expectRefusal(evaluate + ["--samples", "many"], ["bbans: error: The value 'many' is invalid", "see 'bbans evaluate --help'"],
                      in: folder)
  }
}
