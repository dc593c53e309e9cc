// The weights file: a round trip keeps every bit and the identity; every damaged file gives its
// own `ModelError`, never a crash and never a model.

import Model
import Testing

/// The error that reading `bytes` throws, or nil when they load.
private func readError(_ bytes: [UInt8]) -> ModelError? {
  do {
    _ = try VAE(contentsOf: bytes)
    return nil
  } catch let error as ModelError {
    return error
  } catch {
    Issue.record("VAE(contentsOf:) threw \(error), which is not a ModelError")
    return nil
  }
}

/// The offset of the first occurrence of `needle` in `haystack`.
private func offset(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
  guard needle.count <= haystack.count else { return nil }
  return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
}

struct WeightsFileTests {
  static let architectures: [Architecture] = [
    Architecture(height: 3, width: 4, encoderHidden: [6], decoderHidden: [5, 7], latentCount: 2, bucketBits: 10,
                 likelihood: .bernoulli),
    Architecture(height: 2, width: 3, channels: 2, encoderHidden: [], decoderHidden: [4], latentCount: 3, bucketBits: 8,
                 likelihood: .betaBinomial),
    Architecture(height: 4, width: 4, encoderHidden: [8, 8], decoderHidden: [], latentCount: 1, bucketBits: 12,
                 likelihood: .logisticMixture(components: 3)),
    // Context heads: the default neighbourhood (two head parameters) and a wider one (three).
    Architecture(height: 4, width: 5, encoderHidden: [6], decoderHidden: [5], latentCount: 2, bucketBits: 10,
                 likelihood: .logisticMixture(components: 2), context: ContextHead(features: 2, hidden: 3)),
    Architecture(height: 4, width: 5, encoderHidden: [6], decoderHidden: [5], latentCount: 2, bucketBits: 10,
                 likelihood: .bernoulli, context: ContextHead(features: 1, hidden: 4, neighbourCount: 12)),
  ] + flowArchitectures + integerArchitectures

  /// int16 arithmetic (version 4): a plain model, and one with a row summary and an IAF.
  static let integerArchitectures: [Architecture] = [
    Architecture(height: 3, width: 4, encoderHidden: [6], decoderHidden: [5, 7], latentCount: 2, bucketBits: 10,
                 likelihood: .bernoulli, arithmetic: .int16),
    Architecture(height: 4, width: 5, encoderHidden: [6], decoderHidden: [5], latentCount: 3, bucketBits: 10,
                 likelihood: .logisticMixture(components: 2),
                 context: ContextHead(features: 1, hidden: 4, rows: RowSummary(stateWidth: 2, globalWidth: 2)),
                 posterior: .iaf(steps: 1, hidden: 5, context: 2), arithmetic: .int16),
  ]

  /// Flow posteriors (version 3): without a context head, with a local one, and with a row summary.
  static let flowArchitectures: [Architecture] = [
    Architecture(height: 3, width: 4, encoderHidden: [6], decoderHidden: [5], latentCount: 3, bucketBits: 10,
                 likelihood: .bernoulli, posterior: .householder(steps: 2)),
    Architecture(height: 4, width: 5, encoderHidden: [6], decoderHidden: [5], latentCount: 4, bucketBits: 10,
                 likelihood: .logisticMixture(components: 2), context: ContextHead(features: 2, hidden: 3),
                 posterior: .iaf(steps: 1, hidden: 3, context: 0)),
    Architecture(height: 4, width: 5, encoderHidden: [6], decoderHidden: [5], latentCount: 3, bucketBits: 10,
                 likelihood: .bernoulli,
                 context: ContextHead(features: 1, hidden: 4, rows: RowSummary(stateWidth: 2, globalWidth: 2)),
                 posterior: .iaf(steps: 2, hidden: 5, context: 2)),
  ]

  static var small: VAE {
    VAE(randomWith: architectures[1], seed: 3).with(name: "small", summary: "a test model",
                                                     figures: NegativeELBO(reconstruction: 3.5, kl: 0.25))
  }

