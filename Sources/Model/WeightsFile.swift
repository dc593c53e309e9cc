import PortableMath
import Hashing
/// Why a weights file could not be read. Each case carries the evidence.
public enum ModelError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file ends before the field `field`, which needs `needed` bytes at `offset`.
  case truncated(field: String, offset: Int, needed: Int, available: Int)
  /// The first 8 bytes are not "BBANSMDL".
  case badMagic(found: [UInt8])
  case unsupportedVersion(UInt32)
  case unknownLikelihood(String)
  /// The context head's summary of the causal past is of a kind this build does not know.
  case unknownContextSummary(String)
  /// The posterior is of a kind this build does not know.
  case unknownPosterior(String)
  /// The encoder's and decoder's arithmetic is of a kind this build does not know.
  case unknownArithmetic(String)
  /// The trailing XXH64 does not match the bytes before it.
  case checksumMismatch(stored: UInt64, computed: UInt64)
  /// The header describes a model that cannot be built.
  case invalidArchitecture(String)
  /// Tensor `index` has shape rows × columns where the architecture needs another.
  case tensorShapeMismatch(index: Int, expected: [Int], found: [Int])
  /// A string field is not valid UTF-8.
  case invalidText(field: String)
  /// Bytes remain between the last tensor and the checksum.
  case trailingBytes(count: Int)
  /// Element `index` (row-major) of the tensor named `tensor` (`WeightsFile.tensorNames`) is
  /// NaN or infinite: no network output computed from it would mean anything.
  case nonFiniteValue(tensor: String, index: Int, value: Float)
  /// A recorded validation figure (`field`: "reconstruction figure" or "KL figure") is NaN or infinite.
  case nonFiniteFigure(field: String, value: Double)

  public var description: String {
    switch self {
    case let .truncated(field, offset, needed, available):
      return "the model file is truncated: its \(field) needs \(needed) bytes at offset \(offset), but only \(available) remain"
    case let .badMagic(found):
      return "this is not a bbans model file: it starts with \(found.map { String($0, radix: 16) }) instead of \"BBANSMDL\""
    case let .unsupportedVersion(v):
      return "the model file has version \(v), which this build does not know (it reads versions 1 to \(WeightsFile.version))"
    case let .unknownLikelihood(name):
      return "the model file uses the likelihood head '\(name)', which this build does not know"
    case let .unknownContextSummary(name):
      return "the model file's context head summarises the causal past with '\(name)', which this build does not know"
    case let .unknownPosterior(name):
      return "the model file's posterior is '\(name)', which this build does not know"
    case let .unknownArithmetic(name):
      return "the model file's arithmetic is '\(name)', which this build does not know"
    case let .checksumMismatch(stored, computed):
      return "the model file is corrupt: its checksum says 0x\(String(stored, radix: 16)) but its bytes give 0x\(String(computed, radix: 16))"
    case let .invalidArchitecture(reason):
      return "the model file describes an impossible model: \(reason)"
    case let .tensorShapeMismatch(index, expected, found):
      return "tensor \(index) of the model file has shape \(found) where the architecture needs \(expected)"
    case let .invalidText(field):
      return "the model file's \(field) is not valid UTF-8"
    case let .trailingBytes(count):
      return "the model file has \(count) unexpected bytes before its checksum"
    case let .nonFiniteValue(tensor, index, value):
      return "tensor '\(tensor)' holds \(ModelError.describe(Double(value))) at index \(index)"
    case let .nonFiniteFigure(field, value):
      return "the model file's \(field) is \(ModelError.describe(value))"
    }
  }
}

extension ModelError {
  /// "NaN", "+Inf" or "-Inf" (what the cases above carry), or the value itself.
  static func describe(_ value: Double) -> String {
    value.isNaN ? "NaN" : value == .infinity ? "+Inf" : value == -.infinity ? "-Inf" : "\(value)"
  }
}

