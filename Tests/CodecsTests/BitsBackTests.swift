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

  /// Bits-back over a block of lanes, each lane with its own likelihood and posterior.
  static let batched = BitsBack(prior: prior, likelihood: { likelihoods[$0] }, posterior: { posterior($0) })
  /// The same on one lane at a time.
  static let codec = OneLane(batched)

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

  /// Blocks of lanes at once, of every size from one lane to all of them and at every offset:
  /// pops give every datum back and the message back bit for bit, and the net rate matches
  /// the ELBO as it does one lane at a time.
  @Test func blocksOfLanesPopUndoPushAndMatchTheELBO() {
    let laneCount = 4
    let start = randomMessage(wordCount: 256, laneCount: laneCount, seed: 24)
    var message = start
    var blocks: [(lanes: Range<Int>, data: [Int])] = []
    var generator = SeededGenerator(seed: 25)
    for step in 0..<2_000 {
      let size = step % laneCount + 1
      let first = Int.random(in: 0...(laneCount - size), using: &generator)
      let data = Self.sample(size, seed: 26 + UInt64(step))
      Self.batched.push(data, onto: &message, lanes: first..<(first + size))
      blocks.append((first..<(first + size), data))
    }
    let count = blocks.map(\.data.count).reduce(0, +)
    let net = Double(message.bitCount - start.bitCount) / Double(count)
    let elbo = blocks.flatMap(\.data).map(Self.negativeELBO).reduce(0, +) / Double(count)
    #expect(abs(net - elbo) <= 0.02 * elbo, "net \(net) bits per datum, −ELBO \(elbo)")
    for block in blocks.reversed() {
      let data = Self.batched.pop(from: &message, lanes: block.lanes)
      #expect(data == block.data, "lanes \(block.lanes)")
    }
    #expect(message == start)
  }
}
