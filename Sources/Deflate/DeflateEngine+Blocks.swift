// Writing a block, as gzip's trees.c `flush_block` does: the costs of the three block types
// decide, from gzip's own estimates, and the block goes out with its trees.

extension DeflateEngine {
  /// Writes the symbols tallied since `blockStart` as one block and starts the next.
  ///
  /// gzip builds both dynamic trees and the code-length tree first, then compares in bytes:
  /// stored if its length + 4 is at most the smaller of the dynamic and static sizes (and the
  /// block's input is still in the window), else static if it is at most the dynamic size,
  /// else dynamic. Sizes are `(bits + 3 + 7) / 8` with gzip's cost figures, quirks included.
  mutating func flushBlock(isFinal: Bool) {
    precondition(bits.count < 8, "DeflateEngine.flushBlock: the last block's \(bits.count) bytes were not handed out")
    let storedLength = strstart - blockStart
    var optimalBits = 0
    var staticBits = 0
    builder.build(&literalTree, optimalBits: &optimalBits, staticBits: &staticBits)
    builder.build(&distanceTree, optimalBits: &optimalBits, staticBits: &staticBits)
    let lastBitLengthIndex = buildBitLengthTree(optimalBits: &optimalBits)

    var optimalBytes = (optimalBits + 3 + 7) >> 3
    let staticBytes = (staticBits + 3 + 7) >> 3
    if staticBytes <= optimalBytes { optimalBytes = staticBytes }
    let last: UInt32 = isFinal ? 1 : 0

    if storedLength + 4 <= optimalBytes && blockStart >= 0 {
      precondition(storedLength <= 0xFFFF, "DeflateEngine.flushBlock: stored block of \(storedLength) bytes")
      bits.write(0 << 1 | last, bits: 3)
      bits.alignToByte()
      let header: [UInt8] = [
        UInt8(storedLength & 0xFF), UInt8(storedLength >> 8),
        UInt8(~storedLength & 0xFF), UInt8((~storedLength >> 8) & 0xFF),
      ]
      header.withUnsafeBufferPointer { bits.writeBytes($0.baseAddress!, count: 4) }
      bits.writeBytes(window + blockStart, count: storedLength)
    } else if staticBytes == optimalBytes {
      bits.write(1 << 1 | last, bits: 3)
      writeSymbols(
        literalCode: tables.staticLiteralCode, literalLength: tables.staticLiteralLength,
        distanceCode: tables.staticDistanceCode, distanceLength: tables.staticDistanceLength)
    } else {
      bits.write(2 << 1 | last, bits: 3)
      writeTrees(bitLengthCodes: lastBitLengthIndex + 1)
      writeSymbols(
        literalCode: literalTree.code, literalLength: literalTree.length,
        distanceCode: distanceTree.code, distanceLength: distanceTree.length)
    }
    resetBlock()
    if isFinal { bits.alignToByte() }
  }

  /// Builds the code-length tree from the run-length coding of both trees' lengths and adds
  /// its cost; returns the index in `bitLengthOrder` of the last length to send (at least 3,
  /// as gzip sends at least four) (`build_bl_tree`).
  private mutating func buildBitLengthTree(optimalBits: inout Int) -> Int {
    let frequency = bitLengthTree.frequency
    Self.forEachLengthSymbol(literalTree) { symbol, _, _ in frequency[symbol] += 1 }
    Self.forEachLengthSymbol(distanceTree) { symbol, _, _ in frequency[symbol] += 1 }
    var unused = 0
    builder.build(&bitLengthTree, optimalBits: &optimalBits, staticBits: &unused)
    var index = DeflateFormat.bitLengthCodes - 1
    while index >= 3 {
      if bitLengthTree.length[DeflateFormat.bitLengthOrder[index]] != 0 { break }
      index -= 1
    }
    optimalBits += 3 * (index + 1) + 5 + 5 + 4
    return index
  }

