import ArgumentParser
import BitsBack
import Foundation
import Model

struct Models: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the built-in models.",
    discussion: """
      The current models are those that `compress` chooses from. With --all, the retired ones \
      too: models that a retrained one has replaced, kept so that the archives made with them \
      still decode (the decompressor finds them by the hash the archive records). \
      `--model NAME` takes a retired model by its own name (mnist-v1), never by the one it had.
      """)

  @Flag(name: .long, help: "List the retired built-in models too, with the name each had when it was current.")
  var all = false

  func run() throws {
    try reportingErrors {
      let models = ModelRegistry.builtins
      let retired = all ? ModelRegistry.retiredBuiltins : []
      if models.isEmpty && retired.isEmpty {
        print("no built-in models in this build")
        return
      }
      func likelihood(_ a: Architecture) -> String {
        var likelihood = a.headName
        if case .logisticMixture(let k) = a.likelihood { likelihood += "(\(k))" }
        if a.context?.rows != nil { likelihood += "+rows" }
        if a.posterior.isFlow { likelihood += ", q: \(a.posterior.description)" }
        if a.arithmetic != .float32 { likelihood += ", \(a.arithmetic.name)" }
        return likelihood
      }
      // The first two columns are as wide as their longest entry and 2 spaces.
      let nameWidth = max(21, (models + retired).map(\.name.count).max().map { $0 + 2 } ?? 0)
      let likelihoodWidth = max(34, (models + retired).map { likelihood($0.architecture).count }.max().map { $0 + 2 } ?? 0)
      print(
        "name".padding(toLength: nameWidth, withPad: " ", startingAt: 0)
          + "likelihood".padding(toLength: likelihoodWidth, withPad: " ", startingAt: 0)
          + "shape      latents  size (bytes)  validation −ELBO (bits/dim)  hash"
          + (all ? "                status" : ""))
      for model in models + retired {
        let a = model.architecture
        let likelihood = likelihood(a)
        let rate = model.validationRate.map { String(format: "%.4f", $0) } ?? "-"
        var line = model.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
          + likelihood.padding(toLength: likelihoodWidth, withPad: " ", startingAt: 0)
          + "\(a.height)×\(a.width)×\(a.channels)".padding(toLength: 11, withPad: " ", startingAt: 0)
          + String(a.latentCount).padding(toLength: 9, withPad: " ", startingAt: 0)
          + String(model.fileSize).padding(toLength: 14, withPad: " ", startingAt: 0)
          + rate.padding(toLength: 29, withPad: " ", startingAt: 0)
          + hex(model.identity)
        if all { line += "  " + (ModelRegistry.formerName(ofBuiltin: model.name).map { "retired (was \($0))" } ?? "current") }
        print(line)
      }
    }
  }

  /// The identity as `bbans info` and the errors write it: 0x and 16 hex digits.
  func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
  }
}
