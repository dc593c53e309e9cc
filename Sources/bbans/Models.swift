import ArgumentParser
import BitsBack
import Foundation
import Model

struct Models: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "List the built-in models.")

  func run() throws {
    try reportingErrors {
      let models = ModelRegistry.builtins
      if models.isEmpty {
        print("no built-in models in this build")
        return
      }
      print("name                 likelihood                    shape      latents  size (bytes)  validation −ELBO (bits/dim)")
      for model in models {
        let a = model.architecture
        var likelihood = a.headName
        if case .logisticMixture(let k) = a.likelihood { likelihood += "(\(k))" }
        let rate = model.validationRate.map { String(format: "%.4f", $0) } ?? "-"
        print(
          model.name.padding(toLength: 21, withPad: " ", startingAt: 0)
            + likelihood.padding(toLength: 30, withPad: " ", startingAt: 0)
            + "\(a.height)×\(a.width)×\(a.channels)".padding(toLength: 11, withPad: " ", startingAt: 0)
            + String(a.latentCount).padding(toLength: 9, withPad: " ", startingAt: 0)
            + String(model.fileSize).padding(toLength: 14, withPad: " ", startingAt: 0)
            + rate)
      }
    }
  }
}
