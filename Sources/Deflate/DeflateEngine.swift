/// The whole state of one GNU-gzip-compatible deflate stream: gzip's globals from deflate.c
/// (window, hash chains, match state) and trees.c (symbol buffer, trees, bit writer), in one
/// value so that the hot loops reach every field through one exclusive `inout self`.
///
/// The buffers are allocated once and freed by `deallocate()`; the owning `GNUDeflateEncoder`
/// never copies the value.
struct DeflateEngine {
  // MARK: gzip's constants (deflate.c, trees.c)

  /// `WSIZE`: the distance limit of deflate, and half the window.
  static let windowHalf = 1 << 15
  static let windowMask = windowHalf - 1
  /// The window holds two halves; input is read into the space after the lookahead.
  static let windowSize = 2 * windowHalf
  static let hashBits = 15
  static let hashSize = 1 << hashBits
  static let hashMask = hashSize - 1
  /// `H_SHIFT`: after three bytes the oldest has left the 15-bit hash.
  static let hashShift = (hashBits + DeflateFormat.minMatch - 1) / DeflateFormat.minMatch
  /// `MIN_LOOKAHEAD`: a match needs 258 bytes ahead, plus 3 to hash the string after it.
  static let minLookahead = DeflateFormat.maxMatch + DeflateFormat.minMatch + 1
  /// `MAX_DIST`: matches reach back at most this far, so that the lookahead fits.
  static let maxDistance = windowHalf - minLookahead
  /// `TOO_FAR`: levels 4–9 drop a match of length 3 that reaches back further than this.
  static let tooFar = 4096
  /// `LIT_BUFSIZE` and `DIST_BUFSIZE`: a block holds fewer symbols than this.
  static let symbolBufferSize = 0x8000

  /// gzip's `configuration_table`: (good, lazy, nice, chain) per level. For levels 1–3 the
  /// second figure is `max_insert_length` instead of `max_lazy_match`.
  static let configuration: [(good: Int, lazy: Int, nice: Int, chain: Int)] = [
    (0, 0, 0, 0),
    (4, 4, 8, 4), (4, 5, 16, 8), (4, 6, 32, 32),
    (4, 4, 16, 16), (8, 16, 32, 32), (8, 16, 128, 128), (8, 32, 128, 256),
    (32, 128, 258, 1024), (32, 258, 258, 4096),
  ]

  // MARK: Parameters

  let level: Int
  /// Do not look for a better match beyond a match this long (levels 4–9), or do not hash
  /// the strings inside a match longer than this (levels 1–3).
  let maxLazy: Int
  /// Search only a quarter of the chain when the previous match is at least this long.
  let goodMatch: Int
  /// Stop searching at a match this long.
  let niceMatch: Int
  /// Follow at most this many links of a hash chain.
  let maxChain: Int

  // MARK: The window and the hash chains (deflate.c)

  /// `2 · WSIZE` bytes of input, plus a few zero bytes that wide loads may touch.
  let window: UnsafeMutablePointer<UInt8>
  /// For each window position modulo `WSIZE`: the previous position with the same hash.
  let prev: UnsafeMutablePointer<UInt16>
  /// For each hash: the latest position with it, 0 for none (position 0 is never matched).
  let head: UnsafeMutablePointer<UInt16>

  /// The rolling hash of the next three bytes to insert (`ins_h`).
  var insertHash = 0
  /// Position of the string being coded (`strstart`).
  var strstart = 0
  /// Valid bytes from `strstart` on (`lookahead`).
  var lookahead = 0
  /// Window position where the current block began; negative once it has slid out.
  var blockStart = 0
  /// Where the last longer match that `longestMatch` found begins (`match_start`).
  var matchStart = 0
  /// Length of the match at the previous position (`prev_length`); matches must beat it.
  var prevLength = DeflateFormat.minMatch - 1
  /// Length of the current match (the local `match_length` of gzip's loops).
  var matchLength = DeflateFormat.minMatch - 1
  /// Levels 4–9: the previous position is still undecided (`match_available`).
  var matchAvailable = false
  /// The input has ended and the window holds all of it (`eofile`).
  var endOfInput = false
  /// `finish()` was called: the next read of the input gets nothing.
  var inputFinished = false
  /// The initial hash is set up (the end of gzip's `lm_init`).
  var started = false

  // MARK: The read that is waiting for input

  /// A read (`read_buf`) is asked for and not complete: gzip reads a regular file in full
  /// pieces, so the loops only go on once `fillWanted` bytes, or the end, have come.
  var fillPending = true
  var fillPosition = 0
  var fillWanted = windowSize
  var fillReceived = 0

  // MARK: The block (trees.c)