  @Test(arguments: architectures)
  func roundTripKeepsEveryBitAndTheIdentity(_ architecture: Architecture) throws {
    let model = VAE(randomWith: architecture, seed: 17)
      .with(name: "round-trip", summary: "ünïcode summary ✓", figures: NegativeELBO(reconstruction: 1.25, kl: 0.125))
    let bytes = model.serialized()
    let loaded = try VAE(contentsOf: bytes)
    #expect(loaded.architecture == architecture)
    #expect(loaded.name == "round-trip")
    #expect(loaded.summary == "ünïcode summary ✓")
    #expect(loaded.figures == model.figures)
    #expect(loaded.encoder == model.encoder)
    #expect(loaded.decoder == model.decoder)
    #expect(loaded.flows == model.flows)
    #expect(loaded.identity == model.identity)
    #expect(loaded.serialized() == bytes)
    // The identity is a function of the bytes: the same seed gives it again, another seed does not.
    #expect(VAE(randomWith: architecture, seed: 17).identity == VAE(randomWith: architecture, seed: 17).identity)
    #expect(VAE(randomWith: architecture, seed: 18).identity != VAE(randomWith: architecture, seed: 17).identity)
    // Metadata is part of the identity too.
    #expect(model.with(name: "other").identity != model.identity)
  }

  @Test func everyTruncationThrowsTruncated() {
    let bytes = Self.small.serialized()
    for length in 0..<bytes.count {
      let error = readError(Array(bytes[0..<length]))
      guard case .truncated(_, let offset, let needed, let available)? = error else {
        Issue.record("a file cut to \(length) of \(bytes.count) bytes gives \(String(describing: error)), not .truncated")
        continue
      }
      #expect(offset + available == length && needed > available, "cut to \(length): \(error!)")
    }
  }

  @Test func truncationNamesTheField() {
    let bytes = Self.small.serialized()
    #expect(readError([]) == .truncated(field: "magic", offset: 0, needed: 8, available: 0))
    #expect(readError(Array(bytes[0..<5])) == .truncated(field: "magic", offset: 0, needed: 8, available: 5))
    #expect(readError(Array(bytes[0..<10])) == .truncated(field: "version", offset: 8, needed: 4, available: 2))
    #expect(readError(Array(bytes[0..<(bytes.count - 3)])) == .truncated(field: "checksum", offset: bytes.count - 8, needed: 8, available: 5))
  }

  @Test func flippedByteInTheWeightsThrowsChecksumMismatch() {
    let bytes = Self.small.serialized()
    for position in [bytes.count - 40, bytes.count - 9, bytes.count - 1] {
      var damaged = bytes
      damaged[position] ^= 0x10
      guard case .checksumMismatch(let stored, let computed)? = readError(damaged) else {
        Issue.record("a flipped byte at \(position) gives \(String(describing: readError(damaged)))")
        continue
      }
      #expect(stored != computed)
    }
  }

  /// Whatever byte is damaged, reading throws (the checksum covers every byte) and never crashes.
  @Test func everyFlippedByteThrows() {
    let bytes = Self.small.serialized()
    for position in bytes.indices {
      for mask: UInt8 in [0x01, 0x80, 0xFF] {
        var damaged = bytes
        damaged[position] ^= mask
        #expect(readError(damaged) != nil, "byte \(position) ^ \(mask) still loads")
      }
    }
  }

  @Test func badMagicAndVersion() {
    var bytes = Self.small.serialized()
    bytes[0] = UInt8(ascii: "X")
    #expect(readError(bytes) == .badMagic(found: Array("XBANSMDL".utf8)))
    bytes = Self.small.serialized()
    bytes[8] = 9
    #expect(readError(bytes) == .unsupportedVersion(9))
  }

  /// Each model is written with the lowest version that holds it: 1 without a row summary or a
  /// flow, 2 with a row summary, 3 with a flow posterior, 4 with int16 arithmetic.
  @Test func versionIsTheLowestThatHoldsTheModel() {
    #expect(Self.architectures.count == 10)
    for (architecture, version) in zip(Self.architectures, [1, 1, 1, 1, 1, 3, 3, 3, 4, 4] as [UInt8]) {
      #expect(VAE(randomWith: architecture, seed: 1).serialized()[8] == version, "\(architecture.posterior.description)")
    }
  }

