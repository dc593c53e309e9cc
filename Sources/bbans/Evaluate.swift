import ArgumentParser
import BitsBack
import Foundation
import Model

/// `bbans evaluate MODEL DATA`: how big the posterior gap is.
///
/// Prints, in bits/dim over the chosen images: the discretized −ELBO that the coder pays
/// (reconstruction + KL, as `bbans train` validates), the continuous −ELBO and the IWAE bound
/// with k samples from the same samples, and the gap between the last two: a lower bound on
/// KL(q(z|x) ‖ p(z|x)), the most that a richer posterior of the same decoder could save
/// (docs/MODELS.md).
struct Evaluate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure a model's −ELBO and its importance-weighted (IWAE) bound on a file of images.",
    discussion: """
      The gap between the continuous −ELBO and the IWAE bound (k samples per image) is a \
      lower bound on what the diagonal posterior costs, KL(q(z|x) ‖ p(z|x)): a richer \
      posterior of the same decoder could save at most that KL, which is at least the gap. \
      The bound is for the model with continuous latents; the coder pays the \
      discretized −ELBO, printed beside it. Bernoulli models see the images binarized as \
      `bbans train` binarizes its validation images (with --last N, the same as train's \
      --validation N).
      """)

  @Argument(help: "The model: a built-in name or a weights file.") var model: String
  @Argument(help: "The images (IDX, NPY or PGM, gzip or not).") var data: String
  @Option(help: "Importance samples per image (k).") var samples = 1000
  @Option(help: "Use the last N images of the file (default: 1000, or all if fewer).") var last: Int?
  @Flag(help: "Use every image of the file.") var all = false
  @Option(help: "Threads (default: the machine's cores, \(Train.defaultThreads) here).") var threads: Int?
  @Option(help: "Seed of the samples (1: the samples of bbans train's validation).") var seed: UInt64 = 1
  @Option(help: "Compute the encoder and decoder with this arithmetic (float32 or int16) instead of the model's own.")
  var arithmetic: String?

  static let defaultImages = 1000

  func validate() throws {
    try check("--samples", samples, in: 1...1_000_000)
    if let last { try check("--last", last, in: 1...Int(UInt32.max)) }
    if let threads { try check("--threads", threads, in: OptionLimits.threads) }
    if all && last != nil { throw OptionError("--all and --last exclude each other") }
    if let arithmetic { _ = try Convert.arithmetic(named: arithmetic) }
  }

  func run() throws {
    do { try evaluate() } catch let error as TrainError {
      writeStandardError("bbans: error: \(error.message)\n")
      throw ExitCode.failure
    } catch let error as BitsBackError {
      writeStandardError("bbans: error: \(error)\n")
      throw ExitCode.failure
    }
  }

  private func evaluate() throws {
    let coding = try ModelRegistry.model(namedOrPath: model)
    var vae = coding.vae
    if let arithmetic { vae = vae.with(arithmetic: try Convert.arithmetic(named: arithmetic)) }
    let a = vae.architecture
    var images = try TrainingImages.load(path: data, for: a, model: model)
    let total = images.count
    let count = all ? total : min(last ?? Self.defaultImages, total)
    if let last, last > total {
      throw TrainError("--last \(last) asks for more images than the \(total) in \(data); use --all")
    }
    images = images.suffix(count)
    images.binarizeForValidation(a)
    let threads = threads ?? Train.defaultThreads
    let started = Date()
    print("bbans evaluate: \(coding.name)\(arithmetic.map { " (\($0) arithmetic)" } ?? "") on the last \(count) of \(total) images of \(a.height)×\(a.width)×\(a.channels), "
      + "k = \(samples) sample\(samples == 1 ? "" : "s") per image, \(threads) thread\(threads == 1 ? "" : "s")")
    fflush(stdout)
    let (discretized, weighted) = images.pixels.withUnsafeBufferPointer { pixels in
      (vae.discretizedNegativeELBO(pixels: pixels, count: count, seed: seed, threads: threads),
       vae.importanceWeightedBound(pixels: pixels, count: count, samples: samples, seed: seed, threads: threads))
    }
    // Four decimals, and never "-0.0000" (the gap for k = 1 is 0 up to rounding).
    func f(_ x: Double) -> String { String(format: "%.4f", (x * 1e4).rounded() / 1e4 + 0) }
    let continuous = weighted.negativeELBO
    print("discretized −ELBO (the coder's): \(f(discretized.total)) bits/dim (reconstruction \(f(discretized.reconstruction)) + KL \(f(discretized.kl)))")
    print("continuous −ELBO:                \(f(continuous.total)) bits/dim (reconstruction \(f(continuous.reconstruction)) + KL \(f(continuous.kl)))")
    print("IWAE bound, k = \(samples):".padding(toLength: 33, withPad: " ", startingAt: 0) + "\(f(weighted.bound)) bits/dim")
    print("gap (−ELBO − IWAE):              \(f(weighted.gap)) bits/dim (\(String(format: "%.2f", (1e4 * weighted.gap / continuous.total).rounded() / 1e2 + 0))% of the −ELBO)")
    print(String(format: "bbans evaluate: %.1f s", Date().timeIntervalSince(started)))
  }
}
