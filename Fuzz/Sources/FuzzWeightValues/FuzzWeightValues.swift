import ANS
import BitsBack
import Foundation
import Model

/// Weights files damaged behind a valid checksum: the fuzzer's bytes say which numbers of which
/// tensors become NaN, ±∞, huge or any bit pattern, and the file is written again with its
/// checksum. A file with a non-finite number must be refused with `ModelError.nonFiniteValue`
/// naming the first one; any other must load, code a few images of its shape and decode them
/// back (the coder maps what huge weights overflow to, NaN and ±∞, to valid distributions), and
/// give a discretized −ELBO, without trapping.
///
/// This target reads the library's `package` declarations (`MLP`, `ChunkCoder`): Package.swift
/// compiles it with the main package's name.
///
/// Layout: model index, image count and lanes, image seed, then operations of 8 bytes: tensor
/// (u8, modulo the model's tensor count), kind (u8), element (u16, modulo the tensor's size),
/// payload (u32). Kinds, modulo 8: NaN, +∞, −∞, ±1e30 (sign from the payload), ±Float.max, the
/// payload's bits, the whole tensor set to the payload's bits, the whole tensor times 2^(payload % 128).
let models: [VAE] = {
  let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("testdata/golden")
  let golden = ["model-8bit.bbm", "model-binary.bbm", "model-rows.bbm", "model-householder.bbm", "model-iaf.bbm",
                "model-sylvester.bbm", "model-int16.bbm"].compactMap { name in
    FileManager.default.contents(atPath: folder.appendingPathComponent(name).path).flatMap { try? VAE(contentsOf: [UInt8]($0)) }
  }
  // Every head and both paths of the mixture (up to 4 components side by side, more one by one).
  let heads: [(Likelihood, ContextHead?, Int)] = [
    (.bernoulli, nil, 1), (.betaBinomial, nil, 2), (.logisticMixture(components: 1), nil, 1),
    (.logisticMixture(components: 3), nil, 1), (.logisticMixture(components: 6), nil, 1),
    (.logisticMixture(components: 2), ContextHead(features: 2, hidden: 4), 1),
    (.bernoulli, ContextHead(features: 1, hidden: 3, neighbourCount: 12), 1),
    (.betaBinomial, ContextHead(features: 2, hidden: 3, neighbourCount: 24), 1),
    // Row summaries (weights file version 2): with a global vector and moving averages, and
    // without, with deeper layers.
    (.logisticMixture(components: 2),
     ContextHead(features: 2, hidden: 4, neighbourCount: 12, rows: RowSummary(stateWidth: 2, globalWidth: 3)), 1),
    (.bernoulli, ContextHead(features: 1, hidden: 3, neighbourCount: 24,
                             rows: RowSummary(stateWidth: 3, globalWidth: 0, radius: 1, averages: 0, deeper: [4])), 1),
  ]
  let random = heads.enumerated().map { i, head in
    VAE(randomWith: Architecture(height: 4, width: 5, channels: head.2, encoderHidden: [6], decoderHidden: [5],
                                 latentCount: 2, bucketBits: 6, likelihood: head.0, context: head.1), seed: UInt64(i))
  }
  // Flow posteriors (weights file version 3), on a factorized and on a row-summary head.
  let posteriors: [(Posterior, Likelihood, ContextHead?)] = [
    (.householder(steps: 2), .betaBinomial, nil), (.iaf(steps: 2, hidden: 5, context: 2), .bernoulli, nil),
    (.iaf(steps: 1, hidden: 3, context: 0), .logisticMixture(components: 2), nil), (.sylvester(steps: 2), .betaBinomial, nil),
    (.iaf(steps: 2, hidden: 4, context: 1), .bernoulli,
     ContextHead(features: 1, hidden: 3, neighbourCount: 12, rows: RowSummary(stateWidth: 2, globalWidth: 2))),
  ]
  let flows = posteriors.enumerated().map { i, p in
    var a = Architecture(height: 4, width: 5, channels: 1, encoderHidden: [6], decoderHidden: [5],
                         latentCount: 3, bucketBits: 6, likelihood: p.1, context: p.2)
    a.posterior = p.0
    return VAE(randomWith: a, seed: UInt64(100 + i))
  }
  return golden + random + flows
}()