  /// The header of a dynamic block (RFC 1951 §3.2.7): the counts, the code-length code's
  /// lengths in `bitLengthOrder`, then both trees' lengths in that code (`send_all_trees`).
  private mutating func writeTrees(bitLengthCodes: Int) {
    bits.write(UInt32(literalTree.maxCode + 1 - 257), bits: 5)
    bits.write(UInt32(distanceTree.maxCode + 1 - 1), bits: 5)
    bits.write(UInt32(bitLengthCodes - 4), bits: 4)
    for rank in 0..<bitLengthCodes {
      bits.write(UInt32(bitLengthTree.length[DeflateFormat.bitLengthOrder[rank]]), bits: 3)
    }
    let code = bitLengthTree.code
    let length = bitLengthTree.length
    for tree in [literalTree, distanceTree] {
      Self.forEachLengthSymbol(tree) { symbol, extra, extraBits in
        bits.write(UInt32(code[symbol]), bits: Int(length[symbol]))
        if extraBits != 0 { bits.write(UInt32(extra), bits: extraBits) }
      }
    }
  }

  /// The run-length coding of a tree's code lengths 0…maxCode, as gzip's `scan_tree` and
  /// `send_tree` walk it: runs of zeros as 17 (3–10) or 18 (11–138); runs of another length
  /// as the length once, then 16 (3–6 repeats); shorter runs as they are. After a run of
  /// zeros, or of the same length as the one before, runs may be one shorter (6, and 3 at
  /// least), as in gzip. Calls `emit(symbol, extra value, extra bits)`.
  private static func forEachLengthSymbol(_ tree: HuffmanTree, _ emit: (Int, Int, Int) -> Void) {
    let lengths = tree.length
    let maxCode = tree.maxCode
    var previous = -1
    var next = Int(lengths[0])
    var count = 0
    var maxCount = 7
    var minCount = 4
    if next == 0 {
      maxCount = 138
      minCount = 3
    }
    for n in 0...maxCode {
      let current = next
      next = n < maxCode ? Int(lengths[n + 1]) : -1
      count += 1
      if count < maxCount && current == next {
        continue
      } else if count < minCount {
        for _ in 0..<count { emit(current, 0, 0) }
      } else if current != 0 {
        if current != previous {
          emit(current, 0, 0)
          count -= 1
        }
        emit(DeflateFormat.repeatPrevious, count - 3, 2)
      } else if count <= 10 {
        emit(DeflateFormat.repeatZeroShort, count - 3, 3)
      } else {
        emit(DeflateFormat.repeatZeroLong, count - 11, 7)
      }
      count = 0
      previous = current
      if next == 0 {
        maxCount = 138
        minCount = 3
      } else if current == next {
        maxCount = 6
        minCount = 3
      } else {
        maxCount = 7
        minCount = 4
      }
    }
  }

  /// The block's symbols in the given code, then the end of block (`compress_block`).
  private mutating func writeSymbols(
    literalCode: UnsafeMutablePointer<UInt16>, literalLength: UnsafeMutablePointer<UInt8>,
    distanceCode: UnsafeMutablePointer<UInt16>, distanceLength: UnsafeMutablePointer<UInt8>
  ) {
    let tables = self.tables
    for index in 0..<symbolCount {
      let symbol = symbols[index]
      let distance = Int(symbol &>> 8)
      let lengthIndex = Int(symbol & 0xFF)
      if distance == 0 {
        bits.write(UInt32(literalCode[lengthIndex]), bits: Int(literalLength[lengthIndex]))
        continue
      }
      let code = Int(tables.lengthCode[lengthIndex])
      let lengthSymbol = code &+ DeflateFormat.literals &+ 1
      let lengthBits = Int(literalLength[lengthSymbol])
      let lengthExtra = Int(tables.lengthExtra[code])
      let lengthValue = UInt32(lengthIndex &- Int(tables.lengthBase[code]))
      bits.write(UInt32(literalCode[lengthSymbol]) | lengthValue &<< UInt32(lengthBits), bits: lengthBits &+ lengthExtra)
      let distanceMinusOne = distance &- 1
      let distanceSymbol = tables.distanceSymbol(distanceMinusOne)
      let distanceBits = Int(distanceLength[distanceSymbol])
      let distanceExtra = Int(tables.distanceExtra[distanceSymbol])
      let distanceValue = UInt32(distanceMinusOne &- Int(tables.distanceBase[distanceSymbol]))
      bits.write(
        UInt32(distanceCode[distanceSymbol]) | distanceValue &<< UInt32(distanceBits),
        bits: distanceBits &+ distanceExtra)
    }
    bits.write(UInt32(literalCode[DeflateFormat.endOfBlock]), bits: Int(literalLength[DeflateFormat.endOfBlock]))
  }
}
