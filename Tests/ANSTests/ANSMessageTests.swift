import ANS
import Testing
import TestSupport

@Suite struct ANSMessageTests {
  /// Random intervals at random precisions: pushes, then pops in reverse, then the message.
  @Test(arguments: [0, 1, 2, 10, 100_000])
  func popUndoesPush(count: Int) throws {
    var generator = SeededGenerator(seed: 42 &+ UInt64(count))
    var intervals: [(UInt32, UInt32, Int)] = []
    for _ in 0..<count {
      let precision = Int.random(in: 1...31, using: &generator)
      let total = UInt64(1) << precision
      let frequency = UInt64.random(in: 1...total, using: &generator)
      let start = UInt64.random(in: 0...(total - frequency), using: &generator)
      intervals.append((UInt32(start), UInt32(frequency), precision))
    }
    for startMessage in [ANSMessage(), randomMessage(wordCount: 50, seed: 7)] {
      var message = startMessage
      for (start, frequency, precision) in intervals {
        message.push(start: start, frequency: frequency, precisionBits: precision)
      }
      for (start, frequency, precision) in intervals.reversed() {
        let slot = message.peek(precisionBits: precision)
        #expect(slot >= start && slot - start < frequency)
        message.pop(start: start, frequency: frequency, precisionBits: precision)
      }
      #expect(message == startMessage)
    }
  }

  @Test func preparedPushEqualsPlainPush() {
    var generator = SeededGenerator(seed: 3)
    var plain = randomMessage(wordCount: 4, seed: 1)
    var prepared = plain
    for _ in 0..<200_000 {
      let precision = Int.random(in: 1...31, using: &generator)
      let total = UInt64(1) << precision
      // Mostly small frequencies, sometimes 1 and sometimes the whole range.
      let frequency = [1, total, UInt64.random(in: 1...total, using: &generator), UInt64.random(in: 1...min(total, 300), using: &generator)][Int.random(in: 0..<4, using: &generator)]
      let start = UInt64.random(in: 0...(total - frequency), using: &generator)
      plain.push(start: UInt32(start), frequency: UInt32(frequency), precisionBits: precision)
      prepared.push(ANSEncodingSymbol(start: UInt32(start), frequency: UInt32(frequency), precisionBits: precision))
      if plain.heads != prepared.heads {
        Issue.record("diverged at precision \(precision), start \(start), frequency \(frequency)")
        return
      }
    }
    #expect(plain == prepared)
  }

  @Test func flattenThenRestoreIsIdentity() throws {
    for lanes in [1, 3] {
      let message = randomMessage(wordCount: 100, laneCount: lanes, seed: 11)
      let words = message.flattened()
      #expect(words.count * 32 == message.bitCount)
      let restored = try ANSMessage(words: words, laneCount: lanes)
      #expect(restored == message)
      #expect(restored.flattened() == words)
    }
    let empty = ANSMessage(laneCount: 2)
    #expect(empty.flattened() == [0x8000_0000, 0, 0x8000_0000, 0])
    #expect(try ANSMessage(words: empty.flattened(), laneCount: 2) == empty)
  }

  @Test func restoringWordsThatCannotBeAMessageThrows() {
    #expect(throws: ANSError.tooFewWords(needed: 2, found: 1)) { try ANSMessage(words: [0x8000_0000]) }
    #expect(throws: ANSError.tooFewWords(needed: 4, found: 2)) { try ANSMessage(words: [0x8000_0000, 0], laneCount: 2) }
    #expect(throws: ANSError.headOutOfRange(lane: 0, head: 0x7FFF_FFFF)) { try ANSMessage(words: [0x7FFF_FFFF, 0]) }
    #expect(throws: ANSError.headOutOfRange(lane: 1, head: 1 << 63)) {
      try ANSMessage(words: [0x8000_0000, 0, 0, 0x8000_0000], laneCount: 2)
    }
    #expect(throws: ANSError.zeroBottomWord) { try ANSMessage(words: [0x8000_0000, 0, 0, 5]) }
    #expect(ANSError.zeroBottomWord.description.contains("bottom word"))
  }

  /// Popping from an empty message reads zero words from the floor: deterministic, counted in
  /// `floorWordsRead`, and pushing the symbols back returns the empty message exactly.
  @Test func poppingFromAnEmptyMessageReadsTheZeroFloor() {
    var message = ANSMessage()
    // The head is L = 2^31, so the first slot at any precision ≤ 31 is 0.
    #expect(message.peek(precisionBits: 16) == 0)
    var popped: [(UInt32, UInt32)] = []
    for i in 0..<100 {
      let slot = message.peek(precisionBits: 12)
      // A distribution with 16 symbols of 256 each: the symbol is slot / 256.
      let start = slot / 256 * 256
      message.pop(start: start, frequency: 256, precisionBits: 12)
      popped.append((start, 256))
      _ = i
    }
    // 100 pops of 4 bits each take 400 bits: 12 words and more from the floor.
    #expect(message.floorWordsRead >= 12)
    #expect(message.tail.isEmpty)
    // The same pops from a fresh empty message give the same symbols (determinism).
    var again = ANSMessage()
    for (start, _) in popped {
      #expect(again.peek(precisionBits: 12) / 256 * 256 == start)
      again.pop(start: start, frequency: 256, precisionBits: 12)
    }
    #expect(again == message)
    for (start, frequency) in popped.reversed() {
      message.push(start: start, frequency: frequency, precisionBits: 12)
    }
    #expect(message == ANSMessage())
    #expect(message.isEmpty)
  }

  /// Lanes are independent coders over one tail: replaying the reverse order restores all.
  @Test func lanesInterleaveOnOneTail() {
    var generator = SeededGenerator(seed: 5)
    let start = randomMessage(wordCount: 10, laneCount: 4, seed: 2)
    var message = start
    var operations: [(lane: Int, start: UInt32, frequency: UInt32)] = []
    for _ in 0..<10_000 {
      let lane = Int.random(in: 0..<4, using: &generator)
      let frequency = UInt32.random(in: 1...1000, using: &generator)
      let begin = UInt32.random(in: 0...(65536 - frequency), using: &generator)
      message.push(start: begin, frequency: frequency, precisionBits: 16, lane: lane)
      operations.append((lane, begin, frequency))
    }
    #expect(message.bitCount > start.bitCount)
    for operation in operations.reversed() {
      message.pop(start: operation.start, frequency: operation.frequency, precisionBits: 16, lane: operation.lane)
    }
    #expect(message == start)
  }

  @Test func pushOfAnEmptyIntervalStopsWithAMessage() async {
    await #expect(processExitsWith: .failure) {
      var message = ANSMessage()
      message.push(start: 0, frequency: 0, precisionBits: 8)
    }
  }
}
