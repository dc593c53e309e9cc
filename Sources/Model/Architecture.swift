import PortableMath
import Hashing
/// The likelihood head p(x | z): how the decoder's raw outputs become a distribution per pixel.
///
/// The parametrisation is fixed (the coder rebuilds integer frequencies from the raw outputs
/// with the same formulas in Double; see docs/MODEL_FORMAT.md):
/// - `bernoulli`: one raw value ℓ per pixel; P(x = 1) = sigmoid(ℓ).
/// - `betaBinomial` (n = 255): raw (a, b); α = exp(clamp(a, −10, 10)), β = exp(clamp(b, −10, 10));
///   P(x) = C(n, x) B(x + α, n − x + β) / B(α, β).
/// - `logisticMixture(K)`: raw [logit_0..K−1, μ_0..K−1, ℓ_0..K−1]; π = softmax(logits);
///   s_k = exp(max(ℓ_k, −7)); c(x) = x/127.5 − 1, h = 1/255; e⁺ = c + h (+∞ at 255),
///   e⁻ = c − h (−∞ at 0); P(x) = Σ_k π_k [σ((e⁺ − μ_k)/s_k) − σ((e⁻ − μ_k)/s_k)].
///
/// The coder reads each raw value through `VAE.finite` (NaN → 0, ±∞ → ±Float.greatestFiniteMagnitude)
/// and caps s_k at Double.greatestFiniteMagnitude, so that any output, even of overflowed
/// networks, gives a distribution; finite outputs that coded before code the same.
public enum Likelihood: Equatable, Sendable {
  case bernoulli
  case betaBinomial
  case logisticMixture(components: Int)

  /// Raw decoder outputs per pixel.
  public var parametersPerPixel: Int {
    switch self {
    case .bernoulli: return 1
    case .betaBinomial: return 2
    case .logisticMixture(let k): return 3 * k
    }
  }

  /// The name used on the command line and in the weights file.
  public var name: String {
    switch self {
    case .bernoulli: return "bernoulli"
    case .betaBinomial: return "beta-binomial"
    case .logisticMixture: return "logistic-mixture"
    }
  }

  /// Whether pixels are 0/1 (Bernoulli) rather than 0...255.
  public var isBinary: Bool { self == .bernoulli }

  /// Bounds of the head's clamps (see the type's documentation).
  public static let betaBinomialLogBound: Double = 10
  public static let logisticMinLogScale: Double = -7
  /// The largest number of mixture components a weights file may declare: the coder's
  /// mixture (`DiscretizedLogisticMixture.maxComponents` in Codecs, which a test keeps equal to
  /// this) holds 8, and a model with more could be trained but never used to code.
  public static let maxComponents = 8
}

/// The causal-context refinement of the likelihood (PixelVAE's idea in its lightest form;
/// Gulrajani et al., ICLR 2017): pixel i's distribution depends on the latents *and* on the
/// values of already-coded neighbours,
///
///     p(x | z) = ∏_i p(x_i | f_i(z), x_{i−1}, x_{i−2}, x_{i−w−1}, x_{i−w}, x_{i−w+1}, x_{i−2w}, …)
///
/// where f_i(z) are `features` values per pixel from the decoder, and a small network shared
/// by every pixel ([features, neighbours] → `hidden` ReLU units → the likelihood's raw
/// parameters) gives the distribution. The neighbours are the first `neighbourCount` offsets
/// of `neighbourOrder`, all before pixel i in raster order and in the same channel; outside the
/// image they count as 0. Values enter the network as v/255 (8-bit) or 0/1 (binary).
public struct ContextHead: Equatable, Sendable {
  /// Per-pixel decoder features.
  public var features: Int
  /// Hidden width of the shared per-pixel network.
  public var hidden: Int
  /// How many of `neighbourOrder`'s offsets the network sees.
  public var neighbourCount: Int
  /// The summary of the whole causal past (`RowSummary`), or nil for the local neighbourhood only.
  public var rows: RowSummary?

  public init(features: Int, hidden: Int, neighbourCount: Int = ContextHead.defaultNeighbourCount, rows: RowSummary? = nil) {
    self.features = features
    self.hidden = hidden
    self.neighbourCount = neighbourCount
    self.rows = rows
  }

