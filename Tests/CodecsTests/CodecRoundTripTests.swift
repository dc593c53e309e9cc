import ANS
import Codecs
import PortableMath
import Testing
import TestSupport

/// Every codec at the graded sizes: symbols back in order and the message back bit for bit,
/// from an empty message and from one in mid-chain.
@Suite struct CodecRoundTripTests {
  static let starts = [ANSMessage(), randomMessage(wordCount: 64, seed: 99)]

  @Test(arguments: gradedSizes)
  func uniform(count: Int) {
    var generator = SeededGenerator(seed: 1)
    for bits in [1, 8, 12, 31] {
      let symbols = (0..<count).map { _ in Int.random(in: 0..<(1 << bits), using: &generator) }
      for start in Self.starts {
        #expect(roundTripFailure(Uniform(bits: bits), symbols, start: start) == nil)
      }
    }
  }

  @Test(arguments: gradedSizes)
  func categorical(count: Int) {
    var generator = SeededGenerator(seed: 2)
    for precision in [8, 16, 24] {
      let weights = (0..<200).map { _ in generator.nextUnit() * generator.nextUnit() }
      let codec = Categorical(probabilities: weights, precisionBits: precision)
      let symbols = (0..<count).map { _ in Int.random(in: 0..<200, using: &generator) }
      for start in Self.starts {
        #expect(roundTripFailure(codec, symbols, start: start) == nil)
        // The bulk path gives the same message as symbol-by-symbol pushes, and pops it back.
        var bulk = start
        symbols.withUnsafeBufferPointer { codec.push($0, onto: &bulk) }
        var single = start
        for s in symbols.reversed() { codec.push(s, onto: &single) }
        #expect(bulk == single)
        var decoded = [Int](repeating: -1, count: count)
        decoded.withUnsafeMutableBufferPointer { codec.pop(into: $0, from: &bulk) }
        #expect(decoded == symbols)
        #expect(bulk == start)
      }
    }
  }

  @Test(arguments: gradedSizes)
  func bernoulli(count: Int) {
    var generator = SeededGenerator(seed: 3)
    let codecs = (0..<count).map { _ in
      Bernoulli(logit: generator.nextGaussian() * 6, precisionBits: Int.random(in: 2...24, using: &generator))
    }
    let symbols = (0..<count).map { _ in Int.random(in: 0...1, using: &generator) }
    for start in Self.starts { #expect(roundTripFailure(codecs, symbols, start: start) == nil) }
  }

  @Test(arguments: gradedSizes)
  func bucketedGaussian(count: Int) {
    var generator = SeededGenerator(seed: 4)
    let buckets = MaxEntropyBuckets(bits: 8)
    let codecs = (0..<count).map { _ in
      BucketedGaussian(
        mean: generator.nextGaussian() * 2, scale: 0.01 + generator.nextUnit() * 2,
        buckets: buckets, precisionBits: 20)
    }
    // Any bucket can be coded, likely or not.
    let symbols = (0..<count).map { _ in Int.random(in: 0..<256, using: &generator) }
    for start in Self.starts { #expect(roundTripFailure(codecs, symbols, start: start) == nil) }
  }

  @Test(arguments: gradedSizes.map { min($0, 20_000) })
  func betaBinomial(count: Int) {
    var generator = SeededGenerator(seed: 5)
    let codecs = (0..<count).map { _ in
      BetaBinomial(
        n: 255, alpha: Portable.exp(generator.nextGaussian() * 4), beta: Portable.exp(generator.nextGaussian() * 4),
        precisionBits: 24)
    }
    let symbols = (0..<count).map { _ in Int.random(in: 0...255, using: &generator) }
    for start in Self.starts { #expect(roundTripFailure(codecs, symbols, start: start) == nil) }
  }

  @Test(arguments: gradedSizes)
  func logisticMixture(count: Int) {
    var generator = SeededGenerator(seed: 6)
    let codecs = (0..<count).map { _ -> DiscretizedLogisticMixture in
      let k = Int.random(in: 1...5, using: &generator)
      var weights = (0..<k).map { _ in generator.nextUnit() + 0.01 }
      let total = weights.reduce(0, +)
      weights = weights.map { $0 / total }
      return DiscretizedLogisticMixture(
        weights: weights, means: (0..<k).map { _ in generator.nextGaussian() },
        scales: (0..<k).map { _ in Portable.exp(generator.nextGaussian() * 2 - 3) }, precisionBits: 24)
    }
    let symbols = (0..<count).map { _ in Int.random(in: 0...255, using: &generator) }
    for start in Self.starts { #expect(roundTripFailure(codecs, symbols, start: start) == nil) }
  }

  @Test func combinatorsRoundTrip() {
    var generator = SeededGenerator(seed: 7)
    let categorical = Categorical(probabilities: [1, 2, 3, 4], precisionBits: 12)
    let rows = (0..<50).map { _ in (0..<10).map { _ in Int.random(in: 0..<4, using: &generator) } }
    let repeated = Repeated(categorical, count: 10)
    for start in Self.starts { #expect(roundTripFailure(repeated, rows, start: start) == nil) }
    let serial = Serial((0..<10).map { Bernoulli(probabilityOfOne: Double($0) / 10, precisionBits: 16) })
    let bits = (0..<50).map { _ in (0..<10).map { _ in Int.random(in: 0...1, using: &generator) } }
    for start in Self.starts { #expect(roundTripFailure(serial, bits, start: start) == nil) }
    // Each symbol's distribution depends on the one before it: a Markov chain.
    let markov = Autoregressive<Categorical>(count: 10) { i, earlier in
      let previous = i == 0 ? 0 : earlier.last!
      return Categorical(probabilities: (0..<4).map { $0 == previous ? 10 : 1 }, precisionBits: 12)
    }
    for start in Self.starts { #expect(roundTripFailure(markov, rows, start: start) == nil) }
  }
}
