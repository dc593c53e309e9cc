import ANS
import Codecs
import Testing
import TestSupport

/// The fast pops of `Categorical` (slot table, bucket index) against the plain binary search
/// over C that they replace: the same symbol for every slot, and the same message after a bulk
/// pop, since archives were written by the binary search and must still decode.
@Suite struct CategoricalSearchTests {
  /// The symbol the binary search over C finds for `slot`: the reference.
  static func searched(_ codec: Categorical, _ slot: UInt32) -> Int {
    searchQuantizedCDF(slot: slot, symbolCount: codec.symbolCount) { codec.cumulative[$0] }.symbol
  }

  /// Frequencies summing to 2^precisionBits, of several shapes, from one seed.
  static func frequencies(shape: Int, precisionBits: Int, generator: inout SeededGenerator) -> [UInt32] {
    let total = UInt32(1) << precisionBits
    switch shape {
    case 0:  // Random weights over a random alphabet, leaky-quantized.
      let count = Int.random(in: 1...600, using: &generator)
      let weights = (0..<count).map { _ in generator.nextUnit() * generator.nextUnit() }
      return Categorical(probabilities: weights, precisionBits: precisionBits).frequencies
    case 1:  // One symbol with almost all the mass, among symbols of frequency 1.
      let count = Int.random(in: 2...300, using: &generator)
      var frequencies = [UInt32](repeating: 1, count: count)
      frequencies[Int.random(in: 0..<count, using: &generator)] = total - UInt32(count - 1)
      return frequencies
    case 2:  // Many symbols of frequency 1 (more than a slot table holds), the rest on a few.
      let count = (1 << 16) + Int.random(in: 1...5000, using: &generator)
      var frequencies = [UInt32](repeating: 1, count: count)
      var spare = total - UInt32(count)
      for _ in 0..<3 {
        let share = UInt32.random(in: 0...spare, using: &generator)
        frequencies[Int.random(in: 0..<count, using: &generator)] += share
        spare -= share
      }
      frequencies[count - 1] += spare
      return frequencies
    default:  // Zero frequencies among a few wide intervals (symbols that cannot be coded).
      let count = Int.random(in: 2...64, using: &generator)
      var frequencies = [UInt32](repeating: 0, count: count)
      var spare = total
      for i in 0..<count where i % 3 != 1 && spare > 0 {
        let share = i == count - 1 ? spare : UInt32.random(in: 0...spare, using: &generator)
        frequencies[i] = share
        spare -= share
      }
      if spare > 0 { frequencies[0] += spare }
      return frequencies
    }
  }

  @Test(arguments: 17...24)
  func symbolAtSlotMatchesBinarySearch(precisionBits: Int) {
    var generator = SeededGenerator(seed: UInt64(precisionBits) * 31)
    for trial in 0..<24 {
      let codec = Categorical(
        frequencies: Self.frequencies(shape: trial % 4, precisionBits: precisionBits, generator: &generator),
        precisionBits: precisionBits)
      // Every interval's edges (where an off-by-one would show), then random slots.
      var slots: [UInt32] = []
      for i in 0..<min(codec.symbolCount, 2000) where codec.frequencies[i] > 0 {
        slots.append(codec.cumulative[i])
        slots.append(codec.cumulative[i + 1] - 1)
      }
      for _ in 0..<2000 { slots.append(UInt32.random(in: 0..<(1 << precisionBits), using: &generator)) }
      for slot in slots {
        let found = codec.symbol(at: slot)
        let expected = Self.searched(codec, slot)
        #expect(found.symbol == expected, "precision \(precisionBits), trial \(trial), slot \(slot)")
        #expect(found.start == codec.cumulative[expected] && found.frequency == codec.frequencies[expected])
      }
    }
  }

  @Test(arguments: 17...24)
  func bulkPopMatchesBinarySearch(precisionBits: Int) {
    var generator = SeededGenerator(seed: UInt64(precisionBits) * 97)
    for trial in 0..<16 {
      let codec = Categorical(
        frequencies: Self.frequencies(shape: trial % 4, precisionBits: precisionBits, generator: &generator),
        precisionBits: precisionBits)
      // From random bits (every slot equally likely, the rare symbols included) and across the
      // floor: pop far more symbols than the message holds words.
      let start = randomMessage(wordCount: 300, seed: UInt64(trial))
      let count = 5000
      var reference = start
      var expected: [Int] = []
      for _ in 0..<count {
        let slot = reference.peek(precisionBits: precisionBits)
        let symbol = Self.searched(codec, slot)
        reference.pop(start: codec.cumulative[symbol], frequency: codec.frequencies[symbol], precisionBits: precisionBits)
        expected.append(symbol)
      }
      var bulk = start
      var decoded = [Int](repeating: -1, count: count)
      decoded.withUnsafeMutableBufferPointer { codec.pop(into: $0, from: &bulk) }
      #expect(decoded == expected, "precision \(precisionBits), trial \(trial)")
      #expect(bulk == reference, "precision \(precisionBits), trial \(trial): the messages differ")
      #expect(bulk.floorWordsRead == reference.floorWordsRead)
      // And the symbols pushed back restore the start, bit for bit.
      decoded.withUnsafeBufferPointer { codec.push($0, onto: &bulk) }
      #expect(bulk == start)
    }
  }
}
