import ANS
import Codecs
import PortableMath
import Testing
import TestSupport

/// A toy latent model whose posterior is exact: z ∈ 0..<8 with prior 1/8, x ∈ 0...255 a
/// discretized logistic around a mean that depends on z. The posterior q(z|x) ∝ p(z)·P(x|z)
/// is computed from the quantized likelihood itself.
@Suite struct BitsBackTests {
  static let latentCount = 8
  static let likelihoods: [DiscretizedLogisticMixture] = (0..<latentCount).map { z in
    DiscretizedLogisticMixture(weights: [1], means: [Double(z) / 4 - 0.9], scales: [0.08], precisionBits: 24)
  }
  static let prior = Uniform(bits: 3)

  static func posterior(_ x: Int) -> Categorical {
    let weights = likelihoods.map { Double($0.interval(of: x).frequency) }
    return Categorical(probabilities: weights, precisionBits: 24)
  }

  static let codec = BitsBack(prior: prior, likelihood: { likelihoods[$0] }, posterior: { posterior($0) })

  /// −ELBO(x) = E_q[log₂ q(z|x) − log₂ p(x|z) − log₂ p(z)] with the quantized distributions.
  static func negativeELBO(_ x: Int) -> Double {
    let q = posterior(x)
    var sum = 0.0
    for z in 0..<latentCount {
      let qz = Double(q.interval(of: z).frequency) / Double(1 << 24)
      sum += qz * (-q.informationContent(of: z) + likelihoods[z].informationContent(of: x) + 3)
    }
    return sum
  }

  static func sample(_ count: Int, seed: UInt64) -> [Int] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in
      let z = Int.random(in: 0..<latentCount, using: &generator)
      return likelihoods[z].symbol(at: UInt32.random(in: 0..<(1 << 24), using: &generator)).symbol
    }
  }

  @Test func netBitsPerDatumMatchTheELBO() {
    let data = Self.sample(10_000, seed: 21)
    let start = randomMessage(wordCount: 256, seed: 22)
    var message = start
    for x in data { Self.codec.push(x, onto: &message) }
    let net = Double(message.bitCount - start.bitCount) / Double(data.count)
    let elbo = data.map(Self.negativeELBO).reduce(0, +) / Double(data.count)
    #expect(abs(net - elbo) <= 0.01 * elbo, "net \(net) bits per datum, −ELBO \(elbo)")
    // Decoding gives every datum back (last pushed first) and the initial message bit for bit.
    var decoded: [Int] = []
    for _ in data { decoded.append(Self.codec.pop(from: &message)) }
    #expect(decoded.reversed() == data)
    #expect(message == start)
  }

  @Test(arguments: gradedSizes.map { min($0, 1000) })
  func roundTripFromAnEmptyMessage(count: Int) {
    let data = Self.sample(count, seed: 23)
    #expect(roundTripFailure(Self.codec, data, start: ANSMessage()) == nil)
  }
}