  /// Every neighbour a model may use, as (row offset, column offset), nearest first: the
  /// default six (left, left-left, up-left, up, up-right, up-up: every offset within distance
  /// 2), then distance √5, √8, 3, √10, √13 and 4, so that 10, 12, 14, 18, 22 and 24 give
  /// every neighbour within a radius. Every offset is before the pixel in raster order. A file
  /// stores only the count, so this order never changes.
  public static let neighbourOrder: [(dy: Int, dx: Int)] = [
    (0, -1), (0, -2), (-1, -1), (-1, 0), (-1, 1), (-2, 0),
    (-1, -2), (-1, 2), (-2, -1), (-2, 1),
    (-2, -2), (-2, 2),
    (0, -3), (-3, 0),
    (-1, -3), (-1, 3), (-3, -1), (-3, 1),
    (-2, -3), (-2, 3), (-3, -2), (-3, 2),
    (0, -4), (-4, 0),
  ]
  public static let defaultNeighbourCount = 6

  /// This head's neighbourhood: the first `neighbourCount` offsets of `neighbourOrder`.
  public var neighbours: ArraySlice<(dy: Int, dx: Int)> { Self.neighbourOrder.prefix(neighbourCount) }

  /// Inputs of the per-pixel network: the features, then the neighbours' values (with a row
  /// summary: `RowSummary.rowInputCount(_:)` then `leftInputCount(_:)`).
  public var inputCount: Int {
    guard let rows else { return features + neighbourCount }
    return rows.rowInputCount(self) + rows.leftInputCount(self)
  }

  /// The neighbours in rows above (dy < 0), in `neighbourOrder`'s order.
  public var aboveNeighbours: [(dy: Int, dx: Int)] { neighbours.filter { $0.dy < 0 } }
  /// The neighbours to the left in the same row (dy = 0), in `neighbourOrder`'s order.
  public var leftNeighbours: [(dy: Int, dx: Int)] { neighbours.filter { $0.dy == 0 } }
}

/// The whole causal past of a pixel, summarised for the per-pixel network (issue 16): what the
/// local neighbourhood of `ContextHead` misses, in a form that costs little when pixels are
/// decoded one at a time.
///
/// - **Rows above**: a recurrent state per column, s_y[x] ∈ R^S, updated once per finished row
///   for every column at once (PixelRNN's row LSTM in its lightest form, with ReLU):
///
///       s_y[x] = ReLU(b + A · [v_{y−1}[x−k … x+k], s_{y−1}[x−1], s_{y−1}[x], s_{y−1}[x+1]])
///
///   with s_{−1} = 0 and v_{−1} = 0 (values outside the image are 0), so that s_y[x] depends on
///   rows 0…y−1 only, on a cone that widens by one column per row; and a global vector of the
///   row, g_y = ReLU(c + G · [s_y[0], …, s_y[W−1]]) ∈ R^G, which sees every pixel above.
/// - **The current row to the left**: E exponential moving averages of the values to the left,
///   e_x[j] = a_j · e_{x−1}[j] + (1 − a_j) · v[x−1] with e_0 = 0 and a_j = 1 − 2^−(j+1) (fixed,
///   exact in Float).
///
/// The per-pixel network's input is [features, above neighbours, s_y[x], g_y] (known when row y
/// starts: the "row part") then [left neighbours, e_x] (the "left part"). Its first layer is
/// computed as ((b + g_y·W_g) + [f, above, s_y[x]]·W_rest) + left part · W_left, the products
/// apart and then added, in training, evaluation, encoding and decoding alike: decoding
/// computes the global vector's share once per row, the rest of the row part for a whole row in
/// one product, and only the left part pixel by pixel.
public struct RowSummary: Equatable, Sendable {
  /// S: the recurrent state per column.
  public var stateWidth: Int
  /// G: the row's global vector.
  public var globalWidth: Int
  /// k: the state sees the row above at columns x − k … x + k.
  public var radius: Int
  /// E: moving averages of the current row's values to the left.
  public var averages: Int
  /// Widths of further hidden layers of the per-pixel network, after the first (`hidden`).
  public var deeper: [Int]

  public init(stateWidth: Int, globalWidth: Int, radius: Int = 2, averages: Int = 4, deeper: [Int] = []) {
    self.stateWidth = stateWidth
    self.globalWidth = globalWidth
    self.radius = radius
    self.averages = averages
    self.deeper = deeper
  }

