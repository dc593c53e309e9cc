// The two parsing loops of gzip's deflate.c, cut into steps so that they can stop whenever a
// read waits for input and pick up where they stopped: `deflate_fast` for levels 1–3 and the
// lazy `deflate` for levels 4–9.

/// Why `DeflateEngine.run()` returned.
enum DeflateStep {
  /// A read waits for more input (or for its end).
  case needsInput
  /// A block was written; its bytes wait in `bits`.
  case blockWritten
  /// The last block was written; the stream is complete.
  case finished
}

extension DeflateEngine {
  /// Parses as far as the input allows, stopping after each block so that the caller can hand
  /// out its bytes. gzip refills the window whenever fewer than `MIN_LOOKAHEAD` bytes are left
  /// ahead and the input has not ended; the loop stops there until the read is complete, so
  /// the parse never depends on how the input was cut.
  mutating func run() -> DeflateStep {
    while true {
      if lookahead < Self.minLookahead && !endOfInput {
        if fillPending || !requestFill() { return .needsInput }
        continue
      }
      if !started {
        // The end of `lm_init`: the hash of the first two bytes.
        started = true
        rehash(at: 0)
      }
      if lookahead == 0 {
        if level > 3 && matchAvailable { _ = tallyLiteral(window[strstart - 1]) }
        flushBlock(isFinal: true)
        return .finished
      }
      if level <= 3 {
        if fastStep() { return .blockWritten }
      } else {
        if lazyStep() { return .blockWritten }
      }
    }
  }

  /// Whether the string at `strstart` may be matched against `hashHead`: a chain entry
  /// (0 is none), near enough, and with a full lookahead behind `strstart`.
  @inline(__always)
  private func mayMatch(_ hashHead: Int) -> Bool {
    hashHead != 0 && strstart &- hashHead <= Self.maxDistance
      && strstart <= Self.windowSize - Self.minLookahead
  }

  /// One step of `deflate_fast` (levels 1–3): take the longest match at once, or a literal.
  /// The strings inside a match are hashed only when it is at most `maxLazy` long
  /// (`max_insert_length`); after a longer one the hash restarts at its end.
  /// Returns whether a block was written.
  @inline(__always)
  private mutating func fastStep() -> Bool {
    let hashHead = insertString(at: strstart)
    if mayMatch(hashHead) {
      matchLength = longestMatch(hashHead)
      if matchLength > lookahead { matchLength = lookahead }
    }
    let flush: Bool
    if matchLength >= DeflateFormat.minMatch {
      flush = tallyMatch(distance: strstart &- matchStart, length: matchLength)
      lookahead &-= matchLength
      if matchLength <= maxLazy {
        matchLength &-= 1
        repeat {
          strstart &+= 1
          _ = insertString(at: strstart)
          matchLength &-= 1
        } while matchLength != 0
        strstart &+= 1
      } else {
        strstart &+= matchLength
        matchLength = 0
        rehash(at: strstart)
      }
    } else {
      flush = tallyLiteral(window[strstart])
      lookahead &-= 1
      strstart &+= 1
    }
    if flush {
      flushBlock(isFinal: false)
      blockStart = strstart
    }
    return flush
  }

  /// One step of the lazy `deflate` (levels 4–9): a match found at one position is only
  /// taken if the next position has none longer; otherwise the first byte goes out as a
  /// literal and the next match waits in turn. No better match is looked for once the
  /// previous one reaches `maxLazy`, and a match of 3 more than `TOO_FAR` back is dropped.
  /// Returns whether a block was written.
  @inline(__always)
  private mutating func lazyStep() -> Bool {
    let hashHead = insertString(at: strstart)
    prevLength = matchLength
    let prevMatch = matchStart
    matchLength = DeflateFormat.minMatch - 1
    if prevLength < maxLazy && mayMatch(hashHead) {
      matchLength = longestMatch(hashHead)
      if matchLength > lookahead { matchLength = lookahead }
      if matchLength == DeflateFormat.minMatch && strstart &- matchStart > Self.tooFar {
        matchLength &-= 1
      }
    }
    if prevLength >= DeflateFormat.minMatch && matchLength <= prevLength {
      // The previous match wins; hash the strings inside it (its first two are hashed).
      let flush = tallyMatch(distance: strstart &- 1 &- prevMatch, length: prevLength)
      lookahead &-= prevLength &- 1
      var remaining = prevLength &- 2
      repeat {
        strstart &+= 1
        _ = insertString(at: strstart)
        remaining &-= 1
      } while remaining != 0
      matchAvailable = false
      matchLength = DeflateFormat.minMatch - 1
      strstart &+= 1
      if flush {
        flushBlock(isFinal: false)
        blockStart = strstart
      }
      return flush
    } else if matchAvailable {
      // No match at the previous position, or a longer one here: its byte is a literal.
      let flush = tallyLiteral(window[strstart &- 1])
      if flush {
        flushBlock(isFinal: false)
        blockStart = strstart
      }
      strstart &+= 1
      lookahead &-= 1
      return flush
    } else {
      matchAvailable = true
      strstart &+= 1
      lookahead &-= 1
      return false
    }
  }
}
