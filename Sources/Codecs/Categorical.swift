import ANS

/// A distribution over 0..<K given by integer frequencies that sum to 2^precisionBits.
///
/// Built once, used for many symbols: pushes use precomputed reciprocals (no division), pops a
/// slot table when 2^precisionBits ≤ 2^20 and K ≤ 2^16. Otherwise a table of one entry per slot
/// would not fit in cache (2^24 slots are 32 MiB), so pops use a bucket index instead: the top
/// bits of the slot pick a bucket, and a short search among the symbols that meet it finds the
/// symbol. Every path finds the one symbol whose interval holds the slot, so the message does not
/// depend on which ran. For a fixed alphabet, use `push(_:onto:lane:)` with a buffer of symbols:
/// it keeps the head in a register.
///
/// Example:
/// ```swift
/// let codec = Categorical(probabilities: [0.5, 0.25, 0.25], precisionBits: 16)
/// var message = ANSMessage()
/// codec.push(2, onto: &message)
/// assert(codec.pop(from: &message) == 2)
/// ```
public struct Categorical: IntervalCodec, Sendable {
  public let precisionBits: Int
  /// The frequency of each symbol (some may be 0: those symbols cannot be coded).
  public let frequencies: [UInt32]
  /// C(i), the sum of the frequencies below symbol i; K + 1 entries, the last is 2^precisionBits.
  public let cumulative: [UInt32]
  @usableFromInline let encodingTable: [ANSEncodingSymbol]
  /// For each slot, its symbol (empty when the precision is too high for a table).
  @usableFromInline let symbolOfSlot: [UInt16]
  /// When there is no slot table: for each bucket of 2^bucketShift slots, the symbol whose
  /// interval holds its first slot, then K − 1 (empty when there is a slot table).
  @usableFromInline let firstSymbolOfBucket: [UInt32]
  /// log₂ of the slots per bucket: a slot's bucket is slot >> bucketShift.
  @usableFromInline let bucketShift: Int

  /// The largest precision that gets a slot table (2^20 two-byte entries).
  public static let maxTablePrecisionBits = 20

  /// A categorical from integer frequencies.
  ///
  /// - Precondition: the frequencies sum to exactly 2^precisionBits, 1 ≤ precisionBits ≤ 31.
  public init(frequencies: [UInt32], precisionBits: Int) {
    precondition(precisionBits >= 1 && precisionBits <= ANSMessage.maxPrecisionBits, "Categorical: precisionBits must be in 1...31, got \(precisionBits)")
    var cumulative: [UInt32] = [0]
    cumulative.reserveCapacity(frequencies.count + 1)
    var sum: UInt64 = 0
    for f in frequencies {
      sum += UInt64(f)
      precondition(sum <= UInt64(1) << precisionBits, "Categorical: the frequencies sum to more than 2^\(precisionBits)")
      cumulative.append(UInt32(sum))
    }
    precondition(sum == UInt64(1) << precisionBits, "Categorical: the frequencies sum to \(sum), not 2^\(precisionBits)")
    self.precisionBits = precisionBits
    self.frequencies = frequencies
    self.cumulative = cumulative
    encodingTable = frequencies.indices.map { i in
      // A symbol of frequency 0 gets a placeholder that push never uses (it checks first).
      frequencies[i] == 0
        ? ANSEncodingSymbol(start: 0, frequency: 1, precisionBits: precisionBits)
        : ANSEncodingSymbol(start: cumulative[i], frequency: frequencies[i], precisionBits: precisionBits)
    }
    if precisionBits <= Self.maxTablePrecisionBits && frequencies.count <= 1 << 16 {
      var table = [UInt16](repeating: 0, count: 1 << precisionBits)
      for (i, f) in frequencies.enumerated() where f > 0 {
        for slot in Int(cumulative[i])..<Int(cumulative[i] + f) { table[slot] = UInt16(i) }
      }
      symbolOfSlot = table
      firstSymbolOfBucket = []
      bucketShift = 0
    } else {
      symbolOfSlot = []
      // About 16 buckets per symbol, at most 2^16 (256 KiB): most buckets then lie inside one
      // symbol's interval, and for 256 symbols the index (16 KiB) stays in the L1 cache.
      let symbolBits = Int.bitWidth - (frequencies.count - 1).leadingZeroBitCount
      let bucketBits = min(precisionBits, max(8, min(16, symbolBits + 4)))
      let shift = precisionBits - bucketBits
      var index: [UInt32] = []
      index.reserveCapacity((1 << bucketBits) + 1)
      var symbol = 0  // invariant: C(symbol) ≤ the bucket's first slot
      for bucket in 0..<(1 << bucketBits) {
        let first = UInt32(bucket << shift)
        while cumulative[symbol + 1] <= first { symbol += 1 }
        index.append(UInt32(symbol))
      }
      index.append(UInt32(frequencies.count - 1))
      firstSymbolOfBucket = index
      bucketShift = shift
    }
  }

