import ArgumentParser
import BitsBack
import Foundation
import Model

/// `bbans convert MODEL -o OUT --arithmetic int16`: the same weights with another arithmetic
/// (`Arithmetic`), which is another model with its own identity. With `--validation-data`, the
/// figures the new file records are measured with the new arithmetic, as `bbans train`
/// validates; without, the file records none.
struct Convert: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a model's weights with another arithmetic (float32 or int16): another model, with its own identity.",
    discussion: """
      int16 computes the encoder's and decoder's products from int16 weights and activations \
      with exact int32 sums (docs/MODEL_FORMAT.md, "Arithmetic"). The rate changes a little; \
      measure it with --validation-data, which records the new model's figures as bbans train \
      would.
      """)

  @Argument(help: "The model: a built-in name or a weights file.") var model: String
  @Option(name: .shortAndLong, help: "The weights file to write.") var output: String
  @Option(help: "float32 or int16.") var arithmetic: String
  @Option(help: "The new model's name (default: the output file's base name); not a built-in model's name.") var name: String?
  @Flag(help: "Allow a built-in model's name.") var builtinName = false
  @Option(help: "Measure the new model's figures on the images of this file.") var validationData: String?
  @Option(help: "Use the last N images of --validation-data (default: all).") var last: Int?
  @Option(help: "Threads (default: the machine's cores, \(Train.defaultThreads) here).") var threads: Int?
  @Flag(name: .shortAndLong, help: "Overwrite the output file.") var force = false

  static func arithmetic(named name: String) throws -> Arithmetic {
    guard let a = Arithmetic(rawValue: name) else {
      throw OptionError("--arithmetic must be one of \(Arithmetic.allCases.map(\.name).joined(separator: ", ")), not '\(name)'")
    }
    return a
  }

  func validate() throws {
    _ = try Convert.arithmetic(named: arithmetic)
    if let last { try check("--last", last, in: 1...Int(UInt32.max)) }
    if let threads { try check("--threads", threads, in: OptionLimits.threads) }
    if last != nil && validationData == nil { throw OptionError("--last needs --validation-data") }
  }

  func run() throws {
    do { try convert() } catch let error as TrainError {
      writeStandardError("bbans: error: \(error.message)\n")
      throw ExitCode.failure
    } catch let error as BitsBackError {
      writeStandardError("bbans: error: \(error)\n")
      throw ExitCode.failure
    }
  }

  private func convert() throws {
    let modelName = Train.modelName(name, output: output)
    try Train.checkName(modelName, given: name != nil, builtinName: builtinName)
    if FileManager.default.fileExists(atPath: output) && !force {
      throw TrainError("\(output) exists; use -f to overwrite it")
    }
    let source = try ModelRegistry.model(namedOrPath: model).vae
    let target = try Convert.arithmetic(named: arithmetic)
    var converted = source.with(name: modelName).converted(to: target, figures: NegativeELBO(reconstruction: 0, kl: 0))
    if let validationData {
      let a = converted.architecture
      var images = try TrainingImages.load(path: validationData, for: a, model: model)
      let count = min(last ?? images.count, images.count)
      images = images.suffix(count)
      images.binarizeForValidation(a)
      let threads = threads ?? Train.defaultThreads
      let figures = images.pixels.withUnsafeBufferPointer {
        converted.discretizedNegativeELBO(pixels: $0, count: count, seed: 1, threads: threads)
      }
      converted = converted.with(figures: figures)  // (the summary already says how it was made)
      print(String(format: "bbans convert: %@ with %@ arithmetic: validation %.4f bits/dim (reconstruction %.4f + KL %.4f) on %d images",
                   modelName, target.name, figures.total, figures.reconstruction, figures.kl, count))
    }
    let bytes = converted.serialized()
    try Train.writeAtomically(bytes, to: output)
    print("bbans convert: wrote \(output) (\(bytes.count) bytes, identity \(String(format: "%016llx", converted.identity)))")
  }
}
