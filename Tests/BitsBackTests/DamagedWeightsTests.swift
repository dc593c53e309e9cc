// Weights files with damaged numbers behind a valid checksum (issue 14): a NaN or ±∞ weight is
// refused on load with the tensor and element it is at; a huge finite one (1e30) either loads
// and codes (the coder maps what the networks then overflow to, NaN and ±∞, to valid
// distributions, identically on both sides) or is refused, but never traps.

import ANS
import BitsBack
import Foundation
import Model
import Testing

@Suite struct DamagedWeightsTests {
  /// The built-in models and the golden files' models, by name.
  static let models: [String] = ModelRegistry.builtinNames + ["model-8bit.bbm", "model-binary.bbm", "model-rows.bbm",
                                                                    "model-householder.bbm", "model-iaf.bbm", "model-sylvester.bbm", "model-int16.bbm"]

  static func load(_ name: String) throws -> VAE {
    try (ModelRegistry.builtin(named: name) ?? GoldenFiles.model(name)).vae
  }

  /// The tensors of `model` in file order, with the names the reader gives them.
  static func tensors(_ model: VAE) -> [(name: String, values: [Float])] {
    let networks: [(String, MLP?)] = [("encoder", model.encoder), ("decoder", model.decoder), ("context", model.context),
                                      ("state", model.rows.map { MLP(layers: [$0.state]) }),
                                      ("global", model.rows.map { MLP(layers: [$0.global]) })]
      + model.flows.enumerated().map { ("flow\($0.offset)", $0.element) }
    return networks.flatMap { network, mlp in
      (mlp?.layers ?? []).enumerated().flatMap { i, layer in
        [("\(network).\(i).weight", layer.weights), ("\(network).\(i).bias", layer.bias)]
      }
    }
  }

  /// `model` with tensor `t` replaced by `values`, as a weights file with a valid checksum.
  static func file(_ model: VAE, tensor t: Int, values: [Float]) -> [UInt8] {
    var layers = model.encoder.layers + model.decoder.layers + (model.context?.layers ?? []) + (model.rows?.layers ?? [])
      + model.flows.flatMap(\.layers)
    if t % 2 == 0 { layers[t / 2].weights = values } else { layers[t / 2].bias = values }
    let e = model.encoder.layers.count, d = model.decoder.layers.count, c = model.context?.layers.count ?? 0
    let f = e + d + c + (model.rows == nil ? 0 : 2)
    return VAE(architecture: model.architecture, name: model.name, summary: model.summary, figures: model.figures,
               encoder: MLP(layers: Array(layers[0..<e])), decoder: MLP(layers: Array(layers[e..<(e + d)])),
               context: model.context == nil ? nil : MLP(layers: Array(layers[(e + d)..<(e + d + c)])),
               rows: model.rows == nil ? nil : RowNetworks(state: layers[e + d + c], global: layers[e + d + c + 1]),
               flows: model.flows.indices.map { MLP(layers: Array(layers[(f + 2 * $0)..<(f + 2 * $0 + 2)])) }).serialized()
  }

  /// Three images of the model's shape (binary for a Bernoulli head), coded on two lanes and
  /// decoded: the images come back and the message ends empty.
  static func roundTrips(_ model: VAE, seed: UInt64) throws -> Bool {
    let a = model.architecture
    let count = 3
    let images = Fixtures.images(count, height: a.height, width: a.width * a.channels, binary: a.likelihood.isBinary, seed: seed)
    let coder = ChunkCoder(model: model)
    let encoded = images.withUnsafeBufferPointer { coder.encode($0, imageCount: count, laneCount: 2) }
    var message = try ANSMessage(words: encoded.flattened(), laneCount: encoded.laneCount)
    var decoded = [UInt8](repeating: 0, count: images.count)
    let accepted = decoded.withUnsafeMutableBufferPointer { coder.decode(&message, imageCount: count, into: $0) }
    return accepted && decoded == images && message.isEmpty
  }

  @Test(arguments: models)
  func nonFiniteWeightsAreRefusedAndHugeOnesCode(_ name: String) throws {
    let model = try Self.load(name)
    #expect(try Self.roundTrips(model, seed: 1), "\(name) as it is")
    for (t, tensor) in Self.tensors(model).enumerated() {
      let index = tensor.values.count / 2
      for value in [Float.nan, .infinity, -.infinity] {
        var values = tensor.values
        values[index] = value
        do {
          _ = try VAE(contentsOf: Self.file(model, tensor: t, values: values))
          Issue.record("\(name): \(tensor.name)[\(index)] = \(value) loaded")
        } catch let error as ModelError {
          guard case let .nonFiniteValue(found, at, stored) = error else {
            Issue.record("\(name): \(tensor.name)[\(index)] = \(value) gave \(error)")
            continue
          }
          #expect(found == tensor.name && at == index && stored.bitPattern == value.bitPattern, "\(name): \(error)")
        }
      }
      // 1e30 at one element, at every element, and ±Float.max alternating over the whole tensor
      // (sums of those overflow to ±∞, and ∞ − ∞ gives NaN further on).
      var one = tensor.values
      one[index] = 1e30
      let every = [Float](repeating: 1e30, count: tensor.values.count)
      let alternating = (0..<tensor.values.count).map { $0 % 2 == 0 ? Float.greatestFiniteMagnitude : -.greatestFiniteMagnitude }
      for (what, values) in [("one 1e30", one), ("all 1e30", every), ("±max", alternating)] {
        let loaded: VAE
        do { loaded = try VAE(contentsOf: Self.file(model, tensor: t, values: values)) } catch is ModelError { continue }
        #expect(try Self.roundTrips(loaded, seed: UInt64(t)), "\(name): \(tensor.name) with \(what)")
      }
    }
  }
}
