import ANS

/// A codec over a block of lanes at once: its symbol holds one value for every lane of the
/// block, and one push or pop codes them all (craystack's vectorized codecs, where every codec
/// pushes and pops all the lanes of the message).
///
/// Coding the lanes together lets a codec run its network once for all of them (a matrix-matrix
/// product) before it codes lane by lane. The lanes share the message's tail, so the order in
/// which a codec visits them is part of its format, and a pop visits them in the reverse order
/// of the push.
///
/// `pop(from:lanes:)` undoes `push(_:onto:lanes:)`: the symbol comes back and the message returns,
/// bit for bit, to the state it had before the push.
///
/// See also: ``Lanewise`` (a `Codec` on each lane), ``OneLane`` (a block of one lane as a `Codec`),
/// ``BitsBack``.
public protocol LaneBatchedCodec {
  /// The values of every lane of a block.
  associatedtype Symbol
  /// Pushes `symbol` (one value for each of `lanes`) onto those lanes of `message`.
  func push(_ symbol: Symbol, onto message: inout ANSMessage, lanes: Range<Int>)
  /// Pops one value for each of `lanes` from those lanes of `message`.
  func pop(from message: inout ANSMessage, lanes: Range<Int>) -> Symbol
}

/// A `Codec` on each lane of a block: value r of the symbol on lane `lanes.lowerBound + r`.
///
/// Push visits the lanes from first to last; pop from last to first, so that it undoes the push.
public struct Lanewise<Element: Codec>: LaneBatchedCodec {
  public typealias Symbol = [Element.Symbol]

  /// The codec of the r-th lane of a block.
  let element: (_ row: Int) -> Element
  /// The number of lanes the codec covers, or nil for any number.
  let laneCount: Int?

  /// The same codec on every lane.
  public init(_ element: Element) {
    self.element = { _ in element }
    laneCount = nil
  }

  /// Codec r on the r-th lane of a block of `codecs.count` lanes.
  public init(perLane codecs: [Element]) {
    self.element = { codecs[$0] }
    laneCount = codecs.count
  }

  public func push(_ symbol: Symbol, onto message: inout ANSMessage, lanes: Range<Int>) {
    precondition(symbol.count == lanes.count && (laneCount ?? lanes.count) == lanes.count,
                 "Lanewise: \(symbol.count) values for \(lanes.count) lanes (codecs for \(laneCount ?? lanes.count))")
    for (row, lane) in lanes.enumerated() { element(row).push(symbol[row], onto: &message, lane: lane) }
  }

  public func pop(from message: inout ANSMessage, lanes: Range<Int>) -> Symbol {
    precondition((laneCount ?? lanes.count) == lanes.count,
                 "Lanewise: codecs for \(laneCount ?? lanes.count) lanes, asked to pop \(lanes.count)")
    var symbol: [Element.Symbol?] = Array(repeating: nil, count: lanes.count)
    for (row, lane) in lanes.enumerated().reversed() { symbol[row] = element(row).pop(from: &message, lane: lane) }
    return symbol.map { $0! }
  }
}

/// A lane-batched codec whose symbol is an array, used on one lane at a time as a `Codec`.
public struct OneLane<Batched: LaneBatchedCodec, Element>: Codec where Batched.Symbol == [Element] {
  public let batched: Batched

  public init(_ batched: Batched) { self.batched = batched }

  public func push(_ symbol: Element, onto message: inout ANSMessage, lane: Int) {
    batched.push([symbol], onto: &message, lanes: lane..<(lane + 1))
  }

  public func pop(from message: inout ANSMessage, lane: Int) -> Element {
    batched.pop(from: &message, lanes: lane..<(lane + 1))[0]
  }
}
