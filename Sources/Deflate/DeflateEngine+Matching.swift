// The string matcher of gzip's deflate.c: hash chains over a sliding window of 2 × 32 KiB,
// and the reads that fill it.

extension DeflateEngine {
  /// Hashes the three bytes at `position` into the chains and returns the previous head of
  /// that chain (`INSERT_STRING`). The hash rolls: each call shifts in the byte at
  /// `position + 2`, so calls must come for consecutive positions (or after `rehash(at:)`).
  @inline(__always)
  mutating func insertString(at position: Int) -> Int {
    insertHash = ((insertHash &<< Self.hashShift) ^ Int(window[position &+ 2])) & Self.hashMask
    let previous = head[insertHash]
    prev[position & Self.windowMask] = previous
    head[insertHash] = UInt16(truncatingIfNeeded: position)
    return Int(previous)
  }

  /// Restarts the rolling hash with the two bytes at `position` (after a match that was not
  /// hashed, levels 1–3).
  @inline(__always)
  mutating func rehash(at position: Int) {
    insertHash = ((Int(window[position]) &<< Self.hashShift) ^ Int(window[position &+ 1])) & Self.hashMask
  }

  /// The longest match for the string at `strstart` along the chain from `chainStart`, as
  /// gzip's `longest_match` finds it: longer than `prevLength` or it returns `prevLength`;
  /// sets `matchStart` to the nearest among the longest.
  ///
  /// gzip's choices kept here: a quarter of `maxChain` once the previous match is `goodMatch`
  /// long; a stop at `niceMatch`; a candidate is only compared when its bytes 0, 1 and at the
  /// current best length (and the one before) agree; byte 2 is never compared (equal hashes
  /// and equal first two bytes imply it, except for the zeros or stale bytes past the end of
  /// the input, where gzip counts it as equal too); the chain ends at a position at or below
  /// `strstart − MAX_DIST`. Lengths may run past the end of the input into whatever the
  /// window holds there (the caller clamps them to `lookahead`), as gzip's do.
  @inline(__always)
  mutating func longestMatch(_ chainStart: Int) -> Int {
    var chainLength = maxChain
    var bestLength = prevLength
    let limit = strstart > Self.maxDistance ? strstart &- Self.maxDistance : 0
    if prevLength >= goodMatch { chainLength &>>= 2 }
    let scan = window + strstart
    let scan01 = UnsafeRawPointer(scan).loadUnaligned(as: UInt16.self)
    var scanEnd = UnsafeRawPointer(scan + (bestLength &- 1)).loadUnaligned(as: UInt16.self)
    let nice = niceMatch
    var current = chainStart
    while true {
      let match = window + current
      if UnsafeRawPointer(match + (bestLength &- 1)).loadUnaligned(as: UInt16.self) == scanEnd
        && UnsafeRawPointer(match).loadUnaligned(as: UInt16.self) == scan01
      {
        let length = Self.commonLength(scan, match)
        if length > bestLength {
          matchStart = current
          bestLength = length
          if length >= nice { break }
          scanEnd = UnsafeRawPointer(scan + (bestLength &- 1)).loadUnaligned(as: UInt16.self)
        }
      }
      current = Int(prev[current & Self.windowMask])
      if current <= limit { break }
      chainLength &-= 1
      if chainLength == 0 { break }
    }
    return bestLength
  }

  /// How far `scan` and `match` agree from byte 3 on (bytes 0…2 taken as equal), at most 258:
  /// the index of the first difference in 3…257, else 258. Compares 8 bytes at a time; the
  /// last word reaches byte 258, as gzip's unrolled loop does.
  @inline(__always)
  static func commonLength(_ scan: UnsafeMutablePointer<UInt8>, _ match: UnsafeMutablePointer<UInt8>) -> Int {
    var index = 3
    while index < DeflateFormat.maxMatch {
      let a = UnsafeRawPointer(scan + index).loadUnaligned(as: UInt64.self)
      let b = UnsafeRawPointer(match + index).loadUnaligned(as: UInt64.self)
      let difference = UInt64(littleEndian: a ^ b)
      if difference != 0 {
        return min(index &+ difference.trailingZeroBitCount &>> 3, DeflateFormat.maxMatch)
      }
      index &+= 8
    }
    return DeflateFormat.maxMatch
  }

  /// Asks for the next read once the lookahead runs short (`fill_window`): when `strstart`
  /// has reached `WSIZE + MAX_DIST`, the upper half moves down (`slide()`), and the free space
  /// after the lookahead is to be read. Returns false while that read waits for input; true
  /// when the input had already ended, which sets `endOfInput`.
  mutating func requestFill() -> Bool {
    var more = Self.windowSize - lookahead - strstart
    if strstart >= Self.windowHalf + Self.maxDistance {
      slide()
      more += Self.windowHalf
    }
    if inputFinished {
      endReached()
      return true
    }
    fillPending = true
    fillPosition = strstart + lookahead
    fillWanted = more
    fillReceived = 0
    return false
  }

  /// Copies input into the pending read; returns how many bytes it took. Completes the read
  /// when it has all it asked for.
  mutating func feed(_ input: UnsafePointer<UInt8>, count: Int) -> Int {
    precondition(fillPending, "DeflateEngine.feed: no read is waiting")
    let taken = min(count, fillWanted - fillReceived)
    (window + fillPosition + fillReceived).update(from: input, count: taken)
    fillReceived += taken
    if fillReceived == fillWanted {
      lookahead += fillWanted
      fillPending = false
    }
    return taken
  }

  /// The input has ended: a pending read returns what it has (a short read, as at the end of
  /// a file), and the read after it will return nothing.
  mutating func endInput() {
    inputFinished = true
    guard fillPending else { return }
    fillPending = false
    if fillReceived > 0 {
      lookahead += fillReceived
    } else {
      endReached()
    }
  }

  /// A read returned nothing: gzip sets `eofile` and zeroes the two bytes after the input so
  /// that stale bytes do not enter the hash of the last strings.
  private mutating func endReached() {
    endOfInput = true
    (window + strstart + lookahead).update(repeating: 0, count: DeflateFormat.minMatch - 1)
  }

  /// Moves the upper half of the window down and every position with it; chain entries that
  /// fall off the window become 0 (none). The upper half keeps its old bytes until read over.
  private mutating func slide() {
    window.update(from: window + Self.windowHalf, count: Self.windowHalf)
    matchStart -= Self.windowHalf
    strstart -= Self.windowHalf
    blockStart -= Self.windowHalf
    Self.slidePositions(head, count: Self.hashSize)
    Self.slidePositions(prev, count: Self.windowHalf)
  }

  private static func slidePositions(_ table: UnsafeMutablePointer<UInt16>, count: Int) {
    // m ≥ WSIZE ? m − WSIZE : 0, without a branch so that it vectorizes.
    let half = UInt16(windowHalf)
    for n in 0..<count {
      table[n] = max(table[n], half) &- half
    }
  }
}
