import ANS
import Codecs
import PortableMath
import Testing
import TestSupport

/// On 1 000 000 symbols the message grows by the information content Σ −log₂ p of the
/// quantized probabilities, within 0.1% + 64 bits.
@Suite struct CodecRateTests {
  static let symbolCount = 1_000_000

  func expectRate<C: IntervalCodec>(_ codecs: (Int) -> C, _ symbols: [Int], tolerance: Double = 0.001) {
    var message = ANSMessage()
    var information = 0.0
    for i in symbols.indices.reversed() {
      let codec = codecs(i)
      codec.push(symbols[i], onto: &message)
      information += codec.informationContent(of: symbols[i])
    }
    let bits = Double(message.bitCount)
    #expect(bits <= information * (1 + tolerance) + 64, "\(bits) bits for \(information) bits of information")
    #expect(bits >= information - 64, "\(bits) bits for \(information) bits of information")
  }

  @Test func categoricalOf256Symbols() {
    var generator = SeededGenerator(seed: 11)
    let weights = (0..<256).map { i in Portable.exp(-Double(i) / 30) }
    let codec = Categorical(probabilities: weights, precisionBits: 16)
    // Sample from the quantized distribution itself.
    let symbols = (0..<Self.symbolCount).map { _ in
      codec.symbol(at: UInt32.random(in: 0..<(1 << 16), using: &generator)).symbol
    }
    expectRate({ _ in codec }, symbols, tolerance: 0.0001)
  }

  @Test func bernoulli() {
    var generator = SeededGenerator(seed: 12)
    let codec = Bernoulli(probabilityOfOne: 0.1, precisionBits: 20)
    let symbols = (0..<Self.symbolCount).map { _ in generator.nextUnit() < 0.1 ? 1 : 0 }
    expectRate({ _ in codec }, symbols)
  }

  @Test func bucketedGaussian() {
    var generator = SeededGenerator(seed: 13)
    let buckets = MaxEntropyBuckets(bits: 10)
    let codec = BucketedGaussian(mean: 0.3, scale: 0.2, buckets: buckets, precisionBits: 24)
    let symbols = (0..<Self.symbolCount).map { _ in
      codec.symbol(at: UInt32.random(in: 0..<(1 << 24), using: &generator)).symbol
    }
    expectRate({ _ in codec }, symbols)
  }

  @Test func logistic() {
    var generator = SeededGenerator(seed: 14)
    let codec = DiscretizedLogisticMixture(weights: [0.7, 0.3], means: [-0.9, 0.5], scales: [0.05, 0.2], precisionBits: 24)
    let symbols = (0..<Self.symbolCount).map { _ in
      codec.symbol(at: UInt32.random(in: 0..<(1 << 24), using: &generator)).symbol
    }
    expectRate({ _ in codec }, symbols)
  }

  @Test func betaBinomial() {
    var generator = SeededGenerator(seed: 15)
    let codec = BetaBinomial(n: 255, alpha: 0.3, beta: 0.5, precisionBits: 24)
    let symbols = (0..<200_000).map { _ in
      codec.symbol(at: UInt32.random(in: 0..<(1 << 24), using: &generator)).symbol
    }
    expectRate({ _ in codec }, symbols)
  }

  @Test func quantizedProbabilitiesFollowTheDistribution() {
    // P(x) of the beta-binomial against lgamma, to 1e-4 absolute at precision 24.
    let (n, a, b) = (255, 2.5, 7.0)
    let codec = BetaBinomial(n: n, alpha: a, beta: b, precisionBits: 24)
    func logBeta(_ x: Double, _ y: Double) -> Double { Portable.lgamma(x) + Portable.lgamma(y) - Portable.lgamma(x + y) }
    for x in [0, 1, 10, 50, 128, 255] {
      let logChoose = Portable.lgamma(Double(n + 1)) - Portable.lgamma(Double(x + 1)) - Portable.lgamma(Double(n - x + 1))
      let p = Portable.exp(logChoose + logBeta(Double(x) + a, Double(n - x) + b) - logBeta(a, b))
      let q = Double(codec.interval(of: x).frequency) / Double(1 << 24)
      #expect(abs(p - q) < 1e-4, "P(\(x)) = \(p), quantized \(q)")
    }
  }
}
