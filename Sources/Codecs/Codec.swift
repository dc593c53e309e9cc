// Codecs: symbols to and from an ANS message, in the style of craystack
// (Townsend, Bird, Kunze and Barber, "HiLLoC", ICLR 2020; github.com/j-towns/craystack).
//
// A codec is a value with a push and a pop. Simple codecs map a symbol to an interval of
// integer frequencies (`IntervalCodec`); combinators build codecs from codecs (`Repeated`,
// `Serial`, `BitsBack`). Every frequency is an integer computed with PortableMath in a fixed
// order, so sender and receiver agree bit for bit on any machine.

import ANS
import PortableMath

/// A reversible map between symbols and an ANS message.
///
/// `pop(from:lane:)` undoes `push(_:onto:lane:)`: the symbol comes back and the message returns,
/// bit for bit, to the state it had before the push.
public protocol Codec {
  associatedtype Symbol
  /// Pushes `symbol` onto `lane` of `message`.
  func push(_ symbol: Symbol, onto message: inout ANSMessage, lane: Int)
  /// Pops a symbol from `lane` of `message`.
  func pop(from message: inout ANSMessage, lane: Int) -> Symbol
}

extension Codec {
  /// Pushes `symbol` onto lane 0.
  @inlinable
  public func push(_ symbol: Symbol, onto message: inout ANSMessage) {
    push(symbol, onto: &message, lane: 0)
  }

  /// Pops a symbol from lane 0.
  @inlinable
  public func pop(from message: inout ANSMessage) -> Symbol {
    pop(from: &message, lane: 0)
  }
}

/// A codec over the integers 0..<symbolCount whose symbols own intervals of 2^precisionBits.
///
/// Conformers give the interval of a symbol and the symbol of a slot; push and pop follow.
public protocol IntervalCodec: Codec where Symbol == Int {
  /// The precision n of the frequencies: they sum to M = 2^n.
  var precisionBits: Int { get }
  /// The interval [start, start + frequency) of `symbol`.
  /// - Precondition: the symbol can be coded (in range, frequency above zero).
  func interval(of symbol: Int) -> (start: UInt32, frequency: UInt32)
  /// The symbol whose interval holds `slot` (0 ≤ slot < 2^precisionBits), and that interval.
  func symbol(at slot: UInt32) -> (symbol: Int, start: UInt32, frequency: UInt32)
}

extension IntervalCodec {
  @inlinable
  public func push(_ symbol: Int, onto message: inout ANSMessage, lane: Int) {
    let (start, frequency) = interval(of: symbol)
    message.push(start: start, frequency: frequency, precisionBits: precisionBits, lane: lane)
  }

  @inlinable
  public func pop(from message: inout ANSMessage, lane: Int) -> Int {
    let slot = message.peek(precisionBits: precisionBits, lane: lane)
    let (symbol, start, frequency) = symbol(at: slot)
    message.pop(start: start, frequency: frequency, precisionBits: precisionBits, lane: lane)
    return symbol
  }

  /// −log₂ of the quantized probability of `symbol`: the bits a push of it costs.
  public func informationContent(of symbol: Int) -> Double {
    let (_, frequency) = interval(of: symbol)
    return Double(precisionBits) - log2Exact(frequency)
  }
}

/// log₂ of a frequency, for rate accounting only (never feeds a frequency).
@usableFromInline
func log2Exact(_ frequency: UInt32) -> Double {
  // Exact enough for accounting; computed with PortableMath for portability of reports too.
  Portable.log2(Double(frequency))
}