struct Reader {
  let bytes: [UInt8]
  var position = 0
  mutating func u8() -> UInt8 { defer { position += 1 }; return position < bytes.count ? bytes[position] : 0 }
  mutating func u16() -> Int { Int(u8()) | Int(u8()) << 8 }
  mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }
  var atEnd: Bool { position >= bytes.count }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWeightValues(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var input = Reader(bytes: Array(UnsafeBufferPointer(start: data, count: size)))
  let model = models[Int(input.u8()) % models.count]
  let shape = input.u8()
  let imageCount = Int(shape % 4) + 1, laneCount = Int(shape / 4 % 3) + 1
  let imageSeed = input.u8()

  // The damage, tensor by tensor (file order: each layer's weights, then its bias).
  var layers = model.encoder.layers + model.decoder.layers + (model.context?.layers ?? []) + (model.rows?.layers ?? [])
    + model.flows.flatMap(\.layers)
  var operations = 0
  while !input.atEnd && operations < 64 {
    operations += 1
    let t = Int(input.u8()) % (2 * layers.count)
    let kind = input.u8() % 8
    let element = input.u16()
    let payload = input.u32()
    var values = t % 2 == 0 ? layers[t / 2].weights : layers[t / 2].bias
    guard !values.isEmpty else { continue }  // a global layer of width 0 has empty tensors
    let index = element % values.count
    let sign: Float = payload & 1 == 0 ? 1 : -1
    switch kind {
    case 0: values[index] = .nan
    case 1: values[index] = .infinity
    case 2: values[index] = -.infinity
    case 3: values[index] = sign * 1e30
    case 4: values[index] = sign * .greatestFiniteMagnitude
    case 5: values[index] = Float(bitPattern: payload)
    case 6: values = [Float](repeating: Float(bitPattern: payload), count: values.count)
    default: values = values.map { $0 * Float(sign: .plus, exponent: Int(payload % 128), significand: 1) }
    }
    if t % 2 == 0 { layers[t / 2].weights = values } else { layers[t / 2].bias = values }
  }
  let e = model.encoder.layers.count, d = model.decoder.layers.count, c = model.context?.layers.count ?? 0
  let f = model.flows.first?.layers.count ?? 0  // every step's MADE (or A and B) has the same layers
  let damaged = VAE(
    architecture: model.architecture, name: model.name, summary: model.summary, figures: model.figures,
    encoder: MLP(layers: Array(layers[0..<e])), decoder: MLP(layers: Array(layers[e..<(e + d)])),
    context: model.context == nil ? nil : MLP(layers: Array(layers[(e + d)..<(e + d + c)])),
    rows: model.rows == nil ? nil : RowNetworks(state: layers[e + d + c], global: layers[e + d + c + 1]),
    flows: model.flows.indices.map { k in
      let start = e + d + c + (model.rows == nil ? 0 : 2) + k * f
      return MLP(layers: Array(layers[start..<(start + f)]))
    })
  let bytes = damaged.serialized()

  // The first non-finite number in file order, which the reader must name.
  var firstNonFinite: (tensor: Int, index: Int)?
  for (t, values) in layers.flatMap({ [$0.weights, $0.bias] }).enumerated() {
    if let index = values.firstIndex(where: { !$0.isFinite }) { firstNonFinite = (t, index); break }
  }
  let loaded: VAE
  do {
    loaded = try VAE(contentsOf: bytes)
  } catch let error as ModelError {
    let rowCount = model.rows == nil ? 0 : 1
    let flowNetworks = model.flows.indices.map { ("flow\($0)", f) }
    let names = ([("encoder", e), ("decoder", d), ("context", c), ("state", rowCount), ("global", rowCount)] + flowNetworks).flatMap { network, count in
      (0..<count).flatMap { ["\(network).\($0).weight", "\(network).\($0).bias"] }
    }
    guard case let .nonFiniteValue(tensor, index, value) = error, let first = firstNonFinite,
      tensor == names[first.tensor], first.index == index, !value.isFinite
    else {
      fatalError("weights: the damaged file was refused with '\(error)', where \(firstNonFinite.map { "tensor \($0.tensor) element \($0.index)" } ?? "nothing") is non-finite")
    }
    return 0
  } catch {
    fatalError("weights: the reader threw \(error), which is not a ModelError")
  }
  if let first = firstNonFinite { fatalError("weights: tensor \(first.tensor) holds a non-finite number at \(first.index), and the file loaded") }

  // A few images of the model's shape, coded and decoded.
  let a = loaded.architecture
  var state = UInt64(imageSeed) &+ 0x9E37_79B9_7F4A_7C15
  let images: [UInt8] = (0..<(imageCount * a.pixelCount)).map { _ in
    state = state &* 6364136223846793005 &+ 1442695040888963407
    let v = UInt8(truncatingIfNeeded: state >> 56)
    return a.likelihood.isBinary ? v >> 7 : v
  }
  let coder = ChunkCoder(model: loaded)
  let encoded = images.withUnsafeBufferPointer { coder.encode($0, imageCount: imageCount, laneCount: laneCount) }
  guard var message = try? ANSMessage(words: encoded.flattened(), laneCount: encoded.laneCount) else {
    fatalError("weights: the encoder's message does not read back")
  }
  var decoded = [UInt8](repeating: 0, count: images.count)
  let accepted = decoded.withUnsafeMutableBufferPointer { coder.decode(&message, imageCount: imageCount, into: $0) }
  guard accepted && decoded == images && message.isEmpty else {
    fatalError("weights: \(imageCount) images coded with a damaged \(a.headName) model do not decode back")
  }
  _ = images.withUnsafeBufferPointer { loaded.discretizedNegativeELBO(pixels: $0, count: imageCount) }
  return 0
}
