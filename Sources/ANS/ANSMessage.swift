// ANS: the rANS message with stack semantics.
//
// Read me first. Three twists make rANS unlike arithmetic coding:
//  1. It is a stack (LIFO): the last symbol pushed is the first popped. To get symbols back in
//     order, push them in reverse.
//  2. The message grows at its top: renormalization moves the head's low 32 bits onto a tail of
//     32-bit words, and pops take them back.
//  3. Several heads ("lanes") can share one tail. Each lane is an independent coder; their words
//     interleave on the tail in the order of the operations, so decoding must replay exactly the
//     reverse order of operations (the lock-step chains of BitsBack do).
//
// Notation (Duda 2013; Giesen's rans64): precision n bits, M = 2^n, a symbol with cumulative
// frequency (start) c and frequency f, head x in I = [L, L·2^32) with L = 2^31.
//   push:  x' = ⌊x / f⌋·M + (x mod f) + c          x = C(s, x)
//   pop:   slot = x mod M,  find s with c_s ≤ slot < c_s + f_s,
//          x' = f·⌊x / M⌋ + slot − c               x = D(x)
// Renormalization keeps x in I: before a push, if x ≥ f·2^(63−n) the low word goes to the tail;
// after a pop, if x < L a word comes back from the tail.
//
// The empty message and its floor. Below the tail lies an infinite floor of zero words: a pop
// that needs a word when the tail is empty reads 0, and a push that would put a 0 word on an empty
// tail leaves it in the floor. The representation (head, tail without a zero word at its bottom)
// is therefore unique, and push and pop are exact inverses, bit for bit, even across the floor.
// Popping from an empty message is deterministic and costs nothing to store: it returns the
// symbols that the slot 0 selects (see `floorWordsRead`, the measure of these "initial bits").

/// A stack of rANS-coded symbols: one 64-bit head per lane over a shared tail of 32-bit words.
///
/// `pop` undoes `push`: the symbol comes back and the message returns, bit for bit, to the state
/// it had before the push. Codecs (module Codecs) turn symbols into the (start, frequency) pairs
/// that this type pushes and pops.
public struct ANSMessage: Sendable {
  /// The largest supported precision: M = 2^31 keeps f·2^(63−n) within 64 bits.
  public static let maxPrecisionBits = 31
  /// L, the lower end of the head interval [L, L·2^32).
  public static let headLowerBound: UInt64 = 1 << 31

  @usableFromInline var headStorage: [UInt64]
  @usableFromInline var tailStorage: [UInt32]
  @usableFromInline var floorCount: Int = 0

  /// The heads, one per lane, each in [2^31, 2^63).
  public var heads: [UInt64] { headStorage }
  /// The tail's words, the oldest (bottom) first; `tail.first` is never 0 (the floor holds zeros).
  public var tail: [UInt32] { tailStorage }
  /// How many words pops have read from the floor (the empty tail) so far: a statistic, not part
  /// of the message's content. Each such word is 32 bits that a chain started on an empty message
  /// did not have to pay for up front and therefore pays back in its output: the initial bits.
  public var floorWordsRead: Int { floorCount }

  /// An empty message with `laneCount` lanes, each head at L.
  public init(laneCount: Int = 1) {
    precondition(laneCount >= 1, "ANSMessage: laneCount must be at least 1, got \(laneCount)")
    headStorage = Array(repeating: Self.headLowerBound, count: laneCount)
    tailStorage = []
  }

  /// The number of lanes (independent heads).
  public var laneCount: Int { heads.count }

  /// The exact length of the flattened message in bits: 64 per head plus 32 per tail word.
  public var bitCount: Int { 64 * heads.count + 32 * tail.count }

  /// True when the message holds nothing: every head at L and the tail empty.
  public var isEmpty: Bool { tail.isEmpty && heads.allSatisfy { $0 == Self.headLowerBound } }

  // MARK: - The core: push and pop of one (start, frequency) pair

  /// Pushes the symbol whose interval is [start, start + frequency) out of 2^precisionBits.
  ///
  /// - Precondition: `1 ≤ precisionBits ≤ 31`, `frequency ≥ 1`, `start + frequency ≤ 2^precisionBits`.
  @inlinable
  public mutating func push(start: UInt32, frequency: UInt32, precisionBits: Int, lane: Int = 0) {
    precondition(
      precisionBits >= 1 && precisionBits <= Self.maxPrecisionBits && frequency >= 1
        && UInt64(start) + UInt64(frequency) <= UInt64(1) << precisionBits,
      "ANSMessage.push: interval [\(start), \(UInt64(start) + UInt64(frequency))) is not a valid interval of 2^\(precisionBits)")
    var x = headStorage[lane]
    // Renormalize: x must be below f·2^(63−n) so that x' stays below 2^63.
    if x >= UInt64(frequency) &<< (63 - precisionBits) {
      emit(UInt32(truncatingIfNeeded: x))
      x &>>= 32
    }
    let (quotient, remainder) = x.quotientAndRemainder(dividingBy: UInt64(frequency))
    headStorage[lane] = (quotient &<< precisionBits) &+ remainder &+ UInt64(start)  // x = C(s, x)
  }

  /// The slot x mod 2^precisionBits of a lane's head: the cumulative frequency that selects the
  /// next symbol to pop. It does not change the message.
  @inlinable
  public func peek(precisionBits: Int, lane: Int = 0) -> UInt32 {
    UInt32(truncatingIfNeeded: headStorage[lane] & ((UInt64(1) << precisionBits) &- 1))
  }

  /// Pops the symbol whose interval [start, start + frequency) holds the slot that `peek` shows.
  ///
  /// - Precondition: the interval holds the current slot (the codec found it from `peek`).
  @inlinable
  public mutating func pop(start: UInt32, frequency: UInt32, precisionBits: Int, lane: Int = 0) {
    var x = headStorage[lane]
    let slot = UInt32(truncatingIfNeeded: x & ((UInt64(1) << precisionBits) &- 1))
    precondition(
      slot >= start && slot - start < frequency,
      "ANSMessage.pop: slot \(slot) is outside the interval [\(start), \(UInt64(start) + UInt64(frequency)))")
    x = UInt64(frequency) &* (x &>> precisionBits) &+ UInt64(slot &- start)  // x = D(x)
    if x < Self.headLowerBound { x = (x &<< 32) | UInt64(takeWord()) }
    headStorage[lane] = x
  }

  // MARK: - The tail and its floor

  /// Moves a word from a head onto the tail; a zero word on an empty tail stays in the floor.
  @inlinable
  mutating func emit(_ word: UInt32) {
    if word != 0 || !tailStorage.isEmpty { tailStorage.append(word) }
  }

  /// Takes the top word of the tail, or a zero from the floor when the tail is empty.
  @inlinable
  mutating func takeWord() -> UInt32 {
    if let word = tailStorage.popLast() { return word }
    floorCount += 1
    return 0
  }
}

extension ANSMessage: Equatable {
  /// Two messages are equal when their heads and tails are; `floorWordsRead` is a statistic.
  public static func == (a: ANSMessage, b: ANSMessage) -> Bool {
    a.headStorage == b.headStorage && a.tailStorage == b.tailStorage
  }
}