  /// A categorical from probabilities (any non-negative weights; they are normalized) with
  /// leaky quantization: every symbol gets frequency ≥ 1 and the sum is exactly 2^precisionBits.
  /// Deterministic: the cumulative sums run in index order (see `quantizedCumulative`).
  ///
  /// - Precondition: 1 ≤ K ≤ 2^precisionBits, weights finite and non-negative, not all zero.
  public init(probabilities weights: [Double], precisionBits: Int) {
    let count = weights.count
    precondition(count >= 1 && count <= 1 << precisionBits, "Categorical: \(count) symbols do not fit in 2^\(precisionBits)")
    var total = 0.0
    for w in weights {
      precondition(w >= 0 && w.isFinite, "Categorical: weight \(w) is not a finite non-negative number")
      total += w
    }
    precondition(total > 0, "Categorical: the weights sum to zero")
    var frequencies: [UInt32] = []
    frequencies.reserveCapacity(count)
    var below = 0.0
    var previous: UInt32 = 0
    for i in 0..<count {
      below += weights[i]
      let next = i + 1 == count
        ? UInt32(1) << precisionBits
        : quantizedCumulative(below / total, index: i + 1, symbolCount: count, precisionBits: precisionBits)
      frequencies.append(next - previous)
      previous = next
    }
    self.init(frequencies: frequencies, precisionBits: precisionBits)
  }

  /// The number of symbols K.
  public var symbolCount: Int { frequencies.count }

  @inlinable
  public func interval(of symbol: Int) -> (start: UInt32, frequency: UInt32) {
    precondition(
      symbol >= 0 && symbol < frequencies.count && frequencies[symbol] > 0,
      "Categorical: symbol \(symbol) is outside 0..<\(frequencies.count) or has frequency 0")
    return (cumulative[symbol], frequencies[symbol])
  }

  @inlinable
  public func symbol(at slot: UInt32) -> (symbol: Int, start: UInt32, frequency: UInt32) {
    let symbol: Int
    if !symbolOfSlot.isEmpty {
      symbol = Int(symbolOfSlot[Int(slot)])
    } else {
      // C(first) ≤ slot < C(last + 1): the slot's symbol lies between the two.
      let bucket = Int(slot >> bucketShift)
      let first = Int(firstSymbolOfBucket[bucket]), last = Int(firstSymbolOfBucket[bucket + 1])
      symbol = searchQuantizedCDF(
        slot: slot, between: first, cumulative[first], and: last + 1, cumulative[last + 1]
      ) { cumulative[$0] }.symbol
    }
    return (symbol, cumulative[symbol], frequencies[symbol])
  }

  /// Pushes one symbol with the precomputed reciprocal (the same message as the plain push).
  @inlinable
  public func push(_ symbol: Int, onto message: inout ANSMessage, lane: Int) {
    precondition(
      symbol >= 0 && symbol < frequencies.count && frequencies[symbol] > 0,
      "Categorical: symbol \(symbol) is outside 0..<\(frequencies.count) or has frequency 0")
    message.push(encodingTable[symbol], lane: lane)
  }

  /// Pushes a buffer of symbols, the last first, so that `pop(count:from:)` returns them in order.
  ///
  /// - Precondition: every symbol is in range with a frequency above zero.
  @inlinable
  public func push<S: FixedWidthInteger>(
    _ symbols: UnsafeBufferPointer<S>, onto message: inout ANSMessage, lane: Int = 0
  ) {
    for s in symbols {
      precondition(
        s >= 0 && Int(s) < frequencies.count && frequencies[Int(s)] > 0,
        "Categorical: symbol \(s) is outside 0..<\(frequencies.count) or has frequency 0")
    }
    encodingTable.withUnsafeBufferPointer { message.pushAll(symbols, table: $0, lane: lane) }
  }

  /// Pops `output.count` symbols in the order they were given to `push(_:onto:lane:)`.
  @inlinable
  public func pop<S: FixedWidthInteger>(
    into output: UnsafeMutableBufferPointer<S>, from message: inout ANSMessage, lane: Int = 0
  ) {
    guard !symbolOfSlot.isEmpty else {
      firstSymbolOfBucket.withUnsafeBufferPointer { index in
        cumulative.withUnsafeBufferPointer { starts in
          frequencies.withUnsafeBufferPointer { freqs in
            message.popAll(
              into: output, precisionBits: precisionBits, bucketShift: bucketShift,
              firstSymbolOfBucket: index.baseAddress!, starts: starts.baseAddress!,
              frequencies: freqs.baseAddress!, lane: lane)
          }
        }
      }
      return
    }
    symbolOfSlot.withUnsafeBufferPointer { table in
      cumulative.withUnsafeBufferPointer { starts in
        frequencies.withUnsafeBufferPointer { freqs in
          message.popAll(
            into: output, precisionBits: precisionBits, symbolOfSlot: table.baseAddress!,
            starts: starts.baseAddress!, frequencies: freqs.baseAddress!, lane: lane)
        }
      }
    }
  }
}
