import ANS

/// The same codec for each of `count` symbols: a sequence of i.i.d. symbols.
///
/// Pushes the last symbol first, so that pops return the sequence in order.
public struct Repeated<Element: Codec>: Codec {
  public let element: Element
  public let count: Int

  public init(_ element: Element, count: Int) {
    precondition(count >= 0, "Repeated: count must be non-negative, got \(count)")
    self.element = element
    self.count = count
  }

  public func push(_ symbols: [Element.Symbol], onto message: inout ANSMessage, lane: Int) {
    precondition(symbols.count == count, "Repeated: expected \(count) symbols, got \(symbols.count)")
    for symbol in symbols.reversed() { element.push(symbol, onto: &message, lane: lane) }
  }

  public func pop(from message: inout ANSMessage, lane: Int) -> [Element.Symbol] {
    var symbols: [Element.Symbol] = []
    symbols.reserveCapacity(count)
    for _ in 0..<count { symbols.append(element.pop(from: &message, lane: lane)) }
    return symbols
  }
}

/// One codec per symbol: a sequence of independent symbols with their own distributions
/// (e.g. the pixels of a factorized likelihood, or the latent dimensions of a posterior).
///
/// Pushes the last symbol first, so that pops return the sequence in order.
public struct Serial<Element: Codec>: Codec {
  public let elements: [Element]

  public init(_ elements: [Element]) { self.elements = elements }

  public func push(_ symbols: [Element.Symbol], onto message: inout ANSMessage, lane: Int) {
    precondition(symbols.count == elements.count, "Serial: expected \(elements.count) symbols, got \(symbols.count)")
    for i in elements.indices.reversed() { elements[i].push(symbols[i], onto: &message, lane: lane) }
  }

  public func pop(from message: inout ANSMessage, lane: Int) -> [Element.Symbol] {
    elements.map { $0.pop(from: &message, lane: lane) }
  }
}

/// A sequence whose i-th codec depends on the symbols before it (an autoregressive model):
/// `codec(i, earlier)` gives the codec of symbol i from symbols 0..<i.
///
/// Push runs from the last symbol to the first (each codec sees the same earlier symbols that
/// the pop will have decoded by then); pop runs in order.
public struct Autoregressive<Element: Codec>: Codec {
  public let count: Int
  public let codec: (_ index: Int, _ earlier: ArraySlice<Element.Symbol>) -> Element

  public init(count: Int, codec: @escaping (_ index: Int, _ earlier: ArraySlice<Element.Symbol>) -> Element) {
    self.count = count
    self.codec = codec
  }

  public func push(_ symbols: [Element.Symbol], onto message: inout ANSMessage, lane: Int) {
    precondition(symbols.count == count, "Autoregressive: expected \(count) symbols, got \(symbols.count)")
    for i in (0..<count).reversed() { codec(i, symbols[..<i]).push(symbols[i], onto: &message, lane: lane) }
  }

  public func pop(from message: inout ANSMessage, lane: Int) -> [Element.Symbol] {
    var symbols: [Element.Symbol] = []
    symbols.reserveCapacity(count)
    for i in 0..<count { symbols.append(codec(i, symbols[...]).pop(from: &message, lane: lane)) }
    return symbols
  }
}