  let tables: CodeTables
  /// Per symbol of the block: `distance << 8 | byte` for a literal (distance 0), or
  /// `distance << 8 | length − 3` for a match.
  let symbols: UnsafeMutablePointer<UInt32>
  /// Symbols in the block (`last_lit`).
  var symbolCount = 0
  /// Matches in the block (`last_dist`).
  var matchCount = 0
  var literalTree: HuffmanTree
  var distanceTree: HuffmanTree
  var bitLengthTree: HuffmanTree
  var builder: HuffmanBuilder
  var bits: BitWriter

  init(level: Int) {
    precondition((1...9).contains(level), "GNUDeflateEncoder: level \(level) is not in 1...9")
    self.level = level
    let configuration = Self.configuration[level]
    goodMatch = configuration.good
    maxLazy = configuration.lazy
    niceMatch = configuration.nice
    maxChain = configuration.chain

    let windowAllocation = Self.windowSize + 64
    window = .allocate(capacity: windowAllocation)
    window.initialize(repeating: 0, count: windowAllocation)
    prev = .allocate(capacity: Self.windowHalf)
    prev.initialize(repeating: 0, count: Self.windowHalf)
    head = .allocate(capacity: Self.hashSize)
    head.initialize(repeating: 0, count: Self.hashSize)

    tables = CodeTables()
    symbols = .allocate(capacity: Self.symbolBufferSize)
    literalTree = HuffmanTree(
      elements: DeflateFormat.literalLengthCodes, maxLength: DeflateFormat.maxBits, extraBits: DeflateFormat.lengthExtraBits,
      extraBase: DeflateFormat.literals + 1, staticLengths: tables.staticLiteralLength)
    distanceTree = HuffmanTree(
      elements: DeflateFormat.distanceCodes, maxLength: DeflateFormat.maxBits, extraBits: DeflateFormat.distanceExtraBits,
      extraBase: 0, staticLengths: tables.staticDistanceLength)
    bitLengthTree = HuffmanTree(
      elements: DeflateFormat.bitLengthCodes, maxLength: DeflateFormat.maxBitLengthBits,
      extraBits: DeflateFormat.bitLengthExtraBits, extraBase: 0, staticLengths: nil)
    builder = HuffmanBuilder()
    bits = BitWriter()
    resetBlock()
  }

  func deallocate() {
    window.deallocate()
    prev.deallocate()
    head.deallocate()
    tables.deallocate()
    symbols.deallocate()
    literalTree.deallocate()
    distanceTree.deallocate()
    bitLengthTree.deallocate()
    builder.deallocate()
    bits.deallocate()
  }

  // MARK: The tally (trees.c `ct_tally`)

  /// Starts an empty block (`init_block`): no symbols, and the end-of-block symbol counted.
  mutating func resetBlock() {
    literalTree.resetFrequencies()
    distanceTree.resetFrequencies()
    bitLengthTree.resetFrequencies()
    literalTree.frequency[DeflateFormat.endOfBlock] = 1
    symbolCount = 0
    matchCount = 0
  }

  /// Records a literal byte; returns whether the block must end here.
  @inline(__always)
  mutating func tallyLiteral(_ byte: UInt8) -> Bool {
    symbols[symbolCount] = UInt32(byte)
    literalTree.frequency[Int(byte)] &+= 1
    return tallied()
  }

  /// Records a match of `length` bytes `distance` back; returns whether the block must end here.
  @inline(__always)
  mutating func tallyMatch(distance: Int, length: Int) -> Bool {
    let lengthIndex = length &- DeflateFormat.minMatch
    symbols[symbolCount] = UInt32(truncatingIfNeeded: distance &<< 8 | lengthIndex)
    literalTree.frequency[Int(tables.lengthCode[lengthIndex]) &+ DeflateFormat.literals &+ 1] &+= 1
    distanceTree.frequency[tables.distanceSymbol(distance &- 1)] &+= 1
    matchCount &+= 1
    return tallied()
  }

  /// The end of `ct_tally`: a block ends when the buffer is full, or, above level 2, every
  /// 4096 symbols if fewer than half are matches and a rough bound of the coded size (8 bits
  /// a symbol, 5 plus extra bits a distance) is under half the input.
  @inline(__always)
  private mutating func tallied() -> Bool {
    symbolCount &+= 1
    if level > 2 && symbolCount & 0xFFF == 0 {
      var outLength = symbolCount * 8
      for code in 0..<DeflateFormat.distanceCodes {
        outLength += Int(distanceTree.frequency[code]) * (5 + Int(tables.distanceExtra[code]))
      }
      outLength >>= 3
      let inLength = strstart - blockStart
      if matchCount < symbolCount / 2 && outLength < inLength / 2 { return true }
    }
    return symbolCount == Self.symbolBufferSize - 1 || matchCount == Self.symbolBufferSize
  }
}
