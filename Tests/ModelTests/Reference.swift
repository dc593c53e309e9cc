// Reference implementations in Double, written independently of the Model module's code paths,
// for the finite-difference checks: a plain-loop MLP and the heads' −log p in their naive forms.

import Model
import PortableMath

/// An MLP held in Double: the same layers as `MLP`, converted exactly (every Float is a Double).
struct ReferenceMLP {
  struct Layer {
    var inCount: Int
    var outCount: Int
    var weights: [Double]
    var bias: [Double]
  }

  var layers: [Layer]

  init(_ mlp: MLP) {
    layers = mlp.layers.map {
      Layer(inCount: $0.inCount, outCount: $0.outCount, weights: $0.weights.map(Double.init), bias: $0.bias.map(Double.init))
    }
  }

  /// The output for `rows` inputs, and the sign pattern of every hidden pre-activation (so that a
  /// finite difference that crosses a ReLU kink can be recognised and left out).
  func forward(_ input: [Double], rows: Int) -> (output: [Double], pattern: [Bool]) {
    var current = input
    var pattern: [Bool] = []
    for (index, layer) in layers.enumerated() {
      var next = [Double](repeating: 0, count: rows * layer.outCount)
      for r in 0..<rows {
        for j in 0..<layer.outCount {
          var sum = layer.bias[j]
          for t in 0..<layer.inCount { sum += current[r * layer.inCount + t] * layer.weights[t * layer.outCount + j] }
          if index < layers.count - 1 {
            pattern.append(sum > 0)
            sum = max(sum, 0)
          }
          next[r * layer.outCount + j] = sum
        }
      }
      current = next
    }
    return (current, pattern)
  }
}

enum ReferenceHeads {
  /// −log p(x | params) of one image in nats, from the distributions' definitions (Likelihood's
  /// documentation), in Double, with no rearrangement for stability: fine for moderate parameters.
  static func negativeLogLikelihood(_ likelihood: Likelihood, params: [Double], pixels: [UInt8]) -> Double {
    var total = 0.0
    switch likelihood {
    case .bernoulli:
      for (p, x) in pixels.enumerated() {
        let probabilityOfOne = 1 / (1 + Portable.exp(-params[p]))
        total -= Portable.log(x != 0 ? probabilityOfOne : 1 - probabilityOfOne)
      }
    case .betaBinomial:
      let n = 255.0, bound = Likelihood.betaBinomialLogBound
      func logBeta(_ a: Double, _ b: Double) -> Double {
        Portable.lgamma(a) + Portable.lgamma(b) - Portable.lgamma(a + b)
      }
      for (p, pixel) in pixels.enumerated() {
        let alpha = Portable.exp(min(max(params[2 * p], -bound), bound))
        let beta = Portable.exp(min(max(params[2 * p + 1], -bound), bound))
        let x = Double(pixel)
        let logChoose = Portable.lgamma(n + 1) - Portable.lgamma(x + 1) - Portable.lgamma(n - x + 1)
        total -= logChoose + logBeta(x + alpha, n - x + beta) - logBeta(alpha, beta)
      }
    case .logisticMixture(let k):
      for (p, pixel) in pixels.enumerated() {
        let base = 3 * k * p
        let logits = (0..<k).map { params[base + $0] }
        let largest = logits.max()!
        let weights = logits.map { Portable.exp($0 - largest) }
        let weightSum = weights.reduce(0, +)
        let centre = Double(pixel) / 127.5 - 1, halfWidth = 1.0 / 255
        var probability = 0.0
        for j in 0..<k {
          let mu = params[base + k + j]
          let s = Portable.exp(max(params[base + 2 * k + j], Likelihood.logisticMinLogScale))
          let upper = pixel == 255 ? 1 : 1 / (1 + Portable.exp(-(centre + halfWidth - mu) / s))
          let lower = pixel == 0 ? 0 : 1 / (1 + Portable.exp(-(centre - halfWidth - mu) / s))
          probability += weights[j] / weightSum * (upper - lower)
        }
        total -= Portable.log(probability)
      }
    }
    return total
  }
}

/// A finite-difference comparison: |analytic − numeric| ≤ absolute + relative · |numeric|.
struct Tolerance {
  var absolute: Double
  var relative: Double

  func accepts(analytic: Double, numeric: Double) -> Bool {
    abs(analytic - numeric) <= absolute + relative * abs(numeric)
  }
}