/// The weights file (docs/MODEL_FORMAT.md): little-endian, magic, version, architecture, name,
/// summary, training figures, tensors, trailing XXH64 of everything before it.
enum WeightsFile {
  static let magic: [UInt8] = Array("BBANSMDL".utf8)
  /// The newest version this build reads and writes. Version 2 adds the context head's summary
  /// of the causal past (`RowSummary`); version 3 the posterior (`Posterior`), with "none" for
  /// the summary of a model that has none; version 4 the arithmetic (`Arithmetic`). Each model
  /// is written with the lowest version that holds it, byte for byte as before, so that no
  /// model's identity ever changes.
  static let version: UInt32 = 4

  /// The version a model of this architecture is written with.
  static func version(for a: Architecture) -> UInt32 {
    a.arithmetic != .float32 ? 4 : a.posterior.isFlow ? 3 : a.context?.rows == nil ? 1 : 2
  }

  /// The summary kind a version-3 file names for a model without a row summary.
  static let noSummaryName = "none"

  /// The networks in file order, with their names in errors: the IAF's MADEs are "flow0",
  /// "flow1", … after the row summary.
  static func networkSizes(_ a: Architecture) -> [(name: String, sizes: [Int])] {
    [("encoder", a.encoderSizes), ("decoder", a.decoderSizes), ("context", a.contextSizes),
     ("state", a.rowStateSizes), ("global", a.rowGlobalSizes)]
      + (0..<a.posterior.flowSteps).map { ("flow\($0)", a.flowSizes) }
  }

  /// The tensors in file order: each layer's weights [in][out] then its bias, encoder first.
  static func tensorShapes(_ a: Architecture) -> [[Int]] {
    var shapes: [[Int]] = []
    for sizes in networkSizes(a).map(\.sizes) where !sizes.isEmpty {
      for (n, m) in zip(sizes, sizes.dropFirst()) { shapes.append([n, m]); shapes.append([1, m]) }
    }
    return shapes
  }

  /// The tensors' names in file order, as errors give them: "encoder.0.weight",
  /// "encoder.0.bias", …, "decoder.2.weight", …, "context.1.bias", "state.0.weight",
  /// "global.0.bias" (network, layer from 0, part).
  static func tensorNames(_ a: Architecture) -> [String] {
    var names: [String] = []
    for (network, sizes) in networkSizes(a) where !sizes.isEmpty {
      for layer in 0..<(sizes.count - 1) { names += ["\(network).\(layer).weight", "\(network).\(layer).bias"] }
    }
    return names
  }

  /// The first NaN or infinite value of the tensors (in file order) and figures, as the error
  /// a reader throws, or nil when every stored number is finite.
  static func nonFiniteValue(_ a: Architecture, tensors: [[Float]], figures: NegativeELBO) -> ModelError? {
    for (field, value) in [("reconstruction figure", figures.reconstruction), ("KL figure", figures.kl)] where !value.isFinite {
      return .nonFiniteFigure(field: field, value: value)
    }
    let names = tensorNames(a)
    for (t, tensor) in tensors.enumerated() {
      if let index = tensor.firstIndex(where: { !$0.isFinite }) {
        return .nonFiniteValue(tensor: names[t], index: index, value: tensor[index])
      }
    }
    return nil
  }
}

extension VAE {
  /// The architecture a weights file declares, read from its first bytes: neither the tensors
  /// nor the checksum are read, so this says what the file claims, not that it loads.
  /// - Parameter prefix: the file, or its first `VAE.weightsFileHeaderLimit` bytes or more.
  /// - Throws: `ModelError`.
  public static func architecture(ofWeightsFile prefix: [UInt8]) throws -> Architecture {
    var r = ByteReader(bytes: prefix)
    return try readArchitecture(&r)
  }