  /// The state layer's inputs: 2k + 1 values of the row above, then 3 columns of state.
  public var stateInputCount: Int { 2 * radius + 1 + 3 * stateWidth }
  public func rowInputCount(_ head: ContextHead) -> Int {
    head.features + head.aboveNeighbours.count + stateWidth + globalWidth
  }
  public func leftInputCount(_ head: ContextHead) -> Int { head.leftNeighbours.count + averages }

  /// The moving averages' decays a_j = 1 − 2^−(j+1).
  public var decays: [Float] { (0..<averages).map { 1 - Float(sign: .plus, exponent: -($0 + 1), significand: 1) } }

  /// The name of this kind of summary in weights files.
  public static let kindName = "rows"
}

/// The posterior q(z|x) (issue 17): a diagonal Gaussian from the encoder, or that Gaussian
/// carried by a normalizing flow whose conditionals q(z_i | z_<i, x) are 1-D Gaussians, so
/// that bits-back pops and pushes them exactly over the prior's buckets, one dimension at a
/// time (`PosteriorConditionals`).
///
/// - `householder(steps: K)`: z = H_K ⋯ H_1 (μ + σ ⊙ ε), H_k = I − 2 v_k v_kᵀ / ‖v_k‖², with the
///   K vectors v_k from the encoder (Tomczak and Welling 2016): q(z|x) = N(Hμ, H diag(σ²) Hᵀ),
///   a Gaussian of full covariance; its conditionals come from the Cholesky factor.
/// - `iaf(steps: K, hidden: H, context: C)`: inverse autoregressive flow (Kingma et al. 2016),
///   z_0 = μ + σ ⊙ ε, z_k = z_{k−1} ⊙ exp(ŝ_k) + m_k with [m_k, ŝ_k] = MADE_k(z_{k−1}, h) and
///   ŝ clamped to `VAE.logScaleRange`; h the C context values from the encoder; every step in
///   the same order of the dimensions, so that z_K,i is affine in ε_i given z_K,<i. Each MADE
///   has one hidden layer of H ReLU units (`MADEMask`).
/// - `sylvester(steps: K)`: triangular Sylvester flows (van den Berg et al. 2018), z_0 = μ + σ ⊙ ε,
///   z_k = z_{k−1} + A_k h(B_k z_{k−1} + b_k) with h = tanh, A_k and B_k lower triangular
///   (the same order of the dimensions in every step), their diagonals tanh of free parameters
///   so that every step is monotone in each z_i given z_<i; A_k, B_k learned, b_k from the
///   encoder. Its conditionals are monotone maps of a Gaussian (`SylvesterMap`).
public enum Posterior: Equatable, Sendable {
  case diagonal
  case householder(steps: Int)
  case iaf(steps: Int, hidden: Int, context: Int)
  case sylvester(steps: Int)

  /// The name in weights files and on the command line.
  public var name: String {
    switch self {
    case .diagonal: return "diagonal"
    case .householder: return "householder"
    case .iaf: return "iaf"
    case .sylvester: return "sylvester"
    }
  }

  /// The sizes a weights file records after the name.
  var sizes: [Int] {
    switch self {
    case .diagonal: return []
    case .householder(let k): return [k]
    case .iaf(let k, let h, let c): return [k, h, c]
    case .sylvester(let k): return [k]
    }
  }

  /// The command line's form: "diagonal", "householder:K", "iaf:K" or "iaf:K,H,C".
  public var description: String {
    switch self {
    case .diagonal: return "diagonal"
    case .householder(let k): return "householder:\(k)"
    case .iaf(let k, let h, let c): return "iaf:\(k),\(h),\(c)"
    case .sylvester(let k): return "sylvester:\(k)"
    }
  }

  /// The encoder's outputs beyond the 2L of (μ, log σ): K·L for the Householder vectors, C for
  /// the IAF's context.
  func extraEncoderOutputs(latentCount l: Int) -> Int {
    switch self {
    case .diagonal: return 0
    case .householder(let k): return k * l
    case .iaf(_, _, let c): return c
    case .sylvester(let k): return k * l
    }
  }

  /// The steps that have networks of their own in the file (IAF: a MADE each; Sylvester: A and
  /// B each); 0 for the other kinds.
  package var flowSteps: Int {
    switch self {
    case .iaf(let k, _, _), .sylvester(let k): return k
    case .diagonal, .householder: return 0
    }
  }

