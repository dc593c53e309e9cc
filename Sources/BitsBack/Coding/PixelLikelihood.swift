import ANS
import CDense
import Codecs
import Model
import PortableMath

/// Turns the decoder network's raw outputs into the codec of each pixel, with the
/// parametrization fixed by the model format (docs/MODEL_FORMAT.md), in Double with PortableMath.
///
/// The map is total: any raw Float, NaN and ±∞ included (huge weights overflow the networks),
/// gives a valid codec, the same on the encoder's side and the decoder's. Each raw value is
/// read through `VAE.finite` (NaN → 0, ±∞ → ±Float.greatestFiniteMagnitude) and a mixture's
/// scale is capped at Double.greatestFiniteMagnitude; both touch only values that used to trap
/// in a codec's precondition, so every finite model codes as it did, bit for bit.
package struct PixelLikelihood {
  /// The precision of every pixel's frequencies.
  static let precisionBits = 24

  let likelihood: Likelihood
  let parametersPerPixel: Int
  /// PortableMath's exp table, for the C mixture (CDense's mixture.c).
  let expTable = Portable.expTableAddress

  package init(_ architecture: Architecture) {
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
  package func push(_ pixel: UInt8, parameters raw: UnsafePointer<Float>, onto message: inout ANSMessage, lane: Int) {
    let symbol = Int(pixel)
    switch likelihood {
    case .bernoulli: bernoulli(raw).push(symbol, onto: &message, lane: lane)
    case .betaBinomial: betaBinomial(raw).push(symbol, onto: &message, lane: lane)
    case .logisticMixture(let k): logisticMixture(raw, k).push(symbol, onto: &message, lane: lane)
    }
  }

  /// Pops one pixel with its raw parameters.
  @inline(__always)
  package func pop(parameters raw: UnsafePointer<Float>, from message: inout ANSMessage, lane: Int) -> UInt8 {
    let symbol: Int
    switch likelihood {
    case .bernoulli: symbol = bernoulli(raw).pop(from: &message, lane: lane)
    case .betaBinomial: symbol = betaBinomial(raw).pop(from: &message, lane: lane)
    case .logisticMixture(let k): symbol = logisticMixture(raw, k).pop(from: &message, lane: lane)
    }
    return UInt8(truncatingIfNeeded: symbol)
  }

  /// Pushes one pixel of each lane in `lanes`, in lane order: lane l's value at
  /// pixels[(l − first) · pixelStride], its raw parameters at parameters + (l − first) · stride.
  /// A mixture of up to 4 components is computed in C for all of them first (CDense's
  /// mixture.c, the same arithmetic two pixels side by side), then pushed; the same message as
  /// `push(_:parameters:onto:lane:)` lane after lane.
  package func pushLanes(
    _ lanes: Range<Int>, pixels: UnsafePointer<UInt8>, pixelStride: Int, parameters: UnsafePointer<Float>, stride: Int,
    onto message: inout ANSMessage
  ) {
    let first = lanes.lowerBound
    guard case .logisticMixture(let k) = likelihood, k <= 4 else {
      for l in lanes {
        push(pixels[(l - first) * pixelStride], parameters: parameters + (l - first) * stride, onto: &message, lane: l)
      }
      return
    }
    withUnsafeTemporaryAllocation(of: bbans_interval.self, capacity: lanes.count) { found in
      bbans_mixture_push_lanes(Int32(lanes.count), parameters, stride, Int32(k), Int32(Self.precisionBits), pixels,
                               pixelStride, expTable, found.baseAddress!)
      for l in lanes {
        let f = found[l - first]
        if f.symbol >= 0 {
          message.push(start: f.start, frequency: f.frequency, precisionBits: Self.precisionBits, lane: l)
        } else {
          push(pixels[(l - first) * pixelStride], parameters: parameters + (l - first) * stride, onto: &message, lane: l)
        }
      }
    }
  }

  /// Pops one pixel of each lane in `lanes`, the last lane first, into pixels[(l − first) ·
  /// pixelStride]; lane l's raw parameters at parameters + (l − first) · stride. A mixture of up
  /// to 4 components finds every lane's pixel from its slot in C first (each lane's slot
  /// changes only with its own pop), then pops them; the same message and pixels as
  /// `pop(parameters:from:lane:)` lane after lane.
  package func popLanes(
    _ lanes: Range<Int>, parameters: UnsafePointer<Float>, stride: Int, from message: inout ANSMessage,
    into pixels: UnsafeMutablePointer<UInt8>, pixelStride: Int
  ) {
    let first = lanes.lowerBound
    guard case .logisticMixture(let k) = likelihood, k <= 4 else {
      for l in lanes.reversed() {
        pixels[(l - first) * pixelStride] = pop(parameters: parameters + (l - first) * stride, from: &message, lane: l)
      }
      return
    }
    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: lanes.count) { slots in
      withUnsafeTemporaryAllocation(of: bbans_interval.self, capacity: lanes.count) { found in
        for l in lanes { slots[l - first] = message.peek(precisionBits: Self.precisionBits, lane: l) }
        bbans_mixture_pop_lanes(Int32(lanes.count), parameters, stride, Int32(k), Int32(Self.precisionBits),
                                slots.baseAddress!, expTable, found.baseAddress!)
        for l in lanes.reversed() {
          let f = found[l - first]
          if f.symbol >= 0 {
            message.pop(start: f.start, frequency: f.frequency, precisionBits: Self.precisionBits, lane: l)
            pixels[(l - first) * pixelStride] = UInt8(truncatingIfNeeded: f.symbol)
          } else {
            pixels[(l - first) * pixelStride] = pop(parameters: parameters + (l - first) * stride, from: &message, lane: l)
          }
        }
      }
    }
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

  /// P(x = 1) = σ(ℓ). Already total without `VAE.finite`: σ(±∞) is 1 or 0, which the codec
  /// clamps, and `Bernoulli` reads a NaN probability as 1/2 = σ(0).
  @inline(__always)
  func bernoulli(_ raw: UnsafePointer<Float>) -> Bernoulli {
    Bernoulli(logit: Double(raw[0]), precisionBits: Self.precisionBits)
  }

  /// α = exp(clamp(a, −10, 10)), β = exp(clamp(b, −10, 10)), n = 255 (a NaN a or b counts as 0;
  /// the clamp takes care of ±∞).
  @inline(__always)
  func betaBinomial(_ raw: UnsafePointer<Float>) -> BetaBinomial {
    let a = min(max(Double(VAE.finite(raw[0])), -10), 10), b = min(max(Double(VAE.finite(raw[1])), -10), 10)
    return BetaBinomial(n: 255, alpha: Portable.exp(a), beta: Portable.exp(b), precisionBits: Self.precisionBits)
  }

  /// π = softmax(logits), μ_k raw, s_k = min(exp(max(ℓ_k, −7)), Double.greatestFiniteMagnitude);
  /// layout [logits, means, log-scales], each raw value read through `VAE.finite`.
  /// Up to 4 components are computed side by side: the 4-lane `Portable.exp` gives each lane
  /// the scalar function's bits, and the sums run in index order, so the codec is the same.
  @inline(__always)
  func logisticMixture(_ raw: UnsafePointer<Float>, _ k: Int) -> DiscretizedLogisticMixture {
    var largest = -Double.infinity
    for j in 0..<k { largest = max(largest, Double(VAE.finite(raw[j]))) }
    var weights = SIMD8<Double>(repeating: 0), means = SIMD8<Double>(repeating: 0)
    var scales = SIMD8<Double>(repeating: 1)
    var total = 0.0
    if k <= 4 {
      // Whole vectors, never one lane at a time (a lane store followed by a vector load stalls).
      let used = SIMD4<Int64>(0, 1, 2, 3) .< Int64(k)
      let logits = Self.finite(Self.gather(raw, k))
      let logScales = Self.finite(Self.gather(raw + 2 * k, k))
      means.lowHalf = Self.finite(Self.gather(raw + k, k))
      let e = Portable.exp((logits - largest).replacing(with: 0, where: .!used))
      for j in 0..<k { total += e[j] }
      weights.lowHalf = (e / total).replacing(with: 0, where: .!used)
      let s = Portable.exp(logScales.replacing(with: -7, where: logScales .< -7))
      scales.lowHalf = s.replacing(with: .greatestFiniteMagnitude, where: s .> .greatestFiniteMagnitude)
    } else {
      for j in 0..<k {
        weights[j] = Portable.exp(Double(VAE.finite(raw[j])) - largest)
        total += weights[j]
        means[j] = Double(VAE.finite(raw[k + j]))
        scales[j] = min(Portable.exp(max(Double(VAE.finite(raw[2 * k + j])), -7)), .greatestFiniteMagnitude)
      }
      for j in 0..<k { weights[j] /= total }
    }
    return DiscretizedLogisticMixture(
      weights: weights, means: means, scales: scales, componentCount: k, precisionBits: Self.precisionBits)
  }

  /// `VAE.finite` on each lane of values converted from Float.
  @inline(__always)
  static func finite(_ x: SIMD4<Double>) -> SIMD4<Double> {
    let largest = Double(Float.greatestFiniteMagnitude)
    var y = x.replacing(with: 0, where: x .!= x)
    y.replace(with: largest, where: y .> largest)
    y.replace(with: -largest, where: y .< -largest)
    return y
  }

  /// raw[0..<k] as Doubles in lanes 0..<k (k ≤ 4), 0 in the others; nothing past raw[k − 1] is read.
  @inline(__always)
  static func gather(_ raw: UnsafePointer<Float>, _ k: Int) -> SIMD4<Double> {
    SIMD4(Double(raw[0]), k > 1 ? Double(raw[1]) : 0, k > 2 ? Double(raw[2]) : 0, k > 3 ? Double(raw[3]) : 0)
  }
}
