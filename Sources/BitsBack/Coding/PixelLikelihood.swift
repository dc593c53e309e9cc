import ANS
import Codecs
import Model
import PortableMath

/// Turns the decoder network's raw outputs into the codec of each pixel, with the
/// parametrization fixed by the model format (docs/MODEL_FORMAT.md), in Double with PortableMath.
struct PixelLikelihood {
  /// The precision of every pixel's frequencies.
  static let precisionBits = 24

  let likelihood: Likelihood
  let parametersPerPixel: Int

  init(_ architecture: Architecture) {
    likelihood = architecture.likelihood
    parametersPerPixel = architecture.parametersPerPixel
  }

  /// Pushes an image's pixels, the last first, so that `pop` decodes them in raster order.
  func push(
    _ pixels: UnsafePointer<UInt8>, count: Int, parameters: UnsafePointer<Float>,
    onto message: inout ANSMessage, lane: Int
  ) {
    var i = count
    while i > 0 {
      i -= 1
      push(pixels[i], parameters: parameters + i * parametersPerPixel, onto: &message, lane: lane)
    }
  }

  /// Pops an image's pixels in raster order.
  func pop(
    into pixels: UnsafeMutablePointer<UInt8>, count: Int, parameters: UnsafePointer<Float>,
    from message: inout ANSMessage, lane: Int
  ) {
    for i in 0..<count {
      pixels[i] = pop(parameters: parameters + i * parametersPerPixel, from: &message, lane: lane)
    }
  }

  /// Pushes one pixel with its raw parameters.
  @inline(__always)
  func push(_ pixel: UInt8, parameters raw: UnsafePointer<Float>, onto message: inout ANSMessage, lane: Int) {
    let symbol = Int(pixel)
    switch likelihood {
    case .bernoulli: bernoulli(raw).push(symbol, onto: &message, lane: lane)
    case .betaBinomial: betaBinomial(raw).push(symbol, onto: &message, lane: lane)
    case .logisticMixture(let k): logisticMixture(raw, k).push(symbol, onto: &message, lane: lane)
    }
  }

  /// Pops one pixel with its raw parameters.
  @inline(__always)
  func pop(parameters raw: UnsafePointer<Float>, from message: inout ANSMessage, lane: Int) -> UInt8 {
    let symbol: Int
    switch likelihood {
    case .bernoulli: symbol = bernoulli(raw).pop(from: &message, lane: lane)
    case .betaBinomial: symbol = betaBinomial(raw).pop(from: &message, lane: lane)
    case .logisticMixture(let k): symbol = logisticMixture(raw, k).pop(from: &message, lane: lane)
    }
    return UInt8(truncatingIfNeeded: symbol)
  }

  /// −log₂ P(x) of one pixel under the quantized codec (for rate accounting in tests and bench).
  func informationContent(of pixel: UInt8, parameters raw: UnsafePointer<Float>) -> Double {
    switch likelihood {
    case .bernoulli: return bernoulli(raw).informationContent(of: Int(pixel))
    case .betaBinomial: return betaBinomial(raw).informationContent(of: Int(pixel))
    case .logisticMixture(let k): return logisticMixture(raw, k).informationContent(of: Int(pixel))
    }
  }

  // MARK: - The heads (docs/MODEL_FORMAT.md)

  /// P(x = 1) = σ(ℓ).
  @inline(__always)
  func bernoulli(_ raw: UnsafePointer<Float>) -> Bernoulli {
    Bernoulli(logit: Double(raw[0]), precisionBits: Self.precisionBits)
  }

  /// α = exp(clamp(a, −10, 10)), β = exp(clamp(b, −10, 10)), n = 255.
  @inline(__always)
  func betaBinomial(_ raw: UnsafePointer<Float>) -> BetaBinomial {
    let a = min(max(Double(raw[0]), -10), 10), b = min(max(Double(raw[1]), -10), 10)
    return BetaBinomial(n: 255, alpha: Portable.exp(a), beta: Portable.exp(b), precisionBits: Self.precisionBits)
  }

  /// π = softmax(logits), μ_k raw, s_k = exp(max(ℓ_k, −7)); layout [logits, means, log-scales].
  /// Up to 4 components are computed side by side: the 4-lane `Portable.exp` gives each lane
  /// the scalar function's bits, and the sums run in index order, so the codec is the same.
  @inline(__always)
  func logisticMixture(_ raw: UnsafePointer<Float>, _ k: Int) -> DiscretizedLogisticMixture {
    var largest = -Double.infinity
    for j in 0..<k { largest = max(largest, Double(raw[j])) }
    var weights = SIMD8<Double>(repeating: 0), means = SIMD8<Double>(repeating: 0)
    var scales = SIMD8<Double>(repeating: 1)
    var total = 0.0
    if k <= 4 {
      // Whole vectors, never one lane at a time (a lane store followed by a vector load stalls).
      let used = SIMD4<Int64>(0, 1, 2, 3) .< Int64(k)
      let logits = Self.gather(raw, k)
      let logScales = Self.gather(raw + 2 * k, k)
      means.lowHalf = Self.gather(raw + k, k)
      let e = Portable.exp((logits - largest).replacing(with: 0, where: .!used))
      for j in 0..<k { total += e[j] }
      weights.lowHalf = (e / total).replacing(with: 0, where: .!used)
      scales.lowHalf = Portable.exp(logScales.replacing(with: -7, where: logScales .< -7))
    } else {
      for j in 0..<k {
        weights[j] = Portable.exp(Double(raw[j]) - largest)
        total += weights[j]
        means[j] = Double(raw[k + j])
        scales[j] = Portable.exp(max(Double(raw[2 * k + j]), -7))
      }
      for j in 0..<k { weights[j] /= total }
    }
    return DiscretizedLogisticMixture(
      weights: weights, means: means, scales: scales, componentCount: k, precisionBits: Self.precisionBits)
  }

  /// raw[0..<k] as Doubles in lanes 0..<k (k ≤ 4), 0 in the others; nothing past raw[k − 1] is read.
  @inline(__always)
  static func gather(_ raw: UnsafePointer<Float>, _ k: Int) -> SIMD4<Double> {
    SIMD4(Double(raw[0]), k > 1 ? Double(raw[1]) : 0, k > 2 ? Double(raw[2]) : 0, k > 3 ? Double(raw[3]) : 0)
  }
}
