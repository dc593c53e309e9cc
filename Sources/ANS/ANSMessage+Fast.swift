// Optimisations: the core coder is in ANSMessage.swift; everything here gives the same
// messages, bit for bit, only faster.
//
// 1. Pushes without division. ⌊x / f⌋ for x < 2^63 is a multiply-high and a shift with a
//    precomputed reciprocal (Granlund and Montgomery, "Division by invariant integers using
//    multiplication", 1994): with ℓ = ⌈log₂ f⌉ and m = ⌈2^(63+ℓ) / f⌉ (which fits in 64 bits),
//    ⌊x / f⌋ = ⌊m·x / 2^(63+ℓ)⌋, because m·f − 2^(63+ℓ) < f ≤ 2^ℓ bounds the error below 1/f.
//    Then x' = x + c + q·(M − f) equals q·M + (x − q·f) + c, without computing the remainder.
//    For f = 1 take m = 2^64 − 1 (q = x − 1) and fold the difference into the bias (c + M − 1).
// 2. Bulk loops that keep the head in a register and touch the tail through a raw buffer.
// 3. Pops above a slot table's reach: a bucket index over the top bits of the slot narrows the
//    search to the few symbols whose intervals meet that bucket.

/// A symbol's interval [start, start + frequency) prepared for pushes without division.
public struct ANSEncodingSymbol: Sendable, Equatable {
  /// f·2^(63−n): a head at or above it must renormalize before the push.
  @usableFromInline let headBound: UInt64
  /// m = ⌈2^(63+ℓ)/f⌉, or 2^64 − 1 when f = 1.
  @usableFromInline let reciprocal: UInt64
  /// ℓ − 1, or 0 when f = 1.
  @usableFromInline let shift: UInt64
  /// c, or c + M − 1 when f = 1.
  @usableFromInline let bias: UInt64
  /// M − f.
  @usableFromInline let complement: UInt64

  /// Prepares the interval [start, start + frequency) out of 2^precisionBits.
  public init(start: UInt32, frequency: UInt32, precisionBits: Int) {
    precondition(
      precisionBits >= 1 && precisionBits <= ANSMessage.maxPrecisionBits && frequency >= 1
        && UInt64(start) + UInt64(frequency) <= UInt64(1) << precisionBits,
      "ANSEncodingSymbol: interval [\(start), \(UInt64(start) + UInt64(frequency))) is not a valid interval of 2^\(precisionBits)")
    let total = UInt64(1) << precisionBits
    let f = UInt64(frequency)
    headBound = f << (63 - precisionBits)
    complement = total - f
    if f == 1 {
      reciprocal = .max
      shift = 0
      bias = UInt64(start) + total - 1
    } else {
      let l = UInt64(64 - (f - 1).leadingZeroBitCount)  // ℓ = ⌈log₂ f⌉, f ≥ 2
      // 2^(63+ℓ) = 2^(ℓ−1)·2^64; the quotient fits because f > 2^(ℓ−1).
      let (q, r) = f.dividingFullWidth((high: UInt64(1) << (l - 1), low: 0))
      reciprocal = r == 0 ? q : q + 1
      shift = l - 1
      bias = UInt64(start)
    }
  }

  /// x' = C(s, x) for a head already below `headBound`.
  @inlinable @inline(__always)
  func encode(_ x: UInt64) -> UInt64 {
    let q = x.multipliedFullWidth(by: reciprocal).high &>> shift
    return x &+ bias &+ q &* complement
  }
}

extension ANSMessage {
  /// Pushes one prepared symbol onto a lane: the same result as `push(start:frequency:...)`.
  @inlinable
  public mutating func push(_ symbol: ANSEncodingSymbol, lane: Int = 0) {
    var x = headStorage[lane]
    if x >= symbol.headBound {
      emit(UInt32(truncatingIfNeeded: x))
      x &>>= 32
    }
    headStorage[lane] = symbol.encode(x)
  }

  /// Pushes `indices.count` symbols onto one lane, the LAST index first, so that popping gives
  /// them back in order. `table[i]` is the prepared interval of symbol i.
  ///
  /// - Complexity: O(indices.count), no division, one tail append at the end.
  @inlinable
  public mutating func pushAll<Index: FixedWidthInteger>(
    _ indices: UnsafeBufferPointer<Index>, table: UnsafeBufferPointer<ANSEncodingSymbol>, lane: Int = 0
  ) {
    guard !indices.isEmpty else { return }
    var x = headStorage[lane]
    // At most one word per push: collect them in order, then append at once.
    let words = UnsafeMutablePointer<UInt32>.allocate(capacity: indices.count)
    defer { words.deallocate() }
    var wordCount = 0
    var i = indices.count
    while i > 0 {
      i -= 1
      let symbol = table[Int(indices[i])]
      if x >= symbol.headBound {
        words[wordCount] = UInt32(truncatingIfNeeded: x)
        wordCount += 1
        x &>>= 32
      }
      x = symbol.encode(x)
    }
    headStorage[lane] = x
    // Zero words that land on an empty tail stay in the floor (see ANSMessage.swift).
    var first = 0
    if tailStorage.isEmpty { while first < wordCount && words[first] == 0 { first += 1 } }
    tailStorage.append(contentsOf: UnsafeBufferPointer(start: words + first, count: wordCount - first))
  }

