// Flattening a message to 32-bit words and restoring it.

/// Why a sequence of words cannot be restored as a message.
public enum ANSError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Fewer words than the heads need (two per lane).
  case tooFewWords(needed: Int, found: Int)
  /// A head outside [2^31, 2^63): no push or pop could have left it there.
  case headOutOfRange(lane: Int, head: UInt64)
  /// A zero word at the bottom of the tail: it belongs to the floor, so no message ends that way.
  case zeroBottomWord

  public var description: String {
    switch self {
    case let .tooFewWords(needed, found):
      return "an ANS message with its lanes needs at least \(needed) words for its heads, found \(found)"
    case let .headOutOfRange(lane, head):
      return "the head of lane \(lane) is 0x\(String(head, radix: 16)), outside the range [2^31, 2^63) of a valid message"
    case .zeroBottomWord:
      return "the bottom word of the ANS tail is 0, which no encoder writes (zeros at the bottom belong to the floor)"
    }
  }
}

extension ANSMessage {
  /// The message as words: each head as two words (low, high), then the tail, bottom first.
  ///
  /// - Complexity: O(laneCount + tail.count).
  public func flattened() -> [UInt32] {
    var words: [UInt32] = []
    words.reserveCapacity(2 * heads.count + tail.count)
    for head in heads {
      words.append(UInt32(truncatingIfNeeded: head))
      words.append(UInt32(truncatingIfNeeded: head >> 32))
    }
    words.append(contentsOf: tail)
    return words
  }

  /// Restores a message from the words `flattened()` gave.
  ///
  /// - Throws: `ANSError` when the words cannot be a message: too few for the heads, a head
  ///   outside [2^31, 2^63), or a zero word at the bottom of the tail.
  public init<Words: Collection>(words: Words, laneCount: Int = 1) throws(ANSError)
  where Words.Element == UInt32 {
    precondition(laneCount >= 1, "ANSMessage: laneCount must be at least 1, got \(laneCount)")
    let all = Array(words)
    guard all.count >= 2 * laneCount else {
      throw .tooFewWords(needed: 2 * laneCount, found: all.count)
    }
    var heads: [UInt64] = []
    heads.reserveCapacity(laneCount)
    for lane in 0..<laneCount {
      let head = UInt64(all[2 * lane]) | UInt64(all[2 * lane + 1]) << 32
      guard head >= Self.headLowerBound && head < (1 << 63) else {
        throw .headOutOfRange(lane: lane, head: head)
      }
      heads.append(head)
    }
    let tail = Array(all[(2 * laneCount)...])
    if let bottom = tail.first, bottom == 0 { throw .zeroBottomWord }
    self.init(laneCount: laneCount)
    self.headStorage = heads
    self.tailStorage = tail
  }
}