  /// The most bytes before a weights file's name field: magic, version, shape, two size lists
  /// of at most 64, latents, bucket bits, a head name of at most 4096 bytes, a size list.
  /// Versions 2 and 3 add a kind name and a size list each, version 4 a name.
  public static let weightsFileHeaderLimit = 8 + 4 + 12 + 2 * (4 + 64 * 4) + 8 + 3 * ((4 + 4096) + (4 + 64 * 4)) + (4 + 4096)

  /// Magic, version and architecture, up to the name.
  static func readArchitecture(_ r: inout ByteReader) throws -> Architecture {
    let magic = try r.bytes(8, "magic")
    guard magic == WeightsFile.magic else { throw ModelError.badMagic(found: magic) }
    let version = try r.u32("version")
    guard (1...WeightsFile.version).contains(version) else { throw ModelError.unsupportedVersion(version) }
    let height = Int(try r.u32("height")), width = Int(try r.u32("width")), channels = Int(try r.u32("channels"))
    let encoderHidden = try r.sizes("encoder hidden sizes")
    let decoderHidden = try r.sizes("decoder hidden sizes")
    let latentCount = Int(try r.u32("latent count"))
    let bucketBits = Int(try r.u32("bucket bits"))
    let fullHeadName = try r.text("likelihood name")
    var headParameters = try r.sizes("likelihood parameters")
    // "context-NAME": the head's own parameters (0 or 1), then the context network's features,
    // hidden width and, unless it is the default 6, its neighbour count.
    var context: ContextHead?
    var headName = fullHeadName
    if headName.hasPrefix("context-") {
      headName.removeFirst("context-".count)
      let own = headName == "logistic-mixture" ? 1 : 0
      let extra = headParameters.count - own
      guard extra == 2 || extra == 3 else {
        throw ModelError.invalidArchitecture("the likelihood head '\(fullHeadName)' has \(headParameters.count) parameters")
      }
      context = ContextHead(
        features: headParameters[own], hidden: headParameters[own + 1],
        neighbourCount: extra == 3 ? headParameters[own + 2] : ContextHead.defaultNeighbourCount)
      headParameters.removeLast(extra)
    }
    let likelihood: Likelihood
    switch (headName, headParameters.count) {
    case ("bernoulli", 0): likelihood = .bernoulli
    case ("beta-binomial", 0): likelihood = .betaBinomial
    case ("logistic-mixture", 1): likelihood = .logisticMixture(components: headParameters[0])
    case ("bernoulli", _), ("beta-binomial", _), ("logistic-mixture", _):
      throw ModelError.invalidArchitecture("the likelihood head '\(fullHeadName)' has \(headParameters.count) parameters")
    default: throw ModelError.unknownLikelihood(fullHeadName)
    }
    if version >= 2 {
      // The context head's summary of the causal past: a kind name, then its sizes.
      let kind = try r.text("context summary kind")
      let sizes = try r.sizes("context summary sizes")
      if version >= 3 && kind == WeightsFile.noSummaryName {
        guard sizes.isEmpty else { throw ModelError.invalidArchitecture("the summary 'none' has \(sizes.count) sizes") }
      } else {
      guard kind == RowSummary.kindName else { throw ModelError.unknownContextSummary(kind) }
      guard context != nil else {
        throw ModelError.invalidArchitecture("the head '\(fullHeadName)' has no context network for a row summary")
      }
      guard sizes.count >= 4 else {
        throw ModelError.invalidArchitecture("the row summary has \(sizes.count) sizes, not at least 4")
      }
      context?.rows = RowSummary(
        stateWidth: sizes[0], globalWidth: sizes[1], radius: sizes[2], averages: sizes[3], deeper: Array(sizes.dropFirst(4)))
      }
    }
    var posterior = Posterior.diagonal
    if version >= 3 {
      // The posterior: a kind name, then its sizes.
      let kind = try r.text("posterior kind")
      let sizes = try r.sizes("posterior sizes")
      // A version-3 file holds a flow (a diagonal posterior is written as version 1 or 2), so it
      // does not know "diagonal"; version 4 names whatever posterior the model has.
      switch (kind, sizes.count) {
      case ("diagonal", _) where version < 4: throw ModelError.unknownPosterior(kind)
      case ("diagonal", 0): posterior = .diagonal
      case ("householder", 1): posterior = .householder(steps: sizes[0])
      case ("iaf", 3): posterior = .iaf(steps: sizes[0], hidden: sizes[1], context: sizes[2])
      case ("sylvester", 1): posterior = .sylvester(steps: sizes[0])
      case ("diagonal", _), ("householder", _), ("iaf", _), ("sylvester", _):
        throw ModelError.invalidArchitecture("the posterior '\(kind)' has \(sizes.count) sizes")
      default: throw ModelError.unknownPosterior(kind)
      }
    }
    var arithmetic = Arithmetic.float32
    if version >= 4 {
      let name = try r.text("arithmetic")
      guard let known = Arithmetic(rawValue: name) else { throw ModelError.unknownArithmetic(name) }
      arithmetic = known
    }
    return Architecture(
      height: height, width: width, channels: channels, encoderHidden: encoderHidden, decoderHidden: decoderHidden,
      latentCount: latentCount, bucketBits: bucketBits, likelihood: likelihood, context: context, posterior: posterior,
      arithmetic: arithmetic)
  }