  /// An arithmetic this build does not know is refused by name, from the header alone; the
  /// int16 form of a model is another model (another identity) whose encoder and decoder carry
  /// their integer form, and whose Float weights are the same.
  @Test func arithmeticIsStoredAndAnUnknownOneIsRefused() throws {
    let float = VAE(randomWith: Self.architectures[0], seed: 5)
    let integer = float.with(arithmetic: .int16)
    #expect(integer.identity != float.identity)
    #expect(integer.encoder.layers.allSatisfy { $0.integer != nil } && integer.decoder.layers.allSatisfy { $0.integer != nil })
    #expect(float.encoder.layers.allSatisfy { $0.integer == nil })
    #expect(integer.encoder.layers.map(\.weights) == float.encoder.layers.map(\.weights))
    #expect(integer.with(arithmetic: .float32).identity == float.identity)
    var bytes = integer.serialized()
    let at = try #require(offset(of: Array("int16".utf8), in: bytes))
    bytes.replaceSubrange(at..<(at + 5), with: Array("int17".utf8))
    #expect(throws: ModelError.unknownArithmetic("int17")) { try VAE.architecture(ofWeightsFile: bytes) }
    #expect(readError(bytes) == .unknownArithmetic("int17"))
    #expect(readError(bytes)?.description == "the model file's arithmetic is 'int17', which this build does not know")
    // Changing a weight (training) drops the integer form, which was rounded from the old weights.
    var layer = integer.encoder.layers[0]
    layer.weights[0] += 1
    #expect(layer.integer == nil)
  }

  /// A posterior this build does not know is refused by name, from the header alone; a known
  /// one with the wrong number of sizes, or impossible sizes, as an impossible model.
  @Test func unknownOrMalformedPosteriorIsRefused() throws {
    let model = VAE(randomWith: Self.flowArchitectures[0], seed: 2)
    var bytes = model.serialized()
    let at = try #require(offset(of: Array("householder".utf8), in: bytes))
    bytes.replaceSubrange(at..<(at + 11), with: Array("householdex".utf8))
    #expect(throws: ModelError.unknownPosterior("householdex")) { try VAE.architecture(ofWeightsFile: bytes) }
    #expect(readError(bytes) == .unknownPosterior("householdex"))
    #expect(readError(bytes)?.description == "the model file's posterior is 'householdex', which this build does not know")
    // "diagonal" is a posterior kind of version 4 only: a version-3 file holds a flow.
    bytes = model.serialized()
    bytes.replaceSubrange((at - 4)..<(at + 19), with: [8, 0, 0, 0] + Array("diagonal".utf8) + [0, 0, 0, 0])
    #expect(throws: ModelError.unknownPosterior("diagonal")) { try VAE.architecture(ofWeightsFile: bytes) }
    bytes[8] = 4
    bytes.insert(contentsOf: [7, 0, 0, 0] + Array("float32".utf8), at: at - 4 + 16)
    #expect(try VAE.architecture(ofWeightsFile: bytes).posterior == .diagonal)
    // householder with two sizes: the size count field follows the name.
    bytes = model.serialized()
    bytes.replaceSubrange((at + 11)..<(at + 15), with: [2, 0, 0, 0])
    bytes.insert(contentsOf: [1, 0, 0, 0], at: at + 19)
    guard case .invalidArchitecture(let reason)? = readError(bytes) else { Issue.record("two sizes accepted"); return }
    #expect(reason.contains("householder"))
    // 99 steps: out of range.
    bytes = model.serialized()
    bytes.replaceSubrange((at + 15)..<(at + 19), with: [99, 0, 0, 0])
    guard case .invalidArchitecture(let steps)? = readError(bytes) else { Issue.record("99 steps accepted"); return }
    #expect(steps.contains("99 steps"))
  }

  /// Flow tensors of the wrong size are refused with the tensor's index and shapes.
  @Test func flowTensorOfTheWrongShapeIsRefused() throws {
    let architecture = Self.flowArchitectures[2]
    var other = architecture
    other.posterior = .iaf(steps: 2, hidden: 6, context: 2)
    let bytes = VAE(randomWith: other, seed: 4).serialized()
    // The header of `architecture` with the tensors of `other`: same header length (hidden 5 → 6
    // is one u32), so only the tensor shapes disagree.
    let header = VAE(randomWith: architecture, seed: 4).serialized()
    let at = try #require(offset(of: Array("iaf".utf8), in: header))
    var damaged = bytes
    damaged.replaceSubrange(0..<(at + 3 + 16), with: header[0..<(at + 3 + 16)])
    guard case .tensorShapeMismatch(let index, let expected, let found)? = readError(damaged) else {
      Issue.record("the flow's tensors of another size were not refused: \(String(describing: readError(damaged)))")
      return
    }
    #expect(expected != found)
    #expect(index >= 2)
  }