  /// Pops `output.count` symbols from one lane with a slot table: `symbolOfSlot[slot]` is the
  /// symbol whose interval holds slot, `starts` and `frequencies` its interval.
  ///
  /// - Complexity: O(output.count), no search.
  @inlinable
  public mutating func popAll<Index: FixedWidthInteger>(
    into output: UnsafeMutableBufferPointer<Index>, precisionBits: Int,
    symbolOfSlot: UnsafePointer<UInt16>, starts: UnsafePointer<UInt32>,
    frequencies: UnsafePointer<UInt32>, lane: Int = 0
  ) {
    guard !output.isEmpty else { return }
    let mask = (UInt64(1) << precisionBits) &- 1
    let n = UInt64(precisionBits)
    var x = headStorage[lane]
    var available = tailStorage.count
    var floorReads = 0
    tailStorage.withUnsafeBufferPointer { tail in
      for i in 0..<output.count {
        let slot = x & mask
        let symbol = Int(symbolOfSlot[Int(slot)])
        output[i] = Index(truncatingIfNeeded: symbol)
        x = UInt64(frequencies[symbol]) &* (x &>> n) &+ slot &- UInt64(starts[symbol])
        if x < Self.headLowerBound {
          let word: UInt32
          if available > 0 {
            available -= 1
            word = tail[available]
          } else {
            word = 0
            floorReads += 1
          }
          x = (x &<< 32) | UInt64(word)
        }
      }
    }
    headStorage[lane] = x
    tailStorage.removeLast(tailStorage.count - available)
    floorCount += floorReads
  }
}

extension ANSMessage {
  /// Pops `output.count` symbols from one lane with a bucket index, for precisions too high for
  /// a slot table. The slots are cut into 2^(n − bucketShift) buckets of 2^bucketShift slots;
  /// `firstSymbolOfBucket[b]` is the symbol whose interval holds slot b·2^bucketShift, with one
  /// more entry, K − 1, after the last bucket. A slot of bucket b then lies in a symbol between
  /// `firstSymbolOfBucket[b]` and `firstSymbolOfBucket[b + 1]`: a scan of a few cumulative
  /// frequencies, or a binary search when many symbols share the bucket. Both find the one
  /// symbol s with C(s) ≤ slot < C(s + 1), so the message is that of any other search.
  ///
  /// - Parameters:
  ///   - starts: C(0) … C(K), K + 1 entries, C(K) = 2^precisionBits.
  ///   - frequencies: the frequency of each symbol.
  /// - Complexity: O(output.count) when each bucket holds few symbol boundaries (the scan stops
  ///   at the first); O(log K) per symbol at worst.
  @inlinable
  public mutating func popAll<Index: FixedWidthInteger>(
    into output: UnsafeMutableBufferPointer<Index>, precisionBits: Int, bucketShift: Int,
    firstSymbolOfBucket: UnsafePointer<UInt32>, starts: UnsafePointer<UInt32>,
    frequencies: UnsafePointer<UInt32>, lane: Int = 0
  ) {
    guard !output.isEmpty else { return }
    let mask = (UInt64(1) << precisionBits) &- 1
    let n = UInt64(precisionBits)
    let shift = UInt64(bucketShift)
    var x = headStorage[lane]
    var available = tailStorage.count
    var floorReads = 0
    tailStorage.withUnsafeBufferPointer { tail in
      for i in 0..<output.count {
        let slot = x & mask
        let bucket = Int(truncatingIfNeeded: slot &>> shift)
        var symbol = Int(truncatingIfNeeded: firstSymbolOfBucket[bucket])
        let last = Int(truncatingIfNeeded: firstSymbolOfBucket[bucket &+ 1])
        if last &- symbol <= 8 {
          // C(last + 1) > slot, so the scan stops by `last`.
          while UInt64(starts[symbol &+ 1]) <= slot { symbol &+= 1 }
        } else {
          var high = last &+ 1  // invariant: C(symbol) ≤ slot < C(high)
          while high &- symbol > 1 {
            let middle = (symbol &+ high) &>> 1
            if UInt64(starts[middle]) <= slot { symbol = middle } else { high = middle }
          }
        }
        output[i] = Index(truncatingIfNeeded: symbol)
        x = UInt64(frequencies[symbol]) &* (x &>> n) &+ slot &- UInt64(starts[symbol])  // x = D(x)
        if x < Self.headLowerBound {
          let word: UInt32
          if available > 0 {
            available -= 1
            word = tail[available]
          } else {
            word = 0
            floorReads += 1
          }
          x = (x &<< 32) | UInt64(word)
        }
      }
    }
    headStorage[lane] = x
    tailStorage.removeLast(tailStorage.count - available)
    floorCount += floorReads
  }
}