  /// Whether q(z|x) is a flow (any kind but `diagonal`).
  public var isFlow: Bool { self != .diagonal }
}

/// How the encoder's and decoder's products are computed (issue 18, docs/MODEL_FORMAT.md
/// "Arithmetic").
///
/// - `float32`: the dense kernel's Float products (`Dense.matrixProduct`).
/// - `int16`: every layer's weights rounded once, at load, to int16 with a power-of-two scale
///   per output; each input row rounded to int16 with a power-of-two scale of its own; exact
///   int32 sums (`IntegerMatrix`). The weights file holds the same Float weights; only the
///   products differ, so a model and its int16 form are two models with two identities.
///   Training computes its gradients in Float (straight through the rounding); every figure
///   that validation reports, and every archive, uses the int16 products.
///
/// The context network and the posterior's flows compute in Float either way.
public enum Arithmetic: String, Equatable, Sendable, CaseIterable {
  case float32
  case int16

  /// The name in weights files and on the command line.
  public var name: String { rawValue }
}

/// The shape of a VAE: image size, hidden layers, latents, latent discretisation, likelihood.
public struct Architecture: Equatable, Sendable {
  public var height: Int
  public var width: Int
  public var channels: Int
  /// Hidden layer widths of the encoder, from the pixels inwards.
  public var encoderHidden: [Int]
  /// Hidden layer widths of the decoder, from the latents outwards.
  public var decoderHidden: [Int]
  public var latentCount: Int
  /// Each latent is cut into 2^bucketBits buckets of equal prior mass.
  public var bucketBits: Int
  public var likelihood: Likelihood
  /// The causal-context network, or nil for a factorized likelihood p(x|z) = ∏ p(x_i|z).
  public var context: ContextHead?
  /// The posterior q(z|x).
  public var posterior: Posterior
  /// How the encoder's and decoder's products are computed.
  public var arithmetic: Arithmetic

  public init(
    height: Int, width: Int, channels: Int = 1, encoderHidden: [Int], decoderHidden: [Int],
    latentCount: Int, bucketBits: Int, likelihood: Likelihood, context: ContextHead? = nil,
    posterior: Posterior = .diagonal, arithmetic: Arithmetic = .float32
  ) {
    self.height = height
    self.width = width
    self.channels = channels
    self.encoderHidden = encoderHidden
    self.decoderHidden = decoderHidden
    self.latentCount = latentCount
    self.bucketBits = bucketBits
    self.likelihood = likelihood
    self.context = context
    self.posterior = posterior
    self.arithmetic = arithmetic
  }

  public var pixelCount: Int { height * width * channels }
  public var parametersPerPixel: Int { likelihood.parametersPerPixel }

  /// Layer sizes of the encoder: pixels → hidden → (mean, log σ) per latent, then the
  /// posterior's extra outputs (`Posterior.extraEncoderOutputs`).
  package var encoderSizes: [Int] {
    [pixelCount] + encoderHidden + [2 * latentCount + posterior.extraEncoderOutputs(latentCount: latentCount)]
  }
  /// Layer sizes of each of the IAF's MADEs ([z, h] → hidden → [m, ŝ]), or [] for other posteriors.
  /// Sylvester: [L, L, L], the layers B (weights [t][j] for t < j, bias: B's raw diagonal) and A
  /// (weights [j][i] for j < i, bias: A's raw diagonal).
  package var flowSizes: [Int] {
    switch posterior {
    case .iaf(_, let h, let c): return [latentCount + c, h, 2 * latentCount]
    case .sylvester: return [latentCount, latentCount, latentCount]
    case .diagonal, .householder: return []
    }
  }
  /// Layer sizes of the decoder: latents → hidden → likelihood parameters (or context
  /// features) per pixel.
  var decoderSizes: [Int] { [latentCount] + decoderHidden + [pixelCount * decoderOutputsPerPixel] }
  /// Layer sizes of the per-pixel context network, or [] without one.
  var contextSizes: [Int] {
    guard let context else { return [] }
    return [context.inputCount, context.hidden] + (context.rows?.deeper ?? []) + [parametersPerPixel]
  }
  /// Layer sizes of the row summary's state layer and global layer, or [] without a summary.
  var rowStateSizes: [Int] {
    guard let rows = context?.rows else { return [] }
    return [rows.stateInputCount, rows.stateWidth]
  }
  var rowGlobalSizes: [Int] {
    guard let rows = context?.rows else { return [] }
    return [width * rows.stateWidth, rows.globalWidth]
  }
  /// What the decoder gives per pixel: the head's parameters, or the context features.
  var decoderOutputsPerPixel: Int { context?.features ?? parametersPerPixel }