  @Test func unknownLikelihoodName() throws {
    // The same length, so the rest of the file lines up; the name is read before the checksum.
    var bytes = Self.small.serialized()
    let at = try #require(offset(of: Array("beta-binomial".utf8), in: bytes))
    bytes.replaceSubrange(at..<(at + 13), with: Array("beta-binomiax".utf8))
    #expect(readError(bytes) == .unknownLikelihood("beta-binomiax"))
    // Another length: the length field before the name changes too.
    bytes = Self.small.serialized()
    bytes.replaceSubrange((at - 4)..<(at + 13), with: [5, 0, 0, 0] + Array("gauss".utf8))
    #expect(readError(bytes) == .unknownLikelihood("gauss"))
  }

  /// A context head's parameters: the neighbour count is stored only when it is not the default
  /// six (so older files read as before), and a count outside the neighbour order is refused.
  @Test func contextNeighbourCountIsStoredAndChecked() throws {
    let wide = VAE(randomWith: Self.architectures[4], seed: 5)
    var bytes = wide.serialized()
    let name = Array("context-bernoulli".utf8)
    let at = try #require(offset(of: name, in: bytes)) + name.count
    #expect(Array(bytes[at..<(at + 16)]) == [3, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 12, 0, 0, 0])
    bytes[at + 12] = UInt8(ContextHead.neighbourOrder.count + 1)
    #expect(readError(bytes) == .invalidArchitecture("the context network's 25 neighbours are not in 1...24"))
    bytes[at + 12] = 0
    #expect(readError(bytes) == .invalidArchitecture("the context network's 0 neighbours are not in 1...24"))

    let narrow = VAE(randomWith: Self.architectures[3], seed: 5).serialized()
    let mixture = Array("context-logistic-mixture".utf8)
    let at2 = try #require(offset(of: mixture, in: narrow)) + mixture.count
    #expect(Array(narrow[at2..<(at2 + 16)]) == [3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0])
  }

  @Test func trailingBytesAreReported() {
    let bytes = Self.small.serialized()
    #expect(readError(bytes + [0]) == .trailingBytes(count: 1))
    #expect(readError(bytes + [1, 2, 3]) == .trailingBytes(count: 3))
  }

