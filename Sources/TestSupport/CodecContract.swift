import ANS
import Codecs

/// A message that already holds `wordCount` words of seeded random data, so that pops (the
/// posterior's in bits-back) have bits to take, as in the middle of a long chain.
public func randomMessage(wordCount: Int, laneCount: Int = 1, seed: UInt64) -> ANSMessage {
  var generator = SeededGenerator(seed: seed)
  var message = ANSMessage(laneCount: laneCount)
  let uniform = Uniform(bits: 16)
  for i in 0..<(2 * wordCount) {
    uniform.push(Int(generator.next() & 0xFFFF), onto: &message, lane: i % laneCount)
  }
  return message
}

/// The round-trip contract of every codec: push the symbols (the last first), pop them back,
/// and get the same symbols in order AND the message back bit for bit.
///
/// - Returns: nil when the contract holds, else a sentence that locates the fault.
public func roundTripFailure<C: Codec>(
  _ codecs: [C], _ symbols: [C.Symbol], start: ANSMessage, lane: Int = 0
) -> String? where C.Symbol: Equatable {
  precondition(codecs.count == symbols.count)
  var message = start
  for i in symbols.indices.reversed() { codecs[i].push(symbols[i], onto: &message, lane: lane) }
  for i in symbols.indices {
    let symbol = codecs[i].pop(from: &message, lane: lane)
    if symbol != symbols[i] { return "symbol \(i) of \(symbols.count) came back as \(symbol), pushed \(symbols[i])" }
  }
  if message != start {
    return "the message did not come back bit for bit: \(message.bitCount) bits, started with \(start.bitCount)"
  }
  return nil
}

/// The same contract for one codec used for every symbol.
public func roundTripFailure<C: Codec>(
  _ codec: C, _ symbols: [C.Symbol], start: ANSMessage, lane: Int = 0
) -> String? where C.Symbol: Equatable {
  roundTripFailure(Array(repeating: codec, count: symbols.count), symbols, start: start, lane: lane)
}

/// The graded sizes every codec is tested at (constriction's habit): none, one, two, ten, many.
public let gradedSizes = [0, 1, 2, 10, 100_000]