  /// Reads a weights file; checks every size against the bytes left before allocating.
  /// - Throws: `ModelError`.
  public init(contentsOf bytes: [UInt8]) throws {
    var r = ByteReader(bytes: bytes)
    let architecture = try VAE.readArchitecture(&r)
    if let problem = architecture.problem { throw ModelError.invalidArchitecture(problem) }
    let name = try r.text("name")
    let summary = try r.text("summary")
    let reconstruction = try r.f64("reconstruction figure"), kl = try r.f64("KL figure")
    let shapes = WeightsFile.tensorShapes(architecture)
    let tensorCount = Int(try r.u32("tensor count"))
    guard tensorCount == shapes.count else {
      throw ModelError.invalidArchitecture("the file holds \(tensorCount) tensors where the architecture needs \(shapes.count)")
    }
    var tensors: [[Float]] = []
    for (i, shape) in shapes.enumerated() {
      let found = [Int(try r.u32("tensor \(i) rows")), Int(try r.u32("tensor \(i) columns"))]
      guard found == shape else { throw ModelError.tensorShapeMismatch(index: i, expected: shape, found: found) }
      tensors.append(try r.floats(shape[0] * shape[1], "tensor \(i)"))
    }
    let bodyEnd = r.offset
    guard bytes.count - bodyEnd >= 8 else {
      throw ModelError.truncated(field: "checksum", offset: bodyEnd, needed: 8, available: bytes.count - bodyEnd)
    }
    if bytes.count - bodyEnd > 8 { throw ModelError.trailingBytes(count: bytes.count - bodyEnd - 8) }
    let stored = try r.u64("checksum")
    let computed = XXH64.hash(bytes[0..<bodyEnd])
    guard stored == computed else { throw ModelError.checksumMismatch(stored: stored, computed: computed) }
    // Behind a valid checksum, every number must still be finite (docs/MODEL_FORMAT.md, "What a
    // reader refuses"): a NaN weight would reach the coder's distributions.
    let figures = NegativeELBO(reconstruction: reconstruction, kl: kl)
    if let error = WeightsFile.nonFiniteValue(architecture, tensors: tensors, figures: figures) { throw error }

    func mlp(_ sizes: [Int], _ first: Int) -> MLP {
      MLP(layers: (0..<(sizes.count - 1)).map { i in
        DenseLayer(inCount: sizes[i], outCount: sizes[i + 1], weights: tensors[first + 2 * i], bias: tensors[first + 2 * i + 1])
      })
    }
    let encoder = mlp(architecture.encoderSizes, 0)
    let decoderStart = 2 * (architecture.encoderSizes.count - 1)
    let decoder = mlp(architecture.decoderSizes, decoderStart)
    let contextStart = decoderStart + 2 * (architecture.decoderSizes.count - 1)
    let contextNetwork = architecture.context == nil ? nil : mlp(architecture.contextSizes, contextStart)
    let stateStart = contextStart + (architecture.context == nil ? 0 : 2 * (architecture.contextSizes.count - 1))
    var rowNetworks: RowNetworks?
    if architecture.context?.rows != nil {
      rowNetworks = RowNetworks(
        state: mlp(architecture.rowStateSizes, stateStart).layers[0],
        global: mlp(architecture.rowGlobalSizes, stateStart + 2).layers[0])
    }
    let flowStart = stateStart + (rowNetworks == nil ? 0 : 4)
    let flowLayers = 2 * (architecture.flowSizes.count - 1)
    let flows = (0..<architecture.posterior.flowSteps).map { mlp(architecture.flowSizes, flowStart + $0 * flowLayers) }
    self.init(architecture: architecture, name: name, summary: summary,
              figures: figures, encoder: encoder, decoder: decoder,
              context: contextNetwork, rows: rowNetworks, flows: flows, identity: XXH64.hash(bytes))
  }