  @Test func errorDescriptionsAreSentences() {
    let errors: [ModelError] = [
      .truncated(field: "magic", offset: 0, needed: 8, available: 3), .badMagic(found: [1, 2]), .unsupportedVersion(7),
      .unknownLikelihood("x"), .checksumMismatch(stored: 1, computed: 2), .invalidArchitecture("why"),
      .tensorShapeMismatch(index: 1, expected: [2, 3], found: [3, 2]), .invalidText(field: "name"), .trailingBytes(count: 2),
      .nonFiniteFigure(field: "KL figure", value: .infinity),
    ]
    for error in errors {
      #expect(error.description.contains("model file") && !error.description.contains("Optional("), "\(error)")
    }
    #expect(ModelError.nonFiniteValue(tensor: "decoder.1.weight", index: 17, value: .nan).description
      == "tensor 'decoder.1.weight' holds NaN at index 17")
    #expect(ModelError.nonFiniteValue(tensor: "encoder.0.bias", index: 0, value: -.infinity).description
      == "tensor 'encoder.0.bias' holds -Inf at index 0")
  }

  /// `model` with element `index` of tensor `tensor` (file order) set to `value`, serialized:
  /// its checksum is that of the damaged bytes, so the file gets past the checksum.
  static func damaged(_ model: VAE, tensor: Int, index: Int, value: Float) -> [UInt8] {
    var layers = model.encoder.layers + model.decoder.layers + (model.context?.layers ?? []) + (model.rows?.layers ?? [])
      + model.flows.flatMap(\.layers)
    if tensor % 2 == 0 { layers[tensor / 2].weights[index] = value } else { layers[tensor / 2].bias[index] = value }
    let e = model.encoder.layers.count, d = model.decoder.layers.count, c = model.context?.layers.count ?? 0
    let s = model.rows == nil ? 0 : 2, f = e + d + c + s
    return VAE(architecture: model.architecture, name: model.name, summary: model.summary, figures: model.figures,
               encoder: MLP(layers: Array(layers[0..<e])), decoder: MLP(layers: Array(layers[e..<(e + d)])),
               context: model.context == nil ? nil : MLP(layers: Array(layers[(e + d)..<(e + d + c)])),
               rows: model.rows == nil ? nil : RowNetworks(state: layers[e + d + c], global: layers[e + d + c + 1]),
               flows: model.flows.indices.map { MLP(layers: Array(layers[(f + 2 * $0)..<(f + 2 * $0 + 2)])) }).serialized()
  }

  /// Every tensor of every head, NaN, +∞ and −∞ at its first, middle and last element: the
  /// reader names the tensor and the element.
  @Test(arguments: architectures)
  func aNonFiniteWeightIsRefusedWithItsTensorAndIndex(_ architecture: Architecture) {
    let model = VAE(randomWith: architecture, seed: 5)
    let networks: [(String, Int)] = [("encoder", model.encoder.layers.count), ("decoder", model.decoder.layers.count),
                                     ("context", model.context?.layers.count ?? 0), ("state", model.rows == nil ? 0 : 1),
                                     ("global", model.rows == nil ? 0 : 1)] + model.flows.indices.map { ("flow\($0)", 2) }
    let names = networks.flatMap { network, count in
      (0..<count).flatMap { ["\(network).\($0).weight", "\(network).\($0).bias"] }
    }
    let layers = model.encoder.layers + model.decoder.layers + (model.context?.layers ?? []) + (model.rows?.layers ?? [])
      + model.flows.flatMap(\.layers)
    #expect(names.count == 2 * layers.count)
    for (t, name) in names.enumerated() {
      let size = t % 2 == 0 ? layers[t / 2].weights.count : layers[t / 2].bias.count
      for index in Set([0, size / 2, size - 1]).sorted() {
        for value in [Float.nan, .infinity, -.infinity] {
          guard case let .nonFiniteValue(tensor, at, found)? = readError(Self.damaged(model, tensor: t, index: index, value: value))
          else {
            Issue.record("\(name)[\(index)] = \(value) was not refused as non-finite")
            continue
          }
          #expect(tensor == name && at == index && found.bitPattern == value.bitPattern, "\(name)[\(index)] = \(value)")
        }
      }
    }
  }

  @Test func hugeFiniteWeightsLoad() throws {
    let model = Self.small
    for value in [Float(1e30), -.greatestFiniteMagnitude, .leastNonzeroMagnitude] {
      let loaded = try VAE(contentsOf: Self.damaged(model, tensor: 0, index: 1, value: value))
      #expect(loaded.encoder.layers[0].weights[1] == value)
    }
  }

  @Test func aNonFiniteFigureIsRefused() {
    let model = Self.small
    #expect(readError(model.with(figures: NegativeELBO(reconstruction: .nan, kl: 0)).serialized())?.description
      == "the model file's reconstruction figure is NaN")
    #expect(readError(model.with(figures: NegativeELBO(reconstruction: 1, kl: -.infinity)).serialized())
      == .nonFiniteFigure(field: "KL figure", value: -.infinity))
    #expect(model.with(figures: NegativeELBO(reconstruction: 1, kl: .infinity)).nonFiniteValue
      == .nonFiniteFigure(field: "KL figure", value: .infinity))
    #expect(model.nonFiniteValue == nil)
  }

  /// The coder's mixture holds at most 8 components: a file that declares more is refused
  /// before its tensors are read.
  @Test func moreThanEightMixtureComponentsAreRefused() {
    let eight = Architecture(height: 2, width: 2, encoderHidden: [], decoderHidden: [], latentCount: 1, bucketBits: 4,
                             likelihood: .logisticMixture(components: 8))
    #expect(eight.problem == nil)
    var bytes = VAE(randomWith: eight, seed: 1).serialized()
    // The component count is the u32 after the head's name and the parameter count.
    let name = Array("logistic-mixture".utf8)
    let at = offset(of: name, in: bytes)! + name.count + 4
    #expect(bytes[at] == 8)
    bytes[at] = 9
    #expect(readError(bytes) == .invalidArchitecture("the mixture has 9 components, not in 1...8"))
  }
}