  /// The head's name in weights files and on the command line ("context-" before a context head).
  public var headName: String { (context == nil ? "" : "context-") + likelihood.name }

  /// Why this architecture cannot be built, or nil. Limits keep a file's sizes sane.
  public var problem: String? {
    let limit = 1 << 24
    if height < 1 || width < 1 || channels < 1 || height > limit || width > limit || channels > 64 {
      return "the image shape \(height)×\(width)×\(channels) is not positive and bounded"
    }
    if pixelCount > limit { return "the image has \(pixelCount) values, more than \(limit)" }
    if latentCount < 1 || latentCount > 4096 { return "the latent count \(latentCount) is not in 1...4096" }
    if !(1...16).contains(bucketBits) { return "the bucket bits \(bucketBits) are not in 1...16" }
    if case .logisticMixture(let k) = likelihood, !(1...Likelihood.maxComponents).contains(k) {
      return "the mixture has \(k) components, not in 1...\(Likelihood.maxComponents)"
    }
    if (encoderHidden + decoderHidden).contains(where: { $0 < 1 || $0 > 65536 }) {
      return "a hidden layer width is not in 1...65536"
    }
    if encoderHidden.count > 16 || decoderHidden.count > 16 { return "there are more than 16 hidden layers" }
    if let context, !(1...64).contains(context.features) || !(1...1024).contains(context.hidden) {
      return "the context network's \(context.features) features and \(context.hidden) hidden units are not in 1...64 and 1...1024"
    }
    if let context, !(1...ContextHead.neighbourOrder.count).contains(context.neighbourCount) {
      return "the context network's \(context.neighbourCount) neighbours are not in 1...\(ContextHead.neighbourOrder.count)"
    }
    if let rows = context?.rows {
      if channels != 1 { return "a row summary needs images of one channel, not \(channels)" }
      if width > 1024 { return "a row summary needs images at most 1024 wide, not \(width)" }
      if !(1...256).contains(rows.stateWidth) || !(0...1024).contains(rows.globalWidth) {
        return "the row summary's state width \(rows.stateWidth) and global width \(rows.globalWidth) are not in 1...256 and 0...1024"
      }
      if !(0...8).contains(rows.radius) || !(0...16).contains(rows.averages) {
        return "the row summary's radius \(rows.radius) and averages \(rows.averages) are not in 0...8 and 0...16"
      }
      if rows.deeper.count > 8 || rows.deeper.contains(where: { !(1...1024).contains($0) }) {
        return "the context network's deeper layers \(rows.deeper) are not at most 8 widths in 1...1024"
      }
    }
    switch posterior {
    case .diagonal: break
    case .householder(let k):
      if !(1...16).contains(k) { return "the Householder posterior has \(k) steps, not 1...16" }
    case .sylvester(let k):
      if !(1...16).contains(k) { return "the Sylvester posterior has \(k) steps, not 1...16" }
    case .iaf(let k, let h, let c):
      if !(1...16).contains(k) || !(1...4096).contains(h) || !(0...1024).contains(c) {
        return "the IAF posterior's \(k) steps, \(h) hidden units and \(c) context values are not in 1...16, 1...4096 and 0...1024"
      }
    }
    if pixelCount * decoderOutputsPerPixel > limit { return "the decoder would give more than \(limit) outputs" }
    if arithmetic == .int16, let widest = (encoderSizes + decoderSizes).max(), widest > IntegerMatrix.innerLimit {
      return "int16 arithmetic needs layers of at most \(IntegerMatrix.innerLimit) inputs, not \(widest)"
    }
    return nil
  }

  /// Float parameters in the encoder and decoder.
  public var parameterCount: Int {
    func count(_ s: [Int]) -> Int { zip(s, s.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 } }
    return count(encoderSizes) + count(decoderSizes) + count(contextSizes) + count(rowStateSizes) + count(rowGlobalSizes)
      + posterior.flowSteps * count(flowSizes)
  }
}