  /// The error a reader of `serialized()` would throw for a NaN or infinite weight or figure,
  /// or nil when every number is finite (`bbans train` checks this before it writes a file).
  public var nonFiniteValue: ModelError? {
    let layers = encoder.layers + decoder.layers + (context?.layers ?? []) + (rows?.layers ?? []) + flows.flatMap(\.layers)
    return WeightsFile.nonFiniteValue(architecture, tensors: layers.flatMap { [$0.weights, $0.bias] }, figures: figures)
  }

  /// The weights file's bytes (docs/MODEL_FORMAT.md).
  public func serialized() -> [UInt8] {
    VAE.serialize(architecture: architecture, name: name, summary: summary, figures: figures, encoder: encoder, decoder: decoder,
                  context: context, rows: rows, flows: flows)
  }

  static func serialize(
    architecture a: Architecture, name: String, summary: String, figures: NegativeELBO, encoder: MLP, decoder: MLP,
    context: MLP?, rows: RowNetworks?, flows: [MLP]
  ) -> [UInt8] {
    var w = ByteWriter()
    w.bytes.append(contentsOf: WeightsFile.magic)
    w.u32(WeightsFile.version(for: a))
    w.u32(a.height); w.u32(a.width); w.u32(a.channels)
    w.u32(a.encoderHidden.count); a.encoderHidden.forEach { w.u32($0) }
    w.u32(a.decoderHidden.count); a.decoderHidden.forEach { w.u32($0) }
    w.u32(a.latentCount)
    w.u32(a.bucketBits)
    w.text(a.headName)
    var headParameters: [Int] = []
    if case .logisticMixture(let k) = a.likelihood { headParameters.append(k) }
    if let head = a.context {
      headParameters += [head.features, head.hidden]
      if head.neighbourCount != ContextHead.defaultNeighbourCount { headParameters.append(head.neighbourCount) }
    }
    w.u32(headParameters.count); headParameters.forEach { w.u32($0) }
    if let summary = a.context?.rows {
      let sizes = [summary.stateWidth, summary.globalWidth, summary.radius, summary.averages] + summary.deeper
      w.text(RowSummary.kindName)
      w.u32(sizes.count); sizes.forEach { w.u32($0) }
    } else if WeightsFile.version(for: a) >= 3 {
      w.text(WeightsFile.noSummaryName)
      w.u32(0)
    }
    if WeightsFile.version(for: a) >= 3 {
      w.text(a.posterior.name)
      w.u32(a.posterior.sizes.count); a.posterior.sizes.forEach { w.u32($0) }
    }
    if WeightsFile.version(for: a) >= 4 { w.text(a.arithmetic.name) }
    w.text(name)
    w.text(summary)
    w.f64(figures.reconstruction); w.f64(figures.kl)
    let layers = encoder.layers + decoder.layers + (context?.layers ?? []) + (rows?.layers ?? []) + flows.flatMap(\.layers)
    w.u32(2 * layers.count)
    for layer in layers {
      w.u32(layer.inCount); w.u32(layer.outCount); w.floats(layer.weights)
      w.u32(1); w.u32(layer.outCount); w.floats(layer.bias)
    }
    let checksum = XXH64.hash(w.bytes)
    w.u64(checksum)
    return w.bytes
  }
}

/// Little-endian reads that throw `ModelError.truncated` instead of running off the end.
struct ByteReader {
  let bytes: [UInt8]
  var offset = 0

  mutating func bytes(_ n: Int, _ field: String) throws -> [UInt8] {
    guard n >= 0, bytes.count - offset >= n else {
      throw ModelError.truncated(field: field, offset: offset, needed: n, available: bytes.count - offset)
    }
    defer { offset += n }
    return Array(bytes[offset..<(offset + n)])
  }

  mutating func u64(_ field: String) throws -> UInt64 {
    try bytes(8, field).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
  }

  mutating func u32(_ field: String) throws -> UInt32 { UInt32(truncatingIfNeeded: try uN(4, field)) }

  private mutating func uN(_ n: Int, _ field: String) throws -> UInt64 {
    try bytes(n, field).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
  }

  mutating func f64(_ field: String) throws -> Double { Double(bitPattern: try u64(field)) }

  /// A count (u32, at most 64) then that many u32 values.
  mutating func sizes(_ field: String) throws -> [Int] {
    let n = Int(try u32("\(field) count"))
    guard n <= 64 else { throw ModelError.invalidArchitecture("the \(field) list has \(n) entries") }
    return try (0..<n).map { _ in Int(try u32(field)) }
  }

  /// A u32 byte length (at most 4096) then UTF-8.
  mutating func text(_ field: String) throws -> String {
    let n = Int(try u32("\(field) length"))
    guard n <= 4096 else { throw ModelError.invalidArchitecture("the \(field) is \(n) bytes long") }
    let raw = try bytes(n, field)
    guard let s = String(validating: raw, as: UTF8.self) else { throw ModelError.invalidText(field: field) }
    return s
  }

  /// `count` Float32 values; the size is checked against the bytes left before allocating.
  mutating func floats(_ count: Int, _ field: String) throws -> [Float] {
    let (needed, overflow) = count.multipliedReportingOverflow(by: 4)
    guard !overflow, bytes.count - offset >= needed else {
      throw ModelError.truncated(field: field, offset: offset, needed: overflow ? Int.max : needed, available: bytes.count - offset)
    }
    let start = offset
    offset += needed
    return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      for i in 0..<count {
        let p = start + 4 * i
        let bits = UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
        buffer[i] = Float(bitPattern: bits)
      }
      initialized = count
    }
  }
}

struct ByteWriter {
  var bytes: [UInt8] = []
  mutating func u32(_ v: Int) { u32(UInt32(v)) }
  mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
  mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
  mutating func f64(_ v: Double) { u64(v.bitPattern) }
  mutating func text(_ s: String) { let u = Array(s.utf8); u32(u.count); bytes.append(contentsOf: u) }
  /// Each value's bit pattern, little-endian, as `u32` writes it, stored in place (the weights
  /// files are megabytes, and every model built in memory is serialized once for its identity).
  mutating func floats(_ v: [Float]) {
    let start = bytes.count
    bytes.append(contentsOf: repeatElement(0, count: 4 * v.count))
    bytes.withUnsafeMutableBytes { raw in
      for (i, x) in v.enumerated() {
        raw.storeBytes(of: x.bitPattern.littleEndian, toByteOffset: start + 4 * i, as: UInt32.self)
      }
    }
  }
}
